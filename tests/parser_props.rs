//! Property tests: parsing and compiling never panic, whatever the text.
//!
//! Inputs are arbitrary strings, soups of the language's own tokens, and the
//! reference playbook (`rules/*.rubric`) with random edits (a character or a
//! token deleted, inserted, duplicated or swapped): near-miss rule files are
//! what users actually write. Besides not panicking, every diagnostic must
//! have a span inside its file and must render, and compiling twice must give
//! the same diagnostics.

use proptest::prelude::*;
use proptest::sample::Index;

use rubric::compile::compile;
use rubric::diagnostics::render;
use rubric::source::{SourceFile, Sources};

/// The reference playbook, one (name, text) per file, sorted by name.
fn playbook() -> &'static [(String, String)] {
    static FILES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let mut files: Vec<(String, String)> = std::fs::read_dir("rules")
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rubric"))
            .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no rules/*.rubric files");
        files
    })
}

/// Words and symbols of the language, for token soups and token insertions.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "properties", "events", "const", "segment", "score", "band", "suppress", "audience", "workflow",
    "route", "when", "otherwise", "first", "each", "where", "within", "decay", "half-life", "max",
    "min", "and", "or", "not", "in", "is", "null", "true", "false", "matches", "starts", "ends",
    "with", "contains", "ignoring", "case", "count", "of", "any", "last", "on", "one", "task",
    "sla", "queue", "days", "hours", "months", "ads", "email", "sales", "fit", "intent",
    "readiness", "hot", "warm", "cold", "page_view", "url", "lower", "domain", "days_since", "{",
    "}", "(", ")", "[", "]", ",", ":", "=", "==", "!=", "<", "<=", ">", ">=", "=>", "..", "+", "-",
    "0", "7", "-30", "+10", "2.5", "99999999999999999999999999999999999999999", "\"", "\"x\"",
    "\"\\q\"", "/", "/x/i", "/(/", "/a/gz", "#", "\n", "\\", "'", "0..0", "100..0", "ä", "✓",
];

/// Compiles one file and checks the invariants that hold for any input.
fn check_one(name: &str, text: &str) {
    let mut sources = Sources::default();
    sources.add(SourceFile::new(name, text));
    check_sources(&sources);
}

fn diagnostics_of(sources: &Sources) -> Vec<rubric::diagnostics::Diagnostic> {
    match compile(sources) {
        Ok(compiled) => compiled.warnings,
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "a failed compile must say why");
            diagnostics
        }
    }
}

fn check_sources(sources: &Sources) {
    let diagnostics = diagnostics_of(sources);
    // Hash maps are seeded per instance: a second compile in the same process
    // catches diagnostics whose order or wording depends on hashing.
    assert_eq!(
        diagnostics,
        diagnostics_of(sources),
        "compiling twice gave different diagnostics"
    );
    for d in &diagnostics {
        let file = sources
            .get(d.span.file)
            .unwrap_or_else(|| panic!("{}: span in an unknown file", d.code));
        assert!(
            d.span.start <= d.span.end && d.span.end as usize <= file.text.len(),
            "{}: span {:?} outside a file of {} bytes",
            d.code,
            d.span,
            file.text.len()
        );
        assert!(
            file.text.is_char_boundary(d.span.start as usize)
                && file.text.is_char_boundary(d.span.end as usize),
            "{}: span {:?} splits a character",
            d.code,
            d.span
        );
        assert!(!d.message.is_empty(), "{}: empty message", d.code);
        let _ = sources.location(d.span);
    }
    let _ = render(&diagnostics, sources, false);
}

#[derive(Debug, Clone)]
enum Edit {
    DeleteChar(Index),
    InsertChar(Index, char),
    DuplicateChar(Index),
    DeleteToken(Index),
    InsertToken(Index, Index),
    DuplicateToken(Index),
    SwapTokens(Index, Index),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    let interesting_char = prop_oneof![
        prop::sample::select(vec![
            '{', '}', '(', ')', '[', ']', '"', '/', '\\', '=', '>', '<', '!', '#', ',', '.', ':', '-', '+',
            '\n', ' ', '\t', '\'', 'a', '0', 'é', '→',
        ]),
        any::<char>(),
    ];
    prop_oneof![
        any::<Index>().prop_map(Edit::DeleteChar),
        (any::<Index>(), interesting_char).prop_map(|(i, c)| Edit::InsertChar(i, c)),
        any::<Index>().prop_map(Edit::DuplicateChar),
        any::<Index>().prop_map(Edit::DeleteToken),
        (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Edit::InsertToken(i, t)),
        any::<Index>().prop_map(Edit::DuplicateToken),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapTokens(a, b)),
    ]
}

/// Byte ranges of the whitespace-separated words of `text`.
fn token_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                ranges.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        ranges.push((s, text.len()));
    }
    ranges
}

/// Char boundaries of `text`, including its end.
fn boundaries(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect()
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut out = text.to_string();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let tokens = token_ranges(text);
    match edit {
        Edit::DeleteChar(i) => {
            if !chars.is_empty() {
                let (at, c) = chars[i.index(chars.len())];
                out.replace_range(at..at + c.len_utf8(), "");
            }
        }
        Edit::InsertChar(i, c) => {
            let b = boundaries(text);
            out.insert(b[i.index(b.len())], *c);
        }
        Edit::DuplicateChar(i) => {
            if !chars.is_empty() {
                let (at, c) = chars[i.index(chars.len())];
                out.insert(at, c);
            }
        }
        Edit::DeleteToken(i) => {
            if !tokens.is_empty() {
                let (s, e) = tokens[i.index(tokens.len())];
                out.replace_range(s..e, "");
            }
        }
        Edit::InsertToken(i, t) => {
            let b = boundaries(text);
            let token = TOKENS[t.index(TOKENS.len())];
            out.insert_str(b[i.index(b.len())], &format!(" {token} "));
        }
        Edit::DuplicateToken(i) => {
            if !tokens.is_empty() {
                let (s, e) = tokens[i.index(tokens.len())];
                let word = format!("{} ", &text[s..e]);
                out.insert_str(s, &word);
            }
        }
        Edit::SwapTokens(a, b) => {
            if tokens.len() >= 2 {
                let (mut x, mut y) = (a.index(tokens.len()), b.index(tokens.len()));
                if x > y {
                    std::mem::swap(&mut x, &mut y);
                }
                if x != y {
                    let (xs, xe) = tokens[x];
                    let (ys, ye) = tokens[y];
                    out = format!(
                        "{}{}{}{}{}",
                        &text[..xs],
                        &text[ys..ye],
                        &text[xe..ys],
                        &text[xs..xe],
                        &text[ye..]
                    );
                }
            }
        }
    }
    out
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&[" ", " ", " ", "\n", ""][..]),
        ),
        0..60,
    )
    .prop_map(|parts| parts.into_iter().map(|(t, sep)| format!("{t}{sep}")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_one("arbitrary.rubric", &text);
    }

    #[test]
    fn arbitrary_ascii_never_panics(text in "[ -~\n\t]{0,300}") {
        check_one("ascii.rubric", &text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check_one("soup.rubric", &text);
    }

    #[test]
    fn token_soup_after_a_valid_prefix_never_panics(
        file in any::<Index>(),
        soup in token_soup(),
    ) {
        let files = playbook();
        let (name, text) = &files[file.index(files.len())];
        check_one(name, &format!("{text}\n{soup}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// One to four random edits of one playbook file, compiled alone.
    #[test]
    fn edited_playbook_file_never_panics(
        file in any::<Index>(),
        edits in prop::collection::vec(edit_strategy(), 1..5),
    ) {
        let files = playbook();
        let (name, text) = &files[file.index(files.len())];
        let mut edited = text.clone();
        for edit in &edits {
            edited = apply(&edited, edit);
        }
        check_one(name, &edited);
    }

    /// The whole playbook with one file edited: cross-file resolution,
    /// duplicates and cycles on broken input.
    #[test]
    fn edited_playbook_set_never_panics(
        file in any::<Index>(),
        edits in prop::collection::vec(edit_strategy(), 1..4),
    ) {
        let files = playbook();
        let target = file.index(files.len());
        let mut sources = Sources::default();
        for (i, (name, text)) in files.iter().enumerate() {
            let mut text = text.clone();
            if i == target {
                for edit in &edits {
                    text = apply(&text, edit);
                }
            }
            sources.add(SourceFile::new(name.as_str(), text));
        }
        check_sources(&sources);
    }
}

/// The unedited playbook compiles: the mutations above start from valid text.
#[test]
fn playbook_compiles_unedited() {
    let mut sources = Sources::default();
    for (name, text) in playbook() {
        sources.add(SourceFile::new(name.as_str(), text.as_str()));
    }
    assert!(compile(&sources).is_ok());
}

/// Inputs that once looked risky, kept as plain regression checks.
#[test]
fn edge_inputs_never_panic() {
    for text in [
        "",
        "\u{feff}",
        "score",
        "score s 0..100 {",
        "score s 99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999.5..0 { }",
        "segment s when \"",
        "segment s when \"\\",
        "segment s when x matches /",
        "segment s when x matches /\\",
        "segment s when x within 1e9 days",
        "segment s when x within 999999999999999999999 weeks",
        "segment s when x within 0 days",
        "const c = c\nsegment s when x in c",
        "const c = [[1]]\nsegment s when x in c",
        "const r = /x/\nsegment s when x in r",
        "segment s when x in [/x/]",
        "segment s when é == \"é\"",
        "band b { a otherwise }\nsegment s when b is b",
        "band b { }",
        "route r when true { queue first { } }",
        "score s 0..100 { \"a\" first { } }",
        "segment a when a",
        "segment s when any e where any f",
        "segment s when count of e where (count of f > 1) > 1",
        "segment s when last e where x within 1 days within 2 days",
        "#\r\n#\r",
    ] {
        check_one("edge.rubric", text);
    }
}
