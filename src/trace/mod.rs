//! Explain traces: the [`Recorder`] tracer that turns the evaluator's calls
//! into a [`Trace`] (every rule, event, branch, suppression and target with
//! the values it saw), and its renderings (text in [`render`], JSON through
//! serde; the JSON schema is documented in `docs/explain.md`).
//!
//! Architecture Invariant: a trace is recorded by the same evaluator code path
//! as `run` (`eval::evaluate_into` with a `Recorder`), so its numbers are the
//! numbers `run` prints.

pub mod render;
mod why_not;

pub use why_not::{why_not, WhyNot};

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::eval::{SkipReason, TargetKind, Tracer, Val};
use crate::ops::CompareOp;
use crate::plan::{Aggregate, Channel, Cond, Const, Operand, Plan, ScoreRuleKind, MICROS_PER_DAY};
use crate::snapshot::{format_timestamp, Contact, Value};
use crate::source::{Sources, Span};

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
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleTrace {
    pub label: String,
    pub at: String,
    /// `when`, `first` or `each`.
    pub kind: &'static str,
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
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowTrace {
    pub label: Option<String>,
    pub at: String,
    pub matched: bool,
    /// The row's points (given only when it matched).
    pub points: f64,
    pub tests: Vec<TestTrace>,
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
    /// `after_as_of`, `outside_window` or `filter_failed` when not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'static str>,
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
    pub channels: Vec<&'static str>,
    pub tests: Vec<TestTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TargetTrace {
    pub name: String,
    pub at: String,
    pub channel: &'static str,
    /// In the audience / enrolled / routed.
    pub member: bool,
    /// The target's own condition.
    pub condition: bool,
    /// Suppressions on this target's channel that apply.
    pub suppressed_by: Vec<String>,
    pub tests: Vec<TestTrace>,
    /// Routes only: the queue chosen, and the queue branches tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queue_branches: Vec<BranchTrace>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WarningTrace {
    pub at: String,
    pub message: String,
}

/// Which list a target trace belongs to.
fn kind_channel(kind: TargetKind) -> Channel {
    match kind {
        TargetKind::Audience => Channel::Ads,
        TargetKind::Workflow => Channel::Email,
        TargetKind::Route => Channel::Sales,
    }
}

/// A [`Tracer`] that records a [`Trace`].
pub struct Recorder<'a> {
    plan: &'a Plan,
    sources: &'a Sources,
    contact: &'a Contact,
    trace: Trace,
    /// Tests since the current scope opened.
    pending: Vec<TestTrace>,
    /// Warnings without a location of their own wait for the next test.
    unplaced_warnings: Vec<String>,
    aggregate_depth: u32,
    /// How many `not`s enclose the current test.
    not_depth: u32,
    /// How many failed `and`s enclose the current test.
    unneeded_depth: u32,
    /// Evaluating a band branch after the chosen one: warnings are not recorded.
    speculative: bool,
    /// (score, rule) of the open rule; scores are stored by declaration index.
    rule: Option<(usize, usize)>,
    row: Option<usize>,
    branch: Option<(usize, usize)>,
    queue_branch: Option<(usize, usize)>,
    scores: Vec<Option<ScoreTrace>>,
    segments: Vec<Option<SegmentTrace>>,
    bands: Vec<Option<BandTrace>>,
}

impl<'a> Recorder<'a> {
    pub fn new(plan: &'a Plan, sources: &'a Sources, contact: &'a Contact, as_of: i64) -> Recorder<'a> {
        Recorder {
            plan,
            sources,
            contact,
            trace: Trace {
                id: contact.id.clone(),
                as_of: format_timestamp(as_of),
                scores: Vec::new(),
                segments: Vec::new(),
                bands: Vec::new(),
                suppressions: Vec::new(),
                audiences: Vec::new(),
                workflows: Vec::new(),
                routes: Vec::new(),
                warnings: Vec::new(),
            },
            pending: Vec::new(),
            unplaced_warnings: Vec::new(),
            aggregate_depth: 0,
            not_depth: 0,
            unneeded_depth: 0,
            speculative: false,
            rule: None,
            row: None,
            branch: None,
            queue_branch: None,
            scores: (0..plan.scores.len()).map(|_| None).collect(),
            segments: (0..plan.segments.len()).map(|_| None).collect(),
            bands: (0..plan.bands.len()).map(|_| None).collect(),
        }
    }

    /// The finished trace, with scores, segments and bands in declaration order.
    pub fn finish(mut self) -> Trace {
        self.trace.scores = self.scores.into_iter().flatten().collect();
        self.trace.segments = self.segments.into_iter().flatten().collect();
        self.trace.bands = self.bands.into_iter().flatten().collect();
        for message in self.unplaced_warnings {
            self.trace.warnings.push(WarningTrace {
                at: String::new(),
                message,
            });
        }
        self.trace
    }

    fn at(&self, span: Span) -> String {
        let loc = self.sources.location(span);
        format!("{}:{}", loc.file, loc.line)
    }

    fn take_tests(&mut self) -> Vec<TestTrace> {
        std::mem::take(&mut self.pending)
    }

    fn current_rule(&mut self) -> Option<&mut RuleTrace> {
        let (score, rule) = self.rule?;
        self.scores.get_mut(score)?.as_mut()?.rules.get_mut(rule)
    }

    fn ensure_score(&mut self, index: usize) {
        let Some(score) = self.plan.scores.get(index) else {
            return;
        };
        let at = self.at(score.span);
        if let Some(slot @ None) = self.scores.get_mut(index) {
            *slot = Some(ScoreTrace {
                name: score.name.clone(),
                at,
                value: 0.0,
                sum: 0.0,
                low: score.low,
                high: score.high,
                clamped: false,
                rules: Vec::new(),
            });
        }
    }

    fn ensure_band(&mut self, index: usize) {
        let Some(band) = self.plan.bands.get(index) else {
            return;
        };
        let at = self.at(band.span);
        if let Some(slot @ None) = self.bands.get_mut(index) {
            *slot = Some(BandTrace {
                name: band.name.clone(),
                at,
                value: String::new(),
                branches: Vec::new(),
                not_reached: Vec::new(),
            });
        }
    }

    fn close_row(&mut self, matched: bool) {
        let Some(k) = self.row.take() else { return };
        let Some((score, rule)) = self.rule else { return };
        let Some(ScoreRuleKind::First { rows }) = self
            .plan
            .scores
            .get(score)
            .and_then(|s| s.rules.get(rule))
            .map(|r| &r.kind)
        else {
            return;
        };
        let Some(row) = rows.get(k) else { return };
        let trace = RowTrace {
            label: row.label.clone(),
            at: self.at(row.span),
            matched,
            points: if matched { row.points } else { 0.0 },
            tests: self.take_tests(),
        };
        if let Some(r) = self.current_rule() {
            r.rows.push(trace);
        }
    }

    fn close_branch(&mut self, matched: bool) {
        let Some((band, b)) = self.branch.take() else {
            return;
        };
        let trace = self.branch_trace(band, b, matched);
        if let Some(Some(bt)) = self.bands.get_mut(band) {
            bt.branches.push(trace);
        }
    }

    fn branch_trace(&mut self, band: usize, b: usize, matched: bool) -> BranchTrace {
        let plan = self.plan;
        let branch = plan
            .bands
            .get(band)
            .and_then(|bd| bd.branches.get(b).map(|br| (bd, br)));
        match branch {
            Some((bd, br)) => BranchTrace {
                value: bd.values.get(br.value as usize).cloned().unwrap_or_default(),
                at: self.at(br.span),
                matched,
                otherwise: br.condition.is_none(),
                tests: self.take_tests(),
            },
            None => BranchTrace {
                value: String::new(),
                at: String::new(),
                matched,
                otherwise: false,
                tests: self.take_tests(),
            },
        }
    }

    fn close_queue_branch(&mut self, matched: bool) {
        let Some((route, q)) = self.queue_branch.take() else {
            return;
        };
        let plan = self.plan;
        let Some(branch) = plan.routes.get(route).and_then(|r| r.queue.get(q)) else {
            return;
        };
        let trace = BranchTrace {
            value: branch.queue.clone(),
            at: self.at(branch.span),
            matched,
            otherwise: branch.condition.is_none(),
            tests: self.take_tests(),
        };
        if let Some(t) = self.trace.routes.get_mut(route) {
            t.queue_branches.push(trace);
        }
    }

    /// What an operand is, in words.
    fn describe(&self, operand: &Operand) -> String {
        let plan = self.plan;
        match operand {
            Operand::Property(slot) => plan.property_names.get(*slot).cloned().unwrap_or_default(),
            Operand::Email => String::from("email"),
            Operand::Id => String::from("id"),
            Operand::EventProp(slot) => {
                let event = self
                    .rule
                    .and_then(|(s, r)| match &plan.scores.get(s)?.rules.get(r)?.kind {
                        ScoreRuleKind::Each(each) => Some(each.event),
                        _ => None,
                    });
                event
                    .and_then(|e| plan.event_prop_names.get(e))
                    .and_then(|names| names.get(*slot))
                    .cloned()
                    .unwrap_or_else(|| String::from("event prop"))
            }
            Operand::Score(id) => plan
                .scores
                .get(id.index())
                .map_or(String::new(), |s| s.name.clone()),
            Operand::Segment(id) => plan
                .segments
                .get(id.index())
                .map_or(String::new(), |s| s.name.clone()),
            Operand::Aggregate(id) => plan
                .aggregates
                .get(id.index())
                .map_or(String::new(), |a| self.sources.text(a.span).to_string()),
            Operand::Const(c) => const_json(c).to_string(),
            Operand::Call(f, arg) => format!("{}({})", f.name(), self.describe(arg)),
        }
    }

    fn val_json(&self, v: &Val<'_>) -> Json {
        match v {
            Val::Absent => Json::Null,
            Val::Bool(b) => Json::Bool(*b),
            Val::Num(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
            Val::Text(t) => Json::String(t.to_string()),
            Val::Time(t) => Json::String(format_timestamp(*t)),
            Val::Composite => Json::String(String::from("<list or object>")),
            Val::Band(b, value) => Json::String(
                self.plan
                    .bands
                    .get(*b)
                    .and_then(|band| band.values.get(*value as usize))
                    .cloned()
                    .unwrap_or_default(),
            ),
        }
    }
}

fn const_json(c: &Const) -> Json {
    match c {
        Const::Null => Json::Null,
        Const::Bool(b) => Json::Bool(*b),
        Const::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Const::Text(t) => Json::String(t.to_string()),
        Const::Time(t) => Json::String(format_timestamp(*t)),
    }
}

fn skip_name(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::AfterAsOf => "after_as_of",
        SkipReason::OutsideWindow => "outside_window",
        SkipReason::FilterFailed => "filter_failed",
    }
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Missing | Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        Value::Text(t) => Json::String(t.to_string()),
        Value::Composite => Json::String(String::from("<list or object>")),
    }
}

impl Tracer for Recorder<'_> {
    const ENABLED: bool = true;

    fn enter_segment(&mut self, _segment: usize) {
        self.pending.clear();
    }

    fn segment(&mut self, segment: usize, value: bool) {
        let Some(s) = self.plan.segments.get(segment) else {
            return;
        };
        let trace = SegmentTrace {
            name: s.name.clone(),
            at: self.at(s.span),
            value,
            tests: self.take_tests(),
        };
        if let Some(slot) = self.segments.get_mut(segment) {
            *slot = Some(trace);
        }
    }

    fn enter_rule(&mut self, score: usize, rule: usize) {
        self.pending.clear();
        self.ensure_score(score);
        let Some(r) = self.plan.scores.get(score).and_then(|s| s.rules.get(rule)) else {
            return;
        };
        let kind = match r.kind {
            ScoreRuleKind::When { .. } => "when",
            ScoreRuleKind::First { .. } => "first",
            ScoreRuleKind::Each(_) => "each",
        };
        let trace = RuleTrace {
            label: r.label.clone(),
            at: self.at(r.span),
            kind,
            matched: false,
            points: 0.0,
            tests: Vec::new(),
            rows: Vec::new(),
            events: Vec::new(),
            cap: None,
        };
        if let Some(Some(s)) = self.scores.get_mut(score) {
            s.rules.push(trace);
            self.rule = Some((score, s.rules.len() - 1));
        }
    }

    fn enter_row(&mut self, row: usize) {
        self.close_row(false);
        self.pending.clear();
        self.row = Some(row);
    }

    fn row_matched(&mut self, row: usize) {
        self.row = Some(row);
        self.close_row(true);
    }

    fn event_counted(&mut self, index: usize, age: i64, factor: f64, contribution: f64) {
        self.push_event(index, age, None, Some(factor), Some(contribution));
    }

    fn event_skipped(&mut self, index: usize, age: i64, reason: SkipReason) {
        self.push_event(index, age, Some(skip_name(reason)), None, None);
    }

    fn capped(&mut self, sum: f64, total: f64) {
        if let Some(r) = self.current_rule() {
            r.cap = Some(CapTrace { sum, total });
        }
    }

    fn rule_total(&mut self, _score: usize, _rule: usize, matched: bool, total: f64) {
        self.close_row(false);
        let tests = self.take_tests();
        if let Some(r) = self.current_rule() {
            r.matched = matched;
            r.points = total;
            if r.kind == "when" {
                r.tests = tests;
            }
        }
        self.rule = None;
    }

    fn score(&mut self, score: usize, sum: f64, clamped: f64) {
        self.ensure_score(score);
        if let Some(Some(s)) = self.scores.get_mut(score) {
            s.sum = sum;
            s.value = clamped;
            s.clamped = sum != clamped;
        }
    }

    fn enter_branch(&mut self, band: usize, branch: usize) {
        self.ensure_band(band);
        self.close_branch(false);
        self.pending.clear();
        self.branch = Some((band, branch));
    }

    fn band(&mut self, band: usize, branch: usize, value: u16) {
        self.ensure_band(band);
        if self.branch == Some((band, branch)) {
            self.close_branch(true);
        } else {
            self.close_branch(false);
            let trace = self.branch_trace(band, branch, true);
            if let Some(Some(bt)) = self.bands.get_mut(band) {
                bt.branches.push(trace);
            }
        }
        let name = self
            .plan
            .bands
            .get(band)
            .and_then(|b| b.values.get(value as usize))
            .cloned()
            .unwrap_or_default();
        if let Some(Some(bt)) = self.bands.get_mut(band) {
            bt.value = name;
        }
    }

    fn enter_not_reached(&mut self, band: usize, _branch: usize) {
        self.ensure_band(band);
        self.close_branch(false);
        self.pending.clear();
        self.speculative = true;
    }

    fn enter_unneeded(&mut self) {
        self.unneeded_depth += 1;
    }

    fn exit_unneeded(&mut self) {
        self.unneeded_depth = self.unneeded_depth.saturating_sub(1);
    }

    fn enter_not(&mut self) {
        self.not_depth += 1;
    }

    fn exit_not(&mut self) {
        self.not_depth = self.not_depth.saturating_sub(1);
    }

    fn branch_not_reached(&mut self, band: usize, branch: usize, holds: bool) {
        self.speculative = false;
        self.branch = None;
        let trace = self.branch_trace(band, branch, holds);
        if let Some(Some(bt)) = self.bands.get_mut(band) {
            bt.not_reached.push(trace);
        }
    }

    fn enter_suppression(&mut self, _suppression: usize) {
        self.pending.clear();
    }

    fn suppression(&mut self, suppression: usize, applies: bool) {
        let Some(s) = self.plan.suppressions.get(suppression) else {
            return;
        };
        let trace = SuppressionTrace {
            name: s.name.clone(),
            at: self.at(s.span),
            applies,
            channels: Channel::ALL
                .into_iter()
                .filter(|c| s.channels & c.bit() != 0)
                .map(Channel::name)
                .collect(),
            tests: self.take_tests(),
        };
        self.trace.suppressions.push(trace);
    }

    fn enter_target(&mut self, _kind: TargetKind, _index: usize) {
        self.pending.clear();
    }

    fn target(&mut self, kind: TargetKind, index: usize, holds: bool, suppressed: bool) {
        let channel = kind_channel(kind);
        let plan = self.plan;
        let (name, span) = match kind {
            TargetKind::Audience => plan.audiences.get(index).map(|t| (t.name.clone(), t.span)),
            TargetKind::Workflow => plan.workflows.get(index).map(|t| (t.name.clone(), t.span)),
            TargetKind::Route => plan.routes.get(index).map(|t| (t.name.clone(), t.span)),
        }
        .unwrap_or_default();
        let suppressed_by: Vec<String> = if suppressed {
            self.trace
                .suppressions
                .iter()
                .filter(|s| s.applies && s.channels.contains(&channel.name()))
                .map(|s| s.name.clone())
                .collect()
        } else {
            Vec::new()
        };
        let trace = TargetTrace {
            name,
            at: self.at(span),
            channel: channel.name(),
            member: holds && !suppressed,
            condition: holds,
            suppressed_by,
            tests: self.take_tests(),
            queue: None,
            queue_branches: Vec::new(),
        };
        match kind {
            TargetKind::Audience => self.trace.audiences.push(trace),
            TargetKind::Workflow => self.trace.workflows.push(trace),
            TargetKind::Route => self.trace.routes.push(trace),
        }
    }

    fn enter_queue(&mut self, route: usize, branch: usize) {
        self.close_queue_branch(false);
        self.pending.clear();
        self.queue_branch = Some((route, branch));
    }

    fn queue(&mut self, route: usize, branch: Option<u16>) {
        let chosen = branch.map(usize::from);
        if let (Some((r, q)), Some(c)) = (self.queue_branch, chosen) {
            if r == route && q == c {
                self.close_queue_branch(true);
            }
        }
        self.close_queue_branch(false);
        let plan = self.plan;
        if let Some(c) = chosen {
            let is_otherwise = plan
                .routes
                .get(route)
                .and_then(|r| r.queue.get(c))
                .is_some_and(|b| b.condition.is_none());
            if is_otherwise {
                self.queue_branch = Some((route, c));
                self.close_queue_branch(true);
            }
        }
        let name = chosen.and_then(|c| plan.routes.get(route)?.queue.get(c).map(|b| b.queue.clone()));
        if let Some(t) = self.trace.routes.get_mut(route) {
            t.queue = name;
        }
    }

    fn test(&mut self, cond: &Cond, result: bool, left: &Val<'_>, right: Option<&Val<'_>>) {
        if self.aggregate_depth > 0 {
            return;
        }
        let Some(span) = cond.span() else { return };
        let at = self.at(span);
        for message in std::mem::take(&mut self.unplaced_warnings) {
            self.trace.warnings.push(WarningTrace {
                at: at.clone(),
                message,
            });
        }
        let (subject, op) = match cond {
            Cond::Compare {
                op,
                left: l,
                right: r,
                ..
            } => {
                // Name the non-constant side; with the constant written first
                // (`200 <= company_size`) the operator is mirrored so that the
                // trace reads subject, operator, value.
                let flipped = matches!(l, Operand::Const(_));
                let subject = if flipped { r } else { l };
                let op = match (op, flipped) {
                    (CompareOp::Eq, _) => "==",
                    (CompareOp::Ne, _) => "!=",
                    (CompareOp::Lt, false) | (CompareOp::Gt, true) => "<",
                    (CompareOp::Le, false) | (CompareOp::Ge, true) => "<=",
                    (CompareOp::Gt, false) | (CompareOp::Lt, true) => ">",
                    (CompareOp::Ge, false) | (CompareOp::Le, true) => ">=",
                };
                (self.describe(subject), op.to_string())
            }
            Cond::In { left, negated, .. } => (
                self.describe(left),
                String::from(if *negated { "not in" } else { "in" }),
            ),
            Cond::Matches { left, .. } => (self.describe(left), String::from("matches")),
            Cond::Text { op, left, .. } => (self.describe(left), op.words().to_string()),
            Cond::IsNull { operand, negated, .. } => (
                self.describe(operand),
                String::from(if *negated { "is not null" } else { "is null" }),
            ),
            Cond::Within { operand, .. } => (self.describe(operand), String::from("within")),
            Cond::Truthy { operand, .. } => (self.describe(operand), String::from("is true")),
            Cond::BandIs { band, negated, .. } => (
                self.plan
                    .bands
                    .get(band.index())
                    .map_or(String::new(), |b| b.name.clone()),
                String::from(if *negated { "is not" } else { "is" }),
            ),
            Cond::Const(_) | Cond::And(_) | Cond::Or(_) | Cond::Not(_) => (String::new(), String::new()),
        };
        let (value, other) = match cond {
            Cond::Compare {
                left: Operand::Const(_),
                ..
            } => (
                right.map_or(Json::Null, |r| self.val_json(r)),
                Some(self.val_json(left)),
            ),
            _ => (self.val_json(left), right.map(|r| self.val_json(r))),
        };
        let test = TestTrace {
            test: self.sources.text(span).trim().to_string(),
            at,
            result,
            subject,
            value,
            other,
            op,
            negated: self.not_depth % 2 == 1,
            after_failure: self.unneeded_depth > 0,
        };
        self.pending.push(test);
    }

    fn enter_aggregate(&mut self) {
        self.aggregate_depth += 1;
    }

    fn aggregate(&mut self, _aggregate: &Aggregate, _result: &Val<'_>) {
        self.aggregate_depth = self.aggregate_depth.saturating_sub(1);
    }

    fn warning(&mut self, span: Span, found: &Val<'_>, expected: &str) {
        if self.speculative || self.unneeded_depth > 0 {
            return;
        }
        let found_text = match found {
            Val::Absent => String::from("nothing"),
            other => format!("{} {}", other.type_name(), self.val_json(other)),
        };
        if span == Span::default() && self.sources.text(span).is_empty() {
            self.unplaced_warnings.push(format!(
                "expected {expected}, found {found_text}; the test is false"
            ));
            return;
        }
        let message = format!(
            "`{}`: expected {expected}, found {found_text}; the test is false",
            self.sources.text(span)
        );
        let at = self.at(span);
        if !self
            .trace
            .warnings
            .iter()
            .any(|w| w.at == at && w.message == message)
        {
            self.trace.warnings.push(WarningTrace { at, message });
        }
    }
}

