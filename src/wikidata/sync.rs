//! Builds the generated watchlist file from Wikidata and reports what changed since the last
//! sync. The file holds one `[[actor_update]]` per actor with a `wikidata` id: its labels and
//! aliases in the chosen languages, and each office it held (P39) as a dated role named by
//! the office's own labels. The file is written atomically (temporary file, fsync, rename),
//! then the config is loaded again; if it no longer validates, the previous file is put
//! back. Any failed request fails the whole sync before anything is written, so a partial
//! sync never replaces a complete one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use futures_util::future::try_join_all;
use serde::Deserialize;
use url::Url;

use super::WikidataError;
use super::atomic::replace_checked;
use super::client::Client;
use super::entity::Entity;
use crate::config::Config;

/// Default endpoint: Wikidata itself.
pub const DEFAULT_ENDPOINT: &str = "https://www.wikidata.org";
/// Default languages: the UN's six official languages and German, the languages most of
/// the world's diplomatic reporting is written in.
pub const DEFAULT_LANGUAGES: &str = "en,fr,es,ar,ru,de,zh";
/// Default generated file, relative to the main config's folder: inside the folder the
/// shipped `include = ["watchlists/*.toml"]` already reads.
pub const DEFAULT_OUT: &str = "watchlists/wikidata.toml";

/// What `parley watchlist sync` was asked to do.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Base URL of the Wikibase (no trailing path).
    pub endpoint: Url,
    /// Language codes, in order of preference (the first with a label names an office).
    pub languages: Vec<String>,
    /// The generated file.
    pub out: PathBuf,
    /// Report only: write neither the file nor the cache.
    pub dry_run: bool,
}

/// One actor of the generated file.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedActor {
    /// The `[[actor]]` id.
    pub id: String,
    /// The item the names came from.
    pub wikidata: String,
    /// Display name (from the config), for the file's comments.
    pub name: String,
    /// The item's revision when read.
    pub revision: u64,
    /// Labels and aliases in the chosen languages.
    pub aliases: Vec<String>,
    /// Offices held, dated.
    pub roles: Vec<GeneratedRole>,
}

/// One dated office.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GeneratedRole {
    /// First day (inclusive), if known.
    pub from: Option<NaiveDate>,
    /// The office's label in the first language that has one.
    pub title: String,
    /// Last day (inclusive), `None` while in office.
    pub until: Option<NaiveDate>,
    /// The office's other labels and aliases.
    pub aliases: Vec<String>,
}

/// Runs a sync: fetch, build, report to `out`, write (unless a dry run).
pub async fn run(
    config: &Config,
    opts: &SyncOptions,
    out: &mut dyn Write,
) -> Result<(), WikidataError> {
    check_languages(&opts.languages)?;
    let user_agent = format!(
        "{} (parley watchlist sync; Wikidata entity reader)",
        config.daemon.user_agent
    );
    let client = Client::new(
        &opts.endpoint,
        &user_agent,
        config.daemon.request_timeout,
        config.daemon.max_body_bytes,
        &config.daemon.state_dir,
        !opts.dry_run,
    )?;
    let actors = fetch(config, &client, &opts.languages).await?;
    for a in &actors {
        let configured = config
            .actors
            .iter()
            .find(|c| c.spec.id == a.id)
            .and_then(|c| c.wikidata.as_deref());
        if configured.is_some_and(|q| q != a.wikidata) {
            say(
                out,
                &format!(
                    "{}: {} now redirects to {}; update the actor's `wikidata` id",
                    a.id,
                    configured.unwrap_or_default(),
                    a.wikidata
                ),
            )?;
        }
    }
    let old = read_old(&opts.out)?;
    let changes = report(old.as_ref().map(|(_, o)| o), &actors);
    for line in &changes {
        say(out, line)?;
    }
    if changes.is_empty() {
        say(out, "no changes since the last sync")?;
    }
    let text = render(&actors, opts, chrono::Utc::now());
    let roles: usize = actors.iter().map(|a| a.roles.len()).sum();
    let aliases: usize = actors.iter().map(|a| a.aliases.len()).sum();
    let totals = format!(
        "{} actor(s), {roles} dated role(s), {aliases} alias(es)",
        actors.len()
    );
    if opts.dry_run {
        return say(
            out,
            &format!(
                "dry run: would write {} ({totals}); nothing written",
                opts.out.display()
            ),
        );
    }
    // The new file must leave the config valid; otherwise the daemon's next reload fails.
    replace_checked(
        &opts.out,
        &text,
        old.as_ref().map(|(previous, _)| previous.as_str()),
        &config.source,
    )?;
    say(out, &format!("wrote {} ({totals})", opts.out.display()))
}

