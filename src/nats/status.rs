//! `parley cluster status`: the nodes, their leases, their lag behind the stream and the
//! outbox depth, read straight from NATS (no local store needed, so it works next to a
//! running daemon).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::lease::{SHARDS, read_bucket, shard_of};
use super::{Cluster, ClusterError};
use crate::config::Config;
use crate::metrics::ClusterGauges;

/// One node as `cluster status` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeStatus {
    /// Node id.
    pub node: String,
    /// Stream seq mirrored into its projections (at its last presence renewal).
    pub applied_seq: u64,
    /// How far behind the stream's last seq that is.
    pub lag: u64,
    /// Shards it holds a lease on.
    pub shards: u64,
    /// Configured feeds in those shards.
    pub feeds: u64,
    /// Seconds since its last presence renewal.
    pub last_seen_secs: i64,
}

/// The whole picture.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClusterStatus {
    /// Stream name.
    pub stream: String,
    /// Last seq of the stream.
    pub stream_last_seq: u64,
    /// Notifications waiting in the work queue.
    pub outbox_depth: u64,
    /// Shards no live node holds right now.
    pub unleased_shards: u64,
    /// Live nodes.
    pub nodes: Vec<NodeStatus>,
    /// Notifiers whose relay lock a node's pass holds now (a lock its node stopped renewing
    /// stays listed until another node takes it over).
    pub relay_locks: Vec<super::relay::RelayLock>,
}

/// Reads the status of the cluster `config` points at.
pub async fn read(config: &Config) -> Result<ClusterStatus, ClusterError> {
    let cluster = Cluster::connect(&config.log, Arc::new(ClusterGauges::default())).await?;
    let last = cluster.stream_last_seq().await?;
    let depth = cluster.outbox_depth().await?;
    let (nodes, shards) = read_bucket(cluster.leases_bucket()).await?;
    let relay_locks = super::relay::read_locks(&cluster).await?;
    let mut per_node: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for holder in shards.values() {
        per_node.entry(holder.as_str()).or_default().0 += 1;
    }
    for feed in &config.feeds {
        if let Some(holder) = shards.get(&shard_of(&feed.location.key())) {
            per_node.entry(holder.as_str()).or_default().1 += 1;
        }
    }
    let now = chrono::Utc::now();
    let nodes = nodes
        .values()
        .map(|info| {
            let (shards, feeds) = per_node
                .get(info.node.as_str())
                .copied()
                .unwrap_or_default();
            NodeStatus {
                node: info.node.clone(),
                applied_seq: info.applied_seq,
                lag: last.saturating_sub(info.applied_seq),
                shards,
                feeds,
                last_seen_secs: (now - info.at).num_seconds(),
            }
        })
        .collect();
    Ok(ClusterStatus {
        stream: config.log.stream.clone(),
        stream_last_seq: last,
        outbox_depth: depth,
        unleased_shards: u64::from(SHARDS).saturating_sub(shards.len() as u64),
        nodes,
        relay_locks,
    })
}

/// The human-readable table.
pub fn render(status: &ClusterStatus) -> String {
    let mut out = format!(
        "stream {}: last seq {}; outbox depth {}; unleased shards {}\n",
        status.stream, status.stream_last_seq, status.outbox_depth, status.unleased_shards
    );
    out.push_str(&format!(
        "{:<24} {:>10} {:>8} {:>7} {:>7} {:>10}\n",
        "node", "applied", "lag", "shards", "feeds", "last seen"
    ));
    for n in &status.nodes {
        out.push_str(&format!(
            "{:<24} {:>10} {:>8} {:>7} {:>7} {:>9}s\n",
            n.node, n.applied_seq, n.lag, n.shards, n.feeds, n.last_seen_secs
        ));
    }
    for lock in &status.relay_locks {
        out.push_str(&format!(
            "relay lock {}: held by {} since {}\n",
            lock.notifier,
            lock.node,
            lock.since.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    out
}
