//! `rubric fmt`: one canonical layout for rule files, comments kept.
//!
//! The AST is printed canonically (one item, rule, row, branch or
//! declaration per line, two-space indentation, single spaces, runs of
//! similar lines aligned, at most one blank line), then the comments, which
//! the AST does not hold, are put back: a comment on its own line goes before
//! the line printed for what followed it in the source, a comment at the end
//! of a line goes at the end of the line printed for what preceded it.
//!
//! Line breaks are canonical except at three places where the writer's
//! choice is kept (as gofmt does): before `when` in an item, before `=>` in a
//! score rule, and before a top-level `and`/`or` of a condition. A line longer
//! than [`WIDTH`] is broken before `when` or `=>`.
//!
//! The printer works on `\n` text; [`format_keeping_line_endings`] gives the
//! result the line ending most lines of the input had ([`line_endings`]), and
//! [`change`] tells a change of layout from a change of line endings alone.
//!
//! Architecture Invariant: formatting never changes meaning (the formatted
//! text compiles to the same plan) and is idempotent (formatting formatted
//! text changes nothing). `tests/fmt.rs` checks both on generated rule sets.

pub mod line_endings;
#[cfg(test)]
mod needed_parentheses_tests;
mod routing;

use crate::diagnostics::Diagnostic;
use crate::source::{FileId, Span};
use crate::syntax::ast::{
    self, AggregateKind, ArithOp, Expr, ExprKind, GoalFieldKind, IsTarget, ItemKind, Literal, ModifierKind,
    RouteFieldKind, RuleBody,
};
use crate::syntax::comments;
use crate::syntax::{written_band_value, written_name};

/// Lines longer than this are broken before `when` (items) or `=>` (score rules).
pub const WIDTH: usize = 100;

/// Formats one rule file. Syntax errors are returned instead (nothing is
/// formatted then).
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let (file, errors) = crate::syntax::parse_file(FileId(0), text);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut printer = Printer {
        src: text,
        lines: Vec::new(),
    };
    printer.file(&file);
    Ok(merge(text, &printer.lines))
}

/// Formats one rule file whatever its line endings: the text is formatted
/// with `\n`, then every line gets the ending most lines of `text` had (CRLF
/// stays CRLF; mixed endings become the dominant one, LF on a tie). Syntax
/// errors are returned instead, with spans into the `\n` text
/// ([`line_endings::to_lf`] of `text`).
pub fn format_keeping_line_endings(text: &str) -> Result<String, Vec<Diagnostic>> {
    let ending = line_endings::LineEndingCounts::of(text).dominant();
    let formatted = format_source(&line_endings::to_lf(text))?;
    Ok(line_endings::with_line_ending(&formatted, ending))
}

/// What formatting changes in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The file is already formatted.
    Unchanged,
    /// Only line endings change (a file with mixed endings gets one).
    LineEndingsOnly,
    /// The layout changes (and maybe line endings too).
    Layout,
}

/// Compares a file's text with its formatted text.
pub fn change(original: &str, formatted: &str) -> Change {
    if original == formatted {
        Change::Unchanged
    } else if line_endings::to_lf(original) == line_endings::to_lf(formatted) {
        Change::LineEndingsOnly
    } else {
        Change::Layout
    }
}

/// One printed line before comments are merged in.
#[derive(Debug, Clone)]
struct Line {
    indent: usize,
    text: String,
    /// Source offsets of what the line prints (first piece start, last piece end).
    start: u32,
    end: u32,
    /// A blank line may come before it (it starts an item, rule, branch…).
    blank_ok: bool,
    /// It ends with `{`.
    opener: bool,
    /// It is a closing `}`.
    closer: bool,
}

/// A piece of a logical line: where it may break, and where it goes then.
struct Piece {
    text: String,
    start: u32,
    end: u32,
    /// `Some(indent)` when the piece starts a new line.
    brk: Option<usize>,
}

struct Printer<'s> {
    src: &'s str,
    lines: Vec<Line>,
}

/// Where a condition's top-level `and`/`or` continuation lines go.
struct Layout {
    /// The indent of a line starting with `and`/`or`.
    op_indent: usize,
}

