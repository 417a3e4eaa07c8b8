//! Comments of a rule file, found by scanning its text outside strings and
//! regular expressions (the grammar drops them: `COMMENT` is a silent rule).
//!
//! The one comment scanner of the crate, used by the formatter (to put
//! comments back), by lints (to read `# rubric: allow(…)` annotations) and by
//! the parser (to skip trivia between items and to end a span before a
//! trailing comment).

/// One `# …` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Byte offset of the `#`.
    pub start: usize,
    /// Byte offset of the end of the comment (the end of its line, before the
    /// line break), with trailing spaces removed.
    pub end: usize,
    /// 0-based line of the comment.
    pub line: usize,
    /// True when only spaces come before the `#` on its line.
    pub own_line: bool,
}

impl Comment {
    /// The comment's text, `#` included, without trailing spaces.
    pub fn text<'t>(&self, source: &'t str) -> &'t str {
        source.get(self.start..self.end).unwrap_or("#")
    }

    /// The lint names of a `# rubric: allow(name, …)` annotation, if it is one.
    pub fn allowed_lints<'t>(&self, source: &'t str) -> Vec<&'t str> {
        let body = self.text(source).trim_start_matches('#').trim();
        let Some(rest) = body.strip_prefix("rubric:") else {
            return Vec::new();
        };
        let Some(inner) = rest.trim().strip_prefix("allow(") else {
            return Vec::new();
        };
        let Some((names, _)) = inner.split_once(')') else {
            return Vec::new();
        };
        names
            .split(',')
            .map(|n| n.trim().trim_start_matches("rubric::lint::"))
            .filter(|n| !n.is_empty())
            .collect()
    }
}

/// The byte offsets of the `#` of every comment of `text`, in order.
///
/// This is the one comment scanner of the crate: the formatter, the lints and
/// the parser all find comments through it. A `#` starts a comment only
/// outside a string (`"…"`, with `\` escapes), a regular expression (`/…/`,
/// with `\` escapes) and a quoted name (`` `…` ``, no escapes). None of
/// them spans lines, so an unclosed one ends at its line break, as in the
/// grammar.
fn comment_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while let Some(&b) = bytes.get(i) {
            match b {
                b'/' if slash_is_division(bytes, i) => i += 1,
                b'"' | b'/' | b'`' => i = literal_end(bytes, i),
                b'#' => {
                    let start = i;
                    i = line_end(bytes, i);
                    return Some(start);
                }
                _ => i += 1,
            }
        }
        None
    })
}

/// Whether the `/` at `slash` divides (`fit / 2`) rather than opens a
/// regular expression (`matches /vp/i`), as the grammar decides: a `/`
/// right after a value (a name, a number, `)`, `]`, a string or a quoted
/// name) is a division, unless that "name" is a word after which a value
/// starts (`matches`, `and`, `when`, …).
pub(super) fn slash_is_division(bytes: &[u8], slash: usize) -> bool {
    let before = bytes.get(..slash).unwrap_or_default();
    let trimmed = before.trim_ascii_end();
    match trimmed.last() {
        Some(b')' | b']' | b'"' | b'`') => true,
        Some(c) if c.is_ascii_alphanumeric() || *c == b'_' => {
            let word_start = trimmed
                .iter()
                .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                .map_or(0, |p| p + 1);
            let word = trimmed.get(word_start..).unwrap_or_default();
            !matches!(
                word,
                b"matches" | b"and" | b"or" | b"not" | b"when" | b"where" | b"with" | b"contains"
            )
        }
        _ => false,
    }
}

/// The offset just after the string, regex or quoted name that opens at
/// `open`: after its closing quote, or at its line break when unclosed.
pub(super) fn literal_end(bytes: &[u8], open: usize) -> usize {
    let quote = bytes.get(open).copied();
    let escapes = quote != Some(b'`');
    let mut i = open + 1;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\n' => return i,
            // An escape covers the next character, but never a line break.
            b'\\' if escapes => i += if bytes.get(i + 1) == Some(&b'\n') { 1 } else { 2 },
            _ if Some(c) == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The offset of the line break (`\n`, or `\r` of `\r\n`) that ends the
/// line of `i`, or the end of the text.
pub(super) fn line_end(bytes: &[u8], i: usize) -> usize {
    let mut end = i;
    while let Some(&c) = bytes.get(end) {
        if c == b'\n' || c == b'\r' {
            break;
        }
        end += 1;
    }
    end
}

/// Every comment of `text`, in order. A `#` inside a string, a regular
/// expression or a quoted name is no comment.
pub fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut line = 0;
    let mut line_start = 0;
    let mut counted_to = 0;
    for start in comment_starts(text) {
        for (offset, _) in text.get(counted_to..start).unwrap_or("").match_indices('\n') {
            line += 1;
            line_start = counted_to + offset + 1;
        }
        counted_to = start;
        let end = line_end(bytes, start);
        let end = start + text.get(start..end).unwrap_or("").trim_end().len();
        let before = text.get(line_start..start).unwrap_or("");
        out.push(Comment {
            start,
            end,
            line,
            own_line: before.trim().is_empty(),
        });
    }
    out
}

