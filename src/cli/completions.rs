//! `rubric completions SHELL` and `rubric man [COMMAND]`: shell completion
//! scripts and roff man pages, generated from the same clap definitions as
//! `--help`, so they list exactly the commands and flags the binary accepts.

use std::io::Write as _;

use clap::{Args, CommandFactory as _};

use super::{Cli, Exit};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate the completion script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command (`run`, `diff` …) whose own page (`rubric-run(1)`) to print
    /// instead of the page of `rubric` itself.
    command: Option<String>,
}

/// Prints the completion script of `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<Exit, Exit> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "rubric", &mut script);
    write_stdout(&script)
}

/// Prints the man page (roff) of `rubric`, or of one of its commands, on stdout.
pub fn man(args: &ManArgs) -> Result<Exit, Exit> {
    let page = man_page(args.command.as_deref()).map_err(super::usage_error)?;
    write_stdout(&page)
}

/// The roff text of the man page of `rubric` (`None`) or of one command.
fn man_page(command_name: Option<&str>) -> Result<Vec<u8>, String> {
    let mut command = Cli::command();
    command.build();
    let page_command = match command_name {
        None => command,
        Some(name) => {
            let names: Vec<String> = command
                .get_subcommands()
                .map(|s| s.get_name().to_string())
                .collect();
            let Some(sub) = command.find_subcommand(name) else {
                return Err(format!(
                    "`{name}` is not a rubric command (one of: {})",
                    names.join(", ")
                ));
            };
            // `build` named it `rubric-run` (the page `rubric-run(1)`) and
            // its synopsis reads `rubric run …`.
            sub.clone().version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(page_command)
        .render(&mut page)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    Ok(page)
}

fn write_stdout(bytes: &[u8]) -> Result<Exit, Exit> {
    let mut out = std::io::stdout().lock();
    super::finish_output(out.write_all(bytes).and_then(|()| out.flush()))?;
    Ok(Exit::Success)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_of_rubric_lists_every_command() {
        let page = String::from_utf8(man_page(None).unwrap()).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
        for command in [
            "check",
            "run",
            "explain",
            "fmt",
            "test",
            "diff",
            "plan",
            "apply",
            "completions",
            "man",
        ] {
            assert!(
                page.contains(&format!("rubric\\-{command}")),
                "{command} missing:\n{page}"
            );
        }
    }

    #[test]
    fn a_command_page_is_named_after_rubric_and_the_command() {
        let page = String::from_utf8(man_page(Some("diff")).unwrap()).unwrap();
        assert!(page.contains(".TH rubric-diff 1"), "{page}");
        assert!(page.contains("\\-\\-exit\\-code"), "{page}");
    }

    #[test]
    fn an_unknown_command_has_no_page() {
        let error = man_page(Some("frobnicate")).unwrap_err();
        assert!(error.contains("`frobnicate` is not a rubric command"), "{error}");
    }
}
