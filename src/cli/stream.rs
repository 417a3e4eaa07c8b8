//! Streaming a snapshot: the pieces `run` and `diff` share, so that both read,
//! decode, reject bad lines and repeated ids in exactly the same way.
//!
//! JSON Lines go through [`pipeline`]: a reader thread cuts the input into
//! blocks of whole lines, the calling thread processes each block on the
//! rayon pool (the command's `process`, usually [`decode_lines`] per piece),
//! and a consumer thread takes the processed chunks in input order (the
//! command's `consume`: the duplicate-id check, [`Rejects`], output or
//! aggregation). CSV goes through [`csv_batches`] on one thread.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::snapshot::{decode_line, lines_of, BadLine, Block, BlockReader, Contact, CsvReader, DecodeSpec};

/// Bytes of whole lines read at a time and shared out to the worker threads.
pub(super) const BLOCK_BYTES: usize = 4 << 20;
/// Contacts per batch of CSV input.
pub(super) const BATCH_LINES: usize = 8192;
/// Rejected lines printed to stderr before the rest are only counted.
pub(super) const SHOWN_REJECTS: u64 = 50;

/// One decoded input line.
pub(super) enum Line {
    Blank,
    Bad(BadLine),
    Contact(u64, Contact),
}

/// Decodes the lines of one piece of a block (`first_line` is the number of
/// its first line).
pub(super) fn decode_lines<'a>(
    spec: &'a DecodeSpec,
    first_line: u64,
    data: &'a [u8],
) -> impl Iterator<Item = Line> + 'a {
    lines_of(first_line, data).map(move |(line, text)| {
        let decoded = match text {
            Ok(text) => decode_line(spec, text),
            Err(reason) => Err(reason),
        };
        match decoded {
            Ok(None) => Line::Blank,
            Ok(Some(contact)) => Line::Contact(line, contact),
            Err(reason) => Line::Bad(BadLine { line, reason }),
        }
    })
}

/// The rejection of a line whose id an earlier accepted line already had
/// (SPEC §3: the first line with an id wins). Callers check ids in input
/// order with an [`crate::snapshot::IdSet`].
pub(super) fn repeated_id(line: u64, id: &str) -> BadLine {
    BadLine {
        line,
        reason: format!("id `{id}` repeats an earlier line (the first line with an id wins)"),
    }
}

/// Counts rejected lines, prints the first [`SHOWN_REJECTS`] to stderr, and
/// writes every one to the `--rejects` file when there is one.
pub(super) struct Rejects {
    pub count: u64,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl Rejects {
    pub fn new(file: Option<std::io::BufWriter<std::fs::File>>) -> Rejects {
        Rejects { count: 0, file }
    }

    pub fn reject(&mut self, bad: &BadLine) {
        self.count += 1;
        if self.count <= SHOWN_REJECTS {
            eprintln!("rejected line {}: {}", bad.line, bad.reason);
        } else if self.count == SHOWN_REJECTS + 1 {
            eprintln!("(more rejected lines are counted but not shown; use --rejects FILE to keep them all)");
        }
        if let Some(f) = self.file.as_mut() {
            let record = serde_json::json!({"line": bad.line, "reason": bad.reason});
            let _ = writeln!(f, "{record}");
        }
    }

    pub fn flush(&mut self) {
        if let Some(f) = self.file.as_mut() {
            let _ = f.flush();
        }
    }
}

/// Byte buffers handed back and forth between the reader, the workers and the
/// consumer, so that the large buffers of a run are allocated once, not per
/// block (fresh large allocations make the system allocator's heap grow with
/// the input; see docs/performance.md).
/// One pool per kind of buffer (blocks of input, chunks of output), so that a
/// small buffer never inherits a large one's capacity.
#[derive(Default)]
pub(super) struct BufferPool(std::sync::Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    /// Buffers kept for reuse (enough for the blocks in flight); more are dropped.
    const KEEP: usize = 64;

    pub fn take(&self) -> Vec<u8> {
        self.0.lock().ok().and_then(|mut p| p.pop()).unwrap_or_default()
    }

    pub fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut pool) = self.0.lock() {
            if pool.len() < Self::KEEP {
                pool.push(buffer);
            }
        }
    }
}

