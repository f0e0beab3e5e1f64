//! Ingest: one feed's new articles become log events. Each article is checked against the
//! log (dedup), extracted, evaluated against the alert rules (with their cooldowns and the
//! operator's silences) and appended with everything derived from it.
//!
//! Why it exists: this is the write side of the pipeline, the one place an article turns
//! into `event.extracted`, `alert.raised` and `article.ingested` events, in the order that
//! makes a crash safe to redo. It also knows which alerts it appended, and hands them back
//! for the alert stream, so nothing re-reads the log to find them.

use chrono::Utc;
use tokio::sync::Notify;
use tracing::info;

use super::history::StoreHistory;
use super::logged::{extraction_of, logged_event};
use super::prepared::Prepared;
use super::rules::{Cooldown, ensure_reconciled};
use crate::alert::{self, ArticleRef, Chain, PastArticle};
use crate::config::FeedConfig;
use crate::events::{Alert, ArticleIngested, Event, NewEvent, stable_id};
use crate::extract::Document;
use crate::feed::Article;
use crate::metrics::Stats;
use crate::store::{Appended, Store, StoreError};

/// What ingest counts and logs about an event once its append has returned.
enum Appending {
    Extracted,
    Article,
    /// An alert, kept whole: once appended it goes to the caller's alert stream.
    Alert(Box<Alert>),
    Other,
}

impl Appending {
    fn of(event: &NewEvent) -> Appending {
        match &event.event {
            Event::EventExtracted(_) => Appending::Extracted,
            Event::ArticleIngested(_) => Appending::Article,
            Event::AlertRaised(a) => Appending::Alert(Box::new(a.clone())),
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
///
/// Every alert newly appended is pushed onto `raised` in log order once its append has
/// returned (also those of earlier chunks when a later chunk fails), for the alert stream.
#[allow(clippy::too_many_arguments)]
pub async fn ingest(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    feed: &FeedConfig,
    articles: Vec<Article>,
    arrived: std::time::Instant,
    wake_relay: &Notify,
    raised: &mut Vec<Alert>,
) -> Result<(), StoreError> {
    ensure_reconciled(prepared, store).await?;
    let mut articles = articles.into_iter().peekable();
    while articles.peek().is_some() {
        let chunk: Vec<Article> = articles.by_ref().take(INGEST_CHUNK).collect();
        ingest_chunk(
            prepared, store, stats, feed, chunk, arrived, wake_relay, raised,
        )
        .await?;
    }
    Ok(())
}

/// Articles per append: bounds the memory of one atomic batch for feeds with huge item counts.
const INGEST_CHUNK: usize = 256;

#[allow(clippy::too_many_arguments)]
async fn ingest_chunk(
    prepared: &Prepared,
    store: &Store,
    stats: &Stats,
    feed: &FeedConfig,
    articles: Vec<Article>,
    arrived: std::time::Instant,
    wake_relay: &Notify,
    raised: &mut Vec<Alert>,
) -> Result<(), StoreError> {
    let feed_key = feed.location.key();
    let now = Utc::now();
    // Alerts raised earlier in this batch, for the cooldown: they are not in the store yet.
    let mut cooldowns = Cooldown::over(store);
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
            let cooling = cooldowns.holds(&key.0, &key.1, now, cooldown)?;
            // An alert already in the log is a crash-recovery redo (or the same story seen
            // again by a corroborated or window rule): let the id dedup it.
            if store.contains(&candidate.alert.alert_id)? {
                continue;
            }
            if cooling {
                crate::metrics::AlertCooledDown {
                    rule: &key.0,
                    actors: &key.1,
                }
                .emit(stats);
                continue;
            }
            let mut alert = candidate.alert;
            if let Some(silence) = alert::silenced_by(&silences, &alert, now) {
                info!(rule = %alert.rule, actors = %alert.actors.join(","), silence = %silence.silence_id, "Alert recorded under a silence; not notified.");
                alert.silenced_by = Some(silence.silence_id.clone());
                alert.notify.clear();
            }
            cooldowns.raised(&key.0, &key.1, now);
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
            Appending::Alert(alert) => {
                new_alerts += 1;
                crate::metrics::AlertRaised {
                    alert: &alert,
                    arrived,
                }
                .emit(stats);
                raised.push(*alert);
            }
            Appending::Other => {}
        }
    }
    if new_alerts > 0 {
        wake_relay.notify_one();
    }
    Ok(())
}
