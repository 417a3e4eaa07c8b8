//! The sync driver shared by `rubric plan` and `rubric apply`: stream a
//! snapshot, evaluate each contact, compare it with its stored state, derive
//! its actions in input order, then handle the contacts the snapshot did not
//! mention.
//!
//! The driver is generic over the state ([`StateStore`], the SQLite
//! [`Store`] in the command line) and over where actions go
//! ([`ActionSink`]: stdout for `plan`, the outbox for `apply`, see
//! [`Outbox`]). It prints nothing: rejected lines go to the [`Rejects`] the
//! caller hands in, and everything else comes back as [`SyncTotals`] or a
//! [`SyncError`] for the caller to report. Opening the store, its
//! transaction, logging the run and committing are the caller's.
//!
//! JSON Lines go through the ordered [`Pipeline`] with results consumed on
//! the calling thread ([`Pipeline::run_on_caller`]): workers decode,
//! evaluate and compute each contact's next state, while the calling thread,
//! which holds the store (a SQLite connection is not `Sync`), takes the
//! results in input order, looks each contact up, derives its actions and
//! writes. CSV is read on one thread.

use std::collections::HashSet;

use super::actions::{Action, RunContext};
use super::destinations::email_sha256;
use super::store::{RunRecord, Store, StoreResult};
use super::{diff_absent, diff_states, has_orphans, next_state, ContactState, Summary};
use crate::eval::{evaluate_into, NoTrace, Outcome, RegexScratch};
use crate::pipeline::Pipeline;
use crate::plan::{Channel, Plan};
use crate::snapshot::{
    csv_batches, decode_numbered_line, id_of_bad_line, lines_of, repeated_id, BadLine, Block, Contact, IdSet,
    InputFormat, Line, Rejects,
};

/// Whether the snapshot holds every contact or only some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotKind {
    /// A contact in the state but absent from the snapshot leaves every
    /// audience and workflow and is dropped from the state.
    Full,
    /// Absent contacts keep their state (they only leave targets the rule
    /// set no longer has).
    Partial,
}

impl SnapshotKind {
    /// The name shown in summaries and logged with the run.
    pub fn name(self) -> &'static str {
        match self {
            SnapshotKind::Full => "full",
            SnapshotKind::Partial => "partial",
        }
    }
}

/// The state of the last applied run that the driver reads and, for
/// `apply`, writes. Errors are messages for the user.
pub trait StateStore {
    /// The state's instance id (part of every action id).
    fn instance(&self) -> &str;
    /// The last applied run, if any.
    fn last_run(&self) -> StoreResult<Option<RunRecord>>;
    /// The stored state of one contact.
    fn get(&self, id: &str) -> StoreResult<Option<ContactState>>;
    /// Writes a contact's next state.
    fn put(&self, id: &str, state: &ContactState) -> StoreResult<()>;
    /// Drops a contact from the state.
    fn delete(&self, id: &str) -> StoreResult<()>;
    /// Visits every stored contact in id order; `wants` says whether its
    /// state is wanted (decoded and handed to `found`).
    fn scan(
        &self,
        wants: &mut dyn FnMut(&str) -> bool,
        found: &mut dyn FnMut(String, ContactState) -> StoreResult<()>,
    ) -> StoreResult<()>;
}

impl StateStore for Store {
    fn instance(&self) -> &str {
        Store::instance(self)
    }
    fn last_run(&self) -> StoreResult<Option<RunRecord>> {
        Store::last_run(self)
    }
    fn get(&self, id: &str) -> StoreResult<Option<ContactState>> {
        Store::get(self, id)
    }
    fn put(&self, id: &str, state: &ContactState) -> StoreResult<()> {
        Store::put(self, id, state)
    }
    fn delete(&self, id: &str) -> StoreResult<()> {
        Store::delete(self, id)
    }
    fn scan(
        &self,
        wants: &mut dyn FnMut(&str) -> bool,
        found: &mut dyn FnMut(String, ContactState) -> StoreResult<()>,
    ) -> StoreResult<()> {
        Store::scan(self, wants, found)
    }
}

/// Where the actions of a run go, one at a time in emission order.
pub trait ActionSink {
    /// Takes one action: its number in the run (from 1), its id, and its
    /// JSON line (with the final newline).
    fn take(&mut self, seq: i64, action_id: &str, line: &[u8], action: &Action) -> Result<(), SyncError>;
}

