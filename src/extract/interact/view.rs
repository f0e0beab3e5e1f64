//! A sentence prepared once for all its triggers: the mentions usable as sides, their
//! coordinated and appositive groups, and the clause boundaries.

use super::words::{
    breaks_group, is_boundary, is_joiner, is_locative, opens_member_list, takes_that_clause,
};
use super::{MentionTok, Side, Tok, TrigTok};

/// The clause (token range) around `t0..t1`, given the sentence's clause boundaries
/// (`bounds`, ascending token indexes, see [`clause_bounds`]).
pub(super) fn clause(bounds: &[u32], len: usize, t0: usize, t1: usize) -> (usize, usize) {
    let before = bounds.partition_point(|&i| (i as usize) < t0);
    let a = before.checked_sub(1).map_or(0, |j| bounds[j] as usize + 1);
    let from = t1.min(len);
    let b = bounds[bounds.partition_point(|&i| (i as usize) < from)..]
        .first()
        .map_or(len, |&i| i as usize);
    (a, b)
}

/// The tokens that bound a clause (a boundary word, or "that" after a verb that takes a
/// that-clause), ascending. Computed once per sentence rather than rescanned per trigger.
fn clause_bounds(toks: &[Tok<'_>], bounds: &mut Vec<u32>) {
    bounds.clear();
    bounds.extend(
        (0..toks.len())
            .filter(|&i| {
                is_boundary(toks[i].w)
                    || (toks[i].w == "that" && i > 0 && takes_that_clause(toks[i - 1].w))
            })
            .map(|i| i as u32),
    );
}

/// The vectors of a [`View`], kept between sentences so that each sentence reuses them.
#[derive(Default)]
pub(crate) struct ViewBufs {
    sub: Vec<MentionTok>,
    groups: Vec<(usize, usize)>,
    bounds: Vec<u32>,
}

impl ViewBufs {
    /// Room for `n` mentions, groups and clause bounds before any of them grows.
    pub fn with_capacity(n: usize) -> ViewBufs {
        ViewBufs {
            sub: Vec::with_capacity(n),
            groups: Vec::with_capacity(n),
            bounds: Vec::with_capacity(n),
        }
    }
}

/// A sentence prepared for analysis: its tokens, the mentions usable as sides (a place
/// after a locative preposition is a location, not a side), and their groups (ranges of
/// `sub`). Built once per sentence, shared by all its triggers.
pub(crate) struct View<'t, 'a> {
    pub(super) toks: &'t [Tok<'a>],
    pub(super) sub: Vec<MentionTok>,
    pub(super) groups: Vec<(usize, usize)>,
    /// Clause boundaries (see [`clause_bounds`]).
    pub(super) bounds: Vec<u32>,
}

impl<'t, 'a> View<'t, 'a> {
    /// Prepares `toks` with `mentions` (sorted by `t0`) and the sentence's event words: a
    /// group never runs across an event verb ("Najib Mikati , met Blinken" is two groups).
    pub fn new(
        toks: &'t [Tok<'a>],
        mentions: &[MentionTok],
        trigs: &[TrigTok],
        bufs: ViewBufs,
    ) -> View<'t, 'a> {
        let ViewBufs {
            mut sub,
            mut groups,
            mut bounds,
        } = bufs;
        sub.clear();
        sub.extend(
            mentions
                .iter()
                .filter(|m| !m.proxy)
                .filter(|m| !(m.place && m.t0 > 0 && is_locative(toks[m.t0 - 1].w)))
                .copied(),
        );
        groups.clear();
        for (i, m) in sub.iter().enumerate() {
            let join = i > 0 && {
                let p = &sub[i - 1];
                if m.t0 < p.t1 {
                    true
                } else {
                    let gap = &toks[p.t1..m.t0];
                    let same = p.actor == m.actor;
                    let verb_between = trigs.iter().any(|t| t.verb && t.t0 >= p.t1 && t.t0 < m.t0);
                    // "Zelensky and European leaders, including Starmer and Macron": the
                    // listed members join the phrase they belong to.
                    let members = gap.len() <= 6
                        && (p.t1..m.t0).any(|i| opens_member_list(toks, i))
                        && !gap.iter().any(|t| breaks_group(t.w));
                    !verb_between
                        && (gap.iter().all(|t| is_joiner(t.w))
                            || members
                            || (gap.len() <= 4
                                && !gap.iter().any(|t| breaks_group(t.w))
                                && (same || gap.iter().any(|t| t.w == "," || t.w == "and"))))
                }
            };
            match groups.last_mut() {
                Some(g) if join => g.1 = i + 1,
                _ => groups.push((i, i + 1)),
            }
        }
        clause_bounds(toks, &mut bounds);
        View {
            toks,
            sub,
            groups,
            bounds,
        }
    }

    /// Gives back the view's vectors for the next sentence.
    pub fn into_bufs(self) -> ViewBufs {
        ViewBufs {
            sub: self.sub,
            groups: self.groups,
            bounds: self.bounds,
        }
    }

    /// Every distinct actor usable as a side in the sentence, sorted.
    pub fn all_actors(&self) -> Side {
        self.actors((!self.sub.is_empty()).then_some((0, self.sub.len())))
    }

    pub(super) fn actors(&self, g: Option<(usize, usize)>) -> Side {
        let Some((a, b)) = g else {
            return Side::new();
        };
        let mut v: Side = self.sub[a..b].iter().map(|m| m.actor).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}
