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
//! inside them (leftmost-longest matching); verb forms beat nouns ("Blinken *met* ... to
//! discuss the *truce*" is a meeting); among the preferred kind, the first trigger at or after
//! the first actor mention wins (the actor's own predicate usually follows it), else the
//! nearest one before it.

use std::collections::BTreeMap;

use aho_corasick::AhoCorasick;
use chrono::NaiveDate;
use serde::Serialize;

use crate::plover::PloverType;

mod lexicon;
mod matcher;
mod normalize;
mod sentences;

use lexicon::{Lexicon, TriggerInfo};
use matcher::Hit;

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
    /// Every normalised alias of every actor, names and roles together.
    aliases: AhoCorasick,
    /// `owners[pattern]`: who an alias pattern names, and when.
    owners: Vec<Vec<Owner>>,
    /// `dotted[pattern]`: some configured spelling ended in "." ("U.S."), so a period right
    /// after the match belongs to the mention.
    dotted: Vec<bool>,
    /// Actor ids, sorted; actor indexes below point into this.
    ids: Vec<String>,
    /// The event lexicon.
    lexicon: AhoCorasick,
    /// `triggers[pattern]`: what a lexicon phrase means.
    triggers: Vec<TriggerInfo>,
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
    ty: PloverType,
    verb: bool,
}

/// One actor mention (virtual coordinates).
#[derive(Debug, Clone, Copy)]
struct Found {
    sentence: usize,
    start: usize,
    end: usize,
    actor: usize,
    via_role: bool,
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

        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut dotted: Vec<bool> = Vec::new();
        let mut by_pattern: BTreeMap<String, usize> = BTreeMap::new();
        let mut add = |actor_id: &str, alias: &str, owner: Owner| -> Result<(), ExtractError> {
            // Padded with spaces like the article text: " us secretary of state ".
            let norm = normalize::normalize(alias).text;
            let norm = norm.as_str();
            if !norm.chars().any(char::is_alphanumeric) {
                return Err(ExtractError::EmptyAlias {
                    actor: actor_id.to_string(),
                    alias: alias.to_string(),
                });
            }
            let p = match by_pattern.get(norm) {
                Some(&p) => p,
                None => {
                    by_pattern.insert(norm.to_string(), patterns.len());
                    patterns.push(norm.to_string());
                    owners.push(Vec::new());
                    dotted.push(false);
                    patterns.len() - 1
                }
            };
            if !owners[p].contains(&owner) {
                owners[p].push(owner);
            }
            dotted[p] |= alias.trim_end().ends_with('.');
            Ok(())
        };
        for a in actors {
            let actor = index_of.get(a.id.as_str()).copied().unwrap_or_default();
            let name = Owner {
                actor,
                via_role: false,
                from: None,
                until: None,
            };
            for alias in &a.aliases {
                add(&a.id, alias, name)?;
            }
            for r in &a.roles {
                let role = Owner {
                    actor,
                    via_role: true,
                    from: r.from,
                    until: r.until,
                };
                for alias in std::iter::once(&r.title).chain(&r.aliases) {
                    add(&a.id, alias, role)?;
                }
            }
        }
        let aliases = matcher::build(&patterns).map_err(|e| ExtractError::Build(e.to_string()))?;
        let lex = Lexicon::build();
        let lexicon =
            matcher::build(&lex.phrases).map_err(|e| ExtractError::Build(e.to_string()))?;
        Ok(Extractor {
            aliases,
            owners,
            dotted,
            ids,
            lexicon,
            triggers: lex.info,
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

        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(marks.len() / 2 + 2);
        if !title_trim.is_empty() {
            let lead = doc.title.len() - doc.title.trim_start().len();
            spans.push((lead, lead + title_trim.len()));
        }
        sentences::split_at(doc.text, &marks, src.base, &mut spans);

        // Actor mentions.
        let mut hits: Vec<Hit> = Vec::with_capacity(norm.text.len() / 128 + 4);
        matcher::scan(
            &self.aliases,
            &norm.text,
            0..norm.text.len(),
            |p| self.owners[p].iter().any(|o| o.valid_at(doc.date)),
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
            let owners = &self.owners[h.pattern];
            for o in owners.iter().filter(|o| o.valid_at(doc.date)) {
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
                    actor: o.actor,
                    via_role: o.via_role,
                });
                seen[o.actor] = true;
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
        // (consecutive ones are searched as one region).
        let mut thits: Vec<Hit> = Vec::with_capacity(found.len() * 2 + 4);
        let mut region: Option<(usize, usize)> = None;
        let mut last_sentence = usize::MAX;
        for fd in &found {
            if fd.sentence == last_sentence {
                continue;
            }
            last_sentence = fd.sentence;
            let (s0, s1) = spans[fd.sentence];
            // Normalised range of the sentence, widened to its padding spaces.
            let a = norm
                .map
                .partition_point(|&o| (o as usize) < s0)
                .saturating_sub(1);
            let b = (norm.map.partition_point(|&o| (o as usize) < s1) + 1).min(norm.text.len());
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
                    ty,
                    verb: info.verb,
                });
            }
        }

        // One event per sentence with actors: `found` and `candidates` are in text order.
        let mut events = Vec::with_capacity(found.last().map_or(0, |m| m.sentence + 1));
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
                &src,
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

    /// Builds the event of one sentence: offsets made sentence-relative, trigger chosen.
    fn event(
        &self,
        src: &Source<'_>,
        (s0, s1): (usize, usize),
        sentence_index: usize,
        found: &[Found],
        candidates: &[Candidate],
    ) -> ExtractedEvent {
        // `found` is sorted by position.
        let mentions = found;
        let mut actors: Vec<String> = Vec::with_capacity(2);
        let mut actor_idx: Vec<usize> = mentions.iter().map(|m| m.actor).collect();
        actor_idx.sort_unstable();
        actor_idx.dedup();
        actors.extend(actor_idx.iter().map(|&i| self.ids[i].clone()));
        let first_mention = mentions.first().map_or(s0, |m| m.start);
        let trigger = choose_trigger(candidates, first_mention);
        ExtractedEvent {
            sentence_index,
            actors,
            event_type: trigger.map(|c| c.ty),
            trigger: trigger.map(|c| src.slice(c.start, c.end).to_string()),
            sentence: src.slice(s0, s1).to_string(),
            mentions: mentions
                .iter()
                .map(|m| Mention {
                    actor: self.ids[m.actor].clone(),
                    text: src.slice(m.start, m.end).to_string(),
                    start: m.start - s0,
                    end: m.end - s0,
                    via_role: m.via_role,
                })
                .collect(),
        }
    }
}
/// The sentence wholly containing `start..end`, if any (matches across a sentence end drop).
fn sentence_of(spans: &[(usize, usize)], start: usize, end: usize) -> Option<usize> {
    let i = spans.partition_point(|s| s.1 <= start);
    let s = spans.get(i)?;
    (s.0 <= start && end <= s.1).then_some(i)
}

/// The trigger rule (see the module docs): verbs before nouns; then the first at or after the
/// first actor mention, else the nearest before it.
fn choose_trigger(cands: &[Candidate], first_mention: usize) -> Option<Candidate> {
    let any_verb = cands.iter().any(|c| c.verb);
    let mut pool = cands.iter().filter(|c| c.verb || !any_verb);
    let mut before = None;
    for c in pool.by_ref() {
        if c.start >= first_mention {
            return Some(*c);
        }
        before = Some(*c);
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
            .map(|m| (m.actor.clone(), m.text.clone(), m.via_role))
            .collect()
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
}
