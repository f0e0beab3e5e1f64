//! Unix signals turned into the two things the daemon understands.
//!
//! [`request_reload`] puts a reload on the same channel from inside the process (the web
//! UI's watchlist edits), so it runs exactly the code a SIGHUP runs.

use std::sync::Mutex;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// The sending end of the newest [`listen`]er's channel. Signals are process-wide, and so
/// is this: one daemon per process.
static IN_PROCESS: Mutex<Option<mpsc::UnboundedSender<Signal>>> = Mutex::new(None);

/// Asks the running daemon to reload, as SIGHUP does. False when nothing listens (no
/// daemon in this process, or it has stopped).
pub fn request_reload() -> bool {
    let sender = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    sender
        .as_ref()
        .is_some_and(|tx| tx.send(Signal::Reload).is_ok())
}

/// What an operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGHUP: reload the configuration through the start-up path.
    Reload,
    /// SIGTERM or SIGINT: stop gracefully.
    Shutdown,
}

/// Starts listening; the receiver yields one [`Signal`] per delivered signal.
pub fn listen() -> std::io::Result<mpsc::UnboundedReceiver<Signal>> {
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (tx, rx) = mpsc::unbounded_channel();
    *IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx.clone());
    tokio::spawn(async move {
        loop {
            let sig = tokio::select! {
                Some(()) = hup.recv() => Signal::Reload,
                Some(()) = term.recv() => Signal::Shutdown,
                Some(()) = int.recv() => Signal::Shutdown,
                else => break,
            };
            if tx.send(sig).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}
