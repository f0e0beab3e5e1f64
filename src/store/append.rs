//! Writing through the single appender: appends (to this log, or to the upstream log of
//! record with the NATS backend), the mirror's cursor and reset, the liveness ping, and
//! replay. Every write is a request on the appender's channel, answered after its flush.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::appender::{ReplayMsg, Request};
use super::{Appended, ReplayStats, Store, StoreError, Upstream, keys};
use crate::events::NewEvent;

impl Store {
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
}
