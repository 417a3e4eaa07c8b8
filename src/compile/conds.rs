//! Conditions and operands: comparisons, `in`, `matches` (with the regex
//! syntax check), `is`, `within`, function calls and event aggregates.

use super::names::Ctx;
use super::regexes::check_regex;
use super::types::{describe, duration_micros, fmt_number, promote_time_literal, Info, Ty, Typed};
use super::Compiler;
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticKind, TypeAdvice};
use crate::plan::{Cond, ConstValue, Function, Operand, PlanRegex};
use crate::source::Span;
use crate::syntax::ast::{self, AggregateKind, ArithOp, CompareOp, ExprKind, IsTarget, Literal};

impl<'a> Compiler<'a> {
    /// Compiles an expression used as a condition.
    pub(super) fn condition(&mut self, expr: &ast::Expr, ctx: Ctx<'_>) -> Option<Cond> {
        match &expr.kind {
            ExprKind::Or(parts) | ExprKind::And(parts) => {
                let joined_by = if matches!(expr.kind, ExprKind::Or(_)) {
                    "or"
                } else {
                    "and"
                };
                let mut out = Vec::with_capacity(parts.len());
                let mut ok = true;
                let mut after_where = None;
                let mut previous_part: Option<&ast::Expr> = None;
                for p in parts {
                    let errors_before = self.errors.len();
                    match self.condition(p, ctx) {
                        Some(c) => out.push(c),
                        None => ok = false,
                    }
                    if let Some(event) = after_where {
                        self.explain_names_after_where(errors_before, event, joined_by);
                    }
                    if let Some(previous) = previous_part {
                        self.explain_value_after_test(errors_before, previous, p, joined_by);
                    }
                    after_where = ends_with_where_test(p);
                    // `a == "x" or "y" or "z"`: each value repeats the test.
                    if written_literal(p).is_none() {
                        previous_part = Some(p);
                    }
                }
                if !ok {
                    return None;
                }
                Some(if matches!(expr.kind, ExprKind::Or(_)) {
                    Cond::Or(out)
                } else {
                    Cond::And(out)
                })
            }
            ExprKind::Not(inner) => Some(Cond::Not(Box::new(self.condition(inner, ctx)?))),
            ExprKind::Compare {
                op,
                left,
                right,
                ignore_case,
            } => self.compare(expr.span, *op, left, right, *ignore_case, ctx),
            ExprKind::In {
                left,
                list,
                negated,
                ignore_case,
            } => self.in_test(expr.span, left, list, *negated, *ignore_case, ctx),
            ExprKind::Matches {
                left,
                pattern,
                ignore_case,
            } => self.matches(expr.span, left, pattern, *ignore_case, ctx),
            ExprKind::Text {
                op,
                left,
                right,
                ignore_case,
            } => {
                let l = self.operand(left, ctx);
                let r = self.operand(right, ctx);
                let (l, r) = (l?, r?);
                let mut ok = self.expect_type(&l, &[Ty::Text], op.words());
                ok &= self.expect_type(&r, &[Ty::Text], op.words());
                ok.then_some(Cond::Text {
                    op: *op,
                    left: l.operand,
                    right: r.operand,
                    ignore_case: *ignore_case,
                    span: expr.span,
                })
            }
            ExprKind::Is {
                left,
                negated,
                target,
            } => self.is_test(expr.span, left, *negated, target, ctx),
            ExprKind::Within { left, window } => {
                let l = self.operand(left, ctx);
                let w = duration_micros(window, &mut self.errors);
                let (l, w) = (l?, w?);
                if !self.expect_type(&l, &[Ty::Time], "within") {
                    return None;
                }
                Some(Cond::Within {
                    operand: l.operand,
                    window: w,
                    span: expr.span,
                })
            }
            ExprKind::Between { left, low, high } => self.between(expr.span, left, low, high, ctx),
            ExprKind::TimeWindow { left, window } => self.time_window(expr.span, left, window, ctx),
            ExprKind::Has {
                left,
                quantifier,
                right,
                ignore_case,
            } => self.has_test(expr.span, left, *quantifier, right, *ignore_case, ctx),
            ExprKind::Literal(Literal::Bool(b)) => Some(Cond::Const(*b)),
            ExprKind::Name(_)
            | ExprKind::ContactField(_)
            | ExprKind::Call { .. }
            | ExprKind::Aggregate(_)
            | ExprKind::Literal(_)
            | ExprKind::Arith { .. } => {
                if let Some(band) = self.band_of(expr, ctx) {
                    let values = self.band_values(band).join(", ");
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::BandNotACondition {
                                band: self.band_name(band).to_string(),
                                values,
                            },
                            expr.span,
                        )
                        .with_label("band"),
                    );
                    return None;
                }
                let t = self.operand(expr, ctx)?;
                match t.ty {
                    Ty::Bool | Ty::Any => Some(Cond::Truthy {
                        operand: t.operand,
                        span: expr.span,
                    }),
                    other => {
                        self.errors.push(
                            Diagnostic::new(DiagnosticKind::NotACondition { found: other.name() }, expr.span)
                                .with_label(format!("this is {}", other.name())),
                        );
                        None
                    }
                }
            }
        }
    }

    pub(super) fn compare(
        &mut self,
        span: Span,
        op: CompareOp,
        left: &ast::Expr,
        right: &ast::Expr,
        ignore_case: bool,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        if ctx.event.is_none() && self.compares_with_now(op, left, right) {
            return None;
        }
        // Bands: `readiness == hot` is `readiness is hot`.
        let (band, other) = match (self.band_of(left, ctx), self.band_of(right, ctx)) {
            (Some(b), _) => (Some(b), right),
            (None, Some(b)) => (Some(b), left),
            (None, None) => (None, right),
        };
        if let Some(band) = band {
            // `grade >= B2`: by declaration order (`ranges.rs`).
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                let band_on_right = std::ptr::eq(other, left);
                return self.band_ordered(span, op, band, other, band_on_right, ctx);
            }
            let value = self.band_value_of(band, other)?;
            return Some(Cond::BandIs {
                band,
                mask: 1u64 << value,
                negated: op == CompareOp::Ne,
                span,
            });
        }
        if matches!(right.kind, ExprKind::Literal(Literal::Null))
            || matches!(left.kind, ExprKind::Literal(Literal::Null))
        {
            self.errors.push(
                Diagnostic::new(DiagnosticKind::NullComparison { op: op.symbol() }, span)
                    .with_label("compares with null"),
            );
            return None;
        }
        let l = self.operand(left, ctx);
        let r = self.operand(right, ctx);
        let (mut l, mut r) = (l?, r?);
        // A text literal against a timestamp is a timestamp literal; so is one
        // ordered against an undeclared value (`signed_up_at > "2026-01-01"`).
        let ordered = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        if ordered {
            promote_time_literal(&l, &mut r);
            promote_time_literal(&r, &mut l);
        }
        self.coerce_time_literal(&l, &mut r)?;
        self.coerce_time_literal(&r, &mut l)?;
        if !self.compatible(&l, &r, op.symbol()) {
            // `any email_open within 30 days > 2`: a count was meant.
            if let Some(example) = count_instead_of_any(op, left, right) {
                if let Some(last) = self.errors.last_mut() {
                    if let DiagnosticKind::ComparedTypes { advice, .. } = &mut last.kind {
                        *advice = TypeAdvice::CountOf { example };
                        last.help = last.kind.help();
                    }
                }
            }
            return None;
        }
        let known = if l.ty == Ty::Any { r.ty } else { l.ty };
        if ordered && matches!(known, Ty::Text | Ty::Bool) {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::OrderedWithoutOrder {
                        op: op.symbol(),
                        ty: known.name(),
                    },
                    span,
                )
                .with_label(format!("{} cannot be ordered", known.name())),
            );
            return None;
        }
        if ignore_case && !matches!(known, Ty::Text | Ty::Any) {
            self.errors.push(
                Diagnostic::new(DiagnosticKind::IgnoringCaseNotText { ty: known.name() }, span)
                    .with_label("not text"),
            );
            return None;
        }
        self.check_threshold(&l, &r);
        self.check_threshold(&r, &l);
        self.check_allowed(&l, &r, ignore_case);
        self.check_allowed(&r, &l, ignore_case);
        let time = l.ty == Ty::Time || r.ty == Ty::Time;
        Some(Cond::Compare {
            op,
            left: l.operand,
            right: r.operand,
            ignore_case,
            time,
            span,
        })
    }

    pub(super) fn in_test(
        &mut self,
        span: Span,
        left: &ast::Expr,
        list: &ast::Expr,
        negated: bool,
        ignore_case: bool,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        let list = self.list_of(list)?;
        if let Some(band) = self.band_of(left, ctx) {
            let mut mask = 0u64;
            let mut ok = true;
            for element in &list {
                match self.band_value_of(band, element) {
                    Some(v) => mask |= 1u64 << v,
                    None => ok = false,
                }
            }
            return ok.then_some(Cond::BandIs {
                band,
                mask,
                negated,
                span,
            });
        }
        let l = self.operand(left, ctx)?;
        let mut set = Vec::with_capacity(list.len());
        let mut ok = true;
        let mut first_element: Option<(Ty, Span)> = None;
        for element in &list {
            let Some(mut e) = self.operand(element, ctx) else {
                ok = false;
                continue;
            };
            if matches!(e.operand, Operand::Const(ConstValue::Null)) {
                self.errors
                    .push(Diagnostic::new(DiagnosticKind::NullInList, e.span).with_label("null"));
                ok = false;
                continue;
            }
            if let Some(first) = &first_element {
                if first.0 != e.ty && e.ty != Ty::Any && first.0 != Ty::Any {
                    self.errors.push(
                        Diagnostic::new(
                            DiagnosticKind::MixedList {
                                first: first.0.name(),
                                second: e.ty.name(),
                            },
                            e.span,
                        )
                        .with_label(e.ty.name())
                        .with_note(first.1, first.0.name()),
                    );
                    ok = false;
                    continue;
                }
            } else {
                first_element = Some((e.ty, e.span));
            }
            if !matches!(e.operand, Operand::Const(_)) {
                self.errors.push(
                    Diagnostic::new(DiagnosticKind::ListElementNotValue, e.span).with_label("not a value"),
                );
                ok = false;
                continue;
            }
            if self.coerce_time_literal(&l, &mut e).is_none() || !self.compatible(&l, &e, "in") {
                ok = false;
                continue;
            }
            self.check_allowed(&l, &e, ignore_case);
            if let Operand::Const(c) = e.operand {
                set.push(match (c, ignore_case) {
                    (ConstValue::Text(t), true) => {
                        ConstValue::Text(crate::case_fold::fold_text(&t).into_owned().into_boxed_str())
                    }
                    (c, _) => c,
                });
            }
        }
        ok.then_some(Cond::In {
            left: l.operand,
            set,
            negated,
            ignore_case,
            span,
        })
    }

    pub(super) fn matches(
        &mut self,
        span: Span,
        left: &ast::Expr,
        pattern: &ast::Expr,
        ignore_case: bool,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        let l = self.operand(left, ctx);
        let resolved = match &pattern.kind {
            ExprKind::Name(ident) => self.const_value(&ident.name).unwrap_or(pattern),
            _ => pattern,
        };
        let (source, flags) = match &resolved.kind {
            ExprKind::Literal(Literal::Regex { pattern, flags }) => (pattern.clone(), flags.clone()),
            ExprKind::Literal(Literal::Str(s)) => (s.clone(), String::new()),
            _ => {
                self.errors.push(
                    Diagnostic::new(DiagnosticKind::MatchesNeedsRegex, pattern.span)
                        .with_label("not a regular expression"),
                );
                return None;
            }
        };
        let mut case_insensitive = ignore_case;
        for flag in flags.chars() {
            if flag == 'i' {
                case_insensitive = true;
            } else {
                self.errors.push(
                    Diagnostic::new(DiagnosticKind::UnknownRegexFlag { flag }, pattern.span)
                        .with_label("unknown flag"),
                );
                return None;
            }
        }
        if let Err(detail) = check_regex(&source, case_insensitive) {
            self.errors.push(
                Diagnostic::new(DiagnosticKind::InvalidRegex { detail }, pattern.span)
                    .with_label("does not compile"),
            );
            return None;
        }
        let regex = PlanRegex::new(source, case_insensitive, self.regex_count);
        self.regex_count += 1;
        let l = l?;
        if !self.expect_type(&l, &[Ty::Text], "matches") {
            return None;
        }
        Some(Cond::Matches {
            left: l.operand,
            regex,
            span,
        })
    }

    pub(super) fn is_test(
        &mut self,
        span: Span,
        left: &ast::Expr,
        negated: bool,
        target: &IsTarget,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        if let Some(band) = self.band_of(left, ctx) {
            return match target {
                IsTarget::Name(ident) => {
                    let v = self.band_value(band, &ident.name, ident.span)?;
                    Some(Cond::BandIs {
                        band,
                        mask: 1u64 << v,
                        negated,
                        span,
                    })
                }
                IsTarget::Null | IsTarget::Bool(_) => {
                    let name = self.band_name(band).to_string();
                    let values = self.band_values(band).join(", ");
                    self.errors.push(
                        Diagnostic::new(DiagnosticKind::BandAlwaysHasValue { band: name, values }, span)
                            .with_label("band"),
                    );
                    None
                }
            };
        }
        match target {
            IsTarget::Null => {
                let l = self.operand(left, ctx)?;
                Some(Cond::IsNull {
                    operand: l.operand,
                    negated,
                    span,
                })
            }
            IsTarget::Bool(b) => {
                let l = self.operand(left, ctx)?;
                if !self.expect_type(&l, &[Ty::Bool], if *b { "is true" } else { "is false" }) {
                    return None;
                }
                Some(Cond::Compare {
                    op: if negated { CompareOp::Ne } else { CompareOp::Eq },
                    left: l.operand,
                    right: Operand::Const(ConstValue::Bool(*b)),
                    ignore_case: false,
                    time: false,
                    span,
                })
            }
            IsTarget::Name(ident) => {
                // `x is hot` where x is not a band: most likely a typo of a band name.
                let l = self.operand(left, ctx)?;
                let bands: Vec<&str> = self.symbols.bands.iter().map(|b| b.name.as_str()).collect();
                let subject = describe(&l);
                let band_suggestion = match (
                    &left.kind,
                    did_you_mean(subject.trim_matches('`'), bands.iter().copied()),
                ) {
                    (ExprKind::Name(n), Some(b)) => Some((b.to_string(), n.name.clone())),
                    _ => None,
                };
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::IsNeedsBand {
                            value: ident.name.clone(),
                            subject,
                            band_suggestion,
                        },
                        ident.span,
                    )
                    .with_label("a band value"),
                );
                None
            }
        }
    }

    /// Compiles an operand (a value).
    pub(super) fn operand(&mut self, expr: &ast::Expr, ctx: Ctx<'_>) -> Option<Typed> {
        let span = expr.span;
        let plain = |operand, ty| {
            Some(Typed {
                operand,
                ty,
                info: Info::None,
                span,
            })
        };
        match &expr.kind {
            ExprKind::Name(ident) => self.name(ident, ctx),
            ExprKind::Literal(lit) => match lit {
                Literal::Str(s) => plain(
                    Operand::Const(ConstValue::Text(s.clone().into_boxed_str())),
                    Ty::Text,
                ),
                Literal::Number(n) => plain(Operand::Const(ConstValue::Number(*n)), Ty::Number),
                Literal::Bool(b) => plain(Operand::Const(ConstValue::Bool(*b)), Ty::Bool),
                Literal::Null => plain(Operand::Const(ConstValue::Null), Ty::Null),
                Literal::Regex { .. } => {
                    self.errors.push(
                        Diagnostic::new(DiagnosticKind::RegexOutsideMatches, span)
                            .with_label("regular expression"),
                    );
                    None
                }
                Literal::List(_) => {
                    self.errors
                        .push(Diagnostic::new(DiagnosticKind::ListOutsideIn, span).with_label("list"));
                    None
                }
            },
            ExprKind::Call { function, args } => self.call(span, function, args, ctx),
            ExprKind::Aggregate(agg) => self.aggregate(span, agg, ctx),
            ExprKind::ContactField(ident) => self.contact_field(span, ident),
            ExprKind::Arith { first, rest } => self.arith(span, first, rest, ctx),
            _ => {
                self.errors
                    .push(Diagnostic::new(DiagnosticKind::ConditionAsValue, span).with_label("a condition"));
                None
            }
        }
    }

    pub(super) fn call(
        &mut self,
        span: Span,
        function: &ast::Ident,
        args: &[ast::Expr],
        ctx: Ctx<'_>,
    ) -> Option<Typed> {
        let (f, arg_ty, result) = match function.name.as_str() {
            "lower" => (Function::Lower, Ty::Text, Ty::Text),
            "upper" => (Function::Upper, Ty::Text, Ty::Text),
            "trim" => (Function::Trim, Ty::Text, Ty::Text),
            "domain" => (Function::Domain, Ty::Text, Ty::Text),
            "days_since" => (Function::DaysSince, Ty::Time, Ty::Number),
            other => {
                let functions = ["lower", "upper", "trim", "domain", "days_since"];
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::UnknownFunction {
                            name: other.to_string(),
                            suggestion: super::aggregates::aggregate_written_as_call(other, args)
                                .or_else(|| did_you_mean(other, functions).map(String::from)),
                            functions: functions.join(", "),
                        },
                        function.span,
                    )
                    .with_label("not a function"),
                );
                return None;
            }
        };
        let [arg] = args else {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::WrongArity {
                        function: f.name(),
                        found: args.len(),
                    },
                    span,
                )
                .with_label("wrong number of values"),
            );
            return None;
        };
        let a = self.operand(arg, ctx)?;
        if a.ty != Ty::Any && a.ty != arg_ty {
            let advice = self.function_argument_advice(f.name(), arg_ty);
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::ExpectedType {
                        what: f.name().to_string(),
                        wanted: arg_ty.name().to_string(),
                        subject: describe(&a),
                        ty: a.ty.name(),
                        advice,
                    },
                    a.span,
                )
                .with_label(format!("this is {}", a.ty.name())),
            );
            return None;
        }
        Some(Typed {
            operand: Operand::Call {
                function: f,
                argument: Box::new(a.operand),
                span,
            },
            ty: result,
            info: Info::None,
            span,
        })
    }

    /// Arithmetic: every part must be a number (a part of unknown type is
    /// checked at run time). All parts are checked, so every wrong one is
    /// reported.
    pub(super) fn arith(
        &mut self,
        span: Span,
        first: &ast::Expr,
        rest: &[(ArithOp, ast::Expr)],
        ctx: Ctx<'_>,
    ) -> Option<Typed> {
        let number = |compiler: &mut Self, part: &ast::Expr, op: ArithOp| {
            let typed = compiler.operand(part, ctx)?;
            compiler
                .expect_type(&typed, &[Ty::Number], op.symbol())
                .then_some(typed.operand)
        };
        let first_op = rest.first().map_or(ArithOp::Add, |(op, _)| *op);
        let first_operand = number(self, first, first_op);
        let mut parts = Vec::with_capacity(rest.len());
        let mut ok = first_operand.is_some();
        for (op, part) in rest {
            match number(self, part, *op) {
                Some(operand) => parts.push((*op, operand)),
                None => ok = false,
            }
        }
        let first = first_operand.filter(|_| ok)?;
        Some(Typed {
            operand: Operand::Arith {
                first: Box::new(first),
                rest: parts.into_boxed_slice(),
                span,
            },
            ty: Ty::Number,
            info: Info::None,
            span,
        })
    }

    pub(super) fn aggregate(&mut self, span: Span, agg: &ast::EventAggregate, ctx: Ctx<'_>) -> Option<Typed> {
        if ctx.event.is_some() {
            self.errors
                .push(Diagnostic::new(DiagnosticKind::NestedAggregate, span).with_label("nested aggregate"));
            return None;
        }
        if !matches!(
            agg.kind,
            AggregateKind::Count | AggregateKind::Any | AggregateKind::Last
        ) {
            return self.prop_aggregate(span, agg);
        }
        let event = self.event_slot(&agg.event)?;
        let (filter, window) = self.aggregate_filter_and_window(agg, event)?;
        let id = self.push_aggregate(span, agg, event, filter, window, None);
        let ty = match agg.kind {
            AggregateKind::Count => Ty::Number,
            AggregateKind::Any => Ty::Bool,
            AggregateKind::Last => Ty::Time,
            // Compiled by `prop_aggregate` (returned above).
            _ => Ty::Any,
        };
        Some(Typed {
            operand: Operand::Aggregate(id),
            ty,
            info: Info::None,
            span,
        })
    }
}

