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

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::plover::PloverType;

mod cameo;
mod gazetteer;
mod interact;
mod lang;
mod lexicon;
mod matcher;
mod normalize;
mod sentences;
mod when;

pub use cameo::cameo_root;
pub use interact::Status;

use gazetteer::{Gazetteer, PlaceKind};
use interact::{MentionTok, Sides, Tok, TrigTok};
use lexicon::{Lexicon, TriggerInfo};
use matcher::{Hit, Matcher};

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
}

/// What a referring word refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coref {
    /// "he", "his", "she", "her", "him".
    Pronoun,
    /// A bare office (index into `offices`); `full` = the whole office phrase ("prime
    /// minister") rather than its head noun ("minister").
    Office { office: usize, full: bool },
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

/// A trigger candidate (offsets in the article's virtual coordinates, see [`Source`]).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    sentence: usize,
    start: usize,
    end: usize,
    /// Normalised range.
    nstart: usize,
    nend: usize,
    ty: PloverType,
    verb: bool,
}

/// One actor mention (virtual coordinates).
#[derive(Debug, Clone, Copy)]
struct Found {
    sentence: usize,
    start: usize,
    end: usize,
    /// Normalised range.
    nstart: usize,
    nend: usize,
    actor: usize,
    via_role: bool,
    /// Set when coreference resolved a referring word to this actor.
    how: Option<&'static str>,
}

/// The article's original text as one coordinate space without copying it: the title at
/// `0..title.len()`, the body at `base..base + body.len()` (`base` leaves a one-byte gap, so
/// no span can run from one into the other).
struct Source<'a> {
    title: &'a str,
    body: &'a str,
    base: usize,
}

impl<'a> Source<'a> {
    /// The original text of `start..end` (both in the same segment), or "" if out of range.
    fn slice(&self, start: usize, end: usize) -> &'a str {
        let (seg, s, e) = if start >= self.base {
            (self.body, start - self.base, end.saturating_sub(self.base))
        } else {
            (self.title, start, end)
        };
        seg.get(s..e).unwrap_or("")
    }

    /// Original span of the normalised range `start..end`: from the first char's start to the
    /// last char's end.
    fn span(&self, norm: &normalize::Normalized, start: usize, end: usize) -> (usize, usize) {
        let s = norm.orig_start(start);
        let last = norm.orig_start(end - 1);
        let len = self
            .slice(last, self.end_of(last))
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        (s, last + len)
    }

    /// The end (virtual) of the segment holding `pos`.
    fn end_of(&self, pos: usize) -> usize {
        if pos >= self.base {
            self.base + self.body.len()
        } else {
            self.title.len()
        }
    }
}

/// Pronouns that refer back to a person actor.
const PRONOUNS: &[&str] = &["he", "him", "his", "she", "her"];

/// Words in an actor's name that mark an organisation, not a person.
const ORG_WORDS: &[&str] = &[
    "united",
    "nations",
    "union",
    "ministry",
    "council",
    "forces",
    "army",
    "party",
    "front",
    "movement",
    "authority",
    "bank",
    "fund",
    "court",
    "group",
    "organization",
    "organisation",
    "agency",
    "committee",
    "league",
    "government",
    "office",
    "house",
    "corps",
    "guard",
    "brigades",
    "jihad",
    "state",
    "states",
    "republic",
    "kingdom",
    "emirates",
    "assembly",
    "parliament",
    "congress",
    "senate",
    "cabinet",
    "administration",
    "commission",
    "alliance",
    "coalition",
    "federation",
    "network",
    "hamas",
    "hezbollah",
    "houthis",
    "taliban",
    "nato",
    "police",
    "navy",
    "military",
    "militia",
    "company",
    "inc",
    "ltd",
    "foundation",
    "institute",
    "program",
    "programme",
    "mission",
    "secretariat",
    "pentagon",
    "kremlin",
];

/// Pattern table being built: one automaton pattern per distinct normalised phrase.
#[derive(Default)]
struct Patterns {
    patterns: Vec<String>,
    owners: Vec<Vec<Owner>>,
    coref: Vec<Option<Coref>>,
    dotted: Vec<bool>,
    plural: Vec<Option<String>>,
    index: BTreeMap<String, usize>,
}

/// The plural of an office phrase: its head noun (the last word before "of") takes the
/// plural ("foreign minister" → "foreign ministers", "secretary of state" → "secretaries
/// of state").
fn plural_office(office: &str) -> String {
    let (head, tail) = match office.split_once(" of ") {
        Some((h, t)) => (h, format!(" of {t}")),
        None => (office, String::new()),
    };
    let (front, last) = match head.rsplit_once(' ') {
        Some((f, l)) => (format!("{f} "), l),
        None => (String::new(), head),
    };
    let plural = if let Some(stem) = last.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if last.ends_with('s') || last.ends_with("sh") || last.ends_with("ch") {
        format!("{last}es")
    } else {
        format!("{last}s")
    };
    format!("{front}{plural}{tail}")
}

impl Patterns {
    /// The pattern index of an already normalised (padded) phrase, added if new.
    fn slot(&mut self, norm: &str) -> usize {
        if let Some(&p) = self.index.get(norm) {
            return p;
        }
        self.index.insert(norm.to_string(), self.patterns.len());
        self.patterns.push(norm.to_string());
        self.owners.push(Vec::new());
        self.coref.push(None);
        self.dotted.push(false);
        self.plural.push(None);
        self.patterns.len() - 1
    }

    fn own(&mut self, p: usize, owner: Owner) {
        if !self.owners[p].contains(&owner) {
            self.owners[p].push(owner);
        }
    }
}

/// The office words of a normalised role alias with its country words taken out:
/// "qatar foreign minister" → "foreign minister"; "top us diplomat" → "top diplomat";
/// "us secretary of state" → "secretary of state".
fn office_of(g: &Gazetteer, alias: &str) -> Option<String> {
    let words: Vec<&str> = alias.split(' ').filter(|w| !w.is_empty()).collect();
    let mut keep = vec![true; words.len()];
    let mut i = 0;
    while i < words.len() {
        let mut hit = 0;
        for k in (1..=4.min(words.len() - i)).rev() {
            if g.lookup(&words[i..i + k].join(" ")).is_some() {
                hit = k;
                break;
            }
        }
        if hit > 0 {
            keep[i..i + hit].iter_mut().for_each(|x| *x = false);
            // "... of qatar": the "of" goes with the country.
            if i > 0 && words[i - 1] == "of" {
                keep[i - 1] = false;
            }
            i += hit;
        } else {
            i += 1;
        }
    }
    let office: Vec<&str> = words
        .iter()
        .zip(&keep)
        .filter(|(w, k)| **k && **w != "the")
        .map(|(w, _)| *w)
        .collect();
    let office = office.join(" ");
    (office != alias && office.chars().any(char::is_alphabetic)).then_some(office)
}

