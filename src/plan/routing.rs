//! The compiled routing of a route: where its queue and assignee come from
//! ([`Pick`]), lookup tables ([`Table`]), what evaluation chose
//! ([`Picked`]), and the round-robin hash every implementation must
//! reproduce bit for bit (docs/language.md, "Routing").

use std::collections::HashMap;

use super::Operand;
use crate::source::Span;

/// Where a queue or an assignee comes from. Literal names live once in
/// [`Routing::pick_names`]; a pick holds their indices.
#[derive(Debug)]
pub enum Pick {
    /// `na_sales`, `"owner"`: always this name.
    Name(u32),
    /// `territory`: the row of a table (an index into `Routing::tables`).
    Table(usize),
    /// `round robin [a, b, c]`: member `round_robin_index(id, n)`.
    RoundRobin(Vec<u32>),
    /// `from owner_queue` (a queue) or `owner` (after `assign to`): the
    /// property's text value, else the fallback, else nothing.
    Property {
        operand: Operand,
        name: String,
        fallback: Option<Box<Pick>>,
        /// The property as written, for wrong-type warnings.
        span: Span,
    },
}

/// The lookup tables and literal names that routes pick from.
#[derive(Debug, Default)]
pub struct Routing {
    pub tables: Vec<Table>,
    /// Every literal queue or assignee name (literals, table values, round
    /// robin members, fallbacks), each once.
    pub pick_names: Vec<String>,
}

impl Routing {
    /// The text of what was picked (`None` for nothing).
    pub fn text<'p>(&'p self, picked: &'p Picked) -> Option<&'p str> {
        match picked {
            Picked::Nothing => None,
            Picked::Name(i) => self.pick_names.get(*i as usize).map(String::as_str),
            Picked::Value(v) => Some(v),
        }
    }

    /// A literal name by index ("" for an index the compiler never made).
    pub fn name(&self, index: u32) -> &str {
        self.pick_names.get(index as usize).map_or("", String::as_str)
    }
}

/// `table territory by country ignoring case { "US" => na_sales … otherwise global_sales }`.
#[derive(Debug)]
pub struct Table {
    pub name: String,
    /// The property read, and its name for traces.
    pub key: Operand,
    pub key_name: String,
    pub ignoring_case: bool,
    /// The rows as written: key text and value (an index into `Routing::pick_names`).
    pub rows: Vec<(String, u32)>,
    /// Row index by key (case-folded with `ignoring case`).
    pub index: HashMap<String, u16>,
    /// The `otherwise` value.
    pub otherwise: u32,
    pub span: Span,
}

/// What evaluation picked for one route's queue or assignee.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Picked {
    /// Nothing: no assignee declared, a property without a text value and no
    /// fallback, or the route does not hold.
    #[default]
    Nothing,
    /// A name of `Routing::pick_names`.
    Name(u32),
    /// A property's text value.
    Value(String),
}

/// Per route: the queue and the assignee chosen for a routed contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutePicks {
    pub queue: Picked,
    pub assignee: Picked,
}

/// The FNV-1a 64-bit hash of `id`'s UTF-8 bytes: offset basis
/// 0xcbf29ce484222325, prime 0x100000001b3, for each byte `h = (h ^ byte) *
/// prime` wrapping at 2^64.
pub fn fnv1a_64(id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The member of a round robin of `members` names that the contact `id`
/// gets: `fnv1a_64(id) mod members` (0 for an empty list, which the
/// compiler refuses).
pub fn round_robin_index(id: &str, members: usize) -> usize {
    match u64::try_from(members) {
        Ok(n) if n > 0 => usize::try_from(fnv1a_64(id) % n).unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed by hand from the definition (and checked against the
    /// published FNV-1a test vectors: "" and "a").
    #[test]
    fn fnv1a_matches_the_published_vectors_and_hand_computed_indices() {
        assert_eq!(fnv1a_64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64("foobar"), 0x85944171f73967e8);
        assert_eq!(
            round_robin_index("a", 3),
            (0xaf63_dc4c_8601_ec8c_u64 % 3) as usize
        );
        assert_eq!(round_robin_index("anything", 1), 0);
        assert_eq!(round_robin_index("anything", 0), 0);
    }
}

/// What a routed contact's task says: the queue, the assignee (outer `None`
/// when the route declares none) and the SLA of the chosen branch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutedTask<'p> {
    pub queue: &'p str,
    pub assignee: Option<Option<&'p str>>,
    pub sla_hours: f64,
}

impl super::Route {
    /// The task of a contact routed through queue branch `branch` with `picks`.
    pub fn task_for<'p>(
        &'p self,
        routing: &'p Routing,
        branch: u16,
        picks: Option<&'p RoutePicks>,
    ) -> RoutedTask<'p> {
        let chosen = self.queue.get(usize::from(branch));
        let queue = picks.and_then(|p| routing.text(&p.queue)).unwrap_or("");
        let assignee = self
            .assignee
            .as_ref()
            .map(|_| picks.and_then(|p| routing.text(&p.assignee)));
        RoutedTask {
            queue,
            assignee,
            sla_hours: chosen.and_then(|b| b.sla_hours).unwrap_or(self.sla_hours),
        }
    }
}
