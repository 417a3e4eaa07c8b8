//! `rubric measure`: evaluate a rule set on a snapshot at a past instant and
//! compare its bands and scores with the outcomes that followed
//! ([`crate::measure`]); the report as text, Markdown or JSON on stdout, a
//! summary on stderr. Several as-of instants make a series with a
//! stability summary; `--base` measures a rule change side by side. With
//! `--state`, the live measurement instead (`measure_live.rs`).

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{finish_output, usage_error, Exit};
use super::input::{self, InputFormatArg, RejectsFile, StreamOptions, MORE_REJECTS_WITH_FILE};
use crate::diagnostics::did_you_mean;
use crate::measure::collect::{kept_types, measure_snapshot, MeasureSettings};
use crate::measure::metrics::ReportHeader;
use crate::measure::outcomes::{read_outcomes, OutcomeIndex};
use crate::measure::render;
use crate::measure::report::{ComparisonReport, MeasureReport, Real, SeriesReport, StabilityRow};
use crate::pipeline::Pipeline;
use crate::plan::{Goal, Plan};
use crate::snapshot::{format_timestamp, parse_timestamp, Rejects};

#[path = "measure_live.rs"]
mod live;

#[derive(Debug, Args)]
pub struct MeasureArgs {
    /// A `.rubric` file or a directory of them (with at least one `goal`).
    #[arg(long)]
    rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for
    /// stdin. Repeat as `DATE=FILE` for exports taken at different dates:
    /// each as-of then uses the latest export taken at or before it.
    #[arg(long, value_name = "[DATE=]FILE")]
    contacts: Vec<String>,
    /// Measure what `apply` did instead of a backtest: the band entries and
    /// tasks of this state file (SQLite), read only; `--contacts` then only
    /// gives `--by` its property values.
    #[arg(long, value_name = "DB")]
    state: Option<PathBuf>,
    /// The outcomes that followed: JSON Lines or CSV (`id`, `type`, `at`,
    /// `amount`), `.gz` for gzip, `-` for stdin.
    #[arg(long, value_name = "FILE")]
    outcomes: String,
    /// The goal to measure (a `goal` of the rule set); may be left out when
    /// the rule set has exactly one.
    #[arg(long, value_name = "NAME")]
    goal: Option<String>,
    /// The instant of the backtest (RFC 3339 with offset, or a date); default
    /// now, or the dates of dated snapshots. Repeat for a series.
    #[arg(long, value_name = "TS")]
    as_of: Vec<String>,
    /// A series from this instant (with `--to` and `--every`).
    #[arg(long, value_name = "TS", requires_all = ["to", "every"], conflicts_with = "as_of")]
    from: Option<String>,
    /// The last instant of a series (included when a step lands on it).
    #[arg(long, value_name = "TS", requires = "from")]
    to: Option<String>,
    /// The step of a series: `7d`, `2w`, `12h`.
    #[arg(long, value_name = "DURATION", requires = "from")]
    every: Option<String>,
    /// The rules before a change (a path, or a git revision of the `--rules`
    /// path): both are measured on the same snapshot and outcomes, side by side.
    #[arg(long, value_name = "PATH|REV")]
    base: Option<String>,
    /// Also break every band value down by this property's text values (e.g. `source`).
    #[arg(long, value_name = "PROPERTY")]
    by: Option<String>,
    /// `text` (tables for people), `json` (for tools), `markdown` (a pull-request comment),
    /// `html` (one self-contained page of charts and tables).
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
    Html,
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

/// One `--contacts` value: `FILE`, or `DATE=FILE` for an export taken then.
#[derive(Debug, Clone, PartialEq)]
struct ContactsArg {
    taken: Option<i64>,
    path: String,
}

fn parse_contacts_arg(text: &str) -> ContactsArg {
    if let Some((date, path)) = text.split_once('=') {
        if let Some(taken) = parse_timestamp(date) {
            if !path.is_empty() {
                return ContactsArg {
                    taken: Some(taken),
                    path: path.to_owned(),
                };
            }
        }
    }
    ContactsArg {
        taken: None,
        path: text.to_owned(),
    }
}

/// `7d`, `2w`, `12h`, `30m` → microseconds.
fn parse_step(text: &str) -> Result<i64, Exit> {
    let bad = || {
        usage_error(format!(
            "`--every {text}` is not a step such as `7d`, `2w` or `12h`"
        ))
    };
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = text.get(digits.len()..).unwrap_or("");
    let amount: i64 = digits.parse().map_err(|_| bad())?;
    let per: i64 = match unit {
        "m" | "min" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        "w" => 7 * 86_400_000_000,
        _ => return Err(bad()),
    };
    match amount.checked_mul(per) {
        Some(step) if step > 0 => Ok(step),
        _ => Err(bad()),
    }
}

/// Each as-of with the snapshot it is measured on, in time order.
fn schedule(args: &MeasureArgs) -> Result<Vec<(i64, String)>, Exit> {
    if args.contacts.is_empty() {
        return Err(usage_error("`--contacts` is required"));
    }
    let contacts: Vec<ContactsArg> = args.contacts.iter().map(|c| parse_contacts_arg(c)).collect();
    let dated = contacts.iter().filter(|c| c.taken.is_some()).count();
    if dated != 0 && dated != contacts.len() {
        return Err(usage_error(
            "give every `--contacts` a date (`DATE=FILE`) or give one undated snapshot",
        ));
    }
    if dated == 0 && contacts.len() > 1 {
        return Err(usage_error(
            "several snapshots need their dates: `--contacts 2026-10-01=oct.jsonl --contacts 2026-11-01=nov.jsonl`",
        ));
    }
    let mut instants: Vec<i64> = Vec::new();
    if let Some(from) = &args.from {
        let parse = |t: &str| input::as_of(Some(t));
        let (start, end) = (parse(from)?, parse(args.to.as_deref().unwrap_or(""))?);
        let step = parse_step(args.every.as_deref().unwrap_or(""))?;
        if end < start {
            return Err(usage_error("`--to` is before `--from`"));
        }
        let mut t = start;
        while t <= end {
            instants.push(t);
            if instants.len() > 1000 {
                return Err(usage_error("a series has at most 1000 as-of instants"));
            }
            t = t.saturating_add(step);
        }
    } else if !args.as_of.is_empty() {
        for text in &args.as_of {
            instants.push(input::as_of(Some(text))?);
        }
    } else if dated > 0 {
        instants.extend(contacts.iter().filter_map(|c| c.taken));
    } else {
        instants.push(input::as_of(None)?);
    }
    instants.sort_unstable();
    instants.dedup();
    let mut runs = Vec::with_capacity(instants.len());
    for as_of in instants {
        let path = if dated == 0 {
            contacts.first().map(|c| c.path.clone()).unwrap_or_default()
        } else {
            contacts
                .iter()
                .filter(|c| c.taken.is_some_and(|taken| taken <= as_of))
                .max_by_key(|c| c.taken)
                .map(|c| c.path.clone())
                .ok_or_else(|| {
                    usage_error(format!(
                        "no snapshot was taken at or before the as-of {}",
                        format_timestamp(as_of)
                    ))
                })?
        };
        runs.push((as_of, path));
    }
    let reads_stdin_twice = runs.iter().filter(|(_, p)| p == "-").count() > 1
        || (args.base.is_some() && runs.iter().any(|(_, p)| p == "-"));
    if reads_stdin_twice {
        return Err(usage_error(
            "standard input can be read only once: give the snapshot as a file for a series or `--base`",
        ));
    }
    if runs.iter().any(|(_, p)| p == "-") && args.outcomes == "-" {
        return Err(usage_error(
            "`--contacts` and `--outcomes` cannot both be standard input",
        ));
    }
    Ok(runs)
}

/// What every pass over a snapshot shares.
struct Passes<'a> {
    args: &'a MeasureArgs,
    pipeline: Pipeline,
    outcomes: &'a OutcomeIndex,
    rejects_file: &'a RejectsFile,
    /// Snapshots whose rejected lines were shown already (a series or
    /// `--base` reads a file more than once; its bad lines are shown once).
    reported: HashSet<String>,
    /// Rejected snapshot lines over all passes.
    rejected: u64,
    strict_stop: bool,
}

