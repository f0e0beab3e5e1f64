//! End to end through the real binary: feeds served over HTTP on 127.0.0.1, the real sled
//! store, and a real webhook receiver.

use crate::common::*;
use std::collections::BTreeSet;

/// A config that uses the shipped watchlists and sends the shipped rules' `console`
/// notifications to the test's webhook receiver instead.
fn config_for(feeds: &[(&str, &str)], hook: &str, extra: &str) -> String {
    let mut out = format!(
        "include = [{:?}]\n[daemon]\nstate_dir = \"state\"\npoll_interval = \"1m\"\nrequest_timeout = \"5s\"\n\n",
        shipped_watchlists()
    );
    for (url, name) in feeds {
        out.push_str(&format!("[[feed]]\nurl = {url:?}\nname = {name:?}\n\n"));
    }
    out.push_str(&format!(
        "[[notifier]]\nid = \"console\"\ntype = \"webhook\"\nurl = {hook:?}\nretry_initial = \"50ms\"\nretry_max = \"200ms\"\nmax_attempts = 4\n{extra}\n"
    ));
    out
}

fn alert_set(hooks: &[Hook]) -> BTreeSet<(String, String, String)> {
    hooks
        .iter()
        .map(|h| {
            let actors: Vec<String> = h.body["actors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            (
                h.body["rule"].as_str().unwrap().to_string(),
                h.body["scope"].as_str().unwrap().to_string(),
                actors.join("+"),
            )
        })
        .collect()
}

fn seed_feed(body: &str, date: &str) -> String {
    // RFC 2822 date for the seed's publication day.
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let when = d.and_hms_opt(9, 0, 0).unwrap().and_utc().to_rfc2822();
    rss(
        "Seed desk",
        &[Item {
            guid: "seed-1",
            title: "Blinken meets Arab ministers in Amman",
            body,
            date: &when,
        }],
    )
}

/// The seed story served as one feed item, a webhook receiver refusing its first
/// `fail_first` POSTs, and a config polling the one and notifying the other.
async fn seed_setup(fail_first: usize) -> Seed {
    let (body, date) = seed_body_and_date();
    let feeds = FeedServer::start().await;
    feeds.set(
        "seed.xml",
        Route::Feed {
            body: seed_feed(&body, &date),
            etag: "\"v1\"".into(),
        },
    );
    let hook = Receiver::start(fail_first).await;
    let cfg = TestConfig::new(&config_for(
        &[(&feeds.url("seed.xml"), "Seed desk")],
        &hook.url(),
        "",
    ));
    Seed {
        feeds,
        hook,
        cfg,
        body,
        date,
    }
}

