//! Opening a snapshot (a file, gzip, or standard input) and reading it line by
//! line with 1-based line numbers, without letting one bad line stop the read.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Read buffer for files, decompressed data and standard input.
const BUFFER_BYTES: usize = 256 * 1024;

/// How the contents of an input are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line (docs/formats.md#json-lines).
    JsonLines,
    /// A header row, then one contact per row.
    Csv,
}

/// Opens a snapshot for reading, with its format taken from its name (see
/// [`open_snapshot_input`]).
pub fn open_input(path: &str) -> io::Result<(Box<dyn BufRead + Send>, InputFormat)> {
    let opened = open_snapshot_input(path, None)?;
    Ok((opened.reader, opened.format))
}

/// The two bytes every gzip member starts with (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// An opened snapshot, with what a progress display needs.
pub struct OpenedInput {
    /// The decompressed bytes.
    pub reader: Box<dyn BufRead + Send>,
    pub format: InputFormat,
    /// The size in bytes of the file as stored (compressed for gzip), when
    /// known: `None` for standard input and other streams.
    pub size: Option<u64>,
    /// How many bytes of the file as stored have been read so far; compare
    /// with `size` for a percentage.
    pub consumed: Arc<AtomicU64>,
}

/// Opens a snapshot for reading, with its size and a counter of the bytes
/// read so far (see [`OpenedInput`]).
///
/// `-` is standard input. Any input that starts with the gzip magic bytes
/// is decompressed, whatever its name (and a name ending in `.gz`, any case,
/// is always gzip), possibly several members back to back. The format is
/// `format` when given (`--input-format`); otherwise a name ending in
/// `.csv` (any case, before an optional `.gz`) is CSV, and anything else,
/// standard input included, is JSON Lines.
pub fn open_snapshot_input(path: &str, format: Option<InputFormat>) -> io::Result<OpenedInput> {
    let (raw, name, size): (Box<dyn Read + Send>, &str, Option<u64>) = if path == "-" {
        (Box::new(io::stdin()), "", None)
    } else {
        let file = File::open(path)?;
        let size = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        (Box::new(file), path, size)
    };
    let consumed = Arc::new(AtomicU64::new(0));
    let raw = CountingReader {
        inner: raw,
        consumed: Arc::clone(&consumed),
    };
    let (inner_name, named_gzip) = match strip_suffix_ignore_case(name, ".gz") {
        Some(inner_name) => (inner_name, true),
        None => (name, false),
    };
    let format = format.unwrap_or_else(|| format_of(inner_name));
    let (prefix, rest) = peek(raw, GZIP_MAGIC.len())?;
    let gzip = named_gzip || prefix == GZIP_MAGIC;
    let whole = io::Cursor::new(prefix).chain(rest);
    let reader: Box<dyn BufRead + Send> = if gzip {
        let compressed = BufReader::with_capacity(BUFFER_BYTES, whole);
        let decoder = flate2::bufread::MultiGzDecoder::new(compressed);
        Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder))
    } else {
        Box::new(BufReader::with_capacity(BUFFER_BYTES, whole))
    };
    Ok(OpenedInput {
        reader,
        format,
        size,
        consumed,
    })
}

/// A reader that counts the bytes read through it, for progress.
struct CountingReader<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.consumed.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Reads up to `n` bytes from the start of `reader` (fewer only at the end
/// of the input), returning them and the reader positioned after them, so
/// that the caller can look at the start of a pipe and still read it all.
fn peek<R: Read>(mut reader: R, n: usize) -> io::Result<(Vec<u8>, R)> {
    let mut prefix = Vec::with_capacity(n);
    (&mut reader).take(n as u64).read_to_end(&mut prefix)?;
    Ok((prefix, reader))
}

fn format_of(name: &str) -> InputFormat {
    if strip_suffix_ignore_case(name, ".csv").is_some() {
        InputFormat::Csv
    } else {
        InputFormat::JsonLines
    }
}

fn strip_suffix_ignore_case<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(suffix.len())?;
    let tail = name.get(cut..)?;
    if tail.eq_ignore_ascii_case(suffix) {
        name.get(..cut)
    } else {
        None
    }
}

