//! `rubric measure`: a report worked out by hand from docs/measure.md's
//! definitions, the outcomes file in its formats and with bad lines, goal
//! selection, independence from the number of threads, golden reports on
//! the example data, and properties of the metrics.

use std::io::Write as _;

use proptest::prelude::*;
use serde_json::Value;

use crate::common::{rubric, AS_OF};

const RULES: &str = "tests/measure/rules.rubric";
const CONTACTS: &str = "tests/measure/contacts.jsonl";
const OUTCOMES: &str = "tests/measure/outcomes.jsonl";
const HAND_AS_OF: &str = "2026-11-01T00:00:00Z";

fn measure_json(args: &[&str]) -> (Value, i32) {
    let output = rubric()
        .args(["measure", "--format", "json", "--quiet"])
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (report, output.status.code().unwrap_or(-1))
}

fn hand_report(outcomes: &str) -> (Value, i32) {
    measure_json(&[
        "--rules",
        RULES,
        "--contacts",
        CONTACTS,
        "--outcomes",
        outcomes,
        "--goal",
        "won",
        "--as-of",
        HAND_AS_OF,
        "--by",
        "source",
    ])
}

/// The Wilson interval, written out again from the definition.
fn wilson(c: f64, n: f64) -> (f64, f64) {
    let z = 1.959963984540054f64;
    let p = c / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    (centre - half, centre + half)
}

fn close(actual: &Value, expected: f64) -> bool {
    actual.as_f64().is_some_and(|a| (a - expected).abs() < 1e-12)
}

