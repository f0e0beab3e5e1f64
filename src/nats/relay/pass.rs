//! One notifier's pass: [`pipeline::relay_pass`] for that notifier under its cluster-wide
//! lock, which is renewed while the pass runs and released after it; a lock taken over from
//! a holder that stopped renewing first waits out that holder's in-flight sends.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, kv};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::lock::{LiveToken, token_of};
use super::{RECORD_BUDGET, Relay};
use crate::nats::keys::{WriteError, Written, kv_key};
use crate::nats::retry::{self, retry};
use crate::nats::{ClusterError, MIRROR_WAIT, RELAY_ACK_WAIT, js_err};
use crate::pipeline;

/// First and longest pause between renewal attempts that failed with an error that may pass.
const RENEW_RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(1));
impl Relay {
    /// Runs [`pipeline::relay_pass`] for `notifier` under its cluster-wide lock. `false`
    /// when the notifier is busy (its lock is held here or elsewhere). While the pass runs,
    /// the lock is renewed (retrying through elections) and `progress` (the work item that
    /// started it) kept from redelivery; no send starts once the lock may have lapsed, and a
    /// lock lost to another node stops the pass (see the module docs).
    pub(super) async fn pass(
        &self,
        notifier: &str,
        progress: Option<&jetstream::Message>,
    ) -> Result<bool, ClusterError> {
        let gate = {
            let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
            local.entry(notifier.to_string()).or_default().clone()
        };
        let Ok(_local) = gate.try_lock_owned() else {
            return Ok(false);
        };
        let key = format!("notifier.{}", kv_key(notifier));
        let token = format!("{:016x}", fastrand::u64(..));
        let _live = LiveToken::new(&token);
        let Some(held) = self.take(notifier, &key, &token).await? else {
            return Ok(false);
        };
        let (value, mut revision) = (held.value, held.revision);
        let ttl = self.lock_ttl;
        // Sends stop a margin before anyone could take the lock over (scheduling, clock rates).
        let margin = ttl / 5;
        let valid_until = std::sync::Mutex::new(held.asked + ttl);
        let lapses = || *valid_until.lock().unwrap_or_else(|p| p.into_inner()) - margin;
        let may_send = || Instant::now() < lapses();
        let cancel = self.cancel.child_token();
        let grace = held.from.as_ref().map(|from| {
            let send = self
                .prepared
                .notifiers
                .get(notifier)
                .map_or(Duration::ZERO, |n| n.send_bound());
            let grace = send + RECORD_BUDGET;
            warn!(notifier, from = %from, ?grace, "Took over a relay lock its holder stopped renewing; waiting for its in-flight delivery to be recorded.");
            grace
        });
        // Whether the previous holder's in-flight work is settled (at once for a free lock):
        // a pass stopped during its grace leaves the lock for the next node's grace.
        let settled = std::sync::atomic::AtomicBool::new(grace.is_none());
        let work = async {
            if let Some(grace) = grace {
                tokio::select! {
                    () = cancel.cancelled() => return Ok(()),
                    () = tokio::time::sleep(grace) => {}
                }
                settled.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            // Every outcome an earlier holder recorded is in the stream before it released
            // the lock (or before the grace above ended): fold it in before deciding anything.
            tokio::time::timeout(MIRROR_WAIT, self.cluster.wait_caught_up(&cancel))
                .await
                .map_err(|_| js_err("catch up before a relay pass", "timed out"))??;
            if let Some(n) = self.prepared.notifiers.get(notifier) {
                n.seed_rate_limit(self.store.notifier_state(notifier)?.last_attempt)
                    .await;
            }
            pipeline::relay_pass(
                &self.prepared,
                &self.store,
                &self.stats,
                &cancel,
                &may_send,
                Some(notifier),
            )
            .await?;
            Ok::<(), ClusterError>(())
        };
        let renew_every = (ttl / 3).min(RELAY_ACK_WAIT / 3);
        let mut lost = false;
        let keep = async {
            let mut next = held.asked + renew_every;
            let mut pause = RENEW_RETRY.0;
            let mut warned = false;
            loop {
                tokio::time::sleep_until(next).await;
                let asked = Instant::now();
                // An earlier renewal may have landed unseen: then the lock holds this pass's token.
                let ours = |entry: &kv::Entry| token_of(entry).as_deref() == Some(token.as_str());
                match self
                    .lock_keys()
                    .cas_or_recognise("renew a relay lock", &key, &value, revision, ours)
                    .await
                {
                    Ok(Written::Landed(rev)) => {
                        revision = rev;
                        *valid_until.lock().unwrap_or_else(|p| p.into_inner()) = asked + ttl;
                        (next, pause) = (asked + renew_every, RENEW_RETRY.0);
                        if warned {
                            info!(notifier, "Relay lock renewed again; deliveries resume.");
                            warned = false;
                        }
                        if let Some(m) = progress {
                            let _ = m.ack_with(AckKind::Progress).await;
                        }
                        continue;
                    }
                    Ok(Written::Recognised(entry)) => {
                        // Ours, written at some point after an earlier ask: the lock's life is
                        // not extended until a renewal answers.
                        revision = entry.revision;
                        (next, pause) = (Instant::now(), RENEW_RETRY.0);
                        continue;
                    }
                    // Another node took the lock.
                    Ok(Written::Theirs { .. }) => {
                        warn!(
                            notifier,
                            "Lost a notifier's relay lock to another node; the pass stops."
                        );
                        lost = true;
                        cancel.cancel();
                        return;
                    }
                    Err(WriteError::Read(e)) => {
                        let error = js_err("read a relay lock", e);
                        debug!(notifier, %error, "Cannot read a relay lock; retrying.")
                    }
                    // An election or a reconnect: the lock may well still be ours.
                    Err(WriteError::Write(error)) => {
                        debug!(notifier, %error, "Relay lock renewal failed; retrying.")
                    }
                }
                if !warned && !may_send() {
                    warn!(
                        notifier,
                        "Relay lock not renewed in time; no delivery starts until it is."
                    );
                    warned = true;
                }
                next = Instant::now() + pause;
                pause = (pause * 2).min(RENEW_RETRY.1);
            }
        };
        let result = {
            tokio::pin!(work);
            tokio::select! {
                r = &mut work => r,
                () = keep => work.await,
            }
        };
        if !lost && settled.load(std::sync::atomic::Ordering::Relaxed) {
            let locks = &self.locks;
            let released = retry("release a relay lock", ttl, retry::update_final, || {
                locks.delete_expect_revision(&key, Some(revision))
            })
            .await;
            match released {
                Ok(()) => {}
                // The pass ended before a renewal could notice: the sends it started before
                // its lock lapsed are recorded, the taker waits for them.
                // (Unless an earlier attempt of this delete landed unseen: then it is gone.)
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    if let Ok(Some(entry)) = self.read_lock(&key).await
                        && token_of(&entry).as_deref() != Some(token.as_str())
                    {
                        warn!(
                            notifier,
                            "Lost a notifier's relay lock to another node during the pass."
                        );
                    }
                }
                Err(error) => {
                    debug!(notifier, %error, "Relay lock not released (another node takes it over after a TTL).");
                }
            }
        }
        result.map(|()| true)
    }
}
