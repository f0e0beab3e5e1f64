//! Getting feed bytes: one shared HTTP client, conditional GETs, a size limit enforced while
//! streaming, `Retry-After`, and local files under the same limit.

use std::error::Error as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, RETRY_AFTER,
};
use reqwest::redirect;
use tokio::io::AsyncReadExt;
use tracing::debug;
use url::Url;

use super::address::{PolicyResolver, Refused, refused_in};
use super::location::scrub;
use super::{FetchError, FetchOptions, FetchOutcome, Fetcher, Validators};

/// Redirect chains in progress, keyed by the URL first requested (see [`Fetcher`]).
pub(super) type Moves =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Url, Option<Url>>>>;

/// Most redirects followed in one fetch.
const MAX_REDIRECTS: usize = 10;

/// Longest `Retry-After` we believe; larger values are treated as this (the scheduler caps it
/// further at `max_backoff`).
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// What we ask servers for: feeds first, generic XML/JSON next, anything last (some servers
/// answer 406 without a catch-all).
const ACCEPT_FEEDS: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5";

impl FetchError {
    /// An error without a server-requested delay.
    fn plain(message: impl Into<String>) -> FetchError {
        FetchError {
            message: message.into(),
            retry_after: None,
            status: None,
            refused: None,
        }
    }

    /// A request the address policy refused before anything was sent.
    pub(super) fn refused(refused: Refused) -> FetchError {
        FetchError {
            refused: Some(refused),
            ..FetchError::plain(refused.to_string())
        }
    }
}

/// Builds the shared client (see [`Fetcher::new`]).
pub(super) fn new(options: FetchOptions) -> Result<Fetcher, FetchError> {
    let user_agent = HeaderValue::from_str(&options.user_agent)
        .map_err(|_| FetchError::plain(format!("invalid user agent {:?}", options.user_agent)))?;
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_FEEDS));
    let moves: Moves = Moves::default();
    let build = |for_feeds: bool| {
        let policy = options.policy.clone();
        let seen = moves.clone();
        let redirects = redirect::Policy::custom(move |attempt| {
            // Remember whether the whole chain is permanent so the fetch can report a move.
            if for_feeds && let Some(first) = attempt.previous().first() {
                let permanent = matches!(
                    attempt.status(),
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                );
                let mut map = seen.lock().unwrap_or_else(|p| p.into_inner());
                let still =
                    attempt.previous().len() == 1 || matches!(map.get(first), Some(Some(_)));
                map.insert(
                    first.clone(),
                    (permanent && still).then(|| attempt.url().clone()),
                );
            }
            // `previous` includes the original URL, so it holds one more entry than hops taken.
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if !matches!(attempt.url().scheme(), "http" | "https") {
                let scheme = attempt.url().scheme().to_string();
                attempt.error(format!("redirect to unsupported scheme `{scheme}:`"))
            } else if let Err(refused) = policy.check_url(attempt.url(), for_feeds) {
                // A redirect is feed content: only a feed's own origin is trusted.
                attempt.error(refused)
            } else {
                attempt.follow()
            }
        });
        reqwest::Client::builder()
            .user_agent(user_agent.clone())
            .default_headers(headers.clone())
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .gzip(true)
            .brotli(true)
            .redirect(redirects)
            .dns_resolver(std::sync::Arc::new(PolicyResolver::new(
                options.policy.clone(),
                for_feeds,
            )))
            .build()
            .map_err(|error| {
                FetchError::plain(format!(
                    "cannot build the HTTP client: {}",
                    chain(&error.without_url())
                ))
            })
    };
    let client = build(true)?;
    let pages = build(false)?;
    Ok(Fetcher {
        client,
        pages,
        options,
        moves,
    })
}

impl Fetcher {
    /// One conditional GET; the body is streamed and cut off at the size limit.
    pub(super) async fn fetch_http(
        &self,
        client: &reqwest::Client,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let mut request = client.get(url.clone());
        // A stored validator that is not a valid header value is simply not sent (full fetch).
        if let Some(etag) = validators
            .etag
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(date) = validators
            .last_modified
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            request = request.header(IF_MODIFIED_SINCE, date);
        }
        let sent = request.send().await;
        let moved = self
            .moves
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(url)
            .flatten();
        let mut response = sent.map_err(|error| self.request_error(error, url))?;
        let status = response.status();
        if status == StatusCode::GONE {
            return Ok(FetchOutcome::Gone);
        }
        debug!(feed = %super::location::redact_url(url), %status, "Feed answered.");

