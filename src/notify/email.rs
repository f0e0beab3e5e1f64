//! The `email` channel: one multipart (plain text + HTML) message per alert or digest, sent
//! over SMTP with lettre.
//!
//! lettre is the maintained SMTP client of the Rust ecosystem (STARTTLS, implicit TLS, AUTH
//! PLAIN/LOGIN, a MIME builder that gets encodings and line lengths right); it runs on tokio
//! and rustls, which parley already uses for HTTP, so no OpenSSL and no second TLS stack.
//!
//! Idempotency: the `Message-ID` is derived from the alert id (or the digest id), so every
//! retry of one notification carries the same id and mail systems (and people's clients)
//! can recognise a duplicate left by a crash between "sent" and "recorded as sent".

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::NotifyError;
use crate::config::{EmailConfig, SmtpTls};
use crate::events::Alert;

/// A ready SMTP transport for one notifier. Connections are opened per message (no pool):
/// alerts are rare, and a fresh connection never trips over a server's idle timeout.
#[derive(Clone, Debug)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl Mailer {
    /// Builds the transport: TLS mode, port, timeout and, when configured, the credentials
    /// (AUTH PLAIN or LOGIN, whichever the server offers).
    pub fn new(config: &EmailConfig) -> Result<Mailer, NotifyError> {
        let smtp = |e: lettre::transport::smtp::Error| NotifyError::Smtp(e.to_string());
        // The system's roots, plus the configured private CA if any.
        let parameters = || -> Result<TlsParameters, NotifyError> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(pem) = &config.ca_pem {
                builder = builder.add_root_certificate(Certificate::from_pem(pem).map_err(smtp)?);
            }
            builder.build().map_err(smtp)
        };
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(parameters()?),
            SmtpTls::Implicit => Tls::Wrapper(parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder
                .credentials(Credentials::new(user.clone(), password.clone()))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Mailer {
            transport: builder.build(),
            from: config.from.clone(),
            to: config.to.clone(),
        })
    }

    /// Sends one message with the given subject, plain-text and HTML bodies, and a
    /// `Message-ID` derived from `key` (the alert or digest id).
    pub async fn send(
        &self,
        key: &str,
        subject: &str,
        plain: String,
        html: String,
    ) -> Result<(), NotifyError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(one_line(subject))
            .message_id(Some(message_id(key, &self.from)));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(plain, html))
            .map_err(|e| NotifyError::Smtp(format!("cannot build the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| NotifyError::Smtp(e.to_string()))
    }
}

/// `<key@domain of From>`: stable across retries and restarts (see the module doc).
pub fn message_id(key: &str, from: &Mailbox) -> String {
    format!("<{key}@{}>", from.email.domain())
}

/// A subject is one header line: newlines from a template would break the header.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Minimal HTML escaping for text placed in element content or a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Only http(s) links become anchors: a feed could carry a `javascript:` URL.
fn safe_link(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

/// One alert as an HTML section: the headline, the templated text, and every piece of
/// evidence with its link, feed and time.
pub fn alert_html(title: &str, body: &str, alert: &Alert) -> String {
    let mut out = format!("<h2>{}</h2>\n<p>", escape(title));
    out.push_str(&escape(body).replace('\n', "<br>\n"));
    out.push_str("</p>\n<ul>\n");
    for e in &alert.evidence {
        let title = escape(&e.title);
        let linked = match e.url.as_deref().and_then(safe_link) {
            Some(url) => format!("<a href=\"{}\">{title}</a>", escape(url)),
            None => title,
        };
        out.push_str(&format!(
            "<li>{linked} ({}{})<br>\n<q>{}</q></li>\n",
            escape(&e.feed),
            e.published
                .map(|p| format!(", {}", p.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default(),
            escape(&e.sentence)
        ));
    }
    out.push_str("</ul>\n");
    out
}

/// Wraps sections into a complete HTML document.
pub fn document(sections: &[String]) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{}</body></html>\n",
        sections.join("<hr>\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Evidence;

    #[test]
    fn html_escapes_text_and_refuses_script_links() {
        // Feed text is untrusted: it must not inject markup or script links into a mail.
        let alert = Alert {
            evidence: vec![Evidence {
                title: "<b>Ann</b> & Bob".into(),
                url: Some("javascript:alert(1)".into()),
                feed: "Wire".into(),
                sentence: "Ann met \"Bob\".".into(),
                ..Evidence::default()
            }],
            ..Alert::default()
        };
        let html = alert_html("t <x>", "line1\nline2", &alert);
        assert!(html.contains("&lt;b&gt;Ann&lt;/b&gt; &amp; Bob"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("line1<br>\nline2"), "{html}");
        assert!(html.contains("t &lt;x&gt;"), "{html}");
    }

    #[test]
    fn message_id_is_stable_and_uses_the_sender_domain() {
        // Retries must carry the same Message-ID so duplicates are recognisable.
        let from: Mailbox = "Parley <parley@example.org>".parse().unwrap();
        assert_eq!(message_id("alert-1", &from), "<alert-1@example.org>");
        assert_eq!(message_id("alert-1", &from), message_id("alert-1", &from));
        assert_eq!(one_line("a\nb  c"), "a b c");
    }
}
