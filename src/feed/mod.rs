//! Feeds: fetching bytes (HTTP or local files) and turning them into articles.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.
//!
//! The work is split so each concern can be tested on its own:
//! - `location`: parsing feed locations from the config and their canonical keys;
//! - `fetch`: the HTTP client (conditional GET, streaming size limit, `Retry-After`) and
//!   local-file reads;
//! - `parse`: feed-rs with deterministic ids and a panic guard, and the choice of reader;
//! - `legacy`: Atom 0.3 and RSS 0.9x/1.0 (RDF), which feed-rs drops;
//! - `recover`: tolerant reading of malformed XML (bare `&`, HTML entities, stray end tags,
//!   truncation), so a broken feed still yields its complete items;
//! - `text`: HTML to plain text and link canonicalisation.

pub mod address;
pub mod article;
mod charset;
mod dates;
mod fetch;
pub(crate) mod hosts;
mod item;
mod legacy;
mod location;
pub(crate) mod page;
mod parse;
mod recover;
mod repair;
pub(crate) mod robots;
mod text;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// Where a feed lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FeedLocation {
    /// An http(s) URL.
    Http(Url),
    /// A local file (from `file://` or a plain path, already resolved against the config).
    File(PathBuf),
}

impl FeedLocation {
    /// The canonical string form, used as the feed's key in ids and the store:
    /// the URL as written for HTTP, `file://` + absolute path for files.
    pub fn key(&self) -> String {
        location::key(self)
    }
}

/// HTTP cache validators kept between polls so a restart does not fetch everything again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// `ETag` from the last 200.
    pub etag: Option<String>,
    /// `Last-Modified` from the last 200.
    pub last_modified: Option<String>,
}

/// Fetch limits, from `[daemon]`.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Largest body accepted, enforced while streaming (after decompression).
    pub max_body_bytes: u64,
    /// User-Agent header.
    pub user_agent: String,
    /// Where feed content may make parley connect (see [`address`]).
    pub policy: std::sync::Arc<address::AddressPolicy>,
}

/// What one fetch produced.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// 304: nothing new.
    NotModified,
    /// A body to parse, with the validators to store once it has been processed.
    Body {
        /// The raw (decompressed) bytes.
        bytes: Bytes,
        /// New validators.
        validators: Validators,
        /// `Content-Type`, if any (charset hints).
        content_type: Option<String>,
        /// Set when every redirect on the way was permanent (301/308): where the feed now
        /// lives. The daemon polls that URL from then on.
        moved_to: Option<Url>,
    },
    /// 410 Gone: the publisher removed the feed for good; the daemon stops polling it.
    Gone,
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    /// Human-readable cause (status code, timeout, too large, ...).
    pub message: String,
    /// Server-requested delay (`Retry-After` on 429/503).
    pub retry_after: Option<Duration>,
    /// The HTTP status, when the server answered with an error status (robots.txt: a 4xx
    /// means "no rules", anything else means "do not crawl now").
    pub status: Option<u16>,
    /// Set when the address policy refused the request (see [`address`]): nothing was sent.
    pub refused: Option<address::Refused>,
}

/// A reusable fetcher (one HTTP client for all feeds).
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// The shared client for configured feeds: connection pool, decompression, redirect
    /// policy, timeouts. Configured feed hosts resolve as written.
    client: reqwest::Client,
    /// The same for what feed content names (article pages, robots.txt): no name is
    /// trusted, every address is checked by the address policy.
    pages: reqwest::Client,
    /// The options it was built with (size limit and timeout are enforced per request).
    options: FetchOptions,
    /// Redirect chains seen by the redirect policy, by original URL: `Some(target)` while
    /// every hop so far was permanent, `None` once one was not.
    moves: fetch::Moves,
}

impl Fetcher {
    /// Builds the HTTP client.
    pub fn new(options: FetchOptions) -> Result<Fetcher, FetchError> {
        fetch::new(options)
    }

    /// Fetches one feed, sending the validators as a conditional GET.
    pub async fn fetch(
        &self,
        location: &FeedLocation,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        match location {
            FeedLocation::Http(url) => {
                // A feed polled where a redirect moved it is checked like the redirect was.
                if let Err(refused) = self.options.policy.check_url(url, true) {
                    return Err(FetchError::refused(refused));
                }
                self.fetch_http(&self.client, url, validators).await
            }
            FeedLocation::File(path) => fetch::read_file(path, self.options.max_body_bytes).await,
        }
    }
}

impl Fetcher {
    /// The address policy this fetcher enforces.
    pub fn policy(&self) -> &address::AddressPolicy {
        &self.options.policy
    }

    /// Fetches a URL that feed content named (an article page, a robots.txt): an IP literal
    /// the address policy refuses is never requested, and a name is checked on the address
    /// connected to. A refusal comes back as a [`FetchError`] with `refused` set.
    pub async fn fetch_page(&self, url: &url::Url) -> Result<FetchOutcome, FetchError> {
        if let Err(refused) = self.options.policy.check_url(url, false) {
            return Err(FetchError::refused(refused));
        }
        self.fetch_http(&self.pages, url, &Validators::default())
            .await
    }
}

