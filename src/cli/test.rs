//! `rubric test PATH`: run the rule set's YAML test files and report like
//! `cargo test` (or JUnit XML with `--format junit`); `--filter` runs only the
//! cases whose name contains a text, `--coverage` adds which rules no case
//! exercised ([`crate::testing::coverage`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::color::ColorChoice;
use super::exit::{usage_error, Exit};
use super::input;
use crate::testing::{self, CaseResult};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The rules directory (its `*.test.yaml` files and `tests/*.yaml` are run), or one test file.
    path: PathBuf,
    /// The rule set, when it is not the directory of the test files.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// `human` (like cargo test) or `junit` (JUnit XML on stdout).
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Run only the cases whose name contains this text (case-sensitive).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// After the results, list the rules, rows, segments, band and queue
    /// branches, suppressions and targets that no case exercised (matched).
    /// On stderr with `--format junit`.
    #[arg(long)]
    coverage: bool,
    /// Colour of rule diagnostics: auto, always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Human,
    Junit,
}

struct FileReport {
    name: String,
    results: Vec<CaseResult>,
    error: Option<String>,
}

pub fn run(args: &TestArgs) -> Result<Exit, Exit> {
    let (rules, files) = if args.path.is_dir() {
        (
            args.rules.clone().unwrap_or_else(|| args.path.clone()),
            testing::test_files(&args.path),
        )
    } else {
        let dir = args.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let rules = args.rules.clone().unwrap_or_else(|| {
            if dir.file_name().is_some_and(|n| n == "tests") {
                dir.parent().map(Path::to_path_buf).unwrap_or(dir.clone())
            } else {
                dir.clone()
            }
        });
        (rules, vec![args.path.clone()])
    };
    if files.is_empty() {
        return Err(usage_error(format!(
            "no test files in `{}` (looked for `*.test.yaml` and `tests/*.yaml`)",
            args.path.display()
        )));
    }
    if args.rules.is_none() && rules.is_dir() && !has_rubric_file(&rules) {
        // The rule set was inferred from where the tests are: say how to name it.
        return Err(usage_error(format!(
            "no `.rubric` files in directory `{}`, taken as the rule set of `{}`; \
             name the rule set with `--rules`: `rubric test --rules RULES_DIR {}`",
            rules.display(),
            args.path.display(),
            args.path.display()
        )));
    }
    let rules = input::rules(&rules, args.color.for_stderr())?;
    let (sources, plan) = (&rules.sources, rules.plan());
    let mut reports = Vec::new();
    let mut filtered_out = 0usize;
    for file in &files {
        let name = file.display().to_string();
        let text =
            std::fs::read_to_string(file).map_err(|e| usage_error(format!("cannot read `{name}`: {e}")))?;
        match testing::parse(&text) {
            Err(e) => reports.push(FileReport {
                error: Some(match e.line {
                    Some(line) => format!("{name}:{line}: {}", e.message),
                    None => format!("{name}: {}", e.message),
                }),
                name,
                results: Vec::new(),
            }),
            Ok(tf) => {
                let lines = testing::case_lines(&text);
                let selected = |case: &&testing::Case| {
                    args.filter
                        .as_deref()
                        .is_none_or(|filter| case.name.contains(filter))
                };
                filtered_out += tf.cases.iter().filter(|case| !selected(case)).count();
                let results = tf
                    .cases
                    .iter()
                    .enumerate()
                    .filter(|(_, case)| selected(case))
                    .map(|(i, case)| {
                        testing::run_case(plan, case, tf.as_of.as_deref(), lines.get(i).copied())
                    })
                    .collect();
                reports.push(FileReport {
                    name,
                    results,
                    error: None,
                });
            }
        }
    }
    let passed: usize = reports
        .iter()
        .map(|r| r.results.iter().filter(|c| c.passed()).count())
        .sum();
    let failed: usize = reports
        .iter()
        .map(|r| r.results.iter().filter(|c| !c.passed()).count())
        .sum();
    let broken = reports.iter().filter(|r| r.error.is_some()).count();
    let counts = Counts {
        passed,
        failed,
        broken,
        filtered_out: args.filter.as_ref().map(|_| filtered_out),
    };
    let mut text = match args.format {
        TestFormat::Human => human(&reports, plan, sources, &counts),
        TestFormat::Junit => junit(&reports),
    };
    if args.coverage {
        let coverage = coverage(&reports, plan, sources).render_text();
        match args.format {
            TestFormat::Human => text.push_str(&coverage),
            TestFormat::Junit => eprint!("{coverage}"),
        }
    }
    let mut out = std::io::stdout().lock();
    if out.write_all(text.as_bytes()).is_err() {
        return Err(Exit::Usage);
    }
    if failed > 0 || broken > 0 {
        Ok(Exit::RuleErrors)
    } else {
        Ok(Exit::Success)
    }
}

