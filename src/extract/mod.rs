//! Extraction: article text in, diplomatic event records out. Pure: no I/O, no clock, no
//! global state, so it is testable on strings and safe to run on every article of every feed.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.
//!
//! How it works, per article (submodules `normalize`, `sentences`, `matcher`, `lexicon`):
//! 1. Title and body are normalised once, into one text (`normalize`): case, diacritics,
//!    quotes, possessives, abbreviation periods, dashes and whitespace are folded, every word
//!    and punctuation mark is padded with spaces, and every normalised byte maps back to its
//!    original byte. The same pass notes where sentence terminators are.
//! 2. The body is split into sentences at those places (`sentences`, a small abbreviation-
//!    aware splitter); a non-empty title is sentence 0.
//! 3. One automaton holding every alias and role alias of every actor scans the whole
//!    normalised text once (`matcher`: Aho-Corasick, leftmost-longest, whole words only).
//!    Role aliases count only when the article's date is inside the role's range.
//! 4. A second automaton, the event lexicon (`lexicon`), makes one left-to-right pass too,
//!    but skips the stretches between sentences that mention an actor: their event words
//!    would be thrown away anyway, and most news text is such stretches.
//! 5. Matches are mapped back to original offsets and assigned to sentences by offset; each
//!    sentence with an actor becomes one [`ExtractedEvent`], typed by the trigger rule below.
//!
//! Trigger rule (when a sentence has several event words): multiword phrases beat the words
//! inside them (leftmost-longest matching); an event word inside an actor mention is not one
//! ("Secretary of *State*"); a denial verb governing another event word steps aside for it
//! ("*denied* holding talks" is consult, status denied); a trigger whose interaction links
//! two actors beats one with a single actor on a side, which beats one with none; then
//! ordinary verbs beat nouns and nouns beat statement words ("Blinken *met* ... to discuss
//! the *truce*" is a meeting; "said the *talks* ..." is consult); among the preferred, the
//! first trigger at or after the first actor mention wins, else the nearest one before it.
//! A participle after a determiner is an adjective, not a verb ("the *besieged* territory").
//!
//! Output contract (what `parley extract` prints and `parley eval` scores; names are stable):
//! - one [`ExtractedEvent`] per sentence with at least one actor (named or resolved), with
//!   `actors` (sorted ids), `type` (PLOVER or `statement`, `null` without an event word or
//!   outside English), `trigger`, `trigger_span`, `status`, `mode`, `source`, `target`,
//!   `participants` (the main interaction), `lang`, `location`, `date`, `date_source`;
//! - `interactions`: every interaction of the sentence (one per event word with an actor on
//!   a side: `type`, `source`, `target`, `participants`, `mode`, `status`, `trigger`,
//!   `trigger_span`, `cameo`); the main one is mirrored in the event's own fields. One event
//!   per sentence keeps `sentence_index` a stable key for alerts and the log.
//! - `mentions[]`: `resolved: true` and `how` ("pronoun", "role", "definite-description")
//!   for referring words resolved by coreference. Resolved actors count in `actors`: "his
//!   visit ..., where he held talks with Netanyahu" is a Blinken-Netanyahu sentence.
//!
//! Sides, status and modes: see `interact`. Coreference (English only): "he/him/his/she/her"
//! refers to the first person actor of the current sentence so far, else of the latest of
//! the two sentences before that names a person (the subject of news sentences comes first);
//! a shared alias there is ambiguous and not claimed. "The <office>" ("the prime minister",
//! "the foreign minister", "the secretary") refers to the one actor named in the last four
//! sentences who holds a role with that office at the article's date; two such actors, or
//! none, leave it unresolved. Actors count as persons when they have roles or a name of two
//! or more words without organisation words; countries and cities never do.
//!
//! Roles are bound to their country: every role alias naming a country or demonym also
//! matches with the other forms ("Qatar's foreign minister" = "Qatari foreign minister" =
//! "foreign minister of Qatar"), from the gazetteer's table of 195 countries (`gazetteer`).
//! Coordinated demonyms before a plural office ("the Egyptian, Jordanian and Qatari foreign
//! ministers") give one mention per demonym (its text is the demonym), each the holder of
//! that country's office at the article's date; untracked ones in the list are skipped, and
//! a single demonym with a plural office names no one.
//! Diacritics and hyphens fold in normalisation ("Erdoğan" = "Erdogan", "al-Thani" =
//! "Al Thani"). Surnames are not derived: configs list the short forms they want.
//!
//! Language (`lang`): whatlang on the article's start; names match in every language, but
//! event typing, coreference and locations run only on English. Dates (`when`): relative
//! expressions resolve against the publication date. CAMEO crosswalk: [`cameo_root`].

