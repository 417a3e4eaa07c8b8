//! `rubric plan`: the actions (docs/formats.md#actions) an apply would emit now, printed on
//! stdout, with a summary per target on stderr; changes nothing. The sync
//! itself is [`crate::sync::run`], started as for `apply`
//! ([`super::sync_command`]).

use std::io::Write;

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

/// The sink of `plan`: each action's line to a writer (stdout).
struct PrintActions<W>(W);

impl<W: Write> ActionSink for PrintActions<W> {
    fn take(&mut self, _seq: i64, _action_id: &str, line: &[u8], _action: &Action) -> Result<(), SyncError> {
        self.0.write_all(line).map_err(SyncError::Write)
    }
}

pub fn run(args: &PlanArgs) -> Result<Exit, Exit> {
    let mut start = SyncStart::begin(&args.sync, false)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let result = start.sync(&args.sync, &mut PrintActions(&mut out));
    // `plan` only reads: its transaction is dropped.
    start.end();
    let flushed = out.flush();
    let totals = result?;
    if let Err(e) = flushed {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(usage_error(format!("cannot write the actions: {e}")));
        }
    }
    report("plan", "would emit", &start, &totals, args.sync.quiet);
    Ok(exit_of(&totals))
}
