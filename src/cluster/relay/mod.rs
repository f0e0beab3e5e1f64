//! The cluster's notification relay: the sled relay's decisions, made once for the cluster.
//!
//! Every node mirrors the same log, so every node folds the same outbox and grouping state
//! (pending entries, each notifier's last digest and attempt, each alert group's last
//! delivery). What differs from one node is only *who* acts. This module settles that with
//! one lock per notifier in the `<stream>_relay` KV bucket: a node that holds a notifier's
//! lock first catches its mirror up with the stream (so it sees every outcome an earlier
//! holder recorded before releasing), seeds the notifier's `rate_limit` from the log, then
//! runs [`pipeline::relay_pass`], the sled relay's own code, for that notifier. Digests,
//! `group_wait`/`group_interval`, `repeat_interval` and `rate_limit` are therefore decided by
//! one implementation on shared state, and two nodes never both send a digest or both take a
//! rate-limit slot.
//!
//! **Exactly once through a NATS election.** A delivery is an external send followed by its
//! record in the stream; nothing can undo the send, so the lock must never pass to another
//! node while a send of its holder may still be recorded. Three rules keep that:
//! - *Expiry is observed, not timed by the server.* The bucket has no max age. A node may take
//!   a held lock over only after it has seen the same revision for a whole lock TTL on its own
//!   clock, and then only by compare-and-set on that revision. A holder's renewals retry
//!   through an election (the lock cannot be taken while nobody can read it), and one renewal
//!   that lands resets every observer.
//! - *A holder starts a send only while its lock is surely its own:* before each send it
//!   checks that less than the TTL (minus a margin) has passed since it *asked* for its last
//!   successful create or renewal, the earliest instant anyone could start observing that
//!   revision. A renewal that finds another node's value stops the pass.
//! - *A takeover waits for the previous holder's in-flight work.* A lock is taken over only
//!   from a holder that stopped renewing (dead, or cut off from NATS). Its sends started
//!   before its lock lapsed, so the new holder waits the notifier's send bound plus the time
//!   a record can keep retrying to land ([`RECORD_BUDGET`]), then catches its mirror up to
//!   the stream's last seq, and only then decides. A released lock (deleted after its
//!   holder's outcomes were in the stream) is taken at once, as is one left by this node
//!   itself (an earlier process with the same node id, which is gone).
//!
//! What remains at-least-once: a holder that died mid-request (the receiver may have the
//! message, the log never will), and a holder cut off from NATS for longer than
//! [`RECORD_BUDGET`] after sending. Both repeat with the same `Idempotency-Key` /
//! `Message-ID`. Fencing the records with the lock's revision would not help: a stale
//! holder's record states a true fact (it sent), and rejecting it cannot unsend.
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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer, kv};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use super::retry::{self, DATA_PATH, retry};
use super::{
    Cluster, ClusterError, MIRROR_WAIT, PUBLISH_ACK_WAIT, RELAY_ACK_WAIT, RELAY_CONSUMER, WorkItem,
    js_err, kv_key, open_bucket, outbox_stream, outbox_subject,
};
use crate::config::{NotifierConfig, NotifierKind};
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
/// Least lifetime of a relay lock without renewal: how long another node must see a lock
/// unchanged before it may take it over; long enough that a loaded node's renewals (every
/// third of it) keep a live pass's lock.
const MIN_LOCK_TTL: Duration = Duration::from_secs(10);
/// How long after its send a holder's outcome record may still land in the stream: the
/// data path's publish retries, plus an ack wait before them (the first, unretried attempt),
/// after them (the last attempt) and for a message the server took just before answering.
const RECORD_BUDGET: Duration = DATA_PATH.saturating_add(PUBLISH_ACK_WAIT.saturating_mul(3));
/// First and longest pause between renewal attempts that failed with an error that may pass.
const RENEW_RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(1));
/// SMTP exchanges one message can take (connect, greeting, EHLO, STARTTLS, EHLO, AUTH, MAIL,
/// DATA, body, QUIT), each bounded by the notifier's timeout; plus one RCPT per recipient.
const SMTP_EXCHANGES: u32 = 10;

/// Passes of this process that hold a relay lock now, by the lock's token: a lock holding
/// this node's id and none of these tokens is an orphan of an earlier process (or of a pass
/// here that could not release it), with nothing of it in flight.
static LIVE_TOKENS: LazyLock<std::sync::Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// Whether `--once` found the outbox drained, or only entries held by grouping left.
#[derive(Debug)]
enum Swept {
    /// Cancelled (a stop).
    Stopped,
    /// `--once`: nothing due is left; this many entries stay held for a later run.
    Drained(usize),
}

