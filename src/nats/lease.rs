//! Feed sharding by lease. Feeds hash into [`SHARDS`] shards; each shard is leased to one
//! node through a key `shard.N` in the `<stream>_leases` KV bucket, whose entries expire a
//! lease TTL after their last write (the bucket's max age). A lease is claimed with a KV
//! create and renewed with a compare-and-set update on its revision, every third of a TTL.
//!
//! Who should hold a shard is decided by rendezvous hashing over the live nodes (presence
//! keys `node.ID` in the same bucket, renewed like leases): every node computes the same
//! answer from the same key list. A node releases (deletes, on its revision) the shards that
//! now belong to another live node and claims the free ones that belong to it, so when a node
//! dies its presence and its leases expire within one TTL and its shards go to the others at
//! their next round. A node only polls a feed while it holds a fresh lease on its shard, so no
//! feed is polled by two nodes at once; feed state lives in KV, so the schedule moves along.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::keys::{Contended, ONCE, WriteError, Written, keys_under, value_of};
use super::retry::{self, retry};
use super::{Cluster, ClusterError, js_err};

/// How long one lease operation retries at most: a round must finish well inside a TTL
/// (rounds use a third of the TTL when that is shorter); what fails is tried again next round.
const LEASE_RETRY: Duration = Duration::from_secs(3);

/// The retry bound of one lease operation for a lease TTL.
fn op_bound(ttl: Duration) -> Duration {
    (ttl / 3).min(LEASE_RETRY)
}

/// Feed shards: the unit of leasing. Enough to spread 20,000 feeds evenly over a handful of
/// nodes, few enough that renewing every lease costs a few dozen KV writes per round.
pub const SHARDS: u32 = 64;

/// What a node's presence key says (shown by `cluster status`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeInfo {
    /// The node id.
    pub node: String,
    /// Stream seq mirrored into its projections.
    pub applied_seq: u64,
    /// Shards it holds.
    pub shards: u64,
    /// When it last renewed its presence.
    pub at: DateTime<Utc>,
    /// A random token of the process (empty from versions before node identity): two live
    /// processes with one node id are told apart by it (see [`register`]).
    #[serde(default)]
    pub instance: String,
    /// When that process started.
    #[serde(default)]
    pub started: Option<DateTime<Utc>>,
}

/// The shard of a feed (by its key, so every node agrees).
pub fn shard_of(feed_key: &str) -> u32 {
    let digest = Sha256::digest(feed_key.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % SHARDS
}

/// Rendezvous (highest random weight) choice of a shard's node among `nodes`.
pub fn owner_of(shard: u32, nodes: &BTreeSet<String>) -> Option<&str> {
    nodes
        .iter()
        .max_by_key(|n| {
            let mut h = Sha256::new();
            h.update(shard.to_be_bytes());
            h.update(n.as_bytes());
            let d = h.finalize();
            u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
        })
        .map(String::as_str)
}

fn shard_key(shard: u32) -> String {
    format!("shard.{shard}")
}

fn node_key(node: &str) -> String {
    format!("node.{node}")
}

/// The leases this node holds, as the pollers see them.
#[derive(Debug)]
pub struct Leases {
    ttl: Duration,
    /// shard → (KV revision, when last renewed).
    held: Mutex<BTreeMap<u32, (u64, Instant)>>,
    /// Woken whenever the held set changes.
    pub changed: Notify,
}

impl Leases {
    /// No leases yet.
    pub fn new(ttl: Duration) -> Arc<Leases> {
        Arc::new(Leases {
            ttl,
            held: Mutex::new(BTreeMap::new()),
            changed: Notify::new(),
        })
    }

    /// May this node poll the feed now? Only under a lease renewed within one TTL.
    pub fn owns(&self, feed_key: &str) -> bool {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.get(&shard_of(feed_key))
            .is_some_and(|(_, renewed)| renewed.elapsed() < self.ttl)
    }

    /// Shards held.
    pub fn count(&self) -> u64 {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
    }

    fn snapshot(&self) -> BTreeMap<u32, (u64, Instant)> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, shard: u32, entry: Option<(u64, Instant)>) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let changed = match entry {
            Some(e) => held.insert(shard, e).is_none(),
            None => held.remove(&shard).is_some(),
        };
        drop(held);
        if changed {
            self.changed.notify_waiters();
        }
    }
}

