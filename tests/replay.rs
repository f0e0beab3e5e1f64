//! Projections are pure folds: after a real run, rebuilding them from the log gives the state
//! that live operation built, byte for byte.

mod common;

use common::*;
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
