//! `rubric plan`: the actions (docs/formats.md#actions) an apply would emit now, with a summary
//! per target; changes nothing. Also the sync driver shared with `apply`:
//! stream the snapshot, evaluate, compare with the state, derive actions.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{ColorChoice, Exit};
use crate::eval::{evaluate_into, NoTrace, Outcome};
use crate::plan::Plan;
use crate::snapshot::{
    decode_line, format_timestamp, lines_of, BadLine, Block, Contact, CsvReader, IdSet, InputFormat,
};
use crate::sync::actions::{Action, RunContext};
use crate::sync::destinations::{email_sha256, AUDIENCE_MINIMUMS};
use crate::sync::store::{RunRecord, Store, DEFAULT_STATE};
use crate::sync::{diff_absent, diff_states, has_orphans, next_state, rules_digest, ContactState, Summary};

/// The arguments `plan` and `apply` share.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// A `.rubric` file or a directory of them.
    #[arg(long)]
    pub rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for stdin.
    #[arg(long)]
    pub contacts: String,
    /// The state file (SQLite), created by the first apply.
    #[arg(long, value_name = "DB", default_value = DEFAULT_STATE)]
    pub state: PathBuf,
    /// The instant of evaluation (RFC 3339 with offset, or a date); default now.
    #[arg(long, value_name = "TS")]
    pub as_of: Option<String>,
    /// `full`: a contact in the state but absent from the snapshot leaves
    /// every audience and workflow and is dropped; `partial`: absent contacts
    /// are left untouched.
    #[arg(long, value_enum, default_value_t = SnapshotKind::Full)]
    pub snapshot: SnapshotKind,
    /// Accept an `--as-of` earlier than the last applied run's.
    #[arg(long)]
    pub force: bool,
    /// Refuse a full snapshot that would drop more than N contacts from the
    /// state (a guard against a truncated or empty export).
    #[arg(long, value_name = "N")]
    pub max_removals: Option<u64>,
    /// Seconds to wait for another `apply` holding the state file.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
    /// Threads that decode and evaluate the snapshot (default: one per core);
    /// the state store is read and written in input order on the main thread.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Colour of diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Whether the snapshot holds every contact or only some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SnapshotKind {
    Full,
    Partial,
}

impl SnapshotKind {
    fn name(self) -> &'static str {
        match self {
            SnapshotKind::Full => "full",
            SnapshotKind::Partial => "partial",
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub sync: SyncArgs,
}

/// Rejected lines printed to stderr before the rest are only counted.
const SHOWN_REJECTS: u64 = 50;

pub fn run(args: &PlanArgs) -> Exit {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let mut sink = |line: &[u8], _: &Action| out.write_all(line);
    let result = sync(&args.sync, None, &mut sink);
    let flushed = out.flush();
    match result {
        Ok(done) => {
            if let Err(e) = flushed {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return super::usage_error(format!("cannot write the actions: {e}"));
                }
            }
            done.report("plan", "would emit");
            done.exit()
        }
        Err(exit) => exit,
    }
}

/// What `apply` does once the actions are in the (uncommitted) outbox: write
/// the outputs, then commit. `plan` passes `None`.
pub trait Finish {
    fn finish(&mut self, store: &mut Store, ctx: &RunContext, plan: &Plan) -> Result<(), Exit>;
}

/// The result of a sync, for the summary and the exit status.
pub struct Done {
    pub ctx: RunContext,
    pub as_of: i64,
    pub accepted: u64,
    pub rejected: u64,
    pub actions: u64,
    pub dropped: u64,
    pub unknown_rejects: u64,
    pub snapshot: SnapshotKind,
    pub summary: Summary,
}

impl Done {
    pub fn exit(&self) -> Exit {
        if self.rejected > 0 {
            Exit::Rejected
        } else {
            Exit::Success
        }
    }

