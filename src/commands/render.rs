//! How the commands print what the queries return: one line per record (or JSON Lines with
//! `--json`). The CLI renders the same values whether it read the store itself or asked a
//! running daemon over the API, so the user never sees which one answered.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::query::FeedReport;
use super::stdout_err;
use crate::error::Error;
use crate::events::{Alert, Envelope, Event, SilenceAdded};
use crate::plover::PloverType;
use crate::store::EventCluster;

/// Writes events as `parley events` shows them; shared by the store path and the API
/// client path so the user never sees which one answered.
pub fn write_events(envs: &[Envelope], json: bool, out: &mut dyn Write) -> Result<(), Error> {
    for env in envs {
        let line = if json {
            serde_json::to_string(env).map_err(|e| Error::Input(e.to_string()))?
        } else {
            describe(env)
        };
        writeln!(out, "{line}").map_err(stdout_err)?;
    }
    Ok(())
}

/// A one-line human rendering of an event.
pub fn describe(env: &Envelope) -> String {
    let what = match &env.event {
        Event::ArticleIngested(a) => format!("{} [{}]", a.title, a.feed),
        Event::EventExtracted(e) => format!(
            "{} {}: {}",
            e.event_type.map_or("-", PloverType::as_str),
            e.actors.join(","),
            shorten(&e.sentence, 120)
        ),
        Event::AlertRaised(a) => format!("{} {} ({})", a.rule, a.actor_names.join(" + "), a.scope),
        Event::NotificationDelivered(n) => {
            format!("{} -> {} (attempt {})", n.alert_id, n.notifier, n.attempt)
        }
        Event::NotificationFailed(n) => format!(
            "{} -> {} (attempt {}{}): {}",
            n.alert_id,
            n.notifier,
            n.attempt,
            if n.gave_up { ", gave up" } else { "" },
            n.error
        ),
        Event::NotificationRetried(n) => format!("{} -> {} re-queued", n.alert_id, n.notifier),
        Event::SilenceAdded(si) => format!(
            "{} rule {}{} until {}: {}",
            si.silence_id,
            si.rule,
            if si.actors.is_empty() {
                String::new()
            } else {
                format!(" actors {}", si.actors.join(","))
            },
            si.until.format("%Y-%m-%d %H:%M"),
            si.reason
        ),
        Event::SilenceExpired(si) => si.silence_id.clone(),
        Event::AlertAcked(a) => a.alert_id.clone(),
        Event::RuleChanged(r) => format!("{} {}", r.rule, r.hash),
        Event::ExtractionSuperseded(s) => {
            format!("{}: {} records replaced", s.article_id, s.event_ids.len())
        }
        Event::WatchlistChanged(w) => format!("{} by {} ({})", w.change, w.who, w.file),
    };
    format!(
        "{:>7}  {}  {:<22}  {}",
        env.seq,
        env.occurred_at.format("%Y-%m-%d %H:%M"),
        env.event.kind(),
        what
    )
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

/// Writes clusters as `parley events --clustered` shows them (store or API path alike): one
/// line per event with its dates, type, actors, report and source counts and first sentence.
pub fn write_clusters(
    clusters: &[EventCluster],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    for c in clusters {
        let line = if json {
            serde_json::to_string(c).map_err(|e| Error::Input(e.to_string()))?
        } else {
            let dates = if c.first == c.last {
                c.first.to_string()
            } else {
                format!("{}..{}", c.first, c.last)
            };
            format!(
                "{dates}  {:<10} {:<40} reports {:>3}  sources {:>3} ({})  \"{}\"",
                c.event_type.as_str(),
                c.actors.join(" + "),
                c.report_count(),
                c.source_count(),
                c.sources.join(", "),
                shorten(&c.sentence, 80)
            )
        };
        writeln!(out, "{line}").map_err(stdout_err)?;
    }
    Ok(())
}

/// Writes alerts as `parley alerts` shows them (store or API path alike).
pub fn write_alerts(alerts: &[Alert], json: bool, out: &mut dyn Write) -> Result<(), Error> {
    for alert in alerts {
        let line = if json {
            serde_json::to_string(alert).map_err(|e| Error::Input(e.to_string()))?
        } else {
            let first = alert.evidence.first();
            format!(
                "{}  {}  {}  {}  \"{}\"",
                alert.raised_at.format("%Y-%m-%d %H:%M"),
                alert.rule,
                alert.actor_names.join(" + "),
                alert.scope,
                first.map_or("", |e| e.title.as_str())
            )
        };
        writeln!(out, "{line}").map_err(stdout_err)?;
    }
    Ok(())
}

/// Writes feed health as `parley feeds` shows it.
pub fn write_feeds(feeds: &[FeedReport], json: bool, out: &mut dyn Write) -> Result<(), Error> {
    let when = |t: Option<DateTime<Utc>>| {
        t.map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        )
    };
    for feed in feeds {
        if json {
            let line = serde_json::to_string(feed).map_err(|e| Error::Input(e.to_string()))?;
            writeln!(out, "{line}").map_err(stdout_err)?;
            continue;
        }
        let status = match (&feed.disabled, feed.consecutive_failures) {
            (Some(_), _) => "DISABLED".to_string(),
            (None, 0) if feed.recovered.is_some() => "ok, recovered".to_string(),
            (None, 0) => "ok".to_string(),
            (None, n) => format!("failing x{n}"),
        };
        writeln!(
            out,
            "{}  [{}]\n  status {status}; last success {}; next poll {}; items seen {}",
            feed.name,
            feed.url,
            when(feed.last_success),
            when(feed.next_poll),
            feed.items_seen,
        )
        .map_err(stdout_err)?;
        if let Some(moved) = &feed.effective_url {
            writeln!(out, "  moved permanently to {moved}").map_err(stdout_err)?;
        }
        if let Some(why) = &feed.disabled {
            writeln!(out, "  disabled: {why}").map_err(stdout_err)?;
        }
        if let Some(error) = &feed.last_error {
            writeln!(out, "  last error: {error}").map_err(stdout_err)?;
        }
        if let Some(repairs) = &feed.recovered {
            writeln!(
                out,
                "  recovered: malformed XML, parsed after repairs ({repairs})"
            )
            .map_err(stdout_err)?;
        }
    }
    Ok(())
}

