//! Rule coverage of a test suite (`rubric test --coverage`): which rules,
//! `first` rows, segments, band branches, suppressions, targets and queue
//! branches of the rule set no test case exercised.
//!
//! An item is *exercised* when it matched in at least one case: a score rule
//! added its points (a `when` held, a row matched, an event counted), a row was
//! the one chosen, a segment or suppression held, a band or queue branch was
//! chosen, a target's own condition held (suppressed or not). Matches are read
//! from each case's explain [`Trace`] (the same evaluation as `run`), so this
//! module depends on the trace's public records, not on the tracer interface.
//!
//! Items are identified by what they are, their owner, their label and their
//! `file:line`: two items of the same kind, owner and label on one line count
//! as one.

use std::collections::HashMap;

use crate::plan::{Plan, ScoreRuleKind};
use crate::source::{Sources, Span};
use crate::trace::{BranchTrace, Trace};

/// What kind of rule-set item a coverage item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoveredKind {
    /// A rule of a score (`when`, `first` or `each`).
    Rule,
    /// A row of a `first` rule.
    Row,
    Segment,
    /// A branch of a band, `otherwise` included.
    Branch,
    Suppression,
    Audience,
    Workflow,
    Route,
    /// A branch of a route's `queue first { … }`.
    Queue,
}

impl CoveredKind {
    fn word(self) -> &'static str {
        match self {
            CoveredKind::Rule => "rule",
            CoveredKind::Row => "row",
            CoveredKind::Segment => "segment",
            CoveredKind::Branch => "branch",
            CoveredKind::Suppression => "suppression",
            CoveredKind::Audience => "audience",
            CoveredKind::Workflow => "workflow",
            CoveredKind::Route => "route",
            CoveredKind::Queue => "queue",
        }
    }
}

/// One item of the rule set and whether a case exercised it.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageItem {
    pub kind: CoveredKind,
    /// What it belongs to, in words (`score fit`, `score fit, rule "industry"`,
    /// `band readiness`, `route route_hot_lead`); empty for top-level items.
    pub owner: String,
    /// Its name, label or value (`"vp titles"`, `hot`, `ads_retarget`).
    pub name: String,
    /// `file:line` of the item.
    pub at: String,
    pub exercised: bool,
}

impl CoverageItem {
    /// The item in words: `score fit, rule "vp titles"`, `band readiness, branch hot`.
    pub fn describe(&self) -> String {
        if self.owner.is_empty() {
            format!("{} {}", self.kind.word(), self.name)
        } else {
            format!("{}, {} {}", self.owner, self.kind.word(), self.name)
        }
    }
}

/// The coverage of a rule set by the cases run so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Every item, in declaration order.
    pub items: Vec<CoverageItem>,
    /// Item index by (kind, owner, name, at).
    index: HashMap<(CoveredKind, String, String, String), usize>,
}

/// How a rule is named in coverage: its label, quoted.
fn quoted(label: &str) -> String {
    format!("\"{label}\"")
}

impl Coverage {
    /// Every item of `plan`, none exercised yet.
    pub fn new(plan: &Plan, sources: &Sources) -> Coverage {
        let at = |span: Span| {
            let location = sources.location(span);
            format!("{}:{}", location.file, location.line)
        };
        let mut coverage = Coverage {
            items: Vec::new(),
            index: HashMap::new(),
        };
        for score in &plan.scores {
            let owner = format!("score {}", score.name);
            for rule in &score.rules {
                coverage.add(CoveredKind::Rule, &owner, quoted(&rule.label), at(rule.span));
                if let ScoreRuleKind::First { rows } = &rule.kind {
                    let row_owner = format!("{owner}, rule {}", quoted(&rule.label));
                    for row in rows {
                        coverage.add(
                            CoveredKind::Row,
                            &row_owner,
                            row_name(row.label.as_deref()),
                            at(row.span),
                        );
                    }
                }
            }
        }
        for segment in &plan.segments {
            coverage.add(CoveredKind::Segment, "", segment.name.clone(), at(segment.span));
        }
        for band in &plan.bands {
            let owner = format!("band {}", band.name);
            for branch in &band.branches {
                let value = band
                    .values
                    .get(usize::from(branch.value))
                    .cloned()
                    .unwrap_or_default();
                coverage.add(CoveredKind::Branch, &owner, value, at(branch.span));
            }
        }
        for suppression in &plan.suppressions {
            coverage.add(
                CoveredKind::Suppression,
                "",
                suppression.name.clone(),
                at(suppression.span),
            );
        }
        for audience in &plan.audiences {
            coverage.add(
                CoveredKind::Audience,
                "",
                audience.name.clone(),
                at(audience.span),
            );
        }
        for workflow in &plan.workflows {
            coverage.add(
                CoveredKind::Workflow,
                "",
                workflow.name.clone(),
                at(workflow.span),
            );
        }
        for route in &plan.routes {
            coverage.add(CoveredKind::Route, "", route.name.clone(), at(route.span));
            let owner = format!("route {}", route.name);
            for branch in &route.queue {
                coverage.add(CoveredKind::Queue, &owner, branch.queue.clone(), at(branch.span));
            }
        }
        coverage
    }

