//! Rule diagnostics: what a problem is ([`DiagnosticKind`], with its code,
//! message and help), where it is ([`Diagnostic`]: span, label, notes,
//! severity), did-you-mean, and the four renderers in [`mod@render`]: `human`
//! (miette reports), `json`, `github` (workflow commands) and `sarif`.
//!
//! `kind.rs` holds the words, `diagnostic.rs` the placed diagnostic, and the
//! renderers import those two files directly (never this one).
//!
//! Every code is listed in `docs/errors.md`; a unit test below checks that
//! the page and [`Code::ALL`] name exactly the same codes. Lints are
//! variants of [`DiagnosticKind`] too (codes `rubric::lint::<name>`, always
//! warnings); [`Lint`] names them for `# rubric: allow(…)` comments.

mod diagnostic;
mod kind;
pub mod render;

pub use diagnostic::{Diagnostic, Note, Severity};
pub use kind::{Code, DiagnosticKind, Lint, SyntaxHint, TypeAdvice};
pub use render::human::{render, MietteReport};
pub use render::json::JsonDiagnostic;

/// The code of internal errors: a broken invariant of rubric itself.
pub const INTERNAL: &str = Code::Internal.as_str();

/// The longest name, in characters, that [`did_you_mean`] compares: both
/// measures it uses take time proportional to the product of the two
/// lengths, so a longer name or candidate is never suggested nor compared.
pub const DID_YOU_MEAN_MAX_CHARS: usize = 64;

/// True when `text` has more than [`DID_YOU_MEAN_MAX_CHARS`] characters,
/// found without counting past the limit.
fn too_long_to_compare(text: &str) -> bool {
    text.chars().nth(DID_YOU_MEAN_MAX_CHARS).is_some()
}

/// The closest candidate to `name` by edit distance, when close enough to be a
/// plausible typo.
///
/// Names and candidates longer than [`DID_YOU_MEAN_MAX_CHARS`] are skipped,
/// so the work per candidate is bounded and `check` stays linear in the size
/// of the rule set, whatever the length of its names (issue 17, item 8: a
/// 30,000-character name next to an unknown one took 7.9 s).
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    if too_long_to_compare(name) {
        return None;
    }
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == name || too_long_to_compare(candidate) {
            continue;
        }
        let score = strsim::jaro_winkler(&lower, &candidate.to_lowercase());
        let distance = strsim::damerau_levenshtein(&lower, &candidate.to_lowercase());
        let close = distance <= 2.max(name.chars().count() / 3) || score >= 0.88;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, Code, Lint};

    #[test]
    fn suggests_close_names_only() {
        let names = ["readiness", "fit_tier", "intent", "fit"];
        assert_eq!(did_you_mean("readines", names), Some("readiness"));
        assert_eq!(did_you_mean("intnet", names), Some("intent"));
        assert_eq!(did_you_mean("company_size", names), None);
    }

    /// Issue 17, item 8: with a 30,000-character candidate (or name) the
    /// comparison was quadratic (7.9 s). Such names are now skipped before
    /// any distance is computed, so this takes microseconds.
    #[test]
    fn very_long_names_are_neither_compared_nor_suggested() {
        let long = "a".repeat(30_000);
        let near_miss = format!("{}b", "a".repeat(29_999));
        let started = std::time::Instant::now();
        assert_eq!(did_you_mean(&near_miss, [long.as_str()]), None);
        assert_eq!(
            did_you_mean("readines", [long.as_str(), "readiness"]),
            Some("readiness")
        );
        assert_eq!(did_you_mean(&long, ["readiness"]), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // The limit itself still compares: a 64-character name finds its typo.
        let at_limit = "x".repeat(super::DID_YOU_MEAN_MAX_CHARS);
        let typo = format!("{}y", "x".repeat(super::DID_YOU_MEAN_MAX_CHARS - 1));
        assert_eq!(did_you_mean(&typo, [at_limit.as_str()]), Some(at_limit.as_str()));
    }

    /// The codes `docs/errors.md` documents: its section headings.
    fn documented_codes() -> Vec<String> {
        let page = include_str!("../../docs/errors.md");
        page.lines()
            .filter(|l| l.starts_with("## `rubric::") || l.starts_with("### `rubric::"))
            .map(|l| l.trim_start_matches('#').trim().trim_matches('`').to_string())
            .collect()
    }

    #[test]
    fn errors_md_documents_exactly_the_codes() {
        let documented = documented_codes();
        let known: Vec<String> = Code::ALL.iter().map(|c| c.as_str().to_string()).collect();
        let missing: Vec<&String> = known.iter().filter(|c| !documented.contains(c)).collect();
        let unknown: Vec<&String> = documented.iter().filter(|c| !known.contains(c)).collect();
        assert!(
            missing.is_empty(),
            "codes without a section in docs/errors.md: {missing:?}"
        );
        assert!(
            unknown.is_empty(),
            "sections of docs/errors.md for no code: {unknown:?}"
        );
        // The summary tables at the top link every code too.
        let page = include_str!("../../docs/errors.md");
        for code in &known {
            assert!(
                page.contains(&format!("| [`{code}`](#")),
                "{code} is missing from the tables of docs/errors.md"
            );
        }
        let mut sorted = documented.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), documented.len(), "a code has two sections");
    }

    #[test]
    fn lint_names_are_their_codes_without_the_prefix() {
        for lint in Lint::ALL {
            assert_eq!(format!("rubric::lint::{}", lint.name()), lint.code().as_str());
            assert_eq!(Lint::from_name(lint.name()), Some(lint));
        }
    }
}
