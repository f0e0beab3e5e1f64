//! The single ingest task: one batch at a time from the pollers' queue, so cooldowns and
//! dedup see a consistent log; the alerts a batch appended, as ingest hands them back, then
//! go to the alert stream.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::error;

use super::supervise::store_cannot_write;
use super::{GenerationShared, log_name};
use crate::config::FeedConfig;
use crate::error::Error;
use crate::feed;
use crate::pipeline;

/// A batch of freshly parsed articles for the single ingest task. The poller waits on `done`
/// before it stores the feed's new validators, so a crash can never skip unprocessed items.
/// `articles: None` is the watchdog's heartbeat: answered in queue order, it proves the
/// ingest task is taking work.
pub(super) struct IngestRequest {
    /// The feed polled; `None` for the watchdog's heartbeat.
    pub(super) feed: Option<FeedConfig>,
    /// The new articles.
    pub(super) articles: Vec<feed::Article>,
    /// When the poll that fetched the articles started: their arrival, for alert latency.
    pub(super) polled_at: Instant,
    /// Answered once the batch is appended (or failed).
    pub(super) done: oneshot::Sender<Result<(), crate::store::StoreError>>,
}

/// Processes ingest requests one at a time, so cooldowns and dedup see a consistent log.
/// After a batch's append has returned, its new alerts go to the alert stream.
pub(super) async fn ingest_loop(
    ctx: GenerationShared,
    mut rx: mpsc::Receiver<IngestRequest>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    // Drop our own sender so the loop ends when the pollers' senders are gone.
    let GenerationShared {
        prepared,
        store,
        stats,
        wake_relay,
        ingest,
        handles,
        ..
    } = ctx;
    drop(ingest);
    let mut trimmed = Instant::now();
    loop {
        let request = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            request = rx.recv() => match request {
                Some(r) => r,
                None => return Ok(()),
            },
        };
        let Some(feed) = request.feed else {
            // The watchdog's heartbeat.
            let _ = request.done.send(Ok(()));
            continue;
        };
        let prepared = prepared.clone();
        let started = Instant::now();
        let mut raised = Vec::new();
        let result = pipeline::ingest(
            &prepared,
            &store,
            &stats,
            &feed,
            request.articles,
            request.polled_at,
            &wake_relay,
            &mut raised,
        )
        .await;
        stats
            .latency
            .ingest_batch
            .observe(started.elapsed().as_secs_f64());
        if let Err(error) = &result {
            error!(feed = %log_name(&feed.location), %error, "Ingest failed.");
            if store_cannot_write(error) {
                error!(%error, "The store cannot write (is the disk full?); nothing more is appended. Stopping so that a restart resumes from the log once it can.");
                handles.store_failed.cancel();
            }
        }
        // The alerts this batch appended go to the stream's subscribers (none: dropped).
        for alert in raised {
            let _ = handles.alerts.send(alert);
        }
        let _ = request.done.send(result);
        // The queue drained: a burst of polls is over. Give its freed memory back (see
        // `memory`), at most every TRIM_EVERY since a trim walks every arena.
        if rx.is_empty() && trimmed.elapsed() >= TRIM_EVERY {
            let _ = tokio::task::spawn_blocking(crate::memory::release_free).await;
            trimmed = Instant::now();
        }
    }
}

/// The shortest time between two trims of the heap by the ingest loop.
const TRIM_EVERY: Duration = Duration::from_secs(10);
