//! Arithmetic in tests (issue 13): precedence, parentheses, missing and
//! wrongly typed operands, division by zero, the static type check, the
//! explanation, and a property test against a reference evaluation of
//! random expressions.

use proptest::prelude::*;
use rubric::eval::evaluate;
use rubric::snapshot::decode_line;

use crate::common::{compile_rules, error_codes, one_rule_file, AS_OF};

/// Whether `segment s when <condition>` holds for a contact with
/// `properties`, and how many wrong-type warnings the evaluation counted.
fn holds(condition: &str, properties: &str) -> (bool, u32) {
    let plan = compile_rules(&format!(
        "segment s when {condition}\naudience the_audience when s"
    ));
    let line = format!(r#"{{"id":"c","properties":{properties}}}"#);
    let contact = decode_line(&plan.decode, &line).unwrap().unwrap();
    let as_of = rubric::snapshot::parse_timestamp(AS_OF).unwrap();
    let outcome = evaluate(&plan, &contact, as_of);
    (outcome.segments[0], outcome.warnings)
}

#[test]
fn times_and_divide_bind_tighter_than_plus_and_minus() {
    let props = r#"{"a": 2, "b": 3, "c": 4}"#;
    assert_eq!(holds("a + b * c == 14", props), (true, 0));
    assert_eq!(holds("(a + b) * c == 20", props), (true, 0));
    assert_eq!(holds("c - b - a == -1", props), (true, 0), "left to right");
    assert_eq!(holds("c - (b - a) == 3", props), (true, 0));
    assert_eq!(holds("c / a * b == 6", props), (true, 0), "left to right");
    assert_eq!(holds("a * -1 == -2", props), (true, 0));
    assert_eq!(
        holds("10 < a * c + b", props),
        (true, 0),
        "arithmetic on the right"
    );
    assert_eq!(holds("(a + b) / 2 >= 2.5 and (c > 3)", props), (true, 0));
}

#[test]
fn a_missing_operand_makes_the_expression_missing_without_a_warning() {
    // Missing is not a wrong type: like `x > 3` on a missing `x`, the test is false.
    assert_eq!(holds("a + missing > -1000", r#"{"a": 1}"#), (false, 0));
    assert_eq!(holds("a + missing is null", r#"{"a": 1}"#), (true, 0));
    assert_eq!(holds("not (a * missing > 0)", r#"{"a": 1}"#), (true, 0));
    assert_eq!(holds("a + b > 0", r#"{"a": 1, "b": null}"#), (false, 0));
}

#[test]
fn a_wrong_type_operand_makes_the_expression_missing_with_a_warning() {
    assert_eq!(holds("a * b > 0", r#"{"a": 1, "b": "VP"}"#), (false, 1));
    assert_eq!(holds("a + b > 0", r#"{"a": true, "b": 1}"#), (false, 1));
    // Every wrong operand is reported, not only the first.
    assert_eq!(holds("a + b > 0", r#"{"a": "x", "b": [1]}"#), (false, 2));
}

#[test]
fn division_by_zero_makes_the_expression_missing_with_a_warning() {
    assert_eq!(holds("a / b > 0", r#"{"a": 1, "b": 0}"#), (false, 1));
    assert_eq!(holds("a / b is null", r#"{"a": 1, "b": 0}"#), (true, 1));
    assert_eq!(holds("a / (b - 1) < 0", r#"{"a": 1, "b": 1}"#), (false, 1));
    assert_eq!(holds("0 / a == 0", r#"{"a": 5}"#), (true, 0));
}

#[test]
fn scores_counts_and_days_since_are_numbers() {
    let rules = r#"
score fit 0..100 { "all" when true => +80 }
segment s when fit / 2 + count of page_view * 10 >= 50 and days_since(signed_up_at) / 7 >= 1
audience a when s
"#;
    let plan = compile_rules(rules);
    let line = r#"{"id":"c","properties":{"signed_up_at":"2026-11-01T00:00:00Z"},"events":[{"type":"page_view","at":"2026-11-20T00:00:00Z"}]}"#;
    let contact = decode_line(&plan.decode, line).unwrap().unwrap();
    let outcome = evaluate(&plan, &contact, rubric::snapshot::parse_timestamp(AS_OF).unwrap());
    assert!(outcome.segments[0]);
}

#[test]
fn arithmetic_on_a_value_known_not_to_be_a_number_is_a_compile_error() {
    let schema = "properties { job_title: text  size: number  vip: boolean }\n";
    assert_eq!(
        error_codes(&format!("{schema}segment s when job_title * 2 > 1")),
        ["rubric::type_mismatch"]
    );
    assert_eq!(
        error_codes(&format!("{schema}segment s when size + vip + job_title > 1")),
        ["rubric::type_mismatch", "rubric::type_mismatch"]
    );
    assert_eq!(
        error_codes(&format!("{schema}segment s when size + \"x\" > 1")),
        ["rubric::type_mismatch"]
    );
    assert_eq!(
        error_codes(&format!("{schema}segment s when size * 2")),
        ["rubric::not_a_condition"]
    );
    assert_eq!(
        error_codes(&format!("{schema}segment s when size * 2 == \"x\"")),
        ["rubric::type_mismatch"]
    );
}

#[test]
fn explain_shows_each_operand_value_and_the_result() {
    let rules = "score fit 0..100 { \"all\" when true => +85 }\n\
                 score intent 0..100 { \"all\" when true => +57 }\n\
                 segment priority when 0.6 * fit + 0.4 * intent >= 50\n\
                 segment broken when visits / zero > 1\n\
                 audience a when priority or broken\n";
    let sources = one_rule_file(rules);
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let line = r#"{"id":"c","properties":{"visits":7,"zero":0}}"#;
    let contact = decode_line(&plan.decode, line).unwrap().unwrap();
    let as_of = rubric::snapshot::parse_timestamp(AS_OF).unwrap();
    let (_, trace) = rubric::trace::explain(&plan, &sources, &contact, as_of);
    let text = rubric::trace::render::text(&trace, false);
    assert!(
        text.contains("segment priority ✓ 0.6 * fit 85 + 0.4 * intent 57 = 73.8 ≥ 50 ✓"),
        "{text}"
    );
    assert!(
        text.contains("segment broken ✗ visits 7 / zero 0 = missing ✗"),
        "{text}"
    );
    assert!(
        text.contains("`visits / zero`: expected a divisor other than 0, found a number 0.0"),
        "{text}"
    );
    let json = serde_json::to_value(&trace).unwrap();
    let test = &json["segments"][0]["tests"][0];
    assert_eq!(test["worked"], "0.6 * fit 85 + 0.4 * intent 57");
    assert_eq!(test["value"], 73.8);
    assert_eq!(
        test["operands"],
        serde_json::json!([{"operand": "fit", "value": 85.0}, {"operand": "intent", "value": 57.0}])
    );
}

#[test]
fn explain_shows_the_right_sides_operands_too() {
    // Issue 13: the right side of a comparison was shown only as its result.
    let rules = "segment s when a + b > c * 2 - d\n\
                 segment t when a > visits + 1\n\
                 audience x when s or t\n";
    let sources = one_rule_file(rules);
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let line = r#"{"id":"c","properties":{"a":1,"b":2,"c":3,"d":4}}"#;
    let contact = decode_line(&plan.decode, line).unwrap().unwrap();
    let as_of = rubric::snapshot::parse_timestamp(AS_OF).unwrap();
    let (_, trace) = rubric::trace::explain(&plan, &sources, &contact, as_of);
    let text = rubric::trace::render::text(&trace, false);
    assert!(
        text.contains("segment s ✓ a 1 + b 2 = 3 > c 3 * 2 - d 4 = 2 ✓"),
        "{text}"
    );
    assert!(
        text.contains("segment t ✗ a 1 > visits missing + 1 = missing ✗"),
        "{text}"
    );
    let json = serde_json::to_value(&trace).unwrap();
    let test = &json["segments"][0]["tests"][0];
    assert_eq!(test["worked"], "a 1 + b 2");
    assert_eq!(test["other_worked"], "c 3 * 2 - d 4");
    assert_eq!(test["other"], 2.0);
}

// ------------------------------------------------- reference evaluation

/// A random arithmetic expression over the properties `a`, `b` and `c`.
#[derive(Debug, Clone)]
enum Tree {
    Number(f64),
    Name(&'static str),
    Op(char, Box<Tree>, Box<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (-4i32..5).prop_map(|n| Tree::Number(f64::from(n) / 2.0)),
        prop::sample::select(vec!["a", "b", "c"]).prop_map(Tree::Name),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        (
            prop::sample::select(vec!['+', '-', '*', '/']),
            inner.clone(),
            inner,
        )
            .prop_map(|(op, l, r)| Tree::Op(op, Box::new(l), Box::new(r)))
    })
}

fn tight(op: char) -> bool {
    matches!(op, '*' | '/')
}

/// The expression with as few parentheses as precedence and left-to-right
/// grouping allow, or with every operation in parentheses.
fn write(t: &Tree, all_parentheses: bool) -> String {
    match t {
        Tree::Number(n) => format!("{n}"),
        Tree::Name(name) => (*name).to_string(),
        Tree::Op(op, l, r) => {
            let side = |child: &Tree, right: bool| {
                let text = write(child, all_parentheses);
                let needs = match child {
                    Tree::Op(c, ..) => {
                        all_parentheses || (tight(*op) && !tight(*c)) || (right && tight(*op) == tight(*c))
                    }
                    _ => false,
                };
                if needs {
                    format!("({text})")
                } else {
                    text
                }
            };
            format!("{} {op} {}", side(l, false), side(r, true))
        }
    }
}

/// The value of the expression: `None` when an operand is missing, a
/// division is by zero or a result is not finite.
fn reference(t: &Tree, values: &[Option<f64>; 3]) -> Option<f64> {
    match t {
        Tree::Number(n) => Some(*n),
        Tree::Name(name) => values[usize::from(name.as_bytes()[0] - b'a')],
        Tree::Op(op, l, r) => {
            // Both sides are evaluated, as the evaluator does.
            let (l, r) = (reference(l, values), reference(r, values));
            let (l, r) = (l?, r?);
            let result = match op {
                '+' => l + r,
                '-' => l - r,
                '*' => l * r,
                _ if r == 0.0 => return None,
                _ => l / r,
            };
            result.is_finite().then_some(result)
        }
    }
}

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        1 => Just(None),
        6 => (-6i32..7).prop_map(|n| Some(f64::from(n) / 2.0)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn evaluation_matches_a_reference_evaluation(
        t in tree(),
        values in [value(), value(), value()],
        all_parentheses in any::<bool>(),
    ) {
        // A bare name or number is not arithmetic; `+ 0` makes it so.
        let text = format!("{} + 0", write(&t, all_parentheses));
        let expected = reference(&t, &values).map(|v| v + 0.0);
        let condition = match expected {
            Some(v) => format!("{text} == {v}"),
            None => format!("{text} is null"),
        };
        let properties = serde_json::json!({
            "a": values[0], "b": values[1], "c": values[2],
        });
        let (result, _) = holds(&condition, &properties.to_string());
        prop_assert!(result, "{condition} with {properties}");
        // fmt prints what parses back to the same meaning.
        let rules = format!("segment s when {condition}\naudience the_audience when s\n");
        let formatted = rubric::fmt::format_source(&rules).unwrap();
        prop_assert_eq!(rubric::fmt::format_source(&formatted).unwrap(), formatted.clone());
        // The writer's parentheses are kept, so a long condition may be
        // broken before `when`.
        let condition_again = formatted
            .split("\naudience")
            .next()
            .unwrap()
            .trim_start_matches("segment s")
            .trim_start()
            .trim_start_matches("when ")
            .to_string();
        let (again, _) = holds(&condition_again, &properties.to_string());
        prop_assert!(again, "{condition_again} with {properties}");
    }
}

#[test]
fn fmt_spaces_operators_keeps_grouping_parentheses_and_comments_after_a_division() {
    let text = "segment s when (a+b)/2>=1 and a-(b-c)>0 and ((a*b))*c<1 and a+(b*c)>0  # after a division\n\
                audience the_audience when s\n";
    let formatted = rubric::fmt::format_source(text).unwrap();
    assert_eq!(
        formatted,
        // The writer's parentheses stay, even the redundant `(b * c)`;
        // doubled ones become one pair.
        "segment s when (a + b) / 2 >= 1 and a - (b - c) > 0 and (a * b) * c < 1 and a + (b * c) > 0  # after a division\n\
         audience the_audience when s\n"
    );
    assert_eq!(rubric::fmt::format_source(&formatted).unwrap(), formatted);
}

#[test]
fn explain_snapshot_of_arithmetic_tests() {
    let rules = "score fit 0..100 { \"big\" when company_size >= 200 => +60 }\n\
                 score intent 0..100 { \"pages\" when count of page_view within 30 days * 10 > 5 => +50 }\n\
                 segment priority when 0.6 * fit + 0.4 * intent >= 50\n\
                 segment ratio when (visits + 1) / 2 >= 3 and 100 < fit + missing_prop\n\
                 segment broken when visits / zero > 1 or visits * title > 1\n\
                 audience the_audience when priority and ratio and broken\n";
    let sources = one_rule_file(rules);
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let line = r#"{"id":"c","properties":{"company_size":250,"visits":7,"zero":0,"title":"VP"},"events":[{"type":"page_view","at":"2026-11-20T00:00:00Z"}]}"#;
    let contact = decode_line(&plan.decode, line).unwrap().unwrap();
    let as_of = rubric::snapshot::parse_timestamp(AS_OF).unwrap();
    let (_, trace) = rubric::trace::explain(&plan, &sources, &contact, as_of);
    insta::assert_snapshot!(
        "arithmetic_explain_text",
        rubric::trace::render::text(&trace, false)
    );
}

// ------------------------------------------------------- computed points

/// The score `s` of a contact with `properties`, and the warnings counted.
fn score_of(rules: &str, properties: &str) -> (f64, u32) {
    let plan = compile_rules(rules);
    let line = format!(r#"{{"id":"c","properties":{properties}}}"#);
    let contact = decode_line(&plan.decode, &line).unwrap().unwrap();
    let outcome = evaluate(&plan, &contact, rubric::snapshot::parse_timestamp(AS_OF).unwrap());
    (outcome.scores[0], outcome.warnings)
}

#[test]
fn computed_points_are_bounded_by_max_and_min_and_clamped_by_the_score() {
    let rules = r#"score s -100..100 {
  "webinar" when webinar_minutes > 0 => + webinar_minutes * 0.5 max 20
  "penalty" when true => - (bounces - 1) * 2 min -4
}"#;
    assert_eq!(
        score_of(rules, r#"{"webinar_minutes": 30, "bounces": 2}"#),
        (13.0, 0)
    );
    assert_eq!(
        score_of(rules, r#"{"webinar_minutes": 100, "bounces": 9}"#),
        (16.0, 0)
    );
    let clamped = "score s 0..10 { \"a\" when true => + a * 3 }";
    assert_eq!(score_of(clamped, r#"{"a": 5}"#), (10.0, 0));
}

#[test]
fn computed_points_from_a_missing_or_wrong_value_give_nothing() {
    let rules = "score s 0..100 {\n  \"a\" when true => + a * 2\n  \"fixed\" when true => +5\n}";
    assert_eq!(score_of(rules, "{}"), (5.0, 0));
    assert_eq!(score_of(rules, r#"{"a": "x"}"#), (5.0, 1));
    let single = "score s 0..100 { \"a\" when true => + a  \"fixed\" when true => +5 }";
    assert_eq!(score_of(single, r#"{"a": "x"}"#), (5.0, 1));
    assert_eq!(score_of(single, r#"{"a": 7}"#), (12.0, 0));
}

#[test]
fn explain_shows_the_operands_of_computed_points_and_scores() {
    let rules = r#"score s 0..100 {
  "webinar" when true => + webinar_minutes * 0.5 max 10
  "tiers" first {
    when visits > 100 => +30
    when visits > 0 => + visits / 2
  }
}
score p 0..100 = 0.5 * s + 1
"#;
    let sources = one_rule_file(rules);
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let line = r#"{"id":"c","properties":{"webinar_minutes":30,"visits":7}}"#;
    let contact = decode_line(&plan.decode, line).unwrap().unwrap();
    let as_of = rubric::snapshot::parse_timestamp(AS_OF).unwrap();
    let (_, trace) = rubric::trace::explain(&plan, &sources, &contact, as_of);
    let text = rubric::trace::render::text(&trace, false);
    assert!(
        text.contains("      + webinar_minutes 30 * 0.5 = 15\n      15 → capped at 10"),
        "{text}"
    );
    assert!(
        text.contains("✓ row: visits 7 > 0 ✓ → + visits 7 / 2 = 3.5"),
        "{text}"
    );
    assert!(
        text.contains("  = 0.5 * s 13.5 + 1 = 7.75 (range 0..100)"),
        "{text}"
    );
    let json = serde_json::to_value(&trace).unwrap();
    assert_eq!(
        json["scores"][0]["rules"][0]["worked"],
        "+ webinar_minutes 30 * 0.5"
    );
    assert_eq!(json["scores"][1]["worked"], "0.5 * s 13.5 + 1");
}

#[test]
fn a_first_row_can_compute_its_points() {
    let rules = r#"score s 0..100 {
  "tiers" first {
    when visits > 100 => +30
    when visits > 0 => + visits / 2
  }
}"#;
    assert_eq!(score_of(rules, r#"{"visits": 7}"#), (3.5, 0));
    assert_eq!(score_of(rules, r#"{"visits": 700}"#), (30.0, 0));
}

#[test]
fn computed_points_errors() {
    let schema = "properties { job: text  a: number }\nevents { x }\n";
    let parse_codes = |text: &str| {
        let (_, d) = rubric::syntax::parse_file(rubric::source::FileId(0), text);
        d.iter()
            .map(|d| (d.code.to_string(), d.message.clone()))
            .collect::<Vec<_>>()
    };
    // Per event, points may be computed from the event's props (issue 13,
    // tests/aggregates.rs); they must be a number.
    let each = parse_codes("score s 0..10 { \"e\" each x => + a * 2 }");
    assert!(each.is_empty(), "{each:?}");
    assert_eq!(
        error_codes("events { x { a: text } }\nscore s 0..10 { \"e\" each x => + a * 2 }"),
        ["rubric::type_mismatch"]
    );
    // The sign applies to the whole value.
    let sign = parse_codes("score s 0..10 { \"n\" when true => - a + b }");
    assert!(sign[0].1.contains("`=> - (a + b)`"), "{sign:?}");
    assert_eq!(
        error_codes(&format!(
            "{schema}score s 0..10 {{ \"d\" when true => + a decay half-life 7 days }}"
        )),
        ["rubric::misplaced_modifier"]
    );
    assert_eq!(
        error_codes(&format!(
            "{schema}score s 0..10 {{ \"f\" when true => + job * 2 }}"
        )),
        ["rubric::type_mismatch"]
    );
    assert_eq!(
        error_codes(&format!(
            "{schema}score s 0..10 {{ \"f\" when true => +5 max 3 }}"
        )),
        ["rubric::misplaced_modifier"]
    );
}

#[test]
fn fmt_writes_computed_points_with_a_spaced_sign() {
    let text = "score s 0..100 {\n  \"a\" when true => +a*0.5 max 20\n  \"b\" when true => -(a+b)\n  \"c\" when true => -a*2\n  \"d\" when true => +30\n}\n";
    let formatted = rubric::fmt::format_source(text).unwrap();
    assert_eq!(
        formatted,
        "score s 0..100 {\n  \"a\" when true => + a * 0.5 max 20\n  \"b\" when true => - (a + b)\n  \"c\" when true => - a * 2\n  \"d\" when true => +30\n}\n"
    );
    assert_eq!(rubric::fmt::format_source(&formatted).unwrap(), formatted);
}

// ------------------------------------------------------- computed scores

#[test]
fn a_computed_score_reads_other_scores_in_dependency_order_and_is_clamped() {
    // Declared before the scores it reads: the plan orders it after them.
    let rules = r#"score priority 0..100 = 0.6 * fit + 0.4 * intent
score fit 0..100 { "big" when company_size >= 200 => +60 }
score intent 0..100 { "v" when visits > 3 => +57.26 }
score double 0..100 = priority * 2
score missing_is_zero -10..10 = nothing + 1
"#;
    let plan = compile_rules(rules);
    let line = r#"{"id":"c","properties":{"company_size":250,"visits":7}}"#;
    let contact = decode_line(&plan.decode, line).unwrap().unwrap();
    let outcome = evaluate(&plan, &contact, rubric::snapshot::parse_timestamp(AS_OF).unwrap());
    assert!((outcome.scores[0] - 58.904).abs() < 1e-9, "{:?}", outcome.scores);
    assert_eq!(outcome.scores[3], 100.0, "clamped to its range");
    assert_eq!(outcome.scores[4], 0.0, "a missing value counts as 0");
}

#[test]
fn computed_score_errors() {
    assert_eq!(
        error_codes("score a 0..10 = b + 1\nscore b 0..10 = a * 2"),
        ["rubric::cycle"]
    );
    assert_eq!(
        error_codes("properties { job: text }\nscore a 0..10 = job"),
        ["rubric::type_mismatch"]
    );
}

#[test]
fn fmt_writes_a_computed_score_on_one_line() {
    let text = "score fit 0..100 { \"a\" when true => +1 }\nscore p   0..100 =0.6*fit+(fit-1)/2\n";
    let formatted = rubric::fmt::format_source(text).unwrap();
    assert_eq!(
        formatted,
        "score fit 0..100 {\n  \"a\" when true => +1\n}\nscore p 0..100 = 0.6 * fit + (fit - 1) / 2\n"
    );
    assert_eq!(rubric::fmt::format_source(&formatted).unwrap(), formatted);
}
