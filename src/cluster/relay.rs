//! The cluster's notification relay: the sled relay's decisions, made once for the cluster.
//!
//! Every node mirrors the same log, so every node folds the same outbox and grouping state
//! (pending entries, each notifier's last digest and attempt, each alert group's last
//! delivery). What differs from one node is only *who* acts. This module settles that with
//! one lock per notifier in the `<stream>_relay` KV bucket (a TTL bucket: a dead holder's lock
//! expires): a node that holds a notifier's lock first catches its mirror up with the stream
//! (so it sees every outcome an earlier holder recorded before releasing), seeds the
//! notifier's `rate_limit` from the log, then runs [`pipeline::relay_pass`], the sled relay's
//! own code, for that notifier. Digests, `group_wait`/`group_interval`, `repeat_interval` and
//! `rate_limit` are therefore decided by one implementation on shared state, and two nodes
//! never both send a digest or both take a rate-limit slot.
//!
//! Two things start a pass:
//! - **a work item** from the shared durable consumer of `<stream>_OUTBOX`: if its entry is
//!   due, this node runs the pass; it acks the item once its entry is settled (delivered or
//!   given up) or left to the log's schedule (held by grouping, waiting for a retry, or due
//!   while another pass has the notifier: the sweep takes it then). A node that dies
//!   before that has the item redelivered to another node after the ack wait;
//! - **the sweep**, on every node: it sleeps until the log's next due entry (at most a lock
//!   TTL, so a dead node's held digests and retries are picked up), then passes each notifier
//!   with something due. It also delivers entries whose work item never made it to the queue
//!   (a node that died between publishing an alert and enqueueing it).
//!
//! Only `store` touches sled; the relay reads the projection and appends through [`Store`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, kv};
use chrono::Utc;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use super::{
    Cluster, ClusterError, MIRROR_WAIT, RELAY_ACK_WAIT, RELAY_CONSUMER, WorkItem, js_err, kv_key,
    open_bucket, outbox_stream, outbox_subject,
};
use crate::pipeline::{self, Prepared, Stats};
use crate::store::{OutboxEntry, Store};

/// Work items handled at once by one node (the sled relay also has 8 deliveries in flight).
const IN_FLIGHT: usize = 8;
/// When a notifier is busy (another node, or another task here, runs its pass), the sweep
/// tries again after this long. The busy pass delivers what was due when it started.
const BUSY_RETRY: Duration = Duration::from_secs(1);
/// Least pause between two sweeps, so an entry that stays due cannot spin the sweep.
const SWEEP_MIN: Duration = Duration::from_millis(100);
/// How long a work item waits for this node's mirror to catch up before it is looked at.
const ITEM_CATCH_UP: Duration = Duration::from_secs(10);
/// Least lifetime of a relay lock without renewal: a node SIGKILLed in a pass blocks its
/// notifier this long at most; long enough that a loaded node's renewals (every third of
/// it) keep a live pass's lock.
const MIN_LOCK_TTL: Duration = Duration::from_secs(10);

/// Whether `--once` found the outbox drained, or only entries held by grouping left.
#[derive(Debug)]
enum Swept {
    /// Cancelled (a stop).
    Stopped,
    /// `--once`: nothing due is left; this many entries stay held for a later run.
    Drained(usize),
}

/// The value of a relay lock: who holds it, since when (for an operator reading the bucket).
#[derive(Serialize)]
struct LockValue<'a> {
    node: &'a str,
    at: chrono::DateTime<Utc>,
}

/// What the log says about one work item's (alert, notifier).
enum ItemState {
    /// Delivered, given up, or never meant for this notifier: nothing to do.
    Settled,
    /// The alert is not in this node's mirror yet.
    NotMirrored,
    /// Pending in the outbox.
    Pending(OutboxEntry),
}

/// One generation's relay on this node.
struct Relay {
    cluster: Cluster,
    prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    /// The `<stream>_relay` bucket: one lock per notifier.
    locks: kv::Store,
    lock_ttl: Duration,
    /// One pass per notifier at a time on this node (the KV lock does it across nodes).
    local: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Wakes the sweep when a work item left its entry to the log's schedule.
    wake: Notify,
    /// Cancelled on stop (child of the generation's token) or when the relay restarts.
    cancel: CancellationToken,
}

