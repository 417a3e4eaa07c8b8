//! Property tests: no snapshot line makes `run` panic, and every accepted
//! contact's outcome respects the plan's invariants (scores inside their
//! ranges, one valid value per band, targets never on a suppressed channel).

use proptest::prelude::*;
use rubric::eval::evaluate;
use rubric::plan::{Channel, Plan};
use rubric::snapshot::decode_line;
use serde_json::Value;

use crate::common;
use common::contact;

fn playbook() -> Plan {
    common::playbook().0
}

fn check_invariants(plan: &Plan, line: &str) {
    let as_of = rubric::snapshot::parse_timestamp("2026-11-28T00:00:00Z").unwrap();
    let Ok(Some(contact)) = decode_line(&plan.decode, line) else {
        return;
    };
    let outcome = evaluate(plan, &contact, as_of);
    for (score, value) in plan.scores.iter().zip(&outcome.scores) {
        assert!(
            *value >= score.low && *value <= score.high,
            "{} = {value} outside its range",
            score.name
        );
    }
    for (band, value) in plan.bands.iter().zip(&outcome.bands) {
        assert!((*value as usize) < band.values.len());
    }
    let ads = outcome.suppressed_channels & Channel::ADS.bit() != 0;
    let email = outcome.suppressed_channels & Channel::EMAIL.bit() != 0;
    let sales = outcome.suppressed_channels & Channel::SALES.bit() != 0;
    assert!(!(ads && outcome.audiences.iter().any(|a| *a)));
    assert!(!(email && outcome.workflows.iter().any(|w| *w)));
    assert!(!(sales && outcome.routes.iter().any(Option::is_some)));
    let mut out = Vec::new();
    rubric::output::write_result(&mut out, plan, &contact.id, &outcome);
    let parsed: Value = serde_json::from_slice(&out).expect("output is valid JSON");
    assert_eq!(parsed["id"], contact.id.as_str());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_text_line_never_panics(line in "\\PC{0,200}") {
        check_invariants(&playbook(), &line);
    }

    #[test]
    fn generated_contacts_respect_the_invariants(c in contact()) {
        check_invariants(&playbook(), &c.to_string());
    }

    #[test]
    fn damaged_contacts_never_panic(c in contact(), cut in 0usize..400, junk in "[\\[\\]{}\",:0-9a-z]{0,3}") {
        let text = c.to_string();
        let cut = cut.min(text.len());
        let cut = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let damaged = format!("{}{}{}", &text[..cut], junk, &text[cut..]);
        check_invariants(&playbook(), &damaged);
    }
}
