//! Whether a trigger's event happened, is planned, denied or only possible, from the
//! auxiliaries, negations and modals before it.

use super::words::{is_denial_verb, is_future, is_negation, is_possible};
use super::{Status, Tok, TrigTok};

/// The status of trigger `k` (see the module docs).
pub(super) fn status(
    toks: &[Tok<'_>],
    trigs: &[TrigTok],
    k: usize,
    ca: usize,
    has_if: bool,
) -> Status {
    let t = trigs[k];
    // Look back over at most six tokens of the clause, stopping at another trigger that is
    // not a denial verb, or at a comma.
    let mut from = t.t0;
    let mut coordinated = false;
    while from > ca && t.t0 - from < 6 {
        let w = toks[from - 1].w;
        if w == "," {
            break;
        }
        if let Some(o) = trigs[..k].iter().rev().find(|o| o.t1 == from) {
            if is_denial_verb(toks[o.t0].w) {
                return Status::Denied;
            }
            break;
        }
        if w == "and" || w == "or" {
            coordinated = true;
            from -= 1;
            break;
        }
        from -= 1;
    }
    let window = &toks[from..t.t0];
    let any = |f: &dyn Fn(&str) -> bool| window.iter().any(|x| f(x.w));
    // The trigger word itself may carry it ("denied", "planned" as nouns do not count).
    if any(&|w| is_negation(w) || is_denial_verb(w)) {
        return Status::Denied;
    }
    let cond = has_if || any(&|w| w == "if");
    if any(&is_possible) || (cond && any(&|w| w == "would")) {
        return Status::Hypothetical;
    }
    if cond && any(&|w| matches!(w, "will" | "can")) {
        return Status::Hypothetical;
    }
    if any(&|w| is_future(w) || w == "would") {
        return Status::Planned;
    }
    if coordinated && k > 0 {
        // "is scheduled to meet X and travel to Y": the second verb shares the first's.
        let prev = trigs[k - 1];
        if prev.verb && prev.t1 <= from {
            return status(toks, trigs, k - 1, ca, has_if);
        }
    }
    // "X denied that Y had met Z": the clause a denial verb governs reports something
    // denied.
    if ca >= 2 && toks[ca - 1].w == "that" && is_denial_verb(toks[ca - 2].w) {
        return Status::Denied;
    }
    // A purpose after a future or possible event is as unsure as it: "will travel to Doha
    // to meet X", "plans to visit Amman for talks with X".
    if t.t0 > 0
        && matches!(toks[t.t0 - 1].w, "to" | "for")
        && let Some(j) = trigs[..k]
            .iter()
            .rposition(|o| o.verb && o.t0 >= ca && o.t1 < t.t0)
    {
        let st = status(toks, trigs, j, ca, has_if);
        if matches!(st, Status::Planned | Status::Hypothetical) {
            return st;
        }
    }
    Status::Occurred
}