/// Claims this node's identity before it does anything else: creates its presence key
/// (`node.<node_id>`) with this process's instance token. A live key of another instance
/// (renewed while we watch it for one lease TTL) means a second process runs with the same
/// `log.node_id`: that would take the other's relay lock as an earlier process of its own and
/// deliver notifications twice, so start-up is refused. A key that is not renewed within the
/// TTL expires (the bucket's max age): it was an earlier process of this node that died, and
/// the claim then goes through. A cleanly stopped process deletes its key, so a restart does
/// not wait.
pub async fn register(cluster: &Cluster) -> Result<(), ClusterError> {
    let me = cluster.config().node_id.clone();
    let ttl = cluster.config().lease_ttl;
    let bucket = cluster.leases_bucket();
    let key = node_key(&me);
    let info = NodeInfo {
        node: me.clone(),
        applied_seq: 0,
        shards: 0,
        at: Utc::now(),
        instance: cluster.instance().to_string(),
        started: Some(cluster.started()),
    };
    let value =
        bytes::Bytes::from(serde_json::to_vec(&info).map_err(|e| js_err("encode presence", e))?);
    // Every operation rides out elections like the lease rounds' do (a replicated bucket's
    // leader may be moving while nodes start).
    let within = super::retry::DATA_PATH;
    let identity = Contended::new(bucket, within, ("read the node identity", within));
    let read = || identity.read(&key);
    // Our own create landed, and only its answer was lost.
    let mine = |entry: &kv::Entry| {
        serde_json::from_slice::<NodeInfo>(&entry.value)
            .is_ok_and(|o| o.instance == cluster.instance())
    };
    // Bounded: each pass either claims the key, refuses, or outlasts a dead entry's TTL.
    for _ in 0..8 {
        let first = match identity
            .create_or_recognise("claim the node identity", &key, &value, mine)
            .await
        {
            Ok(Written::Landed(_) | Written::Recognised(_)) => {
                info!(node = %me, instance = %cluster.instance(), "Node identity claimed.");
                return Ok(());
            }
            Ok(Written::Theirs {
                entry: Some(first), ..
            }) => first,
            Ok(Written::Theirs { entry: None, .. }) => continue,
            Err(e) => {
                return Err(e.into_cluster("claim the node identity", "read the node identity"));
            }
        };
        let other: Option<NodeInfo> = serde_json::from_slice(&first.value).ok();
        warn!(node = %me, "Another process holds this node id's presence; waiting one lease TTL to see whether it is alive.");
        // Watch it for a TTL (plus a renewal period): a live process renews every TTL/3.
        let deadline = tokio::time::Instant::now() + ttl + ttl / 3;
        let mut renewed = false;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(ttl / 6).await;
            match read()
                .await
                .map_err(|e| js_err("read the node identity", e))?
            {
                Some(now) if now.revision != first.revision => {
                    renewed = now.operation == kv::Operation::Put;
                    break;
                }
                Some(_) => {}
                None => break,
            }
        }
        if renewed {
            let (instance, started) = other
                .map(|o| (o.instance, o.started.map(|t| t.to_rfc3339())))
                .unwrap_or_default();
            return Err(ClusterError::DuplicateNode {
                node: me,
                instance: if instance.is_empty() {
                    "an older parley".into()
                } else {
                    instance
                },
                started: started.unwrap_or_else(|| "unknown".into()),
            });
        }
    }
    Err(js_err(
        "claim the node identity",
        "the presence key kept changing hands",
    ))
}

/// Runs lease rounds every third of a TTL until cancelled, then releases every lease and
/// the presence key so the other nodes take over at once. The cluster gauges are refreshed
/// on the same beat by a separate loop, so a slow stream-info answer never delays a renewal.
pub async fn run(cluster: Cluster, leases: Arc<Leases>, cancel: CancellationToken) {
    let every = cluster.config().lease_ttl / 3;
    let rounds = async {
        // Rounds start on a fixed beat (not a pause after each round), so a slow round does
        // not push the next renewal towards the lease's expiry.
        let mut beat = tokio::time::interval(every);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = beat.tick() => {}
            }
            if let Err(error) = round(&cluster, &leases).await {
                warn!(%error, "Lease round failed; retrying.");
                // Leases not renewed in time stop counting by themselves (`owns`).
            }
        }
    };
    let gauges = async {
        loop {
            let _ = cluster.stream_last_seq().await;
            let _ = cluster.outbox_depth().await;
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
    };
    tokio::join!(rounds, gauges);
    let bucket = cluster.leases_bucket();
    for (shard, (revision, _)) in leases.snapshot() {
        let _ = bucket
            .delete_expect_revision(shard_key(shard), Some(revision))
            .await;
        leases.set(shard, None);
    }
    let _ = bucket.delete(node_key(&cluster.config().node_id)).await;
    info!("Feed leases released.");
}

