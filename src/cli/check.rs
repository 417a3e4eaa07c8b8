//! `rubric check PATH`: parse, resolve, type-check and lint a rule set, and
//! report the diagnostics for people (`human`), tools (`json`) or CI
//! (`github` workflow commands, `sarif`).

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{usage_error, Exit};
use crate::diagnostics::render::{self, json::JsonReport};
use crate::diagnostics::Severity;
use crate::source::Sources;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A `.rubric` file or a directory of them (one rule set).
    path: PathBuf,
    /// `human` (miette reports on stderr), `json` (one report object on stdout),
    /// `github` (GitHub Actions annotations on stdout) or `sarif` (SARIF 2.1.0 on stdout).
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Treat warnings (lints) as errors: report them as errors and exit 1.
    #[arg(long)]
    deny_warnings: bool,
    /// No `ok:` line when the rule set is clean (diagnostics are still shown).
    #[arg(short, long)]
    quiet: bool,
    /// Colour for people: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
    Github,
    Sarif,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The count of channels declared with `channel NAME`, when there are some.
fn declared_channels(plan: &crate::plan::Plan) -> Option<(usize, &'static str)> {
    let declared = plan
        .channels
        .len()
        .saturating_sub(crate::plan::Channel::BUILT_IN.len());
    (declared > 0).then_some((declared, "declared channel"))
}

pub fn run(args: &CheckArgs) -> Result<Exit, Exit> {
    let sources = Sources::load(&args.path).map_err(usage_error)?;
    let (mut diagnostics, summary) = match crate::compile::compile_and_lint(&sources) {
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
            // Goals are listed only when there are some: most rule sets
            // declare none, and a `0 goals` would read like a problem.
            .chain((!s.goals.is_empty()).then_some(&(s.goals.len(), "goal")))
            .copied()
            // Declared channels likewise (ads, email and sales are built in).
            .chain(declared_channels(s))
            // Lookup tables (`table NAME by …`) likewise.
            .chain((!s.routing.tables.is_empty()).then_some((s.routing.tables.len(), "table")))
            .map(|(n, word)| plural(n, word))
            .collect::<Vec<_>>()
            .join(", ");
            (compiled.warnings, Some(summary))
        }
        Err(d) => (d, None),
    };
    if args.deny_warnings {
        for d in &mut diagnostics {
            d.severity = Severity::Error;
        }
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let written = match args.format {
        CheckFormat::Json => {
            let report = JsonReport::new(&diagnostics, &sources);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report).is_ok() && writeln!(out).is_ok()
        }
        CheckFormat::Github => {
            let text = render::github::github(&diagnostics, &sources);
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).is_ok()
        }
        CheckFormat::Sarif => {
            let report = render::sarif::sarif(&diagnostics, &sources);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &report).is_ok() && writeln!(out).is_ok()
        }
        CheckFormat::Human => {
            let color = args.color.for_stderr();
            eprint!("{}", render::human::render(&diagnostics, &sources, color));
            let files = plural(sources.files.len(), "file");
            match summary {
                Some(_) if errors == 0 && args.quiet => {}
                Some(summary) if errors == 0 => {
                    eprintln!("ok: {files}; {summary}; {}", plural(warnings, "warning"))
                }
                _ => eprintln!(
                    "error: {files} checked: {}, {}",
                    plural(errors, "error"),
                    plural(warnings, "warning")
                ),
            }
            true
        }
    };
    if !written {
        return Err(Exit::Usage);
    }
    if errors > 0 {
        Ok(Exit::RuleErrors)
    } else {
        Ok(Exit::Success)
    }
}
