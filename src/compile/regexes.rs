//! Regular expressions of a rule set: the complete check of each pattern as
//! the compiler meets it ([`check_regex`]: syntax and size, without building
//! it), so that every command (`check`, `run`, `test`, `diff`, …) refuses the
//! same patterns; and the build of every regex of a compiled plan before
//! evaluation ([`build_all`], which cannot fail on checked patterns).

use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan::{Plan, PlanRegex};

/// Checks a regular expression completely without building it: its syntax,
/// and the size limit exactly where building it would apply it. Building is
/// left to [`Plan::prepare`] (so `check` stays fast on large rule sets), and
/// it cannot fail on a pattern this accepts.
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
    // `regex` applies its size limit to two Thompson NFAs: the forward one
    // (with captures) and the reverse one (without), which its DFAs need; a
    // Unicode class makes the reverse one the larger (`\w{30}`). Both are
    // cheap to build: the costly parts of a regex are its prefilters and DFAs.
    use regex_automata::nfa::thompson::{Compiler, Config, WhichCaptures};
    let config = Config::new()
        .nfa_size_limit(Some(PlanRegex::SIZE_LIMIT))
        .shrink(false);
    let forward = Compiler::new().configure(config.clone()).build_from_hir(&hir);
    let reverse = || {
        Compiler::new()
            .configure(config.clone().which_captures(WhichCaptures::None).reverse(true))
            .build_from_hir(&hir)
    };
    forward
        .and_then(|_| reverse())
        .map(|_| ())
        .map_err(|_| {
            format!(
                "it is too large once compiled (over {} KiB); large counted repetitions such as `\\w{{100,}}` grow it",
                PlanRegex::SIZE_LIMIT / 1024
            )
        })
}

/// Builds every regular expression of a compiled plan (in parallel, see
/// [`Plan::prepare`]), so that evaluation never builds one. The compiler has
/// checked each with [`check_regex`], so one that cannot be built is a broken
/// invariant: an internal error, returned rather than left for evaluation.
pub fn build_all(plan: &Plan) -> Result<(), Vec<Diagnostic>> {
    let unbuilt: Vec<Diagnostic> = plan
        .prepare()
        .into_iter()
        .map(|(span, reason)| {
            Diagnostic::new(DiagnosticKind::InternalRegexNotBuilt { reason }, span)
                .with_label("checked, not built")
        })
        .collect();
    if unbuilt.is_empty() {
        Ok(())
    } else {
        Err(unbuilt)
    }
}
