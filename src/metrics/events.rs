//! Observable events that are both logged and counted: one struct each, whose `emit()` writes
//! the log line and bumps the counter together (vector's `internal_events`), so no counter is
//! bumped beside a hand-written log line and the two cannot drift apart.

use std::sync::atomic::Ordering;

use tracing::{debug, info, warn};

use super::{ClusterGauges, ServiceCounters, Stats};

/// A feed moved permanently (301/308): logged and counted together.
#[derive(Debug)]
pub struct FeedRedirected<'a> {
    /// The configured feed, as [`crate::feed::FeedLocation::redacted`] shows it.
    pub feed: &'a str,
    /// Where it is polled from now on.
    pub to: &'a str,
}

impl FeedRedirected<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, counters: &ServiceCounters) {
        counters.feeds_redirected.fetch_add(1, Ordering::Relaxed);
        warn!(feed = %self.feed, to = %self.to, "Feed moved permanently; polling the new URL. Update the config to silence this.");
    }
}

/// A feed answered 410 Gone and is disabled: logged and counted together.
#[derive(Debug)]
pub struct FeedGone<'a> {
    /// The configured feed, as [`crate::feed::FeedLocation::redacted`] shows it.
    pub feed: &'a str,
}

impl FeedGone<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, counters: &ServiceCounters) {
        counters.feeds_gone.fetch_add(1, Ordering::Relaxed);
        warn!(feed = %self.feed, "Feed is gone (410); it is disabled and no longer polled. Remove it from the config.");
    }
}

/// A request that feed content asked for (an article page, a robots.txt, a feed's redirect)
/// and the address policy refused: logged and counted together. Nothing was sent.
#[derive(Debug)]
pub struct FetchRefused<'a> {
    /// What was asked for: "article page", "robots.txt" or "feed redirect".
    pub what: &'static str,
    /// The URL, as [`crate::feed::FeedLocation::redacted`] shows it.
    pub url: &'a str,
    /// Why.
    pub refused: crate::feed::address::Refused,
}

impl FetchRefused<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        let reason = self.refused.reason;
        if let Some(i) = crate::feed::address::REASONS
            .iter()
            .position(|r| *r == reason)
        {
            stats.fetch_refused[i].fetch_add(1, Ordering::Relaxed);
        }
        warn!(what = self.what, url = %self.url, reason, addr = %self.refused.addr, "Fetch refused by the address policy; keeping what the feed said.");
    }
}

/// A feed parsed only after its malformed XML was repaired: logged and counted together, so
/// the operator can tell its publisher before a worse breakage loses items.
#[derive(Debug)]
pub struct FeedRecovered<'a> {
    /// The configured feed, as [`crate::feed::FeedLocation::redacted`] shows it.
    pub feed: &'a str,
    /// What was repaired.
    pub repairs: &'a str,
}

impl FeedRecovered<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, counters: &ServiceCounters) {
        counters.feed_recoveries.fetch_add(1, Ordering::Relaxed);
        warn!(feed = %self.feed, repairs = %self.repairs, "Feed is malformed XML; parsed after repairs.");
    }
}

/// A reload took effect or was rejected: logged and counted together.
#[derive(Debug)]
pub struct ConfigReloaded<'a> {
    /// `None` when it took effect, else the validation error.
    pub rejected: Option<&'a str>,
}

impl ConfigReloaded<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, counters: &ServiceCounters) {
        match self.rejected {
            None => {
                counters.reloads.fetch_add(1, Ordering::Relaxed);
                info!("Configuration reloaded.");
            }
            Some(error) => {
                counters.reloads_rejected.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%error, "Reload rejected; the running configuration stays in force.");
            }
        }
    }
}

/// A feed answered with its items: logged and counted (`feeds ok`).
#[derive(Debug)]
pub struct FeedPolled<'a> {
    /// The configured feed, as [`crate::feed::FeedLocation::redacted`] shows it.
    pub feed: &'a str,
    /// How many items it had.
    pub items: u64,
}

impl FeedPolled<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        Stats::add(&stats.feeds_ok, 1);
        info!(feed = %self.feed, items = self.items, "Feed polled.");
    }
}

/// A feed answered 304 Not Modified: logged (debug) and counted.
#[derive(Debug)]
pub struct FeedNotModified<'a> {
    /// The configured feed, as [`crate::feed::FeedLocation::redacted`] shows it.
    pub feed: &'a str,
}

impl FeedNotModified<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        Stats::add(&stats.feeds_not_modified, 1);
        debug!(feed = %self.feed, "Feed not modified.");
    }
}

/// A feed fetch or parse failed: logged and counted; the feed is retried with backoff.
#[derive(Debug)]
pub struct FeedFetchFailed<'a> {
    /// The configured feed, as [`crate::feed::FeedLocation::redacted`] shows it.
    pub feed: &'a str,
    /// What went wrong.
    pub error: &'a str,
    /// Failures in a row, this one included.
    pub failures: u32,
}

