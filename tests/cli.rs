//! The real binary: exit codes (SPEC §7), bad-line handling (SPEC §2), input
//! formats, output formats, colour and help.

use std::io::Write as _;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::common::AS_OF;

use crate::common::rubric;

fn run_on(contacts: &std::path::Path) -> Command {
    let mut cmd = rubric();
    cmd.args(["run", "--rules", "rules", "--as-of", AS_OF, "--contacts"])
        .arg(contacts);
    cmd
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn example_lines() -> Vec<String> {
    std::fs::read_to_string("examples/contacts.jsonl")
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn expected_lines() -> Vec<String> {
    std::fs::read_to_string("examples/expected.jsonl")
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn check_accepts_the_playbook() {
    rubric()
        .args(["check", "rules"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "ok: 6 files; 2 scores, 2 bands, 1 segment, 6 suppressions, 3 audiences, 3 workflows, 1 route, 2 goals",
        ));
}

/// Lookup tables and declared channels are counted only when there are
/// some, so a rule set without them keeps its summary line.
#[test]
fn check_counts_lookup_tables_when_there_are_some() {
    rubric()
        .args(["check", "tests/corpus/ok/routing.rubric"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "ok: 1 file; 0 scores, 0 bands, 0 segments, 0 suppressions, 0 audiences, 0 workflows, 3 routes, 2 tables; 0 warnings",
        ));
}

#[test]
fn check_reports_errors_with_exit_1_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "bad.rubric",
        "score fit 0..100 { \"x\" when company_size >= 10 => +1 }\nband b {\n  hot when fit >= 50\n}\naudience a when b is hott\n",
    );
    let out = rubric()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["errors"], 2);
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["rubric::missing_otherwise", "rubric::unknown_band_value"]);
    let hott = &report["diagnostics"][1];
    assert_eq!(
        (hott["line"].as_u64(), hott["column"].as_u64()),
        (Some(5), Some(22))
    );
    assert!(hott["help"].as_str().unwrap().contains("did you mean `hot`?"));
}

#[test]
fn check_human_output_has_no_colour_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.rubric", "band b { x when y > 1 }\n");
    rubric()
        .arg("check")
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rubric::missing_otherwise"))
        .stderr(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn check_colour_can_be_forced_but_never_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "bad.rubric", "band b { x when y > 1 }\n");
    rubric()
        .args(["check", "--color", "always"])
        .arg(&path)
        .assert()
        .stderr(predicate::str::contains("\u{1b}["));
    rubric()
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(&path)
        .assert()
        .stderr(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn missing_rules_path_is_a_usage_error() {
    rubric()
        .args(["check", "no/such/dir"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read `no/such/dir`"));
}

#[test]
fn bad_arguments_are_usage_errors() {
    rubric().args(["run", "--rules", "rules"]).assert().code(2);
    rubric()
        .args([
            "run",
            "--rules",
            "rules",
            "--contacts",
            "examples/contacts.jsonl",
            "--as-of",
            "yesterday",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`--as-of yesterday` is not an RFC 3339 timestamp",
        ));
    rubric().args(["frobnicate"]).assert().code(2);
}

#[test]
fn every_command_has_help() {
    for args in [vec!["--help"], vec!["check", "--help"], vec!["run", "--help"]] {
        rubric()
            .args(&args)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Usage: rubric"));
    }
}

#[test]
fn run_with_broken_rules_exits_1_and_prints_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(&dir, "bad.rubric", "score s 100..0 { }\n");
    rubric()
        .args([
            "run",
            "--as-of",
            AS_OF,
            "--contacts",
            "examples/contacts.jsonl",
            "--rules",
        ])
        .arg(&rules)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("rubric::inverted_range"));
}

#[test]
fn bad_lines_are_reported_skipped_counted_and_exit_3() {
    let lines = example_lines();
    let expected = expected_lines();
    let input = [
        lines[0].as_str(),
        "{not json",
        "",
        r#"{"email":"x@y.z"}"#,
        lines[0].as_str(), // a repeated id
        r#"{"id":"c-9","events":[{"type":"page_view","at":"2026-11-20T10:00:00"}]}"#,
        r#"{"id":"c-7","properties":[1]}"#,
        lines[1].as_str(),
    ]
    .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "in.jsonl", &input);
    let rejects = dir.path().join("rejects.jsonl");
    run_on(&path)
        .arg("--rejects")
        .arg(&rejects)
        .assert()
        .code(3)
        .stdout(format!("{}\n{}\n", expected[0], expected[1]))
        .stderr(predicate::str::contains("rejected line 2: not valid JSON"))
        .stderr(predicate::str::contains("rejected line 4: missing \"id\""))
        .stderr(predicate::str::contains(
            "rejected line 5: id `c-2001` repeats an earlier line",
        ))
        .stderr(predicate::str::contains("rejected line 6: event 1"))
        .stderr(predicate::str::contains(
            "rejected line 7: \"properties\" must be an object",
        ))
        .stderr(predicate::str::contains(
            "2 contacts evaluated as of 2026-11-28T00:00:00Z; 5 lines rejected",
        ));
    let kept: Vec<serde_json::Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let numbers: Vec<u64> = kept.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [2, 4, 5, 6, 7]);
}

