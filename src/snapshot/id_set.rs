//! The set of ids already accepted in a snapshot, for docs/formats.md's "the first
//! line with an id wins".
//!
//! It is the only structure of a run that grows with the number of contacts,
//! so it is kept compact, with two exact representations:
//!
//! - **Numeric ids.** An id that ends in 1 to 20 ASCII digits whose value fits
//!   in a `u64` is split into a key and a value: the prefix (everything before
//!   the maximal run of trailing digits), a width class, and the value of the
//!   digits. The width class is 0 when the digits have no leading zero (or are
//!   the single digit `0`), and otherwise the number of digits, so `c-7`,
//!   `c-07` and `c-007` are three different (key, value) pairs while `g-9` and
//!   `g-10` share a key. The split is a bijection between those ids and their
//!   (prefix, width, value) triples: the values of each key are kept in a
//!   roaring bitmap (`RoaringTreemap`), with no hashing and so no collisions.
//!   Sequential ids cost about 0.14 bytes each (full 8 KiB bitmap
//!   containers), ids with gaps of 50 about 2 bytes (array containers). The
//!   values of the newest 65,536-value block of a key are held in a small
//!   sorted `tail` first and moved into the bitmap when a later block starts,
//!   so that bitmap arrays are allocated at their exact size rather than with
//!   the slack of a growing `Vec`.
//! - **Other ids** are stored as a 64-bit xxh3 hash (not the id), sorted in
//!   65,536 buckets by its top 16 bits so that each entry needs only its low
//!   48 bits (6 bytes), plus a hash set of recent hashes that is merged into
//!   the buckets when it fills: 6 bytes per id and about 0.85 MB for the
//!   bucket starts and the recent set, without the slack and doubling copies
//!   of a hash table (which took 19–28 MB at a million ids; this takes 6.7
//!   MB).
//!   Two different hashed ids collide with probability about n²/2⁶⁵: 3·10⁻⁸
//!   for a million, 3·10⁻⁶ for ten million; a collision would reject the later
//!   line as a repeat (see docs/decisions.md).
//!
//! Two guards keep bad shapes on the hash path, deterministically (the same
//! sequence of ids always routes the same way):
//!
//! - At most 64 keys (`Limits::max_keys`) are ever admitted, first come,
//!   first served, and an admitted key is never dropped. Once the table is
//!   full, an id of any other key goes to the hash path, as every later id of
//!   that key will (random alphanumeric ids that end in digits give a new key
//!   per id).
//! - A key whose bitmap would cost more per value than a hash (sparse random
//!   numbers: one roaring container per few values) is found by an estimate
//!   of its heap bytes, taken when it reaches 256 values and then each time it
//!   grows by a quarter. Its values are then migrated: each is formatted back
//!   into its id string and hashed exactly as the hash path hashes any id, and
//!   the key is marked hashed for good, so its later ids go to the hash path
//!   too.
//!
//! `INVARIANT:` an id is stored in at most one of the two paths, and its path
//! depends only on the ids inserted before it: numeric while its key is
//! admitted and not migrated, hashed otherwise. Routing changes only by
//! migration, which moves every value of the key with it.

use std::collections::HashSet;
use std::fmt::Write as _;

use roaring::RoaringTreemap;
use rustc_hash::FxHashMap;

/// Recent hashes held in the hash set before a merge into the sorted
/// buckets: 7/8 of 65,536, the most that a table of 65,536 slots holds before
/// it doubles to 131,072 (another 0.6 MB that would stay allocated).
const RECENT: usize = 57_344;
/// Buckets by the top 16 bits of a hash.
const BUCKETS: usize = 1 << 16;
/// The most trailing digits of a numeric id (`u64::MAX` has 20).
const MAX_DIGITS: usize = 20;
/// Width classes: 0 (no leading zero), and 2..=20 digits with a leading zero.
const WIDTHS: usize = MAX_DIGITS + 1;
/// No key for this width class of a prefix.
const NO_KEY: u8 = u8::MAX;