impl Cluster {
    /// Delivers notifications until cancelled: work items from the shared queue and the
    /// log's schedule (see the module docs). Returns an error when the connection came back
    /// after a loss (the consumer is re-created by the caller) or the queue cannot be read.
    pub async fn relay(
        self,
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        cancel: CancellationToken,
    ) -> Result<(), ClusterError> {
        let relay = Arc::new(Relay::open(self, prepared, store, stats, cancel).await?);
        let sweeper = {
            let relay = relay.clone();
            tokio::spawn(async move { relay.sweep_forever().await })
        };
        let result = relay.consume().await;
        // A pass in the sweep finishes its in-flight deliveries and records them.
        relay.cancel.cancel();
        if let Err(join) = sweeper.await {
            error!(%join, "The relay sweep failed.");
        }
        result
    }

    /// `run --once`: delivers until nothing is due any more and the work queue is empty,
    /// leaving entries held by `group_interval` / `repeat_interval` in the log for a later
    /// run (counted in `stats.held`), exactly as the sled relay's drain does.
    pub async fn drain(
        self,
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        cancel: CancellationToken,
    ) -> Result<(), ClusterError> {
        let relay = Arc::new(Relay::open(self, prepared, store, stats, cancel).await?);
        let consumer = {
            let relay = relay.clone();
            tokio::spawn(async move { relay.consume().await })
        };
        let swept = relay.sweep(true).await;
        relay.cancel.cancel();
        let consumed = consumer
            .await
            .map_err(|e| ClusterError::JetStream(format!("relay consumer task: {e}")))?;
        if let Swept::Drained(held) = swept? {
            if held > 0 {
                info!(held, "Leaving grouped notifications for a later run.");
            }
            relay
                .stats
                .held
                .store(held as u64, std::sync::atomic::Ordering::Relaxed);
        }
        consumed
    }
}

impl Relay {
    async fn open(
        cluster: Cluster,
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        cancel: CancellationToken,
    ) -> Result<Relay, ClusterError> {
        let config = cluster.config();
        let lock_ttl = config.lease_ttl.max(MIN_LOCK_TTL);
        let locks = open_bucket(
            &cluster.inner.js,
            kv::Config {
                bucket: format!("{}_relay", config.stream),
                history: 1,
                max_age: lock_ttl,
                num_replicas: config.replicas,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            },
        )
        .await?;
        Ok(Relay {
            cluster,
            prepared,
            store,
            stats,
            locks,
            lock_ttl,
            local: std::sync::Mutex::default(),
            wake: Notify::new(),
            cancel: cancel.child_token(),
        })
    }