#[test]
fn a_rejected_line_does_not_claim_its_id() {
    let lines = example_lines();
    let broken = r#"{"id":"c-2001","events":"nope"}"#;
    let input = format!("{broken}\n{}\n", lines[0]);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "in.jsonl", &input);
    run_on(&path)
        .assert()
        .code(3)
        .stdout(format!("{}\n", expected_lines()[0]));
}

#[test]
fn strict_stops_at_the_first_bad_line() {
    let lines = example_lines();
    let input = format!("{}\n{{oops\n{}\n", lines[0], lines[1]);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "in.jsonl", &input);
    run_on(&path)
        .arg("--strict")
        .assert()
        .code(3)
        .stdout(format!("{}\n", expected_lines()[0]))
        .stderr(predicate::str::contains("rejected line 2"))
        .stderr(predicate::str::contains("stopped at the first rejected line"));
}

#[test]
fn reads_gzip_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("contacts.jsonl.gz");
    let mut encoder =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    encoder
        .write_all(&std::fs::read("examples/contacts.jsonl").unwrap())
        .unwrap();
    encoder.finish().unwrap();
    let expected = std::fs::read_to_string("examples/expected.jsonl").unwrap();
    run_on(&gz).assert().code(0).stdout(expected.clone());
    rubric()
        .args(["run", "--rules", "rules", "--as-of", AS_OF, "--contacts", "-"])
        .pipe_stdin("examples/contacts.jsonl")
        .unwrap()
        .assert()
        .code(0)
        .stdout(expected.clone());
    // Regression: gzip on standard input was read as text, every line "not valid UTF-8".
    rubric()
        .args(["run", "--rules", "rules", "--as-of", AS_OF, "--contacts", "-"])
        .pipe_stdin(&gz)
        .unwrap()
        .assert()
        .code(0)
        .stdout(expected);
}

#[test]
fn reads_csv_for_property_only_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        &dir,
        "fit.rubric",
        "score fit 0..100 {\n  \"size\" when company_size >= 200 => +25\n  \"free\" when domain(email) in [\"gmail.com\"] => -30\n}\n",
    );
    let csv = write(
        &dir,
        "contacts.csv",
        "id,email,company_size\na,a@acme.io,250\nb,b@gmail.com,300\nc,c@x.io,\nd\n",
    );
    rubric()
        .args(["run", "--as-of", AS_OF, "--rules"])
        .arg(&rules)
        .arg("--contacts")
        .arg(&csv)
        .assert()
        .code(3)
        .stdout(
            "{\"id\":\"a\",\"scores\":{\"fit\":25},\"bands\":{},\"suppressed\":[],\"audiences\":[],\"workflows\":[],\"routes\":[]}\n\
             {\"id\":\"b\",\"scores\":{\"fit\":0},\"bands\":{},\"suppressed\":[],\"audiences\":[],\"workflows\":[],\"routes\":[]}\n\
             {\"id\":\"c\",\"scores\":{\"fit\":0},\"bands\":{},\"suppressed\":[],\"audiences\":[],\"workflows\":[],\"routes\":[]}\n",
        )
        .stderr(predicate::str::contains("rejected line 5: row has 1 fields, the header has 3"));
}

#[test]
fn table_format_is_aligned_for_people() {
    let out = rubric()
        .args(["run", "--rules", "rules", "--as-of", AS_OF, "--format", "table"])
        .args(["--contacts", "examples/contacts.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 14);
    assert!(lines[0].starts_with("id  "));
    assert!(lines[0].contains("fit") && lines[0].contains("readiness") && lines[0].contains("routes"));
    assert!(lines[2].starts_with("c-2001"));
    assert!(lines[2].contains("route_hot_lead→na_sales"));
}

#[test]
fn missing_contacts_file_is_a_usage_error() {
    rubric()
        .args([
            "run",
            "--rules",
            "rules",
            "--contacts",
            "nope.jsonl",
            "--as-of",
            AS_OF,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read `nope.jsonl`"));
}
