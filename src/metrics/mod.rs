//! Prometheus metrics and the observable events behind them.
//!
//! Counters live where they are counted (the pipeline's [`Stats`], declared here so this
//! module does not reach back into the pipeline; the service's [`ServiceCounters`]); this
//! module reads them at scrape time and writes the Prometheus text format with the
//! `prometheus-client` crate, so names, `# TYPE` lines and escaping follow the format exactly.
//! Conventions: every name starts with `parley_`, counters end in `_total`, durations are
//! seconds, and labels are bounded (no feed URL, rule or actor labels: those belong in logs
//! and in `/api/v1/feeds`).
//!
//! Events that both log and count are small structs with an `emit` method (the Vector
//! "internal events" idea): the log line and the counter cannot drift apart.

mod events;
pub use events::*;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use tracing::warn;

/// The label of `parley_alert_latency_seconds`: which notifier delivered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NotifierLabel {
    /// The notifier id (bounded: notifiers are configured).
    pub notifier: String,
}

/// Latency histograms: they measure parley's promise of "an alert within one poll interval
/// plus 5 s". Cheap to clone (the histograms share their state).
#[derive(Debug, Clone)]
pub struct Latency {
    /// `parley_poll_duration_seconds`: one feed's poll, from its request to its ingest done.
    pub poll: Histogram,
    /// `parley_ingest_batch_seconds`: one ingest request (a feed's new articles), extraction
    /// and append included.
    pub ingest_batch: Histogram,
    /// `parley_alert_latency_seconds{notifier}`: from the article's arrival (the start of
    /// the poll that fetched it) to the alert's first successful delivery by that notifier.
    pub alert: Family<NotifierLabel, Histogram, fn() -> Histogram>,
    /// When each recent alert's article arrived, by alert id (bounded, oldest dropped first).
    /// In memory only: an alert raised before a restart is delivered but not measured.
    arrivals: Arc<Mutex<Arrivals>>,
}

/// Arrival times of recent alerts, in insertion order for eviction.
#[derive(Debug, Default)]
struct Arrivals {
    at: HashMap<String, Instant>,
    order: VecDeque<String>,
}

/// Alerts whose arrival time is kept for [`Latency::delivered`]: far more than are pending
/// delivery at any time.
const ARRIVALS_KEPT: usize = 20_000;

fn alert_buckets() -> Histogram {
    // 0.25 s .. ~68 min: retries with backoff and grouping stretch the tail.
    Histogram::new(exponential_buckets(0.25, 2.0, 15))
}

impl Default for Latency {
    fn default() -> Latency {
        Latency {
            // 10 ms .. ~82 s.
            poll: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            ingest_batch: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            alert: Family::new_with_constructor(alert_buckets as fn() -> Histogram),
            arrivals: Arc::default(),
        }
    }
}

impl Latency {
    /// Records when the article behind a newly appended alert arrived.
    pub fn arrived(&self, alert_id: &str, at: Instant) {
        let mut a = self.arrivals.lock().unwrap_or_else(|p| p.into_inner());
        if a.at.insert(alert_id.to_string(), at).is_none() {
            a.order.push_back(alert_id.to_string());
        }
        while a.order.len() > ARRIVALS_KEPT {
            if let Some(old) = a.order.pop_front() {
                a.at.remove(&old);
            }
        }
    }

    /// Observes an alert's successful delivery by `notifier` (the outbox delivers each
    /// alert once per notifier, so this is its first).
    pub fn delivered(&self, alert_id: &str, notifier: &str) {
        let at = {
            let a = self.arrivals.lock().unwrap_or_else(|p| p.into_inner());
            a.at.get(alert_id).copied()
        };
        if let Some(at) = at {
            self.alert
                .get_or_create(&NotifierLabel {
                    notifier: notifier.to_string(),
                })
                .observe(at.elapsed().as_secs_f64());
        }
    }
}

