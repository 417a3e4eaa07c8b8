//! Decoding one JSON Lines contact (docs/formats.md) straight into a plan's slots.
//!
//! The line is never parsed into a `serde_json::Value`: serde visitors walk it
//! once, keep only the properties, event types and event props that the
//! [`DecodeSpec`] names, validate what docs/formats.md requires of everything else and
//! skip the rest with [`IgnoredAny`]. Keys are matched as borrowed `&str`
//! (a transient buffer for keys with escapes), so no key is ever allocated.
//!
//! Duplicate keys: **the first occurrence wins**, like docs/formats.md's "the first
//! line with an id wins". Later occurrences of a key are still validated (a
//! second `"id": 5` rejects the line) but their values are not stored. This
//! also holds inside `properties`, inside an event and inside its `props`.
//! First-wins is what a single streaming pass can do exactly: an event's
//! `props` are decoded by its `type`, which may come later in the object.
//!
//! Speed: the seeds' `deserialize` and the object visitors are marked
//! `#[inline]` so that LLVM keeps them inlined into one function per line
//! (`ContactSeed::visit_map`); without the marks a small change elsewhere
//! (the list arena) made them calls and cost 2.5 % of the reference
//! playbook's `run` (docs/performance.md, "Issue 13's second part").
//!
//! Rejection reasons are lower case and specific. Reasons about the contact's
//! shape are recorded by the visitor that finds the problem (serde_json only
//! carries a placeholder); syntax errors come from serde_json with their
//! column.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::timestamp::parse_timestamp;
use super::{Contact, DecodeSpec, Event, EventSlots, FieldValue, SlotMap};

/// Decodes one line of a JSON Lines snapshot.
///
/// Returns `Ok(None)` for a blank line (only spaces, tabs, `\r`, `\n`), which
/// the caller skips but still counts; `Err(reason)` when the line must be
/// rejected; otherwise the contact with [`Contact::props`] of length
/// [`DecodeSpec::property_slot_count`] and [`Contact::events`] of length
/// `spec.event_types.len()`.
///
/// INVARIANT: slots in `spec` are dense (`0..len` of their map); a slot index
/// outside that range is ignored, never a panic.
pub fn decode_line(spec: &DecodeSpec, line: &str) -> Result<Option<Contact>, String> {
    if line.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
        return Ok(None);
    }
    match decode_contact(spec, line, Reason::default()) {
        Ok(contact) => Ok(Some(contact)),
        Err(Rejected::NumberOutOfRange(_)) => {
            // The slow path, for the rare line that holds one: decode it again
            // keeping such numbers as text (docs/decisions.md, "Numbers out of
            // range"). The common path pays nothing for it.
            let again = Reason {
                keep_numbers_out_of_range: true,
                ..Reason::default()
            };
            match decode_contact(spec, line, again) {
                Ok(contact) => Ok(Some(contact)),
                Err(Rejected::Reason(reason) | Rejected::NumberOutOfRange(reason)) => Err(reason),
            }
        }
        Err(Rejected::Reason(reason)) => Err(reason),
    }
}

/// Why [`decode_contact`] rejected a line.
enum Rejected {
    /// A number beyond the range of `f64`, which serde_json refuses to parse
    /// (the reason names it).
    NumberOutOfRange(String),
    Reason(String),
}

/// One decoding pass over a line that is not blank.
fn decode_contact(spec: &DecodeSpec, line: &str, reason: Reason) -> Result<Contact, Rejected> {
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let decoded = ContactSeed {
        spec,
        reason: &reason,
    }
    .deserialize(&mut deserializer)
    .and_then(|contact| deserializer.end().map(|()| contact));
    decoded.map_err(|error| {
        // A rejected line leaves the lists it read behind.
        drop(take_lists());
        match reason.take() {
            Some(reason) => Rejected::Reason(reason),
            None if error.is_syntax() && error.to_string().starts_with("number out of range") => {
                Rejected::NumberOutOfRange(describe_json_error(&error))
            }
            None => Rejected::Reason(describe_json_error(&error)),
        }
    })
}

/// Turns a serde_json error into `not valid JSON: <what> at column <n>`.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if error.line() == 0 {
        return format!("not valid JSON: {text}");
    }
    let position = format!(" at line {} column {}", error.line(), error.column());
    let what = text.strip_suffix(&position).unwrap_or(&text);
    format!("not valid JSON: {what} at column {}", error.column())
}

/// The reason a visitor rejected the line; serde_json only sees a
/// placeholder. It also carries how the pass reads numbers out of range.
#[derive(Default)]
struct Reason {
    message: Cell<Option<String>>,
    /// The second pass over a line holding a number beyond the range of
    /// `f64`: property values are taken as raw text first, so that such a
    /// number is kept as text, as written.
    keep_numbers_out_of_range: bool,
}

impl Reason {
    /// Records `message` (the first one wins) and returns an error that stops
    /// the parse.
    fn reject<E: de::Error>(&self, message: String) -> E {
        let first = self.message.take().unwrap_or(message);
        self.message.set(Some(first));
        E::custom("line rejected")
    }

    fn take(&self) -> Option<String> {
        self.message.take()
    }
}

thread_local! {
    /// The texts of the list values of the line being decoded on this
    /// thread, in the order read (a [`FieldValue::List`] is an index into
    /// them), until the contact takes them as its [`Contact::lists`]. Kept
    /// here rather than in a seed so that the decoder's visitors, inlined
    /// into one function, stay as small as they were without lists
    /// (docs/performance.md, "Issue 13's second part").
    static LISTS: Cell<Vec<Box<[compact_str::CompactString]>>> = const { Cell::new(Vec::new()) };
}

/// Keeps the texts of a list value and returns the value.
#[inline(never)]
fn push_list(texts: Vec<compact_str::CompactString>) -> FieldValue {
    LISTS.with(|lists| {
        let mut kept = lists.take();
        let value = u32::try_from(kept.len()).map_or(FieldValue::Composite, FieldValue::List);
        kept.push(texts.into_boxed_slice());
        lists.set(kept);
        value
    })
}

/// The list texts read since the last call (for the contact just decoded,
/// or left by a rejected line).
fn take_lists() -> Vec<Box<[compact_str::CompactString]>> {
    LISTS.with(Cell::take)
}

/// The kind of a JSON value, for "must be a string, found number".
#[derive(Debug, Clone, Copy)]
enum Kind {
    String,
    Number,
    Boolean,
    Null,
    Array,
    Object,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Null => "null",
            Kind::Array => "array",
            Kind::Object => "object",
        })
    }
}

