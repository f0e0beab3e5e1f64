//! The stages between a fetched feed and a delivered notification: ingest (dedup, extract,
//! alert) and the outbox relay. Both are driven by the daemon; both talk to the log only through
//! [`Store`], and both act on an event only after `append` (and so `flush`) has returned.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

mod prepared;

pub use prepared::{PrepareError, Prepared, shipped};

use crate::alert::{self, ArticleRef, Chain, History, PastArticle};
use crate::config::{FeedConfig, RuleConfig};
use crate::events::{
    Alert, ArticleIngested, Event, EventExtracted, NewEvent, NotificationDelivered,
    NotificationFailed, RuleChanged, stable_id,
};
use crate::extract::{ActorId, Document, ExtractedEvent, Extraction, Status};
use crate::feed::Article;
pub use crate::metrics::{ArticleFetch, Stats};
use crate::notify::Notifier;
use crate::store::{AlertGroup, Appended, OutboxEntry, Store, StoreError};

/// What ingest counts and logs about an event once its append has returned.
enum Appending {
    Extracted,
    Article,
    Alert {
        rule: String,
        actors: String,
        id: String,
    },
    Other,
}

impl Appending {
    fn of(event: &NewEvent) -> Appending {
        match &event.event {
            Event::EventExtracted(_) => Appending::Extracted,
            Event::ArticleIngested(_) => Appending::Article,
            Event::AlertRaised(a) => Appending::Alert {
                rule: a.rule.clone(),
                actors: a.actors.join(","),
                id: a.alert_id.clone(),
            },
            _ => Appending::Other,
        }
    }
}

/// Appends one feed's new articles with their extracted events and alerts, a chunk of
/// articles per append call (one atomic batch and one flush per chunk, not per article).
///
/// Order matters for crash safety: an article's `event.extracted` and `alert.raised` events are
/// appended *before* its `article.ingested`, which is the "done" marker the dedup check reads.
/// A crash in between leaves the article unmarked, so the next poll redoes it; the events
/// already written are skipped as duplicates by their deterministic ids.
pub async fn ingest(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    feed: &FeedConfig,
    articles: Vec<Article>,
    arrived: std::time::Instant,
    wake_relay: &Notify,
) -> Result<(), StoreError> {
    ensure_reconciled(prepared, store).await?;
    let mut articles = articles.into_iter().peekable();
    while articles.peek().is_some() {
        let chunk: Vec<Article> = articles.by_ref().take(INGEST_CHUNK).collect();
        ingest_chunk(prepared, store, stats, feed, chunk, arrived, wake_relay).await?;
    }
    Ok(())
}

/// Articles per append: bounds the memory of one atomic batch for feeds with huge item counts.
const INGEST_CHUNK: usize = 256;

