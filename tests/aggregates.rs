//! Event aggregates of props (issue 13): `sum`/`min`/`max`/`avg of P in E`,
//! `distinct count of P in E`, `first E`, `P of first/last E` and
//! `contact.NAME` inside a `where`: their values on hand-made contacts, the
//! static checks, `fmt`, `explain`, and a property test against a simple
//! reference evaluation over random event lists.

use proptest::prelude::*;
use rubric::eval::evaluate;
use rubric::snapshot::decode_line;
use serde_json::{json, Value};

use crate::common::{as_of, compile_rules, error_codes, one_rule_file, rubric};

/// An event `days` days before as-of (negative: after it), with `props`.
fn event(kind: &str, days: f64, props: Value) -> Value {
    let at = as_of() - (days * 86_400_000_000.0) as i64;
    let at = chrono::DateTime::from_timestamp_micros(at).unwrap().to_rfc3339();
    json!({"type": kind, "at": at, "props": props})
}

/// The value of `expression` for a contact with `properties` and `events`
/// (a number, or `None` when missing), with the count of wrong-type warnings.
fn value(expression: &str, properties: Value, events: &[Value]) -> (Option<f64>, u32) {
    let plan = compile_rules(&format!(
        "score v -1000000000..1000000000 = {expression}\n\
         segment missing when ({expression}) is null\n\
         audience a when missing and v > -1"
    ));
    let line = json!({"id": "c", "properties": properties, "events": events}).to_string();
    let contact = decode_line(&plan.decode, &line).unwrap().unwrap();
    let outcome = evaluate(&plan, &contact, as_of());
    let missing = outcome.segments[0];
    // The score and the segment each evaluate the aggregate once.
    let warnings = outcome.warnings / 2;
    ((!missing).then_some(outcome.scores[0]), warnings)
}

/// Whether `segment s when <condition>` holds.
fn holds(condition: &str, properties: Value, events: &[Value]) -> bool {
    let plan = compile_rules(&format!("segment s when {condition}\naudience a when s"));
    let line = json!({"id": "c", "properties": properties, "events": events}).to_string();
    let contact = decode_line(&plan.decode, &line).unwrap().unwrap();
    evaluate(&plan, &contact, as_of()).segments[0]
}

fn webinars() -> Vec<Value> {
    vec![
        event("webinar", 10.0, json!({"minutes": 45, "topic": "pricing"})),
        event("webinar", 20.0, json!({"minutes": "30"})),
        event("webinar", 40.0, json!({"minutes": 15, "topic": "Pricing"})),
        event("webinar", 200.0, json!({"minutes": 60, "topic": "pricing"})),
        event("webinar", 5.0, json!({"topic": "onboarding"})),
        event("webinar", -3.0, json!({"minutes": 1000, "topic": "future"})),
    ]
}

#[test]
fn sum_min_max_avg_skip_missing_props_and_warn_about_other_types() {
    let events = webinars();
    let p = json!({});
    assert_eq!(
        value("sum of minutes in webinar", p.clone(), &events),
        (Some(120.0), 1)
    );
    assert_eq!(
        value("sum of minutes in webinar within 90 days", p.clone(), &events),
        (Some(60.0), 1)
    );
    assert_eq!(
        value("min of minutes in webinar", p.clone(), &events),
        (Some(15.0), 1)
    );
    assert_eq!(
        value("max of minutes in webinar", p.clone(), &events),
        (Some(60.0), 1)
    );
    assert_eq!(
        value("avg of minutes in webinar", p.clone(), &events),
        (Some(40.0), 1)
    );
    assert_eq!(
        value(
            "avg of minutes in webinar where topic == \"pricing\"",
            p.clone(),
            &events
        ),
        (Some(52.5), 0)
    );
}

#[test]
fn sum_of_nothing_is_0_and_min_max_avg_of_nothing_are_missing() {
    let events = webinars();
    let p = json!({});
    let none = "where topic == \"nothing\"";
    assert_eq!(
        value(&format!("sum of minutes in webinar {none}"), p.clone(), &[]),
        (Some(0.0), 0)
    );
    for kind in ["min", "max", "avg"] {
        assert_eq!(
            value(
                &format!("{kind} of minutes in webinar {none}"),
                p.clone(),
                &events
            ),
            (None, 0),
            "{kind}"
        );
        assert_eq!(
            value(&format!("{kind} of minutes in webinar"), p.clone(), &[]),
            (None, 0)
        );
    }
    // Events that match but have no number: still nothing to average.
    let only_text = [event("webinar", 1.0, json!({"minutes": "x"}))];
    assert_eq!(
        value("avg of minutes in webinar", p.clone(), &only_text),
        (None, 1)
    );
    assert_eq!(value("sum of minutes in webinar", p, &only_text), (Some(0.0), 1));
}

