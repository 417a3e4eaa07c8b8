//! `explain`: snapshot tests of text and JSON traces for the example
//! contacts, the "trace adds up to run" property, and the CLI.

use crate::common;

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;
use rubric::eval::evaluate;
use rubric::snapshot::decode_line;
use rubric::trace::{explain, render, why_not, RuleKind, Trace};

fn example_contacts() -> Vec<rubric::snapshot::Contact> {
    let (plan, _) = common::playbook();
    std::fs::read_to_string("examples/contacts.jsonl")
        .unwrap()
        .lines()
        .map(|l| decode_line(&plan.decode, l).unwrap().unwrap())
        .collect()
}

fn trace_of(id: &str) -> Trace {
    let (plan, sources) = common::playbook();
    let contact = example_contacts().into_iter().find(|c| c.id == id).unwrap();
    explain(&plan, &sources, &contact, common::as_of()).1
}

#[test]
fn text_traces_of_the_examples() {
    for contact in example_contacts() {
        let trace = trace_of(&contact.id);
        insta::assert_snapshot!(format!("text_{}", contact.id), render::text(&trace, false));
    }
}

#[test]
fn json_traces_of_the_examples() {
    // Decay, caps and a clamp (c-2007: competitor), first match (c-2004),
    // suppression (c-2006, c-2009), routing (c-2001, c-2002, c-2011).
    for id in ["c-2001", "c-2004", "c-2006", "c-2007", "c-2009", "c-2012"] {
        let trace = trace_of(id);
        insta::assert_json_snapshot!(format!("json_{id}"), trace);
    }
}

#[test]
fn trace_shows_decay_cap_and_clamp_values() {
    // c-2007: four pricing views half a day old: 4 × 10 × 0.5^(0.5/7) = 38.07, under the cap;
    // fit: 30 + 25 + 20 + 10 − 50 = 35.
    let t = trace_of("c-2007");
    let intent = &t.scores[1];
    let views = &intent.rules[0];
    assert_eq!(views.events.len(), 4);
    let factor = 0.5f64.powf(0.5 / 7.0);
    assert!((views.events[0].factor.unwrap() - factor).abs() < 1e-12);
    assert!((views.points - 40.0 * factor).abs() < 1e-9);
    assert_eq!(t.scores[0].value, 35.0);
    // c-2012: fit −30 clamped to 0.
    let t = trace_of("c-2012");
    assert_eq!(
        (t.scores[0].sum, t.scores[0].value, t.scores[0].clamped),
        (-30.0, 0.0, true)
    );
}

