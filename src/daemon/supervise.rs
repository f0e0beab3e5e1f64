//! The outbox relay's supervisor: one relay per generation, whichever the backend is (the
//! local outbox or the NATS work queue), restarted after an error, except one that says the
//! store can no longer write, which stops the daemon.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{error, warn};

use crate::store::StoreError;

/// Keeps a generation's outbox relay (the sled one or the NATS work queue) running until the
/// generation is cancelled. A relay that stops on an error is restarted with backoff (200 ms
/// doubling to 10 s); one that stops because the store cannot write ends the daemon, as ingest
/// does (`store_failed`), since every delivery it records would fail too. `up` tells the
/// watchdog whether a relay is running.
pub(super) async fn supervise_relay<F, Fut>(
    up: Arc<AtomicBool>,
    store_failed: CancellationToken,
    cancel: CancellationToken,
    mut start: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>>,
{
    let mut backoff = Duration::from_millis(200);
    loop {
        up.store(true, Ordering::Release);
        let result = start().await;
        up.store(false, Ordering::Release);
        match result {
            Ok(()) => return,
            Err(error) if store_cannot_write(&error) => {
                error!(%error, "The store cannot write; the outbox relay stops and so does the daemon, so that a restart resumes from the log.");
                store_failed.cancel();
                return;
            }
            Err(error) => warn!(%error, retry_in = ?backoff, "Outbox relay stopped; restarting."),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Whether an error means the store can no longer write (sled keeps an I/O error such as
/// ENOSPC for the life of the open database): the daemon must stop, and a restart resumes.
pub(super) fn store_cannot_write(error: &StoreError) -> bool {
    matches!(error, StoreError::Db { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the supervisor over a relay that fails `fails` times with `error`, then returns
    /// Ok. Gives how often the relay was started, whether the watchdog sees it up at the end,
    /// and whether the daemon was told to stop (`store_failed`).
    async fn supervised(fails: usize, error: fn() -> StoreError) -> (usize, bool, bool) {
        let starts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (up, failed) = (Arc::new(AtomicBool::new(true)), CancellationToken::new());
        let counted = starts.clone();
        supervise_relay(
            up.clone(),
            failed.clone(),
            CancellationToken::new(),
            move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                std::future::ready(if n < fails { Err(error()) } else { Ok(()) })
            },
        )
        .await;
        (
            starts.load(Ordering::SeqCst),
            up.load(Ordering::SeqCst),
            failed.is_cancelled(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_relay_that_stops_on_an_error_is_restarted() {
        // A store error other than a failed write (a corrupt read, NATS unreachable) must not
        // end delivery until the next reload: the supervisor restarts the relay.
        let corrupt = || StoreError::Corrupt {
            key: "k".into(),
            message: "bad".into(),
        };
        let (starts, _, failed) = supervised(3, corrupt).await;
        assert_eq!(starts, 4, "three failures, then a clean stop");
        assert!(!failed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_that_cannot_write_stops_the_daemon_through_the_relay() {
        // ENOSPC seen by the relay ends the daemon as it does for ingest: no restart loop.
        let full = || StoreError::Db {
            path: "state".into(),
            message: "No space left on device".into(),
        };
        let (starts, up, failed) = supervised(usize::MAX, full).await;
        assert_eq!(starts, 1);
        assert!(failed, "store_failed must be set");
        assert!(!up, "the watchdog must see the relay down");
    }
}
