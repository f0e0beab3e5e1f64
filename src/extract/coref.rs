//! Coreference: what a referring word ("he", "the prime minister", "the secretary") stands
//! for, given the mentions before it. English only; see the module docs of `extract`.

use chrono::NaiveDate;

use super::Extractor;
use super::mentions::Found;

/// Pronouns that refer back to a person actor.
pub(super) const PRONOUNS: &[&str] = &["he", "him", "his", "she", "her"];

/// What a referring word refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coref {
    /// "he", "his", "she", "her", "him".
    Pronoun,
    /// A bare office (index into `offices`); `full` = the whole office phrase ("prime
    /// minister") rather than its head noun ("minister").
    Office { office: usize, full: bool },
}

impl Extractor {
    /// Resolves a referring word in `sentence`, given every mention before it (`found`, in
    /// text order) and the normalised text before it (`before`).
    pub(super) fn resolve(
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
}
