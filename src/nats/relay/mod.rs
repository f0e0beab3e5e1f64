//! The cluster's notification relay: the sled relay's decisions, made once for the cluster.
//!
//! Every node mirrors the same log, so every node folds the same outbox and grouping state
//! (pending entries, each notifier's last digest and attempt, each alert group's last
//! delivery). What differs from one node is only *who* acts. This module settles that with
//! one lock per notifier in the `<stream>_relay` KV bucket: a node that holds a notifier's
//! lock first catches its mirror up with the stream (so it sees every outcome an earlier
//! holder recorded before releasing), seeds the notifier's `rate_limit` from the log, then
//! runs [`pipeline::relay_pass`](crate::pipeline::relay_pass), the sled relay's own code, for that notifier. Digests,
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
//!
//! One job per file: `lock` (the notifier locks: taking one, reading them for `cluster
//! status`), `pass` (one notifier's pass under its lock, renewed while it runs), `queue` (the
//! work items) and `sweep` (the log's schedule, and `--once`'s drain).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use super::connect::open_lock_bucket;
use super::retry::DATA_PATH;
use super::{Cluster, ClusterError, PUBLISH_ACK_WAIT};
use crate::pipeline::{Prepared, Stats};
use crate::store::Store;
use sweep::Swept;

mod lock;
mod pass;
mod queue;
mod sweep;

pub use lock::RelayLock;
pub(super) use lock::read_locks;

/// When a notifier is busy (another node, or another task here, runs its pass), the sweep
/// tries again after this long. The busy pass delivers what was due when it started.
const BUSY_RETRY: Duration = Duration::from_secs(1);
/// Least lifetime of a relay lock without renewal: how long another node must see a lock
/// unchanged before it may take it over; long enough that a loaded node's renewals (every
/// third of it) keep a live pass's lock.
const MIN_LOCK_TTL: Duration = Duration::from_secs(10);
/// How long after its send a holder's outcome record may still land in the stream: the
/// data path's publish retries, plus an ack wait before them (the first, unretried attempt),
/// after them (the last attempt) and for a message the server took just before answering.
const RECORD_BUDGET: Duration = DATA_PATH.saturating_add(PUBLISH_ACK_WAIT.saturating_mul(3));

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
    /// A generation's relay, with the lock bucket opened (and made, on the first run).
    async fn open(
        cluster: Cluster,
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        cancel: CancellationToken,
    ) -> Result<Relay, ClusterError> {
        let config = cluster.config();
        let lock_ttl = config.lease_ttl.max(MIN_LOCK_TTL);
        let locks = open_lock_bucket(&cluster.inner.js, config).await?;
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
}