impl Passes<'_> {
    /// Measures `plan`'s `goal` on the snapshot at `path` as of `as_of`.
    fn measure(
        &mut self,
        plan: &Plan,
        goal: &Goal,
        counted_kinds: &[bool],
        as_of: i64,
        path: &str,
    ) -> Result<MeasureReport, Exit> {
        let snapshot = input::snapshot(path, self.args.stream.input_format)?;
        let mut progress = snapshot.progress(self.args.stream.quiet);
        let first_time = self.reported.insert(path.to_owned());
        let mut rejects = if first_time {
            Rejects::new(progress.stderr(), MORE_REJECTS_WITH_FILE).with_file(self.rejects_file.writer())
        } else {
            Rejects::new(Box::new(std::io::sink()), "")
        };
        let settings = MeasureSettings {
            as_of,
            goal,
            counted_kinds,
            by: self.args.by.as_deref(),
            strict: self.args.stream.strict,
            pipeline: self.pipeline,
        };
        let measured = measure_snapshot(
            plan,
            self.outcomes,
            &settings,
            snapshot.reader,
            snapshot.format,
            &mut rejects,
        );
        progress.finish();
        let measured = measured.map_err(|e| usage_error(format!("reading `{path}` failed: {e}")))?;
        rejects.flush();
        if first_time {
            self.rejected += rejects.count();
        }
        self.strict_stop |= measured.strict_stop;
        Ok(measured.tally.report(
            plan,
            ReportHeader {
                goal: goal.name.clone(),
                as_of: format_timestamp(as_of),
                horizon_days: goal.horizon_micros as f64 / 86_400_000_000.0,
                by_property: self.args.by.clone(),
                outcome_lines_read: self.outcomes.read,
                outcome_lines_rejected: self.outcomes.rejected,
                valid_outcome_lines: self.outcomes.valid_lines(),
            },
        ))
    }
}

