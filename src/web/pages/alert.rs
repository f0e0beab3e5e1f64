//! `/alerts/{id}`: one alert explained (the rule, its evidence with the matched names and
//! trigger highlighted, its deliveries), and the page's two writes, ack and silence.

use askama::Template;
use axum::Form;
use axum::extract::{Path as UrlPath, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::PageError;
use super::page;
use super::parts::{ActorRef, actor_ref, extracted_filter, name_of, pair_url};
use crate::commands;
use crate::config::Config;
use crate::error::Error;
use crate::events::{Alert, Event, EventExtracted};
use crate::server::ApiState;
use crate::store::Store;
use crate::web::view::{self, Segment, Time};

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
pub(crate) struct Notice {
    done: Option<String>,
}

/// `/alerts/{id}`.
pub(crate) async fn alert(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
    Query(notice): Query<Notice>,
) -> Response {
    let store = state.store.clone();
    let config = state.config();
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

/// `POST /alerts/{id}/ack`: records `alert.acked` and shows the alert again.
pub(crate) async fn ack(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
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
pub(crate) struct SilenceForm {
    /// "rule" or "actors".
    scope: String,
    /// e.g. "12h".
    duration: String,
    reason: String,
}

/// `POST /alerts/{id}/silence`: records `silence.added` and shows the alert again.
pub(crate) async fn silence(
    State(state): State<ApiState>,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<SilenceForm>,
) -> Response {
    let store = state.store.clone();
    let config = state.config();
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
