//! Lints: warnings about rules that compile but are probably not what was
//! meant (`rubric check` reports them; `--deny-warnings` makes them fail).
//!
//! Each lint has a name (`unused_constant`), a code (`rubric::lint::unused_constant`)
//! and a section in `docs/errors.md`. A `# rubric: allow(name, …)` comment on
//! the line before an item, a score rule or a band branch (or at the end of
//! its first line) silences the named lints inside it.
//!
//! The analyses are conservative: a lint fires only when the conditions prove
//! the problem (a branch every contact of which an earlier branch takes, a
//! threshold the score's rules cannot add up to, …), never on a guess.

use std::collections::{BTreeMap, BTreeSet};

use super::types::fmt_number;
use crate::diagnostics::{Diagnostic, DiagnosticKind, Lint};
use crate::ops::AggregateKind;
use crate::plan::{BandId, Channel, Cond, ConstValue, Function, Operand, Plan, ScoreId, ScoreRuleKind};
use crate::source::{Sources, Span};
use crate::syntax::ast::{self, CompareOp, ExprKind, ItemKind, Literal, RouteFieldKind, RuleBody};
use crate::syntax::comments;

/// Runs every lint on a rule set that compiled; returns warnings, minus those
/// allowed by annotations.
pub fn lint(sources: &Sources, files: &[ast::File], plan: &Plan) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let ranges = Ranges::new(plan);
    shadowed_branches(plan, &mut out);
    thresholds(plan, &ranges, &mut out);
    overlapping_workflows(plan, &mut out);
    customer_suppression(plan, &mut out);
    unused(files, plan, &mut out);
    confusable_target_names(plan, &mut out);
    negations_on_missing(sources, plan, &mut out);
    ascending_band_ordered(sources, plan, &mut out);
    super::channel_lints::exemptions_off_channel(files, plan, &mut out);
    super::channel_lints::unused_channels(files, plan, &mut out);
    super::channel_lints::suppressions_always_waived(plan, &mut out);
    super::routing_lints::routing_lints(files, plan, &mut out);
    let allowed = allowances(sources, files);
    out.retain(|d| {
        let name = d.kind.lint().map_or("", Lint::name);
        !allowed
            .iter()
            .any(|(span, names)| contains(*span, d.span) && names.iter().any(|n| n == name))
    });
    out.sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
    out
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.file == inner.file && outer.start <= inner.start && inner.end <= outer.end
}

// ------------------------------------------------------------- allowances

/// Spans silenced by `# rubric: allow(…)` comments, with the names they allow.
fn allowances(sources: &Sources, files: &[ast::File]) -> Vec<(Span, Vec<String>)> {
    let mut out = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let Some(source) = sources.files.get(index) else {
            continue;
        };
        let text: &str = &source.text;
        let annotations: Vec<(usize, Vec<String>)> = comments::scan(text)
            .iter()
            .filter_map(|c| {
                let names = c.allowed_lints(text);
                (!names.is_empty()).then(|| (c.line, names.into_iter().map(String::from).collect()))
            })
            .collect();
        if annotations.is_empty() {
            continue;
        }
        let line_of = |offset: u32| text.get(..offset as usize).map_or(0, |t| t.matches('\n').count());
        let mut targets: Vec<Span> = Vec::new();
        for item in &file.items {
            targets.push(item.span);
            match &item.kind {
                ItemKind::Score(s) => {
                    for rule in &s.rules {
                        targets.push(rule.span);
                        if let RuleBody::First(rows) = &rule.body {
                            targets.extend(rows.iter().map(|r| r.span));
                        }
                    }
                }
                ItemKind::Band(b) => targets.extend(b.branches.iter().map(|b| b.span)),
                _ => {}
            }
        }
        // Lines that hold nothing but a comment or spaces.
        let lines: Vec<&str> = text.lines().collect();
        let is_blank_or_comment = |l: usize| {
            lines
                .get(l)
                .is_some_and(|t| t.trim().is_empty() || t.trim_start().starts_with('#'))
        };
        for (line, names) in annotations {
            // The first line after the annotation that holds code, or the
            // annotation's own line when code comes before it.
            let mut target_line = line;
            if lines.get(line).is_some_and(|t| t.trim_start().starts_with('#')) {
                target_line = line + 1;
                while target_line < lines.len() && is_blank_or_comment(target_line) {
                    target_line += 1;
                }
            }
            for span in targets.iter().filter(|s| line_of(s.start) == target_line) {
                out.push((*span, names.clone()));
            }
        }
    }
    out
}

// ----------------------------------------------------- conditions as sets

/// A closed-or-open interval of numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Interval {
    lo: f64,
    lo_open: bool,
    hi: f64,
    hi_open: bool,
}

impl Interval {
    fn closed(lo: f64, hi: f64) -> Interval {
        Interval {
            lo,
            lo_open: false,
            hi,
            hi_open: false,
        }
    }

    fn empty(&self) -> bool {
        self.lo > self.hi || (self.lo == self.hi && (self.lo_open || self.hi_open))
    }

