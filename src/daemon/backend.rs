//! The one seam between the daemon and the log's backend (`[log] backend`): the local sled
//! store alone, or a NATS JetStream cluster mirrored into it.
//!
//! Why it exists: the two backends differ in where a feed's polling state lives, which feeds
//! this node polls, which relay delivers the outbox (and how `--once` drains it) and what a
//! CLI command must attach before it appends. [`Backend`] answers each of those, so the
//! lifecycle, the pollers and the relay supervisor never ask which backend runs.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::cluster_runtime::ClusterRuntime;
use crate::config::{Config, LogBackend};
use crate::error::Error;
use crate::metrics::{ClusterGauges, Metrics, Stats};
use crate::nats::{Cluster, Mirror};
use crate::pipeline::{self, Prepared};
use crate::store::{FeedState, Store, StoreError};

/// The log's backend for one daemon run. Cheap to clone; started before the first
/// generation and stopped after the last, since a reload keeps a NATS node's leases and its
/// place in the stream.
#[derive(Clone)]
pub(crate) enum Backend {
    /// The local sled store is the log: this node polls every feed and relays its own outbox.
    Local,
    /// A NATS cluster is the log of record: feed state and leases are shared, and the outbox
    /// is a work queue every node consumes.
    Nats(ClusterRuntime),
}

impl Backend {
    /// Starts the backend `prepared` configures. With NATS: connects, registers this node,
    /// catches the local mirror up with the stream and starts the lease rounds.
    pub(crate) async fn start(prepared: &Prepared, store: &Store) -> Result<Backend, Error> {
        Ok(match prepared.config.log.backend {
            LogBackend::Sled => Backend::Local,
            LogBackend::Nats => Backend::Nats(ClusterRuntime::start(prepared, store).await?),
        })
    }

    /// Stops what [`start`](Backend::start) started (NATS: releases the leases, stops the
    /// mirror), before the store closes.
    pub(crate) async fn stop(self) {
        if let Backend::Nats(runtime) = self {
            runtime.stop().await;
        }
    }

    /// The service's metrics, with the NATS backend's gauges when it is in use.
    pub(crate) fn metrics(&self, stats: &Arc<Stats>) -> Metrics {
        let mut metrics = Metrics::new(stats.clone());
        if let Backend::Nats(runtime) = self {
            metrics.cluster = runtime.cluster.gauges().clone();
        }
        metrics
    }

    /// A feed's polling state: from the cluster's KV with the NATS backend (so it moves with
    /// the lease), else from the local store.
    pub(crate) async fn feed_state(
        &self,
        store: &Store,
        key: &str,
    ) -> Result<Option<FeedState>, Error> {
        match self {
            Backend::Nats(runtime) => Ok(runtime.cluster.feed_state(key).await?),
            Backend::Local => Ok(store.feed_state(key)?),
        }
    }

    /// Saves a feed's polling state where [`feed_state`](Backend::feed_state) reads it; with
    /// the NATS backend also into the local store, so `parley feeds` on this node shows the
    /// feeds it polls.
    pub(crate) async fn put_feed_state(
        &self,
        store: &Store,
        key: &str,
        state: &FeedState,
    ) -> Result<(), Error> {
        if let Backend::Nats(runtime) = self {
            runtime.cluster.put_feed_state(key, state).await?;
        }
        Ok(store.put_feed_state(key, state).await?)
    }

    /// Whether this node polls the feed `key` now: always with sled; with NATS while it holds
    /// the feed's lease.
    pub(crate) fn owns(&self, key: &str) -> bool {
        match self {
            Backend::Local => true,
            Backend::Nats(runtime) => runtime.leases.owns(key),
        }
    }

    /// Waits until this node polls the feed `key` (another node polls it, or nobody yet,
    /// until then). `false` if `cancel` fired first.
    pub(crate) async fn wait_to_own(&self, key: &str, cancel: &CancellationToken) -> bool {
        let Backend::Nats(runtime) = self else {
            return true;
        };
        let leases = &runtime.leases;
        loop {
            let changed = leases.changed.notified();
            if leases.owns(key) {
                return true;
            }
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = changed => {}
                () = tokio::time::sleep(runtime.cluster.config().lease_ttl) => {}
            }
        }
    }

    /// Delivers notifications until `cancel` fires: the local outbox relay (woken by
    /// `wake`), or with NATS the shared work queue, where each notification goes to one
    /// node of the cluster. The caller's supervisor restarts it after an error.
    pub(crate) async fn relay(
        &self,
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        wake: Arc<Notify>,
        cancel: CancellationToken,
    ) -> Result<(), StoreError> {
        match self {
            Backend::Local => {
                pipeline::relay_loop(prepared, store, stats, wake, cancel, false).await
            }
            Backend::Nats(runtime) => runtime
                .cluster
                .clone()
                .relay(prepared, store, stats, cancel)
                .await
                .map_err(StoreError::from),
        }
    }

    /// `run --once`: delivers what is due (retries included) and leaves what grouping holds
    /// for a later run, through the local outbox or the cluster's locks and work queue.
    pub(crate) async fn drain(
        &self,
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        cancel: CancellationToken,
    ) -> Result<(), Error> {
        match self {
            Backend::Local => {
                let wake = Arc::new(Notify::new());
                Ok(pipeline::relay_loop(prepared, store, stats, wake, cancel, true).await?)
            }
            Backend::Nats(runtime) => Ok(runtime
                .cluster
                .clone()
                .drain(prepared, store, stats, cancel)
                .await?),
        }
    }

    /// For a CLI command that appends (an operator verb): with the NATS backend, makes
    /// `store` publish to the stream, so every node sees the event, and mirror it until
    /// [`Attached::detach`]; nothing to do with sled.
    pub(crate) async fn attach(config: &Config, store: &Store) -> Result<Attached, Error> {
        if config.log.backend != LogBackend::Nats {
            return Ok(Attached(None));
        }
        let cluster = connect(config).await?;
        Ok(Attached(Some(cluster.mirror_caught_up(store).await?)))
    }

    /// `replay` with the NATS backend: empties the local mirror and refills it from the
    /// stream (folding the projections as it goes). Never notifies: nothing here touches
    /// the outbox. Returns the local log's last seq.
    pub(crate) async fn refill_from_stream(config: &Config, store: &Store) -> Result<u64, Error> {
        let cluster = connect(config).await?;
        store.reset_mirror().await?;
        cluster.mirror_caught_up(store).await?.stop().await;
        Ok(store.last_seq()?)
    }
}

/// A CLI command's connection to the NATS cluster, for a command run outside the daemon.
async fn connect(config: &Config) -> Result<Cluster, Error> {
    let gauges = Arc::new(ClusterGauges::default());
    Ok(Cluster::connect(&config.log, gauges).await?)
}

/// What [`Backend::attach`] attached: the running mirror with NATS, nothing with sled.
pub(crate) struct Attached(Option<Mirror>);

impl Attached {
    /// Stops the mirror (NATS), before the store closes.
    pub(crate) async fn detach(self) {
        if let Some(mirror) = self.0 {
            mirror.stop().await;
        }
    }
}
