//! Comparing two plans over one snapshot in a single streaming pass: each
//! line is decoded once with the new plan's `DecodeSpec` (a superset of the
//! base plan's with the same slots), both plans evaluate the same
//! `Contact`, and the cells and score values are added to an [`ImpactTally`]
//! in input order after the duplicate-id check, so the result does not
//! depend on the number of threads. Reading, bad lines and repeated ids work
//! exactly as in `run` ([`crate::snapshot::decode_lines`],
//! [`crate::snapshot::Rejects`]). Nothing here prints.

use super::{Alignment, ImpactTally};
use crate::eval::{evaluate_into, NoTrace, Outcome, RegexScratch};

/// A worker's outcome and regex copies for the base plan, then for the new plan.
type Outcomes = ((Outcome, RegexScratch), (Outcome, RegexScratch));
use crate::pipeline::Pipeline;
use crate::plan::Plan;
use crate::snapshot::{
    csv_batches, decode_lines, BadLine, Block, InputFormat, InputOrder, Line, Rejects, Verdict,
};

/// How to compare.
#[derive(Debug, Clone, Copy)]
pub struct CompareSettings {
    /// The instant of evaluation (µs since the epoch).
    pub as_of: i64,
    /// Stop at the first rejected line.
    pub strict: bool,
    /// Example contact ids kept per change.
    pub examples: usize,
    /// The threads that decode and evaluate JSON Lines.
    pub pipeline: Pipeline,
}

/// The counts of a finished comparison.
pub struct Compared {
    pub tally: ImpactTally,
    /// The comparison stopped at the first rejected line (`strict`).
    pub strict_stop: bool,
}

/// Evaluates `base` and `new` (compiled with the base's slots as a seed) on
/// every contact of a snapshot and counts the differences, item by item as
/// `alignment` lines them up. A read error stops the comparison.
#[allow(clippy::too_many_arguments)]
pub fn compare_snapshot(
    base: &Plan,
    new: &Plan,
    alignment: &Alignment,
    settings: &CompareSettings,
    reader: Box<dyn std::io::BufRead + Send>,
    format: InputFormat,
    rejects: &mut Rejects,
) -> std::io::Result<Compared> {
    let plans = Plans {
        base,
        new,
        alignment,
        as_of: settings.as_of,
    };
    let mut state = DiffState {
        order: InputOrder::new(rejects, settings.strict),
        tally: ImpactTally::new(alignment, settings.examples),
    };
    match format {
        InputFormat::JsonLines => settings.pipeline.run(
            reader,
            || plans.outcomes(),
            |outcomes, block| plans.process_block(outcomes, block),
            |chunk| Ok(state.consume(alignment, chunk)),
        )?,
        InputFormat::Csv => {
            let mut outcomes = plans.outcomes();
            csv_batches(
                reader,
                &new.decode,
                Chunk::default,
                |chunk, line| plans.push(line, &mut outcomes, chunk),
                |chunk| Ok(state.consume(alignment, chunk)),
            )?
        }
    }
    Ok(Compared {
        strict_stop: state.order.strict_stop(),
        tally: state.tally,
    })
}

/// What happened to one input line.
enum Entry {
    Blank,
    Bad(BadLine),
    /// An accepted contact; its cells and score values sit in the chunk's
    /// arrays at its rank among the chunk's contacts, its id in `ids`.
    Contact {
        line: u64,
        id: std::ops::Range<usize>,
        warnings: [u32; 2],
    },
}

/// The results of one block (ids in one buffer, not a `String` each: see
/// `run`'s `Chunk`).
#[derive(Default)]
struct Chunk {
    entries: Vec<Entry>,
    ids: String,
    cells: Vec<u32>,
    values: Vec<f64>,
}

/// Both compiled plans and how their items line up.
struct Plans<'a> {
    base: &'a Plan,
    new: &'a Plan,
    alignment: &'a Alignment,
    as_of: i64,
}

impl Plans<'_> {
    fn push(&self, line: Line, outcomes: &mut Outcomes, chunk: &mut Chunk) {
        match line {
            Line::Blank => chunk.entries.push(Entry::Blank),
            Line::Bad(bad) => chunk.entries.push(Entry::Bad(bad)),
            Line::Contact(line, contact) => {
                let ((base, base_regexes), (new, new_regexes)) = outcomes;
                // The contact is decoded with the new plan's slots, a superset
                // of the base plan's with the same numbers.
                evaluate_into(self.base, &contact, self.as_of, base, base_regexes, &mut NoTrace);
                evaluate_into(self.new, &contact, self.as_of, new, new_regexes, &mut NoTrace);
                self.alignment
                    .record(base, new, &mut chunk.cells, &mut chunk.values);
                let start = chunk.ids.len();
                chunk.ids.push_str(&contact.id);
                chunk.entries.push(Entry::Contact {
                    line,
                    id: start..chunk.ids.len(),
                    warnings: [base.warnings, new.warnings],
                });
            }
        }
    }

    fn outcomes(&self) -> Outcomes {
        (
            (Outcome::for_plan(self.base), RegexScratch::default()),
            (Outcome::for_plan(self.new), RegexScratch::default()),
        )
    }

    fn process_block(&self, outcomes: &mut Outcomes, block: &Block) -> Chunk {
        let mut chunk = Chunk::default();
        for line in decode_lines(&self.new.decode, block.first_line, &block.data) {
            self.push(line, outcomes, &mut chunk);
        }
        chunk
    }
}

/// The consumer side: the input-order rules, then the counts.
struct DiffState<'a> {
    order: InputOrder<'a>,
    tally: ImpactTally,
}

impl DiffState<'_> {
    /// Adds a chunk in input order; false when `--strict` stops the run.
    fn consume(&mut self, alignment: &Alignment, chunk: Chunk) -> bool {
        let (k, v) = (alignment.cells_per_contact(), alignment.values_per_contact());
        let mut rank = 0usize;
        for entry in chunk.entries {
            match entry {
                Entry::Blank => {}
                Entry::Bad(bad) => {
                    if self.order.bad(&bad) == Verdict::Stop {
                        return false;
                    }
                }
                Entry::Contact { line, id, warnings } => {
                    let id = chunk.ids.get(id).unwrap_or_default();
                    let cells = chunk.cells.get(rank * k..(rank + 1) * k).unwrap_or(&[]);
                    let values = chunk.values.get(rank * v..(rank + 1) * v).unwrap_or(&[]);
                    rank += 1;
                    match self.order.contact(line, id) {
                        Verdict::Accept => self.tally.add(alignment, id, cells, values, warnings),
                        Verdict::Skip => {}
                        Verdict::Stop => return false,
                    }
                }
            }
        }
        true
    }
}
