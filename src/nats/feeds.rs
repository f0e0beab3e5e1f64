//! Each feed's polling state (validators, schedule), kept in the cluster's `<stream>_feeds`
//! bucket so that it moves with the feed's lease to whichever node polls it next.

use super::retry::{self, DATA_PATH, retry};
use super::{Cluster, ClusterError, js_err};
use crate::events::stable_id;
use crate::store::FeedState;

impl Cluster {
    /// A feed's polling state, shared by the cluster so it moves with the lease.
    pub async fn feed_state(&self, feed_key: &str) -> Result<Option<FeedState>, ClusterError> {
        let key = stable_id("feed", &[feed_key]);
        let feeds = &self.inner.feeds;
        match retry("read a feed state", DATA_PATH, retry::entry_final, || {
            feeds.get(&key)
        })
        .await
        .map_err(|e| js_err("read a feed state", e))?
        {
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| js_err(&format!("feed state of {feed_key}"), e)),
            None => Ok(None),
        }
    }

    /// Saves a feed's polling state in the cluster.
    pub async fn put_feed_state(
        &self,
        feed_key: &str,
        state: &FeedState,
    ) -> Result<(), ClusterError> {
        let key = stable_id("feed", &[feed_key]);
        let value = bytes::Bytes::from(
            serde_json::to_vec(state).map_err(|e| js_err("encode a feed state", e))?,
        );
        let feeds = &self.inner.feeds;
        retry("save a feed state", DATA_PATH, retry::put_final, || {
            feeds.put(&key, value.clone())
        })
        .await
        .map_err(|e| js_err("save a feed state", e))?;
        Ok(())
    }
}