impl Recorder<'_> {
    fn push_event(
        &mut self,
        index: usize,
        age: i64,
        skipped: Option<&'static str>,
        factor: Option<f64>,
        points: Option<f64>,
    ) {
        let tests = self.take_tests();
        let plan = self.plan;
        let Some((score, rule)) = self.rule else { return };
        let Some(ScoreRuleKind::Each(each)) = plan
            .scores
            .get(score)
            .and_then(|s| s.rules.get(rule))
            .map(|r| &r.kind)
        else {
            return;
        };
        let event_type = plan.event_names.get(each.event).cloned().unwrap_or_default();
        let event = self.contact.events.get(each.event).and_then(|e| e.get(index));
        let mut props = BTreeMap::new();
        if let (Some(event), Some(names)) = (event, plan.event_prop_names.get(each.event)) {
            for (name, value) in names.iter().zip(&event.props) {
                if !value.is_absent() {
                    props.insert(name.clone(), value_json(value));
                }
            }
        }
        let trace = EventTrace {
            event_type,
            index,
            at: event.map_or_else(String::new, |e| format_timestamp(e.at_micros)),
            age_days: age as f64 / MICROS_PER_DAY as f64,
            counted: skipped.is_none(),
            skipped,
            factor,
            points,
            props,
            tests,
        };
        if let Some(r) = self.current_rule() {
            r.events.push(trace);
        }
    }
}

/// Evaluates one contact with a recorder: the outcome `run` would compute and its trace.
pub fn explain(
    plan: &Plan,
    sources: &Sources,
    contact: &Contact,
    as_of: i64,
) -> (crate::eval::Outcome, Trace) {
    let mut outcome = crate::eval::Outcome::for_plan(plan);
    let mut recorder = Recorder::new(plan, sources, contact, as_of);
    let mut regexes = crate::eval::RegexScratch::default();
    crate::eval::evaluate_into(plan, contact, as_of, &mut outcome, &mut regexes, &mut recorder);
    (outcome, recorder.finish())
}
