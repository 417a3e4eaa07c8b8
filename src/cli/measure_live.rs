//! `rubric measure --state DB`: the live measurement
//! ([`crate::measure::live`]): the band entries and tasks that `apply`
//! recorded in the state file (opened read only, as `plan` and `actions` do),
//! judged by the outcomes that followed; the report on stdout, a summary on
//! stderr. A child module of `measure.rs`, whose arguments it shares.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use super::{choose_goal, parse_contacts_arg, MeasureArgs, MeasureFormat};
use crate::cli::exit::{finish_output, usage_error, Exit};
use crate::cli::input::{self, MORE_REJECTS_WITH_FILE};
use crate::measure::live::{self, read_groups, LiveHeader, LiveOutcomeTypes, LiveSettings, LiveTally};
use crate::measure::outcomes::read_outcomes;
use crate::snapshot::Rejects;
use crate::sync::store::{AppliedKind, Store};

/// How long to wait for an `apply` holding the state file.
const STATE_WAIT: Duration = Duration::from_secs(30);

/// The flag combinations a live measurement refuses, with the reason; the
/// snapshot that gives `--by` its values, when there is one.
fn check_flags(args: &MeasureArgs) -> Result<Option<&str>, Exit> {
    let contacts = match args.contacts.as_slice() {
        [] => None,
        [one] if parse_contacts_arg(one).taken.is_none() => Some(one.as_str()),
        _ => {
            return Err(usage_error(
                "`--state` reads one undated snapshot, and only for `--by`: give one `--contacts FILE`",
            ))
        }
    };
    match (&args.by, contacts) {
        (Some(_), None) => {
            return Err(usage_error(
                "`--by` with `--state` needs `--contacts FILE`: the state file keeps no properties, so they are read from a snapshot",
            ))
        }
        (None, Some(_)) => {
            return Err(usage_error(
                "`--contacts` with `--state` only gives `--by` its values: add `--by PROPERTY`, or leave out `--state` for a backtest",
            ))
        }
        (Some(_), Some("-")) if args.outcomes == "-" => {
            return Err(usage_error(
                "`--contacts` and `--outcomes` cannot both be standard input",
            ))
        }
        _ => {}
    }
    if args.stream.input_format.is_some() && contacts.is_none() {
        return Err(usage_error(
            "`--input-format` describes `--contacts`, which `--state` reads only with `--by` (use `--outcomes-format` for the outcomes)",
        ));
    }
    if args.format == MeasureFormat::Html {
        return Err(usage_error(
            "`--format html` draws a backtest; with `--state` use `text`, `markdown` or `json`",
        ));
    }
    if args.as_of.len() > 1 || args.from.is_some() {
        return Err(usage_error(
            "`--state` measures at one as-of: give at most one `--as-of` (a series is for backtests)",
        ));
    }
    if args.base.is_some() {
        return Err(usage_error(
            "`--base` compares two rule sets on a snapshot; `--state` measures what was applied (compare rule versions by their rows)",
        ));
    }
    Ok(contacts)
}

