//! Building the routing parts of the AST: route picks (`from`, `round
//! robin`, names), `queue first` branches with their SLAs, and lookup tables.

use pest::iterators::Pair;

use super::{Builder, Built, Rule};
use crate::source::Span;
use crate::syntax::ast::{NameLit, Pick, PickKind, QueueBranch, RoutePick, TableDecl, TableRow};

impl Builder<'_> {
    /// The first child of `pair` that is not a keyword; a missing one is an
    /// internal error naming `what`, at `pair`'s span.
    fn first_child<'i>(&self, pair: Pair<'i, Rule>, what: &str) -> Built<Pair<'i, Rule>> {
        let span = self.span(&pair);
        self.children(pair)
            .into_iter()
            .next()
            .ok_or_else(|| self.missing(span, what))
    }

    /// `route_pick`: a pick and its optional `otherwise` fallback.
    pub(super) fn build_route_pick(&self, pair: Pair<'_, Rule>) -> Built<RoutePick> {
        let span = self.span(&pair);
        let mut it = self.children(pair).into_iter();
        let pick = it.next().ok_or_else(|| self.missing(span, "queue"))?;
        let pick = self.build_pick(pick)?;
        let fallback = match it.next() {
            Some(fallback) => {
                let inner = self.first_child(fallback, "fallback")?;
                Some(self.build_pick_inner(inner)?)
            }
            None => None,
        };
        Ok(RoutePick { pick, fallback })
    }

    /// `branch_pick`: a name, a quoted name, `from PROPERTY` or a round robin.
    pub(super) fn build_pick(&self, pair: Pair<'_, Rule>) -> Built<Pick> {
        let inner = self.first_child(pair, "queue")?;
        self.build_pick_inner(inner)
    }

    fn build_pick_inner(&self, inner: Pair<'_, Rule>) -> Built<Pick> {
        let span = self.span(&inner);
        let kind = match inner.as_rule() {
            Rule::ident => PickKind::Name(self.build_ident(inner)?),
            Rule::string => PickKind::Quoted(self.build_string(inner)?),
            Rule::pick_from => {
                let mut it = self.children(inner).into_iter();
                PickKind::From(self.next_ident(&mut it, span, "from")?)
            }
            Rule::round_robin => PickKind::RoundRobin(
                self.children(inner)
                    .into_iter()
                    .map(|n| self.build_name_lit(n))
                    .collect::<Built<_>>()?,
            ),
            _ => return Err(self.unexpected(&inner, "a queue")),
        };
        Ok(Pick { kind, span })
    }

    /// `pick_name`: a bare or quoted name.
    fn build_name_lit(&self, pair: Pair<'_, Rule>) -> Built<NameLit> {
        let inner = self.first_child(pair, "name")?;
        match inner.as_rule() {
            Rule::ident => {
                let ident = self.build_ident(inner)?;
                Ok(NameLit {
                    value: ident.name,
                    quoted: false,
                    span: ident.span,
                })
            }
            Rule::string => {
                let s = self.build_string(inner)?;
                Ok(NameLit {
                    value: s.value,
                    quoted: true,
                    span: s.span,
                })
            }
            _ => Err(self.unexpected(&inner, "a name")),
        }
    }

    /// `queue_branch`: a pick, `when CONDITION` or `otherwise`, and an optional `sla`.
    pub(super) fn build_queue_branch(&self, pair: Pair<'_, Rule>) -> Built<QueueBranch> {
        let span = self.span(&pair);
        let mut it = self.children(pair).into_iter();
        let pick = it.next().ok_or_else(|| self.missing(span, "queue branch"))?;
        let pick = self.build_pick(pick)?;
        let rest = it.next().ok_or_else(|| self.missing(span, "queue branch"))?;
        let condition = match rest.as_rule() {
            Rule::condition => Some(self.build_condition(rest)?),
            Rule::otherwise => None,
            _ => return Err(self.unexpected(&rest, "a queue branch")),
        };
        let sla = match it.next() {
            Some(field) => {
                let duration = self.first_child(field, "sla")?;
                Some(self.build_duration(duration)?)
            }
            None => None,
        };
        Ok(QueueBranch {
            pick,
            condition,
            sla,
            span,
        })
    }

    /// `table NAME by PROPERTY [ignoring case] { rows }`.
    pub(super) fn build_table(&self, pair: Pair<'_, Rule>, span: Span) -> Built<TableDecl> {
        let parts = self.children(pair);
        let ignoring_case = parts.iter().any(|p| p.as_rule() == Rule::ignoring_case);
        let mut it = parts
            .into_iter()
            .filter(|p| !matches!(p.as_rule(), Rule::ignoring_case | Rule::list_comma));
        let name = self.next_ident(&mut it, span, "table")?;
        let key = self.next_ident(&mut it, span, "table")?;
        let mut rows = Vec::new();
        for row in it {
            let rspan = self.span(&row);
            let mut parts = self.children(row).into_iter();
            let first = parts.next().ok_or_else(|| self.missing(rspan, "table row"))?;
            let key = match first.as_rule() {
                Rule::string => Some(self.build_string(first)?),
                Rule::otherwise => None,
                _ => return Err(self.unexpected(&first, "a table row")),
            };
            let value = parts.next().ok_or_else(|| self.missing(rspan, "table row"))?;
            rows.push(TableRow {
                key,
                value: self.build_name_lit(value)?,
                span: rspan,
            });
        }
        Ok(TableDecl {
            name,
            key,
            ignoring_case,
            rows,
        })
    }
}
