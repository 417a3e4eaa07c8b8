//! rubric: lead-scoring, banding and audience rules as code.
//!
//! The pipeline, one public function per stage:
//!
//! | stage | module | input → output |
//! |---|---|---|
//! | load | [`source`] | path → [`source::Sources`] |
//! | parse | [`syntax`] | text → [`syntax::ast::File`] + syntax diagnostics |
//! | compile | [`compile`] | ASTs → [`plan::Plan`] + diagnostics |
//! | read | [`snapshot`] | JSONL/CSV line → [`snapshot::Contact`] or a bad line |
//! | evaluate | [`eval`] | plan × contact × as-of → [`eval::Outcome`] (+ trace) |
//! | output | [`output`] | outcome → JSON line / table row |
//! | diff | [`diff`] | two plans' outcomes per contact → impact report |
//! | run | [`run`] | plan × snapshot × as-of → results in input order |
//! | sync | [`sync`] | plan × snapshot × stored state → actions (docs/formats.md#actions) + next state |
//!
//! [`pipeline`] is the ordered parallel pipeline that `run`, `diff` and
//! `sync` read JSON Lines snapshots through, on the threads they are given.
//!
//! The command line (`src/cli/`) is the only place that prints or exits.

pub mod atomic_file;
pub mod case_fold;
pub mod cli;
pub mod compile;
pub mod diagnostics;
pub mod diff;
pub mod eval;
pub mod fmt;
pub mod measure;
pub mod ops;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod run;
pub mod snapshot;
pub mod source;
pub mod sync;
pub mod syntax;
pub mod testing;
pub mod trace;
pub mod wrong_types;
