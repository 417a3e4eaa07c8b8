//! Compiling conditions and operands: name resolution in context, type checks,
//! and the checks that need both sides of a test (score thresholds, band
//! values, allowed values of a declared property).

use super::items::Compiler;
use super::symbols::{PropertyInfo, Symbol};
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::plan::{
    AggregateId, BandId, Cond, Const, Function, Operand, PlanRegex, ScoreId, Step, MICROS_PER_DAY,
};
use crate::snapshot::DeclaredType;
use crate::source::Span;
use crate::syntax::ast::{self, AggregateKind, CompareOp, ExprKind, IsTarget, Literal};

/// The static type of an operand. `Any` is an undeclared property or event
/// prop: checked at run time (a wrong type is a false test and a warning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Number,
    Text,
    Time,
    Null,
    Any,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Number => "a number",
            Ty::Text => "text",
            Ty::Time => "a timestamp",
            Ty::Null => "null",
            Ty::Any => "a value",
        }
    }

    fn from_declared(t: DeclaredType) -> Ty {
        match t {
            DeclaredType::Text => Ty::Text,
            DeclaredType::Number => Ty::Number,
            DeclaredType::Boolean => Ty::Bool,
            DeclaredType::Timestamp => Ty::Time,
        }
    }
}

/// What is known about an operand beyond its type, for the checks of a test.
#[derive(Debug, Clone)]
pub enum Info {
    None,
    Score(ScoreId),
    /// A declared property (or event prop) with its allowed values.
    Property {
        name: String,
        allowed: Option<Vec<String>>,
    },
}

pub struct Typed {
    pub operand: Operand,
    pub ty: Ty,
    pub info: Info,
    pub span: Span,
}

/// Where an expression is compiled: in a `where` of an event type, bare
/// names are that event's props.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'n> {
    pub event: Option<(usize, &'n str)>,
}

impl Ctx<'_> {
    pub const CONTACT: Ctx<'static> = Ctx { event: None };
}

/// Converts a duration to microseconds; `None` (and an error) when the unit is
/// unknown or the amount is not positive where it must be.
pub fn duration_micros(d: &ast::Duration, errors: &mut Vec<Diagnostic>) -> Option<i64> {
    let unit = d.unit.name.as_str();
    let per: f64 = match unit {
        "minute" | "minutes" => 60e6,
        "hour" | "hours" => 3600e6,
        "day" | "days" => MICROS_PER_DAY as f64,
        "week" | "weeks" => 7.0 * MICROS_PER_DAY as f64,
        _ => {
            let units = ["minutes", "hours", "days", "weeks"];
            let help = if matches!(unit, "month" | "months" | "year" | "years") {
                String::from("months and years vary in length; write days (`30 days`, `365 days`)")
            } else if let Some(u) = did_you_mean(unit, units) {
                format!("did you mean `{u}`? units are minutes, hours, days and weeks")
            } else {
                String::from("units are minutes, hours, days and weeks")
            };
            errors.push(
                Diagnostic::error(
                    "rubric::invalid_duration",
                    d.unit.span,
                    format!("unknown duration unit `{unit}`"),
                )
                .with_label("not a unit")
                .with_help(help),
            );
            return None;
        }
    };
    let micros = d.amount * per;
    if !micros.is_finite() || micros > 1e17 {
        errors.push(
            Diagnostic::error("rubric::invalid_duration", d.span, "duration is too long")
                .with_label("too long")
                .with_help("windows longer than a few thousand years are not meaningful"),
        );
        return None;
    }
    Some(micros.round() as i64)
}

