//! Sync actions (docs/formats.md#actions): what changed for one contact, rendered as one JSON line
//! with a stable id, the run and the rule-set digest.

use sha2::{Digest as _, Sha256};

use crate::output::{push_number, push_str};

/// The kind of an action (docs/formats.md#actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    BandChange,
    AudienceAdd,
    AudienceRemove,
    WorkflowEnroll,
    WorkflowExit,
    TaskCreate,
}

impl ActionKind {
    /// The name written in the `action` field.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::BandChange => "band_change",
            ActionKind::AudienceAdd => "audience_add",
            ActionKind::AudienceRemove => "audience_remove",
            ActionKind::WorkflowEnroll => "workflow_enroll",
            ActionKind::WorkflowExit => "workflow_exit",
            ActionKind::TaskCreate => "task_create",
        }
    }

    /// The own channel of the action's kind of target (`None` for band
    /// changes, which belong to no channel); a target on another channel
    /// says so in [`Action::channel`].
    pub fn channel(self) -> Option<&'static str> {
        match self {
            ActionKind::BandChange => None,
            ActionKind::AudienceAdd | ActionKind::AudienceRemove => Some("ads"),
            ActionKind::WorkflowEnroll | ActionKind::WorkflowExit => Some("email"),
            ActionKind::TaskCreate => Some("sales"),
        }
    }

    /// Parses an `action` name back (used when re-reading the outbox).
    pub fn from_name(name: &str) -> Option<ActionKind> {
        [
            ActionKind::BandChange,
            ActionKind::AudienceAdd,
            ActionKind::AudienceRemove,
            ActionKind::WorkflowEnroll,
            ActionKind::WorkflowExit,
            ActionKind::TaskCreate,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// The task fields of a `task_create`.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub task: String,
    pub sla_hours: f64,
    pub queue: String,
    /// `assign to …`: `None` when the route declares no assignee (no key),
    /// `Some(None)` for a contact without one (`null`).
    pub assignee: Option<Option<String>>,
}

/// One action for one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub contact: String,
    pub kind: ActionKind,
    /// The audience, workflow, route or band name.
    pub target: String,
    /// `band_change` only: the previous value (`None` for a contact new to the state).
    pub from: Option<String>,
    /// `band_change` only: the new value (`None` when the band left the rule set).
    pub to: Option<String>,
    /// `task_create` only.
    pub task: Option<Task>,
    /// The target's channel when it is not its kind's own (`audience x on
    /// sms`); `None` for the kind's own channel ([`ActionKind::channel`]).
    pub channel: Option<String>,
    /// SHA-256 of the contact's normalised email, for destinations (not part of the line).
    pub email_sha256: Option<String>,
}

/// What every action of one run shares: where its id comes from and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunContext {
    /// The state file's instance id (random, fixed when the file is created),
    /// so that two state files never give the same action id.
    pub instance: String,
    /// The run number: one more than the last applied run.
    pub run: i64,
    /// Digest of the rule set (the "model version").
    pub rules: String,
}

impl RunContext {
    /// The stable id of an action: the same state file, run, contact, action
    /// and target always give the same id (32 hex digits of a SHA-256).
    pub fn action_id(&self, action: &Action) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.instance.as_bytes(),
            self.run.to_string().as_bytes(),
            action.contact.as_bytes(),
            action.kind.name().as_bytes(),
            action.target.as_bytes(),
        ] {
            // Length-prefixed, so that no two different tuples hash the same text.
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        hex(digest.get(..16).unwrap_or(&[]))
    }

    /// Appends the action's JSON line (with its newline): `contact`,
    /// `action`, `target` and the action's own fields first, then `channel`,
    /// `id`, `run` and `rules` (docs/formats.md#actions).
    pub fn write_line(&self, out: &mut Vec<u8>, action: &Action) -> String {
        let id = self.action_id(action);
        out.extend_from_slice(b"{\"contact\":");
        push_str(out, &action.contact);
        out.extend_from_slice(b",\"action\":");
        push_str(out, action.kind.name());
        out.extend_from_slice(b",\"target\":");
        push_str(out, &action.target);
        if action.kind == ActionKind::BandChange {
            out.extend_from_slice(b",\"from\":");
            push_opt(out, action.from.as_deref());
            out.extend_from_slice(b",\"to\":");
            push_opt(out, action.to.as_deref());
        }
        if let Some(task) = &action.task {
            out.extend_from_slice(b",\"task\":");
            push_str(out, &task.task);
            out.extend_from_slice(b",\"sla_hours\":");
            push_number(out, task.sla_hours);
            out.extend_from_slice(b",\"queue\":");
            push_str(out, &task.queue);
            if let Some(assignee) = &task.assignee {
                out.extend_from_slice(b",\"assignee\":");
                push_opt(out, assignee.as_deref());
            }
        }
        if let Some(channel) = action.channel.as_deref().or(action.kind.channel()) {
            out.extend_from_slice(b",\"channel\":");
            push_str(out, channel);
        }
        out.extend_from_slice(b",\"id\":");
        push_str(out, &id);
        out.extend_from_slice(b",\"run\":");
        out.extend_from_slice(self.run.to_string().as_bytes());
        out.extend_from_slice(b",\"rules\":");
        push_str(out, &self.rules);
        out.extend_from_slice(b"}\n");
        id
    }
}

fn push_opt(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => push_str(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 15] {
            if let Some(d) = DIGITS.get(usize::from(nibble)) {
                s.push(char::from(*d));
            }
        }
    }
    s
}
