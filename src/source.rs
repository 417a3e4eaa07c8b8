//! Source files of a rule set and byte spans into them.
//!
//! Every AST node carries a [`Span`]; diagnostics and traces turn spans into
//! `file:line:column` through [`Sources`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
///
/// Spans are plain data: AST nodes that carry them compare equal only when
/// written at the same place. Whether two rule sets mean the same is judged
/// on their compiled plans, not on their ASTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both (assumed to be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One rule file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (or as found in the directory), for messages.
    pub name: String,
    pub text: Arc<str>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, column + 1)
    }
}

/// All files of one rule set, in the order they were loaded (sorted by name
/// for a directory, so results never depend on directory iteration order).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX))
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The text a span covers, or "" when it is out of range.
    pub fn text(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }

    /// `file:line:column` of the start of a span.
    pub fn location(&self, span: Span) -> Location {
        match self.get(span.file) {
            Some(file) => {
                let (line, column) = file.line_col(span.start as usize);
                Location {
                    file: file.name.clone(),
                    line,
                    column,
                }
            }
            None => Location {
                file: String::from("<unknown>"),
                line: 0,
                column: 0,
            },
        }
    }

    /// Loads a rule set: one `.rubric` file, or every `*.rubric` file in a
    /// directory (not recursive), sorted by file name. A directory entry
    /// that is a symbolic link to a file outside the directory is refused
    /// ([`LoadError::LinkOutside`]), not read: nothing outside the directory
    /// is read, echoed in a diagnostic or rewritten by `fmt` (issue 17).
    pub fn load(path: &Path) -> Result<Sources, LoadError> {
        let mut paths: Vec<PathBuf> = Vec::new();
        let meta = std::fs::metadata(path).map_err(|e| LoadError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| LoadError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            for entry in entries {
                let entry = entry.map_err(|e| LoadError::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                let p = entry.path();
                if p.extension().is_some_and(|e| e == "rubric") && p.is_file() {
                    if entry.file_type().is_ok_and(|t| t.is_symlink()) && !links_inside(path, &p) {
                        return Err(LoadError::LinkOutside {
                            path: p.display().to_string(),
                            dir: path.display().to_string(),
                        });
                    }
                    paths.push(p);
                }
            }
            paths.sort();
            if paths.is_empty() {
                return Err(LoadError::Empty {
                    path: path.display().to_string(),
                });
            }
        } else {
            paths.push(path.to_path_buf());
        }
        let mut sources = Sources::default();
        for p in paths {
            let bytes = std::fs::read(&p).map_err(|e| LoadError::Io {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            let text = String::from_utf8(bytes).map_err(|e| LoadError::Utf8 {
                path: p.display().to_string(),
                offset: e.utf8_error().valid_up_to(),
            })?;
            sources.add(SourceFile::new(p.display().to_string(), text));
        }
        Ok(sources)
    }
}

/// Whether the symbolic link `link`, an entry of the rule directory `dir`,
/// leads to a file inside `dir` (through any number of links).
fn links_inside(dir: &Path, link: &Path) -> bool {
    match (std::fs::canonicalize(dir), std::fs::canonicalize(link)) {
        (Ok(dir), Ok(target)) => target.starts_with(dir),
        _ => false,
    }
}

/// A human location, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Why a rule set could not be read at all (before any parsing).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{path}`: {message}")]
    Io { path: String, message: String },
    #[error("no `.rubric` files in directory `{path}`")]
    Empty { path: String },
    #[error("`{path}` is not valid UTF-8 (first invalid byte at offset {offset})")]
    Utf8 { path: String, offset: usize },
    #[error("`{path}` is a symbolic link to a file outside `{dir}`, which rubric does not follow; copy the file into the directory, or link to a file inside it")]
    LinkOutside { path: String, dir: String },
}
