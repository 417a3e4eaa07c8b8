//! Progress on stderr for the commands that read a whole snapshot (`run`,
//! `diff`, `plan`, `apply`): how much of the input has been read (a bar and a
//! percentage when its size is known), how long it took, and how many
//! contacts so far where the command counts them. Drawn with indicatif, only
//! on a terminal that can redraw a line (see [`wanted`]).
//!
//! Anything else written to stderr while the line is shown must go through
//! [`Progress::stderr`], which clears the line
//! first and draws it again after, so that a message never runs into it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether stderr can show a progress line: a terminal, not `TERM=dumb`,
/// and not `--quiet`.
pub fn wanted(quiet: bool) -> bool {
    use std::io::IsTerminal as _;
    !quiet && std::io::stderr().is_terminal() && !dumb_terminal()
}

/// `TERM=dumb` (Emacs shells, some CI logs) cannot redraw a line.
fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(250);

/// Nothing is drawn before this, so quick commands never flash a line.
const QUIET_START: Duration = Duration::from_secs(1);

/// A progress line on stderr, or nothing when it is not wanted.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Contacts processed so far, for commands that count them.
    contacts: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    /// No progress line at all.
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            contacts: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(true)),
            ticker: None,
        }
    }

    /// A progress line when `enabled`, following `consumed`, the bytes of the
    /// input read so far: a bar with a percentage when the input's `size` is
    /// known, otherwise the bytes read.
    pub fn start(enabled: bool, size: Option<u64>, consumed: Arc<AtomicU64>) -> Progress {
        if !enabled {
            return Progress::hidden();
        }
        let bar = progress_bar(size, ProgressDrawTarget::stderr_with_hz(4));
        Progress::with_bar(bar, consumed)
    }

    fn with_bar(bar: ProgressBar, consumed: Arc<AtomicU64>) -> Progress {
        let contacts = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, contacts, stop) = (bar.clone(), Arc::clone(&contacts), Arc::clone(&stop));
            std::thread::Builder::new()
                .name(String::from("rubric-progress"))
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        if bar.elapsed() >= QUIET_START && !stop.load(Ordering::Relaxed) {
                            redraw(&bar, &consumed, &contacts);
                        }
                    }
                })
                .ok()
        };
        Progress {
            bar: Some(bar),
            contacts,
            stop,
            ticker,
        }
    }

    /// Records that `contacts` contacts have been processed so far.
    pub fn contacts(&self, contacts: u64) {
        self.contacts.store(contacts, Ordering::Relaxed);
    }

    /// A writer to stderr that clears the progress line around each whole
    /// line it writes (for rejected-line reports).
    pub fn stderr(&self) -> Box<dyn Write + Send> {
        Box::new(LinesAboveProgress {
            bar: self.bar.clone(),
            pending: Vec::new(),
        })
    }

    /// Clears the progress line for good, before the summary.
    pub fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The bar for an input of `size` bytes (a spinner with the bytes read when
/// the size is unknown).
fn progress_bar(size: Option<u64>, target: ProgressDrawTarget) -> ProgressBar {
    match size.filter(|&s| s > 0) {
        Some(size) => {
            let bar = ProgressBar::with_draw_target(Some(size), target);
            bar.set_style(
                ProgressStyle::with_template("{msg}{wide_bar} {percent:>3}% of {total_bytes} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        }
        None => {
            let bar = ProgressBar::with_draw_target(None, target);
            bar.set_style(
                ProgressStyle::with_template("{msg}{bytes} read {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        }
    }
}

/// Moves the bar to the bytes read and shows the contacts counted.
fn redraw(bar: &ProgressBar, consumed: &AtomicU64, contacts: &AtomicU64) {
    let read = consumed.load(Ordering::Relaxed);
    bar.set_position(bar.length().map_or(read, |size| read.min(size)));
    let contacts = contacts.load(Ordering::Relaxed);
    if contacts > 0 {
        let rate = contacts as f64 / bar.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{contacts} contacts ({rate:.0}/s) "));
    }
}

/// Writes whole lines to stderr with the progress line cleared around them.
struct LinesAboveProgress {
    bar: Option<ProgressBar>,
    pending: Vec<u8>,
}

impl LinesAboveProgress {
    fn write_lines(&mut self, upto: usize) -> std::io::Result<()> {
        let lines: Vec<u8> = self.pending.drain(..upto).collect();
        let write = || std::io::stderr().lock().write_all(&lines);
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl Write for LinesAboveProgress {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = memchr::memrchr(b'\n', &self.pending) {
            self.write_lines(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let all = self.pending.len();
        if all > 0 {
            self.write_lines(all)?;
        }
        std::io::stderr().flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_progress_runs_what_it_suspends_and_draws_nothing() {
        let mut progress = Progress::start(false, Some(100), Arc::new(AtomicU64::new(0)));
        assert!(progress.bar.is_none());
        assert!(progress.ticker.is_none());
        progress.contacts(10);
        progress.finish();
    }

    #[test]
    fn a_known_size_gives_a_bar_that_follows_the_bytes_read_never_past_the_size() {
        let bar = progress_bar(Some(1000), ProgressDrawTarget::hidden());
        assert_eq!(bar.length(), Some(1000));
        let (consumed, contacts) = (AtomicU64::new(400), AtomicU64::new(0));
        redraw(&bar, &consumed, &contacts);
        assert_eq!(bar.position(), 400);
        assert_eq!(bar.message(), "", "no contacts counted yet");
        contacts.store(5, Ordering::Relaxed);
        consumed.store(5000, Ordering::Relaxed);
        redraw(&bar, &consumed, &contacts);
        assert_eq!(bar.position(), 1000);
        assert!(bar.message().starts_with("5 contacts ("), "{}", bar.message());
    }

    #[test]
    fn an_unknown_size_counts_bytes_without_a_length() {
        let bar = progress_bar(None, ProgressDrawTarget::hidden());
        assert_eq!(bar.length(), None);
        redraw(&bar, &AtomicU64::new(123), &AtomicU64::new(0));
        assert_eq!(bar.position(), 123);
    }

    #[test]
    fn the_ticker_stops_when_the_progress_finishes() {
        let bar = progress_bar(Some(10), ProgressDrawTarget::hidden());
        let mut progress = Progress::with_bar(bar, Arc::new(AtomicU64::new(3)));
        assert!(progress.ticker.is_some());
        progress.finish();
        assert!(progress.ticker.is_none());
        assert!(progress.bar.as_ref().unwrap().is_finished());
    }

    #[test]
    fn lines_are_written_whole() {
        let mut writer = LinesAboveProgress {
            bar: None,
            pending: Vec::new(),
        };
        writer.write_all(b"rejected line 1").unwrap();
        assert_eq!(writer.pending, b"rejected line 1");
        writer.write_all(b": bad\nrejected").unwrap();
        assert_eq!(writer.pending, b"rejected", "the whole line went out");
        writer.flush().unwrap();
        assert!(writer.pending.is_empty());
    }
}
