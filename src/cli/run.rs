//! `rubric run`: evaluate a rule set on a snapshot, one result (docs/formats.md#results) per
//! accepted contact on stdout, in input order.
//!
//! Lines are read in blocks; worker threads decode and evaluate whole blocks
//! ([`stream::pipeline`]), and results are written in input order after the
//! duplicate-id check. Memory holds a few blocks, whatever the size of the
//! snapshot (except `--format table`, which aligns columns over all rows and
//! so keeps them).

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use super::stream::{self, BufferPool, Line, Rejects};
use super::{ColorChoice, Exit};
use crate::eval::{evaluate_into, NoTrace, Outcome};
use crate::plan::Plan;
use crate::snapshot::{BadLine, Block, Contact, IdSet, InputFormat};

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
    stream: super::stream::StreamOptions,
    /// Colour of diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Jsonl,
    Table,
}

/// What happened to one input line.
enum Entry {
    Blank,
    Bad(BadLine),
    /// An accepted contact: where its id sits in [`Chunk::ids`] and its
    /// result in [`Chunk::out`].
    Contact {
        line: u64,
        id: std::ops::Range<usize>,
        out: std::ops::Range<usize>,
        warnings: u32,
    },
}

/// The results of one block. Ids and results are appended to two buffers
/// (not one allocation per contact), so that nothing allocated by the worker
/// that made the chunk is freed one piece at a time by the thread that
/// writes it.
struct Chunk {
    out: Vec<u8>,
    ids: String,
    entries: Vec<Entry>,
    rows: Vec<Vec<String>>,
}

impl Chunk {
    fn new(out: Vec<u8>) -> Chunk {
        Chunk {
            out,
            // Ids of a 1 MiB block: about a thousand short strings.
            ids: String::with_capacity(32 << 10),
            entries: Vec::new(),
            rows: Vec::new(),
        }
    }
}

pub fn run(args: &RunArgs) -> Exit {
    let color = args.color.for_stderr();
    // Before anything uses rayon (building the plan's regexes does), or the
    // global pool would already exist with one thread per core.
    if let Err(exit) = args.stream.apply_threads() {
        return exit;
    }
    let compiled = match super::load_plan(&args.rules, color) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let plan = &compiled.plan;
    let as_of = match super::parse_as_of(args.as_of.as_deref()) {
        Ok(t) => t,
        Err(e) => return super::usage_error(e),
    };
    let (reader, format) = match super::open_snapshot(&args.contacts) {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    let rejects_file = match args.stream.open_rejects() {
        Ok(f) => f,
        Err(exit) => return exit,
    };
    // Buffered: results reach stdout in large writes, not line by line.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let mut state = RunState {
        ids: IdSet::default(),
        write_error: None,
        accepted: 0,
        rejects: Rejects::new(rejects_file),
        warnings: 0,
        strict_stop: false,
        table: args.format == RunFormat::Table,
        rows: Vec::new(),
        started: Instant::now(),
        progress: std::io::stderr().is_terminal(),
        last_progress: Instant::now(),
    };
    let result = match format {
        InputFormat::JsonLines => run_jsonl(plan, as_of, reader, args.stream.strict, &mut state, &mut out),
        InputFormat::Csv => run_csv(plan, as_of, reader, args.stream.strict, &mut state, &mut out),
    };
    if state.progress {
        eprint!("\r\x1b[2K");
    }
    if let Err(e) = result {
        let _ = out.flush();
        return super::usage_error(format!("reading `{}` failed: {e}", args.contacts));
    }
    let mut written = match state.write_error.take() {
        Some(e) => Err(e),
        None => Ok(()),
    };
    if written.is_ok() && state.table {
        let header = crate::output::table_header(plan);
        let text = crate::output::render_table(&header, &state.rows);
        written = out.write_all(text.as_bytes());
    }
    if let Err(exit) = super::finish_output(written.and_then(|()| out.flush())) {
        return exit;
    }
    state.rejects.flush();
    let mut summary = format!(
        "rubric: {} contact{} evaluated as of {}",
        state.accepted,
        if state.accepted == 1 { "" } else { "s" },
        crate::snapshot::format_timestamp(as_of)
    );
    let rejected = state.rejects.count;
    if rejected > 0 {
        summary.push_str(&format!(
            "; {} line{} rejected",
            rejected,
            if rejected == 1 { "" } else { "s" }
        ));
    }
    if state.warnings > 0 {
        summary.push_str(&format!(
            "; {} value{} of the wrong type (see `rubric explain`)",
            state.warnings,
            if state.warnings == 1 { "" } else { "s" }
        ));
    }
    if state.strict_stop {
        summary.push_str("; stopped at the first rejected line (--strict)");
    }
    eprintln!("{summary}");
    if rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Success
    }
}

struct RunState {
    ids: IdSet,
    /// Writing the results failed: the run stops and reports it.
    write_error: Option<std::io::Error>,
    accepted: u64,
    rejects: Rejects,
    warnings: u64,
    strict_stop: bool,
    table: bool,
    rows: Vec<Vec<String>>,
    started: Instant,
    progress: bool,
    last_progress: Instant,
}

impl RunState {
    fn tick(&mut self) {
        if self.progress
            && self.last_progress.elapsed().as_millis() >= 250
            && self.started.elapsed().as_secs() >= 1
        {
            self.last_progress = Instant::now();
            let rate = self.accepted as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            eprint!("\r\x1b[2K{} contacts ({:.0}/s)", self.accepted, rate);
        }
    }

