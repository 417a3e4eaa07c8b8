//! Regular expressions of a rule set: the syntax and size check of each
//! pattern as the compiler meets it ([`check_regex`], without building it),
//! and the final build of every regex of a compiled plan ([`build_all`]), so
//! that every command (`check`, `run`, `test`, `diff`, …) refuses the same
//! patterns and evaluation never builds one.

use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan::{Plan, PlanRegex};

/// Checks a regular expression's syntax without building it (building is
/// left to `Plan::prepare`, so `check` stays fast on large rule sets).
pub fn check_regex(pattern: &str, case_insensitive: bool) -> Result<(), String> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(pattern)
        .map_err(|e| {
            let text = e.to_string();
            text.lines().rev().find(|l| l.starts_with("error:")).map_or_else(
                || text.clone(),
                |l| l.trim_start_matches("error:").trim().to_string(),
            )
        })?;
    // The size limit applies to the Thompson NFA, which is cheap to build
    // (the costly parts of a regex are its prefilters and caches).
    regex_automata::nfa::thompson::Compiler::new()
        .configure(
            regex_automata::nfa::thompson::Config::new().nfa_size_limit(Some(PlanRegex::SIZE_LIMIT)),
        )
        .build_from_hir(&hir)
        .map(|_| ())
        .map_err(|_| {
            format!(
                "it is too large once compiled (over {} KiB); large counted repetitions such as `\\w{{100,}}` grow it",
                PlanRegex::SIZE_LIMIT / 1024
            )
        })
}

/// Builds every regular expression of `plan` (in parallel, see
/// [`Plan::prepare`]); returns an error for each one that cannot be built
/// (too large once compiled, beyond what [`check_regex`] can tell).
pub fn build_all(plan: &Plan) -> Vec<Diagnostic> {
    plan.prepare()
        .into_iter()
        .map(|(span, reason)| {
            Diagnostic::new(DiagnosticKind::RegexTooLarge { reason }, span).with_label("too large")
        })
        .collect()
}
