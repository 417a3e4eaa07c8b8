//! `rubric diff`: two versions of `rules/` on `examples/contacts.jsonl` with
//! transition counts checked against `examples/expected.jsonl`, golden
//! reports (text, Markdown, JSON), `--base` as a git revision, items on one
//! side only, bad lines, identical rule sets, and the seeded compile that lets
//! both plans share one decoded contact.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::AS_OF;

use crate::common::rubric;

/// Copies `rules/` to `dir/name`.
fn copy_rules(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir("rules").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rubric") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    to
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "`{from}` not in {}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// The change the tests review: the hot threshold on intent goes from 50 to
/// 55, and a new audience of high-fit contacts.
fn modify(rules: &Path) {
    edit(
        &rules.join("20-bands.rubric"),
        "hot  when fit >= 50 and intent >= 50",
        "hot  when fit >= 50 and intent >= 55",
    );
    let activation = rules.join("40-activation.rubric");
    let mut text = std::fs::read_to_string(&activation).unwrap();
    text.push_str("\naudience ads_high_fit when fit >= 80\n");
    std::fs::write(&activation, text).unwrap();
}

/// A directory with `rules/` (the base), `rules-new/` (modified) and
/// `contacts.jsonl`, so that reports hold only relative paths.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_rules(dir.path(), "rules");
    modify(&copy_rules(dir.path(), "rules-new"));
    std::fs::copy("examples/contacts.jsonl", dir.path().join("contacts.jsonl")).unwrap();
    dir
}

fn diff_in(dir: &Path, base: &str, rules: &str, format: &str) -> std::process::Output {
    rubric()
        .current_dir(dir)
        .args([
            "diff",
            "--base",
            base,
            "--rules",
            rules,
            "--contacts",
            "contacts.jsonl",
        ])
        .args(["--as-of", AS_OF, "--format", format])
        .output()
        .unwrap()
}

fn json_report(output: &std::process::Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn find<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {list}"))
}

