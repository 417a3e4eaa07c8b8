//! An ordered parallel pipeline over the blocks of a line-based input: worker
//! threads each take the next block of whole lines from a shared reader,
//! process it with their own state, and the results are consumed in input
//! order. `run`, `diff`, `plan` and `apply` read JSON Lines snapshots through
//! it; it knows nothing about contacts or rules.
//!
//! The caller gives it its number of threads ([`Pipeline::new`]); it starts
//! and joins its own scoped threads and touches no global thread pool.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::snapshot::{Block, BlockReader};

/// Bytes of whole lines read at a time and shared out to the worker threads.
pub const BLOCK_BYTES: usize = 1 << 20;

/// The pipeline's settings: how many worker threads, and how many bytes of
/// whole lines each block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pipeline {
    threads: usize,
    block_bytes: usize,
}

impl Pipeline {
    /// A pipeline of `threads` workers (at least one) over blocks of
    /// [`BLOCK_BYTES`].
    pub fn new(threads: usize) -> Pipeline {
        Pipeline {
            threads: threads.max(1),
            block_bytes: BLOCK_BYTES,
        }
    }

    /// The same pipeline over blocks of about `block_bytes` bytes (whole
    /// lines; a longer line makes a longer block).
    pub fn with_block_bytes(self, block_bytes: usize) -> Pipeline {
        Pipeline { block_bytes, ..self }
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs the pipeline, consuming results on whichever worker the output
    /// waits for.
    ///
    /// With one thread the steps run in turn on the calling thread: read a
    /// block, `process` it, `consume` the result.
    ///
    /// With `n` threads, `n` workers each repeat: take the next block from the
    /// shared reader (a short critical section: one read and a newline count),
    /// `process` it with their own state (made by `worker_state`), and hand the
    /// result over in input order. Whoever hands over the result the output is
    /// waiting for becomes the *emitter*: it `consume`s that result and every
    /// later one already waiting, then goes back to work. So there is no
    /// dispatcher or writer thread, no barrier between blocks, and no thread
    /// spinning while it waits. At most `AHEAD_PER_THREAD`·`n` blocks are read
    /// ahead of the output, which bounds memory whatever the size of the input.
    ///
    /// `consume` returns false to stop the run (a closed output, `--strict`).
    /// The first read or consume error stops the workers and is returned.
    pub fn run<W, C: Send>(
        &self,
        reader: impl std::io::Read + Send,
        worker_state: impl Fn() -> W + Sync,
        process: impl Fn(&mut W, &Block) -> C + Sync,
        consume: impl FnMut(C) -> std::io::Result<bool> + Send,
    ) -> std::io::Result<()> {
        let blocks = BlockReader::new(reader, self.block_bytes);
        if self.threads <= 1 {
            return serial(blocks, worker_state, process, consume);
        }
        let shared = Shared::new(blocks, self.threads, Some(Mutex::new(consume)));
        std::thread::scope(|scope| {
            for _ in 0..self.threads {
                spawn_worker(scope, || shared.work(worker_state(), &process));
            }
        });
        shared.result()
    }

    /// Like [`Pipeline::run`], but every result is consumed on the calling
    /// thread, for a `consume` that must stay on one thread (it holds a SQLite
    /// connection): the workers read and process blocks, and the caller waits
    /// for each result in turn.
    pub fn run_on_caller<W, C: Send>(
        &self,
        reader: impl std::io::Read + Send,
        worker_state: impl Fn() -> W + Sync,
        process: impl Fn(&mut W, &Block) -> C + Sync,
        mut consume: impl FnMut(C) -> std::io::Result<bool>,
    ) -> std::io::Result<()> {
        let blocks = BlockReader::new(reader, self.block_bytes);
        if self.threads <= 1 {
            return serial(blocks, worker_state, process, consume);
        }
        // No consume in `Shared`: results wait in order for this thread.
        let shared: Shared<_, C, fn(C) -> std::io::Result<bool>> = Shared::new(blocks, self.threads, None);
        std::thread::scope(|scope| {
            for _ in 0..self.threads {
                spawn_worker(scope, || shared.work(worker_state(), &process));
            }
            while let Some(result) = shared.next_result() {
                let outcome = if shared.stopped() {
                    Ok(false)
                } else {
                    consume(result)
                };
                shared.consumed(outcome);
            }
        });
        shared.result()
    }
}

/// The stack of a worker thread: as large as the main thread's, so that a
/// condition nested up to the parser's limit (`syntax::MAX_NESTING_DEPTH`)
/// evaluates on a worker as it does on the main thread (Rust's default for
/// spawned threads is 2 MiB).
const WORKER_STACK_BYTES: usize = 8 << 20;

/// Spawns a worker with [`WORKER_STACK_BYTES`] of stack (or the default
/// stack, should that fail).
fn spawn_worker<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    work: impl FnOnce() + Send + Copy + 'scope,
) {
    let built = std::thread::Builder::new()
        .stack_size(WORKER_STACK_BYTES)
        .spawn_scoped(scope, work);
    if built.is_err() {
        scope.spawn(work);
    }
}

