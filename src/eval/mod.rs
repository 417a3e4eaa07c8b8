//! Plan × contact × as-of → [`Outcome`], following docs/language.md exactly.
//!
//! Architecture Invariant: evaluation does no I/O, never reads the clock, and
//! visits items in a fixed order (scores, bands and segments in dependency
//! order, everything else in declaration order), so the same inputs give the
//! same outcome.
//! The evaluator is generic over a [`Tracer`]; with [`NoTrace`] every trace
//! call is behind `if T::ENABLED` and compiles away.

mod aggregates;
mod lists;
mod routing;
#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests;
mod trace;
mod value;

pub use trace::{
    EventDecision, NoTrace, PickReport, PickRole, Scope, ScopeResult, SkipReason, TargetKind, Tracer,
};
pub use value::EvalValue;

use crate::case_fold::{eq_ignoring_case, fold_char, fold_text};
use crate::ops::{AggregateKind, ArithOp, CompareOp, TextOp};
use crate::plan::{
    BandId, ComputedPoints, Cond, ConstValue, EachRule, EventAggregate, Function, Operand, Plan, QueueBranch,
    Reach, ScoreRuleKind, Step, Window, MICROS_PER_DAY,
};
use crate::snapshot::{boolean_from_text, number_from_text, Contact, DeclaredType, Event, FieldValue};
use crate::source::Span;

use std::borrow::Cow;

/// The evaluated state of one contact (unrounded scores).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub scores: Vec<f64>,
    /// Index into the band's values.
    pub bands: Vec<u16>,
    pub segments: Vec<bool>,
    /// Per suppression: does it apply.
    pub suppressed: Vec<bool>,
    /// Union of the channels of the applying suppressions.
    pub suppressed_channels: u64,
    /// The applying suppressions as a bit set (the words of a
    /// [`crate::plan::SuppressionSet`]), checked against each target's
    /// [`crate::plan::Reach::blocked_by`].
    pub applying: Vec<u64>,
    pub audiences: Vec<bool>,
    pub workflows: Vec<bool>,
    /// Per route: the chosen queue branch when the contact is routed.
    pub routes: Vec<Option<u16>>,
    /// Per route: the queue and assignee picked (meaningful when routed).
    pub route_picks: Vec<crate::plan::RoutePicks>,
    /// Number of wrong-type values met (each also a trace warning).
    pub warnings: u32,
}

/// One worker's own copies of a plan's regexes, made on first use: scratch
/// space that the caller owns and passes to every evaluation.
///
/// A `regex::Regex` keeps a pool of search caches; the thread that first
/// uses a regex gets a fast path, and every other thread goes through a
/// shared stack, which costs about 2 % of `run` on two threads. A clone has
/// its own pool, so each worker keeps one `RegexScratch` and searches with
/// its own copies. A copy is made for one regex of one plan (checked by
/// [`PlanRegex::uid`](crate::plan::PlanRegex::uid)), so a scratch may be
/// reused across plans; one per plan avoids copying again.
#[derive(Clone, Default)]
pub struct RegexScratch(Vec<Option<(u64, regex::Regex)>>);

impl RegexScratch {
    fn is_match(&mut self, regex: &crate::plan::PlanRegex, text: &str) -> bool {
        if self.0.len() <= regex.index {
            self.0.resize(regex.index + 1, None);
        }
        let Some(slot) = self.0.get_mut(regex.index) else {
            return regex.get().is_some_and(|r| r.is_match(text));
        };
        if slot.as_ref().is_none_or(|(uid, _)| *uid != regex.uid) {
            *slot = regex.get().map(|r| (regex.uid, r.clone()));
        }
        slot.as_ref().is_some_and(|(_, r)| r.is_match(text))
    }
}

impl std::fmt::Debug for RegexScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegexScratch({} regexes)", self.0.len())
    }
}

impl Outcome {
    pub fn for_plan(plan: &Plan) -> Outcome {
        Outcome {
            scores: vec![0.0; plan.scores.len()],
            bands: vec![0; plan.bands.len()],
            segments: vec![false; plan.segments.len()],
            suppressed: vec![false; plan.suppressions.len()],
            suppressed_channels: 0,
            applying: vec![0; crate::plan::SuppressionSet::words_for(plan.suppressions.len())],
            audiences: vec![false; plan.audiences.len()],
            workflows: vec![false; plan.workflows.len()],
            routes: vec![None; plan.routes.len()],
            route_picks: vec![crate::plan::RoutePicks::default(); plan.routes.len()],
            warnings: 0,
        }
    }
}

/// Evaluates one contact into a fresh outcome without tracing.
pub fn evaluate(plan: &Plan, contact: &Contact, as_of: i64) -> Outcome {
    let mut outcome = Outcome::for_plan(plan);
    evaluate_into(
        plan,
        contact,
        as_of,
        &mut outcome,
        &mut RegexScratch::default(),
        &mut NoTrace,
    );
    outcome
}

