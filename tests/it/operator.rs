//! The operator verbs while the daemon runs: sled admits one process, so `alerts ack`,
//! `alerts retry`, `alerts show`, `alerts --failed` and `silence add/list/expire` go through
//! the daemon's API (with its bearer token) and must behave exactly as on the store.

use std::process::{Child, Stdio};

use crate::common::notify::NotifySocket;
use crate::common::*;

const TOKEN: &str = "operator-token-77c1";

fn config(feed: &str, hook: &str) -> String {
    format!(
        concat!(
            "[daemon]\nstate_dir = \"state\"\n",
            "[api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"api-token\"\n",
            "[[feed]]\nurl = {feed:?}\n",
            "[[actor]]\nid = \"kellner\"\nname = \"Maria Kellner\"\naliases = [\"Maria Kellner\", \"Kellner\"]\n",
            "[[actor]]\nid = \"odum\"\nname = \"James Odum\"\naliases = [\"James Odum\", \"Odum\"]\n",
            "[[rule]]\nid = \"pair\"\nactors = [\"kellner\", \"odum\"]\nnotify = [\"hook\"]\n",
            "[[notifier]]\nid = \"hook\"\ntype = \"webhook\"\nurl = {hook:?}\n",
            "retry_initial = \"20ms\"\nretry_max = \"40ms\"\nmax_attempts = 2\n",
        ),
        feed = feed,
        hook = hook
    )
}

fn spawn_daemon(cfg: &TestConfig, notify: &NotifySocket) -> Child {
    parley_cmd(&cfg.path(), &["run"])
        .env("NOTIFY_SOCKET", &notify.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn stop(mut child: Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_verbs_work_through_the_running_daemon() {
    // Every operator verb against the real running binary: results and output as on the
    // store, the events really appended, the token enforced, and a retry delivered at once.
    let feeds = FeedServer::start().await;
    feeds.set(
        "a.xml",
        Route::Feed {
            body: rss(
                "Desk",
                &[Item {
                    guid: "a1",
                    title: "Oslo talks",
                    body: "Kellner met Odum in Oslo.",
                    date: "Sat, 01 Mar 2025 09:00:00 +0000",
                }],
            ),
            etag: "\"1\"".into(),
        },
    );
    let hook = Receiver::start(1000).await;
    let cfg = TestConfig::new(&config(&feeds.url("a.xml"), &hook.url()));
    cfg.write("api-token", &format!("{TOKEN}\n"));
    let notify = NotifySocket::new();
    let child = spawn_daemon(&cfg, &notify);
    let notify = tokio::task::spawn_blocking(move || {
        notify.wait_for("READY=1");
        notify
    })
    .await
    .unwrap();
    wait_for(&hook.arrived, "two refused deliveries", || {
        hook.all().len() >= 2
    })
    .await;

    // The dead letter is recorded right after the second refusal; ask until it is there
    // (bounded: each ask is one CLI round trip through the API).
    let mut failed = Vec::new();
    for _ in 0..200 {
        let out = cfg.parley_async(&["alerts", "--failed", "--json"]).await;
        assert_ok(&out);
        failed = json_lines(&out);
        if !failed.is_empty() {
            break;
        }
    }
    assert_eq!(failed.len(), 1, "{failed:?}");
    let id = failed[0]["alert_id"].as_str().unwrap().to_string();
    assert_eq!(failed[0]["group"]["rule"], "pair");

    // The token is required on the write routes.
    let base = format!(
        "http://{}",
        std::fs::read_to_string(cfg.state().join("api.addr"))
            .unwrap()
            .trim()
    );
    let http = reqwest::Client::new();
    let refused = http
        .post(format!("{base}/api/v1/alerts/{id}/ack"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let wrong = http
        .post(format!("{base}/api/v1/silences"))
        .bearer_auth("not-the-token")
        .json(&serde_json::json!({"rule": "pair", "for": "1h", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // ack, by a unique prefix, as on the store.
    let out = cfg.parley_async(&["alerts", "ack", &id[..12]]).await;
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), format!("acknowledged {id}"));
    // An unknown id is the same usage error (exit 2) as on the store.
    let out = cfg.parley_async(&["alerts", "ack", "alert-nope"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no alert"), "{}", stderr(&out));

    // retry re-queues the dead letter and the daemon delivers it now.
    hook.set_fail(0);
    let out = cfg.parley_async(&["alerts", "retry", &id]).await;
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), "re-queued 1 failed deliveries");
    wait_for(&hook.arrived, "the retried delivery", || {
        hook.accepted().len() == 1
    })
    .await;

    // silences: add (validated against the running config), list, expire.
    let out = cfg
        .parley_async(&[
            "silence", "add", "--rule", "nope", "--for", "1h", "--reason", "x",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = cfg
        .parley_async(&[
            "silence",
            "add",
            "--rule",
            "pair",
            "--actors",
            "odum",
            "--for",
            "12h",
            "--reason",
            "known visit",
        ])
        .await;
    assert_ok(&out);
    let silence = stdout(&out).trim().to_string();
    assert!(silence.starts_with("silence-"), "{silence}");
    let list = stdout(&cfg.parley_async(&["silence", "list"]).await);
    assert!(
        list.contains(&silence) && list.contains("active") && list.contains("known visit"),
        "{list}"
    );
    let out = cfg.parley_async(&["silence", "expire", &silence]).await;
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), format!("expired {silence}"));
    assert!(stdout(&cfg.parley_async(&["silence", "list"]).await).is_empty());

    // `alerts show` explains through the daemon too, including what the verbs recorded.
    let show = stdout(&cfg.parley_async(&["alerts", "show", &id]).await);
    assert!(
        show.contains("acked") && show.contains("re-queued") && show.contains("delivered to hook"),
        "{show}"
    );
    drop(notify);
    stop(child).await;

    // The same events are in the log once the daemon is gone (read from the store).
    let kinds: Vec<String> = json_lines(&cfg.parley_async(&["events", "--json"]).await)
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    for kind in [
        "alert.acked",
        "notification.retried",
        "silence.added",
        "silence.expired",
    ] {
        assert_eq!(
            kinds.iter().filter(|k| *k == kind).count(),
            1,
            "{kind} in {kinds:?}"
        );
    }
}