async fn ingest_chunk(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    feed: &FeedConfig,
    articles: Vec<Article>,
    arrived: std::time::Instant,
    wake_relay: &Notify,
) -> Result<(), StoreError> {
    let feed_key = feed.location.key();
    let now = Utc::now();
    // Alerts raised earlier in this batch, for the cooldown: they are not in the store yet.
    let mut raised_here: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    // Articles of this batch, for window and corroboration rules: not in the store yet.
    let mut batch: Vec<PastArticle> = Vec::new();
    let silences = store.silences()?;
    let store_history = StoreHistory {
        store,
        before_seq: None,
        respect_rule_changes: true,
    };
    let mut events = Vec::new();
    for article in articles {
        if store.contains(&article.id)? {
            Stats::add(&stats.articles_seen, 1);
            continue;
        }
        let occurred_at = article.published.unwrap_or(now);
        // The feed's text, then the fetched page's main text (`fetch_article`), if any.
        let text = article.extraction_text().into_owned();
        let extraction = prepared.extractor.extract(&Document {
            title: "",
            text: &text,
            date: Some(occurred_at.date_naive()),
        });
        // What later articles of this batch see of this one is what the log will say of it,
        // exactly as the store's history gives it back once the batch is appended.
        let mut logged = Vec::with_capacity(extraction.events.len());
        for e in &extraction.events {
            let record = logged_event(&article.id, e);
            logged.push(extraction_of(&record));
            events.push(NewEvent {
                event_id: stable_id("evt", &[&article.id, &e.sentence_index.to_string()]),
                occurred_at,
                event: Event::EventExtracted(record),
            });
        }
        let article_ref = ArticleRef {
            article_id: &article.id,
            title: &article.title,
            url: article.url.as_deref(),
            feed: &feed.name,
            published: article.published,
        };
        let history = Chain(&store_history, &batch);
        let candidates = alert::evaluate_with(
            &prepared.config,
            &article_ref,
            &text,
            &extraction,
            now,
            &history,
        )?;
        for candidate in candidates {
            let key = (candidate.alert.rule.clone(), candidate.actor_key.clone());
            let cooldown = prepared
                .config
                .rules
                .iter()
                .find(|r| r.id == candidate.alert.rule)
                .and_then(|r| r.cooldown);
            let last = match raised_here.get(&key) {
                Some(t) => Some(*t),
                None => store.last_alert(&key.0, &key.1)?,
            };
            // An alert already in the log is a crash-recovery redo (or the same story seen
            // again by a corroborated or window rule): let the id dedup it.
            if store.contains(&candidate.alert.alert_id)? {
                continue;
            }
            if alert::in_cooldown(last, now, cooldown) {
                debug!(rule = %key.0, actors = %key.1, "Alert silenced by cooldown.");
                Stats::add(&stats.alerts_cooled_down, 1);
                continue;
            }
            let mut alert = candidate.alert;
            if let Some(silence) = alert::silenced_by(&silences, &alert, now) {
                info!(rule = %alert.rule, actors = %alert.actors.join(","), silence = %silence.silence_id, "Alert recorded under a silence; not notified.");
                alert.silenced_by = Some(silence.silence_id.clone());
                alert.notify.clear();
            }
            raised_here.insert(key, now);
            events.push(NewEvent {
                event_id: alert.alert_id.clone(),
                occurred_at: now,
                event: Event::AlertRaised(alert),
            });
        }
        batch.push(PastArticle {
            article_id: article.id.clone(),
            title: article.title.clone(),
            url: article.url.clone(),
            feed: feed.name.clone(),
            published: article.published,
            at: occurred_at,
            text,
            events: logged,
        });
        events.push(NewEvent {
            event_id: article.id.clone(),
            occurred_at,
            event: Event::ArticleIngested(ArticleIngested {
                article_id: article.id,
                feed: feed.name.clone(),
                feed_url: feed_key.clone(),
                guid: article.guid,
                url: article.url,
                title: article.title,
                published: article.published,
                text: article.text,
                full_text_sha256: article.full_text.map(|f| f.sha256),
            }),
        });
    }
    if events.is_empty() {
        return Ok(());
    }
    // What to count and log once the append has returned (the events move into the store).
    let summaries: Vec<Appending> = events.iter().map(Appending::of).collect();
    let results = store.append(events).await?;
    let mut new_alerts = 0u64;
    for (summary, result) in summaries.into_iter().zip(&results) {
        if !matches!(result, Appended::New(_)) {
            continue;
        }
        match summary {
            Appending::Extracted => Stats::add(&stats.events_extracted, 1),
            Appending::Article => Stats::add(&stats.articles_new, 1),
            Appending::Alert { rule, actors, id } => {
                new_alerts += 1;
                stats.latency.arrived(&id, arrived);
                info!(%rule, %actors, alert = %id, "Alert raised.");
            }
            Appending::Other => {}
        }
    }
    if new_alerts > 0 {
        Stats::add(&stats.alerts_raised, new_alerts);
        wake_relay.notify_one();
    }
    Ok(())
}

/// Actor ids as the log keeps them (owned strings; extraction shares them).
pub fn owned_ids(ids: &[ActorId]) -> Vec<String> {
    ids.iter().map(|a| a.to_string()).collect()
}

/// The log's record of one extracted sentence. With [`extraction_of`], its exact inverse, it
/// is the only conversion between extraction output and the log: ingest, `replay
/// --reextract` and alert history all go through the pair, so an earlier event reads back as
/// it was logged (sides, status, mode and date included), however articles fell into batches.
pub fn logged_event(article_id: &str, e: &ExtractedEvent) -> EventExtracted {
    let typed = e.event_type.is_some();
    EventExtracted {
        article_id: article_id.to_string(),
        sentence_index: e.sentence_index,
        actors: owned_ids(&e.actors),
        event_type: e.event_type,
        trigger: e.trigger.clone(),
        sentence: e.sentence.clone(),
        source: owned_ids(&e.source),
        target: owned_ids(&e.target),
        participants: owned_ids(&e.participants),
        status: typed.then(|| e.status.as_str().to_string()),
        mode: e.mode.map(str::to_string),
        date: e.date,
    }
}