/// The tunable thresholds. Tests use small ones so that merges, the key
/// limit, the tail limit and migrations all happen on small inputs.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Merge the recent hashes into the buckets when this many are held.
    merge_at: usize,
    /// Admit at most this many numeric keys (at most 255).
    max_keys: usize,
    /// Estimate the bytes of a key first at this many values, then whenever
    /// it has grown by a quarter (or by this many, if more).
    check_from: u64,
    /// Migrate a key to the hash path when its estimate exceeds this many
    /// bytes per value (a hash costs 6).
    max_bytes_per_id: u64,
    /// Values of the newest block held in the tail before they go to the bitmap.
    tail_max: usize,
}

const DEFAULT_LIMITS: Limits = Limits {
    merge_at: RECENT,
    max_keys: 64,
    check_from: 256,
    max_bytes_per_id: 6,
    tail_max: 4096,
};

#[derive(Debug)]
pub struct IdSet {
    numeric: Numeric,
    hashed: Hashes,
    /// Ids accepted, on either path.
    len: usize,
    limits: Limits,
}

impl Default for IdSet {
    fn default() -> Self {
        IdSet::with_limits(DEFAULT_LIMITS)
    }
}

impl IdSet {
    fn with_limits(limits: Limits) -> IdSet {
        let limits = Limits {
            merge_at: limits.merge_at.max(1),
            max_keys: limits.max_keys.min(usize::from(NO_KEY)),
            check_from: limits.check_from.max(1),
            max_bytes_per_id: limits.max_bytes_per_id,
            tail_max: limits.tail_max.max(1),
        };
        IdSet {
            numeric: Numeric::default(),
            hashed: Hashes::new(limits.merge_at),
            len: 0,
            limits,
        }
    }

    /// Records `id`; returns false when it was already present.
    pub fn insert(&mut self, id: &str) -> bool {
        let new = match split_number(id) {
            Some((prefix, width, value)) => match self.numeric.route(prefix, width, self.limits.max_keys) {
                Some(key) => self.insert_numeric(key, value, id),
                None => self.hashed.insert(id),
            },
            None => self.hashed.insert(id),
        };
        if new {
            self.len += 1;
        }
        new
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// An estimate of the heap bytes held, allocator headers of the roaring
    /// containers included.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.numeric.heap_bytes() + self.hashed.heap_bytes()
    }

    fn insert_numeric(&mut self, key: usize, value: u64, id: &str) -> bool {
        let limits = self.limits;
        let Some(values) = self.numeric.keys.get_mut(key).and_then(|k| k.values.as_mut()) else {
            // A migrated key: its ids are hashed.
            return self.hashed.insert(id);
        };
        let new = values.insert(value, limits.tail_max);
        if new && values.too_costly(limits) {
            self.migrate(key);
        }
        new
    }

    /// Moves every value of `key` to the hash path (as the id strings they
    /// came from) and marks the key hashed for good.
    fn migrate(&mut self, key: usize) {
        let IdSet { numeric, hashed, .. } = self;
        let Some(key) = numeric.keys.get_mut(key) else {
            return;
        };
        let Some(values) = key.values.take() else {
            return;
        };
        let mut id = String::with_capacity(key.prefix.len() + MAX_DIGITS);
        values.for_each(|value| {
            id.clear();
            id.push_str(&key.prefix);
            let _ = match key.width {
                0 => write!(id, "{value}"),
                width => write!(id, "{value:0width$}", width = usize::from(width)),
            };
            // INVARIANT: the hash path holds no id of an admitted key, so this is
            // new unless its hash collides with another id's.
            hashed.insert(&id);
        });
    }
}

