//! Values of the wrong type for their declared property, per property
//! (docs/cli.md, `rubric run`): found when a contact is decoded, counted for
//! the accepted contacts in input order, summarised on stderr by the
//! command line and, with `--warnings FILE`, written one JSON line each
//! (docs/formats.md#wrong-type-values).
//!
//! Only the properties a rule set declares and reads are checked (the
//! reader decodes no others); missing and null values never count. A value
//! of the wrong type still reaches the evaluator as it is: the tests that
//! read it are false and counted as before.

use std::io::Write;

use crate::plan::Plan;
use crate::snapshot::{kind_name, Contact, DeclaredType, FieldValue};

/// One value of the wrong type: its property slot, its kind (`text`,
/// `number`, …) and the value as its `--warnings` record shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct WrongValue {
    pub slot: usize,
    pub found: &'static str,
    pub value: serde_json::Value,
}

/// Appends the wrong-type values of `contact` to `out`. Costs one type check
/// per declared property the plan reads (a timestamp parse for a timestamp).
pub fn find_wrong_values(plan: &Plan, contact: &Contact, out: &mut Vec<WrongValue>) {
    let declared_values = plan.decode.property_types.iter().zip(contact.props.iter());
    for (slot, (declared, value)) in declared_values.enumerate() {
        let Some(declared) = declared else {
            continue;
        };
        if declared.is_wrong_type(value) {
            out.push(WrongValue {
                slot,
                found: kind_name(value),
                value: value_json(value, contact),
            });
        }
    }
}

/// The wrong-type values of the accepted contacts: counts per property slot,
/// and the `--warnings` writer, whose errors are the caller's to keep (as
/// the `--rejects` file's are).
pub struct WrongTypes<'w> {
    /// Per property slot: the number of wrong-type values, by the kind found.
    counts: Vec<Vec<(&'static str, u64)>>,
    file: Option<&'w mut (dyn Write + Send)>,
}

impl<'w> WrongTypes<'w> {
    pub fn new(file: Option<&'w mut (dyn Write + Send)>) -> WrongTypes<'w> {
        WrongTypes {
            counts: Vec::new(),
            file,
        }
    }

    /// Counts one value of the accepted contact `id` (input line `line`) and
    /// writes its record to the `--warnings` file.
    pub fn record(&mut self, plan: &Plan, line: u64, id: &str, wrong: &WrongValue) {
        let found = wrong.found;
        if self.counts.len() <= wrong.slot {
            self.counts.resize(wrong.slot + 1, Vec::new());
        }
        if let Some(kinds) = self.counts.get_mut(wrong.slot) {
            match kinds.iter_mut().find(|(kind, _)| *kind == found) {
                Some((_, count)) => *count += 1,
                None => kinds.push((found, 1)),
            }
        }
        if let Some(file) = self.file.as_mut() {
            let text = |s: &str| serde_json::Value::from(s).to_string();
            // Keys in a fixed order; an error is kept by the writer the caller handed in.
            let _ = writeln!(
                file,
                "{{\"line\":{line},\"id\":{},\"property\":{},\"expected\":{},\"found\":{},\"value\":{}}}",
                text(id),
                text(plan.property_names.get(wrong.slot).map_or("", String::as_str)),
                text(expected(plan, wrong.slot).map_or("", DeclaredType::expected_name)),
                text(found),
                wrong.value,
            );
        }
    }

    /// The totals: per property (in slot order) its count by kind found.
    pub fn finish(self, plan: &Plan) -> WrongTypeTotals {
        let properties = self
            .counts
            .into_iter()
            .enumerate()
            .filter(|(_, kinds)| !kinds.is_empty())
            .map(|(slot, kinds)| PropertyWrongTypes {
                property: plan.property_names.get(slot).cloned().unwrap_or_default(),
                expected: expected(plan, slot).unwrap_or(DeclaredType::Text),
                found: kinds,
            })
            .collect();
        WrongTypeTotals { properties }
    }
}

fn expected(plan: &Plan, slot: usize) -> Option<DeclaredType> {
    plan.decode.property_types.get(slot).copied().flatten()
}

/// A value as its `--warnings` record shows it: as in the snapshot, except
/// an object or a list that is not all text, shown as `"<list or object>"`.
fn value_json(value: &FieldValue, contact: &Contact) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        FieldValue::Missing | FieldValue::Null => Json::Null,
        FieldValue::Bool(b) => Json::Bool(*b),
        // A whole number is written as one (`5`, not `5.0`).
        FieldValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Json::from(*n as i64),
        FieldValue::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        FieldValue::Text(t) => Json::String(t.to_string()),
        FieldValue::List(index) => Json::Array(
            contact
                .list(*index)
                .iter()
                .map(|t| Json::String(t.to_string()))
                .collect(),
        ),
        FieldValue::Composite => Json::String(String::from("<list or object>")),
    }
}

