//! The event log's vocabulary: the versioned envelope and every payload parley records.
//!
//! Everything parley knows is one of these events, appended to the log by `store`. Projections
//! (indexes, alert state, the outbox) are folds over them, so this module is the contract
//! between the writers (ingest, alerting, the outbox relay) and every reader (CLI, replay).
//! The JSON shape here is what `parley events --json` prints; change it only by bumping
//! [`SCHEMA_VERSION`] and keeping old versions readable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plover::PloverType;

/// Version of the payload schemas written by this build. Readers accept every version up to it.
pub const SCHEMA_VERSION: u32 = 1;

/// A stored event: the payload plus the bookkeeping the log adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Gap-free position in the log, assigned by the store's single appender; starts at 1.
    pub seq: u64,
    /// Deterministic id; appending an id that is already in the log is a no-op.
    pub event_id: String,
    /// Version of the payload schema this event was written with.
    pub schema_version: u32,
    /// When the thing the event describes happened (article publication, alert, delivery).
    pub occurred_at: DateTime<Utc>,
    /// When the store appended it.
    pub recorded_at: DateTime<Utc>,
    /// The typed payload; serialises as `"kind": "...", "payload": {...}`.
    #[serde(flatten)]
    pub event: Event,
}

/// An event on its way into the log: everything but the fields the store assigns.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Deterministic id (see [`stable_id`]); the store's idempotency key.
    pub event_id: String,
    /// When the described thing happened.
    pub occurred_at: DateTime<Utc>,
    /// The payload.
    pub event: Event,
}

/// Every kind of event parley records. The `kind` strings are part of the CLI (`--kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum Event {
    /// A feed item was seen for the first time.
    #[serde(rename = "article.ingested")]
    ArticleIngested(ArticleIngested),
    /// Extraction found tracked actors in one sentence of an article.
    #[serde(rename = "event.extracted")]
    EventExtracted(EventExtracted),
    /// A rule matched; the outbox holds one entry per notifier until it is delivered or fails.
    #[serde(rename = "alert.raised")]
    AlertRaised(Alert),
    /// A notifier accepted an alert; the outbox entry is done.
    #[serde(rename = "notification.delivered")]
    NotificationDelivered(NotificationDelivered),
    /// One delivery attempt failed; either another is scheduled or the entry is given up.
    #[serde(rename = "notification.failed")]
    NotificationFailed(NotificationFailed),
    /// An operator re-queued a dead letter (`parley alerts retry ID`).
    #[serde(rename = "notification.retried")]
    NotificationRetried(NotificationRetried),
    /// An operator silenced a rule (optionally for some actors) until a time.
    #[serde(rename = "silence.added")]
    SilenceAdded(SilenceAdded),
    /// An operator ended a silence early (`parley silence expire ID`).
    #[serde(rename = "silence.expired")]
    SilenceExpired(SilenceExpired),
    /// An operator acknowledged an alert (`parley alerts ack ID`).
    #[serde(rename = "alert.acked")]
    AlertAcked(AlertAcked),
    /// A rule's definition changed (or was first seen): alerts derive from later events only.
    #[serde(rename = "rule.changed")]
    RuleChanged(RuleChanged),
    /// `replay --reextract` ran a newer extractor or watchlist over an article and these
    /// earlier `event.extracted` records of it are no longer what extraction finds: the
    /// projections and `parley events` drop them, the log keeps them as what was known then.
    #[serde(rename = "extraction.superseded")]
    ExtractionSuperseded(ExtractionSuperseded),
    /// An analyst changed the managed watchlist (`watchlists/managed.toml`) on `/watchlist`:
    /// who, and the file's diff. Added within schema version 1 (a new kind changes no
    /// existing payload); projections fold nothing from it: it is the record.
    #[serde(rename = "watchlist.changed")]
    WatchlistChanged(WatchlistChanged),
}

impl Event {
    /// The envelope type string (`article.ingested`, ...), as used by `--kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ArticleIngested(_) => "article.ingested",
            Event::EventExtracted(_) => "event.extracted",
            Event::AlertRaised(_) => "alert.raised",
            Event::NotificationDelivered(_) => "notification.delivered",
            Event::NotificationFailed(_) => "notification.failed",
            Event::NotificationRetried(_) => "notification.retried",
            Event::SilenceAdded(_) => "silence.added",
            Event::SilenceExpired(_) => "silence.expired",
            Event::AlertAcked(_) => "alert.acked",
            Event::RuleChanged(_) => "rule.changed",
            Event::ExtractionSuperseded(_) => "extraction.superseded",
            Event::WatchlistChanged(_) => "watchlist.changed",
        }
    }

    /// Every kind string, for validating `--kind`.
    pub const KINDS: [&'static str; 12] = [
        "article.ingested",
        "event.extracted",
        "alert.raised",
        "notification.delivered",
        "notification.failed",
        "notification.retried",
        "silence.added",
        "silence.expired",
        "alert.acked",
        "rule.changed",
        "extraction.superseded",
        "watchlist.changed",
    ];
}

