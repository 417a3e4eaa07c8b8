//! Ranges (issue 13): ordered band comparisons, `between`, `within next`
//! and age ranges, each checked against a simple reference evaluation
//! (proptest), plus the explanation of each in text and JSON.

use proptest::prelude::*;
use rubric::eval::evaluate;
use rubric::snapshot::{decode_line, format_timestamp};
use serde_json::{json, Value};

use crate::common::{as_of, compile_rules, one_rule_file};

const DAY: i64 = 86_400_000_000;
const HOUR: i64 = 3_600_000_000;

fn outcome(plan: &rubric::plan::Plan, contact: &Value) -> rubric::eval::Outcome {
    let contact = decode_line(&plan.decode, &contact.to_string()).unwrap().unwrap();
    evaluate(plan, &contact, as_of())
}

/// A property value: missing, a number, text or a boolean.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (-20i32..20).prop_map(|n| json!(f64::from(n) / 2.0)),
        (-20i32..20).prop_map(|n| json!(n)),
        Just(json!("VP")),
        Just(json!(true)),
    ]
}

/// A timestamp property: missing, around as-of (hours away), or not a time.
fn time_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (-24 * 40i64..24 * 40).prop_map(|hours| json!(format_timestamp(as_of() - hours * HOUR))),
        Just(json!("soon")),
        Just(json!(3)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `x between lo and hi` is `x >= lo and x <= hi`, values of any type.
    #[test]
    fn between_is_two_comparisons(x in value(), lo in value(), hi in value()) {
        let plan = compile_rules(
            "segment between when x between lo and hi\n\
             segment compared when x >= lo and x <= hi\n\
             audience both when between or compared",
        );
        let out = outcome(&plan, &json!({"id": "c", "properties": {"x": x, "lo": lo, "hi": hi}}));
        prop_assert_eq!(out.segments[0], out.segments[1]);
    }

    /// The same on timestamps, with the bounds as literals and arithmetic.
    #[test]
    fn between_on_timestamps_is_two_comparisons(t in time_value(), lo_days in -30i64..30, width in 0i64..30) {
        let lo = format_timestamp(as_of() + lo_days * DAY);
        let hi = format_timestamp(as_of() + (lo_days + width) * DAY);
        let plan = compile_rules(&format!(
            "properties {{ t: timestamp  n: number }}\n\
             segment between when t between \"{lo}\" and \"{hi}\"\n\
             segment compared when t >= \"{lo}\" and t <= \"{hi}\"\n\
             segment numbers when n between {lo_days} - 1 and {lo_days} + {width}\n\
             segment numbers_compared when n >= {lo_days} - 1 and n <= {lo_days} + {width}\n\
             audience all when between or compared or numbers or numbers_compared",
        ));
        let n = t.as_str().map_or(json!(lo_days), |_| json!(lo_days + width / 2));
        let out = outcome(&plan, &json!({"id": "c", "properties": {"t": t, "n": n}}));
        prop_assert_eq!(out.segments[0], out.segments[1]);
        prop_assert_eq!(out.segments[2], out.segments[3]);
    }

    /// `grade OP V` holds exactly when the band's value is declared at or
    /// before V (`>=`), before it (`>`), at or after it (`<=`), after it
    /// (`<`): the first declared value is the highest.
    #[test]
    fn ordered_band_tests_follow_declaration_order(s in -10.0f64..110.0) {
        let values = ["A", "B1", "B2", "C"];
        let ops = [">=", ">", "<=", "<", "=="];
        let mut rules = String::from(
            "score sc 0..100 = s\n\
             band grade { A when sc >= 75  B1 when sc >= 50  B2 when sc >= 25  C otherwise }\n",
        );
        // `grade > A` and `grade < C` are never true, so they are errors
        // (`a_band_test_that_is_never_true_is_an_error`): `false` stands in.
        let never = |op: &str, v: usize| (op == ">" && v == 0) || (op == "<" && v == values.len() - 1);
        for (o, op) in ops.iter().enumerate() {
            for (v, value) in values.iter().enumerate() {
                let test = if never(op, v) { String::from("false") } else { format!("grade {op} {value}") };
                rules.push_str(&format!("segment s_{o}_{v} when {test}\n"));
            }
        }
        let plan = compile_rules(&rules);
        let out = outcome(&plan, &json!({"id": "c", "properties": {"s": s}}));
        let actual = usize::from(out.bands[0]);
        for (o, op) in ops.iter().enumerate() {
            for v in 0..values.len() {
                let expected = match *op {
                    ">=" => actual <= v,
                    ">" => actual < v,
                    "<=" => actual >= v,
                    "<" => actual > v,
                    _ => actual == v,
                };
                prop_assert_eq!(out.segments[o * values.len() + v], expected, "grade {} {}", op, values[v]);
            }
        }
    }

    /// An age range counts the events whose age is in [low, high] days
    /// (and not after as-of), as filtering the event times by hand does;
    /// `each` decays each counted event by its own age.
    #[test]
    fn age_ranges_count_the_events_of_those_ages(
        hours in prop::collection::vec(-48i64..24 * 40, 0..12),
        low in 0i64..20,
        width in 0i64..20,
    ) {
        let high = low + width;
        let plan = compile_rules(&format!(
            "score counted 0..1000 = count of page_view between {low} and {high} days ago\n\
             score each_one 0..1000 {{ \"views\" each page_view between {low} and {high} days ago => +1 }}\n\
             score decayed 0..1000 {{ \"views\" each page_view between {low} and {high} days ago => +8 decay half-life 7 days }}\n\
             segment any_one when any page_view between {low} and {high} days ago\n\
             audience some when any_one",
        ));
        let events: Vec<Value> = hours
            .iter()
            .map(|h| json!({"type": "page_view", "at": format_timestamp(as_of() - h * HOUR)}))
            .collect();
        let out = outcome(&plan, &json!({"id": "c", "events": events}));
        let ages: Vec<i64> = hours
            .iter()
            .map(|h| h * HOUR)
            .filter(|age| *age >= low * DAY && *age <= high * DAY)
            .collect();
        let decayed: f64 = ages
            .iter()
            .map(|age| 8.0 * 0.5f64.powf(*age as f64 / DAY as f64 / 7.0))
            .sum();
        prop_assert_eq!(out.scores[0], ages.len() as f64);
        prop_assert_eq!(out.scores[1], ages.len() as f64);
        prop_assert!((out.scores[2] - decayed).abs() < 1e-9, "{} vs {}", out.scores[2], decayed);
        prop_assert_eq!(out.segments[0], !ages.is_empty());
    }

    /// On a timestamp: `within next N days` holds for as-of ≤ t ≤ as-of + N
    /// days, `between L and H days ago` for as-of − H ≤ t ≤ as-of − L.
    #[test]
    fn timestamp_windows_match_a_hand_filter(t in time_value(), n in 1i64..10, low in 0i64..10, width in 0i64..20) {
        let high = low + width;
        let plan = compile_rules(&format!(
            "properties {{ t: timestamp }}\n\
             segment next when t within next {n} days\n\
             segment ago when t between {low} and {high} days ago\n\
             audience either when next or ago",
        ));
        let out = outcome(&plan, &json!({"id": "c", "properties": {"t": t}}));
        let time = t.as_str().and_then(rubric::snapshot::parse_timestamp);
        let (next, ago) = match time {
            Some(time) => {
                let age = as_of() - time;
                (age <= 0 && age >= -n * DAY, age >= low * DAY && age <= high * DAY)
            }
            None => (false, false),
        };
        prop_assert_eq!(out.segments[0], next);
        prop_assert_eq!(out.segments[1], ago);
    }
}

