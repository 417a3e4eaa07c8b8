//! Micro-benchmarks (divan): compiling, decoding one line, evaluating one
//! contact with and without tracing.
//!
//! ```text
//! cargo bench --bench eval
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use divan::{black_box, Bencher};
use rubric::eval::{evaluate_into, NoTrace, Outcome, RegexScratch, Tracer};
use rubric::source::{SourceFile, Sources};

#[path = "../examples/gen_rules.rs"]
#[allow(dead_code)]
mod gen_rules;
use gen_rules::generated_rules;

fn main() {
    divan::main();
}

/// A typical contact line of the generated snapshots (8 events).
const LINE: &str = r#"{"id":"g-17","email":"user17@acme.io","properties":{"job_title":"Director of Demand Generation","company_size":640,"industry":"SaaS","country":"DE","lifecycle_stage":"mql","owner":null,"open_deal":false,"email_opt_out":false,"is_competitor":false,"source":"organic","last_sales_touch_at":null},"events":[{"type":"page_view","at":"2026-11-25T09:00:00Z","props":{"url":"/pricing"}},{"type":"email_open","at":"2026-11-24T08:00:00Z","props":{"campaign":"nov-digest"}},{"type":"page_view","at":"2026-11-20T10:00:00Z","props":{"url":"/docs"}},{"type":"email_click","at":"2026-11-21T08:00:00Z","props":{"campaign":"nov-digest"}},{"type":"form_submit","at":"2026-11-26T15:30:00Z","props":{"form":"demo_request"}},{"type":"webinar_attended","at":"2026-10-30T15:30:00Z","props":{"webinar":"w-2026-11-ops"}},{"type":"page_view","at":"2026-11-02T10:00:00Z","props":{"url":"/pricing/enterprise"}},{"type":"email_open","at":"2026-09-24T08:00:00Z","props":{"campaign":"oct-digest"}}]}"#;

fn playbook_sources() -> Sources {
    Sources::load(Path::new("rules")).unwrap()
}

#[divan::bench]
fn compile_playbook(bencher: Bencher) {
    let sources = playbook_sources();
    bencher.bench(|| rubric::compile::compile(black_box(&sources)).unwrap());
}

#[divan::bench(args = [2000])]
fn compile_generated(bencher: Bencher, rules: usize) {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("generated.rubric", generated_rules(rules)));
    bencher.bench(|| rubric::compile::compile(black_box(&sources)).unwrap());
}

#[divan::bench]
fn decode_line(bencher: Bencher) {
    let plan = rubric::compile::compile(&playbook_sources()).unwrap().plan;
    bencher.bench(|| rubric::snapshot::decode_line(&plan.decode, black_box(LINE)).unwrap());
}

#[divan::bench]
fn parse_line_into_json_value(bencher: Bencher) {
    bencher.bench(|| serde_json::from_str::<serde_json::Value>(black_box(LINE)).unwrap());
}

/// A tracer that is on but records nothing: the cost of the hooks themselves.
struct CountingTracer(u64);

impl Tracer for CountingTracer {
    const ENABLED: bool = true;
    fn test(
        &mut self,
        _: &rubric::plan::Cond,
        _: bool,
        _: &rubric::eval::EvalValue<'_>,
        _: Option<&rubric::eval::EvalValue<'_>>,
    ) {
        self.0 += 1;
    }
}

#[divan::bench]
fn evaluate_untraced(bencher: Bencher) {
    let plan = rubric::compile::compile(&playbook_sources()).unwrap().plan;
    let contact = rubric::snapshot::decode_line(&plan.decode, LINE)
        .unwrap()
        .unwrap();
    let as_of = rubric::snapshot::parse_timestamp("2026-11-28T00:00:00Z").unwrap();
    let mut outcome = Outcome::for_plan(&plan);
    let mut regexes = RegexScratch::default();
    bencher.bench_local(|| {
        evaluate_into(
            &plan,
            black_box(&contact),
            as_of,
            &mut outcome,
            &mut regexes,
            &mut NoTrace,
        );
        black_box(&outcome);
    });
}

#[divan::bench]
fn evaluate_hooks_on(bencher: Bencher) {
    let plan = rubric::compile::compile(&playbook_sources()).unwrap().plan;
    let contact = rubric::snapshot::decode_line(&plan.decode, LINE)
        .unwrap()
        .unwrap();
    let as_of = rubric::snapshot::parse_timestamp("2026-11-28T00:00:00Z").unwrap();
    let mut outcome = Outcome::for_plan(&plan);
    let mut regexes = RegexScratch::default();
    let mut tracer = CountingTracer(0);
    bencher.bench_local(|| {
        evaluate_into(
            &plan,
            black_box(&contact),
            as_of,
            &mut outcome,
            &mut regexes,
            &mut tracer,
        );
        black_box(&outcome);
    });
}

#[divan::bench]
fn evaluate_recorded(bencher: Bencher) {
    let sources = playbook_sources();
    let plan = rubric::compile::compile(&sources).unwrap().plan;
    let contact = rubric::snapshot::decode_line(&plan.decode, LINE)
        .unwrap()
        .unwrap();
    let as_of = rubric::snapshot::parse_timestamp("2026-11-28T00:00:00Z").unwrap();
    bencher.bench_local(|| rubric::trace::explain(&plan, &sources, black_box(&contact), as_of));
}

#[divan::bench]
fn write_result(bencher: Bencher) {
    let plan = rubric::compile::compile(&playbook_sources()).unwrap().plan;
    let contact = rubric::snapshot::decode_line(&plan.decode, LINE)
        .unwrap()
        .unwrap();
    let as_of = rubric::snapshot::parse_timestamp("2026-11-28T00:00:00Z").unwrap();
    let outcome = rubric::eval::evaluate(&plan, &contact, as_of);
    let mut out = Vec::with_capacity(512);
    bencher.bench_local(|| {
        out.clear();
        rubric::output::write_result(&mut out, &plan, &contact.id, &outcome);
        black_box(&out);
    });
}
