//! Unix signals turned into the two things the daemon understands.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

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
