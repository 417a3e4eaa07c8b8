//! `--why-not TARGET`: from a trace, what keeps a contact out of an audience,
//! workflow or route, or away from a band value or a route's queue
//! (`ROUTE=QUEUE`, in `why_not/routing.rs`), and what would have to change.

use serde::Serialize;
use serde_json::Value as Json;

mod routing;

use super::values::{json_text, number};
use super::{BandTrace, TargetTrace, TestTrace, Trace};

/// The answer to "why is this contact not in TARGET?".
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhyNot {
    /// As asked: `ads_conversion` or `readiness=hot`.
    pub target: String,
    /// `audience`, `workflow`, `route` or `band`.
    pub kind: &'static str,
    /// True when the contact is in the target (or has the band value) after all.
    pub satisfied: bool,
    /// What keeps the contact out, most direct first.
    pub reasons: Vec<String>,
    /// What would have to change for the contact to get in.
    pub changes: Vec<String>,
}

/// Answers `--why-not` for one trace; `Err` names the valid targets when
/// `target` is unknown.
pub fn why_not(trace: &Trace, target: &str) -> Result<WhyNot, String> {
    if let Some((band, value)) = target.split_once(['=', ':']) {
        // `ROUTE=QUEUE`: why the route's task went elsewhere.
        if let Some(t) = trace.routes.iter().find(|t| t.name == band.trim()) {
            return Ok(routing::route_queue_why_not(
                trace,
                t,
                value.trim().trim_matches('"'),
            ));
        }
        let Some(bt) = trace.bands.iter().find(|b| b.name == band.trim()) else {
            return Err(unknown(trace, target));
        };
        // A band value may be asked as written in a rule file, in backticks.
        let value = value.trim().trim_matches('`');
        let values: Vec<&str> = bt
            .branches
            .iter()
            .chain(&bt.not_reached)
            .map(|b| b.value.as_str())
            .collect();
        if !values.contains(&value) {
            return Err(format!(
                "band `{}` has no value `{value}`; its values are {}",
                bt.name,
                values.join(", ")
            ));
        }
        return Ok(band_why_not(bt, value, &format!("{}={value}", bt.name), 0));
    }
    for (kind, list) in [
        ("audience", &trace.audiences),
        ("workflow", &trace.workflows),
        ("route", &trace.routes),
    ] {
        if let Some(t) = list.iter().find(|t| t.name == target) {
            return Ok(target_why_not(trace, t, kind));
        }
    }
    if let Some(bt) = trace.bands.iter().find(|b| b.name == target) {
        return Err(format!(
            "`{target}` is a band; ask about one of its values, e.g. `--why-not {target}={}`",
            bt.branches.first().map_or("…", |b| b.value.as_str())
        ));
    }
    Err(unknown(trace, target))
}

fn unknown(trace: &Trace, target: &str) -> String {
    let mut names: Vec<&str> = Vec::new();
    names.extend(trace.audiences.iter().map(|t| t.name.as_str()));
    names.extend(trace.workflows.iter().map(|t| t.name.as_str()));
    names.extend(trace.routes.iter().map(|t| t.name.as_str()));
    let suggestion = crate::diagnostics::did_you_mean(target, names.iter().copied())
        .map(|n| format!("did you mean `{n}`? "))
        .unwrap_or_default();
    let bands: Vec<String> = trace.bands.iter().map(|b| format!("{}=VALUE", b.name)).collect();
    format!(
        "unknown --why-not target `{target}`: {suggestion}targets are {}, or a band value ({})",
        names.join(", "),
        bands.join(", ")
    )
}

fn target_why_not(trace: &Trace, t: &TargetTrace, kind: &'static str) -> WhyNot {
    let mut reasons = Vec::new();
    let mut changes = Vec::new();
    if !t.condition {
        for test in failed_tests(&t.tests) {
            let lead = if test.after_failure {
                "and also"
            } else {
                "condition fails"
            };
            reasons.push(format!("{lead}: {}", describe_test(test)));
            changes.push(change_for(test));
            // A band value that is not the wanted one: say why, one level deep.
            let band = trace.bands.iter().find(|b| b.name == test.subject);
            let wanted = match (test.op.as_str(), band) {
                ("is", _) => wanted_band_value(test),
                // `grade >= B2`: the accepted value nearest to the contact's.
                (_, Some(bt)) if !test.accepts.is_empty() => nearest_accepted(bt, &test.accepts),
                _ => None,
            };
            if test.op == "is" || !test.accepts.is_empty() {
                if let (Some(bt), Some(want)) = (band, wanted) {
                    let inner = band_why_not(bt, &want, &format!("{}={want}", bt.name), 1);
                    reasons.extend(inner.reasons.into_iter().map(|r| format!("  {r}")));
                    changes.extend(inner.changes.into_iter().map(|c| format!("  {c}")));
                }
            }
        }
    }
    for name in &t.suppressed_by {
        reasons.push(format!("suppressed on {} by `{name}`", t.channel));
        if let Some(s) = trace.suppressions.iter().find(|s| &s.name == name) {
            let held: Vec<String> = s.tests.iter().filter(|t| t.result).map(describe_test).collect();
            changes.push(format!(
                "`{name}` would have to stop applying (it holds because {}), or `{}` would have to say `despite {name}`",
                if held.is_empty() {
                    String::from("its condition is true")
                } else {
                    held.join(" and ")
                },
                t.name
            ));
        }
    }
    WhyNot {
        target: t.name.clone(),
        kind,
        satisfied: t.member,
        reasons,
        changes,
    }
}

