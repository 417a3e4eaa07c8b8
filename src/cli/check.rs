//! `rubric check PATH`: parse, resolve, type-check and lint a rule set, and
//! report the diagnostics for people (`human`), tools (`json`) or CI
//! (`github` workflow commands, `sarif`).

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ColorChoice, Exit};
use crate::diagnostics::{render, Diagnostic, JsonDiagnostic, Severity};
use crate::source::Sources;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A `.rubric` file or a directory of them (one rule set).
    path: PathBuf,
    /// `human` (miette reports on stderr), `json` (one report object on stdout),
    /// `github` (GitHub Actions annotations on stdout) or `sarif` (SARIF 2.1.0 on stdout).
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Treat warnings (lints) as errors: report them as errors and exit 1.
    #[arg(long)]
    deny_warnings: bool,
    /// Colour for people: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
    Github,
    Sarif,
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    ok: bool,
    files: Vec<&'a str>,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic>,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn run(args: &CheckArgs) -> Result<Exit, Exit> {
    let sources = Sources::load(&args.path).map_err(super::usage_error)?;
    let (mut diagnostics, summary) = match crate::compile::compile_and_lint(&sources) {
        Ok(compiled) => {
            let s = &compiled.plan;
            let summary = [
                (s.scores.len(), "score"),
                (s.bands.len(), "band"),
                (s.segments.len(), "segment"),
                (s.suppressions.len(), "suppression"),
                (s.audiences.len(), "audience"),
                (s.workflows.len(), "workflow"),
                (s.routes.len(), "route"),
            ]
            .iter()
            .map(|(n, word)| plural(*n, word))
            .collect::<Vec<_>>()
            .join(", ");
            (compiled.warnings, Some(summary))
        }
        Err(d) => (d, None),
    };
    if args.deny_warnings {
        for d in &mut diagnostics {
            d.severity = Severity::Error;
        }
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let written = match args.format {
        CheckFormat::Json => {
            let report = JsonReport {
                ok: errors == 0,
                files: sources.files.iter().map(|f| f.name.as_str()).collect(),
                errors,
                warnings,
                diagnostics: diagnostics
                    .iter()
                    .map(|d| JsonDiagnostic::new(d, &sources))
                    .collect(),
            };
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report).is_ok() && writeln!(out).is_ok()
        }
        CheckFormat::Github => {
            let text = github(&diagnostics, &sources);
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).is_ok()
        }
        CheckFormat::Sarif => {
            let report = sarif(&diagnostics, &sources);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report).is_ok() && writeln!(out).is_ok()
        }
        CheckFormat::Human => {
            let color = args.color.for_stderr();
            eprint!("{}", render(&diagnostics, &sources, color));
            let files = plural(sources.files.len(), "file");
            match summary {
                Some(summary) if errors == 0 => {
                    eprintln!("ok: {files}; {summary}; {}", plural(warnings, "warning"))
                }
                _ => eprintln!(
                    "error: {files} checked: {}, {}",
                    plural(errors, "error"),
                    plural(warnings, "warning")
                ),
            }
            true
        }
    };
    if !written {
        return Err(Exit::Usage);
    }
    if errors > 0 {
        Ok(Exit::RuleErrors)
    } else {
        Ok(Exit::Success)
    }
}

/// Escapes a workflow-command message (`%`, CR and LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands, one per diagnostic:
/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.
/// GitHub shows them on the changed lines of a pull request.
pub fn github(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let j = JsonDiagnostic::new(d, sources);
        let level = if d.is_error() { "error" } else { "warning" };
        let mut message = j.message.clone();
        if let Some(help) = &j.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&j.file),
            j.line,
            j.column,
            j.end_line,
            j.end_column,
            escape_property(j.code),
            escape_data(&message)
        ));
    }
    out
}

/// A SARIF 2.1.0 log with one run of the `rubric` tool.
pub fn sarif(diagnostics: &[Diagnostic], sources: &Sources) -> serde_json::Value {
    use serde_json::json;
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            let anchor = c.replace(':', "");
            let description = crate::compile::lints::LINTS
                .iter()
                .find(|(name, _)| crate::compile::lints::name_of(c) == Some(*name))
                .map_or(*c, |(_, d)| *d);
            json!({
                "id": c,
                "shortDescription": { "text": description },
                "help": { "text": format!("see docs/errors.md#{anchor}") },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let j = JsonDiagnostic::new(d, sources);
            let mut text = j.message.clone();
            if let Some(help) = &j.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            json!({
                "ruleId": d.code,
                "ruleIndex": codes.iter().position(|c| *c == d.code).unwrap_or(0),
                "level": if d.is_error() { "error" } else { "warning" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": j.file.replace('\\', "/") },
                        "region": {
                            "startLine": j.line,
                            "startColumn": j.column,
                            "endLine": j.end_line,
                            "endColumn": j.end_column,
                        }
                    }
                }]
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "rubric",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}
