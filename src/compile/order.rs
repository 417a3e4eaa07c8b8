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

#[cfg(test)]
mod tests {
    use super::super::test_support::{compiles, only_error};
    use crate::plan::{Plan, Step};

    fn position(plan: &Plan, step: Step) -> usize {
        plan.order.iter().position(|s| *s == step).unwrap_or(usize::MAX)
    }

    #[test]
    fn everything_comes_after_what_it_reads_whatever_the_declaration_order() {
        let plan = compiles(
            "segment hot_lead when tier is hot and engaged\nband tier {\n  hot when fit >= 50\n  cold otherwise\n}\nsegment engaged when fit > 10\nscore fit 0..100 {\n  \"any\" when true => +1\n}\n",
        )
        .plan;
        let fit = plan
            .scores
            .iter()
            .position(|s| s.name == "fit")
            .unwrap_or(usize::MAX);
        let segment = |name: &str| {
            plan.segments
                .iter()
                .position(|s| s.name == name)
                .unwrap_or(usize::MAX)
        };
        let score = position(&plan, Step::Score(crate::plan::ScoreId(fit as u32)));
        let band = position(&plan, Step::Band(crate::plan::BandId(0)));
        let engaged = position(
            &plan,
            Step::Segment(crate::plan::SegmentId(segment("engaged") as u32)),
        );
        let hot_lead = position(
            &plan,
            Step::Segment(crate::plan::SegmentId(segment("hot_lead") as u32)),
        );
        assert_eq!(plan.order.len(), 4);
        assert!(score < band && score < engaged, "{:?}", plan.order);
        assert!(band < hot_lead && engaged < hot_lead, "{:?}", plan.order);
    }

    #[test]
    fn a_cycle_is_reported_once_with_its_chain() {
        let d = only_error("segment a when b\nsegment b when c\nsegment c when a\n");
        assert_eq!(d.code, "rubric::cycle");
        assert_eq!(d.message, "`a` depends on itself: a → b → c → a");
        assert_eq!(d.notes.len(), 2, "the other members are noted: {:?}", d.notes);
    }

    #[test]
    fn a_score_reading_itself_is_a_cycle() {
        let d = only_error("score fit 0..100 {\n  \"loop\" when fit > 10 => +1\n}\n");
        assert_eq!(d.message, "`fit` depends on itself: fit → fit");
    }
}