/// The sink of `apply`: every action goes to the store's outbox, inside the
/// run's transaction.
pub struct Outbox<'a> {
    pub store: &'a Store,
    pub run: i64,
}

impl ActionSink for Outbox<'_> {
    fn take(&mut self, seq: i64, action_id: &str, line: &[u8], action: &Action) -> Result<(), SyncError> {
        let text = std::str::from_utf8(line).unwrap_or("");
        self.store
            .add_action(
                self.run,
                seq,
                action_id,
                &action.contact,
                action.kind.name(),
                &action.target,
                action.email_sha256.as_deref(),
                text.trim_end_matches('\n'),
            )
            .map_err(SyncError::Store)
    }
}

/// Why a sync stopped. Nothing of the run is to be committed.
#[derive(Debug)]
pub enum SyncError {
    /// `as_of` is earlier than the last applied run's, and `force` is off.
    EarlierThanLastRun { as_of: i64, last: RunRecord },
    /// A full snapshot would drop more absent contacts than allowed.
    TooManyRemovals { drops: u64, max: u64 },
    /// Reading the snapshot failed; so did writing an action while it was
    /// being read (the sink's error comes back through the reading).
    Read(std::io::Error),
    /// Writing an action failed after the snapshot was read.
    Write(std::io::Error),
    /// The state store failed (its message).
    Store(String),
}

/// How a sync runs.
#[derive(Debug, Clone, Copy)]
pub struct SyncSettings {
    /// The instant of evaluation (µs since the epoch).
    pub as_of: i64,
    pub snapshot: SnapshotKind,
    /// Refuse a full snapshot that would drop more absent contacts than this.
    pub max_removals: Option<u64>,
    /// `apply`: write each contact's next state to the store; `plan` only reads.
    pub write_state: bool,
    /// The threads that decode and evaluate JSON Lines.
    pub pipeline: Pipeline,
}

/// The counts of a finished sync, for the summary, the exit status and the
/// run log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncTotals {
    /// Contacts of the snapshot accepted (the first line of each id).
    pub accepted: u64,
    /// Lines rejected (their contacts keep their state).
    pub rejected: u64,
    /// Actions emitted.
    pub actions: u64,
    /// Absent contacts dropped from the state.
    pub dropped: u64,
    /// Rejected lines whose id could not be read.
    pub unknown_rejects: u64,
    pub summary: Summary,
}

/// The context of the next run against `store` (`None`: an empty state):
/// its number, the state's instance and the rule set's digest. Refuses an
/// `as_of` earlier than the last applied run's unless `force`.
pub fn run_context<S: StateStore>(
    store: Option<&S>,
    as_of: i64,
    force: bool,
    rules_digest: &str,
) -> Result<RunContext, SyncError> {
    let last = match store {
        Some(s) => s.last_run().map_err(SyncError::Store)?,
        None => None,
    };
    if let Some(last) = &last {
        if as_of < last.as_of_micros && !force {
            return Err(SyncError::EarlierThanLastRun {
                as_of,
                last: last.clone(),
            });
        }
    }
    Ok(RunContext {
        instance: store.map(|s| s.instance().to_string()).unwrap_or_default(),
        run: last.as_ref().map_or(1, |r| r.id + 1),
        rules: rules_digest.to_string(),
    })
}

/// Syncs one snapshot (`input`, in `format`) against `store` (`None`: an
/// empty state): every action goes to `sink` in order, every rejected line to
/// `rejects`. With [`SyncSettings::write_state`] the next states are written
/// to the store; the caller commits or rolls back.
#[allow(clippy::too_many_arguments)]
pub fn sync_snapshot<S: StateStore, A: ActionSink>(
    plan: &Plan,
    ctx: &RunContext,
    settings: &SyncSettings,
    store: Option<&S>,
    input: Box<dyn std::io::BufRead + Send>,
    format: InputFormat,
    sink: &mut A,
    rejects: &mut Rejects,
) -> Result<SyncTotals, SyncError> {
    let mut run = SyncRun {
        plan,
        settings,
        ctx,
        store,
        sink,
        rejects,
        ids: IdSet::default(),
        seen: HashSet::default(),
        rejected_ids: HashSet::new(),
        outcome: Outcome::for_plan(plan),
        regexes: RegexScratch::default(),
        actions: Vec::new(),
        line: Vec::new(),
        seq: 0,
        totals: SyncTotals::default(),
    };
    for audience in plan.audiences.iter().filter(|a| a.reach.channel == Channel::ADS) {
        run.totals
            .summary
            .audience_sizes
            .insert(audience.name.clone(), (0, 0));
    }
    match format {
        InputFormat::JsonLines => run.read_jsonl(input)?,
        InputFormat::Csv => run.read_csv(input)?,
    }
    run.absent()?;
    run.totals.actions = u64::try_from(run.seq).unwrap_or(0);
    Ok(run.totals)
}

