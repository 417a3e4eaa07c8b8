//! Slot allocation: the [`DecodeSpec`] builder. Every property, event type
//! and event prop the rules read gets a dense slot number, in the order the
//! compiler first meets it; a seed (another plan's spec, for `rubric diff`)
//! fixes the numbers of the names it already has.
//!
//! INVARIANT: the slots of each map are dense (`0..len`) and the names
//! vectors are indexed by slot.

use std::collections::{HashMap, HashSet};

use crate::snapshot::{DeclaredType, DecodeSpec};

/// The slots handed out so far.
#[derive(Debug, Default)]
pub struct SlotAllocator {
    property_slots: HashMap<String, usize>,
    property_names: Vec<String>,
    property_types: Vec<Option<DeclaredType>>,
    event_slots: HashMap<String, usize>,
    event_names: Vec<String>,
    event_prop_slots: Vec<HashMap<String, usize>>,
    event_prop_names: Vec<Vec<String>>,
    /// Properties this rule set itself reads (the others come from a seed).
    own_properties: HashSet<String>,
    /// Event slots below this number come from a seed ([`SlotAllocator::seed`]).
    seeded_events: usize,
}

/// The finished slots: the spec for the snapshot reader and, per slot, the
/// names for output and traces.
#[derive(Debug)]
pub struct Slots {
    pub decode: DecodeSpec,
    pub property_names: Vec<String>,
    pub event_names: Vec<String>,
    pub event_prop_names: Vec<Vec<String>>,
}

impl SlotAllocator {
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

    /// Whether this rule set itself has read the property `name`.
    pub fn reads_property(&self, name: &str) -> bool {
        self.own_properties.contains(name)
    }

