//! `rubric measure --format html`: the page's golden text, that it reaches
//! nothing outside itself and escapes what users wrote, and a real headless
//! Chromium rendering it with every chart and the expected number of marks,
//! the same with the network unreachable.
//!
//! The browser tests need Debian's `chromium`. Plain `cargo test` on a
//! machine without it skips them with a note (README's test command needs
//! nothing but a Rust toolchain); `.ci/run` installs Chromium and sets
//! `RUBRIC_REQUIRE_BROWSER=1`, under which a missing browser fails the test.
//! `RUBRIC_SKIP_BROWSER_TESTS=1` skips them even when Chromium is there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rubric::measure::html::html;
use rubric::measure::report::{
    ByReport, ByRow, GroupRow, Map, MeasureReport, Metrics, OutcomeCounts, Real, ScoreBin, ScoreReport,
    Threshold,
};
use serde_json::Value;

use crate::common::{rubric, AS_OF};

// ---------------------------------------------------------------------------
// A small fixed report, built by hand.

/// The metrics of `converted` of `contacts` in a cohort of 10 with 3
/// converted (Wilson interval as SPEC §8 defines it).
fn metrics(contacts: u64, converted: u64) -> Metrics {
    let ratio = |a: f64, b: f64| (b != 0.0).then(|| Real(a / b));
    let (n, c) = (contacts as f64, converted as f64);
    let z = 1.959963984540054_f64;
    let (low, high) = if contacts == 0 {
        (None, None)
    } else {
        let p = c / n;
        let denominator = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / denominator;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
        (Some(Real(centre - half)), Some(Real(centre + half)))
    };
    let rate = ratio(c, n);
    Metrics {
        contacts,
        converted,
        rate,
        rate_low: low,
        rate_high: high,
        lift: rate.map(|r| Real(r.0 / 0.3)),
        captured: ratio(c, 3.0),
        amount: Real(0.0),
    }
}

/// Ten contacts, three converted; one band whose middle value is `<warm>`
/// and whose last value has no contacts; one score in four bins; `--by
/// source` with a `null` group.
fn fixed_report() -> MeasureReport {
    let band_values = [("hot", 3, 2), ("<warm>", 7, 1), ("cold", 0, 0)];
    let bins = [(0, 2, 0), (25, 3, 0), (50, 3, 1), (75, 2, 2)];
    let mut above = (10, 3);
    let thresholds = bins
        .iter()
        .map(|&(at, contacts, converted)| {
            let t = Threshold {
                at: Real(at as f64),
                contacts: above.0,
                converted: above.1,
                precision: (above.0 > 0).then(|| Real(above.1 as f64 / above.0 as f64)),
                recall: Some(Real(above.1 as f64 / 3.0)),
            };
            above = (above.0 - contacts, above.1 - converted);
            t
        })
        .collect();
    let by_rows = [
        ("hot", Some("ads & co"), 2, 2),
        ("hot", None, 1, 0),
        ("<warm>", Some("ads & co"), 0, 0),
        ("<warm>", None, 7, 1),
        ("cold", Some("ads & co"), 0, 0),
        ("cold", None, 0, 0),
    ];
    MeasureReport {
        goal: String::from("meeting"),
        as_of: String::from(AS_OF),
        horizon_days: Real(30.0),
        contacts: 10,
        converted: 3,
        rate: Some(Real(0.3)),
        amount: Real(0.0),
        outcomes: OutcomeCounts {
            read: 5,
            rejected: 0,
            unmatched: 1,
            counted: 3,
        },
        bands: Map(vec![(
            String::from("readiness"),
            band_values
                .iter()
                .map(|&(value, contacts, converted)| GroupRow {
                    value: value.to_owned(),
                    metrics: metrics(contacts, converted),
                })
                .collect(),
        )]),
        scores: Map(vec![(
            String::from("fit"),
            ScoreReport {
                auc: Some(Real(0.875)),
                bins: bins
                    .iter()
                    .map(|&(from, contacts, converted)| ScoreBin {
                        from: Real(from as f64),
                        to: Real(from as f64 + 25.0),
                        contacts,
                        converted,
                        rate: Some(Real(converted as f64 / contacts as f64)),
                    })
                    .collect(),
                thresholds,
            },
        )]),
        by: Some(ByReport {
            property: String::from("source"),
            rows: by_rows
                .iter()
                .map(|&(value, group, contacts, converted)| ByRow {
                    band: String::from("readiness"),
                    value: value.to_owned(),
                    group: group.map(str::to_owned),
                    metrics: metrics(contacts, converted),
                })
                .collect(),
        }),
    }
}

