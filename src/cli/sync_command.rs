//! What `rubric plan` and `rubric apply` share: their arguments, starting a
//! sync (rule set, as-of, state store, run context, snapshot), running the
//! driver of [`crate::sync::run`], and reporting its errors and its summary.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{usage_error, Exit};
use super::input;
use crate::snapshot::{format_timestamp, Rejects};
use crate::sync::actions::RunContext;
use crate::sync::destinations::AUDIENCE_MINIMUMS;
use crate::sync::rules_digest;
use crate::sync::run::{
    run_context, sync_snapshot, ActionSink, SnapshotKind, SyncError, SyncSettings, SyncTotals,
};
use crate::sync::store::{ApplyLock, Store, DEFAULT_STATE};

/// The arguments `plan` and `apply` share.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// A `.rubric` file or a directory of them.
    #[arg(long)]
    pub rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for stdin.
    #[arg(long)]
    pub contacts: String,
    /// The state file (SQLite), created by the first apply.
    #[arg(long, value_name = "DB", default_value = DEFAULT_STATE)]
    pub state: PathBuf,
    /// The instant of evaluation (RFC 3339 with offset, or a date); default now.
    #[arg(long, value_name = "TS")]
    pub as_of: Option<String>,
    /// `full`: a contact in the state but absent from the snapshot leaves
    /// every audience and workflow and is dropped; `partial`: absent contacts
    /// are left untouched.
    #[arg(long, value_enum, default_value_t = SnapshotArg::Full)]
    pub snapshot: SnapshotArg,
    /// Accept an `--as-of` earlier than the last applied run's.
    #[arg(long)]
    pub force: bool,
    /// Refuse a full snapshot that would drop more than N contacts from the
    /// state (a guard against a truncated or empty export).
    #[arg(long, value_name = "N")]
    pub max_removals: Option<u64>,
    /// Seconds to wait for another `apply` holding the state file.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
    /// Threads that decode and evaluate the snapshot (default: one per core);
    /// the state store is read and written in input order on the main thread.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Read `--contacts` as JSON Lines or CSV whatever its name (for
    /// standard input, which is otherwise JSON Lines).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<input::InputFormatArg>,
    /// No progress line and no summary on stderr (rejected lines, warnings
    /// and errors are still shown).
    #[arg(short, long)]
    pub quiet: bool,
    /// Colour of diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--snapshot`: whether the snapshot holds every contact or only some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapshotArg {
    Full,
    Partial,
}

impl SnapshotArg {
    pub fn kind(self) -> SnapshotKind {
        match self {
            SnapshotArg::Full => SnapshotKind::Full,
            SnapshotArg::Partial => SnapshotKind::Partial,
        }
    }
}

/// Shown once, after the first rejected lines (`plan` and `apply` have no
/// `--rejects`).
const MORE_REJECTS: &str = "(more rejected lines are counted but not shown)";

/// A sync ready to run: the compiled rule set, the settings, the state store
/// (`None` for `plan` without a state file) inside its transaction, and the
/// run's context.
pub struct SyncStart {
    pub loaded: input::Loaded,
    pub settings: SyncSettings,
    pub store: Option<Store>,
    pub ctx: RunContext,
    /// The rule set's digest (logged with the run).
    pub digest: String,
    /// `apply`: held until this is dropped, after the store is closed.
    _apply_lock: Option<ApplyLock>,
}

impl SyncStart {
    /// Loads the rule set, then opens the state: for `apply` (`write_state`)
    /// created if missing, in a write transaction; for `plan`, read only if it
    /// exists.
    pub fn begin(args: &SyncArgs, write_state: bool) -> Result<SyncStart, Exit> {
        let color = args.color.for_stderr();
        let pipeline = input::pipeline(args.threads)?;
        let loaded = input::load(&args.rules, args.as_of.as_deref(), color)?;
        let digest = rules_digest(&loaded.rules.sources);
        let wait = Duration::from_secs(args.wait);
        let apply_lock = if write_state {
            Some(ApplyLock::acquire(&args.state, wait).map_err(usage_error)?)
        } else {
            None
        };
        let mut store = if write_state {
            let mut store = Store::open(&args.state, wait).map_err(usage_error)?;
            store.begin(wait).map_err(usage_error)?;
            Some(store)
        } else {
            match Store::open_existing(&args.state, wait).map_err(usage_error)? {
                Some(mut store) => {
                    store.begin_read().map_err(usage_error)?;
                    Some(store)
                }
                None => None,
            }
        };
        let ctx = match run_context(store.as_ref(), loaded.as_of, args.force, &digest) {
            Ok(ctx) => ctx,
            Err(e) => {
                if let Some(store) = store.as_mut() {
                    store.rollback();
                }
                return Err(sync_error(e, args, write_state));
            }
        };
        let settings = SyncSettings {
            as_of: loaded.as_of,
            snapshot: args.snapshot.kind(),
            max_removals: args.max_removals,
            write_state,
            pipeline,
        };
        Ok(SyncStart {
            loaded,
            settings,
            store,
            ctx,
            digest,
            _apply_lock: apply_lock,
        })
    }

    /// Opens the snapshot and runs the driver, sending actions to `sink` and
    /// rejected lines to stderr.
    pub fn sync(&self, args: &SyncArgs, sink: &mut impl ActionSink) -> Result<SyncTotals, Exit> {
        let snapshot = input::snapshot(&args.contacts, args.input_format)?;
        let mut progress = snapshot.progress(args.quiet);
        let mut rejects = Rejects::new(progress.stderr(), MORE_REJECTS);
        let synced = sync_snapshot(
            self.loaded.plan(),
            &self.ctx,
            &self.settings,
            self.store.as_ref(),
            snapshot.reader,
            snapshot.format,
            sink,
            &mut rejects,
        );
        progress.finish();
        synced.map_err(|e| sync_error(e, args, self.settings.write_state))
    }

