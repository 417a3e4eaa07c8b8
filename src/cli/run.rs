//! `rubric run`: evaluate a rule set on a snapshot, one SPEC §5 result per
//! accepted contact on stdout, in input order.
//!
//! Lines are read in batches; each batch is decoded and evaluated in parallel
//! (rayon), then written in input order after the sequential duplicate-id
//! check. Memory holds one batch, whatever the size of the snapshot (except
//! `--format table`, which aligns columns over all rows and so keeps them).

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use rayon::prelude::*;

use super::{ColorChoice, Exit};
use crate::eval::{evaluate_into, NoTrace, Outcome};
use crate::plan::Plan;
use crate::snapshot::{
    decode_line, lines_of, open_input, BadLine, Block, BlockReader, Contact, CsvReader, IdSet, InputFormat,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

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
    /// `jsonl` (SPEC §5, one line per contact) or `table` (aligned, for people).
    #[arg(long, value_enum, default_value_t = RunFormat::Jsonl)]
    format: RunFormat,
    /// Stop at the first rejected line instead of skipping it.
    #[arg(long)]
    strict: bool,
    /// Also write every rejected line as JSON Lines `{"line":N,"reason":"…"}` to this file.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Colour of diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunFormat {
    Jsonl,
    Table,
}

/// Bytes of whole lines read at a time and shared out to the worker threads.
const BLOCK_BYTES: usize = 4 << 20;
/// Contacts per batch of CSV input.
const BATCH_LINES: usize = 8192;
/// Rejected lines printed to stderr before the rest are only counted.
const SHOWN_REJECTS: u64 = 50;

/// What happened to one input line.
enum Entry {
    Blank,
    Bad(BadLine),
    /// An accepted contact: its id and where its output sits in the chunk buffer.
    Contact {
        line: u64,
        id: String,
        start: usize,
        end: usize,
        warnings: u32,
    },
}

struct Chunk {
    out: Vec<u8>,
    entries: Vec<Entry>,
    rows: Vec<Vec<String>>,
}

