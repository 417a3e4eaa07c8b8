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
//!
//! The command line (`src/cli/`) is the only place that prints or exits.

pub mod cli;
pub mod compile;
pub mod diagnostics;
pub mod diff;
pub mod eval;
pub mod fmt;
pub mod ops;
pub mod output;
pub mod plan;
pub mod snapshot;
pub mod source;
pub mod sync;
pub mod syntax;
pub mod testing;
pub mod trace;
