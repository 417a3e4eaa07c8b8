//! Conditions and operands: comparisons, `in`, `matches` (with the regex
//! syntax check), `is`, `within`, function calls and event aggregates.

use super::names::Ctx;
use super::types::{describe, duration_micros, promote_time_literal, Info, Ty, Typed};
use super::Compiler;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::plan::{AggregateId, Cond, Const, Function, Operand, PlanRegex};
use crate::source::Span;
use crate::syntax::ast::{self, AggregateKind, CompareOp, ExprKind, IsTarget, Literal};

impl<'a> Compiler<'a> {
    /// Compiles an expression used as a condition.
    pub(super) fn condition(&mut self, expr: &ast::Expr, ctx: Ctx<'_>) -> Option<Cond> {
        match &expr.kind {
            ExprKind::Or(parts) | ExprKind::And(parts) => {
                let mut out = Vec::with_capacity(parts.len());
                let mut ok = true;
                for p in parts {
                    match self.condition(p, ctx) {
                        Some(c) => out.push(c),
                        None => ok = false,
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
            ExprKind::Literal(Literal::Bool(b)) => Some(Cond::Const(*b)),
            ExprKind::Name(_) | ExprKind::Call { .. } | ExprKind::Aggregate(_) | ExprKind::Literal(_) => {
                if let Some(band) = self.band_of(expr, ctx) {
                    let values = self.band_values(band).join(", ");
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::not_a_condition",
                            expr.span,
                            "a band is not a condition by itself",
                        )
                        .with_label("band")
                        .with_help(format!(
                            "test its value, e.g. `{} is …` (values: {values})",
                            self.band_name(band)
                        )),
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
                        let help = match other {
                            Ty::Number => "compare it: `x >= 10`",
                            Ty::Time => "test it with `within`: `x within 7 days`",
                            _ => "compare it: `x == \"value\"`, or test `x is not null`",
                        };
                        self.errors.push(
                            Diagnostic::error(
                                "rubric::not_a_condition",
                                expr.span,
                                format!("expected a condition, found {}", other.name()),
                            )
                            .with_label(format!("this is {}", other.name()))
                            .with_help(help),
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
        // Bands: `readiness == hot` is `readiness is hot`.
        let (band, other) = match (self.band_of(left, ctx), self.band_of(right, ctx)) {
            (Some(b), _) => (Some(b), right),
            (None, Some(b)) => (Some(b), left),
            (None, None) => (None, right),
        };
        if let Some(band) = band {
            if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::band_comparison",
                        span,
                        format!(
                            "band values have no order: `{}` cannot be used with a band",
                            op.symbol()
                        ),
                    )
                    .with_label("ordering a band")
                    .with_help(format!(
                        "test membership instead: `{} in [..]`",
                        self.band_name(band)
                    )),
                );
                return None;
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
            let negation = if op == CompareOp::Ne { "not " } else { "" };
            self.errors.push(
                Diagnostic::error(
                    "rubric::null_comparison",
                    span,
                    format!("`{}` with null is never true", op.symbol()),
                )
                .with_label("compares with null")
                .with_help(format!("test presence with `is {negation}null`")),
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
            return None;
        }
        let known = if l.ty == Ty::Any { r.ty } else { l.ty };
        if ordered && matches!(known, Ty::Text | Ty::Bool) {
            self.errors.push(
                Diagnostic::error(
                    "rubric::type_mismatch",
                    span,
                    format!(
                        "`{}` needs numbers or timestamps, not {}",
                        op.symbol(),
                        known.name()
                    ),
                )
                .with_label(format!("{} cannot be ordered", known.name()))
                .with_help("use `==`, `!=`, `in`, `starts with` or `matches` for text"),
            );
            return None;
        }
        if ignore_case && !matches!(known, Ty::Text | Ty::Any) {
            self.errors.push(
                Diagnostic::error(
                    "rubric::type_mismatch",
                    span,
                    format!("`ignoring case` applies to text, not {}", known.name()),
                )
                .with_label("not text")
                .with_help("remove `ignoring case`"),
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
            if matches!(e.operand, Operand::Const(Const::Null)) {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::null_comparison",
                        e.span,
                        "`null` in a list never matches",
                    )
                    .with_label("null")
                    .with_help("test presence separately: `x is null or x in [...]`"),
                );
                ok = false;
                continue;
            }
            if let Some(first) = &first_element {
                if first.0 != e.ty && e.ty != Ty::Any && first.0 != Ty::Any {
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::type_mismatch",
                            e.span,
                            format!("this list mixes {} and {}", first.0.name(), e.ty.name()),
                        )
                        .with_label(e.ty.name())
                        .with_note(first.1, first.0.name())
                        .with_help("a value has one type; write all elements as the same type"),
                    );
                    ok = false;
                    continue;
                }
            } else {
                first_element = Some((e.ty, e.span));
            }
            if !matches!(e.operand, Operand::Const(_)) {
                self.errors.push(
                    Diagnostic::error("rubric::type_mismatch", e.span, "list elements must be values")
                        .with_label("not a value")
                        .with_help("write text in double quotes, numbers, `true` or `false`"),
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
                    (Const::Text(t), true) => Const::Text(t.to_lowercase().into_boxed_str()),
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
                    Diagnostic::error(
                        "rubric::type_mismatch",
                        pattern.span,
                        "`matches` needs a regular expression",
                    )
                    .with_label("not a regular expression")
                    .with_help("write `/pattern/` (add `i` after it to ignore case: `/pattern/i`)"),
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
                    Diagnostic::error(
                        "rubric::invalid_regex",
                        pattern.span,
                        format!("unknown regular expression flag `{flag}`"),
                    )
                    .with_label("unknown flag")
                    .with_help("the only flag is `i` (ignore case)"),
                );
                return None;
            }
        }
        if let Err(detail) = check_regex(&source, case_insensitive) {
            self.errors.push(
                Diagnostic::error(
                    "rubric::invalid_regex",
                    pattern.span,
                    format!("invalid regular expression: {detail}"),
                )
                .with_label("does not compile")
                .with_help("rubric uses Rust regex syntax (https://docs.rs/regex); escape special characters with `\\`"),
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
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::type_mismatch",
                            span,
                            format!("band `{name}` always has a value; test which one"),
                        )
                        .with_label("band")
                        .with_help(format!("values: {}", self.band_values(band).join(", "))),
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
                    right: Operand::Const(Const::Bool(*b)),
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
                let help = match (
                    &left.kind,
                    did_you_mean(subject.trim_matches('`'), bands.iter().copied()),
                ) {
                    (ExprKind::Name(n), Some(b)) => {
                        format!("did you mean band `{b}`? (`{}` is not a band)", n.name)
                    }
                    _ => format!("to compare text write `== \"{}\"`", ident.name),
                };
                self.errors.push(
                    Diagnostic::error(
                        "rubric::type_mismatch",
                        ident.span,
                        format!("`is {}` needs a band, but {subject} is not a band", ident.name),
                    )
                    .with_label("a band value")
                    .with_help(help),
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
                Literal::Str(s) => plain(Operand::Const(Const::Text(s.clone().into_boxed_str())), Ty::Text),
                Literal::Number(n) => plain(Operand::Const(Const::Number(*n)), Ty::Number),
                Literal::Bool(b) => plain(Operand::Const(Const::Bool(*b)), Ty::Bool),
                Literal::Null => plain(Operand::Const(Const::Null), Ty::Null),
                Literal::Regex { .. } => {
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::type_mismatch",
                            span,
                            "a regular expression can only follow `matches`",
                        )
                        .with_label("regular expression")
                        .with_help("write `x matches /pattern/`"),
                    );
                    None
                }
                Literal::List(_) => {
                    self.errors.push(
                        Diagnostic::error("rubric::type_mismatch", span, "a list can only follow `in`")
                            .with_label("list")
                            .with_help("write `x in [\"a\", \"b\"]`"),
                    );
                    None
                }
            },
            ExprKind::Call { function, args } => self.call(span, function, args, ctx),
            ExprKind::Aggregate(agg) => self.aggregate(span, agg, ctx),
            _ => {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::type_mismatch",
                        span,
                        "expected a value, found a condition",
                    )
                    .with_label("a condition")
                    .with_help("conditions combine with `and`/`or`; they cannot be compared"),
                );
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
                let help = match did_you_mean(other, functions) {
                    Some(f) => format!("did you mean `{f}`? functions: {}", functions.join(", ")),
                    None => format!("functions: {}", functions.join(", ")),
                };
                self.errors.push(
                    Diagnostic::error(
                        "rubric::unknown_function",
                        function.span,
                        format!("unknown function `{other}`"),
                    )
                    .with_label("not a function")
                    .with_help(help),
                );
                return None;
            }
        };
        let [arg] = args else {
            self.errors.push(
                Diagnostic::error(
                    "rubric::wrong_arity",
                    span,
                    format!("`{}` takes one value, found {}", f.name(), args.len()),
                )
                .with_label("wrong number of values")
                .with_help(format!("write `{}(x)`", f.name())),
            );
            return None;
        };
        let a = self.operand(arg, ctx)?;
        if !self.expect_type(&a, &[arg_ty], f.name()) {
            return None;
        }
        Some(Typed {
            operand: Operand::Call(f, Box::new(a.operand)),
            ty: result,
            info: Info::None,
            span,
        })
    }

    pub(super) fn aggregate(&mut self, span: Span, agg: &ast::Aggregate, ctx: Ctx<'_>) -> Option<Typed> {
        if ctx.event.is_some() {
            self.errors.push(
                Diagnostic::error(
                    "rubric::nested_aggregate",
                    span,
                    "an event aggregate cannot be used inside a `where`",
                )
                .with_label("nested aggregate")
                .with_help("a `where` tests the props of one event"),
            );
            return None;
        }
        let event = self.event_slot(&agg.event)?;
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
            Some(w) => Some(duration_micros(w, &mut self.errors)?),
            None => None,
        };
        let id = AggregateId(self.aggregates.len() as u32);
        self.aggregates.push(crate::plan::Aggregate {
            kind: agg.kind,
            event,
            filter,
            window,
            span,
        });
        let ty = match agg.kind {
            AggregateKind::Count => Ty::Number,
            AggregateKind::Any => Ty::Bool,
            AggregateKind::Last => Ty::Time,
        };
        Some(Typed {
            operand: Operand::Aggregate(id),
            ty,
            info: Info::None,
            span,
        })
    }
}

/// Checks a regular expression's syntax without building it (building is
/// left to `Plan::prepare`, so `check` stays fast on large rule sets).
pub(super) fn check_regex(pattern: &str, case_insensitive: bool) -> Result<(), String> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(pattern)
        .map_err(|e| {
            let text = e.to_string();
            text.lines().rev().find(|l| l.starts_with("error:")).map_or_else(
                || text.clone(),
                |l| l.trim_start_matches("error:").trim().to_string(),
            )
        })?;
    // The size limit applies to the Thompson NFA, which is cheap to build
    // (the costly parts of a regex are its prefilters and caches).
    regex_automata::nfa::thompson::Compiler::new()
        .configure(
            regex_automata::nfa::thompson::Config::new().nfa_size_limit(Some(PlanRegex::SIZE_LIMIT)),
        )
        .build_from_hir(&hir)
        .map(|_| ())
        .map_err(|_| {
            format!(
                "it is too large once compiled (over {} KiB); large counted repetitions such as `\\w{{100,}}` grow it",
                PlanRegex::SIZE_LIMIT / 1024
            )
        })
}