#[test]
fn distinct_count_compares_text_exactly_and_numbers_by_value() {
    let events = webinars();
    let p = json!({});
    // "pricing", "Pricing", "onboarding" (the future one does not count).
    assert_eq!(
        value("distinct count of topic in webinar", p.clone(), &events),
        (Some(3.0), 0)
    );
    let mixed = [
        event("x", 1.0, json!({"v": 1})),
        event("x", 1.0, json!({"v": 1.0})),
        event("x", 1.0, json!({"v": "1"})),
        event("x", 1.0, json!({"v": true})),
        event("x", 1.0, json!({"v": null})),
        event("x", 1.0, json!({"v": [1]})),
        event("x", 1.0, json!({})),
    ];
    assert_eq!(value("distinct count of v in x", p, &mixed), (Some(3.0), 1));
}

#[test]
fn first_and_props_of_the_first_and_last_matching_event() {
    let events = [
        event("page_view", 30.0, json!({"url": "/home"})),
        event("page_view", 2.0, json!({"url": "/pricing"})),
        event("page_view", 10.0, json!({"url": "/docs", "seconds": 12})),
        event("page_view", 2.0, json!({"url": "/pricing/enterprise"})),
        event("page_view", -1.0, json!({"url": "/future"})),
    ];
    let p = json!({});
    assert!(holds("url of first page_view == \"/home\"", p.clone(), &events));
    // Two events at the latest time: the later in the list wins.
    assert!(holds(
        "url of last page_view == \"/pricing/enterprise\"",
        p.clone(),
        &events
    ));
    assert!(holds(
        "url of last page_view where url != \"/pricing/enterprise\" == \"/pricing\"",
        p.clone(),
        &events
    ));
    assert!(holds(
        "url of last page_view starts with \"/pricing\"",
        p.clone(),
        &events
    ));
    assert!(holds(
        "seconds of first page_view where url == \"/docs\" == 12",
        p.clone(),
        &events
    ));
    // The picked event lacks the prop: missing, no fall-back.
    assert!(holds("seconds of last page_view is null", p.clone(), &events));
    assert!(holds("first page_view within 30 days", p.clone(), &events));
    assert!(!holds("first page_view within 29 days", p.clone(), &events));
    assert!(holds("days_since(first page_view) == 30", p.clone(), &events));
    assert!(holds(
        "first page_view where url == \"/nothing\" is null",
        p,
        &events
    ));
}

#[test]
fn contact_fields_are_read_inside_a_where_with_the_contact_prefix() {
    let events = [event(
        "page_view",
        1.0,
        json!({"url": "/us/pricing", "country": "FR"}),
    )];
    let p = json!({"country": "us", "limit": 1});
    assert!(holds(
        "any page_view where url contains contact.country",
        p.clone(),
        &events
    ));
    assert!(!holds(
        "any page_view where url contains country",
        p.clone(),
        &events
    ));
    assert!(holds("contact.country == \"us\"", p.clone(), &events));
    assert!(holds(
        "count of page_view where (country == \"FR\" and contact.limit == 1) >= 1",
        p,
        &events
    ));
}

#[test]
fn static_checks_name_the_fix() {
    let schema = "events { page_view { url: text  seconds: number } }\n";
    assert_eq!(
        error_codes(&format!("{schema}segment s when sum of url in page_view > 3")),
        ["rubric::type_mismatch"]
    );
    assert_eq!(
        error_codes(&format!("{schema}segment s when max of secnds in page_view > 3")),
        ["rubric::unknown_event_prop"]
    );
    assert_eq!(
        error_codes(&format!("{schema}segment s when url of last page_view > 3")),
        ["rubric::type_mismatch"],
        "the prop keeps its declared type"
    );
    assert_eq!(
        error_codes(&format!(
            "properties {{ country: text }}\n{schema}segment s when any page_view where url == country"
        )),
        ["rubric::unknown_event_prop"]
    );
    assert_eq!(
        error_codes(&format!(
            "{schema}segment s when any page_view where sum of seconds in page_view > 1"
        )),
        ["rubric::nested_aggregate"]
    );
    // Declared as a number, a distinct count and a `first` time are fine.
    compile_rules(&format!(
        "{schema}segment s when distinct count of seconds in page_view > 1 and first page_view within 3 days\n\
         audience a when s"
    ));
}

