//! The write path of the log of record: [`Store::append`](crate::store::Store::append)
//! publishes through here. Articles and alerts go out only under their idempotency claim
//! (see `claims`), an alert enqueues one work item per notifier, and an append returns only
//! once the publish is acked and this node's mirror has applied it.

use async_nats::jetstream;
use async_nats::{HeaderMap, HeaderValue};
use tracing::debug;

use super::retry::{self, DATA_PATH, retry};
use super::wire::{WorkItem, encode, events_subject, outbox_subject};
use super::{Cluster, ClusterError, js_err};
use crate::events::{Event, NewEvent};
use crate::store::{Appended, StoreError, Upstream};

impl Cluster {
    /// Sends a publish without waiting for its ack (the caller awaits the returned future).
    async fn publish_raw(
        &self,
        subject: String,
        msg_id: &str,
        payload: Vec<u8>,
    ) -> Result<jetstream::context::PublishAckFuture, ClusterError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", HeaderValue::from(msg_id));
        self.inner
            .js
            .publish_with_headers(subject, headers, payload.into())
            .await
            .map_err(|e| js_err("publish", e))
    }

    /// Publishes and waits for the ack, retrying through elections and reconnects (the
    /// message id makes a repeat a no-op in the stream).
    async fn publish_acked(
        &self,
        subject: String,
        msg_id: &str,
        payload: Vec<u8>,
    ) -> Result<jetstream::publish::PublishAck, ClusterError> {
        let js = &self.inner.js;
        let payload = bytes::Bytes::from(payload);
        retry("publish", DATA_PATH, retry::publish_final, || {
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", HeaderValue::from(msg_id));
            let (subject, payload) = (subject.clone(), payload.clone());
            async move {
                js.publish_with_headers(subject, headers, payload)
                    .await?
                    .await
            }
        })
        .await
        .map_err(|e| js_err("publish", e))
    }

    /// Publishes an event and waits for its ack (retrying).
    async fn publish_event_acked(
        &self,
        event: &NewEvent,
    ) -> Result<jetstream::publish::PublishAck, ClusterError> {
        self.publish_acked(
            events_subject(&self.inner.config),
            &event.event_id,
            encode(event)?,
        )
        .await
    }

    /// Enqueues one delivery on the work queue and waits for its ack.
    async fn enqueue(
        &self,
        alert_id: &str,
        notifier: &str,
        msg_id: &str,
    ) -> Result<(), ClusterError> {
        let item = WorkItem {
            alert_id: alert_id.into(),
            notifier: notifier.into(),
        };
        let payload = serde_json::to_vec(&item).map_err(|e| js_err("encode a work item", e))?;
        self.publish_acked(outbox_subject(&self.inner.config), msg_id, payload)
            .await
            .map_err(|e| js_err("enqueue a notification", e))?;
        Ok(())
    }

    /// Publishes a batch of events in order, each article and alert under its claim, and
    /// returns once every ack is in and the mirror has applied the last of them.
    async fn publish_all(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>, ClusterError> {
        let mut out = Vec::with_capacity(events.len());
        let mut acks = Vec::new();
        let mut max_seq = 0;
        for event in events {
            let gated = matches!(
                event.event,
                Event::ArticleIngested(_) | Event::AlertRaised(_)
            );
            if gated {
                let Some(revision) = self.claim(&event.event_id).await? else {
                    out.push(Appended::Duplicate(0));
                    continue;
                };
                let ack = self.publish_event_acked(&event).await?;
                max_seq = max_seq.max(ack.sequence);
                if let Event::AlertRaised(alert) = &event.event {
                    for notifier in &alert.notify {
                        let msg_id = format!("{}.{notifier}", event.event_id);
                        self.enqueue(&event.event_id, notifier, &msg_id).await?;
                    }
                }
                self.finish_claim(&event.event_id, revision).await;
                out.push(if ack.duplicate {
                    Appended::Duplicate(ack.sequence)
                } else {
                    Appended::New(ack.sequence)
                });
            } else if let Event::NotificationRetried(retried) = &event.event {
                let ack = self.publish_event_acked(&event).await?;
                max_seq = max_seq.max(ack.sequence);
                if !ack.duplicate {
                    let msg_id = format!("{}.retry", event.event_id);
                    self.enqueue(&retried.alert_id, &retried.notifier, &msg_id)
                        .await?;
                }
                out.push(if ack.duplicate {
                    Appended::Duplicate(ack.sequence)
                } else {
                    Appended::New(ack.sequence)
                });
            } else {
                // Sent at once and acked below, so a feed's events cost one round trip; a
                // send or ack that fails is published again with retries (same message id).
                let payload = encode(&event)?;
                let sent = self
                    .publish_raw(events_subject(&self.inner.config), &event.event_id, payload)
                    .await;
                acks.push((out.len(), event, sent));
                out.push(Appended::Duplicate(0));
            }
        }
        for (i, event, sent) in acks {
            let first = match sent {
                Ok(ack) => ack.await.map_err(|e| js_err("publish", e)),
                Err(e) => Err(e),
            };
            let ack = match first {
                Ok(ack) => ack,
                Err(error) => {
                    debug!(%error, event = %event.event_id, "Publish not acked; publishing again.");
                    self.publish_event_acked(&event).await?
                }
            };
            max_seq = max_seq.max(ack.sequence);
            out[i] = if ack.duplicate {
                Appended::Duplicate(ack.sequence)
            } else {
                Appended::New(ack.sequence)
            };
        }
        if max_seq > 0 {
            self.wait_applied(max_seq).await?;
        }
        Ok(out)
    }
}

impl Upstream for Cluster {
    fn publish(
        &self,
        events: Vec<NewEvent>,
    ) -> futures_util::future::BoxFuture<'_, Result<Vec<Appended>, StoreError>> {
        Box::pin(async move { self.publish_all(events).await.map_err(StoreError::from) })
    }
}
