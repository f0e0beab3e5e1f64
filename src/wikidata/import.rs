//! `parley watchlist import`: adds the holders of chosen offices (heads of state, heads of
//! government, foreign ministers) as actors with their Wikidata ids, then syncs them so they
//! get names in other languages and dated roles.
//!
//! The holders come from one SPARQL query per kind of office (see `positions`). Each becomes
//! an `[[actor]]` of one generated file (default `watchlists/wikidata-import.toml`) with a
//! stable id made from its English label. A holder already in the watchlists is not added
//! twice: not when another file has an actor with the same `wikidata` id, and not when a
//! hand-written actor without an id has the holder's name (the report says to give it the
//! id instead). Actors of an earlier import stay, under the ids they were given, so
//! re-imports neither duplicate nor rename anyone.
//!
//! The file is written like the sync's: whole or not at all, and put back if the config no
//! longer loads with it. If the sync that follows fails, the import file is put back too,
//! so a failed run changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use futures_util::future::try_join_all;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;
use url::Url;

use super::WikidataError;
use super::atomic::{replace_checked, restore};
use super::positions::{Countries, PositionKind, query};
use super::sparql::{Row, SparqlClient, item_id};
use super::sync::{self, SyncOptions, say};
use crate::config::{ActorConfig, ActorKind, Config};
use crate::extract::ActorSpec;

/// Default generated file, relative to the main config's folder (read by the shipped
/// `include = ["watchlists/*.toml"]`).
pub const DEFAULT_OUT: &str = "watchlists/wikidata-import.toml";

/// What `parley watchlist import` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The SPARQL endpoint queries are sent to.
    pub endpoint: Url,
    /// Which offices, without repeats.
    pub positions: Vec<PositionKind>,
    /// Which countries.
    pub countries: Countries,
    /// Also holders whose term ended on or after this day; `None`: current holders only.
    pub since: Option<NaiveDate>,
    /// The generated actors file.
    pub out: PathBuf,
    /// Report only: write nothing (the sync that follows is a dry run too).
    pub dry_run: bool,
    /// The sync run afterwards (its `dry_run` follows this one's).
    pub sync: SyncOptions,
}

impl ImportOptions {
    /// Options from command-line values; `out` and `sync_out` default to the generated
    /// files next to the config.
    #[allow(clippy::too_many_arguments)]
    pub fn from_args(
        config_source: &Path,
        endpoint: &Url,
        positions: &[String],
        countries: &[String],
        since: Option<NaiveDate>,
        out: Option<PathBuf>,
        dry_run: bool,
        entity_endpoint: &Url,
        languages: &[String],
    ) -> Result<ImportOptions, WikidataError> {
        let mut kinds = positions
            .iter()
            .map(|p| PositionKind::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        kinds.sort();
        kinds.dedup();
        if kinds.is_empty() {
            return Err(WikidataError::Usage(
                "--positions: name at least one kind of office".into(),
            ));
        }
        let dir = config_source.parent().unwrap_or(Path::new("."));
        Ok(ImportOptions {
            endpoint: endpoint.clone(),
            positions: kinds,
            countries: Countries::parse(countries)?,
            since,
            out: out.unwrap_or_else(|| dir.join(DEFAULT_OUT)),
            dry_run,
            sync: SyncOptions {
                endpoint: entity_endpoint.clone(),
                languages: languages.iter().map(|l| l.trim().to_string()).collect(),
                out: dir.join(sync::DEFAULT_OUT),
                dry_run,
            },
        })
    }
}

/// A person the queries found, with every (country, office) they were found for.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    /// The item id.
    pub wikidata: String,
    /// The English (else multilingual) label; the item id when it has neither.
    pub label: String,
    /// (ISO code, kind of office).
    pub offices: BTreeSet<(String, PositionKind)>,
}

/// One `[[actor]]` of the generated file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ImportedActor {
    /// The actor id (kept across re-imports).
    pub id: String,
    /// Display name: the label when first imported.
    pub name: String,
    /// ISO code, when the holder was found for one country only.
    #[serde(default)]
    pub country: Option<String>,
    /// The item id.
    pub wikidata: String,
    /// What the holder was found as, for the file's comment.
    #[serde(skip)]
    pub found_as: String,
}

