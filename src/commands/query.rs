//! The read side shared by the CLI, the JSON API and the web UI: filters and the queries
//! over the store that answer them. One place decides what a filter means and what a query
//! may show (superseded records hidden, credentials redacted), so the three faces agree.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cli::parse_since;
use crate::config;
use crate::error::Error;
use crate::events::{Alert, Envelope, Event};
use crate::plover::PloverType;
use crate::store::{EventCluster, Store};

/// Filters for `parley events`.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Actor id named by the event.
    pub actor: Option<String>,
    /// PLOVER type of an extracted event or alert.
    pub event_type: Option<PloverType>,
    /// Envelope kind.
    pub kind: Option<String>,
    /// Earliest `occurred_at`.
    pub since: Option<DateTime<Utc>>,
    /// Keep the most recent N.
    pub limit: Option<usize>,
}

impl EventFilter {
    fn matches(&self, env: &Envelope) -> bool {
        if self.kind.as_ref().is_some_and(|k| env.event.kind() != k) {
            return false;
        }
        if self.since.is_some_and(|since| env.occurred_at < since) {
            return false;
        }
        if let Some(actor) = &self.actor {
            let named = match &env.event {
                Event::EventExtracted(e) => e.actors.contains(actor),
                Event::AlertRaised(a) => a.actors.contains(actor),
                _ => false,
            };
            if !named {
                return false;
            }
        }
        if let Some(t) = self.event_type {
            let typed = match &env.event {
                Event::EventExtracted(e) => e.event_type == Some(t),
                Event::AlertRaised(a) => a.event_type == Some(t),
                _ => false,
            };
            if !typed {
                return false;
            }
        }
        true
    }
}

/// Validates `--kind`.
pub fn parse_kind(kind: &str) -> Result<String, Error> {
    if Event::KINDS.contains(&kind) {
        Ok(kind.to_string())
    } else {
        Err(Error::Usage(format!(
            "--kind {kind:?}: expected one of {}",
            Event::KINDS.join(", ")
        )))
    }
}

/// Builds an [`EventFilter`] from the CLI's (and the API's) textual arguments, so both
/// validate and interpret `--type`, `--kind` and `--since` identically.
pub fn event_filter(
    actor: Option<&str>,
    event_type: Option<&str>,
    kind: Option<&str>,
    since: Option<&str>,
    limit: Option<usize>,
    now: DateTime<Utc>,
) -> Result<EventFilter, Error> {
    Ok(EventFilter {
        actor: actor.map(str::to_string),
        event_type: event_type
            .map(|t| {
                t.parse().map_err(|e: crate::plover::UnknownPloverType| {
                    Error::Usage(format!("--type: {e}"))
                })
            })
            .transpose()?,
        kind: kind.map(parse_kind).transpose()?,
        since: since.map(|s| parse_since(s, now)).transpose()?,
        limit,
    })
}

/// The events matching `filter`, in log order. Reads the store's postings (by kind, actor and
/// time) when the filter narrows the search, and the whole log only when it does not.
pub fn query_events(store: &Store, filter: &EventFilter) -> Result<Vec<Envelope>, Error> {
    let keep = |mut env: Envelope| -> Result<Option<Envelope>, Error> {
        // A record a re-extraction replaced is history, not a current finding.
        if matches!(env.event, Event::EventExtracted(_)) && store.is_superseded(&env.event_id)? {
            return Ok(None);
        }
        if !filter.matches(&env) {
            return Ok(None);
        }
        redact_for_display(&mut env);
        Ok(Some(env))
    };
    match candidate_seqs(store, filter)? {
        Some(seqs) => newest_kept(store, &seqs, filter.limit, keep),
        None => {
            let mut kept: VecDeque<Envelope> = VecDeque::new();
            for env in store.iter_from(1) {
                if let Some(env) = keep(env?)? {
                    kept.push_back(env);
                    if filter.limit.is_some_and(|n| kept.len() > n) {
                        kept.pop_front();
                    }
                }
            }
            Ok(kept.into())
        }
    }
}