#[test]
fn fmt_writes_every_new_aggregate_back_unchanged() {
    let text = "segment s when sum of minutes in webinar where topic == \"x\" within 90 days >= 60 \
                or distinct count of `url path` in page_view within 30 days >= 2 \
                or url of last page_view starts with \"/pricing\" \
                or `avg` of first page_view where url contains contact.country == 3 \
                or first page_view within 7 days \
                or avg of minutes in webinar > 1\n";
    let formatted = rubric::fmt::format_source(text).unwrap();
    assert!(formatted.contains("sum of minutes in webinar where topic == \"x\" within 90 days >= 60"));
    assert!(formatted.contains("distinct count of `url path` in page_view within 30 days >= 2"));
    // `avg` is not reserved: written bare, read back as the prop of `first`.
    assert!(formatted.contains("or avg of first page_view where url contains contact.country == 3"));
    assert_eq!(rubric::fmt::format_source(&formatted).unwrap(), formatted);
}

#[test]
fn explain_shows_the_aggregate_value_and_warns_about_a_skipped_event() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.rubric");
    let contacts = dir.path().join("c.jsonl");
    std::fs::write(
        &rules,
        "score engagement 0..100 {\n  \"webinar time\" when sum of minutes in webinar >= 60 => +20\n}\n",
    )
    .unwrap();
    let line = json!({"id": "c", "events": webinars()}).to_string();
    std::fs::write(&contacts, line + "\n").unwrap();
    let output = rubric()
        .args(["explain", "--rules"])
        .arg(&rules)
        .arg("--contacts")
        .arg(&contacts)
        .args(["--id", "c", "--as-of", crate::common::AS_OF, "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("sum of minutes in webinar 120 ≥ 60 ✓"), "{text}");
    // The events that made the value, in the contact's order (not the future one).
    assert!(
        text.contains(
            "sum of minutes in webinar = 120 from 5 events: 45 (10 days ago), \"30\" (20 days ago), \
             15 (40 days ago), 60 (200 days ago), missing (5 days ago)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "`sum of minutes in webinar`: expected a number, found text \"30\"; that event is skipped"
        ),
        "{text}"
    );
}

/// Hours before as-of, the prop `n` and the prop `t` of a random event.
type RandomEvent = (i64, Option<Value>, Option<&'static str>);

/// A random event of type `x` for the property test: a time between 60
/// days before as-of and 5 days after, `n` a number, text, or missing, and
/// `t` one of a few texts or missing.
fn random_event() -> impl Strategy<Value = RandomEvent> {
    (
        -5i64 * 24..60 * 24,
        prop_oneof![
            3 => (-50i32..50).prop_map(|n| Some(json!(n))),
            1 => Just(Some(json!("7"))),
            1 => Just(None),
        ],
        prop_oneof![Just(Some("a")), Just(Some("b")), Just(Some("A")), Just(None)],
    )
}

/// What the reference expects of one aggregate over `events` (hours before
/// as-of, `n`, `t`) with `within W hours` and `where k >= threshold`.
struct Reference<'e> {
    matching: Vec<&'e RandomEvent>,
}

impl Reference<'_> {
    fn numbers(&self) -> Vec<f64> {
        self.matching
            .iter()
            .filter_map(|(_, n, _)| n.as_ref().and_then(Value::as_f64))
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn aggregates_agree_with_a_reference_evaluation(
        events in prop::collection::vec(random_event(), 0..8),
        window_hours in 1i64..70 * 24,
        threshold in -60i32..60,
    ) {
        let json_events: Vec<Value> = events
            .iter()
            .enumerate()
            .map(|(i, (hours, n, t))| {
                let mut props = serde_json::Map::new();
                props.insert(String::from("k"), json!(i as i64 * 10 - 40));
                if let Some(n) = n {
                    props.insert(String::from("n"), n.clone());
                }
                if let Some(t) = t {
                    props.insert(String::from("t"), json!(t));
                }
                event("x", *hours as f64 / 24.0, Value::Object(props))
            })
            .collect();
        let filter = format!("where k >= {threshold}");
        let window = format!("within {window_hours} hours");
        let reference = Reference {
            matching: events
                .iter()
                .enumerate()
                .filter(|(i, (hours, _, _))| {
                    *hours >= 0 && *hours <= window_hours && (*i as i32 * 10 - 40) >= threshold
                })
                .map(|(_, e)| e)
                .collect(),
        };
        let numbers = reference.numbers();
        let sum: f64 = numbers.iter().sum();
        let p = json!({});
        prop_assert_eq!(value(&format!("sum of n in x {filter} {window}"), p.clone(), &json_events).0, Some(sum));
        let min = numbers.iter().copied().reduce(f64::min);
        let max = numbers.iter().copied().reduce(f64::max);
        let avg = (!numbers.is_empty()).then(|| sum / numbers.len() as f64);
        prop_assert_eq!(value(&format!("min of n in x {filter} {window}"), p.clone(), &json_events).0, min);
        prop_assert_eq!(value(&format!("max of n in x {filter} {window}"), p.clone(), &json_events).0, max);
        prop_assert_eq!(value(&format!("avg of n in x {filter} {window}"), p.clone(), &json_events).0, avg);
        let mut distinct: Vec<&str> = reference.matching.iter().filter_map(|(_, _, t)| *t).collect();
        distinct.sort_unstable();
        distinct.dedup();
        prop_assert_eq!(
            value(&format!("distinct count of t in x {filter} {window}"), p.clone(), &json_events).0,
            Some(distinct.len() as f64)
        );
        // `first`/`last` take no window: the reference matches on the filter
        // and as-of only; ties go to the earlier (first) or later (last) event.
        let unwindowed: Vec<(usize, &RandomEvent)> = events
            .iter()
            .enumerate()
            .filter(|(i, (hours, _, _))| *hours >= 0 && (*i as i32 * 10 - 40) >= threshold)
            .collect();
        let first = unwindowed.iter().rev().max_by_key(|(_, (hours, _, _))| *hours);
        let last = unwindowed.iter().min_by_key(|(_, (hours, _, _))| *hours);
        let last = unwindowed
            .iter()
            .rev()
            .find(|(_, (hours, _, _))| Some(*hours) == last.map(|(_, (h, _, _))| *h));
        for (which, picked) in [("first", first), ("last", last)] {
            let expected = picked.map(|(i, _)| *i as f64 * 10.0 - 40.0);
            prop_assert_eq!(
                value(&format!("k of {which} x {filter}"), p.clone(), &json_events).0,
                expected,
                "{} {:?}", which, picked
            );
        }
        // Points computed per event on an `each` rule: the same matching
        // events, each number `n` giving `n * 2`; others give nothing.
        let each = format!(
            "score s -100000..100000 {{\n  \"e\" each x {filter} {window} => + n * 2\n}}"
        );
        let expected_points: f64 = numbers.iter().map(|n| n * 2.0).sum();
        let (points, _) = score_of(&each, p.clone(), &json_events);
        prop_assert!((points - expected_points).abs() < 1e-9, "{} {}", points, expected_points);
        let first_days = first.map(|(_, (hours, _, _))| *hours as f64 / 24.0);
        let days_since = value(&format!("days_since(first x {filter})"), p, &json_events).0;
        prop_assert_eq!(days_since.map(|d| (d * 24.0).round()), first_days.map(|d| (d * 24.0).round()));
    }
}

/// Writes the contacts of the `diff` and `--why-not` tests, returning the
/// directory that holds them (`c.jsonl`).
fn two_webinar_contacts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        json!({"id": "a", "events": [
            event("webinar_attended", 8.0, json!({"minutes": 45})),
            event("webinar_attended", 7.0, json!({"minutes": 5})),
        ]}),
        json!({"id": "b", "events": [event("webinar_attended", 8.0, json!({"minutes": 65}))]}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("c.jsonl"), text).unwrap();
    dir
}

