//! SPEC §3 semantics, one rule set and one contact at a time: windows, decay,
//! caps, clamps, first match, missing and wrongly typed values, suppressions,
//! routing. Each test states the value it expects and why.

use rubric::eval::{evaluate, Outcome};
use rubric::snapshot::decode_line;
use rubric::source::{SourceFile, Sources};
use serde_json::{json, Value};

use crate::common::AS_OF;

fn compile(rules: &str) -> rubric::plan::Plan {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("test.rubric", rules));
    match rubric::compile::compile(&sources) {
        Ok(c) => c.plan,
        Err(d) => panic!("{}", rubric::diagnostics::render(&d, &sources, false)),
    }
}

/// Evaluates `contact` (a JSON line) and returns the SPEC §5 result and the outcome.
fn give_full(rules: &str, contact: &str, as_of: &str) -> (Value, Outcome) {
    let plan = compile(rules);
    let contact = decode_line(&plan.decode, contact).unwrap().unwrap();
    let as_of = rubric::snapshot::parse_timestamp(as_of).unwrap();
    let outcome = evaluate(&plan, &contact, as_of);
    let mut out = Vec::new();
    rubric::output::write_result(&mut out, &plan, &contact.id, &outcome);
    (serde_json::from_slice(&out).unwrap(), outcome)
}

fn give(rules: &str, contact: &str) -> Value {
    give_full(rules, contact, AS_OF).0
}

fn score(rules: &str, contact: &str, name: &str) -> Value {
    give(rules, contact)["scores"][name].clone()
}

/// A contact with one event of `kind` at `at`.
fn with_event(kind: &str, at: &str, props: Value) -> String {
    json!({"id": "c", "events": [{"type": kind, "at": at, "props": props}]}).to_string()
}

const VIEWS: &str = r#"score s 0..100 { "views" each page_view within 30 days => +10 }"#;

#[test]
fn window_includes_both_ends() {
    // Exactly 30 days old: counts. Exactly at as-of: counts.
    assert_eq!(
        score(
            VIEWS,
            &with_event("page_view", "2026-10-29T00:00:00Z", json!({})),
            "s"
        ),
        10
    );
    assert_eq!(score(VIEWS, &with_event("page_view", AS_OF, json!({})), "s"), 10);
}

#[test]
fn window_excludes_older_and_future_events() {
    assert_eq!(
        score(
            VIEWS,
            &with_event("page_view", "2026-10-28T23:59:59Z", json!({})),
            "s"
        ),
        0
    );
    assert_eq!(
        score(
            VIEWS,
            &with_event("page_view", "2026-11-28T00:00:01Z", json!({})),
            "s"
        ),
        0
    );
}

#[test]
fn events_without_window_still_ignore_the_future() {
    let rules = r#"score s 0..100 { "all" each page_view => +1 }"#;
    let contact = json!({"id": "c", "events": [
        {"type": "page_view", "at": "2020-01-01T00:00:00Z"},
        {"type": "page_view", "at": "2026-11-29T00:00:00Z"}]})
    .to_string();
    assert_eq!(score(rules, &contact, "s"), 1);
}

#[test]
fn decay_halves_per_half_life() {
    let rules = r#"score s 0..100 { "v" each page_view => +10 decay half-life 7 days }"#;
    // 7 days old: 5; 14 days old: 2.5; together 7.5.
    let contact = json!({"id": "c", "events": [
        {"type": "page_view", "at": "2026-11-21T00:00:00Z"},
        {"type": "page_view", "at": "2026-11-14T00:00:00Z"}]})
    .to_string();
    assert_eq!(score(rules, &contact, "s"), 7.5);
}

#[test]
fn spec_example_pricing_view_decays_to_7_71() {
    // SPEC §5: 2.625 days old, 10 × 0.5^(2.625/7) = 7.71.
    let rules = r#"score intent 0..100 {
      "pricing" each page_view where url starts with "/pricing" within 30 days => +10 decay half-life 7 days, max 40
    }"#;
    let contact = with_event(
        "page_view",
        "2026-11-25T09:00:00Z",
        json!({"url": "/pricing/enterprise"}),
    );
    assert_eq!(score(rules, &contact, "intent"), 7.71);
}