/// Payload of `article.ingested`: enough to show, link and re-extract the article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleIngested {
    /// Deterministic article id (feed URL + guid, else link, else title + date).
    pub article_id: String,
    /// The feed's configured name.
    pub feed: String,
    /// The feed URL the article came from.
    pub feed_url: String,
    /// The article's guid as the feed gave it, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The article's link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Plain-text title.
    pub title: String,
    /// Publication (or update) time from the feed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// The plain text of the feed item (title + summary + content), kept so the log can be
    /// re-extracted and backtested without the network.
    pub text: String,
    /// Hex SHA-256 of the article page's main text, when it was fetched (`fetch_article`):
    /// the text is in the store under that key, and extraction read `text` followed by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_text_sha256: Option<String>,
}

/// Payload of `event.extracted`: one sentence with its actors and PLOVER type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventExtracted {
    /// The article this sentence belongs to.
    pub article_id: String,
    /// Zero-based index of the sentence in the article text.
    pub sentence_index: usize,
    /// Actor ids mentioned in the sentence, sorted and unique.
    pub actors: Vec<String>,
    /// PLOVER type of the sentence's event word, or `None` for a bare co-mention.
    #[serde(rename = "type")]
    pub event_type: Option<PloverType>,
    /// The word or phrase that gave the type, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// The sentence as written.
    pub sentence: String,
    /// Who acts in the sentence's main interaction (sorted ids). Events written before
    /// extraction v2 have none; the event clusters then use `actors`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<String>,
    /// Who is acted on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target: Vec<String>,
    /// Who acts together.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    /// `occurred`, `planned`, `denied` or `hypothetical`; absent means occurred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Diplomatic subtype ("meet", "visit", "phone", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// When it happened per the text (else the article's date): what clusters group on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
}

impl EventExtracted {
    /// The actors of the main interaction (source, target and participants), else every
    /// actor of the sentence: the actor set an event cluster is keyed on.
    pub fn interaction_actors(&self) -> Vec<String> {
        let mut set: Vec<String> = self
            .source
            .iter()
            .chain(&self.target)
            .chain(&self.participants)
            .cloned()
            .collect();
        if set.is_empty() {
            set = self.actors.clone();
        }
        set.sort();
        set.dedup();
        set
    }
}

/// An alert, exactly as the webhook receives it and `parley alerts --json` prints it.
/// `Default` exists so tests and tools can build one with `..Default::default()` as fields
/// are added.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Deterministic id: rule, actor set and article. Also the webhook's Idempotency-Key.
    pub alert_id: String,
    /// The rule id that fired.
    pub rule: String,
    /// Actor ids that matched, sorted.
    pub actors: Vec<String>,
    /// Display names of `actors`, same order.
    pub actor_names: Vec<String>,
    /// PLOVER type of the matching event, if the rule or the evidence has one.
    pub event_type: Option<PloverType>,
    /// `sentence` or `article`.
    pub scope: String,
    /// When the alert was raised.
    pub raised_at: DateTime<Utc>,
    /// What the alert rests on: the articles and sentences that matched.
    pub evidence: Vec<Evidence>,
    /// Notifier ids that must receive it; the outbox gets one entry per id.
    #[serde(default)]
    pub notify: Vec<String>,
    /// How loud the alert is; notifiers with a higher `min_severity` are left out of `notify`.
    #[serde(default)]
    pub severity: Severity,
    /// Distinct outlets (feed names or site hosts) that reported it, for corroborated rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// The silence that muted it: recorded, but sent to no notifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silenced_by: Option<String>,
    /// True when raised by a backfill over stored articles after a rule change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backfill: bool,
}

/// Alert severity, ordered: `info < warning < critical`. Channels map it to their own
/// priorities (ntfy Priority, chat colours) and notifiers filter on it with `min_severity`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth a look (the default, as before severities existed).
    #[default]
    Warning,
    /// Act now.
    Critical,
}

impl Severity {
    /// Config and payload spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Parses the config spelling.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// How an actor was recognised in an evidence sentence: the explanation `alerts show` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedMention {
    /// Actor id.
    pub actor: String,
    /// The text as written (an alias or a role title).
    pub text: String,
    /// True when matched through a dated role alias rather than a name alias.
    #[serde(default)]
    pub via_role: bool,
}

/// Payload of `notification.retried`: a dead letter goes back into the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRetried {
    /// The alert.
    pub alert_id: String,
    /// The notifier to retry.
    pub notifier: String,
}

