//! Replays every saved fuzz input (`fuzz/corpus/<target>/*`, including crash regressions)
//! through the same target bodies the AFL binaries run, as an ordinary test: what the
//! fuzzer once found must stay fixed without nightly or AFL installed.

#[path = "../../fuzz/src/targets.rs"]
mod targets;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = crate::common::repo().join("fuzz/corpus").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            // A panic here names the input that broke the promise.
            println!("replaying {}", path.display());
            run(&data);
            count += 1;
        }
    }
    assert!(count > 0, "no saved inputs for {target}");
}

#[test]
fn feed_corpus_replays_clean() {
    // Feed bytes → articles → extraction never panics on any input the fuzzer kept.
    replay("feed", targets::feed);
}

#[test]
fn config_corpus_replays_clean() {
    // Config validation returns an error, never a panic, on every saved input.
    replay("config", targets::config);
}

#[test]
fn event_corpus_replays_clean() {
    // The stored-event decoder round-trips or rejects every saved input.
    replay("event", targets::event);
}
