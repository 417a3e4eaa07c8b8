//! Crash safety of `rubric apply`: killed with SIGKILL at many random
//! instants, the state file is always entirely before or entirely after a
//! run, and once the applies are finally let through, state plus outbox
//! equal those of one clean run (nothing lost, nothing duplicated).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::RngExt as _;
use proptest::test_runner::{RngAlgorithm, TestRng};
use serde_json::Value;

const T1: &str = "2026-11-21T00:00:00Z";
const T2: &str = "2026-11-28T00:00:00Z";
const KILLS_PER_STEP: usize = 20;

/// A snapshot of `n` contacts; `week` shifts which contacts exist and how
/// active they are, so that the second snapshot has changes, deletions and
/// new contacts.
pub(crate) fn snapshot(n: usize, week: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        if week == 1 && i % 7 == 3 {
            continue; // deleted in the second week
        }
        let id = if week == 1 && i % 11 == 5 {
            format!("new-{i}")
        } else {
            format!("c-{i}")
        };
        let clicks = (i + week * 3) % 5;
        let mut events: Vec<&str> = vec![r#"{"type":"email_click","at":"2026-11-19T12:00:00Z"}"#; clicks];
        if (i + week).is_multiple_of(3) {
            events.push(
                r#"{"type":"form_submit","at":"2026-11-20T00:00:00Z","props":{"form":"demo_request"}}"#,
            );
        }
        if events.is_empty() {
            events.push(r#"{"type":"page_view","at":"2026-11-18T00:00:00Z","props":{"url":"/pricing"}}"#);
        }
        let events = format!("[{}]", events.join(","));
        text.push_str(&format!(
            r#"{{"id":"{id}","email":"u{i}@acme.io","properties":{{"job_title":"{}","company_size":{},"industry":"Software","country":"{}","owner":{}}},"events":{events}}}"#,
            if i % 2 == 0 { "VP Marketing" } else { "Marketing Manager" },
            (i * 37) % 400,
            ["US", "DE", "FR"][i % 3],
            if i.is_multiple_of(13) { r#""rep""# } else { "null" },
        ));
        text.push('\n');
    }
    text
}

fn apply(state: &Path, contacts: &Path, as_of: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("rubric"));
    cmd.args(["apply", "--rules", "rules", "--as-of", as_of, "--state"])
        .arg(state)
        .arg("--contacts")
        .arg(contacts)
        .arg("--out")
        .arg(state.with_extension("out.jsonl"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// The contacts table, in id order.
fn state_rows(state: &Path) -> Vec<(String, String, String, String, String, Option<String>)> {
    if !state.exists() {
        return Vec::new();
    }
    let conn = rusqlite::Connection::open(state).unwrap();
    let has_table: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'contacts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if has_table == 0 {
        return Vec::new();
    }
    let mut stmt = conn
        .prepare("SELECT id, bands, audiences, workflows, routes, email_sha256 FROM contacts ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Every action in the outbox, in run and emission order, without the id
/// and run number (which depend on how many runs were committed). Also
/// checks that ids are unique.
fn outbox(state: &Path) -> Vec<Value> {
    let conn = rusqlite::Connection::open(state).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, line FROM actions ORDER BY run, seq")
        .unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut ids = std::collections::HashSet::new();
    rows.into_iter()
        .map(|(id, line)| {
            assert!(ids.insert(id.clone()), "action id {id} twice in the outbox");
            let mut v: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["id"], id.as_str());
            let o = v.as_object_mut().unwrap();
            o.remove("id");
            o.remove("run");
            v
        })
        .collect()
}

#[test]
fn apply_killed_at_random_points_ends_like_one_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let s1 = dir.path().join("s1.jsonl");
    let s2 = dir.path().join("s2.jsonl");
    std::fs::write(&s1, snapshot(800, 0)).unwrap();
    std::fs::write(&s2, snapshot(800, 1)).unwrap();
    let steps: [(&PathBuf, &str); 2] = [(&s1, T1), (&s2, T2)];

    // The clean run, timing each step to choose the kill delays.
    let clean = dir.path().join("clean.db");
    let mut clean_states = vec![state_rows(&clean)];
    let mut shortest = Duration::MAX;
    for (contacts, as_of) in steps {
        let started = Instant::now();
        assert!(apply(&clean, contacts, as_of).status().unwrap().success());
        shortest = shortest.min(started.elapsed());
        clean_states.push(state_rows(&clean));
    }
    let clean_outbox = outbox(&clean);
    assert!(clean_outbox.len() > 1000, "the scenario should emit many actions");
    assert_ne!(clean_states[1], clean_states[2]);

    let crashed = dir.path().join("crashed.db");
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[0x5e; 32]);
    // Most kills land while the run is under way; a few after it (the first
    // attempts of a step are slower: they open or create the file).
    // The window adapts: shorter after an attempt that finished, longer after
    // one that was killed, so that the kills spread over the whole run
    // whatever the machine's load.
    let mut max_delay = (shortest.as_micros() as u64).max(1000);
    let mut interrupted = 0;
    for (step, (contacts, as_of)) in steps.into_iter().enumerate() {
        for _ in 0..KILLS_PER_STEP {
            let mut child = apply(&crashed, contacts, as_of).spawn().unwrap();
            std::thread::sleep(Duration::from_micros(rng.random_range(0..max_delay)));
            let _ = child.kill(); // SIGKILL on Unix
            let status = child.wait().unwrap();
            if status.success() {
                max_delay = (max_delay * 3 / 4).max(1000);
            } else {
                interrupted += 1;
                max_delay = max_delay * 21 / 20;
            }
            // Entirely before or entirely after this step, never in between.
            let now = state_rows(&crashed);
            assert!(
                now == clean_states[step] || now == clean_states[step + 1],
                "step {}: the state is neither before nor after the run",
                step + 1
            );
        }
        assert!(apply(&crashed, contacts, as_of).status().unwrap().success());
        assert_eq!(state_rows(&crashed), clean_states[step + 1]);
    }
    assert!(
        interrupted >= KILLS_PER_STEP,
        "too few attempts were killed before they finished: {interrupted}"
    );
    assert_eq!(state_rows(&crashed), clean_states[2]);
    assert_eq!(outbox(&crashed), clean_outbox);
}

/// The two weeks' snapshots of `n` contacts, written into `dir`.
fn two_snapshots(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let (s1, s2) = (dir.join("s1.jsonl"), dir.join("s2.jsonl"));
    std::fs::write(&s1, snapshot(n, 0)).unwrap();
    std::fs::write(&s2, snapshot(n, 1)).unwrap();
    (s1, s2)
}

/// `apply` of `contacts` with both delivery outputs: `--out OUT` and
/// `--out-dir DIR`.
fn apply_delivering(state: &Path, contacts: &Path, as_of: &str, out: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("rubric"));
    cmd.args(["apply", "--rules", "rules", "--as-of", as_of, "--state"])
        .arg(state)
        .arg("--contacts")
        .arg(contacts)
        .arg("--out")
        .arg(out)
        .arg("--out-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// The delivery files: the `--out` file (as `out`) and every `--out-dir`
/// file by name; `None` for a missing one. The temporary files a killed
/// apply can leave (`.NAME.XXXXXX.rubric-tmp`, docs/sync.md) are not
/// deliveries.
fn deliveries(out: &Path, dir: &Path) -> Vec<(String, Option<String>)> {
    let mut files = vec![("out".to_string(), std::fs::read_to_string(out).ok())];
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut names: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !name.ends_with(".rubric-tmp"))
            .collect();
        names.sort();
        for name in names {
            let text = std::fs::read_to_string(dir.join(&name)).ok();
            files.push((name, text));
        }
    }
    files
}

/// Checks that two sets of delivery files are equal, showing only the names
/// and sizes of the ones that differ.
fn assert_same_deliveries(
    actual: &[(String, Option<String>)],
    expected: &[(String, Option<String>)],
    when: &str,
) {
    if actual != expected {
        let show = |files: &[(String, Option<String>)]| -> Vec<String> {
            files
                .iter()
                .filter(|file| !actual.contains(file) || !expected.contains(file))
                .map(|(name, text)| format!("{name}: {:?} bytes", text.as_ref().map(String::len)))
                .collect()
        };
        panic!(
            "{when}: the delivery files differ from a clean run's\nactual: {:?}\nexpected: {:?}",
            show(actual),
            show(expected)
        );
    }
}

/// Removes the delivery files of an earlier attempt.
fn remove_deliveries(out: &Path, dir: &Path) {
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_dir_all(dir);
}

/// The last committed run of a state file and the run its delivery mark
/// names (`meta.delivery_pending`), if any.
fn last_run_and_pending(state: &Path) -> (Option<i64>, Option<i64>) {
    let conn = rusqlite::Connection::open(state).unwrap();
    let last = conn
        .query_row("SELECT max(id) FROM runs", [], |r| r.get::<_, Option<i64>>(0))
        .unwrap();
    let pending = conn
        .query_row("SELECT value FROM meta WHERE key = 'delivery_pending'", [], |r| {
            r.get::<_, String>(0)
        })
        .ok()
        .map(|v| v.parse().unwrap());
    (last, pending)
}

/// Copies a state file (and its write-ahead log, if any) to `to`,
/// replacing whatever `to` held.
fn copy_state(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut target = to.as_os_str().to_owned();
        target.push(suffix);
        let _ = std::fs::remove_file(&target);
        let mut source = from.as_os_str().to_owned();
        source.push(suffix);
        if Path::new(&source).exists() {
            std::fs::copy(&source, &target).unwrap();
        }
    }
}

