//! Text → AST. The pest grammar lives in `grammar/rubric.pest`; pest types
//! never leave this module.
//!
//! Architecture Invariant: parsing never panics, whatever the text. Syntax
//! errors are diagnostics; after one, the parser resumes at the next line that
//! starts a top-level item so that one pass reports every broken item.

pub mod ast;
pub mod comments;
mod parser;

pub use parser::{describe_rule_name, parse_file, written_name};
