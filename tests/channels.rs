//! Channels and exemptions against a reference evaluation: on generated
//! contacts, a target is a member exactly when its own condition holds and
//! no suppression on its channel that it is not exempt from applies; and a
//! target with `despite S` behaves as if `S` did not exist.

use proptest::prelude::*;
use rubric::eval::evaluate;
use rubric::plan::Plan;
use rubric::snapshot::decode_line;
use rubric::source::{SourceFile, Sources};

use crate::common;

/// A suppression: name, channels, condition.
const SUPPRESSIONS: [(&str, &str, &str); 4] = [
    ("customer", "ads, email, sms", "lifecycle_stage == \"customer\""),
    ("deal", "ads, sms, sales", "open_deal is true"),
    ("opted_out", "email, sms", "email_opt_out is true"),
    ("quiet", "in_app", "is_competitor is true"),
];

/// A target: kind, name, channel (`None` for its kind's own), condition,
/// the suppressions it is exempt from.
type Target = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static [&'static str],
);

const TARGETS: [Target; 6] = [
    ("audience", "a_upsell", None, "company_size >= 50", &["customer"]),
    (
        "audience",
        "a_sms",
        Some("sms"),
        "country in [\"US\", \"de\"]",
        &["customer", "deal"],
    ),
    ("audience", "a_plain", None, "owner is null", &[]),
    (
        "workflow",
        "w_welcome",
        None,
        "lifecycle_stage == \"customer\"",
        &["customer", "opted_out"],
    ),
    (
        "workflow",
        "w_in_app",
        Some("in_app"),
        "open_deal is not true",
        &["quiet"],
    ),
    (
        "route",
        "r_am",
        Some("sms"),
        "is_competitor is not true",
        &["opted_out"],
    ),
];

/// The channels of each kind of target when it names none.
fn own_channel(kind: &str) -> &'static str {
    match kind {
        "audience" => "ads",
        "workflow" => "email",
        _ => "sales",
    }
}

/// The rule set with the suppressions `keep` says to keep, and the
/// exemptions of each target, minus those of removed suppressions.
fn rule_set(keep: impl Fn(&str) -> bool, exemptions: bool) -> String {
    let mut text = String::from("channel sms\nchannel in_app\n");
    for (name, channels, cond) in SUPPRESSIONS.iter().filter(|s| keep(s.0)) {
        text.push_str(&format!("suppress {name} on {channels} when {cond}\n"));
    }
    for (kind, name, channel, cond, despite) in TARGETS {
        let on = channel.map(|c| format!(" on {c}")).unwrap_or_default();
        let despite: Vec<&str> = despite.iter().copied().filter(|s| keep(s)).collect();
        let despite = if despite.is_empty() || !exemptions {
            String::new()
        } else {
            format!(" despite {}", despite.join(", "))
        };
        let body = if kind == "route" {
            " { task \"t\" sla 1 day queue q }"
        } else {
            ""
        };
        text.push_str(&format!("{kind} {name}{on} when {cond}{despite}{body}\n"));
    }
    text
}

fn compile(text: &str) -> Plan {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("channels.rubric", text));
    match rubric::compile::compile(&sources) {
        Ok(compiled) => compiled.plan,
        Err(d) => panic!("{}\n{text}", rubric::diagnostics::render(&d, &sources, false)),
    }
}

/// Each target's membership, in the order of [`TARGETS`].
fn memberships(plan: &Plan, line: &str) -> Option<(Vec<bool>, Vec<bool>)> {
    let contact = decode_line(&plan.decode, line).ok()??;
    let outcome = evaluate(plan, &contact, common::as_of());
    let members = outcome
        .audiences
        .iter()
        .copied()
        .chain(outcome.workflows.iter().copied())
        .chain(outcome.routes.iter().map(Option::is_some))
        .collect();
    Some((members, outcome.suppressed))
}

