//! `rubric diff`: the impact of a rule change on one snapshot.
//!
//! Two plans are evaluated on the same decoded contact: the new plan is
//! compiled with the base plan's slots as a seed
//! ([`crate::compile::compile_with_seed`]), so its `DecodeSpec` is a superset
//! and each line is decoded once. For every contact, [`Alignment::record`]
//! turns the two outcomes into one cell index per compared item (a band's
//! value, an audience or workflow membership, a route's queue: base label ×
//! new label) and the values of the scores; [`ImpactTally::add`] counts them in
//! input order (after the duplicate-id check), keeping the first few contact
//! ids of every change; [`ImpactTally::report`] builds the [`ImpactReport`], which is
//! also the JSON format (`--format json`, documented in docs/cli.md).
//! [`render`] prints it as text or Markdown. [`compare::compare_snapshot`]
//! streams a snapshot through both plans.
//!
//! Items are matched by name. One that exists on one side only is `added` or
//! `removed` (`side`), and its other side counts as no value / not a member.
//!
//! Quantiles are exact: every score value is kept (8 bytes per contact per
//! score and side) and sorted at the end; a quantile interpolates linearly
//! between the two closest ranks (`(n - 1) · p`, like numpy's default).

pub mod base;
pub mod compare;
pub mod render;
mod routes;

use rayon::slice::ParallelSliceMut as _;
use serde::Serialize;

use crate::eval::Outcome;
use crate::output::round2;
use crate::plan::Plan;

/// The version of the JSON report; bumped only for a breaking change.
pub const REPORT_VERSION: u32 = 1;
/// Bins of each score histogram.
pub const HISTOGRAM_BINS: usize = 10;

/// Where an item exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Both,
    /// Only in the new rules.
    Added,
    /// Only in the base rules.
    Removed,
}

impl Side {
    fn of<T>(base: Option<T>, new: Option<T>) -> Side {
        match (base, new) {
            (Some(_), None) => Side::Removed,
            (None, Some(_)) => Side::Added,
            _ => Side::Both,
        }
    }
}

/// What a compared item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Band,
    Audience,
    Workflow,
    Route,
}

/// One categorical item compared per contact. Its cells are `from × to`
/// labels; `None` is "no value" (band missing on that side) or "not a
/// member" (audience, workflow, route), and a member of an audience or
/// workflow is `in`, of a route its queue.
#[derive(Debug)]
struct Tracker {
    kind: Kind,
    name: String,
    base: Option<usize>,
    new: Option<usize>,
    from: Vec<Option<String>>,
    to: Vec<Option<String>>,
    /// Per cell: do the two labels differ.
    changed: Vec<bool>,
    /// Per cell: where its example ids go.
    change: Vec<Change>,
    /// Routes only: where each side's queue falls among `from` and `to`.
    route_labels: [routes::RouteLabels; 2],
}

/// What a cell means for the contacts in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    /// A band transition or a route's queue change: examples per cell.
    Cell,
    /// Into an audience, workflow or route.
    Added,
    /// Out of one.
    Removed,
}

impl Tracker {
    fn new(
        kind: Kind,
        name: &str,
        base: Option<usize>,
        new: Option<usize>,
        from: Vec<Option<String>>,
        to: Vec<Option<String>>,
    ) -> Tracker {
        let changed: Vec<bool> = from.iter().flat_map(|f| to.iter().map(move |t| f != t)).collect();
        let is_in = |l: &Option<String>| l.is_some();
        let change = from
            .iter()
            .flat_map(|f| to.iter().map(move |t| (f, t)))
            .map(|(f, t)| match (kind, f == t, is_in(f), is_in(t)) {
                (_, true, _, _) => Change::None,
                (Kind::Band, false, _, _) | (_, false, true, true) => Change::Cell,
                (_, false, false, true) => Change::Added,
                (_, false, true, false) => Change::Removed,
                (_, false, false, false) => Change::None,
            })
            .collect();
        Tracker {
            kind,
            name: name.to_string(),
            base,
            new,
            from,
            to,
            changed,
            change,
            route_labels: Default::default(),
        }
    }

    fn side(&self) -> Side {
        Side::of(self.base, self.new)
    }

