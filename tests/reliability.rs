//! Regressions of issue 17 (reliability) on the real binary: symbolic links
//! in rule directories and at output paths, outputs that fail, `plan` on a
//! corrupt state, and numbers out of range. The kill -9 tests are in
//! `sync_crash.rs`, the fuzz harness in `fuzz.rs`; docs/reliability.md lists
//! them all.

use std::path::{Path, PathBuf};

use crate::common::rubric;
use crate::sync_crash::snapshot;

const AS_OF: &str = "2026-11-28T00:00:00Z";

/// A formatted rule file, and the same rule badly laid out.
const FORMATTED: &str = "score fit 0..100 {\n  \"size\" when company_size >= 200 => +60\n}\n";
const UNFORMATTED: &str = "score  fit 0..100 {\n\"size\"   when company_size >= 200 => +60\n}\n";

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `rubric apply --rules rules` of a small snapshot into `dir/state.db`.
fn apply(dir: &Path, extra: &[&str]) -> assert_cmd::Command {
    let contacts = dir.join("contacts.jsonl");
    if !contacts.exists() {
        std::fs::write(&contacts, snapshot(40, 0)).unwrap();
    }
    let mut cmd = rubric();
    cmd.args(["apply", "--rules", "rules", "--as-of", AS_OF, "--state"])
        .arg(dir.join("state.db"))
        .arg("--contacts")
        .arg(&contacts)
        .args(extra);
    cmd
}

/// The number of runs a state file logs.
fn runs(state: &Path) -> i64 {
    let conn = rusqlite::Connection::open(state).unwrap();
    conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap()
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Regression (issue 17, item 10): a rule-directory entry that links to a
/// file outside the directory is refused, and its text is never shown.
#[cfg(unix)]
#[test]
fn a_rule_directory_link_to_a_file_outside_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("secret.rubric");
    std::fs::write(&outside, "this is not a rule set: SECRET\n").unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("a.rubric"), FORMATTED).unwrap();
    std::os::unix::fs::symlink(&outside, rules.join("b.rubric")).unwrap();
    for command in ["check", "fmt"] {
        let output = rubric().arg(command).arg(&rules).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("is a symbolic link to a file outside"),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("SECRET"), "{command}: {stderr}");
    }
    assert_eq!(text(&outside), "this is not a rule set: SECRET\n");
}

/// Regression (issue 17, item 10): `fmt DIR` rewrites a file reached
/// through a link inside the directory at the link's target, atomically,
/// and the link stays a link.
#[cfg(unix)]
#[test]
fn fmt_writes_a_linked_rule_file_at_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("shared")).unwrap();
    let target = rules.join("shared").join("fit.rubric.txt");
    std::fs::write(&target, UNFORMATTED).unwrap();
    let link = rules.join("fit.rubric");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    rubric().arg("fmt").arg(&rules).assert().success();
    assert_eq!(text(&target), FORMATTED);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(names(&rules), ["fit.rubric", "shared"]);
    assert_eq!(names(&rules.join("shared")), ["fit.rubric.txt"]);
}

/// Regression (issue 17, item 10): a link planted at the temporary name
/// `apply --out x.jsonl` used to write through does not redirect it.
#[cfg(unix)]
#[test]
fn a_link_planted_at_the_old_temporary_name_is_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let out = dir.path().join("x.jsonl");
    std::os::unix::fs::symlink(&victim, dir.path().join(".x.jsonl.rubric-tmp")).unwrap();
    apply(dir.path(), &["--out", arg(&out)]).assert().success();
    assert_eq!(text(&victim), "precious\n");
    assert!(text(&out).lines().count() > 10);
}

/// Regression (issue 17, item 11): when the `--out-dir` files cannot be
/// written, the error says that nothing was applied and what `--out`
/// holds; the state logs no run and no temporary file remains.
#[test]
fn a_failing_out_dir_says_nothing_was_applied_and_what_out_holds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("actions.jsonl");
    std::fs::write(&out, "earlier\n").unwrap();
    let upload = dir.path().join("upload");
    std::fs::write(&upload, "a file, not a directory").unwrap();
    let output = apply(dir.path(), &["--out", arg(&out), "--out-dir", arg(&upload)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("nothing was applied (the state file was not committed)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`{}` was left unchanged", out.display())),
        "{stderr}"
    );
    assert_eq!(text(&out), "earlier\n");
    assert_eq!(runs(&dir.path().join("state.db")), 0);
    assert!(
        names(dir.path()).iter().all(|n| !n.ends_with(".rubric-tmp")),
        "{:?}",
        names(dir.path())
    );
    // Without `--out`, the actions went to stdout: the error says so.
    let output = apply(dir.path(), &["--out-dir", arg(&upload)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the actions written to stdout were not applied"),
        "{stderr}"
    );
}

