//! Compiling routing: where a route's queue and assignee come from (a
//! literal name, a lookup table, a property's value, a round robin),
//! `queue first` branches with their own SLAs, and `table` items.
//!
//! A bare name after `queue` is a literal queue unless it names a table; a
//! literal that is also a property of the rule set is an error
//! (`rubric::queue_names_a_property`), checked once every item is compiled
//! ([`Compiler::check_literal_queue_names`]) so that a property read by a
//! later item counts too.

use std::collections::HashMap;

use super::items::sla_hours_from_micros;
use super::names::Ctx;
use super::symbols::Symbol;
use super::types::{duration_micros, Ty};
use super::Compiler;
use crate::case_fold::fold_text;
use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan;
use crate::source::Span;
use crate::syntax::ast::{self, PickKind};

/// What a pick is for: it decides how a bare name is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// `queue NAME`: a literal queue, or a table.
    Queue,
    /// `assign to NAME`: a property, or a table.
    Assignee,
}

impl Role {
    fn what(self) -> &'static str {
        match self {
            Role::Queue => "queue",
            Role::Assignee => "assignee",
        }
    }
}

/// The routing parts of a plan under construction.
#[derive(Debug, Default)]
pub(super) struct RoutingBuilder {
    tables: Vec<plan::Table>,
    names: Vec<String>,
    name_index: HashMap<String, u32>,
    /// Bare names taken as literals, with the field that wrote them
    /// (`queue`, `otherwise`) and what they name, for the property check.
    literals: Vec<(String, Span, &'static str, &'static str)>,
}

impl RoutingBuilder {
    /// The index of a literal name in `Routing::pick_names`, added once.
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(i) = self.name_index.get(name) {
            return *i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.name_index.insert(name.to_string(), i);
        i
    }

    pub(super) fn finish(&mut self) -> plan::Routing {
        plan::Routing {
            tables: std::mem::take(&mut self.tables),
            pick_names: std::mem::take(&mut self.names),
        }
    }
}