    /// Writes a chunk's accepted contacts in order, rejecting repeated ids.
    /// Returns false when `--strict` or a write error stops the run.
    fn emit(&mut self, chunk: &mut Chunk, strict: bool, out: &mut impl Write) -> std::io::Result<bool> {
        let mut rows = std::mem::take(&mut chunk.rows).into_iter();
        // Results of consecutive accepted contacts are written in one piece.
        let mut pending = 0..0;
        let mut go = true;
        for entry in std::mem::take(&mut chunk.entries) {
            match entry {
                Entry::Blank => {}
                Entry::Bad(bad) => {
                    self.rejects.reject(&bad);
                    if strict {
                        self.strict_stop = true;
                        go = false;
                        break;
                    }
                }
                Entry::Contact {
                    line,
                    id,
                    out: range,
                    warnings,
                } => {
                    let row = if self.table { rows.next() } else { None };
                    let id = chunk.ids.get(id).unwrap_or_default();
                    if !self.ids.insert(id) {
                        self.rejects.reject(&stream::repeated_id(line, id));
                        if strict {
                            self.strict_stop = true;
                            go = false;
                            break;
                        }
                        continue;
                    }
                    self.accepted += 1;
                    self.warnings += u64::from(warnings);
                    if let Some(row) = row {
                        self.rows.push(row);
                    } else if pending.end == range.start {
                        pending.end = range.end;
                    } else {
                        go = self.write(chunk.out.get(pending).unwrap_or_default(), out);
                        pending = range;
                        if !go {
                            break;
                        }
                    }
                }
            }
        }
        if go || self.write_error.is_none() {
            go &= self.write(chunk.out.get(pending).unwrap_or_default(), out);
        }
        self.tick();
        Ok(go)
    }

    /// Writes results; on an error, records it (`run` reports it, or not, for
    /// a closed pipe) and returns false to stop the run.
    fn write(&mut self, bytes: &[u8], out: &mut impl Write) -> bool {
        if bytes.is_empty() {
            return true;
        }
        match out.write_all(bytes) {
            Ok(()) => true,
            Err(e) => {
                self.write_error = Some(e);
                false
            }
        }
    }
}

/// Evaluates one decoded contact into a chunk.
fn push_contact(
    plan: &Plan,
    as_of: i64,
    table: bool,
    line: u64,
    contact: Contact,
    outcome: &mut Outcome,
    chunk: &mut Chunk,
) {
    evaluate_into(plan, &contact, as_of, outcome, &mut NoTrace);
    let start = chunk.out.len();
    if table {
        chunk
            .rows
            .push(crate::output::table_row(plan, &contact.id, outcome));
    } else {
        crate::output::write_result(&mut chunk.out, plan, &contact.id, outcome);
    }
    let id_start = chunk.ids.len();
    chunk.ids.push_str(&contact.id);
    chunk.entries.push(Entry::Contact {
        line,
        id: id_start..chunk.ids.len(),
        out: start..chunk.out.len(),
        warnings: outcome.warnings,
    });
}

/// The JSON Lines pipeline ([`stream::pipeline`]): each worker decodes and
/// evaluates whole blocks, and results are written in input order after the
/// duplicate-id check (output buffers are recycled through a pool).
fn run_jsonl(
    plan: &Plan,
    as_of: i64,
    reader: Box<dyn std::io::BufRead + Send>,
    strict: bool,
    state: &mut RunState,
    out: &mut (impl Write + Send),
) -> std::io::Result<()> {
    let table = state.table;
    let out_pool = BufferPool::default();
    let out_pool = &out_pool;
    stream::pipeline(
        reader,
        || Outcome::for_plan(plan),
        |outcome, block| process_block(plan, as_of, table, block, outcome, out_pool),
        |mut chunk: Chunk| {
            let go = state.emit(&mut chunk, strict, out)?;
            out_pool.give(chunk.out);
            Ok(go)
        },
    )
}

/// Decodes and evaluates a block of lines.
fn process_block(
    plan: &Plan,
    as_of: i64,
    table: bool,
    block: &Block,
    outcome: &mut Outcome,
    pool: &BufferPool,
) -> Chunk {
    let mut chunk = Chunk::new(pool.take());
    for line in stream::decode_lines(&plan.decode, block.first_line, &block.data) {
        push_line(plan, as_of, table, line, outcome, &mut chunk);
    }
    chunk
}

/// Adds one decoded line to a chunk (evaluating a contact).
fn push_line(plan: &Plan, as_of: i64, table: bool, line: Line, outcome: &mut Outcome, chunk: &mut Chunk) {
    match line {
        Line::Blank => chunk.entries.push(Entry::Blank),
        Line::Bad(bad) => chunk.entries.push(Entry::Bad(bad)),
        Line::Contact(line, contact) => push_contact(plan, as_of, table, line, contact, outcome, chunk),
    }
}

fn run_csv(
    plan: &Plan,
    as_of: i64,
    reader: Box<dyn std::io::BufRead + Send>,
    strict: bool,
    state: &mut RunState,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let table = state.table;
    let mut outcome = Outcome::for_plan(plan);
    stream::csv_batches(
        reader,
        &plan.decode,
        || Chunk::new(Vec::new()),
        |chunk, line| push_line(plan, as_of, table, line, &mut outcome, chunk),
        |mut chunk| state.emit(&mut chunk, strict, out),
    )
}
