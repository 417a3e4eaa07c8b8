//! Reading a CSV snapshot (docs/formats.md#csv): a header row with an `id` column, an
//! optional `email` column, every other column a property; one contact per
//! row, no events. Cells are typed by the plan's declared property types, or
//! inferred when a property has none.

use std::io;

use super::{BadLine, Contact, DeclaredType, DecodeSpec, Value};

/// What one CSV column feeds.
#[derive(Debug, Clone, Copy)]
enum Column {
    Id,
    Email,
    /// A property the plan reads: its slot and declared type.
    Property(usize, Option<DeclaredType>),
    /// A property the plan does not read.
    Ignored,
}

/// Reads contacts from CSV, one per record.
///
/// A bad record (wrong number of fields, empty `id`, invalid UTF-8) is
/// returned as a [`BadLine`] with the line the record starts on, and reading
/// goes on. Only I/O errors stop it.
pub struct CsvReader<R> {
    reader: csv::Reader<R>,
    columns: Vec<Column>,
    record: csv::ByteRecord,
    property_slots: usize,
    event_slots: usize,
}

impl<R: io::Read> CsvReader<R> {
    /// Reads the header row and maps its columns onto `spec`'s slots.
    ///
    /// Fails with [`io::ErrorKind::InvalidData`] when there is no header row,
    /// it has no `id` column, names a column twice, or is not valid UTF-8.
    pub fn new(reader: R, spec: &DecodeSpec) -> io::Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(64 * 1024)
            .from_reader(reader);
        let header = reader.byte_headers().map_err(csv_error)?.clone();
        if header.is_empty() {
            return Err(invalid_data(
                "CSV input has no header row: the first row must name the columns, including `id`".to_owned(),
            ));
        }

        let mut columns = Vec::with_capacity(header.len());
        let mut names: Vec<&str> = Vec::with_capacity(header.len());
        for (index, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw)
                .map_err(|_| invalid_data(format!("CSV header column {} is not valid UTF-8", index + 1)))?;
            if names.contains(&name) {
                return Err(invalid_data(format!("CSV header names column `{name}` twice")));
            }
            names.push(name);
            columns.push(match name {
                "id" => Column::Id,
                "email" => Column::Email,
                _ => match spec.properties.get(name) {
                    Some(&slot) => Column::Property(slot, spec.property_types.get(slot).copied().flatten()),
                    None => Column::Ignored,
                },
            });
        }
        if !names.contains(&"id") {
            return Err(invalid_data(format!(
                "CSV header has no `id` column (columns: {})",
                names.join(", ")
            )));
        }

        Ok(CsvReader {
            reader,
            columns,
            record: csv::ByteRecord::new(),
            property_slots: spec.property_slot_count(),
            event_slots: spec.event_types.len(),
        })
    }

    /// The next record as a contact or a bad line; `None` at the end.
    pub fn next_record(&mut self) -> io::Result<Option<Result<Contact, BadLine>>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                return match error.into_kind() {
                    csv::ErrorKind::Io(error) => Err(error),
                    other => Ok(Some(Err(BadLine {
                        line,
                        reason: format!("not a valid CSV record: {other:?}"),
                    }))),
                };
            }
        }
        let line = self.record.position().map_or(0, csv::Position::line);
        Ok(Some(
            self.decode_record().map_err(|reason| BadLine { line, reason }),
        ))
    }

    /// The line the last record returned by [`CsvReader::next_record`] starts on.
    pub fn record_line(&self) -> u64 {
        self.record.position().map_or(0, csv::Position::line)
    }

    fn decode_record(&self) -> Result<Contact, String> {
        if self.record.len() != self.columns.len() {
            return Err(format!(
                "row has {} fields, the header has {}",
                self.record.len(),
                self.columns.len()
            ));
        }
        let mut contact = Contact {
            id: String::new(),
            email: None,
            props: vec![Value::Missing; self.property_slots],
            events: vec![Vec::new(); self.event_slots],
        };
        for (index, (column, raw)) in self.columns.iter().zip(self.record.iter()).enumerate() {
            if matches!(column, Column::Ignored) {
                continue;
            }
            let cell = std::str::from_utf8(raw).map_err(|error| {
                format!(
                    "field {} is not valid UTF-8 (at byte {})",
                    index + 1,
                    error.valid_up_to() + 1
                )
            })?;
            match *column {
                Column::Id => {
                    if cell.is_empty() {
                        return Err("\"id\" is empty".to_owned());
                    }
                    contact.id = cell.to_owned();
                }
                Column::Email => {
                    if !cell.is_empty() {
                        contact.email = Some(cell.to_owned());
                    }
                }
                Column::Property(slot, declared) => {
                    if let Some(value) = contact.props.get_mut(slot) {
                        *value = convert_cell(cell, declared);
                    }
                }
                Column::Ignored => {}
            }
        }
        Ok(contact)
    }
}

