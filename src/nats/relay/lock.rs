//! The notifier locks in the `<stream>_relay` bucket: taking one (free, left by this node's
//! earlier process, or unchanged for a whole TTL), and reading them for `cluster status`.

use std::collections::HashSet;
use std::sync::LazyLock;

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tracing::info;

use super::Relay;
use crate::nats::keys::{Contended, ONCE, Written, keys_under, value_of};
use crate::nats::retry::DATA_PATH;
use crate::nats::wire::relay_bucket;
use crate::nats::{Cluster, ClusterError, js_err};

/// Passes of this process that hold a relay lock now, by the lock's token: a lock holding
/// this node's id and none of these tokens is an orphan of an earlier process (or of a pass
/// here that could not release it), with nothing of it in flight.
static LIVE_TOKENS: LazyLock<std::sync::Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// The value of a relay lock: who holds it, since when (for an operator reading the bucket
/// and for `cluster status`), and the holding pass's token.
#[derive(Serialize, Deserialize)]
struct LockValue {
    node: String,
    /// The notifier id (the key may be a hash of it).
    #[serde(default)]
    notifier: String,
    /// Random per pass: tells the pass's own earlier write (a renewal whose answer was lost)
    /// from another holder's.
    #[serde(default)]
    token: String,
    at: DateTime<Utc>,
    /// Taken over from a holder that stopped renewing: its in-flight work may not be settled,
    /// so even this node takes the lock over with a grace if the pass leaves it behind.
    #[serde(default)]
    unsettled: bool,
}

/// One notifier's relay lock, as `cluster status` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RelayLock {
    /// The notifier.
    pub notifier: String,
    /// The node whose pass holds it.
    pub node: String,
    /// When that pass took it (the node's clock).
    pub since: DateTime<Utc>,
}

/// A lock a pass got.
pub(super) struct Held {
    /// The value written (renewals write it again).
    pub(super) value: bytes::Bytes,
    pub(super) revision: u64,
    /// When the winning request was sent: the lock is surely this pass's until a TTL later.
    pub(super) asked: Instant,
    /// The node it was taken over from (it stopped renewing); None when it was free.
    pub(super) from: Option<String>,
}

/// Registers a pass's token in [`LIVE_TOKENS`] while it lives.
pub(super) struct LiveToken(String);

impl LiveToken {
    pub(super) fn new(token: &str) -> LiveToken {
        live_tokens().insert(token.to_string());
        LiveToken(token.to_string())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        live_tokens().remove(&self.0);
    }
}

fn live_tokens() -> std::sync::MutexGuard<'static, HashSet<String>> {
    LIVE_TOKENS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The relay locks held now (read from the stream leader), for `cluster status`: an empty
/// list when no relay has run yet.
pub(in crate::nats) async fn read_locks(cluster: &Cluster) -> Result<Vec<RelayLock>, ClusterError> {
    let name = relay_bucket(cluster.config());
    let Ok(bucket) = cluster.inner.js.get_key_value(&name).await else {
        return Ok(Vec::new());
    };
    let within = DATA_PATH;
    let keys = keys_under(&bucket, "notifier.", within).await?;
    let values =
        futures_util::future::join_all(keys.iter().map(|k| value_of(&bucket, k, within))).await;
    let mut out = Vec::new();
    for value in values {
        if let Some(v) = value?
            && let Ok(lock) = serde_json::from_slice::<LockValue>(&v)
        {
            out.push(RelayLock {
                notifier: lock.notifier,
                node: lock.node,
                since: lock.at,
            });
        }
    }
    out.sort_by(|a, b| a.notifier.cmp(&b.notifier));
    Ok(out)
}

/// The pass token in a lock's value, if it parses.
pub(super) fn token_of(entry: &kv::Entry) -> Option<String> {
    serde_json::from_slice::<LockValue>(&entry.value)
        .ok()
        .map(|v| v.token)
}

impl Relay {
    /// Takes `notifier`'s lock if it is free, left by this node, or unchanged for a whole
    /// TTL since this node first saw it (its holder stopped renewing); None when busy.
    pub(super) async fn take(
        &self,
        notifier: &str,
        key: &str,
        token: &str,
    ) -> Result<Option<Held>, ClusterError> {
        let value = |unsettled: bool| -> Result<bytes::Bytes, ClusterError> {
            Ok(serde_json::to_vec(&LockValue {
                node: self.cluster.config().node_id.clone(),
                notifier: notifier.to_string(),
                token: token.to_string(),
                at: Utc::now(),
                unsettled,
            })
            .map_err(|e| js_err("encode a relay lock", e))?
            .into())
        };
        let fresh = value(false)?;
        let asked = Instant::now();
        // A pass's token is new, so no earlier write of its own can be in the key: nothing is
        // recognised. A lock this node's earlier process left is an orphan (below).
        let entry = match self
            .lock_keys()
            .create_or_recognise("take a notifier's relay lock", key, &fresh, |_| false)
            .await
        {
            Ok(Written::Landed(revision)) => {
                return Ok(Some(Held {
                    value: fresh,
                    revision,
                    asked,
                    from: None,
                }));
            }
            Ok(Written::Recognised(entry)) => Some(entry),
            Ok(Written::Theirs { entry, .. }) => entry,
            Err(e) => {
                return Err(e.into_cluster("take a notifier's relay lock", "read a relay lock"));
            }
        };
        let Some(entry) = entry.filter(|e| e.operation == kv::Operation::Put) else {
            // Released meanwhile: the next try creates it.
            return Ok(None);
        };
        // Read after the value was written, so the holder asked for it before this instant.
        let read = Instant::now();
        let holder = serde_json::from_slice::<LockValue>(&entry.value).ok();
        let orphan = holder.as_ref().is_some_and(|h| {
            h.node == self.cluster.config().node_id
                && !h.unsettled
                && !live_tokens().contains(&h.token)
        });
        if !orphan {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let since = match seen.get(notifier) {
                Some(&(rev, since)) if rev == entry.revision => since,
                _ => {
                    seen.insert(notifier.to_string(), (entry.revision, read));
                    read
                }
            };
            if read.duration_since(since) < self.lock_ttl {
                return Ok(None);
            }
        }
        let value = if orphan { fresh } else { value(true)? };
        let asked = Instant::now();
        match self.locks.update(key, value.clone(), entry.revision).await {
            Ok(revision) => {
                self.seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(notifier);
                let from = if orphan {
                    info!(
                        notifier,
                        "Took over a relay lock an earlier process of this node left."
                    );
                    None
                } else {
                    Some(holder.map_or_else(|| "an unknown node".into(), |h| h.node))
                };
                Ok(Some(Held {
                    value,
                    revision,
                    asked,
                    from,
                }))
            }
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(None),
            Err(e) => Err(js_err("take over a relay lock", e)),
        }
    }

    /// A lock's current entry, read through the bucket's stream leader (None when absent or
    /// released).
    pub(super) async fn read_lock(&self, key: &str) -> Result<Option<kv::Entry>, ClusterError> {
        let entry = self
            .lock_keys()
            .read(key)
            .await
            .map_err(|e| js_err("read a relay lock", e))?;
        Ok(entry.filter(|e| e.operation == kv::Operation::Put))
    }

    /// The lock bucket's keys, as a pass writes them: each operation tried once (a pass
    /// retries on its own clock, see the module docs).
    pub(super) fn lock_keys(&self) -> Contended<'_> {
        Contended::new(&self.locks, ONCE, ("read a relay lock", ONCE))
    }
}