impl<'a> Compiler<'a> {
    fn const_value(&self, name: &str) -> Option<&'a ast::Expr> {
        match self.symbols.names.get(name)?.symbol {
            Symbol::Const(index) => match &self.items.get(index)?.kind {
                ast::ItemKind::Const(c) => Some(&c.value),
                _ => None,
            },
            _ => None,
        }
    }

    /// The band a name refers to, when it does (outside a `where`), recording
    /// the dependency so bands are evaluated before what reads them.
    fn band_of(&mut self, expr: &ast::Expr, ctx: Ctx<'_>) -> Option<BandId> {
        if ctx.event.is_some() {
            return None;
        }
        let id = match &expr.kind {
            ExprKind::Name(ident) => match self.symbols.names.get(&ident.name)?.symbol {
                Symbol::Band(id) => id,
                _ => return None,
            },
            _ => return None,
        };
        self.deps.push(Step::Band(id));
        Some(id)
    }

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

    fn band_name(&self, band: BandId) -> &str {
        self.symbols
            .bands
            .get(band.index())
            .map_or("", |b| b.name.as_str())
    }

    fn band_values(&self, band: BandId) -> Vec<String> {
        self.symbols
            .bands
            .get(band.index())
            .map_or_else(Vec::new, |b| b.values.clone())
    }

    /// Looks up a band value; reports an unknown one with did-you-mean.
    fn band_value(&mut self, band: BandId, value: &str, span: Span) -> Option<u16> {
        let values = self.band_values(band);
        if let Some(i) = values.iter().position(|v| v == value) {
            return u16::try_from(i).ok();
        }
        let name = self.band_name(band).to_string();
        let help = match did_you_mean(value, values.iter().map(String::as_str)) {
            Some(v) => format!("did you mean `{v}`? `{name}` is one of: {}", values.join(", ")),
            None => format!("`{name}` is one of: {}", values.join(", ")),
        };
        self.errors.push(
            Diagnostic::error(
                "rubric::unknown_band_value",
                span,
                format!("band `{name}` has no value `{value}`"),
            )
            .with_label(format!("not a value of `{name}`"))
            .with_help(help),
        );
        None
    }

    /// A band value written as a name or as text.
    fn band_value_of(&mut self, band: BandId, expr: &ast::Expr) -> Option<u16> {
        match &expr.kind {
            ExprKind::Name(ident) => self.band_value(band, &ident.name, ident.span),
            ExprKind::Literal(Literal::Str(s)) => self.band_value(band, s, expr.span),
            _ => {
                let name = self.band_name(band).to_string();
                self.errors.push(
                    Diagnostic::error(
                        "rubric::type_mismatch",
                        expr.span,
                        format!("band `{name}` can only be compared with one of its values"),
                    )
                    .with_label("not a band value")
                    .with_help(format!("values: {}", self.band_values(band).join(", "))),
                );
                None
            }
        }
    }

    fn compare(
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

    /// When `time` is a timestamp and `other` a text constant, parses the text
    /// as a timestamp at compile time.
    fn coerce_time_literal(&mut self, time: &Typed, other: &mut Typed) -> Option<()> {
        if time.ty != Ty::Time {
            return Some(());
        }
        if let Operand::Const(Const::Text(s)) = &other.operand {
            match crate::snapshot::parse_timestamp(s) {
                Some(t) => {
                    other.operand = Operand::Const(Const::Time(t));
                    other.ty = Ty::Time;
                }
                None => {
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::type_mismatch",
                            other.span,
                            format!("`{s}` is not a timestamp"),
                        )
                        .with_label("expected a timestamp")
                        .with_help(
                            "write RFC 3339 with an offset (`2026-11-20T10:00:00Z`) or a date (`2026-11-20`)",
                        ),
                    );
                    return None;
                }
            }
        }
        Some(())
    }

    /// Reports two operands whose known types differ.
    fn compatible(&mut self, l: &Typed, r: &Typed, what: &str) -> bool {
        if l.ty == Ty::Any || r.ty == Ty::Any || l.ty == r.ty {
            return true;
        }
        let (named, literal) = if matches!(l.operand, Operand::Const(_)) {
            (r, l)
        } else {
            (l, r)
        };
        let subject = describe(named);
        self.errors.push(
            Diagnostic::error(
                "rubric::type_mismatch",
                literal.span,
                format!(
                    "{subject} is {} but is compared with {}",
                    named.ty.name(),
                    literal.ty.name()
                ),
            )
            .with_label(format!("{} here", literal.ty.name()))
            .with_help(type_help(named.ty, what)),
        );
        false
    }

    /// A type check of one operand against the types a test accepts.
    fn expect_type(&mut self, t: &Typed, accepted: &[Ty], what: &str) -> bool {
        if t.ty == Ty::Any || accepted.contains(&t.ty) {
            return true;
        }
        let wanted: Vec<&str> = accepted.iter().map(|a| a.name()).collect();
        self.errors.push(
            Diagnostic::error(
                "rubric::type_mismatch",
                t.span,
                format!(
                    "`{what}` needs {}, but {} is {}",
                    wanted.join(" or "),
                    describe(t),
                    t.ty.name()
                ),
            )
            .with_label(format!("this is {}", t.ty.name()))
            .with_help(type_help(t.ty, what)),
        );
        false
    }

    /// A score compared with a number outside its declared range.
    fn check_threshold(&mut self, score: &Typed, other: &Typed) {
        let Info::Score(id) = score.info else { return };
        let Operand::Const(Const::Number(n)) = other.operand else {
            return;
        };
        let Some(info) = self.symbols.scores.get(id.index()) else {
            return;
        };
        if n < info.low || n > info.high {
            self.errors.push(
                Diagnostic::error(
                    "rubric::threshold_out_of_range",
                    other.span,
                    format!(
                        "threshold {} is outside the range of score `{}` ({}..{})",
                        fmt_number(n),
                        info.name,
                        fmt_number(info.low),
                        fmt_number(info.high)
                    ),
                )
                .with_label("outside the score's range")
                .with_help(format!(
                    "`{}` is clamped to {}..{}, so this test never changes; use a threshold inside the range",
                    info.name,
                    fmt_number(info.low),
                    fmt_number(info.high)
                )),
            );
        }
    }

    /// A declared `one of` property compared with a value it cannot take.
    fn check_allowed(&mut self, property: &Typed, other: &Typed, ignore_case: bool) {
        let Info::Property {
            name,
            allowed: Some(allowed),
        } = &property.info
        else {
            return;
        };
        let Operand::Const(Const::Text(value)) = &other.operand else {
            return;
        };
        let ok = if ignore_case {
            allowed.iter().any(|a| a.to_lowercase() == value.to_lowercase())
        } else {
            allowed.iter().any(|a| a.as_str() == &**value)
        };
        if ok {
            return;
        }
        let help = match did_you_mean(value, allowed.iter().map(String::as_str)) {
            Some(v) => format!("did you mean \"{v}\"? `{name}` is one of: {}", quote_all(allowed)),
            None => format!("`{name}` is one of: {}", quote_all(allowed)),
        };
        self.errors.push(
            Diagnostic::error(
                "rubric::value_not_allowed",
                other.span,
                format!("`{name}` is never \"{value}\""),
            )
            .with_label("not an allowed value")
            .with_help(help),
        );
    }

    fn in_test(
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

    /// The elements of a list literal or of a constant holding one.
    fn list_of(&mut self, expr: &ast::Expr) -> Option<Vec<ast::Expr>> {
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
                    let help = match did_you_mean(&ident.name, consts) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => {
                            String::from("declare it: `const name = [\"a\", \"b\"]`, or write the list here")
                        }
                    };
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::unknown_name",
                            ident.span,
                            format!("unknown list constant `{}`", ident.name),
                        )
                        .with_label("not a list constant")
                        .with_help(help),
                    );
                    return None;
                }
            },
            _ => expr,
        };
        match &target.kind {
            ExprKind::Literal(Literal::List(items)) => Some(items.clone()),
            _ => {
                self.errors.push(
                    Diagnostic::error("rubric::type_mismatch", expr.span, "`in` needs a list")
                        .with_label("not a list")
                        .with_help("write `[\"a\", \"b\"]` or name a list constant"),
                );
                None
            }
        }
    }

    fn matches(
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

    fn is_test(
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

    fn call(&mut self, span: Span, function: &ast::Ident, args: &[ast::Expr], ctx: Ctx<'_>) -> Option<Typed> {
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

    fn aggregate(&mut self, span: Span, agg: &ast::Aggregate, ctx: Ctx<'_>) -> Option<Typed> {
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

    /// Resolves a bare name in context.
    fn name(&mut self, ident: &ast::Ident, ctx: Ctx<'_>) -> Option<Typed> {
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
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::type_mismatch",
                            span,
                            format!("band `{name}` can only be tested with `is`, `==`, `!=` or `in`"),
                        )
                        .with_label("band")
                        .with_help(format!(
                            "e.g. `{name} is {}`",
                            self.band_values(id).first().map_or("…", String::as_str)
                        )),
                    );
                    None
                }
                Symbol::Suppression(_) | Symbol::Audience(_) | Symbol::Workflow(_) | Symbol::Route(_) => {
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::type_mismatch",
                            span,
                            format!(
                                "{} `{}` cannot be used in a condition",
                                symbol.kind_name(),
                                ident.name
                            ),
                        )
                        .with_label(symbol.kind_name())
                        .with_help("name the shared condition with a `segment` and use that in both places"),
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
            let e = &ident.name;
            self.errors.push(
                Diagnostic::error("rubric::unknown_name", span, format!("`{e}` is an event type, not a property"))
                    .with_label("event type")
                    .with_help(format!(
                        "test events with an aggregate: `any {e} within 7 days`, `count of {e} within 30 days >= 3` or `last {e} within 7 days`"
                    )),
            );
            return None;
        }
        // A contact property.
        match &self.symbols.properties {
            Some(props) => match props.get(&ident.name) {
                Some(info) => {
                    let info = info.clone();
                    let slot = self.property_slot(&ident.name, Some(info.ty));
                    Some(property_typed(Operand::Property(slot), &ident.name, &info, span))
                }
                None => {
                    let candidates = self.symbols.condition_names();
                    let help = match did_you_mean(&ident.name, candidates) {
                        Some(c) => format!("did you mean `{c}`? if `{}` is a contact property, declare it in the `properties` block", ident.name),
                        None => format!("if `{}` is a contact property, declare it in the `properties` block", ident.name),
                    };
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::unknown_name",
                            span,
                            format!("unknown name `{}`", ident.name),
                        )
                        .with_label("not declared")
                        .with_help(help),
                    );
                    None
                }
            },
            None => {
                // Without a schema any other name is a property, unless it is
                // so close to a declared name that it is surely a typo.
                // (A name already taken as a property was checked the first time.)
                let declared: Vec<&str> = if self.has_property_slot(&ident.name) {
                    Vec::new()
                } else {
                    self.symbols
                        .condition_names()
                        .into_iter()
                        .filter(|n| !crate::compile::symbols::BUILTINS.contains(n))
                        .collect()
                };
                if let Some(c) = did_you_mean(&ident.name, declared) {
                    if strsim::damerau_levenshtein(&ident.name, c) <= 2 && ident.name.len() > 2 {
                        self.errors.push(
                            Diagnostic::error("rubric::unknown_name", span, format!("unknown name `{}`", ident.name))
                                .with_label("not declared")
                                .with_help(format!(
                                    "did you mean `{c}`? if `{}` is a contact property, declare it in a `properties` block",
                                    ident.name
                                )),
                        );
                        return None;
                    }
                }
                let slot = self.property_slot(&ident.name, None);
                Some(Typed {
                    operand: Operand::Property(slot),
                    ty: Ty::Any,
                    info: Info::Property {
                        name: ident.name.clone(),
                        allowed: None,
                    },
                    span,
                })
            }
        }
    }

    fn event_prop(&mut self, event: usize, event_name: &str, ident: &ast::Ident) -> Option<Typed> {
        let span = ident.span;
        let declared = self
            .symbols
            .events
            .as_ref()
            .and_then(|e| e.get(event_name))
            .and_then(|e| e.props.clone());
        if let Some(props) = &declared {
            if let Some(info) = props.get(&ident.name) {
                let slot = self.event_prop_slot(event, &ident.name);
                return Some(property_typed(Operand::EventProp(slot), &ident.name, info, span));
            }
        }
        // A constant, when not shadowed by a declared prop. Without declared
        // props the name could be either: refuse to guess.
        if self.const_value(&ident.name).is_some() && declared.is_none() {
            self.errors.push(
                Diagnostic::error(
                    "rubric::ambiguous_name",
                    span,
                    format!(
                        "`{}` could be the constant or a prop of `{event_name}`",
                        ident.name
                    ),
                )
                .with_label("constant or event prop?")
                .with_help(format!(
                    "declare the props of `{event_name}` in an `events` block: then a name that is not one of its props is the constant"
                )),
            );
            return None;
        }
        if let Some(value) = self.const_value(&ident.name).cloned() {
            let mut t = self.operand(&value, Ctx::CONTACT)?;
            t.span = span;
            return Some(t);
        }
        if let Some(props) = declared {
            let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
            names.sort_unstable();
            let help = match did_you_mean(&ident.name, names.iter().copied()) {
                Some(p) => format!("did you mean `{p}`? `{event_name}` has: {}", names.join(", ")),
                None => format!("`{event_name}` has: {}", names.join(", ")),
            };
            self.errors.push(
                Diagnostic::error(
                    "rubric::unknown_event_prop",
                    span,
                    format!("event `{event_name}` has no prop `{}`", ident.name),
                )
                .with_label("not declared for this event")
                .with_help(help),
            );
            return None;
        }
        let slot = self.event_prop_slot(event, &ident.name);
        Some(Typed {
            operand: Operand::EventProp(slot),
            ty: Ty::Any,
            info: Info::None,
            span,
        })
    }
}

