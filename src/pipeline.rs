//! The stages between a fetched feed and a delivered notification: ingest (dedup, extract,
//! alert) and the outbox relay. Both are driven by the daemon; both talk to the log only through
//! [`Store`], and both act on an event only after `append` (and so `flush`) has returned.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::alert::{self, ArticleRef};
use crate::config::{self, Config, FeedConfig};
use crate::error::Error;
use crate::events::{
    ArticleIngested, Event, EventExtracted, NewEvent, NotificationDelivered, NotificationFailed,
    stable_id,
};
use crate::extract::{Document, Extractor};
use crate::feed::{Article, FetchOptions, Fetcher};
use crate::notify::Notifier;
use crate::store::{Appended, OutboxEntry, Store, StoreError};

/// Everything built from one config: the unit that start-up and SIGHUP reload both produce,
/// through the same [`Prepared::load`].
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The validated config.
    pub config: Arc<Config>,
    /// The compiled alias and lexicon matchers.
    pub extractor: Arc<Extractor>,
    /// Notifiers by id.
    pub notifiers: Arc<HashMap<String, Notifier>>,
    /// The shared HTTP client for feeds.
    pub fetcher: Fetcher,
}

impl Prepared {
    /// Loads, validates and compiles everything a config describes. Any failure here is a
    /// configuration error (exit 78 at start, "keep the old config" on reload).
    pub fn load(path: &Path) -> Result<Prepared, Error> {
        let config = config::load(path)?;
        Prepared::from_config(config)
    }

    /// Compiles an already validated config.
    pub fn from_config(config: Config) -> Result<Prepared, Error> {
        let specs: Vec<_> = config.actors.iter().map(|a| a.spec.clone()).collect();
        let extractor = Extractor::new(&specs)?;
        let mut notifiers = HashMap::new();
        for n in &config.notifiers {
            let notifier = Notifier::new(n.clone()).map_err(|e| {
                Error::Config(config::ConfigError {
                    location: config.source.display().to_string(),
                    message: format!("notifier {:?}: {e}", n.id),
                })
            })?;
            notifiers.insert(n.id.clone(), notifier);
        }
        let fetcher = Fetcher::new(FetchOptions {
            timeout: config.daemon.request_timeout,
            max_body_bytes: config.daemon.max_body_bytes,
            user_agent: config.daemon.user_agent.clone(),
        })?;
        Ok(Prepared {
            config: Arc::new(config),
            extractor: Arc::new(extractor),
            notifiers: Arc::new(notifiers),
            fetcher,
        })
    }
}

/// Counters for the `--once` summary (and, later, metrics). Monotonic over the process.
#[derive(Debug, Default)]
pub struct Stats {
    /// Feeds fetched with a 200 and parsed.
    pub feeds_ok: AtomicU64,
    /// Feeds that answered 304.
    pub feeds_not_modified: AtomicU64,
    /// Feeds whose fetch or parse failed.
    pub feeds_failed: AtomicU64,
    /// Articles appended.
    pub articles_new: AtomicU64,
    /// Articles skipped because they were already in the log.
    pub articles_seen: AtomicU64,
    /// `event.extracted` events appended.
    pub events_extracted: AtomicU64,
    /// Alerts appended.
    pub alerts_raised: AtomicU64,
    /// Rule matches silenced by a cooldown.
    pub alerts_cooled_down: AtomicU64,
    /// Notifications delivered.
    pub delivered: AtomicU64,
    /// Failed delivery attempts.
    pub delivery_failures: AtomicU64,
    /// Outbox entries given up.
    pub given_up: AtomicU64,
}