/// Evaluates one contact into `outcome` (reused across contacts), with the
/// caller's regex copies in `regexes`, reporting every decision to `tracer`.
pub fn evaluate_into<T: Tracer>(
    plan: &Plan,
    contact: &Contact,
    as_of: i64,
    outcome: &mut Outcome,
    regexes: &mut RegexScratch,
    tracer: &mut T,
) {
    if outcome.scores.len() != plan.scores.len()
        || outcome.bands.len() != plan.bands.len()
        || outcome.route_picks.len() != plan.routes.len()
    {
        *outcome = Outcome::for_plan(plan);
    }
    outcome.warnings = 0;
    let mut ev = Evaluator {
        plan,
        contact,
        as_of,
        outcome,
        regexes,
        tracer,
    };
    ev.run();
}

struct Evaluator<'c, 'o, 't, T: Tracer> {
    plan: &'c Plan,
    contact: &'c Contact,
    as_of: i64,
    outcome: &'o mut Outcome,
    regexes: &'o mut RegexScratch,
    tracer: &'t mut T,
}

impl<'c, T: Tracer> Evaluator<'c, '_, '_, T> {
    fn run(&mut self) {
        let plan = self.plan;
        for step in &plan.order {
            match *step {
                Step::Score(id) => {
                    let value = self.score(id.index());
                    if let Some(slot) = self.outcome.scores.get_mut(id.index()) {
                        *slot = value;
                    }
                }
                Step::Band(id) => {
                    let value = self.band(id.index());
                    if let Some(slot) = self.outcome.bands.get_mut(id.index()) {
                        *slot = value;
                    }
                }
                Step::Segment(id) => {
                    let Some(segment) = plan.segments.get(id.index()) else {
                        continue;
                    };
                    if T::ENABLED {
                        self.tracer.enter(Scope::Segment { segment: id.index() });
                    }
                    let value = self.cond(&segment.condition, None);
                    if T::ENABLED {
                        self.tracer.exit(ScopeResult::Segment { value });
                    }
                    if let Some(slot) = self.outcome.segments.get_mut(id.index()) {
                        *slot = value;
                    }
                }
            }
        }
        let mut channels = 0u64;
        self.outcome.applying.clear();
        self.outcome
            .applying
            .resize(crate::plan::SuppressionSet::words_for(plan.suppressions.len()), 0);
        for (i, s) in plan.suppressions.iter().enumerate() {
            if T::ENABLED {
                self.tracer.enter(Scope::Suppression { suppression: i });
            }
            let applies = self.cond(&s.condition, None);
            if T::ENABLED {
                self.tracer.exit(ScopeResult::Suppression { applies });
            }
            if applies {
                channels |= s.channels;
                if let Some(word) = self.outcome.applying.get_mut(i / 64) {
                    *word |= 1u64 << (i % 64);
                }
            }
            if let Some(slot) = self.outcome.suppressed.get_mut(i) {
                *slot = applies;
            }
        }
        self.outcome.suppressed_channels = channels;
        for (i, t) in plan.audiences.iter().enumerate() {
            let (member, _) = self.target(TargetKind::Audience, i, &t.condition, &t.reach, &[]);
            if let Some(slot) = self.outcome.audiences.get_mut(i) {
                *slot = member;
            }
        }
        for (i, t) in plan.workflows.iter().enumerate() {
            let (member, _) = self.target(TargetKind::Workflow, i, &t.condition, &t.reach, &[]);
            if let Some(slot) = self.outcome.workflows.get_mut(i) {
                *slot = member;
            }
        }
        for (i, r) in plan.routes.iter().enumerate() {
            let (_, queue) = self.target(TargetKind::Route, i, &r.condition, &r.reach, &r.queue);
            if let Some(slot) = self.outcome.routes.get_mut(i) {
                *slot = queue;
            }
            self.route_picks(i, r, queue);
        }
    }

    /// An audience, workflow or route: its condition, then the suppressions
    /// on its channel it is not exempt from, then (for a member route) its
    /// queue branches. Returns whether the contact is a member and the queue
    /// branch chosen.
    fn target(
        &mut self,
        kind: TargetKind,
        index: usize,
        condition: &'c Cond,
        reach: &'c Reach,
        queue: &'c [QueueBranch],
    ) -> (bool, Option<u16>) {
        if T::ENABLED {
            self.tracer.enter(Scope::Target { kind, index });
        }
        let holds = self.cond(condition, None);
        let suppressed = reach.blocked_by.intersects(&self.outcome.applying);
        let member = holds && !suppressed;
        let chosen = if member { self.queue(index, queue) } else { None };
        if T::ENABLED {
            self.tracer.exit(ScopeResult::Target {
                holds,
                suppressed,
                queue: chosen,
            });
        }
        (member, chosen)
    }

