//! Counting rejected lines: the first [`SHOWN_REJECTS`] are shown on the
//! writer the caller hands in (the command line passes stderr), then one note
//! that the rest are only counted; every one is also written as JSON Lines to
//! the `--rejects` file when there is one.

use std::io::Write;

use super::BadLine;

/// Rejected lines shown before the rest are only counted.
pub const SHOWN_REJECTS: u64 = 50;

/// Counts rejected lines and reports them (see the module documentation).
/// Errors writing a report are ignored: a rejection is counted whatever
/// happens to its message.
pub struct Rejects {
    count: u64,
    shown: Box<dyn Write + Send>,
    /// The line written once, after the last shown rejection.
    more: String,
    file: Option<Box<dyn Write + Send>>,
}

impl Rejects {
    /// Shows the first [`SHOWN_REJECTS`] rejected lines on `shown`, each as
    /// `rejected line N: reason`, then the line `more` once.
    pub fn new(shown: Box<dyn Write + Send>, more: impl Into<String>) -> Rejects {
        Rejects {
            count: 0,
            shown,
            more: more.into(),
            file: None,
        }
    }

    /// Also writes every rejected line to `file` as `{"line":N,"reason":"…"}`.
    pub fn with_file(self, file: Option<Box<dyn Write + Send>>) -> Rejects {
        Rejects { file, ..self }
    }

    /// The number of rejected lines so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Counts and reports one rejected line.
    pub fn reject(&mut self, bad: &BadLine) {
        self.count += 1;
        if self.count <= SHOWN_REJECTS {
            let _ = writeln!(self.shown, "rejected line {}: {}", bad.line, bad.reason);
        } else if self.count == SHOWN_REJECTS + 1 {
            let _ = writeln!(self.shown, "{}", self.more);
        }
        if let Some(f) = self.file.as_mut() {
            let record = serde_json::json!({"line": bad.line, "reason": bad.reason});
            let _ = writeln!(f, "{record}");
        }
    }

    /// Flushes the reports (the `--rejects` file is buffered).
    pub fn flush(&mut self) {
        let _ = self.shown.flush();
        if let Some(f) = self.file.as_mut() {
            let _ = f.flush();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer whose bytes the test reads afterwards.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn the_first_rejects_are_shown_then_one_note_and_the_file_gets_all() {
        let (shown, file) = (Shared::default(), Shared::default());
        let mut rejects =
            Rejects::new(Box::new(shown.clone()), "(more)").with_file(Some(Box::new(file.clone())));
        for line in 1..=SHOWN_REJECTS + 5 {
            rejects.reject(&BadLine {
                line,
                reason: String::from("bad"),
            });
        }
        rejects.flush();
        assert_eq!(rejects.count(), SHOWN_REJECTS + 5);
        let shown = shown.text();
        assert_eq!(shown.lines().count() as u64, SHOWN_REJECTS + 1);
        assert!(shown.starts_with("rejected line 1: bad\n"));
        assert!(shown.ends_with("rejected line 50: bad\n(more)\n"));
        let file = file.text();
        assert_eq!(file.lines().count() as u64, SHOWN_REJECTS + 5);
        assert_eq!(file.lines().last().unwrap(), r#"{"line":55,"reason":"bad"}"#);
    }
}
