//! Where the base rule set of a diff can come from besides a path: a git
//! revision of the `--rules` path, read with `git ls-tree` / `git cat-file`
//! in the repository that holds it, into in-memory [`Sources`] whose files
//! are named `REV:path/in/repo.rubric`.

use std::path::Path;
use std::process::Command;

use crate::source::{SourceFile, Sources};

/// Runs git in `dir`; stdout, or an error with git's message.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// The rule files of the `rules` path (a file or a directory) at a git
/// revision, read in the repository that holds `rules`. Errors are messages
/// for the user.
pub fn sources_at_revision(rev: &str, rules: &Path) -> Result<Sources, String> {
    let is_dir = rules.is_dir();
    if !is_dir && !rules.is_file() {
        return Err(format!(
            "`--base {rev}` is not a path, and `--rules {}` does not exist",
            rules.display()
        ));
    }
    let (dir, file) = if is_dir {
        (rules.to_path_buf(), None)
    } else {
        let parent = rules
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (
            parent.to_path_buf(),
            rules.file_name().map(|f| f.to_string_lossy().into_owned()),
        )
    };
    let prefix = git(&dir, &["rev-parse", "--show-prefix"]).map_err(|e| {
        format!(
            "`--base {rev}` is not a path, and `{}` is not in a git repository, so it cannot be a revision either ({e})",
            dir.display()
        )
    })?;
    let prefix = String::from_utf8_lossy(&prefix).trim().to_string();
    git(
        &dir,
        &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")],
    )
    .map_err(|_| {
        format!(
            "`--base {rev}` is neither a path nor a revision of the git repository of `{}`",
            dir.display()
        )
    })?;
    let read = |object: &str| -> Result<String, String> {
        let bytes = git(&dir, &["cat-file", "blob", object])?;
        String::from_utf8(bytes).map_err(|e| format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()))
    };
    let mut sources = Sources::default();
    if let Some(file) = file {
        let name = format!("{rev}:{prefix}{file}");
        let text = read(&format!("{rev}:./{file}")).map_err(|e| format!("cannot read `{name}`: {e}"))?;
        sources.add(SourceFile::new(name, text));
        return Ok(sources);
    }
    // `--full-tree`: in a subdirectory, ls-tree would otherwise filter the
    // listing by the subdirectory's path a second time.
    let listing = git(&dir, &["ls-tree", "-z", "--full-tree", &format!("{rev}:./")])
        .map_err(|e| format!("`{}` does not exist at revision `{rev}` ({e})", rules.display()))?;
    let mut files: Vec<(String, String)> = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, name)) = entry.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (Some(mode), Some(kind), Some(object)) = (meta.next(), meta.next(), meta.next()) else {
            continue;
        };
        // Regular files only, like `Sources::load` (not recursive; no symlinks).
        if kind == "blob" && mode != "120000" && name.ends_with(".rubric") {
            files.push((name.to_string(), object.to_string()));
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "no `.rubric` files in `{}` at revision `{rev}`",
            rules.display()
        ));
    }
    for (name, object) in files {
        let shown = format!("{rev}:{prefix}{name}");
        let text = read(&object).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        sources.add(SourceFile::new(shown, text));
    }
    Ok(sources)
}