impl<'s> Printer<'s> {
    fn text_between(&self, a: u32, b: u32) -> &'s str {
        self.src.get(a as usize..b as usize).unwrap_or("")
    }

    fn newline_between(&self, a: u32, b: u32) -> bool {
        a < b && self.text_between(a, b).contains('\n')
    }

    /// Whether a blank line separates offsets `a` and `b` in the source.
    fn blank_between(&self, a: u32, b: u32) -> bool {
        if a >= b {
            return false;
        }
        let text = self.text_between(a, b);
        let pieces: Vec<&str> = text.split('\n').collect();
        let inner = pieces.len().saturating_sub(1);
        pieces.iter().take(inner).skip(1).any(|l| l.trim().is_empty())
    }

    fn push(&mut self, indent: usize, text: String, start: u32, end: u32, blank_ok: bool) {
        let opener = text.ends_with('{');
        self.lines.push(Line {
            indent,
            text,
            start,
            end,
            blank_ok,
            opener,
            closer: false,
        });
    }

    fn close(&mut self, indent: usize, block_end: u32) {
        let at = block_end.saturating_sub(1);
        self.lines.push(Line {
            indent,
            text: String::from("}"),
            start: at,
            end: block_end,
            blank_ok: false,
            opener: false,
            closer: true,
        });
    }

    /// Emits pieces as lines; `width_break` is the index of the piece to
    /// break before when the joined line would be longer than [`WIDTH`].
    fn emit(&mut self, indent: usize, mut pieces: Vec<Piece>, width_break: Option<(usize, usize)>) {
        let one_line: usize = indent
            + pieces.iter().map(|p| p.text.chars().count()).sum::<usize>()
            + pieces.len().saturating_sub(1);
        let first_line_len = {
            let mut len = indent;
            for (i, p) in pieces.iter().enumerate() {
                if i > 0 && p.brk.is_some() {
                    break;
                }
                len += p.text.chars().count() + usize::from(i > 0);
            }
            len
        };
        if let Some((index, brk_indent)) = width_break {
            if one_line > WIDTH && first_line_len > WIDTH {
                if let Some(p) = pieces.get_mut(index) {
                    if p.brk.is_none() {
                        p.brk = Some(brk_indent);
                        // A head padded to align with its siblings ends
                        // its line now: no padding before the break.
                        if let Some(before) = index.checked_sub(1).and_then(|i| pieces.get_mut(i)) {
                            let trimmed = before.text.trim_end().len();
                            before.text.truncate(trimmed);
                        }
                    }
                }
            }
        }
        let mut current: Option<Line> = None;
        for (i, piece) in pieces.into_iter().enumerate() {
            match (&mut current, piece.brk) {
                (Some(line), None) => {
                    line.text.push(' ');
                    line.text.push_str(&piece.text);
                    line.end = piece.end;
                }
                _ => {
                    if let Some(line) = current.take() {
                        self.lines.push(line);
                    }
                    let ind = if i == 0 {
                        indent
                    } else {
                        piece.brk.unwrap_or(indent)
                    };
                    current = Some(Line {
                        indent: ind,
                        text: piece.text,
                        start: piece.start,
                        end: piece.end,
                        blank_ok: i == 0,
                        opener: false,
                        closer: false,
                    });
                }
            }
        }
        if let Some(mut line) = current {
            line.opener = line.text.ends_with('{');
            self.lines.push(line);
        }
    }

    /// The pieces of a condition: one per top-level `and`/`or` operand, each
    /// breaking where the source broke. `lead` is prepended to the first.
    /// A whole condition the writer put in parentheses keeps them around
    /// its pieces: `(` before the first, `)` after the last.
    fn cond_pieces(&self, lead: &str, cond: &Expr, layout: &Layout, first_brk: Option<usize>) -> Vec<Piece> {
        let (parts, op) = match &cond.kind {
            ExprKind::Or(parts) => (parts.as_slice(), "or"),
            ExprKind::And(parts) => (parts.as_slice(), "and"),
            _ => (std::slice::from_ref(cond), ""),
        };
        let group = !op.is_empty() && cond.parenthesized;
        let lead = if group {
            format!("{lead}(")
        } else {
            lead.to_string()
        };
        let mut out = Vec::new();
        let mut prev_end = 0u32;
        for (i, part) in parts.iter().enumerate() {
            let text = if op.is_empty() {
                expr(cond, 0)
            } else {
                expr(part, if op == "or" { 1 } else { 2 })
            };
            if i == 0 {
                out.push(Piece {
                    text: format!("{lead}{text}"),
                    start: part.span.start,
                    end: part.span.end,
                    brk: first_brk,
                });
            } else {
                let brk = self
                    .newline_between(prev_end, part.span.start)
                    .then_some(layout.op_indent);
                out.push(Piece {
                    text: format!("{op} {text}"),
                    start: part.span.start,
                    end: part.span.end,
                    brk,
                });
            }
            prev_end = part.span.end;
        }
        if let Some(last) = out.last_mut().filter(|_| group) {
            last.text.push(')');
        }
        out
    }

    fn file(&mut self, file: &ast::File) {
        let items = &file.items;
        let heads: Vec<Option<(u8, String)>> = items.iter().map(item_head).collect();
        let pads = self.pads(items.iter().map(|i| i.span), &heads);
        for (item, pad) in items.iter().zip(pads) {
            self.item(item, pad);
        }
    }

    /// Padding of each sibling's head: the widest head of its run of
    /// consecutive siblings of the same kind with no blank line between.
    fn pads<I>(&self, spans: I, heads: &[Option<(u8, String)>]) -> Vec<usize>
    where
        I: Iterator<Item = Span>,
    {
        let spans: Vec<Span> = spans.collect();
        let mut pads = vec![0; heads.len()];
        let mut i = 0;
        while i < heads.len() {
            let Some(Some((kind, _))) = heads.get(i) else {
                i += 1;
                continue;
            };
            let mut j = i + 1;
            while let (Some(Some((k, _))), Some(a), Some(b)) = (heads.get(j), spans.get(j - 1), spans.get(j))
            {
                if k != kind || self.blank_between(a.end, b.start) {
                    break;
                }
                j += 1;
            }
            let width = heads
                .get(i..j)
                .unwrap_or(&[])
                .iter()
                .filter_map(|h| h.as_ref().map(|(_, t)| t.chars().count()))
                .max()
                .unwrap_or(0);
            for p in pads.get_mut(i..j).unwrap_or(&mut []) {
                *p = width;
            }
            i = j;
        }
        pads
    }

    fn item(&mut self, item: &ast::Item, pad: usize) {
        let start = item.span.start;
        match &item.kind {
            ItemKind::Properties(decls) => {
                self.push(0, String::from("properties {"), start, start + 1, true);
                let heads: Vec<Option<(u8, String)>> = decls
                    .iter()
                    .map(|d| Some((0, format!("{}:", written_name(&d.name.name)))))
                    .collect();
                let pads = self.pads(decls.iter().map(|d| d.span), &heads);
                for (d, pad) in decls.iter().zip(pads) {
                    let text = format!(
                        "{} {}",
                        padded(&format!("{}:", written_name(&d.name.name)), pad),
                        property_type(d)
                    );
                    self.push(2, text, d.span.start, d.span.end, true);
                }
                self.close(0, item.span.end);
            }
            ItemKind::Events(decls) => {
                self.push(0, String::from("events {"), start, start + 1, true);
                let heads: Vec<Option<(u8, String)>> = decls
                    .iter()
                    .map(|d| Some((0, written_name(&d.name.name).into_owned())))
                    .collect();
                let pads = self.pads(decls.iter().map(|d| d.span), &heads);
                for (d, pad) in decls.iter().zip(pads) {
                    let text = match &d.props {
                        None => written_name(&d.name.name).into_owned(),
                        Some(props) if props.is_empty() => {
                            format!("{} {{}}", padded(&written_name(&d.name.name), pad))
                        }
                        Some(props) => {
                            let inner: Vec<String> = props
                                .iter()
                                .map(|p| format!("{}: {}", written_name(&p.name.name), property_type(p)))
                                .collect();
                            format!(
                                "{} {{ {} }}",
                                padded(&written_name(&d.name.name), pad),
                                inner.join("  ")
                            )
                        }
                    };
                    self.push(2, text, d.span.start, d.span.end, true);
                }
                self.close(0, item.span.end);
            }
            ItemKind::Const(c) => {
                let text = format!(
                    "{} = {}",
                    padded(&format!("const {}", written_name(&c.name.name)), pad),
                    expr(&c.value, 0)
                );
                self.push(0, text, start, item.span.end, true);
            }
            ItemKind::Segment(s) => self.when_item(
                &format!("segment {}", written_name(&s.name.name)),
                pad,
                s.name.span.end,
                &s.condition,
                start,
                "",
                item.span.end,
            ),
            ItemKind::Audience(t) => self.when_item(
                &target_head("audience", &t.name, &t.reach),
                pad,
                target_head_end(&t.name, &t.reach),
                &t.condition,
                start,
                &despite_suffix(&t.reach, ""),
                item.span.end,
            ),
            ItemKind::Workflow(t) => self.when_item(
                &target_head("workflow", &t.name, &t.reach),
                pad,
                target_head_end(&t.name, &t.reach),
                &t.condition,
                start,
                &despite_suffix(&t.reach, ""),
                item.span.end,
            ),
            ItemKind::Channel(c) => {
                self.push(
                    0,
                    format!("channel {}", written_name(&c.name.name)),
                    start,
                    item.span.end,
                    true,
                );
            }
            ItemKind::Suppress(s) => {
                let channels: Vec<String> = s
                    .channels
                    .iter()
                    .map(|c| written_name(&c.name).into_owned())
                    .collect();
                let head_end = s.channels.last().map_or(s.name.span.end, |c| c.span.end);
                self.when_item(
                    &format!(
                        "suppress {} on {}",
                        written_name(&s.name.name),
                        channels.join(", ")
                    ),
                    0,
                    head_end,
                    &s.condition,
                    start,
                    "",
                    item.span.end,
                );
            }
            ItemKind::Score(s) if s.value.is_some() => {
                let value = s.value.as_ref().map(|v| expr(v, 4)).unwrap_or_default();
                let text = format!(
                    "score {} {}..{} = {value}",
                    written_name(&s.name.name),
                    number(s.low.value),
                    number(s.high.value)
                );
                self.push(0, text, start, item.span.end, true);
            }
            ItemKind::Score(s) => {
                let text = format!(
                    "score {} {}..{} {{",
                    written_name(&s.name.name),
                    number(s.low.value),
                    number(s.high.value)
                );
                self.push(0, text, start, s.range_span.end, true);
                let heads: Vec<Option<(u8, String)>> = s
                    .rules
                    .iter()
                    .map(|r| match r.body {
                        RuleBody::First(_) => None,
                        _ => Some((0, string(&r.label.value))),
                    })
                    .collect();
                let pads = self.pads(s.rules.iter().map(|r| r.span), &heads);
                for (rule, pad) in s.rules.iter().zip(pads) {
                    self.score_rule(rule, pad);
                }
                self.close(0, item.span.end);
            }
            ItemKind::Band(b) => {
                self.push(
                    0,
                    format!("band {} {{", written_name(&b.name.name)),
                    start,
                    b.name.span.end,
                    true,
                );
                self.branches(&b.branches, 2);
                self.close(0, item.span.end);
            }
            ItemKind::Route(r) => {
                self.when_item(
                    &target_head("route", &r.name, &r.reach),
                    0,
                    target_head_end(&r.name, &r.reach),
                    &r.condition,
                    start,
                    &despite_suffix(&r.reach, " {"),
                    despite_end(&r.reach),
                );
                for field in &r.fields {
                    let fs = field.span;
                    match &field.kind {
                        RouteFieldKind::Task(t) => {
                            self.push(2, format!("task {}", string(&t.value)), fs.start, fs.end, true)
                        }
                        RouteFieldKind::Sla(d) => {
                            self.push(2, format!("sla {}", duration(d)), fs.start, fs.end, true)
                        }
                        RouteFieldKind::Queue(q) => self.push(
                            2,
                            format!("queue {}", routing::route_pick(q)),
                            fs.start,
                            fs.end,
                            true,
                        ),
                        RouteFieldKind::Assign(a) => self.push(
                            2,
                            format!("assign to {}", routing::route_pick(a)),
                            fs.start,
                            fs.end,
                            true,
                        ),
                        RouteFieldKind::QueueFirst(branches) => {
                            self.push(2, String::from("queue first {"), fs.start, fs.start + 1, true);
                            self.queue_branches(branches, 4);
                            self.close(2, fs.end);
                        }
                    }
                }
                self.close(0, item.span.end);
            }
            ItemKind::Table(t) => self.table(t, start, item.span.end),
            ItemKind::Goal(g) => {
                self.push(
                    0,
                    format!("goal {} {{", written_name(&g.name.name)),
                    start,
                    g.name.span.end,
                    true,
                );
                for field in &g.fields {
                    let fs = field.span;
                    let text = match &field.kind {
                        GoalFieldKind::Outcome(types) => format!(
                            "outcome {}",
                            types
                                .iter()
                                .map(|t| written_name(&t.name))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        GoalFieldKind::Horizon(d) => format!("horizon {}", duration(d)),
                        GoalFieldKind::ValueSumOf(v) => format!("value sum of {}", written_name(&v.name)),
                    };
                    self.push(2, text, fs.start, fs.end, true);
                }
                self.close(0, item.span.end);
            }
        }
    }

    /// `HEAD when CONDITION[SUFFIX]`, broken before `when` when the source
    /// did or the line is too long.
    /// An item `HEAD when CONDITION SUFFIX`; the suffix (`despite …`, ` {`)
    /// is glued to the condition's last line, which then ends at `line_end`
    /// in the source (the item's end, or the end of its `despite …`), so
    /// that a blank line inside a closing parenthesis or before `despite`
    /// is not kept after it.
    #[allow(clippy::too_many_arguments)]
    fn when_item(
        &mut self,
        head: &str,
        pad: usize,
        head_end: u32,
        cond: &Expr,
        start: u32,
        suffix: &str,
        line_end: u32,
    ) {
        let broken = self.newline_between(head_end, cond.span.start);
        let layout = Layout { op_indent: 4 };
        let head_text = if broken {
            head.to_string()
        } else {
            padded(head, pad)
        };
        let mut pieces = vec![Piece {
            text: head_text,
            start,
            end: head_end,
            brk: None,
        }];
        let mut cond_pieces = self.cond_pieces("when ", cond, &layout, broken.then_some(2));
        if let Some(last) = cond_pieces.last_mut() {
            last.text.push_str(suffix);
            last.end = last.end.max(line_end);
        }
        pieces.extend(cond_pieces);
        self.emit(0, pieces, Some((1, 2)));
    }

    fn score_rule(&mut self, rule: &ast::ScoreRule, pad: usize) {
        let label = string(&rule.label.value);
        match &rule.body {
            RuleBody::First(rows) => {
                self.push(
                    2,
                    format!("{label} first {{"),
                    rule.span.start,
                    rule.label.span.end,
                    true,
                );
                let heads: Vec<Option<(u8, String)>> = rows
                    .iter()
                    .map(|r| Some((0, r.label.as_ref().map(|l| string(&l.value)).unwrap_or_default())))
                    .collect();
                let pads = self.pads(rows.iter().map(|r| r.span), &heads);
                for (row, pad) in rows.iter().zip(pads) {
                    let label = row.label.as_ref().map(|l| string(&l.value)).unwrap_or_default();
                    let head = if pad == 0 {
                        String::new()
                    } else {
                        format!("{} ", padded(&label, pad))
                    };
                    self.when_rule(&head, 4, &row.rule, row.span.start);
                }
                self.close(2, rule.span.end);
            }
            RuleBody::When(w) => {
                let head = format!("{} ", padded(&label, pad));
                self.when_rule(&head, 2, w, rule.span.start);
            }
            RuleBody::Each(e) => {
                let head = format!("{} ", padded(&label, pad));
                let body_col = 2 + head.chars().count();
                let mut text = format!("{head}each {}", written_name(&e.event.name));
                let mut end = e.event.span.end;
                if let Some(f) = &e.filter {
                    text.push(' ');
                    text.push_str(&filter(f));
                    end = f.span.end;
                }
                if let Some(w) = &e.window {
                    text.push_str(&format!(" {}", window(w)));
                    end = w.span.end;
                }
                let arrow_broken = self.newline_between(end, e.points.span.start);
                let pieces = vec![
                    Piece {
                        text,
                        start: rule.span.start,
                        end,
                        brk: None,
                    },
                    Piece {
                        text: match &e.computed {
                            Some(computed) => computed_arrow(computed, &e.modifiers),
                            None => arrow(e.points.value, &e.modifiers),
                        },
                        start: e.points.span.start,
                        end: rule.span.end,
                        brk: arrow_broken.then_some(body_col),
                    },
                ];
                self.emit(2, pieces, Some((1, body_col)));
            }
        }
    }

    /// `[head]when CONDITION => POINTS modifiers` at `indent`.
    fn when_rule(&mut self, head: &str, indent: usize, w: &ast::WhenRule, start: u32) {
        let body_col = indent + head.chars().count();
        let layout = Layout {
            op_indent: body_col + 2,
        };
        let mut pieces = self.cond_pieces(&format!("{head}when "), &w.condition, &layout, None);
        if let Some(first) = pieces.first_mut() {
            first.start = start;
        }
        let arrow_broken = self.newline_between(w.condition.span.end, w.points.span.start);
        let index = pieces.len();
        pieces.push(Piece {
            text: match &w.computed {
                Some(computed) => computed_arrow(computed, &w.modifiers),
                None => arrow(w.points.value, &w.modifiers),
            },
            start: w.points.span.start,
            end: w.span.end,
            brk: arrow_broken.then_some(body_col),
        });
        self.emit(indent, pieces, Some((index, body_col)));
    }

    fn branches(&mut self, branches: &[ast::Branch], indent: usize) {
        let heads: Vec<Option<(u8, String)>> = branches
            .iter()
            .map(|b| Some((0, written_band_value(&b.value.name).into_owned())))
            .collect();
        let pads = self.pads(branches.iter().map(|b| b.span), &heads);
        for (b, pad) in branches.iter().zip(pads) {
            let head = padded(&written_band_value(&b.value.name), pad);
            self.branch(indent, &head, b.span, b.condition.as_ref(), "");
        }
    }

    /// One first-match branch: `HEAD when CONDITION[SUFFIX]` or
    /// `HEAD otherwise[SUFFIX]` (a queue branch's suffix is its ` sla …`).
    fn branch(&mut self, indent: usize, head: &str, span: Span, condition: Option<&Expr>, suffix: &str) {
        match condition {
            None => self.push(
                indent,
                format!("{head} otherwise{suffix}"),
                span.start,
                span.end,
                true,
            ),
            Some(c) => {
                let body_col = indent + head.chars().count() + 1;
                let layout = Layout {
                    op_indent: body_col + 2,
                };
                let mut pieces = self.cond_pieces(&format!("{head} when "), c, &layout, None);
                if let Some(first) = pieces.first_mut() {
                    first.start = span.start;
                }
                if let (Some(last), false) = (pieces.last_mut(), suffix.is_empty()) {
                    last.text.push_str(suffix);
                    last.end = span.end;
                }
                self.emit(indent, pieces, None);
            }
        }
    }
}

