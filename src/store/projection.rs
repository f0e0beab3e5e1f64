//! The projections as a pure fold: (current projection state, one envelope) → writes.
//!
//! Projections are derived data: everything here must be recomputable from the log alone, so
//! `replay` can rebuild them after a code change and a fresh store fed the same events ends
//! in the same state. Keeping the fold free of sled (it sees state through [`ProjectionRead`]
//! and returns [`Op`]s) lets the appender put its output in the event's own atomic batch and
//! lets the tests below check it on a plain map.

use chrono::{DateTime, Utc};

use super::RuleRecord;
use super::StoreError;
use super::codec::{decode, encode};
use super::fold::{Op, ProjectionRead};
use super::keys;
use super::outbox::{AlertGroup, DeadLetter, NotifierState, OutboxRecord};
use crate::events::{Envelope, Event, actor_key};

/// Bump when the fold or the projection encoding changes: `Store::open` rebuilds the
/// projections when the stored version differs.
/// Version 2 added silences, dead letters, acknowledgements and rule definitions.
/// Version 3 added alert groups on outbox entries, per-group and per-notifier delivery times.
/// Version 4 added event clusters (`pp`, `ph`, `pc`, `pe`).
/// Version 5 added superseded extractions (`px`), which leave the actor index.
/// Version 6 stores values packed (`codec`: tagged, zstd) instead of bare JSON.
/// Version 7 added the kind and actor postings (`pi`, `pw`; `index.rs`); the actor postings
/// replace the actor index (`pa`).
pub(crate) const VERSION: u32 = 7;

