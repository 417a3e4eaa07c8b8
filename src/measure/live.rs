//! Live measurement (`rubric measure --state DB`, docs/measure.md#12-live-measurement):
//! instead of evaluating a snapshot at a past instant, judge what `apply`
//! actually did. Every applied `band_change` is an *entry* of a contact into
//! a band value at its run's as-of; every `task_create` a task of a route in
//! a queue. A [`LiveTally`] adds them one at a time (the caller streams them
//! from the state file) and looks each contact's outcomes up in the
//! [`OutcomeIndex`]:
//!
//! - an entry *converted* when the contact has an outcome of the goal's types
//!   with T < at ≤ T + horizon; an entry whose horizon has not ended by the
//!   as-of is *open*, counted apart and left out of every rate;
//! - a task was *accepted* when a `sales_accepted` outcome follows it within
//!   the goal's horizon (open likewise);
//! - a task's SLA was *met* when the first `sales_touch` after it comes within
//!   its `sla_hours`, *breached* when it comes later or not at all by a
//!   deadline already past, and is *open* otherwise.
//!
//! [`LiveTally::report`] turns the counts into the JSON report
//! ([`LiveReport`]); `text` and `markdown` render it. Nothing here reads the
//! state file or prints.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxBuildHasher;
use serde::Serialize;

use super::collect::spec_with_property;
use super::metrics::{metrics, ratio, wilson, Counts};
use super::outcomes::{GoalOutcome, OutcomeIndex};
use super::report::Real;
use crate::output::{aligned_table, aligned_table_with_left, markdown_escape, markdown_table};
use crate::plan::{Goal, GoalValue, Plan};
use crate::snapshot::{
    decode_numbered_line, repeated_id, CsvReader, FieldValue, IdSet, InputFormat, Line, LineReader, Rejects,
};

/// The outcome type of a sales acceptance.
pub const ACCEPTED_TYPE: &str = "sales_accepted";
/// The outcome type of a sales touch (for SLAs).
pub const TOUCH_TYPE: &str = "sales_touch";

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;
const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// The outcome types to keep when reading the outcomes file for a live
/// report, and which kept index means what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOutcomeTypes {
    /// The goal's types, then `sales_accepted` and `sales_touch` unless the
    /// goal already has them: the list for `read_outcomes`.
    pub kept: Vec<String>,
    /// Kept indexes below this are the goal's types.
    pub goal_kinds: u16,
    pub accepted_kind: u16,
    pub touch_kind: u16,
}

impl LiveOutcomeTypes {
    pub fn for_goal(goal: &Goal) -> LiveOutcomeTypes {
        let mut kept = goal.outcome_types.clone();
        let mut index_of = |name: &str| -> u16 {
            let position = kept.iter().position(|t| t == name).unwrap_or_else(|| {
                kept.push(name.to_owned());
                kept.len() - 1
            });
            u16::try_from(position).unwrap_or(u16::MAX)
        };
        let accepted_kind = index_of(ACCEPTED_TYPE);
        let touch_kind = index_of(TOUCH_TYPE);
        LiveOutcomeTypes {
            goal_kinds: u16::try_from(goal.outcome_types.len()).unwrap_or(u16::MAX),
            kept,
            accepted_kind,
            touch_kind,
        }
    }
}

/// Whether a window (an entry's horizon, a task's acceptance window) was
/// over by the as-of, and what happened in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowResult {
    /// The window ends after the as-of: the result may still change.
    pub open: bool,
    /// At least one matching outcome in (start, min(end, as-of)].
    pub hit: bool,
    /// The sum of their amounts.
    pub amount: f64,
}

/// The outcomes of `kinds` in (start, start + length], seen from `as_of`
/// (outcomes after it do not count).
pub fn window(
    outcomes: &[GoalOutcome],
    kinds: impl Fn(u16) -> bool,
    start: i64,
    length: i64,
    as_of: i64,
) -> WindowResult {
    let end = start.saturating_add(length);
    let seen_until = end.min(as_of);
    let mut result = WindowResult {
        open: end > as_of,
        hit: false,
        amount: 0.0,
    };
    for o in outcomes {
        if kinds(o.kind) && o.at > start && o.at <= seen_until {
            result.hit = true;
            result.amount += o.amount;
        }
    }
    result
}

/// Where a task stands against its SLA.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlaStatus {
    /// Touched within the SLA, after this many µs.
    Met(i64),
    /// Touched after the SLA, after this many µs.
    Late(i64),
    /// Not touched, and the SLA elapsed by the as-of.
    Untouched,
    /// Not touched yet, and the SLA has not elapsed.
    Open,
}

/// A task created at `created` with an SLA of `sla_micros`, judged at
/// `as_of` by the first touch after its creation (touches after the as-of do
/// not count).
pub fn sla_status(
    outcomes: &[GoalOutcome],
    touch_kind: u16,
    created: i64,
    sla_micros: i64,
    as_of: i64,
) -> SlaStatus {
    let first_touch = outcomes
        .iter()
        .filter(|o| o.kind == touch_kind && o.at > created && o.at <= as_of)
        .map(|o| o.at)
        .min();
    let deadline = created.saturating_add(sla_micros);
    match first_touch {
        Some(at) if at <= deadline => SlaStatus::Met(at - created),
        Some(at) => SlaStatus::Late(at - created),
        None if deadline <= as_of => SlaStatus::Untouched,
        None => SlaStatus::Open,
    }
}

/// The median of `values` (the mean of the two middle ones for an even
/// count); `None` when empty. Sorts `values`.
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return None;
    }
    let middle = values.get(n / 2).copied()?;
    if n % 2 == 1 {
        Some(middle)
    } else {
        values.get(n / 2 - 1).map(|low| (low + middle) / 2.0)
    }
}

