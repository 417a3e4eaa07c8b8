//! The operators and aggregate kinds of the rule language, shared by the
//! syntax tree, the compiled plan, the evaluator and traces.
//!
//! They live here, apart from `syntax::ast`, so that the stages after the
//! compiler (`plan`, `eval`, `trace`) do not import the syntax tree. Each
//! variant names the syntax that produces it.

/// A comparison between two operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
}

impl CompareOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// A test of one text against another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    /// `a starts with b`
    StartsWith,
    /// `a ends with b`
    EndsWith,
    /// `a contains b`
    Contains,
}

impl TextOp {
    /// The operator as written.
    pub fn words(self) -> &'static str {
        match self {
            TextOp::StartsWith => "starts with",
            TextOp::EndsWith => "ends with",
            TextOp::Contains => "contains",
        }
    }
}

/// An arithmetic operator on numbers (`a + b`, `0.6 * fit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }

    /// `*` and `/` bind tighter than `+` and `-`.
    pub fn is_multiplicative(self) -> bool {
        matches!(self, ArithOp::Mul | ArithOp::Div)
    }

    /// Whether a chain whose first operator is `self`, written as a part of a
    /// chain of `parent` operators, needs parentheses to parse back as the
    /// same tree: a `+`/`-` chain always, a `*`/`/` chain inside another.
    /// (Parenthesising a `*` chain inside a `+` chain would change nothing.)
    pub fn needs_parentheses_in(self, parent: ArithOp) -> bool {
        !self.is_multiplicative() || parent.is_multiplicative()
    }

    /// The result; `None` for a division by zero or a result that is not a
    /// finite number.
    pub fn apply(self, left: f64, right: f64) -> Option<f64> {
        let result = match self {
            ArithOp::Add => left + right,
            ArithOp::Sub => left - right,
            ArithOp::Mul => left * right,
            ArithOp::Div if right == 0.0 => return None,
            ArithOp::Div => left / right,
        };
        result.is_finite().then_some(result)
    }
}

/// What an event aggregate computes over the matching events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateKind {
    /// `count of X …`: a number.
    Count,
    /// `any X …`: true when at least one event matches.
    Any,
    /// `last X …`: the time of the latest matching event.
    Last,
    /// `sum of P in X …`: the sum of the numbers `P` of the matching events (0 for none).
    Sum,
    /// `min of P in X …`: the least number `P` (missing for none).
    Min,
    /// `max of P in X …`: the greatest number `P` (missing for none).
    Max,
    /// `avg of P in X …`: the mean of the numbers `P` (missing for none).
    Avg,
    /// `distinct count of P in X …`: how many different values `P` has.
    DistinctCount,
    /// `first X …`: the time of the earliest matching event.
    First,
    /// `P of first X …`: the prop `P` of the earliest matching event.
    FirstProp,
    /// `P of last X …`: the prop `P` of the latest matching event.
    LastProp,
}

impl AggregateKind {
    /// The words that start the aggregate, as written (`count of`, `sum of`).
    pub fn words(self) -> &'static str {
        match self {
            AggregateKind::Count => "count of",
            AggregateKind::Any => "any",
            AggregateKind::Last => "last",
            AggregateKind::Sum => "sum of",
            AggregateKind::Min => "min of",
            AggregateKind::Max => "max of",
            AggregateKind::Avg => "avg of",
            AggregateKind::DistinctCount => "distinct count of",
            AggregateKind::First => "first",
            AggregateKind::FirstProp => "of first",
            AggregateKind::LastProp => "of last",
        }
    }

    /// Whether it reads a number from each event (`sum`, `min`, `max`, `avg`).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            AggregateKind::Sum | AggregateKind::Min | AggregateKind::Max | AggregateKind::Avg
        )
    }
}

/// How many of the listed texts a `has` test needs in the list: `has "x"`
/// (one), `has any of [...]`, `has all of [...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasQuantifier {
    One,
    Any,
    All,
}

impl HasQuantifier {
    /// The words after `has`, as written.
    pub fn words(self) -> &'static str {
        match self {
            HasQuantifier::One => "has",
            HasQuantifier::Any => "has any of",
            HasQuantifier::All => "has all of",
        }
    }
}