    /// Prints the summary on stderr: one line, then one per target, then
    /// audience-size warnings.
    pub fn report(&self, command: &str, verb: &str) {
        let mut text = format!(
            "{command}: run {} {verb} {} action{} for {} contact{} as of {} (rules {}, {} snapshot)",
            self.ctx.run,
            self.actions,
            plural(self.actions),
            self.accepted,
            plural(self.accepted),
            format_timestamp(self.as_of),
            self.ctx.rules,
            self.snapshot.name(),
        );
        if self.dropped > 0 {
            text.push_str(&format!(
                "; {} contact{} absent, dropped from the state",
                self.dropped,
                plural(self.dropped)
            ));
        }
        if self.rejected > 0 {
            text.push_str(&format!(
                "; {} line{} rejected (their contacts keep their state)",
                self.rejected,
                plural(self.rejected)
            ));
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
        for ((kind, target), counts) in &self.summary.targets {
            let line = match kind {
                0 => {
                    let moves: Vec<String> = counts
                        .transitions
                        .iter()
                        .map(|((from, to), n)| {
                            format!(
                                "{}→{} {n}",
                                from.as_deref().unwrap_or("(new)"),
                                to.as_deref().unwrap_or("(removed)")
                            )
                        })
                        .collect();
                    format!("  band {target}: {}", moves.join(", "))
                }
                1 => format!(
                    "  audience {target}: +{} added, -{} removed",
                    counts.entered, counts.left
                ),
                2 => format!(
                    "  workflow {target}: +{} enrolled, -{} exited",
                    counts.entered, counts.left
                ),
                _ => format!("  route {target}: {} task{}", counts.tasks, plural(counts.tasks)),
            };
            let _ = writeln!(err, "{line}");
        }
        for (audience, (members, matched)) in &self.summary.audience_sizes {
            let below: Vec<String> = AUDIENCE_MINIMUMS
                .iter()
                .filter(|(_, min)| matched < min)
                .map(|(platform, min)| format!("{platform} needs {min}"))
                .collect();
            if !below.is_empty() {
                let _ = writeln!(
                    err,
                    "warning: audience `{audience}` {} {matched} member{} with a usable email ({members} in all), below the platforms' minimum ({})",
                    if command == "plan" { "would have" } else { "has" },
                    plural(*matched),
                    below.join(", ")
                );
            }
        }
        if self.unknown_rejects > 0 && self.snapshot == SnapshotKind::Full {
            let _ = writeln!(
                err,
                "warning: {} rejected line{} had no readable id, so no contact was treated as absent (absent contacts keep their state); fix the lines and run again",
                self.unknown_rejects,
                plural(self.unknown_rejects)
            );
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The sync driver. `finish` is `Some` for `apply` (which opens the state for
/// writing, stores actions and new state, and commits through `finish`);
/// `None` for `plan`, which only reads. `sink` receives each action line in
/// order (`plan` prints them; `apply` writes them after storing them).
pub fn sync(
    args: &SyncArgs,
    finish: Option<&mut dyn Finish>,
    sink: &mut dyn FnMut(&[u8], &Action) -> std::io::Result<()>,
) -> Result<Done, Exit> {
    let color = args.color.for_stderr();
    // Before anything uses rayon (building the plan's regexes does).
    super::stream::apply_threads(args.threads)?;
    let sources = crate::source::Sources::load(&args.rules).map_err(super::usage_error)?;
    let compiled = super::compile_sources(&sources, color)?;
    let plan = &compiled.plan;
    let digest = rules_digest(&sources);
    let as_of = super::parse_as_of(args.as_of.as_deref()).map_err(super::usage_error)?;
    let wait = Duration::from_secs(args.wait);
    let applying = finish.is_some();
    let mut store = if applying {
        let mut store = Store::open(&args.state, wait).map_err(super::usage_error)?;
        store.begin(wait).map_err(super::usage_error)?;
        Some(store)
    } else {
        match Store::open_existing(&args.state, wait).map_err(super::usage_error)? {
            Some(mut store) => {
                store.begin_read().map_err(super::usage_error)?;
                Some(store)
            }
            None => None,
        }
    };
    let result = sync_in(args, plan, &digest, as_of, store.as_mut(), finish, sink);
    if let Some(store) = store.as_mut() {
        // After a successful apply this is a no-op (already committed); for
        // `plan` and for failures it drops the transaction.
        store.rollback();
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn sync_in(
    args: &SyncArgs,
    plan: &Plan,
    digest: &str,
    as_of: i64,
    store: Option<&mut Store>,
    finish: Option<&mut dyn Finish>,
    sink: &mut dyn FnMut(&[u8], &Action) -> std::io::Result<()>,
) -> Result<Done, Exit> {
    let last = match store.as_deref() {
        Some(s) => s.last_run().map_err(super::usage_error)?,
        None => None,
    };
    if let Some(last) = &last {
        if as_of < last.as_of_micros && !args.force {
            return Err(super::usage_error(format!(
                "`--as-of {}` is earlier than the last applied run (run {}, as of {}); actions would undo newer ones. Pass `--force` if this is intended",
                format_timestamp(as_of),
                last.id,
                last.as_of
            )));
        }
    }
    let ctx = RunContext {
        instance: store
            .as_deref()
            .map(|s| s.instance().to_string())
            .unwrap_or_default(),
        run: last.as_ref().map_or(1, |r| r.id + 1),
        rules: digest.to_string(),
    };
    let applying = finish.is_some();
    let mut run = Sync {
        plan,
        as_of,
        ctx: &ctx,
        store: store.as_deref(),
        applying,
        ids: IdSet::default(),
        seen: HashSet::default(),
        rejected_ids: HashSet::new(),
        unknown_rejects: 0,
        accepted: 0,
        rejected: 0,
        seq: 0,
        dropped: 0,
        outcome: Outcome::for_plan(plan),
        actions: Vec::new(),
        line: Vec::new(),
        summary: Summary::default(),
        sink,
    };
    for audience in &plan.audiences {
        run.summary.audience_sizes.insert(audience.name.clone(), (0, 0));
    }
    let (reader, format) = super::open_snapshot(&args.contacts)?;
    let read = match format {
        InputFormat::JsonLines => run.read_jsonl(reader),
        InputFormat::Csv => run.read_csv(reader),
    };
    match read {
        Ok(()) => {}
        Err(ReadError::Io(e)) => {
            return Err(super::usage_error(format!(
                "reading `{}` failed: {e}; nothing was applied",
                args.contacts
            )))
        }
        Err(ReadError::Exit(exit)) => return Err(exit),
    }
    run.absent(args.snapshot, args.max_removals)?;
    let done = Done {
        ctx: ctx.clone(),
        as_of,
        accepted: run.accepted,
        rejected: run.rejected,
        actions: u64::try_from(run.seq).unwrap_or(0),
        dropped: run.dropped,
        unknown_rejects: run.unknown_rejects,
        snapshot: args.snapshot,
        summary: std::mem::take(&mut run.summary),
    };
    drop(run);
    if let (Some(finish), Some(store)) = (finish, store) {
        let record = RunRecord {
            id: ctx.run,
            applied_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            as_of: format_timestamp(as_of),
            as_of_micros: as_of,
            rules: digest.to_string(),
            snapshot: args.contacts.clone(),
            mode: args.snapshot.name().to_string(),
            contacts: i64::try_from(done.accepted).unwrap_or(i64::MAX),
            rejected: i64::try_from(done.rejected).unwrap_or(i64::MAX),
            actions: i64::try_from(done.actions).unwrap_or(i64::MAX),
            dropped: i64::try_from(done.dropped).unwrap_or(i64::MAX),
        };
        store.add_run(&record).map_err(super::usage_error)?;
        finish.finish(store, &ctx, plan)?;
    }
    Ok(done)
}

enum ReadError {
    Io(std::io::Error),
    Exit(Exit),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

struct Sync<'a> {
    plan: &'a Plan,
    as_of: i64,
    ctx: &'a RunContext,
    store: Option<&'a Store>,
    applying: bool,
    /// Ids accepted so far (duplicates are rejected).
    ids: IdSet,
    /// Hashes of the ids present in the snapshot.
    seen: HashSet<u64>,
    /// Ids read from rejected lines: these contacts keep their state.
    rejected_ids: HashSet<String>,
    /// Rejected lines whose id could not be read.
    unknown_rejects: u64,
    accepted: u64,
    rejected: u64,
    seq: i64,
    dropped: u64,
    outcome: Outcome,
    actions: Vec<Action>,
    line: Vec<u8>,
    summary: Summary,
    sink: &'a mut dyn FnMut(&[u8], &Action) -> std::io::Result<()>,
}

/// One line of a block, decoded and evaluated on a worker thread.
enum Prepared {
    Bad {
        line: u64,
        reason: String,
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
fn prepare_block(plan: &Plan, as_of: i64, outcome: &mut Outcome, block: &Block) -> Vec<Prepared> {
    let mut items = Vec::new();
    for (line, text) in lines_of(block.first_line, &block.data) {
        items.push(match text {
            Ok(text) => match decode_line(&plan.decode, text) {
                Ok(None) => continue,
                Ok(Some(contact)) => Prepared::Contact {
                    line,
                    next: prepare_contact(plan, as_of, outcome, &contact),
                    id: contact.id,
                },
                Err(reason) => Prepared::Bad {
                    line,
                    reason,
                    id: id_of_bad_line(text),
                },
            },
            Err(reason) => Prepared::Bad {
                line,
                reason,
                id: None,
            },
        });
    }
    items
}

/// Evaluates a contact into the state it moves to.
fn prepare_contact(plan: &Plan, as_of: i64, outcome: &mut Outcome, contact: &Contact) -> ContactState {
    evaluate_into(plan, contact, as_of, outcome, &mut NoTrace);
    let email = contact.email.as_deref().and_then(email_sha256);
    next_state(plan, outcome, email)
}

fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

impl Sync<'_> {
    /// JSON Lines on every core: workers decode and evaluate blocks
    /// ([`prepare_block`]), and this thread, which holds the state store,
    /// takes their results in input order.
    fn read_jsonl(&mut self, reader: Box<dyn std::io::BufRead + Send>) -> Result<(), ReadError> {
        let (plan, as_of) = (self.plan, self.as_of);
        let mut failure = None;
        let read = super::stream::pipeline_on_caller(
            reader,
            || Outcome::for_plan(plan),
            |outcome, block| prepare_block(plan, as_of, outcome, block),
            |items| {
                for item in items {
                    let done = match item {
                        Prepared::Bad { line, reason, id } => {
                            self.reject(line, reason, id);
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
            None => read.map_err(ReadError::Io),
        }
    }

    fn read_csv(&mut self, reader: Box<dyn std::io::BufRead + Send>) -> Result<(), ReadError> {
        let mut records = CsvReader::new(reader, &self.plan.decode)?;
        while let Some(record) = records.next_record()? {
            match record {
                Ok(contact) => {
                    let line = records.record_line();
                    self.contact(line, contact)?;
                }
                Err(BadLine { line, reason }) => self.reject(line, reason, None),
            }
        }
        Ok(())
    }

    fn reject(&mut self, line: u64, reason: String, id: Option<String>) {
        self.rejected += 1;
        if self.rejected <= SHOWN_REJECTS {
            eprintln!("rejected line {line}: {reason}");
        } else if self.rejected == SHOWN_REJECTS + 1 {
            eprintln!("(more rejected lines are counted but not shown)");
        }
        match id {
            Some(id) => {
                self.rejected_ids.insert(id);
            }
            None => self.unknown_rejects += 1,
        }
    }

    fn contact(&mut self, line: u64, contact: Contact) -> Result<(), ReadError> {
        let next = prepare_contact(self.plan, self.as_of, &mut self.outcome, &contact);
        self.present(line, contact.id, next)
    }

    /// A contact of the snapshot, evaluated: the duplicate check, then its
    /// actions against the stored state, which `apply` updates.
    fn present(&mut self, line: u64, id: String, next: ContactState) -> Result<(), ReadError> {
        if !self.ids.insert(&id) {
            let reason = super::stream::repeated_id(line, &id).reason;
            self.reject(line, reason, Some(id));
            return Ok(());
        }
        self.accepted += 1;
        self.seen.insert(id_hash(&id));
        let prev = match self.store {
            Some(store) => store.get(&id).map_err(exit_usage)?,
            None => None,
        };
        let mut actions = std::mem::take(&mut self.actions);
        actions.clear();
        diff_states(self.plan, &id, prev.as_ref(), &next, &mut actions);
        if self.applying && prev.as_ref() != Some(&next) {
            if let Some(store) = self.store {
                store.put(&id, &next).map_err(exit_usage)?;
            }
        }
        self.summary.count_members(&next);
        self.emit(&actions)?;
        self.actions = actions;
        Ok(())
    }

    /// Contacts in the state that the snapshot did not mention.
    fn absent(&mut self, snapshot: SnapshotKind, max_removals: Option<u64>) -> Result<(), Exit> {
        let Some(store) = self.store else {
            return Ok(());
        };
        let leave_all = snapshot == SnapshotKind::Full && self.unknown_rejects == 0;
        let mut todo: Vec<(String, ContactState)> = Vec::new();
        let seen = &self.seen;
        let rejected = &self.rejected_ids;
        let plan = self.plan;
        let summary = &mut self.summary;
        store
            .scan(
                |id| !seen.contains(&id_hash(id)),
                |id, state| {
                    if rejected.contains(&id) {
                        // A rejected line is not an absence: state untouched.
                        summary.count_members(&state);
                    } else if leave_all || has_orphans(plan, &state) {
                        todo.push((id, state));
                    } else {
                        summary.count_members(&state);
                    }
                    Ok(())
                },
            )
            .map_err(super::usage_error)?;
        if let Some(max) = max_removals {
            let drops = if leave_all { todo.len() as u64 } else { 0 };
            if drops > max {
                return Err(super::usage_error(format!(
                    "the snapshot would drop {drops} contacts that are absent from it, more than `--max-removals {max}`; nothing was {}. If the export is complete, raise `--max-removals`; to keep absent contacts, pass `--snapshot partial`",
                    if self.applying { "applied" } else { "planned" }
                )));
            }
        }
        let mut actions = Vec::new();
        for (id, state) in todo {
            actions.clear();
            let next = diff_absent(self.plan, &id, &state, leave_all, &mut actions);
            match &next {
                None => {
                    self.dropped += 1;
                    if self.applying {
                        store.delete(&id).map_err(super::usage_error)?;
                    }
                }
                Some(next) => {
                    self.summary.count_members(next);
                    if self.applying {
                        store.put(&id, next).map_err(super::usage_error)?;
                    }
                }
            }
            self.emit(&actions).map_err(|e| match e {
                ReadError::Io(e) => super::usage_error(format!("cannot write the actions: {e}")),
                ReadError::Exit(exit) => exit,
            })?;
        }
        Ok(())
    }

    fn emit(&mut self, actions: &[Action]) -> Result<(), ReadError> {
        for action in actions {
            self.seq += 1;
            self.line.clear();
            let id = self.ctx.write_line(&mut self.line, action);
            self.summary.count(action);
            if self.applying {
                if let Some(store) = self.store {
                    let text = std::str::from_utf8(&self.line).unwrap_or("");
                    store
                        .add_action(
                            self.ctx.run,
                            self.seq,
                            &id,
                            &action.contact,
                            action.kind.name(),
                            &action.target,
                            action.email_sha256.as_deref(),
                            text.trim_end_matches('\n'),
                        )
                        .map_err(exit_usage)?;
                }
            } else {
                (self.sink)(&self.line, action).map_err(|e| {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        ReadError::Exit(Exit::Success)
                    } else {
                        ReadError::Io(e)
                    }
                })?;
            }
        }
        Ok(())
    }
}

fn exit_usage(message: String) -> ReadError {
    ReadError::Exit(super::usage_error(message))
}

/// The id of a rejected JSON Lines line, when one can be read: the `id`
/// string of a line that is JSON, or else the first `"id": "…"` in the text
/// (a line cut short). `None` when there is no such id.
fn id_of_bad_line(text: &str) -> Option<String> {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        return match map.get("id") {
            Some(serde_json::Value::String(id)) if !id.is_empty() => Some(id.clone()),
            _ => None,
        };
    }
    let mut rest = text;
    while let Some(at) = rest.find("\"id\"") {
        let after = rest.get(at + 4..).unwrap_or("").trim_start();
        if let Some(value) = after.strip_prefix(':') {
            let value = value.trim_start();
            if let Some(body) = value.strip_prefix('"') {
                if let Some(end) = body.find('"') {
                    let id = body.get(..end).unwrap_or("");
                    // Escapes would need a JSON decoder: treat such ids as unreadable.
                    if !id.is_empty() && !id.contains('\\') {
                        return Some(id.to_string());
                    }
                }
            }
            return None;
        }
        rest = rest.get(at + 4..).unwrap_or("");
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::id_of_bad_line;

    #[test]
    fn ids_of_bad_lines() {
        assert_eq!(id_of_bad_line(r#"{"id":"c-1","events":"x"}"#).unwrap(), "c-1");
        assert_eq!(id_of_bad_line(r#"{"id": "c-2", "properties": {"#).unwrap(), "c-2");
        assert_eq!(id_of_bad_line(r#"{"id":5}"#), None);
        assert_eq!(id_of_bad_line("garbage"), None);
        assert_eq!(id_of_bad_line(r#"{"x":"\"id\"", "id" : "c-3" ,"#).unwrap(), "c-3");
    }
}
