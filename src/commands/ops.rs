//! The operator's writes: ack, retry, silence add and expire, and a watchlist edit. Each
//! appends one kind of event through the store's appender, so the CLI, the API and the web
//! UI write the same records.

use std::path::Path;

use chrono::Utc;

use super::query::find_alert;
use crate::config;
use crate::config::managed::{self, Change, MANAGED_FILE, ManagedFile};
use crate::error::Error;
use crate::events::{
    AlertAcked, Event, NewEvent, NotificationRetried, SilenceAdded, SilenceExpired,
    WatchlistChanged, stable_id,
};
use crate::pipeline::{PrepareError, Prepared};
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

/// What [`watchlist_edit`] did.
#[derive(Debug, Clone)]
pub struct WatchlistEdit {
    /// "rule r1 added", as recorded.
    pub change: String,
}

/// One watchlist edit at a time: each reads the managed file, changes it and writes it.
static EDIT_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Applies `change` to the managed watchlist of the config at `source` (absolute): the
/// whole config is loaded and compiled with the candidate file in its place, exactly as
/// `parley check` does (`Prepared::load`), and an invalid change is refused with that
/// error, the file left as it was. A valid one is written atomically and recorded as a
/// `watchlist.changed` event (`who`, the diff). Hand-written files are only read. The
/// caller reloads the daemon to apply it.
pub async fn watchlist_edit(
    store: &Store,
    source: &Path,
    who: &str,
    change: &Change,
) -> Result<WatchlistEdit, Error> {
    let _one_at_a_time = EDIT_LOCK.lock().await;
    let current = ManagedFile::read(source)?;
    let candidate = current.with_change(change).map_err(Error::Usage)?;
    let before = current.text.clone();
    if before.as_deref() == Some(candidate.as_str()) {
        return Err(Error::Usage(format!(
            "{}: nothing changed",
            change.describe()
        )));
    }
    let io = |source| Error::Io {
        path: current.path.clone(),
        source,
    };
    // The include globs match files on disk, so a first edit creates the (empty) file.
    let created = managed::ensure_exists(&current.path).map_err(io)?;
    let checked = managed::validate_candidate(source, &candidate)
        .map_err(PrepareError::from)
        .and_then(Prepared::from_config);
    if let Err(refused) = checked {
        if created {
            let _ = std::fs::remove_file(&current.path);
        }
        return Err(refused.into());
    }
    let diff = managed::line_diff(before.as_deref().unwrap_or(""), &candidate);
    let sha256_before = before.as_deref().map(managed::sha256_hex);
    let sha256_after = managed::sha256_hex(&candidate);
    let now = Utc::now();
    let event_id = stable_id(
        "watchlist",
        &[
            sha256_before.as_deref().unwrap_or(""),
            &sha256_after,
            who,
            &now.to_rfc3339(),
        ],
    );
    managed::write_atomic(&current.path, &candidate).map_err(io)?;
    let appended = store
        .append(vec![NewEvent {
            event_id: event_id.clone(),
            occurred_at: now,
            event: Event::WatchlistChanged(WatchlistChanged {
                who: who.to_string(),
                file: MANAGED_FILE.to_string(),
                change: change.describe(),
                sha256_before,
                sha256_after,
                diff: diff.clone(),
            }),
        }])
        .await;
    if let Err(error) = appended {
        // Unrecorded, so undone: the file goes back to what it was.
        let _ = match &before {
            Some(text) => managed::write_atomic(&current.path, text),
            None => std::fs::remove_file(&current.path),
        };
        return Err(error.into());
    }
    Ok(WatchlistEdit {
        change: change.describe(),
    })
}
