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
    let x = run3("Netanyahu received the Qatari, Omani and Turkish foreign ministers on Sunday.");
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
    let x = run3("Erdoğan hosted regional leaders, including Netanyahu and Mikati, at a summit.");
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
    let x =
        run3("Netanyahu ordered new strikes in the south, and Erdoğan said Turkey would respond.");
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
