//! Decoding the lines of a snapshot into contacts or bad lines, the same way
//! for every command: JSON Lines a block at a time ([`decode_lines`]), CSV in
//! batches ([`csv_batches`]), and the rejection of a repeated id
//! ([`repeated_id`]).

use super::{decode_line, lines_of, BadLine, Contact, CsvReader, DecodeSpec};

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

/// The id of a rejected JSON Lines line, when one can be read: the `id`
/// string of a line that is JSON, or else the first `"id": "…"` in the text
/// (a line cut short). `None` when there is no such id.
pub fn id_of_bad_line(text: &str) -> Option<String> {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        return match map.get("id") {
            Some(serde_json::Value::String(id)) if !id.is_empty() => Some(id.clone()),
            _ => None,
        };
    }
    let mut rest = text;
    while let Some(at) = rest.find("\"id\"") {
        let after = rest.get(at + 4..).unwrap_or("").trim_start();
        if let Some(value) = after.strip_prefix(':') {
            let value = value.trim_start();
            if let Some(body) = value.strip_prefix('"') {
                if let Some(end) = body.find('"') {
                    let id = body.get(..end).unwrap_or("");
                    // Escapes would need a JSON decoder: treat such ids as unreadable.
                    if !id.is_empty() && !id.contains('\\') {
                        return Some(id.to_string());
                    }
                }
            }
            return None;
        }
        rest = rest.get(at + 4..).unwrap_or("");
    }
    None
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
    fn ids_of_bad_lines() {
        assert_eq!(id_of_bad_line(r#"{"id":"c-1","events":"x"}"#).unwrap(), "c-1");
        assert_eq!(id_of_bad_line(r#"{"id": "c-2", "properties": {"#).unwrap(), "c-2");
        assert_eq!(id_of_bad_line(r#"{"id":5}"#), None);
        assert_eq!(id_of_bad_line("garbage"), None);
        assert_eq!(id_of_bad_line(r#"{"x":"\"id\"", "id" : "c-3" ,"#).unwrap(), "c-3");
    }
}