/// How a live report is measured.
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings<'a> {
    /// The instant the report is seen from (µs since the epoch).
    pub as_of: i64,
    pub goal: &'a Goal,
}

/// The entries into one band value (of one rule version).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EntryCounts {
    pub entries: u64,
    pub open: u64,
    /// Open entries that already converted (not in any rate).
    pub open_converted: u64,
    /// Converted among the entries whose horizon ended.
    pub converted: u64,
    pub amount: f64,
}

impl EntryCounts {
    fn add(&mut self, result: WindowResult, amount: f64) {
        self.entries += 1;
        if result.open {
            self.open += 1;
            self.open_converted += u64::from(result.hit);
        } else if result.hit {
            self.converted += 1;
            self.amount += amount;
        }
    }

    /// The entries whose horizon ended, as the counts of a group.
    fn measured(&self) -> Counts {
        Counts {
            contacts: self.entries - self.open,
            converted: self.converted,
            amount: self.amount,
        }
    }
}

/// The tasks of one route in one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TaskCounts {
    pub tasks: u64,
    pub open: u64,
    pub open_accepted: u64,
    pub accepted: u64,
}

/// The SLA results of one queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlaCounts {
    pub tasks: u64,
    pub met: u64,
    pub breached: u64,
    pub open: u64,
    /// Hours from creation to the first touch, of every touched task.
    pub hours_to_touch: Vec<f64>,
}

/// One rule version (digest) and the runs that applied it.
#[derive(Debug, Clone, PartialEq)]
struct Version {
    digest: String,
    runs: u64,
    first_as_of: i64,
    last_as_of: i64,
}

/// `--by PROPERTY` in live mode: each contact's text value of the property,
/// read from a snapshot given alongside the state (the value in that
/// snapshot, not at the time of the entry).
#[derive(Debug, Default)]
pub struct LiveGroups {
    pub property: String,
    /// Group names, in order of first appearance.
    names: Vec<String>,
    numbers: HashMap<String, u32>,
    /// Contact id → its group; a contact with no text value is left out.
    of_contact: HashMap<Box<str>, u32, FxBuildHasher>,
}

impl LiveGroups {
    pub fn new(property: &str) -> LiveGroups {
        LiveGroups {
            property: property.to_owned(),
            ..LiveGroups::default()
        }
    }

    /// Notes contact `id`'s value (`None`: missing, null or not text).
    pub fn insert(&mut self, id: &str, value: Option<&str>) {
        let Some(value) = value else {
            return;
        };
        let next = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let number = *self.numbers.entry(value.to_owned()).or_insert(next);
        if number == next {
            self.names.push(value.to_owned());
        }
        self.of_contact.insert(id.into(), number);
    }

    fn group_of(&self, contact: &str) -> Option<u32> {
        self.of_contact.get(contact).copied()
    }

    fn name(&self, group: Option<u32>) -> Option<String> {
        group.and_then(|g| self.names.get(g as usize).cloned())
    }
}

/// The groups read from a snapshot, and whether `--strict` stopped the read.
pub struct ReadGroups {
    pub groups: LiveGroups,
    pub strict_stop: bool,
}

/// Reads `property`'s text value of every contact of a snapshot (`--by` in
/// live mode), with the snapshot's bad-line discipline: a line `run` would
/// reject (the rule set's schema applies) and a repeated id go to
/// `rejects`; the first contact with an id wins. Only an I/O error fails.
pub fn read_groups(
    plan: &Plan,
    property: &str,
    reader: Box<dyn std::io::BufRead + Send>,
    format: InputFormat,
    strict: bool,
    rejects: &mut Rejects,
) -> std::io::Result<ReadGroups> {
    let (spec, slot) = spec_with_property(plan, Some(property));
    let mut read = ReadGroups {
        groups: LiveGroups::new(property),
        strict_stop: false,
    };
    let mut ids = IdSet::default();
    // False when `--strict` stops the read.
    let mut take = |line: Line, read: &mut ReadGroups| -> bool {
        let bad = match line {
            Line::Blank => return true,
            Line::Bad(bad) => bad,
            Line::Contact(number, contact) => {
                if ids.insert(&contact.id) {
                    let value = match slot.and_then(|s| contact.props.get(s)) {
                        Some(FieldValue::Text(text)) => Some(text.as_str()),
                        _ => None,
                    };
                    read.groups.insert(&contact.id, value);
                    return true;
                }
                repeated_id(number, &contact.id)
            }
        };
        rejects.reject(&bad);
        read.strict_stop = strict;
        !strict
    };
    match format {
        InputFormat::JsonLines => {
            let mut lines = LineReader::new(reader);
            while let Some((number, text)) = lines.next_line()? {
                if !take(decode_numbered_line(&spec, number, text), &mut read) {
                    break;
                }
            }
        }
        InputFormat::Csv => {
            let mut csv = CsvReader::new(reader, &spec)?;
            while let Some(record) = csv.next_record()? {
                let line = match record {
                    Ok(contact) => Line::Contact(csv.record_line(), contact),
                    Err(bad) => Line::Bad(bad),
                };
                if !take(line, &mut read) {
                    break;
                }
            }
        }
    }
    Ok(read)
}

/// Adds applied entries and tasks up (see the module documentation).
pub struct LiveTally<'a> {
    settings: LiveSettings<'a>,
    outcomes: &'a OutcomeIndex,
    types: LiveOutcomeTypes,
    /// Rule versions in the order of their first run.
    versions: Vec<Version>,
    runs_after_as_of: u64,
    /// (version, band, value) → counts.
    bands: HashMap<(usize, String, String), EntryCounts>,
    /// (route, queue) → counts.
    routes: HashMap<(String, String), TaskCounts>,
    /// Queue → SLA results.
    sla: HashMap<String, SlaCounts>,
    /// Contacts measured that have outcome lines (for `unmatched`).
    matched: HashSet<Box<str>, FxBuildHasher>,
    /// `--by`: the groups, and (band, value, group) → counts over every
    /// rule version.
    groups: Option<LiveGroups>,
    by: HashMap<(String, String, Option<u32>), EntryCounts>,
}