/// The expected results of the playbook on the example contacts.
fn expected() -> Vec<Value> {
    std::fs::read_to_string("examples/expected.jsonl")
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn raising_the_hot_threshold_moves_the_known_contacts_from_hot_to_warm() {
    let dir = workspace();
    let report = json_report(&diff_in(dir.path(), "rules", "rules-new", "json"));
    // From the expected results: hot contacts whose intent is below 55 (the
    // new threshold) become warm (their intent is still >= 20): c-2009 (50),
    // c-2010 (54.52), c-2011 (54.06). Hot contacts above 55 stay hot.
    let moving: Vec<String> = expected()
        .iter()
        .filter(|r| r["bands"]["readiness"] == "hot" && r["scores"]["intent"].as_f64().unwrap() < 55.0)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(moving, ["c-2009", "c-2010", "c-2011"]);
    let readiness = find(&report["bands"], "readiness");
    assert_eq!(readiness["side"], "both");
    let transitions = readiness["transitions"].as_array().unwrap();
    assert_eq!(transitions.len(), 1, "{readiness}");
    assert_eq!(transitions[0]["from"], "hot");
    assert_eq!(transitions[0]["to"], "warm");
    assert_eq!(transitions[0]["contacts"], 3);
    assert_eq!(transitions[0]["examples"], serde_json::json!(moving));
    assert_eq!(readiness["unchanged"], 9);
    assert_eq!(
        readiness["matrix"],
        serde_json::json!([[2, 3, 0], [0, 3, 0], [0, 0, 4]])
    );
    assert!(find(&report["bands"], "fit_tier")["transitions"]
        .as_array()
        .unwrap()
        .is_empty());

    // Targets: the movers not suppressed on a channel leave the hot targets
    // and join the warm ones (c-2009 is suppressed everywhere; c-2011 on email).
    let conversion = find(&report["audiences"], "ads_conversion");
    assert_eq!(
        (conversion["base"].as_u64(), conversion["new"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(conversion["removed"], 2);
    assert_eq!(
        conversion["examples"]["removed"],
        serde_json::json!(["c-2010", "c-2011"])
    );
    assert_eq!(find(&report["audiences"], "ads_retarget")["added"], 2);
    assert_eq!(find(&report["workflows"], "nurture_convert")["removed"], 1);
    assert_eq!(find(&report["workflows"], "nurture_evaluate")["added"], 1);
    let route = find(&report["routes"], "route_hot_lead");
    assert_eq!(route["removed"], 1);
    assert_eq!(route["examples"]["removed"], serde_json::json!(["c-2011"]));
    assert_eq!(route["queue_changes"], serde_json::json!([]));

    // The new audience: fit >= 80 and not suppressed on ads.
    let high_fit = find(&report["audiences"], "ads_high_fit");
    assert_eq!(high_fit["side"], "added");
    assert_eq!(high_fit["base"], 0);
    assert_eq!(high_fit["added"], 4);
    assert_eq!(
        high_fit["examples"]["added"],
        serde_json::json!(["c-2001", "c-2002", "c-2008", "c-2010"])
    );

    // Scores did not change; their distributions match the expected results.
    let intent = find(&report["scores"], "intent");
    assert_eq!(intent["base"], intent["new"]);
    assert_eq!(
        (intent["up"].as_u64(), intent["down"].as_u64()),
        (Some(0), Some(0))
    );
    let mut values: Vec<f64> = expected()
        .iter()
        .map(|r| r["scores"]["intent"].as_f64().unwrap())
        .collect();
    values.sort_by(f64::total_cmp);
    assert_eq!(intent["base"]["min"].as_f64(), Some(values[0]));
    assert_eq!(intent["base"]["max"].as_f64(), Some(values[11]));
    let bins: u64 = intent["histogram"]["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["new"].as_u64().unwrap())
        .sum();
    assert_eq!(bins, 12);

    assert_eq!(report["contacts"], 12);
    assert_eq!(report["rejected"], 0);
    // c-2009, c-2010, c-2011 move; c-2001, c-2002, c-2008 join the new audience.
    assert_eq!(report["changed"], 6);
}

#[test]
fn golden_reports() {
    let dir = workspace();
    for format in ["text", "markdown", "json"] {
        let output = diff_in(dir.path(), "rules", "rules-new", format);
        assert_eq!(output.status.code(), Some(0));
        let stdout = String::from_utf8(output.stdout).unwrap();
        insta::assert_snapshot!(format!("diff_{format}"), stdout);
    }
}

#[test]
fn identical_rule_sets_have_no_transitions() {
    let dir = workspace();
    let report = json_report(&diff_in(dir.path(), "rules", "rules", "json"));
    assert_eq!(report["changed"], 0);
    for band in report["bands"].as_array().unwrap() {
        assert!(band["transitions"].as_array().unwrap().is_empty(), "{band}");
        assert_eq!(band["unchanged"], 12);
    }
    for kind in ["audiences", "workflows", "routes"] {
        for target in report[kind].as_array().unwrap() {
            assert_eq!(
                (target["added"].as_u64(), target["removed"].as_u64()),
                (Some(0), Some(0))
            );
        }
    }
    for score in report["scores"].as_array().unwrap() {
        assert_eq!(score["base"], score["new"]);
    }
    let text = diff_in(dir.path(), "rules", "rules", "text");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("rubric diff: 0 of 12 contacts change"), "{text}");
    assert!(
        text.contains("band readiness: no change (hot 5, warm 3, cold 4)"),
        "{text}"
    );
}

#[test]
fn items_on_one_side_only_are_added_or_removed() {
    let dir = workspace();
    let new = copy_rules(dir.path(), "rules-other");
    // Remove a band and an audience; add a score, a band on it, a workflow and a route.
    edit(
        &new.join("20-bands.rubric"),
        "band fit_tier {\n  A when fit >= 60\n  B when fit >= 30\n  C otherwise\n}\n",
        "",
    );
    edit(
        &new.join("40-activation.rubric"),
        "audience ads_awareness  when fit_but_cold\n",
        "",
    );
    let mut extra = String::from(
        "score engagement 0..10 {\n  \"clicks\" each email_click within 30 days => +5 max 10\n}\n\n\
         band engaged {\n  yes when engagement >= 5\n  no  otherwise\n}\n\n\
         workflow nurture_engaged when engaged is yes\n\n\
         route route_engaged when engaged is yes {\n  task \"Call\"\n  sla 48 hours\n  queue first {\n    global_sales otherwise\n  }\n}\n",
    );
    extra.insert_str(0, "# added for the diff test\n");
    std::fs::write(new.join("50-engagement.rubric"), extra).unwrap();
    let output = diff_in(dir.path(), "rules", "rules-other", "json");
    let report = json_report(&output);

    let fit_tier = find(&report["bands"], "fit_tier");
    assert_eq!(fit_tier["side"], "removed");
    assert_eq!(fit_tier["values"]["new"], Value::Null);
    let matrix = fit_tier["matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 3);
    assert!(matrix.iter().all(|row| row.as_array().unwrap().len() == 1));
    let to_none: u64 = fit_tier["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|t| assert_eq!(t["to"], Value::Null))
        .map(|t| t["contacts"].as_u64().unwrap())
        .sum();
    assert_eq!(to_none, 12);

    let engaged = find(&report["bands"], "engaged");
    assert_eq!(engaged["side"], "added");
    assert_eq!(engaged["values"]["base"], Value::Null);
    assert_eq!(engaged["matrix"].as_array().unwrap().len(), 1);
    for t in engaged["transitions"].as_array().unwrap() {
        assert_eq!(t["from"], Value::Null);
    }

    let engagement = find(&report["scores"], "engagement");
    assert_eq!(engagement["side"], "added");
    assert_eq!(engagement["base"], Value::Null);
    assert_eq!(engagement["up"], Value::Null);
    assert!(engagement["new"]["mean"].is_number());

    let awareness = find(&report["audiences"], "ads_awareness");
    assert_eq!(awareness["side"], "removed");
    assert_eq!(awareness["new"], 0);
    assert_eq!(awareness["removed"], awareness["base"]);
    assert_eq!(find(&report["workflows"], "nurture_engaged")["side"], "added");
    let route = find(&report["routes"], "route_engaged");
    assert_eq!(route["side"], "added");
    assert_eq!(route["base"], 0);

    // Text and Markdown render them too.
    for format in ["text", "markdown"] {
        let out = diff_in(dir.path(), "rules", "rules-other", format);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("engagement") && text.contains("(added)") && text.contains("(removed)"),
            "{text}"
        );
    }
}

#[test]
fn bad_lines_are_rejected_like_run_and_exit_3() {
    let dir = workspace();
    let mut lines: Vec<String> = std::fs::read_to_string("examples/contacts.jsonl")
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let first = lines[0].clone();
    lines.insert(1, "{not json".to_string());
    lines.insert(3, String::new());
    lines.push(first); // a repeated id
    lines.push(r#"{"id":""}"#.to_string());
    std::fs::write(dir.path().join("contacts.jsonl"), lines.join("\n") + "\n").unwrap();
    let output = diff_in(dir.path(), "rules", "rules-new", "json");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["contacts"], 12);
    assert_eq!(report["rejected"], 3);
    assert_eq!(
        find(&report["bands"], "readiness")["transitions"][0]["contacts"],
        3
    );
    // The same rejections, with the same line numbers and reasons, as `run`.
    let run = rubric()
        .current_dir(dir.path())
        .args([
            "run",
            "--rules",
            "rules",
            "--contacts",
            "contacts.jsonl",
            "--as-of",
            AS_OF,
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    let rejected = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("rejected line"))
            .map(String::from)
            .collect()
    };
    let from_run = rejected(&String::from_utf8(run.stderr).unwrap());
    assert_eq!(from_run.len(), 3);
    assert_eq!(rejected(&stderr), from_run);
    assert!(
        stderr
            .contains("rubric: 12 contacts compared as of 2026-11-28T00:00:00Z; 6 changed; 3 lines rejected"),
        "{stderr}"
    );
}

#[test]
fn rule_errors_on_either_side_exit_1() {
    let dir = workspace();
    let broken = copy_rules(dir.path(), "rules-broken");
    edit(&broken.join("20-bands.rubric"), "intent >= 20", "intnet >= 20");
    for (base, rules) in [("rules", "rules-broken"), ("rules-broken", "rules")] {
        let output = diff_in(dir.path(), base, rules, "text");
        assert_eq!(output.status.code(), Some(1), "{base} → {rules}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("intnet"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn the_report_does_not_depend_on_threads() {
    // Enough contacts for many chunks: the examples must still be the first
    // ones in input order.
    let dir = workspace();
    let lines: Vec<String> = std::fs::read_to_string("examples/contacts.jsonl")
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut big = String::new();
    for copy in 0..600 {
        for line in &lines {
            big.push_str(&line.replacen("\"c-", &format!("\"c{copy}-"), 1));
            big.push('\n');
        }
    }
    std::fs::write(dir.path().join("contacts.jsonl"), big).unwrap();
    let run = |threads: &str| {
        rubric()
            .current_dir(dir.path())
            .args([
                "diff",
                "--base",
                "rules",
                "--rules",
                "rules-new",
                "--contacts",
                "contacts.jsonl",
            ])
            .args(["--as-of", AS_OF, "--format", "json", "--threads", threads])
            .output()
            .unwrap()
    };
    let one = json_report(&run("1"));
    let four = json_report(&run("4"));
    assert_eq!(one, four);
    let t = &find(&one["bands"], "readiness")["transitions"][0];
    assert_eq!(t["contacts"], 1800);
    assert_eq!(
        t["examples"],
        serde_json::json!(["c0-2009", "c0-2010", "c0-2011", "c1-2009", "c1-2010"])
    );
}

fn git_available() -> bool {
    std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=rubric",
            "-c",
            "user.email=rubric@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn base_can_be_a_git_revision() {
    if !git_available() {
        eprintln!("git is not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    let rules = copy_rules(repo, "rules");
    std::fs::copy("examples/contacts.jsonl", repo.join("contacts.jsonl")).unwrap();
    git(repo, &["add", "rules"]);
    git(repo, &["commit", "-q", "-m", "playbook"]);
    modify(&rules);
    git(repo, &["commit", "-q", "-am", "raise the hot threshold"]);

    let from_git = json_report(&diff_in(repo, "HEAD~1", "rules", "json"));
    assert_eq!(from_git["base"], "HEAD~1");
    let t = &find(&from_git["bands"], "readiness")["transitions"];
    assert_eq!(t[0]["contacts"], 3);
    // The same report as with the base as a directory.
    let paths = workspace();
    let from_paths = json_report(&diff_in(paths.path(), "rules", "rules-new", "json"));
    for key in ["bands", "scores", "audiences", "workflows", "routes", "changed"] {
        assert_eq!(from_git[key], from_paths[key], "{key}");
    }
    // HEAD is the new rules: nothing changes. A single file works too.
    assert_eq!(json_report(&diff_in(repo, "HEAD", "rules", "json"))["changed"], 0);
    // Alone, the bands file reads `fit` and `intent` as (missing) properties.
    let one_file = json_report(&diff_in(repo, "HEAD~1", "rules/20-bands.rubric", "json"));
    assert_eq!(find(&one_file["bands"], "readiness")["unchanged"], 12);

    // Diagnostics in the base name the revision.
    edit(&rules.join("20-bands.rubric"), "intent >= 20", "intnet >= 20");
    git(repo, &["commit", "-q", "-am", "typo"]);
    modify_back(&rules);
    let output = diff_in(repo, "HEAD", "rules", "text");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("HEAD:rules/20-bands.rubric"), "{stderr}");

    // An unknown revision, and a rules path outside any repository: exit 2.
    let output = diff_in(repo, "no-such-branch", "rules", "text");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`--base no-such-branch` is neither a path nor a revision"),
        "{stderr}"
    );
    let outside = workspace();
    let output = diff_in(outside.path(), "HEAD~1", "rules", "text");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("is not in a git repository"), "{stderr}");
}

fn modify_back(rules: &Path) {
    edit(&rules.join("20-bands.rubric"), "intnet >= 20", "intent >= 20");
}

#[test]
fn the_seeded_plan_reads_a_superset_with_the_same_slots_and_means_the_same() {
    use rubric::source::Sources;
    let dir = workspace();
    let base = rubric::compile::compile(&Sources::load(&dir.path().join("rules")).unwrap())
        .unwrap()
        .plan;
    let other = copy_rules(dir.path(), "rules-other");
    // A new (declared) property that only the new rules read.
    edit(
        &other.join("10-scores.rubric"),
        "\"country\"    when country in target_countries ignoring case => +10",
        "\"region\"     when region == \"emea\" => +10",
    );
    edit(
        &other.join("00-schema.rubric"),
        "  source:              text\n",
        "  source:              text\n  region:              text\n",
    );
    let new_sources = Sources::load(&other).unwrap();
    let seeded = rubric::compile::compile_with_seed(&new_sources, &base.decode)
        .unwrap()
        .plan;
    let plain = rubric::compile::compile(&new_sources).unwrap().plan;
    for (name, slot) in &base.decode.properties {
        assert_eq!(seeded.decode.properties.get(name), Some(slot), "{name}");
    }
    for (name, slot) in &base.decode.event_types {
        assert_eq!(seeded.decode.event_types.get(name), Some(slot), "{name}");
        for (prop, p) in &base.decode.event_props[*slot] {
            assert_eq!(
                seeded.decode.event_props[*slot].get(prop),
                Some(p),
                "{name}.{prop}"
            );
        }
    }
    assert!(seeded.decode.properties.contains_key("region"));
    assert_eq!(seeded.decode.property_types.len(), seeded.decode.properties.len());
    // Evaluating on a contact decoded with the seeded spec gives what each
    // plan gives on its own decoding.
    let as_of = rubric::snapshot::parse_timestamp(AS_OF).unwrap();
    for line in std::fs::read_to_string("examples/contacts.jsonl")
        .unwrap()
        .lines()
    {
        let shared = rubric::snapshot::decode_line(&seeded.decode, line)
            .unwrap()
            .unwrap();
        for (plan, own) in [(&base, &base), (&seeded, &plain)] {
            let contact = rubric::snapshot::decode_line(&own.decode, line).unwrap().unwrap();
            let mut a = Vec::new();
            let mut b = Vec::new();
            rubric::output::write_result(
                &mut a,
                plan,
                &shared.id,
                &rubric::eval::evaluate(plan, &shared, as_of),
            );
            rubric::output::write_result(
                &mut b,
                own,
                &contact.id,
                &rubric::eval::evaluate(own, &contact, as_of),
            );
            assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
        }
    }
    // Seeding changes no diagnostic: a base event type is not an error as a
    // property name in the new rules, and typos are still caught.
    let mut typo = Sources::default();
    typo.add(rubric::source::SourceFile::new(
        "t.rubric",
        "score s 0..10 { \"a\" when page_view == 1 => +1 }\n",
    ));
    assert!(rubric::compile::compile_with_seed(&typo, &base.decode).is_ok());
    assert!(rubric::compile::compile(&typo).is_ok());
}

#[test]
fn route_queue_changes_are_reported() {
    let dir = workspace();
    let new = copy_rules(dir.path(), "rules-queues");
    // c-2001 (US) leaves na_sales for global_sales; c-2002 (emea) stays.
    edit(
        &new.join("40-activation.rubric"),
        r#"na_sales     when country in ["US", "CA"] ignoring case"#,
        r#"na_sales     when country in ["CA"] ignoring case"#,
    );
    let report = json_report(&diff_in(dir.path(), "rules", "rules-queues", "json"));
    let route = find(&report["routes"], "route_hot_lead");
    assert_eq!(
        (route["added"].as_u64(), route["removed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        route["queue_changes"],
        serde_json::json!([{"from": "na_sales", "to": "global_sales", "contacts": 1, "examples": ["c-2001"]}])
    );
    assert_eq!(report["changed"], 1);
    let text = String::from_utf8(diff_in(dir.path(), "rules", "rules-queues", "text").stdout).unwrap();
    assert!(
        text.contains("route route_hot_lead queue na_sales → global_sales: 1  e.g. c-2001"),
        "{text}"
    );
}

#[test]
fn csv_snapshots_are_compared_too() {
    let dir = workspace();
    let csv = "id,email,job_title,company_size,industry,country\n\
               a-1,ana@acme.io,VP Marketing,250,software,US\n\
               a-2,bo@gmail.com,Intern,5,retail,FR\n";
    std::fs::write(dir.path().join("contacts.csv"), csv).unwrap();
    let output = rubric()
        .current_dir(dir.path())
        .args([
            "diff",
            "--base",
            "rules",
            "--rules",
            "rules-new",
            "--contacts",
            "contacts.csv",
        ])
        .args(["--as-of", AS_OF, "--format", "json"])
        .output()
        .unwrap();
    let report = json_report(&output);
    assert_eq!(report["contacts"], 2);
    // a-1: fit 30 + 25 + 20 + 10 = 85 ≥ 80, so it joins the new audience.
    let high_fit = find(&report["audiences"], "ads_high_fit");
    assert_eq!(high_fit["examples"]["added"], serde_json::json!(["a-1"]));
}
