//! Alert rules, evaluated on one article's extraction. Pure: no store, no clock.
//!
//! The ingest stage asks this module which alerts an article *could* raise; it then applies
//! the cooldown against the alert-state projection and appends what survives. Keeping the
//! matching pure means backtests and tests run it on plain values.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::config::{Config, RuleConfig, RuleSlot, Scope};
use crate::events::{Alert, Evidence, actor_key, stable_id};
use crate::extract::{ExtractedEvent, Extraction};
use crate::plover::PloverType;

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

fn evidence(article: &ArticleRef<'_>, sentence: &str) -> Evidence {
    Evidence {
        article_id: article.article_id.to_owned(),
        title: article.title.to_owned(),
        url: article.url.map(str::to_owned),
        feed: article.feed.to_owned(),
        published: article.published,
        sentence: sentence.to_owned(),
    }
}

/// Evaluates every rule of `config` on one article. `raised_at` is stamped on the alerts.
pub fn evaluate(
    config: &Config,
    article: &ArticleRef<'_>,
    extraction: &Extraction,
    raised_at: DateTime<Utc>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for rule in &config.rules {
        match rule.scope {
            Scope::Sentence => {
                evaluate_sentences(config, rule, article, extraction, raised_at, &mut out)
            }
            Scope::Article => {
                evaluate_article(config, rule, article, extraction, raised_at, &mut out)
            }
        }
    }
    out
}

fn evaluate_sentences(
    config: &Config,
    rule: &RuleConfig,
    article: &ArticleRef<'_>,
    extraction: &Extraction,
    raised_at: DateTime<Utc>,
    out: &mut Vec<Candidate>,
) {
    // One alert per distinct actor set; every sentence with that set is evidence.
    let mut by_set: BTreeMap<Vec<String>, Vec<&ExtractedEvent>> = BTreeMap::new();
    for event in &extraction.events {
        if !type_allowed(rule, event.event_type) {
            continue;
        }
        let present: BTreeSet<&str> = event.actors.iter().map(String::as_str).collect();
        if let Some(actors) = match_slots(rule, &present) {
            by_set.entry(actors).or_default().push(event);
        }
    }
    for (actors, events) in by_set {
        let event_type = events.iter().find_map(|e| e.event_type);
        let ev = events
            .iter()
            .map(|e| evidence(article, &e.sentence))
            .collect();
        out.push(candidate(
            config, rule, actors, event_type, ev, article, raised_at,
        ));
    }
}

fn evaluate_article(
    config: &Config,
    rule: &RuleConfig,
    article: &ArticleRef<'_>,
    extraction: &Extraction,
    raised_at: DateTime<Utc>,
    out: &mut Vec<Candidate>,
) {
    let present: BTreeSet<&str> = extraction.actors.iter().map(String::as_str).collect();
    let Some(actors) = match_slots(rule, &present) else {
        return;
    };
    // Evidence: the sentences naming a matched actor, restricted to the allowed types.
    let relevant: Vec<&ExtractedEvent> = extraction
        .events
        .iter()
        .filter(|e| e.actors.iter().any(|a| actors.contains(a)))
        .filter(|e| type_allowed(rule, e.event_type))
        .collect();
    if relevant.is_empty() {
        return;
    }
    let event_type = relevant.iter().find_map(|e| e.event_type);
    let ev = relevant
        .iter()
        .map(|e| evidence(article, &e.sentence))
        .collect();
    out.push(candidate(
        config, rule, actors, event_type, ev, article, raised_at,
    ));
}

