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
//!
//! With `--outcomes FILE` it also writes, to FILE, what happened to the
//! contacts after 2026-11-28 in the SPEC §8 outcomes format (JSON Lines), for
//! `rubric measure`:
//!
//! ```text
//! cargo run --release --example gen_snapshot -- --contacts 1000000 --seed 7 --outcomes /tmp/outcomes-1m.jsonl > /tmp/c-1m.jsonl
//! ```
//!
//! Each contact has a latent propensity to buy: a weighted sum of the buyer
//! signals in its generated record (senior title, company size, target
//! industry, free email, recent pricing views, a demo request, webinars,
//! email clicks, an unsubscribe, lifecycle stage) plus a normal noise term
//! for everything a snapshot cannot show. Competitors never convert. The
//! propensity sets the chance of a `meeting_held` (within 45 days, most
//! within 30), and a meeting often leads to an `opportunity_created` (within
//! 120 days, `amount` 5,000–150,000, larger for larger companies). Some
//! contacts also get `sales_touch` outcomes (hours to days after as-of) and
//! `sales_accepted`; about 0.5 % get a `meeting_held` before as-of (which
//! measurement must ignore), and about 1 % of lines name a contact that is
//! not in the snapshot (the ids the generator would give contacts past
//! `--contacts`). The reference playbook reads most of these signals,
//! weighted its own way, and misses some (founders, older demo requests,
//! lifecycle stage, the noise), so its bands rank contacts well but not
//! perfectly. Lines follow contact order, not time order.
//!
//! The outcomes come from a second random stream seeded from `--seed`, so
//! the snapshot on standard output is byte for byte the same with and
//! without `--outcomes`, and the same seed always gives the same two files.
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

/// The buyer signals of one generated contact that its propensity reads.
///
/// They are taken from the values the main random stream produced, after the
/// fact, so collecting them changes nothing in the snapshot.
#[derive(Default)]
struct Signals {
    title: &'static str,
    company_size: Option<u32>,
    industry: &'static str,
    country: &'static str,
    domain: &'static str,
    lifecycle_stage: &'static str,
    open_deal: bool,
    is_competitor: bool,
    /// Pricing page views in the last 14 days.
    pricing_views_14_days: u32,
    /// Pricing page views 15 to 30 days ago.
    pricing_views_30_days: u32,
    /// Days since the latest demo request, if any.
    demo_request_days_ago: Option<i64>,
    /// Webinars attended in the last 30 days.
    webinars_30_days: u32,
    /// Email clicks in the last 30 days.
    email_clicks_30_days: u32,
    /// An unsubscribe in the last 90 days.
    unsubscribed_90_days: bool,
}

impl Signals {
    /// Records one generated event `days_ago` days before as-of.
    fn add_event(&mut self, kind: &str, detail: &str, days_ago: i64) {
        match kind {
            "page_view" if detail.starts_with("/pricing") => {
                if days_ago < 14 {
                    self.pricing_views_14_days += 1;
                } else if days_ago < 30 {
                    self.pricing_views_30_days += 1;
                }
            }
            "form_submit" if detail == "demo_request" => {
                let latest = self.demo_request_days_ago.map_or(days_ago, |d| d.min(days_ago));
                self.demo_request_days_ago = Some(latest);
            }
            "webinar_attended" if days_ago < 30 => self.webinars_30_days += 1,
            "email_click" if days_ago < 30 => self.email_clicks_30_days += 1,
            "email_unsubscribe" if days_ago < 90 => self.unsubscribed_90_days = true,
            _ => {}
        }
    }

    /// The log-odds of a meeting in the weeks after as-of, before the noise
    /// that stands for everything the snapshot does not show.
    ///
    /// The weights are hand-tuned so that the reference playbook's bands see
    /// a realistic lift (see docs/performance.md for the rates they give).
    fn meeting_log_odds(&self) -> f64 {
        let mut z = -6.1;
        let title = self.title;
        if ["VP", "Vice President", "Director", "Head of", "Chief"]
            .iter()
            .any(|word| title.contains(word))
        {
            z += 1.3;
        } else if title == "Founder" {
            // Founders buy, though the playbook gives them no title points.
            z += 0.7;
        } else if title.contains("Manager") {
            z += 0.45;
        } else if title == "Student" {
            z -= 1.5;
        }
        z += match self.company_size {
            Some(size) if size >= 1000 => 1.3,
            Some(size) if size >= 200 => 1.1,
            Some(size) if size >= 50 => 0.5,
            Some(_) => 0.0,
            None => 0.1,
        };
        if ["software", "saas", "fintech"]
            .iter()
            .any(|target| self.industry.eq_ignore_ascii_case(target))
        {
            z += 0.6;
        }
        if ["US", "CA", "GB", "DE"].contains(&self.country) {
            z += 0.25;
        }
        if ["gmail.com", "yahoo.com", "outlook.com"].contains(&self.domain) {
            z -= 0.7;
        }
        z += match self.lifecycle_stage {
            "sql" | "opportunity" => 0.4,
            "mql" => 0.2,
            "subscriber" => -0.3,
            _ => 0.0,
        };
        if self.open_deal {
            z += 0.3;
        }
        z += 0.6 * f64::from(self.pricing_views_14_days.min(4));
        z += 0.3 * f64::from(self.pricing_views_30_days.min(3));
        z += match self.demo_request_days_ago {
            Some(days) if days < 14 => 1.6,
            Some(days) if days < 45 => 0.7,
            Some(_) => 0.2,
            None => 0.0,
        };
        z += 0.7 * f64::from(self.webinars_30_days.min(2));
        z += 0.5 * f64::from(self.email_clicks_30_days.min(3));
        if self.unsubscribed_90_days {
            z -= 0.8;
        }
        z
    }
}