impl Extractor {
    /// Compiles the actors' aliases and roles.
    pub fn new(actors: &[ActorSpec]) -> Result<Extractor, ExtractError> {
        // Actor indexes follow sorted id order, so sorting indexes sorts ids.
        let ids: Vec<String> = {
            let mut v: Vec<String> = actors.iter().map(|a| a.id.clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        let index_of: BTreeMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let gaz = Gazetteer::build();

        let mut pats = Patterns::default();
        let mut person = vec![false; ids.len()];
        let mut place = vec![false; ids.len()];
        // Offices by normalised phrase: (office index, is the full phrase).
        let mut office_index: BTreeMap<String, usize> = BTreeMap::new();
        let mut offices: Vec<Vec<Owner>> = Vec::new();
        let mut office_words: Vec<(String, usize, bool)> = Vec::new();
        let mut plurals: std::collections::BTreeSet<String> = Default::default();
        for a in actors {
            let actor = index_of.get(a.id.as_str()).copied().unwrap_or_default();
            let name = Owner {
                actor,
                via_role: false,
                from: None,
                until: None,
            };
            for alias in &a.aliases {
                let norm = normalize::normalize(alias).text;
                if !norm.chars().any(char::is_alphanumeric) {
                    return Err(ExtractError::EmptyAlias {
                        actor: a.id.clone(),
                        alias: alias.clone(),
                    });
                }
                if gaz.lookup(norm.trim()).is_some() || gaz.places.iter().any(|(p, _)| *p == norm) {
                    place[actor] = true;
                }
                let p = pats.slot(&norm);
                pats.own(p, name);
                pats.dotted[p] |= alias.trim_end().ends_with('.');
            }
            let name_words: Vec<String> = normalize::normalize(&a.name)
                .text
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            let org = name_words.iter().any(|w| ORG_WORDS.contains(&w.as_str()));
            person[actor] = !place[actor] && !org && (!a.roles.is_empty() || name_words.len() >= 2);
            for r in &a.roles {
                let role = Owner {
                    actor,
                    via_role: true,
                    from: r.from,
                    until: r.until,
                };
                for alias in std::iter::once(&r.title).chain(&r.aliases) {
                    let norm = normalize::normalize(alias).text;
                    if !norm.chars().any(char::is_alphanumeric) {
                        return Err(ExtractError::EmptyAlias {
                            actor: a.id.clone(),
                            alias: alias.clone(),
                        });
                    }
                    let p = pats.slot(&norm);
                    pats.own(p, role);
                    pats.dotted[p] |= alias.trim_end().ends_with('.');
                    // The same office bound to the same country, as other wires write it.
                    for v in gaz.role_variants(norm.trim()) {
                        let p = pats.slot(&format!(" {v} "));
                        pats.own(p, role);
                    }
                    // The bare office and its head noun, for "the prime minister".
                    if let Some(office) = office_of(&gaz, norm.trim()) {
                        plurals.insert(office.clone());
                        let head = office
                            .split(" of ")
                            .next()
                            .and_then(|o| o.rsplit(' ').next())
                            .unwrap_or("")
                            .to_string();
                        for (phrase, full) in [(office.clone(), true), (head.clone(), false)] {
                            if phrase.len() < 3 || (!full && phrase == office) {
                                continue;
                            }
                            let i = *office_index.entry(phrase.clone()).or_insert_with(|| {
                                offices.push(Vec::new());
                                office_words.push((phrase.clone(), offices.len() - 1, full));
                                offices.len() - 1
                            });
                            if !offices[i].contains(&role) {
                                offices[i].push(role);
                            }
                        }
                    }
                }
            }
        }
        for (phrase, office, full) in office_words {
            let p = pats.slot(&format!(" {phrase} "));
            pats.coref[p] = Some(Coref::Office { office, full });
        }
        for pr in PRONOUNS {
            let p = pats.slot(&format!(" {pr} "));
            pats.coref[p] = Some(Coref::Pronoun);
        }
        for office in plurals {
            let p = pats.slot(&format!(" {} ", plural_office(&office)));
            pats.plural[p] = Some(office);
        }
        let alias_index = pats.index.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let demonyms = gaz
            .countries
            .iter()
            .flat_map(|c| c.demonyms.iter().chain(&c.names).cloned())
            .collect();
        let aliases =
            matcher::build(&pats.patterns, true).map_err(|e| ExtractError::Build(e.to_string()))?;
        let lex = Lexicon::build();
        let lexicon =
            matcher::build(&lex.phrases, false).map_err(|e| ExtractError::Build(e.to_string()))?;
        let place_patterns: Vec<String> = gaz.places.iter().map(|(p, _)| p.clone()).collect();
        let places = matcher::build(&place_patterns, false)
            .map_err(|e| ExtractError::Build(e.to_string()))?;
        Ok(Extractor {
            aliases,
            owners: pats.owners,
            coref: pats.coref,
            dotted: pats.dotted,
            ids: ids.iter().map(|id| ActorId::from(id.as_str())).collect(),
            person,
            place,
            offices,
            lexicon,
            triggers: lex.info,
            places,
            place_kinds: gaz.places.iter().map(|(_, k)| *k).collect(),
            places_cue_free: place_patterns.iter().all(|p| {
                let words: Vec<&str> = p.split(' ').filter(|w| !w.is_empty()).collect();
                (1..words.len()).all(|i| !is_location_cue(words[i], words[i - 1]))
            }),
            countries: gaz.countries.iter().map(|c| c.name).collect(),
            plural_office: pats.plural,
            alias_index,
            demonyms,
        })
    }

    /// Extracts one article.
    pub fn extract(&self, doc: &Document<'_>) -> Extraction {
        // Sentences, in virtual coordinates: the title (if any) is sentence 0.
        let title_trim = doc.title.trim();
        let src = Source {
            title: if title_trim.is_empty() { "" } else { doc.title },
            body: doc.text,
            base: if title_trim.is_empty() {
                0
            } else {
                doc.title.len() + 1
            },
        };

        // One normalised text for title and body, searched once by each automaton. The pass
        // over the body also notes where the sentence splitter has to look.
        let mut normalizer = normalize::Normalizer::with_capacity(src.title.len() + src.body.len());
        normalizer.segment(src.title, 0, None);
        let mut marks = Vec::with_capacity(doc.text.len() / 40 + 1);
        normalizer.segment(src.body, src.base, Some(&mut marks));
        let norm = normalizer.finish();
        let mut cut = norm.text.len().min(2400);
        while !norm.text.is_char_boundary(cut) {
            cut -= 1;
        }
        let lang = lang::detect(&norm.text[..cut], doc.title, doc.text);
        let english = lang == "en";

        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(marks.len() / 2 + 2);
        if !title_trim.is_empty() {
            let lead = doc.title.len() - doc.title.trim_start().len();
            spans.push((lead, lead + title_trim.len()));
        }
        sentences::split_at(doc.text, &marks, src.base, &mut spans);

        // Actor mentions and referring words, in text order.
        let mut hits: Vec<Hit> = Vec::with_capacity(norm.text.len() / 128 + 4);
        matcher::scan(
            &self.aliases,
            &norm.text,
            0..norm.text.len(),
            |p| {
                (english && (self.coref[p].is_some() || self.plural_office[p].is_some()))
                    || self.owners[p].iter().any(|o| o.valid_at(doc.date))
            },
            &mut hits,
        );
        let mut found: Vec<Found> = Vec::with_capacity(hits.len());
        let mut seen = vec![false; self.ids.len()];
        for h in &hits {
            let (start, mut end) = src.span(&norm, h.start, h.end);
            if self.dotted[h.pattern] && src.slice(end, end + 1) == "." {
                end += 1;
            }
            let Some(sentence) = sentence_of(&spans, start, end) else {
                continue;
            };
            if let Some(office) = &self.plural_office[h.pattern]
                && english
            {
                // "the Egyptian, Jordanian and Qatari foreign ministers": one mention per
                // demonym, each naming that country's office holder at the article's date.
                for (ns, ne, p) in self.coordinated_roles(&norm.text, h.start, office) {
                    let (ms, me) = src.span(&norm, ns, ne);
                    if sentence_of(&spans, ms, me) != Some(sentence) {
                        continue;
                    }
                    for o in self.owners[p].iter().filter(|o| o.valid_at(doc.date)) {
                        found.push(Found {
                            sentence,
                            start: ms,
                            end: me,
                            nstart: ns,
                            nend: ne,
                            actor: o.actor,
                            via_role: o.via_role,
                            how: None,
                        });
                        seen[o.actor] = true;
                    }
                }
                continue;
            }
            let owners = &self.owners[h.pattern];
            let mut named = false;
            for o in owners.iter().filter(|o| o.valid_at(doc.date)) {
                named = true;
                // One mention per actor per span; a name reading beats a role reading.
                let same_actor_earlier = owners
                    .iter()
                    .take_while(|x| *x != o)
                    .any(|x| x.actor == o.actor && x.valid_at(doc.date));
                let name_too = o.via_role
                    && owners
                        .iter()
                        .any(|x| x.actor == o.actor && !x.via_role && x.valid_at(doc.date));
                if same_actor_earlier || name_too {
                    continue;
                }
                found.push(Found {
                    sentence,
                    start,
                    end,
                    nstart: h.start,
                    nend: h.end,
                    actor: o.actor,
                    via_role: o.via_role,
                    how: None,
                });
                seen[o.actor] = true;
            }
            if named || !english {
                continue;
            }
            if let Some(c) = self.coref[h.pattern]
                && let Some((actor, how)) =
                    self.resolve(c, &found, sentence, &norm.text[..h.start], doc.date)
            {
                found.push(Found {
                    sentence,
                    start,
                    end,
                    nstart: h.start,
                    nend: h.end,
                    actor,
                    via_role: false,
                    how: Some(how),
                });
            }
        }
        if found.is_empty() {
            return Extraction {
                actors: Vec::new(),
                events: Vec::new(),
            };
        }

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
            let (a, b) = norm_range(&norm, spans[fd.sentence]);
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
            let (start, end) = src.span(&norm, h.start, h.end);
            let Some(sentence) = sentence_of(&spans, start, end) else {
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

        // One event per sentence with actors: `found` and `candidates` are in text order.
        let ctx = Ctx {
            src: &src,
            norm: &norm,
            lang,
            date: doc.date,
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
                spans[sentence],
                sentence,
                group,
                &candidates[c..c_end],
            ));
            f = f_end;
            c = c_end;
        }
        let actors = seen
            .iter()
            .zip(&self.ids)
            .filter(|(s, _)| **s)
            .map(|(_, id)| id.clone())
            .collect();
        Extraction { actors, events }
    }

    /// The demonyms coordinated before a plural office that ends at normalised byte `at`
    /// ("the egyptian , jordanian and qatari | foreign ministers"), each with the alias
    /// pattern of its singular role ("egyptian foreign minister"), as normalised ranges.
    /// At least two demonyms, joined by commas and "and"/"or", or nothing: a single
    /// demonym with a plural office names no one in particular.
    fn coordinated_roles(&self, text: &str, at: usize, office: &str) -> Vec<(usize, usize, usize)> {
        // The words before `at`, nearest first, with their ranges.
        let mut words: Vec<(usize, usize)> = Vec::with_capacity(16);
        let mut end = at;
        while words.len() < 24 {
            let before = text[..end].trim_end_matches(' ');
            if before.is_empty() {
                break;
            }
            let s = before.rfind(' ').map_or(0, |i| i + 1);
            words.push((s, before.len()));
            end = s;
        }
        let w = |i: usize| &text[words[i].0..words[i].1];
        let mut out = Vec::new();
        let mut members = 0;
        let mut i = 0;
        loop {
            // A demonym of up to three words ending at word i.
            let mut hit = None;
            for k in (1..=3usize).rev() {
                if i + k > words.len() {
                    continue;
                }
                let phrase = &text[words[i + k - 1].0..words[i].1];
                if self.demonyms.contains(phrase) {
                    hit = Some((k, phrase));
                    break;
                }
            }
            let Some((k, phrase)) = hit else {
                break;
            };
            members += 1;
            if let Some(&p) = self.alias_index.get(&format!(" {phrase} {office} ")) {
                out.push((words[i + k - 1].0, words[i].1, p));
            }
            i += k;
            // Separators: ",", "and", "or", ", and".
            let mut sep = 0;
            while i + sep < words.len() && matches!(w(i + sep), "," | "and" | "or") && sep < 2 {
                sep += 1;
            }
            if sep == 0 {
                break;
            }
            i += sep;
        }
        if members < 2 {
            out.clear();
        }
        out.reverse();
        out
    }

    /// Resolves a referring word in `sentence`, given every mention before it (`found`, in
    /// text order) and the normalised text before it (`before`).
    fn resolve(
        &self,
        c: Coref,
        found: &[Found],
        sentence: usize,
        before: &str,
        date: Option<NaiveDate>,
    ) -> Option<(usize, &'static str)> {
        match c {
            Coref::Pronoun => {
                // The subject-like (first) person of this sentence so far, else of the latest
                // of the two sentences before it that names a person.
                let persons = found.iter().filter(|m| self.person[m.actor]);
                let last = persons.clone().next_back()?;
                if sentence - last.sentence > 2 {
                    return None;
                }
                let s = last.sentence;
                let first = persons.clone().find(|m| m.sentence == s)?;
                // A shared alias at that place ("Clinton") is ambiguous: not claimed.
                let ambiguous = persons
                    .filter(|m| m.sentence == s && m.start == first.start)
                    .any(|m| m.actor != first.actor);
                (!ambiguous).then_some((first.actor, "pronoun"))
            }
            Coref::Office { office, full } => {
                // A definite description ("the secretary") of exactly one actor named in the
                // last few sentences who holds that office at the article's date.
                if !before.ends_with(" the ") {
                    return None;
                }
                let holders = &self.offices[office];
                let mut who: Option<usize> = None;
                for m in found.iter().rev() {
                    if sentence - m.sentence > 4 {
                        break;
                    }
                    if holders
                        .iter()
                        .any(|h| h.actor == m.actor && h.valid_at(date))
                    {
                        match who {
                            None => who = Some(m.actor),
                            Some(w) if w == m.actor => {}
                            Some(_) => return None,
                        }
                    }
                }
                who.map(|a| (a, if full { "role" } else { "definite-description" }))
            }
        }
    }

    /// Builds the event of one sentence: offsets made sentence-relative, interactions found,
    /// the main trigger chosen.
    fn event<'s>(
        &self,
        ctx: &Ctx<'s, '_>,
        scratch: &mut Scratch<'s>,
        (s0, s1): (usize, usize),
        sentence_index: usize,
        found: &[Found],
        candidates: &[Candidate],
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

    /// The sentence's location: the first gazetteer place after "in", "to", "at", a visit
    /// verb or "capital (city) of"; a country followed by ", <its city>" gives the city.
    fn location(
        &self,
        norm: &normalize::Normalized,
        na: usize,
        nb: usize,
        (words, starts): (&[&str], &[usize]),
        taken: &[(usize, usize)],
        hits: &mut Vec<Hit>,
    ) -> Option<Location> {
        let text = &norm.text;
        let prev_words = |at: usize| -> (&str, &str) {
            let mut it = text[..at].split(' ').rev().filter(|w| !w.is_empty());
            (it.next().unwrap_or(""), it.next().unwrap_or(""))
        };
        // A place counts only right after a cue word (below), so a sentence without one has
        // no location, and the scan may start at the first cue: every place before it lacks
        // one (the word before the sentence is checked too, as the first place's previous
        // word may be there). That holds only while no place name has a cue word inside it
        // (`places_cue_free`), else a place found from an earlier start could run across the
        // cue and hide the one after it. The sentence's words are its tokens (`words`,
        // starting at `starts`).
        let mut from = na;
        {
            let bytes = text.as_bytes();
            // The space before the first word: `na` itself, or the one before the word
            // holding `na`.
            let pos = if bytes.get(na) == Some(&b' ') {
                na
            } else {
                text[..na].rfind(' ').unwrap_or(0)
            };
            let mut prev = prev_words(pos);
            let mut first_cue = is_location_cue(prev.0, prev.1).then_some(na);
            for (k, &w) in words.iter().enumerate() {
                if first_cue.is_some() {
                    break;
                }
                // A first token cut at `na` is read as its whole word.
                let (w, start) = if k == 0 && pos != na {
                    (&text[pos + 1..starts[0] + w.len()], pos + 1)
                } else {
                    (w, starts[k])
                };
                if is_location_cue(w, prev.0) {
                    // The scan starts on the space before the cue word.
                    first_cue = Some(start.saturating_sub(1));
                }
                prev = (w, prev.0);
            }
            match first_cue {
                None => return None,
                Some(at) if self.places_cue_free => from = at.max(na),
                Some(_) => {}
            }
        }
        hits.clear();
        matcher::scan(&self.places, &norm.text, from..nb, |_| true, hits);
        // A place inside a person's or role's mention ("Lebanon's prime minister") is not
        // where anything happened.
        hits.retain(|h| !taken.iter().any(|&(a, b)| a < h.end && h.start < b));
        for (i, h) in hits.iter().enumerate() {
            let (p1, p2) = prev_words(h.start);
            let ok = is_location_cue(p1, p2);
            if !ok {
                continue;
            }
            let mut kind = self.place_kinds[h.pattern];
            if let PlaceKind::Country(ci) = kind
                && let Some(next) = hits.get(i + 1)
                && text[h.end..next.start].trim() == ","
                && let PlaceKind::City(cj, _) = self.place_kinds[next.pattern]
                && cj == ci
            {
                kind = self.place_kinds[next.pattern];
            }
            return Some(match kind {
                PlaceKind::Country(ci) => Location {
                    name: self.countries[ci].to_string(),
                    country: self.countries[ci].to_string(),
                },
                PlaceKind::City(ci, name) => Location {
                    name: name.to_string(),
                    country: self.countries[ci].to_string(),
                },
            });
        }
        None
    }
}

/// Whether a place right after the word `w` (itself after `before`) is where an event
/// happened: "in", "to", "at", "into", "toward(s)", a visit verb, "reached", or "of" after
/// "capital"/"city" ("the capital of Jordan").
fn is_location_cue(w: &str, before: &str) -> bool {
    matches!(
        w,
        "in" | "to"
            | "at"
            | "into"
            | "toward"
            | "towards"
            | "visit"
            | "visited"
            | "visiting"
            | "visits"
            | "reached"
    ) || (w == "of" && matches!(before, "capital" | "city"))
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

/// The normalised range of the original span `(s0, s1)`, widened to its padding spaces.
fn norm_range(norm: &normalize::Normalized, (s0, s1): (usize, usize)) -> (usize, usize) {
    let a = norm
        .map
        .partition_point(|&o| (o as usize) < s0)
        .saturating_sub(1);
    let mut b = (norm.map.partition_point(|&o| (o as usize) < s1) + 1).min(norm.text.len());
    let mut a = a;
    while !norm.text.is_char_boundary(a) {
        a -= 1;
    }
    while !norm.text.is_char_boundary(b) {
        b += 1;
    }
    (a, b)
}

/// The sentence wholly containing `start..end`, if any (matches across a sentence end drop).
fn sentence_of(spans: &[(usize, usize)], start: usize, end: usize) -> Option<usize> {
    let i = spans.partition_point(|s| s.1 <= start);
    let s = spans.get(i)?;
    (s.0 <= start && end <= s.1).then_some(i)
}

/// The trigger rule (see the module docs). Denial verbs that govern another trigger step
/// aside; triggers whose interaction links two actors beat those with one actor on a side,
/// which beat those with none; then ordinary
/// verbs beat nouns and nouns beat statement words; then the first at or after the first
/// actor mention wins, else the nearest before it. Returns an index into `cands`.
fn choose_trigger(cands: &[Candidate], sides: &[Sides], first_mention: usize) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn actor(id: &str, aliases: &[&str], roles: Vec<RoleSpec>) -> ActorSpec {
        ActorSpec {
            id: id.into(),
            name: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            roles,
        }
    }

    fn role(title: &str, aliases: &[&str], from: Option<&str>, until: Option<&str>) -> RoleSpec {
        RoleSpec {
            title: title.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            from: from.map(d),
            until: until.map(d),
        }
    }

    fn actors() -> Vec<ActorSpec> {
        vec![
            actor(
                "blinken",
                &["Antony Blinken", "Antony J. Blinken", "Blinken"],
                vec![role(
                    "U.S. Secretary of State",
                    &["Secretary of State", "top U.S. diplomat"],
                    Some("2021-01-26"),
                    Some("2025-01-20"),
                )],
            ),
            actor("mikati", &["Najib Mikati", "Mikati"], vec![]),
            actor("israel", &["Israel"], vec![]),
            actor("usa", &["United States", "US"], vec![]),
            actor(
                "un-chief",
                &[],
                vec![role("UN Secretary-General", &["UN chief"], None, None)],
            ),
            // Two actors sharing a surname: both are kept.
            actor("h-clinton", &["Hillary Clinton", "Clinton"], vec![]),
            actor("b-clinton", &["Bill Clinton", "Clinton"], vec![]),
        ]
    }

    fn run(text: &str, date: Option<&str>) -> Extraction {
        let ex = Extractor::new(&actors()).unwrap();
        ex.extract(&Document {
            title: "",
            text,
            date: date.map(d),
        })
    }

    /// (actor, text, via_role) of every mention.
    fn mentions(x: &Extraction) -> Vec<(String, String, bool)> {
        x.events
            .iter()
            .flat_map(|e| &e.mentions)
            .map(|m| (m.actor.to_string(), m.text.clone(), m.via_role))
            .collect()
    }

    /// (type, source, target, participants) of the first sentence's main interaction.
    fn main_of(x: &Extraction) -> (Option<PloverType>, Vec<ActorId>, Vec<ActorId>, Vec<ActorId>) {
        let e = &x.events[0];
        (
            e.event_type,
            e.source.clone(),
            e.target.clone(),
            e.participants.clone(),
        )
    }

    #[test]
    fn apposition_before_the_verb_is_the_subject() {
        // "Role, Name, met X": one subject group that must not swallow the object.
        let x = run(
            "The top U.S. diplomat, Antony Blinken, met Mikati in Beirut.",
            Some("2023-11-12"),
        );
        let (ty, source, target, _) = main_of(&x);
        assert_eq!(ty, Some(PloverType::Consult));
        assert_eq!(source, ["blinken"]);
        assert_eq!(target, ["mikati"]);
    }

    #[test]
    fn a_denial_with_an_actor_object_is_a_rejection() {
        // "refused X's request" rejects; "denied holding talks" is a denied meeting.
        let x = run("Mikati refused Blinken's request to stop the fire.", None);
        let (ty, source, target, _) = main_of(&x);
        assert_eq!(ty, Some(PloverType::Reject), "{x:#?}");
        assert_eq!((source, target), (ids(&["mikati"]), ids(&["blinken"])));
        let y = run("Mikati denied holding talks with Blinken.", None);
        assert_eq!(y.events[0].event_type, Some(PloverType::Consult));
        assert_eq!(y.events[0].status, Status::Denied);
    }

    #[test]
    fn welcoming_a_person_somewhere_is_hosting_them() {
        // A visit's welcome is a meeting; welcoming a plan is support.
        let x = run("Mikati welcomed Blinken to Beirut on Monday.", None);
        assert_eq!(x.events[0].event_type, Some(PloverType::Consult), "{x:#?}");
        assert_eq!(x.events[0].mode, Some("host"));
        let y = run("Mikati welcomed the plan that Blinken presented.", None);
        assert_ne!(y.events[0].event_type, Some(PloverType::Consult), "{y:#?}");
    }

    #[test]
    fn an_envoy_is_not_the_principal() {
        // "X's envoy met Y": X is mentioned but not on a side of the meeting.
        let x = run("Blinken's envoy met Mikati in Beirut.", None);
        assert_eq!(x.events[0].actors, ["blinken", "mikati"]);
        let e = &x.events[0];
        assert!(!e.source.iter().any(|a| *a == "blinken"), "{e:#?}");
        assert!(!e.participants.iter().any(|a| *a == "blinken"), "{e:#?}");
        assert!(!e.target.iter().any(|a| *a == "blinken"), "{e:#?}");
    }

    #[test]
    fn a_possessed_event_word_is_a_noun() {
        // "after Blinken's visit, ... and held talks with Mikati": the talks' subject is
        // not Blinken, whose visit is a noun.
        let x = run(
            "The envoy flew to Beirut, a day after Blinken's visit, and held talks with Mikati.",
            None,
        );
        let e = &x.events[0];
        assert!(
            e.interactions
                .iter()
                .all(|i| !(i.source.iter().any(|a| *a == "blinken")
                    && i.target.iter().any(|a| *a == "mikati"))),
            "{e:#?}"
        );
    }

    #[test]
    fn abbreviations_initials_and_dotted_names() {
        // "U.S." / "US", "Antony J. Blinken" and sentence ends after initials must all work.
        let x = run(
            "The U.S. Secretary of State met Mikati. Antony J. Blinken then flew to Doha. The US said so.",
            Some("2023-11-12"),
        );
        assert_eq!(x.events.len(), 3, "{x:#?}");
        assert_eq!(x.events[0].actors, ["blinken", "mikati"]);
        assert_eq!(x.events[0].mentions[0].text, "U.S. Secretary of State");
        assert!(x.events[0].mentions[0].via_role);
        assert_eq!(x.events[1].mentions[0].text, "Antony J. Blinken");
        assert_eq!(x.events[2].actors, ["usa"]);
        assert_eq!(x.actors, ["blinken", "mikati", "usa"]);
    }

    #[test]
    fn possessives_and_diacritics() {
        // "Israel’s" and "Mikatí" are the same names as "Israel" and "Mikati".
        let x = run(
            "Israel’s army and Israel's allies. Najib Mikatí’s office spoke.",
            None,
        );
        let m = mentions(&x);
        assert!(
            m.contains(&("israel".into(), "Israel".into(), false)),
            "{m:?}"
        );
        assert!(
            m.contains(&("mikati".into(), "Najib Mikatí".into(), false)),
            "{m:?}"
        );
        assert_eq!(x.events[0].mentions.len(), 2);
    }

    #[test]
    fn role_dates_in_and_out_of_range() {
        // A role names its holder only while they hold it; names always work.
        let text = "Secretary of State Antony Blinken arrived.";
        let inside = mentions(&run(text, Some("2024-01-01")));
        assert!(inside.contains(&("blinken".into(), "Secretary of State".into(), true)));
        for date in [Some("2025-06-01"), Some("2020-01-01"), None] {
            let m = mentions(&run(text, date));
            assert_eq!(
                m,
                [("blinken".into(), "Antony Blinken".into(), false)],
                "{date:?}"
            );
        }
        // A role without dates always counts, even without an article date.
        let m = mentions(&run("The UN chief spoke.", None));
        assert_eq!(m, [("un-chief".into(), "UN chief".into(), true)]);
    }

    #[test]
    fn word_boundaries() {
        // Aliases are whole words: no Blinken in Blinkenstein, no US in USA or bus.
        let x = run(
            "Blinkenstein took the bus to the USA. Blinken-Mikati talks.",
            None,
        );
        assert_eq!(x.events.len(), 1);
        assert_eq!(x.events[0].actors, ["blinken", "mikati"]);
        assert_eq!(x.events[0].event_type, Some(PloverType::Consult));
    }

    #[test]
    fn shared_alias_keeps_both_actors() {
        // Ambiguity is reported, not guessed.
        let x = run("Clinton met reporters.", None);
        assert_eq!(x.events[0].actors, ["b-clinton", "h-clinton"]);
        assert_eq!(x.events[0].mentions.len(), 2);
    }

    #[test]
    fn title_is_sentence_zero_and_offsets_slice_back() {
        // The title counts as a sentence, and offsets are relative to the sentence text.
        let ex = Extractor::new(&actors()).unwrap();
        let x = ex.extract(&Document {
            title: "  Blinken in Beirut ",
            text: "It rained.\n\nLater, Mr. Blinken — “the top U.S. diplomat” — met Mikati’s aides.",
            date: Some(d("2023-11-12")),
        });
        assert_eq!(x.events.len(), 2, "{x:#?}");
        assert_eq!(x.events[0].sentence_index, 0);
        assert_eq!(x.events[0].sentence, "Blinken in Beirut");
        assert_eq!(x.events[0].event_type, None);
        assert_eq!(x.events[0].trigger, None);
        let e = &x.events[1];
        assert_eq!(e.sentence_index, 2);
        assert_eq!(e.trigger.as_deref(), Some("met"));
        let texts: Vec<&str> = e.mentions.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["Blinken", "top U.S. diplomat", "Mikati"]);
        for m in &e.mentions {
            assert_eq!(&e.sentence[m.start..m.end], m.text);
        }
    }

