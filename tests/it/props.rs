//! Properties (proptest): the alias matcher agrees with a naive reference, and replaying the
//! log rebuilds exactly the live projections, for random inputs.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use parley::events::{
    Alert, ArticleIngested, Event, NewEvent, NotificationDelivered, NotificationFailed,
};
use parley::extract::{ActorSpec, Document, Extractor};
use parley::store::Store;
use proptest::prelude::*;

/// Actor `i` draws its words from syllables starting with its own consonant, so aliases of
/// different actors never share a word and leftmost-longest matching cannot hide one behind
/// another; the naive reference is then exact.
const CONSONANTS: [char; 3] = ['b', 'd', 'g'];
const VOWELS: [char; 3] = ['a', 'e', 'o'];

fn word(actor: usize) -> impl Strategy<Value = String> {
    (0..3usize, 0..3usize).prop_map(move |(v1, v2)| {
        let c = CONSONANTS[actor];
        format!("{c}{}{c}{}", VOWELS[v1], VOWELS[v2])
    })
}

fn alias(actor: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(word(actor), 1..=2)
}

fn any_word() -> impl Strategy<Value = String> {
    prop_oneof![
        word(0),
        word(1),
        word(2),
        Just("zum".to_string()),
        Just("talks".to_string())
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn matcher_agrees_with_naive_word_search(
        aliases in (prop::collection::vec(alias(0), 1..3), prop::collection::vec(alias(1), 1..3), prop::collection::vec(alias(2), 1..3)),
        words in prop::collection::vec(any_word(), 0..30),
    ) {
        // The aho-corasick matcher must find an actor exactly when one of its aliases occurs
        // as whole consecutive words in the text.
        let all = [aliases.0, aliases.1, aliases.2];
        let actors: Vec<ActorSpec> = all
            .iter()
            .enumerate()
            .map(|(i, list)| ActorSpec {
                id: format!("actor-{i}"),
                name: format!("Actor {i}"),
                aliases: list.iter().map(|a| a.join(" ")).collect(),
                roles: Vec::new(),
            })
            .collect();
        let extractor = Extractor::new(&actors).unwrap();
        let text = format!("{}.", words.join(" "));
        let got: BTreeSet<String> = extractor
            .extract(&Document { title: "", text: &text, date: None })
            .actors
            .iter()
            .map(|a| a.to_string())
            .collect();
        let naive: BTreeSet<String> = all
            .iter()
            .enumerate()
            .filter(|(_, list)| list.iter().any(|a| words.windows(a.len()).any(|w| w == a.as_slice())))
            .map(|(i, _)| format!("actor-{i}"))
            .collect();
        prop_assert_eq!(got, naive, "text {:?}", text);
    }
}

#[derive(Debug, Clone)]
enum Step {
    Article(u8),
    Alert(u8, u8),
    Delivered(u8),
    Failed(u8, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..20u8).prop_map(Step::Article),
        (0..10u8, 0..3u8).prop_map(|(a, r)| Step::Alert(a, r)),
        (0..10u8).prop_map(Step::Delivered),
        (0..10u8, any::<bool>()).prop_map(|(a, g)| Step::Failed(a, g)),
    ]
}

fn to_event(i: usize, step: &Step) -> NewEvent {
    let at =
        Utc.with_ymd_and_hms(2023, 11, 12, 9, 0, 0).unwrap() + chrono::Duration::seconds(i as i64);
    let (event_id, event) = match step {
        Step::Article(n) => (
            format!("art-{n}"),
            Event::ArticleIngested(ArticleIngested {
                article_id: format!("art-{n}"),
                feed: "f".into(),
                feed_url: "http://127.0.0.1/f".into(),
                guid: Some(format!("g{n}")),
                url: None,
                title: format!("t{n}"),
                published: Some(at),
                text: "x".into(),
                full_text_sha256: None,
            }),
        ),
        Step::Alert(n, rule) => (
            format!("alert-{n}"),
            Event::AlertRaised(Alert {
                alert_id: format!("alert-{n}"),
                rule: format!("rule-{rule}"),
                actors: vec!["a".into(), format!("b{n}")],
                actor_names: vec!["A".into(), format!("B{n}")],
                event_type: None,
                scope: "sentence".into(),
                raised_at: at,
                evidence: Vec::new(),
                notify: vec!["hook".into()],
                ..Alert::default()
            }),
        ),
        Step::Delivered(n) => (
            format!("del-{n}-{i}"),
            Event::NotificationDelivered(NotificationDelivered {
                alert_id: format!("alert-{n}"),
                notifier: "hook".into(),
                attempt: 1,
            }),
        ),
        Step::Failed(n, gave_up) => (
            format!("fail-{n}-{i}"),
            Event::NotificationFailed(NotificationFailed {
                alert_id: format!("alert-{n}"),
                notifier: "hook".into(),
                attempt: 1,
                error: "503".into(),
                next_attempt_at: (!gave_up).then_some(at),
                gave_up: *gave_up,
            }),
        ),
    };
    NewEvent {
        event_id,
        occurred_at: at,
        event,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn replay_rebuilds_the_live_projections(
        batches in prop::collection::vec(prop::collection::vec(step(), 1..8), 1..6)
    ) {
        // Projections are pure folds: whatever was appended, in whatever batches, replaying
        // the log gives the same projection state as live operation did.
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (live, replayed) = runtime.block_on(async {
            let store = Store::open(dir.path()).unwrap();
            let mut i = 0;
            for batch in &batches {
                let events = batch.iter().map(|s| { i += 1; to_event(i, s) }).collect();
                store.append(events).await.unwrap();
            }
            let live = store.projection_snapshot().unwrap();
            store.replay(&|_, _| {}).await.unwrap();
            let replayed = store.projection_snapshot().unwrap();
            store.shutdown().await.unwrap();
            (live, replayed)
        });
        prop_assert_eq!(live, replayed);
    }
}