    fn intersect(&self, other: &Interval) -> Interval {
        let (lo, lo_open) = if self.lo > other.lo {
            (self.lo, self.lo_open)
        } else if other.lo > self.lo {
            (other.lo, other.lo_open)
        } else {
            (self.lo, self.lo_open || other.lo_open)
        };
        let (hi, hi_open) = if self.hi < other.hi {
            (self.hi, self.hi_open)
        } else if other.hi < self.hi {
            (other.hi, other.hi_open)
        } else {
            (self.hi, self.hi_open || other.hi_open)
        };
        Interval {
            lo,
            lo_open,
            hi,
            hi_open,
        }
    }

    /// Whether every number of `self` is in `other`.
    fn within(&self, other: &Interval) -> bool {
        if self.empty() {
            return true;
        }
        let lo_ok = self.lo > other.lo || (self.lo == other.lo && (self.lo_open || !other.lo_open));
        let hi_ok = self.hi < other.hi || (self.hi == other.hi && (self.hi_open || !other.hi_open));
        lo_ok && hi_ok
    }

    /// The numbers `x` with `x op n`.
    fn of_test(op: CompareOp, n: f64) -> Option<Interval> {
        let inf = f64::INFINITY;
        let open = |lo: f64, lo_open: bool, hi: f64, hi_open: bool| Interval {
            lo,
            lo_open,
            hi,
            hi_open,
        };
        Some(match op {
            CompareOp::Eq => Interval::closed(n, n),
            CompareOp::Ge => open(n, false, inf, false),
            CompareOp::Gt => open(n, true, inf, false),
            CompareOp::Le => open(-inf, false, n, false),
            CompareOp::Lt => open(-inf, false, n, true),
            CompareOp::Ne => return None,
        })
    }

    fn complement_of_test(op: CompareOp, n: f64) -> Option<Interval> {
        let flipped = match op {
            CompareOp::Ge => CompareOp::Lt,
            CompareOp::Gt => CompareOp::Le,
            CompareOp::Le => CompareOp::Gt,
            CompareOp::Lt => CompareOp::Ge,
            CompareOp::Ne => CompareOp::Eq,
            CompareOp::Eq => return None,
        };
        Interval::of_test(flipped, n)
    }
}

/// One conjunction of facts about a contact.
#[derive(Debug, Clone, Default)]
struct Conj {
    scores: BTreeMap<ScoreId, Interval>,
    bands: BTreeMap<BandId, u64>,
    /// Property-like operand → the values it must equal (one of).
    values: BTreeMap<String, BTreeSet<String>>,
    /// Other tests, by a span-free key; `!key` for a negated one.
    other: BTreeSet<String>,
}

impl Conj {
    fn and(&self, other: &Conj, plan: &Plan) -> Option<Conj> {
        let mut out = self.clone();
        for (id, iv) in &other.scores {
            let merged = out.scores.get(id).map_or(*iv, |mine| mine.intersect(iv));
            out.scores.insert(*id, merged);
        }
        for (id, mask) in &other.bands {
            let merged = out.bands.get(id).map_or(*mask, |mine| mine & mask);
            out.bands.insert(*id, merged);
        }
        for (key, set) in &other.values {
            let merged: BTreeSet<String> = match out.values.get(key) {
                Some(mine) => mine.intersection(set).cloned().collect(),
                None => set.clone(),
            };
            out.values.insert(key.clone(), merged);
        }
        out.other.extend(other.other.iter().cloned());
        out.satisfiable(plan).then_some(out)
    }

    fn satisfiable(&self, plan: &Plan) -> bool {
        let scores_ok = self.scores.iter().all(|(id, iv)| {
            let range = score_range(plan, *id);
            !iv.intersect(&range).empty()
        });
        let bands_ok = self.bands.values().all(|mask| *mask != 0);
        let values_ok = self.values.values().all(|set| !set.is_empty());
        let other_ok = !self
            .other
            .iter()
            .any(|k| !k.starts_with('!') && self.other.contains(&format!("!{k}")));
        scores_ok && bands_ok && values_ok && other_ok
    }

    /// Whether every contact satisfying `self` satisfies `other`.
    fn implies(&self, other: &Conj, plan: &Plan) -> bool {
        let scores = other.scores.iter().all(|(id, theirs)| {
            let range = score_range(plan, *id);
            let mine = self.scores.get(id).map_or(range, |m| m.intersect(&range));
            mine.within(theirs)
        });
        let bands = other.bands.iter().all(|(id, theirs)| {
            let all = band_mask(plan, *id);
            let mine = self.bands.get(id).copied().unwrap_or(all);
            mine & !theirs == 0
        });
        let values = other
            .values
            .iter()
            .all(|(k, theirs)| self.values.get(k).is_some_and(|mine| mine.is_subset(theirs)));
        let others = other.other.is_subset(&self.other);
        scores && bands && values && others
    }
}

fn score_range(plan: &Plan, id: ScoreId) -> Interval {
    plan.scores
        .get(id.index())
        .map_or(Interval::closed(f64::NEG_INFINITY, f64::INFINITY), |s| {
            Interval::closed(s.low, s.high)
        })
}