/// Splits an id that ends in 1..=20 ASCII digits with a value that fits in a
/// `u64` into (prefix, width class, value); `None` for any other id.
///
/// The width class is 0 when the digits are the canonical decimal form of the
/// value (no leading zero), else the number of digits (2..=20). The prefix
/// never ends in a digit, so the id is exactly `prefix` followed by the value
/// (zero-padded to the width when it is not 0): a bijection.
fn split_number(id: &str) -> Option<(&str, u8, u64)> {
    let bytes = id.as_bytes();
    let digits = bytes.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > MAX_DIGITS {
        return None;
    }
    let start = bytes.len() - digits;
    let run = bytes.get(start..)?;
    let mut value: u64 = 0;
    for &b in run {
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    let width = if digits > 1 && run.first() == Some(&b'0') {
        digits as u8
    } else {
        0
    };
    // `start` is a char boundary: the byte there is an ASCII digit.
    Some((id.get(..start)?, width, value))
}

/// The admitted numeric keys.
#[derive(Debug)]
struct Numeric {
    keys: Vec<Key>,
    /// Prefix → the index in `keys` of each width class (`NO_KEY` if none).
    by_prefix: FxHashMap<Box<str>, [u8; WIDTHS]>,
    /// The same for the empty prefix (ids that are only digits), kept out of
    /// the map: see [`same_prefix`].
    no_prefix: [u8; WIDTHS],
    /// The key of the previous numeric id, tried first.
    last: usize,
}

#[derive(Debug)]
struct Key {
    prefix: Box<str>,
    width: u8,
    /// `None` once migrated to the hash path.
    values: Option<Values>,
}

impl Default for Numeric {
    fn default() -> Self {
        Numeric {
            keys: Vec::new(),
            by_prefix: FxHashMap::default(),
            no_prefix: [NO_KEY; WIDTHS],
            last: 0,
        }
    }
}

/// `a == b`, without calling `memcmp` on an empty `Box<str>`, whose pointer
/// is dangling: glibc's `memcmp` does a masked vector load there even for 0
/// bytes, which made every all-digit id about 150 ns slower (measured).
fn same_prefix(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.is_empty() || a == b)
}

impl Numeric {
    /// The key of (`prefix`, `width`), admitting it if there is room; `None`
    /// when it was never admitted (and never will be: the table only fills).
    fn route(&mut self, prefix: &str, width: u8, max_keys: usize) -> Option<usize> {
        if let Some(key) = self.keys.get(self.last) {
            if key.width == width && same_prefix(&key.prefix, prefix) {
                return Some(self.last);
            }
        }
        let class = usize::from(width);
        let slots = if prefix.is_empty() {
            Some(&self.no_prefix)
        } else {
            self.by_prefix.get(prefix)
        };
        if let Some(&index) = slots.and_then(|slots| slots.get(class)) {
            if index != NO_KEY {
                self.last = usize::from(index);
                return Some(self.last);
            }
        }
        if self.keys.len() >= max_keys {
            return None;
        }
        let index = self.keys.len();
        let slots = if prefix.is_empty() {
            &mut self.no_prefix
        } else {
            self.by_prefix.entry(prefix.into()).or_insert([NO_KEY; WIDTHS])
        };
        if let Some(slot) = slots.get_mut(class) {
            *slot = index as u8;
        }
        self.keys.push(Key {
            prefix: prefix.into(),
            width,
            values: Some(Values::default()),
        });
        self.last = index;
        Some(index)
    }

    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        let keys = self.keys.capacity() * size_of::<Key>()
            + self
                .keys
                .iter()
                .map(|k| k.prefix.len() + k.values.as_ref().map_or(0, Values::heap_bytes))
                .sum::<usize>();
        let map = hash_table_bytes(self.by_prefix.capacity(), size_of::<(Box<str>, [u8; WIDTHS])>())
            + self.by_prefix.keys().map(|p| p.len()).sum::<usize>();
        keys + map
    }
}

/// The values of one key.
#[derive(Debug, Default)]
struct Values {
    /// Every value except those in `tail`.
    set: RoaringTreemap,
    /// When `tail_active`: the values of block `top` (value >> 16), sorted,
    /// none of them in `set`.
    tail: Vec<u16>,
    tail_active: bool,
    /// The highest block holding a value.
    top: Option<u64>,
    len: u64,
    /// Estimate the bytes when `len` reaches this (0: at `check_from`).
    next_check: u64,
}

/// Bytes of a roaring `Container` (a u16 key and a 24-byte store).
const CONTAINER_BYTES: usize = 32;
/// Allocator header of each container's store.
const MALLOC_HEADER: usize = 16;
/// A leaf of the `BTreeMap<u32, RoaringBitmap>` inside a `RoaringTreemap`
/// (11 entries), and the entries it holds on average.
const BTREE_NODE_BYTES: usize = 11 * (4 + size_of::<roaring::RoaringBitmap>()) + 16;
const BTREE_ENTRIES_PER_NODE: usize = 7;

