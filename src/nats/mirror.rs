//! The in-order mirror of the log stream into this node's local store (which keeps the
//! projections), and waiting for it: an append returns once the mirror has applied it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::consumer;
use futures_util::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, warn};

use super::wire::{Wire, events_subject};
use super::{Cluster, ClusterError, MIRROR_WAIT, js_err};
use crate::events::NewEvent;
use crate::store::Store;

/// How often the mirror checks that it still moves while the stream has more; two checks
/// without progress re-create its consumer.
const MIRROR_STALL_CHECK: Duration = Duration::from_secs(5);
/// Messages mirrored per local atomic batch.
const MIRROR_BATCH: usize = 512;

/// A running mirror that had caught up with the stream when [`Cluster::mirror_caught_up`]
/// returned it; it runs until [`Mirror::stop`] (or until its token is cancelled).
#[derive(Debug)]
pub struct Mirror {
    cancel: CancellationToken,
    tracker: TaskTracker,
    caught_up: u64,
}

impl Mirror {
    /// The token that stops the mirror (other tasks of its owner may share it).
    pub fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    /// The tracker the mirror runs on (other tasks of its owner may share it).
    pub fn tracker(&self) -> &TaskTracker {
        &self.tracker
    }

    /// The stream seq the mirror had reached when it was caught up.
    pub fn caught_up_to(&self) -> u64 {
        self.caught_up
    }

