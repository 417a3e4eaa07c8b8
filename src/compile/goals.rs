//! Compiling goals: what a rule set's scores are meant to predict
//! (`goal meeting { outcome meeting_held  horizon 30 days }`), read by
//! `rubric measure`. A goal has no condition and reads nothing of a
//! contact; it names outcome types, a horizon and optionally a value.

use std::collections::HashMap;

use super::types::duration_micros;
use super::Compiler;
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticKind};
use crate::plan::{self, GoalValue};
use crate::source::Span;
use crate::syntax::ast;

/// The only number an outcome carries (docs/measure.md#outcomes).
const OUTCOME_VALUES: [&str; 1] = ["amount"];

impl Compiler<'_> {
    /// Compiles every goal of the rule set, in declaration order; reports a
    /// second goal of the same name.
    pub(super) fn goals(&mut self, items: &[&ast::Item]) -> Option<Vec<plan::Goal>> {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut goals = Vec::new();
        let mut ok = true;
        for item in items {
            let ast::ItemKind::Goal(g) = &item.kind else {
                continue;
            };
            if let Some(first) = seen.insert(g.name.name.as_str(), g.name.span) {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::AlreadyDeclared {
                            name: g.name.name.clone(),
                            existing: "goal",
                        },
                        g.name.span,
                    )
                    .with_label(format!("second goal named `{}`", g.name.name))
                    .with_note(first, "first declared here"),
                );
                ok = false;
                continue;
            }
            match self.goal(g) {
                Some(goal) => goals.push(goal),
                None => ok = false,
            }
        }
        ok.then_some(goals)
    }

    fn goal(&mut self, g: &ast::GoalDecl) -> Option<plan::Goal> {
        let mut outcome_types: Vec<String> = Vec::new();
        let mut horizon_micros: Option<i64> = None;
        let mut value = GoalValue::None;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut ok = true;
        for field in &g.fields {
            let key = match field.kind {
                ast::GoalFieldKind::Outcome(_) => "outcome",
                ast::GoalFieldKind::Horizon(_) => "horizon",
                ast::GoalFieldKind::ValueSumOf(_) => "value",
            };
            let duplicate = || DiagnosticKind::DuplicateGoalField {
                goal: g.name.name.clone(),
                field: key,
            };
            if self.field_given_twice(&mut seen, key, field.span, duplicate) {
                ok = false;
                continue;
            }
            match &field.kind {
                ast::GoalFieldKind::Outcome(types) => {
                    for t in types {
                        if outcome_types.contains(&t.name) {
                            self.errors.push(
                                Diagnostic::new(
                                    DiagnosticKind::DuplicateOutcomeType { name: t.name.clone() },
                                    t.span,
                                )
                                .with_label("listed again"),
                            );
                            ok = false;
                        } else {
                            outcome_types.push(t.name.clone());
                        }
                    }
                }
                ast::GoalFieldKind::Horizon(d) => match duration_micros(d, &mut self.errors) {
                    Some(m) if m > 0 => horizon_micros = Some(m),
                    Some(_) => {
                        self.errors.push(
                            Diagnostic::new(DiagnosticKind::ZeroHorizon, d.span).with_label("zero horizon"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                ast::GoalFieldKind::ValueSumOf(name) => {
                    if OUTCOME_VALUES.contains(&name.name.as_str()) {
                        value = GoalValue::SumOfAmount;
                    } else {
                        self.errors.push(
                            Diagnostic::new(
                                DiagnosticKind::UnknownOutcomeValue {
                                    name: name.name.clone(),
                                    suggestion: did_you_mean(&name.name, OUTCOME_VALUES).map(String::from),
                                },
                                name.span,
                            )
                            .with_label("not a value of an outcome"),
                        );
                        ok = false;
                    }
                }
            }
        }
        for key in ["outcome", "horizon"] {
            if !seen.contains_key(key) {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::MissingGoalField {
                            goal: g.name.name.clone(),
                            field: key,
                        },
                        g.name.span,
                    )
                    .with_label(if key == "outcome" {
                        "needs an `outcome`"
                    } else {
                        "needs a `horizon`"
                    }),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some(plan::Goal {
            name: g.name.name.clone(),
            outcome_types,
            horizon_micros: horizon_micros?,
            value,
            span: g.name.span,
        })
    }
}
