//! Configuration: a serde `RawConfig` read from TOML (with includes and `${VAR}`), validated
//! into a [`Config`] whose durations, URLs, references and matchers are all checked. Every
//! error names the file and line it comes from.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.

use std::path::{Path, PathBuf};
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
    /// Where the sled store lives (resolved against the file's folder). Default `../data`... see README.
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
}

impl Scope {
    /// Config and payload spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Sentence => "sentence",
            Scope::Article => "article",
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
}

/// Notifier kinds.
#[derive(Debug, Clone)]
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
    },
}

/// Loads and validates the config at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let _ = path;
    todo!("config helper")
}
