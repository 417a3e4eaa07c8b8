//! The nesting limit of conditions, checked on the text of an item before
//! pest parses it, so that neither pest nor any recursive pass after it
//! (the AST builder, the compiler, the lints, the formatter, the evaluator,
//! traces) can exhaust the stack, whatever the text (issue 17, item 7: 3,000
//! parentheses or 10,000 `not`s aborted with a stack overflow).
//!
//! The scan over-estimates the nesting pest and the AST will have: each `(`
//! (a group, a call, a `where (…)`) opens a level until its `)`, and each
//! `not` and `where` opens one that lasts at most until the next `and`,
//! `or`, `,`, `=>`, `when`, `otherwise`, `{` or `}` at the same parenthesis
//! level, where the test it applies to has certainly ended. Strings, regular
//! expressions, quoted names and comments are skipped with the crate's one
//! comment scanner. The scan stops at the next reserved word that starts an
//! item, as pest does (not at `goal` or `channel`, which may be names).
//!
//! Architecture Invariant: an item that nests deeper than
//! [`MAX_NESTING_DEPTH`] is reported once, as `rubric::nesting_too_deep`, and
//! never handed to pest. An item at the limit parses, compiles, formats and
//! evaluates within 8 MiB (the main thread's stack) even in a debug build,
//! and rejecting a deeper one fits 2 MiB (`tests/parser.rs`).

use super::comments::{line_end, literal_end, slash_is_division};

/// How deeply parentheses, `not`, `where` and calls may nest in one item.
pub const MAX_NESTING_DEPTH: usize = 256;

/// Words that begin a top-level item: the depth scan of an item stops at
/// one, and the parser resumes at one after an error.
pub(super) const ITEM_KEYWORDS: &[&str] = &[
    "properties",
    "events",
    "const",
    "segment",
    "score",
    "band",
    "suppress",
    "audience",
    "workflow",
    "route",
    "goal",
    "channel",
    "table",
];

/// Item words that are not reserved (`goal`, `channel`): they may also be
/// names inside a condition, where pest reads on, so the depth scan does not
/// stop at them.
const CONTEXTUAL_ITEM_KEYWORDS: &[&str] = &["goal", "channel"];

/// The open parenthesis levels of the scan, each with the `not`s and
/// `where`s still open in it, and the total depth they make.
struct Levels {
    /// Open `not`s and `where`s per parenthesis level; the first entry is the
    /// level outside any parenthesis.
    pending: Vec<usize>,
    depth: usize,
}

impl Levels {
    /// One more level; true when it crosses the limit.
    fn open_paren(&mut self) -> bool {
        self.pending.push(0);
        self.depth += 1;
        self.depth > MAX_NESTING_DEPTH
    }

    fn close_paren(&mut self) {
        if self.pending.len() > 1 {
            let pending = self.pending.pop().unwrap_or(0);
            self.depth = self.depth.saturating_sub(pending + 1);
        }
    }

    /// One more `not` or `where`; true when it crosses the limit.
    fn open_prefix(&mut self) -> bool {
        if let Some(top) = self.pending.last_mut() {
            *top += 1;
        }
        self.depth += 1;
        self.depth > MAX_NESTING_DEPTH
    }

    /// Every `not` and `where` of the current parenthesis level has ended.
    fn end_tests(&mut self) {
        if let Some(top) = self.pending.last_mut() {
            self.depth = self.depth.saturating_sub(*top);
            *top = 0;
        }
    }
}

/// Where the item at the start of `text` first nests deeper than
/// [`MAX_NESTING_DEPTH`]: the byte offset in `text` and the length of the
/// `(`, `not` or `where` that crosses the limit. `None` when it does not.
pub fn first_too_deep(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut levels = Levels {
        pending: vec![0],
        depth: 0,
    };
    let mut first_word = true;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'/' if slash_is_division(bytes, i) => i += 1,
            b'"' | b'/' | b'`' => i = literal_end(bytes, i),
            b'#' => i = line_end(bytes, i),
            b'(' => {
                if levels.open_paren() {
                    return Some((i, 1));
                }
                i += 1;
            }
            b')' => {
                levels.close_paren();
                i += 1;
            }
            b',' | b'{' | b'}' => {
                levels.end_tests();
                i += 1;
            }
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                levels.end_tests();
                i += 2;
            }
            _ if b.is_ascii_alphanumeric() || b == b'_' => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                let word = text.get(start..i).unwrap_or("");
                match word {
                    "not" | "where" if levels.open_prefix() => return Some((start, i - start)),
                    "and" | "or" | "when" | "otherwise" => levels.end_tests(),
                    _ if !first_word
                        && ITEM_KEYWORDS.contains(&word)
                        && !CONTEXTUAL_ITEM_KEYWORDS.contains(&word) =>
                    {
                        return None
                    }
                    _ => {}
                }
                first_word = false;
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{first_too_deep, MAX_NESTING_DEPTH};

    #[test]
    fn nesting_up_to_the_limit_passes() {
        let parens = format!(
            "segment s when {}a == 1{}",
            "(".repeat(MAX_NESTING_DEPTH),
            ")".repeat(MAX_NESTING_DEPTH)
        );
        assert_eq!(first_too_deep(&parens), None);
        let nots = format!("segment s when {}a", "not ".repeat(MAX_NESTING_DEPTH));
        assert_eq!(first_too_deep(&nots), None);
    }

    #[test]
    fn the_first_token_past_the_limit_is_reported() {
        let parens = format!("segment s when {}a", "(".repeat(MAX_NESTING_DEPTH + 10));
        let at = "segment s when ".len() + MAX_NESTING_DEPTH;
        assert_eq!(first_too_deep(&parens), Some((at, 1)));
        let nots = format!("segment s when {}a", "not ".repeat(MAX_NESTING_DEPTH + 10));
        let at = "segment s when ".len() + 4 * MAX_NESTING_DEPTH;
        assert_eq!(first_too_deep(&nots), Some((at, 3)));
    }

    #[test]
    fn flat_conditions_and_many_rules_do_not_add_up() {
        let flat = format!("segment s when {}a", "not a and ".repeat(10_000));
        assert_eq!(first_too_deep(&flat), None);
        let rules: String = (0..1_000)
            .map(|i| format!("  \"r{i}\" when not (x) and count of e where not y => +1\n"))
            .collect();
        let score = format!("score s 0..100 {{\n{rules}}}\n");
        assert_eq!(first_too_deep(&score), None);
        let calls = format!("segment s when {}", "f(x) == g(y) or ".repeat(10_000));
        assert_eq!(first_too_deep(&calls), None);
    }

    #[test]
    fn literals_comments_and_later_items_are_not_counted() {
        let inside = format!(
            "segment s when a == \"{0}\" or b matches /{0}/ or `{0}` # {0}\n",
            "(".repeat(1_000)
        );
        assert_eq!(first_too_deep(&inside), None);
        let later = format!("segment s when a\nsegment t when {}a", "(".repeat(1_000));
        assert_eq!(first_too_deep(&later), None);
    }
}
