//! The [`Recorder`] tracer: turns the evaluator's scopes, tests and warnings
//! into a [`Trace`].
//!
//! It keeps a stack of the open scopes. A test goes to the innermost one; when
//! a scope closes, the record it built (a rule, a row, an event, a branch, a
//! target, …) goes into the record of the scope around it, or into the
//! trace. Whether a test is under a `not`, after a failed `and`, or inside an
//! aggregate's `where` (not recorded) is read from the stack.

use std::collections::BTreeMap;

use super::schema::{
    BandTrace, BranchTrace, CapTrace, ConvertedTrace, EventTrace, OperandTrace, PickTrace, RowTrace,
    RuleKind, RuleTrace, ScoreTrace, SegmentTrace, SuppressionTrace, TargetTrace, TestTrace, Trace,
    WarningTrace,
};
use super::values::{eval_value_json, field_value_json, Describer};
use crate::eval::{EvalValue, EventDecision, PickReport, PickRole, Scope, ScopeResult, TargetKind, Tracer};
use crate::plan::{Cond, Operand, Plan, Reach, ScoreRuleKind, MICROS_PER_DAY};
use crate::snapshot::{
    boolean_from_text, format_timestamp, number_from_text, Contact, DeclaredType, FieldValue,
};
use crate::source::{Sources, Span};

use serde_json::Value as Json;

/// One open scope: the tests met directly in it, and the record it fills in
/// as the scopes inside it close.
struct Frame {
    scope: Scope,
    tests: Vec<TestTrace>,
    node: Node,
}

/// The record an open scope fills in; scopes that build their record only
/// when they close (rows, events, branches, …) hold `Leaf`.
enum Node {
    Leaf,
    Score(ScoreTrace),
    Rule(RuleTrace),
    Band(BandTrace),
    Target(TargetTrace),
}

/// A [`Tracer`] that records a [`Trace`].
pub struct Recorder<'a> {
    plan: &'a Plan,
    sources: &'a Sources,
    contact: &'a Contact,
    trace: Trace,
    /// The open scopes, innermost last.
    open: Vec<Frame>,
    /// Scores, segments and bands by declaration index (they are evaluated
    /// in dependency order).
    scores: Vec<Option<ScoreTrace>>,
    segments: Vec<Option<SegmentTrace>>,
    bands: Vec<Option<BandTrace>>,
    /// The values of arithmetic operands met since the last test, for the
    /// next test (`Tracer::arith_operand`).
    arith_values: Vec<Json>,
    /// The instant of the evaluation (for the times a window accepts).
    as_of: i64,
    /// The prop aggregates evaluated since the last test, with their events,
    /// for the next test (`Tracer::aggregate_event`; see `aggregate_trace.rs`).
    aggregates: super::aggregate_trace::PendingAggregates,
}

/// The contact's property values that `number from text` or `boolean from
/// text` convert, in slot order: what every test of the plan read instead.
fn converted_properties(plan: &Plan, contact: &Contact) -> Vec<ConvertedTrace> {
    let mut converted = Vec::new();
    for (slot, declared) in plan.decode.property_types.iter().enumerate() {
        let Some(FieldValue::Text(text)) = contact.props.get(slot) else {
            continue;
        };
        let value = match declared {
            Some(DeclaredType::NumberFromText) => {
                number_from_text(text).map(|n| field_value_json(&FieldValue::Number(n), contact))
            }
            Some(DeclaredType::BooleanFromText) => boolean_from_text(text).map(Json::Bool),
            _ => None,
        };
        if let Some(value) = value {
            converted.push(ConvertedTrace {
                property: plan.property_names.get(slot).cloned().unwrap_or_default(),
                text: text.to_string(),
                value,
            });
        }
    }
    converted
}

/// A target's channel and exemptions.
fn target_reach(plan: &Plan, kind: TargetKind, index: usize) -> Option<&Reach> {
    match kind {
        TargetKind::Audience => plan.audiences.get(index).map(|t| &t.reach),
        TargetKind::Workflow => plan.workflows.get(index).map(|t| &t.reach),
        TargetKind::Route => plan.routes.get(index).map(|t| &t.reach),
    }
}

