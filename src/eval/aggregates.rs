//! The event aggregates that read an event prop, or pick one event (issue 13):
//! `sum`/`min`/`max`/`avg of P in E`, `distinct count of P in E`, `first E`,
//! and `P of first E` / `P of last E`, as docs/language.md §10 says.
//!
//! `count`, `any` and `last` stay in `mod.rs` (their loop is the hot path of
//! the reference playbook); the evaluator comes here only for these kinds.

use super::{EvalValue, Evaluator, Scope, ScopeResult, Tracer};
use crate::ops::AggregateKind;
use crate::plan::{ComputedPoints, EventAggregate};
use crate::snapshot::{Contact, Event, FieldValue};
use std::collections::HashSet;

/// A value `distinct count` compares: text exactly (case and spaces count),
/// a number by its value (`1` and `1.0` are one value; the number `5` and
/// the text `"5"` are two), a boolean.
#[derive(Debug, PartialEq, Eq, Hash)]
enum DistinctKey<'c> {
    Text(&'c str),
    Number(u64),
    Bool(bool),
}

impl<'c> DistinctKey<'c> {
    fn of(value: &EvalValue<'c>) -> Option<DistinctKey<'c>> {
        match value {
            EvalValue::Text(std::borrow::Cow::Borrowed(t)) => Some(DistinctKey::Text(t)),
            // `-0` and `0` are one value.
            EvalValue::Num(n) => Some(DistinctKey::Number(if *n == 0.0 { 0 } else { n.to_bits() })),
            EvalValue::Bool(b) => Some(DistinctKey::Bool(*b)),
            _ => None,
        }
    }
}

impl<'c, T: Tracer> Evaluator<'c, '_, '_, T> {
    /// An aggregate of a prop-reading or event-picking kind (see the module
    /// comment). The matching events are those of `count of`: at or before
    /// as-of, inside the window, the `where` holding.
    pub(super) fn prop_aggregate(&mut self, index: usize, agg: &'c EventAggregate) -> EvalValue<'c> {
        let contact = self.contact;
        let events: &'c [Event] = contact.events.get(agg.event).map_or(&[], Vec::as_slice);
        if T::ENABLED {
            self.tracer.enter(Scope::Aggregate { aggregate: index });
        }
        let result = match agg.kind {
            AggregateKind::First | AggregateKind::FirstProp | AggregateKind::LastProp => {
                self.picked_event(agg, events)
            }
            AggregateKind::DistinctCount => self.distinct_count(agg, events),
            _ => self.numeric(agg, events),
        };
        if T::ENABLED {
            self.tracer.exit(ScopeResult::Aggregate { value: &result });
        }
        result
    }

    /// Whether `event` matches: at or before as-of, inside the window, and the `where` holds.
    fn event_matches(&mut self, agg: &'c EventAggregate, event: &'c Event) -> bool {
        let age = self.as_of - event.at_micros;
        if age < 0 || agg.window.is_some_and(|w| !w.contains(age)) {
            return false;
        }
        match &agg.filter {
            Some(filter) => self.cond(filter, Some(event)),
            None => true,
        }
    }

    /// The prop of `event` (the `index`-th of its type) when it matches,
    /// reported to the tracer; `None` when it does not match.
    fn matching_prop(
        &mut self,
        agg: &'c EventAggregate,
        index: usize,
        event: &'c Event,
    ) -> Option<EvalValue<'c>> {
        if !self.event_matches(agg, event) {
            return None;
        }
        let value = Self::prop_value(agg, event, self.contact);
        if T::ENABLED {
            self.tracer.aggregate_event(index, &value);
        }
        Some(value)
    }

    /// The prop of a matching event (missing when the aggregate reads none).
    fn prop_value(agg: &EventAggregate, event: &'c Event, contact: &'c Contact) -> EvalValue<'c> {
        let field: Option<&'c FieldValue> = agg.prop.and_then(|slot| event.props.get(slot));
        EvalValue::from_value(field, contact)
    }

