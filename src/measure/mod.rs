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
//!   (text, Markdown);
//! - `html.rs` writes it as one self-contained page of charts and tables,
//!   drawn with the small SVG writer in `svg.rs`;
//! - `live.rs` is the live measurement (`--state`): the band entries and
//!   tasks `apply` recorded, judged by the outcomes that followed, with its
//!   own report and renderings.
//!
//! `goal_trace.rs` explains one contact's verdict per goal (`rubric explain
//! --outcomes`). Nothing here prints; `cli/measure.rs` does.

pub mod collect;
pub mod goal_trace;
pub mod html;
pub mod live;
pub mod metrics;
pub mod outcomes;
pub mod render;
pub mod report;
mod svg;

/// A whole number as is, otherwise two decimals (for people).
pub(crate) fn render_number(x: report::Real) -> String {
    if x.0.fract() == 0.0 && x.0.abs() < 9e15 {
        format!("{}", x.0 as i64)
    } else {
        format!("{:.2}", x.0)
    }
}
