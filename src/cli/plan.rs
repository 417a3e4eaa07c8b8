//! `rubric plan`: the actions (docs/formats.md#actions) an apply would emit now, printed on
//! stdout, with a summary per target on stderr; changes nothing. The sync
//! itself is [`crate::sync::run`], started as for `apply`
//! ([`super::sync_command`]).

use std::io::{Seek as _, SeekFrom, Write};

use clap::Args;

use super::exit::{usage_error, Exit};
use super::sync_command::{exit_of, report, SyncArgs, SyncStart};
use crate::sync::actions::Action;
use crate::sync::run::{ActionSink, SyncError};

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub sync: SyncArgs,
}

/// How many bytes of actions `plan` holds in memory before it moves them to
/// a temporary file.
const SPOOL_IN_MEMORY: usize = 64 << 20;

/// The sink of `plan`: each action's line to a writer (stdout).
struct PrintActions<W>(W);

impl<W: Write> ActionSink for PrintActions<W> {
    fn take(&mut self, _seq: i64, _action_id: &str, line: &[u8], _action: &Action) -> Result<(), SyncError> {
        self.0.write_all(line).map_err(SyncError::Write)
    }
}

pub fn run(args: &PlanArgs) -> Result<Exit, Exit> {
    let mut start = SyncStart::begin(&args.sync, false)?;
    let pending = start.delivery_pending()?;
    // The actions are held back (in memory, then in an anonymous temporary
    // file) until the whole state has been read: a state file found corrupt
    // half way prints no action at all (issue 17, item 11).
    let mut spool = tempfile::spooled_tempfile(SPOOL_IN_MEMORY);
    let mut held = std::io::BufWriter::with_capacity(1 << 20, &mut spool);
    let result = start.sync(&args.sync, &mut PrintActions(&mut held));
    // `plan` only reads: its transaction is dropped.
    start.end();
    let held = held.into_inner().map(|_| ()).map_err(|e| e.into_error());
    let totals = result?;
    held.map_err(|e| {
        usage_error(format!(
            "cannot hold the actions back until the state is read: {e}"
        ))
    })?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let printed = spool
        .seek(SeekFrom::Start(0))
        .and_then(|_| std::io::copy(&mut spool, &mut out))
        .and_then(|_| out.flush());
    match printed {
        Ok(()) => {}
        // A closed stdout (`rubric plan … | head`) is the reader's choice.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Err(Exit::Success),
        Err(e) => return Err(usage_error(format!("cannot write the actions: {e}"))),
    }
    report("plan", "would emit", &start, &totals, args.sync.quiet);
    if let Some(run) = pending {
        eprintln!(
            "warning: run {run} was committed but its delivery was never confirmed (an apply was interrupted): the next apply writes run {run}'s actions again, with the same ids, instead of applying this snapshot"
        );
    }
    Ok(exit_of(&totals))
}