    /// The label index of one side's outcome (`side` 0 is the base, 1 the new).
    fn index(&self, side: usize, plan_index: Option<usize>, outcome: &Outcome) -> usize {
        let Some(i) = plan_index else { return 0 };
        match self.kind {
            Kind::Band => outcome.bands.get(i).map_or(0, |&v| usize::from(v)),
            Kind::Audience => usize::from(outcome.audiences.get(i).copied().unwrap_or(false)),
            Kind::Workflow => usize::from(outcome.workflows.get(i).copied().unwrap_or(false)),
            Kind::Route => self
                .route_labels
                .get(side)
                .map_or(0, |labels| routes::route_label(labels, i, outcome)),
        }
    }
}

/// A score compared per contact.
#[derive(Debug)]
struct ScoreAlign {
    name: String,
    base: Option<usize>,
    new: Option<usize>,
    low: f64,
    high: f64,
}

/// How two plans' items line up, by name.
#[derive(Debug)]
pub struct Alignment {
    trackers: Vec<Tracker>,
    scores: Vec<ScoreAlign>,
    /// Values recorded per contact (one per score and side).
    score_values: usize,
}

/// Names of `base` in order, then those only in `new`, each with its index on both sides.
fn union<'a>(base: &[&'a str], new: &[&'a str]) -> Vec<(&'a str, Option<usize>, Option<usize>)> {
    let find = |list: &[&str], name: &str| list.iter().position(|n| *n == name);
    let mut out: Vec<(&str, Option<usize>, Option<usize>)> = base
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, Some(i), find(new, n)))
        .collect();
    out.extend(
        new.iter()
            .enumerate()
            .filter(|(_, n)| find(base, n).is_none())
            .map(|(i, n)| (*n, None, Some(i))),
    );
    out
}

impl Alignment {
    pub fn new<'p>(base: &'p Plan, new: &'p Plan) -> Alignment {
        let mut trackers = Vec::new();
        let bands = |p: &'p Plan| -> Vec<&'p str> { p.bands.iter().map(|b| b.name.as_str()).collect() };
        for (name, b, n) in union(&bands(base), &bands(new)) {
            let labels = |plan: &Plan, i: Option<usize>| match i.and_then(|i| plan.bands.get(i)) {
                Some(band) => band.values.iter().map(|v| Some(v.clone())).collect(),
                None => vec![None],
            };
            trackers.push(Tracker::new(
                Kind::Band,
                name,
                b,
                n,
                labels(base, b),
                labels(new, n),
            ));
        }
        for kind in [Kind::Audience, Kind::Workflow] {
            let names = |p: &'_ Plan| -> Vec<String> {
                let list = if kind == Kind::Audience {
                    &p.audiences
                } else {
                    &p.workflows
                };
                list.iter().map(|t| t.name.clone()).collect()
            };
            let (bn, nn) = (names(base), names(new));
            let (bn, nn): (Vec<&str>, Vec<&str>) = (
                bn.iter().map(String::as_str).collect(),
                nn.iter().map(String::as_str).collect(),
            );
            for (name, b, n) in union(&bn, &nn) {
                let labels = |i: Option<usize>| match i {
                    Some(_) => vec![None, Some("in".to_string())],
                    None => vec![None],
                };
                trackers.push(Tracker::new(kind, name, b, n, labels(b), labels(n)));
            }
        }
        let routes = |p: &'p Plan| -> Vec<&'p str> { p.routes.iter().map(|r| r.name.as_str()).collect() };
        for (name, b, n) in union(&routes(base), &routes(new)) {
            let labels = |plan: &Plan, i: Option<usize>| match i.and_then(|i| plan.routes.get(i)) {
                Some(route) => routes::route_labels(plan, route),
                None => (vec![None], routes::RouteLabels::default()),
            };
            let (from, base_labels) = labels(base, b);
            let (to, new_labels) = labels(new, n);
            let mut tracker = Tracker::new(Kind::Route, name, b, n, from, to);
            tracker.route_labels = [base_labels, new_labels];
            trackers.push(tracker);
        }
        let score_names =
            |p: &'p Plan| -> Vec<&'p str> { p.scores.iter().map(|s| s.name.as_str()).collect() };
        let scores: Vec<ScoreAlign> = union(&score_names(base), &score_names(new))
            .into_iter()
            .map(|(name, b, n)| {
                let range = |plan: &Plan, i: Option<usize>| {
                    i.and_then(|i| plan.scores.get(i)).map(|s| (s.low, s.high))
                };
                let (low, high) = match (range(base, b), range(new, n)) {
                    (Some((l1, h1)), Some((l2, h2))) => (l1.min(l2), h1.max(h2)),
                    (Some(r), None) | (None, Some(r)) => r,
                    (None, None) => (0.0, 0.0),
                };
                ScoreAlign {
                    name: name.to_string(),
                    base: b,
                    new: n,
                    low,
                    high,
                }
            })
            .collect();
        let score_values = scores
            .iter()
            .map(|s| usize::from(s.base.is_some()) + usize::from(s.new.is_some()))
            .sum();
        Alignment {
            trackers,
            scores,
            score_values,
        }
    }

    /// Cells recorded per contact (one per compared band, audience, workflow and route).
    pub fn cells_per_contact(&self) -> usize {
        self.trackers.len()
    }

    /// Score values recorded per contact.
    pub fn values_per_contact(&self) -> usize {
        self.score_values
    }

    /// Appends one contact's cells ([`Self::cells_per_contact`]) and score
    /// values ([`Self::values_per_contact`]).
    pub fn record(&self, base: &Outcome, new: &Outcome, cells: &mut Vec<u32>, values: &mut Vec<f64>) {
        for t in &self.trackers {
            let cell = t.index(0, t.base, base) * t.to.len() + t.index(1, t.new, new);
            cells.push(u32::try_from(cell).unwrap_or(u32::MAX));
        }
        for s in &self.scores {
            if let Some(v) = s.base.and_then(|i| base.scores.get(i)) {
                values.push(*v);
            }
            if let Some(v) = s.new.and_then(|i| new.scores.get(i)) {
                values.push(*v);
            }
        }
    }
}

