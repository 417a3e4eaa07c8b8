//! Shared test helpers: the real binary, the playbook plan, the fixed as-of,
//! and a generator of realistic, sometimes malformed, contacts.

use std::path::Path;

use proptest::prelude::*;
use rubric::plan::Plan;
use rubric::source::Sources;
use serde_json::{json, Value};

/// The as-of every test evaluates at, unless it says otherwise: the date of
/// `examples/expected.jsonl`.
pub const AS_OF: &str = "2026-11-28T00:00:00Z";

/// The real `rubric` binary, with `NO_COLOR` removed from its environment so
/// that a test decides about colour itself.
pub fn rubric() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("rubric").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

/// One rule file, `test.rubric`, holding `rules`.
pub fn one_rule_file(rules: &str) -> Sources {
    let mut sources = Sources::default();
    sources.add(rubric::source::SourceFile::new("test.rubric", rules));
    sources
}

/// The plan of `rules` (one file); the test fails with the rendered
/// diagnostics when they do not compile.
pub fn compile_rules(rules: &str) -> Plan {
    let sources = one_rule_file(rules);
    match rubric::compile::compile(&sources) {
        Ok(c) => c.plan,
        Err(d) => panic!("{}", rubric::diagnostics::render(&d, &sources, false)),
    }
}

/// The codes of the diagnostics of `rules`, which must not compile.
pub fn error_codes(rules: &str) -> Vec<String> {
    match rubric::compile::compile(&one_rule_file(rules)) {
        Ok(_) => panic!("compiles: {rules}"),
        Err(d) => d.iter().map(|d| d.code.to_string()).collect(),
    }
}

pub fn playbook() -> (Plan, Sources) {
    let sources = Sources::load(Path::new("rules")).unwrap();
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    (plan, sources)
}

pub fn as_of() -> i64 {
    rubric::snapshot::parse_timestamp(AS_OF).unwrap()
}

pub fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-zA-Z /@._-]{0,20}".prop_map(Value::from),
        prop_oneof![
            Just("2026-11-20T10:00:00Z"),
            Just("2026-11-27"),
            Just("2026-11-29T00:00:00+02:00"),
            Just("VP Marketing"),
            Just("Marketing Manager"),
            Just("customer"),
            Just("opportunity"),
            Just("sql"),
            Just("US"),
            Just("de"),
            Just("SaaS"),
            Just("/pricing/x"),
            Just("demo_request"),
            Just("x@gmail.com")
        ]
        .prop_map(Value::from),
        (0u32..2000).prop_map(Value::from),
        Just(json!([1, 2])),
        Just(json!({"a": 1})),
    ]
}

pub const PROPS: [&str; 12] = [
    "job_title",
    "company_size",
    "industry",
    "country",
    "lifecycle_stage",
    "owner",
    "open_deal",
    "email_opt_out",
    "last_sales_touch_at",
    "is_competitor",
    "source",
    "unrelated",
];

pub const EVENTS: [&str; 7] = [
    "page_view",
    "form_submit",
    "email_click",
    "webinar_attended",
    "email_unsubscribe",
    "email_open",
    "other",
];

pub fn event() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(EVENTS.to_vec()),
        -200i64..20,
        prop::collection::btree_map(
            prop::sample::select(vec!["url", "form", "campaign", "x"]),
            scalar(),
            0..3,
        ),
    )
        .prop_map(|(kind, days, props)| {
            let at = chrono::DateTime::from_timestamp(1_795_824_000 + days * 86_400 + days * 3_607, 0)
                .unwrap()
                .to_rfc3339();
            json!({"type": kind, "at": at, "props": props})
        })
}

pub fn contact() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9-]{1,8}",
        prop::option::of(scalar()),
        prop::collection::btree_map(prop::sample::select(PROPS.to_vec()), scalar(), 0..12),
        prop::collection::vec(event(), 0..12),
    )
        .prop_map(|(id, email, props, events)| {
            let mut c = json!({"id": id, "properties": props, "events": events});
            if let Some(e) = email {
                c["email"] = e;
            }
            c
        })
}
