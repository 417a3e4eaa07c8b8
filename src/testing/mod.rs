//! Rule tests (`rubric test`): YAML files of cases, each a contact, an as-of
//! and expectations on its result, run through the real decoder and
//! evaluator; [`coverage`] says which parts of the rule set no case exercised.
//!
//! A test file (`*.test.yaml` next to the rules, or any `.yaml` in a `tests/`
//! directory beside them) looks like:
//!
//! ```yaml
//! as_of: 2026-11-28T00:00:00Z
//! cases:
//!   - name: vp at a big software company is a tier-A fit
//!     contact:
//!       email: ana@acme.io
//!       properties: { job_title: VP Marketing, company_size: 250 }
//!       events:
//!         - { type: page_view, at: 2 days ago, props: { url: /pricing } }
//!     expect:
//!       scores: { fit: 55, intent: { min: 5, max: 10 } }
//!       bands: { fit_tier: B }
//!       suppressed: []
//!       in: [ads_retarget]
//!       not_in: [nurture_convert]
//! ```

pub mod coverage;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::plan::Plan;
use crate::snapshot::{decode_line, format_timestamp, parse_timestamp};

/// The test files of a rules directory, sorted: its `*.test.yaml` (or
/// `.yml`) files and every YAML file of its `tests/` directory.
pub fn test_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut scan = |d: &std::path::Path, all_yaml: bool| {
        if let Ok(entries) = std::fs::read_dir(d) {
            for entry in entries.flatten() {
                let p = entry.path();
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
                if p.is_file() && yaml && (all_yaml || name.contains(".test.")) {
                    files.push(p);
                }
            }
        }
    };
    scan(dir, false);
    scan(&dir.join("tests"), true);
    files.sort();
    files
}

/// One test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The default as-of of every case.
    #[serde(default)]
    pub as_of: Option<String>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub as_of: Option<String>,
    pub contact: TestContact,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestContact {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    pub events: Vec<TestEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEvent {
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339, a date, or relative to as-of: `3 days ago`, `2 hours ago`,
    /// `in 2 days` (after as-of, where an event never counts).
    pub at: String,
    #[serde(default)]
    pub props: BTreeMap<String, serde_yaml::Value>,
}

/// An expected score: exact (to 2 decimals) or within a range.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ScoreExpect {
    Exact(f64),
    Range {
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
}

/// An expected route: its name, or its name and queue.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RouteExpect {
    Name(String),
    Full {
        name: String,
        queue: Option<String>,
        /// `assign to …`: the assignee expected; `null` for none (a route
        /// with `assign to` whose property has no value).
        #[serde(default, deserialize_with = "present")]
        assignee: Option<Option<String>>,
        /// The SLA in hours of the chosen branch (or the route).
        #[serde(default)]
        sla_hours: Option<f64>,
    },
}

/// A key that may be `null`: `Some(None)` when given as `null`, `None`
/// (by `default`) when left out.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Expectations; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub scores: BTreeMap<String, ScoreExpect>,
    #[serde(default)]
    pub bands: BTreeMap<String, String>,
    /// The exact set of suppressions, or `true`/`false` for any/none.
    #[serde(default)]
    pub suppressed: Option<Suppressed>,
    #[serde(default)]
    pub audiences: Option<Vec<String>>,
    #[serde(default)]
    pub workflows: Option<Vec<String>>,
    #[serde(default)]
    pub routes: Option<Vec<RouteExpect>>,
    /// Audiences, workflows or routes the contact must be in.
    #[serde(default, rename = "in")]
    pub in_targets: Vec<String>,
    /// Audiences, workflows or routes the contact must not be in.
    #[serde(default)]
    pub not_in: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Suppressed {
    Any(bool),
    Exactly(Vec<String>),
}

/// A problem with a test file itself (not a failing case).
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub line: Option<usize>,
    pub message: String,
}

