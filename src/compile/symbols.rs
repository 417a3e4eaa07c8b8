//! The symbol table: every top-level name of a rule set (one namespace across
//! files), the declared schema, and the slots the snapshot reader fills.

use std::collections::HashMap;

use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticKind};
use crate::plan::{BandId, ScoreId, SegmentId};
use crate::snapshot::DeclaredType;
use crate::source::Span;
use crate::syntax::ast;

/// What a top-level name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    Score(ScoreId),
    Band(BandId),
    Segment(SegmentId),
    /// Index into the item list.
    Const(usize),
    Suppression(usize),
    Audience(usize),
    Workflow(usize),
    Route(usize),
    /// Index among the tables, in declaration order.
    Table(usize),
}

impl Symbol {
    pub fn kind_name(self) -> &'static str {
        match self {
            Symbol::Score(_) => "score",
            Symbol::Band(_) => "band",
            Symbol::Segment(_) => "segment",
            Symbol::Const(_) => "constant",
            Symbol::Suppression(_) => "suppression",
            Symbol::Audience(_) => "audience",
            Symbol::Workflow(_) => "workflow",
            Symbol::Route(_) => "route",
            Symbol::Table(_) => "table",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Declared {
    pub symbol: Symbol,
    pub span: Span,
}

/// A declared property (contact property or event prop).
#[derive(Debug, Clone)]
pub struct PropertyInfo {
    pub ty: DeclaredType,
    /// `one of [...]`: the allowed text values (of each element, for a list).
    pub allowed: Option<Vec<String>>,
    /// `list separated by ";"`: the separator a text value is split on.
    pub separator: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EventInfo {
    /// `None` when declared without a prop list.
    pub props: Option<HashMap<String, PropertyInfo>>,
}

/// Score ranges and band values, known before any condition is compiled so
/// that a condition may refer to an item declared later or in another file.
#[derive(Debug, Clone)]
pub struct ScoreInfo {
    pub name: String,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone)]
pub struct BandInfo {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Symbols {
    pub names: HashMap<String, Declared>,
    /// Declaration order of names, for deterministic suggestions.
    pub order: Vec<String>,
    pub scores: Vec<ScoreInfo>,
    pub bands: Vec<BandInfo>,
    pub segment_names: Vec<String>,
    /// `Some` when the rule set declares a `properties` block.
    pub properties: Option<HashMap<String, PropertyInfo>>,
    /// `Some` when the rule set declares an `events` block.
    pub events: Option<HashMap<String, EventInfo>>,
    /// Tables declared so far (the next [`Symbol::Table`] index).
    pub table_count: usize,
}

pub const BUILTINS: [&str; 2] = ["id", "email"];

pub fn declared_type(name: &ast::Ident) -> Result<DeclaredType, Diagnostic> {
    match name.name.as_str() {
        "text" | "string" => Ok(DeclaredType::Text),
        "number" => Ok(DeclaredType::Number),
        "boolean" | "bool" => Ok(DeclaredType::Boolean),
        "timestamp" => Ok(DeclaredType::Timestamp),
        "list" => Ok(DeclaredType::List),
        other => {
            let types = ["text", "number", "boolean", "timestamp", "list"];
            Err(Diagnostic::new(
                DiagnosticKind::UnknownType {
                    name: other.to_string(),
                    suggestion: did_you_mean(other, types).map(String::from),
                },
                name.span,
            )
            .with_label("not a type"))
        }
    }
}

impl Symbols {
    /// Collects declarations; reports duplicates.
    pub fn collect(items: &[&ast::Item], errors: &mut Vec<Diagnostic>) -> Symbols {
        let mut symbols = Symbols::default();
        for (index, item) in items.iter().enumerate() {
            match &item.kind {
                ast::ItemKind::Properties(decls) => {
                    let map = symbols.properties.get_or_insert_with(HashMap::new);
                    for decl in decls {
                        add_property(map, decl, errors);
                    }
                }
                ast::ItemKind::Events(decls) => {
                    let map = symbols.events.get_or_insert_with(HashMap::new);
                    for decl in decls {
                        if map.contains_key(&decl.name.name) {
                            errors.push(
                                Diagnostic::new(
                                    DiagnosticKind::DuplicateEvent {
                                        name: decl.name.name.clone(),
                                    },
                                    decl.name.span,
                                )
                                .with_label("declared again here"),
                            );
                            continue;
                        }
                        let props = decl.props.as_ref().map(|props| {
                            let mut m = HashMap::new();
                            for p in props {
                                add_property(&mut m, p, errors);
                            }
                            m
                        });
                        map.insert(decl.name.name.clone(), EventInfo { props });
                    }
                }
                ast::ItemKind::Const(c) => {
                    symbols.declare(&c.name, Symbol::Const(index), errors);
                }
                ast::ItemKind::Segment(s) => {
                    let id = SegmentId(symbols.segment_names.len() as u32);
                    if symbols.declare(&s.name, Symbol::Segment(id), errors) {
                        symbols.segment_names.push(s.name.name.clone());
                    }
                }
                ast::ItemKind::Score(s) => {
                    let id = ScoreId(symbols.scores.len() as u32);
                    if symbols.declare(&s.name, Symbol::Score(id), errors) {
                        symbols.scores.push(ScoreInfo {
                            name: s.name.name.clone(),
                            low: s.low.value,
                            high: s.high.value,
                        });
                    }
                }
                ast::ItemKind::Band(b) => {
                    let id = BandId(symbols.bands.len() as u32);
                    if symbols.declare(&b.name, Symbol::Band(id), errors) {
                        let mut values: Vec<String> = Vec::new();
                        for branch in &b.branches {
                            if !values.contains(&branch.value.name) {
                                values.push(branch.value.name.clone());
                            }
                        }
                        symbols.bands.push(BandInfo {
                            name: b.name.name.clone(),
                            values,
                        });
                    }
                }
                ast::ItemKind::Suppress(s) => {
                    symbols.declare(&s.name, Symbol::Suppression(index), errors);
                }
                ast::ItemKind::Audience(t) => {
                    symbols.declare(&t.name, Symbol::Audience(index), errors);
                }
                ast::ItemKind::Workflow(t) => {
                    symbols.declare(&t.name, Symbol::Workflow(index), errors);
                }
                ast::ItemKind::Route(r) => {
                    symbols.declare(&r.name, Symbol::Route(index), errors);
                }
                // Goals have their own names (`--goal`), checked in `goals.rs`;
                // channels too, checked in `channels.rs`.
                ast::ItemKind::Goal(_) | ast::ItemKind::Channel(_) => {}
                ast::ItemKind::Table(t) => {
                    let index = symbols.table_count;
                    if symbols.declare(&t.name, Symbol::Table(index), errors) {
                        symbols.table_count += 1;
                    }
                }
            }
        }
        symbols.check_property_clashes(items, errors);
        symbols
    }

    /// A declared property may not share its name with a score, band,
    /// segment or constant: the name would silently mean the other one.
    fn check_property_clashes(&self, items: &[&ast::Item], errors: &mut Vec<Diagnostic>) {
        for item in items {
            let ast::ItemKind::Properties(decls) = &item.kind else {
                continue;
            };
            for decl in decls {
                let Some(existing) = self.names.get(&decl.name.name) else {
                    continue;
                };
                if !matches!(
                    existing.symbol,
                    Symbol::Score(_)
                        | Symbol::Band(_)
                        | Symbol::Segment(_)
                        | Symbol::Const(_)
                        | Symbol::Table(_)
                ) {
                    continue;
                }
                errors.push(
                    Diagnostic::new(
                        DiagnosticKind::PropertyNameTaken {
                            kind: existing.symbol.kind_name(),
                            name: decl.name.name.clone(),
                        },
                        existing.span,
                    )
                    .with_label(format!(
                        "this {} would hide the property",
                        existing.symbol.kind_name()
                    ))
                    .with_note(decl.name.span, "property declared here"),
                );
            }
        }
    }

    /// Declares a name; false (and an error) when it is taken.
    fn declare(&mut self, name: &ast::Ident, symbol: Symbol, errors: &mut Vec<Diagnostic>) -> bool {
        if BUILTINS.contains(&name.name.as_str()) {
            errors.push(
                Diagnostic::new(
                    DiagnosticKind::BuiltinName {
                        name: name.name.clone(),
                    },
                    name.span,
                )
                .with_label("reserved"),
            );
            return false;
        }
        if let Some(existing) = self.names.get(&name.name) {
            errors.push(
                Diagnostic::new(
                    DiagnosticKind::AlreadyDeclared {
                        name: name.name.clone(),
                        existing: existing.symbol.kind_name(),
                    },
                    name.span,
                )
                .with_label(format!("second {} named `{}`", symbol.kind_name(), name.name))
                .with_note(existing.span, "first declared here"),
            );
            return false;
        }
        self.names.insert(
            name.name.clone(),
            Declared {
                symbol,
                span: name.span,
            },
        );
        self.order.push(name.name.clone());
        true
    }

    /// Every name a condition may use, for did-you-mean.
    pub fn condition_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .order
            .iter()
            .filter(|n| {
                self.names.get(n.as_str()).is_some_and(|d| {
                    matches!(
                        d.symbol,
                        Symbol::Score(_) | Symbol::Band(_) | Symbol::Segment(_) | Symbol::Const(_)
                    )
                })
            })
            .map(String::as_str)
            .collect();
        names.extend(BUILTINS);
        if let Some(props) = &self.properties {
            let mut p: Vec<&str> = props.keys().map(String::as_str).collect();
            p.sort_unstable();
            names.extend(p);
        }
        names
    }
}

fn add_property(
    map: &mut HashMap<String, PropertyInfo>,
    decl: &ast::PropertyDecl,
    errors: &mut Vec<Diagnostic>,
) {
    if BUILTINS.contains(&decl.name.name.as_str()) {
        errors.push(
            Diagnostic::new(
                DiagnosticKind::BuiltinProperty {
                    name: decl.name.name.clone(),
                },
                decl.name.span,
            )
            .with_label("built in"),
        );
        return;
    }
    if let Some(existing) = map.get(&decl.name.name) {
        errors.push(
            Diagnostic::new(
                DiagnosticKind::DuplicateProperty {
                    name: decl.name.name.clone(),
                },
                decl.name.span,
            )
            .with_label("declared again here")
            .with_note(existing.span, "first declared here"),
        );
        return;
    }
    let ty = match declared_type(&decl.type_name) {
        Ok(t) => super::lists::declared_modifiers(t, decl, errors),
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    let mut allowed = None;
    if let Some(values) = &decl.allowed {
        if !matches!(ty, DeclaredType::Text | DeclaredType::List) {
            errors.push(
                Diagnostic::new(
                    DiagnosticKind::OneOfNotText {
                        name: decl.name.name.clone(),
                        type_name: decl.type_name.name.clone(),
                    },
                    decl.type_name.span,
                )
                .with_label("not text"),
            );
        }
        let mut list = Vec::new();
        for v in values {
            match &v.kind {
                ast::ExprKind::Literal(ast::Literal::Str(s)) => list.push(s.clone()),
                _ => errors.push(
                    Diagnostic::new(DiagnosticKind::AllowedValueNotText, v.span).with_label("not text"),
                ),
            }
        }
        allowed = Some(list);
    }
    map.insert(
        decl.name.name.clone(),
        PropertyInfo {
            ty,
            allowed,
            separator: decl.separator.as_ref().map(|s| s.value.clone()),
            span: decl.name.span,
        },
    );
}
