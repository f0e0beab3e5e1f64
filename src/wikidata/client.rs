//! HTTP to Wikidata, as its etiquette asks (<https://www.mediawiki.org/wiki/API:Etiquette>):
//! a descriptive User-Agent, at most [`MAX_CONCURRENT`] requests at once, `Retry-After`
//! honoured on 429/503, and no repeated downloads of an unchanged entity.
//!
//! Cache: each entity is kept under `<state_dir>/wikidata-cache/<id>.json` with its revision
//! (`lastrevid`) and the response's `ETag`/`Last-Modified`. The next request for it is
//! conditional, so an unchanged entity costs a 304 and no body; the cached body is then
//! used. A cache file that cannot be read is ignored (the entity is fetched again).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::WikidataError;
use super::entity::{self, Entity};

/// Requests in flight at once: Wikimedia asks API clients not to hammer its servers; five
/// keeps a sync of a few hundred actors to about a minute.
pub const MAX_CONCURRENT: usize = 5;
/// Attempts per entity when the server says "later" (429, 503).
pub const MAX_ATTEMPTS: u32 = 4;
/// Longest `Retry-After` the sync waits out; a longer one fails the sync (run it later).
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(120);
/// Folder under the state dir that holds the entity cache.
pub const CACHE_DIR: &str = "wikidata-cache";

/// One cached entity: its revision, validators and body.
#[derive(Debug, Serialize, Deserialize)]
struct CacheRecord {
    revision: u64,
    etag: Option<String>,
    last_modified: Option<String>,
    body: String,
}

/// An entity and whether the server confirmed the cached copy (304).
#[derive(Debug)]
pub struct Fetched {
    /// The entity.
    pub entity: Entity,
    /// True when the cached revision was still current.
    pub from_cache: bool,
}

/// A polite Wikidata client; cheap to share by reference across concurrent fetches.
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    limit: Arc<Semaphore>,
    cache_dir: PathBuf,
    write_cache: bool,
    max_body: u64,
}

/// The HTTP client both Wikidata clients (entities, SPARQL) send with: their User-Agent and
/// timeout, one place.
pub(crate) fn http_client(
    endpoint: &url::Url,
    user_agent: &str,
    timeout: Duration,
) -> Result<reqwest::Client, WikidataError> {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        .build()
        .map_err(|e| WikidataError::Request {
            url: endpoint.to_string(),
            message: format!("cannot build the HTTP client: {e}"),
        })
}

impl Client {
    /// A client for `endpoint` (e.g. `https://www.wikidata.org`). `write_cache = false`
    /// (dry runs) reads the cache but never writes it.
    pub fn new(
        endpoint: &url::Url,
        user_agent: &str,
        timeout: Duration,
        max_body: u64,
        state_dir: &Path,
        write_cache: bool,
    ) -> Result<Client, WikidataError> {
        let http = http_client(endpoint, user_agent, timeout)?;
        Ok(Client {
            http,
            endpoint: endpoint.as_str().trim_end_matches('/').to_string(),
            limit: Arc::new(Semaphore::new(MAX_CONCURRENT)),
            cache_dir: state_dir.join(CACHE_DIR),
            write_cache,
            max_body,
        })
    }

    /// The documented entity URL: `{endpoint}/wiki/Special:EntityData/{id}.json`.
    pub fn entity_url(&self, id: &str) -> String {
        format!("{}/wiki/Special:EntityData/{id}.json", self.endpoint)
    }

