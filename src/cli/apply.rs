//! `rubric apply`: compute the actions (docs/formats.md#actions), store them and the new state
//! in one transaction, write them out (`--out` atomically, or stdout; and
//! `--out-dir` files per target), then commit ([`crate::sync::apply`], which
//! writes the outputs before the commit), and report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::exit::{usage_error, Exit};
use super::sync_command::{exit_of, report, SyncArgs, SyncStart};
use crate::snapshot::format_timestamp;
use crate::sync::apply::{finish_apply, redeliver, ActionsOutput, ApplyError, ApplyOutputs};
use crate::sync::run::{Outbox, SyncTotals};
use crate::sync::store::RunRecord;

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
/// the run, write the outputs, then commit ([`finish_apply`]); then print
/// the notes about audience rows without an email.
fn finish(args: &ApplyArgs, start: &mut SyncStart, totals: &SyncTotals) -> Result<(), Exit> {
    let Some(store) = start.store.as_mut() else {
        return Err(usage_error("internal error: the state file is not open"));
    };
    let as_of = start.settings.as_of;
    let record = RunRecord {
        id: start.ctx.run,
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
    let outputs = ApplyOutputs {
        actions_file: args.out.as_deref(),
        actions_writer: std::io::BufWriter::with_capacity(1 << 20, std::io::stdout()),
        destination_dir: args.out_dir.as_deref(),
    };
    let finished =
        finish_apply(store, &record, &start.loaded.rules.compiled.plan, outputs).map_err(apply_error)?;
    note_rows_without_email(&finished.rows_without_email);
    Ok(())
}

/// Reports why an apply stopped while writing its outputs or committing; its
/// exit status.
pub(super) fn apply_error(error: ApplyError) -> Exit {
    match error {
        ApplyError::Store(message) => usage_error(message),
        ApplyError::ActionsFile { path, error } => usage_error(format!(
            "cannot write `{}`: {error}; nothing was applied",
            path.display()
        )),
        ApplyError::ActionsWriter(error) => usage_error(format!(
            "cannot write the actions to stdout: {error}; nothing was applied (use `--out FILE`)"
        )),
        ApplyError::DestinationDir { dir, error, actions } => usage_error(format!(
            "cannot write the files in `{}`: {error}; nothing was applied (the state file was not committed), and {}",
            dir.display(),
            match actions {
                ActionsOutput::FileUnchanged(path) => format!("`{}` was left unchanged", path.display()),
                ActionsOutput::FileWritten(path) => format!(
                    "`{}` already holds this run's actions: the next apply emits them again with the same ids",
                    path.display()
                ),
                ActionsOutput::Written => String::from(
                    "the actions written to stdout were not applied: the next apply emits them again with the same ids"
                ),
            }
        )),
        ApplyError::Commit(message) => usage_error(format!(
            "{message}; the actions were written but not committed: the next apply emits them again with the same ids"
        )),
    }
}

/// Prints, per audience, how many `--out-dir` rows have no usable email.
pub(super) fn note_rows_without_email(rows_without_email: &BTreeMap<String, u64>) {
    for (audience, n) in rows_without_email {
        eprintln!(
            "note: {n} row{} of audience `{audience}` ha{} no usable email (kept with an empty email_sha256; an ad platform cannot match {})",
            if *n == 1 { "" } else { "s" },
            if *n == 1 { "s" } else { "ve" },
            if *n == 1 { "it" } else { "them" }
        );
    }
}

pub fn run(args: &ApplyArgs) -> Result<Exit, Exit> {
    let mut start = SyncStart::begin(&args.sync, true)?;
    let pending = start.delivery_pending()?;
    if let Some(run) = pending {
        let result = redeliver_run(args, &mut start, run);
        start.end();
        return result;
    }
    let result = sync_and_finish(args, &mut start);
    // After a commit this does nothing; after a failure it drops the run.
    start.end();
    let totals = result?;
    report("apply", "emitted", &start, &totals, args.sync.quiet);
    // Regression hook for tests (docs/reliability.md): stop as a kill
    // between the commit and the confirmation would.
    if std::env::var_os(STOP_AFTER_COMMIT).is_some() {
        return Err(usage_error(format!(
            "stopped after the commit ({STOP_AFTER_COMMIT})"
        )));
    }
    confirm_delivery(&start)?;
    Ok(exit_of(&totals))
}

/// The environment variable that makes `apply` stop after its commit,
/// before confirming the delivery, as a kill there would (for tests).
pub const STOP_AFTER_COMMIT: &str = "RUBRIC_TEST_STOP_AFTER_COMMIT";

/// Confirms, last of all, that the run's outputs are in place, so the next
/// apply computes a new run instead of delivering this one again.
fn confirm_delivery(start: &SyncStart) -> Result<(), Exit> {
    let Some(store) = start.store.as_ref() else {
        return Ok(());
    };
    store.confirm_delivery(start.ctx.run).map_err(|message| {
        usage_error(format!(
            "run {} was applied and its outputs written, but {message}: the next apply writes its actions again (same ids) instead of applying",
            start.ctx.run
        ))
    })
}

/// The apply after one killed between its commit and its confirmation:
/// `run`'s actions are written again from the outbox to this command's
/// outputs, the delivery is confirmed, and the snapshot is not read. The
/// exit status is the one that run would have had.
fn redeliver_run(args: &ApplyArgs, start: &mut SyncStart, run: i64) -> Result<Exit, Exit> {
    let Some(store) = start.store.as_mut() else {
        return Err(usage_error("internal error: the state file is not open"));
    };
    let record = store.run(run).map_err(usage_error)?.ok_or_else(|| {
        usage_error(format!(
            "the state file marks run {run} undelivered, but has no run {run}; restore it from a backup"
        ))
    })?;
    let outputs = ApplyOutputs {
        actions_file: args.out.as_deref(),
        actions_writer: std::io::BufWriter::with_capacity(1 << 20, std::io::stdout()),
        destination_dir: args.out_dir.as_deref(),
    };
    let finished = redeliver(store, run, &start.loaded.rules.compiled.plan, outputs).map_err(apply_error)?;
    note_rows_without_email(&finished.rows_without_email);
    eprintln!(
        "warning: run {run} (as of {}) was committed but its delivery was never confirmed (the apply was interrupted), so its {} action{} were written again, with the same ids; `{}` was not read: run the command again to apply it",
        record.as_of,
        record.actions,
        if record.actions == 1 { "" } else { "s" },
        args.sync.contacts
    );
    Ok(if record.rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Success
    })
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
