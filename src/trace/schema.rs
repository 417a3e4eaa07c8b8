//! The trace records: the public JSON format of `explain --format json`.
//!
//! Architecture Invariant: the field names, types and `skip_serializing_if`
//! rules of these types are the JSON format, documented field by field in
//! `docs/explain.md` and pinned by `tests/snapshots/integration__explain__json_*.snap`.
//! Adding a field is fine; renaming or removing one breaks users.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::eval::SkipReason;

/// Everything that decided one contact's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Trace {
    pub id: String,
    pub as_of: String,
    pub scores: Vec<ScoreTrace>,
    pub segments: Vec<SegmentTrace>,
    pub bands: Vec<BandTrace>,
    pub suppressions: Vec<SuppressionTrace>,
    pub audiences: Vec<TargetTrace>,
    pub workflows: Vec<TargetTrace>,
    pub routes: Vec<TargetTrace>,
    pub warnings: Vec<WarningTrace>,
    /// Property values read as numbers or booleans from text
    /// (`number from text`), with the text as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub converted: Vec<ConvertedTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScoreTrace {
    pub name: String,
    /// `file:line` of the declaration.
    pub at: String,
    /// The score after clamping (unrounded).
    pub value: f64,
    /// The sum of the rules before clamping.
    pub sum: f64,
    pub low: f64,
    pub high: f64,
    pub clamped: bool,
    pub rules: Vec<RuleTrace>,
    /// A computed score's value with each operand's value
    /// (`0.6 * fit 85 + 0.4 * intent 57.26`); `sum` is its result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worked: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleTrace {
    pub label: String,
    pub at: String,
    pub kind: RuleKind,
    pub matched: bool,
    /// What the rule added to the score (after its cap).
    pub points: f64,
    /// The tests of a `when` rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestTrace>,
    /// The rows of a `first` group that were tried, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowTrace>,
    /// Every event of the rule's type, counted or skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventTrace>,
    /// Present when `max`/`min` changed the sum of the events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<CapTrace>,
    /// A matched `when` rule's computed points with each operand's value
    /// (`+ webinar_minutes 30 * 0.5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worked: Option<String>,
}

/// Which kind of rule a [`RuleTrace`] is, serialized as `when`, `first`
/// or `each`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// `"label" when <condition> => +N`
    When,
    /// `"label" first { when … => +N … }`
    First,
    /// `"label" each <event> … => +N`
    Each,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowTrace {
    pub label: Option<String>,
    pub at: String,
    pub matched: bool,
    /// The row's points (given only when it matched).
    pub points: f64,
    pub tests: Vec<TestTrace>,
    /// A matched row's computed points with each operand's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worked: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventTrace {
    #[serde(rename = "type")]
    pub event_type: String,
    /// Position among the contact's events of this type (0-based, input order).
    pub index: usize,
    pub at: String,
    pub age_days: f64,
    pub counted: bool,
    /// `after_as_of`, `outside_window`, `filter_failed` or `no_points` when not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<SkipReason>,
    /// Decay factor (1 without decay) when counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Points × factor when counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
    /// The event props the rules read.
    pub props: BTreeMap<String, Json>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CapTrace {
    pub sum: f64,
    pub total: f64,
}

/// One test with the values it saw.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TestTrace {
    /// The test as written.
    pub test: String,
    pub at: String,
    pub result: bool,
    /// What was tested: `fit`, `job_title`, `count of email_sent within 7 days`.
    pub subject: String,
    /// The subject's value (`null` when missing).
    pub value: Json,
    /// The other side of a comparison, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<Json>,
    /// `==`, `>=`, `in`, `matches`, `starts with`, `is null`, `within`, `is`, `is true` …
    pub op: String,
    /// The test is under a `not` (an odd number of them): the condition
    /// fails when the test holds.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub negated: bool,
    /// An earlier part of the same `and` already failed: this test did not
    /// decide anything and is shown only to say what else would have to change.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub after_failure: bool,
    /// For an arithmetic subject: the subject with each operand's value
    /// after it (`0.6 * fit 85 + 0.4 * intent 57.26`); `value` is the result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worked: Option<String>,
    /// For an arithmetic other side of a comparison (`fit > intent * 0.5`):
    /// that side with each operand's value after it (`intent 80 * 0.5`);
    /// `other` is its result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_worked: Option<String>,
    /// The operands of the test's arithmetic (both sides), constants left
    /// out, with the values they had, in evaluation order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operands: Vec<OperandTrace>,
    /// `between`: the low and high bounds it read; `within next` and
    /// `between … ago` on a timestamp: the earliest and latest times that
    /// pass (both included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounds: Option<[Json; 2]>,
    /// An ordered band test (`grade >= B2`): the values it accepts, in
    /// declaration order (the first is the highest).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepts: Vec<String>,
    /// The prop aggregates the test read (`sum of …`, `distinct count of …`,
    /// `first …`, `url of last …`), each with its value and its events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aggregates: Vec<AggregateTrace>,
}

