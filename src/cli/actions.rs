//! `rubric actions`: the log of applied runs, or the stored actions of one
//! run exported again (JSON Lines, and optionally the `--out-dir` files).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::apply::{apply_error, note_rows_without_email};
use super::exit::{usage_error, Exit};
use crate::sync::apply::{targets_of_run, write_destination_files, ApplyError};
use crate::sync::store::{Store, DEFAULT_STATE};

#[derive(Debug, Args)]
pub struct ActionsArgs {
    /// The state file (SQLite).
    #[arg(long, value_name = "DB", default_value = DEFAULT_STATE)]
    state: PathBuf,
    /// The run whose actions to print; without it, the runs are listed.
    #[arg(long, value_name = "ID")]
    run: Option<i64>,
    /// Also write that run's files per audience, workflow and route into this directory.
    #[arg(long, value_name = "DIR", requires = "run")]
    out_dir: Option<PathBuf>,
    /// Seconds to wait for an `apply` holding the state file.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    wait: u64,
}

pub fn run(args: &ActionsArgs) -> Result<Exit, Exit> {
    let store = match Store::open_existing(&args.state, Duration::from_secs(args.wait)) {
        Ok(Some(store)) => store,
        Ok(None) => {
            return Err(usage_error(format!(
                "no state file at `{}`: nothing has been applied yet (pass `--state DB`)",
                args.state.display()
            )))
        }
        Err(e) => return Err(usage_error(e)),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let result = match args.run {
        None => list_runs(&store, &mut out),
        Some(run) => match store.run(run) {
            Ok(Some(_)) => {
                let mut io = Ok(());
                let read = store.actions_of(run, |a| {
                    if io.is_ok() {
                        io = out
                            .write_all(a.line.as_bytes())
                            .and_then(|()| out.write_all(b"\n"));
                    }
                    Ok(())
                });
                read.map_err(usage_error)?;
                if let Some(dir) = &args.out_dir {
                    let targets = targets_of_run(&store, run).map_err(apply_error)?;
                    let rows_without_email =
                        write_destination_files(&store, run, dir, &targets).map_err(|error| match error {
                            ApplyError::DestinationDir { dir, error, .. } => {
                                usage_error(format!("cannot write the files in `{}`: {error}", dir.display()))
                            }
                            other => apply_error(other),
                        })?;
                    note_rows_without_email(&rows_without_email);
                }
                io
            }
            Ok(None) => {
                return Err(usage_error(format!(
                    "the state file `{}` has no run {run}; `rubric actions --state {}` lists the runs",
                    args.state.display(),
                    args.state.display()
                )))
            }
            Err(e) => return Err(usage_error(e)),
        },
    };
    match result.and_then(|()| out.flush()) {
        Ok(()) => Ok(Exit::Success),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Success),
        Err(e) => Err(usage_error(format!("cannot write to stdout: {e}"))),
    }
}

fn list_runs(store: &Store, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let runs = match store.runs() {
        Ok(r) => r,
        Err(e) => return Err(std::io::Error::other(e)),
    };
    writeln!(
        out,
        "run\tapplied_at\tas_of\trules\tsnapshot\tcontacts\trejected\tactions\tdropped\tcontacts_file"
    )?;
    for r in runs {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.applied_at,
            r.as_of,
            r.rules,
            r.mode,
            r.contacts,
            r.rejected,
            r.actions,
            r.dropped,
            r.snapshot
        )?;
    }
    Ok(())
}
