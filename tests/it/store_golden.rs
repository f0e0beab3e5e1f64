//! Golden tests: what `events --json`, the API and the webhook print for events that went
//! through the store. The store's on-disk encoding may change (issue 17: compact records);
//! these bytes may not. The golden file was written by the JSON-valued store (main at
//! 2bbd4a6) and is compared byte for byte.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use parley::events::{
    Alert, AlertAcked, ArticleIngested, Event, EventExtracted, Evidence, ExtractionSuperseded,
    MatchedMention, NewEvent, NotificationDelivered, NotificationFailed, NotificationRetried,
    RuleChanged, Severity, SilenceAdded, SilenceExpired,
};
use parley::plover::PloverType;
use parley::store::Store;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, minute, 7).unwrap()
}

/// One event of every kind, optional fields both set and left out, text with quotes,
/// non-ASCII and control characters (JSON escaping is part of the contract).
fn every_kind() -> Vec<NewEvent> {
    let text = "Blinken met Mikati in Beirut. \"Frank\" talks — naïve café, tab\there.\n".repeat(3);
    let ev = |id: &str, minute: u32, event: Event| NewEvent {
        event_id: id.into(),
        occurred_at: at(minute),
        event,
    };
    vec![
        ev(
            "art-1",
            0,
            Event::ArticleIngested(ArticleIngested {
                article_id: "art-1".into(),
                feed: "Wire".into(),
                feed_url: "http://feed.test/rss".into(),
                guid: Some("g-1".into()),
                url: Some("http://feed.test/a/1".into()),
                title: "Blinken in Beirut".into(),
                published: Some(at(0)),
                text: text.clone(),
                full_text_sha256: Some("ab".repeat(32)),
            }),
        ),
        ev(
            "art-2",
            1,
            Event::ArticleIngested(ArticleIngested {
                article_id: "art-2".into(),
                feed: "Wire".into(),
                feed_url: "http://feed.test/rss".into(),
                guid: None,
                url: None,
                title: "No link".into(),
                published: None,
                text: String::new(),
                full_text_sha256: None,
            }),
        ),
        ev(
            "evt-1",
            2,
            Event::EventExtracted(EventExtracted {
                article_id: "art-1".into(),
                sentence_index: 0,
                actors: vec!["blinken".into(), "mikati".into()],
                event_type: Some(PloverType::Consult),
                trigger: Some("met".into()),
                sentence: "Blinken met Mikati in Beirut.".into(),
                source: vec!["blinken".into()],
                target: vec!["mikati".into()],
                participants: vec![],
                status: Some("occurred".into()),
                mode: Some("meet".into()),
                date: NaiveDate::from_ymd_opt(2025, 3, 1),
            }),
        ),
        ev(
            "evt-2",
            3,
            Event::EventExtracted(EventExtracted {
                article_id: "art-1".into(),
                sentence_index: 1,
                actors: vec!["blinken".into()],
                event_type: None,
                trigger: None,
                sentence: "\"Frank\" talks — naïve café.".into(),
                ..Default::default()
            }),
        ),
        ev(
            "alert-1",
            4,
            Event::AlertRaised(Alert {
                alert_id: "alert-1".into(),
                rule: "meet".into(),
                actors: vec!["blinken".into(), "mikati".into()],
                actor_names: vec!["Antony Blinken".into(), "Najib Mikati".into()],
                event_type: Some(PloverType::Consult),
                scope: "sentence".into(),
                raised_at: at(4),
                evidence: vec![
                    Evidence {
                        article_id: "art-1".into(),
                        title: "Blinken in Beirut".into(),
                        url: Some("http://feed.test/a/1".into()),
                        feed: "Wire".into(),
                        published: Some(at(0)),
                        sentence: "Blinken met Mikati in Beirut.".into(),
                        mentions: vec![MatchedMention {
                            actor: "blinken".into(),
                            text: "Blinken".into(),
                            via_role: false,
                        }],
                    },
                    Evidence {
                        article_id: "art-2".into(),
                        title: "No link".into(),
                        sentence: "Secretary of State met him.".into(),
                        ..Default::default()
                    },
                ],
                notify: vec!["desk".into(), "hook".into()],
                severity: Severity::Critical,
                sources: vec!["feed.test".into()],
                silenced_by: Some("sil-1".into()),
                backfill: true,
            }),
        ),
        ev(
            "alert-2",
            5,
            Event::AlertRaised(Alert {
                alert_id: "alert-2".into(),
                rule: "any".into(),
                actors: vec!["a".into(), "b".into()],
                actor_names: vec!["A".into(), "B".into()],
                event_type: None,
                scope: "article".into(),
                raised_at: at(5),
                evidence: vec![],
                notify: vec![],
                ..Default::default()
            }),
        ),
        ev(
            "del-1",
            6,
            Event::NotificationDelivered(NotificationDelivered {
                alert_id: "alert-1".into(),
                notifier: "desk".into(),
                attempt: 1,
            }),
        ),
        ev(
            "fail-1",
            7,
            Event::NotificationFailed(NotificationFailed {
                alert_id: "alert-1".into(),
                notifier: "hook".into(),
                attempt: 1,
                error: "HTTP 503 \"busy\"".into(),
                next_attempt_at: Some(at(9)),
                gave_up: false,
            }),
        ),
        ev(
            "fail-2",
            8,
            Event::NotificationFailed(NotificationFailed {
                alert_id: "alert-1".into(),
                notifier: "hook".into(),
                attempt: 2,
                error: "gone".into(),
                next_attempt_at: None,
                gave_up: true,
            }),
        ),
        ev(
            "retry-1",
            9,
            Event::NotificationRetried(NotificationRetried {
                alert_id: "alert-1".into(),
                notifier: "hook".into(),
            }),
        ),
        ev(
            "sil-1",
            10,
            Event::SilenceAdded(SilenceAdded {
                silence_id: "sil-1".into(),
                rule: "meet".into(),
                actors: vec!["mikati".into()],
                until: at(59),
                reason: "known story".into(),
            }),
        ),
        ev(
            "silx-1",
            11,
            Event::SilenceExpired(SilenceExpired {
                silence_id: "sil-1".into(),
            }),
        ),
        ev(
            "ack-1",
            12,
            Event::AlertAcked(AlertAcked {
                alert_id: "alert-1".into(),
            }),
        ),
        ev(
            "rule-1",
            13,
            Event::RuleChanged(RuleChanged {
                rule: "meet".into(),
                hash: "h1".into(),
            }),
        ),
        ev(
            "sup-1",
            14,
            Event::ExtractionSuperseded(ExtractionSuperseded {
                article_id: "art-1".into(),
                event_ids: vec!["evt-2".into()],
            }),
        ),
    ]
}

