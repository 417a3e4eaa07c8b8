//! The recorder on a small rule set: what each scope records, where warnings
//! are placed, and the JSON names of the enums. (The example contacts'
//! traces are snapshotted end to end in `tests/explain.rs`.)

use super::*;
use crate::source::SourceFile;
use serde_json::json;

const RULES: &str = r#"properties {
  title: text
  size: number
  country: text
}
events {
  page_view { url: text }
  click { campaign: text }
}
score intent 0..100 {
  "views" each page_view where url starts with "/pricing" within 30 days => +10 max 15
  "title" first {
    "vp" when title matches /vp/i => +20
    "manager" when lower(title) contains "manager" => +5
    "any" when title is not null => +1
  }
  "not small" when not (size < 10) and country == "US" => +1
  "spring" when any click where campaign == "spring" within 7 days => +2
}
band tier {
  high when intent >= 30
  mid when intent >= 10
  low otherwise
}
route call when intent >= 1 {
  task "call"
  sla 24 hours
  queue first {
    us when country == "US"
    rest otherwise
  }
}
"#;

fn explain_line(line: &str) -> (Sources, Trace) {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("test.rubric", RULES));
    let plan = match crate::compile::compile(&sources) {
        Ok(compiled) => compiled.plan,
        Err(d) => panic!("{}", crate::diagnostics::render(&d, &sources, false)),
    };
    let contact = crate::snapshot::decode_line(&plan.decode, line)
        .expect("decodes")
        .expect("not blank");
    let as_of = crate::snapshot::parse_timestamp("2026-11-28T00:00:00Z").expect("as-of");
    let (_, trace) = explain(&plan, &sources, &contact, as_of);
    (sources, trace)
}

const MANAGER: &str = r#"{"id":"m","properties":{"title":"Sales Manager","size":5,"country":"US"},
  "events":[{"type":"page_view","at":"2026-11-27T00:00:00Z","props":{"url":"/pricing"}},
            {"type":"page_view","at":"2026-11-26T00:00:00Z","props":{"url":"/pricing/a"}},
            {"type":"page_view","at":"2026-11-25T00:00:00Z","props":{"url":"/blog"}},
            {"type":"page_view","at":"2026-12-01T00:00:00Z","props":{"url":"/pricing"}},
            {"type":"click","at":"2026-11-27T00:00:00Z","props":{"campaign":"spring"}}]}"#;

#[test]
fn records_each_rule_with_its_kind_rows_events_and_cap() {
    let (_, trace) = explain_line(MANAGER);
    let rules = &trace.scores[0].rules;
    let kinds: Vec<RuleKind> = rules.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [RuleKind::Each, RuleKind::First, RuleKind::When, RuleKind::When]
    );

    let views = &rules[0];
    let decisions: Vec<(bool, Option<serde_json::Value>)> = views
        .events
        .iter()
        .map(|e| (e.counted, e.skipped.map(|s| json!(s))))
        .collect();
    assert_eq!(
        decisions,
        [
            (true, None),
            (true, None),
            (false, Some(json!("filter_failed"))),
            (false, Some(json!("after_as_of"))),
        ]
    );
    // The filter's test is recorded on the event that it rejected.
    assert_eq!(views.events[2].tests.len(), 1);
    assert_eq!(views.events[2].tests[0].subject, "url");
    assert_eq!(views.points, 15.0);
    assert_eq!(views.cap.as_ref().map(|c| (c.sum, c.total)), Some((20.0, 15.0)));

    // Rows are tried up to the first that matches.
    let rows: Vec<(Option<&str>, bool)> = rules[1]
        .rows
        .iter()
        .map(|r| (r.label.as_deref(), r.matched))
        .collect();
    assert_eq!(rows, [(Some("vp"), false), (Some("manager"), true)]);
    assert_eq!(rules[1].points, 5.0);
    assert!(rules[1].tests.is_empty() && rules[1].cap.is_none());
}

#[test]
fn marks_tests_under_not_and_after_a_failed_and() {
    let (_, trace) = explain_line(MANAGER);
    let tests = &trace.scores[0].rules[2].tests;
    let flags: Vec<(&str, bool, bool, bool)> = tests
        .iter()
        .map(|t| (t.test.as_str(), t.result, t.negated, t.after_failure))
        .collect();
    assert_eq!(
        flags,
        [
            ("size < 10", true, true, false),
            ("country == \"US\"", true, false, true)
        ]
    );
}

#[test]
fn does_not_record_the_tests_of_an_aggregates_where() {
    let (_, trace) = explain_line(MANAGER);
    let tests: Vec<&str> = trace.scores[0].rules[3]
        .tests
        .iter()
        .map(|t| t.test.as_str())
        .collect();
    assert_eq!(tests, ["any click where campaign == \"spring\" within 7 days"]);
}

#[test]
fn records_band_branches_the_branches_not_reached_and_the_queue() {
    let (_, trace) = explain_line(MANAGER);
    assert_eq!(trace.scores[0].value, 22.0);
    let band = &trace.bands[0];
    assert_eq!(band.value, "mid");
    let tried: Vec<(&str, bool)> = band
        .branches
        .iter()
        .map(|b| (b.value.as_str(), b.matched))
        .collect();
    assert_eq!(tried, [("high", false), ("mid", true)]);
    let later: Vec<(&str, bool, bool)> = band
        .not_reached
        .iter()
        .map(|b| (b.value.as_str(), b.matched, b.otherwise))
        .collect();
    assert_eq!(later, [("low", true, true)]);

    let route = &trace.routes[0];
    assert!(route.member && route.condition);
    assert_eq!(route.queue.as_deref(), Some("us"));
    let queue: Vec<(&str, bool)> = route
        .queue_branches
        .iter()
        .map(|b| (b.value.as_str(), b.matched))
        .collect();
    assert_eq!(queue, [("us", true)]);
}

/// Regression: a wrong type met inside a function call had no location and
/// waited for the next test to get one; then it quoted the whole test. It
/// quotes the call.
#[test]
fn places_a_function_call_warning_at_the_call() {
    let (_, trace) = explain_line(r#"{"id":"w","properties":{"title":42}}"#);
    let messages: Vec<(&str, &str)> = trace
        .warnings
        .iter()
        .map(|w| (w.at.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "test.rubric:13",
                "`title matches /vp/i`: expected text, found a number 42.0; the test is false"
            ),
            (
                "test.rubric:14",
                "`lower(title)`: expected text, found a number 42.0; the test is false"
            ),
        ]
    );
}

#[test]
fn serializes_rule_kinds_and_skip_reasons_by_their_json_names() {
    let (_, trace) = explain_line(MANAGER);
    let json = serde_json::to_value(&trace).expect("serializes");
    let rules = &json["scores"][0]["rules"];
    assert_eq!(rules[0]["kind"], "each");
    assert_eq!(rules[1]["kind"], "first");
    assert_eq!(rules[2]["kind"], "when");
    assert_eq!(rules[0]["events"][3]["skipped"], "after_as_of");
    assert_eq!(rules[0]["events"][2]["skipped"], "filter_failed");
    assert!(rules[0]["events"][0].get("skipped").is_none());
}