    fn add(&mut self, kind: CoveredKind, owner: &str, name: String, at: String) {
        let key = (kind, owner.to_string(), name.clone(), at.clone());
        if self.index.contains_key(&key) {
            return;
        }
        self.index.insert(key, self.items.len());
        self.items.push(CoverageItem {
            kind,
            owner: owner.to_string(),
            name,
            at,
            exercised: false,
        });
    }

    fn mark(&mut self, kind: CoveredKind, owner: &str, name: &str, at: &str) {
        let key = (kind, owner.to_string(), name.to_string(), at.to_string());
        if let Some(item) = self.index.get(&key).and_then(|&i| self.items.get_mut(i)) {
            item.exercised = true;
        }
    }

    /// Marks what matched in one case's trace as exercised.
    pub fn record(&mut self, trace: &Trace) {
        for score in &trace.scores {
            let owner = format!("score {}", score.name);
            for rule in &score.rules {
                let rule_name = quoted(&rule.label);
                if rule.matched {
                    self.mark(CoveredKind::Rule, &owner, &rule_name, &rule.at);
                }
                let row_owner = format!("{owner}, rule {rule_name}");
                for row in rule.rows.iter().filter(|row| row.matched) {
                    self.mark(
                        CoveredKind::Row,
                        &row_owner,
                        &row_name(row.label.as_deref()),
                        &row.at,
                    );
                }
            }
        }
        for segment in trace.segments.iter().filter(|s| s.value) {
            self.mark(CoveredKind::Segment, "", &segment.name, &segment.at);
        }
        for band in &trace.bands {
            let owner = format!("band {}", band.name);
            // Only `branches` decide; `not_reached` are evaluated to explain.
            for branch in band.branches.iter().filter(|b| b.matched) {
                self.mark(CoveredKind::Branch, &owner, &branch.value, &branch.at);
            }
        }
        for suppression in trace.suppressions.iter().filter(|s| s.applies) {
            self.mark(CoveredKind::Suppression, "", &suppression.name, &suppression.at);
        }
        for (kind, targets) in [
            (CoveredKind::Audience, &trace.audiences),
            (CoveredKind::Workflow, &trace.workflows),
            (CoveredKind::Route, &trace.routes),
        ] {
            for target in targets.iter().filter(|t| t.condition) {
                self.mark(kind, "", &target.name, &target.at);
            }
        }
        for route in &trace.routes {
            let owner = format!("route {}", route.name);
            let chosen = route.queue_branches.iter().filter(|b: &&BranchTrace| b.matched);
            for branch in chosen {
                self.mark(CoveredKind::Queue, &owner, &branch.value, &branch.at);
            }
        }
    }

    /// How many items at least one case exercised.
    pub fn exercised(&self) -> usize {
        self.items.iter().filter(|i| i.exercised).count()
    }

    /// The items no case exercised, in declaration order.
    pub fn not_exercised(&self) -> impl Iterator<Item = &CoverageItem> {
        self.items.iter().filter(|i| !i.exercised)
    }