/// The writes that folding `env` into the projections produces.
pub(crate) fn fold(state: &impl ProjectionRead, env: &Envelope) -> Result<Vec<Op>, StoreError> {
    let mut ops = super::index::postings(env);
    match &env.event {
        Event::ArticleIngested(article) => {
            ops.extend(super::stories::on_article(state, article)?);
        }
        Event::EventExtracted(extracted) => {
            // Its actor postings (written above) are the per-actor index.
            ops.extend(super::stories::on_extracted(state, env, extracted)?);
        }
        Event::AlertRaised(alert) => {
            // Alert state: keep the latest occurred_at per (rule, actor set).
            let key = keys::alert_state(&alert.rule, &actor_key(&alert.actors));
            let newer = match state.get(&key)? {
                Some(old) => decode::<DateTime<Utc>>(&key, &old)? < env.occurred_at,
                None => true,
            };
            if newer {
                let value = encode(&key, &env.occurred_at)?;
                ops.push(Op::Put(key, value));
            }
            // Outbox: one pending entry per notifier. The event id is the alert id the relay
            // loads with `get`, so it (not the payload copy) keys the entry.
            for notifier in &alert.notify {
                let key = keys::outbox(&env.event_id, notifier);
                let record = OutboxRecord {
                    alert_id: env.event_id.clone(),
                    notifier: notifier.clone(),
                    attempts: 0,
                    next_attempt_at: env.occurred_at,
                    seq: env.seq,
                    queued_at: Some(env.occurred_at),
                    group: Some(AlertGroup {
                        rule: alert.rule.clone(),
                        actors: actor_key(&alert.actors),
                    }),
                };
                let value = encode(&key, &record)?;
                ops.push(Op::Put(key, value));
            }
        }
        Event::NotificationFailed(failed) => {
            notifier_state(state, &failed.notifier, env.occurred_at, false, &mut ops)?;
            let key = keys::outbox(&failed.alert_id, &failed.notifier);
            if failed.gave_up {
                // A given-up entry becomes a dead letter (`alerts --failed`), unless it was
                // already finished: a late failure must not resurrect it.
                if let Some(old) = state.get(&key)? {
                    let record: OutboxRecord = decode(&key, &old)?;
                    let dkey = keys::dead(&failed.alert_id, &failed.notifier);
                    let dead = DeadLetter {
                        alert_id: failed.alert_id.clone(),
                        notifier: failed.notifier.clone(),
                        attempts: failed.attempt.max(record.attempts),
                        error: failed.error.clone(),
                        failed_at: env.occurred_at,
                        group: record.group.clone(),
                    };
                    let value = encode(&dkey, &dead)?;
                    ops.push(Op::Put(dkey, value));
                }
                ops.push(Op::Delete(key));
            } else if let Some(old) = state.get(&key)? {
                // Only entries an alert.raised created are tracked: a failure reported for a
                // delivered or given-up entry must not resurrect it.
                let mut record: OutboxRecord = decode(&key, &old)?;
                record.attempts = failed.attempt;
                // A non-final failure without a time is a writer slip; retry from its time.
                record.next_attempt_at = failed.next_attempt_at.unwrap_or(env.occurred_at);
                record.seq = env.seq;
                let value = encode(&key, &record)?;
                ops.push(Op::Put(key, value));
            }
        }
        Event::NotificationDelivered(delivered) => {
            notifier_state(state, &delivered.notifier, env.occurred_at, true, &mut ops)?;
            // Repeat state: when this notifier last told anyone about the alert's group.
            let okey = keys::outbox(&delivered.alert_id, &delivered.notifier);
            if let Some(old) = state.get(&okey)? {
                let record: OutboxRecord = decode(&okey, &old)?;
                if let Some(group) = record.group {
                    let key = keys::notified(&delivered.notifier, &group.rule, &group.actors);
                    let value = encode(&key, &env.occurred_at)?;
                    ops.push(Op::Put(key, value));
                }
            }
            ops.push(Op::Delete(keys::outbox(
                &delivered.alert_id,
                &delivered.notifier,
            )));
            ops.push(Op::Delete(keys::dead(
                &delivered.alert_id,
                &delivered.notifier,
            )));
        }
        Event::NotificationRetried(retried) => {
            // Only a dead letter goes back into the outbox, with a fresh attempt count.
            let dkey = keys::dead(&retried.alert_id, &retried.notifier);
            if let Some(old) = state.get(&dkey)? {
                let dead: DeadLetter = decode(&dkey, &old)?;
                ops.push(Op::Delete(dkey));
                let key = keys::outbox(&retried.alert_id, &retried.notifier);
                let record = OutboxRecord {
                    alert_id: retried.alert_id.clone(),
                    notifier: retried.notifier.clone(),
                    attempts: 0,
                    next_attempt_at: env.occurred_at,
                    seq: env.seq,
                    queued_at: Some(env.occurred_at),
                    group: dead.group,
                };
                let value = encode(&key, &record)?;
                ops.push(Op::Put(key, value));
            }
        }
        Event::SilenceAdded(silence) => {
            let key = keys::silence(&silence.silence_id);
            let value = encode(&key, silence)?;
            ops.push(Op::Put(key, value));
        }
        Event::SilenceExpired(expired) => {
            ops.push(Op::Delete(keys::silence(&expired.silence_id)));
        }
        Event::AlertAcked(acked) => {
            let key = keys::ack(&acked.alert_id);
            let value = encode(&key, &env.occurred_at)?;
            ops.push(Op::Put(key, value));
        }
        Event::ExtractionSuperseded(sup) => {
            // The replaced records leave the actor postings (the per-actor index; their
            // kind posting stays) and are marked, so `events` hides them. The fold reads them back from the log, which is immutable, so a replay
            // does the same.
            for id in &sup.event_ids {
                let id_key = keys::id(id);
                let Some(seq) = state.get(&id_key)?.as_deref().and_then(keys::be_u64) else {
                    continue;
                };
                let ekey = keys::event(seq);
                let Some(raw) = state.get(&ekey)? else {
                    continue;
                };
                let old: Envelope = decode(&ekey, &raw)?;
                let Event::EventExtracted(e) = &old.event else {
                    continue;
                };
                if e.article_id != sup.article_id {
                    continue;
                }
                ops.extend(
                    super::index::actor_postings(&old)
                        .into_iter()
                        .map(Op::Delete),
                );
                ops.push(Op::Put(keys::superseded(id), Vec::new()));
                // Each record's cluster writes read the state before this envelope, so
                // records of one event in the same cluster are applied one at a time.
                let cluster_ops = super::stories::on_superseded(&Applied(state, &ops), id, e)?;
                ops.extend(cluster_ops);
            }
        }
        Event::RuleChanged(changed) => {
            let key = keys::rule(&changed.rule);
            let record = RuleRecord {
                hash: changed.hash.clone(),
                seq: env.seq,
                changed_at: env.occurred_at,
            };
            let value = encode(&key, &record)?;
            ops.push(Op::Put(key, value));
        }
        // The record of a watchlist edit; no projection reads it.
        Event::WatchlistChanged(_) => {}
    }
    Ok(ops)
}

/// The state with this fold pass's earlier ops applied on top (later ops win).
struct Applied<'a, S: ProjectionRead>(&'a S, &'a [Op]);

impl<S: ProjectionRead> ProjectionRead for Applied<'_, S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        for op in self.1.iter().rev() {
            match op {
                Op::Put(k, v) if k == key => return Ok(Some(v.clone())),
                Op::Delete(k) if k == key => return Ok(None),
                _ => {}
            }
        }
        self.0.get(key)
    }
}

