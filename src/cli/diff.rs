//! `rubric diff`: evaluate the base and the new rule set on the same snapshot
//! in one streaming pass and report the impact (see [`crate::diff`]).
//!
//! Each line is decoded once, with the new plan's `DecodeSpec`, which is a
//! superset of the base plan's with the same slots (the new plan is compiled
//! with the base's slots as a seed); both plans evaluate the same `Contact`.
//! Reading, bad lines and repeated ids work exactly as in `run`
//! ([`super::stream`]); the counts are added in input order on the consumer
//! thread, so the report does not depend on the number of threads.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, ValueEnum};

use super::stream::{self, Line, Rejects};
use super::{ColorChoice, Exit};
use crate::diff::{Aggregate, Alignment, Meta};
use crate::eval::{evaluate_into, NoTrace, Outcome};
use crate::plan::Plan;
use crate::snapshot::{BadLine, Block, IdSet, InputFormat};
use crate::source::{SourceFile, Sources};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The rules before the change: a `.rubric` file or directory, or a git
    /// revision of the `--rules` path (`origin/main`, `HEAD~1`). An existing path wins.
    #[arg(long, value_name = "PATH|REV")]
    base: String,
    /// The rules after the change: a `.rubric` file or a directory of them.
    #[arg(long)]
    rules: PathBuf,
    /// The snapshot: JSON Lines (`.gz` for gzip), CSV (`.csv`), or `-` for stdin.
    #[arg(long)]
    contacts: String,
    /// The instant of evaluation (RFC 3339 with offset, or a date); default now.
    #[arg(long, value_name = "TS")]
    as_of: Option<String>,
    /// `text` (for people), `markdown` (a pull-request comment) or `json` (for bots).
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Example contact ids shown per change (the first ones in input order).
    #[arg(long, value_name = "N", default_value_t = 5)]
    examples: usize,
    /// Exit with 4 when the change moves any contact (its band value, an
    /// audience, workflow, route or queue changes), as `git diff --exit-code` does.
    #[arg(long)]
    exit_code: bool,
    #[command(flatten)]
    stream: super::stream::StreamOptions,
    /// Colour of diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
    Json,
}

/// What happened to one input line.
enum Entry {
    Blank,
    Bad(BadLine),
    /// An accepted contact; its cells and score values sit in the chunk's
    /// arrays at its rank among the chunk's contacts, its id in `ids`.
    Contact {
        line: u64,
        id: std::ops::Range<usize>,
        warnings: [u32; 2],
    },
}

/// The results of one block (ids in one buffer, not a `String` each: see
/// `run`'s `Chunk`).
#[derive(Default)]
struct Chunk {
    entries: Vec<Entry>,
    ids: String,
    cells: Vec<u32>,
    values: Vec<f64>,
}

/// Both compiled plans and how their items line up.
struct Plans<'a> {
    base: &'a Plan,
    new: &'a Plan,
    alignment: Alignment,
    as_of: i64,
}

impl Plans<'_> {
    fn push(&self, line: Line, outcomes: &mut (Outcome, Outcome), chunk: &mut Chunk) {
        match line {
            Line::Blank => chunk.entries.push(Entry::Blank),
            Line::Bad(bad) => chunk.entries.push(Entry::Bad(bad)),
            Line::Contact(line, contact) => {
                let (base, new) = outcomes;
                // The contact is decoded with the new plan's slots, a superset
                // of the base plan's with the same numbers.
                evaluate_into(self.base, &contact, self.as_of, base, &mut NoTrace);
                evaluate_into(self.new, &contact, self.as_of, new, &mut NoTrace);
                self.alignment
                    .record(base, new, &mut chunk.cells, &mut chunk.values);
                let start = chunk.ids.len();
                chunk.ids.push_str(&contact.id);
                chunk.entries.push(Entry::Contact {
                    line,
                    id: start..chunk.ids.len(),
                    warnings: [base.warnings, new.warnings],
                });
            }
        }
    }

    fn outcomes(&self) -> (Outcome, Outcome) {
        (Outcome::for_plan(self.base), Outcome::for_plan(self.new))
    }

    fn process_block(&self, outcomes: &mut (Outcome, Outcome), block: &Block) -> Chunk {
        let mut chunk = Chunk::default();
        for line in stream::decode_lines(&self.new.decode, block.first_line, &block.data) {
            self.push(line, outcomes, &mut chunk);
        }
        chunk
    }
}

/// The consumer side: ids in input order, rejected lines, counts.
struct DiffState {
    ids: IdSet,
    rejects: Rejects,
    aggregate: Aggregate,
    strict_stop: bool,
}

