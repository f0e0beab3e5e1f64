//! Near-duplicate detection for wire copies: a 64-bit SimHash over word 3-shingles.
//!
//! Corroboration must count a wire story that many outlets reprint (with a new headline or a
//! trimmed paragraph) once. SimHash maps similar texts to fingerprints a few bits apart, so
//! "same story" is a Hamming distance test, cheap enough to run on every candidate.

/// Fingerprints within this many differing bits are the same story.
pub const NEAR_DUPLICATE_BITS: u32 = 6;

/// FNV-1a, 64 bits: stable across builds and platforms (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Lowercased alphanumeric words.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The SimHash of a text's word 3-shingles (single words when it is shorter).
pub fn simhash(text: &str) -> u64 {
    let words = words(text);
    let mut counts = [0i64; 64];
    let mut add = |h: u64| {
        for (bit, count) in counts.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *count += 1;
            } else {
                *count -= 1;
            }
        }
    };
    if words.len() < 3 {
        for w in &words {
            add(fnv1a(w.as_bytes()));
        }
    } else {
        for shingle in words.windows(3) {
            add(fnv1a(shingle.join(" ").as_bytes()));
        }
    }
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .fold(0u64, |acc, (bit, _)| acc | 1 << bit)
}

/// True when two texts are (near) copies of one story.
pub fn near_duplicate(a: u64, b: u64) -> bool {
    (a ^ b).count_ones() <= NEAR_DUPLICATE_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &str = "The foreign minister met his counterpart in the capital on Tuesday to discuss \
        a ceasefire, the release of hostages and the delivery of humanitarian aid, officials said, \
        adding that further talks were planned for next week in the region.";

    #[test]
    fn a_reprint_with_a_new_lead_is_a_near_duplicate() {
        // Wire copies get a dateline or a trimmed clause; they must still count as one story.
        let reprint = format!("CAIRO (Wire) - {WIRE}");
        assert!(near_duplicate(simhash(WIRE), simhash(&reprint)));
    }

    #[test]
    fn different_stories_are_not() {
        // Two outlets' own reports of the same meeting must count as two sources.
        let other = "Talks between the two governments stalled again as negotiators accused each \
            other of bad faith over the prisoner exchange and border crossings on Wednesday night.";
        assert!(!near_duplicate(simhash(WIRE), simhash(other)));
    }
}