/// Of the values an ordered band test accepts, the one nearest to the
/// band's value in declaration order (the least change that would pass).
fn nearest_accepted(bt: &BandTrace, accepts: &[String]) -> Option<String> {
    let order: Vec<&str> = bt
        .branches
        .iter()
        .chain(&bt.not_reached)
        .map(|b| b.value.as_str())
        .collect();
    let position = |value: &str| order.iter().position(|v| *v == value);
    let current = position(&bt.value)?;
    accepts
        .iter()
        .filter_map(|a| position(a).map(|p| (p.abs_diff(current), a)))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, a)| a.clone())
}

/// The value a band test wanted (`readiness is hot` → `hot`).
fn wanted_band_value(test: &TestTrace) -> Option<String> {
    let text = test.test.trim();
    let rest = text.strip_prefix(test.subject.as_str())?.trim();
    let rest = rest.strip_prefix("is not").unwrap_or(rest).trim();
    let rest = rest.strip_prefix("is").unwrap_or(rest).trim();
    let rest = rest.strip_prefix("!=").unwrap_or(rest).trim();
    let rest = rest.strip_prefix("==").unwrap_or(rest).trim();
    // A band value is written bare or in backticks (`` `1` ``); the trace names it bare.
    let value = rest.trim_matches('"').trim_matches('`');
    (!value.is_empty() && !value.contains(' ')).then(|| value.to_string())
}

fn band_why_not(bt: &BandTrace, want: &str, target: &str, depth: usize) -> WhyNot {
    let mut reasons = Vec::new();
    let mut changes = Vec::new();
    if bt.value != want {
        let tried = bt.branches.iter().find(|b| b.value == want);
        let later = bt.not_reached.iter().find(|b| b.value == want);
        match (tried, later) {
            (Some(branch), _) => {
                for test in failed_tests(&branch.tests) {
                    reasons.push(format!("{}: {}", branch.value, describe_test(test)));
                    changes.push(change_for(test));
                }
            }
            (None, Some(branch)) => {
                if let Some(chosen) = bt.branches.last() {
                    reasons.push(format!(
                        "`{}` comes first and matched{}",
                        chosen.value,
                        if chosen.tests.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ": {}",
                                chosen
                                    .tests
                                    .iter()
                                    .map(describe_test)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    ));
                    changes.push(format!("`{}` would have to stop matching", chosen.value));
                }
                // Branches between the chosen one and the wanted one that hold
                // would be chosen next: they would have to stop matching too.
                for between in bt.not_reached.iter().take_while(|b| b.value != want) {
                    if between.matched && !between.otherwise {
                        let tests: Vec<String> = between.tests.iter().map(describe_test).collect();
                        reasons.push(format!(
                            "`{}` comes next and matches too: {}",
                            between.value,
                            tests.join(", ")
                        ));
                        changes.push(format!("`{}` would have to stop matching", between.value));
                    }
                }
                if branch.otherwise {
                    reasons.push(format!(
                        "`{}` is the `otherwise` value: it is given when no branch above matches",
                        branch.value
                    ));
                } else if branch.matched {
                    reasons.push(format!("{}'s own condition holds", branch.value));
                } else {
                    for test in failed_tests(&branch.tests) {
                        reasons.push(format!("{}: {}", branch.value, describe_test(test)));
                        changes.push(change_for(test));
                    }
                }
            }
            (None, None) => {
                // Every branch, taken or not, is recorded: the band has no such value.
                reasons.push(format!("`{}` has no value `{want}`", bt.name));
            }
        }
        if depth > 0 && reasons.is_empty() {
            reasons.push(format!("{} is {}", bt.name, bt.value));
        }
    }
    WhyNot {
        target: target.to_string(),
        kind: "band",
        satisfied: bt.value == want,
        reasons,
        changes,
    }
}

/// The tests that made a condition false: all the false ones recorded (an
/// `and` stops at its first false test, so that is the one that failed).
fn failed_tests(tests: &[TestTrace]) -> impl Iterator<Item = &TestTrace> {
    // False, or true under a `not`.
    tests.iter().filter(|t| t.result == t.negated)
}

fn symbol(op: &str) -> &str {
    match op {
        ">=" => "≥",
        "<=" => "≤",
        "!=" => "≠",
        other => other,
    }
}

