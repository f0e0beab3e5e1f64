//! The non-daemon subcommands: `check`, `extract`, `events`, `alerts`, `replay`.
//! Each returns its output through a writer so tests and the binary share them.

use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::config;
use crate::error::Error;
use crate::events::{
    Alert, AlertAcked, Envelope, Event, EventExtracted, NewEvent, NotificationRetried,
    SilenceAdded, SilenceExpired, stable_id,
};
use crate::extract::{Document, ExtractedEvent, Extractor};
use crate::pipeline::Prepared;
use crate::plover::PloverType;
use crate::store::{EventCluster, Store};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn stdout_err(source: std::io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source,
    }
}

/// `parley check`: validates and compiles the config, returns its summary.
pub fn check(config_path: &Path) -> Result<String, Error> {
    let prepared = Prepared::load(config_path)?;
    Ok(format!(
        "{}: OK\n{}",
        config_path.display(),
        prepared.config.summary()
    ))
}

/// Parses a publication time: RFC 3339 or a bare date (taken as midnight UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

/// Parses `--since`: a date / RFC 3339 time, or a duration back from now ("48h", "30d").
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    if let Some(t) = parse_time(s) {
        return Ok(t);
    }
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        Error::Usage(format!(
            "--since {s:?}: not a date (YYYY-MM-DD, RFC 3339) or a duration (48h): {e}"
        ))
    })?;
    let d =
        chrono::Duration::from_std(d).map_err(|e| Error::Usage(format!("--since {s:?}: {e}")))?;
    now.checked_sub_signed(d).ok_or_else(|| {
        Error::Usage(format!(
            "--since {s:?}: reaches before the earliest representable date"
        ))
    })
}

/// One input line of `parley extract`.
#[derive(Debug, Deserialize)]
struct ExtractInput {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    title: Option<String>,
    text: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// One output line of `parley extract`.
#[derive(Debug, Serialize)]
struct ExtractOutput<'a> {
    id: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<String>,
    actors: &'a [crate::extract::ActorId],
    events: &'a [ExtractedEvent],
}

/// `parley extract`: runs extraction on JSON Lines (or one plain-text article) and writes one
/// JSON line per article. Bad lines are reported on stderr with their line number and skipped;
/// the command then fails with exit 1 after processing the rest.
pub fn extract(
    config_path: &Path,
    input: Option<&Path>,
    text_mode: bool,
    published: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let config = config::load(config_path)?;
    let extractor = crate::extract::model::shipped(&config)?;
    let reader: Box<dyn BufRead> = match input {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(io_err(path))?,
        )),
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let name = input.map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
    if text_mode {
        let mut bytes = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut bytes).map_err(|source| Error::Io {
            path: name.clone().into(),
            source,
        })?;
        // Plain text of unknown provenance: invalid UTF-8 becomes U+FFFD rather than an abort.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let date = match published {
            Some(p) => Some(parse_time(p).ok_or_else(|| {
                Error::Usage(format!(
                    "--published {p:?}: expected RFC 3339 or YYYY-MM-DD"
                ))
            })?),
            None => None,
        };
        let item = ExtractInput {
            id: None,
            title: None,
            text,
            published: date.map(|d| d.to_rfc3339()),
            source: None,
        };
        return write_extraction(&extractor, &item, serde_json::Value::from(1), out);
    }
    let mut bad = 0usize;
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut lineno = 0usize;
    loop {
        let too_long = match read_line_capped(&mut *reader, &mut buf, MAX_LINE_BYTES) {
            Ok(Some(too_long)) => too_long,
            Ok(None) => break,
            Err(source) => {
                return Err(Error::Io {
                    path: name.clone().into(),
                    source,
                });
            }
        };
        lineno += 1;
        if too_long {
            bad += 1;
            tracing::error!(input = %name, line = lineno, max_bytes = MAX_LINE_BYTES, "Skipping an input line longer than the limit.");
            continue;
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(line) => line,
            Err(error) => {
                bad += 1;
                tracing::error!(input = %name, line = lineno, %error, "Skipping an input line that is not UTF-8.");
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<ExtractInput>(line) {
            Ok(item) => {
                let id = item
                    .id
                    .clone()
                    .unwrap_or_else(|| serde_json::Value::from(lineno));
                write_extraction(&extractor, &item, id, out)?;
            }
            Err(error) => {
                bad += 1;
                tracing::error!(input = %name, line = lineno, %error, "Skipping a malformed input line.");
            }
        }
    }
    if bad > 0 {
        return Err(Error::Input(format!(
            "{name}: {bad} malformed line(s) skipped"
        )));
    }
    Ok(())
}

/// Longest `extract` input line: articles are at most a few MB, and a longer line (a file
/// without newlines, a dump fed by mistake) is skipped without ever being held in memory.
const MAX_LINE_BYTES: usize = 16 << 20;

/// Reads one `\n`-terminated line (without the `\n` and a trailing `\r`) into `buf`, holding
/// at most `max` bytes of it. `None` at end of input; `Some(true)` when the line was longer
/// than `max` (then consumed and discarded), `Some(false)` otherwise.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let (used, part_len, end) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, i, true),
            None => (available.len(), available.len(), false),
        };
        if !too_long {
            if buf.len() + part_len > max {
                too_long = true;
                *buf = Vec::new();
            } else {
                buf.extend_from_slice(&available[..part_len]);
            }
        }
        reader.consume(used);
        if end {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(too_long));
        }
    }
}

