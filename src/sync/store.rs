//! The state store: one SQLite file holding, per contact, the last applied
//! bands, memberships and routes; the log of applied runs; and the outbox of
//! every action emitted. Schema versioned with migrations (`PRAGMA user_version`).
//!
//! Architecture Invariant: `apply` changes the file only inside one
//! transaction (`BEGIN IMMEDIATE` … `COMMIT`), so the file is always entirely
//! before or entirely after a run, and two applies never both compute against
//! the same state.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension as _};

use super::ContactState;
use crate::atomic_file::fresh_temporary_path;

/// The schema version this rubric reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Migrations: entry `i` upgrades a file from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema.
    "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        applied_at   TEXT NOT NULL,
        as_of        TEXT NOT NULL,
        as_of_micros INTEGER NOT NULL,
        rules        TEXT NOT NULL,
        snapshot     TEXT NOT NULL,
        mode         TEXT NOT NULL,
        contacts     INTEGER NOT NULL,
        rejected     INTEGER NOT NULL,
        actions      INTEGER NOT NULL,
        dropped      INTEGER NOT NULL
    );
    CREATE TABLE contacts (
        id           TEXT PRIMARY KEY,
        bands        TEXT NOT NULL,
        audiences    TEXT NOT NULL,
        workflows    TEXT NOT NULL,
        routes       TEXT NOT NULL,
        email_sha256 TEXT
    ) WITHOUT ROWID;
    CREATE TABLE actions (
        run          INTEGER NOT NULL,
        seq          INTEGER NOT NULL,
        id           TEXT NOT NULL UNIQUE,
        contact      TEXT NOT NULL,
        action       TEXT NOT NULL,
        target       TEXT NOT NULL,
        email_sha256 TEXT,
        line         TEXT NOT NULL,
        PRIMARY KEY (run, seq)
    );",
];

/// The default `--state` path, relative to the working directory.
pub const DEFAULT_STATE: &str = ".rubric/state.db";

/// One applied run, as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub applied_at: String,
    pub as_of: String,
    pub as_of_micros: i64,
    pub rules: String,
    pub snapshot: String,
    pub mode: String,
    pub contacts: i64,
    pub rejected: i64,
    pub actions: i64,
    pub dropped: i64,
}

/// One stored action, as re-read from the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAction {
    pub contact: String,
    pub action: String,
    pub target: String,
    pub email_sha256: Option<String>,
    /// The JSON line exactly as emitted, without its newline.
    pub line: String,
}

/// One applied `band_change` or `task_create`, with its run's as-of and rule
/// digest: what `measure --state` reads ([`Store::applied_entries`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppliedEntry<'a> {
    pub run: i64,
    /// The run's as-of (µs since the epoch): when the change took effect.
    pub as_of_micros: i64,
    /// The run's rule-set digest (the model version).
    pub rules: &'a str,
    pub contact: &'a str,
    pub kind: AppliedKind<'a>,
}

/// What an [`AppliedEntry`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AppliedKind<'a> {
    /// The contact's band `band` took the value `to` (`None`: the band was
    /// removed from the rules).
    BandChange { band: &'a str, to: Option<&'a str> },
    /// A task of route `route` was created in `queue` with an SLA of
    /// `sla_hours`.
    TaskCreate {
        route: &'a str,
        queue: &'a str,
        sla_hours: f64,
    },
}

/// The fields of an action line that [`Store::applied_entries`] needs.
#[derive(serde::Deserialize)]
struct ActionDetail<'a> {
    #[serde(borrow, default)]
    to: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    queue: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    sla_hours: Option<f64>,
}

/// An open state file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    instance: String,
}

/// A state-store error, as a message for the user (exit status 2).
pub type StoreResult<T> = Result<T, String>;

/// The lock an apply holds on its state file for its whole life, from
/// before it reads the state until the process is done (an exclusive
/// `flock` on the `STATE-lock` file beside it, released by the system when
/// the process ends, however it ends). A second apply waits for it, so it
/// never sees the delivery of a live apply as pending
/// ([`Store::set_delivery_pending`]): a pending delivery it finds is that of
/// an apply that was killed. On other systems than Unix there is no such
/// lock.
pub struct ApplyLock {
    _file: Option<std::fs::File>,
}

