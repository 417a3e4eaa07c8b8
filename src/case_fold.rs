//! The one rule behind every `ignoring case` (`==`, `!=`, `in`, `not in`,
//! `starts with`, `ends with`, `contains` and `matches`): two characters are
//! equal when Unicode simple case folding makes them the same character.
//!
//! Simple case folding (CaseFolding.txt, statuses C and S) maps one character
//! to one character, so `"ſALESFORCE" contains "salesforce" ignoring case`
//! (`ſ` folds to `s`) and `"K"` (the Kelvin sign) equals `"k"`, while `ß`
//! stays `ß` (only full folding turns it into `ss`). It is what the regex
//! engine's `(?i)` does, so `matches … ignoring case` agrees with the other
//! tests by construction; the equivalence classes come from the same table
//! (`regex_syntax`), not from a copy of it. See docs/language.md §8.2 and
//! docs/decisions.md.

use std::borrow::Cow;

use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};

/// One representative of `c`'s simple case folding class: the same for every
/// character of the class. ASCII letters fold to their lower case, and so do
/// the non-ASCII characters of their class (`ſ` → `s`, `K` → `k`).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
    if class.try_case_fold_simple().is_err() {
        return c;
    }
    let members = || class.iter().flat_map(|range| range.start()..=range.end());
    // The representative depends on the class only, never on `c`: an ASCII
    // member (lower-cased), else the smallest lower-case member, else the smallest.
    if let Some(ascii) = members().find(char::is_ascii) {
        return ascii.to_ascii_lowercase();
    }
    members()
        .find(|m| m.is_lowercase())
        .or_else(|| members().next())
        .unwrap_or(c)
}

/// `text` with every character folded ([`fold_char`]); borrowed when that
/// changes nothing, as for lower-case ASCII.
pub fn fold_text(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().map(fold_char).collect())
    }
}

/// Whether two texts are equal ignoring case.
pub fn eq_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars().map(fold_char).eq(b.chars().map(fold_char))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_the_long_s_and_the_kelvin_sign_to_ascii() {
        assert_eq!(fold_char('ſ'), 's');
        assert_eq!(fold_char('S'), 's');
        assert_eq!(fold_char('\u{212A}'), 'k');
        assert_eq!(fold_text("ſALESFORCE"), "salesforce");
        assert!(eq_ignoring_case("ſALESFORCE", "Salesforce"));
    }

    #[test]
    fn folds_each_class_to_one_character_and_keeps_sharp_s() {
        // Σ, σ and final ς are one class.
        assert_eq!(fold_char('Σ'), fold_char('ς'));
        assert_eq!(fold_char('Σ'), fold_char('σ'));
        assert_eq!(fold_text("ÉCOLE"), "école");
        assert!(eq_ignoring_case("Straße", "STRAẞE"));
        // Simple folding maps one character to one: ß is not `ss`.
        assert!(!eq_ignoring_case("straße", "strasse"));
        // The dotted capital I has no simple folding.
        assert!(!eq_ignoring_case("İ", "i"));
    }

    #[test]
    fn agrees_with_the_regex_engine_on_every_character_pair_it_folds() {
        // Latin, Greek and a few odd ones out: for each pair, `(?i)` and
        // `eq_ignoring_case` give the same answer.
        let chars: Vec<char> = (0u32..0x250)
            .chain(0x370..0x400)
            .chain([0x1E9E, 0x212A, 0x212B])
            .filter_map(char::from_u32)
            .collect();
        for &c in &chars {
            let Ok(re) = regex::Regex::new(&format!("(?i)^{}$", regex::escape(&c.to_string()))) else {
                continue;
            };
            for &d in &chars {
                let (c, d) = (c.to_string(), d.to_string());
                assert_eq!(re.is_match(&d), eq_ignoring_case(&c, &d), "{c:?} vs {d:?}");
            }
        }
    }
}
