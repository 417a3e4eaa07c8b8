//! List properties (`has`), numbers and booleans written as text (`from
//! text`), and the wrong-type summary of `rubric run` with `--warnings`, end
//! to end through the binary, on `tests/lists/` (docs/language.md §5, §8.16).

use crate::common::{rubric, AS_OF};

const RULES: &str = "tests/lists/lists.rubric";
const CONTACTS: &str = "tests/lists/contacts.jsonl";

fn run(extra: &[&str]) -> std::process::Output {
    rubric()
        .args(["run", "--rules", RULES, "--contacts", CONTACTS, "--as-of", AS_OF])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn run_scores_lists_and_converted_numbers() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "wrong types change no exit status");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let scores: Vec<(String, f64)> = stdout
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["id"].as_str().unwrap().to_string(),
                v["scores"]["fit"].as_f64().unwrap(),
            )
        })
        .collect();
    // c-1: "AI; bi" has ai ignoring case (+10) and bi (+20), crm and cms (+30), "56" ≥ 50 (+5),
    // "true" (+1), and not "ai" with its case (+2).
    // c-2: ["ml"] has no ai (+2); "crm" is one element; "1,000" and "yes" stay text.
    // c-3: 3 is not a list (a wrong type: `has` is false, `not has` true); 12 < 50.
    // c-4: nothing but `not interests has "ai"` (+2).
    assert_eq!(
        scores,
        [
            (String::from("c-1"), 68.0),
            (String::from("c-2"), 2.0),
            (String::from("c-3"), 2.0),
            (String::from("c-4"), 2.0),
        ]
    );
}

