//! Values and operands as a trace shows them: run-time values, constants and
//! snapshot values as JSON, numbers and recorded values for people, and
//! operands and tests in words.

use serde_json::Value as Json;

use crate::eval::EvalValue;
use crate::ops::{ArithOp, CompareOp};
use crate::plan::{Cond, ConstValue, Operand, Plan};
use crate::snapshot::{format_timestamp, Contact, FieldValue};
use crate::source::Sources;

/// A number for people: up to 2 decimals, no trailing zeros.
pub(super) fn number(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        return String::from("0");
    }
    let s = format!("{r:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A recorded JSON value for people: numbers through [`number`], anything else
/// as JSON text.
pub(super) fn json_text(v: &Json) -> String {
    match v {
        Json::Number(n) => number(n.as_f64().unwrap_or(0.0)),
        other => other.to_string(),
    }
}

/// A run-time value as JSON (a time as RFC 3339 text, a band value by name).
pub(super) fn eval_value_json(plan: &Plan, v: &EvalValue<'_>) -> Json {
    match v {
        EvalValue::Absent => Json::Null,
        EvalValue::Bool(b) => Json::Bool(*b),
        EvalValue::Num(n) => number_json(*n),
        EvalValue::Text(t) => Json::String(t.to_string()),
        EvalValue::Time(t) => Json::String(format_timestamp(*t)),
        EvalValue::List(items) => list_json(items),
        EvalValue::Composite => composite_json(),
        EvalValue::Band(b, value) => Json::String(
            plan.bands
                .get(*b)
                .and_then(|band| band.values.get(*value as usize))
                .cloned()
                .unwrap_or_default(),
        ),
    }
}

/// A constant of the plan as JSON.
pub(super) fn const_json(c: &ConstValue) -> Json {
    match c {
        ConstValue::Null => Json::Null,
        ConstValue::Bool(b) => Json::Bool(*b),
        ConstValue::Number(n) => number_json(*n),
        ConstValue::Text(t) => Json::String(t.to_string()),
        ConstValue::Time(t) => Json::String(format_timestamp(*t)),
    }
}

/// A decoded snapshot value (an event prop of `contact`) as JSON.
pub(super) fn field_value_json(v: &FieldValue, contact: &Contact) -> Json {
    match v {
        FieldValue::Missing | FieldValue::Null => Json::Null,
        FieldValue::Bool(b) => Json::Bool(*b),
        FieldValue::Number(n) => number_json(*n),
        FieldValue::Text(t) => Json::String(t.to_string()),
        FieldValue::List(index) => list_json(contact.list(*index)),
        FieldValue::Composite => composite_json(),
    }
}

fn number_json(n: f64) -> Json {
    serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
}

/// A list value (a JSON array of texts) as the array it was.
fn list_json(items: &[compact_str::CompactString]) -> Json {
    Json::Array(items.iter().map(|t| Json::String(t.to_string())).collect())
}

fn composite_json() -> Json {
    Json::String(String::from("<list or object>"))
}

/// Names operands in words, for the `subject` of a test.
pub(super) struct Describer<'a> {
    pub plan: &'a Plan,
    pub sources: &'a Sources,
    /// The event type slot whose props an `EventProp` operand reads (the
    /// open `each` rule's event), when there is one.
    pub event: Option<usize>,
}

