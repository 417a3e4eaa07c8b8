//! A diff [`ImpactReport`] as text (for terminals) or Markdown (for a pull-request
//! comment: headings, tables, examples and histograms in `<details>`).

use std::fmt::Write as _;

use super::{BandReport, Histogram, ImpactReport, Num, ScoreReport, Side, Stats, TargetReport, Transition};
use crate::output::{aligned_table, display_width, markdown_escape, markdown_table};

/// Width of the longest histogram bar, in characters.
const BAR: usize = 24;

fn label(l: Option<&str>) -> &str {
    l.unwrap_or("(none)")
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn side_note(side: Side) -> &'static str {
    match side {
        Side::Both => "",
        Side::Added => " (added)",
        Side::Removed => " (removed)",
    }
}

fn ids(list: &[String]) -> String {
    list.join(", ")
}

fn code_ids(list: &[String]) -> String {
    list.iter()
        .map(|i| format!("`{}`", markdown_escape(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn headline(r: &ImpactReport) -> String {
    format!(
        "{} of {} change band, audience, workflow or route",
        r.changed,
        plural(r.contacts, "contact", "contacts")
    )
}

/// Where the numbers come from; `quote` marks up the paths and revision.
fn sources_line(r: &ImpactReport, quote: impl Fn(&str) -> String) -> String {
    let mut s = format!(
        "base {} → rules {} on {}, as of {}",
        quote(&r.base),
        quote(&r.rules),
        quote(&r.contacts_file),
        r.as_of
    );
    if r.rejected > 0 {
        let _ = write!(s, "; {} rejected", plural(r.rejected, "line", "lines"));
    }
    if r.wrong_type_values.base > 0 || r.wrong_type_values.new > 0 {
        let _ = write!(
            s,
            "; values of the wrong type: {} base, {} new",
            r.wrong_type_values.base, r.wrong_type_values.new
        );
    }
    s
}

fn matrix_rows(b: &BandReport) -> Vec<Vec<String>> {
    let labels = |v: &Option<Vec<String>>| match v {
        Some(v) => v.clone(),
        None => vec![label(None).to_string()],
    };
    let (rows, cols) = (labels(&b.values.base), labels(&b.values.new));
    let mut out = vec![std::iter::once("base \\ new".to_string())
        .chain(cols)
        .collect::<Vec<_>>()];
    for (name, counts) in rows.iter().zip(&b.matrix) {
        out.push(
            std::iter::once(name.clone())
                .chain(counts.iter().map(u64::to_string))
                .collect(),
        );
    }
    out
}

fn transition_name(t: &Transition) -> String {
    format!("{} → {}", label(t.from.as_deref()), label(t.to.as_deref()))
}

fn stats_cells(s: Option<&Stats>) -> Vec<String> {
    match s {
        Some(s) => [s.mean, s.p10, s.p25, s.p50, s.p75, s.p90]
            .iter()
            .map(Num::to_string)
            .collect(),
        None => vec!["—".to_string(); 6],
    }
}

fn moved(s: &ScoreReport) -> String {
    match (s.up, s.down) {
        (Some(u), Some(d)) => format!("{u} up, {d} down"),
        _ => String::new(),
    }
}

fn histogram_text(s: &ScoreReport) -> String {
    let h: &Histogram = &s.histogram;
    let max = h
        .bins
        .iter()
        .flat_map(|b| [b.base.unwrap_or(0), b.new.unwrap_or(0)])
        .max()
        .unwrap_or(0)
        .max(1);
    let bar = |n: Option<u64>| match n {
        None => format!("{:<width$}", "", width = BAR),
        Some(n) => {
            let len = ((n as f64 / max as f64) * BAR as f64).round() as usize;
            let len = if n > 0 { len.max(1) } else { 0 };
            format!("{:<width$}", "█".repeat(len), width = BAR)
        }
    };
    let count = |n: Option<u64>| n.map_or("—".to_string(), |n| n.to_string());
    let mut rows = vec![vec![
        format!("{}{}", s.name, side_note(s.side)),
        "base".to_string(),
        String::new(),
        "new".to_string(),
        String::new(),
    ]];
    for b in &h.bins {
        rows.push(vec![
            format!("{}–{}", b.from, b.to),
            count(b.base),
            bar(b.base),
            count(b.new),
            bar(b.new),
        ]);
    }
    // Bars read left to right: left-align them.
    let mut out = String::new();
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |x| display_width(x)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(display_width(cell)));
            match i {
                0 => {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
                1 | 3 => {
                    line.push_str("  ");
                    line.push_str(&pad);
                    line.push_str(cell);
                }
                _ => {
                    line.push(' ');
                    line.push_str(cell);
                    line.push_str(&pad);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn target_rows(r: &ImpactReport) -> Vec<(&'static str, &TargetReport)> {
    let mut rows: Vec<(&'static str, &TargetReport)> = Vec::new();
    rows.extend(r.audiences.iter().map(|t| ("audience", t)));
    rows.extend(r.workflows.iter().map(|t| ("workflow", t)));
    rows.extend(r.routes.iter().map(|t| ("route", t)));
    rows
}

/// The report for a terminal.
pub fn text(r: &ImpactReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rubric diff: {}", headline(r));
    let _ = writeln!(out, "{}", sources_line(r, str::to_string));
    for b in &r.bands {
        let _ = writeln!(out);
        if b.transitions.is_empty() && b.side == Side::Both {
            let counts = b
                .counts
                .base
                .iter()
                .flatten()
                .map(|c| format!("{} {}", c.value, c.contacts))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(out, "band {}: no change ({counts})", b.name);
            continue;
        }
        let _ = writeln!(out, "band {}{}", b.name, side_note(b.side));
        out.push_str(&aligned_table(&matrix_rows(b), "  "));
        for t in &b.transitions {
            let _ = writeln!(
                out,
                "  {}: {}  e.g. {}",
                transition_name(t),
                t.contacts,
                ids(&t.examples)
            );
        }
    }
    let targets = target_rows(r);
    if !targets.is_empty() {
        let _ = writeln!(out);
        let mut rows = vec![vec![
            "target".to_string(),
            "base".to_string(),
            "new".to_string(),
            "added".to_string(),
            "removed".to_string(),
        ]];
        for (kind, t) in &targets {
            rows.push(vec![
                format!("{kind} {}{}", t.name, side_note(t.side)),
                t.base.to_string(),
                t.new.to_string(),
                format!("+{}", t.added),
                format!("-{}", t.removed),
            ]);
        }
        out.push_str(&aligned_table(&rows, ""));
        for (kind, t) in &targets {
            if !t.examples.added.is_empty() {
                let _ = writeln!(out, "  {kind} {} added: {}", t.name, ids(&t.examples.added));
            }
            if !t.examples.removed.is_empty() {
                let _ = writeln!(out, "  {kind} {} removed: {}", t.name, ids(&t.examples.removed));
            }
            for q in t.queue_changes.iter().flatten() {
                let _ = writeln!(
                    out,
                    "  {kind} {} queue {}: {}  e.g. {}",
                    t.name,
                    transition_name(q),
                    q.contacts,
                    ids(&q.examples)
                );
            }
        }
    }
    if !r.scores.is_empty() {
        let _ = writeln!(out);
        let mut rows = vec![
            ["score", "", "mean", "p10", "p25", "p50", "p75", "p90", "changed"]
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        ];
        for s in &r.scores {
            for (i, (which, stats)) in [("base", s.base.as_ref()), ("new", s.new.as_ref())]
                .into_iter()
                .enumerate()
            {
                let mut row = vec![
                    if i == 0 {
                        format!("{}{}", s.name, side_note(s.side))
                    } else {
                        String::new()
                    },
                    which.to_string(),
                ];
                row.extend(stats_cells(stats));
                row.push(if i == 1 { moved(s) } else { String::new() });
                rows.push(row);
            }
        }
        out.push_str(&aligned_table(&rows, ""));
        for s in &r.scores {
            let _ = writeln!(out);
            out.push_str(&histogram_text(s));
        }
    }
    out
}

/// The report as a pull-request comment.
pub fn markdown(r: &ImpactReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## rubric diff\n");
    let _ = writeln!(out, "**{}**\n", headline(r));
    let _ = writeln!(
        out,
        "{}\n",
        sources_line(r, |s| format!("`{}`", markdown_escape(s)))
    );
    if r.rejected > 0 {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {} of the snapshot rejected; see the command's stderr.\n",
            plural(r.rejected, "line", "lines")
        );
    }
    if !r.bands.is_empty() {
        let _ = writeln!(out, "### Bands\n");
        let mut unchanged = Vec::new();
        for b in &r.bands {
            if b.transitions.is_empty() && b.side == Side::Both {
                unchanged.push(format!("`{}`", markdown_escape(&b.name)));
                continue;
            }
            let _ = writeln!(out, "#### `{}`{}\n", markdown_escape(&b.name), side_note(b.side));
            let rows = matrix_rows(b);
            let (header, body) = rows
                .split_first()
                .map_or((Vec::new(), &[][..]), |(h, b)| (h.clone(), b));
            let header: Vec<String> = header
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    if i == 0 {
                        "base ＼ new".to_string()
                    } else {
                        format!("**{}**", markdown_escape(h))
                    }
                })
                .collect();
            let body: Vec<Vec<String>> = body
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .map(|(i, c)| {
                            if i == 0 {
                                format!("**{}**", markdown_escape(c))
                            } else {
                                c.clone()
                            }
                        })
                        .collect()
                })
                .collect();
            let right: Vec<bool> = (0..header.len()).map(|i| i > 0).collect();
            out.push_str(&markdown_table(&header, &right, &body));
            out.push('\n');
            let _ = writeln!(out, "<details><summary>Examples</summary>\n");
            let rows: Vec<Vec<String>> = b
                .transitions
                .iter()
                .map(|t| {
                    vec![
                        markdown_escape(&transition_name(t)),
                        t.contacts.to_string(),
                        code_ids(&t.examples),
                    ]
                })
                .collect();
            out.push_str(&markdown_table(
                &["transition".into(), "contacts".into(), "first contacts".into()],
                &[false, true, false],
                &rows,
            ));
            let _ = writeln!(out, "\n</details>\n");
        }
        if !unchanged.is_empty() {
            let _ = writeln!(out, "Unchanged: {}.\n", unchanged.join(", "));
        }
    }
    let targets = target_rows(r);
    if !targets.is_empty() {
        let _ = writeln!(out, "### Audiences, workflows and routes\n");
        let rows: Vec<Vec<String>> = targets
            .iter()
            .map(|(kind, t)| {
                vec![
                    kind.to_string(),
                    format!("`{}`{}", markdown_escape(&t.name), side_note(t.side)),
                    t.base.to_string(),
                    t.new.to_string(),
                    if t.added > 0 {
                        format!("**+{}**", t.added)
                    } else {
                        "0".into()
                    },
                    if t.removed > 0 {
                        format!("**−{}**", t.removed)
                    } else {
                        "0".into()
                    },
                ]
            })
            .collect();
        out.push_str(&markdown_table(
            &[
                "".into(),
                "name".into(),
                "base".into(),
                "new".into(),
                "added".into(),
                "removed".into(),
            ],
            &[false, false, true, true, true, true],
            &rows,
        ));
        out.push('\n');
        let mut examples = Vec::new();
        for (kind, t) in &targets {
            let name = format!("{kind} `{}`", markdown_escape(&t.name));
            if !t.examples.added.is_empty() {
                examples.push(vec![name.clone(), "added".into(), code_ids(&t.examples.added)]);
            }
            if !t.examples.removed.is_empty() {
                examples.push(vec![
                    name.clone(),
                    "removed".into(),
                    code_ids(&t.examples.removed),
                ]);
            }
            for q in t.queue_changes.iter().flatten() {
                examples.push(vec![
                    name.clone(),
                    format!("queue {} ({})", markdown_escape(&transition_name(q)), q.contacts),
                    code_ids(&q.examples),
                ]);
            }
        }
        if !examples.is_empty() {
            let _ = writeln!(out, "<details><summary>Examples</summary>\n");
            out.push_str(&markdown_table(
                &["target".into(), "change".into(), "first contacts".into()],
                &[false, false, false],
                &examples,
            ));
            let _ = writeln!(out, "\n</details>\n");
        }
    }
    if !r.scores.is_empty() {
        let _ = writeln!(out, "### Scores\n");
        let mut rows = Vec::new();
        for s in &r.scores {
            for (i, (which, stats)) in [("base", s.base.as_ref()), ("new", s.new.as_ref())]
                .into_iter()
                .enumerate()
            {
                let mut row = vec![
                    if i == 0 {
                        format!("`{}`{}", markdown_escape(&s.name), side_note(s.side))
                    } else {
                        String::new()
                    },
                    which.to_string(),
                ];
                row.extend(stats_cells(stats));
                row.push(if i == 1 { moved(s) } else { String::new() });
                rows.push(row);
            }
        }
        out.push_str(&markdown_table(
            &["score", "", "mean", "p10", "p25", "p50", "p75", "p90", "changed"].map(String::from),
            &[false, false, true, true, true, true, true, true, false],
            &rows,
        ));
        out.push('\n');
        let _ = writeln!(out, "<details><summary>Histograms</summary>\n");
        let _ = writeln!(out, "```text");
        for (i, s) in r.scores.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&histogram_text(s));
        }
        let _ = writeln!(out, "```\n\n</details>");
    }
    out
}
