//! AST → [`Plan`]: name resolution, type checking and lowering.
//!
//! The compiler collects every error of every file before it stops. Syntax
//! errors stop it before name resolution (a broken item would otherwise cause
//! a cascade of "unknown name" errors).
//!
//! `Compiler` lives here; each of `names`, `types`, `conds`, `items` and
//! `order` is one `impl Compiler` block of one concern, as in PRQL's
//! resolver; `slots`, `regexes` and `symbols` know nothing of the compiler:
//!
//! - `names.rs`: name resolution in context (properties, event props,
//!   constants, bands and their values) and did-you-mean;
//! - `types.rs`: static types of operands and the checks of a test that need
//!   both sides (type mismatches, score thresholds, `one of` values), plus
//!   literal conversions (durations, numbers);
//! - `conds.rs`: conditions and operands (comparisons, `in`, `matches`,
//!   `is`, `within`, functions, event aggregates);
//! - `items.rs`: items (scores, bands, segments, suppressions, audiences,
//!   workflows, routes) and the whole-rule-set pass, `Compiler::run`;
//! - `goals.rs`: goals (what the scores predict, for `rubric measure`);
//! - `channels.rs`: channel declarations, the channels of suppressions and
//!   each target's channel and exemptions (`on sms`, `despite customer`);
//! - `slots.rs`: slot allocation, `SlotAllocator`, the `DecodeSpec` builder
//!   with its seed;
//! - `order.rs`: the evaluation order of scores, bands and segments and the
//!   cycle search;
//! - `regexes.rs`: the complete check of each pattern (syntax and size, the
//!   same for every command) and the build of every regex of a plan;
//! - `symbols.rs`: the symbol table, collected before anything is compiled;
//! - `lints.rs`: warnings about rules that compile (`rubric check`), with
//!   the lints of channels and exemptions in `channel_lints.rs`.
//!
//! Helpers are imported one way only: `items` and `conds` use `names`,
//! `types` and `regexes`; `names` uses `types`; `items` uses `order`'s
//! `Dependencies`; nothing imports `items` or `conds`.

mod aggregates;
mod channel_lints;
mod channels;
mod conds;
mod goals;
mod items;
pub mod lints;
mod lists;
mod names;
mod order;
mod ranges;
mod regexes;
mod routing;
mod routing_lints;
mod slots;
mod symbols;
mod types;

use self::symbols::Symbols;
use crate::diagnostics::Diagnostic;
use crate::plan::{self, Plan, Step};
use crate::source::Sources;
use crate::syntax::{self, ast};

/// The compiler of one rule set: the symbol table, the diagnostics found so
/// far, and what the plan is being built from.
struct Compiler<'a> {
    items: Vec<&'a ast::Item>,
    symbols: Symbols,
    errors: Vec<Diagnostic>,
    aggregates: Vec<plan::EventAggregate>,
    /// Scores, bands and segments read by the item being compiled.
    deps: Vec<Step>,
    /// The property, event and event-prop slots handed out so far.
    slots: slots::SlotAllocator,
    /// Every event type named by an `each` rule or aggregate anywhere.
    used_events: Vec<String>,
    /// Regular expressions compiled so far (the next [`plan::PlanRegex::index`]).
    regex_count: usize,
    /// Channel names by [`plan::Channel`] index (built-in, then declared).
    channels: Vec<String>,
    /// Tables, literal queue names and the checks left for the end ([`routing`]).
    routing: routing::RoutingBuilder,
}