/// A logged sentence back in extraction form: the inverse of [`logged_event`] on every field
/// the log keeps. What the log does not keep (mentions, spans, place, the full interaction
/// list) comes back empty; alert history reads none of it.
pub fn extraction_of(logged: &EventExtracted) -> ExtractedEvent {
    let ids = |v: &[String]| v.iter().map(|a| ActorId::from(a.as_str())).collect();
    let status = logged.status.as_deref().and_then(|s| {
        [
            Status::Occurred,
            Status::Planned,
            Status::Denied,
            Status::Hypothetical,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    });
    ExtractedEvent {
        sentence_index: logged.sentence_index,
        actors: ids(&logged.actors),
        event_type: logged.event_type,
        trigger: logged.trigger.clone(),
        sentence: logged.sentence.clone(),
        source: ids(&logged.source),
        target: ids(&logged.target),
        participants: ids(&logged.participants),
        status: status.unwrap_or_default(),
        mode: logged
            .mode
            .as_deref()
            .and_then(|m| MODES.iter().copied().find(|x| *x == m)),
        date: logged.date,
        ..ExtractedEvent::default()
    }
}

/// Every diplomatic subtype extraction assigns (`ExtractedEvent::mode` is a `&'static str`),
/// so [`extraction_of`] can give a logged mode back as the extractor's own string. The test
/// `logged_events_read_back_exactly` fails when extraction gains a mode missing here.
const MODES: &[&str] = &[
    "ceasefire",
    "ceasefire-call",
    "economic",
    "expel",
    "host",
    "hostage-deal",
    "hostage-release-call",
    "hostage-taking",
    "hostage-talks",
    "humanitarian",
    "mediate",
    "meet",
    "military",
    "multilateral",
    "negotiate",
    "pause",
    "pause-call",
    "phone",
    "release",
    "visit",
];

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
    match &result {
        Ok(()) => {
            Stats::add(&stats.delivered, kept.len() as u64);
            debug!(notifier = %notifier.id(), alerts = kept.len(), "Grouped notification delivered.");
        }
        Err(error) => {
            warn!(notifier = %notifier.id(), alerts = kept.len(), %error, "Grouped notification failed.");
            Stats::add(&stats.delivery_failures, kept.len() as u64);
            Stats::add(&stats.given_up, given_up);
        }
    }
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
                warn!(alert = %entry.alert_id, "Outbox entry does not point at an alert; giving up.");
                return record_failure(store, stats, &entry, attempt, "not an alert".into(), None)
                    .await;
            }
        },
        None => {
            warn!(alert = %entry.alert_id, "Outbox entry points at a missing alert; giving up.");
            return record_failure(store, stats, &entry, attempt, "alert missing".into(), None)
                .await;
        }
    };
    let Some(notifier) = prepared.notifiers.get(&entry.notifier) else {
        warn!(alert = %entry.alert_id, notifier = %entry.notifier, "Notifier is no longer configured; giving up.");
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
            stats.latency.delivered(&entry.alert_id, &entry.notifier);
            Stats::add(&stats.delivered, 1);
            debug!(alert = %entry.alert_id, notifier = %entry.notifier, attempt, "Notification delivered.");
            Ok(())
        }
        Err(error) => {
            let next = notifier.next_attempt_for(attempt, Utc::now(), entry.queued_at);
            warn!(alert = %entry.alert_id, notifier = %entry.notifier, attempt, %error, "Notification failed.");
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
        .append(vec![failure_event(entry, attempt, error, next_attempt_at)])
        .await?;
    Stats::add(&stats.delivery_failures, 1);
    if next_attempt_at.is_none() {
        Stats::add(&stats.given_up, 1);
    }
    Ok(())
}

/// Runs the relay until cancelled: delivers due entries, then sleeps until the next one is due
/// or ingest wakes it. With `drain`, it returns as soon as the outbox is empty instead.
pub async fn relay_loop(
    prepared: Prepared,
    store: Store,
    stats: Arc<Stats>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
    drain: bool,
) -> Result<(), StoreError> {
    ensure_reconciled(&prepared, &store).await?;
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

/// Earlier articles read from the store through the per-actor index.
#[derive(Clone, Copy)]
pub struct StoreHistory<'a> {
    /// The store.
    pub store: &'a Store,
    /// Only events before this seq (backtests replay the log as it was).
    pub before_seq: Option<u64>,
    /// Skip events recorded before a rule's last `rule.changed` (live ingest); backtests and
    /// backfills look at everything.
    pub respect_rule_changes: bool,
}

