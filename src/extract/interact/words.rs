//! The closed-class words the heuristics read: clause boundaries, prepositions,
//! auxiliaries, negations, modals, light and speech verbs. Kept apart from the analysis so
//! that a word added to a list changes no logic.

use super::Tok;

/// Nouns for people or bodies acting on an actor's behalf: after "<actor>'s" they, not the
/// actor, take the side ("Netanyahu's envoy met ...").
pub(crate) fn is_proxy_noun(w: &str) -> bool {
    matches!(
        w,
        "envoy"
            | "envoys"
            | "emissary"
            | "emissaries"
            | "adviser"
            | "advisers"
            | "advisor"
            | "advisors"
            | "aide"
            | "aides"
            | "deputy"
            | "deputies"
            | "spokesman"
            | "spokeswoman"
            | "spokesperson"
            | "representative"
            | "representatives"
            | "ambassador"
            | "delegation"
            | "delegates"
            | "negotiator"
            | "negotiators"
            | "cabinet"
            | "staff"
            | "son"
            | "daughter"
            | "wife"
            | "husband"
    )
}

pub(super) fn is_boundary(w: &str) -> bool {
    matches!(
        w,
        ";" | ":"
            | "\""
            | "("
            | ")"
            | "."
            | "?"
            | "!"
            | "but"
            | "while"
            | "whereas"
            | "although"
            | "though"
            | "because"
            | "where"
            | "when"
            | "whilst"
            | "meanwhile"
            | "however"
            | "unless"
    )
}

/// Adverbs that may sit between a subject (or an aside's closing comma) and its verb.
pub(super) fn is_adverb(w: &str) -> bool {
    matches!(
        w,
        "also"
            | "further"
            | "then"
            | "later"
            | "again"
            | "already"
            | "still"
            | "reportedly"
            | "repeatedly"
            | "previously"
            | "recently"
            | "separately"
            | "jointly"
            | "briefly"
            | "finally"
            | "quickly"
            | "publicly"
            | "privately"
            | "personally"
            | "directly"
            | "had"
            | "has"
            | "have"
            | "was"
            | "were"
            | "is"
            | "are"
            | "will"
            | "would"
    )
}

/// Verbs after which "that" opens a new clause ("said that", "believed that").
pub(super) fn takes_that_clause(w: &str) -> bool {
    matches!(
        w,
        "said"
            | "says"
            | "say"
            | "stated"
            | "states"
            | "believed"
            | "believes"
            | "believe"
            | "thinks"
            | "think"
            | "thought"
            | "added"
            | "noted"
            | "warned"
            | "argued"
            | "insisted"
            | "stressed"
            | "emphasized"
            | "emphasised"
            | "told"
            | "claimed"
            | "announced"
            | "hoped"
            | "feared"
            | "acknowledged"
            | "confirmed"
            | "reported"
            | "explained"
            | "indicated"
            | "suggested"
            | "signalled"
            | "signaled"
            | "knew"
            | "denied"
            | "denies"
            | "deny"
            | "dismissed"
            | "agreed"
            | "reiterated"
            | "underlined"
            | "underscored"
    )
}

/// Verbs that take an event noun as their object and make its subject the event's actor
/// ("X *held* talks", "X *paid* a visit", "X *attended* the summit").
pub(super) fn is_light_verb(w: &str) -> bool {
    matches!(
        w,
        "hold"
            | "held"
            | "holds"
            | "holding"
            | "had"
            | "has"
            | "have"
            | "having"
            | "make"
            | "made"
            | "makes"
            | "making"
            | "pay"
            | "paid"
            | "pays"
            | "paying"
            | "begin"
            | "began"
            | "begun"
            | "begins"
            | "start"
            | "started"
            | "starts"
            | "conclude"
            | "concluded"
            | "concludes"
            | "conduct"
            | "conducted"
            | "conducts"
            | "attend"
            | "attended"
            | "attends"
            | "attending"
            | "join"
            | "joined"
            | "joins"
            | "chair"
            | "chaired"
            | "chairs"
            | "lead"
            | "led"
            | "leads"
            | "resume"
            | "resumed"
            | "resumes"
            | "open"
            | "opened"
            | "opens"
            | "wrap"
            | "wrapped"
            | "complete"
            | "completed"
            | "end"
            | "ended"
            | "continue"
            | "continued"
            | "enter"
            | "entered"
            | "take"
            | "took"
            | "takes"
            | "taking"
            | "engage"
            | "engaged"
            | "launch"
            | "launched"
            | "announce"
            | "announced"
            | "seek"
            | "sought"
            | "propose"
            | "proposed"
            | "offer"
            | "offered"
            | "issue"
            | "issued"
            | "sign"
            | "signed"
            | "give"
            | "gave"
    )
}

