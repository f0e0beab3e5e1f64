//! Rule evaluation on plain values: slots, scopes, filters, windows, corroboration, silences.

use super::*;
use crate::config::{ActorConfig, ActorKind, DaemonConfig};
use crate::extract::{ActorId, ActorSpec};
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
        wikidata: None,
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
        window: crate::config::DEFAULT_WINDOW,
        min_sources: 1,
        status: vec![],
        keywords: crate::config::Keywords::default(),
        feeds: vec![],
        severity: crate::events::Severity::Warning,
        backfill: false,
        notify_backfill: false,
    }
}

fn config(rules: Vec<RuleConfig>) -> Config {
    Config {
        source: "t.toml".into(),
        daemon: DaemonConfig {
            allow_networks: Vec::new(),
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
        log: crate::config::LogConfig::default(),
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
        actors: actors.iter().map(|&s| ActorId::from(s)).collect(),
        event_type: t,
        trigger: None,
        sentence: format!("sentence {i}"),
        ..ExtractedEvent::default()
    }
}

fn extraction(events: Vec<ExtractedEvent>) -> Extraction {
    let mut actors: Vec<ActorId> = events.iter().flat_map(|e| e.actors.clone()).collect();
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

fn past(
    id: &str,
    feed: &str,
    host: &str,
    day: u32,
    text: &str,
    events: Vec<ExtractedEvent>,
) -> PastArticle {
    use chrono::TimeZone;
    PastArticle {
        article_id: id.into(),
        title: id.into(),
        url: Some(format!("https://{host}/{id}")),
        feed: feed.into(),
        published: Some(Utc.with_ymd_and_hms(2025, 3, day, 9, 0, 0).unwrap()),
        at: Utc.with_ymd_and_hms(2025, 3, day, 9, 0, 0).unwrap(),
        text: text.into(),
        events,
    }
}

fn eval_past(cfg: &Config, current: &PastArticle, history: &Vec<PastArticle>) -> Vec<Candidate> {
    let art = ArticleRef {
        article_id: &current.article_id,
        title: &current.title,
        url: current.url.as_deref(),
        feed: &current.feed,
        published: current.published,
    };
    let extraction = extraction(current.events.clone());
    evaluate_with(cfg, &art, &current.text, &extraction, Utc::now(), history).unwrap()
}

fn pair(scope: Scope) -> RuleConfig {
    rule(
        "r",
        vec![RuleSlot::Actor("a".into()), RuleSlot::Actor("b".into())],
        2,
        scope,
        vec![],
    )
}

#[test]
fn window_scope_spans_articles_inside_the_window_only() {
    // Window scope joins actors across articles, but only within `window` of each other.
    let cfg = config(vec![pair(Scope::Window)]);
    let a = past(
        "p1",
        "F1",
        "one.example",
        1,
        "a spoke",
        vec![event(0, &["a"], None)],
    );
    let near = past(
        "p2",
        "F2",
        "two.example",
        2,
        "b spoke",
        vec![event(0, &["b"], None)],
    );
    let far = past(
        "p3",
        "F2",
        "two.example",
        9,
        "b spoke",
        vec![event(0, &["b"], None)],
    );
    assert!(eval_past(&cfg, &far, &vec![a.clone()]).is_empty());
    let got = eval_past(&cfg, &near, &vec![a.clone()]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].alert.evidence.len(), 2);
    // Anchored on the earliest article: the same pair re-derived later is the same alert.
    let later = past(
        "p4",
        "F3",
        "three.example",
        2,
        "b again",
        vec![event(0, &["b"], None)],
    );
    let again = eval_past(&cfg, &later, &vec![a, near]);
    assert_eq!(again[0].alert.alert_id, got[0].alert.alert_id);
}

#[test]
fn corroboration_counts_outlets_by_feed_host_and_story() {
    // Same host or a reprint is one outlet; an independent report is a second one.
    let mut r = pair(Scope::Sentence);
    r.min_sources = 2;
    let cfg = config(vec![r]);
    let story = "a met b in the capital on tuesday to discuss the ceasefire and hostages";
    let first = past(
        "p1",
        "Wire",
        "wire.example",
        1,
        story,
        vec![event(0, &["a", "b"], None)],
    );
    let same_host = past(
        "p2",
        "Wire World",
        "wire.example",
        1,
        "a met b, other words entirely here",
        vec![event(0, &["a", "b"], None)],
    );
    assert!(eval_past(&cfg, &same_host, &vec![first.clone()]).is_empty());
    let copy = past(
        "p3",
        "Paper",
        "paper.example",
        1,
        &format!("CAIRO - {story}"),
        vec![event(0, &["a", "b"], None)],
    );
    assert!(eval_past(&cfg, &copy, &vec![first.clone()]).is_empty());
    let own = past(
        "p4",
        "Paper",
        "paper.example",
        2,
        "our reporter saw a meet b at the palace",
        vec![event(0, &["a", "b"], None)],
    );
    let got = eval_past(&cfg, &own, &vec![first, copy]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].alert.sources, vec!["wire.example", "paper.example"]);
    assert_eq!(got[0].alert.evidence.len(), 3);
}

