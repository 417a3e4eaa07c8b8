//! Lints of `rubric check`: every lint with a case that fires and a case that
//! does not, `# rubric: allow(…)` annotations, `--deny-warnings`, and golden
//! files of the `github` and `sarif` formats.

use rubric::compile::compile_and_lint;
use rubric::source::{SourceFile, Sources};

/// A suppression that keeps every lint about customers quiet.
const CUSTOMERS: &str = "suppress customer on ads, email, sales when lifecycle_stage == \"customer\"\n";

/// The lint names (without `rubric::lint::`) reported for `text`, in order.
fn lints(text: &str) -> Vec<String> {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("t.rubric", text));
    match compile_and_lint(&sources) {
        Ok(compiled) => compiled
            .warnings
            .iter()
            .map(|d| d.code.trim_start_matches("rubric::lint::").to_string())
            .collect(),
        Err(d) => panic!(
            "does not compile:\n{}",
            rubric::diagnostics::render(&d, &sources, false)
        ),
    }
}

/// Asserts `name` is among the lints of `text` (positive case).
fn fires(name: &str, text: &str) {
    let found = lints(text);
    assert!(
        found.iter().any(|l| l == name),
        "expected `{name}`, got {found:?}\n{text}"
    );
}

/// Asserts `name` is not among the lints of `text` (negative case).
fn quiet(name: &str, text: &str) {
    let found = lints(text);
    assert!(
        !found.iter().any(|l| l == name),
        "unexpected `{name}` in {found:?}\n{text}"
    );
}

const FIT: &str =
    "score fit 0..100 {\n  \"a\" when company_size >= 200 => +60\n  \"b\" when industry == \"x\" => +40\n}\n";

#[test]
fn the_playbook_has_no_lints() {
    let sources = Sources::load(std::path::Path::new("rules")).unwrap();
    let compiled = compile_and_lint(&sources).unwrap();
    assert!(
        compiled.warnings.is_empty(),
        "{}",
        rubric::diagnostics::render(&compiled.warnings, &sources, false)
    );
}

#[test]
fn shadowed_branch() {
    let band = |a: &str, b: &str| {
        format!("{FIT}band t {{\n  A when {a}\n  B when {b}\n  C otherwise\n}}\nsegment s when t is A or t is B or t is C\n{CUSTOMERS}audience x when s\n")
    };
    fires("shadowed_branch", &band("fit >= 50", "fit >= 60"));
    fires(
        "shadowed_branch",
        &band("fit >= 50 or industry == \"y\"", "fit >= 60 and company_size > 3"),
    );
    fires("shadowed_branch", &band("fit >= 50", "fit >= 70 and fit < 60"));
    quiet("shadowed_branch", &band("fit >= 60", "fit >= 50"));
    quiet(
        "shadowed_branch",
        &band("fit >= 50 and industry == \"y\"", "fit >= 60"),
    );
}

#[test]
fn threshold_never_met() {
    let seg = |c: &str| format!("{FIT}segment s when {c}\n{CUSTOMERS}audience x when s\n");
    fires("threshold_never_met", &seg("fit > 100"));
    fires("threshold_never_met", &seg("fit < 0"));
    fires("threshold_never_met", &seg("0 > fit"));
    quiet("threshold_never_met", &seg("fit >= 100"));
    quiet("threshold_never_met", &seg("fit <= 0"));
}

#[test]
fn score_cannot_reach() {
    let rules = "score fit 0..100 {\n  \"a\" when company_size >= 200 => +30\n  \"b\" first {\n    when industry == \"x\" => +20\n    when industry == \"y\" => +25\n  }\n  \"c\" each page_view => +5 max 10\n}\n";
    let band = |t: &str| {
        format!("{rules}band tier {{\n  hot when fit >= {t}\n  cold otherwise\n}}\n{CUSTOMERS}audience x when tier is hot\n")
    };
    fires("score_cannot_reach", &band("66"));
    quiet("score_cannot_reach", &band("65"));
    // An `each` rule without `max` can add up to anything.
    let open = "score fit 0..100 {\n  \"c\" each page_view => +5\n}\n";
    quiet(
        "score_cannot_reach",
        &format!("{open}segment s when fit >= 99\n{CUSTOMERS}audience x when s\n"),
    );
    // A negative score: the rules reach down to -20 only.
    let neg = "score risk -100..100 {\n  \"u\" when any email_unsubscribe => -20\n}\n";
    fires(
        "score_cannot_reach",
        &format!("{neg}segment s when risk < -20\n{CUSTOMERS}audience x when s\n"),
    );
    quiet(
        "score_cannot_reach",
        &format!("{neg}segment s when risk <= -20\n{CUSTOMERS}audience x when s\n"),
    );
}

