//! The write routes: the operator verbs (ack, retry, silence add and expire), calling the
//! very functions the CLI calls and appending through the daemon's single appender.

use axum::extract::{Path as UrlPath, State};
use axum::response::Response;
use serde::Deserialize;

use super::{ApiState, blocking};
use crate::commands;
use crate::error::Error;

/// Runs an async store operation (an append through the appender) from the blocking pool,
/// with the same error mapping as queries.
pub(super) async fn writing<T, F>(f: F) -> Response
where
    T: serde::Serialize + Send + 'static,
    F: std::future::Future<Output = Result<T, Error>> + Send + 'static,
{
    let handle = tokio::runtime::Handle::current();
    blocking(move || handle.block_on(f)).await
}

/// `POST /api/v1/alerts/{id}/ack`: answers the full alert id.
pub(super) async fn alerts_ack(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let store = state.store.clone();
    writing(async move { commands::alerts_ack(&store, &id).await }).await
}

/// `POST /api/v1/alerts/{id}/retry`: answers how many deliveries were re-queued.
pub(super) async fn alerts_retry(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let store = state.store.clone();
    let wake = state.wake_relay.clone();
    writing(async move {
        let n = commands::alerts_retry(&store, &id).await?;
        wake.notify_one();
        Ok(n)
    })
    .await
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

/// `POST /api/v1/silences`: answers the new silence's id.
pub(super) async fn silence_add(
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

/// `POST /api/v1/silences/{id}/expire`.
pub(super) async fn silence_expire(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let store = state.store.clone();
    writing(async move { commands::silence_expire(&store, &id).await }).await
}
