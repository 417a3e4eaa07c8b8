//! The four renderers of diagnostics, one per file: `human` (miette reports
//! for people), `json` (`check --format json`), `github` (GitHub Actions
//! workflow commands) and `sarif` (SARIF 2.1.0). Each takes the diagnostics
//! and the sources they point into and returns text or a value; printing is
//! left to the command.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