    /// The first queue branch of a route whose condition holds.
    fn queue(&mut self, route: usize, queue: &'c [QueueBranch]) -> Option<u16> {
        for (q, branch) in queue.iter().enumerate() {
            if T::ENABLED {
                self.tracer.enter(Scope::QueueBranch { route, branch: q });
            }
            let matched = match &branch.condition {
                None => true,
                Some(c) => self.cond(c, None),
            } && self.branch_has_queue(branch);
            if T::ENABLED {
                self.tracer.exit(ScopeResult::QueueBranch { matched });
            }
            if matched {
                return u16::try_from(q).ok();
            }
        }
        None
    }

    fn score(&mut self, index: usize) -> f64 {
        let plan = self.plan;
        let Some(score) = plan.scores.get(index) else {
            return 0.0;
        };
        if T::ENABLED {
            self.tracer.enter(Scope::Score { score: index });
        }
        let mut sum = 0.0;
        for (r, rule) in score.rules.iter().enumerate() {
            if T::ENABLED {
                self.tracer.enter(Scope::Rule {
                    score: index,
                    rule: r,
                });
            }
            let (matched, points, uncapped) = match &rule.kind {
                ScoreRuleKind::When {
                    condition,
                    points,
                    computed,
                } => {
                    if !self.cond(condition, None) {
                        (false, 0.0, 0.0)
                    } else if let Some(computed) = computed {
                        self.computed_points(computed)
                    } else {
                        (true, *points, *points)
                    }
                }
                ScoreRuleKind::First { rows } => {
                    let mut result = (false, 0.0, 0.0);
                    for (k, row) in rows.iter().enumerate() {
                        if T::ENABLED {
                            self.tracer.enter(Scope::Row { row: k });
                        }
                        let matched = self.cond(&row.condition, None);
                        if T::ENABLED {
                            self.tracer.exit(ScopeResult::Row { matched });
                        }
                        if matched {
                            result = match &row.computed {
                                Some(computed) => self.computed_points(computed),
                                None => (true, row.points, row.points),
                            };
                            break;
                        }
                    }
                    result
                }
                ScoreRuleKind::Each(each) => self.each(each),
            };
            if T::ENABLED {
                self.tracer.exit(ScopeResult::Rule {
                    matched,
                    points,
                    uncapped,
                });
            }
            sum += points;
        }
        if let Some(value) = &score.value {
            sum = match self.operand(value, None) {
                EvalValue::Num(n) => n,
                EvalValue::Absent => 0.0,
                other => {
                    self.wrong_type(score.span, &other, "a number");
                    0.0
                }
            };
        }
        let clamped = sum.clamp(score.low, score.high);
        if T::ENABLED {
            self.tracer.exit(ScopeResult::Score { sum, clamped });
        }
        clamped
    }

    /// An `each` rule: whether an event counted, the rule's points, and the
    /// sum of its events before `max`/`min`.
    fn each(&mut self, rule: &'c EachRule) -> (bool, f64, f64) {
        let contact = self.contact;
        let Some(events) = contact.events.get(rule.event) else {
            return (false, 0.0, 0.0);
        };
        let mut sum = 0.0;
        let mut counted = false;
        for (i, event) in events.iter().enumerate() {
            if T::ENABLED {
                self.tracer.enter(Scope::Event { index: i });
            }
            let age = self.as_of - event.at_micros;
            let decision = self.event_decision(rule, event, age);
            if T::ENABLED {
                self.tracer.exit(ScopeResult::Event { age, decision });
            }
            if let EventDecision::Counted { points, .. } = decision {
                sum += points;
                counted = true;
            }
        }
        // The bounds apply to what was counted: a rule that counted nothing gives 0.
        let mut total = sum;
        if counted {
            if let Some(max) = rule.max {
                total = total.min(max);
            }
            if let Some(min) = rule.min {
                total = total.max(min);
            }
        }
        (counted, total, sum)
    }

    /// Whether one event counts for an `each` rule (docs/language.md: 0 ≤ age ≤
    /// window, the filter holds), and its decayed points.
    fn event_decision(&mut self, rule: &'c EachRule, event: &'c Event, age: i64) -> EventDecision {
        if age < 0 {
            return EventDecision::Skipped(SkipReason::AfterAsOf);
        }
        if rule.window.is_some_and(|w| !w.contains(age)) {
            return EventDecision::Skipped(SkipReason::OutsideWindow);
        }
        if let Some(filter) = &rule.filter {
            if !self.cond(filter, Some(event)) {
                return EventDecision::Skipped(SkipReason::FilterFailed);
            }
        }
        let points = match &rule.computed {
            None => rule.points,
            Some(computed) => match self.event_points(computed, event) {
                Some(points) => points,
                None => return EventDecision::Skipped(SkipReason::NoPoints),
            },
        };
        let factor = match rule.half_life_days {
            Some(h) => 0.5f64.powf(age as f64 / MICROS_PER_DAY as f64 / h),
            None => 1.0,
        };
        EventDecision::Counted {
            factor,
            points: points * factor,
        }
    }

