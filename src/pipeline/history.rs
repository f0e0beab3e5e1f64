//! Earlier articles as the log recorded them: [`StoreHistory`] answers alert rules' window and
//! corroboration look-ups from the store, and [`stored_text`] gives back the text extraction
//! read for a logged article.
//!
//! Why it exists: live ingest, backtests and backfills all ask "what did the log say before
//! this?", and must get the same answer however articles fell into batches; one reader keeps
//! that answer in one place.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::logged::extraction_of;
use crate::alert::{History, PastArticle};
use crate::events::{ArticleIngested, Event};
use crate::extract::ExtractedEvent;
use crate::store::{Store, StoreError};

/// Earlier articles read from the store through the per-actor index.
#[derive(Clone, Copy)]
pub struct StoreHistory<'a> {
    /// The store.
    pub store: &'a Store,
    /// Only events before this seq (backtests replay the log as it was).
    pub before_seq: Option<u64>,
    /// Skip events recorded before a rule's last `rule.changed` (live ingest); backtests and
    /// backfills look at everything.
    pub respect_rule_changes: bool,
}

impl History for StoreHistory<'_> {
    fn recent(
        &self,
        rule: &str,
        actors: &BTreeSet<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PastArticle>, StoreError> {
        let after = if self.respect_rule_changes {
            self.store.rule_record(rule)?.map_or(0, |r| r.seq)
        } else {
            0
        };
        let before = self.before_seq.unwrap_or(u64::MAX);
        let mut seqs = BTreeSet::new();
        for actor in actors {
            seqs.extend(
                self.store
                    .actor_event_seqs(actor)?
                    .into_iter()
                    .filter(|s| *s > after && *s < before),
            );
        }
        let mut by_article: BTreeMap<String, (DateTime<Utc>, Vec<ExtractedEvent>)> =
            BTreeMap::new();
        for seq in seqs {
            let Some(env) = self.store.get_seq(seq)? else {
                continue;
            };
            let Event::EventExtracted(e) = env.event else {
                continue;
            };
            if env.occurred_at < from || env.occurred_at > to {
                continue;
            }
            let entry = by_article
                .entry(e.article_id.clone())
                .or_insert_with(|| (env.occurred_at, Vec::new()));
            entry.1.push(extraction_of(&e));
        }
        let mut out = Vec::new();
        for (article_id, (at, mut events)) in by_article {
            // Only articles marked done (and, for backtests, done before the cut).
            let Some(env) = self.store.get(&article_id)? else {
                continue;
            };
            if env.seq >= before {
                continue;
            }
            let Event::ArticleIngested(a) = env.event else {
                continue;
            };
            events.sort_by_key(|e| e.sentence_index);
            let text = stored_text(self.store, &a)?;
            out.push(PastArticle {
                article_id,
                title: a.title,
                url: a.url,
                feed: a.feed,
                published: a.published,
                at,
                text,
                events,
            });
        }
        Ok(out)
    }
}

/// The text extraction read for a logged article: the feed's text, then the fetched page's
/// main text from the store when there is one (what `--reextract` and backtests rerun on).
pub fn stored_text(store: &Store, a: &ArticleIngested) -> Result<String, StoreError> {
    let full = match &a.full_text_sha256 {
        Some(sha) => store.article_text(sha)?,
        None => None,
    };
    Ok(match full {
        Some(full) => format!("{}\n\n{full}", a.text),
        None => a.text.clone(),
    })
}
