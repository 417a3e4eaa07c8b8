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
fn snapshot(n: usize, week: usize) -> String {
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
