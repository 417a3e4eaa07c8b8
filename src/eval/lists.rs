//! The `has` test on list values (docs/language.md §8.16): which elements a
//! list value holds, and whether it holds one, any or all of the texts a
//! test looks for.

use super::EvalValue;
use crate::case_fold::eq_ignoring_case;
use crate::ops::HasQuantifier;

/// The elements of a text split on `separator`: each part trimmed of ASCII
/// whitespace, empty parts dropped.
pub(super) fn split_list<'t>(text: &'t str, separator: &'t str) -> impl Iterator<Item = &'t str> + 't {
    text.split(separator)
        .map(|part| part.trim_matches(|c: char| c.is_ascii_whitespace()))
        .filter(|part| !part.is_empty())
}

/// Whether `list` holds one, any or all of `needles`; `None` when `list` is
/// not a list (nor text, which is a one-element list, or split on
/// `separator`). An absent list holds nothing.
pub(super) fn list_has(
    list: &EvalValue<'_>,
    separator: Option<&str>,
    quantifier: HasQuantifier,
    needles: &[&str],
    ignore_case: bool,
) -> Option<bool> {
    let holds = |needle: &str| {
        let same = |element: &str| {
            if ignore_case {
                eq_ignoring_case(element, needle)
            } else {
                element == needle
            }
        };
        match list {
            EvalValue::List(items) => items.iter().any(|item| same(item)),
            EvalValue::Text(text) => match separator {
                Some(separator) => split_list(text, separator).any(same),
                None => same(text),
            },
            _ => false,
        }
    };
    match list {
        EvalValue::Absent => Some(false),
        EvalValue::List(_) | EvalValue::Text(_) => Some(match quantifier {
            HasQuantifier::One | HasQuantifier::Any => needles.iter().any(|n| holds(n)),
            HasQuantifier::All => needles.iter().all(|n| holds(n)),
        }),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::borrow::Cow;

    fn text(t: &str) -> EvalValue<'_> {
        EvalValue::Text(Cow::Borrowed(t))
    }

    #[test]
    fn a_text_is_split_trimmed_and_empty_parts_dropped() {
        assert_eq!(
            split_list(" ai ; ml;;data ;", ";").collect::<Vec<_>>(),
            ["ai", "ml", "data"]
        );
        assert_eq!(split_list("a, b", ", ").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn has_any_all_and_case() {
        let list = text("AI;ML");
        let has = |q, n: &[&str], ic| list_has(&list, Some(";"), q, n, ic);
        assert_eq!(has(HasQuantifier::One, &["AI"], false), Some(true));
        assert_eq!(has(HasQuantifier::One, &["ai"], false), Some(false));
        assert_eq!(has(HasQuantifier::One, &["ai"], true), Some(true));
        assert_eq!(has(HasQuantifier::Any, &["x", "ML"], false), Some(true));
        assert_eq!(has(HasQuantifier::All, &["ML", "AI"], false), Some(true));
        assert_eq!(has(HasQuantifier::All, &["ML", "x"], false), Some(false));
        assert_eq!(has(HasQuantifier::All, &[], false), Some(true));
        assert_eq!(has(HasQuantifier::Any, &[], false), Some(false));
        assert_eq!(
            list_has(&text("AI;ML"), None, HasQuantifier::One, &["AI"], false),
            Some(false)
        );
        assert_eq!(
            list_has(&text("AI;ML"), None, HasQuantifier::One, &["AI;ML"], false),
            Some(true)
        );
        assert_eq!(
            list_has(&EvalValue::Absent, None, HasQuantifier::One, &["a"], false),
            Some(false)
        );
        assert_eq!(
            list_has(&EvalValue::Num(1.0), None, HasQuantifier::One, &["a"], false),
            None
        );
        assert_eq!(
            list_has(&EvalValue::Composite, None, HasQuantifier::One, &["a"], false),
            None
        );
    }

    fn word() -> impl Strategy<Value = String> {
        "[a-cA-C ]{0,3}"
    }

    proptest! {
        /// `has any of L` is the `or` of `has x` for each x of L, and `has all
        /// of L` the `and`, on lists and on texts split alike.
        #[test]
        fn any_is_the_or_and_all_the_and_of_single_tests(
            items in proptest::collection::vec(word(), 0..5),
            needles in proptest::collection::vec(word(), 0..4),
            ignore_case in any::<bool>(),
        ) {
            let joined = items.join(";");
            let boxed: Vec<compact_str::CompactString> = items.iter().map(|s| s.as_str().into()).collect();
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            for (list, separator) in [(EvalValue::List(&boxed), None), (text(&joined), Some(";"))] {
                let one = |n: &str| list_has(&list, separator, HasQuantifier::One, &[n], ignore_case).unwrap();
                prop_assert_eq!(
                    list_has(&list, separator, HasQuantifier::Any, &needles, ignore_case).unwrap(),
                    needles.iter().any(|n| one(n))
                );
                prop_assert_eq!(
                    list_has(&list, separator, HasQuantifier::All, &needles, ignore_case).unwrap(),
                    needles.iter().all(|n| one(n))
                );
            }
        }

        /// Splitting then testing agrees with a reference split: the parts
        /// of the text, trimmed, without the empty ones.
        #[test]
        fn split_then_has_agrees_with_a_reference_split(
            text_value in "[ab; ,]{0,12}",
            needle in "[ab]{1,2}",
        ) {
            let reference: Vec<String> = text_value
                .split(';')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            let expected = reference.contains(&needle);
            prop_assert_eq!(
                list_has(&text(&text_value), Some(";"), HasQuantifier::One, &[&needle], false),
                Some(expected)
            );
        }
    }
}
