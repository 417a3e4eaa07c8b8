//! The evaluation order of scores, bands and segments (each after
//! everything it reads), by depth-first search, and the `rubric::cycle`
//! report when there is none.

use std::collections::HashMap;

use super::Compiler;
use crate::diagnostics::{Diagnostic, DiagnosticKind};
use crate::plan::{BandId, ScoreId, SegmentId, Step};
use crate::source::Span;

/// What each score, band and segment reads, and the span of its name.
pub type Dependencies = HashMap<Step, (Vec<Step>, Span)>;

impl<'a> Compiler<'a> {
    /// Orders scores, bands and segments so each follows what it reads;
    /// reports cycles.
    pub(super) fn order(&mut self, deps: &Dependencies) -> Option<Vec<Step>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut all: Vec<Step> = Vec::new();
        for (i, _) in self.symbols.scores.iter().enumerate() {
            all.push(Step::Score(ScoreId(i as u32)));
        }
        for (i, _) in self.symbols.bands.iter().enumerate() {
            all.push(Step::Band(BandId(i as u32)));
        }
        for (i, _) in self.symbols.segment_names.iter().enumerate() {
            all.push(Step::Segment(SegmentId(i as u32)));
        }
        let mut marks: HashMap<Step, Mark> = all.iter().map(|s| (*s, Mark::New)).collect();
        let mut order = Vec::new();
        let mut reported = false;
        for start in &all {
            if marks.get(start) != Some(&Mark::New) {
                continue;
            }
            // Iterative depth-first search; `stack` holds (step, next dep index).
            let mut stack: Vec<(Step, usize)> = vec![(*start, 0)];
            marks.insert(*start, Mark::Active);
            while let Some((step, next)) = stack.last().copied() {
                let step_deps = deps.get(&step).map_or(&[][..], |(d, _)| d.as_slice());
                if let Some(dep) = step_deps.get(next) {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    match marks.get(dep).copied().unwrap_or(Mark::Done) {
                        Mark::New => {
                            marks.insert(*dep, Mark::Active);
                            stack.push((*dep, 0));
                        }
                        Mark::Active => {
                            if !reported {
                                let cycle_start = stack.iter().position(|(s, _)| s == dep).unwrap_or(0);
                                let chain: Vec<Step> =
                                    stack.iter().skip(cycle_start).map(|(s, _)| *s).collect();
                                self.report_cycle(&chain, deps);
                                reported = true;
                            }
                        }
                        Mark::Done => {}
                    }
                } else {
                    marks.insert(step, Mark::Done);
                    order.push(step);
                    stack.pop();
                }
            }
        }
        (!reported).then_some(order)
    }

    pub(super) fn step_name(&self, step: Step) -> String {
        match step {
            Step::Score(id) => self
                .symbols
                .scores
                .get(id.index())
                .map_or(String::new(), |s| s.name.clone()),
            Step::Band(id) => self
                .symbols
                .bands
                .get(id.index())
                .map_or(String::new(), |b| b.name.clone()),
            Step::Segment(id) => self
                .symbols
                .segment_names
                .get(id.index())
                .cloned()
                .unwrap_or_default(),
        }
    }

    pub(super) fn report_cycle(&mut self, chain: &[Step], deps: &Dependencies) {
        let Some(first) = chain.first() else { return };
        let mut names: Vec<String> = chain.iter().map(|s| self.step_name(*s)).collect();
        names.push(self.step_name(*first));
        let span = deps.get(first).map_or(Span::default(), |(_, s)| *s);
        let mut d = Diagnostic::new(
            DiagnosticKind::Cycle {
                name: self.step_name(*first),
                chain: names.join(" → "),
            },
            span,
        )
        .with_label("part of a cycle");
        for step in chain.iter().skip(1) {
            if let Some((_, s)) = deps.get(step) {
                d = d.with_note(*s, format!("`{}` is in the cycle", self.step_name(*step)));
            }
        }
        self.errors.push(d);
    }
}