/// The JSON lines `events --json` prints (one envelope per line) with the one field the
/// store sets from the clock replaced by a placeholder, then the webhook bodies of the
/// alerts (`serde_json::to_vec(alert)`, what `notify` posts).
fn rendered(store: &Store) -> String {
    let mut out = String::new();
    for env in store.iter_from(1) {
        let env = env.unwrap();
        let recorded = serde_json::to_string(&env.recorded_at).unwrap();
        let line = serde_json::to_string(&env)
            .unwrap()
            .replacen(&recorded, "\"RECORDED\"", 1);
        out.push_str(&line);
        out.push('\n');
        // `get` by id is what the API and `alerts show` use.
        assert_eq!(store.get(&env.event_id).unwrap().as_ref(), Some(&env));
        if let Event::AlertRaised(alert) = &env.event {
            out.push_str(std::str::from_utf8(&serde_json::to_vec(alert).unwrap()).unwrap());
            out.push('\n');
        }
    }
    out
}

#[tokio::test]
async fn events_json_and_webhook_bodies_are_byte_identical_through_the_store() {
    // The store's record encoding is internal; the JSON users and receivers see is not.
    let dir = tempfile::tempdir().unwrap();
    let golden = include_str!("../golden/events.jsonl");
    {
        let store = Store::open(dir.path()).unwrap();
        store.append(every_kind()).await.unwrap();
        let got = rendered(&store);
        if std::env::var_os("GOLDEN_WRITE").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/events.jsonl"),
                &got,
            )
            .unwrap();
        }
        assert_eq!(got, golden);
    }
    // And after a reopen and a replay (records read back from disk, projections refolded).
    let store = Store::open(dir.path()).unwrap();
    store.replay(&|_, _| {}).await.unwrap();
    assert_eq!(rendered(&store), golden);
}
