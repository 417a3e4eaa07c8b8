//! The tracing interface of the evaluator.
//!
//! Every method has an empty default body; [`NoTrace`] sets `ENABLED` to
//! false so that the evaluator's `if T::ENABLED { … }` guards compile away and
//! `run` pays nothing for tracing. A recording tracer (used by `explain`)
//! sees every decision in evaluation order: `enter_*` calls open the scope the
//! following `test` calls belong to.

use super::Val;
use crate::plan::{Aggregate, Cond};
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Audience,
    Workflow,
    Route,
}

/// Why an event did not count for an `each` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    AfterAsOf,
    OutsideWindow,
    FilterFailed,
}

#[allow(unused_variables)]
pub trait Tracer {
    /// When false, the evaluator makes no calls at all.
    const ENABLED: bool;

    fn enter_segment(&mut self, segment: usize) {}
    fn segment(&mut self, segment: usize, value: bool) {}
    fn enter_rule(&mut self, score: usize, rule: usize) {}
    fn enter_row(&mut self, row: usize) {}
    fn row_matched(&mut self, row: usize) {}
    /// Event `index` (within its type) counted: age in microseconds, decay factor, points.
    fn event_counted(&mut self, index: usize, age: i64, factor: f64, contribution: f64) {}
    fn event_skipped(&mut self, index: usize, age: i64, reason: SkipReason) {}
    /// An `each` rule's sum was bounded by `max`/`min`.
    fn capped(&mut self, sum: f64, total: f64) {}
    /// A rule's result: did it match (condition held, a row matched, an event counted) and its points.
    fn rule_total(&mut self, score: usize, rule: usize, matched: bool, total: f64) {}
    /// The sum of the rules and the value after clamping to the range.
    fn score(&mut self, score: usize, sum: f64, clamped: f64) {}
    fn enter_branch(&mut self, band: usize, branch: usize) {}
    fn band(&mut self, band: usize, branch: usize, value: u16) {}
    /// A branch after the chosen one is about to be evaluated, only for
    /// explanations (its tests and warnings are not part of the result).
    fn enter_not_reached(&mut self, band: usize, branch: usize) {}
    /// A branch after the chosen one, evaluated only for explanations.
    fn branch_not_reached(&mut self, band: usize, branch: usize, holds: bool) {}
    /// The tests until `exit_unneeded` come after an `and` already failed:
    /// evaluated only for explanations (they change no result).
    fn enter_unneeded(&mut self) {}
    fn exit_unneeded(&mut self) {}
    /// The tests until `exit_not` are under a `not`.
    fn enter_not(&mut self) {}
    fn exit_not(&mut self) {}
    fn enter_suppression(&mut self, suppression: usize) {}
    fn suppression(&mut self, suppression: usize, applies: bool) {}
    fn enter_target(&mut self, kind: TargetKind, index: usize) {}
    /// The condition's result and whether the target's channel is suppressed.
    fn target(&mut self, kind: TargetKind, index: usize, holds: bool, suppressed: bool) {}
    fn enter_queue(&mut self, route: usize, branch: usize) {}
    fn queue(&mut self, route: usize, branch: Option<u16>) {}
    /// One test with the values it saw (`right` for two-sided tests).
    fn test(&mut self, cond: &Cond, result: bool, left: &Val<'_>, right: Option<&Val<'_>>) {}
    /// An aggregate starts counting: the `where` tests that follow belong to it.
    fn enter_aggregate(&mut self) {}
    /// An aggregate's result (after its `where` tests).
    fn aggregate(&mut self, aggregate: &Aggregate, result: &Val<'_>) {}
    /// A value of the wrong type: the test is false.
    fn warning(&mut self, span: Span, found: &Val<'_>, expected: &str) {}
}

/// The tracer of `run`: records nothing, costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl Tracer for NoTrace {
    const ENABLED: bool = false;
}
