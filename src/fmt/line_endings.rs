//! Line endings of a rule file: `rubric fmt` prints with `\n` and then gives
//! the file back the ending most of its lines had, so formatting a CRLF file
//! does not rewrite every line.
//!
//! A file with mixed endings gets its dominant one (the ending of most of its
//! lines; LF on a tie, and for a file without line breaks).

use std::borrow::Cow;

/// How a line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n` (Unix, macOS).
    Lf,
    /// `\r\n` (Windows).
    CrLf,
}

impl LineEnding {
    /// The bytes that end a line.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }

    /// The name people know it by: `LF` or `CRLF`.
    pub fn name(self) -> &'static str {
        match self {
            LineEnding::Lf => "LF",
            LineEnding::CrLf => "CRLF",
        }
    }
}

/// How many lines of a text end in `\n` alone and how many in `\r\n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineEndingCounts {
    pub lf: usize,
    pub crlf: usize,
}

impl LineEndingCounts {
    /// Counts the line endings of `text`.
    pub fn of(text: &str) -> LineEndingCounts {
        let mut counts = LineEndingCounts::default();
        let bytes = text.as_bytes();
        for newline in memchr::memchr_iter(b'\n', bytes) {
            let after_carriage_return = newline
                .checked_sub(1)
                .and_then(|before| bytes.get(before))
                .is_some_and(|&byte| byte == b'\r');
            if after_carriage_return {
                counts.crlf += 1;
            } else {
                counts.lf += 1;
            }
        }
        counts
    }

    /// The ending of most lines: CRLF only when strictly more lines end in
    /// CRLF than in LF.
    pub fn dominant(self) -> LineEnding {
        if self.crlf > self.lf {
            LineEnding::CrLf
        } else {
            LineEnding::Lf
        }
    }

    /// Both endings occur.
    pub fn mixed(self) -> bool {
        self.lf > 0 && self.crlf > 0
    }
}

/// `text` with every `\r\n` turned into `\n` (borrowed when there is none).
pub fn to_lf(text: &str) -> Cow<'_, str> {
    if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `lf_text` (whose lines end in `\n`) with its lines ending in `ending`.
pub fn with_line_ending(lf_text: &str, ending: LineEnding) -> String {
    match ending {
        LineEnding::Lf => lf_text.to_string(),
        LineEnding::CrLf => lf_text.replace('\n', "\r\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tell_lf_from_crlf() {
        let counts = LineEndingCounts::of("a\r\nb\nc\r\n\r\nd");
        assert_eq!(counts, LineEndingCounts { lf: 1, crlf: 3 });
        assert!(counts.mixed());
        assert_eq!(counts.dominant(), LineEnding::CrLf);
    }

    #[test]
    fn a_tie_or_no_line_break_means_lf() {
        assert_eq!(LineEndingCounts::of("a\r\nb\n").dominant(), LineEnding::Lf);
        assert_eq!(LineEndingCounts::of("a").dominant(), LineEnding::Lf);
        assert_eq!(LineEndingCounts::of("").dominant(), LineEnding::Lf);
        assert!(!LineEndingCounts::of("a\nb\n").mixed());
    }

    #[test]
    fn a_carriage_return_alone_is_not_a_line_ending() {
        assert_eq!(
            LineEndingCounts::of("a\rb\n"),
            LineEndingCounts { lf: 1, crlf: 0 }
        );
        assert_eq!(to_lf("a\rb\r\n"), "a\rb\n");
    }

    #[test]
    fn converting_round_trips() {
        let crlf = "score fit {\r\n  when x => +1\r\n}\r\n";
        let lf = to_lf(crlf);
        assert_eq!(lf, "score fit {\n  when x => +1\n}\n");
        assert_eq!(with_line_ending(&lf, LineEnding::CrLf), crlf);
        assert_eq!(with_line_ending(&lf, LineEnding::Lf), lf);
        assert!(matches!(to_lf("no carriage return\n"), Cow::Borrowed(_)));
    }
}
