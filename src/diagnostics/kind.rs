//! Every kind of diagnostic rubric reports, with its words: the stable code
//! ([`Code`]), the message (thiserror's `#[error(…)]`) and the help line
//! ([`DiagnosticKind::help`]) live together on one variant, so a message is
//! written once, here, and `docs/errors.md` can be checked against [`Code::ALL`].
//!
//! Several variants share a code (`rubric::type_mismatch` has many
//! messages); users rely on the codes, never on the variant names. Lints are
//! variants too (their codes are `rubric::lint::<name>`, their severity is
//! warning); [`Lint`] names them for `# rubric: allow(…)` comments.
//!
//! Style of the words (see `docs/errors.md`): lower case, no final period,
//! the user's text in backticks, advice in the help.

/// Declares [`Code`] with its text and the list of all codes from one table,
/// so the list cannot miss a code.
macro_rules! codes {
    ($($variant:ident => $text:literal,)*) => {
        /// A stable diagnostic code, as shown to users and listed in `docs/errors.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order of `docs/errors.md`.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as users see it: `rubric::unknown_name`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    Syntax => "rubric::syntax",
    InvalidEscape => "rubric::invalid_escape",
    InvalidNumber => "rubric::invalid_number",
    NestingTooDeep => "rubric::nesting_too_deep",
    UnknownName => "rubric::unknown_name",
    AmbiguousName => "rubric::ambiguous_name",
    UnknownType => "rubric::unknown_type",
    UnknownEvent => "rubric::unknown_event",
    UnknownEventProp => "rubric::unknown_event_prop",
    UnknownFunction => "rubric::unknown_function",
    WrongArity => "rubric::wrong_arity",
    UnknownChannel => "rubric::unknown_channel",
    UnknownBandValue => "rubric::unknown_band_value",
    DuplicateName => "rubric::duplicate_name",
    DuplicateBranch => "rubric::duplicate_branch",
    DuplicateModifier => "rubric::duplicate_modifier",
    DuplicateRouteField => "rubric::duplicate_route_field",
    MissingRouteField => "rubric::missing_route_field",
    DuplicateGoalField => "rubric::duplicate_goal_field",
    MissingGoalField => "rubric::missing_goal_field",
    MissingOtherwise => "rubric::missing_otherwise",
    UnreachableBranch => "rubric::unreachable_branch",
    TooManyValues => "rubric::too_many_values",
    EmptyRange => "rubric::empty_range",
    InvertedRange => "rubric::inverted_range",
    MisplacedModifier => "rubric::misplaced_modifier",
    InvalidDuration => "rubric::invalid_duration",
    InvalidRegex => "rubric::invalid_regex",
    TypeMismatch => "rubric::type_mismatch",
    NotACondition => "rubric::not_a_condition",
    NullComparison => "rubric::null_comparison",
    BandComparison => "rubric::band_comparison",
    ThresholdOutOfRange => "rubric::threshold_out_of_range",
    ValueNotAllowed => "rubric::value_not_allowed",
    NestedAggregate => "rubric::nested_aggregate",
    Cycle => "rubric::cycle",
    QueueNamesAProperty => "rubric::queue_names_a_property",
    MissingFallback => "rubric::missing_fallback",
    Internal => "rubric::internal",
    LintShadowedBranch => "rubric::lint::shadowed_branch",
    LintThresholdNeverMet => "rubric::lint::threshold_never_met",
    LintScoreCannotReach => "rubric::lint::score_cannot_reach",
    LintOverlappingWorkflows => "rubric::lint::overlapping_workflows",
    LintNoCustomerSuppression => "rubric::lint::no_customer_suppression",
    LintUnusedConstant => "rubric::lint::unused_constant",
    LintUnusedSegment => "rubric::lint::unused_segment",
    LintUnusedSuppression => "rubric::lint::unused_suppression",
    LintConfusableTargetNames => "rubric::lint::confusable_target_names",
    LintNegationSkipsMissing => "rubric::lint::negation_skips_missing",
    LintAscendingBandOrdered => "rubric::lint::ascending_band_ordered",
    LintExemptionOffChannel => "rubric::lint::exemption_off_channel",
    LintUnusedChannel => "rubric::lint::unused_channel",
    LintTableKeyNotAllowed => "rubric::lint::table_key_not_allowed",
    LintFallbackNeverUsed => "rubric::lint::fallback_never_used",
    LintQueueLooksLikeTable => "rubric::lint::queue_looks_like_table",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lint: a warning about rules that compile but are probably not what was
/// meant. Its name is what `# rubric: allow(name)` silences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lint {
    ShadowedBranch,
    ThresholdNeverMet,
    ScoreCannotReach,
    OverlappingWorkflows,
    NoCustomerSuppression,
    UnusedConstant,
    UnusedSegment,
    UnusedSuppression,
    ConfusableTargetNames,
    NegationSkipsMissing,
    AscendingBandOrdered,
    ExemptionOffChannel,
    UnusedChannel,
    TableKeyNotAllowed,
    FallbackNeverUsed,
    QueueLooksLikeTable,
}

impl Lint {
    /// Every lint, in the order of `docs/errors.md`.
    pub const ALL: [Lint; 16] = [
        Lint::ShadowedBranch,
        Lint::ThresholdNeverMet,
        Lint::ScoreCannotReach,
        Lint::OverlappingWorkflows,
        Lint::NoCustomerSuppression,
        Lint::UnusedConstant,
        Lint::UnusedSegment,
        Lint::UnusedSuppression,
        Lint::ConfusableTargetNames,
        Lint::NegationSkipsMissing,
        Lint::AscendingBandOrdered,
        Lint::ExemptionOffChannel,
        Lint::UnusedChannel,
        Lint::TableKeyNotAllowed,
        Lint::FallbackNeverUsed,
        Lint::QueueLooksLikeTable,
    ];

    pub fn code(self) -> Code {
        match self {
            Lint::ShadowedBranch => Code::LintShadowedBranch,
            Lint::ThresholdNeverMet => Code::LintThresholdNeverMet,
            Lint::ScoreCannotReach => Code::LintScoreCannotReach,
            Lint::OverlappingWorkflows => Code::LintOverlappingWorkflows,
            Lint::NoCustomerSuppression => Code::LintNoCustomerSuppression,
            Lint::UnusedConstant => Code::LintUnusedConstant,
            Lint::UnusedSegment => Code::LintUnusedSegment,
            Lint::UnusedSuppression => Code::LintUnusedSuppression,
            Lint::ConfusableTargetNames => Code::LintConfusableTargetNames,
            Lint::NegationSkipsMissing => Code::LintNegationSkipsMissing,
            Lint::AscendingBandOrdered => Code::LintAscendingBandOrdered,
            Lint::ExemptionOffChannel => Code::LintExemptionOffChannel,
            Lint::UnusedChannel => Code::LintUnusedChannel,
            Lint::TableKeyNotAllowed => Code::LintTableKeyNotAllowed,
            Lint::FallbackNeverUsed => Code::LintFallbackNeverUsed,
            Lint::QueueLooksLikeTable => Code::LintQueueLooksLikeTable,
        }
    }

    /// The name in `allow(…)` comments: the code without `rubric::lint::`.
    pub fn name(self) -> &'static str {
        match self {
            Lint::ShadowedBranch => "shadowed_branch",
            Lint::ThresholdNeverMet => "threshold_never_met",
            Lint::ScoreCannotReach => "score_cannot_reach",
            Lint::OverlappingWorkflows => "overlapping_workflows",
            Lint::NoCustomerSuppression => "no_customer_suppression",
            Lint::UnusedConstant => "unused_constant",
            Lint::UnusedSegment => "unused_segment",
            Lint::UnusedSuppression => "unused_suppression",
            Lint::ConfusableTargetNames => "confusable_target_names",
            Lint::NegationSkipsMissing => "negation_skips_missing",
            Lint::AscendingBandOrdered => "ascending_band_ordered",
            Lint::ExemptionOffChannel => "exemption_off_channel",
            Lint::UnusedChannel => "unused_channel",
            Lint::TableKeyNotAllowed => "table_key_not_allowed",
            Lint::FallbackNeverUsed => "fallback_never_used",
            Lint::QueueLooksLikeTable => "queue_looks_like_table",
        }
    }

    /// The lint of a name in an `allow(…)` comment.
    pub fn from_name(name: &str) -> Option<Lint> {
        Lint::ALL.into_iter().find(|l| l.name() == name)
    }

    /// What the lint reports, in a few words (for help and `docs/errors.md`).
    pub fn description(self) -> &'static str {
        match self {
            Lint::ShadowedBranch => "a band branch that earlier branches always take first",
            Lint::ThresholdNeverMet => "a score comparison that no value in the score's range satisfies",
            Lint::ScoreCannotReach => "a threshold the score's rules can never add up to",
            Lint::OverlappingWorkflows => "two workflows a contact can be enrolled in at the same time",
            Lint::NoCustomerSuppression => {
                "an audience or workflow whose channel has no customer suppression"
            }
            Lint::UnusedConstant => "a constant nothing refers to",
            Lint::UnusedSegment => "a segment nothing refers to",
            Lint::UnusedSuppression => "a suppression on channels that have no audience, workflow or route",
            Lint::ConfusableTargetNames => {
                "two targets of a kind whose names differ only in case or in characters other than letters, digits, `_` and `-`"
            }
            Lint::NegationSkipsMissing => {
                "a `!=`, `not in` or `is not true` test on a value that may be missing: false, not true, without it"
            }
            Lint::AscendingBandOrdered => {
                "an ordered test of a band whose numeric values are declared lowest first"
            }
            Lint::ExemptionOffChannel => {
                "a `despite` naming a suppression that never applies on the target's channel"
            }
            Lint::UnusedChannel => "a declared channel that no suppression or target names",
            Lint::TableKeyNotAllowed => "a table row for a value its property's `one of` list does not allow",
            Lint::FallbackNeverUsed => "an `otherwise` fallback after a queue or assignee that always has a value",
            Lint::QueueLooksLikeTable => "a literal queue name one typo away from a table's name",
        }
    }
}

