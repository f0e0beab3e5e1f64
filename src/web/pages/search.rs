//! `/events`: the event search (actor, type, since, text), newest first, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use super::parts::{Choice, EventRow, actor_choices, event_rows, newest_first, type_choices};
use super::{PageError, given, page};
use crate::commands;
use crate::config::Config;
use crate::events::Event;
use crate::server::ApiState;
use crate::store::Store;
use crate::web::view;

/// `/events` parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EventsQuery {
    actor: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<String>,
    q: Option<String>,
    page: Option<usize>,
}

#[derive(Template)]
#[template(path = "web/events.html")]
struct EventsPage {
    since: String,
    q: String,
    actors: Vec<Choice>,
    types: Vec<Choice>,
    rows: Vec<EventRow>,
    total: usize,
    page: usize,
    pages: usize,
    newer_url: Option<String>,
    older_url: Option<String>,
}

/// Search results per page.
const PAGE_SIZE: usize = 50;

/// `/events`.
pub(crate) async fn events(
    State(state): State<ApiState>,
    Query(q): Query<EventsQuery>,
) -> Response {
    let store = state.store.clone();
    let config = state.config();
    page(move || events_page(&store, &config, &q)).await
}

fn events_page(store: &Store, config: &Config, q: &EventsQuery) -> Result<EventsPage, PageError> {
    let actor = given(&q.actor);
    let event_type = given(&q.event_type);
    let since = given(&q.since);
    let text = given(&q.q);
    // The CLI's own parsing and validation of --actor, --type and --since.
    let filter = commands::event_filter(
        actor,
        event_type,
        Some("event.extracted"),
        since,
        None,
        Utc::now(),
    )?;
    let needle = text.map(str::to_lowercase);
    let found: Vec<_> = newest_first(&commands::query_events(store, &filter)?)
        .into_iter()
        .filter(|env| match (&env.event, &needle) {
            (Event::EventExtracted(e), Some(n)) => e.sentence.to_lowercase().contains(n),
            (Event::EventExtracted(_), None) => true,
            _ => false,
        })
        .collect();
    let total = found.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let slice: Vec<_> = found
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    let link = |p: usize| {
        let mut parts = Vec::new();
        for (k, v) in [
            ("actor", actor),
            ("type", event_type),
            ("since", since),
            ("q", text),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", view::url_encode(v)));
            }
        }
        parts.push(format!("page={p}"));
        format!("/events?{}", parts.join("&"))
    };
    Ok(EventsPage {
        since: since.unwrap_or_default().to_string(),
        q: text.unwrap_or_default().to_string(),
        actors: actor_choices(config, actor),
        types: type_choices(event_type),
        rows: event_rows(store, config, &slice)?,
        total,
        page,
        pages,
        newer_url: (page > 1).then(|| link(page - 1)),
        older_url: (page < pages).then(|| link(page + 1)),
    })
}