fn write_extraction(
    extractor: &Extractor,
    item: &ExtractInput,
    id: serde_json::Value,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let published = item.published.as_deref().and_then(parse_time);
    let extraction = extractor.extract(&Document {
        title: item.title.as_deref().unwrap_or(""),
        text: &item.text,
        date: published.map(|d| d.date_naive()),
    });
    let output = ExtractOutput {
        id,
        source: item.source.as_deref(),
        published: published.map(|d| d.to_rfc3339()),
        actors: &extraction.actors,
        events: &extraction.events,
    };
    let line = serde_json::to_string(&output).map_err(|e| Error::Input(e.to_string()))?;
    writeln!(out, "{line}").map_err(stdout_err)
}

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

/// The events matching `filter`, in log order. Uses the per-actor index when it can.
pub fn query_events(store: &Store, filter: &EventFilter) -> Result<Vec<Envelope>, Error> {
    let mut kept: VecDeque<Envelope> = VecDeque::new();
    let mut keep = |mut env: Envelope| -> Result<(), Error> {
        // A record a re-extraction replaced is history, not a current finding.
        if matches!(env.event, Event::EventExtracted(_)) && store.is_superseded(&env.event_id)? {
            return Ok(());
        }
        if filter.matches(&env) {
            redact_for_display(&mut env);
            kept.push_back(env);
            if filter.limit.is_some_and(|n| kept.len() > n) {
                kept.pop_front();
            }
        }
        Ok(())
    };
    let extracted_only = filter.kind.as_deref() == Some("event.extracted");
    match &filter.actor {
        Some(actor) if extracted_only => {
            for seq in store.actor_event_seqs(actor)? {
                if let Some(env) = store.get_seq(seq)? {
                    keep(env)?;
                }
            }
        }
        _ => {
            for env in store.iter_from(1) {
                keep(env?)?;
            }
        }
    }
    Ok(kept.into())
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

/// `parley events`.
pub fn events(
    store: &Store,
    filter: &EventFilter,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    write_events(&query_events(store, filter)?, json, out)
}

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
/// `GET /api/v1/alerts`).
pub fn query_alerts(store: &Store, filter: &AlertFilter) -> Result<Vec<Alert>, Error> {
    let kind = EventFilter {
        kind: Some("alert.raised".into()),
        since: filter.since,
        ..EventFilter::default()
    };
    let mut kept = VecDeque::new();
    for env in store.iter_from(1) {
        let env = env?;
        if !kind.matches(&env) {
            continue;
        }
        if let Event::AlertRaised(alert) = env.event {
            if filter.rule.as_ref().is_some_and(|r| *r != alert.rule) {
                continue;
            }
            kept.push_back(alert);
            if filter.limit.is_some_and(|n| kept.len() > n) {
                kept.pop_front();
            }
        }
    }
    Ok(kept.into())
}

/// `parley alerts`.
pub fn alerts(
    store: &Store,
    rule: Option<&str>,
    since: Option<DateTime<Utc>>,
    limit: Option<usize>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let filter = AlertFilter {
        rule: rule.map(str::to_string),
        since,
        limit,
    };
    write_alerts(&query_alerts(store, &filter)?, json, out)
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

/// What distinguishes one logged extraction of a sentence from another: re-extraction logs a
/// sentence again only when this differs from every record the log has for it.
fn extraction_fingerprint(e: &EventExtracted) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        e.article_id,
        e.sentence_index,
        e.actors.join(","),
        e.event_type.map_or("", |t| t.as_str()),
        e.source.join(","),
        e.target.join(","),
        e.participants.join(","),
        e.status.as_deref().unwrap_or(""),
    )
}

