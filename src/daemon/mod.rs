//! The daemon: one generation of tasks per configuration, one cancellation signal for all.
//!
//! Start-up and SIGHUP go through the same [`Prepared::load`] and [`Generation::start`]; a
//! reload builds the new generation's config first and only then cancels the old one, so a bad
//! edit leaves the running config in force. Shutdown and reload share one path: cancel the
//! generation's token and wait on its task tracker; only then is the store flushed and closed.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::{Notify, Semaphore, broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::api::{self, ApiState};
use crate::cluster::{Cluster, Leases};
use crate::config::FeedConfig;
use crate::config::LogBackend;
use crate::error::Error;
use crate::events::{Alert, Event};
use crate::feed::article::Robots;
use crate::feed::{self, FeedLocation, FetchOutcome, FullText};
use crate::metrics::{ConfigReloaded, FetchRefused, Metrics};
use crate::pipeline::{self, ArticleFetch, Prepared, Stats};
use crate::service;
use crate::signal::{self, Signal};
use crate::store::{FeedState, Store, StoreError};

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

/// A batch of freshly parsed articles for the single ingest task. The poller waits on `done`
/// before it stores the feed's new validators, so a crash can never skip unprocessed items.
/// `articles: None` is the watchdog's heartbeat: answered in queue order, it proves the
/// ingest task is taking work.
struct IngestRequest {
    feed: Option<FeedConfig>,
    articles: Vec<feed::Article>,
    /// When the poll that fetched the articles started: their arrival, for alert latency.
    polled_at: Instant,
    done: oneshot::Sender<Result<(), crate::store::StoreError>>,
}

/// Per-host politeness: at most `per_host_concurrency` requests in flight to one host, and
/// (optionally) at least `per_host_delay` between the starts of two requests to it.
struct HostGate {
    permits: Arc<Semaphore>,
    next_start: tokio::sync::Mutex<tokio::time::Instant>,
}

/// What the service layer adds to a generation: where alerts are broadcast, and the
/// counters the feed-health events update.
#[derive(Clone)]
pub struct Hooks {
    /// Alerts appended by ingest, sent after their append returned (SSE subscribers).
    pub alerts: broadcast::Sender<Alert>,
    /// Service counters and the pipeline's stats.
    pub metrics: Metrics,
    /// Cancelled when the store failed to write (a full disk, an I/O error). sled keeps such
    /// an error for the life of the open database, so every later append would fail too: the
    /// daemon stops and exits 1, and the service manager's restart (`Restart=on-failure`)
    /// reopens the store and resumes from the log once the disk can take writes again.
    pub store_failed: CancellationToken,
    /// Wakes the outbox relay of whichever generation runs; shared with the API, whose
    /// write verbs (`alerts retry`) put entries back into the outbox.
    pub wake_relay: Arc<Notify>,
}

impl Hooks {
    fn new(stats: &Arc<Stats>, cluster: Option<&ClusterRuntime>) -> Hooks {
        let mut metrics = Metrics::new(stats.clone());
        if let Some(c) = cluster {
            metrics.cluster = c.cluster.gauges().clone();
        }
        Hooks {
            alerts: broadcast::channel(api::ALERT_STREAM_CAPACITY).0,
            metrics,
            store_failed: CancellationToken::new(),
            wake_relay: Arc::new(Notify::new()),
        }
    }
}