impl History for StoreHistory<'_> {
    fn recent(
        &self,
        rule: &str,
        actors: &BTreeSet<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PastArticle>, StoreError> {
        let after = if self.respect_rule_changes {
            self.store.rule_record(rule)?.map_or(0, |r| r.seq)
        } else {
            0
        };
        let before = self.before_seq.unwrap_or(u64::MAX);
        let mut seqs = BTreeSet::new();
        for actor in actors {
            seqs.extend(
                self.store
                    .actor_event_seqs(actor)?
                    .into_iter()
                    .filter(|s| *s > after && *s < before),
            );
        }
        let mut by_article: BTreeMap<String, (DateTime<Utc>, Vec<ExtractedEvent>)> =
            BTreeMap::new();
        for seq in seqs {
            let Some(env) = self.store.get_seq(seq)? else {
                continue;
            };
            let Event::EventExtracted(e) = env.event else {
                continue;
            };
            if env.occurred_at < from || env.occurred_at > to {
                continue;
            }
            let entry = by_article
                .entry(e.article_id.clone())
                .or_insert_with(|| (env.occurred_at, Vec::new()));
            entry.1.push(extraction_of(&e));
        }
        let mut out = Vec::new();
        for (article_id, (at, mut events)) in by_article {
            // Only articles marked done (and, for backtests, done before the cut).
            let Some(env) = self.store.get(&article_id)? else {
                continue;
            };
            if env.seq >= before {
                continue;
            }
            let Event::ArticleIngested(a) = env.event else {
                continue;
            };
            events.sort_by_key(|e| e.sentence_index);
            let text = stored_text(self.store, &a)?;
            out.push(PastArticle {
                article_id,
                title: a.title,
                url: a.url,
                feed: a.feed,
                published: a.published,
                at,
                text,
                events,
            });
        }
        Ok(out)
    }
}

/// The text extraction read for a logged article: the feed's text, then the fetched page's
/// main text from the store when there is one (what `--reextract` and backtests rerun on).
pub fn stored_text(store: &Store, a: &ArticleIngested) -> Result<String, StoreError> {
    let full = match &a.full_text_sha256 {
        Some(sha) => store.article_text(sha)?,
        None => None,
    };
    Ok(match full {
        Some(full) => format!("{}\n\n{full}", a.text),
        None => a.text.clone(),
    })
}

/// Records rule definitions once per loaded config (start and every reload).
async fn ensure_reconciled(prepared: &Prepared, store: &Store) -> Result<(), StoreError> {
    prepared
        .reconciled
        .get_or_try_init(|| async { reconcile_rules(prepared, store).await.map(|_| ()) })
        .await
        .map(|_| ())
}

/// Compares each rule's definition hash with the one recorded in the log. A new or changed
/// rule gets a `rule.changed` event: from then on, window and corroboration look-ups ignore
/// earlier events, so a changed rule derives alerts only from events after the change. With
/// `backfill = true` the rule is first run over the stored articles (as `backtest` does); the
/// alerts found are recorded with `backfill: true` and notified only if `notify_backfill`.
/// Returns the number of backfilled alerts appended.
pub async fn reconcile_rules(prepared: &Prepared, store: &Store) -> Result<u64, StoreError> {
    let mut backfilled = 0u64;
    for rule in &prepared.config.rules {
        let hash = alert::rule_hash(rule);
        let record = store.rule_record(&rule.id)?;
        if record.as_ref().is_some_and(|r| r.hash == hash) {
            continue;
        }
        let mut events = Vec::new();
        if rule.backfill {
            let now = Utc::now();
            let found = backtest(prepared, store, rule, None)?;
            let mut raised_here: HashMap<String, DateTime<Utc>> = HashMap::new();
            for mut alert in found {
                if store.contains(&alert.alert_id)? {
                    continue;
                }
                let key = crate::events::actor_key(&alert.actors);
                let last = match raised_here.get(&key) {
                    Some(t) => Some(*t),
                    None => store.last_alert(&rule.id, &key)?,
                };
                if alert::in_cooldown(last, alert.raised_at, rule.cooldown) {
                    continue;
                }
                raised_here.insert(key, alert.raised_at);
                alert.backfill = true;
                if !rule.notify_backfill {
                    alert.notify.clear();
                }
                alert.raised_at = now;
                events.push(NewEvent {
                    event_id: alert.alert_id.clone(),
                    occurred_at: now,
                    event: Event::AlertRaised(alert),
                });
            }
            backfilled += events.len() as u64;
        }
        let prev_seq = record.map_or(0, |r| r.seq).to_string();
        events.push(NewEvent {
            event_id: stable_id("rulechg", &[&rule.id, &hash, &prev_seq]),
            occurred_at: Utc::now(),
            event: Event::RuleChanged(RuleChanged {
                rule: rule.id.clone(),
                hash: hash.clone(),
            }),
        });
        info!(rule = %rule.id, %hash, backfilled, "Rule definition recorded.");
        store.append(events).await?;
    }
    Ok(backfilled)
}