pub(crate) fn say(out: &mut dyn Write, line: &str) -> Result<(), WikidataError> {
    writeln!(out, "{line}").map_err(|source| WikidataError::Io {
        path: "<stdout>".into(),
        source,
    })
}

/// Language codes as Wikidata writes them: `en`, `zh`, `pt-br`, `zh-hant`.
fn check_languages(languages: &[String]) -> Result<(), WikidataError> {
    if languages.is_empty() {
        return Err(WikidataError::Usage(
            "--languages: give at least one language code".into(),
        ));
    }
    for l in languages {
        let mut parts = l.split('-');
        let head = parts.next().unwrap_or_default();
        let ok = (2..=3).contains(&head.len())
            && head.bytes().all(|b| b.is_ascii_lowercase())
            && parts.all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !ok {
            return Err(WikidataError::Usage(format!(
                "--languages: {l:?} is not a language code (e.g. en, fr, zh-hant)"
            )));
        }
    }
    Ok(())
}

/// Reads every actor's item, then every office's item once, all through the client's
/// concurrency limit. The first failure fails the sync.
async fn fetch(
    config: &Config,
    client: &Client,
    languages: &[String],
) -> Result<Vec<GeneratedActor>, WikidataError> {
    let tracked: Vec<(&str, &str, &str)> = config
        .actors
        .iter()
        .filter_map(|a| {
            a.wikidata
                .as_deref()
                .map(|q| (a.spec.id.as_str(), a.spec.name.as_str(), q))
        })
        .collect();
    let people = try_join_all(tracked.iter().map(|(_, _, q)| client.entity(q))).await?;
    tracing::debug!(
        entities = people.len(),
        unchanged = people.iter().filter(|p| p.from_cache).count(),
        "Wikidata people read (unchanged: answered 304 from the revision cache)."
    );
    let positions: BTreeSet<String> = people
        .iter()
        .flat_map(|p| p.entity.positions_held())
        .map(|p| p.position)
        .collect();
    let offices: HashMap<String, Entity> = try_join_all(positions.iter().map(|q| client.entity(q)))
        .await?
        .into_iter()
        .zip(positions.iter())
        .map(|(f, q)| (q.clone(), f.entity))
        .collect();
    let mut out = Vec::new();
    for ((id, name, _), person) in tracked.iter().zip(people) {
        let e = person.entity;
        let mut roles = Vec::new();
        for held in e.positions_held() {
            let Some(office) = offices.get(&held.position) else {
                continue;
            };
            let Some(title) = office.label(languages) else {
                tracing::warn!(actor = %id, position = %held.position, "Office has no label in the chosen languages; skipped.");
                continue;
            };
            let aliases = office
                .names(languages)
                .into_iter()
                .filter(|n| n.to_lowercase() != title.to_lowercase())
                .collect();
            roles.push(GeneratedRole {
                from: held.from,
                title,
                until: held.until,
                aliases,
            });
        }
        roles.sort();
        roles.dedup();
        out.push(GeneratedActor {
            id: id.to_string(),
            wikidata: e.id.clone(),
            name: name.to_string(),
            revision: e.lastrevid,
            aliases: e.names(languages),
            roles,
        });
    }
    Ok(out)
}

