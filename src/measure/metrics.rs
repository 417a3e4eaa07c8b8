//! The arithmetic of a measure report (docs/measure.md#definitions): a
//! [`Tally`] adds contacts one at a time, in input order, and
//! [`Tally::report`] turns the counts into rates, Wilson intervals, lifts,
//! captured shares, AUCs, bins and thresholds. Nothing here reads input.

use std::collections::HashMap;

use super::report::{
    ByReport, ByRow, GroupRow, Map, MeasureReport, Metrics, OutcomeCounts, Real, ScoreBin, ScoreReport,
    Threshold,
};
use crate::plan::Plan;

/// z for a 95 % Wilson score interval.
pub const WILSON_Z: f64 = 1.959963984540054;

/// The number of equal-width bins of a score's range.
pub const SCORE_BINS: usize = 10;

/// What one accepted contact contributes.
#[derive(Debug, Clone, Copy)]
pub struct ContactFacts<'a> {
    /// Unrounded, after clamping, one per score of the plan.
    pub scores: &'a [f64],
    /// Index of the band's value, one per band of the plan.
    pub bands: &'a [u16],
    /// The `--by` property's text value (`None`: missing, null, not text).
    pub group: Option<&'a str>,
    /// Outcomes of the goal's types inside the horizon.
    pub counted: u64,
    /// The sum of their amounts (0 for a goal without a value).
    pub amount: f64,
    /// Valid outcome lines naming the contact (any type, any time).
    pub outcome_lines: u64,
}

/// Contacts, conversions and amounts of a group.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub contacts: u64,
    pub converted: u64,
    pub amount: f64,
}

impl Counts {
    fn add(&mut self, converted: bool, amount: f64) {
        self.contacts += 1;
        self.converted += u64::from(converted);
        self.amount += amount;
    }
}

/// The `--by` groups met so far and their counts per band value.
#[derive(Debug, Default)]
struct ByTally {
    /// Text group → its number (numbers in order of first appearance).
    numbers: HashMap<String, usize>,
    /// The number of the `null` group, once met.
    null_number: Option<usize>,
    /// Per group number: one `Counts` per band value, bands in order.
    cells: Vec<Vec<Counts>>,
}

/// Adds up contacts for one report (see the module documentation).
#[derive(Debug)]
pub struct Tally {
    cohort: Counts,
    counted: u64,
    matched_lines: u64,
    /// Where each band's values start in a flat list of all band values.
    band_offsets: Vec<usize>,
    band_values: usize,
    bands: Vec<Counts>,
    /// Per score: its value for every contact, split by conversion.
    scores: Vec<ScoreValues>,
    by: Option<ByTally>,
}

impl Tally {
    /// An empty tally for `plan`'s bands and scores; with `by`, per group too.
    pub fn new(plan: &Plan, by: bool) -> Tally {
        let mut band_offsets = Vec::with_capacity(plan.bands.len());
        let mut band_values = 0;
        for band in &plan.bands {
            band_offsets.push(band_values);
            band_values += band.values.len();
        }
        Tally {
            cohort: Counts::default(),
            counted: 0,
            matched_lines: 0,
            band_offsets,
            band_values,
            bands: vec![Counts::default(); band_values],
            scores: vec![ScoreValues::default(); plan.scores.len()],
            by: by.then(ByTally::default),
        }
    }

