//! What the streams carry (an event in the log stream, a work item on the outbox work queue)
//! and the names of the streams, their subjects and the relay's bucket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ClusterError, js_err};
use crate::config::LogConfig;
use crate::events::{Event, NewEvent};

/// The wire form of an event in the stream: a [`NewEvent`] (the envelope's seq and
/// recorded_at are the mirror's business).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Wire {
    pub(super) event_id: String,
    pub(super) occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub(super) event: Event,
}

/// One notification to deliver, as queued on the outbox work queue.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct WorkItem {
    pub(super) alert_id: String,
    pub(super) notifier: String,
}

/// The stream form of an event.
pub(super) fn encode(event: &NewEvent) -> Result<Vec<u8>, ClusterError> {
    let wire = serde_json::json!({
        "event_id": event.event_id,
        "occurred_at": event.occurred_at,
        "kind": event.event.kind(),
        "payload": match serde_json::to_value(&event.event) {
            Ok(v) => v.get("payload").cloned().unwrap_or_default(),
            Err(e) => return Err(js_err("encode an event", e)),
        },
    });
    serde_json::to_vec(&wire).map_err(|e| js_err("encode an event", e))
}

/// Subject of the log stream.
pub fn events_subject(config: &LogConfig) -> String {
    format!("{}.events", config.stream)
}

/// Name of the outbox work-queue stream.
pub fn outbox_stream(config: &LogConfig) -> String {
    format!("{}_OUTBOX", config.stream)
}

/// Subject of the outbox work queue.
pub fn outbox_subject(config: &LogConfig) -> String {
    format!("{}.outbox", config.stream)
}

/// Name of the relay's lock bucket.
pub(super) fn relay_bucket(config: &LogConfig) -> String {
    format!("{}_relay", config.stream)
}