/// One sync in progress.
struct SyncRun<'a, S, A> {
    plan: &'a Plan,
    settings: &'a SyncSettings,
    ctx: &'a RunContext,
    store: Option<&'a S>,
    sink: &'a mut A,
    rejects: &'a mut Rejects,
    /// Ids accepted so far (duplicates are rejected).
    ids: IdSet,
    /// Hashes of the ids present in the snapshot.
    seen: HashSet<u64>,
    /// Ids read from rejected lines: these contacts keep their state.
    rejected_ids: HashSet<String>,
    /// Scratch for contacts evaluated on this thread (CSV).
    outcome: Outcome,
    regexes: RegexScratch,
    actions: Vec<Action>,
    line: Vec<u8>,
    seq: i64,
    totals: SyncTotals,
}

/// One line of a block, decoded and evaluated on a worker thread.
enum Prepared {
    Bad {
        bad: BadLine,
        /// The id, when the rejected line still shows one (its contact keeps its state).
        id: Option<String>,
    },
    Contact {
        line: u64,
        id: String,
        next: ContactState,
    },
}

/// Decodes and evaluates the lines of a block: everything about a contact
/// that does not need the state store (blank lines are left out).
fn prepare_block(
    plan: &Plan,
    as_of: i64,
    (outcome, regexes): &mut (Outcome, RegexScratch),
    block: &Block,
) -> Vec<Prepared> {
    let mut items = Vec::new();
    for (number, text) in lines_of(block.first_line, &block.data) {
        let readable = text.as_ref().ok().copied();
        items.push(match decode_numbered_line(&plan.decode, number, text) {
            Line::Blank => continue,
            Line::Contact(line, contact) => Prepared::Contact {
                line,
                next: prepare_contact(plan, as_of, outcome, regexes, &contact),
                id: contact.id,
            },
            Line::Bad(bad) => Prepared::Bad {
                bad,
                id: readable.and_then(id_of_bad_line),
            },
        });
    }
    items
}

/// Evaluates a contact into the state it moves to.
fn prepare_contact(
    plan: &Plan,
    as_of: i64,
    outcome: &mut Outcome,
    regexes: &mut RegexScratch,
    contact: &Contact,
) -> ContactState {
    evaluate_into(plan, contact, as_of, outcome, regexes, &mut NoTrace);
    let email = contact.email.as_deref().and_then(email_sha256);
    next_state(plan, outcome, email)
}

fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

