//! `/watchlist`: what parley watches for (actors, groups, rules) and the silences in force.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use super::page;
use super::parts::{ActorRef, RoleView, actor_ref, roles_of};
use crate::config::RuleSlot;
use crate::server::ApiState;
use crate::web::view::Time;

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

/// `/watchlist`.
pub(crate) async fn watchlist(State(state): State<ApiState>) -> Response {
    let store = state.store.clone();
    let config = state.config();
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
