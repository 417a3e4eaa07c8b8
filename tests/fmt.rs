//! `rubric fmt`: the playbook is already formatted; formatting is idempotent,
//! keeps every comment and never changes meaning (the same plan, the same
//! outcomes), on the corpus and on generated rule sets with random layout and
//! comments; golden output of a messy file and of `fmt --check`.

use crate::common;

use crate::gen_rules;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use rubric::compile::compile;
use rubric::fmt::format_source;
use rubric::plan::Plan;
use rubric::source::{SourceFile, Sources};

/// A span-free dump of a plan: equal dumps mean the same rule set.
fn dump(plan: &Plan) -> String {
    let spans = regex::Regex::new(r"span: Span \{ file: FileId\(\d+\), start: \d+, end: \d+ \}").unwrap();
    let mut slots = |m: &rubric::snapshot::SlotMap| {
        let mut v: Vec<_> = m.iter().map(|(k, s)| format!("{k}={s}")).collect();
        v.sort();
        v.join(",")
    };
    let decode = format!(
        "{} {:?} {} {}",
        slots(&plan.decode.properties),
        plan.decode.property_types,
        slots(&plan.decode.event_types),
        plan.decode
            .event_props
            .iter()
            .map(&mut slots)
            .collect::<Vec<_>>()
            .join(";")
    );
    let body = format!(
        "{decode}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        plan.property_names,
        plan.event_names,
        plan.event_prop_names,
        plan.scores,
        plan.bands,
        plan.segments,
        plan.aggregates,
        plan.suppressions,
        plan.audiences,
        plan.workflows,
        plan.routes,
        plan.order,
        plan.decode.property_types,
        plan.channels
    );
    // Tables without their hash index (its Debug order is not stable).
    let tables: Vec<_> = plan
        .routing
        .tables
        .iter()
        .map(|t| {
            (
                &t.name,
                &t.key,
                &t.key_name,
                t.ignoring_case,
                &t.rows,
                t.otherwise,
            )
        })
        .collect();
    let body = format!("{body}\n{tables:?}\n{:?}", plan.routing.pick_names);
    spans.replace_all(&body, "span").into_owned()
}

/// Compiles one text: the plan dump, or the sorted error codes.
fn meaning(text: &str) -> Result<String, Vec<&'static str>> {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("x.rubric", text));
    match compile(&sources) {
        Ok(c) => Ok(dump(&c.plan)),
        Err(d) => {
            let mut codes: Vec<_> = d.iter().map(|d| d.code).collect();
            codes.sort();
            Err(codes)
        }
    }
}

/// Every comment's words, sorted (trailing comments joined on one line stay countable).
fn comment_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = rubric::syntax::comments::scan(text)
        .iter()
        .flat_map(|c| {
            c.text(text)
                .split('#')
                .map(|p| p.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect();
    out.sort();
    out
}

/// The properties every formatted text must have.
fn check_formatting(text: &str) -> String {
    let formatted = format_source(text).unwrap_or_else(|d| panic!("does not parse: {d:?}\n{text}"));
    let again = format_source(&formatted)
        .unwrap_or_else(|d| panic!("formatted text does not parse: {d:?}\n{formatted}"));
    assert_eq!(again, formatted, "not idempotent; input:\n{text}");
    assert_eq!(
        meaning(&formatted),
        meaning(text),
        "meaning changed:\n{text}\n---\n{formatted}"
    );
    assert_eq!(
        comment_words(&formatted),
        comment_words(text),
        "comments lost:\n{text}\n---\n{formatted}"
    );
    assert!(formatted.ends_with('\n'));
    assert!(
        formatted.lines().all(|l| l == l.trim_end()),
        "trailing spaces:\n{formatted}"
    );
    formatted
}

#[test]
fn the_playbook_is_formatted() {
    for entry in std::fs::read_dir("rules").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rubric") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                check_formatting(&text),
                text,
                "{} is not formatted",
                path.display()
            );
        }
    }
}

#[test]
fn the_corpus_keeps_its_meaning() {
    for dir in ["tests/corpus/ok", "tests/corpus/err"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            if format_source(&text).is_ok() {
                check_formatting(&text);
            }
        }
    }
}

