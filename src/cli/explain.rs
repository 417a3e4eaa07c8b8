//! `rubric explain`: the full trace of one or more contacts, streamed out of
//! the snapshot (only the wanted lines are decoded, and reading stops once
//! every wanted id is found).

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ColorChoice, Exit};
use crate::snapshot::{decode_line, Contact, CsvReader, InputFormat, LineReader};
use crate::source::Sources;
use crate::trace::{explain, render, why_not, Trace};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A `.rubric` file or a directory of them.
    #[arg(long)]
    rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for stdin.
    #[arg(long)]
    contacts: String,
    /// The contact to explain; repeat for several.
    #[arg(long = "id", value_name = "ID", required = true)]
    ids: Vec<String>,
    /// The instant of evaluation (RFC 3339 with offset, or a date); default now.
    #[arg(long, value_name = "TS")]
    as_of: Option<String>,
    /// `text` (a tree for people) or `json` (one trace object per line; see docs/explain.md).
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    /// Only what keeps the contact out of an audience, workflow or route
    /// (`ads_conversion`), or away from a band value (`readiness=hot`).
    #[arg(long, value_name = "TARGET")]
    why_not: Option<String>,
    /// Colour: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

pub fn run(args: &ExplainArgs) -> Exit {
    let stderr_color = args.color.for_stderr();
    let sources = match Sources::load(&args.rules) {
        Ok(s) => s,
        Err(e) => return super::usage_error(e),
    };
    let compiled = match super::compile_sources(&sources, stderr_color) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let plan = &compiled.plan;
    let as_of = match super::parse_as_of(args.as_of.as_deref()) {
        Ok(t) => t,
        Err(e) => return super::usage_error(e),
    };
    let (reader, format) = match super::open_snapshot(&args.contacts) {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    // The first valid line with each wanted id wins (docs/formats.md).
    let mut wanted: HashMap<&str, Option<Contact>> = args.ids.iter().map(|id| (id.as_str(), None)).collect();
    let mut rejected: HashMap<String, (u64, String)> = HashMap::new();
    let found = match format {
        InputFormat::JsonLines => find_jsonl(plan, reader, &mut wanted, &mut rejected),
        InputFormat::Csv => find_csv(plan, reader, &mut wanted),
    };
    if let Err(e) = found {
        return super::usage_error(format!("reading `{}` failed: {e}", args.contacts));
    }
    let missing: Vec<&str> = args
        .ids
        .iter()
        .map(String::as_str)
        .filter(|id| wanted.get(id).is_none_or(Option::is_none))
        .collect();
    for id in &missing {
        if let Some((line, reason)) = rejected.get(*id) {
            eprintln!("note: line {line}, which mentions `{id}`, was rejected: {reason}");
        }
    }
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        return super::usage_error(format!(
            "no contact with id {list} in `{}` (ids are compared exactly, case included)",
            args.contacts
        ));
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
        }
    };
    let mut out = String::new();
    let mut seen = std::collections::HashSet::new();
    for id in &args.ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        let Some(Some(contact)) = wanted.get(id.as_str()) else {
            continue;
        };
        let (_, trace) = explain(plan, &sources, contact, as_of);
        match render_one(&trace, args, color, &mut out) {
            Ok(()) => {}
            Err(message) => return super::usage_error(message),
        }
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
    match super::finish_output(written) {
        Ok(()) => Exit::Success,
        Err(exit) => exit,
    }
}

fn render_one(trace: &Trace, args: &ExplainArgs, color: bool, out: &mut String) -> Result<(), String> {
    match (&args.why_not, args.format) {
        (None, ExplainFormat::Text) => {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&render::text(trace, color));
        }
        (None, ExplainFormat::Json) => {
            out.push_str(&serde_json::to_string(trace).map_err(|e| e.to_string())?);
            out.push('\n');
        }
        (Some(target), format) => {
            let answer = why_not(trace, target)?;
            if format == ExplainFormat::Json {
                let doc = serde_json::json!({"id": trace.id, "as_of": trace.as_of, "why_not": answer});
                out.push_str(&doc.to_string());
                out.push('\n');
            } else {
                out.push_str(&render::why_not_text(trace, &answer, color));
            }
        }
    }
    Ok(())
}

fn find_jsonl(
    plan: &crate::plan::Plan,
    reader: Box<dyn std::io::BufRead + Send>,
    wanted: &mut HashMap<&str, Option<Contact>>,
    rejected: &mut HashMap<String, (u64, String)>,
) -> std::io::Result<()> {
    // Only lines that contain a wanted id as JSON text are decoded. (An id
    // written with `\u` escapes in the snapshot is not found this way.)
    let needle_ids: Vec<String> = wanted.keys().map(|id| id.to_string()).collect();
    let needles: Vec<String> = needle_ids
        .iter()
        .map(|id| serde_json::to_string(id).unwrap_or_default())
        .collect();
    let mut remaining = wanted.len();
    let mut lines = LineReader::new(reader);
    while let Some((number, line)) = lines.next_line()? {
        let Ok(text) = line else { continue };
        let Some(needle) = needles.iter().position(|n| text.contains(n.as_str())) else {
            continue;
        };
        let contact = match decode_line(&plan.decode, text) {
            Ok(Some(contact)) => contact,
            Ok(None) => continue,
            Err(reason) => {
                // Remember why a line that mentions a wanted id was rejected.
                if let Some(id) = needle_ids.get(needle) {
                    rejected.entry(id.clone()).or_insert((number, reason));
                }
                continue;
            }
        };
        if let Some(slot @ None) = wanted.get_mut(contact.id.as_str()) {
            *slot = Some(contact);
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
    }
    Ok(())
}

fn find_csv(
    plan: &crate::plan::Plan,
    reader: Box<dyn std::io::BufRead + Send>,
    wanted: &mut HashMap<&str, Option<Contact>>,
) -> std::io::Result<()> {
    let mut records = CsvReader::new(reader, &plan.decode)?;
    let mut remaining = wanted.len();
    while let Some(record) = records.next_record()? {
        let Ok(contact) = record else { continue };
        if let Some(slot @ None) = wanted.get_mut(contact.id.as_str()) {
            *slot = Some(contact);
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
    }
    Ok(())
}