impl<'a> Compiler<'a> {
    pub fn new(items: &[&'a ast::Item]) -> Compiler<'a> {
        let mut errors = Vec::new();
        let symbols = Symbols::collect(items, &mut errors);
        let channels = channels::collect(items, &mut errors);
        Compiler {
            items: items.to_vec(),
            symbols,
            errors,
            aggregates: Vec::new(),
            deps: Vec::new(),
            slots: slots::SlotAllocator::default(),
            used_events: Compiler::used_events(items),
            regex_count: 0,
            channels,
            routing: routing::RoutingBuilder::default(),
        }
    }

    /// Pre-fills the slots from another plan's spec ([`slots::SlotAllocator::seed`]).
    pub fn seed(&mut self, seed: &crate::snapshot::DecodeSpec) {
        self.slots.seed(seed);
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.errors
    }
}

/// The result of compiling a rule set that has no errors.
#[derive(Debug)]
pub struct Compiled {
    pub plan: Plan,
    /// Warnings (never errors).
    pub warnings: Vec<Diagnostic>,
}

/// Parses every file of `sources`; returns the ASTs and all syntax errors.
pub fn parse(sources: &Sources) -> (Vec<ast::File>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for (index, file) in sources.files.iter().enumerate() {
        let id = crate::source::FileId(u32::try_from(index).unwrap_or(u32::MAX));
        let (ast, mut errors) = syntax::parse_file(id, &file.text);
        files.push(ast);
        diagnostics.append(&mut errors);
    }
    (files, diagnostics)
}

/// Compiles a rule set. On failure returns every diagnostic found (errors and
/// warnings, sorted by position).
pub fn compile(sources: &Sources) -> Result<Compiled, Vec<Diagnostic>> {
    let (files, syntax_errors) = parse(sources);
    if !syntax_errors.is_empty() {
        return Err(syntax_errors);
    }
    compile_files(&files)
}

/// Compiles a rule set whose property, event and event-prop slots start out
/// as those of `seed` (another plan's [`crate::snapshot::DecodeSpec`]): the
/// plan's `decode` is then a superset of `seed` with the same slot numbers for
/// shared names, so one decoded contact serves both plans (`rubric diff`).
/// Diagnostics are the same as [`compile`]'s. A shared property keeps the
/// seed's declared type unless this rule set declares one.
pub fn compile_with_seed(
    sources: &Sources,
    seed: &crate::snapshot::DecodeSpec,
) -> Result<Compiled, Vec<Diagnostic>> {
    let (files, syntax_errors) = parse(sources);
    if !syntax_errors.is_empty() {
        return Err(syntax_errors);
    }
    compile_files_seeded(&files, Some(seed))
}

/// Compiles parsed files (one rule set, one namespace).
pub fn compile_files(files: &[ast::File]) -> Result<Compiled, Vec<Diagnostic>> {
    compile_files_seeded(files, None)
}

fn compile_files_seeded(
    files: &[ast::File],
    seed: Option<&crate::snapshot::DecodeSpec>,
) -> Result<Compiled, Vec<Diagnostic>> {
    let items: Vec<&ast::Item> = files.iter().flat_map(|f| f.items.iter()).collect();
    let mut compiler = Compiler::new(&items);
    if let Some(seed) = seed {
        compiler.seed(seed);
    }
    let plan = compiler.run(&items);
    let mut diagnostics = compiler.into_diagnostics();
    diagnostics.sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    match plan {
        Some(plan) => Ok(Compiled {
            plan,
            warnings: diagnostics,
        }),
        None => {
            // Every failure is reported where it happens; failing without an
            // error would be a compiler bug, so say so rather than nothing.
            let start_of_first_file = crate::source::Span::default();
            diagnostics.push(Diagnostic::new(
                crate::diagnostics::DiagnosticKind::InternalNoPlan,
                start_of_first_file,
            ));
            Err(diagnostics)
        }
    }
}

/// Builds every regular expression of a compiled plan before evaluation, so
/// that evaluation never builds one. The compiler checked every pattern
/// completely, so an `Err` here is an internal error (`rubric::internal`).
pub fn build_regexes(plan: &Plan) -> Result<(), Vec<Diagnostic>> {
    regexes::build_all(plan)
}

/// Compiles a rule set and, when it compiles, runs the lints
/// ([`lints::lint`]) too: their warnings join [`Compiled::warnings`].
/// `rubric check` uses this; `run` and `explain` use [`compile`].
pub fn compile_and_lint(sources: &Sources) -> Result<Compiled, Vec<Diagnostic>> {
    let (files, syntax_errors) = parse(sources);
    if !syntax_errors.is_empty() {
        return Err(syntax_errors);
    }
    let mut compiled = compile_files(&files)?;
    compiled
        .warnings
        .extend(lints::lint(sources, &files, &compiled.plan));
    compiled
        .warnings
        .sort_by_key(|d| (d.span.file, d.span.start, d.span.end));
    Ok(compiled)
}

#[cfg(test)]
mod test_support;
