//! The pest parser and the builders that turn its parse tree into the AST:
//! one `build_<rule>` function per grammar rule.

use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::*;
use super::comments::{comment_start, skip_trivia};
use crate::diagnostics::{Diagnostic, DiagnosticKind, SyntaxHint};
use crate::source::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/rubric.pest"]
struct RubricParser;

use super::depth::ITEM_KEYWORDS;

mod routing;

/// Parses one file. Returns the items that parsed and a diagnostic for each
/// item that did not.
pub fn parse_file(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    let mut pos = skip_trivia(text, 0);
    while pos < text.len() {
        let rest = text.get(pos..).unwrap_or("");
        // Too deep a nesting is reported once, where it crosses the limit,
        // and the item is skipped like a syntax error, before pest could
        // recurse that deep.
        if let Some((at, len)) = super::depth::first_too_deep(rest) {
            let start = pos + at;
            diagnostics.push(
                Diagnostic::new(
                    DiagnosticKind::NestingTooDeep {
                        limit: super::depth::MAX_NESTING_DEPTH,
                    },
                    Span::new(file, start, start + len),
                )
                .with_label("the limit is crossed here"),
            );
            match resume_point(text, pos, start) {
                Some(next) => pos = next,
                None => break,
            }
            continue;
        }
        let parsed = RubricParser::parse(Rule::item_then_next, rest)
            .map(|mut pairs| pairs.next().and_then(|p| p.into_inner().next()));
        match parsed {
            Ok(Some(pair)) => {
                let consumed = pair.as_span().end();
                let builder = Builder {
                    file,
                    text,
                    base: pos,
                };
                match builder.build_item(pair) {
                    Ok(item) => items.push(item),
                    Err(d) => diagnostics.push(d),
                }
                if consumed == 0 {
                    break;
                }
                pos = skip_trivia(text, pos + consumed);
            }
            Ok(None) => break,
            Err(error) => {
                let diagnostic = syntax_error(file, text, pos, &error);
                let error_at = diagnostic.span.start as usize;
                diagnostics.push(diagnostic);
                match resume_point(text, pos, error_at) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
        }
    }
    (File { items }, diagnostics)
}

/// Where to resume after a syntax error at `error_at` in the item that
/// starts at `item_start`: the first line that starts an item, from the
/// error's own line when the error is at that line's first word.
fn resume_point(text: &str, item_start: usize, error_at: usize) -> Option<usize> {
    let error_line = text.get(..error_at)?.rfind('\n').map_or(0, |i| i + 1);
    let mut line_start = if error_line > item_start {
        error_line
    } else {
        text.get(error_at..)?.find('\n').map(|i| error_at + i + 1)?
    };
    loop {
        let line_end = text
            .get(line_start..)?
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = text.get(line_start..line_end)?;
        let trimmed = line.trim_start();
        let word: String = trimmed
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let names_a_property = trimmed
            .get(word.len()..)
            .is_some_and(|r| r.trim_start().starts_with(':'));
        // `goal` and `channel` are not reserved: `channel == "web"` on a
        // line of a condition is a property, not the next item.
        let contextual_as_name = matches!(word.as_str(), "goal" | "channel")
            && !trimmed.get(word.len()..).is_some_and(|r| {
                r.trim_start()
                    .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '`')
            });
        if ITEM_KEYWORDS.contains(&word.as_str())
            && !names_a_property
            && !contextual_as_name
            && line_start + (line.len() - trimmed.len()) > item_start
        {
            return Some(line_start + (line.len() - trimmed.len()));
        }
        if line_end >= text.len() {
            return None;
        }
        line_start = line_end + 1;
    }
}

/// Turns a pest error into a diagnostic in English.
fn syntax_error(file: FileId, text: &str, base: usize, error: &pest::error::Error<Rule>) -> Diagnostic {
    let offset = match error.location {
        pest::error::InputLocation::Pos(p) => base + p,
        pest::error::InputLocation::Span((s, _)) => base + s,
    };
    let found = token_at(text, offset);
    let positives: Vec<Rule> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let mut expected: Vec<&'static str> = Vec::new();
    // "The end of the file" and "the next item" are always possible after a
    // complete item; name them only when nothing else is expected.
    let specific = positives
        .iter()
        .any(|r| !matches!(r, Rule::EOI | Rule::item_start | Rule::item));
    for rule in positives
        .iter()
        .filter(|r| !specific || !matches!(r, Rule::EOI | Rule::item_start))
    {
        let word = describe_rule(*rule);
        if !expected.contains(&word) && word != "something else" {
            expected.push(word);
        }
    }
    let expected_text = join_or(&expected);
    let at_end = found.is_empty();
    // At the end of the file, point at the last character written.
    let span = if at_end {
        let last = text.trim_end().len();
        let start = text
            .get(..last)
            .and_then(|t| t.char_indices().last())
            .map_or(0, |(i, _)| i);
        Span::new(file, start, last)
    } else {
        Span::new(file, offset, offset + found.len())
    };
    let found_text = if at_end {
        String::from("the end of the file")
    } else {
        format!("`{found}`")
    };
    let label = if at_end {
        String::from("the file ends here")
    } else if expected_text.is_empty() {
        String::from("not expected here")
    } else {
        format!("expected {expected_text}")
    };
    let names_a_property = text
        .get(offset + found.len()..)
        .is_some_and(|t| t.trim_start().starts_with(':'));
    // An item keyword (or the end) inside an open `{`: the brace is the problem.
    let unclosed = unclosed_brace(text, offset)
        .filter(|_| at_end || (ITEM_KEYWORDS.contains(&found.as_str()) && !names_a_property));
    let hint = match unclosed {
        Some(_) => Some(SyntaxHint::UnclosedBrace),
        None => hint_for(text, offset, &found, &positives),
    };
    let kind = if expected_text.is_empty() {
        DiagnosticKind::SyntaxUnexpected {
            found: found_text,
            hint,
        }
    } else {
        DiagnosticKind::SyntaxExpected {
            expected: expected_text,
            found: found_text,
            hint,
        }
    };
    // The parser does not list `,` after a finished rule; the hint knows better.
    let label = if matches!(hint_of(&kind), Some(SyntaxHint::ModifiersNeedCommas { .. })) {
        String::from("a `,` is missing before this modifier")
    } else {
        label
    };
    let diagnostic = Diagnostic::new(kind, span).with_label(label);
    match unclosed {
        Some(open) => diagnostic.with_note(Span::new(file, open, open + 1), "this `{` is not closed"),
        None => diagnostic,
    }
}

/// The hint of a syntax diagnostic.
fn hint_of(kind: &DiagnosticKind) -> Option<&SyntaxHint> {
    match kind {
        DiagnosticKind::SyntaxExpected { hint, .. } | DiagnosticKind::SyntaxUnexpected { hint, .. } => {
            hint.as_ref()
        }
        _ => None,
    }
}

/// The offset of a `{` still open at `offset` (outside strings and comments).
fn unclosed_brace(text: &str, offset: usize) -> Option<usize> {
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (i, c) in text.get(..offset)?.char_indices() {
        if in_comment {
            in_comment = c != '\n';
        } else if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' || c == '\n' {
                in_string = false;
            }
        } else {
            match c {
                '#' => in_comment = true,
                '"' => in_string = true,
                '{' => stack.push(i),
                '}' => {
                    stack.pop();
                }
                _ => {}
            }
        }
    }
    stack.last().copied()
}

/// The comparison operator `before` (trimmed) ends with, if any.
fn comparison_before(before: &str) -> Option<&'static str> {
    [">=", "<=", "==", "!=", ">", "<"]
        .into_iter()
        .find(|op| before.ends_with(op))
}