    /// Stops the mirror and waits for it (and anything else on its tracker) to end.
    pub async fn stop(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

impl Cluster {
    /// Stream seq mirrored locally.
    pub fn applied(&self) -> u64 {
        *self.inner.applied.borrow()
    }

    /// Waits until the mirror has applied `seq`.
    pub(super) async fn wait_applied(&self, seq: u64) -> Result<(), ClusterError> {
        let mut rx = self.inner.applied.subscribe();
        match tokio::time::timeout(MIRROR_WAIT, rx.wait_for(|s| *s >= seq)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(ClusterError::JetStream("the mirror stopped".into())),
            Err(_) => Err(ClusterError::JetStream(format!(
                "the local mirror did not reach stream seq {seq} within {MIRROR_WAIT:?}"
            ))),
        }
    }

    /// Waits until the mirror has everything the stream held when this was called (start-up
    /// catch-up, `replay`). No time limit: a long stream takes as long as it takes.
    pub async fn wait_caught_up(&self, cancel: &CancellationToken) -> Result<u64, ClusterError> {
        let last = self.stream_last_seq().await?;
        let mut rx = self.inner.applied.subscribe();
        tokio::select! {
            () = cancel.cancelled() => Err(ClusterError::JetStream("cancelled while catching up".into())),
            r = rx.wait_for(|s| *s >= last) => r.map(|_| last).map_err(|_| ClusterError::JetStream("the mirror stopped".into())),
        }
    }

    /// Installs this cluster as `store`'s log of record, starts the mirror and waits until it
    /// has caught up with the stream: the attach, catch up and stop that every user of the
    /// backend runs after connecting (the daemon, `replay`, an operator verb that appends). A
    /// catch-up that fails stops the mirror again before the error is returned.
    pub async fn mirror_caught_up(&self, store: &Store) -> Result<Mirror, ClusterError> {
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        self.attach(store, cancel.clone(), &tracker)?;
        let mut mirror = Mirror {
            cancel,
            tracker,
            caught_up: 0,
        };
        match self.wait_caught_up(&mirror.cancel).await {
            Ok(seq) => {
                mirror.caught_up = seq;
                Ok(mirror)
            }
            Err(error) => {
                mirror.stop().await;
                Err(error)
            }
        }
    }

    /// Installs this cluster as the store's log of record and starts the mirror on
    /// `tracker`. From here on, `store.append` publishes to the stream.
    pub fn attach(
        &self,
        store: &Store,
        cancel: CancellationToken,
        tracker: &tokio_util::task::TaskTracker,
    ) -> Result<(), ClusterError> {
        let cursor = store.stream_cursor()?;
        self.inner.applied.send_replace(cursor);
        self.inner
            .gauges
            .applied_seq
            .store(cursor, Ordering::Relaxed);
        store.set_upstream(Arc::new(self.clone()));
        let (me, store) = (self.clone(), store.clone());
        tracker.spawn(async move {
            me.mirror(store, cancel).await;
        });
        Ok(())
    }

    /// Consumes the stream in order into the local store until cancelled; on errors it
    /// reconnects the consumer (from the durable cursor) with backoff.
    async fn mirror(self, store: Store, cancel: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.mirror_once(&store, &cancel).await {
                Ok(()) => return,
                Err(error) => {
                    warn!(%error, retry_in = ?backoff, "Stream mirror interrupted; resuming.");
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn mirror_once(
        &self,
        store: &Store,
        cancel: &CancellationToken,
    ) -> Result<(), ClusterError> {
        let mut cursor = store.stream_cursor()?;
        let start = cursor + 1;
        let stream = self
            .inner
            .js
            .get_stream(&self.inner.config.stream)
            .await
            .map_err(|e| js_err("open the log stream", e))?;
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: events_subject(&self.inner.config),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| js_err("create the mirror consumer", e))?;
        let mut messages = consumer
            .messages()
            .await
            .map_err(|e| js_err("read the log stream", e))?;
        debug!(from = start, "Mirroring the log stream.");
        // The consumer can go quiet for good without an error: after the server holding it
        // dies, the client re-creates it in the background and keeps retrying when that
        // fails. So the mirror checks on a beat whether it still moves while the stream has
        // more, and starts a fresh consumer from its cursor if it does not.
        let mut beat = tokio::time::interval(MIRROR_STALL_CHECK);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stalled = 0;
        let mut seen = cursor;
        loop {
            let first = tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = self.inner.reconnected.notified() => {
                    return Err(ClusterError::JetStream("reconnected; re-creating the mirror consumer".into()));
                }
                _ = beat.tick() => {
                    if cursor != seen {
                        (seen, stalled) = (cursor, 0);
                    } else if self.stream_last_seq().await.is_ok_and(|last| last > cursor) {
                        stalled += 1;
                        if stalled >= 2 {
                            return Err(ClusterError::JetStream(format!(
                                "the mirror consumer stopped delivering at stream seq {cursor}; re-creating it"
                            )));
                        }
                    } else {
                        stalled = 0;
                    }
                    continue;
                }
                m = messages.next() => m,
            };
            let Some(first) = first else {
                return Err(ClusterError::JetStream("the mirror consumer ended".into()));
            };
            let mut batch = vec![first.map_err(|e| js_err("read the log stream", e))?];
            while batch.len() < MIRROR_BATCH {
                match messages.next().now_or_never() {
                    Some(Some(Ok(m))) => batch.push(m),
                    Some(Some(Err(e))) => {
                        warn!(error = %e, "Mirror read error; applying what was read.");
                        break;
                    }
                    _ => break,
                }
            }
            let mut events = Vec::with_capacity(batch.len());
            let mut last = 0;
            for m in &batch {
                let seq = m
                    .info()
                    .map_err(|e| js_err("message info", e))?
                    .stream_sequence;
                if seq <= cursor {
                    // A re-created consumer may start earlier than asked: already applied.
                    continue;
                }
                last = last.max(seq);
                match serde_json::from_slice::<Wire>(&m.payload) {
                    Ok(w) => events.push(NewEvent {
                        event_id: w.event_id,
                        occurred_at: w.occurred_at,
                        event: w.event,
                    }),
                    // Every node skips the same message, so their projections stay equal.
                    Err(error) => {
                        error!(seq, %error, "Undecodable message in the log stream; skipped.")
                    }
                }
            }
            if last == 0 {
                continue;
            }
            store.append_mirrored(events, last).await?;
            cursor = last;
            self.inner.applied.send_replace(last);
            self.inner.gauges.applied_seq.store(last, Ordering::Relaxed);
        }
    }
}
