//! Earlier articles, for the rules that look beyond the one being evaluated (`scope =
//! "window"`, `min_sources > 1`). The trait keeps evaluation pure: the pipeline implements it
//! over the store, backtests and tests over plain values.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::extract::ExtractedEvent;
use crate::store::StoreError;

/// An article seen before the one being evaluated, as window and corroboration rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastArticle {
    /// Article id.
    pub article_id: String,
    /// Title.
    pub title: String,
    /// Link.
    pub url: Option<String>,
    /// Feed name.
    pub feed: String,
    /// Publication time from the feed.
    pub published: Option<DateTime<Utc>>,
    /// The time windows are measured on: publication, else when it was ingested.
    pub at: DateTime<Utc>,
    /// The article text (for near-duplicate detection and keyword filters).
    pub text: String,
    /// Its sentences with actors.
    pub events: Vec<ExtractedEvent>,
}

/// Earlier articles, for rules that look across articles. Implemented by the pipeline over the
/// store (per-actor index) and by tests and backtests over plain values.
pub trait History {
    /// Articles naming any of `actors` whose time is within `from..=to`, excluding articles
    /// recorded before the rule's last definition change (see `rule.changed`).
    fn recent(
        &self,
        rule: &str,
        actors: &BTreeSet<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PastArticle>, StoreError>;
}

#[cfg(test)]
/// No history: single-article rules only (what [`super::evaluate`] uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHistory;

#[cfg(test)]
impl History for NoHistory {
    fn recent(
        &self,
        _: &str,
        _: &BTreeSet<String>,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<Vec<PastArticle>, StoreError> {
        Ok(Vec::new())
    }
}

/// A history held in memory (articles of the batch being ingested, backtests, tests).
impl History for Vec<PastArticle> {
    fn recent(
        &self,
        _: &str,
        actors: &BTreeSet<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PastArticle>, StoreError> {
        Ok(self
            .iter()
            .filter(|a| a.at >= from && a.at <= to)
            .filter(|a| {
                a.events
                    .iter()
                    .any(|e| e.actors.iter().any(|x| actors.contains(&**x)))
            })
            .cloned()
            .collect())
    }
}

/// Two histories, e.g. the store and the not-yet-appended part of the current batch.
pub struct Chain<'a>(pub &'a dyn History, pub &'a dyn History);

impl History for Chain<'_> {
    fn recent(
        &self,
        rule: &str,
        actors: &BTreeSet<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PastArticle>, StoreError> {
        let mut out = self.0.recent(rule, actors, from, to)?;
        for a in self.1.recent(rule, actors, from, to)? {
            if !out.iter().any(|o| o.article_id == a.article_id) {
                out.push(a);
            }
        }
        Ok(out)
    }
}
