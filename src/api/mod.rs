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
mod queries;
mod stream;
mod writes;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tracing::warn;

use crate::error::Error;
use crate::metrics::Gauges;
use crate::server::token_matches;

/// The state the handlers share, at its old path; it lives in `crate::server` because the
/// web UI shares it too.
pub use crate::server::ApiState;
pub use queries::{AlertsQuery, EventsQuery};
pub use stream::ALERT_STREAM_CAPACITY;
pub use writes::SilenceRequest;

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
        .route("/api/v1/events", get(queries::events))
        .route("/api/v1/events/clustered", get(queries::clustered_events))
        .route("/api/v1/alerts", get(queries::alerts))
        .route("/api/v1/alerts/stream", get(stream::alert_stream))
        .route("/api/v1/feeds", get(queries::feeds))
        .route("/api/v1/alerts/failed", get(queries::alerts_failed))
        .route("/api/v1/alerts/{id}/explain", get(queries::alerts_explain))
        .route("/api/v1/alerts/{id}/ack", post(writes::alerts_ack))
        .route("/api/v1/alerts/{id}/retry", post(writes::alerts_retry))
        .route(
            "/api/v1/silences",
            get(queries::silences).post(writes::silence_add),
        )
        .route("/api/v1/silences/{id}/expire", post(writes::silence_expire))
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