    #[test]
    fn trigger_rule_prefers_verbs_then_position() {
        // Multiword beats its words, verbs beat nouns, the actor's own predicate wins.
        let cases = [
            (
                "After the summit, Blinken called on Mikati to act.",
                PloverType::Request,
            ),
            (
                "Blinken held talks on the truce with Mikati.",
                PloverType::Consult,
            ),
            ("Israel struck a deal with Mikati.", PloverType::Agree),
            ("Israel struck targets near Beirut.", PloverType::Assault),
            (
                "Amid the attacks, Blinken praised Mikati.",
                PloverType::Support,
            ),
            ("Mikati’s new sanctions on Israel.", PloverType::Sanction),
            (
                "Israel criticised the U.S.-brokered ceasefire.",
                PloverType::Accuse,
            ),
        ];
        for (text, want) in cases {
            let x = run(text, None);
            assert_eq!(x.events[0].event_type, Some(want), "{text}: {x:#?}");
        }
        // A so-called blocker hides the trigger inside it.
        let x = run("The so-called Mikati plan.", None);
        assert_eq!(x.events[0].event_type, None);
    }

    #[test]
    fn arbitrary_text_never_panics_and_offsets_stay_valid() {
        // Feeds carry anything; extraction must not panic and offsets must stay exact.
        const PIECES: &[&str] = &[
            "Blinken",
            "Mikatí",
            "U.S.",
            "’s",
            "'s",
            "…",
            "...",
            "\u{a0}",
            "e\u{301}",
            "🙂",
            "北京",
            "\r\n",
            "\n\n",
            ". ",
            "? ",
            "!",
            "“",
            "”",
            "-",
            "—",
            "Mr.",
            "J.",
            "3.5",
            "Secretary of State",
            "met",
            "cease-fire",
            " ",
            "  ",
            "ﬁ",
            "İ",
            "\u{200b}",
            "'",
            "\"",
            "(",
            ")",
            "Israel",
            "US",
        ];
        let ex = Extractor::new(&actors()).unwrap();
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..400 {
            let mut text = String::new();
            for _ in 0..rng.usize(0..40) {
                text.push_str(PIECES[rng.usize(..PIECES.len())]);
                if rng.bool() {
                    text.push(' ');
                }
            }
            let title = if rng.bool() {
                PIECES[rng.usize(..PIECES.len())]
            } else {
                ""
            };
            let x = ex.extract(&Document {
                title,
                text: &text,
                date: Some(d("2023-01-01")),
            });
            for e in &x.events {
                for m in &e.mentions {
                    assert_eq!(
                        e.sentence.get(m.start..m.end),
                        Some(m.text.as_str()),
                        "{text:?}"
                    );
                }
            }
        }
    }

