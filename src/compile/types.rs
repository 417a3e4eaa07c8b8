//! Static types: the type of an operand ([`Ty`]), what else is known about
//! it ([`Info`]), and the checks of a test that need both sides (type
//! mismatches, timestamp literals, score thresholds, `one of` values). Also
//! the conversions of literals (durations, numbers as written).

use super::symbols::PropertyInfo;
use super::Compiler;
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::plan::{Const, Operand, ScoreId, MICROS_PER_DAY};
use crate::snapshot::DeclaredType;
use crate::source::Span;
use crate::syntax::ast;

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
    pub(super) fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Number => "a number",
            Ty::Text => "text",
            Ty::Time => "a timestamp",
            Ty::Null => "null",
            Ty::Any => "a value",
        }
    }

    pub(super) fn from_declared(t: DeclaredType) -> Ty {
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

impl<'a> Compiler<'a> {
    /// When `time` is a timestamp and `other` a text constant, parses the text
    /// as a timestamp at compile time.
    pub(super) fn coerce_time_literal(&mut self, time: &Typed, other: &mut Typed) -> Option<()> {
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
    pub(super) fn compatible(&mut self, l: &Typed, r: &Typed, what: &str) -> bool {
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
    pub(super) fn expect_type(&mut self, t: &Typed, accepted: &[Ty], what: &str) -> bool {
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
    pub(super) fn check_threshold(&mut self, score: &Typed, other: &Typed) {
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
    pub(super) fn check_allowed(&mut self, property: &Typed, other: &Typed, ignore_case: bool) {
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
}

/// Converts a duration to microseconds; `None` (and an error) when the unit is
/// unknown or the amount is not positive where it must be.
pub(super) fn duration_micros(d: &ast::Duration, errors: &mut Vec<Diagnostic>) -> Option<i64> {
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

/// Treats a text constant that is a valid timestamp as one, when the other
/// side's type is unknown.
pub(super) fn promote_time_literal(other_side: &Typed, literal: &mut Typed) {
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

pub(super) fn property_typed(operand: Operand, name: &str, info: &PropertyInfo, span: Span) -> Typed {
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

pub(super) fn describe(t: &Typed) -> String {
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

pub(super) fn type_help(ty: Ty, what: &str) -> String {
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

pub(super) fn quote_all(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Formats a number the way it would be written in a rule file.
pub(super) fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}