#[test]
fn overlapping_workflows() {
    let band = format!(
        "{FIT}band r {{\n  hot when fit >= 80\n  warm when fit >= 40\n  cold otherwise\n}}\n{CUSTOMERS}"
    );
    fires(
        "overlapping_workflows",
        &format!("{band}workflow a when r is hot\nworkflow b when r in [warm, hot]\n"),
    );
    fires(
        "overlapping_workflows",
        &format!("{band}workflow a when fit >= 30\nworkflow b when fit <= 30\n"),
    );
    quiet(
        "overlapping_workflows",
        &format!("{band}workflow a when r is hot\nworkflow b when r is warm\n"),
    );
    quiet(
        "overlapping_workflows",
        &format!("{band}workflow a when fit > 30\nworkflow b when fit <= 30\n"),
    );
    quiet(
        "overlapping_workflows",
        &format!("{band}workflow a when country == \"US\"\nworkflow b when country in [\"CA\", \"GB\"]\n"),
    );
    // Not decidable from the conditions: no lint.
    quiet(
        "overlapping_workflows",
        &format!("{band}workflow a when job_title matches /vp/\nworkflow b when r is hot\n"),
    );
}

#[test]
fn no_customer_suppression() {
    fires("no_customer_suppression", "audience a when industry == \"x\"\n");
    fires(
        "no_customer_suppression",
        "suppress customer on email when lifecycle_stage == \"customer\"\naudience a when true\n",
    );
    quiet("no_customer_suppression", "suppress clients on ads when lifecycle_stage in [\"customer\", \"evangelist\"]\naudience a when true\n");
    quiet(
        "no_customer_suppression",
        &format!("{CUSTOMERS}workflow w when true\n"),
    );
}

#[test]
fn unused_items() {
    fires(
        "unused_constant",
        &format!("const c = 3\n{CUSTOMERS}audience a when company_size > 1\n"),
    );
    quiet(
        "unused_constant",
        &format!("const c = 3\n{CUSTOMERS}audience a when company_size > c\n"),
    );
    quiet(
        "unused_constant",
        &format!("const c = \"x\"\nconst l = [c]\n{CUSTOMERS}audience a when industry in l\n"),
    );
    fires(
        "unused_segment",
        &format!("segment s when true\n{CUSTOMERS}audience a when true\n"),
    );
    quiet(
        "unused_segment",
        &format!("segment s when true\n{CUSTOMERS}audience a when s\n"),
    );
    fires(
        "unused_suppression",
        &format!("{CUSTOMERS}suppress x on sales when true\naudience a when true\n"),
    );
    quiet(
        "unused_suppression",
        &format!("{CUSTOMERS}suppress x on sales, ads when true\naudience a when true\n"),
    );
}

#[test]
fn annotations_allow_lints_per_item_rule_and_branch() {
    let text = "# rubric: allow(unused_constant)\nconst c = 3\nconst d = 4\n";
    assert_eq!(lints(text), vec!["unused_constant"], "only `d` is reported");
    let trailing = "const c = 3  # rubric: allow(unused_constant)\n";
    assert!(lints(trailing).is_empty());
    let full_code = "# rubric: allow(rubric::lint::unused_segment, unused_constant)\n\nsegment s when true\n";
    assert!(lints(full_code).is_empty());
    let branch = format!(
        "{FIT}band t {{\n  A when fit >= 50\n  # rubric: allow(shadowed_branch)\n  B when fit >= 60\n  C otherwise\n}}\nsegment s when t is A\n{CUSTOMERS}audience x when s\n"
    );
    assert!(lints(&branch).is_empty(), "{:?}", lints(&branch));
    let other_name = "# rubric: allow(unused_segment)\nconst c = 3\n";
    assert_eq!(lints(other_name), vec!["unused_constant"]);
}

use crate::common::rubric;

#[test]
fn deny_warnings_fails_the_check() {
    rubric()
        .args(["check", "tests/lints/all.rubric"])
        .assert()
        .code(0);
    let out = rubric()
        .args([
            "check",
            "--deny-warnings",
            "--color",
            "never",
            "tests/lints/all.rubric",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("error: 1 file checked: 10 errors, 0 warnings"),
        "{stderr}"
    );
    rubric()
        .args(["check", "--deny-warnings", "rules"])
        .assert()
        .code(0);
}

#[test]
fn golden_github() {
    let out = rubric()
        .args(["check", "--format", "github", "tests/lints/all.rubric"])
        .assert()
        .code(0);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.get_output().stdout));
}