#[test]
fn why_not_names_the_failing_test_and_the_gap() {
    let t = trace_of("c-2004");
    let answer = why_not(&t, "ads_conversion").unwrap();
    assert!(!answer.satisfied);
    assert_eq!(answer.reasons[0], "condition fails: readiness is warm, not hot ✗");
    assert!(answer
        .changes
        .iter()
        .any(|c| c.contains("intent would need to be ≥ 50 (it is 24.14, 25.86 away)")));
    let t = trace_of("c-2006");
    let answer = why_not(&t, "nurture_evaluate").unwrap();
    assert_eq!(answer.reasons, ["suppressed on email by `opted_out`"]);
    let answer = why_not(&t, "readiness=hot").unwrap();
    assert_eq!(answer.reasons, ["hot: intent 35 ≥ 50 ✗"]);
    assert!(why_not(&t, "readiness=warm").unwrap().satisfied);
    assert!(why_not(&t, "ads_conversoin")
        .unwrap_err()
        .contains("did you mean `ads_conversion`?"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The trace is recorded by the run evaluator: same outcome, and its
    /// parts add up to what `run` prints.
    #[test]
    fn trace_adds_up_to_run(c in common::contact()) {
        let (plan, sources) = common::playbook();
        let Ok(Some(contact)) = decode_line(&plan.decode, &c.to_string()) else { return Ok(()) };
        let as_of = common::as_of();
        let run = evaluate(&plan, &contact, as_of);
        let (traced, trace) = explain(&plan, &sources, &contact, as_of);
        prop_assert_eq!(&run, &traced);
        for (score, value) in trace.scores.iter().zip(&run.scores) {
            prop_assert_eq!(score.value, *value);
            let sum: f64 = score.rules.iter().map(|r| r.points).sum();
            prop_assert!((sum - score.sum).abs() < 1e-9);
            prop_assert_eq!(score.value, score.sum.clamp(score.low, score.high));
            for rule in &score.rules {
                if rule.kind == RuleKind::Each {
                    let events: f64 = rule.events.iter().filter_map(|e| e.points).sum();
                    let before_cap = rule.cap.as_ref().map_or(rule.points, |c| c.sum);
                    prop_assert!((events - before_cap).abs() < 1e-9);
                }
                if rule.kind == RuleKind::First {
                    let matched: Vec<_> = rule.rows.iter().filter(|r| r.matched).collect();
                    prop_assert!(matched.len() <= 1);
                    prop_assert_eq!(matched.first().map_or(0.0, |r| r.points), rule.points);
                }
            }
        }
        for (band, value) in trace.bands.iter().zip(&run.bands) {
            let name = &plan.bands[plan.bands.iter().position(|b| b.name == band.name).unwrap()].values[*value as usize];
            prop_assert_eq!(&band.value, name);
            prop_assert_eq!(band.branches.iter().filter(|b| b.matched).count(), 1);
        }
        for (t, member) in trace.audiences.iter().zip(&run.audiences) {
            prop_assert_eq!(t.member, *member);
        }
        for (t, member) in trace.workflows.iter().zip(&run.workflows) {
            prop_assert_eq!(t.member, *member);
        }
        for (t, queue) in trace.routes.iter().zip(&run.routes) {
            prop_assert_eq!(t.member, queue.is_some());
        }
        prop_assert_eq!(trace.warnings.is_empty(), run.warnings == 0);
    }
}

/// `rubric explain` on the playbook and the example contacts.
fn explain_cmd() -> Command {
    let mut cmd = common::rubric();
    cmd.args([
        "explain",
        "--rules",
        "rules",
        "--contacts",
        "examples/contacts.jsonl",
    ])
    .args(["--as-of", common::AS_OF]);
    cmd
}

#[test]
fn cli_unknown_id_is_a_clear_error() {
    explain_cmd()
        .args(["--id", "c-2001", "--id", "c-404"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("no contact with id `c-404`"));
}

#[test]
fn cli_several_ids_in_the_order_asked() {
    let out = explain_cmd()
        .args(["--id", "c-2006", "--id", "c-2001", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["c-2006", "c-2001"]);
}

#[test]
fn cli_why_not_text_and_json() {
    explain_cmd()
        .args(["--id", "c-2006", "--why-not", "nurture_evaluate"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("is not in workflow `nurture_evaluate`"))
        .stdout(predicate::str::contains("suppressed on email by `opted_out`"));
    let out = explain_cmd()
        .args([
            "--id",
            "c-2006",
            "--why-not",
            "ads_conversion",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["why_not"]["kind"], "audience");
    assert_eq!(doc["why_not"]["satisfied"], false);
    explain_cmd()
        .args(["--id", "c-2006", "--why-not", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown --why-not target `nope`"));
}

#[test]
fn cli_piped_output_has_no_colour_unless_forced() {
    explain_cmd()
        .args(["--id", "c-2001"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("c-2001 as of 2026-11-28T00:00:00Z"))
        .stdout(predicate::str::contains("\u{1b}[").not());
    explain_cmd()
        .args(["--id", "c-2001", "--color", "always"])
        .assert()
        .stdout(predicate::str::contains("\u{1b}[32m✓"));
}

fn trace_with(rules: &str, contact: &str) -> Trace {
    let mut sources = rubric::source::Sources::default();
    sources.add(rubric::source::SourceFile::new("t.rubric", rules));
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let contact = decode_line(&plan.decode, contact).unwrap().unwrap();
    explain(&plan, &sources, &contact, common::as_of()).1
}

#[test]
fn why_not_reaches_an_otherwise_value_and_rejects_unknown_values() {
    let t = trace_of("c-2001");
    let answer = why_not(&t, "readiness=cold").unwrap();
    assert!(!answer.satisfied);
    assert_eq!(
        answer.reasons[0],
        "`hot` comes first and matched: fit 85 ≥ 50 ✓, intent 57.26 ≥ 50 ✓"
    );
    let err = why_not(&t, "readiness=lukewarm").unwrap_err();
    assert_eq!(
        err,
        "band `readiness` has no value `lukewarm`; its values are hot, warm, cold"
    );
}

#[test]
fn why_not_explains_a_test_under_not() {
    let t = trace_with(
        "audience a when not open_deal\n",
        r#"{"id":"c","properties":{"open_deal":true}}"#,
    );
    let answer = why_not(&t, "a").unwrap();
    assert_eq!(answer.reasons, ["condition fails: open_deal ✓"]);
    assert_eq!(
        answer.changes,
        ["`open_deal` would have to stop holding (now: open_deal ✓)"]
    );
}

#[test]
fn a_constant_written_first_reads_subject_first() {
    let t = trace_with(
        "score s 0..100 { \"big\" when 200 <= company_size => +1 }\n",
        r#"{"id":"c","properties":{"company_size":100}}"#,
    );
    let test = &t.scores[0].rules[0].tests[0];
    assert_eq!((test.subject.as_str(), test.op.as_str()), ("company_size", ">="));
    assert!(rubric::trace::render::text(&t, false).contains("✗ big 0: company_size 100 ≥ 200 ✗"));
}

#[test]
fn speculative_branches_add_no_warnings() {
    // `warm`'s test meets a wrong type, but `hot` is chosen first: run sees no warning.
    let rules = "band b {\n  hot when x == 1\n  warm when y >= 2\n  cold otherwise\n}\n";
    let t = trace_with(rules, r#"{"id":"c","properties":{"x":1,"y":"two"}}"#);
    assert!(t.warnings.is_empty());
    assert_eq!(t.bands[0].not_reached.len(), 2);
}

#[test]
fn cli_write_failures_are_reported() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("rubric"))
        .args([
            "explain",
            "--rules",
            "rules",
            "--contacts",
            "examples/contacts.jsonl",
            "--as-of",
            common::AS_OF,
        ])
        .args(["--id", "c-2001"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write the output"));
}

#[test]
fn why_not_a_later_band_value_names_every_branch_in_the_way() {
    // c-2006: fit 70, so A (>= 60) is chosen and B (>= 30) would be next.
    let t = trace_of("c-2006");
    let answer = why_not(&t, "fit_tier=C").unwrap();
    assert_eq!(
        answer.reasons,
        [
            "`A` comes first and matched: fit 70 ≥ 60 ✓",
            "`B` comes next and matches too: fit 70 ≥ 30 ✓",
            "`C` is the `otherwise` value: it is given when no branch above matches",
        ]
    );
    assert_eq!(
        answer.changes,
        [
            "`A` would have to stop matching",
            "`B` would have to stop matching"
        ]
    );
}

/// A customer from the web: `upsell` waives `customer`, `ads_web` does not,
/// `sms_web` is on a declared channel that `customer` does not reach.
const CHANNEL_RULES: &str = "channel sms
suppress customer on ads, email when lifecycle_stage == \"customer\"
audience upsell when source == \"web\" despite customer
audience ads_web when source == \"web\"
audience sms_web on sms when source == \"web\"
";

const WEB_CUSTOMER: &str = r#"{"id":"c","properties":{"lifecycle_stage":"customer","source":"web"}}"#;

#[test]
fn explain_shows_waived_suppressions_and_declared_channels() {
    let t = trace_with(CHANNEL_RULES, WEB_CUSTOMER);
    let upsell = &t.audiences[0];
    assert!(upsell.member);
    assert_eq!(
        (upsell.channel.as_str(), upsell.waived.clone()),
        ("ads", vec![String::from("customer")])
    );
    assert!(upsell.suppressed_by.is_empty());
    assert_eq!(t.audiences[1].suppressed_by, ["customer"]);
    assert_eq!(
        (t.audiences[2].channel.as_str(), t.audiences[2].member),
        ("sms", true)
    );
    let text = render::text(&t, false);
    assert!(
        text.contains("✓ upsell in: source \"web\" == \"web\" ✓; customer applies but is waived (despite)"),
        "{text}"
    );
    assert!(text.contains("✓ sms_web on sms in: "), "{text}");
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(json["audiences"][0]["waived"], serde_json::json!(["customer"]));
    assert_eq!(json["audiences"][2]["channel"], "sms");
    // No `waived` key where nothing was waived.
    assert!(json["audiences"][1].get("waived").is_none());
}

#[test]
fn why_not_says_despite_would_waive_a_suppression() {
    let t = trace_with(CHANNEL_RULES, WEB_CUSTOMER);
    let answer = why_not(&t, "ads_web").unwrap();
    assert_eq!(answer.reasons, ["suppressed on ads by `customer`"]);
    assert_eq!(
        answer.changes,
        ["`customer` would have to stop applying (it holds because lifecycle_stage \"customer\" == \"customer\" ✓), or `ads_web` would have to say `despite customer`"]
    );
    assert!(why_not(&t, "upsell").unwrap().satisfied);
}