fn band_mask(plan: &Plan, id: BandId) -> u64 {
    let n = plan.bands.get(id.index()).map_or(64, |b| b.values.len());
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// At most this many conjunctions; beyond it a condition is not analysed.
const MAX_CONJS: usize = 64;

/// A condition as a disjunction of conjunctions (`None` when too large).
/// Segments are expanded (to a small depth).
fn dnf(cond: &Cond, negated: bool, plan: &Plan, depth: u8) -> Option<Vec<Conj>> {
    let single = |c: Conj| Some(vec![c]);
    match cond {
        Cond::Const(b) => {
            if *b != negated {
                single(Conj::default())
            } else {
                Some(Vec::new())
            }
        }
        Cond::Not(inner) => dnf(inner, !negated, plan, depth),
        Cond::And(parts) | Cond::Or(parts) => {
            let conjunctive = matches!(cond, Cond::And(_)) != negated;
            let mut acc: Vec<Conj> = if conjunctive {
                vec![Conj::default()]
            } else {
                Vec::new()
            };
            for part in parts {
                let d = dnf(part, negated, plan, depth)?;
                if conjunctive {
                    let mut next = Vec::new();
                    for a in &acc {
                        for b in &d {
                            if let Some(c) = a.and(b, plan) {
                                next.push(c);
                            }
                        }
                    }
                    acc = next;
                } else {
                    acc.extend(d);
                }
                if acc.len() > MAX_CONJS {
                    return None;
                }
            }
            Some(acc)
        }
        Cond::Truthy {
            operand: Operand::Segment(id),
            ..
        } if depth < 8 => {
            let segment = plan.segments.get(id.index())?;
            dnf(&segment.condition, negated, plan, depth + 1)
        }
        Cond::BandIs {
            band,
            mask,
            negated: n,
            ..
        } => {
            let mut c = Conj::default();
            let m = if *n != negated { !mask } else { *mask };
            c.bands.insert(*band, m & band_mask(plan, *band));
            Some(if c.satisfiable(plan) { vec![c] } else { Vec::new() })
        }
        // `grade >= B2` is a set of band values, like `grade in [A, B1, B2]`.
        Cond::BandOrdered { band, mask, .. } => {
            let mut c = Conj::default();
            let m = if negated { !mask } else { *mask };
            c.bands.insert(*band, m & band_mask(plan, *band));
            Some(if c.satisfiable(plan) { vec![c] } else { Vec::new() })
        }
        Cond::Compare { op, left, right, .. } => {
            if let Some((id, op, n)) = score_test(*op, left, right) {
                let iv = if negated {
                    Interval::complement_of_test(op, n)
                } else {
                    Interval::of_test(op, n)
                };
                if let Some(iv) = iv {
                    let mut c = Conj::default();
                    c.scores.insert(id, iv);
                    return Some(if c.satisfiable(plan) { vec![c] } else { Vec::new() });
                }
            }
            single(atom(cond, negated))
        }
        _ => single(atom(cond, negated)),
    }
}

/// A test that is not analysed further: a value constraint when it is a
/// plain `==`/`in` on a property, else an opaque fact.
fn atom(cond: &Cond, negated: bool) -> Conj {
    let mut c = Conj::default();
    if !negated {
        match cond {
            Cond::Compare {
                op: CompareOp::Eq,
                left,
                right: Operand::Const(value),
                ignore_case,
                ..
            } => {
                let mut set = BTreeSet::new();
                set.insert(const_key(value, *ignore_case));
                c.values.insert(operand_key(left, *ignore_case), set);
                return c;
            }
            Cond::In {
                left,
                set,
                negated: false,
                ignore_case,
                ..
            } => {
                let values = set.iter().map(|v| const_key(v, *ignore_case)).collect();
                c.values.insert(operand_key(left, *ignore_case), values);
                return c;
            }
            _ => {}
        }
    }
    let key = cond_key(cond);
    c.other.insert(if negated { format!("!{key}") } else { key });
    c
}

fn operand_key(operand: &Operand, ignore_case: bool) -> String {
    format!("{operand:?}/{ignore_case}")
}

fn const_key(value: &ConstValue, ignore_case: bool) -> String {
    match value {
        ConstValue::Text(t) if ignore_case => format!("t:{}", crate::case_fold::fold_text(t)),
        ConstValue::Text(t) => format!("t:{t}"),
        other => format!("{other:?}"),
    }
}

/// A span-free description of a test, equal for equal tests.
fn cond_key(cond: &Cond) -> String {
    match cond {
        Cond::Compare {
            op,
            left,
            right,
            ignore_case,
            time,
            ..
        } => format!("cmp {op:?} {left:?} {right:?} {ignore_case} {time}"),
        Cond::In {
            left,
            set,
            negated,
            ignore_case,
            ..
        } => format!("in {left:?} {set:?} {negated} {ignore_case}"),
        Cond::Matches { left, regex, .. } => {
            format!("matches {left:?} {} {}", regex.pattern, regex.case_insensitive)
        }
        Cond::Text {
            op,
            left,
            right,
            ignore_case,
            ..
        } => format!("text {op:?} {left:?} {right:?} {ignore_case}"),
        Cond::IsNull { operand, negated, .. } => format!("null {operand:?} {negated}"),
        Cond::Within { operand, window, .. } => format!("within {operand:?} {window}"),
        Cond::TimeWindow { operand, window, .. } => format!("window {operand:?} {window:?}"),
        Cond::Between {
            operand,
            low,
            high,
            time,
            ..
        } => format!("between {operand:?} {low:?} {high:?} {time}"),
        Cond::BandOrdered { band, mask, .. } => format!("band {band:?} {mask} false"),
        Cond::Truthy { operand, .. } => format!("truthy {operand:?}"),
        Cond::Has {
            list,
            quantifier,
            needles,
            ignore_case,
            ..
        } => format!("has {list:?} {quantifier:?} {needles:?} {ignore_case}"),
        Cond::BandIs {
            band, mask, negated, ..
        } => format!("band {band:?} {mask} {negated}"),
        Cond::Const(b) => format!("{b}"),
        Cond::And(_) | Cond::Or(_) | Cond::Not(_) => String::from("compound"),
    }
}

/// `score op n`, whichever side the score is written on.
fn score_test(op: CompareOp, left: &Operand, right: &Operand) -> Option<(ScoreId, CompareOp, f64)> {
    match (left, right) {
        (Operand::Score(id), Operand::Const(ConstValue::Number(n))) => Some((*id, op, *n)),
        (Operand::Const(ConstValue::Number(n)), Operand::Score(id)) => {
            let flipped = match op {
                CompareOp::Lt => CompareOp::Gt,
                CompareOp::Le => CompareOp::Ge,
                CompareOp::Gt => CompareOp::Lt,
                CompareOp::Ge => CompareOp::Le,
                other => other,
            };
            Some((*id, flipped, *n))
        }
        _ => None,
    }
}

// ------------------------------------------------------------------ lints

fn shadowed_branches(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for band in &plan.bands {
        let mut earlier: Vec<Conj> = Vec::new();
        let mut earlier_unknown = false;
        let mut previous: Vec<(String, Span)> = Vec::new();
        for branch in &band.branches {
            let value = band
                .values
                .get(usize::from(branch.value))
                .cloned()
                .unwrap_or_default();
            let Some(condition) = &branch.condition else {
                continue;
            };
            match dnf(condition, false, plan, 0) {
                Some(mine) if !earlier_unknown || mine.is_empty() => {
                    let never = mine.is_empty();
                    let covered =
                        !mine.is_empty() && mine.iter().all(|c| earlier.iter().any(|e| c.implies(e, plan)));
                    if never || covered {
                        let kind = if never {
                            DiagnosticKind::LintBranchNeverHolds {
                                branch: value.clone(),
                                band: band.name.clone(),
                            }
                        } else {
                            DiagnosticKind::LintBranchShadowed {
                                branch: value.clone(),
                                band: band.name.clone(),
                            }
                        };
                        let mut d = Diagnostic::new(kind, branch.span).with_label("never chosen");
                        if !never {
                            for (name, span) in &previous {
                                d = d.with_note(*span, format!("`{name}` is tried first"));
                            }
                        }
                        out.push(d);
                    }
                    earlier.extend(mine);
                }
                Some(mine) => earlier.extend(mine),
                None => earlier_unknown = true,
            }
            previous.push((value, branch.span));
        }
    }
}

/// The interval each score's rules can add up to (clamped to its range).
struct Ranges {
    reachable: Vec<Interval>,
}

/// The points a `when` rule or `first` row can give (0 included): fixed, or
/// computed, bounded only by its `max` and `min`.
fn points_range(points: f64, computed: Option<&crate::plan::ComputedPoints>) -> (f64, f64) {
    match computed {
        None => (points.min(0.0), points.max(0.0)),
        Some(c) => {
            let lo = c
                .min
                .unwrap_or(f64::NEG_INFINITY)
                .min(c.max.unwrap_or(f64::INFINITY));
            let hi = c
                .max
                .unwrap_or(f64::INFINITY)
                .max(c.min.unwrap_or(f64::NEG_INFINITY));
            (lo.min(0.0), hi.max(0.0))
        }
    }
}

impl Ranges {
    fn new(plan: &Plan) -> Ranges {
        let reachable = plan
            .scores
            .iter()
            .map(|score| {
                let (mut lo, mut hi) = (0.0f64, 0.0f64);
                // A computed score can be anything in its range.
                if score.value.is_some() {
                    (lo, hi) = (f64::NEG_INFINITY, f64::INFINITY);
                }
                for rule in &score.rules {
                    let (rlo, rhi) = match &rule.kind {
                        ScoreRuleKind::When { points, computed, .. } => {
                            points_range(*points, computed.as_ref())
                        }
                        ScoreRuleKind::First { rows } => rows.iter().fold((0.0f64, 0.0f64), |(l, h), r| {
                            let (rl, rh) = points_range(r.points, r.computed.as_ref());
                            (l.min(rl), h.max(rh))
                        }),
                        ScoreRuleKind::Each(each) => {
                            // With at least one event the raw total is on
                            // the side of the points' sign, then bounded.
                            // Points computed per event can have either sign.
                            let (raw_lo, raw_hi) = if each.computed.is_some() {
                                (f64::NEG_INFINITY, f64::INFINITY)
                            } else if each.points >= 0.0 {
                                (0.0, if each.points == 0.0 { 0.0 } else { f64::INFINITY })
                            } else {
                                (f64::NEG_INFINITY, 0.0)
                            };
                            let mut l = raw_lo;
                            let mut h = raw_hi;
                            if let Some(max) = each.max {
                                l = l.min(max);
                                h = h.min(max);
                            }
                            if let Some(min) = each.min {
                                l = l.max(min);
                                h = h.max(min);
                            }
                            (l.min(0.0), h.max(0.0))
                        }
                    };
                    lo += rlo;
                    hi += rhi;
                }
                Interval::closed(lo.clamp(score.low, score.high), hi.clamp(score.low, score.high))
            })
            .collect();
        Ranges { reachable }
    }
}

fn possible(iv: &Interval, op: CompareOp, n: f64) -> bool {
    match op {
        CompareOp::Ne => !(iv.lo == n && iv.hi == n),
        _ => Interval::of_test(op, n).is_some_and(|t| !t.intersect(iv).empty()),
    }
}

fn thresholds(plan: &Plan, ranges: &Ranges, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeSet<(u32, u32, u32)> = BTreeSet::new();
    plan.for_each_cond(&mut |cond| {
        let Cond::Compare {
            op,
            left,
            right,
            span,
            ..
        } = cond
        else {
            return;
        };
        let Some((id, op, n)) = score_test(*op, left, right) else {
            return;
        };
        if !seen.insert((span.file.0, span.start, span.end)) {
            return;
        }
        let Some(score) = plan.scores.get(id.index()) else {
            return;
        };
        let n_text = fmt_number(n);
        let range = Interval::closed(score.low, score.high);
        if !possible(&range, op, n) {
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintThresholdNeverMet {
                        score: score.name.clone(),
                        op: op.symbol(),
                        threshold: n_text,
                        low: fmt_number(score.low),
                        high: fmt_number(score.high),
                    },
                    *span,
                )
                .with_label("never true"),
            );
            return;
        }
        let Some(reach) = ranges.reachable.get(id.index()) else {
            return;
        };
        if !possible(reach, op, n) {
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintScoreCannotReach {
                        score: score.name.clone(),
                        op: op.symbol(),
                        threshold: n_text,
                        low: fmt_number(reach.lo),
                        high: fmt_number(reach.hi),
                    },
                    *span,
                )
                .with_label("unreachable threshold")
                .with_note(score.span, "its rules are here"),
            );
        }
    });
}