impl<'a> LiveTally<'a> {
    pub fn new(settings: LiveSettings<'a>, outcomes: &'a OutcomeIndex) -> LiveTally<'a> {
        LiveTally {
            types: LiveOutcomeTypes::for_goal(settings.goal),
            settings,
            outcomes,
            versions: Vec::new(),
            runs_after_as_of: 0,
            bands: HashMap::new(),
            routes: HashMap::new(),
            sla: HashMap::new(),
            matched: HashSet::default(),
            groups: None,
            by: HashMap::new(),
        }
    }

    /// Also counts band entries per group of a property (`--by`).
    pub fn with_groups(mut self, groups: LiveGroups) -> LiveTally<'a> {
        self.groups = Some(groups);
        self
    }

    /// Notes one applied run (runs in order); a run after the as-of is left
    /// out, with all its actions.
    pub fn add_run(&mut self, digest: &str, as_of: i64) {
        if as_of > self.settings.as_of {
            self.runs_after_as_of += 1;
            return;
        }
        let version = self.version(digest);
        if let Some(v) = self.versions.get_mut(version) {
            if v.runs == 0 {
                v.first_as_of = as_of;
            }
            v.runs += 1;
            v.first_as_of = v.first_as_of.min(as_of);
            v.last_as_of = v.last_as_of.max(as_of);
        }
    }

    fn version(&mut self, digest: &str) -> usize {
        if let Some(i) = self.versions.iter().position(|v| v.digest == digest) {
            return i;
        }
        self.versions.push(Version {
            digest: digest.to_owned(),
            runs: 0,
            first_as_of: i64::MAX,
            last_as_of: i64::MIN,
        });
        self.versions.len() - 1
    }

    fn outcomes_of(&mut self, contact: &str) -> &'a [GoalOutcome] {
        let found = self.outcomes.get(contact);
        if found.lines > 0 && !self.matched.contains(contact) {
            self.matched.insert(contact.into());
        }
        found.goal
    }

    /// A contact entered band value `band` = `value` at `at` under rule
    /// version `digest`.
    pub fn add_band_entry(&mut self, digest: &str, contact: &str, band: &str, value: &str, at: i64) {
        if at > self.settings.as_of {
            return;
        }
        let outcomes = self.outcomes_of(contact);
        let goal_kinds = self.types.goal_kinds;
        let result = window(
            outcomes,
            |kind| kind < goal_kinds,
            at,
            self.settings.goal.horizon_micros,
            self.settings.as_of,
        );
        let amount = if self.settings.goal.value == GoalValue::SumOfAmount {
            result.amount
        } else {
            0.0
        };
        let version = self.version(digest);
        self.bands
            .entry((version, band.to_owned(), value.to_owned()))
            .or_default()
            .add(result, amount);
        if let Some(groups) = &self.groups {
            let group = groups.group_of(contact);
            self.by
                .entry((band.to_owned(), value.to_owned(), group))
                .or_default()
                .add(result, amount);
        }
    }

    /// A task of `route` was created for `contact` in `queue` at `at`.
    pub fn add_task(&mut self, contact: &str, route: &str, queue: &str, sla_hours: f64, at: i64) {
        if at > self.settings.as_of {
            return;
        }
        let outcomes = self.outcomes_of(contact);
        let accepted_kind = self.types.accepted_kind;
        let accepted = window(
            outcomes,
            |kind| kind == accepted_kind,
            at,
            self.settings.goal.horizon_micros,
            self.settings.as_of,
        );
        let counts = self
            .routes
            .entry((route.to_owned(), queue.to_owned()))
            .or_default();
        counts.tasks += 1;
        if accepted.open {
            counts.open += 1;
            counts.open_accepted += u64::from(accepted.hit);
        } else {
            counts.accepted += u64::from(accepted.hit);
        }
        // `as` saturates: an absurd SLA is simply never over.
        let sla_micros = (sla_hours * MICROS_PER_HOUR).round() as i64;
        let status = sla_status(
            outcomes,
            self.types.touch_kind,
            at,
            sla_micros,
            self.settings.as_of,
        );
        let sla = self.sla.entry(queue.to_owned()).or_default();
        sla.tasks += 1;
        match status {
            SlaStatus::Met(after) => {
                sla.met += 1;
                sla.hours_to_touch.push(after as f64 / MICROS_PER_HOUR);
            }
            SlaStatus::Late(after) => {
                sla.breached += 1;
                sla.hours_to_touch.push(after as f64 / MICROS_PER_HOUR);
            }
            SlaStatus::Untouched => sla.breached += 1,
            SlaStatus::Open => sla.open += 1,
        }
    }

    /// The report of everything added, `plan` giving the order of bands,
    /// band values and routes.
    pub fn report(self, plan: &Plan, header: LiveHeader) -> LiveReport {
        let versions: Vec<VersionRow> = self
            .versions
            .iter()
            .map(|v| VersionRow {
                digest: v.digest.clone(),
                runs: v.runs,
                first_as_of: (v.runs > 0).then(|| crate::snapshot::format_timestamp(v.first_as_of)),
                last_as_of: (v.runs > 0).then(|| crate::snapshot::format_timestamp(v.last_as_of)),
            })
            .collect();
        let runs = self.versions.iter().map(|v| v.runs).sum();
        let bands = band_rows(plan, &self.versions, &self.bands);
        let routes = route_rows(plan, self.routes);
        let sla = sla_rows(self.sla);
        let by = self.groups.as_ref().map(|groups| LiveByReport {
            property: groups.property.clone(),
            rows: by_rows(plan, groups, &self.by),
        });
        let matched_lines: u64 = self.matched.iter().map(|id| self.outcomes.get(id).lines).sum();
        LiveReport {
            goal: header.goal,
            mode: "live",
            as_of: crate::snapshot::format_timestamp(self.settings.as_of),
            horizon_days: Real(self.settings.goal.horizon_micros as f64 / MICROS_PER_DAY),
            state: header.state,
            runs,
            runs_after_as_of: self.runs_after_as_of,
            versions,
            bands,
            routes,
            sla,
            outcomes: LiveOutcomeCounts {
                read: self.outcomes.read,
                rejected: self.outcomes.rejected,
                unmatched: self.outcomes.valid_lines().saturating_sub(matched_lines),
            },
            by,
        }
    }
}

