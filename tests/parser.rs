//! The parser and the compiler on valid input: every file of
//! `tests/corpus/ok/` (and the reference playbook in `rules/`) compiles with
//! no diagnostic, and targeted tests of `rubric::syntax::parse_file` pin the
//! shape of the AST for precedence, keyword boundaries, escapes, regular
//! expressions, numbers and durations.
//!
//! AST shapes are compared as S-expressions (see [`sexpr`]) so that spans do
//! not get in the way and a failure reads like the rule that was written.

use std::path::Path;

use rubric::compile::compile;
use rubric::diagnostics::Diagnostic;
use rubric::plan::{Channel, Plan};
use rubric::source::{FileId, Sources};
use rubric::syntax::ast::{
    AggregateKind, Expr, ExprKind, File, IsTarget, ItemKind, Literal, ModifierKind, RouteFieldKind, RuleBody,
    TextOp, Window, WindowKind,
};
use rubric::syntax::parse_file;

// ------------------------------------------------------------------ helpers

/// Compiles a file or directory of rules; panics with the rendered
/// diagnostics when it does not compile cleanly.
fn compile_ok(path: &str) -> Plan {
    let sources = Sources::load(Path::new(path)).unwrap();
    match compile(&sources) {
        Ok(compiled) => {
            assert!(
                compiled.warnings.is_empty(),
                "{path}: unexpected warnings:\n{}",
                rubric::diagnostics::render(&compiled.warnings, &sources, false)
            );
            compiled.plan
        }
        Err(diagnostics) => panic!(
            "{path} does not compile:\n{}",
            rubric::diagnostics::render(&diagnostics, &sources, false)
        ),
    }
}

/// Counts of a plan's items: scores, bands, segments, suppressions,
/// audiences, workflows, routes.
fn counts(plan: &Plan) -> [usize; 7] {
    [
        plan.scores.len(),
        plan.bands.len(),
        plan.segments.len(),
        plan.suppressions.len(),
        plan.audiences.len(),
        plan.workflows.len(),
        plan.routes.len(),
    ]
}

/// Parses a text that must have no syntax error.
fn parse(text: &str) -> File {
    let (file, diagnostics) = parse_file(FileId(0), text);
    assert!(
        diagnostics.is_empty(),
        "unexpected diagnostics for {text:?}: {diagnostics:#?}"
    );
    file
}

/// Parses `text` and returns its diagnostics (the text must have some).
fn parse_errors(text: &str) -> Vec<Diagnostic> {
    let (_, diagnostics) = parse_file(FileId(0), text);
    assert!(!diagnostics.is_empty(), "expected a syntax error in {text:?}");
    diagnostics
}

/// The condition of `segment s when <condition>`, as an S-expression.
fn cond(condition: &str) -> String {
    let file = parse(&format!("segment s when {condition}"));
    match &file.items[..] {
        [item] => match &item.kind {
            ItemKind::Segment(s) => sexpr(&s.condition),
            other => panic!("not a segment: {other:?}"),
        },
        items => panic!("expected one item, found {}", items.len()),
    }
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A window as an s-expression part: `within 30 days`, `next 3 days`,
/// `ago 8 30 days`.
fn sexpr_window(window: &Window) -> String {
    match &window.kind {
        WindowKind::Within(d) => format!("within {} {}", number(d.amount), d.unit.name),
        WindowKind::Next(d) => format!("next {} {}", number(d.amount), d.unit.name),
        WindowKind::Ago { low, high } => format!(
            "ago {} {} {}",
            number(low.amount),
            number(high.amount),
            high.unit.name
        ),
    }
}

/// A compact, span-free rendering of an expression:
/// `(or a (and b c))`, `(>= fit 50)`, `(in country ["US", "CA"] :ci)`.
fn sexpr(e: &Expr) -> String {
    let ci = |ignore_case: bool| if ignore_case { " :ci" } else { "" };
    match &e.kind {
        ExprKind::Or(parts) => format!("(or {})", join(parts)),
        ExprKind::And(parts) => format!("(and {})", join(parts)),
        ExprKind::Not(inner) => format!("(not {})", sexpr(inner)),
        ExprKind::Arith { first, rest } => {
            let rest: Vec<String> = rest
                .iter()
                .map(|(op, part)| format!("{} {}", op.symbol(), sexpr(part)))
                .collect();
            format!("(arith {} {})", sexpr(first), rest.join(" "))
        }
        ExprKind::Compare {
            op,
            left,
            right,
            ignore_case,
        } => format!(
            "({} {} {}{})",
            op.symbol(),
            sexpr(left),
            sexpr(right),
            ci(*ignore_case)
        ),
        ExprKind::In {
            left,
            list,
            negated,
            ignore_case,
        } => format!(
            "({} {} {}{})",
            if *negated { "not-in" } else { "in" },
            sexpr(left),
            sexpr(list),
            ci(*ignore_case)
        ),
        ExprKind::Matches {
            left,
            pattern,
            ignore_case,
        } => format!("(matches {} {}{})", sexpr(left), sexpr(pattern), ci(*ignore_case)),
        ExprKind::Has {
            left,
            quantifier,
            right,
            ignore_case,
        } => format!(
            "({} {} {}{})",
            quantifier.words().replace(' ', "-"),
            sexpr(left),
            sexpr(right),
            ci(*ignore_case)
        ),
        ExprKind::Text {
            op,
            left,
            right,
            ignore_case,
        } => {
            let name = match op {
                TextOp::StartsWith => "starts-with",
                TextOp::EndsWith => "ends-with",
                TextOp::Contains => "contains",
            };
            format!("({name} {} {}{})", sexpr(left), sexpr(right), ci(*ignore_case))
        }
        ExprKind::Is {
            left,
            negated,
            target,
        } => {
            let target = match target {
                IsTarget::Null => String::from("null"),
                IsTarget::Bool(b) => b.to_string(),
                IsTarget::Name(n) => n.name.clone(),
            };
            let op = if *negated { "is-not" } else { "is" };
            format!("({op} {} {target})", sexpr(left))
        }
        ExprKind::Within { left, window } => format!(
            "(within {} {} {})",
            sexpr(left),
            number(window.amount),
            window.unit.name
        ),
        ExprKind::TimeWindow { left, window } => format!("({} {})", sexpr_window(window), sexpr(left)),
        ExprKind::Between { left, low, high } => {
            format!("(between {} {} {})", sexpr(left), sexpr(low), sexpr(high))
        }
        ExprKind::Name(ident) => ident.name.clone(),
        ExprKind::ContactField(ident) => format!("contact.{}", ident.name),
        ExprKind::Call { function, args } => {
            if args.is_empty() {
                format!("({})", function.name)
            } else {
                format!("({} {})", function.name, join(args))
            }
        }
        ExprKind::Aggregate(agg) => {
            let kind = match agg.kind {
                AggregateKind::Count => "count",
                AggregateKind::Any => "any",
                AggregateKind::Last => "last",
                AggregateKind::Sum => "sum",
                AggregateKind::Min => "min",
                AggregateKind::Max => "max",
                AggregateKind::Avg => "avg",
                AggregateKind::DistinctCount => "distinct-count",
                AggregateKind::First => "first",
                AggregateKind::FirstProp => "prop-of-first",
                AggregateKind::LastProp => "prop-of-last",
            };
            let mut out = format!("({kind} {}", agg.event.name);
            if let Some(prop) = &agg.prop {
                out.push_str(&format!(" :prop {}", prop.name));
            }
            if let Some(filter) = &agg.filter {
                out.push_str(&format!(" :where {}", sexpr(filter)));
            }
            if let Some(window) = &agg.window {
                out.push_str(&format!(" :{}", sexpr_window(window)));
            }
            out.push(')');
            out
        }
        ExprKind::Literal(literal) => match literal {
            Literal::Str(s) => format!("{s:?}"),
            Literal::Number(n) => number(*n),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => String::from("null"),
            Literal::Regex { pattern, flags } => format!("/{pattern}/{flags}"),
            Literal::List(items) => format!("[{}]", items.iter().map(sexpr).collect::<Vec<_>>().join(", ")),
        },
    }
}

fn join(parts: &[Expr]) -> String {
    parts.iter().map(sexpr).collect::<Vec<_>>().join(" ")
}

// ------------------------------------------------------------ the ok corpus

#[test]
fn every_ok_file_is_covered_by_a_test() {
    let mut files: Vec<String> = std::fs::read_dir("tests/corpus/ok")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".rubric"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "activation.rubric",
            "channels.rubric",
            "comments.rubric",
            "events.rubric",
            "goals.rubric",
            "operators.rubric",
            "ranges.rubric",
            "routing.rubric",
            "schema.rubric",
            "scores.rubric",
        ],
        "a file was added to tests/corpus/ok: give it a test below"
    );
}

