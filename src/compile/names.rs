//! Name resolution in context: a bare name is a score, segment, constant,
//! band, property or (inside a `where`) an event prop; band values, list
//! constants and event types are looked up here too. Every unknown name gets
//! a did-you-mean when a declared one is close.

use super::symbols::Symbol;
use super::types::{fmt_number, property_typed, Info, Ty, Typed};
use super::Compiler;
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticKind};
use crate::plan::{BandId, Operand, Step};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind, Literal};

/// Where an expression is compiled: in a `where` of an event type, bare
/// names are that event's props.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'n> {
    pub event: Option<(usize, &'n str)>,
}

impl Ctx<'_> {
    pub const CONTACT: Ctx<'static> = Ctx { event: None };
}

impl<'a> Compiler<'a> {
    pub(super) fn const_value(&self, name: &str) -> Option<&'a ast::Expr> {
        match self.symbols.names.get(name)?.symbol {
            Symbol::Const(index) => match &self.items.get(index)?.kind {
                ast::ItemKind::Const(c) => Some(&c.value),
                _ => None,
            },
            _ => None,
        }
    }

    /// The symbol a declaration registered (none when it was a duplicate).
    pub(super) fn symbol_of(&self, name: &ast::Ident) -> Option<Symbol> {
        let declared = self.symbols.names.get(&name.name)?;
        (declared.span == name.span).then_some(declared.symbol)
    }

    /// The slot of an event type; reports a type missing from a declared `events` block.
    pub(super) fn event_slot(&mut self, event: &ast::Ident) -> Option<usize> {
        if let Some(events) = &self.symbols.events {
            if !events.contains_key(&event.name) {
                let mut names: Vec<&str> = events.keys().map(String::as_str).collect();
                names.sort_unstable();
                let suggestion = did_you_mean(&event.name, names.iter().copied()).map(String::from);
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::UnknownEvent {
                            name: event.name.clone(),
                            suggestion,
                            declared: names.join(", "),
                        },
                        event.span,
                    )
                    .with_label("not declared"),
                );
                return None;
            }
        }
        Some(self.slots.event(&event.name))
    }

    /// Whether `name` is an event type used anywhere in the rule set.
    pub(super) fn is_known_event(&self, name: &str) -> bool {
        self.slots.has_own_event(name) || self.used_events.iter().any(|e| e == name)
    }

    /// The slot of a prop of the event in slot `event`. `event` comes from
    /// [`Compiler::event_slot`], so a missing one is a compiler bug: an
    /// internal error, never a made-up slot.
    pub(super) fn event_prop_slot(&mut self, event: usize, name: &ast::Ident) -> Option<usize> {
        let slot = self.slots.event_prop(event, &name.name);
        if slot.is_none() {
            self.errors.push(Diagnostic::new(
                DiagnosticKind::InternalNoEventSlot {
                    event,
                    prop: name.name.clone(),
                },
                name.span,
            ));
        }
        slot
    }

    /// The band a name refers to, when it does (outside a `where`), recording
    /// the dependency so bands are evaluated before what reads them.
    pub(super) fn band_of(&mut self, expr: &ast::Expr, ctx: Ctx<'_>) -> Option<BandId> {
        let id = match &expr.kind {
            ExprKind::Name(ident) if ctx.event.is_none() => match self.symbols.names.get(&ident.name)?.symbol
            {
                Symbol::Band(id) => id,
                _ => return None,
            },
            ExprKind::ContactField(ident) => match self.symbols.names.get(&ident.name)?.symbol {
                Symbol::Band(id) => id,
                _ => return None,
            },
            _ => return None,
        };
        self.deps.push(Step::Band(id));
        Some(id)
    }

    pub(super) fn band_name(&self, band: BandId) -> &str {
        self.symbols
            .bands
            .get(band.index())
            .map_or("", |b| b.name.as_str())
    }

    pub(super) fn band_values(&self, band: BandId) -> Vec<String> {
        self.symbols
            .bands
            .get(band.index())
            .map_or_else(Vec::new, |b| b.values.clone())
    }

    /// Looks up a band value; reports an unknown one with did-you-mean.
    pub(super) fn band_value(&mut self, band: BandId, value: &str, span: Span) -> Option<u16> {
        let values = self.band_values(band);
        if let Some(i) = values.iter().position(|v| v == value) {
            return u16::try_from(i).ok();
        }
        let name = self.band_name(band).to_string();
        let suggestion = did_you_mean(value, values.iter().map(String::as_str)).map(String::from);
        let label = format!("not a value of `{name}`");
        self.errors.push(
            Diagnostic::new(
                DiagnosticKind::UnknownBandValue {
                    band: name,
                    value: value.to_string(),
                    suggestion,
                    values: values.join(", "),
                },
                span,
            )
            .with_label(label),
        );
        None
    }

    /// A band value written as a name or as text.
    pub(super) fn band_value_of(&mut self, band: BandId, expr: &ast::Expr) -> Option<u16> {
        match &expr.kind {
            ExprKind::Name(ident) => self.band_value(band, &ident.name, ident.span),
            ExprKind::Literal(Literal::Str(s)) => self.band_value(band, s, expr.span),
            // `intent_level == 1` meaning the value `` `1` ``.
            // `intent_level == 1` for the value `1` (written `1` or `` `1` ``).
            ExprKind::Literal(Literal::Number(n)) if self.band_values(band).contains(&fmt_number(*n)) => {
                self.band_value(band, &fmt_number(*n), expr.span)
            }
            _ => {
                let name = self.band_name(band).to_string();
                // As written in a rule: `` `1st` `` for a value that starts
                // with a digit, a plain number as is.
                let values: Vec<String> = self
                    .band_values(band)
                    .iter()
                    .map(|v| crate::syntax::written_band_value(v).into_owned())
                    .collect();
                let values = values.join(", ");
                self.errors.push(
                    Diagnostic::new(DiagnosticKind::BandNeedsValue { band: name, values }, expr.span)
                        .with_label("not a band value"),
                );
                None
            }
        }
    }

    /// The elements of a list literal or of a constant holding one.
    pub(super) fn list_of(&mut self, expr: &ast::Expr) -> Option<Vec<ast::Expr>> {
        let target = match &expr.kind {
            ExprKind::Name(ident) => match self.const_value(&ident.name) {
                Some(v) => v,
                None => {
                    let consts: Vec<&str> = self
                        .symbols
                        .order
                        .iter()
                        .filter(|n| {
                            matches!(
                                self.symbols.names.get(n.as_str()).map(|d| d.symbol),
                                Some(Symbol::Const(_))
                            )
                        })
                        .map(String::as_str)
                        .collect();
                    let suggestion = did_you_mean(&ident.name, consts).map(String::from);
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::UnknownListConstant {
                                name: ident.name.clone(),
                                suggestion,
                            },
                            ident.span,
                        )
                        .with_label("not a list constant"),
                    );
                    return None;
                }
            },
            _ => expr,
        };
        match &target.kind {
            ExprKind::Literal(Literal::List(items)) => Some(items.clone()),
            _ => {
                self.errors
                    .push(Diagnostic::new(DiagnosticKind::InNeedsList, expr.span).with_label("not a list"));
                None
            }
        }
    }

    /// Resolves a bare name in context.
    pub(super) fn name(&mut self, ident: &ast::Ident, ctx: Ctx<'_>) -> Option<Typed> {
        let span = ident.span;
        if let Some((event, event_name)) = ctx.event {
            return self.event_prop(event, event_name, ident);
        }
        match ident.name.as_str() {
            "id" => {
                return Some(Typed {
                    operand: Operand::Id,
                    ty: Ty::Text,
                    info: Info::None,
                    span,
                })
            }
            "email" => {
                return Some(Typed {
                    operand: Operand::Email,
                    ty: Ty::Text,
                    info: Info::None,
                    span,
                })
            }
            _ => {}
        }
        if let Some(declared) = self.symbols.names.get(&ident.name) {
            let symbol = declared.symbol;
            return match symbol {
                Symbol::Score(id) => {
                    self.deps.push(Step::Score(id));
                    Some(Typed {
                        operand: Operand::Score(id),
                        ty: Ty::Number,
                        info: Info::Score(id),
                        span,
                    })
                }
                Symbol::Segment(id) => {
                    self.deps.push(Step::Segment(id));
                    Some(Typed {
                        operand: Operand::Segment(id),
                        ty: Ty::Bool,
                        info: Info::None,
                        span,
                    })
                }
                Symbol::Const(_) => {
                    let value = self.const_value(&ident.name)?.clone();
                    let mut t = self.operand(&value, ctx)?;
                    t.span = span;
                    Some(t)
                }
                Symbol::Band(id) => {
                    let name = self.band_name(id).to_string();
                    let first_value = self
                        .band_values(id)
                        .first()
                        .map_or_else(|| String::from("…"), String::clone);
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::BandAsValue {
                                band: name,
                                first_value,
                            },
                            span,
                        )
                        .with_label("band"),
                    );
                    None
                }
                Symbol::Suppression(_)
                | Symbol::Audience(_)
                | Symbol::Workflow(_)
                | Symbol::Route(_)
                | Symbol::Table(_) => {
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::TargetInCondition {
                                kind: symbol.kind_name(),
                                name: ident.name.clone(),
                            },
                            span,
                        )
                        .with_label(symbol.kind_name()),
                    );
                    None
                }
            };
        }
        // An event type is not a value by itself.
        let is_property = self
            .symbols
            .properties
            .as_ref()
            .is_some_and(|p| p.contains_key(&ident.name));
        let is_event = !is_property
            && (self
                .symbols
                .events
                .as_ref()
                .is_some_and(|e| e.contains_key(&ident.name))
                || self.is_known_event(&ident.name));
        if is_event {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::EventAsValue {
                        event: ident.name.clone(),
                    },
                    span,
                )
                .with_label("event type"),
            );
            return None;
        }
        // A contact property.
        match &self.symbols.properties {
            Some(props) => match props.get(&ident.name) {
                Some(info) => {
                    let info = info.clone();
                    let slot = self.slots.property(&ident.name, Some(info.ty));
                    Some(property_typed(Operand::Property(slot), &ident.name, &info, span))
                }
                None => {
                    let candidates = self.symbols.condition_names();
                    let suggestion = did_you_mean(&ident.name, candidates).map(String::from);
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::UnknownName {
                                name: ident.name.clone(),
                                suggestion,
                                schema: true,
                            },
                            span,
                        )
                        .with_label("not declared"),
                    );
                    None
                }
            },
            None => {
                // Without a schema any other name is a property, unless it is
                // so close to a declared name that it is surely a typo.
                // (A name already taken as a property was checked the first time.)
                let declared: Vec<&str> = if self.slots.reads_property(&ident.name) {
                    Vec::new()
                } else {
                    self.symbols
                        .condition_names()
                        .into_iter()
                        .filter(|n| !super::symbols::BUILTINS.contains(n))
                        .collect()
                };
                if let Some(c) = did_you_mean(&ident.name, declared) {
                    if strsim::damerau_levenshtein(&ident.name, c) <= 2 && ident.name.len() > 2 {
                        self.errors.push(
                            Diagnostic::new(
                                DiagnosticKind::UnknownName {
                                    name: ident.name.clone(),
                                    suggestion: Some(c.to_string()),
                                    schema: false,
                                },
                                span,
                            )
                            .with_label("not declared"),
                        );
                        return None;
                    }
                }
                let slot = self.slots.property(&ident.name, None);
                Some(Typed {
                    operand: Operand::Property(slot),
                    ty: Ty::Any,
                    info: Info::Property {
                        name: ident.name.clone(),
                        allowed: None,
                        separator: None,
                    },
                    span,
                })
            }
        }
    }

    /// The props `event_name` declares, or `None` when the schema declares
    /// no events or the event declares no props (any name is then a prop).
    pub(super) fn declared_event_props(
        &self,
        event_name: &str,
    ) -> Option<std::collections::HashMap<String, super::symbols::PropertyInfo>> {
        self.symbols
            .events
            .as_ref()
            .and_then(|e| e.get(event_name))
            .and_then(|e| e.props.clone())
    }

    pub(super) fn event_prop(&mut self, event: usize, event_name: &str, ident: &ast::Ident) -> Option<Typed> {
        let span = ident.span;
        let declared = self.declared_event_props(event_name);
        if let Some(props) = &declared {
            if let Some(info) = props.get(&ident.name) {
                let slot = self.event_prop_slot(event, ident)?;
                return Some(property_typed(Operand::EventProp(slot), &ident.name, info, span));
            }
        }
        // A constant, when not shadowed by a declared prop. Without declared
        // props the name could be either: refuse to guess.
        if self.const_value(&ident.name).is_some() && declared.is_none() {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::AmbiguousName {
                        name: ident.name.clone(),
                        event: event_name.to_string(),
                    },
                    span,
                )
                .with_label("constant or event prop?"),
            );
            return None;
        }
        if let Some(value) = self.const_value(&ident.name).cloned() {
            let mut t = self.operand(&value, Ctx::CONTACT)?;
            t.span = span;
            return Some(t);
        }
        if let Some(props) = declared {
            self.unknown_event_prop(event_name, &props, ident);
            return None;
        }
        let slot = self.event_prop_slot(event, ident)?;
        Some(Typed {
            operand: Operand::EventProp(slot),
            ty: Ty::Any,
            info: Info::None,
            span,
        })
    }
}

