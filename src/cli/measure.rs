//! `rubric measure`: evaluate a rule set on a snapshot at a past instant and
//! compare its bands and scores with the outcomes that followed
//! ([`crate::measure`]); the report as text, Markdown or JSON on stdout, a
//! summary on stderr.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{finish_output, usage_error, Exit};
use super::input::{self, InputFormatArg, StreamOptions, MORE_REJECTS_WITH_FILE};
use crate::diagnostics::did_you_mean;
use crate::measure::collect::{measure_snapshot, MeasureSettings};
use crate::measure::metrics::ReportHeader;
use crate::measure::outcomes::read_outcomes;
use crate::measure::render;
use crate::plan::{Goal, Plan};
use crate::snapshot::Rejects;

#[derive(Debug, Args)]
pub struct MeasureArgs {
    /// A `.rubric` file or a directory of them (with at least one `goal`).
    #[arg(long)]
    rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for stdin.
    #[arg(long)]
    contacts: String,
    /// The outcomes that followed: JSON Lines or CSV (`id`, `type`, `at`,
    /// `amount`), `.gz` for gzip, `-` for stdin.
    #[arg(long, value_name = "FILE")]
    outcomes: String,
    /// The goal to measure (a `goal` of the rule set); may be left out when
    /// the rule set has exactly one.
    #[arg(long, value_name = "NAME")]
    goal: Option<String>,
    /// The instant of the backtest (RFC 3339 with offset, or a date); default now.
    #[arg(long, value_name = "TS")]
    as_of: Option<String>,
    /// Also break every band value down by this property's text values (e.g. `source`).
    #[arg(long, value_name = "PROPERTY")]
    by: Option<String>,
    /// `text` (tables for people), `json` (for tools), `markdown` (a pull-request comment).
    #[arg(long, value_enum, default_value_t = MeasureFormat::Text)]
    format: MeasureFormat,
    /// Read `--outcomes` as JSON Lines or CSV whatever its name.
    #[arg(long, value_enum, value_name = "FORMAT")]
    outcomes_format: Option<InputFormatArg>,
    #[command(flatten)]
    stream: StreamOptions,
    /// Colour of diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MeasureFormat {
    Text,
    Json,
    Markdown,
}

