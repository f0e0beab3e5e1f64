//! robots.txt fetched and cached per origin, so that every article page asks its host's
//! rules without a request per page.
//!
//! The decision itself (parsing the rules, what a failed fetch means) is
//! [`super::article::Robots`]; this module fetches robots.txt through the same client and
//! per-host gate as everything else, and keeps the rules for [`ROBOTS_TTL`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::address::Refused;
use super::article::Robots;
use super::hosts::HostGates;
use super::{FeedLocation, FetchOutcome, Fetcher};

/// How long a host's robots.txt rules are trusted before they are fetched again.
const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);

/// robots.txt rules by origin (`scheme://host:port`), with when they were fetched.
type Rules = HashMap<String, (Instant, Arc<Robots>)>;

/// robots.txt rules by origin, with when they were fetched (kept for [`ROBOTS_TTL`]). One
/// per generation, shared by its polls.
#[derive(Default)]
pub(crate) struct RobotsCache {
    rules: tokio::sync::Mutex<Rules>,
}

impl RobotsCache {
    /// May parley fetch `url`? Reads (and caches per origin) the host's robots.txt through
    /// `fetcher` and the host's gate in `hosts`. A robots.txt request the address policy
    /// refuses is told to `refused` with its redacted URL; its rules are then "do not crawl".
    pub(crate) async fn allow(
        &self,
        fetcher: &Fetcher,
        hosts: &HostGates,
        url: &url::Url,
        refused: &(dyn Fn(&str, Refused) + Sync),
    ) -> bool {
        let origin = url.origin().ascii_serialization();
        let mut cache = self.rules.lock().await;
        if let Some((at, robots)) = cache.get(&origin)
            && at.elapsed() < ROBOTS_TTL
        {
            return robots.allowed(url.as_str());
        }
        let Ok(robots_url) = url.join("/robots.txt") else {
            return false;
        };
        let location = FeedLocation::Http(robots_url.clone());
        let robots = {
            let Some(_slot) = hosts.slot(&location).await else {
                return false;
            };
            match fetcher.fetch_page(&robots_url).await {
                Ok(FetchOutcome::Body { bytes, .. }) => Robots::parse(&bytes),
                Ok(_) => Robots::AllowAll,
                Err(error) => {
                    if let Some(why) = error.refused {
                        refused(&location.redacted(), why);
                    }
                    Robots::after_error(error.status)
                }
            }
        };
        let allowed = robots.allowed(url.as_str());
        let now = Instant::now();
        prune_robots(&mut cache, now);
        cache.insert(origin, (now, Arc::new(robots)));
        allowed
    }
}

/// Drops the robots.txt rules older than [`ROBOTS_TTL`]: they would be fetched again before
/// use anyway, and without this the cache keeps every origin an article page was ever fetched
/// from, until the next reload.
fn prune_robots(cache: &mut Rules, now: Instant) {
    cache.retain(|_, (at, _)| now.saturating_duration_since(*at) < ROBOTS_TTL);
}

#[cfg(test)]
mod tests {
    use super::*;

    // robots.txt rules past their TTL are useless (they are fetched again before use), so
    // they must leave the cache; fresh ones must stay.
    #[test]
    fn robots_rules_past_their_ttl_leave_the_cache() {
        let old = Instant::now();
        let now = old + ROBOTS_TTL + Duration::from_secs(1);
        let mut cache = Rules::new();
        cache.insert("http://old".to_string(), (old, Arc::new(Robots::AllowAll)));
        cache.insert("http://new".to_string(), (now, Arc::new(Robots::AllowAll)));
        prune_robots(&mut cache, now);
        assert_eq!(cache.keys().collect::<Vec<_>>(), ["http://new"]);
    }
}
