//! The abstract syntax tree of a rule file, with a span on every node.
//!
//! Names are not resolved here: an [`Ident`] is just text. The compiler
//! (`crate::compile`) resolves names and checks types.

use crate::source::Span;

/// The operators are shared with the plan and the evaluator; they live in
/// [`crate::ops`] and are re-exported here for the parser and the compiler.
pub use crate::ops::{AggregateKind, ArithOp, CompareOp, HasQuantifier, TextOp};

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal after unescaping, with the span of the quoted text.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// A number literal.
#[derive(Debug, Clone, PartialEq)]
pub struct NumLit {
    pub value: f64,
    pub span: Span,
}

/// `7 days`, `24 hours`: the unit is checked by the compiler.
#[derive(Debug, Clone, PartialEq)]
pub struct Duration {
    pub amount: f64,
    pub unit: Ident,
    pub span: Span,
}

/// One parsed file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `properties { job_title: text  company_size: number … }`
    Properties(Vec<PropertyDecl>),
    /// `events { page_view { url: text } … }`
    Events(Vec<EventDecl>),
    /// `const free_email_domains = ["gmail.com", …]`
    Const(ConstDecl),
    /// `segment senior_title when job_title matches /…/i`
    Segment(SegmentDecl),
    /// `score fit 0..100 { … }`
    Score(ScoreDecl),
    /// `band readiness { hot when … warm when … cold otherwise }`
    Band(BandDecl),
    /// `suppress customer on ads, email, sales when …`
    Suppress(SuppressDecl),
    /// `audience ads_retarget when readiness is warm`
    Audience(TargetDecl),
    /// `workflow nurture_evaluate when readiness is warm`
    Workflow(TargetDecl),
    /// `route route_hot_lead when … { task "…" sla 24 hours queue first { … } }`
    Route(RouteDecl),
    /// `goal pipeline { outcome opportunity_created horizon 90 days value sum of amount }`
    Goal(GoalDecl),
    /// `channel sms`: a channel beyond the built-in ads, email and sales.
    Channel(ChannelDecl),
    /// `table territory by country ignoring case { "US" => na_sales  otherwise global_sales }`
    Table(TableDecl),
}