#[test]
fn diff_compares_a_count_rule_with_a_sum_rule() {
    let dir = two_webinar_contacts();
    let base = dir.path().join("base.rubric");
    let new = dir.path().join("new.rubric");
    let rules = |test: &str| {
        format!(
            "events {{ webinar_attended {{ minutes: number }} }}\n\
             score engagement 0..100 {{\n  \"webinar time\" when {test} => +30\n}}\n\
             audience engaged when engagement >= 30\n"
        )
    };
    std::fs::write(&base, rules("count of webinar_attended within 90 days >= 2")).unwrap();
    std::fs::write(
        &new,
        rules("sum of minutes in webinar_attended within 90 days >= 60"),
    )
    .unwrap();
    let output = rubric()
        .args(["diff", "--format", "json", "--base"])
        .arg(&base)
        .arg("--rules")
        .arg(&new)
        .arg("--contacts")
        .arg(dir.path().join("c.jsonl"))
        .args(["--as-of", crate::common::AS_OF])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = report.to_string();
    // `a` (2 webinars, 50 minutes) leaves the audience, `b` (1, 65) joins it.
    assert!(text.contains("\"a\""), "{text}");
    assert!(text.contains("\"b\""), "{text}");
}

#[test]
fn why_not_names_the_failing_aggregate_test() {
    let dir = two_webinar_contacts();
    let rules = dir.path().join("r.rubric");
    std::fs::write(
        &rules,
        "events { webinar_attended { minutes: number } }\n\
         audience long_viewers when max of minutes in webinar_attended within 90 days >= 60\n",
    )
    .unwrap();
    let output = rubric()
        .args(["explain", "--rules"])
        .arg(&rules)
        .arg("--contacts")
        .arg(dir.path().join("c.jsonl"))
        .args([
            "--id",
            "a",
            "--why-not",
            "long_viewers",
            "--as-of",
            crate::common::AS_OF,
        ])
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("max of minutes in webinar_attended within 90 days 45 ≥ 60 ✗"),
        "{text}"
    );
}

