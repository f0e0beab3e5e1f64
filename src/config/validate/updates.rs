//! `[[actor_update]]`: the tables `parley watchlist sync` generates, validated like an actor's
//! own names and roles and then merged into the hand-written actors, which win every
//! conflict.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use toml::Spanned;

use super::Builder;
use crate::config::raw::{RawActorUpdate, SourceFile};
use crate::config::{ActorConfig, ConfigError};
use crate::extract::RoleSpec;

/// A validated `[[actor_update]]`, waiting for every `[[actor]]` to be known.
pub(super) struct ActorUpdate {
    id: String,
    aliases: Vec<String>,
    roles: Vec<RoleSpec>,
    /// `file:line` of its id, for the warning when no actor has that id.
    at: String,
}

/// The key two names are compared by when merging: lower case, single spaces. A proxy for
/// the extractor's normalisation that is good enough to spot the same name written twice.
fn name_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// True when two inclusive, possibly open date ranges share a day.
fn overlaps(a: &RoleSpec, b: &RoleSpec) -> bool {
    let starts_before_end = |from: Option<NaiveDate>, until: Option<NaiveDate>| match (from, until)
    {
        (Some(f), Some(u)) => f <= u,
        _ => true,
    };
    starts_before_end(a.from, b.until) && starts_before_end(b.from, a.until)
}

/// Merges `[[actor_update]]` tables into the actors they name. The hand-written `[[actor]]`
/// tables win every conflict, because an operator's correction must survive the next sync:
/// - an alias another actor has by hand is dropped (it would make both match);
/// - a role whose title the actor already has by hand is dropped (the hand-written dates
///   win);
/// - a role name (title or alias) that another actor holds by hand over overlapping dates
///   is dropped (the hand-written holder wins); a role with no name left is dropped.
///
/// An update naming no actor is skipped with a warning, not an error: removing an actor
/// from a hand-written file must not break the config until the next sync.
pub(super) fn apply_updates(actors: &mut [ActorConfig], updates: Vec<ActorUpdate>) {
    if updates.is_empty() {
        return;
    }
    let mut name_owner: HashMap<String, String> = HashMap::new();
    let mut hand_roles: Vec<(String, String, RoleSpec)> = Vec::new();
    for a in actors.iter() {
        for alias in &a.spec.aliases {
            name_owner
                .entry(name_key(alias))
                .or_insert_with(|| a.spec.id.clone());
        }
        for r in &a.spec.roles {
            for name in std::iter::once(&r.title).chain(&r.aliases) {
                hand_roles.push((a.spec.id.clone(), name_key(name), r.clone()));
            }
        }
    }
    for update in updates {
        let Some(actor) = actors.iter_mut().find(|a| a.spec.id == update.id) else {
            tracing::warn!(actor = %update.id, at = %update.at, "actor_update names no [[actor]]; ignored.");
            continue;
        };
        let id = actor.spec.id.clone();
        let taken_by_other = |key: &str| name_owner.get(key).is_some_and(|owner| *owner != id);
        for alias in update.aliases {
            let key = name_key(&alias);
            let known = actor.spec.aliases.iter().any(|a| name_key(a) == key);
            if !known && !taken_by_other(&key) {
                actor.spec.aliases.push(alias);
            }
        }
        let own_titles: HashSet<String> = hand_roles
            .iter()
            .filter(|(owner, _, _)| *owner == id)
            .map(|(_, _, r)| name_key(&r.title))
            .collect();
        for role in update.roles {
            if own_titles.contains(&name_key(&role.title)) {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            for name in std::iter::once(&role.title).chain(&role.aliases) {
                let key = name_key(name);
                let held_by_other = hand_roles
                    .iter()
                    .any(|(owner, k, r)| *owner != id && *k == key && overlaps(r, &role));
                let dup = names.iter().any(|n| name_key(n) == key);
                if !held_by_other && !taken_by_other(&key) && !dup {
                    names.push(name.clone());
                }
            }
            let mut names = names.into_iter();
            let Some(title) = names.next() else { continue };
            actor.spec.roles.push(RoleSpec {
                title,
                aliases: names.collect(),
                from: role.from,
                until: role.until,
            });
        }
    }
}

impl Builder<'_> {
    /// One `[[actor_update]]`, checked like an actor's own names and roles; its id is claimed
    /// in `seen` so two updates of one actor are an error rather than a silent merge.
    pub(super) fn actor_update(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawActorUpdate>,
        seen: &mut HashMap<String, String>,
    ) -> Result<ActorUpdate, ConfigError> {
        let u = raw.get_ref();
        let id = self.id(file, &u.id, "actor_update", seen)?;
        if let Some(w) = &u.wikidata {
            self.wikidata_id(file, w, &id)?;
        }
        let aliases =
            self.alias_list(file, u.aliases.as_deref(), &format!("actor_update {id:?}"))?;
        let roles = self.roles(file, u.roles.as_deref(), &id)?;
        Ok(ActorUpdate {
            at: file.at(&u.id.span()),
            id,
            aliases,
            roles,
        })
    }
}