impl Values {
    fn insert(&mut self, value: u64, tail_max: usize) -> bool {
        let block = value >> 16;
        let low = value as u16;
        let new = match self.top {
            Some(top) if block == top && self.tail_active => match self.tail.binary_search(&low) {
                Ok(_) => false,
                Err(at) if self.tail.len() < tail_max => {
                    self.tail.insert(at, low);
                    true
                }
                Err(_) => {
                    // A full tail: from now on this block lives in the bitmap.
                    self.flush();
                    self.set.insert(value)
                }
            },
            Some(top) if block <= top => self.set.insert(value),
            _ => {
                // A block above every value: start a new tail.
                self.flush();
                self.tail_active = true;
                self.top = Some(block);
                self.tail.push(low);
                true
            }
        };
        if new {
            self.len += 1;
        }
        new
    }

    /// Moves the tail into the bitmap. The union clones the containers of a
    /// temporary bitmap, so their arrays are allocated at their exact length.
    fn flush(&mut self) {
        if !std::mem::take(&mut self.tail_active) {
            return;
        }
        let base = self.top.unwrap_or(0) << 16;
        match RoaringTreemap::from_sorted_iter(self.tail.iter().map(|&low| base | u64::from(low))) {
            Ok(part) => self.set |= &part,
            // Unreachable: the tail is sorted and without repeats.
            Err(_) => self.tail.iter().for_each(|&low| {
                self.set.insert(base | u64::from(low));
            }),
        }
        self.tail.clear();
    }

    /// Whether the key should move to the hash path: checked when it reaches
    /// `check_from` values, then each time it grows by a quarter (so that the
    /// checks cost O(1) per insert).
    fn too_costly(&mut self, limits: Limits) -> bool {
        if self.len < self.next_check.max(limits.check_from) {
            return false;
        }
        self.next_check = self.len + (self.len / 4).max(limits.check_from);
        self.heap_bytes() as u64 > self.len.saturating_mul(limits.max_bytes_per_id)
    }

    fn for_each(&self, mut f: impl FnMut(u64)) {
        self.set.iter().for_each(&mut f);
        if self.tail_active {
            let base = self.top.unwrap_or(0) << 16;
            self.tail.iter().for_each(|&low| f(base | u64::from(low)));
        }
    }

    fn heap_bytes(&self) -> usize {
        let mut bytes = self.tail.capacity() * size_of::<u16>();
        let mut parts = 0;
        for (_, bitmap) in self.set.bitmaps() {
            parts += 1;
            let s = bitmap.statistics();
            let containers = s.n_containers as usize;
            // The container vector grows by doubling from 4.
            bytes += containers.max(4).next_power_of_two() * CONTAINER_BYTES;
            bytes += containers * MALLOC_HEADER;
            // `statistics` counts 4 bytes per array slot and 65,536 per bitmap;
            // the real sizes are 2 bytes per slot and 8 KiB per bitmap.
            bytes += (s.n_bytes_array_containers / 2) as usize;
            bytes += s.n_bitset_containers as usize * 8192;
            bytes += s.n_bytes_run_containers as usize;
        }
        bytes + usize::div_ceil(parts, BTREE_ENTRIES_PER_NODE) * BTREE_NODE_BYTES
    }
}

/// Heap bytes of a hashbrown table that can hold `capacity` entries of
/// `entry` bytes without growing: a power of two of slots, 8/7 of the
/// capacity, each with its entry and a control byte.
#[cfg(test)]
fn hash_table_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let slots = (capacity * 8 / 7).next_power_of_two();
    slots * (entry + 1) + 16
}

/// The hash path: 64-bit xxh3 hashes of ids.
#[derive(Debug)]
struct Hashes {
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

impl Hashes {
    fn new(merge_at: usize) -> Hashes {
        Hashes {
            low: Vec::new(),
            starts: Vec::new(),
            recent: HashSet::default(),
            merge_at: merge_at.max(1),
        }
    }

    /// Records the hash of `id`; returns false when it was already present.
    fn insert(&mut self, id: &str) -> bool {
        let hash = xxhash_rust::xxh3::xxh3_64(id.as_bytes());
        if self.in_buckets(hash) || !self.recent.insert(hash) {
            return false;
        }
        if self.recent.len() >= self.merge_at {
            self.merge_recent();
        }
        true
    }

    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        self.low.capacity() * size_of::<[u8; 6]>()
            + self.starts.capacity() * size_of::<u32>()
            + hash_table_bytes(self.recent.capacity(), size_of::<u64>())
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

