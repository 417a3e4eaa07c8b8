//! Run-time values seen by the evaluator.

use std::borrow::Cow;

/// A value as a test sees it. `Absent` is a missing key or a null.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalValue<'c> {
    Absent,
    Bool(bool),
    Num(f64),
    Text(Cow<'c, str>),
    /// Microseconds since the epoch.
    Time(i64),
    /// A JSON array of texts (a multi-select value): `has` reads it; every
    /// other test sees a wrong type.
    List(&'c [compact_str::CompactString]),
    /// A JSON array or object where a scalar was expected: a wrong type everywhere.
    Composite,
    /// A band's value: (band index, value index). Only seen by tracers.
    Band(usize, u16),
}

impl EvalValue<'_> {
    pub fn is_absent(&self) -> bool {
        matches!(self, EvalValue::Absent)
    }

    /// "a number", "text", … for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            EvalValue::Absent => "nothing",
            EvalValue::Bool(_) => "a boolean",
            EvalValue::Num(_) => "a number",
            EvalValue::Text(_) => "text",
            EvalValue::Time(_) => "a timestamp",
            EvalValue::List(_) => "a list",
            EvalValue::Composite => "a list or object",
            EvalValue::Band(..) => "a band value",
        }
    }
}