use chrono::NaiveDate;
use serde::Serialize;

use crate::plover::PloverType;

mod build;
mod cameo;
mod coref;
mod event;
mod features;
mod gazetteer;
mod interact;
mod lang;
mod lexicon;
mod matcher;
mod mentions;
pub mod model;
mod normalize;
mod place;
mod sentences;
mod source;
mod triggers;
mod when;

pub use cameo::cameo_root;
pub use features::PairSample;
pub use interact::Status;
pub use model::InteractionModel;

use coref::Coref;
use gazetteer::PlaceKind;
use lexicon::TriggerInfo;
use matcher::Matcher;

/// A tracked actor as extraction needs it: its id and every way the news may name it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorSpec {
    /// Stable id used in rules, events and alerts.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Names that always mean this actor ("Antony Blinken", "Blinken").
    pub aliases: Vec<String>,
    /// Offices that mean this actor only while the actor holds them.
    pub roles: Vec<RoleSpec>,
}

/// An office held for a date range ("U.S. Secretary of State", 2021-01-26..2025-01-20).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    /// The office's name; also matched as an alias.
    pub title: String,
    /// Other ways to name the office ("Secretary of State", "top U.S. diplomat").
    pub aliases: Vec<String>,
    /// First day in office (inclusive); `None` = since ever.
    pub from: Option<NaiveDate>,
    /// Last day in office (inclusive); `None` = still in office.
    pub until: Option<NaiveDate>,
}

/// Errors building an extractor (bad alias set).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// An alias normalises to nothing (e.g. only punctuation).
    #[error("actor {actor:?}: alias {alias:?} is empty after normalisation")]
    EmptyAlias {
        /// Actor id.
        actor: String,
        /// The alias as configured.
        alias: String,
    },
    /// The automaton could not be built.
    #[error("cannot build the alias matcher: {0}")]
    Build(String),
}

/// One article as extraction sees it.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    /// Title (may be empty). Treated as the first sentence.
    pub title: &'a str,
    /// Body text, plain.
    pub text: &'a str,
    /// The article's date; role aliases count only if it lies within the role's range.
    /// `None`: role aliases with a date range do not match.
    pub date: Option<NaiveDate>,
}

/// An actor's id as extraction reports it: shared, not copied, because one article names
/// the same few actors many times over (every mention, side and interaction), and a copy
/// of the id string for each was a large share of extraction's allocations. It reads,
/// compares and serialises as the plain string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct ActorId(std::sync::Arc<str>);

impl std::ops::Deref for ActorId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ActorId {
    fn from(s: &str) -> ActorId {
        ActorId(s.into())
    }
}

