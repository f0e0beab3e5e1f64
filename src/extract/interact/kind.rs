//! What kind of event a trigger is once its sides are known: a type that depends on the
//! object (an addressed statement, a welcome that hosts), and the diplomatic mode.

use super::view::View;
use super::words::is_address_verb;
use super::{Sides, TrigTok};
use crate::plover::PloverType;

/// A trigger whose type depends on its object: welcoming or greeting a tracked actor followed
/// by a place, a meeting or the end of the clause ("welcomed Blinken to the meeting", "was
/// welcomed by Erdogan at the palace") is hosting them (consult), while welcoming a decision
/// or "X's plan" stays support.
pub(crate) fn retype(view: &View<'_, '_>, t: &TrigTok, s: &Sides) -> Option<PloverType> {
    let toks = view.toks;
    // "X told Y that ...", "Y was told by X": a statement addressed to a tracked actor is a
    // direct communication between the two (consult), not a public statement. A statement
    // to reporters, to a parliament or on television has no tracked addressee and stays a
    // statement ("told reporters" is its own phrase). What was said is typed separately.
    if t.ty == PloverType::Statement
        && t.t1 == t.t0 + 1
        && is_address_verb(toks[t.t0].w)
        && !s.source.is_empty()
        && !s.target.is_empty()
    {
        return Some(PloverType::Consult);
    }
    if t.ty != PloverType::Support
        || !(toks[t.t0].w.starts_with("welcom") || toks[t.t0].w.starts_with("greet"))
    {
        return None;
    }
    // The hosted actor: the target, or the subject of a passive ("X was welcomed by Y").
    let hosted = if s.target.is_empty() {
        &s.source
    } else {
        &s.target
    };
    if hosted.is_empty() || s.actor_count() < 2 {
        return None;
    }
    // The token after the last mention that follows the trigger.
    let last = view
        .sub
        .iter()
        .filter(|m| m.t0 >= t.t1 && m.t0 - t.t1 <= 4)
        .map(|m| m.t1)
        .max()?;
    let after = toks.get(last).map_or(".", |x| x.w);
    matches!(
        after,
        "to" | "at" | "in" | "for" | "on" | "," | "." | "as" | "upon"
    )
    .then_some(PloverType::Consult)
}

/// PLOVER/diplomatic mode of a trigger, from its own words and the sentence's words.
pub(crate) fn mode(
    ty: PloverType,
    trigger: &[&str],
    sentence: &[&str],
    sides: &Sides,
) -> Option<&'static str> {
    let has = |ws: &[&str], xs: &[&str]| ws.iter().any(|w| xs.contains(w));
    let trig_has = |xs: &[&str]| has(trigger, xs);
    let near_has = |xs: &[&str]| has(sentence, xs);
    const CEASEFIRE: &[&str] = &[
        "ceasefire",
        "ceasefires",
        "truce",
        "truces",
        "cease",
        "armistice",
    ];
    const PAUSE: &[&str] = &["pause", "pauses", "lull"];
    const HOSTAGE: &[&str] = &["hostage", "hostages", "captives", "captive", "abductees"];
    match ty {
        // Told, informed, assured: contact, but how (in person, by phone) is not said.
        PloverType::Consult if trigger.len() == 1 && is_address_verb(trigger[0]) => None,
        PloverType::Consult => {
            if trig_has(&[
                "mediate",
                "mediated",
                "mediates",
                "mediating",
                "mediation",
                "mediator",
                "mediators",
                "intermediary",
                "broker",
                "brokered",
            ]) {
                Some("mediate")
            } else if near_has(HOSTAGE)
                && trig_has(&[
                    "talks",
                    "negotiate",
                    "negotiated",
                    "negotiating",
                    "negotiations",
                    "negotiation",
                    "discussed",
                    "discuss",
                ])
            {
                Some("hostage-talks")
            } else if trig_has(&[
                "negotiate",
                "negotiated",
                "negotiates",
                "negotiating",
                "negotiation",
                "negotiations",
            ]) {
                Some("negotiate")
            } else if trig_has(&[
                "phone",
                "phoned",
                "telephone",
                "telephoned",
                "call",
                "calls",
                "called",
                "video",
                "videoconference",
                "teleconference",
            ]) {
                Some("phone")
            } else if trig_has(&[
                "host",
                "hosted",
                "hosting",
                "hosts",
                "received",
                "receives",
                "receive",
                "receiving",
                "welcomed",
                "greeted",
            ]) {
                Some("host")
            } else if trig_has(&[
                "visit",
                "visits",
                "visited",
                "visiting",
                "trip",
                "trips",
                "travel",
                "travelled",
                "traveled",
                "travelling",
                "traveling",
                "travels",
                "flew",
                "fly",
                "flies",
                "flying",
                "flown",
                "arrived",
                "arrive",
                "arrives",
                "arriving",
                "tour",
                "toured",
                "touring",
                "head",
                "headed",
                "heading",
                "mission",
            ]) {
                Some("visit")
            } else if trig_has(&[
                "summit",
                "summits",
                "conference",
                "conferences",
                "ministerial",
                "convened",
                "convene",
            ]) || sides.actor_count() >= 3
            {
                Some("multilateral")
            } else {
                Some("meet")
            }
        }
        PloverType::Request if near_has(CEASEFIRE) => Some("ceasefire-call"),
        PloverType::Request if near_has(PAUSE) => Some("pause-call"),
        PloverType::Request if near_has(HOSTAGE) => Some("hostage-release-call"),
        PloverType::Agree if trig_has(CEASEFIRE) || near_has(CEASEFIRE) => Some("ceasefire"),
        PloverType::Agree if trig_has(PAUSE) || near_has(PAUSE) => Some("pause"),
        PloverType::Agree if near_has(HOSTAGE) => Some("hostage-deal"),
        PloverType::Concede
            if near_has(HOSTAGE) || near_has(&["prisoners", "prisoner", "detainees"]) =>
        {
            Some("release")
        }
        PloverType::Concede
            if trig_has(&[
                "release",
                "released",
                "releases",
                "releasing",
                "freed",
                "frees",
                "freeing",
            ]) =>
        {
            Some("release")
        }
        PloverType::Assault
            if trig_has(&[
                "kidnap",
                "kidnapped",
                "kidnapping",
                "abduct",
                "abducted",
                "abduction",
                "hostage",
                "hostages",
            ]) || (near_has(HOSTAGE)
                && trig_has(&["took", "take", "taken", "taking", "held", "holding", "hold"])) =>
        {
            Some("hostage-taking")
        }
        PloverType::Aid
            if near_has(&[
                "humanitarian",
                "food",
                "medical",
                "medicine",
                "fuel",
                "water",
            ]) =>
        {
            Some("humanitarian")
        }
        PloverType::Aid if near_has(&["weapons", "military", "arms", "ammunition", "missiles"]) => {
            Some("military")
        }
        PloverType::Aid
            if near_has(&[
                "loan",
                "loans",
                "economic",
                "financial",
                "funding",
                "billion",
                "million",
            ]) =>
        {
            Some("economic")
        }
        PloverType::Sanction
            if trig_has(&[
                "expel",
                "expelled",
                "expels",
                "expulsion",
                "recall",
                "recalled",
            ]) =>
        {
            Some("expel")
        }
        _ => None,
    }
}
