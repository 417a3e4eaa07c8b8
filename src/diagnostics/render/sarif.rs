//! The SARIF renderer of `rubric check --format sarif`: a SARIF 2.1.0 log
//! with one run of the `rubric` tool, one rule per code that occurs.

use super::json::JsonDiagnostic;
use crate::diagnostics::diagnostic::Diagnostic;
use crate::diagnostics::kind::Lint;
use crate::source::Sources;

/// A SARIF 2.1.0 log with one run of the `rubric` tool.
pub fn sarif(diagnostics: &[Diagnostic], sources: &Sources) -> serde_json::Value {
    use serde_json::json;
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            let anchor = c.replace(':', "");
            let description = Lint::ALL
                .into_iter()
                .find(|lint| lint.code().as_str() == *c)
                .map_or(*c, Lint::description);
            json!({
                "id": c,
                "shortDescription": { "text": description },
                "help": { "text": format!("see docs/errors.md#{anchor}") },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            let j = JsonDiagnostic::new(d, sources);
            let mut text = j.message.clone();
            if let Some(help) = &j.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            json!({
                "ruleId": d.code,
                "ruleIndex": codes.iter().position(|c| *c == d.code).unwrap_or(0),
                "level": if d.is_error() { "error" } else { "warning" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": j.file.replace('\\', "/") },
                        "region": {
                            "startLine": j.line,
                            "startColumn": j.column,
                            "endLine": j.end_line,
                            "endColumn": j.end_column,
                        }
                    }
                }]
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "rubric",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}
