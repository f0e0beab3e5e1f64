//! The single writer: a dedicated OS thread running a current-thread tokio runtime.
//!
//! Why a thread of its own rather than a task on the caller's runtime: sled calls block, and
//! here they may (nothing else runs on this thread), no matter which runtime flavour the caller
//! uses; and the last `Store` handle can join it on drop, so the sled lock is released by the
//! time drop returns (a reopen right after a drop cannot race the old writer). The runtime is
//! there only to await `flush_async`.
//!
//! Loop: wait for one request, drain everything else queued (group commit), apply each append
//! as one atomic batch per event, call `flush_async` ONCE, publish the new durable watermark,
//! then answer the group. Feed-state writes are answered as soon as they are applied (they are
//! durable with the group's flush, which the doc of `put_feed_state` promises).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use super::fold::{Op, ProjectionRead};
use super::projection;
use super::{Appended, ReplayStats, StoreError, codec, db_err, keys};
use crate::events::{Envelope, Event, NewEvent, SCHEMA_VERSION};

/// Upper bound on requests answered by one flush, so a flood cannot delay the first answer
/// without limit.
const MAX_GROUP: usize = 1024;
/// Events folded per atomic batch during replay and catch-up.
const FOLD_CHUNK: usize = 1000;
/// Keys removed per batch when clearing projections.
const CLEAR_CHUNK: usize = 10_000;

/// Progress messages and the final answer of a replay.
pub(crate) enum ReplayMsg {
    /// `(done, total)` events folded.
    Progress(u64, u64),
    /// The replay finished (after the flush).
    Done(Result<ReplayStats, StoreError>),
}