#[test]
fn channels_and_exemptions_compile_to_reaches() {
    let plan = compile_ok("tests/corpus/ok/channels.rubric");
    assert_eq!(plan.channels, ["ads", "email", "sales", "sms", "in_app"]);
    let sms = Channel(3);
    let in_app = Channel(4);
    let suppression = |name: &str| plan.suppressions.iter().position(|s| s.name == name).unwrap();
    let (customer, opted_out, quiet) = (
        suppression("customer"),
        suppression("opted_out"),
        suppression("quiet"),
    );
    assert_eq!(
        plan.suppressions[opted_out].channels,
        Channel::EMAIL.bit() | sms.bit()
    );
    let reach = |name: &str| {
        plan.audiences
            .iter()
            .chain(&plan.workflows)
            .map(|t| (&t.name, &t.reach))
            .chain(plan.routes.iter().map(|r| (&r.name, &r.reach)))
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r.clone())
            .unwrap()
    };
    // `upsell` (ads) ignores `customer`: nothing else is on ads.
    let upsell = reach("upsell");
    assert_eq!(
        (upsell.channel, upsell.exempt_from.clone()),
        (Channel::ADS, vec![customer])
    );
    assert!(!upsell.blocked_by.contains(customer));
    // `sms_promo` (sms) ignores `quiet` but not `opted_out`.
    let sms_promo = reach("sms_promo");
    assert_eq!(sms_promo.channel, sms);
    assert!(sms_promo.blocked_by.contains(opted_out) && !sms_promo.blocked_by.contains(quiet));
    assert!(!sms_promo.blocked_by.contains(customer));
    // `onboarding` is on in_app, where no suppression applies.
    let onboarding = reach("onboarding");
    assert_eq!(onboarding.channel, in_app);
    assert!((0..plan.suppressions.len()).all(|i| !onboarding.blocked_by.contains(i)));
    // `welcome` (email) ignores both email suppressions it names.
    let welcome = reach("welcome");
    assert_eq!(welcome.exempt_from, vec![customer, opted_out]);
    assert!((0..plan.suppressions.len()).all(|i| !welcome.blocked_by.contains(i)));
    // The route on sms ignores `opted_out` and is still kept out by `quiet`.
    let route = reach("account_manager");
    assert_eq!(route.channel, sms);
    assert!(route.blocked_by.contains(quiet) && !route.blocked_by.contains(opted_out));
}

#[test]
fn routing_compiles_tables_picks_and_branch_slas() {
    use rubric::plan::Pick;
    let plan = compile_ok("tests/corpus/ok/routing.rubric");
    let tables: Vec<(&str, &str, bool, usize)> = plan
        .routing
        .tables
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.key_name.as_str(),
                t.ignoring_case,
                t.rows.len(),
            )
        })
        .collect();
    assert_eq!(
        tables,
        [
            ("territory", "country", true, 4),
            ("tier_queue", "segment_tier", false, 2)
        ]
    );
    let enterprise = &plan.routes[0];
    let labels: Vec<(&str, Option<f64>)> = enterprise
        .queue
        .iter()
        .map(|b| (b.queue.as_str(), b.sla_hours))
        .collect();
    assert_eq!(
        labels,
        [
            ("from territory_queue", None),
            ("enterprise_ae", Some(4.0)),
            ("territory", None),
            ("round robin [sdr_east, sdr_west, sdr central]", Some(48.0)),
        ]
    );
    assert!(matches!(enterprise.queue[2].pick, Pick::Table(0)));
    assert!(matches!(
        enterprise.assignee,
        Some(Pick::Property {
            fallback: Some(_),
            ..
        })
    ));
    assert!(matches!(plan.routes[1].queue[0].pick, Pick::Table(1)));
    assert!(plan.routes[2].assignee.is_none());
}

