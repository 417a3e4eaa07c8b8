//! The measure report for people: aligned text tables (`--format text`) and
//! a Markdown pull-request comment (`--format markdown`). Both show the
//! figures of the JSON report, rounded for reading: rates and shares as
//! percentages with one decimal, lifts with two, AUCs with three.

use super::report::{
    ByReport, ComparisonReport, GroupRow, MeasureReport, Metrics, Real, ScoreReport, SeriesReport,
};
use crate::output::{aligned_table, aligned_table_with_left, markdown_escape, markdown_table};

/// `12.3 %`, or `–` for no value.
pub(super) fn percent(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.1} %", x.0 * 100.0))
}

/// `[9.5 %, 14.1 %]`.
pub(super) fn interval(m: &Metrics) -> String {
    match (m.rate_low, m.rate_high) {
        (Some(low), Some(high)) => format!("[{:.1} %, {:.1} %]", low.0 * 100.0, high.0 * 100.0),
        _ => String::from("–"),
    }
}

/// `2.45×`.
pub(super) fn lift(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.2}×", x.0))
}

pub(super) fn auc(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.3}", x.0))
}

pub(super) fn number(x: Real) -> String {
    super::render_number(x)
}

pub(super) fn has_amounts(r: &MeasureReport) -> bool {
    r.amount.0 != 0.0
}

const METRIC_HEADER: [&str; 7] = [
    "contacts",
    "converted",
    "rate",
    "95 % interval",
    "lift",
    "captured",
    "amount",
];

pub(super) fn metric_cells(m: &Metrics, amounts: bool) -> Vec<String> {
    let mut cells = vec![
        m.contacts.to_string(),
        m.converted.to_string(),
        percent(m.rate),
        interval(m),
        lift(m.lift),
        percent(m.captured),
    ];
    if amounts {
        cells.push(number(m.amount));
    }
    cells
}

pub(super) fn metric_header(first: &[&str], amounts: bool) -> Vec<String> {
    let count = if amounts { 7 } else { 6 };
    first
        .iter()
        .chain(METRIC_HEADER.iter().take(count))
        .map(|s| (*s).to_owned())
        .collect()
}

pub(super) fn band_rows(rows: &[GroupRow], amounts: bool) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            let mut cells = vec![row.value.clone()];
            cells.extend(metric_cells(&row.metrics, amounts));
            cells
        })
        .collect()
}

pub(super) fn bin_rows(s: &ScoreReport) -> Vec<Vec<String>> {
    s.bins
        .iter()
        .map(|b| {
            vec![
                format!("{}–{}", number(b.from), number(b.to)),
                b.contacts.to_string(),
                b.converted.to_string(),
                percent(b.rate),
            ]
        })
        .collect()
}

pub(super) fn threshold_rows(s: &ScoreReport) -> Vec<Vec<String>> {
    s.thresholds
        .iter()
        .map(|t| {
            vec![
                format!("≥ {}", number(t.at)),
                t.contacts.to_string(),
                t.converted.to_string(),
                percent(t.precision),
                percent(t.recall),
            ]
        })
        .collect()
}

/// The `--by` rows: band, value, group, then the metrics.
pub(super) fn by_rows(by: &ByReport, amounts: bool) -> Vec<Vec<String>> {
    by.rows
        .iter()
        .map(|row| {
            let mut cells = vec![
                row.band.clone(),
                row.value.clone(),
                group_name(row.group.as_deref()),
            ];
            cells.extend(metric_cells(&row.metrics, amounts));
            cells
        })
        .collect()
}

pub(super) fn group_name(group: Option<&str>) -> String {
    group.map_or_else(|| String::from("(none)"), str::to_owned)
}

pub(super) fn headline(r: &MeasureReport) -> String {
    format!(
        "goal {} as of {}: {} of {} contacts converted within {} days ({})",
        r.goal,
        r.as_of,
        r.converted,
        r.contacts,
        number(r.horizon_days),
        percent(r.rate)
    )
}