/// A feed item, normalised to what parley needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Deterministic id: feed key + guid, else canonical link, else title + date.
    pub id: String,
    /// The guid as given by the feed, never a generated one.
    pub guid: Option<String>,
    /// Link.
    pub url: Option<String>,
    /// Plain-text title.
    pub title: String,
    /// Published, else updated.
    pub published: Option<DateTime<Utc>>,
    /// Plain text for extraction: title, summary and content, HTML removed, deduplicated.
    pub text: String,
    /// The main text of the article's page, fetched for feeds with `fetch_article = true`
    /// when the feed's own text is thin (see `feed::article`).
    pub full_text: Option<FullText>,
}

/// An article page's main text and its content address in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct FullText {
    /// Hex SHA-256 of `text`: its key in the store.
    pub sha256: String,
    /// The main text, plain.
    pub text: String,
}

impl Article {
    /// What extraction reads: the feed's text, then the page's main text when there is one.
    pub fn extraction_text(&self) -> std::borrow::Cow<'_, str> {
        match &self.full_text {
            Some(full) => format!("{}\n\n{}", self.text, full.text).into(),
            None => self.text.as_str().into(),
        }
    }
}

/// Why a body could not be parsed as a feed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Parses a feed body (RSS, Atom, JSON Feed) into articles.
///
/// Ids are deterministic (see [`Article::id`]); feed-rs's generated fallback ids are never
/// used. Entries repeating an id already seen in the same body are dropped (first wins). A
/// panic inside the parser fails only this body, as a [`ParseError`]. `content_type` only
/// sharpens error messages (an HTML page is reported as such); the format and the character
/// encoding are taken from the body itself (BOM / XML declaration), as feed-rs requires.
/// Malformed XML is repaired where it can be (see [`parse_feed`]): a truncated body keeps
/// every item that was complete before the cut.
///
/// If an entry has no guid, its id comes from its canonical link; without a link, from the
/// title and date; without a title either, from its text and date.
pub fn parse(
    feed_key: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Vec<Article>, ParseError> {
    parse::parse(feed_key, body, content_type).map(|parsed| parsed.articles)
}

pub use parse::{Parsed, Recovery};

/// [`parse`], also saying whether the body was malformed XML that had to be repaired to be
/// read (bare `&`, HTML entities, stray or missing end tags, truncation). Such a feed is
/// healthy but flagged: the daemon counts it (`parley_feed_recoveries_total`) and `parley
/// feeds` marks it "recovered", so its publisher can be told.
pub fn parse_feed(
    feed_key: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Parsed, ParseError> {
    parse::parse(feed_key, body, content_type)
}

/// Delay before the next poll of a feed that has failed `failures` times in a row:
/// exponential from `base`, capped at `cap`, never below a server's `retry_after`.
///
/// `failures == 0` gives `base`; `failures == n` gives `base * 2^(n-1)`. Everything is capped
/// at `cap`, including `retry_after`: a server asking for a week does not get to park a feed
/// longer than the operator's `max_backoff`. Arithmetic saturates, so huge failure counts are
/// safe.
pub fn backoff(
    failures: u32,
    base: Duration,
    cap: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    let factor = match failures {
        0 => 1,
        n => 1u32.checked_shl(n - 1).unwrap_or(u32::MAX),
    };
    let exponential = base.saturating_mul(factor).min(cap);
    match retry_after {
        Some(wait) => exponential.max(wait.min(cap)),
        None => exponential,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn backoff_doubles_from_base_and_caps() {
        // The scheduler relies on this curve: base, then doubling, never above the cap.
        assert_eq!(backoff(0, S(60), S(3600), None), S(60));
        assert_eq!(backoff(1, S(60), S(3600), None), S(60));
        assert_eq!(backoff(2, S(60), S(3600), None), S(120));
        assert_eq!(backoff(4, S(60), S(3600), None), S(480));
        assert_eq!(backoff(7, S(60), S(3600), None), S(3600));
        assert_eq!(backoff(u32::MAX, S(60), S(3600), None), S(3600));
        assert_eq!(
            backoff(40, Duration::MAX, Duration::MAX, None),
            Duration::MAX
        );
    }

    #[test]
    fn backoff_respects_retry_after_within_cap() {
        // A server's Retry-After must be honoured, but cannot exceed the operator's cap.
        assert_eq!(backoff(1, S(60), S(3600), Some(S(600))), S(600));
        assert_eq!(backoff(5, S(60), S(3600), Some(S(10))), S(960));
        assert_eq!(backoff(1, S(60), S(3600), Some(S(86_400))), S(3600));
        assert_eq!(backoff(0, S(60), S(3600), Some(S(90))), S(90));
    }
}