#[test]
fn goals_compile_to_their_outcome_types_horizon_and_value() {
    use rubric::plan::GoalValue;
    let plan = compile_ok("tests/corpus/ok/goals.rubric");
    let goals: Vec<(&str, Vec<&str>, i64, GoalValue)> = plan
        .goals
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                g.outcome_types.iter().map(String::as_str).collect(),
                g.horizon_micros / 86_400_000_000,
                g.value,
            )
        })
        .collect();
    assert_eq!(
        goals,
        [
            ("meeting", vec!["meeting_held"], 30, GoalValue::None),
            (
                "pipeline",
                vec!["opportunity_created"],
                90,
                GoalValue::SumOfAmount
            ),
        ]
    );
}

#[test]
fn reference_playbook_compiles() {
    let plan = compile_ok("rules");
    assert_eq!(counts(&plan), [2, 2, 1, 6, 3, 3, 1]);
    assert_eq!(plan.score_names().collect::<Vec<_>>(), ["fit", "intent"]);
    assert_eq!(plan.bands[0].values, ["hot", "warm", "cold"]);
    assert_eq!(plan.bands[1].values, ["A", "B", "C"]);
    assert_eq!(plan.routes[0].sla_hours, 24.0);
    assert_eq!(plan.routes[0].queue.len(), 3);
}

#[test]
fn ok_schema() {
    let plan = compile_ok("tests/corpus/ok/schema.rubric");
    assert_eq!(counts(&plan), [2, 0, 6, 1, 0, 0, 0]);
    assert_eq!(plan.scores[1].rules.len(), 5);
}

#[test]
fn ok_operators() {
    let plan = compile_ok("tests/corpus/ok/operators.rubric");
    assert_eq!(counts(&plan), [0, 0, 59, 0, 0, 0, 0]);
}

#[test]
fn ok_ranges() {
    use rubric::plan::{Cond, Window};
    let plan = compile_ok("tests/corpus/ok/ranges.rubric");
    assert_eq!(counts(&plan), [1, 2, 9, 0, 1, 1, 1]);
    let day = 86_400_000_000;
    let windows: Vec<Option<Window>> = plan.aggregates.iter().map(|a| a.window).collect();
    assert!(windows.contains(&Some(Window {
        min_age: 8 * day,
        max_age: 30 * day
    })));
    let mut kinds = Vec::new();
    plan.for_each_cond(&mut |c| match c {
        Cond::BandOrdered { mask, .. } => kinds.push(format!("band {mask:b}")),
        Cond::Between { time, .. } => kinds.push(format!("between {time}")),
        Cond::TimeWindow { window, .. } => kinds.push(format!("window {}", window.is_future())),
        _ => {}
    });
    kinds.sort();
    // `grade >= B2` accepts A, B1, B2 (bits 0..=2); `grade < A` all but A;
    // `B1 <= grade` is `grade >= B1`; `intent_level >= 2` is 3 and 2.
    assert_eq!(
        kinds,
        [
            "band 11",
            "band 11",
            "band 11",
            "band 111",
            "band 1110",
            "between false",
            "between false",
            "between false",
            "between false",
            "between true",
            "window false",
            "window true",
        ]
    );
}

#[test]
fn ok_events() {
    let plan = compile_ok("tests/corpus/ok/events.rubric");
    assert_eq!(counts(&plan), [0, 0, 19, 0, 0, 0, 0]);
    // One aggregate per segment, and a second one in `quiet`.
    assert_eq!(plan.aggregates.len(), 20);
    let kinds: Vec<AggregateKind> = plan.aggregates.iter().map(|a| a.kind).collect();
    for kind in [AggregateKind::Any, AggregateKind::Count, AggregateKind::Last] {
        assert!(kinds.contains(&kind), "no {kind:?} aggregate");
    }
    assert!(plan
        .aggregates
        .iter()
        .any(|a| a.filter.is_some() && a.window.is_some()));
    assert!(plan
        .aggregates
        .iter()
        .any(|a| a.filter.is_none() && a.window.is_none()));
}