/// The alignable head of an item: its kind and the text before `when`/`=`.
fn item_head(item: &ast::Item) -> Option<(u8, String)> {
    match &item.kind {
        ItemKind::Const(c) => Some((1, format!("const {}", written_name(&c.name.name)))),
        ItemKind::Segment(s) => Some((2, format!("segment {}", written_name(&s.name.name)))),
        ItemKind::Audience(t) => Some((3, target_head("audience", &t.name, &t.reach))),
        ItemKind::Workflow(t) => Some((4, target_head("workflow", &t.name, &t.reach))),
        _ => None,
    }
}

/// `audience NAME` or `audience NAME on CHANNEL`.
fn target_head(kind: &str, name: &ast::Ident, reach: &ast::TargetReach) -> String {
    match &reach.channel {
        Some(channel) => format!(
            "{kind} {} on {}",
            written_name(&name.name),
            written_name(&channel.name)
        ),
        None => format!("{kind} {}", written_name(&name.name)),
    }
}

fn target_head_end(name: &ast::Ident, reach: &ast::TargetReach) -> u32 {
    reach.channel.as_ref().map_or(name.span.end, |c| c.span.end)
}

/// Where a target's `despite …` ends in the source (0 without one).
fn despite_end(reach: &ast::TargetReach) -> u32 {
    reach.despite.last().map_or(0, |d| d.span.end)
}

