//! Wikidata's documented entity JSON (`Special:EntityData/{id}.json`), read into the few
//! things a watchlist needs: names in chosen languages and the offices held (P39) with their
//! start (P580) and end (P582) qualifiers.
//!
//! The format is Wikibase's JSON data model
//! (<https://doc.wikimedia.org/Wikibase/master/php/docs_topics_json.html>): `{"entities":
//! {"Q…": {"id", "lastrevid", "labels", "aliases", "claims"}}}`. Only the fields read here
//! are declared; everything else is ignored, so additions to the format do not break a sync.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::WikidataError;

/// "position held": the statement that says which office a person held.
pub const POSITION_HELD: &str = "P39";
/// "start time" qualifier of a P39 statement.
pub const START_TIME: &str = "P580";
/// "end time" qualifier of a P39 statement.
pub const END_TIME: &str = "P582";

/// The response document: entities by id.
#[derive(Debug, Deserialize)]
struct Document {
    entities: HashMap<String, Entity>,
}

/// One item, as much of it as parley reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Entity {
    /// The item id (after redirects: the target's id).
    pub id: String,
    /// The revision the document shows; the cache key.
    #[serde(default)]
    pub lastrevid: u64,
    /// One label per language.
    #[serde(default)]
    labels: HashMap<String, Term>,
    /// Any number of aliases per language.
    #[serde(default)]
    aliases: HashMap<String, Vec<Term>>,
    /// Statements by property id.
    #[serde(default)]
    claims: HashMap<String, Vec<Statement>>,
}

/// A label or alias in one language.
#[derive(Debug, Clone, Deserialize)]
struct Term {
    value: String,
}

/// One statement: a main value, qualifiers and a rank.
#[derive(Debug, Clone, Deserialize)]
struct Statement {
    mainsnak: Snak,
    #[serde(default)]
    qualifiers: HashMap<String, Vec<Snak>>,
    #[serde(default)]
    rank: String,
}

/// A property-value pair; `datavalue` is absent for "no value" / "unknown value".
#[derive(Debug, Clone, Deserialize)]
struct Snak {
    snaktype: String,
    #[serde(default)]
    datavalue: Option<DataValue>,
}

/// The value of a snak; only item ids and times are read.
#[derive(Debug, Clone, Deserialize)]
struct DataValue {
    value: serde_json::Value,
}

/// One office held, as read from a P39 statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionHeld {
    /// The office's item id.
    pub position: String,
    /// First day (from P580); `None` when unknown or unstated.
    pub from: Option<NaiveDate>,
    /// Last day (from P582); `None` while in office.
    pub until: Option<NaiveDate>,
}

/// Reads the entity `id` from an EntityData document. A redirected id is answered with the
/// target's entity under the target's id: the one entity in the document is taken then.
pub fn parse(id: &str, body: &[u8]) -> Result<Entity, WikidataError> {
    let doc: Document = serde_json::from_slice(body).map_err(|e| WikidataError::Format {
        id: id.to_string(),
        message: e.to_string(),
    })?;
    let mut entities = doc.entities;
    if let Some(entity) = entities.remove(id) {
        return Ok(entity);
    }
    let single = entities.len() == 1;
    match entities.into_values().next() {
        Some(entity) if single => Ok(entity),
        _ => Err(WikidataError::Format {
            id: id.to_string(),
            message: "the document does not contain this entity".to_string(),
        }),
    }
}

impl Entity {
    /// Labels then aliases in `languages`' order, without repeats (first spelling kept).
    pub fn names(&self, languages: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for lang in languages {
            let label = self.labels.get(lang).map(|t| &t.value);
            let aliases = self
                .aliases
                .get(lang)
                .into_iter()
                .flatten()
                .map(|t| &t.value);
            for name in label.into_iter().chain(aliases) {
                let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
                if usable_name(&name)
                    && !out.iter().any(|n| n.to_lowercase() == name.to_lowercase())
                {
                    out.push(name);
                }
            }
        }
        out
    }

    /// The label in the first of `languages` that has one.
    pub fn label(&self, languages: &[String]) -> Option<String> {
        languages
            .iter()
            .find_map(|l| self.labels.get(l))
            .map(|t| t.value.trim().to_string())
            .filter(|s| usable_name(s))
    }