fn overlapping_workflows(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let forms: Vec<Option<Vec<Conj>>> = plan
        .workflows
        .iter()
        .map(|w| dnf(&w.condition, false, plan, 0))
        .collect();
    for (i, a) in plan.workflows.iter().enumerate() {
        for (j, b) in plan.workflows.iter().enumerate().skip(i + 1) {
            // Workflows on different channels (`on in_app`) do not compete.
            if a.reach.channel != b.reach.channel {
                continue;
            }
            let (Some(Some(fa)), Some(Some(fb))) = (forms.get(i), forms.get(j)) else {
                continue;
            };
            // Decidable only when both are built from scores, bands and
            // property values.
            let plain = |f: &Vec<Conj>| f.iter().all(|c| c.other.is_empty());
            if !plain(fa) || !plain(fb) {
                continue;
            }
            let overlap = fa.iter().any(|x| fb.iter().any(|y| x.and(y, plan).is_some()));
            if overlap {
                out.push(
                    Diagnostic::new(
                        DiagnosticKind::LintOverlappingWorkflows {
                            first: a.name.clone(),
                            second: b.name.clone(),
                        },
                        b.span,
                    )
                    .with_label("overlaps")
                    .with_note(a.span, format!("`{}` is declared here", a.name)),
                );
            }
        }
    }
}