/// The NATS backend's process-wide part: the connection, the stream mirror and the lease
/// rounds. They outlive configuration generations (a reload keeps the node's leases and
/// position) and stop after the last generation, before the store closes.
#[derive(Clone)]
struct ClusterRuntime {
    cluster: Cluster,
    leases: Arc<Leases>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl ClusterRuntime {
    /// Connects, starts mirroring the stream into `store` and waits until the mirror has
    /// caught up with the stream, then starts the lease rounds.
    async fn start(prepared: &Prepared, store: &Store) -> Result<ClusterRuntime, Error> {
        let log = &prepared.config.log;
        let gauges = Arc::new(crate::metrics::ClusterGauges::default());
        let cluster = Cluster::connect(log, gauges).await?;
        // Before mirroring or relaying anything: a second live process with this node id
        // would duplicate notifications, so it must not start.
        crate::cluster::lease::register(&cluster).await?;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        cluster.attach(store, cancel.clone(), &tracker)?;
        service::status("Catching up from the NATS stream");
        let last = cluster.wait_caught_up(&cancel).await?;
        info!(stream_seq = last, node = %log.node_id, "Caught up with the NATS stream.");
        let leases = Leases::new(log.lease_ttl);
        tracker.spawn(crate::cluster::lease::run(
            cluster.clone(),
            leases.clone(),
            cancel.clone(),
        ));
        Ok(ClusterRuntime {
            cluster,
            leases,
            cancel,
            tracker,
        })
    }

    /// Releases the leases and stops the mirror.
    async fn stop(self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(FLUSH_DEADLINE, self.tracker.wait())
            .await
            .is_err()
        {
            warn!("The NATS mirror and lease tasks did not stop in time.");
        }
    }
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
    hosts: Arc<Mutex<HashMap<String, Arc<HostGate>>>>,
    /// robots.txt rules by origin, with when they were fetched (kept for [`ROBOTS_TTL`]).
    robots: Arc<tokio::sync::Mutex<RobotsCache>>,
    hooks: Hooks,
    /// Polls finished (any outcome): the watchdog's evidence that the scheduler moves.
    polls_done: Arc<std::sync::atomic::AtomicU64>,
    /// True while this generation's outbox relay runs (false while its supervisor waits to
    /// restart it): the watchdog pings only while notifications can go out.
    relay_up: Arc<AtomicBool>,
    /// The NATS backend, if configured: feed leases and shared feed state.
    cluster: Option<ClusterRuntime>,
}

impl Ctx {
    /// Builds the shared context and the receiving end of the ingest queue.
    fn new(
        prepared: &Prepared,
        store: &Store,
        stats: &Arc<Stats>,
        hooks: &Hooks,
        cluster: Option<&ClusterRuntime>,
    ) -> (Ctx, mpsc::Receiver<IngestRequest>) {
        let (ingest, rx) = mpsc::channel(64);
        let ctx = Ctx {
            limit: Arc::new(Semaphore::new(prepared.config.daemon.concurrency.max(1))),
            prepared: prepared.clone(),
            store: store.clone(),
            stats: stats.clone(),
            wake_relay: hooks.wake_relay.clone(),
            ingest,
            hosts: Arc::new(Mutex::new(HashMap::new())),
            robots: Arc::new(tokio::sync::Mutex::new(HashMap::new())),
            hooks: hooks.clone(),
            polls_done: Arc::default(),
            relay_up: Arc::new(AtomicBool::new(true)),
            cluster: cluster.cloned(),
        };
        (ctx, rx)
    }

    /// The politeness gate of a feed's host (`None` for local files).
    fn host_gate(&self, location: &FeedLocation) -> Option<Arc<HostGate>> {
        let FeedLocation::Http(url) = location else {
            return None;
        };
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let per_host = self.prepared.config.daemon.per_host_concurrency.max(1);
        if !hosts.contains_key(&host) {
            prune_gates(&mut hosts, tokio::time::Instant::now());
        }
        Some(
            hosts
                .entry(host)
                .or_insert_with(|| {
                    Arc::new(HostGate {
                        permits: Arc::new(Semaphore::new(per_host)),
                        next_start: tokio::sync::Mutex::new(tokio::time::Instant::now()),
                    })
                })
                .clone(),
        )
    }
}

/// Drops the politeness gates that nothing uses: no task holds the gate, no request holds one
/// of its permits, and its per-host delay has passed. A fresh gate for that host behaves the
/// same (all permits free, may start now). Without this the map keeps every host an article
/// page was ever fetched from, until the next reload.
fn prune_gates(hosts: &mut HashMap<String, Arc<HostGate>>, now: tokio::time::Instant) {
    hosts.retain(|_, gate| {
        Arc::strong_count(gate) > 1
            || Arc::strong_count(&gate.permits) > 1
            || gate.next_start.try_lock().map_or(true, |next| *next > now)
    });
}

/// Runs the daemon (or one pass with `--once`). Returns the counters for the summary.
pub async fn run(config_path: &Path, options: RunOptions) -> Result<Arc<Stats>, Error> {
    service::status("Loading the configuration");
    let prepared = Prepared::load(config_path)?;
    let state_dir = prepared.config.daemon.state_dir.clone();
    service::status("Opening the store and catching projections up");
    let store = Store::open(&state_dir)?;
    let cluster = if prepared.config.log.backend == LogBackend::Nats {
        match ClusterRuntime::start(&prepared, &store).await {
            Ok(c) => Some(c),
            Err(error) => {
                let _ = store.shutdown().await;
                return Err(error);
            }
        }
    } else {
        None
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
        let result = run_once(
            prepared,
            store.clone(),
            stats.clone(),
            cancel,
            cluster.as_ref(),
        )
        .await;
        watcher.abort();
        result
    } else {
        run_forever(
            config_path,
            prepared,
            store.clone(),
            stats.clone(),
            &mut signals,
            cluster.as_ref(),
        )
        .await
    };
    if let Some(cluster) = cluster {
        cluster.stop().await;
    }
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

/// The HTTP API while the daemon runs: its state (shared with the generations) and task.
struct ApiServer {
    state: ApiState,
    task: Option<tokio::task::JoinHandle<()>>,
    addr_file: Option<std::path::PathBuf>,
}

impl ApiServer {
    /// Binds and starts the API if enabled. A bind failure is fatal at start-up, before
    /// READY=1, so systemd reports the failed start.
    async fn start(prepared: &Prepared, store: &Store, hooks: &Hooks) -> Result<ApiServer, Error> {
        let state = ApiState {
            store: store.clone(),
            metrics: hooks.metrics.clone(),
            ready: Arc::new(AtomicBool::new(false)),
            config: Arc::new(RwLock::new(prepared.config.clone())),
            alerts: hooks.alerts.clone(),
            shutdown: CancellationToken::new(),
            started: Instant::now(),
            wake_relay: hooks.wake_relay.clone(),
        };
        let api = &prepared.config.api;
        if !api.enabled {
            return Ok(ApiServer {
                state,
                task: None,
                addr_file: None,
            });
        }
        let listener = api::bind(api.listen).await?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            path: format!("api.listen {}", api.listen).into(),
            source,
        })?;
        info!(%addr, auth = api.token.is_some(), "HTTP API listening.");
        // A CLI finds a port-0 daemon through this file.
        let file = api::client::addr_file(&prepared.config.daemon.state_dir);
        let addr_file = match std::fs::write(&file, format!("{addr}\n")) {
            Ok(()) => Some(file),
            Err(error) => {
                warn!(path = %file.display(), %error, "Cannot record the API address.");
                None
            }
        };
        let task = tokio::spawn(api::serve(listener, state.clone()));
        Ok(ApiServer {
            state,
            task: Some(task),
            addr_file,
        })
    }