#[test]
fn rule_cap_limits_the_rule_not_the_score() {
    let rules = r#"score s 0..100 {
      "clicks" each email_click => +5 max 15
      "bonus" when true => +1
    }"#;
    let events: Vec<Value> = (1..=5)
        .map(|d| json!({"type": "email_click", "at": format!("2026-11-2{d}T00:00:00Z")}))
        .collect();
    let contact = json!({"id": "c", "events": events}).to_string();
    assert_eq!(score(rules, &contact, "s"), 16);
}

#[test]
fn min_bounds_a_negative_rule() {
    let rules = r#"score s -100..100 { "bounces" each email_bounce => -10 min -15 }"#;
    let contact = json!({"id": "c", "events": [
        {"type": "email_bounce", "at": "2026-11-20T00:00:00Z"},
        {"type": "email_bounce", "at": "2026-11-21T00:00:00Z"}]})
    .to_string();
    assert_eq!(score(rules, &contact, "s"), -15);
}

#[test]
fn score_is_clamped_to_its_range() {
    let rules = r#"
      score high 0..100 { "a" when true => +80  "b" when true => +50 }
      score low 0..100 { "a" when true => -30 }
    "#;
    let v = give(rules, r#"{"id":"c"}"#);
    assert_eq!(v["scores"]["high"], 100);
    assert_eq!(v["scores"]["low"], 0);
}

#[test]
fn first_group_takes_only_the_first_matching_row() {
    let rules = r#"score fit 0..100 {
      "title" first {
        when job_title matches /\b(vp|director)\b/i => +30
        when job_title matches /\bmanager\b/i => +15
      }
    }"#;
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","properties":{"job_title":"VP, Manager of Things"}}"#,
            "fit"
        ),
        30
    );
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","properties":{"job_title":"Marketing Manager"}}"#,
            "fit"
        ),
        15
    );
    assert_eq!(
        score(rules, r#"{"id":"c","properties":{"job_title":"Student"}}"#, "fit"),
        0
    );
}

#[test]
fn missing_and_null_make_every_comparison_false() {
    let rules = r#"score s 0..100 {
      "ge"  when company_size >= 200 => +1
      "ne"  when company_size != 200 => +2
      "in"  when country in ["US"] => +4
      "nin" when country not in ["US"] => +8
      "not" when not (company_size >= 200) => +16
      "null" when company_size is null => +32
    }"#;
    assert_eq!(score(rules, r#"{"id":"c"}"#, "s"), 48);
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","properties":{"company_size":null,"country":null}}"#,
            "s"
        ),
        48
    );
}

#[test]
fn wrong_type_is_false_and_counted_as_a_warning() {
    let rules = r#"score fit 0..100 {
      "size" when company_size >= 200 => +25
      "not size" when not (company_size >= 200) => +1
    }"#;
    let (v, outcome) = give_full(rules, r#"{"id":"c","properties":{"company_size":"250"}}"#, AS_OF);
    // The comparison is false, so `not` makes the second rule true.
    assert_eq!(v["scores"]["fit"], 1);
    assert_eq!(outcome.warnings, 2);
    let (_, outcome) = give_full(rules, r#"{"id":"c","properties":{"company_size":true}}"#, AS_OF);
    assert_eq!(outcome.warnings, 2, "booleans are not numbers");
}

#[test]
fn case_sensitivity_follows_the_rule() {
    let rules = r#"score s 0..100 {
      "exact" when industry == "SaaS" => +1
      "ci" when industry == "saas" ignoring case => +2
      "in ci" when industry in ["software", "saas"] ignoring case => +4
      "in exact" when industry in ["saas"] => +8
    }"#;
    assert_eq!(
        score(rules, r#"{"id":"c","properties":{"industry":"SaaS"}}"#, "s"),
        7
    );
}

#[test]
fn strings_are_not_trimmed_but_email_domains_are() {
    let rules = r#"score s 0..100 {
      "eq" when industry == "saas" => +1
      "free" when domain(email) in ["gmail.com"] ignoring case => +2
    }"#;
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","email":"  a.b@GMail.com ","properties":{"industry":" saas"}}"#,
            "s"
        ),
        2
    );
}

