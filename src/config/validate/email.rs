//! The SMTP part of an `email` notifier: host, TLS mode (none only for loopback), port,
//! credentials, addresses, subject template and an extra CA. Messages never include the
//! password.

use std::path::Path;

use toml::Spanned;

use super::Builder;
use crate::config::paths::resolve;
use crate::config::raw::{RawNotifier, SourceFile, Str};
use crate::config::{ConfigError, EmailConfig, SmtpTls};

impl Builder<'_> {
    /// The SMTP part of an `email` notifier. Messages never include the password; `tls =
    /// "none"` is refused for anything but a loopback host, so credentials and alerts never
    /// cross a network unencrypted.
    pub(super) fn email(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        id: &str,
    ) -> Result<EmailConfig, ConfigError> {
        let n = raw.get_ref();
        if let Some(url) = &n.url {
            return Err(file.err(
                &url.span(),
                format!(
                    "notifier {id:?}: `url` does not apply to type = \"email\" (use smtp_host)"
                ),
            ));
        }
        let Some(host_raw) = &n.smtp_host else {
            return Err(file.err(
                &raw.span(),
                format!("notifier {id:?}: type \"email\" needs `smtp_host`"),
            ));
        };
        let host = self.text(file, host_raw)?.trim().to_string();
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(file.err(
                &host_raw.span(),
                format!("notifier {id:?}: smtp_host {host:?} is not a host name"),
            ));
        }
        let tls = match &n.tls {
            None => SmtpTls::StartTls,
            Some(t) => match self.text(file, t)?.trim() {
                "starttls" => SmtpTls::StartTls,
                "implicit" | "tls" => SmtpTls::Implicit,
                "none" => SmtpTls::None,
                other => {
                    return Err(file.err(
                        &t.span(),
                        format!("notifier {id:?}: unknown tls {other:?} (expected starttls, implicit or none)"),
                    ));
                }
            },
        };
        if tls == SmtpTls::None {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = bare.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                let span = n.tls.as_ref().map_or(host_raw.span(), |t| t.span());
                return Err(file.err(
                    &span,
                    format!("notifier {id:?}: tls = \"none\" is only allowed for a loopback smtp_host (localhost, 127.0.0.1, ::1); use starttls or implicit"),
                ));
            }
        }
        let port = match &n.smtp_port {
            Some(p) => u16::try_from(self.int_in(
                file,
                p,
                &format!("notifier {id:?}: smtp_port"),
                1,
                65535,
            )?)
            .unwrap_or(587),
            None => match tls {
                SmtpTls::StartTls => 587,
                SmtpTls::Implicit => 465,
                SmtpTls::None => 25,
            },
        };
        let username = n
            .username
            .as_ref()
            .map(|u| self.text(file, u))
            .transpose()?
            .filter(|u| !u.is_empty());
        let password = self.secret(
            file,
            n.password.as_ref(),
            n.password_file.as_ref(),
            &format!("notifier {id:?}: password"),
        )?;
        if username.is_some() != password.is_some() {
            let span = n
                .username
                .as_ref()
                .or(n.password.as_ref())
                .or(n.password_file.as_ref())
                .map_or(raw.span(), |s| s.span());
            return Err(file.err(
                &span,
                format!(
                    "notifier {id:?}: `username` and `password` (or `password_file`) go together"
                ),
            ));
        }
        let mailbox = |s: &Str, what: &str| -> Result<lettre::message::Mailbox, ConfigError> {
            let text = self.text(file, s)?;
            text.trim().parse().map_err(|e| {
                file.err(
                    &s.span(),
                    format!(
                        "notifier {id:?}: {what} {:?} is not an email address ({e})",
                        text.trim()
                    ),
                )
            })
        };
        let Some(from_raw) = &n.from else {
            return Err(file.err(
                &raw.span(),
                format!("notifier {id:?}: type \"email\" needs `from`"),
            ));
        };
        let from = mailbox(from_raw, "from")?;
        let mut to = Vec::new();
        for t in
            n.to.as_ref()
                .map(|t| t.get_ref().as_slice())
                .unwrap_or_default()
        {
            to.push(mailbox(t, "to")?);
        }
        if to.is_empty() {
            let span = n.to.as_ref().map_or(raw.span(), |t| t.span());
            return Err(file.err(
                &span,
                format!("notifier {id:?}: type \"email\" needs at least one `to` address"),
            ));
        }
        let subject = self.opt_template(file, id, "subject", n.subject.as_ref())?;
        let ca_pem = match &n.tls_ca_file {
            None => None,
            Some(_) if tls == SmtpTls::None => {
                let span = n.tls_ca_file.as_ref().map_or(raw.span(), |s| s.span());
                return Err(file.err(
                    &span,
                    format!("notifier {id:?}: `tls_ca_file` does not apply to tls = \"none\""),
                ));
            }
            Some(p) => {
                let written = self.text(file, p)?;
                let full = resolve(&file.dir, Path::new(written.trim()));
                let pem = std::fs::read(&full).map_err(|e| {
                    file.err(
                        &p.span(),
                        format!(
                            "notifier {id:?}: cannot read tls_ca_file {}: {e}",
                            full.display()
                        ),
                    )
                })?;
                if lettre::transport::smtp::client::Certificate::from_pem(&pem).is_err() {
                    return Err(file.err(
                        &p.span(),
                        format!(
                            "notifier {id:?}: tls_ca_file {} holds no valid PEM certificate",
                            full.display()
                        ),
                    ));
                }
                Some(pem)
            }
        };
        let timeout = self.notifier_timeout(file, id, n)?;
        Ok(EmailConfig {
            ca_pem,
            host,
            port,
            tls,
            username,
            password,
            from,
            to,
            subject,
            timeout,
        })
    }
}