/// The event type of `expr` when it ends with an aggregate's `where` test
/// (`any form_submit where form == "demo"`, no window after it), so that a
/// following `and`/`or` part may have been meant inside the `where`.
fn ends_with_where_test(expr: &ast::Expr) -> Option<&ast::EventAggregate> {
    match &expr.kind {
        ExprKind::Aggregate(agg) if agg.filter.is_some() && agg.window.is_none() => Some(agg),
        ExprKind::Not(inner) => ends_with_where_test(inner),
        _ => None,
    }
}

/// `count of TYPE … OP N` for an `any TYPE …` aggregate compared with the
/// number `N` (either side), as the fix to suggest.
fn count_instead_of_any(op: CompareOp, left: &ast::Expr, right: &ast::Expr) -> Option<String> {
    let (agg, number, op) = match (&left.kind, &right.kind) {
        (ExprKind::Aggregate(agg), ExprKind::Literal(Literal::Number(n))) => (agg, *n, op),
        (ExprKind::Literal(Literal::Number(n)), ExprKind::Aggregate(agg)) => (agg, *n, mirrored(op)),
        _ => return None,
    };
    if agg.kind != AggregateKind::Any {
        return None;
    }
    let filter = if agg.filter.is_some() { " where …" } else { "" };
    let window = agg.window.as_ref().map_or(String::new(), |w| match &w.kind {
        ast::WindowKind::Within(d) | ast::WindowKind::Next(d) => {
            format!(" within {} {}", fmt_number(d.amount), d.unit.name)
        }
        ast::WindowKind::Ago { low, high } => format!(
            " between {} and {} {} ago",
            fmt_number(low.amount),
            fmt_number(high.amount),
            high.unit.name
        ),
    });
    Some(format!(
        "count of {}{filter}{window} {} {}",
        crate::syntax::written_name(&agg.event.name),
        op.symbol(),
        fmt_number(number)
    ))
}