    /// Offices held (P39), deprecated statements skipped. A statement whose end is "unknown
    /// value" is skipped too: the person left office at a date nobody recorded, and an open
    /// role would make them hold it forever.
    pub fn positions_held(&self) -> Vec<PositionHeld> {
        let mut out = Vec::new();
        for st in self.claims.get(POSITION_HELD).into_iter().flatten() {
            if st.rank == "deprecated" || st.mainsnak.snaktype != "value" {
                continue;
            }
            let Some(position) = st
                .mainsnak
                .datavalue
                .as_ref()
                .and_then(|d| d.value.get("id"))
                .and_then(|v| v.as_str())
                .filter(|id| crate::config::is_wikidata_id(id))
            else {
                continue;
            };
            let from = qualifier_date(st, START_TIME, Bound::Start);
            let until = qualifier_date(st, END_TIME, Bound::End);
            let (Ok(from), Ok(until)) = (from, until) else {
                continue;
            };
            if let (Some(f), Some(u)) = (from, until)
                && f > u
            {
                continue;
            }
            out.push(PositionHeld {
                position: position.to_string(),
                from,
                until,
            });
        }
        out
    }
}

/// A name the extractor can match: at least two letters or digits (one-letter names and
/// punctuation-only strings would match noise, or not build at all).
fn usable_name(s: &str) -> bool {
    s.chars().filter(|c| c.is_alphanumeric()).count() >= 2
}

/// Which end of a term a date is: imprecise dates widen to the whole month or year.
#[derive(Clone, Copy)]
enum Bound {
    Start,
    End,
}

/// The date of a qualifier: `Ok(None)` when absent; `Err(())` when stated but unusable
/// ("unknown value", a date before year 1, a malformed time).
fn qualifier_date(st: &Statement, property: &str, bound: Bound) -> Result<Option<NaiveDate>, ()> {
    let Some(snak) = st.qualifiers.get(property).and_then(|q| q.first()) else {
        return Ok(None);
    };
    match snak.snaktype.as_str() {
        "value" => {}
        // "no value" for an end time: the term has no end, i.e. it is current.
        "novalue" => return Ok(None),
        // "unknown value": a start since ever is harmless, an unknown end is not.
        _ => {
            return match bound {
                Bound::Start => Ok(None),
                Bound::End => Err(()),
            };
        }
    }
    let value = snak.datavalue.as_ref().ok_or(())?;
    let time = value.value.get("time").and_then(|t| t.as_str()).ok_or(())?;
    let precision = value
        .value
        .get("precision")
        .and_then(|p| p.as_u64())
        .unwrap_or(11);
    parse_time(time, precision, bound).ok_or(()).map(Some)
}

