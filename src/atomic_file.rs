//! Writing a user's file atomically, the one way rubric replaces a file it
//! was told to write (`apply --out`, the `--out-dir` files, `fmt`).
//!
//! The bytes go to a fresh temporary file in the target's directory, created
//! with `O_EXCL` under a random name (`.NAME.XXXXXX.rubric-tmp`, by the
//! `tempfile` crate), so that no file or symbolic link planted at a
//! predictable name can take its place. Only when every byte is written and
//! synced is it renamed over the target: a reader sees the old file or the
//! whole new one. A rename replaces the target's directory entry, so a
//! symbolic link at the target is replaced, never followed. A failure, or a
//! drop before [`AtomicFile::persist`], removes the temporary file and leaves
//! the target alone; only a process killed while writing leaves one behind.
//! A device, FIFO or socket (`--out /dev/null`) is written directly: renaming
//! a file over it would replace it.
//! The `--rejects` report is written the same way (`src/cli/input.rs`),
//! renamed into place when the snapshot has been read.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempPath};

/// The suffix of every temporary file rubric creates beside a target.
pub const TEMPORARY_SUFFIX: &str = ".rubric-tmp";

/// A file being written beside its target, renamed into place by
/// [`AtomicFile::persist`].
///
/// A target that is a device, a FIFO or a socket (`--out /dev/null`, a named
/// pipe; also through a symbolic link, as `/dev/stdout` is) cannot be
/// replaced by a rename, and must not be: it is written directly.
pub struct AtomicFile {
    path: PathBuf,
    directory: PathBuf,
    file: std::io::BufWriter<Destination>,
    synced: bool,
}

/// Where the bytes of an [`AtomicFile`] go.
enum Destination {
    /// The fresh temporary file beside the target.
    Temporary(NamedTempFile),
    /// The target itself: a device, a FIFO or a socket.
    Special(std::fs::File),
}

impl std::io::Write for Destination {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Destination::Temporary(file) => file.write(bytes),
            Destination::Special(file) => file.write(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Destination::Temporary(file) => file.flush(),
            Destination::Special(file) => file.flush(),
        }
    }
}

impl AtomicFile {
    /// Creates the temporary file of `path`. When `path` is a regular file
    /// already, the new one gets its permissions; otherwise the usual ones of
    /// a new file (read and write for all, less the umask).
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let directory = directory_of(path);
        let destination = if is_special(path) {
            Destination::Special(std::fs::OpenOptions::new().write(true).open(path)?)
        } else {
            let file = temporary_file(path)?;
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                if meta.is_file() {
                    file.as_file().set_permissions(meta.permissions())?;
                }
            }
            Destination::Temporary(file)
        };
        Ok(AtomicFile {
            path: path.to_path_buf(),
            directory,
            file: std::io::BufWriter::with_capacity(1 << 20, destination),
            synced: false,
        })
    }

    /// Writes out what is buffered and syncs the data to disk: after this,
    /// only the rename is left, so a full disk shows here, before any target
    /// has changed. (A special file is only flushed.)
    pub fn sync(&mut self) -> std::io::Result<()> {
        if !self.synced {
            self.file.flush()?;
            if let Destination::Temporary(file) = self.file.get_ref() {
                file.as_file().sync_all()?;
            }
            self.synced = true;
        }
        Ok(())
    }

    /// Syncs the data and renames the file over its target.
    pub fn persist(mut self) -> std::io::Result<()> {
        self.sync()?;
        let Destination::Temporary(file) = self.file.into_inner().map_err(|e| e.into_error())? else {
            return Ok(());
        };
        file.persist(&self.path).map_err(|e| e.error)?;
        // Make the rename itself durable (best effort: not every platform
        // can sync a directory).
        if let Ok(directory) = std::fs::File::open(&self.directory) {
            let _ = directory.sync_all();
        }
        Ok(())
    }
}

/// Whether `path` is (or links to) a device, a FIFO or a socket.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| {
        let kind = meta.file_type();
        !kind.is_file() && !kind.is_dir()
    })
}

impl std::io::Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.synced = false;
        self.file.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.persist()
}

/// An empty file with a fresh name beside `path` (created with `O_EXCL`, so
/// never an existing file or link), removed when the returned path is
/// dropped: for a file that another library fills before it is linked into
/// place (the state file, which SQLite creates).
pub fn fresh_temporary_path(path: &Path) -> std::io::Result<TempPath> {
    Ok(temporary_file(path)?.into_temp_path())
}

/// The directory a temporary file of `path` goes into: its parent, or `.`.
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A new `.NAME.XXXXXX.rubric-tmp` beside `path`, created with `O_EXCL` and
/// the permissions of a new file.
fn temporary_file(path: &Path) -> std::io::Result<NamedTempFile> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMPORARY_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(directory_of(path))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_persisted_file_replaces_the_target_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(names(dir.path()), ["x.jsonl"]);
    }

    #[test]
    fn a_dropped_file_leaves_the_target_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half").unwrap();
        file.sync().unwrap();
        drop(file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(names(dir.path()), ["x.jsonl"]);
    }

    /// Regression (issue 17, item 11): a write that fails after the
    /// temporary file was filled (here the rename, onto a directory) leaves
    /// no temporary file behind.
    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("busy");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap();
        assert!(write_atomically(&target, &[b'a'; 100_000]).is_err());
        assert_eq!(names(dir.path()), ["busy"]);
    }

    /// Regression (issue 17, item 10): a symbolic link planted at the old,
    /// predictable temporary name, or at the target itself, is never
    /// written through.
    #[cfg(unix)]
    #[test]
    fn planted_links_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let path = dir.path().join("x.jsonl");
        std::os::unix::fs::symlink(&victim, dir.path().join(".x.jsonl.rubric-tmp")).unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write_atomically(&path, b"newer\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "newer\n");
        assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
    }

    /// A named pipe (or a device such as `/dev/null`) is written directly,
    /// never replaced by a regular file.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_to_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // No mkfifo here: nothing to check.
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_atomically(&fifo, b"through the pipe\n").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe\n");
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind));
        assert_eq!(names(dir.path()), ["pipe"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.rubric");
        std::fs::write(&path, "old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"new\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
}
