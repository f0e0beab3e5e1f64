//! Unit tests of the import's planning: holders from rows, ids, de-duplication.

use super::*;
use crate::wikidata::sparql::Term;

fn term(kind: &str, value: &str) -> Term {
    Term {
        kind: kind.into(),
        value: value.into(),
        datatype: None,
        lang: None,
    }
}

fn row(q: &str, label: &str, iso: &str, end: Option<&str>) -> Row {
    let mut r = Row::new();
    r.insert(
        "person".into(),
        term("uri", &format!("http://www.wikidata.org/entity/{q}")),
    );
    r.insert("personLabel".into(), term("literal", label));
    r.insert("iso".into(), term("literal", iso));
    if let Some(e) = end {
        r.insert("end".into(), term("literal", &format!("{e}T00:00:00Z")));
    }
    r
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn config(text: &str) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parley.toml");
    std::fs::write(&path, text).unwrap();
    let c = crate::config::load(&path).unwrap();
    (dir, c)
}

#[test]
fn holders_merge_offices_and_drop_terms_ended_before_the_cutoff() {
    // One person found as head of state and of government is one actor; a term that ended
    // before the window must not come in even if the endpoint returned it.
    let answers = vec![
        (
            PositionKind::HeadsOfState,
            vec![
                row("Q10", "Ann Example", "XA", None),
                row("Q11", "Old Example", "XA", Some("2014-12-31")),
            ],
        ),
        (
            PositionKind::HeadsOfGovernment,
            vec![
                row("Q10", "Ann Example", "XA", None),
                row("Q9", "Bob Example", "XB", Some("2015-01-01")),
            ],
        ),
    ];
    let found = holders(&answers, date("2015-01-01"));
    let items: Vec<&str> = found.iter().map(|h| h.wikidata.as_str()).collect();
    assert_eq!(items, vec!["Q9", "Q10"]);
    assert_eq!(found[1].offices.len(), 2);
    assert_eq!(
        describe(&found[1]),
        "head of state of XA, head of government of XA"
    );
}

#[test]
fn ids_are_ascii_stable_and_unique() {
    // Ids are used in rules; they must be valid, the same on every run, and never clash.
    let none = HashSet::new();
    assert_eq!(
        unique_id("Recep Tayyip Erdoğan", "Q39259", &none),
        "recep-tayyip-erdogan"
    );
    assert_eq!(
        unique_id("Lars Løkke Rasmussen", "Q1", &none),
        "lars-lokke-rasmussen"
    );
    assert_eq!(unique_id("Ahmad Al-Sharaa", "Q1", &none), "ahmad-al-sharaa");
    assert_eq!(unique_id("习近平", "Q15031", &none), "q15031");
    let taken: HashSet<String> = ["ann-example".to_string()].into();
    assert_eq!(unique_id("Ann Example", "Q77", &taken), "ann-example-q77");
}

#[test]
fn plan_keeps_earlier_imports_and_skips_actors_already_kept_by_hand() {
    // A re-import must not duplicate anyone, and a hand-written actor (with or without an
    // id) must not get a generated twin.
    let (_dir, c) = config(
        "[[actor]]\nid = \"carol\"\nname = \"Carol Example\"\nwikidata = \"Q30\"\n\n\
         [[actor]]\nid = \"dan\"\nname = \"Daniel Example\"\naliases = [\"Dan Exámple\"]\n\n\
         [[actor]]\nid = \"ann-example\"\nname = \"Someone Else\"\n",
    );
    let previous = vec![ImportedActor {
        id: "bob".into(),
        name: "Bob Example".into(),
        country: Some("XB".into()),
        wikidata: "Q20".into(),
        found_as: String::new(),
    }];
    let found = holders(
        &[(
            PositionKind::ForeignMinisters,
            vec![
                row("Q10", "Ann Example", "XA", None),
                row("Q20", "Bob Example", "XB", None),
                row("Q30", "Carol Example", "XC", None),
                row("Q40", "Dan Example", "XD", None),
            ],
        )],
        date("2026-01-01"),
    );
    let p = plan(&c, &previous, &found);
    let ids: Vec<(&str, &str)> = p
        .actors
        .iter()
        .map(|a| (a.id.as_str(), a.wikidata.as_str()))
        .collect();
    assert_eq!(ids, vec![("ann-example-q10", "Q10"), ("bob", "Q20")]);
    assert_eq!(p.kept, 1);
    assert_eq!(p.added.len(), 1);
    assert!(
        p.skipped[0].contains("as actor \"carol\""),
        "{:?}",
        p.skipped
    );
    assert!(
        p.skipped[1].contains("actor \"dan\" has this name"),
        "{:?}",
        p.skipped
    );
    assert_eq!(p.actors[0].country.as_deref(), Some("XA"));
}