/// The seqs that can match `filter`, ascending, from the store's postings; `None` when the
/// filter does not narrow the search (no kind, actor, type or since), so the log is read.
/// A superset: the caller applies the filter to each event.
fn candidate_seqs(store: &Store, filter: &EventFilter) -> Result<Option<Vec<u64>>, Error> {
    // Only extracted records and alerts name actors or carry a PLOVER type.
    const NAMING: [&str; 2] = ["event.extracted", "alert.raised"];
    let given;
    let kinds: &[&str] = match &filter.kind {
        Some(kind) => {
            given = [kind.as_str()];
            &given
        }
        None if filter.actor.is_some() || filter.event_type.is_some() => &NAMING,
        None if filter.since.is_some() => &Event::KINDS,
        None => return Ok(None),
    };
    let mut seqs = Vec::new();
    for kind in kinds {
        seqs.extend(match &filter.actor {
            Some(actor) => store.actor_kind_seqs(actor, kind, filter.since)?,
            None => store.kind_seqs(kind, filter.since)?,
        });
    }
    seqs.sort_unstable();
    seqs.dedup();
    Ok(Some(seqs))
}

/// Loads the events at `seqs` (ascending) and keeps what `keep` returns, in log order; with
/// a `limit`, only the last N kept, found by reading from the newest end and stopping there.
fn newest_kept<T>(
    store: &Store,
    seqs: &[u64],
    limit: Option<usize>,
    mut keep: impl FnMut(Envelope) -> Result<Option<T>, Error>,
) -> Result<Vec<T>, Error> {
    let mut kept = Vec::new();
    match limit {
        Some(n) => {
            for &seq in seqs.iter().rev() {
                if kept.len() >= n {
                    break;
                }
                if let Some(env) = store.get_seq(seq)?
                    && let Some(x) = keep(env)?
                {
                    kept.push(x);
                }
            }
            kept.reverse();
        }
        None => {
            for &seq in seqs {
                if let Some(env) = store.get_seq(seq)?
                    && let Some(x) = keep(env)?
                {
                    kept.push(x);
                }
            }
        }
    }
    Ok(kept)
}

/// The event clusters matching `filter` (actor, type, since on the latest report date,
/// limit), oldest first: the query behind `parley events --clustered` and
/// `GET /api/v1/events/clustered`.
pub fn query_clusters(store: &Store, filter: &EventFilter) -> Result<Vec<EventCluster>, Error> {
    let mut clusters: Vec<EventCluster> = store
        .event_clusters()?
        .into_iter()
        .filter(|c| filter.actor.as_ref().is_none_or(|a| c.actors.contains(a)))
        .filter(|c| filter.event_type.is_none_or(|t| c.event_type == t))
        .filter(|c| filter.since.is_none_or(|s| c.last >= s.date_naive()))
        .collect();
    clusters.sort_by(|a, b| {
        (a.first, a.reports.first().map(|r| r.seq))
            .cmp(&(b.first, b.reports.first().map(|r| r.seq)))
    });
    if let Some(n) = filter.limit {
        let skip = clusters.len().saturating_sub(n);
        clusters.drain(..skip);
    }
    Ok(clusters)
}

/// Hides what a query must not show: an article's `feed_url` is the feed's key exactly as
/// configured (article ids depend on it), so it may carry an API key from `${VAR}` in its
/// query string; the CLI and the API show it without query, fragment or credentials.
fn redact_for_display(env: &mut Envelope) {
    if let Event::ArticleIngested(article) = &mut env.event
        && let Ok(url) = url::Url::parse(&article.feed_url)
        && matches!(url.scheme(), "http" | "https")
    {
        article.feed_url = crate::feed::FeedLocation::Http(url).redacted();
    }
}

/// Filters for `parley alerts`.
#[derive(Debug, Default, Clone)]
pub struct AlertFilter {
    /// Only alerts of this rule.
    pub rule: Option<String>,
    /// Earliest `occurred_at`.
    pub since: Option<DateTime<Utc>>,
    /// Keep the most recent N.
    pub limit: Option<usize>,
}

