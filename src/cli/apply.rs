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

use super::plan::{sync, Finish, SyncArgs};
use super::Exit;
use crate::plan::Plan;
use crate::sync::actions::{ActionKind, RunContext};
use crate::sync::destinations::{write_dir, AtomicFile, Row};
use crate::sync::store::Store;

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

struct Outputs<'a> {
    args: &'a ApplyArgs,
}

impl Finish for Outputs<'_> {
    fn finish(&mut self, store: &mut Store, ctx: &RunContext, plan: &Plan) -> Result<(), Exit> {
        let run = ctx.run;
        match &self.args.out {
            Some(path) => {
                let fail = |e: std::io::Error| {
                    super::usage_error(format!(
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
                    .map_err(super::usage_error)?;
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
                    .map_err(super::usage_error)?;
                if let Some(e) = io_error.or_else(|| out.flush().err()) {
                    return Err(super::usage_error(format!(
                        "cannot write the actions to stdout: {e}; nothing was applied (use `--out FILE`)"
                    )));
                }
            }
        }
        if let Some(dir) = &self.args.out_dir {
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
            super::usage_error(format!(
                "{e}; the actions were written but not committed: the next apply emits them again with the same ids"
            ))
        })
    }
}

/// Writes the `--out-dir` files of one run from its stored actions, and
/// reports audience rows without a usable email.
pub(super) fn write_destinations(
    store: &Store,
    run: i64,
    dir: &std::path::Path,
    targets: &[(ActionKind, String)],
) -> Result<(), Exit> {
    let mut rows = Vec::new();
    store
        .actions_of(run, |a| {
            let Some(kind) = ActionKind::from_name(&a.action) else {
                return Ok(());
            };
            let task = if kind == ActionKind::TaskCreate {
                let v: serde_json::Value = serde_json::from_str(&a.line).unwrap_or_default();
                Some((
                    v.get("task").and_then(|t| t.as_str()).unwrap_or("").to_string(),
                    v.get("sla_hours")
                        .and_then(serde_json::Value::as_f64)
                        .unwrap_or(0.0),
                    v.get("queue").and_then(|t| t.as_str()).unwrap_or("").to_string(),
                ))
            } else {
                None
            };
            rows.push(Row {
                kind,
                target: a.target,
                contact: a.contact,
                email_sha256: a.email_sha256,
                task,
            });
            Ok(())
        })
        .map_err(super::usage_error)?;
    let report = write_dir(dir, targets, &rows)
        .map_err(|e| super::usage_error(format!("cannot write the files in `{}`: {e}", dir.display())))?;
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

pub fn run(args: &ApplyArgs) -> Exit {
    let mut outputs = Outputs { args };
    let mut sink = |_: &[u8], _: &crate::sync::actions::Action| Ok(());
    match sync(&args.sync, Some(&mut outputs), &mut sink) {
        Ok(done) => {
            done.report("apply", "emitted");
            done.exit()
        }
        Err(exit) => exit,
    }
}
