//! What the HTTP listener's two faces share: the JSON API (`crate::api`) and the web UI
//! (`crate::web`) are served on one listener, from one state, behind one token. Both use this
//! module and the API mounts the UI's router, so neither face imports the other's internals
//! and the web UI does not depend on the API.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::events::Alert;
use crate::metrics::Metrics;
use crate::store::Store;

/// What the handlers share. Cloned per request (all fields are handles).
#[derive(Clone)]
pub struct ApiState {
    /// The log (reads only).
    pub store: Store,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// `/readyz`: set after the first catch-up, cleared when stopping.
    pub ready: Arc<AtomicBool>,
    /// The running configuration; replaced on reload (feeds list, token rotation).
    pub config: Arc<RwLock<Arc<Config>>>,
    /// Alerts appended by ingest, after their append returned.
    pub alerts: broadcast::Sender<Alert>,
    /// Cancelled when the daemon stops; ends open streams so shutdown is not held up.
    pub shutdown: CancellationToken,
    /// Process start, for `parley_uptime_seconds`.
    pub started: Instant,
    /// Wakes the outbox relay after a write verb re-queued deliveries (`alerts retry`), so
    /// they go out now rather than at the relay's next scheduled look.
    pub wake_relay: Arc<tokio::sync::Notify>,
}

impl ApiState {
    /// The running config (replaced on reload).
    pub(crate) fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// SHA-256 both sides, then compare the digests in constant time: neither the token's
/// content nor its length leaks through timing.
pub(crate) fn token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison_is_exact() {
        // The bearer check must reject prefixes, extensions and empty tokens.
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3cre", "s3cret"));
        assert!(!token_matches("s3cret!", "s3cret"));
        assert!(!token_matches("", "s3cret"));
    }
}
