//! `rubric apply`: compute the actions (docs/formats.md#actions), store them and the new state
//! in one transaction, write them out (`--out` atomically, or stdout; and
//! `--out-dir` files per target), then commit.
//!
//! The outputs are written before the commit: killed before the commit, the
//! state is entirely before the run and the next apply emits the same
//! actions again with the same ids; killed after it, everything is done.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use super::exit::{usage_error, Exit};
use super::sync_command::{exit_of, report, SyncArgs, SyncStart};
use crate::snapshot::format_timestamp;
use crate::sync::actions::ActionKind;
use crate::sync::destinations::{rows_of_run, write_dir, AtomicFile};
use crate::sync::run::{Outbox, SyncTotals};
use crate::sync::store::{RunRecord, Store};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub sync: SyncArgs,
    /// Write the actions (JSON Lines) to this file, atomically, instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write one file per audience, workflow and route into this directory.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// What `apply` does once the actions are in the (uncommitted) outbox: log
/// the run, write the outputs, then commit.
fn finish(args: &ApplyArgs, start: &mut SyncStart, totals: &SyncTotals) -> Result<(), Exit> {
    let Some(store) = start.store.as_mut() else {
        return Err(usage_error("internal error: the state file is not open"));
    };
    let (ctx, plan) = (&start.ctx, &start.loaded.rules.compiled.plan);
    let as_of = start.settings.as_of;
    let record = RunRecord {
        id: ctx.run,
        applied_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        as_of: format_timestamp(as_of),
        as_of_micros: as_of,
        rules: start.digest.clone(),
        snapshot: args.sync.contacts.clone(),
        mode: start.settings.snapshot.name().to_string(),
        contacts: i64::try_from(totals.accepted).unwrap_or(i64::MAX),
        rejected: i64::try_from(totals.rejected).unwrap_or(i64::MAX),
        actions: i64::try_from(totals.actions).unwrap_or(i64::MAX),
        dropped: i64::try_from(totals.dropped).unwrap_or(i64::MAX),
    };
    store.add_run(&record).map_err(usage_error)?;
    let run = ctx.run;
    match &args.out {
        Some(path) => {
            let fail = |e: std::io::Error| {
                usage_error(format!(
                    "cannot write `{}`: {e}; nothing was applied",
                    path.display()
                ))
            };
            let mut file = AtomicFile::create(path).map_err(fail)?;
            let mut io_error = None;
            store
                .actions_of(run, |a| {
                    if io_error.is_none() {
                        if let Err(e) = file
                            .write_all(a.line.as_bytes())
                            .and_then(|()| file.write_all(b"\n"))
                        {
                            io_error = Some(e);
                        }
                    }
                    Ok(())
                })
                .map_err(usage_error)?;
            if let Some(e) = io_error {
                return Err(fail(e));
            }
            file.commit().map_err(fail)?;
        }
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
            let mut io_error = None;
            store
                .actions_of(run, |a| {
                    if io_error.is_none() {
                        if let Err(e) = out
                            .write_all(a.line.as_bytes())
                            .and_then(|()| out.write_all(b"\n"))
                        {
                            io_error = Some(e);
                        }
                    }
                    Ok(())
                })
                .map_err(usage_error)?;
            if let Some(e) = io_error.or_else(|| out.flush().err()) {
                return Err(usage_error(format!(
                    "cannot write the actions to stdout: {e}; nothing was applied (use `--out FILE`)"
                )));
            }
        }
    }
    if let Some(dir) = &args.out_dir {
        let mut targets: Vec<(ActionKind, String)> = Vec::new();
        targets.extend(
            plan.audiences
                .iter()
                .map(|t| (ActionKind::AudienceAdd, t.name.clone())),
        );
        targets.extend(
            plan.workflows
                .iter()
                .map(|t| (ActionKind::WorkflowEnroll, t.name.clone())),
        );
        targets.extend(
            plan.routes
                .iter()
                .map(|r| (ActionKind::TaskCreate, r.name.clone())),
        );
        write_destinations(store, run, dir, &targets)?;
    }
    store.commit().map_err(|e| {
        usage_error(format!(
            "{e}; the actions were written but not committed: the next apply emits them again with the same ids"
        ))
    })
}

/// Writes the `--out-dir` files of one run from its stored actions, and
/// reports audience rows without a usable email.
pub(super) fn write_destinations(
    store: &Store,
    run: i64,
    dir: &std::path::Path,
    targets: &[(ActionKind, String)],
) -> Result<(), Exit> {
    let rows = rows_of_run(store, run).map_err(usage_error)?;
    let report = write_dir(dir, targets, &rows)
        .map_err(|e| usage_error(format!("cannot write the files in `{}`: {e}", dir.display())))?;
    for (audience, n) in &report.without_email {
        eprintln!(
            "note: {n} row{} of audience `{audience}` ha{} no usable email (kept with an empty email_sha256; an ad platform cannot match {})",
            if *n == 1 { "" } else { "s" },
            if *n == 1 { "s" } else { "ve" },
            if *n == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}

pub fn run(args: &ApplyArgs) -> Result<Exit, Exit> {
    let mut start = SyncStart::begin(&args.sync, true)?;
    let result = sync_and_finish(args, &mut start);
    // After a commit this does nothing; after a failure it drops the run.
    start.end();
    let totals = result?;
    report("apply", "emitted", &start, &totals, args.sync.quiet);
    Ok(exit_of(&totals))
}

/// Stores the actions and the new state, then finishes (outputs, commit).
fn sync_and_finish(args: &ApplyArgs, start: &mut SyncStart) -> Result<SyncTotals, Exit> {
    let totals = match start.store.as_ref() {
        Some(store) => start.sync(
            &args.sync,
            &mut Outbox {
                store,
                run: start.ctx.run,
            },
        )?,
        None => return Err(usage_error("internal error: the state file is not open")),
    };
    finish(args, start, &totals)?;
    Ok(totals)
}
