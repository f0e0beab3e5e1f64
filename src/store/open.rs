//! Opening and closing a store: sled's settings, the appender thread started and recovered
//! (format conversion, projection catch-up) before the first handle is returned, and the
//! orderly shutdown that drains it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};
use tracing::debug;

use super::appender::Request;
use super::{Inner, Store, StoreError, appender, db_err};

/// sled's page cache bound, in bytes. sled's default is 1 GiB, so a daemon whose log grows
/// every cycle kept growing its RSS towards that (benches/load.sh: 87 MiB after the first of
/// 20 cycles, 258 MiB after the 13th). 64 MiB holds the recent log tail and the projection
/// keys that ingest reads; older pages are read back from disk when a replay needs them.
/// (It bounds the cache only: with 8 MiB, RSS still grew about 2 MiB a cycle while the log
/// grew, so sled's memory beyond the cache follows the tree's size.)
const CACHE_CAPACITY: u64 = 64 * 1024 * 1024;

/// Is this sled error the "another process holds the lock" one? sled 0.34 reports it as an
/// `Io` error built from a message, so the message is all there is to recognise.
fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Opens the sled database in `dir` as every store handle (and compaction) does.
pub(super) fn open_db(dir: &Path, path: &str) -> Result<sled::Db, StoreError> {
    sled::Config::new()
        .path(dir)
        // Durability is the appender's job (one flush per group); a background flusher
        // would add unrequested fsyncs.
        .flush_every_ms(None)
        .cache_capacity(CACHE_CAPACITY)
        .open()
        .map_err(|e| {
            if is_lock_error(&e) {
                StoreError::Locked {
                    path: path.to_owned(),
                }
            } else {
                db_err(path, e)
            }
        })
}

impl Store {
    /// Opens (or creates) the store in `dir` and starts the appender task. Catches projections
    /// up if their checkpoint is behind the log. Must be called inside a tokio runtime.
    ///
    /// (The appender runs on its own thread and runtime, so this also works outside one.)
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.display().to_string();
        let db = open_db(dir, &path)?;
        let durable = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = {
            let (db, thread_path, durable) = (db.clone(), path.clone(), durable.clone());
            std::thread::Builder::new()
                .name("parley-appender".into())
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread().build() {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = ready_tx.send(Err(StoreError::Db {
                                path: thread_path,
                                message: format!("appender runtime: {e}"),
                            }));
                            return;
                        }
                    };
                    rt.block_on(async move {
                        let started = match appender::Appender::recover(db, thread_path, durable) {
                            Ok(a) => a.start_flush().await.map(|()| a),
                            Err(e) => Err(e),
                        };
                        match started {
                            Ok(a) => {
                                let _ = ready_tx.send(Ok(()));
                                a.run(rx).await;
                            }
                            Err(e) => {
                                let _ = ready_tx.send(Err(e));
                            }
                        }
                    });
                })
                .map_err(|e| StoreError::Db {
                    path: path.clone(),
                    message: format!("cannot start appender thread: {e}"),
                })?
        };
        let started = ready_rx.recv().unwrap_or(Err(StoreError::Closed));
        let inner = Inner {
            db,
            path,
            tx: Some(tx),
            thread: Some(thread),
            durable,
            upstream: std::sync::OnceLock::new(),
        };
        // On failure, dropping `inner` joins the (finished) thread before returning.
        started?;
        debug!(path = %inner.path, last_seq = inner.durable.load(Ordering::Acquire), "Store opened.");
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// Drains queued appends, flushes, and stops the appender. Later appends fail with `Closed`.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Shutdown { reply })?;
        answer.await.unwrap_or(Err(StoreError::Closed))
    }
}