    fn more_actors() -> Vec<ActorSpec> {
        let mut v = actors();
        v.push(actor(
            "netanyahu",
            &["Benjamin Netanyahu", "Netanyahu"],
            vec![role(
                "Prime Minister of Israel",
                &["Israeli prime minister"],
                Some("2022-12-29"),
                None,
            )],
        ));
        v.push(actor(
            "qatar-fm",
            &["Mohammed bin Abdulrahman Al Thani"],
            vec![role(
                "Qatar's foreign minister",
                &[],
                Some("2016-01-28"),
                None,
            )],
        ));
        v.push(actor(
            "erdogan",
            &["Recep Tayyip Erdoğan", "Erdoğan"],
            vec![],
        ));
        v.push(actor("jordan", &["Jordan"], vec![]));
        v.push(actor("egypt", &["Egypt"], vec![]));
        v
    }

    fn run2(text: &str) -> Extraction {
        let ex = Extractor::new(&more_actors()).unwrap();
        ex.extract(&Document {
            title: "",
            text,
            date: Some(d("2023-11-12")),
        })
    }

    fn ids(v: &[&str]) -> Vec<ActorId> {
        v.iter().map(|&s| ActorId::from(s)).collect()
    }

    #[test]
    fn source_target_participants_and_passives() {
        // Who acted on whom, not only who was mentioned together.
        let x = run2("Netanyahu met with Mikati in Amman on Tuesday.");
        let e = &x.events[0];
        assert_eq!(
            (e.source.clone(), e.target.clone()),
            (ids(&["netanyahu"]), ids(&["mikati"]))
        );
        assert_eq!(e.mode, Some("meet"));
        let loc = e.location.as_ref().unwrap();
        assert_eq!(
            (loc.name.as_str(), loc.country.as_str()),
            ("Amman", "Jordan")
        );
        assert_eq!(e.date, Some(d("2023-11-07")));
        assert_eq!(e.date_source, Some("text"));
        assert_eq!(
            &e.sentence[e.trigger_span.unwrap().start..e.trigger_span.unwrap().end],
            "met with"
        );

        let x = run2("Mikati was received by Netanyahu.");
        let e = &x.events[0];
        assert_eq!(
            (e.source.clone(), e.target.clone()),
            (ids(&["netanyahu"]), ids(&["mikati"]))
        );
        assert_eq!(e.mode, Some("host"));

        let x = run2("Jordan and Egypt agreed to extend the truce.");
        let e = &x.events[0];
        assert_eq!(e.participants, ids(&["egypt", "jordan"]));
        assert!(e.source.is_empty() && e.target.is_empty());
        assert_eq!(e.mode, Some("ceasefire"));

        // A statement: the speaker is the source, the reported subject is not a target.
        let x = run2("Netanyahu said Mikati had been warned.");
        assert_eq!(
            x.events[0]
                .interactions
                .iter()
                .find(|i| i.event_type == PloverType::Statement)
                .map(|i| i.source.clone()),
            Some(ids(&["netanyahu"]))
        );
    }

