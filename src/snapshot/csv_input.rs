//! Reading a CSV snapshot (docs/formats.md#csv): a header row with an `id` column, an
//! optional `email` column, every other column a property; one contact per
//! row, no events. Cells are typed by the plan's declared property types, or
//! inferred when a property has none.

use std::io;

use super::{BadLine, Contact, DeclaredType, DecodeSpec, FieldValue, LineReader};

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

/// Reads contacts from CSV, one per line.
///
/// Each line is one row: a quoted field may hold commas and quotes (`""`)
/// but must end on the line it starts on. A line whose quotes are not well
/// formed (a quoted field left open, which would otherwise swallow the lines
/// after it, or a quote inside an unquoted field) is a bad row, and reading
/// goes on with the next line, so no row can hide other rows. A bad row
/// (also: wrong number of fields, empty `id`, invalid UTF-8) is returned as a
/// [`BadLine`] with its line number. Empty lines are skipped. Only I/O
/// errors stop the read.
pub struct CsvReader<R> {
    lines: LineReader<R>,
    parser: csv_core::Reader,
    /// The current line, with a `\n` appended for the parser.
    line: Vec<u8>,
    /// The fields of the current row, back to back, and where each ends
    /// (the first `field_count` entries of `ends`).
    fields: Vec<u8>,
    ends: Vec<usize>,
    field_count: usize,
    record_line: u64,
    columns: Vec<Column>,
    property_slots: usize,
    event_slots: usize,
}

/// Why a line is not one well-formed CSV row, if it is not.
fn quoting_problem(line: &[u8]) -> Option<&'static str> {
    let mut bytes = line.iter().copied().peekable();
    let mut field_start = true;
    let mut in_quotes = false;
    let mut after_closing_quote = false;
    while let Some(b) = bytes.next() {
        if in_quotes {
            if b == b'"' {
                if bytes.peek() == Some(&b'"') {
                    bytes.next();
                } else {
                    in_quotes = false;
                    after_closing_quote = true;
                }
            }
            continue;
        }
        match b {
            b',' => {
                field_start = true;
                after_closing_quote = false;
                continue;
            }
            b'"' if field_start => in_quotes = true,
            b'"' => {
                return Some(
                    "a quote inside an unquoted field (quote the field and double the quote: `\"a\"\"b\"`)",
                )
            }
            _ if after_closing_quote => return Some("text after the closing quote of a field"),
            _ => {}
        }
        field_start = false;
    }
    in_quotes.then_some(
        "a quoted field is not closed on this line (each row is one line; a quote left open would swallow the rows after it)",
    )
}

impl<R: io::BufRead> CsvReader<R> {
    /// Reads the header row and maps its columns onto `spec`'s slots.
    ///
    /// Fails with [`io::ErrorKind::InvalidData`] when there is no header row,
    /// it has no `id` column, names a column twice, is not valid UTF-8 or
    /// its quotes are not well formed.
    pub fn new(reader: R, spec: &DecodeSpec) -> io::Result<Self> {
        let mut csv = CsvReader {
            lines: LineReader::new(reader),
            parser: csv_core::Reader::new(),
            line: Vec::new(),
            fields: vec![0; 1024],
            ends: vec![0; 64],
            field_count: 0,
            record_line: 0,
            columns: Vec::new(),
            property_slots: spec.property_slot_count(),
            event_slots: spec.event_types.len(),
        };
        let header = match csv.next_row()? {
            None => {
                return Err(invalid_data(
                    "CSV input has no header row: the first row must name the columns, including `id`"
                        .to_owned(),
                ))
            }
            Some(Err(reason)) => return Err(invalid_data(format!("cannot read the CSV header: {reason}"))),
            Some(Ok(())) => csv.row_fields().map(<[u8]>::to_vec).collect::<Vec<_>>(),
        };

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
        csv.columns = columns;
        Ok(csv)
    }

    /// Reads the next non-empty line into `fields` / `ends`: `Ok(())` for a
    /// well-formed row, `Err(reason)` for a bad one; `None` at the end.
    fn next_row(&mut self) -> io::Result<Option<Result<(), String>>> {
        loop {
            let Some((number, bytes)) = self.lines.next_line_bytes()? else {
                return Ok(None);
            };
            self.record_line = number;
            if bytes.is_empty() {
                continue;
            }
            if let Some(problem) = quoting_problem(bytes) {
                return Ok(Some(Err(format!("not a valid CSV row: {problem}"))));
            }
            self.line.clear();
            self.line.extend_from_slice(bytes);
            self.line.push(b'\n');
            return Ok(Some(self.parse_line()));
        }
    }

