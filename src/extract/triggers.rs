//! Event words: the lexicon's matches in the sentences that name an actor, as trigger
//! candidates, and the rule that picks a sentence's main one.

use super::Extractor;
use super::interact::Sides;
use super::matcher::{self, Hit};
use super::mentions::Found;
use super::source::{Article, norm_range, sentence_of};
use crate::plover::PloverType;

/// A trigger candidate (offsets in the article's virtual coordinates, see [`Source`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub(super) sentence: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    /// Normalised range.
    pub(super) nstart: usize,
    pub(super) nend: usize,
    pub(super) ty: PloverType,
    pub(super) verb: bool,
}

impl Extractor {
    /// Trigger candidates in the sentences that have a mention (`found`, in text order).
    pub(super) fn candidates(&self, art: &Article<'_>, found: &[Found]) -> Vec<Candidate> {
        let (src, norm, spans) = (&art.src, &art.norm, &art.spans[..]);
        let english = art.english();
        // Event words. Only sentences with actors can use them, so the one left-to-right pass
        // of the lexicon automaton skips the stretches of text between those sentences
        // (consecutive ones are searched as one region). Only English has a lexicon.
        let mut thits: Vec<Hit> = Vec::with_capacity(found.len() * 2 + 4);
        let mut region: Option<(usize, usize)> = None;
        let mut last_sentence = usize::MAX;
        for fd in found.iter().filter(|_| english) {
            if fd.sentence == last_sentence {
                continue;
            }
            last_sentence = fd.sentence;
            let (a, b) = norm_range(norm, spans[fd.sentence]);
            region = match region {
                Some((ra, rb)) if a <= rb => Some((ra, rb.max(b))),
                Some((ra, rb)) => {
                    matcher::scan(&self.lexicon, &norm.text, ra..rb, |_| true, &mut thits);
                    Some((a, b))
                }
                None => Some((a, b)),
            };
        }
        if let Some((ra, rb)) = region {
            matcher::scan(&self.lexicon, &norm.text, ra..rb, |_| true, &mut thits);
        }
        let mut candidates: Vec<Candidate> = Vec::with_capacity(thits.len());
        let mut k = 0;
        for h in &thits {
            let info = self.triggers[h.pattern];
            let Some(ty) = info.ty else {
                continue;
            };
            let (start, end) = src.span(norm, h.start, h.end);
            let Some(sentence) = sentence_of(spans, start, end) else {
                continue;
            };
            while k < found.len() && found[k].sentence < sentence {
                k += 1;
            }
            if k == found.len() {
                break;
            }
            if found[k].sentence == sentence {
                candidates.push(Candidate {
                    sentence,
                    start,
                    end,
                    nstart: h.start,
                    nend: h.end,
                    ty,
                    verb: info.verb,
                });
            }
        }
        candidates
    }
}

/// The trigger rule (see the module docs). Denial verbs that govern another trigger step
/// aside; triggers whose interaction links two actors beat those with one actor on a side,
/// which beat those with none; then ordinary
/// verbs beat nouns and nouns beat statement words; then the first at or after the first
/// actor mention wins, else the nearest before it. Returns an index into `cands`.
pub(super) fn choose_trigger(
    cands: &[Candidate],
    sides: &[Sides],
    first_mention: usize,
) -> Option<usize> {
    let rank = |c: &Candidate| {
        if c.ty == PloverType::Statement {
            2
        } else if c.verb {
            0
        } else {
            1
        }
    };
    // The pool: the eligible triggers linking two actors, else those with one, else all
    // eligible ones (filtered in place rather than collected).
    let counts = || {
        (0..cands.len())
            .filter(|&k| !sides[k].absorbed)
            .map(|k| (k, sides[k].actor_count()))
    };
    let most = counts().map(|(_, n)| n.min(2)).max()?;
    let pool = || counts().filter(move |&(_, n)| n >= most).map(|(k, _)| k);
    let best = pool().map(|k| rank(&cands[k])).min()?;
    let mut before = None;
    for k in pool().filter(|&k| rank(&cands[k]) == best) {
        if cands[k].start >= first_mention {
            return Some(k);
        }
        before = Some(k);
    }
    before
}
