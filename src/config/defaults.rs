//! The named defaults of every setting, and the environment variables systemd sets. Each is
//! public so the docs, `parley check` and tests name the same value the validator uses.

use std::time::Duration;

use super::Scope;

/// Default `daemon.poll_interval`: often enough for news, polite to publishers.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Default `daemon.concurrency`: feeds fetched at once; enough to poll hundreds of feeds
/// without opening a connection storm.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Default `daemon.request_timeout`: a feed slower than this is treated as failing.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `daemon.max_body_bytes` (10 MiB): far above real feeds, low enough to stop a
/// runaway or hostile response from exhausting memory.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
/// Default `daemon.user_agent`: identifies parley and its version to publishers.
pub const DEFAULT_USER_AGENT: &str = concat!("parley/", env!("CARGO_PKG_VERSION"));
/// Default `daemon.max_backoff`: a failing feed is still retried at least this often.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(6 * 60 * 60);
/// Default `daemon.per_host_concurrency`.
pub const DEFAULT_PER_HOST_CONCURRENCY: usize = 2;
/// Default `api.listen`: loopback only, so nothing is exposed until the operator says so.
pub const DEFAULT_API_LISTEN: std::net::SocketAddr = std::net::SocketAddr::V4(
    std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 7878),
);
/// Default `log.url`: a NATS server on this machine, the usual sidecar deployment.
pub const DEFAULT_LOG_URL: &str = "nats://127.0.0.1:4222";
/// Default `log.stream`.
pub const DEFAULT_LOG_STREAM: &str = "PARLEY";
/// Default `log.replicas`: one server; a 3-server cluster sets 3.
pub const DEFAULT_LOG_REPLICAS: usize = 1;
/// Default `log.lease_ttl`: short enough that a dead node's feeds move within a fraction of
/// a typical poll interval, long enough that a GC pause or a slow NATS round trip does not
/// make leases flap.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(15);
/// Shortest `log.lease_ttl`: renewals happen every third of it, and the KV bucket's expiry
/// works in whole seconds.
pub const MIN_LEASE_TTL: Duration = Duration::from_secs(1);
/// Environment variable systemd sets from `ConfigurationDirectory=`; the default config
/// folder when neither `--config` nor `PARLEY_CONFIG` is given.
pub const CONFIGURATION_DIRECTORY_ENV: &str = "CONFIGURATION_DIRECTORY";
/// Folder name of the default state dir, next to the config file.
pub const DEFAULT_STATE_DIR_NAME: &str = "data";
/// Environment variable systemd sets from `StateDirectory=`; the default state dir when
/// the config does not name one.
pub const STATE_DIRECTORY_ENV: &str = "STATE_DIRECTORY";
/// Default rule scope: a sentence, because two names in one sentence usually means they
/// did something together, while two names in one article often does not.
pub const DEFAULT_SCOPE: Scope = Scope::Sentence;
/// Default webhook timeout.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Default notifier `max_attempts`: with the retry defaults, about four hours of retries.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// Default notifier `retry_initial` (doubles per attempt).
pub const DEFAULT_RETRY_INITIAL: Duration = Duration::from_secs(5);
/// Default notifier `retry_max`.
pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(60 * 60);
/// Default notifier `max_age`: a day of retries before an alert becomes a dead letter.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// Default notifier `group_interval` (digest mode): Alertmanager's default.
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Default rule `window` (window scope and corroboration span): two days, a news cycle.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(48 * 60 * 60);