#[test]
fn a_band_test_that_is_never_true_is_an_error() {
    let band = "score sc 0..100 = s\nband grade { A when sc >= 50  B otherwise }\n";
    for test in ["grade > A", "grade < B", "A < grade"] {
        let rules = format!("{band}segment top when {test}");
        match rubric::compile::compile(&one_rule_file(&rules)) {
            Ok(_) => panic!("compiles: {test}"),
            Err(d) => assert_eq!(d[0].code.to_string(), "rubric::band_comparison", "{test}"),
        }
    }
}

#[test]
fn numeric_band_values_need_no_backticks_and_print_as_text() {
    let plan = compile_rules(
        "score sc 0..100 = s\n\
         band intent_level { 3 when sc >= 60  2 when sc >= 30  1 otherwise }\n\
         segment low when intent_level is 1\n\
         segment two_up when intent_level >= 2\n\
         segment quoted when intent_level == `2` or intent_level in [1, `3`]",
    );
    let out = outcome(&plan, &json!({"id": "c", "properties": {"s": 40}}));
    assert_eq!(plan.bands[0].values, ["3", "2", "1"]);
    assert_eq!(out.bands[0], 1);
    assert_eq!(out.segments, [false, true, true]);
}

#[test]
fn a_wrong_type_in_between_is_false_with_a_warning() {
    let plan = compile_rules("segment s when x between 1 and 10\naudience a when s");
    let out = outcome(&plan, &json!({"id": "c", "properties": {"x": "five"}}));
    assert_eq!((out.segments[0], out.warnings), (false, 1));
    let out = outcome(&plan, &json!({"id": "c", "properties": {}}));
    assert_eq!(
        (out.segments[0], out.warnings),
        (false, 0),
        "missing is no warning"
    );
}

