//! `/feeds`: every configured feed and how its polling is going.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::page;
use crate::commands;
use crate::server::ApiState;
use crate::web::view::Time;

struct FeedRow {
    name: String,
    url: String,
    last_success: Option<Time>,
    next_poll: Option<Time>,
    failures: u32,
    last_error: Option<String>,
    disabled: Option<String>,
    items_seen: u64,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "web/feeds.html")]
struct FeedsPage {
    feeds: Vec<FeedRow>,
}

/// `/feeds`.
pub(crate) async fn feeds(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    let config = state.config();
    page(move || {
        let feeds = commands::feed_reports(&config, &store)?
            .into_iter()
            .map(|f| FeedRow {
                state: if f.disabled.is_some() {
                    "disabled"
                } else if f.consecutive_failures > 0 {
                    "failing"
                } else if f.last_success.is_some() {
                    "ok"
                } else {
                    "not polled yet"
                },
                name: f.name,
                url: f.effective_url.unwrap_or(f.url),
                last_success: f.last_success.map(Time::of),
                next_poll: f.next_poll.map(Time::of),
                failures: f.consecutive_failures,
                last_error: f.last_error,
                disabled: f.disabled,
                items_seen: f.items_seen,
            })
            .collect();
        Ok(FeedsPage { feeds })
    })
    .await
}