impl Describer<'_> {
    /// What an operand is, in words.
    pub fn operand(&self, operand: &Operand) -> String {
        let plan = self.plan;
        match operand {
            Operand::Property(slot) => plan.property_names.get(*slot).cloned().unwrap_or_default(),
            Operand::FromText { source, .. } => self.operand(source),
            Operand::Email => String::from("email"),
            Operand::Id => String::from("id"),
            Operand::EventProp(slot) => self
                .event
                .and_then(|e| plan.event_prop_names.get(e))
                .and_then(|names| names.get(*slot))
                .cloned()
                .unwrap_or_else(|| String::from("event prop")),
            Operand::Score(id) => plan
                .scores
                .get(id.index())
                .map_or(String::new(), |s| s.name.clone()),
            Operand::Segment(id) => plan
                .segments
                .get(id.index())
                .map_or(String::new(), |s| s.name.clone()),
            Operand::Aggregate(id) => plan
                .aggregates
                .get(id.index())
                .map_or(String::new(), |a| self.sources.text(a.span).to_string()),
            Operand::Const(c) => const_json(c).to_string(),
            Operand::Call {
                function, argument, ..
            } => format!("{}({})", function.name(), self.operand(argument)),
            Operand::Arith { .. } => self.worked(operand, &mut std::iter::empty()),
        }
    }

    /// An operand in words with each arithmetic operand's value after it
    /// (`0.6 * fit 85 + 0.4 * intent 57.26`), taking the values in evaluation
    /// order from `values`; a constant shows no value, and an operand whose
    /// value is not there shows none either.
    pub fn worked(&self, operand: &Operand, values: &mut dyn Iterator<Item = Json>) -> String {
        let Operand::Arith { first, rest, .. } = operand else {
            let text = self.operand(operand);
            return match (operand, values.next()) {
                (Operand::Const(ConstValue::Number(n)), _) => number(*n),
                (Operand::Const(_), _) | (_, None) => text,
                (_, Some(Json::Null)) => format!("{text} missing"),
                (_, Some(value)) => format!("{text} {}", json_text(&value)),
            };
        };
        let parent = rest.first().map_or(ArithOp::Add, |(op, _)| *op);
        let mut part = |part: &Operand| {
            let text = self.worked(part, values);
            match part {
                Operand::Arith { rest, .. }
                    if rest
                        .first()
                        .is_some_and(|(op, _)| op.needs_parentheses_in(parent)) =>
                {
                    format!("({text})")
                }
                _ => text,
            }
        };
        let mut text = part(first);
        for (op, operand) in rest.iter() {
            text.push_str(&format!(" {} {}", op.symbol(), part(operand)));
        }
        text
    }

    /// A test's subject (what was tested) and its operator, in words.
    pub fn subject_and_op(&self, cond: &Cond) -> (String, String) {
        match cond {
            Cond::Compare {
                op,
                left: l,
                right: r,
                ..
            } => {
                // Name the non-constant side; with the constant written first
                // (`200 <= company_size`) the operator is mirrored so that the
                // trace reads subject, operator, value.
                let flipped = matches!(l, Operand::Const(_));
                let subject = if flipped { r } else { l };
                let op = match (op, flipped) {
                    (CompareOp::Eq, _) => "==",
                    (CompareOp::Ne, _) => "!=",
                    (CompareOp::Lt, false) | (CompareOp::Gt, true) => "<",
                    (CompareOp::Le, false) | (CompareOp::Ge, true) => "<=",
                    (CompareOp::Gt, false) | (CompareOp::Lt, true) => ">",
                    (CompareOp::Ge, false) | (CompareOp::Le, true) => ">=",
                };
                (self.operand(subject), op.to_string())
            }
            Cond::In { left, negated, .. } => (
                self.operand(left),
                String::from(if *negated { "not in" } else { "in" }),
            ),
            Cond::Matches { left, .. } => (self.operand(left), String::from("matches")),
            Cond::Text { op, left, .. } => (self.operand(left), op.words().to_string()),
            Cond::IsNull { operand, negated, .. } => (
                self.operand(operand),
                String::from(if *negated { "is not null" } else { "is null" }),
            ),
            Cond::Within { operand, .. } => (self.operand(operand), String::from("within")),
            Cond::TimeWindow { operand, window, .. } => (
                self.operand(operand),
                String::from(if window.is_future() {
                    "within next"
                } else {
                    "between ago"
                }),
            ),
            Cond::Between { operand, .. } => (self.operand(operand), String::from("between")),
            Cond::BandOrdered { band, op, .. } => (
                self.plan
                    .bands
                    .get(band.index())
                    .map_or(String::new(), |b| b.name.clone()),
                op.symbol().to_string(),
            ),
            Cond::Has { list, quantifier, .. } => (self.operand(list), quantifier.words().to_string()),
            Cond::Truthy { operand, .. } => (self.operand(operand), String::from("is true")),
            Cond::BandIs { band, negated, .. } => (
                self.plan
                    .bands
                    .get(band.index())
                    .map_or(String::new(), |b| b.name.clone()),
                String::from(if *negated { "is not" } else { "is" }),
            ),
            Cond::Const(_) | Cond::And(_) | Cond::Or(_) | Cond::Not(_) => (String::new(), String::new()),
        }
    }
}
