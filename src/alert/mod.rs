//! Alert rules, evaluated on one article's extraction. Pure: no store, no clock.
//!
//! The ingest stage asks this module which alerts an article *could* raise; it then applies
//! the cooldown against the alert-state projection and appends what survives. Keeping the
//! matching pure means backtests and tests run it on plain values. Rules that look beyond one
//! article (`scope = "window"`, `min_sources > 1`) see earlier articles through the
//! [`History`] trait, which the pipeline implements over the store and tests over a `Vec`.

mod history;

#[cfg(test)]
use history::NoHistory;
pub use history::{Chain, History, PastArticle};

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::config::{Config, RuleConfig, RuleSlot, Scope};
use crate::events::{Alert, Evidence, MatchedMention, SilenceAdded, actor_key, stable_id};
use crate::extract::{ExtractedEvent, Extraction};
use crate::plover::PloverType;
use crate::store::StoreError;
use crate::store::similar;

/// What an alert needs to know about the article it rests on.
#[derive(Debug, Clone, Copy)]
pub struct ArticleRef<'a> {
    /// Article id in the log.
    pub article_id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Link.
    pub url: Option<&'a str>,
    /// Feed name.
    pub feed: &'a str,
    /// Publication time.
    pub published: Option<DateTime<Utc>>,
}

/// A rule match before the cooldown: the alert and the key its cooldown is kept under.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The alert to raise.
    pub alert: Alert,
    /// `actor_key(alert.actors)`, the cooldown key within the rule.
    pub actor_key: String,
}

/// Deterministic alert id: one story raises one alert per rule and actor set.
pub fn alert_id(rule: &str, actors: &[String], article_id: &str) -> String {
    stable_id("alert", &[rule, &actor_key(actors), article_id])
}

/// Hash of what decides a rule's matches (actors, scope, filters, window, sources); a change
/// of it is a rule change (`rule.changed`). Severity, cooldown and notifiers are left out:
/// changing them does not change which stories match.
pub fn rule_hash(rule: &RuleConfig) -> String {
    let slots: Vec<String> = rule
        .slots
        .iter()
        .map(|s| match s {
            RuleSlot::Actor(a) => a.clone(),
            RuleSlot::Group { id, members } => format!("group:{id}={}", members.join("+")),
        })
        .collect();
    let types: Vec<&str> = rule.event_types.iter().map(|t| t.as_str()).collect();
    let parts = [
        slots.join(","),
        rule.min_actors.to_string(),
        rule.scope.as_str().to_owned(),
        types.join(","),
        rule.window.as_secs().to_string(),
        rule.min_sources.to_string(),
        rule.status.join(","),
        format!(
            "{}|{}|{}|{}",
            rule.keywords.all.join(","),
            rule.keywords.any.join(","),
            rule.keywords.none.join(","),
            rule.keywords.in_article
        ),
        rule.feeds.join(","),
    ];
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    stable_id("rule", &refs)
}

/// Every actor id a rule can match, for history look-ups.
pub fn rule_actors(rule: &RuleConfig) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for slot in &rule.slots {
        match slot {
            RuleSlot::Actor(a) => {
                out.insert(a.clone());
            }
            RuleSlot::Group { members, .. } => out.extend(members.iter().cloned()),
        }
    }
    out
}

/// Indexes of the slots that `actors` fill.
fn filled_slots(rule: &RuleConfig, actors: &[String]) -> BTreeSet<usize> {
    rule.slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| match slot {
            RuleSlot::Actor(a) => actors.contains(a),
            RuleSlot::Group { members, .. } => members.iter().any(|m| actors.contains(m)),
        })
        .map(|(i, _)| i)
        .collect()
}

/// Which of the rule's slots a set of actors fills, and with which actors.
/// Returns the matched actors (sorted, unique) when at least `min_actors` slots are filled.
pub fn match_slots(rule: &RuleConfig, present: &BTreeSet<&str>) -> Option<Vec<String>> {
    let mut filled = 0usize;
    let mut matched: BTreeSet<&str> = BTreeSet::new();
    for slot in &rule.slots {
        match slot {
            RuleSlot::Actor(id) => {
                if present.contains(id.as_str()) {
                    filled += 1;
                    matched.insert(id);
                }
            }
            RuleSlot::Group { members, .. } => {
                let hits: Vec<&str> = members
                    .iter()
                    .map(String::as_str)
                    .filter(|m| present.contains(m))
                    .collect();
                if !hits.is_empty() {
                    filled += 1;
                    matched.extend(hits);
                }
            }
        }
    }
    (filled >= rule.min_actors.max(1) && !matched.is_empty())
        .then(|| matched.into_iter().map(str::to_owned).collect())
}

