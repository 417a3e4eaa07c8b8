//! Recording the prop aggregates of issue 13 in a trace: while one is
//! evaluated, the events that made its value (`Tracer::aggregate_event`);
//! when it closes, an [`AggregateTrace`] that waits for the test reading it.

use super::schema::{AggregateEventTrace, AggregateTrace};
use super::values::{eval_value_json, json_text, number};
use crate::eval::EvalValue;
use crate::plan::{Plan, MICROS_PER_DAY};
use crate::snapshot::{format_timestamp, Contact};
use crate::source::Sources;
use serde_json::Value as Json;

/// The events of the open aggregate, then the closed aggregates not yet
/// taken by a test.
#[derive(Debug)]
pub(super) struct PendingAggregates {
    /// The instant of evaluation, for the events' ages.
    as_of: i64,
    /// (index, value) of the open aggregate's events, at most `MAX_EVENTS`.
    events: Vec<(usize, Json)>,
    /// How many events the open aggregate reported in all.
    reported: usize,
    closed: Vec<AggregateTrace>,
}

impl PendingAggregates {
    pub(super) fn new(as_of: i64) -> PendingAggregates {
        PendingAggregates {
            as_of,
            events: Vec::new(),
            reported: 0,
            closed: Vec::new(),
        }
    }

    /// One event of the open aggregate.
    pub(super) fn event(&mut self, plan: &Plan, index: usize, value: &EvalValue<'_>) {
        self.reported += 1;
        if self.events.len() < AggregateTrace::MAX_EVENTS {
            self.events.push((index, eval_value_json(plan, value)));
        }
    }

    /// The open aggregate (`aggregate` in the plan) closes with `value`.
    /// Only the prop aggregates are recorded (`count`, `any` and `last`
    /// keep their traces as they were).
    pub(super) fn close(
        &mut self,
        plan: &Plan,
        sources: &Sources,
        contact: &Contact,
        aggregate: usize,
        value: &EvalValue<'_>,
    ) {
        let events = std::mem::take(&mut self.events);
        let reported = std::mem::take(&mut self.reported);
        let Some(agg) = plan.aggregates.get(aggregate) else {
            return;
        };
        if agg.prop.is_none() && agg.kind != crate::ops::AggregateKind::First {
            return;
        }
        let contact_events = contact.events.get(agg.event);
        let location = sources.location(agg.span);
        self.closed.push(AggregateTrace {
            aggregate: sources.text(agg.span).trim().to_string(),
            at: format!("{}:{}", location.file, location.line),
            value: eval_value_json(plan, value),
            more_events: reported.saturating_sub(events.len()),
            events: events
                .into_iter()
                .map(|(index, value)| {
                    let at = contact_events.and_then(|e| e.get(index)).map(|e| e.at_micros);
                    AggregateEventTrace {
                        index,
                        at: at.map_or_else(String::new, format_timestamp),
                        age_days: at.map_or(0.0, |at| (self.as_of - at) as f64 / MICROS_PER_DAY as f64),
                        value,
                    }
                })
                .collect(),
        });
    }

    /// The closed aggregates, for the test that read them.
    pub(super) fn take(&mut self) -> Vec<AggregateTrace> {
        std::mem::take(&mut self.closed)
    }

    /// Forgets closed aggregates no test read (a computed score's or
    /// points' value: their scope closes).
    pub(super) fn clear(&mut self) {
        self.closed.clear();
    }
}

/// An aggregate in words for `explain`'s text: `sum of minutes in webinar =
/// 75 from 3 events: 45 (10 days ago), "30" (20 days ago), 30 (40 days ago)`.
pub(super) fn line(aggregate: &AggregateTrace) -> String {
    let value = match &aggregate.value {
        Json::Null => String::from("missing"),
        other => json_text(other),
    };
    let count = aggregate.events.len() + aggregate.more_events;
    let noun = if count == 1 { "event" } else { "events" };
    let events: Vec<String> = aggregate
        .events
        .iter()
        .map(|e| {
            let days = (e.age_days * 100.0).round() / 100.0;
            let ago = if days == 1.0 {
                String::from("1 day ago")
            } else {
                format!("{} days ago", number(days))
            };
            match &e.value {
                // `first` reads no prop: its event's position and age.
                Json::Null if aggregate.aggregate.starts_with("first ") => format!("#{} ({ago})", e.index),
                Json::Null => format!("missing ({ago})"),
                other => format!("{} ({ago})", json_text(other)),
            }
        })
        .collect();
    let more = if aggregate.more_events > 0 {
        format!(", … {} more", aggregate.more_events)
    } else {
        String::new()
    };
    if count == 0 {
        format!("{} = {value}: no matching event", aggregate.aggregate)
    } else {
        format!(
            "{} = {value} from {count} {noun}: {}{more}",
            aggregate.aggregate,
            events.join(", ")
        )
    }
}
