//! `rubric measure --state DB` (live measurement, issue 12 item 7) on the
//! real binary: the two applies of the sync scenario (`tests/sync.rs`), the
//! second under a changed rule set (another digest), judged by hand-written
//! outcomes at three as-of instants, against hand-counted entries,
//! conversions, open entries, acceptance and SLA results; a golden text
//! report; and the flag combinations live mode refuses.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

use super::sync::{SNAPSHOT_1, SNAPSHOT_2, T1, T2};

/// Hand-counted against the sync scenario's actions (tests/sync.rs):
/// - run 1 (T1 = 11-21): readiness a-1 hot, b-2 cold, c-3 warm, d-4 hot,
///   f-6 cold, g-7 warm; fit_tier a-1 A, b-2 A, c-3 C, d-4 A, f-6 B, g-7 A;
///   task a-1 in na_sales.
/// - run 2 (T2 = 11-28, other rules digest): readiness e-5 cold, b-2 hot,
///   g-7 cold; fit_tier e-5 A; task b-2 in na_sales.
///
/// Outcomes: a-1 meets on 11-25, is touched 10 hours after its task and
/// accepted on 11-22; b-2 meets on 12-02 (inside run 1's horizon and run
/// 2's) and is touched on 11-30 (48 hours after its task: late); c-3 meets
/// on 12-01; d-4 on 12-25 (after run 1's horizon); g-7 met before run 1 (not
/// after entering); zz-9 is no contact of the state (unmatched); one line
/// is not JSON (rejected, exit 3).
const OUTCOMES: &str = r#"{"id":"a-1","type":"meeting_held","at":"2026-11-25T00:00:00Z"}
{"id":"a-1","type":"sales_touch","at":"2026-11-21T10:00:00Z"}
{"id":"a-1","type":"sales_accepted","at":"2026-11-22T00:00:00Z"}
{"id":"b-2","type":"meeting_held","at":"2026-12-02T00:00:00Z"}
{"id":"b-2","type":"sales_touch","at":"2026-11-30T00:00:00Z"}
{"id":"c-3","type":"meeting_held","at":"2026-12-01T00:00:00Z"}
{"id":"d-4","type":"meeting_held","at":"2026-12-25T00:00:00Z"}
{"id":"g-7","type":"meeting_held","at":"2026-11-20T00:00:00Z"}
{"id":"zz-9","type":"meeting_held","at":"2026-11-25T00:00:00Z"}
not json
"#;

struct Scenario {
    dir: tempfile::TempDir,
}