/// ` despite customer, opted_out` (empty without exemptions), then `suffix`.
fn despite_suffix(reach: &ast::TargetReach, suffix: &str) -> String {
    if reach.despite.is_empty() {
        return suffix.to_string();
    }
    let names: Vec<String> = reach
        .despite
        .iter()
        .map(|d| written_name(&d.name).into_owned())
        .collect();
    format!(" despite {}{suffix}", names.join(", "))
}

fn padded(text: &str, width: usize) -> String {
    let len = text.chars().count();
    if len >= width {
        text.to_string()
    } else {
        format!("{text}{}", " ".repeat(width - len))
    }
}

fn property_type(d: &ast::PropertyDecl) -> String {
    let mut text = d.type_name.name.clone();
    if d.from_text.is_some() {
        text.push_str(" from text");
    }
    if let Some(separator) = &d.separator {
        text.push_str(&format!(" separated by {}", string(&separator.value)));
    }
    if let Some(values) = &d.allowed {
        let list: Vec<String> = values.iter().map(|v| expr(v, 0)).collect();
        text.push_str(&format!(" one of [{}]", list.join(", ")));
    }
    text
}

/// `=> +10 decay half-life 7 days, max 40`
/// `=> + webinar_minutes * 0.5 max 20`: the sign, a space, the value.
fn computed_arrow(computed: &ast::ComputedPoints, modifiers: &[ast::Modifier]) -> String {
    let value = match &computed.value.kind {
        // The sign applies to the whole value: `- (a + b)`, not `- a + b`.
        ExprKind::Arith { rest, .. }
            if computed.negated
                && !computed.value.parenthesized
                && rest.first().is_some_and(|(op, _)| !op.is_multiplicative()) =>
        {
            format!("({})", expr(&computed.value, 4))
        }
        _ => expr(&computed.value, 4),
    };
    let sign = if computed.negated { "-" } else { "+" };
    with_modifiers(format!("=> {sign} {value}"), modifiers)
}

