//! The tracing interface of the evaluator: scopes that open and close in
//! pairs, and the tests and warnings met inside them.
//!
//! The evaluator calls [`Tracer::enter`] when it starts on a part of the
//! rule set (a score, a rule, an event, a band branch, a target, a `not`, …)
//! and [`Tracer::exit`] with that part's result when it is done, so every
//! `enter` is matched by one `exit` and scopes nest. [`Tracer::test`] and
//! [`Tracer::warning`] belong to the innermost open scope.
//!
//! Every method has an empty default body; [`NoTrace`] sets `ENABLED` to
//! false so that the evaluator's `if T::ENABLED { … }` guards compile away and
//! `run` pays nothing for tracing.

use super::EvalValue;
use crate::plan::{Cond, Operand};
use crate::source::Span;

/// Which list of the plan a target belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Audience,
    Workflow,
    Route,
}

/// Why an event did not count for an `each` rule.
///
/// Serialized in `explain --format json` (`skipped`) as `after_as_of`,
/// `outside_window`, `filter_failed` and `no_points`: part of the public JSON format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The event happened after as-of.
    AfterAsOf,
    /// The event's age is outside the rule's window: older than `within`
    /// allows, or outside an age range (`between 8 and 30 days ago`).
    OutsideWindow,
    /// The rule's `where` filter does not hold for the event.
    FilterFailed,
    /// The rule's points are computed from the event's props
    /// (`=> + minutes * 0.5`), and a prop was missing or not a number.
    NoPoints,
}

/// A part of the evaluation. Everything reported between
/// `enter(scope)` and the matching `exit` belongs to it.
///
/// Indices are declaration indices into the plan's lists; a `Row` or an
/// `Event` belongs to the `Rule` that encloses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A score: its rules follow.
    Score {
        score: usize,
    },
    /// One rule of a score: the tests of a `when` rule, the rows of a
    /// `first` rule or the events of an `each` rule follow.
    Rule {
        score: usize,
        rule: usize,
    },
    /// One row of the enclosing `first` rule.
    Row {
        row: usize,
    },
    /// One event of the enclosing `each` rule's type (`index` within the
    /// contact's events of that type, in input order): its filter's tests.
    Event {
        index: usize,
    },
    /// A band: its branches follow.
    Band {
        band: usize,
    },
    /// A branch of a band, up to and including the chosen one.
    Branch {
        band: usize,
        branch: usize,
    },
    /// A branch after the chosen one, evaluated only for explanations: its
    /// tests and warnings are not part of the result.
    BranchNotReached {
        band: usize,
        branch: usize,
    },
    Segment {
        segment: usize,
    },
    Suppression {
        suppression: usize,
    },
    /// An audience, workflow or route: its condition's tests, then (routes
    /// only) its queue branches.
    Target {
        kind: TargetKind,
        index: usize,
    },
    /// One queue branch of the enclosing route.
    QueueBranch {
        route: usize,
        branch: usize,
    },
    /// The inside of a `not`.
    Not,
    /// The parts of an `and` after one failed, evaluated only for
    /// explanations (they change no result).
    AfterFailure,
    /// An event aggregate (`count of …`, `any …`, `last …`): the tests of its
    /// `where` follow.
    Aggregate {
        aggregate: usize,
    },
}

/// What an `each` rule did with one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventDecision {
    /// The event counted: the decay factor (1 without decay) and its points
    /// (the rule's points × factor).
    Counted {
        factor: f64,
        points: f64,
    },
    Skipped(SkipReason),
}

/// How a scope ended: one variant per [`Scope`] variant, given to
/// [`Tracer::exit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScopeResult<'v> {
    /// The sum of the rules and the value after clamping to the range.
    Score {
        sum: f64,
        clamped: f64,
    },
    /// Did the rule match (its condition held, a row matched, an event
    /// counted), the points it added, and (for `each`) the sum of its events
    /// before `max`/`min` (equal to `points` when nothing bounded it).
    Rule {
        matched: bool,
        points: f64,
        uncapped: f64,
    },
    Row {
        matched: bool,
    },
    /// The event's age in microseconds (negative after as-of) and what the
    /// rule did with it.
    Event {
        age: i64,
        decision: EventDecision,
    },
    /// The index of the band's value.
    Band {
        value: u16,
    },
    Branch {
        matched: bool,
    },
    BranchNotReached {
        holds: bool,
    },
    Segment {
        value: bool,
    },
    Suppression {
        applies: bool,
    },
    /// The condition's result, whether the target's channel is suppressed,
    /// and for a route the queue branch chosen.
    Target {
        holds: bool,
        suppressed: bool,
        queue: Option<u16>,
    },
    QueueBranch {
        matched: bool,
    },
    /// The result of the whole `not`.
    Not {
        holds: bool,
    },
    AfterFailure,
    /// The aggregate's value.
    Aggregate {
        value: &'v EvalValue<'v>,
    },
}