/// A targeted hint for common slips.
fn hint_for(text: &str, offset: usize, found: &str, positives: &[Rule]) -> Option<SyntaxHint> {
    let before = text.get(..offset).unwrap_or("").trim_end();
    let previous_word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if let Some(hint) = teaching_hint(text, offset, before, &previous_word, found, positives) {
        return Some(hint);
    }
    if positives.contains(&Rule::duration_unit)
        || (before.ends_with(|c: char| c.is_ascii_digit()) && positives.contains(&Rule::duration))
        || (found.starts_with(|c: char| c.is_ascii_digit()) && positives.contains(&Rule::duration))
        || (before.ends_with(|c: char| c.is_ascii_digit()) && previous_is_within(before))
    {
        return Some(SyntaxHint::DurationUnit);
    }
    if (positives.contains(&Rule::ident) || positives.contains(&Rule::band_value)) && is_reserved(found) {
        return Some(SyntaxHint::ReservedWord {
            word: found.to_string(),
        });
    }
    // `x >= => +1`: the value is missing, not the operator; suggesting the
    // operator just written would only confuse.
    if let ("=>" | "=<", Some(op)) = (found, comparison_before(before)) {
        return Some(SyntaxHint::ComparisonNeedsValue { op });
    }
    match found {
        "=" => return Some(SyntaxHint::SingleEquals),
        "&&" | "&" => return Some(SyntaxHint::WriteAnd),
        "||" | "|" => return Some(SyntaxHint::WriteOr),
        "=>" if !positives.contains(&Rule::arrow) => return Some(SyntaxHint::ArrowForAtLeast),
        "=<" => return Some(SyntaxHint::ArrowForAtMost),
        "starts_with" | "startswith" => return Some(SyntaxHint::StartsWithIsTwoWords),
        "ends_with" | "endswith" => return Some(SyntaxHint::EndsWithIsTwoWords),
        _ => {}
    }
    if found.starts_with('\'') {
        return Some(SyntaxHint::SingleQuotes);
    }
    if found.starts_with('"') && (found.len() == 1 || !found.ends_with('"')) {
        return Some(SyntaxHint::UnterminatedText);
    }
    if found == "AND" || found == "OR" || found == "NOT" {
        return Some(SyntaxHint::UpperCaseKeyword {
            keyword: found.to_lowercase(),
        });
    }
    if found.starts_with('"') && previous_word == "is" {
        return Some(SyntaxHint::IsWithText);
    }
    if found.starts_with('"') && positives.contains(&Rule::list_comma) {
        return Some(SyntaxHint::ListCommas);
    }
    if previous_word == "where" && (found == "not" || found == "(") {
        return Some(SyntaxHint::WhereTakesOneTest);
    }
    let doubled = text
        .get(..offset)
        .is_some_and(|t| t.trim_end().ends_with("and") || t.trim_end().ends_with("or"));
    if (found == "and" || found == "or") && doubled {
        return Some(SyntaxHint::WrittenTwice {
            word: found.to_string(),
        });
    }
    if positives.contains(&Rule::arrow) && !positives.contains(&Rule::item_start) {
        return Some(SyntaxHint::PointsAfterArrow);
    }
    if positives.contains(&Rule::close_paren) {
        return Some(SyntaxHint::UnclosedParen);
    }
    if positives.contains(&Rule::score_range) {
        return Some(SyntaxHint::ScoreRange);
    }
    if positives.contains(&Rule::item) || positives.contains(&Rule::item_start) {
        let word: String = found
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if let Some(k) = crate::diagnostics::did_you_mean(&word, ITEM_KEYWORDS.iter().copied()) {
            return Some(SyntaxHint::MisspeltItem { keyword: k });
        }
        if positives.len() == 1
            || positives
                .iter()
                .all(|p| matches!(p, Rule::item | Rule::item_start | Rule::EOI))
        {
            return Some(SyntaxHint::NotAnItem);
        }
    }
    if positives.contains(&Rule::otherwise) || positives.contains(&Rule::kw_when) {
        return Some(SyntaxHint::BranchForm);
    }
    None
}

/// `audience x when … on sms` and `audience x despite customer when …`: a
/// target's `on CHANNEL` and `despite …` in each other's place.
fn target_clause_hint(before: &str, after: &str, found: &str) -> Option<SyntaxHint> {
    let is_word = found.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && found.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !matches!(found, "on" | "despite" | ",") && !is_word {
        return None;
    }
    // The text of the current item so far: from the last line that starts
    // with an audience, workflow or route.
    let start = before
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .chain(std::iter::once(0))
        .filter(|i| {
            let line = before.get(*i..).unwrap_or("").trim_start();
            ["audience ", "workflow ", "route "]
                .iter()
                .any(|k| line.starts_with(k))
        })
        .max()?;
    let item = before.get(start..)?.trim_start();
    let words: Vec<&str> = item.split_whitespace().collect();
    let head = words.get(..2)?.join(" ");
    let has_when = words.contains(&"when");
    let rest_of_line = first_line_without_comment(after);
    match found {
        word if is_word
            && words.len() == 2
            && !is_reserved(word)
            && !ITEM_KEYWORDS.contains(&word)
            && rest_of_line.split_whitespace().nth(1) == Some("when") =>
        {
            Some(SyntaxHint::ChannelWithoutOn {
                head,
                channel: word.to_string(),
            })
        }
        "," if !has_when && words.len() == 4 && words.get(2) == Some(&"on") => {
            Some(SyntaxHint::OneChannelPerTarget {
                head,
                channel: words.get(3)?.to_string(),
            })
        }
        "on" if has_when => Some(SyntaxHint::ChannelAfterCondition {
            head,
            channel: rest_of_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("CHANNEL")
                .trim_end_matches('{')
                .to_string(),
        }),
        "despite" if !has_when => Some(SyntaxHint::DespiteBeforeCondition {
            head,
            despite: rest_of_line
                .split(" when")
                .next()
                .unwrap_or(rest_of_line)
                .trim()
                .to_string(),
        }),
        _ => None,
    }
}

/// Hints for the near-misses of a first playbook (issue 13, "diagnostics that
/// teach"), each naming the fix in the rule's own words. Checked before the
/// general hints, which would otherwise give vaguer advice.
fn teaching_hint(
    text: &str,
    offset: usize,
    before: &str,
    previous_word: &str,
    found: &str,
    positives: &[Rule],
) -> Option<SyntaxHint> {
    let after = text.get(offset..).unwrap_or("");
    if let Some(hint) = crate::syntax::aggregate_hints::possessive_prop(before, previous_word, after) {
        return Some(hint);
    }
    let open_brace_line = unclosed_brace(text, offset).map(|open| line_before(text, open));
    // `sla` among the branches of `queue first { … }`, where a branch's own
    // SLA may only follow its condition or `otherwise`.
    if found == "sla" && open_brace_line.as_deref().is_some_and(|l| l.ends_with("first")) {
        let sla: Vec<&str> = first_line_without_comment(after)
            .split_whitespace()
            .take(3)
            .collect();
        let branch = if previous_word.is_empty() || before.trim_end().ends_with('{') {
            String::from("enterprise_ae")
        } else {
            previous_word.to_string()
        };
        return Some(SyntaxHint::SlaInQueueBranch {
            sla: sla.join(" "),
            branch,
        });
    }
    if let Some(hint) = target_clause_hint(before, after, found) {
        return Some(hint);
    }
    // Routing (issue 13): a table without `by`, a round robin without
    // brackets, a table's `otherwise` row written with `=>`.
    if positives.contains(&Rule::kw_by) {
        return Some(SyntaxHint::TableNeedsBy);
    }
    if previous_word == "round" && found == "robin" {
        return Some(SyntaxHint::RoundRobinList);
    }
    if previous_word == "otherwise" && found.starts_with("=>") {
        return Some(SyntaxHint::OtherwiseRowWithoutArrow);
    }
    let starts_with_digit = found.starts_with(|c: char| c.is_ascii_digit());
    // `intent_level is 1` (or `is not 1`) where the band value is `` `1` ``.
    let before_is = match previous_word {
        "is" => before.strip_suffix("is"),
        "not" => before
            .strip_suffix("not")
            .map(str::trim_end)
            .and_then(|b| b.strip_suffix("is")),
        _ => None,
    };
    if let (Some(before_is), true) = (before_is, starts_with_digit) {
        let band = trailing_name(before_is.trim_end());
        if !band.is_empty() {
            let negated = if previous_word == "not" { " not" } else { "" };
            return Some(SyntaxHint::BandValueInBackticks {
                test: format!("{band} is{negated}"),
                value: found.to_string(),
            });
        }
    }
    // `band intent_level { 1 when … }`: a name that starts with a digit (but
    // `score 0..100`, a range where the name was forgotten, is not one).
    let is_range = after
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .starts_with("..");
    if starts_with_digit
        && !is_range
        && (positives.contains(&Rule::ident) || positives.contains(&Rule::band_value))
    {
        let band_branch = open_brace_line
            .as_deref()
            .is_some_and(|l| l.trim_start().starts_with("band"));
        return Some(SyntaxHint::NameInBackticks {
            value: found.to_string(),
            band_branch,
        });
    }
    // `each page_view within next 3 days`: events after as-of never count.
    if found == "next" && previous_word == "within" {
        let example = window_looking_back(after.get(found.len()..).unwrap_or(""));
        return Some(SyntaxHint::FutureEventWindow { example });
    }
    // `count of page_view within next 3 days > 2`: the future window was
    // read as a timestamp test, so the comparison after it has nowhere to go.
    if found.starts_with(['>', '<', '=', '!']) {
        let line = current_line(before);
        if let Some(at) = line.rfind(" within next ").filter(|_| line.contains("count of")) {
            let example = window_looking_back(line.get(at + " within next ".len()..).unwrap_or(""));
            return Some(SyntaxHint::FutureEventWindow { example });
        }
    }
    // `last_login between 8 and 30 days`: an age range ends with `ago`.
    if positives.contains(&Rule::kw_ago) {
        let line = current_line(before);
        let range = line
            .rfind("between ")
            .and_then(|at| line.get(at..))
            .unwrap_or("between 8 and 30 days");
        return Some(SyntaxHint::AgeRangeNeedsAgo {
            range: range.trim().to_string(),
        });
    }
    // `=> +5 max 10 decay half-life 7 days`: the comma between modifiers.
    if matches!(found, "decay" | "max" | "min") {
        let line = current_line(before);
        if let Some(rule_tail) = line.rsplit("=>").next().filter(|_| line.contains("=>")) {
            // Whole words only: `90 minutes` is not a `min` modifier.
            let words: Vec<&str> = rule_tail.split_whitespace().collect();
            let previous = words
                .iter()
                .rposition(|w| matches!(*w, "decay" | "max" | "min"))
                .and_then(|at| words.get(at..));
            if let Some(previous) = previous {
                let this = first_line_without_comment(after);
                return Some(SyntaxHint::ModifiersNeedCommas {
                    example: format!("{}, {}", previous.join(" "), this),
                });
            }
        }
    }
    let tokens: Vec<&str> = current_line(before).split_whitespace().collect();
    // `email_send within 7 days >= 5`: a count compared without `count of`.
    if let (Some(op), [.., event, "within", amount, unit]) = (comparison_op(found), tokens.as_slice()) {
        if is_plain_name(event) && !is_reserved(event) {
            let value = token_at(
                after,
                found.len() + leading_spaces(after.get(found.len()..).unwrap_or("")),
            );
            let value = if value.is_empty() {
                String::from("3")
            } else {
                value
            };
            return Some(SyntaxHint::CountOfToCompare {
                example: format!("count of {event} within {amount} {unit} {op} {value}"),
            });
        }
    }
    // `days_since(x) > 7 days`, `x > 7 days`: a duration compared with.
    if let (Some(factor), [.., op, amount]) = (days_per_unit(found), tokens.as_slice()) {
        if let (Some(op), Ok(amount)) = (comparison_op(op), amount.parse::<f64>()) {
            let before_op = before
                .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
                .trim_end()
                .trim_end_matches(op)
                .trim_end();
            let subject = trailing_operand(before_op);
            let days = plain_number(amount * factor);
            if !subject.is_empty() {
                let days_since = subject.starts_with("days_since(");
                let test = if days_since {
                    subject
                } else {
                    format!("days_since({subject})")
                };
                return Some(SyntaxHint::ComparisonWithDuration {
                    example: format!("{test} {op} {days}"),
                    days_since,
                });
            }
        }
    }
    // `within -3 days`, `within +3 days`.
    if let ("within", Some(sign @ ('-' | '+'))) = (previous_word, found.chars().next()) {
        let window: Vec<&str> = after.get(1..).unwrap_or("").split_whitespace().take(2).collect();
        if let [amount, unit] = window.as_slice() {
            let days = amount
                .parse::<f64>()
                .ok()
                .zip(days_per_unit(unit))
                .map_or_else(|| (*amount).to_string(), |(a, f)| plain_number(a * f));
            let before_within = before.strip_suffix("within").unwrap_or(before).trim_end();
            let window = format!("{amount} {unit}");
            if let Some(aggregate) = event_window(before_within) {
                return Some(SyntaxHint::SignedEventWindow {
                    example: format!("{aggregate} within {window}"),
                });
            }
            let subject = trailing_operand(before_within);
            return Some(SyntaxHint::SignedWindow {
                sign,
                window,
                subject: if subject.is_empty() {
                    String::from("…")
                } else {
                    subject
                },
                days,
            });
        }
    }
    // `any page_view where a and b within 7 days` (or `… >= 3` after a
    // `count of`): the window or comparison after a longer `where`.
    let continues_aggregate = found == "within" || comparison_op(found).is_some();
    if continues_aggregate && (positives.contains(&Rule::kw_and) || positives.contains(&Rule::kw_or)) {
        let line = current_line(before);
        if let Some(at) = line.rfind("where ") {
            let filter = line.get(at + "where ".len()..).unwrap_or("").trim();
            let joined = filter.contains(" and ") || filter.contains(" or ");
            if joined && !filter.contains(['{', '}']) && !filter.contains("=>") {
                return Some(SyntaxHint::WhereTestsInParentheses {
                    example: format!("where ({filter}) {}", first_line_without_comment(after)),
                });
            }
        }
    }
    None
}

