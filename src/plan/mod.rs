//! The compiled plan: everything resolved to dense ids and slots, regexes
//! compiled, windows and thresholds pre-computed.
//!
//! Architecture Invariant: evaluation never looks up a name; names are kept
//! only for output and traces. A regex is compiled at most once per plan
//! (`PlanRegex::get`), and every command builds them all before evaluating
//! (`compile::build_regexes`), so `run` never compiles one per contact.

use std::sync::OnceLock;

use regex::Regex;

mod routing;

pub use routing::{fnv1a_64, round_robin_index, Pick, Picked, RoutePicks, RoutedTask, Routing, Table};

use crate::ops::{AggregateKind, ArithOp, CompareOp, TextOp};
use crate::snapshot::DecodeSpec;
use crate::source::Span;

/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(ScoreId);
id_type!(BandId);
id_type!(SegmentId);
id_type!(AggregateId);

mod channels;
pub use channels::{Channel, Reach, SuppressionSet};

/// A compiled rule set.
#[derive(Debug)]
pub struct Plan {
    /// What the snapshot reader decodes for each contact.
    pub decode: DecodeSpec,
    /// Property slot names, for traces (index = slot).
    pub property_names: Vec<String>,
    /// Event type slot names (index = slot).
    pub event_names: Vec<String>,
    /// Event prop names per event type slot.
    pub event_prop_names: Vec<Vec<String>>,
    pub scores: Vec<Score>,
    pub bands: Vec<Band>,
    pub segments: Vec<Segment>,
    pub aggregates: Vec<EventAggregate>,
    pub suppressions: Vec<Suppression>,
    pub audiences: Vec<Target>,
    pub workflows: Vec<Target>,
    pub routes: Vec<Route>,
    /// Channel names by [`Channel`] index: `ads`, `email`, `sales`, then the
    /// declared ones (`channel sms`) in declaration order.
    pub channels: Vec<String>,
    /// What the scores are meant to predict (`rubric measure`); evaluation
    /// never reads them.
    pub goals: Vec<Goal>,
    /// Scores, bands and segments in an order where each comes after
    /// everything it reads. INVARIANT: a topological order (no cycles).
    pub order: Vec<Step>,
    /// Number of regular expressions; each [`PlanRegex::index`] is below it.
    pub regex_count: usize,
    /// Lookup tables and the literal names routes pick from.
    pub routing: Routing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Score(ScoreId),
    Band(BandId),
    Segment(SegmentId),
}

#[derive(Debug)]
pub struct Score {
    pub name: String,
    pub low: f64,
    pub high: f64,
    pub rules: Vec<ScoreRule>,
    /// A computed score's value (`= 0.6 * fit + 0.4 * intent`; no rules): a
    /// missing value counts as 0, then the range clamps it.
    pub value: Option<Operand>,
    pub span: Span,
}

#[derive(Debug)]
pub struct ScoreRule {
    pub label: String,
    pub kind: ScoreRuleKind,
    pub span: Span,
}

#[derive(Debug)]
pub enum ScoreRuleKind {
    /// Fixed points when the condition holds, or computed ones.
    When {
        condition: Cond,
        points: f64,
        /// `=> + webinar_minutes * 0.5 max 20`: `points` is then 0.
        computed: Option<ComputedPoints>,
    },
    /// The first row whose condition holds gives its points.
    First { rows: Vec<FirstRow> },
    /// Points for each matching event, optionally decayed, the total bounded.
    Each(EachRule),
}

#[derive(Debug)]
pub struct FirstRow {
    pub label: Option<String>,
    pub condition: Cond,
    pub points: f64,
    /// Points computed from values; `points` is then 0.
    pub computed: Option<ComputedPoints>,
    pub span: Span,
}

/// Points computed from values when a `when` rule's condition holds: the
/// value (negated when written `=> - …`), then bounded by `max` and `min`.
/// A missing value gives no points.
#[derive(Debug)]
pub struct ComputedPoints {
    pub value: Operand,
    pub negated: bool,
    pub max: Option<f64>,
    pub min: Option<f64>,
    /// The points as written, where a value of the wrong type is reported.
    pub span: Span,
}

#[derive(Debug)]
pub struct EachRule {
    /// Event type slot.
    pub event: usize,
    pub filter: Option<Cond>,
    /// The ages an event may have to count (always also age ≥ 0).
    pub window: Option<Window>,
    pub points: f64,
    /// `=> + minutes * 0.5`: points computed per event from its props
    /// (`points` is then 0; the value's own `max`/`min` are unused, the
    /// rule's bound the total).
    pub computed: Option<ComputedPoints>,
    pub half_life_days: Option<f64>,
    pub max: Option<f64>,
    pub min: Option<f64>,
}