    /// `first E` (its time), `P of first E`, `P of last E`: the earliest or
    /// latest matching event; among events at the same time, the first one
    /// in the snapshot for `first`, the last one for `last`.
    fn picked_event(&mut self, agg: &'c EventAggregate, events: &'c [Event]) -> EvalValue<'c> {
        let latest = agg.kind == AggregateKind::LastProp;
        let mut picked: Option<(usize, &'c Event)> = None;
        for (index, event) in events.iter().enumerate() {
            if !self.event_matches(agg, event) {
                continue;
            }
            let better = match picked {
                None => true,
                Some((_, p)) if latest => event.at_micros >= p.at_micros,
                Some((_, p)) => event.at_micros < p.at_micros,
            };
            if better {
                picked = Some((index, event));
            }
        }
        let Some((index, event)) = picked else {
            return EvalValue::Absent;
        };
        let value = match agg.kind {
            AggregateKind::First => EvalValue::Time(event.at_micros),
            _ => Self::prop_value(agg, event, self.contact),
        };
        if T::ENABLED {
            let read = if agg.kind == AggregateKind::First {
                EvalValue::Absent
            } else {
                value.clone()
            };
            self.tracer.aggregate_event(index, &read);
        }
        value
    }

    /// `distinct count of P in E`: how many different values `P` has over
    /// the matching events; a missing prop is no value, a list or object is
    /// a wrong type (skipped, with a warning).
    fn distinct_count(&mut self, agg: &'c EventAggregate, events: &'c [Event]) -> EvalValue<'c> {
        let mut seen: HashSet<DistinctKey<'c>> = HashSet::new();
        for (index, event) in events.iter().enumerate() {
            let Some(value) = self.matching_prop(agg, index, event) else {
                continue;
            };
            if value.is_absent() {
                continue;
            }
            match DistinctKey::of(&value) {
                Some(key) => {
                    seen.insert(key);
                }
                None => {
                    self.wrong_type(agg.span, &value, "a text, number or boolean value");
                }
            }
        }
        EvalValue::Num(seen.len() as f64)
    }

    /// `sum`, `min`, `max`, `avg of P in E`: over the numbers `P` of the
    /// matching events. A missing prop is skipped; any other non-number is
    /// skipped with a warning. `sum` of nothing is 0; the others are missing.
    fn numeric(&mut self, agg: &'c EventAggregate, events: &'c [Event]) -> EvalValue<'c> {
        let mut sum = 0.0;
        let mut numbers = 0u32;
        let mut low = f64::INFINITY;
        let mut high = f64::NEG_INFINITY;
        for (index, event) in events.iter().enumerate() {
            let Some(value) = self.matching_prop(agg, index, event) else {
                continue;
            };
            match value {
                EvalValue::Num(n) => {
                    sum += n;
                    numbers += 1;
                    low = low.min(n);
                    high = high.max(n);
                }
                EvalValue::Absent => {}
                other => {
                    self.wrong_type(agg.span, &other, "a number");
                }
            }
        }
        let some = |n: f64| {
            if numbers == 0 || !n.is_finite() {
                EvalValue::Absent
            } else {
                EvalValue::Num(n)
            }
        };
        match agg.kind {
            AggregateKind::Sum if sum.is_finite() => EvalValue::Num(sum),
            AggregateKind::Sum => EvalValue::Absent,
            AggregateKind::Min => some(low),
            AggregateKind::Max => some(high),
            _ => some(sum / f64::from(numbers.max(1))),
        }
    }
}

impl<'c, T: Tracer> Evaluator<'c, '_, '_, T> {
    /// The points of one event for an `each` rule whose points are computed
    /// from the event's props (`=> + minutes * 0.5`), before decay: `None`
    /// when the value is missing, or not a number (with a warning), so the
    /// event contributes nothing.
    pub(super) fn event_points(&mut self, computed: &'c ComputedPoints, event: &'c Event) -> Option<f64> {
        match self.operand(&computed.value, Some(event)) {
            EvalValue::Num(n) if computed.negated => Some(-n),
            EvalValue::Num(n) => Some(n),
            EvalValue::Absent => None,
            other => {
                self.wrong_type(computed.span, &other, "a number");
                None
            }
        }
    }
}