    /// The summary printed after the test results.
    pub fn render_text(&self) -> String {
        let total = self.items.len();
        let exercised = self.exercised();
        let percent = if total == 0 {
            100.0
        } else {
            exercised as f64 * 100.0 / total as f64
        };
        let mut out = format!(
            "\ncoverage: {exercised} of {total} rules, rows, segments, branches, suppressions and targets exercised ({percent:.1}%)\n"
        );
        let mut missing: Vec<&CoverageItem> = self.not_exercised().collect();
        // By file, then line (numerically), then declaration order.
        missing.sort_by_key(|item| {
            let (file, line) = item.at.rsplit_once(':').unwrap_or((&item.at, ""));
            (file, line.parse::<usize>().unwrap_or(0))
        });
        if !missing.is_empty() {
            out.push_str("not exercised by any case:\n");
            let width = missing
                .iter()
                .map(|i| crate::output::display_width(&i.at))
                .max()
                .unwrap_or(0);
            for item in missing {
                out.push_str(&format!(
                    "  {}  {}\n",
                    crate::output::pad_to_width(&item.at, width),
                    item.describe()
                ));
            }
        }
        out
    }
}

/// How a `first` row is named: its label quoted, or `(unlabelled)`.
fn row_name(label: Option<&str>) -> String {
    label.map_or_else(|| String::from("(unlabelled)"), quoted)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    const RULES: &str = r#"score fit 0..100 {
  "vp" when job_title == "VP" => +50
  "size" first {
    "big" when company_size >= 200 => +20
    "mid" when company_size >= 50 => +10
  }
}
band tier {
  A when fit >= 50
  B otherwise
}
suppress customer on ads when lifecycle == "customer"
audience ads_top when tier is A
"#;

    fn setup() -> (Plan, Sources) {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("r.rubric", RULES));
        let compiled = crate::compile::compile(&sources).expect("the rules compile");
        (compiled.plan, sources)
    }

    fn record(coverage: &mut Coverage, plan: &Plan, sources: &Sources, contact: &str) {
        let contact = crate::snapshot::decode_line(&plan.decode, contact)
            .unwrap()
            .unwrap();
        let (_, trace) = crate::trace::explain(plan, sources, &contact, 0);
        coverage.record(&trace);
    }

    fn missing(coverage: &Coverage) -> Vec<String> {
        coverage
            .not_exercised()
            .map(|i| format!("{} {}", i.at, i.describe()))
            .collect()
    }

    #[test]
    fn every_item_of_the_plan_starts_unexercised() {
        let (plan, sources) = setup();
        let coverage = Coverage::new(&plan, &sources);
        assert_eq!(coverage.exercised(), 0);
        assert_eq!(
            missing(&coverage),
            [
                "r.rubric:2 score fit, rule \"vp\"",
                "r.rubric:3 score fit, rule \"size\"",
                "r.rubric:4 score fit, rule \"size\", row \"big\"",
                "r.rubric:5 score fit, rule \"size\", row \"mid\"",
                "r.rubric:9 band tier, branch A",
                "r.rubric:10 band tier, branch B",
                "r.rubric:12 suppression customer",
                "r.rubric:13 audience ads_top",
            ]
        );
    }

    #[test]
    fn what_matched_in_a_case_is_exercised() {
        let (plan, sources) = setup();
        let mut coverage = Coverage::new(&plan, &sources);
        record(
            &mut coverage,
            &plan,
            &sources,
            r#"{"id":"a","properties":{"job_title":"VP","company_size":60}}"#,
        );
        assert_eq!(
            missing(&coverage),
            [
                "r.rubric:4 score fit, rule \"size\", row \"big\"",
                "r.rubric:10 band tier, branch B",
                "r.rubric:12 suppression customer",
            ]
        );
        record(
            &mut coverage,
            &plan,
            &sources,
            r#"{"id":"b","properties":{"company_size":500,"lifecycle":"customer"}}"#,
        );
        assert_eq!(missing(&coverage), Vec::<String>::new());
        assert_eq!(coverage.exercised(), coverage.items.len());
    }

    #[test]
    fn the_summary_lists_what_no_case_exercised_by_file_and_line() {
        let (plan, sources) = setup();
        let mut coverage = Coverage::new(&plan, &sources);
        record(
            &mut coverage,
            &plan,
            &sources,
            r#"{"id":"a","properties":{"job_title":"VP"}}"#,
        );
        let text = coverage.render_text();
        assert!(text.starts_with("\ncoverage: 3 of 8 "), "{text}");
        assert!(
            text.contains("(37.5%)\nnot exercised by any case:\n  r.rubric:3   score fit, rule \"size\"\n"),
            "{text}"
        );
        assert!(text.ends_with("  r.rubric:12  suppression customer\n"), "{text}");
    }
}
