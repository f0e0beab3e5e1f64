//! Integration tests of the event log on a real sled directory.

use std::collections::BTreeSet;
use std::sync::Mutex;

use chrono::{DateTime, Duration, TimeZone, Utc};
use parley::events::{
    Alert, ArticleIngested, Event, EventExtracted, Evidence, NewEvent, NotificationDelivered,
    NotificationFailed, actor_key, stable_id,
};
use parley::feed::Validators;
use parley::plover::PloverType;
use parley::store::{Appended, FeedState, Store, StoreError};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

fn article(n: usize) -> NewEvent {
    let article_id = stable_id("art", &["http://feed.test/rss", &n.to_string()]);
    NewEvent {
        event_id: article_id.clone(),
        occurred_at: t0() + Duration::minutes(n as i64),
        event: Event::ArticleIngested(ArticleIngested {
            article_id,
            feed: "wire".into(),
            feed_url: "http://feed.test/rss".into(),
            guid: Some(format!("guid-{n}")),
            url: Some(format!("http://feed.test/a/{n}")),
            title: format!("Story {n}"),
            published: Some(t0()),
            text: "Lorem ipsum dolor sit amet. ".repeat(4),
            full_text_sha256: None,
        }),
    }
}

fn extracted(article_n: usize, sentence: usize, actors: &[&str]) -> NewEvent {
    let article_id = stable_id("art", &["http://feed.test/rss", &article_n.to_string()]);
    NewEvent {
        event_id: stable_id("evt", &[&article_id, &sentence.to_string()]),
        occurred_at: t0() + Duration::minutes(article_n as i64),
        event: Event::EventExtracted(EventExtracted {
            article_id,
            sentence_index: sentence,
            actors: actors.iter().map(|s| s.to_string()).collect(),
            event_type: Some(PloverType::Consult),
            trigger: Some("met".into()),
            sentence: "A sentence.".into(),
            ..Default::default()
        }),
    }
}

fn alert(rule: &str, actors: &[&str], at: DateTime<Utc>, notify: &[&str]) -> NewEvent {
    let actors: Vec<String> = actors.iter().map(|s| s.to_string()).collect();
    let alert_id = stable_id("alert", &[rule, &actor_key(&actors), &at.to_rfc3339()]);
    NewEvent {
        event_id: alert_id.clone(),
        occurred_at: at,
        event: Event::AlertRaised(Alert {
            alert_id,
            rule: rule.into(),
            actor_names: actors.iter().map(|a| a.to_uppercase()).collect(),
            actors,
            event_type: Some(PloverType::Consult),
            scope: "sentence".into(),
            raised_at: at,
            evidence: vec![Evidence {
                article_id: "art-x".into(),
                title: "Story".into(),
                url: None,
                feed: "wire".into(),
                published: None,
                sentence: "A sentence.".into(),
                ..Default::default()
            }],
            notify: notify.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }),
    }
}

fn failed(
    alert_id: &str,
    notifier: &str,
    attempt: u32,
    at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
) -> NewEvent {
    NewEvent {
        event_id: stable_id("fail", &[alert_id, notifier, &attempt.to_string()]),
        occurred_at: at,
        event: Event::NotificationFailed(NotificationFailed {
            alert_id: alert_id.into(),
            notifier: notifier.into(),
            attempt,
            error: "HTTP 503".into(),
            next_attempt_at: next,
            gave_up: next.is_none(),
        }),
    }
}

fn delivered(alert_id: &str, notifier: &str, attempt: u32, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        event_id: stable_id("done", &[alert_id, notifier]),
        occurred_at: at,
        event: Event::NotificationDelivered(NotificationDelivered {
            alert_id: alert_id.into(),
            notifier: notifier.into(),
            attempt,
        }),
    }
}

/// A realistic mixed sequence: articles, extractions, alerts, and their deliveries.
fn mixed_events() -> Vec<NewEvent> {
    let a1 = alert(
        "meet",
        &["usa", "chn"],
        t0() + Duration::minutes(1),
        &["desk", "hook"],
    );
    let a2 = alert(
        "meet",
        &["chn", "usa"],
        t0() + Duration::minutes(5),
        &["desk"],
    );
    let a3 = alert(
        "accuse",
        &["rus", "ukr"],
        t0() + Duration::minutes(6),
        &["hook"],
    );
    let (id1, id3) = (a1.event_id.clone(), a3.event_id.clone());
    vec![
        article(1),
        extracted(1, 0, &["chn", "usa"]),
        extracted(1, 3, &["usa"]),
        a1,
        article(2),
        extracted(2, 1, &["rus", "ukr"]),
        failed(
            &id1,
            "desk",
            1,
            t0() + Duration::minutes(2),
            Some(t0() + Duration::minutes(4)),
        ),
        delivered(&id1, "hook", 1, t0() + Duration::minutes(2)),
        a2,
        a3,
        failed(&id1, "desk", 2, t0() + Duration::minutes(4), None),
        failed(
            &id3,
            "hook",
            1,
            t0() + Duration::minutes(7),
            Some(t0() + Duration::minutes(9)),
        ),
        article(3),
        extracted(3, 0, &["chn", "rus", "usa"]),
    ]
}

