//! Regression tests for issue 13's "fixes found by the same exercise": each
//! test names the problem a second, independent playbook ran into.

use rubric::compile::compile_and_lint;
use rubric::eval::evaluate;
use rubric::snapshot::decode_line;
use rubric::source::{SourceFile, Sources};
use serde_json::Value;

use crate::common::AS_OF;

fn sources(rules: &str) -> Sources {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("t.rubric", rules));
    sources
}

fn compile(sources: &Sources) -> rubric::plan::Plan {
    match rubric::compile::compile(sources) {
        Ok(c) => c.plan,
        Err(d) => panic!("{}", rubric::diagnostics::render(&d, sources, false)),
    }
}

fn as_of() -> i64 {
    rubric::snapshot::parse_timestamp(AS_OF).unwrap()
}

/// The SPEC §5 result line of `contact` (a JSON line) as JSON.
fn result(rules: &str, contact: &str) -> Value {
    let plan = compile(&sources(rules));
    let contact = decode_line(&plan.decode, contact).unwrap().unwrap();
    let outcome = evaluate(&plan, &contact, as_of());
    let mut out = Vec::new();
    rubric::output::write_result(&mut out, &plan, &contact.id, &outcome);
    serde_json::from_slice(&out).unwrap()
}

/// The names of the segments that hold, through a score of one point each
/// (segments are not in results).
fn holding(rules: &str, contact: &str) -> Vec<String> {
    let value = result(rules, contact);
    let mut held: Vec<String> = value["audiences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    held.sort();
    held
}

/// `explain` of `contact`, as text without colour.
fn explain_text(rules: &str, contact: &str) -> (String, rubric::trace::Trace) {
    let sources = sources(rules);
    let plan = compile(&sources);
    let contact = decode_line(&plan.decode, contact).unwrap().unwrap();
    let (_, trace) = rubric::trace::explain(&plan, &sources, &contact, as_of());
    (rubric::trace::render::text(&trace, false), trace)
}

fn lint_codes(rules: &str) -> Vec<String> {
    let sources = sources(rules);
    match compile_and_lint(&sources) {
        Ok(compiled) => compiled.warnings.iter().map(|d| d.code.to_string()).collect(),
        Err(d) => panic!("{}", rubric::diagnostics::render(&d, &sources, false)),
    }
}

/// Regression: `country "US" == "us" ✓` dropped the `ignoring case` that
/// `in` and `starts with` show.
#[test]
fn explain_text_says_ignoring_case_on_equality_and_inequality() {
    let rules = r#"
score s 0..10 {
  "eq" when country == "us" ignoring case => +1
  "ne" when country != "us" ignoring case => +1
  "plain" when country == "US" => +1
}"#;
    let (text, _) = explain_text(rules, r#"{"id":"c","properties":{"country":"US"}}"#);
    assert!(text.contains(r#"country "US" == "us" ignoring case ✓"#), "{text}");
    assert!(text.contains(r#"country "US" ≠ "us" ignoring case ✗"#), "{text}");
    assert!(text.contains(r#"country "US" == "US" ✓"#), "{text}");
}

const CASES: &str = r#"
audience eq          when company == "salesforce" ignoring case
audience ne          when company != "salesforce" ignoring case
audience listed      when company in ["salesforce"] ignoring case
audience not_in      when company not in ["salesforce"] ignoring case
audience prefix      when company starts with "sales" ignoring case
audience suffix      when company ends with "force" ignoring case
audience inside      when company contains "salesforce" ignoring case
audience regex       when company matches /salesforce/ ignoring case
audience regex_i     when company matches /^salesforce$/i
"#;

fn company(name: &str) -> String {
    serde_json::json!({"id": "c", "properties": {"company": name}}).to_string()
}

/// Regression: `"ſALESFORCE" contains "salesforce" ignoring case` was false
/// while `matches … ignoring case` was true. Every test now folds case the
/// same way (Unicode simple case folding, the regex engine's rule).
#[test]
fn every_case_insensitive_test_folds_non_ascii_the_same_way() {
    let all_but_negations = ["eq", "inside", "listed", "prefix", "regex", "regex_i", "suffix"];
    for name in ["ſALESFORCE", "SALESFORCE", "salesforce", "SaleſForce"] {
        assert_eq!(holding(CASES, &company(name)), all_but_negations, "{name}");
    }
    // The Kelvin sign folds to `k`; the sharp s is not `ss`.
    let kelvin = r#"audience k when company == "kk" ignoring case
audience k_in when company in ["KK"] ignoring case
audience k_re when company matches /^kk$/i"#;
    assert_eq!(holding(kelvin, &company("\u{212A}k")), ["k", "k_in", "k_re"]);
    let sharp = r#"audience eq when company == "straße" ignoring case
audience re when company matches /^straße$/i
audience ss when company == "strasse" ignoring case
audience ss_re when company matches /^strasse$/i"#;
    assert_eq!(holding(sharp, &company("STRAẞE")), ["eq", "re"]);
    assert_eq!(holding(sharp, &company("STRASSE")), ["ss", "ss_re"]);
    // Different letters stay different.
    assert_eq!(holding(CASES, &company("salesforcé")), ["ne", "not_in", "prefix"]);
}

/// The documented whitespace: `trim` and `domain` strip Unicode whitespace
/// (no-break and wide spaces too), not only ASCII spaces.
#[test]
fn trim_and_domain_strip_unicode_whitespace() {
    let rules = r#"
audience trimmed when trim(company) == "Acme"
audience domain  when domain(email) == "acme.io"
"#;
    let contact = serde_json::json!({
        "id": "c",
        "email": "\u{00A0}sam@acme.io\u{2003}\t",
        "properties": {"company": "\u{3000}Acme\u{00A0}\n"}
    });
    assert_eq!(holding(rules, &contact.to_string()), ["domain", "trimmed"]);
}

/// Regression: `domain("sam@")` was the empty text, so
/// `website ends with domain(email)` held for every website.
#[test]
fn an_email_ending_in_at_has_no_domain() {
    let rules = r#"
audience same_site when website ends with domain(email)
audience no_domain when domain(email) is null
"#;
    for email in ["sam@", " sam@ ", "sam"] {
        let contact = serde_json::json!({
            "id": "c", "email": email, "properties": {"website": "acme.io"}
        });
        assert_eq!(holding(rules, &contact.to_string()), ["no_domain"], "{email:?}");
    }
    let contact = r#"{"id":"c","email":"sam@acme.io","properties":{"website":"www.acme.io"}}"#;
    assert_eq!(holding(rules, contact), ["same_site"]);
}

/// Regression: `sla 10 minutes` printed `"sla_hours":0.16666666666666666`.
#[test]
fn sla_hours_are_rounded_to_two_decimals() {
    for (sla, hours) in [
        ("10 minutes", "0.17"),
        ("24 hours", "24"),
        ("90 minutes", "1.5"),
        ("2 days", "48"),
        ("1 minute", "0.02"),
        ("0.1 minutes", "0.01"),
    ] {
        let rules = format!("route r when true {{\n  task \"t\"\n  sla {sla}\n  queue q\n}}\n");
        let line = result(&rules, r#"{"id":"c"}"#).to_string();
        assert!(
            line.contains(&format!(r#""sla_hours":{hours},"#)),
            "{sla}: {line}"
        );
    }
}

/// Regression: `const nothing = null` was accepted, and every use of it was
/// an error.
#[test]
fn a_null_constant_is_an_error_at_the_constant() {
    let sources = sources("const nothing = null\n");
    let errors = rubric::compile::compile(&sources).err().unwrap();
    let codes: Vec<String> = errors.iter().map(|d| d.code.to_string()).collect();
    assert_eq!(codes, ["rubric::null_comparison"]);
    assert_eq!(errors[0].message, "a constant cannot be `null`");
}

const GRADES: &str = r#"
score s 0..10 { "x" when country == "US" => +5 }
band grade {
  `A1` when s >= 5
  B2 otherwise
}
audience top when grade is `A1`
"#;

/// Regression: `--why-not grade=A1` (and a band value in backticks in the
/// rules) printed nested backticks such as ``` ``A1`` ```.
#[test]
fn why_not_a_backticked_band_value_has_no_nested_backticks() {
    let (_, trace) = explain_text(GRADES, r#"{"id":"c","properties":{"country":"CA"}}"#);
    for asked in ["grade=A1", "grade=`A1`"] {
        let answer = rubric::trace::why_not(&trace, asked).unwrap();
        assert_eq!(answer.target, "grade=A1");
        assert!(!answer.satisfied);
        let all = format!("{:?} {:?}", answer.reasons, answer.changes);
        assert!(!all.contains("``A1``"), "{all}");
    }
    let answer = rubric::trace::why_not(&trace, "top").unwrap();
    assert_eq!(
        answer.changes.first().map(String::as_str),
        Some("`` grade is `A1` `` would have to hold (it is B2)")
    );
    assert_eq!(
        answer.reasons.first().map(String::as_str),
        Some("condition fails: grade is B2, not A1 ✗")
    );
}

/// Decision (docs/language.md §11): `min` bounds the rule's total after
/// decay, like `max`, so one event 59 days old gives the full `min 5`.
#[test]
fn min_bounds_the_decayed_total() {
    let rules = r#"score s 0..100 {
  "views" each page_view within 90 days => +10 decay half-life 7 days, min 5
}"#;
    let old = r#"{"id":"c","events":[{"type":"page_view","at":"2026-09-30T00:00:00Z"}]}"#;
    assert_eq!(result(rules, old)["scores"]["s"], 5);
    // Two fresh views are above the floor: 10 × 0.5^(1/7) + 10 × 0.5^(2/7).
    let fresh = r#"{"id":"c","events":[{"type":"page_view","at":"2026-11-27T00:00:00Z"},
        {"type":"page_view","at":"2026-11-26T00:00:00Z"}]}"#;
    assert_eq!(result(rules, fresh)["scores"]["s"], 17.26);
    // No event, no floor.
    assert_eq!(result(rules, r#"{"id":"c"}"#)["scores"]["s"], 0);
    let (text, _) = explain_text(rules, old);
    assert!(text.contains("0.03 → raised to 5"), "{text}");
}

const LINT: &str = "rubric::lint::negation_skips_missing";

/// A lint for `!=`, `not in` and `is not true` on values that may be
/// missing: `open_deal is not true` silently dropped contacts without it.
#[test]
fn negations_on_values_that_may_be_missing_are_linted() {
    let header = "properties { country: text  open_deal: boolean  owner: text }\n\
                  events { page_view { url: text } }\n\
                  score fit 0..100 { \"a\" when country == \"US\" => +10 }\n";
    for fires in [
        "segment x when open_deal is not true",
        "segment x when open_deal is not false",
        "segment x when country != \"US\"",
        "segment x when country != \"us\" ignoring case",
        "segment x when \"US\" != country",
        "segment x when country not in [\"US\", \"CA\"]",
        "segment x when lower(owner) != \"sam\"",
        "segment x when domain(email) != \"gmail.com\"",
        "segment x when email is not null and domain(email) != \"gmail.com\"",
        "segment x when any page_view where url != \"/\"",
        "segment x when fit >= 10 and (owner != \"sam\" or country == \"US\")",
    ] {
        let rules = format!("{header}{fires}\naudience a when x\n");
        let codes = lint_codes(&rules);
        assert_eq!(
            codes.iter().filter(|c| *c == LINT).count(),
            1,
            "{fires}: {codes:?}"
        );
    }
    for quiet in [
        "segment x when not (open_deal is true)",
        "segment x when open_deal is null or open_deal is not true",
        "segment x when open_deal is not null and open_deal is not true",
        "segment x when owner is not null and lower(owner) != \"sam\"",
        "segment x when not (country != \"US\")",
        "segment x when country == \"US\"",
        "segment x when fit != 10",
        "segment x when id != \"c-1\"",
        "segment x when count of page_view where (url is null or url != \"/\") != 2",
        "# rubric: allow(negation_skips_missing)\nsegment x when country != \"US\"",
    ] {
        let rules = format!("{header}{quiet}\naudience a when x\n");
        let codes = lint_codes(&rules);
        assert!(!codes.iter().any(|c| c == LINT), "{quiet}: {codes:?}");
    }
}

#[test]
fn the_negation_lint_says_how_to_include_the_missing() {
    let rules = sources("properties { open_deal: boolean }\naudience a when open_deal is not true\n");
    let warnings = compile_and_lint(&rules).unwrap().warnings;
    let lint = warnings.iter().find(|d| d.code == LINT).unwrap();
    assert_eq!(
        lint.message,
        "`open_deal is not true` is false when `open_deal` is missing"
    );
    assert_eq!(
        lint.help.as_deref(),
        Some(
            "every test on a missing value is false, except `is null`; to include contacts without \
             `open_deal`, write `not (open_deal is true)` or `open_deal is null or open_deal is not true`"
        )
    );
    // `x != true` compiles like `x is not true`; the help follows the text.
    let rules = sources("properties { open_deal: boolean }\naudience a when open_deal != true\n");
    let warnings = compile_and_lint(&rules).unwrap().warnings;
    let lint = warnings.iter().find(|d| d.code == LINT).unwrap();
    assert!(
        lint.help
            .as_deref()
            .unwrap()
            .ends_with("write `not (open_deal == true)` or `open_deal is null or open_deal != true`"),
        "{:?}",
        lint.help
    );
    let rules = sources_with_where();
    let warnings = compile_and_lint(&rules).unwrap().warnings;
    let lint = warnings.iter().find(|d| d.code == LINT).unwrap();
    assert_eq!(
        lint.help.as_deref(),
        Some(
            "every test on a missing value is false, except `is null`; to include events without \
             `url`, write `where (url is null or url != \"/\")`"
        )
    );
}

fn sources_with_where() -> Sources {
    sources("events { page_view { url: text } }\naudience a when any page_view where url != \"/\"\n")
}
