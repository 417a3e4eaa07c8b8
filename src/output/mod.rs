//! Outcome → output: the result JSON lines of docs/formats.md#results, and a
//! table for people (aligned by display width).
//!
//! Writers append to a caller-owned buffer so the CLI can batch output.

use std::io::Write as _;

use crate::eval::Outcome;
use crate::plan::Plan;

/// Rounds to 2 decimals (half away from zero) for output; comparisons never
/// see rounded values.
pub fn round2(x: f64) -> f64 {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Appends a number the way results show it (docs/formats.md#results): `85`, `47.71`.
pub fn push_number(out: &mut Vec<u8>, x: f64) {
    if !x.is_finite() {
        out.extend_from_slice(b"null");
    } else if x.fract() == 0.0 && x.abs() < 9e15 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let mut buf = ryu_like(x);
        out.append(&mut buf);
    }
}

fn ryu_like(x: f64) -> Vec<u8> {
    // serde_json prints the shortest representation that round-trips.
    serde_json::to_vec(&x).unwrap_or_else(|_| b"null".to_vec())
}

/// Appends a JSON string.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Appends one result line (docs/formats.md#results) (with its newline).
pub fn write_result(out: &mut Vec<u8>, plan: &Plan, id: &str, outcome: &Outcome) {
    out.extend_from_slice(b"{\"id\":");
    push_str(out, id);
    out.extend_from_slice(b",\"scores\":{");
    for (i, (score, value)) in plan.scores.iter().zip(&outcome.scores).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, &score.name);
        out.push(b':');
        push_number(out, round2(*value));
    }
    out.extend_from_slice(b"},\"bands\":{");
    for (i, (band, value)) in plan.bands.iter().zip(&outcome.bands).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, &band.name);
        out.push(b':');
        push_str(out, band.values.get(*value as usize).map_or("", String::as_str));
    }
    out.extend_from_slice(b"},\"suppressed\":[");
    push_names(
        out,
        plan.suppressions.iter().map(|s| s.name.as_str()),
        &outcome.suppressed,
    );
    out.extend_from_slice(b"],\"audiences\":[");
    push_names(
        out,
        plan.audiences.iter().map(|a| a.name.as_str()),
        &outcome.audiences,
    );
    out.extend_from_slice(b"],\"workflows\":[");
    push_names(
        out,
        plan.workflows.iter().map(|w| w.name.as_str()),
        &outcome.workflows,
    );
    out.extend_from_slice(b"],\"routes\":[");
    let mut first = true;
    for (i, (route, queue)) in plan.routes.iter().zip(&outcome.routes).enumerate() {
        let Some(q) = queue else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        let task = route.task_for(&plan.routing, *q, outcome.route_picks.get(i));
        out.extend_from_slice(b"{\"name\":");
        push_str(out, &route.name);
        out.extend_from_slice(b",\"task\":");
        push_str(out, &route.task);
        out.extend_from_slice(b",\"sla_hours\":");
        push_number(out, task.sla_hours);
        out.extend_from_slice(b",\"queue\":");
        push_str(out, task.queue);
        match task.assignee {
            None => {}
            Some(None) => out.extend_from_slice(b",\"assignee\":null"),
            Some(Some(a)) => {
                out.extend_from_slice(b",\"assignee\":");
                push_str(out, a);
            }
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
}

fn push_names<'a>(out: &mut Vec<u8>, names: impl Iterator<Item = &'a str>, flags: &[bool]) {
    let mut first = true;
    for (name, on) in names.zip(flags) {
        if *on {
            if !first {
                out.push(b',');
            }
            first = false;
            push_str(out, name);
        }
    }
}

/// Column headers of `--format table`.
pub fn table_header(plan: &Plan) -> Vec<String> {
    let mut cols = vec![String::from("id")];
    cols.extend(plan.scores.iter().map(|s| s.name.clone()));
    cols.extend(plan.bands.iter().map(|b| b.name.clone()));
    cols.extend(["suppressed", "audiences", "workflows", "routes"].map(String::from));
    cols
}

