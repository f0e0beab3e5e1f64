//! Notifiers: the channels an alert leaves parley through.
//!
//! A notifier only delivers; it never decides whether to. The outbox relay
//! ([`crate::pipeline`]) picks pending entries from the store, calls [`Notifier::deliver`], and
//! records the outcome as an event, which is what makes delivery survive restarts.
//!
//! Kinds: `stdout`, `log`, `webhook` (the alert JSON, `Idempotency-Key`, optional
//! `X-Parley-Signature`), `slack` / `discord` / `teams` / `mattermost` (their incoming-webhook
//! payloads), `ntfy` (`POST <server>/<topic>` with Title, Priority, Tags, Click) and `command`
//! (a program with the alert JSON on stdin, no shell) and `email` (SMTP, multipart plain text
//! and HTML, see [`email`]).

pub mod email;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use tracing::info;

use crate::config::{ChatFlavor, NotifierConfig, NotifierKind, redact_url};
use crate::events::{Alert, Severity};
use crate::template;

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
    /// The message template failed to render.
    #[error("template: {0}")]
    Template(#[from] template::TemplateError),
    /// The command could not run, timed out or exited non-zero.
    #[error("command: {0}")]
    Command(String),
    /// The SMTP server refused the message or could not be reached.
    #[error("smtp: {0}")]
    Smtp(String),
}

/// A ready-to-use notifier built from its config.
#[derive(Debug, Clone)]
pub struct Notifier {
    config: NotifierConfig,
    client: Option<reqwest::Client>,
    /// The SMTP transport of `email` notifiers.
    mailer: Option<email::Mailer>,
    /// When the next delivery may start, for `rate_limit` (shared by clones; seeded from
    /// the log by [`Notifier::seed_rate_limit`], so a restart keeps the pace).
    next_slot: Arc<Mutex<Option<tokio::time::Instant>>>,
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("parley/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NotifyError::Request(e.to_string()))
}

/// The webhook POST shared by single alerts and digests: JSON body, `Idempotency-Key`, the
/// optional `X-Parley-Signature` over exactly the bytes sent, and the configured headers.
fn webhook_request(
    client: &reqwest::Client,
    url: &url::Url,
    idempotency_key: &str,
    body: Vec<u8>,
    secret: Option<&str>,
    headers: &[(String, String)],
) -> reqwest::RequestBuilder {
    let mut request = client
        .post(url.clone())
        .header("Idempotency-Key", idempotency_key)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = secret {
        request = request.header("X-Parley-Signature", signature(secret, &body));
    }
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.body(body)
}

/// `X-Parley-Signature` value: `sha256=` and the hex HMAC-SHA256 of `body` under `secret`,
/// so receivers can check the alert came from this parley (GitHub-style).
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; keep it total anyway.
    match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

/// ntfy's priority (1..=5) for a severity.
pub fn ntfy_priority(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "3",
        Severity::Warning => "4",
        Severity::Critical => "5",
    }
}

fn colour(severity: Severity) -> u32 {
    match severity {
        Severity::Info => 0x2e86de,
        Severity::Warning => 0xf39c12,
        Severity::Critical => 0xc0392b,
    }
}

/// SMTP exchanges one message can take (connect, greeting, EHLO, STARTTLS, EHLO, AUTH, MAIL,
/// DATA, body, QUIT), each bounded by the notifier's timeout; plus one RCPT per recipient.
const SMTP_EXCHANGES: u32 = 10;

impl Notifier {
    /// Builds the notifier (and its HTTP client for HTTP kinds).
    pub fn new(config: NotifierConfig) -> Result<Notifier, NotifyError> {
        let client = match &config.kind {
            NotifierKind::Stdout
            | NotifierKind::Log
            | NotifierKind::Command { .. }
            | NotifierKind::Email(_) => None,
            NotifierKind::Webhook { timeout, .. }
            | NotifierKind::Chat { timeout, .. }
            | NotifierKind::Ntfy { timeout, .. } => Some(http_client(*timeout)?),
        };
        let mailer = match &config.kind {
            NotifierKind::Email(e) => Some(email::Mailer::new(e)?),
            _ => None,
        };
        Ok(Notifier {
            config,
            client,
            mailer,
            next_slot: Arc::new(Mutex::new(None)),
        })
    }

