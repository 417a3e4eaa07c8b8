//! Unit tests of the parentheses `fmt` adds on its own: where the tree needs
//! them to parse back the same, even when the writer's
//! [`Expr::parenthesized`] marks are gone (as in a tree built by hand or
//! rewritten), and never a second pair around a group the writer marked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::{expr, filter};
use crate::source::FileId;
use crate::syntax::ast::{Expr, ExprKind, ItemKind};

/// The condition of `segment s when CONDITION`, as parsed.
fn condition(text: &str) -> Expr {
    let (file, errors) = crate::syntax::parse_file(FileId(0), &format!("segment s when {text}\n"));
    assert!(errors.is_empty(), "{errors:?}");
    match &file.items[0].kind {
        ItemKind::Segment(s) => s.condition.clone(),
        other => panic!("not a segment: {other:?}"),
    }
}

/// Forgets every parenthesis the writer put (the kinds these tests use).
fn forget_parentheses(e: &mut Expr) {
    e.parenthesized = false;
    match &mut e.kind {
        ExprKind::Or(parts) | ExprKind::And(parts) => parts.iter_mut().for_each(forget_parentheses),
        ExprKind::Not(inner) => forget_parentheses(inner),
        ExprKind::Compare { left, right, .. } => {
            forget_parentheses(left);
            forget_parentheses(right);
        }
        ExprKind::Arith { first, rest } => {
            forget_parentheses(first);
            rest.iter_mut().for_each(|(_, p)| forget_parentheses(p));
        }
        ExprKind::Aggregate(a) => {
            if let Some(f) = a.filter.as_mut() {
                forget_parentheses(f);
            }
        }
        _ => {}
    }
}

/// How `fmt` prints the condition once the writer's parentheses are forgotten.
fn printed_without_marks(text: &str) -> String {
    let mut cond = condition(text);
    forget_parentheses(&mut cond);
    expr(&cond, 0)
}

#[test]
fn needed_parentheses_are_added_without_the_writers_marks() {
    for (written, printed) in [
        // Needed for the meaning: kept.
        ("(a or b) and c", "(a or b) and c"),
        ("not (a and b)", "not (a and b)"),
        ("a or (b or c)", "a or (b or c)"),
        ("(x + 1) * 2 > 3", "(x + 1) * 2 > 3"),
        ("x - (y - 1) > 3", "x - (y - 1) > 3"),
        // Redundant: only the marks kept them.
        ("a or (b and c)", "a or b and c"),
        ("not (x is true)", "not x is true"),
        ("((x)) * 2 > 3", "x * 2 > 3"),
        ("(x * 2) + 1 > 3", "x * 2 + 1 > 3"),
    ] {
        assert_eq!(printed_without_marks(written), printed, "{written}");
    }
}

#[test]
fn a_where_group_gets_parentheses_when_it_is_more_than_one_test() {
    let mut cond = condition("any page_view where (a == 1 and b == 2)");
    forget_parentheses(&mut cond);
    let ExprKind::Aggregate(agg) = &cond.kind else {
        panic!("not an aggregate: {cond:?}");
    };
    assert_eq!(filter(agg.filter.as_ref().unwrap()), "where (a == 1 and b == 2)");
    let mut cond = condition("any page_view where (a == 1)");
    forget_parentheses(&mut cond);
    let ExprKind::Aggregate(agg) = &cond.kind else {
        panic!("not an aggregate: {cond:?}");
    };
    assert_eq!(filter(agg.filter.as_ref().unwrap()), "where a == 1");
}

#[test]
fn a_marked_group_gets_one_pair_where_one_is_also_needed() {
    // The writer's pair is the needed pair: not `((a or b)) and c`.
    assert_eq!(expr(&condition("(a or b) and c"), 0), "(a or b) and c");
    assert_eq!(expr(&condition("not ((a and b))"), 0), "not (a and b)");
    assert_eq!(expr(&condition("x - ((y - 1)) > 3"), 0), "x - (y - 1) > 3");
}
