//! `rubric fmt [--check] PATH|-`: rewrite rule files in the canonical layout,
//! or (`--check`) print what would change as a unified diff and exit 1. With
//! `-` the rule text is read from stdin and the formatted text written to
//! stdout, for editors that format on save. A file keeps its line endings
//! ([`crate::fmt::format_keeping_line_endings`]).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use clap::Args;

use super::color::ColorChoice;
use super::exit::{finish_output, usage_error, Exit};
use crate::atomic_file::write_atomically;
use crate::fmt::line_endings::{to_lf, LineEndingCounts};
use crate::fmt::Change;
use crate::source::{SourceFile, Sources};

/// The name of standard input in diffs and messages.
const STDIN_NAME: &str = "<stdin>";

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// A `.rubric` file or a directory of them, or `-` to format stdin to stdout.
    path: PathBuf,
    /// Change nothing: print a diff of what would change and exit 1 if anything would.
    #[arg(long)]
    check: bool,
    /// No summary line on stderr (diffs, errors and what stdin becomes are still shown).
    #[arg(short, long)]
    quiet: bool,
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

/// What `--check` prints for a file whose only change is its line endings
/// (a diff would show lines that look the same).
fn line_endings_note(name: &str, original: &str, formatted: &str) -> String {
    let before = LineEndingCounts::of(original);
    let after = LineEndingCounts::of(formatted).dominant();
    let lf_lines = if before.lf == 1 {
        String::from("1 line ends")
    } else {
        format!("{} lines end", before.lf)
    };
    format!(
        "{name}: only line endings would change ({lf_lines} in LF, {} in CRLF; all would end in {})\n",
        before.crlf,
        after.name()
    )
}

/// What `--check` prints for one file that would change.
fn check_report(name: &str, original: &str, formatted: &str) -> String {
    match crate::fmt::change(original, formatted) {
        Change::Unchanged => String::new(),
        Change::LineEndingsOnly => line_endings_note(name, original, formatted),
        // The diff is of `\n` text: a `\r` would show as part of every line.
        Change::Layout => diff(name, &to_lf(original), &to_lf(formatted)),
    }
}

/// Formats `text`, printing syntax errors (against the `\n` text, which the
/// spans point into) on stderr.
fn format_or_report(name: &str, text: &str, color: bool) -> Option<String> {
    match crate::fmt::format_keeping_line_endings(text) {
        Ok(formatted) => Some(formatted),
        Err(diagnostics) => {
            let mut one = Sources::default();
            one.add(SourceFile::new(name.to_string(), to_lf(text).into_owned()));
            eprint!("{}", crate::diagnostics::render(&diagnostics, &one, color));
            None
        }
    }
}

pub fn run(args: &FmtArgs) -> Result<Exit, Exit> {
    if args.path.as_os_str() == "-" {
        return run_stdin(args);
    }
    let sources = Sources::load(&args.path).map_err(usage_error)?;
    let mut failed = false;
    let mut changed = 0usize;
    let mut out = std::io::stdout().lock();
    for file in &sources.files {
        let Some(formatted) = format_or_report(&file.name, &file.text, args.color.for_stderr()) else {
            failed = true;
            continue;
        };
        if formatted == *file.text {
            continue;
        }
        changed += 1;
        if args.check {
            if out
                .write_all(check_report(&file.name, &file.text, &formatted).as_bytes())
                .is_err()
            {
                return Err(Exit::Usage);
            }
        } else {
            write_rule_file(&file.name, &formatted)?;
        }
    }
    let files = sources.files.len();
    if failed {
        eprintln!("error: files with syntax errors were left unchanged");
        return Ok(Exit::RuleErrors);
    }
    if args.check {
        if changed > 0 {
            if !args.quiet {
                eprintln!("rubric fmt: {changed} of {files} files would be reformatted");
            }
            return Ok(Exit::RuleErrors);
        }
        if !args.quiet {
            eprintln!(
                "rubric fmt: {files} file{} already formatted",
                if files == 1 { "" } else { "s" }
            );
        }
    } else if !args.quiet {
        eprintln!("rubric fmt: {changed} of {files} files reformatted");
    }
    Ok(Exit::Success)
}

/// Rewrites a rule file atomically ([`write_atomically`]). A file loaded
/// through a symbolic link (which [`Sources::load`] only follows inside the
/// rule directory) is written at the link's target, so the link stays a link.
fn write_rule_file(name: &str, formatted: &str) -> Result<(), Exit> {
    let path = std::path::Path::new(name);
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| usage_error(format!("cannot write `{name}`: {e}")))?
        }
        _ => path.to_path_buf(),
    };
    write_atomically(&target, formatted.as_bytes())
        .map_err(|e| usage_error(format!("cannot write `{name}`: {e}")))
}

/// `rubric fmt -`: the formatted text of stdin on stdout, nothing else (on a
/// syntax error, nothing on stdout and exit 1, so an editor keeps its
/// buffer); with `--check`, the diff on stdout and exit 1 if stdin is not
/// formatted.
fn run_stdin(args: &FmtArgs) -> Result<Exit, Exit> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| usage_error(format!("cannot read the rules on stdin: {e}")))?;
    let Some(formatted) = format_or_report(STDIN_NAME, &text, args.color.for_stderr()) else {
        eprintln!("error: the rules on stdin have syntax errors; nothing was written");
        return Ok(Exit::RuleErrors);
    };
    let output = if args.check {
        check_report(STDIN_NAME, &text, &formatted)
    } else {
        formatted.clone()
    };
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(output.as_bytes()).and_then(|()| out.flush())
    };
    finish_output(written)?;
    if args.check && formatted != text {
        if !args.quiet {
            eprintln!("rubric fmt: {STDIN_NAME} would be reformatted");
        }
        return Ok(Exit::RuleErrors);
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_says_when_only_line_endings_change() {
        let report = check_report("a.rubric", "x\r\ny\n\r\n", "x\r\ny\r\n\r\n");
        assert_eq!(
            report,
            "a.rubric: only line endings would change (1 line ends in LF, 2 in CRLF; all would end in CRLF)\n"
        );
    }

    #[test]
    fn check_diffs_crlf_files_without_carriage_returns() {
        let report = check_report("a.rubric", "a  =  1\r\n", "a = 1\r\n");
        assert!(report.contains("-a  =  1\n+a = 1\n"), "{report}");
        assert!(!report.contains('\r'), "{report:?}");
    }

    #[test]
    fn an_unchanged_file_has_no_report() {
        assert_eq!(check_report("a.rubric", "a\r\n", "a\r\n"), "");
    }
}
