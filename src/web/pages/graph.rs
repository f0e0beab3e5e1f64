//! `/graph`: the network of actors over a period, an edge per interacting pair coloured by
//! its dominant type.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use super::parts::{Choice, name_of, type_choices};
use super::{given, page};
use crate::commands;
use crate::events::Event;
use crate::plover::PloverType;
use crate::server::ApiState;
use crate::web::view;

/// `/graph` parameters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GraphQuery {
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

/// `/graph` (the last 30 days unless `since` says otherwise; `since=all` for everything).
pub(crate) async fn graph(State(state): State<ApiState>, Query(q): Query<GraphQuery>) -> Response {
    let store = state.store.clone();
    let config = state.config();
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
