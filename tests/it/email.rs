//! The `email` channel end to end: the real binary sends through lettre to the harness's
//! real SMTP server on 127.0.0.1 (AUTH, 451 refusals), over feeds served on 127.0.0.1.

use crate::common::*;

const PASSWORD: &str = "pa55-w0rd-never-shown";

/// RSS items (guid, text) published on 1 March 2025, one hour apart.
fn items(list: &[(&str, &str)]) -> String {
    let dates: Vec<String> = (0..list.len())
        .map(|i| format!("Sat, 01 Mar 2025 {:02}:00:00 +0000", 9 + i))
        .collect();
    let items: Vec<Item<'_>> = list
        .iter()
        .zip(&dates)
        .map(|((guid, body), date)| Item {
            guid,
            title: body,
            body,
            date,
        })
        .collect();
    rss("Wire", &items)
}

fn serve(feeds: &FeedServer, body: String) {
    let etag = format!("\"{}\"", parley::events::stable_id("etag", &[&body]));
    feeds.set("a.xml", Route::Feed { body, etag });
}

/// A config with one feed, three actors, `rules`, and an email notifier `mail` pointing at
/// `smtp` with `extra` lines.
fn config(feeds: &FeedServer, smtp: &SmtpServer, rules: &str, extra: &str) -> String {
    format!(
        r#"[daemon]
state_dir = "state"
request_timeout = "5s"

[api]
listen = "127.0.0.1:0"

[[feed]]
url = "{feed}"
name = "Wire"

[[actor]]
id = "kellner"
name = "Maria Kellner"
aliases = ["Maria Kellner", "Kellner"]

[[actor]]
id = "odum"
name = "James Odum"
aliases = ["James Odum", "Odum"]

[[actor]]
id = "rahim"
name = "Layla Rahim"
aliases = ["Layla Rahim", "Rahim"]
{rules}
[[notifier]]
id = "mail"
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {port}
tls = "none"
username = "parley"
password = "${{PARLEY_TEST_SMTP_PASSWORD}}"
from = "Parley <parley@example.org>"
to = ["desk@example.org", "Duty Officer <duty@example.org>"]
retry_initial = "50ms"
retry_max = "100ms"
max_attempts = 10
{extra}
"#,
        feed = feeds.url("a.xml"),
        port = smtp.port(),
    )
}

const PAIR: &str = "\n[[rule]]\nid = \"pair\"\nactors = [\"kellner\", \"odum\"]\nseverity = \"critical\"\nnotify = [\"mail\"]\n";

