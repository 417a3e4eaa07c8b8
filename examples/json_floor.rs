//! The naive JSON floor of the benchmark: parse every line of a snapshot into
//! a `serde_json::Value` and drop it. `rubric run` should beat this.
//!
//! ```text
//! cargo run --release --example json_floor -- /tmp/contacts-1m.jsonl
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufRead;

fn main() {
    let path = std::env::args().nth(1).expect("usage: json_floor FILE");
    let file = std::fs::File::open(&path).expect("cannot open the file");
    let reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let mut parsed = 0u64;
    for line in reader.lines() {
        let line = line.expect("read error");
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line).expect("invalid JSON");
        drop(value);
        parsed += 1;
    }
    eprintln!("parsed {parsed} lines");
}
