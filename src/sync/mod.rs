//! Sync (docs/formats.md#actions): compare each contact's outcome with the state of the last
//! applied run and derive the edge-triggered actions, plus the state store,
//! the action lines and the destination files.
//!
//! Architecture Invariant: the functions here are pure (no I/O, no clock):
//! given a plan, an outcome and the previous state of a contact they return
//! its actions, in the documented order (docs/formats.md#actions), and its next state. The driver
//! ([`run::sync_snapshot`]) streams the snapshot and reads and writes the
//! state through a [`run::StateStore`] ([`store::Store`]); it prints nothing.
//! [`apply::finish_apply`] logs an apply's run, writes its outputs and then
//! commits. The CLI (`plan`, `apply`) opens the store and reports.

pub mod actions;
pub mod apply;
pub mod destinations;
pub mod run;
pub mod store;

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::eval::Outcome;
use crate::plan::{Channel, Plan, Reach};
use crate::source::Sources;
use actions::{Action, ActionKind, Task};

/// What the state remembers about one contact: the last applied bands,
/// memberships and routes, by name (so a rule change that renames or
/// removes a target is seen), and the hash of its email (for removing a
/// deleted contact from ad audiences).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactState {
    /// Band name → value.
    pub bands: Vec<(String, String)>,
    pub audiences: Vec<String>,
    pub workflows: Vec<String>,
    /// Route name → queue, for routes currently satisfied.
    pub routes: Vec<(String, String)>,
    pub email_sha256: Option<String>,
    /// Per entry of `routes`, the SLA and assignee of its task. Not stored:
    /// made by [`next_state`] for the `task_create` actions of this run
    /// (empty in a state read back from the store).
    pub tasks: Vec<RouteTaskDetail>,
}

/// The parts of a route's task that come from the chosen branch and picks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteTaskDetail {
    pub sla_hours: f64,
    /// `None` when the route declares no assignee; `Some(None)` for `null`.
    pub assignee: Option<Option<String>>,
}

impl ContactState {
    /// The four JSON texts stored in the `contacts` table: bands (object),
    /// audiences and workflows (arrays), routes (object route → queue).
    pub fn encode(&self) -> (String, String, String, String) {
        fn object(pairs: &[(String, String)]) -> String {
            let mut out = Vec::new();
            out.push(b'{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::output::push_str(&mut out, k);
                out.push(b':');
                crate::output::push_str(&mut out, v);
            }
            out.push(b'}');
            String::from_utf8_lossy(&out).into_owned()
        }
        fn array(names: &[String]) -> String {
            serde_json::to_string(names).unwrap_or_else(|_| String::from("[]"))
        }
        (
            object(&self.bands),
            array(&self.audiences),
            array(&self.workflows),
            object(&self.routes),
        )
    }