    #[test]
    fn status_of_planned_denied_and_hypothetical_events() {
        // A meeting that did not happen must not read as one that did.
        let st = |t: &str| run2(t).events[0].status;
        assert_eq!(
            st("Netanyahu is scheduled to meet Mikati next week."),
            Status::Planned
        );
        assert_eq!(st("Netanyahu will travel to Jordan."), Status::Planned);
        assert_eq!(st("Netanyahu did not meet Mikati."), Status::Denied);
        assert_eq!(st("Netanyahu could meet Mikati."), Status::Hypothetical);
        let x = run2("Netanyahu denied holding talks with Mikati.");
        assert_eq!(x.events[0].event_type, Some(PloverType::Consult));
        assert_eq!(x.events[0].status, Status::Denied);
        assert_eq!(x.events[0].target, ids(&["mikati"]));
        assert_eq!(
            run2("Netanyahu will meet Mikati next week.").events[0].date,
            Some(d("2023-11-19"))
        );
    }

    #[test]
    fn coreference_pronouns_roles_and_descriptions() {
        // "He", "his" and "the prime minister" after a named actor are that actor.
        let x = run2("Netanyahu arrived in Amman. He later met Mikati. His talks were long.");
        assert_eq!(x.events.len(), 3, "{x:#?}");
        assert_eq!(x.events[1].actors, ids(&["mikati", "netanyahu"]));
        assert_eq!(x.events[1].source, ids(&["netanyahu"]));
        let m = &x.events[1].mentions[0];
        assert!(
            m.resolved && m.how == Some("pronoun") && m.text == "He",
            "{m:?}"
        );
        assert_eq!(x.events[2].actors, ids(&["netanyahu"]));

        let x = run2("Netanyahu spoke to reporters. The prime minister then flew to Cairo.");
        let m = &x.events[1].mentions[0];
        assert_eq!((&*m.actor, m.how), ("netanyahu", Some("role")), "{m:?}");
        let x = run2("Qatar's foreign minister arrived. The minister met Netanyahu.");
        let m = &x.events[1].mentions[0];
        assert_eq!(
            (&*m.actor, m.how),
            ("qatar-fm", Some("definite-description")),
            "{m:?}"
        );
        // Two ministers in view: "the minister" is not claimed. No "the": not a reference.
        let x = run2("Netanyahu and Qatar's foreign minister spoke. The prime minister left.");
        assert!(x.events[1].mentions.iter().all(|m| m.actor == "netanyahu"));
        let x = run2("Netanyahu spoke. Israeli officials said prime minister duties continue.");
        assert_eq!(x.events.len(), 1);
        // A shared surname is ambiguous: the pronoun is not claimed.
        let x = run2("Clinton spoke. He left.");
        assert_eq!(x.events.len(), 1, "{x:#?}");
        // Nothing before it: nothing to resolve.
        assert!(
            run2("He met Mikati.").events[0]
                .mentions
                .iter()
                .all(|m| !m.resolved)
        );
    }