impl Stats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The one-line summary printed by `run --once`.
    pub fn summary(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "feeds: {} ok, {} not modified, {} failed; articles: {} new, {} already seen; \
             events: {}; alerts: {} raised, {} in cooldown; notifications: {} delivered, {} failed attempts, {} given up",
            g(&self.feeds_ok),
            g(&self.feeds_not_modified),
            g(&self.feeds_failed),
            g(&self.articles_new),
            g(&self.articles_seen),
            g(&self.events_extracted),
            g(&self.alerts_raised),
            g(&self.alerts_cooled_down),
            g(&self.delivered),
            g(&self.delivery_failures),
            g(&self.given_up),
        )
    }
}

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
    wake_relay: &Notify,
) -> Result<(), StoreError> {
    let mut articles = articles.into_iter().peekable();
    while articles.peek().is_some() {
        let chunk: Vec<Article> = articles.by_ref().take(INGEST_CHUNK).collect();
        ingest_chunk(prepared, store, stats, feed, chunk, wake_relay).await?;
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
    wake_relay: &Notify,
) -> Result<(), StoreError> {
    let feed_key = feed.location.key();
    let now = Utc::now();
    // Alerts raised earlier in this batch, for the cooldown: they are not in the store yet.
    let mut raised_here: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    let mut events = Vec::new();
    for article in articles {
        if store.contains(&article.id)? {
            Stats::add(&stats.articles_seen, 1);
            continue;
        }
        let occurred_at = article.published.unwrap_or(now);
        let extraction = prepared.extractor.extract(&Document {
            title: "",
            text: &article.text,
            date: Some(occurred_at.date_naive()),
        });
        for e in &extraction.events {
            events.push(NewEvent {
                event_id: stable_id("evt", &[&article.id, &e.sentence_index.to_string()]),
                occurred_at,
                event: Event::EventExtracted(EventExtracted {
                    article_id: article.id.clone(),
                    sentence_index: e.sentence_index,
                    actors: e.actors.clone(),
                    event_type: e.event_type,
                    trigger: e.trigger.clone(),
                    sentence: e.sentence.clone(),
                }),
            });
        }
        let article_ref = ArticleRef {
            article_id: &article.id,
            title: &article.title,
            url: article.url.as_deref(),
            feed: &feed.name,
            published: article.published,
        };
        for candidate in alert::evaluate(&prepared.config, &article_ref, &extraction, now) {
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
            // An alert already in the log is a crash-recovery redo: let the id dedup it.
            if alert::in_cooldown(last, now, cooldown)
                && !store.contains(&candidate.alert.alert_id)?
            {
                debug!(rule = %key.0, actors = %key.1, "Alert silenced by cooldown.");
                Stats::add(&stats.alerts_cooled_down, 1);
                continue;
            }
            raised_here.insert(key, now);
            events.push(NewEvent {
                event_id: candidate.alert.alert_id.clone(),
                occurred_at: now,
                event: Event::AlertRaised(candidate.alert),
            });
        }
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

/// Delivers every due outbox entry once and records each outcome as an event.
pub async fn relay_once(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let due: Vec<_> = store
        .outbox_pending()?
        .into_iter()
        .filter(|e| e.next_attempt_at <= now)
        .collect();
    let outcomes: Vec<Result<(), StoreError>> = futures_util::stream::iter(due)
        .map(|entry| deliver_entry(prepared, store, stats, entry))
        .buffer_unordered(8)
        .collect()
        .await;
    outcomes.into_iter().collect()
}

async fn deliver_entry(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    entry: OutboxEntry,
) -> Result<(), StoreError> {
    let attempt = entry.attempts + 1;
    let alert = match store.get(&entry.alert_id)? {
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
    match notifier.deliver(&alert).await {
        Ok(()) => {
            let event = NewEvent {
                event_id: stable_id("ntf", &[&entry.alert_id, &entry.notifier, "delivered"]),
                occurred_at: Utc::now(),
                event: Event::NotificationDelivered(NotificationDelivered {
                    alert_id: entry.alert_id.clone(),
                    notifier: entry.notifier.clone(),
                    attempt,
                }),
            };
            store.append(vec![event]).await?;
            Stats::add(&stats.delivered, 1);
            debug!(alert = %entry.alert_id, notifier = %entry.notifier, attempt, "Notification delivered.");
            Ok(())
        }
        Err(error) => {
            let next = notifier.next_attempt(attempt, Utc::now());
            warn!(alert = %entry.alert_id, notifier = %entry.notifier, attempt, %error, "Notification failed.");
            record_failure(store, stats, &entry, attempt, error.to_string(), next).await
        }
    }
}

async fn record_failure(
    store: &Store,
    stats: &Stats,
    entry: &OutboxEntry,
    attempt: u32,
    error: String,
    next_attempt_at: Option<chrono::DateTime<Utc>>,
) -> Result<(), StoreError> {
    let event = NewEvent {
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
    };
    store.append(vec![event]).await?;
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
    loop {
        relay_once(&prepared, &store, &stats).await?;
        let pending = store.outbox_pending()?;
        if drain && pending.is_empty() {
            return Ok(());
        }
        let next_due = pending.iter().map(|e| e.next_attempt_at).min();
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
