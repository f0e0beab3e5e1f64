//! systemd's watchdog, pinged only while the daemon really works: the poll scheduler, ingest,
//! the outbox relay and the store's appender each prove they make progress every round.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::GenerationShared;
use super::ingest::IngestRequest;
use crate::service;

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
pub(super) async fn watchdog(ctx: GenerationShared, period: Duration, cancel: CancellationToken) {
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
        }
        crate::metrics::WatchdogRound { healthy }.emit(&ctx.handles.metrics.service);
        let rest = every.saturating_sub(started.elapsed());
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(rest) => {}
        }
    }
}