/// Reads and processes every block on the calling thread, in turn.
fn serial<W, C>(
    mut blocks: BlockReader<impl std::io::Read>,
    worker_state: impl Fn() -> W,
    process: impl Fn(&mut W, &Block) -> C,
    mut consume: impl FnMut(C) -> std::io::Result<bool>,
) -> std::io::Result<()> {
    let mut state = worker_state();
    while let Some(block) = blocks.next_block()? {
        if !consume(process(&mut state, &block))? {
            break;
        }
    }
    Ok(())
}

/// Byte buffers handed back and forth between the reader, the workers and the
/// consumer, so that the large buffers of a run are allocated once, not per
/// block (fresh large allocations make the system allocator's heap grow with
/// the input; see docs/performance.md).
/// One pool per kind of buffer (blocks of input, chunks of output), so that a
/// small buffer never inherits a large one's capacity.
#[derive(Default)]
pub struct BufferPool(std::sync::Mutex<Vec<Vec<u8>>>);

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

/// Blocks read ahead of the output, per worker thread.
const AHEAD_PER_THREAD: usize = 3;

struct Input<R> {
    blocks: BlockReader<R>,
    /// The sequence number of the next block read.
    next_seq: u64,
}

struct Order<C> {
    /// The sequence number of the next result to consume.
    next: u64,
    /// Results that came back before their turn.
    waiting: BTreeMap<u64, C>,
    /// A worker is consuming results (only one at a time, in order).
    emitting: bool,
    /// The number of blocks, once the reader has reached the end.
    blocks: Option<u64>,
    /// The first error of the run (reading or consuming).
    error: Option<std::io::Error>,
}

struct Shared<R, C, F> {
    input: Mutex<Input<R>>,
    order: Mutex<Order<C>>,
    /// Signalled when `order.next` moves on, or when the run stops.
    room: Condvar,
    /// Signalled when a result is queued, the input ends, or the run stops
    /// (for [`Pipeline::run_on_caller`]).
    ready: Condvar,
    /// `None` when the calling thread consumes ([`Pipeline::run_on_caller`]).
    consume: Option<Mutex<F>>,
    stop: AtomicBool,
    pool: BufferPool,
    ahead: u64,
}

