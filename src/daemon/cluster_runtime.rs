//! The NATS backend's process-wide part, started before the first generation and stopped
//! after the last: a reload must keep the node's leases and its place in the stream.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use super::FLUSH_DEADLINE;
use crate::error::Error;
use crate::nats::{Cluster, Leases};
use crate::pipeline::Prepared;
use crate::service;
use crate::store::Store;

/// The NATS backend's process-wide part: the connection, the stream mirror and the lease
/// rounds. They outlive configuration generations (a reload keeps the node's leases and
/// position) and stop after the last generation, before the store closes.
#[derive(Clone)]
pub(crate) struct ClusterRuntime {
    /// The connection and the stream mirror.
    pub(super) cluster: Cluster,
    /// Which feeds this node polls.
    pub(super) leases: Arc<Leases>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl ClusterRuntime {
    /// Connects, starts mirroring the stream into `store` and waits until the mirror has
    /// caught up with the stream, then starts the lease rounds.
    pub(super) async fn start(prepared: &Prepared, store: &Store) -> Result<ClusterRuntime, Error> {
        let log = &prepared.config.log;
        let gauges = Arc::new(crate::metrics::ClusterGauges::default());
        let cluster = Cluster::connect(log, gauges).await?;
        // Before mirroring or relaying anything: a second live process with this node id
        // would duplicate notifications, so it must not start.
        crate::nats::lease::register(&cluster).await?;
        service::status("Catching up from the NATS stream");
        let mirror = cluster.mirror_caught_up(store).await?;
        info!(stream_seq = mirror.caught_up_to(), node = %log.node_id, "Caught up with the NATS stream.");
        // The lease rounds share the mirror's token and tracker, so they stop together.
        let (cancel, tracker) = (mirror.cancel().clone(), mirror.tracker().clone());
        let leases = Leases::new(log.lease_ttl);
        tracker.spawn(crate::nats::lease::run(
            cluster.clone(),
            leases.clone(),
            cancel.clone(),
        ));
        Ok(ClusterRuntime {
            cluster,
            leases,
            cancel,
            tracker,
        })
    }

    /// Releases the leases and stops the mirror.
    pub(super) async fn stop(self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(FLUSH_DEADLINE, self.tracker.wait())
            .await
            .is_err()
        {
            warn!("The NATS mirror and lease tasks did not stop in time.");
        }
    }
}
