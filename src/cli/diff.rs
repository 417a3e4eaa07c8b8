//! `rubric diff`: evaluate the base and the new rule set on the same snapshot
//! in one streaming pass ([`crate::diff::compare`]) and report the impact as
//! text, Markdown or JSON. `--base` is a path, or else a git revision of the
//! `--rules` path ([`crate::diff::base`]).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{finish_output, usage_error, Exit};
use super::input::{self, StreamOptions};
use crate::diff::base::sources_at_revision;
use crate::diff::compare::{compare_snapshot, CompareSettings};
use crate::diff::{Alignment, Meta};
use crate::source::Sources;

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
    stream: StreamOptions,
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

pub fn run(args: &DiffArgs) -> Result<Exit, Exit> {
    let color = args.color.for_stderr();
    let pipeline = args.stream.pipeline()?;
    let base_sources = if Path::new(&args.base).exists() {
        Sources::load(Path::new(&args.base)).map_err(|e| e.to_string())
    } else {
        sources_at_revision(&args.base, &args.rules)
    };
    let base_sources = base_sources.map_err(usage_error)?;
    let new_sources = Sources::load(&args.rules).map_err(usage_error)?;
    // Both rule sets are compiled (and their errors reported) before stopping.
    let base = input::compile_sources(&base_sources, color);
    let new = match &base {
        Ok(b) => input::compile_sources_seeded(&new_sources, color, Some(&b.plan.decode)),
        Err(_) => input::compile_sources(&new_sources, color),
    };
    let (base, new) = (base?, new?);
    let as_of = input::as_of(args.as_of.as_deref())?;
    let snapshot = input::snapshot(&args.contacts, args.stream.input_format)?;
    let mut progress = snapshot.progress(args.stream.quiet);
    let (mut rejects, rejects_file) = args.stream.rejects(&progress)?;
    let alignment = Alignment::new(&base.plan, &new.plan);
    let settings = CompareSettings {
        as_of,
        strict: args.stream.strict,
        examples: args.examples,
        pipeline,
    };
    let compared = compare_snapshot(
        &base.plan,
        &new.plan,
        &alignment,
        &settings,
        snapshot.reader,
        snapshot.format,
        &mut rejects,
    );
    progress.finish();
    // After a failed read too, the `--rejects` file holds what was rejected.
    let rejects_written = args.stream.finish_rejects(&mut rejects, rejects_file);
    let compared = compared.map_err(|e| usage_error(format!("reading `{}` failed: {e}", args.contacts)))?;
    rejects_written?;
    let rejected = rejects.count();
    let report = compared.tally.report(
        &alignment,
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
            Err(e) => return Err(usage_error(format!("cannot write the report: {e}"))),
        },
    };
    let written = {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    finish_output(written)?;
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
    if compared.strict_stop {
        summary.push_str("; stopped at the first rejected line (--strict)");
    }
    if !args.stream.quiet {
        eprintln!("{summary}");
    }
    if rejected > 0 {
        Ok(Exit::Rejected)
    } else if args.exit_code && report.changed > 0 {
        Ok(Exit::Changed)
    } else {
        Ok(Exit::Success)
    }
}
