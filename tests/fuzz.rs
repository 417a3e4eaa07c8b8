//! A mutation fuzzer that runs on the stable toolchain, in process: rule
//! files (the playbook, `tests/corpus`, `tests/fmt`) and snapshot lines
//! (`examples/contacts.jsonl`, as JSON Lines and as CSV) are mutated — byte
//! flips, token deletion, duplication and swaps, keyword insertion, huge
//! numbers, deep nesting, long identifiers, invalid UTF-8, NUL, CRLF — and
//! pushed through parse → compile (with lints) → diagnostics rendering →
//! fmt → decode → evaluate → output → explain (issue 17).
//!
//! Each input must finish without a panic (caught with `catch_unwind` and
//! reported with its iteration), without a stack overflow (inputs run on a
//! thread with the 8 MiB stack the command line's threads have; an overflow
//! aborts the test binary) and within `RUBRIC_FUZZ_TIMEOUT_MS` (default
//! 20,000, generous for a debug build on a loaded machine). Every input
//! derives from the seed and its iteration number alone, so a failure is
//! reproduced with `RUBRIC_FUZZ_START=<iteration> RUBRIC_FUZZ_ITERATIONS=1`.
//!
//! `cargo test` runs a short, fixed run (`RUBRIC_FUZZ_ITERATIONS`, default
//! 800); docs/reliability.md gives the long-run command and its figures.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::{Rng as _, RngCore as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rubric::eval::{evaluate_into, NoTrace, Outcome, RegexScratch};
use rubric::plan::Plan;
use rubric::snapshot::{csv_batches, decode_numbered_line, Contact, Line};
use rubric::source::{SourceFile, Sources};

/// Rule words and fragments worth inserting.
const RULE_FRAGMENTS: &[&str] = &[
    "score ",
    "band ",
    "segment ",
    "audience ",
    "workflow ",
    "route ",
    "suppress ",
    "property ",
    "event ",
    "when ",
    "otherwise",
    " and ",
    " or ",
    "not ",
    "each ",
    "first ",
    "within ",
    "in ",
    "is ",
    "null",
    "true",
    "false",
    "matches ",
    "lower(",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "=>",
    "+10",
    "-5",
    ">=",
    "==",
    "!=",
    "..",
    ",",
    "\"",
    "\"x\"",
    "#",
    "// c\n",
    "/* c */",
    "7d",
    "24h",
    "max ",
    "min ",
    "decay ",
    "count(",
    "sum(",
    "latest(",
    "where ",
    "ago",
    "company_size",
    "job_title",
    "page_view",
    "fit",
    "readiness",
    "hot",
];

/// JSON fragments worth inserting into a snapshot line.
const JSON_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\"id\":",
    "\"id\":\"x\",",
    "\"properties\":",
    "\"events\":",
    "\"props\":",
    "\"type\":\"page_view\",",
    "\"at\":\"2026-11-25T09:00:00Z\"",
    "null",
    "true",
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "18446744073709551616",
    "\\u0000",
    "\\ud800",
    "\\\"",
    "NaN",
    "\u{feff}",
];

/// A number that is too big (or weird) in every sense.
const HUGE_NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "1e-400",
    "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "99999999999999999999",
    "0.000000000000000000000000000001",
    "18446744073709551616",
    "-9223372036854775809",
];

/// The inputs a run mutates.
struct Corpus {
    /// Rule files; the first `compiling` compile as they are.
    rules: Vec<Vec<u8>>,
    compiling: usize,
    lines: Vec<Vec<u8>>,
    csv: Vec<u8>,
    /// The playbook, compiled once, for snapshot inputs.
    playbook: Plan,
    as_of: i64,
}

impl Corpus {
    fn load() -> Corpus {
        // The playbook as one file, then the rule sets that compile, then
        // the rest (broken on purpose, or formatting cases).
        let mut playbook_files = Vec::new();
        collect_rule_files(Path::new("rules"), &mut playbook_files);
        let mut rules = vec![playbook_files.concat()];
        collect_rule_files(Path::new("tests/corpus/ok"), &mut rules);
        let compiling = rules.len();
        for dir in ["tests/corpus/err", "tests/corpus/err_dir", "tests/fmt"] {
            collect_rule_files(Path::new(dir), &mut rules);
        }
        assert!(rules.len() > 20, "the rule corpus is missing");
        let contacts = std::fs::read("examples/contacts.jsonl").unwrap();
        let lines: Vec<Vec<u8>> = contacts
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        let csv = b"id,email,job_title,company_size,country,lifecycle_stage,owner\n\
c-1,a@acme.io,VP Marketing,250,US,lead,\n\
c-2,\"b,c\"@x.io,\"Head of \"\"Growth\"\"\",1e400,DE,sql,rep\n\
c-3,,Manager,12,FR,,\n"
            .to_vec();
        let sources = Sources::load(Path::new("rules")).unwrap();
        let playbook = rubric::compile::compile(&sources).unwrap().plan;
        rubric::compile::build_regexes(&playbook).unwrap();
        Corpus {
            rules,
            compiling,
            lines,
            csv,
            playbook,
            as_of: rubric::snapshot::parse_timestamp("2026-11-28T00:00:00Z").unwrap(),
        }
    }
}

