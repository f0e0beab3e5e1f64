//! The outbox relay: delivers the alerts waiting in the outbox to their notifiers and
//! records every attempt as an event. [`relay_loop`] is the sled backend's relay;
//! [`relay_pass`], [`entry_due`] and [`schedule`] are the decisions the NATS relay
//! (`crate::nats::relay`) runs too.
//!
//! Why it exists: delivery is the read side of the pipeline, woken by ingest but otherwise
//! independent of it. Grouping (`group_wait`, `group_interval`, `repeat_interval`), retries
//! and rate limits are decided here, from state kept in the log, so a restart neither
//! repeats nor loses a notification.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::prepared::Prepared;
use crate::events::{Alert, Event, NewEvent, NotificationDelivered, NotificationFailed, stable_id};
use crate::metrics::Stats;
use crate::notify::Notifier;
use crate::store::{AlertGroup, OutboxEntry, Store, StoreError};

/// When an outbox entry may go out, and whether that time is imposed by grouping state
/// from earlier deliveries (`group_interval`, `repeat_interval`) rather than by this entry's
/// own schedule (its retry time, `group_wait`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Due {
    /// Not before this time.
    pub(crate) at: DateTime<Utc>,
    /// `at` comes from grouping state (a hold), not from the entry's own schedule.
    pub(crate) held: bool,
}

fn after(t: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `repeat_interval`: the earliest time `notifier` may again notify the entry's alert group
/// (rule + actor set), from the log's record of its last delivery of that group.
fn repeat_hold(
    store: &Store,
    notifier: &Notifier,
    entry: &OutboxEntry,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (Some(repeat), Some(group)) = (notifier.config().repeat_interval, &entry.group) else {
        return Ok(None);
    };
    Ok(store
        .group_notified_at(&entry.notifier, group)?
        .map(|last| after(last, repeat)))
}

/// When `entry` may go out: the one decision both relays (sled's and the cluster's) use.
pub(crate) fn entry_due(
    prepared: &Prepared,
    store: &Store,
    entry: &OutboxEntry,
) -> Result<Due, StoreError> {
    let mut at = entry.next_attempt_at;
    let Some(notifier) = prepared.notifiers.get(&entry.notifier) else {
        return Ok(Due { at, held: false });
    };
    let mut hold = repeat_hold(store, notifier, entry)?;
    let config = notifier.config();
    if let Some(wait) = config.group_wait {
        at = at.max(after(entry.queued_at, wait));
        if let Some(last) = store.notifier_state(&entry.notifier)?.last_delivered {
            let t = after(last, config.group_interval);
            hold = Some(hold.map_or(t, |h| h.max(t)));
        }
    }
    Ok(match hold {
        Some(h) if h > at => Due { at: h, held: true },
        _ => Due { at, held: false },
    })
}

/// Delivers every due outbox entry once and records each outcome as an event.
///
/// Grouping, Alertmanager-style, with its state read from the log (so a restart neither
/// repeats nor loses a digest): a digest notifier (`group_wait`) sends all its due entries
/// as one message once the oldest has waited `group_wait` and `group_interval` has passed
/// since its last delivery; a notifier with `repeat_interval` sends the alerts of a group it
/// notified less than `repeat_interval` ago together, once that has passed.
///
/// Once `cancel` fires no new delivery starts (not even one waiting for its `rate_limit`
/// turn), but deliveries already sent finish and have their outcome recorded: a graceful
/// stop leaves every entry either delivered-and-recorded or untouched in the outbox, so a
/// restart neither loses nor repeats one, and a long outbox cannot hold the stop up.
pub async fn relay_once(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    cancel: &CancellationToken,
) -> Result<(), StoreError> {
    relay_pass(prepared, store, stats, cancel, &|| true, None).await
}

/// [`relay_once`] for the entries of one notifier (`only`), or of all (`None`). The cluster
/// relay runs it per notifier while it holds that notifier's cluster-wide lock, so digests,
/// `group_interval`, `repeat_interval` and `rate_limit` are decided by this same code on
/// state (the projection) that every node shares.
///
/// `may_send` is asked right before each send (after any `rate_limit` wait); `false` skips
/// the send like a stop does, leaving the entry pending. The cluster relay answers from its
/// lock's remaining life, so a holder whose lock may have lapsed starts nothing more; the
/// sled relay always says yes.
pub(crate) async fn relay_pass(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    cancel: &CancellationToken,
    may_send: &(dyn Fn() -> bool + Sync),
    only: Option<&str>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let mut pending = store.outbox_pending()?;
    if let Some(only) = only {
        pending.retain(|e| e.notifier == only);
    }
    let mut due = Vec::new();
    // Entries that go out together: (notifier, group for repeat batches; None = digest).
    let mut batches: BTreeMap<(String, Option<AlertGroup>), Vec<OutboxEntry>> = BTreeMap::new();
    let mut digest_ready: BTreeSet<String> = BTreeSet::new();
    for entry in pending {
        let when = entry_due(prepared, store, &entry)?;
        match prepared.notifiers.get(&entry.notifier) {
            Some(n) if n.config().group_wait.is_some() => {
                // A digest takes every entry not waiting on its own retry or repeat hold;
                // it goes once the oldest of them is due.
                if entry.next_attempt_at > now
                    || repeat_hold(store, n, &entry)?.is_some_and(|t| t > now)
                {
                    continue;
                }
                if when.at <= now {
                    digest_ready.insert(entry.notifier.clone());
                }
                batches
                    .entry((entry.notifier.clone(), None))
                    .or_default()
                    .push(entry);
            }
            Some(n) if n.config().repeat_interval.is_some() && entry.group.is_some() => {
                if when.at > now {
                    continue;
                }
                let key = (entry.notifier.clone(), entry.group.clone());
                batches.entry(key).or_default().push(entry);
            }
            _ => {
                if when.at <= now {
                    due.push(entry);
                }
            }
        }
    }
    for ((id, group), entries) in batches {
        if cancel.is_cancelled() {
            return Ok(());
        }
        if group.is_none() && !digest_ready.contains(&id) {
            continue;
        }
        let Some(notifier) = prepared.notifiers.get(&id) else {
            continue;
        };
        deliver_digest(prepared, store, stats, notifier, entries, cancel, may_send).await?;
    }
    let outcomes: Vec<Result<(), StoreError>> = futures_util::stream::iter(due)
        .take_until(cancel.cancelled())
        .map(|entry| deliver_entry(prepared, store, stats, entry, cancel, may_send))
        .buffer_unordered(8)
        .collect()
        .await;
    outcomes.into_iter().collect()
}

/// The relay's schedule over the pending entries.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    /// When the relay next has work (the earliest entry due).
    pub(crate) next: Option<DateTime<Utc>>,
    /// Every pending entry is held by grouping state (so `--once` may leave them for a
    /// later run).
    pub(crate) all_held: bool,
    /// Notifiers with an entry due now.
    pub(crate) due_now: BTreeSet<String>,
}

