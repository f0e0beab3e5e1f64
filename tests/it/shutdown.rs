//! Graceful stop under load, against the real binary: SIGTERM while thirty feeds of a
//! hundred items each are being ingested and their alerts delivered must exit 0 before the
//! stop deadline, and a restart must end with every article ingested exactly once, a
//! gap-free log, and every alert notified exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use crate::common::*;
use parley::events::Event;
use parley::store::Store;

const FEEDS: usize = 30;
const ITEMS: usize = 100;
/// One item in this many names two tracked actors (and so raises one alert).
const ALERT_EVERY: usize = 5;

const ACTORS: [(&str, &str); 4] = [
    ("ana", "Ana Varga"),
    ("bo", "Bo Lindqvist"),
    ("chen", "Chen Wei"),
    ("dara", "Dara Okafor"),
];

fn guid(feed: usize, item: usize) -> String {
    format!("f{feed}-item-{item}")
}

fn feed(feed: usize) -> String {
    let items: Vec<(String, String, String)> = (0..ITEMS)
        .map(|i| {
            let body = if i % ALERT_EVERY == 0 {
                let a = ACTORS[(feed + i) % ACTORS.len()].1;
                let b = ACTORS[(feed + i + 1) % ACTORS.len()].1;
                format!(
                    "{a} met {b} in Vienna on day {i} of desk {feed} to discuss the grain corridor."
                )
            } else {
                format!(
                    "Markets in region {feed} were calm on day {i}; traders expected little change."
                )
            };
            (guid(feed, i), format!("Report {feed}/{i}"), body)
        })
        .collect();
    rss_generated(
        &format!("Desk {feed}"),
        &items,
        "Tue, 14 Nov 2023 10:00:00 +0000",
    )
}

fn config(feeds: &FeedServer, hook: &str) -> String {
    // A long interval: every feed is polled once (spread over the first ten seconds by the
    // start-up jitter), so the stop lands while feeds are still arriving.
    let mut out = String::from(
        "[daemon]\nstate_dir = \"state\"\npoll_interval = \"1h\"\n[api]\nlisten = \"127.0.0.1:0\"\n",
    );
    for f in 0..FEEDS {
        out.push_str(&format!(
            "[[feed]]\nurl = {:?}\nname = \"Desk {f}\"\n",
            feeds.url(&format!("f{f}.xml"))
        ));
    }
    for (id, name) in ACTORS {
        out.push_str(&format!(
            "[[actor]]\nid = {id:?}\nname = {name:?}\naliases = [{name:?}]\n"
        ));
    }
    let slots: Vec<String> = ACTORS.iter().map(|(id, _)| format!("{id:?}")).collect();
    out.push_str(&format!(
        "[[rule]]\nid = \"pairs\"\nactors = [{}]\nmin_actors = 2\nnotify = [\"hook\"]\n",
        slots.join(", ")
    ));
    out.push_str(&format!(
        "[[notifier]]\nid = \"hook\"\ntype = \"webhook\"\nurl = {hook:?}\nretry_initial = \"50ms\"\nretry_max = \"100ms\"\n"
    ));
    out
}

/// What the log holds, read after the daemon has exited; asserts the seqs are gap-free and
/// the event ids unique on the way.
struct LogSummary {
    /// article id -> how many `article.ingested` events it has.
    ingested: BTreeMap<String, usize>,
    /// guids of the ingested articles.
    guids: BTreeSet<String>,
    raised: BTreeSet<String>,
    /// alert id -> `notification.delivered` events.
    delivered: BTreeMap<String, usize>,
    pending: usize,
}

