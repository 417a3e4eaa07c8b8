//! The labels of a route compared by `diff`: every queue its branches can
//! give (a literal, a table's values, round-robin members, fallbacks), so a
//! contact moving between table rows or round-robin members counts as a
//! queue change; a queue read from a property counts under its branch as
//! written (`from owner_queue`), since its values are not known in advance.

use crate::eval::Outcome;
use crate::plan::{Pick, Picked, Plan, Route};

/// Where one side's route outcome falls among the tracker's labels.
#[derive(Debug, Default)]
pub(super) struct RouteLabels {
    /// Per name of `Routing::pick_names`: its label, when a branch can give it.
    by_name: Vec<Option<usize>>,
    /// Per queue branch: the label of a queue not among the names (a property's value).
    by_branch: Vec<usize>,
}

/// The labels of `route` (`None` first: not routed) and how to find them.
pub(super) fn route_labels(plan: &Plan, route: &Route) -> (Vec<Option<String>>, RouteLabels) {
    let mut labels: Vec<Option<String>> = vec![None];
    let mut by_name = vec![None; plan.routing.pick_names.len()];
    let mut by_branch = Vec::new();
    let label_of = |labels: &mut Vec<Option<String>>, text: &str| -> usize {
        match labels.iter().position(|l| l.as_deref() == Some(text)) {
            Some(i) => i,
            None => {
                labels.push(Some(text.to_string()));
                labels.len() - 1
            }
        }
    };
    for branch in &route.queue {
        let mut names = Vec::new();
        names_of(plan, &branch.pick, &mut names);
        for n in names {
            let label = label_of(&mut labels, plan.routing.name(n));
            if let Some(slot) = by_name.get_mut(n as usize) {
                *slot = Some(label);
            }
        }
        let own = match &branch.pick {
            Pick::Name(n) => label_of(&mut labels, plan.routing.name(*n)),
            _ => label_of(&mut labels, &branch.queue),
        };
        by_branch.push(own);
    }
    (labels, RouteLabels { by_name, by_branch })
}

/// Every literal name a pick can give.
fn names_of(plan: &Plan, pick: &Pick, out: &mut Vec<u32>) {
    match pick {
        Pick::Name(n) => out.push(*n),
        Pick::RoundRobin(members) => out.extend(members),
        Pick::Table(t) => {
            if let Some(table) = plan.routing.tables.get(*t) {
                out.extend(table.rows.iter().map(|(_, v)| *v));
                out.push(table.otherwise);
            }
        }
        Pick::Property { fallback, .. } => {
            if let Some(f) = fallback {
                names_of(plan, f, out);
            }
        }
    }
}

/// The label index of route `index` in `outcome`.
pub(super) fn route_label(labels: &RouteLabels, index: usize, outcome: &Outcome) -> usize {
    let Some(branch) = outcome.routes.get(index).copied().flatten() else {
        return 0;
    };
    let by_branch = labels.by_branch.get(usize::from(branch)).copied().unwrap_or(0);
    match outcome.route_picks.get(index).map(|p| &p.queue) {
        Some(Picked::Name(n)) => labels
            .by_name
            .get(*n as usize)
            .copied()
            .flatten()
            .unwrap_or(by_branch),
        _ => by_branch,
    }
}