/// Parses a test file; YAML and shape errors carry their line.
pub fn parse(text: &str) -> Result<TestFile, FileError> {
    serde_yaml::from_str(text).map_err(|e| FileError {
        line: e.location().map(|l| l.line()),
        message: e.to_string(),
    })
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    /// 1-based line of the case in its file, when found.
    pub line: Option<usize>,
    /// Mismatches, one line each (`scores.fit: expected 85, got 55`).
    pub failures: Vec<String>,
    /// The result line (docs/formats.md#results) of the contact (for failures).
    pub actual: Option<String>,
    /// The decoded contact and its as-of (for traces).
    pub contact: Option<(crate::snapshot::Contact, i64)>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// `3 days ago` → as-of minus three days, `in 3 days` → as-of plus three
/// days, as RFC 3339; other text unchanged.
fn relative(text: &str, as_of: i64) -> Option<String> {
    let text = text.trim();
    let (rest, sign) = match text.strip_suffix("ago") {
        Some(past) => (past.trim(), -1),
        None => (text.strip_prefix("in ")?.trim(), 1),
    };
    let (amount, unit) = rest.split_once(' ')?;
    let amount: f64 = amount.parse().ok()?;
    let seconds = match unit.trim().trim_end_matches('s') {
        "second" => 1.0,
        "minute" => 60.0,
        "hour" => 3600.0,
        "day" => 86_400.0,
        "week" => 604_800.0,
        _ => return None,
    };
    let micros = (amount * seconds * 1e6).round() as i64;
    Some(format_timestamp(as_of + sign * micros))
}

fn yaml_to_json(v: &serde_yaml::Value, as_of: i64) -> Json {
    match v {
        serde_yaml::Value::String(s) => relative(s, as_of).map_or_else(|| Json::from(s.clone()), Json::from),
        other => serde_json::to_value(other).unwrap_or(Json::Null),
    }
}

/// Runs one case against a plan.
pub fn run_case(plan: &Plan, case: &Case, default_as_of: Option<&str>, line: Option<usize>) -> CaseResult {
    let mut result = CaseResult {
        name: case.name.clone(),
        line,
        failures: Vec::new(),
        actual: None,
        contact: None,
    };
    let Some(as_of_text) = case.as_of.as_deref().or(default_as_of) else {
        result
            .failures
            .push(String::from("no `as_of`: give one for the file or the case"));
        return result;
    };
    let Some(as_of) = parse_timestamp(as_of_text) else {
        result.failures.push(format!(
            "`as_of: {as_of_text}` is not an RFC 3339 timestamp or a date"
        ));
        return result;
    };
    let id = case.contact.id.clone().unwrap_or_else(|| case.name.clone());
    let properties: serde_json::Map<String, Json> = case
        .contact
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), yaml_to_json(v, as_of)))
        .collect();
    let events: Vec<Json> = case
        .contact
        .events
        .iter()
        .map(|e| {
            let at = relative(&e.at, as_of).unwrap_or_else(|| e.at.clone());
            let props: serde_json::Map<String, Json> = e
                .props
                .iter()
                .map(|(k, v)| (k.clone(), yaml_to_json(v, as_of)))
                .collect();
            json!({"type": e.kind, "at": at, "props": props})
        })
        .collect();
    let mut line_json = json!({"id": id, "properties": properties, "events": events});
    if let (Some(email), Some(obj)) = (&case.contact.email, line_json.as_object_mut()) {
        obj.insert(String::from("email"), Json::from(email.clone()));
    }
    let contact = match decode_line(&plan.decode, &line_json.to_string()) {
        Ok(Some(c)) => c,
        Ok(None) => {
            result.failures.push(String::from("the contact is empty"));
            return result;
        }
        Err(reason) => {
            result
                .failures
                .push(format!("the contact would be rejected: {reason}"));
            return result;
        }
    };
    let outcome = crate::eval::evaluate(plan, &contact, as_of);
    let mut out = Vec::new();
    crate::output::write_result(&mut out, plan, &contact.id, &outcome);
    let actual_text = String::from_utf8_lossy(&out).into_owned();
    let actual: Json = serde_json::from_str(&actual_text).unwrap_or(Json::Null);
    compare(plan, &case.expect, &actual, &mut result.failures);
    result.actual = Some(actual_text);
    result.contact = Some((contact, as_of));
    result
}

/// A key of a JSON object, or null.
fn at<'j>(v: &'j Json, key: &str) -> &'j Json {
    static NULL: Json = Json::Null;
    v.get(key).unwrap_or(&NULL)
}