impl ApplyLock {
    /// Takes the lock of the state file `path` (creating its directory and
    /// the lock file when missing), waiting up to `wait` for another apply.
    pub fn acquire(path: &Path, wait: Duration) -> StoreResult<ApplyLock> {
        create_the_directory(path)?;
        #[cfg(unix)]
        {
            let mut lock_path = path.as_os_str().to_owned();
            lock_path.push("-lock");
            let lock_path = PathBuf::from(lock_path);
            // Never truncated nor written: only locked.
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)
                .map_err(|e| format!("cannot lock the state file `{}`: {e}", path.display()))?;
            let started = std::time::Instant::now();
            loop {
                match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                    Ok(()) => return Ok(ApplyLock { _file: Some(file) }),
                    Err(rustix::io::Errno::WOULDBLOCK) if started.elapsed() < wait => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(rustix::io::Errno::WOULDBLOCK) => return Err(busy_message(path, wait)),
                    // A file system without flock: the SQLite lock still
                    // serialises the applies.
                    Err(_) => return Ok(ApplyLock { _file: None }),
                }
            }
        }
        #[cfg(not(unix))]
        Ok(ApplyLock { _file: None })
    }
}

/// Creates the directory of the state file `path` when missing.
fn create_the_directory(path: &Path) -> StoreResult<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!(
                    "cannot create the directory of the state file `{}`: {e}",
                    path.display()
                )
            })?;
        }
    }
    Ok(())
}

/// What an apply says when another one holds the state file longer than
/// `--wait`.
fn busy_message(path: &Path, wait: Duration) -> String {
    format!(
        "another `rubric apply` is using the state file `{}` (waited {} s); run again when it has finished, or wait longer with `--wait SECONDS`",
        path.display(),
        wait.as_secs()
    )
}

impl Store {
    /// Opens (creating it and its directory when missing) a state file for
    /// `apply`, upgrading an older schema. Waits up to `wait` for another
    /// process holding the file.
    pub fn open(path: &Path, wait: Duration) -> StoreResult<Store> {
        create_the_directory(path)?;
        refuse_an_empty_file(path)?;
        if !path.exists() {
            create_with_a_header(path);
        }
        let conn = Connection::open(path).map_err(|e| open_error(path, &e))?;
        let mut store = Store::configure(conn, path, wait)?;
        store.migrate(wait)?;
        Ok(store)
    }

    /// Opens an existing state file for reading (`plan`, `actions`); `None`
    /// when the file does not exist (an empty state).
    pub fn open_existing(path: &Path, wait: Duration) -> StoreResult<Option<Store>> {
        if !path.exists() {
            return Ok(None);
        }
        refuse_an_empty_file(path)?;
        let mut store = Store::open_to_read(path, wait)?;
        let version = store.version()?;
        if version == 0 {
            // A file created but never migrated (an apply killed at its very
            // start) holds no state yet.
            return Ok(None);
        }
        check_version(path, version)?;
        if version < SCHEMA_VERSION {
            return Err(format!(
                "the state file `{}` has schema version {version}; run `rubric apply` once to upgrade it to version {SCHEMA_VERSION}",
                path.display()
            ));
        }
        store.instance = store.read_instance()?;
        Ok(Some(store))
    }

    /// Opens an existing file to read it: read-write when allowed (so that a
    /// WAL file can be recovered), else read-only. Reading a WAL-mode file needs
    /// its `-shm` file, which a directory without write access cannot hold;
    /// then, when no write-ahead log holds data, the file is read as immutable
    /// (no locks, no `-shm`): nothing can change it while its directory stays
    /// read-only.
    fn open_to_read(path: &Path, wait: Duration) -> StoreResult<Store> {
        let normal = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .or_else(|_| {
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        })
        .map_err(|e| open_error(path, &e))
        .and_then(|conn| Store::configure(conn, path, wait));
        let error = match normal {
            Ok(store) => return Ok(store),
            Err(error) => error,
        };
        let Some(uri) = immutable_uri(path).filter(|_| !write_ahead_log_holds_data(path)) else {
            return Err(error);
        };
        let flags =
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        match Connection::open_with_flags(&uri, flags) {
            Ok(conn) => Store::configure(conn, path, wait).map_err(|_| error),
            Err(_) => Err(error),
        }
    }

