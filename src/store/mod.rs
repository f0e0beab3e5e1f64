//! The event log. The only module that names sled.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::events::{Envelope, NewEvent};
use crate::feed::Validators;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, corruption).
    #[error("store at {path}: {message}")]
    Db {
        /// The store directory.
        path: String,
        /// sled's message.
        message: String,
    },
    /// Another process holds the store.
    #[error("store at {path} is in use by another parley process")]
    Locked {
        /// The store directory.
        path: String,
    },
    /// A stored value did not decode.
    #[error("store: corrupt record at key {key}: {message}")]
    Corrupt {
        /// Printable key.
        key: String,
        /// Decoder message.
        message: String,
    },
    /// The appender has shut down.
    #[error("store is closed")]
    Closed,
}

/// Result of appending one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Newly appended at this seq.
    New(u64),
    /// Already in the log at this seq; nothing was written.
    Duplicate(u64),
}

/// Per-feed polling state kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// Conditional-GET validators.
    pub validators: Validators,
    /// Last successful poll.
    pub last_success: Option<DateTime<Utc>>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Items seen over the feed's life.
    pub items_seen: u64,
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
}

/// Counts from a replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Events folded.
    pub events: u64,
}

/// A handle to the log. Cheap to clone; all clones share one appender task.
#[derive(Debug, Clone)]
pub struct Store {
    _private: (),
}

impl Store {
    /// Opens (or creates) the store in `dir` and starts the appender task. Catches projections
    /// up if their checkpoint is behind the log. Must be called inside a tokio runtime.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let _ = dir;
        todo!("store helper")
    }

    /// Appends events in order, each in one atomic batch with its index and projection
    /// writes, and returns only after the store has been flushed to disk.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        let _ = events;
        todo!("store helper")
    }

    /// Drains queued appends, flushes, and stops the appender. Later appends fail with `Closed`.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        todo!("store helper")
    }

    /// Is this event id in the log?
    pub fn contains(&self, event_id: &str) -> Result<bool, StoreError> {
        let _ = event_id;
        todo!("store helper")
    }

    /// The event with this id.
    pub fn get(&self, event_id: &str) -> Result<Option<Envelope>, StoreError> {
        let _ = event_id;
        todo!("store helper")
    }

    /// The event at this seq.
    pub fn get_seq(&self, seq: u64) -> Result<Option<Envelope>, StoreError> {
        let _ = seq;
        todo!("store helper")
    }

    /// Highest seq in the log (0 when empty).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        todo!("store helper")
    }

    /// Events with seq >= `from`, in order.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = Result<Envelope, StoreError>> + '_ {
        let _ = from;
        std::iter::empty()
    }

    /// Seqs of the `event.extracted` events naming this actor, ascending (per-actor index).
    pub fn actor_event_seqs(&self, actor: &str) -> Result<Vec<u64>, StoreError> {
        let _ = actor;
        todo!("store helper")
    }

    /// When the rule last raised an alert for this actor set (alert-state projection);
    /// the time is the alert's `occurred_at`.
    pub fn last_alert(&self, rule: &str, actor_key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let _ = (rule, actor_key);
        todo!("store helper")
    }

    /// Pending outbox entries (not delivered, not given up), oldest first.
    pub fn outbox_pending(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        todo!("store helper")
    }

    /// Stored polling state of a feed.
    pub fn feed_state(&self, feed_key: &str) -> Result<Option<FeedState>, StoreError> {
        let _ = feed_key;
        todo!("store helper")
    }

    /// Saves a feed's polling state (durable once the next append or shutdown has flushed).
    pub fn put_feed_state(&self, feed_key: &str, state: &FeedState) -> Result<(), StoreError> {
        let _ = (feed_key, state);
        todo!("store helper")
    }

    /// Rebuilds every projection from the log. `progress(done, total)` is called as it goes.
    pub async fn replay(&self, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<ReplayStats, StoreError> {
        let _ = progress;
        todo!("store helper")
    }

    /// Every projection key and value, for tests that compare live state with replayed state.
    pub fn projection_snapshot(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        todo!("store helper")
    }
}