    /// Reads work items until cancelled, up to [`IN_FLIGHT`] at once; waits for those in
    /// hand before returning.
    async fn consume(self: &Arc<Self>) -> Result<(), ClusterError> {
        let inner = &self.cluster.inner;
        let stream = inner
            .js
            .get_stream(outbox_stream(&inner.config))
            .await
            .map_err(|e| js_err("open the outbox", e))?;
        let consumer = stream
            .get_or_create_consumer(
                RELAY_CONSUMER,
                consumer::pull::Config {
                    durable_name: Some(RELAY_CONSUMER.into()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: RELAY_ACK_WAIT,
                    filter_subject: outbox_subject(&inner.config),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| js_err("open the relay consumer", e))?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(IN_FLIGHT)
            .messages()
            .await
            .map_err(|e| js_err("read the outbox", e))?;
        let permits = Arc::new(Semaphore::new(IN_FLIGHT));
        let tasks = TaskTracker::new();
        // Created once, so a reconnect while this loop is busy elsewhere is not missed (a
        // `Notified` receives `notify_waiters` from its creation on).
        let reconnected = inner.reconnected.notified();
        tokio::pin!(reconnected);
        let reopen =
            || ClusterError::JetStream("reconnected; re-opening the relay consumer".into());
        let result = loop {
            let permit = tokio::select! {
                () = self.cancel.cancelled() => break Ok(()),
                () = &mut reconnected => break Err(reopen()),
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break Ok(()),
                },
            };
            let next = tokio::select! {
                () = self.cancel.cancelled() => break Ok(()),
                () = &mut reconnected => break Err(reopen()),
                m = messages.next() => m,
            };
            let msg = match next {
                Some(Ok(m)) => m,
                Some(Err(error)) => {
                    warn!(%error, "Outbox read error.");
                    continue;
                }
                None => break Err(ClusterError::JetStream("the outbox consumer ended".into())),
            };
            let me = self.clone();
            tasks.spawn(async move {
                if let Err(error) = me.handle(&msg).await {
                    warn!(%error, "Notification not settled; it will be redelivered.");
                }
                drop(permit);
            });
        };
        tasks.close();
        tasks.wait().await;
        result
    }

    /// One work item: settle it, run its notifier's pass if it is due, or leave it to the
    /// log's schedule.
    async fn handle(&self, msg: &jetstream::Message) -> Result<(), ClusterError> {
        let ack =
            |kind: AckKind| async move { msg.ack_with(kind).await.map_err(|e| js_err("ack", e)) };
        let Ok(item) = serde_json::from_slice::<WorkItem>(&msg.payload) else {
            error!("Undecodable outbox item; dropped.");
            return ack(AckKind::Term).await;
        };
        debug!(alert = %item.alert_id, notifier = %item.notifier, "Work item received.");
        // The item can overtake the mirror (its alert, or another node's outcome for it).
        let _ =
            tokio::time::timeout(ITEM_CATCH_UP, self.cluster.wait_caught_up(&self.cancel)).await;
        let entry = match self.item_state(&item)? {
            ItemState::Settled => return ack(AckKind::Ack).await,
            ItemState::NotMirrored => {
                // Items are enqueued only after their alert's publish ack, so this mirror is
                // behind (e.g. after a reconnect): let the item come back, here or elsewhere.
                debug!(alert = %item.alert_id, "Alert not mirrored here yet; delivery deferred.");
                return ack(AckKind::Nak(Some(BUSY_RETRY))).await;
            }
            ItemState::Pending(entry) => entry,
        };
        let due = pipeline::entry_due(&self.prepared, &self.store, &entry)?;
        if due.at <= Utc::now() {
            if !self.pass(&item.notifier, Some(msg)).await? {
                // Another pass (here or on another node) has the notifier, possibly for a
                // long rate-limited while. The entry is due in the log, so this node's
                // sweep takes it over: one retry per node, not one redelivery per item.
                debug!(alert = %item.alert_id, notifier = %item.notifier, "Notifier busy; the sweep takes the notification.");
                self.wake.notify_one();
                return ack(AckKind::Ack).await;
            }
            if !matches!(self.item_state(&item)?, ItemState::Pending(_)) {
                return ack(AckKind::Ack).await;
            }
        }
        // Held by grouping or waiting for its retry: the entry and its schedule are in the
        // log, which every node's sweep reads, so the item's job is done.
        debug!(alert = %item.alert_id, notifier = %item.notifier, held = due.held, "Notification scheduled in the log.");
        self.wake.notify_one();
        ack(AckKind::Ack).await
    }

    fn item_state(&self, item: &WorkItem) -> Result<ItemState, ClusterError> {
        if let Some(entry) = self.store.outbox_entry(&item.alert_id, &item.notifier)? {
            return Ok(ItemState::Pending(entry));
        }
        Ok(if self.store.contains(&item.alert_id)? {
            ItemState::Settled
        } else {
            ItemState::NotMirrored
        })
    }

    /// Runs [`pipeline::relay_pass`] for `notifier` under its cluster-wide lock. `false`
    /// when the notifier is busy (its lock is held here or elsewhere). While the pass runs,
    /// the lock is renewed and `progress` (the work item that started it) kept from
    /// redelivery; a lost lock stops the pass from starting further deliveries.
    async fn pass(
        &self,
        notifier: &str,
        progress: Option<&jetstream::Message>,
    ) -> Result<bool, ClusterError> {
        let gate = {
            let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
            local.entry(notifier.to_string()).or_default().clone()
        };
        let Ok(_local) = gate.try_lock_owned() else {
            return Ok(false);
        };
        let key = format!("notifier.{}", kv_key(notifier));
        let value: bytes::Bytes = serde_json::to_vec(&LockValue {
            node: &self.cluster.config().node_id,
            at: Utc::now(),
        })
        .map_err(|e| js_err("encode a relay lock", e))?
        .into();
        let mut revision = match self.locks.create(&key, value.clone()).await {
            Ok(rev) => rev,
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(js_err("take a notifier's relay lock", e)),
        };
        let cancel = self.cancel.child_token();
        let work = async {
            // Every outcome an earlier holder recorded is in the stream before it released
            // the lock: fold it in before deciding anything.
            tokio::time::timeout(MIRROR_WAIT, self.cluster.wait_caught_up(&cancel))
                .await
                .map_err(|_| js_err("catch up before a relay pass", "timed out"))??;
            if let Some(n) = self.prepared.notifiers.get(notifier) {
                n.seed_rate_limit(self.store.notifier_state(notifier)?.last_attempt)
                    .await;
            }
            pipeline::relay_pass(
                &self.prepared,
                &self.store,
                &self.stats,
                &cancel,
                Some(notifier),
            )
            .await?;
            Ok::<(), ClusterError>(())
        };
        let renew_every = (self.lock_ttl / 3).min(RELAY_ACK_WAIT / 3);
        let keep = async {
            loop {
                tokio::time::sleep(renew_every).await;
                match self.locks.update(&key, value.clone(), revision).await {
                    Ok(rev) => revision = rev,
                    Err(error) => {
                        warn!(notifier, %error, "Lost a notifier's relay lock; the pass stops.");
                        cancel.cancel();
                        return;
                    }
                }
                if let Some(m) = progress {
                    let _ = m.ack_with(AckKind::Progress).await;
                }
            }
        };
        let result = {
            tokio::pin!(work);
            tokio::select! {
                r = &mut work => r,
                () = keep => work.await,
            }
        };
        if let Err(error) = self
            .locks
            .delete_expect_revision(&key, Some(revision))
            .await
        {
            debug!(notifier, %error, "Relay lock not released (it expires by itself).");
        }
        result.map(|()| true)
    }

    /// The daemon's sweep: runs until cancelled; errors are logged and retried.
    async fn sweep_forever(&self) {
        let mut backoff = BUSY_RETRY;
        loop {
            match self.sweep(false).await {
                Ok(_) => return,
                Err(error) => warn!(%error, retry_in = ?backoff, "Relay sweep failed; retrying."),
            }
            tokio::select! {
                () = self.cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.lock_ttl);
        }
    }

    /// Passes every notifier that has an entry due, then sleeps until the next one is due
    /// (at most a lock TTL, or until a work item wakes it). With `drain` (`run --once`) it
    /// returns once nothing is due, every remaining entry is held by grouping, and the work
    /// queue is empty.
    async fn sweep(&self, drain: bool) -> Result<Swept, ClusterError> {
        loop {
            if self.cancel.is_cancelled() {
                return Ok(Swept::Stopped);
            }
            if drain {
                tokio::time::timeout(MIRROR_WAIT, self.cluster.wait_caught_up(&self.cancel))
                    .await
                    .map_err(|_| js_err("catch up", "timed out"))??;
            }
            let pending = self.store.outbox_pending()?;
            let plan = pipeline::schedule(&self.prepared, &self.store, &pending)?;
            let wait = if !plan.due_now.is_empty() {
                let mut busy = false;
                for notifier in &plan.due_now {
                    if self.cancel.is_cancelled() {
                        return Ok(Swept::Stopped);
                    }
                    busy |= !self.pass(notifier, None).await?;
                }
                if busy { BUSY_RETRY } else { SWEEP_MIN }
            } else {
                if drain
                    && (pending.is_empty() || plan.all_held)
                    && self.cluster.outbox_depth().await? == 0
                {
                    return Ok(Swept::Drained(pending.len()));
                }
                let until = plan.next.map_or(self.lock_ttl, |t| {
                    (t - Utc::now()).to_std().unwrap_or_default()
                });
                let most = if drain { SWEEP_MIN } else { self.lock_ttl };
                until.clamp(SWEEP_MIN, most.max(SWEEP_MIN))
            };
            tokio::select! {
                () = self.cancel.cancelled() => return Ok(Swept::Stopped),
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
