//! Progress on stderr for commands that read a whole snapshot (`run`, `diff`,
//! `plan`, `apply`): how many contacts so far, how fast, and how much of the
//! input when its size is known. Drawn with indicatif, only on a terminal.
//!
//! Anything else printed to stderr while a progress line is shown must go
//! through [`Progress::suspend`] (or [`Progress::println`]), which clears the
//! line first, so that a message never runs into it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether stderr is a terminal that can redraw a progress line: not when it
/// is a pipe or a file, not with `TERM=dumb`, and not with `--quiet`.
pub fn wanted(quiet: bool) -> bool {
    use std::io::IsTerminal as _;
    !quiet && std::io::stderr().is_terminal() && !dumb_terminal()
}

/// `TERM=dumb` (Emacs shells, some CI logs) cannot move the cursor.
pub fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// A progress line on stderr, or nothing when it is not wanted.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Bytes of the input read so far, and the input's size.
    input: Option<(Arc<AtomicU64>, u64)>,
}

impl Progress {
    /// No progress line at all.
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            input: None,
        }
    }

    /// A progress line when `enabled`: a bar with a percentage when the
    /// input's `size` is known (with `consumed` counting the bytes read),
    /// otherwise a count of contacts and a rate. Nothing is drawn in the
    /// first second, so quick runs never flash a line.
    pub fn start(enabled: bool, size: Option<u64>, consumed: Arc<AtomicU64>) -> Progress {
        if !enabled {
            return Progress::hidden();
        }
        let target = ProgressDrawTarget::stderr_with_hz(4);
        let (bar, input) = match size.filter(|&s| s > 0) {
            Some(size) => {
                let bar = ProgressBar::with_draw_target(Some(size), target);
                bar.set_style(
                    ProgressStyle::with_template("{msg} {wide_bar} {percent:>3}% {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                (bar, Some((consumed, size)))
            }
            None => {
                let bar = ProgressBar::with_draw_target(None, target);
                bar.set_style(
                    ProgressStyle::with_template("{msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                (bar, None)
            }
        };
        Progress {
            bar: Some(bar),
            input,
        }
    }

    /// Records that `contacts` contacts have been processed.
    pub fn update(&self, contacts: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        let elapsed = bar.elapsed();
        if elapsed < Duration::from_secs(1) {
            return;
        }
        let rate = contacts as f64 / elapsed.as_secs_f64().max(1e-9);
        bar.set_message(format!("{contacts} contacts ({rate:.0}/s)"));
        if let Some((consumed, size)) = &self.input {
            bar.set_position(consumed.load(Ordering::Relaxed).min(*size));
        } else {
            bar.tick();
        }
    }

    /// Runs `print` with the progress line cleared, then draws it again.
    pub fn suspend<T>(&self, print: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Prints one line to stderr above the progress line.
    pub fn println(&self, line: &str) {
        self.suspend(|| eprintln!("{line}"));
    }

    /// Clears the progress line for good, before the summary.
    pub fn finish(&self) {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_progress_runs_what_it_suspends_and_draws_nothing() {
        let progress = Progress::start(false, Some(100), Arc::new(AtomicU64::new(0)));
        assert!(progress.bar.is_none());
        assert_eq!(progress.suspend(|| 7), 7);
        progress.update(10);
        progress.finish();
    }

    #[test]
    fn a_known_size_gives_a_bar_whose_position_follows_the_bytes_read() {
        let consumed = Arc::new(AtomicU64::new(0));
        let progress = Progress::start(true, Some(1000), Arc::clone(&consumed));
        let bar = progress.bar.clone().unwrap();
        assert_eq!(bar.length(), Some(1000));
        consumed.store(400, Ordering::Relaxed);
        // Nothing moves in the first second, so that quick runs draw nothing.
        progress.update(5);
        assert_eq!(bar.position(), 0);
        bar.set_elapsed(Duration::from_secs(2));
        progress.update(5);
        assert_eq!(bar.position(), 400);
        assert!(bar.message().starts_with("5 contacts ("), "{}", bar.message());
        consumed.store(5000, Ordering::Relaxed);
        progress.update(6);
        assert_eq!(bar.position(), 1000, "never past the size");
    }

    #[test]
    fn an_unknown_size_gives_a_count_without_a_bar() {
        let progress = Progress::start(true, None, Arc::new(AtomicU64::new(0)));
        assert_eq!(progress.bar.as_ref().unwrap().length(), None);
    }
}