impl std::fmt::Debug for ActorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for ActorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ActorId {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for ActorId {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for ActorId {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

/// The result of extracting one article.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Extraction {
    /// Every actor id mentioned anywhere, sorted and unique.
    pub actors: Vec<ActorId>,
    /// One event per sentence that mentions at least one actor, in text order.
    pub events: Vec<ExtractedEvent>,
}

/// One sentence with actors in it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ExtractedEvent {
    /// Zero-based index among the article's sentences (title is sentence 0 when present).
    pub sentence_index: usize,
    /// Actor ids in the sentence, sorted and unique.
    pub actors: Vec<ActorId>,
    /// PLOVER type from the sentence's event word, or `None` when it has none.
    #[serde(rename = "type")]
    pub event_type: Option<PloverType>,
    /// The event word or phrase as written, if any.
    pub trigger: Option<String>,
    /// The sentence as written (original text, trimmed).
    pub sentence: String,
    /// Every actor mention: which actor, the matched text, and byte offsets in `sentence`.
    pub mentions: Vec<Mention>,
    /// Who acts in the main interaction (actor ids, sorted). Empty for joint actions.
    pub source: Vec<ActorId>,
    /// Who is acted on (actor ids, sorted).
    pub target: Vec<ActorId>,
    /// Actors acting together ("X and Y agreed", talks "between X and Y"), sorted.
    pub participants: Vec<ActorId>,
    /// Diplomatic subtype of the main interaction ("meet", "visit", "phone", ...).
    pub mode: Option<&'static str>,
    /// Byte offsets of the main trigger in `sentence`.
    pub trigger_span: Option<Span>,
    /// Whether the main event happened, is planned, denied or hypothetical.
    pub status: Status,
    /// The article's language (ISO 639-1 where there is one); typing runs only for "en".
    pub lang: &'static str,
    /// Where it happened, from the gazetteer ("in Amman", "to Turkey").
    pub location: Option<Location>,
    /// When it happened: from the text relative to the publication date, else that date.
    pub date: Option<NaiveDate>,
    /// `"text"` when `date` came from the sentence, `"published"` when it is the article's
    /// date; absent without a date.
    pub date_source: Option<&'static str>,
    /// Every interaction found in the sentence (one per event word with an actor on a
    /// side); the main one, mirrored in the fields above, is among them.
    pub interactions: Vec<Interaction>,
}

/// A byte range inside a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
}

/// Where an event took place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The place as the gazetteer names it ("Amman", "Turkey").
    pub name: String,
    /// Its country.
    pub country: String,
}

/// One interaction in a sentence: an event word and the actors on each side of it. A
/// sentence can report several ("X met Y, then flew to Z and called W").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interaction {
    /// PLOVER type (or the `statement` extension).
    #[serde(rename = "type")]
    pub event_type: PloverType,
    /// Who acts (actor ids, sorted).
    pub source: Vec<ActorId>,
    /// Who is acted on.
    pub target: Vec<ActorId>,
    /// Who acts together.
    pub participants: Vec<ActorId>,
    /// Subtype ("meet", "visit", "host", "phone", "negotiate", "mediate", "multilateral",
    /// "ceasefire-call", "ceasefire", "pause-call", "pause", "hostage-talks", "release",
    /// "hostage-taking", ...).
    pub mode: Option<&'static str>,
    /// Occurred, planned, denied or hypothetical.
    pub status: Status,
    /// The event word as written.
    pub trigger: String,
    /// Its byte offsets in the sentence.
    pub trigger_span: Span,
    /// The CAMEO root code this type and mode map to (see [`cameo_root`]).
    pub cameo: &'static str,
    /// The learned model's probability that this interaction is right as reported (pair,
    /// status and type), rounded to three places; absent when no model decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

/// One actor mention inside a sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// Actor id.
    pub actor: ActorId,
    /// The text as written.
    pub text: String,
    /// Byte offset of the start in the sentence.
    pub start: usize,
    /// Byte offset of the end in the sentence.
    pub end: usize,
    /// True when it matched a role alias rather than a name.
    pub via_role: bool,
    /// True when the text does not name the actor but refers back to one ("he", "his",
    /// "the secretary") and coreference resolved it.
    pub resolved: bool,
    /// How it was resolved: "pronoun", "role" (a bare office: "the prime minister") or
    /// "definite-description" (a head noun: "the secretary", "the minister").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub how: Option<&'static str>,
}