    fn configure(conn: Connection, path: &Path, wait: Duration) -> StoreResult<Store> {
        conn.busy_timeout(wait).map_err(|e| open_error(path, &e))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            instance: String::new(),
        };
        // Reading the version first turns "not a database" into a clear message.
        store.version()?;
        // WAL lets `plan` read while an `apply` writes; FULL makes a commit durable.
        // A read-only file keeps its journal mode.
        let _ = store.conn.pragma_update(None, "journal_mode", "WAL");
        let _ = store.conn.pragma_update(None, "synchronous", "FULL");
        Ok(store)
    }

    fn version(&self) -> StoreResult<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| self.error("read", &e))
    }

    fn migrate(&mut self, wait: Duration) -> StoreResult<()> {
        self.begin(wait)?;
        let result = (|| {
            let version = self.version()?;
            check_version(&self.path, version)?;
            if version == 0 {
                let foreign: i64 = self
                    .conn
                    .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                    .map_err(|e| self.error("read", &e))?;
                if foreign > 0 {
                    return Err(format!(
                        "`{}` is an SQLite database but not a rubric state file; pass another `--state` path",
                        self.path.display()
                    ));
                }
            }
            let start = usize::try_from(version).unwrap_or(0);
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
                self.conn
                    .execute_batch(sql)
                    .map_err(|e| self.error("upgrade", &e))?;
                self.conn
                    .pragma_update(None, "user_version", (i + 1) as i64)
                    .map_err(|e| self.error("upgrade", &e))?;
            }
            if version == 0 {
                let instance = new_instance_id(&self.path);
                self.conn
                    .execute(
                        "INSERT INTO meta (key, value) VALUES ('instance', ?1), ('created_at', ?2)",
                        params![instance, chrono::Utc::now().to_rfc3339()],
                    )
                    .map_err(|e| self.error("write", &e))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => self.commit()?,
            Err(e) => {
                self.rollback();
                return Err(e);
            }
        }
        self.instance = self.read_instance()?;
        Ok(())
    }

    fn read_instance(&self) -> StoreResult<String> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'instance'", [], |r| r.get(0))
            .map_err(|e| self.error("read", &e))
    }

    /// The state file's instance id (part of every action id).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts the write transaction of an apply, waiting up to `wait` for
    /// another apply to finish.
    pub fn begin(&mut self, wait: Duration) -> StoreResult<()> {
        match self.conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => Ok(()),
            Err(e) if is_busy(&e) => Err(busy_message(&self.path, wait)),
            Err(e) => Err(self.error("lock", &e)),
        }
    }

    /// Starts a read transaction (`plan`): a consistent view of the state.
    pub fn begin_read(&mut self) -> StoreResult<()> {
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(|e| self.error("read", &e))
    }

    pub fn commit(&mut self) -> StoreResult<()> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| self.error("commit", &e))
    }

    /// Abandons the current transaction (nothing it wrote remains).
    pub fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// The last applied run, if any.
    pub fn last_run(&self) -> StoreResult<Option<RunRecord>> {
        self.conn
            .query_row(
                &format!("{RUN_COLUMNS} ORDER BY id DESC LIMIT 1"),
                [],
                run_from_row,
            )
            .optional()
            .map_err(|e| self.error("read", &e))
    }

    /// Every applied run, oldest first.
    pub fn runs(&self) -> StoreResult<Vec<RunRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{RUN_COLUMNS} ORDER BY id"))
            .map_err(|e| self.error("read", &e))?;
        let rows = stmt
            .query_map([], run_from_row)
            .map_err(|e| self.error("read", &e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error("read", &e))
    }

    /// One run, if it exists.
    pub fn run(&self, id: i64) -> StoreResult<Option<RunRecord>> {
        self.conn
            .query_row(&format!("{RUN_COLUMNS} WHERE id = ?1"), [id], run_from_row)
            .optional()
            .map_err(|e| self.error("read", &e))
    }

    /// The stored state of one contact.
    pub fn get(&self, id: &str) -> StoreResult<Option<ContactState>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT bands, audiences, workflows, routes, email_sha256 FROM contacts WHERE id = ?1",
            )
            .map_err(|e| self.error("read", &e))?;
        let row = stmt
            .query_row([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .optional()
            .map_err(|e| self.error("read", &e))?;
        match row {
            None => Ok(None),
            Some((b, a, w, r, e)) => ContactState::decode(&b, &a, &w, &r, e)
                .map(Some)
                .map_err(|why| self.corrupt(id, &why)),
        }
    }

    /// Visits every stored contact in id order; `f` returns whether it
    /// wants the contact's state decoded (`Some`) or not.
    pub fn scan(
        &self,
        mut wants: impl FnMut(&str) -> bool,
        mut f: impl FnMut(String, ContactState) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, bands, audiences, workflows, routes, email_sha256 FROM contacts ORDER BY id")
            .map_err(|e| self.error("read", &e))?;
        let mut rows = stmt.query([]).map_err(|e| self.error("read", &e))?;
        while let Some(row) = rows.next().map_err(|e| self.error("read", &e))? {
            let id: String = row.get(0).map_err(|e| self.error("read", &e))?;
            if !wants(&id) {
                continue;
            }
            let get = |i: usize| row.get::<_, String>(i).map_err(|e| self.error("read", &e));
            let email: Option<String> = row.get(5).map_err(|e| self.error("read", &e))?;
            let state = ContactState::decode(&get(1)?, &get(2)?, &get(3)?, &get(4)?, email)
                .map_err(|why| self.corrupt(&id, &why))?;
            f(id, state)?;
        }
        Ok(())
    }

    /// Writes a contact's new state (inside the apply transaction).
    pub fn put(&self, id: &str, state: &ContactState) -> StoreResult<()> {
        let (b, a, w, r) = state.encode();
        self.conn
            .prepare_cached(
                "INSERT INTO contacts (id, bands, audiences, workflows, routes, email_sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET bands = ?2, audiences = ?3, workflows = ?4,
                   routes = ?5, email_sha256 = ?6",
            )
            .and_then(|mut s| s.execute(params![id, b, a, w, r, state.email_sha256]))
            .map(|_| ())
            .map_err(|e| self.error("write", &e))
    }

    /// Drops a contact from the state.
    pub fn delete(&self, id: &str) -> StoreResult<()> {
        self.conn
            .prepare_cached("DELETE FROM contacts WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map(|_| ())
            .map_err(|e| self.error("write", &e))
    }

    /// Adds one action to the outbox.
    #[allow(clippy::too_many_arguments)]
    pub fn add_action(
        &self,
        run: i64,
        seq: i64,
        id: &str,
        contact: &str,
        action: &str,
        target: &str,
        email_sha256: Option<&str>,
        line: &str,
    ) -> StoreResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO actions (run, seq, id, contact, action, target, email_sha256, line)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| s.execute(params![run, seq, id, contact, action, target, email_sha256, line]))
            .map(|_| ())
            .map_err(|e| self.error("write", &e))
    }

    /// Logs a run.
    pub fn add_run(&self, run: &RunRecord) -> StoreResult<()> {
        self.conn
            .execute(
                "INSERT INTO runs (id, applied_at, as_of, as_of_micros, rules, snapshot, mode,
                   contacts, rejected, actions, dropped)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    run.id,
                    run.applied_at,
                    run.as_of,
                    run.as_of_micros,
                    run.rules,
                    run.snapshot,
                    run.mode,
                    run.contacts,
                    run.rejected,
                    run.actions,
                    run.dropped
                ],
            )
            .map(|_| ())
            .map_err(|e| self.error("write", &e))
    }

    /// Marks `run` as committed but not yet confirmed delivered (in the
    /// open transaction, so it is committed with the run): until
    /// [`Store::confirm_delivery`], the next apply delivers that run's
    /// actions again instead of applying (docs/sync.md, "Atomicity and
    /// recovery"). Kept in `meta` (`delivery_pending`), so the schema does
    /// not change.
    pub fn set_delivery_pending(&self, run: i64) -> StoreResult<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('delivery_pending', ?1)",
                params![run.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.error("write", &e))
    }

    /// The committed run whose delivery was not confirmed, if any.
    pub fn delivery_pending(&self) -> StoreResult<Option<i64>> {
        let value: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'delivery_pending'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.error("read", &e))?;
        match value {
            None => Ok(None),
            Some(text) => text.parse::<i64>().map(Some).map_err(|_| {
                format!(
                    "the state file `{}` holds an unreadable delivery mark (`{text}`); restore it from a backup",
                    self.path.display()
                )
            }),
        }
    }

    /// Records that `run`'s outputs are in place: clears the mark of
    /// [`Store::set_delivery_pending`] (in the open transaction if there is
    /// one, otherwise on its own).
    pub fn confirm_delivery(&self, run: i64) -> StoreResult<()> {
        self.conn
            .execute(
                "DELETE FROM meta WHERE key = 'delivery_pending' AND value = ?1",
                params![run.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.error("write", &e))
    }

    /// Visits the actions of one run in emission order.
    pub fn actions_of(
        &self,
        run: i64,
        mut f: impl FnMut(StoredAction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT contact, action, target, email_sha256, line FROM actions WHERE run = ?1 ORDER BY seq",
            )
            .map_err(|e| self.error("read", &e))?;
        let mut rows = stmt.query([run]).map_err(|e| self.error("read", &e))?;
        while let Some(row) = rows.next().map_err(|e| self.error("read", &e))? {
            let action = (|| {
                Ok::<_, rusqlite::Error>(StoredAction {
                    contact: row.get(0)?,
                    action: row.get(1)?,
                    target: row.get(2)?,
                    email_sha256: row.get(3)?,
                    line: row.get(4)?,
                })
            })()
            .map_err(|e| self.error("read", &e))?;
            f(action)?;
        }
        Ok(())
    }

    /// Visits every applied `band_change` and `task_create` of every run,
    /// runs in order and actions in emission order, one row at a time (the
    /// outbox is never held in memory).
    pub fn applied_entries(&self, mut f: impl FnMut(AppliedEntry<'_>)) -> StoreResult<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.run, r.as_of_micros, r.rules, a.contact, a.action, a.target, a.line
                 FROM actions a JOIN runs r ON r.id = a.run
                 WHERE a.action IN ('band_change', 'task_create')
                 ORDER BY a.run, a.seq",
            )
            .map_err(|e| self.error("read", &e))?;
        let mut rows = stmt.query([]).map_err(|e| self.error("read", &e))?;
        while let Some(row) = rows.next().map_err(|e| self.error("read", &e))? {
            let text = |i: usize| -> StoreResult<&str> {
                row.get_ref(i)
                    .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
                    .map_err(|e| self.error("read", &e))
            };
            let run: i64 = row.get(0).map_err(|e| self.error("read", &e))?;
            let as_of_micros: i64 = row.get(1).map_err(|e| self.error("read", &e))?;
            let (rules, contact, action, target, line) = (text(2)?, text(3)?, text(4)?, text(5)?, text(6)?);
            let detail: ActionDetail<'_> = serde_json::from_str(line).map_err(|e| {
                self.corrupt(contact, &format!("an action line of run {run} is not JSON: {e}"))
            })?;
            let kind = if action == "band_change" {
                AppliedKind::BandChange {
                    band: target,
                    to: detail.to.as_deref(),
                }
            } else {
                let (Some(queue), Some(sla_hours)) = (detail.queue.as_deref(), detail.sla_hours) else {
                    return Err(self.corrupt(
                        contact,
                        &format!("a task_create of run {run} has no `queue` or `sla_hours`"),
                    ));
                };
                AppliedKind::TaskCreate {
                    route: target,
                    queue,
                    sla_hours,
                }
            };
            f(AppliedEntry {
                run,
                as_of_micros,
                rules,
                contact,
                kind,
            });
        }
        Ok(())
    }

    fn error(&self, what: &str, e: &rusqlite::Error) -> String {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
            return format!(
                "`{}` is not a rubric state file (not an SQLite database); pass another `--state` path",
                self.path.display()
            );
        }
        format!("cannot {what} the state file `{}`: {e}", self.path.display())
    }

    fn corrupt(&self, id: &str, why: &str) -> String {
        format!(
            "the state file `{}` holds an unreadable entry for contact `{id}` ({why}); restore it from a backup",
            self.path.display()
        )
    }
}