fn collect_rule_files(dir: &Path, into: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_rule_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rubric") {
            into.push(std::fs::read(&path).unwrap());
        }
    }
}

/// What one input is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Rules,
    JsonLines,
    Csv,
}

/// The input of one iteration, derived from the seed and the iteration alone.
fn input(corpus: &Corpus, seed: u64, iteration: u64) -> (Kind, Vec<u8>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ iteration.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let (kind, mut bytes, fragments) = match rng.random_range(0..10) {
        0..=4 => {
            // Half the time a rule set that compiles, so that mutations
            // reach the compiler, the evaluator and explain, not only the parser.
            let among = if rng.random_bool(0.5) {
                corpus.compiling
            } else {
                corpus.rules.len()
            };
            let pick = rng.random_range(0..among);
            (Kind::Rules, corpus.rules[pick].clone(), RULE_FRAGMENTS)
        }
        5..=8 => {
            // One to three lines, so blank lines and line ends are mutated too.
            let mut bytes = Vec::new();
            for _ in 0..rng.random_range(1..=3) {
                let pick = rng.random_range(0..corpus.lines.len());
                bytes.extend_from_slice(&corpus.lines[pick]);
                bytes.push(b'\n');
            }
            (Kind::JsonLines, bytes, JSON_FRAGMENTS)
        }
        _ => (Kind::Csv, corpus.csv.clone(), JSON_FRAGMENTS),
    };
    // Mostly one mutation, so that most inputs stay close to valid.
    let mutations = if rng.random_bool(0.7) {
        1
    } else {
        rng.random_range(2..=5)
    };
    for _ in 0..mutations {
        mutate(&mut rng, &mut bytes, fragments);
    }
    (kind, bytes)
}

/// The tokens of `bytes`: runs of letters, digits and `_`, and single other bytes.
fn tokens(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut tokens = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut end = start + 1;
        if word(bytes[start]) {
            while end < bytes.len() && word(bytes[end]) {
                end += 1;
            }
        }
        tokens.push(start..end);
        start = end;
    }
    tokens
}

fn random_position(rng: &mut ChaCha8Rng, bytes: &[u8]) -> usize {
    rng.random_range(0..=bytes.len())
}

