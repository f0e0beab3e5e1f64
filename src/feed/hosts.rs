//! Per-host politeness: how many requests may be in flight to one host, and how long apart
//! they must start.
//!
//! Feeds, article pages and robots.txt all go through the same gate of their host, so a
//! publisher sees one polite client however its URLs reach parley. The daemon's poll
//! scheduler takes a host slot before its global slot (see `daemon::poll`); article-page
//! fetching (see [`super::page`]) takes the host slot alone, inside the poll that found it.
//! The gates live here, with fetching, so that both can use them without `feed` knowing
//! about the daemon.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::FeedLocation;

/// Per-host politeness: at most `per_host_concurrency` requests in flight to one host, and
/// (optionally) at least `per_host_delay` between the starts of two requests to it.
pub(crate) struct HostGate {
    permits: Arc<Semaphore>,
    next_start: tokio::sync::Mutex<tokio::time::Instant>,
}

impl HostGate {
    /// A gate with every permit free that may start a request now.
    fn new(per_host: usize, next_start: tokio::time::Instant) -> Arc<HostGate> {
        Arc::new(HostGate {
            permits: Arc::new(Semaphore::new(per_host)),
            next_start: tokio::sync::Mutex::new(next_start),
        })
    }

    /// Waits for one of the host's request slots; `None` if the gate was closed.
    pub(crate) async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().acquire_owned().await.ok()
    }
}

/// The politeness gates of one generation, by host (`host:port`), created on first use with
/// the generation's `[daemon]` limits.
pub(crate) struct HostGates {
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    /// `per_host_concurrency`, at least 1.
    per_host: usize,
    /// `per_host_delay`.
    delay: Option<Duration>,
}

impl HostGates {
    /// No gates yet; each host's gets `per_host_concurrency` slots and `per_host_delay`.
    pub(crate) fn new(per_host_concurrency: usize, per_host_delay: Option<Duration>) -> HostGates {
        HostGates {
            hosts: Mutex::new(HashMap::new()),
            per_host: per_host_concurrency.max(1),
            delay: per_host_delay,
        }
    }

    /// The politeness gate of a feed's host (`None` for local files).
    pub(crate) fn gate(&self, location: &FeedLocation) -> Option<Arc<HostGate>> {
        let FeedLocation::Http(url) = location else {
            return None;
        };
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if !hosts.contains_key(&host) {
            prune_gates(&mut hosts, tokio::time::Instant::now());
        }
        Some(
            hosts
                .entry(host)
                .or_insert_with(|| HostGate::new(self.per_host, tokio::time::Instant::now()))
                .clone(),
        )
    }

    /// Waits out the host's `per_host_delay` since its last request, and books the next one.
    pub(crate) async fn wait_turn(&self, gate: &HostGate) {
        if let Some(delay) = self.delay {
            let mut next = gate.next_start.lock().await;
            tokio::time::sleep_until(*next).await;
            *next = tokio::time::Instant::now() + delay;
        }
    }

    /// Waits for the host's politeness gate alone: a per-host slot, then the per-host delay.
    /// Article pages fetched for a feed use it while their poll already holds a global slot.
    /// `Some(None)` for a local file (no gate); `None` if the gate was closed.
    pub(crate) async fn slot(
        &self,
        location: &FeedLocation,
    ) -> Option<Option<OwnedSemaphorePermit>> {
        let Some(gate) = self.gate(location) else {
            return Some(None);
        };
        let permit = gate.permit().await?;
        self.wait_turn(&gate).await;
        Some(Some(permit))
    }
}

/// Drops the politeness gates that nothing uses: no task holds the gate, no request holds one
/// of its permits, and its per-host delay has passed. A fresh gate for that host behaves the
/// same (all permits free, may start now). Without this the map keeps every host an article
/// page was ever fetched from, until the next reload.
fn prune_gates(hosts: &mut HashMap<String, Arc<HostGate>>, now: tokio::time::Instant) {
    hosts.retain(|_, gate| {
        Arc::strong_count(gate) > 1
            || Arc::strong_count(&gate.permits) > 1
            || gate.next_start.try_lock().map_or(true, |next| *next > now)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    // The gate map must not keep idle hosts forever, yet never forget a gate still limiting
    // a request (a held gate, a held permit, or a per-host delay not yet over).
    #[test]
    fn idle_politeness_gates_leave_the_map_and_busy_ones_stay() {
        let now = tokio::time::Instant::now();
        let mut hosts = HashMap::new();
        hosts.insert("idle:80".to_string(), HostGate::new(2, now));
        let held = HostGate::new(2, now);
        hosts.insert("held:80".to_string(), held.clone());
        let in_flight = HostGate::new(2, now);
        let permit = in_flight.permits.clone().try_acquire_owned();
        assert!(permit.is_ok());
        hosts.insert("in-flight:80".to_string(), in_flight);
        hosts.insert(
            "delayed:80".to_string(),
            HostGate::new(2, now + Duration::from_secs(5)),
        );
        prune_gates(&mut hosts, now);
        let mut left: Vec<&str> = hosts.keys().map(String::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["delayed:80", "held:80", "in-flight:80"]);
        drop((held, permit));
        prune_gates(&mut hosts, now + Duration::from_secs(6));
        assert!(hosts.is_empty(), "left: {:?}", hosts.keys());
    }
}