    /// Reads the texts written by [`ContactState::encode`].
    pub fn decode(
        bands: &str,
        audiences: &str,
        workflows: &str,
        routes: &str,
        email_sha256: Option<String>,
    ) -> Result<ContactState, String> {
        fn object(text: &str) -> Result<Vec<(String, String)>, String> {
            let map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(text).map_err(|e| e.to_string())?;
            map.into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => Ok((k, s)),
                    other => Err(format!("`{k}` is {other}, not text")),
                })
                .collect()
        }
        fn array(text: &str) -> Result<Vec<String>, String> {
            serde_json::from_str(text).map_err(|e| e.to_string())
        }
        Ok(ContactState {
            bands: object(bands)?,
            audiences: array(audiences)?,
            workflows: array(workflows)?,
            routes: object(routes)?,
            email_sha256,
            tasks: Vec::new(),
        })
    }

    fn band(&self, name: &str) -> Option<&str> {
        self.bands
            .iter()
            .find(|(b, _)| b == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The digest of a rule set (the "model version" every action carries): the
/// first 64 bits, in hex, of a SHA-256 over the files' texts in load order.
pub fn rules_digest(sources: &Sources) -> String {
    let mut hasher = Sha256::new();
    for file in &sources.files {
        hasher.update((file.text.len() as u64).to_le_bytes());
        hasher.update(file.text.as_bytes());
    }
    actions::hex(hasher.finalize().get(..8).unwrap_or(&[]))
}

/// Compares a contact present in the snapshot with its previous state
/// (`None` when it is new to the state), appends its actions to `out` in
/// the order of docs/formats.md#actions (band changes, then audiences, workflows and tasks, each in
/// declaration order; removals from targets the rule set no longer has come
/// after the declared ones of their kind) and returns its next state.
pub fn diff_present(
    plan: &Plan,
    id: &str,
    outcome: &Outcome,
    email_sha256: Option<String>,
    prev: Option<&ContactState>,
    out: &mut Vec<Action>,
) -> ContactState {
    let next = next_state(plan, outcome, email_sha256);
    diff_states(plan, id, prev, &next, out);
    next
}

/// The state a contact present in the snapshot moves to. It does not depend
/// on the previous state, so it can be computed where the contact is
/// evaluated (a worker thread) and compared later ([`diff_states`]).
pub fn next_state(plan: &Plan, outcome: &Outcome, email_sha256: Option<String>) -> ContactState {
    let mut next = ContactState {
        email_sha256,
        ..ContactState::default()
    };
    for (band, value) in plan.bands.iter().zip(&outcome.bands) {
        let value = band.values.get(usize::from(*value)).cloned().unwrap_or_default();
        next.bands.push((band.name.clone(), value));
    }
    for (targets, flags, after) in [
        (&plan.audiences, &outcome.audiences, &mut next.audiences),
        (&plan.workflows, &outcome.workflows, &mut next.workflows),
    ] {
        for (target, now) in targets.iter().zip(flags) {
            if *now {
                after.push(target.name.clone());
            }
        }
    }
    for (i, (route, queue)) in plan.routes.iter().zip(&outcome.routes).enumerate() {
        let Some(q) = queue else { continue };
        let task = route.task_for(&plan.routing, *q, outcome.route_picks.get(i));
        next.routes.push((route.name.clone(), task.queue.to_string()));
        next.tasks.push(RouteTaskDetail {
            sla_hours: task.sla_hours,
            assignee: task.assignee.map(|a| a.map(String::from)),
        });
    }
    next
}

/// Appends the actions that take a present contact from `prev` to `next`
/// (made by [`next_state`] with the same plan), in the order of
/// [`diff_present`].
pub fn diff_states(
    plan: &Plan,
    id: &str,
    prev: Option<&ContactState>,
    next: &ContactState,
    out: &mut Vec<Action>,
) {
    let make = |kind: ActionKind, target: &str| Action {
        contact: id.to_string(),
        kind,
        target: target.to_string(),
        from: None,
        to: None,
        task: None,
        channel: None,
        email_sha256: next.email_sha256.clone(),
    };

    // Bands.
    for (band, (_, value)) in plan.bands.iter().zip(&next.bands) {
        let before = prev.and_then(|p| p.band(&band.name));
        if prev.is_none() || before != Some(value.as_str()) {
            out.push(Action {
                from: before.map(str::to_string),
                to: Some(value.clone()),
                ..make(ActionKind::BandChange, &band.name)
            });
        }
    }
    if let Some(p) = prev {
        for (name, value) in &p.bands {
            if !plan.bands.iter().any(|b| &b.name == name) {
                out.push(Action {
                    from: Some(value.clone()),
                    to: None,
                    ..make(ActionKind::BandChange, name)
                });
            }
        }
    }

    // Audiences and workflows. `after` lists the targets held, in declaration order.
    let empty = Vec::new();
    for (targets, after, before, kinds, own) in [
        (
            &plan.audiences,
            &next.audiences,
            prev.map_or(&empty, |p| &p.audiences),
            (ActionKind::AudienceAdd, ActionKind::AudienceRemove),
            Channel::ADS,
        ),
        (
            &plan.workflows,
            &next.workflows,
            prev.map_or(&empty, |p| &p.workflows),
            (ActionKind::WorkflowEnroll, ActionKind::WorkflowExit),
            Channel::EMAIL,
        ),
    ] {
        let mut held = after.iter().peekable();
        for target in targets {
            let now = held.next_if(|name| **name == target.name).is_some();
            let was = before.contains(&target.name);
            let kind = match (now, was) {
                (true, false) => kinds.0,
                (false, true) => kinds.1,
                _ => continue,
            };
            out.push(Action {
                channel: other_channel(plan, &target.reach, own),
                ..make(kind, &target.name)
            });
        }
        for name in before {
            if !targets.iter().any(|t| &t.name == name) {
                out.push(make(kinds.1, name));
            }
        }
    }

    // Routes: a task when a route newly holds; a change of queue alone is no new task.
    // An SLA or assignee change alone is no new task either.
    let mut held = next.routes.iter().enumerate().peekable();
    for route in &plan.routes {
        let Some((k, (_, queue))) = held.next_if(|(_, (name, _))| *name == route.name) else {
            continue;
        };
        let was = prev.is_some_and(|p| p.routes.iter().any(|(r, _)| r == &route.name));
        if !was {
            let detail = next.tasks.get(k);
            out.push(Action {
                task: Some(Task {
                    task: route.task.clone(),
                    sla_hours: detail.map_or(route.sla_hours, |d| d.sla_hours),
                    queue: queue.clone(),
                    assignee: detail.and_then(|d| d.assignee.clone()),
                }),
                channel: other_channel(plan, &route.reach, Channel::SALES),
                ..make(ActionKind::TaskCreate, &route.name)
            });
        }
    }
}

/// A contact in the state but not in the snapshot (and whose line was not
/// rejected). With `leave_all` (a full snapshot) it leaves every audience and
/// workflow, in declaration order, and is dropped from the state (`None`).
/// Otherwise (a partial snapshot) it only leaves targets the rule set no
/// longer has, and keeps the rest of its state.
pub fn diff_absent(
    plan: &Plan,
    id: &str,
    prev: &ContactState,
    leave_all: bool,
    out: &mut Vec<Action>,
) -> Option<ContactState> {
    let make = |kind: ActionKind, target: &str| Action {
        contact: id.to_string(),
        kind,
        target: target.to_string(),
        from: None,
        to: None,
        task: None,
        channel: None,
        email_sha256: prev.email_sha256.clone(),
    };
    let mut next = prev.clone();
    let audience_names: Vec<&str> = plan.audiences.iter().map(|t| t.name.as_str()).collect();
    let workflow_names: Vec<&str> = plan.workflows.iter().map(|t| t.name.as_str()).collect();
    for (before, declared, kind, after, targets, own) in [
        (
            &prev.audiences,
            &audience_names,
            ActionKind::AudienceRemove,
            &mut next.audiences,
            &plan.audiences,
            Channel::ADS,
        ),
        (
            &prev.workflows,
            &workflow_names,
            ActionKind::WorkflowExit,
            &mut next.workflows,
            &plan.workflows,
            Channel::EMAIL,
        ),
    ] {
        if leave_all {
            for name in in_declaration_order(before, declared) {
                let target = targets.iter().find(|t| t.name == name);
                out.push(Action {
                    channel: target.and_then(|t| other_channel(plan, &t.reach, own)),
                    ..make(kind, name)
                });
            }
        } else {
            for name in before.iter().filter(|n| !declared.contains(&n.as_str())) {
                out.push(make(kind, name));
            }
            after.retain(|n| declared.contains(&n.as_str()));
        }
    }
    if leave_all {
        None
    } else {
        Some(next)
    }
}

/// The channel of a target on another channel than its kind's own (`audience
/// x on sms`), for its actions. A target the rule set no longer has is
/// given its kind's own channel (the state keeps names only;
/// docs/decisions.md).
fn other_channel(plan: &Plan, reach: &Reach, own: Channel) -> Option<String> {
    (reach.channel != own).then(|| plan.channel_name(reach.channel).to_string())
}

/// Whether a stored contact has memberships in targets the plan no longer has.
pub fn has_orphans(plan: &Plan, state: &ContactState) -> bool {
    state
        .audiences
        .iter()
        .any(|n| !plan.audiences.iter().any(|t| &t.name == n))
        || state
            .workflows
            .iter()
            .any(|n| !plan.workflows.iter().any(|t| &t.name == n))
}

/// `names` with the declared ones first, in declaration order, then the others
/// in their stored order.
fn in_declaration_order<'a>(names: &'a [String], declared: &[&str]) -> Vec<&'a str> {
    let mut sorted: Vec<(usize, usize, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let rank = declared.iter().position(|d| d == n).unwrap_or(usize::MAX);
            (rank, i, n.as_str())
        })
        .collect();
    sorted.sort_unstable();
    sorted.into_iter().map(|(_, _, n)| n).collect()
}