/// The live nodes (their presence keys), read now.
async fn live_nodes(
    bucket: &kv::Store,
    within: Duration,
) -> Result<BTreeMap<String, NodeInfo>, ClusterError> {
    let keys = keys_under(bucket, "node.", within).await?;
    let values =
        futures_util::future::join_all(keys.iter().map(|k| value_of(bucket, k, within))).await;
    let mut nodes = BTreeMap::new();
    for (key, value) in keys.iter().zip(values) {
        if let (Some(node), Some(value)) = (key.strip_prefix("node."), value?)
            && let Ok(info) = serde_json::from_slice::<NodeInfo>(&value)
        {
            nodes.insert(node.to_string(), info);
        }
    }
    Ok(nodes)
}

/// The live nodes and the holder of each shard, as the bucket says now.
pub(crate) async fn read_bucket(
    bucket: &kv::Store,
) -> Result<(BTreeMap<String, NodeInfo>, BTreeMap<u32, String>), ClusterError> {
    // `cluster status` is not on a lease's clock: it may wait out an election.
    let within = super::retry::DATA_PATH;
    let keys = keys_under(bucket, "", within).await?;
    // All reads at once: with replicated buckets each round trip is slow.
    let values =
        futures_util::future::join_all(keys.iter().map(|k| value_of(bucket, k, within))).await;
    let mut nodes = BTreeMap::new();
    let mut shards = BTreeMap::new();
    for (key, value) in keys.into_iter().zip(values) {
        let Some(value) = value? else {
            continue;
        };
        if let Some(node) = key.strip_prefix("node.") {
            if let Ok(info) = serde_json::from_slice::<NodeInfo>(&value) {
                nodes.insert(node.to_string(), info);
            }
        } else if let Some(shard) = key.strip_prefix("shard.").and_then(|s| s.parse().ok()) {
            shards.insert(shard, String::from_utf8_lossy(&value).into_owned());
        }
    }
    Ok((nodes, shards))
}

/// Renews one held lease. The renewal counts from before the request was sent (the server's
/// expiry clock cannot have started earlier), so this node never believes in a lease the
/// bucket has already expired.
async fn renew(
    bucket: &kv::Store,
    leases: &Leases,
    me: &str,
    shard: u32,
    revision: u64,
    within: Duration,
) {
    let started = Instant::now();
    let key = shard_key(shard);
    let value = bytes::Bytes::from(me.to_string());
    match lease_keys(bucket, within)
        .cas_or_recognise("renew a lease", &key, &value, revision, |e| {
            names_me(e, &value)
        })
        .await
    {
        Ok(Written::Landed(rev)) => leases.set_renewed(shard, rev, started),
        // An earlier attempt of this renewal landed but its answer was lost (the key still
        // names this node: keep it, at its new revision).
        Ok(Written::Recognised(entry)) => leases.set_renewed(shard, entry.revision, started),
        // The lease expired and was claimed again (by another node, or not at all).
        Ok(Written::Theirs { refusal, .. }) => {
            warn!(shard, error = %refusal, "Lease lost.");
            leases.set(shard, None);
        }
        // Unknown: the lease stops counting by itself if no later round renews it.
        Err(WriteError::Read(read)) => warn!(shard, error = %read, "Lease renewal unconfirmed."),
        // Unknown as well (the cluster did not answer in time).
        Err(WriteError::Write(error)) => warn!(shard, %error, "Lease renewal failed."),
    }
}