    #[test]
    fn roles_bound_to_country_and_diacritics() {
        // One configured role spelling matches the others a wire may use.
        for text in [
            "The Qatari foreign minister arrived.",
            "The foreign minister of Qatar arrived.",
            "Qatar's foreign minister arrived.",
        ] {
            let x = run2(text);
            assert_eq!(x.actors, ids(&["qatar-fm"]), "{text}");
            assert!(x.events[0].mentions[0].via_role);
        }
        assert!(
            run2("The Jordanian foreign minister arrived.")
                .actors
                .is_empty()
        );
        assert_eq!(run2("Erdogan spoke.").actors, ids(&["erdogan"]));
        assert_eq!(
            run2("Mohammed bin Abdulrahman al-Thani spoke.").actors,
            ids(&["qatar-fm"])
        );
    }

    #[test]
    fn other_languages_match_names_but_are_not_typed() {
        // A French verb must never get an English type; the names still count.
        let x = run2(
            "Le Premier ministre israélien Benjamin Netanyahu a rencontré vendredi Najib Mikati à Amman pour discuter de la guerre et de la situation humanitaire.",
        );
        assert_eq!(x.actors, ids(&["mikati", "netanyahu"]));
        let e = &x.events[0];
        assert_eq!(e.lang, "fr");
        assert_eq!(e.event_type, None);
        assert!(e.interactions.is_empty());
        assert_eq!(run2("Netanyahu met Mikati.").events[0].lang, "en");
    }