#[derive(Debug)]
pub struct Band {
    pub name: String,
    /// Values in declaration order; a band's result is an index into this.
    pub values: Vec<String>,
    /// Branches in order; the last one has no condition (`otherwise`).
    pub branches: Vec<BandBranch>,
    pub span: Span,
}

#[derive(Debug)]
pub struct BandBranch {
    pub value: u16,
    /// `None` for `otherwise`.
    pub condition: Option<Cond>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Segment {
    pub name: String,
    pub condition: Cond,
    pub span: Span,
}

/// A compiled aggregate over a contact's events (`count of page_view where …`,
/// `any …`, `last …`), behind an [`AggregateId`]: the event type and the window
/// resolved, the `where` test compiled.
#[derive(Debug)]
pub struct EventAggregate {
    pub kind: AggregateKind,
    pub event: usize,
    pub filter: Option<Cond>,
    pub window: Option<Window>,
    /// The event prop slot read by `sum`/`min`/`max`/`avg`/`distinct count`
    /// and `P of first`/`P of last`; `None` for the others.
    pub prop: Option<usize>,
    pub span: Span,
}

/// A range of ages in microseconds (as-of minus a time), both ends
/// included: `within 30 days` is 0..=30 days, `between 8 and 30 days ago`
/// is 8..=30 days, `within next 3 days` is −3 days..=0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub min_age: i64,
    pub max_age: i64,
}

impl Window {
    /// `within N`: ages 0 to `window`.
    pub fn within(window: i64) -> Window {
        Window {
            min_age: 0,
            max_age: window,
        }
    }

    /// Whether an age is in the window.
    pub fn contains(self, age: i64) -> bool {
        age >= self.min_age && age <= self.max_age
    }

    /// Whether this is a `within next` window (times at or after as-of).
    pub fn is_future(self) -> bool {
        self.max_age == 0 && self.min_age < 0
    }
}

#[derive(Debug)]
pub struct Suppression {
    pub name: String,
    /// Bit set of [`Channel::bit`].
    pub channels: u64,
    pub condition: Cond,
    pub span: Span,
}

/// An audience (channel ads unless it names another) or a workflow
/// (channel email unless it names another).
#[derive(Debug)]
pub struct Target {
    pub name: String,
    pub reach: Reach,
    pub condition: Cond,
    pub span: Span,
}

#[derive(Debug)]
pub struct Route {
    pub name: String,
    /// Channel sales unless the route names another.
    pub reach: Reach,
    pub condition: Cond,
    pub task: String,
    pub sla_hours: f64,
    pub queue: Vec<QueueBranch>,
    /// `assign to …`: `None` when the route declares no assignee (its
    /// results and tasks then have no `assignee` key).
    pub assignee: Option<Pick>,
    pub span: Span,
}

/// A goal: a contact *converted* when it has an outcome of one of
/// `outcome_types` in (as-of, as-of + horizon] (docs/measure.md).
#[derive(Debug)]
pub struct Goal {
    pub name: String,
    /// Outcome types, in declaration order (at least one).
    pub outcome_types: Vec<String>,
    /// The horizon in microseconds (above zero).
    pub horizon_micros: i64,
    pub value: GoalValue,
    pub span: Span,
}

/// What a goal adds up for the contacts that converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalValue {
    /// No value: the report's amounts are 0.
    None,
    /// `value sum of amount`: the sum of the counted outcomes' `amount`s.
    SumOfAmount,
}

/// One queue choice; the last has no condition.
#[derive(Debug)]
pub struct QueueBranch {
    /// The queue as written (`na_sales`, `from owner_queue`, `territory`,
    /// `round robin [a, b]`): the branch's label in coverage and `diff`.
    pub queue: String,
    /// Where the queue comes from.
    pub pick: Pick,
    /// The branch's own `sla` (rounded hours), else the route's.
    pub sla_hours: Option<f64>,
    pub condition: Option<Cond>,
    pub span: Span,
}