/// The counts of a diff, added to contact by contact in input order.
#[derive(Debug)]
pub struct ImpactTally {
    max_examples: usize,
    contacts: u64,
    changed: u64,
    warnings: [u64; 2],
    /// Per tracker: a count per cell.
    counts: Vec<Vec<u64>>,
    /// Per tracker: the first ids per cell (band transitions, queue changes).
    examples: Vec<Vec<Vec<String>>>,
    /// Per tracker: the first ids added to and removed from a target.
    added_removed: Vec<[Vec<String>; 2]>,
    /// Per score: the values of each side.
    values: Vec<[Vec<f64>; 2]>,
    /// Per score present on both sides: contacts whose rounded value went up, down.
    moved: Vec<[u64; 2]>,
}

impl ImpactTally {
    pub fn new(alignment: &Alignment, max_examples: usize) -> ImpactTally {
        ImpactTally {
            max_examples,
            contacts: 0,
            changed: 0,
            warnings: [0, 0],
            counts: alignment
                .trackers
                .iter()
                .map(|t| vec![0; t.changed.len()])
                .collect(),
            examples: alignment
                .trackers
                .iter()
                .map(|t| vec![Vec::new(); t.changed.len()])
                .collect(),
            added_removed: alignment
                .trackers
                .iter()
                .map(|_| [Vec::new(), Vec::new()])
                .collect(),
            values: alignment
                .scores
                .iter()
                .map(|_| [Vec::new(), Vec::new()])
                .collect(),
            moved: alignment.scores.iter().map(|_| [0, 0]).collect(),
        }
    }