/// The events a window written after `before_within` would count, as written
/// (`any page_view`, `count of page_view`, `each page_view`, `last page_view`,
/// or `…` after a `where`); `None` when the window is on a timestamp.
fn event_window(before_within: &str) -> Option<String> {
    if current_line(before_within).contains(" where ") {
        return Some(String::from("…"));
    }
    let event = trailing_name(before_within);
    let rest = before_within.get(..before_within.len() - event.len())?.trim_end();
    match trailing_name(rest).as_str() {
        "of" => Some(format!("count of {event}")),
        word @ ("any" | "each" | "last") if !event.is_empty() => Some(format!("{word} {event}")),
        _ => None,
    }
}

/// The trimmed text of the line that holds `offset`, up to `offset`.
fn line_before(text: &str, offset: usize) -> String {
    current_line(text.get(..offset).unwrap_or("")).trim().to_string()
}

/// `within 3 days` from the text after a `within next`
/// (`3 days > 2` gives `within 3 days`), or that example when it is cut short.
fn window_looking_back(after_next: &str) -> String {
    let window: Vec<&str> = after_next.split_whitespace().take(2).collect();
    match window.as_slice() {
        [amount, unit] => format!("within {amount} {unit}"),
        _ => String::from("within 3 days"),
    }
}

/// The last line of `before` (the text since the last newline).
fn current_line(before: &str) -> &str {
    before.rsplit('\n').next().unwrap_or(before)
}

/// The first line of `text` without its comment, trimmed.
fn first_line_without_comment(text: &str) -> &str {
    let line = text.split('\n').next().unwrap_or("");
    line.split('#').next().unwrap_or(line).trim()
}

fn leading_spaces(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// The comparison operator `token` is, if it is one.
fn comparison_op(token: &str) -> Option<&'static str> {
    [">=", "<=", "==", "!=", ">", "<"]
        .into_iter()
        .find(|op| *op == token)
}

/// Days in one `unit` of a duration, for a unit rubric knows.
fn days_per_unit(unit: &str) -> Option<f64> {
    match unit {
        "minute" | "minutes" => Some(1.0 / 1440.0),
        "hour" | "hours" => Some(1.0 / 24.0),
        "day" | "days" => Some(1.0),
        "week" | "weeks" => Some(7.0),
        _ => None,
    }
}

/// A number as a rule would write it: `14`, `0.5`.
fn plain_number(n: f64) -> String {
    let rounded = (n * 1000.0).round() / 1000.0;
    format!("{rounded}")
}

fn is_plain_name(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The name `text` ends with: a plain name or one between backticks.
fn trailing_name(text: &str) -> String {
    if let Some(inner) = text.strip_suffix('`') {
        if let Some(open) = inner.rfind('`') {
            return text.get(open..).unwrap_or("").to_string();
        }
    }
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(text.len(), |(i, _)| i);
    text.get(start..).unwrap_or("").to_string()
}

/// The operand `text` ends with, as written: a name, `last TYPE`, or a call
/// such as `days_since(x)`; empty when it ends otherwise.
fn trailing_operand(text: &str) -> String {
    if text.ends_with(')') {
        let mut depth = 0usize;
        for (i, c) in text.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let function = trailing_name(text.get(..i).unwrap_or(""));
                        if function.is_empty() {
                            return String::new();
                        }
                        return text.get(i - function.len()..).unwrap_or("").to_string();
                    }
                }
                _ => {}
            }
        }
        return String::new();
    }
    let name = trailing_name(text);
    if name.is_empty() || is_reserved(&name) {
        return String::new();
    }
    let rest = text.get(..text.len() - name.len()).unwrap_or("").trim_end();
    if trailing_name(rest) == "last" {
        return format!("last {name}");
    }
    name
}

fn previous_is_within(before: &str) -> bool {
    let without_number = before
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .trim_end();
    without_number.ends_with("within")
        || without_number.ends_with("half-life")
        || without_number.ends_with("sla")
}

/// How a name is written in a rule file: as is, or between backticks when it
/// is a keyword or not made of letters, digits and `_` (the formatter's form).
pub fn written_name(name: &str) -> std::borrow::Cow<'_, str> {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain && !is_reserved(name) {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(format!("`{name}`"))
    }
}

/// How a band value is written where the grammar takes one (a band
/// branch, after `is`): a plain number as is (`3 when …`, `is 1`), any
/// other value as [`written_name`] writes it.
pub fn written_band_value(value: &str) -> std::borrow::Cow<'_, str> {
    let plain_number = RubricParser::parse(Rule::band_number, value)
        .is_ok_and(|mut p| p.next().is_some_and(|n| n.as_str() == value));
    if plain_number {
        std::borrow::Cow::Borrowed(value)
    } else {
        written_name(value)
    }
}

/// Reserved words of the grammar (the `keyword` rule).
fn is_reserved(word: &str) -> bool {
    RubricParser::parse(Rule::keyword, word).is_ok_and(|mut p| p.next().is_some_and(|k| k.as_str() == word))
}

/// The token starting at `offset` (for "found `…`").
fn token_at(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or("");
    let mut chars = rest.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    if first.is_alphanumeric() || first == '_' {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    } else if first == '"' {
        // Up to the closing quote, or to the end of the line when there is none.
        let body = rest.get(1..).unwrap_or("");
        match body.find(['"', '\n']) {
            Some(i) if body.as_bytes().get(i) == Some(&b'"') => rest.get(..i + 2).unwrap_or("").to_string(),
            Some(i) => rest.get(..i + 1).unwrap_or("").trim_end().to_string(),
            None => rest.trim_end().to_string(),
        }
    } else if "=!<>&|".contains(first) {
        rest.chars().take_while(|c| "=!<>&|".contains(*c)).collect()
    } else {
        first.to_string()
    }
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// English for a grammar rule in "expected …" messages.
fn describe_rule(rule: Rule) -> &'static str {
    describe_rule_name(&format!("{rule:?}"))
}

