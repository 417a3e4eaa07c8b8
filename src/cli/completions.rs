//! `rubric completions SHELL` and `rubric man [COMMAND]`: shell completion
//! scripts and roff man pages, generated from the same clap definitions as
//! `--help`, so they list exactly the commands and flags the binary accepts.

use std::io::Write as _;

use clap::Args;

use super::exit::{finish_output, usage_error, Exit};

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

/// Prints the completion script of `args.shell` for `command` (the clap
/// definition of `rubric`) on stdout.
pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> Result<Exit, Exit> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "rubric", &mut script);
    write_stdout(&script)
}

/// Prints the man page (roff) of `rubric` (`command`, its clap definition),
/// or of one of its commands, on stdout.
pub fn man(args: &ManArgs, command: clap::Command) -> Result<Exit, Exit> {
    let page = man_page(command, args.command.as_deref()).map_err(usage_error)?;
    write_stdout(&page)
}

/// The roff text of the man page of `command` (`None`) or of one of its
/// commands.
fn man_page(mut command: clap::Command, command_name: Option<&str>) -> Result<Vec<u8>, String> {
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
    finish_output(out.write_all(bytes).and_then(|()| out.flush()))?;
    Ok(Exit::Success)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory as _;

    #[test]
    fn the_man_page_of_rubric_lists_every_command() {
        let page = String::from_utf8(man_page(Cli::command(), None).unwrap()).unwrap();
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
        let page = String::from_utf8(man_page(Cli::command(), Some("diff")).unwrap()).unwrap();
        assert!(page.contains(".TH rubric-diff 1"), "{page}");
        assert!(page.contains("\\-\\-exit\\-code"), "{page}");
    }

    #[test]
    fn an_unknown_command_has_no_page() {
        let error = man_page(Cli::command(), Some("frobnicate")).unwrap_err();
        assert!(error.contains("`frobnicate` is not a rubric command"), "{error}");
    }
}
