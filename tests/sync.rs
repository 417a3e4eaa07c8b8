//! `rubric plan` / `apply` / `actions` (SPEC §6, §7) on the real binary: a
//! two-snapshot scenario against hand-checked actions, idempotence, stable
//! ids, rejected lines, full and partial snapshots, renamed targets, as-of
//! going backwards, concurrent applies, schema versions and destinations.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

pub const T1: &str = "2026-11-21T00:00:00Z";
pub const T2: &str = "2026-11-28T00:00:00Z";

/// Snapshot 1 (as of T1). Hand-computed outcomes (playbook, SPEC §4):
/// - a-1: fit 85 (VP 30, 250 → 25, Software 20, US 10); intent 35 (demo 1 day
///   old) + 15 (3 clicks) = 50 → hot, A; ads_conversion, nurture_convert,
///   route_hot_lead in na_sales.
/// - b-2: fit 85; intent 15 (4 clicks, capped) → cold, A; fit ≥ 30 →
///   ads_awareness, nurture_educate.
/// - c-3: fit 25 (manager 15, 60 → 10); intent 35 → warm, C; ads_retarget,
///   nurture_evaluate.
/// - d-4: fit 85, intent 50 → hot, A; owner set and sql → sales_owned
///   (email): ads_conversion only; no route (owner set). No email.
/// - f-6: fit 30 (Software, US) → cold, B; ads_awareness, nurture_educate.
/// - g-7: fit 70 (manager 15, 250 → 25, Software, GB); demo 11 days old → 35
///   → warm, A; ads_retarget, nurture_evaluate.
pub const SNAPSHOT_1: &str = r#"{"id":"a-1","email":"ana@acme.io","properties":{"job_title":"VP Marketing","company_size":250,"industry":"Software","country":"US","lifecycle_stage":"lead","owner":null},"events":[{"type":"form_submit","at":"2026-11-20T00:00:00Z","props":{"form":"demo_request"}},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"}]}
{"id":"b-2","email":" B.Smith+promo@GoogleMail.com ","properties":{"job_title":"VP Sales","company_size":250,"industry":"Software","country":"US","lifecycle_stage":"lead"},"events":[{"type":"email_click","at":"2026-11-20T00:00:00Z"},{"type":"email_click","at":"2026-11-20T00:00:00Z"},{"type":"email_click","at":"2026-11-20T00:00:00Z"},{"type":"email_click","at":"2026-11-20T00:00:00Z"}]}
{"id":"c-3","email":"c3@shop.fr","properties":{"job_title":"Store Manager","company_size":60,"industry":"Retail","country":"FR"},"events":[{"type":"form_submit","at":"2026-11-20T00:00:00Z","props":{"form":"demo_request"}}]}
{"id":"d-4","properties":{"job_title":"VP Marketing","company_size":250,"industry":"Software","country":"US","lifecycle_stage":"sql","owner":"rep-1"},"events":[{"type":"form_submit","at":"2026-11-20T00:00:00Z","props":{"form":"demo_request"}},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"}]}
{"id":"f-6","email":"f6@acme.io","properties":{"industry":"Software","country":"US"}}
{"id":"g-7","email":"g7@acme.co.uk","properties":{"job_title":"Marketing Manager","company_size":250,"industry":"Software","country":"GB"},"events":[{"type":"form_submit","at":"2026-11-10T00:00:00Z","props":{"form":"demo_request"}}]}
"#;

/// Snapshot 2 (as of T2), a week later:
/// - a-1: moved to DE (fit still 85); demo 8 days old, clicks 9 → still 50,
///   hot; the route's queue becomes emea_sales, which is no new task.
/// - e-5 (new): fit 70 (director 30, 100 → 10, SaaS 20, CA 10), intent 0 →
///   cold, A; ads_awareness, nurture_educate.
/// - b-2: demo request 1 day old: 35 + 15 = 50 → hot; route in na_sales.
/// - d-4: now an opportunity → suppressed on ads: leaves ads_conversion.
/// - f-6: its line is rejected: keeps its state, no actions.
/// - g-7: demo now 18 days old → intent 0 → cold; fit 70 ≥ 30 →
///   ads_awareness, nurture_educate.
/// - c-3: absent from this full snapshot → leaves its audience and workflow.
pub const SNAPSHOT_2: &str = r#"{"id":"a-1","email":"ana@acme.io","properties":{"job_title":"VP Marketing","company_size":250,"industry":"Software","country":"DE","lifecycle_stage":"lead","owner":null},"events":[{"type":"form_submit","at":"2026-11-20T00:00:00Z","props":{"form":"demo_request"}},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"}]}
{"id":"e-5","email":"e5@x.io","properties":{"job_title":"Director of Ops","company_size":100,"industry":"SaaS","country":"CA"}}
{"id":"b-2","email":" B.Smith+promo@GoogleMail.com ","properties":{"job_title":"VP Sales","company_size":250,"industry":"Software","country":"US","lifecycle_stage":"lead"},"events":[{"type":"form_submit","at":"2026-11-27T00:00:00Z","props":{"form":"demo_request"}},{"type":"email_click","at":"2026-11-20T00:00:00Z"},{"type":"email_click","at":"2026-11-20T00:00:00Z"},{"type":"email_click","at":"2026-11-20T00:00:00Z"},{"type":"email_click","at":"2026-11-20T00:00:00Z"}]}
{"id":"d-4","properties":{"job_title":"VP Marketing","company_size":250,"industry":"Software","country":"US","lifecycle_stage":"opportunity","owner":"rep-1"},"events":[{"type":"form_submit","at":"2026-11-20T00:00:00Z","props":{"form":"demo_request"}},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"},{"type":"email_click","at":"2026-11-19T00:00:00Z"}]}
{"id":"f-6","events":"broken"}
{"id":"g-7","email":"g7@acme.co.uk","properties":{"job_title":"Marketing Manager","company_size":250,"industry":"Software","country":"GB"},"events":[{"type":"form_submit","at":"2026-11-10T00:00:00Z","props":{"form":"demo_request"}}]}
"#;

fn band(contact: &str, target: &str, from: Option<&str>, to: &str) -> Value {
    json!({"contact": contact, "action": "band_change", "target": target, "from": from, "to": to})
}

fn act(contact: &str, action: &str, target: &str) -> Value {
    let channel = match action {
        "audience_add" | "audience_remove" => "ads",
        _ => "email",
    };
    json!({"contact": contact, "action": action, "target": target, "channel": channel})
}

fn task(contact: &str, queue: &str) -> Value {
    json!({"contact": contact, "action": "task_create", "target": "route_hot_lead",
           "task": "Follow up with hot lead", "sla_hours": 24, "queue": queue, "channel": "sales"})
}

fn expected_run_1() -> Vec<Value> {
    vec![
        band("a-1", "readiness", None, "hot"),
        band("a-1", "fit_tier", None, "A"),
        act("a-1", "audience_add", "ads_conversion"),
        act("a-1", "workflow_enroll", "nurture_convert"),
        task("a-1", "na_sales"),
        band("b-2", "readiness", None, "cold"),
        band("b-2", "fit_tier", None, "A"),
        act("b-2", "audience_add", "ads_awareness"),
        act("b-2", "workflow_enroll", "nurture_educate"),
        band("c-3", "readiness", None, "warm"),
        band("c-3", "fit_tier", None, "C"),
        act("c-3", "audience_add", "ads_retarget"),
        act("c-3", "workflow_enroll", "nurture_evaluate"),
        band("d-4", "readiness", None, "hot"),
        band("d-4", "fit_tier", None, "A"),
        act("d-4", "audience_add", "ads_conversion"),
        band("f-6", "readiness", None, "cold"),
        band("f-6", "fit_tier", None, "B"),
        act("f-6", "audience_add", "ads_awareness"),
        act("f-6", "workflow_enroll", "nurture_educate"),
        band("g-7", "readiness", None, "warm"),
        band("g-7", "fit_tier", None, "A"),
        act("g-7", "audience_add", "ads_retarget"),
        act("g-7", "workflow_enroll", "nurture_evaluate"),
    ]
}

fn expected_run_2() -> Vec<Value> {
    vec![
        // a-1: nothing (queue change only).
        band("e-5", "readiness", None, "cold"),
        band("e-5", "fit_tier", None, "A"),
        act("e-5", "audience_add", "ads_awareness"),
        act("e-5", "workflow_enroll", "nurture_educate"),
        band("b-2", "readiness", Some("cold"), "hot"),
        act("b-2", "audience_remove", "ads_awareness"),
        act("b-2", "audience_add", "ads_conversion"),
        act("b-2", "workflow_exit", "nurture_educate"),
        act("b-2", "workflow_enroll", "nurture_convert"),
        task("b-2", "na_sales"),
        act("d-4", "audience_remove", "ads_conversion"),
        // f-6: rejected line, nothing.
        band("g-7", "readiness", Some("warm"), "cold"),
        act("g-7", "audience_add", "ads_awareness"),
        act("g-7", "audience_remove", "ads_retarget"),
        act("g-7", "workflow_enroll", "nurture_educate"),
        act("g-7", "workflow_exit", "nurture_evaluate"),
        // Removed contacts come last.
        act("c-3", "audience_remove", "ads_retarget"),
        act("c-3", "workflow_exit", "nurture_evaluate"),
    ]
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn state(&self) -> PathBuf {
        self.path("state.db")
    }
    /// `rubric <command> --rules rules --state … --contacts FILE --as-of TS …`.
    fn cmd(&self, command: &str, contacts: &Path, as_of: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("rubric").unwrap();
        cmd.args([command, "--rules", "rules", "--as-of", as_of, "--state"])
            .arg(self.state())
            .arg("--contacts")
            .arg(contacts)
            .args(extra);
        cmd
    }
    /// Applies and returns (exit code, action lines, stderr).
    fn apply(&self, contacts: &Path, as_of: &str, extra: &[&str]) -> (i32, Vec<Value>, String) {
        let out = self.path("out.jsonl");
        let _ = std::fs::remove_file(&out);
        let output = self
            .cmd("apply", contacts, as_of, extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let lines = std::fs::read_to_string(&out)
            .map(|t| parse_lines(&t))
            .unwrap_or_default();
        (
            output.status.code().unwrap(),
            lines,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
    fn plan(&self, contacts: &Path, as_of: &str, extra: &[&str]) -> (i32, Vec<Value>, String) {
        let output = self.cmd("plan", contacts, as_of, extra).output().unwrap();
        (
            output.status.code().unwrap(),
            parse_lines(&String::from_utf8_lossy(&output.stdout)),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The action without its id, run and rule digest (checked separately).
fn core(action: &Value) -> Value {
    let mut a = action.clone();
    let o = a.as_object_mut().unwrap();
    o.remove("id");
    o.remove("run");
    o.remove("rules");
    a
}

fn cores(actions: &[Value]) -> Vec<Value> {
    actions.iter().map(core).collect()
}

fn assert_actions(actual: &[Value], expected: &[Value]) {
    let actual = cores(actual);
    if actual != expected {
        let show = |v: &[Value]| v.iter().map(|a| format!("  {a}\n")).collect::<String>();
        panic!(
            "actions differ\nactual:\n{}expected:\n{}",
            show(&actual),
            show(expected)
        );
    }
}

#[test]
fn two_snapshots_give_the_hand_checked_actions() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    let s2 = env.write("s2.jsonl", SNAPSHOT_2);

    let (code, run1, _) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 0);
    assert_actions(&run1, &expected_run_1());
    // The SPEC fields come first, in the SPEC's order.
    let text = std::fs::read_to_string(env.path("out.jsonl")).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(
            r#"{"contact":"a-1","action":"band_change","target":"readiness","from":null,"to":"hot""#
        ),
        "{first}"
    );

    // plan shows exactly what apply then emits, ids included.
    let (code, planned, stderr) = env.plan(&s2, T2, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(r#"rejected line 5: "events" must be an array, found string"#),
        "{stderr}"
    );
    let (code, run2, stderr) = env.apply(&s2, T2, &[]);
    assert_eq!(code, 3, "a rejected line gives exit 3: {stderr}");
    assert_actions(&run2, &expected_run_2());
    assert_eq!(planned, run2);

    // Every action carries its run, the rule digest and a stable, unique id.
    let digest = run1[0]["rules"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 16);
    let mut ids = std::collections::HashSet::new();
    for (run, actions) in [(1, &run1), (2, &run2)] {
        for a in actions.iter() {
            assert_eq!(a["run"], run);
            assert_eq!(a["rules"], digest.as_str());
            let id = a["id"].as_str().unwrap();
            assert_eq!(id.len(), 32);
            assert!(ids.insert(id.to_string()), "duplicate id {id}");
        }
    }

    // The outbox exports any run again, byte for byte.
    for (run, actions) in [("1", &run1), ("2", &run2)] {
        let out = Command::cargo_bin("rubric")
            .unwrap()
            .args(["actions", "--run", run, "--state"])
            .arg(env.state())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(&parse_lines(&String::from_utf8_lossy(&out.stdout)), actions);
    }
}

#[test]
fn applying_the_same_snapshot_twice_emits_nothing() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    assert_eq!(env.apply(&s1, T1, &[]).1.len(), 24);
    let (code, again, stderr) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 0);
    assert!(again.is_empty(), "{again:?}");
    assert!(stderr.contains("run 2 emitted 0 actions"), "{stderr}");
    // The out file exists and is empty, so a pipeline can always read it.
    assert_eq!(std::fs::read_to_string(env.path("out.jsonl")).unwrap(), "");
    let (_, planned, _) = env.plan(&s1, T1, &[]);
    assert!(planned.is_empty());
}

#[test]
fn plan_changes_nothing_and_works_without_a_state_file() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    let (code, planned, stderr) = env.plan(&s1, T1, &[]);
    assert_eq!(code, 0);
    assert_actions(&planned, &expected_run_1());
    assert!(!env.state().exists(), "plan must not create the state file");
    // Regression: docs promised the first apply's ids, which a plan cannot
    // know before the state file (and its instance id) exists; it says so.
    assert!(
        stderr.contains("note: there is no state file yet, so these action ids are provisional"),
        "{stderr}"
    );
    // Per-target summary and the audience minimums.
    assert!(
        stderr.contains("plan: run 1 would emit 24 actions for 6 contacts"),
        "{stderr}"
    );
    assert!(
        stderr.contains("audience ads_conversion: +2 added, -0 removed"),
        "{stderr}"
    );
    assert!(stderr.contains("route route_hot_lead: 1 task"), "{stderr}");
    assert!(
        stderr.contains("band readiness: (new)→cold 2, (new)→hot 2, (new)→warm 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: audience `ads_conversion` would have 1 member with a usable email (2 in all), below the platforms' minimum (Google needs 100, LinkedIn needs 300)"),
        "{stderr}"
    );
    env.apply(&s1, T1, &[]);
    let before = std::fs::read(env.state()).unwrap();
    let s2 = env.write("s2.jsonl", SNAPSHOT_2);
    env.plan(&s2, T2, &[]);
    assert_eq!(std::fs::read(env.state()).unwrap(), before);
}

#[test]
fn a_rejected_line_keeps_its_contacts_state() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    let s2 = env.write("s2.jsonl", SNAPSHOT_2);
    env.apply(&s1, T1, &[]);
    env.apply(&s2, T2, &[]);
    // f-6 comes back with a good line, unchanged: it was never absent, so
    // it is not new and gets no action at all.
    let fixed = SNAPSHOT_2.replace(
        r#"{"id":"f-6","events":"broken"}"#,
        r#"{"id":"f-6","email":"f6@acme.io","properties":{"industry":"Software","country":"US"}}"#,
    );
    let s3 = env.write("s3.jsonl", &fixed);
    let (code, run3, stderr) = env.apply(&s3, T2, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(run3.is_empty(), "{run3:?}");
}

#[test]
fn a_rejected_line_without_a_readable_id_stops_absence_removals() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    env.apply(&s1, T1, &[]);
    // Only a-1 and a garbled line: nobody can tell whose line it was.
    let first = SNAPSHOT_1.lines().next().unwrap();
    let s2 = env.write("s2.jsonl", &format!("{first}\nnot json at all\n"));
    let (code, actions, stderr) = env.apply(&s2, T1, &[]);
    assert_eq!(code, 3);
    assert!(actions.is_empty(), "{actions:?}");
    assert!(
        stderr.contains("1 rejected line had no readable id, so no contact was treated as absent"),
        "{stderr}"
    );
}

#[test]
fn a_rejected_line_with_a_duplicate_id_key_is_pinned_on_its_first_id() {
    // Issue 17, item 2: the decoder takes the first of duplicate keys, so the
    // bad line is a-1's, and a-1 keeps its state; b-2 is not mistaken for it.
    let env = Env::new();
    let mut lines = SNAPSHOT_1.lines();
    let (a1, b2) = (lines.next().unwrap(), lines.next().unwrap());
    let s1 = env.write("s1.jsonl", &format!("{a1}\n{b2}\n"));
    let (code, _, stderr) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 0, "{stderr}");
    let bad = r#"{"id":"a-1","id":"b-2","events":"bad"}"#;
    let s2 = env.write("s2.jsonl", &format!("{bad}\n{b2}\n"));
    let (code, actions, stderr) = env.apply(&s2, T1, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(actions.is_empty(), "{actions:?}");
    let conn = rusqlite::Connection::open(env.state()).unwrap();
    let kept: i64 = conn
        .query_row("SELECT count(*) FROM contacts WHERE id = 'a-1'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1, "a-1 keeps its state");
}

#[test]
fn a_partial_snapshot_leaves_absent_contacts_alone() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    env.apply(&s1, T1, &[]);
    let only_g = SNAPSHOT_2.lines().last().unwrap();
    let s2 = env.write("s2.jsonl", &format!("{only_g}\n"));
    let (code, actions, _) = env.apply(&s2, T2, &["--snapshot", "partial"]);
    assert_eq!(code, 0);
    assert_actions(
        &actions,
        &[
            band("g-7", "readiness", Some("warm"), "cold"),
            act("g-7", "audience_add", "ads_awareness"),
            act("g-7", "audience_remove", "ads_retarget"),
            act("g-7", "workflow_enroll", "nurture_educate"),
            act("g-7", "workflow_exit", "nurture_evaluate"),
        ],
    );
    // The same snapshot as a full one removes everybody else.
    let (_, full, _) = env.apply(&s2, T2, &[]);
    let removed: Vec<&str> = full.iter().map(|a| a["contact"].as_str().unwrap()).collect();
    assert_eq!(
        removed,
        ["a-1", "a-1", "b-2", "b-2", "c-3", "c-3", "d-4", "f-6", "f-6"],
        "contacts removed in id order, each leaving its audience then its workflow"
    );
    assert!(full
        .iter()
        .all(|a| a["action"] == "audience_remove" || a["action"] == "workflow_exit"));
    // Removed contacts that come back are new again.
    let (_, back, _) = env.apply(&s1, T2, &[]);
    assert_eq!(
        back.iter()
            .filter(|a| a["action"] == "band_change" && a["from"].is_null())
            .count(),
        10
    );
}

#[test]
fn renaming_or_removing_a_target_removes_its_members() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    env.apply(&s1, T1, &[]);
    // A copy of the playbook with ads_retarget renamed to ads_warm and the
    // nurture_evaluate workflow removed.
    let rules = env.path("rules");
    std::fs::create_dir(&rules).unwrap();
    for entry in std::fs::read_dir("rules").unwrap() {
        let entry = entry.unwrap();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let text = text
            .replace("audience ads_retarget ", "audience ads_warm ")
            .replace("workflow nurture_evaluate when readiness is warm\n", "");
        std::fs::write(rules.join(entry.file_name()), text).unwrap();
    }
    let mut cmd = Command::cargo_bin("rubric").unwrap();
    let out = env.path("renamed.jsonl");
    let output = cmd
        .args(["apply", "--rules"])
        .arg(&rules)
        .args(["--as-of", T1, "--snapshot", "partial", "--state"])
        .arg(env.state())
        .arg("--contacts")
        .arg(env.write("c3.jsonl", &format!("{}\n", SNAPSHOT_1.lines().nth(2).unwrap())))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let actions = parse_lines(&std::fs::read_to_string(&out).unwrap());
    assert_actions(
        &actions,
        &[
            // c-3 is in the snapshot: it enters the renamed audience, then
            // leaves the old one (targets no longer declared come last).
            act("c-3", "audience_add", "ads_warm"),
            act("c-3", "audience_remove", "ads_retarget"),
            act("c-3", "workflow_exit", "nurture_evaluate"),
            // g-7 is absent from this partial snapshot, but the targets it
            // was in are gone: it leaves them and gets nothing else.
            act("g-7", "audience_remove", "ads_retarget"),
            act("g-7", "workflow_exit", "nurture_evaluate"),
        ],
    );
    let digest_1 = env.apply(&s1, T1, &[]).1;
    assert!(
        digest_1.iter().all(|a| a["rules"] != actions[0]["rules"]),
        "a changed rule set has a new digest"
    );
}

#[test]
fn max_removals_refuses_a_snapshot_that_would_drop_too_many() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    let (code, first, _) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 0);
    let known = first
        .iter()
        .filter(|a| a["action"] == "band_change" && a["target"] == "readiness")
        .count();
    assert!(known > 1);
    // An export cut down to its first line would drop every other contact.
    let truncated = env.write("s2.jsonl", SNAPSHOT_1.lines().next().unwrap());
    let (code, actions, stderr) = env.apply(&truncated, T2, &["--max-removals", "0"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(actions.is_empty());
    assert!(
        stderr.contains(&format!(
            "the snapshot would drop {} contacts that are absent from it, more than `--max-removals 0`; nothing was applied",
            known - 1
        )),
        "{stderr}"
    );
    // Nothing was applied: the same snapshot with room for the removals goes through as run 2.
    let limit = (known - 1).to_string();
    let (code, actions, _) = env.apply(&truncated, T2, &["--max-removals", &limit]);
    assert_eq!(code, 0);
    assert!(actions.iter().all(|a| a["run"] == 2));
    assert!(actions
        .iter()
        .any(|a| a["action"] == "audience_remove" || a["action"] == "workflow_exit"));
}

#[test]
fn an_earlier_as_of_is_refused_unless_forced() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    env.apply(&s1, T2, &[]);
    let (code, _, stderr) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error: `--as-of 2026-11-21T00:00:00Z` is earlier than the last applied run (run 1, as of 2026-11-28T00:00:00Z)"),
        "{stderr}"
    );
    assert!(!env.path("out.jsonl").exists(), "a refused apply writes nothing");
    let (code, _, _) = env.plan(&s1, T1, &[]);
    assert_eq!(code, 2, "plan refuses it too");
    // With --force it goes through: g-7's demo request is recent again (warm).
    let (code, actions, _) = env.apply(&s1, T1, &["--force"]);
    assert_eq!(code, 0);
    assert!(!actions.is_empty());
}

#[test]
fn a_held_state_file_makes_apply_wait_then_fail_clearly() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    env.apply(&s1, T1, &[]);
    let conn = rusqlite::Connection::open(env.state()).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (code, _, stderr) = env.apply(&s1, T1, &["--wait", "1"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("another `rubric apply` is using the state file"),
        "{stderr}"
    );
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(env.apply(&s1, T1, &[]).0, 0);
}

#[test]
fn concurrent_applies_commit_one_after_the_other() {
    let env = Env::new();
    // A larger snapshot so the two runs overlap.
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!(
            r#"{{"id":"x-{i}","email":"x{i}@acme.io","properties":{{"job_title":"VP","company_size":{},"industry":"Software","country":"US"}}}}"#,
            i % 300
        ));
        text.push('\n');
    }
    let snapshot = env.write("big.jsonl", &text);
    let bin = assert_cmd::cargo::cargo_bin("rubric");
    let spawn = |out: &str| {
        std::process::Command::new(&bin)
            .args(["apply", "--rules", "rules", "--as-of", T1, "--state"])
            .arg(env.state())
            .arg("--contacts")
            .arg(&snapshot)
            .arg("--out")
            .arg(env.path(out))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn("a.jsonl"), spawn("b.jsonl"));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let a = parse_lines(&std::fs::read_to_string(env.path("a.jsonl")).unwrap());
    let b = parse_lines(&std::fs::read_to_string(env.path("b.jsonl")).unwrap());
    // One of them did the work, the other found nothing left to do.
    let (full, empty) = if a.is_empty() { (b, a) } else { (a, b) };
    assert!(empty.is_empty());
    assert_eq!(full.len(), 3000 * 4);
}

