//! The store end to end: appends, reopen, projection rebuilds, format conversion.

use std::path::Path;

use chrono::TimeZone;

use super::*;
use crate::events::{Alert, Envelope, Event, EventExtracted, NotificationFailed};

fn events() -> Vec<NewEvent> {
    let at = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
    vec![
        NewEvent {
            event_id: "evt-1".into(),
            occurred_at: at,
            event: Event::EventExtracted(EventExtracted {
                article_id: "art-1".into(),
                sentence_index: 0,
                actors: vec!["chn".into(), "usa".into()],
                event_type: None,
                trigger: None,
                sentence: "s".into(),
                ..Default::default()
            }),
        },
        NewEvent {
            event_id: "alert-1".into(),
            occurred_at: at,
            event: Event::AlertRaised(Alert {
                alert_id: "alert-1".into(),
                rule: "meet".into(),
                actors: vec!["chn".into(), "usa".into()],
                actor_names: vec!["China".into(), "USA".into()],
                event_type: None,
                scope: "sentence".into(),
                raised_at: at,
                evidence: vec![],
                notify: vec!["desk".into()],
                ..Default::default()
            }),
        },
        NewEvent {
            event_id: "fail-1".into(),
            occurred_at: at,
            event: Event::NotificationFailed(NotificationFailed {
                alert_id: "alert-1".into(),
                notifier: "desk".into(),
                attempt: 1,
                error: "503".into(),
                next_attempt_at: Some(at + chrono::Duration::minutes(5)),
                gave_up: false,
            }),
        },
    ]
}

