//! One event, many reports: the event-cluster projection, part of the pure fold.
//!
//! Wire copy syndicated across outlets and updates of one story give many `event.extracted`
//! records for one real meeting. A cluster is one real event: the typed interactions with the
//! same actor set and type whose dates lie within ±[`WINDOW_DAYS`] of the cluster's first
//! report, with the count of reports (articles) and of independent sources (outlets, where a
//! near-duplicate of an already counted outlet's report does not count: the same rule the
//! alert layer's corroboration uses, `store::similar::independent_outlets`).
//!
//! The fold is log-ordered: an article's events precede its `article.ingested`, so typed
//! events wait in `pp` (pending) until the article's feed, link and text sketch are known
//! (`ph`); events appended after their article (`replay --reextract`) cluster at once. Only
//! interactions that happened or are planned, with two or more actors, are clustered:
//! denials and hypotheticals are not events, and a single actor is not an interaction.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::codec::{decode, encode};
use super::fold::{Op, ProjectionRead};
use super::keys;
use super::similar::{self, Sketch};
use crate::events::{ArticleIngested, Envelope, EventExtracted, actor_key, stable_id};
use crate::plover::PloverType;

/// Reports of one event may lie this many days either side of its first report.
pub const WINDOW_DAYS: i64 = 2;

/// One real event and the reports of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventCluster {
    /// Deterministic id: actor set, type and the first report's event id.
    pub cluster_id: String,
    /// The actor set (sorted ids).
    pub actors: Vec<String>,
    /// PLOVER type.
    #[serde(rename = "type")]
    pub event_type: PloverType,
    /// Subtype of the first report, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Earliest event date among the reports.
    pub first: NaiveDate,
    /// Latest event date among the reports.
    pub last: NaiveDate,
    /// Reports (one per article), in the order they were logged.
    pub reports: Vec<ClusterReport>,
    /// Independent outlets (site host, else feed name); wire copies count once.
    pub sources: Vec<String>,
    /// The first report's sentence, to show what happened.
    pub sentence: String,
}

impl EventCluster {
    /// How many articles reported it.
    pub fn report_count(&self) -> usize {
        self.reports.len()
    }

    /// How many independent outlets reported it.
    pub fn source_count(&self) -> usize {
        self.sources.len()
    }
}

/// One article's report of a clustered event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// The article.
    pub article_id: String,
    /// The `event.extracted` record.
    pub event_id: String,
    /// Its seq.
    pub seq: u64,
    /// Feed name.
    pub feed: String,
    /// The event date of this report.
    pub date: NaiveDate,
    /// When the article was published (else logged): sources are counted in this order, so
    /// the outlet that ran a story first is its source and later copies are not.
    pub published: DateTime<Utc>,
}

/// A typed event waiting for its article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    seq: u64,
    event_id: String,
    actors: Vec<String>,
    event_type: PloverType,
    mode: Option<String>,
    date: NaiveDate,
    published: DateTime<Utc>,
    sentence: String,
}

/// What outlet counting needs of an article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReportFacts {
    feed: String,
    host: Option<String>,
    sketch: Sketch,
}

/// A cluster's entry in the per-(actors, type) index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Slot {
    cluster_id: String,
    anchor: NaiveDate,
}

/// The fold's view plus its own not-yet-emitted writes, so that one envelope can update the
/// same cluster twice (two sentences of one article) and see its first update.
struct Overlay<'a, S: ProjectionRead> {
    state: &'a S,
    local: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<S: ProjectionRead> Overlay<'_, S> {
    fn get<T: for<'de> Deserialize<'de>>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        let raw = match self.local.get(key) {
            Some(v) => v.clone(),
            None => self.state.get(key)?,
        };
        raw.map(|v| decode(key, &v)).transpose()
    }

    fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), StoreError> {
        let v = encode(&key, value)?;
        self.local.insert(key, Some(v));
        Ok(())
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.local.insert(key, None);
    }

    fn into_ops(self) -> Vec<Op> {
        self.local
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => Op::Put(k, v),
                None => Op::Delete(k),
            })
            .collect()
    }
}

