//! The poll scheduler: one poller per feed that waits until the feed is due, takes its
//! host's slot and a global one, polls, hands the articles to ingest, and schedules the next
//! poll (backoff after failures, `Retry-After` honoured, jitter so feeds do not poll in
//! lockstep). With the NATS backend a feed is polled only by the node holding its lease.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use super::full_text::fetch_full_texts;
use super::ingest::IngestRequest;
use super::{GenerationShared, log_name};
use crate::config::FeedConfig;
use crate::error::Error;
use crate::feed::{self, FeedLocation, FetchOutcome};
use crate::metrics::FetchRefused;
use crate::store::FeedState;

/// One feed's life in the daemon: wait until due, poll, reschedule; stop when cancelled.
pub(super) async fn poller(ctx: GenerationShared, feed: FeedConfig, cancel: CancellationToken) {
    let key = feed.location.key();
    let mut delay = first_delay(&ctx, &feed).await;
    // Logs show the URL without its query string, where API keys live.
    let shown = log_name(&feed.location);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        if !ctx.backend.owns(&key) {
            // Another node polls it (or nobody yet): wait for this node's lease, then
            // follow the schedule the feed's shared state says.
            if !ctx.backend.wait_to_own(&key, &cancel).await {
                return;
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

async fn first_delay(ctx: &GenerationShared, feed: &FeedConfig) -> Duration {
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

/// A feed's polling state, wherever the backend keeps it.
async fn load_feed_state(ctx: &GenerationShared, key: &str) -> Result<Option<FeedState>, Error> {
    ctx.backend.feed_state(&ctx.store, key).await
}

/// Saves a feed's polling state where [`load_feed_state`] reads it.
async fn save_feed_state(
    ctx: &GenerationShared,
    key: &str,
    state: &FeedState,
) -> Result<(), Error> {
    ctx.backend.put_feed_state(&ctx.store, key, state).await
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
pub(super) enum Next {
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

/// Waits for the right to poll `feed`: a slot of its host (`per_host_concurrency`), then a
/// global slot (`concurrency`), then the host's `per_host_delay` since its last request.
///
/// The host slot comes first so that feeds queueing for a busy or slow host never sit on
/// global slots: otherwise a publisher with many feeds and a `per_host_delay` would starve
/// every other host (and the watchdog, which takes a global slot to prove the scheduler
/// admits work). `None` if the generation's semaphores are closed.
async fn acquire_slots(ctx: &GenerationShared, feed: &FeedConfig) -> Option<Slots> {
    let gate = ctx.hosts.gate(&feed.location);
    let host = match &gate {
        Some(gate) => Some(gate.permit().await?),
        None => None,
    };
    let global = ctx.limit.clone().acquire_owned().await.ok()?;
    if let Some(gate) = &gate {
        ctx.hosts.wait_turn(gate).await;
    }
    Some(Slots {
        host,
        _global: global,
    })
}

/// Polls one feed once: fetch, parse, ingest, then record the feed's state, including when
/// it is due next (backoff on failure, Retry-After honoured). `None` if the state could not
/// be read or saved, or ingest did not finish.
pub(super) async fn poll_feed(ctx: &GenerationShared, feed: &FeedConfig) -> Option<Next> {
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
async fn poll_feed_from(
    ctx: &GenerationShared,
    feed: &FeedConfig,
    started: Instant,
) -> Option<Next> {
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
            crate::metrics::FeedGone { feed: &shown }.emit(&ctx.handles.metrics.service);
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
            crate::metrics::FeedNotModified { feed: &shown }.emit(&ctx.stats);
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
                    .emit(&ctx.handles.metrics.service);
                }
                state.recovered = recovered;
                crate::metrics::FeedPolled {
                    feed: &shown,
                    items: count,
                }
                .emit(&ctx.stats);
            }
            state.last_success = Some(now);
            state.last_error = None;
            state.consecutive_failures = 0;
            if let Some(to) = moved_to {
                crate::metrics::FeedRedirected {
                    feed: &shown,
                    to: &FeedLocation::Http(to.clone()).redacted(),
                }
                .emit(&ctx.handles.metrics.service);
                state.effective_url = Some(to.to_string());
            }
        }
        Err((message, retry_after)) => {
            retry = retry_after;
            state.consecutive_failures += 1;
            crate::metrics::FeedFetchFailed {
                feed: &shown,
                error: &message,
                failures: state.consecutive_failures,
            }
            .emit(&ctx.stats);
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
