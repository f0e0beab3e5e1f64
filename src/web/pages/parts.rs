//! Pieces several pages show: actors as links, `<select>` choices, extracted events as rows
//! and timelines, an actor's roles, and the links and filters the pages build them from.

use chrono::Utc;

use super::PageError;
use crate::commands;
use crate::config::Config;
use crate::events::Event;
use crate::plover::PloverType;
use crate::store::Store;
use crate::web::view::{self, Segment, Time};

/// An actor's display name from the watchlists, or its id when it is not (or no longer) there.
pub(super) fn name_of(config: &Config, id: &str) -> String {
    config
        .actors
        .iter()
        .find(|a| a.spec.id == id)
        .map_or_else(|| id.to_string(), |a| a.spec.name.clone())
}

/// An actor as a link: id and display name.
#[derive(Debug, Clone)]
pub(super) struct ActorRef {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) url: String,
}

/// The link to an actor's page, with its display name.
pub(super) fn actor_ref(config: &Config, id: &str) -> ActorRef {
    ActorRef {
        id: id.to_string(),
        name: name_of(config, id),
        url: format!("/actors/{}", view::url_encode(id)),
    }
}

/// A `<select>` option.
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

/// `<select>` options from `(value, label)` pairs, the current value selected.
pub(super) fn choices(
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

/// The watchlist's actors as `<select>` options.
pub(super) fn actor_choices(config: &Config, current: Option<&str>) -> Vec<Choice> {
    choices(
        config
            .actors
            .iter()
            .map(|a| (a.spec.id.clone(), a.spec.name.clone())),
        current,
    )
}

/// The PLOVER types as `<select>` options.
pub(super) fn type_choices(current: Option<&str>) -> Vec<Choice> {
    choices(
        PloverType::ALL.map(|t| (t.as_str().to_string(), t.as_str().to_string())),
        current,
    )
}

/// The filter for extracted records (no other kind) of an actor, a type and a start.
pub(super) fn extracted_filter(
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

/// The link to a pair's page; the pair is unordered, so both orders give one URL.
pub(super) fn pair_url(a: &str, b: &str) -> String {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    format!("/pair/{}/{}", view::url_encode(a), view::url_encode(b))
}

/// One extracted event as the actor, pair and search pages list it.
pub(super) struct EventRow {
    pub(super) when: Time,
    pub(super) event_type: String,
    pub(super) actors: Vec<ActorRef>,
    pub(super) segments: Vec<Segment>,
    pub(super) title: String,
    pub(super) link: Option<String>,
    pub(super) feed: String,
    pub(super) status: Option<String>,
}

/// Turns extracted records into rows, reading each one's article for title, outlet and link.
pub(super) fn event_rows(
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
pub(super) fn newest_first(envs: &[crate::events::Envelope]) -> Vec<crate::events::Envelope> {
    let mut v = envs.to_vec();
    v.sort_by_key(|e| std::cmp::Reverse((e.occurred_at, e.seq)));
    v
}

/// The timeline chart of extracted records, by the date the event happened.
pub(super) fn timeline_of(envs: &[crate::events::Envelope]) -> view::Timeline {
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

/// One dated role of an actor, as the actor and watchlist pages show it.
pub(super) struct RoleView {
    pub(super) title: String,
    pub(super) aliases: String,
    pub(super) from: String,
    pub(super) until: String,
}

/// An actor's roles, for display.
pub(super) fn roles_of(spec: &crate::extract::ActorSpec) -> Vec<RoleView> {
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
