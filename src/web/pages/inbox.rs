//! `/`: the inbox, the newest alerts first with their filters.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::parts::{ActorRef, Choice, actor_choices, actor_ref, choices};
use super::{PageError, given, page};
use crate::commands::{self, AlertFilter};
use crate::config::Config;
use crate::events::Alert;
use crate::plover::PloverType;
use crate::server::ApiState;
use crate::store::Store;
use crate::web::view::{self, Time};

/// `/` filters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InboxQuery {
    rule: Option<String>,
    actor: Option<String>,
    severity: Option<String>,
    /// "yes", "no" or empty.
    acked: Option<String>,
}

struct InboxRow {
    id: String,
    url: String,
    short_id: String,
    raised: Time,
    rule: String,
    actors: Vec<ActorRef>,
    event_type: String,
    severity: &'static str,
    outlets: usize,
    acked: bool,
    silenced: bool,
    title: String,
}

#[derive(Template)]
#[template(path = "web/inbox.html")]
struct InboxPage {
    rows: Vec<InboxRow>,
    total: usize,
    shown_limit: usize,
    rules: Vec<Choice>,
    actors: Vec<Choice>,
    severities: Vec<Choice>,
    acked: Vec<Choice>,
    filtered: bool,
}

/// Rows shown at most; the inbox is for what is new, the event search for history.
const INBOX_LIMIT: usize = 200;

/// `/`.
pub(crate) async fn inbox(State(state): State<ApiState>, Query(q): Query<InboxQuery>) -> Response {
    let store = state.store.clone();
    let config = state.config();
    page(move || inbox_page(&store, &config, &q)).await
}

fn inbox_page(store: &Store, config: &Config, q: &InboxQuery) -> Result<InboxPage, PageError> {
    let rule = given(&q.rule);
    let actor = given(&q.actor);
    let severity = given(&q.severity);
    let acked_filter = given(&q.acked);
    let all = commands::query_alerts(
        store,
        &AlertFilter {
            rule: rule.map(str::to_string),
            ..AlertFilter::default()
        },
    )?;
    let mut rows = Vec::new();
    let mut total = 0;
    for alert in all.iter().rev() {
        if actor.is_some_and(|a| !alert.actors.iter().any(|x| x == a))
            || severity.is_some_and(|s| alert.severity.as_str() != s)
        {
            continue;
        }
        let acked = store.acked_at(&alert.alert_id)?.is_some();
        match acked_filter {
            Some("yes") if !acked => continue,
            Some("no") if acked => continue,
            _ => {}
        }
        total += 1;
        if rows.len() < INBOX_LIMIT {
            rows.push(inbox_row(config, alert, acked));
        }
    }
    Ok(InboxPage {
        shown_limit: INBOX_LIMIT,
        total,
        rows,
        rules: choices(
            config.rules.iter().map(|r| (r.id.clone(), r.id.clone())),
            rule,
        ),
        actors: actor_choices(config, actor),
        severities: choices(
            ["critical", "warning", "info"].map(|s| (s.to_string(), s.to_string())),
            severity,
        ),
        acked: choices(
            [("no", "not acknowledged"), ("yes", "acknowledged")]
                .map(|(v, l)| (v.to_string(), l.to_string())),
            acked_filter,
        ),
        filtered: rule.is_some() || actor.is_some() || severity.is_some() || acked_filter.is_some(),
    })
}

fn inbox_row(config: &Config, alert: &Alert, acked: bool) -> InboxRow {
    InboxRow {
        url: format!("/alerts/{}", view::url_encode(&alert.alert_id)),
        short_id: alert
            .alert_id
            .trim_start_matches("alert-")
            .chars()
            .take(8)
            .collect(),
        id: alert.alert_id.clone(),
        raised: Time::of(alert.raised_at),
        rule: alert.rule.clone(),
        actors: alert.actors.iter().map(|a| actor_ref(config, a)).collect(),
        event_type: alert
            .event_type
            .map_or("co-mention", PloverType::as_str)
            .to_string(),
        severity: alert.severity.as_str(),
        outlets: distinct_outlets(alert),
        acked,
        silenced: alert.silenced_by.is_some(),
        title: alert
            .evidence
            .first()
            .map(|e| e.title.clone())
            .unwrap_or_default(),
    }
}

/// Independent outlets: the alert's counted `sources` when the rule corroborates, else the
/// distinct feeds of its evidence.
fn distinct_outlets(alert: &Alert) -> usize {
    if !alert.sources.is_empty() {
        return alert.sources.len();
    }
    let mut feeds: Vec<&str> = alert.evidence.iter().map(|e| e.feed.as_str()).collect();
    feeds.sort_unstable();
    feeds.dedup();
    feeds.len()
}