/// A compiled condition.
#[derive(Debug)]
pub enum Cond {
    Const(bool),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Compare {
        op: CompareOp,
        left: Operand,
        right: Operand,
        ignore_case: bool,
        /// Both sides are compared as timestamps (a side declared `timestamp`
        /// arrives as text and is parsed).
        time: bool,
        span: Span,
    },
    In {
        left: Operand,
        set: Vec<ConstValue>,
        negated: bool,
        ignore_case: bool,
        span: Span,
    },
    Matches {
        left: Operand,
        regex: PlanRegex,
        span: Span,
    },
    Text {
        op: TextOp,
        left: Operand,
        right: Operand,
        ignore_case: bool,
        span: Span,
    },
    /// `x is null` (or `is not null` when negated).
    IsNull {
        operand: Operand,
        negated: bool,
        span: Span,
    },
    /// `x within N days`: 0 ≤ as-of − x ≤ window.
    Within {
        operand: Operand,
        window: i64,
        span: Span,
    },
    /// `x within next 3 days` (ages −3 days..=0) or `x between 8 and 30
    /// days ago` (ages 8..=30 days) on a timestamp.
    TimeWindow {
        operand: Operand,
        window: Window,
        span: Span,
    },
    /// `x between low and high`: low ≤ x ≤ high, numbers or timestamps.
    Between {
        operand: Operand,
        low: Operand,
        high: Operand,
        /// The sides are compared as timestamps (text is parsed).
        time: bool,
        span: Span,
    },
    /// `grade >= B2`: the band's value is in `mask`, the values the ordered
    /// comparison accepts (declaration order: the first value is the highest).
    BandOrdered {
        band: BandId,
        mask: u64,
        op: CompareOp,
        span: Span,
    },
    /// A boolean operand: a segment, `any …`, a boolean property.
    Truthy {
        operand: Operand,
        span: Span,
    },
    /// `interests has "ai"`, `has any of [...]`, `has all of [...]`: the
    /// list value (a JSON array of texts, or a text: split on `separator`
    /// when the property declares one, else one element) holds one, any or
    /// all of the `needles` (each a text value; constants as written).
    Has {
        list: Operand,
        quantifier: crate::ops::HasQuantifier,
        needles: Vec<Operand>,
        separator: Option<Box<str>>,
        ignore_case: bool,
        span: Span,
    },
    /// `readiness is hot`, `readiness in [warm, hot]`: the band's value is in `mask`.
    BandIs {
        band: BandId,
        mask: u64,
        negated: bool,
        span: Span,
    },
}

impl Cond {
    /// The span of a single test (`None` for `and`, `or`, `not`, constants).
    pub fn span(&self) -> Option<Span> {
        match self {
            Cond::Const(_) | Cond::And(_) | Cond::Or(_) | Cond::Not(_) => None,
            Cond::Compare { span, .. }
            | Cond::In { span, .. }
            | Cond::Matches { span, .. }
            | Cond::Text { span, .. }
            | Cond::IsNull { span, .. }
            | Cond::Within { span, .. }
            | Cond::TimeWindow { span, .. }
            | Cond::Between { span, .. }
            | Cond::BandOrdered { span, .. }
            | Cond::Truthy { span, .. }
            | Cond::Has { span, .. }
            | Cond::BandIs { span, .. } => Some(*span),
        }
    }
}

/// A regular expression: its syntax is checked by the compiler, and it is
/// built once, by [`Plan::prepare`] before evaluation (or on first use).
pub struct PlanRegex {
    pub pattern: String,
    pub case_insensitive: bool,
    /// Dense within a plan (`0..Plan::regex_count`): where an evaluation's
    /// per-thread copy of this regex lives (`eval::RegexScratch`).
    pub index: usize,
    /// Unique in the process, so that a copy made for one plan is never used
    /// for another plan's regex at the same index.
    pub uid: u64,
    built: OnceLock<Option<Regex>>,
}

/// The regex as written (two compilations of the same text print the same).
impl std::fmt::Debug for PlanRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanRegex")
            .field("pattern", &self.pattern)
            .field("case_insensitive", &self.case_insensitive)
            .field("index", &self.index)
            .finish()
    }
}

impl PlanRegex {
    /// Regexes larger than this once compiled are refused by the compiler
    /// (`compile::regexes::check_regex`), so [`Plan::prepare`] can build them all.
    pub const SIZE_LIMIT: usize = 1 << 20;

    pub fn new(pattern: String, case_insensitive: bool, index: usize) -> PlanRegex {
        PlanRegex {
            pattern,
            case_insensitive,
            index,
            uid: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            built: OnceLock::new(),
        }
    }

    fn build(&self) -> Result<Regex, regex::Error> {
        regex::RegexBuilder::new(&self.pattern)
            .case_insensitive(self.case_insensitive)
            .size_limit(Self::SIZE_LIMIT)
            .build()
    }

    /// The built regex; `None` when it cannot be built (reported by `prepare`).
    pub fn get(&self) -> Option<&Regex> {
        self.built.get_or_init(|| self.build().ok()).as_ref()
    }
}