/// Runs the binary with the SMTP password in its environment (as `${VAR}` secrets are
/// given in production), debug logging on, from a blocking thread.
async fn parley(cfg: &TestConfig, args: &[&str]) -> std::process::Output {
    let path = cfg.path();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        parley_cmd(&path, &refs)
            .env("PARLEY_TEST_SMTP_PASSWORD", PASSWORD)
            .env("RUST_LOG", "debug")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn assert_no_password(o: &std::process::Output) {
    assert!(
        !stdout(o).contains(PASSWORD) && !stderr(o).contains(PASSWORD),
        "the SMTP password leaked into output"
    );
}

fn alert_ids(o: &std::process::Output) -> Vec<String> {
    json_lines(o)
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_alert_is_one_multipart_mail_with_subject_and_recipients() {
    // The email channel's contract: AUTH with the secret, envelope and headers for every
    // recipient, templated subject, plain + HTML parts, Message-ID from the alert id, and no
    // password in any output (run, check).
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start(0, Some(("parley", PASSWORD))).await;
    serve(
        &feeds,
        items(&[("a1", "Kellner met Odum in Oslo on Friday.")]),
    );
    let cfg = TestConfig::new(&config(
        &feeds,
        &smtp,
        PAIR,
        "subject = \"{{ title }} via parley\"",
    ));
    let check = parley(&cfg, &["check"]).await;
    assert_ok(&check);
    assert_no_password(&check);

    let run = parley(&cfg, &["run", "--once"]).await;
    assert_ok(&run);
    assert_no_password(&run);
    let mails = smtp.accepted();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(
        mail.auth,
        Some(("parley".to_string(), PASSWORD.to_string()))
    );
    assert_eq!(mail.from, "parley@example.org");
    assert_eq!(mail.rcpt, ["desk@example.org", "duty@example.org"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[critical] pair: Maria Kellner + James Odum (consult) via parley")
    );
    let to = mail.header("To").unwrap();
    assert!(
        to.contains("desk@example.org") && to.contains("duty@example.org"),
        "{to}"
    );
    let ids = alert_ids(&parley(&cfg, &["alerts", "--json"]).await);
    assert_eq!(ids.len(), 1);
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{}@example.org>", ids[0])
    );
    let text = mail.text();
    assert!(text.contains("multipart/alternative"), "{text}");
    assert!(
        text.contains("Content-Type: text/plain") && text.contains("Content-Type: text/html"),
        "{text}"
    );
    assert!(text.contains("Kellner met Odum in Oslo"), "{text}");
    assert!(
        text.contains("<a href=3D\"https://example.org/a1\">")
            || text.contains("<a href=\"https://example.org/a1\">"),
        "{text}"
    );

    // A second pass sends nothing more: the delivery is recorded.
    assert_ok(&parley(&cfg, &["run", "--once"]).await);
    assert_eq!(smtp.accepted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_mode_sends_one_mail_for_many_alerts() {
    // group_wait on an email notifier: three alerts become one message listing all of them.
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start(0, Some(("parley", PASSWORD))).await;
    serve(
        &feeds,
        items(&[
            ("a1", "Kellner met Odum in Oslo."),
            ("a2", "Kellner met Rahim in Bergen."),
            ("a3", "Rahim met Odum in Riga."),
        ]),
    );
    let rules = "\n[[rule]]\nid = \"any-pair\"\nactors = [\"kellner\", \"odum\", \"rahim\"]\nmin_actors = 2\nnotify = [\"mail\"]\n";
    let cfg = TestConfig::new(&config(&feeds, &smtp, rules, "group_wait = \"200ms\""));
    let run = parley(&cfg, &["run", "--once"]).await;
    assert_ok(&run);
    assert_no_password(&run);
    let mails = smtp.accepted();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[warning] 3 parley alerts")
    );
    let text = mail.text();
    for needle in ["Oslo", "Bergen", "Riga"] {
        assert!(text.contains(needle), "{needle} missing: {text}");
    }
    let mut ids = alert_ids(&parley(&cfg, &["alerts", "--json"]).await);
    ids.sort();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let digest = parley::events::stable_id("digest", &refs);
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{digest}@example.org>")
    );
    let delivered = json_lines(
        &parley(
            &cfg,
            &["events", "--kind", "notification.delivered", "--json"],
        )
        .await,
    );
    assert_eq!(delivered.len(), 3, "every alert is recorded as delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_server_gets_the_mail_exactly_once_despite_sigkill() {
    // At-least-once over SMTP: 451 for the first three transactions, parley SIGKILLed between
    // attempts, then exactly one accepted message, with the same Message-ID as every attempt.
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start(3, Some(("parley", PASSWORD))).await;
    serve(&feeds, items(&[("a1", "Kellner met Odum in Oslo.")]));
    let cfg = TestConfig::new(&config(
        &feeds,
        &smtp,
        PAIR,
        "retry_initial = \"300ms\"\nretry_max = \"600ms\"",
    ));
    // `config` already set retry_*; the later keys would be duplicates, so rewrite them.
    let body = std::fs::read_to_string(cfg.path())
        .unwrap()
        .replace("retry_initial = \"50ms\"\nretry_max = \"100ms\"\n", "");
    std::fs::write(cfg.path(), body).unwrap();

    let mut daemon = parley_cmd(&cfg.path(), &["run"])
        .env("PARLEY_TEST_SMTP_PASSWORD", PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&smtp.arrived, "two refused attempts", || {
        *smtp.refused.lock().unwrap() >= 2
    })
    .await;
    daemon.kill().unwrap();
    let killed = daemon.wait_with_output().unwrap();
    assert_no_password(&killed);
    assert!(smtp.accepted().is_empty());

    let run = parley(&cfg, &["run", "--once"]).await;
    assert_ok(&run);
    assert_no_password(&run);
    assert_eq!(*smtp.refused.lock().unwrap(), 3);
    let mails = smtp.accepted();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let ids = alert_ids(&parley(&cfg, &["alerts", "--json"]).await);
    assert_eq!(
        mails[0].header("Message-ID").unwrap(),
        format!("<{}@example.org>", ids[0])
    );
    assert_ok(&parley(&cfg, &["run", "--once"]).await);
    assert_eq!(smtp.accepted().len(), 1, "nothing is sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_config_errors_are_located_and_never_show_the_password() {
    // Plain-text SMTP to a remote host, a missing recipient or a bad address are config
    // errors (exit 78, file:line), and the password is in none of them.
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start(0, None).await;
    let base = config(&feeds, &smtp, PAIR, "");
    let cases = [
        (
            base.replace(
                "smtp_host = \"127.0.0.1\"",
                "smtp_host = \"mail.example.org\"",
            ),
            "only allowed for a loopback",
        ),
        (
            base.replace(
                "to = [\"desk@example.org\", \"Duty Officer <duty@example.org>\"]",
                "to = []",
            ),
            "at least one `to`",
        ),
        (
            base.replace(
                "from = \"Parley <parley@example.org>\"",
                "from = \"not an address\"",
            ),
            "is not an email address",
        ),
        (
            base.replace("tls = \"none\"", "tls = \"ssl3\""),
            "unknown tls",
        ),
    ];
    for (text, want) in cases {
        let cfg = TestConfig::new(&text);
        let out = parley(&cfg, &["check"]).await;
        assert_eq!(out.status.code(), Some(78), "{want}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(want) && stderr(&out).contains("parley.toml:"),
            "{want}: {}",
            stderr(&out)
        );
        assert_no_password(&out);
    }
    // password_file works like ${ENV}: read, trimmed, and AUTH succeeds with it.
    let cfg = TestConfig::new(&base.replace(
        "password = \"${PARLEY_TEST_SMTP_PASSWORD}\"",
        "password_file = \"smtp.secret\"",
    ));
    cfg.write("smtp.secret", &format!("{PASSWORD}\n"));
    let out = parley(&cfg, &["check"]).await;
    assert_ok(&out);
    assert_no_password(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_implicit_tls_verify_the_server_and_deliver() {
    // Both encrypted modes against a real TLS SMTP server whose certificate a private CA
    // (tls_ca_file) signed: AUTH and delivery happen inside TLS; without the CA the
    // certificate is refused and nothing is sent (verification is real, not skipped).
    for (mode, tls) in [
        (SmtpTlsMode::StartTls, "starttls"),
        (SmtpTlsMode::Implicit, "implicit"),
    ] {
        let feeds = FeedServer::start().await;
        let (smtp, ca) = SmtpServer::start_with(mode, 0, Some(("parley", PASSWORD))).await;
        serve(&feeds, items(&[("a1", "Kellner met Odum in Oslo.")]));
        let base = config(&feeds, &smtp, PAIR, "").replace(
            "tls = \"none\"",
            &format!("tls = {tls:?}\ntls_ca_file = \"ca.pem\""),
        );
        let cfg = TestConfig::new(&base);
        cfg.write("ca.pem", &ca);
        let run = parley(&cfg, &["run", "--once"]).await;
        assert_ok(&run);
        assert_no_password(&run);
        let mails = smtp.accepted();
        assert_eq!(mails.len(), 1, "{tls}: {}", stderr(&run));
        assert_eq!(
            mails[0].auth,
            Some(("parley".to_string(), PASSWORD.to_string()))
        );
        assert!(*smtp.tls_sessions.lock().unwrap() >= 1, "{tls}");

        // The same server without the private CA: the certificate is not trusted.
        let feeds = FeedServer::start().await;
        let (smtp, _) = SmtpServer::start_with(mode, 0, Some(("parley", PASSWORD))).await;
        serve(&feeds, items(&[("a1", "Kellner met Odum in Oslo.")]));
        let untrusted = config(&feeds, &smtp, PAIR, "")
            .replace("tls = \"none\"", &format!("tls = {tls:?}"))
            .replace("max_attempts = 10", "max_attempts = 1");
        let cfg = TestConfig::new(&untrusted);
        let run = parley(&cfg, &["run", "--once"]).await;
        assert_ok(&run);
        assert_no_password(&run);
        assert!(
            smtp.accepted().is_empty(),
            "{tls}: an untrusted server got mail"
        );
        let failed = json_lines(&parley(&cfg, &["alerts", "--failed", "--json"]).await);
        assert_eq!(failed.len(), 1, "{tls}: {failed:?}");
    }
}
