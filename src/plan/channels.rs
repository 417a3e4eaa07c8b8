//! Channels and what keeps a target off its channel: [`Channel`] (the built-in
//! ads, email and sales, then the ones a rule set declares with `channel
//! NAME`), and per target a [`Reach`]: its channel, the suppressions it is
//! exempt from (`despite …`) and the precomputed [`SuppressionSet`] of those
//! that block it, so evaluation checks a target with one AND per 64
//! suppressions.

/// A channel: an index into [`crate::plan::Plan::channels`], whose first three
/// are the built-in ads, email and sales; declared channels follow in
/// declaration order. A rule set has at most [`Channel::LIMIT`] channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel(pub u8);

impl Channel {
    /// Audiences' own channel.
    pub const ADS: Channel = Channel(0);
    /// Workflows' own channel.
    pub const EMAIL: Channel = Channel(1);
    /// Routes' own channel.
    pub const SALES: Channel = Channel(2);
    /// The built-in channels with their names, in index order.
    pub const BUILT_IN: [(Channel, &'static str); 3] = [
        (Channel::ADS, "ads"),
        (Channel::EMAIL, "email"),
        (Channel::SALES, "sales"),
    ];
    /// The most channels a rule set may have (built-in ones included): a
    /// suppression's channels are one `u64`.
    pub const LIMIT: usize = 64;

    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// This channel's bit in a suppression's channel set.
    pub fn bit(self) -> u64 {
        1u64.checked_shl(u32::from(self.0)).unwrap_or(0)
    }
}

/// A set of suppressions, by declaration index: bit `i % 64` of word `i / 64`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuppressionSet {
    pub words: Vec<u64>,
}

impl SuppressionSet {
    /// The number of words a set over `count` suppressions needs.
    pub fn words_for(count: usize) -> usize {
        count.div_ceil(64)
    }

    pub fn insert(&mut self, index: usize) {
        let word = index / 64;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        if let Some(w) = self.words.get_mut(word) {
            *w |= 1u64 << (index % 64);
        }
    }

    pub fn contains(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|w| w & (1u64 << (index % 64)) != 0)
    }

    /// Whether a suppression of this set is among `applying` (words of the
    /// same layout).
    pub fn intersects(&self, applying: &[u64]) -> bool {
        self.words.iter().zip(applying).any(|(a, b)| a & b != 0)
    }
}

/// Where a target delivers and what keeps it off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub channel: Channel,
    /// The suppressions named after `despite`, as written (declaration indices).
    pub exempt_from: Vec<usize>,
    /// The suppressions on `channel` the target is not exempt from: the
    /// contact is kept out when one of them applies.
    pub blocked_by: SuppressionSet,
}

impl Default for Channel {
    fn default() -> Channel {
        Channel::ADS
    }
}
