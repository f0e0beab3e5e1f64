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
//! | `pa` lp(actor) seq                   | empty                           | actor index   |
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
//! is a node's local mirror of it: the cluster code (`crate::cluster`) installs an
//! [`Upstream`], after which [`Store::append`] publishes there instead of writing here, and
//! its consumer mirrors the stream back in order through [`Store::append_mirrored`], which
//! records the stream seq (`mstream_cursor`) in the same atomic batch. Everything else
//! (projections, reads, replay) works on the mirror exactly as on a single-node log.
//!
//! `p` keys are pure folds over the log (`projection.rs`), rebuilt by [`Store::replay`] and at
//! open when the stored projection version differs or the checkpoint is behind the log.
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

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::events::{Envelope, NewEvent};
use crate::feed::Validators;

mod appender;
mod cluster;
mod codec;
mod fold;
mod keys;
mod migrate;
mod projection;
pub(crate) mod similar;
mod stats;

pub use cluster::{ClusterReport, EventCluster};
pub use stats::{KindStats, StoreStats, compact};

use appender::{ReplayMsg, Request};
use projection::OutboxRecord;

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
    /// When the daemon plans to poll it next (shown by `parley feeds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_poll: Option<DateTime<Utc>>,
    /// Where the feed now lives after a 301/308 permanent redirect; polled instead of the
    /// configured URL until the config changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_url: Option<String>,
    /// Set when the server answered 410 Gone: the feed is no longer polled. The message says
    /// when and why; removing the feed from the config (or a restart after fixing the URL)
    /// is the way back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    /// Set when the last successful poll only parsed after repairing malformed XML: what was
    /// repaired. The feed is healthy but its publisher should hear about it (issue 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
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

/// sled's page cache bound, in bytes. sled's default is 1 GiB, so a daemon whose log grows
/// every cycle kept growing its RSS towards that (benches/load.sh: 87 MiB after the first of
/// 20 cycles, 258 MiB after the 13th). 64 MiB holds the recent log tail and the projection
/// keys that ingest reads; older pages are read back from disk when a replay needs them.
/// (It bounds the cache only: with 8 MiB, RSS still grew about 2 MiB a cycle while the log
/// grew, so sled's memory beyond the cache follows the tree's size.)
const CACHE_CAPACITY: u64 = 64 * 1024 * 1024;

/// Is this sled error the "another process holds the lock" one? sled 0.34 reports it as an
/// `Io` error built from a message, so the message is all there is to recognise.
fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Opens the sled database in `dir` as every store handle (and compaction) does.
fn open_db(dir: &Path, path: &str) -> Result<sled::Db, StoreError> {
    sled::Config::new()
        .path(dir)
        // Durability is the appender's job (one flush per group); a background flusher
        // would add unrequested fsyncs.
        .flush_every_ms(None)
        .cache_capacity(CACHE_CAPACITY)
        .open()
        .map_err(|e| {
            if is_lock_error(&e) {
                StoreError::Locked {
                    path: path.to_owned(),
                }
            } else {
                db_err(path, e)
            }
        })
}