#[test]
fn golden_page_of_a_small_report() {
    insta::assert_snapshot!("measure_html_fixed_report", html(&fixed_report()));
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    assert_eq!(html(&fixed_report()), html(&fixed_report()));
}

#[test]
fn band_values_and_groups_are_escaped() {
    let page = html(&fixed_report());
    assert!(page.contains("&lt;warm&gt;"));
    assert!(!page.contains("<warm>"));
    assert!(page.contains("ads &amp; co"));
    assert!(!page.contains("ads & co"));
}

#[test]
fn an_empty_cohort_draws_empty_charts_without_broken_numbers() {
    let mut report = fixed_report();
    report.contacts = 0;
    report.converted = 0;
    report.rate = None;
    for (_, rows) in &mut report.bands.0 {
        for row in rows {
            row.metrics = metrics(0, 0);
            row.metrics.lift = None;
        }
    }
    for (_, score) in &mut report.scores.0 {
        score.auc = None;
        for bin in &mut score.bins {
            (bin.contacts, bin.converted, bin.rate) = (0, 0, None);
        }
        for threshold in &mut score.thresholds {
            (threshold.contacts, threshold.converted) = (0, 0);
            (threshold.precision, threshold.recall) = (None, None);
        }
    }
    if let Some(by) = &mut report.by {
        for row in &mut by.rows {
            row.metrics = metrics(0, 0);
        }
    }
    let page = html(&report);
    for broken in ["NaN", "inf", "=\"-"] {
        assert!(!page.contains(broken), "the page contains `{broken}`");
    }
    assert!(page.contains("no curve: needs converted and non-converted contacts"));
    assert_eq!(page.matches("<rect class=\"cell empty\"").count(), 6);
    assert_eq!(page.matches("<circle class=\"point").count(), 0);
}

// ---------------------------------------------------------------------------
// The real command on a fixture.