/// The raised alerts matching `filter`, in log order (the query behind `parley alerts` and
/// `GET /api/v1/alerts`), read through the `alert.raised` postings.
pub fn query_alerts(store: &Store, filter: &AlertFilter) -> Result<Vec<Alert>, Error> {
    let kind = EventFilter {
        kind: Some("alert.raised".into()),
        since: filter.since,
        ..EventFilter::default()
    };
    let seqs = store.kind_seqs("alert.raised", filter.since)?;
    newest_kept(store, &seqs, filter.limit, |env| {
        if !kind.matches(&env) {
            return Ok(None);
        }
        Ok(match env.event {
            Event::AlertRaised(alert) if filter.rule.as_ref().is_none_or(|r| *r == alert.rule) => {
                Some(alert)
            }
            _ => None,
        })
    })
}

/// Finds an alert by id or unique id prefix.
pub fn find_alert(store: &Store, id: &str) -> Result<crate::events::Alert, Error> {
    if let Some(env) = store.get(id)?
        && let Event::AlertRaised(alert) = env.event
    {
        return Ok(alert);
    }
    let mut found = Vec::new();
    for seq in store.kind_seqs("alert.raised", None)? {
        if let Some(env) = store.get_seq(seq)?
            && let Event::AlertRaised(alert) = env.event
            && alert.alert_id.starts_with(id)
        {
            found.push(alert);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::Usage(format!("no alert {id:?}"))),
        n => Err(Error::Usage(format!(
            "{n} alerts start with {id:?}; give more of the id"
        ))),
    }
}

/// The delivery records of one alert (`notification.delivered`, `.failed`, `.retried`), in
/// log order, read through their kinds' postings: what `alerts show` lists.
pub(crate) fn alert_notifications(store: &Store, alert_id: &str) -> Result<Vec<Envelope>, Error> {
    let mut seqs = Vec::new();
    for kind in [
        "notification.delivered",
        "notification.failed",
        "notification.retried",
    ] {
        seqs.extend(store.kind_seqs(kind, None)?);
    }
    seqs.sort_unstable();
    newest_kept(store, &seqs, None, |env| {
        let of_alert = match &env.event {
            Event::NotificationDelivered(n) => n.alert_id == alert_id,
            Event::NotificationFailed(n) => n.alert_id == alert_id,
            Event::NotificationRetried(n) => n.alert_id == alert_id,
            _ => false,
        };
        Ok(of_alert.then_some(env))
    })
}

/// One line of `parley feeds`: a configured feed and its stored health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedReport {
    /// The feed's key (its URL as configured, canonical).
    pub url: String,
    /// Display name.
    pub name: String,
    /// Where it is polled now, when a permanent redirect moved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_url: Option<String>,
    /// Last successful poll.
    pub last_success: Option<DateTime<Utc>>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Next planned poll.
    pub next_poll: Option<DateTime<Utc>>,
    /// Items seen over the feed's life.
    pub items_seen: u64,
    /// Why the feed is no longer polled (410 Gone), if it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    /// What had to be repaired for the last successful poll to parse (malformed XML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
}

/// The health of every configured feed, in config order (`parley feeds`,
/// `GET /api/v1/feeds`).
pub fn feed_reports(config: &config::Config, store: &Store) -> Result<Vec<FeedReport>, Error> {
    let mut out = Vec::with_capacity(config.feeds.len());
    for feed in &config.feeds {
        let key = feed.location.key();
        let state = store.feed_state(&key)?.unwrap_or_default();
        // Shown to users and over the API: a key in the query string must not be.
        let effective_url = state.effective_url.map(|u| match url::Url::parse(&u) {
            Ok(url) => crate::feed::FeedLocation::Http(url).redacted(),
            Err(_) => u,
        });
        out.push(FeedReport {
            name: feed.name.clone(),
            effective_url,
            last_success: state.last_success,
            last_error: state.last_error,
            consecutive_failures: state.consecutive_failures,
            next_poll: state.next_poll,
            items_seen: state.items_seen,
            disabled: state.disabled,
            recovered: state.recovered,
            url: match &feed.location {
                crate::feed::FeedLocation::Http(_) => feed.location.redacted(),
                crate::feed::FeedLocation::File(_) => key,
            },
        });
    }
    Ok(out)
}
