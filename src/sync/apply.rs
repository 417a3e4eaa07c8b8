//! The end of an apply, once the driver has stored the actions and the new
//! state in the store's open transaction: log the run, write the actions
//! (`--out` atomically, or a writer such as stdout) and the `--out-dir`
//! files, mark the run's delivery pending, commit; then, once the caller has
//! finished, confirm the delivery. And the other way an apply ends: delivering
//! again the actions of a committed run whose delivery was never confirmed.
//!
//! Architecture Invariant: the outputs are written before the commit
//! (docs/sync.md, docs/decisions.md "Outputs are written before the
//! commit"). Killed before the commit, the state is entirely before the run
//! and the next apply emits the same actions again with the same ids; killed
//! after it but before [`Store::confirm_delivery`], the next apply writes
//! that run's actions again from the outbox ([`redeliver`]); killed after
//! that, everything was in place. Nothing here prints: what the caller
//! reports (rows without an email, errors) is returned as data.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::actions::ActionKind;
use super::destinations::{destination_files, rows_of_run, stage_files, write_dir};
use super::store::{RunRecord, Store};
use crate::atomic_file::AtomicFile;
use crate::plan::Plan;

/// Where an apply writes its actions and files.
pub struct ApplyOutputs<'a, W: Write> {
    /// `--out`: the file the actions (JSON Lines) are written to, atomically;
    /// `None` to write them to `actions_writer`.
    pub actions_file: Option<&'a Path>,
    /// Where the actions go without an `actions_file` (the CLI's stdout);
    /// flushed before the commit.
    pub actions_writer: W,
    /// `--out-dir`: the directory of the files per audience, workflow and route.
    pub destination_dir: Option<&'a Path>,
}

/// What a finished apply has to report.
#[derive(Debug, Default, PartialEq)]
pub struct ApplyFinished {
    /// Per audience: rows of the `--out-dir` files without a usable email
    /// (kept, with an empty hash).
    pub rows_without_email: BTreeMap<String, u64>,
}

/// Where the actions were when the `--out-dir` files failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionsOutput {
    /// `--out FILE` was left as it was.
    FileUnchanged(PathBuf),
    /// `--out FILE` was already renamed into place: it holds the actions of
    /// the run that was not applied.
    FileWritten(PathBuf),
    /// The actions were written to the actions writer (stdout).
    Written,
}

/// Why an apply stopped before or at its commit. The transaction is still
/// open (the caller rolls it back), except after [`ApplyError::Commit`].
#[derive(Debug)]
pub enum ApplyError {
    /// Reading or writing the store failed (logging the run, reading the
    /// actions back).
    Store(String),
    /// The `--out` file could not be written; nothing was applied and no
    /// file was changed.
    ActionsFile { path: PathBuf, error: std::io::Error },
    /// The actions writer failed; nothing was applied.
    ActionsWriter(std::io::Error),
    /// The `--out-dir` files could not be written; nothing was applied.
    /// `actions` says where the actions are.
    DestinationDir {
        dir: PathBuf,
        error: std::io::Error,
        actions: ActionsOutput,
    },
    /// Every output was written, but the commit failed: the next apply emits
    /// the same actions again with the same ids.
    Commit(String),
}

/// Logs `record` (the run whose actions are in `store`'s open transaction),
/// writes the outputs, marks the run's delivery pending, then commits.
/// `plan` lists the targets whose `--out-dir` files are written even when
/// they have no rows. The caller confirms the delivery
/// ([`Store::confirm_delivery`]) once it is done with the run, last.
pub fn finish_apply<W: Write>(
    store: &mut Store,
    record: &RunRecord,
    plan: &Plan,
    outputs: ApplyOutputs<'_, W>,
) -> Result<ApplyFinished, ApplyError> {
    store.add_run(record).map_err(ApplyError::Store)?;
    let finished = deliver(store, record.id, &destination_targets(plan), outputs)?;
    store.set_delivery_pending(record.id).map_err(ApplyError::Store)?;
    store.commit().map_err(ApplyError::Commit)?;
    Ok(finished)
}