/// A compiled operand: where a value comes from.
#[derive(Debug)]
pub enum Operand {
    Property(usize),
    Email,
    Id,
    /// A prop of the event being filtered (only inside a `where`).
    EventProp(usize),
    Score(ScoreId),
    Segment(SegmentId),
    Aggregate(AggregateId),
    Const(ConstValue),
    /// `lower(title)`: a function applied to an operand. `span` is the call's
    /// own text, where a wrong-type value met by the function is reported.
    Call {
        function: Function,
        argument: Box<Operand>,
        span: Span,
    },
    /// `0.6 * fit + 0.4 * intent`: `first`, then each operator applied left
    /// to right (one precedence level; a part may itself be an `Arith`). A
    /// missing part makes it missing; a part that is not a number, a
    /// division by zero or an overflow make it missing with a warning at
    /// `span`, the expression's own text.
    Arith {
        first: Box<Operand>,
        rest: Box<[(ArithOp, Operand)]>,
        span: Span,
    },
    /// A property or event prop declared `number from text` or `boolean
    /// from text` (`to`): its value, a text that reads as a number (a
    /// boolean) converted to one (docs/language.md §5). Converting here, not
    /// in the reader, keeps each plan's reading its own (`rubric diff`
    /// decodes a line once for two plans).
    FromText {
        source: Box<Operand>,
        to: crate::snapshot::DeclaredType,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Lower,
    Upper,
    Trim,
    Domain,
    DaysSince,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Trim => "trim",
            Function::Domain => "domain",
            Function::DaysSince => "days_since",
        }
    }
}

/// A compiled literal (or a `const` it names): a value known at compile time.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstValue {
    Null,
    Bool(bool),
    Number(f64),
    Text(Box<str>),
    /// Microseconds since the epoch.
    Time(i64),
}

impl Plan {
    /// A channel's name (`ads`, `sms`).
    pub fn channel_name(&self, channel: Channel) -> &str {
        self.channels.get(channel.index()).map_or("", String::as_str)
    }

    /// The names of the channels in `set` (a bit set of [`Channel::bit`]), in
    /// index order.
    pub fn channel_names(&self, set: u64) -> impl Iterator<Item = &str> {
        self.channels
            .iter()
            .enumerate()
            .filter(move |(i, _)| u32::try_from(*i).is_ok_and(|i| i < 64 && set & (1u64 << i) != 0))
            .map(|(_, name)| name.as_str())
    }

    pub fn score_names(&self) -> impl Iterator<Item = &str> {
        self.scores.iter().map(|s| s.name.as_str())
    }

    /// Calls `f` on every condition of the plan, nested ones included.
    pub fn for_each_cond<'p>(&'p self, f: &mut dyn FnMut(&'p Cond)) {
        fn walk<'p>(c: &'p Cond, f: &mut dyn FnMut(&'p Cond)) {
            f(c);
            match c {
                Cond::And(parts) | Cond::Or(parts) => parts.iter().for_each(|p| walk(p, f)),
                Cond::Not(inner) => walk(inner, f),
                _ => {}
            }
        }
        self.for_each_root_cond(&mut |c| walk(c, f));
    }

    /// Calls `f` on every whole condition of the plan: an item's, a rule's, a
    /// row's, a branch's, or a `where` filter (nested parts are not visited).
    pub fn for_each_root_cond<'p>(&'p self, f: &mut dyn FnMut(&'p Cond)) {
        for score in &self.scores {
            for rule in &score.rules {
                match &rule.kind {
                    ScoreRuleKind::When { condition, .. } => f(condition),
                    ScoreRuleKind::First { rows } => rows.iter().for_each(|r| f(&r.condition)),
                    ScoreRuleKind::Each(each) => {
                        if let Some(filter) = &each.filter {
                            f(filter);
                        }
                    }
                }
            }
        }
        for band in &self.bands {
            band.branches
                .iter()
                .filter_map(|b| b.condition.as_ref())
                .for_each(&mut *f);
        }
        self.segments.iter().for_each(|s| f(&s.condition));
        self.aggregates
            .iter()
            .filter_map(|a| a.filter.as_ref())
            .for_each(&mut *f);
        self.suppressions.iter().for_each(|s| f(&s.condition));
        self.audiences
            .iter()
            .chain(&self.workflows)
            .for_each(|t| f(&t.condition));
        for route in &self.routes {
            f(&route.condition);
            route
                .queue
                .iter()
                .filter_map(|q| q.condition.as_ref())
                .for_each(&mut *f);
        }
    }

    /// Builds every regular expression (in parallel) before evaluation, so
    /// that evaluation never waits for one to compile. Returns the regexes that cannot be
    /// built (too large), with their spans and the reason.
    pub fn prepare(&self) -> Vec<(Span, String)> {
        use rayon::prelude::*;
        let mut regexes: Vec<(&PlanRegex, Span)> = Vec::new();
        self.for_each_cond(&mut |c| {
            if let Cond::Matches { regex, span, .. } = c {
                regexes.push((regex, *span));
            }
        });
        regexes
            .par_iter()
            .filter_map(|(regex, span)| {
                regex.get().is_none().then(|| {
                    let reason = regex.build().err().map_or_else(String::new, |e| {
                        // regex's message is a sentence; diagnostics are lower case without a period.
                        let text = e.to_string();
                        let text = text.trim_end_matches('.');
                        let mut chars = text.chars();
                        chars
                            .next()
                            .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
                    });
                    (*span, reason)
                })
            })
            .collect()
    }
}