    /// Reads one entity, from the cache when the server says it has not changed.
    pub async fn entity(&self, id: &str) -> Result<Fetched, WikidataError> {
        let url = self.entity_url(id);
        let cached = self.read_cache(id);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let permit = self
                .limit
                .acquire()
                .await
                .map_err(|e| WikidataError::Request {
                    url: url.clone(),
                    message: e.to_string(),
                })?;
            let mut request = self.http.get(&url);
            if let Some(c) = &cached {
                if let Some(etag) = &c.etag {
                    request = request.header(IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &c.last_modified {
                    request = request.header(IF_MODIFIED_SINCE, lm);
                }
            }
            let response = request.send().await.map_err(|e| WikidataError::Request {
                url: url.clone(),
                message: e.to_string(),
            })?;
            let status = response.status();
            if status == StatusCode::NOT_MODIFIED
                && let Some(c) = &cached
            {
                let entity = entity::parse(id, c.body.as_bytes())?;
                return Ok(Fetched {
                    entity,
                    from_cache: true,
                });
            }
            if status.is_success() {
                let etag = header(&response, &ETAG);
                let last_modified = header(&response, &LAST_MODIFIED);
                let body = self.body(&url, response).await?;
                drop(permit);
                let entity = entity::parse(id, &body)?;
                self.write_cache_record(
                    id,
                    &CacheRecord {
                        revision: entity.lastrevid,
                        etag,
                        last_modified,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    },
                );
                return Ok(Fetched {
                    entity,
                    from_cache: false,
                });
            }
            if status == StatusCode::NOT_FOUND {
                return Err(WikidataError::NotFound {
                    id: id.to_string(),
                    url,
                });
            }
            let wait = wait_before_retry(&url, status, &response, attempt)?;
            drop(permit);
            tracing::info!(url = %url, status = status.as_u16(), wait_secs = wait.as_secs(), "Wikidata asked to wait; retrying.");
            tokio::time::sleep(wait).await;
        }
    }

    /// The body, refused past `max_body` bytes.
    async fn body(&self, url: &str, response: reqwest::Response) -> Result<Vec<u8>, WikidataError> {
        read_body(url, response, self.max_body).await
    }

    fn cache_path(&self, id: &str) -> PathBuf {
        self.cache_dir.join(format!("{id}.json"))
    }

    fn read_cache(&self, id: &str) -> Option<CacheRecord> {
        let text = std::fs::read(self.cache_path(id)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Writes a cache record atomically; a failure only costs a download next time, so it
    /// is logged, not returned.
    fn write_cache_record(&self, id: &str, record: &CacheRecord) {
        if !self.write_cache {
            return;
        }
        let path = self.cache_path(id);
        let result = serde_json::to_vec(record)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                std::fs::create_dir_all(&self.cache_dir)?;
                super::atomic::write_atomically(&path, &bytes)
            });
        if let Err(error) = result {
            tracing::warn!(path = %path.display(), %error, "Cannot write the Wikidata cache.");
        }
    }
}

/// How long to wait before asking `url` again after `status` on attempt `attempt`: only
/// 429 and 503 mean "later"; `Retry-After` is obeyed (else 2, 4, 8 s). An error when the
/// status means "no", the attempts are used up, or the wait is longer than
/// [`MAX_RETRY_WAIT`]. Shared with the SPARQL reader (`sparql`).
pub(crate) fn wait_before_retry(
    url: &str,
    status: StatusCode,
    response: &reqwest::Response,
    attempt: u32,
) -> Result<Duration, WikidataError> {
    let later =
        status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE;
    if !later {
        return Err(WikidataError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            detail: String::new(),
        });
    }
    let wait = header(response, &RETRY_AFTER)
        .and_then(|v| retry_after(&v, SystemTime::now()))
        .unwrap_or(Duration::from_secs(1 << attempt));
    if attempt >= MAX_ATTEMPTS {
        return Err(WikidataError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            detail: format!(" {attempt} times; try again later"),
        });
    }
    if wait > MAX_RETRY_WAIT {
        return Err(WikidataError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            detail: format!(
                " and asked to wait {}s (more than {}s); try again later",
                wait.as_secs(),
                MAX_RETRY_WAIT.as_secs()
            ),
        });
    }
    Ok(wait)
}

