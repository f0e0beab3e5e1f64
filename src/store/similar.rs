//! Near-duplicate detection for wire copies, and the count of independent outlets built on it.
//!
//! Corroboration (alert rules with `min_sources`) and event clustering (the `pe` projection:
//! one event, many reports) must both count a wire story that many outlets reprint (with a
//! dateline, a new headline or a trimmed paragraph) once. Both use this module, so the two
//! counts can never disagree.
//!
//! The fingerprint is a bottom-k MinHash sketch of the text's word 3-shingles: the `K`
//! smallest 64-bit shingle hashes and the number of distinct shingles. News items in feeds are
//! short (most have fewer than `K` shingles), and there the sketch holds every shingle, so
//! containment is exact; longer texts (fetched full articles) get the standard bottom-k
//! estimate of Jaccard similarity, turned into containment with the two set sizes. SimHash
//! was not used: its few differing bits are too coarse to tell a trimmed reprint from an
//! independent report of the same meeting at this length. The sketch is small and
//! serialisable, so projections can keep it per article instead of the text.
//!
//! It lives in `store` because the event-cluster projection stores these sketches (so their
//! hash must never change); the alert rules, which sit above the store, import it from here.

use serde::{Deserialize, Serialize};

/// Two texts are the same story when at least this share of the shorter one's shingles occur
/// in the longer one. Independent reports of one meeting share names and a few phrases, far
/// below this; reprints share nearly everything.
pub const SAME_STORY: f64 = 0.6;

/// Hashes kept per sketch: exact containment up to this many distinct shingles.
pub const K: usize = 128;

/// Lowercased alphanumeric words.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// FNV-1a, 64 bits: stable across builds and platforms (unlike `DefaultHasher`), which the
/// sketches stored in projections rely on.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // A final avalanche (splitmix64) so that the smallest hashes are a uniform sample, which
    // the bottom-k estimate assumes; FNV's low bits alone are not.
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A text's fingerprint: the bottom-k MinHash sketch of its word 3-shingles (of its words when
/// it has fewer than three).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sketch {
    /// The smallest distinct shingle hashes, ascending, at most [`K`].
    pub mins: Vec<u64>,
    /// Distinct shingles in the text.
    pub total: u32,
}

impl Sketch {
    /// Fingerprints `text`.
    pub fn of(text: &str) -> Sketch {
        let words = words(text);
        let mut all: Vec<u64> = if words.len() < 3 {
            words.iter().map(|w| fnv1a(w.as_bytes())).collect()
        } else {
            words
                .windows(3)
                .map(|s| fnv1a(s.join(" ").as_bytes()))
                .collect()
        };
        all.sort_unstable();
        all.dedup();
        let total = u32::try_from(all.len()).unwrap_or(u32::MAX);
        all.truncate(K);
        Sketch { mins: all, total }
    }

    /// Is the whole shingle set in the sketch (so set operations on it are exact)?
    fn complete(&self) -> bool {
        self.mins.len() as u64 == u64::from(self.total)
    }

    /// Containment of the smaller shingle set in the larger, 0.0..=1.0: exact when both
    /// sketches are complete, else estimated from the bottom-k of the union.
    pub fn containment(&self, other: &Sketch) -> f64 {
        let small = self.total.min(other.total);
        if small == 0 {
            return 0.0;
        }
        if self.complete() && other.complete() {
            let shared = count_shared(&self.mins, &other.mins);
            return shared as f64 / f64::from(small);
        }
        // Bottom-k of the union: its k smallest hashes; the share of them present in both
        // sketches estimates Jaccard similarity J. A hash below both sketches' k-th smallest
        // is in a set exactly when it is in that set's sketch.
        let mut union: Vec<u64> = self.mins.iter().chain(&other.mins).copied().collect();
        union.sort_unstable();
        union.dedup();
        union.truncate(K.min(self.mins.len()).min(other.mins.len()).max(1));
        let both = union
            .iter()
            .filter(|h| self.mins.binary_search(h).is_ok() && other.mins.binary_search(h).is_ok())
            .count();
        let j = both as f64 / union.len() as f64;
        // |A ∩ B| = J |A ∪ B| and |A ∪ B| = (|A| + |B|) / (1 + J).
        let sizes = f64::from(self.total) + f64::from(other.total);
        let shared = j * sizes / (1.0 + j);
        (shared / f64::from(small)).clamp(0.0, 1.0)
    }

    /// True when the two texts are (near) copies of one story.
    pub fn same_story(&self, other: &Sketch) -> bool {
        self.containment(other) >= SAME_STORY
    }
}

