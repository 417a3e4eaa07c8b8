//! The set of ids already accepted in a snapshot, for SPEC §3's "the first
//! line with an id wins".
//!
//! It is the only structure of a run that grows with the number of contacts,
//! so it is kept compact: a 64-bit hash per id (not the id), stored sorted in
//! 65,536 buckets by its top 16 bits, so that each entry needs only its low
//! 48 bits (6 bytes), plus a hash set of recent ids that is merged into the
//! buckets when it fills. About 6 bytes per contact, without the slack and
//! doubling copies of a hash table (which took 19–28 MB at a million contacts;
//! this takes about 6 MB).
//!
//! The set is exact for the hashes. Two different ids collide with
//! probability about n²/2⁶⁵: 3·10⁻⁸ for a million contacts, 3·10⁻⁶ for ten
//! million; a collision would reject the later line as a repeat (see
//! docs/decisions.md).

use std::collections::HashSet;

/// Recent ids held in the hash set before a merge into the sorted buckets.
const RECENT: usize = 1 << 16;
/// Buckets by the top 16 bits of a hash.
const BUCKETS: usize = 1 << 16;

#[derive(Debug)]
pub struct IdSet {
    /// The low 48 bits of the merged hashes, sorted by the whole hash.
    low: Vec<[u8; 6]>,
    /// `low[starts[b]..starts[b + 1]]` holds the hashes whose top 16 bits are `b`
    /// (empty until the first merge).
    starts: Vec<u32>,
    /// Hashes of ids since the last merge.
    recent: HashSet<u64, rustc_hash::FxBuildHasher>,
    /// Merge when `recent` holds this many.
    merge_at: usize,
}

impl Default for IdSet {
    fn default() -> Self {
        IdSet::with_merge_at(RECENT)
    }
}

fn low48(hash: u64) -> [u8; 6] {
    let b = hash.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

fn top16(hash: u64) -> usize {
    (hash >> 48) as usize
}

fn join(top: usize, low: [u8; 6]) -> u64 {
    let mut b = [0u8; 8];
    b[..2].copy_from_slice(&(top as u16).to_be_bytes());
    b[2..].copy_from_slice(&low);
    u64::from_be_bytes(b)
}

impl IdSet {
    fn with_merge_at(merge_at: usize) -> IdSet {
        IdSet {
            low: Vec::new(),
            starts: Vec::new(),
            recent: HashSet::default(),
            merge_at: merge_at.max(1),
        }
    }

    /// Records `id`; returns false when it was already present.
    pub fn insert(&mut self, id: &str) -> bool {
        let hash = xxhash_rust::xxh3::xxh3_64(id.as_bytes());
        if self.in_buckets(hash) || !self.recent.insert(hash) {
            return false;
        }
        if self.recent.len() >= self.merge_at {
            self.merge_recent();
        }
        true
    }

    pub fn len(&self) -> usize {
        self.low.len() + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn bucket(&self, top: usize) -> &[[u8; 6]] {
        match (self.starts.get(top), self.starts.get(top + 1)) {
            (Some(&s), Some(&e)) => self.low.get(s as usize..e as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    fn in_buckets(&self, hash: u64) -> bool {
        self.bucket(top16(hash)).binary_search(&low48(hash)).is_ok()
    }

    /// Merges the recent hashes into the buckets in place, from the back (so
    /// no second array is allocated), and recomputes the bucket starts.
    fn merge_recent(&mut self) {
        let mut recent: Vec<u64> = self.recent.drain().collect();
        recent.sort_unstable();
        let old = self.low.len();
        self.low.reserve_exact(recent.len());
        self.low.resize(old + recent.len(), [0; 6]);
        let mut counts = vec![0u32; BUCKETS];
        // The bucket of the old element at position i - 1, walking down.
        let mut old_top = BUCKETS;
        let (mut i, mut j, mut k) = (old, recent.len(), old + recent.len());
        // INVARIANT: `recent` holds no hash already in the buckets (checked on insert).
        while k > 0 {
            k -= 1;
            let old_value = if i > 0 {
                while old_top > 0 && self.starts.get(old_top - 1).is_some_and(|&s| s as usize > i - 1) {
                    old_top -= 1;
                }
                let top = old_top.saturating_sub(1);
                self.low.get(i - 1).map(|&l| join(top, l))
            } else {
                None
            };
            let new_value = if j > 0 { recent.get(j - 1).copied() } else { None };
            let value = match (old_value, new_value) {
                (Some(o), Some(n)) if o > n => {
                    i -= 1;
                    o
                }
                (Some(o), None) => {
                    i -= 1;
                    o
                }
                (_, Some(n)) => {
                    j -= 1;
                    n
                }
                (None, None) => break,
            };
            if let Some(slot) = self.low.get_mut(k) {
                *slot = low48(value);
            }
            if let Some(c) = counts.get_mut(top16(value)) {
                *c += 1;
            }
        }
        let mut starts = Vec::with_capacity(BUCKETS + 1);
        let mut total = 0u32;
        starts.push(0);
        for c in counts {
            total += c;
            starts.push(total);
        }
        self.starts = starts;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeats_are_found_before_and_after_merges() {
        let mut set = IdSet::default();
        let n = RECENT * 3 + 17;
        for i in 0..n {
            assert!(set.insert(&format!("c-{i}")), "first time of c-{i}");
        }
        assert_eq!(set.len(), n);
        for i in (0..n).step_by(97) {
            assert!(!set.insert(&format!("c-{i}")), "repeat of c-{i}");
        }
        // The merged hashes are sorted and every bucket holds its own.
        let all: Vec<u64> = (0..BUCKETS)
            .flat_map(|b| set.bucket(b).iter().map(move |l| join(b, *l)))
            .collect();
        assert_eq!(all.len(), set.low.len());
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn join_undoes_the_split() {
        for hash in [0u64, 1, u64::MAX, 0x1234_5678_9abc_def0] {
            assert_eq!(join(top16(hash), low48(hash)), hash);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn agrees_with_a_hash_set(ids in prop::collection::vec(0u32..3000, 0..4000)) {
            // Small merges, so that the buckets are exercised.
            let mut set = IdSet::with_merge_at(300);
            let mut reference = std::collections::HashSet::new();
            for id in ids {
                let id = format!("id-{id}");
                prop_assert_eq!(set.insert(&id), reference.insert(id));
            }
        }
    }
}
