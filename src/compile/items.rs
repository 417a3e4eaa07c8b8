//! Compiling items (scores, bands, segments, suppressions, audiences,
//! workflows, routes) and ordering them by dependency.

use std::collections::HashMap;

use super::expr::{duration_micros, fmt_number, Ctx};
use super::symbols::{Symbol, Symbols};
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::plan::{self, BandId, Channel, Cond, ScoreId, SegmentId, Step};
use crate::snapshot::{DeclaredType, DecodeSpec};
use crate::source::Span;
use crate::syntax::ast::{self, CompareOp, ItemKind};

pub struct Compiler<'a> {
    pub(super) items: Vec<&'a ast::Item>,
    pub(super) symbols: Symbols,
    pub(super) errors: Vec<Diagnostic>,
    pub(super) aggregates: Vec<plan::Aggregate>,
    /// Scores, bands and segments read by the item being compiled.
    pub(super) deps: Vec<Step>,
    property_slots: HashMap<String, usize>,
    property_names: Vec<String>,
    property_types: Vec<Option<DeclaredType>>,
    event_slots: HashMap<String, usize>,
    event_names: Vec<String>,
    event_prop_slots: Vec<HashMap<String, usize>>,
    event_prop_names: Vec<Vec<String>>,
    /// Every event type named by an `each` rule or aggregate anywhere.
    used_events: Vec<String>,
    /// Property slots this rule set itself reads (the others come from a seed).
    own_properties: std::collections::HashSet<String>,
    /// Event slots below this number come from a seed ([`Compiler::seed`]).
    seeded_events: usize,
    /// Regular expressions compiled so far (the next [`plan::PlanRegex::index`]).
    pub(super) regex_count: usize,
}