/// Elements common to two ascending, deduplicated lists.
fn count_shared(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The site host of a link, lowercased and without `www.`: what makes two feeds one outlet.
pub fn site_host(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(host.strip_prefix("www.").map(str::to_owned).unwrap_or(host))
}

/// One report of a story, as outlet counting needs it.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The feed it came from.
    pub feed: &'a str,
    /// The site host of its link, if it has one.
    pub host: Option<&'a str>,
    /// Its text's sketch.
    pub sketch: &'a Sketch,
}

/// Counts independent outlets among reports given in time order. Reports of one feed or one
/// site host are one outlet; an outlet counts only if at least one of its reports is not a
/// near-duplicate (a wire copy) of a report of an outlet already counted. Returns, per counted
/// outlet, the index of its first report, in order.
pub fn independent_outlets(reports: &[Report<'_>]) -> Vec<usize> {
    let n = reports.len();
    // Outlet of each report: the first earlier report sharing its feed or host.
    let mut outlet: Vec<usize> = (0..n).collect();
    for i in 0..n {
        if let Some(j) = (0..i).find(|&j| {
            reports[i].feed == reports[j].feed
                || (reports[i].host.is_some() && reports[i].host == reports[j].host)
        }) {
            outlet[i] = outlet[j];
        }
    }
    let mut counted: Vec<usize> = Vec::new();
    for o in 0..n {
        if outlet[o] != o {
            continue;
        }
        let original = (0..n).filter(|&i| outlet[i] == o).any(|i| {
            !(0..n).any(|j| {
                counted.contains(&outlet[j]) && reports[i].sketch.same_story(reports[j].sketch)
            })
        });
        if original {
            counted.push(o);
        }
    }
    counted
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
        assert!(Sketch::of(WIRE).same_story(&Sketch::of(&reprint)));
        let trimmed = &WIRE[..WIRE.find(", officials").unwrap()];
        assert!(Sketch::of(WIRE).same_story(&Sketch::of(trimmed)));
    }

    #[test]
    fn different_reports_are_not() {
        // Two outlets' own reports of the same meeting must count as two sources.
        let other = "Our correspondent saw the foreign minister arrive at the palace, where a \
            ceasefire and hostages were on the table, according to two people present.";
        assert!(!Sketch::of(WIRE).same_story(&Sketch::of(other)));
    }

    /// A long text: `n` sentences, each different.
    fn long(seed: &str, n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "{seed} paragraph {i} adds detail number {} to the story. ",
                    i * 7
                )
            })
            .collect()
    }

    #[test]
    fn long_texts_use_the_estimate_and_still_separate() {
        // Fetched full articles exceed K shingles: a trimmed copy must still match and an
        // unrelated long text must not, through the bottom-k estimate.
        let original = long("The envoy", 120);
        let copy = format!("PARIS (Wire) - {}", &original[..original.len() * 3 / 4]);
        let a = Sketch::of(&original);
        assert!(a.total as usize > K && !a.complete());
        assert!(
            a.same_story(&Sketch::of(&copy)),
            "{}",
            a.containment(&Sketch::of(&copy))
        );
        let other: String = (0..120)
            .map(|i| {
                format!(
                    "Witness {i} told our reporter of scene {} near the border. ",
                    i * 3
                )
            })
            .collect();
        assert!(!a.same_story(&Sketch::of(&other)));
    }

    #[test]
    fn wire_copies_across_outlets_count_once() {
        // Corroboration and clustering: a reprint on another site is not a second source,
        // an independent report is; one site's second story is the same outlet.
        let wire = Sketch::of(WIRE);
        let reprint = Sketch::of(&format!("AMMAN (Wire) - {WIRE}"));
        let own = Sketch::of("Our correspondent saw the minister arrive at the palace for talks.");
        let reports = [
            Report {
                feed: "wire",
                host: Some("wire.example"),
                sketch: &wire,
            },
            Report {
                feed: "paper",
                host: Some("paper.example"),
                sketch: &reprint,
            },
            Report {
                feed: "daily",
                host: Some("daily.example"),
                sketch: &own,
            },
            Report {
                feed: "daily2",
                host: Some("daily.example"),
                sketch: &own,
            },
        ];
        assert_eq!(independent_outlets(&reports), vec![0, 2]);
    }

    #[test]
    fn sketch_round_trips_through_json() {
        // Projections store sketches; decoding must give back the same fingerprint.
        let s = Sketch::of(WIRE);
        let back: Sketch = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
