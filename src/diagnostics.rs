//! Rule diagnostics: error codes, labelled spans, hints, did-you-mean, and
//! rendering as miette reports (for people) or JSON (for machines).
//!
//! Every code is listed in `docs/errors.md`.

use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};

use crate::source::{Sources, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary label, in the same file as the primary span.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub span: Span,
    pub message: String,
}

/// One problem found in a rule set.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable kebab-free code such as `rubric::unknown_name`.
    pub code: &'static str,
    pub severity: Severity,
    /// Lower case, no final period, the user's text in backticks.
    pub message: String,
    pub span: Span,
    /// What the primary label says at the span.
    pub label: String,
    pub help: Option<String>,
    pub notes: Vec<Note>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Adds a secondary label; one in another file becomes a line of help instead.
    pub fn with_note(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.notes.push(Note {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Internal-error code for "the parser produced a tree the builder did not expect".
pub const INTERNAL: &str = "rubric::internal";

/// The closest candidate to `name` by edit distance, when close enough to be a
/// plausible typo.
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let score = strsim::jaro_winkler(&lower, &candidate.to_lowercase());
        let distance = strsim::damerau_levenshtein(&lower, &candidate.to_lowercase());
        let close = distance <= 2.max(name.chars().count() / 3) || score >= 0.88;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// A diagnostic bound to its source text, ready for miette to render.
#[derive(Debug)]
pub struct Report {
    diagnostic: Diagnostic,
    source: NamedSource<Arc<str>>,
    extra_help: Option<String>,
}

impl Report {
    pub fn new(diagnostic: &Diagnostic, sources: &Sources) -> Report {
        let (name, text) = match sources.get(diagnostic.span.file) {
            Some(f) => (f.name.clone(), f.text.clone()),
            None => (String::from("<unknown>"), Arc::from("")),
        };
        // Notes in other files cannot be drawn; say where they are instead.
        let mut elsewhere = Vec::new();
        for note in &diagnostic.notes {
            if note.span.file != diagnostic.span.file {
                elsewhere.push(format!("{} ({})", note.message, sources.location(note.span)));
            }
        }
        let extra_help = if elsewhere.is_empty() {
            None
        } else {
            Some(elsewhere.join("; "))
        };
        Report {
            diagnostic: diagnostic.clone(),
            source: NamedSource::new(name, text).with_language("rubric"),
            extra_help,
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match (&self.diagnostic.help, &self.extra_help) {
            (Some(h), Some(e)) => Some(Box::new(format!("{h}\n{e}"))),
            (Some(h), None) => Some(Box::new(h)),
            (None, Some(e)) => Some(Box::new(e)),
            (None, None) => None,
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let d = &self.diagnostic;
        let primary_label = if d.label.is_empty() {
            None
        } else {
            Some(d.label.clone())
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            primary_label,
            source_span(d.span),
        )];
        for note in &d.notes {
            if note.span.file == d.span.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(note.message.clone()),
                    source_span(note.span),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// Renders diagnostics for people. `color` is decided by the caller (terminal,
/// `NO_COLOR`); tests render without colour.
pub fn render(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = Report::new(diagnostic, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&diagnostic.message);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// A diagnostic in the machine form of `rubric check --format json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JsonDiagnostic {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub label: String,
    pub help: Option<String>,
}

impl JsonDiagnostic {
    pub fn new(d: &Diagnostic, sources: &Sources) -> JsonDiagnostic {
        let start = sources.location(d.span);
        let end = sources.location(Span {
            start: d.span.end,
            ..d.span
        });
        JsonDiagnostic {
            severity: match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            code: d.code,
            message: d.message.clone(),
            file: start.file,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            label: d.label.clone(),
            help: d.help.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        let names = ["readiness", "fit_tier", "intent", "fit"];
        assert_eq!(did_you_mean("readines", names), Some("readiness"));
        assert_eq!(did_you_mean("intnet", names), Some("intent"));
        assert_eq!(did_you_mean("company_size", names), None);
    }
}
