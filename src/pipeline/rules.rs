//! Rule definitions against the log: [`reconcile_rules`] records each new or changed rule
//! (running its backfill first), [`backtest`] reruns a rule over the stored articles, and
//! [`Cooldown`] is the one place a rule's cooldown is judged.
//!
//! Why it exists apart from ingest: what a rule means for the log's past (a `rule.changed`
//! cut, a backfill, a backtest) is decided once per config, not per article. The daemon
//! runs it when it starts a configuration ([`ensure_reconciled`]: before a generation's
//! relay delivers, before `--once` polls); ingest only makes sure it has happened before it
//! appends, and the relays never run it.

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

/// Records rule definitions once per loaded config (start and every reload): the first
/// caller runs [`reconcile_rules`], later callers (and clones of `prepared`) wait for it
/// or find it done. A failure leaves it to be tried again by the next caller.
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
            let mut cooldown = Cooldown::over(store);
            for mut alert in found {
                if store.contains(&alert.alert_id)? {
                    continue;
                }
                let key = crate::events::actor_key(&alert.actors);
                if cooldown.holds(&rule.id, &key, alert.raised_at, rule.cooldown)? {
                    continue;
                }
                cooldown.raised(&rule.id, &key, alert.raised_at);
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
    let mut cooldown = Cooldown::in_pass();
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
            if cooldown.holds(&rule.id, &c.actor_key, c.alert.raised_at, rule.cooldown)? {
                continue;
            }
            cooldown.raised(&rule.id, &c.actor_key, c.alert.raised_at);
            out.push(c.alert);
        }
    }
    Ok(out)
}

/// When each rule and actor set last raised an alert, for the cooldown: the alerts raised
/// earlier in this pass (not in the store yet) and, when built [`over`](Cooldown::over) a
/// store, the last alert the log holds. Ingest, backfills and backtests all judge a cooldown
/// through it, so they cannot disagree on what silences a match.
pub(crate) struct Cooldown<'a> {
    /// Where to look when this pass has raised nothing for the key (`None`: this pass only).
    store: Option<&'a Store>,
    /// The last alert raised in this pass, by (rule, actor key).
    raised: HashMap<(String, String), DateTime<Utc>>,
}

impl<'a> Cooldown<'a> {
    /// Alerts of this pass first, then the log's last alert of the rule and actor set (live
    /// ingest and backfills).
    pub(crate) fn over(store: &'a Store) -> Cooldown<'a> {
        Cooldown {
            store: Some(store),
            raised: HashMap::new(),
        }
    }

    /// Alerts of this pass only (a backtest replays the log as if nothing had been raised).
    pub(crate) fn in_pass() -> Cooldown<'a> {
        Cooldown {
            store: None,
            raised: HashMap::new(),
        }
    }

    /// Whether an alert of `rule` for `actor_key` at `at` falls within `cooldown` of the last
    /// one.
    pub(crate) fn holds(
        &self,
        rule: &str,
        actor_key: &str,
        at: DateTime<Utc>,
        cooldown: Option<std::time::Duration>,
    ) -> Result<bool, StoreError> {
        let last = match self.raised.get(&(rule.to_string(), actor_key.to_string())) {
            Some(t) => Some(*t),
            None => match self.store {
                Some(store) => store.last_alert(rule, actor_key)?,
                None => None,
            },
        };
        Ok(alert::in_cooldown(last, at, cooldown))
    }

    /// Records an alert of `rule` for `actor_key` raised at `at` in this pass.
    pub(crate) fn raised(&mut self, rule: &str, actor_key: &str, at: DateTime<Utc>) {
        self.raised
            .insert((rule.to_string(), actor_key.to_string()), at);
    }
}
