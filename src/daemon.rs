//! The daemon: one generation of tasks per configuration, one cancellation signal for all.
//!
//! Start-up and SIGHUP go through the same [`Prepared::load`] and [`Generation::start`]; a
//! reload builds the new generation's config first and only then cancels the old one, so a bad
//! edit leaves the running config in force. Shutdown and reload share one path: cancel the
//! generation's token and wait on its task tracker; only then is the store flushed and closed.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::config::FeedConfig;
use crate::error::Error;
use crate::feed::{self, FetchOutcome};
use crate::pipeline::{self, Prepared, Stats};
use crate::signal::{self, Signal};
use crate::store::Store;

/// How `run` behaves.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Poll every feed once, drain the outbox, and return.
    pub once: bool,
}

/// A batch of freshly parsed articles for the single ingest task. The poller waits on `done`
/// before it stores the feed's new validators, so a crash can never skip unprocessed items.
struct IngestRequest {
    feed: FeedConfig,
    articles: Vec<feed::Article>,
    done: oneshot::Sender<Result<(), crate::store::StoreError>>,
}

/// Shared by the tasks of one generation.
#[derive(Clone)]
struct Ctx {
    prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    wake_relay: Arc<Notify>,
    ingest: mpsc::Sender<IngestRequest>,
    limit: Arc<Semaphore>,
}

impl Ctx {
    /// Builds the shared context and the receiving end of the ingest queue.
    fn new(
        prepared: &Prepared,
        store: &Store,
        stats: &Arc<Stats>,
    ) -> (Ctx, mpsc::Receiver<IngestRequest>) {
        let (ingest, rx) = mpsc::channel(64);
        let ctx = Ctx {
            limit: Arc::new(Semaphore::new(prepared.config.daemon.concurrency.max(1))),
            prepared: prepared.clone(),
            store: store.clone(),
            stats: stats.clone(),
            wake_relay: Arc::new(Notify::new()),
            ingest,
        };
        (ctx, rx)
    }
}

/// Runs the daemon (or one pass with `--once`). Returns the counters for the summary.
pub async fn run(config_path: &Path, options: RunOptions) -> Result<Arc<Stats>, Error> {
    let prepared = Prepared::load(config_path)?;
    let state_dir = prepared.config.daemon.state_dir.clone();
    let store = Store::open(&state_dir)?;
    let stats = Arc::new(Stats::default());
    let mut signals = signal::listen().map_err(|source| Error::Io {
        path: "signal handlers".into(),
        source,
    })?;
    let result = if options.once {
        let cancel = CancellationToken::new();
        let watcher = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                while let Some(sig) = signals.recv().await {
                    if sig == Signal::Shutdown {
                        cancel.cancel();
                        break;
                    }
                }
            })
        };
        let result = run_once(prepared, store.clone(), stats.clone(), cancel).await;
        watcher.abort();
        result
    } else {
        run_forever(
            config_path,
            prepared,
            store.clone(),
            stats.clone(),
            &mut signals,
        )
        .await
    };
    // The store flushes and closes after every task of the last generation has stopped.
    let closed = store.shutdown().await;
    result?;
    closed?;
    Ok(stats)
}

async fn run_forever(
    config_path: &Path,
    mut prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    signals: &mut mpsc::UnboundedReceiver<Signal>,
) -> Result<(), Error> {
    loop {
        let generation = Generation::start(prepared.clone(), store.clone(), stats.clone(), false);
        info!(
            feeds = prepared.config.feeds.len(),
            rules = prepared.config.rules.len(),
            "Parley is running."
        );
        let next = loop {
            match signals.recv().await {
                Some(Signal::Reload) => match Prepared::load(config_path) {
                    Ok(new) => {
                        if new.config.daemon.state_dir != prepared.config.daemon.state_dir {
                            warn!(state_dir = %new.config.daemon.state_dir.display(), "A new state_dir takes effect only after a restart.");
                        }
                        break Some(new);
                    }
                    Err(error) => {
                        error!(%error, "Reload rejected; the running configuration stays in force.");
                    }
                },
                Some(Signal::Shutdown) | None => break None,
            }
        };
        generation.stop().await;
        match next {
            Some(new) => {
                info!("Configuration reloaded.");
                prepared = new;
            }
            None => {
                info!("Shutting down.");
                return Ok(());
            }
        }
    }
}