impl Scenario {
    /// Applies snapshot 1 at T1 with `rules/`, then snapshot 2 at T2 with a
    /// copy of `rules/` that differs by a comment (another digest), and
    /// writes the outcomes.
    fn new() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let scenario = Scenario { dir };
        let changed = scenario.path("rules-v2");
        std::fs::create_dir(&changed).unwrap();
        for entry in std::fs::read_dir("rules").unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rubric") {
                let mut text = std::fs::read_to_string(&path).unwrap();
                if path.ends_with("20-bands.rubric") {
                    text.push_str("\n# version 2\n");
                }
                std::fs::write(changed.join(path.file_name().unwrap()), text).unwrap();
            }
        }
        let first = scenario.write("snapshot-1.jsonl", SNAPSHOT_1);
        let second = scenario.write("snapshot-2.jsonl", SNAPSHOT_2);
        scenario.apply(Path::new("rules"), &first, T1, 0);
        // Snapshot 2 has one bad line (f-6): exit 3.
        scenario.apply(&changed, &second, T2, 3);
        scenario.write("outcomes.jsonl", OUTCOMES);
        scenario
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn apply(&self, rules: &Path, contacts: &Path, as_of: &str, code: i32) {
        let output = Command::cargo_bin("rubric")
            .unwrap()
            .arg("apply")
            .arg("--rules")
            .arg(rules)
            .arg("--contacts")
            .arg(contacts)
            .args(["--as-of", as_of, "--quiet", "--state"])
            .arg(self.path("state.db"))
            .arg("--out")
            .arg(self.path("actions.jsonl"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `rubric measure --rules rules --state … --outcomes … --goal meeting
    /// --as-of AS_OF EXTRA…`: (exit code, stdout, stderr).
    fn measure(&self, as_of: &str, extra: &[&str]) -> (i32, String, String) {
        let output = Command::cargo_bin("rubric")
            .unwrap()
            .args([
                "measure", "--rules", "rules", "--goal", "meeting", "--as-of", as_of,
            ])
            .arg("--state")
            .arg(self.path("state.db"))
            .arg("--outcomes")
            .arg(self.path("outcomes.jsonl"))
            .args(extra)
            .output()
            .unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn json(&self, as_of: &str) -> Value {
        let (code, stdout, stderr) = self.measure(as_of, &["--format", "json"]);
        assert_eq!(code, 3, "one outcome line is rejected: {stderr}");
        serde_json::from_str(&stdout).unwrap()
    }
}

/// The band row of `band` = `value` under the `version`-th digest, with only
/// the counts.
fn band_counts(report: &Value, band: &str, value: &str, version: usize) -> Value {
    let digest = &report["versions"][version]["digest"];
    let row = report["bands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["band"] == band && r["value"] == value && &r["digest"] == digest)
        .unwrap_or_else(|| panic!("no row {band} {value} {digest}"));
    json!([
        row["entries"],
        row["open"],
        row["open_converted"],
        row["measured"],
        row["converted"]
    ])
}

#[test]
fn live_measurement_counts_entries_conversions_acceptance_and_sla_after_every_horizon() {
    let scenario = Scenario::new();
    let report = scenario.json("2026-12-24T00:00:00Z");
    assert_eq!(report["mode"], "live");
    assert_eq!(report["goal"], "meeting");
    assert_eq!(report["as_of"], "2026-12-24T00:00:00Z");
    assert_eq!(report["horizon_days"], 30);
    assert_eq!(
        (report["runs"].clone(), report["runs_after_as_of"].clone()),
        (json!(2), json!(0))
    );
    let versions = report["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_ne!(versions[0]["digest"], versions[1]["digest"]);
    assert_eq!(versions[0]["first_as_of"], T1);
    assert_eq!(versions[1]["last_as_of"], T2);
    assert_eq!(
        report["outcomes"],
        json!({"read": 10, "rejected": 1, "unmatched": 1})
    );
    // [entries, open, open_converted, measured, converted]. Run 1's
    // horizon (to 12-21) is over; run 2's (to 12-28) is not.
    assert_eq!(
        band_counts(&report, "readiness", "hot", 0),
        json!([2, 0, 0, 2, 1])
    );
    assert_eq!(
        band_counts(&report, "readiness", "warm", 0),
        json!([2, 0, 0, 2, 1])
    );
    assert_eq!(
        band_counts(&report, "readiness", "cold", 0),
        json!([2, 0, 0, 2, 1])
    );
    assert_eq!(band_counts(&report, "fit_tier", "A", 0), json!([4, 0, 0, 4, 2]));
    assert_eq!(band_counts(&report, "fit_tier", "B", 0), json!([1, 0, 0, 1, 0]));
    assert_eq!(band_counts(&report, "fit_tier", "C", 0), json!([1, 0, 0, 1, 1]));
    assert_eq!(
        band_counts(&report, "readiness", "hot", 1),
        json!([1, 1, 1, 0, 0])
    );
    assert_eq!(
        band_counts(&report, "readiness", "warm", 1),
        json!([0, 0, 0, 0, 0])
    );
    assert_eq!(
        band_counts(&report, "readiness", "cold", 1),
        json!([2, 2, 0, 0, 0])
    );
    assert_eq!(band_counts(&report, "fit_tier", "A", 1), json!([1, 1, 0, 0, 0]));
    // Every declared value of every band, for both versions.
    assert_eq!(report["bands"].as_array().unwrap().len(), 12);
    let hot = &report["bands"][0];
    assert_eq!(
        (hot["band"].clone(), hot["value"].clone()),
        (json!("readiness"), json!("hot"))
    );
    assert_eq!(hot["rate"], 0.5);
    assert_eq!(hot["lift"], 1);
    assert_eq!(hot["captured"], json!(1.0 / 3.0));
    assert!(hot["rate_low"].as_f64().unwrap() < 0.5 && hot["rate_high"].as_f64().unwrap() > 0.5);
    // An open-only row has no rate.
    assert_eq!(report["bands"][1]["rate"], Value::Null);
    assert_eq!(
        report["routes"],
        json!([{"route": "route_hot_lead", "queue": "na_sales", "tasks": 2, "open": 1,
                "open_accepted": 0, "measured": 1, "accepted": 1, "rate": 1,
                "rate_low": report["routes"][0]["rate_low"], "rate_high": 1}])
    );
    let sla = &report["sla"][0];
    assert_eq!(
        json!([
            sla["queue"],
            sla["tasks"],
            sla["met"],
            sla["breached"],
            sla["open"],
            sla["touched"],
            sla["compliance"],
            sla["median_hours_to_touch"]
        ]),
        json!(["na_sales", 2, 1, 1, 0, 2, 0.5, 29])
    );
}

#[test]
fn entries_and_tasks_whose_windows_have_not_ended_are_open() {
    let scenario = Scenario::new();
    // Half a day after run 2: every horizon is still running.
    let report = scenario.json("2026-11-28T12:00:00Z");
    assert_eq!(
        band_counts(&report, "readiness", "hot", 0),
        json!([2, 2, 1, 0, 0])
    );
    assert_eq!(
        band_counts(&report, "readiness", "cold", 0),
        json!([2, 2, 0, 0, 0])
    );
    assert_eq!(
        band_counts(&report, "readiness", "hot", 1),
        json!([1, 1, 0, 0, 0])
    );
    assert!(report["bands"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["rate"].is_null()));
    let route = &report["routes"][0];
    assert_eq!(
        json!([
            route["tasks"],
            route["open"],
            route["open_accepted"],
            route["measured"],
            route["rate"]
        ]),
        json!([2, 2, 1, 0, null])
    );
    // a-1 was touched in time; b-2's SLA (to 11-29) has not elapsed, and its
    // touch on 11-30 is not seen yet.
    let sla = &report["sla"][0];
    assert_eq!(
        json!([
            sla["tasks"],
            sla["met"],
            sla["breached"],
            sla["open"],
            sla["compliance"],
            sla["median_hours_to_touch"]
        ]),
        json!([2, 1, 0, 1, 1, 10])
    );
}

#[test]
fn runs_after_the_as_of_are_left_out() {
    let scenario = Scenario::new();
    let report = scenario.json("2026-11-25T00:00:00Z");
    assert_eq!(
        (report["runs"].clone(), report["runs_after_as_of"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(report["versions"].as_array().unwrap().len(), 1);
    assert_eq!(report["bands"].as_array().unwrap().len(), 6);
    assert_eq!(report["routes"][0]["tasks"], 1);
}

#[test]
fn live_text_report() {
    let scenario = Scenario::new();
    let report = scenario.json("2026-12-24T00:00:00Z");
    let (code, mut text, stderr) = scenario.measure("2026-12-24T00:00:00Z", &[]);
    assert_eq!(code, 3);
    assert!(stderr.contains("line 10"), "{stderr}");
    assert!(
        stderr.contains("rubric: goal `meeting` measured live as of 2026-12-24T00:00:00Z from 2 applied runs: 16 band entries (4 still open), 2 tasks; outcomes: 10 read, 1 rejected, 1 unmatched"),
        "{stderr}"
    );
    // The digests change with every edit of rules/: name them by version.
    for (i, version) in report["versions"].as_array().unwrap().iter().enumerate() {
        let digest = version["digest"].as_str().unwrap();
        text = text.replace(digest, &format!("{:<16}", format!("version-{}", i + 1)));
    }
    insta::assert_snapshot!("measure_live_text", text);
}

#[test]
fn live_markdown_has_every_table() {
    let scenario = Scenario::new();
    let (code, markdown, _) = scenario.measure("2026-12-24T00:00:00Z", &["--format", "markdown"]);
    assert_eq!(code, 3);
    for heading in [
        "**band `readiness`**",
        "**band `fit_tier`**",
        "**acceptance**",
        "**SLA**",
    ] {
        assert!(markdown.contains(heading), "{markdown}");
    }
    assert!(
        markdown.contains("| route_hot_lead | na_sales | 2 | 1 | 1 | 1 | 100.0 % |"),
        "{markdown}"
    );
}

#[test]
fn live_mode_refuses_flags_it_cannot_honour() {
    let scenario = Scenario::new();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--by", "source"],
            "`--by` with `--state` needs `--contacts FILE`",
        ),
        (
            &["--contacts", "x.jsonl"],
            "`--contacts` with `--state` only gives `--by` its values",
        ),
        (
            &["--input-format", "csv"],
            "`--input-format` describes `--contacts`",
        ),
    ];
    for (extra, message) in cases {
        let (code, _, stderr) = scenario.measure("2026-12-24T00:00:00Z", extra);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
    }
    // Neither `--contacts` nor `--state`.
    let output = Command::cargo_bin("rubric")
        .unwrap()
        .args(["measure", "--rules", "rules", "--goal", "meeting", "--outcomes"])
        .arg(scenario.path("outcomes.jsonl"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    // No state file.
    let output = Command::cargo_bin("rubric")
        .unwrap()
        .args(["measure", "--rules", "rules", "--goal", "meeting", "--outcomes"])
        .arg(scenario.path("outcomes.jsonl"))
        .arg("--state")
        .arg(scenario.path("missing.db"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no state file at"));
}

/// The `--by` row of `band` = `value` for `group`, with only the counts.
fn by_counts(report: &Value, band: &str, value: &str, group: Option<&str>) -> Value {
    let row = report["by"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["band"] == band && r["value"] == value && r["group"] == json!(group))
        .unwrap_or_else(|| panic!("no row {band} {value} {group:?}"));
    json!([
        row["entries"],
        row["open"],
        row["open_converted"],
        row["measured"],
        row["converted"]
    ])
}

#[test]
fn by_a_property_reads_its_values_from_the_snapshot_given_alongside() {
    let scenario = Scenario::new();
    let contacts = scenario.path("snapshot-2.jsonl");
    let (code, stdout, stderr) = scenario.measure(
        "2026-12-24T00:00:00Z",
        &[
            "--format",
            "json",
            "--by",
            "country",
            "--contacts",
            contacts.to_str().unwrap(),
        ],
    );
    // Snapshot 2's f-6 line is rejected too.
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("line 5"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["by"]["property"], "country");
    // Groups by code point, then null (f-6 rejected, c-3 not in the snapshot).
    let groups: Vec<Value> = report["by"]["rows"].as_array().unwrap()[..5]
        .iter()
        .map(|r| r["group"].clone())
        .collect();
    assert_eq!(
        groups,
        [json!("CA"), json!("DE"), json!("GB"), json!("US"), Value::Null]
    );
    assert_eq!(report["by"]["rows"].as_array().unwrap().len(), 30);
    // Over both rule versions: a-1 (DE, hot, converted), d-4 (US, hot), b-2
    // (US: cold and converted in run 1, hot and open in run 2), f-6 (cold,
    // no group), e-5 (CA) and g-7 (GB) cold in run 2 (open), c-3 (warm, no
    // group, converted), g-7 (GB, warm in run 1).
    assert_eq!(
        by_counts(&report, "readiness", "hot", Some("DE")),
        json!([1, 0, 0, 1, 1])
    );
    assert_eq!(
        by_counts(&report, "readiness", "hot", Some("US")),
        json!([2, 1, 1, 1, 0])
    );
    assert_eq!(
        by_counts(&report, "readiness", "cold", Some("US")),
        json!([1, 0, 0, 1, 1])
    );
    assert_eq!(
        by_counts(&report, "readiness", "cold", None),
        json!([1, 0, 0, 1, 0])
    );
    assert_eq!(
        by_counts(&report, "readiness", "cold", Some("CA")),
        json!([1, 1, 0, 0, 0])
    );
    assert_eq!(
        by_counts(&report, "readiness", "warm", None),
        json!([1, 0, 0, 1, 1])
    );
    assert_eq!(
        by_counts(&report, "readiness", "warm", Some("GB")),
        json!([1, 0, 0, 1, 0])
    );
    assert_eq!(
        by_counts(&report, "readiness", "hot", Some("CA")),
        json!([0, 0, 0, 0, 0])
    );
    // Lift against every measured readiness entry (3 of 6 converted).
    let de_hot = report["by"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["band"] == "readiness" && r["value"] == "hot" && r["group"] == "DE")
        .unwrap();
    assert_eq!(
        (de_hot["lift"].clone(), de_hot["captured"].clone()),
        (json!(2), json!(1.0 / 3.0))
    );
    // Without `--by`, no `by` key.
    assert!(scenario.json("2026-12-24T00:00:00Z").get("by").is_none());
}