#[test]
fn keywords_and_feeds_filter() {
    // all/any/none on word boundaries; `feeds` restricts outlets.
    let mut r = pair(Scope::Sentence);
    r.keywords = crate::config::Keywords {
        all: vec!["talks".into()],
        any: vec!["ceasefire".into(), "hostage deal".into()],
        none: vec!["anniversary".into()],
        in_article: false,
    };
    let cfg = config(vec![r.clone()]);
    let mk = |s: &str| {
        let mut e = event(0, &["a", "b"], None);
        e.sentence = s.into();
        extraction(vec![e])
    };
    let run = |cfg: &Config, s: &str| evaluate(cfg, &ART, &mk(s), Utc::now()).len();
    assert_eq!(run(&cfg, "A and B held talks on a hostage deal."), 1);
    assert_eq!(
        run(&cfg, "A and B held talks on a ceasefire anniversary."),
        0
    );
    assert_eq!(run(&cfg, "A and B held talks on trade."), 0);
    assert_eq!(
        run(&cfg, "A and B discussed a ceasefire."),
        0,
        "talks is required"
    );
    assert_eq!(
        run(&cfg, "A and B held talkshows on a ceasefire."),
        0,
        "word boundaries"
    );
    r.keywords = crate::config::Keywords::default();
    r.feeds = vec!["Other".into()];
    let cfg = config(vec![r]);
    assert_eq!(run(&cfg, "A met B."), 0);
}

#[test]
fn event_scope_needs_a_typed_event() {
    // An untyped co-mention is no interaction; a typed one between both actors is.
    let cfg = config(vec![pair(Scope::Event)]);
    let e = extraction(vec![event(0, &["a", "b"], None)]);
    assert!(evaluate(&cfg, &ART, &e, Utc::now()).is_empty());
    let e = extraction(vec![event(0, &["a", "b"], Some(PloverType::Consult))]);
    let got = evaluate(&cfg, &ART, &e, Utc::now());
    assert_eq!(got[0].alert.scope, "event");
}

#[test]
fn silences_match_rule_actors_and_time() {
    // A silence covers its rule, alerts naming all its actors, until it ends.
    let now = Utc::now();
    let alert = Alert {
        rule: "r".into(),
        actors: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    let s = |rule: &str, actors: &[&str], hours: i64| SilenceAdded {
        silence_id: "s".into(),
        rule: rule.into(),
        actors: actors.iter().map(|a| a.to_string()).collect(),
        until: now + chrono::Duration::hours(hours),
        reason: "x".into(),
    };
    assert!(silenced_by(&[s("r", &["a"], 1)], &alert, now).is_some());
    assert!(silenced_by(&[s("r", &[], 1)], &alert, now).is_some());
    assert!(silenced_by(&[s("r", &["c"], 1)], &alert, now).is_none());
    assert!(silenced_by(&[s("q", &[], 1)], &alert, now).is_none());
    assert!(silenced_by(&[s("r", &[], -1)], &alert, now).is_none());
}

#[test]
fn rule_hash_tracks_matching_definition_only() {
    // Changing what matches is a rule change; changing severity or notifiers is not.
    let r = pair(Scope::Sentence);
    let mut louder = r.clone();
    louder.severity = crate::events::Severity::Critical;
    assert_eq!(rule_hash(&r), rule_hash(&louder));
    let mut wider = r.clone();
    wider.scope = Scope::Article;
    assert_ne!(rule_hash(&r), rule_hash(&wider));
}