impl FeedFetchFailed<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        Stats::add(&stats.feeds_failed, 1);
        warn!(feed = %self.feed, error = %self.error, failures = self.failures, "Feed fetch failed.");
    }
}

/// An alert a rule raised again inside its cooldown: logged (debug) and counted, not appended.
#[derive(Debug)]
pub struct AlertCooledDown<'a> {
    /// The rule id.
    pub rule: &'a str,
    /// The actor set, joined.
    pub actors: &'a str,
}

impl AlertCooledDown<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        Stats::add(&stats.alerts_cooled_down, 1);
        debug!(rule = %self.rule, actors = %self.actors, "Alert silenced by cooldown.");
    }
}

/// One alert's notification delivered: logged (debug), counted, and its latency observed.
#[derive(Debug)]
pub struct NotificationDelivered<'a> {
    /// The alert.
    pub alert: &'a str,
    /// The notifier id.
    pub notifier: &'a str,
    /// Which attempt succeeded.
    pub attempt: u32,
}

impl NotificationDelivered<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        stats.latency.delivered(self.alert, self.notifier);
        Stats::add(&stats.delivered, 1);
        debug!(alert = %self.alert, notifier = %self.notifier, attempt = self.attempt, "Notification delivered.");
    }
}

/// One alert's delivery attempt failed: logged and counted (and counted as given up when no
/// attempt follows).
#[derive(Debug)]
pub struct NotificationFailed<'a> {
    /// The alert.
    pub alert: &'a str,
    /// The notifier id.
    pub notifier: &'a str,
    /// Which attempt failed.
    pub attempt: u32,
    /// Why.
    pub error: &'a str,
    /// No further attempt will be made.
    pub gave_up: bool,
}

impl NotificationFailed<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        Stats::add(&stats.delivery_failures, 1);
        if self.gave_up {
            Stats::add(&stats.given_up, 1);
        }
        warn!(alert = %self.alert, notifier = %self.notifier, attempt = self.attempt, error = %self.error, gave_up = self.gave_up, "Notification failed.");
    }
}

/// A digest (several grouped alerts in one message) delivered or failed: logged and counted
/// per alert it carried.
#[derive(Debug)]
pub struct DigestSent<'a> {
    /// The notifier id.
    pub notifier: &'a str,
    /// Alerts in the digest.
    pub alerts: usize,
    /// `None` when delivered, else the error.
    pub error: Option<&'a str>,
    /// Of those alerts, how many get no further attempt.
    pub given_up: u64,
}

impl DigestSent<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        match self.error {
            None => {
                Stats::add(&stats.delivered, self.alerts as u64);
                debug!(notifier = %self.notifier, alerts = self.alerts, "Grouped notification delivered.");
            }
            Some(error) => {
                Stats::add(&stats.delivery_failures, self.alerts as u64);
                Stats::add(&stats.given_up, self.given_up);
                warn!(notifier = %self.notifier, alerts = self.alerts, %error, "Grouped notification failed.");
            }
        }
    }
}

/// One watchdog round: a healthy one pings systemd and is counted; a failed one is logged.
#[derive(Debug)]
pub struct WatchdogRound {
    /// Every task answered in time.
    pub healthy: bool,
}

impl WatchdogRound {
    /// Logs or counts the event.
    pub fn emit(&self, counters: &ServiceCounters) {
        if self.healthy {
            counters.watchdog_pings.fetch_add(1, Ordering::Relaxed);
        } else {
            warn!(
                "Watchdog round failed: the poll scheduler, ingest, the outbox relay or the store appender is stuck."
            );
        }
    }
}

/// The NATS connection dropped: logged and counted; the client reconnects with backoff.
#[derive(Debug)]
pub struct NatsDisconnected;

impl NatsDisconnected {
    /// Logs and counts the event.
    pub fn emit(&self, gauges: &ClusterGauges) {
        gauges.connected.store(false, Ordering::Release);
        gauges.disconnects.fetch_add(1, Ordering::Relaxed);
        warn!("NATS connection lost; reconnecting with backoff.");
    }
}

/// A rule raised a new alert (appended; its notifications are queued): logged and counted,
/// and its arrival time kept for the alert-latency histogram.
#[derive(Debug)]
pub struct AlertRaised<'a> {
    /// The alert.
    pub alert: &'a crate::events::Alert,
    /// When the poll that brought its article started.
    pub arrived: std::time::Instant,
}

impl AlertRaised<'_> {
    /// Logs and counts the event.
    pub fn emit(&self, stats: &Stats) {
        Stats::add(&stats.alerts_raised, 1);
        stats.latency.arrived(&self.alert.alert_id, self.arrived);
        info!(rule = %self.alert.rule, actors = %self.alert.actors.join(","), alert = %self.alert.alert_id, "Alert raised.");
    }
}