#[test]
fn ok_scores() {
    let plan = compile_ok("tests/corpus/ok/scores.rubric");
    assert_eq!(counts(&plan), [3, 0, 0, 0, 0, 0, 0]);
    let intent = &plan.scores[1];
    assert_eq!((intent.low, intent.high), (-50.0, 100.0));
    assert_eq!(intent.rules.len(), 8);
    let each_rules: Vec<&rubric::plan::EachRule> = intent
        .rules
        .iter()
        .filter_map(|r| match &r.kind {
            rubric::plan::ScoreRuleKind::Each(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(each_rules.len(), 6);
    // "pricing": decay half-life 7 days, max 40.
    assert_eq!(each_rules[0].half_life_days, Some(7.0));
    assert_eq!(each_rules[0].max, Some(40.0));
    // "bounces": min only, negative points.
    assert_eq!(
        (each_rules[3].points, each_rules[3].min, each_rules[3].max),
        (-5.0, Some(-15.0), None)
    );
    // "all three": a half-life in hours.
    assert_eq!(each_rules[5].half_life_days, Some(1.5));
    assert_eq!((each_rules[5].min, each_rules[5].max), (Some(0.0), Some(5.0)));
    // First groups keep row labels when written.
    let fit = &plan.scores[0];
    let labels = |i: usize| match &fit.rules[i].kind {
        rubric::plan::ScoreRuleKind::First { rows } => {
            rows.iter().map(|r| r.label.clone()).collect::<Vec<_>>()
        }
        other => panic!("not a first group: {other:?}"),
    };
    assert_eq!(
        labels(0),
        [Some(String::from("senior")), Some(String::from("manager"))]
    );
    assert_eq!(labels(1), [None, None]);
}

#[test]
fn ok_activation() {
    let plan = compile_ok("tests/corpus/ok/activation.rubric");
    assert_eq!(counts(&plan), [2, 2, 8, 4, 3, 2, 4]);
    let channels: Vec<u64> = plan.suppressions.iter().map(|s| s.channels).collect();
    let all = Channel::ADS.bit() | Channel::EMAIL.bit() | Channel::SALES.bit();
    assert_eq!(
        channels,
        [
            all,
            Channel::EMAIL.bit() | Channel::SALES.bit(),
            Channel::EMAIL.bit(),
            Channel::ADS.bit()
        ]
    );
    assert!(plan.audiences.iter().all(|a| a.reach.channel == Channel::ADS));
    assert!(plan.workflows.iter().all(|w| w.reach.channel == Channel::EMAIL));
    let routes: Vec<(&str, f64, usize)> = plan
        .routes
        .iter()
        .map(|r| (r.name.as_str(), r.sla_hours, r.queue.len()))
        .collect();
    assert_eq!(
        routes,
        [
            ("route_hot_lead", 24.0, 3),
            ("route_enterprise", 48.0, 1),
            ("route_quick", 1.5, 1),
            ("route_slow", 168.0, 1),
        ]
    );
    assert_eq!(plan.routes[1].queue[0].queue, "enterprise_sales");
    assert!(plan.routes[1].queue[0].condition.is_none());
    assert_eq!(
        plan.routes[1].task,
        "Call the \"enterprise\" lead\tnow\\today\nplease"
    );
}

#[test]
fn ok_comments() {
    let plan = compile_ok("tests/corpus/ok/comments.rubric");
    assert_eq!(counts(&plan), [1, 1, 0, 0, 0, 0, 1]);
    assert_eq!(plan.scores[0].rules.len(), 2);
    assert_eq!(plan.routes[0].queue.len(), 2);
}

/// A rule set may span files; a comment-only or empty file is harmless.
#[test]
fn empty_and_comment_only_files_parse_to_nothing() {
    assert!(parse("").items.is_empty());
    assert!(parse("# only a comment").items.is_empty());
    assert!(parse("\n\n   # a comment\n\t\n").items.is_empty());
    assert!(parse("\r\n# windows line ends\r\n").items.is_empty());
}

// --------------------------------------------------------------- precedence

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(cond("a or b and c"), "(or a (and b c))");
    assert_eq!(cond("a and b or c"), "(or (and a b) c)");
    assert_eq!(cond("a or b or c"), "(or a b c)");
    assert_eq!(cond("a and b and c"), "(and a b c)");
    assert_eq!(cond("a and b or c and d or e"), "(or (and a b) (and c d) e)");
}

#[test]
fn not_binds_tighter_than_and() {
    assert_eq!(cond("not a and b"), "(and (not a) b)");
    assert_eq!(cond("a or not b"), "(or a (not b))");
    assert_eq!(cond("not not a"), "(not (not a))");
    assert_eq!(cond("not country == \"US\""), "(not (== country \"US\"))");
}

#[test]
fn parentheses_group() {
    assert_eq!(cond("(a or b) and c"), "(and (or a b) c)");
    assert_eq!(cond("not (a and b)"), "(not (and a b))");
    assert_eq!(cond("((a))"), "a");
    assert_eq!(
        cond("(fit >= 50 or intent >= 50) and not (owner is null)"),
        "(and (or (>= fit 50) (>= intent 50)) (not (is owner null)))"
    );
}

// ------------------------------------------------------------ arithmetic

#[test]
fn arithmetic_binds_tighter_than_tests_and_times_before_plus() {
    assert_eq!(cond("a + b * c > 3"), "(> (arith a + (arith b * c)) 3)");
    assert_eq!(cond("a * b + c >= 1"), "(>= (arith (arith a * b) + c) 1)");
    assert_eq!(cond("a - b - c == 0"), "(== (arith a - b - c) 0)");
    assert_eq!(cond("a / b * c < 2"), "(< (arith a / b * c) 2)");
    assert_eq!(
        cond("0.6 * fit + 0.4 * intent >= 50"),
        "(>= (arith (arith 0.6 * fit) + (arith 0.4 * intent)) 50)"
    );
    assert_eq!(
        cond("fit > intent * 2 - 10"),
        "(> fit (arith (arith intent * 2) - 10))"
    );
    // A sign belongs to a number literal: there is no unary minus.
    assert_eq!(cond("a - -1 > 0"), "(> (arith a - -1) 0)");
    assert_eq!(cond("a-1 > 0"), "(> (arith a - 1) 0)");
    assert_eq!(cond("days_since(x) / 7 > 2"), "(> (arith (days_since x) / 7) 2)");
}

#[test]
fn arithmetic_parentheses_and_condition_parentheses_both_parse() {
    assert_eq!(
        cond("(fit + intent) / 2 >= 50"),
        "(>= (arith (arith fit + intent) / 2) 50)"
    );
    assert_eq!(cond("(a > 3 and b)"), "(and (> a 3) b)");
    assert_eq!(cond("(a)"), "a");
    assert_eq!(cond("(x > 3) and y"), "(and (> x 3) y)");
    assert_eq!(cond("(a + b > 3 or c)"), "(or (> (arith a + b) 3) c)");
    assert_eq!(cond("((a + b) > 3 and c)"), "(and (> (arith a + b) 3) c)");
    assert_eq!(cond("a * (b - c) <= 1"), "(<= (arith a * (arith b - c)) 1)");
    assert_eq!(cond("((a + 1)) * 2 > 0"), "(> (arith (arith a + 1) * 2) 0)");
    assert_eq!(cond("not (a + 1) > 2"), "(not (> (arith a + 1) 2))");
    // A `where` group stays a condition: the comparison is on the count.
    assert_eq!(
        cond("count of v where (flag) >= 3"),
        "(>= (count v :where flag) 3)"
    );
}

// ------------------------------------------------------- keyword boundaries

#[test]
fn names_that_start_with_a_keyword_are_names() {
    assert_eq!(cond("industry in [\"x\"]"), "(in industry [\"x\"])");
    assert_eq!(cond("order == 1"), "(== order 1)");
    assert_eq!(cond("notes is null"), "(is notes null)");
    assert_eq!(cond("island and android"), "(and island android)");
    assert_eq!(cond("is_customer is true"), "(is is_customer true)");
    assert_eq!(cond("country == \"US\""), "(== country \"US\")");
    assert_eq!(cond("anyone or lastname or maxed"), "(or anyone lastname maxed)");
    assert_eq!(cond("within_days > 3"), "(> within_days 3)");
    assert_eq!(cond("scores >= 1"), "(>= scores 1)");
    assert_eq!(cond("_private is null"), "(is _private null)");
    assert_eq!(cond("true_north is false"), "(is true_north false)");
}

#[test]
fn names_that_contain_a_keyword_are_names() {
    assert_eq!(cond("domain_in == \"x\""), "(== domain_in \"x\")");
    assert_eq!(cond("x_and_y or y_or_z"), "(or x_and_y y_or_z)");
}

#[test]
fn keywords_cannot_be_names() {
    for text in [
        "segment in when a",
        "segment s when in == 1",
        "score first 0..100 { }",
        "band when { a otherwise }",
    ] {
        let errors = parse_errors(text);
        assert_eq!(errors[0].code, "rubric::syntax", "{text}");
    }
}

#[test]
fn keywords_need_no_space_before_punctuation() {
    assert_eq!(cond("not(a)"), "(not a)");
    assert_eq!(cond("a in[\"x\"]"), "(in a [\"x\"])");
}

// ----------------------------------------------------------------- literals

#[test]
fn string_escapes_are_unescaped() {
    assert_eq!(
        cond(r#"x == "a\"b\\c\nd\te""#),
        format!("(== x {:?})", "a\"b\\c\nd\te")
    );
    assert_eq!(cond(r#"x == """#), "(== x \"\")");
    assert_eq!(cond("x == \"café ✓\""), "(== x \"café ✓\")");
    assert_eq!(cond("x == \"# not a comment\""), "(== x \"# not a comment\")");
}

#[test]
fn unknown_escape_is_an_error_at_the_escape() {
    let text = r#"segment s when x == "a\qb""#;
    let errors = parse_errors(text);
    assert_eq!(errors[0].code, "rubric::invalid_escape");
    let start = errors[0].span.start as usize;
    assert_eq!(&text[start..errors[0].span.end as usize], "\\q");
}

#[test]
fn regex_literals() {
    assert_eq!(cond("u matches /^\\/pricing/"), "(matches u /^/pricing/)");
    assert_eq!(
        cond("u matches /^https?:\\/\\/a\\.io\\//i"),
        "(matches u /^https?://a\\.io//i)"
    );
    assert_eq!(cond("t matches /\\bvp\\b/i"), "(matches t /\\bvp\\b/i)");
    assert_eq!(cond("t matches /a\\\\/"), "(matches t /a\\\\/)");
    assert_eq!(cond("t matches /x/ ignoring case"), "(matches t /x/ :ci)");
    assert_eq!(cond("t matches \"^vp\""), "(matches t /^vp/)");
    assert_eq!(cond("t matches senior"), "(matches t senior)");
    // Flags are letters after the closing slash; checked by the compiler.
    assert_eq!(cond("t matches /x/gi"), "(matches t /x/gi)");
}

#[test]
fn regex_cannot_span_lines() {
    parse_errors("segment s when t matches /a\nb/");
}

#[test]
fn numbers_with_signs_and_fractions() {
    assert_eq!(cond("x >= -5"), "(>= x -5)");
    assert_eq!(cond("x >= +5"), "(>= x 5)");
    assert_eq!(cond("x < 2.5"), "(< x 2.5)");
    assert_eq!(cond("x in [-1, +2, 3.25]"), "(in x [-1, 2, 3.25])");
    assert_eq!(cond("-1 < x"), "(< -1 x)");

    let file =
        parse("score s -50..-10 {\n  \"a\" when x => -30\n  \"b\" when y => +10\n  \"c\" when z => 7\n}");
    let ItemKind::Score(score) = &file.items[0].kind else {
        panic!("not a score")
    };
    assert_eq!((score.low.value, score.high.value), (-50.0, -10.0));
    let points: Vec<f64> = score
        .rules
        .iter()
        .map(|r| match &r.body {
            RuleBody::When(w) => w.points.value,
            other => panic!("not a when rule: {other:?}"),
        })
        .collect();
    assert_eq!(points, [-30.0, 10.0, 7.0]);
}

#[test]
fn other_literals() {
    assert_eq!(cond("x == true"), "(== x true)");
    assert_eq!(cond("x != false"), "(!= x false)");
    assert_eq!(cond("x == null"), "(== x null)");
    assert_eq!(cond("x in []"), "(in x [])");
    assert_eq!(cond("x in [\"a\",]"), "(in x [\"a\"])");
    assert_eq!(cond("x in [a, true, null]"), "(in x [a, true, null])");
    assert_eq!(cond("true"), "true");
}

// ---------------------------------------------------------------- operators

#[test]
fn every_test_operator() {
    assert_eq!(cond("a == 1"), "(== a 1)");
    assert_eq!(cond("a != 1"), "(!= a 1)");
    assert_eq!(cond("a < 1"), "(< a 1)");
    assert_eq!(cond("a <= 1"), "(<= a 1)");
    assert_eq!(cond("a > 1"), "(> a 1)");
    assert_eq!(cond("a >= 1"), "(>= a 1)");
    assert_eq!(cond("a>=1"), "(>= a 1)");
    assert_eq!(cond("a == \"x\" ignoring case"), "(== a \"x\" :ci)");
    assert_eq!(cond("a in l"), "(in a l)");
    assert_eq!(cond("a not in l ignoring case"), "(not-in a l :ci)");
    assert_eq!(cond("a starts with \"x\""), "(starts-with a \"x\")");
    assert_eq!(cond("a ends with b ignoring case"), "(ends-with a b :ci)");
    assert_eq!(cond("a contains \"x\""), "(contains a \"x\")");
    assert_eq!(cond("a is null"), "(is a null)");
    assert_eq!(cond("a is not null"), "(is-not a null)");
    assert_eq!(cond("a is true"), "(is a true)");
    assert_eq!(cond("a is not false"), "(is-not a false)");
    assert_eq!(cond("readiness is hot"), "(is readiness hot)");
    assert_eq!(cond("readiness is not cold"), "(is-not readiness cold)");
    assert_eq!(cond("a within 7 days"), "(within a 7 days)");
}

#[test]
fn calls() {
    assert_eq!(cond("lower(a) == \"x\""), "(== (lower a) \"x\")");
    assert_eq!(cond("domain(email) in l"), "(in (domain email) l)");
    assert_eq!(
        cond("lower(trim(a)) contains \"x\""),
        "(contains (lower (trim a)) \"x\")"
    );
    assert_eq!(cond("days_since(a) > 3"), "(> (days_since a) 3)");
    // Arity is checked by the compiler, not the grammar.
    assert_eq!(cond("f() > 1"), "(> (f) 1)");
    assert_eq!(cond("f(a, \"b\") > 1"), "(> (f a \"b\") 1)");
}

// --------------------------------------------------------------- aggregates

#[test]
fn aggregates() {
    assert_eq!(cond("any page_view"), "(any page_view)");
    assert_eq!(
        cond("any page_view within 7 days"),
        "(any page_view :within 7 days)"
    );
    assert_eq!(
        cond("any form_submit where form == \"demo\" within 14 days"),
        "(any form_submit :where (== form \"demo\") :within 14 days)"
    );
    assert_eq!(
        cond("any page_view where (url starts with \"/p\" or url contains \"plans\")"),
        "(any page_view :where (or (starts-with url \"/p\") (contains url \"plans\")))"
    );
    assert_eq!(
        cond("count of page_view where url starts with \"/p\" within 30 days >= 2"),
        "(>= (count page_view :where (starts-with url \"/p\") :within 30 days) 2)"
    );
    assert_eq!(cond("count of email_click == 0"), "(== (count email_click) 0)");
    // `last` has no window of its own: `within` tests the time it returns.
    assert_eq!(
        cond("last email_open within 14 days"),
        "(within (last email_open) 14 days)"
    );
    assert_eq!(
        cond("last page_view where url == \"/p\" within 3 days"),
        "(within (last page_view :where (== url \"/p\")) 3 days)"
    );
    assert_eq!(
        cond("days_since(last page_view) <= 7"),
        "(<= (days_since (last page_view)) 7)"
    );
    assert_eq!(
        cond("not any a and count of b > 1"),
        "(and (not (any a)) (> (count b) 1))"
    );
}

// ---------------------------------------------------------------- durations

#[test]
fn durations() {
    assert_eq!(cond("a within 7 days"), "(within a 7 days)");
    assert_eq!(cond("a within 1.5 hours"), "(within a 1.5 hours)");
    assert_eq!(cond("a within 1 week"), "(within a 1 week)");
    assert_eq!(cond("a within 90   minutes"), "(within a 90 minutes)");
    // The unit is any word; the compiler checks it (`rubric::invalid_duration`).
    assert_eq!(cond("a within 7 dayz"), "(within a 7 dayz)");
    // A unit glued to the number is not a duration.
    parse_errors("segment s when a within 7days");
}

#[test]
fn modifiers_and_slas_carry_durations() {
    let file = parse(
        "score s 0..100 {\n  \"r\" each page_view within 30 days => +10 decay half-life 7 days, max 40, min -5\n}\n\
         route r when a {\n  task \"t\"\n  sla 24 hours\n  queue q\n}",
    );
    let ItemKind::Score(score) = &file.items[0].kind else {
        panic!("not a score")
    };
    let RuleBody::Each(each) = &score.rules[0].body else {
        panic!("not an each rule")
    };
    assert_eq!(each.event.name, "page_view");
    let window = each.window.as_ref().unwrap();
    let WindowKind::Within(window) = &window.kind else {
        panic!("not a within window")
    };
    assert_eq!((window.amount, window.unit.name.as_str()), (30.0, "days"));
    let modifiers: Vec<String> = each
        .modifiers
        .iter()
        .map(|m| match &m.kind {
            ModifierKind::Decay(d) => format!("decay {} {}", number(d.amount), d.unit.name),
            ModifierKind::Max(n) => format!("max {}", number(n.value)),
            ModifierKind::Min(n) => format!("min {}", number(n.value)),
        })
        .collect();
    assert_eq!(modifiers, ["decay 7 days", "max 40", "min -5"]);

    let ItemKind::Route(route) = &file.items[1].kind else {
        panic!("not a route")
    };
    let fields: Vec<String> = route
        .fields
        .iter()
        .map(|f| match &f.kind {
            RouteFieldKind::Task(t) => format!("task {:?}", t.value),
            RouteFieldKind::Sla(d) => format!("sla {} {}", number(d.amount), d.unit.name),
            RouteFieldKind::Queue(q) => match &q.pick.kind {
                rubric::syntax::ast::PickKind::Name(n) => format!("queue {}", n.name),
                other => format!("queue {other:?}"),
            },
            RouteFieldKind::QueueFirst(b) => format!("queue first ({} branches)", b.len()),
            RouteFieldKind::Assign(_) => String::from("assign"),
        })
        .collect();
    assert_eq!(fields, ["task \"t\"", "sla 24 hours", "queue q"]);
}

// -------------------------------------------------------------------- items

#[test]
fn schema_items() {
    let file = parse(
        "properties {\n  a: text\n  b: text one of [\"x\", \"y\"]\n}\n\
         events {\n  page_view { url: text }\n  webinar_attended\n  empty {}\n}",
    );
    let ItemKind::Properties(props) = &file.items[0].kind else {
        panic!("not properties")
    };
    assert_eq!(props.len(), 2);
    assert!(props[0].allowed.is_none());
    assert_eq!(props[1].allowed.as_ref().unwrap().len(), 2);
    let ItemKind::Events(events) = &file.items[1].kind else {
        panic!("not events")
    };
    let shapes: Vec<(String, Option<usize>)> = events
        .iter()
        .map(|e| (e.name.name.clone(), e.props.as_ref().map(Vec::len)))
        .collect();
    assert_eq!(
        shapes,
        [
            (String::from("page_view"), Some(1)),
            (String::from("webinar_attended"), None),
            (String::from("empty"), Some(0)),
        ]
    );
}

#[test]
fn first_groups_with_and_without_row_labels() {
    let file = parse("score s 0..100 {\n  \"g\" first {\n    \"a\" when x => +2\n    when y => +1\n  }\n}");
    let ItemKind::Score(score) = &file.items[0].kind else {
        panic!("not a score")
    };
    let RuleBody::First(rows) = &score.rules[0].body else {
        panic!("not a first group")
    };
    let labels: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.label.as_ref().map(|l| l.value.as_str()))
        .collect();
    assert_eq!(labels, [Some("a"), None]);
    assert_eq!(score.rules[0].label.value, "g");
}

#[test]
fn bands_and_queues_are_branches() {
    let file = parse(
        "band b {\n  hot when x\n  cold otherwise\n}\n\
         route r when a {\n  queue first {\n    q1 when y\n    q2 otherwise\n  }\n}",
    );
    let ItemKind::Band(band) = &file.items[0].kind else {
        panic!("not a band")
    };
    let branches: Vec<(&str, bool)> = band
        .branches
        .iter()
        .map(|b| (b.value.name.as_str(), b.condition.is_some()))
        .collect();
    assert_eq!(branches, [("hot", true), ("cold", false)]);
    let ItemKind::Route(route) = &file.items[1].kind else {
        panic!("not a route")
    };
    let RouteFieldKind::QueueFirst(queue) = &route.fields[0].kind else {
        panic!("not a first queue")
    };
    assert_eq!(queue.len(), 2);
}

#[test]
fn suppressions_list_channels_in_order() {
    let file = parse("suppress s on sales, ads , email when x");
    let ItemKind::Suppress(s) = &file.items[0].kind else {
        panic!("not a suppression")
    };
    let channels: Vec<&str> = s.channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(channels, ["sales", "ads", "email"]);
}

#[test]
fn constants_hold_any_literal() {
    let file =
        parse("const a = \"x\"\nconst b = [\"x\", \"y\"]\nconst c = /re/i\nconst d = -3\nconst e = true");
    let values: Vec<String> = file
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Const(c) => format!("{} = {}", c.name.name, sexpr(&c.value)),
            other => panic!("not a const: {other:?}"),
        })
        .collect();
    assert_eq!(
        values,
        [
            "a = \"x\"",
            "b = [\"x\", \"y\"]",
            "c = /re/i",
            "d = -3",
            "e = true"
        ]
    );
}

// ----------------------------------------------------------- error recovery

#[test]
fn recovery_reports_every_broken_item_and_keeps_the_good_ones() {
    let text = "score a 0..100 { \"x\" when y => }\n\
                segment b when y\n\
                score s { }\n\
                audience c when z";
    let (file, errors) = parse_file(FileId(0), text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors.iter().all(|e| e.code == "rubric::syntax"));
    let names: Vec<String> = file
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Segment(s) => s.name.name.clone(),
            ItemKind::Audience(t) => t.name.name.clone(),
            other => panic!("unexpected item {other:?}"),
        })
        .collect();
    assert_eq!(names, ["b", "c"]);
}