/// The score `s` of `rules` for a contact with `properties` and `events`,
/// with the count of wrong-type warnings.
fn score_of(rules: &str, properties: Value, events: &[Value]) -> (f64, u32) {
    let plan = compile_rules(rules);
    let line = json!({"id": "c", "properties": properties, "events": events}).to_string();
    let contact = decode_line(&plan.decode, &line).unwrap().unwrap();
    let outcome = evaluate(&plan, &contact, as_of());
    (outcome.scores[0], outcome.warnings)
}

#[test]
fn each_rule_points_are_computed_per_event_from_its_props() {
    let events = [
        event("webinar_attended", 8.0, json!({"minutes": 30})),
        event("webinar_attended", 7.0, json!({})),
        event("webinar_attended", 6.0, json!({"minutes": "ten"})),
        event("webinar_attended", 5.0, json!({"minutes": 4})),
        event("webinar_attended", 50.0, json!({"minutes": 100})),
    ];
    let rules = |points: &str| {
        format!(
            "properties {{ boost: number }}\n\
             score s -1000..1000 {{\n  \"w\" each webinar_attended within 30 days => {points}\n}}"
        )
    };
    let p = json!({"boost": 2});
    // 30 × 0.5 + 4 × 0.5; the missing and the text prop give nothing (one warning).
    assert_eq!(score_of(&rules("+ minutes * 0.5"), p.clone(), &events), (17.0, 1));
    assert_eq!(
        score_of(&rules("+ minutes * 0.5 max 10"), p.clone(), &events),
        (10.0, 1)
    );
    assert_eq!(score_of(&rules("- minutes"), p.clone(), &events), (-34.0, 1));
    assert_eq!(
        score_of(&rules("+ minutes * contact.boost"), p.clone(), &events),
        (68.0, 1)
    );
    // Decay applies to each event's computed points.
    let (decayed, _) = score_of(&rules("+ minutes decay half-life 8 days"), p.clone(), &events);
    let expected = 30.0 * 0.5 + 4.0 * 0.5f64.powf(5.0 / 8.0);
    assert!((decayed - expected).abs() < 1e-9, "{decayed} {expected}");
    // No event with a number: the rule counted nothing, so `min` does not apply.
    let none = [event("webinar_attended", 1.0, json!({}))];
    assert_eq!(score_of(&rules("+ minutes min 5"), p, &none), (0.0, 0));
}

#[test]
fn explain_lists_each_events_computed_points_and_why_one_gave_none() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.rubric");
    std::fs::write(
        &rules,
        "score s 0..100 {\n  \"w\" each webinar_attended => + minutes * 0.5 max 20\n}\n",
    )
    .unwrap();
    let line = json!({"id": "c", "events": [
        event("webinar_attended", 8.0, json!({"minutes": 30})),
        event("webinar_attended", 7.0, json!({"minutes": "ten"})),
    ]});
    std::fs::write(dir.path().join("c.jsonl"), format!("{line}\n")).unwrap();
    let run = |format: &str| {
        let output = rubric()
            .args(["explain", "--rules"])
            .arg(&rules)
            .arg("--contacts")
            .arg(dir.path().join("c.jsonl"))
            .args(["--id", "c", "--as-of", crate::common::AS_OF, "--color", "never"])
            .args(["--format", format])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let text = run("text");
    assert!(
        text.contains("+ webinar_attended minutes=30 8 days ago = 15"),
        "{text}"
    );
    assert!(text.contains("skipped, no points"), "{text}");
    assert!(
        text.contains("`minutes * 0.5`: expected a number, found text \"ten\"; that event gives no points"),
        "{text}"
    );
    let json = run("json");
    assert!(json.contains("\"skipped\":\"no_points\""), "{json}");
}

