//! `rubric fmt [--check] PATH`: rewrite rule files in the canonical layout,
//! or (`--check`) print what would change as a unified diff and exit 1.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use super::{ColorChoice, Exit};
use crate::source::{SourceFile, Sources};

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// A `.rubric` file or a directory of them.
    path: PathBuf,
    /// Change nothing: print a diff of what would change and exit 1 if anything would.
    #[arg(long)]
    check: bool,
    /// Colour of syntax errors: auto (terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// The unified diff of a file's text before and after formatting.
pub fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(name, name)
        .to_string()
}

pub fn run(args: &FmtArgs) -> Result<Exit, Exit> {
    let sources = Sources::load(&args.path).map_err(super::usage_error)?;
    let mut failed = false;
    let mut changed = 0usize;
    let mut out = std::io::stdout().lock();
    for file in &sources.files {
        let formatted = match crate::fmt::format_source(&file.text) {
            Ok(f) => f,
            Err(diagnostics) => {
                let mut one = Sources::default();
                one.add(SourceFile::new(file.name.clone(), file.text.clone()));
                eprint!(
                    "{}",
                    crate::diagnostics::render(&diagnostics, &one, args.color.for_stderr())
                );
                failed = true;
                continue;
            }
        };
        if formatted == *file.text {
            continue;
        }
        changed += 1;
        if args.check {
            if out
                .write_all(diff(&file.name, &file.text, &formatted).as_bytes())
                .is_err()
            {
                return Err(Exit::Usage);
            }
        } else {
            std::fs::write(&file.name, formatted)
                .map_err(|e| super::usage_error(format!("cannot write `{}`: {e}", file.name)))?;
        }
    }
    let files = sources.files.len();
    if failed {
        eprintln!("error: files with syntax errors were left unchanged");
        return Ok(Exit::RuleErrors);
    }
    if args.check {
        if changed > 0 {
            eprintln!("rubric fmt: {changed} of {files} files would be reformatted");
            return Ok(Exit::RuleErrors);
        }
        eprintln!(
            "rubric fmt: {files} file{} already formatted",
            if files == 1 { "" } else { "s" }
        );
    } else {
        eprintln!("rubric fmt: {changed} of {files} files reformatted");
    }
    Ok(Exit::Success)
}
