//! `rubric run`: evaluate a rule set on a snapshot, one result (docs/formats.md#results) per
//! accepted contact on stdout, in input order ([`crate::run`]), then a
//! summary on stderr (and a progress line on a terminal).

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use super::input::{self, StreamOptions};
use super::{ColorChoice, Exit};
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
    let snapshot = input::snapshot(&args.contacts)?;
    let mut rejects = args.stream.rejects()?;
    // Buffered: results reach stdout in large writes, not line by line.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let settings = RunSettings {
        as_of,
        strict: args.stream.strict,
        table: args.format == RunFormat::Table,
        pipeline,
    };
    let mut progress = Progress::new();
    let result = run_snapshot(
        plan,
        &settings,
        snapshot.reader,
        snapshot.format,
        &mut rejects,
        &mut out,
        &mut |accepted| progress.tick(accepted),
    );
    progress.clear();
    let (totals, written) = match result {
        Ok(totals) => (totals, Ok(())),
        Err(RunError::Write(e)) => (RunTotals::default(), Err(e)),
        Err(RunError::Read(e)) => {
            let _ = out.flush();
            return Err(super::usage_error(format!(
                "reading `{}` failed: {e}",
                args.contacts
            )));
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
    super::finish_output(written.and_then(|()| out.flush()))?;
    rejects.flush();
    let mut summary = format!(
        "rubric: {} contact{} evaluated as of {}",
        totals.accepted,
        if totals.accepted == 1 { "" } else { "s" },
        crate::snapshot::format_timestamp(as_of)
    );
    let rejected = rejects.count();
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
    eprintln!("{summary}");
    if rejected > 0 {
        Ok(Exit::Rejected)
    } else {
        Ok(Exit::Success)
    }
}

/// The progress line on a terminal's stderr: contacts so far and their
/// rate, redrawn at most every 250 ms after the first second.
struct Progress {
    shown: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            shown: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last: Instant::now(),
        }
    }

    fn tick(&mut self, accepted: u64) {
        if self.shown && self.last.elapsed().as_millis() >= 250 && self.started.elapsed().as_secs() >= 1 {
            self.last = Instant::now();
            let rate = accepted as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            eprint!("\r\x1b[2K{accepted} contacts ({rate:.0}/s)");
        }
    }

    /// Erases the progress line.
    fn clear(&self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}