const RUN_COLUMNS: &str = "SELECT id, applied_at, as_of, as_of_micros, rules, snapshot, mode, contacts, rejected, actions, dropped FROM runs";

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: r.get(0)?,
        applied_at: r.get(1)?,
        as_of: r.get(2)?,
        as_of_micros: r.get(3)?,
        rules: r.get(4)?,
        snapshot: r.get(5)?,
        mode: r.get(6)?,
        contacts: r.get(7)?,
        rejected: r.get(8)?,
        actions: r.get(9)?,
        dropped: r.get(10)?,
    })
}

fn check_version(path: &Path, version: i64) -> StoreResult<()> {
    if version > SCHEMA_VERSION {
        return Err(format!(
            "the state file `{}` has schema version {version}, newer than this rubric supports ({SCHEMA_VERSION}); use a newer rubric (the one that last applied to it)",
            path.display()
        ));
    }
    Ok(())
}

/// Refuses a state file that exists but is empty (0 bytes, with no write-ahead
/// log holding its data): its runs and instance id are gone, and starting it
/// over as run 1 would emit actions whose ids share nothing with earlier ones.
fn refuse_an_empty_file(path: &Path) -> StoreResult<()> {
    let is_empty = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() == 0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_is_missing_or_empty = !Path::new(&wal).exists() || is_empty(Path::new(&wal));
    if is_empty(path) && wal_is_missing_or_empty {
        return Err(format!(
            "the state file `{}` is empty (0 bytes): its runs and instance id are lost; restore it from a backup, or delete it to start over (the next apply then starts at run 1 with new action ids)",
            path.display()
        ));
    }
    Ok(())
}

