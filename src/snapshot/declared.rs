//! Declared property types on the reader's side: the rules that read text
//! as numbers and booleans where the schema opts in (`number from text`,
//! `boolean from text`; the evaluator converts, so that each plan reads a
//! shared line its own way), and telling a value of the wrong type for its
//! declaration (the wrong-type summary of `rubric run` and `--warnings`).
//!
//! The rules (docs/language.md §5): a text converts to a number when, once
//! ASCII whitespace is trimmed from both ends, it is a number as JSON writes
//! one (`-12`, `3.5`, `1e3`; not `+5`, `.5`, `1,000` or `0x10`) and finite; to
//! a boolean when it is `true` or `false` in any ASCII case, trimmed alike.

use super::{DeclaredType, FieldValue};

/// A text as a number, by the rule of `number from text`.
pub fn number_from_text(text: &str) -> Option<f64> {
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if !is_json_number(trimmed.as_bytes()) {
        return None;
    }
    trimmed.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A text as a boolean, by the rule of `boolean from text`.
pub fn boolean_from_text(text: &str) -> Option<bool> {
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.eq_ignore_ascii_case("true") {
        Some(true)
    } else if trimmed.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Whether `bytes` is a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(bytes: &[u8]) -> bool {
    let mut rest = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let digits = |rest: &mut &[u8]| {
        let count = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        *rest = rest.get(count..).unwrap_or_default();
        count
    };
    let leading_zero = rest.first() == Some(&b'0');
    let integer = digits(&mut rest);
    if integer == 0 || (leading_zero && integer > 1) {
        return false;
    }
    if let Some(after) = rest.strip_prefix(b".") {
        rest = after;
        if digits(&mut rest) == 0 {
            return false;
        }
    }
    if let Some(after) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        rest = after;
        rest = rest
            .strip_prefix(b"+")
            .or_else(|| rest.strip_prefix(b"-"))
            .unwrap_or(rest);
        if digits(&mut rest) == 0 {
            return false;
        }
    }
    rest.is_empty()
}

/// A property value's kind, as the wrong-type summary names it.
pub fn kind_name(value: &FieldValue) -> &'static str {
    match value {
        FieldValue::Missing | FieldValue::Null => "null",
        FieldValue::Bool(_) => "boolean",
        FieldValue::Number(_) => "number",
        FieldValue::Text(_) => "text",
        FieldValue::List(_) => "list",
        FieldValue::Composite => "list or object",
    }
}

impl DeclaredType {
    /// The type's name in the summary and the `--warnings` file.
    pub fn expected_name(self) -> &'static str {
        match self {
            DeclaredType::Text => "text",
            DeclaredType::Number | DeclaredType::NumberFromText => "number",
            DeclaredType::Boolean | DeclaredType::BooleanFromText => "boolean",
            DeclaredType::Timestamp => "timestamp",
            DeclaredType::List => "list",
        }
    }

    /// Whether a decoded value is of the wrong type for this declaration (a
    /// text that `from text` reads is not). Missing and null values never are.
    /// A timestamp is text that parses as one; a list is a JSON array of
    /// texts, or a text (one element, or split on the declared separator).
    #[inline]
    pub fn is_wrong_type(self, value: &FieldValue) -> bool {
        match (self, value) {
            (_, FieldValue::Missing | FieldValue::Null) => false,
            (DeclaredType::Text, FieldValue::Text(_)) => false,
            (DeclaredType::Number | DeclaredType::NumberFromText, FieldValue::Number(_)) => false,
            (DeclaredType::Boolean | DeclaredType::BooleanFromText, FieldValue::Bool(_)) => false,
            (DeclaredType::NumberFromText, FieldValue::Text(text)) => number_from_text(text).is_none(),
            (DeclaredType::BooleanFromText, FieldValue::Text(text)) => boolean_from_text(text).is_none(),
            (DeclaredType::Timestamp, FieldValue::Text(text)) => super::parse_timestamp(text).is_none(),
            (DeclaredType::List, FieldValue::List(_) | FieldValue::Text(_)) => false,
            _ => true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_written_as_json_writes_them_convert_and_nothing_else() {
        for (text, expected) in [
            ("56", Some(56.0)),
            (" 56 ", Some(56.0)),
            ("\t-1.5e2\n", Some(-150.0)),
            ("0", Some(0.0)),
            ("0.25", Some(0.25)),
            ("1E+3", Some(1000.0)),
            ("1,000", None),
            ("+5", None),
            (".5", None),
            ("5.", None),
            ("007", None),
            ("0x10", None),
            ("1e400", None),
            ("NaN", None),
            ("inf", None),
            ("", None),
            ("-", None),
            ("1e", None),
            ("56 employees", None),
            ("\u{a0}56", None),
        ] {
            assert_eq!(number_from_text(text), expected, "{text:?}");
        }
    }

    #[test]
    fn booleans_are_true_or_false_in_any_ascii_case() {
        assert_eq!(boolean_from_text("TRUE"), Some(true));
        assert_eq!(boolean_from_text(" False "), Some(false));
        assert_eq!(boolean_from_text("yes"), None);
        assert_eq!(boolean_from_text("1"), None);
    }

    #[test]
    fn wrong_types_follow_the_declaration() {
        let text = |t: &str| FieldValue::Text(t.into());
        assert!(!DeclaredType::NumberFromText.is_wrong_type(&text(" 56 ")));
        assert!(DeclaredType::NumberFromText.is_wrong_type(&text("many")));
        assert!(DeclaredType::Number.is_wrong_type(&text("7")));
        assert!(!DeclaredType::BooleanFromText.is_wrong_type(&text("True")));
        assert!(DeclaredType::Boolean.is_wrong_type(&FieldValue::Number(1.0)));
        assert!(!DeclaredType::List.is_wrong_type(&text("a;b")));
        assert!(DeclaredType::List.is_wrong_type(&FieldValue::Composite));
        assert!(DeclaredType::Text.is_wrong_type(&FieldValue::List(0)));
        assert!(DeclaredType::Timestamp.is_wrong_type(&text("soon")));
        assert!(!DeclaredType::Timestamp.is_wrong_type(&text("2026-11-30")));
        assert!(!DeclaredType::Number.is_wrong_type(&FieldValue::Null));
    }

    proptest! {
        /// Any finite number printed by Rust (as JSON prints it) converts back to itself.
        #[test]
        fn a_printed_number_round_trips(n in proptest::num::f64::NORMAL | proptest::num::f64::ZERO, pad in "[ \t]{0,2}") {
            let printed = serde_json::Number::from_f64(n).unwrap().to_string();
            prop_assert_eq!(number_from_text(&format!("{pad}{printed}{pad}")), Some(n));
        }

        /// An integer printed as text converts to the same number.
        #[test]
        fn a_printed_integer_round_trips(n in -1_000_000_000i64..1_000_000_000) {
            prop_assert_eq!(number_from_text(&n.to_string()), Some(n as f64));
        }
    }
}