fn arrow(points: f64, modifiers: &[ast::Modifier]) -> String {
    let sign = if points >= 0.0 && !(points == 0.0 && points.is_sign_negative()) {
        "+"
    } else {
        ""
    };
    with_modifiers(format!("=> {sign}{}", number(points)), modifiers)
}

fn with_modifiers(mut text: String, modifiers: &[ast::Modifier]) -> String {
    let mods: Vec<String> = modifiers
        .iter()
        .map(|m| match &m.kind {
            ModifierKind::Decay(d) => format!("decay half-life {}", duration(d)),
            ModifierKind::Max(n) => format!("max {}", number(n.value)),
            ModifierKind::Min(n) => format!("min {}", number(n.value)),
        })
        .collect();
    if !mods.is_empty() {
        text.push(' ');
        text.push_str(&mods.join(", "));
    }
    text
}

/// A number as written in a rule file (no exponent, shortest round trip).
pub fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 && !(n == 0.0 && n.is_sign_negative()) {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn duration(d: &ast::Duration) -> String {
    format!("{} {}", number(d.amount), d.unit.name)
}

/// `within 30 days`, `within next 3 days`, `between 8 and 30 days ago`.
fn window(w: &ast::Window) -> String {
    match &w.kind {
        ast::WindowKind::Within(d) => format!("within {}", duration(d)),
        ast::WindowKind::Next(d) => format!("within next {}", duration(d)),
        ast::WindowKind::Ago { low, high } => {
            format!("between {} and {} ago", number(low.amount), duration(high))
        }
    }
}

/// A string literal with the four escapes of the language.
fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `where TEST`, or `where (CONDITION)` unless it is one test with an operator.
fn filter(f: &Expr) -> String {
    let plain_test = matches!(
        f.kind,
        ExprKind::Compare { .. }
            | ExprKind::In { .. }
            | ExprKind::Matches { .. }
            | ExprKind::Text { .. }
            | ExprKind::Is { .. }
            | ExprKind::Within { .. }
            | ExprKind::TimeWindow { .. }
            | ExprKind::Between { .. }
    );
    if plain_test || f.parenthesized {
        format!("where {}", expr(f, 0))
    } else {
        format!("where ({})", expr(f, 0))
    }
}

/// A part of an arithmetic chain of `parent` operators, in parentheses
/// when it is a chain that needs them to parse back as the same tree.
fn arith_part(part: &Expr, parent: ArithOp) -> String {
    let text = expr(part, 4);
    match &part.kind {
        ExprKind::Arith { rest, .. }
            if !part.parenthesized
                && rest
                    .first()
                    .is_some_and(|(op, _)| op.needs_parentheses_in(parent)) =>
        {
            format!("({text})")
        }
        _ => text,
    }
}

fn ignoring(ic: bool) -> &'static str {
    if ic {
        " ignoring case"
    } else {
        ""
    }
}