    /// Small thresholds: merges, the key limit, full tails and migrations all
    /// happen within a few ids.
    fn tiny(max_keys: usize, check_from: u64, max_bytes_per_id: u64, tail_max: usize) -> IdSet {
        IdSet::with_limits(Limits {
            merge_at: 5,
            max_keys,
            check_from,
            max_bytes_per_id,
            tail_max,
        })
    }

    /// The keys of `set` still on the numeric path.
    fn numeric_keys(set: &IdSet) -> Vec<(&str, u8)> {
        set.numeric
            .keys
            .iter()
            .filter(|k| k.values.is_some())
            .map(|k| (&*k.prefix, k.width))
            .collect()
    }

    /// Ids shaped like Salesforce's: 18 characters of [0-9A-Za-z], a
    /// different random-looking one for each `n`.
    fn opaque(n: u64) -> String {
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut x = n ^ 0x9e37_79b9_7f4a_7c15;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        let mut id = String::from("0035g");
        for _ in 0..13 {
            id.push(DIGITS[(x % 62) as usize] as char);
            x /= 62;
        }
        id
    }

    #[test]
    fn split_number_is_the_documented_bijection() {
        assert_eq!(split_number("c-1"), Some(("c-", 0, 1)));
        assert_eq!(split_number("c-01"), Some(("c-", 2, 1)));
        assert_eq!(split_number("c-001"), Some(("c-", 3, 1)));
        assert_eq!(split_number("c-10"), Some(("c-", 0, 10)));
        assert_eq!(split_number("0"), Some(("", 0, 0)));
        assert_eq!(split_number("00"), Some(("", 2, 0)));
        assert_eq!(split_number("lead-000123"), Some(("lead-", 6, 123)));
        assert_eq!(split_number("é2"), Some(("é", 0, 2)));
        assert_eq!(split_number("18446744073709551615"), Some(("", 0, u64::MAX)));
        assert_eq!(
            split_number("x01844674407370955161"),
            Some(("x", 20, 1_844_674_407_370_955_161))
        );
        assert_eq!(split_number("18446744073709551616"), None);
        assert_eq!(split_number("000000000000000000001"), None, "21 digits");
        assert_eq!(split_number("c-"), None);
        assert_eq!(split_number(""), None);
        assert_eq!(split_number("12a"), None);
        assert_eq!(
            split_number("١٢"),
            None,
            "Arabic-Indic digits are not ASCII digits"
        );
    }

    #[test]
    fn leading_zeros_make_different_ids() {
        let mut set = IdSet::default();
        for id in ["c-1", "c-01", "c-001", "7", "07", "007", "c-0", "c-00"] {
            assert!(set.insert(id), "first time of {id}");
        }
        for id in ["c-1", "c-01", "c-001", "7", "07", "007", "c-0", "c-00"] {
            assert!(!set.insert(id), "repeat of {id}");
        }
        assert_eq!(set.len(), 8);
        assert!(
            set.hashed.recent.is_empty() && set.hashed.low.is_empty(),
            "all numeric"
        );
    }

