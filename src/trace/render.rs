//! A trace as text for people: a tree of every decision, each line ending in
//! the `file:line` of the rule that made it. Colour is optional (the caller
//! decides: terminal only, never with `NO_COLOR`).

use std::fmt::Write as _;

use super::values::{json_text, number};
use super::why_not::describe_test;
use super::{BranchTrace, EventTrace, RuleKind, RuleTrace, TargetTrace, TestTrace, Trace, WhyNot};
use crate::eval::SkipReason;
use serde_json::Value as Json;

/// ANSI styling that is empty when colour is off.
struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn good(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn bad(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn mark(&self, ok: bool) -> String {
        if ok {
            self.good("✓")
        } else {
            self.bad("✗")
        }
    }
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", number(x))
    } else {
        number(x)
    }
}

fn days(age_days: f64) -> String {
    let d = (age_days * 100.0).round() / 100.0;
    if d == 1.0 {
        String::from("1 day")
    } else {
        format!("{} days", number(d))
    }
}

/// Pads `left` and appends the location, dimmed.
fn with_at(style: &Style, left: String, at: &str) -> String {
    let width = console_width(&left);
    let pad = if width < 64 { 64 - width } else { 2 };
    format!("{left}{}{}", " ".repeat(pad), style.dim(at))
}

/// Display width ignoring ANSI escapes (one column per char).
fn console_width(s: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in s.chars() {
        if in_escape {
            if c == 'm' {
                in_escape = false;
            }
        } else if c == '\x1b' {
            in_escape = true;
        } else {
            width += 1;
        }
    }
    width
}

fn tests_line(style: &Style, tests: &[TestTrace]) -> String {
    if tests.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = tests
        .iter()
        .map(|t| {
            let text = describe_test(t);
            let (body, mark) = text.rsplit_once(' ').unwrap_or((&text, ""));
            let mark = match mark {
                "✓" => style.good("✓"),
                "✗" => style.bad("✗"),
                other => other.to_string(),
            };
            if t.after_failure {
                format!("{} {body} {mark}", style.dim("also"))
            } else {
                format!("{body} {mark}")
            }
        })
        .collect();
    parts.join(", ")
}

/// Renders a whole trace.
pub fn text(trace: &Trace, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    let _ = writeln!(out, "{} as of {}", style.bold(&trace.id), trace.as_of);
    for score in &trace.scores {
        let _ = writeln!(out);
        let head = format!(
            "{} = {}",
            style.bold(&score.name),
            style.bold(&number(score.value))
        );
        let _ = writeln!(out, "{}", with_at(&style, head, &score.at));
        for rule in &score.rules {
            render_rule(&mut out, &style, rule);
        }
        let clamp = if score.clamped {
            format!(
                "sum {} → clamped to {} (range {}..{})",
                number(score.sum),
                number(score.value),
                number(score.low),
                number(score.high)
            )
        } else {
            format!(
                "sum {} (range {}..{})",
                number(score.sum),
                number(score.low),
                number(score.high)
            )
        };
        // A computed score: its value with the operands' values first.
        let clamp = match &score.worked {
            Some(worked) => format!("= {worked} = {}", clamp.trim_start_matches("sum ")),
            None => clamp,
        };
        let _ = writeln!(out, "  {}", style.dim(&clamp));
    }
    if !trace.segments.is_empty() {
        let _ = writeln!(out);
        for seg in &trace.segments {
            let line = format!(
                "segment {} {} {}",
                seg.name,
                style.mark(seg.value),
                tests_line(&style, &seg.tests)
            );
            let _ = writeln!(out, "{}", with_at(&style, line, &seg.at));
            aggregate_lines(&mut out, &style, &seg.tests, "    ");
        }
    }
    for band in &trace.bands {
        let _ = writeln!(out);
        let head = format!("{} = {}", style.bold(&band.name), style.bold(&band.value));
        let _ = writeln!(out, "{}", with_at(&style, head, &band.at));
        for branch in &band.branches {
            render_branch(&mut out, &style, branch, "");
        }
        for branch in &band.not_reached {
            render_branch(&mut out, &style, branch, "not reached; ");
        }
    }
    let _ = writeln!(out);
    let applying: Vec<_> = trace.suppressions.iter().filter(|s| s.applies).collect();
    if applying.is_empty() {
        let _ = writeln!(out, "suppressions: none apply");
    } else {
        let _ = writeln!(out, "suppressions:");
        for s in applying {
            let line = format!(
                "  {} {} on {}: {}",
                style.bad("■"),
                s.name,
                s.channels.join(", "),
                tests_line(&style, &s.tests)
            );
            let _ = writeln!(out, "{}", with_at(&style, line, &s.at));
            aggregate_lines(&mut out, &style, &s.tests, "      ");
        }
    }
    for (title, list, own_channel) in [
        ("audiences", &trace.audiences, "ads"),
        ("workflows", &trace.workflows, "email"),
        ("routes", &trace.routes, "sales"),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for t in list {
            render_target(&mut out, &style, t, own_channel);
        }
    }
    if !trace.converted.is_empty() {
        let _ = writeln!(out, "converted from text:");
        for c in &trace.converted {
            let _ = writeln!(
                out,
                "  {} {} → {}",
                c.property,
                json_text(&Json::String(c.text.clone())),
                json_text(&c.value)
            );
        }
    }
    if trace.warnings.is_empty() {
        let _ = writeln!(out, "warnings: none");
    } else {
        let _ = writeln!(out, "warnings:");
        for w in &trace.warnings {
            let line = format!("  {} {}", style.paint("33", "!"), w.message);
            let _ = writeln!(out, "{}", with_at(&style, line, &w.at));
        }
    }
    out
}

