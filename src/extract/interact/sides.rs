//! Who did what to whom: the source, target and participants of one trigger, from the
//! groups around it in its clause (see the module docs of [`super`]).

use super::status::status;
use super::view::{View, clause};
use super::words::{
    is_address_verb, is_adverb, is_aux, is_denial_verb, is_light_verb, is_preposition,
    opens_member_list,
};
use super::{Sides, Tok, TrigTok};
use crate::plover::PloverType;

/// Analyses trigger `k` of `trigs` (sorted by position) against the sentence's mentions.
pub(crate) fn analyze(view: &View<'_, '_>, trigs: &[TrigTok], k: usize, has_if: bool) -> Sides {
    let toks = view.toks;
    let sub = &view.sub;
    let t = trigs[k];
    let (ca, cb) = clause(&view.bounds, toks.len(), t.t0, t.t1);
    let statement = t.ty == PloverType::Statement;
    let start_of = |g: (usize, usize)| sub[g.0].t0;
    let end_of = |g: (usize, usize)| sub[g.1 - 1].t1;

    // Source: the nearest group before the trigger in its clause, with no comma between
    // and at most eight tokens away; or, when the trigger follows a comma-delimited aside
    // ("A , who met B , said"; "A , where he met B , further said"), the group right
    // before the aside.
    let mut lead = t.t0;
    while lead > 0 && lead + 2 >= t.t0 && is_adverb(toks[lead - 1].w) {
        lead -= 1;
    }
    let mut source_g: Option<(usize, usize)> = None;
    if lead > 0 && toks[lead - 1].w == "," {
        let open = toks[..lead - 1]
            .iter()
            .rposition(|x| x.w == "," || x.w == ";")
            .filter(|&o| toks[o].w == ",");
        if let Some(open) = open {
            // An apposition closes at the comma: "Lebanon's prime minister, Najib Mikati,
            // met ..." is one group running across the opening comma, and it is the subject.
            // An aside that is a clause ("A, who met B, said") leaves B's group starting
            // after the opening comma, so A (the group ending there) is the subject.
            source_g = view
                .groups
                .iter()
                .copied()
                .find(|&g| end_of(g) == lead - 1 && start_of(g) < open && start_of(g) >= ca)
                .or_else(|| view.groups.iter().copied().find(|&g| end_of(g) == open))
                // "Arab ministers, including X and Y, met ...": the members are the subject.
                .or_else(|| {
                    opens_member_list(toks, open + 1)
                        .then(|| {
                            view.groups
                                .iter()
                                .copied()
                                .find(|&g| end_of(g) == lead - 1 && start_of(g) > open)
                        })
                        .flatten()
                });
        }
    } else {
        source_g = view.groups.iter().copied().rfind(|&g| {
            let e = end_of(g);
            start_of(g) >= ca
                && e <= t.t0
                && t.t0 - e <= 8
                && !toks[e..t.t0].iter().any(|x| x.w == ",")
        });
        if !t.verb
            && let Some(g) = source_g
            && !noun_takes_subject(&toks[end_of(g)..t.t0])
        {
            source_g = None;
        }
    }
    // Relative clauses. "A, who met B, ...": the relative pronoun's antecedent is the
    // subject. "A, which B had accused of ...": B is the subject and the antecedent is the
    // object (the target, unless the verb has one after it).
    let is_rel = |w: &str| matches!(w, "who" | "which" | "that" | "whom");
    let antecedent = |rel: usize| -> Option<(usize, usize)> {
        let end = if rel >= 1 && toks[rel - 1].w == "," {
            rel - 1
        } else {
            rel
        };
        view.groups.iter().copied().find(|&g| end_of(g) == end)
    };
    let mut rel_object: Option<(usize, usize)> = None;
    if t.verb && source_g.is_none() && lead >= 1 && is_rel(toks[lead - 1].w) {
        source_g = antecedent(lead - 1);
    } else if t.verb
        && let Some(g) = source_g
        && start_of(g) >= 1
        && matches!(toks[start_of(g) - 1].w, "which" | "whom" | "who")
    {
        rel_object = antecedent(start_of(g) - 1);
    }
    // A verb coordinated with an earlier one shares its subject ("will meet X and travel
    // to Y").
    let coordinated = t.verb
        && lead > 0
        && (matches!(toks[lead - 1].w, "and" | "or")
            || (lead > 1 && toks[lead - 1].w == "to" && matches!(toks[lead - 2].w, "and" | "or")));
    let shared = if coordinated {
        trigs[..k]
            .iter()
            .rposition(|o| o.verb && o.t0 >= ca)
            .map(|j| analyze(view, trigs, j, has_if))
    } else {
        None
    };

    // Target: the first group after the trigger, near enough, before any comma that is not
    // inside the group, not across another verb. Nouns take one only through a preposition
    // right after them ("talks with X", "visit to Y").
    let next_verb = trigs
        .iter()
        .filter(|o| o.verb && o.ty != PloverType::Statement && o.t0 >= t.t1)
        .map(|o| o.t0)
        .min()
        .unwrap_or(usize::MAX);
    let comma = (t.t1.min(toks.len())..toks.len())
        .find(|&i| toks[i].w == "," && !opens_member_list(toks, i + 1))
        .unwrap_or(usize::MAX);
    let max_gap = if t.verb { 10 } else { 3 };
    let mut target_g: Option<(usize, usize)> = view.groups.iter().copied().find(|&g| {
        let m0 = start_of(g);
        m0 >= t.t1 && m0 < next_verb && m0 < comma && m0 < cb && m0 - t.t1 <= max_gap
    });
    if !t.verb
        && let Some(g) = target_g
        && !matches!(
            toks[start_of(g) - 1].w,
            "with" | "to" | "on" | "against" | "for" | "between" | "from" | "by" | "of" | "among"
        )
    {
        target_g = None;
    }
    // A last member followed by a verb or auxiliary starts a new clause ("and X said").
    if let Some(g) = target_g.as_mut()
        && g.1 - g.0 > 1
        && let Some(after) = toks.get(sub[g.1 - 1].t1)
        && (is_aux(after.w)
            || trigs.iter().any(|o| o.verb && o.t0 == sub[g.1 - 1].t1)
            || matches!(after.w, "said" | "says" | "will" | "would" | "has" | "had"))
    {
        g.1 -= 1;
    }
    let before_target = target_g
        .and_then(|g| start_of(g).checked_sub(1))
        .map(|i| toks[i].w);
    let target_gap = target_g.map_or(usize::MAX, |g| start_of(g) - t.t1);

    let mut s = Sides::default();
    let passive = t.verb
        && !toks[t.t0].w.ends_with("ing")
        && toks[t.t0].w != "to"
        && ((t.t0 >= 1 && is_aux(toks[t.t0 - 1].w))
            || (t.t0 >= 2 && is_aux(toks[t.t0 - 2].w) && toks[t.t0 - 1].w != "to"));
    if passive {
        s.target = view.actors(source_g);
        if before_target == Some("by") {
            s.source = view.actors(target_g);
        }
    } else if statement {
        if source_g.is_some() {
            s.source = view.actors(source_g);
            let tells = is_address_verb(toks[t.t0].w);
            // "told X", "said to X", and what a statement is about: "said of X's
            // proposals", "commented on X's remarks".
            if (tells && target_gap <= 1)
                || matches!(before_target, Some("to" | "with" | "of" | "on" | "about"))
            {
                s.target = view.actors(target_g);
            }
        } else {
            s.source = view.actors(target_g);
        }
    } else if before_target == Some("between") && view.actors(target_g).len() > 1 {
        s.source = view.actors(source_g);
        s.participants = view.actors(target_g);
    } else {
        s.source = view.actors(source_g);
        s.target = view.actors(target_g.or(rel_object));
        let symmetric = matches!(
            t.ty,
            PloverType::Consult | PloverType::Agree | PloverType::Cooperate
        );
        if symmetric && s.target.is_empty() && s.source.len() > 1 {
            s.participants = std::mem::take(&mut s.source);
        }
    }
    if let Some(sh) = shared
        && (!sh.source.is_empty() || !sh.participants.is_empty())
    {
        s.source = sh.source;
        s.participants = sh.participants;
    }
    // An actor is on one side only (apposition of the same actor across the trigger).
    if !s.source.is_empty() {
        let src_set = &s.source;
        s.target.retain(|a| !src_set.contains(a));
    }

    s.status = Some(status(toks, trigs, k, ca, has_if));
    // "denied holding talks", "refused to meet": the denial verb governs the next event word
    // and steps aside for it. "refused Blinken's request", "rejected the Hamas proposal": an
    // actor between them makes the next word the denial's object, and the denial the event.
    s.absorbed = is_denial_verb(toks[t.t0].w)
        && trigs.get(k + 1).is_some_and(|n| {
            n.t0 >= t.t1 && n.t0 - t.t1 <= 2 && !sub.iter().any(|m| m.t0 >= t.t1 && m.t0 < n.t0)
        });
    // What an agreement verb governs is what was agreed, not a second event: "signed a
    // strategic partnership", "agreed to coordinate their positions" are agreements. Its
    // object is a noun a few words on, or a verb right after "to".
    s.absorbed |= k > 0
        && (!t.verb || toks[t.t0 - 1].w == "to")
        && trigs[..k].iter().rev().any(|o| {
            o.verb
                && o.ty == PloverType::Agree
                && o.t1 <= t.t0
                && t.t0 - o.t1 <= 4
                && !toks[o.t1..t.t0].iter().any(|x| x.w == ",")
                && !sub.iter().any(|m| m.t0 >= o.t1 && m.t0 < t.t0)
        });
    s
}

/// Whether an event noun takes the group before it as its actor, given the tokens between
/// them: directly ("Biden's visit", "X's first visit"; possessives are folded away) or as
/// the object of a light verb ("X held lengthy talks", "X paid a visit"). "Portraits of X
/// lined the road to the conference" and "X has written books about diplomacy" do not make
/// X an actor of the conference or of diplomacy.
fn noun_takes_subject(gap: &[Tok<'_>]) -> bool {
    if gap.len() <= 2 && !gap.iter().any(|t| is_preposition(t.w) || is_aux(t.w)) {
        return true;
    }
    gap.iter()
        .rposition(|t| is_light_verb(t.w))
        .is_some_and(|i| {
            gap.len() - i - 1 <= 3 && !gap[i + 1..].iter().any(|t| is_preposition(t.w))
        })
}