#[test]
fn domain_is_after_the_last_at_and_absent_without_one() {
    let rules = r#"score s 0..100 {
      "d" when domain(email) == "b.io" => +1
      "none" when domain(email) is null => +2
    }"#;
    assert_eq!(score(rules, r#"{"id":"c","email":"x@y@b.io"}"#, "s"), 1);
    assert_eq!(score(rules, r#"{"id":"c","email":"not-an-email"}"#, "s"), 2);
    assert_eq!(score(rules, r#"{"id":"c"}"#, "s"), 2);
}

#[test]
fn timestamp_property_within_follows_the_event_rule() {
    let rules = r#"score s 0..100 { "recent" when last_sales_touch_at within 7 days => +1 }"#;
    let at = |v: &str| json!({"id": "c", "properties": {"last_sales_touch_at": v}}).to_string();
    assert_eq!(
        score(rules, &at("2026-11-21T00:00:00Z"), "s"),
        1,
        "exactly 7 days"
    );
    assert_eq!(
        score(rules, &at("2026-11-21T01:00:00+02:00"), "s"),
        0,
        "offset: 7 days and 1 hour... minus 2 hours"
    );
    assert_eq!(
        score(rules, &at("2026-11-25"), "s"),
        1,
        "a bare date is midnight UTC"
    );
    assert_eq!(
        score(rules, &at("2026-11-29T00:00:00Z"), "s"),
        0,
        "future is not within"
    );
    let (v, outcome) = give_full(rules, &at("last tuesday"), AS_OF);
    assert_eq!(v["scores"]["s"], 0);
    assert_eq!(outcome.warnings, 1, "not a timestamp is a wrong type");
}

#[test]
fn aggregates_work_in_any_condition() {
    let rules = r#"
      suppress fatigued on email when count of email_sent within 7 days >= 3
      suppress quiet on ads when last email_sent within 1 days
      audience everyone when true
      workflow nurture when true
    "#;
    let sends = |days: &[u32]| {
        let events: Vec<Value> = days
            .iter()
            .map(|d| json!({"type": "email_sent", "at": format!("2026-11-{:02}T00:00:00Z", 28 - d)}))
            .collect();
        json!({"id": "c", "events": events}).to_string()
    };
    let v = give(rules, &sends(&[1, 2, 3]));
    assert_eq!(v["suppressed"], json!(["fatigued", "quiet"]));
    assert_eq!(v["workflows"], json!([]));
    assert_eq!(v["audiences"], json!([]));
    let v = give(rules, &sends(&[2, 3, 8]));
    assert_eq!(v["suppressed"], json!([]));
    assert_eq!(v["workflows"], json!(["nurture"]));
}

#[test]
fn where_filters_on_event_props_and_missing_props_fail() {
    let rules = r#"score s 0..100 { "demo" when any form_submit where form == "demo_request" within 14 days => +35 }"#;
    assert_eq!(
        score(
            rules,
            &with_event(
                "form_submit",
                "2026-11-20T00:00:00Z",
                json!({"form": "demo_request"})
            ),
            "s"
        ),
        35
    );
    assert_eq!(
        score(
            rules,
            &with_event("form_submit", "2026-11-20T00:00:00Z", json!({})),
            "s"
        ),
        0
    );
    assert_eq!(
        score(
            rules,
            &with_event(
                "form_submit",
                "2026-11-10T00:00:00Z",
                json!({"form": "demo_request"})
            ),
            "s"
        ),
        0
    );
}

const ACTIVATION: &str = r#"
  score fit 0..100 { "f" when fit_points > 0 => +60 }
  band readiness {
    hot  when fit >= 50
    cold otherwise
  }
  suppress no_ads on ads when blocked_ads is true
  suppress no_sales on sales when blocked_sales is true
  audience ads_hot when readiness is hot
  workflow mail_hot when readiness is hot
  route call when readiness is hot {
    task "Call"
    sla 2 days
    queue first {
      na when country in ["US", "CA"] ignoring case
      rest otherwise
    }
  }
"#;

#[test]
fn suppressions_apply_per_channel() {
    let v = give(
        ACTIVATION,
        r#"{"id":"c","properties":{"fit_points":1,"blocked_ads":true,"country":"us"}}"#,
    );
    assert_eq!(v["bands"]["readiness"], "hot");
    assert_eq!(v["suppressed"], json!(["no_ads"]));
    assert_eq!(v["audiences"], json!([]));
    assert_eq!(v["workflows"], json!(["mail_hot"]));
    assert_eq!(
        v["routes"],
        json!([{"name": "call", "task": "Call", "sla_hours": 48, "queue": "na"}])
    );
    let v = give(
        ACTIVATION,
        r#"{"id":"c","properties":{"fit_points":1,"blocked_sales":true}}"#,
    );
    assert_eq!(v["routes"], json!([]));
    assert_eq!(v["audiences"], json!(["ads_hot"]));
}

#[test]
fn band_otherwise_and_queue_otherwise() {
    let v = give(ACTIVATION, r#"{"id":"c","properties":{"fit_points":0}}"#);
    assert_eq!(v["bands"]["readiness"], "cold");
    assert_eq!(v["routes"], json!([]));
    let v = give(
        ACTIVATION,
        r#"{"id":"c","properties":{"fit_points":5,"country":"FR"}}"#,
    );
    assert_eq!(v["routes"][0]["queue"], "rest");
}

#[test]
fn comparisons_use_unrounded_scores() {
    // 10 × 0.5^(1/7) = 9.057 (rounds to 9.06) and 10 × 0.5^(3/7) = 7.43;
    // sum 16.49..., below 16.5 even though the rounded parts add up to 16.49.
    let rules = r#"
      score s 0..100 { "v" each page_view => +10 decay half-life 7 days }
      band b {
        high when s >= 16.495
        low otherwise
      }
    "#;
    let contact = json!({"id": "c", "events": [
        {"type": "page_view", "at": "2026-11-27T00:00:00Z"},
        {"type": "page_view", "at": "2026-11-25T00:00:00Z"}]})
    .to_string();
    let v = give(rules, &contact);
    let exact = 10.0 * 0.5f64.powf(1.0 / 7.0) + 10.0 * 0.5f64.powf(3.0 / 7.0);
    assert_eq!(v["scores"]["s"], (exact * 100.0).round() / 100.0);
    assert_eq!(v["bands"]["b"], if exact >= 16.495 { "high" } else { "low" });
}

#[test]
fn segments_and_constants_are_reusable() {
    let rules = r#"
      const senior = /\b(vp|chief)\b/i
      const regions = ["US", "CA"]
      segment senior_na when job_title matches senior and country in regions
      score s 0..100 { "x" when senior_na => +10 "y" when not senior_na => +1 }
    "#;
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","properties":{"job_title":"Chief of Staff","country":"CA"}}"#,
            "s"
        ),
        10
    );
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","properties":{"job_title":"Chief of Staff","country":"DE"}}"#,
            "s"
        ),
        1
    );
}

#[test]
fn days_since_and_time_comparisons() {
    let rules = r#"
      score s 0..100 {
        "old" when days_since(signed_up_at) > 30 => +1
        "after" when signed_up_at > "2026-01-01" => +2
      }
    "#;
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","properties":{"signed_up_at":"2026-06-01T00:00:00Z"}}"#,
            "s"
        ),
        3
    );
    assert_eq!(
        score(
            rules,
            r#"{"id":"c","properties":{"signed_up_at":"2025-06-01T00:00:00Z"}}"#,
            "s"
        ),
        1
    );
}