/// The operator that keeps the meaning of `a OP b` written as `b OP a`.
pub(super) fn mirrored(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        CompareOp::Eq | CompareOp::Ne => op,
    }
}

/// The name of `expr` when it is `now` or `today`, bare or called (`now()`).
fn now_name(expr: &ast::Expr) -> Option<&ast::Ident> {
    let ident = match &expr.kind {
        ExprKind::Name(ident) => ident,
        ExprKind::Call { function, args } if args.is_empty() => function,
        _ => return None,
    };
    matches!(ident.name.as_str(), "now" | "today").then_some(ident)
}

/// An operand as the user would write it in a hint: a name, `last TYPE`, or
/// `x` for anything longer.
fn written_operand(expr: &ast::Expr) -> String {
    match &expr.kind {
        ExprKind::Name(ident) => crate::syntax::written_name(&ident.name).into_owned(),
        ExprKind::Aggregate(agg) if agg.kind == AggregateKind::Last && agg.filter.is_none() => {
            format!("last {}", agg.event.name)
        }
        _ => String::from("x"),
    }
}

/// A literal as written in a rule: `"CA"`, `200`.
fn written_literal(value: &ast::Expr) -> Option<String> {
    match &value.kind {
        ExprKind::Literal(Literal::Str(s)) => Some(format!("{s:?}")),
        ExprKind::Literal(Literal::Number(n)) => Some(fmt_number(*n)),
        _ => None,
    }
}