#[test]
fn spans_point_into_the_file() {
    let text = "# header\nsegment big when company_size >= 200\n";
    let file = parse(text);
    let ItemKind::Segment(s) = &file.items[0].kind else {
        panic!("not a segment")
    };
    let at = |span: rubric::source::Span| &text[span.start as usize..span.end as usize];
    assert_eq!(at(s.name.span), "big");
    let ExprKind::Compare { left, right, .. } = &s.condition.kind else {
        panic!("not a comparison")
    };
    assert_eq!(at(left.span), "company_size");
    assert_eq!(at(right.span), "200");
    assert_eq!(at(s.condition.span).trim_end(), "company_size >= 200");
}

// ------------------------------------------------------------ nesting depth

/// Runs `work` on a thread with a 2 MiB stack (the default of spawned
/// threads, a quarter of the main thread's), to prove the stack it needs is
/// bounded. An overflow aborts the test binary.
fn on_a_two_mib_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    on_a_stack_of(2 << 20, work)
}

fn on_a_stack_of<T: Send + 'static>(bytes: usize, work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(bytes)
        .spawn(work)
        .unwrap()
        .join()
        .unwrap()
}

fn one_file(text: String) -> Sources {
    let mut sources = Sources::default();
    sources.add(rubric::source::SourceFile::new("deep.rubric", text));
    sources
}