/// Whether `path`'s write-ahead log (`PATH-wal`) exists and is not empty: it
/// may then hold committed data that an immutable read would miss.
fn write_ahead_log_holds_data(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0)
}

/// The SQLite URI that opens `path` read-only as immutable, or `None` for a
/// path that is not UTF-8. The path is made absolute, and `%`, `?` and `#`
/// are escaped, as SQLite's URI syntax requires.
fn immutable_uri(path: &Path) -> Option<String> {
    let absolute = std::fs::canonicalize(path).ok()?;
    let mut uri = String::from("file:");
    for c in absolute.to_str()?.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    Some(uri)
}

/// Creates a new state file holding only SQLite's header (in WAL mode), built
/// under a fresh temporary name (`.NAME.XXXXXX.rubric-tmp`, created with
/// `O_EXCL` by [`fresh_temporary_path`], so never a planted link) and then
/// linked into place, so that a process killed while creating it never
/// leaves an empty file at `path` (which [`refuse_an_empty_file`] would
/// refuse). When that fails (another process created `path` first, no hard
/// links, no write access), `path` is left to [`Connection::open`], which
/// reports any error.
fn create_with_a_header(path: &Path) {
    let Ok(temporary) = fresh_temporary_path(path) else {
        return;
    };
    let created = Connection::open(&temporary).and_then(|conn| {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.close().map_err(|(_, e)| e)
    });
    if created.is_ok() {
        let _ = std::fs::hard_link(&temporary, path);
    }
    // Dropping `temporary` removes the temporary name.
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn open_error(path: &Path, e: &rusqlite::Error) -> String {
    format!("cannot open the state file `{}`: {e}", path.display())
}

/// A random-enough instance id: a hash of the time, the process and the path.
fn new_instance_id(path: &Path) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .to_le_bytes(),
    );
    h.update(std::process::id().to_le_bytes());
    h.update(path.to_string_lossy().as_bytes());
    let digest = h.finalize();
    super::actions::hex(digest.get(..8).unwrap_or(&[]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_millis(100);

    /// A fresh state file in its own temporary directory (kept alive by the
    /// returned guard).
    fn fresh() -> (tempfile::TempDir, PathBuf, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("state.db");
        let store = Store::open(&path, WAIT).unwrap();
        (dir, path, store)
    }

    fn state(audience: &str) -> ContactState {
        ContactState {
            bands: vec![("readiness".into(), "hot".into())],
            audiences: vec![audience.to_string()],
            workflows: vec!["nurture".into()],
            routes: vec![("to_sales".into(), "enterprise".into())],
            email_sha256: Some("ab12".into()),
            tasks: Vec::new(),
        }
    }

    fn record(id: i64, as_of_micros: i64) -> RunRecord {
        RunRecord {
            id,
            applied_at: "2026-11-28T00:00:00Z".into(),
            as_of: format!("as of {as_of_micros}"),
            as_of_micros,
            rules: "0123456789abcdef".into(),
            snapshot: "contacts.jsonl".into(),
            mode: "full".into(),
            contacts: 10,
            rejected: 1,
            actions: 3,
            dropped: 0,
        }
    }

    #[test]
    fn open_creates_the_directory_and_the_schema_and_keeps_the_instance() {
        let (_dir, path, store) = fresh();
        assert!(path.exists());
        assert_eq!(store.version().unwrap(), SCHEMA_VERSION);
        let instance = store.instance().to_string();
        assert_eq!(instance.len(), 16, "64 bits in hex: {instance}");
        drop(store);
        assert_eq!(Store::open(&path, WAIT).unwrap().instance(), instance);
        let existing = Store::open_existing(&path, WAIT).unwrap().unwrap();
        assert_eq!(existing.instance(), instance);
        assert_eq!(existing.path(), path);
    }

    #[test]
    fn open_existing_without_a_file_is_an_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.db");
        assert!(Store::open_existing(&path, WAIT).unwrap().is_none());
        assert!(!path.exists(), "reading must not create the file");
    }

    #[test]
    fn put_get_and_delete_a_contact() {
        let (_dir, _path, store) = fresh();
        assert_eq!(store.get("c-1").unwrap(), None);
        store.put("c-1", &state("ads_a")).unwrap();
        assert_eq!(store.get("c-1").unwrap(), Some(state("ads_a")));
        // A second put replaces the state.
        store.put("c-1", &state("ads_b")).unwrap();
        assert_eq!(store.get("c-1").unwrap(), Some(state("ads_b")));
        store.delete("c-1").unwrap();
        assert_eq!(store.get("c-1").unwrap(), None);
        // Deleting an unknown contact is not an error.
        store.delete("c-1").unwrap();
    }

    #[test]
    fn scan_visits_contacts_in_id_order_and_decodes_only_wanted_ones() {
        let (_dir, _path, store) = fresh();
        for id in ["c-3", "c-1", "c-2"] {
            store.put(id, &state(id)).unwrap();
        }
        let mut asked = Vec::new();
        let mut found = Vec::new();
        store
            .scan(
                |id| {
                    asked.push(id.to_string());
                    id != "c-2"
                },
                |id, s| {
                    found.push((id, s.audiences));
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(asked, ["c-1", "c-2", "c-3"]);
        assert_eq!(
            found,
            [
                ("c-1".to_string(), vec!["c-1".to_string()]),
                ("c-3".to_string(), vec!["c-3".to_string()])
            ]
        );
        let stop = store.scan(|_| true, |_, _| Err("stop".to_string()));
        assert_eq!(stop.unwrap_err(), "stop");
    }

    #[test]
    fn a_rolled_back_transaction_leaves_nothing_and_a_committed_one_stays() {
        let (_dir, path, mut store) = fresh();
        store.begin(WAIT).unwrap();
        store.put("c-1", &state("a")).unwrap();
        store.add_run(&record(1, 5)).unwrap();
        store.rollback();
        assert_eq!(store.get("c-1").unwrap(), None);
        assert_eq!(store.last_run().unwrap(), None);

        store.begin(WAIT).unwrap();
        store.put("c-1", &state("a")).unwrap();
        store.add_run(&record(1, 5)).unwrap();
        store.commit().unwrap();
        drop(store);
        let store = Store::open_existing(&path, WAIT).unwrap().unwrap();
        assert_eq!(store.get("c-1").unwrap(), Some(state("a")));
        assert_eq!(store.last_run().unwrap(), Some(record(1, 5)));
    }

    /// Regression (issue 17, item 3): a second apply waits for the first
    /// one's whole life, not only its transaction, so it never takes a live
    /// apply's pending delivery for an interrupted one.
    #[test]
    fn the_apply_lock_is_held_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("state.db");
        let first = ApplyLock::acquire(&path, WAIT).unwrap();
        let error = ApplyLock::acquire(&path, WAIT).err().unwrap();
        assert!(
            error.contains("another `rubric apply` is using the state file"),
            "{error}"
        );
        drop(first);
        assert!(ApplyLock::acquire(&path, WAIT).is_ok());
    }

    #[test]
    fn a_second_writer_waits_then_gives_up_with_a_message() {
        let (_dir, path, mut first) = fresh();
        let mut reader = Store::open_existing(&path, WAIT).unwrap().unwrap();
        first.begin(WAIT).unwrap();
        // Opening for apply takes the write lock too (to migrate).
        let error = Store::open(&path, WAIT).err().unwrap();
        assert!(error.contains("another `rubric apply`"), "{error}");
        let error = reader.begin(WAIT).unwrap_err();
        assert!(error.contains("another `rubric apply`"), "{error}");
        // A reader is not blocked (WAL).
        reader.begin_read().unwrap();
        assert_eq!(reader.get("c-1").unwrap(), None);
        reader.rollback();
        first.rollback();
        let mut second = Store::open(&path, WAIT).unwrap();
        second.begin(WAIT).unwrap();
        second.rollback();
    }

    #[test]
    fn runs_are_logged_in_order() {
        let (_dir, _path, store) = fresh();
        assert_eq!(store.last_run().unwrap(), None);
        assert_eq!(store.runs().unwrap(), []);
        store.add_run(&record(1, 10)).unwrap();
        store.add_run(&record(2, 20)).unwrap();
        assert_eq!(store.last_run().unwrap(), Some(record(2, 20)));
        assert_eq!(store.runs().unwrap(), [record(1, 10), record(2, 20)]);
        assert_eq!(store.run(1).unwrap(), Some(record(1, 10)));
        assert_eq!(store.run(3).unwrap(), None);
        // A run number is logged once.
        assert!(store.add_run(&record(2, 30)).is_err());
    }

    #[test]
    fn actions_come_back_per_run_in_emission_order() {
        let (_dir, _path, store) = fresh();
        store
            .add_action(
                1,
                2,
                "id-b",
                "c-1",
                "audience_add",
                "ads",
                Some("ab"),
                "{\"b\":1}",
            )
            .unwrap();
        store
            .add_action(1, 1, "id-a", "c-2", "band_change", "readiness", None, "{\"a\":1}")
            .unwrap();
        store
            .add_action(2, 1, "id-c", "c-1", "workflow_exit", "nurture", None, "{\"c\":1}")
            .unwrap();
        // Action ids are unique across runs.
        assert!(store
            .add_action(3, 1, "id-a", "c-2", "band_change", "readiness", None, "{}")
            .is_err());
        let mut seen = Vec::new();
        store
            .actions_of(1, |a| {
                seen.push(a);
                Ok(())
            })
            .unwrap();
        assert_eq!(
            seen,
            [
                StoredAction {
                    contact: "c-2".into(),
                    action: "band_change".into(),
                    target: "readiness".into(),
                    email_sha256: None,
                    line: "{\"a\":1}".into(),
                },
                StoredAction {
                    contact: "c-1".into(),
                    action: "audience_add".into(),
                    target: "ads".into(),
                    email_sha256: Some("ab".into()),
                    line: "{\"b\":1}".into(),
                },
            ]
        );
        let mut none = 0;
        store
            .actions_of(9, |_| {
                none += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(none, 0);
    }

    #[test]
    fn applied_entries_are_band_changes_and_tasks_with_their_runs_as_of_and_digest() {
        let (_dir, _path, store) = fresh();
        store.add_run(&record(1, 100)).unwrap();
        let mut second = record(2, 200);
        second.rules = "fedcba9876543210".into();
        store.add_run(&second).unwrap();
        let band =
            r#"{"contact":"c-1","action":"band_change","target":"readiness","from":null,"to":"h\u006ft"}"#;
        let removed = r#"{"contact":"c-1","action":"band_change","target":"old","from":"x","to":null}"#;
        let task = r#"{"contact":"c-1","action":"task_create","target":"route_hot_lead","task":"t","sla_hours":1.5,"queue":"na_sales"}"#;
        store
            .add_action(2, 1, "id-d", "c-1", "task_create", "route_hot_lead", None, task)
            .unwrap();
        store
            .add_action(1, 2, "id-b", "c-1", "audience_add", "ads", None, "{}")
            .unwrap();
        store
            .add_action(1, 1, "id-a", "c-1", "band_change", "readiness", None, band)
            .unwrap();
        store
            .add_action(1, 3, "id-c", "c-1", "band_change", "old", None, removed)
            .unwrap();
        let mut seen = Vec::new();
        store
            .applied_entries(|e| {
                seen.push(format!(
                    "{} {} {} {} {:?}",
                    e.run, e.as_of_micros, e.rules, e.contact, e.kind
                ))
            })
            .unwrap();
        assert_eq!(
            seen,
            [
                r#"1 100 0123456789abcdef c-1 BandChange { band: "readiness", to: Some("hot") }"#,
                r#"1 100 0123456789abcdef c-1 BandChange { band: "old", to: None }"#,
                r#"2 200 fedcba9876543210 c-1 TaskCreate { route: "route_hot_lead", queue: "na_sales", sla_hours: 1.5 }"#,
            ]
        );
    }

    #[test]
    fn an_applied_task_without_a_queue_is_an_unreadable_entry() {
        let (_dir, _path, store) = fresh();
        store.add_run(&record(1, 100)).unwrap();
        store
            .add_action(
                1,
                1,
                "id-a",
                "c-9",
                "task_create",
                "r",
                None,
                r#"{"sla_hours":1}"#,
            )
            .unwrap();
        let error = store.applied_entries(|_| {}).unwrap_err();
        assert!(
            error.contains("contact `c-9`") && error.contains("no `queue`"),
            "{error}"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (_dir, path, store) = fresh();
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(store);
        let error = Store::open(&path, WAIT).err().unwrap();
        assert!(error.contains("newer than this rubric supports"), "{error}");
        let error = Store::open_existing(&path, WAIT).err().unwrap();
        assert!(error.contains("newer than this rubric supports"), "{error}");
    }

    #[test]
    fn a_file_that_is_no_state_file_is_refused_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(
            &text,
            "this is not a database, only some text that is long enough",
        )
        .unwrap();
        let error = Store::open(&text, WAIT).err().unwrap();
        assert!(error.contains("is not a rubric state file"), "{error}");

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER)")
            .unwrap();
        let error = Store::open(&other, WAIT).err().unwrap();
        assert!(
            error.contains("an SQLite database but not a rubric state file"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_state_file_is_refused_but_a_missing_one_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = Store::open(&path, WAIT).unwrap();
        drop(store);
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
        std::fs::write(&path, "").unwrap();
        let error = Store::open(&path, WAIT).err().unwrap();
        assert!(error.contains("is empty (0 bytes)"), "{error}");
        assert!(error.contains("delete it to start over"), "{error}");
        let error = Store::open_existing(&path, WAIT).err().unwrap();
        assert!(error.contains("is empty (0 bytes)"), "{error}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    fn a_new_state_file_is_never_empty_even_before_its_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        create_with_a_header(&path);
        assert!(std::fs::metadata(&path).unwrap().len() > 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(Store::open_existing(&path, WAIT).unwrap().is_none());
        assert!(Store::open(&path, WAIT).is_ok());
    }

    #[test]
    fn the_immutable_uri_opens_a_path_with_uri_characters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a?b#c%d.db");
        drop(Store::open(&path, WAIT).unwrap());
        let uri = immutable_uri(&path).unwrap();
        assert!(uri.ends_with("a%3fb%23c%25d.db?immutable=1"), "{uri}");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&uri, flags).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert!(!write_ahead_log_holds_data(&path));
    }

    #[test]
    fn an_unreadable_entry_names_the_contact() {
        let (_dir, _path, store) = fresh();
        store
            .conn
            .execute(
                "INSERT INTO contacts (id, bands, audiences, workflows, routes) VALUES ('c-9', '{', '[]', '[]', '{}')",
                [],
            )
            .unwrap();
        let error = store.get("c-9").unwrap_err();
        assert!(error.contains("unreadable entry for contact `c-9`"), "{error}");
        let error = store.scan(|_| true, |_, _| Ok(())).unwrap_err();
        assert!(error.contains("`c-9`"), "{error}");
    }
}