#[test]
fn golden_messy_file() {
    let text = std::fs::read_to_string("tests/fmt/messy.rubric").unwrap();
    insta::assert_snapshot!(check_formatting(&text));
}

/// Issue 13's ranges: ordered bands, numeric band values (printed bare),
/// `between`, `within next` and age ranges.
#[test]
fn golden_ranges_file() {
    let text = std::fs::read_to_string("tests/fmt/ranges.rubric").unwrap();
    insta::assert_snapshot!(check_formatting(&text));
}

#[test]
fn golden_channels_file() {
    let text = std::fs::read_to_string("tests/fmt/channels.rubric").unwrap();
    insta::assert_snapshot!(check_formatting(&text));
}

#[test]
fn golden_lists_file() {
    let text = std::fs::read_to_string("tests/fmt/lists.rubric").unwrap();
    insta::assert_snapshot!(check_formatting(&text));
}

#[test]
fn golden_aggregates_file() {
    // Issue 13's prop aggregates and `contact.NAME`.
    let text = std::fs::read_to_string("tests/fmt/aggregates.rubric").unwrap();
    insta::assert_snapshot!(check_formatting(&text));
}

#[test]
fn golden_routing_file() {
    let text = std::fs::read_to_string("tests/fmt/routing.rubric").unwrap();
    insta::assert_snapshot!(check_formatting(&text));
}

#[test]
fn generated_rules_keep_their_outcomes() {
    let text = gen_rules::generated_rules(120)
        .replace(" => ", "\n  =>  ")
        .replace("  \"", "\t\"");
    let formatted = check_formatting(&text);
    let (a, b) = (plan_of(&text), plan_of(&formatted));
    let as_of = common::as_of();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..200 {
        let contact = common::contact()
            .new_tree(&mut runner)
            .unwrap()
            .current()
            .to_string();
        let ca = rubric::snapshot::decode_line(&a.decode, &contact);
        let cb = rubric::snapshot::decode_line(&b.decode, &contact);
        assert_eq!(ca, cb);
        if let Ok(Some(c)) = ca {
            let (oa, ob) = (
                rubric::eval::evaluate(&a, &c, as_of),
                rubric::eval::evaluate(&b, &c, as_of),
            );
            assert_eq!(format!("{oa:?}"), format!("{ob:?}"));
        }
    }
}

fn plan_of(text: &str) -> Plan {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("x.rubric", text));
    compile(&sources).unwrap().plan
}

// ------------------------------------------------------- generated layouts

/// Tests on contact data only (usable in scores).
const CONTACT_ATOMS: [&str; 18] = [
    "company_size >= 200",
    "country in [\"US\", \"CA\"] ignoring case",
    "country in cc ignoring case",
    "job_title matches /vp\\/x#y/i",
    "industry starts with \"so\"",
    "owner is null",
    "open_deal is true",
    "open_deal",
    "last_sales_touch_at within 7 days",
    "any form_submit where form == \"demo\" within 14 days",
    "count of page_view where (url starts with \"/p\" or url == \"/x\") >= 2",
    "any page_view where (flag) within 3 days",
    "domain(email) == \"x.io\" ignoring case",
    "lifecycle_stage != \"customer\"",
    "(company_size + 1) * 2 >= 10",
    "company_size - (company_size / 2 - 3) * -1 < 5",
    "count of page_view within 7 days * 2 + 1 > company_size / (1 + 2)",
    "((company_size))  /  (2 * (3 - company_size)) > 1",
];

/// Tests that also read scores, bands and segments.
const OTHER_ATOMS: [&str; 5] = [
    "s0 >= 10",
    "1 < s1",
    "b0 is hi",
    "seg0",
    "0.6 * s0 + 0.4 * (s1 - 1) >= 10",
];