/// The base rule set of `--base`: a path, or a git revision of `--rules`.
fn base_rules(base: &str, rules: &Path, color: bool) -> Result<crate::compile::Compiled, Exit> {
    let sources = if Path::new(base).exists() {
        crate::source::Sources::load(Path::new(base)).map_err(|e| e.to_string())
    } else {
        crate::diff::base::sources_at_revision(base, rules)
    };
    let sources = sources.map_err(usage_error)?;
    input::compile_sources(&sources, color)
}

pub fn run(args: &MeasureArgs) -> Result<Exit, Exit> {
    if let Some(state) = &args.state {
        return live::run_live(args, state);
    }
    let color = args.color.for_stderr();
    let pipeline = args.stream.pipeline()?;
    let rules = input::rules(&args.rules, color)?;
    let plan = rules.plan();
    let goal = choose_goal(plan, args.goal.as_deref())?;
    let base = match &args.base {
        Some(base) => Some(base_rules(base, &args.rules, color)?),
        None => None,
    };
    let base_goal = match &base {
        Some(b) => Some(b.plan.goals.iter().find(|g| g.name == goal.name).ok_or_else(|| {
            usage_error(format!(
                "the base rule set has no goal `{}` to compare with",
                goal.name
            ))
        })?),
        None => None,
    };
    let runs = schedule(args)?;
    if base.is_some() && runs.len() > 1 {
        return Err(usage_error(
            "`--base` compares the rules at one as-of: give a single `--as-of`",
        ));
    }

    // One `--rejects` file for both inputs; outcome lines are marked.
    let rejects_file = args.stream.rejects_file()?;
    let goals: Vec<&Goal> = std::iter::once(goal).chain(base_goal).collect();
    let (kept, masks) = kept_types(&goals);
    let opened = input::snapshot(&args.outcomes, args.outcomes_format)?;
    let mut outcome_rejects = Rejects::new(Box::new(std::io::stderr()), MORE_REJECTS_WITH_FILE)
        .with_file(rejects_file.writer())
        .for_input("outcomes");
    let outcomes = read_outcomes(
        opened.reader,
        opened.format,
        &kept,
        args.stream.strict,
        &mut outcome_rejects,
    )
    .map_err(|e| usage_error(format!("reading `{}` failed: {e}", args.outcomes)))?;
    outcome_rejects.flush();
    if outcomes.strict_stop {
        args.stream.finish_rejects(&mut outcome_rejects, rejects_file)?;
        eprintln!("rubric: stopped at the first rejected outcomes line (--strict)");
        return Ok(Exit::Rejected);
    }

    let mut passes = Passes {
        args,
        pipeline,
        outcomes: &outcomes,
        rejects_file: &rejects_file,
        reported: HashSet::new(),
        rejected: 0,
        strict_stop: false,
    };
    let no_mask = Vec::new();
    let mask = masks.first().unwrap_or(&no_mask);
    let mut reports = Vec::with_capacity(runs.len());
    for (as_of, path) in &runs {
        reports.push(passes.measure(plan, goal, mask, *as_of, path)?);
        if passes.strict_stop {
            break;
        }
    }
    let text = match (&base, base_goal) {
        (Some(base), Some(base_goal)) if !passes.strict_stop => {
            let (as_of, path) = runs.first().cloned().unwrap_or_default();
            let base_report = passes.measure(
                &base.plan,
                base_goal,
                masks.get(1).unwrap_or(&no_mask),
                as_of,
                &path,
            )?;
            let new_report = reports.pop().ok_or_else(|| usage_error("nothing was measured"))?;
            let comparison = ComparisonReport {
                goal: goal.name.clone(),
                as_of: new_report.as_of.clone(),
                base_rules: args.base.clone().unwrap_or_default(),
                rules: args.rules.display().to_string(),
                base: base_report,
                new: new_report,
            };
            render_comparison(&comparison, args.format)?
        }
        _ if reports.len() == 1 => {
            let report = reports.pop().ok_or_else(|| usage_error("nothing was measured"))?;
            render_one(&report, args.format)?
        }
        _ => {
            let stability = reports
                .iter()
                .zip(&runs)
                .map(|(report, (_, path))| StabilityRow::of(report, path))
                .collect();
            let series = SeriesReport {
                goal: goal.name.clone(),
                horizon_days: Real(goal.horizon_micros as f64 / 86_400_000_000.0),
                reports,
                stability,
            };
            render_series(&series, args.format)?
        }
    };
    let (strict_stop, rejected_contacts) = (passes.strict_stop, passes.rejected);
    // Every pass has flushed its rejects: the file is complete.
    args.stream.finish_rejects(&mut outcome_rejects, rejects_file)?;
    if strict_stop {
        eprintln!("rubric: stopped at the first rejected line (--strict); no report");
        return Ok(Exit::Rejected);
    }
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    finish_output(written)?;
    if !args.stream.quiet {
        eprintln!("{}", summary(goal, &outcomes, runs.len(), rejected_contacts));
    }
    let rejected = rejected_contacts + outcomes.rejected;
    Ok(if rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Success
    })
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Exit> {
    serde_json::to_string(value)
        .map(|t| t + "\n")
        .map_err(|e| usage_error(format!("cannot write the report: {e}")))
}

