//! Projections are pure folds: after a real run, rebuilding them from the log gives the state
//! that live operation built, byte for byte.

use crate::common::*;
use parley::daemon::{self, RunOptions};
use parley::store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_after_replay_equals_live_state() {
    // The spine's proof that projections can be rebuilt from the log alone.
    let feeds = FeedServer::start().await;
    let items = [
        Item {
            guid: "1",
            title: "Beirut",
            body: "Antony Blinken met Najib Mikati in Beirut. Mikati urged restraint.",
            date: "Mon, 13 Nov 2023 12:00:00 +0000",
        },
        Item {
            guid: "2",
            title: "Amman",
            body: "Blinken held talks with Jordan's King Abdullah II in Amman.",
            date: "Tue, 14 Nov 2023 12:00:00 +0000",
        },
        Item {
            guid: "3",
            title: "Tel Aviv",
            body: "Benjamin Netanyahu received Antony Blinken in Tel Aviv.",
            date: "Wed, 15 Nov 2023 12:00:00 +0000",
        },
    ];
    feeds.set(
        "f.xml",
        Route::Feed {
            body: rss("Desk", &items),
            etag: "\"1\"".into(),
        },
    );
    // The receiver refuses the first POST, so the outbox holds failed and delivered entries.
    let hook = Receiver::start(1).await;
    let cfg = TestConfig::new(&format!(
        "include = [{:?}]\n[daemon]\nstate_dir = \"state\"\n[[feed]]\nurl = {:?}\n[[notifier]]\nid = \"console\"\ntype = \"webhook\"\nurl = {:?}\nretry_initial = \"20ms\"\n",
        shipped_watchlists(),
        feeds.url("f.xml"),
        hook.url()
    ));
    daemon::run(&cfg.path(), RunOptions { once: true })
        .await
        .unwrap();
    assert!(!hook.accepted().is_empty());

    let store = Store::open(&cfg.state()).unwrap();
    let live = store.projection_snapshot().unwrap();
    assert!(!live.is_empty());
    let stats = store.replay(&|_, _| {}).await.unwrap();
    assert_eq!(stats.events, store.last_seq().unwrap());
    let rebuilt = store.projection_snapshot().unwrap();
    assert_eq!(live, rebuilt, "replay changed the projections");
    store.shutdown().await.unwrap();
}

fn reextract_config(feed: &str, actors: &str) -> String {
    format!("[daemon]\nstate_dir = \"state\"\n[[feed]]\nurl = {feed:?}\n{actors}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reextract_supersedes_records_the_new_extractor_no_longer_produces() {
    // `replay --reextract` with a changed watchlist: the records it replaces leave `events`
    // and the actor index (through an `extraction.superseded` event; the log keeps them), a
    // second run changes nothing, and a plain replay rebuilds the same view.
    let feeds = FeedServer::start().await;
    let items = [Item {
        guid: "1",
        title: "",
        body: "Alvaro Quint met Bruna Vell in Lisbon on Monday. Quint later praised Carla Dunn.",
        date: "Mon, 13 Nov 2023 12:00:00 +0000",
    }];
    feeds.set(
        "f.xml",
        Route::Feed {
            body: rss("Desk", &items),
            etag: "\"1\"".into(),
        },
    );
    let alpha = "[[actor]]\nid = \"alpha\"\nname = \"Alvaro Quint\"\naliases = [\"Alvaro Quint\", \"Quint\"]\n";
    let bravo = "[[actor]]\nid = \"bravo\"\nname = \"Bruna Vell\"\naliases = [\"Bruna Vell\"]\n";
    let charlie =
        "[[actor]]\nid = \"charlie\"\nname = \"Carla Dunn\"\naliases = [\"Carla Dunn\"]\n";
    let cfg = TestConfig::new(&reextract_config(
        &feeds.url("f.xml"),
        &format!("{alpha}{bravo}"),
    ));
    let out = cfg.parley_async(&["run", "--once"]).await;
    assert_ok(&out);
    let extracted = |args: &[&str]| {
        let mut a = vec!["events", "--kind", "event.extracted", "--json"];
        a.extend_from_slice(args);
        json_lines(&cfg.parley(&a))
    };
    let actor_sets = |events: &[serde_json::Value]| -> Vec<String> {
        let mut v: Vec<String> = events
            .iter()
            .map(|e| e["payload"]["actors"].to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        actor_sets(&extracted(&[])),
        [r#"["alpha","bravo"]"#, r#"["alpha"]"#],
        "{:#?}",
        extracted(&[])
    );
    let clustered = || -> Vec<String> {
        let out = cfg.parley(&["events", "--clustered", "--json"]);
        assert_ok(&out);
        json_lines(&out)
            .iter()
            .map(|c| c["actors"].to_string())
            .collect()
    };
    assert_eq!(clustered(), [r#"["alpha","bravo"]"#]);

    // The watchlist changes: Bruna Vell is no longer tracked, Carla Dunn is.
    std::fs::write(
        cfg.path(),
        reextract_config(&feeds.url("f.xml"), &format!("{alpha}{charlie}")),
    )
    .unwrap();
    let out = cfg.parley_async(&["replay", "--reextract"]).await;
    assert_ok(&out);
    assert!(
        stdout(&out).contains("2 new event records; 2 superseded"),
        "{}",
        stdout(&out)
    );
    let now = extracted(&[]);
    assert_eq!(
        actor_sets(&now),
        [r#"["alpha","charlie"]"#, r#"["alpha"]"#],
        "{now:#?}"
    );
    assert!(extracted(&["--actor", "bravo"]).is_empty());
    assert_eq!(extracted(&["--actor", "alpha"]).len(), 2);
    // The meeting with a no longer tracked actor is no longer a clustered event; the
    // praise of a newly tracked one is.
    assert_eq!(clustered(), [r#"["alpha","charlie"]"#]);
    let sup = json_lines(&cfg.parley(&["events", "--kind", "extraction.superseded", "--json"]));
    assert_eq!(sup.len(), 1, "{sup:#?}");
    assert_eq!(sup[0]["payload"]["event_ids"].as_array().unwrap().len(), 2);

    // Idempotent: nothing new, nothing more superseded.
    let again = cfg.parley_async(&["replay", "--reextract"]).await;
    assert!(
        stdout(&again).contains("0 new event records; 0 superseded"),
        "{}",
        stdout(&again)
    );
    // A plain replay folds the superseding event again: the same view.
    assert_ok(&cfg.parley_async(&["replay"]).await);
    assert_eq!(actor_sets(&extracted(&[])), actor_sets(&now));
    assert!(extracted(&["--actor", "bravo"]).is_empty());
    assert_eq!(clustered(), [r#"["alpha","charlie"]"#]);
}
