//! What the commands read before they work, loaded the same way for all of
//! them: the rule set (loaded, compiled, its diagnostics printed), the as-of,
//! the snapshot, and the flags of the commands that stream one (`--strict`,
//! `--rejects`, `--threads`, `--input-format`, `--quiet`). Every step turns its failure into the exit
//! status, after printing it.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use super::exit::{usage_error, Exit};
use super::progress::{self, Progress};
use crate::atomic_file::AtomicFile;
use crate::compile::Compiled;
use crate::pipeline::Pipeline;
use crate::plan::Plan;
use crate::snapshot::{InputFormat, Rejects};
use crate::source::Sources;

/// Shown once, after the first rejected lines, by the commands that have
/// `--rejects`.
pub const MORE_REJECTS_WITH_FILE: &str =
    "(more rejected lines are counted but not shown; use --rejects FILE to keep them all)";

/// Parses `--as-of`: RFC 3339 with an offset, or a bare date (midnight UTC).
fn parse_as_of(text: Option<&str>) -> Result<i64, String> {
    match text {
        None => Ok(chrono::Utc::now().timestamp_micros()),
        Some(t) => crate::snapshot::parse_timestamp(t).ok_or_else(|| {
            format!("`--as-of {t}` is not an RFC 3339 timestamp with an offset (e.g. 2026-11-28T00:00:00Z) or a date (2026-11-28)")
        }),
    }
}

/// Compiles loaded sources, printing diagnostics; `Err` carries the exit code.
pub fn compile_sources(
    sources: &crate::source::Sources,
    color: bool,
) -> Result<crate::compile::Compiled, Exit> {
    compile_sources_seeded(sources, color, None)
}

/// [`compile_sources`], with the slots of another plan as a seed
/// ([`crate::compile::compile_with_seed`]; `diff`).
pub fn compile_sources_seeded(
    sources: &crate::source::Sources,
    color: bool,
    seed: Option<&crate::snapshot::DecodeSpec>,
) -> Result<crate::compile::Compiled, Exit> {
    let compiled = match seed {
        Some(seed) => crate::compile::compile_with_seed(sources, seed),
        None => crate::compile::compile(sources),
    };
    match compiled {
        Ok(compiled) => {
            if !compiled.warnings.is_empty() {
                eprint!(
                    "{}",
                    crate::diagnostics::render(&compiled.warnings, sources, color)
                );
            }
            // Build every regex now, so evaluation never does. The compiler
            // checked them all: a failure here is an internal error.
            if let Err(internal) = crate::compile::build_regexes(&compiled.plan) {
                eprint!("{}", crate::diagnostics::render(&internal, sources, color));
                return Err(Exit::RuleErrors);
            }
            Ok(compiled)
        }
        Err(diagnostics) => {
            eprint!("{}", crate::diagnostics::render(&diagnostics, sources, color));
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "error: the rule set has {errors} error{}",
                if errors == 1 { "" } else { "s" }
            );
            Err(Exit::RuleErrors)
        }
    }
}

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
    let sources = Sources::load(path).map_err(usage_error)?;
    let compiled = compile_sources(&sources, color)?;
    Ok(Rules { sources, compiled })
}

/// Parses `--as-of` (default now).
pub fn as_of(text: Option<&str>) -> Result<i64, Exit> {
    parse_as_of(text).map_err(usage_error)
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

/// An opened snapshot, its format, and what a progress line follows.
pub struct Snapshot {
    pub reader: Box<dyn std::io::BufRead + Send>,
    pub format: InputFormat,
    /// The size of the file as stored, when known (not for stdin).
    pub size: Option<u64>,
    /// The bytes of the file read so far.
    pub consumed: Arc<AtomicU64>,
}

impl Snapshot {
    /// A progress line for reading this snapshot, when wanted (a terminal,
    /// not `--quiet`).
    pub fn progress(&self, quiet: bool) -> Progress {
        Progress::start(progress::wanted(quiet), self.size, Arc::clone(&self.consumed))
    }
}

/// `--input-format`: how to read a snapshot whatever its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormatArg {
    // No doc comments here: clap would list each value with its help, in
    // the long layout, in every command's `--help`.
    Jsonl,
    Csv,
}

impl InputFormatArg {
    fn format(self) -> InputFormat {
        match self {
            InputFormatArg::Jsonl => InputFormat::JsonLines,
            InputFormatArg::Csv => InputFormat::Csv,
        }
    }
}

/// Opens `--contacts` (a file, gzip, or `-` for stdin), as `format` when
/// given, else by its name.
pub fn snapshot(path: &str, format: Option<InputFormatArg>) -> Result<Snapshot, Exit> {
    let opened = crate::snapshot::open_snapshot_input(path, format.map(InputFormatArg::format))
        .map_err(|e| usage_error(format!("cannot read `{path}`: {e}")))?;
    Ok(Snapshot {
        reader: opened.reader,
        format: opened.format,
        size: opened.size,
        consumed: opened.consumed,
    })
}