impl ScopeResult<'_> {
    /// Whether this result ends a scope like `scope` (same variant).
    pub fn closes(&self, scope: &Scope) -> bool {
        matches!(
            (self, scope),
            (ScopeResult::Score { .. }, Scope::Score { .. })
                | (ScopeResult::Rule { .. }, Scope::Rule { .. })
                | (ScopeResult::Row { .. }, Scope::Row { .. })
                | (ScopeResult::Event { .. }, Scope::Event { .. })
                | (ScopeResult::Band { .. }, Scope::Band { .. })
                | (ScopeResult::Branch { .. }, Scope::Branch { .. })
                | (
                    ScopeResult::BranchNotReached { .. },
                    Scope::BranchNotReached { .. }
                )
                | (ScopeResult::Segment { .. }, Scope::Segment { .. })
                | (ScopeResult::Suppression { .. }, Scope::Suppression { .. })
                | (ScopeResult::Target { .. }, Scope::Target { .. })
                | (ScopeResult::QueueBranch { .. }, Scope::QueueBranch { .. })
                | (ScopeResult::Not { .. }, Scope::Not)
                | (ScopeResult::AfterFailure, Scope::AfterFailure)
                | (ScopeResult::Aggregate { .. }, Scope::Aggregate { .. })
        )
    }
}

#[allow(unused_variables)]
pub trait Tracer {
    /// When false, the evaluator makes no calls at all.
    const ENABLED: bool;

    /// A scope opens; the calls until the matching [`Tracer::exit`] belong to it.
    fn enter(&mut self, scope: Scope) {}
    /// The innermost open scope closes with its result.
    fn exit(&mut self, result: ScopeResult<'_>) {}
    /// One test with the values it saw (`right` for two-sided tests).
    fn test(&mut self, cond: &Cond, result: bool, left: &EvalValue<'_>, right: Option<&EvalValue<'_>>) {}
    /// A `between` test with the value and both bounds it saw (the
    /// arithmetic operands of all three come first, as for `test`).
    fn between_test(
        &mut self,
        cond: &Cond,
        result: bool,
        value: &EvalValue<'_>,
        low: &EvalValue<'_>,
        high: &EvalValue<'_>,
    ) {
    }
    /// A value of the wrong type: met by the test at `span`, or by a function
    /// call inside it, at the call's own span. The test is false.
    fn warning(&mut self, span: Span, found: &EvalValue<'_>, expected: &str) {}
    /// The value of one operand of an arithmetic expression (not itself
    /// arithmetic), in evaluation order: left to right, the left side of a
    /// test before its right side; the test that reads the expression
    /// follows.
    fn arith_operand(&mut self, operand: &Operand, value: &EvalValue<'_>) {}
    /// Inside a prop aggregate (`sum of minutes in webinar …`, `url of last
    /// page_view`): one event that made its value (`index` among the
    /// contact's events of that type), with the value it read from it
    /// (absent for `first`).
    fn aggregate_event(&mut self, index: usize, value: &EvalValue<'_>) {}
    /// One pick of the route just closed (`role` says which), with the name
    /// it gave (`None`: nothing, or its fallback follows).
    fn pick(&mut self, role: PickRole, report: PickReport<'_>, picked: Option<&str>) {}
    /// The route just closed routed the contact: its queue, its assignee
    /// (outer `None` when the route declares none) and its SLA in hours.
    fn routed(&mut self, queue: &str, assignee: Option<Option<&str>>, sla_hours: f64) {}
}

/// Whether a pick chose a route's queue or its assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickRole {
    Queue,
    Assignee,
}

/// How one pick of a routed contact was made (after the route's scope
/// closed): the value it read and what it chose. A property pick whose value
/// was not usable is followed by its fallback's report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PickReport<'v> {
    /// `from p` / `assign to p`: the value read, and the name taken from it
    /// (`None` when it was missing, empty or not text).
    Property {
        name: &'v str,
        value: &'v EvalValue<'v>,
        taken: Option<&'v str>,
    },
    /// A table: the key's value and the row matched (`None` for `otherwise`).
    Table {
        table: usize,
        key: &'v EvalValue<'v>,
        row: Option<u16>,
    },
    /// A round robin: FNV-1a 64 of the contact id, and the member index.
    RoundRobin { hash: u64, index: usize, members: usize },
    /// A literal name.
    Name,
}

/// The tracer of `run`: records nothing, costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl Tracer for NoTrace {
    const ENABLED: bool = false;
}
