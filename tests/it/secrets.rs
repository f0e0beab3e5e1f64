//! Secrets never leak: the real binary runs with a webhook HMAC secret, a webhook header token,
//! an ntfy token, an API token and a key in a feed URL, and every byte it prints is searched
//! for each of them: debug-level logs of `check` and of a daemon run whose ntfy deliveries
//! fail, `check` output, API responses (including refusals and a bad query), the CLI answering
//! through the API, a config error built around a secret, and the dead-letter listing.

use std::process::Stdio;

use crate::common::notify::NotifySocket;
use crate::common::*;

/// (environment variable, value) pairs the config refers to.
const ENV_SECRETS: [(&str, &str); 4] = [
    ("HOOK_SECRET", "hmac-s3cr3t-Zq81"),
    ("HDR_TOKEN", "hdr-s3cr3t-Pk27"),
    ("NTFY_TOKEN", "ntfy-s3cr3t-Wd55"),
    ("FEED_KEY", "feedkey-s3cr3t-Lm09"),
];
/// The API token, read from `token_file`.
const API_TOKEN: &str = "api-s3cr3t-Hx64";

fn config(feed: &str, hook: &str, ntfy: &str) -> String {
    format!(
        concat!(
            "[daemon]\nstate_dir = \"state\"\npoll_interval = \"1h\"\n",
            "[api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"api-token\"\n",
            "[[feed]]\nurl = \"{feed}?key=${{FEED_KEY}}\"\n",
            "[[actor]]\nid = \"blinken\"\nname = \"Antony Blinken\"\naliases = [\"Antony Blinken\", \"Blinken\"]\n",
            "[[actor]]\nid = \"mikati\"\nname = \"Najib Mikati\"\naliases = [\"Najib Mikati\", \"Mikati\"]\n",
            "[[rule]]\nid = \"lebanon\"\nactors = [\"blinken\", \"mikati\"]\nnotify = [\"hook\", \"pager\"]\n",
            "[[notifier]]\nid = \"hook\"\ntype = \"webhook\"\nurl = \"{hook}\"\nsecret = \"${{HOOK_SECRET}}\"\n",
            "headers = {{ Authorization = \"Bearer ${{HDR_TOKEN}}\" }}\n",
            "[[notifier]]\nid = \"pager\"\ntype = \"ntfy\"\nurl = \"{ntfy}\"\ntoken = \"${{NTFY_TOKEN}}\"\n",
            "max_attempts = 2\nretry_initial = \"50ms\"\nretry_max = \"50ms\"\n",
        ),
        feed = feed,
        hook = hook,
        ntfy = ntfy,
    )
}

/// A parley command with every secret in its environment and logs at debug for all crates.
fn cmd(cfg: &TestConfig, args: &[&str]) -> std::process::Command {
    let mut c = parley_cmd(&cfg.path(), args);
    c.env("RUST_LOG", "debug");
    for (k, v) in ENV_SECRETS {
        c.env(k, v);
    }
    c
}