/// The value of a relay lock: who holds it, since when (for an operator reading the bucket
/// and for `cluster status`), and the holding pass's token.
#[derive(Serialize, Deserialize)]
struct LockValue {
    node: String,
    /// The notifier id (the key may be a hash of it).
    #[serde(default)]
    notifier: String,
    /// Random per pass: tells the pass's own earlier write (a renewal whose answer was lost)
    /// from another holder's.
    #[serde(default)]
    token: String,
    at: DateTime<Utc>,
    /// Taken over from a holder that stopped renewing: its in-flight work may not be settled,
    /// so even this node takes the lock over with a grace if the pass leaves it behind.
    #[serde(default)]
    unsettled: bool,
}

/// One notifier's relay lock, as `cluster status` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RelayLock {
    /// The notifier.
    pub notifier: String,
    /// The node whose pass holds it.
    pub node: String,
    /// When that pass took it (the node's clock).
    pub since: DateTime<Utc>,
}

/// A lock a pass got.
struct Held {
    /// The value written (renewals write it again).
    value: bytes::Bytes,
    revision: u64,
    /// When the winning request was sent: the lock is surely this pass's until a TTL later.
    asked: Instant,
    /// The node it was taken over from (it stopped renewing); None when it was free.
    from: Option<String>,
}

/// Registers a pass's token in [`LIVE_TOKENS`] while it lives.
struct LiveToken(String);

impl LiveToken {
    fn new(token: &str) -> LiveToken {
        live_tokens().insert(token.to_string());
        LiveToken(token.to_string())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        live_tokens().remove(&self.0);
    }
}

