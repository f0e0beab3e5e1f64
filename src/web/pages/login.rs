//! `/login`: the form that trades the API token for a session cookie, once per browser.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::render;
use crate::server::ApiState;

/// `/login?next=`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage {
    next: String,
    error: Option<String>,
    needed: bool,
}

/// Only a local path may be a redirect target (no `//host`, no scheme): the login form
/// must not become an open redirect.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".to_string(),
    }
}

/// `GET /login`: the form (or a note that no token is needed).
pub(crate) async fn login_form(
    State(state): State<ApiState>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let needed = state.config().api.token.is_some();
    render(&LoginPage {
        next: local_path(q.next.as_deref()),
        error: None,
        needed,
    })
}

/// `POST /login`: a right token sets the session cookie and goes on to `next`.
pub(crate) async fn login(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(form.next.as_deref());
    if !crate::web::same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            Html("this form must be sent from parley's own pages\n"),
        )
            .into_response();
    }
    let config = state.config();
    let Some(token) = &config.api.token else {
        return Redirect::to(&next).into_response();
    };
    if !crate::server::token_matches(form.token.trim(), token) {
        let page = LoginPage {
            next,
            error: Some("That is not the token in [api] token.".into()),
            needed: true,
        };
        return (StatusCode::UNAUTHORIZED, render(&page)).into_response();
    }
    let cookie = format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/",
        crate::web::COOKIE,
        crate::web::session_value(token)
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_redirects_only_to_local_paths() {
        // An attacker's link to /login?next=//evil must not send the analyst away.
        assert_eq!(local_path(Some("/alerts/x?a=1")), "/alerts/x?a=1");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