/// A TOML basic string, escaped.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// The generated file's text. Deterministic for the same entities except the header's
/// time, so two syncs of an unchanged Wikidata differ in one line.
pub fn render(
    actors: &[GeneratedActor],
    opts: &SyncOptions,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let mut s = String::new();
    s.push_str(
        "# GENERATED by `parley watchlist sync`; do not edit: the next sync overwrites it.\n",
    );
    s.push_str(&format!(
        "# Made {} from {} (Wikidata entity JSON, Special:EntityData), languages: {}.\n",
        now.format("%Y-%m-%dT%H:%M:%SZ"),
        opts.endpoint.as_str().trim_end_matches('/'),
        opts.languages.join(", ")
    ));
    s.push_str(
        "# For each [[actor]] with a `wikidata` id: its labels and aliases, and each office it\n\
         # held (P39, start P580, end P582; deprecated statements skipped) as a dated role named\n\
         # by the office's own labels. Merged into the hand-written [[actor]] of the same id;\n\
         # hand-written names and roles win on conflict, so correct mistakes there or on\n\
         # Wikidata, not here. Reload the daemon (SIGHUP) after a sync.\n",
    );
    for a in actors {
        s.push_str(&format!(
            "\n# {} ({}, revision {})\n[[actor_update]]\nid = {}\nwikidata = {}\naliases = {}\n",
            a.name,
            a.wikidata,
            a.revision,
            quote(&a.id),
            quote(&a.wikidata),
            list(&a.aliases)
        ));
        if a.roles.is_empty() {
            continue;
        }
        s.push_str("roles = [\n");
        for r in &a.roles {
            s.push_str(&format!("  {{ title = {}", quote(&r.title)));
            if !r.aliases.is_empty() {
                s.push_str(&format!(", aliases = {}", list(&r.aliases)));
            }
            if let Some(f) = r.from {
                s.push_str(&format!(", from = {f}"));
            }
            if let Some(u) = r.until {
                s.push_str(&format!(", until = {u}"));
            }
            s.push_str(" },\n");
        }
        s.push_str("]\n");
    }
    s
}

/// The previous generated file, as much as the report needs.
#[derive(Debug, Default, Deserialize)]
pub struct OldFile {
    #[serde(default)]
    actor_update: Vec<OldActor>,
}

#[derive(Debug, Deserialize)]
struct OldActor {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    roles: Vec<OldRole>,
}

#[derive(Debug, Deserialize)]
struct OldRole {
    title: String,
    from: Option<toml::value::Datetime>,
    until: Option<toml::value::Datetime>,
}

/// The previous file's text and contents; `None` when there is none. An unreadable previous
/// file is reported as empty (everything is "new"), with a warning.
fn read_old(path: &Path) -> Result<Option<(String, OldFile)>, WikidataError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(WikidataError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let old = toml::from_str::<OldFile>(&text).unwrap_or_else(|error| {
        tracing::warn!(path = %path.display(), %error, "Previous generated file unreadable; reporting everything as new.");
        OldFile::default()
    });
    Ok(Some((text, old)))
}

