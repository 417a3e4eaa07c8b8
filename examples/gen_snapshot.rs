//! A seeded synthetic snapshot generator for benchmarks.
//!
//! ```text
//! cargo run --release --example gen_snapshot -- --contacts 1000000 --seed 7 > /tmp/contacts-1m.jsonl
//! ```
//!
//! Contacts have a realistic mix of titles, company sizes, industries,
//! countries and lifecycle stages, and 0–30 events (about 8 on average) over
//! the 120 days before 2026-11-28. The same seed always gives the same file.
//!
//! Ids are `g-0`, `g-1`, … by default (`--ids sequential`). With `--ids opaque` they
//! are Salesforce-like 18-character ids instead (`003`, 12 characters of
//! `[0-9A-Za-z]` that look random, and the 3-character case checksum), a
//! different one for each contact, from the seed and the contact's number;
//! the rest of the file is the same. The duplicate-id check stores the two
//! shapes differently (see `src/snapshot/id_set.rs`), so benchmarks can
//! measure both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TITLES: &[&str] = &[
    "VP Marketing",
    "Vice President, Sales",
    "Director of Demand Generation",
    "Head of Growth",
    "Chief Marketing Officer",
    "Marketing Manager",
    "Product Manager",
    "Senior Software Engineer",
    "Account Executive",
    "Student",
    "Founder",
    "Marketing Operations Specialist",
    "Growth Marketing Manager",
    "Data Analyst",
    "Customer Success Manager",
];
const INDUSTRIES: &[&str] = &[
    "Software",
    "SaaS",
    "FinTech",
    "Retail",
    "Education",
    "Healthcare",
    "Manufacturing",
    "software",
    "Media",
];
const COUNTRIES: &[&str] = &[
    "US", "US", "US", "CA", "GB", "DE", "FR", "IN", "BR", "AU", "NL", "ES",
];
const STAGES: &[&str] = &[
    "subscriber",
    "lead",
    "lead",
    "lead",
    "mql",
    "sql",
    "opportunity",
    "customer",
];
const SOURCES: &[&str] = &[
    "organic",
    "paid_search",
    "paid_social",
    "referral",
    "events",
    "email",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "acme.io",
    "northworks.ca",
    "ledgerly.co.uk",
    "nordwerk.de",
    "outlook.com",
    "cloudly.io",
    "orbitsoft.com",
    "quantbank.com",
];
const URLS: &[&str] = &[
    "/pricing",
    "/pricing/enterprise",
    "/blog/scoring",
    "/docs",
    "/",
    "/customers",
];
const FORMS: &[&str] = &["demo_request", "newsletter", "contact_us", "ebook"];
const EVENT_TYPES: &[&str] = &[
    "page_view",
    "page_view",
    "page_view",
    "email_open",
    "email_open",
    "email_click",
    "form_submit",
    "webinar_attended",
    "email_unsubscribe",
];

/// 2026-11-28T00:00:00Z.
const AS_OF: i64 = 1_795_824_000;

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn timestamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The splitmix64 finalizer: a bijection of `u64`.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A Salesforce-like contact id for contact `n`: `003`, a pod character from
/// the seed, 11 base-62 digits of a bijection of `n` (so ids never repeat),
/// and the checksum suffix that Salesforce derives from the case of the first
/// 15 characters.
fn opaque_id(seed: u64, n: u64, id: &mut String) {
    id.clear();
    id.push_str("003");
    id.push(BASE62[(mix(seed) % 62) as usize] as char);
    let mut x = mix(n.wrapping_add(mix(seed ^ 0x5851_f42d_4c95_7f2d)));
    for _ in 0..11 {
        id.push(BASE62[(x % 62) as usize] as char);
        x /= 62;
    }
    let bytes = id.as_bytes().to_vec();
    for chunk in bytes.chunks(5) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | 1 << i);
        id.push(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits] as char);
    }
}

