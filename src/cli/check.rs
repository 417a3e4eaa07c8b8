//! `rubric check PATH`: parse, resolve and type-check a rule set.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{ColorChoice, Exit};
use crate::diagnostics::{render, JsonDiagnostic};
use crate::source::Sources;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A `.rubric` file or a directory of them (one rule set).
    path: PathBuf,
    /// `human` (miette reports on stderr) or `json` (one report object on stdout).
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Colour for people: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    ok: bool,
    files: Vec<&'a str>,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic>,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn run(args: &CheckArgs) -> Exit {
    let sources = match Sources::load(&args.path) {
        Ok(s) => s,
        Err(e) => return super::usage_error(e),
    };
    let (diagnostics, summary) = match crate::compile::compile(&sources) {
        Ok(compiled) => {
            let s = &compiled.plan;
            let summary = [
                (s.scores.len(), "score"),
                (s.bands.len(), "band"),
                (s.segments.len(), "segment"),
                (s.suppressions.len(), "suppression"),
                (s.audiences.len(), "audience"),
                (s.workflows.len(), "workflow"),
                (s.routes.len(), "route"),
            ]
            .iter()
            .map(|(n, word)| plural(*n, word))
            .collect::<Vec<_>>()
            .join(", ");
            (compiled.warnings, Some(summary))
        }
        Err(d) => (d, None),
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    match args.format {
        CheckFormat::Json => {
            let report = JsonReport {
                ok: errors == 0,
                files: sources.files.iter().map(|f| f.name.as_str()).collect(),
                errors,
                warnings,
                diagnostics: diagnostics
                    .iter()
                    .map(|d| JsonDiagnostic::new(d, &sources))
                    .collect(),
            };
            let mut out = std::io::stdout().lock();
            let written = serde_json::to_writer_pretty(&mut out, &report).is_ok() && writeln!(out).is_ok();
            if !written {
                return Exit::Usage;
            }
        }
        CheckFormat::Human => {
            let color = args.color.for_stderr();
            eprint!("{}", render(&diagnostics, &sources, color));
            let files = plural(sources.files.len(), "file");
            match summary {
                Some(summary) if errors == 0 => {
                    eprintln!("ok: {files}; {summary}; {}", plural(warnings, "warning"))
                }
                _ => eprintln!(
                    "error: {files} checked: {}, {}",
                    plural(errors, "error"),
                    plural(warnings, "warning")
                ),
            }
        }
    }
    if errors > 0 {
        Exit::RuleErrors
    } else {
        Exit::Success
    }
}