async fn run_once(
    prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let (ctx, ingest_rx) = Ctx::new(&prepared, &store, &stats);
    let ingest = tokio::spawn(ingest_loop(ctx.clone(), ingest_rx, cancel.clone()));
    let progress = progress_bar(prepared.config.feeds.len() as u64, "feeds");
    let pollers = TaskTracker::new();
    for feed in prepared.config.feeds.clone() {
        let ctx = ctx.clone();
        let cancel = cancel.clone();
        let progress = progress.clone();
        pollers.spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                _ = poll_feed(&ctx, &feed) => {}
            }
            progress.inc(1);
        });
    }
    pollers.close();
    pollers.wait().await;
    progress.finish_and_clear();
    drop(ctx);
    match ingest.await {
        Ok(result) => result?,
        Err(join) => return Err(Error::Input(format!("ingest task failed: {join}"))),
    }
    if !cancel.is_cancelled() {
        pipeline::relay_loop(
            prepared,
            store,
            stats,
            Arc::new(Notify::new()),
            cancel,
            true,
        )
        .await?;
    }
    Ok(())
}

/// The tasks serving one configuration.
struct Generation {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Generation {
    /// Spawns the pollers, the ingest task and the outbox relay for `prepared`.
    fn start(prepared: Prepared, store: Store, stats: Arc<Stats>, drain: bool) -> Generation {
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (ctx, ingest_rx) = Ctx::new(&prepared, &store, &stats);
        let wake_relay = ctx.wake_relay.clone();
        for feed in prepared.config.feeds.iter().cloned() {
            tracker.spawn(poller(ctx.clone(), feed, cancel.clone()));
        }
        {
            let cancel = cancel.clone();
            let ctx = ctx.clone();
            tracker.spawn(async move {
                if let Err(error) = ingest_loop(ctx, ingest_rx, cancel).await {
                    error!(%error, "Ingest stopped.");
                }
            });
        }
        {
            let cancel = cancel.clone();
            tracker.spawn(async move {
                if let Err(error) =
                    pipeline::relay_loop(prepared, store, stats, wake_relay, cancel, drain).await
                {
                    error!(%error, "Outbox relay stopped.");
                }
            });
        }
        tracker.close();
        Generation { cancel, tracker }
    }

    /// Cancels every task of the generation and waits until all have finished.
    async fn stop(self) {
        self.cancel.cancel();
        self.tracker.wait().await;
    }
}

fn progress_bar(len: u64, what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos}/{len} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}

/// Processes ingest requests one at a time, so cooldowns and dedup see a consistent log.
async fn ingest_loop(
    ctx: Ctx,
    mut rx: mpsc::Receiver<IngestRequest>,
    cancel: CancellationToken,
) -> Result<(), Error> {
    // Drop our own sender so the loop ends when the pollers' senders are gone.
    let Ctx {
        prepared,
        store,
        stats,
        wake_relay,
        ingest,
        ..
    } = ctx;
    drop(ingest);
    loop {
        let request = tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            request = rx.recv() => match request {
                Some(r) => r,
                None => return Ok(()),
            },
        };
        let prepared = prepared.clone();
        let result = pipeline::ingest(
            &prepared,
            &store,
            &stats,
            &request.feed,
            request.articles,
            &wake_relay,
        )
        .await;
        if let Err(error) = &result {
            error!(feed = %request.feed.location.key(), %error, "Ingest failed.");
        }
        let _ = request.done.send(result);
    }
}

/// One feed's life in the daemon: wait until due, poll, reschedule; stop when cancelled.
async fn poller(ctx: Ctx, feed: FeedConfig, cancel: CancellationToken) {
    let key = feed.location.key();
    let mut delay = first_delay(&ctx, &feed);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        let outcome = tokio::select! {
            () = cancel.cancelled() => return,
            outcome = poll_feed(&ctx, &feed) => outcome,
        };
        delay = match outcome {
            Some((failures, retry_after)) if failures > 0 => feed::backoff(
                failures,
                Duration::from_secs(60).min(feed.interval),
                ctx.prepared.config.daemon.max_backoff,
                retry_after,
            ),
            _ => jittered(feed.interval),
        };
        tracing::debug!(feed = %key, next_in = ?delay, "Next poll scheduled.");
    }
}