/// Which advice a type mismatch gives: it depends on the type the test
/// expected and on the test (`within` has its own).
#[derive(Debug, Clone, PartialEq)]
pub enum TypeAdvice {
    Within,
    Number,
    Text,
    Bool,
    /// A timestamp used by the test named `what`.
    Time {
        what: String,
    },
    /// `any TYPE …` compared with a number: the count was meant.
    CountOf {
        example: String,
    },
    /// The argument of a function call: what the function takes, with an
    /// example call on a declared name of that type when there is one.
    FunctionArgument {
        function: &'static str,
        takes: &'static str,
        example: String,
    },
    /// `any page_view within next 3 days`: an aggregate given a future
    /// window; events after as-of never count, so the window looks back.
    FutureEventWindow {
        /// The aggregate with the window looking back: `any page_view within 3 days`.
        example: String,
    },
    /// An operand of `+`, `-`, `*` or `/` that is not a number.
    Arithmetic,
    /// A `list` property in a test other than `has`.
    List,
    /// `has` on a value that is not a list.
    HasNeedsList,
    /// A value looked for by `has` that is not text.
    HasValueText,
    Other,
}

impl TypeAdvice {
    fn text(&self) -> String {
        match self {
            TypeAdvice::Within => String::from(
                "`within` needs a timestamp: a `timestamp` property, or the time of an event (`last page_view within 7 days`)",
            ),
            TypeAdvice::Number => String::from("compare a number with a number, e.g. `>= 200` (no quotes)"),
            TypeAdvice::Text => String::from("compare text with text in double quotes, e.g. `== \"lead\"`"),
            TypeAdvice::Bool => String::from("compare a boolean with `is true` or `is false`"),
            TypeAdvice::Time { what } => format!(
                "`{what}` on a timestamp: use `within 7 days`, or compare with a date such as \"2026-11-01\""
            ),
            TypeAdvice::CountOf { example } => {
                format!("`any` is true or false; to compare how many events there were, count them: `{example}`")
            }
            TypeAdvice::FunctionArgument {
                function,
                takes,
                example,
            } => format!("`{function}` takes {takes}, e.g. `{example}`"),
            TypeAdvice::FutureEventWindow { example } => format!(
                "events after as-of never count, so an event window looks back: `{example}`, or an age range such as `between 8 and 30 days ago`; `within next` tests a timestamp, such as a property"
            ),
            TypeAdvice::Arithmetic => String::from(
                "arithmetic works on numbers: scores, number properties, number literals, `count of …` and `days_since(…)`",
            ),
            TypeAdvice::List => String::from(
                "a list is tested with `has`: `x has \"a\"`, `x has any of [\"a\", \"b\"]` or `x has all of [\"a\", \"b\"]`",
            ),
            TypeAdvice::HasNeedsList => String::from(
                "declare the property as a list: `x: list` (a JSON array of texts) or `x: list separated by \";\"` (text such as \"a;b\"); to look inside text, use `contains`",
            ),
            TypeAdvice::HasValueText => String::from(
                "a list holds text: write the values in double quotes, e.g. `has any of [\"1\", \"2\"]`",
            ),
            TypeAdvice::Other => String::from("check the types of both sides"),
        }
    }
}

/// The advice of a syntax error for a common slip, chosen by the parser from
/// the text around the error.
#[derive(Debug, Clone, PartialEq)]
pub enum SyntaxHint {
    /// `within 7`, `7day`: a number where a duration is expected.
    DurationUnit,
    /// A reserved word where a name is expected.
    ReservedWord {
        word: String,
    },
    /// `x >= => +1`: the comparison lacks its value.
    ComparisonNeedsValue {
        op: &'static str,
    },
    /// `=` where `==` is meant.
    SingleEquals,
    WriteAnd,
    WriteOr,
    /// `=>` where `>=` is meant.
    ArrowForAtLeast,
    /// `=<` where `<=` is meant.
    ArrowForAtMost,
    StartsWithIsTwoWords,
    EndsWithIsTwoWords,
    SingleQuotes,
    UnterminatedText,
    /// `AND`, `OR`, `NOT`.
    UpperCaseKeyword {
        keyword: String,
    },
    /// `x is "text"`.
    IsWithText,
    ListCommas,
    WhereTakesOneTest,
    /// `and and`, `or or`.
    WrittenTwice {
        word: String,
    },
    PointsAfterArrow,
    UnclosedParen,
    ScoreRange,
    /// A misspelt item keyword.
    MisspeltItem {
        keyword: &'static str,
    },
    NotAnItem,
    BranchForm,
    /// An item keyword (or the end of the file) inside an open `{`.
    UnclosedBrace,
    /// `grade is 1`: a band value that looks like a number, unquoted.
    BandValueInBackticks {
        /// The test up to the value: `intent_level is`, `intent_level is not`.
        test: String,
        value: String,
    },
    /// `1 when …` in a band: a name that starts with a digit.
    NameInBackticks {
        value: String,
        /// Whether the name is a band branch's value.
        band_branch: bool,
    },
    /// `max 10 decay half-life 7 days`: modifiers without the comma.
    ModifiersNeedCommas {
        example: String,
    },
    /// `email_send within 7 days >= 5`: a comparison after an event window.
    CountOfToCompare {
        example: String,
    },
    /// `days_since(x) > 7 days`, `x > 7 days`: a duration after a comparison.
    ComparisonWithDuration {
        /// The corrected test: `days_since(x) > 7`.
        example: String,
        /// Whether the left side is already a `days_since(…)` call.
        days_since: bool,
    },
    /// `audience x when … on sms`: a target's channel after its condition.
    ChannelAfterCondition {
        /// `audience x`, as written.
        head: String,
        channel: String,
    },
    /// `audience x sms when …`: a channel without `on`.
    ChannelWithoutOn {
        head: String,
        channel: String,
    },
    /// `audience x on sms, email when …`: a target has one channel.
    OneChannelPerTarget {
        head: String,
        channel: String,
    },
    /// `audience x despite customer when …`: exemptions before the condition.
    DespiteBeforeCondition {
        head: String,
        /// `despite customer`, as written.
        despite: String,
    },
    /// `sla` inside the branches of `queue first { … }`.
    SlaInQueueBranch {
        /// The field as written: `sla 2 hours`.
        sla: String,
        /// The branch's queue as written before it (`enterprise`).
        branch: String,
    },
    /// `table territory { … }`: a table without `by PROPERTY`.
    TableNeedsBy,
    /// `round robin sdr_east, sdr_west`: members without brackets.
    RoundRobinList,
    /// `otherwise => global_sales` in a table.
    OtherwiseRowWithoutArrow,
    /// `within -3 days` or `within +3 days`.
    SignedWindow {
        /// `-` or `+`.
        sign: char,
        /// The window as it may be written: `3 days`.
        window: String,
        /// The tested value: `trial_ends_at`.
        subject: String,
        /// The window in days, as written in a `days_since` test: `3`.
        days: String,
    },
    /// `any page_view within -3 days`: a sign on a window of events.
    SignedEventWindow {
        /// The aggregate with the window unsigned: `any page_view within 3 days`.
        example: String,
    },
    /// `last_login between 8 and 30 days`: an age range without `ago`.
    AgeRangeNeedsAgo {
        /// The range as written: `between 8 and 30 days`.
        range: String,
    },
    /// `each page_view within next 3 days`: an event window looking ahead.
    FutureEventWindow {
        /// The window looking back: `within 3 days`.
        example: String,
    },
    /// `where a and b within 7 days`: several tests after `where`.
    WhereTestsInParentheses {
        example: String,
    },
    /// `last page_view's url`: a prop of the first or last event is
    /// written `url of last page_view`.
    PropOfEventPossessive {
        /// The aggregate as it is written: `url of last page_view`.
        example: String,
    },
}

