//! Reads of the streams' state: the log's last seq and the outbox's depth, which the gauges,
//! `cluster status`, the mirror's stall check and `run --once` need.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::retry::{self, retry};
use super::wire::outbox_stream;
use super::{Cluster, ClusterError, RELAY_CONSUMER, js_err};

/// How long a stream-state read (status, gauges, catch-up target) retries.
const STATE_RETRY: Duration = Duration::from_secs(10);

impl Cluster {
    /// The current state (counts, sequences) of one of this cluster's streams; `what` names
    /// the request in the error.
    async fn stream_state(
        &self,
        name: &str,
        what: &str,
    ) -> Result<async_nats::jetstream::stream::State, ClusterError> {
        // A read: every failure may pass (an election), so retry a little.
        let js = &self.inner.js;
        retry(what, STATE_RETRY, retry::never_final, || async move {
            let mut s = js.get_stream(name).await.map_err(|e| e.to_string())?;
            let info = s.info().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(info.state.clone())
        })
        .await
        .map_err(|e| js_err(what, e))
    }

    /// Last seq of the log stream.
    pub async fn stream_last_seq(&self) -> Result<u64, ClusterError> {
        let last = self
            .stream_state(&self.inner.config.stream, "stream info")
            .await?
            .last_sequence;
        self.inner
            .gauges
            .stream_last_seq
            .store(last, Ordering::Relaxed);
        Ok(last)
    }

    /// Notifications waiting in the work queue: not yet handed to a node, or handed and not
    /// yet acked (the relay consumer's pending and ack-pending counts). Messages the consumer
    /// already acked are not counted even if the stream still holds them, which a server
    /// killed between recording an ack and deleting the message can leave behind: nobody
    /// will ever be given them again, so counting them would keep `run --once` waiting.
    pub async fn outbox_depth(&self) -> Result<u64, ClusterError> {
        let name = outbox_stream(&self.inner.config);
        let stream = self
            .inner
            .js
            .get_stream(&name)
            .await
            .map_err(|e| js_err("outbox info", e))?;
        let depth = match stream.consumer_info(RELAY_CONSUMER).await {
            Ok(info) => info.num_pending + info.num_ack_pending as u64,
            // No relay has run yet: everything in the stream is waiting.
            Err(_) => self.stream_state(&name, "outbox info").await?.messages,
        };
        self.inner
            .gauges
            .outbox_depth
            .store(depth, Ordering::Relaxed);
        Ok(depth)
    }
}
