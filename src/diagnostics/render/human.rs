//! The human renderer: each diagnostic as a miette graphical report (code,
//! message, the source with its labels underlined, help), as `rubric check`
//! and every other command print them on stderr. A diagnostic on a line
//! too long to draw (miette panics past column 65,535) is written on one
//! plain `file:line:column: …` line instead.

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

/// The longest line, in bytes, that a report draws. miette's graphical
/// handler pads its underlines with format widths, which panic past column
/// 65,535 ("Formatting argument out of range"); a diagnostic whose labelled
/// lines (or the context lines around them) are longer than this is rendered
/// on one plain line instead (issue 17, item 6). No rule file written by a
/// person comes near it.
const MAX_DRAWN_LINE_BYTES: usize = 1_000;

/// True when every line that miette would draw for `diagnostic` (the lines of
/// each label in its own file, and one line of context on either side) is at
/// most [`MAX_DRAWN_LINE_BYTES`] long.
fn lines_are_drawable(diagnostic: &Diagnostic, sources: &Sources) -> bool {
    let Some(file) = sources.get(diagnostic.span.file) else {
        return true;
    };
    let text: &str = &file.text;
    let spans = std::iter::once(diagnostic.span).chain(
        diagnostic
            .notes
            .iter()
            .filter(|note| note.span.file == diagnostic.span.file)
            .map(|note| note.span),
    );
    for span in spans {
        let start = (span.start as usize).min(text.len());
        let end = (span.end as usize).clamp(start, text.len());
        // From the start of the line before the label to the end of the line
        // after it.
        let before = text.get(..start).unwrap_or("");
        let first = before.rfind('\n').map_or(0, |i| {
            before.get(..i).and_then(|b| b.rfind('\n')).map_or(0, |j| j + 1)
        });
        let after = text.get(end..).unwrap_or("");
        let last = after.find('\n').map_or(text.len(), |i| {
            let next = end + i + 1;
            text.get(next..)
                .and_then(|rest| rest.find('\n'))
                .map_or(text.len(), |j| next + j)
        });
        let drawn = text.get(first..last).unwrap_or("");
        if drawn.split('\n').any(|line| line.len() > MAX_DRAWN_LINE_BYTES) {
            return false;
        }
    }
    true
}

/// One diagnostic without drawing its source: `file:line:column: severity[code]:
/// message`, then its help and the places of its notes, for lines too long
/// to draw.
fn render_plain(diagnostic: &Diagnostic, sources: &Sources, out: &mut String) {
    use std::fmt::Write as _;
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(
        out,
        "{}: {severity}[{}]: {}",
        sources.location(diagnostic.span),
        diagnostic.code,
        diagnostic.message
    );
    if !diagnostic.label.is_empty() {
        let _ = writeln!(out, "  label: {}", diagnostic.label);
    }
    for note in &diagnostic.notes {
        let _ = writeln!(out, "  note: {} ({})", note.message, sources.location(note.span));
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "  help: {help}");
    }
    let _ = writeln!(out, "  (the source line is too long to draw)");
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
        if !lines_are_drawable(diagnostic, sources) {
            render_plain(diagnostic, sources, &mut out);
            out.push('\n');
            continue;
        }
        let report = MietteReport::new(diagnostic, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&diagnostic.message);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}
