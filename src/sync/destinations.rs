//! Destinations: normalised, hashed emails as ad platforms' customer lists
//! want them, and the per-target files of `apply --out-dir`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::actions::{hex, ActionKind};
use super::store::{Store, StoreResult};
use crate::atomic_file::AtomicFile;

/// The minimum matched members of an ad audience on each platform, for
/// `plan`'s warnings.
pub const AUDIENCE_MINIMUMS: [(&str, u64); 2] = [("Google", 100), ("LinkedIn", 300)];

/// Normalises an email the way ad platforms' customer-list uploads (Google
/// Customer Match, LinkedIn, Meta) ask: surrounding whitespace removed, lower
/// case, and for `gmail.com` / `googlemail.com` the dots and any `+suffix`
/// removed from the local part. `None` when there is no usable address (no
/// `@`, an empty local part or domain, or whitespace inside).
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.chars().any(char::is_whitespace)
        || domain.contains('@')
    {
        return None;
    }
    if domain == "gmail.com" || domain == "googlemail.com" {
        let local = local.split('+').next().unwrap_or("");
        let local: String = local.chars().filter(|c| *c != '.').collect();
        if local.is_empty() {
            return None;
        }
        return Some(format!("{local}@{domain}"));
    }
    Some(email)
}

/// SHA-256 (lower-case hex) of the normalised email, or `None` when the
/// email is not usable.
pub fn email_sha256(email: &str) -> Option<String> {
    normalize_email(email).map(|e| hex(&Sha256::digest(e.as_bytes())))
}

/// One row of a destination file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: ActionKind,
    pub target: String,
    pub contact: String,
    pub email_sha256: Option<String>,
    /// `task_create` only: task, SLA hours and queue.
    pub task: Option<(String, f64, String)>,
}

/// The destination rows of one applied run, read back from the outbox in
/// emission order (actions of an unknown kind are skipped).
pub fn rows_of_run(store: &Store, run: i64) -> StoreResult<Vec<Row>> {
    let mut rows = Vec::new();
    store.actions_of(run, |a| {
        let Some(kind) = ActionKind::from_name(&a.action) else {
            return Ok(());
        };
        let task = if kind == ActionKind::TaskCreate {
            let v: serde_json::Value = serde_json::from_str(&a.line).unwrap_or_default();
            Some((
                v.get("task").and_then(|t| t.as_str()).unwrap_or("").to_string(),
                v.get("sla_hours")
                    .and_then(serde_json::Value::as_f64)
                    .unwrap_or(0.0),
                v.get("queue").and_then(|t| t.as_str()).unwrap_or("").to_string(),
            ))
        } else {
            None
        };
        rows.push(Row {
            kind,
            target: a.target,
            contact: a.contact,
            email_sha256: a.email_sha256,
            task,
        });
        Ok(())
    })?;
    Ok(rows)
}

/// The `--out-dir` files of one run, built in memory: file name → bytes.
#[derive(Debug, Default)]
pub struct DestinationFiles {
    /// File names (in name order) and their contents.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Per audience: rows without a usable email (kept, with an empty hash).
    pub without_email: BTreeMap<String, u64>,
}

/// The files of one run, one per target:
///
/// - `audience-NAME.csv`: `op,contact_id,email_sha256` (`op` is `add` or `remove`);
/// - `workflow-NAME.csv`: `op,contact_id` (`enroll` or `exit`);
/// - `route-NAME.csv`: `contact_id,task,sla_hours,queue`.
///
/// `targets` lists the files to write even without rows (every declared
/// audience, workflow and route), so an upload step always finds its file.
/// Band changes have no destination file. A row without a usable email is
/// kept with an empty hash and counted in the report; it never fails the file.
pub fn destination_files(targets: &[(ActionKind, String)], rows: &[Row]) -> DestinationFiles {
    let mut report = DestinationFiles::default();
    let files = &mut report.files;
    let file_name = |kind: ActionKind, target: &str| -> Option<String> {
        let prefix = match kind {
            ActionKind::AudienceAdd | ActionKind::AudienceRemove => "audience",
            ActionKind::WorkflowEnroll | ActionKind::WorkflowExit => "workflow",
            ActionKind::TaskCreate => "route",
            ActionKind::BandChange => return None,
        };
        Some(format!("{prefix}-{}.csv", file_safe(target)))
    };
    let header = |kind: ActionKind| -> &'static [u8] {
        match kind {
            ActionKind::AudienceAdd | ActionKind::AudienceRemove => b"op,contact_id,email_sha256\n",
            ActionKind::WorkflowEnroll | ActionKind::WorkflowExit => b"op,contact_id\n",
            _ => b"contact_id,task,sla_hours,queue\n",
        }
    };
    for (kind, target) in targets {
        if let Some(name) = file_name(*kind, target) {
            files.entry(name).or_insert_with(|| header(*kind).to_vec());
        }
    }
    for row in rows {
        let Some(name) = file_name(row.kind, &row.target) else {
            continue;
        };
        let buf = files.entry(name).or_insert_with(|| header(row.kind).to_vec());
        match row.kind {
            ActionKind::AudienceAdd | ActionKind::AudienceRemove => {
                let op = if row.kind == ActionKind::AudienceAdd {
                    "add"
                } else {
                    "remove"
                };
                if row.email_sha256.is_none() {
                    *report.without_email.entry(row.target.clone()).or_default() += 1;
                }
                let _ = writeln!(
                    buf,
                    "{op},{},{}",
                    csv_field(&row.contact),
                    row.email_sha256.as_deref().unwrap_or("")
                );
            }
            ActionKind::WorkflowEnroll | ActionKind::WorkflowExit => {
                let op = if row.kind == ActionKind::WorkflowEnroll {
                    "enroll"
                } else {
                    "exit"
                };
                let _ = writeln!(buf, "{op},{}", csv_field(&row.contact));
            }
            ActionKind::TaskCreate => {
                if let Some((task, sla, queue)) = &row.task {
                    let mut sla_text = Vec::new();
                    crate::output::push_number(&mut sla_text, *sla);
                    let _ = writeln!(
                        buf,
                        "{},{},{},{}",
                        csv_field(&row.contact),
                        csv_field(task),
                        String::from_utf8_lossy(&sla_text),
                        csv_field(queue)
                    );
                }
            }
            ActionKind::BandChange => {}
        }
    }
    report
}

