//! Printing routing: route picks (`from`, `round robin`, names, fallbacks),
//! `queue first` branches with their SLAs, and `table` items.

use super::{duration, string, Printer};
use crate::syntax::ast::{self, NameLit, PickKind};
use crate::syntax::written_name;

/// A literal name as written: bare (in backticks when it needs them) or quoted.
fn name_lit(n: &NameLit) -> String {
    if n.quoted {
        string(&n.value)
    } else {
        written_name(&n.value).into_owned()
    }
}

/// A pick as `fmt` prints it.
pub(super) fn pick(p: &ast::Pick) -> String {
    match &p.kind {
        PickKind::Name(i) => written_name(&i.name).into_owned(),
        PickKind::Quoted(s) => string(&s.value),
        PickKind::From(i) => format!("from {}", written_name(&i.name)),
        PickKind::RoundRobin(names) => format!(
            "round robin [{}]",
            names.iter().map(name_lit).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A whole `queue …` / `assign to …` field's pick with its fallback.
pub(super) fn route_pick(rp: &ast::RoutePick) -> String {
    match &rp.fallback {
        Some(f) => format!("{} otherwise {}", pick(&rp.pick), pick(f)),
        None => pick(&rp.pick),
    }
}

impl Printer<'_> {
    /// The branches of `queue first { … }`, heads aligned, each with its
    /// condition (or `otherwise`) and its `sla`.
    pub(super) fn queue_branches(&mut self, branches: &[ast::QueueBranch], indent: usize) {
        let heads: Vec<Option<(u8, String)>> = branches.iter().map(|b| Some((0, pick(&b.pick)))).collect();
        let pads = self.pads(branches.iter().map(|b| b.span), &heads);
        for (b, pad) in branches.iter().zip(pads) {
            let head = super::padded(&pick(&b.pick), pad);
            let sla = b
                .sla
                .as_ref()
                .map(|d| format!(" sla {}", duration(d)))
                .unwrap_or_default();
            self.branch(indent, &head, b.span, b.condition.as_ref(), &sla);
        }
    }

    /// `table NAME by KEY [ignoring case] { rows }`, keys aligned.
    pub(super) fn table(&mut self, t: &ast::TableDecl, start: u32, end: u32) {
        let ic = if t.ignoring_case { " ignoring case" } else { "" };
        self.push(
            0,
            format!(
                "table {} by {}{ic} {{",
                written_name(&t.name.name),
                written_name(&t.key.name)
            ),
            start,
            t.key.span.end,
            true,
        );
        let heads: Vec<Option<(u8, String)>> = t
            .rows
            .iter()
            .map(|r| r.key.as_ref().map(|k| (0, string(&k.value))))
            .collect();
        let pads = self.pads(t.rows.iter().map(|r| r.span), &heads);
        for (row, pad) in t.rows.iter().zip(pads) {
            let text = match &row.key {
                Some(k) => format!(
                    "{} => {}",
                    super::padded(&string(&k.value), pad),
                    name_lit(&row.value)
                ),
                None => format!("otherwise {}", name_lit(&row.value)),
            };
            self.push(2, text, row.span.start, row.span.end, true);
        }
        self.close(0, end);
    }
}
