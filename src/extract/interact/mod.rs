//! Who did what to whom inside one sentence: sides, status and mode of each event word.
//!
//! There is no parser that fits parley (pure, fast, no model files), so this is a set of
//! general, POS-free heuristics over the sentence's normalised tokens, using what extraction
//! already knows: where the actor mentions are, where the lexicon's event words are (and
//! whether each is a verb or a noun), plus closed-class words (prepositions, auxiliaries,
//! negations, modals, clause openers).
//!
//! For each event word (trigger):
//! - **Clause.** The trigger's clause runs between boundary words (`;` `:` quotes, "but",
//!   "while", "whereas", "although", "because", "where", "when", ...).
//! - **Groups.** Adjacent mentions joined only by commas, "and", "or", articles and a few
//!   descriptor words form one group (coordination: "Egypt, Jordan and Qatar"; apposition:
//!   "Lebanon's prime minister, Najib Mikati,"; members listed after "including", "such
//!   as", "among them": "European leaders, including Starmer and Macron"). A mention right
//!   after a locative preposition ("in", "at", "near") of an actor that is a place is a
//!   location, never a side.
//! - **Relative clauses.** "A, who met B, ..." gives "met" the antecedent A as subject;
//!   "B, whom/which C had accused ..." gives "accused" the subject C and the antecedent B as
//!   object.
//! - **Event nouns** take the group before them as their actor only directly ("Biden's
//!   visit") or as the object of a light verb ("held talks", "paid a visit", "had dinner");
//!   "Portraits of X lined the road to the conference" relates no one.
//! - **Addressed statements.** "X told Y that ...", "Y was told by X", "X assured/informed
//!   Y": a statement whose addressee is a tracked actor is CONSULT (PLOVER's communication
//!   between two parties, CAMEO 04), because it reports contact between them; what was
//!   said is typed on its own. A statement to reporters, parliament or the public has no
//!   tracked addressee and stays `statement` (CAMEO 01). A statement *about* an actor ("said
//!   of X's proposal", "commented on X's remarks") targets it.
//! - **Agreements govern their object.** An event word that is the object of an agreement
//!   verb ("signed a strategic partnership", "agreed to coordinate") is what was agreed,
//!   not a second event.
//! - **Source** is the nearest group before the trigger in its clause; when the trigger
//!   follows a comma-delimited aside that opens with "who"/"which" or holds no verb
//!   ("Blinken, who arrived from Israel, met ...") the group before the aside is the source.
//! - **Target** is the first group after the trigger within ten tokens, not across another
//!   verb trigger. For statements ("said") only a group right after the verb or after
//!   "to"/"with" is a target ("told Mikati"), and with no source before it the group after
//!   is the speaker (", said Blinken").
//! - **Passive.** An auxiliary ("was", "were", "been", ...) right before the trigger swaps
//!   sides: the group after "by" is the source, the group before is the target.
//! - **Joint action.** A symmetric type (consult, agree, cooperate) whose source group holds
//!   several actors and which has no target ("Jordan and Egypt agreed"), or a group after
//!   "between", gives `participants` instead of source and target.
//! - **Status.** Looking back from the trigger over its auxiliaries: a negation ("not",
//!   "never", "n't") or a denial verb ("denied", "refused to", "ruled out") → `denied`;
//!   a modal of possibility ("could", "might", "may", "should", "would" with "if"/"unless" in
//!   the sentence), or "if" → `hypothetical`; a future or schedule marker ("will",
//!   "scheduled to", "plans to", "set to", "due to", "expected to", "would") → `planned`;
//!   else `occurred`. A verb coordinated with a previous one ("is scheduled to meet ... and
//!   travel to") inherits its status, and so does a purpose ("will travel to Doha *to meet*
//!   X", "plans to visit Amman *for talks* with X"). Everything in a clause governed by a
//!   denial verb is denied ("X denied that Y had met Z").
//!
//! The steps, one file each: `view` prepares a sentence (groups, clauses) once for all its
//! triggers, `sides` finds each trigger's sides, `status` its status, `kind` the type that
//! depends on the object and the mode; `words` holds the closed-class word lists they read.

mod kind;
mod sides;
mod status;
mod view;
mod words;

use crate::plover::PloverType;

pub(crate) use kind::{mode, retype};
pub(crate) use sides::analyze;
pub(crate) use view::{View, ViewBufs};
pub(crate) use words::is_proxy_noun;

/// Whether an event happened, per the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Reported as having happened (the default).
    #[default]
    Occurred,
    /// Scheduled, intended or announced for the future.
    Planned,
    /// Negated or denied ("did not meet", "denied holding talks").
    Denied,
    /// Conditional or merely possible ("could meet", "if ... would").
    Hypothetical,
}

impl Status {
    /// The lower-case name used in JSON and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Occurred => "occurred",
            Status::Planned => "planned",
            Status::Denied => "denied",
            Status::Hypothetical => "hypothetical",
        }
    }
}

/// One normalised token of a sentence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok<'a> {
    /// The token text (normalised: lower case, no diacritics).
    pub w: &'a str,
}

/// An actor mention in token coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MentionTok {
    /// Actor index.
    pub actor: usize,
    /// First token.
    pub t0: usize,
    /// One past the last token.
    pub t1: usize,
    /// The actor is a place (a country or city); after "in"/"at" it is a location.
    pub place: bool,
    /// The mention is a possessive naming someone acting for the actor ("Macron's envoy",
    /// "Erdogan's top adviser"): the actor is mentioned but is not a side.
    pub proxy: bool,
}

/// A trigger in token coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrigTok {
    pub t0: usize,
    pub t1: usize,
    pub ty: PloverType,
    pub verb: bool,
}

/// The actors (indexes) on one side of an interaction: almost always one to three, kept
/// inline so that analysing a trigger allocates nothing.
pub(crate) type Side = smallvec::SmallVec<[usize; 4]>;

/// The sides, status and mode of one trigger.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Sides {
    pub source: Side,
    pub target: Side,
    pub participants: Side,
    pub status: Option<Status>,
    pub mode: Option<&'static str>,
    /// The trigger is a denial verb governing the next trigger ("denied holding talks"); the
    /// governed trigger carries the event, with status `denied`.
    pub absorbed: bool,
}

impl Sides {
    /// Distinct actors over all sides.
    pub fn actor_count(&self) -> usize {
        // The sides hold a handful of actors: a quadratic count beats a sorted copy.
        let all = || {
            self.source
                .iter()
                .chain(&self.target)
                .chain(&self.participants)
        };
        all()
            .enumerate()
            .filter(|&(i, a)| !all().take(i).any(|b| b == a))
            .count()
    }
}

#[cfg(test)]
mod tests;
