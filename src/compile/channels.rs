//! Channels and exemptions: the channel declarations (`channel sms`), the
//! channels a suppression names, and each target's [`plan::Reach`]: the
//! channel it is on (`on sms`, or its kind's own) and the suppressions it is
//! exempt from (`despite customer`), resolved once all suppressions are known
//! so that declaration order does not matter.

use std::collections::HashMap;

use super::symbols::Symbol;
use super::Compiler;
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticKind};
use crate::plan::{self, Channel};
use crate::source::Span;
use crate::syntax::ast::{self, ItemKind};

/// The channels of a rule set: the built-in ones, then every `channel NAME`
/// in declaration order. Reports a declared built-in channel, a channel
/// declared twice and more than [`Channel::LIMIT`] channels.
pub(super) fn collect(items: &[&ast::Item], errors: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut names: Vec<String> = Channel::BUILT_IN.iter().map(|(_, n)| n.to_string()).collect();
    let mut declared_at: HashMap<&str, Span> = HashMap::new();
    for item in items {
        let ItemKind::Channel(c) = &item.kind else {
            continue;
        };
        let name = c.name.name.as_str();
        if Channel::BUILT_IN.iter().any(|(_, n)| *n == name) {
            errors.push(
                Diagnostic::new(
                    DiagnosticKind::BuiltInChannel {
                        name: name.to_string(),
                    },
                    c.name.span,
                )
                .with_label("built in"),
            );
            continue;
        }
        if let Some(first) = declared_at.get(name) {
            errors.push(
                Diagnostic::new(
                    DiagnosticKind::ChannelDeclaredTwice {
                        name: name.to_string(),
                    },
                    c.name.span,
                )
                .with_label("declared again here")
                .with_note(*first, "first declared here"),
            );
            continue;
        }
        declared_at.insert(name, c.name.span);
        if names.len() == Channel::LIMIT {
            errors.push(
                Diagnostic::new(DiagnosticKind::TooManyChannels, c.name.span).with_label("one too many"),
            );
        }
        names.push(name.to_string());
    }
    names
}

impl Compiler<'_> {
    /// The channel called `name`, or an unknown-channel error.
    fn resolve_channel(&mut self, name: &ast::Ident) -> Option<Channel> {
        let found = self
            .channels
            .iter()
            .position(|c| *c == name.name)
            .filter(|i| *i < Channel::LIMIT)
            .and_then(|i| u8::try_from(i).ok());
        if let Some(index) = found {
            return Some(Channel(index));
        }
        self.errors.push(
            Diagnostic::new(
                DiagnosticKind::UnknownChannel {
                    name: name.name.clone(),
                    suggestion: did_you_mean(&name.name, self.channels.iter().map(String::as_str))
                        .map(String::from),
                    channels: self.channels.join(", "),
                },
                name.span,
            )
            .with_label("not a channel"),
        );
        None
    }

    /// The channels a suppression names, as a bit set of [`Channel::bit`].
    pub(super) fn channel_set(&mut self, channels: &[ast::Ident]) -> Option<u64> {
        let mut bits = 0u64;
        let mut ok = true;
        for c in channels {
            let Some(channel) = self.resolve_channel(c) else {
                ok = false;
                continue;
            };
            if bits & channel.bit() != 0 {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::DuplicateChannel {
                            channel: c.name.clone(),
                        },
                        c.span,
                    )
                    .with_label("listed again"),
                );
                ok = false;
            }
            bits |= channel.bit();
        }
        ok.then_some(bits)
    }

    /// A target's channel and exemptions against the compiled
    /// `suppressions`. `own` is the channel of the target's kind, used when
    /// it names none. A name after `despite` that is a suppression which
    /// failed to compile is skipped quietly: its own error is reported.
    pub(super) fn reach(
        &mut self,
        reach: &ast::TargetReach,
        own: Channel,
        suppressions: &[plan::Suppression],
    ) -> Option<plan::Reach> {
        let channel = match &reach.channel {
            Some(name) => self.resolve_channel(name),
            None => Some(own),
        };
        let mut exempt_from = Vec::new();
        let mut ok = true;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for name in &reach.despite {
            if let Some(first) = seen.insert(&name.name, name.span) {
                self.errors.push(
                    Diagnostic::new(
                        DiagnosticKind::DuplicateExemption {
                            name: name.name.clone(),
                        },
                        name.span,
                    )
                    .with_label("named again")
                    .with_note(first, "first named here"),
                );
                ok = false;
                continue;
            }
            if let Some(index) = suppressions.iter().position(|s| s.name == name.name) {
                exempt_from.push(index);
                continue;
            }
            ok = false;
            let all: Vec<&str> = self
                .symbols
                .order
                .iter()
                .filter(|n| {
                    self.symbols
                        .names
                        .get(n.as_str())
                        .is_some_and(|d| matches!(d.symbol, Symbol::Suppression(_)))
                })
                .map(String::as_str)
                .collect();
            let listed = if all.is_empty() {
                String::from("none is declared")
            } else {
                all.join(", ")
            };
            let kind = match self.symbols.names.get(&name.name).map(|d| d.symbol) {
                // Declared, but it did not compile: reported where it is.
                Some(Symbol::Suppression(_)) => continue,
                Some(other) => DiagnosticKind::NotASuppression {
                    name: name.name.clone(),
                    kind: other.kind_name(),
                    suppressions: listed,
                },
                None => DiagnosticKind::UnknownSuppression {
                    name: name.name.clone(),
                    suggestion: did_you_mean(&name.name, all.iter().copied()).map(String::from),
                    suppressions: listed,
                },
            };
            self.errors
                .push(Diagnostic::new(kind, name.span).with_label("not a suppression"));
        }
        let channel = channel?;
        if !ok {
            return None;
        }
        let mut blocked_by = plan::SuppressionSet {
            words: vec![0; plan::SuppressionSet::words_for(suppressions.len())],
        };
        for (index, s) in suppressions.iter().enumerate() {
            if s.channels & channel.bit() != 0 && !exempt_from.contains(&index) {
                blocked_by.insert(index);
            }
        }
        Some(plan::Reach {
            channel,
            exempt_from,
            blocked_by,
        })
    }
}
