//! Unit tests of extraction through its public interface.

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

fn ids(v: &[&str]) -> Vec<ActorId> {
    v.iter().map(|&s| ActorId::from(s)).collect()
}

mod interactions;
