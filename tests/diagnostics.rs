//! The diagnostics corpus: every file of `tests/corpus/err/` (and every
//! directory of `tests/corpus/err_dir/`, one rule set each) is compiled, its
//! diagnostics rendered without colour and snapshotted, so that the message,
//! the underline and the help are reviewed together.
//!
//! Beside the snapshots, [`EXPECTED`] pins the codes and the position of the
//! first primary span of each case: a regression there is caught without
//! reading a snapshot. To add a case, add a file and a row; the failure
//! message prints the row to paste.

use std::path::{Path, PathBuf};

use rubric::compile::compile;
use rubric::diagnostics::{render, Diagnostic, Severity};
use rubric::source::Sources;

/// The corpus, relative to the crate root (the working directory of `cargo test`).
const CORPUS: &str = "tests/corpus";

/// One case: its path under `tests/corpus`, every diagnostic code in order,
/// and the 1-based line and column of the first diagnostic's primary span.
type Row = (&'static str, &'static [&'static str], usize, usize);

const SYNTAX: &str = "rubric::syntax";

#[rustfmt::skip]
const EXPECTED: &[Row] = &[
    ("err/ambiguous_name_const_or_prop.rubric", &["rubric::ambiguous_name"], 3, 51),
    ("err/duplicate_name_builtin_property.rubric", &["rubric::duplicate_name"], 3, 3),
    ("err/null_comparison_in_list.rubric", &["rubric::null_comparison"], 1, 43),
    ("err/type_mismatch_mixed_list.rubric", &["rubric::type_mismatch"], 1, 47),
    // List properties and `from text` (docs/language.md §5, §8.16).
    ("err/type_mismatch_has_list_without_any_of.rubric", &["rubric::type_mismatch"], 5, 33),
    ("err/type_mismatch_has_number.rubric", &["rubric::type_mismatch", "rubric::type_mismatch"], 5, 44),
    ("err/type_mismatch_has_on_text.rubric", &["rubric::type_mismatch"], 5, 19),
    ("err/type_mismatch_list_compared.rubric", &["rubric::type_mismatch"], 5, 30),
    ("err/unknown_type_empty_separator.rubric", &["rubric::unknown_type"], 2, 32),
    ("err/unknown_type_from_text.rubric", &["rubric::unknown_type"], 3, 22),
    ("err/unknown_type_separator_not_list.rubric", &["rubric::unknown_type"], 2, 32),
    // Syntax errors: one per slip, reported where the slip is.
    ("err/syntax_and_and.rubric", &[SYNTAX], 2, 47),
    ("err/syntax_arrow_for_ge.rubric", &[SYNTAX], 2, 39),
    ("err/syntax_arrow_after_comparison.rubric", &[SYNTAX], 4, 40),
    ("err/syntax_is_text.rubric", &["rubric::syntax"], 2, 50),
    ("err/syntax_incomplete_condition.rubric", &["rubric::syntax", "rubric::syntax"], 4, 1),
    ("err/syntax_keyword_as_name.rubric", &[SYNTAX], 3, 3),
    ("err/syntax_keyword_as_segment_name.rubric", &[SYNTAX], 1, 9),
    ("err/syntax_missing_arrow.rubric", &[SYNTAX], 3, 70),
    ("err/syntax_missing_comma.rubric", &["rubric::syntax"], 1, 45),
    ("err/syntax_missing_score_range.rubric", &[SYNTAX], 2, 11),
    ("err/syntax_missing_unit.rubric", &["rubric::syntax"], 2, 70),
    ("err/syntax_missing_unit_at_end.rubric", &["rubric::syntax"], 2, 52),
    ("err/syntax_missing_when.rubric", &[SYNTAX], 3, 5),
    ("err/syntax_misspelt_item.rubric", &[SYNTAX], 2, 1),
    ("err/syntax_single_equals.rubric", &[SYNTAX], 2, 61),
    ("err/syntax_single_quotes.rubric", &["rubric::syntax"], 2, 39),
    ("err/syntax_starts_with_underscore.rubric", &[SYNTAX], 1, 26),
    ("err/syntax_two_errors.rubric", &[SYNTAX, SYNTAX], 4, 48),
    ("err/syntax_unclosed_brace.rubric", &[SYNTAX], 7, 1),
    ("err/syntax_unclosed_brace_at_end.rubric", &["rubric::syntax"], 2, 39),
    ("err/syntax_unclosed_paren.rubric", &[SYNTAX], 3, 1),
    ("err/syntax_unterminated_string.rubric", &[SYNTAX], 2, 8),
    ("err/syntax_where_not.rubric", &["rubric::syntax"], 2, 46),
    // Issue 13's near-misses: each help names the fix in the rule's own names.
    ("err/syntax_age_range_without_ago.rubric", &[SYNTAX], 6, 52),
    ("err/syntax_future_event_window.rubric", &[SYNTAX], 3, 55),
    ("err/syntax_future_window_count_compared.rubric", &[SYNTAX], 3, 62),
    ("err/type_mismatch_future_event_window.rubric", &["rubric::type_mismatch", "rubric::type_mismatch"], 3, 26),
    ("err/syntax_band_value_starts_with_digit.rubric", &[SYNTAX, SYNTAX], 8, 3),
    ("err/syntax_modifiers_without_comma.rubric", &[SYNTAX, SYNTAX, SYNTAX], 3, 55),
    ("err/syntax_name_starts_with_digit.rubric", &[SYNTAX], 3, 3),
    ("err/syntax_count_without_count_of.rubric", &[SYNTAX, SYNTAX], 2, 50),
    ("err/syntax_days_since_with_unit.rubric", &[SYNTAX, SYNTAX, SYNTAX], 6, 55),
    ("err/syntax_sla_in_queue_branch.rubric", &[SYNTAX], 10, 16),
    ("err/syntax_signed_window.rubric", &[SYNTAX, SYNTAX, SYNTAX, SYNTAX], 7, 48),
    ("err/syntax_where_several_tests.rubric", &[SYNTAX, SYNTAX, SYNTAX], 2, 94),
    ("err/unknown_name_after_where.rubric", &["rubric::unknown_name", "rubric::unknown_name"], 12, 71),
    ("err/unknown_name_now.rubric", &["rubric::unknown_name", "rubric::unknown_name", "rubric::unknown_name", "rubric::unknown_name"], 6, 43),
    ("err/type_mismatch_function_argument.rubric", &["rubric::type_mismatch", "rubric::type_mismatch", "rubric::type_mismatch"], 8, 26),
    ("err/type_mismatch_band_value_as_number.rubric", &["rubric::type_mismatch"], 16, 41),
    ("err/type_mismatch_between_text.rubric", &["rubric::type_mismatch", "rubric::type_mismatch"], 8, 23),
    ("err/type_mismatch_within_next_number.rubric", &["rubric::type_mismatch", "rubric::type_mismatch"], 7, 19),
    ("err/not_a_condition_value_after_or.rubric", &["rubric::not_a_condition", "rubric::not_a_condition", "rubric::not_a_condition", "rubric::not_a_condition"], 8, 47),
    ("err/type_mismatch_any_compared_with_number.rubric", &["rubric::type_mismatch", "rubric::type_mismatch"], 2, 53),
    ("err/invalid_escape.rubric", &["rubric::invalid_escape"], 3, 32),
    // Names.
    ("err/unknown_name_schema.rubric", &["rubric::unknown_name"], 7, 23),
    ("err/unknown_name_no_schema.rubric", &["rubric::unknown_name"], 7, 28),
    ("err/unknown_name_band_typo.rubric", &["rubric::unknown_name"], 10, 30),
    ("err/unknown_name_list_constant.rubric", &["rubric::unknown_name"], 4, 29),
    ("err/unknown_property_schema.rubric", &["rubric::unknown_name"], 8, 22),
    ("err/unknown_name_event_as_property.rubric", &["rubric::unknown_name"], 10, 31),
    ("err/unknown_name_event_as_property_events_schema.rubric", &["rubric::unknown_name"], 7, 31),
    ("err/duplicate_name_property_and_segment.rubric", &["rubric::duplicate_name"], 7, 9),
    ("err/duplicate_name_same_kind.rubric", &["rubric::duplicate_name"], 6, 7),
    ("err/duplicate_name_across_kinds.rubric", &["rubric::duplicate_name"], 4, 10),
    ("err/duplicate_name_rule_label.rubric", &["rubric::duplicate_name"], 3, 3),
    ("err/duplicate_name_property.rubric", &["rubric::duplicate_name"], 4, 3),
    ("err/duplicate_name_builtin.rubric", &["rubric::duplicate_name"], 2, 9),
    ("err/duplicate_name_channel.rubric", &["rubric::duplicate_name"], 1, 35),
    ("err/unknown_type.rubric", &["rubric::unknown_type", "rubric::unknown_type"], 2, 17),
    ("err_dir/duplicate_across_files", &["rubric::duplicate_name"], 2, 7),
    // Bands and first-match branches.
    ("err/missing_otherwise.rubric", &["rubric::missing_otherwise"], 5, 6),
    ("err/missing_otherwise_queue.rubric", &["rubric::missing_otherwise"], 1, 7),
    // Routing (issue 13).
    ("err/queue_names_a_property.rubric", &["rubric::queue_names_a_property"], 11, 9),
    ("err/missing_fallback.rubric", &["rubric::missing_fallback"], 5, 9),
    ("err/duplicate_table_key.rubric", &["rubric::duplicate_branch"], 4, 3),
    ("err/missing_otherwise_table.rubric", &["rubric::missing_otherwise"], 2, 7),
    ("err/type_mismatch_from_table.rubric", &["rubric::type_mismatch"], 10, 14),
    ("err/type_mismatch_queue_from_number.rubric", &["rubric::type_mismatch"], 10, 14),
    ("err/missing_fallback_branch.rubric", &["rubric::missing_fallback"], 7, 5),
    ("err/syntax_table_without_by.rubric", &[SYNTAX], 2, 17),
    ("err/syntax_round_robin_without_brackets.rubric", &[SYNTAX], 5, 15),
    ("err/syntax_table_otherwise_arrow.rubric", &[SYNTAX], 4, 13),
    ("err/unreachable_branch_after_otherwise.rubric", &["rubric::unreachable_branch"], 8, 3),
    ("err/unreachable_branch_always_true.rubric", &["rubric::unreachable_branch", "rubric::unreachable_branch"], 8, 3),
    ("err/duplicate_branch.rubric", &["rubric::duplicate_branch"], 8, 3),
    ("err/unknown_band_value.rubric", &["rubric::unknown_band_value"], 11, 43),
    ("err/unknown_band_value_in_list.rubric", &["rubric::unknown_band_value"], 11, 50),
    ("err/band_comparison.rubric", &["rubric::band_comparison"], 17, 27),
    ("err/band_ordered_never_true.rubric", &["rubric::band_comparison", "rubric::band_comparison"], 12, 23),
    ("err/band_ordered_unknown_value.rubric", &["rubric::unknown_band_value", "rubric::unknown_band_value"], 13, 35),
    ("err/reversed_between.rubric", &["rubric::inverted_range", "rubric::inverted_range", "rubric::inverted_range"], 7, 46),
    // Regular expressions and durations.
    ("err/invalid_regex.rubric", &["rubric::invalid_regex"], 2, 41),
    ("err/invalid_regex_const.rubric", &["rubric::invalid_regex"], 2, 23),
    ("err/invalid_regex_flag.rubric", &["rubric::invalid_regex"], 3, 36),
    ("err/invalid_duration_unit.rubric", &["rubric::invalid_duration"], 2, 44),
    ("err/invalid_duration_months.rubric", &["rubric::invalid_duration"], 2, 72),
    ("err/invalid_duration_zero_half_life.rubric", &["rubric::invalid_duration"], 3, 42),
    ("err/invalid_duration_zero_sla.rubric", &["rubric::invalid_duration"], 3, 7),
    // Dependencies between items.
    ("err/cycle_segments.rubric", &["rubric::cycle"], 2, 9),
    ("err/cycle_score_self.rubric", &["rubric::cycle"], 2, 7),
    ("err/cycle_band_score.rubric", &["rubric::cycle"], 1, 7),
    ("err_dir/cycle_across_files", &["rubric::cycle"], 1, 9),
    // Scores.
    ("err/empty_range.rubric", &["rubric::empty_range"], 1, 11),
    ("err/inverted_range.rubric", &["rubric::inverted_range"], 1, 11),
    ("err/inverted_range_min_max.rubric", &["rubric::inverted_range"], 2, 63),
    ("err/threshold_out_of_range.rubric", &["rubric::threshold_out_of_range"], 5, 34),
    ("err/misplaced_modifier.rubric", &["rubric::misplaced_modifier"], 2, 61),
    ("err/misplaced_modifier_decay.rubric", &["rubric::misplaced_modifier"], 2, 61),
    ("err/duplicate_modifier.rubric", &["rubric::duplicate_modifier"], 2, 88),
    // Channels and routes.
    ("err/unknown_channel.rubric", &["rubric::unknown_channel"], 1, 23),
    ("err/unknown_channel_undeclared.rubric", &["rubric::unknown_channel", "rubric::unknown_channel"], 4, 25),
    ("err/unknown_name_despite.rubric", &["rubric::unknown_name", "rubric::unknown_name"], 6, 40),
    ("err/duplicate_name_channel_declared.rubric", &["rubric::duplicate_name", "rubric::duplicate_name", "rubric::duplicate_name"], 3, 9),
    ("err/syntax_channel_after_condition.rubric", &[SYNTAX], 4, 35),
    ("err/syntax_despite_before_condition.rubric", &[SYNTAX], 4, 17),
    ("err/syntax_target_two_channels.rubric", &[SYNTAX], 4, 22),
    ("err/syntax_channel_without_on.rubric", &[SYNTAX], 4, 16),
    ("err/missing_route_field.rubric", &["rubric::missing_route_field"], 1, 7),
    ("err/missing_route_field_all.rubric", &["rubric::missing_route_field", "rubric::missing_route_field", "rubric::missing_route_field"], 1, 7),
    ("err/duplicate_route_field.rubric", &["rubric::duplicate_route_field"], 5, 3),
    ("err/duplicate_goal_field.rubric", &["rubric::duplicate_goal_field"], 4, 3),
    ("err/missing_goal_field.rubric", &["rubric::missing_goal_field", "rubric::missing_goal_field"], 1, 6),
    ("err/unknown_name_goal_value.rubric", &["rubric::unknown_name"], 4, 16),
    ("err/invalid_duration_zero_horizon.rubric", &["rubric::invalid_duration"], 3, 11),
    ("err/duplicate_name_goal.rubric", &["rubric::duplicate_name"], 6, 6),
    ("err/duplicate_name_outcome_type.rubric", &["rubric::duplicate_name"], 2, 36),
    ("err/syntax_goal_field.rubric", &[SYNTAX], 2, 3),
    // Schema, types and values.
    ("err/type_mismatch_number_text.rubric", &["rubric::type_mismatch"], 6, 38),
    ("err/type_mismatch_bool_text.rubric", &["rubric::type_mismatch"], 5, 64),
    ("err/type_mismatch_order_text.rubric", &["rubric::type_mismatch"], 5, 24),
    ("err/type_mismatch_ignoring_case_number.rubric", &["rubric::type_mismatch"], 5, 26),
    ("err/type_mismatch_within_number.rubric", &["rubric::type_mismatch"], 5, 26),
    ("err/type_mismatch_is_on_non_band.rubric", &["rubric::type_mismatch"], 10, 43),
    ("err/type_mismatch_band_is_null.rubric", &["rubric::type_mismatch"], 6, 23),
    ("err/type_mismatch_audience_in_condition.rubric", &["rubric::type_mismatch"], 3, 32),
    ("err/type_mismatch_in_not_list.rubric", &["rubric::type_mismatch"], 3, 34),
    ("err/type_mismatch_timestamp_literal.rubric", &["rubric::type_mismatch"], 5, 55),
    ("err/type_mismatch_arithmetic_text.rubric", &["rubric::type_mismatch"], 7, 44),
    ("err/value_not_allowed.rubric", &["rubric::value_not_allowed"], 5, 64),
    ("err/value_not_allowed_in_list.rubric", &["rubric::value_not_allowed"], 5, 63),
    ("err/unknown_event.rubric", &["rubric::unknown_event"], 7, 24),
    ("err/unknown_event_prop.rubric", &["rubric::unknown_event_prop"], 7, 40),
    // Functions, null, aggregates, conditions.
    ("err/unknown_function.rubric", &["rubric::unknown_function"], 2, 19),
    ("err/wrong_arity.rubric", &["rubric::wrong_arity"], 2, 21),
    ("err/wrong_arity_no_args.rubric", &["rubric::wrong_arity"], 1, 20),
    ("err/null_comparison.rubric", &["rubric::null_comparison"], 2, 26),
    ("err/null_comparison_ne.rubric", &["rubric::null_comparison"], 1, 36),
    ("err/nested_aggregate.rubric", &["rubric::nested_aggregate"], 2, 45),
    ("err/type_mismatch_sum_of_text_prop.rubric", &["rubric::type_mismatch"], 6, 25),
    ("err/unknown_event_prop_in_aggregate.rubric", &["rubric::unknown_event_prop"], 6, 31),
    ("err/unknown_event_prop_contact_field.rubric", &["rubric::unknown_event_prop"], 8, 53),
    ("err/syntax_possessive_prop_of_last.rubric", &[SYNTAX], 2, 39),
    ("err/unknown_function_sum_call.rubric", &["rubric::unknown_function"], 2, 26),
    ("err/not_a_condition.rubric", &["rubric::not_a_condition"], 5, 29),
    ("err/not_a_condition_band.rubric", &["rubric::not_a_condition"], 6, 30),
    ("err/not_a_condition_count.rubric", &["rubric::not_a_condition"], 1, 28),
    // Several independent errors: all reported in one pass.
    ("err/many_errors.rubric", &[
        "rubric::unknown_name",
        "rubric::type_mismatch",
        "rubric::missing_otherwise",
        "rubric::unknown_channel",
        "rubric::value_not_allowed",
        "rubric::unknown_band_value",
    ], 9, 23),
];

/// Cases whose current diagnostics are wrong or unhelpful. The rows above pin
/// today's behaviour (so the snapshots stay reviewable); when one of these is
/// fixed, update its row and snapshot and remove it from this list.
#[rustfmt::skip]
const KNOWN_PROBLEMS: &[(&str, &str)] = &[
];

/// Files and directories of the corpus whose diagnostics include a span that
/// ends in whitespace (a pest span that swallowed the trivia after the last
/// token). Kept as a list so that it can only shrink.
const SPANS_ENDING_IN_WHITESPACE: &[&str] = &[];

/// Every case of the corpus: `err/*.rubric` files and `err_dir/*` directories,
/// as paths relative to [`CORPUS`], sorted.
fn corpus_cases() -> Vec<String> {
    let mut cases = Vec::new();
    for (dir, want_dirs) in [("err", false), ("err_dir", true)] {
        let full = Path::new(CORPUS).join(dir);
        for entry in std::fs::read_dir(&full).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let wanted = if want_dirs {
                path.is_dir()
            } else {
                path.extension().is_some_and(|e| e == "rubric")
            };
            if wanted {
                cases.push(format!("{dir}/{name}"));
            }
        }
    }
    cases.sort();
    cases
}

struct Outcome {
    sources: Sources,
    diagnostics: Vec<Diagnostic>,
    compiled: bool,
}

fn compile_case(case: &str) -> Outcome {
    let path: PathBuf = Path::new(CORPUS).join(case);
    let sources = Sources::load(&path).unwrap_or_else(|e| panic!("{case}: {e}"));
    match compile(&sources) {
        Ok(compiled) => Outcome {
            sources,
            diagnostics: compiled.warnings,
            compiled: true,
        },
        Err(diagnostics) => Outcome {
            sources,
            diagnostics,
            compiled: false,
        },
    }
}

/// The row this case produces today, in the syntax of [`EXPECTED`].
fn actual_row(case: &str, outcome: &Outcome) -> String {
    let codes: Vec<String> = outcome
        .diagnostics
        .iter()
        .map(|d| format!("{:?}", d.code))
        .collect();
    let (line, column) = outcome.diagnostics.first().map_or((0, 0), |d| {
        let at = outcome.sources.location(d.span);
        (at.line, at.column)
    });
    format!("({case:?}, &[{}], {line}, {column}),", codes.join(", "))
}

fn snapshot_text(outcome: &Outcome) -> String {
    if outcome.compiled && outcome.diagnostics.is_empty() {
        return String::from("(compiled without diagnostics)\n");
    }
    render(&outcome.diagnostics, &outcome.sources, false)
}

fn snapshot_name(case: &str) -> String {
    case.trim_end_matches(".rubric").replace('/', "__")
}

#[test]
fn every_corpus_case_has_exactly_one_row() {
    let cases = corpus_cases();
    let mut problems = Vec::new();
    for case in &cases {
        let rows = EXPECTED.iter().filter(|r| r.0 == case).count();
        if rows != 1 {
            problems.push(format!("{case}: {rows} rows in EXPECTED"));
        }
    }
    for (case, ..) in EXPECTED {
        if !cases.iter().any(|c| c == case) {
            problems.push(format!("{case}: row without a corpus file"));
        }
    }
    for (case, _) in KNOWN_PROBLEMS {
        if !cases.iter().any(|c| c == case) {
            problems.push(format!("{case}: known problem without a corpus file"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn codes_and_first_positions_match_the_table() {
    let mut problems = Vec::new();
    for &(case, codes, line, column) in EXPECTED {
        let outcome = compile_case(case);
        let actual: Vec<&str> = outcome.diagnostics.iter().map(|d| d.code).collect();
        let at = outcome
            .diagnostics
            .first()
            .map(|d| outcome.sources.location(d.span));
        let position = at.as_ref().map_or((0, 0), |l| (l.line, l.column));
        if actual != codes || position != (line, column) {
            problems.push(format!(
                "{case}: expected {codes:?} at {line}:{column}, found {actual:?} at {}:{}\n  actual row: {}",
                position.0,
                position.1,
                actual_row(case, &outcome)
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn error_cases_fail_with_errors_only() {
    let mut problems = Vec::new();
    for case in corpus_cases() {
        let outcome = compile_case(&case);
        let known = KNOWN_PROBLEMS.iter().any(|(c, _)| *c == case);
        if outcome.compiled && !known {
            problems.push(format!("{case}: compiled, but it is an error case"));
        }
        for d in &outcome.diagnostics {
            if d.code == rubric::diagnostics::INTERNAL {
                problems.push(format!("{case}: internal error: {}", d.message));
            }
            if d.severity != Severity::Error {
                problems.push(format!("{case}: unexpected warning {}", d.code));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Messages follow the style guide: lower case, no final period; every
/// span lies inside its file.
#[test]
fn messages_and_spans_are_well_formed() {
    let mut problems = Vec::new();
    let mut ending_in_whitespace = Vec::new();
    for case in corpus_cases() {
        let outcome = compile_case(&case);
        for d in &outcome.diagnostics {
            let first = d.message.chars().next().unwrap_or(' ');
            if first.is_uppercase() || d.message.ends_with('.') {
                problems.push(format!("{case}: message style: {:?}", d.message));
            }
            let mut spans = vec![d.span];
            spans.extend(d.notes.iter().map(|n| n.span));
            for span in spans {
                let file = outcome.sources.get(span.file).unwrap();
                if span.start > span.end || span.end as usize > file.text.len() {
                    problems.push(format!("{case}: span {span:?} outside its file"));
                }
                let text = outcome.sources.text(span);
                if text.ends_with(char::is_whitespace) {
                    ending_in_whitespace.push(case.clone());
                }
            }
        }
    }
    ending_in_whitespace.dedup();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert_eq!(
        ending_in_whitespace, SPANS_ENDING_IN_WHITESPACE,
        "the cases with a span ending in whitespace changed; update SPANS_ENDING_IN_WHITESPACE (it should only shrink)"
    );
}

#[test]
fn rendered_diagnostics_match_snapshots() {
    for case in corpus_cases() {
        let outcome = compile_case(&case);
        let rendered = snapshot_text(&outcome);
        insta::with_settings!({
            description => format!("rubric check {CORPUS}/{case}"),
            omit_expression => true,
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(snapshot_name(&case), rendered);
        });
    }
}

/// Issue 17, item 6: miette's graphical handler panicked ("Formatting
/// argument out of range") when a diagnostic fell past column 65,535. A
/// 70,000-character line with a slip near its end now renders without a
/// panic and still names the file, the line and the column.
#[test]
fn a_diagnostic_past_column_65535_renders_with_its_location() {
    let mut line = String::from("segment s when a == 1");
    while line.len() < 70_000 {
        line.push_str(" or a == 1");
    }
    line.push_str(" or a = 1");
    let text = format!("# a long line follows\n{line}\n");
    let column = line.rfind(" = 1").unwrap() + 2;
    let mut sources = Sources::default();
    sources.add(rubric::source::SourceFile::new("long.rubric", text));
    let diagnostics = compile(&sources).expect_err("the single `=` is a syntax error");
    let first = diagnostics.first().expect("one diagnostic");
    assert_eq!(first.code, "rubric::syntax");
    let rendered = render(&diagnostics, &sources, false);
    assert!(
        rendered.contains(&format!("long.rubric:2:{column}")),
        "{}",
        rendered.get(..2_000).unwrap_or(&rendered)
    );
    assert!(rendered.contains("syntax error"), "{rendered}");
}

/// Issue 17, item 8: "did you mean" was quadratic in the length of names, so
/// an unknown name beside a 30,000-character property took 7.9 s to check.
/// Names longer than 64 characters are no longer compared; the unknown name
/// is still reported, without a suggestion.
#[test]
fn an_unknown_name_beside_a_30000_character_name_is_reported_quickly() {
    let long = "a".repeat(30_000);
    let near_miss = format!("{}b", "a".repeat(29_999));
    let text = format!("properties {{\n  {long}: number\n}}\nsegment s when {near_miss} > 1\n");
    let mut sources = Sources::default();
    sources.add(rubric::source::SourceFile::new("long.rubric", text));
    let started = std::time::Instant::now();
    let diagnostics = compile(&sources).expect_err("the near miss is not declared");
    let rendered = render(&diagnostics, &sources, false);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["rubric::unknown_name"]);
    assert!(
        rendered.contains("long.rubric:4:16"),
        "{}",
        rendered.get(..500).unwrap_or(&rendered)
    );
}