fn check(line: &str) {
    let full = compile(&rule_set(|_| true, true));
    // The reference: each target's own condition, without any suppression.
    let bare = compile(&rule_set(|_| false, false));
    let (Some((members, suppressed)), Some((conditions, _))) =
        (memberships(&full, line), memberships(&bare, line))
    else {
        return;
    };
    for (i, (kind, name, channel, _, despite)) in TARGETS.iter().enumerate() {
        let channel = channel.unwrap_or(own_channel(kind));
        let blocked = SUPPRESSIONS
            .iter()
            .zip(&suppressed)
            .any(|((s, channels, _), applies)| {
                *applies && channels.split(", ").any(|c| c == channel) && !despite.contains(s)
            });
        assert_eq!(members[i], conditions[i] && !blocked, "{name}: {line}");
    }
    // `despite S` is the same as S not existing, for the target exempt from it.
    for (exempt_from, _, _) in SUPPRESSIONS {
        let without = compile(&rule_set(|s| s != exempt_from, true));
        let Some((members_without, _)) = memberships(&without, line) else {
            return;
        };
        for (i, (_, name, _, _, despite)) in TARGETS.iter().enumerate() {
            let exempt_from_all = despite.contains(&exempt_from);
            if exempt_from_all {
                assert_eq!(
                    members[i], members_without[i],
                    "{name} without {exempt_from}: {line}"
                );
            }
        }
    }
}

#[test]
fn the_reference_rule_set_compiles_and_formats() {
    let text = rule_set(|_| true, true);
    compile(&text);
    let formatted = rubric::fmt::format_source(&text).unwrap();
    assert_eq!(rubric::fmt::format_source(&formatted).unwrap(), formatted);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn targets_follow_their_channel_and_exemptions(c in common::contact()) {
        check(&c.to_string());
    }
}

/// `plan` on a rule set with targets on declared channels: their actions
/// carry the channel, ad-platform minimums are only about ads audiences,
/// and targets on their own channel keep theirs.
#[test]
fn actions_name_the_declared_channel_of_their_target() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.rubric");
    std::fs::write(
        &rules,
        "channel sms\nchannel in_app\n\
         suppress customer on ads, email, sales when lifecycle_stage == \"customer\"\n\
         audience upsell when true despite customer\n\
         audience sms_promo on sms when true\n\
         workflow onboarding on in_app when true\n\
         route am on sms when true { task \"t\" sla 1 day queue q }\n",
    )
    .unwrap();
    let contacts = dir.path().join("c.jsonl");
    std::fs::write(
        &contacts,
        "{\"id\":\"c\",\"email\":\"c@x.io\",\"properties\":{\"lifecycle_stage\":\"customer\"}}\n",
    )
    .unwrap();
    let out = common::rubric()
        .args(["plan", "--rules"])
        .arg(&rules)
        .arg("--contacts")
        .arg(&contacts)
        .arg("--state")
        .arg(dir.path().join("state.db"))
        .args(["--as-of", common::AS_OF])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let channels: Vec<(String, String)> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|a| {
            (
                a["target"].as_str().unwrap().to_string(),
                a["channel"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("upsell", "ads"),
        ("sms_promo", "sms"),
        ("onboarding", "in_app"),
        ("am", "sms"),
    ];
    assert_eq!(
        channels,
        expected.map(|(t, c)| (t.to_string(), c.to_string())),
        "{stdout}"
    );
    assert!(stderr.contains("warning: audience `upsell`"), "{stderr}");
    assert!(!stderr.contains("warning: audience `sms_promo`"), "{stderr}");
}

/// `apply --out-dir` and `rubric actions --out-dir` write a target on a
/// declared channel to the file of its kind and name, like any other
/// (docs/sync.md, "Destinations"): the file name does not carry the
/// channel, the action lines do.
#[test]
fn out_dir_files_of_targets_on_declared_channels_are_named_by_kind_and_target() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.rubric");
    std::fs::write(
        &rules,
        "channel sms\nchannel in_app\n\
         audience sms_promo on sms when true\n\
         workflow onboarding on in_app when true\n\
         route am on sms when true { task \"t\" sla 1 day queue q }\n",
    )
    .unwrap();
    let contacts = dir.path().join("c.jsonl");
    std::fs::write(&contacts, "{\"id\":\"c\",\"email\":\"c@x.io\"}\n").unwrap();
    let state = dir.path().join("state.db");
    let applied = dir.path().join("applied");
    let out = common::rubric()
        .args(["apply", "--quiet", "--rules"])
        .arg(&rules)
        .arg("--contacts")
        .arg(&contacts)
        .arg("--state")
        .arg(&state)
        .arg("--out-dir")
        .arg(&applied)
        .args(["--as-of", common::AS_OF])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported = dir.path().join("exported");
    let out = common::rubric()
        .args(["actions", "--run", "1", "--state"])
        .arg(&state)
        .arg("--out-dir")
        .arg(&exported)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files = |path: &std::path::Path| -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let written = files(&applied);
    let names: Vec<&str> = written.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "audience-sms_promo.csv",
            "route-am.csv",
            "workflow-onboarding.csv"
        ]
    );
    assert!(
        written[0].1.starts_with("op,contact_id,email_sha256\nadd,c,"),
        "{written:?}"
    );
    assert_eq!(written[1].1, "contact_id,task,sla_hours,queue\nc,t,24,q\n");
    assert_eq!(written[2].1, "op,contact_id\nenroll,c\n");
    assert_eq!(files(&exported), written);
}