/// What a live report says besides its counts.
#[derive(Debug, Clone)]
pub struct LiveHeader {
    pub goal: String,
    /// The state file, as given.
    pub state: String,
}

/// The bands of the plan in declaration order (values too), then bands and
/// values seen only in the state (`seen`), by name.
fn band_values<'k>(
    plan: &Plan,
    seen: impl Iterator<Item = (&'k str, &'k str)>,
) -> Vec<(String, Vec<String>)> {
    let mut bands: Vec<(String, Vec<String>)> = plan
        .bands
        .iter()
        .map(|b| (b.name.clone(), b.values.clone()))
        .collect();
    let mut extra: Vec<(&str, &str)> = seen.collect();
    extra.sort_unstable();
    extra.dedup();
    for (band, value) in extra {
        match bands.iter_mut().find(|(name, _)| name == band) {
            Some((_, values)) => {
                if !values.iter().any(|v| v == value) {
                    values.push(value.to_owned());
                }
            }
            None => bands.push((band.to_owned(), vec![value.to_owned()])),
        }
    }
    bands
}

/// The figures of one group of entries against its cohort (all measured
/// entries into the band).
fn figures(c: &EntryCounts, cohort: &Counts) -> EntryFigures {
    let measured = c.measured();
    let cohort_rate = ratio(cohort.converted as f64, cohort.contacts as f64);
    let m = metrics(&measured, cohort_rate, cohort.converted);
    EntryFigures {
        entries: c.entries,
        open: c.open,
        open_converted: c.open_converted,
        measured: measured.contacts,
        converted: c.converted,
        rate: m.rate,
        rate_low: m.rate_low,
        rate_high: m.rate_high,
        lift: m.lift,
        captured: m.captured,
        amount: Real(c.amount),
    }
}

/// The sum of the measured entries of `values`.
fn cohort<'c>(values: &[String], counts: impl Fn(&str) -> Option<&'c EntryCounts>) -> Counts {
    let mut cohort = Counts::default();
    for c in values.iter().filter_map(|v| counts(v)) {
        let m = c.measured();
        cohort.contacts += m.contacts;
        cohort.converted += m.converted;
        cohort.amount += m.amount;
    }
    cohort
}

/// Per band value (see [`band_values`]), one row per rule version that made
/// any band entry; the cohort of a row is its band under its version.
fn band_rows(
    plan: &Plan,
    versions: &[Version],
    counts: &HashMap<(usize, String, String), EntryCounts>,
) -> Vec<LiveBandRow> {
    let bands = band_values(plan, counts.keys().map(|(_, b, v)| (b.as_str(), v.as_str())));
    let with_entries: Vec<usize> = (0..versions.len())
        .filter(|&v| counts.keys().any(|(version, _, _)| *version == v))
        .collect();
    let mut rows = Vec::new();
    for (band, values) in &bands {
        let get = |version: usize, value: &str| counts.get(&(version, band.clone(), value.to_owned()));
        let cohorts: Vec<Counts> = with_entries
            .iter()
            .map(|&version| cohort(values, |value| get(version, value)))
            .collect();
        for value in values {
            for (&version, cohort) in with_entries.iter().zip(&cohorts) {
                let c = get(version, value).copied().unwrap_or_default();
                rows.push(LiveBandRow {
                    band: band.clone(),
                    value: value.clone(),
                    digest: versions
                        .get(version)
                        .map(|v| v.digest.clone())
                        .unwrap_or_default(),
                    figures: figures(&c, cohort),
                });
            }
        }
    }
    rows
}

/// `--by`: per band value, one row per group (by Unicode code points, the
/// contacts without a text value last), over every rule version; the cohort
/// of a row is its band (all groups, all versions).
fn by_rows(
    plan: &Plan,
    groups: &LiveGroups,
    counts: &HashMap<(String, String, Option<u32>), EntryCounts>,
) -> Vec<LiveByRow> {
    let bands = band_values(plan, counts.keys().map(|(b, v, _)| (b.as_str(), v.as_str())));
    let mut order: Vec<Option<u32>> = (0..groups.names.len())
        .map(|g| Some(u32::try_from(g).unwrap_or(u32::MAX)))
        .collect();
    order.sort_by_key(|g| groups.name(*g));
    order.push(None);
    let mut rows = Vec::new();
    for (band, values) in &bands {
        let get = |value: &str, group: Option<u32>| counts.get(&(band.clone(), value.to_owned(), group));
        let mut whole = Counts::default();
        for &group in &order {
            let c = cohort(values, |value| get(value, group));
            whole.contacts += c.contacts;
            whole.converted += c.converted;
            whole.amount += c.amount;
        }
        for value in values {
            for &group in &order {
                let c = get(value, group).copied().unwrap_or_default();
                rows.push(LiveByRow {
                    band: band.clone(),
                    value: value.clone(),
                    group: groups.name(group),
                    figures: figures(&c, &whole),
                });
            }
        }
    }
    rows
}

