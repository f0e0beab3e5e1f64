//! One event per sentence with actors: the sentence's tokens, mentions and triggers placed
//! on them, every interaction's sides and status (`interact`), the main trigger, location
//! and date.

use chrono::NaiveDate;

use super::features::{self, PairMention, PairSample, SentenceView};
use super::interact::{self, MentionTok, Sides, Tok, TrigTok};
use super::matcher::Hit;
use super::mentions::Found;
use super::source::{Article, Source, norm_range};
use super::triggers::{Candidate, choose_trigger};
use super::{
    ActorId, ExtractedEvent, Extractor, Interaction, Mention, Span, Status, cameo_root, normalize,
    when,
};
use crate::plover::PloverType;

impl Extractor {
    /// One event per sentence with a mention: `found` and `candidates` are in text order.
    pub(super) fn events(
        &self,
        art: &Article<'_>,
        date: Option<NaiveDate>,
        found: &mut [Found],
        candidates: &[Candidate],
        mut samples: Option<&mut Vec<PairSample>>,
    ) -> Vec<ExtractedEvent> {
        let spans = &art.spans[..];
        // One event per sentence with actors: `found` and `candidates` are in text order.
        let ctx = Ctx {
            src: &art.src,
            norm: &art.norm,
            lang: art.lang,
            date,
        };
        // One event per sentence with a mention (`found` is in sentence order).
        let sentences_with_actors = 1 + found
            .windows(2)
            .filter(|w| w[0].sentence != w[1].sentence)
            .count();
        let mut events = Vec::with_capacity(sentences_with_actors);
        let mut scratch = Scratch::new();
        let (mut f, mut c) = (0, 0);
        while f < found.len() {
            let sentence = found[f].sentence;
            let f_end = f + found[f..].partition_point(|m| m.sentence == sentence);
            while c < candidates.len() && candidates[c].sentence < sentence {
                c += 1;
            }
            let c_end = c + candidates[c..].partition_point(|t| t.sentence == sentence);
            let group = &mut found[f..f_end];
            group.sort_unstable_by_key(|m| (m.start, m.actor, m.end));
            events.push(self.event(
                &ctx,
                &mut scratch,
                (spans[sentence], sentence),
                group,
                &candidates[c..c_end],
                samples.as_deref_mut(),
            ));
            f = f_end;
            c = c_end;
        }
        events
    }

