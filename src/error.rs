//! The library's error type and its mapping to process exit codes.
//!
//! Each module has its own typed error; this enum gathers them at the command level so that
//! `main` can pick an exit code without inspecting messages (78 = bad config, as sysexits'
//! EX_CONFIG, which systemd's `RestartPreventExitStatus=78` relies on).

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::extract::ExtractError;
use crate::feed::FetchError;
use crate::pipeline::PrepareError;
use crate::store::StoreError;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for a runtime failure (store, I/O, bad input data).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a command-line usage error (clap uses it too).
pub const EXIT_USAGE: u8 = 2;
/// Exit code for an invalid configuration (sysexits EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

/// Everything a parley command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration did not load or validate.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The actor aliases did not compile into a matcher (a configuration problem too).
    #[error("invalid configuration: {0}")]
    Extract(#[from] ExtractError),
    /// The event log failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The NATS JetStream backend failed (connection, streams, buckets).
    #[error(transparent)]
    Cluster(#[from] crate::nats::ClusterError),
    /// The HTTP client could not be built.
    #[error("cannot set up HTTP: {0}")]
    Http(#[from] FetchError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Input data (e.g. `extract --input`) was malformed; the message names where.
    #[error("{0}")]
    Input(String),
    /// A command-line value was malformed in a way clap could not check.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_)
            | Error::Extract(_)
            | Error::Cluster(crate::nats::ClusterError::DuplicateNode { .. }) => EXIT_CONFIG,
            Error::Usage(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}

/// A config that could not be prepared keeps the variant (and so the message and exit code)
/// it had when the pipeline returned this enum itself.
impl From<PrepareError> for Error {
    fn from(e: PrepareError) -> Error {
        match e {
            PrepareError::Config(e) => Error::Config(e),
            PrepareError::Extract(e) => Error::Extract(e),
            PrepareError::Http(e) => Error::Http(e),
        }
    }
}

impl Error {
    /// The error of a failed `parley watchlist {command}` (sync, import). Keeps the exit codes
    /// meaningful: 78 for config, 2 for usage, 1 for the rest.
    pub fn from_wikidata(e: crate::wikidata::WikidataError, command: &str) -> Error {
        use crate::wikidata::WikidataError;
        match e {
            WikidataError::Config(c) => Error::Config(c),
            WikidataError::Usage(m) => Error::Usage(m),
            WikidataError::Io { path, source } => Error::Io { path, source },
            other => Error::Input(format!("watchlist {command} failed: {other}")),
        }
    }
}

impl From<crate::wikidata::WikidataError> for Error {
    /// A failed sync (see [`Error::from_wikidata`]).
    fn from(e: crate::wikidata::WikidataError) -> Error {
        Error::from_wikidata(e, "sync")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_exit_78() {
        // systemd's RestartPreventExitStatus=78 depends on this mapping.
        let e = Error::Config(ConfigError {
            location: "parley.toml:3".into(),
            message: "bad".into(),
        });
        assert_eq!(e.exit_code(), EXIT_CONFIG);
        assert_eq!(Error::Input("x".into()).exit_code(), EXIT_FAILURE);
        assert_eq!(Error::Usage("x".into()).exit_code(), EXIT_USAGE);
    }
}