    /// Adds one accepted contact.
    pub fn add(&mut self, facts: &ContactFacts) {
        let converted = facts.counted > 0;
        self.cohort.add(converted, facts.amount);
        self.counted += facts.counted;
        self.matched_lines += facts.outcome_lines;
        for (band, &value) in facts.bands.iter().enumerate() {
            let Some(&offset) = self.band_offsets.get(band) else {
                continue;
            };
            if let Some(cell) = self.bands.get_mut(offset + usize::from(value)) {
                cell.add(converted, facts.amount);
            }
        }
        for (values, &score) in self.scores.iter_mut().zip(facts.scores) {
            values.push(score, converted);
        }
        if let Some(by) = self.by.as_mut() {
            let next = by.cells.len();
            // Looked up by `&str`: no allocation for a group met before.
            let number = match facts.group {
                Some(group) => match by.numbers.get(group) {
                    Some(&number) => number,
                    None => {
                        by.numbers.insert(group.to_owned(), next);
                        next
                    }
                },
                None => *by.null_number.get_or_insert(next),
            };
            if number == next {
                by.cells.push(vec![Counts::default(); self.band_values]);
            }
            if let Some(cells) = by.cells.get_mut(number) {
                for (band, &value) in facts.bands.iter().enumerate() {
                    let Some(&offset) = self.band_offsets.get(band) else {
                        continue;
                    };
                    if let Some(cell) = cells.get_mut(offset + usize::from(value)) {
                        cell.add(converted, facts.amount);
                    }
                }
            }
        }
    }

    /// The contacts added so far.
    pub fn contacts(&self) -> u64 {
        self.cohort.contacts
    }