/// Routes in declaration order (then unknown ones by name), queues by name.
fn route_rows(plan: &Plan, counts: HashMap<(String, String), TaskCounts>) -> Vec<RouteRow> {
    let rank = |route: &str| {
        plan.routes
            .iter()
            .position(|r| r.name == route)
            .unwrap_or(plan.routes.len())
    };
    let mut counts: Vec<((String, String), TaskCounts)> = counts.into_iter().collect();
    counts.sort_by(|((ra, qa), _), ((rb, qb), _)| (rank(ra), ra, qa).cmp(&(rank(rb), rb, qb)));
    counts
        .into_iter()
        .map(|((route, queue), c)| {
            let measured = c.tasks - c.open;
            let interval = wilson(c.accepted, measured);
            RouteRow {
                route,
                queue,
                tasks: c.tasks,
                open: c.open,
                open_accepted: c.open_accepted,
                measured,
                accepted: c.accepted,
                rate: ratio(c.accepted as f64, measured as f64).map(Real),
                rate_low: interval.map(|(low, _)| Real(low)),
                rate_high: interval.map(|(_, high)| Real(high)),
            }
        })
        .collect()
}

/// Queues by name.
fn sla_rows(counts: HashMap<String, SlaCounts>) -> Vec<SlaRow> {
    let mut counts: Vec<(String, SlaCounts)> = counts.into_iter().collect();
    counts.sort_by(|a, b| a.0.cmp(&b.0));
    counts
        .into_iter()
        .map(|(queue, mut c)| {
            let decided = c.met + c.breached;
            let interval = wilson(c.met, decided);
            SlaRow {
                queue,
                tasks: c.tasks,
                met: c.met,
                breached: c.breached,
                open: c.open,
                touched: c.hours_to_touch.len() as u64,
                compliance: ratio(c.met as f64, decided as f64).map(Real),
                compliance_low: interval.map(|(low, _)| Real(low)),
                compliance_high: interval.map(|(_, high)| Real(high)),
                median_hours_to_touch: median(&mut c.hours_to_touch).map(Real),
            }
        })
        .collect()
}

/// `rubric measure --state DB --format json` (docs/measure.md#12-live-measurement).
#[derive(Debug, Clone, Serialize)]
pub struct LiveReport {
    pub goal: String,
    /// Always `"live"` (a backtest report has no `mode`).
    pub mode: &'static str,
    pub as_of: String,
    pub horizon_days: Real,
    /// The `--state` path, as given.
    pub state: String,
    /// Applied runs measured (as-of at or before the report's as-of).
    pub runs: u64,
    /// Applied runs left out because their as-of is after the report's.
    pub runs_after_as_of: u64,
    /// Rule versions, in the order of their first run.
    pub versions: Vec<VersionRow>,
    pub bands: Vec<LiveBandRow>,
    pub routes: Vec<RouteRow>,
    pub sla: Vec<SlaRow>,
    pub outcomes: LiveOutcomeCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<LiveByReport>,
}

/// One rule version: its digest and the runs that applied it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRow {
    pub digest: String,
    pub runs: u64,
    pub first_as_of: Option<String>,
    pub last_as_of: Option<String>,
}

/// Entries into one band value under one rule version.
#[derive(Debug, Clone, Serialize)]
pub struct LiveBandRow {
    pub band: String,
    pub value: String,
    pub digest: String,
    #[serde(flatten)]
    pub figures: EntryFigures,
}

/// `--by PROPERTY`: the property and one row per band value and group.
#[derive(Debug, Clone, Serialize)]
pub struct LiveByReport {
    pub property: String,
    pub rows: Vec<LiveByRow>,
}

/// Entries into one band value by contacts of one group, over every rule
/// version.
#[derive(Debug, Clone, Serialize)]
pub struct LiveByRow {
    pub band: String,
    pub value: String,
    /// The property's text value in the snapshot; `None` (JSON null) for
    /// missing, null or non-text values and contacts not in the snapshot.
    pub group: Option<String>,
    #[serde(flatten)]
    pub figures: EntryFigures,
}

/// The figures of a group of band entries.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EntryFigures {
    pub entries: u64,
    /// Entries whose horizon ends after the as-of (in no rate).
    pub open: u64,
    /// Open entries that converted already.
    pub open_converted: u64,
    /// entries − open.
    pub measured: u64,
    /// Converted among the measured entries.
    pub converted: u64,
    pub rate: Option<Real>,
    pub rate_low: Option<Real>,
    pub rate_high: Option<Real>,
    /// rate / the rate of all measured entries into the band (same version).
    pub lift: Option<Real>,
    /// converted / the converted entries into the band (same version).
    pub captured: Option<Real>,
    pub amount: Real,
}

/// The tasks of one route in one queue, and how many sales accepted.
#[derive(Debug, Clone, Serialize)]
pub struct RouteRow {
    pub route: String,
    pub queue: String,
    pub tasks: u64,
    pub open: u64,
    pub open_accepted: u64,
    pub measured: u64,
    pub accepted: u64,
    pub rate: Option<Real>,
    pub rate_low: Option<Real>,
    pub rate_high: Option<Real>,
}

/// The SLA results of one queue.
#[derive(Debug, Clone, Serialize)]
pub struct SlaRow {
    pub queue: String,
    pub tasks: u64,
    pub met: u64,
    pub breached: u64,
    pub open: u64,
    /// Tasks with a first touch by the as-of (met, or breached late).
    pub touched: u64,
    /// met / (met + breached).
    pub compliance: Option<Real>,
    pub compliance_low: Option<Real>,
    pub compliance_high: Option<Real>,
    pub median_hours_to_touch: Option<Real>,
}