impl DiffState {
    /// Adds a chunk in input order; false when `--strict` stops the run.
    fn consume(&mut self, alignment: &Alignment, chunk: Chunk, strict: bool) -> bool {
        let (k, v) = (alignment.cells_per_contact(), alignment.values_per_contact());
        let mut rank = 0usize;
        for entry in chunk.entries {
            match entry {
                Entry::Blank => {}
                Entry::Bad(bad) => {
                    self.rejects.reject(&bad);
                    if strict {
                        self.strict_stop = true;
                        return false;
                    }
                }
                Entry::Contact { line, id, warnings } => {
                    let id = chunk.ids.get(id).unwrap_or_default();
                    let cells = chunk.cells.get(rank * k..(rank + 1) * k).unwrap_or(&[]);
                    let values = chunk.values.get(rank * v..(rank + 1) * v).unwrap_or(&[]);
                    rank += 1;
                    if !self.ids.insert(id) {
                        self.rejects.reject(&stream::repeated_id(line, id));
                        if strict {
                            self.strict_stop = true;
                            return false;
                        }
                        continue;
                    }
                    self.aggregate.add(alignment, id, cells, values, warnings);
                }
            }
        }
        true
    }
}

pub fn run(args: &DiffArgs) -> Exit {
    let color = args.color.for_stderr();
    // Before anything uses rayon (building the plans' regexes does), or the
    // global pool would already exist with one thread per core.
    if let Err(exit) = args.stream.apply_threads() {
        return exit;
    }
    let base_sources = if Path::new(&args.base).exists() {
        Sources::load(Path::new(&args.base)).map_err(|e| e.to_string())
    } else {
        base_from_git(&args.base, &args.rules)
    };
    let base_sources = match base_sources {
        Ok(s) => s,
        Err(e) => return super::usage_error(e),
    };
    let new_sources = match Sources::load(&args.rules) {
        Ok(s) => s,
        Err(e) => return super::usage_error(e),
    };
    // Both rule sets are compiled (and their errors reported) before stopping.
    let base = super::compile_sources(&base_sources, color);
    let new = match &base {
        Ok(b) => super::compile_sources_seeded(&new_sources, color, Some(&b.plan.decode)),
        Err(_) => super::compile_sources(&new_sources, color),
    };
    let (base, new) = match (base, new) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(exit), _) | (_, Err(exit)) => return exit,
    };
    let as_of = match super::parse_as_of(args.as_of.as_deref()) {
        Ok(t) => t,
        Err(e) => return super::usage_error(e),
    };
    let (reader, format) = match super::open_snapshot(&args.contacts) {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    let rejects_file = match args.stream.open_rejects() {
        Ok(f) => f,
        Err(exit) => return exit,
    };
    let plans = Plans {
        base: &base.plan,
        new: &new.plan,
        alignment: Alignment::new(&base.plan, &new.plan),
        as_of,
    };
    let mut state = DiffState {
        ids: IdSet::default(),
        rejects: Rejects::new(rejects_file),
        aggregate: Aggregate::new(&plans.alignment, args.examples),
        strict_stop: false,
    };
    let strict = args.stream.strict;
    let result = match format {
        InputFormat::JsonLines => stream::pipeline(
            reader,
            || plans.outcomes(),
            |outcomes, block| plans.process_block(outcomes, block),
            |chunk| Ok(state.consume(&plans.alignment, chunk, strict)),
        ),
        InputFormat::Csv => {
            let mut outcomes = plans.outcomes();
            stream::csv_batches(
                reader,
                &plans.new.decode,
                Chunk::default,
                |chunk, line| plans.push(line, &mut outcomes, chunk),
                |chunk| Ok(state.consume(&plans.alignment, chunk, strict)),
            )
        }
    };
    if let Err(e) = result {
        return super::usage_error(format!("reading `{}` failed: {e}", args.contacts));
    }
    state.rejects.flush();
    let rejected = state.rejects.count;
    let report = state.aggregate.report(
        &plans.alignment,
        Meta {
            base: args.base.clone(),
            rules: args.rules.display().to_string(),
            contacts_file: args.contacts.clone(),
            as_of: crate::snapshot::format_timestamp(as_of),
            rejected,
        },
    );
    let text = match args.format {
        DiffFormat::Text => crate::diff::render::text(&report),
        DiffFormat::Markdown => crate::diff::render::markdown(&report),
        DiffFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(t) => t + "\n",
            Err(e) => return super::usage_error(format!("cannot write the report: {e}")),
        },
    };
    let written = {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    if let Err(exit) = super::finish_output(written) {
        return exit;
    }
    let mut summary = format!(
        "rubric: {} contact{} compared as of {}; {} changed",
        report.contacts,
        if report.contacts == 1 { "" } else { "s" },
        report.as_of,
        report.changed
    );
    if rejected > 0 {
        summary.push_str(&format!(
            "; {} line{} rejected",
            rejected,
            if rejected == 1 { "" } else { "s" }
        ));
    }
    if state.strict_stop {
        summary.push_str("; stopped at the first rejected line (--strict)");
    }
    eprintln!("{summary}");
    if rejected > 0 {
        Exit::Rejected
    } else if args.exit_code && report.changed > 0 {
        Exit::Changed
    } else {
        Exit::Success
    }
}

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

/// The rule files of the `--rules` path at a git revision, read with
/// `git ls-tree` / `git cat-file` in the repository that holds `--rules`.
/// File names read `REV:path/in/repo.rubric` in diagnostics.
fn base_from_git(rev: &str, rules: &Path) -> Result<Sources, String> {
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