#[test]
fn evaluation_is_deterministic() {
    let contact = with_event("page_view", "2026-11-25T09:00:00Z", json!({"url": "/pricing"}));
    let first = give(VIEWS, &contact);
    for _ in 0..5 {
        assert_eq!(give(VIEWS, &contact), first);
    }
}

#[test]
fn declared_timestamps_compare_as_instants() {
    let rules = r#"
      properties { signed_up_at: timestamp  converted_at: timestamp }
      score s 0..100 {
        "later" when converted_at > signed_up_at => +1
        "same"  when converted_at == "2026-11-25T02:00:00+02:00" => +2
      }
    "#;
    let c = r#"{"id":"c","properties":{"signed_up_at":"2026-11-24","converted_at":"2026-11-25T00:00:00Z"}}"#;
    assert_eq!(
        score(rules, c, "s"),
        3,
        "same instant written with another offset is equal"
    );
    let (v, outcome) = give_full(
        rules,
        r#"{"id":"c","properties":{"signed_up_at":"soon","converted_at":"2026-11-25T00:00:00Z"}}"#,
        AS_OF,
    );
    assert_eq!(v["scores"]["s"], 2);
    assert_eq!(
        outcome.warnings, 1,
        "text that is not a timestamp is a wrong type"
    );
}

