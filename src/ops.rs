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

/// What an event aggregate computes over the matching events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateKind {
    /// `count of X …`: a number.
    Count,
    /// `any X …`: true when at least one event matches.
    Any,
    /// `last X …`: the time of the latest matching event.
    Last,
}
