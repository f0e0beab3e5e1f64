//! Permanent idempotency: an article or alert is published only by the node whose KV create
//! of its id (bucket `<stream>_ids`) succeeds, and marked done once it is in the stream. A
//! claim left unfinished by a node that died between claiming and publishing is taken over
//! once it is older than a lease TTL.

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::warn;

use super::keys::{Contended, WriteError, Written, kv_key};
use super::retry::DATA_PATH;
use super::{Cluster, ClusterError};

/// The value of an idempotency claim in the `_ids` bucket.
#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    node: String,
    at: DateTime<Utc>,
    /// Set once the event (and, for an alert, its work items) is in the stream.
    done: bool,
}

/// The claim a bucket entry holds, if it parses.
fn claim_of(entry: &kv::Entry) -> Option<Claim> {
    serde_json::from_slice(&entry.value).ok()
}

impl Cluster {
    /// The claims bucket: every write and read rides out an election.
    fn claims(&self) -> Contended<'_> {
        Contended::new(&self.inner.ids, DATA_PATH, ("read a claim", DATA_PATH))
    }

    /// Claims an id for good: `true` if this node may publish it. A claim is taken over
    /// when it is unfinished and older than a lease TTL (its node died in between).
    pub(super) async fn claim(&self, id: &str) -> Result<Option<u64>, ClusterError> {
        let key = kv_key(id);
        let me = &self.inner.config.node_id;
        let value = claim_value(me, false);
        // An earlier attempt of this very write landed but its answer was lost (or this node
        // restarted in between): the unfinished claim is this node's.
        let mine = |entry: &kv::Entry| claim_of(entry).is_some_and(|c| !c.done && &c.node == me);
        let claims = self.claims();
        let entry = match claims
            .create_or_recognise("claim an id", &key, &value, mine)
            .await
        {
            Ok(Written::Landed(rev)) => return Ok(Some(rev)),
            Ok(Written::Recognised(entry)) => return Ok(Some(entry.revision)),
            Ok(Written::Theirs {
                entry: Some(entry), ..
            }) => entry,
            Ok(Written::Theirs { entry: None, .. }) => return Ok(None),
            Err(e) => return Err(e.into_cluster("claim an id", "read a claim")),
        };
        let ttl = chrono::Duration::from_std(self.inner.config.lease_ttl).unwrap_or_default();
        let stale = claim_of(&entry).is_some_and(|c| !c.done && Utc::now() - c.at > ttl);
        if !stale {
            return Ok(None);
        }
        match claims
            .cas_or_recognise("take over a claim", &key, &value, entry.revision, mine)
            .await
        {
            Ok(Written::Landed(rev)) => {
                warn!(id, "Took over an unfinished claim of a dead node.");
                Ok(Some(rev))
            }
            // This node's own lost-answer attempt landed.
            Ok(Written::Recognised(now)) => Ok(Some(now.revision)),
            // Another node took it over first.
            Ok(Written::Theirs { .. }) => Ok(None),
            Err(e) => Err(e.into_cluster("take over a claim", "read a claim")),
        }
    }

    /// Marks a claim done (its event is in the stream). Failing is harmless: the stream
    /// drops a repeat of the event, so this only spares a later takeover.
    pub(super) async fn finish_claim(&self, id: &str, revision: u64) {
        let key = kv_key(id);
        let me = &self.inner.config.node_id;
        let value = claim_value(me, true);
        // The revision moved because an earlier attempt of this write landed already.
        let done = |entry: &kv::Entry| claim_of(entry).is_some_and(|c| c.done);
        let claims = self.claims();
        let mut revision = revision;
        for _ in 0..2 {
            match claims
                .cas_or_recognise("finish a claim", &key, &value, revision, done)
                .await
            {
                Ok(Written::Landed(_) | Written::Recognised(_)) => return,
                // Still this node's and unfinished, at a newer revision: try on that one.
                Ok(Written::Theirs {
                    entry: Some(entry), ..
                }) if claim_of(&entry).is_some_and(|c| &c.node == me) => {
                    revision = entry.revision;
                }
                Ok(Written::Theirs { .. }) | Err(WriteError::Read(_)) => break,
                Err(WriteError::Write(error)) => {
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