/// English for a grammar rule name (public for tests and docs).
pub fn describe_rule_name(rule: &str) -> &'static str {
    match rule {
        "EOI" => "the end of the file",
        "item" => "an item (score, band, segment, …)",
        "ident" | "type_name" | "band_value" => "a name",
        "string" | "string_body" => "text in double quotes",
        "number" => "a number",
        "signed_number" | "points" => "a number such as `+10`",
        "regex" => "a regular expression `/…/`",
        "duration" => "a duration such as `7 days`",
        "duration_unit" => "a unit (`days`, `hours`, `weeks`)",
        "list" => "a list `[…]`",
        "condition" | "disjunction" | "conjunction" | "negation" | "primary" | "test" | "not_prefix" => {
            "a condition"
        }
        "operand" | "literal" | "call" | "aggregate" | "arith_sum" | "arith_product" | "arith_factor" => {
            "a value"
        }
        "numeric_agg" | "distinct_agg" | "first_agg" | "prop_of_agg" | "contact_field" => "a value",
        "numeric_agg_word" => "`sum`, `min`, `max` or `avg`",
        // `arith_add_op` and `arith_mul_op` are possible after every value:
        // they fall through to "something else", which messages leave out.
        "test_tail" | "is_tail" | "in_tail" | "matches_tail" | "text_tail" | "within_tail"
        | "between_tail" | "compare_tail" => "an operator",
        "kw_ago" => "`ago`",
        "kw_between" => "`between`",
        "age_range" => "an age range such as `8 and 30 days ago`",
        "band_number" => "a band value",
        // `kw_next` and `within_next` fall through to "something else", left
        // out of "expected …": after `within`, a duration is what is missing.
        "has_tail" => "`has`",
        "has_quantifier" | "has_any" | "has_all" => "`any of` or `all of`",
        "kw_has" => "`has`",
        "kw_text" => "`text`",
        "kw_by" => "`by`",
        "from_text" => "`from text`",
        "list_separator" => "`separated by \"…\"`",
        "compare_op" => "a comparison (`==`, `>=`, …)",
        "kw_and" => "`and`",
        "kw_ignoring" => "`ignoring case`",
        "arrow" => "`=>`",
        "close_paren" => "`)`",
        "close_brace" => "`}`",
        "close_bracket" => "`]`",
        "list_comma" => "`,`",
        "item_start" => "the next item",
        "kw_or" => "`or`",
        "kw_when" => "`when`",
        "kw_with" => "`with`",
        "kw_of" => "`of`",
        "kw_on" => "`on`",
        "kw_case" => "`case`",
        "kw_in" => "`in`",
        "kw_is" => "`is`",
        "kw_first" => "`first`",
        "kw_within" => "`within`",
        "kw_where" => "`where`",
        "otherwise" | "kw_otherwise" => "`otherwise`",
        "first_group" => "`first {`",
        "each_rule" => "`each`",
        "when_rule" => "`when`",
        "score_rule" | "first_row" => "a rule `\"label\" when … => +N`",
        "band_branch" => "a branch `value when …`",
        "property_decl" => "a property `name: type`",
        "event_decl" => "an event type",
        "route_field" => "`task`, `sla`, `queue` or `assign to`",
        "queue_branch" => "a branch `queue when …`",
        "route_pick" | "branch_pick" => "a queue name",
        "pick_name" => "a name",
        "pick_fallback" => "`otherwise`",
        "table_row" => "a row `\"value\" => queue` or `otherwise queue`",
        "kw_to" => "`to`",
        "kw_robin" => "`robin`",
        "sla_field" => "`sla`",
        "goal_field" => "`outcome`, `horizon` or `value`",
        "kw_sum" => "`sum`",
        "modifier" | "modifiers" => "a modifier (`decay half-life`, `max`, `min`)",
        "half_life" => "`half-life`",
        "score_range" => "a range such as `0..100`",
        "channel_list" => "a channel (`ads`, `email`, `sales`)",
        "event_filter" => "`where`",
        "window" => "`within`",
        "allowed_values" => "`one of [...]`",
        "ignoring_case" => "`ignoring case`",
        "negated" => "`not`",
        "is_target" => "`null`, `true`, `false` or a band value",
        "boolean" => "`true` or `false`",
        "null" => "`null`",
        "text_op" => "`starts with`, `ends with` or `contains`",
        "queue_branches" => "`first {`",
        _ => "something else",
    }
}

/// Builds AST nodes from pest pairs; spans are offset by `base` (the item's
/// start in the file).
struct Builder<'t> {
    file: FileId,
    /// The whole file, to trim trailing whitespace and comments off spans.
    text: &'t str,
    base: usize,
}

type Built<T> = Result<T, Diagnostic>;