/// What [`seed_setup`] starts.
struct Seed {
    feeds: FeedServer,
    hook: Receiver,
    cfg: TestConfig,
    body: String,
    date: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_story_raises_the_right_alerts_and_only_those() {
    // The spine's definition of done: the seed story over HTTP raises exactly the expected alerts.
    let Seed { hook, cfg, .. } = seed_setup(0).await;

    let out = cfg.parley_async(&["run", "--once"]).await;
    assert_ok(&out);
    let got = alert_set(&hook.accepted());
    let expected: BTreeSet<(String, String, String)> = [
        // "…mission extended to Lebanon's caretaker prime minister, Najib Mikati, and Qatar's
        // foreign minister": one sentence, so Blinken + Mikati at sentence scope…
        ("blinken-meets-lebanon", "sentence", "blinken+mikati"),
        // …and Blinken + Qatar's foreign minister (a role alias, valid in 2023), typed consult;
        // the sample's retelling (used without ../shared) has Blinken meet Safadi and Shoukry
        // in one sentence instead (config/samples/README.md, alert 2).
        if seed_article_original().is_some() {
            ("blinken-arab-fms", "sentence", "blinken+mohammed-al-thani")
        } else {
            ("blinken-arab-fms", "sentence", "blinken+safadi+shoukry")
        },
        // Netanyahu is only in the Tel Aviv sentence, which names Blinken as "he".
        ("blinken-israel", "article", "blinken+netanyahu"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    // Netanyahu and Mikati never share a sentence: no netanyahu-mikati alert.
    assert_eq!(got, expected);
    // Every delivery carries its alert id as the Idempotency-Key, and each alert arrives once.
    let keys: Vec<_> = hook
        .accepted()
        .iter()
        .map(|h| h.idempotency_key.clone().unwrap())
        .collect();
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(keys.len(), unique.len());
    for h in hook.accepted() {
        assert_eq!(h.idempotency_key.as_deref(), h.body["alert_id"].as_str());
        let ev = &h.body["evidence"][0];
        assert_eq!(ev["feed"], "Seed desk");
        assert!(ev["sentence"].as_str().unwrap().len() > 10);
    }
    // The summary line is printed and counts the alerts.
    assert!(stdout(&out).contains("alerts:"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_once_appends_nothing_and_notifies_nobody() {
    // Idempotency across runs: a re-poll (304 or the same items) must not duplicate anything.
    let Seed {
        feeds,
        hook,
        cfg,
        body,
        date,
    } = seed_setup(0).await;
    // A second feed without validators support would refetch; use a changing ETag to force a 200.
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let before = json_lines(&cfg.parley_async(&["events", "--json"]).await);
    let delivered = hook.all().len();
    assert!(delivered > 0);

    // Same content, new ETag: fetched again (200), but every article is already in the log.
    feeds.set(
        "seed.xml",
        Route::Feed {
            body: seed_feed(&body, &date),
            etag: "\"v2\"".into(),
        },
    );
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    // Unchanged ETag: the conditional GET is answered 304.
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let after = json_lines(&cfg.parley_async(&["events", "--json"]).await);
    assert_eq!(before, after, "a re-poll appended events");
    assert_eq!(hook.all().len(), delivered, "a re-poll notified again");
    let seen = feeds.requests_for("seed.xml");
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], None);
    assert_eq!(seen[1].as_deref(), Some("\"v1\""));
    assert_eq!(seen[2].as_deref(), Some("\"v2\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_feeds_do_not_stop_the_others() {
    // One bad feed never stops the others, and a failing feed does not fail `--once`.
    let (body, date) = seed_body_and_date();
    let feeds = FeedServer::start().await;
    feeds.set(
        "good.xml",
        Route::Feed {
            body: seed_feed(&body, &date),
            etag: "\"g\"".into(),
        },
    );
    feeds.set(
        "busy.xml",
        Route::Status {
            code: 429,
            retry_after: Some("120".into()),
        },
    );
    feeds.set(
        "broken.xml",
        Route::Status {
            code: 500,
            retry_after: None,
        },
    );
    feeds.set(
        "html.xml",
        Route::Feed {
            body: "<html><body>not a feed</body></html>".into(),
            etag: "\"h\"".into(),
        },
    );
    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config_for(
        &[
            (&feeds.url("busy.xml"), "Busy"),
            (&feeds.url("broken.xml"), "Broken"),
            (&feeds.url("html.xml"), "Html"),
            (&feeds.url("good.xml"), "Good"),
        ],
        &hook.url(),
        "",
    ));
    let out = cfg.parley_async(&["run", "--once"]).await;
    assert_ok(&out);
    let summary = stdout(&out);
    assert!(summary.contains("1 ok"), "{summary}");
    assert!(summary.contains("3 failed"), "{summary}");
    assert!(
        !hook.accepted().is_empty(),
        "the good feed's alerts were not delivered"
    );
    let log = stderr(&out);
    assert!(log.contains("429"), "{log}");
    assert!(log.contains("500"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_outage_is_retried_and_every_attempt_recorded() {
    // The outbox relay retries a refusing receiver and records each attempt as an event.
    let Seed { hook, cfg, .. } = seed_setup(2).await;
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let alerts = json_lines(&cfg.parley_async(&["alerts", "--json"]).await);
    assert!(!alerts.is_empty());
    let accepted: BTreeSet<String> = hook
        .accepted()
        .iter()
        .map(|h| h.idempotency_key.clone().unwrap())
        .collect();
    let raised: BTreeSet<String> = alerts
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        accepted, raised,
        "every alert is delivered once the receiver recovers"
    );
    let failed = json_lines(
        &cfg.parley_async(&["events", "--kind", "notification.failed", "--json"])
            .await,
    );
    assert_eq!(failed.len(), 2, "two refused attempts are two events");
    assert!(failed.iter().all(|f| f["payload"]["final"] == false));
    let delivered = json_lines(
        &cfg.parley_async(&["events", "--kind", "notification.delivered", "--json"])
            .await,
    );
    assert_eq!(delivered.len(), raised.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_items_on_a_changed_feed_are_picked_up() {
    // Changing content: the next poll ingests only the new item and alerts on it.
    let feeds = FeedServer::start().await;
    let first = rss(
        "Desk",
        &[Item {
            guid: "a",
            title: "Quiet day",
            body: "Markets were calm.",
            date: "Mon, 13 Nov 2023 08:00:00 +0000",
        }],
    );
    feeds.set(
        "desk.xml",
        Route::Feed {
            body: first,
            etag: "\"1\"".into(),
        },
    );
    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config_for(
        &[(&feeds.url("desk.xml"), "Desk")],
        &hook.url(),
        "",
    ));
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    assert!(hook.all().is_empty());

    let second = rss(
        "Desk",
        &[
            Item {
                guid: "b",
                title: "Talks in Beirut",
                body: "Antony Blinken met Najib Mikati in Beirut on Monday to discuss the border.",
                date: "Mon, 13 Nov 2023 12:00:00 +0000",
            },
            Item {
                guid: "a",
                title: "Quiet day",
                body: "Markets were calm.",
                date: "Mon, 13 Nov 2023 08:00:00 +0000",
            },
        ],
    );
    feeds.set(
        "desk.xml",
        Route::Feed {
            body: second,
            etag: "\"2\"".into(),
        },
    );
    let out = cfg.parley_async(&["run", "--once"]).await;
    assert_ok(&out);
    assert!(
        stdout(&out).contains("1 new, 1 already seen"),
        "{}",
        stdout(&out)
    );
    let got = alert_set(&hook.accepted());
    assert!(
        got.contains(&(
            "blinken-meets-lebanon".into(),
            "sentence".into(),
            "blinken+mikati".into()
        )),
        "{got:?}"
    );
    let articles = json_lines(
        &cfg.parley_async(&["events", "--kind", "article.ingested", "--json"])
            .await,
    );
    assert_eq!(articles.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldown_silences_a_repeat_for_the_same_actor_set() {
    // A second story about the same pair inside the cooldown raises no second alert.
    let feeds = FeedServer::start().await;
    let body = rss(
        "Desk",
        &[
            Item {
                guid: "x1",
                title: "Blinken and Mikati meet",
                body: "Antony Blinken met Najib Mikati in Beirut.",
                date: "Mon, 13 Nov 2023 12:00:00 +0000",
            },
            Item {
                guid: "x2",
                title: "Second report",
                body: "Blinken held talks with Mikati on the border.",
                date: "Mon, 13 Nov 2023 13:00:00 +0000",
            },
        ],
    );
    feeds.set(
        "desk.xml",
        Route::Feed {
            body,
            etag: "\"1\"".into(),
        },
    );
    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config_for(
        &[(&feeds.url("desk.xml"), "Desk")],
        &hook.url(),
        "",
    ));
    let out = cfg.parley_async(&["run", "--once"]).await;
    assert_ok(&out);
    let lebanon: Vec<_> = hook
        .accepted()
        .into_iter()
        .filter(|h| h.body["rule"] == "blinken-meets-lebanon")
        .collect();
    assert_eq!(lebanon.len(), 1, "{:?}", hook.accepted());
    assert!(
        stdout(&out).contains("1 in cooldown") || stdout(&out).contains("in cooldown"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_rebuilds_without_notifying() {
    // A replay never calls a notifier, and the rebuilt outbox does not re-send anything.
    let Seed { hook, cfg, .. } = seed_setup(0).await;
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let delivered = hook.all().len();
    let out = cfg.parley_async(&["replay"]).await;
    assert_ok(&out);
    assert!(stdout(&out).contains("replayed"), "{}", stdout(&out));
    assert_eq!(hook.all().len(), delivered);
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    assert_eq!(
        hook.all().len(),
        delivered,
        "replay resurrected delivered notifications"
    );
}