/// Regression (issue 17, item 11): writing `--out` fails after its
/// temporary file was filled (here the rename, onto a directory, as a full
/// disk fails the write): nothing is applied and no temporary file remains.
#[test]
fn a_failing_out_file_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep"), "x").unwrap();
    let output = apply(dir.path(), &["--out", arg(&out)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing was applied"), "{stderr}");
    assert_eq!(
        names(dir.path()),
        ["contacts.jsonl", "out", "state.db", "state.db-lock"]
    );
    assert_eq!(runs(&dir.path().join("state.db")), 0);
}

/// Regression (issue 17, item 11): `plan` against a state file with an
/// unreadable entry prints no action before it exits 2.
#[test]
fn plan_on_a_corrupt_state_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    apply(dir.path(), &["--out", arg(&dir.path().join("run1.jsonl"))])
        .assert()
        .success();
    let state: PathBuf = dir.path().join("state.db");
    // The last contact of the snapshot: every other one is planned first.
    let conn = rusqlite::Connection::open(&state).unwrap();
    let changed = conn
        .execute("UPDATE contacts SET bands = '{' WHERE id = 'c-39'", [])
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let later = dir.path().join("later.jsonl");
    std::fs::write(&later, snapshot(40, 1)).unwrap();
    let output = rubric()
        .args(["plan", "--rules", "rules", "--as-of", AS_OF, "--state"])
        .arg(&state)
        .arg("--contacts")
        .arg(&later)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unreadable entry for contact `c-39`"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
}

/// Regression (issue 17, item 12): `company_size: 1e400` rejected its line
/// while the same number under an unused key was accepted. Both lines are
/// now evaluated; the read one is a value of the wrong type.
#[test]
fn a_number_out_of_range_never_rejects_a_line_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let contacts = dir.path().join("contacts.jsonl");
    std::fs::write(
        &contacts,
        "{\"id\":\"a\",\"properties\":{\"company_size\":1e400}}\n\
         {\"id\":\"b\",\"properties\":{\"unused\":1e400,\"company_size\":250}}\n\
         {\"id\":1e400}\n",
    )
    .unwrap();
    let output = rubric()
        .args(["run", "--rules", "rules", "--as-of", AS_OF, "--contacts"])
        .arg(&contacts)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stderr.contains("of the wrong type"), "{stderr}");
    assert!(
        stderr.contains("rejected line 3: not valid JSON: number out of range"),
        "{stderr}"
    );
}

/// Regression (issue 17, item 10): the `--rejects` report is written
/// atomically too, so a link at its path is replaced, not written through.
#[cfg(unix)]
#[test]
fn the_rejects_file_replaces_a_link_instead_of_writing_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let rejects = dir.path().join("rejects.jsonl");
    std::os::unix::fs::symlink(&victim, &rejects).unwrap();
    let contacts = dir.path().join("contacts.jsonl");
    std::fs::write(&contacts, "{\"id\":\"a\"}\nnot json\n").unwrap();
    let output = rubric()
        .args(["run", "--rules", "rules", "--as-of", AS_OF, "--contacts"])
        .arg(&contacts)
        .arg("--rejects")
        .arg(&rejects)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(text(&victim), "precious\n");
    assert!(!std::fs::symlink_metadata(&rejects)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(text(&rejects).starts_with("{\"line\":2,"), "{}", text(&rejects));
    assert_eq!(
        names(dir.path()),
        ["contacts.jsonl", "rejects.jsonl", "victim.txt"]
    );
}

/// Regression (issue 17, item 11), with a real full disk: `/dev/full`
/// fails every write with "no space left on device". Nothing is applied,
/// the error says so, and the device is written to, never replaced.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_applies_nothing_and_says_so() {
    use std::os::unix::fs::FileTypeExt as _;
    let full = Path::new("/dev/full");
    if !std::fs::metadata(full).is_ok_and(|m| m.file_type().is_char_device()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = apply(dir.path(), &["--out", "/dev/full"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write `/dev/full`"), "{stderr}");
    assert!(stderr.contains("nothing was applied"), "{stderr}");
    assert_eq!(runs(&dir.path().join("state.db")), 0);
    assert!(std::fs::metadata(full).unwrap().file_type().is_char_device());
}