/// A response body, refused past `max_body` bytes (a hostile or broken endpoint must not
/// exhaust memory). Shared with the SPARQL reader (`sparql`).
pub(crate) async fn read_body(
    url: &str,
    mut response: reqwest::Response,
    max_body: u64,
) -> Result<Vec<u8>, WikidataError> {
    let too_large = || WikidataError::TooLarge {
        url: url.to_string(),
        limit: max_body,
    };
    if response.content_length().is_some_and(|n| n > max_body) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| WikidataError::Request {
        url: url.to_string(),
        message: e.to_string(),
    })? {
        if (body.len() + chunk.len()) as u64 > max_body {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn header(
    response: &reqwest::Response,
    name: &reqwest::header::HeaderName,
) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` as delta-seconds or an HTTP date (past dates mean now); `None` when
/// unparseable. Not capped here: the caller refuses waits past [`MAX_RETRY_WAIT`].
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;
    use axum::routing::get;

    /// Serves `app` on 127.0.0.1; returns its base URL.
    async fn spawn(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    fn test_client(endpoint: &url::Url, state: &Path, write_cache: bool) -> Client {
        Client::new(
            endpoint,
            "parley-test",
            Duration::from_secs(10),
            1 << 20,
            state,
            write_cache,
        )
        .unwrap()
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        // Both forms are in RFC 9110; Wikimedia sends seconds, proxies may send dates.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    /// Serves one entity: 429 with `Retry-After: 0` on the first request, then the body
    /// with an ETag, then 304 to a matching If-None-Match. Counts concurrent requests.
    async fn server(
        hits: Arc<AtomicUsize>,
        etags: Arc<std::sync::Mutex<Vec<Option<String>>>>,
    ) -> String {
        let app = Router::new().route(
            "/wiki/Special:EntityData/{file}",
            get(move |headers: HeaderMap| {
                let hits = hits.clone();
                let etags = etags.clone();
                async move {
                    let n = hits.fetch_add(1, Ordering::SeqCst);
                    let inm = headers
                        .get("if-none-match")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    etags.lock().unwrap().push(inm.clone());
                    if n == 0 {
                        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], "").into_response();
                    }
                    if inm.as_deref() == Some("\"r5\"") {
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    (
                        [("etag", "\"r5\"")],
                        r#"{"entities":{"Q7":{"id":"Q7","lastrevid":5,"labels":{"en":{"language":"en","value":"Seven"}}}}}"#,
                    )
                        .into_response()
                }
            }),
        );
        spawn(app).await
    }

    #[tokio::test]
    async fn waits_out_429_then_revalidates_from_the_cache() {
        // Retry-After must be obeyed, and an unchanged entity must not be downloaded again.
        let hits = Arc::new(AtomicUsize::new(0));
        let etags = Arc::new(std::sync::Mutex::new(Vec::new()));
        let base = server(hits.clone(), etags.clone()).await;
        let state = tempfile::tempdir().unwrap();
        let endpoint = url::Url::parse(&base).unwrap();
        let client = test_client(&endpoint, state.path(), true);
        let first = client.entity("Q7").await.unwrap();
        assert!(!first.from_cache);
        assert_eq!(first.entity.lastrevid, 5);
        let second = client.entity("Q7").await.unwrap();
        assert!(second.from_cache, "a 304 must be answered from the cache");
        assert_eq!(second.entity.lastrevid, 5);
        assert_eq!(
            *etags.lock().unwrap(),
            vec![None, None, Some("\"r5\"".to_string())]
        );
        assert!(state.path().join(CACHE_DIR).join("Q7.json").is_file());
    }

    #[tokio::test]
    async fn a_dry_run_client_writes_no_cache() {
        // `--dry-run` writes nothing, the cache included.
        let hits = Arc::new(AtomicUsize::new(1));
        let etags = Arc::new(std::sync::Mutex::new(Vec::new()));
        let base = server(hits, etags).await;
        let state = tempfile::tempdir().unwrap();
        let endpoint = url::Url::parse(&base).unwrap();
        let client = test_client(&endpoint, state.path(), false);
        client.entity("Q7").await.unwrap();
        assert!(!state.path().join(CACHE_DIR).exists());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_than_five_requests_at_once() {
        // Wikimedia's etiquette: a sync of hundreds of actors must not open hundreds of
        // requests. The server holds each request a while and records the most in flight.
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (f, m) = (in_flight.clone(), most.clone());
        let app = Router::new().route(
            "/wiki/Special:EntityData/{file}",
            get(
                move |axum::extract::Path(file): axum::extract::Path<String>| {
                    let (f, m) = (f.clone(), m.clone());
                    async move {
                        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                        m.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        f.fetch_sub(1, Ordering::SeqCst);
                        let id = file.trim_end_matches(".json").to_string();
                        format!(r#"{{"entities":{{"{id}":{{"id":"{id}","lastrevid":1}}}}}}"#)
                    }
                },
            ),
        );
        let base = spawn(app).await;
        let state = tempfile::tempdir().unwrap();
        let endpoint = url::Url::parse(&base).unwrap();
        let client = test_client(&endpoint, state.path(), true);
        let ids: Vec<String> = (1..=15).map(|n| format!("Q{n}")).collect();
        let fetched = futures_util::future::try_join_all(ids.iter().map(|q| client.entity(q)))
            .await
            .unwrap();
        assert_eq!(fetched.len(), 15);
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=MAX_CONCURRENT).contains(&most),
            "{most} requests were in flight at once"
        );
    }
}
