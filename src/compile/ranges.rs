//! Ranges (issue 13): ordered band comparisons (`grade >= B2`), `between a
//! and b` on numbers and timestamps, future windows (`within next 3 days`)
//! and age ranges (`between 8 and 30 days ago`, on a timestamp or as the
//! window of an event aggregate or an `each` rule).

use super::conds::mirrored;
use super::names::Ctx;
use super::types::{duration_micros, fmt_number, promote_time_literal, Ty};
use super::Compiler;
use crate::diagnostics::{Diagnostic, DiagnosticKind, TypeAdvice};
use crate::plan::{BandId, Cond, ConstValue, Operand, Window};
use crate::snapshot::format_timestamp;
use crate::source::Span;
use crate::syntax::ast::{self, CompareOp, WindowKind};

impl Compiler<'_> {
    /// `grade >= B2` (`band_on_right`: written `B2 <= grade`): the values the
    /// comparison accepts, in declaration order where the first value is the
    /// highest and `otherwise` the lowest, as one mask, so evaluation costs
    /// what `is` costs.
    pub(super) fn band_ordered(
        &mut self,
        span: Span,
        op: CompareOp,
        band: BandId,
        other: &ast::Expr,
        band_on_right: bool,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        let op = if band_on_right { mirrored(op) } else { op };
        if let Some(other_band) = self.band_of(other, ctx) {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::BandOrdered {
                        op: op.symbol(),
                        band: self.band_name(band).to_string(),
                        other: self.band_name(other_band).to_string(),
                    },
                    span,
                )
                .with_label("two bands"),
            );
            return None;
        }
        let value = usize::from(self.band_value_of(band, other)?);
        let count = self.band_values(band).len();
        // Index 0 is the first declared value, the highest.
        let accepted: Vec<usize> = (0..count.min(64))
            .filter(|i| match op {
                CompareOp::Ge => *i <= value,
                CompareOp::Gt => *i < value,
                CompareOp::Le => *i >= value,
                CompareOp::Lt => *i > value,
                CompareOp::Eq => *i == value,
                CompareOp::Ne => *i != value,
            })
            .collect();
        if accepted.is_empty() {
            let values = self.band_values(band);
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::BandOrderedNeverTrue {
                        op: op.symbol(),
                        band: self.band_name(band).to_string(),
                        value: values.get(value).cloned().unwrap_or_default(),
                        end: match op {
                            CompareOp::Gt => "highest",
                            CompareOp::Lt => "lowest",
                            _ => "only",
                        },
                    },
                    span,
                )
                .with_label("never true"),
            );
            return None;
        }
        let mask = accepted.iter().fold(0u64, |mask, i| mask | (1u64 << i));
        Some(Cond::BandOrdered { band, mask, op, span })
    }

    /// `x between low and high`: numbers, or timestamps (a text literal
    /// against a timestamp is one), both ends included.
    pub(super) fn between(
        &mut self,
        span: Span,
        left: &ast::Expr,
        low: &ast::Expr,
        high: &ast::Expr,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        let l = self.operand(left, ctx);
        let lo = self.operand(low, ctx);
        let hi = self.operand(high, ctx);
        let (l, mut lo, mut hi) = (l?, lo?, hi?);
        promote_time_literal(&l, &mut lo);
        promote_time_literal(&l, &mut hi);
        self.coerce_time_literal(&l, &mut lo)?;
        self.coerce_time_literal(&l, &mut hi)?;
        // With the left side of unknown type, one bound may say it is a time.
        self.coerce_time_literal(&lo, &mut hi)?;
        self.coerce_time_literal(&hi, &mut lo)?;
        // The tested value first; the bounds must then be of its type (or,
        // for a value of unknown type, numbers or timestamps themselves).
        if !self.expect_type(&l, &[Ty::Number, Ty::Time], "between") {
            return None;
        }
        let mut ok = true;
        for bound in [&lo, &hi] {
            ok &= if l.ty == Ty::Any {
                self.expect_type(bound, &[Ty::Number, Ty::Time], "between")
            } else {
                self.compatible(&l, bound, "between")
            };
        }
        if !ok || !self.compatible(&lo, &hi, "between") {
            return None;
        }
        let reversed = match (&lo.operand, &hi.operand) {
            (Operand::Const(ConstValue::Number(a)), Operand::Const(ConstValue::Number(b))) if a > b => {
                Some((fmt_number(*a), fmt_number(*b)))
            }
            (Operand::Const(ConstValue::Time(a)), Operand::Const(ConstValue::Time(b))) if a > b => Some((
                format!("\"{}\"", format_timestamp(*a)),
                format!("\"{}\"", format_timestamp(*b)),
            )),
            _ => None,
        };
        if let Some((low, high)) = reversed {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::ReversedBetween {
                        low,
                        high,
                        unit: String::new(),
                    },
                    lo.span.to(hi.span),
                )
                .with_label("the larger bound is first"),
            );
            return None;
        }
        let time = [&l, &lo, &hi].iter().any(|t| t.ty == Ty::Time);
        Some(Cond::Between {
            operand: l.operand,
            low: lo.operand,
            high: hi.operand,
            time,
            span,
        })
    }

    /// `x within next 3 days` or `x between 8 and 30 days ago` on a timestamp.
    pub(super) fn time_window(
        &mut self,
        span: Span,
        left: &ast::Expr,
        window: &ast::Window,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        let l = self.operand(left, ctx);
        let w = self.window(window);
        let (l, w) = (l?, w?);
        let what = match window.kind {
            WindowKind::Next(_) => "within next",
            WindowKind::Within(_) => "within",
            WindowKind::Ago { .. } => "between … ago",
        };
        if !self.expect_type(&l, &[Ty::Time], what) {
            // `any page_view within next 3 days`: an event window looks back.
            if let Some(example) = event_window_looking_back(left, window) {
                if let Some(last) = self.errors.last_mut() {
                    if let DiagnosticKind::ExpectedType { advice, .. } = &mut last.kind {
                        *advice = TypeAdvice::FutureEventWindow { example };
                        last.help = last.kind.help();
                    }
                }
            }
            return None;
        }
        Some(Cond::TimeWindow {
            operand: l.operand,
            window: w,
            span,
        })
    }

    /// A window in microseconds of age; reports an unknown unit and an age
    /// range written largest first.
    pub(super) fn window(&mut self, window: &ast::Window) -> Option<Window> {
        match &window.kind {
            WindowKind::Within(d) => Some(Window::within(duration_micros(d, &mut self.errors)?)),
            WindowKind::Next(d) => Some(Window {
                min_age: -duration_micros(d, &mut self.errors)?,
                max_age: 0,
            }),
            WindowKind::Ago { low, high } => {
                let max_age = duration_micros(high, &mut self.errors)?;
                let min_age = duration_micros(low, &mut self.errors)?;
                if min_age > max_age {
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::ReversedBetween {
                                low: fmt_number(low.amount),
                                high: fmt_number(high.amount),
                                unit: format!(" {} ago", high.unit.name),
                            },
                            window.span,
                        )
                        .with_label("the larger age is first"),
                    );
                    return None;
                }
                Some(Window { min_age, max_age })
            }
        }
    }
}

/// For `any E within next N days` or `count of E within next N days` (an
/// aggregate given a future window, read as a timestamp test on its value),
/// the aggregate with the window looking back: `any E within N days`.
fn event_window_looking_back(left: &ast::Expr, window: &ast::Window) -> Option<String> {
    let ast::ExprKind::Aggregate(agg) = &left.kind else {
        return None;
    };
    let WindowKind::Next(duration) = &window.kind else {
        return None;
    };
    let words = match agg.kind {
        ast::AggregateKind::Any => "any",
        ast::AggregateKind::Count => "count of",
        _ => return None,
    };
    let filter = if agg.filter.is_some() { " where …" } else { "" };
    Some(format!(
        "{words} {}{filter} within {} {}",
        crate::syntax::written_name(&agg.event.name),
        fmt_number(duration.amount),
        duration.unit.name
    ))
}