/// `parley replay --reextract`: runs the current watchlists and extractor over every stored
/// article (its feed text and its stored page text: no network) and logs the
/// `event.extracted` records of each article whose results differ from its live records.
/// The log stays append-only: the article's earlier records are not deleted but named in one
/// `extraction.superseded` event, which the projections fold (they leave the actor index and
/// the event clusters, `events` hides them), so the projections show exactly the latest
/// extraction of each article. Running it twice appends nothing the second time.
/// Alerts are not evaluated (replay never notifies).
/// Returns (articles read, records appended, records superseded).
pub async fn reextract(store: &Store, prepared: &Prepared) -> Result<(u64, u64, u64), Error> {
    // The live (not yet superseded) records of each article: (event id, fingerprint).
    let mut live: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    let mut articles = Vec::new();
    for env in store.iter_from(1) {
        let env = env?;
        match env.event {
            Event::EventExtracted(e) if !store.is_superseded(&env.event_id)? => {
                let fingerprint = extraction_fingerprint(&e);
                live.entry(e.article_id.clone())
                    .or_default()
                    .push((env.event_id, fingerprint));
            }
            Event::ArticleIngested(a) => articles.push((env.occurred_at, a)),
            _ => {}
        }
    }
    let mut new = Vec::new();
    let mut superseded_total = 0u64;
    for (at, a) in &articles {
        let text = crate::pipeline::stored_text(store, a)?;
        let extraction = prepared.extractor.extract(&Document {
            title: "",
            text: &text,
            date: Some(at.date_naive()),
        });
        let current = live.remove(&a.article_id).unwrap_or_default();
        let mut fingerprints = std::collections::HashSet::new();
        let mut produced = Vec::new();
        for e in &extraction.events {
            let logged = crate::pipeline::logged_event(&a.article_id, e);
            let fingerprint = extraction_fingerprint(&logged);
            if fingerprints.insert(fingerprint.clone()) {
                produced.push((fingerprint, e.sentence_index, logged));
            }
        }
        // Unchanged (the same results as the live records): nothing to log.
        let same = produced.len() == current.len()
            && produced
                .iter()
                .all(|(f, _, _)| current.iter().any(|(_, c)| c == f));
        if same {
            continue;
        }
        // Changed: the whole earlier set is superseded and the whole new set logged, so
        // the projections hold exactly the latest extraction of the article (a record that
        // did not change still counts once, and its clusters are rebuilt with the rest).
        let mut salt = String::new();
        if !current.is_empty() {
            superseded_total += current.len() as u64;
            let refs: Vec<&str> = std::iter::once(a.article_id.as_str())
                .chain(current.iter().map(|(id, _)| id.as_str()))
                .collect();
            salt = stable_id("sup", &refs);
            new.push(NewEvent {
                event_id: salt.clone(),
                occurred_at: *at,
                event: Event::ExtractionSuperseded(crate::events::ExtractionSuperseded {
                    article_id: a.article_id.clone(),
                    event_ids: current.into_iter().map(|(id, _)| id).collect(),
                }),
            });
        }
        // After the superseding event, so that the new records rebuild the clusters the
        // article left.
        for (fingerprint, index, logged) in produced {
            let mut event_id = stable_id("evt", &[&a.article_id, &index.to_string(), &fingerprint]);
            // A result logged before (and now superseded) comes back: a new record, since
            // the old id is taken; the superseding event's id keeps it unique per run.
            if store.contains(&event_id)? {
                event_id = stable_id("evt", &[&event_id, &salt]);
            }
            new.push(NewEvent {
                event_id,
                occurred_at: *at,
                event: Event::EventExtracted(logged),
            });
        }
    }
    let mut appended = 0u64;
    while !new.is_empty() {
        let rest = new.split_off(new.len().min(512));
        let batch = std::mem::replace(&mut new, rest);
        // Count the event records; the superseding events are not records.
        let records: Vec<bool> = batch
            .iter()
            .map(|n| matches!(n.event, Event::EventExtracted(_)))
            .collect();
        let results = store.append(batch).await?;
        appended += results
            .iter()
            .zip(records)
            .filter(|(r, record)| *record && matches!(r, crate::store::Appended::New(_)))
            .count() as u64;
    }
    Ok((articles.len() as u64, appended, superseded_total))
}

/// `parley replay`: rebuilds the projections, with a progress bar on a terminal.
pub async fn replay(store: &Store) -> Result<u64, Error> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(store.last_seq()?);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} events [{elapsed}]") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = {
        let bar = bar.clone();
        move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let stats = store.replay(&progress).await?;
    bar.finish_and_clear();
    Ok(stats.events)
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

