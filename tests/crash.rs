//! Crash recovery in the style of sled's own harness: a child `parley run --once` is killed
//! with SIGKILL at random points while it ingests many items and delivers their alerts; the
//! parent reopens the store after each kill and checks the log's invariants, then lets a final
//! run finish and checks that every alert was delivered, repeated only when in flight.
//!
//! `PARLEY_CRASH_ITERATIONS` (default 4) and `PARLEY_CRASH_ITEMS` (default 300) scale it up
//! when run by hand; `PARLEY_CRASH_SEED` replays a failing run.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::*;
use parley::events::Event;
use parley::store::Store;

const ACTORS: [(&str, &str); 6] = [
    ("ana", "Ana Varga"),
    ("bo", "Bo Lindqvist"),
    ("chen", "Chen Wei"),
    ("dara", "Dara Okafor"),
    ("emil", "Emil Novak"),
    ("farah", "Farah Haddad"),
];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn feed(items: usize) -> String {
    let bodies: Vec<(String, String, String)> = (0..items)
        .map(|i| {
            let a = ACTORS[i % ACTORS.len()].1;
            let b = ACTORS[(i / ACTORS.len() + i + 1) % ACTORS.len()].1;
            let b = if a == b { ACTORS[(i + 2) % ACTORS.len()].1 } else { b };
            (
                format!("item-{i}"),
                format!("Report {i}"),
                format!("{a} met {b} in Vienna on day {i} to discuss the grain corridor. Officials said the talks would continue."),
            )
        })
        .collect();
    let items: Vec<Item<'_>> = bodies
        .iter()
        .map(|(g, t, b)| Item {
            guid: g,
            title: t,
            body: b,
            date: "Tue, 14 Nov 2023 10:00:00 +0000",
        })
        .collect();
    rss("Crash desk", &items)
}

fn config(hook: &str) -> String {
    let mut out = String::from(
        "[daemon]\nstate_dir = \"state\"\n[[feed]]\nurl = \"feed.xml\"\nname = \"Crash desk\"\n",
    );
    for (id, name) in ACTORS {
        out.push_str(&format!(
            "[[actor]]\nid = {id:?}\nname = {name:?}\naliases = [{name:?}]\n"
        ));
    }
    let members: Vec<String> = ACTORS.iter().map(|(id, _)| format!("{id:?}")).collect();
    out.push_str(&format!(
        "[[group]]\nid = \"all\"\nmembers = [{}]\n",
        members.join(", ")
    ));
    // One slot per actor with min_actors 2: any pair in a sentence raises an alert.
    let slots: Vec<String> = ACTORS.iter().map(|(id, _)| format!("{id:?}")).collect();
    out.push_str(&format!(
        "[[rule]]\nid = \"pairs\"\nactors = [{}]\nmin_actors = 2\nscope = \"sentence\"\nnotify = [\"hook\"]\n",
        slots.join(", ")
    ));
    out.push_str(&format!(
        "[[notifier]]\nid = \"hook\"\ntype = \"webhook\"\nurl = {hook:?}\nretry_initial = \"50ms\"\nretry_max = \"100ms\"\n"
    ));
    out
}