pub(super) fn outcomes_line(r: &MeasureReport) -> String {
    let o = &r.outcomes;
    let mut line = format!(
        "outcomes: {} read, {} rejected, {} unmatched, {} counted",
        o.read, o.rejected, o.unmatched, o.counted
    );
    if has_amounts(r) {
        line.push_str(&format!("; amount {}", number(r.amount)));
    }
    line
}

/// The report as aligned text tables.
pub fn text(r: &MeasureReport) -> String {
    let amounts = has_amounts(r);
    let mut out = format!("{}\n{}\n", headline(r), outcomes_line(r));
    for (band, rows) in &r.bands.0 {
        out.push_str(&format!("\nband {band}\n"));
        let mut table = vec![metric_header(&["value"], amounts)];
        table.extend(band_rows(rows, amounts));
        out.push_str(&aligned_table(&table, "  "));
    }
    for (score, s) in &r.scores.0 {
        out.push_str(&format!("\nscore {score}: AUC {}\n", auc(s.auc)));
        let mut bins = vec![["bin", "contacts", "converted", "rate"]
            .map(String::from)
            .to_vec()];
        bins.extend(bin_rows(s));
        out.push_str(&aligned_table(&bins, "  "));
        out.push('\n');
        let mut thresholds = vec![["cut-off", "contacts", "converted", "precision", "recall"]
            .map(String::from)
            .to_vec()];
        thresholds.extend(threshold_rows(s));
        out.push_str(&aligned_table(&thresholds, "  "));
    }
    if let Some(by) = &r.by {
        out.push_str(&format!("\nby {}\n", by.property));
        let mut table = vec![metric_header(&["band", "value", by.property.as_str()], amounts)];
        table.extend(by_rows(by, amounts));
        out.push_str(&aligned_table_with_left(&table, "  ", 3));
    }
    out
}

/// The report as a pull-request comment.
pub fn markdown(r: &MeasureReport) -> String {
    let amounts = has_amounts(r);
    let columns = if amounts { 7 } else { 6 };
    let right = |first: usize| {
        std::iter::repeat_n(false, first)
            .chain(std::iter::repeat_n(true, columns))
            .collect::<Vec<_>>()
    };
    let escape_row = |row: Vec<String>| row.iter().map(|c| markdown_escape(c)).collect::<Vec<_>>();
    let mut out = format!(
        "### rubric measure: goal `{}`\n\n{}\n\n{}\n",
        markdown_escape(&r.goal),
        headline(r),
        outcomes_line(r)
    );
    for (band, rows) in &r.bands.0 {
        out.push_str(&format!("\n**band `{}`**\n\n", markdown_escape(band)));
        let rows: Vec<Vec<String>> = band_rows(rows, amounts).into_iter().map(escape_row).collect();
        out.push_str(&markdown_table(
            &metric_header(&["value"], amounts),
            &right(1),
            &rows,
        ));
    }
    for (score, s) in &r.scores.0 {
        out.push_str(&format!(
            "\n**score `{}`**: AUC {}\n\n",
            markdown_escape(score),
            auc(s.auc)
        ));
        let header = ["cut-off", "contacts", "converted", "precision", "recall"].map(String::from);
        out.push_str(&markdown_table(
            &header,
            &[false, true, true, true, true],
            &threshold_rows(s),
        ));
    }
    if let Some(by) = &r.by {
        out.push_str(&format!("\n**by `{}`**\n\n", markdown_escape(&by.property)));
        let rows: Vec<Vec<String>> = by_rows(by, amounts).into_iter().map(escape_row).collect();
        out.push_str(&markdown_table(
            &metric_header(&["band", "value", by.property.as_str()], amounts),
            &right(3),
            &rows,
        ));
    }
    out
}

