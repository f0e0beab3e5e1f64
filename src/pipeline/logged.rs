//! The log's record of extracted events: [`logged_event`] turns extraction output into the
//! `event.extracted` record, and [`extraction_of`] reads such a record back.
//!
//! Why it exists: ingest, `replay --reextract` and alert history must agree byte for byte on
//! what an extracted sentence looks like in the log, so the conversion both ways lives in
//! one place, with the test that proves the round trip exact.

use crate::events::EventExtracted;
use crate::extract::{ActorId, ExtractedEvent, Status};

/// Actor ids as the log keeps them (owned strings; extraction shares them).
pub fn owned_ids(ids: &[ActorId]) -> Vec<String> {
    ids.iter().map(|a| a.to_string()).collect()
}

/// The log's record of one extracted sentence. With [`extraction_of`], its exact inverse, it
/// is the only conversion between extraction output and the log: ingest, `replay
/// --reextract` and alert history all go through the pair, so an earlier event reads back as
/// it was logged (sides, status, mode and date included), however articles fell into batches.
pub fn logged_event(article_id: &str, e: &ExtractedEvent) -> EventExtracted {
    let typed = e.event_type.is_some();
    EventExtracted {
        article_id: article_id.to_string(),
        sentence_index: e.sentence_index,
        actors: owned_ids(&e.actors),
        event_type: e.event_type,
        trigger: e.trigger.clone(),
        sentence: e.sentence.clone(),
        source: owned_ids(&e.source),
        target: owned_ids(&e.target),
        participants: owned_ids(&e.participants),
        status: typed.then(|| e.status.as_str().to_string()),
        mode: e.mode.map(str::to_string),
        date: e.date,
    }
}

/// A logged sentence back in extraction form: the inverse of [`logged_event`] on every field
/// the log keeps. What the log does not keep (mentions, spans, place, the full interaction
/// list) comes back empty; alert history reads none of it.
pub fn extraction_of(logged: &EventExtracted) -> ExtractedEvent {
    let ids = |v: &[String]| v.iter().map(|a| ActorId::from(a.as_str())).collect();
    let status = logged.status.as_deref().and_then(|s| {
        [
            Status::Occurred,
            Status::Planned,
            Status::Denied,
            Status::Hypothetical,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    });
    ExtractedEvent {
        sentence_index: logged.sentence_index,
        actors: ids(&logged.actors),
        event_type: logged.event_type,
        trigger: logged.trigger.clone(),
        sentence: logged.sentence.clone(),
        source: ids(&logged.source),
        target: ids(&logged.target),
        participants: ids(&logged.participants),
        status: status.unwrap_or_default(),
        mode: logged
            .mode
            .as_deref()
            .and_then(|m| MODES.iter().copied().find(|x| *x == m)),
        date: logged.date,
        ..ExtractedEvent::default()
    }
}

/// Every diplomatic subtype extraction assigns (`ExtractedEvent::mode` is a `&'static str`),
/// so [`extraction_of`] can give a logged mode back as the extractor's own string. The test
/// `logged_events_read_back_exactly` fails when extraction gains a mode missing here.
const MODES: &[&str] = &[
    "ceasefire",
    "ceasefire-call",
    "economic",
    "expel",
    "host",
    "hostage-deal",
    "hostage-release-call",
    "hostage-taking",
    "hostage-talks",
    "humanitarian",
    "mediate",
    "meet",
    "military",
    "multilateral",
    "negotiate",
    "pause",
    "pause-call",
    "phone",
    "release",
    "visit",
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::extract::Document;
    use crate::pipeline::Prepared;

    #[test]
    fn logged_events_read_back_exactly() {
        // History must see an earlier event as ingest logged it: the log record of the
        // read-back equals the original record, and sides, status and mode survive, over every
        // sentence of the gold sets (train/dev, never the frozen test split) and the sample.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let prepared = Prepared::load(&root.join("tests/gold/parley.toml")).unwrap();
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(root.join("tests/gold")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".jsonl") && !name.starts_with("test") {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                        texts.push(v["text"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
        }
        assert!(
            texts.len() > 100,
            "the gold sets are missing: {}",
            texts.len()
        );
        let (mut typed, mut modes, mut not_occurred) = (0, 0, 0);
        for text in &texts {
            let extraction = prepared.extractor.extract(&Document {
                title: "",
                text,
                date: chrono::NaiveDate::from_ymd_opt(2024, 6, 1),
            });
            for e in &extraction.events {
                let record = logged_event("a", e);
                let back = extraction_of(&record);
                assert_eq!(logged_event("a", &back), record, "{text}");
                assert_eq!(
                    (&back.source, &back.target, &back.participants, back.mode),
                    (&e.source, &e.target, &e.participants, e.mode),
                    "{text}"
                );
                if e.event_type.is_some() {
                    typed += 1;
                    assert_eq!(back.status, e.status, "{text}");
                    not_occurred += usize::from(e.status != Status::Occurred);
                }
                modes += usize::from(e.mode.is_some());
            }
        }
        // The sets exercise what the round trip is about.
        assert!(
            typed > 100 && modes > 50 && not_occurred > 10,
            "{typed} {modes} {not_occurred}"
        );
    }
}