    #[test]
    fn statement_type_and_cameo() {
        // Public statements are their own type, and every interaction carries its CAMEO code.
        let x = run2("Netanyahu told reporters the war would go on.");
        assert_eq!(x.events[0].event_type, Some(PloverType::Statement));
        assert_eq!(x.events[0].interactions[0].cameo, "01");
        let x = run2("Netanyahu spoke by phone with Mikati.");
        assert_eq!(x.events[0].mode, Some("phone"));
        assert_eq!(x.events[0].interactions[0].cameo, "041");
    }

    #[test]
    fn empty_alias_is_an_error_and_no_actors_is_fine() {
        // A config alias made of punctuation would match nothing; say so at startup.
        let err = Extractor::new(&[actor("x", &["..."], vec![])]).unwrap_err();
        assert!(matches!(err, ExtractError::EmptyAlias { .. }), "{err}");
        let ex = Extractor::new(&[]).unwrap();
        let x = ex.extract(&Document {
            title: "T",
            text: "Blinken met Mikati.",
            date: None,
        });
        assert!(x.events.is_empty() && x.actors.is_empty());
    }

    // Held-out sentences for the session-3 rules: written for these tests (not from the seed
    // story or the gold set), each exercising one rule, so a rule fitted to the gold set
    // alone would fail here.
    fn held_out_actors() -> Vec<ActorSpec> {
        let mut v = more_actors();
        v.push(actor(
            "turkey-fm",
            &["Hakan Fidan"],
            vec![role(
                "Foreign Minister of Turkey",
                &["Turkish foreign minister"],
                Some("2023-06-04"),
                None,
            )],
        ));
        v
    }

    fn run3(text: &str) -> Extraction {
        let ex = Extractor::new(&held_out_actors()).unwrap();
        ex.extract(&Document {
            title: "",
            text,
            date: Some(d("2024-03-02")),
        })
    }

    /// Every (type, sorted actor set of source+target+participants, status) of an article.
    fn facts(x: &Extraction) -> Vec<(PloverType, Vec<ActorId>, Status)> {
        let mut v: Vec<_> = x
            .events
            .iter()
            .flat_map(|e| &e.interactions)
            .map(|i| {
                let mut a: Vec<ActorId> = i
                    .source
                    .iter()
                    .chain(&i.target)
                    .chain(&i.participants)
                    .cloned()
                    .collect();
                a.sort();
                a.dedup();
                (i.event_type, a, i.status)
            })
            .filter(|f| f.1.len() >= 2)
            .collect();
        v.sort_by_key(|f| format!("{f:?}"));
        v
    }

