//! The sweep every node runs: it passes each notifier with an entry due by the log's
//! schedule (held digests, retries, entries whose work item never reached the queue), and for
//! `run --once` it is the drain that ends once nothing is due.

use std::time::Duration;

use chrono::Utc;
use tracing::warn;

use super::{BUSY_RETRY, Relay};
use crate::nats::{ClusterError, MIRROR_WAIT, js_err};
use crate::pipeline;

/// Least pause between two sweeps, so an entry that stays due cannot spin the sweep.
const SWEEP_MIN: Duration = Duration::from_millis(100);

/// Whether `--once` found the outbox drained, or only entries held by grouping left.
#[derive(Debug)]
pub(super) enum Swept {
    /// Cancelled (a stop).
    Stopped,
    /// `--once`: nothing due is left; this many entries stay held for a later run.
    Drained(usize),
}

impl Relay {
    /// The daemon's sweep: runs until cancelled; errors are logged and retried.
    pub(super) async fn sweep_forever(&self) {
        let mut backoff = BUSY_RETRY;
        loop {
            match self.sweep(false).await {
                Ok(_) => return,
                Err(error) => warn!(%error, retry_in = ?backoff, "Relay sweep failed; retrying."),
            }
            tokio::select! {
                () = self.cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(self.lock_ttl);
        }
    }

    /// Passes every notifier that has an entry due, then sleeps until the next one is due
    /// (at most a lock TTL, or until a work item wakes it). With `drain` (`run --once`) it
    /// returns once nothing is due, every remaining entry is held by grouping, and the work
    /// queue is empty.
    pub(super) async fn sweep(&self, drain: bool) -> Result<Swept, ClusterError> {
        loop {
            if self.cancel.is_cancelled() {
                return Ok(Swept::Stopped);
            }
            if drain {
                tokio::time::timeout(MIRROR_WAIT, self.cluster.wait_caught_up(&self.cancel))
                    .await
                    .map_err(|_| js_err("catch up", "timed out"))??;
            }
            let pending = self.store.outbox_pending()?;
            let plan = pipeline::schedule(&self.prepared, &self.store, &pending)?;
            let wait = if !plan.due_now.is_empty() {
                let mut busy = false;
                for notifier in &plan.due_now {
                    if self.cancel.is_cancelled() {
                        return Ok(Swept::Stopped);
                    }
                    busy |= !self.pass(notifier, None).await?;
                }
                if busy { BUSY_RETRY } else { SWEEP_MIN }
            } else {
                if drain
                    && (pending.is_empty() || plan.all_held)
                    && self.cluster.outbox_depth().await? == 0
                {
                    return Ok(Swept::Drained(pending.len()));
                }
                let until = plan.next.map_or(self.lock_ttl, |t| {
                    (t - Utc::now()).to_std().unwrap_or_default()
                });
                let most = if drain { SWEEP_MIN } else { self.lock_ttl };
                until.clamp(SWEEP_MIN, most.max(SWEEP_MIN))
            };
            tokio::select! {
                () = self.cancel.cancelled() => return Ok(Swept::Stopped),
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
