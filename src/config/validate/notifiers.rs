//! `[[notifier]]`: its type and the keys that apply to it, the HTTP targets (webhook, chat
//! services, ntfy), retries, rate limits, digests and templates. Messages never include a URL
//! or header value: that is where tokens live. The SMTP part of `email` is in `email.rs`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use toml::Spanned;
use url::Url;

use super::Builder;
use crate::config::raw::{RawNotifier, SourceFile, Str};
use crate::config::{
    ChatFlavor, ConfigError, DEFAULT_GROUP_INTERVAL, DEFAULT_MAX_AGE, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_INITIAL, DEFAULT_RETRY_MAX, DEFAULT_WEBHOOK_TIMEOUT, NotifierConfig,
    NotifierKind,
};
use crate::events::Severity;

impl Builder<'_> {
    pub(super) fn notifier(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        seen: &mut HashMap<String, String>,
    ) -> Result<NotifierConfig, ConfigError> {
        let n = raw.get_ref();
        let id = self.id(file, &n.id, "notifier", seen)?;
        let kind_text = self.text(file, &n.kind)?;
        let kind = match kind_text.trim() {
            plain @ ("stdout" | "log") => {
                let webhook_only = [
                    ("url", n.url.as_ref().map(|s| s.span())),
                    ("timeout", n.timeout.as_ref().map(|s| s.span())),
                    ("headers", n.headers.as_ref().map(|s| s.span())),
                ];
                if let Some((key, Some(span))) = webhook_only.iter().find(|(_, s)| s.is_some()) {
                    return Err(file.err(
                        span,
                        format!(
                            "notifier {id:?}: `{key}` only applies to type = \"webhook\", not {plain:?}"
                        ),
                    ));
                }
                if plain == "log" {
                    NotifierKind::Log
                } else {
                    NotifierKind::Stdout
                }
            }
            "webhook" => self.webhook(file, raw, &id)?,
            flavor @ ("slack" | "discord" | "teams" | "mattermost") => {
                let flavor = match flavor {
                    "slack" => ChatFlavor::Slack,
                    "discord" => ChatFlavor::Discord,
                    "teams" => ChatFlavor::Teams,
                    _ => ChatFlavor::Mattermost,
                };
                let (url, timeout) = self.http_target(file, raw, &id, flavor.as_str())?;
                NotifierKind::Chat {
                    flavor,
                    url,
                    timeout,
                }
            }
            "ntfy" => {
                let (url, timeout) = self.http_target(file, raw, &id, "ntfy")?;
                let token = self.secret(
                    file,
                    n.token.as_ref(),
                    n.token_file.as_ref(),
                    &format!("notifier {id:?}: token"),
                )?;
                NotifierKind::Ntfy {
                    url,
                    token,
                    timeout,
                }
            }
            "email" => NotifierKind::Email(Box::new(self.email(file, raw, &id)?)),
            "command" => {
                let Some(program) = &n.program else {
                    return Err(file.err(
                        &raw.span(),
                        format!("notifier {id:?}: type \"command\" needs a `program` list"),
                    ));
                };
                let mut argv = Vec::new();
                for a in program.get_ref() {
                    argv.push(self.text(file, a)?);
                }
                if argv.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err(file.err(
                        &program.span(),
                        format!("notifier {id:?}: `program` must name a program first"),
                    ));
                }
                let timeout = self.notifier_timeout(file, &id, n)?;
                NotifierKind::Command {
                    program: argv,
                    timeout,
                }
            }
            other => {
                return Err(file.err(
                    &n.kind.span(),
                    format!("notifier {id:?}: unknown type {other:?} (expected webhook, slack, discord, teams, mattermost, ntfy, email, command, stdout or log)"),
                ));
            }
        };
        let kind_name = kind_text.trim();
        let only =
            |key: &str, present: Option<std::ops::Range<usize>>, allowed: &[&str]| match present {
                Some(span) if !allowed.contains(&kind_name) => Err(file.err(
                    &span,
                    format!("notifier {id:?}: `{key}` does not apply to type = {kind_name:?}"),
                )),
                _ => Ok(()),
            };
        only("secret", n.secret.as_ref().map(|s| s.span()), &["webhook"])?;
        only(
            "secret_file",
            n.secret_file.as_ref().map(|s| s.span()),
            &["webhook"],
        )?;
        only("token", n.token.as_ref().map(|s| s.span()), &["ntfy"])?;
        only(
            "token_file",
            n.token_file.as_ref().map(|s| s.span()),
            &["ntfy"],
        )?;
        only(
            "program",
            n.program.as_ref().map(|s| s.span()),
            &["command"],
        )?;
        only(
            "headers",
            n.headers.as_ref().map(|s| s.span()),
            &["webhook"],
        )?;
        let email_only = [
            ("smtp_host", n.smtp_host.as_ref().map(|s| s.span())),
            ("smtp_port", n.smtp_port.as_ref().map(|s| s.span())),
            ("tls", n.tls.as_ref().map(|s| s.span())),
            ("username", n.username.as_ref().map(|s| s.span())),
            ("password", n.password.as_ref().map(|s| s.span())),
            ("password_file", n.password_file.as_ref().map(|s| s.span())),
            ("from", n.from.as_ref().map(|s| s.span())),
            ("to", n.to.as_ref().map(|s| s.span())),
            ("subject", n.subject.as_ref().map(|s| s.span())),
            ("tls_ca_file", n.tls_ca_file.as_ref().map(|s| s.span())),
        ];
        for (key, span) in email_only {
            only(key, span, &["email"])?;
        }
        let max_age = self.opt_duration(
            file,
            n.max_age.as_ref(),
            &format!("notifier {id:?}: max_age"),
            DEFAULT_MAX_AGE,
        )?;
        let min_severity = match &n.min_severity {
            None => Severity::Info,
            Some(sv) => self.severity(file, sv, &format!("notifier {id:?}: min_severity"))?,
        };
        let template = self.opt_template(file, &id, "template", n.template.as_ref())?;
        let rate_limit = n
            .rate_limit
            .as_ref()
            .map(|r| self.duration(file, r, &format!("notifier {id:?}: rate_limit"), false))
            .transpose()?;
        let max_attempts = match &n.max_attempts {
            Some(m) => u32::try_from(self.int_in(
                file,
                m,
                &format!("notifier {id:?}: max_attempts"),
                1,
                i64::from(u32::MAX),
            )?)
            .unwrap_or(DEFAULT_MAX_ATTEMPTS),
            None => DEFAULT_MAX_ATTEMPTS,
        };
        let retry_initial = self.opt_duration(
            file,
            n.retry_initial.as_ref(),
            &format!("notifier {id:?}: retry_initial"),
            DEFAULT_RETRY_INITIAL,
        )?;
        let retry_max = self.opt_duration(
            file,
            n.retry_max.as_ref(),
            &format!("notifier {id:?}: retry_max"),
            DEFAULT_RETRY_MAX,
        )?;
        if retry_max < retry_initial {
            let span = n
                .retry_max
                .as_ref()
                .or(n.retry_initial.as_ref())
                .map_or(n.id.span(), |s| s.span());
            return Err(file.err(
                &span,
                format!("notifier {id:?}: retry_max is shorter than retry_initial"),
            ));
        }
        let group_wait = n
            .group_wait
            .as_ref()
            .map(|g| self.duration(file, g, &format!("notifier {id:?}: group_wait"), true))
            .transpose()?;
        let group_interval = self.opt_duration(
            file,
            n.group_interval.as_ref(),
            &format!("notifier {id:?}: group_interval"),
            DEFAULT_GROUP_INTERVAL,
        )?;
        let repeat_interval = n
            .repeat_interval
            .as_ref()
            .map(|r| self.duration(file, r, &format!("notifier {id:?}: repeat_interval"), false))
            .transpose()?;
        Ok(NotifierConfig {
            id,
            kind,
            repeat_interval,
            max_attempts,
            retry_initial,
            retry_max,
            max_age,
            min_severity,
            template,
            rate_limit,
            group_wait,
            group_interval,
        })
    }

    /// The URL and timeout of an HTTP notifier (webhook, chat services, ntfy).
    /// Messages never include the URL: its path is often the token.
    /// A notifier's `timeout`, the one default every kind that sends over the network uses.
    pub(super) fn notifier_timeout(
        &self,
        file: &SourceFile,
        id: &str,
        n: &RawNotifier,
    ) -> Result<Duration, ConfigError> {
        self.opt_duration(
            file,
            n.timeout.as_ref(),
            &format!("notifier {id:?}: timeout"),
            DEFAULT_WEBHOOK_TIMEOUT,
        )
    }

    /// An optional template key (`template`, an email's `subject`), checked now so a typo is a
    /// config error with its line, not a failed delivery.
    pub(super) fn opt_template(
        &self,
        file: &SourceFile,
        id: &str,
        key: &str,
        value: Option<&Str>,
    ) -> Result<Option<String>, ConfigError> {
        let Some(t) = value else {
            return Ok(None);
        };
        let text = self.text(file, t)?;
        crate::template::check(&text)
            .map_err(|e| file.err(&t.span(), format!("notifier {id:?}: {key}: {e}")))?;
        Ok(Some(text))
    }

    fn http_target(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        id: &str,
        kind: &str,
    ) -> Result<(Url, Duration), ConfigError> {
        let n = raw.get_ref();
        let Some(url_raw) = &n.url else {
            return Err(file.err(
                &raw.span(),
                format!("notifier {id:?}: type {kind:?} needs a `url`"),
            ));
        };
        let url_text = self.text(file, url_raw)?;
        let url = Url::parse(url_text.trim()).map_err(|e| {
            file.err(
                &url_raw.span(),
                format!("notifier {id:?}: invalid {kind} url ({e})"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(file.err(
                &url_raw.span(),
                format!("notifier {id:?}: {kind} url must be http:// or https://"),
            ));
        }
        let timeout = self.notifier_timeout(file, id, n)?;
        Ok((url, timeout))
    }

    /// The webhook part of a notifier. Messages never include the URL or header values: they
    /// are where tokens live. The line number says which value is wrong.
    fn webhook(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        id: &str,
    ) -> Result<NotifierKind, ConfigError> {
        let n = raw.get_ref();
        let (url, timeout) = self.http_target(file, raw, id, "webhook")?;
        let mut headers = Vec::new();
        let mut names = HashSet::new();
        for (name, value) in n
            .headers
            .as_ref()
            .map(|h| h.get_ref())
            .into_iter()
            .flatten()
        {
            let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                file.err(
                    &value.span(),
                    format!("notifier {id:?}: {name:?} is not a valid HTTP header name"),
                )
            })?;
            if !names.insert(parsed) {
                return Err(file.err(
                    &value.span(),
                    format!("notifier {id:?}: header {name:?} is given twice (names are case-insensitive)"),
                ));
            }
            let v = self.text(file, value)?;
            if HeaderValue::from_str(&v).is_err() {
                return Err(file.err(
                    &value.span(),
                    format!(
                        "notifier {id:?}: header {name:?} has an invalid value (not shown: it may be a secret)"
                    ),
                ));
            }
            headers.push((name.clone(), v));
        }
        let secret = self.secret(
            file,
            n.secret.as_ref(),
            n.secret_file.as_ref(),
            &format!("notifier {id:?}: secret"),
        )?;
        Ok(NotifierKind::Webhook {
            url,
            timeout,
            headers,
            secret,
        })
    }
}
