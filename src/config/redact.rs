//! Secrets kept out of logs: [`redact_url`] and the hand-written `Debug` of the config types
//! that hold tokens, passwords, webhook URLs and header values, so `{:?}` of a `Config` can be
//! logged safely.

use std::fmt;

use url::Url;

use super::{ApiConfig, LogConfig, NotifierKind};

/// A webhook URL safe to log: scheme, host and port only; user info, path and query (where
/// tokens live, e.g. Slack's `/services/T../B../secret`) become `<redacted>`.
pub fn redact_url(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    let has_secret_parts = !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || url.path() != "/";
    out.push('/');
    if has_secret_parts {
        out.push_str("<redacted>");
    }
    out
}

impl fmt::Debug for NotifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifierKind::Stdout => f.write_str("Stdout"),
            NotifierKind::Log => f.write_str("Log"),
            NotifierKind::Chat {
                flavor,
                url,
                timeout,
            } => f
                .debug_struct("Chat")
                .field("flavor", flavor)
                .field("url", &redact_url(url))
                .field("timeout", timeout)
                .finish(),
            NotifierKind::Ntfy {
                url,
                token,
                timeout,
            } => f
                .debug_struct("Ntfy")
                .field("url", &redact_url(url))
                .field("token", &token.as_ref().map(|_| "<redacted>"))
                .field("timeout", timeout)
                .finish(),
            NotifierKind::Email(e) => f
                .debug_struct("Email")
                .field("host", &e.host)
                .field("port", &e.port)
                .field("tls", &e.tls)
                .field("username", &e.username)
                .field("password", &e.password.as_ref().map(|_| "<redacted>"))
                .field("from", &e.from.email.to_string())
                .field("to", &e.to.len())
                .field("ca", &e.ca_pem.is_some())
                .field("timeout", &e.timeout)
                .finish(),
            NotifierKind::Command { program, timeout } => f
                .debug_struct("Command")
                .field("program", &program.first())
                .field("timeout", timeout)
                .finish(),
            NotifierKind::Webhook {
                url,
                timeout,
                headers,
                secret,
            } => {
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(name, _)| (name.as_str(), "<redacted>"))
                    .collect();
                f.debug_struct("Webhook")
                    .field("url", &redact_url(url))
                    .field("timeout", timeout)
                    .field("headers", &headers)
                    .field("secret", &secret.as_ref().map(|_| "<redacted>"))
                    .finish()
            }
        }
    }
}

impl fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiConfig")
            .field("enabled", &self.enabled)
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl fmt::Debug for LogConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self
            .url
            .split(',')
            .map(|u| {
                Url::parse(u.trim()).map_or_else(|_| "<unparsable>".into(), |u| redact_url(&u))
            })
            .collect::<Vec<_>>()
            .join(",");
        f.debug_struct("LogConfig")
            .field("backend", &self.backend)
            .field("url", &url)
            .field("stream", &self.stream)
            .field("replicas", &self.replicas)
            .field("node_id", &self.node_id)
            .field("lease_ttl", &self.lease_ttl)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn debug_of_webhook_hides_secrets() {
        // `{:?}` of a Config ends up in logs; tokens in URLs and headers must not.
        let kind = NotifierKind::Webhook {
            url: Url::parse("https://user:pw@hooks.example.org:8443/services/T1/B2/sekrit?k=v")
                .unwrap(),
            timeout: Duration::from_secs(3),
            headers: vec![("Authorization".into(), "Bearer sekrit-token".into())],
            secret: Some("sekrit-hmac".into()),
        };
        let shown = format!("{kind:?}");
        assert!(
            !shown.contains("sekrit") && !shown.contains("pw"),
            "{shown}"
        );
        assert!(shown.contains("hooks.example.org:8443") && shown.contains("Authorization"));
        assert_eq!(
            redact_url(&Url::parse("http://127.0.0.1:9000/").unwrap()),
            "http://127.0.0.1:9000/"
        );
    }
}
