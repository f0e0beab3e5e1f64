//! The daemon's HTTP API (axum): health for systemd and load balancers, Prometheus metrics,
//! the same queries as the CLI, and a live stream of alerts.
//!
//! | route                    | auth  | what                                             |
//! |--------------------------|-------|--------------------------------------------------|
//! | `GET /livez`             | no    | 200 while the process serves HTTP                |
//! | `GET /readyz`            | no    | 200 once caught up; 503 before and while stopping |
//! | `GET /metrics`           | token | Prometheus text format                           |
//! | `GET /api/v1/events`     | token | `?actor&type&kind&since&limit`, JSON array       |
//! | `GET /api/v1/alerts`     | token | `?rule&since&limit`, JSON array                  |
//! | `GET /api/v1/feeds`      | token | feed health, JSON array                          |
//! | `GET /api/v1/alerts/stream` | token | Server-Sent Events, one `alert` event per alert |
//! | `GET /api/v1/alerts/failed` | token | dead letters, like `parley alerts --failed --json` |
//! | `GET /api/v1/alerts/{id}/explain` | token | `parley alerts show ID`'s text, as a JSON string |
//! | `POST /api/v1/alerts/{id}/ack` | token | `parley alerts ack ID`; answers the full id |
//! | `POST /api/v1/alerts/{id}/retry` | token | `parley alerts retry ID`; answers the count |
//! | `GET /api/v1/silences`   | token | silences, like `parley silence list`            |
//! | `POST /api/v1/silences`  | token | `{"rule","actors","for","reason"}`; answers the id |
//! | `POST /api/v1/silences/{id}/expire` | token | `parley silence expire ID`         |
//! | `/`, `/alerts/..`, `/actors/..`, ... | token | the web UI (`crate::web`); a session cookie from `/login` |
//!
//! "token": when `[api] token` (or `token_file`) is set, `Authorization: Bearer <token>` is
//! required; it is compared in constant time. The write routes exist because sled admits
//! one process: while the daemon runs, the operator verbs (ack, retry, silences) reach the
//! log through it. They call the very functions the CLI calls on an open store and append
//! through the daemon's single appender, so it stays the only writer. Queries and writes run
//! on the blocking pool so a long scan never stalls the runtime.

pub mod client;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::commands::{self, AlertFilter};
use crate::config::Config;
use crate::error::Error;
use crate::events::Alert;
use crate::metrics::{Gauges, Metrics};
use crate::store::Store;

/// Alerts kept for slow SSE subscribers before they start missing some (they are told).
pub const ALERT_STREAM_CAPACITY: usize = 256;

/// What the handlers share. Cloned per request (all fields are handles).
#[derive(Clone)]
pub struct ApiState {
    /// The log (reads only).
    pub store: Store,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// `/readyz`: set after the first catch-up, cleared when stopping.
    pub ready: Arc<AtomicBool>,
    /// The running configuration; replaced on reload (feeds list, token rotation).
    pub config: Arc<RwLock<Arc<Config>>>,
    /// Alerts appended by ingest, after their append returned.
    pub alerts: broadcast::Sender<Alert>,
    /// Cancelled when the daemon stops; ends open streams so shutdown is not held up.
    pub shutdown: CancellationToken,
    /// Process start, for `parley_uptime_seconds`.
    pub started: Instant,
    /// Wakes the outbox relay after a write verb re-queued deliveries (`alerts retry`), so
    /// they go out now rather than at the relay's next scheduled look.
    pub wake_relay: Arc<tokio::sync::Notify>,
}

impl ApiState {
    pub(crate) fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Binds the listen address. Separate from [`serve`] so a bind error stops start-up before
/// systemd is told READY=1, and so the bound address (port 0) can be logged.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).await.map_err(|source| Error::Io {
        path: format!("api.listen {addr}").into(),
        source,
    })
}

/// The router with every route and the token check.
pub fn router(state: ApiState) -> Router {
    let protected = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/events", get(events))
        .route("/api/v1/events/clustered", get(clustered_events))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/stream", get(alert_stream))
        .route("/api/v1/feeds", get(feeds))
        .route("/api/v1/alerts/failed", get(alerts_failed))
        .route("/api/v1/alerts/{id}/explain", get(alerts_explain))
        .route("/api/v1/alerts/{id}/ack", post(alerts_ack))
        .route("/api/v1/alerts/{id}/retry", post(alerts_retry))
        .route("/api/v1/silences", get(silences).post(silence_add))
        .route("/api/v1/silences/{id}/expire", post(silence_expire))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .merge(protected)
        .merge(crate::web::router(state.clone()))
        .with_state(state)
}

