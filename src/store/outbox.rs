//! The delivery side of the projections: pending outbox entries, dead letters, alert groups
//! and each notifier's recent deliveries, as the relay and `parley alerts` read them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, codec, keys};

/// Stored form of an outbox entry. `seq` is the event that last wrote it, so readers can hide
/// entries whose event is not yet flushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OutboxRecord {
    /// The alert (= the `alert.raised` event id).
    pub alert_id: String,
    /// The notifier.
    pub notifier: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// Seq of the event that last wrote this record.
    pub seq: u64,
    /// When the entry was queued (alert raised, or dead letter retried): `max_age` counts
    /// from here. Absent in records written before projection version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<DateTime<Utc>>,
    /// The alert's group (rule, actor set); absent before projection version 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<AlertGroup>,
}

/// One pending outbox entry. The alert itself is `get(alert_id)`: an `alert.raised` event's
/// event_id is its alert_id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Alert to deliver.
    pub alert_id: String,
    /// Notifier to deliver it to.
    pub notifier: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// When it was queued (alert raised or dead letter retried); `max_age` counts from here.
    pub queued_at: DateTime<Utc>,
    /// The alert's group for `repeat_interval`: its rule and actor key. `None` for entries
    /// written before projection version 3 (a replay fills it in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<AlertGroup>,
}

impl From<OutboxRecord> for OutboxEntry {
    fn from(rec: OutboxRecord) -> OutboxEntry {
        OutboxEntry {
            alert_id: rec.alert_id,
            notifier: rec.notifier,
            attempts: rec.attempts,
            next_attempt_at: rec.next_attempt_at,
            queued_at: rec.queued_at.unwrap_or(rec.next_attempt_at),
            group: rec.group,
        }
    }
}

/// An alert group, Alertmanager-style: one rule and one actor set. Repeats are counted per
/// group and notifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlertGroup {
    /// Rule id.
    pub rule: String,
    /// [`crate::events::actor_key`] of the alert's actors.
    pub actors: String,
}

/// What the log says about one notifier's recent deliveries: the state behind
/// `group_interval` and `rate_limit`, kept as a projection so a restart honours them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotifierState {
    /// The last successful delivery (digest mode: the last digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivered: Option<DateTime<Utc>>,
    /// The last attempt, successful or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<DateTime<Utc>>,
}

/// An outbox entry that was given up (`parley alerts --failed`), until retried or delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The alert.
    pub alert_id: String,
    /// The notifier that kept failing.
    pub notifier: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
    /// When it was given up.
    pub failed_at: DateTime<Utc>,
    /// The alert's group, carried so a retried dead letter keeps its repeat accounting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<AlertGroup>,
}

impl Store {
    /// Pending outbox entries (not delivered, not given up), oldest first.
    pub fn outbox_pending(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let durable = self.durable();
        let mut entries: Vec<OutboxEntry> = Vec::new();
        for item in self.inner.db.scan_prefix(keys::outbox_prefix()) {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            let rec: OutboxRecord = codec::decode(&k, &v)?;
            if rec.seq <= durable {
                entries.push(rec.into());
            }
        }
        entries.sort_by(|a, b| {
            (a.next_attempt_at, &a.alert_id, &a.notifier).cmp(&(
                b.next_attempt_at,
                &b.alert_id,
                &b.notifier,
            ))
        });
        Ok(entries)
    }

    /// One pending outbox entry, if (`alert_id`, `notifier`) is pending: the cluster relay
    /// looks up the entry of one work item without scanning the whole outbox.
    pub fn outbox_entry(
        &self,
        alert_id: &str,
        notifier: &str,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let key = keys::outbox(alert_id, notifier);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => {
                let rec: OutboxRecord = codec::decode(&key, &v)?;
                Ok((rec.seq <= self.durable()).then(|| rec.into()))
            }
            None => Ok(None),
        }
    }

    /// Dead letters: entries given up and not retried or delivered since.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.db.scan_prefix(keys::dead_prefix()) {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            out.push(codec::decode(&k, &v)?);
        }
        Ok(out)
    }

    /// When `notifier` last delivered an alert of `group` (for `repeat_interval`).
    pub fn group_notified_at(
        &self,
        notifier: &str,
        group: &AlertGroup,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = keys::notified(notifier, &group.rule, &group.actors);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// The delivery history of `notifier` (for `group_interval` and `rate_limit`).
    pub fn notifier_state(&self, notifier: &str) -> Result<NotifierState, StoreError> {
        let key = keys::notifier(notifier);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v),
            None => Ok(NotifierState::default()),
        }
    }
}