/// What became of the outcomes file's lines.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LiveOutcomeCounts {
    pub read: u64,
    pub rejected: u64,
    /// Valid lines whose id made no measured entry or task.
    pub unmatched: u64,
}

/// `12.3 %`, or `–`.
fn percent(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.1} %", x.0 * 100.0))
}

fn interval(low: Option<Real>, high: Option<Real>) -> String {
    match (low, high) {
        (Some(low), Some(high)) => format!("[{:.1} %, {:.1} %]", low.0 * 100.0, high.0 * 100.0),
        _ => String::from("–"),
    }
}

fn lift(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), |x| format!("{:.2}×", x.0))
}

/// A whole number as is, otherwise two decimals; `–` for none.
fn number(x: Option<Real>) -> String {
    x.map_or_else(|| String::from("–"), super::render_number)
}

fn strings<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn has_amounts(r: &LiveReport) -> bool {
    r.bands.iter().any(|b| b.figures.amount.0 != 0.0)
}

fn headline(r: &LiveReport) -> Vec<String> {
    let versions = r
        .versions
        .iter()
        .filter(|v| v.runs > 0)
        .map(|v| {
            format!(
                "{} ({} run{}, as of {}{})",
                v.digest,
                v.runs,
                if v.runs == 1 { "" } else { "s" },
                v.first_as_of.as_deref().unwrap_or("–"),
                match (&v.first_as_of, &v.last_as_of) {
                    (Some(first), Some(last)) if first != last => format!(" to {last}"),
                    _ => String::new(),
                }
            )
        })
        .collect::<Vec<_>>();
    let mut lines = vec![format!(
        "goal {} (horizon {} days), live from {} applied run{} as of {}",
        r.goal,
        number(Some(r.horizon_days)),
        r.runs,
        if r.runs == 1 { "" } else { "s" },
        r.as_of
    )];
    if r.runs_after_as_of > 0 {
        lines.push(format!(
            "{} later run{} left out (as-of after {})",
            r.runs_after_as_of,
            if r.runs_after_as_of == 1 { "" } else { "s" },
            r.as_of
        ));
    }
    if !versions.is_empty() {
        lines.push(format!("rules: {}", versions.join(", ")));
    }
    lines.push(format!(
        "outcomes: {} read, {} rejected, {} unmatched",
        r.outcomes.read, r.outcomes.rejected, r.outcomes.unmatched
    ));
    lines
}

fn figures_header(first: &[&str], amounts: bool) -> Vec<String> {
    let mut header: Vec<String> = first.iter().map(|c| (*c).to_owned()).collect();
    header.extend(strings([
        "entries",
        "open",
        "measured",
        "converted",
        "rate",
        "95 % interval",
        "lift",
        "captured",
    ]));
    if amounts {
        header.push(String::from("amount"));
    }
    header
}

fn figures_cells(mut cells: Vec<String>, f: &EntryFigures, amounts: bool) -> Vec<String> {
    cells.extend([
        f.entries.to_string(),
        f.open.to_string(),
        f.measured.to_string(),
        f.converted.to_string(),
        percent(f.rate),
        interval(f.rate_low, f.rate_high),
        lift(f.lift),
        percent(f.captured),
    ]);
    if amounts {
        cells.push(number(Some(f.amount)));
    }
    cells
}

fn band_cells(b: &LiveBandRow, amounts: bool) -> Vec<String> {
    figures_cells(vec![b.value.clone(), b.digest.clone()], &b.figures, amounts)
}

fn by_cells(b: &LiveByRow, amounts: bool) -> Vec<String> {
    let group = b.group.clone().unwrap_or_else(|| String::from("(none)"));
    figures_cells(vec![b.band.clone(), b.value.clone(), group], &b.figures, amounts)
}

/// The bands' rows grouped by band, in report order.
fn bands_grouped(r: &LiveReport) -> Vec<(&str, Vec<&LiveBandRow>)> {
    let mut groups: Vec<(&str, Vec<&LiveBandRow>)> = Vec::new();
    for row in &r.bands {
        match groups.last_mut() {
            Some((band, rows)) if *band == row.band => rows.push(row),
            _ => groups.push((row.band.as_str(), vec![row])),
        }
    }
    groups
}

const ROUTE_HEADER: [&str; 8] = [
    "route",
    "queue",
    "tasks",
    "open",
    "measured",
    "accepted",
    "rate",
    "95 % interval",
];

fn route_cells(row: &RouteRow) -> Vec<String> {
    vec![
        row.route.clone(),
        row.queue.clone(),
        row.tasks.to_string(),
        row.open.to_string(),
        row.measured.to_string(),
        row.accepted.to_string(),
        percent(row.rate),
        interval(row.rate_low, row.rate_high),
    ]
}

const SLA_HEADER: [&str; 8] = [
    "queue",
    "tasks",
    "met",
    "breached",
    "open",
    "compliance",
    "95 % interval",
    "median hours to touch",
];

fn sla_cells(row: &SlaRow) -> Vec<String> {
    vec![
        row.queue.clone(),
        row.tasks.to_string(),
        row.met.to_string(),
        row.breached.to_string(),
        row.open.to_string(),
        percent(row.compliance),
        interval(row.compliance_low, row.compliance_high),
        number(row.median_hours_to_touch),
    ]
}

