//! A seeded synthetic snapshot generator for benchmarks.
//!
//! ```text
//! cargo run --release --example gen_snapshot -- --contacts 1000000 --seed 7 > /tmp/contacts-1m.jsonl
//! ```
//!
//! Contacts have a realistic mix of titles, company sizes, industries,
//! countries and lifecycle stages, and 0–30 events (about 8 on average) over
//! the 120 days before 2026-11-28. The same seed always gives the same file.
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

fn main() {
    let mut contacts: u64 = 100_000;
    let mut seed: u64 = 7;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--contacts" => contacts = args.next().and_then(|v| v.parse().ok()).expect("--contacts N"),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            other => {
                eprintln!("unknown argument `{other}`; usage: gen_snapshot [--contacts N] [--seed N]");
                std::process::exit(2);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut line = String::with_capacity(4096);
    for n in 0..contacts {
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{{\"id\":\"g-{n}\",\"email\":\"user{n}@{}\",\"properties\":{{",
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
