//! Configuration: a serde `RawConfig` read from TOML (with includes and `${VAR}`), validated
//! into a [`Config`] whose durations, URLs, references and matchers are all checked. Every
//! error names the file and line it comes from.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.
//!
//! # The file
//!
//! ```toml
//! include = ["watchlists/*.toml"]   # optional; globs relative to this file
//!
//! [daemon]                          # optional; every key has a default (see the consts)
//! state_dir = "../data"             # relative to this file's folder
//! poll_interval = "15m"             # humantime durations: "90s", "15m", "6h", "1day"
//! concurrency = 16                # 1..=4096
//! request_timeout = "30s"
//! max_body_bytes = 10485760
//! user_agent = "parley/0.1"
//! max_backoff = "6h"
//! per_host_concurrency = 2          # requests at once to one host, 1..=64
//! per_host_delay = "1s"             # optional: least time between two requests to one host
//! allow_networks = ["10.0.0.0/8"]    # optional: non-public ranges feed links may reach
//!
//! [api]                             # optional; the daemon's HTTP API (main file only)
//! enabled = true
//! listen = "127.0.0.1:7878"         # "127.0.0.1:0" picks a free port (logged)
//! token = "${PARLEY_API_TOKEN}"     # optional bearer token; or:
//! token_file = "${CREDENTIALS_DIRECTORY}/api-token"   # read at load, trimmed
//!
//! [[feed]]
//! url = "https://example.org/rss.xml"   # http(s)://, file:// or a path relative to this file
//! name = "Example"                      # optional; defaults to the url as written
//! interval = "10m"                      # optional; defaults to daemon.poll_interval
//!
//! [[actor]]
//! id = "blinken"                        # letters, digits, - _ . only
//! name = "Antony Blinken"
//! kind = "person"                       # person (default) | org | country
//! country = "US"                        # optional ISO 3166 code
//! aliases = ["Antony Blinken", "Blinken"]   # optional; defaults to [name]
//! roles = [{ title = "U.S. Secretary of State", aliases = ["Secretary of State"],
//!            from = "2021-01-26", until = "2025-01-20" }]   # dates inclusive, both optional
//! wikidata = "Q1234"                    # optional Wikidata item (`parley watchlist sync`)
//!
//! [[actor_update]]                      # usually generated (watchlists/wikidata.toml)
//! id = "blinken"                        # an [[actor]] of any file; unknown: warned, skipped
//! aliases = ["Блинкен"]                 # added to the actor's aliases
//! roles = [{ title = "United States Secretary of State", from = 2021-01-26 }]
//! # Hand-written [[actor]] names and roles win on conflict: an alias another actor has,
//! # a role title the actor has by hand, or a role name another actor holds by hand over
//! # overlapping dates is dropped from the update.
//!
//! [[group]]
//! id = "arab-fms"
//! members = ["safadi", "shoukry"]       # actor ids
//!
//! [[rule]]
//! id = "blinken-meets-lebanon"
//! actors = ["blinken", "mikati", "group:arab-fms"]   # a group slot is filled by any member
//! min_actors = 2                        # default: all slots; 1..=number of slots
//! scope = "sentence"                    # sentence (default) | article
//! event_types = ["consult"]             # optional PLOVER filter
//! cooldown = "6h"                       # optional
//! notify = ["desk"]                     # optional; a rule without notifiers still records alerts
//!
//! [[notifier]]
//! id = "desk"
//! type = "webhook"                      # webhook | slack | discord | teams | mattermost | ntfy | email | command | stdout | log
//! url = "http://127.0.0.1:9000/hook"    # webhook only
//! timeout = "10s"                       # webhook only, optional
//! headers = { Authorization = "Bearer ${DESK_TOKEN}" }   # webhook only, optional
//! max_attempts = 8                      # optional
//! retry_initial = "5s"                  # optional
//! retry_max = "1h"                      # optional
//! group_wait = "30s"                    # optional: digest mode (with group_interval)
//! repeat_interval = "4h"                # optional: hold a group's new alerts this long
//!
//! [[notifier]]
//! id = "mail"
//! type = "email"
//! smtp_host = "mail.example.org"
//! tls = "starttls"                      # starttls | implicit (alias tls) | none (loopback only)
//! username = "parley"                   # optional, with password or password_file
//! password = "${SMTP_PASSWORD}"
//! from = "Parley <parley@example.org>"
//! to = ["desk@example.org"]
//! ```
//!
//! Included files may hold `feed`, `actor`, `actor_update`, `group`, `rule` and `notifier` tables, not
//! `daemon` or `include`. Ids are unique across all files; references may cross files. An
//! include glob that matches nothing is fine (a `warn!` is logged); an included file that
//! cannot be read or parsed is an error.
//!
//! # `${VAR}` and secrets
//!
//! Any string value may contain `${VAR}`, replaced by that environment variable; an unset
//! variable is an error naming the file, line and variable. `$${` writes a literal `${`.
//! Webhook URLs and header values are treated as secrets: error messages never contain
//! them, and `Debug` of [`NotifierKind`] redacts them (see [`redact_url`]). Code that logs a
//! webhook must log `redact_url(url)`, never the URL itself.
//!
//! # Files
//!
//! This file holds the validated types. `load` reads the main file and its includes into
//! `raw` tables (phase one), `validate` checks them into these types (phase two, one file per
//! kind of table), `defaults` names every default, and `redact` writes the `Debug` that keeps
//! secrets out of logs.