/// The pipeline of `--threads` workers (default: the number of threads of
/// rayon's default pool, one per core unless `RAYON_NUM_THREADS` says
/// otherwise). Zero threads is a usage error.
pub fn pipeline(threads: Option<usize>) -> Result<Pipeline, Exit> {
    match threads {
        Some(0) => Err(usage_error("`--threads` must be at least 1")),
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
    /// Read `--contacts` as JSON Lines or CSV whatever its name (for
    /// standard input, which is otherwise JSON Lines).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,
    /// No progress line and no summary on stderr (rejected lines and errors
    /// are still shown).
    #[arg(short, long)]
    pub quiet: bool,
}

impl StreamOptions {
    /// The pipeline of `--threads` workers.
    pub fn pipeline(&self) -> Result<Pipeline, Exit> {
        pipeline(self.threads)
    }

    /// The rejected-line report: the first ones on stderr (above the
    /// progress line), and every one in the `--rejects` file when asked for.
    /// That file is written atomically: its temporary file is created here,
    /// and [`StreamOptions::finish_rejects`] renames it into place.
    pub fn rejects(&self, progress: &Progress) -> Result<(Rejects, RejectsFile), Exit> {
        let file = self.rejects_file()?;
        let rejects = Rejects::new(progress.stderr(), MORE_REJECTS_WITH_FILE).with_file(file.writer());
        Ok((rejects, file))
    }

    /// The `--rejects` file alone (its temporary file), for a command that
    /// reports the rejected lines of several inputs into it
    /// ([`RejectsFile::writer`]; `measure`).
    pub fn rejects_file(&self) -> Result<RejectsFile, Exit> {
        match &self.rejects {
            Some(path) => {
                let file = AtomicFile::create(path)
                    .map_err(|e| usage_error(format!("cannot write `{}`: {e}", path.display())))?;
                Ok(RejectsFile(Some(Arc::new(Mutex::new(RejectsFileState {
                    file: Some(file),
                    error: None,
                })))))
            }
            None => Ok(RejectsFile(None)),
        }
    }

    /// Puts the `--rejects` file in place once the snapshot has been read
    /// (also after a failed read: it then holds the lines rejected before
    /// the failure). A failure to write it is an error, not ignored as a
    /// message on stderr is: the file asked for would not hold every
    /// rejected line (the old file, if any, is left as it was).
    pub fn finish_rejects(&self, rejects: &mut Rejects, file: RejectsFile) -> Result<(), Exit> {
        rejects.flush();
        let Some(shared) = file.0 else {
            return Ok(());
        };
        let taken = shared
            .lock()
            .map(|mut state| (state.file.take(), state.error.take()));
        let written = match taken {
            Ok((Some(file), None)) => file.persist(),
            Ok((_, Some(error))) => Err(error),
            Ok((None, None)) => Ok(()),
            Err(_) => Err(std::io::Error::other("a thread writing it panicked")),
        };
        written.map_err(|e| {
            let path = self.rejects.as_deref().unwrap_or(Path::new("--rejects"));
            usage_error(format!(
                "cannot write `{}`: {e}; it does not hold the rejected lines",
                path.display()
            ))
        })
    }
}

/// The `--rejects` file of a command while it reads its snapshot (`None`
/// without `--rejects`): [`Rejects`] writes into it, and
/// [`StreamOptions::finish_rejects`] puts it in place.
pub struct RejectsFile(Option<Arc<Mutex<RejectsFileState>>>);

impl RejectsFile {
    /// A writer into the file for one [`Rejects`] (`None` without
    /// `--rejects`); several may write in turn.
    pub fn writer(&self) -> Option<Box<dyn std::io::Write + Send>> {
        self.0
            .as_ref()
            .map(|shared| Box::new(RejectsFileWriter(Arc::clone(shared))) as Box<dyn std::io::Write + Send>)
    }
}

/// The file being written, and the first error writing it.
struct RejectsFileState {
    file: Option<AtomicFile>,
    error: Option<std::io::Error>,
}

/// The writer [`Rejects`] is given: it writes into the shared file and keeps
/// the first error, which [`Rejects`] ignores.
struct RejectsFileWriter(Arc<Mutex<RejectsFileState>>);

impl RejectsFileWriter {
    fn with_file<T>(&self, op: impl FnOnce(&mut AtomicFile) -> std::io::Result<T>) -> std::io::Result<T> {
        let mut state = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("a thread writing it panicked"))?;
        let state = &mut *state;
        let Some(file) = state.file.as_mut() else {
            return Err(std::io::Error::other("the file is already complete"));
        };
        op(file).inspect_err(|e| {
            if state.error.is_none() {
                state.error = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}

impl std::io::Write for RejectsFileWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.with_file(|file| file.write(bytes))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.with_file(std::io::Write::flush)
    }
}
