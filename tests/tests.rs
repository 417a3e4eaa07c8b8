//! The integration tests: one binary made of one module per concern (as
//! ripgrep's `tests/tests.rs`), so that a 2-core machine links one test
//! executable instead of fourteen. Helpers shared by several modules live in
//! `common`.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
#[path = "../examples/gen_rules.rs"]
mod gen_rules;

mod aggregates;
mod arithmetic;
mod channels;
mod cli;
mod conventions;
mod diagnostics;
mod diff;
mod expansion;
mod explain;
mod fmt;
mod fuzz;
mod golden;
mod language_fixes;
mod lints;
mod lists;
mod measure;
mod measure_html;
mod measure_live;
mod parser;
mod parser_props;
mod ranges;
mod reliability;
mod routing;
mod rule_tests;
mod run_props;
mod semantics;
mod sync;
mod sync_crash;