/// Counts per target for `plan`'s and `apply`'s summaries.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    /// (kind of target, target) → counts, where the kind is `band`,
    /// `audience`, `workflow` or `route`.
    pub targets: BTreeMap<(u8, String), TargetCounts>,
    /// Audience on channel ads → (members after the run, members with a
    /// usable email); the driver lists them before the run.
    pub audience_sizes: BTreeMap<String, (u64, u64)>,
}

/// What happens to one target in a run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TargetCounts {
    /// Adds or enrolments.
    pub entered: u64,
    /// Removes or exits.
    pub left: u64,
    /// `task_create`s.
    pub tasks: u64,
    /// Band transitions (`from` → `to`, `None` for a new contact or a removed band).
    pub transitions: BTreeMap<(Option<String>, Option<String>), u64>,
}

impl Summary {
    /// Counts one action.
    pub fn count(&mut self, action: &Action) {
        let kind = match action.kind {
            ActionKind::BandChange => 0,
            ActionKind::AudienceAdd | ActionKind::AudienceRemove => 1,
            ActionKind::WorkflowEnroll | ActionKind::WorkflowExit => 2,
            ActionKind::TaskCreate => 3,
        };
        let counts = self.targets.entry((kind, action.target.clone())).or_default();
        match action.kind {
            ActionKind::BandChange => {
                *counts
                    .transitions
                    .entry((action.from.clone(), action.to.clone()))
                    .or_default() += 1;
            }
            ActionKind::AudienceAdd | ActionKind::WorkflowEnroll => counts.entered += 1,
            ActionKind::AudienceRemove | ActionKind::WorkflowExit => counts.left += 1,
            ActionKind::TaskCreate => counts.tasks += 1,
        }
    }

