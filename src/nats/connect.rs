//! Connecting to the NATS log: the client with its reconnect events, and the streams and KV
//! buckets every node creates (or finds) at start.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use tokio::sync::watch;
use tracing::{info, warn};

use super::wire::{events_subject, outbox_stream, outbox_subject, relay_bucket};
use super::{Cluster, ClusterError, Inner, js_err};
use crate::config::{LogConfig, redact_url};
use crate::metrics::ClusterGauges;

/// Set-up attempts (streams, buckets) before start-up fails: about half a minute.
const SETUP_TRIES: u32 = 12;

/// The redacted server list, for logs and errors.
fn redacted(urls: &str) -> String {
    urls.split(',')
        .map(|u| {
            url::Url::parse(u.trim()).map_or_else(|_| "<unparsable>".into(), |u| redact_url(&u))
        })
        .collect::<Vec<_>>()
        .join(",")
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
                            crate::metrics::NatsDisconnected.emit(&gauges);
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

/// Opens (or makes) the `<stream>_relay` bucket: one lock per notifier (see [`super::relay`]).
pub(super) async fn open_lock_bucket(
    js: &jetstream::Context,
    config: &LogConfig,
) -> Result<kv::Store, ClusterError> {
    let name = relay_bucket(config);
    let mut locks = open_bucket(
        js,
        kv::Config {
            bucket: name.clone(),
            history: 1,
            // No max age: a lock must not vanish on the server's clock while its holder
            // is alive but cut off by an election (see the relay's module docs).
            max_age: Duration::ZERO,
            num_replicas: config.replicas,
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        },
    )
    .await?;
    let made = locks.stream.cached_info().config.clone();
    if !made.max_age.is_zero() {
        // Made by an earlier version, whose locks expired on the server's clock.
        let mut updated = made;
        updated.max_age = Duration::ZERO;
        js.update_stream(updated)
            .await
            .map_err(|e| js_err(&format!("update bucket {name}"), e))?;
        locks = js
            .get_key_value(&name)
            .await
            .map_err(|e| js_err(&format!("open bucket {name}"), e))?;
    }
    Ok(locks)
}