/// The stability table of a series: one row per as-of.
pub(super) fn stability_rows(s: &SeriesReport) -> Vec<Vec<String>> {
    let mut header = vec![
        String::from("as of"),
        String::from("snapshot"),
        String::from("contacts"),
        String::from("converted"),
        String::from("rate"),
    ];
    if let Some(first) = s.stability.first() {
        header.extend(first.auc.0.iter().map(|(name, _)| format!("AUC {name}")));
        header.extend(
            first
                .top_lift
                .0
                .iter()
                .map(|(name, _)| format!("top lift {name}")),
        );
    }
    let mut rows = vec![header];
    for row in &s.stability {
        let mut cells = vec![
            row.as_of.clone(),
            row.contacts_file.clone(),
            row.contacts.to_string(),
            row.converted.to_string(),
            percent(row.rate),
        ];
        cells.extend(row.auc.0.iter().map(|(_, a)| auc(*a)));
        cells.extend(row.top_lift.0.iter().map(|(_, l)| lift(*l)));
        rows.push(cells);
    }
    rows
}

/// A series as text: the stability table, then each as-of's report.
pub fn series_text(s: &SeriesReport) -> String {
    let mut out = format!(
        "goal {} at {} as-of instants (horizon {} days)\n\nstability\n",
        s.goal,
        s.reports.len(),
        number(s.horizon_days)
    );
    out.push_str(&aligned_table_with_left(&stability_rows(s), "  ", 2));
    for report in &s.reports {
        out.push_str("\n────────\n\n");
        out.push_str(&text(report));
    }
    out
}

/// A series as Markdown: the stability table, then each report.
pub fn series_markdown(s: &SeriesReport) -> String {
    let rows = stability_rows(s);
    let header = rows.first().cloned().unwrap_or_default();
    let right: Vec<bool> = (0..header.len()).map(|i| i >= 2).collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .skip(1)
        .map(|r| r.iter().map(|c| markdown_escape(c)).collect())
        .collect();
    let mut out = format!(
        "### rubric measure: goal `{}` at {} as-of instants\n\n",
        markdown_escape(&s.goal),
        s.reports.len()
    );
    out.push_str(&markdown_table(&header, &right, &body));
    for report in &s.reports {
        out.push_str(&format!(
            "\n<details><summary>as of {}</summary>\n\n",
            report.as_of
        ));
        out.push_str(&markdown(report));
        out.push_str("\n</details>\n");
    }
    out
}

/// `base → new (±change)` for counts.
fn count_change(base: Option<u64>, new: Option<u64>) -> String {
    match (base, new) {
        (Some(b), Some(n)) => {
            let change = n as i128 - b as i128;
            if change == 0 {
                format!("{n} (=)")
            } else {
                format!("{b} → {n} ({change:+})")
            }
        }
        (None, Some(n)) => format!("new: {n}"),
        (Some(b), None) => format!("{b} → gone"),
        (None, None) => String::from("–"),
    }
}

/// `base → new (±change)` for a figure shown by `show`, the change in
/// `unit`s of `scale`.
fn figure_change(
    base: Option<Real>,
    new: Option<Real>,
    show: fn(Option<Real>) -> String,
    scale: f64,
    unit: &str,
) -> String {
    match (base, new) {
        (Some(b), Some(n)) => {
            let change = (n.0 - b.0) * scale;
            if change.abs() < 0.0005 {
                format!("{} (=)", show(Some(n)))
            } else {
                format!("{} → {} ({change:+.1}{unit})", show(Some(b)), show(Some(n)))
            }
        }
        _ => format!("{} → {}", show(base), show(new)),
    }
}

/// `0.712 → 0.731 (+0.019)`.
fn auc_change(base: Option<Real>, new: Option<Real>) -> String {
    match (base, new) {
        (Some(b), Some(n)) if (n.0 - b.0).abs() < 0.0005 => format!("{} (=)", auc(Some(n))),
        (Some(b), Some(n)) => format!("{} → {} ({:+.3})", auc(Some(b)), auc(Some(n)), n.0 - b.0),
        _ => format!("{} → {}", auc(base), auc(new)),
    }
}

