//! `rubric explain`: the full trace of one or more contacts, found in the
//! snapshot by [`crate::snapshot::find_contacts`], rendered as text, JSON
//! or a `--why-not` answer.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{finish_output, usage_error, Exit};
use super::input;
use crate::measure::collect::kept_types;
use crate::measure::goal_trace::{goal_traces, goals_text, GoalTrace};
use crate::measure::outcomes::{read_outcomes, OutcomeIndex};
use crate::snapshot::{find_contacts, Contact, Rejects};
use crate::trace::{explain, render, why_not, Trace};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A `.rubric` file or a directory of them.
    #[arg(long)]
    rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for stdin.
    #[arg(long)]
    contacts: String,
    /// Read `--contacts` as JSON Lines or CSV whatever its name (for
    /// standard input, which is otherwise JSON Lines).
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<input::InputFormatArg>,
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
    /// (`ads_conversion`), away from a band value (`readiness=hot`) or
    /// from a route's queue (`route_hot_lead=na_sales`).
    #[arg(long, value_name = "TARGET")]
    why_not: Option<String>,
    /// Also show, for each goal of the rule set, whether the contact
    /// converted by these outcomes (as `rubric measure` counts them).
    #[arg(long, value_name = "FILE")]
    outcomes: Option<String>,
    /// Colour: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

pub fn run(args: &ExplainArgs) -> Result<Exit, Exit> {
    let loaded = input::load(&args.rules, args.as_of.as_deref(), args.color.for_stderr())?;
    let (sources, plan, as_of) = (&loaded.rules.sources, loaded.plan(), loaded.as_of);
    let snapshot = input::snapshot(&args.contacts, args.input_format)?;
    // The first valid line with each wanted id wins (docs/formats.md).
    let mut wanted: HashMap<&str, Option<Contact>> = args.ids.iter().map(|id| (id.as_str(), None)).collect();
    let mut rejected: HashMap<String, (u64, String)> = HashMap::new();
    let found = find_contacts(
        &plan.decode,
        snapshot.reader,
        snapshot.format,
        &mut wanted,
        &mut rejected,
    );
    found.map_err(|e| usage_error(format!("reading `{}` failed: {e}", args.contacts)))?;
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
        return Err(usage_error(format!(
            "no contact with id {list} in `{}` (ids are compared exactly, case included)",
            args.contacts
        )));
    }
    let goals = match &args.outcomes {
        Some(path) => Some(read_goal_outcomes(plan, path)?),
        None => None,
    };
    let color = args.color.for_stdout();
    let mut out = String::new();
    let mut seen = std::collections::HashSet::new();
    for id in &args.ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        let Some(Some(contact)) = wanted.get(id.as_str()) else {
            continue;
        };
        let (_, trace) = explain(plan, sources, contact, as_of);
        let goal_traces = goals
            .as_ref()
            .map(|(index, kept)| goal_traces(plan, index, kept, id, as_of));
        render_one(&trace, goal_traces.as_deref(), args, color, &mut out).map_err(usage_error)?;
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
    finish_output(written)?;
    Ok(Exit::Success)
}

/// Reads `--outcomes`, keeping the outcome types of every goal; bad lines
/// are reported and skipped, as by `rubric measure`.
fn read_goal_outcomes(plan: &crate::plan::Plan, path: &str) -> Result<(OutcomeIndex, Vec<String>), Exit> {
    if plan.goals.is_empty() {
        return Err(usage_error(
            "`--outcomes` needs a rule set with goals (see docs/measure.md)",
        ));
    }
    let goals: Vec<&crate::plan::Goal> = plan.goals.iter().collect();
    let (kept, _) = kept_types(&goals);
    let opened = input::snapshot(path, None)?;
    let mut rejects =
        Rejects::new(Box::new(std::io::stderr()), input::MORE_REJECTS_WITH_FILE).for_input("outcomes");
    let index = read_outcomes(opened.reader, opened.format, &kept, false, &mut rejects)
        .map_err(|e| usage_error(format!("reading `{path}` failed: {e}")))?;
    rejects.flush();
    Ok((index, kept))
}

fn render_one(
    trace: &Trace,
    goals: Option<&[GoalTrace]>,
    args: &ExplainArgs,
    color: bool,
    out: &mut String,
) -> Result<(), String> {
    match (&args.why_not, args.format) {
        (None, ExplainFormat::Text) => {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&render::text(trace, color));
            if let Some(goals) = goals {
                out.push('\n');
                out.push_str(&goals_text(goals));
            }
        }
        (None, ExplainFormat::Json) => {
            let mut object = serde_json::to_string(trace).map_err(|e| e.to_string())?;
            if let Some(goals) = goals {
                // The trace's keys keep their order; `goals` is the last one.
                let goals = serde_json::to_string(goals).map_err(|e| e.to_string())?;
                if object.ends_with('}') {
                    object.pop();
                    object.push_str(",\"goals\":");
                    object.push_str(&goals);
                    object.push('}');
                }
            }
            out.push_str(&object);
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
