//! `/actors/{id}` and `/pair/{a}/{b}`: what one actor, or one pair of actors, has done,
//! with a timeline, counterparts or types, and the recent events.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path as UrlPath, State};
use axum::response::Response;

use super::parts::{
    ActorRef, EventRow, RoleView, actor_ref, event_rows, extracted_filter, newest_first, pair_url,
    roles_of, timeline_of,
};
use super::{PageError, page};
use crate::commands;
use crate::config::Config;
use crate::events::Event;
use crate::plover::PloverType;
use crate::server::ApiState;
use crate::store::Store;
use crate::web::view;

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

/// `/actors/{id}`.
pub(crate) async fn actor(State(state): State<ApiState>, UrlPath(id): UrlPath<String>) -> Response {
    let store = state.store.clone();
    let config = state.config();
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

/// `/pair/{a}/{b}`: the events that name both actors.
pub(crate) async fn pair(
    State(state): State<ApiState>,
    UrlPath((a, b)): UrlPath<(String, String)>,
) -> Response {
    let store = state.store.clone();
    let config = state.config();
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