/// A condition with `\0` where layout (spaces, line breaks, comments) goes.
fn cond(extra: usize) -> impl Strategy<Value = String> {
    let mut atoms: Vec<&'static str> = CONTACT_ATOMS.to_vec();
    atoms.extend(OTHER_ATOMS.iter().take(extra));
    prop::sample::select(atoms)
        .prop_map(String::from)
        .prop_recursive(3, 10, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}\0and\0{b}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}\0or\0{b}")),
                inner.clone().prop_map(|a| format!("not\0(\0{a}\0)")),
                inner.clone().prop_map(|a| format!("(\0{a}\0)")),
                inner.prop_map(|a| format!("(\0(\0{a}\0)\0)")),
            ]
        })
}

fn rule_set() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(cond(0), 4),
        cond(2),
        cond(3),
        prop::collection::vec(cond(5), 4),
    )
        .prop_map(|(score_conds, band_cond, seg_cond, target_conds)| {
            let mut t = String::from("const\0cc\0=\0[\"US\",\0\"GB\"]\0");
            t.push_str(&format!(
                "score\0s0\00..100\0{{\0\"a\"\0when\0{}\0=>\0+30\0\"each one\"\0each page_view where url starts with \"/p\" within 30 days\0=>\0+10 decay half-life 7 days, max 40\0\"f\"\0first\0{{\0\"r\"\0when\0{}\0=>\0-5\0when\0{}\0=>\00.5\0}}\0}}\0",
                score_conds[0], score_conds[1], score_conds[2]
            ));
            t.push_str(&format!("score\0s1\0-50..50\0{{\0\"x\"\0when\0{}\0=>\0-20\0}}\0", score_conds[3]));
            t.push_str(&format!("band\0b0\0{{\0hi\0when\0{band_cond}\0lo\0otherwise\0}}\0"));
            t.push_str(&format!("segment\0seg0\0when\0{seg_cond}\0"));
            t.push_str(&format!("suppress\0sup\0on\0ads,\0email\0when\0{}\0", target_conds[0]));
            t.push_str("channel\0sms\0suppress\0quiet\0on\0sms,\0ads\0when\0seg0\0");
            t.push_str(&format!("audience\0au\0when\0{}\0", target_conds[1]));
            t.push_str(&format!("audience\0au2\0on\0sms\0when\0{}\0despite\0quiet\0", target_conds[1]));
            t.push_str(&format!("workflow\0wf2\0when\0{}\0despite\0sup,\0quiet\0", target_conds[2]));
            t.push_str(&format!("workflow\0wf\0when\0{}\0", target_conds[2]));
            t.push_str(&format!(
                "route\0ro\0on\0sms\0when\0{}\0despite\0quiet\0{{\0task\0\"t \\\"x\\\"\"\0sla 24 hours\0queue\0first\0{{\0q1\0when\0country == \"US\"\0q2\0otherwise\0}}\0}}\0",
                target_conds[3]
            ));
            t
        })
}

const LAYOUT: [&str; 8] = [
    " ",
    "  ",
    "\n",
    "\n\n\n",
    " # trailing\n",
    "\n  # own line\n",
    "\t",
    "\n\n# after a blank\n\n",
];

/// Replaces every `\0` with a layout chosen by `choices`, and numbers the comments.
fn lay_out(text: &str, choices: &[usize]) -> String {
    let mut out = String::new();
    for (i, piece) in text.split('\0').enumerate() {
        if i > 0 {
            let layout = LAYOUT[choices[i % choices.len()] % LAYOUT.len()];
            out.push_str(
                &layout
                    .replace("trailing", &format!("trailing {i}"))
                    .replace("own line", &format!("own line {i}")),
            );
        }
        out.push_str(piece);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_rule_sets_format_idempotently_and_keep_meaning(
        text in rule_set(),
        choices in prop::collection::vec(0usize..40, 1..60),
    ) {
        // Mostly single spaces, sometimes anything else.
        let choices: Vec<usize> = choices.iter().map(|c| if *c >= LAYOUT.len() { 0 } else { *c }).collect();
        let text = lay_out(&text, &choices);
        check_formatting(&text);
    }
}

// --------------------------------------------------------------------- CLI

use crate::common::rubric;

#[test]
fn check_passes_on_the_playbook() {
    rubric().args(["fmt", "--check", "rules"]).assert().code(0);
}

#[test]
fn check_prints_a_diff_and_fails_then_fmt_fixes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.rubric");
    std::fs::write(&path, "segment  s when   true   # why\naudience a when s\n").unwrap();
    let out = rubric().args(["fmt", "--check"]).arg(&path).assert().code(1);
    let stdout =
        String::from_utf8_lossy(&out.get_output().stdout).replace(&path.display().to_string(), "a.rubric");
    insta::assert_snapshot!(stdout);
    rubric().arg("fmt").arg(&path).assert().code(0);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "segment s when true  # why\naudience a when s\n"
    );
    rubric().args(["fmt", "--check"]).arg(&path).assert().code(0);
}