fn names(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().or_else(|| x.get("name").and_then(Json::as_str)))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn compare(plan: &Plan, expect: &Expect, actual: &Json, failures: &mut Vec<String>) {
    for (name, want) in &expect.scores {
        if !plan.scores.iter().any(|s| &s.name == name) {
            failures.push(format!("scores.{name}: the rule set has no score `{name}`"));
            continue;
        }
        let got = at(at(actual, "scores"), name).as_f64().unwrap_or(f64::NAN);
        match want {
            ScoreExpect::Exact(x) => {
                if (crate::output::round2(*x) - got).abs() > 1e-9 {
                    failures.push(format!("scores.{name}: expected {x}, got {got}"));
                }
            }
            ScoreExpect::Range { min, max } => {
                let low_ok = min.is_none_or(|m| got >= m);
                let high_ok = max.is_none_or(|m| got <= m);
                if !(low_ok && high_ok) {
                    let show = |x: &Option<f64>| x.map_or(String::from("…"), |v| v.to_string());
                    failures.push(format!(
                        "scores.{name}: expected {}..{}, got {got}",
                        show(min),
                        show(max)
                    ));
                }
            }
        }
    }
    for (name, want) in &expect.bands {
        let Some(band) = plan.bands.iter().find(|b| &b.name == name) else {
            failures.push(format!("bands.{name}: the rule set has no band `{name}`"));
            continue;
        };
        if !band.values.iter().any(|v| v == want) {
            failures.push(format!(
                "bands.{name}: `{want}` is not a value of `{name}` ({})",
                band.values.join(", ")
            ));
            continue;
        }
        let got = at(at(actual, "bands"), name).as_str().unwrap_or("");
        if got != want {
            failures.push(format!("bands.{name}: expected {want}, got {got}"));
        }
    }
    let suppressed = names(at(actual, "suppressed"));
    match &expect.suppressed {
        Some(Suppressed::Any(true)) if suppressed.is_empty() => {
            failures.push(String::from("suppressed: expected some suppression, got none"))
        }
        Some(Suppressed::Any(false)) if !suppressed.is_empty() => failures.push(format!(
            "suppressed: expected none, got [{}]",
            suppressed.join(", ")
        )),
        Some(Suppressed::Exactly(want)) if sorted(want.clone()) != sorted(suppressed.clone()) => failures
            .push(format!(
                "suppressed: expected [{}], got [{}]",
                want.join(", "),
                suppressed.join(", ")
            )),
        _ => {}
    }
    for (key, want) in [("audiences", &expect.audiences), ("workflows", &expect.workflows)] {
        if let Some(want) = want {
            let got = names(at(actual, key));
            if sorted(want.clone()) != sorted(got.clone()) {
                failures.push(format!(
                    "{key}: expected [{}], got [{}]",
                    want.join(", "),
                    got.join(", ")
                ));
            }
        }
    }
    if let Some(want) = &expect.routes {
        let got = at(actual, "routes").as_array().cloned().unwrap_or_default();
        let got_names = names(at(actual, "routes"));
        let want_names: Vec<String> = want
            .iter()
            .map(|r| match r {
                RouteExpect::Name(n) | RouteExpect::Full { name: n, .. } => n.clone(),
            })
            .collect();
        if sorted(want_names.clone()) != sorted(got_names.clone()) {
            failures.push(format!(
                "routes: expected [{}], got [{}]",
                want_names.join(", "),
                got_names.join(", ")
            ));
        }
        for r in want {
            let RouteExpect::Full {
                name,
                queue,
                assignee,
                sla_hours,
            } = r
            else {
                continue;
            };
            let Some(got) = got.iter().find(|g| at(g, "name").as_str() == Some(name.as_str())) else {
                continue;
            };
            let text = |key: &str| match at(got, key) {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(queue) = queue {
                let got_queue = text("queue");
                if &got_queue != queue {
                    failures.push(format!("routes.{name}.queue: expected {queue}, got {got_queue}"));
                }
            }
            if let Some(assignee) = assignee {
                let got_assignee = text("assignee");
                let assignee = assignee.as_deref().unwrap_or("null");
                if got_assignee != assignee {
                    failures.push(format!(
                        "routes.{name}.assignee: expected {assignee}, got {got_assignee}"
                    ));
                }
            }
            if let Some(sla) = sla_hours {
                let got_sla = at(got, "sla_hours").as_f64();
                if got_sla != Some(*sla) {
                    failures.push(format!(
                        "routes.{name}.sla_hours: expected {sla}, got {}",
                        text("sla_hours")
                    ));
                }
            }
        }
    }
    let mut members = names(at(actual, "audiences"));
    members.extend(names(at(actual, "workflows")));
    members.extend(names(at(actual, "routes")));
    let known = |t: &str| {
        plan.audiences.iter().chain(&plan.workflows).any(|a| a.name == t)
            || plan.routes.iter().any(|r| r.name == t)
    };
    for t in &expect.in_targets {
        if !known(t) {
            failures.push(format!(
                "in: the rule set has no audience, workflow or route `{t}`"
            ));
        } else if !members.contains(t) {
            failures.push(format!("in: expected the contact in `{t}`, it is not"));
        }
    }
    for t in &expect.not_in {
        if !known(t) {
            failures.push(format!(
                "not_in: the rule set has no audience, workflow or route `{t}`"
            ));
        } else if members.contains(t) {
            failures.push(format!("not_in: expected the contact not in `{t}`, it is"));
        }
    }
}

/// The 1-based line of each case in the file text, in order: the line of
/// each `-` item of the top-level `cases:` sequence, whatever key comes first
/// in the case (`- name:`, `- as_of:`, `- contact:` …). A flow sequence
/// (`cases: [ … ]`) gives no lines.
pub fn case_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut in_cases = false;
    // The indentation of the sequence's `-`, known from its first item.
    let mut item_indent: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let is_item = content == "-" || content.starts_with("- ");
        if !in_cases {
            if indent == 0
                && content
                    .strip_prefix("cases:")
                    .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
            {
                in_cases = true;
            }
            continue;
        }
        match item_indent {
            None if is_item => {
                item_indent = Some(indent);
                lines.push(index + 1);
            }
            // Anything else right after `cases:` is not a block sequence.
            None => break,
            Some(items) if indent == items && is_item => lines.push(index + 1),
            // A line of an item (deeper, or a sequence's own `-` deeper still).
            Some(items) if indent > items => {}
            // The next top-level key: the sequence has ended.
            Some(_) => {
                in_cases = false;
                item_indent = None;
            }
        }
    }
    lines
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production: tab,
/// line feed, carriage return, and everything from U+0020 except U+FFFE and
/// U+FFFF; Rust `char`s are never surrogates).
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Escapes text for XML attributes and text. Characters XML 1.0 forbids
/// (control characters such as `\x07`) become U+FFFD `�`, since no escape
/// can carry them.
pub fn xml_escape(s: &str) -> String {
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            c if allowed_in_xml(c) => escaped.push(c),
            _ => escaped.push('\u{FFFD}'),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_lines_find_cases_whatever_their_first_key() {
        let text = "\
as_of: 2026-11-28T00:00:00Z
cases:
  - name: first
    contact: {}
  - contact:
      events:
        - { type: page_view, at: 1 day ago }
    name: second, name not first
  # a comment
  -
    as_of: 2026-11-01
    name: third
other: 1
";
        assert_eq!(case_lines(text), vec![3, 5, 10]);
    }

    #[test]
    fn case_lines_read_an_unindented_sequence() {
        let text = "cases:\n- name: a\n  contact: {}\n- contact: {}\n  name: b\nas_of: 2026-11-28\n";
        assert_eq!(case_lines(text), vec![2, 4]);
    }

    #[test]
    fn relative_times_reach_back_with_ago_and_forward_with_in() {
        // A regression test: `in 2 days` was kept as text, so a test of
        // `trial_ends_at within next 3 days` could not say "in 2 days".
        let as_of = parse_timestamp("2026-11-28T00:00:00Z").unwrap_or_default();
        let at = |text: &str| relative(text, as_of);
        assert_eq!(at("3 days ago").as_deref(), Some("2026-11-25T00:00:00Z"));
        assert_eq!(at("in 2 days").as_deref(), Some("2026-11-30T00:00:00Z"));
        assert_eq!(at(" in 36 hours ").as_deref(), Some("2026-11-29T12:00:00Z"));
        assert_eq!(at("in 1 week").as_deref(), Some("2026-12-05T00:00:00Z"));
        assert_eq!(at("in two days"), None);
        assert_eq!(at("inside 2 days"), None);
        assert_eq!(at("in 2 months"), None);
        assert_eq!(at("2 days"), None);
    }

    #[test]
    fn xml_escape_replaces_characters_xml_forbids() {
        assert_eq!(
            xml_escape("bell\x07 & <tab>\t\u{FFFE}"),
            "bell\u{FFFD} &amp; &lt;tab&gt;\t\u{FFFD}"
        );
        assert_eq!(xml_escape("\"東京\"\n"), "&quot;東京&quot;\n");
    }
}
