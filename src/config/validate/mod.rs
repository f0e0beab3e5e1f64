//! Phase two: raw tables in, a checked [`Config`] out.
//!
//! Order matters only for references: feeds, actors and notifiers are built first (from every
//! file), then groups (which name actors), then rules (which name actors, groups and
//! notifiers). Every error is located at the value it is about and names the id or URL.
//!
//! [`build`] here runs that order; the checks of each kind of table are one file each:
//! `settings` (`[daemon]`, `[api]`, `[log]`), `feeds`, `actors` (actors and groups),
//! `updates` (`[[actor_update]]` and its merge), `rules`, `notifiers` and `email`, all on the
//! shared value checks in `values` (`${VAR}`, ids, durations, dates, secrets).

mod actors;
mod email;
mod feeds;
mod notifiers;
mod rules;
mod settings;
mod updates;
mod values;

pub use actors::is_wikidata_id;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use toml::Spanned;

use crate::config::raw::{RawApi, RawDaemon, RawFile, RawLog, SourceFile};
use crate::config::{Config, ConfigError, FeedConfig, GroupConfig};
use crate::feed::FeedLocation;
use actors::check_wikidata_unique;
use updates::apply_updates;

/// Looks up an environment variable (the real environment, or a map in tests).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Builds the validated config from the parsed files; `files[0]` is the main file.
pub(crate) fn build(
    source: PathBuf,
    files: &[(SourceFile, RawFile)],
    env: EnvLookup<'_>,
) -> Result<Config, ConfigError> {
    let b = Builder { env };
    let Some((main, main_raw)) = files.first() else {
        return Err(ConfigError {
            location: source.display().to_string(),
            message: "no config file to build from".to_string(),
        });
    };
    let default_daemon = Spanned::new(0..0, RawDaemon::default());
    let daemon = b.daemon(main, main_raw.daemon.as_ref().unwrap_or(&default_daemon))?;
    let default_api = Spanned::new(0..0, RawApi::default());
    let api = b.api(main, main_raw.api.as_ref().unwrap_or(&default_api))?;
    let default_log = Spanned::new(0..0, RawLog::default());
    let log = b.log(main, main_raw.log.as_ref().unwrap_or(&default_log))?;

    let mut feeds = Vec::new();
    let mut seen_feeds: HashMap<FeedLocation, String> = HashMap::new();
    let mut actors = Vec::new();
    let mut seen_actors: HashMap<String, String> = HashMap::new();
    let mut notifiers = Vec::new();
    let mut seen_notifiers: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for feed in &raw.feed {
            feeds.push(b.feed(file, feed, &daemon, &mut seen_feeds)?);
        }
        for actor in &raw.actor {
            actors.push(b.actor(file, actor, &mut seen_actors)?);
        }
        for notifier in &raw.notifier {
            notifiers.push(b.notifier(file, notifier, &mut seen_notifiers)?);
        }
    }
    check_wikidata_unique(files, &actors)?;
    let mut updates = Vec::new();
    let mut seen_updates: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for update in &raw.actor_update {
            updates.push(b.actor_update(file, update, &mut seen_updates)?);
        }
    }
    apply_updates(&mut actors, updates);

    let mut groups = Vec::new();
    let mut seen_groups: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for group in &raw.group {
            groups.push(b.group(file, group, &seen_actors, &mut seen_groups)?);
        }
    }

    let group_members: HashMap<&str, &[String]> = groups
        .iter()
        .map(|g: &GroupConfig| (g.id.as_str(), g.members.as_slice()))
        .collect();
    let feed_names: HashSet<&str> = feeds.iter().map(|f: &FeedConfig| f.name.as_str()).collect();
    let refs = Refs {
        actors: &seen_actors,
        groups: &group_members,
        notifiers: &seen_notifiers,
        feeds: &feed_names,
    };
    let mut rules = Vec::new();
    let mut seen_rules: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for rule in &raw.rule {
            rules.push(b.rule(file, rule, &refs, &mut seen_rules)?);
        }
    }

    Ok(Config {
        source,
        daemon,
        api,
        log,
        feeds,
        actors,
        groups,
        rules,
        notifiers,
    })
}

/// What rules may refer to.
struct Refs<'a> {
    actors: &'a HashMap<String, String>,
    groups: &'a HashMap<&'a str, &'a [String]>,
    notifiers: &'a HashMap<String, String>,
    feeds: &'a HashSet<&'a str>,
}

/// Validates raw tables into config values. Its methods are spread over this module's files,
/// one file per kind of table; it carries what every check needs: how to look up `${VAR}`.
struct Builder<'a> {
    env: EnvLookup<'a>,
}

#[cfg(test)]
mod tests;
