//! Retrying NATS operations through the moments a JetStream cluster cannot answer: a leader
//! election after a server died (requests get "no responders" or time out), a client
//! reconnecting to another server (broken pipe), a slow replica under load. Such failures
//! pass by themselves within seconds, so an operation is retried with capped, jittered
//! exponential backoff for a bounded time instead of failing the ingest, the lease round or
//! the delivery that needed it. Answers that will not change on a retry (a key that already
//! exists, a wrong expected revision, an invalid key) are returned at once: the callers
//! decide what they mean.
//!
//! Every operation retried here is safe to repeat: publishes carry a `Nats-Msg-Id` (the
//! stream drops the repeat), KV puts write the same value, reads read. Creates and
//! compare-and-set updates whose first attempt may have landed unseen are handled by their
//! callers (a claim or lease found holding this node's own value is this node's).

use std::future::Future;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::kv::{
    CreateError, CreateErrorKind, EntryError, EntryErrorKind, PutError, PutErrorKind, UpdateError,
    UpdateErrorKind,
};
use tracing::debug;

/// How long a data-path operation (a publish, a claim, a feed state) keeps retrying before
/// it fails: well above a JetStream leader election on a loaded machine (seconds), short
/// enough that a cluster that is really gone is reported.
pub const DATA_PATH: Duration = Duration::from_secs(60);
/// First pause between attempts.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Runs `op` until it succeeds, fails with an error `is_final` accepts, or `within` has
/// passed (then the last error is returned).
pub async fn retry<T, E, Fut>(
    what: &str,
    within: Duration,
    is_final: impl Fn(&E) -> bool,
    mut op: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let start = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1u32;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if is_final(&e) => return Err(e),
            Err(e) => {
                // Jitter spreads the retries of many concurrent operations (every lease of a
                // round, every poller) over the pause instead of bunching them.
                let pause = backoff.mul_f64(0.5 + fastrand::f64() / 2.0);
                if start.elapsed() + pause > within {
                    return Err(e);
                }
                debug!(what, attempt, error = %e, retry_in = ?pause, "NATS operation failed; retrying.");
                tokio::time::sleep(pause).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                attempt += 1;
            }
        }
    }
}

/// Publish answers a retry cannot change (a retry with the same message id is harmless;
/// everything else, such as "no responders" during an election, passes).
pub fn publish_final(e: &PublishError) -> bool {
    matches!(
        e.kind(),
        PublishErrorKind::WrongLastSequence
            | PublishErrorKind::WrongLastMessageId
            | PublishErrorKind::MaxPayloadExceeded
    )
}

/// KV create: the key exists, or the key is invalid.
pub fn create_final(e: &CreateError) -> bool {
    matches!(
        e.kind(),
        CreateErrorKind::AlreadyExists | CreateErrorKind::InvalidKey
    )
}

/// KV compare-and-set update: the revision moved on, or the key is invalid.
pub fn update_final(e: &UpdateError) -> bool {
    matches!(
        e.kind(),
        UpdateErrorKind::WrongLastRevision | UpdateErrorKind::InvalidKey
    )
}

/// KV read: only an invalid key is final.
pub fn entry_final(e: &EntryError) -> bool {
    e.kind() == EntryErrorKind::InvalidKey
}

/// KV put: only an invalid key is final.
pub fn put_final(e: &PutError) -> bool {
    e.kind() == PutErrorKind::InvalidKey
}

/// For reads whose every failure may pass (stream info).
pub fn never_final<E>(_: &E) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_passing_failures_and_returns_final_ones_at_once() {
        // An election's failures must be ridden out; a definite answer must not be retried.
        let calls = AtomicU32::new(0);
        let out: Result<u32, String> = retry(
            "test",
            DATA_PATH,
            |e: &String| e == "final",
            || async {
                let n = calls.fetch_add(1, Ordering::Relaxed);
                if n < 3 { Err("passing".into()) } else { Ok(n) }
            },
        )
        .await;
        assert_eq!(out, Ok(3));
        let calls = AtomicU32::new(0);
        let out: Result<u32, String> = retry(
            "test",
            DATA_PATH,
            |e: &String| e == "final",
            || async {
                calls.fetch_add(1, Ordering::Relaxed);
                Err("final".into())
            },
        )
        .await;
        assert_eq!(out, Err("final".into()));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        // A failure that never passes is returned once the time is up.
        let out: Result<u32, String> = retry(
            "test",
            Duration::from_millis(500),
            |_: &String| false,
            || async { Err("down".into()) },
        )
        .await;
        assert_eq!(out, Err("down".into()));
    }
}