/// What changed between the previous file and this sync, one line per change: new and
/// ended offices, removed offices, and new aliases, per actor in config order.
pub fn report(old: Option<&OldFile>, new: &[GeneratedActor]) -> Vec<String> {
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    let old_date = |d: &Option<toml::value::Datetime>| d.as_ref().map(|d| d.to_string());
    let previous: BTreeMap<&str, &OldActor> = old
        .map(|o| o.actor_update.iter().map(|a| (a.id.as_str(), a)).collect())
        .unwrap_or_default();
    let mut lines = Vec::new();
    for a in new {
        let who = format!("{} ({})", a.id, a.wikidata);
        let before = previous.get(a.id.as_str());
        // Roles keyed by (title, from): a term's end changing is the same term ending.
        let old_roles: BTreeMap<(String, Option<String>), Option<String>> = before
            .map(|b| {
                b.roles
                    .iter()
                    .map(|r| ((r.title.clone(), old_date(&r.from)), old_date(&r.until)))
                    .collect()
            })
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        for r in &a.roles {
            let key = (r.title.clone(), date(r.from));
            seen.insert(key.clone());
            let since = r.from.map(|f| format!(" from {f}")).unwrap_or_default();
            match (old_roles.get(&key), date(r.until)) {
                (None, None) => lines.push(format!("{who}: new office {:?}{since}", r.title)),
                (None, Some(u)) => lines.push(format!(
                    "{who}: new office {:?}{since} (ended {u})",
                    r.title
                )),
                (Some(None), Some(u)) => {
                    lines.push(format!("{who}: ended office {:?} on {u}", r.title));
                }
                (Some(Some(was)), Some(u)) if *was != u => lines.push(format!(
                    "{who}: office {:?} now ends {u} (was {was})",
                    r.title
                )),
                (Some(Some(was)), None) => lines.push(format!(
                    "{who}: office {:?} no longer ends {was} (in office again)",
                    r.title
                )),
                _ => {}
            }
        }
        for (title, from) in old_roles.keys().filter(|k| !seen.contains(*k)) {
            let since = from
                .as_ref()
                .map(|f| format!(" from {f}"))
                .unwrap_or_default();
            lines.push(format!(
                "{who}: office {title:?}{since} is no longer on Wikidata"
            ));
        }
        let old_aliases: BTreeSet<String> = before
            .map(|b| b.aliases.iter().map(|s| s.to_lowercase()).collect())
            .unwrap_or_default();
        let added: Vec<&str> = a
            .aliases
            .iter()
            .filter(|s| !old_aliases.contains(&s.to_lowercase()))
            .map(String::as_str)
            .collect();
        if !added.is_empty() {
            lines.push(format!("{who}: new aliases: {}", added.join(", ")));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn opts() -> SyncOptions {
        SyncOptions {
            endpoint: Url::parse("http://127.0.0.1:1").unwrap(),
            languages: vec!["en".into(), "ru".into()],
            out: PathBuf::from("w.toml"),
            dry_run: false,
        }
    }

    fn actor(until: Option<NaiveDate>, aliases: &[&str]) -> GeneratedActor {
        GeneratedActor {
            id: "ann".into(),
            wikidata: "Q1".into(),
            name: "Ann \"Q\" Example".into(),
            revision: 3,
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            roles: vec![GeneratedRole {
                from: d("2021-01-26"),
                title: "Mayor of X".into(),
                until,
                aliases: vec!["Мэр X".into()],
            }],
        }
    }

    #[test]
    fn rendered_file_reads_back_and_reports_endings_and_new_aliases() {
        // The change report compares against the previous file, so render and read must
        // agree, and quoting must survive names with quotes.
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-08T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let first = render(&[actor(None, &["Ann \"Q\" Example"])], &opts(), now);
        let old: OldFile = toml::from_str(&first).unwrap();
        let same = report(Some(&old), &[actor(None, &["Ann \"Q\" Example"])]);
        assert!(same.is_empty(), "{same:?}");
        let later = report(
            Some(&old),
            &[actor(d("2025-01-20"), &["ann \"q\" example", "Энн"])],
        );
        assert_eq!(
            later,
            vec![
                "ann (Q1): ended office \"Mayor of X\" on 2025-01-20".to_string(),
                "ann (Q1): new aliases: Энн".to_string(),
            ]
        );
        let fresh = report(None, &[actor(None, &["Ann"])]);
        assert_eq!(
            fresh,
            vec![
                "ann (Q1): new office \"Mayor of X\" from 2021-01-26".to_string(),
                "ann (Q1): new aliases: Ann".to_string(),
            ]
        );
    }

    #[test]
    fn language_codes_are_checked() {
        // A typo like "EN" or "en fr" would silently yield no names at all.
        let ok: Vec<String> = ["en", "zh-hant", "pt-br"].map(String::from).to_vec();
        assert!(check_languages(&ok).is_ok());
        for bad in ["EN", "en fr", "", "english", "zh-"] {
            assert!(check_languages(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