async fn read_log(state: &std::path::Path) -> LogSummary {
    let store = Store::open(state).expect("the store reopens after a graceful stop");
    let mut summary = LogSummary {
        ingested: BTreeMap::new(),
        guids: BTreeSet::new(),
        raised: BTreeSet::new(),
        delivered: BTreeMap::new(),
        pending: 0,
    };
    let mut expected = 1u64;
    let mut ids = BTreeSet::new();
    for env in store.iter_from(1) {
        let env = env.expect("every stored event decodes");
        assert_eq!(env.seq, expected, "the log's seqs have a gap");
        expected += 1;
        assert!(ids.insert(env.event_id.clone()), "event id appears twice");
        match env.event {
            Event::ArticleIngested(a) => {
                *summary.ingested.entry(a.article_id).or_default() += 1;
                if let Some(g) = a.guid {
                    summary.guids.insert(g);
                }
            }
            Event::AlertRaised(a) => {
                summary.raised.insert(a.alert_id);
            }
            Event::NotificationDelivered(n) => {
                *summary.delivered.entry(n.alert_id).or_default() += 1;
            }
            _ => {}
        }
    }
    assert_eq!(store.last_seq().unwrap(), expected - 1);
    summary.pending = store.outbox_pending().unwrap().len();
    store.shutdown().await.unwrap();
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_cleanly_and_a_restart_loses_and_repeats_nothing() {
    // The proof: a stop in the middle of heavy ingest loses nothing and notifies nothing twice.
    let feeds = FeedServer::start().await;
    for f in 0..FEEDS {
        feeds.set(
            &format!("f{f}.xml"),
            Route::Feed {
                body: feed(f),
                etag: format!("\"f{f}\""),
            },
        );
    }
    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config(&feeds, &hook.url()));

    let mut child = parley_cmd(&cfg.path(), &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let stderr = child.stderr.take().unwrap();
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line);
            }
        })
    };

    // Stop once ingest and delivery are both under way.
    wait_for(&hook.arrived, "the first deliveries", || {
        hook.accepted().len() >= 20
    })
    .await;
    wait_for(&feeds.arrived, "several feeds requested", || {
        feeds.requests.lock().unwrap().len() >= 5
    })
    .await;
    let requested_at_stop = feeds.requests.lock().unwrap().len();
    let delivered_at_stop = hook.accepted().len();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    reader.join().unwrap();
    let log = log.lock().unwrap().join("\n");
    assert!(
        status.success(),
        "SIGTERM must exit 0, got {status:?}\n{log}"
    );
    // Within the stop deadline: nothing was abandoned or cut short.
    for giving_up in [
        "abandoning them",
        "did not close in time",
        "did not stop in time",
    ] {
        assert!(!log.contains(giving_up), "{giving_up}:\n{log}");
    }
    let stopped = read_log(&cfg.state()).await;
    println!(
        "at SIGTERM: {requested_at_stop}/{FEEDS} feeds requested, {delivered_at_stop} delivered; \
         after the stop: {} articles, {} alerts, {} delivered, {} pending",
        stopped.ingested.len(),
        stopped.raised.len(),
        stopped.delivered.len(),
        stopped.pending
    );

    // The restart picks up what the stop left: feeds not yet ingested, the outbox.
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let done = read_log(&cfg.state()).await;
    let expected_guids: BTreeSet<String> = (0..FEEDS)
        .flat_map(|f| (0..ITEMS).map(move |i| guid(f, i)))
        .collect();
    assert_eq!(done.guids, expected_guids, "every article is ingested");
    assert_eq!(done.ingested.len(), FEEDS * ITEMS);
    assert!(
        done.ingested.values().all(|&n| n == 1),
        "an article was ingested twice"
    );
    assert_eq!(
        done.raised.len(),
        FEEDS * ITEMS / ALERT_EVERY,
        "one alert per pair item"
    );
    assert_eq!(done.pending, 0, "the outbox is drained");
    assert!(
        done.delivered.values().all(|&n| n == 1),
        "a delivery was recorded twice"
    );
    let accepted = hook.accepted();
    let mut per_alert: BTreeMap<String, usize> = BTreeMap::new();
    for h in &accepted {
        *per_alert
            .entry(h.idempotency_key.clone().expect("Idempotency-Key"))
            .or_default() += 1;
    }
    let twice: Vec<_> = per_alert.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "notified more than once: {twice:?}");
    let received: BTreeSet<String> = per_alert.into_keys().collect();
    assert_eq!(received, done.raised, "every alert reached the receiver");
}
