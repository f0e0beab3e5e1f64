//! `parley watchlist sync`: keeps watchlists current from Wikidata (issue 20).
//!
//! Hand-kept leadership lists go stale the day a government changes. Wikidata records who
//! held which office and when (P39 "position held" with P580/P582 start and end), with names
//! in every language. For each `[[actor]]` with a `wikidata = "Q…"` id, the sync reads the
//! item and the items of the offices it held, and writes one generated file of
//! `[[actor_update]]` tables (aliases, dated roles) that the config loader merges into the
//! hand-written actors by id, hand-written names and roles winning on conflict.
//!
//! `parley watchlist import` fills the watchlists in the first place: it asks Wikidata's
//! SPARQL endpoint for the holders of chosen offices and adds them as actors with their ids,
//! then runs the sync for them.
//!
//! One job per file: [`client`] speaks HTTP politely and caches by revision, [`entity`] reads
//! Wikidata's entity JSON, [`sync`] builds the generated file and the change report,
//! [`sparql`] asks the Query Service and reads its JSON results, [`positions`] holds the
//! queries per kind of office, [`import`] turns their answers into actors, and `atomic`
//! replaces a file whole (for the cache and the generated files).

mod atomic;
pub mod client;
pub mod entity;
pub mod import;
pub mod positions;
pub mod sparql;
pub mod sync;

use std::path::PathBuf;

use crate::config::ConfigError;

/// Everything a sync can fail with. Each message names the entity or URL concerned.
#[derive(Debug, thiserror::Error)]
pub enum WikidataError {
    /// The request could not be made or its body not read (connection, timeout, TLS).
    #[error("{url}: request failed: {message}")]
    Request {
        /// The entity URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error status (after the retries it allows).
    #[error("{url}: the server answered {status}{detail}")]
    Status {
        /// The entity URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Extra words (retries, waits).
        detail: String,
    },
    /// The entity does not exist (404): a wrong or deleted id in the config.
    #[error("{id}: no such Wikidata entity at {url} (check the actor's `wikidata` id)")]
    NotFound {
        /// The item id.
        id: String,
        /// The entity URL.
        url: String,
    },
    /// The body was larger than `[daemon] max_body_bytes`.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge {
        /// The entity URL.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// The body was not Wikidata entity JSON.
    #[error("{id}: not Wikidata entity JSON: {message}")]
    Format {
        /// The item id.
        id: String,
        /// The parser's message.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The config did not load, or the generated file made it invalid (then the previous
    /// file was put back).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A command-line value was malformed (e.g. a language code).
    #[error("{0}")]
    Usage(String),
}
