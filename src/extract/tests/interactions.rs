//! Unit tests of sides (source, target, participants), status, coreference, dated roles
//! bound to countries, and other languages, over a larger cast of actors.

use super::*;

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
