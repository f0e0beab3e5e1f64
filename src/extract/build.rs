//! Compiling an [`Extractor`]: every alias and role alias of every actor normalised into one
//! pattern table (with the offices, plurals and referring words derived from it), plus the
//! lexicon and gazetteer automata. Runs once per config; `extract` only reads the result.

use std::collections::BTreeMap;

use super::coref::{Coref, PRONOUNS};
use super::gazetteer::Gazetteer;
use super::lexicon::Lexicon;
use super::matcher;
use super::place::is_location_cue;
use super::{ActorId, ActorSpec, ExtractError, Extractor, Owner, normalize};

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

/// Arabic writes its one-letter conjunctions and prepositions on the next word: "وبلينكن" is
/// "and Blinken", "لبلينكن" "for Blinken". A normalised alias that starts with an Arabic
/// letter therefore also matches with these proclitics glued on: و (and), ف (so), ب (with,
/// by), ل (for), ك (like), and the pairs a conjunction and a preposition make. Stripping
/// them from the text instead would break names that start with those letters (بلينكن
/// itself starts with ب), so the aliases grow, not the text shrinks. The variants are only
/// made for Arabic-script aliases; other aliases are untouched.
const ARABIC_PROCLITICS: [&str; 11] = ["و", "ف", "ب", "ل", "ك", "وب", "ول", "وك", "فب", "فل", "فك"];

/// The proclitic forms of a normalised, padded alias (` بلينكن ` → ` وبلينكن `, ...), or
/// none when it does not start with an Arabic letter.
fn arabic_clitic_forms(norm: &str) -> impl Iterator<Item = String> + '_ {
    let word = norm.trim_start();
    let arabic = word
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '\u{0620}'..='\u{064A}' | '\u{066E}'..='\u{06D3}'));
    ARABIC_PROCLITICS
        .iter()
        .filter(move |_| arabic)
        .map(move |p| format!(" {p}{word}"))
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
                for v in arabic_clitic_forms(&norm) {
                    let p = pats.slot(&v);
                    pats.own(p, name);
                }
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
                    for v in arabic_clitic_forms(&norm) {
                        let p = pats.slot(&v);
                        pats.own(p, role);
                    }
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
            model: None,
        })
    }
}