#[test]
fn golden_sarif() {
    let out = rubric()
        .args(["check", "--format", "sarif", "tests/lints/all.rubric"])
        .assert()
        .code(0);
    let text =
        String::from_utf8_lossy(&out.get_output().stdout).replace(env!("CARGO_PKG_VERSION"), "VERSION");
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["version"], "2.1.0");
    insta::assert_snapshot!(text);
}

#[test]
fn golden_human() {
    let out = rubric()
        .args(["check", "--color", "never", "tests/lints/all.rubric"])
        .assert()
        .code(0);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.get_output().stderr));
}

#[test]
fn errors_in_github_format() {
    let out = rubric()
        .args([
            "check",
            "--format",
            "github",
            "tests/corpus/err/unknown_channel.rubric",
        ])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.starts_with("::error file=tests/corpus/err/unknown_channel.rubric,line="),
        "{stdout}"
    );
}

#[test]
fn confusable_target_names() {
    let lint = "confusable_target_names";
    fires(
        lint,
        &format!("{CUSTOMERS}audience `ads x` when true\naudience ads_x when true\n"),
    );
    fires(
        lint,
        &format!("{CUSTOMERS}workflow Nurture when true\nworkflow nurture when true\n"),
    );
    fires(
        lint,
        &format!("{CUSTOMERS}workflow `n.1` when true\nworkflow `n/1` when true\n"),
    );
    // Different kinds never share a file, and `-` and `_` are told apart.
    quiet(
        lint,
        &format!("{CUSTOMERS}audience `ads x` when true\nworkflow ads_x when true\n"),
    );
    quiet(
        lint,
        &format!("{CUSTOMERS}audience ads_x when true\naudience `ads-x` when true\n"),
    );
    assert_eq!(
        lints(&format!(
            "{CUSTOMERS}audience a_b when true\n# rubric: allow(confusable_target_names)\naudience `a b` when true\n"
        )),
        Vec::<String>::new()
    );
}

#[test]
fn exemption_off_channel() {
    let opted_out = "suppress opted_out on email when email_opt_out is true\n";
    // `opted_out` never applies on ads: the exemption waives nothing.
    fires(
        "exemption_off_channel",
        &format!("{CUSTOMERS}{opted_out}audience upsell when true despite opted_out\n"),
    );
    // On email it does.
    quiet(
        "exemption_off_channel",
        &format!("{CUSTOMERS}{opted_out}workflow onboarding when true despite customer, opted_out\n"),
    );
    // A target on a declared channel is exempt only from what applies there.
    fires(
        "exemption_off_channel",
        &format!("channel sms\n{CUSTOMERS}suppress quiet on sms when true\naudience promo on sms when true despite customer\n"),
    );
    quiet(
        "exemption_off_channel",
        &format!("channel sms\n{CUSTOMERS}suppress quiet on sms when true\naudience promo on sms when true despite quiet\n"),
    );
}

#[test]
fn unused_channel() {
    fires(
        "unused_channel",
        &format!("channel sms\n{CUSTOMERS}audience a when true\n"),
    );
    // Named by a suppression, or by a target.
    quiet(
        "unused_channel",
        &format!("channel sms\n{CUSTOMERS}suppress quiet on sms when true\naudience a when true\n"),
    );
    quiet(
        "unused_channel",
        &format!("channel sms\n{CUSTOMERS}audience a on sms when true\n"),
    );
}

#[test]
fn channel_lints_of_targets_on_declared_channels() {
    // Workflows on different channels do not overlap.
    quiet(
        "overlapping_workflows",
        &format!("channel in_app\n{CUSTOMERS}workflow a when true\nworkflow b on in_app when true\n"),
    );
    fires(
        "overlapping_workflows",
        &format!(
            "channel in_app\n{CUSTOMERS}workflow a on in_app when true\nworkflow b on in_app when true\n"
        ),
    );
    // The customer lint is about ads and email; an audience on sms is not asked.
    quiet(
        "no_customer_suppression",
        "channel sms\naudience a on sms when true\n",
    );
    fires(
        "no_customer_suppression",
        "channel sms\nworkflow a on ads when true\n",
    );
    // A suppression on a declared channel with a target there is used.
    quiet(
        "unused_suppression",
        &format!("channel sms\n{CUSTOMERS}suppress quiet on sms when true\naudience a on sms when true\naudience b when true\n"),
    );
    fires(
        "unused_suppression",
        &format!("channel sms\n{CUSTOMERS}suppress quiet on sms when true\naudience a when true\n"),
    );
}

#[test]
fn a_suppression_every_target_waives_suppresses_nothing() {
    let waived = "suppress customer on ads when lifecycle_stage == \"customer\"\naudience a when true despite customer\n";
    let found = lints(waived);
    assert_eq!(found, ["unused_suppression"], "{waived}");
    quiet("unused_suppression", &format!("{waived}audience b when true\n"));
}