    fn band(&mut self, index: usize) -> u16 {
        let plan = self.plan;
        let Some(band) = plan.bands.get(index) else {
            return 0;
        };
        if T::ENABLED {
            self.tracer.enter(Scope::Band { band: index });
        }
        // INVARIANT: the compiler guarantees a final `otherwise`.
        let mut value = band.branches.last().map_or(0, |b| b.value);
        let mut chosen_branch = None;
        for (b, branch) in band.branches.iter().enumerate() {
            if T::ENABLED {
                self.tracer.enter(Scope::Branch {
                    band: index,
                    branch: b,
                });
            }
            let matched = match &branch.condition {
                None => true,
                Some(c) => self.cond(c, None),
            };
            if T::ENABLED {
                self.tracer.exit(ScopeResult::Branch { matched });
            }
            if matched {
                value = branch.value;
                chosen_branch = Some(b);
                break;
            }
        }
        if T::ENABLED {
            if let Some(chosen) = chosen_branch {
                // For explanations only: what the later branches would
                // say. Wrong types met there do not count (run never sees them).
                let warnings = self.outcome.warnings;
                for (later, other) in band.branches.iter().enumerate().skip(chosen + 1) {
                    self.tracer.enter(Scope::BranchNotReached {
                        band: index,
                        branch: later,
                    });
                    let holds = match &other.condition {
                        Some(c) => self.cond(c, None),
                        None => true,
                    };
                    self.tracer.exit(ScopeResult::BranchNotReached { holds });
                }
                self.outcome.warnings = warnings;
            }
            self.tracer.exit(ScopeResult::Band { value });
        }
        value
    }