#[test]
fn the_json_trace_lists_an_aggregates_events_up_to_a_cap() {
    let rules =
        "segment s when distinct count of url in page_view >= 1 and url of last page_view == \"/p24\"\n\
                 audience a when s\n";
    let sources = one_rule_file(rules);
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let events: Vec<Value> = (0..25)
        .map(|i| event("page_view", f64::from(30 - i), json!({"url": format!("/p{i}")})))
        .collect();
    let line = json!({"id": "c", "events": events}).to_string();
    let contact = decode_line(&plan.decode, &line).unwrap().unwrap();
    let (_, trace) = rubric::trace::explain(&plan, &sources, &contact, as_of());
    let json = serde_json::to_value(&trace).unwrap();
    let tests = &json["segments"][0]["tests"];
    let distinct = &tests[0]["aggregates"][0];
    assert_eq!(distinct["value"], 25.0);
    assert_eq!(distinct["events"].as_array().unwrap().len(), 20);
    assert_eq!(distinct["more_events"], 5);
    assert_eq!(distinct["events"][0]["value"], "/p0");
    let last = &tests[1]["aggregates"][0];
    assert_eq!(last["aggregate"], "url of last page_view");
    assert_eq!(
        last["events"],
        json!([{"index": 24, "at": last["events"][0]["at"], "age_days": 6.0, "value": "/p24"}])
    );
    let text = rubric::trace::render::text(&trace, false);
    assert!(text.contains("from 25 events: \"/p0\" (30 days ago)"), "{text}");
    assert!(text.contains(", … 5 more"), "{text}");
}

#[test]
fn the_missing_value_lint_knows_which_aggregates_may_be_missing() {
    // `min`/`max`/`avg` and a prop of the first or last event may be
    // missing, so `!=` on them skips contacts; `sum` and `distinct count`
    // always have a value.
    let lint_count = |test: &str| {
        let rules = format!(
            "events {{ page_view {{ url: text  seconds: number }} }}\n\
             suppress customer on ads, email, sales when lifecycle_stage == \"customer\"\n\
             segment s when {test}\naudience a when s\n"
        );
        let compiled = rubric::compile::compile_and_lint(&one_rule_file(&rules)).unwrap();
        compiled
            .warnings
            .iter()
            .filter(|d| d.code == "rubric::lint::negation_skips_missing")
            .count()
    };
    assert_eq!(lint_count("url of last page_view != \"/x\""), 1);
    assert_eq!(lint_count("url of first page_view != \"/x\""), 1);
    assert_eq!(lint_count("avg of seconds in page_view != 3"), 1);
    assert_eq!(lint_count("max of seconds in page_view != 3"), 1);
    assert_eq!(lint_count("sum of seconds in page_view != 3"), 0);
    assert_eq!(lint_count("distinct count of url in page_view != 3"), 0);
}

#[test]
fn contact_scores_bands_and_segments_are_read_inside_a_where() {
    let rules = "events { page_view { url: text } }\n\
                 score fit 0..100 { \"us\" when country == \"US\" => +50 }\n\
                 band grade { hot when fit >= 50  cold otherwise }\n\
                 segment us when country == \"US\"\n\
                 segment hot_viewer when any page_view where (contact.grade is hot and contact.fit >= 50 and contact.us)\n\
                 audience a when hot_viewer\n";
    let plan = compile_rules(rules);
    let events = [event("page_view", 1.0, json!({"url": "/p"}))];
    for (country, expected) in [("US", true), ("FR", false)] {
        let line = json!({"id": "c", "properties": {"country": country}, "events": events}).to_string();
        let contact = decode_line(&plan.decode, &line).unwrap().unwrap();
        let outcome = evaluate(&plan, &contact, as_of());
        assert_eq!(outcome.segments[1], expected, "{country}");
    }
}