/// Issue 17, item 7: 3,000 parentheses, 10,000 `not`s and 10,000 nested
/// `lower(` overflowed the stack in `Builder::build_condition` (SIGABRT).
/// Each is now one `rubric::nesting_too_deep` error at the token that crosses
/// the limit, and the next item is still parsed.
#[test]
fn deep_nesting_is_one_clear_error_not_a_stack_overflow() {
    let prefix = "segment s when ";
    let limit = rubric::syntax::MAX_NESTING_DEPTH;
    // Each case with the 1-based column of the token that crosses the limit.
    let cases = [
        (
            format!("{prefix}{}a == 1{}", "(".repeat(3_000), ")".repeat(3_000)),
            prefix.len() + limit + 1,
        ),
        (
            format!("{prefix}{}a == 1", "not ".repeat(10_000)),
            prefix.len() + 4 * limit + 1,
        ),
        (
            format!(
                "{prefix}{}email{} == \"x\"",
                "lower(".repeat(10_000),
                ")".repeat(10_000)
            ),
            prefix.len() + 6 * limit + "lower".len() + 1,
        ),
        // Arithmetic parentheses count like condition parentheses.
        (
            format!("{prefix}{}a{} > 1", "(".repeat(3_000), " + 1)".repeat(3_000)),
            prefix.len() + limit + 1,
        ),
        // Regression: the scan read the `/` of a division as the start of a
        // regular expression and skipped the parentheses after it.
        (
            format!(
                "{prefix}a / b > 1 or {}a == 1{}",
                "(".repeat(3_000),
                ")".repeat(3_000)
            ),
            prefix.len() + "a / b > 1 or ".len() + limit + 1,
        ),
    ];
    for (condition, column) in cases {
        let text = format!("{condition}\nsegment t when b == 1 and\n");
        let (diagnostics, formatted) = on_a_two_mib_stack(move || {
            let sources = one_file(text.clone());
            let diagnostics = compile(&sources).expect_err("too deep");
            let rendered = rubric::diagnostics::render(&diagnostics, &sources, false);
            let formatted = rubric::fmt::format_source(&text).is_err();
            let located: Vec<(String, String)> = diagnostics
                .iter()
                .map(|d| (d.code.to_string(), sources.location(d.span).to_string()))
                .collect();
            assert!(
                rendered.contains("conditions nest more than 256 levels deep"),
                "{rendered}"
            );
            (located, formatted)
        });
        assert!(formatted, "fmt refuses the file");
        // The deep item, then the syntax error of the next one: one pass.
        assert_eq!(
            diagnostics,
            [
                (
                    String::from("rubric::nesting_too_deep"),
                    format!("deep.rubric:1:{column}")
                ),
                (String::from("rubric::syntax"), String::from("deep.rubric:2:25")),
            ]
        );
    }
}