fn rule_kind(kind: &ScoreRuleKind) -> RuleKind {
    match kind {
        ScoreRuleKind::When { .. } => RuleKind::When,
        ScoreRuleKind::First { .. } => RuleKind::First,
        ScoreRuleKind::Each(_) => RuleKind::Each,
    }
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
                converted: converted_properties(plan, contact),
            },
            open: Vec::new(),
            scores: (0..plan.scores.len()).map(|_| None).collect(),
            segments: (0..plan.segments.len()).map(|_| None).collect(),
            bands: (0..plan.bands.len()).map(|_| None).collect(),
            arith_values: Vec::new(),
            as_of,
            aggregates: super::aggregate_trace::PendingAggregates::new(as_of),
        }
    }

    /// The finished trace, with scores, segments and bands in declaration order.
    pub fn finish(mut self) -> Trace {
        self.trace.scores = self.scores.into_iter().flatten().collect();
        self.trace.segments = self.segments.into_iter().flatten().collect();
        self.trace.bands = self.bands.into_iter().flatten().collect();
        self.trace
    }

    fn at(&self, span: Span) -> String {
        let loc = self.sources.location(span);
        format!("{}:{}", loc.file, loc.line)
    }

    /// Whether a scope like `is` is open.
    fn inside(&self, is: impl Fn(&Scope) -> bool) -> bool {
        self.open.iter().any(|f| is(&f.scope))
    }

    /// Whether a warning at `span` is about a value the innermost open
    /// aggregate reads from an event (its own span), not about a `where` test.
    fn reads_aggregate_value(&self, span: Span) -> bool {
        let innermost = self.open.iter().rev().find_map(|f| match f.scope {
            Scope::Aggregate { aggregate } => Some(aggregate),
            _ => None,
        });
        innermost
            .and_then(|a| self.plan.aggregates.get(a))
            .is_some_and(|a| a.span == span)
    }

    /// Whether a warning at `span` is about the points an `each` rule
    /// computes from one event's props (`=> + minutes * 0.5`, or a part of it).
    fn computes_event_points(&self, span: Span) -> bool {
        matches!(
            self.open_rule_kind(),
            Some(ScoreRuleKind::Each(each)) if each.computed.as_ref().is_some_and(|c| {
                c.span.file == span.file && c.span.start <= span.start && span.end <= c.span.end
            })
        )
    }

    /// The record of the innermost open scope.
    fn parent(&mut self) -> Option<&mut Node> {
        self.open.last_mut().map(|f| &mut f.node)
    }

    /// (score, rule) of the innermost open rule.
    fn open_rule(&self) -> Option<(usize, usize)> {
        self.open.iter().rev().find_map(|f| match f.scope {
            Scope::Rule { score, rule } => Some((score, rule)),
            _ => None,
        })
    }

    fn open_rule_kind(&self) -> Option<&'a ScoreRuleKind> {
        let plan = self.plan;
        let (score, rule) = self.open_rule()?;
        plan.scores.get(score)?.rules.get(rule).map(|r| &r.kind)
    }

    /// Puts the operand values of a closed score's computed value, or of a
    /// closed rule's computed points, into its record.
    fn attach_worked(&mut self, scope: Scope, values: &[Json]) {
        let plan = self.plan;
        let describer = Describer {
            plan,
            sources: self.sources,
            event: None,
        };
        let points = |computed: &crate::plan::ComputedPoints| {
            let text = describer.worked(&computed.value, &mut values.iter().cloned());
            match &computed.value {
                Operand::Arith { rest, .. }
                    if computed.negated && rest.first().is_some_and(|(op, _)| !op.is_multiplicative()) =>
                {
                    format!("- ({text})")
                }
                _ => format!("{} {text}", if computed.negated { "-" } else { "+" }),
            }
        };
        match scope {
            Scope::Score { score } => {
                let worked = plan
                    .scores
                    .get(score)
                    .and_then(|s| s.value.as_ref())
                    .map(|v| describer.worked(v, &mut values.iter().cloned()));
                if let Some(Some(trace)) = self.scores.get_mut(score) {
                    trace.worked = worked;
                }
            }
            Scope::Rule { score, rule } => {
                let Some(kind) = plan
                    .scores
                    .get(score)
                    .and_then(|s| s.rules.get(rule))
                    .map(|r| &r.kind)
                else {
                    return;
                };
                let Some(Node::Score(parent)) = self.parent() else {
                    return;
                };
                let Some(trace) = parent.rules.last_mut() else {
                    return;
                };
                match kind {
                    ScoreRuleKind::When {
                        computed: Some(computed),
                        ..
                    } => trace.worked = Some(points(computed)),
                    ScoreRuleKind::First { rows } => {
                        if let Some((row, computed)) = trace
                            .rows
                            .iter_mut()
                            .zip(rows)
                            .filter(|(row, _)| row.matched)
                            .find_map(|(row, plan_row)| plan_row.computed.as_ref().map(|c| (row, c)))
                        {
                            row.worked = Some(points(computed));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// The record a scope starts with when it opens.
    fn node(&self, scope: Scope) -> Node {
        let plan = self.plan;
        match scope {
            Scope::Score { score } => plan.scores.get(score).map_or(Node::Leaf, |s| {
                Node::Score(ScoreTrace {
                    name: s.name.clone(),
                    at: self.at(s.span),
                    value: 0.0,
                    sum: 0.0,
                    low: s.low,
                    high: s.high,
                    clamped: false,
                    rules: Vec::new(),
                    worked: None,
                })
            }),
            Scope::Rule { score, rule } => {
                plan.scores
                    .get(score)
                    .and_then(|s| s.rules.get(rule))
                    .map_or(Node::Leaf, |r| {
                        Node::Rule(RuleTrace {
                            label: r.label.clone(),
                            at: self.at(r.span),
                            kind: rule_kind(&r.kind),
                            matched: false,
                            points: 0.0,
                            tests: Vec::new(),
                            rows: Vec::new(),
                            events: Vec::new(),
                            cap: None,
                            worked: None,
                        })
                    })
            }
            Scope::Band { band } => plan.bands.get(band).map_or(Node::Leaf, |b| {
                Node::Band(BandTrace {
                    name: b.name.clone(),
                    at: self.at(b.span),
                    value: String::new(),
                    branches: Vec::new(),
                    not_reached: Vec::new(),
                })
            }),
            Scope::Target { kind, index } => {
                let target = match kind {
                    TargetKind::Audience => plan.audiences.get(index).map(|t| (&t.name, t.span)),
                    TargetKind::Workflow => plan.workflows.get(index).map(|t| (&t.name, t.span)),
                    TargetKind::Route => plan.routes.get(index).map(|t| (&t.name, t.span)),
                };
                let channel = target_reach(plan, kind, index).map_or("", |r| plan.channel_name(r.channel));
                target.map_or(Node::Leaf, |(name, span)| {
                    Node::Target(TargetTrace {
                        name: name.clone(),
                        at: self.at(span),
                        channel: channel.to_string(),
                        member: false,
                        condition: false,
                        suppressed_by: Vec::new(),
                        waived: Vec::new(),
                        tests: Vec::new(),
                        queue: None,
                        queue_branches: Vec::new(),
                        picks: Vec::new(),
                        assignee: None,
                        sla_hours: None,
                    })
                })
            }
            _ => Node::Leaf,
        }
    }

    /// A closed scope's record goes into the record around it or into the trace.
    fn close(&mut self, frame: Frame, result: ScopeResult<'_>) {
        let Frame { scope, tests, node } = frame;
        match (scope, node, result) {
            (Scope::Score { score }, Node::Score(mut t), ScopeResult::Score { sum, clamped }) => {
                t.sum = sum;
                t.value = clamped;
                t.clamped = sum != clamped;
                if let Some(slot) = self.scores.get_mut(score) {
                    *slot = Some(t);
                }
            }
            (
                Scope::Rule { .. },
                Node::Rule(mut t),
                ScopeResult::Rule {
                    matched,
                    points,
                    uncapped,
                },
            ) => {
                t.matched = matched;
                t.points = points;
                // The matched row's points: computed ones are known only now
                // (for fixed ones this is the row's own number).
                if let Some(row) = t.rows.iter_mut().find(|r| r.matched) {
                    row.points = uncapped;
                }
                // Only a `when` rule has tests of its own: rows and events
                // took theirs.
                t.tests = tests;
                if uncapped != points {
                    t.cap = Some(CapTrace {
                        sum: uncapped,
                        total: points,
                    });
                }
                if let Some(Node::Score(s)) = self.parent() {
                    s.rules.push(t);
                }
            }
            (Scope::Row { row }, _, ScopeResult::Row { matched }) => {
                let Some(ScoreRuleKind::First { rows }) = self.open_rule_kind() else {
                    return;
                };
                let Some(row) = rows.get(row) else { return };
                let trace = RowTrace {
                    label: row.label.clone(),
                    at: self.at(row.span),
                    matched,
                    points: if matched { row.points } else { 0.0 },
                    tests,
                    worked: None,
                };
                if let Some(Node::Rule(r)) = self.parent() {
                    r.rows.push(trace);
                }
            }
            (Scope::Event { index }, _, ScopeResult::Event { age, decision }) => {
                let Some(trace) = self.event_trace(index, age, decision, tests) else {
                    return;
                };
                if let Some(Node::Rule(r)) = self.parent() {
                    r.events.push(trace);
                }
            }
            (Scope::Band { band }, Node::Band(mut t), ScopeResult::Band { value }) => {
                t.value = self
                    .plan
                    .bands
                    .get(band)
                    .and_then(|b| b.values.get(usize::from(value)))
                    .cloned()
                    .unwrap_or_default();
                if let Some(slot) = self.bands.get_mut(band) {
                    *slot = Some(t);
                }
            }
            (Scope::Branch { band, branch }, _, ScopeResult::Branch { matched }) => {
                let trace = self.band_branch_trace(band, branch, matched, tests);
                if let Some(Node::Band(b)) = self.parent() {
                    b.branches.push(trace);
                }
            }
            (Scope::BranchNotReached { band, branch }, _, ScopeResult::BranchNotReached { holds }) => {
                let trace = self.band_branch_trace(band, branch, holds, tests);
                if let Some(Node::Band(b)) = self.parent() {
                    b.not_reached.push(trace);
                }
            }
            (Scope::Segment { segment }, _, ScopeResult::Segment { value }) => {
                let Some(s) = self.plan.segments.get(segment) else {
                    return;
                };
                let trace = SegmentTrace {
                    name: s.name.clone(),
                    at: self.at(s.span),
                    value,
                    tests,
                };
                if let Some(slot) = self.segments.get_mut(segment) {
                    *slot = Some(trace);
                }
            }
            (Scope::Suppression { suppression }, _, ScopeResult::Suppression { applies }) => {
                let Some(s) = self.plan.suppressions.get(suppression) else {
                    return;
                };
                let trace = SuppressionTrace {
                    name: s.name.clone(),
                    at: self.at(s.span),
                    applies,
                    channels: self.plan.channel_names(s.channels).map(String::from).collect(),
                    tests,
                };
                self.trace.suppressions.push(trace);
            }
            (
                Scope::Target { kind, index },
                Node::Target(mut t),
                ScopeResult::Target {
                    holds,
                    suppressed,
                    queue,
                },
            ) => {
                // Suppressions are recorded in declaration order, one per
                // suppression of the plan.
                if let Some(reach) = target_reach(self.plan, kind, index) {
                    let applying = self.trace.suppressions.iter().enumerate().filter(|(i, s)| {
                        s.applies
                            && self
                                .plan
                                .suppressions
                                .get(*i)
                                .is_some_and(|p| p.channels & reach.channel.bit() != 0)
                    });
                    for (i, s) in applying {
                        if reach.blocked_by.contains(i) {
                            if suppressed {
                                t.suppressed_by.push(s.name.clone());
                            }
                        } else {
                            t.waived.push(s.name.clone());
                        }
                    }
                }
                t.member = holds && !suppressed;
                t.condition = holds;
                t.tests = tests;
                if kind == TargetKind::Route {
                    t.queue = queue.and_then(|q| {
                        let route = self.plan.routes.get(index)?;
                        route.queue.get(usize::from(q)).map(|b| b.queue.clone())
                    });
                }
                match kind {
                    TargetKind::Audience => self.trace.audiences.push(t),
                    TargetKind::Workflow => self.trace.workflows.push(t),
                    TargetKind::Route => self.trace.routes.push(t),
                }
            }
            (Scope::QueueBranch { route, branch }, _, ScopeResult::QueueBranch { matched }) => {
                let plan = self.plan;
                let Some(b) = plan.routes.get(route).and_then(|r| r.queue.get(branch)) else {
                    return;
                };
                let trace = BranchTrace {
                    value: b.queue.clone(),
                    at: self.at(b.span),
                    matched,
                    otherwise: b.condition.is_none(),
                    tests,
                };
                if let Some(Node::Target(t)) = self.parent() {
                    t.queue_branches.push(trace);
                }
            }
            // A `not` or the rest of a failed `and` is part of the condition
            // around it: its tests go there (marked when they were recorded).
            (Scope::Not | Scope::AfterFailure, _, _) => {
                if let Some(parent) = self.open.last_mut() {
                    parent.tests.extend(tests);
                }
            }
            // An aggregate's `where` tests are not recorded.
            _ => {}
        }
    }

    /// The earliest and latest times a timestamp window accepts at as-of.
    fn window_bounds(&self, cond: &Cond) -> Option<[Json; 2]> {
        let Cond::TimeWindow { window, .. } = cond else {
            return None;
        };
        let time = |age: i64| Json::String(format_timestamp(self.as_of.saturating_sub(age)));
        Some([time(window.max_age), time(window.min_age)])
    }

    /// The values an ordered band test accepts, in declaration order.
    fn accepted_band_values(&self, cond: &Cond) -> Vec<String> {
        let Cond::BandOrdered { band, mask, .. } = cond else {
            return Vec::new();
        };
        self.plan.bands.get(band.index()).map_or_else(Vec::new, |b| {
            b.values
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < 64 && mask & (1u64 << i) != 0)
                .map(|(_, v)| v.clone())
                .collect()
        })
    }

    fn band_branch_trace(&self, band: usize, b: usize, matched: bool, tests: Vec<TestTrace>) -> BranchTrace {
        let plan = self.plan;
        let branch = plan
            .bands
            .get(band)
            .and_then(|bd| bd.branches.get(b).map(|br| (bd, br)));
        match branch {
            Some((bd, br)) => BranchTrace {
                value: bd.values.get(usize::from(br.value)).cloned().unwrap_or_default(),
                at: self.at(br.span),
                matched,
                otherwise: br.condition.is_none(),
                tests,
            },
            None => BranchTrace {
                value: String::new(),
                at: String::new(),
                matched,
                otherwise: false,
                tests,
            },
        }
    }

    /// One event of the open `each` rule.
    fn event_trace(
        &self,
        index: usize,
        age: i64,
        decision: EventDecision,
        tests: Vec<TestTrace>,
    ) -> Option<EventTrace> {
        let plan = self.plan;
        let Some(ScoreRuleKind::Each(each)) = self.open_rule_kind() else {
            return None;
        };
        let event_type = plan.event_names.get(each.event).cloned().unwrap_or_default();
        let event = self.contact.events.get(each.event).and_then(|e| e.get(index));
        let mut props = BTreeMap::new();
        if let (Some(event), Some(names)) = (event, plan.event_prop_names.get(each.event)) {
            for (name, value) in names.iter().zip(&event.props) {
                if !value.is_absent() {
                    props.insert(name.clone(), field_value_json(value, self.contact));
                }
            }
        }
        let (skipped, factor, points) = match decision {
            EventDecision::Counted { factor, points } => (None, Some(factor), Some(points)),
            EventDecision::Skipped(reason) => (Some(reason), None, None),
        };
        Some(EventTrace {
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
        })
    }
}

impl Tracer for Recorder<'_> {
    const ENABLED: bool = true;

    fn enter(&mut self, scope: Scope) {
        let node = self.node(scope);
        self.open.push(Frame {
            scope,
            tests: Vec::new(),
            node,
        });
    }

    fn exit(&mut self, result: ScopeResult<'_>) {
        // An aggregate is read inside a test's value: what was read before
        // it stays for that test, and its own record waits for it too.
        if let (Some(Scope::Aggregate { aggregate }), ScopeResult::Aggregate { value }) =
            (self.open.last().map(|f| f.scope), &result)
        {
            self.open.pop();
            self.aggregates
                .close(self.plan, self.sources, self.contact, aggregate, value);
            return;
        }
        self.aggregates.clear();
        // Values no test took are those of computed points or a computed
        // score, read just before their scope closes.
        let values = std::mem::take(&mut self.arith_values);
        let Some(frame) = self.open.pop() else { return };
        // The evaluator pairs every enter with an exit of the same kind
        // (`eval`'s tests check it); anything else is dropped.
        if result.closes(&frame.scope) {
            let scope = frame.scope;
            self.close(frame, result);
            if !values.is_empty() {
                self.attach_worked(scope, &values);
            }
        }
    }

    fn test(&mut self, cond: &Cond, result: bool, left: &EvalValue<'_>, right: Option<&EvalValue<'_>>) {
        let arith_values = std::mem::take(&mut self.arith_values);
        if self.inside(|s| matches!(s, Scope::Aggregate { .. })) {
            return;
        }
        let Some(span) = cond.span() else { return };
        let plan = self.plan;
        let event = match self.open_rule_kind() {
            Some(ScoreRuleKind::Each(each)) => Some(each.event),
            _ => None,
        };
        let describer = Describer {
            plan,
            sources: self.sources,
            event,
        };
        let (subject, op) = describer.subject_and_op(cond);
        let (value, other) = match cond {
            Cond::Compare {
                left: Operand::Const(_),
                ..
            } => (
                right.map_or(Json::Null, |r| eval_value_json(plan, r)),
                Some(eval_value_json(plan, left)),
            ),
            _ => (
                eval_value_json(plan, left),
                right.map(|r| eval_value_json(plan, r)),
            ),
        };
        let (worked, operands) = arith_worked(&describer, cond, &arith_values);
        let other_worked = other_side_worked(&describer, cond, &arith_values);
        let nots = self.open.iter().filter(|f| f.scope == Scope::Not).count();
        let test = TestTrace {
            test: self.sources.text(span).trim().to_string(),
            at: self.at(span),
            result,
            subject,
            value,
            other,
            op,
            negated: nots % 2 == 1,
            after_failure: self.inside(|s| *s == Scope::AfterFailure),
            worked,
            other_worked,
            operands,
            bounds: self.window_bounds(cond),
            accepts: self.accepted_band_values(cond),
            aggregates: self.aggregates.take(),
        };
        if let Some(frame) = self.open.last_mut() {
            frame.tests.push(test);
        }
    }

    fn between_test(
        &mut self,
        cond: &Cond,
        result: bool,
        value: &EvalValue<'_>,
        low: &EvalValue<'_>,
        high: &EvalValue<'_>,
    ) {
        let before = self.open.last().map_or(0, |f| f.tests.len());
        self.test(cond, result, value, None);
        let plan = self.plan;
        if let Some(test) = self.open.last_mut().and_then(|f| f.tests.get_mut(before)) {
            test.bounds = Some([eval_value_json(plan, low), eval_value_json(plan, high)]);
        }
    }

    fn aggregate_event(&mut self, index: usize, value: &EvalValue<'_>) {
        if let Some(Scope::Aggregate { .. }) = self.open.last().map(|f| f.scope) {
            self.aggregates.event(self.plan, index, value);
        }
    }

    fn arith_operand(&mut self, _operand: &Operand, value: &EvalValue<'_>) {
        // Computed points are read after their rule's tests: their values
        // are dropped when the rule's scope closes (see `exit`).
        // An aggregate's `where` tests are not recorded, nor their operands.
        if !self.inside(|s| matches!(s, Scope::Aggregate { .. })) {
            self.arith_values.push(eval_value_json(self.plan, value));
        }
    }

    fn pick(&mut self, role: PickRole, report: PickReport<'_>, picked: Option<&str>) {
        let plan = self.plan;
        let mut t = PickTrace {
            role: match role {
                PickRole::Queue => "queue",
                PickRole::Assignee => "assignee",
            },
            source: "name",
            property: None,
            value: None,
            table: None,
            row: None,
            hash: None,
            index: None,
            members: None,
            picked: picked.map(String::from),
        };
        match report {
            // A literal name says nothing a route's `queue` does not,
            // unless it is a fallback (after a property pick).
            PickReport::Name => {
                let after_property = self
                    .trace
                    .routes
                    .last()
                    .and_then(|r| r.picks.last())
                    .is_some_and(|p| p.source == "property" && p.picked.is_none() && p.role == t.role);
                if !after_property {
                    return;
                }
            }
            PickReport::Property { name, value, .. } => {
                t.source = "property";
                t.property = Some(name.to_string());
                t.value = Some(eval_value_json(plan, value));
            }
            PickReport::Table { table, key, row } => {
                t.source = "table";
                if let Some(table) = plan.routing.tables.get(table) {
                    t.table = Some(table.name.clone());
                    t.property = Some(table.key_name.clone());
                    t.row = Some(match row.and_then(|r| table.rows.get(usize::from(r))) {
                        Some((k, _)) => k.clone(),
                        None => String::from("otherwise"),
                    });
                }
                t.value = Some(eval_value_json(plan, key));
            }
            PickReport::RoundRobin { hash, index, members } => {
                t.source = "round_robin";
                t.hash = Some(format!("{hash:016x}"));
                t.index = Some(index);
                t.members = Some(members);
            }
        }
        if let Some(route) = self.trace.routes.last_mut() {
            route.picks.push(t);
        }
    }

    fn routed(&mut self, queue: &str, assignee: Option<Option<&str>>, sla_hours: f64) {
        let plan = self.plan;
        let Some(t) = self.trace.routes.last_mut() else {
            return;
        };
        t.queue = Some(queue.to_string());
        t.assignee = assignee.map(|a| a.map(String::from));
        let route_sla = plan.routes.iter().find(|r| r.name == t.name).map(|r| r.sla_hours);
        if route_sla != Some(sla_hours) {
            t.sla_hours = Some(sla_hours);
        }
    }

    fn warning(&mut self, span: Span, found: &EvalValue<'_>, expected: &str) {
        // Branches after the chosen one and the rest of a failed `and` are
        // evaluated only to explain: `run` never meets their wrong types.
        if self.inside(|s| matches!(s, Scope::BranchNotReached { .. } | Scope::AfterFailure)) {
            return;
        }
        let found_text = match found {
            EvalValue::Absent => String::from("nothing"),
            other => format!("{} {}", other.type_name(), eval_value_json(self.plan, other)),
        };
        // A value read by the aggregate itself (`sum of minutes in …`) is
        // one event's, and that event is skipped; any other wrong type
        // makes its test false.
        let consequence = if self.reads_aggregate_value(span) {
            "that event is skipped"
        } else if self.computes_event_points(span) {
            "that event gives no points"
        } else {
            "the test is false"
        };
        let message = format!(
            "`{}`: expected {expected}, found {found_text}; {consequence}",
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

/// A test's arithmetic with the values its operands had (`values`, in
/// evaluation order: the left side's, then the right side's): the worked
/// subject, when the subject is arithmetic, and the non-constant operands.
/// The right side of a comparison with each arithmetic operand's value
/// (`intent 80 * 0.5`), when it is arithmetic and the left side is not a
/// constant (then the right side is the subject, worked by `arith_worked`).
/// `values` are the left side's, then the right side's.
fn other_side_worked(describer: &Describer<'_>, cond: &Cond, values: &[Json]) -> Option<String> {
    let Cond::Compare { left, right, .. } = cond else {
        return None;
    };
    if values.is_empty() || matches!(left, Operand::Const(_)) || !matches!(right, Operand::Arith { .. }) {
        return None;
    }
    fn leaf_count(operand: &Operand) -> usize {
        match operand {
            Operand::Arith { first, rest, .. } => {
                leaf_count(first) + rest.iter().map(|(_, part)| leaf_count(part)).sum::<usize>()
            }
            _ => 1,
        }
    }
    // A left side that is not arithmetic traced no operand values.
    let skip = match left {
        Operand::Arith { .. } => leaf_count(left),
        _ => 0,
    };
    Some(describer.worked(right, &mut values.iter().skip(skip).cloned()))
}

fn arith_worked(
    describer: &Describer<'_>,
    cond: &Cond,
    values: &[Json],
) -> (Option<String>, Vec<OperandTrace>) {
    if values.is_empty() {
        return (None, Vec::new());
    }
    let (left, right) = match cond {
        Cond::Compare { left, right, .. } | Cond::Text { left, right, .. } => (Some(left), Some(right)),
        Cond::In { left, .. } | Cond::Matches { left, .. } | Cond::Has { list: left, .. } => {
            (Some(left), None)
        }
        Cond::IsNull { operand, .. }
        | Cond::Within { operand, .. }
        | Cond::TimeWindow { operand, .. }
        | Cond::Truthy { operand, .. } => (Some(operand), None),
        Cond::Between { operand, .. } => (Some(operand), None),
        Cond::Const(_)
        | Cond::And(_)
        | Cond::Or(_)
        | Cond::Not(_)
        | Cond::BandIs { .. }
        | Cond::BandOrdered { .. } => (None, None),
    };
    fn leaves<'p>(operand: &'p Operand, out: &mut Vec<&'p Operand>) {
        match operand {
            Operand::Arith { first, rest, .. } => {
                leaves(first, out);
                rest.iter().for_each(|(_, part)| leaves(part, out));
            }
            other => out.push(other),
        }
    }
    let mut all = Vec::new();
    let mut left_leaves = 0;
    if let Some(left) = left.filter(|o| matches!(o, Operand::Arith { .. })) {
        leaves(left, &mut all);
        left_leaves = all.len();
    }
    if let Some(right) = right.filter(|o| matches!(o, Operand::Arith { .. })) {
        leaves(right, &mut all);
    }
    // `between`'s bounds are read after its value, low then high.
    if let Cond::Between { low, high, .. } = cond {
        for bound in [low, high] {
            if matches!(bound, Operand::Arith { .. }) {
                leaves(bound, &mut all);
            }
        }
    }
    let operands = all
        .iter()
        .zip(values)
        .filter(|(operand, _)| !matches!(operand, Operand::Const(_)))
        .map(|(operand, value)| OperandTrace {
            operand: describer.operand(operand),
            value: value.clone(),
        })
        .collect();
    // The subject is the left side unless it is a constant (see `subject_and_op`).
    let worked = match (left, right) {
        (Some(l @ Operand::Arith { .. }), _) => Some(describer.worked(l, &mut values.iter().cloned())),
        (Some(Operand::Const(_)), Some(r @ Operand::Arith { .. })) => {
            Some(describer.worked(r, &mut values.iter().skip(left_leaves).cloned()))
        }
        _ => None,
    };
    (worked, operands)
}