impl<R: io::Read> Iterator for CsvReader<R> {
    type Item = io::Result<Result<Contact, BadLine>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Converts a CSV cell by the property's declared type.
///
/// An empty cell is null. A declared number or boolean that does not parse
/// stays text, so the evaluator reports a wrong type. Undeclared cells are
/// inferred: a finite number, then `true` / `false` (any case), else text.
fn convert_cell(cell: &str, declared: Option<DeclaredType>) -> Value {
    if cell.is_empty() {
        return Value::Null;
    }
    let converted = match declared {
        Some(DeclaredType::Text | DeclaredType::Timestamp) => None,
        Some(DeclaredType::Number) => parse_number(cell),
        Some(DeclaredType::Boolean) => parse_bool(cell),
        None => parse_number(cell).or_else(|| parse_bool(cell)),
    };
    converted.unwrap_or_else(|| Value::Text(cell.into()))
}

fn parse_number(cell: &str) -> Option<Value> {
    cell.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(Value::Number)
}

fn parse_bool(cell: &str) -> Option<Value> {
    if cell.eq_ignore_ascii_case("true") {
        Some(Value::Bool(true))
    } else if cell.eq_ignore_ascii_case("false") {
        Some(Value::Bool(false))
    } else {
        None
    }
}

fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => invalid_data(format!("cannot read the CSV header: {other:?}")),
    }
}

fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Properties a..e in slots 0..4; `size` is a number, `active` a boolean,
    /// `zip` text, `seen` a timestamp, `misc` undeclared.
    fn spec() -> DecodeSpec {
        let names = ["size", "active", "zip", "seen", "misc"];
        DecodeSpec {
            properties: names
                .iter()
                .enumerate()
                .map(|(slot, name)| ((*name).to_owned(), slot))
                .collect(),
            property_types: vec![
                Some(DeclaredType::Number),
                Some(DeclaredType::Boolean),
                Some(DeclaredType::Text),
                Some(DeclaredType::Timestamp),
                None,
            ],
            event_types: crate::snapshot::SlotMap::from_iter([("page_view".to_owned(), 0)]),
            event_props: vec![crate::snapshot::SlotMap::default()],
        }
    }

    fn read(input: &str) -> Vec<Result<Contact, BadLine>> {
        CsvReader::new(input.as_bytes(), &spec())
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn typed_cells() {
        let rows = read(
            "id,email,size,active,zip,seen,other\n\
             c-1,Ana@Acme.io,250,TRUE,00123,2026-11-20,x\n",
        );
        let contact = rows[0].clone().unwrap();
        assert_eq!(contact.id, "c-1");
        assert_eq!(contact.email.as_deref(), Some("Ana@Acme.io"));
        assert_eq!(
            contact.props,
            vec![
                Value::Number(250.0),
                Value::Bool(true),
                text("00123"),
                text("2026-11-20"),
                Value::Missing,
            ]
        );
        assert_eq!(contact.events, vec![Vec::new()]);
    }

    #[test]
    fn declared_types_that_do_not_parse_stay_text() {
        let rows = read("id,size,active\nc-1,lots,yes\nc-2,NaN,false\n");
        assert_eq!(rows[0].clone().unwrap().props[..2], [text("lots"), text("yes")]);
        assert_eq!(
            rows[1].clone().unwrap().props[..2],
            [text("NaN"), Value::Bool(false)]
        );
    }

    #[test]
    fn undeclared_cells_are_inferred() {
        let rows = read("id,misc\na,12.5\nb,False\nc,hello\nd,inf\ne,\nf, 3\n");
        let misc: Vec<Value> = rows.into_iter().map(|r| r.unwrap().props[4].clone()).collect();
        assert_eq!(
            misc,
            vec![
                Value::Number(12.5),
                Value::Bool(false),
                text("hello"),
                text("inf"),
                Value::Null,
                text(" 3"),
            ]
        );
    }

    #[test]
    fn empty_cells_are_null_and_empty_email_is_absent() {
        let rows = read("id,email,size,zip\nc-1,,,\n");
        let contact = rows[0].clone().unwrap();
        assert_eq!(contact.email, None);
        assert_eq!(contact.props[0], Value::Null);
        assert_eq!(contact.props[2], Value::Null);
        assert_eq!(contact.props[1], Value::Missing);
    }

    #[test]
    fn bad_rows_are_reported_with_their_line_and_reading_goes_on() {
        let rows = read("id,size\nc-1,1\nc-2\n,3\n\"c-4\",\"4\"\nc-5,5,extra\n");
        assert_eq!(rows[0].clone().unwrap().id, "c-1");
        assert_eq!(
            rows[1],
            Err(BadLine {
                line: 3,
                reason: "row has 1 fields, the header has 2".to_owned()
            })
        );
        assert_eq!(
            rows[2],
            Err(BadLine {
                line: 4,
                reason: "\"id\" is empty".to_owned()
            })
        );
        assert_eq!(rows[3].clone().unwrap().id, "c-4");
        assert_eq!(rows[3].clone().unwrap().props[0], Value::Number(4.0));
        assert_eq!(
            rows[4],
            Err(BadLine {
                line: 6,
                reason: "row has 3 fields, the header has 2".to_owned()
            })
        );
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn line_numbers_follow_multi_line_fields() {
        let rows = read("id,zip\nc-1,\"a\nb\"\nc-2,z\n");
        assert_eq!(rows[0].clone().unwrap().props[2], text("a\nb"));
        let second = CsvReader::new("id,zip\nc-1,\"a\nb\"\n,z\n".as_bytes(), &spec())
            .unwrap()
            .nth(1)
            .unwrap()
            .unwrap();
        assert_eq!(second.unwrap_err().line, 4);
        assert_eq!(rows[1].clone().unwrap().id, "c-2");
    }

    #[test]
    fn invalid_utf8_cell_is_a_bad_line() {
        let input: &[u8] = b"id,zip\nc-1,\xFF\nc-2,ok\n";
        let rows: Vec<_> = CsvReader::new(input, &spec())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            rows[0],
            Err(BadLine {
                line: 2,
                reason: "field 2 is not valid UTF-8 (at byte 1)".to_owned()
            })
        );
        assert_eq!(rows[1].clone().unwrap().props[2], text("ok"));
    }

    #[test]
    fn byte_order_mark_and_crlf_are_handled() {
        let rows = read("\u{feff}id,size\r\nc-1,7\r\n");
        let contact = rows[0].clone().unwrap();
        assert_eq!(contact.id, "c-1");
        assert_eq!(contact.props[0], Value::Number(7.0));
    }

    #[test]
    fn header_errors() {
        let error = |input: &str| {
            CsvReader::new(input.as_bytes(), &spec())
                .err()
                .map(|e| (e.kind(), e.to_string()))
                .unwrap()
        };
        assert_eq!(
            error("email,size\na@b,1\n"),
            (
                io::ErrorKind::InvalidData,
                "CSV header has no `id` column (columns: email, size)".to_owned()
            )
        );
        assert_eq!(
            error(""),
            (
                io::ErrorKind::InvalidData,
                "CSV input has no header row: the first row must name the columns, including `id`".to_owned()
            )
        );
        assert_eq!(
            error("id,size,size\n"),
            (
                io::ErrorKind::InvalidData,
                "CSV header names column `size` twice".to_owned()
            )
        );
    }

    #[test]
    fn header_only_has_no_records() {
        assert!(read("id,email\n").is_empty());
    }
}