/// One line of input: its 1-based number and its text, or why it has none.
///
/// The text is `Err(reason)` when the line is not valid UTF-8; the read goes
/// on with the next line, so the caller reports this one as a bad line.
pub type Line<'a> = (u64, Result<&'a str, String>);

/// Reads lines from a [`BufRead`], reusing one buffer.
///
/// Lines end at `\n`; a `\r` before it is dropped too, and so is a UTF-8
/// byte-order mark at the start of the first line. A final line without `\n`
/// is still a line; an empty input has no lines. Invalid UTF-8 never stops the
/// read: such a line is returned as `Err(reason)` (see [`Line`]).
pub struct LineReader<R> {
    reader: R,
    buffer: Vec<u8>,
    line_number: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(reader: R) -> Self {
        LineReader {
            reader,
            buffer: Vec::with_capacity(4096),
            line_number: 0,
        }
    }

    /// The number of the last line returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    /// The next line, or `None` at the end of the input. An `Err` is an I/O
    /// error (including corrupt gzip), after which the input cannot go on.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let Some((number, bytes)) = self.next_line_bytes()? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(bytes).map_err(|error| {
            format!(
                "not valid UTF-8 (at byte {} of the line)",
                error.valid_up_to() + 1
            )
        });
        Ok(Some((number, text)))
    }

    /// Like [`LineReader::next_line`], with the line's bytes not checked
    /// for UTF-8 (for CSV, whose unused columns may hold anything).
    pub fn next_line_bytes(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        self.buffer.clear();
        if self.reader.read_until(b'\n', &mut self.buffer)? == 0 {
            return Ok(None);
        }
        self.line_number += 1;
        let mut bytes = self.buffer.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        if self.line_number == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        Ok(Some((self.line_number, bytes)))
    }

    /// Appends up to `max_lines` lines to `out` as owned strings, for handing
    /// a batch to other threads. Returns how many were appended; 0 means the
    /// end of the input (or `max_lines == 0`).
    pub fn next_batch(
        &mut self,
        max_lines: usize,
        out: &mut Vec<(u64, Result<String, String>)>,
    ) -> io::Result<usize> {
        let mut appended = 0;
        while appended < max_lines {
            let Some((number, text)) = self.next_line()? else {
                break;
            };
            out.push((number, text.map(str::to_owned)));
            appended += 1;
        }
        Ok(appended)
    }
}

/// A run of complete lines read in one go, for handing to worker threads
/// without one allocation per line.
#[derive(Debug, Default)]
pub struct Block {
    /// Whole lines, each ending in `\n` (except perhaps the last line of the input).
    pub data: Vec<u8>,
    /// The 1-based number of the first line in `data`.
    pub first_line: u64,
}

/// The lines of a run of whole lines, numbered from `first_line`, with the
/// same rules as [`LineReader`] (line endings stripped, invalid UTF-8 as
/// `Err`). The byte-order mark is handled by [`BlockReader`].
pub fn lines_of(first_line: u64, data: &[u8]) -> impl Iterator<Item = Line<'_>> {
    let mut rest = data;
    let mut number = first_line;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (mut line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (rest.get(..i).unwrap_or(&[]), rest.get(i + 1..).unwrap_or(&[])),
            None => (rest, &[][..]),
        };
        rest = next;
        line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|error| {
            format!(
                "not valid UTF-8 (at byte {} of the line)",
                error.valid_up_to() + 1
            )
        });
        let item = (number, text);
        number += 1;
        Some(item)
    })
}

/// Reads an input in blocks of whole lines.
pub struct BlockReader<R> {
    reader: R,
    carry: Vec<u8>,
    next_line: u64,
    block_bytes: usize,
    started: bool,
    done: bool,
    /// A read error met after some bytes of the current block had been
    /// read: the block's whole lines are returned first, then this error.
    failed: Option<io::Error>,
}

impl<R: io::Read> BlockReader<R> {
    pub fn new(reader: R, block_bytes: usize) -> Self {
        BlockReader {
            reader,
            carry: Vec::new(),
            next_line: 1,
            block_bytes: block_bytes.max(1),
            started: false,
            done: false,
            failed: None,
        }
    }

