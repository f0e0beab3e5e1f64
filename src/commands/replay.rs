//! `parley replay` and `parley replay --reextract`: rebuilding what the log implies, the
//! projections from the events, or the extracted records from the stored articles.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::Error;
use crate::events::{Event, EventExtracted, NewEvent, stable_id};
use crate::extract::Document;
use crate::pipeline::Prepared;
use crate::store::Store;

/// What distinguishes one logged extraction of a sentence from another: re-extraction logs a
/// sentence again only when this differs from every record the log has for it.
fn extraction_fingerprint(e: &EventExtracted) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        e.article_id,
        e.sentence_index,
        e.actors.join(","),
        e.event_type.map_or("", |t| t.as_str()),
        e.source.join(","),
        e.target.join(","),
        e.participants.join(","),
        e.status.as_deref().unwrap_or(""),
    )
}

/// `parley replay --reextract`: runs the current watchlists and extractor over every stored
/// article (its feed text and its stored page text: no network) and logs the
/// `event.extracted` records of each article whose results differ from its live records.
/// The log stays append-only: the article's earlier records are not deleted but named in one
/// `extraction.superseded` event, which the projections fold (they leave the actor index and
/// the event clusters, `events` hides them), so the projections show exactly the latest
/// extraction of each article. Running it twice appends nothing the second time.
/// Alerts are not evaluated (replay never notifies).
/// Returns (articles read, records appended, records superseded).
pub async fn reextract(store: &Store, prepared: &Prepared) -> Result<(u64, u64, u64), Error> {
    // The live (not yet superseded) records of each article: (event id, fingerprint).
    let mut live: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    let mut articles = Vec::new();
    for env in store.iter_from(1) {
        let env = env?;
        match env.event {
            Event::EventExtracted(e) if !store.is_superseded(&env.event_id)? => {
                let fingerprint = extraction_fingerprint(&e);
                live.entry(e.article_id.clone())
                    .or_default()
                    .push((env.event_id, fingerprint));
            }
            Event::ArticleIngested(a) => articles.push((env.occurred_at, a)),
            _ => {}
        }
    }
    let mut new = Vec::new();
    let mut superseded_total = 0u64;
    for (at, a) in &articles {
        let text = crate::pipeline::stored_text(store, a)?;
        let extraction = prepared.extractor.extract(&Document {
            title: "",
            text: &text,
            date: Some(at.date_naive()),
        });
        let current = live.remove(&a.article_id).unwrap_or_default();
        let mut fingerprints = std::collections::HashSet::new();
        let mut produced = Vec::new();
        for e in &extraction.events {
            let logged = crate::pipeline::logged_event(&a.article_id, e);
            let fingerprint = extraction_fingerprint(&logged);
            if fingerprints.insert(fingerprint.clone()) {
                produced.push((fingerprint, e.sentence_index, logged));
            }
        }
        // Unchanged (the same results as the live records): nothing to log.
        let same = produced.len() == current.len()
            && produced
                .iter()
                .all(|(f, _, _)| current.iter().any(|(_, c)| c == f));
        if same {
            continue;
        }
        // Changed: the whole earlier set is superseded and the whole new set logged, so
        // the projections hold exactly the latest extraction of the article (a record that
        // did not change still counts once, and its clusters are rebuilt with the rest).
        let mut salt = String::new();
        if !current.is_empty() {
            superseded_total += current.len() as u64;
            let refs: Vec<&str> = std::iter::once(a.article_id.as_str())
                .chain(current.iter().map(|(id, _)| id.as_str()))
                .collect();
            salt = stable_id("sup", &refs);
            new.push(NewEvent {
                event_id: salt.clone(),
                occurred_at: *at,
                event: Event::ExtractionSuperseded(crate::events::ExtractionSuperseded {
                    article_id: a.article_id.clone(),
                    event_ids: current.into_iter().map(|(id, _)| id).collect(),
                }),
            });
        }
        // After the superseding event, so that the new records rebuild the clusters the
        // article left.
        for (fingerprint, index, logged) in produced {
            let mut event_id = stable_id("evt", &[&a.article_id, &index.to_string(), &fingerprint]);
            // A result logged before (and now superseded) comes back: a new record, since
            // the old id is taken; the superseding event's id keeps it unique per run.
            if store.contains(&event_id)? {
                event_id = stable_id("evt", &[&event_id, &salt]);
            }
            new.push(NewEvent {
                event_id,
                occurred_at: *at,
                event: Event::EventExtracted(logged),
            });
        }
    }
    let mut appended = 0u64;
    while !new.is_empty() {
        let rest = new.split_off(new.len().min(512));
        let batch = std::mem::replace(&mut new, rest);
        // Count the event records; the superseding events are not records.
        let records: Vec<bool> = batch
            .iter()
            .map(|n| matches!(n.event, Event::EventExtracted(_)))
            .collect();
        let results = store.append(batch).await?;
        appended += results
            .iter()
            .zip(records)
            .filter(|(r, record)| *record && matches!(r, crate::store::Appended::New(_)))
            .count() as u64;
    }
    Ok((articles.len() as u64, appended, superseded_total))
}

/// `parley replay`: rebuilds the projections, with a progress bar on a terminal.
pub async fn replay(store: &Store) -> Result<u64, Error> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(store.last_seq()?);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} events [{elapsed}]") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = {
        let bar = bar.clone();
        move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let stats = store.replay(&progress).await?;
    bar.finish_and_clear();
    Ok(stats.events)
}