    /// Adds one accepted contact: its id, the cells and values
    /// [`Alignment::record`] wrote, and its wrong-type counts (base, new).
    pub fn add(
        &mut self,
        alignment: &Alignment,
        id: &str,
        cells: &[u32],
        values: &[f64],
        warnings: [u32; 2],
    ) {
        self.contacts += 1;
        self.warnings[0] += u64::from(warnings[0]);
        self.warnings[1] += u64::from(warnings[1]);
        let mut changed = false;
        for ((((t, &cell), counts), examples), [added, removed]) in alignment
            .trackers
            .iter()
            .zip(cells)
            .zip(&mut self.counts)
            .zip(&mut self.examples)
            .zip(&mut self.added_removed)
        {
            let cell = cell as usize;
            if let Some(c) = counts.get_mut(cell) {
                *c += 1;
            }
            let list = match t.change.get(cell).copied().unwrap_or(Change::None) {
                Change::None => continue,
                Change::Cell => examples.get_mut(cell),
                Change::Added => Some(added),
                Change::Removed => Some(removed),
            };
            changed = true;
            if let Some(list) = list {
                if list.len() < self.max_examples {
                    list.push(id.to_string());
                }
            }
        }
        if changed {
            self.changed += 1;
        }
        let mut values = values.iter();
        for ((s, [base, new]), moved) in alignment.scores.iter().zip(&mut self.values).zip(&mut self.moved) {
            let b = if s.base.is_some() {
                values.next().copied()
            } else {
                None
            };
            let n = if s.new.is_some() {
                values.next().copied()
            } else {
                None
            };
            if let Some(b) = b {
                base.push(b);
            }
            if let Some(n) = n {
                new.push(n);
            }
            if let (Some(b), Some(n)) = (b, n) {
                let (b, n) = (round2(b), round2(n));
                if n > b {
                    moved[0] += 1;
                } else if n < b {
                    moved[1] += 1;
                }
            }
        }
    }

    /// The finished report.
    pub fn report(self, alignment: &Alignment, meta: Meta) -> ImpactReport {
        let mut report = ImpactReport {
            version: REPORT_VERSION,
            base: meta.base,
            rules: meta.rules,
            contacts_file: meta.contacts_file,
            as_of: meta.as_of,
            contacts: self.contacts,
            rejected: meta.rejected,
            changed: self.changed,
            wrong_type_values: Pair {
                base: self.warnings[0],
                new: self.warnings[1],
            },
            bands: Vec::new(),
            scores: Vec::new(),
            audiences: Vec::new(),
            workflows: Vec::new(),
            routes: Vec::new(),
        };
        for (((t, counts), mut examples), [added_ids, removed_ids]) in alignment
            .trackers
            .iter()
            .zip(self.counts)
            .zip(self.examples)
            .zip(self.added_removed)
        {
            let width = t.to.len().max(1);
            let unchanged = counts
                .iter()
                .zip(&t.changed)
                .filter(|(_, &c)| !c)
                .map(|(n, _)| *n)
                .sum();
            let side = t.side();
            match t.kind {
                Kind::Band => {
                    let transitions: Vec<Transition> = counts
                        .iter()
                        .enumerate()
                        .filter(|(cell, &n)| n > 0 && t.changed.get(*cell).copied().unwrap_or(false))
                        .map(|(cell, &n)| Transition {
                            from: t.from.get(cell / width).cloned().flatten(),
                            to: t.to.get(cell % width).cloned().flatten(),
                            contacts: n,
                            examples: examples.get_mut(cell).map(std::mem::take).unwrap_or_default(),
                        })
                        .collect();
                    let labels = |l: &[Option<String>]| l.iter().flatten().cloned().collect::<Vec<_>>();
                    let matrix: Vec<Vec<u64>> = counts.chunks(width).map(<[u64]>::to_vec).collect();
                    let totals = |values: &[String], by_row: bool| -> Vec<ValueCount> {
                        values
                            .iter()
                            .enumerate()
                            .map(|(i, v)| ValueCount {
                                value: v.clone(),
                                contacts: if by_row {
                                    matrix.get(i).map_or(0, |r| r.iter().sum())
                                } else {
                                    matrix.iter().map(|r| r.get(i).copied().unwrap_or(0)).sum()
                                },
                            })
                            .collect()
                    };
                    let (bv, nv) = (labels(&t.from), labels(&t.to));
                    report.bands.push(BandReport {
                        name: t.name.clone(),
                        side,
                        counts: Pair {
                            base: t.base.map(|_| totals(&bv, true)),
                            new: t.new.map(|_| totals(&nv, false)),
                        },
                        values: Pair {
                            base: t.base.map(|_| bv),
                            new: t.new.map(|_| nv),
                        },
                        matrix,
                        unchanged,
                        transitions,
                    })
                }
                Kind::Audience | Kind::Workflow | Kind::Route => {
                    let is_out = |l: &Option<String>| l.is_none();
                    let mut target = TargetReport {
                        name: t.name.clone(),
                        side,
                        base: 0,
                        new: 0,
                        added: 0,
                        removed: 0,
                        examples: AddedRemoved {
                            added: added_ids,
                            removed: removed_ids,
                        },
                        queue_changes: None,
                    };
                    let mut queue_changes = Vec::new();
                    for (cell, &n) in counts.iter().enumerate() {
                        let (Some(from), Some(to)) = (t.from.get(cell / width), t.to.get(cell % width))
                        else {
                            continue;
                        };
                        let (was, is) = (!is_out(from), !is_out(to));
                        if was {
                            target.base += n;
                        }
                        if is {
                            target.new += n;
                        }
                        if n == 0 {
                            continue;
                        }
                        match (was, is) {
                            (false, true) => target.added += n,
                            (true, false) => target.removed += n,
                            (true, true) if from != to => queue_changes.push(Transition {
                                from: from.clone(),
                                to: to.clone(),
                                contacts: n,
                                examples: examples.get_mut(cell).map(std::mem::take).unwrap_or_default(),
                            }),
                            _ => {}
                        }
                    }
                    match t.kind {
                        Kind::Audience => report.audiences.push(target),
                        Kind::Workflow => report.workflows.push(target),
                        _ => {
                            target.queue_changes = Some(queue_changes);
                            report.routes.push(target);
                        }
                    }
                }
            }
        }
        for ((s, [mut base, mut new]), moved) in alignment.scores.iter().zip(self.values).zip(self.moved) {
            let histogram = histogram(s.low, s.high, &base, &new, s.base.is_some(), s.new.is_some());
            let both = s.base.is_some() && s.new.is_some();
            report.scores.push(ScoreReport {
                name: s.name.clone(),
                side: Side::of(s.base, s.new),
                base: s.base.and_then(|_| Stats::of(&mut base)),
                new: s.new.and_then(|_| Stats::of(&mut new)),
                up: if both { Some(moved[0]) } else { None },
                down: if both { Some(moved[1]) } else { None },
                histogram,
            });
        }
        report
    }
}