fn main() {
    let mut contacts: u64 = 100_000;
    let mut seed: u64 = 7;
    let mut opaque = false;
    let usage = "usage: gen_snapshot [--contacts N] [--seed N] [--ids sequential|opaque]";
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--contacts" => contacts = args.next().and_then(|v| v.parse().ok()).expect("--contacts N"),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            "--ids" => match args.next().as_deref() {
                Some("sequential" | "seq") => opaque = false,
                Some("opaque") => opaque = true,
                other => {
                    eprintln!(
                        "--ids takes `sequential` or `opaque`, not `{}`; {usage}",
                        other.unwrap_or("")
                    );
                    std::process::exit(2);
                }
            },
            other => {
                eprintln!("unknown argument `{other}`; {usage}");
                std::process::exit(2);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut line = String::with_capacity(4096);
    let mut id = String::with_capacity(18);
    for n in 0..contacts {
        line.clear();
        use std::fmt::Write as _;
        id.clear();
        if opaque {
            opaque_id(seed, n, &mut id);
        } else {
            let _ = write!(id, "g-{n}");
        }
        let _ = write!(
            line,
            "{{\"id\":\"{id}\",\"email\":\"user{n}@{}\",\"properties\":{{",
            pick(&mut rng, DOMAINS)
        );
        let _ = write!(line, "\"job_title\":\"{}\"", pick(&mut rng, TITLES));
        if rng.random_bool(0.85) {
            let size: u32 = match rng.random_range(0..10) {
                0..=3 => rng.random_range(1..50),
                4..=6 => rng.random_range(50..200),
                _ => rng.random_range(200..20_000),
            };
            let _ = write!(line, ",\"company_size\":{size}");
        }
        let _ = write!(
            line,
            ",\"industry\":\"{}\",\"country\":\"{}\",\"lifecycle_stage\":\"{}\"",
            pick(&mut rng, INDUSTRIES),
            pick(&mut rng, COUNTRIES),
            pick(&mut rng, STAGES)
        );
        if rng.random_bool(0.2) {
            let _ = write!(line, ",\"owner\":\"u-{:02}\"", rng.random_range(1..40));
        } else {
            line.push_str(",\"owner\":null");
        }
        let _ = write!(
            line,
            ",\"open_deal\":{},\"email_opt_out\":{},\"is_competitor\":{},\"source\":\"{}\"",
            rng.random_bool(0.08),
            rng.random_bool(0.05),
            rng.random_bool(0.01),
            pick(&mut rng, SOURCES)
        );
        if rng.random_bool(0.15) {
            let at = AS_OF - rng.random_range(0..30 * 86_400);
            let _ = write!(line, ",\"last_sales_touch_at\":\"{}\"", timestamp(at));
        } else {
            line.push_str(",\"last_sales_touch_at\":null");
        }
        line.push_str("},\"events\":[");
        // 0–30 events, about 8 on average (a geometric-like mix).
        let count = match rng.random_range(0..10) {
            0..=1 => 0,
            2..=6 => rng.random_range(1..10),
            7..=8 => rng.random_range(10..20),
            _ => rng.random_range(20..31),
        };
        for e in 0..count {
            if e > 0 {
                line.push(',');
            }
            let kind = pick(&mut rng, EVENT_TYPES);
            let at = AS_OF - rng.random_range(0..120 * 86_400);
            let _ = write!(
                line,
                "{{\"type\":\"{kind}\",\"at\":\"{}\",\"props\":{{",
                timestamp(at)
            );
            match kind {
                "page_view" => {
                    let _ = write!(line, "\"url\":\"{}\"", pick(&mut rng, URLS));
                }
                "form_submit" => {
                    let _ = write!(line, "\"form\":\"{}\"", pick(&mut rng, FORMS));
                }
                "webinar_attended" => line.push_str("\"webinar\":\"w-2026-11-ops\""),
                _ => line.push_str("\"campaign\":\"nov-digest\""),
            }
            line.push_str("}}");
        }
        line.push_str("]}\n");
        out.write_all(line.as_bytes()).unwrap();
    }
    out.flush().unwrap();
}
