//! `rubric run`: evaluate a rule set on a snapshot, one result (docs/formats.md#results) per
//! accepted contact on stdout, in input order ([`crate::run`]), then a
//! summary on stderr (and a progress line on a terminal).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{finish_output, usage_error, Exit};
use super::input::{self, StreamOptions};
use crate::run::{run_snapshot, RunError, RunSettings, RunTotals};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A `.rubric` file or a directory of them.
    #[arg(long)]
    rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for stdin.
    #[arg(long)]
    contacts: String,
    /// The instant of evaluation (RFC 3339 with offset, or a date); default now.
    #[arg(long, value_name = "TS")]
    as_of: Option<String>,
    /// `jsonl` (one JSON line per contact, see docs/formats.md) or `table` (aligned, for people).
    #[arg(long, value_enum, default_value_t = RunFormat::Jsonl)]
    format: RunFormat,
    #[command(flatten)]
    stream: StreamOptions,
    /// Also write every value of the wrong type for its declared property as JSON Lines
    /// `{"line":N,"id":"…","property":"…","expected":"…","found":"…","value":…}` to this file.
    #[arg(long, value_name = "FILE")]
    warnings: Option<PathBuf>,
    /// Colour of diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Jsonl,
    Table,
}

pub fn run(args: &RunArgs) -> Result<Exit, Exit> {
    let color = args.color.for_stderr();
    let pipeline = args.stream.pipeline()?;
    let loaded = input::load(&args.rules, args.as_of.as_deref(), color)?;
    let (plan, as_of) = (loaded.plan(), loaded.as_of);
    let snapshot = input::snapshot(&args.contacts, args.stream.input_format)?;
    let mut progress = snapshot.progress(args.stream.quiet);
    let (mut rejects, rejects_file) = args.stream.rejects(&progress)?;
    let mut warnings_file = WarningsFile::create(args.warnings.as_deref())?;
    // Buffered: results reach stdout in large writes, not line by line.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let settings = RunSettings {
        as_of,
        strict: args.stream.strict,
        table: args.format == RunFormat::Table,
        pipeline,
    };
    let result = run_snapshot(
        plan,
        &settings,
        snapshot.reader,
        snapshot.format,
        &mut rejects,
        warnings_file.writer(),
        &mut out,
        &mut |accepted| progress.contacts(accepted),
    );
    progress.finish();
    let (totals, written) = match result {
        Ok(totals) => (totals, Ok(())),
        Err(RunError::Write(e)) => (RunTotals::default(), Err(e)),
        Err(RunError::Read { error, totals }) => {
            // Every complete line before the failure was evaluated and
            // written: say what failed, then what was done.
            let _ = out.flush();
            let _ = args.stream.finish_rejects(&mut rejects, rejects_file);
            let _ = warnings_file.finish();
            let exit = usage_error(format!("reading `{}` failed: {error}", args.contacts));
            if !args.stream.quiet {
                if let Some(line) = totals.wrong_types.summary() {
                    eprintln!("rubric: {line}");
                }
                eprintln!("{}", summary(&totals, as_of, rejects.count()));
            }
            return Err(exit);
        }
    };
    let written = written.and_then(|()| {
        if settings.table {
            let header = crate::output::table_header(plan);
            out.write_all(crate::output::render_table(&header, &totals.rows).as_bytes())
        } else {
            Ok(())
        }
    });
    finish_output(written.and_then(|()| out.flush()))?;
    args.stream.finish_rejects(&mut rejects, rejects_file)?;
    warnings_file.finish()?;
    let rejected = rejects.count();
    if !args.stream.quiet {
        // Wrong-type values change no exit status: they are warnings.
        if let Some(line) = totals.wrong_types.summary() {
            eprintln!("rubric: {line}");
        }
        eprintln!("{}", summary(&totals, as_of, rejected));
    }
    if rejected > 0 {
        Ok(Exit::Rejected)
    } else {
        Ok(Exit::Success)
    }
}

/// The summary line: contacts evaluated, lines rejected, wrong types.
fn summary(totals: &RunTotals, as_of: i64, rejected: u64) -> String {
    let mut summary = format!(
        "rubric: {} contact{} evaluated as of {}",
        totals.accepted,
        if totals.accepted == 1 { "" } else { "s" },
        crate::snapshot::format_timestamp(as_of)
    );
    if rejected > 0 {
        summary.push_str(&format!(
            "; {} line{} rejected",
            rejected,
            if rejected == 1 { "" } else { "s" }
        ));
    }
    if totals.warnings > 0 {
        summary.push_str(&format!(
            "; {} value{} of the wrong type (see `rubric explain`)",
            totals.warnings,
            if totals.warnings == 1 { "" } else { "s" }
        ));
    }
    if totals.strict_stop {
        summary.push_str("; stopped at the first rejected line (--strict)");
    }
    summary
}

/// The `--warnings` file while the snapshot is read: written atomically
/// (a temporary file beside it, renamed into place by [`WarningsFile::finish`]),
/// keeping the first write error to report at the end.
struct WarningsFile {
    path: Option<PathBuf>,
    file: Option<KeepFirstError<crate::atomic_file::AtomicFile>>,
}

impl WarningsFile {
    fn create(path: Option<&std::path::Path>) -> Result<WarningsFile, Exit> {
        let file = match path {
            Some(path) => Some(KeepFirstError {
                inner: crate::atomic_file::AtomicFile::create(path)
                    .map_err(|e| usage_error(format!("cannot write `{}`: {e}", path.display())))?,
                error: None,
            }),
            None => None,
        };
        Ok(WarningsFile {
            path: path.map(std::path::Path::to_path_buf),
            file,
        })
    }

    fn writer(&mut self) -> Option<&mut (dyn Write + Send)> {
        self.file.as_mut().map(|f| f as &mut (dyn Write + Send))
    }

    /// Puts the file in place; a failure to write it is an error (exit 2).
    fn finish(&mut self) -> Result<(), Exit> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let written = match file.error {
            Some(error) => Err(error),
            None => file.inner.persist(),
        };
        written.map_err(|e| {
            let path = self.path.as_deref().unwrap_or(std::path::Path::new("--warnings"));
            usage_error(format!(
                "cannot write `{}`: {e}; it does not hold the wrong-type values",
                path.display()
            ))
        })
    }
}

/// A writer that keeps its first error (the run ignores them while it goes on).
struct KeepFirstError<W> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> Write for KeepFirstError<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.error.is_some() {
            return Ok(bytes.len());
        }
        self.inner
            .write_all(bytes)
            .map(|()| bytes.len())
            .inspect_err(|e| {
                self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
            })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