/// Serves until `state.shutdown` is cancelled; returns when every connection has closed.
pub async fn serve(listener: TcpListener, state: ApiState) {
    let shutdown = state.shutdown.clone();
    let app = router(state);
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        warn!(%error, "HTTP API stopped with an error.");
    }
}

/// SHA-256 both sides, then compare the digests in constant time: neither the token's
/// content nor its length leaks through timing.
pub(crate) fn token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.ct_eq(&b).into()
}

async fn require_token(
    State(state): State<ApiState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let config = state.config();
    if let Some(expected) = &config.api.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        // The web UI's session cookie also reads (GET): its inbox subscribes to the alert
        // stream with EventSource, which cannot send a header. Writes keep the bearer token.
        let cookie = request.method() == axum::http::Method::GET
            && crate::web::cookie_authorizes(&headers, expected);
        if !given.is_some_and(|g| token_matches(g, expected)) && !cookie {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is required\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}

async fn readyz(State(state): State<ApiState>) -> Response {
    let cluster = &state.metrics.cluster;
    let nats_down =
        cluster.enabled.load(Ordering::Acquire) && !cluster.connected.load(Ordering::Acquire);
    if state.ready.load(Ordering::Acquire) && !nats_down {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

/// Runs a store query on the blocking pool and maps errors to HTTP: usage errors (a bad
/// `since`, an unknown `type`) are 400, the rest 500.
async fn blocking<T: serde::Serialize + Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(value)) => axum::Json(value).into_response(),
        Ok(Err(Error::Usage(message))) => {
            (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response()
        }
        Ok(Err(error)) => {
            warn!(%error, "API query failed.");
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response()
        }
        Err(join) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("query task failed: {join}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<ApiState>) -> Response {
    let config = state.config();
    let store = state.store.clone();
    let ready = state.ready.load(Ordering::Acquire);
    let uptime = state.started.elapsed().as_secs_f64();
    let gauges = tokio::task::spawn_blocking(move || {
        let mut g = Gauges {
            log_last_seq: store.last_seq().unwrap_or(0),
            outbox_pending: store.outbox_pending().map_or(0, |p| p.len() as u64),
            feeds_configured: config.feeds.len() as u64,
            ready,
            uptime_seconds: uptime,
            ..Gauges::default()
        };
        for feed in &config.feeds {
            if let Ok(Some(s)) = store.feed_state(&feed.location.key()) {
                if s.disabled.is_some() {
                    g.feeds_disabled += 1;
                } else if s.consecutive_failures > 0 {
                    g.feeds_failing += 1;
                }
            }
        }
        g
    })
    .await
    .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(gauges),
    )
        .into_response()
}

/// `GET /api/v1/events` parameters: the CLI's flags, as text.
#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    /// `--actor`.
    pub actor: Option<String>,
    /// `--type`.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// `--kind`.
    pub kind: Option<String>,
    /// `--since`.
    pub since: Option<String>,
    /// `--limit`.
    pub limit: Option<usize>,
}

async fn events(State(state): State<ApiState>, Query(q): Query<EventsQuery>) -> Response {
    let store = state.store.clone();
    blocking(move || {
        let filter = commands::event_filter(
            q.actor.as_deref(),
            q.event_type.as_deref(),
            q.kind.as_deref(),
            q.since.as_deref(),
            q.limit,
            chrono::Utc::now(),
        )?;
        commands::query_events(&store, &filter)
    })
    .await
}

/// `GET /api/v1/events/clustered`: one entry per real event (see `parley events
/// --clustered`); takes `actor`, `type`, `since` and `limit` like `/api/v1/events`.
async fn clustered_events(State(state): State<ApiState>, Query(q): Query<EventsQuery>) -> Response {
    let store = state.store.clone();
    blocking(move || {
        let filter = commands::event_filter(
            q.actor.as_deref(),
            q.event_type.as_deref(),
            None,
            q.since.as_deref(),
            q.limit,
            chrono::Utc::now(),
        )?;
        commands::query_clusters(&store, &filter)
    })
    .await
}

/// `GET /api/v1/alerts` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct AlertsQuery {
    /// `--rule`.
    pub rule: Option<String>,
    /// `--since`.
    pub since: Option<String>,
    /// `--limit`.
    pub limit: Option<usize>,
}

