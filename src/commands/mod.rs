//! The non-daemon subcommands: `check`, `extract`, `events`, `alerts`, `feeds`, `replay`,
//! the operator verbs and `backtest`. Each returns its output through a writer so tests and
//! the binary share them.
//!
//! One job per file: `query` is the read side the JSON API and the web UI share, `render`
//! prints what it returns, `ops` holds the operator's writes, `explain` is `alerts show`,
//! `extract` is `parley extract` and `replay` rebuilds from the log. The commands that
//! are a query followed by its rendering live here. Time parsing is the command line's, in
//! `crate::cli`.

mod explain;
mod extract;
mod ops;
mod query;
mod render;
mod replay;

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::pipeline::Prepared;
use crate::store::Store;

pub use explain::alerts_show;
pub use extract::extract;
pub use ops::{alerts_ack, alerts_retry, silence_add, silence_expire, watchlist_edit};
pub use query::{
    AlertFilter, EventFilter, event_filter, feed_reports, find_alert, query_alerts, query_clusters,
    query_events,
};
pub use render::{
    render_store_stats, write_alerts, write_clusters, write_dead_letters, write_events,
    write_feeds, write_silences,
};
pub use replay::{reextract, replay};

/// A failed write to the command's output, named as the user sees it.
fn stdout_err(source: std::io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source,
    }
}

/// `parley check`: validates and compiles the config, returns its summary.
pub fn check(config_path: &Path) -> Result<String, Error> {
    let prepared = Prepared::load(config_path)?;
    Ok(format!(
        "{}: OK\n{}",
        config_path.display(),
        prepared.config.summary()
    ))
}

/// `parley backtest`: what `rule` would have raised over the stored articles.
pub fn backtest(
    prepared: &Prepared,
    store: &Store,
    rule: &str,
    since: Option<DateTime<Utc>>,
    json: bool,
    out: &mut dyn Write,
) -> Result<usize, Error> {
    let Some(rule) = prepared.config.rules.iter().find(|r| r.id == rule) else {
        return Err(Error::Usage(format!(
            "--rule: no rule {rule:?} in the config"
        )));
    };
    let alerts = crate::pipeline::backtest(prepared, store, rule, since)?;
    // Same rendering as `parley alerts`, so a backtest reads like the alerts it predicts.
    write_alerts(&alerts, json, out)?;
    Ok(alerts.len())
}
