//! `rubric test`: the shipped suite of `rules/` passes; failing and malformed
//! test files are reported (golden output, human and JUnit) and exit 1.

fn rubric_test(args: &[&str]) -> (i32, String) {
    let out = crate::common::rubric().arg("test").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_playbook_suite_passes_and_covers_every_rule() {
    let (code, out) = rubric_test(&["rules"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test result: ok. 38 passed, 0 failed"), "{out}");
    // Every rule label, band value, suppression and target of SPEC §4 is named by a case.
    let text = std::fs::read_to_string("rules/playbook.test.yaml").unwrap();
    for word in [
        "title",
        "company size",
        "industry",
        "country",
        "free email",
        "competitor",
        "pricing",
        "demo request",
        "email clicks",
        "webinar",
        "unsubscribe",
        "hot",
        "warm",
        "cold",
        "tier A",
        "customer",
        "open_opportunity",
        "sales_owned",
        "recently_contacted",
        "opted_out",
        "ads_awareness",
        "ads_retarget",
        "ads_conversion",
        "nurture_educate",
        "nurture_evaluate",
        "nurture_convert",
        "na_sales",
        "emea_sales",
        "global_sales",
    ] {
        assert!(text.contains(word), "no case mentions `{word}`");
    }
}

/// Issue 13's ranges (ordered bands, numeric band values, `between`,
/// `within next`, age ranges) through `rubric test`.
#[test]
fn the_ranges_suite_passes() {
    let (code, out) = rubric_test(&["tests/rule_tests/ranges"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test result: ok. 5 passed, 0 failed"), "{out}");
}

/// Routing picks (issue 13) asserted by YAML cases: queues from a property,
/// table rows, round-robin members (hand-computed hashes), assignees and
/// branch SLAs. The routing file counts as routed by `tests/parser.rs`.
#[test]
fn the_routing_suite_passes() {
    let (code, out) = rubric_test(&[
        "--rules",
        "tests/corpus/ok/routing.rubric",
        "tests/rule_tests/routing.test.yaml",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test result: ok. 9 passed, 0 failed"), "{out}");
}

#[test]
fn failing_cases_show_the_difference_and_the_trace() {
    let (code, out) = rubric_test(&["--rules", "rules", "tests/rule_tests/failing.test.yaml"]);
    assert_eq!(code, 1);
    assert!(out.contains("test result: FAILED. 1 passed, 2 failed"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn failing_cases_in_junit() {
    let (code, out) = rubric_test(&[
        "--rules",
        "rules",
        "--format",
        "junit",
        "tests/rule_tests/failing.test.yaml",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn malformed_test_files_are_reported_with_their_line() {
    let (code, out) = rubric_test(&["--rules", "rules", "tests/rule_tests/malformed.test.yaml"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("malformed.test.yaml:7: cases[1]: unknown field `expcet`"),
        "{out}"
    );
    let (code, out) = rubric_test(&["--rules", "rules", "tests/rule_tests/broken_yaml.test.yaml"]);
    assert_eq!(code, 1);
    assert!(out.contains("broken_yaml.test.yaml:3:"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn relative_ages_are_measured_from_as_of() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.test.yaml");
    std::fs::write(
        &file,
        "cases:\n  - name: a\n    as_of: 2026-01-10T00:00:00Z\n    contact:\n      events: [{ type: page_view, at: 14 days ago, props: { url: /pricing } }]\n    expect: { scores: { intent: 2.5 } }\n",
    )
    .unwrap();
    let (code, out) = rubric_test(&["--rules", "rules", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_directory_without_test_files_is_a_usage_error() {
    let (code, _) = rubric_test(&["tests/corpus/ok"]);
    assert_eq!(code, 2);
}

#[test]
fn the_channels_suite_passes_and_covers_its_targets() {
    let (code, out) = rubric_test(&[
        "--rules",
        "tests/corpus/ok/channels.rubric",
        "--coverage",
        "tests/rule_tests/channels.test.yaml",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test result: ok. 4 passed, 0 failed"), "{out}");
}

#[test]
fn the_prop_aggregates_suite_passes_and_covers_every_rule() {
    // Issue 13: `sum`, `avg`, `max`, `distinct count`, `P of last`, `first`
    // and `contact.NAME` in a rule set with its own YAML cases.
    let (code, out) = rubric_test(&[
        "--rules",
        "tests/rule_tests/aggregates/engagement.rubric",
        "--coverage",
        "tests/rule_tests/aggregates/engagement.test.yaml",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test result: ok. 4 passed, 0 failed"), "{out}");
    assert!(out.contains("9 of 9 rules"), "{out}");
}