    /// The next block of whole lines, or `None` at the end of the input.
    ///
    /// A read error (a truncated or corrupt gzip stream, a failing disk) is
    /// returned after the whole lines read before it: their block comes
    /// first, then the error. The incomplete line at the point of failure is
    /// dropped, never returned as if it were whole.
    pub fn next_block(&mut self) -> io::Result<Option<Block>> {
        self.next_block_with(Vec::new())
    }

    /// Like [`BlockReader::next_block`], filling `buffer` (cleared first), so
    /// that callers can recycle the buffers of blocks they are done with.
    pub fn next_block_with(&mut self, mut buffer: Vec<u8>) -> io::Result<Option<Block>> {
        if let Some(error) = self.failed.take() {
            self.carry.clear();
            self.done = true;
            return Err(error);
        }
        if self.done && self.carry.is_empty() {
            return Ok(None);
        }
        buffer.clear();
        buffer.append(&mut self.carry);
        let mut data = buffer;
        data.reserve(self.block_bytes + 4096);
        // Read until the block is full and holds at least one whole line.
        while !self.done && (data.len() < self.block_bytes || memchr::memchr(b'\n', &data).is_none()) {
            // `read_to_end` through `take` fills the spare capacity without zeroing it first.
            // Fill the block; past its size (a line longer than a block), read on in 64 KiB steps.
            let want = match self.block_bytes.saturating_sub(data.len()) {
                0 => 64 * 1024,
                room => room,
            } as u64;
            match (&mut self.reader).take(want).read_to_end(&mut data) {
                Ok(0) => self.done = true,
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    // Keep the whole lines read so far (`read_to_end` keeps the
                    // bytes it read before failing); report the error next time.
                    let whole = memchr::memrchr(b'\n', &data).map_or(0, |last| last + 1);
                    data.truncate(whole);
                    if data.is_empty() {
                        self.done = true;
                        return Err(error);
                    }
                    self.failed = Some(error);
                    break;
                }
            }
        }
        if !self.started {
            self.started = true;
            if data.starts_with(b"\xEF\xBB\xBF") {
                data.drain(..3);
            }
        }
        if !self.done && self.failed.is_none() {
            if let Some(last) = memchr::memrchr(b'\n', &data) {
                self.carry = data.split_off(last + 1);
            }
        }
        if data.is_empty() {
            return Ok(None);
        }
        let first_line = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &data).count() as u64;
        if !data.ends_with(b"\n") {
            self.next_line += 1;
        }
        Ok(Some(Block { data, first_line }))
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn read_all<R: BufRead>(reader: R) -> Vec<(u64, Result<String, String>)> {
        let mut lines = LineReader::new(reader);
        let mut out = Vec::new();
        while let Some((number, text)) = lines.next_line().unwrap() {
            out.push((number, text.map(str::to_owned)));
        }
        out
    }

    fn ok(number: u64, text: &str) -> (u64, Result<String, String>) {
        (number, Ok(text.to_owned()))
    }

    #[test]
    fn numbers_lines_and_strips_line_endings() {
        let input = b"a\r\n\nb\nc";
        assert_eq!(
            read_all(&input[..]),
            vec![ok(1, "a"), ok(2, ""), ok(3, "b"), ok(4, "c")]
        );
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert_eq!(read_all(&b""[..]), vec![]);
        assert_eq!(read_all(&b"\n"[..]), vec![ok(1, "")]);
    }

    #[test]
    fn byte_order_mark_is_dropped_on_the_first_line_only() {
        let input = b"\xEF\xBB\xBFa\n\xEF\xBB\xBFb\n";
        assert_eq!(read_all(&input[..]), vec![ok(1, "a"), ok(2, "\u{feff}b")]);
    }

    #[test]
    fn invalid_utf8_is_a_bad_line_and_the_read_goes_on() {
        let input = b"{\"id\":\"a\"}\n{\"id\":\"\xFF\"}\r\n{\"id\":\"c\"}\n";
        assert_eq!(
            read_all(&input[..]),
            vec![
                ok(1, "{\"id\":\"a\"}"),
                (2, Err("not valid UTF-8 (at byte 8 of the line)".to_owned())),
                ok(3, "{\"id\":\"c\"}"),
            ]
        );
    }

    #[test]
    fn batches_split_the_input_and_end_with_zero() {
        let mut lines = LineReader::new(&b"a\nb\nc\n"[..]);
        let mut out = Vec::new();
        assert_eq!(lines.next_batch(2, &mut out).unwrap(), 2);
        assert_eq!(out, vec![ok(1, "a"), ok(2, "b")]);
        out.clear();
        assert_eq!(lines.next_batch(2, &mut out).unwrap(), 1);
        assert_eq!(out, vec![ok(3, "c")]);
        assert_eq!(lines.next_batch(2, &mut out).unwrap(), 0);
        assert_eq!(lines.line_number(), 3);
    }

    #[test]
    fn format_comes_from_the_name() {
        assert_eq!(format_of("contacts.jsonl"), InputFormat::JsonLines);
        assert_eq!(format_of("contacts.CSV"), InputFormat::Csv);
        assert_eq!(format_of("csv"), InputFormat::JsonLines);
        assert_eq!(strip_suffix_ignore_case("a.csv.GZ", ".gz"), Some("a.csv"));
        assert_eq!(strip_suffix_ignore_case("gz", ".gz"), None);
        assert_eq!(strip_suffix_ignore_case("é.gz", ".gz"), Some("é"));
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn opens_plain_gzip_and_multi_member_gzip_files() {
        let dir = tempfile::tempdir().unwrap();

        let plain = dir.path().join("contacts.jsonl");
        std::fs::write(&plain, "{\"id\":\"a\"}\n").unwrap();
        let (reader, format) = open_input(plain.to_str().unwrap()).unwrap();
        assert_eq!(format, InputFormat::JsonLines);
        assert_eq!(read_all(reader), vec![ok(1, "{\"id\":\"a\"}")]);

        let gz = dir.path().join("contacts.jsonl.gz");
        let mut bytes = gzip(b"{\"id\":\"a\"}\n{\"id\":");
        bytes.extend(gzip(b"\"b\"}\n"));
        std::fs::write(&gz, bytes).unwrap();
        let (reader, format) = open_input(gz.to_str().unwrap()).unwrap();
        assert_eq!(format, InputFormat::JsonLines);
        assert_eq!(
            read_all(reader),
            vec![ok(1, "{\"id\":\"a\"}"), ok(2, "{\"id\":\"b\"}")]
        );

        let csv_gz = dir.path().join("contacts.Csv.gz");
        std::fs::write(&csv_gz, gzip(b"id\nc-1\n")).unwrap();
        let (mut reader, format) = open_input(csv_gz.to_str().unwrap()).unwrap();
        assert_eq!(format, InputFormat::Csv);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "id\nc-1\n");
    }

    #[test]
    fn corrupt_gzip_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.jsonl.gz");
        let mut bytes = gzip(b"{\"id\":\"a\"}\n");
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, bytes).unwrap();
        let (reader, _) = open_input(path.to_str().unwrap()).unwrap();
        let mut lines = LineReader::new(reader);
        let mut failed = false;
        for _ in 0..3 {
            match lines.next_line() {
                Err(_) => {
                    failed = true;
                    break;
                }
                Ok(None) => break,
                Ok(Some(_)) => {}
            }
        }
        assert!(failed);
    }

    #[test]
    fn gzip_is_recognised_by_its_magic_bytes_whatever_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let unnamed = dir.path().join("export.jsonl");
        std::fs::write(&unnamed, gzip(b"{\"id\":\"a\"}\n")).unwrap();
        let (reader, format) = open_input(unnamed.to_str().unwrap()).unwrap();
        assert_eq!(format, InputFormat::JsonLines);
        assert_eq!(read_all(reader), vec![ok(1, "{\"id\":\"a\"}")]);

        let csv = dir.path().join("export.csv");
        std::fs::write(&csv, gzip(b"id\nc-1\n")).unwrap();
        let (mut reader, format) = open_input(csv.to_str().unwrap()).unwrap();
        assert_eq!(format, InputFormat::Csv);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "id\nc-1\n");
    }

    #[test]
    fn a_given_format_wins_over_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.txt");
        std::fs::write(&path, "id\nc-1\n").unwrap();
        let format = open_snapshot_input(path.to_str().unwrap(), Some(InputFormat::Csv))
            .unwrap()
            .format;
        assert_eq!(format, InputFormat::Csv);
        let format = open_snapshot_input(path.to_str().unwrap(), None).unwrap().format;
        assert_eq!(format, InputFormat::JsonLines);
    }

    #[test]
    fn inputs_shorter_than_the_magic_bytes_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        for text in ["", "x", "\n"] {
            let path = dir.path().join("short.jsonl");
            std::fs::write(&path, text).unwrap();
            let (mut reader, _) = open_input(path.to_str().unwrap()).unwrap();
            let mut read = String::new();
            reader.read_to_string(&mut read).unwrap();
            assert_eq!(read, text);
        }
        let (prefix, mut rest) = peek(&b"\x1f"[..], 2).unwrap();
        assert_eq!(prefix, b"\x1f");
        assert_eq!(rest.read(&mut [0; 4]).unwrap(), 0);
    }

    /// Regression: a truncated `.gz` lost the block of complete lines that
    /// was being read when the decoder failed.
    #[test]
    fn a_truncated_gzip_keeps_every_complete_line_then_reports_the_error() {
        let text: String = (1..=2000)
            .map(|i| format!("{{\"id\":\"c-{i}\",\"n\":{}}}\n", i * 7919 % 1000))
            .collect();
        let mut bytes = gzip(text.as_bytes());
        bytes.truncate(bytes.len() * 2 / 3);
        let recovered = {
            let mut decoder = flate2::read::MultiGzDecoder::new(&bytes[..]);
            let mut out = Vec::new();
            let _ = decoder.read_to_end(&mut out);
            out
        };
        let complete = memchr::memchr_iter(b'\n', &recovered).count();
        assert!(complete > 100, "the test needs a long recoverable prefix");
        for block_bytes in [64, 4096, 1 << 20] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("cut.jsonl.gz");
            std::fs::write(&path, &bytes).unwrap();
            let (reader, _) = open_input(path.to_str().unwrap()).unwrap();
            let mut blocks = BlockReader::new(reader, block_bytes);
            let mut lines = Vec::new();
            let error = loop {
                match blocks.next_block() {
                    Ok(Some(block)) => lines.extend(
                        lines_of(block.first_line, &block.data).map(|(n, t)| (n, t.unwrap().to_owned())),
                    ),
                    Ok(None) => panic!("a truncated gzip must end in an error"),
                    Err(error) => break error,
                }
            };
            assert_eq!(lines.len(), complete, "block size {block_bytes}: {error}");
            let expected: Vec<(u64, String)> = text
                .lines()
                .take(complete)
                .enumerate()
                .map(|(i, l)| (i as u64 + 1, l.to_owned()))
                .collect();
            assert_eq!(lines, expected);
            assert!(blocks.next_block().unwrap().is_none(), "nothing after the error");
        }
    }

    #[test]
    fn the_size_and_the_bytes_read_are_known_for_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.jsonl.gz");
        let bytes = gzip(b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
        std::fs::write(&path, &bytes).unwrap();
        let mut opened = open_snapshot_input(path.to_str().unwrap(), None).unwrap();
        assert_eq!(opened.size, Some(bytes.len() as u64));
        let mut text = String::new();
        opened.reader.read_to_string(&mut text).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(opened.consumed.load(Ordering::Relaxed), bytes.len() as u64);
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.jsonl");
        let error = open_input(path.to_str().unwrap()).err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn blocks_hold_whole_lines_and_number_them_like_line_reader() {
        let input: Vec<u8> = (1..=500)
            .map(|i| format!("{{\"id\":\"c-{i}\"}}\r\n"))
            .collect::<String>()
            .into_bytes();
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(&input);
        with_bom.extend_from_slice(b"\n\xFF\nlast");
        let expected = read_all(&with_bom[..]);
        for block_bytes in [1, 7, 100, 4096, 1 << 20] {
            let mut reader = BlockReader::new(&with_bom[..], block_bytes);
            let mut got = Vec::new();
            while let Some(block) = reader.next_block().unwrap() {
                got.extend(lines_of(block.first_line, &block.data).map(|(n, t)| (n, t.map(str::to_owned))));
            }
            assert_eq!(got, expected, "block size {block_bytes}");
        }
    }
}
