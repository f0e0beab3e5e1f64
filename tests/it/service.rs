//! The long-running daemon: SIGHUP reloads through the start-up path, SIGTERM stops cleanly.

use std::process::{Child, Stdio};

use crate::common::*;

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
    let socket = crate::common::notify::NotifySocket::new();
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

/// A feed host for politeness and shutdown tests: every request is recorded and counted
/// while in flight, and held unanswered while `hold` is true.
#[derive(Clone)]
struct GatedHost {
    addr: std::net::SocketAddr,
    arrivals: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    most: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    arrived: std::sync::Arc<tokio::sync::Notify>,
    hold: tokio::sync::watch::Sender<bool>,
}

impl GatedHost {
    async fn start(hold: bool, body: String) -> GatedHost {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = GatedHost {
            addr: listener.local_addr().unwrap(),
            arrivals: Default::default(),
            in_flight: Default::default(),
            most: Default::default(),
            arrived: Default::default(),
            hold: tokio::sync::watch::channel(hold).0,
        };
        let app = {
            let host = host.clone();
            axum::Router::new().fallback(move |uri: axum::http::Uri| {
                let host = host.clone();
                let body = body.clone();
                async move {
                    let now = host.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    host.most.fetch_max(now, Ordering::SeqCst);
                    host.arrivals.lock().unwrap().push(uri.path().to_string());
                    host.arrived.notify_waiters();
                    let mut hold = host.hold.subscribe();
                    let _ = hold.wait_for(|h| !h).await;
                    host.in_flight.fetch_sub(1, Ordering::SeqCst);
                    host.arrived.notify_waiters();
                    body
                }
            })
        };
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        host
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    fn arrivals(&self) -> usize {
        self.arrivals.lock().unwrap().len()
    }
}

/// Collects a child's stderr lines on a thread, so tests can wait for log lines.
#[derive(Clone, Default)]
struct LogLines {
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    arrived: std::sync::Arc<tokio::sync::Notify>,
}

impl LogLines {
    fn follow(child: &mut Child) -> LogLines {
        use std::io::BufRead;
        let log = LogLines::default();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                // Mirrored, so a failing test shows the daemon's log.
                eprintln!("parley: {line}");
                sink.lines.lock().unwrap().push(line);
                sink.arrived.notify_waiters();
            }
        });
        log
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }
}