/// The comparison's tables: scores, then one per band (values of the new
/// rules in order, then values only the base has).
pub(super) fn comparison_tables(c: &ComparisonReport) -> Vec<(String, Vec<Vec<String>>)> {
    let mut tables = Vec::new();
    let mut names: Vec<&String> = c.new.scores.0.iter().map(|(n, _)| n).collect();
    names.extend(
        c.base
            .scores
            .0
            .iter()
            .map(|(n, _)| n)
            .filter(|n| !c.new.scores.0.iter().any(|(m, _)| m == *n)),
    );
    let score_of = |r: &MeasureReport, name: &str| {
        r.scores
            .0
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, s)| s.auc)
    };
    let mut rows = vec![vec![String::from("score"), String::from("AUC")]];
    for name in names {
        rows.push(vec![
            name.clone(),
            auc_change(score_of(&c.base, name), score_of(&c.new, name)),
        ]);
    }
    tables.push((String::from("scores"), rows));
    let mut bands: Vec<&String> = c.new.bands.0.iter().map(|(n, _)| n).collect();
    bands.extend(
        c.base
            .bands
            .0
            .iter()
            .map(|(n, _)| n)
            .filter(|n| !c.new.bands.0.iter().any(|(m, _)| m == *n)),
    );
    for band in bands {
        let rows_of = |r: &MeasureReport| {
            r.bands
                .0
                .iter()
                .find(|(n, _)| n == band)
                .map(|(_, rows)| rows.clone())
                .unwrap_or_default()
        };
        let (base_rows, new_rows) = (rows_of(&c.base), rows_of(&c.new));
        let mut values: Vec<&String> = new_rows.iter().map(|r| &r.value).collect();
        values.extend(
            base_rows
                .iter()
                .map(|r| &r.value)
                .filter(|v| !new_rows.iter().any(|r| &r.value == *v)),
        );
        let mut rows = vec![["value", "contacts", "rate", "lift", "captured"]
            .map(String::from)
            .to_vec()];
        for value in values {
            let find = |rows: &[GroupRow]| rows.iter().find(|r| &r.value == value).map(|r| r.metrics);
            let (b, n) = (find(&base_rows), find(&new_rows));
            rows.push(vec![
                value.clone(),
                count_change(b.map(|m| m.contacts), n.map(|m| m.contacts)),
                figure_change(
                    b.and_then(|m| m.rate),
                    n.and_then(|m| m.rate),
                    percent,
                    100.0,
                    " pt",
                ),
                figure_change(b.and_then(|m| m.lift), n.and_then(|m| m.lift), lift, 1.0, "×"),
                figure_change(
                    b.and_then(|m| m.captured),
                    n.and_then(|m| m.captured),
                    percent,
                    100.0,
                    " pt",
                ),
            ]);
        }
        tables.push((format!("band {band}"), rows));
    }
    tables
}

pub(super) fn comparison_headline(c: &ComparisonReport) -> String {
    format!(
        "goal {} as of {}: `{}` (base) → `{}`; {} contacts, {} converted ({})",
        c.goal,
        c.as_of,
        c.base_rules,
        c.rules,
        c.new.contacts,
        c.new.converted,
        percent(c.new.rate)
    )
}

/// A rule change measured side by side, as text.
pub fn comparison_text(c: &ComparisonReport) -> String {
    let mut out = format!("{}\n", comparison_headline(c));
    for (title, rows) in comparison_tables(c) {
        out.push_str(&format!("\n{title}\n"));
        out.push_str(&aligned_table(&rows, "  "));
    }
    out
}

/// A rule change measured side by side, as a pull-request comment.
pub fn comparison_markdown(c: &ComparisonReport) -> String {
    let mut out = format!(
        "### rubric measure: goal `{}`, `{}` → `{}`\n\n{}\n",
        markdown_escape(&c.goal),
        markdown_escape(&c.base_rules),
        markdown_escape(&c.rules),
        comparison_headline(c)
    );
    for (title, rows) in comparison_tables(c) {
        out.push_str(&format!("\n**{}**\n\n", markdown_escape(&title)));
        let header = rows.first().cloned().unwrap_or_default();
        let right: Vec<bool> = (0..header.len()).map(|i| i > 0).collect();
        let body: Vec<Vec<String>> = rows
            .iter()
            .skip(1)
            .map(|r| r.iter().map(|c| markdown_escape(c)).collect())
            .collect();
        out.push_str(&markdown_table(&header, &right, &body));
    }
    out
}