/// An instant in working hours (08:00–18:00 UTC) on the day `day` whole days
/// after as-of (a negative `day` is before it).
fn outcome_instant(rng: &mut ChaCha8Rng, day: i64) -> i64 {
    AS_OF + day * 86_400 + rng.random_range(8..18) * 3_600 + rng.random_range(0..60) * 60
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Writes the outcomes file: its own random stream, and a counter of the
/// unmatched ids handed out so far.
struct OutcomeWriter {
    rng: ChaCha8Rng,
    out: std::io::BufWriter<std::fs::File>,
    seed: u64,
    opaque: bool,
    contacts: u64,
    unmatched: u64,
    line: String,
}

impl OutcomeWriter {
    /// Writes one outcome line for `id`, then, about once in a hundred lines,
    /// a line for an id that is not in the snapshot.
    fn write(&mut self, id: &str, kind: &str, at: i64, amount: Option<u64>) {
        use std::fmt::Write as _;
        self.line.clear();
        let _ = write!(
            self.line,
            "{{\"id\":\"{id}\",\"type\":\"{kind}\",\"at\":\"{}\"",
            timestamp(at)
        );
        if let Some(amount) = amount {
            let _ = write!(self.line, ",\"amount\":{amount}");
        }
        self.line.push_str("}\n");
        self.out.write_all(self.line.as_bytes()).unwrap();
        if self.rng.random_bool(0.01) {
            let mut unknown = String::with_capacity(18);
            let n = self.contacts + self.unmatched;
            self.unmatched += 1;
            if self.opaque {
                opaque_id(self.seed, n, &mut unknown);
            } else {
                let _ = write!(unknown, "g-{n}");
            }
            let day = self.rng.random_range(0..45);
            let at = outcome_instant(&mut self.rng, day);
            self.write_unmatched(&unknown, at);
        }
    }

    /// Writes a `meeting_held` line for an id that is not in the snapshot
    /// (never followed by another unmatched line).
    fn write_unmatched(&mut self, id: &str, at: i64) {
        let line = format!(
            "{{\"id\":\"{id}\",\"type\":\"meeting_held\",\"at\":\"{}\"}}\n",
            timestamp(at)
        );
        self.out.write_all(line.as_bytes()).unwrap();
    }

    /// Draws and writes what happens to one contact after as-of.
    fn write_contact(&mut self, id: &str, signals: &Signals) {
        let noise = 0.8 * standard_normal(&mut self.rng);
        let log_odds = signals.meeting_log_odds() + noise;
        let meeting_chance = if signals.is_competitor {
            0.0
        } else {
            1.0 / (1.0 + (-log_odds).exp())
        };
        // A few contacts met sales in the two months before as-of.
        if self.rng.random_bool(0.005) {
            let day = -self.rng.random_range(1..60);
            let at = outcome_instant(&mut self.rng, day);
            self.write(id, "meeting_held", at, None);
        }
        // Sales reaches out to some contacts, more often to likely buyers.
        if self.rng.random_bool((0.08 + 0.6 * meeting_chance).min(1.0)) {
            // Hours after as-of, most within a working day or two.
            let hours = (-30.0 * (1.0 - self.rng.random::<f64>()).ln()).min(24.0 * 20.0);
            let at = AS_OF + 60 + (hours * 3_600.0) as i64;
            self.write(id, "sales_touch", at, None);
            if self.rng.random_bool(0.25) {
                let later = at + self.rng.random_range(1..10) * 86_400;
                self.write(id, "sales_touch", later, None);
            }
        }
        if !self.rng.random_bool(meeting_chance) {
            // Sales accepts a few leads that then hold no meeting.
            if self.rng.random_bool(0.3 * meeting_chance) {
                let day = self.rng.random_range(0..10);
                let at = outcome_instant(&mut self.rng, day);
                self.write(id, "sales_accepted", at, None);
            }
            return;
        }
        // Most meetings fall within 30 days, some up to 45; sales accepts
        // most of these leads first, on the day of the meeting at the latest.
        let day = if self.rng.random_bool(0.85) {
            self.rng.random_range(0..30)
        } else {
            self.rng.random_range(30..45)
        };
        if self.rng.random_bool(0.7) {
            let accepted_day = self.rng.random_range(0..=day.min(10));
            let at = outcome_instant(&mut self.rng, accepted_day);
            self.write(id, "sales_accepted", at, None);
        }
        let meeting_at = outcome_instant(&mut self.rng, day);
        self.write(id, "meeting_held", meeting_at, None);
        if self.rng.random_bool(0.1) {
            let at = meeting_at + self.rng.random_range(2..15) * 86_400;
            self.write(id, "meeting_held", at, None);
        }
        if self.rng.random_bool(0.45) {
            let day = (day + self.rng.random_range(3..75)).min(119);
            let at = outcome_instant(&mut self.rng, day);
            // Log-uniform from 5,000 to 60,000, more for bigger companies,
            // rounded to 500 and at most 150,000.
            let base = (5_000f64.ln() + self.rng.random::<f64>() * (12.0f64).ln()).exp();
            let scale = match signals.company_size {
                Some(size) if size >= 1000 => 2.5,
                Some(size) if size >= 200 => 1.6,
                _ => 1.0,
            };
            let amount = ((base * scale / 500.0).round() as u64 * 500).min(150_000);
            self.write(id, "opportunity_created", at, Some(amount));
        }
    }
}

fn main() {
    let mut contacts: u64 = 100_000;
    let mut seed: u64 = 7;
    let mut opaque = false;
    let mut outcomes_path: Option<String> = None;
    let usage = "usage: gen_snapshot [--contacts N] [--seed N] [--ids sequential|opaque] [--outcomes FILE]";
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
            "--outcomes" => outcomes_path = Some(args.next().expect("--outcomes FILE")),
            other => {
                eprintln!("unknown argument `{other}`; {usage}");
                std::process::exit(2);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut outcomes = outcomes_path.map(|path| OutcomeWriter {
        // A stream of its own, so the snapshot does not depend on it.
        rng: ChaCha8Rng::seed_from_u64(mix(seed ^ 0x6f75_7463_6f6d_6573)),
        out: std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&path).unwrap_or_else(|error| {
                eprintln!("cannot create `{path}`: {error}");
                std::process::exit(2);
            }),
        ),
        seed,
        opaque,
        contacts,
        unmatched: 0,
        line: String::with_capacity(128),
    });
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
        let mut signals = Signals {
            domain: pick(&mut rng, DOMAINS),
            ..Signals::default()
        };
        let _ = write!(
            line,
            "{{\"id\":\"{id}\",\"email\":\"user{n}@{}\",\"properties\":{{",
            signals.domain
        );
        signals.title = pick(&mut rng, TITLES);
        let _ = write!(line, "\"job_title\":\"{}\"", signals.title);
        if rng.random_bool(0.85) {
            let size: u32 = match rng.random_range(0..10) {
                0..=3 => rng.random_range(1..50),
                4..=6 => rng.random_range(50..200),
                _ => rng.random_range(200..20_000),
            };
            signals.company_size = Some(size);
            let _ = write!(line, ",\"company_size\":{size}");
        }
        signals.industry = pick(&mut rng, INDUSTRIES);
        signals.country = pick(&mut rng, COUNTRIES);
        signals.lifecycle_stage = pick(&mut rng, STAGES);
        let _ = write!(
            line,
            ",\"industry\":\"{}\",\"country\":\"{}\",\"lifecycle_stage\":\"{}\"",
            signals.industry, signals.country, signals.lifecycle_stage
        );
        if rng.random_bool(0.2) {
            let _ = write!(line, ",\"owner\":\"u-{:02}\"", rng.random_range(1..40));
        } else {
            line.push_str(",\"owner\":null");
        }
        signals.open_deal = rng.random_bool(0.08);
        let email_opt_out = rng.random_bool(0.05);
        signals.is_competitor = rng.random_bool(0.01);
        let _ = write!(
            line,
            ",\"open_deal\":{},\"email_opt_out\":{email_opt_out},\"is_competitor\":{},\"source\":\"{}\"",
            signals.open_deal,
            signals.is_competitor,
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
            let ago = rng.random_range(0..120 * 86_400);
            let _ = write!(
                line,
                "{{\"type\":\"{kind}\",\"at\":\"{}\",\"props\":{{",
                timestamp(AS_OF - ago)
            );
            let detail = match kind {
                "page_view" => {
                    let url = pick(&mut rng, URLS);
                    let _ = write!(line, "\"url\":\"{url}\"");
                    url
                }
                "form_submit" => {
                    let form = pick(&mut rng, FORMS);
                    let _ = write!(line, "\"form\":\"{form}\"");
                    form
                }
                "webinar_attended" => {
                    line.push_str("\"webinar\":\"w-2026-11-ops\"");
                    ""
                }
                _ => {
                    line.push_str("\"campaign\":\"nov-digest\"");
                    ""
                }
            };
            signals.add_event(kind, detail, ago / 86_400);
            line.push_str("}}");
        }
        line.push_str("]}\n");
        out.write_all(line.as_bytes()).unwrap();
        if let Some(outcomes) = outcomes.as_mut() {
            outcomes.write_contact(&id, &signals);
        }
    }
    out.flush().unwrap();
    if let Some(mut outcomes) = outcomes {
        outcomes.out.flush().unwrap();
    }
}