/// At the limit, every recursive pass fits the 8 MiB stack of the main
/// thread (where `rubric` parses and compiles) in a debug build, where
/// frames are far larger than in a release build: parse, compile with lints,
/// format, evaluate and explain.
#[test]
fn nesting_at_the_limit_compiles_formats_evaluates_and_explains() {
    let depth = rubric::syntax::MAX_NESTING_DEPTH;
    let prefix = "segment s when ";
    let conditions = [
        format!("{prefix}{}a == 1{}", "(".repeat(depth), ")".repeat(depth)),
        format!("{prefix}{}a == 1", "not ".repeat(depth)),
        format!(
            "{prefix}{}email{} == \"x\"",
            "lower(".repeat(depth),
            ")".repeat(depth)
        ),
        format!(
            "{prefix}{}(a == 1){}",
            "not (".repeat(depth / 2 - 1),
            ")".repeat(depth / 2 - 1)
        ),
        // Arithmetic: nested parentheses at the limit, and a long flat chain
        // (one node, whatever its length).
        format!("{prefix}{}a{} > 1", "(".repeat(depth), " * 2 + 1)".repeat(depth)),
        format!("{prefix}a{} > 1", " + 1 * 2".repeat(10_000)),
    ];
    for condition in conditions {
        let text = format!("{condition}\naudience x when s\n");
        on_a_stack_of(8 << 20, move || {
            let sources = one_file(text.clone());
            let compiled = rubric::compile::compile_and_lint(&sources).unwrap_or_else(|d| panic!("{d:#?}"));
            let formatted = rubric::fmt::format_source(&text).unwrap_or_else(|d| panic!("{d:#?}"));
            assert!(compile(&one_file(formatted)).is_ok());
            let line = r#"{"id":"c1","email":"X","properties":{"a":1}}"#;
            let contact = rubric::snapshot::decode_line(&compiled.plan.decode, line)
                .unwrap()
                .unwrap();
            let _ = rubric::eval::evaluate(&compiled.plan, &contact, 0);
            let (_, trace) = rubric::trace::explain(&compiled.plan, &sources, &contact, 0);
            assert!(!rubric::trace::render::text(&trace, false).is_empty());
            assert!(serde_json::to_string(&trace).is_ok());
        });
    }
}

