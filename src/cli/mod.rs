//! The command line: the clap definitions of `rubric` and its commands, and
//! `main`'s dispatch to one file per command, each an
//! `fn run(&Args) -> Result<Exit, Exit>` that turns arguments into calls and
//! reports the result. The exit-code contract (docs/cli.md#exit-status) is in
//! `exit.rs`, `--color` in `color.rs`, and what the commands load alike (rules,
//! as-of, snapshot) in `input.rs`. The only place that prints or exits.

mod actions;
mod apply;
mod check;
mod color;
mod completions;
mod diff;
mod exit;
mod explain;
mod fmt;
#[cfg(test)]
mod help_docs;
mod input;
mod measure;
mod plan;
mod progress;
mod run;
mod sync_command;
mod test;

use clap::{CommandFactory as _, Parser, Subcommand};

use exit::Exit;

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
    /// Judge a rule set by the outcomes it predicts: conversion by band value, score AUC, thresholds.
    Measure(measure::MeasureArgs),
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
        Command::Measure(args) => measure::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Actions(args) => actions::run(&args),
        Command::Completions(args) => completions::completions(&args, Cli::command()),
        Command::Man(args) => completions::man(&args, Cli::command()),
    };
    // Every command returns its exit status either way: `Err` when it
    // stopped early (after printing why).
    let exit = match result {
        Ok(exit) | Err(exit) => exit,
    };
    exit.into()
}