/// Implements the `visit_*` methods for the listed JSON kinds by calling the
/// visitor's `wrong_kind(kind)`, which builds the rejection.
macro_rules! reject_kinds {
    ($($kind:ident),* $(,)?) => { $( reject_kinds!(@one $kind); )* };
    (@one boolean) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err(self.wrong_kind(Kind::Boolean))
        }
    };
    (@one number) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(self.wrong_kind(Kind::Number))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(self.wrong_kind(Kind::Number))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err(self.wrong_kind(Kind::Number))
        }
    };
    (@one string) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(self.wrong_kind(Kind::String))
        }
    };
    (@one null) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err(self.wrong_kind(Kind::Null))
        }
    };
    (@one array) => {
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.wrong_kind(Kind::Array))
        }
    };
    (@one object) => {
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.wrong_kind(Kind::Object))
        }
    };
}

/// `"event 2: "` inside the events array, nothing at the top level.
#[derive(Debug, Clone, Copy)]
struct Place(Option<usize>);

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(index) => write!(f, "event {index}: "),
            None => Ok(()),
        }
    }
}

/// A user's string inside a reason: quoted, escaped, and cut at 60 characters.
fn quoted(s: &str) -> String {
    const LIMIT: usize = 60;
    match s.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{:?}…", s.get(..cut).unwrap_or(s)),
        None => format!("{s:?}"),
    }
}

// ---------------------------------------------------------------------------
// Keys

/// Deserializes a map key into whatever `classify` makes of the `&str`,
/// borrowed from the line or from serde_json's scratch buffer; never allocates.
struct KeySeed<F>(F);

impl<'de, F: FnOnce(&str) -> K, K> DeserializeSeed<'de> for KeySeed<F> {
    type Value = K;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, F: FnOnce(&str) -> K, K> Visitor<'de> for KeySeed<F> {
    type Value = K;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<K, E> {
        Ok((self.0)(key))
    }
}

/// Looks a key up in a slot map.
fn slot_of<'m>(names: &'m SlotMap) -> impl FnOnce(&str) -> Option<usize> + 'm {
    move |key| names.get(key).copied()
}

/// A key kept as text, borrowed when it has no escapes (buffered event props).
struct CowKeySeed;

impl<'de> DeserializeSeed<'de> for CowKeySeed {
    type Value = Cow<'de, str>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for CowKeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

// ---------------------------------------------------------------------------
// Scalars

/// A JSON string field such as `id`, `email`, `type` or `at`; `null` is
/// accepted (as `None`) only when `nullable`.
struct StringSeed<'r> {
    field: &'static str,
    place: Place,
    nullable: bool,
    reason: &'r Reason,
}

impl StringSeed<'_> {
    fn wrong_kind<E: de::Error>(&self, kind: Kind) -> E {
        self.reason.reject(format!(
            "{}\"{}\" must be a string, found {kind}",
            self.place, self.field
        ))
    }
}

impl<'de> DeserializeSeed<'de> for StringSeed<'_> {
    type Value = Option<Cow<'de, str>>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StringSeed<'_> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        if self.nullable {
            Ok(None)
        } else {
            Err(self.wrong_kind(Kind::Null))
        }
    }

    reject_kinds!(boolean, number, array, object);
}