#[test]
fn run_summarises_wrong_types_per_property_on_stderr() {
    // `country` is declared but read by no rule: its value 5 is not checked.
    // The second line still counts each test that met a wrong type.
    let out = run(&[]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    insta::assert_snapshot!(stderr, @r"
    rubric: warning: 4 values of the wrong type in 4 declared properties: interests 1 (expected list, found 1 number), tags 1 (expected list, found 1 list or object), company_size 1 (expected number, found 1 text), open_deal 1 (expected boolean, found 1 text)
    rubric: 4 contacts evaluated as of 2026-11-28T00:00:00Z; 7 values of the wrong type (see `rubric explain`)
    ");
    let quiet = run(&["--quiet"]);
    assert_eq!(String::from_utf8(quiet.stderr).unwrap(), "");
}

#[test]
fn warnings_file_holds_one_json_line_per_wrong_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warnings.jsonl");
    let out = run(&["--warnings", path.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    let written = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!(written, @r#"
    {"line":2,"id":"c-2","property":"company_size","expected":"number","found":"text","value":"1,000"}
    {"line":2,"id":"c-2","property":"open_deal","expected":"boolean","found":"text","value":"yes"}
    {"line":3,"id":"c-3","property":"interests","expected":"list","found":"number","value":3}
    {"line":3,"id":"c-3","property":"tags","expected":"list","found":"list or object","value":"<list or object>"}
    "#);
    // Created even when no value is of the wrong type.
    let clean = dir.path().join("clean.jsonl");
    let out = rubric()
        .args([
            "run",
            "--rules",
            RULES,
            "--contacts",
            "-",
            "--as-of",
            AS_OF,
            "--quiet",
        ])
        .args(["--warnings", clean.to_str().unwrap()])
        .write_stdin("{\"id\":\"a\",\"properties\":{\"interests\":[\"ai\"]}}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&clean).unwrap(), "");
}

#[test]
fn only_accepted_contacts_count_and_rejected_lines_keep_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warnings.jsonl");
    let out = rubric()
        .args(["run", "--rules", RULES, "--contacts", "-", "--as-of", AS_OF])
        .args(["--warnings", path.to_str().unwrap()])
        .write_stdin(concat!(
            "{\"id\":\"a\",\"properties\":{\"company_size\":\"lots\"}}\n",
            "{\"id\":\"a\",\"properties\":{\"company_size\":\"many\"}}\n",
            "not json\n",
        ))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "rejected lines decide the exit status, not wrong types"
    );
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        "{\"line\":1,\"id\":\"a\",\"property\":\"company_size\",\"expected\":\"number\",\"found\":\"text\",\"value\":\"lots\"}\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("rubric: warning: 1 value of the wrong type in 1 declared property: company_size 1 (expected number, found 1 text)\n"),
        "{stderr}"
    );
}

#[test]
fn warnings_file_in_a_missing_directory_is_a_usage_error() {
    let out = run(&["--warnings", "/nonexistent-dir/w.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write `/nonexistent-dir/w.jsonl`"));
}

fn explain(extra: &[&str]) -> String {
    let out = rubric()
        .args([
            "explain",
            "--rules",
            RULES,
            "--contacts",
            CONTACTS,
            "--as-of",
            AS_OF,
            "--color",
            "never",
        ])
        .args(extra)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn explain_shows_the_lists_read_and_the_values_converted_from_text() {
    let text = explain(&["--id", "c-1"]);
    assert!(
        text.contains(r#"interests "AI; bi" has "ai" ignoring case ✓"#),
        "{text}"
    );
    assert!(
        text.contains(r#"tags ["crm","cms"] has all of ["crm", "cms"] ✓"#),
        "{text}"
    );
    assert!(text.contains("company_size 56 ≥ 50 ✓"), "{text}");
    assert!(
        text.contains("converted from text:\n  company_size \"56\" → 56\n  open_deal \"true\" → true\n"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&explain(&["--id", "c-1", "--format", "json"])).unwrap();
    let converted = &json["traces"][0]["converted"];
    let converted = if converted.is_null() {
        &json["converted"]
    } else {
        converted
    };
    assert_eq!(
        converted,
        &serde_json::json!([
            {"property": "company_size", "text": "56", "value": 56.0},
            {"property": "open_deal", "text": "true", "value": true}
        ])
    );
    let text = explain(&["--id", "c-3"]);
    assert!(text.contains("expected a list, found a number 3"), "{text}");
}

#[test]
fn why_not_names_the_has_test_that_failed() {
    let text = explain(&["--id", "c-3", "--why-not", "suite_buyers"]);
    assert!(
        text.contains(r#"condition fails: tags "<list or object>" has any of ["crm", "cms"] ✗"#),
        "{text}"
    );
    assert!(
        text.contains(r#"`tags has any of ["crm", "cms"]` would have to hold"#),
        "{text}"
    );
    let text = explain(&["--id", "c-4", "--why-not", "suite_buyers"]);
    assert!(text.contains("condition fails: tags is missing ✗"), "{text}");
}

#[test]
fn diff_sees_the_impact_of_reading_numbers_from_text() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.rubric");
    let rules = std::fs::read_to_string(RULES).unwrap();
    std::fs::write(&base, rules.replace("number from text", "number")).unwrap();
    let out = rubric()
        .args([
            "diff",
            "--base",
            base.to_str().unwrap(),
            "--rules",
            RULES,
            "--contacts",
            CONTACTS,
        ])
        .args(["--as-of", AS_OF, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Only c-1's "56" reads as a number with the new rules: fit 63 → 68.
    let fit = &report["scores"][0];
    assert_eq!(
        (fit["up"].as_u64(), fit["down"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );
    assert_eq!(fit["base"]["max"], 63);
    assert_eq!(fit["new"]["max"], 68);
}

#[test]
fn the_rule_tests_of_lists_pass() {
    let out = rubric()
        .args(["test", "--rules", RULES, "tests/lists/lists.test.yaml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("test result: ok. 4 passed, 0 failed"), "{stdout}");
}

#[test]
fn has_works_without_a_schema_on_arrays_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.rubric");
    std::fs::write(
        &rules,
        "score s 0..10 {\n  \"ai\" when interests has \"ai\" => +1\n  \"both\" when interests has all of [\"ai\", \"ml\"] => +2\n}\n",
    )
    .unwrap();
    let out = rubric()
        .args(["run", "--rules", rules.to_str().unwrap(), "--contacts", "-", "--as-of", AS_OF, "--quiet"])
        .write_stdin(
            "{\"id\":\"a\",\"properties\":{\"interests\":[\"ai\",\"ml\"]}}\n{\"id\":\"b\",\"properties\":{\"interests\":\"ai\"}}\n{\"id\":\"c\",\"properties\":{\"interests\":\"ai;ml\"}}\n",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let scores: Vec<&str> = stdout
        .lines()
        .map(|l| l.split("\"s\":").nth(1).unwrap().split('}').next().unwrap())
        .collect();
    assert_eq!(scores, ["3", "1", "0"], "{stdout}");
}

mod reference {
    //! `run`'s evaluation of lists and `from text` against a simple
    //! reference, on generated contacts (docs/language.md §5, §8.16).

    use proptest::prelude::*;
    use rubric::source::{SourceFile, Sources};
    use serde_json::{json, Value};

    const RULES: &str = r#"
properties {
  interests:    list separated by ";"
  company_size: number from text
}
score s 0..1000 {
  "one"  when interests has "ai" => +1
  "any"  when interests has any of ["ai", "ml"] ignoring case => +10
  "all"  when interests has all of ["ai", "ml"] => +100
  "size" when company_size >= 50 => +500
}
"#;

    fn plan() -> rubric::plan::Plan {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("lists.rubric", RULES));
        rubric::compile::compile(&sources).unwrap().plan
    }

    /// The elements of an `interests` value as the reference reads them.
    fn elements(value: &Value) -> Option<Vec<String>> {
        match value {
            Value::Array(items) => items.iter().map(|i| i.as_str().map(String::from)).collect(),
            Value::String(text) => Some(
                text.split(';')
                    .map(|p| p.trim_matches([' ', '\t']).to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            ),
            _ => None,
        }
    }

    fn reference_score(interests: &Value, size: &Value) -> f64 {
        let mut score = 0.0;
        if let Some(items) = elements(interests) {
            let has = |n: &str| items.iter().any(|i| i == n);
            let has_ci = |n: &str| items.iter().any(|i| i.to_lowercase() == n);
            score += if has("ai") { 1.0 } else { 0.0 };
            score += if has_ci("ai") || has_ci("ml") { 10.0 } else { 0.0 };
            score += if has("ai") && has("ml") { 100.0 } else { 0.0 };
        }
        let size = match size {
            Value::Number(n) => n.as_f64(),
            Value::String(t) => t.trim_matches([' ', '\t']).parse::<f64>().ok().filter(|_| {
                let t = t.trim_matches([' ', '\t']);
                let digits = t.strip_prefix('-').unwrap_or(t);
                !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && !(digits.len() > 1 && digits.starts_with('0'))
            }),
            _ => None,
        };
        if size.is_some_and(|s| s >= 50.0) {
            score += 500.0;
        }
        score
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("ai"),
            Just("ml"),
            Just("AI"),
            Just("Ml"),
            Just("bi"),
            Just(" ai "),
            Just("")
        ]
        .prop_map(String::from)
    }

    fn interests() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            proptest::collection::vec(word(), 0..4).prop_map(|w| json!(w)),
            proptest::collection::vec(word(), 0..4).prop_map(|w| json!(w.join(";"))),
            Just(json!(3)),
            Just(json!(["ai", 1])),
        ]
    }

    fn size() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            (0i64..200).prop_map(|n| json!(n)),
            (0i64..200).prop_map(|n| json!(n.to_string())),
            (0i64..200).prop_map(|n| json!(format!(" {n}\t"))),
            (0i64..200).prop_map(|n| json!(format!("{n},000"))),
            (0i64..200).prop_map(|n| json!(format!("0{n}"))),
            Just(json!("many")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn run_agrees_with_a_reference_on_lists_and_numbers_from_text(
            interests in interests(),
            size in size(),
        ) {
            let plan = plan();
            let line = json!({"id": "c", "properties": {"interests": interests, "company_size": size}}).to_string();
            let contact = rubric::snapshot::decode_line(&plan.decode, &line).unwrap().unwrap();
            let outcome = rubric::eval::evaluate(&plan, &contact, crate::common::as_of());
            prop_assert_eq!(outcome.scores[0], reference_score(&interests, &size), "{}", line);
        }
    }
}