/// One test in words with its values: `fit 55 ≥ 60 ✗`,
/// `job_title "VP Marketing" matches /…/i ✓`, `readiness is warm, not hot ✗`.
pub fn describe_test(t: &TestTrace) -> String {
    let mark = if t.result { "✓" } else { "✗" };
    let source = t.test.trim();
    if let Some(worked) = &t.worked {
        // Arithmetic: the operands' values, then the result in place of the value.
        if t.value.is_null() {
            return format!("{worked} = missing {mark}");
        }
        let test = TestTrace {
            subject: format!("{worked} ="),
            worked: None,
            ..t.clone()
        };
        return describe_test(&test);
    }
    match (t.op.as_str(), &t.other) {
        ("is null" | "is not null", _) => {
            let state = if t.value.is_null() {
                "is missing"
            } else {
                "has a value"
            };
            format!("{} {state} {mark}", t.subject)
        }
        (_, _) if t.value.is_null() => format!("{} is missing {mark}", t.subject),
        // `grade >= B2`: the band's value and the values the test accepts.
        (">=" | ">" | "<=" | "<" | "==", None) if !t.accepts.is_empty() => {
            let actual = json_text(&t.value).trim_matches('"').to_string();
            let test = source
                .strip_prefix(t.subject.as_str())
                .map_or_else(|| code(source), |rest| rest.trim().to_string());
            let accepts = t.accepts.join(", ");
            if t.result {
                format!("{} is {actual} ({test}: {accepts}) {mark}", t.subject)
            } else {
                format!("{} is {actual}, not {test} ({accepts}) {mark}", t.subject)
            }
        }
        ("is" | "is not", _) => {
            let actual = json_text(&t.value).trim_matches('"').to_string();
            let wanted = wanted_band_value(t).unwrap_or_default();
            match (t.op.as_str(), t.result) {
                ("is", true) | ("is not", false) => format!("{} is {actual} {mark}", t.subject),
                ("is", false) => format!("{} is {actual}, not {wanted} {mark}", t.subject),
                _ => format!("{} is {actual}, not other than {wanted} {mark}", t.subject),
            }
        }
        (op @ ("==" | "!=" | "<" | "<=" | ">" | ">="), Some(other)) => format!(
            "{} {} {} {}{} {mark}",
            t.subject,
            json_text(&t.value),
            symbol(op),
            match &t.other_worked {
                // Arithmetic on the other side: its operands, then its value.
                Some(worked) if other.is_null() => format!("{worked} = missing"),
                Some(worked) => format!("{worked} = {}", json_text(other)),
                None => json_text(other),
            },
            if ends_with_ignoring_case(source) {
                " ignoring case"
            } else {
                ""
            }
        ),
        ("is true", _) if source == t.subject || t.value.is_boolean() && !source.contains(' ') => {
            format!("{} {mark}", t.subject)
        }
        ("is true", _) => format!("{source} {mark}"),
        _ => match source.strip_prefix(t.subject.as_str()) {
            Some(rest) => format!("{} {} {} {mark}", t.subject, json_text(&t.value), rest.trim()),
            None => format!(
                "{} ({} = {}) {mark}",
                code(source),
                t.subject,
                json_text(&t.value)
            ),
        },
    }
}

/// Rule text in backticks; text that holds a backtick itself (a band value
/// such as `` `A1` ``) goes between double backticks, as Markdown writes it.
fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// Whether a test's source ends with the words `ignoring case` (a comparison's
/// operator alone does not say so).
fn ends_with_ignoring_case(source: &str) -> bool {
    let mut words = source.split_whitespace().rev();
    words.next() == Some("case") && words.next() == Some("ignoring")
}

/// What would make a failed test pass.
fn change_for(t: &TestTrace) -> String {
    if t.negated {
        return format!(
            "{} would have to stop holding (now: {})",
            code(&t.test),
            describe_test(t)
        );
    }
    let value = json_text(&t.value);
    if t.value.is_null() && !matches!(t.op.as_str(), "is null" | "is not null") {
        return format!("{} would need a value (it is missing)", t.subject);
    }
    match (t.op.as_str(), &t.other) {
        (op @ (">=" | ">" | "<=" | "<"), Some(Json::Number(threshold))) => {
            let gap = match (t.value.as_f64(), threshold.as_f64()) {
                (Some(v), Some(th)) => format!(", {} away", number((th - v).abs())),
                _ => String::new(),
            };
            format!(
                "{} would need to be {} {} (it is {value}{gap})",
                t.subject,
                symbol(op),
                json_text(&Json::Number(threshold.clone()))
            )
        }
        // `between`, `within next`, `between … ago`: the range that passes.
        ("between" | "within next" | "between ago", _) if t.bounds.is_some() => {
            let [low, high] = t.bounds.as_ref().map_or([Json::Null, Json::Null], Clone::clone);
            format!(
                "{} would need to be from {} to {} (it is {value})",
                t.subject,
                json_text(&low),
                json_text(&high)
            )
        }
        (">=" | ">" | "<=" | "<" | "==", None) if !t.accepts.is_empty() => format!(
            "{} would have to be {} (it is {})",
            t.subject,
            one_of(&t.accepts),
            value.trim_matches('"')
        ),
        ("is" | "is not", _) => format!(
            "{} would have to hold (it is {})",
            code(&t.test),
            value.trim_matches('"')
        ),
        _ => format!("{} would have to hold ({} is {value})", code(&t.test), t.subject),
    }
}

/// `A`, `A or B`, `A, B or C`.
fn one_of(values: &[String]) -> String {
    match values {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