/// The wrong-type values of a run, per property.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WrongTypeTotals {
    pub properties: Vec<PropertyWrongTypes>,
}

/// One property's wrong-type values.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyWrongTypes {
    pub property: String,
    pub expected: DeclaredType,
    /// The kinds of value found (`text`, `number`, …) and how many of each,
    /// in the order first met.
    pub found: Vec<(&'static str, u64)>,
}

impl PropertyWrongTypes {
    pub fn total(&self) -> u64 {
        self.found.iter().map(|(_, n)| n).sum()
    }
}

impl WrongTypeTotals {
    pub fn total(&self) -> u64 {
        self.properties.iter().map(PropertyWrongTypes::total).sum()
    }

    /// The summary line for stderr, `None` when no value was of the wrong type:
    /// `warning: 39,572 values of the wrong type in 2 properties: company_size 39,000 (text; …), …`.
    pub fn summary(&self) -> Option<String> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let count = self.properties.len();
        let parts: Vec<String> = self
            .properties
            .iter()
            .map(|p| {
                let found: Vec<String> = p
                    .found
                    .iter()
                    .map(|(kind, n)| format!("{} {kind}", thousands(*n)))
                    .collect();
                let mut part = format!(
                    "{} {} (expected {}, found {}",
                    p.property,
                    thousands(p.total()),
                    p.expected.expected_name(),
                    found.join(", ")
                );
                if let Some(hint) = hint(p) {
                    part.push_str("; ");
                    part.push_str(hint);
                }
                part.push(')');
                part
            })
            .collect();
        Some(format!(
            "warning: {} value{} of the wrong type in {} declared propert{}: {}",
            thousands(total),
            if total == 1 { "" } else { "s" },
            count,
            if count == 1 { "y" } else { "ies" },
            parts.join(", ")
        ))
    }
}

/// How to accept what was found, when the schema can.
fn hint(p: &PropertyWrongTypes) -> Option<&'static str> {
    let text_found = p.found.iter().any(|(kind, _)| *kind == "text");
    match p.expected {
        DeclaredType::Number if text_found => {
            Some("declare `number from text` to read numbers written as text")
        }
        DeclaredType::Boolean if text_found => {
            Some("declare `boolean from text` to read \"true\" and \"false\" written as text")
        }
        _ => None,
    }
}

/// `39572` → `39,572`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, Sources};

    fn plan(rules: &str) -> Plan {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("rules.rubric", rules));
        crate::compile::compile(&sources).unwrap().plan
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(39572), "39,572");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn values_are_counted_per_property_and_written_one_line_each() {
        let plan = plan(
            "properties {\n  company_size: number\n  country: text\n  tags: list\n}\nsegment s when company_size > 1 and country == \"US\" and tags has \"a\"\n",
        );
        let mut file = Vec::new();
        let mut sink: &mut (dyn Write + Send) = &mut file;
        let mut wrong_types = WrongTypes::new(Some(&mut sink));
        let lines = [
            r#"{"id":"a","properties":{"company_size":"56","country":"US","tags":["a"]}}"#,
            r#"{"id":"b","properties":{"company_size":"7","country":5,"tags":[1]}}"#,
            r#"{"id":"c","properties":{"company_size":true,"country":null,"tags":"a"}}"#,
        ];
        for (line, text) in lines.iter().enumerate() {
            let contact = crate::snapshot::decode_line(&plan.decode, text).unwrap().unwrap();
            let mut wrong = Vec::new();
            find_wrong_values(&plan, &contact, &mut wrong);
            for w in &wrong {
                wrong_types.record(&plan, line as u64 + 1, &contact.id, w);
            }
        }
        let totals = wrong_types.finish(&plan);
        assert_eq!(totals.total(), 5);
        assert_eq!(
            totals.summary().unwrap(),
            "warning: 5 values of the wrong type in 3 declared properties: company_size 3 (expected number, found 2 text, 1 boolean; declare `number from text` to read numbers written as text), country 1 (expected text, found 1 number), tags 1 (expected list, found 1 list or object)"
        );
        let written = String::from_utf8(file).unwrap();
        assert_eq!(
            written.lines().next().unwrap(),
            r#"{"line":1,"id":"a","property":"company_size","expected":"number","found":"text","value":"56"}"#
        );
        assert_eq!(written.lines().count(), 5);
    }
}