pub fn run(args: &RunArgs) -> Exit {
    let color = args.color.for_stderr();
    let compiled = match super::load_plan(&args.rules, color) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let plan = &compiled.plan;
    let as_of = match super::parse_as_of(args.as_of.as_deref()) {
        Ok(t) => t,
        Err(e) => return super::usage_error(e),
    };
    if let Some(n) = args.threads {
        if n == 0 {
            return super::usage_error("`--threads` must be at least 1");
        }
        // Fails only when a pool already exists (tests calling twice): harmless.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    let (reader, format) = match open_input(&args.contacts) {
        Ok(r) => r,
        Err(e) => return super::usage_error(format!("cannot read `{}`: {e}", args.contacts)),
    };
    let mut rejects_file = match &args.rejects {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(std::io::BufWriter::new(f)),
            Err(e) => return super::usage_error(format!("cannot write `{}`: {e}", path.display())),
        },
        None => None,
    };
    // Buffered: results reach stdout in large writes, not line by line.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let mut state = RunState {
        ids: IdSet::default(),
        write_error: None,
        accepted: 0,
        rejected: 0,
        warnings: 0,
        strict_stop: false,
        table: args.format == RunFormat::Table,
        rows: Vec::new(),
        started: Instant::now(),
        progress: std::io::stderr().is_terminal(),
        last_progress: Instant::now(),
    };
    let result = match format {
        InputFormat::JsonLines => run_jsonl(
            plan,
            as_of,
            reader,
            args.strict,
            &mut state,
            &mut out,
            &mut rejects_file,
        ),
        InputFormat::Csv => run_csv(
            plan,
            as_of,
            reader,
            args.strict,
            &mut state,
            &mut out,
            &mut rejects_file,
        ),
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
    if let Some(f) = rejects_file.as_mut() {
        let _ = f.flush();
    }
    let mut summary = format!(
        "rubric: {} contact{} evaluated as of {}",
        state.accepted,
        if state.accepted == 1 { "" } else { "s" },
        crate::snapshot::format_timestamp(as_of)
    );
    if state.rejected > 0 {
        summary.push_str(&format!(
            "; {} line{} rejected",
            state.rejected,
            if state.rejected == 1 { "" } else { "s" }
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
    if state.rejected > 0 {
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
    rejected: u64,
    warnings: u64,
    strict_stop: bool,
    table: bool,
    rows: Vec<Vec<String>>,
    started: Instant,
    progress: bool,
    last_progress: Instant,
}

impl RunState {
    fn reject(&mut self, bad: &BadLine, rejects: &mut Option<std::io::BufWriter<std::fs::File>>) {
        self.rejected += 1;
        if self.rejected <= SHOWN_REJECTS {
            eprintln!("rejected line {}: {}", bad.line, bad.reason);
        } else if self.rejected == SHOWN_REJECTS + 1 {
            eprintln!("(more rejected lines are counted but not shown; use --rejects FILE to keep them all)");
        }
        if let Some(f) = rejects.as_mut() {
            let record = serde_json::json!({"line": bad.line, "reason": bad.reason});
            let _ = writeln!(f, "{record}");
        }
    }

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
    /// Returns false when `--strict` stops the run.
    fn emit(
        &mut self,
        chunk: &mut Chunk,
        strict: bool,
        out: &mut impl Write,
        rejects: &mut Option<std::io::BufWriter<std::fs::File>>,
    ) -> std::io::Result<bool> {
        let mut rows = std::mem::take(&mut chunk.rows).into_iter();
        for entry in std::mem::take(&mut chunk.entries) {
            match entry {
                Entry::Blank => {}
                Entry::Bad(bad) => {
                    self.reject(&bad, rejects);
                    if strict {
                        self.strict_stop = true;
                        return Ok(false);
                    }
                }
                Entry::Contact {
                    line,
                    id,
                    start,
                    end,
                    warnings,
                } => {
                    let row = if self.table { rows.next() } else { None };
                    if !self.ids.insert(&id) {
                        let bad = BadLine {
                            line,
                            reason: format!(
                                "id `{id}` repeats an earlier line (the first line with an id wins)"
                            ),
                        };
                        self.reject(&bad, rejects);
                        if strict {
                            self.strict_stop = true;
                            return Ok(false);
                        }
                        continue;
                    }
                    self.accepted += 1;
                    self.warnings += u64::from(warnings);
                    if let Some(row) = row {
                        self.rows.push(row);
                    } else if let Some(bytes) = chunk.out.get(start..end) {
                        if let Err(e) = out.write_all(bytes) {
                            // Stop the run; `run` reports it (or not, for a closed pipe).
                            self.write_error = Some(e);
                            return Ok(false);
                        }
                    }
                }
            }
        }
        self.tick();
        Ok(true)
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
    chunk.entries.push(Entry::Contact {
        line,
        id: contact.id,
        start,
        end: chunk.out.len(),
        warnings: outcome.warnings,
    });
}

/// The JSON Lines pipeline: a reader thread cuts the input into blocks of
/// whole lines, this thread decodes and evaluates each block on the rayon
/// pool, and a writer thread checks ids in input order and writes results.
/// Reading, evaluating and writing overlap; memory holds a few blocks.
fn run_jsonl(
    plan: &Plan,
    as_of: i64,
    reader: Box<dyn std::io::BufRead + Send>,
    strict: bool,
    state: &mut RunState,
    out: &mut (impl Write + Send),
    rejects: &mut Option<std::io::BufWriter<std::fs::File>>,
) -> std::io::Result<()> {
    let table = state.table;
    if rayon::current_num_threads() == 1 {
        // One thread: read, evaluate and write in turn, with no helper threads.
        let mut blocks = BlockReader::new(reader, BLOCK_BYTES);
        while let Some(block) = blocks.next_block()? {
            for mut chunk in process_block(plan, as_of, table, &block, 1, &BufferPool::default()) {
                if !state.emit(&mut chunk, strict, out, rejects)? {
                    return Ok(());
                }
            }
        }
        return Ok(());
    }
    let stop = AtomicBool::new(false);
    let block_pool = BufferPool::default();
    let out_pool = BufferPool::default();
    std::thread::scope(|scope| {
        let (block_pool, out_pool) = (&block_pool, &out_pool);
        let (block_tx, block_rx) = mpsc::sync_channel::<std::io::Result<Block>>(2);
        let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Vec<Chunk>>(2);
        let stop = &stop;
        scope.spawn(move || {
            let mut blocks = BlockReader::new(reader, BLOCK_BYTES);
            while !stop.load(Ordering::Relaxed) {
                let next = blocks.next_block_with(block_pool.take());
                let end = !matches!(next, Ok(Some(_)));
                let item = match next {
                    Ok(Some(block)) => Ok(block),
                    Ok(None) => break,
                    Err(e) => Err(e),
                };
                if block_tx.send(item).is_err() || end {
                    break;
                }
            }
        });
        let writer = scope.spawn(move || -> std::io::Result<()> {
            for chunks in chunk_rx {
                for mut chunk in chunks {
                    if !state.emit(&mut chunk, strict, out, rejects)? {
                        stop.store(true, Ordering::Relaxed);
                        return Ok(());
                    }
                    out_pool.give(chunk.out);
                }
            }
            Ok(())
        });
        let mut result = Ok(());
        let pieces = rayon::current_num_threads() * 8;
        for block in block_rx {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let block = match block {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            let chunks = process_block(plan, as_of, table, &block, pieces, out_pool);
            block_pool.give(block.data);
            if chunk_tx.send(chunks).is_err() {
                break;
            }
        }
        drop(chunk_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the writer thread failed")));
        result.and(written)
    })
}

/// Byte buffers handed back and forth between the reader, the workers and the
/// writer, so that the large buffers of a run are allocated once, not per
/// block (fresh large allocations make the system allocator's heap grow with
/// the input; see docs/performance.md).
/// One pool per kind of buffer (blocks of input, chunks of output), so that a
/// small buffer never inherits a large one's capacity.
#[derive(Default)]
struct BufferPool(std::sync::Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    /// Buffers kept for reuse (enough for the blocks in flight); more are dropped.
    const KEEP: usize = 64;

    fn take(&self) -> Vec<u8> {
        self.0.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default()
    }

    fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut pool) = self.0.lock() {
            if pool.len() < Self::KEEP {
                pool.push(buffer);
            }
        }
    }
}

/// Decodes and evaluates a block of lines in about `pieces` parallel chunks.
fn process_block(
    plan: &Plan,
    as_of: i64,
    table: bool,
    block: &Block,
    pieces: usize,
    pool: &BufferPool,
) -> Vec<Chunk> {
    block
        .split(pieces)
        .par_iter()
        .map_init(
            || Outcome::for_plan(plan),
            |outcome, (first_line, data)| {
                let mut chunk = Chunk {
                    out: pool.take(),
                    entries: Vec::new(),
                    rows: Vec::new(),
                };
                for (line, text) in lines_of(*first_line, data) {
                    let decoded = match text {
                        Ok(text) => decode_line(&plan.decode, text),
                        Err(reason) => Err(reason),
                    };
                    match decoded {
                        Ok(None) => chunk.entries.push(Entry::Blank),
                        Ok(Some(contact)) => {
                            push_contact(plan, as_of, table, line, contact, outcome, &mut chunk)
                        }
                        Err(reason) => chunk.entries.push(Entry::Bad(BadLine { line, reason })),
                    }
                }
                chunk
            },
        )
        .collect()
}

fn run_csv(
    plan: &Plan,
    as_of: i64,
    reader: Box<dyn std::io::BufRead + Send>,
    strict: bool,
    state: &mut RunState,
    out: &mut impl Write,
    rejects: &mut Option<std::io::BufWriter<std::fs::File>>,
) -> std::io::Result<()> {
    let mut records = CsvReader::new(reader, &plan.decode)?;
    let table = state.table;
    let mut outcome = Outcome::for_plan(plan);
    loop {
        let mut chunk = Chunk {
            out: Vec::new(),
            entries: Vec::new(),
            rows: Vec::new(),
        };
        let mut done = false;
        for _ in 0..BATCH_LINES {
            match records.next_record()? {
                None => {
                    done = true;
                    break;
                }
                Some(Ok(contact)) => {
                    let line = records.record_line();
                    push_contact(plan, as_of, table, line, contact, &mut outcome, &mut chunk);
                }
                Some(Err(bad)) => chunk.entries.push(Entry::Bad(bad)),
            }
        }
        if !state.emit(&mut chunk, strict, out, rejects)? || done {
            return Ok(());
        }
    }
}