fn new_seqs(results: &[Appended]) -> Vec<u64> {
    results
        .iter()
        .map(|r| match r {
            Appended::New(s) => *s,
            Appended::Duplicate(s) => panic!("unexpected duplicate at {s}"),
        })
        .collect()
}

#[tokio::test]
async fn seqs_start_at_one_and_have_no_gaps() {
    // The log's positions are what readers resume from; a gap or a 0 would break that.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.last_seq().unwrap(), 0);
    let first = store
        .append(vec![article(1), article(2), article(3)])
        .await
        .unwrap();
    assert_eq!(new_seqs(&first), vec![1, 2, 3]);
    let second = store.append(vec![article(4)]).await.unwrap();
    assert_eq!(new_seqs(&second), vec![4]);
    assert_eq!(store.last_seq().unwrap(), 4);
    let env = store.get_seq(1).unwrap().unwrap();
    assert_eq!(env.event_id, article(1).event_id);
    assert_eq!(env.seq, 1);
    assert!(store.get_seq(0).unwrap().is_none());
    assert!(store.get_seq(5).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_get_unique_gap_free_seqs() {
    // Many writers share one appender; group commit must still hand out 1..=N exactly once.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut tasks = Vec::new();
    for task in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..10 {
                let r = store
                    .append(vec![article(1000 + task * 10 + i)])
                    .await
                    .unwrap();
                seqs.extend(new_seqs(&r));
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
    assert_eq!(store.last_seq().unwrap(), 200);
    let ids: BTreeSet<String> = store.iter_from(1).map(|e| e.unwrap().event_id).collect();
    assert_eq!(ids.len(), 200);
}

#[tokio::test]
async fn duplicate_across_requests_is_a_no_op() {
    // Re-polling a feed re-appends the same ids; the log must not grow or change.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = alert("meet", &["chn", "usa"], t0(), &["desk"]);
    store.append(vec![article(1), a.clone()]).await.unwrap();
    let before_env = store.get(&a.event_id).unwrap().unwrap();
    let before_snap = store.projection_snapshot().unwrap();
    let again = store.append(vec![a.clone()]).await.unwrap();
    assert_eq!(again, vec![Appended::Duplicate(2)]);
    assert_eq!(store.last_seq().unwrap(), 2);
    assert_eq!(store.get(&a.event_id).unwrap().unwrap(), before_env);
    assert_eq!(store.projection_snapshot().unwrap(), before_snap);
}

#[tokio::test]
async fn duplicate_within_one_request_is_a_no_op() {
    // A batch that names an id twice must keep the first and report the second as Duplicate.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let r = store
        .append(vec![article(1), article(2), article(1)])
        .await
        .unwrap();
    assert_eq!(
        r,
        vec![Appended::New(1), Appended::New(2), Appended::Duplicate(1)]
    );
    assert_eq!(store.last_seq().unwrap(), 2);
    assert_eq!(store.iter_from(1).count(), 2);
    assert!(store.contains(&article(1).event_id).unwrap());
    assert!(!store.contains(&article(3).event_id).unwrap());
}

#[tokio::test]
async fn reopen_after_drop_keeps_events_seqs_and_projections() {
    // A restart must resume exactly where the log ended, projections included.
    let dir = tempfile::tempdir().unwrap();
    let events = mixed_events();
    let (snapshot, last) = {
        let store = Store::open(dir.path()).unwrap();
        store.append(events.clone()).await.unwrap();
        (
            store.projection_snapshot().unwrap(),
            store.last_seq().unwrap(),
        )
    };
    assert_eq!(last, events.len() as u64);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.last_seq().unwrap(), last);
    assert_eq!(store.projection_snapshot().unwrap(), snapshot);
    assert_eq!(store.actor_event_seqs("usa").unwrap(), vec![2, 3, 14]);
    for (i, ev) in events.iter().enumerate() {
        let env = store.get(&ev.event_id).unwrap().unwrap();
        assert_eq!(env.seq, i as u64 + 1);
        assert_eq!(env.event, ev.event);
    }
    let next = store.append(vec![article(99)]).await.unwrap();
    assert_eq!(next, vec![Appended::New(last + 1)]);
}

#[tokio::test]
async fn shutdown_closes_and_reopen_continues() {
    // Shutdown must answer queued work, refuse later work, and leave a reopenable store.
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        // `biased` polls the append first, so it is queued ahead of the shutdown.
        let (appended, shut) = tokio::join!(
            biased;
            store.append(vec![article(1), article(2)]),
            store.shutdown()
        );
        assert_eq!(new_seqs(&appended.unwrap()), vec![1, 2]);
        shut.unwrap();
        assert!(matches!(
            store.append(vec![article(3)]).await,
            Err(StoreError::Closed)
        ));
        assert!(matches!(
            store.put_feed_state("f", &FeedState::default()).await,
            Err(StoreError::Closed)
        ));
        assert!(matches!(store.shutdown().await, Err(StoreError::Closed)));
        // Reads still work on a shut-down handle.
        assert_eq!(store.last_seq().unwrap(), 2);
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.last_seq().unwrap(), 2);
    let r = store.append(vec![article(3)]).await.unwrap();
    assert_eq!(r, vec![Appended::New(3)]);
}

#[tokio::test]
async fn actor_index_lists_extracted_seqs() {
    // Alert rules look up an actor's events through this index, not by scanning the log.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .append(vec![
            article(1),
            extracted(1, 0, &["chn", "usa"]),
            extracted(1, 1, &["fra"]),
            extracted(1, 2, &["usa"]),
        ])
        .await
        .unwrap();
    assert_eq!(store.actor_event_seqs("usa").unwrap(), vec![2, 4]);
    assert_eq!(store.actor_event_seqs("chn").unwrap(), vec![2]);
    assert_eq!(store.actor_event_seqs("fra").unwrap(), vec![3]);
    assert!(store.actor_event_seqs("us").unwrap().is_empty());
    assert!(store.actor_event_seqs("deu").unwrap().is_empty());
}