/// The previous generated file, as the import reads it back.
#[derive(Debug, Default, Deserialize)]
struct PreviousFile {
    #[serde(default)]
    actor: Vec<ImportedActor>,
}

/// What an import will write and say.
#[derive(Debug, Default)]
pub struct Plan {
    /// Every actor of the new file, sorted by id.
    pub actors: Vec<ImportedActor>,
    /// Report lines for the actors added by this import.
    pub added: Vec<String>,
    /// Report lines for holders not added because the watchlists already have them.
    pub skipped: Vec<String>,
    /// Holders found that an earlier import already added.
    pub kept: usize,
}

/// Runs an import: query, plan, report, write (unless a dry run), sync.
pub async fn run(
    config: &Config,
    opts: &ImportOptions,
    out: &mut dyn Write,
) -> Result<(), WikidataError> {
    let user_agent = format!(
        "{} (parley watchlist import; Wikidata SPARQL reader)",
        config.daemon.user_agent
    );
    let client = SparqlClient::new(
        &opts.endpoint,
        &user_agent,
        config.daemon.request_timeout,
        config.daemon.max_body_bytes,
    )?;
    // Every query must answer before anything is written: a partial import is no import.
    let answers = try_join_all(opts.positions.iter().map(|&kind| {
        let text = query(kind, &opts.countries, opts.since);
        let client = &client;
        async move {
            client
                .select(kind.name(), &text)
                .await
                .map(|rows| (kind, rows))
        }
    }))
    .await?;
    let cutoff = opts
        .since
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let found = holders(&answers, cutoff);
    let previous = read_previous(&opts.out)?;
    let plan = plan(
        config,
        previous.as_ref().map(|(_, p)| p.as_slice()).unwrap_or(&[]),
        &found,
    );
    for line in plan.added.iter().chain(&plan.skipped) {
        say(out, line)?;
    }
    let totals = format!(
        "{} holder(s) found: {} added, {} from an earlier import, {} already in the watchlists",
        found.len(),
        plan.added.len(),
        plan.kept,
        plan.skipped.len()
    );
    say(out, &totals)?;
    if opts.dry_run {
        say(
            out,
            &format!(
                "dry run: would write {} ({} actor(s)); nothing written",
                opts.out.display(),
                plan.actors.len()
            ),
        )?;
        // Preview the sync too, with the new actors as if they had been written.
        let mut preview = config.clone();
        let known: HashSet<&str> = config.actors.iter().map(|a| a.spec.id.as_str()).collect();
        preview.actors.extend(
            plan.actors
                .iter()
                .filter(|a| !known.contains(a.id.as_str()))
                .map(actor_config),
        );
        return sync::run(&preview, &opts.sync, out).await;
    }
    let text = render(&plan.actors, opts, chrono::Utc::now());
    let previous_text = previous.as_ref().map(|(t, _)| t.as_str());
    let reloaded = replace_checked(&opts.out, &text, previous_text, &config.source)?;
    say(
        out,
        &format!(
            "wrote {} ({} actor(s))",
            opts.out.display(),
            plan.actors.len()
        ),
    )?;
    let included = plan
        .actors
        .iter()
        .all(|a| reloaded.actors.iter().any(|c| c.spec.id == a.id));
    if !included {
        return say(
            out,
            &format!(
                "note: the config does not include {}; add it to `include` and run `parley watchlist sync`",
                opts.out.display()
            ),
        );
    }
    if let Err(error) = sync::run(&reloaded, &opts.sync, out).await {
        let undone = match restore(&opts.out, previous_text) {
            Ok(()) => "was put back as it was",
            Err(_) => "could NOT be put back",
        };
        say(
            out,
            &format!("the sync failed; {} {undone}", opts.out.display()),
        )?;
        return Err(error);
    }
    Ok(())
}

