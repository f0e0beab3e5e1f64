//! Extraction on the seed story, read at test time from the shared folder (never copied into
//! the repo). Actors are built here the way a config would declare them.

use chrono::NaiveDate;
use parley::extract::{ActorSpec, Document, Extraction, Extractor, RoleSpec};
use parley::plover::PloverType;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn actor(id: &str, name: &str, aliases: &[&str], roles: Vec<RoleSpec>) -> ActorSpec {
    ActorSpec {
        id: id.into(),
        name: name.into(),
        aliases: strings(aliases),
        roles,
    }
}

fn role(title: &str, aliases: &[&str], from: &str, until: Option<&str>) -> RoleSpec {
    RoleSpec {
        title: title.into(),
        aliases: strings(aliases),
        from: Some(d(from)),
        until: until.map(d),
    }
}

fn seed_actors() -> Vec<ActorSpec> {
    vec![
        actor(
            "blinken",
            "Antony Blinken",
            &["Antony Blinken", "Antony J. Blinken", "Blinken"],
            vec![role(
                "U.S. Secretary of State",
                &[
                    "Secretary of State",
                    "US Secretary of State",
                    "top U.S. diplomat",
                ],
                "2021-01-26",
                Some("2025-01-20"),
            )],
        ),
        actor(
            "netanyahu",
            "Benjamin Netanyahu",
            &["Benjamin Netanyahu", "Netanyahu"],
            vec![role(
                "Prime Minister of Israel",
                &["Israeli prime minister", "Israel's prime minister"],
                "2022-12-29",
                None,
            )],
        ),
        actor(
            "mikati",
            "Najib Mikati",
            &["Najib Mikati", "Mikati"],
            vec![role(
                "Prime Minister of Lebanon",
                &[
                    "Lebanese prime minister",
                    "Lebanon's prime minister",
                    "Lebanon's caretaker prime minister",
                ],
                "2021-09-10",
                Some("2025-02-08"),
            )],
        ),
        actor(
            "qatar-fm",
            "Mohammed bin Abdulrahman Al Thani",
            &[
                "Mohammed bin Abdulrahman Al Thani",
                "Sheikh Mohammed bin Abdulrahman",
            ],
            vec![role(
                "Foreign Minister of Qatar",
                &["Qatar's foreign minister", "Qatari foreign minister"],
                "2016-01-28",
                None,
            )],
        ),
        actor(
            "abdullah-ii",
            "King Abdullah II",
            &["King Abdullah II", "King Abdullah"],
            vec![],
        ),
    ]
}

/// The seed story's body and date (the shared seed article, else the sample's retelling).
fn seed() -> (String, NaiveDate) {
    let (body, date) = crate::common::seed_body_and_date();
    assert_eq!(d(&date), d("2023-11-12"));
    (body, d(&date))
}

/// Whether the seed article itself is there (not the sample's retelling). Checks of phenomena
/// only its own sentences have (a pronoun carrying Blinken into Netanyahu's sentence) run on
/// it alone; without it they are reported as not run, and fail under CI.
fn original_seed(what: &str) -> bool {
    let there = crate::common::seed_article_original().is_some();
    if !there {
        crate::common::cannot_run(&format!(
            "{what}: needs the seed article itself (../shared/seed-article.txt or PARLEY_SEED_ARTICLE)"
        ));
    }
    there
}

fn extract(body: &str, date: NaiveDate) -> Extraction {
    let ex = Extractor::new(&seed_actors()).expect("valid actors");
    ex.extract(&Document {
        title: "",
        text: body,
        date: Some(date),
    })
}

fn share_a_sentence(x: &Extraction, a: &str, b: &str) -> bool {
    x.events
        .iter()
        .any(|e| e.actors.iter().any(|x| x == a) && e.actors.iter().any(|x| x == b))
}

#[test]
fn seed_article_actors_sentences_and_types() {
    // The seed story is the reference case parley was built for: who is with whom, and how.
    let (body, date) = seed();
    let x = extract(&body, date);

    for id in ["abdullah-ii", "blinken", "mikati", "netanyahu", "qatar-fm"] {
        assert!(
            x.actors.iter().any(|a| a == id),
            "{id} missing: {:?}",
            x.actors
        );
    }
    assert!(share_a_sentence(&x, "blinken", "mikati"));
    // Netanyahu's sentence names Blinken only as "His" and "he": coreference makes him count.
    if original_seed("the pronoun check") {
        assert!(share_a_sentence(&x, "blinken", "netanyahu"));
    }
    assert!(!share_a_sentence(&x, "netanyahu", "mikati"));

    // Qatar's minister is named only by office in the seed article.
    if original_seed("the office-only check") {
        let qatar: Vec<_> = x
            .events
            .iter()
            .flat_map(|e| &e.mentions)
            .filter(|m| m.actor == "qatar-fm")
            .collect();
        assert!(
            !qatar.is_empty() && qatar.iter().all(|m| m.via_role),
            "{qatar:?}"
        );
    }

    if original_seed("the Amman sentence's type") {
        let amman = x
            .events
            .iter()
            .find(|e| e.sentence.contains("Amman") && e.actors.iter().any(|a| a == "blinken"))
            .expect("the Amman sentence");
        assert_eq!(amman.event_type, Some(PloverType::Consult), "{amman:?}");
    }

    // Offsets are relative to the sentence, in the original text.
    for e in &x.events {
        for m in &e.mentions {
            assert_eq!(&e.sentence[m.start..m.end], m.text, "{e:?}");
        }
        let mut sorted = e.actors.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(e.actors, sorted);
    }
    // Deterministic: the same input gives the same output.
    assert_eq!(x, extract(&body, date));
}