/// The fixture run with extra arguments (`--as-of` repeated, `--base`).
fn measure_with(extra: &[&str]) -> String {
    let mut args = vec![
        "measure",
        "--rules",
        "rules",
        "--contacts",
        "tests/measure/html-contacts.jsonl",
        "--outcomes",
        "tests/measure/html-outcomes.jsonl",
        "--goal",
        "meeting",
        "--by",
        "source",
        "--quiet",
        "--format",
        "html",
    ];
    args.extend_from_slice(extra);
    let output = rubric().args(&args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Every `id="…"` of a page, which must all differ.
fn assert_unique_ids(page: &str) {
    let mut ids: Vec<&str> = page
        .split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "some ids repeat");
}

#[test]
fn a_series_page_has_the_stability_chart_and_every_as_of() {
    let page = measure_with(&["--as-of", "2026-11-21T00:00:00Z", "--as-of", AS_OF]);
    assert_unique_ids(&page);
    assert!(page.contains("<svg id=\"chart-stability-auc\""));
    // Two scores, two as-of instants: a line and two points each.
    let stability = chart(&page, "chart-stability-auc");
    assert_eq!(marks(stability, "polyline", "auc-line"), 2);
    assert_eq!(marks(stability, "circle", "point"), 4);
    for n in [1, 2] {
        for chart in [
            "band-readiness",
            "lift-fit_tier",
            "bins-fit",
            "roc-intent",
            "sweep-intent",
        ] {
            assert!(
                page.contains(&format!("<svg id=\"as-of-{n}-chart-{chart}\"")),
                "as-of {n}: {chart}"
            );
        }
    }
    assert!(page.contains("As of 2026-11-21T00:00:00Z"));
}

#[test]
fn a_comparison_page_has_the_changes_and_both_reports() {
    let page = measure_with(&["--as-of", AS_OF, "--base", "rules"]);
    assert_unique_ids(&page);
    assert!(page.contains("What the change does"));
    for side in ["new", "base"] {
        for chart in [
            "band-readiness",
            "lift-readiness",
            "bins-fit",
            "roc-fit",
            "sweep-intent",
        ] {
            assert!(
                page.contains(&format!("<svg id=\"{side}-chart-{chart}\"")),
                "{side}: {chart}"
            );
        }
    }
}

#[test]
fn live_measurement_refuses_html_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let output = rubric()
        .args([
            "measure",
            "--rules",
            "rules",
            "--outcomes",
            "tests/measure/html-outcomes.jsonl",
        ])
        .args(["--goal", "meeting", "--format", "html", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`--format html` draws a backtest"));
    assert!(!state.exists(), "the state file was created");
}

#[test]
fn the_ids_of_a_single_report_differ() {
    assert_unique_ids(&measure("html"));
    assert_unique_ids(&html(&fixed_report()));
}

/// The fixture run: the playbook on `tests/measure/html-contacts.jsonl` (one
/// contact's source is `<b>social</b> & co`) with `tests/measure/html-outcomes.jsonl`.
fn measure(format: &str) -> String {
    let output = rubric()
        .args([
            "measure",
            "--rules",
            "rules",
            "--contacts",
            "tests/measure/html-contacts.jsonl",
            "--outcomes",
            "tests/measure/html-outcomes.jsonl",
            "--goal",
            "meeting",
            "--as-of",
            AS_OF,
            "--by",
            "source",
            "--quiet",
            "--format",
            format,
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_page_reaches_nothing_outside_itself() {
    let page = measure("html");
    let lower = page.to_lowercase();
    for forbidden in [
        "<script", "<link", "<iframe", "<object", "<embed", "<img", "@import", "url(",
    ] {
        assert!(!lower.contains(forbidden), "the page contains `{forbidden}`");
    }
    assert!(page.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
    ));
    // No URL anywhere, apart from an SVG namespace (none is written today).
    let without_namespaces = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_namespaces.contains("http://"));
    assert!(!without_namespaces.contains("https://"));
    // The source `<b>social</b> & co` is shown as text, not markup.
    assert!(page.contains("&lt;b&gt;social&lt;/b&gt; &amp; co"));
    assert!(!page.contains("<b>social"));
    assert_eq!(page, measure("html"), "the page is not deterministic");
}

// ---------------------------------------------------------------------------
// The browser.

/// Chromium on `PATH`, `None` when the browser tests are skipped: asked to
/// (`RUBRIC_SKIP_BROWSER_TESTS=1`), or Chromium is not installed and not
/// required. Fails when it is missing under `RUBRIC_REQUIRE_BROWSER=1`
/// (`.ci/run`).
fn chromium() -> Option<PathBuf> {
    if std::env::var("RUBRIC_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("skipped: RUBRIC_SKIP_BROWSER_TESTS=1 (the HTML report is not rendered in a browser)");
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var("RUBRIC_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "the browser test needs Chromium: install it (`apt-get install -y chromium` on Debian, as .ci/run does)"
        );
        eprintln!(
            "skipped: Chromium is not installed, so the HTML report is not rendered in a browser \
             (install it with `apt-get install -y chromium`; .ci/run does and requires it)"
        );
    }
    found
}

/// Runs headless Chromium on `page` with `extra` flags in a fresh profile and
/// returns its stdout; fails after two minutes. Its output goes to files in
/// the profile directory, not pipes, so a large DOM cannot fill a pipe and
/// stall it while this waits.
fn run_chromium(browser: &Path, profile: &Path, page: &Path, extra: &[String]) -> String {
    std::fs::create_dir_all(profile).unwrap();
    let (stdout_path, stderr_path) = (profile.join("stdout"), profile.join("stderr"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium failed: {}",
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    std::fs::read_to_string(&stdout_path).unwrap()
}

/// The markup of `<svg id="ID" …>…</svg>` in a dumped DOM.
fn chart<'d>(dom: &'d str, id: &str) -> &'d str {
    let start = dom
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart `{id}` in the rendered page"));
    let end = start + dom[start..].find("</svg>").unwrap();
    &dom[start..end]
}

/// How many marks of `tag` whose class starts with `class` a chart has.
fn marks(chart: &str, tag: &str, class: &str) -> usize {
    chart.matches(&format!("<{tag} class=\"{class}")).count()
}

fn non_null(rows: &Value, key: &str) -> usize {
    rows.as_array()
        .unwrap()
        .iter()
        .filter(|row| !row[key].is_null())
        .count()
}

/// Requests the page made, from a Chromium net log: the browser's own
/// requests have no origin as initiator; a `file://` page's have `null`.
fn page_requests(net_log: &str) -> Vec<String> {
    let log: Value = serde_json::from_str(net_log)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", net_log.trim_end().trim_end_matches(','))))
        .unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["type"] == start_job)
        .filter(|event| {
            let initiator = &event["params"]["initiator"];
            initiator.is_string() && initiator != "not an origin"
        })
        .map(|event| event["params"]["url"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn chromium_renders_every_chart_with_its_marks_and_fetches_nothing() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, measure("html")).unwrap();
    let report: Value = serde_json::from_str(&measure("json")).unwrap();

    let dom = run_chromium(
        &browser,
        &dir.path().join("profile-1"),
        &page,
        &[String::from("--dump-dom")],
    );
    for (band, rows) in report["bands"].as_object().unwrap() {
        let with_contacts = non_null(rows, "rate");
        let svg = chart(&dom, &format!("chart-band-{band}"));
        assert_eq!(marks(svg, "rect", "bar"), with_contacts, "bars of band {band}");
        assert_eq!(
            marks(svg, "line", "interval"),
            3 * with_contacts,
            "intervals of band {band}"
        );
        assert_eq!(marks(svg, "line", "baseline"), 1);

        let by_rows: Vec<&Value> = report["by"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["band"] == band.as_str())
            .collect();
        let empty = by_rows.iter().filter(|row| row["contacts"] == 0).count();
        let heatmap = chart(&dom, &format!("chart-lift-{band}"));
        assert_eq!(
            marks(heatmap, "rect", "cell"),
            by_rows.len(),
            "cells of band {band}"
        );
        assert_eq!(
            marks(heatmap, "rect", "cell empty"),
            empty,
            "empty cells of band {band}"
        );
    }
    for (score, s) in report["scores"].as_object().unwrap() {
        let bins = chart(&dom, &format!("chart-bins-{score}"));
        assert_eq!(marks(bins, "rect", "bar"), s["bins"].as_array().unwrap().len());
        assert_eq!(marks(bins, "circle", "point"), non_null(&s["bins"], "rate"));

        let roc = chart(&dom, &format!("chart-roc-{score}"));
        let auc = format!("AUC {:.3}", s["auc"].as_f64().unwrap());
        assert!(roc.contains(&auc), "the ROC chart of {score} shows no `{auc}`");
        assert_eq!(marks(roc, "polyline", "roc-line"), 1);
        assert_eq!(
            marks(roc, "circle", "point"),
            s["thresholds"].as_array().unwrap().len()
        );

        let sweep = chart(&dom, &format!("chart-sweep-{score}"));
        assert_eq!(
            marks(sweep, "rect", "bar"),
            s["thresholds"].as_array().unwrap().len()
        );
        assert_eq!(
            marks(sweep, "circle", "point"),
            non_null(&s["thresholds"], "recall")
        );
        assert_eq!(marks(sweep, "polyline", "recall-line"), 1);
    }

    // With every host unresolvable the page renders the same, and the net
    // log shows no request made by the page.
    let net_log = dir.path().join("net-log.json");
    let offline = [
        String::from("--host-resolver-rules=MAP * ~NOTFOUND"),
        format!("--log-net-log={}", net_log.display()),
        String::from("--dump-dom"),
    ];
    let offline_dom = run_chromium(&browser, &dir.path().join("profile-2"), &page, &offline);
    assert_eq!(dom, offline_dom, "the page renders differently without a network");
    let requests = page_requests(&std::fs::read_to_string(&net_log).unwrap());
    assert!(requests.is_empty(), "the page made requests: {requests:?}");

    // The same check catches a page that does fetch something.
    let fetching = dir.path().join("fetching.html");
    std::fs::write(
        &fetching,
        "<!DOCTYPE html><html><body><img src=\"https://example.com/x.png\"></body></html>",
    )
    .unwrap();
    run_chromium(&browser, &dir.path().join("profile-3"), &fetching, &offline);
    let requests = page_requests(&std::fs::read_to_string(&net_log).unwrap());
    assert_eq!(requests, ["https://example.com/x.png"]);

    // A series page renders its stability chart and every as-of's charts.
    let series = dir.path().join("series.html");
    std::fs::write(
        &series,
        measure_with(&["--as-of", "2026-11-21T00:00:00Z", "--as-of", AS_OF]),
    )
    .unwrap();
    let series_dom = run_chromium(
        &browser,
        &dir.path().join("profile-5"),
        &series,
        &[String::from("--dump-dom")],
    );
    let stability = chart(&series_dom, "chart-stability-auc");
    assert_eq!(marks(stability, "circle", "point"), 4);
    for n in [1, 2] {
        let bars = chart(&series_dom, &format!("as-of-{n}-chart-sweep-fit"));
        assert_eq!(marks(bars, "rect", "bar"), 10);
    }

    // And it draws: a screenshot is a real PNG of some size.
    let screenshot = dir.path().join("report.png");
    run_chromium(
        &browser,
        &dir.path().join("profile-4"),
        &page,
        &[
            String::from("--host-resolver-rules=MAP * ~NOTFOUND"),
            String::from("--window-size=1100,2000"),
            format!("--screenshot={}", screenshot.display()),
        ],
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
    assert!(
        png.len() > 20_000,
        "the screenshot is nearly empty ({} bytes)",
        png.len()
    );
}