fn output_text(o: &std::process::Output) -> String {
    format!("{}\n{}", stdout(o), stderr(o))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_output() {
    // The promise of README's secrets section, checked on everything a user or log sees.
    let feeds = FeedServer::start().await;
    feeds.set(
        "f.xml",
        Route::Feed {
            body: rss(
                "Desk",
                &[Item {
                    guid: "beirut",
                    title: "Beirut",
                    body: "Antony Blinken met Najib Mikati in Beirut.",
                    date: "Mon, 13 Nov 2023 12:00:00 +0000",
                }],
            ),
            etag: "\"1\"".into(),
        },
    );
    let hook = Receiver::start(0).await;
    // The ntfy server refuses everything: the delivery errors are logged and dead-lettered.
    let ntfy = Receiver::start(usize::MAX).await;
    let cfg = TestConfig::new(&config(&feeds.url("f.xml"), &hook.url(), &ntfy.url()));
    cfg.write("api-token", &format!("{API_TOKEN}\n"));
    let mut captured = String::new();

    // `check`, at debug level.
    let out = cmd(&cfg, &["check"]).output().unwrap();
    assert_ok(&out);
    captured.push_str(&output_text(&out));

    // The daemon: logs to files, secrets used for real.
    let log_out = cfg.dir.path().join("daemon.out");
    let log_err = cfg.dir.path().join("daemon.err");
    let socket = NotifySocket::new();
    let mut child = cmd(&cfg, &["run"])
        .env("NOTIFY_SOCKET", &socket.path)
        .stdout(Stdio::from(std::fs::File::create(&log_out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&log_err).unwrap()))
        .spawn()
        .unwrap();
    tokio::task::spawn_blocking(move || socket.wait_for("READY=1"))
        .await
        .unwrap();
    wait_for(&hook.arrived, "the webhook delivery", || {
        !hook.accepted().is_empty()
    })
    .await;
    // Two refused ntfy attempts: the first failure has been logged before the retry.
    wait_for(&ntfy.arrived, "two ntfy attempts", || ntfy.all().len() >= 2).await;

    // The secrets were really used (so their absence below means something).
    let delivered = &hook.accepted()[0];
    assert_eq!(
        delivered.authorization.as_deref(),
        Some("Bearer hdr-s3cr3t-Pk27")
    );
    assert!(
        delivered
            .signature
            .as_deref()
            .is_some_and(|s| s.starts_with("sha256="))
    );
    assert_eq!(
        ntfy.all()[0].authorization.as_deref(),
        Some("Bearer ntfy-s3cr3t-Wd55")
    );
    assert!(
        feeds.requests_for("f.xml").len() == 1,
        "the feed (with its key) was fetched"
    );

    // API responses: authorised, refused, and a bad query.
    let addr = std::fs::read_to_string(cfg.state().join("api.addr")).unwrap();
    let base = format!("http://{}", addr.trim());
    let http = reqwest::Client::new();
    for (path, token, status) in [
        ("/api/v1/alerts", Some(API_TOKEN), 200),
        ("/api/v1/feeds", Some(API_TOKEN), 200),
        ("/api/v1/events?kind=alert.raised", Some(API_TOKEN), 200),
        ("/metrics", Some(API_TOKEN), 200),
        ("/metrics", None, 401),
        ("/api/v1/feeds", Some("wrong-token"), 401),
        ("/api/v1/events?since=garbage", Some(API_TOKEN), 400),
    ] {
        let mut request = http.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        captured.push_str(&format!("{:?}\n", response.headers()));
        captured.push_str(&response.text().await.unwrap());
    }
    // The CLI answering through the running daemon's API.
    for args in [&["events", "--json"][..], &["feeds", "--json"], &["alerts"]] {
        let out = cmd(&cfg, args).output().unwrap();
        assert_ok(&out);
        captured.push_str(&output_text(&out));
    }

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    let daemon_log = std::fs::read_to_string(&log_err).unwrap();
    assert!(
        daemon_log.contains("Notification failed"),
        "the forced delivery error was logged:\n{daemon_log}"
    );
    assert!(daemon_log.contains("DEBUG"), "debug logging was on");
    captured.push_str(&daemon_log);
    captured.push_str(&std::fs::read_to_string(&log_out).unwrap());

    // After the daemon: dead letters (with their errors) and the alert's delivery history.
    let out = cmd(&cfg, &["alerts", "--failed", "--json"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(stdout(&out).contains("pager"), "{}", stdout(&out));
    captured.push_str(&output_text(&out));
    let alert_id = hook.accepted()[0].idempotency_key.clone().unwrap();
    let out = cmd(&cfg, &["alerts", "show", &alert_id]).output().unwrap();
    assert_ok(&out);
    captured.push_str(&output_text(&out));

    // A config error built around a secret: the error names the place, not the value.
    let bad = TestConfig::new(
        "[[notifier]]\nid = \"desk\"\ntype = \"webhook\"\nurl = \"ftp://u:${HOOK_SECRET}@example.org/h\"\n",
    );
    let out = cmd(&bad, &["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    captured.push_str(&output_text(&out));

    for secret in ENV_SECRETS.iter().map(|(_, v)| *v).chain([API_TOKEN]) {
        if let Some(at) = captured.find(secret) {
            let from = captured[..at].rfind('\n').map_or(0, |i| i + 1);
            let to = captured[at..].find('\n').map_or(captured.len(), |i| at + i);
            panic!("secret {secret:?} leaked in: {}", &captured[from..to]);
        }
    }
}