    /// The committed run whose delivery was never confirmed, if any (see
    /// [`Store::set_delivery_pending`]); on an error, the transaction is
    /// abandoned.
    pub fn delivery_pending(&mut self) -> Result<Option<i64>, Exit> {
        match self.store.as_ref().map(Store::delivery_pending) {
            Some(Ok(pending)) => Ok(pending),
            Some(Err(message)) => {
                self.end();
                Err(usage_error(message))
            }
            None => Ok(None),
        }
    }

    /// Abandons the store's transaction, if one is still open (after a
    /// commit, nothing happens).
    pub fn end(&mut self) {
        if let Some(store) = self.store.as_mut() {
            store.rollback();
        }
    }
}

/// Reports why a sync stopped; its exit status.
fn sync_error(error: SyncError, args: &SyncArgs, applying: bool) -> Exit {
    match error {
        SyncError::EarlierThanLastRun { as_of, last } => usage_error(format!(
            "`--as-of {}` is earlier than the last applied run (run {}, as of {}); actions would undo newer ones. Pass `--force` if this is intended",
            format_timestamp(as_of),
            last.id,
            last.as_of
        )),
        SyncError::TooManyRemovals { drops, max } => usage_error(format!(
            "the snapshot would drop {drops} contacts that are absent from it, more than `--max-removals {max}`; nothing was {}. If the export is complete, raise `--max-removals`; to keep absent contacts, pass `--snapshot partial`",
            if applying { "applied" } else { "planned" }
        )),
        // A closed stdout (`rubric plan … | head`) is the reader's choice.
        SyncError::Read(e) | SyncError::Write(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        SyncError::Read(e) => usage_error(format!(
            "reading `{}` failed: {e}; nothing was applied",
            args.contacts
        )),
        SyncError::Write(e) => usage_error(format!("cannot write the actions: {e}")),
        SyncError::Store(message) => usage_error(message),
    }
}

/// The exit status of a finished sync.
pub fn exit_of(totals: &SyncTotals) -> Exit {
    if totals.rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Success
    }
}

/// Prints the summary on stderr: one line, then one per target (not with
/// `quiet`), then audience-size warnings.
pub fn report(command: &str, verb: &str, start: &SyncStart, totals: &SyncTotals, quiet: bool) {
    let snapshot = start.settings.snapshot;
    let mut text = format!(
        "{command}: run {} {verb} {} action{} for {} contact{} as of {} (rules {}, {} snapshot)",
        start.ctx.run,
        totals.actions,
        plural(totals.actions),
        totals.accepted,
        plural(totals.accepted),
        format_timestamp(start.settings.as_of),
        start.ctx.rules,
        snapshot.name(),
    );
    if totals.dropped > 0 {
        text.push_str(&format!(
            "; {} contact{} absent, dropped from the state",
            totals.dropped,
            plural(totals.dropped)
        ));
    }
    if totals.rejected > 0 {
        text.push_str(&format!(
            "; {} line{} rejected (their contacts keep their state)",
            totals.rejected,
            plural(totals.rejected)
        ));
    }
    let mut err = std::io::stderr().lock();
    if !quiet {
        let _ = writeln!(err, "{text}");
        if start.store.is_none() {
            let _ = writeln!(
                err,
                "note: there is no state file yet, so these action ids are provisional: every id includes the state file's own instance id, which the first apply creates (later plans print the ids the next apply emits)"
            );
        }
    }
    for ((kind, target), counts) in totals.summary.targets.iter().filter(|_| !quiet) {
        let line = match kind {
            0 => {
                let moves: Vec<String> = counts
                    .transitions
                    .iter()
                    .map(|((from, to), n)| {
                        format!(
                            "{}→{} {n}",
                            from.as_deref().unwrap_or("(new)"),
                            to.as_deref().unwrap_or("(removed)")
                        )
                    })
                    .collect();
                format!("  band {target}: {}", moves.join(", "))
            }
            1 => format!(
                "  audience {target}: +{} added, -{} removed",
                counts.entered, counts.left
            ),
            2 => format!(
                "  workflow {target}: +{} enrolled, -{} exited",
                counts.entered, counts.left
            ),
            _ => format!("  route {target}: {} task{}", counts.tasks, plural(counts.tasks)),
        };
        let _ = writeln!(err, "{line}");
    }
    for (audience, (members, matched)) in &totals.summary.audience_sizes {
        let below: Vec<String> = AUDIENCE_MINIMUMS
            .iter()
            .filter(|(_, min)| matched < min)
            .map(|(platform, min)| format!("{platform} needs {min}"))
            .collect();
        if !below.is_empty() {
            let _ = writeln!(
                err,
                "warning: audience `{audience}` {} {matched} member{} with a usable email ({members} in all), below the platforms' minimum ({})",
                if command == "plan" { "would have" } else { "has" },
                plural(*matched),
                below.join(", ")
            );
        }
    }
    if totals.unknown_rejects > 0 && snapshot == SnapshotKind::Full {
        let _ = writeln!(
            err,
            "warning: {} rejected line{} had no readable id, so no contact was treated as absent (absent contacts keep their state); fix the lines and run again",
            totals.unknown_rejects,
            plural(totals.unknown_rejects)
        );
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
