//! The postings: derived indexes that let the read side answer `--kind`, `--since` and
//! `--actor` without reading the whole log.
//!
//! Why they exist: `alerts --since 1d`, `events --actor X --since 7d` and the web pages read
//! a few hundred records out of a log of millions; scanning the log for them took seconds at
//! 20,000 articles (issue 17, issue 18). Two postings answer them:
//! - `pi` kind time seq: every event under its kind, by the second it occurred;
//! - `pw` lp(actor) kind time seq: every extracted record and alert under each actor it names.
//!
//! They are projection keys (the `p` prefix), so they are what every projection is: written
//! by the pure fold in the event's own atomic batch, covered by the checkpoint, caught up
//! after a crash, deleted and refolded by `replay` and when the projection version changes.
//! A posting only narrows the search: readers load each event and apply their filter to it
//! (times here are whole seconds). A superseded extracted record leaves the actor postings,
//! which are the per-actor index ([`Store::actor_event_seqs`]), and keeps its kind posting;
//! the query hides it, as it does when scanning.
//!
//! Reads are exact even while the postings lag the log (during a replay, or after an
//! append whose projections failed): events after the checkpoint are read from the log and
//! matched against the postings they will get.

use chrono::{DateTime, Utc};

use super::fold::Op;
use super::{Store, StoreError, keys};
use crate::events::{Envelope, Event};

/// The postings of one event: the fold's writes for it.
pub(crate) fn postings(env: &Envelope) -> Vec<Op> {
    let Some(code) = keys::kind_code(env.event.kind()) else {
        return Vec::new();
    };
    let mut ops = vec![Op::Put(
        keys::posting(keys::kind_time_prefix(code), env.occurred_at, env.seq),
        Vec::new(),
    )];
    ops.extend(
        actor_postings(env)
            .into_iter()
            .map(|key| Op::Put(key, Vec::new())),
    );
    ops
}

/// The keys of an event's actor postings (none for kinds that name no actors); the fold
/// deletes them again when a re-extraction supersedes the record.
pub(crate) fn actor_postings(env: &Envelope) -> Vec<Vec<u8>> {
    let Some(code) = keys::kind_code(env.event.kind()) else {
        return Vec::new();
    };
    let actors: &[String] = match &env.event {
        Event::EventExtracted(e) => &e.actors,
        Event::AlertRaised(a) => &a.actors,
        _ => &[],
    };
    actors
        .iter()
        .map(|actor| {
            keys::posting(
                keys::actor_time_prefix(actor, code),
                env.occurred_at,
                env.seq,
            )
        })
        .collect()
}

impl Store {
    /// Seqs of the events of `kind` that occurred in or after `since`'s second, ascending
    /// (every event of the kind without `since`). Callers still apply their own filter to each
    /// event. An unknown kind has none.
    pub fn kind_seqs(
        &self,
        kind: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<u64>, StoreError> {
        match keys::kind_code(kind) {
            Some(code) => self.posted_seqs(keys::kind_time_prefix(code), since),
            None => Ok(Vec::new()),
        }
    }

    /// Seqs of the events of `kind` that name `actor` (extracted records and alerts; other
    /// kinds name none) and occurred in or after `since`'s second, ascending. Extracted records
    /// a re-extraction superseded are not among them (once the supersession is folded).
    pub fn actor_kind_seqs(
        &self,
        actor: &str,
        kind: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<u64>, StoreError> {
        match keys::kind_code(kind) {
            Some(code) => self.posted_seqs(keys::actor_time_prefix(actor, code), since),
            None => Ok(Vec::new()),
        }
    }

    /// The durable seqs posted under `prefix` from `since` on: the postings up to the
    /// checkpoint, then the log's own events after it.
    fn posted_seqs(
        &self,
        prefix: Vec<u8>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<u64>, StoreError> {
        let durable = self.durable();
        let checkpoint = self.checkpoint()?;
        let start = match since {
            Some(at) => {
                let mut start = prefix.clone();
                start.extend_from_slice(&keys::time_part(at));
                start
            }
            None => prefix.clone(),
        };
        let mut seqs = Vec::new();
        for item in self.inner.db.range(start.as_slice()..).keys() {
            let k = item.map_err(|e| self.db_err(e))?;
            if !k.starts_with(&prefix) {
                break;
            }
            let seq = k
                .len()
                .checked_sub(8)
                .and_then(|at| keys::be_u64(&k[at..]))
                .ok_or_else(|| StoreError::Corrupt {
                    key: keys::printable(&k),
                    message: "posting without a u64 seq".into(),
                })?;
            if seq <= durable {
                seqs.push(seq);
            }
        }
        if checkpoint < durable {
            // Not folded yet: match those events against the postings they will get.
            seqs.retain(|&seq| seq <= checkpoint);
            for env in self.iter_from(checkpoint + 1) {
                let env = env?;
                let posted = postings(&env).into_iter().any(|op| match op {
                    Op::Put(k, _) => k.starts_with(&prefix) && k >= start,
                    Op::Delete(_) => false,
                });
                if posted {
                    seqs.push(env.seq);
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        Ok(seqs)
    }

    /// The highest seq folded into the projections (0 while a rebuild has not finished).
    fn checkpoint(&self) -> Result<u64, StoreError> {
        match self
            .inner
            .db
            .get(keys::CHECKPOINT)
            .map_err(|e| self.db_err(e))?
        {
            Some(v) => keys::be_u64(&v).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(keys::CHECKPOINT),
                message: "checkpoint is not a u64".into(),
            }),
            None => Ok(0),
        }
    }
}