impl SyntaxHint {
    fn text(&self) -> String {
        use SyntaxHint as H;
        match self {
            H::DurationUnit => {
                String::from("a duration needs a unit on the same line: `7 days`, `24 hours`, `2 weeks`")
            }
            H::ReservedWord { word } => format!(
                "`{word}` is a reserved word; write it between backticks to use it as a name: `` `{word}` ``"
            ),
            H::ComparisonNeedsValue { op } => format!("`{op}` needs a value to compare with, e.g. `{op} 10`"),
            H::SingleEquals => String::from("compare with `==`"),
            H::WriteAnd => String::from("write `and`"),
            H::WriteOr => String::from("write `or`"),
            H::ArrowForAtLeast => String::from("did you mean `>=`?"),
            H::ArrowForAtMost => String::from("did you mean `<=`?"),
            H::StartsWithIsTwoWords => String::from("write `starts with` (two words)"),
            H::EndsWithIsTwoWords => String::from("write `ends with` (two words)"),
            H::SingleQuotes => String::from("text is written in double quotes: \"like this\""),
            H::UnterminatedText => String::from("this text has no closing `\"` on its line"),
            H::UpperCaseKeyword { keyword } => format!("write `{keyword}` in lower case"),
            H::IsWithText => {
                String::from("`is` takes `null`, `true`, `false` or a band value; compare text with `==`")
            }
            H::ListCommas => String::from("separate list elements with commas: `[\"US\", \"CA\"]`"),
            H::WhereTakesOneTest => String::from(
                "a `where` takes one test; write longer conditions in parentheses: `where (not …)`",
            ),
            H::WrittenTwice { word } => format!("`{word}` is written twice"),
            H::PointsAfterArrow => String::from("a rule gives points after `=>`: `when … => +10`"),
            H::UnclosedParen => String::from("a `(` is not closed: add `)`"),
            H::ScoreRange => String::from("a score declares its range: `score fit 0..100 { … }`"),
            H::MisspeltItem { keyword } => format!("did you mean `{keyword}`?"),
            H::NotAnItem => String::from(
                "a rule file is a list of items: properties, events, const, segment, score, band, suppress, audience, workflow, route",
            ),
            H::BranchForm => {
                String::from("each branch is `value when <condition>`, and the last is `value otherwise`")
            }
            H::UnclosedBrace => String::from("add the missing `}` before this line"),
            H::BandValueInBackticks { test, value } => format!(
                "a band value is a name or a plain number; one that starts with a digit but is not a number is written between backticks: {test} `{value}`"
            ),
            H::NameInBackticks { value, band_branch: true } => format!(
                "a band value is a name or a plain number (`3 when …`); one that starts with a digit but is not a number is written between backticks, here and wherever it is tested: `` `{value}` when … ``"
            ),
            H::NameInBackticks { value, band_branch: false } => format!(
                "a name starts with a letter or `_`; write any other name between backticks: `` `{value}` ``"
            ),
            H::ModifiersNeedCommas { example } => {
                format!("separate a rule's modifiers with commas: `{example}`")
            }
            H::CountOfToCompare { example } => {
                format!("to compare how many events there were, count them: `{example}`")
            }
            H::ComparisonWithDuration { example, days_since: true } => format!(
                "`days_since(…)` is a plain number of days, compared without a unit: `{example}`"
            ),
            H::ComparisonWithDuration { example, days_since: false } => format!(
                "a comparison takes a plain value, not a duration; to test how long ago, count the days: `{example}`"
            ),
            H::ChannelAfterCondition { head, channel } => format!(
                "a target's channel comes before its condition: `{head} on {channel} when …`"
            ),
            H::ChannelWithoutOn { head, channel } => format!(
                "a target's name is one word; to put it on a channel, write `{head} on {channel} when …`"
            ),
            H::OneChannelPerTarget { head, channel } => format!(
                "a target is on one channel: write `{head} on {channel} when …`, and declare another target for each other channel"
            ),
            H::DespiteBeforeCondition { head, despite } => format!(
                "`despite` comes after the condition: `{head} when … {despite}`"
            ),
            H::PropOfEventPossessive { example } => {
                format!("a prop of the first or last event is written before it: `{example}`")
            }
            H::SlaInQueueBranch { sla, branch } => format!(
                "a branch's own `sla` comes after its condition or `otherwise`: `{branch} when … {sla}`; for every branch, write `{sla}` beside `task`"
            ),
            H::TableNeedsBy => String::from(
                "a table names the property whose value it looks up: `table territory by country { \"US\" => na_sales  otherwise global_sales }`",
            ),
            H::RoundRobinList => {
                String::from("a round robin lists its members in brackets: `round robin [sdr_east, sdr_west]`")
            }
            H::OtherwiseRowWithoutArrow => {
                String::from("a table's `otherwise` row has no `=>`: `otherwise global_sales`")
            }
            H::SignedWindow {
                sign: '+', window, subject, ..
            } => format!(
                "a window is written without a sign: `{subject} within {window}`"
            ),
            H::SignedWindow { window, subject, .. } => format!(
                "a `within` window has no sign; for a time in the next {window}, write {}",
                code(&format!("{subject} within next {window}"))
            ),
            H::SignedEventWindow { example } => format!(
                "events are counted back from as-of, so a window has no sign: `{example}`"
            ),
            H::AgeRangeNeedsAgo { range } => format!(
                "an age range counts back from as-of and ends with `ago`: `{range} ago`; for a future range, write `within next …`"
            ),
            H::FutureEventWindow { example } => format!(
                "events after as-of never count, so an event window looks back: `{example}`; `within next` tests a timestamp, such as a property"
            ),
            H::WhereTestsInParentheses { example } => format!(
                "a `where` takes one test, or several in parentheses: `{example}`"
            ),
        }
    }
}

/// Rule text in backticks; text that holds a backtick itself (a quoted
/// name) goes between double backticks, as Markdown writes it.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// The help line of every internal error.
const REPORT_BUG: &str = "this is a bug in rubric; please report it with the rule file";