fn type_allowed(rule: &RuleConfig, t: Option<PloverType>) -> bool {
    rule.event_types.is_empty() || t.is_some_and(|t| rule.event_types.contains(&t))
}

/// The status of an event (occurred / planned / denied / hypothetical), as extraction
/// typed it. This is the one place alert rules read it.
fn event_status(event: &ExtractedEvent) -> &str {
    event.status.as_str()
}

fn status_allowed(rule: &RuleConfig, event: &ExtractedEvent) -> bool {
    rule.status.is_empty() || rule.status.iter().any(|r| r == event_status(event))
}

/// The sides of one typed interaction: who acts and who is acted upon.
///
/// Extraction assigns `source` and `target` (and `participants` for joint action, each of
/// whom acts with the others, so each is a side of its own). Where it could assign neither
/// (events logged before extraction v2 have no sides), every actor is its
/// own side, so "opposite sides" falls back to "two different actors of one typed event".
fn sides(event: &ExtractedEvent) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    for side in [&event.source, &event.target] {
        if !side.is_empty() {
            out.push(side.iter().map(|a| &**a).collect());
        }
    }
    out.extend(event.participants.iter().map(|a| vec![&**a]));
    if out.is_empty() {
        return event.actors.iter().map(|a| vec![&**a]).collect();
    }
    out
}

/// True when the matched actors of an event are not all on one side.
fn on_opposite_sides(event: &ExtractedEvent, matched: &[String]) -> bool {
    let touched = sides(event)
        .iter()
        .filter(|side| side.iter().any(|a| matched.iter().any(|m| m == a)))
        .count();
    touched >= 2 || matched.len() < 2
}

/// True when `phrase` (already lowercase) occurs in `words` on word boundaries.
fn has_phrase(words: &[String], phrase: &str) -> bool {
    let want = similar::words(phrase);
    !want.is_empty() && words.windows(want.len()).any(|w| w == want.as_slice())
}

/// The rule's keyword filters on one text.
fn keywords_ok(rule: &RuleConfig, text: &str) -> bool {
    let k = &rule.keywords;
    if k.is_empty() {
        return true;
    }
    let words = similar::words(text);
    k.all.iter().all(|w| has_phrase(&words, w))
        && (k.any.is_empty() || k.any.iter().any(|w| has_phrase(&words, w)))
        && !k.none.iter().any(|w| has_phrase(&words, w))
}

/// Where keyword filters look for a rule: the article for article and window scope (or
/// `keywords.in = "article"`), the sentence otherwise.
fn keywords_in_article(rule: &RuleConfig) -> bool {
    rule.keywords.in_article || matches!(rule.scope, Scope::Article | Scope::Window)
}

/// One article as rules see it, whether current or from history.
struct View<'a> {
    article_id: &'a str,
    title: &'a str,
    url: Option<&'a str>,
    feed: &'a str,
    published: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    text: &'a str,
    events: &'a [ExtractedEvent],
}

