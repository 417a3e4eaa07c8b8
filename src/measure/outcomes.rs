//! Reading an outcomes file (docs/measure.md#outcomes): JSON Lines or CSV
//! with the columns `id`, `type`, `at`, `amount`, gzip or standard input,
//! with the snapshot's bad-line discipline (line number and reason, skipped,
//! counted, `--strict`, `--rejects`).
//!
//! The file is read once, before the snapshot, into an [`OutcomeIndex`]:
//! contact id → how many outcome lines name it (for the `unmatched` count)
//! and the times and amounts of its outcomes of the goal's types, in one
//! flat array sorted by contact (file order within a contact). Outcomes of
//! other types keep nothing but their count, so 200k outcomes of a
//! 1M-contact snapshot cost a few megabytes, held once.

use std::collections::HashMap;
use std::io::BufRead;

use rustc_hash::FxBuildHasher;
use serde::Deserialize;

use crate::snapshot::{
    describe_json_error, parse_timestamp, BadLine, CsvReader, DeclaredType, DecodeSpec, FieldValue,
    InputFormat, LineReader, Rejects,
};

/// One valid outcome line.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRecord {
    pub id: String,
    pub kind: String,
    /// µs since the epoch.
    pub at: i64,
    /// 0 when absent or null.
    pub amount: f64,
}

/// One kept outcome (of the types the index was asked to keep): which of
/// those types, when, and its amount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoalOutcome {
    /// Index into the kept types given to [`read_outcomes`].
    pub kind: u16,
    pub at: i64,
    pub amount: f64,
}

/// The outcomes of one file, indexed by contact id (see the module
/// documentation).
#[derive(Debug, Default)]
pub struct OutcomeIndex {
    /// Contact id → entry number.
    entries: HashMap<Box<str>, u32, FxBuildHasher>,
    /// Per entry: the number of valid outcome lines with that id.
    lines: Vec<u32>,
    /// Per entry: where its goal outcomes start in `goal` (they end where
    /// the next entry's start); one more element than `lines`.
    starts: Vec<u32>,
    goal: Vec<GoalOutcome>,
    /// Non-blank lines read, rejected ones included.
    pub read: u64,
    /// Lines rejected as bad input.
    pub rejected: u64,
    /// Reading stopped at the first rejected line (`--strict`).
    pub strict_stop: bool,
}

/// What one contact has in an [`OutcomeIndex`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ContactOutcomes<'a> {
    /// Valid outcome lines naming the contact (any type).
    pub lines: u64,
    /// Its outcomes of the goal's types, in file order.
    pub goal: &'a [GoalOutcome],
}

impl OutcomeIndex {
    /// What the index holds for contact `id` (nothing when no line names it).
    pub fn get(&self, id: &str) -> ContactOutcomes<'_> {
        let Some(&entry) = self.entries.get(id) else {
            return ContactOutcomes::default();
        };
        let entry = entry as usize;
        let start = self.starts.get(entry).copied().unwrap_or(0) as usize;
        let end = self.starts.get(entry + 1).copied().unwrap_or(0) as usize;
        ContactOutcomes {
            lines: self.lines.get(entry).copied().map_or(0, u64::from),
            goal: self.goal.get(start..end).unwrap_or(&[]),
        }
    }

    /// The number of valid outcome lines (read − rejected).
    pub fn valid_lines(&self) -> u64 {
        self.lines.iter().map(|&n| u64::from(n)).sum()
    }
}

/// Builds an [`OutcomeIndex`] from records one at a time.
struct IndexBuilder<'t> {
    index: OutcomeIndex,
    goal_types: &'t [String],
    /// (entry, outcome) of every outcome of the goal's types, in file order.
    pending: Vec<(u32, GoalOutcome)>,
}