/// Counters for the `--once` summary (and, later, metrics). Monotonic over the process.
#[derive(Debug, Default)]
pub struct Stats {
    /// Feeds fetched with a 200 and parsed.
    pub feeds_ok: AtomicU64,
    /// Feeds that answered 304.
    pub feeds_not_modified: AtomicU64,
    /// Feeds whose fetch or parse failed.
    pub feeds_failed: AtomicU64,
    /// Articles appended.
    pub articles_new: AtomicU64,
    /// Articles skipped because they were already in the log.
    pub articles_seen: AtomicU64,
    /// `event.extracted` events appended.
    pub events_extracted: AtomicU64,
    /// Alerts appended.
    pub alerts_raised: AtomicU64,
    /// Rule matches silenced by a cooldown.
    pub alerts_cooled_down: AtomicU64,
    /// Notifications delivered.
    pub delivered: AtomicU64,
    /// Failed delivery attempts.
    pub delivery_failures: AtomicU64,
    /// Outbox entries given up.
    pub given_up: AtomicU64,
    /// Outbox entries left pending by `--once` because grouping holds them
    /// (`group_interval`, `repeat_interval`).
    pub held: AtomicU64,
    /// `fetch_article` page fetches by outcome, indexed by [`ArticleFetch`].
    pub article_fetch: [AtomicU64; ArticleFetch::ALL.len()],
    /// Requests feed content asked for that the address policy refused, indexed like
    /// [`crate::feed::address::REASONS`].
    pub fetch_refused: [AtomicU64; crate::feed::address::REASONS.len()],
    /// Poll, ingest and alert latency histograms.
    pub latency: Latency,
}

/// What became of one `fetch_article` attempt: the `outcome` label of
/// `parley_article_fetch_total`, so an operator sees robots.txt refusals, failing sites and
/// pages without a main text instead of only the feed's thin items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleFetch {
    /// The URL's text was already in the store (no request).
    Cached,
    /// Fetched, main text found and stored.
    Fetched,
    /// robots.txt disallowed the page (or could not be read).
    RobotsDisallowed,
    /// The request failed (network, status, size) or returned no body.
    Failed,
    /// The address policy refused the page (or its robots.txt): nothing was sent.
    Refused,
    /// The page had no main text.
    NoText,
    /// The text could not be stored.
    StoreFailed,
}

impl ArticleFetch {
    /// Every outcome, in label order.
    pub const ALL: [ArticleFetch; 7] = [
        ArticleFetch::Cached,
        ArticleFetch::Fetched,
        ArticleFetch::RobotsDisallowed,
        ArticleFetch::Failed,
        ArticleFetch::Refused,
        ArticleFetch::NoText,
        ArticleFetch::StoreFailed,
    ];

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            ArticleFetch::Cached => "cached",
            ArticleFetch::Fetched => "fetched",
            ArticleFetch::RobotsDisallowed => "robots_disallowed",
            ArticleFetch::Failed => "failed",
            ArticleFetch::Refused => "refused",
            ArticleFetch::NoText => "no_text",
            ArticleFetch::StoreFailed => "store_failed",
        }
    }

    /// Counts one attempt with this outcome.
    pub fn count(self, stats: &Stats) {
        stats.article_fetch[self as usize].fetch_add(1, Ordering::Relaxed);
    }
}

impl Stats {
    /// Adds `n` to one of these counters (ingest and the relay count through it).
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The one-line summary printed by `run --once`.
    pub fn summary(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let held = match g(&self.held) {
            0 => String::new(),
            n => format!(", {n} held for grouping"),
        };
        format!(
            "feeds: {} ok, {} not modified, {} failed; articles: {} new, {} already seen; \
             events: {}; alerts: {} raised, {} in cooldown; notifications: {} delivered, {} failed attempts, {} given up{}",
            g(&self.feeds_ok),
            g(&self.feeds_not_modified),
            g(&self.feeds_failed),
            g(&self.articles_new),
            g(&self.articles_seen),
            g(&self.events_extracted),
            g(&self.alerts_raised),
            g(&self.alerts_cooled_down),
            g(&self.delivered),
            g(&self.delivery_failures),
            g(&self.given_up),
            held,
        )
    }
}