mod defaults;
mod expand;
mod load;
pub mod managed;
mod paths;
mod raw;
mod redact;
mod validate;

pub use defaults::{
    CONFIGURATION_DIRECTORY_ENV, DEFAULT_API_LISTEN, DEFAULT_CONCURRENCY, DEFAULT_GROUP_INTERVAL,
    DEFAULT_LEASE_TTL, DEFAULT_LOG_REPLICAS, DEFAULT_LOG_STREAM, DEFAULT_LOG_URL, DEFAULT_MAX_AGE,
    DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PER_HOST_CONCURRENCY, DEFAULT_POLL_INTERVAL, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_INITIAL, DEFAULT_RETRY_MAX, DEFAULT_SCOPE, DEFAULT_STATE_DIR_NAME,
    DEFAULT_USER_AGENT, DEFAULT_WEBHOOK_TIMEOUT, DEFAULT_WINDOW, MIN_LEASE_TTL,
    STATE_DIRECTORY_ENV,
};
pub use load::{load, load_with_env};
pub use redact::redact_url;
pub use validate::is_wikidata_id;

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::extract::ActorSpec;
use crate::feed::FeedLocation;
use crate::plover::PloverType;

/// A validation or load error, with where it comes from.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    /// `file:line`, or just `file` when the line is unknown (e.g. unreadable file).
    pub location: String,
    /// What is wrong, naming the rule id, feed URL, etc.
    pub message: String,
}

/// The validated configuration. Passed explicitly; never mutated after load (reload builds a new one).
#[derive(Debug, Clone)]
pub struct Config {
    /// The main config file (absolute).
    pub source: PathBuf,
    /// `[daemon]`.
    pub daemon: DaemonConfig,
    /// `[api]`.
    pub api: ApiConfig,
    /// `[log]`: the log of record (sled by default, or a NATS JetStream cluster).
    pub log: LogConfig,
    /// `[[feed]]`, in file order.
    pub feeds: Vec<FeedConfig>,
    /// `[[actor]]`.
    pub actors: Vec<ActorConfig>,
    /// `[[group]]`.
    pub groups: Vec<GroupConfig>,
    /// `[[rule]]`.
    pub rules: Vec<RuleConfig>,
    /// `[[notifier]]`.
    pub notifiers: Vec<NotifierConfig>,
}

/// `[daemon]`, with named defaults.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Where the sled store lives. A written value is resolved against the main file's folder
    /// (so `"../data"` is a sibling of the config folder). Unwritten: `$STATE_DIRECTORY` (set
    /// by systemd's `StateDirectory=`) if set, else `data` next to the config file.
    pub state_dir: PathBuf,
    /// Default per-feed interval. Default 15m.
    pub poll_interval: Duration,
    /// Feeds fetched at once. Default 16.
    pub concurrency: usize,
    /// Per-request timeout. Default 30s.
    pub request_timeout: Duration,
    /// Body size limit. Default 10 MiB.
    pub max_body_bytes: u64,
    /// User-Agent. Default `parley/<version>`.
    pub user_agent: String,
    /// Longest backoff of a failing feed. Default 6h.
    pub max_backoff: Duration,
    /// Requests in flight at once to one host. Default 2: polite to publishers that host
    /// many feeds, while one slow feed does not hold up its neighbours.
    pub per_host_concurrency: usize,
    /// Least time between the starts of two requests to one host. Default none.
    pub per_host_delay: Option<Duration>,
    /// Networks that feed content may make parley connect to although they are not public
    /// (loopback, link-local, private, ...): see `feed::address`. Default none.
    pub allow_networks: Vec<ipnet::IpNet>,
}