/// The goal named by `--goal`, or the only goal; a usage error otherwise.
fn choose_goal<'p>(plan: &'p Plan, name: Option<&str>) -> Result<&'p Goal, Exit> {
    let names = || {
        plan.goals
            .iter()
            .map(|g| format!("`{}`", g.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        None => match plan.goals.as_slice() {
            [only] => Ok(only),
            [] => Err(usage_error(
                "the rule set declares no goal; add one, e.g. `goal meeting { outcome meeting_held  horizon 30 days }` (see docs/measure.md)",
            )),
            _ => Err(usage_error(format!("choose a goal with `--goal`: {}", names()))),
        },
        Some(name) => plan.goals.iter().find(|g| g.name == name).ok_or_else(|| {
            let hint = match did_you_mean(name, plan.goals.iter().map(|g| g.name.as_str())) {
                Some(s) => format!("did you mean `{s}`? "),
                None => String::new(),
            };
            if plan.goals.is_empty() {
                usage_error(format!("unknown goal `{name}`: the rule set declares no goal"))
            } else {
                usage_error(format!("unknown goal `{name}`; {hint}the goals are {}", names()))
            }
        }),
    }
}

pub fn run(args: &MeasureArgs) -> Result<Exit, Exit> {
    let color = args.color.for_stderr();
    let pipeline = args.stream.pipeline()?;
    let loaded = input::load(&args.rules, args.as_of.as_deref(), color)?;
    let (plan, as_of) = (loaded.plan(), loaded.as_of);
    let goal = choose_goal(plan, args.goal.as_deref())?;
    if args.outcomes == "-" && args.contacts == "-" {
        return Err(usage_error(
            "`--contacts` and `--outcomes` cannot both be standard input",
        ));
    }
    // One `--rejects` file for both inputs; outcome lines are marked.
    let rejects_file = match &args.stream.rejects {
        Some(path) => Some(
            std::fs::File::create(path)
                .map_err(|e| usage_error(format!("cannot write `{}`: {e}", path.display())))?,
        ),
        None => None,
    };
    let rejects_writer =
        |file: &Option<std::fs::File>| -> Result<Option<Box<dyn std::io::Write + Send>>, Exit> {
            match file {
                Some(f) => Ok(Some(Box::new(std::io::BufWriter::new(f.try_clone().map_err(
                    |e| usage_error(format!("cannot write the rejects file: {e}")),
                )?)))),
                None => Ok(None),
            }
        };

    let opened = input::snapshot(&args.outcomes, args.outcomes_format)?;
    let mut outcome_rejects = Rejects::new(Box::new(std::io::stderr()), MORE_REJECTS_WITH_FILE)
        .with_file(rejects_writer(&rejects_file)?)
        .for_input("outcomes");
    let outcomes = read_outcomes(
        opened.reader,
        opened.format,
        &goal.outcome_types,
        args.stream.strict,
        &mut outcome_rejects,
    )
    .map_err(|e| usage_error(format!("reading `{}` failed: {e}", args.outcomes)))?;
    outcome_rejects.flush();
    if outcomes.strict_stop {
        eprintln!("rubric: stopped at the first rejected outcomes line (--strict)");
        return Ok(Exit::Rejected);
    }

    let snapshot = input::snapshot(&args.contacts, args.stream.input_format)?;
    let mut progress = snapshot.progress(args.stream.quiet);
    let mut rejects =
        Rejects::new(progress.stderr(), MORE_REJECTS_WITH_FILE).with_file(rejects_writer(&rejects_file)?);
    let settings = MeasureSettings {
        as_of,
        goal,
        by: args.by.as_deref(),
        strict: args.stream.strict,
        pipeline,
    };
    let measured = measure_snapshot(
        plan,
        &outcomes,
        &settings,
        snapshot.reader,
        snapshot.format,
        &mut rejects,
    );
    progress.finish();
    let measured = measured.map_err(|e| usage_error(format!("reading `{}` failed: {e}", args.contacts)))?;
    rejects.flush();
    let report = measured.tally.report(
        plan,
        ReportHeader {
            goal: goal.name.clone(),
            as_of: crate::snapshot::format_timestamp(as_of),
            horizon_days: goal.horizon_micros as f64 / 86_400_000_000.0,
            by_property: args.by.clone(),
            outcome_lines_read: outcomes.read,
            outcome_lines_rejected: outcomes.rejected,
            valid_outcome_lines: outcomes.valid_lines(),
        },
    );
    let text = match args.format {
        MeasureFormat::Text => render::text(&report),
        MeasureFormat::Markdown => render::markdown(&report),
        MeasureFormat::Json => match serde_json::to_string(&report) {
            Ok(t) => t + "\n",
            Err(e) => return Err(usage_error(format!("cannot write the report: {e}"))),
        },
    };
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    finish_output(written)?;
    let rejected = rejects.count() + outcomes.rejected;
    if !args.stream.quiet {
        eprintln!("{}", summary(&report, rejects.count(), measured.strict_stop));
    }
    Ok(if rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Success
    })
}

/// The line on stderr after the report.
fn summary(
    report: &crate::measure::report::MeasureReport,
    rejected_contacts: u64,
    strict_stop: bool,
) -> String {
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut text = format!(
        "rubric: {} measured for goal `{}` as of {}; {} converted; outcomes: {} read, {} rejected, {} unmatched",
        plural(report.contacts, "contact"),
        report.goal,
        report.as_of,
        report.converted,
        report.outcomes.read,
        report.outcomes.rejected,
        report.outcomes.unmatched,
    );
    if rejected_contacts > 0 {
        text.push_str(&format!(
            "; {} rejected",
            plural(rejected_contacts, "snapshot line")
        ));
    }
    if strict_stop {
        text.push_str("; stopped at the first rejected line (--strict)");
    }
    text
}