/// What `rule` would have raised over the stored articles since `since` (all when `None`),
/// re-extracted from their stored text with the current actors, in log order, with the rule's
/// cooldown applied. Appends and notifies nothing.
pub fn backtest(
    prepared: &Prepared,
    store: &Store,
    rule: &RuleConfig,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Alert>, StoreError> {
    let mut out: Vec<Alert> = Vec::new();
    let mut last: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for env in store.iter_from(1) {
        let env = env?;
        let Event::ArticleIngested(a) = &env.event else {
            continue;
        };
        if since.is_some_and(|s| env.occurred_at < s) {
            continue;
        }
        let text = stored_text(store, a)?;
        let extraction: Extraction = prepared.extractor.extract(&Document {
            title: "",
            text: &text,
            date: Some(env.occurred_at.date_naive()),
        });
        let article_ref = ArticleRef {
            article_id: &a.article_id,
            title: &a.title,
            url: a.url.as_deref(),
            feed: &a.feed,
            published: a.published,
        };
        let history = StoreHistory {
            store,
            before_seq: Some(env.seq),
            respect_rule_changes: false,
        };
        let mut found = Vec::new();
        alert::evaluate_rule(
            &prepared.config,
            rule,
            &article_ref,
            &text,
            &extraction,
            env.recorded_at,
            &history,
            &mut found,
        )?;
        for c in found {
            if !seen.insert(c.alert.alert_id.clone()) {
                continue;
            }
            let prev = last.get(&c.actor_key).copied();
            if alert::in_cooldown(prev, c.alert.raised_at, rule.cooldown) {
                continue;
            }
            last.insert(c.actor_key.clone(), c.alert.raised_at);
            out.push(c.alert);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn logged_events_read_back_exactly() {
        // History must see an earlier event as ingest logged it: the log record of the
        // read-back equals the original record, and sides, status and mode survive, over every
        // sentence of the gold sets (train/dev, never the frozen test split) and the sample.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let prepared = Prepared::load(&root.join("tests/gold/parley.toml")).unwrap();
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(root.join("tests/gold")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".jsonl") && !name.starts_with("test") {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                        texts.push(v["text"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
        }
        assert!(
            texts.len() > 100,
            "the gold sets are missing: {}",
            texts.len()
        );
        let (mut typed, mut modes, mut not_occurred) = (0, 0, 0);
        for text in &texts {
            let extraction = prepared.extractor.extract(&Document {
                title: "",
                text,
                date: chrono::NaiveDate::from_ymd_opt(2024, 6, 1),
            });
            for e in &extraction.events {
                let record = logged_event("a", e);
                let back = extraction_of(&record);
                assert_eq!(logged_event("a", &back), record, "{text}");
                assert_eq!(
                    (&back.source, &back.target, &back.participants, back.mode),
                    (&e.source, &e.target, &e.participants, e.mode),
                    "{text}"
                );
                if e.event_type.is_some() {
                    typed += 1;
                    assert_eq!(back.status, e.status, "{text}");
                    not_occurred += usize::from(e.status != Status::Occurred);
                }
                modes += usize::from(e.mode.is_some());
            }
        }
        // The sets exercise what the round trip is about.
        assert!(
            typed > 100 && modes > 50 && not_occurred > 10,
            "{typed} {modes} {not_occurred}"
        );
    }
}
