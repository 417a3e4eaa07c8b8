//! Evaluating a whole snapshot for `rubric run`: one result (docs/formats.md#results) per
//! accepted contact, written in input order (or kept as table rows), after
//! the duplicate-id check, with rejected lines reported to the caller's
//! [`Rejects`].
//!
//! JSON Lines go through the ordered [`Pipeline`]: each worker decodes and
//! evaluates whole blocks into a chunk of results, and whichever worker
//! the output waits for writes them. Memory holds a few blocks, whatever the
//! size of the snapshot (except table rows, which are all kept to align the
//! columns). CSV is read in batches on one thread. Nothing here prints: the
//! caller hands in the output, the rejects and a progress callback.

use std::io::Write;

use crate::eval::{evaluate_into, NoTrace, Outcome, RegexScratch};
use crate::pipeline::{BufferPool, Pipeline};
use crate::plan::Plan;
use crate::snapshot::{
    csv_batches, decode_lines, BadLine, Block, Contact, InputFormat, InputOrder, Line, Rejects, Verdict,
};
use crate::wrong_types::{find_wrong_values, WrongTypeTotals, WrongTypes, WrongValue};

/// How to run a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct RunSettings {
    /// The instant of evaluation (µs since the epoch).
    pub as_of: i64,
    /// Stop at the first rejected line.
    pub strict: bool,
    /// Keep table rows ([`crate::output::table_row`]) instead of writing
    /// JSON lines.
    pub table: bool,
    /// The threads that decode and evaluate JSON Lines.
    pub pipeline: Pipeline,
}

/// The counts of a finished run.
#[derive(Debug, Default)]
pub struct RunTotals {
    /// Contacts accepted (the first line of each id).
    pub accepted: u64,
    /// Values of the wrong type met by accepted contacts.
    pub warnings: u64,
    /// Values of the wrong type for their declared property, per property
    /// ([`crate::wrong_types`]).
    pub wrong_types: WrongTypeTotals,
    /// The run stopped at the first rejected line (`strict`).
    pub strict_stop: bool,
    /// With [`RunSettings::table`]: one row per accepted contact, in order.
    pub rows: Vec<Vec<String>>,
}

/// Why a run stopped early.
#[derive(Debug)]
pub enum RunError {
    /// Reading the snapshot failed (this wins over a write error). The
    /// complete lines before the failure were evaluated and written; their
    /// counts are in `totals`.
    Read {
        error: std::io::Error,
        totals: Box<RunTotals>,
    },
    /// Writing the results failed (a closed pipe too).
    Write(std::io::Error),
}

