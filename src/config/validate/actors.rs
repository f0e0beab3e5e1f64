//! `[[actor]]` and `[[group]]`: ids, names, aliases, dated roles and Wikidata items, and the
//! groups that name actors. One Wikidata item per actor is checked across files here.

use std::collections::HashMap;

use toml::Spanned;

use super::Builder;
use crate::config::raw::{RawActor, RawFile, RawGroup, RawRole, SourceFile, Str};
use crate::config::{ActorConfig, ActorKind, ConfigError, GroupConfig};
use crate::extract::{ActorSpec, RoleSpec};

/// True for a Wikidata item id: `Q` then digits, no leading zero. Public so the sync refuses
/// the same ids the config does.
pub fn is_wikidata_id(s: &str) -> bool {
    s.strip_prefix('Q').is_some_and(|d| {
        !d.is_empty()
            && !d.starts_with('0')
            && d.len() <= 12
            && d.bytes().all(|b| b.is_ascii_digit())
    })
}

/// One Wikidata item per actor: two actors on one item would both receive its names, and
/// every mention would count twice. The error points at the second actor's `wikidata`.
pub(super) fn check_wikidata_unique(
    files: &[(SourceFile, RawFile)],
    actors: &[ActorConfig],
) -> Result<(), ConfigError> {
    let mut first: HashMap<&str, (&str, String)> = HashMap::new();
    let raw = files
        .iter()
        .flat_map(|(file, raw)| raw.actor.iter().map(move |a| (file, a)));
    for ((file, raw), actor) in raw.zip(actors) {
        let (Some(q), Some(span)) = (
            actor.wikidata.as_deref(),
            raw.get_ref().wikidata.as_ref().map(|w| w.span()),
        ) else {
            continue;
        };
        if let Some((other, at)) = first.get(q) {
            return Err(file.err(
                &span,
                format!(
                    "actor {:?}: wikidata {q:?} is already the item of actor {other:?} ({at})",
                    actor.spec.id
                ),
            ));
        }
        first.insert(q, (actor.spec.id.as_str(), file.at(&span)));
    }
    Ok(())
}

