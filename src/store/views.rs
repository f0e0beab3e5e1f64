//! Reads of the alert-side projections (cooldown state, silences, acknowledgements, rule
//! versions, event clusters), the store statistics, and the raw projection snapshot that
//! tests compare between a live and a replayed store.

use chrono::{DateTime, Utc};

use super::{
    EventCluster, ProjectionEntry, RuleRecord, Store, StoreError, StoreStats, codec, keys, stats,
};

impl Store {
    /// When the rule last raised an alert for this actor set (alert-state projection);
    /// the time is the alert's `occurred_at`.
    pub fn last_alert(
        &self,
        rule: &str,
        actor_key: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = keys::alert_state(rule, actor_key);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Every silence added and not expired (including those past their end; callers compare
    /// `until` with their clock).
    pub fn silences(&self) -> Result<Vec<crate::events::SilenceAdded>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.db.scan_prefix(keys::silence_prefix()) {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            out.push(codec::decode(&k, &v)?);
        }
        Ok(out)
    }

    /// When an alert was acknowledged, if it was.
    pub fn acked_at(&self, alert_id: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = keys::ack(alert_id);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// A rule's recorded definition, if any.
    pub fn rule_record(&self, rule: &str) -> Result<Option<RuleRecord>, StoreError> {
        let key = keys::rule(rule);
        match self.inner.db.get(&key).map_err(|e| self.db_err(e))? {
            Some(v) => codec::decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Records and bytes per record kind, and the disk sled takes (`parley store stats`).
    /// Reads every key, so it takes a while on a large store; it writes nothing.
    pub fn stats(&self) -> Result<StoreStats, StoreError> {
        stats::collect(&self.inner.db, &self.inner.path)
    }

    /// Every event cluster (one event, many reports), in key order; callers sort and filter.
    pub fn event_clusters(&self) -> Result<Vec<EventCluster>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.db.scan_prefix(keys::cluster_prefix()) {
            let (k, v) = item.map_err(|e| self.db_err(e))?;
            out.push(codec::decode(&k, &v)?);
        }
        Ok(out)
    }

    /// Every projection key and value, for tests that compare live state with replayed state.
    pub fn projection_snapshot(&self) -> Result<Vec<ProjectionEntry>, StoreError> {
        self.inner
            .db
            .scan_prefix([keys::PROJECTION])
            .map(|item| {
                item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| self.db_err(e))
            })
            .collect()
    }
}