/// Evaluates every contact of a snapshot (`reader`, in `format`) with `plan`
/// and writes its result to `out` in input order. `progress` is called with
/// the number of accepted contacts after each block or batch. Each value of
/// the wrong type for its declared property is written to `warnings`, when
/// given, as a JSON line (its write errors are the writer's to keep).
#[allow(clippy::too_many_arguments)]
pub fn run_snapshot(
    plan: &Plan,
    settings: &RunSettings,
    reader: Box<dyn std::io::BufRead + Send>,
    format: InputFormat,
    rejects: &mut Rejects,
    warnings: Option<&mut (dyn Write + Send)>,
    out: &mut (impl Write + Send),
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<RunTotals, RunError> {
    let mut state = RunState {
        order: InputOrder::new(rejects, settings.strict),
        write_error: None,
        table: settings.table,
        totals: RunTotals::default(),
        wrong_types: WrongTypes::new(warnings),
        plan,
        progress,
    };
    let as_of = settings.as_of;
    let result = match format {
        InputFormat::JsonLines => run_jsonl(plan, as_of, settings.pipeline, reader, &mut state, out),
        InputFormat::Csv => run_csv(plan, as_of, reader, &mut state, out),
    };
    state.totals.strict_stop = state.order.strict_stop();
    state.totals.wrong_types = state.wrong_types.finish(plan);
    if let Err(error) = result {
        return Err(RunError::Read {
            error,
            totals: Box::new(state.totals),
        });
    }
    match state.write_error.take() {
        Some(e) => Err(RunError::Write(e)),
        None => Ok(state.totals),
    }
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
        /// Where its wrong-type values sit in [`Chunk::wrong`].
        wrong: std::ops::Range<usize>,
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
    /// The wrong-type values of the chunk's contacts (rarely any).
    wrong: Vec<WrongValue>,
}

impl Chunk {
    fn new(out: Vec<u8>) -> Chunk {
        Chunk {
            out,
            // Ids of a 1 MiB block: about a thousand short strings.
            ids: String::with_capacity(32 << 10),
            entries: Vec::new(),
            rows: Vec::new(),
            wrong: Vec::new(),
        }
    }
}

/// The consumer side: the input-order rules, counts, output.
struct RunState<'a, 'w> {
    order: InputOrder<'a>,
    /// Writing the results failed: the run stops and reports it.
    write_error: Option<std::io::Error>,
    table: bool,
    totals: RunTotals,
    wrong_types: WrongTypes<'w>,
    plan: &'a Plan,
    progress: &'a mut (dyn FnMut(u64) + Send),
}

impl RunState<'_, '_> {
    /// Writes a chunk's accepted contacts in order, rejecting repeated ids.
    /// Returns false when `--strict` or a write error stops the run.
    fn emit(&mut self, chunk: &mut Chunk, out: &mut impl Write) -> std::io::Result<bool> {
        let mut rows = std::mem::take(&mut chunk.rows).into_iter();
        // Results of consecutive accepted contacts are written in one piece.
        let mut pending = 0..0;
        let mut go = true;
        for entry in std::mem::take(&mut chunk.entries) {
            match entry {
                Entry::Blank => {}
                Entry::Bad(bad) => {
                    if self.order.bad(&bad) == Verdict::Stop {
                        go = false;
                        break;
                    }
                }
                Entry::Contact {
                    line,
                    id,
                    out: range,
                    warnings,
                    wrong,
                } => {
                    let row = if self.table { rows.next() } else { None };
                    let id = chunk.ids.get(id).unwrap_or_default();
                    match self.order.contact(line, id) {
                        Verdict::Accept => {}
                        Verdict::Skip => continue,
                        Verdict::Stop => {
                            go = false;
                            break;
                        }
                    }
                    self.totals.accepted += 1;
                    self.totals.warnings += u64::from(warnings);
                    for value in chunk.wrong.get(wrong).unwrap_or_default() {
                        self.wrong_types.record(self.plan, line, id, value);
                    }
                    if let Some(row) = row {
                        self.totals.rows.push(row);
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
        (self.progress)(self.totals.accepted);
        Ok(go)
    }

    /// Writes results; on an error, records it (the caller reports it, or
    /// not, for a closed pipe) and returns false to stop the run.
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
    (outcome, regexes): &mut (Outcome, RegexScratch),
    chunk: &mut Chunk,
) {
    evaluate_into(plan, &contact, as_of, outcome, regexes, &mut NoTrace);
    let wrong_start = chunk.wrong.len();
    find_wrong_values(plan, &contact, &mut chunk.wrong);
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
        wrong: wrong_start..chunk.wrong.len(),
    });
}

/// The JSON Lines pipeline ([`Pipeline::run`]): each worker decodes and
/// evaluates whole blocks, and results are written in input order after the
/// duplicate-id check (output buffers are recycled through a pool).
fn run_jsonl(
    plan: &Plan,
    as_of: i64,
    pipeline: Pipeline,
    reader: Box<dyn std::io::BufRead + Send>,
    state: &mut RunState<'_, '_>,
    out: &mut (impl Write + Send),
) -> std::io::Result<()> {
    let table = state.table;
    let out_pool = BufferPool::default();
    let out_pool = &out_pool;
    pipeline.run(
        reader,
        || (Outcome::for_plan(plan), RegexScratch::default()),
        |worker, block| process_block(plan, as_of, table, block, worker, out_pool),
        |mut chunk: Chunk| {
            let go = state.emit(&mut chunk, out)?;
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
    worker: &mut (Outcome, RegexScratch),
    pool: &BufferPool,
) -> Chunk {
    let mut chunk = Chunk::new(pool.take());
    for line in decode_lines(&plan.decode, block.first_line, &block.data) {
        push_line(plan, as_of, table, line, worker, &mut chunk);
    }
    chunk
}

/// Adds one decoded line to a chunk (evaluating a contact).
fn push_line(
    plan: &Plan,
    as_of: i64,
    table: bool,
    line: Line,
    worker: &mut (Outcome, RegexScratch),
    chunk: &mut Chunk,
) {
    match line {
        Line::Blank => chunk.entries.push(Entry::Blank),
        Line::Bad(bad) => chunk.entries.push(Entry::Bad(bad)),
        Line::Contact(line, contact) => push_contact(plan, as_of, table, line, contact, worker, chunk),
    }
}

fn run_csv(
    plan: &Plan,
    as_of: i64,
    reader: Box<dyn std::io::BufRead + Send>,
    state: &mut RunState<'_, '_>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let table = state.table;
    let mut worker = (Outcome::for_plan(plan), RegexScratch::default());
    csv_batches(
        reader,
        &plan.decode,
        || Chunk::new(Vec::new()),
        |chunk, line| push_line(plan, as_of, table, line, &mut worker, chunk),
        |mut chunk| state.emit(&mut chunk, out),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, Sources};

    const RULES: &str = r#"
score fit 0..100 {
  "size" when company_size >= 200 => +60
}
"#;

    fn plan() -> Plan {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("rules.rubric", RULES));
        crate::compile::compile(&sources).unwrap().plan
    }

    /// `n` contacts `c-0`…, every fifth line repeating the previous id and
    /// every seventh line not JSON.
    fn snapshot(n: usize) -> String {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!(
                "{{\"id\":\"c-{i}\",\"properties\":{{\"company_size\":{}}},\"events\":[]}}\n",
                i * 10
            ));
            if i % 5 == 4 {
                text.push_str(&format!(
                    "{{\"id\":\"c-{i}\",\"properties\":{{}},\"events\":[]}}\n"
                ));
            }
            if i % 7 == 6 {
                text.push_str("not json\n");
            }
        }
        text
    }

    fn run(plan: &Plan, input: String, threads: usize, strict: bool) -> (RunTotals, String, u64) {
        let settings = RunSettings {
            as_of: 0,
            strict,
            table: false,
            pipeline: Pipeline::new(threads).with_block_bytes(300),
        };
        let mut rejects = Rejects::new(Box::new(std::io::sink()), "");
        let mut out = Vec::new();
        let mut calls = 0;
        let totals = run_snapshot(
            plan,
            &settings,
            Box::new(std::io::Cursor::new(input)),
            InputFormat::JsonLines,
            &mut rejects,
            None,
            &mut out,
            &mut |_| calls += 1,
        )
        .unwrap();
        assert!(calls > 0, "progress is reported");
        (totals, String::from_utf8(out).unwrap(), rejects.count())
    }

    #[test]
    fn results_come_in_input_order_once_per_id_with_any_number_of_threads() {
        let plan = plan();
        let (one, expected, rejected) = run(&plan, snapshot(200), 1, false);
        assert_eq!((one.accepted, rejected), (200, 40 + 28));
        let ids: Vec<String> = expected
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(ids, (0..200).map(|i| format!("c-{i}")).collect::<Vec<_>>());
        for threads in [2, 3, 8] {
            let (totals, text, rejected) = run(&plan, snapshot(200), threads, false);
            assert_eq!((totals.accepted, rejected), (200, 68), "{threads} threads");
            assert_eq!(text, expected, "{threads} threads");
        }
    }

    #[test]
    fn strict_stops_at_the_first_rejected_line() {
        let plan = plan();
        for threads in [1, 3] {
            let (totals, text, rejected) = run(&plan, snapshot(200), threads, true);
            assert!(totals.strict_stop);
            // Lines c-0 … c-4 are accepted; the sixth line repeats c-4.
            assert_eq!(
                (totals.accepted, rejected, text.lines().count()),
                (5, 1, 5),
                "{threads} threads"
            );
        }
    }
}