/// Claims a free shard this node should hold.
async fn claim(bucket: &kv::Store, leases: &Leases, me: &str, shard: u32, within: Duration) {
    let started = Instant::now();
    let key = shard_key(shard);
    let value = bytes::Bytes::from(me.to_string());
    match lease_keys(bucket, within)
        .create_or_recognise("claim a lease", &key, &value, |e| names_me(e, &value))
        .await
    {
        Ok(Written::Landed(rev)) => {
            debug!(shard, "Lease claimed.");
            leases.set(shard, Some((rev, started)));
        }
        // This node's own earlier attempt landed unseen.
        Ok(Written::Recognised(entry)) => leases.set(shard, Some((entry.revision, started))),
        // Held by another node until it releases it or its lease expires (or unknown).
        Ok(Written::Theirs { .. }) | Err(WriteError::Read(_)) => {}
        Err(WriteError::Write(error)) => debug!(shard, %error, "Lease claim failed; next round."),
    }
}

/// The lease bucket's shard keys, as a lease operation writes them: retrying for `within`,
/// and read back once after a refusal (an unanswered read leaves the lease to the next round).
fn lease_keys(bucket: &kv::Store, within: Duration) -> Contended<'_> {
    Contended::new(bucket, within, ("read a lease", ONCE))
}

/// Whether a shard key's entry is this node's lease (its value is the node id).
fn names_me(entry: &kv::Entry, me: &bytes::Bytes) -> bool {
    entry.operation == kv::Operation::Put && entry.value == *me
}

async fn round(cluster: &Cluster, leases: &Leases) -> Result<(), ClusterError> {
    let me = cluster.config().node_id.clone();
    let bucket = cluster.leases_bucket();
    let within = op_bound(cluster.config().lease_ttl);
    // Renewals first and all at once: they are the part with a deadline.
    let held = leases.snapshot();
    futures_util::future::join_all(
        held.iter()
            .map(|(shard, (revision, _))| renew(bucket, leases, &me, *shard, *revision, within)),
    )
    .await;
    let info = NodeInfo {
        node: me.clone(),
        applied_seq: cluster.applied(),
        shards: leases.count(),
        at: Utc::now(),
        instance: cluster.instance().to_string(),
        started: Some(cluster.started()),
    };
    let value =
        bytes::Bytes::from(serde_json::to_vec(&info).map_err(|e| js_err("encode presence", e))?);
    retry("renew presence", within, retry::put_final, || {
        bucket.put(node_key(&me), value.clone())
    })
    .await
    .map_err(|e| js_err("renew presence", e))?;
    let mut live: BTreeSet<String> = live_nodes(bucket, within).await?.into_keys().collect();
    live.insert(me.clone());
    let held = leases.snapshot();
    // Every shard's claim or release at once.
    let work = (0..SHARDS).map(|shard| {
        let mine = owner_of(shard, &live) == Some(me.as_str());
        let held = held.get(&shard).map(|(revision, _)| *revision);
        let me = me.as_str();
        async move {
            match held {
                Some(revision) if !mine => {
                    // It belongs to another live node now: hand it over.
                    leases.set(shard, None);
                    let _ = retry("release a lease", within, retry::update_final, || {
                        bucket.delete_expect_revision(shard_key(shard), Some(revision))
                    })
                    .await;
                    debug!(shard, "Lease released to its new owner.");
                }
                None if mine => claim(bucket, leases, me, shard, within).await,
                _ => {}
            }
        }
    });
    futures_util::future::join_all(work).await;
    let gauges = cluster.gauges();
    gauges.nodes.store(live.len() as u64, Ordering::Relaxed);
    gauges.shards_owned.store(leases.count(), Ordering::Relaxed);
    Ok(())
}

impl Leases {
    fn set_renewed(&self, shard: u32, revision: u64, at: Instant) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(shard, (revision, at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_moves_only_the_dead_nodes_shards() {
        // A node's death must move its shards only, so the others keep polling theirs.
        let three: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let two: BTreeSet<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let mut per_node = BTreeMap::new();
        for shard in 0..SHARDS {
            let before = owner_of(shard, &three).unwrap();
            *per_node.entry(before).or_insert(0) += 1;
            let after = owner_of(shard, &two).unwrap();
            if before != "c" {
                assert_eq!(before, after, "shard {shard}");
            }
        }
        assert_eq!(per_node.len(), 3, "{per_node:?}");
        assert!(shard_of("http://x/feed") < SHARDS);
    }
}
