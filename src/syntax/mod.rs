//! Text → AST. The pest grammar lives in `grammar/rubric.pest`; pest types
//! never leave this module.
//!
//! Architecture Invariant: parsing never panics, whatever the text. Syntax
//! errors are diagnostics; after one, the parser resumes at the next line that
//! starts a top-level item so that one pass reports every broken item.
//!
//! Architecture Invariant: no item handed to pest nests deeper than
//! [`MAX_NESTING_DEPTH`] (`depth.rs`), so no recursive pass over the AST can
//! overflow the stack; a deeper item is a `rubric::nesting_too_deep` error.

mod aggregate_hints;
pub use aggregate_hints::aggregate_head;
pub mod ast;
pub mod comments;
mod depth;
mod parser;

pub use depth::MAX_NESTING_DEPTH;
pub use parser::{describe_rule_name, parse_file, written_band_value, written_name};
