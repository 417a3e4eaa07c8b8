//! The GitHub renderer of `rubric check --format github`: one GitHub Actions
//! workflow command per diagnostic, which GitHub shows on the changed lines
//! of a pull request.

use super::json::JsonDiagnostic;
use crate::diagnostics::diagnostic::Diagnostic;
use crate::source::Sources;

/// Escapes a workflow-command message (`%`, CR and LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands, one per diagnostic:
/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.
/// GitHub shows them on the changed lines of a pull request.
pub fn github(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let j = JsonDiagnostic::new(d, sources);
        let level = if d.is_error() { "error" } else { "warning" };
        let mut message = j.message.clone();
        if let Some(help) = &j.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&j.file),
            j.line,
            j.column,
            j.end_line,
            j.end_column,
            escape_property(j.code),
            escape_data(&message)
        ));
    }
    out
}