impl Compiler<'_> {
    /// Reports `ident`, not among the declared `props` of `event_name`: a
    /// contact field (`contact.NAME` is the fix), or an unknown prop with a
    /// did-you-mean.
    pub(super) fn unknown_event_prop(
        &mut self,
        event_name: &str,
        props: &std::collections::HashMap<String, super::symbols::PropertyInfo>,
        ident: &ast::Ident,
    ) {
        if self.is_contact_field(&ident.name) {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::ContactFieldInWhere {
                        name: ident.name.clone(),
                        event: event_name.to_string(),
                    },
                    ident.span,
                )
                .with_label("a contact field"),
            );
            return;
        }
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        names.sort_unstable();
        let suggestion = did_you_mean(&ident.name, names.iter().copied()).map(String::from);
        self.errors.push(
            Diagnostic::new(
                DiagnosticKind::UnknownEventProp {
                    event: event_name.to_string(),
                    prop: ident.name.clone(),
                    suggestion,
                    props: names.join(", "),
                },
                ident.span,
            )
            .with_label("not declared for this event"),
        );
    }

    /// Every event type named by an `each` rule or an aggregate, anywhere.
    pub(super) fn used_events(items: &[&ast::Item]) -> Vec<String> {
        pub(super) fn walk(expr: &ast::Expr, out: &mut Vec<String>) {
            match &expr.kind {
                ast::ExprKind::Or(parts) | ast::ExprKind::And(parts) => {
                    parts.iter().for_each(|p| walk(p, out))
                }
                ast::ExprKind::Not(inner) => walk(inner, out),
                ast::ExprKind::Compare { left, right, .. }
                | ast::ExprKind::Text { left, right, .. }
                | ast::ExprKind::Has { left, right, .. } => {
                    walk(left, out);
                    walk(right, out);
                }
                ast::ExprKind::In { left, .. }
                | ast::ExprKind::Matches { left, .. }
                | ast::ExprKind::Is { left, .. }
                | ast::ExprKind::Within { left, .. }
                | ast::ExprKind::TimeWindow { left, .. } => walk(left, out),
                ast::ExprKind::Between { left, low, high } => {
                    walk(left, out);
                    walk(low, out);
                    walk(high, out);
                }
                ast::ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, out)),
                ast::ExprKind::Arith { first, rest } => {
                    walk(first, out);
                    rest.iter().for_each(|(_, p)| walk(p, out));
                }
                ast::ExprKind::Aggregate(agg) => out.push(agg.event.name.clone()),
                ast::ExprKind::Name(_) | ast::ExprKind::ContactField(_) | ast::ExprKind::Literal(_) => {}
            }
        }
        let mut out = Vec::new();
        for item in items {
            let conditions: Vec<&ast::Expr> = match &item.kind {
                ast::ItemKind::Segment(s) => vec![&s.condition],
                ast::ItemKind::Suppress(s) => vec![&s.condition],
                ast::ItemKind::Audience(t) | ast::ItemKind::Workflow(t) => vec![&t.condition],
                ast::ItemKind::Route(r) => vec![&r.condition],
                ast::ItemKind::Band(b) => b.branches.iter().filter_map(|br| br.condition.as_ref()).collect(),
                ast::ItemKind::Score(s) => {
                    let mut conds = Vec::new();
                    for rule in &s.rules {
                        match &rule.body {
                            ast::RuleBody::When(w) => conds.push(&w.condition),
                            ast::RuleBody::First(rows) => {
                                conds.extend(rows.iter().map(|r| &r.rule.condition))
                            }
                            ast::RuleBody::Each(e) => out.push(e.event.name.clone()),
                        }
                    }
                    conds
                }
                _ => Vec::new(),
            };
            for c in conditions {
                walk(c, &mut out);
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{compiles, only_error};
    use super::super::Compiler;
    use crate::diagnostics::{Code, DiagnosticKind};
    use crate::syntax::ast;

    #[test]
    fn an_undeclared_name_with_a_schema_suggests_the_closest_property() {
        let d = only_error("properties {\n  job_title: text\n}\nsegment s when job_tilte == \"cto\"\n");
        assert_eq!(d.code, "rubric::unknown_name");
        assert_eq!(d.message, "unknown name `job_tilte`");
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `job_title`? if `job_tilte` is a contact property, declare it in the `properties` block")
        );
    }

    #[test]
    fn without_a_schema_a_near_miss_of_a_declared_name_is_a_typo_and_the_rest_are_properties() {
        let rules = "score readiness 0..100 {\n  \"any\" when true => +1\n}\n";
        let d = only_error(&format!("{rules}segment s when readines > 5\n"));
        assert_eq!(d.code, "rubric::unknown_name");
        assert!(
            matches!(&d.kind, DiagnosticKind::UnknownName { suggestion: Some(s), schema: false, .. } if s == "readiness"),
            "{d:#?}"
        );
        let plan = compiles(&format!("{rules}segment s when company_size > 5\n")).plan;
        assert_eq!(plan.decode.properties.get("company_size"), Some(&0));
        assert_eq!(plan.property_names, ["company_size"]);
    }

    #[test]
    fn inside_a_where_bare_names_are_event_props() {
        let plan = compiles(
            "segment s when any page_view where url == \"/pricing\" within 7 days\nsegment t when any page_view where referrer == \"x\"\n",
        )
        .plan;
        assert!(plan.decode.properties.is_empty(), "no contact property is read");
        assert_eq!(plan.decode.event_types.get("page_view"), Some(&0));
        assert_eq!(plan.event_prop_names, [vec!["url", "referrer"]]);
    }

    #[test]
    fn a_constant_in_a_where_without_declared_props_is_ambiguous() {
        let d = only_error("const url = \"/pricing\"\nsegment s when any page_view where url == \"x\"\n");
        assert_eq!(d.kind.code(), Code::AmbiguousName);
        assert_eq!(d.message, "`url` could be the constant or a prop of `page_view`");
    }

    #[test]
    fn an_unknown_band_value_suggests_the_closest_value() {
        let d = only_error(
            "score fit 0..100 {\n  \"any\" when true => +1\n}\nband tier {\n  hot when fit >= 50\n  cold otherwise\n}\nsegment s when tier is hto\n",
        );
        assert_eq!(d.code, "rubric::unknown_band_value");
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `hot`? `tier` is one of: hot, cold")
        );
    }

    #[test]
    fn an_event_prop_slot_of_an_unknown_event_is_an_internal_error_not_slot_0() {
        let mut compiler = Compiler::new(&[]);
        let prop = ast::Ident {
            name: String::from("url"),
            span: crate::source::Span::default(),
        };
        assert_eq!(compiler.event_prop_slot(3, &prop), None);
        let errors = compiler.into_diagnostics();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors.first().map(|d| d.code), Some("rubric::internal"));
    }
}
