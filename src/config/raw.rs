//! Phase one: the TOML file as serde reads it, before any checking beyond types.
//!
//! Every struct denies unknown fields so a typo (`intervall = "5m"`) is an error with a line
//! instead of a silently ignored setting. Every string is kept as `Spanned<String>` because
//! any string may hold `${VAR}` and expansion errors must point at their line; numbers that
//! have range rules are read as `i64` so the range message is ours and names the id concerned.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;

/// A string with its byte span in the file.
pub(crate) type Str = Spanned<String>;

/// One config file: the main one or an included one (which may not hold `include`/`daemon`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub include: Option<Spanned<Vec<Str>>>,
    pub daemon: Option<Spanned<RawDaemon>>,
    pub api: Option<Spanned<RawApi>>,
    pub log: Option<Spanned<RawLog>>,
    #[serde(default)]
    pub feed: Vec<Spanned<RawFeed>>,
    #[serde(default)]
    pub actor: Vec<Spanned<RawActor>>,
    /// `[[actor_update]]`: names and roles added to an actor defined elsewhere (the file
    /// `parley watchlist sync` generates).
    #[serde(default)]
    pub actor_update: Vec<Spanned<RawActorUpdate>>,
    #[serde(default)]
    pub group: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub notifier: Vec<Spanned<RawNotifier>>,
}

/// `[daemon]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDaemon {
    pub state_dir: Option<Str>,
    pub poll_interval: Option<Str>,
    pub concurrency: Option<Spanned<i64>>,
    pub request_timeout: Option<Str>,
    pub max_body_bytes: Option<Spanned<i64>>,
    pub user_agent: Option<Str>,
    pub max_backoff: Option<Str>,
    pub per_host_concurrency: Option<Spanned<i64>>,
    pub per_host_delay: Option<Str>,
    pub allow_networks: Option<Vec<Str>>,
}

/// `[api]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApi {
    pub enabled: Option<bool>,
    pub listen: Option<Str>,
    pub token: Option<Str>,
    pub token_file: Option<Str>,
}

/// `[log]`: which log of record (sled, or a NATS JetStream cluster).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLog {
    pub backend: Option<Str>,
    pub url: Option<Str>,
    pub stream: Option<Str>,
    pub replicas: Option<Spanned<i64>>,
    pub node_id: Option<Str>,
    pub lease_ttl: Option<Str>,
}

/// `[[feed]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFeed {
    pub url: Str,
    pub name: Option<Str>,
    pub interval: Option<Str>,
    pub fetch_article: Option<bool>,
}

/// `[[actor]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawActor {
    pub id: Str,
    pub name: Str,
    pub kind: Option<Str>,
    pub country: Option<Str>,
    pub aliases: Option<Vec<Str>>,
    pub roles: Option<Vec<Spanned<RawRole>>>,
    /// Wikidata item id (`Q` and digits) that `parley watchlist sync` reads.
    pub wikidata: Option<Str>,
}

/// `[[actor_update]]`: more aliases and roles for an `[[actor]]` of another file, merged by
/// id. Hand-written names and roles win on conflict (see `validate`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawActorUpdate {
    pub id: Str,
    /// Informational: the item the names came from.
    pub wikidata: Option<Str>,
    pub aliases: Option<Vec<Str>>,
    pub roles: Option<Vec<Spanned<RawRole>>>,
}

/// One entry of an actor's `roles`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRole {
    pub title: Str,
    pub aliases: Option<Vec<Str>>,
    /// A string `"2021-01-26"` or a bare TOML date `2021-01-26`.
    pub from: Option<Spanned<toml::Value>>,
    /// Same forms as `from`.
    pub until: Option<Spanned<toml::Value>>,
}

/// `[[group]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroup {
    pub id: Str,
    pub members: Spanned<Vec<Str>>,
}

/// `[[rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub id: Str,
    pub actors: Spanned<Vec<Str>>,
    pub min_actors: Option<Spanned<i64>>,
    pub scope: Option<Str>,
    pub event_types: Option<Vec<Str>>,
    pub cooldown: Option<Str>,
    pub notify: Option<Vec<Str>>,
    pub window: Option<Str>,
    pub min_sources: Option<Spanned<i64>>,
    pub status: Option<Vec<Str>>,
    pub keywords: Option<Spanned<RawKeywords>>,
    pub feeds: Option<Vec<Str>>,
    pub severity: Option<Str>,
    pub backfill: Option<bool>,
    pub notify_backfill: Option<bool>,
}

/// A rule's `keywords = { all = [...], any = [...], none = [...] }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKeywords {
    pub all: Option<Vec<Str>>,
    pub any: Option<Vec<Str>>,
    pub none: Option<Vec<Str>>,
    /// `sentence` (default) or `article`: where the words must appear.
    #[serde(rename = "in")]
    pub within: Option<Str>,
}