/// Payload of `silence.added`. Silences are events so they survive restarts and replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceAdded {
    /// Deterministic id (rule, actors, until, reason).
    pub silence_id: String,
    /// The rule silenced.
    pub rule: String,
    /// Only alerts whose actors include all of these (empty: every alert of the rule).
    #[serde(default)]
    pub actors: Vec<String>,
    /// Silenced until this time.
    pub until: DateTime<Utc>,
    /// Why, for the next person on shift.
    pub reason: String,
}

/// Payload of `silence.expired`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceExpired {
    /// The silence ended.
    pub silence_id: String,
}

/// Payload of `alert.acked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertAcked {
    /// The alert acknowledged.
    pub alert_id: String,
}

/// Payload of `extraction.superseded`: which earlier extraction records of an article a
/// re-extraction replaced (see [`Event::ExtractionSuperseded`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractionSuperseded {
    /// The re-extracted article.
    pub article_id: String,
    /// The `event.extracted` ids (of this article) that the new extraction replaces.
    pub event_ids: Vec<String>,
}

/// Payload of `watchlist.changed`: one change to the managed watchlist file, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchlistChanged {
    /// Who made it: the web UI's principal (`web`; there are no user accounts, the token
    /// is shared).
    pub who: String,
    /// The file changed, as the config's folder names it (`watchlists/managed.toml`).
    pub file: String,
    /// What changed, in words: "rule r1 added", "actor a edited", "group g removed".
    pub change: String,
    /// Hex SHA-256 of the file before (absent when it did not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_before: Option<String>,
    /// Hex SHA-256 of the file as written.
    pub sha256_after: String,
    /// The file's line diff, unified form.
    pub diff: String,
}

/// Payload of `rule.changed`: the hash of the rule's matching definition from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleChanged {
    /// Rule id.
    pub rule: String,
    /// Hash of the definition (see `alert::rule_hash`).
    pub hash: String,
}

/// One piece of evidence for an alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Article id in the log.
    pub article_id: String,
    /// Article title.
    pub title: String,
    /// Article link.
    pub url: Option<String>,
    /// Feed name.
    pub feed: String,
    /// Publication time.
    pub published: Option<DateTime<Utc>>,
    /// The matching sentence (for article scope, the first sentence naming a matched actor).
    pub sentence: String,
    /// Which aliases or roles recognised the matched actors in `sentence`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<MatchedMention>,
}

/// Payload of `notification.delivered`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationDelivered {
    /// The alert delivered.
    pub alert_id: String,
    /// The notifier that accepted it.
    pub notifier: String,
    /// Which attempt succeeded, starting at 1.
    pub attempt: u32,
}

/// Payload of `notification.failed`: one failed attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationFailed {
    /// The alert that could not be delivered.
    pub alert_id: String,
    /// The notifier that failed.
    pub notifier: String,
    /// Which attempt failed, starting at 1.
    pub attempt: u32,
    /// What went wrong, for the operator.
    pub error: String,
    /// When to try again; `None` when the entry is given up (`final`).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// True when no further attempt will be made.
    #[serde(rename = "final")]
    pub gave_up: bool,
}

/// The key of an actor set in the alert-state projection: sorted ids joined by `,`.
/// Cooldowns are kept per rule and per this key.
pub fn actor_key(actors: &[String]) -> String {
    let mut sorted: Vec<&str> = actors.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.join(",")
}

/// Builds a deterministic id: a readable prefix and the first 128 bits of SHA-256 over the
/// parts, each length-prefixed so that `("ab","c")` and `("a","bc")` differ.
///
/// Ids must be stable across restarts, machines and versions, because the log deduplicates by
/// them; that is why parley never uses feed-rs's random fallback ids.
pub fn stable_id(prefix: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    format!("{prefix}-{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_id_separates_parts() {
        // Ids are dedup keys: concatenation ambiguity would merge distinct articles.
        assert_ne!(stable_id("a", &["ab", "c"]), stable_id("a", &["a", "bc"]));
        assert_eq!(stable_id("a", &["x"]), stable_id("a", &["x"]));
        assert!(stable_id("art", &["x"]).starts_with("art-"));
    }

    #[test]
    fn envelope_json_shape() {
        // `events --json` promises kind and payload at the top level of each line.
        let env = Envelope {
            seq: 7,
            event_id: "n-1".into(),
            schema_version: SCHEMA_VERSION,
            occurred_at: Utc::now(),
            recorded_at: Utc::now(),
            event: Event::NotificationDelivered(NotificationDelivered {
                alert_id: "alert-1".into(),
                notifier: "desk".into(),
                attempt: 1,
            }),
        };
        let v: serde_json::Value = serde_json::to_value(&env).unwrap();
        assert_eq!(v["kind"], "notification.delivered");
        assert_eq!(v["payload"]["notifier"], "desk");
        assert_eq!(v["seq"], 7);
        let back: Envelope = serde_json::from_value(v).unwrap();
        assert_eq!(back, env);
    }
}