#[test]
fn state_files_are_versioned() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    env.apply(&s1, T1, &[]);
    let conn = rusqlite::Connection::open(env.state()).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 1);
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let (code, _, stderr) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("has schema version 99, newer than this rubric supports (1)"),
        "{stderr}"
    );

    let junk = env.write("junk.db", "this is not a database, just text that is long enough to fill a header page.........................");
    let output = Command::cargo_bin("rubric")
        .unwrap()
        .args(["apply", "--rules", "rules", "--as-of", T1, "--state"])
        .arg(&junk)
        .arg("--contacts")
        .arg(&s1)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not a rubric state file"), "{stderr}");
}

#[test]
fn an_empty_state_file_is_refused_until_deleted() {
    // Issue 17, item 4: a state file truncated to 0 bytes is not a new state.
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    let (code, _, stderr) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(env.state(), "").unwrap();
    let (code, actions, stderr) = env.apply(&s1, T2, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(actions.is_empty(), "{actions:?}");
    assert!(stderr.contains("is empty (0 bytes)"), "{stderr}");
    assert!(stderr.contains("delete it to start over"), "{stderr}");
    assert_eq!(std::fs::metadata(env.state()).unwrap().len(), 0);
    let (code, _, stderr) = env.plan(&s1, T2, &[]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_file(env.state()).unwrap();
    let (code, actions, stderr) = env.apply(&s1, T2, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!actions.is_empty());
}

#[cfg(unix)]
#[test]
fn plan_and_actions_read_a_state_in_a_read_only_directory() {
    // Issue 17, item 9: reading a WAL-mode file needs a `-shm` file, which a
    // read-only directory cannot hold.
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    let (code, _, stderr) = env.apply(&s1, T1, &[]);
    assert_eq!(code, 0, "{stderr}");
    let _ = std::fs::remove_file(env.path("out.jsonl"));
    let (directory, state) = (env.dir.path().to_path_buf(), env.state());
    let set_mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    set_mode(&state, 0o444);
    set_mode(&directory, 0o555);
    // Root ignores the permissions: then the directory is not read-only at all.
    let probe = directory.join("probe");
    let writable = std::fs::write(&probe, "").is_ok();
    let results = if writable {
        let _ = std::fs::remove_file(&probe);
        None
    } else {
        let plan = env.plan(&s1, T2, &[]);
        let actions = Command::cargo_bin("rubric")
            .unwrap()
            .args(["actions", "--run", "1", "--state"])
            .arg(&state)
            .output()
            .unwrap();
        Some((plan, actions))
    };
    set_mode(&directory, 0o755);
    set_mode(&state, 0o644);
    let Some(((code, plan, stderr), actions)) = results else {
        println!("note: running as root, the read-only directory is writable; nothing checked");
        return;
    };
    assert_eq!(code, 0, "plan: {stderr}");
    assert!(!plan.is_empty());
    let stderr = String::from_utf8_lossy(&actions.stderr);
    assert_eq!(actions.status.code(), Some(0), "actions: {stderr}");
    let run_1 = parse_lines(&String::from_utf8_lossy(&actions.stdout));
    assert_eq!(run_1.len(), expected_run_1().len());
}

#[test]
fn out_dir_writes_one_file_per_target_with_hashed_emails() {
    let env = Env::new();
    let s1 = env.write("s1.jsonl", SNAPSHOT_1);
    let s2 = env.write("s2.jsonl", SNAPSHOT_2);
    env.apply(&s1, T1, &[]);
    let dir = env.path("upload");
    let (_, _, stderr) = env.apply(&s2, T2, &["--out-dir", dir.to_str().unwrap()]);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    // b-2's " B.Smith+promo@GoogleMail.com " is hashed as bsmith@googlemail.com;
    // d-4 has no email: its row is kept with an empty hash and reported.
    assert_eq!(
        read("audience-ads_conversion.csv"),
        "op,contact_id,email_sha256\n\
         add,b-2,62f3c6a68838e65fadee320156686c4968f0547d4737e9bea80241ab842f345f\n\
         remove,d-4,\n"
    );
    assert!(
        stderr.contains("note: 1 row of audience `ads_conversion` has no usable email"),
        "{stderr}"
    );
    assert_eq!(
        read("workflow-nurture_convert.csv"),
        "op,contact_id\nenroll,b-2\n"
    );
    assert_eq!(
        read("route-route_hot_lead.csv"),
        "contact_id,task,sla_hours,queue\nb-2,Follow up with hot lead,24,na_sales\n"
    );
    // Every declared target has its file, even without rows.
    assert_eq!(
        read("workflow-nurture_evaluate.csv"),
        "op,contact_id\nexit,g-7\nexit,c-3\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 7, "{names:?}");
    // An absent contact's removal uses the email hash stored with its state.
    let removed = read("audience-ads_retarget.csv");
    assert!(removed.contains("remove,c-3,"), "{removed}");
    assert!(!removed.contains("remove,c-3,\n"), "c-3 had an email: {removed}");
}

/// Copies of a snapshot's lines with distinct ids (`k{copy}-…`), plus every
/// 50th copy a line that is not JSON and a repeat of an earlier id: several
/// 1 MiB blocks for the worker threads.
fn big_snapshot(base: &str, copies: usize) -> String {
    let mut text = String::new();
    for copy in 0..copies {
        for line in base.lines() {
            text.push_str(&line.replacen("{\"id\":\"", &format!("{{\"id\":\"k{copy}-"), 1));
            text.push('\n');
        }
        if copy % 50 == 7 {
            text.push_str("{\"id\": \"k0-a-1\n");
            text.push_str(
                &base
                    .lines()
                    .next()
                    .unwrap()
                    .replacen("{\"id\":\"", "{\"id\":\"k3-", 1),
            );
            text.push('\n');
        }
    }
    text
}

#[test]
fn apply_gives_the_same_actions_and_state_with_one_or_two_threads() {
    let big_1 = big_snapshot(SNAPSHOT_1, 2500);
    let big_2 = big_snapshot(SNAPSHOT_2, 2500);
    assert!(big_1.len() > 3 << 20, "several blocks: {} bytes", big_1.len());
    let mut results = Vec::new();
    for threads in ["1", "2"] {
        let env = Env::new();
        let s1 = env.write("s1.jsonl", &big_1);
        let s2 = env.write("s2.jsonl", &big_2);
        let (code_1, run_1, stderr_1) = env.apply(&s1, T1, &["--threads", threads]);
        let (code_2, run_2, stderr_2) = env.apply(&s2, T2, &["--threads", threads]);
        // Applied again, the second snapshot changes nothing: the state is complete.
        let (_, again, _) = env.plan(&s2, T2, &["--threads", threads]);
        assert!(
            again.is_empty(),
            "{threads} threads: {} actions planned again",
            again.len()
        );
        let summary = |stderr: &str| -> Vec<String> {
            stderr
                .lines()
                .filter(|l| !l.starts_with("rejected line"))
                .map(str::to_string)
                .collect()
        };
        results.push((
            (code_1, code_2),
            (cores(&run_1), cores(&run_2)),
            (summary(&stderr_1), summary(&stderr_2)),
        ));
    }
    let (one, two) = (&results[0], &results[1]);
    assert_eq!(one.0, (3, 3), "rejected lines exit with 3");
    // Each copy of snapshot 1 has 24 actions (as in the hand-checked run).
    assert_eq!(one.1 .0.len(), 2500 * 24);
    assert!(one.1 == two.1, "actions differ between 1 and 2 threads");
    assert_eq!(one.2, two.2);
    assert_eq!(one.0, two.0);
}

#[test]
fn out_dir_gives_targets_that_differ_only_by_punctuation_their_own_files() {
    let env = Env::new();
    let rules = env.write(
        "targets.rubric",
        "suppress customer on ads when lifecycle_stage == \"customer\"\n\
         audience `ads x` when company_size > 100\n\
         audience ads_x when company_size > 200\n",
    );
    let contacts = env.write(
        "s.jsonl",
        "{\"id\":\"big\",\"properties\":{\"company_size\":250}}\n\
         {\"id\":\"mid\",\"properties\":{\"company_size\":150}}\n",
    );
    let dir = env.path("upload");
    let output = Command::cargo_bin("rubric")
        .unwrap()
        .args(["apply", "--as-of", T1, "--rules"])
        .arg(&rules)
        .arg("--state")
        .arg(env.state())
        .arg("--contacts")
        .arg(&contacts)
        .arg("--out-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    assert_eq!(
        read("audience-ads%20x.csv"),
        "op,contact_id,email_sha256\nadd,big,\nadd,mid,\n"
    );
    assert_eq!(
        read("audience-ads_x.csv"),
        "op,contact_id,email_sha256\nadd,big,\n"
    );
}