/// `diff` sees what an exemption changes: adding `despite customer` to an
/// audience adds the customers it suppressed.
#[test]
fn diff_counts_the_members_an_exemption_adds() {
    let dir = tempfile::tempdir().unwrap();
    let base = "suppress customer on ads, email, sales when lifecycle_stage == \"customer\"\naudience upsell when true\n";
    let new = "suppress customer on ads, email, sales when lifecycle_stage == \"customer\"\naudience upsell when true despite customer\n";
    std::fs::write(dir.path().join("base.rubric"), base).unwrap();
    std::fs::write(dir.path().join("new.rubric"), new).unwrap();
    let contacts = dir.path().join("c.jsonl");
    std::fs::write(
        &contacts,
        "{\"id\":\"a\",\"properties\":{\"lifecycle_stage\":\"customer\"}}\n{\"id\":\"b\",\"properties\":{\"lifecycle_stage\":\"lead\"}}\n",
    )
    .unwrap();
    let out = common::rubric()
        .args(["diff", "--format", "json", "--base"])
        .arg(dir.path().join("base.rubric"))
        .arg("--rules")
        .arg(dir.path().join("new.rubric"))
        .arg("--contacts")
        .arg(&contacts)
        .args(["--as-of", common::AS_OF])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["changed"], 1, "{stdout}");
    assert!(stdout.contains("upsell"), "{stdout}");
}

/// More than 64 suppressions: the blocking sets span several words.
#[test]
fn exemptions_work_past_64_suppressions() {
    let names: Vec<String> = (0..70).map(|i| format!("s{i}")).collect();
    let mut text: String = names
        .iter()
        .map(|n| format!("suppress {n} on ads when true\n"))
        .collect();
    text.push_str(&format!(
        "audience all_waived when true despite {}\n",
        names.join(", ")
    ));
    let but_67: Vec<&str> = names.iter().map(String::as_str).filter(|n| *n != "s67").collect();
    text.push_str(&format!(
        "audience one_left when true despite {}\n",
        but_67.join(", ")
    ));
    let plan = compile(&text);
    let contact = decode_line(&plan.decode, r#"{"id":"c"}"#).unwrap().unwrap();
    let outcome = evaluate(&plan, &contact, common::as_of());
    assert_eq!(outcome.audiences, [true, false]);
    let mut sources = Sources::default();
    sources.add(SourceFile::new("channels.rubric", text.as_str()));
    let trace = rubric::trace::explain(&plan, &sources, &contact, common::as_of()).1;
    assert_eq!(trace.audiences[1].suppressed_by, ["s67"]);
    assert_eq!(trace.audiences[1].waived.len(), 69);
}