/// Records an attempt (and, when `delivered`, a delivery) of `notifier` at `at`. Times only
/// move forward, so replaying events recorded out of order ends in the same state.
fn notifier_state(
    state: &impl ProjectionRead,
    notifier: &str,
    at: DateTime<Utc>,
    delivered: bool,
    ops: &mut Vec<Op>,
) -> Result<(), StoreError> {
    let key = keys::notifier(notifier);
    let mut current: NotifierState = match state.get(&key)? {
        Some(old) => decode(&key, &old)?,
        None => NotifierState::default(),
    };
    current.last_attempt = Some(current.last_attempt.map_or(at, |t| t.max(at)));
    if delivered {
        current.last_delivered = Some(current.last_delivered.map_or(at, |t| t.max(at)));
    }
    let value = encode(&key, &current)?;
    ops.push(Op::Put(key, value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;
    use crate::events::{
        Alert, ArticleIngested, EventExtracted, NotificationDelivered, NotificationFailed,
        SCHEMA_VERSION,
    };

    /// A plain in-memory projection state.
    #[derive(Default)]
    struct Map(BTreeMap<Vec<u8>, Vec<u8>>);

    impl ProjectionRead for Map {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.0.get(key).cloned())
        }
    }

    impl Map {
        fn apply(&mut self, env: &Envelope) {
            for op in fold(self, env).unwrap() {
                match op {
                    Op::Put(k, v) => {
                        self.0.insert(k, v);
                    }
                    Op::Delete(k) => {
                        self.0.remove(&k);
                    }
                }
            }
        }

        /// Keys other than the postings (one or more per event, `index.rs`).
        fn state_len(&self) -> usize {
            self.0
                .keys()
                .filter(|k| {
                    !(k.starts_with(&[keys::PROJECTION, keys::KIND_TIME])
                        || k.starts_with(&[keys::PROJECTION, keys::ACTOR_TIME]))
                })
                .count()
        }

        fn outbox(&self, alert: &str, notifier: &str) -> Option<OutboxRecord> {
            let key = keys::outbox(alert, notifier);
            self.0.get(&key).map(|v| decode(&key, v).unwrap())
        }
    }

    fn t(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, minute, 0).unwrap()
    }

    fn env(seq: u64, id: &str, at: DateTime<Utc>, event: Event) -> Envelope {
        Envelope {
            seq,
            event_id: id.into(),
            schema_version: SCHEMA_VERSION,
            occurred_at: at,
            recorded_at: at,
            event,
        }
    }

    fn raised(rule: &str, actors: &[&str], notify: &[&str]) -> Event {
        Event::AlertRaised(Alert {
            alert_id: "ignored-by-store".into(),
            rule: rule.into(),
            actors: actors.iter().map(|s| s.to_string()).collect(),
            actor_names: actors.iter().map(|s| s.to_uppercase()).collect(),
            event_type: None,
            scope: "sentence".into(),
            raised_at: t(0),
            evidence: vec![],
            notify: notify.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    }

    fn failed(
        alert: &str,
        notifier: &str,
        attempt: u32,
        next: Option<DateTime<Utc>>,
        gave_up: bool,
    ) -> Event {
        Event::NotificationFailed(NotificationFailed {
            alert_id: alert.into(),
            notifier: notifier.into(),
            attempt,
            error: "503".into(),
            next_attempt_at: next,
            gave_up,
        })
    }

    #[test]
    fn article_writes_only_its_report_facts_and_posting() {
        // Articles are in the log; their only projection entries are what event clusters need
        // (feed, host, sketch) and their kind posting. A stray write would break replay
        // equality.
        let mut m = Map::default();
        m.apply(&env(
            1,
            "art-1",
            t(0),
            Event::ArticleIngested(ArticleIngested {
                article_id: "art-1".into(),
                feed: "f".into(),
                feed_url: "http://f".into(),
                guid: None,
                url: None,
                title: "t".into(),
                published: None,
                text: "x".into(),
                full_text_sha256: None,
            }),
        ));
        assert_eq!(m.0.len(), 2);
        assert!(m.0.contains_key(&keys::report("art-1")));
        let code = keys::kind_code("article.ingested").unwrap();
        assert!(m.0.contains_key(&keys::posting(keys::kind_time_prefix(code), t(0), 1)));
    }

    #[test]
    fn extracted_indexes_each_actor() {
        // actor_event_seqs is served from one posting per (actor, seq).
        let mut m = Map::default();
        m.apply(&env(
            7,
            "ev-1",
            t(0),
            Event::EventExtracted(EventExtracted {
                article_id: "art-1".into(),
                sentence_index: 0,
                actors: vec!["fra".into(), "usa".into()],
                event_type: None,
                trigger: None,
                sentence: "s".into(),
                ..Default::default()
            }),
        ));
        // The postings: one under the kind, one per actor (`index.rs`).
        let code = keys::kind_code("event.extracted").unwrap();
        for prefix in [
            keys::kind_time_prefix(code),
            keys::actor_time_prefix("fra", code),
            keys::actor_time_prefix("usa", code),
        ] {
            assert!(m.0.contains_key(&keys::posting(prefix, t(0), 7)));
        }
        assert_eq!(m.0.len(), 3);
    }

    #[test]
    fn alert_state_keeps_latest() {
        // Cooldowns compare with the latest alert, even if events arrive out of time order.
        let mut m = Map::default();
        m.apply(&env(1, "a1", t(10), raised("r", &["usa", "fra"], &[])));
        m.apply(&env(2, "a2", t(5), raised("r", &["fra", "usa"], &[])));
        let key = keys::alert_state("r", "fra,usa");
        let at: DateTime<Utc> = decode(&key, &m.0[&key]).unwrap();
        assert_eq!(at, t(10));
        m.apply(&env(3, "a3", t(20), raised("r", &["fra", "usa"], &[])));
        let at: DateTime<Utc> = decode(&key, &m.0[&key]).unwrap();
        assert_eq!(at, t(20));
    }

    #[test]
    fn outbox_lifecycle() {
        // The relay's work list: raised adds per notifier, failures reschedule, final or
        // delivered removes, and a late failure never resurrects a finished entry.
        let mut m = Map::default();
        m.apply(&env(
            1,
            "alert-1",
            t(0),
            raised("r", &["a", "b"], &["desk", "hook"]),
        ));
        let rec = m.outbox("alert-1", "desk").unwrap();
        assert_eq!((rec.attempts, rec.next_attempt_at, rec.seq), (0, t(0), 1));
        assert_eq!(rec.alert_id, "alert-1");

        m.apply(&env(
            2,
            "f1",
            t(1),
            failed("alert-1", "desk", 1, Some(t(3)), false),
        ));
        let rec = m.outbox("alert-1", "desk").unwrap();
        assert_eq!((rec.attempts, rec.next_attempt_at, rec.seq), (1, t(3), 2));

        m.apply(&env(
            3,
            "f2",
            t(3),
            failed("alert-1", "desk", 2, None, true),
        ));
        assert!(m.outbox("alert-1", "desk").is_none());

        m.apply(&env(
            4,
            "d1",
            t(4),
            Event::NotificationDelivered(NotificationDelivered {
                alert_id: "alert-1".into(),
                notifier: "hook".into(),
                attempt: 1,
            }),
        ));
        assert!(m.outbox("alert-1", "hook").is_none());

        m.apply(&env(
            5,
            "f3",
            t(5),
            failed("alert-1", "hook", 2, Some(t(9)), false),
        ));
        assert!(m.outbox("alert-1", "hook").is_none());
        // The alert-state entry, desk's dead letter, hook's group-delivery time and both
        // notifiers' delivery state are left.
        assert!(m.0.contains_key(&keys::dead("alert-1", "desk")));
        assert!(m.0.contains_key(&keys::notified("hook", "r", "a,b")));
        assert!(!m.0.contains_key(&keys::notified("desk", "r", "a,b")));
        let hook: NotifierState =
            decode(&keys::notifier("hook"), &m.0[&keys::notifier("hook")]).unwrap();
        assert_eq!(
            (hook.last_delivered, hook.last_attempt),
            (Some(t(4)), Some(t(5)))
        );
        let desk: NotifierState =
            decode(&keys::notifier("desk"), &m.0[&keys::notifier("desk")]).unwrap();
        assert_eq!((desk.last_delivered, desk.last_attempt), (None, Some(t(3))));
        assert_eq!(m.state_len(), 5);
        // A retry puts the dead letter back into the outbox with a fresh count.
        m.apply(&env(
            6,
            "r1",
            t(6),
            Event::NotificationRetried(crate::events::NotificationRetried {
                alert_id: "alert-1".into(),
                notifier: "desk".into(),
            }),
        ));
        let rec = m.outbox("alert-1", "desk").unwrap();
        assert_eq!((rec.attempts, rec.next_attempt_at, rec.seq), (0, t(6), 6));
        assert_eq!(
            rec.group,
            Some(AlertGroup {
                rule: "r".into(),
                actors: "a,b".into()
            }),
            "a retried dead letter keeps its group"
        );
        assert!(!m.0.contains_key(&keys::dead("alert-1", "desk")));
    }

    #[test]
    fn corrupt_state_is_an_error() {
        // A damaged projection value must surface as Corrupt, never a panic.
        let mut m = Map::default();
        m.0.insert(
            keys::alert_state("r", "a"),
            super::super::codec::pack(b"not json"),
        );
        let err = fold(&m, &env(1, "x", t(0), raised("r", &["a"], &[]))).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }
}
