//! The lints of routing: a table row for a value its property never holds
//! (`one of`), a fallback that can never be used, and a literal queue name
//! one typo away from a table (the did-you-mean of a table name, which a
//! bare queue name cannot otherwise get: any name is a valid queue).

use std::collections::HashMap;

use crate::case_fold::fold_text;
use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan::Plan;
use crate::syntax::ast::{self, ExprKind, ItemKind, Literal, PickKind, RouteFieldKind};

/// Runs the routing lints on a rule set that compiled.
pub(super) fn routing_lints(files: &[ast::File], plan: &Plan, out: &mut Vec<Diagnostic>) {
    let items: Vec<&ast::Item> = files.iter().flat_map(|f| f.items.iter()).collect();
    let tables: Vec<&str> = plan.routing.tables.iter().map(|t| t.name.as_str()).collect();
    let allowed = allowed_values(&items);
    for item in &items {
        match &item.kind {
            ItemKind::Table(t) => {
                table_keys(t, &allowed, out);
                for row in &t.rows {
                    if !row.value.quoted {
                        looks_like_table(&row.value.value, row.value.span, &tables, out);
                    }
                }
            }
            ItemKind::Route(r) => {
                for field in &r.fields {
                    match &field.kind {
                        RouteFieldKind::Queue(rp) => route_pick(rp, false, &tables, out),
                        RouteFieldKind::Assign(rp) => route_pick(rp, true, &tables, out),
                        RouteFieldKind::QueueFirst(branches) => {
                            for b in branches {
                                if let PickKind::Name(n) = &b.pick.kind {
                                    looks_like_table(&n.name, n.span, &tables, out);
                                }
                            }
                        }
                        RouteFieldKind::Task(_) | RouteFieldKind::Sla(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// Declared properties with a `one of` list: name → allowed texts.
fn allowed_values<'a>(items: &[&'a ast::Item]) -> HashMap<&'a str, Vec<&'a str>> {
    let mut out = HashMap::new();
    for item in items {
        let ItemKind::Properties(decls) = &item.kind else {
            continue;
        };
        for decl in decls {
            let Some(values) = &decl.allowed else { continue };
            let texts = values
                .iter()
                .filter_map(|v| match &v.kind {
                    ExprKind::Literal(Literal::Str(s)) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            out.insert(decl.name.name.as_str(), texts);
        }
    }
    out
}

fn table_keys(t: &ast::TableDecl, allowed: &HashMap<&str, Vec<&str>>, out: &mut Vec<Diagnostic>) {
    let Some(values) = allowed.get(t.key.name.as_str()) else {
        return;
    };
    for row in &t.rows {
        let Some(key) = &row.key else { continue };
        let known = values.iter().any(|v| {
            if t.ignoring_case {
                fold_text(v) == fold_text(&key.value)
            } else {
                *v == key.value
            }
        });
        if !known {
            let allowed = values
                .iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                Diagnostic::new(
                    DiagnosticKind::LintTableKeyNotAllowed {
                        table: t.name.name.clone(),
                        key: key.value.clone(),
                        property: t.key.name.clone(),
                        allowed,
                    },
                    key.span,
                )
                .with_label("never matches"),
            );
        }
    }
}

/// A whole `queue …` or `assign to …` field: a fallback after a pick that
/// always gives a name, and literal names close to a table's.
fn route_pick(rp: &ast::RoutePick, assign: bool, tables: &[&str], out: &mut Vec<Diagnostic>) {
    let is_table = |name: &str| tables.contains(&name);
    let may_be_missing = match &rp.pick.kind {
        PickKind::From(_) => true,
        PickKind::Name(n) => assign && !is_table(&n.name),
        PickKind::Quoted(_) | PickKind::RoundRobin(_) => false,
    };
    if let (false, Some(f)) = (may_be_missing, &rp.fallback) {
        out.push(
            Diagnostic::new(
                DiagnosticKind::LintFallbackNeverUsed {
                    fallback: crate::syntax::written_name(&label(f)).into_owned(),
                },
                f.span,
            )
            .with_label("never used"),
        );
    }
    if let (false, PickKind::Name(n)) = (assign, &rp.pick.kind) {
        looks_like_table(&n.name, n.span, tables, out);
    }
    if let Some(PickKind::Name(n)) = rp.fallback.as_ref().map(|f| &f.kind) {
        looks_like_table(&n.name, n.span, tables, out);
    }
}

fn label(p: &ast::Pick) -> String {
    match &p.kind {
        PickKind::Name(n) => n.name.clone(),
        PickKind::Quoted(s) => s.value.clone(),
        PickKind::From(n) => format!("from {}", n.name),
        PickKind::RoundRobin(_) => String::from("round robin […]"),
    }
}

fn looks_like_table(name: &str, span: crate::source::Span, tables: &[&str], out: &mut Vec<Diagnostic>) {
    if tables.contains(&name) {
        return;
    }
    let Some(table) = crate::diagnostics::did_you_mean(name, tables.iter().copied()) else {
        return;
    };
    if strsim::damerau_levenshtein(name, table) > 2 || name.chars().count() <= 2 {
        return;
    }
    out.push(
        Diagnostic::new(
            DiagnosticKind::LintQueueLooksLikeTable {
                name: name.to_string(),
                table: table.to_string(),
            },
            span,
        )
        .with_label("a literal queue"),
    );
}
