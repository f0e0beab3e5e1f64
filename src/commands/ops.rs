//! The operator's writes: ack, retry, silence add and expire. Each appends one kind of
//! event through the store's appender, so the CLI, the API and the web UI write the same
//! records.

use chrono::Utc;

use super::query::find_alert;
use crate::config;
use crate::error::Error;
use crate::events::{
    AlertAcked, Event, NewEvent, NotificationRetried, SilenceAdded, SilenceExpired, stable_id,
};
use crate::store::Store;

/// `parley alerts ack ID`: records an `alert.acked` event.
pub async fn alerts_ack(store: &Store, id: &str) -> Result<String, Error> {
    let alert = find_alert(store, id)?;
    store
        .append(vec![NewEvent {
            event_id: stable_id("ack", &[&alert.alert_id]),
            occurred_at: Utc::now(),
            event: Event::AlertAcked(AlertAcked {
                alert_id: alert.alert_id.clone(),
            }),
        }])
        .await?;
    Ok(alert.alert_id)
}

/// `parley alerts retry ID`: re-queues every dead letter of the alert. Returns how many.
pub async fn alerts_retry(store: &Store, id: &str) -> Result<usize, Error> {
    let alert = find_alert(store, id)?;
    let events: Vec<NewEvent> = store
        .dead_letters()?
        .into_iter()
        .filter(|d| d.alert_id == alert.alert_id)
        .map(|d| NewEvent {
            event_id: stable_id(
                "retry",
                &[&d.alert_id, &d.notifier, &d.failed_at.to_rfc3339()],
            ),
            occurred_at: Utc::now(),
            event: Event::NotificationRetried(NotificationRetried {
                alert_id: d.alert_id,
                notifier: d.notifier,
            }),
        })
        .collect();
    if events.is_empty() {
        return Err(Error::Usage(format!(
            "alert {} has no failed deliveries",
            alert.alert_id
        )));
    }
    let n = events.len();
    store.append(events).await?;
    Ok(n)
}

/// `parley silence add`: records a `silence.added` event and returns its id.
pub async fn silence_add(
    store: &Store,
    config: &config::Config,
    rule: &str,
    actors: &[String],
    duration: &str,
    reason: &str,
) -> Result<String, Error> {
    if !config.rules.iter().any(|r| r.id == rule) {
        return Err(Error::Usage(format!(
            "--rule: no rule {rule:?} in the config"
        )));
    }
    let mut actors: Vec<String> = actors
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    actors.sort();
    actors.dedup();
    for a in &actors {
        if !config.actors.iter().any(|c| &c.spec.id == a) {
            return Err(Error::Usage(format!(
                "--actors: no actor {a:?} in the config"
            )));
        }
    }
    let span = humantime::parse_duration(duration)
        .map_err(|e| Error::Usage(format!("--for {duration:?}: {e}")))?;
    let now = Utc::now();
    let until = chrono::Duration::from_std(span)
        .ok()
        .and_then(|span| now.checked_add_signed(span))
        .ok_or_else(|| Error::Usage(format!("--for {duration:?} is too long")))?;
    let silence_id = stable_id(
        "silence",
        &[rule, &actors.join(","), &until.to_rfc3339(), reason],
    );
    store
        .append(vec![NewEvent {
            event_id: silence_id.clone(),
            occurred_at: now,
            event: Event::SilenceAdded(SilenceAdded {
                silence_id: silence_id.clone(),
                rule: rule.to_string(),
                actors,
                until,
                reason: reason.to_string(),
            }),
        }])
        .await?;
    Ok(silence_id)
}

/// `parley silence expire ID`.
pub async fn silence_expire(store: &Store, id: &str) -> Result<(), Error> {
    if !store.silences()?.iter().any(|s| s.silence_id == id) {
        return Err(Error::Usage(format!("no silence {id:?}")));
    }
    store
        .append(vec![NewEvent {
            event_id: stable_id("silence-expired", &[id]),
            occurred_at: Utc::now(),
            event: Event::SilenceExpired(SilenceExpired {
                silence_id: id.to_string(),
            }),
        }])
        .await?;
    Ok(())
}