fn first_delay(ctx: &Ctx, feed: &FeedConfig) -> Duration {
    let jitter = Duration::from_millis(fastrand::u64(
        0..=feed.interval.as_millis().min(10_000) as u64,
    ));
    let last = ctx
        .store
        .feed_state(&feed.location.key())
        .ok()
        .flatten()
        .and_then(|s| s.last_success);
    match last {
        Some(last) => {
            let since = (Utc::now() - last).to_std().unwrap_or_default();
            feed.interval.saturating_sub(since) + jitter
        }
        None => jitter,
    }
}

/// The interval, spread by up to ±10% so that feeds configured alike do not poll in lockstep.
fn jittered(interval: Duration) -> Duration {
    let spread = interval.as_millis() as u64 / 10;
    if spread == 0 {
        return interval;
    }
    let offset = fastrand::u64(0..=2 * spread);
    (interval + Duration::from_millis(offset)).saturating_sub(Duration::from_millis(spread))
}

/// Polls one feed once: fetch, parse, ingest, then record the feed's state. Returns the
/// consecutive-failure count after the poll and the server's Retry-After, if any (`None` if
/// the state could not be read or saved, or ingest did not finish).
async fn poll_feed(ctx: &Ctx, feed: &FeedConfig) -> Option<(u32, Option<Duration>)> {
    let key = feed.location.key();
    let _permit = ctx.limit.acquire().await.ok()?;
    let mut state = match ctx.store.feed_state(&key) {
        Ok(state) => state.unwrap_or_default(),
        Err(error) => {
            error!(feed = %key, %error, "Cannot read feed state.");
            return None;
        }
    };
    let now = Utc::now();
    let result = match ctx
        .prepared
        .fetcher
        .fetch(&feed.location, &state.validators)
        .await
    {
        Ok(FetchOutcome::NotModified) => {
            ctx.stats
                .feeds_not_modified
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(None)
        }
        Ok(FetchOutcome::Body {
            bytes,
            validators,
            content_type,
        }) => {
            let key2 = key.clone();
            let parsed = tokio::task::spawn_blocking(move || {
                feed::parse(&key2, &bytes, content_type.as_deref())
            })
            .await;
            match parsed {
                Ok(Ok(articles)) => Ok(Some((articles, validators))),
                Ok(Err(error)) => Err((error.to_string(), None)),
                Err(join) => Err((format!("parser crashed: {join}"), None)),
            }
        }
        Err(error) => Err((error.message.clone(), error.retry_after)),
    };
    let mut retry = None;
    match result {
        Ok(fetched) => {
            if let Some((articles, validators)) = fetched {
                let count = articles.len() as u64;
                let (done_tx, done_rx) = oneshot::channel();
                let request = IngestRequest {
                    feed: feed.clone(),
                    articles,
                    done: done_tx,
                };
                if ctx.ingest.send(request).await.is_err() {
                    return None;
                }
                match done_rx.await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) | Err(_) => return None,
                }
                state.validators = validators;
                state.items_seen += count;
                ctx.stats
                    .feeds_ok
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                info!(feed = %key, items = count, "Feed polled.");
            }
            state.last_success = Some(now);
            state.last_error = None;
            state.consecutive_failures = 0;
        }
        Err((message, retry_after)) => {
            retry = retry_after;
            ctx.stats
                .feeds_failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            state.consecutive_failures += 1;
            warn!(feed = %key, error = %message, failures = state.consecutive_failures, "Feed fetch failed.");
            state.last_error = Some(message);
        }
    }
    if let Err(error) = ctx.store.put_feed_state(&key, &state) {
        error!(feed = %key, %error, "Cannot save feed state.");
        return None;
    }
    Some((state.consecutive_failures, retry))
}
