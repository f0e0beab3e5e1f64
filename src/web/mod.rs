//! The analyst's desk: server-rendered HTML pages on the API listener.
//!
//! Why it exists: an alert is only the start of an analyst's question (why did it fire, what
//! do the sources say, what have these two done before); the CLI and the JSON API answer it
//! in pieces. These pages put the evidence first and link everything to everything.
//!
//! How it is built, and why:
//! - Templates are askama (`templates/web/`), compiled and type-checked with the crate, and
//!   they HTML-escape every value: nothing from a feed is ever written out as markup. No
//!   template uses `|safe`; the SVG charts are templates too, so their labels are escaped
//!   the same way.
//! - Pages work without script. `static/app.js` (hand-written, no dependencies) only adds
//!   local times and the inbox's live refresh from `/api/v1/alerts/stream`.
//! - Reads go through the same query functions as the CLI and the JSON API
//!   (`commands::query_alerts`, `query_events`, `feed_reports`, `alerts_show`, ...); writes
//!   (ack, silence) call `commands::alerts_ack` / `silence_add`, so they are events in the
//!   log like the CLI's.
//! - Speed is the queries'. Since the kind and actor postings (`store/index.rs`), the inbox
//!   and `/graph?since=30d` answer in under 1 ms p99 over 10,000 synthetic articles (90,227
//!   events; they took 0.45-0.58 s when the queries scanned the log); the actor, pair, alert,
//!   `/events` and `/graph?since=all` pages still take 0.15-0.9 s because they load every
//!   matching event (`benches/web_latency.sh 20 500 30`; benches/README.md). The rendering
//!   is not where the time goes.
//! - Auth: with `[api] token` set, `/login` asks for the token once and sets an `HttpOnly`,
//!   `SameSite=Strict` cookie holding a digest of it (never the token itself); a token
//!   rotated by reload invalidates every cookie. Every POST must carry an `Origin` equal to
//!   the page's own, so another site cannot make a browser write here.

mod pages;
pub mod view;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::server::ApiState;

/// The session cookie's name.
pub const COOKIE: &str = "parley_session";

/// The cookie value a token grants: a domain-separated SHA-256 of the token, so a cookie
/// that leaks (a browser profile, a proxy log) is not the bearer token of the JSON API.
pub fn session_value(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"parley-web-session\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// True when the request carries the session cookie for `token`. The API's token check
/// also accepts it on GET, so the inbox's `EventSource` (which cannot send headers) can
/// subscribe to `/api/v1/alerts/stream`; API writes still need the bearer token.
pub fn cookie_authorizes(headers: &HeaderMap, token: &str) -> bool {
    let expected = session_value(token);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == COOKIE && crate::server::token_matches(value, &expected))
}

/// True when `Origin` names this very host: the check every UI write makes. A missing
/// Origin is refused too (browsers send it on every POST).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// The UI's routes, to be merged into the API router (same listener, same state).
pub fn router(state: ApiState) -> Router<ApiState> {
    let pages = Router::new()
        .route("/", get(pages::inbox))
        .route("/alerts/{id}", get(pages::alert))
        .route("/alerts/{id}/ack", axum::routing::post(pages::ack))
        .route("/alerts/{id}/silence", axum::routing::post(pages::silence))
        .route("/feeds", get(pages::feeds))
        .route("/actors/{id}", get(pages::actor))
        .route("/pair/{a}/{b}", get(pages::pair))
        .route("/events", get(pages::events))
        .route("/graph", get(pages::graph))
        .route(
            "/watchlist",
            get(pages::watchlist).post(pages::watchlist_edit),
        )
        .route_layer(middleware::from_fn_with_state(state, require_session));
    Router::new()
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/ui/style.css", get(style))
        .route("/ui/app.js", get(script))
        .merge(pages)
        .layer(middleware::map_response(security_headers))
}

/// Pages need the session cookie (or the bearer token, for scripts) when a token is set;
/// a browser without it is sent to `/login` and back.
async fn require_session(
    State(state): State<ApiState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let config = state.config();
    if let Some(token) = &config.api.token {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|g| crate::server::token_matches(g.trim(), token));
        if !bearer && !cookie_authorizes(&headers, token) {
            if request.method() == Method::GET {
                let next = request
                    .uri()
                    .path_and_query()
                    .map_or("/".to_string(), |p| p.as_str().to_string());
                return Redirect::to(&format!("/login?next={}", view::url_encode(&next)))
                    .into_response();
            }
            return (StatusCode::UNAUTHORIZED, Html("sign in first\n")).into_response();
        }
    }
    if request.method() == Method::POST && !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            Html("this form must be sent from parley's own pages\n"),
        )
            .into_response();
    }
    next.run(request).await
}

/// Defence in depth behind the escaping: scripts, styles and frames only from here, no
/// inline script at all, and no Referer sent to outlets when a source link is followed.
/// `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` on a
/// form POST, and the Origin check would refuse the UI's own forms (the browser test saw it).
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("static/style.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("static/app.js"),
    )
        .into_response()
}
