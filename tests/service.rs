//! The long-running daemon: SIGHUP reloads through the start-up path, SIGTERM stops cleanly.

mod common;

use std::process::{Child, Stdio};

use common::*;

fn signal(child: &Child, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn feed_with(guid: &str, body: &str) -> String {
    rss(
        "Desk",
        &[Item {
            guid,
            title: guid,
            body,
            date: "Mon, 13 Nov 2023 12:00:00 +0000",
        }],
    )
}

fn config(feeds: &[String], hook: &str, rules: &str) -> String {
    let mut out = String::from(
        "[daemon]\nstate_dir = \"state\"\npoll_interval = \"1s\"\n[api]\nlisten = \"127.0.0.1:0\"\n",
    );
    for url in feeds {
        out.push_str(&format!("[[feed]]\nurl = {url:?}\n"));
    }
    out.push_str(concat!(
        "[[actor]]\nid = \"blinken\"\nname = \"Antony Blinken\"\naliases = [\"Antony Blinken\", \"Blinken\"]\n",
        "[[actor]]\nid = \"mikati\"\nname = \"Najib Mikati\"\naliases = [\"Najib Mikati\", \"Mikati\"]\n",
        "[[actor]]\nid = \"safadi\"\nname = \"Ayman Safadi\"\naliases = [\"Ayman Safadi\", \"Safadi\"]\n",
    ));
    out.push_str(rules);
    out.push_str(&format!(
        "[[notifier]]\nid = \"hook\"\ntype = \"webhook\"\nurl = {hook:?}\n"
    ));
    out
}

const RULE_LEBANON: &str =
    "[[rule]]\nid = \"lebanon\"\nactors = [\"blinken\", \"mikati\"]\nnotify = [\"hook\"]\n";
const RULE_JORDAN: &str =
    "[[rule]]\nid = \"jordan\"\nactors = [\"blinken\", \"safadi\"]\nnotify = [\"hook\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_feeds_and_rules_and_sigterm_stops_cleanly() {
    // Reload must change feeds and rules live, reject a broken config, and stop with exit 0.
    let feeds = FeedServer::start().await;
    feeds.set(
        "a.xml",
        Route::Feed {
            body: feed_with("a1", "Antony Blinken met Najib Mikati in Beirut."),
            etag: "\"a\"".into(),
        },
    );
    feeds.set(
        "b.xml",
        Route::Feed {
            body: feed_with("b1", "Antony Blinken met Ayman Safadi in Amman."),
            etag: "\"b\"".into(),
        },
    );
    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config(&[feeds.url("a.xml")], &hook.url(), RULE_LEBANON));
    let mut child = parley_cmd(&cfg.path(), &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    wait_for(&hook.arrived, "the first alert", || {
        hook.accepted().iter().any(|h| h.body["rule"] == "lebanon")
    })
    .await;

    // A broken config is rejected and the old one keeps running (feed a keeps being polled).
    std::fs::write(
        cfg.path(),
        "[[rule]]\nid = \"broken\"\nactors = [\"nobody\"]\n",
    )
    .unwrap();
    signal(&child, "HUP");
    let polled = feeds.requests_for("a.xml").len();
    wait_for(
        &feeds.arrived,
        "feed a polled again after a rejected reload",
        || feeds.requests_for("a.xml").len() > polled + 1,
    )
    .await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "a broken reload must not stop the daemon"
    );

    // A good config adds a feed and a rule live.
    std::fs::write(
        cfg.path(),
        config(
            &[feeds.url("a.xml"), feeds.url("b.xml")],
            &hook.url(),
            &format!("{RULE_LEBANON}{RULE_JORDAN}"),
        ),
    )
    .unwrap();
    signal(&child, "HUP");
    wait_for(
        &hook.arrived,
        "the new rule to fire on the new feed",
        || hook.accepted().iter().any(|h| h.body["rule"] == "jordan"),
    )
    .await;

    signal(&child, "TERM");
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");

    // After the stop, the store reopens and nothing was delivered twice.
    let out = cfg.parley_async(&["alerts", "--json"]).await;
    assert_ok(&out);
    let alerts = json_lines(&out);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let keys: Vec<_> = hook
        .accepted()
        .iter()
        .map(|h| h.idempotency_key.clone())
        .collect();
    assert_eq!(keys.len(), 2, "each alert delivered exactly once");
}