/// Cluster writes for an `event.extracted` envelope.
pub(crate) fn on_extracted(
    state: &impl ProjectionRead,
    env: &Envelope,
    e: &EventExtracted,
) -> Result<Vec<Op>, StoreError> {
    let Some(event_type) = e.event_type else {
        return Ok(Vec::new());
    };
    if matches!(e.status.as_deref(), Some("denied" | "hypothetical")) {
        return Ok(Vec::new());
    }
    let actors = e.interaction_actors();
    if actors.len() < 2 {
        return Ok(Vec::new());
    }
    let pending = Pending {
        seq: env.seq,
        event_id: env.event_id.clone(),
        actors,
        event_type,
        mode: e.mode.clone(),
        date: e.date.unwrap_or_else(|| env.occurred_at.date_naive()),
        published: env.occurred_at,
        sentence: e.sentence.clone(),
    };
    let mut o = Overlay {
        state,
        local: BTreeMap::new(),
    };
    if o.get::<ReportFacts>(&keys::report(&e.article_id))?
        .is_some()
    {
        assign(&mut o, &e.article_id, &pending)?;
    } else {
        let key = keys::pending(&e.article_id);
        let mut list: Vec<Pending> = o.get(&key)?.unwrap_or_default();
        if !list.iter().any(|p| p.event_id == pending.event_id) {
            list.push(pending);
        }
        o.put(key, &list)?;
    }
    Ok(o.into_ops())
}

/// Cluster writes for an `article.ingested` envelope: its report facts, then its pending
/// events.
pub(crate) fn on_article(
    state: &impl ProjectionRead,
    a: &ArticleIngested,
) -> Result<Vec<Op>, StoreError> {
    let mut o = Overlay {
        state,
        local: BTreeMap::new(),
    };
    let facts = ReportFacts {
        feed: a.feed.clone(),
        host: a.url.as_deref().and_then(similar::site_host),
        sketch: Sketch::of(&a.text),
    };
    o.put(keys::report(&a.article_id), &facts)?;
    let key = keys::pending(&a.article_id);
    let pending: Vec<Pending> = o.get(&key)?.unwrap_or_default();
    if !pending.is_empty() {
        o.delete(key);
    }
    for p in &pending {
        assign(&mut o, &a.article_id, p)?;
    }
    Ok(o.into_ops())
}

/// Adds one report to the cluster of its actor set and type whose anchor is nearest within the
/// window, or starts a new cluster; then recounts the cluster's independent sources.
fn assign<S: ProjectionRead>(
    o: &mut Overlay<'_, S>,
    article_id: &str,
    p: &Pending,
) -> Result<(), StoreError> {
    let akey = actor_key(&p.actors);
    let ikey = keys::cluster_index(&akey, p.event_type.as_str());
    let mut slots: Vec<Slot> = o.get(&ikey)?.unwrap_or_default();
    let near = slots
        .iter()
        .map(|s| (s, (p.date - s.anchor).num_days().abs()))
        .filter(|(_, d)| *d <= WINDOW_DAYS)
        .min_by_key(|(s, d)| (*d, s.anchor))
        .map(|(s, _)| s.cluster_id.clone());
    let report = ClusterReport {
        article_id: article_id.to_string(),
        event_id: p.event_id.clone(),
        seq: p.seq,
        feed: String::new(),
        date: p.date,
        published: p.published,
    };
    let mut cluster = match near {
        Some(id) => {
            let ckey = keys::cluster(&id);
            match o.get::<EventCluster>(&ckey)? {
                Some(c) => c,
                None => {
                    return Err(StoreError::Corrupt {
                        key: keys::printable(&ckey),
                        message: "cluster index names a missing cluster".into(),
                    });
                }
            }
        }
        None => {
            let cluster_id = stable_id("cluster", &[&akey, p.event_type.as_str(), &p.event_id]);
            slots.push(Slot {
                cluster_id: cluster_id.clone(),
                anchor: p.date,
            });
            o.put(ikey, &slots)?;
            EventCluster {
                cluster_id,
                actors: p.actors.clone(),
                event_type: p.event_type,
                mode: p.mode.clone(),
                first: p.date,
                last: p.date,
                reports: Vec::new(),
                sources: Vec::new(),
                sentence: p.sentence.clone(),
            }
        }
    };
    // One article is one report, however many of its sentences tell the event.
    if cluster.reports.iter().any(|r| r.article_id == article_id) {
        return Ok(());
    }
    let facts: Option<ReportFacts> = o.get(&keys::report(article_id))?;
    cluster.reports.push(ClusterReport {
        feed: facts.as_ref().map(|f| f.feed.clone()).unwrap_or_default(),
        ..report
    });
    cluster.first = cluster.first.min(p.date);
    cluster.last = cluster.last.max(p.date);
    recount(o, &mut cluster)?;
    o.put(keys::cluster(&cluster.cluster_id), &cluster)
}

