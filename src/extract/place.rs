//! Where an event happened: the first gazetteer place after a location cue in the sentence.

use super::gazetteer::PlaceKind;
use super::matcher::{self, Hit};
use super::{Extractor, Location, normalize};

impl Extractor {
    /// The sentence's location: the first gazetteer place after "in", "to", "at", a visit
    /// verb or "capital (city) of"; a country followed by ", <its city>" gives the city.
    pub(super) fn location(
        &self,
        norm: &normalize::Normalized,
        na: usize,
        nb: usize,
        (words, starts): (&[&str], &[usize]),
        taken: &[(usize, usize)],
        hits: &mut Vec<Hit>,
    ) -> Option<Location> {
        let text = &norm.text;
        let prev_words = |at: usize| -> (&str, &str) {
            let mut it = text[..at].split(' ').rev().filter(|w| !w.is_empty());
            (it.next().unwrap_or(""), it.next().unwrap_or(""))
        };
        // A place counts only right after a cue word (below), so a sentence without one has
        // no location, and the scan may start at the first cue: every place before it lacks
        // one (the word before the sentence is checked too, as the first place's previous
        // word may be there). That holds only while no place name has a cue word inside it
        // (`places_cue_free`), else a place found from an earlier start could run across the
        // cue and hide the one after it. The sentence's words are its tokens (`words`,
        // starting at `starts`).
        let mut from = na;
        {
            let bytes = text.as_bytes();
            // The space before the first word: `na` itself, or the one before the word
            // holding `na`.
            let pos = if bytes.get(na) == Some(&b' ') {
                na
            } else {
                text[..na].rfind(' ').unwrap_or(0)
            };
            let mut prev = prev_words(pos);
            let mut first_cue = is_location_cue(prev.0, prev.1).then_some(na);
            for (k, &w) in words.iter().enumerate() {
                if first_cue.is_some() {
                    break;
                }
                // A first token cut at `na` is read as its whole word.
                let (w, start) = if k == 0 && pos != na {
                    (&text[pos + 1..starts[0] + w.len()], pos + 1)
                } else {
                    (w, starts[k])
                };
                if is_location_cue(w, prev.0) {
                    // The scan starts on the space before the cue word.
                    first_cue = Some(start.saturating_sub(1));
                }
                prev = (w, prev.0);
            }
            match first_cue {
                None => return None,
                Some(at) if self.places_cue_free => from = at.max(na),
                Some(_) => {}
            }
        }
        hits.clear();
        matcher::scan(&self.places, &norm.text, from..nb, |_| true, hits);
        // A place inside a person's or role's mention ("Lebanon's prime minister") is not
        // where anything happened.
        hits.retain(|h| !taken.iter().any(|&(a, b)| a < h.end && h.start < b));
        for (i, h) in hits.iter().enumerate() {
            let (p1, p2) = prev_words(h.start);
            let ok = is_location_cue(p1, p2);
            if !ok {
                continue;
            }
            let mut kind = self.place_kinds[h.pattern];
            if let PlaceKind::Country(ci) = kind
                && let Some(next) = hits.get(i + 1)
                && text[h.end..next.start].trim() == ","
                && let PlaceKind::City(cj, _) = self.place_kinds[next.pattern]
                && cj == ci
            {
                kind = self.place_kinds[next.pattern];
            }
            return Some(match kind {
                PlaceKind::Country(ci) => Location {
                    name: self.countries[ci].to_string(),
                    country: self.countries[ci].to_string(),
                },
                PlaceKind::City(ci, name) => Location {
                    name: name.to_string(),
                    country: self.countries[ci].to_string(),
                },
            });
        }
        None
    }
}

/// Whether a place right after the word `w` (itself after `before`) is where an event
/// happened: "in", "to", "at", "into", "toward(s)", a visit verb, "reached", or "of" after
/// "capital"/"city" ("the capital of Jordan").
pub(super) fn is_location_cue(w: &str, before: &str) -> bool {
    matches!(
        w,
        "in" | "to"
            | "at"
            | "into"
            | "toward"
            | "towards"
            | "visit"
            | "visited"
            | "visiting"
            | "visits"
            | "reached"
    ) || (w == "of" && matches!(before, "capital" | "city"))
}