/// Delivers again the actions of `run`, a committed run whose delivery was
/// never confirmed (the apply was killed after its commit), from the outbox
/// to `outputs`, then confirms the delivery and commits, in the store's
/// open write transaction. The `--out-dir` files are those of every target
/// `plan` declares and every target the run's actions name.
pub fn redeliver<W: Write>(
    store: &mut Store,
    run: i64,
    plan: &Plan,
    outputs: ApplyOutputs<'_, W>,
) -> Result<ApplyFinished, ApplyError> {
    let mut targets = destination_targets(plan);
    for target in targets_of_run(store, run)? {
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    let finished = deliver(store, run, &targets, outputs)?;
    store.confirm_delivery(run).map_err(ApplyError::Store)?;
    store.commit().map_err(ApplyError::Commit)?;
    Ok(finished)
}

/// Writes the stored actions of `run` and its `--out-dir` files. The `--out`
/// file and every `--out-dir` file are first written in full to temporary
/// files and synced, and only then renamed into place, `--out` first: a
/// full disk stops the apply before any of them has changed.
fn deliver<W: Write>(
    store: &Store,
    run: i64,
    targets: &[(ActionKind, String)],
    outputs: ApplyOutputs<'_, W>,
) -> Result<ApplyFinished, ApplyError> {
    let mut staged_actions = None;
    match outputs.actions_file {
        Some(path) => {
            let fail = |error: std::io::Error| ApplyError::ActionsFile {
                path: path.to_path_buf(),
                error,
            };
            let mut file = AtomicFile::create(path).map_err(fail)?;
            let written = write_actions(store, run, |bytes| file.write_all(bytes))?;
            written.and_then(|()| file.sync()).map_err(fail)?;
            staged_actions = Some((path, file));
        }
        None => {
            let mut writer = outputs.actions_writer;
            let written = write_actions(store, run, |bytes| writer.write_all(bytes))?;
            written
                .and_then(|()| writer.flush())
                .map_err(ApplyError::ActionsWriter)?;
        }
    }
    let mut finished = ApplyFinished::default();
    let mut staged_files = Vec::new();
    if let Some(dir) = outputs.destination_dir {
        let rows = rows_of_run(store, run).map_err(ApplyError::Store)?;
        let files = destination_files(targets, &rows);
        finished.rows_without_email = files.without_email;
        let actions = match &staged_actions {
            Some((path, _)) => ActionsOutput::FileUnchanged(path.to_path_buf()),
            None => ActionsOutput::Written,
        };
        staged_files = stage_files(dir, &files.files).map_err(|error| ApplyError::DestinationDir {
            dir: dir.to_path_buf(),
            error,
            actions,
        })?;
    }
    let mut actions = ActionsOutput::Written;
    if let Some((path, file)) = staged_actions {
        file.persist().map_err(|error| ApplyError::ActionsFile {
            path: path.to_path_buf(),
            error,
        })?;
        actions = ActionsOutput::FileWritten(path.to_path_buf());
    }
    if let Some(dir) = outputs.destination_dir {
        for file in staged_files {
            file.persist().map_err(|error| ApplyError::DestinationDir {
                dir: dir.to_path_buf(),
                error,
                actions: actions.clone(),
            })?;
        }
    }
    Ok(finished)
}

/// Writes the stored actions of `run`, one line each, through `write`; the
/// outer error is the store's, the inner the first write error (after which
/// nothing more is written).
fn write_actions(
    store: &Store,
    run: i64,
    mut write: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<std::io::Result<()>, ApplyError> {
    let mut written = Ok(());
    store
        .actions_of(run, |action| {
            if written.is_ok() {
                written = write(action.line.as_bytes()).and_then(|()| write(b"\n"));
            }
            Ok(())
        })
        .map_err(ApplyError::Store)?;
    Ok(written)
}

/// Every audience, workflow and route of `plan`: the `--out-dir` files an
/// apply writes, with rows or not.
pub fn destination_targets(plan: &Plan) -> Vec<(ActionKind, String)> {
    let audiences = plan
        .audiences
        .iter()
        .map(|t| (ActionKind::AudienceAdd, t.name.clone()));
    let workflows = plan
        .workflows
        .iter()
        .map(|t| (ActionKind::WorkflowEnroll, t.name.clone()));
    let routes = plan
        .routes
        .iter()
        .map(|r| (ActionKind::TaskCreate, r.name.clone()));
    audiences.chain(workflows).chain(routes).collect()
}

/// The targets that the stored actions of `run` name, in first-seen order
/// (`rubric actions --out-dir`, which has no plan).
pub fn targets_of_run(store: &Store, run: i64) -> Result<Vec<(ActionKind, String)>, ApplyError> {
    let mut targets: Vec<(ActionKind, String)> = Vec::new();
    store
        .actions_of(run, |a| {
            if let Some(kind) = ActionKind::from_name(&a.action) {
                if !targets.iter().any(|(k, t)| *k == kind && *t == a.target) {
                    targets.push((kind, a.target));
                }
            }
            Ok(())
        })
        .map_err(ApplyError::Store)?;
    Ok(targets)
}

/// Writes the `--out-dir` files of one run from its stored actions
/// (`rubric actions --out-dir`); per audience, the rows without a usable
/// email.
pub fn write_destination_files(
    store: &Store,
    run: i64,
    dir: &Path,
    targets: &[(ActionKind, String)],
) -> Result<BTreeMap<String, u64>, ApplyError> {
    let rows = rows_of_run(store, run).map_err(ApplyError::Store)?;
    let files = destination_files(targets, &rows);
    write_dir(dir, &files.files).map_err(|error| ApplyError::DestinationDir {
        dir: dir.to_path_buf(),
        error,
        actions: ActionsOutput::Written,
    })?;
    Ok(files.without_email)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::source::{SourceFile, Sources};

    const WAIT: Duration = Duration::from_millis(100);

    const RULES: &str = r#"
score fit 0..100 {
  "size" when company_size >= 200 => +60
}

band tier {
  big   when fit >= 50
  small otherwise
}

audience ads_big when tier is big
"#;

    fn plan() -> Plan {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("rules.rubric", RULES));
        crate::compile::compile(&sources).unwrap().plan
    }

    fn record(id: i64) -> RunRecord {
        RunRecord {
            id,
            applied_at: "2026-11-30T00:00:00Z".into(),
            as_of: "2026-11-28T00:00:00Z".into(),
            as_of_micros: 0,
            rules: "digest".into(),
            snapshot: "contacts.jsonl".into(),
            mode: "full".into(),
            contacts: 2,
            rejected: 0,
            actions: 2,
            dropped: 0,
        }
    }

    /// A state file in a write transaction holding two `audience_add`
    /// actions of run 1, one of them without an email.
    fn store_with_actions(dir: &Path) -> (PathBuf, Store) {
        let path = dir.join("state.db");
        let mut store = Store::open(&path, WAIT).unwrap();
        store.begin(WAIT).unwrap();
        for (seq, (contact, email)) in [("a", Some("ab12")), ("b", None)].into_iter().enumerate() {
            let line = format!(r#"{{"contact":"{contact}","action":"audience_add"}}"#);
            let seq = i64::try_from(seq).unwrap();
            let id = format!("id-{contact}");
            store
                .add_action(1, seq, &id, contact, "audience_add", "ads_big", email, &line)
                .unwrap();
        }
        (path, store)
    }

    #[test]
    fn apply_writes_the_actions_and_the_files_then_commits_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut store) = store_with_actions(dir.path());
        let out_dir = dir.path().join("out");
        let mut stdout = Vec::new();
        let finished = finish_apply(
            &mut store,
            &record(1),
            &plan(),
            ApplyOutputs {
                actions_file: None,
                actions_writer: &mut stdout,
                destination_dir: Some(&out_dir),
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(stdout).unwrap(),
            "{\"contact\":\"a\",\"action\":\"audience_add\"}\n{\"contact\":\"b\",\"action\":\"audience_add\"}\n"
        );
        assert_eq!(
            finished.rows_without_email,
            BTreeMap::from([("ads_big".to_string(), 1)])
        );
        let audience = std::fs::read_to_string(out_dir.join("audience-ads_big.csv")).unwrap();
        assert!(audience.contains("add,a,ab12"), "{audience}");
        drop(store);
        let reopened = Store::open_existing(&path, WAIT).unwrap().unwrap();
        assert_eq!(reopened.run(1).unwrap(), Some(record(1)));
    }

    #[test]
    fn an_unwritable_out_file_stops_the_apply_before_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut store) = store_with_actions(dir.path());
        let out = dir.path().join("missing").join("actions.jsonl");
        let error = finish_apply(
            &mut store,
            &record(1),
            &plan(),
            ApplyOutputs {
                actions_file: Some(&out),
                actions_writer: std::io::sink(),
                destination_dir: None,
            },
        )
        .unwrap_err();
        assert!(
            matches!(&error, ApplyError::ActionsFile { path, .. } if *path == out),
            "{error:?}"
        );
        store.rollback();
        drop(store);
        let reopened = Store::open_existing(&path, WAIT).unwrap().unwrap();
        assert_eq!(reopened.run(1).unwrap(), None);
        let mut actions = 0;
        reopened
            .actions_of(1, |_| {
                actions += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(actions, 0);
    }

    /// Regression (issue 17, item 3): a run committed but never confirmed
    /// is delivered again from the outbox, to any paths, then confirmed.
    #[test]
    fn a_committed_run_is_pending_until_confirmed_and_can_be_delivered_again() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut store) = store_with_actions(dir.path());
        let (out, out_dir) = (dir.path().join("a.jsonl"), dir.path().join("a"));
        let outputs = |out, out_dir| ApplyOutputs {
            actions_file: Some(out),
            actions_writer: std::io::sink(),
            destination_dir: Some(out_dir),
        };
        finish_apply(&mut store, &record(1), &plan(), outputs(&out, &out_dir)).unwrap();
        // Killed here: the run is committed, its delivery not confirmed.
        drop(store);
        let mut store = Store::open(&path, WAIT).unwrap();
        assert_eq!(store.delivery_pending().unwrap(), Some(1));
        let (again, again_dir) = (dir.path().join("b.jsonl"), dir.path().join("b"));
        store.begin(WAIT).unwrap();
        redeliver(&mut store, 1, &plan(), outputs(&again, &again_dir)).unwrap();
        assert_eq!(store.delivery_pending().unwrap(), None);
        let read = |path: &Path| std::fs::read_to_string(path).unwrap();
        assert_eq!(read(&again), read(&out));
        let audience = "audience-ads_big.csv";
        assert_eq!(read(&again_dir.join(audience)), read(&out_dir.join(audience)));
        assert_eq!(std::fs::read_dir(&again_dir).unwrap().count(), 1);
    }

    /// Regression (issue 17, item 11): when the `--out-dir` files cannot be
    /// written, the `--out` file is left as it was (every output is staged
    /// before any is renamed) and no temporary file remains.
    #[test]
    fn a_failing_out_dir_leaves_the_out_file_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let (_path, mut store) = store_with_actions(dir.path());
        let out = dir.path().join("actions.jsonl");
        std::fs::write(&out, "earlier\n").unwrap();
        let not_a_dir = dir.path().join("upload");
        std::fs::write(&not_a_dir, "a file").unwrap();
        let error = finish_apply(
            &mut store,
            &record(1),
            &plan(),
            ApplyOutputs {
                actions_file: Some(&out),
                actions_writer: std::io::sink(),
                destination_dir: Some(&not_a_dir),
            },
        )
        .unwrap_err();
        assert!(
            matches!(&error, ApplyError::DestinationDir { actions: ActionsOutput::FileUnchanged(p), .. } if *p == out),
            "{error:?}"
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "earlier\n");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with("state.db"))
            .collect();
        names.sort();
        assert_eq!(names, ["actions.jsonl", "upload"]);
    }

    #[test]
    fn the_targets_of_a_plan_are_its_audiences_workflows_and_routes() {
        assert_eq!(
            destination_targets(&plan()),
            vec![(ActionKind::AudienceAdd, "ads_big".to_string())]
        );
    }
}