/// Opens the raw sled tree of a closed store, as only this module may.
/// Opens the tree behind a store's back. No background flusher: its thread holds the
/// database (and its file lock) for a moment after the handle is dropped, which made the
/// reopen that follows race it and fail with `Locked`.
/// A raw sled handle on a store's folder. A `Store` just dropped has joined its appender,
/// but sled's own I/O threads may hold the file lock a moment longer (see
/// [`reopen_after_raw`]), so a refused open is retried (bounded); this test helper failed
/// once that way in a full `cargo test --lib`.
fn raw(dir: &Path) -> sled::Db {
    let open = || sled::Config::new().path(dir).flush_every_ms(None).open();
    for _ in 0..200 {
        if let Ok(db) = open() {
            return db;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    open().unwrap()
}

/// Reopens a store that a raw handle just used. sled's internal I/O threads keep the
/// file lock for a moment after a raw `Db` is dropped, and nothing observable says when
/// they let go; so a `Locked` here is retried (bounded). Any other error fails at once.
fn reopen_after_raw(dir: &Path) -> Store {
    for _ in 0..200 {
        match Store::open(dir) {
            Err(StoreError::Locked { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => return other.unwrap(),
        }
    }
    Store::open(dir).unwrap()
}

#[tokio::test]
async fn open_rebuilds_lost_projections() {
    // A checkpoint behind the log (crash mid-replay, lost keys) must be caught up at open.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = {
        let store = Store::open(dir.path()).unwrap();
        store.append(events()).await.unwrap();
        store.projection_snapshot().unwrap()
    };
    {
        let db = raw(dir.path());
        db.remove(keys::CHECKPOINT).unwrap();
        for k in db.scan_prefix([keys::PROJECTION]).keys() {
            db.remove(k.unwrap()).unwrap();
        }
        db.flush().unwrap();
    }
    let store = reopen_after_raw(dir.path());
    assert_eq!(store.projection_snapshot().unwrap(), snapshot);
    assert_eq!(store.outbox_pending().unwrap()[0].attempts, 1);
}

#[tokio::test]
async fn open_rebuilds_after_projection_version_change() {
    // A new projection build must not fold on top of keys an older build wrote.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = {
        let store = Store::open(dir.path()).unwrap();
        store.append(events()).await.unwrap();
        store.projection_snapshot().unwrap()
    };
    {
        let db = raw(dir.path());
        db.insert(keys::PROJECTION_VERSION, 0u32.to_be_bytes().to_vec())
            .unwrap();
        db.insert(b"pzold-layout", b"x".to_vec()).unwrap();
        db.flush().unwrap();
    }
    let store = reopen_after_raw(dir.path());
    assert_eq!(store.projection_snapshot().unwrap(), snapshot);
}

/// The format-1 encoder of parley before issue 17 (bare JSON, bare text), kept here to
/// build old stores without an old binary: writes the log, ids, a feed state, a text and
/// a projection the way `Store` wrote them then.
mod format1 {
    use super::*;

    pub(super) fn write(dir: &Path, events: Vec<NewEvent>) {
        let db = raw(dir);
        for (i, new) in events.into_iter().enumerate() {
            let seq = i as u64 + 1;
            let env = Envelope {
                seq,
                event_id: new.event_id.clone(),
                schema_version: crate::events::SCHEMA_VERSION,
                occurred_at: new.occurred_at,
                recorded_at: new.occurred_at,
                event: new.event,
            };
            db.insert(keys::event(seq), serde_json::to_vec(&env).unwrap())
                .unwrap();
            db.insert(keys::id(&new.event_id), seq.to_be_bytes().to_vec())
                .unwrap();
            db.insert(keys::CHECKPOINT, seq.to_be_bytes().to_vec())
                .unwrap();
        }
        let feed = FeedState {
            items_seen: 7,
            ..Default::default()
        };
        db.insert(keys::feed("f"), serde_json::to_vec(&feed).unwrap())
            .unwrap();
        db.insert(keys::text("abc"), "Plain text, café.".as_bytes().to_vec())
            .unwrap();
        db.insert(keys::url_text("http://x/1"), b"abc".to_vec())
            .unwrap();
        db.insert(
            keys::alert_state("meet", "chn,usa"),
            b"\"2025-03-01T09:00:00Z\"".to_vec(),
        )
        .unwrap();
        db.insert(keys::PROJECTION_VERSION, 5u32.to_be_bytes().to_vec())
            .unwrap();
        db.flush().unwrap();
    }
}

#[tokio::test]
async fn a_format1_store_is_converted_once_at_open() {
    // Issue 17: a store written before the compact format opens after the upgrade, reads
    // the same, and ends with every value packed and projections as a fresh store's.
    let old = tempfile::tempdir().unwrap();
    format1::write(old.path(), events());
    let fresh = tempfile::tempdir().unwrap();
    let expected = {
        let store = Store::open(fresh.path()).unwrap();
        store.append(events()).await.unwrap();
        store.projection_snapshot().unwrap()
    };
    {
        let store = reopen_after_raw(old.path());
        let got: Vec<Envelope> = store.iter_from(1).map(Result::unwrap).collect();
        assert_eq!(got.len(), 3);
        for (env, new) in got.iter().zip(events()) {
            assert_eq!((&env.event_id, &env.event), (&new.event_id, &new.event));
            assert_eq!(env.recorded_at, new.occurred_at, "stored fields kept");
        }
        assert_eq!(store.projection_snapshot().unwrap(), expected);
        assert_eq!(store.feed_state("f").unwrap().unwrap().items_seen, 7);
        assert_eq!(
            store.article_text_for_url("http://x/1").unwrap(),
            Some(("abc".into(), "Plain text, café.".into()))
        );
    }
    let db = raw(old.path());
    assert_eq!(
        db.get(keys::STORE_FORMAT).unwrap().as_deref(),
        Some(&migrate::FORMAT.to_be_bytes()[..])
    );
    for item in db.iter() {
        let (k, v) = item.unwrap();
        if [keys::EVENT, keys::FEED, keys::TEXT, keys::PROJECTION].contains(&k[0]) && !v.is_empty()
        {
            assert!(
                codec::is_packed(&v),
                "{} left unpacked",
                keys::printable(&k)
            );
        }
    }
}

#[tokio::test]
async fn compaction_keeps_every_record_and_stats_count_them() {
    // `parley store compact` rewrites the whole database: nothing may be lost or changed,
    // and `store stats` must see the log by event kind.
    let dir = tempfile::tempdir().unwrap();
    let (log, snapshot) = {
        let store = Store::open(dir.path()).unwrap();
        store.append(events()).await.unwrap();
        store.put_article_text("http://x/1", "Text.").await.unwrap();
        let stats = store.stats().unwrap();
        let kinds: Vec<&str> = stats.kinds.iter().map(|k| k.kind.as_str()).collect();
        for kind in ["log: event.extracted", "log: alert.raised", "article text"] {
            assert!(kinds.contains(&kind), "{kinds:?}");
        }
        assert_eq!(
            stats
                .kinds
                .iter()
                .filter(|k| k.kind.starts_with("log: "))
                .map(|k| k.records)
                .sum::<u64>(),
            3
        );
        let log: Vec<Envelope> = store.iter_from(1).map(Result::unwrap).collect();
        (log, store.projection_snapshot().unwrap())
    };
    compact(dir.path()).unwrap();
    {
        // Every metadata key survives, so the next open rebuilds nothing.
        let db = raw(dir.path());
        for key in [
            keys::PROJECTION_VERSION,
            keys::STORE_FORMAT,
            keys::CHECKPOINT,
        ] {
            assert!(db.contains_key(key).unwrap(), "{}", keys::printable(key));
        }
    }
    let store = reopen_after_raw(dir.path());
    let after: Vec<Envelope> = store.iter_from(1).map(Result::unwrap).collect();
    assert_eq!(after, log);
    assert_eq!(store.projection_snapshot().unwrap(), snapshot);
    assert_eq!(
        store
            .article_text_for_url("http://x/1")
            .unwrap()
            .map(|(_, t)| t),
        Some("Text.".into())
    );
    assert!(!dir.path().with_extension("compacting").exists());
}

#[tokio::test]
async fn corrupt_records_are_errors_not_panics() {
    // A damaged value must name its key so an operator can find it.
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.append(events()).await.unwrap();
    }
    {
        let db = raw(dir.path());
        db.insert(keys::event(2), b"{not json".to_vec()).unwrap();
        db.insert(keys::feed("f"), b"[]".to_vec()).unwrap();
        db.flush().unwrap();
    }
    let store = reopen_after_raw(dir.path());
    match store.get_seq(2) {
        Err(StoreError::Corrupt { key, .. }) => assert!(key.starts_with('e'), "{key}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let results: Vec<_> = store.iter_from(1).collect();
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(StoreError::Corrupt { .. })));
    assert!(matches!(
        store.feed_state("f"),
        Err(StoreError::Corrupt { .. })
    ));
    // Replay folds the log, so it reports the bad event instead of skipping it.
    assert!(matches!(
        store.replay(&|_, _| {}).await,
        Err(StoreError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn postings_find_kinds_actors_and_times_even_behind_the_log() {
    // The read side's `--kind`, `--actor` and `--since` come from the postings; while they
    // lag the log (checkpoint behind), the log's tail must still be found.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut later = events();
    for (i, e) in later.iter_mut().enumerate() {
        e.event_id = format!("late-{i}");
        e.occurred_at += chrono::Duration::days(2);
    }
    store.append(events()).await.unwrap();
    store.append(later).await.unwrap();
    let day2 = Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap();
    let check = |store: &Store| {
        assert_eq!(store.kind_seqs("event.extracted", None).unwrap(), [1, 4]);
        assert_eq!(store.kind_seqs("alert.raised", Some(day2)).unwrap(), [5]);
        assert_eq!(store.kind_seqs("silence.added", None).unwrap(), [0u64; 0]);
        assert_eq!(store.kind_seqs("nonsense", None).unwrap(), [0u64; 0]);
        assert_eq!(
            store.actor_kind_seqs("usa", "alert.raised", None).unwrap(),
            [2, 5]
        );
        assert_eq!(
            store
                .actor_kind_seqs("chn", "event.extracted", Some(day2))
                .unwrap(),
            [4]
        );
        assert_eq!(
            store
                .actor_kind_seqs("ch", "event.extracted", None)
                .unwrap(),
            [0u64; 0]
        );
        assert_eq!(
            store
                .actor_kind_seqs("usa", "notification.failed", None)
                .unwrap(),
            [0u64; 0]
        );
    };
    check(&store);
    // Postings of seqs 3.. lost and the checkpoint at 2, as after a failed projection write.
    let db = &store.inner.db;
    for k in db.scan_prefix([keys::PROJECTION, keys::KIND_TIME]).keys() {
        let k = k.unwrap();
        if keys::be_u64(&k[k.len() - 8..]).unwrap() > 2 {
            db.remove(k).unwrap();
        }
    }
    db.insert(keys::CHECKPOINT, 2u64.to_be_bytes().to_vec())
        .unwrap();
    check(&store);
}