/// `[api]`: the daemon's HTTP API (health, metrics, queries, the alert stream).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Serve the API. Default true.
    pub enabled: bool,
    /// Address to listen on. Default 127.0.0.1:7878; port 0 picks a free port.
    pub listen: std::net::SocketAddr,
    /// Bearer token required on `/api/*` and `/metrics`, if set (from `token` or
    /// `token_file`). A secret: `Debug` redacts it.
    pub token: Option<String>,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            enabled: true,
            listen: DEFAULT_API_LISTEN,
            token: None,
        }
    }
}

/// Which engine holds the log of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogBackend {
    /// The local sled store: one node (the default; nothing of NATS is used).
    #[default]
    Sled,
    /// A NATS JetStream stream, shared by several nodes; sled keeps each node's projections.
    Nats,
}

/// `[log]`: where the log of record lives. With `nats`, several nodes share one stream.
#[derive(Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `sled` (default) or `nats`.
    pub backend: LogBackend,
    /// NATS server URL(s), comma-separated. Default [`DEFAULT_LOG_URL`]. May hold
    /// credentials: `Debug` redacts it.
    pub url: String,
    /// JetStream stream name; also the prefix of the KV buckets and the outbox stream.
    /// Default [`DEFAULT_LOG_STREAM`].
    pub stream: String,
    /// Stream and bucket replicas (1 for one server, 3 for a 3-server cluster). Default 1.
    pub replicas: usize,
    /// This node's id in leases and `cluster status`. Default: the host name.
    pub node_id: String,
    /// Feed lease lifetime: a dead node's feeds move to the others within about this long.
    /// Default [`DEFAULT_LEASE_TTL`].
    pub lease_ttl: Duration,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            backend: LogBackend::Sled,
            url: DEFAULT_LOG_URL.into(),
            stream: DEFAULT_LOG_STREAM.into(),
            replicas: DEFAULT_LOG_REPLICAS,
            node_id: String::new(),
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }
}

/// One `[[feed]]`.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Where to fetch it.
    pub location: FeedLocation,
    /// Display name (defaults to the URL).
    pub name: String,
    /// Poll interval (defaults to `daemon.poll_interval`).
    pub interval: Duration,
    /// Fetch the article page of thin items (robots.txt and per-host limits respected) and
    /// extract from its main text too. Off by default: it multiplies requests to publishers.
    pub fetch_article: bool,
}

/// One `[[actor]]`.
#[derive(Debug, Clone)]
pub struct ActorConfig {
    /// What extraction needs (id, name, aliases, dated roles).
    pub spec: ActorSpec,
    /// person | org | country.
    pub kind: ActorKind,
    /// ISO country code, if given.
    pub country: Option<String>,
    /// Wikidata item id (`Q1234`), if given: what `parley watchlist sync` reads to keep
    /// this actor's names and dated roles current.
    pub wikidata: Option<String>,
}

/// What sort of actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A person (default).
    Person,
    /// An organisation.
    Org,
    /// A country.
    Country,
}

/// One `[[group]]`.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// Group id (referenced as `group:ID`).
    pub id: String,
    /// Member actor ids (validated).
    pub members: Vec<String>,
}

/// One slot of a rule's actor list.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleSlot {
    /// A single actor id.
    Actor(String),
    /// `group:ID`: any member fills the slot.
    Group {
        /// Group id.
        id: String,
        /// Member actor ids.
        members: Vec<String>,
    },
}

/// Where the actors must co-occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In one sentence.
    Sentence,
    /// Anywhere in one article.
    Article,
    /// On opposite sides of one typed interaction (source and target of one event).
    Event,
    /// In articles published within the rule's `window` of each other, across feeds.
    Window,
}

impl Scope {
    /// Config and payload spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Sentence => "sentence",
            Scope::Article => "article",
            Scope::Event => "event",
            Scope::Window => "window",
        }
    }
}

