//! Writes a generated rule set with N score rules (for `check` timings).
//!
//! ```text
//! cargo run --release --example gen_rules -- 2000 > /tmp/rules-2000.rubric
//! time target/release/rubric check /tmp/rules-2000.rubric
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    print!("{}", generated_rules(n));
}

/// A generated rule set with `n` score rules spread over scores, plus bands
/// and targets that read them, and the customer suppression a real rule set
/// has (so that `check` times a lint-clean set, not 40 rendered warnings).
pub fn generated_rules(n: usize) -> String {
    let mut text = String::from("const regions = [\"US\", \"CA\", \"GB\", \"DE\"]\n");
    text.push_str("suppress customer on ads, email, sales when lifecycle_stage == \"customer\"\n");
    let scores = n.div_ceil(50);
    for s in 0..scores {
        text.push_str(&format!("score s{s} 0..100 {{\n"));
        for r in 0..50.min(n - s * 50) {
            let rule = match r % 5 {
                0 => format!("  \"r{r}\" when job_title matches /\\b(vp|head of|chief{r})\\b/i => +{}\n", r % 7 + 1),
                1 => format!("  \"r{r}\" when company_size >= {} => +2\n", r * 10),
                2 => format!("  \"r{r}\" when country in regions ignoring case and industry == \"SaaS\" => +3\n"),
                3 => format!(
                    "  \"r{r}\" each page_view where url starts with \"/p{r}\" within {} days => +1 decay half-life 7 days, max 10\n",
                    r + 1
                ),
                _ => format!("  \"r{r}\" when any form_submit where form == \"f{r}\" within 14 days => +5\n"),
            };
            text.push_str(&rule);
        }
        text.push_str("}\n");
        text.push_str(&format!(
            "band b{s} {{\n  hot when s{s} >= 50\n  warm when s{s} >= 20\n  cold otherwise\n}}\naudience a{s} when b{s} is hot\n"
        ));
    }
    text
}
