//! The measure report as one self-contained HTML page (`--format html`):
//! inline CSS and inline SVG charts, no script, nothing fetched (a
//! Content-Security-Policy forbids it). The charts: conversion rate by band
//! value with its Wilson interval, a heatmap of lift by band value × `--by`
//! group, each score's bins, ROC curve and threshold sweep; then the same
//! tables as the text format. The same report always gives the same bytes.
//!
//! Every chart is an `<svg id="chart-…">` and every mark has a class
//! (`bar`, `point`, `cell`, …), so a browser test can count them; see
//! docs/measure.md#13-the-html-report for what each chart shows.

use std::fmt::Write as _;

use super::render::{
    auc, band_rows, bin_rows, by_rows, comparison_headline, comparison_tables, group_name, has_amounts,
    headline, interval, lift, metric_header, number, outcomes_line, percent, stability_rows, threshold_rows,
};
use super::report::{
    ByReport, ComparisonReport, GroupRow, MeasureReport, Metrics, Real, ScoreReport, SeriesReport,
};
use super::svg::{escape, nice_ticks, slug, Anchor, Linear, Svg};

/// Forbids every fetch: no scripts, fonts, stylesheets or images from
/// anywhere, only the inline style and `data:` images.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bar: #4c78a8; --accent: #f58518; --base: #d64545; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #f5f7fa; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 12px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 24px 0 8px; }
p.lead, p.note { color: var(--muted); margin: 4px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 140px; }
.card .figure { font-size: 1.5rem; font-weight: 600; }
.card .caption { color: var(--muted); font-size: 0.85rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; }
figure { margin: 0 0 16px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto; }
figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 6px; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg.chart text { fill: var(--ink); }
svg.chart text.tick, svg.chart text.axis-title, svg.chart text.empty-note { fill: var(--muted); }
svg.chart text.value { font-weight: 600; }
svg.chart text.cell-label { font-weight: 600; }
svg.chart text.cell-count { font-size: 9px; fill: var(--muted); }
svg.chart text.on-dark { fill: #fff; }
figure.scroll svg.chart { max-width: none; }
svg.chart .grid-line { stroke: #edf0f3; }
svg.chart .axis { stroke: #9aa5b1; }
svg.chart .bar { fill: var(--bar); }
svg.chart .bar:hover, svg.chart .cell:hover { opacity: 0.8; }
svg.chart .interval { stroke: var(--ink); stroke-width: 1.5; }
svg.chart .baseline { stroke: var(--base); stroke-width: 1.5; stroke-dasharray: 5 4; }
svg.chart .rate-line, svg.chart .recall-line { fill: none; stroke: var(--accent); stroke-width: 2; }
svg.chart .roc-line { fill: none; stroke: var(--bar); stroke-width: 2.5; }
svg.chart .auc-line { fill: none; stroke-width: 2; }
svg.chart .series-0 { stroke: var(--bar); } svg.chart .series-1 { stroke: var(--accent); }
svg.chart .series-2 { stroke: #54a24b; } svg.chart .series-3 { stroke: #b279a2; }
svg.chart circle.series-0 { fill: var(--bar); } svg.chart circle.series-1 { fill: var(--accent); }
svg.chart circle.series-2 { fill: #54a24b; } svg.chart circle.series-3 { fill: #b279a2; }
svg.chart circle.point { stroke: #fff; }
section.report { border-top: 3px solid var(--line); margin-top: 40px; }
h2.report-title { border: none; font-size: 1.4rem; }
svg.chart .chance { stroke: #9aa5b1; stroke-dasharray: 4 4; }
svg.chart .point { fill: var(--accent); stroke: #fff; stroke-width: 1; }
svg.chart .roc-point { fill: var(--bar); }
svg.chart .cell { stroke: #fff; stroke-width: 2; }
svg.chart .cell.empty { fill: #eef1f4; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; vertical-align: baseline; }
.swatch.bar { background: var(--bar); } .swatch.accent { background: var(--accent); } .swatch.base { background: var(--base); }
table { display: block; max-width: 100%; overflow-x: auto; border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
th, td { background: #fff; padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: #f0f4f8; font-weight: 600; }
td.num, th.num { text-align: right; }
details { margin: 8px 0 16px; }
summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85rem; }
"#;

/// The whole page for `report`.
pub fn html(report: &MeasureReport) -> String {
    let mut page = page_start(&format!(
        "rubric measure: goal {} as of {}",
        report.goal, report.as_of
    ));
    let _ = writeln!(page, "<h1>Goal <code>{}</code></h1>", escape(&report.goal));
    report_sections(&mut page, report, "");
    page_end(page)
}

/// The page of a series (`--as-of` repeated, or `--from … --every …`): the
/// stability table and chart, then each as-of's report, its ids prefixed
/// with `as-of-N-`.
pub fn series_html(series: &SeriesReport) -> String {
    let mut page = page_start(&format!(
        "rubric measure: goal {} at {} as-of instants",
        series.goal,
        series.reports.len()
    ));
    let _ = writeln!(
        page,
        "<h1>Goal <code>{}</code> at {} as-of instants</h1>\n<p class=\"lead\">Horizon {} days. Each as-of is a backtest of its own; a score whose AUC or a band whose top lift moves a lot from one to the next is not stable yet.</p>",
        escape(&series.goal),
        series.reports.len(),
        escape(&number(series.horizon_days))
    );
    page.push_str("<h2 id=\"stability\">Stability</h2>\n<figure>\n");
    page.push_str(&stability_chart(series));
    page.push_str(
        "<figcaption>Each line is a score's AUC at each as-of; 0.5 is chance.</figcaption>\n</figure>\n",
    );
    let rows = stability_rows(series);
    if let Some((header, rows)) = rows.split_first() {
        table(&mut page, header, rows, 2);
    }
    for (index, report) in series.reports.iter().enumerate() {
        let prefix = format!("as-of-{}-", index + 1);
        let _ = writeln!(
            page,
            "<section class=\"report\" id=\"{prefix}report\">\n<h2 class=\"report-title\">As of {}</h2>",
            escape(&report.as_of)
        );
        report_sections(&mut page, report, &prefix);
        page.push_str("</section>\n");
    }
    page_end(page)
}

/// The page of `--base`: the tables of changes, then the new rules' report
/// (ids prefixed `new-`) and the base rules' (`base-`).
pub fn comparison_html(comparison: &ComparisonReport) -> String {
    let mut page = page_start(&format!(
        "rubric measure: goal {} as of {}, {} against {}",
        comparison.goal, comparison.as_of, comparison.rules, comparison.base_rules
    ));
    let _ = writeln!(
        page,
        "<h1>Goal <code>{}</code>: a rule change judged by outcomes</h1>\n<p class=\"lead\">{}</p>",
        escape(&comparison.goal),
        escape(&comparison_headline(comparison))
    );
    page.push_str("<h2 id=\"changes\">What the change does</h2>\n<p class=\"note\">Each cell is base → new (change).</p>\n");
    for (title, rows) in comparison_tables(comparison) {
        let _ = writeln!(page, "<h3>{}</h3>", escape(&title));
        if let Some((header, rows)) = rows.split_first() {
            table(&mut page, header, rows, 1);
        }
    }
    for (prefix, title, rules, report) in [
        ("new-", "New rules", &comparison.rules, &comparison.new),
        ("base-", "Base rules", &comparison.base_rules, &comparison.base),
    ] {
        let _ = writeln!(
            page,
            "<section class=\"report\" id=\"{prefix}report\">\n<h2 class=\"report-title\">{title}: <code>{}</code></h2>",
            escape(rules)
        );
        report_sections(&mut page, report, prefix);
        page.push_str("</section>\n");
    }
    page_end(page)
}

/// The head of every page and the opening of its body.
fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(title)
    )
}

fn page_end(mut page: String) -> String {
    page.push_str(
        "<footer>Made by <code>rubric measure --format html</code>. The figures are those of \
         <code>--format json</code>, rounded for reading; hover a mark for its exact counts.</footer>\n\
         </main>\n</body>\n</html>\n",
    );
    page
}

/// One report's sections; `prefix` starts every id, so that several
/// reports fit on one page.
fn report_sections(page: &mut String, report: &MeasureReport, prefix: &str) {
    summary_section(page, report);
    bands_section(page, report, prefix);
    if let Some(by) = &report.by {
        by_section(page, report, by, prefix);
    }
    scores_section(page, report, prefix);
}

// ---------------------------------------------------------------------------
// Sections.

fn summary_section(page: &mut String, r: &MeasureReport) {
    let _ = writeln!(
        page,
        "<p class=\"lead\">{}</p>\n<p class=\"lead\">{}</p>",
        escape(&headline(r)),
        escape(&outcomes_line(r))
    );
    page.push_str("<div class=\"cards\">\n");
    let mut card = |figure: String, caption: &str| {
        let _ = writeln!(
            page,
            "<div class=\"card\"><div class=\"figure\">{}</div><div class=\"caption\">{}</div></div>",
            escape(&figure),
            escape(caption)
        );
    };
    card(r.contacts.to_string(), "contacts in the cohort");
    card(r.converted.to_string(), "converted");
    card(percent(r.rate), "conversion rate");
    card(format!("{} days", number(r.horizon_days)), "horizon");
    if has_amounts(r) {
        card(number(r.amount), "amount");
    }
    card(r.outcomes.counted.to_string(), "outcomes counted");
    page.push_str("</div>\n");
}

fn bands_section(page: &mut String, r: &MeasureReport, prefix: &str) {
    if r.bands.0.is_empty() {
        return;
    }
    let amounts = has_amounts(r);
    let _ = writeln!(page, "<h2 id=\"{prefix}bands\">Conversion by band</h2>");
    page.push_str("<p class=\"note\">Each bar is the share of a band value's contacts that converted; the whisker is its 95 % interval (wide when the group is small); the dashed line is the rate of all contacts.</p>\n");
    for (band, rows) in &r.bands.0 {
        let _ = writeln!(page, "<h3>Band <code>{}</code></h3>", escape(band));
        page.push_str("<figure>\n");
        page.push_str(&band_rate_chart(prefix, band, rows, r.rate));
        page.push_str("<figcaption><span class=\"swatch bar\"></span>conversion rate <span class=\"swatch base\"></span>all contacts</figcaption>\n</figure>\n");
        table(
            page,
            &metric_header(&["value"], amounts),
            &band_rows(rows, amounts),
            1,
        );
    }
}

fn by_section(page: &mut String, r: &MeasureReport, by: &ByReport, prefix: &str) {
    let amounts = has_amounts(r);
    let _ = writeln!(
        page,
        "<h2 id=\"{prefix}by\">Lift by <code>{}</code></h2>\n<p class=\"note\">Each cell is the lift of a band value within one group: its conversion rate over the rate of all contacts (1× is average; blue is better, red worse). Grey cells have no contacts.</p>",
        escape(&by.property)
    );
    for (band, _) in &r.bands.0 {
        let matrix = by_matrix(by, band);
        if matrix.values.is_empty() {
            continue;
        }
        let _ = writeln!(page, "<h3>Band <code>{}</code></h3>", escape(band));
        // A wide heatmap scrolls rather than shrinking its text.
        page.push_str("<figure class=\"scroll\">\n");
        page.push_str(&lift_heatmap(prefix, band, &by.property, &matrix));
        page.push_str("</figure>\n");
    }
    let header = metric_header(&["band", "value", by.property.as_str()], amounts);
    page.push_str("<details>\n<summary>Every row</summary>\n");
    table(page, &header, &by_rows(by, amounts), 3);
    page.push_str("</details>\n");
}

fn scores_section(page: &mut String, r: &MeasureReport, prefix: &str) {
    if r.scores.0.is_empty() {
        return;
    }
    let _ = writeln!(page, "<h2 id=\"{prefix}scores\">Scores</h2>");
    page.push_str("<p class=\"note\">The bins show where contacts sit on each score and how often each bin converted. The ROC curve shows how well the score ranks converters first (AUC 0.5 is chance, 1 is perfect). The threshold sweep shows, for each cut-off, how many contacts are at or above it (the work for sales) and what share of all conversions they hold: pick the cut-off whose contacts your team can work.</p>\n");
    for (score, s) in &r.scores.0 {
        let _ = writeln!(
            page,
            "<h3>Score <code>{}</code>: AUC {}</h3>\n<div class=\"grid\">",
            escape(score),
            escape(&auc(s.auc))
        );
        page.push_str("<figure>\n");
        page.push_str(&bins_chart(prefix, score, s));
        page.push_str("<figcaption><span class=\"swatch bar\"></span>contacts (left) <span class=\"swatch accent\"></span>conversion rate (right)</figcaption>\n</figure>\n");
        page.push_str("<figure>\n");
        page.push_str(&roc_chart(prefix, score, s, r));
        page.push_str("<figcaption>Each point is a cut-off: the share of non-converters at or above it (across) against the share of converters (up).</figcaption>\n</figure>\n");
        page.push_str("</div>\n<figure>\n");
        page.push_str(&sweep_chart(prefix, score, s));
        page.push_str("<figcaption><span class=\"swatch bar\"></span>contacts at or above the cut-off (left) <span class=\"swatch accent\"></span>share of conversions captured (right)</figcaption>\n</figure>\n");
        page.push_str("<details>\n<summary>Bins and cut-offs</summary>\n");
        let bin_header = ["bin", "contacts", "converted", "rate"].map(String::from);
        table(page, &bin_header, &bin_rows(s), 1);
        let threshold_header = ["cut-off", "contacts", "converted", "precision", "recall"].map(String::from);
        table(page, &threshold_header, &threshold_rows(s), 1);
        page.push_str("</details>\n");
    }
}

/// An HTML table; columns from `left_columns` on are right-aligned numbers.
fn table(page: &mut String, header: &[String], rows: &[Vec<String>], left_columns: usize) {
    let class = |column: usize| {
        if column >= left_columns {
            " class=\"num\""
        } else {
            ""
        }
    };
    page.push_str("<table>\n<thead><tr>");
    for (column, cell) in header.iter().enumerate() {
        let _ = write!(page, "<th{}>{}</th>", class(column), escape(cell));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        page.push_str("<tr>");
        for (column, cell) in row.iter().enumerate() {
            let _ = write!(page, "<td{}>{}</td>", class(column), escape(cell));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

// ---------------------------------------------------------------------------
// Chart frames and axes.

/// The plotting area of a chart, in drawing coordinates.
#[derive(Debug, Clone, Copy)]
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;

impl Frame {
    fn standard() -> Frame {
        Frame {
            left: 60.0,
            right: WIDTH - 60.0,
            top: 20.0,
            bottom: HEIGHT - 56.0,
        }
    }

    fn width(&self) -> f64 {
        self.right - self.left
    }
}

/// A tick label for a share: `40 %`, or with decimals when the step is
/// smaller than one point.
fn share_tick(value: f64, step: f64) -> String {
    let decimals = if step * 100.0 >= 1.0 {
        0
    } else if step * 100.0 >= 0.1 {
        1
    } else {
        2
    };
    format!("{:.*} %", decimals, value * 100.0)
}

/// A tick label for a count (ticks of counts are whole unless the axis tops
/// out below 5, when they may be halves).
fn count_tick(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The ticks' step (the second tick), 1 when there is none.
fn tick_step(ticks: &[f64]) -> f64 {
    ticks.get(1).copied().unwrap_or(1.0)
}

/// Horizontal grid lines with labels on the left, and the vertical scale.
fn left_axis(svg: &mut Svg, frame: Frame, ticks: &[f64], label: impl Fn(f64) -> String) -> Linear {
    let top = ticks.last().copied().unwrap_or(1.0);
    let y = Linear::new((0.0, top), (frame.bottom, frame.top));
    for &tick in ticks {
        let at = y.at(tick);
        svg.line("grid-line", (frame.left, at), (frame.right, at));
        svg.text("tick", (frame.left - 6.0, at + 4.0), Anchor::End, &label(tick));
    }
    y
}

/// Labels on the right for a second vertical scale (no grid lines).
fn right_axis(svg: &mut Svg, frame: Frame, ticks: &[f64], label: impl Fn(f64) -> String) -> Linear {
    let top = ticks.last().copied().unwrap_or(1.0);
    let y = Linear::new((0.0, top), (frame.bottom, frame.top));
    for &tick in ticks {
        svg.text(
            "tick",
            (frame.right + 6.0, y.at(tick) + 4.0),
            Anchor::Start,
            &label(tick),
        );
    }
    y
}

fn bottom_axis(svg: &mut Svg, frame: Frame) {
    svg.line("axis", (frame.left, frame.bottom), (frame.right, frame.bottom));
}

/// The title under the horizontal axis.
fn x_axis_title(svg: &mut Svg, frame: Frame, title: &str) {
    svg.text(
        "axis-title",
        ((frame.left + frame.right) / 2.0, frame.bottom + 40.0),
        Anchor::Middle,
        title,
    );
}

/// A line through `points` (when there are two or more) with a
/// `circle.point` on each, titled.
fn line_with_points(svg: &mut Svg, line_class: &str, point_class: &str, points: Vec<((f64, f64), String)>) {
    if points.len() > 1 {
        let line: Vec<(f64, f64)> = points.iter().map(|(at, _)| *at).collect();
        svg.polyline(line_class, &line);
    }
    for (at, tooltip) in points {
        svg.circle(point_class, at, 4.0, &tooltip);
    }
}

/// A label shortened to `limit` characters with an ellipsis.
fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(limit.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// `1 contact`, `3 contacts`.
fn plural(count: u64, word: &str) -> String {
    format!("{count} {word}{}", if count == 1 { "" } else { "s" })
}

fn value_of(x: Option<Real>) -> Option<f64> {
    x.map(|x| x.0).filter(|x| x.is_finite())
}

// ---------------------------------------------------------------------------
// Conversion rate by band value.

/// Bars of each band value's rate with its interval, and the cohort's rate.
/// Marks: one `rect.bar` and one `line.interval` per value with contacts.
fn band_rate_chart(prefix: &str, band: &str, rows: &[GroupRow], cohort_rate: Option<Real>) -> String {
    let title = format!("conversion rate by value of band {band}");
    let mut svg = Svg::new(
        &format!("{prefix}chart-band-{}", slug(band)),
        WIDTH,
        HEIGHT,
        &title,
    );
    let frame = Frame::standard();
    let highest = rows
        .iter()
        .filter_map(|row| value_of(row.metrics.rate_high))
        .chain(value_of(cohort_rate))
        .fold(0.0, f64::max);
    let ticks = nice_ticks(highest);
    let step = tick_step(&ticks);
    let y = left_axis(&mut svg, frame, &ticks, |t| share_tick(t, step));
    svg.vertical_text(
        "axis-title",
        (16.0, (frame.top + frame.bottom) / 2.0),
        "conversion rate",
    );
    bottom_axis(&mut svg, frame);
    let slot = frame.width() / rows.len().max(1) as f64;
    let bar_width = (slot * 0.6).min(90.0);
    for (index, row) in rows.iter().enumerate() {
        let centre = frame.left + slot * (index as f64 + 0.5);
        let m = &row.metrics;
        svg.text(
            "category",
            (centre, frame.bottom + 18.0),
            Anchor::Middle,
            &shorten(&row.value, 16),
        );
        svg.text(
            "tick",
            (centre, frame.bottom + 34.0),
            Anchor::Middle,
            &plural(m.contacts, "contact"),
        );
        let Some(rate) = value_of(m.rate) else {
            svg.text(
                "empty-note",
                (centre, frame.bottom - 8.0),
                Anchor::Middle,
                "no contacts",
            );
            continue;
        };
        let tooltip = format!(
            "{}: {} ({} of {}), 95 % interval {}, lift {}, captured {}",
            row.value,
            percent(m.rate),
            m.converted,
            m.contacts,
            interval(m),
            lift(m.lift),
            percent(m.captured)
        );
        svg.rect(
            "bar",
            centre - bar_width / 2.0,
            y.at(rate),
            bar_width,
            frame.bottom - y.at(rate),
            &tooltip,
        );
        let (low, high) = (
            value_of(m.rate_low).unwrap_or(rate),
            value_of(m.rate_high).unwrap_or(rate),
        );
        svg.line("interval", (centre, y.at(low)), (centre, y.at(high)));
        svg.line("interval", (centre - 6.0, y.at(low)), (centre + 6.0, y.at(low)));
        svg.line("interval", (centre - 6.0, y.at(high)), (centre + 6.0, y.at(high)));
        svg.text(
            "value",
            (centre + 5.0, y.at(rate) - 5.0),
            Anchor::Start,
            &percent(m.rate),
        );
    }
    if let Some(rate) = value_of(cohort_rate) {
        svg.line("baseline", (frame.left, y.at(rate)), (frame.right, y.at(rate)));
        // Right of the plot, where no bar or whisker can cover it.
        svg.text(
            "tick",
            (frame.right + 6.0, y.at(rate) - 2.0),
            Anchor::Start,
            "all",
        );
        svg.text(
            "tick",
            (frame.right + 6.0, y.at(rate) + 11.0),
            Anchor::Start,
            &percent(cohort_rate),
        );
    }
    svg.finish()
}

// ---------------------------------------------------------------------------
// Lift heatmap: band value × `--by` group.

/// The `--by` rows of one band as a grid: values down, groups across.
struct ByMatrix<'r> {
    values: Vec<&'r str>,
    groups: Vec<Option<&'r str>>,
    /// `(value, group)` → metrics; looked up by position.
    cells: Vec<(&'r str, Option<&'r str>, &'r Metrics)>,
}

impl<'r> ByMatrix<'r> {
    fn cell(&self, value: &str, group: Option<&str>) -> Option<&'r Metrics> {
        self.cells
            .iter()
            .find(|(v, g, _)| *v == value && *g == group)
            .map(|(_, _, m)| *m)
    }
}

/// The rows of `band`, values and groups in the report's order.
fn by_matrix<'r>(by: &'r ByReport, band: &str) -> ByMatrix<'r> {
    let mut matrix = ByMatrix {
        values: Vec::new(),
        groups: Vec::new(),
        cells: Vec::new(),
    };
    for row in by.rows.iter().filter(|row| row.band == band) {
        let group = row.group.as_deref();
        if !matrix.values.contains(&row.value.as_str()) {
            matrix.values.push(row.value.as_str());
        }
        if !matrix.groups.contains(&group) {
            matrix.groups.push(group);
        }
        matrix.cells.push((row.value.as_str(), group, &row.metrics));
    }
    matrix
}

/// A diverging colour for a lift: white at 1×, blue above, red below, full
/// at 4× and ¼× (a log scale). Returns the colour and whether it is dark.
fn lift_colour(lift: f64) -> (String, bool) {
    let strength = if lift <= 0.0 {
        -1.0
    } else {
        (lift.log2() / 2.0).clamp(-1.0, 1.0)
    };
    let (white, blue, red) = ((247.0, 247.0, 247.0), (33.0, 102.0, 172.0), (178.0, 24.0, 43.0));
    let target = if strength >= 0.0 { blue } else { red };
    let t = strength.abs();
    let mix = |a: f64, b: f64| (a + (b - a) * t).round().clamp(0.0, 255.0) as u8;
    let colour = format!(
        "#{:02x}{:02x}{:02x}",
        mix(white.0, target.0),
        mix(white.1, target.1),
        mix(white.2, target.2)
    );
    (colour, t > 0.55)
}

/// Marks: one `rect.cell` per band value × group (`rect.cell.empty` when the
/// cell has no contacts), each with its lift and size, or "no contacts".
fn lift_heatmap(prefix: &str, band: &str, property: &str, matrix: &ByMatrix<'_>) -> String {
    let (label_width, header_height, cell_width, cell_height) = (130.0, 40.0, 84.0, 40.0);
    let width = label_width + cell_width * matrix.groups.len() as f64 + 10.0;
    let height = header_height + cell_height * matrix.values.len() as f64 + 10.0;
    let title = format!("lift by value of band {band} and {property}");
    let mut svg = Svg::new(
        &format!("{prefix}chart-lift-{}", slug(band)),
        width,
        height,
        &title,
    );
    for (column, group) in matrix.groups.iter().enumerate() {
        let centre = label_width + cell_width * (column as f64 + 0.5);
        svg.text(
            "category",
            (centre, header_height - 12.0),
            Anchor::Middle,
            &shorten(&group_name(*group), 12),
        );
    }
    for (line, value) in matrix.values.iter().enumerate() {
        let top = header_height + cell_height * line as f64;
        svg.text(
            "category",
            (label_width - 10.0, top + cell_height / 2.0 + 4.0),
            Anchor::End,
            &shorten(value, 18),
        );
        for (column, group) in matrix.groups.iter().enumerate() {
            let left = label_width + cell_width * column as f64;
            let centre = (left + cell_width / 2.0, top + cell_height / 2.0 + 4.0);
            let metrics = matrix.cell(value, *group);
            let name = format!("{value} × {}", group_name(*group));
            match metrics {
                Some(m) if m.contacts > 0 => {
                    let tooltip = format!(
                        "{name}: lift {}, {} of {} converted ({}), 95 % interval {}",
                        lift(m.lift),
                        m.converted,
                        m.contacts,
                        percent(m.rate),
                        interval(m)
                    );
                    let (fill, dark) =
                        value_of(m.lift).map_or_else(|| (String::from("#eef1f4"), false), lift_colour);
                    svg.filled_rect("cell", left, top, cell_width, cell_height, Some(&fill), &tooltip);
                    let on_dark = if dark { " on-dark" } else { "" };
                    // The lift, and under it the group's size: a strong colour
                    // on a handful of contacts is mostly noise.
                    svg.text(
                        &format!("cell-label{on_dark}"),
                        (centre.0, centre.1 - 5.0),
                        Anchor::Middle,
                        &lift(m.lift),
                    );
                    svg.text(
                        &format!("cell-count{on_dark}"),
                        (centre.0, centre.1 + 9.0),
                        Anchor::Middle,
                        &format!("n = {}", m.contacts),
                    );
                }
                _ => {
                    let tooltip = format!("{name}: no contacts");
                    svg.rect("cell empty", left, top, cell_width, cell_height, &tooltip);
                    svg.text("empty-note", centre, Anchor::Middle, "no contacts");
                }
            }
        }
    }
    svg.finish()
}

// ---------------------------------------------------------------------------
// Scores: bins, ROC curve, threshold sweep.

/// Bars of contacts per bin (left scale) and the bins' rates as a line
/// (right scale). Marks: one `rect.bar` per bin, one `circle.point` per bin
/// with contacts.
fn bins_chart(prefix: &str, score: &str, s: &ScoreReport) -> String {
    let title = format!("contacts and conversion rate by bin of score {score}");
    let mut svg = Svg::new(
        &format!("{prefix}chart-bins-{}", slug(score)),
        WIDTH,
        HEIGHT,
        &title,
    );
    let frame = Frame::standard();
    let most = s.bins.iter().map(|b| b.contacts).max().unwrap_or(0) as f64;
    let y = left_axis(&mut svg, frame, &nice_ticks(most), count_tick);
    let rate_ticks = nice_ticks(s.bins.iter().filter_map(|b| value_of(b.rate)).fold(0.0, f64::max));
    let rate_step = tick_step(&rate_ticks);
    let rate_y = right_axis(&mut svg, frame, &rate_ticks, |t| share_tick(t, rate_step));
    svg.vertical_text("axis-title", (16.0, (frame.top + frame.bottom) / 2.0), "contacts");
    svg.vertical_text(
        "axis-title",
        (WIDTH - 10.0, (frame.top + frame.bottom) / 2.0),
        "conversion rate",
    );
    bottom_axis(&mut svg, frame);
    let slot = frame.width() / s.bins.len().max(1) as f64;
    let mut points = Vec::new();
    for (index, bin) in s.bins.iter().enumerate() {
        let left = frame.left + slot * index as f64;
        let range = format!("{}–{}", number(bin.from), number(bin.to));
        let tooltip = format!(
            "{range}: {} contacts, {} converted ({})",
            bin.contacts,
            bin.converted,
            percent(bin.rate)
        );
        let top = y.at(bin.contacts as f64);
        svg.rect("bar", left + 2.0, top, slot - 4.0, frame.bottom - top, &tooltip);
        svg.text(
            "tick",
            (left, frame.bottom + 16.0),
            Anchor::Middle,
            &number(bin.from),
        );
        if index + 1 == s.bins.len() {
            svg.text(
                "tick",
                (left + slot, frame.bottom + 16.0),
                Anchor::Middle,
                &number(bin.to),
            );
        }
        if let Some(rate) = value_of(bin.rate) {
            let at = (left + slot / 2.0, rate_y.at(rate));
            points.push((at, tooltip));
        }
    }
    x_axis_title(&mut svg, frame, &format!("score {score}"));
    line_with_points(&mut svg, "rate-line", "point", points);
    svg.finish()
}

/// The ROC points of the thresholds: (false-positive rate, recall) for each
/// cut-off, where FPR = (contacts above − converted above) / the cohort's
/// non-converted contacts. `None` when the cohort has no converted or no
/// non-converted contact.
fn roc_points(s: &ScoreReport, r: &MeasureReport) -> Option<Vec<(f64, f64, String)>> {
    let negatives = r.contacts.checked_sub(r.converted)?;
    if negatives == 0 || r.converted == 0 {
        return None;
    }
    let points = s
        .thresholds
        .iter()
        .map(|t| {
            let false_positives = t.contacts.saturating_sub(t.converted) as f64;
            let fpr = false_positives / negatives as f64;
            let recall = t.converted as f64 / r.converted as f64;
            let label = format!(
                "≥ {}: {} of non-converters, {} of converters ({} contacts)",
                number(t.at),
                percent(Some(Real(fpr))),
                percent(Some(Real(recall))),
                t.contacts
            );
            (fpr, recall, label)
        })
        .collect();
    Some(points)
}

/// The ROC curve from the cut-offs, with the chance diagonal. Marks: one
/// `circle.point` per cut-off and one `polyline.roc-line`.
fn roc_chart(prefix: &str, score: &str, s: &ScoreReport, r: &MeasureReport) -> String {
    let title = format!("ROC curve of score {score}: AUC {}", auc(s.auc));
    let (size, margin) = (300.0, 50.0);
    let width = size + margin + 20.0;
    let height = size + margin + 20.0;
    let mut svg = Svg::new(
        &format!("{prefix}chart-roc-{}", slug(score)),
        width,
        height,
        &title,
    );
    let frame = Frame {
        left: margin,
        right: margin + size,
        top: 20.0,
        bottom: 20.0 + size,
    };
    let x = Linear::new((0.0, 1.0), (frame.left, frame.right));
    let ticks = [0.0, 0.25, 0.5, 0.75, 1.0];
    let y = left_axis(&mut svg, frame, &ticks, |t| share_tick(t, 0.25));
    for tick in ticks {
        svg.line("grid-line", (x.at(tick), frame.top), (x.at(tick), frame.bottom));
        svg.text(
            "tick",
            (x.at(tick), frame.bottom + 16.0),
            Anchor::Middle,
            &share_tick(tick, 0.25),
        );
    }
    bottom_axis(&mut svg, frame);
    svg.line("chance", (x.at(0.0), y.at(0.0)), (x.at(1.0), y.at(1.0)));
    svg.text(
        "axis-title",
        ((frame.left + frame.right) / 2.0, frame.bottom + 36.0),
        Anchor::Middle,
        "share of non-converters at or above the cut-off",
    );
    svg.vertical_text(
        "axis-title",
        (14.0, (frame.top + frame.bottom) / 2.0),
        "share of converters (recall)",
    );
    svg.text(
        "value",
        (frame.right - 6.0, frame.bottom - 10.0),
        Anchor::End,
        &format!("AUC {}", auc(s.auc)),
    );
    match roc_points(s, r) {
        Some(points) => {
            let mut curve: Vec<(f64, f64)> = points.iter().map(|(fpr, tpr, _)| (*fpr, *tpr)).collect();
            curve.push((0.0, 0.0));
            curve.push((1.0, 1.0));
            curve.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            curve.dedup();
            let drawn: Vec<(f64, f64)> = curve.iter().map(|(fpr, tpr)| (x.at(*fpr), y.at(*tpr))).collect();
            svg.polyline("roc-line", &drawn);
            for (fpr, tpr, label) in &points {
                svg.circle("point roc-point", (x.at(*fpr), y.at(*tpr)), 3.5, label);
            }
        }
        None => svg.text(
            "empty-note",
            ((frame.left + frame.right) / 2.0, (frame.top + frame.bottom) / 2.0),
            Anchor::Middle,
            "no curve: needs converted and non-converted contacts",
        ),
    }
    svg.finish()
}

/// Capacity against captured share: bars of the contacts at or above each
/// cut-off (left scale) and the recall as a line (right scale). Marks: one
/// `rect.bar` per cut-off, one `circle.point` per cut-off with a recall.
fn sweep_chart(prefix: &str, score: &str, s: &ScoreReport) -> String {
    let title = format!(
        "contacts at or above each cut-off of score {score} and the share of conversions they capture"
    );
    let mut svg = Svg::new(
        &format!("{prefix}chart-sweep-{}", slug(score)),
        WIDTH,
        HEIGHT,
        &title,
    );
    let frame = Frame::standard();
    let most = s.thresholds.iter().map(|t| t.contacts).max().unwrap_or(0) as f64;
    let y = left_axis(&mut svg, frame, &nice_ticks(most), count_tick);
    let share_ticks = [0.0, 0.25, 0.5, 0.75, 1.0];
    let recall_y = right_axis(&mut svg, frame, &share_ticks, |t| share_tick(t, 0.25));
    svg.vertical_text(
        "axis-title",
        (16.0, (frame.top + frame.bottom) / 2.0),
        "contacts (capacity)",
    );
    svg.vertical_text(
        "axis-title",
        (WIDTH - 10.0, (frame.top + frame.bottom) / 2.0),
        "conversions captured",
    );
    bottom_axis(&mut svg, frame);
    let slot = frame.width() / s.thresholds.len().max(1) as f64;
    let mut points = Vec::new();
    for (index, t) in s.thresholds.iter().enumerate() {
        let left = frame.left + slot * index as f64;
        let centre = left + slot / 2.0;
        let tooltip = format!(
            "≥ {}: {} contacts, {} converted; precision {}, captured {}",
            number(t.at),
            t.contacts,
            t.converted,
            percent(t.precision),
            percent(t.recall)
        );
        let top = y.at(t.contacts as f64);
        svg.rect("bar", left + 3.0, top, slot - 6.0, frame.bottom - top, &tooltip);
        svg.text(
            "tick",
            (centre, frame.bottom + 16.0),
            Anchor::Middle,
            &format!("≥ {}", number(t.at)),
        );
        if let Some(recall) = value_of(t.recall) {
            let at = (centre, recall_y.at(recall));
            points.push((at, tooltip));
        }
    }
    x_axis_title(&mut svg, frame, &format!("cut-off on score {score}"));
    line_with_points(&mut svg, "recall-line", "point", points);
    svg.finish()
}

// ---------------------------------------------------------------------------
// A series: AUC per as-of.

/// One line per score through its AUC at each as-of. Marks: one
/// `polyline.auc-line` per score with two or more AUCs, one `circle.point`
/// per score and as-of with an AUC.
fn stability_chart(series: &SeriesReport) -> String {
    let title = format!("AUC of each score at each as-of, goal {}", series.goal);
    let mut svg = Svg::new("chart-stability-auc", WIDTH, HEIGHT, &title);
    let frame = Frame::standard();
    let ticks = [0.0, 0.25, 0.5, 0.75, 1.0];
    let y = left_axis(&mut svg, frame, &ticks, |t| format!("{t:.2}"));
    svg.vertical_text("axis-title", (16.0, (frame.top + frame.bottom) / 2.0), "AUC");
    bottom_axis(&mut svg, frame);
    svg.line("chance", (frame.left, y.at(0.5)), (frame.right, y.at(0.5)));
    let slot = frame.width() / series.stability.len().max(1) as f64;
    let x = |index: usize| frame.left + slot * (index as f64 + 0.5);
    for (index, row) in series.stability.iter().enumerate() {
        // The date part of the instant is what tells the as-of instants apart.
        let date: String = row.as_of.chars().take(10).collect();
        svg.text("tick", (x(index), frame.bottom + 16.0), Anchor::Middle, &date);
    }
    let scores: Vec<&String> = series
        .stability
        .first()
        .map(|row| row.auc.0.iter().map(|(name, _)| name).collect())
        .unwrap_or_default();
    for (line, score) in scores.iter().enumerate() {
        let points: Vec<((f64, f64), String)> = series
            .stability
            .iter()
            .enumerate()
            .filter_map(|(index, row)| {
                let value = row.auc.0.iter().find(|(name, _)| name == *score)?.1;
                let at = (x(index), y.at(value_of(value)?));
                Some((at, format!("{score} as of {}: AUC {}", row.as_of, auc(value))))
            })
            .collect();
        let series = format!("series-{}", line % 4);
        if let Some((last, _)) = points.last() {
            svg.text("value", (last.0 + 8.0, last.1 + 4.0), Anchor::Start, score);
        }
        line_with_points(
            &mut svg,
            &format!("auc-line {series}"),
            &format!("point {series}"),
            points,
        );
    }
    x_axis_title(&mut svg, frame, "as of");
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lift_colours_are_white_at_one_and_saturate_at_four() {
        assert_eq!(lift_colour(1.0), (String::from("#f7f7f7"), false));
        assert_eq!(lift_colour(4.0), (String::from("#2166ac"), true));
        assert_eq!(lift_colour(8.0), lift_colour(4.0));
        assert_eq!(lift_colour(0.0), (String::from("#b2182b"), true));
    }

    #[test]
    fn share_ticks_gain_decimals_on_small_steps() {
        assert_eq!(share_tick(0.4, 0.2), "40 %");
        assert_eq!(share_tick(0.005, 0.005), "0.5 %");
    }

    #[test]
    fn long_labels_are_shortened_with_an_ellipsis() {
        assert_eq!(shorten("paid_search", 12), "paid_search");
        assert_eq!(shorten("a_very_long_source_name", 8), "a_very_…");
    }
}
