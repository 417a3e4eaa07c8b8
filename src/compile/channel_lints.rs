//! The lints of channels and exemptions (`rubric check`, beside `lints.rs`):
//! an exemption that changes nothing because the suppression never applies
//! on the target's channel, a suppression every target on its channels is
//! exempt from, and a declared channel nothing names.

use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan::{Plan, Reach};
use crate::syntax::ast::{self, ItemKind};

/// The reach of the target `name` of a kind (`audience`, `workflow`, `route`).
fn reach_of<'p>(plan: &'p Plan, kind: &str, name: &str) -> Option<&'p Reach> {
    match kind {
        "audience" => plan.audiences.iter().find(|t| t.name == name).map(|t| &t.reach),
        "workflow" => plan.workflows.iter().find(|t| t.name == name).map(|t| &t.reach),
        _ => plan.routes.iter().find(|r| r.name == name).map(|r| &r.reach),
    }
}

/// `audience upsell when … despite opted_out` where `opted_out` is only on
/// email: the exemption waives nothing.
pub(super) fn exemptions_off_channel(files: &[ast::File], plan: &Plan, out: &mut Vec<Diagnostic>) {
    for item in files.iter().flat_map(|f| f.items.iter()) {
        let (kind, name, written) = match &item.kind {
            ItemKind::Audience(t) => ("audience", &t.name, &t.reach),
            ItemKind::Workflow(t) => ("workflow", &t.name, &t.reach),
            ItemKind::Route(r) => ("route", &r.name, &r.reach),
            _ => continue,
        };
        let Some(reach) = reach_of(plan, kind, &name.name) else {
            continue;
        };
        for exemption in &written.despite {
            let Some(suppression) = plan.suppressions.iter().find(|s| s.name == exemption.name) else {
                continue;
            };
            if suppression.channels & reach.channel.bit() != 0 {
                continue;
            }
            let channels: Vec<String> = plan
                .channel_names(suppression.channels)
                .map(|c| format!("`{c}`"))
                .collect();
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintExemptionOffChannel {
                        kind,
                        target: name.name.clone(),
                        suppression: exemption.name.clone(),
                        channel: plan.channel_name(reach.channel).to_string(),
                        channels: channels.join(", "),
                    },
                    exemption.span,
                )
                .with_label("waives nothing")
                .with_note(suppression.span, "the suppression is declared here"),
            );
        }
    }
}

/// A `channel NAME` that no suppression and no target names.
pub(super) fn unused_channels(files: &[ast::File], plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut used = plan.suppressions.iter().fold(0u64, |a, s| a | s.channels);
    for reach in plan
        .audiences
        .iter()
        .chain(&plan.workflows)
        .map(|t| &t.reach)
        .chain(plan.routes.iter().map(|r| &r.reach))
    {
        used |= reach.channel.bit();
    }
    for item in files.iter().flat_map(|f| f.items.iter()) {
        let ItemKind::Channel(c) = &item.kind else {
            continue;
        };
        let Some(index) = plan.channels.iter().position(|n| *n == c.name.name) else {
            continue;
        };
        let bit = u32::try_from(index)
            .ok()
            .and_then(|i| 1u64.checked_shl(i))
            .unwrap_or(0);
        if used & bit == 0 {
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintUnusedChannel {
                        name: c.name.name.clone(),
                    },
                    c.name.span,
                )
                .with_label("unused"),
            );
        }
    }
}

/// A suppression whose channels have targets, all of them exempt from it
/// (`unused_suppression` reports the one whose channels have no target).
pub(super) fn suppressions_always_waived(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let reaches: Vec<&Reach> = plan
        .audiences
        .iter()
        .chain(&plan.workflows)
        .map(|t| &t.reach)
        .chain(plan.routes.iter().map(|r| &r.reach))
        .collect();
    for (index, s) in plan.suppressions.iter().enumerate() {
        let mut on_its_channels = reaches
            .iter()
            .filter(|r| s.channels & r.channel.bit() != 0)
            .peekable();
        if on_its_channels.peek().is_none() {
            continue;
        }
        if on_its_channels.all(|r| !r.blocked_by.contains(index)) {
            let channels: Vec<String> = plan.channel_names(s.channels).map(|c| format!("`{c}`")).collect();
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintSuppressionAlwaysWaived {
                        name: s.name.clone(),
                        channels: channels.join(", "),
                    },
                    s.span,
                )
                .with_label("waived by every target"),
            );
        }
    }
}