    #[test]
    fn the_largest_u64_is_numeric_and_one_more_is_hashed() {
        let mut set = IdSet::default();
        assert!(set.insert("18446744073709551615"));
        assert!(set.hashed.recent.is_empty());
        assert!(set.insert("18446744073709551616"));
        assert_eq!(set.hashed.recent.len(), 1);
        assert!(set.insert("99999999999999999999"));
        assert!(!set.insert("18446744073709551615"));
        assert!(!set.insert("18446744073709551616"));
        assert!(!set.insert("99999999999999999999"));
        assert!(set.insert("18446744073709551614"));
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn prefixes_beyond_the_limit_are_hashed_and_still_exact() {
        let mut set = IdSet::default();
        let ids: Vec<String> = (0..300)
            .flat_map(|p| (0..5).map(move |n| format!("p{p}x-{n}")))
            .collect();
        for id in &ids {
            assert!(set.insert(id), "first time of {id}");
        }
        assert_eq!(set.numeric.keys.len(), DEFAULT_LIMITS.max_keys);
        assert_eq!(set.hashed.recent.len() + set.hashed.low.len(), (300 - 64) * 5);
        for id in &ids {
            assert!(!set.insert(id), "repeat of {id}");
        }
        // A key seen once the table is full stays hashed, even with many ids.
        for n in 0..1000 {
            assert!(set.insert(&format!("late-{n}")));
        }
        assert_eq!(set.numeric.keys.len(), DEFAULT_LIMITS.max_keys);
        assert_eq!(set.len(), ids.len() + 1000);
    }

    #[test]
    fn a_migrated_key_keeps_every_earlier_id() {
        let mut set = IdSet::default();
        // Sparse random 12-digit numbers: one roaring container per value.
        let mut x = 12_345u64;
        let mut ids = Vec::new();
        for _ in 0..5000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ids.push(format!("hs-{}", (x >> 20) % 1_000_000_000_000));
        }
        // One dense key beside it, which stays numeric.
        for (i, id) in ids.iter().enumerate() {
            assert!(set.insert(id), "first time of {id}");
            assert!(set.insert(&format!("c-{i}")));
            if i == 200 {
                assert_eq!(numeric_keys(&set), vec![("hs-", 0), ("c-", 0)], "not checked yet");
            }
        }
        assert_eq!(
            numeric_keys(&set),
            vec![("c-", 0)],
            "hs- migrated at its first check"
        );
        for (i, id) in ids.iter().enumerate() {
            assert!(!set.insert(id), "repeat of {id}");
            assert!(!set.insert(&format!("c-{i}")));
        }
        assert!(set.insert("hs-1000000000000"));
        assert_eq!(set.len(), 2 * ids.len() + 1);
        assert_eq!(set.hashed.recent.len() + set.hashed.low.len(), ids.len() + 1);
    }

    #[test]
    fn full_tails_and_blocks_in_any_order() {
        let mut set = IdSet::default();
        let mut reference = HashSet::new();
        // Ascending through several blocks, past a full tail, then back down.
        let values = (0..70_000u64)
            .chain((60_000..200_000).step_by(3))
            .chain((0..300_000).rev().step_by(7))
            .chain([1 << 40, 5, 1 << 33, (1 << 40) + 1]);
        for v in values {
            let id = format!("v{v}");
            assert_eq!(set.insert(&id), reference.insert(id), "{v}");
        }
        assert_eq!(set.len(), reference.len());
        assert_eq!(numeric_keys(&set), vec![("v", 0)]);
    }

    #[test]
    fn repeats_are_found_before_and_after_merges() {
        let mut set = Hashes::new(RECENT);
        let n = RECENT * 3 + 17;
        for i in 0..n {
            assert!(set.insert(&format!("c-{i}")), "first time of c-{i}");
        }
        assert_eq!(set.low.len() + set.recent.len(), n);
        for i in (0..n).step_by(97) {
            assert!(!set.insert(&format!("c-{i}")), "repeat of c-{i}");
        }
        // The merged hashes are sorted and every bucket holds its own.
        let all: Vec<u64> = (0..BUCKETS)
            .flat_map(|b| set.bucket(b).iter().map(move |l| join(b, *l)))
            .collect();
        assert_eq!(all.len(), set.low.len());
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        // The recent set never doubles past 65,536 slots.
        assert!(hash_table_bytes(set.recent.capacity(), 8) < 600_000);
    }

    #[test]
    fn join_undoes_the_split() {
        for hash in [0u64, 1, u64::MAX, 0x1234_5678_9abc_def0] {
            assert_eq!(join(top16(hash), low48(hash)), hash);
        }
    }

    /// Bytes per id of a million ids of one shape.
    fn bytes_per_id(id: impl Fn(u64) -> String) -> f64 {
        let mut set = IdSet::default();
        for n in 0..1_000_000 {
            assert!(set.insert(&id(n)));
        }
        let bytes = set.heap_bytes() as f64 / 1e6;
        eprintln!("{bytes:.3} bytes per id");
        bytes
    }

    #[test]
    fn a_million_sequential_ids_take_under_a_megabyte() {
        let mut set = IdSet::default();
        for n in 0..1_000_000 {
            assert!(set.insert(&format!("g-{n}")));
        }
        assert_eq!(numeric_keys(&set), vec![("g-", 0)]);
        eprintln!("{:.3} bytes per id", set.heap_bytes() as f64 / 1e6);
        assert!(set.heap_bytes() < 1_000_000, "{} bytes", set.heap_bytes());
        assert!(!set.insert("g-999999") && !set.insert("g-0"));
    }