/// The `Content-Type` of `/metrics` (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Counters the service layer owns (the pipeline's live in [`Stats`]). Monotonic over the
/// process, like `Stats`.
#[derive(Debug, Default)]
pub struct ServiceCounters {
    /// Configuration reloads that took effect.
    pub reloads: AtomicU64,
    /// Reloads rejected because the new config did not validate.
    pub reloads_rejected: AtomicU64,
    /// Feeds moved by a permanent redirect.
    pub feeds_redirected: AtomicU64,
    /// Feeds disabled by a 410 Gone.
    pub feeds_gone: AtomicU64,
    /// Polls whose feed parsed only after its malformed XML was repaired.
    pub feed_recoveries: AtomicU64,
    /// Watchdog pings sent to systemd.
    pub watchdog_pings: AtomicU64,
    /// Alerts pushed to `/api/v1/alerts/stream` subscribers.
    pub alerts_streamed: AtomicU64,
}

/// Values read at scrape time from the store and the running config.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Highest seq in the log.
    pub log_last_seq: u64,
    /// Pending outbox entries.
    pub outbox_pending: u64,
    /// Configured feeds.
    pub feeds_configured: u64,
    /// Feeds whose last poll failed.
    pub feeds_failing: u64,
    /// Feeds disabled by 410.
    pub feeds_disabled: u64,
    /// 1 when `/readyz` says ready.
    pub ready: bool,
    /// Seconds since the process started.
    pub uptime_seconds: f64,
}

/// The NATS backend's figures (`parley cluster status` shows the same), kept up to date by
/// the cluster tasks so a scrape never waits on NATS. All zero, and not rendered, with sled.
#[derive(Debug, Default)]
pub struct ClusterGauges {
    /// Set once the NATS backend is in use: the `parley_cluster_*` metrics appear.
    pub enabled: std::sync::atomic::AtomicBool,
    /// 1 while the NATS connection is up; `/readyz` is 503 while it is down.
    pub connected: std::sync::atomic::AtomicBool,
    /// Last seq of the stream (at the last lease round).
    pub stream_last_seq: AtomicU64,
    /// Stream seq mirrored into the local projections.
    pub applied_seq: AtomicU64,
    /// Live nodes (presence keys in the lease bucket).
    pub nodes: AtomicU64,
    /// Feed shards this node holds a lease on.
    pub shards_owned: AtomicU64,
    /// Notifications waiting in the shared work queue.
    pub outbox_depth: AtomicU64,
    /// Times the NATS connection was lost.
    pub disconnects: AtomicU64,
}

/// Everything `/metrics` shows.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// The pipeline's counters.
    pub stats: Arc<Stats>,
    /// The service's counters.
    pub service: Arc<ServiceCounters>,
    /// The NATS backend's gauges (unused with sled).
    pub cluster: Arc<ClusterGauges>,
}

#[derive(Debug)]
struct Snapshot {
    stats: Arc<Stats>,
    service: Arc<ServiceCounters>,
    cluster: Arc<ClusterGauges>,
    gauges: Gauges,
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: &AtomicU64,
) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(value.load(Ordering::Relaxed));
    let metric = encoder.encode_descriptor(name, help, None, c.metric_type())?;
    c.encode(metric)
}