/// One row of `--format table`.
pub fn table_row(plan: &Plan, id: &str, outcome: &Outcome) -> Vec<String> {
    let mut row = vec![id.to_string()];
    for value in &outcome.scores {
        let mut b = Vec::new();
        push_number(&mut b, round2(*value));
        row.push(String::from_utf8_lossy(&b).into_owned());
    }
    for (band, value) in plan.bands.iter().zip(&outcome.bands) {
        row.push(band.values.get(*value as usize).cloned().unwrap_or_default());
    }
    let join = |names: Vec<&str>| {
        if names.is_empty() {
            String::from("-")
        } else {
            names.join(",")
        }
    };
    row.push(join(
        plan.suppressions
            .iter()
            .zip(&outcome.suppressed)
            .filter(|(_, on)| **on)
            .map(|(s, _)| s.name.as_str())
            .collect(),
    ));
    row.push(join(
        plan.audiences
            .iter()
            .zip(&outcome.audiences)
            .filter(|(_, on)| **on)
            .map(|(s, _)| s.name.as_str())
            .collect(),
    ));
    row.push(join(
        plan.workflows
            .iter()
            .zip(&outcome.workflows)
            .filter(|(_, on)| **on)
            .map(|(s, _)| s.name.as_str())
            .collect(),
    ));
    let routes: Vec<String> = plan
        .routes
        .iter()
        .zip(&outcome.routes)
        .enumerate()
        .filter_map(|(i, (r, q))| {
            q.map(|q| {
                let task = r.task_for(&plan.routing, q, outcome.route_picks.get(i));
                match task.assignee {
                    Some(a) => format!("{}→{}@{}", r.name, task.queue, a.unwrap_or("-")),
                    None => format!("{}→{}", r.name, task.queue),
                }
            })
        })
        .collect();
    row.push(if routes.is_empty() {
        String::from("-")
    } else {
        routes.join(",")
    });
    row
}

/// How many terminal columns `text` takes: a wide character (`東`) takes
/// two, a combining mark none. Tables are aligned with it, not with a count of
/// characters.
pub fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `text` followed by spaces up to `width` terminal columns.
pub fn pad_to_width(text: &str, width: usize) -> String {
    let mut padded = String::from(text);
    padded.push_str(&" ".repeat(width.saturating_sub(display_width(text))));
    padded
}

/// Lays out rows as an aligned text table (aligned by display width).
pub fn render_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(cell));
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let mut parts = Vec::new();
        for (cell, w) in cells.iter().zip(&widths) {
            parts.push(pad_to_width(cell, *w));
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&mut out, header);
    line(
        &mut out,
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
    );
    for row in rows {
        line(&mut out, row);
    }
    out
}

/// Pads cells into aligned columns (first column left, others right).
pub fn aligned_table(rows: &[Vec<String>], indent: &str) -> String {
    aligned_table_with_left(rows, indent, 1)
}

/// Pads cells into aligned columns: the first `left` columns (labels) are
/// aligned left, the others (figures) right.
pub fn aligned_table_with_left(rows: &[Vec<String>], indent: &str, left: usize) -> String {
    let width = |col: usize| {
        rows.iter()
            .map(|r| r.get(col).map_or(0, |c| display_width(c)))
            .max()
            .unwrap_or(0)
    };
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(display_width(cell));
            if i == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else if i < left {
                line.push_str("  ");
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown table: a header, `right` says which columns align right.
pub fn markdown_table(header: &[String], right: &[bool], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    let align: Vec<&str> = right.iter().map(|&r| if r { "---:" } else { "---" }).collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// Escapes what would break a Markdown table cell or inline code.
pub fn markdown_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('`', "'").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_the_spec() {
        let mut b = Vec::new();
        push_number(&mut b, round2(85.0));
        b.push(b' ');
        push_number(&mut b, round2(47.7066));
        b.push(b' ');
        push_number(&mut b, round2(-0.001));
        assert_eq!(String::from_utf8(b).unwrap_or_default(), "85 47.71 0");
    }

    /// Regression: `c-東京支社-1` is 8 characters but 12 columns wide, and
    /// the table was aligned by characters, so the next column came too early.
    #[test]
    fn tables_align_wide_characters_by_display_width() {
        let header = vec![String::from("id"), String::from("fit")];
        let rows = vec![
            vec![String::from("c-東京支社-1"), String::from("85")],
            vec![String::from("c-2"), String::from("40")],
        ];
        let table = render_table(&header, &rows);
        let columns: Vec<usize> = table
            .lines()
            .filter_map(|line| {
                line.rfind(' ')
                    .map(|space| display_width(line.get(..=space).unwrap_or("")))
            })
            .collect();
        assert_eq!(columns, vec![14, 14, 14, 14], "{table}");
        assert!(table.contains("c-東京支社-1  85\n"), "{table}");
        assert!(table.contains("c-2           40\n"), "{table}");
    }
}
