//! Features of one actor pair in one sentence, for the learned interaction model (`model`).
//!
//! Why it exists: the trigger rules were chosen item by item on short hand-written sentences
//! and did not carry over to real news (issue 14). Here the rules' reading becomes evidence
//! among other evidence (the words between the two mentions, the event words around them,
//! clause and quote boundaries, distance, negation and modality cues, roles, possessives and
//! appositions), and the weights are learned from annotated news instead of chosen.
//!
//! A feature is a name and a value ("btw" = "with"); [`pair_features`] hands each to a sink,
//! so training can collect strings and extraction can look weights up without allocating.

use super::ActorId;
use super::interact::{Sides, TrigTok};
use crate::plover::PloverType;

/// One actor pair of one sentence with its features (`name=value`): a training sample
/// before the gold labels it.
#[derive(Debug, Clone, PartialEq)]
pub struct PairSample {
    /// The sentence (title is 0 when present).
    pub sentence_index: usize,
    /// The pair, in actor id order.
    pub a: ActorId,
    /// The other actor.
    pub b: ActorId,
    /// Its features.
    pub features: Vec<String>,
}

/// One mention as the features see it: its tokens and how it was found.
#[derive(Debug, Clone, Copy)]
pub(super) struct PairMention {
    pub(super) t0: usize,
    pub(super) t1: usize,
    pub(super) via_role: bool,
    pub(super) resolved: bool,
    pub(super) place: bool,
    pub(super) person: bool,
    pub(super) proxy: bool,
}

/// What the sentence offers the features: its words, event words (with their rule sides)
/// and the rule interactions relating the pair.
pub(super) struct SentenceView<'v, 'w> {
    /// The sentence's words, with every word inside an actor mention replaced by
    /// "<actor>": the model learns from what surrounds names, not from the names of the
    /// training set (a weight on "sergey" would not carry to news about others).
    pub(super) words: &'v [&'w str],
    pub(super) trigs: &'v [TrigTok],
    pub(super) sides: &'v [Sides],
}

/// Words that open another clause or report speech.
const CLAUSE: &[&str] = &[
    "who", "which", "whom", "whose", "that", "while", "but", "although", "because", "after",
    "before", "when", "where", ";", ":",
];
/// Speech verbs: "X said Y ..." is often a statement about Y, not an exchange with Y.
const SAID: &[&str] = &[
    "said",
    "says",
    "say",
    "told",
    "tells",
    "stated",
    "added",
    "noted",
    "stressed",
    "according",
    "announced",
    "wrote",
    "posted",
    "statement",
];
/// Negation cues.
const NEG: &[&str] = &[
    "not",
    "no",
    "never",
    "n't",
    "denied",
    "denies",
    "deny",
    "without",
    "refused",
    "declined",
    "nor",
    "cancelled",
    "canceled",
    "postponed",
];
/// Modality and plan cues.
const MODAL: &[&str] = &[
    "will",
    "would",
    "could",
    "may",
    "might",
    "should",
    "plans",
    "planned",
    "plan",
    "expected",
    "due",
    "scheduled",
    "set",
    "if",
    "unless",
    "upcoming",
    "next",
    "hopes",
    "wants",
    "seeks",
    "ahead",
    "invited",
    "invitation",
    "later",
    "tomorrow",
    "proposed",
    "possible",
];

fn bucket(n: usize) -> &'static str {
    match n {
        0 => "0",
        1..=2 => "1-2",
        3..=5 => "3-5",
        6..=10 => "6-10",
        11..=20 => "11-20",
        _ => "21+",
    }
}

/// Whether the rule sides `s` relate actors `a` and `b` the way `parley eval` reads an
/// interaction: joint types and one-sided ones relate everyone; directed ones relate source
/// to target and participants, and target to participants.
pub(super) fn relates(ty: PloverType, s: &Sides, a: usize, b: usize) -> bool {
    let has = |v: &[usize], x: usize| v.contains(&x);
    let all = |x: usize| has(&s.source, x) || has(&s.target, x) || has(&s.participants, x);
    let joint = matches!(
        ty,
        PloverType::Consult | PloverType::Agree | PloverType::Cooperate
    );
    if joint || s.source.is_empty() || s.target.is_empty() {
        return all(a) && all(b);
    }
    let one = |x: usize, y: usize| {
        (has(&s.source, x) && (has(&s.target, y) || has(&s.participants, y)))
            || (has(&s.target, x) && has(&s.participants, y))
            || (has(&s.participants, x) && has(&s.participants, y))
    };
    one(a, b) || one(b, a)
}

