//! How `fmt` writes the head of the event aggregates of issue 13 (`sum of
//! minutes in webinar_attended`, `distinct count of url in page_view`,
//! `first page_view`, `url of last page_view`); the `where` and window after
//! it are written like those of `count of`.

use crate::syntax::ast::{AggregateKind, EventAggregate};
use crate::syntax::written_name;

/// The aggregate up to its `where`.
pub(super) fn prop_aggregate_head(kind: AggregateKind, aggregate: &EventAggregate) -> String {
    let event = written_name(&aggregate.event.name);
    let prop = aggregate
        .prop
        .as_ref()
        .map_or_else(String::new, |p| written_name(&p.name).into_owned());
    match kind {
        AggregateKind::Count => format!("count of {event}"),
        AggregateKind::Any => format!("any {event}"),
        AggregateKind::Last => format!("last {event}"),
        AggregateKind::First => format!("first {event}"),
        AggregateKind::FirstProp | AggregateKind::LastProp => format!("{prop} {} {event}", kind.words()),
        AggregateKind::Sum
        | AggregateKind::Min
        | AggregateKind::Max
        | AggregateKind::Avg
        | AggregateKind::DistinctCount => format!("{} {prop} in {event}", kind.words()),
    }
}