/// A compiled extractor: alias and lexicon automata. Build once per config, share freely.
#[derive(Debug)]
pub struct Extractor {
    /// Every normalised alias of every actor, names and roles together, plus the words that
    /// refer back to an actor (pronouns, bare offices): one automaton, one pass.
    aliases: Matcher,
    /// `owners[pattern]`: who an alias pattern names, and when.
    owners: Vec<Vec<Owner>>,
    /// `coref[pattern]`: the pattern is (also) a referring word.
    coref: Vec<Option<Coref>>,
    /// `dotted[pattern]`: some configured spelling ended in "." ("U.S."), so a period right
    /// after the match belongs to the mention.
    dotted: Vec<bool>,
    /// Actor ids, sorted; actor indexes below point into this.
    ids: Vec<ActorId>,
    /// `person[actor]`: the actor is a person (a pronoun may refer to it).
    person: Vec<bool>,
    /// `place[actor]`: the actor is a country or city (after "in"/"at" it is a location).
    place: Vec<bool>,
    /// Offices derived from role aliases ("foreign minister", "secretary") and who held them.
    offices: Vec<Vec<Owner>>,
    /// The event lexicon.
    lexicon: Matcher,
    /// `triggers[pattern]`: what a lexicon phrase means.
    triggers: Vec<TriggerInfo>,
    /// Countries, capitals and cities.
    places: Matcher,
    /// `place_kinds[pattern]`.
    place_kinds: Vec<PlaceKind>,
    /// No place pattern has a location cue word (see [`is_location_cue`]) after its first
    /// word, so a location scan may start at the sentence's first cue: no place found from
    /// an earlier start can run across it (see `location`).
    places_cue_free: bool,
    /// Country names, for locations.
    countries: Vec<&'static str>,
    /// `plural_office[pattern]`: the pattern is a plural office ("foreign ministers") whose
    /// singular is this; coordinated demonyms before it name one holder each.
    plural_office: Vec<Option<String>>,
    /// Every alias pattern by its normalised (padded) phrase.
    alias_index: std::collections::HashMap<String, usize>,
    /// Normalised country names and demonyms ("egyptian", "saudi", "united states").
    demonyms: std::collections::HashSet<String>,
    /// The learned interaction model, when one is loaded.
    model: Option<std::sync::Arc<InteractionModel>>,
}

/// One actor an alias pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    /// Index into `Extractor::ids`.
    actor: usize,
    /// Matched through a role (valid only within `from..=until`).
    via_role: bool,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
}

impl Owner {
    /// Whether this alias names the actor in an article dated `date`.
    fn valid_at(&self, date: Option<NaiveDate>) -> bool {
        if !self.via_role || (self.from.is_none() && self.until.is_none()) {
            return true;
        }
        let Some(d) = date else {
            return false;
        };
        self.from.is_none_or(|f| d >= f) && self.until.is_none_or(|u| d <= u)
    }
}

impl Extractor {
    /// The same extractor deciding interactions with a learned model (see `model`).
    pub fn with_model(mut self, model: InteractionModel) -> Extractor {
        self.model = Some(std::sync::Arc::new(model));
        self
    }

    /// Every pair of actors named in a sentence of `doc`, with the features the model
    /// reads: what `parley train` learns from.
    pub fn pair_samples(&self, doc: &Document<'_>) -> Vec<PairSample> {
        let article = source::Article::read(doc);
        let (mut found, _) = self.mentions(&article, doc.date);
        let candidates = self.candidates(&article, &found);
        let mut out = Vec::new();
        self.events(&article, doc.date, &mut found, &candidates, Some(&mut out));
        out
    }

    /// Extracts one article: the pipeline, one step per submodule.
    pub fn extract(&self, doc: &Document<'_>) -> Extraction {
        let article = source::Article::read(doc);
        let (mut found, seen) = self.mentions(&article, doc.date);
        if found.is_empty() {
            return Extraction {
                actors: Vec::new(),
                events: Vec::new(),
            };
        }
        let candidates = self.candidates(&article, &found);
        let events = self.events(&article, doc.date, &mut found, &candidates, None);
        let actors = seen
            .iter()
            .zip(&self.ids)
            .filter(|(s, _)| **s)
            .map(|(_, id)| id.clone())
            .collect();
        Extraction { actors, events }
    }
}

#[cfg(test)]
mod tests;