/// The live report as aligned text tables.
pub fn text(r: &LiveReport) -> String {
    let amounts = has_amounts(r);
    let mut out = headline(r).join("\n") + "\n";
    for (band, rows) in bands_grouped(r) {
        out.push_str(&format!("\nband {band}: entries, converted within the horizon\n"));
        let mut table = vec![figures_header(&["value", "rules"], amounts)];
        table.extend(rows.iter().map(|b| band_cells(b, amounts)));
        out.push_str(&aligned_table_with_left(&table, "  ", 2));
    }
    if let Some(by) = &r.by {
        out.push_str(&format!("\nby {} (every rule version)\n", by.property));
        let mut table = vec![figures_header(&["band", "value", by.property.as_str()], amounts)];
        table.extend(by.rows.iter().map(|b| by_cells(b, amounts)));
        out.push_str(&aligned_table_with_left(&table, "  ", 3));
    }
    out.push_str(&format!("\nacceptance ({ACCEPTED_TYPE} within the horizon)\n"));
    if r.routes.is_empty() {
        out.push_str("  no task created\n");
    } else {
        let mut table = vec![strings(ROUTE_HEADER)];
        table.extend(r.routes.iter().map(route_cells));
        out.push_str(&aligned_table_with_left(&table, "  ", 2));
    }
    out.push_str(&format!("\nSLA (first {TOUCH_TYPE} after the task)\n"));
    if r.sla.is_empty() {
        out.push_str("  no task created\n");
    } else {
        let mut table = vec![strings(SLA_HEADER)];
        table.extend(r.sla.iter().map(sla_cells));
        out.push_str(&aligned_table(&table, "  "));
    }
    out
}

