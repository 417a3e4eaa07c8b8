//! Focused tests of the evaluator on tiny rule sets compiled from text:
//! windows, decay, caps, function-call warnings, and the pairing of the
//! tracer's scopes. (The semantics as a whole are covered by `tests/semantics.rs`.)

use super::*;
use crate::source::{SourceFile, Sources};

const AS_OF: &str = "2026-11-28T00:00:00Z";

fn as_of() -> i64 {
    crate::snapshot::parse_timestamp(AS_OF).expect("as-of parses")
}

fn compile(rules: &str) -> Plan {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("test.rubric", rules));
    match crate::compile::compile(&sources) {
        Ok(compiled) => compiled.plan,
        Err(d) => panic!("{}", crate::diagnostics::render(&d, &sources, false)),
    }
}

fn contact(plan: &Plan, line: &str) -> Contact {
    crate::snapshot::decode_line(&plan.decode, line)
        .expect("the contact decodes")
        .expect("the line is not blank")
}

/// The scores of `line` under `rules`.
fn scores(rules: &str, line: &str) -> Vec<f64> {
    let plan = compile(rules);
    evaluate(&plan, &contact(&plan, line), as_of()).scores
}

/// A `page_view` contact with events at these ages (in days; negative is
/// after as-of).
fn views(ages_in_days: &[f64]) -> String {
    let events: Vec<String> = ages_in_days
        .iter()
        .map(|days| {
            let at = as_of() - (days * MICROS_PER_DAY as f64) as i64;
            format!(
                r#"{{"type":"page_view","at":"{}"}}"#,
                crate::snapshot::format_timestamp(at)
            )
        })
        .collect();
    format!(r#"{{"id":"c","events":[{}]}}"#, events.join(","))
}

#[test]
fn a_window_includes_its_edge_and_excludes_the_future() {
    let rules = "score s 0..100 {\n  \"views\" each page_view within 7 days => +1\n}\n";
    assert_eq!(scores(rules, &views(&[7.0])), vec![1.0]);
    assert_eq!(scores(rules, &views(&[7.001])), vec![0.0]);
    assert_eq!(scores(rules, &views(&[-0.001])), vec![0.0]);
    assert_eq!(scores(rules, &views(&[0.0, 3.0, 8.0, -1.0])), vec![2.0]);
}

#[test]
fn decay_halves_the_points_every_half_life() {
    let rules =
        "score s 0..100 {\n  \"views\" each page_view within 30 days => +10 decay half-life 7 days\n}\n";
    assert_eq!(scores(rules, &views(&[0.0])), vec![10.0]);
    assert_eq!(scores(rules, &views(&[7.0])), vec![5.0]);
    assert_eq!(scores(rules, &views(&[7.0, 14.0])), vec![7.5]);
}

#[test]
fn max_bounds_the_sum_and_min_applies_only_when_an_event_counted() {
    let max = "score s 0..100 {\n  \"views\" each page_view => +10 max 15\n}\n";
    assert_eq!(scores(max, &views(&[1.0, 2.0, 3.0])), vec![15.0]);
    let min = "score s 0..100 {\n  \"views\" each page_view within 7 days => +1 min 5\n}\n";
    assert_eq!(scores(min, &views(&[1.0])), vec![5.0]);
    assert_eq!(scores(min, &views(&[9.0])), vec![0.0]);
    assert_eq!(scores(min, r#"{"id":"c"}"#), vec![0.0]);
}

/// A rule set that opens every kind of scope.
const EVERY_SCOPE: &str = r#"
properties {
  title: text
  size: number
  country: text
  signed_up: timestamp
}
events {
  page_view { url: text }
  click { campaign: text }
}
score intent 0..100 {
  "views" each page_view where url starts with "/pricing" within 30 days => +10 decay half-life 7 days, max 15
  "title" first {
    "vp" when title matches /vp/i => +20
    "manager" when lower(title) contains "manager" => +5
  }
  "not small" when not (size < 10) and country == "US" => +1
  "spring" when any click where campaign == "spring" within 7 days => +2
  "days" when days_since(signed_up) > 3 => +1
}
band tier {
  high when intent >= 30
  mid when intent >= 10
  low otherwise
}
segment big when size >= 100
suppress tiny on ads when size < 5
audience wide when tier is high or big
route call when intent >= 1 {
  task "call"
  sla 24 hours
  queue first {
    us when country == "US"
    rest otherwise
  }
}
"#;

const CONTACTS: [&str; 4] = [
    r#"{"id":"a","properties":{"title":"VP Sales","size":500,"country":"US"},
        "events":[{"type":"page_view","at":"2026-11-27T00:00:00Z","props":{"url":"/pricing"}},
                  {"type":"page_view","at":"2026-11-20T00:00:00Z","props":{"url":"/blog"}},
                  {"type":"page_view","at":"2026-12-01T00:00:00Z","props":{"url":"/pricing"}},
                  {"type":"click","at":"2026-11-27T00:00:00Z","props":{"campaign":"spring"}}]}"#,
    r#"{"id":"b","properties":{"title":"Sales Manager","size":3,"country":"DE","signed_up":"2026-11-01"}}"#,
    r#"{"id":"c","properties":{"title":42,"size":"big","signed_up":7}}"#,
    r#"{"id":"d"}"#,
];

/// Checks that scopes nest: every `exit` closes the innermost open scope
/// (same kind), tests and warnings happen inside a scope, and nothing is
/// left open.
#[derive(Default)]
struct PairingTracer {
    open: Vec<Scope>,
    entered: Vec<Scope>,
    events_entered: usize,
    /// Spans of the tests seen and of the warnings seen.
    tests: Vec<Span>,
    warnings: Vec<Span>,
}

impl Tracer for PairingTracer {
    const ENABLED: bool = true;

    fn enter(&mut self, scope: Scope) {
        if matches!(scope, Scope::Event { .. }) {
            self.events_entered += 1;
        }
        self.open.push(scope);
        self.entered.push(scope);
    }

    fn exit(&mut self, result: ScopeResult<'_>) {
        let scope = self.open.pop();
        assert!(
            scope.is_some_and(|s| result.closes(&s)),
            "{result:?} closes {scope:?}"
        );
    }

    fn test(&mut self, cond: &Cond, _: bool, _: &EvalValue<'_>, _: Option<&EvalValue<'_>>) {
        assert!(!self.open.is_empty(), "a test outside every scope");
        self.tests.extend(cond.span());
    }

    fn warning(&mut self, span: Span, _: &EvalValue<'_>, _: &str) {
        assert!(!self.open.is_empty(), "a warning outside every scope");
        self.warnings.push(span);
    }
}

#[test]
fn every_enter_is_matched_by_an_exit() {
    let plan = compile(EVERY_SCOPE);
    let mut seen: Vec<std::mem::Discriminant<Scope>> = Vec::new();
    let mut regexes = RegexScratch::default();
    for line in CONTACTS {
        let contact = contact(&plan, line);
        let mut tracer = PairingTracer::default();
        let mut outcome = Outcome::for_plan(&plan);
        evaluate_into(&plan, &contact, as_of(), &mut outcome, &mut regexes, &mut tracer);
        assert!(tracer.open.is_empty(), "left open: {:?}", tracer.open);
        let page_views = plan.event_names.iter().position(|n| n == "page_view");
        let events = page_views
            .and_then(|slot| contact.events.get(slot))
            .map_or(0, Vec::len);
        assert_eq!(tracer.events_entered, events, "one Event scope per page_view");
        // The traced outcome is the untraced one.
        assert_eq!(outcome, evaluate(&plan, &contact, as_of()));
        for scope in tracer.entered {
            let kind = std::mem::discriminant(&scope);
            if !seen.contains(&kind) {
                seen.push(kind);
            }
        }
    }
    assert_eq!(seen.len(), 14, "every kind of scope is opened by some contact");
}

/// Regression: a wrong type met inside a function call was reported without
/// a span (and the trace waited for the next test to place it); then at the
/// span of the test around the call. It is reported at the call itself.
#[test]
fn a_wrong_type_in_a_function_call_is_reported_at_the_call() {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("test.rubric", EVERY_SCOPE));
    let plan = compile(EVERY_SCOPE);
    let Some(line) = CONTACTS.get(2) else {
        panic!("no contact c")
    };
    let contact = contact(&plan, line);
    let mut tracer = PairingTracer::default();
    let mut outcome = Outcome::for_plan(&plan);
    evaluate_into(
        &plan,
        &contact,
        as_of(),
        &mut outcome,
        &mut RegexScratch::default(),
        &mut tracer,
    );
    // `title matches`, `lower(title)`, `days_since(signed_up)`, and `size`
    // in the rule, the segment and the suppression.
    assert_eq!(outcome.warnings, 6);
    assert_eq!(tracer.warnings.len(), 6);
    let (at_tests, at_calls): (Vec<Span>, Vec<Span>) = tracer
        .warnings
        .iter()
        .partition(|span| tracer.tests.contains(span));
    let texts =
        |spans: &[Span]| -> Vec<String> { spans.iter().map(|s| sources.text(*s).to_string()).collect() };
    assert_eq!(texts(&at_calls), ["lower(title)", "days_since(signed_up)"]);
    assert_eq!(at_tests.len(), 4, "{:?}", texts(&at_tests));
}

/// The same pairing on the playbook in `rules/` and every example contact
/// (some of them with values of the wrong type and events after as-of).
#[test]
fn every_enter_is_matched_by_an_exit_on_the_example_contacts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = Sources::load(&root.join("rules")).expect("rules/ loads");
    let plan = crate::compile::compile(&sources).expect("rules/ compiles").plan;
    let contacts = std::fs::read_to_string(root.join("examples/contacts.jsonl")).expect("contacts read");
    let mut regexes = RegexScratch::default();
    let mut outcome = Outcome::for_plan(&plan);
    let mut evaluated = 0;
    for line in contacts.lines().filter(|l| !l.trim().is_empty()) {
        let contact = contact(&plan, line);
        let mut tracer = PairingTracer::default();
        evaluate_into(&plan, &contact, as_of(), &mut outcome, &mut regexes, &mut tracer);
        assert!(
            tracer.open.is_empty(),
            "{}: left open {:?}",
            contact.id,
            tracer.open
        );
        assert_eq!(outcome, evaluate(&plan, &contact, as_of()), "{}", contact.id);
        evaluated += 1;
    }
    assert!(evaluated >= 10);
}