impl IndexBuilder<'_> {
    fn add(&mut self, record: OutcomeRecord) {
        let next = self.index.lines.len() as u32;
        let entry = *self
            .index
            .entries
            .entry(record.id.into_boxed_str())
            .or_insert(next);
        if entry == next {
            self.index.lines.push(0);
        }
        if let Some(n) = self.index.lines.get_mut(entry as usize) {
            *n = n.saturating_add(1);
        }
        if let Some(kind) = self.goal_types.iter().position(|t| *t == record.kind) {
            self.pending.push((
                entry,
                GoalOutcome {
                    kind: u16::try_from(kind).unwrap_or(u16::MAX),
                    at: record.at,
                    amount: record.amount,
                },
            ));
        }
    }

    fn finish(mut self) -> OutcomeIndex {
        // A stable sort keeps file order within a contact, so amounts are
        // added in the order the file lists them.
        self.pending.sort_by_key(|&(entry, _)| entry);
        let entries = self.index.lines.len();
        let mut starts = Vec::with_capacity(entries + 1);
        let mut position = 0usize;
        for entry in 0..entries {
            starts.push(position as u32);
            while self
                .pending
                .get(position)
                .is_some_and(|&(e, _)| e as usize == entry)
            {
                position += 1;
            }
        }
        starts.push(position as u32);
        self.index.starts = starts;
        self.index.goal = self.pending.into_iter().map(|(_, o)| o).collect();
        self.index
    }
}

/// Reads every line of an outcomes file into an index that keeps the
/// outcomes of `goal_types` (a goal's outcome types; any list of types to
/// keep, each kept outcome says which by its index in the list). Bad lines go to `rejects`; with `strict` the
/// first one stops the read. Only an I/O error fails.
pub fn read_outcomes(
    reader: Box<dyn BufRead + Send>,
    format: InputFormat,
    goal_types: &[String],
    strict: bool,
    rejects: &mut Rejects,
) -> std::io::Result<OutcomeIndex> {
    let mut builder = IndexBuilder {
        index: OutcomeIndex::default(),
        goal_types,
        pending: Vec::new(),
    };
    let mut take = |result: Result<OutcomeRecord, BadLine>, builder: &mut IndexBuilder| -> bool {
        builder.index.read += 1;
        match result {
            Ok(record) => {
                builder.add(record);
                true
            }
            Err(bad) => {
                builder.index.rejected += 1;
                rejects.reject(&bad);
                if strict {
                    builder.index.strict_stop = true;
                }
                !strict
            }
        }
    };
    match format {
        InputFormat::JsonLines => {
            let mut lines = LineReader::new(reader);
            while let Some((line, text)) = lines.next_line()? {
                let result = match text {
                    // Blank as in a snapshot: only spaces, tabs and line ends.
                    Ok(text) if text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) => continue,
                    Ok(text) => parse_json_outcome(text),
                    Err(reason) => Err(reason),
                };
                if !take(result.map_err(|reason| BadLine { line, reason }), &mut builder) {
                    break;
                }
            }
        }
        InputFormat::Csv => {
            let spec = csv_spec();
            let mut rows = CsvReader::new(reader, &spec)?;
            while let Some(row) = rows.next_record()? {
                let line = rows.record_line();
                let result = row
                    .and_then(|contact| outcome_from_csv(contact).map_err(|reason| BadLine { line, reason }));
                if !take(result, &mut builder) {
                    break;
                }
            }
        }
    }
    Ok(builder.finish())
}

/// The JSON keys of an outcome line; other keys are ignored, a repeated
/// key rejects the line (which of the two would count is not clear).
#[derive(Deserialize)]
struct JsonOutcome {
    id: Option<serde_json::Value>,
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    at: Option<serde_json::Value>,
    amount: Option<serde_json::Value>,
}