impl Builder<'_> {
    /// The span of a pair without the whitespace and comments pest lets it
    /// swallow at its end (before an optional part that was not there).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let start = self.base + s.start();
        let end = trim_trivia_end(self.text, start, self.base + s.end());
        Span::new(self.file, start, end)
    }

    fn unexpected(&self, pair: &Pair<'_, Rule>, context: &str) -> Diagnostic {
        Diagnostic::new(
            DiagnosticKind::InternalUnexpectedNode {
                rule: format!("{:?}", pair.as_rule()),
                context: context.to_string(),
            },
            self.span(pair),
        )
    }

    fn missing(&self, span: Span, context: &str) -> Diagnostic {
        Diagnostic::new(
            DiagnosticKind::InternalIncomplete {
                context: context.to_string(),
            },
            span,
        )
    }

    /// Children that are not keywords (keywords carry no data).
    fn children<'i>(&self, pair: Pair<'i, Rule>) -> Vec<Pair<'i, Rule>> {
        pair.into_inner().filter(|p| !is_keyword(p.as_rule())).collect()
    }

    fn build_item(&self, pair: Pair<'_, Rule>) -> Built<Item> {
        let span = self.span(&pair);
        let inner = pair
            .into_inner()
            .next()
            .ok_or_else(|| self.missing(span, "item"))?;
        let kind = match inner.as_rule() {
            Rule::properties_decl => ItemKind::Properties(
                self.children(inner)
                    .into_iter()
                    .map(|p| self.build_property_decl(p))
                    .collect::<Built<_>>()?,
            ),
            Rule::events_decl => ItemKind::Events(
                self.children(inner)
                    .into_iter()
                    .map(|p| self.build_event_decl(p))
                    .collect::<Built<_>>()?,
            ),
            Rule::const_decl => {
                let mut it = self.children(inner).into_iter();
                let name = self.next_ident(&mut it, span, "const")?;
                let value = it.next().ok_or_else(|| self.missing(span, "const"))?;
                ItemKind::Const(ConstDecl {
                    name,
                    value: self.build_literal(value)?,
                })
            }
            Rule::segment_decl => {
                let mut it = self.children(inner).into_iter();
                let name = self.next_ident(&mut it, span, "segment")?;
                let cond = it.next().ok_or_else(|| self.missing(span, "segment"))?;
                ItemKind::Segment(SegmentDecl {
                    name,
                    condition: self.build_condition(cond)?,
                })
            }
            Rule::score_decl => ItemKind::Score(self.build_score(inner, span)?),
            Rule::band_decl => {
                let mut it = self.children(inner).into_iter();
                let name = self.next_ident(&mut it, span, "band")?;
                let branches = it.map(|p| self.build_branch(p)).collect::<Built<_>>()?;
                ItemKind::Band(BandDecl { name, branches })
            }
            Rule::suppress_decl => {
                let mut it = self.children(inner).into_iter();
                let name = self.next_ident(&mut it, span, "suppress")?;
                let channels = it.next().ok_or_else(|| self.missing(span, "suppress"))?;
                let channels = self
                    .children(channels)
                    .into_iter()
                    .map(|p| self.build_ident(p))
                    .collect::<Built<_>>()?;
                let cond = it.next().ok_or_else(|| self.missing(span, "suppress"))?;
                ItemKind::Suppress(SuppressDecl {
                    name,
                    channels,
                    condition: self.build_condition(cond)?,
                })
            }
            Rule::audience_decl | Rule::workflow_decl => {
                let is_audience = inner.as_rule() == Rule::audience_decl;
                let mut it = self.children(inner).into_iter().peekable();
                let name = self.next_ident(&mut it, span, "target")?;
                let channel = self.build_target_channel(&mut it)?;
                let cond = it.next().ok_or_else(|| self.missing(span, "target"))?;
                let condition = self.build_condition(cond)?;
                let despite = self.build_despite(&mut it)?;
                let target = TargetDecl {
                    name,
                    condition,
                    reach: TargetReach { channel, despite },
                };
                if is_audience {
                    ItemKind::Audience(target)
                } else {
                    ItemKind::Workflow(target)
                }
            }
            Rule::route_decl => ItemKind::Route(self.build_route(inner, span)?),
            Rule::goal_decl => ItemKind::Goal(self.build_goal(inner, span)?),
            Rule::channel_decl => {
                let mut it = self.children(inner).into_iter();
                let name = self.next_ident(&mut it, span, "channel")?;
                ItemKind::Channel(ChannelDecl { name })
            }
            Rule::table_decl => ItemKind::Table(self.build_table(inner, span)?),
            _ => return Err(self.unexpected(&inner, "an item")),
        };
        Ok(Item { kind, span })
    }

    fn next_ident<'i>(
        &self,
        it: &mut impl Iterator<Item = Pair<'i, Rule>>,
        span: Span,
        context: &str,
    ) -> Built<Ident> {
        let pair = it.next().ok_or_else(|| self.missing(span, context))?;
        self.build_ident(pair)
    }

    /// A bare name used as a value: a property, a constant or a band.
    fn build_name_expr(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let ident = self.build_ident(pair)?;
        Ok(Expr {
            span: ident.span,
            kind: ExprKind::Name(ident),
            parenthesized: false,
        })
    }

    fn build_ident(&self, pair: Pair<'_, Rule>) -> Built<Ident> {
        match pair.as_rule() {
            Rule::ident | Rule::type_name | Rule::duration_unit | Rule::band_number | Rule::band_value => {
                let span = self.span(&pair);
                // `type_name` wraps an ident; a quoted name loses its backticks.
                let text = pair.as_str().trim();
                let text = text
                    .strip_prefix('`')
                    .and_then(|t| t.strip_suffix('`'))
                    .unwrap_or(text)
                    .to_string();
                Ok(Ident { name: text, span })
            }
            _ => Err(self.unexpected(&pair, "a name")),
        }
    }

    fn build_property_decl(&self, pair: Pair<'_, Rule>) -> Built<PropertyDecl> {
        let span = self.span(&pair);
        let mut it = self.children(pair).into_iter();
        let name = self.next_ident(&mut it, span, "property")?;
        let type_name = self.next_ident(&mut it, span, "property type")?;
        let mut next = it.next();
        let mut from_text = None;
        if let Some(p) = next.as_ref().filter(|p| p.as_rule() == Rule::from_text) {
            from_text = Some(self.span(p));
            next = it.next();
        }
        let mut separator = None;
        if let Some(p) = next.clone().filter(|p| p.as_rule() == Rule::list_separator) {
            let string = self
                .children(p)
                .into_iter()
                .next()
                .ok_or_else(|| self.missing(span, "separator"))?;
            separator = Some(self.build_string(string)?);
            next = it.next();
        }
        let allowed = match next {
            Some(p) if p.as_rule() == Rule::allowed_values => {
                let list = self
                    .children(p)
                    .into_iter()
                    .next()
                    .ok_or_else(|| self.missing(span, "allowed values"))?;
                match self.build_list(list)?.kind {
                    ExprKind::Literal(Literal::List(items)) => Some(items),
                    _ => None,
                }
            }
            Some(p) => return Err(self.unexpected(&p, "a property")),
            None => None,
        };
        Ok(PropertyDecl {
            name,
            type_name,
            allowed,
            from_text,
            separator,
            span,
        })
    }

    fn build_event_decl(&self, pair: Pair<'_, Rule>) -> Built<EventDecl> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let has_body = text.contains('{');
        let mut it = self.children(pair).into_iter();
        let name = self.next_ident(&mut it, span, "event")?;
        let props: Vec<PropertyDecl> = it.map(|p| self.build_property_decl(p)).collect::<Built<_>>()?;
        Ok(EventDecl {
            name,
            props: if has_body { Some(props) } else { None },
            span,
        })
    }

    fn build_score(&self, pair: Pair<'_, Rule>, span: Span) -> Built<ScoreDecl> {
        let mut it = self.children(pair).into_iter();
        let name = self.next_ident(&mut it, span, "score")?;
        let range = it.next().ok_or_else(|| self.missing(span, "score range"))?;
        let range_span = self.span(&range);
        let mut bounds = range.into_inner();
        let low = bounds
            .next()
            .ok_or_else(|| self.missing(range_span, "score range"))?;
        let high = bounds
            .next()
            .ok_or_else(|| self.missing(range_span, "score range"))?;
        let low = self.build_number(low)?;
        let high = self.build_number(high)?;
        let mut rules = Vec::new();
        let mut value = None;
        for p in it {
            match p.as_rule() {
                Rule::score_value => {
                    let inner_span = self.span(&p);
                    let expr = p
                        .into_inner()
                        .next()
                        .ok_or_else(|| self.missing(inner_span, "score value"))?;
                    value = Some(self.build_arith(expr)?);
                }
                _ => rules.push(self.build_score_rule(p)?),
            }
        }
        Ok(ScoreDecl {
            name,
            low,
            high,
            range_span,
            rules,
            value,
        })
    }

    fn build_number(&self, pair: Pair<'_, Rule>) -> Built<NumLit> {
        let span = self.span(&pair);
        let text = pair.as_str().trim_start_matches('+');
        let value: f64 = text.parse().map_err(|_| {
            Diagnostic::new(
                DiagnosticKind::NotANumber {
                    text: pair.as_str().to_string(),
                },
                span,
            )
        })?;
        if !value.is_finite() {
            return Err(Diagnostic::new(
                DiagnosticKind::NumberTooLarge {
                    text: pair.as_str().to_string(),
                },
                span,
            ));
        }
        Ok(NumLit { value, span })
    }

    fn build_string(&self, pair: Pair<'_, Rule>) -> Built<StrLit> {
        let span = self.span(&pair);
        let body = pair.into_inner().next();
        let raw = body.as_ref().map_or("", |b| b.as_str());
        let value = unescape(raw).map_err(|(offset, kind)| {
            let at = span.start as usize + 1 + offset;
            Diagnostic::new(kind, Span::new(self.file, at, at + 2)).with_label("unknown escape")
        })?;
        Ok(StrLit { value, span })
    }

    fn build_score_rule(&self, pair: Pair<'_, Rule>) -> Built<ScoreRule> {
        let span = self.span(&pair);
        let mut it = self.children(pair).into_iter();
        let label = it.next().ok_or_else(|| self.missing(span, "score rule"))?;
        let label = self.build_string(label)?;
        let body = it.next().ok_or_else(|| self.missing(span, "score rule"))?;
        let body = match body.as_rule() {
            Rule::when_rule => RuleBody::When(self.build_when_rule(body)?),
            Rule::each_rule => RuleBody::Each(self.build_each_rule(body)?),
            Rule::first_group => {
                let rows = self
                    .children(body)
                    .into_iter()
                    .map(|row| self.build_first_row(row))
                    .collect::<Built<_>>()?;
                RuleBody::First(rows)
            }
            _ => return Err(self.unexpected(&body, "a score rule")),
        };
        Ok(ScoreRule { label, body, span })
    }

    fn build_first_row(&self, pair: Pair<'_, Rule>) -> Built<FirstRow> {
        let span = self.span(&pair);
        let mut label = None;
        let mut rule = None;
        for p in self.children(pair) {
            match p.as_rule() {
                Rule::string => label = Some(self.build_string(p)?),
                Rule::when_rule => rule = Some(self.build_when_rule(p)?),
                _ => return Err(self.unexpected(&p, "a first row")),
            }
        }
        let rule = rule.ok_or_else(|| self.missing(span, "first row"))?;
        Ok(FirstRow { label, rule, span })
    }

    fn build_when_rule(&self, pair: Pair<'_, Rule>) -> Built<WhenRule> {
        let span = self.span(&pair);
        let mut condition = None;
        let mut points = None;
        let mut computed = None;
        let mut modifiers = Vec::new();
        for p in self.children(pair) {
            match p.as_rule() {
                Rule::condition => condition = Some(self.build_condition(p)?),
                Rule::points => {
                    let (fixed, value) = self.build_points(p)?;
                    points = Some(fixed);
                    computed = value;
                }
                Rule::modifiers => modifiers = self.build_modifiers(p)?,
                _ => return Err(self.unexpected(&p, "a when rule")),
            }
        }
        Ok(WhenRule {
            condition: condition.ok_or_else(|| self.missing(span, "when rule"))?,
            points: points.ok_or_else(|| self.missing(span, "when rule"))?,
            computed,
            modifiers,
            span,
        })
    }

    fn build_each_rule(&self, pair: Pair<'_, Rule>) -> Built<EachRule> {
        let span = self.span(&pair);
        let mut event = None;
        let mut filter = None;
        let mut window = None;
        let mut points = None;
        let mut computed = None;
        let mut modifiers = Vec::new();
        for p in self.children(pair) {
            match p.as_rule() {
                Rule::ident => event = Some(self.build_ident(p)?),
                Rule::event_filter => filter = Some(self.build_event_filter(p)?),
                Rule::window => window = Some(self.build_window(p)?),
                Rule::points => {
                    // Computed points are read per event, from its props.
                    let (fixed, value) = self.build_points(p)?;
                    points = Some(fixed);
                    computed = value;
                }
                Rule::modifiers => modifiers = self.build_modifiers(p)?,
                _ => return Err(self.unexpected(&p, "an each rule")),
            }
        }
        Ok(EachRule {
            event: event.ok_or_else(|| self.missing(span, "each rule"))?,
            filter,
            window,
            points: points.ok_or_else(|| self.missing(span, "each rule"))?,
            computed,
            modifiers,
            span,
        })
    }

    /// Fixed points (`+30`, `-5`, `0.5`), or points computed from values
    /// (then the fixed points are 0, spanning the expression).
    fn build_points(&self, pair: Pair<'_, Rule>) -> Built<(NumLit, Option<ComputedPoints>)> {
        let span = self.span(&pair);
        let mut negated = false;
        let mut value = None;
        for p in self.children(pair) {
            match p.as_rule() {
                Rule::points_sign => negated = p.as_str() == "-",
                Rule::arith_sum => {
                    // `=> - a + b` would read as `-a + b` but the sign applies
                    // to the whole value: ask for `- (a + b)`.
                    let chain = p.clone().into_inner().count() > 1;
                    if negated && chain {
                        let at = self.span(&p);
                        return Err(Diagnostic::new(
                            DiagnosticKind::SyntaxExpected {
                                expected: String::from(
                                    "parentheses: the sign applies to the whole value, `=> - (a + b)`",
                                ),
                                found: format!("`{}`", p.as_str().trim()),
                                hint: None,
                            },
                            at,
                        )
                        .with_label("write `- (…)`"));
                    }
                    value = Some(self.build_arith(p)?);
                }
                _ => return Err(self.unexpected(&p, "points")),
            }
        }
        let value = value.ok_or_else(|| self.missing(span, "points"))?;
        if let ExprKind::Literal(Literal::Number(n)) = value.kind {
            let n = if negated { -n } else { n };
            return Ok((NumLit { value: n, span }, None));
        }
        let computed = ComputedPoints { negated, value, span };
        Ok((NumLit { value: 0.0, span }, Some(computed)))
    }

    fn build_modifiers(&self, pair: Pair<'_, Rule>) -> Built<Vec<Modifier>> {
        let mut out = Vec::new();
        for modifier in self.children(pair) {
            let span = self.span(&modifier);
            let inner = modifier
                .into_inner()
                .next()
                .ok_or_else(|| self.missing(span, "modifier"))?;
            let rule = inner.as_rule();
            let mut parts = self
                .children(inner)
                .into_iter()
                .filter(|p| p.as_rule() != Rule::half_life);
            let value = parts.next().ok_or_else(|| self.missing(span, "modifier"))?;
            let kind = match rule {
                Rule::decay_modifier => ModifierKind::Decay(self.build_duration(value)?),
                Rule::max_modifier => ModifierKind::Max(self.build_number(value)?),
                Rule::min_modifier => ModifierKind::Min(self.build_number(value)?),
                _ => return Err(self.unexpected(&value, "a modifier")),
            };
            out.push(Modifier { kind, span });
        }
        Ok(out)
    }

    fn build_duration(&self, pair: Pair<'_, Rule>) -> Built<Duration> {
        let span = self.span(&pair);
        let mut it = pair.into_inner();
        let amount = it.next().ok_or_else(|| self.missing(span, "duration"))?;
        let unit = it.next().ok_or_else(|| self.missing(span, "duration"))?;
        Ok(Duration {
            amount: self.build_number(amount)?.value,
            unit: self.build_ident(unit)?,
            span,
        })
    }

    /// `within 30 days` or `between 8 and 30 days ago` after events.
    fn build_window(&self, pair: Pair<'_, Rule>) -> Built<Window> {
        let span = self.span(&pair);
        let d = self
            .children(pair)
            .into_iter()
            .next()
            .ok_or_else(|| self.missing(span, "window"))?;
        if d.as_rule() == Rule::age_range {
            return self.build_age_range(d, span.start as usize);
        }
        Ok(Window {
            kind: WindowKind::Within(self.build_duration(d)?),
            span,
        })
    }

    /// `8 and 30 days ago` (after `between`, which starts at `start`): the
    /// first number takes the second's unit.
    fn build_age_range(&self, pair: Pair<'_, Rule>, start: usize) -> Built<Window> {
        let span = self.span(&pair);
        let mut it = self.children(pair).into_iter();
        let low = it.next().ok_or_else(|| self.missing(span, "age range"))?;
        let high = it.next().ok_or_else(|| self.missing(span, "age range"))?;
        let low = self.build_number(low)?;
        let high = self.build_duration(high)?;
        Ok(Window {
            kind: WindowKind::Ago {
                low: Duration {
                    amount: low.value,
                    unit: high.unit.clone(),
                    span: low.span,
                },
                high,
            },
            span: Span::new(self.file, start, span.end as usize),
        })
    }

    fn build_event_filter(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let inner = self
            .children(pair)
            .into_iter()
            .next()
            .ok_or_else(|| self.missing(span, "where"))?;
        match inner.as_rule() {
            Rule::condition => Ok(in_parentheses(self.build_condition(inner)?, true)),
            Rule::test => self.build_test(inner),
            _ => Err(self.unexpected(&inner, "a where clause")),
        }
    }

    fn build_branch(&self, pair: Pair<'_, Rule>) -> Built<Branch> {
        let span = self.span(&pair);
        let mut it = self.children(pair).into_iter();
        let value = self.next_ident(&mut it, span, "branch")?;
        let rest = it.next().ok_or_else(|| self.missing(span, "branch"))?;
        let condition = match rest.as_rule() {
            Rule::condition => Some(self.build_condition(rest)?),
            Rule::otherwise => None,
            _ => return Err(self.unexpected(&rest, "a branch")),
        };
        Ok(Branch {
            value,
            condition,
            span,
        })
    }

    /// A target's `on CHANNEL`, when it comes next.
    fn build_target_channel<'i>(
        &self,
        it: &mut std::iter::Peekable<impl Iterator<Item = Pair<'i, Rule>>>,
    ) -> Built<Option<Ident>> {
        let Some(pair) = it.next_if(|p| p.as_rule() == Rule::target_channel) else {
            return Ok(None);
        };
        let span = self.span(&pair);
        let mut inner = self.children(pair).into_iter();
        Ok(Some(self.next_ident(&mut inner, span, "channel")?))
    }

    /// A target's `despite S, …`, when it comes next (empty otherwise).
    fn build_despite<'i>(
        &self,
        it: &mut std::iter::Peekable<impl Iterator<Item = Pair<'i, Rule>>>,
    ) -> Built<Vec<Ident>> {
        match it.next_if(|p| p.as_rule() == Rule::despite_clause) {
            Some(pair) => self
                .children(pair)
                .into_iter()
                .map(|p| self.build_ident(p))
                .collect(),
            None => Ok(Vec::new()),
        }
    }

    fn build_route(&self, pair: Pair<'_, Rule>, span: Span) -> Built<RouteDecl> {
        let mut it = self.children(pair).into_iter().peekable();
        let name = self.next_ident(&mut it, span, "route")?;
        let channel = self.build_target_channel(&mut it)?;
        let cond = it.next().ok_or_else(|| self.missing(span, "route"))?;
        let condition = self.build_condition(cond)?;
        let despite = self.build_despite(&mut it)?;
        let mut fields = Vec::new();
        let mut body_start = condition.span.end as usize;
        for field in it {
            let fspan = self.span(&field);
            body_start = body_start.min(fspan.start as usize);
            let inner = field
                .into_inner()
                .next()
                .ok_or_else(|| self.missing(fspan, "route field"))?;
            let rule = inner.as_rule();
            let value = self
                .children(inner)
                .into_iter()
                .next()
                .ok_or_else(|| self.missing(fspan, "route field"))?;
            let kind = match (rule, value.as_rule()) {
                (Rule::task_field, _) => RouteFieldKind::Task(self.build_string(value)?),
                (Rule::sla_field, _) => RouteFieldKind::Sla(self.build_duration(value)?),
                (Rule::queue_field, Rule::route_pick) => RouteFieldKind::Queue(self.build_route_pick(value)?),
                (Rule::assign_field, Rule::route_pick) => {
                    RouteFieldKind::Assign(self.build_route_pick(value)?)
                }
                (Rule::queue_field, Rule::queue_branches) => RouteFieldKind::QueueFirst(
                    self.children(value)
                        .into_iter()
                        .map(|b| self.build_queue_branch(b))
                        .collect::<Built<_>>()?,
                ),
                _ => return Err(self.unexpected(&value, "a route field")),
            };
            fields.push(RouteField { kind, span: fspan });
        }
        let body_span = Span {
            start: despite.last().map_or(condition.span.end, |d| d.span.end),
            end: span.end,
            file: self.file,
        };
        Ok(RouteDecl {
            name,
            condition,
            reach: TargetReach { channel, despite },
            fields,
            body_span,
        })
    }

    fn build_goal(&self, pair: Pair<'_, Rule>, span: Span) -> Built<GoalDecl> {
        let mut it = self.children(pair).into_iter();
        let name = self.next_ident(&mut it, span, "goal")?;
        let mut fields = Vec::new();
        for field in it {
            let fspan = self.span(&field);
            let inner = field
                .into_inner()
                .next()
                .ok_or_else(|| self.missing(fspan, "goal field"))?;
            let rule = inner.as_rule();
            let unexpected = self.unexpected(&inner, "a goal field");
            let mut values = self.children(inner).into_iter();
            let kind = match rule {
                Rule::outcome_field => {
                    GoalFieldKind::Outcome(values.map(|v| self.build_ident(v)).collect::<Built<_>>()?)
                }
                Rule::horizon_field => {
                    let value = values.next().ok_or_else(|| self.missing(fspan, "goal field"))?;
                    GoalFieldKind::Horizon(self.build_duration(value)?)
                }
                Rule::value_field => {
                    let value = values.next().ok_or_else(|| self.missing(fspan, "goal field"))?;
                    GoalFieldKind::ValueSumOf(self.build_ident(value)?)
                }
                _ => return Err(unexpected),
            };
            fields.push(GoalField { kind, span: fspan });
        }
        Ok(GoalDecl { name, fields })
    }

    // ------------------------------------------------------------ conditions

    /// Wrappers (`condition`, `primary`, `negation`) and an `or` or `and`
    /// of one part are walked down in a loop, not by recursion, so a pair
    /// of parentheses costs no stack frame: only `not`, a real `or` or
    /// `and`, calls and aggregates recurse (see `depth.rs` for the limit).
    fn build_condition(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let mut pair = pair;
        // Whether a `primary` on the way down was a group in parentheses.
        let mut parenthesized = false;
        loop {
            let span = self.span(&pair);
            match pair.as_rule() {
                Rule::primary if is_group(&pair, Rule::condition) => {
                    parenthesized = true;
                    pair = pair
                        .into_inner()
                        .next()
                        .ok_or_else(|| self.missing(span, "condition"))?;
                }
                Rule::condition | Rule::primary | Rule::negation => {
                    pair = pair
                        .into_inner()
                        .next()
                        .ok_or_else(|| self.missing(span, "condition"))?;
                }
                Rule::disjunction | Rule::conjunction => {
                    let is_or = pair.as_rule() == Rule::disjunction;
                    let mut children = self.children(pair);
                    if children.len() == 1 {
                        pair = children.pop().ok_or_else(|| self.missing(span, "condition"))?;
                        continue;
                    }
                    let parts = children
                        .into_iter()
                        .map(|p| self.build_condition(p))
                        .collect::<Built<Vec<_>>>()?;
                    if parts.is_empty() {
                        return Err(self.missing(span, "condition"));
                    }
                    let kind = if is_or {
                        ExprKind::Or(parts)
                    } else {
                        ExprKind::And(parts)
                    };
                    return Ok(Expr {
                        kind,
                        span,
                        parenthesized,
                    });
                }
                Rule::not_prefix => {
                    let inner = self
                        .children(pair)
                        .into_iter()
                        .next()
                        .ok_or_else(|| self.missing(span, "not"))?;
                    return Ok(Expr {
                        kind: ExprKind::Not(Box::new(self.build_condition(inner)?)),
                        span,
                        parenthesized,
                    });
                }
                Rule::test => return Ok(in_parentheses(self.build_test(pair)?, parenthesized)),
                _ => return Err(self.unexpected(&pair, "a condition")),
            }
        }
    }

    fn build_test(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let mut it = pair.into_inner();
        let operand = it.next().ok_or_else(|| self.missing(span, "test"))?;
        let left = self.build_operand(operand)?;
        let Some(tail) = it.next() else {
            return Ok(left);
        };
        let tail = tail
            .into_inner()
            .next()
            .ok_or_else(|| self.missing(span, "test"))?;
        let tail_rule = tail.as_rule();
        let tail_start = self.span(&tail).start as usize;
        let parts = self.children(tail.clone());
        let ignore_case = parts.iter().any(|p| p.as_rule() == Rule::ignoring_case);
        let negated = parts.iter().any(|p| p.as_rule() == Rule::negated);
        let mut values = parts
            .into_iter()
            .filter(|p| !matches!(p.as_rule(), Rule::ignoring_case | Rule::negated));
        let left = Box::new(left);
        let kind = match tail_rule {
            Rule::is_tail => {
                let target = values.next().ok_or_else(|| self.missing(span, "is"))?;
                let target_inner = target
                    .into_inner()
                    .next()
                    .ok_or_else(|| self.missing(span, "is"))?;
                let target = match target_inner.as_rule() {
                    Rule::null => IsTarget::Null,
                    Rule::boolean => IsTarget::Bool(target_inner.as_str().trim() == "true"),
                    Rule::ident | Rule::band_number => IsTarget::Name(self.build_ident(target_inner)?),
                    _ => return Err(self.unexpected(&target_inner, "an is test")),
                };
                ExprKind::Is {
                    left,
                    negated,
                    target,
                }
            }
            Rule::in_tail => {
                let list = values.next().ok_or_else(|| self.missing(span, "in"))?;
                let list = match list.as_rule() {
                    Rule::list => self.build_list(list)?,
                    Rule::ident => self.build_name_expr(list)?,
                    _ => return Err(self.unexpected(&list, "an in test")),
                };
                ExprKind::In {
                    left,
                    list: Box::new(list),
                    negated,
                    ignore_case,
                }
            }
            Rule::matches_tail => {
                let pattern = values.next().ok_or_else(|| self.missing(span, "matches"))?;
                let pattern = match pattern.as_rule() {
                    Rule::regex => self.build_regex(pattern)?,
                    Rule::string => {
                        let s = self.build_string(pattern)?;
                        Expr {
                            span: s.span,
                            kind: ExprKind::Literal(Literal::Regex {
                                pattern: s.value,
                                flags: String::new(),
                            }),
                            parenthesized: false,
                        }
                    }
                    Rule::ident => self.build_name_expr(pattern)?,
                    _ => return Err(self.unexpected(&pattern, "a matches test")),
                };
                ExprKind::Matches {
                    left,
                    pattern: Box::new(pattern),
                    ignore_case,
                }
            }
            Rule::text_tail => {
                let op = values.next().ok_or_else(|| self.missing(span, "text test"))?;
                let op_inner = op
                    .into_inner()
                    .next()
                    .ok_or_else(|| self.missing(span, "text test"))?;
                let op = match op_inner.as_rule() {
                    Rule::starts_with => TextOp::StartsWith,
                    Rule::ends_with => TextOp::EndsWith,
                    Rule::kw_contains => TextOp::Contains,
                    _ => return Err(self.unexpected(&op_inner, "a text test")),
                };
                let right = values.next().ok_or_else(|| self.missing(span, "text test"))?;
                ExprKind::Text {
                    op,
                    left,
                    right: Box::new(self.build_operand(right)?),
                    ignore_case,
                }
            }
            Rule::has_tail => {
                let mut quantifier = HasQuantifier::One;
                let mut right = values.next().ok_or_else(|| self.missing(span, "has"))?;
                if right.as_rule() == Rule::has_quantifier {
                    let words = right
                        .into_inner()
                        .next()
                        .ok_or_else(|| self.missing(span, "has"))?;
                    quantifier = match words.as_rule() {
                        Rule::has_any => HasQuantifier::Any,
                        Rule::has_all => HasQuantifier::All,
                        _ => return Err(self.unexpected(&words, "a has test")),
                    };
                    right = values.next().ok_or_else(|| self.missing(span, "has"))?;
                }
                let right = match right.as_rule() {
                    Rule::list => self.build_list(right)?,
                    Rule::ident => self.build_name_expr(right)?,
                    _ => self.build_operand(right)?,
                };
                ExprKind::Has {
                    left,
                    quantifier,
                    right: Box::new(right),
                    ignore_case,
                }
            }
            Rule::within_tail => {
                let mut d = values.next().ok_or_else(|| self.missing(span, "within"))?;
                let next = d.as_rule() == Rule::within_next;
                if next {
                    d = values.next().ok_or_else(|| self.missing(span, "within"))?;
                }
                let window = self.build_duration(d)?;
                if next {
                    let window_span = Span::new(self.file, tail_start, window.span.end as usize);
                    ExprKind::TimeWindow {
                        left,
                        window: Window {
                            kind: WindowKind::Next(window),
                            span: window_span,
                        },
                    }
                } else {
                    ExprKind::Within { left, window }
                }
            }
            Rule::between_tail => {
                let first = values.next().ok_or_else(|| self.missing(span, "between"))?;
                if first.as_rule() == Rule::age_range {
                    let window = self.build_age_range(first, tail_start)?;
                    ExprKind::TimeWindow { left, window }
                } else {
                    let high = values.next().ok_or_else(|| self.missing(span, "between"))?;
                    ExprKind::Between {
                        left,
                        low: Box::new(self.build_arith(first)?),
                        high: Box::new(self.build_arith(high)?),
                    }
                }
            }
            Rule::compare_tail => {
                let op = values.next().ok_or_else(|| self.missing(span, "comparison"))?;
                let op = match op.as_str() {
                    "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    ">=" => CompareOp::Ge,
                    _ => return Err(self.unexpected(&op, "a comparison")),
                };
                let right = values.next().ok_or_else(|| self.missing(span, "comparison"))?;
                ExprKind::Compare {
                    op,
                    left,
                    right: Box::new(self.build_operand(right)?),
                    ignore_case,
                }
            }
            _ => return Err(self.unexpected(&tail, "a test")),
        };
        Ok(Expr {
            kind,
            span,
            parenthesized: false,
        })
    }

    /// An arithmetic chain (`arith_sum`, `arith_product`) or factor. A chain
    /// of one part and a parenthesised factor are walked down in a loop, not
    /// by recursion, so `((a))` costs no stack frame and is just `a`, marked
    /// as written in parentheses.
    fn build_arith(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let mut pair = pair;
        // Whether a factor on the way down was a group in parentheses.
        let mut parenthesized = false;
        loop {
            let span = self.span(&pair);
            match pair.as_rule() {
                Rule::arith_sum | Rule::arith_product => {
                    let mut children = self.children(pair).into_iter();
                    let first = children.next().ok_or_else(|| self.missing(span, "value"))?;
                    let mut rest = Vec::new();
                    while let Some(op) = children.next() {
                        let op = match op.as_str() {
                            "+" => ArithOp::Add,
                            "-" => ArithOp::Sub,
                            "*" => ArithOp::Mul,
                            "/" => ArithOp::Div,
                            _ => return Err(self.unexpected(&op, "an arithmetic operator")),
                        };
                        let part = children.next().ok_or_else(|| self.missing(span, "value"))?;
                        rest.push((op, self.build_arith(part)?));
                    }
                    if rest.is_empty() {
                        pair = first;
                        continue;
                    }
                    let first = Box::new(self.build_arith(first)?);
                    return Ok(Expr {
                        kind: ExprKind::Arith { first, rest },
                        span,
                        parenthesized,
                    });
                }
                Rule::arith_factor => {
                    parenthesized |= is_group(&pair, Rule::arith_sum);
                    pair = self
                        .children(pair)
                        .into_iter()
                        .find(|p| p.as_rule() != Rule::close_paren)
                        .ok_or_else(|| self.missing(span, "value"))?;
                }
                _ => return Ok(in_parentheses(self.build_operand(pair)?, parenthesized)),
            }
        }
    }

    fn build_operand(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        if matches!(
            pair.as_rule(),
            Rule::arith_sum | Rule::arith_product | Rule::arith_factor
        ) {
            return self.build_arith(pair);
        }
        let span = self.span(&pair);
        let inner = match pair.as_rule() {
            Rule::operand => pair
                .into_inner()
                .next()
                .ok_or_else(|| self.missing(span, "value"))?,
            _ => pair,
        };
        match inner.as_rule() {
            Rule::ident => self.build_name_expr(inner),
            Rule::literal => self.build_literal(inner),
            Rule::call => {
                let mut it = inner.into_inner();
                let function = self.next_ident(&mut it, span, "call")?;
                let args = it.map(|a| self.build_operand(a)).collect::<Built<_>>()?;
                Ok(Expr {
                    kind: ExprKind::Call { function, args },
                    span,
                    parenthesized: false,
                })
            }
            Rule::aggregate => self.build_aggregate(inner),
            Rule::contact_field => {
                let ident = self.next_ident(&mut inner.into_inner(), span, "contact field")?;
                Ok(Expr {
                    span,
                    kind: ExprKind::ContactField(ident),
                    parenthesized: false,
                })
            }
            _ => Err(self.unexpected(&inner, "a value")),
        }
    }

    fn build_aggregate(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let inner = pair
            .into_inner()
            .next()
            .ok_or_else(|| self.missing(span, "aggregate"))?;
        let kind = match inner.as_rule() {
            Rule::count_agg => AggregateKind::Count,
            Rule::any_agg => AggregateKind::Any,
            Rule::last_agg => AggregateKind::Last,
            Rule::numeric_agg | Rule::distinct_agg | Rule::first_agg | Rule::prop_of_agg => {
                return self.build_prop_aggregate(span, inner)
            }
            _ => return Err(self.unexpected(&inner, "an aggregate")),
        };
        let mut event = None;
        let mut filter = None;
        let mut window = None;
        for p in self.children(inner) {
            match p.as_rule() {
                Rule::ident => event = Some(self.build_ident(p)?),
                Rule::event_filter => filter = Some(Box::new(self.build_event_filter(p)?)),
                Rule::window => window = Some(self.build_window(p)?),
                _ => return Err(self.unexpected(&p, "an aggregate")),
            }
        }
        Ok(Expr {
            kind: ExprKind::Aggregate(EventAggregate {
                kind,
                event: event.ok_or_else(|| self.missing(span, "aggregate"))?,
                filter,
                window,
                prop: None,
            }),
            span,
            parenthesized: false,
        })
    }

    /// The aggregates of issue 13 (`sum of minutes in webinar_attended …`,
    /// `distinct count of url in page_view …`, `first page_view …`,
    /// `url of last page_view …`): the kind comes from the words, the prop
    /// (when there is one) is the first name, the event type the second.
    fn build_prop_aggregate(&self, span: Span, pair: Pair<'_, Rule>) -> Built<Expr> {
        let rule = pair.as_rule();
        let mut kind = match rule {
            Rule::distinct_agg => Some(AggregateKind::DistinctCount),
            Rule::first_agg => Some(AggregateKind::First),
            _ => None,
        };
        let mut names = Vec::with_capacity(2);
        let mut filter = None;
        let mut window = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::numeric_agg_word => {
                    kind = match p.as_str().trim() {
                        "sum" => Some(AggregateKind::Sum),
                        "min" => Some(AggregateKind::Min),
                        "max" => Some(AggregateKind::Max),
                        "avg" => Some(AggregateKind::Avg),
                        _ => return Err(self.unexpected(&p, "`sum`, `min`, `max` or `avg`")),
                    }
                }
                Rule::kw_first if rule == Rule::prop_of_agg => kind = Some(AggregateKind::FirstProp),
                Rule::kw_last if rule == Rule::prop_of_agg => kind = Some(AggregateKind::LastProp),
                r if is_keyword(r) || r == Rule::prop_of => {}
                Rule::ident => names.push(self.build_ident(p)?),
                Rule::event_filter => filter = Some(Box::new(self.build_event_filter(p)?)),
                Rule::window => window = Some(self.build_window(p)?),
                _ => return Err(self.unexpected(&p, "an aggregate")),
            }
        }
        let kind = kind.ok_or_else(|| self.missing(span, "aggregate"))?;
        let mut names = names.into_iter();
        let (prop, event) = if kind == AggregateKind::First {
            (None, names.next())
        } else {
            (names.next(), names.next())
        };
        Ok(Expr {
            kind: ExprKind::Aggregate(EventAggregate {
                kind,
                event: event.ok_or_else(|| self.missing(span, "aggregate"))?,
                filter,
                window,
                prop,
            }),
            span,
            parenthesized: false,
        })
    }

    fn build_literal(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let inner = match pair.as_rule() {
            Rule::literal | Rule::list_element => pair
                .into_inner()
                .next()
                .ok_or_else(|| self.missing(span, "literal"))?,
            _ => pair,
        };
        let kind = match inner.as_rule() {
            Rule::string => ExprKind::Literal(Literal::Str(self.build_string(inner)?.value)),
            Rule::signed_number | Rule::number => {
                ExprKind::Literal(Literal::Number(self.build_number(inner)?.value))
            }
            Rule::boolean => ExprKind::Literal(Literal::Bool(inner.as_str().trim() == "true")),
            Rule::null => ExprKind::Literal(Literal::Null),
            Rule::regex => return self.build_regex(inner),
            Rule::list => return self.build_list(inner),
            Rule::ident => ExprKind::Name(self.build_ident(inner)?),
            _ => return Err(self.unexpected(&inner, "a literal")),
        };
        Ok(Expr {
            kind,
            span,
            parenthesized: false,
        })
    }

    fn build_regex(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let mut pattern = String::new();
        let mut flags = String::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::regex_body => pattern = p.as_str().replace("\\/", "/"),
                Rule::regex_flags => flags = p.as_str().to_string(),
                _ => return Err(self.unexpected(&p, "a regular expression")),
            }
        }
        Ok(Expr {
            kind: ExprKind::Literal(Literal::Regex { pattern, flags }),
            span,
            parenthesized: false,
        })
    }

    fn build_list(&self, pair: Pair<'_, Rule>) -> Built<Expr> {
        let span = self.span(&pair);
        let items = self
            .children(pair)
            .into_iter()
            .map(|p| self.build_literal(p))
            .collect::<Built<_>>()?;
        Ok(Expr {
            kind: ExprKind::Literal(Literal::List(items)),
            span,
            parenthesized: false,
        })
    }
}

