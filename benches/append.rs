//! Append throughput of the event log: single-event appends, each returning only after its
//! flush, from one task (one flush per event) and from 16 concurrent tasks (group commit
//! shares flushes). Payloads are `article.ingested` events with ~3 KB of text, as ingest
//! writes them.

use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parley::events::{ArticleIngested, Event, NewEvent, stable_id};
use parley::store::Store;

/// ~3 KB of article text.
fn text() -> String {
    "The foreign ministers met in the capital on Tuesday to discuss the ceasefire, trade \
     routes and the exchange of prisoners, officials said after the talks. "
        .repeat(20)
}

fn article(n: u64, text: &str) -> NewEvent {
    let article_id = stable_id("art", &["http://bench.test/rss", &n.to_string()]);
    NewEvent {
        event_id: article_id.clone(),
        occurred_at: Utc::now(),
        event: Event::ArticleIngested(ArticleIngested {
            article_id,
            feed: "bench".into(),
            feed_url: "http://bench.test/rss".into(),
            guid: Some(n.to_string()),
            url: Some(format!("http://bench.test/a/{n}")),
            title: format!("Ministers meet, round {n}"),
            published: Some(Utc::now()),
            text: text.to_owned(),
            full_text_sha256: None,
        }),
    }
}

fn bench_append(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open store");
    let text = text();
    assert!(text.len() >= 3000);
    // Every event needs a fresh id, or it would be a cheap Duplicate.
    let mut next_id: u64 = 0;

    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(1));

    group.bench_function("single_task", |b| {
        b.iter_custom(|iters| {
            let events: Vec<NewEvent> = (0..iters).map(|i| article(next_id + i, &text)).collect();
            next_id += iters;
            rt.block_on(async {
                let start = Instant::now();
                for ev in events {
                    store.append(vec![ev]).await.expect("append");
                }
                start.elapsed()
            })
        })
    });

    group.bench_function("16_tasks", |b| {
        b.iter_custom(|iters| {
            let events: Vec<NewEvent> = (0..iters).map(|i| article(next_id + i, &text)).collect();
            next_id += iters;
            let mut per_task: Vec<Vec<NewEvent>> = (0..16).map(|_| Vec::new()).collect();
            for (i, ev) in events.into_iter().enumerate() {
                per_task[i % 16].push(ev);
            }
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = per_task
                    .into_iter()
                    .map(|evs| {
                        let store = store.clone();
                        tokio::spawn(async move {
                            for ev in evs {
                                store.append(vec![ev]).await.expect("append");
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
                start.elapsed()
            })
        })
    });
    group.finish();

    rt.block_on(store.shutdown()).expect("shutdown");
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_append
}
criterion_main!(benches);