/// A target name as `--out-dir` used to write it before names were
/// `%XX`-encoded, lower-cased: two targets of a kind with the same key differ
/// only in case or in characters other than letters, digits, `_` and `-`.
fn confusable_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Two audiences, workflows or routes whose names differ only in case or in
/// characters other than letters, digits, `_` and `-` (`` `ads x` `` and
/// `ads_x`): their `--out-dir` files have distinct names, but ones that are
/// easy to mix up, and they shared one file before names were encoded.
fn confusable_target_names(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let audiences = plan.audiences.iter().map(|t| (t.name.as_str(), t.span));
    let workflows = plan.workflows.iter().map(|t| (t.name.as_str(), t.span));
    let routes = plan.routes.iter().map(|t| (t.name.as_str(), t.span));
    let kinds: [(&'static str, Vec<(&str, Span)>); 3] = [
        ("audience", audiences.collect()),
        ("workflow", workflows.collect()),
        ("route", routes.collect()),
    ];
    for (kind, targets) in kinds {
        let mut first_of_key: BTreeMap<String, (&str, Span)> = BTreeMap::new();
        for (name, span) in targets {
            match first_of_key.get(&confusable_key(name)) {
                Some((first, first_span)) => out.push(
                    Diagnostic::new(
                        DiagnosticKind::LintConfusableTargetNames {
                            kind,
                            first: (*first).to_string(),
                            second: name.to_string(),
                        },
                        span,
                    )
                    .with_label("easy to confuse")
                    .with_note(*first_span, format!("`{first}` is declared here")),
                ),
                None => {
                    first_of_key.insert(confusable_key(name), (name, span));
                }
            }
        }
    }
}

/// Whether a suppression keeps customers out: its name says `customer`, or
/// its condition tests a value against the text `customer`.
fn is_customer_suppression(s: &crate::plan::Suppression) -> bool {
    if s.name.to_lowercase().contains("customer") {
        return true;
    }
    let mut found = false;
    fn walk(c: &Cond, found: &mut bool) {
        match c {
            Cond::And(parts) | Cond::Or(parts) => parts.iter().for_each(|p| walk(p, found)),
            Cond::Not(inner) => walk(inner, found),
            Cond::Compare {
                right: Operand::Const(ConstValue::Text(t)),
                ..
            } if t.eq_ignore_ascii_case("customer") => *found = true,
            Cond::In {
                set, negated: false, ..
            } if set
                .iter()
                .any(|v| matches!(v, ConstValue::Text(t) if t.eq_ignore_ascii_case("customer"))) =>
            {
                *found = true
            }
            _ => {}
        }
    }
    walk(&s.condition, &mut found);
    found
}

/// Audiences and workflows on ads or email (not on a declared channel).
fn customer_suppression(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (channel, channel_name) in Channel::BUILT_IN.into_iter().take(2) {
        let covered = plan
            .suppressions
            .iter()
            .any(|s| s.channels & channel.bit() != 0 && is_customer_suppression(s));
        if covered {
            continue;
        }
        let targets = plan
            .audiences
            .iter()
            .map(|t| ("audience", t))
            .chain(plan.workflows.iter().map(|t| ("workflow", t)))
            .filter(|(_, t)| t.reach.channel == channel);
        for (kind, t) in targets {
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintNoCustomerSuppression {
                        kind,
                        name: t.name.clone(),
                        channel: channel_name,
                    },
                    t.span,
                )
                .with_label("customers not suppressed"),
            );
        }
    }
}

