//! Reading contact snapshots (docs/formats.md): JSON Lines (optionally gzip) and CSV,
//! decoded straight into the slots a compiled plan asks for, with bad-line
//! reporting.
//!
//! Architecture Invariant: nothing here knows about rules. The plan hands the
//! reader a [`DecodeSpec`] (which properties, event types and event props it
//! reads, each mapped to a slot index) and the reader fills a [`Contact`]
//! whose vectors are indexed by those slots. Everything else on the line is
//! validated where docs/formats.md demands it and then skipped without being stored.

mod csv_input;
mod declared;
mod find;
mod id_set;
mod input;
mod jsonl;
mod lines;
mod rejects;
mod timestamp;

pub use csv_input::CsvReader;
pub use declared::{boolean_from_text, kind_name, number_from_text};
pub use find::find_contacts;
pub use id_set::IdSet;
pub use input::{
    lines_of, open_input, open_snapshot_input, Block, BlockReader, InputFormat, LineReader, OpenedInput,
};
pub use jsonl::decode_line;
pub(crate) use jsonl::describe_json_error;
pub use lines::{
    csv_batches, decode_lines, decode_numbered_line, id_of_bad_line, repeated_id, InputOrder, Line, Verdict,
    BATCH_LINES,
};
pub use rejects::{Rejects, SHOWN_REJECTS};
pub use timestamp::{format_timestamp, parse_timestamp};

/// Name → slot, with a fast hasher (names are looked up for every key of every line).
pub type SlotMap = std::collections::HashMap<String, usize, rustc_hash::FxBuildHasher>;

/// A declared type the reader may use to convert untyped input (CSV cells),
/// or text where the schema opts in (`number from text`), and to tell a
/// value of the wrong type ([`DeclaredType::is_wrong_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclaredType {
    Text,
    Number,
    Boolean,
    Timestamp,
    /// `number from text`: a number, or text that converts to one.
    NumberFromText,
    /// `boolean from text`: a boolean, or `"true"` / `"false"` as text.
    BooleanFromText,
    /// `list` or `list separated by "…"`: a JSON array of texts, or a text.
    List,
}

/// What the plan reads from each contact, by name, mapped to dense slots.
#[derive(Debug, Clone, Default)]
pub struct DecodeSpec {
    /// Contact property name → slot in [`Contact::props`].
    pub properties: SlotMap,
    /// Declared type of each property slot, when the rule set has a schema.
    /// Same length as the number of property slots.
    pub property_types: Vec<Option<DeclaredType>>,
    /// Event type name → slot in [`Contact::events`].
    pub event_types: SlotMap,
    /// For each event type slot: event prop name → slot in [`Event::props`].
    pub event_props: Vec<SlotMap>,
}

impl DecodeSpec {
    pub fn property_slot_count(&self) -> usize {
        self.property_types.len().max(self.properties.len())
    }
}

/// A scalar value read from a contact in the snapshot: a property or an event prop.
///
/// `Missing` (key absent) and `Null` behave the same in every comparison;
/// they are kept apart only so a trace can say which it was.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum FieldValue {
    #[default]
    Missing,
    Null,
    Bool(bool),
    Number(f64),
    Text(compact_str::CompactString),
    /// A JSON array whose elements are all texts (a multi-select value):
    /// `has` tests it; every other test sees a wrong type, as for `Composite`.
    /// Its texts are [`Contact::lists`]`[index]` (see [`Contact::list`]), so
    /// that `Text` stays the only variant that owns memory and dropping a
    /// value stays one inlined check.
    List(u32),
    /// A JSON array or object where a scalar was expected; compares as a wrong type.
    Composite,
}

impl FieldValue {
    pub fn is_absent(&self) -> bool {
        matches!(self, FieldValue::Missing | FieldValue::Null)
    }
}

/// The prop slots of one event.
pub type EventSlots = smallvec::SmallVec<[FieldValue; 2]>;

/// One event of a type the plan reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Microseconds since the Unix epoch (UTC).
    pub at_micros: i64,
    /// Indexed by the event type's prop slots; `FieldValue::Missing` when absent.
    /// Inline for up to two props (rules read few props of an event), so that
    /// an event costs no allocation of its own.
    pub props: EventSlots,
}

/// One accepted contact, decoded into the plan's slots.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contact {
    pub id: String,
    pub email: Option<String>,
    /// Indexed by property slot; `FieldValue::Missing` when the key is absent.
    pub props: Vec<FieldValue>,
    /// Indexed by event type slot; events of types the plan does not read are
    /// validated and dropped. Within a slot, events keep input order.
    pub events: Vec<Vec<Event>>,
    /// The texts of the contact's list values (properties and event props),
    /// indexed by [`FieldValue::List`]; empty, and unallocated, for a contact
    /// without lists.
    pub lists: Vec<Box<[compact_str::CompactString]>>,
}

impl Contact {
    /// The texts of the list value `FieldValue::List(index)`; empty for an
    /// index the contact does not hold.
    pub fn list(&self, index: u32) -> &[compact_str::CompactString] {
        usize::try_from(index)
            .ok()
            .and_then(|index| self.lists.get(index))
            .map_or(&[], |items| items)
    }
}

/// Why a line was rejected (docs/formats.md#rejected-lines): reported with
/// its line number, skipped, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number in the input (blank lines count).
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}