#[test]
fn between_next_and_ago_stay_usable_as_names() {
    let plan = compile_rules(
        "properties { between: number  next: timestamp  ago: number }\n\
         segment s when between > 3 and next within next 2 days and ago between between and 10\n\
         audience a when s",
    );
    let out = outcome(
        &plan,
        &json!({"id": "c", "properties": {"between": 4, "next": format_timestamp(as_of() + DAY), "ago": 5}}),
    );
    assert!(out.segments[0]);
}

/// `explain` shows the value each new test read, the bounds it compared
/// with and the band values an ordered test accepts, in text and JSON.
#[test]
fn explain_shows_bounds_and_accepted_values() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.rubric");
    std::fs::write(
        &rules,
        "properties { s: number  size: number  trial_end: timestamp  seen: timestamp }\n\
         score sc 0..100 = s\n\
         band grade { A when sc >= 75  B when sc >= 50  C otherwise }\n\
         audience a when grade >= B and size between 10 and 5 * 10 and trial_end within next 3 days and seen between 8 and 30 days ago\n",
    )
    .unwrap();
    let contacts = dir.path().join("c.jsonl");
    let contact = json!({"id": "c1", "properties": {
        "s": 40, "size": 20,
        "trial_end": format_timestamp(as_of() + 2 * DAY),
        "seen": format_timestamp(as_of() - 9 * DAY),
    }});
    std::fs::write(&contacts, format!("{contact}\n")).unwrap();
    let explain = |extra: &[&str]| {
        let out = crate::common::rubric()
            .args(["explain", "--rules"])
            .arg(&rules)
            .arg("--contacts")
            .arg(&contacts)
            .args(["--as-of", crate::common::AS_OF, "--id", "c1"])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let text = explain(&[]);
    assert!(text.contains("grade is C, not >= B (A, B) ✗"), "{text}");
    assert!(text.contains("size 20 between 10 and 5 * 10 ✓"), "{text}");
    assert!(text.contains("within next 3 days ✓"), "{text}");
    assert!(text.contains("between 8 and 30 days ago ✓"), "{text}");
    let json: Value = serde_json::from_str(&explain(&["--format", "json"])).unwrap();
    let tests = &json["audiences"][0]["tests"];
    assert_eq!(tests[0]["accepts"], json!(["A", "B"]));
    assert_eq!(tests[0]["value"], json!("C"));
    assert_eq!(tests[1]["bounds"], json!([10.0, 50.0]));
    assert_eq!(
        tests[2]["bounds"],
        json!([crate::common::AS_OF, format_timestamp(as_of() + 3 * DAY)])
    );
    assert_eq!(
        tests[3]["bounds"],
        json!([
            format_timestamp(as_of() - 30 * DAY),
            format_timestamp(as_of() - 8 * DAY)
        ])
    );
    let why = explain(&["--why-not", "a"]);
    assert!(why.contains("grade would have to be A or B (it is C)"), "{why}");
    assert!(why.contains("B: sc 40 ≥ 50 ✗"), "{why}");
}