/// `!=`, `not in` and `is not true` on a value that may be missing: the test
/// is false without the value, which silently leaves those contacts out
/// (docs/language.md §8.10). Quiet under an odd number of `not`s (a missing
/// value then makes the condition true), and when the same condition tests
/// the value with `is null` / `is not null`, as the suggested fix does.
fn negations_on_missing(sources: &Sources, plan: &Plan, out: &mut Vec<Diagnostic>) {
    plan.for_each_root_cond(&mut |root| {
        let mut null_tested = BTreeSet::new();
        collect_null_tested(plan, root, &mut null_tested);
        check_negations(sources, plan, root, false, &null_tested, out);
    });
}

fn collect_null_tested(plan: &Plan, cond: &Cond, found: &mut BTreeSet<String>) {
    match cond {
        Cond::And(parts) | Cond::Or(parts) => parts.iter().for_each(|p| collect_null_tested(plan, p, found)),
        Cond::Not(inner) => collect_null_tested(plan, inner, found),
        Cond::IsNull { operand, .. } => found.extend(missing_keys(plan, operand)),
        _ => {}
    }
}

/// A span-free key for an operand that may be missing, equal for operands
/// that are missing together; `None` for one that always has a value (`id`,
/// scores, segments, `count of`, `any`, `sum of`, `distinct count of`, constants). `lower`, `upper` and
/// `trim` are missing exactly when their argument is.
fn missing_key(plan: &Plan, operand: &Operand) -> Option<String> {
    match operand {
        Operand::Property(slot) => Some(format!("property {slot}")),
        // A text that does not convert stays text, so missing is missing.
        Operand::FromText { source, .. } => missing_key(plan, source),
        Operand::Email => Some(String::from("email")),
        Operand::EventProp(slot) => Some(format!("event prop {slot}")),
        Operand::Aggregate(id) => plan
            .aggregates
            .get(id.index())
            // `count of`, `any`, `sum of` and `distinct count of` always have a value.
            .is_some_and(|a| {
                !matches!(
                    a.kind,
                    AggregateKind::Count
                        | AggregateKind::Any
                        | AggregateKind::Sum
                        | AggregateKind::DistinctCount
                )
            })
            .then(|| format!("aggregate {}", id.index())),
        Operand::Call {
            function: Function::Lower | Function::Upper | Function::Trim,
            argument,
            ..
        } => missing_key(plan, argument),
        Operand::Call {
            function, argument, ..
        } => missing_key(plan, argument).map(|inner| format!("{}({inner})", function.name())),
        Operand::Id | Operand::Score(_) | Operand::Segment(_) | Operand::Const(_) => None,
        // An arithmetic expression has the keys of its parts ([`missing_keys`]).
        Operand::Arith { .. } => None,
    }
}

/// The keys ([`missing_key`]) of everything whose absence makes `operand`
/// missing: the operand's own, or for arithmetic every part's, since any
/// missing part makes the expression missing.
fn missing_keys(plan: &Plan, operand: &Operand) -> Vec<String> {
    match operand {
        Operand::Arith { first, rest, .. } => std::iter::once(&**first)
            .chain(rest.iter().map(|(_, part)| part))
            .flat_map(|part| missing_keys(plan, part))
            .collect(),
        other => missing_key(plan, other).into_iter().collect(),
    }
}

