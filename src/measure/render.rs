//! The measure report for people: aligned text tables (`--format text`) and
//! a Markdown pull-request comment (`--format markdown`). Both show the
//! figures of the JSON report, rounded for reading: rates and shares as
//! percentages with one decimal, lifts with two, AUCs with three.

use super::report::{GroupRow, MeasureReport, Metrics, Real, ScoreReport};
use crate::output::{aligned_table, aligned_table_with_left, markdown_escape, markdown_table};

/// `12.3 %`, or `–` for no value.
fn percent(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.1} %", x.0 * 100.0))
}

/// `[9.5 %, 14.1 %]`.
fn interval(m: &Metrics) -> String {
    match (m.rate_low, m.rate_high) {
        (Some(low), Some(high)) => format!("[{:.1} %, {:.1} %]", low.0 * 100.0, high.0 * 100.0),
        _ => String::from("–"),
    }
}

/// `2.45×`.
fn lift(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.2}×", x.0))
}

fn auc(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.3}", x.0))
}

/// A whole number as is, otherwise two decimals.
fn number(x: Real) -> String {
    if x.0.fract() == 0.0 && x.0.abs() < 9e15 {
        format!("{}", x.0 as i64)
    } else {
        format!("{:.2}", x.0)
    }
}

fn has_amounts(r: &MeasureReport) -> bool {
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

fn metric_cells(m: &Metrics, amounts: bool) -> Vec<String> {
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

fn metric_header(first: &[&str], amounts: bool) -> Vec<String> {
    let count = if amounts { 7 } else { 6 };
    first
        .iter()
        .chain(METRIC_HEADER.iter().take(count))
        .map(|s| (*s).to_owned())
        .collect()
}

fn band_rows(rows: &[GroupRow], amounts: bool) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            let mut cells = vec![row.value.clone()];
            cells.extend(metric_cells(&row.metrics, amounts));
            cells
        })
        .collect()
}

fn bin_rows(s: &ScoreReport) -> Vec<Vec<String>> {
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

fn threshold_rows(s: &ScoreReport) -> Vec<Vec<String>> {
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

fn group_name(group: Option<&str>) -> String {
    group.map_or_else(|| String::from("(none)"), str::to_owned)
}

fn headline(r: &MeasureReport) -> String {
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

fn outcomes_line(r: &MeasureReport) -> String {
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
        for row in &by.rows {
            let mut cells = vec![
                row.band.clone(),
                row.value.clone(),
                group_name(row.group.as_deref()),
            ];
            cells.extend(metric_cells(&row.metrics, amounts));
            table.push(cells);
        }
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
        let rows: Vec<Vec<String>> = by
            .rows
            .iter()
            .map(|row| {
                let mut cells = vec![
                    row.band.clone(),
                    row.value.clone(),
                    group_name(row.group.as_deref()),
                ];
                cells.extend(metric_cells(&row.metrics, amounts));
                escape_row(cells)
            })
            .collect();
        out.push_str(&markdown_table(
            &metric_header(&["band", "value", by.property.as_str()], amounts),
            &right(3),
            &rows,
        ));
    }
    out
}
