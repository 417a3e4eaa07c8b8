//! Routing (issue 13): results, `task_create` actions, `explain` JSON and the
//! lints of queues from properties, lookup tables, round robins, assignees
//! and SLAs per queue branch; property tests of the round robin (stable,
//! about uniform, equal to an independent FNV-1a) and of table lookups
//! (equal to a plain reference match).

use proptest::prelude::*;
use rubric::compile::{build_regexes, compile, compile_and_lint};
use rubric::plan::Plan;
use rubric::snapshot::decode_line;
use rubric::source::{SourceFile, Sources};
use serde_json::Value;

fn plan_of(text: &str) -> Plan {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("r.rubric", text));
    let plan = compile(&sources)
        .unwrap_or_else(|d| panic!("{}", rubric::diagnostics::render(&d, &sources, false)))
        .plan;
    build_regexes(&plan).unwrap();
    plan
}

/// The result line of one contact, as JSON.
fn result(plan: &Plan, line: &str) -> Value {
    let contact = decode_line(&plan.decode, line).unwrap().unwrap();
    let outcome = rubric::eval::evaluate(plan, &contact, crate::common::as_of());
    let mut out = Vec::new();
    rubric::output::write_result(&mut out, plan, &contact.id, &outcome);
    serde_json::from_slice(&out).unwrap()
}

/// The one route object of a result (panics when there is not exactly one).
fn route(plan: &Plan, line: &str) -> Value {
    let r = result(plan, line);
    let routes = r["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 1, "{r}");
    routes[0].clone()
}

/// An independent FNV-1a 64 (docs/language.md §14.3), bit by bit as written there.
fn reference_fnv(id: &str) -> u64 {
    let mut h: u64 = 14_695_981_039_346_656_037;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(1_099_511_628_211);
    }
    h
}

const ROUND_ROBIN: &str = r#"
route r when true {
  task "t"
  sla 1 hours
  queue round robin [q0, q1, q2]
}
"#;