/// An imported actor as the config would load it (for the dry run's sync preview).
fn actor_config(a: &ImportedActor) -> ActorConfig {
    ActorConfig {
        spec: ActorSpec {
            id: a.id.clone(),
            name: a.name.clone(),
            aliases: vec![a.name.clone()],
            roles: Vec::new(),
        },
        kind: ActorKind::Person,
        country: a.country.clone(),
        wikidata: Some(a.wikidata.clone()),
    }
}

/// The day an `xsd:dateTime` value falls on (`2025-01-20T00:00:00Z`); `None` when it is
/// not a date this reader understands.
fn day(value: &str) -> Option<NaiveDate> {
    let date = value.trim_start_matches('+').split('T').next()?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// The people the answers name, one per item. A row whose term ended before `cutoff` is
/// dropped: the endpoint filters too, but a lax or stale answer must not bring in people
/// outside the window asked for.
pub fn holders(answers: &[(PositionKind, Vec<Row>)], cutoff: NaiveDate) -> Vec<Holder> {
    let mut by_item: BTreeMap<(u64, String), Holder> = BTreeMap::new();
    for (kind, rows) in answers {
        for row in rows {
            let Some(item) = row.get("person").and_then(item_id) else {
                continue;
            };
            let Some(iso) = row
                .get("iso")
                .map(|t| t.value.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
            else {
                continue;
            };
            if row
                .get("end")
                .and_then(|t| day(&t.value))
                .is_some_and(|end| end < cutoff)
            {
                continue;
            }
            let label = row
                .get("personLabel")
                .map(|t| t.value.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| item.clone());
            // Numeric order: older items first, so the first of two namesakes keeps the
            // plain id on every run.
            let number = item[1..].parse().unwrap_or(u64::MAX);
            by_item
                .entry((number, item.clone()))
                .or_insert_with(|| Holder {
                    wikidata: item.clone(),
                    label,
                    offices: BTreeSet::new(),
                })
                .offices
                .insert((iso, *kind));
        }
    }
    by_item.into_values().collect()
}

/// Decides which holders become actors, under which ids, and what to report.
pub fn plan(config: &Config, previous: &[ImportedActor], found: &[Holder]) -> Plan {
    let previous_ids: HashSet<&str> = previous.iter().map(|a| a.id.as_str()).collect();
    // Actors of other files: the generated file's own actors are re-made below.
    let others: Vec<&ActorConfig> = config
        .actors
        .iter()
        .filter(|a| !previous_ids.contains(a.spec.id.as_str()))
        .collect();
    let mut taken: HashSet<String> = config.actors.iter().map(|a| a.spec.id.clone()).collect();
    taken.extend(previous.iter().map(|a| a.id.clone()));
    let mut actors: BTreeMap<String, ImportedActor> = previous
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.found_as = "from an earlier import".into();
            (a.wikidata.clone(), a)
        })
        .collect();
    let mut plan = Plan::default();
    for h in found {
        let found_as = describe(h);
        if let Some(a) = actors.get_mut(&h.wikidata) {
            a.found_as = found_as;
            plan.kept += 1;
            continue;
        }
        if let Some(a) = others
            .iter()
            .find(|a| a.wikidata.as_deref() == Some(h.wikidata.as_str()))
        {
            plan.skipped.push(format!(
                "skipped {} ({}): already in the watchlists as actor {:?}",
                h.label, h.wikidata, a.spec.id
            ));
            continue;
        }
        let wanted = fold(&h.label);
        if let Some(a) = others.iter().find(|a| {
            a.wikidata.is_none()
                && std::iter::once(&a.spec.name)
                    .chain(&a.spec.aliases)
                    .any(|n| fold(n) == wanted)
        }) {
            plan.skipped.push(format!(
                "skipped {} ({}): hand-written actor {:?} has this name; give it `wikidata = \"{}\"` to sync it",
                h.label, h.wikidata, a.spec.id, h.wikidata
            ));
            continue;
        }
        let id = unique_id(&h.label, &h.wikidata, &taken);
        taken.insert(id.clone());
        let countries: BTreeSet<&str> = h.offices.iter().map(|(c, _)| c.as_str()).collect();
        let country = (countries.len() == 1)
            .then(|| countries.into_iter().next().unwrap_or_default().to_string());
        plan.added.push(format!(
            "added {id} ({}): {}, {found_as}",
            h.wikidata, h.label
        ));
        actors.insert(
            h.wikidata.clone(),
            ImportedActor {
                id,
                name: h.label.clone(),
                country,
                wikidata: h.wikidata.clone(),
                found_as,
            },
        );
    }
    plan.actors = actors.into_values().collect();
    plan.actors.sort_by(|a, b| a.id.cmp(&b.id));
    plan
}

