//! `--why-not ROUTE=QUEUE`: why a routed contact's task went to another
//! queue (or none): the queue branches tried before the chosen one, and how
//! the chosen queue was picked (the property value read, the table row, the
//! round-robin member, which only the contact id decides).

use super::{change_for, describe_test, failed_tests, target_why_not, WhyNot};
use crate::trace::{TargetTrace, Trace};

pub(super) fn route_queue_why_not(trace: &Trace, t: &TargetTrace, queue: &str) -> WhyNot {
    let target = format!("{}={queue}", t.name);
    if !t.member {
        let mut answer = target_why_not(trace, t, "route");
        answer.target = target;
        answer
            .reasons
            .push(String::from("the route does not hold, so it has no queue"));
        return answer;
    }
    let got = t.queue.as_deref().unwrap_or("");
    let mut reasons = Vec::new();
    let mut changes = Vec::new();
    if got != queue {
        reasons.push(format!("routed to `{got}`"));
        let chosen = t.queue_branches.iter().rev().find(|b| b.matched);
        for branch in t.queue_branches.iter().filter(|b| !b.matched && b.value == queue) {
            for test in failed_tests(&branch.tests) {
                reasons.push(format!("branch `{}`: {}", branch.value, describe_test(test)));
                changes.push(change_for(test));
            }
        }
        // A branch that picks (a table, a property, a round robin) may give
        // the queue itself: its pick says what would have to change.
        let picked = t.picks.iter().any(|p| p.role == "queue");
        if let Some(chosen) = chosen {
            let named_later = !t.queue_branches.iter().any(|b| b.value == queue);
            if named_later && chosen.value != queue {
                reasons.push(format!(
                    "branch `{}` was chosen{}",
                    chosen.value,
                    if chosen.otherwise { " (`otherwise`)" } else { "" }
                ));
                if !chosen.otherwise && !picked {
                    changes.push(format!("branch `{}` would have to stop matching", chosen.value));
                }
            }
        }
        for pick in t.picks.iter().filter(|p| p.role == "queue") {
            let value = pick.value.as_ref().map_or_else(String::new, ToString::to_string);
            let picked = pick.picked.as_deref().unwrap_or("nothing");
            match pick.source {
                "property" => {
                    let property = pick.property.as_deref().unwrap_or("");
                    reasons.push(format!("`from {property}` read {value}: {picked}"));
                    changes.push(format!("{property} would have to be \"{queue}\""));
                }
                "table" => {
                    let property = pick.property.as_deref().unwrap_or("");
                    reasons.push(format!(
                        "table `{}`: {property} {value} matched row {} → {picked}",
                        pick.table.as_deref().unwrap_or(""),
                        pick.row.as_deref().unwrap_or("")
                    ));
                    changes.push(format!(
                        "{property} would have to be a key that table `{}` maps to `{queue}`",
                        pick.table.as_deref().unwrap_or("")
                    ));
                }
                "round_robin" => {
                    reasons.push(format!(
                        "round robin: fnv1a64(id) = {} mod {} = {} → {picked}",
                        pick.hash.as_deref().unwrap_or(""),
                        pick.members.unwrap_or(0),
                        pick.index.unwrap_or(0)
                    ));
                    changes.push(String::from(
                        "none by data: a round robin's member depends only on the contact id",
                    ));
                }
                _ => {}
            }
        }
    }
    WhyNot {
        target,
        kind: "route",
        satisfied: got == queue,
        reasons,
        changes,
    }
}