/// Cluster writes for an `event.extracted` record that `replay --reextract` superseded: the
/// article's report that rests on that record leaves its cluster (the cluster's dates and
/// sources are recounted; a cluster left without reports is removed). Re-extraction appends
/// the superseding event before the new records, so a new record of the same article can
/// then join the cluster again.
pub(crate) fn on_superseded(
    state: &impl ProjectionRead,
    event_id: &str,
    e: &EventExtracted,
) -> Result<Vec<Op>, StoreError> {
    let Some(event_type) = e.event_type else {
        return Ok(Vec::new());
    };
    let mut o = Overlay {
        state,
        local: BTreeMap::new(),
    };
    // Not yet clustered (its article was never folded): drop it from the waiting list.
    let pkey = keys::pending(&e.article_id);
    if let Some(mut list) = o.get::<Vec<Pending>>(&pkey)? {
        list.retain(|p| p.event_id != event_id);
        if list.is_empty() {
            o.delete(pkey);
        } else {
            o.put(pkey, &list)?;
        }
    }
    let ikey = keys::cluster_index(&actor_key(&e.interaction_actors()), event_type.as_str());
    let mut slots: Vec<Slot> = o.get(&ikey)?.unwrap_or_default();
    let mut changed_slots = false;
    for slot in slots.clone() {
        let ckey = keys::cluster(&slot.cluster_id);
        let Some(mut cluster) = o.get::<EventCluster>(&ckey)? else {
            continue;
        };
        let before = cluster.reports.len();
        cluster.reports.retain(|r| r.event_id != event_id);
        if cluster.reports.len() == before {
            continue;
        }
        if cluster.reports.is_empty() {
            o.delete(ckey);
            slots.retain(|s| s.cluster_id != slot.cluster_id);
            changed_slots = true;
            continue;
        }
        cluster.first = cluster
            .reports
            .iter()
            .map(|r| r.date)
            .min()
            .unwrap_or(cluster.first);
        cluster.last = cluster
            .reports
            .iter()
            .map(|r| r.date)
            .max()
            .unwrap_or(cluster.last);
        recount(&mut o, &mut cluster)?;
        o.put(ckey, &cluster)?;
    }
    if changed_slots {
        if slots.is_empty() {
            o.delete(ikey);
        } else {
            o.put(ikey, &slots)?;
        }
    }
    Ok(o.into_ops())
}

