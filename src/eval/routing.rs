//! Evaluating routing: the queue and assignee of a routed contact, from a
//! literal name, a table row, a property's value or a round robin (by the
//! FNV-1a hash of the contact id, so re-runs never reshuffle), reported to
//! the tracer after the route's scope closes.

use super::{EvalValue, Evaluator, PickReport, PickRole, Tracer};
use crate::case_fold::fold_text;
use crate::plan::{fnv1a_64, round_robin_index, Pick, Picked, QueueBranch, Route};

impl<'c, T: Tracer> Evaluator<'c, '_, '_, T> {
    /// Whether a queue branch can give a queue: a `from` branch without a
    /// fallback cannot when its property has no text value, and is skipped.
    pub(super) fn branch_has_queue(&mut self, branch: &'c QueueBranch) -> bool {
        match &branch.pick {
            Pick::Property {
                operand,
                fallback: None,
                ..
            } => {
                let value = self.operand(operand, None);
                usable_text(&value).is_some()
            }
            _ => true,
        }
    }

    /// The queue and assignee of route `index`, routed through `branch`.
    pub(super) fn route_picks(&mut self, index: usize, route: &'c Route, branch: Option<u16>) {
        let Some(slot) = self.outcome.route_picks.get_mut(index) else {
            return;
        };
        let mut picks = std::mem::take(slot);
        let chosen = branch.and_then(|b| route.queue.get(usize::from(b)));
        match chosen {
            Some(b) => {
                self.pick(&b.pick, PickRole::Queue, &mut picks.queue);
                match &route.assignee {
                    Some(a) => self.pick(a, PickRole::Assignee, &mut picks.assignee),
                    None => picks.assignee = Picked::Nothing,
                }
                if T::ENABLED {
                    let routing = &self.plan.routing;
                    let queue = routing.text(&picks.queue).unwrap_or("");
                    let assignee = route.assignee.as_ref().map(|_| routing.text(&picks.assignee));
                    let sla = b.sla_hours.unwrap_or(route.sla_hours);
                    self.tracer.routed(queue, assignee, sla);
                }
            }
            None => {
                picks.queue = Picked::Nothing;
                picks.assignee = Picked::Nothing;
            }
        }
        if let Some(slot) = self.outcome.route_picks.get_mut(index) {
            *slot = picks;
        }
    }

    /// Evaluates one pick into `out` (reusing its text buffer).
    fn pick(&mut self, pick: &'c Pick, role: PickRole, out: &mut Picked) {
        let plan = self.plan;
        match pick {
            Pick::Name(i) => {
                *out = Picked::Name(*i);
                if T::ENABLED {
                    self.tracer
                        .pick(role, PickReport::Name, Some(plan.routing.name(*i)));
                }
            }
            Pick::RoundRobin(members) => {
                let index = round_robin_index(&self.contact.id, members.len());
                let name = members.get(index).copied().unwrap_or(0);
                *out = Picked::Name(name);
                if T::ENABLED {
                    let report = PickReport::RoundRobin {
                        hash: fnv1a_64(&self.contact.id),
                        index,
                        members: members.len(),
                    };
                    self.tracer.pick(role, report, Some(plan.routing.name(name)));
                }
            }
            Pick::Table(t) => {
                let Some(table) = plan.routing.tables.get(*t) else {
                    *out = Picked::Nothing;
                    return;
                };
                let key = self.operand(&table.key, None);
                let row = match &key {
                    EvalValue::Text(text) if table.ignoring_case => table.index.get(fold_text(text).as_ref()),
                    EvalValue::Text(text) => table.index.get(text.as_ref()),
                    EvalValue::Absent => None,
                    other => {
                        self.wrong_type(table.span, other, "text");
                        None
                    }
                }
                .copied();
                let name = row
                    .and_then(|r| table.rows.get(usize::from(r)))
                    .map_or(table.otherwise, |(_, v)| *v);
                *out = Picked::Name(name);
                if T::ENABLED {
                    let report = PickReport::Table {
                        table: *t,
                        key: &key,
                        row,
                    };
                    self.tracer.pick(role, report, Some(plan.routing.name(name)));
                }
            }
            Pick::Property {
                operand,
                name,
                fallback,
                span,
            } => {
                let value = self.operand(operand, None);
                if !matches!(value, EvalValue::Absent | EvalValue::Text(_)) {
                    self.wrong_type(*span, &value, "text");
                }
                let taken = usable_text(&value);
                if T::ENABLED {
                    let report = PickReport::Property {
                        name,
                        value: &value,
                        taken,
                    };
                    self.tracer.pick(role, report, taken);
                }
                match (taken, fallback) {
                    (Some(text), _) => {
                        if let Picked::Value(buffer) = out {
                            buffer.clear();
                            buffer.push_str(text);
                        } else {
                            *out = Picked::Value(text.to_string());
                        }
                    }
                    (None, Some(f)) => self.pick(f, role, out),
                    (None, None) => *out = Picked::Nothing,
                }
            }
        }
    }
}

/// The text a property gives a pick: non-empty text, as it is.
fn usable_text<'v>(value: &'v EvalValue<'_>) -> Option<&'v str> {
    match value {
        EvalValue::Text(t) if !t.is_empty() => Some(t.as_ref()),
        _ => None,
    }
}