/// What the report says about its inputs.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub base: String,
    pub rules: String,
    pub contacts_file: String,
    pub as_of: String,
    pub rejected: u64,
}

fn histogram(low: f64, high: f64, base: &[f64], new: &[f64], has_base: bool, has_new: bool) -> Histogram {
    let width = (high - low) / HISTOGRAM_BINS as f64;
    let bin = |v: f64| -> usize {
        if width <= 0.0 || !v.is_finite() {
            return 0;
        }
        let b = ((v - low) / width).floor();
        if b < 0.0 {
            0
        } else {
            (b as usize).min(HISTOGRAM_BINS - 1)
        }
    };
    let mut bins: Vec<Bin> = (0..HISTOGRAM_BINS)
        .map(|i| Bin {
            from: Num(low + width * i as f64),
            to: Num(low + width * (i + 1) as f64),
            base: has_base.then_some(0),
            new: has_new.then_some(0),
        })
        .collect();
    for v in base {
        if let Some(c) = bins.get_mut(bin(*v)).and_then(|b| b.base.as_mut()) {
            *c += 1;
        }
    }
    for v in new {
        if let Some(c) = bins.get_mut(bin(*v)).and_then(|b| b.new.as_mut()) {
            *c += 1;
        }
    }
    Histogram {
        low: Num(low),
        high: Num(high),
        bins,
    }
}

/// A number printed like result scores (docs/formats.md#results): rounded to
/// 2 decimals, `85` not `85.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = round2(self.0);
        if x.fract() == 0.0 && x.abs() < 9e15 {
            s.serialize_i64(x as i64)
        } else {
            s.serialize_f64(x)
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = round2(self.0);
        if x.fract() == 0.0 && x.abs() < 9e15 {
            write!(f, "{}", x as i64)
        } else {
            write!(f, "{x:.2}")
        }
    }
}