/// `name: type` or `name: text one of ["a", "b"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyDecl {
    pub name: Ident,
    pub type_name: Ident,
    pub allowed: Option<Vec<Expr>>,
    /// `number from text`: the span of `from text`.
    pub from_text: Option<Span>,
    /// `list separated by ";"`: the separator.
    pub separator: Option<StrLit>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventDecl {
    pub name: Ident,
    /// `None` when the event is declared without a prop list (props unchecked).
    pub props: Option<Vec<PropertyDecl>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstDecl {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SegmentDecl {
    pub name: Ident,
    pub condition: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreDecl {
    pub name: Ident,
    pub low: NumLit,
    pub high: NumLit,
    pub range_span: Span,
    pub rules: Vec<ScoreRule>,
    /// `score priority 0..100 = 0.6 * fit + 0.4 * intent`: a value instead
    /// of rules (`rules` is then empty).
    pub value: Option<Expr>,
}

/// `"label" <body>` inside a score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRule {
    pub label: StrLit,
    pub body: RuleBody,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleBody {
    /// `when <condition> => +30`
    When(WhenRule),
    /// `each page_view where … within 30 days => +10 decay half-life 7 days, max 40`
    Each(EachRule),
    /// `first { when … => +30  when … => +15 }`: the first matching row counts.
    First(Vec<FirstRow>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WhenRule {
    pub condition: Expr,
    /// The points as written; 0 (spanning the expression) when `computed`.
    pub points: NumLit,
    /// `=> + webinar_minutes * 0.5`: points computed from values.
    pub computed: Option<ComputedPoints>,
    pub modifiers: Vec<Modifier>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EachRule {
    pub event: Ident,
    pub filter: Option<Expr>,
    pub window: Option<Window>,
    pub points: NumLit,
    /// `=> + minutes * 0.5`: points computed per event from its props
    /// (`points` is then 0).
    pub computed: Option<ComputedPoints>,
    pub modifiers: Vec<Modifier>,
    pub span: Span,
}

/// `=> + webinar_minutes * 0.5` or `=> - (a + b)`: the sign, then a value.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedPoints {
    pub negated: bool,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FirstRow {
    pub label: Option<StrLit>,
    pub rule: WhenRule,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Modifier {
    pub kind: ModifierKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModifierKind {
    /// `decay half-life 7 days`
    Decay(Duration),
    /// `max 40`: the rule's total is at most this.
    Max(NumLit),
    /// `min -40`: the rule's total is at least this.
    Min(NumLit),
}

#[derive(Debug, Clone, PartialEq)]
pub struct BandDecl {
    pub name: Ident,
    pub branches: Vec<Branch>,
}

/// `hot when <condition>` or `cold otherwise` (bands and route queues).
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub value: Ident,
    /// `None` for `otherwise`.
    pub condition: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SuppressDecl {
    pub name: Ident,
    pub channels: Vec<Ident>,
    pub condition: Expr,
}

/// An audience or a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetDecl {
    pub name: Ident,
    pub condition: Expr,
    pub reach: TargetReach,
}

/// Where a target delivers and which suppressions it ignores: `on sms`
/// (written before `when`; `None` for the kind's own channel) and `despite
/// customer, opted_out` (written after the condition).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetReach {
    pub channel: Option<Ident>,
    pub despite: Vec<Ident>,
}

/// `channel sms`
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDecl {
    pub name: Ident,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteDecl {
    pub name: Ident,
    pub condition: Expr,
    pub reach: TargetReach,
    pub fields: Vec<RouteField>,
    /// The span of `{ … }` (for "missing field" messages).
    pub body_span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteField {
    pub kind: RouteFieldKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteFieldKind {
    /// `task "Follow up with hot lead"`
    Task(StrLit),
    /// `sla 24 hours`
    Sla(Duration),
    /// `queue na_sales`, `queue "owner"`, `queue territory` (a table),
    /// `queue from territory_queue otherwise global_sales`,
    /// `queue round robin [sdr_east, sdr_west]`
    Queue(RoutePick),
    /// `queue first { na_sales when … sla 4 hours  global_sales otherwise }`
    QueueFirst(Vec<QueueBranch>),
    /// `assign to owner`, `assign to owner otherwise round robin [a, b]`
    Assign(RoutePick),
}

/// One branch of `queue first { … }`: where its queue comes from, its
/// condition (`None` for `otherwise`) and its own SLA.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueBranch {
    pub pick: Pick,
    pub condition: Option<Expr>,
    pub sla: Option<Duration>,
    pub span: Span,
}

/// A queue or an assignee as a route field writes it, with the fallback for
/// contacts whose property has no text value.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutePick {
    pub pick: Pick,
    pub fallback: Option<Pick>,
}

/// Where a queue or an assignee comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub kind: PickKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PickKind {
    /// `na_sales`: a literal queue, a table, or (after `assign to`) a property.
    Name(Ident),
    /// `"owner"`: always a literal name.
    Quoted(StrLit),
    /// `from territory_queue`: the property's text value.
    From(Ident),
    /// `round robin [sdr_east, "sdr west"]`: one member per contact, by a hash of its id.
    RoundRobin(Vec<NameLit>),
}

/// A literal queue or assignee name, written bare or in double quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct NameLit {
    pub value: String,
    pub quoted: bool,
    pub span: Span,
}

/// A lookup table: the value of `key` (a property) chooses a row.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDecl {
    pub name: Ident,
    pub key: Ident,
    pub ignoring_case: bool,
    pub rows: Vec<TableRow>,
}

/// `"US" => na_sales`, or `otherwise global_sales` when `key` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub key: Option<StrLit>,
    pub value: NameLit,
    pub span: Span,
}

/// What a rule set's scores are meant to predict (`rubric measure`).
#[derive(Debug, Clone, PartialEq)]
pub struct GoalDecl {
    pub name: Ident,
    pub fields: Vec<GoalField>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoalField {
    pub kind: GoalFieldKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GoalFieldKind {
    /// `outcome meeting_held` or `outcome demo_held, meeting_held`
    Outcome(Vec<Ident>),
    /// `horizon 30 days`
    Horizon(Duration),
    /// `value sum of amount` (the only value an outcome carries)
    ValueSumOf(Ident),
}

/// An expression: a condition or an operand (the compiler checks which).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Whether the writer put this expression in parentheses (a condition
    /// group, an arithmetic group or a `where (…)` group; doubled
    /// parentheses count once). Only `fmt` reads it, to print them again:
    /// everything else treats a group as its inner expression, and `span`
    /// is the inner expression's, without the parentheses.
    pub parenthesized: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `a or b or c`
    Or(Vec<Expr>),
    /// `a and b and c`
    And(Vec<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `a == b`, `a < b`, … with `ignoring case` when written.
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
        ignore_case: bool,
    },
    /// `a in [..]`, `a not in list_constant`
    In {
        left: Box<Expr>,
        list: Box<Expr>,
        negated: bool,
        ignore_case: bool,
    },
    /// `a matches /re/i`
    Matches {
        left: Box<Expr>,
        pattern: Box<Expr>,
        ignore_case: bool,
    },
    /// `a starts with b`, `a ends with b`, `a contains b`
    Text {
        op: TextOp,
        left: Box<Expr>,
        right: Box<Expr>,
        ignore_case: bool,
    },
    /// `a is null`, `a is not true`, `readiness is hot`
    Is {
        left: Box<Expr>,
        negated: bool,
        target: IsTarget,
    },
    /// `interests has "ai"`, `interests has any of ["ai", "ml"]`,
    /// `interests has all of list_constant`: `right` is a value for `has`,
    /// a list or a name for `has any of` and `has all of`.
    Has {
        left: Box<Expr>,
        quantifier: HasQuantifier,
        right: Box<Expr>,
        ignore_case: bool,
    },
    /// `last_sales_touch_at within 7 days`
    Within {
        left: Box<Expr>,
        window: Duration,
    },
    /// `company_size between 50 and 200`: both ends included.
    Between {
        left: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// `trial_ends_at within next 3 days`, `last_login between 8 and 30
    /// days ago` (a past `within` on a timestamp stays [`ExprKind::Within`]).
    TimeWindow {
        left: Box<Expr>,
        window: Window,
    },
    /// A name: property, score, band, segment or constant (resolved later).
    Name(Ident),
    /// `lower(job_title)`, `domain(email)`
    Call {
        function: Ident,
        args: Vec<Expr>,
    },
    /// `count of …`, `any …`, `last …`, `sum of PROP in …`, `PROP of last …`
    Aggregate(EventAggregate),
    /// `contact.country`: a field of the contact, also inside a `where`
    /// (where a bare name is an event prop). Outside a `where` it means what
    /// the bare name means.
    ContactField(Ident),
    /// `0.6 * fit * 2`, `fit + intent - 10`: a chain of operators of one
    /// precedence level, left to right (`rest` is never empty). A `+` chain's
    /// parts may be `*` chains; parentheses only group (and set
    /// [`Expr::parenthesized`] for `fmt`).
    Arith {
        first: Box<Expr>,
        rest: Vec<(ArithOp, Expr)>,
    },
    Literal(Literal),
}

#[derive(Debug, Clone, PartialEq)]
pub enum IsTarget {
    Null,
    Bool(bool),
    /// A band value (`readiness is hot`).
    Name(Ident),
}

/// An aggregate over a contact's events as written: `count of page_view where …`,
/// `any demo_request`, `last page_view`; the compiler turns it into a
/// [`crate::plan::EventAggregate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EventAggregate {
    pub kind: AggregateKind,
    pub event: Ident,
    pub filter: Option<Box<Expr>>,
    pub window: Option<Window>,
    /// The event prop read: `minutes` in `sum of minutes in webinar_attended`,
    /// `url` in `url of last page_view`; `None` for `count`, `any`, `last`
    /// and `first`.
    pub prop: Option<Ident>,
}

/// A time window: on events (`within 30 days`, `between 8 and 30 days
/// ago`) or on a timestamp (`within next 3 days`, `between 8 and 30 days ago`).
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub kind: WindowKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowKind {
    /// `within 30 days`: an age from 0 to the duration.
    Within(Duration),
    /// `within next 3 days`: a time from as-of to as-of + the duration.
    Next(Duration),
    /// `between 8 and 30 days ago`: an age from `low` to `high`; `low`
    /// takes the unit written after `high`.
    Ago { low: Duration, high: Duration },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Number(f64),
    Bool(bool),
    Null,
    /// `/pattern/flags`
    Regex {
        pattern: String,
        flags: String,
    },
    /// `[a, b, c]`; elements are literals or names (band values, constants).
    List(Vec<Expr>),
}