    /// The report of everything added. `valid_outcome_lines` is the number
    /// of valid lines of the outcomes file (for `unmatched`).
    pub fn report(self, plan: &Plan, header: ReportHeader) -> MeasureReport {
        let cohort = self.cohort;
        let cohort_rate = ratio(cohort.converted as f64, cohort.contacts as f64);
        let row = |counts: &Counts| metrics(counts, cohort_rate, cohort.converted);
        let mut bands = Map::default();
        for (band, &offset) in plan.bands.iter().zip(&self.band_offsets) {
            let rows = band
                .values
                .iter()
                .enumerate()
                .map(|(i, value)| GroupRow {
                    value: value.clone(),
                    metrics: row(self.bands.get(offset + i).unwrap_or(&Counts::default())),
                })
                .collect();
            bands.0.push((band.name.clone(), rows));
        }
        let mut scores = Map::default();
        for (score, values) in plan.scores.iter().zip(self.scores) {
            scores.0.push((
                score.name.clone(),
                score_report(values, score.low, score.high, cohort.converted),
            ));
        }
        let by = self.by.map(|by| {
            let mut groups: Vec<(Option<String>, usize)> = by
                .numbers
                .into_iter()
                .map(|(group, number)| (Some(group), number))
                .chain(by.null_number.map(|number| (None, number)))
                .collect();
            // Unicode code points (Rust's `str` order), the null group last.
            groups.sort_by(|(a, _), (b, _)| match (a, b) {
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
            let mut rows = Vec::new();
            for (band, &offset) in plan.bands.iter().zip(&self.band_offsets) {
                for (i, value) in band.values.iter().enumerate() {
                    for (group, number) in &groups {
                        let cell = by
                            .cells
                            .get(*number)
                            .and_then(|cells| cells.get(offset + i))
                            .copied()
                            .unwrap_or_default();
                        rows.push(ByRow {
                            band: band.name.clone(),
                            value: value.clone(),
                            group: group.clone(),
                            metrics: row(&cell),
                        });
                    }
                }
            }
            ByReport {
                property: header.by_property.clone().unwrap_or_default(),
                rows,
            }
        });
        MeasureReport {
            goal: header.goal,
            as_of: header.as_of,
            horizon_days: Real(header.horizon_days),
            contacts: cohort.contacts,
            converted: cohort.converted,
            rate: cohort_rate.map(Real),
            amount: Real(cohort.amount),
            outcomes: OutcomeCounts {
                read: header.outcome_lines_read,
                rejected: header.outcome_lines_rejected,
                unmatched: header.valid_outcome_lines.saturating_sub(self.matched_lines),
                counted: self.counted,
            },
            bands,
            scores,
            by,
        }
    }
}

/// What a report says besides the counts of its contacts.
#[derive(Debug, Clone)]
pub struct ReportHeader {
    pub goal: String,
    pub as_of: String,
    pub horizon_days: f64,
    pub by_property: Option<String>,
    pub outcome_lines_read: u64,
    pub outcome_lines_rejected: u64,
    pub valid_outcome_lines: u64,
}

/// `numerator / denominator`, `None` when the denominator is 0.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator != 0.0).then(|| numerator / denominator)
}

/// The Wilson score interval of `converted` out of `contacts` (z =
/// [`WILSON_Z`]); `None` for an empty group.
pub fn wilson(converted: u64, contacts: u64) -> Option<(f64, f64)> {
    if contacts == 0 {
        return None;
    }
    let n = contacts as f64;
    let p = converted as f64 / n;
    let z2 = WILSON_Z * WILSON_Z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = WILSON_Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some((centre - half, centre + half))
}

/// A group's metrics against the cohort's rate and converted count.
pub fn metrics(counts: &Counts, cohort_rate: Option<f64>, cohort_converted: u64) -> Metrics {
    let rate = ratio(counts.converted as f64, counts.contacts as f64);
    let interval = wilson(counts.converted, counts.contacts);
    Metrics {
        contacts: counts.contacts,
        converted: counts.converted,
        rate: rate.map(Real),
        rate_low: interval.map(|(low, _)| Real(low)),
        rate_high: interval.map(|(_, high)| Real(high)),
        lift: rate.zip(cohort_rate).and_then(|(r, c)| ratio(r, c)).map(Real),
        captured: ratio(counts.converted as f64, cohort_converted as f64).map(Real),
        amount: Real(counts.amount),
    }
}

/// The scores of one score over the cohort, split by conversion: 8 bytes
/// per contact, and what the AUC, bins and thresholds need.
#[derive(Debug, Clone, Default)]
pub struct ScoreValues {
    pub converted: Vec<f64>,
    pub not_converted: Vec<f64>,
}

impl ScoreValues {
    fn push(&mut self, score: f64, converted: bool) {
        if converted {
            self.converted.push(score);
        } else {
            self.not_converted.push(score);
        }
    }
}

/// The Mann–Whitney AUC of `values` (score, converted): the probability
/// that a converted contact scores higher than one that did not, ties
/// counting ½; `None` when either group is empty.
pub fn auc(values: &[(f64, bool)]) -> Option<f64> {
    let mut split = ScoreValues::default();
    for &(score, converted) in values {
        split.push(score, converted);
    }
    sort(&mut split);
    auc_of_sorted(&split)
}

fn sort(values: &mut ScoreValues) {
    values.converted.sort_by(f64::total_cmp);
    values.not_converted.sort_by(f64::total_cmp);
}

/// [`auc`] of values whose two lists are sorted.
fn auc_of_sorted(values: &ScoreValues) -> Option<f64> {
    let (positives, negatives) = (&values.converted, &values.not_converted);
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    // Each positive beats the negatives below it and ties with those equal
    // to it; both lists are sorted, so two cursors walk them once.
    let mut wins = 0.0f64;
    let (mut below, mut up_to) = (0usize, 0usize);
    for &p in positives {
        while negatives.get(below).is_some_and(|&n| n < p) {
            below += 1;
        }
        up_to = up_to.max(below);
        while negatives.get(up_to).is_some_and(|&n| n <= p) {
            up_to += 1;
        }
        wins += below as f64 + 0.5 * (up_to - below) as f64;
    }
    Some(wins / (positives.len() as f64 * negatives.len() as f64))
}

/// The bin of score `x` of the range starting at `low` with bins `width` wide.
fn bin_of(x: f64, low: f64, width: f64) -> usize {
    let index = ((x - low) / width).floor();
    if index.is_nan() || index < 0.0 {
        0
    } else {
        (index as usize).min(SCORE_BINS - 1)
    }
}

/// A score's AUC, bins and thresholds over its declared range [low, high].
pub fn score_report(mut values: ScoreValues, low: f64, high: f64, cohort_converted: u64) -> ScoreReport {
    sort(&mut values);
    let auc = auc_of_sorted(&values);
    let width = (high - low) / SCORE_BINS as f64;
    let mut bins = [(0u64, 0u64); SCORE_BINS];
    for (list, converted) in [(&values.converted, 1), (&values.not_converted, 0)] {
        for &x in list {
            if let Some(bin) = bins.get_mut(bin_of(x, low, width)) {
                bin.0 += 1;
                bin.1 += converted;
            }
        }
    }
    let mut report_bins = Vec::with_capacity(SCORE_BINS);
    let mut thresholds = Vec::with_capacity(SCORE_BINS);
    for (i, &(contacts, converted)) in bins.iter().enumerate() {
        let from = low + i as f64 * width;
        report_bins.push(ScoreBin {
            from: Real(from),
            to: Real(low + (i + 1) as f64 * width),
            contacts,
            converted,
            rate: ratio(converted as f64, contacts as f64).map(Real),
        });
        // Both lists are sorted: the contacts at or above a cut-off are a suffix.
        let at_or_above = |list: &Vec<f64>| (list.len() - list.partition_point(|&x| x < from)) as u64;
        let above_converted = at_or_above(&values.converted);
        let above = above_converted + at_or_above(&values.not_converted);
        thresholds.push(Threshold {
            at: Real(from),
            contacts: above,
            converted: above_converted,
            precision: ratio(above_converted as f64, above as f64).map(Real),
            recall: ratio(above_converted as f64, cohort_converted as f64).map(Real),
        });
    }
    ScoreReport {
        auc: auc.map(Real),
        bins: report_bins,
        thresholds,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(auc(&[(1.0, true), (0.0, false)]), Some(1.0));
        assert_eq!(auc(&[(0.0, true), (1.0, false)]), Some(0.0));
        assert_eq!(auc(&[(1.0, true), (1.0, false)]), Some(0.5));
        // 2 positives × 2 negatives: (5 > 1, 5 > 3) + (3 = 3: ½, 3 > 1) = 3.5 / 4.
        assert_eq!(
            auc(&[(5.0, true), (3.0, true), (3.0, false), (1.0, false)]),
            Some(0.875)
        );
        assert_eq!(auc(&[(1.0, true)]), None);
        assert_eq!(auc(&[]), None);
    }

    #[test]
    fn wilson_matches_a_worked_example() {
        // 10 of 100: the interval is about [0.0552, 0.1744].
        let (low, high) = wilson(10, 100).unwrap();
        assert!((low - 0.05522914).abs() < 1e-6, "{low}");
        assert!((high - 0.17436566).abs() < 1e-6, "{high}");
        let (low, high) = wilson(0, 5).unwrap();
        assert_eq!(low, 0.0);
        assert!(high > 0.4 && high < 0.5);
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn bins_and_thresholds_cut_the_declared_range() {
        let values = ScoreValues {
            converted: vec![100.0, 55.0, 9.99],
            not_converted: vec![10.0, 0.0],
        };
        let report = score_report(values, 0.0, 100.0, 3);
        let bins: Vec<(u64, u64)> = report.bins.iter().map(|b| (b.contacts, b.converted)).collect();
        assert_eq!(
            bins,
            [
                (2, 1),
                (1, 0),
                (0, 0),
                (0, 0),
                (0, 0),
                (1, 1),
                (0, 0),
                (0, 0),
                (0, 0),
                (1, 1)
            ]
        );
        assert_eq!(report.bins[9].to, Real(100.0));
        let above: Vec<(u64, u64)> = report
            .thresholds
            .iter()
            .map(|t| (t.contacts, t.converted))
            .collect();
        assert_eq!(above[0], (5, 3));
        assert_eq!(above[1], (3, 2));
        assert_eq!(above[6], (1, 1));
        assert_eq!(report.thresholds[1].recall, Some(Real(2.0 / 3.0)));
    }
}