/// What handles ask the appender to do.
pub(crate) enum Request {
    /// Append events in order.
    Append {
        events: Vec<NewEvent>,
        /// The upstream stream seq these events come from (NATS mirror), stored with them.
        cursor: Option<u64>,
        reply: oneshot::Sender<Result<Vec<Appended>, StoreError>>,
    },
    /// Empty the mirror for a rebuild from the upstream stream.
    Reset {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Store a record kept outside the log, already encoded: a feed's state, or an article
    /// text and its fetch-cache entry (`put_article_text`).
    PutFeedOrText {
        key: Vec<u8>,
        value: Vec<u8>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Rebuild every projection from the log.
    Replay {
        reply: mpsc::UnboundedSender<ReplayMsg>,
    },
    /// Finish queued work, flush, stop.
    Shutdown {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// An answer held back until the group's flush.
enum Pending {
    Append(
        oneshot::Sender<Result<Vec<Appended>, StoreError>>,
        Result<Vec<Appended>, StoreError>,
    ),
    Replay(
        mpsc::UnboundedSender<ReplayMsg>,
        Result<ReplayStats, StoreError>,
    ),
}

/// Projection reader over the tree plus the not-yet-applied ops of the current batch.
struct Overlay<'a> {
    db: &'a sled::Db,
    path: &'a str,
    pending: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

impl ProjectionRead for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        Ok(self
            .db
            .get(key)
            .map_err(|e| db_err(self.path, e))?
            .map(|v| v.to_vec()))
    }
}

impl<'a> Overlay<'a> {
    fn new(db: &'a sled::Db, path: &'a str) -> Self {
        Overlay {
            db,
            path,
            pending: HashMap::new(),
        }
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.pending.insert(key, Some(value));
    }

    fn apply(&mut self, ops: Vec<Op>) {
        for op in ops {
            match op {
                Op::Put(k, v) => self.pending.insert(k, Some(v)),
                Op::Delete(k) => self.pending.insert(k, None),
            };
        }
    }

    fn into_batch(self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (k, v) in self.pending {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        batch
    }
}

/// The writer's state.
pub(crate) struct Appender {
    db: sled::Db,
    path: String,
    /// Seq the next new event gets.
    next_seq: u64,
    /// Highest seq folded into the projections (mirror of the `m` checkpoint).
    checkpoint: u64,
    /// Highest seq known flushed; readers hide anything above it.
    durable: Arc<AtomicU64>,
}

impl Appender {
    /// Recovers the next seq and checkpoint from the tree.
    pub(crate) fn recover(
        db: sled::Db,
        path: String,
        durable: Arc<AtomicU64>,
    ) -> Result<Self, StoreError> {
        super::migrate::run(&db, &path)?;
        let last = match db
            .range(keys::event(0)..=keys::event(u64::MAX))
            .next_back()
            .transpose()
            .map_err(|e| db_err(&path, e))?
        {
            Some((k, _)) => keys::event_seq(&k).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(&k),
                message: "event key without a u64 seq".into(),
            })?,
            None => 0,
        };
        let checkpoint = match db.get(keys::CHECKPOINT).map_err(|e| db_err(&path, e))? {
            Some(v) => keys::be_u64(&v).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(keys::CHECKPOINT),
                message: "checkpoint is not a u64".into(),
            })?,
            None => 0,
        };
        let version = match db
            .get(keys::PROJECTION_VERSION)
            .map_err(|e| db_err(&path, e))?
        {
            Some(v) => keys::be_u32(&v),
            None => None,
        };
        let mut appender = Appender {
            db,
            path,
            next_seq: last + 1,
            checkpoint,
            durable,
        };
        if version != Some(projection::VERSION) || checkpoint > last {
            info!(
                stored_version = ?version,
                version = projection::VERSION,
                checkpoint,
                last_seq = last,
                "Projections are stale; rebuilding them from the log."
            );
            appender.checkpoint = 0;
            // A rebuild of a long log takes a while: say how far it is, every tenth.
            let mut shown = 0;
            appender.catch_up(&mut |done, total| {
                let tenth = (done * 10).checked_div(total).unwrap_or(0);
                if tenth > shown {
                    shown = tenth;
                    info!(done, total, "Rebuilding projections.");
                }
            })?;
        } else if checkpoint < last {
            info!(
                checkpoint,
                last_seq = last,
                "Projections are behind the log; catching up."
            );
            appender.catch_up(&mut |_, _| {})?;
        }
        Ok(appender)
    }

    fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Flushes after startup work and publishes the durable watermark.
    pub(crate) async fn start_flush(&self) -> Result<(), StoreError> {
        self.flush().await.map_err(|message| StoreError::Db {
            path: self.path.clone(),
            message,
        })?;
        self.durable.store(self.last_seq(), Ordering::Release);
        Ok(())
    }

    async fn flush(&self) -> Result<(), String> {
        self.db
            .flush_async()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Serves requests until shutdown or until every handle is gone.
    pub(crate) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        let mut group = Vec::new();
        loop {
            let Some(first) = rx.recv().await else {
                // Every Store handle is gone: make what was applied durable and stop.
                if let Err(error) = self.flush().await {
                    error!(path = %self.path, %error, "Final store flush failed.");
                }
                debug!(path = %self.path, "Store appender stopped (all handles dropped).");
                return;
            };
            group.push(first);
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(req) => group.push(req),
                    Err(_) => break,
                }
            }

            let mut pending = Vec::with_capacity(group.len());
            let mut shutdown = None;
            for req in group.drain(..) {
                if shutdown.is_some() {
                    // Queued behind a shutdown: dropping the reply makes the caller see Closed.
                    continue;
                }
                match req {
                    Request::Append {
                        events,
                        cursor,
                        reply,
                    } => {
                        let result = self.append_events(events, cursor);
                        pending.push(Pending::Append(reply, result));
                    }
                    Request::PutFeedOrText { key, value, reply } => {
                        let result = self
                            .db
                            .insert(key, value)
                            .map(|_| ())
                            .map_err(|e| db_err(&self.path, e));
                        let _ = reply.send(result);
                    }
                    Request::Reset { reply } => {
                        let _ = reply.send(self.reset());
                    }
                    Request::Replay { reply } => {
                        let result = self.replay(&reply);
                        pending.push(Pending::Replay(reply, result));
                    }
                    Request::Shutdown { reply } => shutdown = Some(reply),
                }
            }

            let flushed = self.flush().await;
            match &flushed {
                Ok(()) => self.durable.store(self.last_seq(), Ordering::Release),
                Err(error) => error!(path = %self.path, %error, "Store flush failed."),
            }
            let flush_err = |message: &String| StoreError::Db {
                path: self.path.clone(),
                message: message.clone(),
            };
            for answer in pending {
                match answer {
                    Pending::Append(reply, result) => {
                        let _ = reply.send(match &flushed {
                            Ok(()) => result,
                            Err(m) => Err(flush_err(m)),
                        });
                    }
                    Pending::Replay(reply, result) => {
                        let _ = reply.send(ReplayMsg::Done(match &flushed {
                            Ok(()) => result,
                            Err(m) => Err(flush_err(m)),
                        }));
                    }
                }
            }
            if let Some(reply) = shutdown {
                rx.close();
                while rx.try_recv().is_ok() {}
                let _ = reply.send(flushed.map_err(|m| flush_err(&m)));
                debug!(path = %self.path, "Store appender stopped (shutdown).");
                return;
            }
        }
    }

    /// Appends one request's events as ONE atomic batch: the events, their `i` entries, their
    /// projection writes and the checkpoint. Either the whole request is applied or none of it
    /// (an error leaves the log as it was; a retry is safe because ids are idempotent). One
    /// batch per request rather than per event is what makes a feed's worth of articles cheap.
    fn append_events(
        &mut self,
        events: Vec<NewEvent>,
        cursor: Option<u64>,
    ) -> Result<Vec<Appended>, StoreError> {
        if self.checkpoint < self.last_seq() {
            // A failed replay left the projections behind; never fold on top of a gap.
            self.catch_up(&mut |_, _| {})?;
        }
        let mut overlay = Overlay::new(&self.db, &self.path);
        let mut next_seq = self.next_seq;
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            out.push(Self::stage_one(&mut overlay, &mut next_seq, event)?);
        }
        if let Some(cursor) = cursor {
            overlay.put(keys::STREAM_CURSOR.to_vec(), cursor.to_be_bytes().to_vec());
        }
        if next_seq == self.next_seq {
            if cursor.is_some() {
                self.db
                    .apply_batch(overlay.into_batch())
                    .map_err(|e| db_err(&self.path, e))?;
            }
            return Ok(out);
        }
        let last = next_seq - 1;
        overlay.put(keys::CHECKPOINT.to_vec(), last.to_be_bytes().to_vec());
        self.db
            .apply_batch(overlay.into_batch())
            .map_err(|e| db_err(&self.path, e))?;
        self.next_seq = next_seq;
        self.checkpoint = last;
        Ok(out)
    }

    /// Stages one event, its `i` entry and its projection ops in `overlay`; a duplicate id
    /// (in the log or earlier in the same request) stages nothing.
    fn stage_one(
        overlay: &mut Overlay<'_>,
        next_seq: &mut u64,
        new: NewEvent,
    ) -> Result<Appended, StoreError> {
        let id_key = keys::id(&new.event_id);
        if let Some(v) = overlay.get(&id_key)? {
            let seq = keys::be_u64(&v).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(&id_key),
                message: "id index value is not a u64 seq".into(),
            })?;
            return Ok(Appended::Duplicate(seq));
        }
        if let Event::AlertRaised(alert) = &new.event
            && alert.alert_id != new.event_id
        {
            warn!(
                event_id = %new.event_id,
                alert_id = %alert.alert_id,
                "alert.raised whose payload alert_id differs from its event_id; the outbox uses the event_id."
            );
        }
        let seq = *next_seq;
        let env = Envelope {
            seq,
            event_id: new.event_id,
            schema_version: SCHEMA_VERSION,
            occurred_at: new.occurred_at,
            recorded_at: Utc::now(),
            event: new.event,
        };
        let event_key = keys::event(seq);
        let value = codec::encode(&event_key, &env)?;
        let ops = projection::fold(&*overlay, &env)?;
        overlay.apply(ops);
        overlay.put(event_key, value);
        overlay.put(id_key, seq.to_be_bytes().to_vec());
        *next_seq += 1;
        Ok(Appended::New(seq))
    }

    /// Removes every event, id entry, projection and the stream cursor (feed states stay),
    /// for a mirror rebuilt from the upstream stream. The caller's group flush makes it durable.
    fn reset(&mut self) -> Result<(), StoreError> {
        self.clear_projections()?;
        for prefix in [keys::EVENT, keys::ID] {
            loop {
                let mut batch = sled::Batch::default();
                let mut n = 0;
                for item in self.db.scan_prefix([prefix]).keys().take(CLEAR_CHUNK) {
                    batch.remove(item.map_err(|e| db_err(&self.path, e))?);
                    n += 1;
                }
                if n == 0 {
                    break;
                }
                self.db
                    .apply_batch(batch)
                    .map_err(|e| db_err(&self.path, e))?;
            }
        }
        self.db
            .remove(keys::STREAM_CURSOR)
            .map_err(|e| db_err(&self.path, e))?;
        self.next_seq = 1;
        self.checkpoint = 0;
        self.durable.store(0, Ordering::Release);
        Ok(())
    }

    /// Deletes every projection and refolds the log; the caller flushes.
    fn replay(
        &mut self,
        reply: &mpsc::UnboundedSender<ReplayMsg>,
    ) -> Result<ReplayStats, StoreError> {
        info!(path = %self.path, last_seq = self.last_seq(), "Replaying the log into fresh projections.");
        self.checkpoint = 0;
        let events = self.catch_up(&mut |done, total| {
            let _ = reply.send(ReplayMsg::Progress(done, total));
        })?;
        Ok(ReplayStats { events })
    }

    /// Folds the events after the checkpoint, `FOLD_CHUNK` per atomic batch (with the
    /// checkpoint). A zero checkpoint means "from scratch": stale projection keys (from an
    /// older projection version or an interrupted replay) are deleted first.
    fn catch_up(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, StoreError> {
        if self.checkpoint == 0 {
            self.clear_projections()?;
        }
        let last = self.last_seq();
        let total = last - self.checkpoint;
        let mut done = 0;
        progress(0, total);
        while self.checkpoint < last {
            let from = self.checkpoint + 1;
            let to = last.min(self.checkpoint + FOLD_CHUNK as u64);
            let mut overlay = Overlay::new(&self.db, &self.path);
            for item in self.db.range(keys::event(from)..=keys::event(to)) {
                let (k, v) = item.map_err(|e| db_err(&self.path, e))?;
                let env: Envelope = codec::decode(&k, &v)?;
                if keys::event_seq(&k) != Some(env.seq) {
                    return Err(StoreError::Corrupt {
                        key: keys::printable(&k),
                        message: format!("envelope says seq {}", env.seq),
                    });
                }
                let ops = projection::fold(&overlay, &env)?;
                overlay.apply(ops);
            }
            let mut batch = overlay.into_batch();
            batch.insert(keys::CHECKPOINT, to.to_be_bytes().to_vec());
            self.db
                .apply_batch(batch)
                .map_err(|e| db_err(&self.path, e))?;
            done += to - self.checkpoint;
            self.checkpoint = to;
            progress(done, total);
        }
        Ok(done)
    }

    /// Removes the checkpoint (first, so an interruption is seen as "from scratch") and every
    /// projection key, then records the projection version that will rebuild them.
    fn clear_projections(&mut self) -> Result<(), StoreError> {
        self.db
            .remove(keys::CHECKPOINT)
            .map_err(|e| db_err(&self.path, e))?;
        loop {
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in self
                .db
                .scan_prefix([keys::PROJECTION])
                .keys()
                .take(CLEAR_CHUNK)
            {
                batch.remove(item.map_err(|e| db_err(&self.path, e))?);
                n += 1;
            }
            if n == 0 {
                break;
            }
            self.db
                .apply_batch(batch)
                .map_err(|e| db_err(&self.path, e))?;
        }
        self.db
            .insert(
                keys::PROJECTION_VERSION,
                projection::VERSION.to_be_bytes().to_vec(),
            )
            .map_err(|e| db_err(&self.path, e))?;
        self.checkpoint = 0;
        Ok(())
    }
}
