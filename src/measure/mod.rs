//! `rubric measure`: judging a rule set by the outcomes it is meant to
//! predict (docs/measure.md). The pipeline of one report:
//!
//! - `outcomes.rs` reads the outcomes file into a compact index by contact id;
//! - `collect.rs` evaluates the snapshot at the as-of instant (the same
//!   streaming pass as `run`) and adds each contact's scores, band values,
//!   `--by` group and conversions to a tally;
//! - `metrics.rs` turns the tally into rates, Wilson intervals, lifts,
//!   captured shares, AUCs, bins and thresholds;
//! - `report.rs` is the JSON report; `render.rs` writes it for people
//!   (text, Markdown).
//!
//! Nothing here prints; `cli/measure.rs` does.

pub mod collect;
pub mod metrics;
pub mod outcomes;
pub mod render;
pub mod report;