/// The impact of a rule change: the JSON report of `rubric diff --format json`
/// (field by field in docs/cli.md). Adding a field is fine; renaming or
/// removing one needs a new [`REPORT_VERSION`].
#[derive(Debug, Clone, Serialize)]
pub struct ImpactReport {
    pub version: u32,
    /// `--base` as given (a path or a git revision).
    pub base: String,
    /// `--rules` as given.
    pub rules: String,
    /// `--contacts` as given.
    #[serde(rename = "contacts_file")]
    pub contacts_file: String,
    pub as_of: String,
    /// Accepted contacts (each evaluated by both rule sets).
    pub contacts: u64,
    /// Rejected lines (bad lines and repeated ids).
    pub rejected: u64,
    /// Contacts with any band value, audience, workflow, route or queue changed.
    pub changed: u64,
    pub wrong_type_values: Pair<u64>,
    pub bands: Vec<BandReport>,
    pub scores: Vec<ScoreReport>,
    pub audiences: Vec<TargetReport>,
    pub workflows: Vec<TargetReport>,
    pub routes: Vec<TargetReport>,
}

/// A value for the base rules and one for the new rules.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pair<T> {
    pub base: T,
    pub new: T,
}

#[derive(Debug, Clone, Serialize)]
pub struct BandReport {
    pub name: String,
    pub side: Side,
    /// The band's values on each side (`null` on the side without the band).
    pub values: Pair<Option<Vec<String>>>,
    /// Contacts per value on each side.
    pub counts: Pair<Option<Vec<ValueCount>>>,
    /// Contacts per (base value, new value): one row per base value, one
    /// column per new value, in `values` order; a side without the band has a
    /// single row (column) of contacts without a value.
    pub matrix: Vec<Vec<u64>>,
    /// Contacts whose value did not change.
    pub unchanged: u64,
    /// Every non-empty cell whose values differ, in matrix order.
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueCount {
    pub value: String,
    pub contacts: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    /// `null`: no value (the band or route does not exist on this side).
    pub from: Option<String>,
    pub to: Option<String>,
    pub contacts: u64,
    /// The first contact ids in input order (at most `--examples`).
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub name: String,
    pub side: Side,
    /// Members with the base rules.
    pub base: u64,
    /// Members with the new rules.
    pub new: u64,
    pub added: u64,
    pub removed: u64,
    pub examples: AddedRemoved,
    /// Routes only: contacts routed by both with a different queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_changes: Option<Vec<Transition>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AddedRemoved {
    /// The first contact ids added / removed, in input order (at most `--examples`).
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScoreReport {
    pub name: String,
    pub side: Side,
    /// `null` on the side without the score (or with no contacts).
    pub base: Option<Stats>,
    pub new: Option<Stats>,
    /// Contacts whose score (rounded to 2 decimals) went up / down; `null`
    /// unless the score exists on both sides.
    pub up: Option<u64>,
    pub down: Option<u64>,
    pub histogram: Histogram,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub mean: Num,
    pub min: Num,
    pub p10: Num,
    pub p25: Num,
    pub p50: Num,
    pub p75: Num,
    pub p90: Num,
    pub max: Num,
}

impl Stats {
    /// Exact statistics of `values` (sorted in place); `None` when empty.
    fn of(values: &mut [f64]) -> Option<Stats> {
        values.par_sort_unstable_by(f64::total_cmp);
        let n = values.len();
        let (&min, &max) = (values.first()?, values.last()?);
        let mean = values.iter().sum::<f64>() / n as f64;
        let q = |p: f64| {
            let h = (n - 1) as f64 * p;
            let lo = h.floor() as usize;
            let (a, b) = (
                values.get(lo).copied().unwrap_or(max),
                values.get(lo + 1).copied().unwrap_or(max),
            );
            Num(a + (h - lo as f64) * (b - a))
        };
        Some(Stats {
            mean: Num(mean),
            min: Num(min),
            p10: q(0.10),
            p25: q(0.25),
            p50: q(0.50),
            p75: q(0.75),
            p90: q(0.90),
            max: Num(max),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    /// The score's range (the union of both sides' ranges).
    pub low: Num,
    pub high: Num,
    /// [`HISTOGRAM_BINS`] bins of equal width; each holds `from <= v < to`
    /// (the last one also `high`).
    pub bins: Vec<Bin>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    pub from: Num,
    pub to: Num,
    pub base: Option<u64>,
    pub new: Option<u64>,
}
