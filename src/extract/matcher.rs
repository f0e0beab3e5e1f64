//! Whole-word, leftmost-longest phrase matching over normalised text.
//!
//! One Aho-Corasick automaton (`MatchKind::LeftmostLongest`) scans the whole normalised article
//! once. Normalisation pads every word and punctuation mark with spaces, and patterns are
//! normalised the same way (` blinken `), so a match always starts and ends on a word boundary:
//! "blinken" cannot match in "blinkenstein", nor "us" in "usa" or "bus", and the automaton
//! never stops on in-word hits. Consecutive matches share the space between them, so the scan
//! resumes on the trailing space of the previous match.
//!
//! The caller may refuse a match (e.g. a role alias not valid at the article's date). Then
//! shorter matches at the *same* start are tried by anchored searches with a shrinking end
//! ("us secretary of state" refused → "us" may still be an alias) before the scan moves on.
//! These retries only happen on refused matches, so the common path is one pass; they run on
//! a second, compact (NFA) automaton, built only for phrase sets whose matches can be refused,
//! so the scanning DFA is built for unanchored starts alone (half the size of one for both).

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

/// One accepted match in the normalised text, without its padding spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Start byte in the normalised text (first byte of the first word).
    pub start: usize,
    /// End byte (exclusive) in the normalised text (after the last word).
    pub end: usize,
    /// Index of the pattern that matched.
    pub pattern: usize,
}

/// A compiled phrase set: the automaton that scans, and (only where a caller may refuse a
/// match) a second one for the anchored shorter-match retries.
#[derive(Debug)]
pub(crate) struct Matcher {
    /// Unanchored, for the scan.
    scan: AhoCorasick,
    /// Anchored, for the retries after a refused match; `None` when nothing is ever refused.
    retry: Option<AhoCorasick>,
}

fn builder(kind: AhoCorasickKind, start: StartKind) -> aho_corasick::AhoCorasickBuilder {
    let mut b = AhoCorasick::builder();
    b.match_kind(MatchKind::LeftmostLongest)
        .start_kind(start)
        .kind(Some(kind))
        // Every pattern starts with a space, so a prefilter would only find spaces.
        .prefilter(false);
    b
}

/// Builds the matcher for patterns as [`super::normalize::normalize`] returns them (padded
/// with one space on each side). `refusable`: the caller's `accept` may refuse a match, so
/// the anchored retry automaton is built too.
pub(crate) fn build(
    patterns: &[String],
    refusable: bool,
) -> Result<Matcher, aho_corasick::BuildError> {
    // The scan runs unanchored only: a DFA built for both kinds of start is twice the size
    // (MBs for a thousand aliases or the lexicon), and the scan is what runs on every byte.
    let scan = builder(AhoCorasickKind::DFA, StartKind::Unanchored).build(patterns)?;
    // Retries are rare (a refused match), so a compact NFA serves them.
    let retry = if refusable {
        Some(builder(AhoCorasickKind::ContiguousNFA, StartKind::Anchored).build(patterns)?)
    } else {
        None
    };
    Ok(Matcher { scan, retry })
}

/// Scans `hay[range]` (normalised, padded) and appends every accepted match, in order, to
/// `out`.
pub(crate) fn scan(
    m: &Matcher,
    hay: &str,
    range: std::ops::Range<usize>,
    mut accept: impl FnMut(usize) -> bool,
    out: &mut Vec<Hit>,
) {
    let len = range.end.min(hay.len());
    let mut pos = range.start;
    while pos < len {
        let Some(found) = m.scan.find(Input::new(hay).range(pos..len)) else {
            break;
        };
        let start = found.start();
        let (mut end, mut pattern) = (found.end(), found.pattern().as_usize());
        let accepted = loop {
            if accept(pattern) {
                break true;
            }
            // The longest match is refused: try the longest one ending earlier, same start.
            let Some(retry) = &m.retry else {
                break false;
            };
            let input = Input::new(hay)
                .range(start..end - 1)
                .anchored(Anchored::Yes);
            match retry.find(input) {
                Some(shorter) => {
                    end = shorter.end();
                    pattern = shorter.pattern().as_usize();
                }
                None => break false,
            }
        };
        if accepted && end >= start + 2 {
            out.push(Hit {
                start: start + 1,
                end: end - 1,
                pattern,
            });
            // The trailing space may start the next match.
            pos = end - 1;
        } else {
            // Nothing here: the next match starts at the next space.
            pos = start + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalize::normalize;
    use super::*;

    fn hits(patterns: &[&str], hay: &str, refuse: &[&str]) -> Vec<String> {
        let pats: Vec<String> = patterns.iter().map(|s| normalize(s).text).collect();
        let ac = build(&pats, true).unwrap();
        let mut out = Vec::new();
        let hay = &normalize(hay).text;
        scan(
            &ac,
            hay,
            0..hay.len(),
            |p| !refuse.contains(&patterns[p]),
            &mut out,
        );
        out.iter()
            .map(|h| hay[h.start..h.end].to_string())
            .collect()
    }

    #[test]
    fn whole_words_only() {
        // "Blinkenstein" is not Blinken, and "US" is not in "USA" or "bus".
        assert_eq!(
            hits(&["blinken", "us"], "blinkenstein, usa bus us blinken.", &[]),
            ["us", "blinken"]
        );
        assert_eq!(hits(&["blinken"], "xblinken blinken", &[]), ["blinken"]);
        // Adjacent matches share the space between them.
        assert_eq!(
            hits(&["met", "blinken"], "blinken met blinken", &[]),
            ["blinken", "met", "blinken"]
        );
    }

    #[test]
    fn longest_wins_and_refusal_falls_back_to_shorter() {
        // A role alias refused at the date must not hide a shorter valid alias at the same place.
        let pats = [
            "us",
            "us secretary of state",
            "secretary of state",
            "antony blinken",
        ];
        assert_eq!(
            hits(&pats, "us secretary of state antony blinken", &[]),
            ["us secretary of state", "antony blinken"]
        );
        assert_eq!(
            hits(
                &pats,
                "us secretary of state antony blinken",
                &["us secretary of state"]
            ),
            ["us", "secretary of state", "antony blinken"]
        );
        // A longer match that ends inside a word falls back too.
        assert_eq!(
            hits(&["called", "called on"], "called only", &[]),
            ["called"]
        );
    }

    #[test]
    fn non_ascii_boundaries() {
        // Word boundaries must be Unicode-aware after folding ("é" is a letter).
        assert_eq!(hits(&["mikati"], "mikatié mikati", &[]), ["mikati"]);
    }
}