    #[test]
    fn a_million_ids_with_gaps_of_50_take_about_2_bytes_each() {
        let bytes = bytes_per_id(|n| format!("c-{}", 1000 + 50 * n));
        assert!(bytes < 2.2, "{bytes} bytes per id");
    }

    #[test]
    fn a_million_random_numbers_cost_what_hashes_cost() {
        // 10-digit numbers in a random-looking order (a bijection of 0..10¹⁰:
        // the factor is prime to 10), like HubSpot's.
        let bytes = bytes_per_id(|n| format!("{}", u128::from(n) * 7_919_000_003 % 10_000_000_000));
        assert!(bytes <= 7.0, "{bytes} bytes per id");
    }

    #[test]
    fn a_million_opaque_ids_cost_what_hashes_cost() {
        let bytes = bytes_per_id(opaque);
        assert!(bytes <= 7.0, "{bytes} bytes per id");
    }

    /// Ids of many shapes over a few prefixes, so that keys get many values.
    fn id_shape(prefixes: Vec<&'static str>) -> impl Strategy<Value = String> {
        let prefix = prop::sample::select(prefixes);
        let value = prop_oneof![
            0u64..40,
            (0u64..4, 0u64..6).prop_map(|(block, low)| (block << 16) + low),
            (0u64..3, 0u64..3).prop_map(|(high, low)| (high << 32) + low),
            (0u64..3).prop_map(|d| u64::MAX - d),
            (0u64..3).prop_map(|d| 10_000_000_000_000_000_000 - d),
        ];
        let zeros = prop_oneof![3 => Just(0usize), 1 => 1usize..3];
        prop_oneof![
            8 => (prefix.clone(), value, zeros).prop_map(|(p, v, zeros)| format!("{p}{}{v}", "0".repeat(zeros))),
            // Past u64::MAX (hashed), and more than 20 digits.
            1 => (prefix.clone(), 0u64..3).prop_map(|(p, d)| format!("{p}1844674407370955161{}", 6 + d)),
            1 => (prefix, 0usize..3).prop_map(|(p, zeros)| format!("{p}{}1", "0".repeat(19 + zeros))),
            // Many prefixes, for the key limit.
            1 => "[a-z0-9]{1,4}",
            1 => "\\PC{0,3}",
        ]
    }

    /// The distinct ids that a test inserts (in any order, with repeats).
    fn id_pool() -> impl Strategy<Value = Vec<String>> {
        let prefixes = vec!["", "c-", "g-", "lead-", "x", "é-", "日本", "a1b"];
        prop::sample::subsequence(prefixes, 1..=3)
            .prop_flat_map(|prefixes| prop::collection::vec(id_shape(prefixes), 1..80))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn agrees_with_a_hash_set(
            pool in id_pool(),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 0..400),
            max_keys in 0usize..6,
            check_from in 1u64..6,
            max_bytes_per_id in prop_oneof![Just(0u64), 1u64..200, Just(u64::MAX)],
            tail_max in 1usize..5,
        ) {
            let mut set = tiny(max_keys, check_from, max_bytes_per_id, tail_max);
            let mut reference = HashSet::new();
            for pick in picks {
                let id = pick.get(&pool);
                prop_assert_eq!(set.insert(id), reference.insert(id.clone()), "{:?}", id);
            }
            prop_assert_eq!(set.len(), reference.len());
            for id in &reference {
                prop_assert!(!set.insert(id), "{:?} not found at the end", id);
            }
        }

        #[test]
        fn agrees_with_a_hash_set_on_the_default_limits(ids in prop::collection::vec(0u32..3000, 0..4000)) {
            let mut set = IdSet::default();
            let mut reference = HashSet::new();
            for id in ids {
                let id = format!("id-{id}");
                prop_assert_eq!(set.insert(&id), reference.insert(id));
            }
        }

        #[test]
        fn the_hash_path_agrees_with_a_hash_set(ids in prop::collection::vec(0u32..3000, 0..4000)) {
            // Small merges, so that the buckets are exercised.
            let mut set = Hashes::new(300);
            let mut reference = HashSet::new();
            for id in ids {
                let id = format!("id-{id}");
                prop_assert_eq!(set.insert(&id), reference.insert(id));
            }
        }
    }
}
