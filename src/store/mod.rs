//! The event log. The only module that names sled.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.
//!
//! # Layout
//!
//! One sled tree (the default tree), keys distinguished by their first byte. Every value
//! below that says JSON or text is stored packed (`codec.rs`: a tag byte, then the bytes or
//! a zstd frame of them); a store from before that is converted at open (`migrate.rs`). Seqs are u64
//! big-endian (byte order = numeric order); variable parts inside projection keys are
//! length-prefixed (`lp(s)` = u32 big-endian length + bytes) so no id is a prefix of another.
//!
//! | key                                  | value                           | what          |
//! |--------------------------------------|---------------------------------|---------------|
//! | `e` seq                              | Envelope JSON                   | the log       |
//! | `i` event_id                         | seq                             | dedup index   |
//! | `f` feed_key                         | FeedState JSON                  | poll state    |
//! | `t` hex sha256                       | UTF-8 text                      | article text  |
//! | `u` article URL                      | hex sha256                      | fetch cache   |
//! | `pi` kind time seq                   | empty                           | kind postings |
//! | `pw` lp(actor) kind time seq         | empty                           | actor postings|
//! | `pl` lp(rule) lp(actor_key)          | occurred_at JSON                | alert state   |
//! | `po` lp(alert_id) lp(notifier)       | OutboxRecord JSON (+ last seq)  | outbox        |
//! | `ps` lp(silence_id)                  | SilenceAdded JSON               | silences      |
//! | `pd` lp(alert_id) lp(notifier)       | DeadLetter JSON                 | dead letters  |
//! | `pk` lp(alert_id)                    | acked-at JSON                   | acks          |
//! | `pr` lp(rule)                        | RuleRecord JSON                 | rule versions |
//! | `pp` lp(article_id)                  | typed events awaiting article   | cluster input |
//! | `ph` lp(article_id)                  | feed, host, text sketch         | report facts  |
//! | `pc` lp(actor_key) lp(type)          | cluster ids + anchor dates      | cluster index |
//! | `pe` lp(cluster_id)                  | EventCluster JSON               | event clusters|
//! | `pn` lp(notifier) lp(rule) lp(actors)| delivered-at JSON               | repeat state  |
//! | `pt` lp(notifier)                    | NotifierState JSON              | digest/rate   |
//! | `mcheckpoint`                        | seq                             | last folded   |
//! | `mprojection_version`                | u32                             | fold version  |
//! | `mstream_cursor`                     | u64                             | NATS mirror   |
//! | `mstore_format`                      | u32                             | value format  |
//!
//! # The NATS backend
//!
//! With `[log] backend = "nats"` the JetStream stream is the log of record and this store
//! is a node's local mirror of it: the cluster code (`crate::nats`) installs an
//! [`Upstream`], after which [`Store::append`] publishes there instead of writing here, and
//! its consumer mirrors the stream back in order through [`Store::append_mirrored`], which
//! records the stream seq (`mstream_cursor`) in the same atomic batch. Everything else
//! (projections, reads, replay) works on the mirror exactly as on a single-node log.
//!
//! `p` keys are pure folds over the log (`projection.rs`), rebuilt by [`Store::replay`] and at
//! open when the stored projection version differs or the checkpoint is behind the log.
//! The postings (`pi`, `pw`; `index.rs`) are such a fold too: one key per event under its
//! kind, and one per actor an extracted record or alert names, each with the second it
//! occurred, so the read side finds `--kind`, `--since` and `--actor` matches without reading
//! the log (`kind` is a one-byte code, `time` eight bytes in time order). The actor postings
//! of extracted records are also the per-actor index (a store before projection version 7
//! kept that as `pa` lp(actor) seq).
//!
//! # Writing
//!
//! A single appender (a dedicated thread with a current-thread tokio runtime, see
//! `appender.rs`) is the only writer. Each new event, its `i` entry, its projection writes and
//! the checkpoint go in one atomic `apply_batch`; queued requests are grouped and made durable
//! by ONE `flush_async` before any of them is answered.
//!
//! # Reading
//!
//! Reads go to the tree directly from the calling thread. They never show an event (or an
//! outbox entry last written by an event) whose flush has not completed: the appender
//! publishes a durable watermark after each flush and log reads stop at it. `last_alert` and
//! `projection_snapshot` show applied state as is.
//!
//! # Files
//!
//! This file holds the interface types and the handle. `open` starts and stops a store,
//! `append` sends writes to the single writer (`appender`), `log` reads events, `outbox` and
//! `views` read the projections that `projection` and `cluster` fold (on the vocabulary in
//! `fold`), `index` folds and reads the kind and actor postings, and `feeds` keeps feed
//! state and article texts. `keys` and `codec` are the key layout and the value format,
//! `migrate` converts older stores, `stats` counts and compacts, and `similar` is the story
//! fingerprint the cluster projection stores.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tracing::error;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::events::NewEvent;

