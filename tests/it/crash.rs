//! Crash recovery in the style of sled's own harness: a child `parley run --once` is killed
//! with SIGKILL at random points while it polls a feed over HTTP, extracts its items, raises
//! alerts and delivers them; the parent reopens the store after each kill and checks the log's
//! invariants and that its projections equal a fresh replay of the log, then lets a final run
//! finish and checks that every alert reached the receiver, and reached it more than once only
//! when its delivery was in flight at a kill.
//!
//! `PARLEY_CRASH_ITERATIONS` (default 4) and `PARLEY_CRASH_ITEMS` (default 300) scale it up
//! when run by hand; `PARLEY_CRASH_SEED` replays a failing run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use crate::common::*;
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
    rss_generated("Crash desk", &bodies, "Tue, 14 Nov 2023 10:00:00 +0000")
}

fn config(feed_url: &str, hook: &str) -> String {
    let mut out = format!(
        "[daemon]\nstate_dir = \"state\"\n[api]\nenabled = false\n[[feed]]\nurl = {feed_url:?}\nname = \"Crash desk\"\n"
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

/// Where a run is killed: on the `nth` debug line of a phase, after `delay_ms` more.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// The feed answered; its body is being read and parsed.
    Poll,
    /// The body is decoded; its articles are being extracted and evaluated.
    Extract,
    /// An alert was appended; the next batch or the relay is running.
    Alert,
    /// A notification was recorded; the relay is delivering the next one.
    Notify,
}

impl Phase {
    fn marker(self) -> &'static str {
        match self {
            Phase::Poll => "Feed answered.",
            Phase::Extract => "Feed body decoded.",
            Phase::Alert => "Alert raised.",
            Phase::Notify => "Notification delivered.",
        }
    }
}

/// What the log says after a kill.
struct Seen {
    alerts: BTreeSet<String>,
    delivered: BTreeSet<String>,
    done: usize,
}

/// Copies a closed sled folder, so a replay can run on the copy without touching the original.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Reopens the store and checks what must hold after any crash: a readable, gap-free log
/// without duplicate ids, every alert either queued or settled, and projections equal to
/// what a fresh replay of the same log builds (on a copy, so the original is left as the
/// crash left it for the next run).
async fn check_invariants(state: &Path) -> Seen {
    let store = Store::open(state).expect("store reopens after SIGKILL");
    let mut expected = 1u64;
    let mut ids = BTreeSet::new();
    let mut alerts = BTreeSet::new();
    let mut delivered = BTreeSet::new();
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
                delivered.insert(n.alert_id.clone());
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
    let live = store.projection_snapshot().unwrap();
    store.shutdown().await.unwrap();
    drop(store);

    let copy = tempfile::tempdir().unwrap();
    copy_dir(state, copy.path());
    let fresh = Store::open(copy.path()).unwrap();
    let stats = fresh.replay(&|_, _| {}).await.unwrap();
    assert_eq!(stats.events, expected - 1, "replay folded every event");
    let replayed = fresh.projection_snapshot().unwrap();
    fresh.shutdown().await.unwrap();
    assert!(
        live == replayed,
        "projections after the kill differ from a fresh replay ({} live keys, {} replayed)",
        live.len(),
        replayed.len()
    );
    Seen {
        alerts,
        delivered,
        done: done.len(),
    }
}