/// Applies one random mutation.
fn mutate(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>, fragments: &[&str]) {
    match rng.random_range(0..14) {
        // Flip a few bits.
        0 if !bytes.is_empty() => {
            for _ in 0..rng.random_range(1..=4) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] ^= 1 << rng.random_range(0..8);
            }
        }
        // A random byte, anywhere.
        1 => {
            let at = random_position(rng, bytes);
            bytes.insert(at, (rng.next_u32() & 0xff) as u8);
        }
        // Delete, duplicate or swap tokens.
        2..=4 => {
            let tokens = tokens(bytes);
            if tokens.len() < 2 {
                return;
            }
            let a = tokens[rng.random_range(0..tokens.len())].clone();
            let b = tokens[rng.random_range(0..tokens.len())].clone();
            let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
            match rng.random_range(0..3) {
                0 => {
                    bytes.drain(first);
                }
                1 => {
                    let copy = bytes[first.clone()].to_vec();
                    bytes.splice(first.end..first.end, copy);
                }
                _ if first.end <= second.start => {
                    let mut swapped = bytes[..first.start].to_vec();
                    swapped.extend_from_slice(&bytes[second.clone()]);
                    swapped.extend_from_slice(&bytes[first.end..second.start]);
                    swapped.extend_from_slice(&bytes[first]);
                    swapped.extend_from_slice(&bytes[second.end..]);
                    *bytes = swapped;
                }
                _ => {}
            }
        }
        // Delete or duplicate a whole range.
        5 if !bytes.is_empty() => {
            let start = rng.random_range(0..bytes.len());
            let end = (start + rng.random_range(1..=64)).min(bytes.len());
            if rng.random_bool(0.5) {
                bytes.drain(start..end);
            } else {
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
        // A keyword or fragment.
        6 | 7 => {
            let at = random_position(rng, bytes);
            let fragment = fragments[rng.random_range(0..fragments.len())];
            bytes.splice(at..at, fragment.bytes());
        }
        // A huge number in place of a number, or anywhere.
        8 => {
            let huge = HUGE_NUMBERS[rng.random_range(0..HUGE_NUMBERS.len())];
            let digits: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i].is_ascii_digit()).collect();
            let at = if digits.is_empty() {
                random_position(rng, bytes)
            } else {
                digits[rng.random_range(0..digits.len())]
            };
            let end = (at..bytes.len())
                .find(|&i| !bytes[i].is_ascii_digit() && bytes[i] != b'.')
                .unwrap_or(bytes.len())
                .max(at);
            bytes.splice(at..end, huge.bytes());
        }
        // Deep nesting, around the parser's limit and far past it.
        9 => {
            let depth = [50, 255, 256, 257, 1_000, 3_000, 10_000][rng.random_range(0..7)];
            let (open, close) = [
                ("(", ")"),
                ("not ", ""),
                ("lower(", ")"),
                ("[", "]"),
                ("{\"a\":", "}"),
            ][rng.random_range(0..5)];
            let at = random_position(rng, bytes);
            let mut nested = open.repeat(depth).into_bytes();
            nested.extend_from_slice(b"x");
            nested.extend(close.repeat(depth).bytes());
            bytes.splice(at..at, nested);
        }
        // A long identifier or string, past column 65,535 sometimes.
        10 => {
            let length = [64, 1_000, 30_000, 70_000][rng.random_range(0..4)];
            let at = random_position(rng, bytes);
            let letter = b'a' + rng.random_range(0..26) as u8;
            bytes.splice(at..at, std::iter::repeat_n(letter, length));
        }
        // Invalid UTF-8 and NUL.
        11 => {
            let at = random_position(rng, bytes);
            let bad: &[u8] =
                [&b"\xff"[..], b"\xc3", b"\xed\xa0\x80", b"\0", b"\xf0\x9f\x98"][rng.random_range(0..5)];
            bytes.splice(at..at, bad.iter().copied());
        }
        // Line endings: CRLF everywhere, a lone CR, or no final newline.
        12 => match rng.random_range(0..3) {
            0 => {
                let mut crlf = Vec::with_capacity(bytes.len() + 64);
                for &b in bytes.iter() {
                    if b == b'\n' {
                        crlf.push(b'\r');
                    }
                    crlf.push(b);
                }
                *bytes = crlf;
            }
            1 => {
                let at = random_position(rng, bytes);
                bytes.insert(at, b'\r');
            }
            _ => {
                while bytes.last() == Some(&b'\n') {
                    bytes.pop();
                }
            }
        },
        // Truncate.
        _ if !bytes.is_empty() => {
            let at = rng.random_range(0..bytes.len());
            bytes.truncate(at);
        }
        _ => {}
    }
}

/// How far the inputs of a run got.
#[derive(Debug, Default)]
struct Reached {
    /// Rule inputs that compiled.
    compiled: u64,
    /// Contacts evaluated (decoded from a mutated line, or real ones under
    /// mutated rules).
    evaluated: u64,
}

/// Runs one input through every stage it reaches; how far it got.
fn exercise(corpus: &Corpus, kind: Kind, bytes: &[u8]) -> Reached {
    let mut reached = Reached::default();
    match kind {
        Kind::Rules => reached = exercise_rules(corpus, bytes),
        Kind::JsonLines => {
            let mut number = 0;
            for line in bytes.split(|b| *b == b'\n') {
                number += 1;
                let text = std::str::from_utf8(line).map_err(|e| e.to_string());
                if let Line::Contact(_, contact) = decode_numbered_line(&corpus.playbook.decode, number, text)
                {
                    evaluate_contact(&corpus.playbook, &contact, corpus.as_of, true);
                    reached.evaluated += 1;
                }
            }
        }
        Kind::Csv => {
            let read = csv_batches(
                bytes,
                &corpus.playbook.decode,
                Vec::new,
                |batch, line| batch.push(line),
                |batch| {
                    for line in batch {
                        if let Line::Contact(_, contact) = line {
                            evaluate_contact(&corpus.playbook, &contact, corpus.as_of, false);
                            reached.evaluated += 1;
                        }
                    }
                    Ok(true)
                },
            );
            let _ = read;
        }
    }
    reached
}