    fn aggregate(&mut self, index: usize, agg: &'c EventAggregate) -> EvalValue<'c> {
        let contact = self.contact;
        if agg.prop.is_some() || agg.kind == AggregateKind::First {
            return self.prop_aggregate(index, agg);
        }
        let Some(events) = contact.events.get(agg.event) else {
            return match agg.kind {
                AggregateKind::Count => EvalValue::Num(0.0),
                AggregateKind::Any => EvalValue::Bool(false),
                _ => EvalValue::Absent,
            };
        };
        if T::ENABLED {
            self.tracer.enter(Scope::Aggregate { aggregate: index });
        }
        let mut count = 0u32;
        let mut last: Option<i64> = None;
        for event in events {
            let age = self.as_of - event.at_micros;
            if age < 0 || agg.window.is_some_and(|w| !w.contains(age)) {
                continue;
            }
            if let Some(filter) = &agg.filter {
                if !self.cond(filter, Some(event)) {
                    continue;
                }
            }
            count += 1;
            if agg.kind == AggregateKind::Any {
                break;
            }
            last = Some(last.map_or(event.at_micros, |l| l.max(event.at_micros)));
        }
        let result = match agg.kind {
            AggregateKind::Count => EvalValue::Num(f64::from(count)),
            AggregateKind::Any => EvalValue::Bool(count > 0),
            AggregateKind::Last => last.map_or(EvalValue::Absent, EvalValue::Time),
            // Evaluated by `prop_aggregate` (returned above).
            _ => EvalValue::Absent,
        };
        if T::ENABLED {
            self.tracer.exit(ScopeResult::Aggregate { value: &result });
        }
        result
    }
    /// Evaluates a condition; `event` is the event a `where` is testing.
    fn cond(&mut self, cond: &'c Cond, event: Option<&'c Event>) -> bool {
        match cond {
            Cond::Const(b) => *b,
            Cond::And(parts) => {
                if !T::ENABLED {
                    return parts.iter().all(|p| self.cond(p, event));
                }
                // Tracing: after the first failing part, evaluate the rest too,
                // for explanations only, so that `--why-not` can name every
                // failing test. They change nothing: not the result, not the
                // warnings count.
                let mut all = true;
                for p in parts {
                    if all {
                        all = self.cond(p, event);
                    } else {
                        let warnings = self.outcome.warnings;
                        self.tracer.enter(Scope::AfterFailure);
                        self.cond(p, event);
                        self.tracer.exit(ScopeResult::AfterFailure);
                        self.outcome.warnings = warnings;
                    }
                }
                all
            }
            Cond::Or(parts) => parts.iter().any(|p| self.cond(p, event)),
            Cond::Not(inner) => {
                if T::ENABLED {
                    self.tracer.enter(Scope::Not);
                }
                let result = !self.cond(inner, event);
                if T::ENABLED {
                    self.tracer.exit(ScopeResult::Not { holds: result });
                }
                result
            }
            Cond::Compare {
                op,
                left,
                right,
                ignore_case,
                time,
                span,
            } => {
                let l = self.operand(left, event);
                let r = self.operand(right, event);
                let result = if *time {
                    self.compare_times(*op, &l, &r, *span)
                } else {
                    self.compare(*op, &l, &r, *ignore_case, *span)
                };
                if T::ENABLED {
                    self.tracer.test(cond, result, &l, Some(&r));
                }
                result
            }
            Cond::In {
                left,
                set,
                negated,
                ignore_case,
                span,
            } => {
                let l = self.operand(left, event);
                let result = match self.in_set(&l, set, *ignore_case, *span) {
                    Some(found) => found != *negated,
                    None => false,
                };
                if T::ENABLED {
                    self.tracer.test(cond, result, &l, None);
                }
                result
            }
            Cond::Matches { left, regex, span } => {
                let l = self.operand(left, event);
                let result = match &l {
                    EvalValue::Text(t) => self.regexes.is_match(regex, t),
                    EvalValue::Absent => false,
                    other => self.wrong_type(*span, other, "text"),
                };
                if T::ENABLED {
                    self.tracer.test(cond, result, &l, None);
                }
                result
            }
            Cond::Text {
                op,
                left,
                right,
                ignore_case,
                span,
            } => {
                let l = self.operand(left, event);
                let r = self.operand(right, event);
                let result = match (&l, &r) {
                    (EvalValue::Absent, _) | (_, EvalValue::Absent) => false,
                    (EvalValue::Text(a), EvalValue::Text(b)) => text_test(*op, a, b, *ignore_case),
                    (EvalValue::Text(_), other) | (other, _) => self.wrong_type(*span, other, "text"),
                };
                if T::ENABLED {
                    self.tracer.test(cond, result, &l, Some(&r));
                }
                result
            }
            Cond::IsNull { operand, negated, .. } => {
                let v = self.operand(operand, event);
                let result = v.is_absent() != *negated;
                if T::ENABLED {
                    self.tracer.test(cond, result, &v, None);
                }
                result
            }
            Cond::Within {
                operand,
                window,
                span,
            } => self.time_in_window(cond, operand, Window::within(*window), *span, event),
            Cond::TimeWindow {
                operand,
                window,
                span,
            } => self.time_in_window(cond, operand, *window, *span, event),
            Cond::Between {
                operand,
                low,
                high,
                time,
                span,
            } => {
                let v = self.operand(operand, event);
                let lo = self.operand(low, event);
                let hi = self.operand(high, event);
                let result = self.between(&v, &lo, &hi, *time, *span);
                if T::ENABLED {
                    self.tracer.between_test(cond, result, &v, &lo, &hi);
                }
                result
            }
            Cond::BandOrdered { band, mask, .. } => self.band_in(cond, *band, *mask, false),
            Cond::Truthy { operand, span } => {
                let v = self.operand(operand, event);
                let result = match &v {
                    EvalValue::Bool(b) => *b,
                    EvalValue::Absent => false,
                    other => self.wrong_type(*span, other, "a boolean"),
                };
                if T::ENABLED {
                    self.tracer.test(cond, result, &v, None);
                }
                result
            }
            Cond::Has {
                list,
                quantifier,
                needles,
                separator,
                ignore_case,
                span,
            } => {
                let l = self.operand(list, event);
                let values: smallvec::SmallVec<[EvalValue<'c>; 4]> =
                    needles.iter().map(|n| self.operand(n, event)).collect();
                let result = self.has(
                    &l,
                    *quantifier,
                    &values,
                    separator.as_deref(),
                    *ignore_case,
                    *span,
                );
                if T::ENABLED {
                    // `has owner`: the value looked for was read too; show it.
                    match (needles.as_slice(), values.first()) {
                        ([needle], Some(r)) if !matches!(needle, Operand::Const(_)) => {
                            self.tracer.test(cond, result, &l, Some(r));
                        }
                        _ => self.tracer.test(cond, result, &l, None),
                    }
                }
                result
            }
            Cond::BandIs {
                band,
                mask,
                negated,
                span: _,
            } => self.band_in(cond, *band, *mask, *negated),
        }
    }

    /// Whether a band's value is in `mask` (`is`, `in`, `>=`, …), `negated`
    /// for `is not` and `not in`.
    fn band_in(&mut self, cond: &Cond, band: BandId, mask: u64, negated: bool) -> bool {
        let value = self.outcome.bands.get(band.index()).copied().unwrap_or(0);
        let result = (mask & (1u64 << value) != 0) != negated;
        if T::ENABLED {
            self.tracer
                .test(cond, result, &EvalValue::Band(band.index(), value), None);
        }
        result
    }

    /// Whether a timestamp's age (as-of − the time) is in `window`: `within`,
    /// `within next`, `between … ago`. Missing is false; not a time, false
    /// with a warning.
    fn time_in_window(
        &mut self,
        cond: &Cond,
        operand: &'c Operand,
        window: Window,
        span: Span,
        event: Option<&'c Event>,
    ) -> bool {
        let v = self.operand(operand, event);
        let result = match self.as_time(&v, span) {
            Some(t) => window.contains(self.as_of.saturating_sub(t)),
            None => false,
        };
        if T::ENABLED {
            self.tracer.test(cond, result, &v, None);
        }
        result
    }

    /// `list has …` on the values looked for: false when the list or one
    /// of them is absent, and a wrong type when either is not what `has` reads.
    fn has(
        &mut self,
        list: &EvalValue<'_>,
        quantifier: crate::ops::HasQuantifier,
        values: &[EvalValue<'_>],
        separator: Option<&str>,
        ignore_case: bool,
        span: Span,
    ) -> bool {
        if list.is_absent() {
            return false;
        }
        let mut needles: smallvec::SmallVec<[&str; 4]> = smallvec::SmallVec::new();
        for value in values {
            match value {
                EvalValue::Absent => return false,
                EvalValue::Text(text) => needles.push(text),
                other => return self.wrong_type(span, other, "text"),
            }
        }
        match lists::list_has(list, separator, quantifier, &needles, ignore_case) {
            Some(result) => result,
            None => self.wrong_type(span, list, "a list"),
        }
    }

    /// Records a wrong-type value; the test is false.
    fn wrong_type(&mut self, span: Span, found: &EvalValue<'_>, expected: &str) -> bool {
        self.outcome.warnings = self.outcome.warnings.saturating_add(1);
        if T::ENABLED {
            self.tracer.warning(span, found, expected);
        }
        false
    }

    /// A timestamp from a value: a time, or text that parses as one.
    fn as_time(&mut self, v: &EvalValue<'_>, span: Span) -> Option<i64> {
        match v {
            EvalValue::Time(t) => Some(*t),
            EvalValue::Text(s) => match crate::snapshot::parse_timestamp(s) {
                Some(t) => Some(t),
                None => {
                    self.wrong_type(span, v, "a timestamp");
                    None
                }
            },
            EvalValue::Absent => None,
            other => {
                self.wrong_type(span, other, "a timestamp");
                None
            }
        }
    }

    /// Compares two timestamps (text is parsed; a side that is not a
    /// timestamp is a wrong type).
    fn compare_times(&mut self, op: CompareOp, l: &EvalValue<'_>, r: &EvalValue<'_>, span: Span) -> bool {
        if l.is_absent() || r.is_absent() {
            return false;
        }
        let (Some(a), Some(b)) = (self.as_time(l, span), self.as_time(r, span)) else {
            return false;
        };
        ordered(op, a.cmp(&b))
    }

    // Inlined into `cond` as it was before `cond` grew past the inliner's
    // budget (issue 13): an outlined call cost 1 % of the playbook's run.
    #[inline(always)]
    fn compare(
        &mut self,
        op: CompareOp,
        l: &EvalValue<'_>,
        r: &EvalValue<'_>,
        ignore_case: bool,
        span: Span,
    ) -> bool {
        use std::cmp::Ordering;
        let ordering: Option<Ordering> = match (l, r) {
            (EvalValue::Absent, _) | (_, EvalValue::Absent) => return false,
            (EvalValue::Num(a), EvalValue::Num(b)) => a.partial_cmp(b),
            (EvalValue::Time(a), EvalValue::Time(b)) => Some(a.cmp(b)),
            (EvalValue::Time(a), EvalValue::Text(_)) => match self.as_time(r, span) {
                Some(b) => Some(a.cmp(&b)),
                None => return false,
            },
            (EvalValue::Text(_), EvalValue::Time(b)) => match self.as_time(l, span) {
                Some(a) => Some(a.cmp(b)),
                None => return false,
            },
            (EvalValue::Text(a), EvalValue::Text(b)) => {
                if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                    return self.wrong_type(span, l, "a number or a timestamp");
                }
                let equal = if ignore_case {
                    eq_ignoring_case(a, b)
                } else {
                    a == b
                };
                return equal == (op == CompareOp::Eq);
            }
            (EvalValue::Bool(a), EvalValue::Bool(b)) => {
                if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                    return self.wrong_type(span, l, "a number or a timestamp");
                }
                return (a == b) == (op == CompareOp::Eq);
            }
            // Which side is the wrong one: the non-constant side, by convention the left.
            (found, expected) => {
                let expected = expected.type_name();
                return self.wrong_type(span, found, expected);
            }
        };
        let Some(ordering) = ordering else { return false };
        ordered(op, ordering)
    }

    /// `low <= v <= high` (docs/language.md, `between`): false when a side
    /// is missing; a side of the wrong type is a warning, as in a comparison.
    fn between(
        &mut self,
        v: &EvalValue<'_>,
        low: &EvalValue<'_>,
        high: &EvalValue<'_>,
        time: bool,
        span: Span,
    ) -> bool {
        if time {
            return self.compare_times(CompareOp::Ge, v, low, span)
                && self.compare_times(CompareOp::Le, v, high, span);
        }
        self.compare(CompareOp::Ge, v, low, false, span) && self.compare(CompareOp::Le, v, high, false, span)
    }

    /// `Some(found)`, or `None` when the value is absent or of a wrong type.
    fn in_set(
        &mut self,
        v: &EvalValue<'_>,
        set: &'c [ConstValue],
        ignore_case: bool,
        span: Span,
    ) -> Option<bool> {
        if v.is_absent() {
            return None;
        }
        // An empty list holds nothing of any type.
        let mut typed = set.is_empty();
        for c in set {
            match member_matches(v, c, ignore_case) {
                Some(true) => return Some(true),
                Some(false) => typed = true,
                None => {}
            }
        }
        if typed {
            Some(false)
        } else {
            self.wrong_type(span, v, "a value of the list's type");
            None
        }
    }

    /// The value of an operand (a function call reports a wrong type at its
    /// own span).
    fn operand(&mut self, operand: &'c Operand, event: Option<&'c Event>) -> EvalValue<'c> {
        let contact = self.contact;
        match operand {
            Operand::Property(slot) => EvalValue::from_value(contact.props.get(*slot), contact),
            Operand::FromText { source, to } => {
                let value = self.operand(source, event);
                let converted = match (&value, to) {
                    (EvalValue::Text(text), DeclaredType::NumberFromText) => {
                        number_from_text(text).map(EvalValue::Num)
                    }
                    (EvalValue::Text(text), DeclaredType::BooleanFromText) => {
                        boolean_from_text(text).map(EvalValue::Bool)
                    }
                    _ => None,
                };
                converted.unwrap_or(value)
            }
            Operand::Email => match &contact.email {
                Some(e) => EvalValue::Text(Cow::Borrowed(e.as_str())),
                None => EvalValue::Absent,
            },
            Operand::Id => EvalValue::Text(Cow::Borrowed(contact.id.as_str())),
            Operand::EventProp(slot) => {
                EvalValue::from_value(event.and_then(|e| e.props.get(*slot)), contact)
            }
            Operand::Score(id) => EvalValue::Num(self.outcome.scores.get(id.index()).copied().unwrap_or(0.0)),
            Operand::Segment(id) => {
                EvalValue::Bool(self.outcome.segments.get(id.index()).copied().unwrap_or(false))
            }
            Operand::Aggregate(id) => {
                let plan = self.plan;
                match plan.aggregates.get(id.index()) {
                    Some(agg) => self.aggregate(id.index(), agg),
                    None => EvalValue::Absent,
                }
            }
            Operand::Const(c) => EvalValue::from_const(c),
            Operand::Call {
                function,
                argument,
                span,
            } => {
                let v = self.operand(argument, event);
                self.call(*function, v, *span)
            }
            Operand::Arith { first, rest, span } => {
                let mut total = self.arith_part(first, *span, event);
                for (op, part) in rest.iter() {
                    // Every part is evaluated, so its value is traced and its
                    // wrong type warned about, whatever came before it.
                    let value = self.arith_part(part, *span, event);
                    total = match (total, value) {
                        (Some(left), Some(right)) => match op.apply(left, right) {
                            Some(result) => Some(result),
                            None => {
                                let expected = if right == 0.0 && *op == ArithOp::Div {
                                    "a divisor other than 0"
                                } else {
                                    "a finite result"
                                };
                                self.wrong_type(*span, &EvalValue::Num(right), expected);
                                None
                            }
                        },
                        _ => None,
                    };
                }
                total.map_or(EvalValue::Absent, EvalValue::Num)
            }
        }
    }