/// One kind of problem, with the values its words need. Type names such as
/// `a number` or `text` are passed already phrased (`Ty::name` in the compiler).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiagnosticKind {
    // Syntax (the parser).
    #[error("syntax error: expected {expected}, found {found}")]
    SyntaxExpected {
        expected: String,
        /// `the end of the file` or the token in backticks.
        found: String,
        hint: Option<SyntaxHint>,
    },
    #[error("syntax error: unexpected {found}")]
    SyntaxUnexpected { found: String, hint: Option<SyntaxHint> },
    #[error("unknown escape `\\{escape}` in text")]
    UnknownEscape { escape: char },
    #[error("text ends with a lone `\\`")]
    LoneBackslash,
    #[error("`{text}` is not a number")]
    NotANumber { text: String },
    #[error("`{text}` is too large")]
    NumberTooLarge { text: String },
    /// Parentheses, `not`, `where` and calls nested deeper than the parser
    /// accepts (`syntax::MAX_NESTING_DEPTH`), reported where the limit is crossed.
    #[error("conditions nest more than {limit} levels deep")]
    NestingTooDeep { limit: usize },

    // Internal errors: a broken invariant of rubric itself.
    #[error("internal error: unexpected `{rule}` while building {context}")]
    InternalUnexpectedNode { rule: String, context: String },
    #[error("internal error: incomplete {context}")]
    InternalIncomplete { context: String },
    #[error("internal error: no slot for event {event} when resolving the prop `{prop}`")]
    InternalNoEventSlot { event: usize, prop: String },
    #[error("internal error: band `{band}` has no value `{value}` for its own branch")]
    InternalBandValueMissing { band: String, value: String },
    #[error("internal error: the rule set did not compile, but no error was reported")]
    InternalNoPlan,
    /// A regular expression the compiler accepted that `regex` cannot build.
    #[error("internal error: this regular expression was checked but cannot be built: {reason}")]
    InternalRegexNotBuilt { reason: String },

    // Declarations (the symbol table).
    #[error("unknown type `{name}`")]
    UnknownType {
        name: String,
        suggestion: Option<String>,
    },
    #[error("event `{name}` is declared twice")]
    DuplicateEvent { name: String },
    #[error("property `{name}` is declared twice")]
    DuplicateProperty { name: String },
    #[error("{kind} `{name}` has the name of a declared property")]
    PropertyNameTaken { kind: &'static str, name: String },
    #[error("`{name}` is a built-in name of every contact")]
    BuiltinName { name: String },
    #[error("`{name}` is a built-in field of every contact, not a property")]
    BuiltinProperty { name: String },
    #[error("`{name}` is already declared as a {existing}")]
    AlreadyDeclared { name: String, existing: &'static str },
    #[error("`one of` needs a text property, but `{name}` is {type_name}")]
    OneOfNotText { name: String, type_name: String },
    #[error("allowed values must be text in double quotes")]
    AllowedValueNotText,
    /// `company_size: text from text`: only numbers and booleans convert.
    #[error("`from text` converts text to a number or a boolean, not to {type_name}")]
    FromTextNotConvertible { type_name: String },
    /// `tags: text separated by ";"`
    #[error("`separated by` applies to a `list` property, not to {type_name}")]
    SeparatorNotList { name: String, type_name: String },
    #[error("a list separator cannot be empty")]
    EmptySeparator,

    // Names.
    #[error("unknown name `{name}`")]
    UnknownName {
        name: String,
        suggestion: Option<String>,
        /// Whether the rule set declares its properties (changes the advice).
        schema: bool,
    },
    /// An unknown name right after an aggregate's `where` test, joined to it
    /// by `and`/`or`: the user meant it inside the `where`.
    #[error("unknown name `{name}`")]
    UnknownNameAfterWhere {
        name: String,
        event: String,
        /// The aggregate as written before `where`: `count of page_view`.
        aggregate: String,
        /// `and` or `or`.
        joined_by: &'static str,
    },
    /// `x > now`: rubric has no clock value; as-of is implicit.
    #[error("`{name}` is not a value in rubric")]
    NowIsNotAValue {
        name: String,
        /// The timestamp compared with it, as written: `trial_ends_at`.
        subject: String,
        /// The `days_since` test with the comparison's meaning: `days_since(x) < 0`.
        days_since_test: String,
        /// What that test means: `in the future`.
        meaning: &'static str,
    },
    #[error("`{event}` is an event type, not a property")]
    EventAsValue { event: String },
    #[error("`{name}` could be the constant or a prop of `{event}`")]
    AmbiguousName { name: String, event: String },
    #[error("unknown event type `{name}`")]
    UnknownEvent {
        name: String,
        suggestion: Option<String>,
        /// The declared event types, joined.
        declared: String,
    },
    #[error("event `{event}` has no prop `{prop}`")]
    UnknownEventProp {
        event: String,
        prop: String,
        suggestion: Option<String>,
        /// The declared props, joined.
        props: String,
    },
    #[error("unknown list constant `{name}`")]
    UnknownListConstant {
        name: String,
        suggestion: Option<String>,
    },
    #[error("unknown function `{name}`")]
    UnknownFunction {
        name: String,
        suggestion: Option<String>,
        /// Every function, joined.
        functions: String,
    },
    #[error("`{function}` takes one value, found {found}")]
    WrongArity { function: &'static str, found: usize },
    #[error("unknown channel `{name}`")]
    UnknownChannel {
        name: String,
        suggestion: Option<String>,
        /// Every channel of the rule set, joined.
        channels: String,
    },
    /// `despite custmer`: a name that is no suppression.
    #[error("unknown suppression `{name}`")]
    UnknownSuppression {
        name: String,
        suggestion: Option<String>,
        /// The rule set's suppressions, joined (`none` without any).
        suppressions: String,
    },
    /// `despite fit`: a declared name of another kind.
    #[error("`{name}` is a {kind}, not a suppression")]
    NotASuppression {
        name: String,
        kind: &'static str,
        suppressions: String,
    },
    #[error("band `{band}` has no value `{value}`")]
    UnknownBandValue {
        band: String,
        value: String,
        suggestion: Option<String>,
        /// The band's values, joined.
        values: String,
    },
    #[error("{kind} `{name}` cannot be used in a condition")]
    TargetInCondition { kind: &'static str, name: String },

    // Items.
    #[error("score `{score}` already has a rule \"{label}\"")]
    DuplicateRuleLabel { score: String, label: String },
    #[error("channel `{channel}` is listed twice")]
    DuplicateChannel { channel: String },
    #[error("suppression `{name}` is named twice after `despite`")]
    DuplicateExemption { name: String },
    #[error("channel `{name}` is built in")]
    BuiltInChannel { name: String },
    #[error("channel `{name}` is declared twice")]
    ChannelDeclaredTwice { name: String },
    #[error("a rule set has at most 64 channels")]
    TooManyChannels,
    #[error("`{owner}` has two branches for `{value}`")]
    DuplicateBranch { owner: String, value: String },
    #[error("`{modifier}` is given twice")]
    DuplicateModifier { modifier: &'static str },
    #[error("route `{route}` has `{field}` twice")]
    DuplicateRouteField { route: String, field: &'static str },
    #[error("route `{route}` has no `{field}`")]
    MissingRouteField { route: String, field: &'static str },
    #[error("goal `{goal}` has `{field}` twice")]
    DuplicateGoalField { goal: String, field: &'static str },
    #[error("goal `{goal}` has no `{field}`")]
    MissingGoalField { goal: String, field: &'static str },
    #[error("outcome type `{name}` is listed twice")]
    DuplicateOutcomeType { name: String },
    #[error("an outcome has no value `{name}`")]
    UnknownOutcomeValue {
        name: String,
        suggestion: Option<String>,
    },
    #[error("a goal's horizon must be longer than zero")]
    ZeroHorizon,
    #[error("band `{band}` has no `otherwise` branch")]
    BandMissingOtherwise { band: String, example: String },
    #[error("the queue of route `{route}` has no `otherwise` branch")]
    QueueMissingOtherwise { route: String, example: String },
    #[error("branch `{branch}` of `{owner}` can never be chosen")]
    UnreachableBranch { branch: String, owner: String },
    #[error("table `{table}` has no `otherwise` row")]
    TableMissingOtherwise { table: String },
    #[error("table `{table}` has two rows for \"{key}\"")]
    DuplicateTableKey {
        table: String,
        key: String,
        ignoring_case: bool,
    },
    #[error(
        "`{name}` is a property, but `{field} {name}` names the {what} `{name}`, not the property's value"
    )]
    QueueNamesAProperty {
        name: String,
        /// `queue`, `otherwise` (a fallback) or `=>` (a table's value).
        field: &'static str,
        /// `queue` or `assignee`.
        what: &'static str,
    },
    #[error(
        "route `{route}` takes its {what} from `{property}` but names none for contacts without a value"
    )]
    MissingFallback {
        route: String,
        property: String,
        what: &'static str,
        /// In a `queue first` branch (`from p otherwise`) rather than a whole field.
        in_branch: bool,
    },
    #[error("`{table}` is a table, not a property: `{field}` reads a property's value")]
    PickFromTable {
        table: String,
        /// `from`, `assign to` or `by` (a table's key).
        field: &'static str,
    },
    #[error("`{name}` holds {found}, but a {what} is text")]
    PickNotText {
        name: String,
        found: &'static str,
        what: &'static str,
    },
    #[error("a band has at most 64 values")]
    TooManyBandValues,
    #[error("score `{score}` has an empty range: it could only ever be {value}")]
    EmptyScoreRange { score: String, value: String },
    #[error("score `{score}` has an inverted range: {low} is above {high}")]
    InvertedScoreRange {
        score: String,
        low: String,
        high: String,
    },
    #[error("`min {min}` is above `max {max}`")]
    InvertedMinMax { min: String, max: String },
    /// `x between 200 and 50`, `between 30 and 8 days ago`: never true.
    #[error("`between {low} and {high}{unit}` is never true: {low} is above {high}")]
    ReversedBetween {
        low: String,
        high: String,
        /// ` days ago` for an age range, else empty.
        unit: String,
    },
    #[error("`{modifier}` only applies to `each` rules")]
    MisplacedModifier { modifier: &'static str },
    #[error("unknown duration unit `{unit}`")]
    UnknownDurationUnit {
        unit: String,
        suggestion: Option<String>,
    },
    #[error("duration is too long")]
    DurationTooLong,
    #[error("a half-life must be longer than zero")]
    ZeroHalfLife,
    #[error("an SLA must be longer than zero")]
    ZeroSla,
    #[error("a list element must be a single value")]
    ConstantListElementNotValue,
    #[error("`{name}` depends on itself: {chain}")]
    Cycle { name: String, chain: String },

    // Regular expressions.
    #[error("`matches` needs a regular expression")]
    MatchesNeedsRegex,
    #[error("unknown regular expression flag `{flag}`")]
    UnknownRegexFlag { flag: char },
    #[error("invalid regular expression: {detail}")]
    InvalidRegex { detail: String },
    /// A constant holding a regular expression that does not compile
    /// (reported even when the constant is unused).
    #[error("invalid regular expression: {detail}")]
    InvalidRegexConstant { detail: String },

    // Types and conditions.
    #[error("{subject} is {ty} but is compared with {other}")]
    ComparedTypes {
        subject: String,
        ty: &'static str,
        other: &'static str,
        advice: TypeAdvice,
    },
    #[error("`{what}` needs {wanted}, but {subject} is {ty}")]
    ExpectedType {
        what: String,
        wanted: String,
        subject: String,
        ty: &'static str,
        advice: TypeAdvice,
    },
    #[error("`{text}` is not a timestamp")]
    NotATimestamp { text: String },
    #[error("`{op}` needs numbers or timestamps, not {ty}")]
    OrderedWithoutOrder { op: &'static str, ty: &'static str },
    #[error("`ignoring case` applies to text, not {ty}")]
    IgnoringCaseNotText { ty: &'static str },
    #[error("this list mixes {first} and {second}")]
    MixedList {
        first: &'static str,
        second: &'static str,
    },
    #[error("list elements must be values")]
    ListElementNotValue,
    #[error("`in` needs a list")]
    InNeedsList,
    #[error("a regular expression can only follow `matches`")]
    RegexOutsideMatches,
    #[error("a list can only follow `in`")]
    ListOutsideIn,
    /// `interests has ["a", "b"]`
    #[error("`has` looks for one value; a list needs `any of` or `all of`")]
    HasListWithoutQuantifier,
    #[error("expected a value, found a condition")]
    ConditionAsValue,
    #[error("band `{band}` can only be compared with one of its values")]
    BandNeedsValue { band: String, values: String },
    /// `intent_level == 1` where the band has the value `` `1` ``: a name
    /// written as a number.
    #[error("band `{band}` can only be compared with one of its values")]
    BandValueWrittenAsNumber { band: String, value: String },
    #[error("band `{band}` always has a value; test which one")]
    BandAlwaysHasValue { band: String, values: String },
    #[error("band `{band}` can only be tested with `is`, `==`, `!=` or `in`")]
    BandAsValue { band: String, first_value: String },
    #[error("`is {value}` needs a band, but {subject} is not a band")]
    IsNeedsBand {
        value: String,
        subject: String,
        /// A band close to the name on the left, and that name.
        band_suggestion: Option<(String, String)>,
    },
    #[error("a band is not a condition by itself")]
    BandNotACondition { band: String, values: String },
    #[error("expected a condition, found {found}")]
    NotACondition { found: &'static str },
    /// `country == "US" or "CA"`: a value joined to a test by `and`/`or`.
    #[error("expected a condition, found {found}")]
    ValueJoinedToTest {
        found: &'static str,
        /// `and` or `or`.
        joined_by: &'static str,
        /// The test repeated for the value: `country == "CA"`.
        repeated: String,
        /// Whether the test is an aggregate's `where` test.
        in_where: bool,
    },
    #[error("`{op}` with null is never true")]
    NullComparison { op: &'static str },
    #[error("`null` in a list never matches")]
    NullInList,
    #[error("a constant cannot be `null`")]
    NullConstant,
    /// `grade > A` where `A` is declared first: no value is above it.
    #[error("`{band} {op} {value}` is never true: `{value}` is the {end} value of `{band}`")]
    BandOrderedNeverTrue {
        op: &'static str,
        band: String,
        value: String,
        /// `highest` (declared first) or `lowest` (declared last).
        end: &'static str,
    },
    #[error("`{op}` orders the values of one band; `{band}` and `{other}` are two bands")]
    BandOrdered {
        op: &'static str,
        band: String,
        other: String,
    },
    #[error("threshold {threshold} is outside the range of score `{score}` ({low}..{high})")]
    ThresholdOutOfRange {
        threshold: String,
        score: String,
        low: String,
        high: String,
    },
    #[error("`{name}` is never \"{value}\"")]
    ValueNotAllowed {
        name: String,
        value: String,
        suggestion: Option<String>,
        /// The allowed values, quoted and joined.
        allowed: String,
    },
    #[error("an event aggregate cannot be used inside a `where`")]
    NestedAggregate,
    #[error("`{aggregate}` reads numbers, but `{prop}` of `{event}` is {ty}")]
    AggregateOfNonNumber {
        /// `sum of`, `min of`, …
        aggregate: &'static str,
        prop: String,
        event: String,
        ty: &'static str,
    },
    #[error("`{name}` is a field of the contact, not a prop of `{event}`")]
    ContactFieldInWhere { name: String, event: String },

    // Lints (warnings).
    #[error("branch `{branch}` of `{band}` can never hold")]
    LintBranchNeverHolds { branch: String, band: String },
    #[error("branch `{branch}` of `{band}` is never chosen: the branches above take every contact it would")]
    LintBranchShadowed { branch: String, band: String },
    #[error("`{score} {op} {threshold}` is never true: `{score}` is clamped to {low}..{high}")]
    LintThresholdNeverMet {
        score: String,
        op: &'static str,
        threshold: String,
        low: String,
        high: String,
    },
    #[error(
        "`{score} {op} {threshold}` is never true: the rules of `{score}` add up to {low}..{high} at most"
    )]
    LintScoreCannotReach {
        score: String,
        op: &'static str,
        threshold: String,
        low: String,
        high: String,
    },
    #[error("a contact can be enrolled in both `{first}` and `{second}`")]
    LintOverlappingWorkflows { first: String, second: String },
    #[error("{kind} `{name}` can include customers: no suppression on `{channel}` keeps them out")]
    LintNoCustomerSuppression {
        kind: &'static str,
        name: String,
        channel: &'static str,
    },
    #[error("constant `{name}` is never used")]
    LintUnusedConstant { name: String },
    #[error("segment `{name}` is never used")]
    LintUnusedSegment { name: String },
    #[error(
        "suppression `{name}` keeps contacts out of nothing: no audience, workflow or route is on {channels}"
    )]
    LintUnusedSuppression {
        name: String,
        /// The channels, each in backticks, joined.
        channels: String,
    },
    #[error(
        "{kind} `{first}` and {kind} `{second}` differ only in case or in characters other than letters, digits, `_` and `-`"
    )]
    LintConfusableTargetNames {
        kind: &'static str,
        first: String,
        second: String,
    },
    #[error("`{test}` is false when `{subject}` is missing")]
    LintNegationSkipsMissing {
        test: String,
        subject: String,
        /// Who lacks the value: `contacts`, or `events` inside a `where`.
        whose: &'static str,
        /// The test without its negation (`open_deal is true`), when the
        /// operator could be found in the test's text.
        positive: Option<String>,
    },
    /// `level >= 2` on `band level { 1 when …  2 when …  3 otherwise }`.
    #[error("`{test}` orders `{band}` by declaration, where `{first}` is the highest value")]
    LintAscendingBandOrdered {
        test: String,
        band: String,
        /// The first declared value, the highest.
        first: String,
        /// The values as declared: `1, 2, 3`.
        values: String,
    },
    #[error(
        "{kind} `{target}` is exempt from `{suppression}`, which never applies on its channel `{channel}`"
    )]
    LintExemptionOffChannel {
        kind: &'static str,
        target: String,
        suppression: String,
        channel: String,
        /// The suppression's channels, each in backticks, joined.
        channels: String,
    },
    #[error("channel `{name}` is never used")]
    LintUnusedChannel { name: String },
    #[error(
        "suppression `{name}` keeps contacts out of nothing: every target on {channels} is exempt from it"
    )]
    LintSuppressionAlwaysWaived {
        name: String,
        /// The channels, each in backticks, joined.
        channels: String,
    },
    #[error("table `{table}` has a row for \"{key}\", which `{property}` never holds")]
    LintTableKeyNotAllowed {
        table: String,
        key: String,
        property: String,
        /// The allowed values, quoted and joined.
        allowed: String,
    },
    #[error("the fallback `otherwise {fallback}` is never used")]
    LintFallbackNeverUsed { fallback: String },
    #[error("`{name}` is a literal queue name, not the table `{table}`")]
    LintQueueLooksLikeTable { name: String, table: String },
}

