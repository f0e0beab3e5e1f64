//! A full disk under the store: the state folder is a 4 MiB tmpfs, too small for the feed.
//! The daemon must stop appending, say so loudly and exit 1 (sled keeps a write error for the
//! life of the open database, so the service manager's restart is what resumes); once the
//! file system has room again, the next run resumes from an intact log and loses nothing.
//!
//! Needs root to mount the tmpfs (CI runs as root); elsewhere it says why on stderr, and under
//! CI it fails rather than pass unchecked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;
use parley::events::Event;
use parley::store::Store;

const ITEMS: usize = 1500;

/// Unmounts the tmpfs however the test ends.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(Mount(dir.to_path_buf())),
        Ok(o) => {
            cannot_run(&format!(
                "cannot mount a tmpfs (needs root): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            None
        }
        Err(e) => {
            cannot_run(&format!("cannot run mount: {e}"));
            None
        }
    }
}

fn feed() -> String {
    let bodies: Vec<(String, String, String)> = (0..ITEMS)
        .map(|i| {
            (
                format!("item-{i}"),
                format!("Report {i}"),
                format!(
                    "Ana Varga met Bo Lindqvist in Vienna on day {i}. {}",
                    "The talks covered the grain corridor and shipping insurance. ".repeat(30)
                ),
            )
        })
        .collect();
    rss_generated("Disk desk", &bodies, "Tue, 14 Nov 2023 10:00:00 +0000")
}

/// Reads the whole log: it must decode, be gap-free and free of duplicate ids. Returns the
/// number of ingested articles.
async fn check_log(state: &Path) -> usize {
    let store = Store::open(state).expect("the store reopens after the disk filled up");
    let mut ids = BTreeSet::new();
    let mut articles = 0;
    for (expected, env) in (1..).zip(store.iter_from(1)) {
        let env = env.expect("every stored event decodes");
        assert_eq!(env.seq, expected, "gap in the log");
        assert!(
            ids.insert(env.event_id.clone()),
            "duplicate {}",
            env.event_id
        );
        if matches!(env.event, Event::ArticleIngested(_)) {
            articles += 1;
        }
    }
    let live = store.projection_snapshot().unwrap();
    store.replay(&|_, _| {}).await.unwrap();
    assert!(
        live == store.projection_snapshot().unwrap(),
        "projections differ from a replay"
    );
    store.shutdown().await.unwrap();
    articles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_appending_loudly_and_a_restart_resumes_intact() {
    // ENOSPC in the middle of ingest must neither corrupt the log nor lose articles.
    let cfg = TestConfig::new(concat!(
        "[daemon]\nstate_dir = \"state\"\n[api]\nenabled = false\n",
        "[[feed]]\nurl = \"feed.xml\"\nname = \"Disk desk\"\n",
        "[[actor]]\nid = \"ana\"\nname = \"Ana Varga\"\n",
        "[[actor]]\nid = \"bo\"\nname = \"Bo Lindqvist\"\n",
        "[[rule]]\nid = \"pair\"\nactors = [\"ana\", \"bo\"]\n",
    ));
    let Some(_mount) = mount_tmpfs(&cfg.state(), "4m") else {
        return;
    };
    cfg.write("feed.xml", &feed());

    // The daemon (not --once): it must notice by itself and exit, not poll on forever.
    let child = parley_cmd(&cfg.path(), &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The bound is a failure guard for a daemon that keeps running, not a timing assertion.
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await
    .expect("the daemon stops by itself when the store cannot write")
    .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("nothing more is appended"), "{err}");

    // Room again (the tmpfs grows in place), then a restart.
    let status = Command::new("mount")
        .args(["-o", "remount,size=256m"])
        .arg(cfg.state())
        .status()
        .unwrap();
    assert!(status.success());
    let before = check_log(&cfg.state()).await;
    assert!(
        before < ITEMS,
        "the disk was meant to fill up before the end"
    );

    let out = cfg.parley_async(&["run", "--once"]).await;
    assert_ok(&out);
    assert_eq!(check_log(&cfg.state()).await, ITEMS, "every article, once");
    println!("{before} articles before the disk filled, {ITEMS} after the restart");
}