fn check_negations(
    sources: &Sources,
    plan: &Plan,
    cond: &Cond,
    under_not: bool,
    null_tested: &BTreeSet<String>,
    out: &mut Vec<Diagnostic>,
) {
    // An operand that may be missing and whose absence the condition does not test.
    let unguarded = |operand: &Operand| {
        missing_keys(plan, operand)
            .iter()
            .any(|key| !null_tested.contains(key))
    };
    let (operators, subject_is_left, whose, span) = match cond {
        Cond::And(parts) | Cond::Or(parts) => {
            for part in parts {
                check_negations(sources, plan, part, under_not, null_tested, out);
            }
            return;
        }
        Cond::Not(inner) => return check_negations(sources, plan, inner, !under_not, null_tested, out),
        Cond::Compare {
            op: CompareOp::Ne,
            left,
            right,
            span,
            ..
        } if !under_not && (unguarded(left) || unguarded(right)) => {
            // `x is not true` and `x != true` compile alike: the text says which.
            let operators: &[(&str, &str)] = &[("!=", "=="), ("is not", "is")];
            let subject = if unguarded(left) { left } else { right };
            (operators, unguarded(left), whose(subject), *span)
        }
        Cond::In {
            left,
            negated: true,
            span,
            ..
        } if !under_not && unguarded(left) => {
            let operators: &[(&str, &str)] = &[("not in", "in")];
            (operators, true, whose(left), *span)
        }
        _ => return,
    };
    let test = sources.text(span).trim().to_string();
    let found = operators
        .iter()
        .find_map(|(negative, positive)| Some((find_operator(&test, negative)?, *negative, *positive)));
    let (subject, positive) = match found {
        Some((at, negative, positive)) => {
            let (before, after) = (
                test.get(..at).unwrap_or_default(),
                test.get(at + negative.len()..).unwrap_or_default(),
            );
            let subject = if subject_is_left { before } else { after };
            (
                subject.trim().to_string(),
                Some(format!("{before}{positive}{after}")),
            )
        }
        None => (test.clone(), None),
    };
    out.push(
        Diagnostic::new(
            DiagnosticKind::LintNegationSkipsMissing {
                test,
                subject: subject.clone(),
                whose,
                positive,
            },
            span,
        )
        .with_label(format!("false when `{subject}` is missing")),
    );
}

/// Who lacks a missing operand: the events of a `where`, or contacts.
fn whose(operand: &Operand) -> &'static str {
    match operand {
        Operand::EventProp(_) => "events",
        Operand::Call { argument, .. } | Operand::FromText { source: argument, .. } => whose(argument),
        _ => "contacts",
    }
}

/// Where `operator` (`!=`, `not in`, `is not`) starts in a test's text,
/// outside double-quoted text and, for words, not inside a name.
fn find_operator(test: &str, operator: &str) -> Option<usize> {
    let word = operator.starts_with(|c: char| c.is_alphabetic());
    let mut in_text = false;
    let mut escaped = false;
    let mut previous: Option<char> = None;
    for (at, c) in test.char_indices() {
        if in_text {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_text = false;
            }
        } else if c == '"' {
            in_text = true;
        } else if test.get(at..).is_some_and(|rest| rest.starts_with(operator)) {
            let next = test
                .get(at + operator.len()..)
                .and_then(|rest| rest.chars().next());
            let name_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !word || (!name_char(previous) && !name_char(next)) {
                return Some(at);
            }
        }
        previous = Some(c);
    }
    None
}

