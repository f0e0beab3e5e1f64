//! The daemon: one generation of tasks per configuration, one cancellation signal for all.
//!
//! Start-up and SIGHUP go through the same [`Prepared::load`] and [`Generation::start`]; a
//! reload builds the new generation's config first and only then cancels the old one, so a bad
//! edit leaves the running config in force. Shutdown and reload share one path: cancel the
//! generation's token and wait on its task tracker; only then is the store flushed and closed.
//!
//! This file is the lifecycle (start-up, reload, shutdown, `--once`, and what one
//! generation's tasks share); each task it starts lives in its own file:
//! - `poll`: the poll scheduler, one poller per feed (slots, backoff, jitter, one poll);
//! - `full_text`: which polled articles get their page fetched, and the store's page cache;
//! - `ingest`: the single ingest task and the alert stream it feeds;
//! - `supervise`: the supervisor that keeps the outbox relay running;
//! - `watchdog`: systemd's watchdog, pinged only while every task makes progress;
//! - `api_server`: the HTTP API's start, config updates and stop;
//! - `backend`: the one seam to the log's backend (sled or NATS): feed state, which feeds
//!   this node polls, which relay runs, the `--once` drain and the CLI's attach;
//! - `cluster_runtime`: the NATS backend's process-wide part (mirror, leases).

mod api_server;
mod backend;
mod cluster_runtime;
mod full_text;
mod ingest;
mod poll;
mod supervise;
mod watchdog;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::{Notify, Semaphore, broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::api;
use crate::error::Error;
use crate::events::Alert;
use crate::feed::FeedLocation;
use crate::feed::hosts::HostGates;
use crate::feed::robots::RobotsCache;
use crate::metrics::{ConfigReloaded, Metrics};
use crate::pipeline::{self, Prepared, Stats};
use crate::service;
use crate::signal::{self, Signal};
use crate::store::Store;

use api_server::ApiServer;
pub(crate) use backend::Backend;
use ingest::{IngestRequest, ingest_loop};
use poll::{poll_feed, poller};
use supervise::supervise_relay;
use watchdog::watchdog;

/// How long a graceful stop may take before parley gives up waiting and exits: pollers,
/// ingest and the relay get this long to finish, then the store is flushed (bounded too).
/// Shorter than the unit's `TimeoutStopSec=` (30s), so systemd never has to SIGKILL: what
/// was not appended is re-polled at the next start, and an in-flight notification stays
/// in the outbox.
pub const STOP_DEADLINE: Duration = Duration::from_secs(20);
/// The part of [`STOP_DEADLINE`] kept for the store's final flush.
const FLUSH_DEADLINE: Duration = Duration::from_secs(5);

/// How `run` behaves.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Poll every feed once, drain the outbox, and return.
    pub once: bool,
}

/// The handles one daemon run shares between its generations and the HTTP API: where
/// alerts are broadcast, the counters the feed-health events update, the store-failed
/// signal and the relay's wake-up. Made once per run, so a reload keeps them.
#[derive(Clone)]
pub(crate) struct DaemonHandles {
    /// Alerts appended by ingest, sent after their append returned (SSE subscribers).
    pub(crate) alerts: broadcast::Sender<Alert>,
    /// Service counters and the pipeline's stats.
    pub(crate) metrics: Metrics,
    /// Cancelled when the store failed to write (a full disk, an I/O error). sled keeps such
    /// an error for the life of the open database, so every later append would fail too: the
    /// daemon stops and exits 1, and the service manager's restart (`Restart=on-failure`)
    /// reopens the store and resumes from the log once the disk can take writes again.
    pub(crate) store_failed: CancellationToken,
    /// Wakes the outbox relay of whichever generation runs; shared with the API, whose
    /// write verbs (`alerts retry`) put entries back into the outbox.
    pub(crate) wake_relay: Arc<Notify>,
}

impl DaemonHandles {
    fn new(stats: &Arc<Stats>, backend: &Backend) -> DaemonHandles {
        DaemonHandles {
            alerts: broadcast::channel(api::ALERT_STREAM_CAPACITY).0,
            metrics: backend.metrics(stats),
            store_failed: CancellationToken::new(),
            wake_relay: Arc::new(Notify::new()),
        }
    }
}

