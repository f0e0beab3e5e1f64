//! Notifiers: the channels an alert leaves parley through.
//!
//! A notifier only delivers; it never decides whether to. The outbox relay
//! ([`crate::pipeline`]) picks pending entries from the store, calls [`Notifier::deliver`], and
//! records the outcome as an event, which is what makes delivery survive restarts.

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{NotifierConfig, NotifierKind};
use crate::events::Alert;

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The receiver answered with a non-success status.
    #[error("receiver answered HTTP {0}")]
    Status(u16),
    /// The request did not complete (connect, timeout, ...).
    #[error("request failed: {0}")]
    Request(String),
    /// Writing to standard output failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(String),
}

/// A ready-to-use notifier built from its config.
#[derive(Debug, Clone)]
pub struct Notifier {
    config: NotifierConfig,
    client: Option<reqwest::Client>,
}

impl Notifier {
    /// Builds the notifier (and its HTTP client for webhooks).
    pub fn new(config: NotifierConfig) -> Result<Notifier, NotifyError> {
        let client = match &config.kind {
            NotifierKind::Stdout => None,
            NotifierKind::Webhook { timeout, .. } => Some(
                reqwest::Client::builder()
                    .timeout(*timeout)
                    .connect_timeout((*timeout).min(Duration::from_secs(10)))
                    .user_agent(concat!("parley/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| NotifyError::Request(e.to_string()))?,
            ),
        };
        Ok(Notifier { config, client })
    }

    /// The notifier's id.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Its config (retry policy).
    pub fn config(&self) -> &NotifierConfig {
        &self.config
    }

    /// Delivers one alert, once. Retrying is the relay's job.
    pub async fn deliver(&self, alert: &Alert) -> Result<(), NotifyError> {
        match (&self.config.kind, &self.client) {
            (NotifierKind::Stdout, _) => {
                let line = format_line(alert);
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")
                    .and_then(|()| out.flush())
                    .map_err(|e| NotifyError::Stdout(e.to_string()))
            }
            (NotifierKind::Webhook { url, headers, .. }, Some(client)) => {
                let mut request = client
                    .post(url.clone())
                    .header("Idempotency-Key", &alert.alert_id)
                    .json(alert);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let response = request
                    .send()
                    .await
                    // without_url: the URL may carry a token in its query.
                    .map_err(|e| NotifyError::Request(e.without_url().to_string()))?;
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    Err(NotifyError::Status(status.as_u16()))
                }
            }
            (NotifierKind::Webhook { .. }, None) => {
                Err(NotifyError::Request("webhook client missing".into()))
            }
        }
    }

    /// When to try again after `attempt` failures, or `None` to give up.
    pub fn next_attempt(&self, attempt: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempt >= self.config.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let delay = self
            .config
            .retry_initial
            .saturating_mul(factor)
            .min(self.config.retry_max);
        Some(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX))
    }
}

/// The one-line rendering used by the stdout notifier.
pub fn format_line(alert: &Alert) -> String {
    let first = alert.evidence.first();
    format!(
        "ALERT {rule}: {names} ({scope}{ty}) in \"{title}\" [{feed}]{url}",
        rule = alert.rule,
        names = alert.actor_names.join(" + "),
        scope = alert.scope,
        ty = alert
            .event_type
            .map(|t| format!(", {t}"))
            .unwrap_or_default(),
        title = first.map_or("", |e| e.title.as_str()),
        feed = first.map_or("", |e| e.feed.as_str()),
        url = first
            .and_then(|e| e.url.as_deref())
            .map(|u| format!(" {u}"))
            .unwrap_or_default(),
    )
}