/// Issue 13's teaching hints read the text around the error: at the end of
/// the file, at its start and beside non-ASCII text they must still give
/// their advice (or none), never panic.
#[test]
fn teaching_hints_hold_at_the_edges_of_the_text() {
    let cases: &[(&str, Option<&str>)] = &[
        ("segment s when trial_ends_at within -", None),
        (
            "segment s when trial_ends_at within -3 days",
            Some("`trial_ends_at within next 3 days`"),
        ),
        (
            "segment s when `fin é` within -2 weeks",
            Some("`` `fin é` within next 2 weeks ``"),
        ),
        ("segment s when `niveau é` is 1st", Some("`niveau é` is `1st`")),
        (
            "segment s when days_since(x) > 7 days",
            Some("`days_since(x) > 7`"),
        ),
        (
            "segment s when days_since(x) > 36 hours",
            Some("`days_since(x) > 1.5`"),
        ),
        ("segment s when (x) > 7 days", None),
        (
            "segment s when e within 7 days >=",
            Some("`count of e within 7 days >= 3`"),
        ),
        (
            "score s 0..1 {\n  \"v\" each e => +1 max 1 decay",
            Some("`max 1, decay`"),
        ),
        ("score s 0..1 {\n  \"v\" when x > 1 max 1", None),
        ("band b {\n  1st", Some("`` `1st` when … ``")),
        (
            "route r when x {\n  queue first {\n    sla",
            Some("write `sla` beside `task`"),
        ),
    ];
    for (text, wanted) in cases {
        let diagnostics = parse_errors(text);
        let help = diagnostics
            .first()
            .and_then(|d| d.help.clone())
            .unwrap_or_default();
        match wanted {
            Some(part) => assert!(help.contains(part), "{text:?}: {help:?}"),
            None => assert!(
                !help.contains("days_since(") && !help.contains("modifiers"),
                "{text:?}: {help:?}"
            ),
        }
    }
}
