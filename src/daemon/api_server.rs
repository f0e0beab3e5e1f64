//! The HTTP API while the daemon runs: bound once at start-up (a bind failure fails the
//! start, before READY=1), kept across reloads, stopped after the last generation.

use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::DaemonHandles;
use crate::api::{self, ApiState};
use crate::error::Error;
use crate::pipeline::Prepared;
use crate::store::Store;

/// The HTTP API while the daemon runs: its state (shared with the generations) and task.
pub(super) struct ApiServer {
    /// Shared with the API's handlers: readiness, the running config, the alert stream.
    pub(super) state: ApiState,
    task: Option<tokio::task::JoinHandle<()>>,
    addr_file: Option<std::path::PathBuf>,
}

impl ApiServer {
    /// Binds and starts the API if enabled. A bind failure is fatal at start-up, before
    /// READY=1, so systemd reports the failed start.
    pub(super) async fn start(
        prepared: &Prepared,
        store: &Store,
        handles: &DaemonHandles,
    ) -> Result<ApiServer, Error> {
        let state = ApiState {
            store: store.clone(),
            metrics: handles.metrics.clone(),
            ready: Arc::new(AtomicBool::new(false)),
            config: Arc::new(RwLock::new(prepared.config.clone())),
            alerts: handles.alerts.clone(),
            shutdown: CancellationToken::new(),
            started: Instant::now(),
            wake_relay: handles.wake_relay.clone(),
        };
        let api = &prepared.config.api;
        if !api.enabled {
            return Ok(ApiServer {
                state,
                task: None,
                addr_file: None,
            });
        }
        let listener = api::bind(api.listen).await?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            path: format!("api.listen {}", api.listen).into(),
            source,
        })?;
        info!(%addr, auth = api.token.is_some(), "HTTP API listening.");
        // A CLI finds a port-0 daemon through this file.
        let file = api::client::addr_file(&prepared.config.daemon.state_dir);
        let addr_file = match std::fs::write(&file, format!("{addr}\n")) {
            Ok(()) => Some(file),
            Err(error) => {
                warn!(path = %file.display(), %error, "Cannot record the API address.");
                None
            }
        };
        let task = tokio::spawn(api::serve(listener, state.clone()));
        Ok(ApiServer {
            state,
            task: Some(task),
            addr_file,
        })
    }

    /// Shows a reloaded configuration to the API.
    pub(super) fn set_config(&self, prepared: &Prepared) {
        let mut config = self.state.config.write().unwrap_or_else(|p| p.into_inner());
        *config = prepared.config.clone();
    }

    /// Marks the daemon not ready, stops the server (bounded) and removes the address file.
    pub(super) async fn stop(self) {
        self.state.ready.store(false, Ordering::Release);
        self.state.shutdown.cancel();
        if let Some(task) = self.task
            && tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
        {
            warn!("The HTTP API did not stop in time.");
        }
        if let Some(file) = self.addr_file {
            let _ = std::fs::remove_file(file);
        }
    }
}