/// Writes `files` into `dir` (created when missing) as temporary files,
/// each written and synced but not yet renamed into place: a full disk
/// fails here, before any file in `dir` has changed. Dropping them removes
/// them; [`AtomicFile::persist`] puts each in place.
pub fn stage_files(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<Vec<AtomicFile>> {
    std::fs::create_dir_all(dir)?;
    let mut staged = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let mut file = AtomicFile::create(&dir.join(name))?;
        file.write_all(bytes)?;
        file.sync()?;
        staged.push(file);
    }
    Ok(staged)
}

/// Writes the files of [`destination_files`] into `dir`: all staged first
/// ([`stage_files`]), then renamed into place. The paths written, in name
/// order.
pub fn write_dir(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<Vec<PathBuf>> {
    let staged = stage_files(dir, files)?;
    for file in staged {
        file.persist()?;
    }
    Ok(files.keys().map(|name| dir.join(name)).collect())
}

/// A target name as a file name. Letters, digits, `_`, `-` and `.` (ASCII)
/// are kept as they are, so names made only of them give the same file
/// names as before; every other character, `%` included, becomes `%XX` for
/// each byte of its UTF-8 encoding. The mapping is reversible, so two
/// different target names never share a file (`` `ads x` `` is
/// `ads%20x`, `ads_x` stays `ads_x`).
fn file_safe(name: &str) -> String {
    let mut safe = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.') {
            safe.push(char::from(byte));
        } else {
            let _ = write!(safe, "%{byte:02X}");
        }
    }
    safe
}

/// A CSV field, quoted when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(normalize_email("  Ana.Lee@Acme.IO ").unwrap(), "ana.lee@acme.io");
    }

    #[test]
    fn gmail_drops_dots_and_plus_suffix() {
        assert_eq!(
            normalize_email("Ana.Lee+ads@GMail.com").unwrap(),
            "analee@gmail.com"
        );
        assert_eq!(
            normalize_email("a.b.c+x+y@googlemail.com").unwrap(),
            "abc@googlemail.com"
        );
        // Other domains keep dots and plus signs.
        assert_eq!(normalize_email("a.b+x@acme.io").unwrap(), "a.b+x@acme.io");
    }

    #[test]
    fn unusable_emails() {
        for e in [
            "",
            "   ",
            "no-at-sign",
            "@acme.io",
            "ana@",
            "ana@localhost",
            "a b@acme.io",
            "+x@gmail.com",
        ] {
            assert_eq!(normalize_email(e), None, "{e:?}");
        }
    }

    #[test]
    fn file_names_keep_safe_names_and_encode_the_rest() {
        assert_eq!(file_safe("ads_x"), "ads_x");
        assert_eq!(file_safe("Ads-2.v1"), "Ads-2.v1");
        assert_eq!(file_safe("ads x"), "ads%20x");
        assert_eq!(file_safe("ads%20x"), "ads%2520x");
        assert_eq!(file_safe("a/b"), "a%2Fb");
        assert_eq!(file_safe("café"), "caf%C3%A9");
    }

    #[test]
    fn targets_differing_only_by_unsafe_characters_get_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let targets = vec![
            (ActionKind::AudienceAdd, "ads x".to_string()),
            (ActionKind::AudienceAdd, "ads_x".to_string()),
            (ActionKind::AudienceAdd, "ads/x".to_string()),
        ];
        let files = destination_files(&targets, &[]).files;
        let written = write_dir(dir.path(), &files).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "audience-ads%20x.csv",
                "audience-ads%2Fx.csv",
                "audience-ads_x.csv"
            ]
        );
    }

    #[test]
    fn known_hash() {
        // echo -n "test@example.com" | sha256sum
        assert_eq!(
            email_sha256(" Test@Example.com").unwrap(),
            "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
        );
    }
}
