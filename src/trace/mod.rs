//! Explain traces: the [`Recorder`] tracer that turns the evaluator's calls
//! into a [`Trace`] (every rule, event, branch, suppression and target with
//! the values it saw), and its renderings (text in [`render`], JSON through
//! serde; the JSON schema is documented in `docs/explain.md`).
//!
//! - `schema.rs`: the trace records, whose serde form is the public JSON
//!   format of `explain --format json`.
//! - `recorder.rs`: the [`Recorder`], which builds them from the
//!   evaluator's scopes.
//! - `values.rs`: values, constants and operands as a trace shows them.
//! - `render.rs`, `why_not.rs`: the text tree and the `--why-not` answer.
//!
//! Architecture Invariant: a trace is recorded by the same evaluator code path
//! as `run` (`eval::evaluate_into` with a `Recorder`), so its numbers are the
//! numbers `run` prints.

mod aggregate_trace;
mod recorder;
pub mod render;
mod schema;
#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests;
mod values;
mod why_not;

pub use recorder::Recorder;
pub use schema::{
    AggregateEventTrace, AggregateTrace, BandTrace, BranchTrace, CapTrace, ConvertedTrace, EventTrace,
    RowTrace, RuleKind, RuleTrace, ScoreTrace, SegmentTrace, SuppressionTrace, TargetTrace, TestTrace, Trace,
    WarningTrace,
};
pub use why_not::{why_not, WhyNot};

use crate::eval::{evaluate_into, Outcome, RegexScratch};
use crate::plan::Plan;
use crate::snapshot::Contact;
use crate::source::Sources;

/// Evaluates one contact with a recorder: the outcome `run` would compute and its trace.
pub fn explain(plan: &Plan, sources: &Sources, contact: &Contact, as_of: i64) -> (Outcome, Trace) {
    let mut outcome = Outcome::for_plan(plan);
    let mut recorder = Recorder::new(plan, sources, contact, as_of);
    evaluate_into(
        plan,
        contact,
        as_of,
        &mut outcome,
        &mut RegexScratch::default(),
        &mut recorder,
    );
    (outcome, recorder.finish())
}