    /// Counts the audiences a contact is in after the run.
    pub fn count_members(&mut self, state: &ContactState) {
        for name in &state.audiences {
            // Only the audiences listed up front (those on channel ads) are
            // counted: the platforms' minimums are about ad audiences.
            let Some(size) = self.audience_sizes.get_mut(name) else {
                continue;
            };
            size.0 += 1;
            if state.email_sha256.is_some() {
                size.1 += 1;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ContactState;

    fn round_trip(state: &ContactState) -> ContactState {
        let (bands, audiences, workflows, routes) = state.encode();
        ContactState::decode(
            &bands,
            &audiences,
            &workflows,
            &routes,
            state.email_sha256.clone(),
        )
        .unwrap()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_state_survives_encoding_when_its_bands_and_routes_are_in_name_order() {
        let state = ContactState {
            bands: pairs(&[("fit_band", "a"), ("readiness", "hot")]),
            audiences: vec!["retarget".into(), "ads_conversion".into()],
            workflows: vec!["nurture".into()],
            routes: pairs(&[("enterprise", "east"), ("smb", "self_serve")]),
            email_sha256: Some("ab12".into()),
            tasks: Vec::new(),
        };
        assert_eq!(round_trip(&state), state);
        assert_eq!(round_trip(&ContactState::default()), ContactState::default());
    }

    #[test]
    fn names_that_need_escapes_survive_encoding() {
        let awkward = "quote \" backslash \\ newline \n tab \t accent é emoji 🦀 control \u{1}";
        let state = ContactState {
            bands: pairs(&[(awkward, awkward)]),
            audiences: vec![awkward.into()],
            workflows: vec![awkward.into(), String::new()],
            routes: pairs(&[(awkward, "")]),
            email_sha256: None,
            tasks: Vec::new(),
        };
        assert_eq!(round_trip(&state), state);
    }

    /// What holds today: bands and routes are stored as JSON objects and read
    /// back through a sorted `serde_json::Map`, so they come back in name
    /// order, while `next_state` lists them in declaration order. Audiences
    /// and workflows (arrays) keep their order. Such a decoded state is not
    /// `==` to a freshly computed one with the same content: with a rule set
    /// whose bands or routes are not declared in name order, `apply` rewrites
    /// such a contact's unchanged state. The actions are unaffected (the diff
    /// looks bands and routes up by name).
    #[test]
    fn decoding_puts_bands_and_routes_in_name_order() {
        let state = ContactState {
            bands: pairs(&[("readiness", "hot"), ("fit_band", "a")]),
            audiences: vec!["z_last".into(), "a_first".into()],
            workflows: vec!["z".into(), "a".into()],
            routes: pairs(&[("smb", "self_serve"), ("enterprise", "east")]),
            email_sha256: None,
            tasks: Vec::new(),
        };
        let decoded = round_trip(&state);
        assert_ne!(decoded, state);
        assert_eq!(decoded.bands, pairs(&[("fit_band", "a"), ("readiness", "hot")]));
        assert_eq!(
            decoded.routes,
            pairs(&[("enterprise", "east"), ("smb", "self_serve")])
        );
        assert_eq!(decoded.audiences, state.audiences);
        assert_eq!(decoded.workflows, state.workflows);
        assert_eq!(decoded.band("readiness"), Some("hot"));
    }

    #[test]
    fn decoding_refuses_what_encoding_never_writes() {
        let decode = |bands: &str, audiences: &str| ContactState::decode(bands, audiences, "[]", "{}", None);
        assert_eq!(
            decode("{\"readiness\":1}", "[]").unwrap_err(),
            "`readiness` is 1, not text"
        );
        assert!(decode("[]", "[]").is_err());
        assert!(decode("{}", "{}").is_err());
        assert!(decode("{", "[]").is_err());
    }
}
