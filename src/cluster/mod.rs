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

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use async_nats::{HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::config::{LogConfig, redact_url};
use crate::events::{Event, NewEvent, stable_id};
use crate::metrics::ClusterGauges;
use crate::store::{Appended, FeedState, Store, StoreError, Upstream};
use retry::{DATA_PATH, retry};

pub mod lease;
mod relay;
pub mod retry;
pub mod status;

pub use lease::Leases;
pub use relay::RelayLock;

/// How long an append waits for its own events to come back through the mirror before it
/// reports the mirror as stuck.
const MIRROR_WAIT: Duration = Duration::from_secs(30);
/// Set-up attempts (streams, buckets) before start-up fails: about half a minute.
const SETUP_TRIES: u32 = 12;
/// How long a stream-state read (status, gauges, catch-up target) retries.
const STATE_RETRY: Duration = Duration::from_secs(10);
/// How often the mirror checks that it still moves while the stream has more; two checks
/// without progress re-create its consumer.
const MIRROR_STALL_CHECK: Duration = Duration::from_secs(5);
/// Messages mirrored per local atomic batch.
const MIRROR_BATCH: usize = 512;
/// How long a node may hold a notification before JetStream gives it to another node: above
/// the longest delivery (a notifier's timeout, 10 s by default; the relay also sends a
/// progress ack after waiting for its rate limit), short enough that a dead node's
/// in-flight notification moves on soon.
const RELAY_ACK_WAIT: Duration = Duration::from_secs(30);
/// How long async-nats waits for a publish ack (its default: the context sets no timeout of
/// its own). With [`DATA_PATH`] it bounds how long a publish can keep trying to land.
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

/// The wire form of an event in the stream: a [`NewEvent`] (the envelope's seq and
/// recorded_at are the mirror's business).
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    event_id: String,
    occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    event: Event,
}

/// One notification to deliver, as queued on the outbox work queue.
#[derive(Debug, Serialize, Deserialize)]
struct WorkItem {
    alert_id: String,
    notifier: String,
}

/// The value of an idempotency claim in the `_ids` bucket.
#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    node: String,
    at: DateTime<Utc>,
    /// Set once the event (and, for an alert, its work items) is in the stream.
    done: bool,
}