fn live_tokens() -> std::sync::MutexGuard<'static, HashSet<String>> {
    LIVE_TOKENS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The longest one send of `config` can take once started: its request timeout (reqwest's
/// covers the whole request), its program's timeout, or for mail every SMTP exchange at the
/// socket timeout. Stdout and log writes are local.
fn send_bound(config: &NotifierConfig) -> Duration {
    match &config.kind {
        NotifierKind::Webhook { timeout, .. }
        | NotifierKind::Chat { timeout, .. }
        | NotifierKind::Ntfy { timeout, .. }
        | NotifierKind::Command { timeout, .. } => *timeout,
        NotifierKind::Email(mail) => mail
            .timeout
            .saturating_mul(SMTP_EXCHANGES + u32::try_from(mail.to.len()).unwrap_or(u32::MAX)),
        NotifierKind::Stdout | NotifierKind::Log => Duration::from_secs(1),
    }
}

/// The relay locks held now (read from the stream leader), for `cluster status`: an empty
/// list when no relay has run yet.
pub(super) async fn read_locks(cluster: &Cluster) -> Result<Vec<RelayLock>, ClusterError> {
    let name = format!("{}_relay", cluster.config().stream);
    let Ok(bucket) = cluster.inner.js.get_key_value(&name).await else {
        return Ok(Vec::new());
    };
    let within = DATA_PATH;
    let keys = super::lease::keys_under(&bucket, "notifier.", within).await?;
    let values = futures_util::future::join_all(
        keys.iter()
            .map(|k| super::lease::value_of(&bucket, k, within)),
    )
    .await;
    let mut out = Vec::new();
    for value in values {
        if let Some(v) = value?
            && let Ok(lock) = serde_json::from_slice::<LockValue>(&v)
        {
            out.push(RelayLock {
                notifier: lock.notifier,
                node: lock.node,
                since: lock.at,
            });
        }
    }
    out.sort_by(|a, b| a.notifier.cmp(&b.notifier));
    Ok(out)
}

/// The pass token in a lock's value, if it parses.
fn token_of(entry: &kv::Entry) -> Option<String> {
    serde_json::from_slice::<LockValue>(&entry.value)
        .ok()
        .map(|v| v.token)
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
    /// Per notifier: the revision of another node's lock this node saw, and since when
    /// (the observed expiry: a lock unchanged for a TTL may be taken over).
    seen: std::sync::Mutex<HashMap<String, (u64, Instant)>>,
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
        let name = format!("{}_relay", config.stream);
        let js = &cluster.inner.js;
        let mut locks = open_bucket(
            js,
            kv::Config {
                bucket: name.clone(),
                history: 1,
                // No max age: a lock must not vanish on the server's clock while its holder
                // is alive but cut off by an election (see the module docs).
                max_age: Duration::ZERO,
                num_replicas: config.replicas,
                storage: jetstream::stream::StorageType::File,
                ..Default::default()
            },
        )
        .await?;
        let made = locks.stream.cached_info().config.clone();
        if !made.max_age.is_zero() {
            // Made by an earlier version, whose locks expired on the server's clock.
            let mut updated = made;
            updated.max_age = Duration::ZERO;
            js.update_stream(updated)
                .await
                .map_err(|e| js_err(&format!("update bucket {name}"), e))?;
            locks = js
                .get_key_value(&name)
                .await
                .map_err(|e| js_err(&format!("open bucket {name}"), e))?;
        }
        Ok(Relay {
            cluster,
            prepared,
            store,
            stats,
            locks,
            lock_ttl,
            seen: std::sync::Mutex::default(),
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
    /// the lock is renewed (retrying through elections) and `progress` (the work item that
    /// started it) kept from redelivery; no send starts once the lock may have lapsed, and a
    /// lock lost to another node stops the pass (see the module docs).
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
        let token = format!("{:016x}", fastrand::u64(..));
        let _live = LiveToken::new(&token);
        let Some(held) = self.take(notifier, &key, &token).await? else {
            return Ok(false);
        };
        let (value, mut revision) = (held.value, held.revision);
        let ttl = self.lock_ttl;
        // Sends stop a margin before anyone could take the lock over (scheduling, clock rates).
        let margin = ttl / 5;
        let valid_until = std::sync::Mutex::new(held.asked + ttl);
        let lapses = || *valid_until.lock().unwrap_or_else(|p| p.into_inner()) - margin;
        let may_send = || Instant::now() < lapses();
        let cancel = self.cancel.child_token();
        let grace = held.from.as_ref().map(|from| {
            let send = self
                .prepared
                .notifiers
                .get(notifier)
                .map_or(Duration::ZERO, |n| send_bound(n.config()));
            let grace = send + RECORD_BUDGET;
            warn!(notifier, from = %from, ?grace, "Took over a relay lock its holder stopped renewing; waiting for its in-flight delivery to be recorded.");
            grace
        });
        // Whether the previous holder's in-flight work is settled (at once for a free lock):
        // a pass stopped during its grace leaves the lock for the next node's grace.
        let settled = std::sync::atomic::AtomicBool::new(grace.is_none());
        let work = async {
            if let Some(grace) = grace {
                tokio::select! {
                    () = cancel.cancelled() => return Ok(()),
                    () = tokio::time::sleep(grace) => {}
                }
                settled.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            // Every outcome an earlier holder recorded is in the stream before it released
            // the lock (or before the grace above ended): fold it in before deciding anything.
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
                &may_send,
                Some(notifier),
            )
            .await?;
            Ok::<(), ClusterError>(())
        };
        let renew_every = (ttl / 3).min(RELAY_ACK_WAIT / 3);
        let mut lost = false;
        let keep = async {
            let mut next = held.asked + renew_every;
            let mut pause = RENEW_RETRY.0;
            let mut warned = false;
            loop {
                tokio::time::sleep_until(next).await;
                let asked = Instant::now();
                match self.locks.update(&key, value.clone(), revision).await {
                    Ok(rev) => {
                        revision = rev;
                        *valid_until.lock().unwrap_or_else(|p| p.into_inner()) = asked + ttl;
                        (next, pause) = (asked + renew_every, RENEW_RETRY.0);
                        if warned {
                            info!(notifier, "Relay lock renewed again; deliveries resume.");
                            warned = false;
                        }
                        if let Some(m) = progress {
                            let _ = m.ack_with(AckKind::Progress).await;
                        }
                        continue;
                    }
                    Err(e) if retry::update_final(&e) => {
                        // An earlier renewal landed unseen, or another node took the lock.
                        match self.read_lock(&key).await {
                            Ok(Some(entry))
                                if token_of(&entry).as_deref() == Some(token.as_str()) =>
                            {
                                // Ours, written at some point after an earlier ask: the
                                // lock's life is not extended until a renewal answers.
                                revision = entry.revision;
                                (next, pause) = (Instant::now(), RENEW_RETRY.0);
                                continue;
                            }
                            Ok(_) => {
                                warn!(
                                    notifier,
                                    "Lost a notifier's relay lock to another node; the pass stops."
                                );
                                lost = true;
                                cancel.cancel();
                                return;
                            }
                            Err(error) => {
                                debug!(notifier, %error, "Cannot read a relay lock; retrying.")
                            }
                        }
                    }
                    // An election or a reconnect: the lock may well still be ours.
                    Err(error) => debug!(notifier, %error, "Relay lock renewal failed; retrying."),
                }
                if !warned && !may_send() {
                    warn!(
                        notifier,
                        "Relay lock not renewed in time; no delivery starts until it is."
                    );
                    warned = true;
                }
                next = Instant::now() + pause;
                pause = (pause * 2).min(RENEW_RETRY.1);
            }
        };
        let result = {
            tokio::pin!(work);
            tokio::select! {
                r = &mut work => r,
                () = keep => work.await,
            }
        };
        if !lost && settled.load(std::sync::atomic::Ordering::Relaxed) {
            let locks = &self.locks;
            let released = retry("release a relay lock", ttl, retry::update_final, || {
                locks.delete_expect_revision(&key, Some(revision))
            })
            .await;
            match released {
                Ok(()) => {}
                // The pass ended before a renewal could notice: the sends it started before
                // its lock lapsed are recorded, the taker waits for them.
                // (Unless an earlier attempt of this delete landed unseen: then it is gone.)
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    if let Ok(Some(entry)) = self.read_lock(&key).await
                        && token_of(&entry).as_deref() != Some(token.as_str())
                    {
                        warn!(
                            notifier,
                            "Lost a notifier's relay lock to another node during the pass."
                        );
                    }
                }
                Err(error) => {
                    debug!(notifier, %error, "Relay lock not released (another node takes it over after a TTL).");
                }
            }
        }
        result.map(|()| true)
    }

    /// Takes `notifier`'s lock if it is free, left by this node, or unchanged for a whole
    /// TTL since this node first saw it (its holder stopped renewing); None when busy.
    async fn take(
        &self,
        notifier: &str,
        key: &str,
        token: &str,
    ) -> Result<Option<Held>, ClusterError> {
        let value = |unsettled: bool| -> Result<bytes::Bytes, ClusterError> {
            Ok(serde_json::to_vec(&LockValue {
                node: self.cluster.config().node_id.clone(),
                notifier: notifier.to_string(),
                token: token.to_string(),
                at: Utc::now(),
                unsettled,
            })
            .map_err(|e| js_err("encode a relay lock", e))?
            .into())
        };
        let fresh = value(false)?;
        let asked = Instant::now();
        match self.locks.create(key, fresh.clone()).await {
            Ok(revision) => {
                return Ok(Some(Held {
                    value: fresh,
                    revision,
                    asked,
                    from: None,
                }));
            }
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(js_err("take a notifier's relay lock", e)),
        }
        let Some(entry) = self.read_lock(key).await? else {
            // Released meanwhile: the next try creates it.
            return Ok(None);
        };
        // Read after the value was written, so the holder asked for it before this instant.
        let read = Instant::now();
        let holder = serde_json::from_slice::<LockValue>(&entry.value).ok();
        let orphan = holder.as_ref().is_some_and(|h| {
            h.node == self.cluster.config().node_id
                && !h.unsettled
                && !live_tokens().contains(&h.token)
        });
        if !orphan {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let since = match seen.get(notifier) {
                Some(&(rev, since)) if rev == entry.revision => since,
                _ => {
                    seen.insert(notifier.to_string(), (entry.revision, read));
                    read
                }
            };
            if read.duration_since(since) < self.lock_ttl {
                return Ok(None);
            }
        }
        let value = if orphan { fresh } else { value(true)? };
        let asked = Instant::now();
        match self.locks.update(key, value.clone(), entry.revision).await {
            Ok(revision) => {
                self.seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(notifier);
                let from = if orphan {
                    info!(
                        notifier,
                        "Took over a relay lock an earlier process of this node left."
                    );
                    None
                } else {
                    Some(holder.map_or_else(|| "an unknown node".into(), |h| h.node))
                };
                Ok(Some(Held {
                    value,
                    revision,
                    asked,
                    from,
                }))
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(None),
            Err(e) => Err(js_err("take over a relay lock", e)),
        }
    }

    /// A lock's current entry, read through the bucket's stream leader (None when absent or
    /// released).
    async fn read_lock(&self, key: &str) -> Result<Option<kv::Entry>, ClusterError> {
        let entry = self
            .locks
            .entry(key)
            .await
            .map_err(|e| js_err("read a relay lock", e))?;
        Ok(entry.filter(|e| e.operation == kv::Operation::Put))
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