    /// Builds the event of one sentence: offsets made sentence-relative, interactions found,
    /// the main trigger chosen.
    fn event<'s>(
        &self,
        ctx: &Ctx<'s, '_>,
        scratch: &mut Scratch<'s>,
        // The sentence's span and its index.
        ((s0, s1), sentence_index): ((usize, usize), usize),
        found: &[Found],
        candidates: &[Candidate],
        samples: Option<&mut Vec<PairSample>>,
    ) -> ExtractedEvent {
        let src = ctx.src;
        // `found` is sorted by position.
        let mentions = found;
        let mut actor_idx: interact::Side = mentions.iter().map(|m| m.actor).collect();
        actor_idx.sort_unstable();
        actor_idx.dedup();
        let actors: Vec<ActorId> = actor_idx.iter().map(|&i| self.ids[i].clone()).collect();
        let first_mention = mentions.first().map_or(s0, |m| m.start);

        // Tokens of the sentence (normalised), with mentions and triggers placed on them.
        let (na, nb) = norm_range(ctx.norm, (s0, s1));
        let Scratch {
            toks,
            tok_starts,
            mtoks,
            cands,
            ttoks,
            words,
            ranked: cands_ranked,
            taken,
            places,
            sides,
            view: view_bufs,
        } = scratch;
        toks.clear();
        tok_starts.clear();
        // The non-empty pieces between spaces, walked by hand (a memchr call per short word
        // cost more than the split itself).
        let norm: &'s normalize::Normalized = ctx.norm;
        let text: &'s str = norm.text.as_str();
        let bytes = text.as_bytes();
        let mut pos = na;
        for i in na..=nb {
            if i < nb && bytes[i] != b' ' {
                continue;
            }
            if i > pos {
                toks.push(Tok { w: &text[pos..i] });
                tok_starts.push(pos);
            }
            pos = i + 1;
        }
        let tok_at = |n: usize| tok_starts.partition_point(|&s| s < n);
        let tok_end = |n: usize| tok_starts.partition_point(|&s| s < n);
        mtoks.clear();
        mtoks.extend(mentions.iter().map(|m| {
            let t1 = tok_end(m.nend).max(tok_at(m.nstart) + 1);
            // "<actor>'s [adjectives] envoy": up to three words after the possessive.
            let after = src.slice(m.end, src.end_of(m.end));
            let possessive = ["'s ", "’s ", "' ", "’ "]
                .iter()
                .any(|p| after.starts_with(p));
            let proxy = possessive
                && toks
                    .get(t1..(t1 + 3).min(toks.len()))
                    .is_some_and(|ws| ws.iter().any(|w| interact::is_proxy_noun(w.w)));
            MentionTok {
                actor: m.actor,
                t0: tok_at(m.nstart),
                t1,
                place: self.place[m.actor],
                proxy,
            }
        }));
        // An event word inside a mention is part of a name ("Secretary of *State*").
        let all_candidates = candidates;
        let candidates = cands;
        candidates.clear();
        candidates.extend(all_candidates.iter().copied().filter(|c| {
            !mentions
                .iter()
                .any(|m| m.nstart < c.nend && c.nstart < m.nend)
        }));
        ttoks.clear();
        ttoks.extend(candidates.iter().map(|c| {
            let t0 = tok_at(c.nstart);
            // After a determiner a participle is an adjective: "the besieged territory".
            let det = t0 > 0
                && matches!(
                    toks[t0 - 1].w,
                    "the" | "a" | "an" | "its" | "his" | "her" | "their" | "this" | "our"
                );
            // After a possessive it is a noun too: "Biden's visit", "Macron's call for".
            let possessed = mentions.iter().any(|m| {
                m.end <= c.start
                    && c.start - m.end <= 4
                    && matches!(
                        src.slice(m.end, c.start).trim_end(),
                        "'s" | "’s" | "'" | "’"
                    )
            });
            TrigTok {
                t0,
                t1: tok_end(c.nend).max(t0 + 1),
                ty: c.ty,
                verb: c.verb && !det && !possessed,
            }
        }));
        words.clear();
        words.extend(toks.iter().map(|t| t.w));
        let words = &words[..];
        let has_if = words.iter().any(|w| matches!(*w, "if" | "unless"));
        let view = interact::View::new(toks, mtoks, ttoks, std::mem::take(view_bufs));
        sides.clear();
        sides.extend((0..ttoks.len()).map(|k| {
            let mut s = interact::analyze(&view, ttoks, k, has_if);
            // Welcoming a person to a place or meeting is hosting them, not support.
            if let Some(ty) = interact::retype(&view, &ttoks[k], &s) {
                candidates[k].ty = ty;
            }
            let tw = &words[ttoks[k].t0.min(words.len())..ttoks[k].t1.min(words.len())];
            s.mode = interact::mode(candidates[k].ty, tw, words, &s);
            s
        }));
        let sides = &mut sides[..];
        let candidates = &candidates[..];

        cands_ranked.clear();
        cands_ranked.extend(
            candidates
                .iter()
                .zip(ttoks.iter())
                .map(|(c, t)| Candidate { verb: t.verb, ..*c }),
        );
        let main = choose_trigger(cands_ranked, sides, first_mention);
        // Recall fallback: when the main (non-statement) trigger put exactly one actor on a
        // side but the sentence names other actors the side rules could not place (beyond
        // the window, across a comma or a clause), those take part as participants. A typed
        // sentence that names several actors almost always relates them.
        if let Some(k) = main
            && candidates[k].ty != PloverType::Statement
            && !sides[k].absorbed
            && sides[k].actor_count() == 1
        {
            // An actor that is the subject of another event word in another comma segment
            // of the sentence acts there, not here: "X ordered strikes ..., and Y said
            // ...", "..., a figure later confirmed by Y". (Sentence-wide recall stays for
            // "Y said X met ...", where both share one segment.)
            let seg = |t: usize| {
                words[..t.min(words.len())]
                    .iter()
                    .filter(|w| **w == ",")
                    .count()
            };
            let here = seg(ttoks[k].t0);
            let mtoks: &[MentionTok] = mtoks;
            let placed: interact::Side = sides
                .iter()
                .enumerate()
                .filter(|&(j, o)| j != k && !o.absorbed && seg(ttoks[j].t0) != here)
                .flat_map(|(j, o)| {
                    let there = seg(ttoks[j].t0);
                    o.source
                        .iter()
                        .copied()
                        .filter(move |&a| mtoks.iter().any(|m| m.actor == a && seg(m.t0) == there))
                })
                .collect();
            let s = &mut sides[k];
            for a in view.all_actors() {
                if !s.source.contains(&a)
                    && !s.target.contains(&a)
                    && !s.participants.contains(&a)
                    && !placed.contains(&a)
                {
                    s.participants.push(a);
                }
            }
        }
        let ids = |v: &[usize]| -> Vec<ActorId> {
            // Sides are usually already sorted and distinct (one or two actors): then the
            // ids are built straight from them, without a sorted copy.
            if v.windows(2).all(|p| p[0] < p[1]) {
                return v.iter().map(|&i| self.ids[i].clone()).collect();
            }
            let mut v = v.to_vec();
            v.sort_unstable();
            v.dedup();
            v.into_iter().map(|i| self.ids[i].clone()).collect()
        };
        let rel = |c: &Candidate| Span {
            start: c.start - s0,
            end: c.end - s0,
        };
        let mut interactions: Vec<Interaction> = Vec::new();
        for (k, c) in candidates.iter().enumerate() {
            let s = &sides[k];
            if s.absorbed || s.actor_count() == 0 {
                continue;
            }
            let i = Interaction {
                event_type: c.ty,
                source: ids(&s.source),
                target: ids(&s.target),
                participants: ids(&s.participants),
                mode: s.mode,
                status: s.status.unwrap_or_default(),
                trigger: src.slice(c.start, c.end).to_string(),
                trigger_span: rel(c),
                cameo: cameo_root(c.ty, s.mode),
                confidence: None,
            };
            let dup = interactions.iter().any(|x| {
                x.event_type == i.event_type
                    && x.source == i.source
                    && x.target == i.target
                    && x.participants == i.participants
            });
            if !dup {
                interactions.push(i);
            }
        }
        // The learned model decides every pair of actors in the sentence (and training
        // collects the same pairs' features); the event's own fields stay the trigger rule's
        // reading, which is what alert rules match today.
        if ctx.lang == "en" && actor_idx.len() >= 2 && (self.model.is_some() || samples.is_some()) {
            let types: Vec<PloverType> = candidates.iter().map(|c| c.ty).collect();
            let mut masked: Vec<&str> = words.to_vec();
            for m in mtoks.iter() {
                for w in masked.iter_mut().take(m.t1).skip(m.t0) {
                    *w = "<actor>";
                }
            }
            let sv = SentenceView {
                words: &masked,
                trigs: &ttoks[..],
                sides: &sides[..],
            };
            let pm = |i: usize| {
                let (m, t) = (&mentions[i], &mtoks[i]);
                PairMention {
                    t0: t.t0,
                    t1: t.t1,
                    via_role: m.via_role,
                    resolved: m.how.is_some(),
                    place: t.place,
                    person: self.person[m.actor],
                    proxy: t.proxy,
                }
            };
            let mut samples = samples;
            let mut learned: Vec<Interaction> = Vec::new();
            for (x, &a) in actor_idx.iter().enumerate() {
                for &b in &actor_idx[x + 1..] {
                    // The closest mentions of the two.
                    let mut best: Option<(usize, usize, usize)> = None;
                    for (i, mi) in mtoks.iter().enumerate().filter(|(_, m)| m.actor == a) {
                        for (j, mj) in mtoks.iter().enumerate().filter(|(_, m)| m.actor == b) {
                            let d = mi.t0.abs_diff(mj.t0);
                            if best.is_none_or(|(d0, _, _)| d < d0) {
                                best = Some((d, i, j));
                            }
                        }
                    }
                    let Some((_, i, j)) = best else {
                        continue;
                    };
                    let (ma, mb) = ((a, pm(i)), (b, pm(j)));
                    if let Some(out) = samples.as_deref_mut() {
                        let mut feats = Vec::new();
                        features::pair_features(&sv, &types, ma, mb, &mut |n, v| {
                            feats.push(format!("{n}={v}"))
                        });
                        out.push(PairSample {
                            sentence_index,
                            a: self.ids[a].clone(),
                            b: self.ids[b].clone(),
                            features: feats,
                        });
                    }
                    let Some(model) = self.model.as_deref() else {
                        continue;
                    };
                    let d = model.decide(|emit| features::pair_features(&sv, &types, ma, mb, emit));
                    if !d.reported(model) {
                        continue;
                    }
                    let occurred = d.occurred(model);
                    for &(ty, p) in &d.types {
                        let relating = |k: usize| {
                            !sides[k].absorbed && features::relates(types[k], &sides[k], a, b)
                        };
                        let same = (0..types.len()).find(|&k| types[k] == ty && relating(k));
                        let any = same.or_else(|| (0..types.len()).find(|&k| relating(k)));
                        // Without a rule relating them, the event word nearest the pair.
                        let (lo, hi) = (mtoks[i].t0.min(mtoks[j].t0), mtoks[i].t0.max(mtoks[j].t0));
                        let near = any.or_else(|| {
                            (0..types.len()).min_by_key(|&k| {
                                let t = ttoks[k].t0;
                                if t >= lo && t <= hi {
                                    0
                                } else {
                                    t.abs_diff(lo).min(t.abs_diff(hi))
                                }
                            })
                        });
                        let Some(k) = near else {
                            continue;
                        };
                        let s = &sides[k];
                        let status = if occurred {
                            Status::Occurred
                        } else if let Some(st) = s
                            .status
                            .filter(|st| *st != Status::Occurred && any.is_some())
                        {
                            st
                        } else if words
                            .iter()
                            .any(|w| matches!(*w, "not" | "no" | "never" | "denied" | "n't"))
                        {
                            Status::Denied
                        } else if words
                            .iter()
                            .any(|w| matches!(*w, "if" | "unless" | "would" | "could" | "might"))
                        {
                            Status::Hypothetical
                        } else {
                            Status::Planned
                        };
                        let joint = matches!(
                            ty,
                            PloverType::Consult | PloverType::Agree | PloverType::Cooperate
                        );
                        let first_a = mtoks[i].t0 <= mtoks[j].t0;
                        let a_to_b = if any.is_some()
                            && s.source.contains(&a)
                            && !s.source.contains(&b)
                        {
                            true
                        } else if any.is_some() && s.source.contains(&b) && !s.source.contains(&a) {
                            false
                        } else {
                            first_a
                        };
                        let (source, target, participants) = if joint {
                            (Vec::new(), Vec::new(), ids(&[a, b]))
                        } else if a_to_b {
                            (ids(&[a]), ids(&[b]), Vec::new())
                        } else {
                            (ids(&[b]), ids(&[a]), Vec::new())
                        };
                        let mode = if same == Some(k) { s.mode } else { None };
                        let c = &candidates[k];
                        let confidence = if occurred {
                            d.rel * d.occ
                        } else {
                            d.rel * (1.0 - d.occ)
                        } * p;
                        let i = Interaction {
                            event_type: ty,
                            source,
                            target,
                            participants,
                            mode,
                            status,
                            trigger: src.slice(c.start, c.end).to_string(),
                            trigger_span: rel(c),
                            cameo: cameo_root(ty, mode),
                            confidence: Some((confidence * 1000.0).round() / 1000.0),
                        };
                        if !learned.iter().any(|x| {
                            x.event_type == i.event_type
                                && x.source == i.source
                                && x.target == i.target
                                && x.participants == i.participants
                        }) {
                            learned.push(i);
                        }
                    }
                }
            }
            if self.model.is_some() {
                interactions = learned;
            }
        }
        let main_sides = main.map(|k| &sides[k]);
        let status = main_sides.and_then(|s| s.status).unwrap_or_default();
        let location = if ctx.lang == "en" {
            taken.clear();
            taken.extend(
                mentions
                    .iter()
                    .filter(|m| !self.place[m.actor])
                    .map(|m| (m.nstart, m.nend)),
            );
            self.location(ctx.norm, na, nb, (words, &tok_starts[..]), taken, places)
        } else {
            None
        };
        let dated = when::resolve(words, ctx.date, status == Status::Planned);
        *view_bufs = view.into_bufs();
        let main = main.map(|k| &candidates[k]);
        ExtractedEvent {
            sentence_index,
            actors,
            event_type: main.map(|c| c.ty),
            trigger: main.map(|c| src.slice(c.start, c.end).to_string()),
            sentence: src.slice(s0, s1).to_string(),
            mentions: mentions
                .iter()
                .map(|m| Mention {
                    actor: self.ids[m.actor].clone(),
                    text: src.slice(m.start, m.end).to_string(),
                    start: m.start - s0,
                    end: m.end - s0,
                    via_role: m.via_role,
                    resolved: m.how.is_some(),
                    how: m.how,
                })
                .collect(),
            source: main_sides.map(|s| ids(&s.source)).unwrap_or_default(),
            target: main_sides.map(|s| ids(&s.target)).unwrap_or_default(),
            participants: main_sides.map(|s| ids(&s.participants)).unwrap_or_default(),
            mode: main_sides.and_then(|s| s.mode),
            trigger_span: main.map(rel),
            status,
            lang: ctx.lang,
            location,
            date: dated.map(|d| d.0),
            date_source: dated.map(|d| if d.1 { "text" } else { "published" }),
            interactions,
        }
    }
}