/// The redacted server list, for logs and errors.
fn redacted(urls: &str) -> String {
    urls.split(',')
        .map(|u| {
            url::Url::parse(u.trim()).map_or_else(|_| "<unparsable>".into(), |u| redact_url(&u))
        })
        .collect::<Vec<_>>()
        .join(",")
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
    /// Connects, and creates the streams and buckets if they do not exist yet (every node
    /// does this at start; creating an identical stream twice is a no-op in JetStream).
    /// The client reconnects by itself with backoff; losing and regaining the connection is
    /// logged and reflected in `gauges.connected` (and so in `/readyz`).
    pub async fn connect(
        config: &LogConfig,
        gauges: Arc<ClusterGauges>,
    ) -> Result<Cluster, ClusterError> {
        let url = redacted(&config.url);
        gauges.enabled.store(true, Ordering::Release);
        let events_gauges = gauges.clone();
        let reconnected = Arc::new(tokio::sync::Notify::new());
        let events_reconnected = reconnected.clone();
        let options = async_nats::ConnectOptions::new()
            .name(format!("parley-{}", config.node_id))
            .connection_timeout(Duration::from_secs(5))
            .event_callback(move |event| {
                let gauges = events_gauges.clone();
                let reconnected = events_reconnected.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            gauges.connected.store(true, Ordering::Release);
                            // Ephemeral consumers may be gone (a restarted server): the
                            // mirror and the relay re-create theirs from where they are.
                            reconnected.notify_waiters();
                            info!("NATS connection established.");
                        }
                        async_nats::Event::Disconnected => {
                            gauges.connected.store(false, Ordering::Release);
                            gauges.disconnects.fetch_add(1, Ordering::Relaxed);
                            warn!("NATS connection lost; reconnecting with backoff.");
                        }
                        other => warn!(event = %other, "NATS client event."),
                    }
                }
            });
        let servers: Vec<async_nats::ServerAddr> = config
            .url
            .split(',')
            .map(|u| u.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|e| ClusterError::Connect {
                url: url.clone(),
                message: format!("bad server address: {e}"),
            })?;
        let client = options
            .connect(servers)
            .await
            .map_err(|e| ClusterError::Connect {
                url: url.clone(),
                message: e.to_string(),
            })?;
        gauges.connected.store(true, Ordering::Release);
        let js = jetstream::new(client);
        // A JetStream cluster that is still electing its leaders answers "temporarily
        // unavailable": retry the set-up with backoff for a while before giving up.
        let mut backoff = Duration::from_millis(200);
        let mut tries = 0;
        let (ids, leases, feeds) = loop {
            match setup(&js, config).await {
                Ok(buckets) => break buckets,
                Err(error) if tries < SETUP_TRIES => {
                    tries += 1;
                    warn!(%error, retry_in = ?backoff, "JetStream not ready; retrying.");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(3));
                }
                Err(error) => return Err(error),
            }
        };
        let replicas = config.replicas;
        info!(url = %url, stream = %config.stream, node = %config.node_id, replicas, "Connected to the NATS log.");
        Ok(Cluster {
            inner: Arc::new(Inner {
                config: config.clone(),
                js,
                ids,
                leases,
                feeds,
                applied: watch::channel(0).0,
                reconnected,
                gauges,
                instance: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
                started: chrono::Utc::now(),
            }),
        })
    }

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

    /// Stream seq mirrored locally.
    pub fn applied(&self) -> u64 {
        *self.inner.applied.borrow()
    }

    /// Waits until the mirror has applied `seq`.
    async fn wait_applied(&self, seq: u64) -> Result<(), ClusterError> {
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

    /// Claims an id for good: `true` if this node may publish it. A claim is taken over
    /// when it is unfinished and older than a lease TTL (its node died in between).
    async fn claim(&self, id: &str) -> Result<Option<u64>, ClusterError> {
        let key = kv_key(id);
        let ids = &self.inner.ids;
        let me = &self.inner.config.node_id;
        let value = claim_value(me, false);
        match retry("claim an id", DATA_PATH, retry::create_final, || {
            ids.create(&key, value.clone())
        })
        .await
        {
            Ok(rev) => return Ok(Some(rev)),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(e) => return Err(js_err("claim an id", e)),
        }
        let Some(entry) = self.read_claim(&key).await? else {
            return Ok(None);
        };
        let claim = serde_json::from_slice::<Claim>(&entry.value).ok();
        let (mine, stale) = match &claim {
            Some(c) if !c.done => (
                // An earlier attempt of this very create landed but its answer was lost (or
                // this node restarted in between): the claim is this node's.
                &c.node == me,
                Utc::now() - c.at
                    > chrono::Duration::from_std(self.inner.config.lease_ttl).unwrap_or_default(),
            ),
            _ => (false, false),
        };
        if mine {
            return Ok(Some(entry.revision));
        }
        if !stale {
            return Ok(None);
        }
        match retry("take over a claim", DATA_PATH, retry::update_final, || {
            ids.update(&key, value.clone(), entry.revision)
        })
        .await
        {
            Ok(rev) => {
                warn!(id, "Took over an unfinished claim of a dead node.");
                Ok(Some(rev))
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                // Another node took it over first, or this node's own lost-answer attempt
                // landed: look once more.
                match self.read_claim(&key).await? {
                    Some(now)
                        if serde_json::from_slice::<Claim>(&now.value)
                            .is_ok_and(|c| !c.done && &c.node == me) =>
                    {
                        Ok(Some(now.revision))
                    }
                    _ => Ok(None),
                }
            }
            Err(e) => Err(js_err("take over a claim", e)),
        }
    }

    /// The current entry of a claim (read from the bucket's stream leader).
    async fn read_claim(&self, key: &str) -> Result<Option<kv::Entry>, ClusterError> {
        let ids = &self.inner.ids;
        retry("read a claim", DATA_PATH, retry::entry_final, || {
            ids.entry(key)
        })
        .await
        .map_err(|e| js_err("read a claim", e))
    }

    async fn finish_claim(&self, id: &str, revision: u64) {
        let key = kv_key(id);
        let ids = &self.inner.ids;
        let value = claim_value(&self.inner.config.node_id, true);
        let mut revision = revision;
        for _ in 0..2 {
            match retry("finish a claim", DATA_PATH, retry::update_final, || {
                ids.update(&key, value.clone(), revision)
            })
            .await
            {
                Ok(_) => return,
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    // The revision moved: an earlier attempt may have landed already.
                    match self.read_claim(&key).await {
                        Ok(Some(entry)) => match serde_json::from_slice::<Claim>(&entry.value) {
                            Ok(c) if c.done => return,
                            Ok(c) if c.node == self.inner.config.node_id => {
                                revision = entry.revision;
                            }
                            _ => break,
                        },
                        _ => break,
                    }
                }
                Err(error) => {
                    warn!(id, %error, "Cannot mark a claim done (harmless: the event is in the stream).");
                    return;
                }
            }
        }
        warn!(
            id,
            "Cannot mark a claim done (harmless: the event is in the stream)."
        );
    }

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

    /// The stream form of an event.
    fn wire(event: &NewEvent) -> Result<Vec<u8>, ClusterError> {
        let wire = serde_json::json!({
            "event_id": event.event_id,
            "occurred_at": event.occurred_at,
            "kind": event.event.kind(),
            "payload": match serde_json::to_value(&event.event) {
                Ok(v) => v.get("payload").cloned().unwrap_or_default(),
                Err(e) => return Err(js_err("encode an event", e)),
            },
        });
        serde_json::to_vec(&wire).map_err(|e| js_err("encode an event", e))
    }

    /// Publishes an event and waits for its ack (retrying).
    async fn publish_event_acked(
        &self,
        event: &NewEvent,
    ) -> Result<jetstream::publish::PublishAck, ClusterError> {
        self.publish_acked(
            events_subject(&self.inner.config),
            &event.event_id,
            Self::wire(event)?,
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
                let payload = Self::wire(&event)?;
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

    /// A feed's polling state, shared by the cluster so it moves with the lease.
    pub async fn feed_state(&self, feed_key: &str) -> Result<Option<FeedState>, ClusterError> {
        let key = stable_id("feed", &[feed_key]);
        let feeds = &self.inner.feeds;
        match retry("read a feed state", DATA_PATH, retry::entry_final, || {
            feeds.get(&key)
        })
        .await
        .map_err(|e| js_err("read a feed state", e))?
        {
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| js_err(&format!("feed state of {feed_key}"), e)),
            None => Ok(None),
        }
    }

    /// Saves a feed's polling state in the cluster.
    pub async fn put_feed_state(
        &self,
        feed_key: &str,
        state: &FeedState,
    ) -> Result<(), ClusterError> {
        let key = stable_id("feed", &[feed_key]);
        let value = bytes::Bytes::from(
            serde_json::to_vec(state).map_err(|e| js_err("encode a feed state", e))?,
        );
        let feeds = &self.inner.feeds;
        retry("save a feed state", DATA_PATH, retry::put_final, || {
            feeds.put(&key, value.clone())
        })
        .await
        .map_err(|e| js_err("save a feed state", e))?;
        Ok(())
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

fn claim_value(node: &str, done: bool) -> bytes::Bytes {
    serde_json::to_vec(&Claim {
        node: node.into(),
        at: Utc::now(),
        done,
    })
    .unwrap_or_default()
    .into()
}

/// A KV key for an event id (ids are `prefix-hex`, already valid KV keys; anything else is
/// hashed so a feed-made id can never be an invalid key).
fn kv_key(id: &str) -> String {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        id.to_string()
    } else {
        stable_id("id", &[id])
    }
}

/// Creates (or finds) the log and outbox streams and the three KV buckets.
async fn setup(
    js: &jetstream::Context,
    config: &LogConfig,
) -> Result<(kv::Store, kv::Store, kv::Store), ClusterError> {
    let replicas = config.replicas;
    js.get_or_create_stream(stream::Config {
        name: config.stream.clone(),
        subjects: vec![events_subject(config)],
        num_replicas: replicas,
        duplicate_window: Duration::from_secs(120),
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| js_err("create the log stream", e))?;
    js.get_or_create_stream(stream::Config {
        name: outbox_stream(config),
        subjects: vec![outbox_subject(config)],
        retention: stream::RetentionPolicy::WorkQueue,
        num_replicas: replicas,
        duplicate_window: Duration::from_secs(120),
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| js_err("create the outbox stream", e))?;
    let bucket = |suffix: &str, max_age: Duration| kv::Config {
        bucket: format!("{}_{suffix}", config.stream),
        history: 1,
        max_age,
        num_replicas: replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    };
    let ids = open_bucket(js, bucket("ids", Duration::ZERO)).await?;
    let leases = open_bucket(js, bucket("leases", config.lease_ttl)).await?;
    let feeds = open_bucket(js, bucket("feeds", Duration::ZERO)).await?;
    Ok((ids, leases, feeds))
}

async fn open_bucket(
    js: &jetstream::Context,
    config: kv::Config,
) -> Result<kv::Store, ClusterError> {
    let name = config.bucket.clone();
    if let Ok(store) = js.get_key_value(&name).await {
        if !store.stream.cached_info().config.allow_direct {
            return Ok(store);
        }
        // A bucket made by an earlier version, with direct gets: switch them off (below).
        let mut updated = store.stream.cached_info().config.clone();
        updated.allow_direct = false;
        js.update_stream(updated)
            .await
            .map_err(|e| js_err(&format!("update bucket {name}"), e))?;
        return js
            .get_key_value(&name)
            .await
            .map_err(|e| js_err(&format!("open bucket {name}"), e));
    }
    // The bucket's stream is created by hand, with the KV conventions async-nats uses
    // (subjects `$KV.<bucket>.>`, roll-ups allowed, deletes denied, one message per key,
    // discard new): its `create_key_value` first asks for account info, whose answer from
    // the 2.9 server Debian ships does not parse. Creating an identical stream twice is a
    // no-op, so nodes starting together do not race.
    //
    // Unlike the KV default, direct gets are OFF: with replicas, a direct get may be answered
    // by a follower that has not applied the latest write yet, and claims, leases and feed
    // states need to read what was last written (a read through the stream leader does).
    js.get_or_create_stream(stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: config.history.max(1),
        max_age: config.max_age,
        storage: config.storage,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: false,
        num_replicas: config.num_replicas.max(1),
        discard: stream::DiscardPolicy::New,
        duplicate_window: if config.max_age.is_zero() {
            Duration::from_secs(120)
        } else {
            config.max_age.min(Duration::from_secs(120))
        },
        ..Default::default()
    })
    .await
    .map_err(|e| js_err(&format!("create bucket {name}"), e))?;
    js.get_key_value(&name)
        .await
        .map_err(|e| js_err(&format!("open bucket {name}"), e))
}

/// Subject of the log stream.
pub fn events_subject(config: &LogConfig) -> String {
    format!("{}.events", config.stream)
}

/// Name of the outbox work-queue stream.
pub fn outbox_stream(config: &LogConfig) -> String {
    format!("{}_OUTBOX", config.stream)
}

/// Subject of the outbox work queue.
pub fn outbox_subject(config: &LogConfig) -> String {
    format!("{}.outbox", config.stream)
}