    /// The points of a matched rule computed from values: (matched, points
    /// bounded by `max` and `min`, points before the bounds). A missing value
    /// gives none; a value of the wrong type gives none and a warning.
    fn computed_points(&mut self, computed: &'c ComputedPoints) -> (bool, f64, f64) {
        let raw = match self.operand(&computed.value, None) {
            EvalValue::Num(n) if computed.negated => -n,
            EvalValue::Num(n) => n,
            EvalValue::Absent => return (true, 0.0, 0.0),
            other => {
                self.wrong_type(computed.span, &other, "a number");
                return (true, 0.0, 0.0);
            }
        };
        let mut points = raw;
        if let Some(max) = computed.max {
            points = points.min(max);
        }
        if let Some(min) = computed.min {
            points = points.max(min);
        }
        (true, points, raw)
    }

    /// One part of an arithmetic expression as a number: `None` when it is
    /// missing, or of a wrong type (a warning at the expression's `span`).
    fn arith_part(&mut self, part: &'c Operand, span: Span, event: Option<&'c Event>) -> Option<f64> {
        let value = self.operand(part, event);
        if T::ENABLED && !matches!(part, Operand::Arith { .. }) {
            self.tracer.arith_operand(part, &value);
        }
        match value {
            EvalValue::Num(n) => Some(n),
            EvalValue::Absent => None,
            other => {
                self.wrong_type(span, &other, "a number");
                None
            }
        }
    }

