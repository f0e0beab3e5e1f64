//! The page handlers: each gathers its data through the CLI's query functions on the
//! blocking pool, turns it into a view (plain structs, see `view`), and renders a template.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use tracing::warn;

use super::view::{self, Segment, Time};
use crate::api::ApiState;
use crate::commands::{self, AlertFilter};
use crate::config::{Config, RuleSlot};
use crate::error::Error;
use crate::events::{Alert, Event, EventExtracted};
use crate::plover::PloverType;
use crate::store::Store;

/// The running config (replaced on reload).
pub(super) fn config_of(state: &ApiState) -> Arc<Config> {
    match state.config.read() {
        Ok(c) => c.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

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

fn name_of(config: &Config, id: &str) -> String {
    config
        .actors
        .iter()
        .find(|a| a.spec.id == id)
        .map_or_else(|| id.to_string(), |a| a.spec.name.clone())
}

/// An actor as a link: id and display name.
#[derive(Debug, Clone)]
struct ActorRef {
    id: String,
    name: String,
    url: String,
}

fn actor_ref(config: &Config, id: &str) -> ActorRef {
    ActorRef {
        id: id.to_string(),
        name: name_of(config, id),
        url: format!("/actors/{}", view::url_encode(id)),
    }
}

/// A `<select>` option.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices(
    values: impl IntoIterator<Item = (String, String)>,
    current: Option<&str>,
) -> Vec<Choice> {
    values
        .into_iter()
        .map(|(value, label)| Choice {
            selected: current == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

fn actor_choices(config: &Config, current: Option<&str>) -> Vec<Choice> {
    choices(
        config
            .actors
            .iter()
            .map(|a| (a.spec.id.clone(), a.spec.name.clone())),
        current,
    )
}

fn type_choices(current: Option<&str>) -> Vec<Choice> {
    choices(
        PloverType::ALL.map(|t| (t.as_str().to_string(), t.as_str().to_string())),
        current,
    )
}

// ---------------------------------------------------------------------------------------
// `/`: the inbox

/// `/` filters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct InboxQuery {
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

pub(super) async fn inbox(State(state): State<ApiState>, Query(q): Query<InboxQuery>) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
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

// ---------------------------------------------------------------------------------------
// `/alerts/{id}`

struct EvidenceView {
    title: String,
    link: Option<String>,
    raw_link: Option<String>,
    feed: String,
    published: Option<Time>,
    segments: Vec<Segment>,
    mentions: Vec<(String, &'static str, String)>,
    trigger: Option<String>,
}

struct Delivery {
    at: Option<Time>,
    text: String,
}

#[derive(Template)]
#[template(path = "web/alert.html")]
struct AlertPage {
    id: String,
    ack_url: String,
    silence_url: String,
    rule: String,
    severity: &'static str,
    actors: Vec<ActorRef>,
    pair_url: Option<String>,
    actor_list: String,
    raised: Time,
    why: Vec<(String, String)>,
    evidence: Vec<EvidenceView>,
    deliveries: Vec<Delivery>,
    acked: Option<Time>,
    silenced_by: Option<String>,
    notice: Option<String>,
}

/// `?done=` after a write, so the page says what just happened.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Notice {
    done: Option<String>,
}

pub(super) async fn alert(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
    page(move || alert_page(&store, &config, &id, notice.done.as_deref())).await
}

fn alert_page(
    store: &Store,
    config: &Config,
    id: &str,
    done: Option<&str>,
) -> Result<AlertPage, PageError> {
    let alert = commands::find_alert(store, id)?;
    // The explanation is `parley alerts show`'s own text, so the page and the CLI never
    // disagree: its header lines become a table, its delivery lines a list.
    let mut text = Vec::new();
    commands::alerts_show(store, config, &alert.alert_id, &mut text)?;
    let text = String::from_utf8_lossy(&text);
    let mut why = Vec::new();
    let mut deliveries = Vec::new();
    let mut section = "head";
    for line in text.lines() {
        match line {
            "evidence" => section = "evidence",
            "deliveries" => section = "deliveries",
            _ if section == "head" => {
                let (k, v) = line.split_once(' ').unwrap_or((line, ""));
                if !matches!(k, "alert" | "raised" | "actors" | "acked") {
                    why.push((k.to_string(), v.trim().to_string()));
                }
            }
            _ if section == "deliveries" => {
                let line = line.trim();
                let (first, rest) = line.split_once(' ').unwrap_or((line, ""));
                match chrono::DateTime::parse_from_rfc3339(first) {
                    Ok(t) => deliveries.push(Delivery {
                        at: Some(Time::of(t.with_timezone(&Utc))),
                        text: rest.to_string(),
                    }),
                    Err(_) => deliveries.push(Delivery {
                        at: None,
                        text: line.to_string(),
                    }),
                }
            }
            _ => {}
        }
    }
    let extracted = article_sentences(store, &alert)?;
    let evidence = alert
        .evidence
        .iter()
        .map(|e| {
            let trigger = extracted
                .iter()
                .find(|x| x.article_id == e.article_id && x.sentence == e.sentence)
                .and_then(|x| x.trigger.clone());
            let texts: Vec<String> = e.mentions.iter().map(|m| m.text.clone()).collect();
            EvidenceView {
                title: e.title.clone(),
                link: view::safe_link(e.url.as_deref()),
                raw_link: e.url.clone(),
                feed: e.feed.clone(),
                published: e.published.map(Time::of),
                segments: view::highlight(&e.sentence, &texts, trigger.as_deref()),
                mentions: e
                    .mentions
                    .iter()
                    .map(|m| {
                        (
                            name_of(config, &m.actor),
                            if m.via_role { "role" } else { "alias" },
                            m.text.clone(),
                        )
                    })
                    .collect(),
                trigger,
            }
        })
        .collect();
    let actors: Vec<ActorRef> = alert.actors.iter().map(|a| actor_ref(config, a)).collect();
    Ok(AlertPage {
        ack_url: format!("/alerts/{}/ack", view::url_encode(&alert.alert_id)),
        silence_url: format!("/alerts/{}/silence", view::url_encode(&alert.alert_id)),
        pair_url: (alert.actors.len() == 2).then(|| pair_url(&alert.actors[0], &alert.actors[1])),
        actor_list: actors
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        actors,
        id: alert.alert_id.clone(),
        rule: alert.rule.clone(),
        severity: alert.severity.as_str(),
        raised: Time::of(alert.raised_at),
        why,
        evidence,
        deliveries,
        acked: store.acked_at(&alert.alert_id)?.map(Time::of),
        silenced_by: alert.silenced_by.clone(),
        notice: match done {
            Some("ack") => Some("Acknowledged: recorded in the log as alert.acked.".into()),
            Some(s) if s.starts_with("silence:") => Some(format!(
                "Silenced: recorded in the log as silence.added ({}).",
                &s["silence:".len()..]
            )),
            _ => None,
        },
    })
}

/// The extracted records of the alert's evidence articles (for each sentence's trigger),
/// read through the per-actor index of the alert's first actor.
fn article_sentences(store: &Store, alert: &Alert) -> Result<Vec<EventExtracted>, PageError> {
    let Some(actor) = alert.actors.first() else {
        return Ok(Vec::new());
    };
    let filter = extracted_filter(Some(actor.clone()), None, None);
    Ok(commands::query_events(store, &filter)?
        .into_iter()
        .filter_map(|env| match env.event {
            Event::EventExtracted(e)
                if alert
                    .evidence
                    .iter()
                    .any(|ev| ev.article_id == e.article_id) =>
            {
                Some(e)
            }
            _ => None,
        })
        .collect())
}

fn extracted_filter(
    actor: Option<String>,
    event_type: Option<PloverType>,
    since: Option<chrono::DateTime<Utc>>,
) -> commands::EventFilter {
    commands::EventFilter {
        actor,
        event_type,
        kind: Some("event.extracted".into()),
        since,
        limit: None,
    }
}

fn pair_url(a: &str, b: &str) -> String {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    format!("/pair/{}/{}", view::url_encode(a), view::url_encode(b))
}

/// Runs a write (find the alert, append through the appender) on the blocking pool, as the
/// JSON API does: finding an alert by prefix scans the log, which must not stall the runtime.
async fn write<T: Send + 'static>(
    f: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, PageError> {
    let handle = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || handle.block_on(f)).await {
        Ok(r) => r.map_err(PageError::from),
        Err(join) => Err(PageError::Internal(join.to_string())),
    }
}

pub(super) async fn ack(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
    let store = state.store.clone();
    match write(async move { commands::alerts_ack(&store, &id).await }).await {
        Ok(full) => {
            Redirect::to(&format!("/alerts/{}?done=ack", view::url_encode(&full))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// The silence form: the rule alone, or the rule for this alert's actor set.
#[derive(Debug, Deserialize)]
pub(super) struct SilenceForm {
    /// "rule" or "actors".
    scope: String,
    /// e.g. "12h".
    duration: String,
    reason: String,
}

pub(super) async fn silence(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<SilenceForm>,
) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
    let result = write(async move {
        let alert = commands::find_alert(&store, &id)?;
        let actors = if form.scope == "actors" {
            alert.actors.clone()
        } else {
            Vec::new()
        };
        let silence_id = commands::silence_add(
            &store,
            &config,
            &alert.rule,
            &actors,
            form.duration.trim(),
            form.reason.trim(),
        )
        .await?;
        Ok((alert.alert_id, silence_id))
    })
    .await;
    match result {
        Ok((alert_id, silence_id)) => Redirect::to(&format!(
            "/alerts/{}?done={}",
            view::url_encode(&alert_id),
            view::url_encode(&format!("silence:{silence_id}"))
        ))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// `/feeds`

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

pub(super) async fn feeds(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
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

// ---------------------------------------------------------------------------------------
// Events as shown on the actor, pair and search pages

struct EventRow {
    when: Time,
    event_type: String,
    actors: Vec<ActorRef>,
    segments: Vec<Segment>,
    title: String,
    link: Option<String>,
    feed: String,
    status: Option<String>,
}

/// Turns extracted records into rows, reading each one's article for title, outlet and link.
fn event_rows(
    store: &Store,
    config: &Config,
    envs: &[crate::events::Envelope],
) -> Result<Vec<EventRow>, PageError> {
    let mut rows = Vec::with_capacity(envs.len());
    for env in envs {
        let Event::EventExtracted(e) = &env.event else {
            continue;
        };
        let article = match store.get(&e.article_id)? {
            Some(crate::events::Envelope {
                event: Event::ArticleIngested(a),
                ..
            }) => Some(a),
            _ => None,
        };
        // The record keeps no mention texts (alerts do): every way the config names its
        // actors (aliases, role titles and their aliases) is looked for instead.
        let names: Vec<String> = config
            .actors
            .iter()
            .filter(|a| e.actors.contains(&a.spec.id))
            .flat_map(|a| {
                a.spec.aliases.iter().cloned().chain(
                    a.spec
                        .roles
                        .iter()
                        .flat_map(|r| std::iter::once(r.title.clone()).chain(r.aliases.clone())),
                )
            })
            .collect();
        rows.push(EventRow {
            when: Time::of(env.occurred_at),
            event_type: e
                .event_type
                .map_or("co-mention", PloverType::as_str)
                .to_string(),
            actors: e.actors.iter().map(|a| actor_ref(config, a)).collect(),
            segments: view::highlight(&e.sentence, &names, e.trigger.as_deref()),
            title: article
                .as_ref()
                .map(|a| a.title.clone())
                .unwrap_or_default(),
            link: article
                .as_ref()
                .and_then(|a| view::safe_link(a.url.as_deref())),
            feed: article.map(|a| a.feed).unwrap_or_default(),
            status: e.status.clone().filter(|s| s != "occurred"),
        });
    }
    Ok(rows)
}

/// By when it happened, newest first (log order is ingest order: a feed's old story may be
/// logged after a newer one), ties in reverse log order.
fn newest_first(envs: &[crate::events::Envelope]) -> Vec<crate::events::Envelope> {
    let mut v = envs.to_vec();
    v.sort_by_key(|e| std::cmp::Reverse((e.occurred_at, e.seq)));
    v
}

fn timeline_of(envs: &[crate::events::Envelope]) -> view::Timeline {
    let items: Vec<_> = envs
        .iter()
        .filter_map(|env| match &env.event {
            Event::EventExtracted(e) => {
                Some((e.date.unwrap_or(env.occurred_at.date_naive()), e.event_type))
            }
            _ => None,
        })
        .collect();
    view::timeline(&items)
}

// ---------------------------------------------------------------------------------------
// `/actors/{id}`

struct RoleView {
    title: String,
    aliases: String,
    from: String,
    until: String,
}

fn roles_of(spec: &crate::extract::ActorSpec) -> Vec<RoleView> {
    let date = |d: Option<chrono::NaiveDate>| d.map_or(String::new(), |d| d.to_string());
    spec.roles
        .iter()
        .map(|r| RoleView {
            title: r.title.clone(),
            aliases: r.aliases.join(", "),
            from: date(r.from),
            until: date(r.until),
        })
        .collect()
}

struct Counterpart {
    actor: ActorRef,
    count: usize,
    pair_url: String,
}

#[derive(Template)]
#[template(path = "web/actor.html")]
struct ActorPage {
    id: String,
    name: String,
    kind: String,
    country: Option<String>,
    aliases: String,
    roles: Vec<RoleView>,
    total: usize,
    timeline: view::Timeline,
    counterparts: Vec<Counterpart>,
    recent: Vec<EventRow>,
    events_url: String,
}

/// Recent events shown on the actor and pair pages; the search page has the rest.
const RECENT: usize = 25;

pub(super) async fn actor(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
    page(move || actor_page(&store, &config, &id)).await
}

fn actor_page(store: &Store, config: &Config, id: &str) -> Result<ActorPage, PageError> {
    let Some(actor) = config.actors.iter().find(|a| a.spec.id == id) else {
        return Err(PageError::NotFound(format!(
            "no actor {id:?} in the watchlists"
        )));
    };
    let envs = commands::query_events(store, &extracted_filter(Some(id.to_string()), None, None))?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for env in &envs {
        if let Event::EventExtracted(e) = &env.event {
            for other in e.actors.iter().filter(|a| *a != id) {
                *counts.entry(other.as_str()).or_default() += 1;
            }
        }
    }
    let mut counterparts: Vec<Counterpart> = counts
        .into_iter()
        .map(|(other, count)| Counterpart {
            actor: actor_ref(config, other),
            count,
            pair_url: pair_url(id, other),
        })
        .collect();
    counterparts.sort_by(|a, b| b.count.cmp(&a.count).then(a.actor.id.cmp(&b.actor.id)));
    counterparts.truncate(10);
    let recent: Vec<_> = newest_first(&envs).into_iter().take(RECENT).collect();
    Ok(ActorPage {
        id: id.to_string(),
        name: actor.spec.name.clone(),
        kind: format!("{:?}", actor.kind).to_lowercase(),
        country: actor.country.clone(),
        aliases: actor.spec.aliases.join(", "),
        roles: roles_of(&actor.spec),
        total: envs.len(),
        timeline: timeline_of(&envs),
        counterparts,
        recent: event_rows(store, config, &recent)?,
        events_url: format!("/events?actor={}", view::url_encode(id)),
    })
}

// ---------------------------------------------------------------------------------------
// `/pair/{a}/{b}`

#[derive(Template)]
#[template(path = "web/pair.html")]
struct PairPage {
    a: ActorRef,
    b: ActorRef,
    total: usize,
    by_type: Vec<(String, usize, &'static str)>,
    timeline: view::Timeline,
    rows: Vec<EventRow>,
    shown: usize,
}

/// Rows on the pair page; a pair rarely has more, and the page says when it does.
const PAIR_ROWS: usize = 200;

pub(super) async fn pair(
    State(state): State<ApiState>,
    UrlPath((a, b)): UrlPath<(String, String)>,
) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
    page(move || {
        let envs: Vec<_> =
            commands::query_events(&store, &extracted_filter(Some(a.clone()), None, None))?
                .into_iter()
                .filter(|env| match &env.event {
                    Event::EventExtracted(e) => e.actors.contains(&b),
                    _ => false,
                })
                .collect();
        let mut by_type: BTreeMap<Option<PloverType>, usize> = BTreeMap::new();
        for env in &envs {
            if let Event::EventExtracted(e) = &env.event {
                *by_type.entry(e.event_type).or_default() += 1;
            }
        }
        let mut by_type: Vec<_> = by_type
            .into_iter()
            .map(|(t, n)| {
                (
                    t.map_or("co-mention", PloverType::as_str).to_string(),
                    n,
                    view::type_colour(t),
                )
            })
            .collect();
        by_type.sort_by_key(|t| std::cmp::Reverse(t.1));
        let newest: Vec<_> = newest_first(&envs).into_iter().take(PAIR_ROWS).collect();
        Ok(PairPage {
            a: actor_ref(&config, &a),
            b: actor_ref(&config, &b),
            total: envs.len(),
            by_type,
            timeline: timeline_of(&envs),
            shown: newest.len(),
            rows: event_rows(&store, &config, &newest)?,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------
// `/events`

/// `/events` parameters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct EventsQuery {
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

pub(super) async fn events(
    State(state): State<ApiState>,
    Query(q): Query<EventsQuery>,
) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
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

// ---------------------------------------------------------------------------------------
// `/graph`

/// `/graph` parameters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct GraphQuery {
    since: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
}

#[derive(Template)]
#[template(path = "web/graph.html")]
struct GraphPage {
    since: String,
    types: Vec<Choice>,
    graph: view::Graph,
    edges_by_weight: Vec<view::Edge>,
    legend: Vec<(String, &'static str)>,
    interactions: usize,
}

pub(super) async fn graph(State(state): State<ApiState>, Query(q): Query<GraphQuery>) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
    page(move || {
        let since = given(&q.since).unwrap_or("30d").to_string();
        let event_type = given(&q.event_type);
        let filter = commands::event_filter(
            None,
            event_type,
            Some("event.extracted"),
            (since != "all").then_some(since.as_str()),
            None,
            Utc::now(),
        )?;
        let interactions: Vec<(Vec<String>, Option<PloverType>)> =
            commands::query_events(&store, &filter)?
                .into_iter()
                .filter_map(|env| match env.event {
                    Event::EventExtracted(e) => Some((e.interaction_actors(), e.event_type)),
                    _ => None,
                })
                .filter(|(actors, _)| actors.len() >= 2)
                .collect();
        let graph = view::graph(&interactions, |id| name_of(&config, id));
        let mut legend: Vec<(String, &'static str)> = graph
            .edges
            .iter()
            .map(|e| (e.dominant.clone(), e.colour))
            .collect();
        legend.sort();
        legend.dedup();
        let mut edges_by_weight = graph.edges.clone();
        edges_by_weight.reverse();
        Ok(GraphPage {
            types: type_choices(event_type),
            since,
            interactions: interactions.len(),
            edges_by_weight,
            legend,
            graph,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------
// `/watchlist`

struct ActorRow {
    actor: ActorRef,
    kind: String,
    aliases: String,
    roles: Vec<RoleView>,
}

struct GroupRow {
    id: String,
    members: Vec<ActorRef>,
}

struct RuleRow {
    id: String,
    slots: String,
    min_actors: usize,
    scope: &'static str,
    types: String,
    severity: &'static str,
    notify: String,
}

struct SilenceRow {
    id: String,
    rule: String,
    actors: String,
    until: Time,
    reason: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "web/watchlist.html")]
struct WatchlistPage {
    actors: Vec<ActorRow>,
    groups: Vec<GroupRow>,
    rules: Vec<RuleRow>,
    silences: Vec<SilenceRow>,
}

pub(super) async fn watchlist(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    let config = config_of(&state);
    page(move || {
        let now = Utc::now();
        Ok(WatchlistPage {
            actors: config
                .actors
                .iter()
                .map(|a| ActorRow {
                    actor: actor_ref(&config, &a.spec.id),
                    kind: format!("{:?}", a.kind).to_lowercase(),
                    aliases: a.spec.aliases.join(", "),
                    roles: roles_of(&a.spec),
                })
                .collect(),
            groups: config
                .groups
                .iter()
                .map(|g| GroupRow {
                    id: g.id.clone(),
                    members: g.members.iter().map(|m| actor_ref(&config, m)).collect(),
                })
                .collect(),
            rules: config
                .rules
                .iter()
                .map(|r| RuleRow {
                    id: r.id.clone(),
                    slots: r
                        .slots
                        .iter()
                        .map(|s| match s {
                            RuleSlot::Actor(a) => a.clone(),
                            RuleSlot::Group { id, .. } => format!("group:{id}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    min_actors: r.min_actors,
                    scope: r.scope.as_str(),
                    types: r
                        .event_types
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    severity: r.severity.as_str(),
                    notify: r.notify.join(", "),
                })
                .collect(),
            silences: store
                .silences()?
                .into_iter()
                .map(|s| SilenceRow {
                    active: s.until > now,
                    id: s.silence_id,
                    rule: s.rule,
                    actors: s.actors.join(", "),
                    until: Time::of(s.until),
                    reason: s.reason,
                })
                .collect(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------
// `/login`

/// `/login?next=`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LoginQuery {
    next: Option<String>,
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
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

pub(super) async fn login_form(
    State(state): State<ApiState>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let needed = config_of(&state).api.token.is_some();
    render(&LoginPage {
        next: local_path(q.next.as_deref()),
        error: None,
        needed,
    })
}

pub(super) async fn login(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(form.next.as_deref());
    if !super::same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            Html("this form must be sent from parley's own pages\n"),
        )
            .into_response();
    }
    let config = config_of(&state);
    let Some(token) = &config.api.token else {
        return Redirect::to(&next).into_response();
    };
    if !crate::api::token_matches(form.token.trim(), token) {
        let page = LoginPage {
            next,
            error: Some("That is not the token in [api] token.".into()),
            needed: true,
        };
        return (StatusCode::UNAUTHORIZED, render(&page)).into_response();
    }
    let cookie = format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/",
        super::COOKIE,
        super::session_value(token)
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