/// What the tasks of one generation share (pollers, ingest, the watchdog).
#[derive(Clone)]
struct GenerationShared {
    prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    wake_relay: Arc<Notify>,
    ingest: mpsc::Sender<IngestRequest>,
    limit: Arc<Semaphore>,
    /// Per-host politeness, shared by feeds, article pages and robots.txt.
    hosts: Arc<HostGates>,
    /// robots.txt rules by origin, for article pages.
    robots: Arc<RobotsCache>,
    handles: DaemonHandles,
    /// Polls finished (any outcome): the watchdog's evidence that the scheduler moves.
    polls_done: Arc<std::sync::atomic::AtomicU64>,
    /// True while this generation's outbox relay runs (false while its supervisor waits to
    /// restart it): the watchdog pings only while notifications can go out.
    relay_up: Arc<AtomicBool>,
    /// The log's backend: where feed state lives and which feeds this node polls.
    backend: Backend,
}

impl GenerationShared {
    /// Builds the shared context and the receiving end of the ingest queue.
    fn new(
        prepared: &Prepared,
        store: &Store,
        stats: &Arc<Stats>,
        handles: &DaemonHandles,
        backend: &Backend,
    ) -> (GenerationShared, mpsc::Receiver<IngestRequest>) {
        let (ingest, rx) = mpsc::channel(64);
        let ctx = GenerationShared {
            limit: Arc::new(Semaphore::new(prepared.config.daemon.concurrency.max(1))),
            prepared: prepared.clone(),
            store: store.clone(),
            stats: stats.clone(),
            wake_relay: handles.wake_relay.clone(),
            ingest,
            hosts: Arc::new(HostGates::new(
                prepared.config.daemon.per_host_concurrency,
                prepared.config.daemon.per_host_delay,
            )),
            robots: Arc::default(),
            handles: handles.clone(),
            polls_done: Arc::default(),
            relay_up: Arc::new(AtomicBool::new(true)),
            backend: backend.clone(),
        };
        (ctx, rx)
    }
}

/// Runs the daemon (or one pass with `--once`). Returns the counters for the summary.
pub async fn run(config_path: &Path, options: RunOptions) -> Result<Arc<Stats>, Error> {
    service::status("Loading the configuration");
    let prepared = Prepared::load(config_path)?;
    let state_dir = prepared.config.daemon.state_dir.clone();
    service::status("Opening the store and catching projections up");
    let store = Store::open(&state_dir)?;
    let backend = match Backend::start(&prepared, &store).await {
        Ok(backend) => backend,
        Err(error) => {
            let _ = store.shutdown().await;
            return Err(error);
        }
    };
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
        let result = run_once(prepared, store.clone(), stats.clone(), cancel, &backend).await;
        watcher.abort();
        result
    } else {
        run_forever(
            config_path,
            prepared,
            store.clone(),
            stats.clone(),
            &mut signals,
            &backend,
        )
        .await
    };
    backend.stop().await;
    // The store flushes and closes after every task of the last generation has stopped
    // (or the stop deadline passed: then whatever was not appended is re-polled later).
    let closed = match tokio::time::timeout(FLUSH_DEADLINE, store.shutdown()).await {
        Ok(closed) => closed,
        Err(_) => {
            error!(deadline = ?FLUSH_DEADLINE, "The store did not close in time; exiting anyway.");
            Ok(())
        }
    };
    result?;
    closed?;
    Ok(stats)
}

/// The service status line while a generation runs.
fn running_status(prepared: &Prepared) -> String {
    format!(
        "Running: {} feeds, {} rules",
        prepared.config.feeds.len(),
        prepared.config.rules.len()
    )
}