impl Builder<'_> {
    pub(super) fn actor(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawActor>,
        seen: &mut HashMap<String, String>,
    ) -> Result<ActorConfig, ConfigError> {
        let a = raw.get_ref();
        let id = self.id(file, &a.id, "actor", seen)?;
        let name = self.nonempty(file, &a.name, &format!("actor {id:?}: name"))?;
        let kind = match &a.kind {
            None => ActorKind::Person,
            Some(k) => match self.text(file, k)?.trim() {
                "person" => ActorKind::Person,
                "org" => ActorKind::Org,
                "country" => ActorKind::Country,
                other => {
                    return Err(file.err(
                        &k.span(),
                        format!(
                            "actor {id:?}: unknown kind {other:?} (expected person, org or country)"
                        ),
                    ));
                }
            },
        };
        let country = match &a.country {
            None => None,
            Some(c) => {
                let code = self.text(file, c)?.trim().to_ascii_uppercase();
                if !(2..=3).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphabetic())
                {
                    return Err(file.err(
                        &c.span(),
                        format!(
                            "actor {id:?}: country {code:?} is not an ISO 3166 code (e.g. \"US\")"
                        ),
                    ));
                }
                Some(code)
            }
        };
        let mut aliases = self.alias_list(file, a.aliases.as_deref(), &format!("actor {id:?}"))?;
        if aliases.is_empty() {
            aliases.push(name.clone());
        }
        let roles = self.roles(file, a.roles.as_deref(), &id)?;
        let wikidata = a
            .wikidata
            .as_ref()
            .map(|w| self.wikidata_id(file, w, &id))
            .transpose()?;
        Ok(ActorConfig {
            spec: ActorSpec {
                id,
                name,
                aliases,
                roles,
            },
            kind,
            country,
            wikidata,
        })
    }

    /// A Wikidata item id: `Q` and digits (`Q1234`), written as is.
    pub(super) fn wikidata_id(
        &self,
        file: &SourceFile,
        s: &Str,
        id: &str,
    ) -> Result<String, ConfigError> {
        let value = self.text(file, s)?.trim().to_string();
        if is_wikidata_id(&value) {
            Ok(value)
        } else {
            Err(file.err(
                &s.span(),
                format!(
                    "actor {id:?}: wikidata {value:?} is not a Wikidata item id (expected Q and digits, e.g. \"Q1234\")"
                ),
            ))
        }
    }

    /// An actor's `roles`: titles, aliases and inclusive dates, `from` not after `until`.
    pub(super) fn roles(
        &self,
        file: &SourceFile,
        raw: Option<&[Spanned<RawRole>]>,
        id: &str,
    ) -> Result<Vec<RoleSpec>, ConfigError> {
        let mut roles = Vec::new();
        for role in raw.unwrap_or_default() {
            let r = role.get_ref();
            let title = self.nonempty(file, &r.title, &format!("actor {id:?}: role title"))?;
            let what = format!("actor {id:?}: role {title:?}");
            let role_aliases = self.alias_list(file, r.aliases.as_deref(), &what)?;
            let from = r
                .from
                .as_ref()
                .map(|v| self.date(file, v, &format!("{what}: from")))
                .transpose()?;
            let until = r
                .until
                .as_ref()
                .map(|v| self.date(file, v, &format!("{what}: until")))
                .transpose()?;
            if let (Some(f), Some(u), Some(span)) = (from, until, r.from.as_ref().map(|v| v.span()))
                && f > u
            {
                return Err(file.err(
                    &span,
                    format!("{what}: `from` ({f}) is after `until` ({u})"),
                ));
            }
            roles.push(RoleSpec {
                title,
                aliases: role_aliases,
                from,
                until,
            });
        }
        Ok(roles)
    }

    /// Aliases, trimmed, de-duplicated in order; an empty one is an error.
    pub(super) fn alias_list(
        &self,
        file: &SourceFile,
        raw: Option<&[Str]>,
        what: &str,
    ) -> Result<Vec<String>, ConfigError> {
        let mut out: Vec<String> = Vec::new();
        for alias in raw.unwrap_or_default() {
            let value = self.nonempty(file, alias, &format!("{what}: alias"))?;
            if !out.contains(&value) {
                out.push(value);
            }
        }
        Ok(out)
    }

    pub(super) fn group(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawGroup>,
        actors: &HashMap<String, String>,
        seen: &mut HashMap<String, String>,
    ) -> Result<GroupConfig, ConfigError> {
        let g = raw.get_ref();
        let id = self.id(file, &g.id, "group", seen)?;
        if g.members.get_ref().is_empty() {
            return Err(file.err(&g.members.span(), format!("group {id:?} has no members")));
        }
        let mut members: Vec<String> = Vec::new();
        for m in g.members.get_ref() {
            let member = self.text(file, m)?.trim().to_string();
            if let Some(nested) = member.strip_prefix("group:") {
                let what = if nested == id {
                    "the group includes itself".to_string()
                } else {
                    format!("it includes group {nested:?}")
                };
                return Err(file.err(
                    &m.span(),
                    format!(
                        "group {id:?}: members: {what}; groups hold actor ids only and cannot nest"
                    ),
                ));
            }
            if !actors.contains_key(&member) {
                return Err(file.err(
                    &m.span(),
                    format!("group {id:?}: unknown actor {member:?} (members must be actor ids)"),
                ));
            }
            if members.contains(&member) {
                return Err(file.err(
                    &m.span(),
                    format!("group {id:?}: actor {member:?} is listed twice"),
                ));
            }
            members.push(member);
        }
        Ok(GroupConfig { id, members })
    }
}