/// The live report as Markdown (a pull-request or wiki comment).
pub fn markdown(r: &LiveReport) -> String {
    let amounts = has_amounts(r);
    let escape = |row: Vec<String>| row.iter().map(|c| markdown_escape(c)).collect::<Vec<_>>();
    let right = |left: usize, columns: usize| (0..columns).map(|i| i >= left).collect::<Vec<_>>();
    let mut out = format!(
        "### rubric measure (live): goal `{}`\n\n{}\n",
        markdown_escape(&r.goal),
        headline(r).join("  \n")
    );
    for (band, rows) in bands_grouped(r) {
        out.push_str(&format!("\n**band `{}`**\n\n", markdown_escape(band)));
        let header = figures_header(&["value", "rules"], amounts);
        let rows: Vec<Vec<String>> = rows.iter().map(|b| escape(band_cells(b, amounts))).collect();
        out.push_str(&markdown_table(&header, &right(2, header.len()), &rows));
    }
    if let Some(by) = &r.by {
        out.push_str(&format!(
            "\n**by `{}`** (every rule version)\n\n",
            markdown_escape(&by.property)
        ));
        let header = figures_header(&["band", "value", by.property.as_str()], amounts);
        let rows: Vec<Vec<String>> = by.rows.iter().map(|b| escape(by_cells(b, amounts))).collect();
        out.push_str(&markdown_table(&header, &right(3, header.len()), &rows));
    }
    out.push_str(&format!(
        "\n**acceptance** (`{ACCEPTED_TYPE}` within the horizon)\n\n"
    ));
    let rows: Vec<Vec<String>> = r.routes.iter().map(|row| escape(route_cells(row))).collect();
    out.push_str(&markdown_table(
        &strings(ROUTE_HEADER),
        &right(2, ROUTE_HEADER.len()),
        &rows,
    ));
    out.push_str(&format!("\n**SLA** (first `{TOUCH_TYPE}` after the task)\n\n"));
    let rows: Vec<Vec<String>> = r.sla.iter().map(|row| escape(sla_cells(row))).collect();
    out.push_str(&markdown_table(
        &strings(SLA_HEADER),
        &right(1, SLA_HEADER.len()),
        &rows,
    ));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;
    const DAY: i64 = 24 * HOUR;

    fn outcome(kind: u16, at: i64, amount: f64) -> GoalOutcome {
        GoalOutcome { kind, at, amount }
    }

    #[test]
    fn an_entry_converts_inside_its_horizon_only_and_is_open_until_it_ends() {
        let outcomes = [
            outcome(0, 10 * DAY, 0.0),            // at entry: not after it
            outcome(0, 12 * DAY, 5.0),            // inside
            outcome(1, 13 * DAY, 7.0),            // another type
            outcome(0, 10 * DAY + 30 * DAY, 2.0), // the horizon's last instant
            outcome(0, 41 * DAY, 9.0),            // after the horizon
        ];
        let goal = |k: u16| k == 0;
        let closed = window(&outcomes, goal, 10 * DAY, 30 * DAY, 100 * DAY);
        assert_eq!(
            closed,
            WindowResult {
                open: false,
                hit: true,
                amount: 7.0
            }
        );
        // Seen from day 20: open, and only what happened by then counts.
        let open = window(&outcomes, goal, 10 * DAY, 30 * DAY, 20 * DAY);
        assert_eq!(
            open,
            WindowResult {
                open: true,
                hit: true,
                amount: 5.0
            }
        );
        // The horizon ending exactly at the as-of is over.
        assert!(!window(&outcomes, goal, 10 * DAY, 30 * DAY, 40 * DAY).open);
        assert!(!window(&[], goal, 0, DAY, DAY).hit);
    }

    #[test]
    fn sla_is_met_breached_late_untouched_or_open() {
        let touch = 2u16;
        let created = 100 * HOUR;
        let sla = 24 * HOUR;
        let at = |h: i64| outcome(touch, created + h * HOUR, 0.0);
        // The first touch after creation decides; earlier touches and other types do not.
        let touches = [at(30), at(-1), outcome(0, created + HOUR, 0.0), at(10)];
        assert_eq!(
            sla_status(&touches, touch, created, sla, created + 1000 * HOUR),
            SlaStatus::Met(10 * HOUR)
        );
        assert_eq!(
            sla_status(&[at(24)], touch, created, sla, created + 1000 * HOUR),
            SlaStatus::Met(24 * HOUR)
        );
        assert_eq!(
            sla_status(&[at(25)], touch, created, sla, created + 1000 * HOUR),
            SlaStatus::Late(25 * HOUR)
        );
        assert_eq!(
            sla_status(&[], touch, created, sla, created + 24 * HOUR),
            SlaStatus::Untouched
        );
        assert_eq!(
            sla_status(&[], touch, created, sla, created + 23 * HOUR),
            SlaStatus::Open
        );
        // A touch after the as-of is not seen yet.
        assert_eq!(
            sla_status(&[at(10)], touch, created, sla, created + 5 * HOUR),
            SlaStatus::Open
        );
    }

    /// The playbook's plan (`rules/`: readiness hot/warm/cold, fit_tier
    /// A/B/C, goal `pipeline` with a 90-day horizon and a value).
    fn playbook() -> Plan {
        let sources = crate::source::Sources::load(std::path::Path::new("rules")).unwrap();
        crate::compile::compile(&sources)
            .map_err(|_| "compiles")
            .unwrap()
            .plan
    }

    fn index(text: &str, goal: &Goal) -> OutcomeIndex {
        let mut rejects = Rejects::new(Box::new(std::io::sink()), "");
        let types = LiveOutcomeTypes::for_goal(goal);
        let reader = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        super::super::outcomes::read_outcomes(
            reader,
            InputFormat::JsonLines,
            &types.kept,
            false,
            &mut rejects,
        )
        .unwrap()
    }

    #[test]
    fn rows_per_value_and_version_with_undeclared_values_last_and_amounts_within_each_horizon() {
        let plan = playbook();
        let goal = plan.goals.iter().find(|g| g.name == "pipeline").unwrap();
        let t = crate::snapshot::parse_timestamp("2026-11-01T00:00:00Z").unwrap();
        let outcomes = index(
            r#"{"id":"c1","type":"opportunity_created","at":"2026-11-02T00:00:00Z","amount":5}
{"id":"c1","type":"opportunity_created","at":"2026-11-13T00:00:00Z","amount":7}
{"id":"c3","type":"opportunity_created","at":"2027-03-01T00:00:00Z","amount":9}
{"id":"zz","type":"opportunity_created","at":"2026-11-02T00:00:00Z"}
"#,
            goal,
        );
        let settings = LiveSettings {
            as_of: t + 200 * DAY,
            goal,
        };
        let mut tally = LiveTally::new(settings, &outcomes);
        tally.add_run("v1", t);
        tally.add_run("v2", t + 10 * DAY);
        tally.add_band_entry("v1", "c1", "readiness", "hot", t);
        tally.add_band_entry("v1", "c2", "readiness", "cold", t);
        tally.add_band_entry("v1", "c3", "readiness", "lukewarm", t);
        tally.add_band_entry("v1", "c9", "gone", "x", t);
        tally.add_band_entry("v2", "c1", "readiness", "hot", t + 10 * DAY);
        let report = tally.report(
            &plan,
            LiveHeader {
                goal: goal.name.clone(),
                state: String::from("s.db"),
            },
        );
        let rows: Vec<String> = report
            .bands
            .iter()
            .map(|r| {
                let f = &r.figures;
                format!(
                    "{} {} {}: {} {} {:?} {:?}",
                    r.band,
                    r.value,
                    r.digest,
                    f.measured,
                    f.converted,
                    f.amount.0,
                    f.lift.map(|l| l.0)
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                // c1 in v1: both opportunities within 90 days; in v2 (entered
                // on day 10) only the second. c3's comes after its horizon.
                "readiness hot v1: 1 1 12.0 Some(3.0)",
                "readiness hot v2: 1 1 7.0 Some(1.0)",
                "readiness warm v1: 0 0 0.0 None",
                "readiness warm v2: 0 0 0.0 None",
                "readiness cold v1: 1 0 0.0 Some(0.0)",
                "readiness cold v2: 0 0 0.0 None",
                "readiness lukewarm v1: 1 0 0.0 Some(0.0)",
                "readiness lukewarm v2: 0 0 0.0 None",
                "fit_tier A v1: 0 0 0.0 None",
                "fit_tier A v2: 0 0 0.0 None",
                "fit_tier B v1: 0 0 0.0 None",
                "fit_tier B v2: 0 0 0.0 None",
                "fit_tier C v1: 0 0 0.0 None",
                "fit_tier C v2: 0 0 0.0 None",
                // No conversion into `gone`: its cohort rate is 0, no lift.
                "gone x v1: 1 0 0.0 None",
                "gone x v2: 0 0 0.0 None",
            ]
        );
        // zz made no entry; c1 and c3 did (c2 and c9 have no outcome line).
        assert_eq!(report.outcomes.unmatched, 1);
        assert_eq!((report.runs, report.versions.len()), (2, 2));
    }

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0]), Some(3.0));
        assert_eq!(median(&mut [9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&mut [4.0, 1.0, 10.0, 2.0]), Some(3.0));
    }

    #[test]
    fn the_kept_types_add_acceptance_and_touch_once() {
        let goal = |types: &[&str]| Goal {
            name: "g".into(),
            outcome_types: types.iter().map(|t| (*t).to_owned()).collect(),
            horizon_micros: DAY,
            value: GoalValue::None,
            span: crate::source::Span::default(),
        };
        let t = LiveOutcomeTypes::for_goal(&goal(&["meeting_held"]));
        assert_eq!(t.kept, ["meeting_held", "sales_accepted", "sales_touch"]);
        assert_eq!((t.goal_kinds, t.accepted_kind, t.touch_kind), (1, 1, 2));
        let t = LiveOutcomeTypes::for_goal(&goal(&["sales_accepted"]));
        assert_eq!(t.kept, ["sales_accepted", "sales_touch"]);
        assert_eq!((t.goal_kinds, t.accepted_kind, t.touch_kind), (1, 0, 1));
    }
}