async fn run_forever(
    config_path: &Path,
    mut prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    signals: &mut mpsc::UnboundedReceiver<Signal>,
    backend: &Backend,
) -> Result<(), Error> {
    let handles = DaemonHandles::new(&stats, backend);
    let server = ApiServer::start(&prepared, &store, &handles).await?;
    let result = loop {
        let generation = Generation::start(
            prepared.clone(),
            store.clone(),
            stats.clone(),
            handles.clone(),
            backend,
        );
        // Store open, projections caught up, API bound, tasks running: ready.
        server.state.ready.store(true, Ordering::Release);
        service::ready(&running_status(&prepared));
        info!(
            feeds = prepared.config.feeds.len(),
            rules = prepared.config.rules.len(),
            "Parley is running."
        );
        let next = loop {
            let received = tokio::select! {
                signal = signals.recv() => signal,
                () = handles.store_failed.cancelled() => None,
            };
            match received {
                Some(Signal::Reload) => {
                    service::reloading();
                    match Prepared::load(config_path) {
                        Ok(new) => {
                            if new.config.daemon.state_dir != prepared.config.daemon.state_dir {
                                warn!(state_dir = %new.config.daemon.state_dir.display(), "A new state_dir takes effect only after a restart.");
                            }
                            if new.config.api != prepared.config.api
                                && (new.config.api.listen != prepared.config.api.listen
                                    || new.config.api.enabled != prepared.config.api.enabled)
                            {
                                warn!(
                                    "A new [api] listen address takes effect only after a restart."
                                );
                            }
                            break Some(new);
                        }
                        Err(error) => {
                            ConfigReloaded {
                                rejected: Some(&error.to_string()),
                            }
                            .emit(&handles.metrics.service);
                            service::ready(&format!(
                                "{}; last reload rejected",
                                running_status(&prepared)
                            ));
                        }
                    }
                }
                Some(Signal::Shutdown) | None => break None,
            }
        };
        if next.is_none() {
            server.state.ready.store(false, Ordering::Release);
            service::stopping();
            info!("Shutting down.");
        }
        let stopped = generation.stop(STOP_DEADLINE).await;
        match next {
            Some(new) => {
                ConfigReloaded { rejected: None }.emit(&handles.metrics.service);
                prepared = new;
                server.set_config(&prepared);
            }
            None => break stopped,
        }
    };
    server.stop().await;
    if handles.store_failed.is_cancelled() {
        return Err(Error::Store(crate::store::StoreError::Db {
            path: prepared.config.daemon.state_dir.display().to_string(),
            message: "a write failed (see the log above); stopped".into(),
        }));
    }
    result
}

async fn run_once(
    prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    cancel: CancellationToken,
    backend: &Backend,
) -> Result<(), Error> {
    // The rules are recorded (and backfilled) before anything is polled or delivered.
    pipeline::ensure_reconciled(&prepared, &store).await?;
    let handles = DaemonHandles::new(&stats, backend);
    let (ctx, ingest_rx) = GenerationShared::new(&prepared, &store, &stats, &handles, backend);
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
        backend.drain(prepared, store, stats, cancel).await?;
    }
    Ok(())
}

/// The tasks serving one configuration.
struct Generation {
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Generation {
    /// Spawns the pollers, the ingest task, the outbox relay (whichever `backend` uses) and
    /// (under a systemd watchdog) the watchdog for `prepared`.
    fn start(
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        handles: DaemonHandles,
        backend: &Backend,
    ) -> Generation {
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (ctx, ingest_rx) = GenerationShared::new(&prepared, &store, &stats, &handles, backend);
        let wake_relay = ctx.wake_relay.clone();
        for feed in prepared.config.feeds.iter().cloned() {
            tracker.spawn(poller(ctx.clone(), feed, cancel.clone()));
        }
        if let Some(period) = service::watchdog_interval() {
            tracker.spawn(watchdog(ctx.clone(), period, cancel.clone()));
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
        let relay_up = ctx.relay_up.clone();
        let store_failed = handles.store_failed.clone();
        let backend = backend.clone();
        let relay_cancel = cancel.clone();
        tracker.spawn(supervise_relay(
            relay_up,
            store_failed,
            cancel.clone(),
            move || {
                let (prepared, store, stats) = (prepared.clone(), store.clone(), stats.clone());
                let (backend, wake_relay, cancel) =
                    (backend.clone(), wake_relay.clone(), relay_cancel.clone());
                async move {
                    // The generation's rules are recorded (and backfilled) before its relay's
                    // first pass, so a backfilled alert goes out with it; a failure is
                    // retried with the relay's backoff.
                    pipeline::ensure_reconciled(&prepared, &store).await?;
                    backend
                        .relay(prepared, store, stats, wake_relay, cancel)
                        .await
                }
            },
        ));
        tracker.close();
        Generation { cancel, tracker }
    }

    /// Cancels every task of the generation and waits until all have finished, or until
    /// `deadline` has passed (logged; the tasks are then abandoned: nothing they had not
    /// appended is lost, since appends are atomic and un-appended work is redone).
    async fn stop(self, deadline: Duration) -> Result<(), Error> {
        self.cancel.cancel();
        if tokio::time::timeout(deadline, self.tracker.wait())
            .await
            .is_err()
        {
            error!(
                ?deadline,
                tasks = self.tracker.len(),
                "Tasks did not stop before the deadline; abandoning them."
            );
        }
        Ok(())
    }
}

/// A progress bar on stderr for `--once`, hidden when stderr is not a terminal.
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

/// How logs name a feed: its key (as before), except that an HTTP URL loses its query string,
/// where API keys live.
fn log_name(location: &FeedLocation) -> String {
    match location {
        FeedLocation::Http(_) => location.redacted(),
        FeedLocation::File(_) => location.key(),
    }
}