/// The test `expr` makes of a name, written again for the value `value`
/// (`country == "CA"` from `country == "US"`), with whether it is an
/// aggregate's `where` test. `None` for anything else.
fn repeated_test(expr: &ast::Expr, value: &str) -> Option<(String, bool)> {
    let (left, words, ignore_case) = match &expr.kind {
        ExprKind::Compare {
            op: op @ (CompareOp::Eq | CompareOp::Ne),
            left,
            ignore_case,
            ..
        } => (left, op.symbol(), *ignore_case),
        ExprKind::Text {
            op,
            left,
            ignore_case,
            ..
        } => (left, op.words(), *ignore_case),
        ExprKind::Aggregate(agg) if agg.window.is_none() => {
            let (test, _) = repeated_test(agg.filter.as_deref()?, value)?;
            return Some((test, true));
        }
        _ => return None,
    };
    let ExprKind::Name(name) = &left.kind else {
        return None;
    };
    let ignoring = if ignore_case { " ignoring case" } else { "" };
    Some((
        format!(
            "{} {words} {value}{ignoring}",
            crate::syntax::written_name(&name.name)
        ),
        false,
    ))
}

impl Compiler<'_> {
    /// Turns the unknown names reported since `errors_before` into the advice
    /// that a `where` of `event` takes one test (issue 13: `any form_submit
    /// where form == "x" and url contains "y"` reads `url` as a contact
    /// property). Names the event declares as props certainly were meant
    /// there; with no declared props, any unknown name may have been.
    fn explain_names_after_where(
        &mut self,
        errors_before: usize,
        aggregate: &ast::EventAggregate,
        joined_by: &'static str,
    ) {
        let event = aggregate.event.name.as_str();
        let event_props = self
            .symbols
            .events
            .as_ref()
            .and_then(|events| events.get(event))
            .and_then(|e| e.props.as_ref());
        for diagnostic in self.errors.iter_mut().skip(errors_before) {
            let DiagnosticKind::UnknownName { name, .. } = &diagnostic.kind else {
                continue;
            };
            if event_props.is_some_and(|props| !props.contains_key(name)) {
                continue;
            }
            let kind = DiagnosticKind::UnknownNameAfterWhere {
                name: name.clone(),
                event: event.to_string(),
                aggregate: crate::syntax::aggregate_head(aggregate),
                joined_by,
            };
            let label = std::mem::take(&mut diagnostic.label);
            let notes = std::mem::take(&mut diagnostic.notes);
            let mut replaced = Diagnostic::new(kind, diagnostic.span).with_label(label);
            replaced.notes = notes;
            *diagnostic = replaced;
        }
    }

    /// Turns a "not a condition" reported since `errors_before` for the
    /// literal `part` into the advice to repeat the test `previous` made
    /// (`country == "US" or "CA"` → `or country == "CA"`).
    fn explain_value_after_test(
        &mut self,
        errors_before: usize,
        previous: &ast::Expr,
        part: &ast::Expr,
        joined_by: &'static str,
    ) {
        let Some((repeated, in_where)) = written_literal(part).and_then(|v| repeated_test(previous, &v))
        else {
            return;
        };
        for diagnostic in self.errors.iter_mut().skip(errors_before) {
            let DiagnosticKind::NotACondition { found } = diagnostic.kind else {
                continue;
            };
            let kind = DiagnosticKind::ValueJoinedToTest {
                found,
                joined_by,
                repeated: repeated.clone(),
                in_where,
            };
            let label = std::mem::take(&mut diagnostic.label);
            *diagnostic = Diagnostic::new(kind, diagnostic.span).with_label(label);
        }
    }

    /// `trial_ends_at > now`: rubric has no clock value. Reports it (and
    /// returns true) when one side of an ordering comparison is `now` or
    /// `today` and no property or constant of that name is declared.
    fn compares_with_now(&mut self, op: CompareOp, left: &ast::Expr, right: &ast::Expr) -> bool {
        let (now, subject, subject_after) = match (now_name(left), now_name(right)) {
            (None, Some(now)) => (now, left, true),
            (Some(now), None) => (now, right, false),
            _ => return false,
        };
        let declared = self.symbols.names.contains_key(&now.name)
            || self
                .symbols
                .properties
                .as_ref()
                .is_some_and(|props| props.contains_key(&now.name));
        // `subject > now` holds for a time after as-of; `now > subject` before.
        let future = match (op, subject_after) {
            (CompareOp::Gt | CompareOp::Ge, true) | (CompareOp::Lt | CompareOp::Le, false) => true,
            (CompareOp::Lt | CompareOp::Le, true) | (CompareOp::Gt | CompareOp::Ge, false) => false,
            (CompareOp::Eq | CompareOp::Ne, _) => return false,
        };
        if declared {
            return false;
        }
        let subject = written_operand(subject);
        let (days_since_test, meaning) = if future {
            (format!("days_since({subject}) < 0"), "in the future")
        } else {
            (format!("days_since({subject}) > 0"), "in the past")
        };
        self.errors.push(
            Diagnostic::new(
                DiagnosticKind::NowIsNotAValue {
                    name: now.name.clone(),
                    subject,
                    days_since_test,
                    meaning,
                },
                now.span,
            )
            .with_label("no such value"),
        );
        true
    }

    /// The advice for a function called on the wrong type: what it takes,
    /// with an example on a declared property of that type when there is one.
    fn function_argument_advice(&self, function: &'static str, takes: Ty) -> TypeAdvice {
        let declared = self.symbols.properties.as_ref().and_then(|props| {
            props
                .iter()
                .filter(|(_, info)| Ty::from_declared(info.ty) == takes)
                .min_by_key(|(_, info)| info.span.start)
                .map(|(name, _)| crate::syntax::written_name(name).into_owned())
        });
        let (takes, argument) = match takes {
            Ty::Time => (
                "a timestamp (a `timestamp` property or `last EVENT`)",
                declared.unwrap_or_else(|| String::from("last page_view")),
            ),
            // Every contact has an `email`, the usual argument of `domain`.
            _ if function == "domain" => ("text", String::from("email")),
            _ => ("text", declared.unwrap_or_else(|| String::from("job_title"))),
        };
        TypeAdvice::FunctionArgument {
            function,
            takes,
            example: format!("{function}({argument})"),
        }
    }
}
