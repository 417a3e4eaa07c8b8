//! Comments of a rule file, found by scanning its text outside strings and
//! regular expressions (the grammar drops them: `COMMENT` is a silent rule).
//!
//! Used by the formatter (to put comments back) and by lints (to read
//! `# rubric: allow(…)` annotations).

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

/// Every comment of `text`, in order. Strings (`"…"`) and regular expressions
/// (`/…/`) are skipped with their escapes, so a `#` inside them is no comment.
pub fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 0;
    let mut line_start = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            b'"' | b'/' => {
                // A string or a regex: up to the unescaped closing quote or
                // slash, never past the end of the line.
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b'\\' {
                        i += 2;
                        continue;
                    }
                    if c == b'\n' {
                        break;
                    }
                    i += 1;
                    if c == b {
                        break;
                    }
                }
            }
            b'#' => {
                let rest = text.get(i..).unwrap_or("");
                let len = rest.find(['\n', '\r']).unwrap_or(rest.len());
                let end = i + rest.get(..len).unwrap_or("").trim_end().len();
                let before = text.get(line_start..i).unwrap_or("");
                out.push(Comment {
                    start: i,
                    end,
                    line,
                    own_line: before.trim().is_empty(),
                });
                i += len;
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn skips_strings_and_regexes() {
        let text = "a \"#x\" /#\\/y/ # one\n  # two\n";
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
