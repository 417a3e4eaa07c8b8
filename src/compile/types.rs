//! Static types: the type of an operand ([`Ty`]), what else is known about
//! it ([`Info`]), and the checks of a test that need both sides (type
//! mismatches, timestamp literals, score thresholds, `one of` values). Also
//! the conversions of literals (durations, numbers as written).

use super::symbols::PropertyInfo;
use super::Compiler;
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticKind, TypeAdvice};
use crate::plan::{ConstValue, Operand, ScoreId, MICROS_PER_DAY};
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
    /// A declared `list` property: only `has` reads it.
    List,
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
            Ty::List => "a list",
            Ty::Any => "a value",
        }
    }

    pub(super) fn from_declared(t: DeclaredType) -> Ty {
        match t {
            DeclaredType::Text => Ty::Text,
            DeclaredType::Number | DeclaredType::NumberFromText => Ty::Number,
            DeclaredType::Boolean | DeclaredType::BooleanFromText => Ty::Bool,
            DeclaredType::Timestamp => Ty::Time,
            DeclaredType::List => Ty::List,
        }
    }
}

/// What is known about an operand beyond its type, for the checks of a test.
#[derive(Debug, Clone)]
pub enum Info {
    None,
    Score(ScoreId),
    /// A declared property (or event prop) with its allowed values, and
    /// the separator of a `list separated by` property.
    Property {
        name: String,
        allowed: Option<Vec<String>>,
        separator: Option<String>,
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
        if let Operand::Const(ConstValue::Text(s)) = &other.operand {
            match crate::snapshot::parse_timestamp(s) {
                Some(t) => {
                    other.operand = Operand::Const(ConstValue::Time(t));
                    other.ty = Ty::Time;
                }
                None => {
                    self.errors.push(
                        Diagnostic::new(DiagnosticKind::NotATimestamp { text: s.to_string() }, other.span)
                            .with_label("expected a timestamp"),
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
            Diagnostic::new(
                DiagnosticKind::ComparedTypes {
                    subject,
                    ty: named.ty.name(),
                    other: literal.ty.name(),
                    advice: type_advice(named.ty, what),
                },
                literal.span,
            )
            .with_label(format!("{} here", literal.ty.name())),
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
            Diagnostic::new(
                DiagnosticKind::ExpectedType {
                    what: what.to_string(),
                    wanted: wanted.join(" or "),
                    subject: describe(t),
                    ty: t.ty.name(),
                    advice: type_advice(t.ty, what),
                },
                t.span,
            )
            .with_label(format!("this is {}", t.ty.name())),
        );
        false
    }

    /// A score compared with a number outside its declared range.
    pub(super) fn check_threshold(&mut self, score: &Typed, other: &Typed) {
        let Info::Score(id) = score.info else { return };
        let Operand::Const(ConstValue::Number(n)) = other.operand else {
            return;
        };
        let Some(info) = self.symbols.scores.get(id.index()) else {
            return;
        };
        if n < info.low || n > info.high {
            self.errors.push(
                Diagnostic::new(
                    DiagnosticKind::ThresholdOutOfRange {
                        threshold: fmt_number(n),
                        score: info.name.clone(),
                        low: fmt_number(info.low),
                        high: fmt_number(info.high),
                    },
                    other.span,
                )
                .with_label("outside the score's range"),
            );
        }
    }

    /// A declared `one of` property compared with a value it cannot take.
    pub(super) fn check_allowed(&mut self, property: &Typed, other: &Typed, ignore_case: bool) {
        let Info::Property {
            name,
            allowed: Some(allowed),
            ..
        } = &property.info
        else {
            return;
        };
        let Operand::Const(ConstValue::Text(value)) = &other.operand else {
            return;
        };
        let ok = if ignore_case {
            allowed
                .iter()
                .any(|a| crate::case_fold::eq_ignoring_case(a, value))
        } else {
            allowed.iter().any(|a| a.as_str() == &**value)
        };
        if ok {
            return;
        }
        let suggestion = did_you_mean(value, allowed.iter().map(String::as_str)).map(String::from);
        self.errors.push(
            Diagnostic::new(
                DiagnosticKind::ValueNotAllowed {
                    name: name.clone(),
                    value: value.to_string(),
                    suggestion,
                    allowed: quote_all(allowed),
                },
                other.span,
            )
            .with_label("not an allowed value"),
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
            errors.push(
                Diagnostic::new(
                    DiagnosticKind::UnknownDurationUnit {
                        unit: unit.to_string(),
                        suggestion: did_you_mean(unit, units).map(String::from),
                    },
                    d.unit.span,
                )
                .with_label("not a unit"),
            );
            return None;
        }
    };
    let micros = d.amount * per;
    if !micros.is_finite() || micros > 1e17 {
        errors.push(Diagnostic::new(DiagnosticKind::DurationTooLong, d.span).with_label("too long"));
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
    if let Operand::Const(ConstValue::Text(s)) = &literal.operand {
        if let Some(t) = crate::snapshot::parse_timestamp(s) {
            literal.operand = Operand::Const(ConstValue::Time(t));
            literal.ty = Ty::Time;
        }
    }
}

pub(super) fn property_typed(operand: Operand, name: &str, info: &PropertyInfo, span: Span) -> Typed {
    Typed {
        operand: match info.ty {
            DeclaredType::NumberFromText | DeclaredType::BooleanFromText => Operand::FromText {
                source: Box::new(operand),
                to: info.ty,
            },
            _ => operand,
        },
        ty: Ty::from_declared(info.ty),
        info: Info::Property {
            name: name.to_string(),
            allowed: info.allowed.clone(),
            separator: info.separator.clone(),
        },
        span,
    }
}

pub(super) fn describe(t: &Typed) -> String {
    match (&t.info, &t.operand) {
        (Info::Property { name, .. }, _) => format!("`{name}`"),
        (_, Operand::Email) => String::from("`email`"),
        (_, Operand::Id) => String::from("`id`"),
        (_, Operand::Call { function, .. }) => format!("`{}(…)`", function.name()),
        (_, Operand::Aggregate(_)) => String::from("the aggregate"),
        (_, Operand::Score(_)) => String::from("the score"),
        (_, Operand::Segment(_)) => String::from("the segment"),
        _ => String::from("the value"),
    }
}

/// The advice for a type mismatch of a `ty` operand in the test `what`.
fn type_advice(ty: Ty, what: &str) -> TypeAdvice {
    if matches!(what, "within" | "within next" | "between … ago") {
        return TypeAdvice::Within;
    }
    if matches!(what, "+" | "-" | "*" | "/" | "=" | "=>") {
        return TypeAdvice::Arithmetic;
    }
    match ty {
        Ty::Number => TypeAdvice::Number,
        Ty::Text => TypeAdvice::Text,
        Ty::Bool => TypeAdvice::Bool,
        Ty::Time => TypeAdvice::Time {
            what: what.to_string(),
        },
        Ty::List => TypeAdvice::List,
        Ty::Null | Ty::Any => TypeAdvice::Other,
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{compiles, only_error};
    use crate::plan::{Cond, ConstValue, Operand};

    #[test]
    fn a_number_property_compared_with_text_is_a_type_mismatch() {
        let d =
            only_error("properties {\n  company_size: number\n}\nsegment s when company_size == \"big\"\n");
        assert_eq!(d.code, "rubric::type_mismatch");
        assert_eq!(d.message, "`company_size` is a number but is compared with text");
        assert_eq!(
            d.help.as_deref(),
            Some("compare a number with a number, e.g. `>= 200` (no quotes)")
        );
    }

    #[test]
    fn within_needs_a_timestamp() {
        let d = only_error(
            "properties {\n  company_size: number\n}\nsegment s when company_size within 7 days\n",
        );
        assert_eq!(
            d.message,
            "`within` needs a timestamp, but `company_size` is a number"
        );
    }

    #[test]
    fn text_against_a_timestamp_is_parsed_at_compile_time() {
        let plan = compiles(
            "properties {\n  signed_up_at: timestamp\n}\nsegment s when signed_up_at > \"2026-01-01\"\n",
        )
        .plan;
        let condition = plan.segments.first().map(|s| &s.condition);
        assert!(
            matches!(
                condition,
                Some(Cond::Compare {
                    right: Operand::Const(ConstValue::Time(_)),
                    time: true,
                    ..
                })
            ),
            "{condition:?}"
        );
        let d = only_error(
            "properties {\n  signed_up_at: timestamp\n}\nsegment s when signed_up_at > \"yesterday\"\n",
        );
        assert_eq!(d.message, "`yesterday` is not a timestamp");
    }

    #[test]
    fn a_threshold_outside_the_score_range_is_reported_with_the_range() {
        let d = only_error("score fit 0..100 {\n  \"any\" when true => +1\n}\nsegment s when fit >= 150\n");
        assert_eq!(d.code, "rubric::threshold_out_of_range");
        assert_eq!(
            d.message,
            "threshold 150 is outside the range of score `fit` (0..100)"
        );
    }

    #[test]
    fn a_value_a_one_of_property_never_takes_suggests_the_closest() {
        let d = only_error(
            "properties {\n  stage: text one of [\"lead\", \"customer\"]\n}\nsegment s when stage == \"custmer\"\n",
        );
        assert_eq!(d.code, "rubric::value_not_allowed");
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean \"customer\"? `stage` is one of: \"lead\", \"customer\"")
        );
    }
}
