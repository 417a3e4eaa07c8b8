//! Compiling items (scores, bands, segments, suppressions, audiences,
//! workflows, routes) and the whole-rule-set pass, [`Compiler::run`].

use std::collections::HashMap;

use super::names::Ctx;
use super::order::Dependencies;
use super::regexes::check_regex;
use super::symbols::Symbol;
use super::types::{duration_micros, fmt_number, Ty};
use super::Compiler;
use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan::{self, BandId, Channel, Cond, Step};
use crate::source::Span;
use crate::syntax::ast::{self, CompareOp, ItemKind};

/// What a list of first-match branches belongs to ([`Compiler::branches`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BranchOwner {
    /// A band's branches: one value per branch, duplicates are errors.
    /// (A route's `queue first` branches are compiled by `routing.rs`.)
    Band,
}

impl<'a> Compiler<'a> {
    /// Compiles every item; `None` when anything failed (errors are kept).
    pub fn run(&mut self, items: &[&'a ast::Item]) -> Option<plan::Plan> {
        let mut scores = Vec::new();
        let mut bands = Vec::new();
        let mut segments = Vec::new();
        let mut suppressions = Vec::new();
        let mut audiences = Vec::new();
        let mut workflows = Vec::new();
        let mut routes = Vec::new();
        let mut deps = Dependencies::new();
        let mut failed = false;
        for item in items {
            self.deps.clear();
            match &item.kind {
                // Goals are compiled together after the loop; channels were
                // collected before it.
                ItemKind::Properties(_) | ItemKind::Events(_) | ItemKind::Goal(_) | ItemKind::Channel(_) => {}
                ItemKind::Const(c) => self.check_const(c),
                ItemKind::Segment(s) => {
                    let Some(Symbol::Segment(id)) = self.symbol_of(&s.name) else {
                        continue;
                    };
                    match self.condition(&s.condition, Ctx::CONTACT) {
                        Some(condition) => segments.push(plan::Segment {
                            name: s.name.name.clone(),
                            condition,
                            span: s.name.span,
                        }),
                        None => failed = true,
                    }
                    deps.insert(Step::Segment(id), (std::mem::take(&mut self.deps), s.name.span));
                }
                ItemKind::Score(s) => {
                    let Some(Symbol::Score(id)) = self.symbol_of(&s.name) else {
                        continue;
                    };
                    match self.score(s) {
                        Some(score) => scores.push(score),
                        None => failed = true,
                    }
                    deps.insert(Step::Score(id), (std::mem::take(&mut self.deps), s.name.span));
                }
                ItemKind::Band(b) => {
                    let Some(Symbol::Band(id)) = self.symbol_of(&b.name) else {
                        continue;
                    };
                    match self.band(b, id) {
                        Some(band) => bands.push(band),
                        None => failed = true,
                    }
                    deps.insert(Step::Band(id), (std::mem::take(&mut self.deps), b.name.span));
                }
                ItemKind::Suppress(s) => {
                    if self.symbol_of(&s.name).is_none() {
                        continue;
                    }
                    let channels = self.channel_set(&s.channels);
                    let condition = self.condition(&s.condition, Ctx::CONTACT);
                    match (channels, condition) {
                        (Some(channels), Some(condition)) => suppressions.push(plan::Suppression {
                            name: s.name.name.clone(),
                            channels,
                            condition,
                            span: s.name.span,
                        }),
                        _ => failed = true,
                    }
                }
                ItemKind::Audience(t) | ItemKind::Workflow(t) => {
                    if self.symbol_of(&t.name).is_none() {
                        continue;
                    }
                    let list = if matches!(item.kind, ItemKind::Audience(_)) {
                        &mut audiences
                    } else {
                        &mut workflows
                    };
                    // The reach is resolved after the loop, once every
                    // suppression is compiled.
                    match self.condition(&t.condition, Ctx::CONTACT) {
                        Some(condition) => list.push(plan::Target {
                            name: t.name.name.clone(),
                            reach: plan::Reach::default(),
                            condition,
                            span: t.name.span,
                        }),
                        None => failed = true,
                    }
                }
                ItemKind::Route(r) => {
                    if self.symbol_of(&r.name).is_none() {
                        continue;
                    }
                    match self.route(r) {
                        Some(route) => routes.push(route),
                        None => failed = true,
                    }
                }
                ItemKind::Table(t) => {
                    if let Some(Symbol::Table(_)) = self.symbol_of(&t.name) {
                        failed |= self.table(t).is_none();
                    }
                }
            }
        }
        failed |= !self.resolve_reaches(items, &suppressions, &mut audiences, &mut workflows, &mut routes);
        self.check_literal_queue_names();
        let goals = self.goals(items);
        failed |= goals.is_none();
        let order = self.order(&deps);
        if failed || self.errors.iter().any(Diagnostic::is_error) {
            return None;
        }
        let order = order?;
        let slots = self.slots.finish();
        Some(plan::Plan {
            decode: slots.decode,
            property_names: slots.property_names,
            event_names: slots.event_names,
            event_prop_names: slots.event_prop_names,
            scores,
            bands,
            segments,
            aggregates: std::mem::take(&mut self.aggregates),
            suppressions,
            audiences,
            workflows,
            routes,
            channels: std::mem::take(&mut self.channels),
            goals: goals?,
            order,
            regex_count: self.regex_count,
            routing: self.routing.finish(),
        })
    }

    /// Gives each compiled audience, workflow and route its channel and
    /// exemptions, in declaration order; false after an error. Every
    /// target's reach is checked, even one whose condition failed.
    fn resolve_reaches(
        &mut self,
        items: &[&'a ast::Item],
        suppressions: &[plan::Suppression],
        audiences: &mut [plan::Target],
        workflows: &mut [plan::Target],
        routes: &mut [plan::Route],
    ) -> bool {
        let mut ok = true;
        // How many audiences, workflows and routes came before.
        let mut seen = [0usize; 3];
        for item in items {
            let (kind, name, reach, own) = match &item.kind {
                ItemKind::Audience(t) => (0, &t.name, &t.reach, Channel::ADS),
                ItemKind::Workflow(t) => (1, &t.name, &t.reach, Channel::EMAIL),
                ItemKind::Route(r) => (2, &r.name, &r.reach, Channel::SALES),
                _ => continue,
            };
            // A target whose name was taken was not compiled.
            if self.symbol_of(name).is_none() {
                continue;
            }
            let Some(index) = seen.get_mut(kind) else {
                continue;
            };
            let position = *index;
            *index += 1;
            let Some(resolved) = self.reach(reach, own, suppressions) else {
                ok = false;
                continue;
            };
            let slot = match kind {
                0 => audiences.get_mut(position).map(|t| &mut t.reach),
                1 => workflows.get_mut(position).map(|t| &mut t.reach),
                _ => routes.get_mut(position).map(|r| &mut r.reach),
            };
            if let Some(slot) = slot {
                *slot = resolved;
            }
        }
        ok
    }

    pub(super) fn check_const(&mut self, c: &ast::ConstDecl) {
        // A comparison with null is an error and `is null` takes no constant,
        // so a null constant could only ever be an error where it is used.
        if let ast::ExprKind::Literal(ast::Literal::Null) = c.value.kind {
            self.errors
                .push(Diagnostic::new(DiagnosticKind::NullConstant, c.value.span).with_label("null"));
        }
        if let ast::ExprKind::Literal(ast::Literal::List(items)) = &c.value.kind {
            for item in items {
                if let ast::ExprKind::Literal(ast::Literal::List(_) | ast::Literal::Regex { .. }) = item.kind
                {
                    self.errors.push(
                        Diagnostic::new(DiagnosticKind::ConstantListElementNotValue, item.span)
                            .with_label("not a single value"),
                    );
                }
            }
        }
        if let ast::ExprKind::Literal(ast::Literal::Regex { pattern, flags }) = &c.value.kind {
            // Checked here so that a bad pattern is reported even if unused.
            if let Err(detail) = check_regex(pattern, flags.contains('i')) {
                self.errors.push(
                    Diagnostic::new(DiagnosticKind::InvalidRegexConstant { detail }, c.value.span)
                        .with_label("does not compile"),
                );
            }
        }
    }

    pub(super) fn score(&mut self, s: &ast::ScoreDecl) -> Option<plan::Score> {
        let mut ok = true;
        if s.low.value > s.high.value {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::InvertedScoreRange {
                        score: s.name.name.clone(),
                        low: fmt_number(s.low.value),
                        high: fmt_number(s.high.value),
                    },
                    s.range_span,
                )
                .with_label("low end above high end"),
            );
            ok = false;
        } else if s.low.value == s.high.value {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::EmptyScoreRange {
                        score: s.name.name.clone(),
                        value: fmt_number(s.low.value),
                    },
                    s.range_span,
                )
                .with_label("empty range"),
            );
            ok = false;
        }
        let mut labels: HashMap<&str, Span> = HashMap::new();
        let mut rules = Vec::new();
        for rule in &s.rules {
            if let Some(first) = labels.get(rule.label.value.as_str()) {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::DuplicateRuleLabel {
                            score: s.name.name.clone(),
                            label: rule.label.value.clone(),
                        },
                        rule.label.span,
                    )
                    .with_label("second rule with this label")
                    .with_note(*first, "first used here"),
                );
                ok = false;
            } else {
                labels.insert(&rule.label.value, rule.label.span);
            }
            let kind = match &rule.body {
                ast::RuleBody::When(w) => {
                    let computed = self.computed_points(w);
                    let condition = self.condition(&w.condition, Ctx::CONTACT);
                    match (condition, computed) {
                        (Some(condition), Some(computed)) => Some(plan::ScoreRuleKind::When {
                            condition,
                            points: w.points.value,
                            computed,
                        }),
                        _ => None,
                    }
                }
                ast::RuleBody::First(rows) => {
                    let mut out = Vec::new();
                    let mut rows_ok = true;
                    for row in rows {
                        let computed = self.computed_points(&row.rule);
                        match (self.condition(&row.rule.condition, Ctx::CONTACT), computed) {
                            (Some(condition), Some(computed)) => out.push(plan::FirstRow {
                                label: row.label.as_ref().map(|l| l.value.clone()),
                                condition,
                                points: row.rule.points.value,
                                computed,
                                span: row.span,
                            }),
                            _ => rows_ok = false,
                        }
                    }
                    rows_ok.then_some(plan::ScoreRuleKind::First { rows: out })
                }
                ast::RuleBody::Each(e) => self.each_rule(e).map(plan::ScoreRuleKind::Each),
            };
            match kind {
                Some(kind) => rules.push(plan::ScoreRule {
                    label: rule.label.value.clone(),
                    kind,
                    span: rule.span,
                }),
                None => ok = false,
            }
        }
        // A computed score reads other values (its dependencies are recorded
        // as names resolve, so `order` sees them and reports cycles).
        let value = match &s.value {
            Some(expr) => {
                let typed = self.operand(expr, Ctx::CONTACT);
                match typed {
                    Some(t) if self.expect_type(&t, &[Ty::Number], "=") => Some(t.operand),
                    _ => {
                        ok = false;
                        None
                    }
                }
            }
            None => None,
        };
        ok.then_some(plan::Score {
            name: s.name.name.clone(),
            low: s.low.value,
            high: s.high.value,
            rules,
            value,
            span: s.name.span,
        })
    }

    /// The computed points of a `when` rule or `first` row: `Some(None)` for
    /// fixed points (which take no modifier), `None` after an error. Computed
    /// points take `max` and `min`, not `decay`.
    pub(super) fn computed_points(&mut self, w: &ast::WhenRule) -> Option<Option<plan::ComputedPoints>> {
        let Some(computed) = &w.computed else {
            self.no_modifiers(&w.modifiers);
            return Some(None);
        };
        let mut max = None;
        let mut min = None;
        let mut ok = true;
        for m in &w.modifiers {
            match &m.kind {
                ast::ModifierKind::Max(n) => max = Some(n.value),
                ast::ModifierKind::Min(n) => min = Some(n.value),
                ast::ModifierKind::Decay(_) => {
                    self.errors.push(
                        Diagnostic::new(DiagnosticKind::MisplacedModifier { modifier: "decay" }, m.span)
                            .with_label("computed points do not decay"),
                    );
                    ok = false;
                }
            }
        }
        let typed = self.operand(&computed.value, Ctx::CONTACT)?;
        if !self.expect_type(&typed, &[Ty::Number], "=>") || !ok {
            return None;
        }
        Some(Some(plan::ComputedPoints {
            value: typed.operand,
            negated: computed.negated,
            max,
            min,
            span: computed.span,
        }))
    }

    /// Modifiers only make sense on `each` rules.
    pub(super) fn no_modifiers(&mut self, modifiers: &[ast::Modifier]) {
        for m in modifiers {
            let modifier = match m.kind {
                ast::ModifierKind::Decay(_) => "decay",
                ast::ModifierKind::Max(_) => "max",
                ast::ModifierKind::Min(_) => "min",
            };
            self.errors.push(
                Diagnostic::new(DiagnosticKind::MisplacedModifier { modifier }, m.span)
                    .with_label("a `when` rule gives fixed points"),
            );
        }
    }

    pub(super) fn each_rule(&mut self, e: &ast::EachRule) -> Option<plan::EachRule> {
        let event = self.event_slot(&e.event);
        let filter = match (&e.filter, event) {
            (Some(f), Some(slot)) => Some(self.condition(
                f,
                Ctx {
                    event: Some((slot, e.event.name.as_str())),
                },
            )),
            _ => None,
        };
        let window = e.window.as_ref().map(|w| self.window(w));
        let mut half_life = None;
        let mut max = None;
        let mut min = None;
        let mut ok = true;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for m in &e.modifiers {
            let key = match m.kind {
                ast::ModifierKind::Decay(_) => "decay",
                ast::ModifierKind::Max(_) => "max",
                ast::ModifierKind::Min(_) => "min",
            };
            if let Some(first) = seen.insert(key, m.span) {
                self.errors.push(
                    Diagnostic::new(DiagnosticKind::DuplicateModifier { modifier: key }, m.span)
                        .with_label("second one")
                        .with_note(first, "first one"),
                );
                ok = false;
                continue;
            }
            match &m.kind {
                ast::ModifierKind::Decay(d) => match duration_micros(d, &mut self.errors) {
                    Some(micros) if micros > 0 => {
                        half_life = Some(micros as f64 / plan::MICROS_PER_DAY as f64)
                    }
                    Some(_) => {
                        self.errors.push(
                            Diagnostic::new(DiagnosticKind::ZeroHalfLife, d.span)
                                .with_label("zero half-life"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                ast::ModifierKind::Max(n) => max = Some(n.value),
                ast::ModifierKind::Min(n) => min = Some(n.value),
            }
        }
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                let span = e
                    .modifiers
                    .iter()
                    .filter(|m| matches!(m.kind, ast::ModifierKind::Max(_) | ast::ModifierKind::Min(_)))
                    .map(|m| m.span)
                    .reduce(Span::to)
                    .unwrap_or(e.span);
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::InvertedMinMax {
                            min: fmt_number(lo),
                            max: fmt_number(hi),
                        },
                        span,
                    )
                    .with_label("no total satisfies both"),
                );
                ok = false;
            }
        }
        let event = event?;
        let filter = match filter {
            Some(Some(f)) => Some(f),
            Some(None) => return None,
            None => None,
        };
        let window = match window {
            Some(Some(w)) => Some(w),
            Some(None) => return None,
            None => None,
        };
        let computed = match &e.computed {
            Some(c) => Some(self.each_computed_points(event, &e.event.name, c)?),
            None => None,
        };
        ok.then_some(plan::EachRule {
            event,
            filter,
            window,
            points: e.points.value,
            computed,
            half_life_days: half_life,
            max,
            min,
        })
    }

    pub(super) fn band(&mut self, b: &ast::BandDecl, id: BandId) -> Option<plan::Band> {
        let values = self
            .symbols
            .bands
            .get(id.index())
            .map(|info| info.values.clone())
            .unwrap_or_default();
        if values.len() > 64 {
            self.errors.push(
                Diagnostic::new(DiagnosticKind::TooManyBandValues, b.name.span).with_label("too many values"),
            );
            return None;
        }
        let branches = self.branches(&b.name, &b.branches, BranchOwner::Band)?;
        let mut out = Vec::new();
        for (branch, condition) in b.branches.iter().zip(branches) {
            // The symbol table took the values from these very branches
            // (at most 64 of them, checked above).
            let value = values
                .iter()
                .position(|v| *v == branch.value.name)
                .and_then(|i| u16::try_from(i).ok());
            let Some(value) = value else {
                self.errors.push(Diagnostic::new(
                    DiagnosticKind::InternalBandValueMissing {
                        band: b.name.name.clone(),
                        value: branch.value.name.clone(),
                    },
                    branch.value.span,
                ));
                return None;
            };
            out.push(plan::BandBranch {
                value,
                condition,
                span: branch.span,
            });
        }
        Some(plan::Band {
            name: b.name.name.clone(),
            values,
            branches: out,
            span: b.name.span,
        })
    }

    /// Checks and compiles first-match branches (bands and route queues):
    /// unique values, `otherwise` last and present, nothing unreachable.
    pub(super) fn branches(
        &mut self,
        owner: &ast::Ident,
        branches: &[ast::Branch],
        owner_kind: BranchOwner,
    ) -> Option<Vec<Option<Cond>>> {
        let mut ok = true;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut out = Vec::new();
        let mut always_at: Option<Span> = None;
        for branch in branches {
            if let Some(first) = seen.get(branch.value.name.as_str()) {
                if owner_kind == BranchOwner::Band {
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::DuplicateBranch {
                                owner: owner.name.clone(),
                                value: branch.value.name.clone(),
                            },
                            branch.value.span,
                        )
                        .with_label("second branch")
                        .with_note(*first, "first branch"),
                    );
                    ok = false;
                }
            } else {
                seen.insert(&branch.value.name, branch.value.span);
            }
            if let Some(at) = always_at {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::UnreachableBranch {
                            branch: branch.value.name.clone(),
                            owner: owner.name.clone(),
                        },
                        branch.span,
                    )
                    .with_label("unreachable")
                    .with_note(at, "every contact stops here"),
                );
                ok = false;
            }
            match &branch.condition {
                None => {
                    if always_at.is_none() {
                        always_at = Some(branch.span);
                    }
                    out.push(None);
                }
                Some(c) => match self.condition(c, Ctx::CONTACT) {
                    Some(cond) => {
                        if always_at.is_none() && self.always_true(&cond) {
                            always_at = Some(branch.span);
                        }
                        out.push(Some(cond));
                    }
                    None => ok = false,
                },
            }
        }
        let ends_with_otherwise = branches.last().is_some_and(|b| b.condition.is_none());
        if !ends_with_otherwise && !branches.iter().any(|b| b.condition.is_none()) {
            let example = branches
                .last()
                .map_or("cold", |b| b.value.name.as_str())
                .to_string();
            let kind = match owner_kind {
                BranchOwner::Band => DiagnosticKind::BandMissingOtherwise {
                    band: owner.name.clone(),
                    example,
                },
            };
            self.errors
                .push(Diagnostic::new(kind, owner.span).with_label("some contacts would get no value"));
            ok = false;
        }
        ok.then_some(out)
    }

    /// A condition that holds for every contact (as far as can be told
    /// without data): `true`, or a score compared with its own range.
    pub(super) fn always_true(&self, cond: &Cond) -> bool {
        match cond {
            Cond::Const(b) => *b,
            Cond::And(parts) => parts.iter().all(|p| self.always_true(p)),
            Cond::Or(parts) => parts.iter().any(|p| self.always_true(p)),
            Cond::Compare {
                op,
                left: plan::Operand::Score(id),
                right: plan::Operand::Const(plan::ConstValue::Number(n)),
                ..
            } => {
                let Some(info) = self.symbols.scores.get(id.index()) else {
                    return false;
                };
                match op {
                    CompareOp::Ge => info.low >= *n,
                    CompareOp::Gt => info.low > *n,
                    CompareOp::Le => info.high <= *n,
                    CompareOp::Lt => info.high < *n,
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// Records field `key` of a block item (a route's, a goal's) at `span`;
    /// when the block already had it, reports `duplicate()` on the second
    /// one, pointing at the first, and returns true.
    pub(super) fn field_given_twice<'k>(
        &mut self,
        seen: &mut HashMap<&'k str, Span>,
        key: &'k str,
        span: Span,
        duplicate: impl FnOnce() -> DiagnosticKind,
    ) -> bool {
        let Some(first) = seen.insert(key, span) else {
            return false;
        };
        self.errors.push(
            Diagnostic::new(duplicate(), span)
                .with_label("second one")
                .with_note(first, "first one"),
        );
        true
    }

    pub(super) fn route(&mut self, r: &ast::RouteDecl) -> Option<plan::Route> {
        let condition = self.condition(&r.condition, Ctx::CONTACT);
        let mut task: Option<String> = None;
        let mut sla_hours: Option<f64> = None;
        let mut queue: Option<Vec<plan::QueueBranch>> = None;
        let mut assignee: Option<plan::Pick> = None;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut ok = true;
        for field in &r.fields {
            let key = match field.kind {
                ast::RouteFieldKind::Task(_) => "task",
                ast::RouteFieldKind::Sla(_) => "sla",
                ast::RouteFieldKind::Queue(_) | ast::RouteFieldKind::QueueFirst(_) => "queue",
                ast::RouteFieldKind::Assign(_) => "assign to",
            };
            let duplicate = || DiagnosticKind::DuplicateRouteField {
                route: r.name.name.clone(),
                field: key,
            };
            if self.field_given_twice(&mut seen, key, field.span, duplicate) {
                ok = false;
                continue;
            }
            match &field.kind {
                ast::RouteFieldKind::Task(t) => task = Some(t.value.clone()),
                ast::RouteFieldKind::Sla(d) => match duration_micros(d, &mut self.errors) {
                    Some(m) if m > 0 => sla_hours = Some(sla_hours_from_micros(m)),
                    Some(_) => {
                        self.errors
                            .push(Diagnostic::new(DiagnosticKind::ZeroSla, d.span).with_label("zero SLA"));
                        ok = false;
                    }
                    None => ok = false,
                },
                ast::RouteFieldKind::Queue(q) => match self.whole_queue(&r.name, q) {
                    Some(branch) => queue = Some(vec![branch]),
                    None => ok = false,
                },
                ast::RouteFieldKind::QueueFirst(branches) => match self.queue_branches(&r.name, branches) {
                    Some(branches) => queue = Some(branches),
                    None => ok = false,
                },
                ast::RouteFieldKind::Assign(a) => {
                    match self.route_pick(&r.name, a, super::routing::Role::Assignee) {
                        Some(pick) => assignee = Some(pick),
                        None => ok = false,
                    }
                }
            }
        }
        for key in ["task", "sla", "queue"] {
            if !seen.contains_key(key) {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::MissingRouteField {
                            route: r.name.name.clone(),
                            field: key,
                        },
                        r.name.span,
                    )
                    .with_label(format!("needs a `{key}`")),
                );
                ok = false;
            }
        }
        let condition = condition?;
        if !ok {
            return None;
        }
        Some(plan::Route {
            name: r.name.name.clone(),
            // Resolved after every item, like an audience's.
            reach: plan::Reach::default(),
            condition,
            task: task?,
            sla_hours: sla_hours?,
            queue: queue?,
            assignee,
            span: r.name.span,
        })
    }
}

/// An SLA in hours as results, actions and traces print it: rounded to 2
/// decimals like a score (`sla 10 minutes` is 0.17, `sla 24 hours` stays
/// 24), and never below 0.01 so that a short SLA does not print as 0
/// (docs/decisions.md).
pub(super) fn sla_hours_from_micros(micros: i64) -> f64 {
    let hours = micros as f64 / 3_600_000_000.0;
    ((hours * 100.0).round() / 100.0).max(0.01)
}
