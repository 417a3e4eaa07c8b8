//! Helpers for the unit tests of the compiler's concerns (one test module
//! per sibling file): compile a rule file that must compile, or must fail.

#![allow(clippy::panic)]

use super::{compile, compile_with_seed, Compiled};
use crate::diagnostics::Diagnostic;
use crate::snapshot::DecodeSpec;
use crate::source::{SourceFile, Sources};

fn sources(text: &str) -> Sources {
    let mut sources = Sources::default();
    sources.add(SourceFile::new("test.rubric", text));
    sources
}

/// Compiles one rule file that must compile.
pub fn compiles(text: &str) -> Compiled {
    match compile(&sources(text)) {
        Ok(compiled) => compiled,
        Err(d) => panic!("expected the rules to compile, got {d:#?}"),
    }
}

/// Compiles one rule file with the slots of `seed`; it must compile.
pub fn compiles_seeded(text: &str, seed: &DecodeSpec) -> Compiled {
    match compile_with_seed(&sources(text), seed) {
        Ok(compiled) => compiled,
        Err(d) => panic!("expected the rules to compile, got {d:#?}"),
    }
}

/// Compiles one rule file that must fail; returns its diagnostics.
pub fn fails(text: &str) -> Vec<Diagnostic> {
    match compile(&sources(text)) {
        Ok(compiled) => panic!("expected errors, compiled with {:?}", compiled.warnings),
        Err(d) => d,
    }
}

/// The only diagnostic of a rule file that must fail with one error.
pub fn only_error(text: &str) -> Diagnostic {
    let mut diagnostics = fails(text);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    match diagnostics.pop() {
        Some(d) => d,
        None => panic!("no diagnostic"),
    }
}
