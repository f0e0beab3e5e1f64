//! The work items of the outbox work queue, read through the one shared durable consumer:
//! each is settled, runs its notifier's pass when its entry is due, or is left to the log's
//! schedule.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, warn};

use super::{BUSY_RETRY, Relay};
use crate::nats::wire::{WorkItem, outbox_stream, outbox_subject};
use crate::nats::{ClusterError, RELAY_ACK_WAIT, RELAY_CONSUMER, js_err};
use crate::pipeline;
use crate::store::OutboxEntry;

/// Work items handled at once by one node (the sled relay also has 8 deliveries in flight).
const IN_FLIGHT: usize = 8;
/// How long a work item waits for this node's mirror to catch up before it is looked at.
const ITEM_CATCH_UP: Duration = Duration::from_secs(10);

/// What the log says about one work item's (alert, notifier).
enum ItemState {
    /// Delivered, given up, or never meant for this notifier: nothing to do.
    Settled,
    /// The alert is not in this node's mirror yet.
    NotMirrored,
    /// Pending in the outbox.
    Pending(OutboxEntry),
}

impl Relay {
    /// Reads work items until cancelled, up to [`IN_FLIGHT`] at once; waits for those in
    /// hand before returning.
    pub(super) async fn consume(self: &Arc<Self>) -> Result<(), ClusterError> {
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
}