fn render_one(report: &MeasureReport, format: MeasureFormat) -> Result<String, Exit> {
    Ok(match format {
        MeasureFormat::Text => render::text(report),
        MeasureFormat::Markdown => render::markdown(report),
        MeasureFormat::Json => json(report)?,
        MeasureFormat::Html => crate::measure::html::html(report),
    })
}

fn render_series(series: &SeriesReport, format: MeasureFormat) -> Result<String, Exit> {
    Ok(match format {
        MeasureFormat::Text => render::series_text(series),
        MeasureFormat::Markdown => render::series_markdown(series),
        MeasureFormat::Json => json(series)?,
        MeasureFormat::Html => crate::measure::html::series_html(series),
    })
}

fn render_comparison(comparison: &ComparisonReport, format: MeasureFormat) -> Result<String, Exit> {
    Ok(match format {
        MeasureFormat::Text => render::comparison_text(comparison),
        MeasureFormat::Markdown => render::comparison_markdown(comparison),
        MeasureFormat::Json => json(comparison)?,
        MeasureFormat::Html => crate::measure::html::comparison_html(comparison),
    })
}

/// The line on stderr after the report.
fn summary(goal: &Goal, outcomes: &OutcomeIndex, passes: usize, rejected_contacts: u64) -> String {
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut text = format!(
        "rubric: goal `{}` measured at {}; outcomes: {} read, {} rejected",
        goal.name,
        plural(passes as u64, "as-of instant"),
        outcomes.read,
        outcomes.rejected,
    );
    if rejected_contacts > 0 {
        text.push_str(&format!(
            "; {} rejected",
            plural(rejected_contacts, "snapshot line")
        ));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn contacts_arguments_may_carry_the_date_of_the_export() {
        let dated = parse_contacts_arg("2026-10-01=oct.jsonl");
        assert_eq!(dated.taken, parse_timestamp("2026-10-01"));
        assert_eq!(dated.path, "oct.jsonl");
        // A file name with `=` that does not start with a date stays a path.
        assert_eq!(parse_contacts_arg("a=b.jsonl").path, "a=b.jsonl");
        assert_eq!(parse_contacts_arg("a=b.jsonl").taken, None);
        assert_eq!(parse_contacts_arg("-").path, "-");
    }

    #[test]
    fn steps_of_a_series() {
        assert_eq!(parse_step("7d").ok(), Some(7 * 86_400_000_000));
        assert_eq!(parse_step("2w").ok(), Some(14 * 86_400_000_000));
        assert_eq!(parse_step("12h").ok(), Some(12 * 3_600_000_000));
        assert!(parse_step("0d").is_err());
        assert!(parse_step("7").is_err());
        assert!(parse_step("d").is_err());
        assert!(parse_step("99999999999999w").is_err());
    }
}