/// A prop aggregate a test read: its text, its value, and the events that
/// made it (at most [`AggregateTrace::MAX_EVENTS`], `more_events` counts the rest).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AggregateTrace {
    pub aggregate: String,
    pub at: String,
    /// `null` when missing.
    pub value: Json,
    pub events: Vec<AggregateEventTrace>,
    #[serde(skip_serializing_if = "is_zero")]
    pub more_events: usize,
}

impl AggregateTrace {
    /// How many events a trace lists per aggregate.
    pub const MAX_EVENTS: usize = 20;
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One event an aggregate read: which (its position among the contact's
/// events of its type), when, and the prop's value (`null` when missing,
/// or for `first`, which reads none).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AggregateEventTrace {
    pub index: usize,
    pub at: String,
    pub age_days: f64,
    pub value: Json,
}

/// One operand of a test's arithmetic and its value (`null` when missing).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OperandTrace {
    pub operand: String,
    pub value: Json,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SegmentTrace {
    pub name: String,
    pub at: String,
    pub value: bool,
    pub tests: Vec<TestTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BandTrace {
    pub name: String,
    pub at: String,
    pub value: String,
    /// Branches tried, in order, up to the chosen one.
    pub branches: Vec<BranchTrace>,
    /// Branches after the chosen one, evaluated only to explain (`matched`
    /// says whether their condition holds).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_reached: Vec<BranchTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BranchTrace {
    pub value: String,
    pub at: String,
    pub matched: bool,
    pub otherwise: bool,
    pub tests: Vec<TestTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SuppressionTrace {
    pub name: String,
    pub at: String,
    pub applies: bool,
    pub channels: Vec<String>,
    pub tests: Vec<TestTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TargetTrace {
    pub name: String,
    pub at: String,
    pub channel: String,
    /// In the audience / enrolled / routed.
    pub member: bool,
    /// The target's own condition.
    pub condition: bool,
    /// Suppressions on this target's channel that apply and that it is not
    /// exempt from.
    pub suppressed_by: Vec<String>,
    /// Suppressions on this target's channel that apply but that it is
    /// exempt from (`despite`): they did not keep the contact out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waived: Vec<String>,
    pub tests: Vec<TestTrace>,
    /// Routes only: the queue chosen, and the queue branches tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queue_branches: Vec<BranchTrace>,
    /// Routes only: how the queue and the assignee were picked when they
    /// were not a literal name (a property, a table, a round robin), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub picks: Vec<PickTrace>,
    /// Routes with `assign to` only: the assignee (`null` when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Option<String>>,
    /// Routes only, when the chosen queue branch has its own `sla`: the SLA in hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_hours: Option<f64>,
}

/// One pick of a routed contact's queue or assignee.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PickTrace {
    /// `queue` or `assignee`.
    pub role: &'static str,
    /// `property`, `table`, `round_robin` or `name` (a fallback's literal).
    pub source: &'static str,
    /// The property read (`from`, `assign to`, a table's key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// The value it had (`null` when missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The table row matched: its key as written, or `otherwise`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// Round robin: FNV-1a 64 of the contact id, as 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Round robin: the member index (hash mod members) and the member count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<usize>,
    /// The name picked; `null` when the property gave none (its fallback follows).
    pub picked: Option<String>,
}

/// One property value converted from text by its declared type:
/// `company_size "56" → 56`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConvertedTrace {
    pub property: String,
    /// The text in the snapshot.
    pub text: String,
    /// The number or boolean every test read.
    pub value: Json,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WarningTrace {
    pub at: String,
    pub message: String,
}