    /// Splits the well-formed line in `line` into fields.
    fn parse_line(&mut self) -> Result<(), String> {
        self.parser.reset();
        let (mut input, mut out_at, mut ends_at) = (0, 0, 0);
        loop {
            let rest = self.line.get(input..).unwrap_or(&[]);
            let output = self.fields.get_mut(out_at..).unwrap_or(&mut []);
            let ends = self.ends.get_mut(ends_at..).unwrap_or(&mut []);
            let (result, nin, nout, nends) = self.parser.read_record(rest, output, ends);
            input += nin;
            out_at += nout;
            ends_at += nends;
            match result {
                csv_core::ReadRecordResult::Record => {
                    self.field_count = ends_at;
                    return Ok(());
                }
                csv_core::ReadRecordResult::OutputFull => {
                    let len = self.fields.len().max(1) * 2;
                    self.fields.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len().max(1) * 2;
                    self.ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                    return Err("not a valid CSV row: the row does not end on its line".to_owned());
                }
            }
        }
    }

    /// The fields of the row read last.
    fn row_fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        let ends = self.ends.get(..self.field_count).unwrap_or(&[]);
        ends.iter().map(move |&end| {
            let field = self.fields.get(start..end).unwrap_or(&[]);
            start = end;
            field
        })
    }

    /// The next row as a contact or a bad line; `None` at the end.
    pub fn next_record(&mut self) -> io::Result<Option<Result<Contact, BadLine>>> {
        let line = match self.next_row()? {
            None => return Ok(None),
            Some(Err(reason)) => {
                return Ok(Some(Err(BadLine {
                    line: self.record_line,
                    reason,
                })))
            }
            Some(Ok(())) => self.record_line,
        };
        Ok(Some(
            self.decode_record().map_err(|reason| BadLine { line, reason }),
        ))
    }

    /// The line the last row returned by [`CsvReader::next_record`] is on.
    pub fn record_line(&self) -> u64 {
        self.record_line
    }

    fn decode_record(&self) -> Result<Contact, String> {
        if self.field_count != self.columns.len() {
            return Err(format!(
                "row has {} fields, the header has {}",
                self.field_count,
                self.columns.len()
            ));
        }
        let mut contact = Contact {
            id: String::new(),
            email: None,
            props: vec![FieldValue::Missing; self.property_slots],
            events: vec![Vec::new(); self.event_slots],
            lists: Vec::new(),
        };
        for (index, (column, raw)) in self.columns.iter().zip(self.row_fields()).enumerate() {
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

impl<R: io::BufRead> Iterator for CsvReader<R> {
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
fn convert_cell(cell: &str, declared: Option<DeclaredType>) -> FieldValue {
    if cell.is_empty() {
        return FieldValue::Null;
    }
    let converted = match declared {
        // A CSV cell is always text: `number from text` reads it as `number` does.
        Some(DeclaredType::Text | DeclaredType::Timestamp | DeclaredType::List) => None,
        Some(DeclaredType::Number | DeclaredType::NumberFromText) => parse_number(cell),
        Some(DeclaredType::Boolean | DeclaredType::BooleanFromText) => parse_bool(cell),
        None => parse_number(cell).or_else(|| parse_bool(cell)),
    };
    converted.unwrap_or_else(|| FieldValue::Text(cell.into()))
}

fn parse_number(cell: &str) -> Option<FieldValue> {
    cell.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(FieldValue::Number)
}

fn parse_bool(cell: &str) -> Option<FieldValue> {
    if cell.eq_ignore_ascii_case("true") {
        Some(FieldValue::Bool(true))
    } else if cell.eq_ignore_ascii_case("false") {
        Some(FieldValue::Bool(false))
    } else {
        None
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

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
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
                FieldValue::Number(250.0),
                FieldValue::Bool(true),
                text("00123"),
                text("2026-11-20"),
                FieldValue::Missing,
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
            [text("NaN"), FieldValue::Bool(false)]
        );
    }

    #[test]
    fn undeclared_cells_are_inferred() {
        let rows = read("id,misc\na,12.5\nb,False\nc,hello\nd,inf\ne,\nf, 3\n");
        let misc: Vec<FieldValue> = rows.into_iter().map(|r| r.unwrap().props[4].clone()).collect();
        assert_eq!(
            misc,
            vec![
                FieldValue::Number(12.5),
                FieldValue::Bool(false),
                text("hello"),
                text("inf"),
                FieldValue::Null,
                text(" 3"),
            ]
        );
    }

    #[test]
    fn empty_cells_are_null_and_empty_email_is_absent() {
        let rows = read("id,email,size,zip\nc-1,,,\n");
        let contact = rows[0].clone().unwrap();
        assert_eq!(contact.email, None);
        assert_eq!(contact.props[0], FieldValue::Null);
        assert_eq!(contact.props[2], FieldValue::Null);
        assert_eq!(contact.props[1], FieldValue::Missing);
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
        assert_eq!(rows[3].clone().unwrap().props[0], FieldValue::Number(4.0));
        assert_eq!(
            rows[4],
            Err(BadLine {
                line: 6,
                reason: "row has 3 fields, the header has 2".to_owned()
            })
        );
        assert_eq!(rows.len(), 5);
    }

    /// Regression: a quote left open on row 10 of 1,000 swallowed the 990
    /// rows after it into one cell, with no rejected line, and a full apply
    /// then treated them as absent.
    #[test]
    fn an_unterminated_quote_rejects_its_own_row_only() {
        let mut input = String::from("id,email,size,zip\n");
        for i in 0..1000 {
            if i == 9 {
                input.push_str("c9,u9@acme.io,260,\"VP Marketing\n");
            } else {
                input.push_str(&format!("c{i},u{i}@acme.io,{i},z{i}\n"));
            }
        }
        let rows = read(&input);
        assert_eq!(rows.len(), 1000, "one result per line");
        let rejected: Vec<&BadLine> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 11);
        assert!(
            rejected[0].reason.contains("not closed on this line"),
            "{}",
            rejected[0].reason
        );
        assert_eq!(rows[10].clone().unwrap().id, "c10");
        assert_eq!(rows[999].clone().unwrap().props[2], text("z999"));
    }

    /// Regression: with a later quote, the rows between collapsed into one
    /// rejected row, so accepted + rejected was not the number of rows.
    #[test]
    fn every_line_is_one_row_whatever_the_quotes_after_it() {
        let rows = read("id,zip\nc-1,\"open\nc-2,z\nc-3,\"x\"\"y\"\nc-4,\"a, b\"\n");
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].as_ref().unwrap_err().line, 2);
        assert_eq!(rows[1].clone().unwrap().props[2], text("z"));
        assert_eq!(rows[2].clone().unwrap().props[2], text("x\"y"));
        assert_eq!(rows[3].clone().unwrap().props[2], text("a, b"));
    }

    #[test]
    fn a_multi_line_cell_is_reported_line_by_line_never_merged() {
        let rows = read("id,zip\nc-1,\"a\nb\"\nc-2,z\n");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].as_ref().unwrap_err().line, 2);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        assert!(rows[1]
            .as_ref()
            .unwrap_err()
            .reason
            .contains("quote inside an unquoted field"));
        assert_eq!(rows[2].clone().unwrap().id, "c-2");
    }

    #[test]
    fn quoting_is_checked_strictly() {
        assert_eq!(quoting_problem(b"a,b,c"), None);
        assert_eq!(quoting_problem(b"\"a\",\"\",\"b\"\"c\",d"), None);
        assert_eq!(quoting_problem(b"\"a,b\""), None);
        assert_eq!(quoting_problem(b""), None);
        assert!(quoting_problem(b"a\"b").is_some());
        assert!(quoting_problem(b"\"a\"b").is_some());
        assert!(quoting_problem(b"\"a").is_some());
        assert!(quoting_problem(b"\"a\"\"").is_some());
        assert!(quoting_problem(b"x,\"").is_some());
    }

    #[test]
    fn empty_lines_are_skipped_and_numbers_still_count_them() {
        let rows = read("id,size\n\nc-1,1\n\n,2\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].clone().unwrap().id, "c-1");
        assert_eq!(rows[1].as_ref().unwrap_err().line, 5);
    }

    #[test]
    fn long_rows_and_many_fields_grow_the_buffers() {
        let header: Vec<String> = (0..200).map(|i| format!("p{i}")).collect();
        let cells: Vec<String> = (0..200).map(|i| "x".repeat(50 + i)).collect();
        let input = format!("id,{}\nc-1,{}\n", header.join(","), cells.join(","));
        let rows = read(&input);
        assert_eq!(rows[0].clone().unwrap().id, "c-1");
        let bad = format!("id,{}\nc-1,{}\n", header.join(","), cells[..10].join(","));
        assert_eq!(
            read(&bad)[0].as_ref().unwrap_err().reason,
            "row has 11 fields, the header has 201"
        );
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
        assert_eq!(contact.props[0], FieldValue::Number(7.0));
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
