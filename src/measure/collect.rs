//! The streaming pass of `rubric measure`: every contact of the snapshot is
//! decoded and evaluated exactly as `run` does (same pipeline, same bad-line
//! and repeated-id rules), its outcomes are looked up in the
//! [`OutcomeIndex`], and the facts are added to a [`Tally`] in input order
//! after the duplicate-id check, so the report does not depend on the
//! number of threads. Nothing here prints.

use super::metrics::{ContactFacts, Tally};
use super::outcomes::OutcomeIndex;
use crate::eval::{evaluate_into, NoTrace, Outcome, RegexScratch};
use crate::pipeline::Pipeline;
use crate::plan::{Goal, GoalValue, Plan};
use crate::snapshot::{
    csv_batches, decode_lines, BadLine, Block, DecodeSpec, FieldValue, InputFormat, InputOrder, Line,
    Rejects, Verdict,
};

/// How to measure one goal at one instant.
#[derive(Debug, Clone, Copy)]
pub struct MeasureSettings<'a> {
    /// The instant of evaluation (µs since the epoch).
    pub as_of: i64,
    pub goal: &'a Goal,
    /// Per kept type of the outcome index (its `kind`): whether it is one
    /// of the goal's types. An index may keep more types than one goal has
    /// (`--base` compares two goals of the same name).
    pub counted_kinds: &'a [bool],
    /// `--by`: the property whose text values group the rows.
    pub by: Option<&'a str>,
    /// Stop at the first rejected line.
    pub strict: bool,
    /// The threads that decode and evaluate JSON Lines.
    pub pipeline: Pipeline,
}

/// The counts of a finished pass.
pub struct Measured {
    pub tally: Tally,
    /// The pass stopped at the first rejected line (`strict`).
    pub strict_stop: bool,
}

/// The plan's decode spec, plus a slot for the `--by` property when the
/// rules do not read it; returns the spec and the property's slot.
pub fn spec_with_property(plan: &Plan, property: Option<&str>) -> (DecodeSpec, Option<usize>) {
    let mut spec = plan.decode.clone();
    let Some(name) = property else {
        return (spec, None);
    };
    if let Some(&slot) = spec.properties.get(name) {
        return (spec, Some(slot));
    }
    let slot = spec.property_slot_count();
    spec.properties.insert(name.to_owned(), slot);
    if !spec.property_types.is_empty() {
        spec.property_types.resize(slot + 1, None);
    }
    (spec, Some(slot))
}

/// The kept types an index needs for `goals` (their outcome types, each
/// once, in order), and for each goal which of them it counts
/// ([`MeasureSettings::counted_kinds`]).
pub fn kept_types(goals: &[&Goal]) -> (Vec<String>, Vec<Vec<bool>>) {
    let mut kept: Vec<String> = Vec::new();
    for goal in goals {
        for t in &goal.outcome_types {
            if !kept.contains(t) {
                kept.push(t.clone());
            }
        }
    }
    let masks = goals
        .iter()
        .map(|goal| kept.iter().map(|t| goal.outcome_types.contains(t)).collect())
        .collect();
    (kept, masks)
}

/// Evaluates `plan` on every contact of a snapshot and tallies the goal's
/// conversions. A read error stops the pass.
pub fn measure_snapshot(
    plan: &Plan,
    outcomes: &OutcomeIndex,
    settings: &MeasureSettings,
    reader: Box<dyn std::io::BufRead + Send>,
    format: InputFormat,
    rejects: &mut Rejects,
) -> std::io::Result<Measured> {
    let (spec, by_slot) = spec_with_property(plan, settings.by);
    let worker = Worker {
        plan,
        outcomes,
        spec: &spec,
        by_slot,
        as_of: settings.as_of,
        horizon_end: settings.as_of.saturating_add(settings.goal.horizon_micros),
        with_value: settings.goal.value == GoalValue::SumOfAmount,
        counted_kinds: settings.counted_kinds,
    };
    let mut state = Consumer {
        order: InputOrder::new(rejects, settings.strict),
        tally: Tally::new(plan, settings.by.is_some()),
        scores: plan.scores.len(),
        bands: plan.bands.len(),
    };
    match format {
        InputFormat::JsonLines => settings.pipeline.run(
            reader,
            || (Outcome::for_plan(plan), RegexScratch::default()),
            |scratch, block| worker.process_block(scratch, block),
            |chunk| Ok(state.consume(chunk)),
        )?,
        InputFormat::Csv => {
            let mut scratch = (Outcome::for_plan(plan), RegexScratch::default());
            csv_batches(
                reader,
                &spec,
                Chunk::default,
                |chunk, line| worker.push(line, &mut scratch, chunk),
                |chunk| Ok(state.consume(chunk)),
            )?
        }
    }
    Ok(Measured {
        strict_stop: state.order.strict_stop(),
        tally: state.tally,
    })
}