/// A mutex's value even if another thread panicked while holding it (our
/// critical sections leave the data consistent at every step).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<R, C, F> Shared<R, C, F>
where
    R: std::io::Read,
    F: FnMut(C) -> std::io::Result<bool>,
{
    fn new(blocks: BlockReader<R>, threads: usize, consume: Option<Mutex<F>>) -> Self {
        Shared {
            input: Mutex::new(Input { blocks, next_seq: 0 }),
            order: Mutex::new(Order {
                next: 0,
                waiting: BTreeMap::new(),
                emitting: false,
                blocks: None,
                error: None,
            }),
            room: Condvar::new(),
            ready: Condvar::new(),
            consume,
            stop: AtomicBool::new(false),
            pool: BufferPool::default(),
            ahead: (AHEAD_PER_THREAD * threads) as u64,
        }
    }

    /// The first error of the run, if any.
    fn result(self) -> std::io::Result<()> {
        let order = self.order.into_inner().unwrap_or_else(PoisonError::into_inner);
        match order.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn work<W>(&self, mut state: W, process: &impl Fn(&mut W, &Block) -> C) {
        while let Some((seq, block)) = self.next_block() {
            let result = process(&mut state, &block);
            self.pool.give(block.data);
            match &self.consume {
                Some(consume) => self.hand_over(seq, result, consume),
                None => {
                    lock(&self.order).waiting.insert(seq, result);
                    self.ready.notify_all();
                }
            }
        }
    }

    /// The next block and its sequence number, once there is room for it;
    /// `None` at the end of the input, on an error, or when the run stops.
    fn next_block(&self) -> Option<(u64, Block)> {
        let mut input = lock(&self.input);
        let mut order = lock(&self.order);
        while !self.stopped() && input.next_seq >= order.next + self.ahead {
            order = self.room.wait(order).unwrap_or_else(PoisonError::into_inner);
        }
        drop(order);
        if self.stopped() {
            return None;
        }
        match input.blocks.next_block_with(self.pool.take()) {
            Ok(Some(block)) => {
                let seq = input.next_seq;
                input.next_seq += 1;
                Some((seq, block))
            }
            Ok(None) => {
                lock(&self.order).blocks = Some(input.next_seq);
                self.ready.notify_all();
                None
            }
            Err(e) => {
                // A read error ends the input there: the blocks read before
                // it are still processed and consumed, then the run returns
                // the error (a truncated gzip keeps every complete line).
                let mut order = lock(&self.order);
                order.error.get_or_insert(e);
                order.blocks = Some(input.next_seq);
                drop(order);
                self.ready.notify_all();
                None
            }
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        // Take the lock so that no waiter misses the wake-up between its
        // check and its wait.
        drop(lock(&self.order));
        self.room.notify_all();
        self.ready.notify_all();
    }

    fn fail(&self, error: std::io::Error) {
        lock(&self.order).error.get_or_insert(error);
        self.halt();
    }

    /// Moves the output on after a result was consumed, and stops the run
    /// when `consume` said so or failed.
    fn consumed(&self, outcome: std::io::Result<bool>) {
        let mut order = lock(&self.order);
        order.next += 1;
        drop(order);
        self.room.notify_all();
        match outcome {
            Ok(true) => {}
            Ok(false) => self.halt(),
            Err(e) => self.fail(e),
        }
    }

    /// For [`Pipeline::run_on_caller`]: waits for the result the output needs
    /// next; `None` once every block is consumed or the run stopped.
    fn next_result(&self) -> Option<C> {
        let mut order = lock(&self.order);
        loop {
            let next = order.next;
            if let Some(result) = order.waiting.remove(&next) {
                return Some(result);
            }
            if self.stopped() || order.blocks.is_some_and(|n| next >= n) {
                return None;
            }
            order = self.ready.wait(order).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Queues a block's result; when it is the one the output waits for,
    /// consumes it and every later result already waiting.
    fn hand_over(&self, seq: u64, result: C, consume: &Mutex<F>) {
        let mut order = lock(&self.order);
        order.waiting.insert(seq, result);
        if order.emitting {
            return;
        }
        order.emitting = true;
        loop {
            let next = order.next;
            let Some(result) = order.waiting.remove(&next) else {
                break;
            };
            drop(order);
            let outcome = if self.stopped() {
                Ok(false)
            } else {
                (lock(consume))(result)
            };
            self.consumed(outcome);
            order = lock(&self.order);
        }
        order.emitting = false;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::snapshot::lines_of;
    use std::io::Read;

    /// `lines` numbered lines `n\n`.
    fn numbered(lines: u64) -> Vec<u8> {
        (1..=lines)
            .map(|n| format!("{n}\n"))
            .collect::<String>()
            .into_bytes()
    }

    /// Each block becomes the list of (line number, text) of its lines, after
    /// a delay that differs between blocks so that results come back out of
    /// order.
    fn lines_of_block(_: &mut (), block: &Block) -> Vec<(u64, String)> {
        let delay = (block.first_line * 7919) % 5;
        std::thread::sleep(std::time::Duration::from_micros(delay * 200));
        lines_of(block.first_line, &block.data)
            .map(|(n, t)| (n, t.unwrap().to_owned()))
            .collect()
    }

    /// Both pipelines with each number of threads.
    fn modes(threads: &[usize]) -> Vec<(bool, usize)> {
        [false, true]
            .into_iter()
            .flat_map(|on_caller| threads.iter().map(move |&t| (on_caller, t)))
            .collect()
    }

    /// Runs [`Pipeline::run`] (`on_caller` false) or [`Pipeline::run_on_caller`].
    fn run(
        on_caller: bool,
        reader: impl Read + Send,
        block_bytes: usize,
        threads: usize,
        consume: impl FnMut(Vec<(u64, String)>) -> std::io::Result<bool> + Send,
    ) -> std::io::Result<()> {
        let pipeline = Pipeline::new(threads).with_block_bytes(block_bytes);
        if on_caller {
            pipeline.run_on_caller(reader, || (), lines_of_block, consume)
        } else {
            pipeline.run(reader, || (), lines_of_block, consume)
        }
    }

    #[test]
    fn results_are_consumed_in_input_order_with_any_number_of_threads() {
        let input = numbered(2000);
        for (on_caller, threads) in modes(&[1, 2, 3, 8]) {
            for block_bytes in [1, 10, 333, 1 << 20] {
                let mut seen = Vec::new();
                run(on_caller, &input[..], block_bytes, threads, |lines| {
                    seen.extend(lines);
                    Ok(true)
                })
                .unwrap();
                assert_eq!(
                    seen.len(),
                    2000,
                    "{threads} threads, on caller {on_caller}, blocks of {block_bytes}"
                );
                for (i, (n, text)) in seen.iter().enumerate() {
                    assert_eq!(*n, i as u64 + 1);
                    assert_eq!(text, &n.to_string());
                }
            }
        }
    }

    #[test]
    fn consume_returning_false_stops_after_that_result() {
        let input = numbered(5000);
        for (on_caller, threads) in modes(&[1, 2, 4]) {
            let mut calls = 0;
            let mut last = 0;
            run(on_caller, &input[..], 20, threads, |lines| {
                calls += 1;
                last = lines.last().map_or(0, |l| l.0);
                Ok(calls < 10)
            })
            .unwrap();
            assert_eq!(calls, 10, "{threads} threads, on caller {on_caller}");
            // The last line consumed is the last line of the tenth block.
            let mut blocks = BlockReader::new(&input[..], 20);
            let tenth = (0..10)
                .filter_map(|_| blocks.next_block().unwrap())
                .last()
                .unwrap();
            let lines = lines_of(tenth.first_line, &tenth.data).count() as u64;
            assert_eq!(
                last,
                tenth.first_line + lines - 1,
                "{threads} threads, on caller {on_caller}"
            );
            assert!(last > 10, "blocks of several lines");
        }
    }

    #[test]
    fn a_consume_error_is_returned_and_stops_the_run() {
        let input = numbered(5000);
        for (on_caller, threads) in modes(&[1, 2]) {
            let mut calls = 0;
            let result = run(on_caller, &input[..], 20, threads, |_| {
                calls += 1;
                if calls == 3 {
                    Err(std::io::Error::other("disk full"))
                } else {
                    Ok(true)
                }
            });
            assert_eq!(result.unwrap_err().to_string(), "disk full");
            assert_eq!(calls, 3, "{threads} threads, on caller {on_caller}");
        }
    }

    /// Yields `good` bytes, then fails.
    struct FailingReader {
        data: Vec<u8>,
        at: usize,
    }

    impl Read for FailingReader {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.at >= self.data.len() {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = buf.len().min(self.data.len() - self.at).min(7);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_is_returned_after_the_lines_before_it() {
        for (on_caller, threads) in modes(&[1, 2]) {
            let reader = FailingReader {
                data: numbered(300),
                at: 0,
            };
            let mut seen = Vec::new();
            let result = run(on_caller, reader, 16, threads, |lines| {
                seen.extend(lines);
                Ok(true)
            });
            assert_eq!(result.unwrap_err().to_string(), "connection reset");
            // Every line read before the error was consumed, in order.
            assert_eq!(seen.len(), 300, "{threads} threads, on caller {on_caller}");
            assert!(seen.iter().enumerate().all(|(i, (n, _))| *n == i as u64 + 1));
        }
    }
}
