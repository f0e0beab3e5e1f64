//! What pollers keep in the store besides the log: each feed's polling state, and fetched
//! article texts (content-addressed, with the URL cache). Written through the appender like
//! everything else, but not events: they are not replayed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::appender::Request;
use super::{Store, StoreError, codec, keys};
use crate::feed::Validators;

/// Per-feed polling state kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// Conditional-GET validators.
    pub validators: Validators,
    /// Last successful poll.
    pub last_success: Option<DateTime<Utc>>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Items seen over the feed's life.
    pub items_seen: u64,
    /// When the daemon plans to poll it next (shown by `parley feeds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_poll: Option<DateTime<Utc>>,
    /// Where the feed now lives after a 301/308 permanent redirect; polled instead of the
    /// configured URL until the config changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_url: Option<String>,
    /// Set when the server answered 410 Gone: the feed is no longer polled. The message says
    /// when and why; removing the feed from the config (or a restart after fixing the URL)
    /// is the way back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    /// Set when the last successful poll only parsed after repairing malformed XML: what was
    /// repaired. The feed is healthy but its publisher should hear about it (issue 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
}

impl Store {
    /// Stored polling state of a feed.
    pub fn feed_state(&self, feed_key: &str) -> Result<Option<FeedState>, StoreError> {
        let key = keys::feed(feed_key);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Saves a feed's polling state (durable once the next append or shutdown has flushed).
    ///
    /// The write goes through the appender (the only writer); this returns once it is applied,
    /// so a following `feed_state` sees it. That wait is at most one in-progress group flush.
    /// It is async so that a slow or stuck appender parks the poller, never a runtime thread
    /// (a blocked worker would stall the API, signal handling and the watchdog with it).
    pub async fn put_feed_state(
        &self,
        feed_key: &str,
        state: &FeedState,
    ) -> Result<(), StoreError> {
        let key = keys::feed(feed_key);
        let value = codec::encode(&key, state)?;
        let (reply, answer) = oneshot::channel();
        self.send(Request::PutFeedOrText { key, value, reply })?;
        answer.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Keeps a fetched article's main text, content-addressed (key: its SHA-256), and records
    /// it as `url`'s text (the fetch cache). Returns the hex SHA-256 that `article.ingested`
    /// refers to. Written through the appender like feed state, so it is durable with the
    /// next append: the article's own, which comes after. Async for the same reason as
    /// [`Store::put_feed_state`].
    pub async fn put_article_text(&self, url: &str, text: &str) -> Result<String, StoreError> {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        for (key, value) in [
            (keys::text(&sha), codec::pack(text.as_bytes())),
            (keys::url_text(url), sha.as_bytes().to_vec()),
        ] {
            let (reply, answer) = oneshot::channel();
            self.send(Request::PutFeedOrText { key, value, reply })?;
            answer.await.unwrap_or(Err(StoreError::Closed))?;
        }
        Ok(sha)
    }

    /// The article text stored under this hex SHA-256, if any.
    pub fn article_text(&self, sha256_hex: &str) -> Result<Option<String>, StoreError> {
        let key = keys::text(sha256_hex);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => {
                let corrupt = |message: String| StoreError::Corrupt {
                    key: keys::printable(&key),
                    message,
                };
                // Text is always packed: `migrate` packs format-1 text at open.
                let bytes = codec::unpack(&v).map_err(corrupt)?;
                String::from_utf8(bytes.into_owned())
                    .map(Some)
                    .map_err(|e| corrupt(e.to_string()))
            }
            None => Ok(None),
        }
    }

    /// The cached text of an article URL: its hex SHA-256 and the text.
    pub fn article_text_for_url(&self, url: &str) -> Result<Option<(String, String)>, StoreError> {
        let key = keys::url_text(url);
        let Some(sha) = self.inner.db.get(&key).map_err(|e| self.db_err(e))? else {
            return Ok(None);
        };
        let sha = String::from_utf8_lossy(&sha).into_owned();
        Ok(self.article_text(&sha)?.map(|text| (sha, text)))
    }
}