    /// A function call; `span` is the call's own text, where a wrong type is reported.
    fn call(&mut self, f: Function, v: EvalValue<'c>, span: Span) -> EvalValue<'c> {
        match (f, v) {
            (_, EvalValue::Absent) => EvalValue::Absent,
            (Function::Lower, EvalValue::Text(t)) => EvalValue::Text(Cow::Owned(t.to_lowercase())),
            (Function::Upper, EvalValue::Text(t)) => EvalValue::Text(Cow::Owned(t.to_uppercase())),
            (Function::Trim, EvalValue::Text(t)) => match t {
                Cow::Borrowed(b) => EvalValue::Text(Cow::Borrowed(b.trim())),
                Cow::Owned(o) => EvalValue::Text(Cow::Owned(o.trim().to_string())),
            },
            (Function::Domain, EvalValue::Text(t)) => match t {
                Cow::Borrowed(b) => {
                    domain(b).map_or(EvalValue::Absent, |d| EvalValue::Text(Cow::Borrowed(d)))
                }
                Cow::Owned(o) => {
                    domain(&o).map_or(EvalValue::Absent, |d| EvalValue::Text(Cow::Owned(d.to_string())))
                }
            },
            (Function::DaysSince, v) => match self.as_time(&v, span) {
                Some(t) => EvalValue::Num((self.as_of - t) as f64 / MICROS_PER_DAY as f64),
                None => EvalValue::Absent,
            },
            (_, other) => {
                self.wrong_type(span, &other, "text");
                EvalValue::Absent
            }
        }
    }
}

/// Whether a list element equals the value: `None` when they differ in type.
fn member_matches(v: &EvalValue<'_>, c: &ConstValue, ignore_case: bool) -> Option<bool> {
    match (v, c) {
        // INVARIANT: with `ignoring case` the compiler folded the set (crate::case_fold).
        (EvalValue::Text(t), ConstValue::Text(s)) => {
            Some(if ignore_case { eq_folded(t, s) } else { **t == **s })
        }
        (EvalValue::Num(n), ConstValue::Number(m)) => Some(n == m),
        (EvalValue::Bool(b), ConstValue::Bool(m)) => Some(b == m),
        (EvalValue::Time(t), ConstValue::Time(m)) => Some(t == m),
        _ => None,
    }
}

fn ordered(op: CompareOp, ordering: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering;
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
    }
}