impl<'a> View<'a> {
    fn of_past(p: &'a PastArticle) -> View<'a> {
        View {
            article_id: &p.article_id,
            title: &p.title,
            url: p.url.as_deref(),
            feed: &p.feed,
            published: p.published,
            at: p.at,
            text: &p.text,
            events: &p.events,
        }
    }

    /// The site host, without `www.`, for counting outlets.
    fn host(&self) -> Option<String> {
        similar::site_host(self.url?)
    }

    fn feed_ok(&self, rule: &RuleConfig) -> bool {
        rule.feeds.is_empty() || rule.feeds.iter().any(|f| f == self.feed)
    }

    /// Sentence-level filters: type, status and (for sentence keywords) the words.
    fn event_ok(&self, rule: &RuleConfig, e: &ExtractedEvent) -> bool {
        type_allowed(rule, e.event_type)
            && status_allowed(rule, e)
            && (keywords_in_article(rule) || keywords_ok(rule, &e.sentence))
    }

    fn article_ok(&self, rule: &RuleConfig) -> bool {
        self.feed_ok(rule) && (!keywords_in_article(rule) || keywords_ok(rule, self.text))
    }

    fn evidence(&self, e: &ExtractedEvent, actors: &[String]) -> Evidence {
        Evidence {
            article_id: self.article_id.to_owned(),
            title: self.title.to_owned(),
            url: self.url.map(str::to_owned),
            feed: self.feed.to_owned(),
            published: self.published,
            sentence: e.sentence.clone(),
            mentions: e
                .mentions
                .iter()
                .filter(|m| actors.iter().any(|a| m.actor == *a))
                .map(|m| MatchedMention {
                    actor: m.actor.to_string(),
                    text: m.text.clone(),
                    via_role: m.via_role,
                })
                .collect(),
        }
    }
}

/// One single-article match: an actor set and the sentences it rests on.
struct Match<'a> {
    actors: Vec<String>,
    events: Vec<&'a ExtractedEvent>,
}

/// Matches of a sentence, event or article scoped rule inside one article.
fn article_matches<'a>(rule: &RuleConfig, view: &View<'a>) -> Vec<Match<'a>> {
    if !view.article_ok(rule) {
        return Vec::new();
    }
    match rule.scope {
        Scope::Sentence | Scope::Event => {
            // One match per distinct actor set; every sentence with that set is evidence.
            let mut by_set: BTreeMap<Vec<String>, Vec<&'a ExtractedEvent>> = BTreeMap::new();
            for event in view.events {
                if !view.event_ok(rule, event) {
                    continue;
                }
                if rule.scope == Scope::Event && event.event_type.is_none() {
                    continue;
                }
                let present: BTreeSet<&str> = event.actors.iter().map(|a| &**a).collect();
                if let Some(actors) = match_slots(rule, &present) {
                    if rule.scope == Scope::Event && !on_opposite_sides(event, &actors) {
                        continue;
                    }
                    by_set.entry(actors).or_default().push(event);
                }
            }
            by_set
                .into_iter()
                .map(|(actors, events)| Match { actors, events })
                .collect()
        }
        Scope::Article | Scope::Window => {
            let present: BTreeSet<&str> = view
                .events
                .iter()
                .flat_map(|e| e.actors.iter().map(|a| &**a))
                .collect();
            let Some(actors) = match_slots(rule, &present) else {
                return Vec::new();
            };
            // Evidence: the sentences naming a matched actor, restricted to the allowed types.
            let events: Vec<&ExtractedEvent> = view
                .events
                .iter()
                .filter(|e| names_any(e, &actors))
                .filter(|e| view.event_ok(rule, e))
                .collect();
            if events.is_empty() {
                return Vec::new();
            }
            vec![Match { actors, events }]
        }
    }
}