/// Runs `parley run --once` and SIGKILLs it `delay_ms` after the `nth` line with the phase's
/// marker. Returns whether it was killed (a run may finish before reaching the point).
fn run_and_kill(config: &Path, phase: Phase, nth: usize, delay_ms: u64) -> bool {
    let mut child = parley_cmd(config, &["run", "--once"])
        .env("RUST_LOG", "parley=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut killed = false;
    let mut seen = 0usize;
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        if line.contains(phase.marker()) {
            seen += 1;
            if seen == nth {
                // The delay is the fault injection itself (it moves the kill into the work
                // that follows the marker), not a wait for anything.
                std::thread::sleep(std::time::Duration::from_millis(delay_ms));
                killed = child.try_wait().unwrap().is_none() && child.kill().is_ok();
                break;
            }
        }
    }
    // Drain the rest so a child that was not killed never blocks on a full pipe.
    let drain = std::thread::spawn(move || lines.count());
    child.wait().unwrap();
    let _ = drain.join();
    killed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing() {
    // The log's invariants and replayable projections survive SIGKILL in any phase; every
    // alert reaches the receiver, and twice only if its delivery was in flight at a kill.
    // Phases take turns, so every phase is tried; a run can finish before its kill point (a
    // kill that did not land), so the loop goes on until each phase has at least one kill or
    // the iterations run out, and the test then asserts that each phase got one.
    let iterations = env_or("PARLEY_CRASH_ITERATIONS", 8);
    let items = env_or("PARLEY_CRASH_ITEMS", 300) as usize;
    let seed = env_or("PARLEY_CRASH_SEED", fastrand::u64(..));
    println!("crash test: seed {seed}, up to {iterations} iterations, {items} items");
    let mut rng = fastrand::Rng::with_seed(seed);

    let feeds = FeedServer::start().await;
    let hook = Receiver::start(0).await;
    let cfg = TestConfig::new(&config(&feeds.url("feed.xml"), &hook.url()));
    let serve = |served: usize| {
        feeds.set(
            "feed.xml",
            Route::Feed {
                body: feed(served),
                etag: format!("\"{served}\""),
            },
        )
    };

    const PHASES: [Phase; 4] = [Phase::Poll, Phase::Extract, Phase::Alert, Phase::Notify];
    let mut kills = [0u64; 4];
    let mut previous = 0usize;
    // Alerts the receiver accepted while the log had no `notification.delivered` for them at
    // the kill that followed: the only ones that may legitimately arrive twice.
    let mut in_flight: BTreeSet<String> = BTreeSet::new();
    // Each iteration brings `step` new items, so every run has items to ingest and deliver.
    let step = (items / (2 * iterations.max(1) as usize)).max(1);
    for iteration in 0..iterations {
        // The next phase (in turn) that has no kill yet; all have one: the test is done.
        let Some(index) = (0..4)
            .map(|k| (iteration as usize + k) % 4)
            .find(|&k| kills[k] == 0)
        else {
            break;
        };
        let phase = PHASES[index];
        let served = (previous + step).min(items - 1);
        serve(served);
        let new = (served - previous).max(1);
        previous = served;
        let (nth, delay_ms) = match phase {
            Phase::Poll => (1, rng.u64(0..20)),
            Phase::Extract => (1, rng.u64(0..100)),
            Phase::Alert | Phase::Notify => (rng.usize(1..=new), rng.u64(0..5)),
        };
        let path = cfg.path();
        let killed = tokio::task::spawn_blocking(move || run_and_kill(&path, phase, nth, delay_ms))
            .await
            .unwrap();
        if killed {
            kills[index] += 1;
        }
        let seen = check_invariants(&cfg.state()).await;
        for h in hook.accepted() {
            if let Some(key) = h.idempotency_key
                && !seen.delivered.contains(&key)
            {
                in_flight.insert(key);
            }
        }
        println!(
            "iteration {iteration}: {served} items, kill at {phase:?} #{nth} +{delay_ms} ms (killed: {killed}); {} alerts, {} done",
            seen.alerts.len(),
            seen.done
        );
    }
    for (phase, n) in PHASES.iter().zip(kills) {
        assert!(
            n > 0,
            "no kill landed in phase {phase:?} (kills per phase {kills:?}): the test did not cover it"
        );
    }
    serve(items);

    // Let a final run finish: every alert must be delivered.
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let seen = check_invariants(&cfg.state()).await;
    let store = Store::open(&cfg.state()).unwrap();
    let mut delivered_events: BTreeMap<String, usize> = BTreeMap::new();
    for env in store.iter_from(1) {
        if let Event::NotificationDelivered(n) = env.unwrap().event {
            *delivered_events.entry(n.alert_id).or_default() += 1
        }
    }
    assert!(store.outbox_pending().unwrap().is_empty());
    store.shutdown().await.unwrap();
    assert_eq!(seen.alerts.len(), items, "one alert per item");
    assert!(
        delivered_events.values().all(|&n| n == 1),
        "a delivery was recorded twice"
    );

    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for h in hook.accepted() {
        *received
            .entry(
                h.idempotency_key
                    .expect("every delivery has an Idempotency-Key"),
            )
            .or_default() += 1;
    }
    let keys: BTreeSet<String> = received.keys().cloned().collect();
    assert_eq!(keys, seen.alerts, "every alert reached the receiver");
    let repeated: Vec<&String> = received
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    for key in &repeated {
        assert!(
            in_flight.contains(*key),
            "alert {key} was delivered twice although no kill interrupted its delivery"
        );
    }
    println!(
        "kills per phase {kills:?}, {} deliveries, {} alerts repeated (all in flight at a kill)",
        hook.accepted().len(),
        repeated.len()
    );
}