    #[test]
    fn coordinated_demonyms_name_one_office_holder_each() {
        // "the Qatari and Turkish foreign ministers" names two people; an untracked
        // demonym in the list is walked over; one demonym with a plural names no one.
        let x =
            run3("Netanyahu received the Qatari, Omani and Turkish foreign ministers on Sunday.");
        assert_eq!(x.actors, ids(&["netanyahu", "qatar-fm", "turkey-fm"]));
        let e = &x.events[0];
        assert_eq!(e.source, ids(&["netanyahu"]));
        assert_eq!(e.target, ids(&["qatar-fm", "turkey-fm"]));
        let texts: Vec<&str> = e.mentions.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["Netanyahu", "Qatari", "Turkish"]);
        assert!(e.mentions[1].via_role);
        assert!(
            run3("Past Qatari foreign ministers wrote memoirs.")
                .actors
                .is_empty()
        );
    }

    #[test]
    fn members_listed_after_including_join_their_phrase() {
        // Object and subject lists opened by "including" / "such as" stay one side.
        let x =
            run3("Erdoğan hosted regional leaders, including Netanyahu and Mikati, at a summit.");
        let (ty, src, tgt, _) = main_of(&x);
        assert_eq!(ty, Some(PloverType::Consult));
        assert_eq!(
            (src, tgt),
            (ids(&["erdogan"]), ids(&["mikati", "netanyahu"]))
        );
        let x = run3("Several leaders, such as Erdoğan and Mikati, met Netanyahu on Friday.");
        let (_, src, tgt, _) = main_of(&x);
        assert_eq!(
            (src, tgt),
            (ids(&["erdogan", "mikati"]), ids(&["netanyahu"]))
        );
    }

    #[test]
    fn relative_pronouns_take_their_antecedent() {
        // "A, who met B, ..." makes A the subject; "B, whom C had criticised" the object.
        let x = run3("Mikati, who spoke with Erdoğan on Monday, later said the border was calm.");
        assert!(
            facts(&x).contains(&(
                PloverType::Consult,
                ids(&["erdogan", "mikati"]),
                Status::Occurred
            )),
            "{:?}",
            facts(&x)
        );
        let x = run3("Mikati praised Erdoğan, whom Netanyahu had criticised for weeks.");
        let i = x.events[0]
            .interactions
            .iter()
            .find(|i| i.event_type == PloverType::Accuse)
            .unwrap();
        assert_eq!(
            (&i.source, &i.target),
            (&ids(&["netanyahu"]), &ids(&["erdogan"]))
        );
    }

    #[test]
    fn telling_a_tracked_actor_is_consulting_them() {
        // A statement with a tracked addressee is contact between the two; one to
        // reporters stays a statement.
        let x = run3("Erdoğan told Netanyahu that the crossing would reopen.");
        let (ty, src, tgt, _) = main_of(&x);
        assert_eq!(
            (ty, src, tgt),
            (
                Some(PloverType::Consult),
                ids(&["erdogan"]),
                ids(&["netanyahu"])
            )
        );
        let x = run3("Mikati was told by Erdoğan that no troops would cross.");
        let (ty, src, tgt, _) = main_of(&x);
        assert_eq!(
            (ty, src, tgt),
            (
                Some(PloverType::Consult),
                ids(&["erdogan"]),
                ids(&["mikati"])
            )
        );
        let x = run3("Mikati told reporters that he had no news.");
        assert_ne!(x.events[0].event_type, Some(PloverType::Consult));
    }

    #[test]
    fn purposes_and_denied_clauses_carry_status() {
        // A purpose of a planned trip is planned; what a denial verb governs is denied;
        // "expected to host" is a planned hosting.
        let x = run3("Mikati will fly to Ankara next week to meet Erdoğan.");
        assert!(
            facts(&x).contains(&(
                PloverType::Consult,
                ids(&["erdogan", "mikati"]),
                Status::Planned
            )),
            "{:?}",
            facts(&x)
        );
        let x = run3("Erdoğan denied that Mikati had met Netanyahu in secret.");
        assert!(
            facts(&x).contains(&(
                PloverType::Consult,
                ids(&["mikati", "netanyahu"]),
                Status::Denied
            )),
            "{:?}",
            facts(&x)
        );
        let x = run3("Erdoğan is expected to host Mikati in Ankara.");
        let e = &x.events[0];
        assert_eq!(
            (e.event_type, e.status, e.mode),
            (Some(PloverType::Consult), Status::Planned, Some("host"))
        );
        assert_eq!(e.target, ids(&["mikati"]));
    }

    #[test]
    fn event_nouns_need_a_light_verb_or_possessive_for_their_subject() {
        // Actors near an event noun are not its actors unless a light verb or a possessive
        // ties them to it.
        let x = run3("Pictures of Mikati and Erdoğan hung beside the summit stage.");
        assert!(facts(&x).is_empty(), "{:?}", facts(&x));
        let x = run3("Erdoğan held lengthy talks with Mikati.");
        assert_eq!(
            facts(&x),
            [(
                PloverType::Consult,
                ids(&["erdogan", "mikati"]),
                Status::Occurred
            )]
        );
        let x = run3("Netanyahu had a working dinner with Mikati.");
        assert_eq!(
            facts(&x),
            [(
                PloverType::Consult,
                ids(&["mikati", "netanyahu"]),
                Status::Occurred
            )]
        );
    }

    #[test]
    fn what_an_agreement_governs_is_not_a_second_event() {
        // "signed a partnership" and "agreed to cooperate" are agreements only.
        for text in [
            "Erdoğan and Mikati signed a trade partnership in Ankara.",
            "Erdoğan and Mikati agreed to cooperate on border security.",
        ] {
            let f = facts(&run3(text));
            assert_eq!(
                f,
                [(
                    PloverType::Agree,
                    ids(&["erdogan", "mikati"]),
                    Status::Occurred
                )],
                "{text}"
            );
        }
    }

    #[test]
    fn recall_fallback_stays_out_of_other_clauses_subjects() {
        // The subject of a later ", and Y said" clause is not a side of the first event.
        let x = run3(
            "Netanyahu ordered new strikes in the south, and Erdoğan said Turkey would respond.",
        );
        assert!(facts(&x).is_empty(), "{:?}", facts(&x));
        // Within one segment it still relates them.
        let x = run3("Erdoğan said Mikati had accepted the proposal from Netanyahu.");
        assert!(!facts(&x).is_empty());
    }

    #[test]
    fn a_statement_about_an_actor_targets_it() {
        // "said of X's proposal", "commented on X's remarks".
        let x = run3("Mikati said of Erdoğan's proposal that it deserved study.");
        let (ty, src, tgt, _) = main_of(&x);
        assert_eq!(
            (ty, src, tgt),
            (
                Some(PloverType::Statement),
                ids(&["mikati"]),
                ids(&["erdogan"])
            )
        );
    }
}