/// A condition or operand on one line. `ctx` is the precedence of the
/// surrounding operator: 1 inside `or`, 2 inside `and`, 3 after `not`.
/// Nested `or` in `or` (and `and` in `and`) keep their parentheses, so the
/// printed text parses back to the same tree. Parentheses the writer put
/// are printed again (one pair, however many were written), and then none
/// are added for `ctx`.
fn expr(e: &Expr, ctx: u8) -> String {
    if e.parenthesized {
        return format!("({})", expr_as_needed(e, 0));
    }
    expr_as_needed(e, ctx)
}

/// [`expr`] without the writer's parentheses around `e` itself: only the
/// ones `ctx` needs.
fn expr_as_needed(e: &Expr, ctx: u8) -> String {
    match &e.kind {
        ExprKind::Or(parts) => {
            let text = parts.iter().map(|p| expr(p, 1)).collect::<Vec<_>>().join(" or ");
            if ctx >= 1 {
                format!("({text})")
            } else {
                text
            }
        }
        ExprKind::And(parts) => {
            let text = parts.iter().map(|p| expr(p, 2)).collect::<Vec<_>>().join(" and ");
            if ctx >= 2 {
                format!("({text})")
            } else {
                text
            }
        }
        ExprKind::Not(inner) => format!("not {}", expr(inner, 3)),
        ExprKind::Compare {
            op,
            left,
            right,
            ignore_case,
        } => format!(
            "{} {} {}{}",
            expr(left, 4),
            op.symbol(),
            expr(right, 4),
            ignoring(*ignore_case)
        ),
        ExprKind::In {
            left,
            list,
            negated,
            ignore_case,
        } => format!(
            "{} {}in {}{}",
            expr(left, 4),
            if *negated { "not " } else { "" },
            expr(list, 4),
            ignoring(*ignore_case)
        ),
        ExprKind::Matches {
            left,
            pattern,
            ignore_case,
        } => format!(
            "{} matches {}{}",
            expr(left, 4),
            expr(pattern, 4),
            ignoring(*ignore_case)
        ),
        ExprKind::Text {
            op,
            left,
            right,
            ignore_case,
        } => format!(
            "{} {} {}{}",
            expr(left, 4),
            op.words(),
            expr(right, 4),
            ignoring(*ignore_case)
        ),
        ExprKind::Is {
            left,
            negated,
            target,
        } => {
            let target = match target {
                IsTarget::Null => String::from("null"),
                IsTarget::Bool(b) => b.to_string(),
                IsTarget::Name(n) => written_band_value(&n.name).into_owned(),
            };
            format!(
                "{} is {}{}",
                expr(left, 4),
                if *negated { "not " } else { "" },
                target
            )
        }
        ExprKind::Within { left, window } => format!("{} within {}", expr(left, 4), duration(window)),
        ExprKind::TimeWindow { left, window: w } => format!("{} {}", expr(left, 4), window(w)),
        ExprKind::Between { left, low, high } => {
            format!("{} between {} and {}", expr(left, 4), expr(low, 4), expr(high, 4))
        }
        ExprKind::Has {
            left,
            quantifier,
            right,
            ignore_case,
        } => format!(
            "{} {} {}{}",
            expr(left, 4),
            quantifier.words(),
            expr(right, 4),
            ignoring(*ignore_case)
        ),
        ExprKind::Name(id) => written_name(&id.name).into_owned(),
        ExprKind::Arith { first, rest } => {
            let parent = rest.first().map_or(ArithOp::Add, |(op, _)| *op);
            let part = |p: &Expr| arith_part(p, parent);
            let mut text = part(first);
            for (op, p) in rest {
                text.push_str(&format!(" {} {}", op.symbol(), part(p)));
            }
            text
        }
        ExprKind::Call { function, args } => {
            let args: Vec<String> = args.iter().map(|a| expr(a, 4)).collect();
            format!("{}({})", function.name, args.join(", "))
        }
        ExprKind::Aggregate(a) => {
            let mut text = match a.kind {
                AggregateKind::Count => format!("count of {}", written_name(&a.event.name)),
                AggregateKind::Any => format!("any {}", written_name(&a.event.name)),
                AggregateKind::Last => format!("last {}", written_name(&a.event.name)),
                _ => crate::syntax::aggregate_head(a),
            };
            if let Some(f) = &a.filter {
                text.push(' ');
                text.push_str(&filter(f));
            }
            if let Some(w) = &a.window {
                text.push_str(&format!(" {}", window(w)));
            }
            text
        }
        ExprKind::ContactField(name) => format!("contact.{}", written_name(&name.name)),
        ExprKind::Literal(lit) => match lit {
            Literal::Str(s) => string(s),
            Literal::Number(n) => number(*n),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => String::from("null"),
            Literal::Regex { pattern, flags } => format!("/{}/{flags}", pattern.replace('/', "\\/")),
            Literal::List(items) => {
                let items: Vec<String> = items.iter().map(|i| expr(i, 4)).collect();
                format!("[{}]", items.join(", "))
            }
        },
    }
}