/// The JSON Lines pipeline. `process(block, pieces)` runs on the calling
/// thread (and the rayon pool) and cuts a block into about `pieces` chunks;
/// `consume(chunk)` gets every chunk in input order on a consumer thread and
/// returns false to stop the run. Reading, processing and consuming overlap;
/// bounded channels keep a few blocks in memory. With one rayon thread the
/// steps run in turn on the calling thread, with no helper threads.
pub(super) fn pipeline<C: Send>(
    reader: Box<dyn std::io::BufRead + Send>,
    process: impl Fn(&Block, usize) -> Vec<C> + Sync,
    mut consume: impl FnMut(C) -> std::io::Result<bool> + Send,
) -> std::io::Result<()> {
    if rayon::current_num_threads() == 1 {
        let mut blocks = BlockReader::new(reader, BLOCK_BYTES);
        while let Some(block) = blocks.next_block()? {
            for chunk in process(&block, 1) {
                if !consume(chunk)? {
                    return Ok(());
                }
            }
        }
        return Ok(());
    }
    let stop = AtomicBool::new(false);
    let block_pool = BufferPool::default();
    std::thread::scope(|scope| {
        let block_pool = &block_pool;
        let (block_tx, block_rx) = mpsc::sync_channel::<std::io::Result<Block>>(2);
        let (chunk_tx, chunk_rx) = mpsc::sync_channel::<Vec<C>>(2);
        let stop = &stop;
        scope.spawn(move || {
            let mut blocks = BlockReader::new(reader, BLOCK_BYTES);
            while !stop.load(Ordering::Relaxed) {
                let next = blocks.next_block_with(block_pool.take());
                let end = !matches!(next, Ok(Some(_)));
                let item = match next {
                    Ok(Some(block)) => Ok(block),
                    Ok(None) => break,
                    Err(e) => Err(e),
                };
                if block_tx.send(item).is_err() || end {
                    break;
                }
            }
        });
        let consumer = scope.spawn(move || -> std::io::Result<()> {
            for chunks in chunk_rx {
                for chunk in chunks {
                    if !consume(chunk)? {
                        stop.store(true, Ordering::Relaxed);
                        return Ok(());
                    }
                }
            }
            Ok(())
        });
        let mut result = Ok(());
        let pieces = rayon::current_num_threads() * 8;
        for block in block_rx {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let block = match block {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            let chunks = process(&block, pieces);
            block_pool.give(block.data);
            if chunk_tx.send(chunks).is_err() {
                break;
            }
        }
        drop(chunk_tx);
        let consumed = consumer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the consumer thread failed")));
        result.and(consumed)
    })
}

/// CSV input on one thread: batches of [`BATCH_LINES`] records, each pushed
/// into a fresh chunk (`new_chunk`, `push`) and handed to `consume`, which
/// returns false to stop.
pub(super) fn csv_batches<C>(
    reader: Box<dyn std::io::BufRead + Send>,
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

/// Flags shared by the commands that stream a snapshot (`run`, `diff`).
#[derive(Debug, clap::Args)]
pub struct StreamOptions {
    /// Stop at the first rejected line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Also write every rejected line as JSON Lines `{"line":N,"reason":"…"}` to this file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl StreamOptions {
    /// Applies `--threads`. Call it before anything uses rayon (building a
    /// plan's regexes does), or the global pool already has one thread per core.
    pub fn apply_threads(&self) -> Result<(), super::Exit> {
        let Some(n) = self.threads else { return Ok(()) };
        if n == 0 {
            return Err(super::usage_error("`--threads` must be at least 1"));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|_| {
                super::usage_error("`--threads` could not be applied: the thread pool already exists")
            })
    }

    /// Creates the `--rejects` file, when asked for.
    pub fn open_rejects(&self) -> Result<Option<std::io::BufWriter<std::fs::File>>, super::Exit> {
        match &self.rejects {
            Some(path) => std::fs::File::create(path)
                .map(|f| Some(std::io::BufWriter::new(f)))
                .map_err(|e| super::usage_error(format!("cannot write `{}`: {e}", path.display()))),
            None => Ok(None),
        }
    }
}
