//! AST → [`Plan`]: name resolution, type checking and lowering.
//!
//! The compiler collects every error of every file before it stops. Syntax
//! errors stop it before name resolution (a broken item would otherwise cause
//! a cascade of "unknown name" errors).

mod expr;
mod items;
pub mod lints;
mod symbols;

use crate::diagnostics::Diagnostic;
use crate::plan::Plan;
use crate::source::Sources;
use crate::syntax::{self, ast};

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
    let mut compiler = items::Compiler::new(&items);
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
        None => Err(diagnostics),
    }
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