fn unused(files: &[ast::File], plan: &Plan, out: &mut Vec<Diagnostic>) {
    // Constants: every name written anywhere in a condition or a list.
    let mut names: BTreeSet<&str> = BTreeSet::new();
    fn walk<'a>(e: &'a ast::Expr, names: &mut BTreeSet<&'a str>) {
        match &e.kind {
            ExprKind::Or(parts) | ExprKind::And(parts) => parts.iter().for_each(|p| walk(p, names)),
            ExprKind::Not(inner) => walk(inner, names),
            ExprKind::Compare { left, right, .. }
            | ExprKind::Text { left, right, .. }
            | ExprKind::Has { left, right, .. } => {
                walk(left, names);
                walk(right, names);
            }
            ExprKind::In { left, list, .. } => {
                walk(left, names);
                walk(list, names);
            }
            ExprKind::Matches { left, pattern, .. } => {
                walk(left, names);
                walk(pattern, names);
            }
            ExprKind::Is { left, .. } | ExprKind::Within { left, .. } | ExprKind::TimeWindow { left, .. } => {
                walk(left, names)
            }
            ExprKind::Between { left, low, high } => {
                walk(left, names);
                walk(low, names);
                walk(high, names);
            }
            ExprKind::Name(id) | ExprKind::ContactField(id) => {
                names.insert(&id.name);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, names)),
            ExprKind::Arith { first, rest } => {
                walk(first, names);
                rest.iter().for_each(|(_, p)| walk(p, names));
            }
            ExprKind::Aggregate(a) => {
                if let Some(f) = &a.filter {
                    walk(f, names);
                }
            }
            ExprKind::Literal(Literal::List(items)) => items.iter().for_each(|i| walk(i, names)),
            ExprKind::Literal(_) => {}
        }
    }
    let mut consts: Vec<&ast::Ident> = Vec::new();
    for item in files.iter().flat_map(|f| f.items.iter()) {
        match &item.kind {
            ItemKind::Const(c) => {
                consts.push(&c.name);
                walk(&c.value, &mut names);
            }
            ItemKind::Segment(s) => walk(&s.condition, &mut names),
            ItemKind::Score(s) => {
                for rule in &s.rules {
                    match &rule.body {
                        RuleBody::When(w) => walk(&w.condition, &mut names),
                        RuleBody::First(rows) => {
                            rows.iter().for_each(|r| walk(&r.rule.condition, &mut names))
                        }
                        RuleBody::Each(e) => {
                            if let Some(f) = &e.filter {
                                walk(f, &mut names);
                            }
                        }
                    }
                }
            }
            ItemKind::Band(b) => b
                .branches
                .iter()
                .filter_map(|b| b.condition.as_ref())
                .for_each(|c| walk(c, &mut names)),
            ItemKind::Suppress(s) => walk(&s.condition, &mut names),
            ItemKind::Audience(t) | ItemKind::Workflow(t) => walk(&t.condition, &mut names),
            ItemKind::Goal(_) | ItemKind::Table(_) => {}
            ItemKind::Route(r) => {
                walk(&r.condition, &mut names);
                for field in &r.fields {
                    if let RouteFieldKind::QueueFirst(branches) = &field.kind {
                        branches
                            .iter()
                            .filter_map(|b| b.condition.as_ref())
                            .for_each(|c| walk(c, &mut names));
                    }
                }
            }
            ItemKind::Properties(_) | ItemKind::Events(_) | ItemKind::Channel(_) => {}
        }
    }
    for name in consts {
        if !names.contains(name.name.as_str()) {
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintUnusedConstant {
                        name: name.name.clone(),
                    },
                    name.span,
                )
                .with_label("unused"),
            );
        }
    }
    // Segments: read by some compiled condition.
    let mut used_segments: BTreeSet<usize> = BTreeSet::new();
    plan.for_each_cond(&mut |c| {
        fn operand(o: &Operand, used: &mut BTreeSet<usize>) {
            match o {
                Operand::Segment(id) => {
                    used.insert(id.index());
                }
                Operand::Call { argument, .. } => operand(argument, used),
                Operand::Arith { first, rest, .. } => {
                    operand(first, used);
                    rest.iter().for_each(|(_, part)| operand(part, used));
                }
                _ => {}
            }
        }
        match c {
            Cond::Truthy { operand: o, .. } => operand(o, &mut used_segments),
            Cond::Compare { left, right, .. } | Cond::Text { left, right, .. } => {
                operand(left, &mut used_segments);
                operand(right, &mut used_segments);
            }
            _ => {}
        }
    });
    for (index, segment) in plan.segments.iter().enumerate() {
        if !used_segments.contains(&index) {
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintUnusedSegment {
                        name: segment.name.clone(),
                    },
                    segment.span,
                )
                .with_label("unused"),
            );
        }
    }
    // Suppressions: on at least one channel that has a target.
    let live = plan
        .audiences
        .iter()
        .chain(&plan.workflows)
        .map(|t| t.reach.channel.bit())
        .chain(plan.routes.iter().map(|r| r.reach.channel.bit()))
        .fold(0u64, |a, b| a | b);
    for s in &plan.suppressions {
        if s.channels & live == 0 {
            let channels: Vec<&str> = plan.channel_names(s.channels).collect();
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintUnusedSuppression {
                        name: s.name.clone(),
                        channels: channels
                            .iter()
                            .map(|c| format!("`{c}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    },
                    s.span,
                )
                .with_label("suppresses nothing"),
            );
        }
    }
}

// ------------------------------------------------ ascending_band_ordered

/// `level >= 2` on a band whose values are all numbers declared lowest
/// first (`1 when …  2 when …  3 otherwise`): ordered tests follow the
/// declaration, where `1` is the highest, which is probably not what a
/// number suggests.
fn ascending_band_ordered(sources: &Sources, plan: &Plan, out: &mut Vec<Diagnostic>) {
    let ascending: Vec<bool> = plan
        .bands
        .iter()
        .map(|band| {
            let numbers: Vec<f64> = band.values.iter().filter_map(|v| v.parse::<f64>().ok()).collect();
            numbers.len() == band.values.len()
                && numbers.len() > 1
                && numbers.windows(2).all(|pair| matches!(pair, [a, b] if a < b))
        })
        .collect();
    if !ascending.contains(&true) {
        return;
    }
    plan.for_each_cond(&mut |cond| {
        let Cond::BandOrdered { band, span, .. } = cond else {
            return;
        };
        let Some(b) = plan
            .bands
            .get(band.index())
            .filter(|_| ascending.get(band.index()) == Some(&true))
        else {
            return;
        };
        out.push(
            Diagnostic::new(
                DiagnosticKind::LintAscendingBandOrdered {
                    test: sources.text(*span).trim().to_string(),
                    band: b.name.clone(),
                    first: b.values.first().cloned().unwrap_or_default(),
                    values: b.values.join(", "),
                },
                *span,
            )
            .with_label("the first declared value is the highest"),
        );
    });
}
