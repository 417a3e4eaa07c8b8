//! Golden tests: the shipped playbook on the shipped examples equals the
//! expected results, through the library and through the binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

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
    // Enough contacts to span several parallel chunks.
    let base = std::fs::read_to_string("examples/contacts.jsonl").unwrap();
    let mut big = String::new();
    for copy in 0..300 {
        for line in base.lines() {
            big.push_str(&line.replacen("\"id\":\"c-", &format!("\"id\":\"k{copy}-c-"), 1));
            big.push('\n');
        }
    }
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
            .stdout
    };
    let one = run("1");
    let two = run("2");
    assert_eq!(one.iter().filter(|b| **b == b'\n').count(), 3600);
    assert_eq!(one, two);
    // Input order is kept.
    let first_ids: Vec<String> = String::from_utf8(one)
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