pub(super) fn run_live(args: &MeasureArgs, state: &Path) -> Result<Exit, Exit> {
    let by_snapshot = check_flags(args)?;
    let color = args.color.for_stderr();
    let loaded = input::load(&args.rules, args.as_of.first().map(String::as_str), color)?;
    let (plan, as_of) = (loaded.plan(), loaded.as_of);
    let goal = choose_goal(plan, args.goal.as_deref())?;
    let mut store = match Store::open_existing(state, STATE_WAIT) {
        Ok(Some(store)) => store,
        Ok(None) => {
            return Err(usage_error(format!(
                "no state file at `{}`: nothing has been applied yet (run `rubric apply` first)",
                state.display()
            )))
        }
        Err(e) => return Err(usage_error(e)),
    };

    // One `--rejects` file for both inputs; outcome lines are marked (as in
    // a backtest).
    let rejects_file = args.stream.rejects_file()?;
    let mut rejects = Rejects::new(Box::new(std::io::stderr()), MORE_REJECTS_WITH_FILE)
        .with_file(rejects_file.writer())
        .for_input("outcomes");
    let types = LiveOutcomeTypes::for_goal(goal);
    let opened = input::snapshot(&args.outcomes, args.outcomes_format)?;
    let outcomes = read_outcomes(
        opened.reader,
        opened.format,
        &types.kept,
        args.stream.strict,
        &mut rejects,
    )
    .map_err(|e| usage_error(format!("reading `{}` failed: {e}", args.outcomes)))?;
    rejects.flush();
    if outcomes.strict_stop {
        args.stream.finish_rejects(&mut rejects, rejects_file)?;
        eprintln!("rubric: stopped at the first rejected outcomes line (--strict)");
        return Ok(Exit::Rejected);
    }

    let mut tally = LiveTally::new(LiveSettings { as_of, goal }, &outcomes);
    let mut rejected_snapshot_lines = 0;
    if let (Some(property), Some(contacts)) = (args.by.as_deref(), by_snapshot) {
        let snapshot = input::snapshot(contacts, args.stream.input_format)?;
        let mut snapshot_rejects = Rejects::new(Box::new(std::io::stderr()), MORE_REJECTS_WITH_FILE)
            .with_file(rejects_file.writer());
        let read = read_groups(
            plan,
            property,
            snapshot.reader,
            snapshot.format,
            args.stream.strict,
            &mut snapshot_rejects,
        )
        .map_err(|e| usage_error(format!("reading `{contacts}` failed: {e}")))?;
        snapshot_rejects.flush();
        rejected_snapshot_lines = snapshot_rejects.count();
        if read.strict_stop {
            args.stream.finish_rejects(&mut rejects, rejects_file)?;
            eprintln!("rubric: stopped at the first rejected snapshot line (--strict)");
            return Ok(Exit::Rejected);
        }
        tally = tally.with_groups(read.groups);
    }
    // One read transaction: the runs and their actions as of one commit.
    store.begin_read().map_err(usage_error)?;
    let read = store.runs().and_then(|runs| {
        for run in &runs {
            tally.add_run(&run.rules, run.as_of_micros);
        }
        store.applied_entries(|entry| match entry.kind {
            AppliedKind::BandChange {
                band,
                to: Some(value),
            } => tally.add_band_entry(entry.rules, entry.contact, band, value, entry.as_of_micros),
            // A band removed from the rules: no entry into anything.
            AppliedKind::BandChange { to: None, .. } => {}
            AppliedKind::TaskCreate {
                route,
                queue,
                sla_hours,
            } => tally.add_task(entry.contact, route, queue, sla_hours, entry.as_of_micros),
        })
    });
    store.rollback();
    read.map_err(usage_error)?;
    // Both inputs are read: the `--rejects` file is complete.
    args.stream.finish_rejects(&mut rejects, rejects_file)?;
    let report = tally.report(
        plan,
        LiveHeader {
            goal: goal.name.clone(),
            state: state.display().to_string(),
        },
    );

    let text = match args.format {
        MeasureFormat::Text => live::text(&report),
        MeasureFormat::Markdown => live::markdown(&report),
        MeasureFormat::Json => match serde_json::to_string(&report) {
            Ok(t) => t + "\n",
            Err(e) => return Err(usage_error(format!("cannot write the report: {e}"))),
        },
        // Refused by `check_flags` before any work.
        MeasureFormat::Html => return Err(usage_error("`--format html` is not available with `--state`")),
    };
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    finish_output(written)?;
    if !args.stream.quiet {
        eprintln!("{}", summary(&report));
    }
    Ok(if outcomes.rejected + rejected_snapshot_lines > 0 {
        Exit::Rejected
    } else {
        Exit::Success
    })
}

/// The line on stderr after the report.
fn summary(report: &live::LiveReport) -> String {
    let entries: u64 = report.bands.iter().map(|b| b.figures.entries).sum();
    let open: u64 = report.bands.iter().map(|b| b.figures.open).sum();
    let tasks: u64 = report.routes.iter().map(|r| r.tasks).sum();
    format!(
        "rubric: goal `{}` measured live as of {} from {} applied run{}: {entries} band entries ({open} still open), {tasks} task{}; outcomes: {} read, {} rejected, {} unmatched",
        report.goal,
        report.as_of,
        report.runs,
        if report.runs == 1 { "" } else { "s" },
        if tasks == 1 { "" } else { "s" },
        report.outcomes.read,
        report.outcomes.rejected,
        report.outcomes.unmatched,
    )
}