/// The domain of an email: after the last `@`, surrounding whitespace ignored;
/// none without an `@`, or with nothing after it (`sam@` has no domain, so
/// `website ends with domain(email)` cannot hold by default).
pub fn domain(email: &str) -> Option<&str> {
    let trimmed = email.trim();
    trimmed
        .rfind('@')
        .and_then(|i| trimmed.get(i + 1..))
        .filter(|domain| !domain.is_empty())
}

/// `value` compared case-insensitively with an already folded `folded`
/// (crate::case_fold).
fn eq_folded(value: &str, folded: &str) -> bool {
    if value.is_ascii() {
        value.eq_ignore_ascii_case(folded)
    } else {
        value.chars().map(fold_char).eq(folded.chars())
    }
}

fn text_test(op: TextOp, a: &str, b: &str, ignore_case: bool) -> bool {
    if ignore_case {
        text_test(op, &fold_text(a), &fold_text(b), false)
    } else {
        match op {
            TextOp::StartsWith => a.starts_with(b),
            TextOp::EndsWith => a.ends_with(b),
            TextOp::Contains => a.contains(b),
        }
    }
}

impl<'c> EvalValue<'c> {
    /// A value of `contact` (a property, or a prop of one of its events).
    fn from_value(v: Option<&'c FieldValue>, contact: &'c Contact) -> EvalValue<'c> {
        match v {
            None | Some(FieldValue::Missing) | Some(FieldValue::Null) => EvalValue::Absent,
            Some(FieldValue::Bool(b)) => EvalValue::Bool(*b),
            Some(FieldValue::Number(n)) => EvalValue::Num(*n),
            Some(FieldValue::Text(t)) => EvalValue::Text(Cow::Borrowed(t)),
            Some(FieldValue::List(index)) => EvalValue::List(contact.list(*index)),
            Some(FieldValue::Composite) => EvalValue::Composite,
        }
    }

    fn from_const(c: &'c ConstValue) -> EvalValue<'c> {
        match c {
            ConstValue::Null => EvalValue::Absent,
            ConstValue::Bool(b) => EvalValue::Bool(*b),
            ConstValue::Number(n) => EvalValue::Num(*n),
            ConstValue::Text(t) => EvalValue::Text(Cow::Borrowed(t)),
            ConstValue::Time(t) => EvalValue::Time(*t),
        }
    }
}