impl DiagnosticKind {
    /// The stable code users see.
    pub fn code(&self) -> Code {
        use DiagnosticKind as K;
        match self {
            K::SyntaxExpected { .. } | K::SyntaxUnexpected { .. } => Code::Syntax,
            K::UnknownEscape { .. } | K::LoneBackslash => Code::InvalidEscape,
            K::NotANumber { .. } | K::NumberTooLarge { .. } => Code::InvalidNumber,
            K::NestingTooDeep { .. } => Code::NestingTooDeep,
            K::InternalUnexpectedNode { .. }
            | K::InternalIncomplete { .. }
            | K::InternalNoEventSlot { .. }
            | K::InternalRegexNotBuilt { .. }
            | K::InternalBandValueMissing { .. }
            | K::InternalNoPlan => Code::Internal,
            K::UnknownType { .. }
            | K::FromTextNotConvertible { .. }
            | K::SeparatorNotList { .. }
            | K::EmptySeparator => Code::UnknownType,
            K::DuplicateEvent { .. }
            | K::DuplicateProperty { .. }
            | K::PropertyNameTaken { .. }
            | K::BuiltinName { .. }
            | K::BuiltinProperty { .. }
            | K::AlreadyDeclared { .. }
            | K::DuplicateRuleLabel { .. }
            | K::DuplicateChannel { .. }
            | K::DuplicateExemption { .. }
            | K::BuiltInChannel { .. }
            | K::ChannelDeclaredTwice { .. } => Code::DuplicateName,
            K::UnknownName { .. }
            | K::UnknownNameAfterWhere { .. }
            | K::NowIsNotAValue { .. }
            | K::EventAsValue { .. }
            | K::UnknownListConstant { .. }
            | K::UnknownSuppression { .. }
            | K::NotASuppression { .. } => Code::UnknownName,
            K::AmbiguousName { .. } => Code::AmbiguousName,
            K::UnknownEvent { .. } => Code::UnknownEvent,
            K::UnknownEventProp { .. } => Code::UnknownEventProp,
            K::UnknownFunction { .. } => Code::UnknownFunction,
            K::WrongArity { .. } => Code::WrongArity,
            K::UnknownChannel { .. } => Code::UnknownChannel,
            K::UnknownBandValue { .. } => Code::UnknownBandValue,
            K::DuplicateBranch { .. } => Code::DuplicateBranch,
            K::DuplicateModifier { .. } => Code::DuplicateModifier,
            K::DuplicateRouteField { .. } => Code::DuplicateRouteField,
            K::MissingRouteField { .. } => Code::MissingRouteField,
            K::DuplicateGoalField { .. } => Code::DuplicateGoalField,
            K::MissingGoalField { .. } => Code::MissingGoalField,
            K::DuplicateOutcomeType { .. } => Code::DuplicateName,
            K::UnknownOutcomeValue { .. } => Code::UnknownName,
            K::BandMissingOtherwise { .. } | K::QueueMissingOtherwise { .. } => Code::MissingOtherwise,
            K::UnreachableBranch { .. } => Code::UnreachableBranch,
            K::TableMissingOtherwise { .. } => Code::MissingOtherwise,
            K::DuplicateTableKey { .. } => Code::DuplicateBranch,
            K::QueueNamesAProperty { .. } => Code::QueueNamesAProperty,
            K::MissingFallback { .. } => Code::MissingFallback,
            K::PickFromTable { .. } | K::PickNotText { .. } => Code::TypeMismatch,
            K::TooManyBandValues | K::TooManyChannels => Code::TooManyValues,
            K::EmptyScoreRange { .. } => Code::EmptyRange,
            K::InvertedScoreRange { .. } | K::InvertedMinMax { .. } | K::ReversedBetween { .. } => {
                Code::InvertedRange
            }
            K::MisplacedModifier { .. } => Code::MisplacedModifier,
            K::UnknownDurationUnit { .. }
            | K::DurationTooLong
            | K::ZeroHalfLife
            | K::ZeroSla
            | K::ZeroHorizon => Code::InvalidDuration,
            K::Cycle { .. } => Code::Cycle,
            K::UnknownRegexFlag { .. } | K::InvalidRegex { .. } | K::InvalidRegexConstant { .. } => {
                Code::InvalidRegex
            }
            K::OneOfNotText { .. }
            | K::AllowedValueNotText
            | K::ConstantListElementNotValue
            | K::MatchesNeedsRegex
            | K::ComparedTypes { .. }
            | K::ExpectedType { .. }
            | K::NotATimestamp { .. }
            | K::OrderedWithoutOrder { .. }
            | K::IgnoringCaseNotText { .. }
            | K::MixedList { .. }
            | K::ListElementNotValue
            | K::InNeedsList
            | K::RegexOutsideMatches
            | K::ListOutsideIn
            | K::HasListWithoutQuantifier
            | K::ConditionAsValue
            | K::BandNeedsValue { .. }
            | K::BandValueWrittenAsNumber { .. }
            | K::BandAlwaysHasValue { .. }
            | K::BandAsValue { .. }
            | K::IsNeedsBand { .. }
            | K::TargetInCondition { .. } => Code::TypeMismatch,
            K::BandNotACondition { .. } | K::NotACondition { .. } => Code::NotACondition,
            K::NullComparison { .. } | K::NullInList | K::NullConstant => Code::NullComparison,
            K::BandOrdered { .. } | K::BandOrderedNeverTrue { .. } => Code::BandComparison,
            K::ThresholdOutOfRange { .. } => Code::ThresholdOutOfRange,
            K::ValueNotAllowed { .. } => Code::ValueNotAllowed,
            K::NestedAggregate => Code::NestedAggregate,
            K::AggregateOfNonNumber { .. } => Code::TypeMismatch,
            K::ContactFieldInWhere { .. } => Code::UnknownEventProp,
            K::ValueJoinedToTest { .. } => Code::NotACondition,
            K::LintBranchNeverHolds { .. } | K::LintBranchShadowed { .. } => Code::LintShadowedBranch,
            K::LintThresholdNeverMet { .. } => Code::LintThresholdNeverMet,
            K::LintScoreCannotReach { .. } => Code::LintScoreCannotReach,
            K::LintOverlappingWorkflows { .. } => Code::LintOverlappingWorkflows,
            K::LintNoCustomerSuppression { .. } => Code::LintNoCustomerSuppression,
            K::LintUnusedConstant { .. } => Code::LintUnusedConstant,
            K::LintUnusedSegment { .. } => Code::LintUnusedSegment,
            K::LintUnusedSuppression { .. } | K::LintSuppressionAlwaysWaived { .. } => {
                Code::LintUnusedSuppression
            }
            K::LintConfusableTargetNames { .. } => Code::LintConfusableTargetNames,
            K::LintNegationSkipsMissing { .. } => Code::LintNegationSkipsMissing,
            K::LintAscendingBandOrdered { .. } => Code::LintAscendingBandOrdered,
            K::LintExemptionOffChannel { .. } => Code::LintExemptionOffChannel,
            K::LintUnusedChannel { .. } => Code::LintUnusedChannel,
            K::LintTableKeyNotAllowed { .. } => Code::LintTableKeyNotAllowed,
            K::LintFallbackNeverUsed { .. } => Code::LintFallbackNeverUsed,
            K::LintQueueLooksLikeTable { .. } => Code::LintQueueLooksLikeTable,
        }
    }

