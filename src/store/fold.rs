//! What a projection fold sees and returns: the current state through [`ProjectionRead`], its
//! writes as [`Op`]s.
//!
//! The fold over the log is split by projection (`projection.rs` for alerts and delivery,
//! `cluster.rs` for event clusters), and the appender applies what they return. This small
//! vocabulary sits below all three, so `projection` calls the cluster fold without the cluster
//! fold importing `projection` back.

use super::StoreError;

/// Read access to the current projection state, as the fold needs it.
pub(crate) trait ProjectionRead {
    /// The value at `key`, with every earlier op of the same fold pass applied.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
}

/// One projection write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// Set `key` to `value`.
    Put(Vec<u8>, Vec<u8>),
    /// Remove `key` (a no-op if absent).
    Delete(Vec<u8>),
}