fn gauge<N>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: N,
) -> Result<(), std::fmt::Error>
where
    ConstGauge<N>: EncodeMetric,
{
    let g = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, None, g.metric_type())?;
    g.encode(metric)
}

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.stats;
        counter(
            &mut e,
            "feed_polls_ok",
            "Feed polls that returned a body that parsed.",
            &s.feeds_ok,
        )?;
        counter(
            &mut e,
            "feed_polls_not_modified",
            "Feed polls answered 304 Not Modified.",
            &s.feeds_not_modified,
        )?;
        counter(
            &mut e,
            "feed_polls_failed",
            "Feed polls whose fetch or parse failed.",
            &s.feeds_failed,
        )?;
        counter(
            &mut e,
            "articles_ingested",
            "Articles appended to the log.",
            &s.articles_new,
        )?;
        counter(
            &mut e,
            "articles_duplicate",
            "Articles skipped because they were already in the log.",
            &s.articles_seen,
        )?;
        counter(
            &mut e,
            "events_extracted",
            "event.extracted events appended.",
            &s.events_extracted,
        )?;
        counter(
            &mut e,
            "alerts_raised",
            "alert.raised events appended.",
            &s.alerts_raised,
        )?;
        counter(
            &mut e,
            "alerts_cooled_down",
            "Rule matches silenced by a cooldown.",
            &s.alerts_cooled_down,
        )?;
        counter(
            &mut e,
            "notifications_delivered",
            "Notifications delivered.",
            &s.delivered,
        )?;
        counter(
            &mut e,
            "notification_failures",
            "Failed notification delivery attempts.",
            &s.delivery_failures,
        )?;
        counter(
            &mut e,
            "notifications_given_up",
            "Outbox entries given up after their last attempt.",
            &s.given_up,
        )?;
        {
            // One family, one series per outcome: `parley_article_fetch_total{outcome=...}`.
            let metric_type = ConstCounter::new(0u64).metric_type();
            let mut family = e.encode_descriptor(
                "article_fetch",
                "Article pages for fetch_article feeds, by outcome.",
                None,
                metric_type,
            )?;
            for outcome in ArticleFetch::ALL {
                let labels = [("outcome", outcome.label())];
                let value = s.article_fetch[outcome as usize].load(Ordering::Relaxed);
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
        {
            // `parley_fetch_refused_total{reason=...}`: one series per address class.
            let metric_type = ConstCounter::new(0u64).metric_type();
            let mut family = e.encode_descriptor(
                "fetch_refused",
                "Requests named by feed content that the address policy refused, by reason.",
                None,
                metric_type,
            )?;
            for (i, reason) in crate::feed::address::REASONS.iter().enumerate() {
                let value = s.fetch_refused[i].load(Ordering::Relaxed);
                ConstCounter::new(value).encode(family.encode_family(&[("reason", *reason)])?)?;
            }
        }
        let v = &self.service;
        counter(
            &mut e,
            "config_reloads",
            "Configuration reloads that took effect.",
            &v.reloads,
        )?;
        counter(
            &mut e,
            "config_reloads_rejected",
            "Configuration reloads rejected (the old config stayed in force).",
            &v.reloads_rejected,
        )?;
        counter(
            &mut e,
            "feeds_redirected",
            "Feeds moved by a permanent redirect.",
            &v.feeds_redirected,
        )?;
        counter(
            &mut e,
            "feeds_gone",
            "Feeds disabled by 410 Gone.",
            &v.feeds_gone,
        )?;
        counter(
            &mut e,
            "feed_recoveries",
            "Polls whose feed was malformed XML and parsed only once repaired.",
            &v.feed_recoveries,
        )?;
        counter(
            &mut e,
            "watchdog_pings",
            "Watchdog keep-alives sent to systemd.",
            &v.watchdog_pings,
        )?;
        counter(
            &mut e,
            "alerts_streamed",
            "Alerts sent to server-sent-event subscribers.",
            &v.alerts_streamed,
        )?;
        let g = &self.gauges;
        gauge(
            &mut e,
            "log_last_seq",
            "Highest sequence number in the event log.",
            g.log_last_seq as i64,
        )?;
        gauge(
            &mut e,
            "outbox_pending",
            "Notifications waiting in the outbox.",
            g.outbox_pending as i64,
        )?;
        gauge(
            &mut e,
            "feeds_configured",
            "Feeds in the running configuration.",
            g.feeds_configured as i64,
        )?;
        gauge(
            &mut e,
            "feeds_failing",
            "Feeds whose last poll failed.",
            g.feeds_failing as i64,
        )?;
        gauge(
            &mut e,
            "feeds_disabled",
            "Feeds disabled by 410 Gone.",
            g.feeds_disabled as i64,
        )?;
        gauge(
            &mut e,
            "ready",
            "1 when the daemon is ready (caught up, not stopping).",
            i64::from(g.ready),
        )?;
        gauge(
            &mut e,
            "uptime_seconds",
            "Seconds since the process started.",
            g.uptime_seconds,
        )?;
        let c = &self.cluster;
        if c.enabled.load(Ordering::Relaxed) {
            let n = |v: &AtomicU64| v.load(Ordering::Relaxed) as i64;
            gauge(
                &mut e,
                "cluster_connected",
                "1 while the NATS connection is up.",
                i64::from(c.connected.load(Ordering::Relaxed)),
            )?;
            gauge(
                &mut e,
                "cluster_stream_last_seq",
                "Last sequence number of the JetStream log.",
                n(&c.stream_last_seq),
            )?;
            gauge(
                &mut e,
                "cluster_applied_seq",
                "Stream sequence mirrored into this node's projections.",
                n(&c.applied_seq),
            )?;
            gauge(
                &mut e,
                "cluster_lag",
                "Messages this node's projections are behind the stream.",
                n(&c.stream_last_seq)
                    .saturating_sub(n(&c.applied_seq))
                    .max(0),
            )?;
            gauge(&mut e, "cluster_nodes", "Live nodes.", n(&c.nodes))?;
            gauge(
                &mut e,
                "cluster_shards_owned",
                "Feed shards this node holds a lease on.",
                n(&c.shards_owned),
            )?;
            gauge(
                &mut e,
                "cluster_outbox_depth",
                "Notifications waiting in the shared work queue.",
                n(&c.outbox_depth),
            )?;
            counter(
                &mut e,
                "cluster_disconnects",
                "Times the NATS connection was lost.",
                &c.disconnects,
            )?;
        }
        Ok(())
    }
}