#[test]
fn seed_article_after_the_role_ended() {
    // After 2025-01-20 "US Secretary of State" no longer means Blinken; his name still does.
    let (body, _) = seed();
    let x = extract(&body, d("2025-06-01"));
    let blinken: Vec<_> = x
        .events
        .iter()
        .flat_map(|e| &e.mentions)
        .filter(|m| m.actor == "blinken")
        .collect();
    assert!(!blinken.is_empty());
    assert!(blinken.iter().all(|m| !m.via_role), "{blinken:?}");
    assert!(blinken.iter().all(|m| !m.text.contains("Secretary")));
    // The same article at its own date does find him by role.
    let at_date = extract(&body, d("2023-11-12"));
    assert!(
        at_date
            .events
            .iter()
            .flat_map(|e| &e.mentions)
            .any(|m| m.actor == "blinken"
                && m.via_role
                && m.text.eq_ignore_ascii_case("US Secretary of State"))
    );
}

#[test]
fn seed_article_coreference_and_sides() {
    // "His visit to Tel Aviv the day before, where he held closed-door talks with Prime
    // Minister Benjamin Netanyahu" must read as Blinken consulting Netanyahu, resolved.
    let (body, date) = seed();
    let x = extract(&body, date);
    // What holds for any telling of the story: the Amman sentence is placed in Amman,
    // Jordan, in English, and every trigger span slices back to its trigger.
    let amman = x
        .events
        .iter()
        .find(|e| e.sentence.contains("Amman") && e.actors.iter().any(|a| a == "blinken"))
        .expect("the Amman sentence");
    let loc = amman.location.as_ref().expect("a location");
    assert_eq!(
        (loc.name.as_str(), loc.country.as_str()),
        ("Amman", "Jordan")
    );
    assert_eq!(amman.lang, "en");
    for e in &x.events {
        if let Some(s) = e.trigger_span {
            assert_eq!(Some(&e.sentence[s.start..s.end]), e.trigger.as_deref());
        }
    }
    // The rest is about the seed article's own sentences.
    if !original_seed("the coreference and sides checks") {
        return;
    }
    if std::env::var_os("PARLEY_DUMP").is_some() {
        println!("{}", serde_json::to_string_pretty(&x).unwrap_or_default());
    }
    let tel_aviv = x
        .events
        .iter()
        .find(|e| e.actors.iter().any(|a| a == "netanyahu"))
        .expect("Netanyahu's sentence");
    assert_eq!(tel_aviv.actors, ["blinken", "netanyahu"], "{tel_aviv:#?}");
    let resolved: Vec<_> = tel_aviv.mentions.iter().filter(|m| m.resolved).collect();
    assert!(
        !resolved.is_empty()
            && resolved
                .iter()
                .all(|m| m.actor == "blinken" && m.how == Some("pronoun")),
        "{resolved:?}"
    );
    let consult = tel_aviv
        .interactions
        .iter()
        .find(|i| i.event_type == PloverType::Consult && i.target == ["netanyahu"])
        .expect("a consult interaction with Netanyahu as target");
    assert_eq!(consult.source, ["blinken"], "{consult:?}");
    assert_eq!(
        tel_aviv.event_type,
        Some(PloverType::Consult),
        "{tel_aviv:#?}"
    );
    assert_eq!(tel_aviv.source, ["blinken"], "{tel_aviv:#?}");
    assert_eq!(tel_aviv.target, ["netanyahu"], "{tel_aviv:#?}");
    assert_eq!(tel_aviv.date, Some(d("2023-11-11")), "the day before");
    assert_eq!(
        tel_aviv.location.as_ref().map(|l| l.name.as_str()),
        Some("Tel Aviv")
    );

    // The Amman sentence: Blinken is the source of a meeting.
    assert_eq!(amman.source, ["blinken"]);
    assert_eq!(amman.mode, Some("meet"));

    // The planned meeting with King Abdullah II is planned, with Blinken as source.
    let planned = x
        .events
        .iter()
        .find(|e| e.actors.iter().any(|a| a == "abdullah-ii"))
        .expect("the King Abdullah sentence");
    assert_eq!(
        planned.status,
        parley::extract::Status::Planned,
        "{planned:#?}"
    );
    assert_eq!(planned.source, ["blinken"], "{planned:#?}");
    assert_eq!(planned.target, ["abdullah-ii"], "{planned:#?}");

    // Mikati and Qatar's foreign minister are the targets of Blinken's mission.
    let mission = x
        .events
        .iter()
        .find(|e| e.actors.iter().any(|a| a == "mikati"))
        .expect("the Mikati sentence");
    assert_eq!(mission.source, ["blinken"], "{mission:#?}");
    assert_eq!(mission.target, ["mikati", "qatar-fm"], "{mission:#?}");
}
