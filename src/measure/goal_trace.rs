//! Why a contact counts as converted for each goal (`rubric explain
//! --outcomes FILE`): the contact's outcomes of the goal's types, split
//! into those inside the horizon (counted) and those before the as-of or
//! after the horizon (not counted), as `rubric measure` decides.

use serde::Serialize;

use super::outcomes::OutcomeIndex;
use super::report::Real;
use crate::plan::{GoalValue, Plan};
use crate::snapshot::format_timestamp;

/// One goal's verdict for one contact.
#[derive(Debug, Clone, Serialize)]
pub struct GoalTrace {
    pub goal: String,
    pub outcome_types: Vec<String>,
    pub horizon_days: Real,
    pub converted: bool,
    /// The counted outcomes, in file order.
    pub counted: Vec<CountedOutcome>,
    /// The sum of the counted outcomes' amounts (goals with a value), else 0.
    pub amount: Real,
    /// Outcomes of the goal's types at or before the as-of (never counted).
    pub before_as_of: u64,
    /// Outcomes of the goal's types after the horizon.
    pub after_horizon: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CountedOutcome {
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    /// Days after the as-of.
    pub days_after: Real,
    pub amount: Real,
}

/// The verdict of every goal of `plan` for contact `id`. `index` must keep
/// the types listed by `kept` (in that order).
pub fn goal_traces(
    plan: &Plan,
    index: &OutcomeIndex,
    kept: &[String],
    id: &str,
    as_of: i64,
) -> Vec<GoalTrace> {
    let found = index.get(id);
    plan.goals
        .iter()
        .map(|goal| {
            let end = as_of.saturating_add(goal.horizon_micros);
            let mut trace = GoalTrace {
                goal: goal.name.clone(),
                outcome_types: goal.outcome_types.clone(),
                horizon_days: Real(goal.horizon_micros as f64 / 86_400_000_000.0),
                converted: false,
                counted: Vec::new(),
                amount: Real(0.0),
                before_as_of: 0,
                after_horizon: 0,
            };
            for o in found.goal {
                let Some(kind) = kept.get(usize::from(o.kind)) else {
                    continue;
                };
                if !goal.outcome_types.contains(kind) {
                    continue;
                }
                if o.at <= as_of {
                    trace.before_as_of += 1;
                } else if o.at > end {
                    trace.after_horizon += 1;
                } else {
                    let amount = if goal.value == GoalValue::SumOfAmount {
                        o.amount
                    } else {
                        0.0
                    };
                    trace.amount.0 += amount;
                    trace.counted.push(CountedOutcome {
                        kind: kind.clone(),
                        at: format_timestamp(o.at),
                        days_after: Real((o.at - as_of) as f64 / 86_400_000_000.0),
                        amount: Real(amount),
                    });
                }
            }
            trace.converted = !trace.counted.is_empty();
            trace
        })
        .collect()
}

/// The goals section of a text trace.
pub fn goals_text(traces: &[GoalTrace]) -> String {
    let mut out = String::new();
    for t in traces {
        let types = t.outcome_types.join(" or ");
        let horizon = super::render_number(t.horizon_days);
        if t.converted {
            out.push_str(&format!(
                "goal {} ✓ converted: {} within {horizon} days after as-of\n",
                t.goal, types
            ));
        } else {
            out.push_str(&format!(
                "goal {} ✗ not converted: no {} within {horizon} days after as-of\n",
                t.goal, types
            ));
        }
        for c in &t.counted {
            let amount = if c.amount.0 != 0.0 {
                format!(", amount {}", super::render_number(c.amount))
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  + {} {} ({:.1} days after as-of{amount})\n",
                c.kind, c.at, c.days_after.0
            ));
        }
        if t.before_as_of > 0 || t.after_horizon > 0 {
            out.push_str(&format!(
                "  not counted: {} at or before as-of, {} after the horizon\n",
                t.before_as_of, t.after_horizon
            ));
        }
    }
    out
}
