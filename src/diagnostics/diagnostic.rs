//! [`Diagnostic`]: one problem found in a rule set, a [`DiagnosticKind`] (the
//! words) placed in the source (span, label, notes) with a severity.

use super::kind::DiagnosticKind;
use crate::source::Span;

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
///
/// `code`, `message` and `help` are the kind's ([`DiagnosticKind::code`],
/// its `Display`, [`DiagnosticKind::help`]), written out once when the
/// diagnostic is made so that renderers read plain fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    /// Stable code such as `rubric::unknown_name`.
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
    /// A diagnostic of `kind` at `span`: an error, or a warning for a lint.
    pub fn new(kind: DiagnosticKind, span: Span) -> Diagnostic {
        let severity = if kind.lint().is_some() {
            Severity::Warning
        } else {
            Severity::Error
        };
        Diagnostic {
            code: kind.code().as_str(),
            severity,
            message: kind.to_string(),
            span,
            label: String::new(),
            help: kind.help(),
            notes: Vec::new(),
            kind,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
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