mod append;
mod appender;
mod codec;
mod feeds;
mod fold;
mod index;
mod keys;
mod log;
mod migrate;
mod open;
mod outbox;
mod projection;
pub(crate) mod similar;
mod stats;
mod stories;
mod views;

pub use feeds::FeedState;
pub use outbox::{AlertGroup, DeadLetter, NotifierState, OutboxEntry};
pub use stats::{KindStats, StoreStats, compact};
pub use stories::{ClusterReport, EventCluster};

use appender::Request;

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
    /// The log of record elsewhere (NATS JetStream) refused or could not take the append.
    #[error("log of record: {message}")]
    Upstream {
        /// What failed (never holds credentials).
        message: String,
    },
}

/// Maps a sled error to `Db` with the store path.
fn db_err(path: &str, e: sled::Error) -> StoreError {
    StoreError::Db {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A log of record other than this store (NATS JetStream). While one is installed,
/// [`Store::append`] hands events to it; it returns once they are durable there AND mirrored
/// back into this store, so callers keep the "nothing acts before durable" rule and read
/// their own writes.
pub trait Upstream: Send + Sync + std::fmt::Debug {
    /// Publishes `events` in order; the result per event says whether it was new.
    fn publish(
        &self,
        events: Vec<NewEvent>,
    ) -> futures_util::future::BoxFuture<'_, Result<Vec<Appended>, StoreError>>;
}

/// Result of appending one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Newly appended at this seq.
    New(u64),
    /// Already in the log at this seq; nothing was written.
    Duplicate(u64),
}

/// A rule's current definition hash and where in the log it took effect, so a changed rule
/// derives alerts only from later events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRecord {
    /// `alert::rule_hash` of the definition.
    pub hash: String,
    /// Seq of the `rule.changed` event.
    pub seq: u64,
    /// When it changed.
    pub changed_at: DateTime<Utc>,
}

/// Counts from a replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Events folded.
    pub events: u64,
}

/// One raw projection key and value, as [`Store::projection_snapshot`] returns them; a named
/// alias (the same type) so the snapshot's signature stays readable.
pub type ProjectionEntry = (Vec<u8>, Vec<u8>);

/// A handle to the log. Cheap to clone; all clones share one appender task.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// State shared by every handle. Dropping the last one stops the appender and waits for it.
struct Inner {
    db: sled::Db,
    path: String,
    /// `None` only while dropping.
    tx: Option<mpsc::UnboundedSender<Request>>,
    /// The appender thread, joined on drop.
    thread: Option<std::thread::JoinHandle<()>>,
    /// Highest seq whose flush has completed.
    durable: Arc<AtomicU64>,
    /// The log of record when it is not this store (NATS backend); set once at start.
    upstream: std::sync::OnceLock<Arc<dyn Upstream>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("durable_seq", &self.durable.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel makes the appender flush and exit; joining means the sled lock
        // is free once the last handle is gone (at most one flush of blocking).
        drop(self.tx.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            error!(path = %self.path, "Store appender thread panicked.");
        }
    }
}

impl Store {
    fn send(&self, req: Request) -> Result<(), StoreError> {
        match &self.inner.tx {
            Some(tx) => tx.send(req).map_err(|_| StoreError::Closed),
            None => Err(StoreError::Closed),
        }
    }

    fn durable(&self) -> u64 {
        self.inner.durable.load(Ordering::Acquire)
    }

    fn db_err(&self, e: sled::Error) -> StoreError {
        db_err(&self.inner.path, e)
    }
}

#[cfg(test)]
mod tests;