    fn set_config(&self, prepared: &Prepared) {
        let mut config = self.state.config.write().unwrap_or_else(|p| p.into_inner());
        *config = prepared.config.clone();
    }

    async fn stop(self) {
        self.state.ready.store(false, Ordering::Release);
        self.state.shutdown.cancel();
        if let Some(task) = self.task
            && tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
        {
            warn!("The HTTP API did not stop in time.");
        }
        if let Some(file) = self.addr_file {
            let _ = std::fs::remove_file(file);
        }
    }
}

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
    cluster: Option<&ClusterRuntime>,
) -> Result<(), Error> {
    let hooks = Hooks::new(&stats, cluster);
    let server = ApiServer::start(&prepared, &store, &hooks).await?;
    let result = loop {
        let generation = Generation::start(
            prepared.clone(),
            store.clone(),
            stats.clone(),
            hooks.clone(),
            false,
            cluster,
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
                () = hooks.store_failed.cancelled() => None,
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
                            .emit(&hooks.metrics.service);
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
                ConfigReloaded { rejected: None }.emit(&hooks.metrics.service);
                prepared = new;
                server.set_config(&prepared);
            }
            None => break stopped,
        }
    };
    server.stop().await;
    if hooks.store_failed.is_cancelled() {
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
    cluster: Option<&ClusterRuntime>,
) -> Result<(), Error> {
    let hooks = Hooks::new(&stats, cluster);
    let (ctx, ingest_rx) = Ctx::new(&prepared, &store, &stats, &hooks, cluster);
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
    if let Some(c) = cluster
        && !cancel.is_cancelled()
    {
        // Deliver what is due (retries included) and leave what grouping holds, as the
        // sled drain does, through the cluster's locks and shared work queue.
        c.cluster
            .clone()
            .drain(prepared, store, stats, cancel)
            .await?;
        return Ok(());
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
    /// Spawns the pollers, the ingest task, the outbox relay and (under a systemd watchdog)
    /// the watchdog for `prepared`.
    fn start(
        prepared: Prepared,
        store: Store,
        stats: Arc<Stats>,
        hooks: Hooks,
        drain: bool,
        cluster: Option<&ClusterRuntime>,
    ) -> Generation {
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (ctx, ingest_rx) = Ctx::new(&prepared, &store, &stats, &hooks, cluster);
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
        let store_failed = hooks.store_failed.clone();
        match cluster {
            // The shared work queue replaces the local outbox relay: each notification goes
            // to one node of the cluster.
            Some(c) => {
                let cluster = c.cluster.clone();
                let cancel = cancel.clone();
                tracker.spawn(supervise_relay(
                    relay_up,
                    store_failed,
                    cancel.clone(),
                    move || {
                        let relay = cluster.clone().relay(
                            prepared.clone(),
                            store.clone(),
                            stats.clone(),
                            cancel.clone(),
                        );
                        async move { relay.await.map_err(StoreError::from) }
                    },
                ));
            }
            None => {
                let cancel = cancel.clone();
                tracker.spawn(supervise_relay(
                    relay_up,
                    store_failed,
                    cancel.clone(),
                    move || {
                        pipeline::relay_loop(
                            prepared.clone(),
                            store.clone(),
                            stats.clone(),
                            wake_relay.clone(),
                            cancel.clone(),
                            drain,
                        )
                    },
                ));
            }
        }
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

/// Keeps a generation's outbox relay (the sled one or the NATS work queue) running until the
/// generation is cancelled. A relay that stops on an error is restarted with backoff (200 ms
/// doubling to 10 s); one that stops because the store cannot write ends the daemon, as ingest
/// does (`store_failed`), since every delivery it records would fail too. `up` tells the
/// watchdog whether a relay is running.
async fn supervise_relay<F, Fut>(
    up: Arc<AtomicBool>,
    store_failed: CancellationToken,
    cancel: CancellationToken,
    mut start: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>>,
{
    let mut backoff = Duration::from_millis(200);
    loop {
        up.store(true, Ordering::Release);
        let result = start().await;
        up.store(false, Ordering::Release);
        match result {
            Ok(()) => return,
            Err(error) if store_cannot_write(&error) => {
                error!(%error, "The store cannot write; the outbox relay stops and so does the daemon, so that a restart resumes from the log.");
                store_failed.cancel();
                return;
            }
            Err(error) => warn!(%error, retry_in = ?backoff, "Outbox relay stopped; restarting."),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// Whether an error means the store can no longer write (sled keeps an I/O error such as
/// ENOSPC for the life of the open database): the daemon must stop, and a restart resumes.
fn store_cannot_write(error: &StoreError) -> bool {
    matches!(error, StoreError::Db { .. })
}

/// Pings systemd's watchdog only while the daemon really works. Each round checks that
/// the poll scheduler admits work (a poll slot is free, or a poll finished since the last
/// round: busy is fine, stuck is not), that the outbox relay is running (not stopped and
/// waiting for its supervisor's restart), sends a heartbeat through the ingest queue (the
/// single ingest task is taking batches) and makes a no-op round trip through the store's
/// appender (the single writer is flushing). If any of them stalls, the pings stop and
/// systemd restarts the service.
///
/// The scheduler is judged by progress rather than by queueing for a slot: behind a first
/// cycle of hundreds of feeds a queued probe could wait longer than the watchdog period
/// while every poll moves along, and systemd would kill a healthy daemon.
async fn watchdog(ctx: Ctx, period: Duration, cancel: CancellationToken) {
    let every = period / 2;
    info!(?period, "systemd watchdog enabled.");
    let mut polls_seen = ctx.polls_done.load(Ordering::Relaxed);
    loop {
        let polls = ctx.polls_done.load(Ordering::Relaxed);
        let admitting = (polls != polls_seen || ctx.limit.available_permits() > 0)
            && ctx.relay_up.load(Ordering::Acquire);
        polls_seen = polls;
        let round = async {
            if !admitting {
                return None;
            }
            let (done, answer) = oneshot::channel();
            ctx.ingest
                .send(IngestRequest {
                    feed: None,
                    articles: Vec::new(),
                    polled_at: Instant::now(),
                    done,
                })
                .await
                .ok()?;
            answer.await.ok()?.ok()?;
            ctx.store.ping().await.ok()
        };
        let started = tokio::time::Instant::now();
        let healthy = tokio::select! {
            () = cancel.cancelled() => return,
            r = tokio::time::timeout(every, round) => matches!(r, Ok(Some(()))),
        };
        if healthy {
            service::watchdog_ping();
            ctx.hooks
                .metrics
                .service
                .watchdog_pings
                .fetch_add(1, Ordering::Relaxed);
        } else {
            warn!(
                "Watchdog round failed: the poll scheduler, ingest, the outbox relay or the store appender is stuck."
            );
        }
        let rest = every.saturating_sub(started.elapsed());
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(rest) => {}
        }
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
/// After a batch's append has returned, its new alerts go to the alert stream.
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
        hooks,
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
        let streaming = hooks.alerts.receiver_count() > 0;
        let before = if streaming {
            store.last_seq().ok()
        } else {
            None
        };
        let prepared = prepared.clone();
        let started = Instant::now();
        let result = pipeline::ingest(
            &prepared,
            &store,
            &stats,
            &feed,
            request.articles,
            request.polled_at,
            &wake_relay,
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
                hooks.store_failed.cancel();
            }
        }
        if let Some(before) = before {
            broadcast_alerts(&store, before, &hooks.alerts);
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

/// Sends the `alert.raised` events appended after `before` to the stream's subscribers.
/// Ingest is the only task appending alerts, so the range holds exactly this batch's.
fn broadcast_alerts(store: &Store, before: u64, alerts: &broadcast::Sender<Alert>) {
    for env in store.iter_from(before + 1) {
        match env {
            Ok(env) => {
                if let Event::AlertRaised(alert) = env.event {
                    let _ = alerts.send(alert);
                }
            }
            Err(error) => {
                warn!(%error, "Cannot read new alerts for the stream.");
                return;
            }
        }
    }
}

/// How logs name a feed: its key (as before), except that an HTTP URL loses its query string,
/// where API keys live.
fn log_name(location: &FeedLocation) -> String {
    match location {
        FeedLocation::Http(_) => location.redacted(),
        FeedLocation::File(_) => location.key(),
    }
}

/// One feed's life in the daemon: wait until due, poll, reschedule; stop when cancelled.
async fn poller(ctx: Ctx, feed: FeedConfig, cancel: CancellationToken) {
    let key = feed.location.key();
    let mut delay = first_delay(&ctx, &feed).await;
    // Logs show the URL without its query string, where API keys live.
    let shown = log_name(&feed.location);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        if let Some(c) = &ctx.cluster
            && !c.leases.owns(&key)
        {
            // Another node polls it (or nobody yet): wait for this node's lease, then
            // follow the schedule the feed's shared state says.
            loop {
                let changed = c.leases.changed.notified();
                if c.leases.owns(&key) {
                    break;
                }
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = changed => {}
                    () = tokio::time::sleep(c.cluster.config().lease_ttl) => {}
                }
            }
            tracing::debug!(feed = %shown, "Feed lease held; polling it here.");
            delay = first_delay(&ctx, &feed).await;
            continue;
        }
        let outcome = tokio::select! {
            () = cancel.cancelled() => return,
            outcome = poll_feed(&ctx, &feed) => outcome,
        };
        ctx.polls_done.fetch_add(1, Ordering::Relaxed);
        delay = match outcome {
            Some(Next::In(delay)) => delay,
            Some(Next::Never) => return,
            None => jittered(feed.interval),
        };
        tracing::debug!(feed = %shown, next_in = ?delay, "Next poll scheduled.");
    }
}

async fn first_delay(ctx: &Ctx, feed: &FeedConfig) -> Duration {
    let jitter = Duration::from_millis(fastrand::u64(
        0..=feed.interval.as_millis().min(10_000) as u64,
    ));
    let state = load_feed_state(ctx, &feed.location.key())
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    // A planned poll (including a backoff) survives a restart.
    if let Some(next) = state.next_poll {
        let until = (next - Utc::now()).to_std().unwrap_or_default();
        return until.min(feed.interval) + jitter;
    }
    match state.last_success {
        Some(last) => {
            let since = (Utc::now() - last).to_std().unwrap_or_default();
            feed.interval.saturating_sub(since) + jitter
        }
        None => jitter,
    }
}

/// A feed's polling state: from the cluster's KV with the NATS backend (so it moves with
/// the lease), else from the local store.
async fn load_feed_state(ctx: &Ctx, key: &str) -> Result<Option<FeedState>, Error> {
    match &ctx.cluster {
        Some(c) => Ok(c.cluster.feed_state(key).await?),
        None => Ok(ctx.store.feed_state(key)?),
    }
}

/// Saves a feed's polling state where [`load_feed_state`] reads it; with the NATS backend
/// also into the local store, so `parley feeds` on this node shows the feeds it polls.
async fn save_feed_state(ctx: &Ctx, key: &str, state: &FeedState) -> Result<(), Error> {
    if let Some(c) = &ctx.cluster {
        c.cluster.put_feed_state(key, state).await?;
    }
    Ok(ctx.store.put_feed_state(key, state).await?)
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

/// When a feed is to be polled again.
enum Next {
    /// After this delay.
    In(Duration),
    /// Never (the feed is disabled).
    Never,
}

/// The slots one poll holds while it runs: its host's, then the global one.
struct Slots {
    /// Taken (dropped) once the feed request is done, so that the article pages fetched for
    /// the feed, perhaps on the same host, can queue for the host slot themselves.
    host: Option<tokio::sync::OwnedSemaphorePermit>,
    _global: tokio::sync::OwnedSemaphorePermit,
}

/// Waits out the host's `per_host_delay` since its last request, and books the next one.
async fn host_delay(ctx: &Ctx, gate: &HostGate) {
    if let Some(delay) = ctx.prepared.config.daemon.per_host_delay {
        let mut next = gate.next_start.lock().await;
        tokio::time::sleep_until(*next).await;
        *next = tokio::time::Instant::now() + delay;
    }
}

/// Waits for the right to poll `feed`: a slot of its host (`per_host_concurrency`), then a
/// global slot (`concurrency`), then the host's `per_host_delay` since its last request.
///
/// The host slot comes first so that feeds queueing for a busy or slow host never sit on
/// global slots: otherwise a publisher with many feeds and a `per_host_delay` would starve
/// every other host (and the watchdog, which takes a global slot to prove the scheduler
/// admits work). `None` if the generation's semaphores are closed.
async fn acquire_slots(ctx: &Ctx, feed: &FeedConfig) -> Option<Slots> {
    let gate = ctx.host_gate(&feed.location);
    let host = match &gate {
        Some(gate) => Some(gate.permits.clone().acquire_owned().await.ok()?),
        None => None,
    };
    let global = ctx.limit.clone().acquire_owned().await.ok()?;
    if let Some(gate) = &gate {
        host_delay(ctx, gate).await;
    }
    Some(Slots {
        host,
        _global: global,
    })
}

/// Waits for the host's politeness gate alone: a per-host slot, then the per-host delay.
/// Article pages fetched for a feed use it while their poll already holds a global slot.
async fn host_slot(
    ctx: &Ctx,
    location: &FeedLocation,
) -> Option<Option<tokio::sync::OwnedSemaphorePermit>> {
    let Some(gate) = ctx.host_gate(location) else {
        return Some(None);
    };
    let permit = gate.permits.clone().acquire_owned().await.ok()?;
    host_delay(ctx, &gate).await;
    Some(Some(permit))
}

/// Polls one feed once: fetch, parse, ingest, then record the feed's state, including when
/// it is due next (backoff on failure, Retry-After honoured). `None` if the state could not
/// be read or saved, or ingest did not finish.
async fn poll_feed(ctx: &Ctx, feed: &FeedConfig) -> Option<Next> {
    let started = Instant::now();
    let next = poll_feed_from(ctx, feed, started).await;
    if !matches!(next, Some(Next::Never)) {
        ctx.stats
            .latency
            .poll
            .observe(started.elapsed().as_secs_f64());
    }
    next
}

/// [`poll_feed`] for a poll that started at `started` (its articles' arrival time).
async fn poll_feed_from(ctx: &Ctx, feed: &FeedConfig, started: Instant) -> Option<Next> {
    let key = feed.location.key();
    // Logs and metrics show the URL without its query string, where API keys live.
    let shown = log_name(&feed.location);
    let mut slots = acquire_slots(ctx, feed).await?;
    let mut state = match load_feed_state(ctx, &key).await {
        Ok(state) => state.unwrap_or_default(),
        Err(error) => {
            error!(feed = %shown, %error, "Cannot read feed state.");
            return None;
        }
    };
    if let Some(why) = &state.disabled {
        info!(feed = %shown, reason = %why, "Feed is disabled; not polling it.");
        return Some(Next::Never);
    }
    let now = Utc::now();
    // After a permanent redirect, poll where the feed now lives (article ids keep using the
    // configured key, so nothing is ingested twice).
    let location = state
        .effective_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map_or_else(|| feed.location.clone(), FeedLocation::Http);
    let mut moved_to = None;
    let mut recovered = None;
    let result = match ctx
        .prepared
        .fetcher
        .fetch(&location, &state.validators)
        .await
    {
        Ok(FetchOutcome::Gone) => {
            crate::metrics::FeedGone { feed: &shown }.emit(&ctx.hooks.metrics.service);
            state.disabled = Some(format!(
                "the server answered 410 Gone on {}",
                now.format("%Y-%m-%d %H:%M UTC")
            ));
            state.next_poll = None;
            if let Err(error) = save_feed_state(ctx, &key, &state).await {
                error!(feed = %shown, %error, "Cannot save feed state.");
                return None;
            }
            return Some(Next::Never);
        }
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
            moved_to: moved,
        }) => {
            moved_to = moved;
            let key2 = key.clone();
            let parsed = tokio::task::spawn_blocking(move || {
                feed::parse_feed(&key2, &bytes, content_type.as_deref())
            })
            .await;
            match parsed {
                Ok(Ok(parsed)) => {
                    recovered = parsed.recovery.map(|r| r.to_string());
                    Ok(Some((parsed.articles, validators)))
                }
                Ok(Err(error)) => Err((error.to_string(), None)),
                Err(join) => Err((format!("parser crashed: {join}"), None)),
            }
        }
        Err(error) => {
            if let Some(refused) = error.refused {
                FetchRefused {
                    what: "feed redirect",
                    url: &shown,
                    refused,
                }
                .emit(&ctx.stats);
            }
            Err((error.message.clone(), error.retry_after))
        }
    };
    // The feed request is done: free its host slot before article pages (maybe on the same
    // host) queue for theirs.
    drop(slots.host.take());
    let mut retry = None;
    match result {
        Ok(fetched) => {
            if let Some((mut articles, validators)) = fetched {
                if feed.fetch_article {
                    fetch_full_texts(ctx, &mut articles).await;
                }
                let count = articles.len() as u64;
                let (done_tx, done_rx) = oneshot::channel();
                let request = IngestRequest {
                    feed: Some(feed.clone()),
                    articles,
                    polled_at: started,
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
                if let Some(repairs) = &recovered {
                    crate::metrics::FeedRecovered {
                        feed: &shown,
                        repairs,
                    }
                    .emit(&ctx.hooks.metrics.service);
                }
                state.recovered = recovered;
                ctx.stats
                    .feeds_ok
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                info!(feed = %shown, items = count, "Feed polled.");
            }
            state.last_success = Some(now);
            state.last_error = None;
            state.consecutive_failures = 0;
            if let Some(to) = moved_to {
                crate::metrics::FeedRedirected {
                    feed: &shown,
                    to: &FeedLocation::Http(to.clone()).redacted(),
                }
                .emit(&ctx.hooks.metrics.service);
                state.effective_url = Some(to.to_string());
            }
        }
        Err((message, retry_after)) => {
            retry = retry_after;
            ctx.stats
                .feeds_failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            state.consecutive_failures += 1;
            warn!(feed = %shown, error = %message, failures = state.consecutive_failures, "Feed fetch failed.");
            state.last_error = Some(message);
        }
    }
    let delay = if state.consecutive_failures > 0 {
        feed::backoff(
            state.consecutive_failures,
            Duration::from_secs(60).min(feed.interval),
            ctx.prepared.config.daemon.max_backoff,
            retry,
        )
    } else {
        jittered(feed.interval)
    };
    state.next_poll = chrono::Duration::from_std(delay)
        .ok()
        .map(|d| Utc::now() + d);
    if let Err(error) = save_feed_state(ctx, &key, &state).await {
        error!(feed = %shown, %error, "Cannot save feed state.");
        return None;
    }
    Some(Next::In(delay))
}

/// robots.txt rules by origin (`scheme://host:port`), with when they were fetched.
type RobotsCache = HashMap<String, (Instant, Arc<Robots>)>;

/// How long a host's robots.txt rules are trusted before they are fetched again.
const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);

/// Drops the robots.txt rules older than [`ROBOTS_TTL`]: they would be fetched again before
/// use anyway, and without this the cache keeps every origin an article page was ever fetched
/// from, until the next reload.
fn prune_robots(cache: &mut RobotsCache, now: Instant) {
    cache.retain(|_, (at, _)| now.saturating_duration_since(*at) < ROBOTS_TTL);
}

/// For a `fetch_article` feed: fetches the page of each new item whose feed text is thin and
/// adds its main text (`Article::full_text`), keeping it content-addressed in the store. A
/// URL fetched before is served from the store; robots.txt and the per-host limits are
/// obeyed; any failure keeps the feed's own text, so a page never stops an item.
async fn fetch_full_texts(ctx: &Ctx, articles: &mut [feed::Article]) {
    for article in articles.iter_mut() {
        let Some(link) = article.url.clone() else {
            continue;
        };
        if !feed::article::is_thin(&article.text) || ctx.store.contains(&article.id).unwrap_or(true)
        {
            continue;
        }
        match ctx.store.article_text_for_url(&link) {
            Ok(Some((sha256, text))) => {
                ArticleFetch::Cached.count(&ctx.stats);
                article.full_text = Some(FullText { sha256, text });
                continue;
            }
            Ok(None) => {}
            Err(error) => {
                warn!(%error, "Cannot read the article text cache.");
                continue;
            }
        }
        let Ok(url) = url::Url::parse(&link) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let shown = FeedLocation::Http(url.clone()).redacted();
        let refuse = |refused| {
            FetchRefused {
                what: "article page",
                url: &shown,
                refused,
            }
            .emit(&ctx.stats);
            ArticleFetch::Refused.count(&ctx.stats);
        };
        // Checked before robots.txt too: a link to a refused address costs no request at all.
        if let Err(refused) = ctx.prepared.fetcher.policy().check_url(&url, false) {
            refuse(refused);
            continue;
        }
        if !robots_allow(ctx, &url).await {
            info!(article = %shown, "robots.txt disallows the article page; keeping the feed's text.");
            ArticleFetch::RobotsDisallowed.count(&ctx.stats);
            continue;
        }
        let location = FeedLocation::Http(url.clone());
        let Some(slot) = host_slot(ctx, &location).await else {
            continue;
        };
        let fetched = ctx.prepared.fetcher.fetch_page(&url).await;
        drop(slot);
        let (bytes, content_type) = match fetched {
            Ok(FetchOutcome::Body {
                bytes,
                content_type,
                ..
            }) => (bytes, content_type),
            Ok(_) => {
                ArticleFetch::Failed.count(&ctx.stats);
                continue;
            }
            Err(error) => {
                match error.refused {
                    Some(refused) => refuse(refused),
                    None => {
                        warn!(article = %shown, error = %error.message, "Article fetch failed; keeping the feed's text.");
                        ArticleFetch::Failed.count(&ctx.stats);
                    }
                }
                continue;
            }
        };
        let page_url = url.to_string();
        let text = tokio::task::spawn_blocking(move || {
            feed::article::page_text(&bytes, content_type.as_deref(), &page_url)
        })
        .await
        .ok()
        .flatten();
        let Some(text) = text else {
            info!(article = %shown, "No main text found on the article page.");
            ArticleFetch::NoText.count(&ctx.stats);
            continue;
        };
        match ctx.store.put_article_text(&link, &text).await {
            Ok(sha256) => {
                info!(article = %shown, chars = text.len(), "Article page fetched.");
                ArticleFetch::Fetched.count(&ctx.stats);
                article.full_text = Some(FullText { sha256, text });
            }
            Err(error) => {
                warn!(article = %shown, %error, "Cannot store the article text.");
                ArticleFetch::StoreFailed.count(&ctx.stats);
            }
        }
    }
}

/// May parley fetch `url`? Reads (and caches per origin) the host's robots.txt through the
/// same client and per-host gate as everything else.
async fn robots_allow(ctx: &Ctx, url: &url::Url) -> bool {
    let origin = url.origin().ascii_serialization();
    let mut cache = ctx.robots.lock().await;
    if let Some((at, robots)) = cache.get(&origin)
        && at.elapsed() < ROBOTS_TTL
    {
        return robots.allowed(url.as_str());
    }
    let Ok(robots_url) = url.join("/robots.txt") else {
        return false;
    };
    let location = FeedLocation::Http(robots_url.clone());
    let robots = {
        let Some(_slot) = host_slot(ctx, &location).await else {
            return false;
        };
        match ctx.prepared.fetcher.fetch_page(&robots_url).await {
            Ok(FetchOutcome::Body { bytes, .. }) => Robots::parse(&bytes),
            Ok(_) => Robots::AllowAll,
            Err(error) => {
                if let Some(refused) = error.refused {
                    FetchRefused {
                        what: "robots.txt",
                        url: &location.redacted(),
                        refused,
                    }
                    .emit(&ctx.stats);
                }
                Robots::after_error(error.status)
            }
        }
    };
    let allowed = robots.allowed(url.as_str());
    let now = Instant::now();
    prune_robots(&mut cache, now);
    cache.insert(origin, (now, Arc::new(robots)));
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the supervisor over a relay that fails `fails` times with `error`, then returns
    /// Ok. Gives how often the relay was started, whether the watchdog sees it up at the end,
    /// and whether the daemon was told to stop (`store_failed`).
    async fn supervised(fails: usize, error: fn() -> StoreError) -> (usize, bool, bool) {
        let starts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (up, failed) = (Arc::new(AtomicBool::new(true)), CancellationToken::new());
        let counted = starts.clone();
        supervise_relay(
            up.clone(),
            failed.clone(),
            CancellationToken::new(),
            move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                std::future::ready(if n < fails { Err(error()) } else { Ok(()) })
            },
        )
        .await;
        (
            starts.load(Ordering::SeqCst),
            up.load(Ordering::SeqCst),
            failed.is_cancelled(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_relay_that_stops_on_an_error_is_restarted() {
        // A store error other than a failed write (a corrupt read, NATS unreachable) must not
        // end delivery until the next reload: the supervisor restarts the relay.
        let corrupt = || StoreError::Corrupt {
            key: "k".into(),
            message: "bad".into(),
        };
        let (starts, _, failed) = supervised(3, corrupt).await;
        assert_eq!(starts, 4, "three failures, then a clean stop");
        assert!(!failed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_that_cannot_write_stops_the_daemon_through_the_relay() {
        // ENOSPC seen by the relay ends the daemon as it does for ingest: no restart loop.
        let full = || StoreError::Db {
            path: "state".into(),
            message: "No space left on device".into(),
        };
        let (starts, up, failed) = supervised(usize::MAX, full).await;
        assert_eq!(starts, 1);
        assert!(failed, "store_failed must be set");
        assert!(!up, "the watchdog must see the relay down");
    }

    fn gate(per_host: usize, next_start: tokio::time::Instant) -> Arc<HostGate> {
        Arc::new(HostGate {
            permits: Arc::new(Semaphore::new(per_host)),
            next_start: tokio::sync::Mutex::new(next_start),
        })
    }

    // The gate map must not keep idle hosts forever, yet never forget a gate still limiting
    // a request (a held gate, a held permit, or a per-host delay not yet over).
    #[test]
    fn idle_politeness_gates_leave_the_map_and_busy_ones_stay() {
        let now = tokio::time::Instant::now();
        let mut hosts = HashMap::new();
        hosts.insert("idle:80".to_string(), gate(2, now));
        let held = gate(2, now);
        hosts.insert("held:80".to_string(), held.clone());
        let in_flight = gate(2, now);
        let permit = in_flight.permits.clone().try_acquire_owned();
        assert!(permit.is_ok());
        hosts.insert("in-flight:80".to_string(), in_flight);
        hosts.insert(
            "delayed:80".to_string(),
            gate(2, now + Duration::from_secs(5)),
        );
        prune_gates(&mut hosts, now);
        let mut left: Vec<&str> = hosts.keys().map(String::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["delayed:80", "held:80", "in-flight:80"]);
        drop((held, permit));
        prune_gates(&mut hosts, now + Duration::from_secs(6));
        assert!(hosts.is_empty(), "left: {:?}", hosts.keys());
    }

    // robots.txt rules past their TTL are useless (they are fetched again before use), so
    // they must leave the cache; fresh ones must stay.
    #[test]
    fn robots_rules_past_their_ttl_leave_the_cache() {
        let old = Instant::now();
        let now = old + ROBOTS_TTL + Duration::from_secs(1);
        let mut cache = RobotsCache::new();
        cache.insert("http://old".to_string(), (old, Arc::new(Robots::AllowAll)));
        cache.insert("http://new".to_string(), (now, Arc::new(Robots::AllowAll)));
        prune_robots(&mut cache, now);
        assert_eq!(cache.keys().collect::<Vec<_>>(), ["http://new"]);
    }
}