/// The name of a JSON value's kind, for reasons.
fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Parses and checks one non-blank JSON line (docs/measure.md#outcomes).
pub fn parse_json_outcome(text: &str) -> Result<OutcomeRecord, String> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) => Err(format!("expected a JSON object, found {}", kind_of(&value))),
            Err(error) => Err(describe_json_error(&error)),
        };
    }
    let raw: JsonOutcome = serde_json::from_str(text).map_err(|error| {
        if error.is_data() {
            // serde's own words ("duplicate field `id`"), without the position.
            let text = error.to_string();
            let cut = text.find(" at line ").unwrap_or(text.len());
            text.get(..cut).unwrap_or(&text).to_owned()
        } else {
            describe_json_error(&error)
        }
    })?;
    let text_field = |value: Option<serde_json::Value>, key: &str| -> Result<String, String> {
        match value {
            None | Some(serde_json::Value::Null) => Err(format!("missing \"{key}\"")),
            Some(serde_json::Value::String(s)) => Ok(s),
            Some(other) => Err(format!("\"{key}\" must be a string, found {}", kind_of(&other))),
        }
    };
    let id = text_field(raw.id, "id")?;
    let kind = text_field(raw.kind, "type")?;
    let at = text_field(raw.at, "at")?;
    let amount = match raw.amount {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => Some(n.as_f64().unwrap_or(f64::NAN)),
        Some(other) => return Err(format!("\"amount\" must be a number, found {}", kind_of(&other))),
    };
    check_outcome(id, kind, &at, amount)
}

/// The checks both formats share: a non-empty id, a timestamp, an amount of
/// 0 or more.
fn check_outcome(id: String, kind: String, at: &str, amount: Option<f64>) -> Result<OutcomeRecord, String> {
    if id.is_empty() {
        return Err(String::from("\"id\" is empty"));
    }
    let at = parse_timestamp(at)
        .ok_or_else(|| format!("\"at\" is not an RFC 3339 timestamp with an offset or a date: {at:?}"))?;
    let amount = match amount {
        None => 0.0,
        Some(a) if a.is_finite() && a >= 0.0 => a,
        Some(a) => return Err(format!("\"amount\" must be 0 or more, found {a}")),
    };
    Ok(OutcomeRecord { id, kind, at, amount })
}

/// The CSV reader's view of an outcomes file: three typed columns besides `id`.
fn csv_spec() -> DecodeSpec {
    let mut spec = DecodeSpec::default();
    for (slot, (name, declared)) in [
        ("type", DeclaredType::Text),
        ("at", DeclaredType::Timestamp),
        ("amount", DeclaredType::Number),
    ]
    .into_iter()
    .enumerate()
    {
        spec.properties.insert(name.to_owned(), slot);
        spec.property_types.push(Some(declared));
    }
    spec
}

