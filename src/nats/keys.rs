//! The KV keys several nodes contend for (idempotency claims, feed leases and presence,
//! relay locks), written one way: a create, or a compare-and-set on a revision, that may
//! have landed even though its answer was lost (a timeout, an election, a reconnect). A
//! refusal is therefore not the end of it: the key is read back, and if it holds what this
//! writer wrote, an earlier attempt landed unseen and the key is this writer's after all
//! ("recognised"); otherwise it is another writer's, and the caller decides what that means.
//! Also the bucket reads the backend shares: keys under a prefix, and one key's value.

use std::time::Duration;

use async_nats::jetstream::kv;
use futures_util::StreamExt;

use super::retry::{self, retry};
use super::{ClusterError, js_err};
use crate::events::stable_id;

/// A bound for a write or read that is tried once, with no retry: a relay lock's
/// operations, whose caller retries on its own clock.
pub(crate) const ONCE: Duration = Duration::ZERO;

/// A bucket of contended keys, with how long its writes and the read that settles a
/// refusal ride out failures that may pass (see [`retry::retry`]; [`ONCE`] tries once).
pub(crate) struct Contended<'a> {
    bucket: &'a kv::Store,
    /// How long a write retries.
    within: Duration,
    /// The read after a refusal: its name (in retry logs) and how long it retries.
    read: (&'a str, Duration),
}

/// How a contended write ended.
pub(crate) enum Written<E> {
    /// It landed now, at this revision.
    Landed(u64),
    /// It was refused, but the key holds what the writer recognises as its own: an earlier
    /// attempt landed and only its answer was lost.
    Recognised(kv::Entry),
    /// The key is another writer's: the refusal, and the key's entry as read after it (None
    /// when the key has no entry).
    Theirs {
        /// The create's or compare-and-set's refusal.
        refusal: E,
        /// What the key holds.
        entry: Option<kv::Entry>,
    },
}

/// Why a contended write has no answer.
pub(crate) enum WriteError<E> {
    /// The write failed with something other than a refusal (or was still failing when its
    /// time was up).
    Write(E),
    /// The read after a refusal failed.
    Read(kv::EntryError),
}

impl<E: std::fmt::Display> WriteError<E> {
    /// The error as the backend reports it, naming the step that failed.
    pub(crate) fn into_cluster(self, write: &str, read: &str) -> ClusterError {
        match self {
            WriteError::Write(e) => js_err(write, e),
            WriteError::Read(e) => js_err(read, e),
        }
    }
}

impl<'a> Contended<'a> {
    /// `bucket`'s keys, written retrying for `within` and read back after a refusal retrying
    /// as `read` says (its name, its bound).
    pub(crate) fn new(
        bucket: &'a kv::Store,
        within: Duration,
        read: (&'a str, Duration),
    ) -> Contended<'a> {
        Contended {
            bucket,
            within,
            read,
        }
    }

    /// Creates `key` with `value` (`what` names it in retry logs). When the key exists, it
    /// is read back and `mine` says whether it holds this writer's own earlier write.
    pub(crate) async fn create_or_recognise(
        &self,
        what: &str,
        key: &str,
        value: &bytes::Bytes,
        mine: impl Fn(&kv::Entry) -> bool,
    ) -> Result<Written<kv::CreateError>, WriteError<kv::CreateError>> {
        let bucket = self.bucket;
        match retry(what, self.within, retry::create_final, || {
            bucket.create(key, value.clone())
        })
        .await
        {
            Ok(revision) => Ok(Written::Landed(revision)),
            Err(refusal) if refusal.kind() == kv::CreateErrorKind::AlreadyExists => {
                self.settle(key, refusal, mine).await
            }
            Err(e) => Err(WriteError::Write(e)),
        }
    }

    /// Writes `value` to `key` if the key is still at `revision` (`what` names it in retry
    /// logs). When the revision moved, the key is read back and `mine` says whether it holds
    /// this writer's own earlier write.
    pub(crate) async fn cas_or_recognise(
        &self,
        what: &str,
        key: &str,
        value: &bytes::Bytes,
        revision: u64,
        mine: impl Fn(&kv::Entry) -> bool,
    ) -> Result<Written<kv::UpdateError>, WriteError<kv::UpdateError>> {
        let bucket = self.bucket;
        match retry(what, self.within, retry::update_final, || {
            bucket.update(key, value.clone(), revision)
        })
        .await
        {
            Ok(revision) => Ok(Written::Landed(revision)),
            Err(refusal) if refusal.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                self.settle(key, refusal, mine).await
            }
            Err(e) => Err(WriteError::Write(e)),
        }
    }

    /// The key's current entry (read from the bucket's stream leader), as the read after a
    /// refusal reads it.
    pub(crate) async fn read(&self, key: &str) -> Result<Option<kv::Entry>, kv::EntryError> {
        let (what, within) = self.read;
        let bucket = self.bucket;
        retry(what, within, retry::entry_final, || bucket.entry(key)).await
    }

    /// After a refusal: whose the key is now.
    async fn settle<E>(
        &self,
        key: &str,
        refusal: E,
        mine: impl Fn(&kv::Entry) -> bool,
    ) -> Result<Written<E>, WriteError<E>> {
        Ok(match self.read(key).await.map_err(WriteError::Read)? {
            Some(entry) if mine(&entry) => Written::Recognised(entry),
            entry => Written::Theirs { refusal, entry },
        })
    }
}

/// A KV key for an event id (ids are `prefix-hex`, already valid KV keys; anything else is
/// hashed so a feed-made id can never be an invalid key).
pub(crate) fn kv_key(id: &str) -> String {
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

/// The keys in the bucket under `prefix` (`node.`, or empty for all), from the bucket
/// stream's per-subject state: one request to the stream leader, where listing keys through
/// a consumer would create one per call (in a cluster, through the metadata leader).
pub(crate) async fn keys_under(
    bucket: &kv::Store,
    prefix: &str,
    within: Duration,
) -> Result<Vec<String>, ClusterError> {
    let filter = format!("$KV.{}.{prefix}>", bucket.name);
    let strip = format!("$KV.{}.", bucket.name);
    retry("list leases", within, retry::never_final, || async {
        let mut info = bucket
            .stream
            .info_with_subjects(&filter)
            .await
            .map_err(|e| e.to_string())?;
        let mut keys = Vec::new();
        while let Some(item) = info.next().await {
            let (subject, _) = item.map_err(|e| e.to_string())?;
            if let Some(key) = subject.strip_prefix(&strip) {
                keys.push(key.to_string());
            }
        }
        Ok::<_, String>(keys)
    })
    .await
    .map_err(|e| js_err("list leases", e))
}

/// A key's value (None when absent or deleted), read through the stream leader.
pub(crate) async fn value_of(
    bucket: &kv::Store,
    key: &str,
    within: Duration,
) -> Result<Option<bytes::Bytes>, ClusterError> {
    retry("read a lease", within, retry::entry_final, || {
        bucket.get(key)
    })
    .await
    .map_err(|e| js_err("read a lease", e))
}