#[tokio::test]
async fn last_alert_keeps_the_latest_per_rule_and_actor_set() {
    // Cooldowns read this; the actor order in the alert must not matter.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let key = actor_key(&["chn".to_string(), "usa".to_string()]);
    assert_eq!(store.last_alert("meet", &key).unwrap(), None);
    let later = t0() + Duration::hours(2);
    store
        .append(vec![
            alert("meet", &["usa", "chn"], later, &[]),
            alert("meet", &["chn", "usa"], t0(), &[]),
            alert("accuse", &["chn", "usa"], t0() + Duration::hours(5), &[]),
        ])
        .await
        .unwrap();
    assert_eq!(store.last_alert("meet", &key).unwrap(), Some(later));
    assert_eq!(
        store.last_alert("accuse", &key).unwrap(),
        Some(t0() + Duration::hours(5))
    );
    assert_eq!(store.last_alert("meet", "chn").unwrap(), None);
}

#[tokio::test]
async fn outbox_follows_failures_and_deliveries() {
    // The relay's work list: one entry per notifier until delivered or given up.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let raised_at = t0();
    let a = alert("meet", &["chn", "usa"], raised_at, &["hook", "desk"]);
    let id = a.event_id.clone();
    store.append(vec![a]).await.unwrap();

    let pending = store.outbox_pending().unwrap();
    assert_eq!(pending.len(), 2);
    assert!(
        pending
            .iter()
            .all(|e| e.alert_id == id && e.attempts == 0 && e.next_attempt_at == raised_at)
    );
    // The relay loads the alert by the entry's alert_id.
    let loaded = store.get(&pending[0].alert_id).unwrap().unwrap();
    assert_eq!(loaded.event.kind(), "alert.raised");

    let retry_at = t0() + Duration::minutes(10);
    store
        .append(vec![failed(
            &id,
            "desk",
            1,
            t0() + Duration::minutes(1),
            Some(retry_at),
        )])
        .await
        .unwrap();
    let pending = store.outbox_pending().unwrap();
    assert_eq!(pending.len(), 2);
    // Oldest first: hook is still due at raised_at, desk at retry_at.
    assert_eq!(pending[0].notifier, "hook");
    assert_eq!(
        (
            pending[1].notifier.as_str(),
            pending[1].attempts,
            pending[1].next_attempt_at
        ),
        ("desk", 1, retry_at)
    );

    store
        .append(vec![failed(&id, "desk", 2, retry_at, None)])
        .await
        .unwrap();
    let pending = store.outbox_pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].notifier, "hook");

    store
        .append(vec![delivered(
            &id,
            "hook",
            1,
            t0() + Duration::minutes(11),
        )])
        .await
        .unwrap();
    assert!(store.outbox_pending().unwrap().is_empty());
}