/// What happened to one input line.
enum Entry {
    Blank,
    Bad(BadLine),
    /// An accepted contact; its scores and bands sit in the chunk's arrays
    /// at its rank among the chunk's contacts, its id and group in `text`.
    Contact {
        line: u64,
        id: std::ops::Range<usize>,
        group: Option<std::ops::Range<usize>>,
        counted: u64,
        amount: f64,
        outcome_lines: u64,
    },
}

/// The results of one block.
#[derive(Default)]
struct Chunk {
    entries: Vec<Entry>,
    text: String,
    scores: Vec<f64>,
    bands: Vec<u16>,
}

/// What a worker needs to turn a line into facts.
struct Worker<'a> {
    plan: &'a Plan,
    outcomes: &'a OutcomeIndex,
    spec: &'a DecodeSpec,
    by_slot: Option<usize>,
    as_of: i64,
    horizon_end: i64,
    with_value: bool,
    counted_kinds: &'a [bool],
}

impl Worker<'_> {
    fn push(&self, line: Line, scratch: &mut (Outcome, RegexScratch), chunk: &mut Chunk) {
        match line {
            Line::Blank => chunk.entries.push(Entry::Blank),
            Line::Bad(bad) => chunk.entries.push(Entry::Bad(bad)),
            Line::Contact(line, contact) => {
                let (outcome, regexes) = scratch;
                evaluate_into(self.plan, &contact, self.as_of, outcome, regexes, &mut NoTrace);
                chunk.scores.extend_from_slice(&outcome.scores);
                chunk.bands.extend_from_slice(&outcome.bands);
                let found = self.outcomes.get(&contact.id);
                let mut counted = 0u64;
                let mut amount = 0.0f64;
                for o in found.goal {
                    let counted_kind = self
                        .counted_kinds
                        .get(usize::from(o.kind))
                        .copied()
                        .unwrap_or(false);
                    if counted_kind && o.at > self.as_of && o.at <= self.horizon_end {
                        counted += 1;
                        if self.with_value {
                            amount += o.amount;
                        }
                    }
                }
                let start = chunk.text.len();
                chunk.text.push_str(&contact.id);
                let id = start..chunk.text.len();
                let group = match self.by_slot.and_then(|slot| contact.props.get(slot)) {
                    Some(FieldValue::Text(value)) => {
                        let start = chunk.text.len();
                        chunk.text.push_str(value);
                        Some(start..chunk.text.len())
                    }
                    _ => None,
                };
                chunk.entries.push(Entry::Contact {
                    line,
                    id,
                    group,
                    counted,
                    amount,
                    outcome_lines: found.lines,
                });
            }
        }
    }

    fn process_block(&self, scratch: &mut (Outcome, RegexScratch), block: &Block) -> Chunk {
        let mut chunk = Chunk::default();
        for line in decode_lines(self.spec, block.first_line, &block.data) {
            self.push(line, scratch, &mut chunk);
        }
        chunk
    }
}

/// The consumer side: the input-order rules, then the tally.
struct Consumer<'a> {
    order: InputOrder<'a>,
    tally: Tally,
    scores: usize,
    bands: usize,
}

impl Consumer<'_> {
    /// Adds a chunk in input order; false when `--strict` stops the pass.
    fn consume(&mut self, chunk: Chunk) -> bool {
        let mut rank = 0usize;
        for entry in chunk.entries {
            match entry {
                Entry::Blank => {}
                Entry::Bad(bad) => {
                    if self.order.bad(&bad) == Verdict::Stop {
                        return false;
                    }
                }
                Entry::Contact {
                    line,
                    id,
                    group,
                    counted,
                    amount,
                    outcome_lines,
                } => {
                    let id = chunk.text.get(id).unwrap_or_default();
                    let scores = chunk
                        .scores
                        .get(rank * self.scores..(rank + 1) * self.scores)
                        .unwrap_or(&[]);
                    let bands = chunk
                        .bands
                        .get(rank * self.bands..(rank + 1) * self.bands)
                        .unwrap_or(&[]);
                    rank += 1;
                    match self.order.contact(line, id) {
                        Verdict::Accept => self.tally.add(&ContactFacts {
                            scores,
                            bands,
                            group: group.and_then(|g| chunk.text.get(g)),
                            counted,
                            amount,
                            outcome_lines,
                        }),
                        Verdict::Skip => {}
                        Verdict::Stop => return false,
                    }
                }
            }
        }
        true
    }
}
