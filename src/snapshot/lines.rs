//! Decoding the lines of a snapshot into contacts or bad lines, the same way
//! for every command: JSON Lines a block at a time ([`decode_lines`]), CSV in
//! batches ([`csv_batches`]), and the rules every streaming command applies
//! to the decoded lines in input order ([`InputOrder`]: the first line with
//! an id wins, [`repeated_id`]; `--strict` stops at the first rejection).

use super::{decode_line, lines_of, BadLine, Contact, CsvReader, DecodeSpec, IdSet, Rejects};

/// Contacts per batch of CSV input.
pub const BATCH_LINES: usize = 8192;

/// One decoded input line.
pub enum Line {
    /// A blank line: skipped, neither a contact nor a rejection.
    Blank,
    /// A rejected line.
    Bad(BadLine),
    /// A contact and the number of its line.
    Contact(u64, Contact),
}

/// Decodes one numbered line of a block (its text, or why it has none; see
/// [`super::lines_of`]).
pub fn decode_numbered_line(spec: &DecodeSpec, line: u64, text: Result<&str, String>) -> Line {
    let first_line_text = if line == 1 {
        text.as_ref().ok().copied()
    } else {
        None
    };
    let decoded = match text {
        Ok(text) => decode_line(spec, text),
        Err(reason) => Err(reason),
    };
    match decoded {
        Ok(None) => Line::Blank,
        Ok(Some(contact)) => Line::Contact(line, contact),
        Err(mut reason) => {
            if first_line_text.is_some_and(text_looks_like_csv_header) {
                reason.push_str(CSV_HEADER_HINT);
            }
            Line::Bad(BadLine { line, reason })
        }
    }
}

/// Added to the rejection of a first line that looks like a CSV header.
pub const CSV_HEADER_HINT: &str =
    " (this looks like a CSV header: name the file `*.csv`, or pass `--input-format csv` for standard input)";

/// Whether a line read as JSON Lines looks like the header of a CSV file: not
/// JSON, and comma-separated names one of which is `id`.
fn text_looks_like_csv_header(text: &str) -> bool {
    !text.trim_start().starts_with('{')
        && text.contains(',')
        && text
            .split(',')
            .any(|name| name.trim().trim_matches('"').eq_ignore_ascii_case("id"))
}

/// Decodes the lines of one piece of a block (`first_line` is the number of
/// its first line).
pub fn decode_lines<'a>(
    spec: &'a DecodeSpec,
    first_line: u64,
    data: &'a [u8],
) -> impl Iterator<Item = Line> + 'a {
    lines_of(first_line, data).map(move |(line, text)| decode_numbered_line(spec, line, text))
}

/// The rejection of a line whose id an earlier accepted line already had
/// (docs/formats.md: the first line with an id wins). Callers check ids in input
/// order with an [`super::IdSet`].
pub fn repeated_id(line: u64, id: &str) -> BadLine {
    BadLine {
        line,
        reason: format!("id `{id}` repeats an earlier line (the first line with an id wins)"),
    }
}

/// What to do with a line after [`InputOrder`] has seen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The first line with its id: count it.
    Accept,
    /// Rejected (reported and counted): go on with the next line.
    Skip,
    /// Rejected under `--strict`: stop reading.
    Stop,
}

/// The input-order rules of every command that streams a snapshot (`run`,
/// `diff`, `measure`), applied by the consumer after the workers decoded a
/// block: a bad line is reported, a decoded contact is accepted only if no
/// earlier accepted line had its id (else it is reported as repeated), and
/// with `--strict` the first rejection stops the read.
pub struct InputOrder<'r> {
    ids: IdSet,
    rejects: &'r mut Rejects,
    strict: bool,
    strict_stop: bool,
}

impl<'r> InputOrder<'r> {
    pub fn new(rejects: &'r mut Rejects, strict: bool) -> InputOrder<'r> {
        InputOrder {
            ids: IdSet::default(),
            rejects,
            strict,
            strict_stop: false,
        }
    }

    /// Reports a line that could not be decoded.
    pub fn bad(&mut self, bad: &BadLine) -> Verdict {
        self.rejects.reject(bad);
        self.rejection()
    }

    /// Accepts the first decoded line with `id`; reports a later one.
    pub fn contact(&mut self, line: u64, id: &str) -> Verdict {
        if self.ids.insert(id) {
            return Verdict::Accept;
        }
        self.rejects.reject(&repeated_id(line, id));
        self.rejection()
    }

    fn rejection(&mut self) -> Verdict {
        if self.strict {
            self.strict_stop = true;
            Verdict::Stop
        } else {
            Verdict::Skip
        }
    }

    /// The read stopped at a rejected line (`--strict`).
    pub fn strict_stop(&self) -> bool {
        self.strict_stop
    }
}

/// The id of a rejected JSON Lines line, when it is certain, read by the
/// decoder's rule (src/snapshot/jsonl.rs): the first top-level `id` key wins
/// and only a JSON string counts. A line that is JSON gives its first `id`;
/// a line that is not JSON (cut short, or garbage further on) gives an id only
/// when its first key is `id` with a complete string value, because anything
/// later could hide an earlier key. `None` otherwise, and for an empty id.
pub fn id_of_bad_line(text: &str) -> Option<String> {
    let scan = std::cell::RefCell::new(FirstIdScan::default());
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let whole_line_is_json =
        serde::de::Deserializer::deserialize_any(&mut deserializer, FirstIdVisitor { scan: &scan })
            .and_then(|()| deserializer.end())
            .is_ok();
    let scan = scan.into_inner();
    if !whole_line_is_json && !scan.id_is_the_first_key {
        return None;
    }
    scan.first_id.flatten().filter(|id| !id.is_empty())
}

/// What [`id_of_bad_line`] learnt before the line ended or broke.
#[derive(Default)]
struct FirstIdScan {
    /// The value of the first top-level `id` key: `Some(None)` when it is not a string.
    first_id: Option<Option<String>>,
    /// Whether that `id` was the object's first key.
    id_is_the_first_key: bool,
}

/// Walks a top-level JSON object, recording its first `id` in `scan`.
struct FirstIdVisitor<'a> {
    scan: &'a std::cell::RefCell<FirstIdScan>,
}

