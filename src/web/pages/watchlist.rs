//! `/watchlist`: what parley watches for (actors, groups, rules) and the silences in force,
//! and the analysts' edits of actors, groups and rules.
//!
//! An edit goes to the one managed file (`watchlists/managed.toml`, see
//! `config::managed`) through `commands::watchlist_edit`: validated as `parley check`
//! validates (a refusal shows that message, the file untouched), written atomically,
//! recorded as `watchlist.changed`, then applied by the daemon's reload (the channel SIGHUP
//! uses, `signal::request_reload`). Items of hand-written files are shown, never edited.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::parts::{ActorRef, RoleView, actor_ref, roles_of};
use super::{PageError, page, render};
use crate::commands;
use crate::config::managed::{self, Change, ItemKind, MANAGED_FILE, ManagedFile};
use crate::config::{Config, RuleSlot};
use crate::error::Error;
use crate::server::ApiState;
use crate::store::Store;
use crate::web::view::{self, Time};

/// How long a page waits for the daemon to report the reload it asked for. A reload stops
/// the running generation first (bounded by the daemon's stop deadline, 20 s).
const RELOAD_WAIT: Duration = Duration::from_secs(30);

/// Who the log names as the author of an edit: the UI has no user accounts (one shared
/// token), so the principal is the web UI itself.
const WHO: &str = "web";

struct ActorRow {
    actor: ActorRef,
    kind: String,
    aliases: String,
    roles: Vec<RoleView>,
    /// The item's TOML when it is in the managed file (editable), else `None`.
    managed: Option<String>,
}

struct GroupRow {
    id: String,
    members: Vec<ActorRef>,
    managed: Option<String>,
}

struct RuleRow {
    id: String,
    slots: String,
    min_actors: usize,
    scope: &'static str,
    types: String,
    severity: &'static str,
    notify: String,
    managed: Option<String>,
}

struct SilenceRow {
    id: String,
    rule: String,
    actors: String,
    until: Time,
    reason: String,
    active: bool,
}

/// A refused edit, shown again so it can be fixed.
struct Draft {
    kind: &'static str,
    original: String,
    body: String,
    /// The managed file as it would have been, numbered, to find the line the message names.
    candidate: Vec<(usize, String)>,
}

#[derive(Template)]
#[template(path = "web/watchlist.html")]
struct WatchlistPage {
    managed_file: String,
    notice: Option<String>,
    error: Option<String>,
    draft: Option<Draft>,
    actors: Vec<ActorRow>,
    groups: Vec<GroupRow>,
    rules: Vec<RuleRow>,
    silences: Vec<SilenceRow>,
}

/// `?done=` after an edit: what happened to it (`applied`, `saved`, `rejected`), and `what`
/// changed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Notice {
    done: Option<String>,
    what: Option<String>,
}

/// `/watchlist`.
pub(crate) async fn watchlist(
    State(state): State<ApiState>,
    Query(notice): Query<Notice>,
) -> Response {
    let store = state.store.clone();
    let config = state.config();
    page(move || {
        let mut p = watchlist_page(&store, &config)?;
        p.notice = notice_text(&notice);
        Ok(p)
    })
    .await
}

fn notice_text(n: &Notice) -> Option<String> {
    let what = n.what.as_deref().unwrap_or("the watchlist changed");
    let recorded =
        format!("{what}: written to {MANAGED_FILE} and recorded in the log as watchlist.changed");
    match n.done.as_deref()? {
        "applied" => Some(format!(
            "{recorded}; the daemon reloaded and it is in force."
        )),
        "rejected" => Some(format!(
            "{recorded}, but the daemon rejected the reload (see its log); the running \
             configuration stays in force."
        )),
        "pending" => Some(format!(
            "{recorded}; the daemon has not reloaded yet (see its log)."
        )),
        "saved" => Some(format!(
            "{recorded}; no daemon runs in this process, so it takes effect at the next start."
        )),
        _ => None,
    }
}