async fn wait_exit_ok(mut child: Child) {
    signal(&child, "TERM");
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_delay_holds_back_a_second_request_to_the_same_host() {
    // per_host_delay must space requests to one host, without holding back other feeds.
    let a = GatedHost::start(false, feed_with("a1", "Nothing diplomatic today.")).await;
    let hook = Receiver::start(0).await;
    let mut urls: Vec<String> = (0..3).map(|i| a.url(&format!("a{i}.xml"))).collect();
    // A local file has no host: its polls (1 s interval, each logged) are the test's clock.
    let cfg = TestConfig::new("");
    cfg.write("local.xml", &feed_with("l1", "Nothing here either."));
    let local = cfg.dir.path().join("local.xml").display().to_string();
    urls.push(local.clone());
    // An hour between requests to one host, four allowed in flight: only the delay can hold
    // host A's second and third feeds back.
    let body = config(&urls, &hook.url(), RULE_LEBANON).replace(
        "[daemon]\n",
        "[daemon]\nper_host_concurrency = 4\nper_host_delay = \"1h\"\n",
    );
    cfg.write("parley.toml", &body);
    let mut child = parley_cmd(&cfg.path(), &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = LogLines::follow(&mut child);
    // Four polls of the local feed: three intervals passed, far longer than the start-up
    // jitter (at most 1 s) that spreads host A's first polls.
    let polled = format!("Feed polled. feed=file://{local} ");
    wait_for(&log.arrived, "the local feed polled four times", || {
        log.count(&polled) >= 4
    })
    .await;
    assert_eq!(
        a.arrivals(),
        1,
        "a second request to host A did not wait for per_host_delay: {:?}",
        a.arrivals.lock().unwrap()
    );
    // Pollers waiting out the delay stop at once on SIGTERM.
    wait_exit_ok(child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_concurrency_caps_requests_in_flight_while_other_hosts_proceed() {
    // At most per_host_concurrency requests to one host, counted at the server, not timed.
    use std::sync::atomic::Ordering;
    let a = GatedHost::start(true, feed_with("a1", "Nothing diplomatic today.")).await;
    let b = FeedServer::start().await;
    b.set(
        "b.xml",
        Route::Feed {
            body: feed_with("b1", "Nothing here either."),
            etag: "\"b\"".into(),
        },
    );
    let hook = Receiver::start(0).await;
    let mut urls: Vec<String> = (0..5).map(|i| a.url(&format!("a{i}.xml"))).collect();
    urls.push(b.url("b.xml"));
    let body = config(&urls, &hook.url(), RULE_LEBANON)
        .replace("[daemon]\n", "[daemon]\nper_host_concurrency = 2\n");
    let cfg = TestConfig::new(&body);
    let child = parley_cmd(&cfg.path(), &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Host A holds every request; host B keeps being polled (its slots are its own) and
    // serves as the clock while A's other three feeds wait.
    wait_for(&a.arrived, "two requests held by host A", || {
        a.arrivals() >= 2
    })
    .await;
    wait_for(&b.arrived, "host B polled three times", || {
        b.requests_for("b.xml").len() >= 3
    })
    .await;
    assert_eq!(a.arrivals(), 2, "more than two requests reached host A");
    assert_eq!(a.in_flight.load(Ordering::SeqCst), 2);
    // Released, host A serves the rest, still never more than two at once.
    a.hold.send_replace(false);
    let paths: std::collections::BTreeSet<String> = (0..5).map(|i| format!("/a{i}.xml")).collect();
    wait_for(&a.arrived, "every feed of host A served", || {
        let seen: std::collections::BTreeSet<String> =
            a.arrivals.lock().unwrap().iter().cloned().collect();
        seen == paths
    })
    .await;
    assert_eq!(a.most.load(Ordering::SeqCst), 2);
    wait_exit_ok(child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_503_during_a_real_shutdown_held_by_a_slow_notification() {
    // Probes must see "not ready" for the whole stop, which the in-flight notification holds up.
    use std::sync::{Arc, Mutex};
    let feeds = FeedServer::start().await;
    feeds.set(
        "a.xml",
        Route::Feed {
            body: feed_with("a1", "Antony Blinken met Najib Mikati in Beirut."),
            etag: "\"a\"".into(),
        },
    );
    // A receiver that holds every POST until the test releases it.
    let posts: Arc<Mutex<Vec<String>>> = Arc::default();
    let posted = Arc::new(tokio::sync::Notify::new());
    let (release, released) = tokio::sync::watch::channel(false);
    let app = {
        let (posts, posted) = (posts.clone(), posted.clone());
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let (posts, posted, mut released) =
                    (posts.clone(), posted.clone(), released.clone());
                async move {
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    posts.lock().unwrap().push(key);
                    posted.notify_waiters();
                    let _ = released.wait_for(|r| *r).await;
                    "ok"
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cfg = TestConfig::new(&config(&[feeds.url("a.xml")], &hook, RULE_LEBANON));
    let socket = crate::common::notify::NotifySocket::new();
    let mut child = parley_cmd(&cfg.path(), &["run"])
        .env("NOTIFY_SOCKET", &socket.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("READY=1");
        socket
    })
    .await
    .unwrap();
    let addr = std::fs::read_to_string(cfg.state().join("api.addr")).unwrap();
    let base = format!("http://{}", addr.trim());
    let readyz = || async {
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(readyz().await, 200, "ready after READY=1");

    wait_for(&posted, "the alert's POST, held by the receiver", || {
        !posts.lock().unwrap().is_empty()
    })
    .await;
    signal(&child, "TERM");
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("STOPPING=1");
        socket
    })
    .await
    .unwrap();
    // The daemon is still up (the notification holds the stop), and says it is not ready.
    assert_eq!(readyz().await, 503, "not ready while stopping");
    let livez = reqwest::get(format!("{base}/livez")).await.unwrap();
    assert_eq!(livez.status(), 200, "alive while stopping");
    assert!(child.try_wait().unwrap().is_none());

    release.send_replace(true);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
    drop(socket);

    // The held notification finished and was recorded: a restart does not send it again.
    let delivered = json_lines(
        &cfg.parley_async(&["events", "--kind", "notification.delivered", "--json"])
            .await,
    );
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    assert_eq!(posts.lock().unwrap().len(), 1, "notified twice");
}

/// Stops one thread of a child process with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT: no
/// signal, the other threads run on), the way a write stuck in the kernel stops it; dropping
/// the returned sender detaches and lets it run again. ptrace requests must come from the
/// tracing thread, so a dedicated thread does all of them.
fn freeze_thread(tid: i32) -> std::sync::mpsc::Sender<()> {
    let (frozen_tx, frozen_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        // SAFETY: plain ptrace/waitpid calls on a thread id of our own child process.
        unsafe {
            let seized = libc::ptrace(libc::PTRACE_SEIZE, tid, 0, 0) == 0;
            let stopped = seized && libc::ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0) == 0 && {
                let mut status = 0;
                libc::waitpid(tid, &mut status, libc::__WALL) == tid
            };
            frozen_tx
                .send(stopped.then_some(()).ok_or(std::io::Error::last_os_error()))
                .unwrap();
            let _ = release_rx.recv();
            if seized {
                libc::ptrace(libc::PTRACE_DETACH, tid, 0, 0);
            }
        }
    });
    frozen_rx
        .recv()
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot freeze thread {tid} with ptrace: {e}"));
    release_tx
}

/// Freezes thread `tid` of process `pid` at a moment it is parked waiting for work (in a
/// futex wait). Stopped anywhere else it might hold a lock of sled's that other threads
/// take, and the whole process would stop with it: this test is about the appender alone
/// hanging, as it would in a write or fsync the kernel never completes.
fn freeze_idle_thread(pid: u32, tid: i32) -> std::sync::mpsc::Sender<()> {
    let syscall = format!("/proc/{pid}/task/{tid}/syscall");
    let futex = libc::SYS_futex.to_string();
    for _ in 0..100_000 {
        let now = std::fs::read_to_string(&syscall).unwrap_or_default();
        if now.split_whitespace().next() == Some(futex.as_str()) {
            return freeze_thread(tid);
        }
        std::thread::yield_now();
    }
    panic!("thread {tid} was never idle");
}

/// The id of the child's thread called `name`.
fn thread_id(child: &Child, name: &str) -> i32 {
    let tasks = format!("/proc/{}/task", child.id());
    for entry in std::fs::read_dir(&tasks).unwrap() {
        let entry = entry.unwrap();
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            return entry.file_name().to_string_lossy().parse().unwrap();
        }
    }
    panic!("no thread {name} in {tasks}");
}

/// Watchdog pings received since the last call, without waiting.
fn drain_pings(socket: &crate::common::notify::NotifySocket) -> usize {
    socket
        .drain()
        .iter()
        .filter(|l| l.as_str() == "WATCHDOG=1")
        .count()
}

/// Waits until `more` further watchdog rounds have failed (each logs so), draining the
/// socket meanwhile (a full datagram queue would block the daemon's sends), and returns
/// the pings received. Counting rounds, not time: every round either pings or logs a
/// failure, and a round's ping is in the socket before the next round's failure is logged,
/// so the log is read before the socket.
async fn failed_rounds(
    log: &LogLines,
    socket: &crate::common::notify::NotifySocket,
    more: usize,
) -> usize {
    const FAILED: &str = "Watchdog round failed";
    let target = log.count(FAILED) + more;
    let mut pings = 0;
    wait_for(&log.arrived, "failed watchdog rounds", || {
        let done = log.count(FAILED) >= target;
        pings += drain_pings(socket);
        done
    })
    .await;
    pings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchdog_stops_pinging_while_the_appender_is_frozen() {
    // A plain timer would keep pinging; ours must stop when the store's single writer hangs.
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
    let socket = crate::common::notify::NotifySocket::new();
    let mut child = parley_cmd(&cfg.path(), &["run"])
        .env("NOTIFY_SOCKET", &socket.path)
        .env("WATCHDOG_USEC", "1000000")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = LogLines::follow(&mut child);
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("WATCHDOG=1");
        socket
    })
    .await
    .unwrap();
    wait_for(&hook.arrived, "the first alert delivered", || {
        !hook.accepted().is_empty()
    })
    .await;

    // Freeze right after a ping: the round's flush is over, the relay and ingest have
    // nothing left to append, so the appender is parked waiting for work.
    let (pid, tid) = (child.id(), thread_id(&child, "parley-appender"));
    let (socket, release) = tokio::task::spawn_blocking(move || {
        socket.drain();
        socket.wait_for("WATCHDOG=1");
        let release = freeze_idle_thread(pid, tid);
        (socket, release)
    })
    .await
    .unwrap();
    // A round that passed the appender before the freeze may still ping: skip one round.
    failed_rounds(&log, &socket, 1).await;
    let pings = failed_rounds(&log, &socket, 3).await;
    assert_eq!(
        pings, 0,
        "the watchdog pinged while the appender was frozen"
    );
    // Only the appender hangs: the runtime (API, signals) does not block on it.
    let addr = std::fs::read_to_string(cfg.state().join("api.addr")).unwrap();
    let livez = reqwest::get(format!("http://{}/livez", addr.trim()))
        .await
        .unwrap();
    assert_eq!(livez.status(), 200);

    // Thawed, the appender answers again and so do the pings.
    drop(release);
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("WATCHDOG=1");
        socket
    })
    .await
    .unwrap();
    wait_exit_ok(child).await;
    drop(socket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchdog_stops_pinging_while_the_poll_scheduler_admits_nothing() {
    // With every poll slot held by a request that outlives the watchdog period, the
    // scheduler admits no work: pings must stop (ingest and the appender are fine).
    let a = GatedHost::start(false, feed_with("a1", "Nothing diplomatic today.")).await;
    let hook = Receiver::start(0).await;
    let urls = vec![a.url("a0.xml"), a.url("a1.xml")];
    // One poll slot, and a request timeout far beyond the watchdog period.
    let body = config(&urls, &hook.url(), RULE_LEBANON).replace(
        "[daemon]\n",
        "[daemon]\nconcurrency = 1\nrequest_timeout = \"1h\"\n",
    );
    let cfg = TestConfig::new(&body);
    let socket = crate::common::notify::NotifySocket::new();
    let mut child = parley_cmd(&cfg.path(), &["run"])
        .env("NOTIFY_SOCKET", &socket.path)
        .env("WATCHDOG_USEC", "1000000")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = LogLines::follow(&mut child);
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("WATCHDOG=1");
        socket
    })
    .await
    .unwrap();

    // The host stops answering: the next poll holds the only slot.
    drain_pings(&socket);
    a.hold.send_replace(true);
    let before = a.arrivals();
    wait_for(&a.arrived, "a request held by the host", || {
        a.arrivals() > before
    })
    .await;
    failed_rounds(&log, &socket, 1).await;
    let pings = failed_rounds(&log, &socket, 3).await;
    assert_eq!(pings, 0, "the watchdog pinged while no poll could start");

    // The host answers again: the slot frees up and the pings come back.
    a.hold.send_replace(false);
    let socket = tokio::task::spawn_blocking(move || {
        socket.wait_for("WATCHDOG=1");
        socket
    })
    .await
    .unwrap();
    wait_exit_ok(child).await;
    drop(socket);
}
