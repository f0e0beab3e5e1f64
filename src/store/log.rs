//! Reading the log: events by id or seq, ranges in log order, and the per-actor index. Reads
//! stop at the durable watermark, so nothing whose flush has not completed is ever seen.

use super::{Store, StoreError, codec, keys};
use crate::events::Envelope;

impl Store {
    /// The seq of a durable event id, if any.
    fn seq_of(&self, event_id: &str) -> Result<Option<u64>, StoreError> {
        let key = keys::id(event_id);
        let Some(v) = self.inner.db.get(&key).map_err(|e| self.db_err(e))? else {
            return Ok(None);
        };
        let seq = keys::be_u64(&v).ok_or_else(|| StoreError::Corrupt {
            key: keys::printable(&key),
            message: "id index value is not a u64 seq".into(),
        })?;
        Ok((seq <= self.durable()).then_some(seq))
    }

    /// Was this `event.extracted` replaced by a re-extraction (`extraction.superseded`)?
    pub fn is_superseded(&self, event_id: &str) -> Result<bool, StoreError> {
        self.inner
            .db
            .contains_key(keys::superseded(event_id))
            .map_err(|e| self.db_err(e))
    }

    /// Is this event id in the log?
    pub fn contains(&self, event_id: &str) -> Result<bool, StoreError> {
        Ok(self.seq_of(event_id)?.is_some())
    }

    /// The event with this id.
    pub fn get(&self, event_id: &str) -> Result<Option<Envelope>, StoreError> {
        match self.seq_of(event_id)? {
            Some(seq) => self.get_seq(seq),
            None => Ok(None),
        }
    }

    /// The event at this seq.
    pub fn get_seq(&self, seq: u64) -> Result<Option<Envelope>, StoreError> {
        if seq == 0 || seq > self.durable() {
            return Ok(None);
        }
        let key = keys::event(seq);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Highest seq in the log (0 when empty).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        let durable = self.durable();
        if durable == 0 {
            return Ok(0);
        }
        let last = self
            .inner
            .db
            .range(keys::event(1)..=keys::event(durable))
            .next_back()
            .transpose()
            .map_err(|e| self.db_err(e))?;
        match last {
            Some((k, _)) => keys::event_seq(&k).ok_or_else(|| StoreError::Corrupt {
                key: keys::printable(&k),
                message: "event key without a u64 seq".into(),
            }),
            None => Ok(0),
        }
    }

    /// Events with seq >= `from`, in order.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = Result<Envelope, StoreError>> + '_ {
        let durable = self.durable();
        let from = from.max(1);
        let range = (from <= durable).then(|| {
            self.inner
                .db
                .range(keys::event(from)..=keys::event(durable))
        });
        range.into_iter().flatten().map(move |item| {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            codec::decode(&k, &v)
        })
    }

    /// Seqs of the `event.extracted` events naming this actor, ascending, without those a
    /// re-extraction superseded (the actor postings, `index.rs`).
    pub fn actor_event_seqs(&self, actor: &str) -> Result<Vec<u64>, StoreError> {
        self.actor_kind_seqs(actor, "event.extracted", None)
    }
}