/// "head of state of FR, head of government of FR".
fn describe(h: &Holder) -> String {
    let parts: Vec<String> = h
        .offices
        .iter()
        .map(|(iso, kind)| format!("{} of {iso}", kind.office()))
        .collect();
    parts.join(", ")
}

/// A name folded for comparison: accents dropped, case and punctuation ignored.
fn fold(name: &str) -> String {
    let words: Vec<String> = name
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    words.join(" ")
}

/// An actor id from a label: ASCII letters and digits joined by `-` ("Recep Tayyip
/// Erdoğan" → `recep-tayyip-erdogan`). Letters without an ASCII form are dropped; a label
/// with none left gives the item id (`q42`). A taken id gets the item id appended.
fn unique_id(label: &str, item: &str, taken: &HashSet<String>) -> String {
    let mut slug = String::new();
    for c in fold(label).chars() {
        let ascii = match c {
            'ø' => "o",
            'ł' => "l",
            'đ' | 'ð' => "d",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            'ı' => "i",
            'þ' => "th",
            ' ' => "-",
            c if c.is_ascii_alphanumeric() => {
                slug.push(c);
                continue;
            }
            _ => "",
        };
        slug.push_str(ascii);
    }
    let slug: Vec<&str> = slug.split('-').filter(|s| !s.is_empty()).collect();
    let slug = slug.join("-");
    let q = item.to_ascii_lowercase();
    if slug.is_empty() {
        return q;
    }
    if taken.contains(&slug) {
        return format!("{slug}-{q}");
    }
    slug
}

/// The previous generated file's text and actors; `None` when there is none. An unreadable
/// previous file fails the import: its actors' ids must not be lost or reissued.
fn read_previous(path: &Path) -> Result<Option<(String, Vec<ImportedActor>)>, WikidataError> {
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
    let file: PreviousFile = toml::from_str(&text).map_err(|e| {
        WikidataError::Usage(format!(
            "{}: cannot read the previous import ({e}); fix or remove it",
            path.display()
        ))
    })?;
    Ok(Some((text, file.actor)))
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The generated file's text: a header saying how and when it was made, then one
/// `[[actor]]` per holder, sorted by id.
pub fn render(
    actors: &[ImportedActor],
    opts: &ImportOptions,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let kinds: Vec<&str> = opts.positions.iter().map(|k| k.name()).collect();
    let mut s = String::from(
        "# GENERATED by `parley watchlist import`; the next import rewrites it, keeping the\n\
         # actors it holds under the same ids. To change an actor, move it to a hand-written file.\n",
    );
    s.push_str(&format!(
        "# Last import {} from {} (Wikidata SPARQL): --positions {} --countries {}{}.\n",
        now.format("%Y-%m-%dT%H:%M:%SZ"),
        opts.endpoint,
        kinds.join(","),
        opts.countries.describe(),
        opts.since
            .map(|d| format!(" --since {d}"))
            .unwrap_or_default()
    ));
    s.push_str(
        "# Each actor holds or held one of those offices; its names in other languages and its\n\
         # dated roles come from `parley watchlist sync` (watchlists/wikidata.toml).\n",
    );
    for a in actors {
        s.push_str(&format!(
            "\n# {} ({})\n[[actor]]\nid = {}\nname = {}\n",
            a.found_as,
            a.wikidata,
            quote(&a.id),
            quote(&a.name)
        ));
        if let Some(c) = &a.country {
            s.push_str(&format!("country = {}\n", quote(c)));
        }
        s.push_str(&format!("wikidata = {}\n", quote(&a.wikidata)));
    }
    s
}

#[cfg(test)]
mod tests;