/// Reopens the store and checks what must hold after any crash.
async fn check_invariants(state: &std::path::Path) -> (usize, usize) {
    let store = Store::open(state).expect("store reopens after SIGKILL");
    let mut expected = 1u64;
    let mut ids = BTreeSet::new();
    let mut alerts = BTreeSet::new();
    let mut done = BTreeSet::new();
    for env in store.iter_from(1) {
        let env = env.expect("every stored event decodes");
        assert_eq!(env.seq, expected, "sequence has a gap or is out of order");
        expected += 1;
        assert!(
            ids.insert(env.event_id.clone()),
            "event id {} appears twice",
            env.event_id
        );
        match env.event {
            Event::AlertRaised(a) => {
                alerts.insert(a.alert_id);
            }
            Event::NotificationDelivered(n) => {
                done.insert(n.alert_id);
            }
            Event::NotificationFailed(n) if n.gave_up => {
                done.insert(n.alert_id);
            }
            _ => {}
        }
    }
    assert_eq!(store.last_seq().unwrap(), expected - 1);
    let pending: BTreeSet<String> = store
        .outbox_pending()
        .unwrap()
        .into_iter()
        .map(|e| e.alert_id)
        .collect();
    for alert in &alerts {
        assert!(
            pending.contains(alert) || done.contains(alert),
            "alert {alert} has neither an outbox entry nor a recorded outcome"
        );
    }
    store.shutdown().await.unwrap();
    (alerts.len(), done.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing() {
    // The log's invariants survive SIGKILL anywhere; delivery is at-least-once, exactly-once when not in flight.
    let iterations = env_or("PARLEY_CRASH_ITERATIONS", 4);
    let items = env_or("PARLEY_CRASH_ITEMS", 300) as usize;
    let seed = env_or("PARLEY_CRASH_SEED", fastrand::u64(..));
    println!("crash test: seed {seed}, {iterations} iterations, {items} items");
    let mut rng = fastrand::Rng::with_seed(seed);

    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config(&hook.url()));

    let mut kills = 0u64;
    let mut previous = 0usize;
    for iteration in 0..iterations {
        // The feed grows every iteration, so every run has new items to ingest and deliver.
        let served = items * (iteration as usize + 1) / iterations.max(1) as usize;
        cfg.write("feed.xml", &feed(served));
        // Kill points: after a random number of log lines (lands between appends and
        // deliveries) or after a random delay (lands anywhere, e.g. inside the appender's
        // batches). The delay is the fault injection itself, not a wait for anything.
        let by_lines = rng.bool();
        // About three debug lines per new item (raised, delivered, appends).
        let kill_after_lines = rng.usize(1..=(served - previous).max(1) * 3);
        previous = served;
        let kill_after_ms = rng.u64(50..1500);
        let path = cfg.path();
        let killed = tokio::task::spawn_blocking(move || {
            let mut child = parley_cmd(&path, &["run", "--once"])
                .env("RUST_LOG", "parley=debug")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stderr = child.stderr.take().unwrap();
            let mut killed = false;
            if by_lines {
                let mut lines = 0usize;
                for line in BufReader::new(stderr).lines() {
                    if line.is_err() {
                        break;
                    }
                    lines += 1;
                    if lines == kill_after_lines {
                        killed = child.kill().is_ok();
                        break;
                    }
                }
            } else {
                let reader = std::thread::spawn(move || BufReader::new(stderr).lines().count());
                std::thread::sleep(std::time::Duration::from_millis(kill_after_ms));
                killed = child.try_wait().unwrap().is_none() && child.kill().is_ok();
                let _ = reader.join();
            }
            child.wait().unwrap();
            killed
        })
        .await
        .unwrap();
        if killed {
            kills += 1;
        }
        let (alerts, done) = check_invariants(&cfg.state()).await;
        let point = if by_lines {
            format!("{kill_after_lines} lines")
        } else {
            format!("{kill_after_ms} ms")
        };
        println!(
            "iteration {iteration}: {served} items, kill after {point} (killed: {killed}); {alerts} alerts, {done} done"
        );
    }

    // Let a final run finish: every alert must be delivered.
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let store = Store::open(&cfg.state()).unwrap();
    let mut raised = BTreeSet::new();
    let mut delivered_events: BTreeMap<String, usize> = BTreeMap::new();
    for env in store.iter_from(1) {
        match env.unwrap().event {
            Event::AlertRaised(a) => {
                raised.insert(a.alert_id);
            }
            Event::NotificationDelivered(n) => {
                *delivered_events.entry(n.alert_id).or_default() += 1
            }
            _ => {}
        }
    }
    assert!(store.outbox_pending().unwrap().is_empty());
    store.shutdown().await.unwrap();
    assert_eq!(raised.len(), items, "one alert per item");

    let accepted = hook.accepted();
    let received: BTreeSet<String> = accepted
        .iter()
        .filter_map(|h| h.idempotency_key.clone())
        .collect();
    assert_eq!(received, raised, "every alert reached the receiver");
    assert!(
        delivered_events.values().all(|&n| n == 1),
        "a delivery was recorded twice"
    );
    // A repeat is only possible for a delivery in flight at a kill; the relay has at most 8.
    let repeats = accepted.len() - received.len();
    println!(
        "{kills} kills, {} deliveries, {repeats} repeats",
        accepted.len()
    );
    assert!(
        repeats as u64 <= kills * 8,
        "{repeats} repeats for {kills} kills"
    );
}