impl<'de> serde::de::Visitor<'de> for FirstIdVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut key_number = 0_u64;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "id" && self.scan.borrow().first_id.is_none() {
                let value = map.next_value::<serde_json::Value>()?;
                let mut scan = self.scan.borrow_mut();
                scan.id_is_the_first_key = key_number == 0;
                scan.first_id = Some(match value {
                    serde_json::Value::String(id) => Some(id),
                    _ => None,
                });
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
            key_number += 1;
        }
        Ok(())
    }
}

/// CSV input on one thread: batches of [`BATCH_LINES`] records, each pushed
/// into a fresh chunk (`new_chunk`, `push`) and handed to `consume`, which
/// returns false to stop.
pub fn csv_batches<C>(
    reader: impl std::io::BufRead,
    spec: &DecodeSpec,
    mut new_chunk: impl FnMut() -> C,
    mut push: impl FnMut(&mut C, Line),
    mut consume: impl FnMut(C) -> std::io::Result<bool>,
) -> std::io::Result<()> {
    let mut records = CsvReader::new(reader, spec)?;
    loop {
        let mut chunk = new_chunk();
        let mut done = false;
        for _ in 0..BATCH_LINES {
            match records.next_record()? {
                None => {
                    done = true;
                    break;
                }
                Some(Ok(contact)) => {
                    let line = records.record_line();
                    push(&mut chunk, Line::Contact(line, contact));
                }
                Some(Err(bad)) => push(&mut chunk, Line::Bad(bad)),
            }
        }
        if !consume(chunk)? || done {
            return Ok(());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_header_read_as_json_lines_gets_a_hint_on_line_1_only() {
        let spec = DecodeSpec::default();
        let bad = |line, text| match decode_numbered_line(&spec, line, Ok(text)) {
            Line::Bad(bad) => bad.reason,
            _ => String::from("accepted"),
        };
        assert!(bad(1, "id,email,company_size").ends_with(CSV_HEADER_HINT));
        assert!(bad(1, "\"Id\",name").ends_with(CSV_HEADER_HINT));
        assert!(!bad(2, "id,email").ends_with(CSV_HEADER_HINT));
        assert!(!bad(1, "name,email").ends_with(CSV_HEADER_HINT));
        assert!(!bad(1, "{\"id\":1,\"x\":2").ends_with(CSV_HEADER_HINT));
    }

    #[test]
    fn input_order_accepts_the_first_line_of_an_id_and_strict_stops_at_a_rejection() {
        let mut rejects = Rejects::new(Box::new(std::io::sink()), "");
        let mut order = InputOrder::new(&mut rejects, false);
        assert_eq!(order.contact(1, "a"), Verdict::Accept);
        assert_eq!(order.contact(2, "b"), Verdict::Accept);
        assert_eq!(order.contact(3, "a"), Verdict::Skip);
        let bad = BadLine {
            line: 4,
            reason: String::from("x"),
        };
        assert_eq!(order.bad(&bad), Verdict::Skip);
        assert!(!order.strict_stop());
        assert_eq!(rejects.count(), 2);

        let mut rejects = Rejects::new(Box::new(std::io::sink()), "");
        let mut order = InputOrder::new(&mut rejects, true);
        assert_eq!(order.contact(1, "a"), Verdict::Accept);
        assert_eq!(order.contact(2, "a"), Verdict::Stop);
        assert!(order.strict_stop());
    }

    #[test]
    fn ids_of_bad_lines() {
        assert_eq!(id_of_bad_line(r#"{"id":"c-1","events":"x"}"#).unwrap(), "c-1");
        assert_eq!(id_of_bad_line(r#"{"id": "c-2", "properties": {"#).unwrap(), "c-2");
        assert_eq!(id_of_bad_line(r#"{"id":5}"#), None);
        assert_eq!(id_of_bad_line("garbage"), None);
        // Not JSON, and `id` is not the first key: an earlier key could be hidden.
        assert_eq!(id_of_bad_line(r#"{"x":"\"id\"", "id" : "c-3" ,"#), None);
        assert_eq!(id_of_bad_line(r#"{"events":[{"props":{"id":"c-4"}}"#), None);
        assert_eq!(id_of_bad_line(r#"{"id":"c-5"#), None);
        assert_eq!(id_of_bad_line(r#"{"id":"c-\u0036", "events": ["#).unwrap(), "c-6");
    }

    #[test]
    fn the_id_of_a_bad_line_follows_the_decoder_first_duplicate_wins() {
        let line = r#"{"id":"a","id":"b","events":"bad"}"#;
        assert_eq!(id_of_bad_line(line).unwrap(), "a");
        assert_eq!(id_of_bad_line(r#"{"x":1,"id":"a","id":"b"}"#).unwrap(), "a");
        assert_eq!(id_of_bad_line(r#"{"id":5,"id":"b"}"#), None);
        assert_eq!(id_of_bad_line(r#"{"props":{"id":"c"},"events":1}"#), None);
        assert_eq!(id_of_bad_line(r#"{"id":""}"#), None);
        assert_eq!(id_of_bad_line(r#"["id","a"]"#), None);
    }
}
