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
    /// `human` (miette reports on stderr) or `json` (an array on stdout).
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

pub fn run(args: &CheckArgs) -> Exit {
    let sources = match Sources::load(&args.path) {
        Ok(s) => s,
        Err(e) => return super::usage_error(e),
    };
    let (diagnostics, summary) = match crate::compile::compile(&sources) {
        Ok(compiled) => {
            let s = &compiled.plan;
            let summary = format!(
                "{} scores, {} bands, {} segments, {} suppressions, {} audiences, {} workflows, {} routes",
                s.scores.len(),
                s.bands.len(),
                s.segments.len(),
                s.suppressions.len(),
                s.audiences.len(),
                s.workflows.len(),
                s.routes.len()
            );
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
            let files = sources.files.len();
            let files_text = format!("{files} file{}", if files == 1 { "" } else { "s" });
            match summary {
                Some(summary) if errors == 0 => {
                    eprintln!(
                        "ok: {files_text}; {summary}; {warnings} warning{}",
                        if warnings == 1 { "" } else { "s" }
                    )
                }
                _ => eprintln!(
                    "error: {files_text} checked: {errors} error{}, {warnings} warning{}",
                    if errors == 1 { "" } else { "s" },
                    if warnings == 1 { "" } else { "s" }
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