fn watchlist_page(store: &Store, config: &Config) -> Result<WatchlistPage, PageError> {
    let now = Utc::now();
    // Which items are the managed file's (editable here); a file that cannot be read or
    // parsed just makes nothing editable, and an edit then says why.
    let managed = ManagedFile::read(&config.source).ok();
    let managed_body = |kind: ItemKind, id: &str| {
        managed
            .as_ref()
            .and_then(|m| m.find(kind, id))
            .map(|b| b.body.clone())
    };
    Ok(WatchlistPage {
        managed_file: managed::managed_path(&config.source).display().to_string(),
        notice: None,
        error: None,
        draft: None,
        actors: config
            .actors
            .iter()
            .map(|a| ActorRow {
                actor: actor_ref(config, &a.spec.id),
                kind: format!("{:?}", a.kind).to_lowercase(),
                aliases: a.spec.aliases.join(", "),
                roles: roles_of(&a.spec),
                managed: managed_body(ItemKind::Actor, &a.spec.id),
            })
            .collect(),
        groups: config
            .groups
            .iter()
            .map(|g| GroupRow {
                id: g.id.clone(),
                members: g.members.iter().map(|m| actor_ref(config, m)).collect(),
                managed: managed_body(ItemKind::Group, &g.id),
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
                managed: managed_body(ItemKind::Rule, &r.id),
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
}

/// The edit forms: one item's TOML (`toml`), or the add forms' fields, which become TOML.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EditForm {
    /// `actor`, `group` or `rule`.
    kind: String,
    /// The managed item edited; empty to add one.
    #[serde(default)]
    original: String,
    /// `save` (default) or `remove`.
    #[serde(default)]
    action: String,
    /// The item's keys as TOML, when edited as text.
    toml: Option<String>,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    actor_kind: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    aliases: String,
    #[serde(default)]
    members: String,
    #[serde(default)]
    actors: String,
    #[serde(default)]
    min_actors: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    event_types: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    notify: String,
    #[serde(default)]
    cooldown: String,
}

impl EditForm {
    /// The change the form asks for.
    fn change(&self) -> Result<Change, Error> {
        let kind = ItemKind::parse(&self.kind)
            .ok_or_else(|| Error::Usage(format!("unknown item kind {:?}", self.kind)))?;
        let original = Some(self.original.trim().to_string()).filter(|o| !o.is_empty());
        if self.action == "remove" {
            let id = original.ok_or_else(|| Error::Usage("nothing to remove".into()))?;
            return Ok(Change::Remove { kind, id });
        }
        let body = match &self.toml {
            Some(text) => text.replace("\r\n", "\n"),
            None => managed::render_body(&self.table(kind)),
        };
        Ok(Change::Put {
            kind,
            original,
            body,
        })
    }

    /// The add form's fields as the item's table; empty optional fields are left out, and
    /// whatever is given is validated with the rest of the config.
    fn table(&self, kind: ItemKind) -> toml::Table {
        let mut t = toml::Table::new();
        let text = |t: &mut toml::Table, key: &str, v: &str| {
            if !v.trim().is_empty() {
                t.insert(key.into(), toml::Value::String(v.trim().into()));
            }
        };
        let list = |t: &mut toml::Table, key: &str, v: &str| {
            let items: Vec<toml::Value> = v
                .split([',', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.into()))
                .collect();
            if !items.is_empty() {
                t.insert(key.into(), toml::Value::Array(items));
            }
        };
        t.insert("id".into(), toml::Value::String(self.id.trim().into()));
        match kind {
            ItemKind::Actor => {
                text(&mut t, "name", &self.name);
                text(&mut t, "kind", &self.actor_kind);
                text(&mut t, "country", &self.country);
                list(&mut t, "aliases", &self.aliases);
            }
            ItemKind::Group => list(&mut t, "members", &self.members),
            ItemKind::Rule => {
                list(&mut t, "actors", &self.actors);
                match self.min_actors.trim().parse::<i64>() {
                    Ok(n) => {
                        t.insert("min_actors".into(), toml::Value::Integer(n));
                    }
                    // Not a number: kept as written, so the validation names it.
                    Err(_) => text(&mut t, "min_actors", &self.min_actors),
                }
                text(&mut t, "scope", &self.scope);
                list(&mut t, "event_types", &self.event_types);
                text(&mut t, "severity", &self.severity);
                list(&mut t, "notify", &self.notify);
                text(&mut t, "cooldown", &self.cooldown);
            }
        }
        t
    }
}

/// `POST /watchlist`: validates, writes and records the edit, reloads the daemon, and shows
/// the watchlist again (or the refusal with the edit kept, to fix it).
pub(crate) async fn edit(State(state): State<ApiState>, Form(form): Form<EditForm>) -> Response {
    let store = state.store.clone();
    let config = state.config();
    let change = match form.change() {
        Ok(c) => c,
        Err(e) => return refused(&store, &config, &form, e).await,
    };
    let reloads = state.metrics.service.reloads.load(Ordering::Acquire);
    let rejected = state
        .metrics
        .service
        .reloads_rejected
        .load(Ordering::Acquire);
    let result = {
        let (store, source, change) = (store.clone(), config.source.clone(), change.clone());
        let handle = tokio::runtime::Handle::current();
        // Loading and compiling the config is blocking work, as the other writes' log scans.
        tokio::task::spawn_blocking(move || {
            handle.block_on(commands::watchlist_edit(&store, &source, WHO, &change))
        })
        .await
        .unwrap_or_else(|join| Err(Error::Input(join.to_string())))
    };
    let edit = match result {
        Ok(edit) => edit,
        Err(e) => return refused(&store, &config, &form, e).await,
    };
    let done = if crate::signal::request_reload() {
        wait_for_reload(&state, &config, reloads, rejected).await
    } else {
        "saved"
    };
    Redirect::to(&format!(
        "/watchlist?done={done}&what={}",
        view::url_encode(&edit.change)
    ))
    .into_response()
}

/// Waits until the daemon's reload took effect (the API sees a new config) or was rejected.
async fn wait_for_reload(
    state: &ApiState,
    before: &Arc<Config>,
    reloads: u64,
    rejected: u64,
) -> &'static str {
    let deadline = tokio::time::Instant::now() + RELOAD_WAIT;
    while tokio::time::Instant::now() < deadline {
        let counters = &state.metrics.service;
        if counters.reloads_rejected.load(Ordering::Acquire) > rejected {
            return "rejected";
        }
        if counters.reloads.load(Ordering::Acquire) > reloads
            && !Arc::ptr_eq(&state.config(), before)
        {
            return "applied";
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    "pending"
}

/// The page again, with the refusal's message (for an invalid config, exactly what
/// `parley check` prints after `parley: `) and the edit kept in a form.
async fn refused(store: &Store, config: &Arc<Config>, form: &EditForm, error: Error) -> Response {
    let status = match &error {
        Error::Config(_) | Error::Usage(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = error.to_string();
    let (store, config) = (store.clone(), config.clone());
    let change = form.change().ok();
    let kind = ItemKind::parse(&form.kind).map_or("rule", ItemKind::as_str);
    let original = form.original.trim().to_string();
    let gathered = tokio::task::spawn_blocking(move || {
        let mut p = watchlist_page(&store, &config)?;
        let candidate = change
            .as_ref()
            .and_then(|c| ManagedFile::read(&config.source).ok()?.with_change(c).ok());
        p.draft = match change {
            Some(Change::Put { body, .. }) => Some(Draft {
                kind,
                original,
                body,
                candidate: candidate
                    .unwrap_or_default()
                    .lines()
                    .enumerate()
                    .map(|(i, l)| (i + 1, l.to_string()))
                    .collect(),
            }),
            _ => None,
        };
        p.error = Some(message);
        Ok::<_, PageError>(p)
    })
    .await;
    match gathered {
        Ok(Ok(p)) => (status, render(&p)).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(join) => PageError::Internal(join.to_string()).into_response(),
    }
}