/// Buffers reused from one event sentence to the next within an `extract` call: the
/// per-sentence vectors would otherwise be allocated and freed for every event.
struct Scratch<'s> {
    toks: Vec<Tok<'s>>,
    tok_starts: Vec<usize>,
    mtoks: Vec<MentionTok>,
    cands: Vec<Candidate>,
    ttoks: Vec<TrigTok>,
    words: Vec<&'s str>,
    ranked: Vec<Candidate>,
    taken: Vec<(usize, usize)>,
    places: Vec<Hit>,
    sides: Vec<Sides>,
    view: interact::ViewBufs,
}

impl Scratch<'_> {
    /// Sized for a typical news sentence (a few dozen tokens, a few mentions and event
    /// words), so the vectors seldom grow: growing each from empty cost more reallocations
    /// per article than the sentences themselves allocate.
    fn new() -> Self {
        const TOKENS: usize = 48;
        const FEW: usize = 8;
        Scratch {
            toks: Vec::with_capacity(TOKENS),
            tok_starts: Vec::with_capacity(TOKENS),
            mtoks: Vec::with_capacity(FEW),
            cands: Vec::with_capacity(FEW),
            ttoks: Vec::with_capacity(FEW),
            words: Vec::with_capacity(TOKENS),
            ranked: Vec::with_capacity(FEW),
            taken: Vec::with_capacity(FEW),
            places: Vec::with_capacity(FEW),
            sides: Vec::with_capacity(FEW),
            view: interact::ViewBufs::with_capacity(FEW),
        }
    }
}

/// Per-article context for building events.
struct Ctx<'s, 'a> {
    src: &'s Source<'a>,
    norm: &'s normalize::Normalized,
    lang: &'static str,
    date: Option<NaiveDate>,
}