/// Treats a text constant that is a valid timestamp as one, when the other
/// side's type is unknown.
fn promote_time_literal(other_side: &Typed, literal: &mut Typed) {
    if other_side.ty != Ty::Any {
        return;
    }
    if let Operand::Const(Const::Text(s)) = &literal.operand {
        if let Some(t) = crate::snapshot::parse_timestamp(s) {
            literal.operand = Operand::Const(Const::Time(t));
            literal.ty = Ty::Time;
        }
    }
}

fn property_typed(operand: Operand, name: &str, info: &PropertyInfo, span: Span) -> Typed {
    Typed {
        operand,
        ty: Ty::from_declared(info.ty),
        info: Info::Property {
            name: name.to_string(),
            allowed: info.allowed.clone(),
        },
        span,
    }
}

fn describe(t: &Typed) -> String {
    match (&t.info, &t.operand) {
        (Info::Property { name, .. }, _) => format!("`{name}`"),
        (_, Operand::Email) => String::from("`email`"),
        (_, Operand::Id) => String::from("`id`"),
        (_, Operand::Call(f, _)) => format!("`{}(…)`", f.name()),
        (_, Operand::Aggregate(_)) => String::from("the aggregate"),
        (_, Operand::Score(_)) => String::from("the score"),
        (_, Operand::Segment(_)) => String::from("the segment"),
        _ => String::from("the value"),
    }
}

fn type_help(ty: Ty, what: &str) -> String {
    if what == "within" {
        return String::from(
            "`within` needs a timestamp: a `timestamp` property, or the time of an event (`last page_view within 7 days`)",
        );
    }
    match ty {
        Ty::Number => String::from("compare a number with a number, e.g. `>= 200` (no quotes)"),
        Ty::Text => String::from("compare text with text in double quotes, e.g. `== \"lead\"`"),
        Ty::Bool => String::from("compare a boolean with `is true` or `is false`"),
        Ty::Time => format!(
            "`{what}` on a timestamp: use `within 7 days`, or compare with a date such as \"2026-11-01\""
        ),
        Ty::Null | Ty::Any => String::from("check the types of both sides"),
    }
}

fn quote_all(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a regular expression's syntax without building it (building is
/// left to `Plan::prepare`, so `check` stays fast on large rule sets).
pub fn check_regex(pattern: &str, case_insensitive: bool) -> Result<(), String> {
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

/// Formats a number the way it would be written in a rule file.
pub fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}