/// The counts of the closing `test result:` line.
struct Counts {
    passed: usize,
    failed: usize,
    broken: usize,
    /// Cases `--filter` left out (`None` without `--filter`).
    filtered_out: Option<usize>,
}

/// Which items of the rule set the cases that ran exercised.
fn coverage(
    reports: &[FileReport],
    plan: &crate::plan::Plan,
    sources: &crate::source::Sources,
) -> testing::coverage::Coverage {
    let mut coverage = testing::coverage::Coverage::new(plan, sources);
    for (contact, as_of) in reports
        .iter()
        .flat_map(|r| &r.results)
        .filter_map(|c| c.contact.as_ref())
    {
        let (_, trace) = crate::trace::explain(plan, sources, contact, *as_of);
        coverage.record(&trace);
    }
    coverage
}

fn human(
    reports: &[FileReport],
    plan: &crate::plan::Plan,
    sources: &crate::source::Sources,
    counts: &Counts,
) -> String {
    let &Counts {
        passed,
        failed,
        broken,
        filtered_out,
    } = counts;
    let mut out = String::new();
    for r in reports {
        if let Some(e) = &r.error {
            out.push_str(&format!("\nerror: malformed test file {e}\n"));
            continue;
        }
        out.push_str(&format!("\nrunning {} tests from {}\n", r.results.len(), r.name));
        for c in &r.results {
            out.push_str(&format!(
                "test {} ... {}\n",
                c.name,
                if c.passed() { "ok" } else { "FAILED" }
            ));
        }
    }
    let failures: Vec<(&FileReport, &CaseResult)> = reports
        .iter()
        .flat_map(|r| r.results.iter().filter(|c| !c.passed()).map(move |c| (r, c)))
        .collect();
    if !failures.is_empty() {
        out.push_str("\nfailures:\n");
        for (r, c) in &failures {
            let at = c
                .line
                .map_or_else(|| r.name.clone(), |l| format!("{}:{l}", r.name));
            out.push_str(&format!("\n---- {} ({at}) ----\n", c.name));
            for f in &c.failures {
                out.push_str(&format!("  {f}\n"));
            }
            if let Some(actual) = &c.actual {
                out.push_str(&format!("  actual: {actual}\n"));
            }
            if let Some((contact, as_of)) = &c.contact {
                let (_, trace) = crate::trace::explain(plan, sources, contact, *as_of);
                out.push_str("\n  trace:\n");
                for line in crate::trace::render::text(&trace, false).lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
    }
    let status = if failed == 0 && broken == 0 {
        "ok"
    } else {
        "FAILED"
    };
    let broken_text = if broken > 0 {
        format!(
            ", {broken} malformed test file{}",
            if broken == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    let filtered_text = filtered_out.map_or_else(String::new, |n| format!("; {n} filtered out"));
    out.push_str(&format!(
        "\ntest result: {status}. {passed} passed, {failed} failed{broken_text}{filtered_text}\n"
    ));
    out
}

fn junit(reports: &[FileReport]) -> String {
    use testing::xml_escape as x;
    let total: usize = reports
        .iter()
        .map(|r| r.results.len().max(usize::from(r.error.is_some())))
        .sum();
    let failures: usize = reports
        .iter()
        .map(|r| r.results.iter().filter(|c| !c.passed()).count())
        .sum();
    let errors = reports.iter().filter(|r| r.error.is_some()).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rubric\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\">\n"
    );
    for r in reports {
        let f = r.results.iter().filter(|c| !c.passed()).count();
        let n = r.results.len().max(usize::from(r.error.is_some()));
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{f}\" errors=\"{}\">\n",
            x(&r.name),
            usize::from(r.error.is_some())
        ));
        if let Some(e) = &r.error {
            out.push_str(&format!(
                "    <testcase name=\"(test file)\" classname=\"{}\">\n      <error message=\"malformed test file\">{}</error>\n    </testcase>\n",
                x(&r.name),
                x(e)
            ));
        }
        for c in &r.results {
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\"",
                x(&c.name),
                x(&r.name)
            ));
            if c.passed() {
                out.push_str("/>\n");
            } else {
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    x(c.failures.first().map_or("", String::as_str)),
                    x(&c.failures.join("\n"))
                ));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Whether `dir` holds at least one `.rubric` file (not looking into its
/// subdirectories, as [`crate::source::Sources::load`] does not).
fn has_rubric_file(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "rubric"))
    })
}