/// A property value: any JSON value; arrays and objects are skipped and
/// become [`FieldValue::Composite`].
///
/// With `keep_numbers_out_of_range` (the second pass of a line that holds a
/// number beyond the range of `f64`, see [`decode_line`]), the value is first
/// taken as its raw text (which checks its syntax) and then parsed; parsing
/// valid JSON can then only fail on such a number, and the value is kept as
/// text, as written: a wrong type for every numeric test, like the CSV cell
/// `1e400`.
#[derive(Clone, Copy)]
struct ValueSeed {
    keep_numbers_out_of_range: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = FieldValue;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<FieldValue, D::Error> {
        if !self.keep_numbers_out_of_range {
            return deserializer.deserialize_any(self);
        }
        let raw = <&'de serde_json::value::RawValue>::deserialize(deserializer)?;
        let mut value_deserializer = serde_json::Deserializer::from_str(raw.get());
        // Only a number can fail here; inside an array (a list holding a
        // number) the value is a list or object, as without the number.
        Ok(value_deserializer.deserialize_any(self).unwrap_or_else(|_| {
            if raw.get().starts_with('[') {
                FieldValue::Composite
            } else {
                FieldValue::Text(raw.get().into())
            }
        }))
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = FieldValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<FieldValue, E> {
        Ok(FieldValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(v.into()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Null)
    }

    /// An array of texts is a list (a multi-select value); any other array
    /// is a list or object.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue, A::Error> {
        let mut texts = Vec::new();
        let mut all_texts = true;
        while let Some(ListElement(element)) = seq.next_element()? {
            match element {
                Some(text) if all_texts => texts.push(text),
                _ => all_texts = false,
            }
        }
        Ok(if all_texts {
            push_list(texts)
        } else {
            FieldValue::Composite
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldValue, A::Error> {
        IgnoredAny.visit_map(map)?;
        Ok(FieldValue::Composite)
    }
}

/// One element of an array value: `Some` text, or `None` for anything else
/// (skipped).
struct ListElement(Option<compact_str::CompactString>);

impl<'de> Deserialize<'de> for ListElement {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ListElement, D::Error> {
        deserializer.deserialize_any(ListElementVisitor)
    }
}

struct ListElementVisitor;

impl<'de> Visitor<'de> for ListElementVisitor {
    type Value = ListElement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ListElement, E> {
        Ok(ListElement(Some(v.into())))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ListElement, E> {
        Ok(ListElement(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ListElement, E> {
        Ok(ListElement(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ListElement, E> {
        Ok(ListElement(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ListElement, E> {
        Ok(ListElement(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<ListElement, E> {
        Ok(ListElement(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ListElement, A::Error> {
        IgnoredAny.visit_seq(seq)?;
        Ok(ListElement(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ListElement, A::Error> {
        IgnoredAny.visit_map(map)?;
        Ok(ListElement(None))
    }
}

// ---------------------------------------------------------------------------
// Property objects (`properties` and an event's `props`)

/// Where the entries of a property object go.
enum PropsTarget<'t, 'de> {
    /// Store the named keys into their slots (first occurrence wins).
    Slots {
        names: &'t SlotMap,
        slots: &'t mut [FieldValue],
    },
    /// Keep every entry: an event's `props` seen before its `type`.
    Buffer(&'t mut Vec<(Cow<'de, str>, FieldValue)>),
    /// Check that it is an object (or null) and store nothing.
    Validate,
}

/// An object of properties, or `null` (absent). Returns whether it was an
/// object.
struct PropsSeed<'t, 'r, 'de> {
    field: &'static str,
    place: Place,
    target: PropsTarget<'t, 'de>,
    reason: &'r Reason,
}

impl PropsSeed<'_, '_, '_> {
    fn wrong_kind<E: de::Error>(&self, kind: Kind) -> E {
        self.reason.reject(format!(
            "{}\"{}\" must be an object, found {kind}",
            self.place, self.field
        ))
    }
}

impl<'de> DeserializeSeed<'de> for PropsSeed<'_, '_, 'de> {
    type Value = bool;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PropsSeed<'_, '_, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let value_seed = ValueSeed {
            keep_numbers_out_of_range: self.reason.keep_numbers_out_of_range,
        };
        match self.target {
            PropsTarget::Slots { names, slots } => {
                while let Some(slot) = map.next_key_seed(KeySeed(slot_of(names)))? {
                    match slot.and_then(|slot| slots.get_mut(slot)) {
                        Some(value @ FieldValue::Missing) => *value = map.next_value_seed(value_seed)?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
            }
            PropsTarget::Buffer(entries) => {
                while let Some(key) = map.next_key_seed(CowKeySeed)? {
                    let value = map.next_value_seed(value_seed)?;
                    entries.push((key, value));
                }
            }
            PropsTarget::Validate => {
                IgnoredAny.visit_map(map)?;
            }
        }
        Ok(true)
    }

    reject_kinds!(boolean, number, string, array);
}

// ---------------------------------------------------------------------------
// Events

/// The `events` array, or `null` (absent). Events of read types are pushed to
/// `store` when it is given (first `events` key), else only validated.
struct EventsSeed<'t, 'r> {
    spec: &'t DecodeSpec,
    store: Option<&'t mut Vec<Vec<Event>>>,
    reason: &'r Reason,
}

impl EventsSeed<'_, '_> {
    fn wrong_kind<E: de::Error>(&self, kind: Kind) -> E {
        self.reason
            .reject(format!("\"events\" must be an array, found {kind}"))
    }
}

impl<'de> DeserializeSeed<'de> for EventsSeed<'_, '_> {
    type Value = ();

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            index += 1;
            let seed = EventSeed {
                spec: self.spec,
                index,
                reason: self.reason,
            };
            match seq.next_element_seed(seed)? {
                None => return Ok(()),
                Some(None) => {}
                Some(Some((type_slot, event))) => {
                    if let Some(list) = self
                        .store
                        .as_deref_mut()
                        .and_then(|events| events.get_mut(type_slot))
                    {
                        list.push(event);
                    }
                }
            }
        }
    }

    reject_kinds!(boolean, number, string, object);
}

/// One event (1-based `index`). Returns its type slot and the event when the
/// plan reads its type, `None` when the type is valid but unread.
struct EventSeed<'t, 'r> {
    spec: &'t DecodeSpec,
    index: usize,
    reason: &'r Reason,
}

impl EventSeed<'_, '_> {
    fn wrong_kind<E: de::Error>(&self, kind: Kind) -> E {
        self.reason
            .reject(format!("event {} must be an object, found {kind}", self.index))
    }

    fn place(&self) -> Place {
        Place(Some(self.index))
    }

    fn string_seed(&self, field: &'static str) -> StringSeed<'_> {
        StringSeed {
            field,
            place: self.place(),
            nullable: false,
            reason: self.reason,
        }
    }
}

enum EventKey {
    Type,
    At,
    Props,
    Other,
}

fn event_key(key: &str) -> EventKey {
    match key {
        "type" => EventKey::Type,
        "at" => EventKey::At,
        "props" => EventKey::Props,
        _ => EventKey::Other,
    }
}

/// An event's `props` while its object is being read.
enum EventProps<'de> {
    /// No `props` key yet.
    Unseen,
    /// `props` was null, or the event's type is not read.
    Absent,
    /// Decoded into the slots of the (already known) type.
    Slots(EventSlots),
    /// Came before `type`: every entry kept until the type is known.
    Buffered(Vec<(Cow<'de, str>, FieldValue)>),
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_, '_> {
    type Value = Option<(usize, Event)>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventSeed<'_, '_> {
    type Value = Option<(usize, Event)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let spec = self.spec;
        // `Some(None)`: a valid type the plan does not read.
        let mut type_slot: Option<Option<usize>> = None;
        let mut at_micros: Option<i64> = None;
        let mut props = EventProps::Unseen;

        while let Some(key) = map.next_key_seed(KeySeed(event_key))? {
            match key {
                EventKey::Type => {
                    let name = map.next_value_seed(self.string_seed("type"))?;
                    if type_slot.is_none() {
                        let slot = name.and_then(|name| spec.event_types.get(&*name).copied());
                        type_slot = Some(slot);
                    }
                }
                EventKey::At => {
                    let text = map.next_value_seed(self.string_seed("at"))?.unwrap_or_default();
                    let Some(micros) = parse_timestamp(&text) else {
                        return Err(self.reason.reject(format!(
                            "{}\"at\" is not an RFC 3339 timestamp with an offset: {}",
                            self.place(),
                            quoted(&text)
                        )));
                    };
                    at_micros.get_or_insert(micros);
                }
                EventKey::Props => {
                    let mut decoded = None;
                    let mut buffer = Vec::new();
                    let target = match (&props, type_slot) {
                        (EventProps::Unseen, Some(Some(slot))) => match spec.event_props.get(slot) {
                            Some(names) => PropsTarget::Slots {
                                names,
                                slots: decoded.insert(smallvec::smallvec![FieldValue::Missing; names.len()]),
                            },
                            None => PropsTarget::Validate,
                        },
                        (EventProps::Unseen, None) => PropsTarget::Buffer(&mut buffer),
                        _ => PropsTarget::Validate,
                    };
                    let is_object = map.next_value_seed(PropsSeed {
                        field: "props",
                        place: self.place(),
                        target,
                        reason: self.reason,
                    })?;
                    if matches!(props, EventProps::Unseen) {
                        props = match (is_object, decoded, type_slot) {
                            (false, _, _) => EventProps::Absent,
                            (true, Some(slots), _) => EventProps::Slots(slots),
                            (true, None, None) => EventProps::Buffered(buffer),
                            (true, None, Some(_)) => EventProps::Absent,
                        };
                    }
                }
                EventKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let Some(type_slot) = type_slot else {
            return Err(self.reason.reject(format!("{}missing \"type\"", self.place())));
        };
        let Some(at_micros) = at_micros else {
            return Err(self.reason.reject(format!("{}missing \"at\"", self.place())));
        };
        let Some(type_slot) = type_slot else {
            return Ok(None);
        };
        let names = spec.event_props.get(type_slot);
        let slot_count = names.map_or(0, SlotMap::len);
        let props = match props {
            EventProps::Slots(slots) => slots,
            EventProps::Unseen | EventProps::Absent => smallvec::smallvec![FieldValue::Missing; slot_count],
            EventProps::Buffered(entries) => {
                let mut slots: EventSlots = smallvec::smallvec![FieldValue::Missing; slot_count];
                if let Some(names) = names {
                    for (key, value) in entries {
                        if let Some(slot @ FieldValue::Missing) =
                            names.get(&*key).and_then(|&slot| slots.get_mut(slot))
                        {
                            *slot = value;
                        }
                    }
                }
                slots
            }
        };
        Ok(Some((type_slot, Event { at_micros, props })))
    }

    reject_kinds!(boolean, number, string, null, array);
}

// ---------------------------------------------------------------------------
// The contact

struct ContactSeed<'t, 'r> {
    spec: &'t DecodeSpec,
    reason: &'r Reason,
}

impl ContactSeed<'_, '_> {
    fn wrong_kind<E: de::Error>(&self, kind: Kind) -> E {
        self.reason
            .reject(format!("expected a JSON object, found {kind}"))
    }

    fn string_seed(&self, field: &'static str, nullable: bool) -> StringSeed<'_> {
        StringSeed {
            field,
            place: Place(None),
            nullable,
            reason: self.reason,
        }
    }
}

enum ContactKey {
    Id,
    Email,
    Properties,
    Events,
    Other,
}

fn contact_key(key: &str) -> ContactKey {
    match key {
        "id" => ContactKey::Id,
        "email" => ContactKey::Email,
        "properties" => ContactKey::Properties,
        "events" => ContactKey::Events,
        _ => ContactKey::Other,
    }
}

impl<'de> DeserializeSeed<'de> for ContactSeed<'_, '_> {
    type Value = Contact;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Contact, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ContactSeed<'_, '_> {
    type Value = Contact;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a contact object")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Contact, A::Error> {
        let spec = self.spec;
        let mut id: Option<String> = None;
        // `Some(None)`: `"email": null`.
        let mut email: Option<Option<String>> = None;
        let mut props = vec![FieldValue::Missing; spec.property_slot_count()];
        let mut properties_seen = false;
        let mut events = vec![Vec::new(); spec.event_types.len()];
        let mut events_seen = false;

        while let Some(key) = map.next_key_seed(KeySeed(contact_key))? {
            match key {
                ContactKey::Id => {
                    let value = map.next_value_seed(self.string_seed("id", false))?;
                    if id.is_none() {
                        id = value.map(Cow::into_owned);
                    }
                }
                ContactKey::Email => {
                    let value = map.next_value_seed(self.string_seed("email", true))?;
                    email.get_or_insert_with(|| value.map(Cow::into_owned));
                }
                ContactKey::Properties => {
                    let target = if properties_seen {
                        PropsTarget::Validate
                    } else {
                        PropsTarget::Slots {
                            names: &spec.properties,
                            slots: &mut props,
                        }
                    };
                    map.next_value_seed(PropsSeed {
                        field: "properties",
                        place: Place(None),
                        target,
                        reason: self.reason,
                    })?;
                    properties_seen = true;
                }
                ContactKey::Events => {
                    map.next_value_seed(EventsSeed {
                        spec,
                        store: (!events_seen).then_some(&mut events),
                        reason: self.reason,
                    })?;
                    events_seen = true;
                }
                ContactKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let Some(id) = id else {
            return Err(self.reason.reject("missing \"id\"".to_owned()));
        };
        if id.is_empty() {
            return Err(self.reason.reject("\"id\" is empty".to_owned()));
        }
        Ok(Contact {
            id,
            email: email.flatten(),
            props,
            events,
            lists: take_lists(),
        })
    }

    reject_kinds!(boolean, number, string, null, array);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value as Json;

    /// Properties `job_title`, `company_size`, `owner`, `tags` in slots 0..4;
    /// event types `page_view` (props `url`) and `form_submit` (props `form`,
    /// `page`). `email_click` and everything else is not read.
    fn spec() -> DecodeSpec {
        let map = |names: &[&str]| -> SlotMap {
            names
                .iter()
                .enumerate()
                .map(|(slot, name)| ((*name).to_owned(), slot))
                .collect()
        };
        DecodeSpec {
            properties: map(&["job_title", "company_size", "owner", "tags"]),
            property_types: vec![None; 4],
            event_types: map(&["page_view", "form_submit"]),
            event_props: vec![map(&["url"]), map(&["form", "page"])],
        }
    }

    fn decode(line: &str) -> Contact {
        decode_line(&spec(), line).unwrap().unwrap()
    }

    fn reject(line: &str) -> String {
        decode_line(&spec(), line).unwrap_err()
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    /// `2026-11-25T09:00:00Z` (checked with `date -u -d ... +%s`).
    const T1_MICROS: i64 = 1_795_597_200_000_000;

    /// Regression (issue 17, item 12): `1e400` under `company_size`
    /// rejected the line, under an unused key it was accepted. Now such a
    /// number never rejects a line by itself.
    #[test]
    fn numbers_out_of_range_are_kept_as_text_wherever_they_are() {
        // A property a rule reads.
        let contact = decode(r#"{"id":"a","properties":{"company_size":1e400,"owner":-2E+999}}"#);
        assert_eq!(contact.props[1], text("1e400"));
        assert_eq!(contact.props[2], text("-2E+999"));
        // An integer too long for f64 is the same.
        let digits = "9".repeat(400);
        let contact = decode(&format!(
            r#"{{"id":"a","properties":{{"company_size":{digits}}}}}"#
        ));
        assert_eq!(contact.props[1], FieldValue::Text(digits.as_str().into()));
        // A property no rule reads, and a second occurrence of a read one.
        let contact =
            decode(r#"{"id":"a","properties":{"industry":1e400,"company_size":250,"company_size":1e400}}"#);
        assert_eq!(contact.props[1], FieldValue::Number(250.0));
        // An event prop, slotted directly and buffered before its type.
        let contact = decode(
            r#"{"id":"a","events":[{"type":"page_view","at":"2026-11-25T09:00:00Z","props":{"url":1e400}},{"props":{"form":1e400,"zzz":1e400},"at":"2026-11-25T09:00:00Z","type":"form_submit"}]}"#,
        );
        assert_eq!(contact.events[0][0].props[0], text("1e400"));
        assert_eq!(contact.events[1][0].props[0], text("1e400"));
        // Nested in a list or object, read or not, and in keys nobody reads.
        let contact = decode(
            r#"{"id":"a","extra":{"deep":[1e400]},"properties":{"tags":[1e400],"job_title":{"x":1e400},"other":{"y":1e400}},"events":[{"type":"email_click","at":"2026-11-25","props":{"n":1e400}}]}"#,
        );
        assert_eq!(contact.props[3], FieldValue::Composite);
        assert_eq!(contact.props[0], FieldValue::Composite);
        // Numbers that fit are unchanged, and tiny ones round to zero as before.
        let contact = decode(r#"{"id":"a","properties":{"company_size":1.7e308,"owner":1e-400}}"#);
        assert_eq!(contact.props[1], FieldValue::Number(1.7e308));
        assert_eq!(contact.props[2], FieldValue::Number(0.0));
        // Where a string is required, any number rejects the line.
        assert!(reject(r#"{"id":1e400}"#).contains("number out of range"));
        assert!(reject(r#"{"id":"a","events":[{"type":"page_view","at":1e400}]}"#)
            .contains("number out of range"));
        // A line that is broken elsewhere keeps its own reason.
        let reason = reject(r#"{"id":"a","properties":{"company_size":1e400},"events":"x"}"#);
        assert!(reason.contains(r#""events" must be an array"#), "{reason}");
    }

    #[test]
    fn spec_example_fills_the_slots() {
        let line = r#"{"id":"c-1001","email":"Ana.Lee@Acme.io",
 "properties":{"job_title":"VP Marketing","company_size":250,"industry":"Software",
               "country":"US","lifecycle_stage":"lead","owner":null,"open_deal":false},
 "events":[{"type":"page_view","at":"2026-11-25T09:00:00Z","props":{"url":"/pricing/enterprise"}},
           {"type":"form_submit","at":"2026-11-26T15:30:00Z","props":{"form":"demo_request"}},
           {"type":"email_click","at":"2026-11-21T08:00:00Z","props":{"campaign":"nov-digest"}}]}"#
            .replace('\n', "");
        let contact = decode(&line);
        assert_eq!(contact.id, "c-1001");
        assert_eq!(contact.email.as_deref(), Some("Ana.Lee@Acme.io"));
        assert_eq!(
            contact.props,
            vec![
                text("VP Marketing"),
                FieldValue::Number(250.0),
                FieldValue::Null,
                FieldValue::Missing
            ]
        );
        assert_eq!(
            contact.events,
            vec![
                vec![Event {
                    at_micros: T1_MICROS,
                    props: smallvec::smallvec![text("/pricing/enterprise")],
                }],
                vec![Event {
                    at_micros: parse_timestamp("2026-11-26T15:30:00Z").unwrap(),
                    props: smallvec::smallvec![text("demo_request"), FieldValue::Missing],
                }],
            ]
        );
    }

    #[test]
    fn an_array_of_texts_is_a_list_and_any_other_array_a_composite() {
        let list = |contact: &Contact, slot: usize| match contact.props[slot] {
            FieldValue::List(index) => Some(contact.list(index).to_vec()),
            _ => None,
        };
        let contact = decode(r#"{"id":"a","properties":{"tags":["ai","ml"],"owner":[]}}"#);
        assert_eq!(list(&contact, 3).unwrap(), ["ai", "ml"]);
        assert!(list(&contact, 2).unwrap().is_empty());
        // Event props hold lists in the same arena, before or after their type.
        let contact = decode(
            r#"{"id":"a","events":[{"props":{"form":["x"],"zzz":["unread"]},"at":"2026-11-25T09:00:00Z","type":"form_submit"},{"type":"page_view","at":"2026-11-25T09:00:00Z","props":{"url":["y","z"]}}],"properties":{"tags":["t"]}}"#,
        );
        let event_list = |event: &Event| match event.props[0] {
            FieldValue::List(index) => Some(contact.list(index).to_vec()),
            _ => None,
        };
        assert_eq!(event_list(&contact.events[1][0]).unwrap(), ["x"]);
        assert_eq!(event_list(&contact.events[0][0]).unwrap(), ["y", "z"]);
        assert_eq!(list(&contact, 3).unwrap(), ["t"]);
        // A contact without lists allocates no arena.
        assert_eq!(
            decode(r#"{"id":"a","properties":{"tags":"t"}}"#).lists.capacity(),
            0
        );
        let contact = decode(r#"{"id":"a","properties":{"tags":["ai",1],"owner":[["x"]]}}"#);
        assert_eq!(contact.props[3], FieldValue::Composite);
        assert_eq!(contact.props[2], FieldValue::Composite);
    }

    #[test]
    fn minimal_line_has_slots_of_the_right_length() {
        let contact = decode(r#"{"id":"a"}"#);
        assert_eq!(
            contact,
            Contact {
                id: "a".to_owned(),
                email: None,
                props: vec![FieldValue::Missing; 4],
                events: vec![Vec::new(), Vec::new()],
                lists: Vec::new(),
            }
        );
    }

    #[test]
    fn property_slot_count_follows_declared_types() {
        let mut spec = spec();
        spec.property_types = vec![None; 6];
        let contact = decode_line(&spec, r#"{"id":"a"}"#).unwrap().unwrap();
        assert_eq!(contact.props.len(), 6);
    }

    #[test]
    fn blank_lines_are_skipped() {
        for line in ["", " ", "\t \r", "\n"] {
            assert_eq!(decode_line(&spec(), line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn nulls_mean_absent() {
        let contact = decode(
            r#"{"id":"a","email":null,"properties":null,"events":[{"type":"page_view","at":"2026-11-25T09:00:00Z","props":null}]}"#,
        );
        assert_eq!(contact.email, None);
        assert_eq!(contact.props, vec![FieldValue::Missing; 4]);
        assert_eq!(
            contact.events[0],
            vec![Event {
                at_micros: T1_MICROS,
                props: smallvec::smallvec![FieldValue::Missing]
            }]
        );
        let contact = decode(r#"{"id":"a","events":null}"#);
        assert_eq!(contact.events, vec![Vec::new(), Vec::new()]);
    }

    #[test]
    fn property_values_keep_their_json_kind() {
        let contact = decode(
            r#"{"id":"a","properties":{"job_title":true,"company_size":-1.5e2,"owner":"","tags":["x",{"y":[1]}]}}"#,
        );
        assert_eq!(
            contact.props,
            vec![
                FieldValue::Bool(true),
                FieldValue::Number(-150.0),
                text(""),
                FieldValue::Composite
            ]
        );
        let contact = decode(
            r#"{"id":"a","properties":{"company_size":18446744073709551615,"tags":{},"owner":"250"}}"#,
        );
        assert_eq!(contact.props[1], FieldValue::Number(18_446_744_073_709_551_615.0));
        assert_eq!(contact.props[2], text("250"));
        assert_eq!(contact.props[3], FieldValue::Composite);
    }

    #[test]
    fn escapes_in_keys_and_values() {
        let contact = decode(r#"{"i\u0064":"c\"1","properties":{"job\u005ftitle":"R\u00e9my \\ \n"}}"#);
        assert_eq!(contact.id, "c\"1");
        assert_eq!(contact.props[0], text("Rémy \\ \n"));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let contact = decode(
            r#"{"extra":{"deep":[1,2,{"id":5}]},"id":"a","events":[{"type":"page_view","at":"2026-11-25","note":[1],"props":{"url":"/","other":{}}}]}"#,
        );
        assert_eq!(contact.id, "a");
        assert_eq!(contact.events[0][0].props[..], [text("/")]);
        assert_eq!(
            contact.events[0][0].at_micros,
            parse_timestamp("2026-11-25").unwrap()
        );
    }

    #[test]
    fn events_keep_input_order_within_a_type() {
        let contact = decode(
            r#"{"id":"a","events":[
                {"type":"page_view","at":"2026-11-25T09:00:00Z","props":{"url":"/1"}},
                {"type":"form_submit","at":"2026-11-25T09:00:00Z"},
                {"type":"page_view","at":"2026-11-25T11:00:00+02:00","props":{"url":"/2"}}]}"#,
        );
        let urls: Vec<&FieldValue> = contact.events[0].iter().map(|e| &e.props[0]).collect();
        assert_eq!(urls, vec![&text("/1"), &text("/2")]);
        assert_eq!(contact.events[0][1].at_micros, T1_MICROS);
        assert_eq!(
            contact.events[1][0].props[..],
            [FieldValue::Missing, FieldValue::Missing]
        );
    }

    #[test]
    fn props_before_type_are_buffered_then_slotted() {
        let contact = decode(
            r#"{"id":"a","events":[{"props":{"page":"/x","form":"demo_request","zzz":[1]},"at":"2026-11-25T09:00:00Z","type":"form_submit"}]}"#,
        );
        assert_eq!(
            contact.events[1],
            vec![Event {
                at_micros: T1_MICROS,
                props: smallvec::smallvec![text("demo_request"), text("/x")],
            }]
        );
    }

    #[test]
    fn unknown_event_types_are_validated_but_not_stored() {
        let contact = decode(
            r#"{"id":"a","events":[{"type":"email_click","at":"2026-11-25T09:00:00Z","props":{"campaign":"x"}}]}"#,
        );
        assert_eq!(contact.events, vec![Vec::new(), Vec::new()]);
        assert_eq!(
            reject(r#"{"id":"a","events":[{"type":"email_click","at":"2026-11-25T09:00"}]}"#),
            r#"event 1: "at" is not an RFC 3339 timestamp with an offset: "2026-11-25T09:00""#
        );
        assert_eq!(
            reject(r#"{"id":"a","events":[{"type":"email_click","at":"2026-11-25","props":[]}]}"#),
            r#"event 1: "props" must be an object, found array"#
        );
        assert_eq!(
            reject(r#"{"id":"a","events":[{"props":{},"type":"email_click"}]}"#),
            r#"event 1: missing "at""#
        );
        assert_eq!(
            reject(r#"{"id":"a","events":[{"type":7,"at":"2026-11-25"}]}"#),
            r#"event 1: "type" must be a string, found number"#
        );
    }

    #[test]
    fn duplicate_keys_first_wins_and_all_are_validated() {
        let contact = decode(
            r#"{"id":"a","id":"b","email":null,"email":"x@y","properties":{"owner":"p","owner":"q"},"properties":{"owner":"r","job_title":"t"},"events":[{"type":"page_view","type":"form_submit","at":"2026-11-25T09:00:00Z","at":"2026-11-26","props":{"url":"/1"},"props":{"url":"/2"}}],"events":[{"type":"page_view","at":"2026-11-25"}]}"#,
        );
        assert_eq!(contact.id, "a");
        assert_eq!(contact.email, None);
        assert_eq!(
            contact.props,
            vec![
                FieldValue::Missing,
                FieldValue::Missing,
                text("p"),
                FieldValue::Missing
            ]
        );
        assert_eq!(
            contact.events,
            vec![
                vec![Event {
                    at_micros: T1_MICROS,
                    props: smallvec::smallvec![text("/1")]
                }],
                vec![]
            ]
        );
        assert_eq!(
            reject(r#"{"id":"a","id":5}"#),
            r#""id" must be a string, found number"#
        );
        assert_eq!(
            reject(r#"{"id":"a","properties":{},"properties":[]}"#),
            r#""properties" must be an object, found array"#
        );
        assert_eq!(
            reject(r#"{"id":"a","events":[],"events":[{"at":"2026-11-25"}]}"#),
            r#"event 1: missing "type""#
        );
    }

    #[test]
    fn rejection_reasons() {
        let cases = [
            (
                r#"{"id":"a","email":}"#,
                "not valid JSON: expected value at column 19",
            ),
            (
                "{\"id\":\"a\"",
                "not valid JSON: EOF while parsing an object at column 9",
            ),
            ("hello", "not valid JSON: expected value at column 1"),
            ("nope", "not valid JSON: expected ident at column 2"),
            (
                r#"{"id":"a"} x"#,
                "not valid JSON: trailing characters at column 12",
            ),
            (
                r#"{"id":"a"}{"id":"b"}"#,
                "not valid JSON: trailing characters at column 11",
            ),
            ("[1,2]", "expected a JSON object, found array"),
            ("\"id\"", "expected a JSON object, found string"),
            ("null", "expected a JSON object, found null"),
            ("{}", "missing \"id\""),
            (r#"{"email":"a@b"}"#, "missing \"id\""),
            (r#"{"id":5}"#, "\"id\" must be a string, found number"),
            (r#"{"id":null}"#, "\"id\" must be a string, found null"),
            (r#"{"id":["a"]}"#, "\"id\" must be a string, found array"),
            (
                r#"{"id":"a","email":false}"#,
                "\"email\" must be a string, found boolean",
            ),
            (
                r#"{"id":"a","properties":"x"}"#,
                "\"properties\" must be an object, found string",
            ),
            (
                r#"{"id":"a","properties":[]}"#,
                "\"properties\" must be an object, found array",
            ),
            (
                r#"{"id":"a","events":{}}"#,
                "\"events\" must be an array, found object",
            ),
            (
                r#"{"id":"a","events":"x"}"#,
                "\"events\" must be an array, found string",
            ),
            (
                r#"{"id":"a","events":[1]}"#,
                "event 1 must be an object, found number",
            ),
            (
                r#"{"id":"a","events":[{"type":"page_view","at":"2026-11-25"},null]}"#,
                "event 2 must be an object, found null",
            ),
            (
                r#"{"id":"a","events":[{"at":"2026-11-25T09:00:00Z"}]}"#,
                "event 1: missing \"type\"",
            ),
            (
                r#"{"id":"a","events":[{"type":"page_view"}]}"#,
                "event 1: missing \"at\"",
            ),
            (
                r#"{"id":"a","events":[{"type":null,"at":"2026-11-25"}]}"#,
                "event 1: \"type\" must be a string, found null",
            ),
            (
                r#"{"id":"a","events":[{"type":"page_view","at":1764000000}]}"#,
                "event 1: \"at\" must be a string, found number",
            ),
            (
                r#"{"id":"a","events":[{"type":"x","at":"2026-11-25"},{"type":"x","at":"2026-11-25T10:00:00"}]}"#,
                "event 2: \"at\" is not an RFC 3339 timestamp with an offset: \"2026-11-25T10:00:00\"",
            ),
            (
                r#"{"id":"a","events":[{},{},{"type":"page_view","at":"2026-11-25","props":"x"}]}"#,
                "event 1: missing \"type\"",
            ),
            (
                r#"{"id":"a","events":[{"type":"x","at":"2026-11-25"},{"type":"x","at":"2026-11-25"},{"type":"page_view","at":"2026-11-25","props":"x"}]}"#,
                "event 3: \"props\" must be an object, found string",
            ),
            (
                r#"{"id":"a","events":[{"type":"page_view","at":"2026-11-25","props":{"url":[}}]}"#,
                "not valid JSON: expected value at column 75",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(reject(line), expected, "{line}");
        }
    }

    #[test]
    fn long_bad_timestamps_are_cut_in_the_reason() {
        let line = format!(
            r#"{{"id":"a","events":[{{"type":"x","at":"{}"}}]}}"#,
            "9".repeat(100)
        );
        assert_eq!(
            reject(&line),
            format!(
                "event 1: \"at\" is not an RFC 3339 timestamp with an offset: \"{}\"…",
                "9".repeat(60)
            )
        );
    }

    #[test]
    fn deep_nesting_in_skipped_values_does_not_overflow_the_stack() {
        // serde_json skips ignored values iteratively, so depth costs nothing.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let contact = decode(&format!(
            r#"{{"id":"a","x":{deep},"properties":{{"tags":{deep}}}}}"#
        ));
        assert_eq!(contact.props[3], FieldValue::Composite);
    }

    // -----------------------------------------------------------------------
    // A reference decoder over `serde_json::Value`, for the property tests.
    // On lines without duplicate keys it must agree with `decode_line`.

    fn reference(spec: &DecodeSpec, line: &str) -> Option<Contact> {
        type Lists = Vec<Box<[compact_str::CompactString]>>;
        fn scalar(v: &Json, lists: &mut Lists) -> FieldValue {
            match v {
                Json::Null => FieldValue::Null,
                Json::Bool(b) => FieldValue::Bool(*b),
                Json::Number(n) => FieldValue::Number(n.as_f64().unwrap()),
                Json::String(s) => FieldValue::Text(s.as_str().into()),
                Json::Array(items) if items.iter().all(Json::is_string) => {
                    lists.push(
                        items
                            .iter()
                            .map(|item| item.as_str().unwrap_or_default().into())
                            .collect(),
                    );
                    FieldValue::List(u32::try_from(lists.len() - 1).unwrap())
                }
                Json::Array(_) | Json::Object(_) => FieldValue::Composite,
            }
        }
        fn slots(
            names: &SlotMap,
            len: usize,
            obj: Option<&Json>,
            lists: &mut Lists,
        ) -> Option<Vec<FieldValue>> {
            let mut out = vec![FieldValue::Missing; len];
            match obj {
                None | Some(Json::Null) => {}
                Some(Json::Object(map)) => {
                    for (k, v) in map {
                        if let Some(&slot) = names.get(k) {
                            out[slot] = scalar(v, lists);
                        }
                    }
                }
                Some(_) => return None,
            }
            Some(out)
        }
        let json: Json = serde_json::from_str(line).ok()?;
        let obj = json.as_object()?;
        let id = obj.get("id")?.as_str()?.to_owned();
        if id.is_empty() {
            return None;
        }
        let email = match obj.get("email") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => return None,
        };
        let mut lists = Lists::new();
        let props = slots(
            &spec.properties,
            spec.property_slot_count(),
            obj.get("properties"),
            &mut lists,
        )?;
        let mut events = vec![Vec::new(); spec.event_types.len()];
        match obj.get("events") {
            None | Some(Json::Null) => {}
            Some(Json::Array(list)) => {
                for event in list {
                    let event = event.as_object()?;
                    let kind = event.get("type")?.as_str()?;
                    let at_micros = parse_timestamp(event.get("at")?.as_str()?)?;
                    let empty = SlotMap::default();
                    let slot = spec.event_types.get(kind).copied();
                    let names = slot.map_or(&empty, |s| &spec.event_props[s]);
                    let props = slots(names, names.len(), event.get("props"), &mut lists)?;
                    if let Some(slot) = slot {
                        events[slot].push(Event {
                            at_micros,
                            props: props.into(),
                        });
                    }
                }
            }
            Some(_) => return None,
        }
        Some(Contact {
            id,
            email,
            props,
            events,
            lists,
        })
    }

    /// `contact` with its list texts renumbered in slot order (properties,
    /// then each event's props) and unread ones dropped, so that two
    /// decoders that read lists in different orders compare equal.
    fn lists_in_slot_order(mut contact: Contact) -> Contact {
        let old = std::mem::take(&mut contact.lists);
        let mut renumber = |value: &mut FieldValue| {
            if let FieldValue::List(index) = value {
                contact.lists.push(old[*index as usize].clone());
                *index = u32::try_from(contact.lists.len() - 1).unwrap();
            }
        };
        contact.props.iter_mut().for_each(&mut renumber);
        for event in contact.events.iter_mut().flatten() {
            event.props.iter_mut().for_each(&mut renumber);
        }
        contact
    }

    fn leaf() -> impl Strategy<Value = Json> {
        prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            (-1e12f64..1e12).prop_map(Json::from),
            "[a-z/\\\\\"é\u{1F600}\n]{0,8}".prop_map(Json::from),
        ]
    }

    fn any_json() -> impl Strategy<Value = Json> {
        leaf().prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::btree_map("[a-z_]{0,6}", inner, 0..4)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Writes an object whose entries keep the given order (unique keys).
    fn object(entries: Vec<(&'static str, String)>) -> String {
        let body: Vec<String> = entries
            .into_iter()
            .map(|(key, value)| format!("{}:{value}", Json::from(key)))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    /// An optional entry: the key with a value from `value`, or nothing.
    fn entry(
        key: &'static str,
        present: f64,
        value: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = Option<(&'static str, String)>> {
        proptest::option::weighted(present, value.prop_map(move |v| (key, v)))
    }

    fn json_text(value: impl Strategy<Value = Json>) -> impl Strategy<Value = String> {
        value.prop_map(|v| v.to_string())
    }

    fn props_object(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop_oneof![
            8 => prop::collection::btree_map(prop::sample::select(keys), any_json(), 0..4)
                .prop_map(|m| Json::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()).to_string()),
            1 => json_text(any_json()),
        ]
    }

    fn event() -> impl Strategy<Value = String> {
        let kind = prop_oneof![
            16 => prop::sample::select(vec!["page_view", "form_submit", "email_click"]).prop_map(|s| Json::from(s).to_string()),
            1 => json_text(leaf()),
        ];
        let at = prop_oneof![
            16 => prop::sample::select(vec![
                "2026-11-25T09:00:00Z", "2026-11-25T09:00:00.5+02:00", "2026-11-25",
                "2026-11-25t09:00:00.123456789-05:30",
            ]).prop_map(|s| Json::from(s).to_string()),
            1 => prop::sample::select(vec!["2026-11-25T09:00:00", "soon", "2026-02-30"])
                .prop_map(|s| Json::from(s).to_string()),
            1 => json_text(leaf()),
        ];
        let fields = (
            entry("type", 0.97, kind),
            entry("at", 0.97, at),
            entry("props", 0.8, props_object(&["url", "form", "page", "zzz"])),
            entry("note", 0.2, json_text(any_json())),
        );
        prop_oneof![
            40 => fields
                .prop_map(|(a, b, c, d)| [a, b, c, d].into_iter().flatten().collect::<Vec<_>>())
                .prop_shuffle()
                .prop_map(object),
            1 => json_text(leaf()),
        ]
    }

    fn contact_line() -> impl Strategy<Value = String> {
        let id = prop_oneof![
            16 => "[a-c]{0,3}".prop_map(|s| Json::from(s).to_string()),
            1 => json_text(leaf()),
        ];
        let email = prop_oneof![
            2 => "[a-z@.]{0,6}".prop_map(|s| Json::from(s).to_string()),
            1 => json_text(leaf()),
        ];
        let events = prop_oneof![
            12 => prop::collection::vec(event(), 0..4).prop_map(|list| format!("[{}]", list.join(","))),
            1 => json_text(leaf()),
        ];
        (
            entry("id", 0.97, id),
            entry("email", 0.5, email),
            entry(
                "properties",
                0.8,
                props_object(&["job_title", "company_size", "owner", "tags", "zzz"]),
            ),
            entry("events", 0.8, events),
            entry("other", 0.3, json_text(any_json())),
        )
            .prop_map(|(a, b, c, d, e)| [a, b, c, d, e].into_iter().flatten().collect::<Vec<_>>())
            .prop_shuffle()
            .prop_map(object)
    }

    /// Cuts `s` at the nearest char boundary at or before `at`.
    fn boundary(s: &str, at: usize) -> usize {
        let mut at = at.min(s.len());
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        at
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn agrees_with_a_value_based_reference(line in contact_line()) {
            let spec = spec();
            let decoded = decode_line(&spec, &line);
            if let Err(reason) = &decoded {
                prop_assert!(!reason.is_empty());
            }
            prop_assert_eq!(
                decoded.ok().flatten().map(lists_in_slot_order),
                reference(&spec, &line).map(lists_in_slot_order),
                "{}",
                line
            );
        }

        #[test]
        fn never_panics_on_arbitrary_strings(line in "\\PC{0,64}") {
            let _ = decode_line(&spec(), &line);
        }

        #[test]
        fn never_panics_on_json_ish_strings(line in "[{}\\[\\]\":,0-9a-z_\\\\ .eE+-]{0,64}") {
            let _ = decode_line(&spec(), &line);
        }

        #[test]
        fn never_panics_on_mutated_lines(
            line in contact_line(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..8, "[{}\\[\\]\":,0-9a-z\\\\ ]{0,3}"), 1..4),
        ) {
            let mut line = line;
            for (position, cut, insert) in edits {
                let start = boundary(&line, position.index(line.len() + 1));
                let end = boundary(&line, start + cut).max(start);
                line.replace_range(start..end, &insert);
            }
            let spec = spec();
            if let Ok(Some(contact)) = decode_line(&spec, &line) {
                prop_assert_eq!(contact.props.len(), 4);
                prop_assert_eq!(contact.events.len(), 2);
                prop_assert!(contact.events[0].iter().all(|e| e.props.len() == 1));
                prop_assert!(contact.events[1].iter().all(|e| e.props.len() == 2));
            }
        }
    }
}