/// One output element: a printed line or a comment on its own line.
struct Out {
    indent: usize,
    text: String,
    start: u32,
    end: u32,
    blank_ok: bool,
    opener: bool,
    closer: bool,
    comment: bool,
}

/// Puts the comments back and renders the final text.
fn merge(src: &str, lines: &[Line]) -> String {
    let all = comments::scan(src);
    let mut trailing: Vec<Vec<String>> = vec![Vec::new(); lines.len()];
    // Own-line comments grouped by the index of the line they go before
    // (`lines.len()` for the end of the file).
    let mut before: Vec<Vec<&comments::Comment>> = vec![Vec::new(); lines.len() + 1];
    for c in &all {
        let offset = u32::try_from(c.start).unwrap_or(u32::MAX);
        if c.own_line {
            let index = lines.iter().position(|l| l.start > offset).unwrap_or(lines.len());
            if let Some(slot) = before.get_mut(index) {
                slot.push(c);
            }
        } else {
            let index = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.start <= offset)
                .max_by_key(|(_, l)| l.start)
                .map(|(i, _)| i);
            match index.and_then(|i| trailing.get_mut(i)) {
                Some(slot) => slot.push(c.text(src).to_string()),
                None => {
                    if let Some(slot) = before.get_mut(0) {
                        slot.push(c);
                    }
                }
            }
        }
    }
    let mut outs: Vec<Out> = Vec::new();
    for (i, group) in before.iter().enumerate() {
        let next = lines.get(i);
        let indent = match next {
            Some(l) if l.closer => l.indent + 2,
            Some(l) => l.indent,
            None => 0,
        };
        // A comment before a continuation line stays glued to it.
        let blank_ok = next.is_none_or(|l| l.closer || l.blank_ok);
        for c in group {
            outs.push(Out {
                indent,
                text: c.text(src).to_string(),
                start: u32::try_from(c.start).unwrap_or(u32::MAX),
                end: u32::try_from(c.end).unwrap_or(u32::MAX),
                blank_ok,
                opener: false,
                closer: false,
                comment: true,
            });
        }
        if let Some(line) = next {
            let mut text = line.text.clone();
            if let Some(comments) = trailing.get(i) {
                for c in comments {
                    text.push_str("  ");
                    text.push_str(c);
                }
            }
            outs.push(Out {
                indent: line.indent,
                text,
                start: line.start,
                end: line.end,
                blank_ok: line.blank_ok,
                opener: line.opener,
                closer: line.closer,
                comment: false,
            });
        }
    }
    let blank_between = |a: u32, b: u32| {
        if a >= b {
            return false;
        }
        let text = src.get(a as usize..b as usize).unwrap_or("");
        let pieces: Vec<&str> = text.split('\n').collect();
        let inner = pieces.len().saturating_sub(1);
        pieces.iter().take(inner).skip(1).any(|l| l.trim().is_empty())
    };
    let mut text = String::new();
    let mut prev: Option<&Out> = None;
    // Only blank lines after the last printed code count: a comment moved
    // out of a line must not bring the blank lines of that line with it.
    let mut code_end = 0u32;
    for out in &outs {
        if let Some(p) = prev {
            let from = p.end.max(code_end);
            if out.blank_ok && !p.opener && !out.closer && blank_between(from, out.start) {
                text.push('\n');
            }
        }
        if !out.comment {
            code_end = code_end.max(out.end);
        }
        let line = format!("{}{}", " ".repeat(out.indent), out.text);
        text.push_str(line.trim_end());
        text.push('\n');
        prev = Some(out);
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Regression: the comment scanner read a `#` inside a quoted name as a
    /// comment, and a `/` inside one as the start of a regular expression
    /// (losing the comment after it).
    #[test]
    fn keeps_every_comment_next_to_hashes_and_slashes_in_literals() {
        let text = "properties {\n  `lead#score`: number\n  `a/b`: number\n  url: text\n}\n\n\
                    # own line\n\
                    segment s when `lead#score` >= 1 # after a quoted name\n\
                    segment t when url matches /a#b\\/c/i # after a regex\n\
                    segment u when `a/b` >= 1 and url == \"#x\" # after a slash in a name\n";
        let formatted = format_source(text).expect("formats");
        for comment in [
            "# own line",
            "# after a quoted name",
            "# after a regex",
            "# after a slash in a name",
        ] {
            assert_eq!(formatted.matches(comment).count(), 1, "{comment}\n{formatted}");
        }
        assert_eq!(
            formatted.matches('#').count(),
            text.matches('#').count(),
            "{formatted}"
        );
        assert_eq!(format_source(&formatted).expect("formats again"), formatted);
    }

    const MESSY: &str = "# header\nconst a=\"x\"   # trailing\nsegment   s when a == \"x\"\n";
    const FORMATTED: &str = "# header\nconst a = \"x\"  # trailing\nsegment s when a == \"x\"\n";

    #[test]
    fn an_lf_file_is_formatted_with_lf() {
        assert_eq!(format_keeping_line_endings(MESSY).unwrap(), FORMATTED);
    }

    #[test]
    fn a_crlf_file_stays_crlf() {
        let crlf = MESSY.replace('\n', "\r\n");
        assert_eq!(
            format_keeping_line_endings(&crlf).unwrap(),
            FORMATTED.replace('\n', "\r\n")
        );
    }

    #[test]
    fn mixed_endings_become_the_dominant_one() {
        let mostly_crlf = "# header\r\nconst a = \"x\"  # trailing\r\nsegment s when a == \"x\"\n";
        assert_eq!(
            format_keeping_line_endings(mostly_crlf).unwrap(),
            FORMATTED.replace('\n', "\r\n")
        );
        let mostly_lf = "# header\nconst a = \"x\"  # trailing\r\nsegment s when a == \"x\"\n";
        assert_eq!(format_keeping_line_endings(mostly_lf).unwrap(), FORMATTED);
    }

    #[test]
    fn change_tells_line_endings_from_layout() {
        let crlf = FORMATTED.replace('\n', "\r\n");
        assert_eq!(change(FORMATTED, FORMATTED), Change::Unchanged);
        assert_eq!(change(&crlf, FORMATTED), Change::LineEndingsOnly);
        assert_eq!(change(MESSY, FORMATTED), Change::Layout);
    }

    #[test]
    fn syntax_errors_in_a_crlf_file_are_returned() {
        assert!(format_keeping_line_endings("segment s when\r\n").is_err());
    }
}