/// Regression (issue 17, item 3), deterministic: an apply stopped between
/// its commit and the confirmation of its delivery (as a kill there would)
/// is delivered again, identically, by the same command run again, even to
/// fresh paths; the apply after that is a new run.
#[test]
fn an_apply_stopped_after_its_commit_is_delivered_again_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let (s1, s2) = two_snapshots(dir.path(), 120);
    let state = dir.path().join("state.db");
    let (out, out_dir) = (dir.path().join("out.jsonl"), dir.path().join("upload"));
    let run = |contacts: &Path, as_of: &str| {
        let mut cmd = apply_delivering(&state, contacts, as_of, &out, &out_dir);
        cmd.stderr(Stdio::piped());
        cmd
    };
    assert!(run(&s1, T1).status().unwrap().success());

    let stopped = run(&s2, T2)
        .env("RUBRIC_TEST_STOP_AFTER_COMMIT", "1")
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(2));
    assert_eq!(last_run_and_pending(&state), (Some(2), Some(2)));
    let planned = Command::new(assert_cmd::cargo::cargo_bin("rubric"))
        .args(["plan", "--rules", "rules", "--as-of", T2, "--state"])
        .arg(&state)
        .arg("--contacts")
        .arg(&s2)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&planned.stderr);
    assert!(
        stderr.contains("warning: run 2 was committed but its delivery was never confirmed"),
        "{stderr}"
    );
    let delivered = deliveries(&out, &out_dir);
    assert!(delivered[0].1.as_deref().is_some_and(|t| t.lines().count() > 50));
    assert!(delivered.len() > 3, "{delivered:?}");

    // Run again, to fresh paths (as a scheduler naming them by the time
    // would), with the next snapshot even: run 2 is delivered, not run 3.
    remove_deliveries(&out, &out_dir);
    let again = run(&s1, T2).output().unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "run 2 (as of 2026-11-28T00:00:00Z) was committed but its delivery was never confirmed"
        ),
        "{stderr}"
    );
    assert_same_deliveries(&deliveries(&out, &out_dir), &delivered, "after the recovery");
    assert_eq!(last_run_and_pending(&state), (Some(2), None));
    let exported = Command::new(assert_cmd::cargo::cargo_bin("rubric"))
        .args(["actions", "--run", "2", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(
        delivered[0].1.as_deref(),
        Some(&*String::from_utf8_lossy(&exported.stdout))
    );

    // Delivered and confirmed: the same command is now a new run.
    let next = run(&s2, T2).output().unwrap();
    let stderr = String::from_utf8_lossy(&next.stderr);
    assert!(next.status.success(), "{stderr}");
    assert!(stderr.contains("run 3 emitted 0 actions"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "");
}

/// Regression (issue 17, item 3): killed with SIGKILL at random instants of
/// its second run, an apply followed by the same command again ends with
/// delivery files equal to those of a clean run, ids included, whichever
/// side of the commit the kill landed on; a kill after the confirmation
/// finds them already in place. `RUBRIC_KILL_TRIALS` sets the number of
/// trials (default 12).
#[test]
fn apply_killed_at_random_points_leaves_the_delivery_files_of_a_clean_run() {
    let trials: usize = std::env::var("RUBRIC_KILL_TRIALS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(12);
    let dir = tempfile::tempdir().unwrap();
    let (s1, s2) = two_snapshots(dir.path(), 400);
    let base = dir.path().join("base.db");
    let (out, out_dir) = (dir.path().join("out.jsonl"), dir.path().join("upload"));
    assert!(apply_delivering(&base, &s1, T1, &out, &out_dir)
        .status()
        .unwrap()
        .success());

    // The clean second run, from a copy of the same state (same instance,
    // so the same ids).
    let clean = dir.path().join("clean.db");
    copy_state(&base, &clean);
    remove_deliveries(&out, &out_dir);
    let started = Instant::now();
    assert!(apply_delivering(&clean, &s2, T2, &out, &out_dir)
        .status()
        .unwrap()
        .success());
    let duration = started.elapsed();
    let expected = deliveries(&out, &out_dir);
    assert!(expected.len() > 3);

    let trial = dir.path().join("trial.db");
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[0xd1; 32]);
    let max_delay = (duration.as_micros() as u64 * 5 / 4).max(1000);
    // Where the kills landed: before the commit, between the commit and the
    // confirmation, after it.
    let mut landed = [0usize; 3];
    for _ in 0..trials {
        copy_state(&base, &trial);
        remove_deliveries(&out, &out_dir);
        let mut child = apply_delivering(&trial, &s2, T2, &out, &out_dir).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.random_range(0..max_delay)));
        let _ = child.kill();
        child.wait().unwrap();
        match last_run_and_pending(&trial) {
            (Some(2), None) => {
                landed[2] += 1;
                assert_same_deliveries(
                    &deliveries(&out, &out_dir),
                    &expected,
                    "killed after the confirmation",
                );
                continue;
            }
            (Some(2), Some(2)) => landed[1] += 1,
            (Some(1), None) => landed[0] += 1,
            other => panic!("unexpected state after a kill: {other:?}"),
        }
        // The documented recovery: the same command again.
        assert!(apply_delivering(&trial, &s2, T2, &out, &out_dir)
            .status()
            .unwrap()
            .success());
        assert_same_deliveries(&deliveries(&out, &out_dir), &expected, "after the recovery");
        assert_eq!(last_run_and_pending(&trial), (Some(2), None));
    }
    eprintln!(
        "{trials} kills: {} before the commit, {} between the commit and the confirmation, {} after it",
        landed[0], landed[1], landed[2]
    );
}