fn render_rule(out: &mut String, style: &Style, rule: &RuleTrace) {
    let summary = match rule.kind {
        RuleKind::When => format!(
            "  {} {} {}: {}",
            style.mark(rule.matched),
            rule.label,
            signed(rule.points),
            tests_line(style, &rule.tests)
        ),
        _ => format!(
            "  {} {} {}",
            style.mark(rule.matched),
            rule.label,
            signed(rule.points)
        ),
    };
    let _ = writeln!(out, "{}", with_at(style, summary, &rule.at));
    aggregate_lines(out, style, &rule.tests, "      ");
    // Computed points: the operands' values, then the points before any cap.
    if let Some(worked) = &rule.worked {
        let raw = rule.cap.as_ref().map_or(rule.points, |c| c.sum);
        let _ = writeln!(out, "      {worked} = {}", number(raw));
    }
    for row in &rule.rows {
        let label = row.label.clone().unwrap_or_else(|| String::from("row"));
        let points = match (&row.worked, row.matched) {
            (Some(worked), true) => format!(" → {worked} = {}", number(row.points)),
            (None, true) => format!(" → {}", signed(row.points)),
            (_, false) => String::new(),
        };
        let line = format!(
            "      {} {label}: {}{points}",
            style.mark(row.matched),
            tests_line(style, &row.tests)
        );
        let _ = writeln!(out, "{}", with_at(style, line, &row.at));
        aggregate_lines(out, style, &row.tests, "        ");
    }
    for event in &rule.events {
        let _ = writeln!(out, "      {}", event_line(style, event));
    }
    if let Some(cap) = &rule.cap {
        let _ = writeln!(
            out,
            "      {}",
            // `max` lowers the events' sum; `min` raises it (after decay).
            style.dim(&format!(
                "{} → {} {}",
                number(cap.sum),
                if cap.total > cap.sum {
                    "raised to"
                } else {
                    "capped at"
                },
                number(cap.total)
            ))
        );
    }
}

/// Under a line of tests: each prop aggregate they read, with its value
/// and the events that made it (`super::aggregate_trace::line`).
fn aggregate_lines(out: &mut String, style: &Style, tests: &[TestTrace], indent: &str) {
    for aggregate in tests.iter().flat_map(|t| &t.aggregates) {
        let _ = writeln!(
            out,
            "{indent}{}",
            style.dim(&super::aggregate_trace::line(aggregate))
        );
    }
}

fn event_line(style: &Style, e: &EventTrace) -> String {
    let props: Vec<String> = e
        .props
        .iter()
        .map(|(k, v)| format!("{k}={}", json_text(v)))
        .collect();
    let what = if props.is_empty() {
        e.event_type.clone()
    } else {
        format!("{} {}", e.event_type, props.join(" "))
    };
    let when = if e.age_days < 0.0 {
        format!("{} after as-of", days(-e.age_days))
    } else {
        format!("{} ago", days(e.age_days))
    };
    match (e.counted, e.factor, e.points) {
        (true, Some(f), Some(p)) if f != 1.0 => {
            format!("{} {what} {when} × {:.3} = {}", style.good("+"), f, number(p))
        }
        (true, _, Some(p)) => format!("{} {what} {when} = {}", style.good("+"), number(p)),
        _ => {
            let why = match e.skipped {
                Some(SkipReason::AfterAsOf) => String::from("after as-of"),
                Some(SkipReason::OutsideWindow) => String::from("outside the window"),
                Some(SkipReason::FilterFailed) => format!("filter failed: {}", tests_line(style, &e.tests)),
                Some(SkipReason::NoPoints) => {
                    String::from("no points: a prop the points read is missing or not a number")
                }
                None => String::from("not counted"),
            };
            style.dim(&format!("- {what} {when}: skipped, {why}"))
        }
    }
}

