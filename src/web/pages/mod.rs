//! The page handlers: each gathers its data through the CLI's query functions on the
//! blocking pool, turns it into a view (plain structs, see `view`), and renders a template.
//!
//! One page group per file; this module holds what every page does the same way (running
//! the gathering on the blocking pool, rendering, showing a failure as a page) and
//! `parts` the pieces several pages show.

mod actors;
mod alert;
mod feeds;
mod graph;
mod inbox;
mod login;
mod parts;
mod search;
mod watchlist;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tracing::warn;

use crate::error::Error;

pub(super) use actors::{actor, pair};
pub(super) use alert::{ack, alert, silence};
pub(super) use feeds::feeds;
pub(super) use graph::graph;
pub(super) use inbox::inbox;
pub(super) use login::{login, login_form};
pub(super) use search::events;
pub(super) use watchlist::{edit as watchlist_edit, watchlist};

/// A page's failure, shown as a page: usage errors (a bad `since`, an unknown id) are the
/// user's to fix (400/404), the rest are the server's (500, logged).
enum PageError {
    NotFound(String),
    Usage(String),
    Internal(String),
}

impl From<Error> for PageError {
    fn from(e: Error) -> PageError {
        match e {
            Error::Usage(m) if m.starts_with("no ") => PageError::NotFound(m),
            Error::Usage(m) => PageError::Usage(m),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> PageError {
        PageError::Internal(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    title: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            PageError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            PageError::Usage(m) => (StatusCode::BAD_REQUEST, "Cannot show this", m),
            PageError::Internal(m) => {
                warn!(error = %m, "A page failed.");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", m)
            }
        };
        let page = ErrorPage {
            title: title.to_string(),
            message,
        };
        (status, render(&page)).into_response()
    }
}

fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            warn!(%error, "A template failed to render.");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error\n").into_response()
        }
    }
}

/// Runs a page's data gathering on the blocking pool (queries scan the log) and renders it.
async fn page<T: Template + Send + 'static>(
    f: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(p)) => render(&p),
        Ok(Err(e)) => e.into_response(),
        Err(join) => PageError::Internal(join.to_string()).into_response(),
    }
}

/// Empty query parameters (`?actor=`) mean "no filter", as a submitted form sends them.
fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