/// Recounts a cluster's independent sources over its reports.
fn recount<S: ProjectionRead>(
    o: &mut Overlay<'_, S>,
    cluster: &mut EventCluster,
) -> Result<(), StoreError> {
    // Sources, counted over the reports in publication order (log order among equals).
    let mut order: Vec<&ClusterReport> = cluster.reports.iter().collect();
    order.sort_by_key(|r| (r.published, r.seq));
    let mut facts_of = Vec::with_capacity(order.len());
    for r in &order {
        if let Some(f) = o.get::<ReportFacts>(&keys::report(&r.article_id))? {
            facts_of.push(f);
        }
    }
    let reports: Vec<similar::Report<'_>> = facts_of
        .iter()
        .map(|f| similar::Report {
            feed: &f.feed,
            host: f.host.as_deref(),
            sketch: &f.sketch,
        })
        .collect();
    cluster.sources = similar::independent_outlets(&reports)
        .into_iter()
        .map(|i| {
            let f = &facts_of[i];
            f.host.clone().unwrap_or_else(|| f.feed.clone())
        })
        .collect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::events::{Event, SCHEMA_VERSION};
    use crate::store::projection::fold;

    /// A plain in-memory projection state.
    #[derive(Default)]
    struct Map(BTreeMap<Vec<u8>, Vec<u8>>);

    impl ProjectionRead for Map {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.0.get(key).cloned())
        }
    }

    impl Map {
        fn apply(&mut self, seq: u64, id: &str, at: DateTime<Utc>, event: Event) {
            let env = Envelope {
                seq,
                event_id: id.into(),
                schema_version: SCHEMA_VERSION,
                occurred_at: at,
                recorded_at: at,
                event,
            };
            for op in fold(self, &env).unwrap() {
                match op {
                    Op::Put(k, v) => {
                        self.0.insert(k, v);
                    }
                    Op::Delete(k) => {
                        self.0.remove(&k);
                    }
                }
            }
        }

        fn clusters(&self) -> Vec<EventCluster> {
            let prefix = keys::cluster_prefix();
            self.0
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| decode(k, v).unwrap())
                .collect()
        }
    }

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, d, 9, 0, 0).unwrap()
    }

    const WIRE: &str = "The secretary of state met the prime minister in the capital on Tuesday to \
        discuss a ceasefire, the release of hostages and the delivery of aid, officials said.";

    /// Logs one article the way ingest does: its events, then the article.
    #[allow(clippy::too_many_arguments)]
    fn article(
        m: &mut Map,
        seq: &mut u64,
        id: &str,
        feed: &str,
        url: &str,
        d: u32,
        text: &str,
        events: &[(&[&str], PloverType, &str)],
    ) {
        for (i, (actors, ty, status)) in events.iter().enumerate() {
            *seq += 1;
            m.apply(
                *seq,
                &format!("{id}-evt-{i}"),
                day(d),
                Event::EventExtracted(EventExtracted {
                    article_id: id.into(),
                    sentence_index: i,
                    actors: actors.iter().map(|s| s.to_string()).collect(),
                    event_type: Some(*ty),
                    sentence: text.into(),
                    source: vec![actors[0].to_string()],
                    target: actors[1..].iter().map(|s| s.to_string()).collect(),
                    status: Some(status.to_string()),
                    ..Default::default()
                }),
            );
        }
        *seq += 1;
        m.apply(
            *seq,
            id,
            day(d),
            Event::ArticleIngested(ArticleIngested {
                article_id: id.into(),
                feed: feed.into(),
                feed_url: format!("http://{feed}/rss"),
                guid: None,
                url: Some(url.into()),
                title: "t".into(),
                published: Some(day(d)),
                text: text.into(),
                full_text_sha256: None,
            }),
        );
    }

    #[test]
    fn a_superseded_record_leaves_its_cluster() {
        // Re-extraction replaced an article's record: its report leaves the cluster, whose
        // sources are recounted; the last report leaving removes the cluster.
        let (mut m, mut seq) = (Map::default(), 0);
        let meet: &[(&[&str], PloverType, &str)] =
            &[(&["blinken", "netanyahu"], PloverType::Consult, "occurred")];
        let own = "Our correspondent watched the two men shake hands before a closed-door meeting.";
        article(
            &mut m,
            &mut seq,
            "a1",
            "wire",
            "https://wire.example/1",
            3,
            WIRE,
            meet,
        );
        article(
            &mut m,
            &mut seq,
            "a2",
            "daily",
            "https://daily.example/y",
            3,
            own,
            meet,
        );
        assert_eq!(m.clusters()[0].source_count(), 2);
        let record = |id: &str| EventExtracted {
            article_id: id.into(),
            actors: vec!["blinken".into(), "netanyahu".into()],
            event_type: Some(PloverType::Consult),
            source: vec!["blinken".into()],
            target: vec!["netanyahu".into()],
            status: Some("occurred".into()),
            ..Default::default()
        };
        let apply = |m: &mut Map, ops: Vec<Op>| {
            for op in ops {
                match op {
                    Op::Put(k, v) => {
                        m.0.insert(k, v);
                    }
                    Op::Delete(k) => {
                        m.0.remove(&k);
                    }
                }
            }
        };
        let ops = on_superseded(&m, "a2-evt-0", &record("a2")).unwrap();
        apply(&mut m, ops);
        let c = m.clusters();
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].report_count(), c[0].source_count()), (1, 1));
        let ops = on_superseded(&m, "a1-evt-0", &record("a1")).unwrap();
        apply(&mut m, ops);
        assert!(m.clusters().is_empty());
        // The index no longer names the removed cluster: a new report starts a fresh one.
        article(
            &mut m,
            &mut seq,
            "a3",
            "daily",
            "https://daily.example/z",
            4,
            own,
            meet,
        );
        assert_eq!(m.clusters().len(), 1);
        assert_eq!(m.clusters()[0].report_count(), 1);
    }

    #[test]
    fn wire_copies_and_updates_are_one_event_with_independent_sources() {
        // One meeting reported by a wire, reprinted by a paper and reported on its own by a
        // third outlet, plus an update next day: one event, four reports, two sources.
        let (mut m, mut seq) = (Map::default(), 0);
        let meet: &[(&[&str], PloverType, &str)] =
            &[(&["blinken", "netanyahu"], PloverType::Consult, "occurred")];
        article(
            &mut m,
            &mut seq,
            "a1",
            "wire",
            "https://wire.example/1",
            3,
            WIRE,
            meet,
        );
        article(
            &mut m,
            &mut seq,
            "a2",
            "paper",
            "https://www.paper.example/x",
            3,
            &format!("JERUSALEM (Wire) - {WIRE}"),
            meet,
        );
        let own = "Our correspondent watched the two men shake hands before a closed-door meeting.";
        article(
            &mut m,
            &mut seq,
            "a3",
            "daily",
            "https://daily.example/y",
            4,
            own,
            meet,
        );
        let update =
            "Updated: aides described the talks as frank and said more meetings would follow.";
        article(
            &mut m,
            &mut seq,
            "a4",
            "wire",
            "https://wire.example/2",
            5,
            update,
            meet,
        );
        let clusters = m.clusters();
        assert_eq!(clusters.len(), 1, "{clusters:?}");
        let c = &clusters[0];
        assert_eq!(c.report_count(), 4);
        assert_eq!(c.sources, vec!["wire.example", "daily.example"]);
        assert_eq!(
            (c.first, c.last),
            (day(3).date_naive(), day(5).date_naive())
        );
        // No pending inputs are left once every article is folded.
        let pending = [keys::PROJECTION, keys::PENDING];
        assert!(!m.0.keys().any(|k| k.starts_with(&pending)));
    }

    #[test]
    fn other_actors_types_days_and_statuses_are_other_events() {
        // Clusters are keyed on actor set + type within ±2 days; denials are not events.
        let (mut m, mut seq) = (Map::default(), 0);
        let meet: &[(&[&str], PloverType, &str)] =
            &[(&["blinken", "netanyahu"], PloverType::Consult, "occurred")];
        article(
            &mut m,
            &mut seq,
            "a1",
            "wire",
            "https://wire.example/1",
            3,
            WIRE,
            meet,
        );
        article(
            &mut m,
            &mut seq,
            "a2",
            "wire",
            "https://wire.example/2",
            9,
            "A later meeting.",
            meet,
        );
        article(
            &mut m,
            &mut seq,
            "a3",
            "wire",
            "https://wire.example/3",
            3,
            "Another pair.",
            &[(&["blinken", "mikati"], PloverType::Consult, "occurred")],
        );
        article(
            &mut m,
            &mut seq,
            "a4",
            "wire",
            "https://wire.example/4",
            3,
            "Accused.",
            &[(&["blinken", "netanyahu"], PloverType::Accuse, "occurred")],
        );
        article(
            &mut m,
            &mut seq,
            "a5",
            "wire",
            "https://wire.example/5",
            3,
            "Denied.",
            &[(&["blinken", "safadi"], PloverType::Consult, "denied")],
        );
        article(
            &mut m,
            &mut seq,
            "a6",
            "wire",
            "https://wire.example/6",
            3,
            "Alone.",
            &[(&["blinken"], PloverType::Consult, "occurred")],
        );
        let clusters = m.clusters();
        assert_eq!(clusters.len(), 4, "{clusters:?}");
        assert!(clusters.iter().all(|c| c.report_count() == 1));
    }

    #[test]
    fn two_sentences_of_one_article_are_one_report() {
        // A story that tells the meeting twice is still one report of it.
        let (mut m, mut seq) = (Map::default(), 0);
        let twice: &[(&[&str], PloverType, &str)] = &[
            (&["blinken", "netanyahu"], PloverType::Consult, "occurred"),
            (&["netanyahu", "blinken"], PloverType::Consult, "occurred"),
        ];
        article(
            &mut m,
            &mut seq,
            "a1",
            "wire",
            "https://wire.example/1",
            3,
            WIRE,
            twice,
        );
        let clusters = m.clusters();
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].report_count(), 1);
        assert_eq!(clusters[0].actors, vec!["blinken", "netanyahu"]);
    }

    #[test]
    fn events_logged_after_their_article_cluster_at_once() {
        // `replay --reextract` appends events for articles already in the log.
        let (mut m, mut seq) = (Map::default(), 0);
        article(
            &mut m,
            &mut seq,
            "a1",
            "wire",
            "https://wire.example/1",
            3,
            WIRE,
            &[],
        );
        m.apply(
            10,
            "late",
            day(3),
            Event::EventExtracted(EventExtracted {
                article_id: "a1".into(),
                actors: vec!["blinken".into(), "netanyahu".into()],
                event_type: Some(PloverType::Consult),
                participants: vec!["blinken".into(), "netanyahu".into()],
                ..Default::default()
            }),
        );
        let clusters = m.clusters();
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].sources, vec!["wire.example"]);
    }
}