#[test]
fn syntax_errors_leave_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.rubric");
    std::fs::write(&path, "segment s when\n").unwrap();
    rubric()
        .args(["fmt", "--color", "never"])
        .arg(&path)
        .assert()
        .code(1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "segment s when\n");
}

// ------------------------------------------------------------- parentheses

/// Parentheses the writer put around a condition, arithmetic or `where`
/// group are kept (doubled ones become one pair), on one line and broken
/// over lines.
#[test]
fn golden_parentheses_file() {
    let text = std::fs::read_to_string("tests/fmt/parentheses.rubric").unwrap();
    insta::assert_snapshot!(check_formatting(&text));
}

/// Formats `segment s when CONDITION` and gives back the condition.
fn formatted_condition(condition: &str) -> String {
    let text = format!("segment s when {condition}\n");
    let formatted = check_formatting(&text);
    formatted
        .trim_end()
        .strip_prefix("segment s when ")
        .unwrap_or_else(|| panic!("unexpected layout: {formatted}"))
        .to_string()
}

#[test]
fn redundant_parentheses_are_kept() {
    for kept in [
        "company_size > 1 or (industry == \"a\" and country == \"US\")",
        "not (open_deal is true)",
        "(company_size + 1) / 2 > 3",
        "(company_size >= 10)",
        "(open_deal)",
        "count of page_view where (url starts with \"/p\") >= 2",
        "any page_view where ((company_size + 1) > 3 and (url == \"/a\" or url == \"/b\"))",
        "(company_size > 1 or industry == \"a\") and country == \"US\"",
        "company_size > 1 or (industry == \"a\" or country == \"US\")",
    ] {
        assert_eq!(formatted_condition(kept), kept);
    }
    // Without parentheses nothing is added: the meaning is the same.
    for plain in [
        "company_size > 1 or industry == \"a\" and country == \"US\"",
        "not open_deal is true",
        "company_size + 1 / 2 > 3",
        "count of page_view where url starts with \"/p\" >= 2",
    ] {
        assert_eq!(formatted_condition(plain), plain);
    }
}

#[test]
fn doubled_parentheses_become_one_pair() {
    assert_eq!(formatted_condition("((open_deal))"), "(open_deal)");
    assert_eq!(
        formatted_condition("((company_size >= 10))"),
        "(company_size >= 10)"
    );
    assert_eq!(formatted_condition("not ((open_deal))"), "not (open_deal)");
    assert_eq!(
        formatted_condition("((company_size + 1)) * 2 > 3"),
        "(company_size + 1) * 2 > 3"
    );
    assert_eq!(
        formatted_condition("any page_view where ((url == \"/a\"))"),
        "any page_view where (url == \"/a\")"
    );
}

#[test]
fn a_group_broken_over_lines_keeps_its_parentheses() {
    // A group that is one part of the condition: printed on one line (only
    // breaks before a top-level `and`/`or` are kept), in its parentheses.
    let text = "segment s when (company_size >= 50\n  or industry == \"saas\")\n  and country != \"FR\"\n";
    assert_eq!(
        check_formatting(text),
        "segment s when (company_size >= 50 or industry == \"saas\")\n    and country != \"FR\"\n"
    );
    // A whole condition in parentheses keeps them around its broken parts.
    let text = "segment s when (company_size >= 50\n  or industry == \"saas\"\n  or country != \"FR\")\n";
    assert_eq!(
        check_formatting(text),
        "segment s when (company_size >= 50\n    or industry == \"saas\"\n    or country != \"FR\")\n"
    );
}
