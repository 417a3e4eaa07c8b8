//! The event aggregates that read an event prop or pick one event (issue
//! 13): `sum`/`min`/`max`/`avg of P in E`, `distinct count of P in E`,
//! `first E`, `P of first E`, `P of last E`; and `contact.NAME`, a contact
//! field read inside a `where`.

use super::names::Ctx;
use super::types::{Info, Ty, Typed};
use super::Compiler;
use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan::{AggregateId, Cond, Operand, Window};
use crate::source::Span;
use crate::syntax::ast::{self, AggregateKind};

impl Compiler<'_> {
    /// Compiles an aggregate of a kind other than `count`, `any` and `last`
    /// (the caller has refused one inside a `where`).
    pub(super) fn prop_aggregate(&mut self, span: Span, agg: &ast::EventAggregate) -> Option<Typed> {
        let event = self.event_slot(&agg.event)?;
        let event_name = agg.event.name.as_str();
        let prop = match &agg.prop {
            Some(prop) => Some(self.aggregated_prop(event, event_name, prop)?),
            None => None,
        };
        let (filter, window) = self.aggregate_filter_and_window(agg, event)?;
        let (ty, info) = match (agg.kind, &prop) {
            (AggregateKind::First, _) => (Ty::Time, Info::None),
            (AggregateKind::DistinctCount, _) => (Ty::Number, Info::None),
            (AggregateKind::FirstProp | AggregateKind::LastProp, Some(p)) => (p.ty, p.info.clone()),
            (kind, Some(p)) if kind.is_numeric() => {
                if !matches!(p.ty, Ty::Number | Ty::Any) {
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::AggregateOfNonNumber {
                                aggregate: kind.words(),
                                prop: agg.prop.as_ref().map_or_else(String::new, |i| i.name.clone()),
                                event: event_name.to_string(),
                                ty: p.ty.name(),
                            },
                            p.span,
                        )
                        .with_label(format!("declared as {}", p.ty.name())),
                    );
                    return None;
                }
                (Ty::Number, Info::None)
            }
            _ => {
                self.errors.push(Diagnostic::new(
                    DiagnosticKind::InternalIncomplete {
                        context: String::from("aggregate"),
                    },
                    span,
                ));
                return None;
            }
        };
        let prop_slot = prop.and_then(|p| match p.operand {
            Operand::EventProp(slot) => Some(slot),
            _ => None,
        });
        let id = self.push_aggregate(span, agg, event, filter, window, prop_slot);
        Some(Typed {
            operand: Operand::Aggregate(id),
            ty,
            info,
            span,
        })
    }

    /// An aggregate's `where` filter, compiled with the event's props in
    /// scope, and its window; shared by every aggregate kind.
    pub(super) fn aggregate_filter_and_window(
        &mut self,
        agg: &ast::EventAggregate,
        event: usize,
    ) -> Option<(Option<Cond>, Option<Window>)> {
        let filter = match &agg.filter {
            Some(f) => Some(self.condition(
                f,
                Ctx {
                    event: Some((event, agg.event.name.as_str())),
                },
            )?),
            None => None,
        };
        let window = match &agg.window {
            Some(w) => Some(self.window(w)?),
            None => None,
        };
        Some((filter, window))
    }

    /// Adds a compiled aggregate to the plan and returns its id.
    pub(super) fn push_aggregate(
        &mut self,
        span: Span,
        agg: &ast::EventAggregate,
        event: usize,
        filter: Option<Cond>,
        window: Option<Window>,
        prop: Option<usize>,
    ) -> AggregateId {
        let id = AggregateId(self.aggregates.len() as u32);
        self.aggregates.push(crate::plan::EventAggregate {
            kind: agg.kind,
            event,
            filter,
            window,
            prop,
            span,
        });
        id
    }

    /// The event prop an aggregate reads: a declared one (its type and
    /// allowed values kept), or any name when the event declares no props.
    /// Never a constant or a contact field.
    fn aggregated_prop(&mut self, event: usize, event_name: &str, prop: &ast::Ident) -> Option<Typed> {
        let declared = self.declared_event_props(event_name);
        match declared {
            Some(props) => match props.get(&prop.name) {
                Some(info) => {
                    let slot = self.event_prop_slot(event, prop)?;
                    Some(super::types::property_typed(
                        Operand::EventProp(slot),
                        &prop.name,
                        info,
                        prop.span,
                    ))
                }
                None => {
                    self.unknown_event_prop(event_name, &props, prop);
                    None
                }
            },
            None => {
                let slot = self.event_prop_slot(event, prop)?;
                Some(Typed {
                    operand: Operand::EventProp(slot),
                    ty: Ty::Any,
                    info: Info::None,
                    span: prop.span,
                })
            }
        }
    }

    /// `contact.NAME`: what `NAME` means outside a `where`, wherever it is.
    pub(super) fn contact_field(&mut self, span: Span, name: &ast::Ident) -> Option<Typed> {
        let mut typed = self.name(name, Ctx::CONTACT)?;
        typed.span = span;
        Some(typed)
    }

    /// Whether `name`, read as a bare name inside a `where`, would have
    /// meant a field of the contact outside it: a builtin, a declared
    /// property, or a score, band or segment.
    pub(super) fn is_contact_field(&self, name: &str) -> bool {
        super::symbols::BUILTINS.contains(&name)
            || self
                .symbols
                .properties
                .as_ref()
                .is_some_and(|p| p.contains_key(name))
            || self.symbols.names.get(name).is_some_and(|d| {
                matches!(
                    d.symbol,
                    super::symbols::Symbol::Score(_)
                        | super::symbols::Symbol::Band(_)
                        | super::symbols::Symbol::Segment(_)
                )
            })
    }
}

impl Compiler<'_> {
    /// The points of an `each` rule computed per event (`each
    /// webinar_attended => + minutes * 0.5 max 20`): names are the event's
    /// props, as in its `where`; the value must be a number. The rule's
    /// `max`/`min` bound the total, as for fixed points.
    pub(super) fn each_computed_points(
        &mut self,
        event: usize,
        event_name: &str,
        computed: &ast::ComputedPoints,
    ) -> Option<crate::plan::ComputedPoints> {
        let ctx = Ctx {
            event: Some((event, event_name)),
        };
        let typed = self.operand(&computed.value, ctx)?;
        if !self.expect_type(&typed, &[Ty::Number], "=>") {
            return None;
        }
        Some(crate::plan::ComputedPoints {
            value: typed.operand,
            negated: computed.negated,
            max: None,
            min: None,
            span: computed.span,
        })
    }
}

/// `sum(minutes)`, `avg(seconds)`: an aggregate of an event prop written as
/// a function call; the aggregate to suggest (`sum of minutes in EVENT_TYPE`).
pub(super) fn aggregate_written_as_call(name: &str, args: &[ast::Expr]) -> Option<String> {
    if !matches!(name, "sum" | "avg") {
        return None;
    }
    let prop = match args {
        [ast::Expr {
            kind: ast::ExprKind::Name(prop),
            ..
        }] => crate::syntax::written_name(&prop.name).into_owned(),
        _ => String::from("PROP"),
    };
    Some(format!("{name} of {prop} in EVENT_TYPE"))
}