/// `[[notifier]]`. Flat on purpose: the `type` decides which fields are allowed, and we
/// want to say "`url` only applies to webhook notifiers" rather than serde's generic message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotifier {
    pub id: Str,
    #[serde(rename = "type")]
    pub kind: Str,
    pub url: Option<Str>,
    pub timeout: Option<Str>,
    pub headers: Option<Spanned<BTreeMap<String, Str>>>,
    pub max_attempts: Option<Spanned<i64>>,
    pub retry_initial: Option<Str>,
    pub retry_max: Option<Str>,
    pub max_age: Option<Str>,
    pub min_severity: Option<Str>,
    pub template: Option<Str>,
    pub rate_limit: Option<Str>,
    pub secret: Option<Str>,
    pub secret_file: Option<Str>,
    pub token: Option<Str>,
    pub token_file: Option<Str>,
    pub program: Option<Spanned<Vec<Str>>>,
    pub group_wait: Option<Str>,
    pub group_interval: Option<Str>,
    pub repeat_interval: Option<Str>,
    pub smtp_host: Option<Str>,
    pub smtp_port: Option<Spanned<i64>>,
    pub tls: Option<Str>,
    pub username: Option<Str>,
    pub password: Option<Str>,
    pub password_file: Option<Str>,
    pub from: Option<Str>,
    pub to: Option<Spanned<Vec<Str>>>,
    pub subject: Option<Str>,
    pub tls_ca_file: Option<Str>,
}

/// A file's text and where it is, so any byte span can become `file:line`.
#[derive(Debug)]
pub(crate) struct SourceFile {
    /// The path as given (main file) or as the include glob produced it (relative when the
    /// main path was relative); used in every error location.
    pub display: String,
    /// Absolute, lexically normalised folder of the file; relative paths resolve against it.
    pub dir: PathBuf,
    /// The file's text.
    pub text: String,
}

impl SourceFile {
    /// 1-based line of a byte offset (clamped to the text).
    pub fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// `file:line` of a span.
    pub fn at(&self, span: &Range<usize>) -> String {
        format!("{}:{}", self.display, self.line(span))
    }

    /// An error located at a span of this file.
    pub fn err(&self, span: &Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            location: self.at(span),
            message: message.into(),
        }
    }

    /// Parses the text, turning toml's syntax / type / unknown-key errors into located ones.
    pub fn parse(&self) -> Result<RawFile, ConfigError> {
        toml::from_str::<RawFile>(&self.text).map_err(|e| {
            let location = match e.span() {
                Some(span) => self.at(&span),
                None => self.display.clone(),
            };
            let message = e.message().trim().to_string();
            // Type errors point at the value; name the key too, so "expected i64" says which.
            let message = match e.span().and_then(|span| self.key_before(span.start)) {
                Some(key) if !message.contains(&key) => format!("{key}: {message}"),
                _ => message,
            };
            ConfigError { location, message }
        })
    }

    /// The dotted key whose value starts at `pos` (`daemon.concurrency`, `feed.url`, `title`
    /// inside an inline table), read from the text: the word before the last `=` on the line,
    /// prefixed by the nearest `[table]` header when the key is not inside an inline table.
    fn key_before(&self, pos: usize) -> Option<String> {
        let text = self.text.get(..pos.min(self.text.len()))?;
        let line_start = text.rfind('\n').map_or(0, |i| i + 1);
        let before = &text[..line_start];
        let line = &text[line_start..];
        let eq = line.rfind('=')?;
        let lhs = line[..eq].trim_end();
        let key: String = lhs
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"'))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let key = key.trim_matches('"').to_string();
        if key.is_empty() {
            return None;
        }
        if lhs.contains('{') {
            return Some(key);
        }
        let table = before.lines().rev().find_map(|l| {
            let l = l.trim();
            l.starts_with('[')
                .then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
        });
        Some(match table {
            Some(t) if !t.is_empty() => format!("{t}.{key}"),
            _ => key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> SourceFile {
        SourceFile {
            display: "t.toml".into(),
            dir: PathBuf::from("/"),
            text: text.into(),
        }
    }

    #[test]
    fn lines_are_one_based_and_clamped() {
        // Every error location depends on this arithmetic being right at the edges.
        let s = source("a\nb\n\nc");
        assert_eq!(s.line(&(0..1)), 1);
        assert_eq!(s.line(&(2..3)), 2);
        assert_eq!(s.line(&(5..6)), 4);
        assert_eq!(s.line(&(500..501)), 4);
    }

    #[test]
    fn unknown_key_points_at_the_key() {
        // Typos must be reported at their own line, not at the table header.
        let s = source("[daemon]\nconcurrency = 2\npoll_intervall = \"5m\"\n");
        let e = s.parse().unwrap_err();
        assert_eq!(e.location, "t.toml:3");
        assert!(e.message.contains("poll_intervall"), "{}", e.message);
    }

    #[test]
    fn syntax_error_is_located() {
        // A broken table header is a syntax error; it must still carry a line.
        let s = source("\n\n[[feed]\nurl = \"x\"\n");
        let e = s.parse().unwrap_err();
        assert_eq!(e.location, "t.toml:3");
    }
}
