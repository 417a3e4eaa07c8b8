//! The JSON renderer of `rubric check --format json`: one report object
//! with a [`JsonDiagnostic`] per diagnostic (1-based lines and columns).

use crate::diagnostics::diagnostic::{Diagnostic, Severity};
use crate::source::{Sources, Span};

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

/// The report object of `rubric check --format json`.
#[derive(Debug, serde::Serialize)]
pub struct JsonReport<'a> {
    pub ok: bool,
    pub files: Vec<&'a str>,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<JsonDiagnostic>,
}

impl JsonReport<'_> {
    /// The report of `diagnostics` found in `sources`.
    pub fn new<'s>(diagnostics: &[Diagnostic], sources: &'s Sources) -> JsonReport<'s> {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        JsonReport {
            ok: errors == 0,
            files: sources.files.iter().map(|f| f.name.as_str()).collect(),
            errors,
            warnings: diagnostics.len() - errors,
            diagnostics: diagnostics
                .iter()
                .map(|d| JsonDiagnostic::new(d, sources))
                .collect(),
        }
    }
}