impl Store {
    /// Opens (or creates) the store in `dir` and starts the appender task. Catches projections
    /// up if their checkpoint is behind the log. Must be called inside a tokio runtime.
    ///
    /// (The appender runs on its own thread and runtime, so this also works outside one.)
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.display().to_string();
        let db = open_db(dir, &path)?;
        let durable = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = {
            let (db, thread_path, durable) = (db.clone(), path.clone(), durable.clone());
            std::thread::Builder::new()
                .name("parley-appender".into())
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread().build() {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = ready_tx.send(Err(StoreError::Db {
                                path: thread_path,
                                message: format!("appender runtime: {e}"),
                            }));
                            return;
                        }
                    };
                    rt.block_on(async move {
                        let started = match appender::Appender::recover(db, thread_path, durable) {
                            Ok(a) => a.start_flush().await.map(|()| a),
                            Err(e) => Err(e),
                        };
                        match started {
                            Ok(a) => {
                                let _ = ready_tx.send(Ok(()));
                                a.run(rx).await;
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(e));
                            }
                        }
                    });
                })
                .map_err(|e| StoreError::Db {
                    path: path.clone(),
                    message: format!("cannot start appender thread: {e}"),
                })?
        };
        let started = ready_rx.recv().unwrap_or(Err(StoreError::Closed));
        let inner = Inner {
            db,
            path,
            tx: Some(tx),
            thread: Some(thread),
            durable,
            upstream: std::sync::OnceLock::new(),
        };
        // On failure, dropping `inner` joins the (finished) thread before returning.
        started?;
        debug!(path = %inner.path, last_seq = inner.durable.load(Ordering::Acquire), "Store opened.");
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

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

    /// Appends events in order, each in one atomic batch with its index and projection
    /// writes, and returns only after the store has been flushed to disk. With an
    /// [`Upstream`] installed, the events go there instead (and come back through the mirror).
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError> {
        if let Some(upstream) = self.inner.upstream.get() {
            return upstream.publish(events).await;
        }
        self.append_local(events, None).await
    }

    /// Installs the log of record that [`Store::append`] publishes to from now on (once).
    pub fn set_upstream(&self, upstream: Arc<dyn Upstream>) {
        let _ = self.inner.upstream.set(upstream);
    }

    /// Is an [`Upstream`] (the NATS backend) installed?
    pub fn has_upstream(&self) -> bool {
        self.inner.upstream.get().is_some()
    }

    /// Mirrors events read from the upstream stream into this log, recording `cursor` (the
    /// stream seq of the last of them) in the same atomic batch, so a restart resumes right
    /// after what is durable here. Ids already present are skipped as usual.
    pub async fn append_mirrored(
        &self,
        events: Vec<NewEvent>,
        cursor: u64,
    ) -> Result<Vec<Appended>, StoreError> {
        self.append_local(events, Some(cursor)).await
    }

    async fn append_local(
        &self,
        events: Vec<NewEvent>,
        cursor: Option<u64>,
    ) -> Result<Vec<Appended>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Append {
            events,
            cursor,
            reply,
        })?;
        answer.await.unwrap_or(Err(StoreError::Closed))
    }

    /// The stream seq of the last upstream message mirrored here (0: none).
    pub fn stream_cursor(&self) -> Result<u64, StoreError> {
        match self
            .inner
            .db
            .get(keys::STREAM_CURSOR)
            .map_err(|e| self.db_err(e))?
        {
            Some(v) => keys::be_u64(&v).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(keys::STREAM_CURSOR),
                message: "stream cursor is not a u64".into(),
            }),
            None => Ok(0),
        }
    }

    /// Empties the mirror (events, ids, projections, cursor; feed states stay) so it can be
    /// rebuilt from the upstream stream: `replay` with the NATS backend.
    pub async fn reset_mirror(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Reset { reply })?;
        answer.await.unwrap_or(Err(StoreError::Closed))
    }

    /// A no-op round trip through the appender (an empty append, so one group flush): proves
    /// the single writer is alive and not stuck. The systemd watchdog pings only after it.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.append_local(Vec::new(), None).await.map(|_| ())
    }

    /// Drains queued appends, flushes, and stops the appender. Later appends fail with `Closed`.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Shutdown { reply })?;
        answer.await.unwrap_or(Err(StoreError::Closed))
    }

    /// The seq of a durable event id, if any.
    fn seq_of(&self, event_id: &str) -> Result<Option<u64>, StoreError> {
        let key = keys::id(event_id);
        let Some(v) = self.inner.db.get(&key).map_err(|e| self.db_err(e))? else {
            return Ok(None);
        };
        let seq = keys::be_u64(&v).ok_or_else(|| StoreError::Corrupt {
            key: keys::printable(&key),
            message: "id index value is not a u64 seq".into(),
        })?;
        Ok((seq <= self.durable()).then_some(seq))
    }

    /// Was this `event.extracted` replaced by a re-extraction (`extraction.superseded`)?
    pub fn is_superseded(&self, event_id: &str) -> Result<bool, StoreError> {
        self.inner
            .db
            .contains_key(keys::superseded(event_id))
            .map_err(|e| self.db_err(e))
    }

    /// Is this event id in the log?
    pub fn contains(&self, event_id: &str) -> Result<bool, StoreError> {
        Ok(self.seq_of(event_id)?.is_some())
    }

    /// The event with this id.
    pub fn get(&self, event_id: &str) -> Result<Option<Envelope>, StoreError> {
        match self.seq_of(event_id)? {
            Some(seq) => self.get_seq(seq),
            None => Ok(None),
        }
    }

    /// The event at this seq.
    pub fn get_seq(&self, seq: u64) -> Result<Option<Envelope>, StoreError> {
        if seq == 0 || seq > self.durable() {
            return Ok(None);
        }
        let key = keys::event(seq);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Highest seq in the log (0 when empty).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        let durable = self.durable();
        if durable == 0 {
            return Ok(0);
        }
        let last = self
            .inner
            .db
            .range(keys::event(1)..=keys::event(durable))
            .next_back()
            .transpose()
            .map_err(|e| self.db_err(e))?;
        match last {
            Some((k, _)) => keys::event_seq(&k).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(&k),
                message: "event key without a u64 seq".into(),
            }),
            None => Ok(0),
        }
    }

    /// Events with seq >= `from`, in order.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = Result<Envelope, StoreError>> + '_ {
        let durable = self.durable();
        let from = from.max(1);
        let range = (from <= durable).then(|| {
            self.inner
                .db
                .range(keys::event(from)..=keys::event(durable))
        });
        range.into_iter().flatten().map(move |item| {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            codec::decode(&k, &v)
        })
    }

    /// Seqs of the `event.extracted` events naming this actor, ascending (per-actor index).
    pub fn actor_event_seqs(&self, actor: &str) -> Result<Vec<u64>, StoreError> {
        let prefix = keys::actor_prefix(actor);
        let durable = self.durable();
        let mut seqs = Vec::new();
        for item in self.inner.db.scan_prefix(&prefix).keys() {
            let k = item.map_err(|e| self.db_err(e))?;
            let seq = keys::be_u64(&k[prefix.len()..]).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(&k),
                message: "actor index key without a u64 seq".into(),
            })?;
            if seq <= durable {
                seqs.push(seq);
            }
        }
        Ok(seqs)
    }

    /// When the rule last raised an alert for this actor set (alert-state projection);
    /// the time is the alert's `occurred_at`.
    pub fn last_alert(
        &self,
        rule: &str,
        actor_key: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = keys::alert_state(rule, actor_key);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

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

    /// Every silence added and not expired (including those past their end; callers compare
    /// `until` with their clock).
    pub fn silences(&self) -> Result<Vec<crate::events::SilenceAdded>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.db.scan_prefix(keys::silence_prefix()) {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            out.push(codec::decode(&k, &v)?);
        }
        Ok(out)
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

    /// When an alert was acknowledged, if it was.
    pub fn acked_at(&self, alert_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = keys::ack(alert_id);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
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

    /// A rule's recorded definition, if any.
    pub fn rule_record(&self, rule: &str) -> Result<Option<RuleRecord>, StoreError> {
        let key = keys::rule(rule);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Stored polling state of a feed.
    pub fn feed_state(&self, feed_key: &str) -> Result<Option<FeedState>, StoreError> {
        let key = keys::feed(feed_key);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Saves a feed's polling state (durable once the next append or shutdown has flushed).
    ///
    /// The write goes through the appender (the only writer); this returns once it is applied,
    /// so a following `feed_state` sees it. That wait is at most one in-progress group flush.
    /// It is async so that a slow or stuck appender parks the poller, never a runtime thread
    /// (a blocked worker would stall the API, signal handling and the watchdog with it).
    pub async fn put_feed_state(
        &self,
        feed_key: &str,
        state: &FeedState,
    ) -> Result<(), StoreError> {
        let key = keys::feed(feed_key);
        let value = codec::encode(&key, state)?;
        let (reply, answer) = oneshot::channel();
        self.send(Request::PutFeed { key, value, reply })?;
        answer.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Keeps a fetched article's main text, content-addressed (key: its SHA-256), and records
    /// it as `url`'s text (the fetch cache). Returns the hex SHA-256 that `article.ingested`
    /// refers to. Written through the appender like feed state, so it is durable with the
    /// next append: the article's own, which comes after. Async for the same reason as
    /// [`Store::put_feed_state`].
    pub async fn put_article_text(&self, url: &str, text: &str) -> Result<String, StoreError> {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        for (key, value) in [
            (keys::text(&sha), codec::pack(text.as_bytes())),
            (keys::url_text(url), sha.as_bytes().to_vec()),
        ] {
            let (reply, answer) = oneshot::channel();
            self.send(Request::PutFeed { key, value, reply })?;
            answer.await.unwrap_or(Err(StoreError::Closed))?;
        }
        Ok(sha)
    }

    /// The article text stored under this hex SHA-256, if any.
    pub fn article_text(&self, sha256_hex: &str) -> Result<Option<String>, StoreError> {
        let key = keys::text(sha256_hex);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => {
                let corrupt = |message: String| StoreError::Corrupt {
                    key: keys::printable(&key),
                    message,
                };
                // Text is always packed: `migrate` packs format-1 text at open.
                let bytes = codec::unpack(&v).map_err(corrupt)?;
                String::from_utf8(bytes.into_owned())
                    .map(Some)
                    .map_err(|e| corrupt(e.to_string()))
            }
            None => Ok(None),
        }
    }

    /// The cached text of an article URL: its hex SHA-256 and the text.
    pub fn article_text_for_url(&self, url: &str) -> Result<Option<(String, String)>, StoreError> {
        let key = keys::url_text(url);
        let Some(sha) = self.inner.db.get(&key).map_err(|e| self.db_err(e))? else {
            return Ok(None);
        };
        let sha = String::from_utf8_lossy(&sha).into_owned();
        Ok(self.article_text(&sha)?.map(|text| (sha, text)))
    }

    /// Rebuilds every projection from the log. `progress(done, total)` is called as it goes.
    pub async fn replay(
        &self,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<ReplayStats, StoreError> {
        let (reply, mut answers) = mpsc::unbounded_channel();
        self.send(Request::Replay { reply })?;
        while let Some(msg) = answers.recv().await {
            match msg {
                ReplayMsg::Progress(done, total) => progress(done, total),
                ReplayMsg::Done(result) => return result,
            }
        }
        Err(StoreError::Closed)
    }

    /// Records and bytes per record kind, and the disk sled takes (`parley store stats`).
    /// Reads every key, so it takes a while on a large store; it writes nothing.
    pub fn stats(&self) -> Result<StoreStats, StoreError> {
        stats::collect(&self.inner.db, &self.inner.path)
    }

    /// Every event cluster (one event, many reports), in key order; callers sort and filter.
    pub fn event_clusters(&self) -> Result<Vec<EventCluster>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.db.scan_prefix(keys::cluster_prefix()) {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            out.push(codec::decode(&k, &v)?);
        }
        Ok(out)
    }

    /// Every projection key and value, for tests that compare live state with replayed state.
    pub fn projection_snapshot(&self) -> Result<Vec<ProjectionEntry>, StoreError> {
        self.inner
            .db
            .scan_prefix([keys::PROJECTION])
            .map(|item| {
                item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| self.db_err(e))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::events::{Alert, Event, EventExtracted, NotificationFailed};

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
    fn raw(dir: &Path) -> sled::Db {
        sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .open()
            .unwrap()
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
            if [keys::EVENT, keys::FEED, keys::TEXT, keys::PROJECTION].contains(&k[0])
                && !v.is_empty()
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
}