fn candidate(
    config: &Config,
    rule: &RuleConfig,
    actors: Vec<String>,
    event_type: Option<PloverType>,
    evidence: Vec<Evidence>,
    article: &ArticleRef<'_>,
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
    let key = actor_key(&actors);
    Candidate {
        alert: Alert {
            alert_id: alert_id(&rule.id, &actors, article.article_id),
            rule: rule.id.clone(),
            actors,
            actor_names,
            event_type,
            scope: rule.scope.as_str().to_owned(),
            raised_at,
            evidence,
            notify: rule.notify.clone(),
        },
        actor_key: key,
    }
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
mod tests {
    use super::*;
    use crate::config::{ActorConfig, ActorKind, DaemonConfig};
    use crate::extract::ActorSpec;
    use std::time::Duration;

    fn actor(id: &str) -> ActorConfig {
        ActorConfig {
            spec: ActorSpec {
                id: id.into(),
                name: id.to_uppercase(),
                aliases: vec![id.into()],
                roles: vec![],
            },
            kind: ActorKind::Person,
            country: None,
        }
    }

    fn rule(
        id: &str,
        slots: Vec<RuleSlot>,
        min: usize,
        scope: Scope,
        types: Vec<PloverType>,
    ) -> RuleConfig {
        RuleConfig {
            id: id.into(),
            slots,
            min_actors: min,
            scope,
            event_types: types,
            cooldown: None,
            notify: vec!["n".into()],
        }
    }

    fn config(rules: Vec<RuleConfig>) -> Config {
        Config {
            source: "t.toml".into(),
            daemon: DaemonConfig {
                state_dir: "s".into(),
                poll_interval: Duration::from_secs(60),
                concurrency: 1,
                request_timeout: Duration::from_secs(1),
                max_body_bytes: 1,
                user_agent: "t".into(),
                max_backoff: Duration::from_secs(1),
                per_host_concurrency: 1,
                per_host_delay: None,
            },
            api: crate::config::ApiConfig::default(),
            feeds: vec![],
            actors: ["a", "b", "c", "d"].into_iter().map(actor).collect(),
            groups: vec![],
            rules,
            notifiers: vec![],
        }
    }

    fn event(i: usize, actors: &[&str], t: Option<PloverType>) -> ExtractedEvent {
        ExtractedEvent {
            sentence_index: i,
            actors: actors.iter().map(|s| s.to_string()).collect(),
            event_type: t,
            trigger: None,
            sentence: format!("sentence {i}"),
            mentions: vec![],
        }
    }

    fn extraction(events: Vec<ExtractedEvent>) -> Extraction {
        let mut actors: Vec<String> = events.iter().flat_map(|e| e.actors.clone()).collect();
        actors.sort();
        actors.dedup();
        Extraction { actors, events }
    }

    const ART: ArticleRef<'static> = ArticleRef {
        article_id: "art-1",
        title: "T",
        url: None,
        feed: "F",
        published: None,
    };

    #[test]
    fn sentence_scope_needs_the_actors_in_one_sentence() {
        // The seed's Netanyahu/Mikati case: same article, different sentences, no sentence alert.
        let cfg = config(vec![rule(
            "r",
            vec![RuleSlot::Actor("a".into()), RuleSlot::Actor("b".into())],
            2,
            Scope::Sentence,
            vec![],
        )]);
        let split = extraction(vec![event(0, &["a"], None), event(1, &["b"], None)]);
        assert!(evaluate(&cfg, &ART, &split, Utc::now()).is_empty());
        let together = extraction(vec![
            event(0, &["a", "b"], None),
            event(3, &["a", "b"], Some(PloverType::Consult)),
        ]);
        let got = evaluate(&cfg, &ART, &together, Utc::now());
        assert_eq!(
            got.len(),
            1,
            "one alert per actor set, with both sentences as evidence"
        );
        assert_eq!(got[0].alert.evidence.len(), 2);
        assert_eq!(got[0].alert.actors, vec!["a", "b"]);
        assert_eq!(got[0].alert.actor_names, vec!["A", "B"]);
        assert_eq!(got[0].alert.event_type, Some(PloverType::Consult));
    }

    #[test]
    fn article_scope_joins_sentences() {
        // Article scope is how the seed's Blinken/Netanyahu pair is caught without coreference.
        let cfg = config(vec![rule(
            "r",
            vec![RuleSlot::Actor("a".into()), RuleSlot::Actor("b".into())],
            2,
            Scope::Article,
            vec![],
        )]);
        let split = extraction(vec![
            event(0, &["a"], None),
            event(1, &["b"], None),
            event(2, &["c"], None),
        ]);
        let got = evaluate(&cfg, &ART, &split, Utc::now());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].alert.scope, "article");
        assert_eq!(
            got[0].alert.evidence.len(),
            2,
            "only sentences naming matched actors are evidence"
        );
    }

    #[test]
    fn groups_fill_one_slot_and_min_actors_is_k_of_n() {
        // group:ID members count as one slot; min_actors lets 2 of 3 slots fire.
        let group = RuleSlot::Group {
            id: "g".into(),
            members: vec!["c".into(), "d".into()],
        };
        let cfg = config(vec![rule(
            "r",
            vec![
                RuleSlot::Actor("a".into()),
                RuleSlot::Actor("b".into()),
                group,
            ],
            2,
            Scope::Sentence,
            vec![],
        )]);
        let e = extraction(vec![event(0, &["c", "d"], None)]);
        assert!(
            evaluate(&cfg, &ART, &e, Utc::now()).is_empty(),
            "two members of one group fill one slot"
        );
        let e = extraction(vec![event(0, &["a", "d"], None)]);
        let got = evaluate(&cfg, &ART, &e, Utc::now());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].alert.actors, vec!["a", "d"]);
    }

    #[test]
    fn event_type_filter_applies() {
        // A rule about meetings must not fire on an accusation between the same people.
        let cfg = config(vec![rule(
            "r",
            vec![RuleSlot::Actor("a".into()), RuleSlot::Actor("b".into())],
            2,
            Scope::Sentence,
            vec![PloverType::Consult],
        )]);
        let e = extraction(vec![
            event(0, &["a", "b"], Some(PloverType::Accuse)),
            event(1, &["a", "b"], None),
        ]);
        assert!(evaluate(&cfg, &ART, &e, Utc::now()).is_empty());
        let e = extraction(vec![event(0, &["a", "b"], Some(PloverType::Consult))]);
        assert_eq!(evaluate(&cfg, &ART, &e, Utc::now()).len(), 1);
    }

    #[test]
    fn alert_ids_are_deterministic() {
        // One story raises one alert per rule and actor set, whenever and wherever it is processed.
        let a = alert_id("r", &["b".into(), "a".into()], "art-1");
        assert_eq!(a, alert_id("r", &["a".into(), "b".into()], "art-1"));
        assert_ne!(a, alert_id("r", &["a".into(), "b".into()], "art-2"));
        assert_ne!(a, alert_id("q", &["a".into(), "b".into()], "art-1"));
    }

    #[test]
    fn cooldown_window() {
        // Cooldowns silence repeats inside the window only.
        let now = Utc::now();
        let six_h = Some(Duration::from_secs(6 * 3600));
        assert!(in_cooldown(
            Some(now - chrono::Duration::hours(1)),
            now,
            six_h
        ));
        assert!(!in_cooldown(
            Some(now - chrono::Duration::hours(7)),
            now,
            six_h
        ));
        assert!(!in_cooldown(None, now, six_h));
        assert!(!in_cooldown(Some(now), now, None));
    }
}
