//! systemd integration: the `sd_notify` protocol (READY, RELOADING, STOPPING, STATUS,
//! WATCHDOG) and the environment systemd hands a service (`CONFIGURATION_DIRECTORY`,
//! `WATCHDOG_USEC`/`WATCHDOG_PID`, `JOURNAL_STREAM`).
//!
//! Every function here is a no-op outside systemd (no `NOTIFY_SOCKET`), so the daemon code
//! calls them unconditionally and behaves the same in a terminal, in a container and under
//! systemd. Send errors are logged at debug level: a service manager that went away must not
//! stop the daemon.

use std::path::PathBuf;
use std::time::Duration;

use sd_notify::NotifyState;
use tracing::debug;

use crate::config::CONFIGURATION_DIRECTORY_ENV;

fn send(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(states) {
        debug!(%error, "Cannot notify the service manager.");
    }
}

/// READY=1 with a status line: the store is open, projections are caught up, the API is
/// bound (and, after a reload, the new generation runs).
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// RELOADING=1 (with MONOTONIC_USEC, which newer systemd versions ask for) before a reload.
pub fn reloading() {
    let mut states = vec![NotifyState::Reloading, NotifyState::Status("Reloading")];
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    send(&states);
}

/// STOPPING=1 when a graceful stop begins.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("Stopping")]);
}

/// A STATUS= line (shown by `systemctl status`).
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// WATCHDOG=1: the daemon proved itself alive (see the daemon's watchdog task).
pub fn watchdog_ping() {
    send(&[NotifyState::Watchdog]);
}

/// The watchdog period asked for by `WatchdogSec=` (`WATCHDOG_USEC`, honouring
/// `WATCHDOG_PID` when set), or `None` when there is no watchdog for this process.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

/// The default config file when neither `--config` nor `PARLEY_CONFIG` is given:
/// `$CONFIGURATION_DIRECTORY/parley.toml` under systemd's `ConfigurationDirectory=`
/// (first entry when it lists several), else `config/parley.toml`.
pub fn default_config_path() -> PathBuf {
    default_config_path_from(std::env::var(CONFIGURATION_DIRECTORY_ENV).ok())
}

fn default_config_path_from(dir: Option<String>) -> PathBuf {
    dir.as_deref()
        .and_then(|v| v.split(':').find(|s| !s.is_empty()))
        .map_or_else(
            || PathBuf::from("config/parley.toml"),
            |d| PathBuf::from(d).join("parley.toml"),
        )
}

/// Is standard error connected to the journal? systemd sets `JOURNAL_STREAM` to the
/// `device:inode` of the stream it gave the service; a match means logs should go to
/// journald natively (with structured fields) instead of as text lines.
pub fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let value = value.to_string_lossy();
    let Some((dev, ino)) = value.split_once(':') else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    dev.parse::<u64>().ok() == Some(meta.dev()) && ino.parse::<u64>().ok() == Some(meta.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_directory_names_the_default_config() {
        // Under ConfigurationDirectory=parley the unit need not pass --config at all.
        assert_eq!(
            default_config_path_from(Some("/etc/parley".into())),
            PathBuf::from("/etc/parley/parley.toml")
        );
        assert_eq!(
            default_config_path_from(Some(":/etc/a:/etc/b".into())),
            PathBuf::from("/etc/a/parley.toml")
        );
        assert_eq!(
            default_config_path_from(None),
            PathBuf::from("config/parley.toml")
        );
    }
}