/// A pick as written, for coverage, `diff` and traces: `na_sales`,
/// `from owner_queue`, `round robin [a, b]`.
pub(super) fn pick_label(pick: &ast::Pick) -> String {
    match &pick.kind {
        PickKind::Name(i) => i.name.clone(),
        PickKind::Quoted(s) => s.value.clone(),
        PickKind::From(p) => format!("from {}", p.name),
        PickKind::RoundRobin(names) => format!(
            "round robin [{}]",
            names
                .iter()
                .map(|n| n.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Compiler<'_> {
    /// Compiles a `table` item (declared as table `index`).
    pub(super) fn table(&mut self, t: &ast::TableDecl) -> Option<()> {
        let key = self.text_property(&t.key, "table key")?;
        let mut ok = true;
        let mut rows = Vec::new();
        let mut index: HashMap<String, u16> = HashMap::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut otherwise: Option<(u32, Span)> = None;
        for row in &t.rows {
            let value = self.routing.intern(&row.value.value);
            if !row.value.quoted {
                self.routing
                    .literals
                    .push((row.value.value.clone(), row.value.span, "=>", "queue"));
            }
            let Some(key_text) = &row.key else {
                if let Some((_, first)) = otherwise {
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::DuplicateTableKey {
                                table: t.name.name.clone(),
                                key: String::from("otherwise"),
                                ignoring_case: false,
                            },
                            row.span,
                        )
                        .with_label("second `otherwise`")
                        .with_note(first, "first `otherwise`"),
                    );
                    ok = false;
                }
                otherwise = Some((value, row.span));
                continue;
            };
            let folded = if t.ignoring_case {
                fold_text(&key_text.value).into_owned()
            } else {
                key_text.value.clone()
            };
            if let Some(first) = seen.get(&folded) {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::DuplicateTableKey {
                            table: t.name.name.clone(),
                            key: key_text.value.clone(),
                            ignoring_case: t.ignoring_case,
                        },
                        key_text.span,
                    )
                    .with_label("second row")
                    .with_note(*first, "first row"),
                );
                ok = false;
                continue;
            }
            seen.insert(folded.clone(), key_text.span);
            let row_index = u16::try_from(rows.len()).unwrap_or(u16::MAX);
            index.insert(folded, row_index);
            rows.push((key_text.value.clone(), value));
        }
        let Some((otherwise, _)) = otherwise else {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::TableMissingOtherwise {
                        table: t.name.name.clone(),
                    },
                    t.name.span,
                )
                .with_label("some contacts would get no queue"),
            );
            return None;
        };
        if !ok {
            return None;
        }
        self.routing.tables.push(plan::Table {
            name: t.name.name.clone(),
            key,
            key_name: t.key.name.clone(),
            ignoring_case: t.ignoring_case,
            rows,
            index,
            otherwise,
            span: t.name.span,
        });
        Some(())
    }

    /// A property read as text (for `from`, `assign to` and table keys).
    fn text_property(&mut self, ident: &ast::Ident, what: &'static str) -> Option<plan::Operand> {
        if let Some(Symbol::Table(_)) = self.symbols.names.get(&ident.name).map(|d| d.symbol) {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::PickFromTable {
                        table: ident.name.clone(),
                        field: if what == "table key" { "by" } else { "from" },
                    },
                    ident.span,
                )
                .with_label("table"),
            );
            return None;
        }
        let typed = self.name(ident, Ctx::CONTACT)?;
        if !matches!(typed.ty, Ty::Text | Ty::Any) {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::PickNotText {
                        name: ident.name.clone(),
                        found: typed.ty.name(),
                        what,
                    },
                    ident.span,
                )
                .with_label(typed.ty.name()),
            );
            return None;
        }
        Some(typed.operand)
    }

    /// One pick, without its fallback.
    fn pick(&mut self, pick: &ast::Pick, role: Role, literal_field: &'static str) -> Option<plan::Pick> {
        match &pick.kind {
            PickKind::Quoted(s) => Some(plan::Pick::Name(self.routing.intern(&s.value))),
            PickKind::RoundRobin(names) => Some(plan::Pick::RoundRobin(
                names.iter().map(|n| self.routing.intern(&n.value)).collect(),
            )),
            PickKind::From(p) => Some(plan::Pick::Property {
                operand: self.text_property(p, role.what())?,
                name: p.name.clone(),
                fallback: None,
                span: p.span,
            }),
            PickKind::Name(n) => {
                if let Some(Symbol::Table(i)) = self.symbols.names.get(&n.name).map(|d| d.symbol) {
                    return Some(plan::Pick::Table(i));
                }
                if role == Role::Assignee && literal_field == "assign to" {
                    return Some(plan::Pick::Property {
                        operand: self.text_property(n, role.what())?,
                        name: n.name.clone(),
                        fallback: None,
                        span: n.span,
                    });
                }
                self.routing
                    .literals
                    .push((n.name.clone(), n.span, literal_field, role.what()));
                Some(plan::Pick::Name(self.routing.intern(&n.name)))
            }
        }
    }

    /// A whole `queue …` or `assign to …` field: its pick and fallback.
    pub(super) fn route_pick(
        &mut self,
        route: &ast::Ident,
        rp: &ast::RoutePick,
        role: Role,
    ) -> Option<plan::Pick> {
        let field = match role {
            Role::Queue => "queue",
            Role::Assignee => "assign to",
        };
        let mut pick = self.pick(&rp.pick, role, field)?;
        let fallback = match &rp.fallback {
            Some(f) => Some(Box::new(self.pick(f, role, "otherwise")?)),
            None => None,
        };
        // A fallback after a pick that always gives a name is never used;
        // it is kept, and the lint `fallback_never_used` says so.
        if let plan::Pick::Property {
            fallback: slot, name, ..
        } = &mut pick
        {
            if fallback.is_none() && role == Role::Queue {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::MissingFallback {
                            route: route.name.clone(),
                            property: name.clone(),
                            what: role.what(),
                            in_branch: false,
                        },
                        rp.pick.span,
                    )
                    .with_label("no queue when the property has no text value"),
                );
                return None;
            }
            *slot = fallback;
        }
        Some(pick)
    }

    /// A whole `queue …` field as the route's one branch.
    pub(super) fn whole_queue(
        &mut self,
        route: &ast::Ident,
        rp: &ast::RoutePick,
    ) -> Option<plan::QueueBranch> {
        let pick = self.route_pick(route, rp, Role::Queue)?;
        let mut label = pick_label(&rp.pick);
        if let Some(f) = &rp.fallback {
            label = format!("{label} otherwise {}", pick_label(f));
        }
        Some(plan::QueueBranch {
            queue: label,
            pick,
            sla_hours: None,
            condition: None,
            span: rp.pick.span,
        })
    }

    /// The branches of `queue first { … }`: `otherwise` last and present,
    /// nothing unreachable, each branch's SLA above zero. A `from` branch
    /// is skipped for a contact whose property has no text value, so it
    /// cannot be the `otherwise` branch and does not stop every contact.
    pub(super) fn queue_branches(
        &mut self,
        route: &ast::Ident,
        branches: &[ast::QueueBranch],
    ) -> Option<Vec<plan::QueueBranch>> {
        let mut ok = true;
        let mut out = Vec::new();
        let mut always_at: Option<Span> = None;
        for branch in branches {
            let label = pick_label(&branch.pick);
            if let Some(at) = always_at {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::UnreachableBranch {
                            branch: label.clone(),
                            owner: route.name.clone(),
                        },
                        branch.span,
                    )
                    .with_label("unreachable")
                    .with_note(at, "every contact stops here"),
                );
                ok = false;
            }
            let may_be_missing = matches!(branch.pick.kind, PickKind::From(_));
            let pick = self.pick(&branch.pick, Role::Queue, "queue");
            let condition = match &branch.condition {
                None => {
                    if may_be_missing {
                        let name = match &branch.pick.kind {
                            PickKind::From(p) => p.name.clone(),
                            _ => String::new(),
                        };
                        self.errors.push(
                            Diagnostic::new(
                                DiagnosticKind::MissingFallback {
                                    route: route.name.clone(),
                                    property: name,
                                    what: "queue",
                                    in_branch: true,
                                },
                                branch.span,
                            )
                            .with_label("skipped when the property has no text value"),
                        );
                        ok = false;
                    } else if always_at.is_none() {
                        always_at = Some(branch.span);
                    }
                    None
                }
                Some(c) => match self.condition(c, Ctx::CONTACT) {
                    Some(cond) => {
                        if always_at.is_none() && !may_be_missing && self.always_true(&cond) {
                            always_at = Some(branch.span);
                        }
                        Some(cond)
                    }
                    None => {
                        ok = false;
                        None
                    }
                },
            };
            let sla_hours = match &branch.sla {
                None => None,
                Some(d) => match duration_micros(d, &mut self.errors) {
                    Some(m) if m > 0 => Some(sla_hours_from_micros(m)),
                    Some(_) => {
                        self.errors
                            .push(Diagnostic::new(DiagnosticKind::ZeroSla, d.span).with_label("zero SLA"));
                        ok = false;
                        None
                    }
                    None => {
                        ok = false;
                        None
                    }
                },
            };
            let Some(pick) = pick else {
                ok = false;
                continue;
            };
            out.push(plan::QueueBranch {
                queue: label,
                pick,
                sla_hours,
                condition,
                span: branch.span,
            });
        }
        if !branches.iter().any(|b| b.condition.is_none()) {
            let example = branches
                .last()
                .map_or_else(|| String::from("global_sales"), |b| pick_label(&b.pick));
            let example = if example.contains(' ') {
                String::from("global_sales")
            } else {
                example
            };
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::QueueMissingOtherwise {
                        route: route.name.clone(),
                        example,
                    },
                    route.span,
                )
                .with_label("some contacts would get no value"),
            );
            ok = false;
        }
        ok.then_some(out)
    }

    /// Reports every bare literal queue (or fallback) name that is also a
    /// property of the rule set: declared in `properties`, or read by a
    /// condition anywhere. Called once every item is compiled.
    pub(super) fn check_literal_queue_names(&mut self) {
        let literals = std::mem::take(&mut self.routing.literals);
        for (name, span, field, what) in literals {
            let declared = self
                .symbols
                .properties
                .as_ref()
                .is_some_and(|p| p.contains_key(&name));
            if !declared && !self.slots.reads_property(&name) {
                continue;
            }
            self.errors.push(
                Diagnostic::new(DiagnosticKind::QueueNamesAProperty { name, field, what }, span)
                    .with_label("a property of this rule set"),
            );
        }
    }
}