/// The lint names of a rule set that compiles.
fn lints(text: &str) -> Vec<String> {
    let sources = one_rule_file(text);
    match rubric::compile::compile_and_lint(&sources) {
        Ok(compiled) => compiled.warnings.iter().map(|d| d.code.to_string()).collect(),
        Err(d) => panic!("{}", rubric::diagnostics::render(&d, &sources, false)),
    }
}

#[test]
fn ordering_a_band_with_numbers_declared_lowest_first_is_linted() {
    const LINT: &str = "rubric::lint::ascending_band_ordered";
    let band = |values: &str| {
        format!(
            "score sc 0..100 = s\nband level {{ {values} }}\n\
             segment engaged when level >= 2\naudience a when engaged\n\
             suppress customer on ads when lifecycle_stage == \"customer\""
        )
    };
    let ascending = band("1 when sc < 30  2 when sc < 60  3 otherwise");
    assert!(lints(&ascending).contains(&LINT.to_string()));
    let descending = band("3 when sc >= 60  2 when sc >= 30  1 otherwise");
    assert!(!lints(&descending).contains(&LINT.to_string()));
    // `is` and `in` do not depend on the order.
    let is_test = ascending.replace("level >= 2", "level is 2");
    assert!(!lints(&is_test).contains(&LINT.to_string()));
    let allowed = ascending.replace(
        "segment engaged",
        "# rubric: allow(ascending_band_ordered)\nsegment engaged",
    );
    assert!(!lints(&allowed).contains(&LINT.to_string()));
}

/// `diff` reads the new tests through the same evaluator: raising an
/// ordered band threshold and narrowing a `between` moves the contacts.
#[test]
fn diff_reports_the_contacts_a_range_change_moves() {
    let dir = tempfile::tempdir().unwrap();
    let rules = |name: &str, grade: &str, low: u32| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "score sc 0..100 = s\n\
                 band grade {{ A when sc >= 75  B when sc >= 50  C otherwise }}\n\
                 audience a when grade >= {grade} and size between {low} and 200\n"
            ),
        )
        .unwrap();
        path
    };
    let base = rules("base.rubric", "B", 10);
    let new = rules("new.rubric", "A", 10);
    let narrower = rules("narrower.rubric", "B", 100);
    let contacts = dir.path().join("c.jsonl");
    std::fs::write(
        &contacts,
        "{\"id\":\"b\",\"properties\":{\"s\":60,\"size\":50}}\n{\"id\":\"a\",\"properties\":{\"s\":80,\"size\":150}}\n",
    )
    .unwrap();
    for (rules, removed) in [(&new, "removed: b"), (&narrower, "removed: b")] {
        let out = crate::common::rubric()
            .arg("diff")
            .arg("--base")
            .arg(&base)
            .arg("--rules")
            .arg(rules)
            .arg("--contacts")
            .arg(&contacts)
            .args(["--as-of", crate::common::AS_OF])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(removed), "{text}");
        assert!(text.contains("1 of 2 contacts change"), "{text}");
    }
}