/// Writes dead letters as `parley alerts --failed` shows them (store or API path alike).
pub fn write_dead_letters(
    dead_letters: &[crate::store::DeadLetter],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    for dead in dead_letters {
        let line = if json {
            serde_json::to_string(&dead).map_err(|e| Error::Input(e.to_string()))?
        } else {
            format!(
                "{}  {}  {}  {} attempts: {}",
                dead.failed_at.format("%Y-%m-%d %H:%M"),
                dead.alert_id,
                dead.notifier,
                dead.attempts,
                dead.error
            )
        };
        writeln!(out, "{line}").map_err(stdout_err)?;
    }
    Ok(())
}

/// Writes silences as `parley silence list` shows them (store or API path alike).
pub fn write_silences(silences: &[SilenceAdded], out: &mut dyn Write) -> Result<(), Error> {
    let now = Utc::now();
    for s in silences {
        writeln!(
            out,
            "{}  {}  rule {}{}  until {}  {}",
            s.silence_id,
            if s.until > now { "active " } else { "ended  " },
            s.rule,
            if s.actors.is_empty() {
                String::new()
            } else {
                format!(" actors {}", s.actors.join(","))
            },
            s.until.to_rfc3339(),
            s.reason
        )
        .map_err(stdout_err)?;
    }
    Ok(())
}

/// The table `parley store stats` prints: one line per record kind, then the totals.
pub fn render_store_stats(stats: &crate::store::StoreStats) -> String {
    let mut out = format!(
        "{:<36} {:>10} {:>14} {:>14}\n",
        "kind", "records", "key bytes", "value bytes"
    );
    let (mut records, mut key_bytes, mut value_bytes) = (0, 0, 0);
    for k in &stats.kinds {
        out.push_str(&format!(
            "{:<36} {:>10} {:>14} {:>14}\n",
            k.kind, k.records, k.key_bytes, k.value_bytes
        ));
        records += k.records;
        key_bytes += k.key_bytes;
        value_bytes += k.value_bytes;
    }
    out.push_str(&format!(
        "{:<36} {:>10} {:>14} {:>14}\n",
        "total live", records, key_bytes, value_bytes
    ));
    out.push_str(&format!("disk: {} bytes", stats.disk_bytes));
    out
}
