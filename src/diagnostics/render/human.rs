//! The human renderer: each diagnostic as a miette graphical report (code,
//! message, the source with its labels underlined, help), as `rubric check`
//! and every other command print them on stderr.

use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};

use crate::diagnostics::diagnostic::{Diagnostic, Severity};
use crate::source::{Sources, Span};

/// A diagnostic bound to its source text, ready for miette's graphical report
/// handler to draw (the input of rendering, not its output).
#[derive(Debug)]
pub struct MietteReport {
    diagnostic: Diagnostic,
    source: NamedSource<Arc<str>>,
    extra_help: Option<String>,
}

impl MietteReport {
    pub fn new(diagnostic: &Diagnostic, sources: &Sources) -> MietteReport {
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
        MietteReport {
            diagnostic: diagnostic.clone(),
            source: NamedSource::new(name, text).with_language("rubric"),
            extra_help,
        }
    }
}

impl std::fmt::Display for MietteReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for MietteReport {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl miette::Diagnostic for MietteReport {
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
        let report = MietteReport::new(diagnostic, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&diagnostic.message);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