async fn alerts(State(state): State<ApiState>, Query(q): Query<AlertsQuery>) -> Response {
    let store = state.store.clone();
    blocking(move || {
        let filter = AlertFilter {
            rule: q.rule,
            since: q
                .since
                .as_deref()
                .map(|s| commands::parse_since(s, chrono::Utc::now()))
                .transpose()?,
            limit: q.limit,
        };
        commands::query_alerts(&store, &filter)
    })
    .await
}

async fn feeds(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    let config = state.config();
    blocking(move || commands::feed_reports(&config, &store)).await
}

/// Runs an async store operation (an append through the appender) from the blocking pool,
/// with the same error mapping as queries.
async fn writing<T, F>(f: F) -> Response
where
    T: serde::Serialize + Send + 'static,
    F: std::future::Future<Output = Result<T, Error>> + Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    blocking(move || handle.block_on(f)).await
}

async fn alerts_failed(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    blocking(move || store.dead_letters().map_err(Error::from)).await
}

async fn alerts_explain(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
    let store = state.store.clone();
    let config = state.config();
    blocking(move || {
        let mut text = Vec::new();
        commands::alerts_show(&store, &config, &id, &mut text)?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    })
    .await
}

async fn alerts_ack(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
    let store = state.store.clone();
    writing(async move { commands::alerts_ack(&store, &id).await }).await
}

async fn alerts_retry(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
    let store = state.store.clone();
    let wake = state.wake_relay.clone();
    writing(async move {
        let n = commands::alerts_retry(&store, &id).await?;
        wake.notify_one();
        Ok(n)
    })
    .await
}

async fn silences(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    blocking(move || store.silences().map_err(Error::from)).await
}

/// `POST /api/v1/silences` body: the flags of `parley silence add`.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct SilenceRequest {
    /// `--rule`.
    pub rule: String,
    /// `--actors`.
    #[serde(default)]
    pub actors: Vec<String>,
    /// `--for`, e.g. "12h".
    #[serde(rename = "for")]
    pub duration: String,
    /// `--reason`.
    pub reason: String,
}

async fn silence_add(
    State(state): State<ApiState>,
    axum::Json(request): axum::Json<SilenceRequest>,
) -> Response {
    let store = state.store.clone();
    let config = state.config();
    writing(async move {
        commands::silence_add(
            &store,
            &config,
            &request.rule,
            &request.actors,
            &request.duration,
            &request.reason,
        )
        .await
    })
    .await
}

async fn silence_expire(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
    let store = state.store.clone();
    writing(async move { commands::silence_expire(&store, &id).await }).await
}

async fn alert_stream(
    State(state): State<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.alerts.subscribe();
    info!("Alert stream subscriber connected.");
    let stream = futures_util::stream::unfold(
        (rx, state.shutdown.clone(), state.metrics.clone()),
        |(mut rx, shutdown, metrics)| async move {
            loop {
                let received = tokio::select! {
                    () = shutdown.cancelled() => return None,
                    r = rx.recv() => r,
                };
                let event = match received {
                    Ok(alert) => {
                        metrics
                            .service
                            .alerts_streamed
                            .fetch_add(1, Ordering::Relaxed);
                        match SseEvent::default()
                            .event("alert")
                            .id(alert.alert_id.clone())
                            .json_data(&alert)
                        {
                            Ok(e) => e,
                            Err(error) => {
                                warn!(%error, "Cannot encode an alert for the stream.");
                                continue;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => SseEvent::default()
                        .event("lagged")
                        .data(format!("{n} alerts were dropped; query /api/v1/alerts")),
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                return Some((Ok(event), (rx, shutdown, metrics)));
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison_is_exact() {
        // The bearer check must reject prefixes, extensions and empty tokens.
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3cre", "s3cret"));
        assert!(!token_matches("s3cret!", "s3cret"));
        assert!(!token_matches("", "s3cret"));
    }
}