    /// The notifier's id.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Its config (retry policy).
    pub fn config(&self) -> &NotifierConfig {
        &self.config
    }

    /// The longest one send can take once started: its request timeout (reqwest's covers
    /// the whole request), its program's timeout, or for mail every SMTP exchange at the
    /// socket timeout. Stdout and log writes are local. A relay that takes over another
    /// node's notifier waits this long for that node's in-flight send to finish.
    pub(crate) fn send_bound(&self) -> Duration {
        match &self.config.kind {
            NotifierKind::Webhook { timeout, .. }
            | NotifierKind::Chat { timeout, .. }
            | NotifierKind::Ntfy { timeout, .. }
            | NotifierKind::Command { timeout, .. } => *timeout,
            NotifierKind::Email(mail) => mail
                .timeout
                .saturating_mul(SMTP_EXCHANGES + u32::try_from(mail.to.len()).unwrap_or(u32::MAX)),
            NotifierKind::Stdout | NotifierKind::Log => Duration::from_secs(1),
        }
    }

    /// Waits until `rate_limit` allows another delivery and reserves that slot.
    pub async fn wait_turn(&self) {
        let Some(every) = self.config.rate_limit else {
            return;
        };
        let start = {
            let mut slot = self.next_slot.lock().await;
            let now = tokio::time::Instant::now();
            let start = slot.map_or(now, |s| s.max(now));
            *slot = Some(start + every);
            start
        };
        tokio::time::sleep_until(start).await;
    }

    fn title(&self, alert: &Alert) -> Result<String, NotifyError> {
        Ok(template::render(template::DEFAULT_TITLE, alert, &[])?)
    }

    fn body(&self, alert: &Alert) -> Result<String, NotifyError> {
        let t = self
            .config
            .template
            .as_deref()
            .unwrap_or(template::DEFAULT_BODY);
        let title = self.title(alert)?;
        Ok(template::render(t, alert, &[("title", &title)])?)
    }

