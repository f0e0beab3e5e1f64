//! Unit tests of the scoring: the guide's rules, one case each.

use std::collections::BTreeSet;

use serde_json::json;

use super::facts::{Pair, PairFact, pair};
use super::gold::validate;
use super::measures::{Counts, Report, StatusCounts};
use super::*;

fn gold(v: Value) -> GoldItem {
    serde_json::from_value(v).unwrap()
}

#[test]
fn counts_and_edge_cases() {
    // The figures must be the textbook ones, and empty sets must not divide by zero.
    let c = Counts {
        tp: 3,
        fp: 1,
        fn_: 2,
    };
    assert!((c.precision() - 0.75).abs() < 1e-9);
    assert!((c.recall() - 0.6).abs() < 1e-9);
    assert!((c.f1() - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-9);
    let empty = Counts::default();
    assert_eq!((empty.precision(), empty.recall()), (1.0, 1.0));
    let all_wrong = Counts {
        tp: 0,
        fp: 2,
        fn_: 2,
    };
    assert_eq!(all_wrong.f1(), 0.0);
}

#[test]
fn pairs_are_unordered_and_groups_expand() {
    // {a,b} = {b,a}; a three-actor meeting is three pairs.
    let g = gold(json!({"text": "x", "mentions": ["c", "a", "b"],
        "interactions": [{"actors": ["c", "a", "b"], "type": "consult"}]}));
    let f = gold_facts(&g);
    let pairs: Vec<Pair> = f.facts.iter().map(|p| p.pair.clone()).collect();
    assert_eq!(
        pairs,
        [pair("a", "b"), pair("a", "c"), pair("b", "c")],
        "{f:?}"
    );
    assert!(f.facts.iter().all(|p| p.status == "occurred"));
}

#[test]
fn predictions_from_spine_events() {
    // Today's output: every pair of a typed sentence event; untyped events are co-mentions.
    let x = json!({"actors": ["a", "b", "c"], "events": [
        {"actors": ["a", "b"], "type": "consult"},
        {"actors": ["b", "c"], "type": null},
    ]});
    let f = predicted_facts(&x);
    assert_eq!(f.mentions.len(), 3);
    assert_eq!(
        f.facts.into_iter().collect::<Vec<_>>(),
        [PairFact {
            pair: pair("a", "b"),
            event_type: "consult".into(),
            status: "occurred".into()
        }]
    );
}

#[test]
fn predictions_prefer_richer_fields() {
    // When source/target/status land they win over the sentence's actor list, and a
    // top-level `interactions` list wins over events.
    let x = json!({"actors": ["a", "b", "c"], "events": [
        {"actors": ["a", "b", "c"], "type": "consult", "source": "a", "target": ["b"],
         "status": "planned"},
    ]});
    let f = predicted_facts(&x);
    assert_eq!(f.facts.len(), 1);
    let p = f.facts.first().unwrap();
    assert_eq!(
        (p.pair.clone(), p.status.as_str()),
        (pair("a", "b"), "planned")
    );
    let x = json!({"actors": ["a", "b"], "events": [{"actors": ["a", "b"], "type": "accuse"}],
        "interactions": [{"participants": [{"id": "a"}, {"id": "b"}], "type": "agree"}]});
    let f = predicted_facts(&x);
    assert_eq!(f.facts.first().unwrap().event_type, "agree");
    assert_eq!(f.facts.len(), 1);
}

#[test]
fn directed_interactions_do_not_relate_co_agents() {
    // "A and B accused C": A-C and B-C; "A and B met C": a three-way meeting.
    let x = json!({"actors": ["a", "b", "c"], "events": [
        {"type": "accuse", "source": ["a", "b"], "target": ["c"], "participants": []},
        {"type": "consult", "source": ["a", "b"], "target": ["c"], "participants": []}]});
    let f = predicted_facts(&x);
    let by_type = |t: &str| -> Vec<Pair> {
        f.facts
            .iter()
            .filter(|p| p.event_type == t)
            .map(|p| p.pair.clone())
            .collect()
    };
    assert_eq!(by_type("accuse"), [pair("a", "c"), pair("b", "c")]);
    assert_eq!(by_type("consult").len(), 3);
}

#[test]
fn predictions_use_each_events_interaction_list() {
    // Extraction v2 nests every interaction of a sentence in its event: each one counts,
    // one-sided ones give no pair, and the event's co-mention list is then ignored.
    let x = json!({"actors": ["a", "b", "c"], "events": [
        {"actors": ["a", "b", "c"], "type": "consult", "source": ["a"], "target": ["b"],
         "participants": [], "status": "occurred", "interactions": [
            {"type": "consult", "source": ["a"], "target": ["b"], "participants": [],
             "status": "occurred"},
            {"type": "request", "source": ["c"], "target": [], "participants": [],
             "status": "planned"},
         ]},
        {"actors": ["b", "c"], "type": null, "interactions": []},
    ]});
    let f = predicted_facts(&x);
    assert_eq!(
        f.facts.into_iter().collect::<Vec<_>>(),
        [PairFact {
            pair: pair("a", "b"),
            event_type: "consult".into(),
            status: "occurred".into()
        }]
    );
    assert_eq!(f.mentions.len(), 3);
}

#[test]
fn report_measures_are_independent() {
    // Right pair with wrong type counts for pairs but not typed; status is scored on the
    // gold interactions whose pair was found, whatever the type.
    let g = gold(json!({"text": "x", "mentions": ["a", "b"],
        "interactions": [{"actors": ["a", "b"], "type": "consult"}]}));
    let p = predicted_facts(&json!({"actors": ["a", "b", "z"],
        "events": [{"actors": ["a", "b"], "type": "accuse", "status": "planned"},
                   {"actors": ["a", "b"], "type": "request"}]}));
    let mut r = Report::default();
    r.add(&gold_facts(&g), &p);
    assert_eq!(
        r.mentions,
        Counts {
            tp: 2,
            fp: 1,
            fn_: 0
        }
    );
    assert_eq!(
        r.pairs,
        Counts {
            tp: 1,
            fp: 0,
            fn_: 0
        }
    );
    assert_eq!(
        r.typed,
        Counts {
            tp: 0,
            fp: 1,
            fn_: 1
        }
    );
    assert_eq!(
        r.status,
        StatusCounts {
            scored: 1,
            correct: 1
        }
    );
    let floors = Floors {
        mentions: Some(0.5),
        typed: Some(0.5),
        ..Floors::default()
    };
    assert_eq!(r.below(&floors).len(), 1, "{:?}", r.below(&floors));
    assert!(r.table().contains("typed"));
    assert_eq!(r.to_json()["pairs"]["f1"], 1.0);
    assert_eq!(r.to_json()["status"]["accuracy"], 1.0);
}

#[test]
fn only_occurred_interactions_count_and_optional_ones_are_neutral() {
    // The guide's scoring: a planned gold interaction is not gold, so reporting it as
    // occurred is a false positive, and reporting it as planned scores its status only;
    // an optional interaction or mention neither rewards nor penalises.
    let g = gold(json!({"text": "x", "url": "https://example.org/a",
        "mentions": ["a", "b", "c"], "optional_mentions": ["un"],
        "interactions": [
            {"actors": ["a", "b"], "type": "consult", "status": "planned"},
            {"actors": ["a", "c"], "type": "consult", "optional": true},
            {"actors": ["b", "c"], "type": "accuse", "source": ["b"], "target": ["c"]}]}));
    let gf = gold_facts(&g);
    let pred = |a_b_status: &str| {
        predicted_facts(&json!({"actors": ["a", "b", "c", "un"], "events": [
            {"actors": ["a", "b"], "type": "consult", "status": a_b_status},
            {"actors": ["a", "c"], "type": "consult"},
            {"actors": ["b", "c"], "type": "accuse"}]}))
    };
    let mut r = Report::default();
    r.add(&gf, &pred("occurred"));
    assert_eq!(
        r.mentions,
        Counts {
            tp: 3,
            fp: 0,
            fn_: 0
        }
    );
    assert_eq!(
        r.pairs,
        Counts {
            tp: 1,
            fp: 1,
            fn_: 0
        }
    );
    assert_eq!(
        r.status,
        StatusCounts {
            scored: 2,
            correct: 1
        }
    );
    let mut r = Report::default();
    r.add(&gf, &pred("planned"));
    assert_eq!(
        r.pairs,
        Counts {
            tp: 1,
            fp: 0,
            fn_: 0
        }
    );
    assert_eq!(
        r.typed,
        Counts {
            tp: 1,
            fp: 0,
            fn_: 0
        }
    );
    assert_eq!(
        r.status,
        StatusCounts {
            scored: 2,
            correct: 2
        }
    );
}

#[test]
fn categories_and_confusion() {
    // Items are reported by category, and a wrong type shows up off the diagonal.
    let g1 = gold(json!({"text": "x", "mentions": ["a", "b"],
        "interactions": [{"actors": ["a", "b"], "type": "request"}]}));
    let g2 = gold(json!({"text": "x", "mentions": ["a", "b"]}));
    let g3 = gold(json!({"text": "x", "mentions": ["a"]}));
    let p = predicted_facts(&json!({"actors": ["a", "b"],
        "events": [{"actors": ["a", "b"], "type": "consult"}]}));
    let mut e = Evaluation::default();
    for g in [&g1, &g2, &g3] {
        e.add(&gold_facts(g), &p);
    }
    assert_eq!(e.by_category["interaction"].items, 1);
    assert_eq!(e.by_category["co-mention"].pairs.fp, 1);
    assert_eq!(e.by_category["single actor"].mentions.fp, 1);
    assert_eq!(
        e.confusion[&("request".to_string(), "consult".to_string())],
        1
    );
    assert_eq!(e.confusion[&("none".to_string(), "consult".to_string())], 2);
    assert!(e.details().contains("co-mention"));
    assert!(e.to_json()["categories"]["interaction"]["pairs"]["f1"].is_number());
}

#[test]
fn errors_are_grouped_by_cause() {
    // Each kind of miss lands in its own class, so the breakdown points at what to fix.
    let g = gold(
        json!({"id": "x1", "text": "x", "mentions": ["a", "b", "c", "d"],
        "interactions": [
            {"actors": ["a", "b"], "type": "consult"},
            {"actors": ["a", "c"], "type": "accuse", "status": "denied"},
            {"actors": ["a", "d"], "type": "threaten"}]}),
    );
    // a-b typed wrong, a-c found but occurred, a-d missed (d never found), c-b invented.
    let p = predicted_facts(&json!({"actors": ["a", "b", "c"], "events": [
        {"actors": ["a", "b"], "type": "statement"},
        {"actors": ["a", "c"], "type": "accuse"},
        {"actors": ["b", "c"], "type": "consult"}]}));
    let classes: BTreeSet<String> = error_classes(&g, &gold_facts(&g), &p)
        .into_iter()
        .map(|(c, id)| {
            assert_eq!(id, "x1");
            c
        })
        .collect();
    let want: BTreeSet<String> = [
        "typed FN consult: typed as statement",
        "typed FN threaten: an actor not found",
        "typed FP statement: gold is consult",
        "typed FP accuse: gold status is denied",
        "typed FP consult: pair not related in gold",
        "status denied read as occurred",
        "mention FN d",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(classes, want);
    let mut b = Breakdown::default();
    b.classes.insert("small".into(), vec!["1".into()]);
    b.classes.insert("big".into(), vec!["1".into(), "2".into()]);
    assert_eq!(b.to_json()[0]["class"], "big");
    assert!(b.table().contains("   2  big  [1 2]"), "{}", b.table());
}

#[test]
fn validation_catches_annotation_typos() {
    // A typo in the gold file must stop the run, not silently lower a figure.
    let bad = [
        json!({"text": "x", "mentions": ["a", "b"],
            "interactions": [{"actors": ["a"], "type": "consult"}]}),
        json!({"text": "x", "mentions": ["a", "b"],
            "interactions": [{"actors": ["a", "b"], "type": "meet"}]}),
        json!({"text": "x", "mentions": ["a", "b"],
            "interactions": [{"actors": ["a", "b"], "type": "consult", "status": "done"}]}),
        json!({"text": "x", "mentions": ["a"],
            "interactions": [{"actors": ["a", "b"], "type": "statement"}]}),
    ];
    for v in bad {
        assert!(validate(&gold(v.clone())).is_err(), "{v}");
    }
    let ok = json!({"text": "x", "mentions": ["a", "b"],
        "interactions": [{"actors": ["a", "b"], "type": "statement", "status": "denied"}]});
    assert!(validate(&gold(ok)).is_ok());
}