/// Counts independent outlets among the supporting articles (in time order), with the same
/// rule the event clusters use ([`similar::independent_outlets`]). Returns one label (site
/// host, else feed name) per counted outlet.
fn outlets(views: &[&View<'_>]) -> Vec<String> {
    let hosts: Vec<Option<String>> = views.iter().map(|v| v.host()).collect();
    let prints: Vec<similar::Sketch> = views.iter().map(|v| similar::Sketch::of(v.text)).collect();
    let reports: Vec<similar::Report<'_>> = views
        .iter()
        .zip(&hosts)
        .zip(&prints)
        .map(|((v, host), sketch)| similar::Report {
            feed: v.feed,
            host: host.as_deref(),
            sketch,
        })
        .collect();
    similar::independent_outlets(&reports)
        .into_iter()
        .map(|o| hosts[o].clone().unwrap_or_else(|| views[o].feed.to_owned()))
        .collect()
}

/// Evaluates every rule of `config` on one article, without history (window scope and
/// corroboration then see this article alone). `raised_at` is stamped on the alerts. The
/// daemon always has history; the rule tests use this.
#[cfg(test)]
pub(crate) fn evaluate(
    config: &Config,
    article: &ArticleRef<'_>,
    extraction: &Extraction,
    raised_at: DateTime<Utc>,
) -> Vec<Candidate> {
    evaluate_with(config, article, "", extraction, raised_at, &NoHistory).unwrap_or_default()
}

/// Evaluates every rule on one article, with `history` for window scope and corroboration.
/// `text` is the article text the extraction came from.
pub fn evaluate_with(
    config: &Config,
    article: &ArticleRef<'_>,
    text: &str,
    extraction: &Extraction,
    raised_at: DateTime<Utc>,
    history: &dyn History,
) -> Result<Vec<Candidate>, StoreError> {
    let mut out = Vec::new();
    for rule in &config.rules {
        evaluate_rule(
            config, rule, article, text, extraction, raised_at, history, &mut out,
        )?;
    }
    Ok(out)
}

/// Evaluates one rule on one article (what backtests run).
#[allow(clippy::too_many_arguments)]
pub fn evaluate_rule(
    config: &Config,
    rule: &RuleConfig,
    article: &ArticleRef<'_>,
    text: &str,
    extraction: &Extraction,
    raised_at: DateTime<Utc>,
    history: &dyn History,
    out: &mut Vec<Candidate>,
) -> Result<(), StoreError> {
    let view = View {
        article_id: article.article_id,
        title: article.title,
        url: article.url,
        feed: article.feed,
        published: article.published,
        at: article.published.unwrap_or(raised_at),
        text,
        events: &extraction.events,
    };
    if !view.feed_ok(rule) {
        return Ok(());
    }
    let window = chrono::Duration::from_std(rule.window).unwrap_or(chrono::Duration::MAX);
    let needs_history = rule.scope == Scope::Window || rule.min_sources > 1;
    let past = if needs_history {
        history.recent(
            &rule.id,
            &rule_actors(rule),
            view.at.checked_sub_signed(window).unwrap_or(view.at),
            view.at.checked_add_signed(window).unwrap_or(view.at),
        )?
    } else {
        Vec::new()
    };
    let past_views: Vec<View<'_>> = past
        .iter()
        .filter(|p| p.article_id != article.article_id)
        .map(View::of_past)
        .collect();
    if rule.scope == Scope::Window {
        evaluate_window(config, rule, &view, &past_views, raised_at, out);
        return Ok(());
    }
    for m in article_matches(rule, &view) {
        let mut support: Vec<(&View<'_>, Vec<&ExtractedEvent>)> = vec![(&view, m.events)];
        if rule.min_sources > 1 {
            let wanted = filled_slots(rule, &m.actors);
            for pv in &past_views {
                for pm in article_matches(rule, pv) {
                    if filled_slots(rule, &pm.actors).is_superset(&wanted) {
                        support.push((pv, pm.events));
                        break;
                    }
                }
            }
        }
        push_supported(config, rule, m.actors, support, raised_at, out);
    }
    Ok(())
}

/// Window scope: the actors must fill the slots across articles within the window.
fn evaluate_window(
    config: &Config,
    rule: &RuleConfig,
    view: &View<'_>,
    past: &[View<'_>],
    raised_at: DateTime<Utc>,
    out: &mut Vec<Candidate>,
) {
    let all = rule_actors(rule);
    let mine = contribution(rule, &all, view);
    if mine.is_empty() {
        return;
    }
    let theirs: Vec<(&View<'_>, Vec<&ExtractedEvent>)> = past
        .iter()
        .map(|p| (p, contribution(rule, &all, p)))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let present: BTreeSet<&str> = mine
        .iter()
        .chain(theirs.iter().flat_map(|(_, c)| c.iter()))
        .flat_map(|e| e.actors.iter().map(|a| &**a))
        .filter(|a| all.contains(*a))
        .collect();
    let Some(actors) = match_slots(rule, &present) else {
        return;
    };
    let names = |events: &[&ExtractedEvent]| events.iter().any(|e| names_any(e, &actors));
    if !names(&mine) {
        return;
    }
    let mine: Vec<&ExtractedEvent> = mine.into_iter().filter(|e| names_any(e, &actors)).collect();
    let mut support = vec![(view, mine)];
    for (p, c) in theirs {
        let c: Vec<&ExtractedEvent> = c.into_iter().filter(|e| names_any(e, &actors)).collect();
        if !c.is_empty() {
            support.push((p, c));
        }
    }
    push_supported(config, rule, actors, support, raised_at, out);
}

/// Whether the event names any of `actors`.
fn names_any(e: &ExtractedEvent, actors: &[String]) -> bool {
    e.actors.iter().any(|a| actors.iter().any(|x| a == x))
}

/// What one article contributes to a window: its filtered sentences naming a rule actor.
fn contribution<'a>(
    rule: &RuleConfig,
    all: &BTreeSet<String>,
    v: &View<'a>,
) -> Vec<&'a ExtractedEvent> {
    if !v.article_ok(rule) {
        return Vec::new();
    }
    v.events
        .iter()
        .filter(|e| e.actors.iter().any(|a| all.contains(&**a)))
        .filter(|e| v.event_ok(rule, e))
        .collect()
}

/// Turns a match and the articles supporting it into a candidate, if enough outlets back it.
/// The alert id is anchored on the earliest supporting article, so a third outlet (or a later
/// article inside the window) re-derives the same alert instead of a new one.
fn push_supported(
    config: &Config,
    rule: &RuleConfig,
    actors: Vec<String>,
    mut support: Vec<(&View<'_>, Vec<&ExtractedEvent>)>,
    raised_at: DateTime<Utc>,
    out: &mut Vec<Candidate>,
) {
    support.sort_by(|a, b| (a.0.at, a.0.article_id).cmp(&(b.0.at, b.0.article_id)));
    let views: Vec<&View<'_>> = support.iter().map(|(v, _)| *v).collect();
    let sources = outlets(&views);
    if sources.len() < rule.min_sources {
        return;
    }
    let multi = support.len() > 1;
    let anchor = support[0].0.article_id.to_owned();
    let event_type = support
        .iter()
        .flat_map(|(_, es)| es.iter())
        .find_map(|e| e.event_type);
    let evidence: Vec<Evidence> = support
        .iter()
        .flat_map(|(v, es)| es.iter().map(|e| v.evidence(e, &actors)))
        .collect();
    let sources = if multi || rule.min_sources > 1 {
        sources
    } else {
        Vec::new()
    };
    out.push(candidate(
        config, rule, actors, event_type, evidence, sources, &anchor, raised_at,
    ));
}

#[allow(clippy::too_many_arguments)]
fn candidate(
    config: &Config,
    rule: &RuleConfig,
    actors: Vec<String>,
    event_type: Option<PloverType>,
    evidence: Vec<Evidence>,
    sources: Vec<String>,
    anchor: &str,
    raised_at: DateTime<Utc>,
) -> Candidate {
    let actor_names = actors
        .iter()
        .map(|id| {
            config
                .actors
                .iter()
                .find(|a| &a.spec.id == id)
                .map_or_else(|| id.clone(), |a| a.spec.name.clone())
        })
        .collect();
    // Notifiers whose min_severity is above the rule's severity are left out here, so the
    // outbox only ever holds deliveries that should happen.
    let notify = rule
        .notify
        .iter()
        .filter(|n| {
            config
                .notifiers
                .iter()
                .find(|c| &c.id == *n)
                .is_none_or(|c| rule.severity >= c.min_severity)
        })
        .cloned()
        .collect();
    let key = actor_key(&actors);
    Candidate {
        alert: Alert {
            alert_id: alert_id(&rule.id, &actors, anchor),
            rule: rule.id.clone(),
            actors,
            actor_names,
            event_type,
            scope: rule.scope.as_str().to_owned(),
            raised_at,
            evidence,
            notify,
            severity: rule.severity,
            sources,
            silenced_by: None,
            backfill: false,
        },
        actor_key: key,
    }
}

/// The active silence that covers an alert, if any: same rule, every silenced actor among the
/// alert's actors, and `now` before its end.
pub fn silenced_by<'s>(
    silences: &'s [SilenceAdded],
    alert: &Alert,
    now: DateTime<Utc>,
) -> Option<&'s SilenceAdded> {
    silences.iter().find(|s| {
        s.rule == alert.rule && s.until > now && s.actors.iter().all(|a| alert.actors.contains(a))
    })
}

/// True when a previous alert at `last` still silences a new one at `now` under `cooldown`.
pub fn in_cooldown(
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    cooldown: Option<std::time::Duration>,
) -> bool {
    match (last, cooldown) {
        (Some(last), Some(cooldown)) => {
            let since = now.signed_duration_since(last);
            chrono::Duration::from_std(cooldown).is_ok_and(|c| since < c && since >= -c)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
