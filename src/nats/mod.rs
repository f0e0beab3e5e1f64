//! The NATS JetStream backend (`[log] backend = "nats"`): several nodes share one log.
//!
//! - **Log of record**: the stream `<stream>` (subject `<stream>.events`). Every event is
//!   published with `Nats-Msg-Id = event_id` (deduplicated within the stream's window), and
//!   [`Store::append`] returns only after the publish ack AND after this node's mirror has
//!   applied it, so nothing downstream acts before the log of record has it.
//! - **Permanent idempotency**: articles and alerts are published only by the node whose KV
//!   create of their id (bucket `<stream>_ids`) succeeds. A claim left by a node that died
//!   between claiming and publishing is taken over once it is older than a lease TTL.
//! - **Mirror**: each node consumes the stream in order (an ordered consumer) and appends to
//!   its local sled store, which keeps the projections; `mstream_cursor` says where to resume.
//! - **Outbox**: the winner of an alert's claim enqueues one work item per notifier on the
//!   work-queue stream `<stream>_OUTBOX`, consumed by ONE shared durable consumer (`relay`):
//!   acked after a successful delivery, redelivered (nak with the retry delay, or after the
//!   ack wait when the node died) otherwise. Replay only folds, so it never notifies.
//! - **Feed leases**: see [`lease`].
//!
//! Only `store` touches sled; this module talks to the local log through [`Store`].
//!
//! One job per file: `connect` (the connection, the streams and buckets), `wire` (what the
//! streams carry, and their names), `publish` (the log of record's write path), `claims`
//! (permanent idempotency), `mirror` (the in-order copy into the local store), `streams`
//! (stream state for the gauges and `cluster status`), `feeds` (feed polling state),
//! `keys` (the one create-or-recognise / compare-and-set-or-recognise write that claims,
//! leases and relay locks share), `lease`, `relay`, `retry` and `status`.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use tokio::sync::watch;

use crate::config::LogConfig;
use crate::metrics::ClusterGauges;
use crate::store::StoreError;

mod claims;
mod connect;
mod feeds;
mod keys;
pub mod lease;
mod mirror;
mod publish;
mod relay;
pub mod retry;
pub mod status;
mod streams;
mod wire;

pub use lease::Leases;
pub use mirror::Mirror;

/// How long an append waits for its own events to come back through the mirror before it
/// reports the mirror as stuck.
const MIRROR_WAIT: Duration = Duration::from_secs(30);
/// How long a node may hold a notification before JetStream gives it to another node: above
/// the longest delivery (a notifier's timeout, 10 s by default; the relay also sends a
/// progress ack after waiting for its rate limit), short enough that a dead node's
/// in-flight notification moves on soon.
const RELAY_ACK_WAIT: Duration = Duration::from_secs(30);
/// How long async-nats waits for a publish ack (its default: the context sets no timeout of
/// its own). With [`retry::DATA_PATH`] it bounds how long a publish can keep trying to land.
const PUBLISH_ACK_WAIT: Duration = Duration::from_secs(5);
/// The shared durable consumer of the outbox work queue.
pub const RELAY_CONSUMER: &str = "relay";

/// Errors of the NATS backend.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Connecting to the NATS server(s) failed.
    #[error("NATS at {url}: {message}")]
    Connect {
        /// The server URL(s), redacted.
        url: String,
        /// What failed.
        message: String,
    },
    /// A JetStream or KV operation failed.
    #[error("NATS JetStream: {0}")]
    JetStream(String),
    /// The local store (the mirror) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another live process uses this node's id (a configuration error: exit 78).
    #[error(
        "node id {node:?} is in use by another live parley process (instance {instance}, started {started}); give each node its own `log.node_id` in the [log] table"
    )]
    DuplicateNode {
        /// The node id both use.
        node: String,
        /// The other process's instance token.
        instance: String,
        /// When the other process started (RFC 3339), if it said.
        started: String,
    },
}

impl From<ClusterError> for StoreError {
    fn from(e: ClusterError) -> StoreError {
        match e {
            ClusterError::Store(s) => s,
            other => StoreError::Upstream {
                message: other.to_string(),
            },
        }
    }
}

fn js_err(what: &str, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::JetStream(format!("{what}: {e}"))
}

/// A connection to the cluster: the streams, the buckets and this node's mirror position.
/// Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    config: LogConfig,
    js: jetstream::Context,
    ids: kv::Store,
    leases: kv::Store,
    feeds: kv::Store,
    /// Stream seq mirrored into the local store.
    applied: watch::Sender<u64>,
    /// Woken each time the connection comes back.
    reconnected: Arc<tokio::sync::Notify>,
    gauges: Arc<ClusterGauges>,
    /// This process's random token in its presence key (see [`lease::register`]).
    instance: String,
    /// When this process connected.
    started: chrono::DateTime<chrono::Utc>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("config", &self.inner.config)
            .field("applied", &*self.inner.applied.borrow())
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// The `[log]` config this connection was made with.
    pub fn config(&self) -> &LogConfig {
        &self.inner.config
    }

    /// This process's instance token: tells two processes with one node id apart.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// When this process connected to the log.
    pub fn started(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.started
    }

    /// The gauges this connection keeps current.
    pub fn gauges(&self) -> &Arc<ClusterGauges> {
        &self.inner.gauges
    }

    /// The lease bucket (for [`lease`] and `cluster status`).
    pub(crate) fn leases_bucket(&self) -> &kv::Store {
        &self.inner.leases
    }
}