    /// The slot of a property, allocated on first use. A seeded slot keeps the
    /// seed's declared type unless `ty` (this rule set's declaration) is given.
    pub fn property(&mut self, name: &str, ty: Option<DeclaredType>) -> usize {
        if !self.own_properties.contains(name) {
            self.own_properties.insert(name.to_string());
        }
        if let Some(&slot) = self.property_slots.get(name) {
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

    /// The slot of an event type, allocated on first use.
    pub fn event(&mut self, name: &str) -> usize {
        if let Some(&slot) = self.event_slots.get(name) {
            return slot;
        }
        let slot = self.event_names.len();
        self.event_slots.insert(name.to_string(), slot);
        self.event_names.push(name.to_string());
        self.event_prop_slots.push(HashMap::new());
        self.event_prop_names.push(Vec::new());
        slot
    }

    /// Whether this rule set (not only a seed) has an event slot for `name`.
    pub fn has_own_event(&self, name: &str) -> bool {
        self.event_slots
            .get(name)
            .is_some_and(|&slot| slot >= self.seeded_events)
    }

    /// The slot of a prop of the event in slot `event`, allocated on first
    /// use; `None` when `event` is not an allocated event slot.
    pub fn event_prop(&mut self, event: usize, name: &str) -> Option<usize> {
        let slots = self.event_prop_slots.get_mut(event)?;
        let names = self.event_prop_names.get_mut(event)?;
        if let Some(&slot) = slots.get(name) {
            return Some(slot);
        }
        let slot = names.len();
        slots.insert(name.to_string(), slot);
        names.push(name.to_string());
        Some(slot)
    }

    /// The decode spec and slot names of everything allocated.
    pub fn finish(&self) -> Slots {
        let slot_map = |m: &HashMap<String, usize>| m.iter().map(|(k, v)| (k.clone(), *v)).collect();
        Slots {
            decode: DecodeSpec {
                properties: slot_map(&self.property_slots),
                property_types: self.property_types.clone(),
                event_types: slot_map(&self.event_slots),
                event_props: self.event_prop_slots.iter().map(slot_map).collect(),
            },
            property_names: self.property_names.clone(),
            event_names: self.event_names.clone(),
            event_prop_names: self.event_prop_names.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]

    use super::super::test_support::{compiles, compiles_seeded};
    use super::SlotAllocator;
    use crate::snapshot::{DeclaredType, DecodeSpec};

    #[test]
    fn slots_are_dense_in_order_of_first_use_and_stable() {
        let mut slots = SlotAllocator::default();
        assert_eq!(slots.property("b", None), 0);
        assert_eq!(slots.property("a", Some(DeclaredType::Number)), 1);
        assert_eq!(slots.property("b", None), 0);
        let page_view = slots.event("page_view");
        assert_eq!(slots.event("form_submit"), 1);
        assert_eq!(slots.event_prop(page_view, "url"), Some(0));
        assert_eq!(slots.event_prop(page_view, "url"), Some(0));
        assert_eq!(slots.event_prop(page_view, "referrer"), Some(1));
        assert_eq!(slots.event_prop(7, "url"), None, "no such event slot");
        let finished = slots.finish();
        assert_eq!(finished.property_names, ["b", "a"]);
        assert_eq!(finished.decode.property_types, [None, Some(DeclaredType::Number)]);
        assert_eq!(finished.event_names, ["page_view", "form_submit"]);
        assert_eq!(
            finished.event_prop_names,
            [vec![String::from("url"), String::from("referrer")], Vec::new()]
        );
    }

    #[test]
    fn a_seed_keeps_its_slots_and_counts_as_read_only_once_read() {
        let mut base = SlotAllocator::default();
        base.property("country", Some(DeclaredType::Text));
        base.property("company_size", None);
        let event = base.event("page_view");
        base.event_prop(event, "url");
        let seed = base.finish().decode;

        let mut slots = SlotAllocator::default();
        slots.seed(&seed);
        assert!(!slots.reads_property("country"));
        assert!(!slots.has_own_event("page_view"));
        assert_eq!(slots.property("company_size", None), 1);
        assert!(slots.reads_property("company_size"));
        assert_eq!(slots.property("industry", None), 2);
        assert_eq!(slots.event("email_open"), 1);
        assert!(slots.has_own_event("email_open"));
        let decode = slots.finish().decode;
        assert_eq!(decode.property_types.first(), Some(&Some(DeclaredType::Text)));
        assert_superset(&decode, &seed);
    }

    /// `decode` has every slot of `base`, under the same numbers.
    fn assert_superset(decode: &DecodeSpec, base: &DecodeSpec) {
        for (name, slot) in &base.properties {
            assert_eq!(decode.properties.get(name), Some(slot), "property {name}");
        }
        for (name, slot) in &base.event_types {
            assert_eq!(decode.event_types.get(name), Some(slot), "event {name}");
            let (Some(props), Some(base_props)) =
                (decode.event_props.get(*slot), base.event_props.get(*slot))
            else {
                panic!("no props for event {name}");
            };
            for (prop, prop_slot) in base_props {
                assert_eq!(props.get(prop), Some(prop_slot), "prop {name}.{prop}");
            }
        }
    }

    #[test]
    fn a_seeded_compile_gives_the_base_slots_and_a_superset() {
        let base = compiles(
            "segment a when country == \"DE\" and any page_view where url == \"/pricing\"\nsegment b when company_size > 10\n",
        )
        .plan;
        let new_rules =
            "segment b when company_size > 10 and industry == \"SaaS\"\nsegment c when any email_open where campaign == \"x\" or any page_view where referrer == \"y\"\n";
        let seeded = compiles_seeded(new_rules, &base.decode).plan;
        assert_superset(&seeded.decode, &base.decode);
        assert_eq!(seeded.property_names, ["country", "company_size", "industry"]);
        assert_eq!(seeded.event_names, ["page_view", "email_open"]);
        assert_eq!(
            seeded.event_prop_names.first(),
            Some(&vec![String::from("url"), String::from("referrer")])
        );
        // Without the seed the same rules number their slots from zero.
        let plain = compiles(new_rules).plan;
        assert_eq!(plain.property_names, ["company_size", "industry"]);
    }
}