impl<S: StateStore, A: ActionSink> SyncRun<'_, S, A> {
    /// JSON Lines on every worker: they decode and evaluate blocks
    /// ([`prepare_block`]), and this thread, which holds the state store,
    /// takes their results in input order.
    fn read_jsonl(&mut self, reader: Box<dyn std::io::BufRead + Send>) -> Result<(), SyncError> {
        let (plan, as_of) = (self.plan, self.settings.as_of);
        let mut failure = None;
        let read = self.settings.pipeline.run_on_caller(
            reader,
            || (Outcome::for_plan(plan), RegexScratch::default()),
            |worker, block| prepare_block(plan, as_of, worker, block),
            |items| {
                for item in items {
                    let done = match item {
                        Prepared::Bad { bad, id } => {
                            self.reject(&bad, id);
                            Ok(())
                        }
                        Prepared::Contact { line, id, next } => self.present(line, id, next),
                    };
                    if let Err(e) = done {
                        failure = Some(e);
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        );
        match failure {
            Some(e) => Err(e),
            None => read.map_err(SyncError::Read),
        }
    }

    /// CSV on this thread, in batches.
    fn read_csv(&mut self, reader: Box<dyn std::io::BufRead + Send>) -> Result<(), SyncError> {
        let plan = self.plan;
        let mut failure = None;
        let read = csv_batches(
            reader,
            &plan.decode,
            Vec::new,
            |batch, line| batch.push(line),
            |batch| {
                for line in batch {
                    let done = match line {
                        Line::Blank => Ok(()),
                        Line::Bad(bad) => {
                            self.reject(&bad, None);
                            Ok(())
                        }
                        Line::Contact(line, contact) => {
                            let next = prepare_contact(
                                plan,
                                self.settings.as_of,
                                &mut self.outcome,
                                &mut self.regexes,
                                &contact,
                            );
                            self.present(line, contact.id, next)
                        }
                    };
                    if let Err(e) = done {
                        failure = Some(e);
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        );
        match failure {
            Some(e) => Err(e),
            None => read.map_err(SyncError::Read),
        }
    }

    fn reject(&mut self, bad: &BadLine, id: Option<String>) {
        self.totals.rejected += 1;
        self.rejects.reject(bad);
        match id {
            Some(id) => {
                self.rejected_ids.insert(id);
            }
            None => self.totals.unknown_rejects += 1,
        }
    }

    /// A contact of the snapshot, evaluated: the duplicate check, then its
    /// actions against the stored state, which `apply` updates.
    fn present(&mut self, line: u64, id: String, next: ContactState) -> Result<(), SyncError> {
        if !self.ids.insert(&id) {
            let bad = repeated_id(line, &id);
            self.reject(&bad, Some(id));
            return Ok(());
        }
        self.totals.accepted += 1;
        self.seen.insert(id_hash(&id));
        let prev = match self.store {
            Some(store) => store.get(&id).map_err(SyncError::Store)?,
            None => None,
        };
        let mut actions = std::mem::take(&mut self.actions);
        actions.clear();
        diff_states(self.plan, &id, prev.as_ref(), &next, &mut actions);
        if self.settings.write_state && prev.as_ref() != Some(&next) {
            if let Some(store) = self.store {
                store.put(&id, &next).map_err(SyncError::Store)?;
            }
        }
        self.totals.summary.count_members(&next);
        // A sink's write error comes back as an error of the reading.
        self.emit(&actions).map_err(|e| match e {
            SyncError::Write(e) => SyncError::Read(e),
            other => other,
        })?;
        self.actions = actions;
        Ok(())
    }

    /// Contacts in the state that the snapshot did not mention.
    fn absent(&mut self) -> Result<(), SyncError> {
        let Some(store) = self.store else {
            return Ok(());
        };
        let leave_all = self.settings.snapshot == SnapshotKind::Full && self.totals.unknown_rejects == 0;
        let mut todo: Vec<(String, ContactState)> = Vec::new();
        let seen = &self.seen;
        let rejected = &self.rejected_ids;
        let plan = self.plan;
        let summary = &mut self.totals.summary;
        store
            .scan(&mut |id| !seen.contains(&id_hash(id)), &mut |id, state| {
                if rejected.contains(&id) {
                    // A rejected line is not an absence: state untouched.
                    summary.count_members(&state);
                } else if leave_all || has_orphans(plan, &state) {
                    todo.push((id, state));
                } else {
                    summary.count_members(&state);
                }
                Ok(())
            })
            .map_err(SyncError::Store)?;
        if let Some(max) = self.settings.max_removals {
            let drops = if leave_all { todo.len() as u64 } else { 0 };
            if drops > max {
                return Err(SyncError::TooManyRemovals { drops, max });
            }
        }
        let mut actions = Vec::new();
        for (id, state) in todo {
            actions.clear();
            let next = diff_absent(self.plan, &id, &state, leave_all, &mut actions);
            match &next {
                None => {
                    self.totals.dropped += 1;
                    if self.settings.write_state {
                        store.delete(&id).map_err(SyncError::Store)?;
                    }
                }
                Some(next) => {
                    self.totals.summary.count_members(next);
                    if self.settings.write_state {
                        store.put(&id, next).map_err(SyncError::Store)?;
                    }
                }
            }
            self.emit(&actions)?;
        }
        Ok(())
    }

    fn emit(&mut self, actions: &[Action]) -> Result<(), SyncError> {
        for action in actions {
            self.seq += 1;
            self.line.clear();
            let id = self.ctx.write_line(&mut self.line, action);
            self.totals.summary.count(action);
            self.sink.take(self.seq, &id, &self.line, action)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::source::{SourceFile, Sources};

    const RULES: &str = r#"
score fit 0..100 {
  "size" when company_size >= 200 => +60
}

band tier {
  big   when fit >= 50
  small otherwise
}

audience ads_big when tier is big
"#;

    /// Accepts `a` and `b`; line 3 repeats `a`; line 4 is cut short but shows
    /// the id `c`; line 5 is blank.
    const SNAPSHOT: &str = concat!(
        r#"{"id":"a","properties":{"company_size":500},"events":[]}"#,
        "\n",
        r#"{"id":"b","properties":{"company_size":10},"events":[]}"#,
        "\n",
        r#"{"id":"a","properties":{"company_size":10},"events":[]}"#,
        "\n",
        r#"{"id":"c","properties":{"#,
        "\n\n",
    );

    fn plan() -> Plan {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("rules.rubric", RULES));
        crate::compile::compile(&sources).unwrap().plan
    }

    /// A state kept in memory: the driver does not need SQLite.
    #[derive(Default)]
    struct MemoryStore {
        contacts: RefCell<BTreeMap<String, ContactState>>,
        last: Option<RunRecord>,
    }

    impl StateStore for MemoryStore {
        fn instance(&self) -> &str {
            "memory"
        }
        fn last_run(&self) -> StoreResult<Option<RunRecord>> {
            Ok(self.last.clone())
        }
        fn get(&self, id: &str) -> StoreResult<Option<ContactState>> {
            Ok(self.contacts.borrow().get(id).cloned())
        }
        fn put(&self, id: &str, state: &ContactState) -> StoreResult<()> {
            self.contacts.borrow_mut().insert(id.to_string(), state.clone());
            Ok(())
        }
        fn delete(&self, id: &str) -> StoreResult<()> {
            self.contacts.borrow_mut().remove(id);
            Ok(())
        }
        fn scan(
            &self,
            wants: &mut dyn FnMut(&str) -> bool,
            found: &mut dyn FnMut(String, ContactState) -> StoreResult<()>,
        ) -> StoreResult<()> {
            let contacts = self.contacts.borrow().clone();
            for (id, state) in contacts {
                if wants(&id) {
                    found(id, state)?;
                }
            }
            Ok(())
        }
    }

    /// Keeps (seq, contact, action, target) of every action.
    #[derive(Default)]
    struct Collect(Vec<(i64, String, &'static str, String)>);

    impl ActionSink for Collect {
        fn take(&mut self, seq: i64, _: &str, line: &[u8], action: &Action) -> Result<(), SyncError> {
            assert!(line.ends_with(b"\n"));
            self.0.push((
                seq,
                action.contact.clone(),
                action.kind.name(),
                action.target.clone(),
            ));
            Ok(())
        }
    }

    /// A writer whose bytes the test reads afterwards.
    #[derive(Clone, Default)]
    struct Shown(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Shown {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn member(audience: &str) -> ContactState {
        ContactState {
            bands: vec![("tier".into(), "big".into())],
            audiences: vec![audience.to_string()],
            ..ContactState::default()
        }
    }

    /// A store holding `old` (absent from the snapshot) and `c` (whose line is rejected).
    fn store() -> MemoryStore {
        let store = MemoryStore::default();
        store.put("old", &member("ads_big")).unwrap();
        store.put("c", &member("ads_big")).unwrap();
        store
    }

    fn settings(write_state: bool, threads: usize) -> SyncSettings {
        SyncSettings {
            as_of: 0,
            snapshot: SnapshotKind::Full,
            max_removals: None,
            write_state,
            pipeline: Pipeline::new(threads),
        }
    }

    fn sync(
        plan: &Plan,
        settings: &SyncSettings,
        store: &MemoryStore,
        format: InputFormat,
        input: &'static str,
    ) -> (Result<SyncTotals, SyncError>, Collect, String) {
        let ctx = run_context(Some(store), settings.as_of, false, "digest").unwrap();
        let shown = Shown::default();
        let mut rejects = Rejects::new(Box::new(shown.clone()), "(more)");
        let mut sink = Collect::default();
        let result = sync_snapshot(
            plan,
            &ctx,
            settings,
            Some(store),
            Box::new(input.as_bytes()),
            format,
            &mut sink,
            &mut rejects,
        );
        let text = String::from_utf8(shown.0.lock().unwrap().clone()).unwrap();
        (result, sink, text)
    }

    fn action(
        seq: i64,
        contact: &str,
        kind: &'static str,
        target: &str,
    ) -> (i64, String, &'static str, String) {
        (seq, contact.to_string(), kind, target.to_string())
    }

    #[test]
    fn apply_derives_actions_in_input_order_then_for_absent_contacts() {
        let plan = plan();
        for threads in [1, 3] {
            let store = store();
            let (result, sink, shown) = sync(
                &plan,
                &settings(true, threads),
                &store,
                InputFormat::JsonLines,
                SNAPSHOT,
            );
            let totals = result.unwrap();
            assert_eq!(
                sink.0,
                [
                    action(1, "a", "band_change", "tier"),
                    action(2, "a", "audience_add", "ads_big"),
                    action(3, "b", "band_change", "tier"),
                    action(4, "old", "audience_remove", "ads_big"),
                ],
                "{threads} threads"
            );
            assert_eq!((totals.accepted, totals.rejected, totals.actions), (2, 2, 4));
            assert_eq!((totals.dropped, totals.unknown_rejects), (1, 0));
            assert!(
                shown.starts_with("rejected line 3: id `a` repeats an earlier line"),
                "{shown}"
            );
            assert!(shown.contains("\nrejected line 4: "), "{shown}");
            // `old` is dropped; `c`, whose line was rejected, keeps its state.
            let contacts = store.contacts.borrow();
            assert_eq!(contacts.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
            assert_eq!(contacts["c"], member("ads_big"));
            assert_eq!(contacts["a"].audiences, ["ads_big"]);
            // `a` and `c` are in the audience after the run.
            assert_eq!(totals.summary.audience_sizes["ads_big"], (2, 0));
        }
    }

    #[test]
    fn plan_only_reads_the_state() {
        let plan = plan();
        let store = store();
        let (result, sink, _) = sync(
            &plan,
            &settings(false, 2),
            &store,
            InputFormat::JsonLines,
            SNAPSHOT,
        );
        assert_eq!(result.unwrap().actions, 4);
        assert_eq!(sink.0.len(), 4);
        let contacts = store.contacts.borrow();
        assert_eq!(contacts.keys().collect::<Vec<_>>(), ["c", "old"]);
    }

    #[test]
    fn csv_gives_the_same_actions() {
        let plan = plan();
        let store = store();
        let csv = "id,company_size\na,500\nb,10\na,10\n";
        let (result, sink, shown) = sync(&plan, &settings(true, 1), &store, InputFormat::Csv, csv);
        let totals = result.unwrap();
        assert_eq!(sink.0.len(), 5, "{:?}", sink.0);
        // Without a readable id on the rejected line, `c` counts as absent too.
        assert_eq!((totals.accepted, totals.rejected, totals.dropped), (2, 1, 2));
        assert!(shown.starts_with("rejected line 4: id `a` repeats"), "{shown}");
    }

    #[test]
    fn the_guards_stop_the_run() {
        let plan = plan();
        let mut store = store();
        store.last = Some(RunRecord {
            id: 7,
            applied_at: String::new(),
            as_of: "later".into(),
            as_of_micros: 10,
            rules: String::new(),
            snapshot: String::new(),
            mode: "full".into(),
            contacts: 0,
            rejected: 0,
            actions: 0,
            dropped: 0,
        });
        match run_context(Some(&store), 5, false, "digest") {
            Err(SyncError::EarlierThanLastRun { as_of: 5, last }) => assert_eq!(last.id, 7),
            other => panic!("{other:?}"),
        }
        let ctx = run_context(Some(&store), 5, true, "digest").unwrap();
        assert_eq!(
            (ctx.run, ctx.instance.as_str(), ctx.rules.as_str()),
            (8, "memory", "digest")
        );

        store.last = None;
        let settings = SyncSettings {
            max_removals: Some(0),
            ..settings(true, 1)
        };
        let (result, _, _) = sync(&plan, &settings, &store, InputFormat::JsonLines, SNAPSHOT);
        assert!(matches!(
            result,
            Err(SyncError::TooManyRemovals { drops: 1, max: 0 })
        ));
    }
}
