//! The measure report (docs/measure.md#json-report): what `--format json`
//! prints, field for field, and what the text, Markdown and HTML renderings
//! show. Numbers are unrounded; a ratio whose denominator is 0 is `null`.

use serde::Serialize;

/// A number written unrounded, `30` rather than `30.0` when it is whole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Real(pub f64);

impl Serialize for Real {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.fract() == 0.0 && x.abs() < 9e15 {
            s.serialize_i64(x as i64)
        } else {
            s.serialize_f64(x)
        }
    }
}

/// `rubric measure --format json`: one goal at one as-of instant.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureReport {
    pub goal: String,
    /// RFC 3339, as results print it.
    pub as_of: String,
    pub horizon_days: Real,
    /// The cohort: every accepted contact of the snapshot.
    pub contacts: u64,
    pub converted: u64,
    pub rate: Option<Real>,
    pub amount: Real,
    pub outcomes: OutcomeCounts,
    /// Band name → one row per value, in declaration order (declaration order of
    /// the bands too: the map keeps insertion order).
    pub bands: Map<Vec<GroupRow>>,
    /// Score name → its AUC, bins and thresholds, in declaration order.
    pub scores: Map<ScoreReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<ByReport>,
}

/// An ordered map written as a JSON object (keys in insertion order).
#[derive(Debug, Clone)]
pub struct Map<T>(pub Vec<(String, T)>);

impl<T> Default for Map<T> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

impl<T: Serialize> Serialize for Map<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// What became of the outcomes file's lines.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OutcomeCounts {
    /// Non-blank lines, rejected ones included.
    pub read: u64,
    pub rejected: u64,
    /// Valid lines whose id is not an accepted contact (any type, any time).
    pub unmatched: u64,
    /// Outcomes of the goal's types inside the horizon, over the cohort.
    pub counted: u64,
}

/// The metrics of one group of contacts (a band value, or a band value
/// within a `--by` group).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    pub contacts: u64,
    pub converted: u64,
    pub rate: Option<Real>,
    pub rate_low: Option<Real>,
    pub rate_high: Option<Real>,
    pub lift: Option<Real>,
    pub captured: Option<Real>,
    pub amount: Real,
}

/// One band value's row.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub value: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// How one score ranks converters above the rest.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreReport {
    /// P(a converted contact scores higher than one that did not), ties ½.
    pub auc: Option<Real>,
    pub bins: Vec<ScoreBin>,
    pub thresholds: Vec<Threshold>,
}

/// One of the ten equal-width bins of a score's declared range.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ScoreBin {
    pub from: Real,
    pub to: Real,
    pub contacts: u64,
    pub converted: u64,
    pub rate: Option<Real>,
}

/// The contacts at or above a cut-off (a bin's `from`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Threshold {
    pub at: Real,
    pub contacts: u64,
    pub converted: u64,
    pub precision: Option<Real>,
    pub recall: Option<Real>,
}

/// `--by PROPERTY`: every band value × every group of the property.
#[derive(Debug, Clone, Serialize)]
pub struct ByReport {
    pub property: String,
    pub rows: Vec<ByRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ByRow {
    pub band: String,
    pub value: String,
    /// The property's text value; `None` (JSON null) for missing, null or
    /// non-text values.
    pub group: Option<String>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// Several as-of instants in one call (`--as-of` repeated, `--from/--to/--every`,
/// or dated snapshots): one report each, then how stable the figures are.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesReport {
    pub goal: String,
    pub horizon_days: Real,
    /// One report per as-of, in time order.
    pub reports: Vec<MeasureReport>,
    /// One row per as-of, in the same order.
    pub stability: Vec<StabilityRow>,
}

/// The headline figures of one as-of in a series.
#[derive(Debug, Clone, Serialize)]
pub struct StabilityRow {
    pub as_of: String,
    /// The snapshot the as-of was measured on, as given.
    pub contacts_file: String,
    pub contacts: u64,
    pub converted: u64,
    pub rate: Option<Real>,
    /// Score name → its AUC.
    pub auc: Map<Option<Real>>,
    /// Band name → the lift of its first (top) value.
    pub top_lift: Map<Option<Real>>,
}

impl StabilityRow {
    /// The row of one report.
    pub fn of(report: &MeasureReport, contacts_file: &str) -> StabilityRow {
        StabilityRow {
            as_of: report.as_of.clone(),
            contacts_file: contacts_file.to_owned(),
            contacts: report.contacts,
            converted: report.converted,
            rate: report.rate,
            auc: Map(report
                .scores
                .0
                .iter()
                .map(|(name, s)| (name.clone(), s.auc))
                .collect()),
            top_lift: Map(report
                .bands
                .0
                .iter()
                .map(|(name, rows)| (name.clone(), rows.first().and_then(|r| r.metrics.lift)))
                .collect()),
        }
    }
}

/// `--base`: the rules before and after a change, measured on the same
/// snapshot and outcomes.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonReport {
    pub goal: String,
    pub as_of: String,
    /// `--base` as given (a path or a git revision), and `--rules`.
    pub base_rules: String,
    pub rules: String,
    pub base: MeasureReport,
    pub new: MeasureReport,
}
