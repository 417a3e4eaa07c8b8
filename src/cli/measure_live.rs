//! `rubric measure --state DB`: the live measurement
//! ([`crate::measure::live`]): the band entries and tasks that `apply`
//! recorded in the state file (opened read only, as `plan` and `actions` do),
//! judged by the outcomes that followed; the report on stdout, a summary on
//! stderr. A child module of `measure.rs`, whose arguments it shares.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use super::{choose_goal, MeasureArgs, MeasureFormat};
use crate::cli::exit::{finish_output, usage_error, Exit};
use crate::cli::input::{self, MORE_REJECTS_WITH_FILE};
use crate::measure::live::{self, LiveHeader, LiveOutcomeTypes, LiveSettings, LiveTally};
use crate::measure::outcomes::read_outcomes;
use crate::snapshot::Rejects;
use crate::sync::store::{AppliedKind, Store};

/// How long to wait for an `apply` holding the state file.
const STATE_WAIT: Duration = Duration::from_secs(30);

/// The flags a live measurement cannot use, with the reason.
fn refuse_backtest_flags(args: &MeasureArgs) -> Result<(), Exit> {
    if args.by.is_some() {
        return Err(usage_error(
            "`--by` is not available with `--state`: the state file keeps no properties (measure `--by` on a backtest with `--contacts`)",
        ));
    }
    if !args.contacts.is_empty() {
        return Err(usage_error(
            "`--contacts` cannot be used with `--state`: a live measurement reads the state file, not a snapshot",
        ));
    }
    if args.stream.input_format.is_some() {
        return Err(usage_error(
            "`--input-format` describes `--contacts`, which `--state` does not read (use `--outcomes-format` for the outcomes)",
        ));
    }
    refuse_series_flags(args)
}

/// A live measurement is one report at one as-of, of one state file.
fn refuse_series_flags(args: &MeasureArgs) -> Result<(), Exit> {
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
    Ok(())
}

pub(super) fn run_live(args: &MeasureArgs, state: &Path) -> Result<Exit, Exit> {
    refuse_backtest_flags(args)?;
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

    let rejects_file: Option<Box<dyn std::io::Write + Send>> = match &args.stream.rejects {
        Some(path) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| usage_error(format!("cannot write `{}`: {e}", path.display())))?,
        ))),
        None => None,
    };
    let mut rejects = Rejects::new(Box::new(std::io::stderr()), MORE_REJECTS_WITH_FILE)
        .with_file(rejects_file)
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
        eprintln!("rubric: stopped at the first rejected outcomes line (--strict)");
        return Ok(Exit::Rejected);
    }

    let mut tally = LiveTally::new(LiveSettings { as_of, goal }, &outcomes);
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
    };
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    finish_output(written)?;
    if !args.stream.quiet {
        eprintln!("{}", summary(&report));
    }
    Ok(if outcomes.rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Success
    })
}

/// The line on stderr after the report.
fn summary(report: &live::LiveReport) -> String {
    let entries: u64 = report.bands.iter().map(|b| b.entries).sum();
    let open: u64 = report.bands.iter().map(|b| b.open).sum();
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