    /// The lint this is, when it is one.
    pub fn lint(&self) -> Option<Lint> {
        let code = self.code();
        Lint::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The advice shown under the message, if any.
    pub fn help(&self) -> Option<String> {
        use DiagnosticKind as K;
        let text = |s: &str| Some(String::from(s));
        match self {
            K::SyntaxExpected { hint, .. } | K::SyntaxUnexpected { hint, .. } => hint.as_ref().map(SyntaxHint::text),
            K::UnknownEscape { .. } | K::LoneBackslash => text("known escapes: \\\" \\\\ \\n \\t"),
            K::NestingTooDeep { .. } => text(
                "remove redundant parentheses and `not`s, or name inner conditions with `segment` and use the names",
            ),
            K::NotANumber { .. } | K::NumberTooLarge { .. } => None,
            K::InternalUnexpectedNode { .. }
            | K::InternalIncomplete { .. }
            | K::InternalNoEventSlot { .. }
            | K::InternalRegexNotBuilt { .. }
            | K::InternalBandValueMissing { .. }
            | K::InternalNoPlan => text(REPORT_BUG),
            K::UnknownType { suggestion, .. } => Some(match suggestion {
                Some(t) => format!("did you mean `{t}`? the types are text, number, boolean, timestamp and list"),
                None => String::from("the types are text, number, boolean, timestamp and list"),
            }),
            K::FromTextNotConvertible { .. } => text(
                "remove `from text`: it is for `number from text` and `boolean from text`, where a snapshot writes such values as text (`\"56\"`)",
            ),
            K::SeparatorNotList { name, .. } => Some(format!(
                "declare a list to split text on the separator: `{name}: list separated by \";\"`"
            )),
            K::EmptySeparator => text("write the text between values, e.g. `separated by \";\"`"),
            K::DuplicateEvent { .. } | K::DuplicateProperty { .. } => text("remove one of the declarations"),
            K::PropertyNameTaken { .. } => {
                text("rename one of them; a condition could not tell which one it means")
            }
            K::BuiltinName { .. } => text("choose another name"),
            K::BuiltinProperty { name } => Some(format!(
                "remove this line: `{name}` is read from the top level of each snapshot line"
            )),
            K::AlreadyDeclared { .. } => text("names are shared by every file of a rule set; rename one of them"),
            K::OneOfNotText { .. } => text("declare the property as `text one of [...]`"),
            K::AllowedValueNotText => None,
            K::UnknownName {
                name,
                suggestion,
                schema,
            } => Some(match (suggestion, schema) {
                (Some(c), true) => format!(
                    "did you mean `{c}`? if `{name}` is a contact property, declare it in the `properties` block"
                ),
                (Some(c), false) => format!(
                    "did you mean `{c}`? if `{name}` is a contact property, declare it in a `properties` block"
                ),
                (None, _) => {
                    format!("if `{name}` is a contact property, declare it in the `properties` block")
                }
            }),
            K::UnknownNameAfterWhere {
                name,
                event,
                aggregate,
                joined_by,
            } => Some(format!(
                "a `where` takes one test, so `{name}` after `{joined_by}` is read as a contact property; to test several props of each `{event}`, put them in parentheses: `{aggregate} where (… {joined_by} {name} …)`"
            )),
            K::NowIsNotAValue {
                subject,
                days_since_test,
                meaning,
                ..
            } => Some(format!(
                "a rule has no clock, it is evaluated at as-of: write `{days_since_test}` ({meaning}), or `{subject} within 7 days` (in the 7 days before as-of)"
            )),
            K::EventAsValue { event: e } => Some(format!(
                "test events with an aggregate: `any {e} within 7 days`, `count of {e} within 30 days >= 3` or `last {e} within 7 days`"
            )),
            K::AmbiguousName { event, .. } => Some(format!(
                "declare the props of `{event}` in an `events` block: then a name that is not one of its props is the constant"
            )),
            K::UnknownEvent {
                suggestion, declared, ..
            } => Some(match suggestion {
                Some(e) => format!("did you mean `{e}`? declared events: {declared}"),
                None => format!("declare it in the `events` block; declared events: {declared}"),
            }),
            K::UnknownEventProp {
                event,
                suggestion,
                props,
                ..
            } => Some(match suggestion {
                Some(p) => format!("did you mean `{p}`? `{event}` has: {props}"),
                None => format!("`{event}` has: {props}"),
            }),
            K::UnknownListConstant { suggestion, .. } => Some(match suggestion {
                Some(c) => format!("did you mean `{c}`?"),
                None => String::from("declare it: `const name = [\"a\", \"b\"]`, or write the list here"),
            }),
            K::UnknownFunction {
                suggestion,
                functions,
                ..
            } => Some(match suggestion {
                Some(f) => format!("did you mean `{f}`? functions: {functions}"),
                None => format!("functions: {functions}"),
            }),
            K::WrongArity { function, .. } => Some(format!("write `{function}(x)`")),
            K::UnknownChannel {
                name,
                suggestion,
                channels,
            } => Some(match suggestion {
                Some(n) => format!(
                    "did you mean `{n}`? the channels are {channels}; a new one is declared with `channel {name}`"
                ),
                None => format!(
                    "declare it with `channel {name}` on a line of its own; the channels are {channels}"
                ),
            }),
            K::UnknownSuppression {
                suggestion,
                suppressions,
                ..
            } => Some(match suggestion {
                Some(n) => format!("did you mean `{n}`? `despite` names suppressions: {suppressions}"),
                None => format!("`despite` names suppressions: {suppressions}"),
            }),
            K::NotASuppression { suppressions, .. } => {
                Some(format!("`despite` names suppressions: {suppressions}"))
            }
            K::UnknownBandValue {
                band,
                suggestion,
                values,
                ..
            } => Some(match suggestion {
                Some(v) => format!("did you mean `{v}`? `{band}` is one of: {values}"),
                None => format!("`{band}` is one of: {values}"),
            }),
            K::TargetInCondition { kind: "table", name } => Some(format!(
                "a table is looked up only by a route (`queue {name}`); if `{name}` is also a property, rename the table"
            )),
            K::TargetInCondition { .. } => {
                text("name the shared condition with a `segment` and use that in both places")
            }
            K::DuplicateRuleLabel { .. } => text("labels name rules in traces; give each rule its own"),
            K::DuplicateChannel { .. } => None,
            K::DuplicateExemption { .. } => text("name it once"),
            K::BuiltInChannel { .. } => {
                text("remove this line: ads, email and sales need no declaration")
            }
            K::ChannelDeclaredTwice { .. } => text("remove one of the declarations"),
            K::TooManyChannels => text("merge channels that share their suppressions"),
            K::DuplicateBranch { .. } => text("a value gets one branch; combine the conditions with `or`"),
            K::DuplicateModifier { .. } | K::DuplicateRouteField { .. } | K::DuplicateGoalField { .. } => {
                text("keep one")
            }
            K::DuplicateOutcomeType { .. } => text("list each outcome type once"),
            K::UnknownOutcomeValue { suggestion, .. } => Some(match suggestion {
                Some(s) => format!("did you mean `{s}`? an outcome's only value is `amount`: `value sum of amount`"),
                None => String::from("an outcome's only value is `amount`: write `value sum of amount`"),
            }),
            K::MissingGoalField { field, .. } => {
                let example = match *field {
                    "outcome" => "outcome meeting_held",
                    _ => "horizon 30 days",
                };
                Some(format!("add `{example}` inside the goal's braces"))
            }
            K::ZeroHorizon => text("write e.g. `horizon 30 days`"),
            K::MissingRouteField { field, .. } => {
                let example = match *field {
                    "task" => "task \"Follow up\"",
                    "sla" => "sla 24 hours",
                    _ => "queue sales",
                };
                Some(format!("add `{example}` inside the route's braces"))
            }
            K::BandMissingOtherwise { example, .. } | K::QueueMissingOtherwise { example, .. } => {
                Some(format!("end with a branch such as `{example} otherwise`"))
            }
            K::UnreachableBranch { .. } => {
                text("the first matching branch wins; move this branch above, or remove it")
            }
            K::TableMissingOtherwise { .. } => {
                text("end the table with the queue for every other value: `otherwise global_sales`")
            }
            K::DuplicateTableKey { ignoring_case, .. } => Some(if *ignoring_case {
                String::from("the table ignores case, so these keys are the same; keep one row")
            } else {
                String::from("a key gets one row; keep one")
            }),
            K::QueueNamesAProperty { name, field, what } => Some(match *field {
                "otherwise" => format!(
                    "a fallback is a name, not a property: for a literal {what} called `{name}` write `otherwise \"{name}\"`"
                ),
                "=>" => format!(
                    "a table's values are names, not properties: for a {what} called `{name}` write `\"{name}\"`"
                ),
                _ => format!(
                    "for the queue the property holds write `queue from {name} otherwise some_queue`; for a queue literally called `{name}` write `queue \"{name}\"`"
                ),
            }),
            K::MissingFallback {
                property,
                what,
                in_branch,
                ..
            } => Some(if *in_branch {
                String::from(
                    "a `from` branch is skipped when the property has no text value, so the last branch must name a queue: add `global_sales otherwise` after it",
                )
            } else if *what == "queue" {
                format!("add a queue for the rest: `queue from {property} otherwise global_sales`")
            } else {
                format!("add a fallback, `assign to {property} otherwise \"sdr_pool\"`, or leave it: contacts without a value get `\"assignee\": null`")
            }),
            K::PickFromTable { table, field: "by" } => Some(format!(
                "a table is keyed by a property; rename the table `{table}` so that the property's name means the property"
            )),
            K::PickFromTable { table, .. } => {
                Some(format!("to look the table up, write its name alone: `queue {table}`"))
            }
            K::PickNotText { what, .. } => Some(format!(
                "a {what} is taken from a text property; declare it `text`, or write the {what} by name"
            )),
            K::TooManyBandValues => None,
            K::EmptyScoreRange { .. } => text("give the score room to move, e.g. `0..100`"),
            K::InvertedScoreRange { low, high, .. } => Some(format!("write the low end first: `{high}..{low}`")),
            K::InvertedMinMax { .. } => text("swap them"),
            K::ReversedBetween { low, high, unit } => Some(format!(
                "both ends are included and the smaller comes first: `between {high} and {low}{unit}`"
            )),
            K::MisplacedModifier { .. } => text("remove it, or count events with `each <event> … => +N`"),
            K::UnknownDurationUnit { unit, suggestion } => Some(
                if matches!(unit.as_str(), "month" | "months" | "year" | "years") {
                    String::from("months and years vary in length; write days (`30 days`, `365 days`)")
                } else if let Some(u) = suggestion {
                    format!("did you mean `{u}`? units are minutes, hours, days and weeks")
                } else {
                    String::from("units are minutes, hours, days and weeks")
                },
            ),
            K::DurationTooLong => text("windows longer than a few thousand years are not meaningful"),
            K::ZeroHalfLife => text("write e.g. `decay half-life 7 days`, or remove the decay"),
            K::ZeroSla => text("write e.g. `sla 24 hours`"),
            K::ConstantListElementNotValue => None,
            K::Cycle { .. } => text(
                "a segment, score or band cannot use itself, directly or through others; break the chain",
            ),
            K::MatchesNeedsRegex => text("write `/pattern/` (add `i` after it to ignore case: `/pattern/i`)"),
            K::UnknownRegexFlag { .. } => text("the only flag is `i` (ignore case)"),
            K::InvalidRegex { .. } => text(
                "rubric uses Rust regex syntax (https://docs.rs/regex); escape special characters with `\\`",
            ),
            K::InvalidRegexConstant { .. } => text("rubric uses Rust regex syntax (https://docs.rs/regex)"),
            K::ComparedTypes { advice, .. } | K::ExpectedType { advice, .. } => Some(advice.text()),
            K::NotATimestamp { .. } => text(
                "write RFC 3339 with an offset (`2026-11-20T10:00:00Z`) or a date (`2026-11-20`)",
            ),
            K::OrderedWithoutOrder { .. } => text("use `==`, `!=`, `in`, `starts with` or `matches` for text"),
            K::IgnoringCaseNotText { .. } => text("remove `ignoring case`"),
            K::MixedList { .. } => text("a value has one type; write all elements as the same type"),
            K::ListElementNotValue => text("write text in double quotes, numbers, `true` or `false`"),
            K::InNeedsList => text("write `[\"a\", \"b\"]` or name a list constant"),
            K::RegexOutsideMatches => text("write `x matches /pattern/`"),
            K::ListOutsideIn => text("write `x in [\"a\", \"b\"]`"),
            K::HasListWithoutQuantifier => text(
                "write `has any of [...]` (at least one of them) or `has all of [...]` (every one of them)",
            ),
            K::ConditionAsValue => text("conditions combine with `and`/`or`; they cannot be compared"),
            K::BandNeedsValue { values, .. } | K::BandAlwaysHasValue { values, .. } => {
                Some(format!("values: {values}"))
            }
            K::BandValueWrittenAsNumber { value, .. } => Some(format!(
                "a band value that starts with a digit is a name, written between backticks as in the band: `{value}`"
            )),
            K::BandAsValue { band, first_value } => Some(format!("e.g. `{band} is {first_value}`")),
            K::IsNeedsBand {
                value,
                band_suggestion,
                ..
            } => Some(match band_suggestion {
                Some((band, name)) => format!("did you mean band `{band}`? (`{name}` is not a band)"),
                None if value.parse::<f64>().is_ok() => format!("to compare a number write `== {value}`"),
                None => format!("to compare text write `== \"{value}\"`"),
            }),
            K::ValueJoinedToTest {
                joined_by,
                repeated,
                in_where: false,
                ..
            } => Some(format!(
                "`{joined_by}` joins two conditions, not two values: repeat the test, `{joined_by} {repeated}`"
            )),
            K::ValueJoinedToTest {
                joined_by,
                repeated,
                in_where: true,
                ..
            } => Some(format!(
                "`{joined_by}` joins two conditions, not two values, and a `where` takes one test, or several in parentheses: `where (… {joined_by} {repeated})`"
            )),
            K::BandNotACondition { band, values } => {
                Some(format!("test its value, e.g. `{band} is …` (values: {values})"))
            }
            K::NotACondition { found } => text(match *found {
                "a number" => "compare it: `x >= 10`",
                "a timestamp" => "test it with `within`: `x within 7 days`",
                "a list" => "test what it holds with `has`: `x has \"value\"`",
                _ => "compare it: `x == \"value\"`, or test `x is not null`",
            }),
            K::NullComparison { op } => {
                let negation = if *op == "!=" { "not " } else { "" };
                Some(format!("test presence with `is {negation}null`"))
            }
            K::NullInList => text("test presence separately: `x is null or x in [...]`"),
            K::NullConstant => text("no test can use it; test presence with `x is null` instead"),
            K::BandOrderedNeverTrue { band, value, end, .. } => Some(format!(
                "band values are ordered by declaration, the first declared the highest; to test for the {end} value, write `{band} is {value}`"
            )),
            K::BandOrdered { op, band, other } => Some(format!(
                "compare each band with one of its own values: `{band} {op} VALUE and {other} {op} VALUE`"
            )),
            K::ThresholdOutOfRange {
                score, low, high, ..
            } => Some(format!(
                "`{score}` is clamped to {low}..{high}, so this test never changes; use a threshold inside the range"
            )),
            K::ValueNotAllowed {
                name,
                suggestion,
                allowed,
                ..
            } => Some(match suggestion {
                Some(v) => format!("did you mean \"{v}\"? `{name}` is one of: {allowed}"),
                None => format!("`{name}` is one of: {allowed}"),
            }),
            K::NestedAggregate => text("a `where` tests the props of one event"),
            K::AggregateOfNonNumber { prop, event, .. } => Some(format!(
                "`sum`, `min`, `max` and `avg` read a number prop; count its different values with \
                 `distinct count of {prop} in {event}`, or the events with `count of {event} where …`"
            )),
            K::ContactFieldInWhere { name, .. } => Some(format!(
                "inside a `where` a bare name is a prop of the event; write `contact.{name}` to read the contact's field"
            )),
            K::LintBranchNeverHolds { .. } => {
                text("its tests contradict each other; fix the condition or remove the branch")
            }
            K::LintBranchShadowed { .. } => text(
                "the first matching branch wins: move this branch above the one that covers it, or remove it",
            ),
            K::LintThresholdNeverMet { .. } => {
                text("change the threshold so that some value in the score's range meets it")
            }
            K::LintScoreCannotReach { .. } => {
                text("lower the threshold, or give the score rules that can reach it")
            }
            K::LintOverlappingWorkflows { .. } => text(
                "nurture tracks usually exclude each other: make the conditions disjoint (for example different band values)",
            ),
            K::LintNoCustomerSuppression { channel, .. } => Some(format!(
                "add `suppress customer on {channel} when lifecycle_stage == \"customer\"`"
            )),
            K::LintUnusedConstant { .. } => text("use it in a condition, or remove it"),
            K::LintUnusedSegment { .. } => {
                text("segments do not appear in results: use it in a condition, or remove it")
            }
            K::LintUnusedSuppression { .. } => text(
                "it is still listed in `suppressed`; remove it, or add it to a channel that has targets",
            ),
            K::LintExemptionOffChannel {
                suppression,
                channels,
                ..
            } => Some(format!(
                "the exemption changes nothing: `{suppression}` applies on {channels} only; remove it from `despite`"
            )),
            K::LintSuppressionAlwaysWaived { .. } => text(
                "it is still listed in `suppressed`; remove it, or take it out of a target's `despite`",
            ),
            K::LintUnusedChannel { name } => Some(format!(
                "put a target on it (`audience NAME on {name} when …`) or a suppression (`suppress NAME on {name} when …`), or remove it"
            )),
            K::LintConfusableTargetNames { .. } => text(
                "their `--out-dir` files are `%XX`-encoded apart, but people, upload scripts and case-insensitive file systems mix such names up: rename one",
            ),
            K::LintAscendingBandOrdered { band, values, .. } => Some(format!(
                "band values compare by declaration order, the first declared highest, not by size; `{band}` declares {values}: declare the highest value first"
            )),
            K::LintTableKeyNotAllowed { property, allowed, .. } => Some(format!(
                "`{property}` is one of {allowed}: fix the key, or remove the row"
            )),
            K::LintFallbackNeverUsed { .. } => text(
                "only a property's value can be missing (`queue from PROPERTY`, `assign to PROPERTY`); remove `otherwise …`",
            ),
            K::LintQueueLooksLikeTable { name, table } => Some(format!(
                "did you mean the table `{table}`? write `queue {table}` to look it up, or `queue \"{name}\"` for a queue of that name"
            )),
            K::LintNegationSkipsMissing {
                test,
                subject,
                whose,
                positive,
            } => Some(match positive {
                // A `where` takes no `not`: only the presence test fits there.
                _ if *whose == "events" => format!(
                    "every test on a missing value is false, except `is null`; to include events without `{subject}`, write `where ({subject} is null or {test})`"
                ),
                Some(positive) => format!(
                    "every test on a missing value is false, except `is null`; to include {whose} without `{subject}`, write `not ({positive})` or `{subject} is null or {test}`"
                ),
                None => format!(
                    "every test on a missing value is false, except `is null`; to include {whose} without `{subject}`, put `not (…)` around the test without its negation, or write `{subject} is null or …`"
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Code, DiagnosticKind as K, Lint, TypeAdvice};

    fn s(text: &str) -> String {
        String::from(text)
    }

    /// One kind of each code (several codes have more kinds).
    fn one_kind_per_code() -> Vec<K> {
        vec![
            K::SyntaxUnexpected {
                found: s("`}`"),
                hint: None,
            },
            K::LoneBackslash,
            K::NestingTooDeep { limit: 256 },
            K::NotANumber { text: s("1e") },
            K::UnknownName {
                name: s("x"),
                suggestion: None,
                schema: true,
            },
            K::AmbiguousName {
                name: s("x"),
                event: s("e"),
            },
            K::UnknownType {
                name: s("int"),
                suggestion: None,
            },
            K::UnknownEvent {
                name: s("e"),
                suggestion: None,
                declared: s("a, b"),
            },
            K::UnknownEventProp {
                event: s("e"),
                prop: s("p"),
                suggestion: None,
                props: s("a"),
            },
            K::UnknownFunction {
                name: s("f"),
                suggestion: None,
                functions: s("lower"),
            },
            K::WrongArity {
                function: "lower",
                found: 2,
            },
            K::UnknownChannel {
                name: s("sms"),
                suggestion: None,
                channels: s("ads, email, sales"),
            },
            K::UnknownBandValue {
                band: s("b"),
                value: s("v"),
                suggestion: None,
                values: s("hot, cold"),
            },
            K::BuiltinName { name: s("id") },
            K::DuplicateBranch {
                owner: s("b"),
                value: s("hot"),
            },
            K::DuplicateModifier { modifier: "max" },
            K::QueueNamesAProperty {
                name: s("owner"),
                field: "queue",
                what: "queue",
            },
            K::MissingFallback {
                route: s("r"),
                property: s("p"),
                what: "queue",
                in_branch: false,
            },
            K::DuplicateRouteField {
                route: s("r"),
                field: "sla",
            },
            K::MissingRouteField {
                route: s("r"),
                field: "task",
            },
            K::DuplicateGoalField {
                goal: s("g"),
                field: "horizon",
            },
            K::MissingGoalField {
                goal: s("g"),
                field: "outcome",
            },
            K::BandMissingOtherwise {
                band: s("b"),
                example: s("cold"),
            },
            K::UnreachableBranch {
                branch: s("cold"),
                owner: s("b"),
            },
            K::TooManyBandValues,
            K::EmptyScoreRange {
                score: s("fit"),
                value: s("5"),
            },
            K::InvertedMinMax {
                min: s("5"),
                max: s("1"),
            },
            K::MisplacedModifier { modifier: "decay" },
            K::DurationTooLong,
            K::UnknownRegexFlag { flag: 'g' },
            K::ExpectedType {
                what: s("within"),
                wanted: s("a timestamp"),
                subject: s("`x`"),
                ty: "a number",
                advice: TypeAdvice::Within,
            },
            K::NotACondition { found: "a number" },
            K::NullInList,
            K::BandOrdered {
                op: ">",
                band: s("b"),
                other: s("c"),
            },
            K::ThresholdOutOfRange {
                threshold: s("150"),
                score: s("fit"),
                low: s("0"),
                high: s("100"),
            },
            K::ValueNotAllowed {
                name: s("stage"),
                value: s("x"),
                suggestion: None,
                allowed: s("\"a\""),
            },
            K::NestedAggregate,
            K::Cycle {
                name: s("a"),
                chain: s("a → a"),
            },
            K::InternalIncomplete { context: s("rule") },
            K::LintBranchShadowed {
                branch: s("cold"),
                band: s("b"),
            },
            K::LintThresholdNeverMet {
                score: s("fit"),
                op: ">",
                threshold: s("100"),
                low: s("0"),
                high: s("100"),
            },
            K::LintScoreCannotReach {
                score: s("fit"),
                op: ">",
                threshold: s("90"),
                low: s("0"),
                high: s("20"),
            },
            K::LintOverlappingWorkflows {
                first: s("a"),
                second: s("b"),
            },
            K::LintNoCustomerSuppression {
                kind: "audience",
                name: s("a"),
                channel: "ads",
            },
            K::LintUnusedConstant { name: s("c") },
            K::LintUnusedSegment { name: s("s") },
            K::LintUnusedSuppression {
                name: s("s"),
                channels: s("`sales`"),
            },
            K::LintConfusableTargetNames {
                kind: "audience",
                first: s("ads x"),
                second: s("ads_x"),
            },
            K::LintNegationSkipsMissing {
                test: s("open_deal is not true"),
                subject: s("open_deal"),
                whose: "contacts",
                positive: Some(s("open_deal is true")),
            },
            K::LintAscendingBandOrdered {
                test: s("level >= 2"),
                band: s("level"),
                first: s("1"),
                values: s("1, 2, 3"),
            },
            K::LintExemptionOffChannel {
                kind: "audience",
                target: s("upsell"),
                suppression: s("opted_out"),
                channel: s("ads"),
                channels: s("`email`"),
            },
            K::LintUnusedChannel { name: s("sms") },
            K::LintTableKeyNotAllowed {
                table: s("t"),
                key: s("x"),
                property: s("p"),
                allowed: s("\"a\", \"b\""),
            },
            K::LintFallbackNeverUsed { fallback: s("x") },
            K::LintQueueLooksLikeTable {
                name: s("territry"),
                table: s("territory"),
            },
        ]
    }

    #[test]
    fn every_code_has_a_kind() {
        let kinds = one_kind_per_code();
        for code in Code::ALL {
            assert!(
                kinds.iter().any(|k| k.code() == *code),
                "no kind has the code {code}"
            );
        }
        assert_eq!(kinds.len(), Code::ALL.len(), "one kind per code");
    }

    #[test]
    fn messages_and_help_follow_the_style() {
        // Kinds that share a code with the one listed for it are checked too.
        let shared = [
            super::DiagnosticKind::AggregateOfNonNumber {
                aggregate: "sum of",
                prop: String::from("url"),
                event: String::from("page_view"),
                ty: "text",
            },
            super::DiagnosticKind::ContactFieldInWhere {
                name: String::from("country"),
                event: String::from("page_view"),
            },
        ];
        for kind in one_kind_per_code().into_iter().chain(shared) {
            let message = kind.to_string();
            let first = message.chars().next().unwrap_or(' ');
            assert!(!first.is_uppercase() && !message.ends_with('.'), "{message:?}");
            if let Some(help) = kind.help() {
                assert!(!help.ends_with('.'), "{help:?}");
            }
        }
    }

    #[test]
    fn lints_are_the_kinds_with_lint_codes() {
        for kind in one_kind_per_code() {
            let is_lint_code = kind.code().as_str().starts_with("rubric::lint::");
            assert_eq!(kind.lint().is_some(), is_lint_code, "{kind:?}");
        }
        assert_eq!(
            Lint::ALL.len(),
            Code::ALL
                .iter()
                .filter(|c| c.as_str().starts_with("rubric::lint::"))
                .count()
        );
    }
}