#[test]
fn round_robin_members_are_the_hand_computed_ones() {
    let plan = plan_of(ROUND_ROBIN);
    // "a" hashes to 0xaf63dc4c8601ec8c (mod 3 = 1), "c-4" to 0xf6e547190dc005bb (mod 3 = 2),
    // "foobar" to 0x85944171f73967e8 (mod 3 = 0).
    for (id, queue) in [("a", "q1"), ("c-4", "q2"), ("foobar", "q0")] {
        let r = route(&plan, &format!(r#"{{"id":"{id}"}}"#));
        assert_eq!(r["queue"], queue, "{id}");
    }
    assert_eq!(reference_fnv("a"), 0xaf63_dc4c_8601_ec8c);
}

#[test]
fn a_route_without_assign_has_no_assignee_key_and_one_with_it_may_be_null() {
    let plan = plan_of(
        r#"
route plain when true { task "t" sla 1 hours queue q }
route owned when true { task "t" sla 1 hours queue q assign to owner }
"#,
    );
    let contact = decode_line(&plan.decode, r#"{"id":"c","properties":{"owner":7}}"#)
        .unwrap()
        .unwrap();
    let outcome = rubric::eval::evaluate(&plan, &contact, crate::common::as_of());
    let mut out = Vec::new();
    rubric::output::write_result(&mut out, &plan, &contact.id, &outcome);
    let line = String::from_utf8(out).unwrap();
    assert!(
        line.contains(
            r#""routes":[{"name":"plain","task":"t","sla_hours":1,"queue":"q"},{"name":"owned","task":"t","sla_hours":1,"queue":"q","assignee":null}]"#
        ),
        "{line}"
    );
}

#[test]
fn a_queue_from_a_property_falls_back_when_missing_empty_or_not_text() {
    let plan = plan_of(r#"route r when true { task "t" sla 1 hours queue from home otherwise global }"#);
    for (props, queue) in [
        (r#"{"home":"emea"}"#, "emea"),
        (r#"{"home":""}"#, "global"),
        (r#"{"home":null}"#, "global"),
        (r#"{"home":12}"#, "global"),
        (r#"{}"#, "global"),
    ] {
        let r = route(&plan, &format!(r#"{{"id":"c","properties":{props}}}"#));
        assert_eq!(r["queue"], queue, "{props}");
    }
}

#[test]
fn task_create_carries_the_branch_sla_and_the_assignee_and_a_change_of_them_is_no_new_task() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.rubric");
    std::fs::write(
        &rules,
        r#"
route r when fit >= 1 {
  task "Call"
  sla 24 hours
  queue first {
    fast when fit >= 50 sla 4 hours
    slow otherwise
  }
  assign to owner
}
"#,
    )
    .unwrap();
    let state = dir.path().join("state.db");
    let apply = |contacts: &str| -> String {
        let snapshot = dir.path().join("s.jsonl");
        std::fs::write(&snapshot, contacts).unwrap();
        let out = crate::common::rubric()
            .args(["apply", "--rules"])
            .arg(&rules)
            .arg("--contacts")
            .arg(&snapshot)
            .arg("--state")
            .arg(&state)
            .args(["--as-of", "2026-11-28T00:00:00Z"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = apply(r#"{"id":"c-1","properties":{"fit":60,"owner":"ann"}}"#);
    let task: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(task["action"], "task_create");
    assert_eq!(task["sla_hours"], 4.0);
    assert_eq!(task["queue"], "fast");
    assert_eq!(task["assignee"], "ann");
    let second = apply(r#"{"id":"c-1","properties":{"fit":10,"owner":"bo"}}"#);
    assert!(second.trim().is_empty(), "{second}");
}

#[test]
fn explain_json_shows_the_value_read_the_row_and_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.rubric");
    std::fs::write(
        &rules,
        r#"
table territory by country ignoring case { "US" => na_sales  otherwise global_sales }
route r when true {
  task "t"
  sla 1 hours
  queue territory
  assign to owner otherwise round robin [ann, bo]
}
"#,
    )
    .unwrap();
    let contacts = dir.path().join("c.jsonl");
    std::fs::write(&contacts, r#"{"id":"a","properties":{"country":"us"}}"#).unwrap();
    let out = crate::common::rubric()
        .args(["explain", "--format", "json", "--id", "a", "--rules"])
        .arg(&rules)
        .arg("--contacts")
        .arg(&contacts)
        .args(["--as-of", "2026-11-28T00:00:00Z"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    let route = &trace["routes"][0];
    assert_eq!(route["queue"], "na_sales");
    assert_eq!(route["assignee"], "ann");
    assert_eq!(
        route["picks"],
        serde_json::json!([
            {"role":"queue","source":"table","property":"country","value":"us","table":"territory","row":"US","picked":"na_sales"},
            {"role":"assignee","source":"property","property":"owner","value":null,"picked":null},
            {"role":"assignee","source":"round_robin","hash":"af63dc4c8601ec8c","index":0,"members":2,"picked":"ann"}
        ])
    );
}

/// The lint names reported for `text`.
fn lints(text: &str) -> Vec<String> {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("t.rubric", text));
    compile_and_lint(&sources)
        .unwrap()
        .warnings
        .iter()
        .map(|d| d.code.trim_start_matches("rubric::lint::").to_string())
        .collect()
}

#[test]
fn routing_lints_fire_and_stay_quiet() {
    let table = "properties { tier: text one of [\"a\", \"b\"]  fit: number  owner: text }\n";
    let fires = format!("{table}table t by tier ignoring case {{ \"A\" => qa  \"c\" => qc  otherwise q }}");
    assert_eq!(lints(&fires), ["table_key_not_allowed"]);
    let quiet = format!("{table}table t by tier ignoring case {{ \"A\" => qa  \"b\" => qb  otherwise q }}");
    assert!(lints(&quiet).is_empty());

    let route = |queue: &str| {
        format!("{table}table tiers by tier {{ otherwise q }}\nroute r when fit > 1 {{ task \"t\" sla 1 hours {queue} }}")
    };
    assert_eq!(lints(&route("queue na otherwise q")), ["fallback_never_used"]);
    assert_eq!(
        lints(&route("queue tiers assign to \"ann\" otherwise \"bo\"")),
        ["fallback_never_used"]
    );
    assert!(lints(&route(
        "queue from owner otherwise q assign to owner otherwise \"bo\""
    ))
    .is_empty());
    assert_eq!(lints(&route("queue tierz")), ["queue_looks_like_table"]);
    assert!(lints(&route("queue \"tierz\"")).is_empty());
    assert!(lints(&route("queue tiers")).is_empty());
}

#[test]
fn a_literal_queue_that_a_condition_reads_as_a_property_is_an_error_without_a_schema() {
    let mut sources = Sources::default();
    sources.add(SourceFile::new(
        "t.rubric",
        "route r when owner is null { task \"t\" sla 1 hours queue owner }",
    ));
    let codes: Vec<&str> = compile(&sources).unwrap_err().iter().map(|d| d.code).collect();
    assert_eq!(codes, ["rubric::queue_names_a_property"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same id always gets the same member, the one of an independent
    /// FNV-1a, whatever else the contact holds.
    #[test]
    fn round_robin_is_stable_per_id_and_matches_the_reference(id in "[a-zA-Z0-9é東_-]{1,24}", fit in 0u32..100) {
        let plan = plan_of(ROUND_ROBIN);
        let line = serde_json::json!({"id": id, "properties": {"fit": fit}}).to_string();
        let bare = serde_json::json!({"id": id}).to_string();
        let want = format!("q{}", reference_fnv(&id) % 3);
        prop_assert_eq!(&route(&plan, &line)["queue"], &Value::from(want.clone()));
        prop_assert_eq!(&route(&plan, &bare)["queue"], &Value::from(want));
    }

    /// A table lookup equals a plain reference match of the whole value
    /// (ASCII case-insensitive with `ignoring case`), `otherwise` else.
    #[test]
    fn table_lookup_equals_a_reference_match(
        keys in proptest::collection::btree_set("[a-cA-C]{1,2}", 1..5),
        value in proptest::option::of("[a-cA-C]{1,2}"),
        ignoring in any::<bool>(),
    ) {
        let mut rows: Vec<String> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for k in &keys {
            let folded = if ignoring { k.to_lowercase() } else { k.clone() };
            if !seen.contains(&folded) {
                seen.push(folded);
                rows.push(k.clone());
            }
        }
        let body: String = rows.iter().enumerate().map(|(i, k)| format!("\"{k}\" => q{i}\n")).collect();
        let ic = if ignoring { " ignoring case" } else { "" };
        let plan = plan_of(&format!(
            "table t by key{ic} {{\n{body}otherwise other\n}}\nroute r when true {{ task \"t\" sla 1 hours queue t }}"
        ));
        let line = serde_json::json!({"id": "c", "properties": {"key": value}}).to_string();
        let want = value
            .as_ref()
            .and_then(|v| rows.iter().position(|k| if ignoring { k.eq_ignore_ascii_case(v) } else { k == v }))
            .map_or_else(|| String::from("other"), |i| format!("q{i}"));
        prop_assert_eq!(&route(&plan, &line)["queue"], &Value::from(want));
    }
}

/// Over many ids, each of three members gets about a third.
#[test]
fn round_robin_is_about_uniform() {
    let mut counts = [0usize; 3];
    for i in 0..3000 {
        counts[(reference_fnv(&format!("contact-{i}")) % 3) as usize] += 1;
    }
    assert!(counts.iter().all(|&c| (850..=1150).contains(&c)), "{counts:?}");
    let plan = plan_of(ROUND_ROBIN);
    for i in 0..50 {
        let id = format!("contact-{i}");
        let r = route(&plan, &format!(r#"{{"id":"{id}"}}"#));
        assert_eq!(r["queue"], format!("q{}", reference_fnv(&id) % 3));
    }
}

#[test]
fn why_not_a_queue_names_the_table_row_and_the_round_robin() {
    let text = r#"
table territory by country { "US" => na_sales  otherwise global_sales }
route r when true {
  task "t"
  sla 1 hours
  queue first {
    territory when country is not null
    round robin [q0, q1, q2] otherwise
  }
}
"#;
    let mut sources = Sources::default();
    sources.add(SourceFile::new("r.rubric", text));
    let plan = compile(&sources).unwrap().plan;
    let ask = |line: &str, target: &str| {
        let contact = decode_line(&plan.decode, line).unwrap().unwrap();
        let (_, trace) = rubric::trace::explain(&plan, &sources, &contact, crate::common::as_of());
        rubric::trace::why_not(&trace, target).unwrap()
    };
    let answer = ask(r#"{"id":"c","properties":{"country":"FR"}}"#, "r=na_sales");
    assert!(!answer.satisfied);
    assert_eq!(
        answer.reasons,
        [
            "routed to `global_sales`",
            "branch `territory` was chosen",
            "table `territory`: country \"FR\" matched row otherwise → global_sales",
        ]
    );
    assert_eq!(
        answer.changes,
        ["country would have to be a key that table `territory` maps to `na_sales`"]
    );
    let answer = ask(r#"{"id":"a"}"#, "r=q0");
    assert_eq!(
        answer.reasons.last().unwrap(),
        "round robin: fnv1a64(id) = af63dc4c8601ec8c mod 3 = 1 → q1"
    );
    assert!(ask(r#"{"id":"a"}"#, "r=q1").satisfied);
}

/// `diff` counts a contact whose table row changes queue as a queue change.
#[test]
fn diff_counts_a_queue_change_through_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let route = "route r when true { task \"t\" sla 1 hours queue territory }\n";
    let base = write(
        "base.rubric",
        &format!("table territory by country {{ \"US\" => na_sales  otherwise global_sales }}\n{route}"),
    );
    let new = write(
        "new.rubric",
        &format!("table territory by country {{ \"US\" => na_sales  \"GB\" => emea_sales  otherwise global_sales }}\n{route}"),
    );
    let contacts = write(
        "c.jsonl",
        "{\"id\":\"c-1\",\"properties\":{\"country\":\"US\"}}\n{\"id\":\"c-2\",\"properties\":{\"country\":\"GB\"}}\n",
    );
    let out = crate::common::rubric()
        .args(["diff", "--quiet", "--base"])
        .arg(&base)
        .arg("--rules")
        .arg(&new)
        .arg("--contacts")
        .arg(&contacts)
        .args(["--as-of", "2026-11-28T00:00:00Z"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("route r queue global_sales → emea_sales: 1  e.g. c-2"),
        "{text}"
    );
}

/// `explain` text of routed contacts: the picks under each route line.
#[test]
fn explain_text_shows_each_pick() {
    let jsonl = "{\"id\":\"a\",\"properties\":{\"fit\":20}}\n{\"id\":\"c-3\",\"properties\":{\"fit\":60,\"country\":\"de\",\"owner\":\"\"}}\n";
    let dir = tempfile::tempdir().unwrap();
    let contacts = dir.path().join("c.jsonl");
    std::fs::write(&contacts, jsonl).unwrap();
    let mut text = String::new();
    for id in ["a", "c-3"] {
        let out = crate::common::rubric()
            .args([
                "explain",
                "--rules",
                "tests/corpus/ok/routing.rubric",
                "--color",
                "never",
                "--id",
                id,
                "--as-of",
                "2026-11-28T00:00:00Z",
                "--contacts",
            ])
            .arg(&contacts)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let routes = stdout.split("routes:").nth(1).unwrap_or("");
        text.push_str(&format!("--- {id}\nroutes:{routes}"));
    }
    insta::assert_snapshot!(text);
}