#[test]
fn a_report_worked_out_by_hand() {
    let (r, code) = hand_report(OUTCOMES);
    // One outcome line and one snapshot line (a repeated id) are rejected.
    assert_eq!(code, 3);
    // c1 (won inside the horizon) and c3 (won, and a demo exactly at
    // as-of + 10 days) converted; c2's outcome is exactly at as-of, c4's
    // before it, c5's of another type, c6's one second after the horizon.
    assert_eq!(r["contacts"], 6);
    assert_eq!(r["converted"], 2);
    assert!(close(&r["rate"], 2.0 / 6.0));
    assert_eq!(r["amount"], 112);
    assert_eq!(r["horizon_days"], 10);
    assert_eq!(r["as_of"], HAND_AS_OF);
    assert_eq!(
        r["outcomes"],
        serde_json::json!({"read": 10, "rejected": 1, "unmatched": 2, "counted": 3})
    );

    let rows = r["bands"]["level"].as_array().unwrap();
    let values: Vec<&str> = rows.iter().map(|row| row["value"].as_str().unwrap()).collect();
    assert_eq!(values, ["empty", "top", "middle", "bottom"]);
    let empty = &rows[0];
    assert_eq!(
        (empty["contacts"].as_u64(), empty["rate"].is_null()),
        (Some(0), true)
    );
    assert!(empty["rate_low"].is_null() && empty["lift"].is_null());
    assert_eq!(empty["captured"], 0);
    let top = &rows[1];
    let (low, high) = wilson(1.0, 2.0);
    assert_eq!(
        (top["contacts"].as_u64(), top["converted"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(close(&top["rate"], 0.5) && close(&top["lift"], 1.5) && close(&top["captured"], 0.5));
    assert!(close(&top["rate_low"], low) && close(&top["rate_high"], high));
    assert_eq!(top["amount"], 100);
    assert_eq!(rows[2]["amount"], 12);
    assert_eq!(
        (rows[3]["converted"].as_u64(), rows[3]["lift"].as_f64()),
        (Some(0), Some(0.0))
    );

    let s = &r["scores"]["s"];
    // Positives score 9 and 5, negatives 9, 5, 1, 1: (3.5 + 2.5) / 8.
    assert!(close(&s["auc"], 0.75));
    let bins: Vec<(u64, u64)> = s["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["contacts"].as_u64().unwrap(), b["converted"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        bins,
        [
            (0, 0),
            (2, 0),
            (0, 0),
            (0, 0),
            (0, 0),
            (2, 1),
            (0, 0),
            (0, 0),
            (0, 0),
            (2, 1)
        ]
    );
    assert_eq!(
        (s["bins"][3]["from"].as_u64(), s["bins"][3]["to"].as_u64()),
        (Some(3), Some(4))
    );
    let thresholds = s["thresholds"].as_array().unwrap();
    let cut = |i: usize| {
        (
            thresholds[i]["at"].as_u64(),
            thresholds[i]["contacts"].as_u64(),
            thresholds[i]["converted"].as_u64(),
        )
    };
    assert_eq!(cut(0), (Some(0), Some(6), Some(2)));
    assert_eq!(cut(2), (Some(2), Some(4), Some(2)));
    assert_eq!(cut(6), (Some(6), Some(2), Some(1)));
    assert!(close(&thresholds[6]["precision"], 0.5) && close(&thresholds[6]["recall"], 0.5));

    // By source: code-point order ("a" < "b" < "Á"), non-text and missing
    // values in the null group, last; every band value × every group.
    let by = &r["by"];
    assert_eq!(by["property"], "source");
    let rows = by["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 16);
    let groups: Vec<Value> = rows[..4].iter().map(|row| row["group"].clone()).collect();
    assert_eq!(
        groups,
        [Value::from("a"), Value::from("b"), Value::from("Á"), Value::Null]
    );
    let cell = |value: &str, group: Value| {
        rows.iter()
            .find(|row| row["value"] == value && row["group"] == group)
            .map(|row| {
                (
                    row["band"].clone(),
                    row["contacts"].as_u64(),
                    row["converted"].as_u64(),
                )
            })
            .unwrap()
    };
    assert_eq!(cell("top", "b".into()), ("level".into(), Some(1), Some(1)));
    assert_eq!(cell("middle", Value::Null), ("level".into(), Some(1), Some(0)));
    assert_eq!(cell("bottom", "Á".into()), ("level".into(), Some(1), Some(0)));
    let top_b = rows
        .iter()
        .find(|row| row["value"] == "top" && row["group"] == "b")
        .unwrap();
    assert!(close(&top_b["lift"], 3.0));
}

#[test]
fn csv_gzip_and_stdin_outcomes_give_the_same_report() {
    let (json, _) = hand_report(OUTCOMES);
    let (csv, code) = hand_report("tests/measure/outcomes.csv");
    assert_eq!(code, 3);
    assert_eq!(csv, json);

    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("outcomes.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(&std::fs::read(OUTCOMES).unwrap()).unwrap();
    encoder.finish().unwrap();
    let (gzipped, _) = hand_report(gz.to_str().unwrap());
    assert_eq!(gzipped, json);

    let output = rubric()
        .args([
            "measure",
            "--format",
            "json",
            "--quiet",
            "--rules",
            RULES,
            "--contacts",
            CONTACTS,
        ])
        .args([
            "--outcomes",
            "-",
            "--goal",
            "won",
            "--as-of",
            HAND_AS_OF,
            "--by",
            "source",
        ])
        .write_stdin(std::fs::read(OUTCOMES).unwrap())
        .output()
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&output.stdout).unwrap(), json);
}

#[test]
fn bad_outcome_lines_are_reported_with_their_number_and_kept_in_the_rejects_file() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.jsonl");
    let output = rubric()
        .args([
            "measure",
            "--rules",
            RULES,
            "--contacts",
            CONTACTS,
            "--outcomes",
            OUTCOMES,
        ])
        .args([
            "--goal",
            "won",
            "--as-of",
            HAND_AS_OF,
            "--rejects",
            rejects.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("rejected outcomes line 11: \"at\" is not an RFC 3339 timestamp"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rejected line 6: id `c1` repeats an earlier line"),
        "{stderr}"
    );
    let kept: Vec<Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), 2);
    assert_eq!(
        (kept[0]["input"].as_str(), kept[0]["line"].as_u64()),
        (Some("outcomes"), Some(11))
    );
    assert_eq!(
        (kept[1]["input"].as_str(), kept[1]["line"].as_u64()),
        (None, Some(6))
    );
}

#[test]
fn strict_stops_at_the_first_bad_outcome_line_without_a_report() {
    let output = rubric()
        .args([
            "measure",
            "--rules",
            RULES,
            "--contacts",
            CONTACTS,
            "--outcomes",
            OUTCOMES,
        ])
        .args(["--goal", "won", "--as-of", HAND_AS_OF, "--strict"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--strict"));
}

#[test]
fn goals_are_chosen_by_name_with_a_did_you_mean() {
    let base = [
        "measure",
        "--rules",
        RULES,
        "--contacts",
        CONTACTS,
        "--outcomes",
        OUTCOMES,
    ];
    let output = rubric().args(base).args(["--goal", "wom"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown goal `wom`; did you mean `won`? the goals are `won`, `only_demo`"),
        "{stderr}"
    );
    let output = rubric().args(base).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("choose a goal with `--goal`: `won`, `only_demo`")
    );

    let dir = tempfile::tempdir().unwrap();
    let no_goals = dir.path().join("r.rubric");
    std::fs::write(&no_goals, "score s 0..10 { \"x\" when tier == \"hi\" => +1 }\n").unwrap();
    let output = rubric()
        .args([
            "measure",
            "--rules",
            no_goals.to_str().unwrap(),
            "--contacts",
            CONTACTS,
            "--outcomes",
            OUTCOMES,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the rule set declares no goal"));
}

#[test]
fn a_goal_without_a_value_reports_no_amounts() {
    let (r, _) = measure_json(&[
        "--rules",
        RULES,
        "--contacts",
        CONTACTS,
        "--outcomes",
        OUTCOMES,
        "--goal",
        "only_demo",
        "--as-of",
        HAND_AS_OF,
    ]);
    // c3's demo (amount 5) is exactly at the end of the horizon: it counts,
    // but the goal has no value.
    assert_eq!(
        (r["converted"].as_u64(), r["amount"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(r.get("by").is_none());
}

/// The example contacts repeated under new ids, with outcomes for some.
fn larger_inputs(dir: &std::path::Path) -> (String, String) {
    let examples = std::fs::read_to_string("examples/contacts.jsonl").unwrap();
    let mut contacts = String::new();
    let mut outcomes = String::new();
    for copy in 0..150 {
        for (n, line) in examples.lines().enumerate() {
            let mut contact: Value = serde_json::from_str(line).unwrap();
            let id = format!("{}-{copy}", contact["id"].as_str().unwrap());
            contact["id"] = Value::from(id.clone());
            contacts.push_str(&contact.to_string());
            contacts.push('\n');
            if (copy + n) % 3 == 0 {
                let day = 1 + (copy * 7 + n) % 40;
                outcomes.push_str(&format!(
                    "{{\"id\":\"{id}\",\"type\":\"opportunity_created\",\"at\":\"2026-12-{:02}T10:00:00Z\",\"amount\":{}.25}}\n",
                    day.min(31),
                    copy * 10 + n
                ));
            }
        }
    }
    let c = dir.join("contacts.jsonl");
    let o = dir.join("outcomes.jsonl");
    std::fs::write(&c, contacts).unwrap();
    std::fs::write(&o, outcomes).unwrap();
    (c.to_str().unwrap().to_owned(), o.to_str().unwrap().to_owned())
}

#[test]
fn the_report_does_not_depend_on_the_number_of_threads() {
    use rubric::measure::collect::{measure_snapshot, MeasureSettings};
    use rubric::measure::metrics::ReportHeader;
    use rubric::measure::outcomes::read_outcomes;
    use rubric::pipeline::Pipeline;
    use rubric::snapshot::{open_snapshot_input, InputFormat, Rejects};

    let dir = tempfile::tempdir().unwrap();
    let (contacts, outcomes_path) = larger_inputs(dir.path());
    let (plan, _) = crate::common::playbook();
    let goal = plan.goals.iter().find(|g| g.name == "pipeline").unwrap();
    let report = |pipeline: Pipeline| {
        let mut rejects = Rejects::new(Box::new(std::io::sink()), "");
        let opened = open_snapshot_input(&outcomes_path, None).unwrap();
        let index = read_outcomes(
            opened.reader,
            InputFormat::JsonLines,
            &goal.outcome_types,
            false,
            &mut rejects,
        )
        .unwrap();
        let settings = MeasureSettings {
            as_of: crate::common::as_of(),
            goal,
            counted_kinds: &[true],
            by: Some("source"),
            strict: false,
            pipeline,
        };
        let snapshot = open_snapshot_input(&contacts, None).unwrap();
        let measured = measure_snapshot(
            &plan,
            &index,
            &settings,
            snapshot.reader,
            snapshot.format,
            &mut rejects,
        )
        .unwrap();
        let header = ReportHeader {
            goal: goal.name.clone(),
            as_of: AS_OF.to_owned(),
            horizon_days: 90.0,
            by_property: Some(String::from("source")),
            outcome_lines_read: index.read,
            outcome_lines_rejected: index.rejected,
            valid_outcome_lines: index.valid_lines(),
        };
        serde_json::to_string(&measured.tally.report(&plan, header)).unwrap()
    };
    let one = report(Pipeline::new(1));
    let two = report(Pipeline::new(2).with_block_bytes(700));
    let three = report(Pipeline::new(3).with_block_bytes(2000));
    assert_eq!(one, two);
    assert_eq!(one, three);
    let parsed: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(parsed["contacts"], 1800);
    assert!(parsed["converted"].as_u64().unwrap() > 100);
}

fn example_report(goal: &str, format: &str) -> String {
    let output = rubric()
        .args([
            "measure",
            "--rules",
            "rules",
            "--contacts",
            "examples/contacts.jsonl",
        ])
        .args([
            "--outcomes",
            "examples/outcomes.jsonl",
            "--as-of",
            AS_OF,
            "--by",
            "source",
        ])
        .args(["--goal", goal, "--format", format, "--quiet"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn golden_reports_on_the_example_data() {
    insta::assert_snapshot!("example_meeting_text", example_report("meeting", "text"));
    insta::assert_snapshot!(
        "example_pipeline_markdown",
        example_report("pipeline", "markdown")
    );
    let json: Value = serde_json::from_str(&example_report("pipeline", "json")).unwrap();
    insta::assert_json_snapshot!("example_pipeline_json", json);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn metrics_keep_their_invariants(
        contacts in prop::collection::vec((0u8..4, 0u8..21, any::<bool>()), 1..60),
    ) {
        use rubric::measure::metrics::{auc, metrics, wilson, Counts};
        let mut groups = [Counts::default(); 4];
        let mut total = Counts::default();
        let mut scores = Vec::new();
        for &(group, score, converted) in &contacts {
            for counts in [&mut groups[usize::from(group)], &mut total] {
                counts.contacts += 1;
                counts.converted += u64::from(converted);
            }
            scores.push((f64::from(score) / 2.0, converted));
        }
        let cohort_rate = (total.converted as f64) / (total.contacts as f64);
        // Captured shares of a band's values sum to 1 (when anyone converted).
        let captured: f64 = groups
            .iter()
            .filter_map(|g| metrics(g, Some(cohort_rate), total.converted).captured.map(|c| c.0))
            .sum();
        if total.converted > 0 {
            prop_assert!((captured - 1.0).abs() < 1e-9);
        }
        // The interval contains the rate.
        for g in &groups {
            if let Some((low, high)) = wilson(g.converted, g.contacts) {
                let rate = g.converted as f64 / g.contacts as f64;
                prop_assert!(low <= rate + 1e-12 && rate <= high + 1e-12 && low >= -1e-12 && high <= 1.0 + 1e-12);
            }
        }
        // AUC in [0, 1]; negating the score gives 1 − AUC.
        let a = auc(&scores);
        let negated: Vec<(f64, bool)> = scores.iter().map(|&(s, c)| (-s, c)).collect();
        let b = auc(&negated);
        match (a, b) {
            (Some(a), Some(b)) => {
                prop_assert!((0.0..=1.0).contains(&a));
                prop_assert!((a + b - 1.0).abs() < 1e-12);
            }
            (None, None) => prop_assert!(total.converted == 0 || total.converted == total.contacts),
            _ => prop_assert!(false, "AUC defined for one sign only"),
        }
    }
}

#[test]
fn a_series_has_one_report_per_as_of_and_a_stability_row_each() {
    let (r, code) = measure_json(&[
        "--rules",
        RULES,
        "--contacts",
        CONTACTS,
        "--outcomes",
        OUTCOMES,
        "--goal",
        "won",
        "--from",
        "2026-10-25T00:00:00Z",
        "--to",
        "2026-11-08T00:00:00Z",
        "--every",
        "7d",
    ]);
    assert_eq!(code, 3);
    let as_ofs: Vec<&str> = r["stability"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["as_of"].as_str().unwrap())
        .collect();
    assert_eq!(
        as_ofs,
        [
            "2026-10-25T00:00:00Z",
            "2026-11-01T00:00:00Z",
            "2026-11-08T00:00:00Z"
        ]
    );
    assert_eq!(r["reports"].as_array().unwrap().len(), 3);
    // Each report is exactly the one a single `--as-of` gives.
    let (single, _) = measure_json(&[
        "--rules",
        RULES,
        "--contacts",
        CONTACTS,
        "--outcomes",
        OUTCOMES,
        "--goal",
        "won",
        "--as-of",
        HAND_AS_OF,
    ]);
    assert_eq!(r["reports"][1], single);
    let row = &r["stability"][1];
    assert_eq!(
        (row["contacts"].as_u64(), row["converted"].as_u64()),
        (Some(6), Some(2))
    );
    assert!(close(&row["auc"]["s"], 0.75));
    // The top value of `level` (`empty`) has no contacts: no lift.
    assert!(row["top_lift"]["level"].is_null());
    // As of 2026-10-25 the horizon ends on 11-04: c2 (won 11-01) and c3
    // (won 11-02) convert; c1's 11-05 is one day too late.
    assert_eq!(r["reports"][0]["converted"], 2);
}

#[test]
fn dated_snapshots_are_used_for_the_as_of_they_were_taken_at() {
    let dir = tempfile::tempdir().unwrap();
    let october = dir.path().join("oct.jsonl");
    // In October, c1 was not yet a senior title.
    std::fs::write(&october, "{\"id\":\"c1\",\"properties\":{\"tier\":\"lo\"}}\n").unwrap();
    let october_arg = format!("2026-10-20={}", october.display());
    let november_arg = format!("2026-11-01={CONTACTS}");
    let (r, _) = measure_json(&[
        "--rules",
        RULES,
        "--contacts",
        &october_arg,
        "--contacts",
        &november_arg,
        "--outcomes",
        OUTCOMES,
        "--goal",
        "won",
    ]);
    let rows = r["stability"].as_array().unwrap();
    let files: Vec<&str> = rows
        .iter()
        .map(|s| s["contacts_file"].as_str().unwrap())
        .collect();
    assert_eq!(files, [october.to_str().unwrap(), CONTACTS]);
    assert_eq!(rows[0]["as_of"], "2026-10-20T00:00:00Z");
    assert_eq!(rows[0]["contacts"], 1);
    assert_eq!(rows[1]["contacts"], 6);

    // An as-of before every snapshot is a usage error.
    let output = rubric()
        .args([
            "measure",
            "--rules",
            RULES,
            "--contacts",
            &october_arg,
            "--outcomes",
            OUTCOMES,
        ])
        .args(["--goal", "won", "--as-of", "2026-10-01"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no snapshot was taken at or before"));
}

#[test]
fn base_measures_a_rule_change_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.rubric");
    // Before the change `mid` was worth 9 too, so c3 and c4 were `top`.
    let rules = std::fs::read_to_string(RULES).unwrap();
    std::fs::write(
        &base,
        rules.replace("when tier == \"mid\" => +5", "when tier == \"mid\" => +9"),
    )
    .unwrap();
    let (r, code) = measure_json(&[
        "--rules",
        RULES,
        "--base",
        base.to_str().unwrap(),
        "--contacts",
        CONTACTS,
        "--outcomes",
        OUTCOMES,
        "--goal",
        "won",
        "--as-of",
        HAND_AS_OF,
    ]);
    assert_eq!(code, 3);
    assert_eq!(r["base"]["bands"]["level"][1]["contacts"], 4);
    assert_eq!(r["new"]["bands"]["level"][1]["contacts"], 2);
    // Base: positives 9, 9 vs negatives 9, 9, 1, 1 → (2·(1 + 2)) / 8.
    assert!(close(&r["base"]["scores"]["s"]["auc"], 0.75));
    assert_eq!(r["base_rules"], base.to_str().unwrap());

    let output = rubric()
        .args([
            "measure",
            "--rules",
            RULES,
            "--base",
            base.to_str().unwrap(),
            "--contacts",
            CONTACTS,
        ])
        .args([
            "--outcomes",
            OUTCOMES,
            "--goal",
            "won",
            "--as-of",
            HAND_AS_OF,
            "--format",
            "markdown",
            "-q",
        ])
        .output()
        .unwrap();
    let markdown = String::from_utf8(output.stdout).unwrap();
    assert!(markdown.contains("| top | 4 → 2 (-2) |"), "{markdown}");
}

#[test]
fn explain_shows_each_goal_verdict_with_the_outcomes_behind_it() {
    let output = rubric()
        .args([
            "explain",
            "--rules",
            RULES,
            "--contacts",
            CONTACTS,
            "--outcomes",
            OUTCOMES,
        ])
        .args([
            "--as-of", HAND_AS_OF, "--id", "c3", "--id", "c2", "--id", "c6", "--color", "never",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    let goals: String = text
        .lines()
        .filter(|l| l.starts_with("goal ") || l.starts_with("  + ") || l.starts_with("  not counted"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("explain_goal_verdicts", goals);

    let output = rubric()
        .args([
            "explain",
            "--rules",
            RULES,
            "--contacts",
            CONTACTS,
            "--outcomes",
            OUTCOMES,
        ])
        .args(["--as-of", HAND_AS_OF, "--id", "c3", "--format", "json"])
        .output()
        .unwrap();
    let trace: Value = serde_json::from_slice(&output.stdout).unwrap();
    let won = &trace["goals"][0];
    assert_eq!(
        (won["goal"].as_str(), won["converted"].as_bool()),
        (Some("won"), Some(true))
    );
    assert_eq!(won["amount"], 12);
    assert_eq!(won["counted"].as_array().unwrap().len(), 2);
    // The trace's own keys come first, in their usual order.
    assert_eq!(
        trace.as_object().unwrap().keys().next().map(String::as_str),
        Some("as_of")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The AUC equals the definition: over every (converted, not converted)
    /// pair, 1 when the converted contact scores higher, ½ on a tie.
    #[test]
    fn auc_equals_the_pairwise_definition(
        values in prop::collection::vec((prop_oneof![(0u8..6).prop_map(f64::from), 0.0f64..5.0], any::<bool>()), 0..40),
    ) {
        let positives: Vec<f64> = values.iter().filter(|v| v.1).map(|v| v.0).collect();
        let negatives: Vec<f64> = values.iter().filter(|v| !v.1).map(|v| v.0).collect();
        let mut wins = 0.0;
        for p in &positives {
            for n in &negatives {
                wins += if p > n { 1.0 } else if p == n { 0.5 } else { 0.0 };
            }
        }
        let expected = (!positives.is_empty() && !negatives.is_empty())
            .then(|| wins / (positives.len() * negatives.len()) as f64);
        let actual = rubric::measure::metrics::auc(&values);
        match (actual, expected) {
            (Some(a), Some(e)) => prop_assert!((a - e).abs() < 1e-12, "{a} vs {e}"),
            (a, e) => prop_assert_eq!(a, e),
        }
    }
}