/// One `[[rule]]`.
#[derive(Debug, Clone)]
pub struct RuleConfig {
    /// Rule id.
    pub id: String,
    /// Actor slots.
    pub slots: Vec<RuleSlot>,
    /// How many slots must be filled (default: all).
    pub min_actors: usize,
    /// sentence | article.
    pub scope: Scope,
    /// Only events of these types count (empty = any, including untyped).
    pub event_types: Vec<PloverType>,
    /// Suppress repeats for the same rule and actor set within this span.
    pub cooldown: Option<Duration>,
    /// Notifier ids (validated).
    pub notify: Vec<String>,
    /// Span for `window` scope and for corroboration. Default [`DEFAULT_WINDOW`].
    pub window: Duration,
    /// Distinct outlets that must report the co-occurrence within `window` (default 1).
    pub min_sources: usize,
    /// Only events with one of these statuses (occurred, planned, denied); empty = any.
    pub status: Vec<String>,
    /// Word filters on the matching sentence or article.
    pub keywords: Keywords,
    /// Only articles from these feed names; empty = every feed.
    pub feeds: Vec<String>,
    /// Passed to the channels; notifiers filter on it.
    pub severity: crate::events::Severity,
    /// After a definition change, derive alerts from the stored articles too.
    pub backfill: bool,
    /// Notify backfilled alerts (default: record only).
    pub notify_backfill: bool,
}

/// A rule's word filters, lowercased. Words match on word boundaries of the normalised text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keywords {
    /// Every one of these must appear.
    pub all: Vec<String>,
    /// At least one of these must appear (if any are given).
    pub any: Vec<String>,
    /// None of these may appear.
    pub none: Vec<String>,
    /// True: look in the whole article; false (default): in the matching sentence.
    pub in_article: bool,
}

impl Keywords {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.any.is_empty() && self.none.is_empty()
    }
}

/// One `[[notifier]]`.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// Notifier id.
    pub id: String,
    /// What it is.
    pub kind: NotifierKind,
    /// Attempts before giving up. Default 8.
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt. Default 5s.
    pub retry_initial: Duration,
    /// Longest retry delay. Default 1h.
    pub retry_max: Duration,
    /// An entry older than this (since its alert was raised) becomes a dead letter.
    /// Default [`DEFAULT_MAX_AGE`].
    pub max_age: Duration,
    /// Alerts below this severity are not sent here. Default info (everything).
    pub min_severity: crate::events::Severity,
    /// A message template (minijinja-like `{{ field }}` placeholders); kinds have defaults.
    pub template: Option<String>,
    /// At most one delivery per this span; later ones wait their turn. None = unlimited.
    pub rate_limit: Option<Duration>,
    /// Digest mode (Alertmanager's group_wait): once the oldest pending alert has waited this
    /// long, every pending alert for this notifier goes out as ONE message. None = one
    /// message per alert.
    pub group_wait: Option<Duration>,
    /// In digest mode, the least time between two digests. Default [`DEFAULT_GROUP_INTERVAL`].
    pub group_interval: Duration,
    /// Alertmanager's repeat_interval, for news: the least time between two notifications of
    /// one alert group (rule + actor set) to this notifier. A group is "still firing" while
    /// new matching stories keep arriving; alerts of a group notified less than this long ago
    /// are held and go out together as one repeat once it has passed. None = no holding.
    pub repeat_interval: Option<Duration>,
}

/// How the email notifier secures its SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required, never optional). Port 587.
    StartTls,
    /// TLS from the first byte ("SMTPS"). Port 465.
    Implicit,
    /// No encryption at all: only allowed for a loopback host (a local relay or a test
    /// server), so a password never crosses a network in clear text. Port 25.
    None,
}

impl SmtpTls {
    /// Config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::StartTls => "starttls",
            SmtpTls::Implicit => "implicit",
            SmtpTls::None => "none",
        }
    }
}

/// The `email` notifier's SMTP settings. `Debug` (via [`NotifierKind`]) hides the password.
#[derive(Clone)]
pub struct EmailConfig {
    /// SMTP server host name (or IP).
    pub host: String,
    /// SMTP port (default from `tls`: 587, 465 or 25).
    pub port: u16,
    /// Connection security.
    pub tls: SmtpTls,
    /// AUTH user name, with `password`.
    pub username: Option<String>,
    /// AUTH password (a secret, from `${ENV}` or `password_file`; never logged).
    pub password: Option<String>,
    /// The `From:` mailbox (`Name <addr>` or `addr`).
    pub from: lettre::message::Mailbox,
    /// The `To:` mailboxes; at least one.
    pub to: Vec<lettre::message::Mailbox>,
    /// Subject template (minijinja); default [`crate::template::DEFAULT_TITLE`].
    pub subject: Option<String>,
    /// PEM of extra CA certificates trusted for this server (a private CA), besides the
    /// system's roots; from `tls_ca_file`.
    pub ca_pem: Option<Vec<u8>>,
    /// Connect and command timeout.
    pub timeout: Duration,
}