impl<'a> Compiler<'a> {
    pub fn new(items: &[&'a ast::Item]) -> Compiler<'a> {
        let mut errors = Vec::new();
        let symbols = Symbols::collect(items, &mut errors);
        Compiler {
            items: items.to_vec(),
            symbols,
            errors,
            aggregates: Vec::new(),
            deps: Vec::new(),
            property_slots: HashMap::new(),
            property_names: Vec::new(),
            property_types: Vec::new(),
            event_slots: HashMap::new(),
            event_names: Vec::new(),
            event_prop_slots: Vec::new(),
            event_prop_names: Vec::new(),
            used_events: used_events(items),
            own_properties: std::collections::HashSet::new(),
            seeded_events: 0,
            regex_count: 0,
        }
    }

    /// Pre-fills the property, event and event-prop slots from another plan's
    /// [`DecodeSpec`] (`rubric diff`), so that this plan's spec is a superset
    /// with the same slot numbers for shared names. Seeded names change no
    /// diagnostic: they count as this rule set's own only once it reads them.
    pub fn seed(&mut self, seed: &DecodeSpec) {
        let mut properties: Vec<(&String, usize)> = seed.properties.iter().map(|(k, v)| (k, *v)).collect();
        properties.sort_by_key(|(_, slot)| *slot);
        for (name, slot) in properties {
            // Slots are dense; anything else is left out rather than misnumbered.
            if slot != self.property_names.len() {
                continue;
            }
            self.property_slots.insert(name.clone(), slot);
            self.property_names.push(name.clone());
            self.property_types
                .push(seed.property_types.get(slot).copied().flatten());
        }
        let mut events: Vec<(&String, usize)> = seed.event_types.iter().map(|(k, v)| (k, *v)).collect();
        events.sort_by_key(|(_, slot)| *slot);
        for (name, slot) in events {
            if slot != self.event_names.len() {
                continue;
            }
            let mut props: Vec<(&String, usize)> = seed
                .event_props
                .get(slot)
                .map(|m| m.iter().map(|(k, v)| (k, *v)).collect())
                .unwrap_or_default();
            props.sort_by_key(|(_, s)| *s);
            let mut prop_slots = HashMap::new();
            let mut prop_names = Vec::new();
            for (prop, s) in props {
                if s == prop_names.len() {
                    prop_slots.insert(prop.clone(), s);
                    prop_names.push(prop.clone());
                }
            }
            self.event_slots.insert(name.clone(), slot);
            self.event_names.push(name.clone());
            self.event_prop_slots.push(prop_slots);
            self.event_prop_names.push(prop_names);
        }
        self.seeded_events = self.event_names.len();
    }

    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.errors
    }

    pub(super) fn has_property_slot(&self, name: &str) -> bool {
        self.own_properties.contains(name)
    }

    pub(super) fn property_slot(&mut self, name: &str, ty: Option<DeclaredType>) -> usize {
        if !self.own_properties.contains(name) {
            self.own_properties.insert(name.to_string());
        }
        if let Some(&slot) = self.property_slots.get(name) {
            // A seeded slot keeps the seed's declared type unless this rule set declares one.
            if let (Some(ty), Some(slot_ty)) = (ty, self.property_types.get_mut(slot)) {
                *slot_ty = Some(ty);
            }
            return slot;
        }
        let slot = self.property_names.len();
        self.property_slots.insert(name.to_string(), slot);
        self.property_names.push(name.to_string());
        self.property_types.push(ty);
        slot
    }

    /// The slot of an event type; reports a type missing from a declared `events` block.
    pub(super) fn event_slot(&mut self, event: &ast::Ident) -> Option<usize> {
        if let Some(events) = &self.symbols.events {
            if !events.contains_key(&event.name) {
                let mut names: Vec<&str> = events.keys().map(String::as_str).collect();
                names.sort_unstable();
                let help = match did_you_mean(&event.name, names.iter().copied()) {
                    Some(e) => format!("did you mean `{e}`? declared events: {}", names.join(", ")),
                    None => format!(
                        "declare it in the `events` block; declared events: {}",
                        names.join(", ")
                    ),
                };
                self.errors.push(
                    Diagnostic::error(
                        "rubric::unknown_event",
                        event.span,
                        format!("unknown event type `{}`", event.name),
                    )
                    .with_label("not declared")
                    .with_help(help),
                );
                return None;
            }
        }
        if let Some(&slot) = self.event_slots.get(&event.name) {
            return Some(slot);
        }
        let slot = self.event_names.len();
        self.event_slots.insert(event.name.clone(), slot);
        self.event_names.push(event.name.clone());
        self.event_prop_slots.push(HashMap::new());
        self.event_prop_names.push(Vec::new());
        Some(slot)
    }

    /// Whether `name` is an event type used anywhere in the rule set.
    pub(super) fn is_known_event(&self, name: &str) -> bool {
        self.event_slots
            .get(name)
            .is_some_and(|&slot| slot >= self.seeded_events)
            || self.used_events.iter().any(|e| e == name)
    }

    pub(super) fn event_prop_slot(&mut self, event: usize, name: &str) -> usize {
        let (Some(slots), Some(names)) = (
            self.event_prop_slots.get_mut(event),
            self.event_prop_names.get_mut(event),
        ) else {
            return 0;
        };
        if let Some(&slot) = slots.get(name) {
            return slot;
        }
        let slot = names.len();
        slots.insert(name.to_string(), slot);
        names.push(name.to_string());
        slot
    }

    /// Compiles every item; `None` when anything failed (errors are kept).
    pub fn run(&mut self, items: &[&'a ast::Item]) -> Option<plan::Plan> {
        let mut scores = Vec::new();
        let mut bands = Vec::new();
        let mut segments = Vec::new();
        let mut suppressions = Vec::new();
        let mut audiences = Vec::new();
        let mut workflows = Vec::new();
        let mut routes = Vec::new();
        let mut deps: HashMap<Step, (Vec<Step>, Span)> = HashMap::new();
        let mut failed = false;
        for item in items {
            self.deps.clear();
            match &item.kind {
                ItemKind::Properties(_) | ItemKind::Events(_) => {}
                ItemKind::Const(c) => self.check_const(c),
                ItemKind::Segment(s) => {
                    let Some(Symbol::Segment(id)) = self.symbol_of(&s.name) else {
                        continue;
                    };
                    match self.condition(&s.condition, Ctx::CONTACT) {
                        Some(condition) => segments.push(plan::Segment {
                            name: s.name.name.clone(),
                            condition,
                            span: s.name.span,
                        }),
                        None => failed = true,
                    }
                    deps.insert(Step::Segment(id), (std::mem::take(&mut self.deps), s.name.span));
                }
                ItemKind::Score(s) => {
                    let Some(Symbol::Score(id)) = self.symbol_of(&s.name) else {
                        continue;
                    };
                    match self.score(s) {
                        Some(score) => scores.push(score),
                        None => failed = true,
                    }
                    deps.insert(Step::Score(id), (std::mem::take(&mut self.deps), s.name.span));
                }
                ItemKind::Band(b) => {
                    let Some(Symbol::Band(id)) = self.symbol_of(&b.name) else {
                        continue;
                    };
                    match self.band(b, id) {
                        Some(band) => bands.push(band),
                        None => failed = true,
                    }
                    deps.insert(Step::Band(id), (std::mem::take(&mut self.deps), b.name.span));
                }
                ItemKind::Suppress(s) => {
                    if self.symbol_of(&s.name).is_none() {
                        continue;
                    }
                    let channels = self.channels(&s.channels);
                    let condition = self.condition(&s.condition, Ctx::CONTACT);
                    match (channels, condition) {
                        (Some(channels), Some(condition)) => suppressions.push(plan::Suppression {
                            name: s.name.name.clone(),
                            channels,
                            condition,
                            span: s.name.span,
                        }),
                        _ => failed = true,
                    }
                }
                ItemKind::Audience(t) | ItemKind::Workflow(t) => {
                    if self.symbol_of(&t.name).is_none() {
                        continue;
                    }
                    let (channel, list) = if matches!(item.kind, ItemKind::Audience(_)) {
                        (Channel::Ads, &mut audiences)
                    } else {
                        (Channel::Email, &mut workflows)
                    };
                    match self.condition(&t.condition, Ctx::CONTACT) {
                        Some(condition) => list.push(plan::Target {
                            name: t.name.name.clone(),
                            channel,
                            condition,
                            span: t.name.span,
                        }),
                        None => failed = true,
                    }
                }
                ItemKind::Route(r) => {
                    if self.symbol_of(&r.name).is_none() {
                        continue;
                    }
                    match self.route(r) {
                        Some(route) => routes.push(route),
                        None => failed = true,
                    }
                }
            }
        }
        let order = self.order(&deps);
        if failed || self.errors.iter().any(Diagnostic::is_error) {
            return None;
        }
        let order = order?;
        let slot_map = |m: &HashMap<String, usize>| m.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let decode = DecodeSpec {
            properties: slot_map(&self.property_slots),
            property_types: self.property_types.clone(),
            event_types: slot_map(&self.event_slots),
            event_props: self.event_prop_slots.iter().map(slot_map).collect(),
        };
        Some(plan::Plan {
            decode,
            property_names: self.property_names.clone(),
            event_names: self.event_names.clone(),
            event_prop_names: self.event_prop_names.clone(),
            scores,
            bands,
            segments,
            aggregates: std::mem::take(&mut self.aggregates),
            suppressions,
            audiences,
            workflows,
            routes,
            order,
            regex_count: self.regex_count,
        })
    }

    /// The symbol a declaration registered (none when it was a duplicate).
    fn symbol_of(&self, name: &ast::Ident) -> Option<Symbol> {
        let declared = self.symbols.names.get(&name.name)?;
        (declared.span == name.span).then_some(declared.symbol)
    }

    fn check_const(&mut self, c: &ast::ConstDecl) {
        if let ast::ExprKind::Literal(ast::Literal::List(items)) = &c.value.kind {
            for item in items {
                if let ast::ExprKind::Literal(ast::Literal::List(_) | ast::Literal::Regex { .. }) = item.kind
                {
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::type_mismatch",
                            item.span,
                            "a list element must be a single value",
                        )
                        .with_label("not a single value"),
                    );
                }
            }
        }
        if let ast::ExprKind::Literal(ast::Literal::Regex { pattern, flags }) = &c.value.kind {
            // Checked here so that a bad pattern is reported even if unused.
            if let Err(detail) = super::expr::check_regex(pattern, flags.contains('i')) {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::invalid_regex",
                        c.value.span,
                        format!("invalid regular expression: {detail}"),
                    )
                    .with_label("does not compile")
                    .with_help("rubric uses Rust regex syntax (https://docs.rs/regex)"),
                );
            }
        }
    }

    fn score(&mut self, s: &ast::ScoreDecl) -> Option<plan::Score> {
        let mut ok = true;
        if s.low.value > s.high.value {
            self.errors.push(
                Diagnostic::error(
                    "rubric::inverted_range",
                    s.range_span,
                    format!(
                        "score `{}` has an inverted range: {} is above {}",
                        s.name.name,
                        fmt_number(s.low.value),
                        fmt_number(s.high.value)
                    ),
                )
                .with_label("low end above high end")
                .with_help(format!(
                    "write the low end first: `{}..{}`",
                    fmt_number(s.high.value),
                    fmt_number(s.low.value)
                )),
            );
            ok = false;
        } else if s.low.value == s.high.value {
            self.errors.push(
                Diagnostic::error(
                    "rubric::empty_range",
                    s.range_span,
                    format!(
                        "score `{}` has an empty range: it could only ever be {}",
                        s.name.name,
                        fmt_number(s.low.value)
                    ),
                )
                .with_label("empty range")
                .with_help("give the score room to move, e.g. `0..100`"),
            );
            ok = false;
        }
        let mut labels: HashMap<&str, Span> = HashMap::new();
        let mut rules = Vec::new();
        for rule in &s.rules {
            if let Some(first) = labels.get(rule.label.value.as_str()) {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::duplicate_name",
                        rule.label.span,
                        format!(
                            "score `{}` already has a rule \"{}\"",
                            s.name.name, rule.label.value
                        ),
                    )
                    .with_label("second rule with this label")
                    .with_note(*first, "first used here")
                    .with_help("labels name rules in traces; give each rule its own"),
                );
                ok = false;
            } else {
                labels.insert(&rule.label.value, rule.label.span);
            }
            let kind = match &rule.body {
                ast::RuleBody::When(w) => {
                    self.no_modifiers(&w.modifiers);
                    self.condition(&w.condition, Ctx::CONTACT)
                        .map(|condition| plan::ScoreRuleKind::When {
                            condition,
                            points: w.points.value,
                        })
                }
                ast::RuleBody::First(rows) => {
                    let mut out = Vec::new();
                    let mut rows_ok = true;
                    for row in rows {
                        self.no_modifiers(&row.rule.modifiers);
                        match self.condition(&row.rule.condition, Ctx::CONTACT) {
                            Some(condition) => out.push(plan::FirstRow {
                                label: row.label.as_ref().map(|l| l.value.clone()),
                                condition,
                                points: row.rule.points.value,
                                span: row.span,
                            }),
                            None => rows_ok = false,
                        }
                    }
                    rows_ok.then_some(plan::ScoreRuleKind::First { rows: out })
                }
                ast::RuleBody::Each(e) => self.each_rule(e).map(plan::ScoreRuleKind::Each),
            };
            match kind {
                Some(kind) => rules.push(plan::ScoreRule {
                    label: rule.label.value.clone(),
                    kind,
                    span: rule.span,
                }),
                None => ok = false,
            }
        }
        ok.then_some(plan::Score {
            name: s.name.name.clone(),
            low: s.low.value,
            high: s.high.value,
            rules,
            span: s.name.span,
        })
    }

    /// Modifiers only make sense on `each` rules.
    fn no_modifiers(&mut self, modifiers: &[ast::Modifier]) {
        for m in modifiers {
            let what = match m.kind {
                ast::ModifierKind::Decay(_) => "decay",
                ast::ModifierKind::Max(_) => "max",
                ast::ModifierKind::Min(_) => "min",
            };
            self.errors.push(
                Diagnostic::error(
                    "rubric::misplaced_modifier",
                    m.span,
                    format!("`{what}` only applies to `each` rules"),
                )
                .with_label("a `when` rule gives fixed points")
                .with_help("remove it, or count events with `each <event> … => +N`"),
            );
        }
    }

    fn each_rule(&mut self, e: &ast::EachRule) -> Option<plan::EachRule> {
        let event = self.event_slot(&e.event);
        let filter = match (&e.filter, event) {
            (Some(f), Some(slot)) => Some(self.condition(
                f,
                Ctx {
                    event: Some((slot, e.event.name.as_str())),
                },
            )),
            _ => None,
        };
        let window = match &e.window {
            Some(w) => Some(duration_micros(w, &mut self.errors)),
            None => None,
        };
        let mut half_life = None;
        let mut max = None;
        let mut min = None;
        let mut ok = true;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for m in &e.modifiers {
            let key = match m.kind {
                ast::ModifierKind::Decay(_) => "decay",
                ast::ModifierKind::Max(_) => "max",
                ast::ModifierKind::Min(_) => "min",
            };
            if let Some(first) = seen.insert(key, m.span) {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::duplicate_modifier",
                        m.span,
                        format!("`{key}` is given twice"),
                    )
                    .with_label("second one")
                    .with_note(first, "first one")
                    .with_help("keep one"),
                );
                ok = false;
                continue;
            }
            match &m.kind {
                ast::ModifierKind::Decay(d) => match duration_micros(d, &mut self.errors) {
                    Some(micros) if micros > 0 => {
                        half_life = Some(micros as f64 / plan::MICROS_PER_DAY as f64)
                    }
                    Some(_) => {
                        self.errors.push(
                            Diagnostic::error(
                                "rubric::invalid_duration",
                                d.span,
                                "a half-life must be longer than zero",
                            )
                            .with_label("zero half-life")
                            .with_help("write e.g. `decay half-life 7 days`, or remove the decay"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                ast::ModifierKind::Max(n) => max = Some(n.value),
                ast::ModifierKind::Min(n) => min = Some(n.value),
            }
        }
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                let span = e
                    .modifiers
                    .iter()
                    .filter(|m| matches!(m.kind, ast::ModifierKind::Max(_) | ast::ModifierKind::Min(_)))
                    .map(|m| m.span)
                    .reduce(Span::to)
                    .unwrap_or(e.span);
                self.errors.push(
                    Diagnostic::error(
                        "rubric::inverted_range",
                        span,
                        format!("`min {}` is above `max {}`", fmt_number(lo), fmt_number(hi)),
                    )
                    .with_label("no total satisfies both")
                    .with_help("swap them"),
                );
                ok = false;
            }
        }
        let event = event?;
        let filter = match filter {
            Some(Some(f)) => Some(f),
            Some(None) => return None,
            None => None,
        };
        let window = match window {
            Some(Some(w)) => Some(w),
            Some(None) => return None,
            None => None,
        };
        ok.then_some(plan::EachRule {
            event,
            filter,
            window,
            points: e.points.value,
            half_life_days: half_life,
            max,
            min,
        })
    }

    fn band(&mut self, b: &ast::BandDecl, id: BandId) -> Option<plan::Band> {
        let values = self
            .symbols
            .bands
            .get(id.index())
            .map(|info| info.values.clone())
            .unwrap_or_default();
        if values.len() > 64 {
            self.errors.push(
                Diagnostic::error(
                    "rubric::too_many_values",
                    b.name.span,
                    "a band has at most 64 values",
                )
                .with_label("too many values"),
            );
            return None;
        }
        let branches = self.branches(&b.name, &b.branches, "band")?;
        let mut out = Vec::new();
        for (branch, condition) in b.branches.iter().zip(branches) {
            let value = values.iter().position(|v| *v == branch.value.name)?;
            out.push(plan::BandBranch {
                value: u16::try_from(value).ok()?,
                condition,
                span: branch.span,
            });
        }
        Some(plan::Band {
            name: b.name.name.clone(),
            values,
            branches: out,
            span: b.name.span,
        })
    }

    /// Checks and compiles first-match branches (bands and route queues):
    /// unique values, `otherwise` last and present, nothing unreachable.
    fn branches(
        &mut self,
        owner: &ast::Ident,
        branches: &[ast::Branch],
        what: &str,
    ) -> Option<Vec<Option<Cond>>> {
        let mut ok = true;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut out = Vec::new();
        let mut always_at: Option<Span> = None;
        for branch in branches {
            if let Some(first) = seen.get(branch.value.name.as_str()) {
                if what == "band" {
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::duplicate_branch",
                            branch.value.span,
                            format!("`{}` has two branches for `{}`", owner.name, branch.value.name),
                        )
                        .with_label("second branch")
                        .with_note(*first, "first branch")
                        .with_help("a value gets one branch; combine the conditions with `or`"),
                    );
                    ok = false;
                }
            } else {
                seen.insert(&branch.value.name, branch.value.span);
            }
            if let Some(at) = always_at {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::unreachable_branch",
                        branch.span,
                        format!(
                            "branch `{}` of `{}` can never be chosen",
                            branch.value.name, owner.name
                        ),
                    )
                    .with_label("unreachable")
                    .with_note(at, "every contact stops here")
                    .with_help("the first matching branch wins; move this branch above, or remove it"),
                );
                ok = false;
            }
            match &branch.condition {
                None => {
                    if always_at.is_none() {
                        always_at = Some(branch.span);
                    }
                    out.push(None);
                }
                Some(c) => match self.condition(c, Ctx::CONTACT) {
                    Some(cond) => {
                        if always_at.is_none() && self.always_true(&cond) {
                            always_at = Some(branch.span);
                        }
                        out.push(Some(cond));
                    }
                    None => ok = false,
                },
            }
        }
        let ends_with_otherwise = branches.last().is_some_and(|b| b.condition.is_none());
        if !ends_with_otherwise && !branches.iter().any(|b| b.condition.is_none()) {
            let example = branches.last().map_or("cold", |b| b.value.name.as_str());
            let (code, message) = if what == "band" {
                (
                    "rubric::missing_otherwise",
                    format!("band `{}` has no `otherwise` branch", owner.name),
                )
            } else {
                (
                    "rubric::missing_otherwise",
                    format!("the queue of route `{}` has no `otherwise` branch", owner.name),
                )
            };
            self.errors.push(
                Diagnostic::error(code, owner.span, message)
                    .with_label("some contacts would get no value")
                    .with_help(format!("end with a branch such as `{example} otherwise`")),
            );
            ok = false;
        }
        ok.then_some(out)
    }

    /// A condition that holds for every contact (as far as can be told
    /// without data): `true`, or a score compared with its own range.
    fn always_true(&self, cond: &Cond) -> bool {
        match cond {
            Cond::Const(b) => *b,
            Cond::And(parts) => parts.iter().all(|p| self.always_true(p)),
            Cond::Or(parts) => parts.iter().any(|p| self.always_true(p)),
            Cond::Compare {
                op,
                left: plan::Operand::Score(id),
                right: plan::Operand::Const(plan::Const::Number(n)),
                ..
            } => {
                let Some(info) = self.symbols.scores.get(id.index()) else {
                    return false;
                };
                match op {
                    CompareOp::Ge => info.low >= *n,
                    CompareOp::Gt => info.low > *n,
                    CompareOp::Le => info.high <= *n,
                    CompareOp::Lt => info.high < *n,
                    _ => false,
                }
            }
            _ => false,
        }
    }

    fn channels(&mut self, channels: &[ast::Ident]) -> Option<u8> {
        let mut bits = 0u8;
        let mut ok = true;
        for c in channels {
            match Channel::from_name(&c.name) {
                Some(ch) => {
                    if bits & ch.bit() != 0 {
                        self.errors.push(
                            Diagnostic::error(
                                "rubric::duplicate_name",
                                c.span,
                                format!("channel `{}` is listed twice", c.name),
                            )
                            .with_label("listed again"),
                        );
                        ok = false;
                    }
                    bits |= ch.bit();
                }
                None => {
                    let names = Channel::ALL.map(Channel::name);
                    let help = match did_you_mean(&c.name, names) {
                        Some(n) => format!("did you mean `{n}`? channels are ads, email and sales"),
                        None => String::from("channels are ads, email and sales"),
                    };
                    self.errors.push(
                        Diagnostic::error(
                            "rubric::unknown_channel",
                            c.span,
                            format!("unknown channel `{}`", c.name),
                        )
                        .with_label("not a channel")
                        .with_help(help),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(bits)
    }

    fn route(&mut self, r: &ast::RouteDecl) -> Option<plan::Route> {
        let condition = self.condition(&r.condition, Ctx::CONTACT);
        let mut task: Option<String> = None;
        let mut sla_hours: Option<f64> = None;
        let mut queue: Option<Vec<plan::QueueBranch>> = None;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut ok = true;
        for field in &r.fields {
            let key = match field.kind {
                ast::RouteFieldKind::Task(_) => "task",
                ast::RouteFieldKind::Sla(_) => "sla",
                ast::RouteFieldKind::Queue(_) | ast::RouteFieldKind::QueueFirst(_) => "queue",
            };
            if let Some(first) = seen.insert(key, field.span) {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::duplicate_route_field",
                        field.span,
                        format!("route `{}` has `{key}` twice", r.name.name),
                    )
                    .with_label("second one")
                    .with_note(first, "first one")
                    .with_help("keep one"),
                );
                ok = false;
                continue;
            }
            match &field.kind {
                ast::RouteFieldKind::Task(t) => task = Some(t.value.clone()),
                ast::RouteFieldKind::Sla(d) => match duration_micros(d, &mut self.errors) {
                    Some(m) if m > 0 => sla_hours = Some(m as f64 / 3_600_000_000.0),
                    Some(_) => {
                        self.errors.push(
                            Diagnostic::error(
                                "rubric::invalid_duration",
                                d.span,
                                "an SLA must be longer than zero",
                            )
                            .with_label("zero SLA")
                            .with_help("write e.g. `sla 24 hours`"),
                        );
                        ok = false;
                    }
                    None => ok = false,
                },
                ast::RouteFieldKind::Queue(q) => {
                    queue = Some(vec![plan::QueueBranch {
                        queue: q.name.clone(),
                        condition: None,
                        span: q.span,
                    }])
                }
                ast::RouteFieldKind::QueueFirst(branches) => {
                    match self.branches(&r.name, branches, "queue") {
                        Some(conds) => {
                            queue = Some(
                                branches
                                    .iter()
                                    .zip(conds)
                                    .map(|(b, condition)| plan::QueueBranch {
                                        queue: b.value.name.clone(),
                                        condition,
                                        span: b.span,
                                    })
                                    .collect(),
                            )
                        }
                        None => ok = false,
                    }
                }
            }
        }
        for (key, example) in [
            ("task", "task \"Follow up\""),
            ("sla", "sla 24 hours"),
            ("queue", "queue sales"),
        ] {
            if !seen.contains_key(key) {
                self.errors.push(
                    Diagnostic::error(
                        "rubric::missing_route_field",
                        r.name.span,
                        format!("route `{}` has no `{key}`", r.name.name),
                    )
                    .with_label(format!("needs a `{key}`"))
                    .with_help(format!("add `{example}` inside the route's braces")),
                );
                ok = false;
            }
        }
        let condition = condition?;
        if !ok {
            return None;
        }
        Some(plan::Route {
            name: r.name.name.clone(),
            condition,
            task: task?,
            sla_hours: sla_hours?,
            queue: queue?,
            span: r.name.span,
        })
    }

    /// Orders scores, bands and segments so each follows what it reads;
    /// reports cycles.
    fn order(&mut self, deps: &HashMap<Step, (Vec<Step>, Span)>) -> Option<Vec<Step>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut all: Vec<Step> = Vec::new();
        for (i, _) in self.symbols.scores.iter().enumerate() {
            all.push(Step::Score(ScoreId(i as u32)));
        }
        for (i, _) in self.symbols.bands.iter().enumerate() {
            all.push(Step::Band(BandId(i as u32)));
        }
        for (i, _) in self.symbols.segment_names.iter().enumerate() {
            all.push(Step::Segment(SegmentId(i as u32)));
        }
        let mut marks: HashMap<Step, Mark> = all.iter().map(|s| (*s, Mark::New)).collect();
        let mut order = Vec::new();
        let mut reported = false;
        for start in &all {
            if marks.get(start) != Some(&Mark::New) {
                continue;
            }
            // Iterative depth-first search; `stack` holds (step, next dep index).
            let mut stack: Vec<(Step, usize)> = vec![(*start, 0)];
            marks.insert(*start, Mark::Active);
            while let Some((step, next)) = stack.last().copied() {
                let step_deps = deps.get(&step).map_or(&[][..], |(d, _)| d.as_slice());
                if let Some(dep) = step_deps.get(next) {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    match marks.get(dep).copied().unwrap_or(Mark::Done) {
                        Mark::New => {
                            marks.insert(*dep, Mark::Active);
                            stack.push((*dep, 0));
                        }
                        Mark::Active => {
                            if !reported {
                                let cycle_start = stack.iter().position(|(s, _)| s == dep).unwrap_or(0);
                                let chain: Vec<Step> =
                                    stack.iter().skip(cycle_start).map(|(s, _)| *s).collect();
                                self.report_cycle(&chain, deps);
                                reported = true;
                            }
                        }
                        Mark::Done => {}
                    }
                } else {
                    marks.insert(step, Mark::Done);
                    order.push(step);
                    stack.pop();
                }
            }
        }
        (!reported).then_some(order)
    }

    fn step_name(&self, step: Step) -> String {
        match step {
            Step::Score(id) => self
                .symbols
                .scores
                .get(id.index())
                .map_or(String::new(), |s| s.name.clone()),
            Step::Band(id) => self
                .symbols
                .bands
                .get(id.index())
                .map_or(String::new(), |b| b.name.clone()),
            Step::Segment(id) => self
                .symbols
                .segment_names
                .get(id.index())
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn report_cycle(&mut self, chain: &[Step], deps: &HashMap<Step, (Vec<Step>, Span)>) {
        let Some(first) = chain.first() else { return };
        let mut names: Vec<String> = chain.iter().map(|s| self.step_name(*s)).collect();
        names.push(self.step_name(*first));
        let span = deps.get(first).map_or(Span::default(), |(_, s)| *s);
        let mut d = Diagnostic::error(
            "rubric::cycle",
            span,
            format!(
                "`{}` depends on itself: {}",
                self.step_name(*first),
                names.join(" → ")
            ),
        )
        .with_label("part of a cycle")
        .with_help("a segment, score or band cannot use itself, directly or through others; break the chain");
        for step in chain.iter().skip(1) {
            if let Some((_, s)) = deps.get(step) {
                d = d.with_note(*s, format!("`{}` is in the cycle", self.step_name(*step)));
            }
        }
        self.errors.push(d);
    }
}

/// Every event type named by an `each` rule or an aggregate, anywhere.
fn used_events(items: &[&ast::Item]) -> Vec<String> {
    fn walk(expr: &ast::Expr, out: &mut Vec<String>) {
        match &expr.kind {
            ast::ExprKind::Or(parts) | ast::ExprKind::And(parts) => parts.iter().for_each(|p| walk(p, out)),
            ast::ExprKind::Not(inner) => walk(inner, out),
            ast::ExprKind::Compare { left, right, .. } | ast::ExprKind::Text { left, right, .. } => {
                walk(left, out);
                walk(right, out);
            }
            ast::ExprKind::In { left, .. }
            | ast::ExprKind::Matches { left, .. }
            | ast::ExprKind::Is { left, .. }
            | ast::ExprKind::Within { left, .. } => walk(left, out),
            ast::ExprKind::Call { args, .. } => args.iter().for_each(|a| walk(a, out)),
            ast::ExprKind::Aggregate(agg) => out.push(agg.event.name.clone()),
            ast::ExprKind::Name(_) | ast::ExprKind::Literal(_) => {}
        }
    }
    let mut out = Vec::new();
    for item in items {
        let conditions: Vec<&ast::Expr> = match &item.kind {
            ast::ItemKind::Segment(s) => vec![&s.condition],
            ast::ItemKind::Suppress(s) => vec![&s.condition],
            ast::ItemKind::Audience(t) | ast::ItemKind::Workflow(t) => vec![&t.condition],
            ast::ItemKind::Route(r) => vec![&r.condition],
            ast::ItemKind::Band(b) => b.branches.iter().filter_map(|br| br.condition.as_ref()).collect(),
            ast::ItemKind::Score(s) => {
                let mut conds = Vec::new();
                for rule in &s.rules {
                    match &rule.body {
                        ast::RuleBody::When(w) => conds.push(&w.condition),
                        ast::RuleBody::First(rows) => conds.extend(rows.iter().map(|r| &r.rule.condition)),
                        ast::RuleBody::Each(e) => out.push(e.event.name.clone()),
                    }
                }
                conds
            }
            _ => Vec::new(),
        };
        for c in conditions {
            walk(c, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}
