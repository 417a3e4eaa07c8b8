//! The conventions users expect of a command-line tool, on the real binary:
//! shell completions and man pages, `fmt` on stdin and line endings, `test
//! --filter` and `--coverage`, `diff --exit-code`, and the defects found by a
//! new user (issue 11): JUnit XML with forbidden characters, failure headers
//! without their line, tables with wide characters, help citing a missing
//! SPEC.md.

use std::path::{Path, PathBuf};

use crate::common::{rubric, AS_OF};

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Copies the `.rubric` files of `rules/` to `dir/name`.
fn copy_rules(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir("rules").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rubric") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    to
}

// ------------------------------------------------------------ completions, man

#[test]
fn completions_are_printed_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = rubric().args(["completions", shell]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{shell}: {}", stderr_of(&output));
        let script = stdout_of(&output);
        for word in ["rubric", "explain", "contacts", "exit-code", "coverage"] {
            assert!(script.contains(word), "{shell} completions lack `{word}`");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let output = rubric().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("possible values: bash, elvish, fish, powershell, zsh"));
}

#[test]
fn man_prints_the_page_of_rubric_and_of_each_command() {
    let output = rubric().arg("man").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let page = stdout_of(&output);
    assert!(page.contains(".TH rubric 1"), "{page}");
    assert!(page.contains("rubric\\-diff(1)"), "{page}");
    let output = rubric().args(["man", "diff"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let page = stdout_of(&output);
    assert!(page.contains(".TH rubric-diff 1"), "{page}");
    assert!(page.contains("\\-\\-exit\\-code"), "{page}");
    let output = rubric().args(["man", "frobnicate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("`frobnicate` is not a rubric command"));
}

// ------------------------------------------------------------------------ fmt

const MESSY: &str = "const a=\"x\"   # trailing\nsegment   s when a == \"x\"\n";
const FORMATTED: &str = "const a = \"x\"  # trailing\nsegment s when a == \"x\"\n";

#[test]
fn fmt_dash_formats_stdin_to_stdout() {
    let output = rubric().args(["fmt", "-"]).write_stdin(MESSY).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output), FORMATTED);
}

#[test]
fn fmt_dash_keeps_crlf() {
    let output = rubric()
        .args(["fmt", "-"])
        .write_stdin(MESSY.replace('\n', "\r\n"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_of(&output), FORMATTED.replace('\n', "\r\n"));
}

#[test]
fn fmt_check_dash_exits_1_with_a_diff_when_stdin_is_not_formatted() {
    let output = rubric()
        .args(["fmt", "--check", "-"])
        .write_stdin(MESSY)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let diff = stdout_of(&output);
    assert!(diff.starts_with("--- <stdin>\n+++ <stdin>\n"), "{diff}");
    assert!(diff.contains("+segment s when a == \"x\"\n"), "{diff}");
    assert!(stderr_of(&output).contains("<stdin> would be reformatted"));

    let output = rubric()
        .args(["fmt", "--check", "-"])
        .write_stdin(FORMATTED)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_of(&output), "");
}

#[test]
fn fmt_dash_writes_nothing_on_a_syntax_error() {
    let output = rubric()
        .args(["fmt", "-", "--color", "never"])
        .write_stdin("segment s when\n")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_of(&output), "");
    assert!(stderr_of(&output).contains("<stdin>"), "{}", stderr_of(&output));
}

#[test]
fn fmt_keeps_a_crlf_file_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.rubric", &MESSY.replace('\n', "\r\n"));
    let output = rubric().arg("fmt").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        FORMATTED.replace('\n', "\r\n")
    );
    // Formatting again changes nothing.
    let output = rubric().args(["fmt", "--check"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn fmt_check_says_when_only_line_endings_differ() {
    let dir = tempfile::tempdir().unwrap();
    // Two CRLF lines and one LF line: CRLF wins.
    let mixed = "# one\r\n# two\r\nsegment s when true\n";
    let file = write(dir.path(), "a.rubric", mixed);
    let output = rubric().args(["fmt", "--check"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = stdout_of(&output);
    assert!(
        report.ends_with(
            "a.rubric: only line endings would change (1 line ends in LF, 2 in CRLF; all would end in CRLF)\n"
        ),
        "{report}"
    );
    assert!(!report.contains("@@"), "{report}");
    let output = rubric().arg("fmt").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# one\r\n# two\r\nsegment s when true\r\n"
    );
}

// ----------------------------------------------------------------------- test

#[test]
fn test_filter_runs_matching_cases_and_counts_the_rest() {
    let output = rubric()
        .args(["test", "rules", "--filter", "hot"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout_of(&output));
    let text = stdout_of(&output);
    assert!(
        text.contains("running 5 tests from rules/playbook.test.yaml"),
        "{text}"
    );
    assert!(
        text.ends_with("test result: ok. 5 passed, 0 failed; 33 filtered out\n"),
        "{text}"
    );
    assert!(!text.contains("manager"), "{text}");
}

#[test]
fn test_coverage_lists_what_no_case_exercised() {
    let output = rubric().args(["test", "rules", "--coverage"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stdout_of(&output);
    assert!(
        text.ends_with(
            "\ncoverage: 38 of 38 rules, rows, segments, branches, suppressions and targets exercised (100.0%)\n"
        ),
        "{text}"
    );
    let output = rubric()
        .args(["test", "rules", "--coverage", "--filter", "hot"])
        .output()
        .unwrap();
    let text = stdout_of(&output);
    assert!(text.contains("coverage: 18 of 38 "), "{text}");
    assert!(
        text.contains("  rules/20-bands.rubric:7          band readiness, branch cold\n"),
        "{text}"
    );
    assert!(
        text.contains("  rules/30-suppressions.rubric:5   suppression customer\n"),
        "{text}"
    );
}

#[test]
fn test_coverage_goes_to_stderr_with_junit() {
    let output = rubric()
        .args([
            "test",
            "rules",
            "--coverage",
            "--format",
            "junit",
            "--filter",
            "hot",
        ])
        .output()
        .unwrap();
    assert!(stdout_of(&output).ends_with("</testsuites>\n"));
    assert!(stderr_of(&output).contains("coverage: 18 of 38 "));
}

/// A rule set whose test file has cases with `name` not first, a failing
/// case, and a name holding a character XML 1.0 forbids.
fn rules_with_tests(dir: &Path) -> PathBuf {
    let rules = copy_rules(dir, "rules");
    write(
        &rules,
        "more.test.yaml",
        "as_of: 2026-11-28T00:00:00Z\n\
         cases:\n\
         \x20 - name: passes\n\
         \x20   contact: { properties: { job_title: VP Marketing } }\n\
         \x20   expect: { scores: { fit: 30 } }\n\
         \x20 - contact: { properties: { job_title: VP Marketing } }\n\
         \x20   expect: { scores: { fit: 99 } }\n\
         \x20   name: fails with its name last\n\
         \x20 - name: \"bell \\a in the name\"\n\
         \x20   contact: { properties: { job_title: VP Marketing } }\n\
         \x20   expect: { scores: { fit: 98 } }\n",
    );
    rules
}

#[test]
fn a_failure_header_keeps_its_line_when_name_is_not_first() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_with_tests(dir.path());
    let file = rules.join("more.test.yaml");
    let output = rubric().arg("test").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stdout_of(&output);
    let header = format!("---- fails with its name last ({}:6) ----", file.display());
    assert!(text.contains(&header), "{header} not in:\n{text}");
}

#[test]
fn junit_xml_replaces_characters_xml_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_with_tests(dir.path());
    let output = rubric()
        .arg("test")
        .arg(rules.join("more.test.yaml"))
        .args(["--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout_of(&output);
    assert!(!xml.contains('\u{7}'), "{xml:?}");
    assert!(
        xml.contains("<testcase name=\"bell \u{FFFD} in the name\""),
        "{xml}"
    );
    assert!(xml.chars().all(|c| c == '\n' || c == '\t' || c >= ' '), "{xml:?}");
}

// ---------------------------------------------------------------------- table

#[test]
fn the_table_aligns_wide_characters() {
    let dir = tempfile::tempdir().unwrap();
    let contacts = write(
        dir.path(),
        "contacts.jsonl",
        "{\"id\":\"c-東京支社-1\",\"properties\":{\"job_title\":\"VP Marketing\"}}\n{\"id\":\"c-2\"}\n",
    );
    let output = rubric()
        .args([
            "run",
            "--rules",
            "rules",
            "--as-of",
            AS_OF,
            "--format",
            "table",
            "--contacts",
        ])
        .arg(&contacts)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let table = stdout_of(&output);
    // Where the second column (`fit`) starts, in terminal columns, on each line.
    let starts: Vec<usize> = table
        .lines()
        .map(|line| {
            let first_cell_end = line.find("  ").unwrap();
            let rest = &line[first_cell_end..];
            let second = first_cell_end + rest.len() - rest.trim_start().len();
            rubric::output::display_width(&line[..second])
        })
        .collect();
    assert_eq!(starts.len(), 4, "{table}");
    assert!(starts.iter().all(|&s| s == starts[0]), "{starts:?}\n{table}");
}

// ----------------------------------------------------------------------- diff

/// `rules/` and `rules-new/` (the hot threshold raised) and the example
/// contacts, in one directory.
fn diff_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_rules(dir.path(), "rules");
    let new = copy_rules(dir.path(), "rules-new");
    let bands = new.join("20-bands.rubric");
    let text = std::fs::read_to_string(&bands).unwrap();
    let changed = text.replace(
        "hot  when fit >= 50 and intent >= 50",
        "hot  when fit >= 50 and intent >= 55",
    );
    assert_ne!(text, changed);
    std::fs::write(&bands, changed).unwrap();
    std::fs::copy("examples/contacts.jsonl", dir.path().join("contacts.jsonl")).unwrap();
    dir
}

fn diff(dir: &Path, rules: &str, extra: &[&str]) -> std::process::Output {
    rubric()
        .current_dir(dir)
        .args([
            "diff",
            "--base",
            "rules",
            "--rules",
            rules,
            "--contacts",
            "contacts.jsonl",
            "--as-of",
            AS_OF,
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn diff_exit_code_is_4_when_the_change_moves_a_contact() {
    let dir = diff_workspace();
    let output = diff(dir.path(), "rules-new", &["--exit-code"]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    assert!(stdout_of(&output).starts_with("rubric diff: 3 of 12 contacts change"));
    // Without the flag the same change exits 0.
    assert_eq!(diff(dir.path(), "rules-new", &[]).status.code(), Some(0));
    // No moved contact: 0 with the flag too.
    assert_eq!(diff(dir.path(), "rules", &["--exit-code"]).status.code(), Some(0));
}

#[test]
fn diff_rejected_lines_win_over_the_exit_code() {
    let dir = diff_workspace();
    let mut contacts = std::fs::read_to_string(dir.path().join("contacts.jsonl")).unwrap();
    contacts.push_str("not json\n");
    write(dir.path(), "contacts.jsonl", &contacts);
    assert_eq!(
        diff(dir.path(), "rules-new", &["--exit-code"]).status.code(),
        Some(3)
    );
}

#[test]
fn exit_status_4_is_in_the_top_level_help() {
    let output = rubric().arg("--help").output().unwrap();
    let help = stdout_of(&output);
    assert!(help.contains("4 `diff --exit-code` found"), "{help}");
}

// ---------------------------------------------------------------------- docs

#[test]
fn no_help_cites_a_spec_the_repository_does_not_have() {
    for command in ["run", "explain", "diff", "plan", "apply", "check", "fmt", "test"] {
        let output = rubric().args([command, "--help"]).output().unwrap();
        let help = stdout_of(&output);
        assert!(
            !help.contains("SPEC"),
            "`rubric {command} --help` cites SPEC:\n{help}"
        );
    }
    assert!(Path::new("docs/formats.md").is_file());
}

// ------------------------------------------------------- quiet, input formats

/// `rubric run` on the example contacts, from `path` (or stdin with `-`).
fn run_examples(extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = rubric();
    cmd.args(["run", "--rules", "rules", "--as-of", AS_OF])
        .args(extra);
    cmd
}

#[test]
fn quiet_drops_the_summary_but_not_the_results_or_the_rejected_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string("examples/contacts.jsonl").unwrap();
    text.push_str("not json\n");
    let contacts = write(dir.path(), "contacts.jsonl", &text);
    let contacts = contacts.to_str().unwrap();
    let expected = std::fs::read_to_string("examples/expected.jsonl").unwrap();
    let loud = run_examples(&["--contacts", contacts]).output().unwrap();
    assert!(
        stderr_of(&loud).contains("rubric: 12 contacts evaluated"),
        "{}",
        stderr_of(&loud)
    );
    let quiet = run_examples(&["--contacts", contacts, "-q"]).output().unwrap();
    assert_eq!(quiet.status.code(), Some(3));
    assert_eq!(stdout_of(&quiet), expected);
    assert_eq!(
        stderr_of(&quiet),
        "rejected line 13: not valid JSON: expected ident at column 2\n"
    );
}

#[test]
fn quiet_silences_the_summaries_of_check_fmt_diff_plan_and_apply() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let state = state.to_str().unwrap();
    let contacts = ["--contacts", "examples/contacts.jsonl", "--as-of", AS_OF];
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", "rules"],
        vec!["fmt", "--check", "rules"],
        [
            &["diff", "--base", "rules", "--rules", "rules"][..],
            &contacts[..],
        ]
        .concat(),
        [&["plan", "--rules", "rules", "--state", state][..], &contacts[..]].concat(),
        [
            &["apply", "--rules", "rules", "--state", state][..],
            &contacts[..],
        ]
        .concat(),
    ];
    for args in commands {
        let loud = rubric().args(&args).output().unwrap();
        assert!(!stderr_of(&loud).is_empty(), "{args:?} prints a summary");
        let quiet = rubric().args(&args).arg("--quiet").output().unwrap();
        assert_eq!(quiet.status.code(), loud.status.code(), "{args:?}");
        // Warnings (audiences below the ad platforms' minimum) stay.
        let stderr = stderr_of(&quiet);
        assert!(
            stderr.lines().all(|l| l.starts_with("warning: ")),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains(" contact"), "{args:?}: {stderr}");
    }
}

#[test]
fn input_format_reads_csv_from_stdin() {
    let csv = "id,email,job_title,company_size,industry,country,lifecycle_stage\n\
               c-1,ana@acme.io,VP Marketing,250,Software,US,lead\n";
    let by_name = {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "contacts.csv", csv);
        run_examples(&["--contacts", path.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let from_stdin = run_examples(&["--contacts", "-", "--input-format", "csv"])
        .write_stdin(csv)
        .output()
        .unwrap();
    assert_eq!(from_stdin.status.code(), Some(0), "{}", stderr_of(&from_stdin));
    assert_eq!(stdout_of(&from_stdin), stdout_of(&by_name));
    assert!(stdout_of(&from_stdin).starts_with("{\"id\":\"c-1\""));
}

#[test]
fn csv_fed_as_json_lines_gets_a_hint() {
    let out = run_examples(&["--contacts", "-"])
        .write_stdin("id,email\nc-1,a@b.io\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr_of(&out).contains("rejected line 1: not valid JSON: expected value at column 1 (this looks like a CSV header: name the file `*.csv`, or pass `--input-format csv` for standard input)"),
        "{}",
        stderr_of(&out)
    );
}

/// Regression: 50 MB of a 1M-contact `.gz` gave fewer results than the
/// complete lines `zcat` recovers, exit 2 and no summary.
#[test]
fn a_truncated_gzip_keeps_every_complete_line_and_still_prints_the_summary() {
    use std::io::Write as _;
    let one = std::fs::read_to_string("examples/contacts.jsonl").unwrap();
    let lines: Vec<&str> = one.lines().collect();
    let mut text = String::new();
    for i in 0..3000 {
        let line = lines[i % lines.len()].replacen("\"id\":\"c-", &format!("\"id\":\"c{i}-"), 1);
        text.push_str(&line);
        text.push('\n');
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    let mut gz = encoder.finish().unwrap();
    gz.truncate(gz.len() / 2);
    let recovered = {
        use std::io::Read as _;
        let mut out = Vec::new();
        let _ = flate2::read::MultiGzDecoder::new(&gz[..]).read_to_end(&mut out);
        out.iter().filter(|&&b| b == b'\n').count()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.jsonl.gz");
    std::fs::write(&path, &gz).unwrap();
    let out = run_examples(&["--contacts", path.to_str().unwrap(), "--threads", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout_of(&out).lines().count(), recovered);
    let stderr = stderr_of(&out);
    assert!(stderr.contains("reading `"), "{stderr}");
    assert!(
        stderr.contains(&format!("rubric: {recovered} contacts evaluated")),
        "{stderr}"
    );
}