#[path = "support/notify.rs"]
mod notify;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_socket_sees_ready_reloading_stopping_and_watchdog() {
    // systemd's Type=notify contract: READY=1 at start, RELOADING=1 then READY=1 around a
    // reload (also a rejected one), STOPPING=1 on SIGTERM, WATCHDOG=1 while healthy.
    let feeds = FeedServer::start().await;
    feeds.set(
        "a.xml",
        Route::Feed {
            body: feed_with("a1", "Antony Blinken met Najib Mikati in Beirut."),
            etag: "\"a\"".into(),
        },
    );
    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config(&[feeds.url("a.xml")], &hook.url(), RULE_LEBANON));
    let socket = notify::NotifySocket::new();
    let mut child = parley_cmd(&cfg.path(), &["run"])
        .env("NOTIFY_SOCKET", &socket.path)
        .env("WATCHDOG_USEC", "2000000")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = tokio::task::spawn_blocking(move || {
        let seen = socket.wait_for("READY=1");
        assert!(
            seen.iter().any(|l| l.starts_with("STATUS=Running")),
            "{seen:?}"
        );
        // The watchdog pings only after a round trip through ingest and the appender.
        socket.wait_for("WATCHDOG=1");
        socket
    })
    .await
    .unwrap();

    signal(&child, "HUP");
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("RELOADING=1");
        let seen = socket.wait_for("READY=1");
        assert!(
            !seen.iter().any(|l| l.contains("rejected")),
            "a good reload is not rejected: {seen:?}"
        );
        socket
    })
    .await
    .unwrap();

    // A broken config: RELOADING=1, then READY=1 again with the old config in force.
    std::fs::write(cfg.path(), "[[rule]]\nid = \"broken\"\n").unwrap();
    signal(&child, "HUP");
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("RELOADING=1");
        let seen = socket.wait_for("READY=1");
        assert!(
            seen.iter().any(|l| l.contains("last reload rejected")),
            "{seen:?}"
        );
        socket
    })
    .await
    .unwrap();
    assert!(child.try_wait().unwrap().is_none());

    signal(&child, "TERM");
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("STOPPING=1");
        socket
    })
    .await
    .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
    drop(socket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_redirect_moves_a_feed_and_gone_disables_one() {
    // 301 must switch polling to the new URL (shown by `parley feeds`); 410 must stop it.
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use std::sync::{Arc, Mutex};
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let body = feed_with("m1", "Antony Blinken met Najib Mikati in Beirut.");
    let app = {
        let hits = hits.clone();
        axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let hits = hits.clone();
            let body = body.clone();
            async move {
                hits.lock().unwrap().push(uri.path().to_string());
                match uri.path() {
                    "/old.xml" => (
                        StatusCode::MOVED_PERMANENTLY,
                        [(header::LOCATION, "/new.xml")],
                    )
                        .into_response(),
                    "/new.xml" => body.into_response(),
                    "/gone.xml" => StatusCode::GONE.into_response(),
                    _ => StatusCode::NOT_FOUND.into_response(),
                }
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let hook = Receiver::start(0).await;
    let old = format!("http://{addr}/old.xml");
    let gone = format!("http://{addr}/gone.xml");
    let cfg = TestConfig::new(&config(
        &[old.clone(), gone.clone()],
        &hook.url(),
        RULE_LEBANON,
    ));

    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let out = cfg.parley_async(&["feeds", "--json"]).await;
    assert_ok(&out);
    let feeds = json_lines(&out);
    let by_url = |u: &str| feeds.iter().find(|f| f["url"] == u).unwrap().clone();
    assert_eq!(
        by_url(&old)["effective_url"],
        format!("http://{addr}/new.xml")
    );
    assert_eq!(by_url(&old)["items_seen"], 1);
    assert!(by_url(&gone)["disabled"].as_str().unwrap().contains("410"));
    let human = stdout(&cfg.parley_async(&["feeds"]).await);
    assert!(human.contains("moved permanently to"), "{human}");
    assert!(human.contains("DISABLED"), "{human}");

    // The next run polls the new URL directly and leaves the gone feed alone.
    hits.lock().unwrap().clear();
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    assert_eq!(*hits.lock().unwrap(), vec!["/new.xml".to_string()]);
    // The move did not re-ingest the article: one alert only.
    let alerts = json_lines(&cfg.parley_async(&["alerts", "--json"]).await);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
}

#[test]
fn opml_import_extends_an_included_file_and_export_round_trips() {
    // Subscriptions must move in from a reader (without duplicates) and back out.
    let cfg = TestConfig::new(
        "include = [\"watchlists/*.toml\"]\n[[feed]]\nurl = \"https://a.example/rss\"\nname = \"A\"\n",
    );
    cfg.write(
        "subs.opml",
        r#"<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
<outline text="News"><outline text="A again" xmlUrl="https://a.example/rss"/>
<outline text="B &amp; co" title="B &amp; co" xmlUrl="https://b.example/feed?x=1&amp;y=2"/></outline>
</body></opml>"#,
    );
    let opml = cfg.dir.path().join("subs.opml");
    let out = cfg.parley(&["feeds", "import", opml.to_str().unwrap()]);
    assert_ok(&out);
    let printed = stdout(&out);
    assert!(
        printed.contains("added https://b.example/feed?x=1&y=2  B & co"),
        "{printed}"
    );
    assert!(!printed.contains("a.example"), "{printed}");
    assert!(
        cfg.dir
            .path()
            .join("watchlists/feeds-imported.toml")
            .exists()
    );
    let check = cfg.parley(&["check"]);
    assert_ok(&check);
    assert!(stdout(&check).contains("2 feeds"), "{}", stdout(&check));

    let again = cfg.parley(&["feeds", "import", opml.to_str().unwrap()]);
    assert_ok(&again);
    assert!(stdout(&again).contains("nothing to add"));

    let export = cfg.parley(&["feeds", "export"]);
    assert_ok(&export);
    let text = stdout(&export);
    assert!(text.contains("xmlUrl=\"https://a.example/rss\""), "{text}");
    assert!(
        text.contains("xmlUrl=\"https://b.example/feed?x=1&amp;y=2\""),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_concurrency_limits_requests_in_flight_to_one_host() {
    // Publishers hosting many feeds must never see more than per_host_concurrency requests.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let body = feed_with("h1", "Nothing diplomatic today.");
    let app = {
        let (in_flight, most, served) = (in_flight.clone(), most.clone(), served.clone());
        axum::Router::new().fallback(move || {
            let (in_flight, most, served) = (in_flight.clone(), most.clone(), served.clone());
            let body = body.clone();
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // A slow publisher: gives a second request the chance to overlap if the
                // limit were broken (the assertion below does not depend on this time).
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                served.fetch_add(1, Ordering::SeqCst);
                body
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let hook = Receiver::start(0).await;
    let urls: Vec<String> = (0..4).map(|i| format!("http://{addr}/f{i}.xml")).collect();
    let body = config(&urls, &hook.url(), RULE_LEBANON)
        .replace("[daemon]\n", "[daemon]\nper_host_concurrency = 1\n");
    let cfg = TestConfig::new(&body);
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    assert_eq!(served.load(Ordering::SeqCst), 4);
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "one request at a time per host"
    );
}
