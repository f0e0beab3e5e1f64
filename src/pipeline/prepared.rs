//! Compiling a config into what the daemon runs on: [`Prepared`] (the config, its extractor,
//! notifiers and HTTP client) and [`shipped`] (the config's actors with the shipped
//! interaction model).
//!
//! Why it exists apart from ingest and the relay: start-up, SIGHUP reload, `parley check`,
//! `extract`, `eval` and `backtest` all build from a config the same way, and every failure
//! here is a configuration problem reported before anything runs. It returns its own
//! [`PrepareError`], so the pipeline does not depend on the command-level `crate::error`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::config::{self, Config, ConfigError};
use crate::extract::model::{SHIPPED_PATH, shipped_model};
use crate::extract::{ExtractError, Extractor};
use crate::feed::address::AddressPolicy;
use crate::feed::{FetchError, FetchOptions, Fetcher};
use crate::notify::Notifier;

/// Why a config could not be prepared. The messages are those of the command-level error
/// (`crate::error::Error` converts each variant into its own, keeping the exit code: 78 for
/// a config or alias problem, 1 for an HTTP client that cannot be built).
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The configuration did not load or validate (or a notifier or the model is unusable).
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The actor aliases did not compile into a matcher (a configuration problem too).
    #[error("invalid configuration: {0}")]
    Extract(#[from] ExtractError),
    /// The HTTP client could not be built.
    #[error("cannot set up HTTP: {0}")]
    Http(#[from] FetchError),
}

/// Everything built from one config: the unit that start-up and SIGHUP reload both produce,
/// through the same [`Prepared::load`].
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The validated config.
    pub config: Arc<Config>,
    /// The compiled alias and lexicon matchers.
    pub extractor: Arc<Extractor>,
    /// Notifiers by id.
    pub notifiers: Arc<HashMap<String, Notifier>>,
    /// The shared HTTP client for feeds.
    pub fetcher: Fetcher,
    /// Set once this config's rule definitions are recorded (and backfills done); see
    /// [`super::reconcile_rules`]. Shared by clones, so the daemon's start of a generation
    /// and ingest's guard do it once between them.
    pub reconciled: Arc<tokio::sync::OnceCell<()>>,
}

impl Prepared {
    /// Loads, validates and compiles everything a config describes. Any failure here is a
    /// configuration error (exit 78 at start, "keep the old config" on reload).
    pub fn load(path: &Path) -> Result<Prepared, PrepareError> {
        let config = config::load(path)?;
        Prepared::from_config(config)
    }

    /// Compiles an already validated config.
    pub fn from_config(config: Config) -> Result<Prepared, PrepareError> {
        // The daemon extracts as `parley extract` and `parley eval` do: with the shipped
        // interaction model (each interaction's confidence comes from it).
        let extractor = shipped(&config)?;
        let mut notifiers = HashMap::new();
        for n in &config.notifiers {
            let notifier = Notifier::new(n.clone()).map_err(|e| {
                PrepareError::Config(ConfigError {
                    location: config.source.display().to_string(),
                    message: format!("notifier {:?}: {e}", n.id),
                })
            })?;
            notifiers.insert(n.id.clone(), notifier);
        }
        let feed_urls = config.feeds.iter().filter_map(|f| match &f.location {
            crate::feed::FeedLocation::Http(url) => Some(url),
            crate::feed::FeedLocation::File(_) => None,
        });
        let policy = AddressPolicy::new(config.daemon.allow_networks.clone(), feed_urls);
        let fetcher = Fetcher::new(FetchOptions {
            timeout: config.daemon.request_timeout,
            max_body_bytes: config.daemon.max_body_bytes,
            user_agent: config.daemon.user_agent.clone(),
            policy: Arc::new(policy),
        })?;
        Ok(Prepared {
            config: Arc::new(config),
            extractor: Arc::new(extractor),
            notifiers: Arc::new(notifiers),
            fetcher,
            reconciled: Arc::new(tokio::sync::OnceCell::new()),
        })
    }
}

/// The config's actors compiled with the shipped interaction model: what `parley extract`,
/// `parley eval` and the daemon run. A model that does not load is a config error naming
/// the model file (exit 78).
///
/// It lives here, not in `extract`, so extraction (text in, events out) knows nothing of the
/// config file or the command-level errors.
pub fn shipped(config: &Config) -> Result<Extractor, PrepareError> {
    let specs: Vec<_> = config.actors.iter().map(|a| a.spec.clone()).collect();
    let model = shipped_model().map_err(|e| ConfigError {
        location: SHIPPED_PATH.to_string(),
        message: e.to_string(),
    })?;
    Ok(Extractor::new(&specs)?.with_model(model))
}