/// Which chat service's incoming-webhook format to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatFlavor {
    /// Slack `{"text", "blocks"}`.
    Slack,
    /// Discord `{"content", "embeds"}`.
    Discord,
    /// Microsoft Teams MessageCard.
    Teams,
    /// Mattermost `{"text"}` (Slack-compatible markdown).
    Mattermost,
}

impl ChatFlavor {
    /// Config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatFlavor::Slack => "slack",
            ChatFlavor::Discord => "discord",
            ChatFlavor::Teams => "teams",
            ChatFlavor::Mattermost => "mattermost",
        }
    }
}

/// Notifier kinds. `Debug` is written by hand so webhook URLs and header values (secrets)
/// never reach a log through `{:?}`.
#[derive(Clone)]
pub enum NotifierKind {
    /// One line per alert on standard output.
    Stdout,
    /// POST the alert JSON.
    Webhook {
        /// Target URL (after `${VAR}` expansion; never logged with its query).
        url: Url,
        /// Request timeout. Default 10s.
        timeout: Duration,
        /// Extra headers (e.g. Authorization from `${VAR}`); values are secrets, never logged.
        headers: Vec<(String, String)>,
        /// HMAC-SHA256 key for `X-Parley-Signature`; a secret, never logged.
        secret: Option<String>,
    },
    /// Structured `tracing` line per alert (for log shippers).
    Log,
    /// A chat service's incoming webhook.
    Chat {
        /// Which service.
        flavor: ChatFlavor,
        /// The incoming-webhook URL (a secret: its path is the token).
        url: Url,
        /// Request timeout.
        timeout: Duration,
    },
    /// ntfy: `POST <server>/<topic>`.
    Ntfy {
        /// Server and topic.
        url: Url,
        /// Optional access token (Bearer); a secret.
        token: Option<String>,
        /// Request timeout.
        timeout: Duration,
    },
    /// Mail through SMTP (lettre): multipart plain text + HTML.
    Email(Box<EmailConfig>),
    /// A program run with the alert JSON on stdin; no shell.
    Command {
        /// Program and arguments.
        program: Vec<String>,
        /// Killed after this long.
        timeout: Duration,
    },
}

impl Config {
    /// A one-line human summary for `parley check`, so a user sees at a glance that the
    /// includes were picked up and where state will be written.
    pub fn summary(&self) -> String {
        fn count(n: usize, word: &str) -> String {
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        }
        format!(
            "{}: {}, {}, {}, {}, {}; state in {}",
            self.source.display(),
            count(self.feeds.len(), "feed"),
            count(self.actors.len(), "actor"),
            count(self.groups.len(), "group"),
            count(self.rules.len(), "rule"),
            count(self.notifiers.len(), "notifier"),
            self.daemon.state_dir.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_everything() {
        // `parley check` prints this; singular and plural must both read right.
        let config = Config {
            source: PathBuf::from("/etc/parley/parley.toml"),
            daemon: DaemonConfig {
                state_dir: PathBuf::from("/var/lib/parley"),
                poll_interval: DEFAULT_POLL_INTERVAL,
                concurrency: DEFAULT_CONCURRENCY,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                user_agent: DEFAULT_USER_AGENT.into(),
                max_backoff: DEFAULT_MAX_BACKOFF,
                per_host_concurrency: DEFAULT_PER_HOST_CONCURRENCY,
                per_host_delay: None,
                allow_networks: Vec::new(),
            },
            api: ApiConfig::default(),
            log: LogConfig::default(),
            feeds: Vec::new(),
            actors: Vec::new(),
            groups: vec![GroupConfig {
                id: "g".into(),
                members: Vec::new(),
            }],
            rules: Vec::new(),
            notifiers: Vec::new(),
        };
        assert_eq!(
            config.summary(),
            "/etc/parley/parley.toml: 0 feeds, 0 actors, 1 group, 0 rules, 0 notifiers; \
             state in /var/lib/parley"
        );
    }
}
