//! Golden tests: the shipped playbook on the shipped examples equals the
//! expected results, through the library and through the binary.

use std::path::Path;

use rubric::eval::evaluate;
use rubric::snapshot::decode_line;
use rubric::source::Sources;

#[test]
fn playbook_on_examples_equals_expected_through_the_library() {
    let sources = Sources::load(Path::new("rules")).unwrap();
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let as_of = rubric::snapshot::parse_timestamp("2026-11-28T00:00:00Z").unwrap();
    let input = std::fs::read_to_string("examples/contacts.jsonl").unwrap();
    let mut out = Vec::new();
    for line in input.lines() {
        let contact = decode_line(&plan.decode, line).unwrap().unwrap();
        let outcome = evaluate(&plan, &contact, as_of);
        rubric::output::write_result(&mut out, &plan, &contact.id, &outcome);
    }
    let expected = std::fs::read_to_string("examples/expected.jsonl").unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn playbook_on_examples_equals_expected_through_the_binary() {
    let expected = std::fs::read_to_string("examples/expected.jsonl").unwrap();
    assert_cmd::Command::cargo_bin("rubric")
        .unwrap()
        .args(["run", "--rules", "rules", "--contacts", "examples/contacts.jsonl"])
        .args(["--as-of", "2026-11-28T00:00:00Z"])
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn results_do_not_depend_on_thread_count() {
    // Enough contacts to span several 1 MiB blocks (about 5 MB), with bad
    // lines and repeated ids in different blocks.
    let base = std::fs::read_to_string("examples/contacts.jsonl").unwrap();
    let mut big = String::new();
    let (mut contacts, mut bad, mut repeats) = (0, 0, 0);
    for copy in 0..1000 {
        for line in base.lines() {
            big.push_str(&line.replacen("\"id\":\"c-", &format!("\"id\":\"k{copy}-c-"), 1));
            big.push('\n');
            contacts += 1;
        }
        if copy % 97 == 5 {
            big.push_str("{\"id\": \"broken\n");
            bad += 1;
        }
        if copy % 89 == 7 {
            // The first line of copy 3 again: a repeated id, far from the first.
            big.push_str(
                &base
                    .lines()
                    .next()
                    .unwrap()
                    .replacen("\"id\":\"c-", "\"id\":\"k3-c-", 1),
            );
            big.push('\n');
            repeats += 1;
        }
    }
    assert!(big.len() > 4 << 20, "several blocks: {} bytes", big.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    std::fs::write(&path, &big).unwrap();
    let run = |threads: &str| {
        assert_cmd::Command::cargo_bin("rubric")
            .unwrap()
            .args([
                "run",
                "--rules",
                "rules",
                "--as-of",
                "2026-11-28T00:00:00Z",
                "--threads",
                threads,
            ])
            .arg("--contacts")
            .arg(&path)
            .output()
            .unwrap()
    };
    let one = run("1");
    assert_eq!(one.status.code(), Some(3), "rejected lines exit with 3");
    let stderr = String::from_utf8(one.stderr.clone()).unwrap();
    let rejected: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("rejected line"))
        .collect();
    assert_eq!(rejected.len(), bad + repeats);
    assert_eq!(
        rejected
            .iter()
            .filter(|l| l.contains("repeats an earlier line"))
            .count(),
        repeats
    );
    assert_eq!(one.stdout.iter().filter(|b| **b == b'\n').count(), contacts);
    for threads in ["2", "3"] {
        let other = run(threads);
        assert_eq!(other.status.code(), Some(3), "{threads} threads");
        assert!(
            other.stdout == one.stdout,
            "stdout with {threads} threads differs from 1 thread"
        );
        assert_eq!(
            String::from_utf8(other.stderr).unwrap(),
            stderr,
            "{threads} threads"
        );
    }
    // Input order is kept.
    let first_ids: Vec<String> = String::from_utf8(one.stdout)
        .unwrap()
        .lines()
        .take(13)
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(first_ids[0], "k0-c-2001");
    assert_eq!(first_ids[12], "k1-c-2001");
}
