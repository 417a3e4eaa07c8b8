//! What the commands read before they work, loaded the same way for all of
//! them: the rule set (loaded, compiled, its diagnostics printed), the as-of,
//! the snapshot, and the flags of the commands that stream one (`--strict`,
//! `--rejects`, `--threads`). Every step turns its failure into the exit
//! status, after printing it.

use std::path::{Path, PathBuf};

use super::Exit;
use crate::compile::Compiled;
use crate::pipeline::Pipeline;
use crate::plan::Plan;
use crate::snapshot::{InputFormat, Rejects};
use crate::source::Sources;

/// Shown once, after the first rejected lines, by the commands that have
/// `--rejects`.
pub const MORE_REJECTS_WITH_FILE: &str =
    "(more rejected lines are counted but not shown; use --rejects FILE to keep them all)";

/// A loaded and compiled rule set.
pub struct Rules {
    pub sources: Sources,
    pub compiled: Compiled,
}

impl Rules {
    pub fn plan(&self) -> &Plan {
        &self.compiled.plan
    }
}

/// Loads and compiles the rule set at `path` (a file or a directory),
/// printing its diagnostics.
pub fn rules(path: &Path, color: bool) -> Result<Rules, Exit> {
    let sources = Sources::load(path).map_err(super::usage_error)?;
    let compiled = super::compile_sources(&sources, color)?;
    Ok(Rules { sources, compiled })
}

/// Parses `--as-of` (default now).
pub fn as_of(text: Option<&str>) -> Result<i64, Exit> {
    super::parse_as_of(text).map_err(super::usage_error)
}

/// A rule set and the instant to evaluate it at.
pub struct Loaded {
    pub rules: Rules,
    pub as_of: i64,
}

impl Loaded {
    pub fn plan(&self) -> &Plan {
        self.rules.plan()
    }
}

/// The rule set, then the as-of: what every command that evaluates
/// contacts starts from.
pub fn load(rules_path: &Path, as_of_text: Option<&str>, color: bool) -> Result<Loaded, Exit> {
    let rules = rules(rules_path, color)?;
    let as_of = as_of(as_of_text)?;
    Ok(Loaded { rules, as_of })
}

/// An opened snapshot and its format.
pub struct Snapshot {
    pub reader: Box<dyn std::io::BufRead + Send>,
    pub format: InputFormat,
}

/// Opens `--contacts` (a file, gzip, or `-` for stdin).
pub fn snapshot(path: &str) -> Result<Snapshot, Exit> {
    let (reader, format) = super::open_snapshot(path)?;
    Ok(Snapshot { reader, format })
}

/// The pipeline of `--threads` workers (default: the number of threads of
/// rayon's default pool, one per core unless `RAYON_NUM_THREADS` says
/// otherwise). Zero threads is a usage error.
pub fn pipeline(threads: Option<usize>) -> Result<Pipeline, Exit> {
    match threads {
        Some(0) => Err(super::usage_error("`--threads` must be at least 1")),
        Some(n) => Ok(Pipeline::new(n)),
        None => Ok(Pipeline::new(rayon::current_num_threads())),
    }
}

/// Flags shared by the commands that stream a snapshot (`run`, `diff`).
#[derive(Debug, clap::Args)]
pub struct StreamOptions {
    /// Stop at the first rejected line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Also write every rejected line as JSON Lines `{"line":N,"reason":"…"}` to this file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl StreamOptions {
    /// The pipeline of `--threads` workers.
    pub fn pipeline(&self) -> Result<Pipeline, Exit> {
        pipeline(self.threads)
    }

    /// The rejected-line report: the first ones on stderr, and every one in
    /// the `--rejects` file when asked for (created here).
    pub fn rejects(&self) -> Result<Rejects, Exit> {
        let file: Option<Box<dyn std::io::Write + Send>> = match &self.rejects {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .map_err(|e| super::usage_error(format!("cannot write `{}`: {e}", path.display())))?;
                Some(Box::new(std::io::BufWriter::new(file)))
            }
            None => None,
        };
        Ok(Rejects::new(Box::new(std::io::stderr()), MORE_REJECTS_WITH_FILE).with_file(file))
    }
}