impl Metrics {
    /// New metrics over the pipeline's counters.
    pub fn new(stats: Arc<Stats>) -> Metrics {
        Metrics {
            stats,
            service: Arc::new(ServiceCounters::default()),
            cluster: Arc::new(ClusterGauges::default()),
        }
    }

    /// The Prometheus text exposition of every metric, with `gauges` read by the caller.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut registry = Registry::with_prefix("parley");
        registry.register(
            "build",
            "Build information; the value is always 1.",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let latency = &self.stats.latency;
        registry.register(
            "poll_duration_seconds",
            "One feed's poll, from its request until its articles are ingested.",
            latency.poll.clone(),
        );
        registry.register(
            "ingest_batch_seconds",
            "One ingest request (a poll's new articles): dedup, extraction, rules, append.",
            latency.ingest_batch.clone(),
        );
        registry.register(
            "alert_latency_seconds",
            "From an article's arrival (the start of the poll that fetched it) to its alert's first successful delivery, by notifier.",
            latency.alert.clone(),
        );
        registry.register_collector(Box::new(Snapshot {
            stats: self.stats.clone(),
            service: self.service.clone(),
            cluster: self.cluster.clone(),
            gauges,
        }));
        let mut out = String::new();
        // Writing into a String cannot fail; an encoder error would be a bug in a name.
        if let Err(error) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
        {
            warn!(%error, "Cannot encode metrics.");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_follows_the_naming_rules() {
        // Dashboards depend on the prefix, the _total suffix and build_info being there.
        let stats = Arc::new(Stats::default());
        stats.alerts_raised.fetch_add(3, Ordering::Relaxed);
        ArticleFetch::RobotsDisallowed.count(&stats);
        let metrics = Metrics::new(stats);
        FeedGone { feed: "x" }.emit(&metrics.service);
        FeedRecovered {
            feed: "x",
            repairs: "truncated",
        }
        .emit(&metrics.service);
        let text = metrics.render(Gauges {
            ready: true,
            ..Gauges::default()
        });
        assert!(text.contains("parley_alerts_raised_total 3\n"), "{text}");
        assert!(text.contains("parley_feeds_gone_total 1\n"), "{text}");
        assert!(text.contains("parley_feed_recoveries_total 1\n"), "{text}");
        assert!(text.contains("parley_ready 1\n"), "{text}");
        // Every fetch_article outcome is a series of one family, zeros included.
        assert!(
            text.contains("parley_article_fetch_total{outcome=\"robots_disallowed\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("parley_article_fetch_total{outcome=\"fetched\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "parley_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("parley_"), "{line}");
        }
    }
}
