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
use crate::sync::apply::{finish_apply, ApplyError, ApplyOutputs};
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
        ApplyError::DestinationDir { dir, error } => usage_error(format!(
            "cannot write the files in `{}`: {error}",
            dir.display()
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