/// Whether `pair` (a `primary` or an `arith_factor`) is the group in
/// parentheses: its first child is then `inner` (a `condition` or an
/// `arith_sum`), not a test or an operand.
fn is_group(pair: &Pair<'_, Rule>, inner: Rule) -> bool {
    pair.clone()
        .into_inner()
        .next()
        .is_some_and(|p| p.as_rule() == inner)
}

/// `e`, marked as written in parentheses when `parenthesized`.
fn in_parentheses(mut e: Expr, parenthesized: bool) -> Expr {
    e.parenthesized |= parenthesized;
    e
}

/// Rules that carry no data: keywords and named punctuation.
fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::arrow | Rule::close_paren | Rule::close_brace | Rule::close_bracket | Rule::list_comma
    ) || format!("{rule:?}").starts_with("kw_")
}

/// Moves `end` back over trailing whitespace and `#` comments, not before `start`.
fn trim_trivia_end(text: &str, start: usize, end: usize) -> usize {
    let mut end = end;
    loop {
        let Some(slice) = text.get(start..end) else {
            return end;
        };
        let trimmed = slice.trim_end();
        end = start + trimmed.len();
        // A comment at the end of the last line: cut it when the `#` is
        // outside text and regex literals.
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        let line = trimmed.get(line_start..).unwrap_or("");
        match comment_start(line) {
            Some(hash) if line_start + hash > 0 || start + line_start + hash > start => {
                end = start + line_start + hash;
            }
            _ => return end,
        }
    }
}

/// Unescapes a string body; on failure returns the byte offset of the bad escape.
fn unescape(raw: &str) -> Result<String, (usize, DiagnosticKind)> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, other)) => return Err((i, DiagnosticKind::UnknownEscape { escape: other })),
            None => return Err((i, DiagnosticKind::LoneBackslash)),
        }
    }
    Ok(out)
}