/// When the relay next has work, from [`entry_due`] of every pending entry.
pub(crate) fn schedule(
    prepared: &Prepared,
    store: &Store,
    pending: &[OutboxEntry],
) -> Result<Schedule, StoreError> {
    let now = Utc::now();
    let mut out = Schedule {
        all_held: true,
        ..Schedule::default()
    };
    for entry in pending {
        let due = entry_due(prepared, store, entry)?;
        out.next = Some(out.next.map_or(due.at, |n| n.min(due.at)));
        if !(due.held && due.at > now) {
            out.all_held = false;
        }
        if due.at <= now {
            out.due_now.insert(entry.notifier.clone());
        }
    }
    Ok(out)
}

fn delivered_event(entry: &OutboxEntry, attempt: u32) -> NewEvent {
    NewEvent {
        event_id: stable_id("ntf", &[&entry.alert_id, &entry.notifier, "delivered"]),
        occurred_at: Utc::now(),
        event: Event::NotificationDelivered(NotificationDelivered {
            alert_id: entry.alert_id.clone(),
            notifier: entry.notifier.clone(),
            attempt,
        }),
    }
}

/// Sends one message for `entries` (a digest, or a repeat of one group) and records the
/// outcome of every entry in ONE append, so a crash cannot leave half of a delivered digest
/// pending (which would repeat it) or half of a failed one delivered (which would lose it).
async fn deliver_digest(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    notifier: &Notifier,
    entries: Vec<OutboxEntry>,
    cancel: &CancellationToken,
    may_send: &(dyn Fn() -> bool + Sync),
) -> Result<(), StoreError> {
    let mut alerts = Vec::new();
    let mut kept = Vec::new();
    for entry in entries {
        match store.get(&entry.alert_id)?.map(|e| e.event) {
            Some(Event::AlertRaised(alert)) => {
                alerts.push(alert);
                kept.push(entry);
            }
            // A broken entry is handled (and given up) by the single path.
            _ => deliver_entry(prepared, store, stats, entry, cancel, may_send).await?,
        }
    }
    if alerts.is_empty() {
        return Ok(());
    }
    // Waiting for a rate-limit turn sends nothing yet, so a stop may end it.
    tokio::select! {
        biased;
        () = cancel.cancelled() => return Ok(()),
        () = notifier.wait_turn() => {}
    }
    if !may_send() {
        return Ok(());
    }
    let result = notifier.deliver_digest(&alerts).await;
    let mut events = Vec::new();
    let mut given_up = 0u64;
    for entry in &kept {
        let attempt = entry.attempts + 1;
        match &result {
            Ok(()) => {
                stats.latency.delivered(&entry.alert_id, &entry.notifier);
                events.push(delivered_event(entry, attempt))
            }
            Err(error) => {
                let next = notifier.next_attempt_for(attempt, Utc::now(), entry.queued_at);
                given_up += u64::from(next.is_none());
                events.push(failure_event(entry, attempt, error.to_string(), next));
            }
        }
    }
    store.append(events).await?;
    let error = result.as_ref().err().map(|e| e.to_string());
    crate::metrics::DigestSent {
        notifier: notifier.id(),
        alerts: kept.len(),
        error: error.as_deref(),
        given_up,
    }
    .emit(stats);
    Ok(())
}

