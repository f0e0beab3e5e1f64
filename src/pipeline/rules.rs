//! Rule definitions against the log: [`reconcile_rules`] records each new or changed rule
//! (running its backfill first), and [`backtest`] reruns a rule over the stored articles.
//!
//! Why it exists apart from ingest: what a rule means for the log's past (a `rule.changed`
//! cut, a backfill, a backtest) is decided once per config, not per article; ingest and the
//! relay only make sure it has happened ([`ensure_reconciled`]) before they act.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use tracing::info;

use super::history::{StoreHistory, stored_text};
use super::prepared::Prepared;
use crate::alert::{self, ArticleRef};
use crate::config::RuleConfig;
use crate::events::{Alert, Event, NewEvent, RuleChanged, stable_id};
use crate::extract::{Document, Extraction};
use crate::store::{Store, StoreError};

/// Records rule definitions once per loaded config (start and every reload).
pub(crate) async fn ensure_reconciled(
    prepared: &Prepared,
    store: &Store,
) -> Result<(), StoreError> {
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
