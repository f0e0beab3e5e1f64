//! `GET /api/v1/alerts/stream`: the alerts ingest raises, as Server-Sent Events, until the
//! daemon stops.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast;
use tracing::{info, warn};

use super::ApiState;

/// Alerts kept for slow SSE subscribers before they start missing some (they are told).
pub const ALERT_STREAM_CAPACITY: usize = 256;

/// `GET /api/v1/alerts/stream`: one `alert` event per alert; a `lagged` event tells a slow
/// subscriber how many it missed.
pub(super) async fn alert_stream(
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
