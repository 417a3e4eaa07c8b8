//! The command line: argument parsing, the exit-code contract (docs/cli.md#exit-status), and
//! one file per command, each an `fn run(&Args) -> Result<Exit, Exit>` that
//! turns arguments into calls and reports the result. The only place that
//! prints or exits.

mod actions;
mod apply;
mod check;
mod completions;
mod diff;
mod explain;
mod fmt;
#[cfg(test)]
mod help_docs;
mod input;
mod plan;
mod progress;
mod run;
mod sync_command;
mod test;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit statuses (docs/cli.md#exit-status and the top-level `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Success,
    /// 1: the rule set has errors (or tests fail, or `fmt --check` finds changes).
    RuleErrors,
    /// 2: usage error (bad arguments, unreadable files).
    Usage,
    /// 3: the command completed but some input lines were rejected.
    Rejected,
    /// 4: `diff --exit-code` found contacts whose band, audience, workflow,
    /// route or queue changes.
    Changed,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(match e {
            Exit::Success => 0,
            Exit::RuleErrors => 1,
            Exit::Usage => 2,
            Exit::Rejected => 3,
            Exit::Changed => 4,
        })
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "rubric",
    version,
    about = "Lead scoring, bands, audiences, nurture workflows and sales routing as code",
    long_about = "rubric compiles rule files (`*.rubric`) that score contacts on fit and intent, \
turn scores into bands, and decide audiences, workflows, routes and suppressions; then it \
evaluates them on contact snapshots (JSON Lines or CSV).\n\n\
Exit status: 0 success; 1 the rule set has errors (or rule tests fail, or `fmt --check` finds changes); 2 usage error; 3 completed but some input lines were rejected; \
4 `diff --exit-code` found contacts that the change moves."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse, resolve and type-check a rule set; diagnostics on stderr.
    Check(check::CheckArgs),
    /// Evaluate a rule set on a contact snapshot; one result per contact on stdout.
    Run(run::RunArgs),
    /// Show every decision behind one or more contacts' results.
    Explain(explain::ExplainArgs),
    /// Rewrite rule files in the canonical layout (`--check`: only report, exit 1 on changes).
    Fmt(fmt::FmtArgs),
    /// Run the rule set's YAML test files (`*.test.yaml`, `tests/*.yaml`).
    Test(test::TestArgs),
    /// The impact of a rule change on a snapshot: band transitions, target and score changes.
    Diff(diff::DiffArgs),
    /// Show the actions an apply would emit now (audience, workflow, task, band changes); changes nothing.
    Plan(plan::PlanArgs),
    /// Emit the actions against the last applied state and commit the new state.
    Apply(apply::ApplyArgs),
    /// List applied runs, or export one run's actions again.
    Actions(actions::ActionsArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) on stdout.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) of rubric, or of one command, on stdout.
    Man(completions::ManArgs),
}

/// When to colour output meant for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour stderr. `auto` colours only a terminal that can show
    /// colour: never with `NO_COLOR` set (https://no-color.org), with
    /// `TERM=dumb` or with `CLICOLOR=0`; always with `CLICOLOR_FORCE` (the
    /// conventions anstream implements, as cargo and ripgrep do).
    pub fn for_stderr(self) -> bool {
        self.resolve(|| anstream::AutoStream::choice(&std::io::stderr()))
    }

    /// Whether to colour stdout, by the same rules as [`ColorChoice::for_stderr`].
    pub fn for_stdout(self) -> bool {
        self.resolve(|| anstream::AutoStream::choice(&std::io::stdout()))
    }

    fn resolve(self, auto: impl FnOnce() -> anstream::ColorChoice) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !matches!(auto(), anstream::ColorChoice::Never),
        }
    }
}

/// Entry point of the binary.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Exit::Success.into()
                }
                _ => Exit::Usage.into(),
            };
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Actions(args) => actions::run(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    };
    // Every command returns its exit status either way: `Err` when it
    // stopped early (after printing why).
    let exit = match result {
        Ok(exit) | Err(exit) => exit,
    };
    exit.into()
}

/// Prints a usage-level error (not a rule diagnostic) and returns exit 2.
fn usage_error(message: impl std::fmt::Display) -> Exit {
    eprintln!("error: {message}");
    Exit::Usage
}

/// Turns the result of writing a command's output into its exit: a closed
/// pipe (`rubric run … | head`) is the reader's choice and ends quietly with
/// success; any other write failure is reported (exit 2).
pub fn finish_output(written: std::io::Result<()>) -> Result<(), Exit> {
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Exit::Success),
        Err(e) => Err(usage_error(format!("cannot write the output: {e}"))),
    }
}

/// Parses `--as-of`: RFC 3339 with an offset, or a bare date (midnight UTC).
pub fn parse_as_of(text: Option<&str>) -> Result<i64, String> {
    match text {
        None => Ok(chrono::Utc::now().timestamp_micros()),
        Some(t) => crate::snapshot::parse_timestamp(t).ok_or_else(|| {
            format!("`--as-of {t}` is not an RFC 3339 timestamp with an offset (e.g. 2026-11-28T00:00:00Z) or a date (2026-11-28)")
        }),
    }
}

/// Compiles loaded sources, printing diagnostics; `Err` carries the exit code.
pub fn compile_sources(
    sources: &crate::source::Sources,
    color: bool,
) -> Result<crate::compile::Compiled, Exit> {
    compile_sources_seeded(sources, color, None)
}

/// [`compile_sources`], with the slots of another plan as a seed
/// ([`crate::compile::compile_with_seed`]; `diff`).
pub fn compile_sources_seeded(
    sources: &crate::source::Sources,
    color: bool,
    seed: Option<&crate::snapshot::DecodeSpec>,
) -> Result<crate::compile::Compiled, Exit> {
    let compiled = match seed {
        Some(seed) => crate::compile::compile_with_seed(sources, seed),
        None => crate::compile::compile(sources),
    };
    match compiled {
        Ok(compiled) => {
            if !compiled.warnings.is_empty() {
                eprint!(
                    "{}",
                    crate::diagnostics::render(&compiled.warnings, sources, color)
                );
            }
            // Build every regex now, so evaluation never does. The compiler
            // checked them all: a failure here is an internal error.
            if let Err(internal) = crate::compile::build_regexes(&compiled.plan) {
                eprint!("{}", crate::diagnostics::render(&internal, sources, color));
                return Err(Exit::RuleErrors);
            }
            Ok(compiled)
        }
        Err(diagnostics) => {
            eprint!("{}", crate::diagnostics::render(&diagnostics, sources, color));
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "error: the rule set has {errors} error{}",
                if errors == 1 { "" } else { "s" }
            );
            Err(Exit::RuleErrors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ColorChoice;

    #[test]
    fn an_explicit_colour_choice_wins_over_the_terminal_and_the_environment() {
        let never = || anstream::ColorChoice::Never;
        let always = || anstream::ColorChoice::Always;
        assert!(ColorChoice::Always.resolve(never));
        assert!(!ColorChoice::Never.resolve(always));
        assert!(ColorChoice::Auto.resolve(always));
        assert!(!ColorChoice::Auto.resolve(never));
    }
}