/// Prepositions: an event noun after one is inside a phrase of its own ("the road *to* the
/// conference", "books *about* diplomacy"), not the object of the subject's verb.
pub(super) fn is_preposition(w: &str) -> bool {
    matches!(
        w,
        "to" | "about"
            | "of"
            | "in"
            | "at"
            | "on"
            | "for"
            | "from"
            | "into"
            | "after"
            | "before"
            | "during"
            | "since"
            | "over"
            | "against"
            | "toward"
            | "towards"
            | "near"
            | "like"
            | "than"
            | "without"
            | "despite"
            | "amid"
            | "ahead"
    )
}

/// Words that open a list of members after a plural noun: "European leaders, *including*
/// Starmer and Macron"; the members belong to the phrase before them.
pub(super) fn opens_member_list(toks: &[Tok<'_>], i: usize) -> bool {
    match toks.get(i).map(|t| t.w) {
        Some("including" | "notably" | "namely" | "especially" | "particularly") => true,
        Some("such") => toks.get(i + 1).is_some_and(|t| t.w == "as"),
        Some("among") => toks.get(i + 1).is_some_and(|t| t.w == "them"),
        _ => false,
    }
}

/// Speech verbs addressed to someone: "told X", "informed X", "assured X", "briefed X".
pub(crate) fn is_address_verb(w: &str) -> bool {
    matches!(
        w,
        "told"
            | "tell"
            | "tells"
            | "telling"
            | "informed"
            | "inform"
            | "informs"
            | "informing"
            | "assured"
            | "assure"
            | "assures"
            | "assuring"
    )
}

pub(super) fn is_aux(w: &str) -> bool {
    matches!(
        w,
        "was" | "were" | "is" | "are" | "been" | "being" | "be" | "am" | "get" | "got" | "gets"
    )
}

pub(super) fn is_locative(w: &str) -> bool {
    matches!(
        w,
        "in" | "at" | "near" | "inside" | "outside" | "across" | "throughout" | "around" | "from"
    )
}

/// Words that may sit between two mentions of one coordinated or appositive group.
pub(super) fn is_joiner(w: &str) -> bool {
    matches!(
        w,
        "," | "and"
            | "or"
            | "the"
            | "a"
            | "an"
            | "as"
            | "well"
            | "both"
            | "its"
            | "his"
            | "her"
            | "their"
            | "'"
            | "&"
            | "also"
            | "nor"
            | "either"
            | "neither"
    )
}

/// Words that can never be inside a group's gap (they start a new phrase).
pub(super) fn breaks_group(w: &str) -> bool {
    is_boundary(w)
        || is_aux(w)
        || matches!(
            w,
            "with"
                | "to"
                | "by"
                | "from"
                | "in"
                | "at"
                | "on"
                | "against"
                | "for"
                | "about"
                | "over"
                | "into"
                | "who"
                | "whom"
                | "whose"
                | "which"
                | "that"
                | "said"
                | "says"
                | "will"
                | "would"
                | "has"
                | "have"
                | "had"
                | "did"
                | "does"
                | "do"
                | "after"
                | "before"
                | "between"
                | "of"
        )
}

pub(super) fn is_negation(w: &str) -> bool {
    matches!(
        w,
        "not" | "never" | "no" | "t" | "nor" | "neither" | "cannot"
    )
}

pub(super) fn is_denial_verb(w: &str) -> bool {
    matches!(
        w,
        "denied"
            | "denies"
            | "deny"
            | "denying"
            | "refused"
            | "refuses"
            | "refuse"
            | "refusing"
            | "declined"
            | "declines"
            | "decline"
            | "declining"
            | "failed"
            | "fails"
            | "dismissed"
            | "rejected"
    )
}

pub(super) fn is_possible(w: &str) -> bool {
    matches!(
        w,
        "could" | "might" | "may" | "should" | "possibly" | "perhaps" | "potentially" | "whether"
    )
}

pub(super) fn is_future(w: &str) -> bool {
    matches!(
        w,
        "will"
            | "shall"
            | "ll"
            | "scheduled"
            | "expected"
            | "planned"
            | "plans"
            | "plan"
            | "planning"
            | "set"
            | "due"
            | "intends"
            | "intended"
            | "intend"
            | "upcoming"
            | "aims"
            | "aim"
            | "hopes"
            | "prepares"
            | "preparing"
            | "going"
    )
}
