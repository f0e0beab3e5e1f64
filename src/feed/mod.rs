//! Feeds: fetching bytes (HTTP or local files) and turning them into articles.
//!
//! INTERFACE (fixed; the rest of parley compiles against it). Internals are free.

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
        todo!("feed helper")
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
    },
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    /// Human-readable cause (status code, timeout, too large, ...).
    pub message: String,
    /// Server-requested delay (`Retry-After` on 429/503).
    pub retry_after: Option<Duration>,
}

/// A reusable fetcher (one HTTP client for all feeds).
#[derive(Debug, Clone)]
pub struct Fetcher {
    _private: (),
}

impl Fetcher {
    /// Builds the HTTP client.
    pub fn new(options: FetchOptions) -> Result<Fetcher, FetchError> {
        let _ = options;
        todo!("feed helper")
    }

    /// Fetches one feed, sending the validators as a conditional GET.
    pub async fn fetch(
        &self,
        location: &FeedLocation,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let _ = (location, validators);
        todo!("feed helper")
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
}

/// Why a body could not be parsed as a feed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Parses a feed body (RSS, Atom, JSON Feed) into articles.
pub fn parse(feed_key: &str, body: &[u8], content_type: Option<&str>) -> Result<Vec<Article>, ParseError> {
    let _ = (feed_key, body, content_type);
    todo!("feed helper")
}

/// Delay before the next poll of a feed that has failed `failures` times in a row:
/// exponential from `base`, capped at `cap`, never below a server's `retry_after`.
pub fn backoff(failures: u32, base: Duration, cap: Duration, retry_after: Option<Duration>) -> Duration {
    let _ = (failures, base, cap, retry_after);
    todo!("feed helper")
}