/// Parses a Wikibase time (`+2021-01-26T00:00:00Z`, precision 11 = day, 10 = month, 9 =
/// year). A month- or year-precise start is its first day, an end its last day, so the term
/// covers every day it might have included.
fn parse_time(time: &str, precision: u64, bound: Bound) -> Option<NaiveDate> {
    let rest = time.strip_prefix('+')?;
    let date = rest.split('T').next()?;
    let mut parts = date.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if year < 1 || precision < 9 {
        return None;
    }
    let (month, day) = match precision {
        9 => match bound {
            Bound::Start => (1, 1),
            Bound::End => (12, 31),
        },
        10 => (month, if matches!(bound, Bound::Start) { 1 } else { 0 }),
        _ => (month, day),
    };
    if day == 0 {
        // The last day of `month`: the day before the first of the next month.
        let (y, m) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        return NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt();
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    const PERSON: &str = r#"{"entities":{"Q9000001":{"type":"item","id":"Q9000001","lastrevid":77,
      "labels":{"en":{"language":"en","value":"Ann Example"},"ru":{"language":"ru","value":"Энн Экзампл"},
                "de":{"language":"de","value":"Ann Example"}},
      "aliases":{"en":[{"language":"en","value":"A. Example"},{"language":"en","value":"X"}]},
      "claims":{"P39":[
        {"mainsnak":{"snaktype":"value","property":"P39","datavalue":{"value":{"entity-type":"item","numeric-id":9000100,"id":"Q9000100"},"type":"wikibase-entityid"}},
         "type":"statement","rank":"normal",
         "qualifiers":{"P580":[{"snaktype":"value","property":"P580","datavalue":{"value":{"time":"+2021-01-26T00:00:00Z","timezone":0,"before":0,"after":0,"precision":11,"calendarmodel":"http://www.wikidata.org/entity/Q1985727"},"type":"time"}}],
                       "P582":[{"snaktype":"value","property":"P582","datavalue":{"value":{"time":"+2025-01-00T00:00:00Z","timezone":0,"before":0,"after":0,"precision":10,"calendarmodel":"http://www.wikidata.org/entity/Q1985727"},"type":"time"}}]}},
        {"mainsnak":{"snaktype":"value","property":"P39","datavalue":{"value":{"id":"Q9000101"},"type":"wikibase-entityid"}},
         "type":"statement","rank":"deprecated"},
        {"mainsnak":{"snaktype":"value","property":"P39","datavalue":{"value":{"id":"Q9000102"},"type":"wikibase-entityid"}},
         "type":"statement","rank":"preferred",
         "qualifiers":{"P582":[{"snaktype":"somevalue","property":"P582"}]}},
        {"mainsnak":{"snaktype":"value","property":"P39","datavalue":{"value":{"id":"Q9000103"},"type":"wikibase-entityid"}},
         "type":"statement","rank":"preferred",
         "qualifiers":{"P580":[{"snaktype":"value","property":"P580","datavalue":{"value":{"time":"+2019-00-00T00:00:00Z","precision":9},"type":"time"}}]}}
      ]}}}}"#;

    #[test]
    fn reads_names_in_language_order_without_repeats_or_noise() {
        // The generated aliases come from here; repeats and one-letter names must not.
        let e = parse("Q9000001", PERSON.as_bytes()).unwrap();
        assert_eq!(e.lastrevid, 77);
        assert_eq!(
            e.names(&langs(&["en", "ru", "de", "fr"])),
            vec!["Ann Example", "A. Example", "Энн Экзампл"]
        );
        assert_eq!(
            e.label(&langs(&["fr", "ru"])).as_deref(),
            Some("Энн Экзампл")
        );
    }

    #[test]
    fn positions_skip_deprecated_and_unknown_ends_and_widen_imprecise_dates() {
        // Dated roles are only as good as this reading of P39 and its qualifiers.
        let e = parse("Q9000001", PERSON.as_bytes()).unwrap();
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            e.positions_held(),
            vec![
                PositionHeld {
                    position: "Q9000100".into(),
                    from: d(2021, 1, 26),
                    until: d(2025, 1, 31),
                },
                PositionHeld {
                    position: "Q9000103".into(),
                    from: d(2019, 1, 1),
                    until: None,
                },
            ]
        );
    }

    #[test]
    fn redirected_ids_take_the_single_entity_and_bad_documents_fail() {
        // Wikidata answers a merged item with its target; a sync must follow, not fail.
        let body = r#"{"entities":{"Q2":{"id":"Q2","labels":{}}}}"#;
        assert_eq!(parse("Q1", body.as_bytes()).unwrap().id, "Q2");
        assert!(matches!(
            parse("Q1", b"<html>"),
            Err(WikidataError::Format { .. })
        ));
    }

    #[test]
    fn times_respect_precision_and_bounds() {
        // A year-precise end must cover the whole year, a start begin on 1 January.
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            parse_time("+2024-02-00T00:00:00Z", 10, Bound::End),
            d(2024, 2, 29)
        );
        assert_eq!(
            parse_time("+2024-12-00T00:00:00Z", 10, Bound::End),
            d(2024, 12, 31)
        );
        assert_eq!(
            parse_time("+2024-00-00T00:00:00Z", 9, Bound::End),
            d(2024, 12, 31)
        );
        assert_eq!(
            parse_time("+2024-07-14T00:00:00Z", 11, Bound::Start),
            d(2024, 7, 14)
        );
        assert_eq!(parse_time("-0044-03-15T00:00:00Z", 11, Bound::Start), None);
        assert_eq!(parse_time("+2024-00-00T00:00:00Z", 8, Bound::Start), None);
    }
}