        if status == StatusCode::NOT_MODIFIED {
            return Ok(FetchOutcome::NotModified);
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let message = match retry_after {
                Some(wait) => format!(
                    "server answered {status}; retry after {}",
                    humantime::format_duration(wait)
                ),
                None => format!("server answered {status}"),
            };
            return Err(FetchError {
                message,
                retry_after,
                status: Some(status.as_u16()),
                refused: None,
            });
        }
        if status.is_redirection() {
            // reqwest hands back redirects it could not even turn into a request (for
            // example `file:///...`, which has no authority); the policy never saw them.
            let target = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| url.join(v).ok())
                .map(|next| format!(" to unsupported scheme `{}:`", next.scheme()))
                .unwrap_or_default();
            return Err(FetchError::plain(format!(
                "redirect refused: server answered {status}{target}"
            )));
        }
        if !status.is_success() {
            return Err(FetchError {
                status: Some(status.as_u16()),
                ..FetchError::plain(format!("server answered {status}"))
            });
        }

        let limit = self.options.max_body_bytes;
        // `content_length` is only known when reqwest is not decompressing; the decompressed
        // size is checked while streaming below.
        if let Some(length) = response.content_length().filter(|&n| n > limit) {
            return Err(too_large(format!("Content-Length {length}"), limit));
        }
        let new_validators = Validators {
            etag: header_string(response.headers(), &ETAG).or_else(|| validators.etag.clone()),
            last_modified: header_string(response.headers(), &LAST_MODIFIED)
                .or_else(|| validators.last_modified.clone()),
        };
        let content_type = header_string(response.headers(), &CONTENT_TYPE);

        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.request_error(error, url))?
        {
            if (body.len() as u64).saturating_add(chunk.len() as u64) > limit {
                // Dropping `response` here closes the connection: the rest is never read.
                return Err(too_large(
                    format!("more than {limit} bytes received"),
                    limit,
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchOutcome::Body {
            bytes: body.freeze(),
            validators: new_validators,
            content_type,
            moved_to: moved.filter(|to| to == response.url()),
        })
    }

    /// Turns a reqwest error into a message that says what kind of failure it was, without the
    /// URL's credentials or query.
    fn request_error(&self, error: reqwest::Error, url: &Url) -> FetchError {
        let error = error.without_url();
        if let Some(refused) = refused_in(&error) {
            return FetchError::refused(refused);
        }
        let kind = if error.is_timeout() {
            format!(
                "timed out after {}",
                humantime::format_duration(self.options.timeout)
            )
        } else if error.is_connect() {
            "could not connect".to_string()
        } else if error.is_redirect() {
            "redirect refused".to_string()
        } else if error.is_decode() {
            "could not decode the response body".to_string()
        } else if error.is_body() {
            "reading the response body failed".to_string()
        } else {
            "request failed".to_string()
        };
        FetchError::plain(scrub(format!("{kind}: {}", chain(&error)), url))
    }
}

/// Reads a local feed file under the same size limit as HTTP bodies.
///
/// Files carry no validators: every poll returns the whole body, and the store's id
/// deduplication makes re-reading harmless. (Using mtime as `Last-Modified` would save a parse
/// but would also hide edits made within the same second.)
pub(super) async fn read_file(path: &Path, limit: u64) -> Result<FetchOutcome, FetchError> {
    let shown = path.display();
    let metadata = tokio::fs::metadata(path)
        .await
        .map_err(|error| FetchError::plain(format!("cannot read {shown}: {error}")))?;
    if !metadata.is_file() {
        return Err(FetchError::plain(format!("{shown} is not a regular file")));
    }
    if metadata.len() > limit {
        return Err(too_large(
            format!("file {shown} is {} bytes", metadata.len()),
            limit,
        ));
    }
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|error| FetchError::plain(format!("cannot open {shown}: {error}")))?;
    // The file may grow between stat and read: read at most one byte past the limit.
    let capacity = usize::try_from(metadata.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|error| FetchError::plain(format!("cannot read {shown}: {error}")))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(
            format!("file {shown} grew past the limit"),
            limit,
        ));
    }
    Ok(FetchOutcome::Body {
        bytes: Bytes::from(bytes),
        validators: Validators::default(),
        content_type: None,
        moved_to: None,
    })
}

/// Parses `Retry-After`: delta-seconds or an HTTP-date, capped at [`MAX_RETRY_AFTER`].
/// Dates in the past mean "now" (zero); unparseable values are ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too big for u64 is still "a very long time".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

fn too_large(what: String, limit: u64) -> FetchError {
    FetchError::plain(format!("body too large: {what}, limit is {limit} bytes"))
}

fn header_string(headers: &HeaderMap, name: &reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

/// An error and its causes, `: `-separated (reqwest's own message is often just "error sending
/// request"; the useful part is in the sources).
fn chain(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        // Servers send both forms; absurd or malformed values must not park a feed forever.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Oct 2017 07:00:00 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }
}