fn render_branch(out: &mut String, style: &Style, branch: &BranchTrace, prefix: &str) {
    let body = if branch.otherwise {
        String::from("otherwise")
    } else {
        tests_line(style, &branch.tests)
    };
    let mark = if prefix.is_empty() {
        style.mark(branch.matched)
    } else {
        style.dim("·")
    };
    let line = format!("  {mark} {}: {}{body}", branch.value, style.dim(prefix));
    let _ = writeln!(out, "{}", with_at(style, line, &branch.at));
    aggregate_lines(out, style, &branch.tests, "      ");
}

/// One target; its channel is named when it is not `own_channel`, its
/// kind's own (`sms_promo on sms in: …`).
fn render_target(out: &mut String, style: &Style, t: &TargetTrace, own_channel: &str) {
    let reason = if t.member {
        match &t.queue {
            Some(q) => format!("in, queue {q}: {}", tests_line(style, &t.tests)),
            None => format!("in: {}", tests_line(style, &t.tests)),
        }
    } else if !t.condition {
        format!("out: {}", tests_line(style, &t.tests))
    } else {
        format!(
            "out: suppressed on {} by {}",
            t.channel,
            t.suppressed_by.join(", ")
        )
    };
    let waived = match t.waived.as_slice() {
        [] => String::new(),
        [one] => format!("; {one} applies but is waived (despite)"),
        many => format!("; {} apply but are waived (despite)", many.join(", ")),
    };
    let on = if t.channel == own_channel {
        String::new()
    } else {
        format!(" on {}", t.channel)
    };
    let line = format!("  {} {}{on} {reason}{waived}", style.mark(t.member), t.name);
    let _ = writeln!(out, "{}", with_at(style, line, &t.at));
    aggregate_lines(out, style, &t.tests, "      ");
    render_picks(out, style, t);
    for branch in &t.queue_branches {
        let body = if branch.otherwise {
            String::from("otherwise")
        } else {
            tests_line(style, &branch.tests)
        };
        let line = format!(
            "      {} queue {}: {body}",
            style.mark(branch.matched),
            branch.value
        );
        let _ = writeln!(out, "{}", with_at(style, line, &branch.at));
    }
}

/// Renders a `--why-not` answer.
pub fn why_not_text(trace: &Trace, answer: &WhyNot, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    if answer.satisfied {
        let _ = writeln!(
            out,
            "{} {} is in {} `{}` as of {}",
            style.good("✓"),
            trace.id,
            answer.kind,
            answer.target,
            trace.as_of
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{} {} is not in {} `{}` as of {}",
        style.bad("✗"),
        style.bold(&trace.id),
        answer.kind,
        answer.target,
        trace.as_of
    );
    let _ = writeln!(out, "because:");
    for r in &answer.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    if !answer.changes.is_empty() {
        let _ = writeln!(out, "it would take:");
        for c in &answer.changes {
            let _ = writeln!(out, "  - {c}");
        }
    }
    out
}

/// How a routed contact's queue and assignee were picked: the value read,
/// the table row, the round-robin hash and index; then the assignee and a
/// branch's own SLA.
fn render_picks(out: &mut String, style: &Style, t: &TargetTrace) {
    for p in &t.picks {
        let picked = p
            .picked
            .as_deref()
            .map_or_else(|| String::from("none, fallback"), String::from);
        let how = match p.source {
            "property" => format!(
                "{} {}",
                p.property.as_deref().unwrap_or(""),
                p.value.as_ref().map_or_else(String::new, ToString::to_string)
            ),
            "table" => format!(
                "table {}: {} {} → row {}",
                p.table.as_deref().unwrap_or(""),
                p.property.as_deref().unwrap_or(""),
                p.value.as_ref().map_or_else(String::new, ToString::to_string),
                p.row
                    .as_deref()
                    .map_or_else(String::new, |r| if r == "otherwise" {
                        String::from("otherwise")
                    } else {
                        format!("\"{r}\"")
                    })
            ),
            "round_robin" => format!(
                "round robin: fnv1a64(id) = {} mod {} = {}",
                p.hash.as_deref().unwrap_or(""),
                p.members.unwrap_or(0),
                p.index.unwrap_or(0)
            ),
            _ => String::from("fallback"),
        };
        let _ = writeln!(out, "    {} {}: {how} → {picked}", style.dim("·"), p.role);
    }
    if let Some(a) = &t.assignee {
        let _ = writeln!(
            out,
            "    {} assignee {}",
            style.dim("·"),
            a.as_deref().unwrap_or("null")
        );
    }
    if let Some(sla) = t.sla_hours {
        let _ = writeln!(out, "    {} sla {sla} hours (the branch's)", style.dim("·"));
    }
}