/// The byte offset of the `#` of the first comment in `line`, if any.
pub fn comment_start(line: &str) -> Option<usize> {
    comment_starts(line).next()
}

/// Skips whitespace and comments from `pos`, which is outside any literal
/// (between items): the offset of the next token, or the end of the text.
pub fn skip_trivia(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(pos) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
            b'#' => pos = line_end(bytes, pos),
            _ => break,
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::{comment_start, scan, skip_trivia};

    /// The `#` offsets `scan` finds, checked against `comment_start` on the
    /// first line, so that the two entry points never disagree.
    fn starts(text: &str) -> Vec<usize> {
        let found: Vec<usize> = scan(text).iter().map(|c| c.start).collect();
        let first_line = text.split('\n').next().unwrap_or("");
        let on_first_line = found.first().copied().filter(|&s| s < first_line.len());
        assert_eq!(comment_start(first_line), on_first_line, "{text:?}");
        found
    }

    /// Regression: the parser's `comment_start` used to cut a span at a `#`
    /// inside a regular expression.
    #[test]
    fn a_hash_inside_a_regex_is_no_comment() {
        let text = "segment s when url matches /a#b/i # real";
        assert_eq!(starts(text), vec![text.len() - "# real".len()]);
    }

    #[test]
    fn a_hash_inside_a_string_is_no_comment() {
        let text = "const c = \"#1\" # real";
        assert_eq!(starts(text), vec![text.len() - "# real".len()]);
    }

    /// Regression: `scan` (the formatter's and the lints' scanner) used to
    /// read a `#` inside a quoted name as a comment.
    #[test]
    fn a_hash_inside_a_quoted_name_is_no_comment() {
        let text = "segment s when `lead#score` >= 1 # real";
        assert_eq!(starts(text), vec![text.len() - "# real".len()]);
    }

    /// Regression: `scan` used to open a regular expression at a `/` inside a
    /// quoted name and miss the comment after it.
    #[test]
    fn a_slash_inside_a_quoted_name_opens_no_regex() {
        let text = "segment s when `a/b` >= 1 # real";
        assert_eq!(starts(text), vec![text.len() - "# real".len()]);
    }

    #[test]
    fn escaped_quotes_and_slashes_do_not_close_a_literal() {
        let string = r##"const c = "say \"#\" # still text" # real"##;
        assert_eq!(starts(string), vec![string.len() - "# real".len()]);
        let regex = r"segment s when url matches /a\/#/ # real";
        assert_eq!(starts(regex), vec![regex.len() - "# real".len()]);
        let backslash = r##"const c = "a\\" # real"##;
        assert_eq!(starts(backslash), vec![backslash.len() - "# real".len()]);
    }

    /// An unclosed literal ends at its line break, even after a trailing
    /// backslash, so the next line is scanned afresh.
    #[test]
    fn an_unclosed_literal_ends_at_its_line() {
        let text = "const c = \"abc\\\n# next\nx matches /y # z\n";
        let comments = scan(text);
        let found: Vec<(usize, &str)> = comments.iter().map(|c| (c.line, c.text(text))).collect();
        assert_eq!(found, vec![(1, "# next")]);
    }

    #[test]
    fn skips_trivia_between_items() {
        let text = "  # one\n\t# two\r\n\nscore fit";
        assert_eq!(skip_trivia(text, 0), text.len() - "score fit".len());
        assert_eq!(skip_trivia(text, text.len()), text.len());
    }

    #[test]
    fn a_division_opens_no_regex() {
        // Regression: the `/` of `a / b` was read as the start of a regular
        // expression, hiding the comment after it (and, in the depth scan,
        // the parentheses after it).
        let text = "segment s when (a + 1) / b > c / 2 and d matches /x#/ # real";
        assert_eq!(starts(text), vec![text.len() - "# real".len()]);
        let text = "segment s when count of v within 3 days / 2 > 1 # real";
        assert_eq!(starts(text), vec![text.len() - "# real".len()]);
    }

    #[test]
    fn skips_strings_and_regexes() {
        let text = "a \"#x\" matches /#\\/y/ # one\n  # two\n";
        let comments = scan(text);
        assert_eq!(comments.len(), 2);
        assert_eq!(comments.first().map(|c| c.text(text)), Some("# one"));
        assert_eq!(comments.first().map(|c| c.own_line), Some(false));
        assert_eq!(comments.get(1).map(|c| (c.line, c.own_line)), Some((1, true)));
    }

    #[test]
    fn reads_allow_annotations() {
        let text = "# rubric: allow(unused_constant, rubric::lint::unused_segment)\n";
        let comments = scan(text);
        let names = comments
            .first()
            .map(|c| c.allowed_lints(text))
            .unwrap_or_default();
        assert_eq!(names, vec!["unused_constant", "unused_segment"]);
    }
}
