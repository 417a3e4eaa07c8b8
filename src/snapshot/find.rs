//! Finding a few contacts by id in a snapshot (`rubric explain`), without
//! decoding the rest: in JSON Lines only lines that contain a wanted id as
//! JSON text are decoded, and reading stops once every wanted id is found.

use std::collections::HashMap;

use super::{decode_line, Contact, CsvReader, DecodeSpec, InputFormat, LineReader};

/// Fills `wanted` (id → `None` until found) with the first valid contact of
/// each id (docs/formats.md: the first line with an id wins). For JSON Lines,
/// `rejected` gets, per wanted id, the number and the reason of the first
/// rejected line that mentions it (for a note when the id is not found).
pub fn find_contacts(
    spec: &DecodeSpec,
    reader: impl std::io::BufRead,
    format: InputFormat,
    wanted: &mut HashMap<&str, Option<Contact>>,
    rejected: &mut HashMap<String, (u64, String)>,
) -> std::io::Result<()> {
    match format {
        InputFormat::JsonLines => find_jsonl(spec, reader, wanted, rejected),
        InputFormat::Csv => find_csv(spec, reader, wanted),
    }
}

fn find_jsonl(
    spec: &DecodeSpec,
    reader: impl std::io::BufRead,
    wanted: &mut HashMap<&str, Option<Contact>>,
    rejected: &mut HashMap<String, (u64, String)>,
) -> std::io::Result<()> {
    // Only lines that contain a wanted id as JSON text are decoded. (An id
    // written with `\u` escapes in the snapshot is not found this way.)
    let needle_ids: Vec<String> = wanted.keys().map(|id| id.to_string()).collect();
    let needles: Vec<String> = needle_ids
        .iter()
        .map(|id| serde_json::to_string(id).unwrap_or_default())
        .collect();
    let mut remaining = wanted.len();
    let mut lines = LineReader::new(reader);
    while let Some((number, line)) = lines.next_line()? {
        let Ok(text) = line else { continue };
        let Some(needle) = needles.iter().position(|n| text.contains(n.as_str())) else {
            continue;
        };
        let contact = match decode_line(spec, text) {
            Ok(Some(contact)) => contact,
            Ok(None) => continue,
            Err(reason) => {
                // Remember why a line that mentions a wanted id was rejected.
                if let Some(id) = needle_ids.get(needle) {
                    rejected.entry(id.clone()).or_insert((number, reason));
                }
                continue;
            }
        };
        if let Some(slot @ None) = wanted.get_mut(contact.id.as_str()) {
            *slot = Some(contact);
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
    }
    Ok(())
}

fn find_csv(
    spec: &DecodeSpec,
    reader: impl std::io::BufRead,
    wanted: &mut HashMap<&str, Option<Contact>>,
) -> std::io::Result<()> {
    let mut records = CsvReader::new(reader, spec)?;
    let mut remaining = wanted.len();
    while let Some(record) = records.next_record()? {
        let Ok(contact) = record else { continue };
        if let Some(slot @ None) = wanted.get_mut(contact.id.as_str()) {
            *slot = Some(contact);
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
    }
    Ok(())
}