    async fn post(&self, request: reqwest::RequestBuilder) -> Result<(), NotifyError> {
        let response = request
            .send()
            .await
            // without_url: the URL may carry a token in its path or query.
            .map_err(|e| NotifyError::Request(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(NotifyError::Status(status.as_u16()))
        }
    }

    /// Delivers one alert, once. Retrying is the relay's job.
    pub async fn deliver(&self, alert: &Alert) -> Result<(), NotifyError> {
        let client = self.client.as_ref();
        match &self.config.kind {
            NotifierKind::Stdout => {
                let t = self
                    .config
                    .template
                    .as_deref()
                    .unwrap_or(template::DEFAULT_LINE);
                let line = template::render(t, alert, &[])?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")
                    .and_then(|()| out.flush())
                    .map_err(|e| NotifyError::Stdout(e.to_string()))
            }
            NotifierKind::Log => {
                let message = self.body(alert)?;
                info!(
                    alert = %alert.alert_id,
                    rule = %alert.rule,
                    actors = %alert.actors.join(","),
                    severity = alert.severity.as_str(),
                    %message,
                    "Alert."
                );
                Ok(())
            }
            NotifierKind::Webhook {
                url,
                headers,
                secret,
                ..
            } => {
                let client = client.ok_or_else(|| NotifyError::Request("client missing".into()))?;
                let body =
                    serde_json::to_vec(alert).map_err(|e| NotifyError::Request(e.to_string()))?;
                let request = webhook_request(
                    client,
                    url,
                    &alert.alert_id,
                    body,
                    secret.as_deref(),
                    headers,
                );
                self.post(request).await
            }
            NotifierKind::Chat { flavor, url, .. } => {
                let client = client.ok_or_else(|| NotifyError::Request("client missing".into()))?;
                let payload = chat_payload(*flavor, &self.title(alert)?, &self.body(alert)?, alert);
                self.post(client.post(url.clone()).json(&payload)).await
            }
            NotifierKind::Ntfy { url, token, .. } => {
                let client = client.ok_or_else(|| NotifyError::Request("client missing".into()))?;
                let mut request = client
                    .post(url.clone())
                    .header("Title", self.title(alert)?)
                    .header("Priority", ntfy_priority(alert.severity))
                    .header("Tags", format!("{},parley", alert.severity.as_str()))
                    .body(self.body(alert)?);
                if let Some(link) = alert.evidence.first().and_then(|e| e.url.as_deref()) {
                    request = request.header("Click", link);
                }
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                self.post(request).await
            }
            NotifierKind::Command { program, timeout } => {
                let payload =
                    serde_json::to_value(alert).map_err(|e| NotifyError::Command(e.to_string()))?;
                run_program(program, *timeout, &alert.alert_id, &payload).await
            }
            NotifierKind::Email(config) => {
                let mailer = self.mailer()?;
                let title = self.title(alert)?;
                let subject = match &config.subject {
                    Some(t) => template::render(t, alert, &[("title", &title)])?,
                    None => title.clone(),
                };
                let body = self.body(alert)?;
                let html = email::document(&[email::alert_html(&title, &body, alert)]);
                mailer.send(&alert.alert_id, &subject, body, html).await
            }
        }
    }

    fn mailer(&self) -> Result<&email::Mailer, NotifyError> {
        self.mailer
            .as_ref()
            .ok_or_else(|| NotifyError::Smtp("transport missing".into()))
    }

    /// Carries the rate limit over a restart: the next delivery may not start before
    /// `last_attempt + rate_limit` (`last_attempt` comes from the log). Called when the relay
    /// starts; a slot already reserved later is kept.
    pub async fn seed_rate_limit(&self, last_attempt: Option<DateTime<Utc>>) {
        let (Some(every), Some(last)) = (self.config.rate_limit, last_attempt) else {
            return;
        };
        let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
        let wait = (last + every - Utc::now()).to_std().unwrap_or_default();
        let at = tokio::time::Instant::now() + wait;
        let mut slot = self.next_slot.lock().await;
        *slot = Some(slot.map_or(at, |s| s.max(at)));
    }

    /// Delivers several alerts as one digest message (digest mode). Webhooks receive
    /// `{"digest": true, "alerts": [...]}` with an `Idempotency-Key` derived from the alert
    /// ids; text channels one message listing every alert.
    pub async fn deliver_digest(&self, alerts: &[Alert]) -> Result<(), NotifyError> {
        if alerts.len() == 1 {
            return self.deliver(&alerts[0]).await;
        }
        // Sorted: the key must not depend on the order the outbox happened to list them in,
        // or a digest retried after a restart would carry a different Idempotency-Key.
        let mut ids: Vec<&str> = alerts.iter().map(|a| a.alert_id.as_str()).collect();
        ids.sort_unstable();
        let key = crate::events::stable_id("digest", &ids);
        let worst = alerts.iter().map(|a| a.severity).max().unwrap_or_default();
        let title = format!("[{}] {} parley alerts", worst.as_str(), alerts.len());
        let mut bodies = Vec::new();
        for a in alerts {
            bodies.push(format!("- {}", self.title(a)?));
            bodies.push(
                self.body(a)?
                    .lines()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        let body = bodies.join("\n");
        let client = self.client.as_ref();
        match &self.config.kind {
            NotifierKind::Stdout | NotifierKind::Log => {
                for a in alerts {
                    self.deliver(a).await?;
                }
                Ok(())
            }
            NotifierKind::Webhook {
                url,
                headers,
                secret,
                ..
            } => {
                let client = client.ok_or_else(|| NotifyError::Request("client missing".into()))?;
                let payload = json!({"digest": true, "digest_id": key, "alerts": alerts});
                let bytes = serde_json::to_vec(&payload)
                    .map_err(|e| NotifyError::Request(e.to_string()))?;
                let request = webhook_request(client, url, &key, bytes, secret.as_deref(), headers);
                self.post(request).await
            }
            NotifierKind::Chat { flavor, url, .. } => {
                let client = client.ok_or_else(|| NotifyError::Request("client missing".into()))?;
                let payload = chat_payload(*flavor, &title, &body, &alerts[0]);
                self.post(client.post(url.clone()).json(&payload)).await
            }
            NotifierKind::Ntfy { url, token, .. } => {
                let client = client.ok_or_else(|| NotifyError::Request("client missing".into()))?;
                let mut request = client
                    .post(url.clone())
                    .header("Title", title)
                    .header("Priority", ntfy_priority(worst))
                    .header("Tags", format!("{},parley,digest", worst.as_str()))
                    .body(body);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                self.post(request).await
            }
            NotifierKind::Command { program, timeout } => {
                let payload = json!({"digest": true, "digest_id": key, "alerts": alerts});
                run_program(program, *timeout, &key, &payload).await
            }
            NotifierKind::Email(_) => {
                let mailer = self.mailer()?;
                let mut sections = Vec::new();
                for a in alerts {
                    sections.push(email::alert_html(&self.title(a)?, &self.body(a)?, a));
                }
                mailer
                    .send(&key, &title, body, email::document(&sections))
                    .await
            }
        }
    }

    /// When to try again after `attempt` failures of an alert raised at `raised_at`, or `None`
    /// to give up (dead letter). Exponential backoff with "equal jitter" (a random point in the
    /// upper half of the delay) so many parleys retrying one receiver do not stampede it; never
    /// past `max_age` after the alert was raised.
    pub fn next_attempt_for(
        &self,
        attempt: u32,
        now: DateTime<Utc>,
        raised_at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if attempt >= self.config.max_attempts {
            return None;
        }
        let deadline = raised_at
            + chrono::Duration::from_std(self.config.max_age).unwrap_or(chrono::Duration::MAX);
        if now >= deadline {
            return None;
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let delay = self
            .config
            .retry_initial
            .saturating_mul(factor)
            .min(self.config.retry_max);
        let half = delay / 2;
        let jitter = Duration::from_millis(fastrand::u64(
            0..=half.as_millis().min(u128::from(u64::MAX)) as u64,
        ));
        let delay = half + jitter;
        let next = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
        Some(next.min(deadline))
    }

    /// A description safe to print (`parley check`): kind and redacted target, no secrets.
    pub fn describe(&self) -> String {
        match &self.config.kind {
            NotifierKind::Stdout => "stdout".into(),
            NotifierKind::Log => "log".into(),
            NotifierKind::Webhook { url, secret, .. } => format!(
                "webhook {}{}",
                redact_url(url),
                if secret.is_some() { " (signed)" } else { "" }
            ),
            NotifierKind::Chat { flavor, url, .. } => {
                format!("{} {}", flavor.as_str(), redact_url(url))
            }
            NotifierKind::Ntfy { url, .. } => format!("ntfy {}", redact_url(url)),
            NotifierKind::Command { program, .. } => {
                format!("command {}", program.first().map_or("", String::as_str))
            }
            NotifierKind::Email(e) => format!(
                "email smtp://{}:{} ({}{}) to {} recipient(s)",
                e.host,
                e.port,
                e.tls.as_str(),
                if e.username.is_some() { ", auth" } else { "" },
                e.to.len()
            ),
        }
    }
}

/// The incoming-webhook payload of a chat service: a title, the body, the link.
pub fn chat_payload(
    flavor: ChatFlavor,
    title: &str,
    body: &str,
    alert: &Alert,
) -> serde_json::Value {
    let link = alert.evidence.first().and_then(|e| e.url.clone());
    match flavor {
        ChatFlavor::Slack => json!({
            "text": format!("*{title}*\n{body}"),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{title}*\n{body}")}}
            ]
        }),
        ChatFlavor::Mattermost => json!({
            "text": format!("#### {title}\n{body}"),
            "username": "parley",
        }),
        ChatFlavor::Discord => {
            let mut embed = json!({
                "title": title,
                "description": body,
                "color": colour(alert.severity),
            });
            if let Some(link) = &link {
                embed["url"] = json!(link);
            }
            json!({"content": title, "embeds": [embed]})
        }
        ChatFlavor::Teams => {
            let mut card = json!({
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": title,
                "themeColor": format!("{:06x}", colour(alert.severity)),
                "title": title,
                "text": body.replace('\n', "<br>"),
            });
            if let Some(link) = &link {
                card["potentialAction"] = json!([{
                    "@type": "OpenUri",
                    "name": "Open article",
                    "targets": [{"os": "default", "uri": link}]
                }]);
            }
            card
        }
    }
}

/// Runs `program` (no shell) with `payload` (the alert JSON) on stdin and `PARLEY_ALERT_ID`
/// (the idempotency key) in its environment; kills it after `timeout`.
async fn run_program(
    program: &[String],
    timeout: Duration,
    key: &str,
    payload: &serde_json::Value,
) -> Result<(), NotifyError> {
    let Some((exe, args)) = program.split_first() else {
        return Err(NotifyError::Command("empty program".into()));
    };
    let body = serde_json::to_vec(payload).map_err(|e| NotifyError::Command(e.to_string()))?;
    let mut child = tokio::process::Command::new(exe)
        .args(args)
        .env("PARLEY_ALERT_ID", key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| NotifyError::Command(format!("cannot start {exe}: {e}")))?;
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A program that does not read its input is fine; ignore a broken pipe.
            let _ = stdin.write_all(&body).await;
            drop(stdin);
        }
        child.wait().await
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(NotifyError::Command(format!("{exe} timed out"))),
        Ok(Err(e)) => Err(NotifyError::Command(format!("{exe}: {e}"))),
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(NotifyError::Command(format!("{exe} exited with {status}"))),
    }
}

/// The one-line rendering used by the stdout notifier.
pub fn format_line(alert: &Alert) -> String {
    template::render(template::DEFAULT_LINE, alert, &[]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231 test case 2: receivers verify with any HMAC library, so it must be standard.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_has_jitter_and_respects_max_age() {
        // Retries must spread out (jitter) and stop at max_age, which makes a dead letter.
        let config = NotifierConfig {
            id: "n".into(),
            kind: NotifierKind::Stdout,
            max_attempts: 100,
            retry_initial: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            max_age: Duration::from_secs(2 * 3600),
            min_severity: Severity::Info,
            template: None,
            rate_limit: None,
            group_wait: None,
            group_interval: Duration::from_secs(300),
            repeat_interval: None,
        };
        let n = Notifier::new(config).unwrap();
        let raised = Utc::now();
        for attempt in 1..6 {
            let next = n.next_attempt_for(attempt, raised, raised).unwrap();
            let full = 60i64 * 2i64.pow(attempt - 1);
            let got = (next - raised).num_milliseconds();
            assert!(
                got >= full * 500 && got <= full * 1000,
                "attempt {attempt}: {got}"
            );
        }
        let late = raised + chrono::Duration::hours(2);
        assert_eq!(n.next_attempt_for(1, late, raised), None);
        let near = raised + chrono::Duration::minutes(119);
        assert!(n.next_attempt_for(7, near, raised).unwrap() <= late);
    }
}
