//! Extraction: article text in, diplomatic event records out. Pure: no I/O, no clock, no
//! global state, so it is testable on strings and safe to run on every article of every feed.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.

use chrono::NaiveDate;
use serde::Serialize;

use crate::plover::PloverType;

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

/// The result of extracting one article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extraction {
    /// Every actor id mentioned anywhere, sorted and unique.
    pub actors: Vec<String>,
    /// One event per sentence that mentions at least one actor, in text order.
    pub events: Vec<ExtractedEvent>,
}

/// One sentence with actors in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtractedEvent {
    /// Zero-based index among the article's sentences (title is sentence 0 when present).
    pub sentence_index: usize,
    /// Actor ids in the sentence, sorted and unique.
    pub actors: Vec<String>,
    /// PLOVER type from the sentence's event word, or `None` when it has none.
    #[serde(rename = "type")]
    pub event_type: Option<PloverType>,
    /// The event word or phrase as written, if any.
    pub trigger: Option<String>,
    /// The sentence as written (original text, trimmed).
    pub sentence: String,
    /// Every actor mention: which actor, the matched text, and byte offsets in `sentence`.
    pub mentions: Vec<Mention>,
}

/// One actor mention inside a sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// Actor id.
    pub actor: String,
    /// The text as written.
    pub text: String,
    /// Byte offset of the start in the sentence.
    pub start: usize,
    /// Byte offset of the end in the sentence.
    pub end: usize,
    /// True when it matched a role alias rather than a name.
    pub via_role: bool,
}

/// A compiled extractor: alias and lexicon automata. Build once per config, share freely.
#[derive(Debug)]
pub struct Extractor {
    _private: (),
}

impl Extractor {
    /// Compiles the actors' aliases and roles.
    pub fn new(actors: &[ActorSpec]) -> Result<Extractor, ExtractError> {
        let _ = actors;
        todo!("extract helper")
    }

    /// Extracts one article.
    pub fn extract(&self, doc: &Document<'_>) -> Extraction {
        let _ = doc;
        todo!("extract helper")
    }
}