async fn deliver_entry(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    entry: OutboxEntry,
    cancel: &CancellationToken,
    may_send: &(dyn Fn() -> bool + Sync),
) -> Result<(), StoreError> {
    let attempt = entry.attempts + 1;
    let alert: Alert = match store.get(&entry.alert_id)? {
        Some(env) => match env.event {
            Event::AlertRaised(alert) => alert,
            _ => {
                return record_failure(store, stats, &entry, attempt, "not an alert".into(), None)
                    .await;
            }
        },
        None => {
            return record_failure(store, stats, &entry, attempt, "alert missing".into(), None)
                .await;
        }
    };
    let Some(notifier) = prepared.notifiers.get(&entry.notifier) else {
        return record_failure(
            store,
            stats,
            &entry,
            attempt,
            "notifier no longer configured".into(),
            None,
        )
        .await;
    };
    // Waiting for a rate-limit turn sends nothing yet, so a stop may end it.
    tokio::select! {
        biased;
        () = cancel.cancelled() => return Ok(()),
        () = notifier.wait_turn() => {}
    }
    if !may_send() {
        return Ok(());
    }
    match notifier.deliver(&alert).await {
        Ok(()) => {
            store.append(vec![delivered_event(&entry, attempt)]).await?;
            crate::metrics::NotificationDelivered {
                alert: &entry.alert_id,
                notifier: &entry.notifier,
                attempt,
            }
            .emit(stats);
            Ok(())
        }
        Err(error) => {
            let next = notifier.next_attempt_for(attempt, Utc::now(), entry.queued_at);
            record_failure(store, stats, &entry, attempt, error.to_string(), next).await
        }
    }
}

/// The `notification.failed` event of one failed attempt.
fn failure_event(
    entry: &OutboxEntry,
    attempt: u32,
    error: String,
    next_attempt_at: Option<chrono::DateTime<Utc>>,
) -> NewEvent {
    NewEvent {
        event_id: stable_id(
            "ntf",
            &[
                &entry.alert_id,
                &entry.notifier,
                "failed",
                &attempt.to_string(),
            ],
        ),
        occurred_at: Utc::now(),
        event: Event::NotificationFailed(NotificationFailed {
            alert_id: entry.alert_id.clone(),
            notifier: entry.notifier.clone(),
            attempt,
            error,
            next_attempt_at,
            gave_up: next_attempt_at.is_none(),
        }),
    }
}

/// Records one failed attempt (`notification.failed`; final when `next_attempt_at` is None).
async fn record_failure(
    store: &Store,
    stats: &Stats,
    entry: &OutboxEntry,
    attempt: u32,
    error: String,
    next_attempt_at: Option<chrono::DateTime<Utc>>,
) -> Result<(), StoreError> {
    store
        .append(vec![failure_event(
            entry,
            attempt,
            error.clone(),
            next_attempt_at,
        )])
        .await?;
    crate::metrics::NotificationFailed {
        alert: &entry.alert_id,
        notifier: &entry.notifier,
        attempt,
        error: &error,
        gave_up: next_attempt_at.is_none(),
    }
    .emit(stats);
    Ok(())
}

/// Runs the relay until cancelled: delivers due entries, then sleeps until the next one is due
/// or ingest wakes it. With `drain`, it returns as soon as the outbox is empty instead.
/// The caller has recorded the config's rules first (`pipeline::rules`), so backfilled
/// alerts are in the outbox before the first pass.
pub async fn relay_loop(
    prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
    drain: bool,
) -> Result<(), StoreError> {
    for notifier in prepared.notifiers.values() {
        let last = store.notifier_state(notifier.id())?.last_attempt;
        notifier.seed_rate_limit(last).await;
    }
    loop {
        relay_once(&prepared, &store, &stats, &cancel).await?;
        if cancel.is_cancelled() {
            return Ok(());
        }
        let pending = store.outbox_pending()?;
        if drain && pending.is_empty() {
            return Ok(());
        }
        let Schedule {
            next: next_due,
            all_held,
            ..
        } = schedule(&prepared, &store, &pending)?;
        if drain && all_held {
            // Held by group_interval / repeat_interval from earlier deliveries: they stay in
            // the outbox (the log) for the next run, neither sent early nor lost.
            info!(
                held = pending.len(),
                "Leaving grouped notifications for a later run."
            );
            stats.held.store(pending.len() as u64, Ordering::Relaxed);
            return Ok(());
        }
        let sleep_for = next_due
            .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(std::time::Duration::from_secs(3600));
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            () = wake.notified() => {}
            () = tokio::time::sleep(sleep_for) => {}
        }
    }
}
