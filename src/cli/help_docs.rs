//! docs/cli.md shows the `--help` of every command; this test keeps those
//! blocks equal to what the binary prints, so they cannot drift.
//!
//! Each block follows a marker line `<!-- help: rubric COMMAND -->` (or
//! `<!-- help: rubric -->` for the top level) and is a fenced `text` block.
//! The help is rendered as `--help` prints it to a pipe: plain text, wrapped
//! at [`WIDTH`] columns. `RUBRIC_BLESS=1 cargo test --lib help_docs`
//! rewrites the blocks from the current definitions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use clap::CommandFactory as _;

use super::Cli;

/// The terminal width the documented help is wrapped at.
const WIDTH: usize = 100;

const CLI_MD: &str = include_str!("../../docs/cli.md");

/// What `rubric ARGS… --help` prints to a pipe: plain text wrapped at
/// [`WIDTH`], trailing spaces removed. (Through the parser, so the choice
/// between the short and the long layout is the one `--help` makes.)
fn help_of(args: &[&str]) -> String {
    let command = Cli::command().term_width(WIDTH).max_term_width(WIDTH);
    let mut argv = vec!["rubric"];
    argv.extend_from_slice(args);
    argv.push("--help");
    let text = match command.try_get_matches_from(argv) {
        Ok(_) => panic!("`rubric {} --help` did not print help", args.join(" ")),
        Err(help) => help.render().to_string(),
    };
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    format!("{}\n", lines.join("\n").trim_end())
}

/// `(marker, help text)` for the top level and every command, in order.
fn rendered_help() -> Vec<(String, String)> {
    let mut helps = vec![(String::from("<!-- help: rubric -->"), help_of(&[]))];
    for sub in Cli::command().get_subcommands() {
        let name = sub.get_name();
        helps.push((format!("<!-- help: rubric {name} -->"), help_of(&[name])));
    }
    helps
}

/// Where the fenced block after `marker` holds its text: the byte range of the
/// lines between the opening ```` ```text ```` and the closing ```` ``` ````.
fn block_after(document: &str, marker: &str) -> Option<std::ops::Range<usize>> {
    let at = document.find(marker)?;
    let fence = "```text\n";
    let open = at + document.get(at..)?.find(fence)? + fence.len();
    let rest = document.get(open..)?;
    // An empty block closes on its first line.
    let close = if rest.starts_with("```") {
        open
    } else {
        open + rest.find("\n```")? + 1
    };
    Some(open..close)
}

#[test]
fn docs_cli_md_shows_the_help_of_every_command() {
    let helps = rendered_help();
    if std::env::var_os("RUBRIC_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md");
        let mut document = std::fs::read_to_string(path).unwrap();
        for (marker, help) in &helps {
            if let Some(range) = block_after(&document, marker) {
                document.replace_range(range, help);
            }
        }
        std::fs::write(path, document).unwrap();
        return;
    }
    let mut problems = Vec::new();
    for (marker, help) in &helps {
        match block_after(CLI_MD, marker) {
            None => problems.push(format!(
                "docs/cli.md has no block for `{marker}`: add the marker line, then a ```text block"
            )),
            Some(range) if CLI_MD[range.clone()] != **help => problems.push(format!(
                "docs/cli.md's block after `{marker}` differs from --help:\n{}",
                similar::TextDiff::from_lines(&CLI_MD[range], help.as_str())
                    .unified_diff()
                    .header("docs/cli.md", "--help")
            )),
            Some(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nrun `RUBRIC_BLESS=1 cargo test --lib help_docs` to rewrite the blocks",
        problems.join("\n")
    );
}

#[test]
fn a_block_is_found_after_its_marker() {
    let document = "intro\n<!-- help: rubric x -->\n\n```text\nold\nhelp\n```\nafter\n";
    let range = block_after(document, "<!-- help: rubric x -->").unwrap();
    assert_eq!(&document[range], "old\nhelp\n");
    assert_eq!(block_after(document, "<!-- help: rubric y -->"), None);
    let empty = "<!-- help: rubric x -->\n```text\n```\n\n```text\nnext\n```\n";
    let range = block_after(empty, "<!-- help: rubric x -->").unwrap();
    assert_eq!(range, 32..32);
}

/// The synopsis lines of `rubric NAME` (its first line and the indented
/// lines that continue it) in the first block of docs/cli.md.
fn synopsis_of(document: &str, name: &str) -> String {
    let block = block_after(document, "# The `rubric` command line").map_or("", |range| &document[range]);
    let mut synopsis = String::new();
    let mut inside = false;
    for line in block.lines() {
        if line.starts_with("rubric ") {
            inside = line.split_whitespace().nth(1) == Some(name);
        }
        if inside {
            synopsis.push_str(line);
            synopsis.push('\n');
        }
    }
    synopsis
}

#[test]
fn the_synopsis_of_docs_cli_md_names_every_flag() {
    let command = Cli::command();
    let mut missing = Vec::new();
    for sub in command.get_subcommands() {
        let synopsis = synopsis_of(CLI_MD, sub.get_name());
        if synopsis.is_empty() {
            missing.push(format!("`rubric {}` has no synopsis line", sub.get_name()));
            continue;
        }
        for long in sub.get_arguments().filter_map(clap::Arg::get_long) {
            if !synopsis.contains(&format!("[--{long}")) && !synopsis.contains(&format!("--{long} ")) {
                missing.push(format!("`rubric {}`: `--{long}`", sub.get_name()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the synopsis at the top of docs/cli.md lacks:\n{}",
        missing.join("\n")
    );
}