#[tokio::test]
async fn replay_rebuilds_the_same_projections() {
    // Projections are folds of the log: rebuilding them, or feeding a fresh store the same
    // events, must give byte-identical state.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let events = mixed_events();
    // Append in several requests, as live ingest does.
    for chunk in events.chunks(3) {
        store.append(chunk.to_vec()).await.unwrap();
    }
    let live = store.projection_snapshot().unwrap();
    assert!(!live.is_empty());

    let calls = Mutex::new(Vec::new());
    let stats = store
        .replay(&|done, total| calls.lock().unwrap().push((done, total)))
        .await
        .unwrap();
    let n = events.len() as u64;
    assert_eq!(stats.events, n);
    assert_eq!(calls.lock().unwrap().last(), Some(&(n, n)));
    assert_eq!(store.projection_snapshot().unwrap(), live);
    // The store still appends normally after a replay.
    assert_eq!(
        store.append(vec![article(50)]).await.unwrap(),
        vec![Appended::New(n + 1)]
    );

    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = Store::open(fresh_dir.path()).unwrap();
    fresh.append(events.clone()).await.unwrap();
    fresh.append(vec![article(50)]).await.unwrap();
    // Both logs now end with article 50 (whose report facts feed the event clusters).
    assert_eq!(
        fresh.projection_snapshot().unwrap(),
        store.projection_snapshot().unwrap()
    );
    // The expected live state: a1's desk entry gave up, hook delivered; a2 desk and a3 hook
    // (rescheduled) pending.
    let pending = store.outbox_pending().unwrap();
    let summary: Vec<(&str, u32)> = pending
        .iter()
        .map(|e| (e.notifier.as_str(), e.attempts))
        .collect();
    assert_eq!(summary, vec![("desk", 0), ("hook", 1)]);
}

#[tokio::test]
async fn second_open_is_locked() {
    // Two daemons on one log would break the single-writer invariant.
    let dir = tempfile::tempdir().unwrap();
    let _store = Store::open(dir.path()).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert_eq!(path, dir.path().display().to_string()),
        other => panic!("expected Locked, got {other:?}"),
    }
}

#[tokio::test]
async fn feed_state_round_trips_and_persists() {
    // Conditional GET validators must survive restarts or every poll refetches everything.
    let dir = tempfile::tempdir().unwrap();
    let state = FeedState {
        validators: Validators {
            etag: Some("\"abc\"".into()),
            last_modified: Some("Sat, 01 Mar 2025 09:00:00 GMT".into()),
        },
        last_success: Some(t0()),
        last_error: Some("timeout".into()),
        consecutive_failures: 2,
        items_seen: 41,
        ..FeedState::default()
    };
    {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.feed_state("http://feed.test/rss").unwrap(), None);
        store
            .put_feed_state("http://feed.test/rss", &state)
            .await
            .unwrap();
        assert_eq!(
            store.feed_state("http://feed.test/rss").unwrap(),
            Some(state.clone())
        );
        assert_eq!(store.feed_state("http://other.test/").unwrap(), None);
        // Feed state is not part of the projections.
        assert!(store.projection_snapshot().unwrap().is_empty());
        store.shutdown().await.unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.feed_state("http://feed.test/rss").unwrap(),
        Some(state)
    );
}

#[tokio::test]
async fn feed_state_persists_after_plain_drop() {
    // Dropping the last handle must flush writes that no append flushed.
    let dir = tempfile::tempdir().unwrap();
    let state = FeedState {
        items_seen: 7,
        ..FeedState::default()
    };
    {
        let store = Store::open(dir.path()).unwrap();
        store.put_feed_state("k", &state).await.unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.feed_state("k").unwrap(), Some(state));
}

#[tokio::test]
async fn iter_from_yields_events_in_seq_order() {
    // `parley events --from` and resuming readers rely on ascending order from a given seq.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // More than 255 events so that multi-byte seqs are crossed.
    let events: Vec<NewEvent> = (0..300).map(article).collect();
    store.append(events.clone()).await.unwrap();
    let seqs: Vec<u64> = store.iter_from(250).map(|e| e.unwrap().seq).collect();
    assert_eq!(seqs, (250..=300).collect::<Vec<u64>>());
    let all: Vec<_> = store.iter_from(0).map(|e| e.unwrap()).collect();
    assert_eq!(all.len(), 300);
    for (i, env) in all.iter().enumerate() {
        assert_eq!(env.seq, i as u64 + 1);
        assert_eq!(env.event_id, events[i].event_id);
    }
    assert_eq!(store.iter_from(301).count(), 0);
}
