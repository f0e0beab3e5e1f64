//! Actor mentions: the alias automaton's matches mapped back to the original text and to
//! sentences, dated roles checked, coordinated demonyms expanded, referring words resolved.

use chrono::NaiveDate;

use super::Extractor;
use super::matcher::{self, Hit};
use super::source::{Article, sentence_of};

/// One actor mention (virtual coordinates).
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    pub(super) sentence: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    /// Normalised range.
    pub(super) nstart: usize,
    pub(super) nend: usize,
    pub(super) actor: usize,
    pub(super) via_role: bool,
    /// Set when coreference resolved a referring word to this actor.
    pub(super) how: Option<&'static str>,
}

impl Extractor {
    /// Every actor mention and resolved referring word, in text order, and which actors
    /// are named at all (`seen[actor]`).
    pub(super) fn mentions(
        &self,
        art: &Article<'_>,
        date: Option<NaiveDate>,
    ) -> (Vec<Found>, Vec<bool>) {
        let (src, norm, spans) = (&art.src, &art.norm, &art.spans[..]);
        let english = art.english();
        // Actor mentions and referring words, in text order.
        let mut hits: Vec<Hit> = Vec::with_capacity(norm.text.len() / 128 + 4);
        matcher::scan(
            &self.aliases,
            &art.norm.text,
            0..norm.text.len(),
            |p| {
                (english && (self.coref[p].is_some() || self.plural_office[p].is_some()))
                    || self.owners[p].iter().any(|o| o.valid_at(date))
            },
            &mut hits,
        );
        let mut found: Vec<Found> = Vec::with_capacity(hits.len());
        let mut seen = vec![false; self.ids.len()];
        for h in &hits {
            let (start, mut end) = src.span(norm, h.start, h.end);
            if self.dotted[h.pattern] && src.slice(end, end + 1) == "." {
                end += 1;
            }
            let Some(sentence) = sentence_of(spans, start, end) else {
                continue;
            };
            if let Some(office) = &self.plural_office[h.pattern]
                && english
            {
                // "the Egyptian, Jordanian and Qatari foreign ministers": one mention per
                // demonym, each naming that country's office holder at the article's date.
                for (ns, ne, p) in self.coordinated_roles(&art.norm.text, h.start, office) {
                    let (ms, me) = src.span(norm, ns, ne);
                    if sentence_of(spans, ms, me) != Some(sentence) {
                        continue;
                    }
                    for o in self.owners[p].iter().filter(|o| o.valid_at(date)) {
                        found.push(Found {
                            sentence,
                            start: ms,
                            end: me,
                            nstart: ns,
                            nend: ne,
                            actor: o.actor,
                            via_role: o.via_role,
                            how: None,
                        });
                        seen[o.actor] = true;
                    }
                }
                continue;
            }
            let owners = &self.owners[h.pattern];
            let mut named = false;
            for o in owners.iter().filter(|o| o.valid_at(date)) {
                named = true;
                // One mention per actor per span; a name reading beats a role reading.
                let same_actor_earlier = owners
                    .iter()
                    .take_while(|x| *x != o)
                    .any(|x| x.actor == o.actor && x.valid_at(date));
                let name_too = o.via_role
                    && owners
                        .iter()
                        .any(|x| x.actor == o.actor && !x.via_role && x.valid_at(date));
                if same_actor_earlier || name_too {
                    continue;
                }
                found.push(Found {
                    sentence,
                    start,
                    end,
                    nstart: h.start,
                    nend: h.end,
                    actor: o.actor,
                    via_role: o.via_role,
                    how: None,
                });
                seen[o.actor] = true;
            }
            if named || !english {
                continue;
            }
            if let Some(c) = self.coref[h.pattern]
                && let Some((actor, how)) =
                    self.resolve(c, &found, sentence, &art.norm.text[..h.start], date)
            {
                found.push(Found {
                    sentence,
                    start,
                    end,
                    nstart: h.start,
                    nend: h.end,
                    actor,
                    via_role: false,
                    how: Some(how),
                });
            }
        }
        (found, seen)
    }

    /// The demonyms coordinated before a plural office that ends at normalised byte `at`
    /// ("the egyptian , jordanian and qatari | foreign ministers"), each with the alias
    /// pattern of its singular role ("egyptian foreign minister"), as normalised ranges.
    /// At least two demonyms, joined by commas and "and"/"or", or nothing: a single
    /// demonym with a plural office names no one in particular.
    pub(super) fn coordinated_roles(
        &self,
        text: &str,
        at: usize,
        office: &str,
    ) -> Vec<(usize, usize, usize)> {
        // The words before `at`, nearest first, with their ranges.
        let mut words: Vec<(usize, usize)> = Vec::with_capacity(16);
        let mut end = at;
        while words.len() < 24 {
            let before = text[..end].trim_end_matches(' ');
            if before.is_empty() {
                break;
            }
            let s = before.rfind(' ').map_or(0, |i| i + 1);
            words.push((s, before.len()));
            end = s;
        }
        let w = |i: usize| &text[words[i].0..words[i].1];
        let mut out = Vec::new();
        let mut members = 0;
        let mut i = 0;
        loop {
            // A demonym of up to three words ending at word i.
            let mut hit = None;
            for k in (1..=3usize).rev() {
                if i + k > words.len() {
                    continue;
                }
                let phrase = &text[words[i + k - 1].0..words[i].1];
                if self.demonyms.contains(phrase) {
                    hit = Some((k, phrase));
                    break;
                }
            }
            let Some((k, phrase)) = hit else {
                break;
            };
            members += 1;
            if let Some(&p) = self.alias_index.get(&format!(" {phrase} {office} ")) {
                out.push((words[i + k - 1].0, words[i].1, p));
            }
            i += k;
            // Separators: ",", "and", "or", ", and".
            let mut sep = 0;
            while i + sep < words.len() && matches!(w(i + sep), "," | "and" | "or") && sep < 2 {
                sep += 1;
            }
            if sep == 0 {
                break;
            }
            i += sep;
        }
        if members < 2 {
            out.clear();
        }
        out.reverse();
        out
    }
}
