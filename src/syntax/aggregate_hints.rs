//! The event aggregates of issue 13 as text: their head written back (for
//! `fmt` and hints), and the syntax hints for their near-misses, chosen from
//! the text around a syntax error (never by changing the grammar).

use super::ast::{AggregateKind, EventAggregate};
use crate::diagnostics::SyntaxHint;

/// `last page_view's url` (or `first …'s`, with a typographic apostrophe
/// too, or `last page_view.url`): the prop is written first, `url of last page_view`. `before` is the
/// text up to the error, `previous_word` its last word (the event type),
/// `after` the text from the error on.
pub(super) fn possessive_prop(before: &str, previous_word: &str, after: &str) -> Option<SyntaxHint> {
    let rest = after
        .strip_prefix("'s")
        .or_else(|| after.strip_prefix("\u{2019}s"))
        .or_else(|| after.strip_prefix('.'))?;
    let prop: String = rest
        .trim_start_matches([' ', '\t'])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if previous_word.is_empty() || prop.is_empty() {
        return None;
    }
    let which = before
        .strip_suffix(previous_word)?
        .trim_end()
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()?;
    if which != "last" && which != "first" {
        return None;
    }
    Some(SyntaxHint::PropOfEventPossessive {
        example: format!("{prop} of {which} {previous_word}"),
    })
}

/// An aggregate up to its `where`, as written (by `fmt`, and in hints): `count of page_view`,
/// `sum of minutes in webinar_attended`, `url of last page_view`.
pub fn aggregate_head(aggregate: &EventAggregate) -> String {
    let event = super::written_name(&aggregate.event.name);
    let prop = aggregate
        .prop
        .as_ref()
        .map_or_else(String::new, |p| super::written_name(&p.name).into_owned());
    match aggregate.kind {
        AggregateKind::Count | AggregateKind::Any | AggregateKind::Last | AggregateKind::First => {
            format!("{} {event}", aggregate.kind.words())
        }
        AggregateKind::FirstProp | AggregateKind::LastProp => {
            format!("{prop} {} {event}", aggregate.kind.words())
        }
        AggregateKind::Sum
        | AggregateKind::Min
        | AggregateKind::Max
        | AggregateKind::Avg
        | AggregateKind::DistinctCount => format!("{} {prop} in {event}", aggregate.kind.words()),
    }
}

#[cfg(test)]
mod tests {
    use super::possessive_prop;
    use crate::diagnostics::SyntaxHint;

    #[test]
    fn a_possessive_after_last_or_first_names_the_prop_of_form() {
        let hint = possessive_prop("when last page_view", "page_view", "'s url == \"/x\"");
        assert_eq!(
            hint,
            Some(SyntaxHint::PropOfEventPossessive {
                example: String::from("url of last page_view")
            })
        );
        let hint = possessive_prop("(first form_submit", "form_submit", "\u{2019}s form");
        assert_eq!(
            hint,
            Some(SyntaxHint::PropOfEventPossessive {
                example: String::from("form of first form_submit")
            })
        );
    }

    #[test]
    fn a_possessive_after_anything_else_is_left_to_the_other_hints() {
        let hint = possessive_prop("when last page_view", "page_view", ".url == 3");
        assert_eq!(
            hint,
            Some(SyntaxHint::PropOfEventPossessive {
                example: String::from("url of last page_view")
            })
        );
        assert_eq!(possessive_prop("when any page_view", "page_view", "'s url"), None);
        assert_eq!(possessive_prop("when last page_view", "page_view", "== 3"), None);
    }
}
