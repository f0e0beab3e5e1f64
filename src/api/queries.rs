//! The read routes: the CLI's queries (`events`, `alerts`, `feeds`, `alerts --failed`,
//! `alerts show`, `silence list`) as JSON, through the same query functions.

use axum::extract::{Path as UrlPath, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{ApiState, blocking};
use crate::cli::parse_since;
use crate::commands::{self, AlertFilter};
use crate::error::Error;

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

/// `GET /api/v1/events`: `parley events --json` as one array.
pub(super) async fn events(
    State(state): State<ApiState>,
    Query(q): Query<EventsQuery>,
) -> Response {
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
pub(super) async fn clustered_events(
    State(state): State<ApiState>,
    Query(q): Query<EventsQuery>,
) -> Response {
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

/// `GET /api/v1/alerts`: `parley alerts --json` as one array.
pub(super) async fn alerts(
    State(state): State<ApiState>,
    Query(q): Query<AlertsQuery>,
) -> Response {
    let store = state.store.clone();
    blocking(move || {
        let filter = AlertFilter {
            rule: q.rule,
            since: q
                .since
                .as_deref()
                .map(|s| parse_since(s, chrono::Utc::now()))
                .transpose()?,
            limit: q.limit,
        };
        commands::query_alerts(&store, &filter)
    })
    .await
}

/// `GET /api/v1/feeds`: `parley feeds --json` as one array.
pub(super) async fn feeds(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    let config = state.config();
    blocking(move || commands::feed_reports(&config, &store)).await
}

/// `GET /api/v1/alerts/failed`: the dead letters.
pub(super) async fn alerts_failed(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    blocking(move || store.dead_letters().map_err(Error::from)).await
}

/// `GET /api/v1/alerts/{id}/explain`: `parley alerts show ID`'s text.
pub(super) async fn alerts_explain(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let store = state.store.clone();
    let config = state.config();
    blocking(move || {
        let mut text = Vec::new();
        commands::alerts_show(&store, &config, &id, &mut text)?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    })
    .await
}

/// `GET /api/v1/silences`: every silence, active or ended.
pub(super) async fn silences(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    blocking(move || store.silences().map_err(Error::from)).await
}