/// Turns a CSV row read with [`csv_spec`] into an outcome.
fn outcome_from_csv(row: crate::snapshot::Contact) -> Result<OutcomeRecord, String> {
    let mut cells = row.props.into_iter();
    let mut text = |key: &str| match cells.next() {
        Some(FieldValue::Text(s)) => Ok(s.to_string()),
        Some(FieldValue::Number(n)) => Ok(n.to_string()),
        _ => Err(format!("missing \"{key}\"")),
    };
    let kind = text("type")?;
    let at = text("at")?;
    let amount = match cells.next() {
        None | Some(FieldValue::Missing | FieldValue::Null) => None,
        Some(FieldValue::Number(n)) => Some(n),
        Some(FieldValue::Text(s)) => return Err(format!("\"amount\" must be a number, found {s:?}")),
        Some(_) => return Err(String::from("\"amount\" must be a number")),
    };
    check_outcome(row.id, kind, &at, amount)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn reasons(lines: &[&str]) -> Vec<String> {
        lines
            .iter()
            .map(|l| parse_json_outcome(l).err().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_valid_line_with_and_without_amount() {
        let o =
            parse_json_outcome(r#"{"id":"c-1","type":"meeting_held","at":"2026-12-03T15:00:00Z"}"#).unwrap();
        assert_eq!(
            (o.id.as_str(), o.kind.as_str(), o.amount),
            ("c-1", "meeting_held", 0.0)
        );
        assert_eq!(o.at, parse_timestamp("2026-12-03T15:00:00Z").unwrap());
        let o = parse_json_outcome(r#"{"id":"c-1","type":"x","at":"2026-12-20","amount":24000,"note":[1]}"#)
            .unwrap();
        assert_eq!(o.amount, 24000.0);
        assert_eq!(o.at, parse_timestamp("2026-12-20T00:00:00Z").unwrap());
        let o = parse_json_outcome(r#"{"id":"c-1","type":"x","at":"2026-12-20","amount":null}"#).unwrap();
        assert_eq!(o.amount, 0.0);
    }

    #[test]
    fn bad_lines_say_why() {
        assert_eq!(
            reasons(&[
                r#"{"type":"x","at":"2026-12-01"}"#,
                r#"{"id":"","type":"x","at":"2026-12-01"}"#,
                r#"{"id":7,"type":"x","at":"2026-12-01"}"#,
                r#"{"id":"a","at":"2026-12-01"}"#,
                r#"{"id":"a","type":"x","at":"2026-12-01T10:00:00"}"#,
                r#"{"id":"a","type":"x","at":"2026-12-01","amount":-1}"#,
                r#"{"id":"a","type":"x","at":"2026-12-01","amount":"5"}"#,
                r#"{"id":"a","id":"b","type":"x","at":"2026-12-01"}"#,
                r#"[1]"#,
                r#"{"id":"a""#,
            ]),
            [
                "missing \"id\"",
                "\"id\" is empty",
                "\"id\" must be a string, found number",
                "missing \"type\"",
                "\"at\" is not an RFC 3339 timestamp with an offset or a date: \"2026-12-01T10:00:00\"",
                "\"amount\" must be 0 or more, found -1",
                "\"amount\" must be a number, found string",
                "duplicate field `id`",
                "expected a JSON object, found array",
                "not valid JSON: EOF while parsing an object at column 9",
            ]
        );
    }

    fn rejects() -> Rejects {
        Rejects::new(Box::new(std::io::sink()), "")
    }

    #[test]
    fn the_index_counts_lines_per_id_and_keeps_goal_outcomes_in_file_order() {
        let text = "{\"id\":\"a\",\"type\":\"won\",\"at\":\"2026-12-02\",\"amount\":5}\n\
                    \n\
                    {\"id\":\"b\",\"type\":\"other\",\"at\":\"2026-12-02\"}\n\
                    not json\n\
                    {\"id\":\"a\",\"type\":\"won\",\"at\":\"2026-12-01\",\"amount\":7}\n\
                    {\"id\":\"a\",\"type\":\"other\",\"at\":\"2026-12-01\"}\n";
        let index = read_outcomes(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            InputFormat::JsonLines,
            &[String::from("won")],
            false,
            &mut rejects(),
        )
        .unwrap();
        assert_eq!((index.read, index.rejected, index.valid_lines()), (5, 1, 4));
        let a = index.get("a");
        assert_eq!(a.lines, 3);
        assert_eq!(a.goal.iter().map(|o| o.amount).collect::<Vec<_>>(), [5.0, 7.0]);
        let b = index.get("b");
        assert_eq!((b.lines, b.goal.len()), (1, 0));
        assert_eq!(index.get("zzz").lines, 0);
    }

    #[test]
    fn csv_has_the_same_columns_and_rules() {
        let text = "id,type,at,amount\n\
                    a,won,2026-12-02T00:00:00Z,5\n\
                    b,won,2026-12-02,\n\
                    c,won,yesterday,1\n\
                    d,won,2026-12-02,-3\n\
                    e,won,2026-12-02,lots\n\
                    \"f,won,2026-12-02,1\n";
        let index = read_outcomes(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            InputFormat::Csv,
            &[String::from("won")],
            false,
            &mut rejects(),
        )
        .unwrap();
        assert_eq!((index.read, index.rejected), (6, 4));
        assert_eq!(index.get("a").goal[0].amount, 5.0);
        assert_eq!(index.get("b").goal[0].amount, 0.0);
    }

    #[test]
    fn strict_stops_at_the_first_bad_line() {
        let text = "{\"id\":\"a\",\"type\":\"won\",\"at\":\"2026-12-02\"}\nbad\n{\"id\":\"b\",\"type\":\"won\",\"at\":\"2026-12-02\"}\n";
        let index = read_outcomes(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            InputFormat::JsonLines,
            &[],
            true,
            &mut rejects(),
        )
        .unwrap();
        assert!(index.strict_stop);
        assert_eq!((index.read, index.rejected, index.get("b").lines), (2, 1, 0));
    }
}