/// Every feature of the pair (`a` named at `ma`, `b` at `mb`, actor indexes), handed to
/// `emit(name, value)`. `types[k]` is the (possibly retyped) type of trigger `k`.
pub(super) fn pair_features(
    v: &SentenceView<'_, '_>,
    types: &[PloverType],
    (a, ma): (usize, PairMention),
    (b, mb): (usize, PairMention),
    emit: &mut dyn FnMut(&str, &str),
) {
    let words = v.words;
    let n = words.len();
    let (l, r) = if ma.t0 <= mb.t0 { (ma, mb) } else { (mb, ma) };
    emit("bias", "");
    // The rules' reading.
    let mut related = false;
    for (k, s) in v.sides.iter().enumerate() {
        if s.absorbed || s.actor_count() == 0 || !relates(types[k], s, a, b) {
            continue;
        }
        related = true;
        let ty = types[k].as_str();
        let st = s.status.unwrap_or_default().as_str();
        emit("rule", ty);
        emit("rule_st", st);
        emit("rule_ty_st", &format!("{ty}/{st}"));
        if let Some(m) = s.mode {
            emit("rule_mode", m);
        }
        let t = &v.trigs[k];
        if let Some(w) = words.get(t.t0) {
            emit("rule_trig", w);
        }
        if !s.participants.is_empty() {
            emit("rule_part", ty);
        }
    }
    if !related {
        emit("rule", "none");
    }
    // Event words around the pair.
    for (k, t) in v.trigs.iter().enumerate() {
        let ty = types[k].as_str();
        let w = words.get(t.t0).copied().unwrap_or("");
        let at = if t.t0 >= l.t1 && t.t0 < r.t0 {
            "btw"
        } else if t.t0 < l.t0 {
            "pre"
        } else if t.t0 >= r.t1 {
            "post"
        } else {
            "in"
        };
        emit("cand", &format!("{at}/{ty}"));
        emit("candw", &format!("{at}/{w}"));
        if t.verb {
            emit("candv", &format!("{at}/{ty}"));
        }
        if at == "post" && t.t0 - r.t1 <= 3 {
            emit("cand_near_post", ty);
        }
        if at == "pre" && l.t0 - t.t1.min(l.t0) <= 3 {
            emit("cand_near_pre", ty);
        }
    }
    if v.trigs.is_empty() {
        emit("cand", "none");
    }
    // Words between.
    let between = &words[l.t1.min(n)..r.t0.min(n).max(l.t1.min(n))];
    emit("dist", bucket(between.len()));
    for w in between.iter().take(16) {
        emit("btw", w);
    }
    if between.is_empty() {
        emit("btw", "<none>");
    }
    match between {
        [","] => emit("apposition", ""),
        ["and"] | [",", "and"] => emit("coord", ""),
        ["s"] | ["'s"] => emit("possessive", ""),
        _ => {}
    }
    let commas = between.iter().filter(|w| **w == ",").count();
    emit("commas", bucket(commas));
    if between.iter().any(|w| matches!(*w, "\"" | "“" | "”" | "'")) {
        emit("quote_btw", "");
    }
    for w in between {
        if SAID.contains(w) {
            emit("said_btw", w);
        }
        if CLAUSE.contains(w) {
            emit("clause_btw", w);
        }
    }
    // Context around the pair.
    emit("l_prev", if l.t0 > 0 { words[l.t0 - 1] } else { "<s>" });
    emit("l_next", words.get(l.t1).copied().unwrap_or("</s>"));
    emit("r_prev", if r.t0 > 0 { words[r.t0 - 1] } else { "<s>" });
    emit("r_next", words.get(r.t1).copied().unwrap_or("</s>"));
    if r.t1 + 1 < n {
        emit("r_next2", &format!("{} {}", words[r.t1], words[r.t1 + 1]));
    }
    if l.t0 >= 2 {
        emit(
            "l_prev2",
            &format!("{} {}", words[l.t0 - 2], words[l.t0 - 1]),
        );
    }
    // Sentence cues.
    for w in words {
        if NEG.contains(w) {
            emit("neg", w);
        }
        if MODAL.contains(w) {
            emit("modal", w);
        }
        if SAID.contains(w) {
            emit("said", "");
        }
    }
    if words.iter().any(|w| matches!(*w, "\"" | "“" | "”")) {
        emit("quote", "");
    }
    // The mentions themselves.
    for (side, m) in [("l", l), ("r", r)] {
        if m.via_role {
            emit("role", side);
        }
        if m.resolved {
            emit("coref", side);
        }
        if m.place {
            emit("place", side);
        }
        if m.proxy {
            emit("proxy", side);
        }
        if m.t0 == 0 {
            emit("first", side);
        }
    }
    let kind = |m: PairMention| if m.person { "p" } else { "o" };
    emit("kinds", &format!("{}{}", kind(l), kind(r)));
    if l.t1 > r.t0 {
        emit("overlap", "");
    }
}