/// Parse, compile with lints, render the diagnostics, format (twice), and
/// when the rules compile, evaluate and explain a few real contacts.
fn exercise_rules(corpus: &Corpus, bytes: &[u8]) -> Reached {
    let mut reached = Reached::default();
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut sources = Sources::default();
    sources.add(SourceFile::new("fuzz.rubric", text.clone()));
    match rubric::compile::compile_and_lint(&sources) {
        Ok(compiled) => {
            reached.compiled += 1;
            let _ = rubric::diagnostics::render(&compiled.warnings, &sources, false);
            if rubric::compile::build_regexes(&compiled.plan).is_ok() {
                for (number, line) in corpus.lines.iter().take(4).enumerate() {
                    let text = std::str::from_utf8(line).map_err(|e| e.to_string());
                    if let Line::Contact(_, contact) =
                        decode_numbered_line(&compiled.plan.decode, number as u64 + 1, text)
                    {
                        evaluate_contact(&compiled.plan, &contact, corpus.as_of, false);
                        reached.evaluated += 1;
                        let _ = rubric::trace::explain(&compiled.plan, &sources, &contact, corpus.as_of);
                    }
                }
            }
        }
        Err(diagnostics) => {
            let _ = rubric::diagnostics::render(&diagnostics, &sources, false);
        }
    }
    if let Ok(formatted) = rubric::fmt::format_keeping_line_endings(&text) {
        let _ = rubric::fmt::format_keeping_line_endings(&formatted);
    }
    reached
}

fn evaluate_contact(plan: &Plan, contact: &Contact, as_of: i64, explain: bool) {
    let mut outcome = Outcome::for_plan(plan);
    let mut regexes = RegexScratch::default();
    evaluate_into(plan, contact, as_of, &mut outcome, &mut regexes, &mut NoTrace);
    let mut line = Vec::new();
    rubric::output::write_result(&mut line, plan, &contact.id, &outcome);
    if explain {
        let sources = Sources::default();
        let _ = rubric::trace::explain(plan, &sources, contact, as_of);
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the worker thread reports per input: its kind, how far it got and
/// the time it took, or the panic.
type Report = (u64, Result<(Kind, Reached, Duration), String>);

#[test]
fn mutated_rules_and_snapshots_never_panic_overflow_or_hang() {
    let iterations = env_number("RUBRIC_FUZZ_ITERATIONS", 800);
    let start = env_number("RUBRIC_FUZZ_START", 0);
    let seed = env_number("RUBRIC_FUZZ_SEED", 17);
    let timeout = Duration::from_millis(env_number("RUBRIC_FUZZ_TIMEOUT_MS", 20_000));
    let (inputs_tx, inputs_rx) = mpsc::sync_channel::<u64>(1);
    let (reports_tx, reports_rx) = mpsc::channel::<Report>();
    let worker = std::thread::Builder::new()
        .name("fuzz".into())
        .stack_size(8 << 20)
        .spawn(move || {
            let corpus = Corpus::load();
            for iteration in inputs_rx {
                let (kind, bytes) = input(&corpus, seed, iteration);
                let started = Instant::now();
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| exercise(&corpus, kind, &bytes)))
                    .map(|reached| (kind, reached, started.elapsed()))
                    .map_err(|panic| {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                            .unwrap_or_default();
                        format!("{kind:?} input of {} bytes: {message}", bytes.len())
                    });
                if reports_tx.send((iteration, result)).is_err() {
                    return;
                }
            }
        })
        .unwrap();

    let started = Instant::now();
    let (mut slowest, mut slowest_iteration) = (Duration::ZERO, start);
    let (mut kinds, mut reached) = ([0u64; 3], Reached::default());
    for iteration in start..start + iterations {
        inputs_tx.send(iteration).unwrap();
        // The first input also loads the corpus.
        let limit = if iteration == start { timeout * 2 } else { timeout };
        match reports_rx.recv_timeout(limit) {
            Ok((_, Ok((kind, got, took)))) => {
                kinds[kind as usize] += 1;
                reached.compiled += got.compiled;
                reached.evaluated += got.evaluated;
                if took > slowest {
                    (slowest, slowest_iteration) = (took, iteration);
                }
            }
            Ok((_, Err(panic))) => panic!(
                "fuzz iteration {iteration} (seed {seed}) panicked: {panic}\nreproduce with RUBRIC_FUZZ_SEED={seed} RUBRIC_FUZZ_START={iteration} RUBRIC_FUZZ_ITERATIONS=1"
            ),
            Err(_) => panic!(
                "fuzz iteration {iteration} (seed {seed}) ran longer than {limit:?}\nreproduce with RUBRIC_FUZZ_SEED={seed} RUBRIC_FUZZ_START={iteration} RUBRIC_FUZZ_ITERATIONS=1"
            ),
        }
    }
    drop(inputs_tx);
    worker.join().unwrap();
    eprintln!(
        "fuzz: {iterations} inputs from iteration {start} (seed {seed}) in {:.1} s: {} rule sets ({} compiled), {} JSON Lines and {} CSV snapshots; {} contacts evaluated; slowest input {:.0} ms (iteration {slowest_iteration})",
        started.elapsed().as_secs_f64(),
        kinds[0],
        reached.compiled,
        kinds[1],
        kinds[2],
        reached.evaluated,
        slowest.as_secs_f64() * 1000.0
    );
}