/// Finds an alert by id or unique id prefix.
pub fn find_alert(store: &Store, id: &str) -> Result<crate::events::Alert, Error> {
    if let Some(env) = store.get(id)?
        && let Event::AlertRaised(alert) = env.event
    {
        return Ok(alert);
    }
    let mut found = Vec::new();
    for env in store.iter_from(1) {
        if let Event::AlertRaised(alert) = env?.event
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

/// `parley alerts show ID`: everything that explains an alert.
pub fn alerts_show(
    store: &Store,
    config: &config::Config,
    id: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let alert = find_alert(store, id)?;
    let mut lines = vec![
        format!("alert     {}", alert.alert_id),
        format!("rule      {}", alert.rule),
        format!("severity  {}", alert.severity.as_str()),
        format!(
            "scope     {}{}",
            alert.scope,
            alert
                .event_type
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        ),
        format!("raised    {}", alert.raised_at.to_rfc3339()),
    ];
    let names: Vec<String> = alert
        .actors
        .iter()
        .zip(&alert.actor_names)
        .map(|(id, name)| format!("{name} [{id}]"))
        .collect();
    lines.push(format!("actors    {}", names.join(", ")));
    if let Some(rule) = config.rules.iter().find(|r| r.id == alert.rule) {
        let slots: Vec<String> = rule
            .slots
            .iter()
            .map(|s| match s {
                config::RuleSlot::Actor(a) => a.clone(),
                config::RuleSlot::Group { id, .. } => format!("group:{id}"),
            })
            .collect();
        lines.push(format!(
            "matched   {} of {} slots needed: {}",
            rule.min_actors,
            rule.slots.len(),
            slots.join(", ")
        ));
        if store
            .rule_record(&rule.id)?
            .is_some_and(|r| r.hash != crate::alert::rule_hash(rule))
        {
            lines.push("note      the rule has changed since (reload to record it)".into());
        }
    }
    if !alert.sources.is_empty() {
        lines.push(format!("sources   {}", alert.sources.join(", ")));
    }
    if let Some(s) = &alert.silenced_by {
        lines.push(format!("silenced  by {s} (recorded, not notified)"));
    }
    if alert.backfill {
        lines.push("backfill  raised by a backfill after a rule change".into());
    }
    if let Some(at) = store.acked_at(&alert.alert_id)? {
        lines.push(format!("acked     {}", at.to_rfc3339()));
    }
    lines.push("evidence".into());
    for e in &alert.evidence {
        lines.push(format!(
            "  - \"{}\" [{}] {}{}",
            e.title,
            e.feed,
            e.published.map(|p| p.to_rfc3339()).unwrap_or_default(),
            e.url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ));
        lines.push(format!("    {}", e.sentence));
        for m in &e.mentions {
            lines.push(format!(
                "    {} matched by {} \"{}\"",
                m.actor,
                if m.via_role { "role" } else { "alias" },
                m.text
            ));
        }
    }
    lines.push("deliveries".into());
    for env in store.iter_from(1) {
        let env = env?;
        let line = match &env.event {
            Event::NotificationDelivered(n) if n.alert_id == alert.alert_id => format!(
                "  {} delivered to {} (attempt {})",
                env.occurred_at.to_rfc3339(),
                n.notifier,
                n.attempt
            ),
            Event::NotificationFailed(n) if n.alert_id == alert.alert_id => format!(
                "  {} {} attempt {} failed{}: {}",
                env.occurred_at.to_rfc3339(),
                n.notifier,
                n.attempt,
                if n.gave_up { " (gave up)" } else { "" },
                n.error
            ),
            Event::NotificationRetried(n) if n.alert_id == alert.alert_id => format!(
                "  {} {} re-queued",
                env.occurred_at.to_rfc3339(),
                n.notifier
            ),
            _ => continue,
        };
        lines.push(line);
    }
    for line in lines {
        writeln!(out, "{line}").map_err(stdout_err)?;
    }
    Ok(())
}

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

/// `parley alerts --failed`: the dead letters.
pub fn alerts_failed(store: &Store, json: bool, out: &mut dyn Write) -> Result<(), Error> {
    write_dead_letters(&store.dead_letters()?, json, out)
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

/// `parley silence list`.
pub fn silence_list(store: &Store, out: &mut dyn Write) -> Result<(), Error> {
    write_silences(&store.silences()?, out)
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

/// `parley backtest`: what `rule` would have raised over the stored articles.
pub fn backtest(
    prepared: &Prepared,
    store: &Store,
    rule: &str,
    since: Option<DateTime<Utc>>,
    json: bool,
    out: &mut dyn Write,
) -> Result<usize, Error> {
    let Some(rule) = prepared.config.rules.iter().find(|r| r.id == rule) else {
        return Err(Error::Usage(format!(
            "--rule: no rule {rule:?} in the config"
        )));
    };
    let alerts = crate::pipeline::backtest(prepared, store, rule, since)?;
    // Same rendering as `parley alerts`, so a backtest reads like the alerts it predicts.
    write_alerts(&alerts, json, out)?;
    Ok(alerts.len())
}
