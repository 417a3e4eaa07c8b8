//! The exit-status contract of the command line (docs/cli.md#exit-status):
//! [`Exit`] and its process exit code, plus the two ways a command turns a
//! failure into one: a usage error, and a failed write of its output.

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

/// Prints a usage-level error (not a rule diagnostic) and returns exit 2.
pub fn usage_error(message: impl std::fmt::Display) -> Exit {
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
