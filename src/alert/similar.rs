//! Near-duplicate detection for wire copies: word 3-shingle containment.
//!
//! Corroboration must count a wire story that many outlets reprint (with a dateline, a new
//! headline or a trimmed paragraph) once. News items in feeds are short, where SimHash's few
//! differing bits are too coarse; the share of one text's word 3-shingles found in the other
//! (containment, so a trimmed copy still matches its original) is exact and cheap at this size.

use std::collections::HashSet;

/// Two texts are the same story when at least this share of the shorter one's shingles occur
/// in the longer one. Independent reports of one meeting share names and a few phrases, far
/// below this; reprints share nearly everything.
pub const SAME_STORY: f64 = 0.6;

/// Lowercased alphanumeric words.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// FNV-1a, 64 bits: stable across builds and platforms (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A text's fingerprint: hashes of its word 3-shingles (of its words when shorter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shingles(HashSet<u64>);

impl Shingles {
    /// Fingerprints `text`.
    pub fn of(text: &str) -> Shingles {
        let words = words(text);
        let set = if words.len() < 3 {
            words.iter().map(|w| fnv1a(w.as_bytes())).collect()
        } else {
            words
                .windows(3)
                .map(|s| fnv1a(s.join(" ").as_bytes()))
                .collect()
        };
        Shingles(set)
    }

    /// Containment of the smaller set in the larger, 0.0..=1.0.
    pub fn containment(&self, other: &Shingles) -> f64 {
        let (small, large) = if self.0.len() <= other.0.len() {
            (&self.0, &other.0)
        } else {
            (&other.0, &self.0)
        };
        if small.is_empty() {
            return 0.0;
        }
        let shared = small.iter().filter(|h| large.contains(h)).count();
        shared as f64 / small.len() as f64
    }

    /// True when the two texts are (near) copies of one story.
    pub fn same_story(&self, other: &Shingles) -> bool {
        self.containment(other) >= SAME_STORY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &str = "The foreign minister met his counterpart in the capital on Tuesday to discuss \
        a ceasefire, the release of hostages and the delivery of humanitarian aid, officials said, \
        adding that further talks were planned for next week in the region.";

    #[test]
    fn a_reprint_with_a_dateline_or_a_cut_is_the_same_story() {
        // Wire copies get a dateline, a new headline or a trimmed clause; they count once.
        let reprint = format!("Minister meets counterpart. CAIRO (Wire) - {WIRE}");
        assert!(Shingles::of(WIRE).same_story(&Shingles::of(&reprint)));
        let trimmed = &WIRE[..WIRE.find(", officials").unwrap()];
        assert!(Shingles::of(WIRE).same_story(&Shingles::of(trimmed)));
    }

    #[test]
    fn different_reports_are_not() {
        // Two outlets' own reports of the same meeting must count as two sources.
        let other = "Our correspondent saw the foreign minister arrive at the palace, where a \
            ceasefire and hostages were on the table, according to two people present.";
        assert!(!Shingles::of(WIRE).same_story(&Shingles::of(other)));
    }
}