#[test]
fn rule_bounds_apply_only_to_counted_events() {
    let rules = r#"score s 0..100 { "v" each page_view within 7 days => +2 min 5, max 9 }"#;
    assert_eq!(
        score(rules, r#"{"id":"c"}"#, "s"),
        0,
        "nothing counted gives 0, not the minimum"
    );
    assert_eq!(
        score(
            rules,
            &with_event("page_view", "2026-11-27T00:00:00Z", json!({})),
            "s"
        ),
        5
    );
}

#[test]
fn quoted_names_reach_properties_named_like_keywords_or_with_spaces() {
    let rules = r#"
      score s 0..100 {
        "crm"  when `score` >= 50 => +1
        "open" when `Lead Status` == "Open" => +2
      }
    "#;
    let c = r#"{"id":"c","properties":{"score":60,"Lead Status":"Open"}}"#;
    assert_eq!(score(rules, c, "s"), 3);
}

#[test]
fn the_formatter_keeps_quoted_names_quoted_and_plain_ones_plain() {
    let text =
        "score s 0..100 {\n  \"a\" when `score` >= 1 and `fit_x` >= 2 and `Lead Status` == \"x\" => +1\n}\n";
    let formatted = rubric::fmt::format_source(text).unwrap();
    assert!(formatted.contains("`score` >= 1"), "{formatted}");
    assert!(formatted.contains(" fit_x >= 2"), "{formatted}");
    assert!(formatted.contains("`Lead Status` == \"x\""), "{formatted}");
    assert_eq!(rubric::fmt::format_source(&formatted).unwrap(), formatted);
}

/// A `RegexScratch` keeps its own copies of the plan's regexes (so that worker
/// threads do not share regex caches). Reused with another plan whose regex
/// sits at the same index, it must use that plan's regex, not its copy.
#[test]
fn an_outcome_reused_across_plans_uses_each_plans_regexes() {
    let vp = compile("score fit 0..100 {\n  \"vp\" when job_title matches /^vp/i => +10\n}\n");
    let head = compile("score fit 0..100 {\n  \"head\" when job_title matches /^head/i => +10\n}\n");
    let as_of = rubric::snapshot::parse_timestamp(AS_OF).unwrap();
    let line = r#"{"id":"c-1","properties":{"job_title":"VP Marketing"}}"#;
    let mut outcome = Outcome::for_plan(&vp);
    let mut regexes = rubric::eval::RegexScratch::default();
    for (plan, expected) in [(&vp, 10.0), (&head, 0.0), (&vp, 10.0)] {
        let contact = decode_line(&plan.decode, line).unwrap().unwrap();
        rubric::eval::evaluate_into(
            plan,
            &contact,
            as_of,
            &mut outcome,
            &mut regexes,
            &mut rubric::eval::NoTrace,
        );
        assert_eq!(outcome.scores, vec![expected]);
    }
}
