//! The command line, declared with clap. Kept apart from `main` so tests and docs can reach it.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::error::Error;

/// Watches news feeds for diplomacy and notifies you when the actors you track meet.
#[derive(Debug, Parser)]
#[command(name = "parley", version, about, long_about = None)]
pub struct Cli {
    /// Config file. Defaults to $PARLEY_CONFIG, then $CONFIGURATION_DIRECTORY/parley.toml
    /// (systemd), then config/parley.toml.
    #[arg(
        long,
        global = true,
        env = "PARLEY_CONFIG",
        default_value_os_t = crate::service::default_config_path()
    )]
    pub config: PathBuf,
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// `parley cluster ...`.
#[derive(Debug, Subcommand)]
pub enum ClusterAction {
    /// Nodes, their leases, their lag behind the stream, and the outbox depth.
    Status {
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: poll feeds, extract, alert, notify.
    Run {
        /// Poll every feed once, deliver pending notifications, print a summary and exit.
        #[arg(long)]
        once: bool,
    },
    /// Validate the config and print a summary. Exits 78 when it is invalid.
    Check,
    /// Run extraction on articles without touching the store.
    Extract {
        /// JSON Lines input (`{"id","title","text","published","source"}`); stdin if absent.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Treat the whole input as one plain-text article.
        #[arg(long)]
        text: bool,
        /// Publication date for `--text` input (RFC 3339 or YYYY-MM-DD); dated roles use it.
        #[arg(long)]
        published: Option<String>,
    },
    /// Query the event log.
    Events {
        /// Only events naming this actor id.
        #[arg(long)]
        actor: Option<String>,
        /// Only events of this PLOVER type.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Only this envelope kind (article.ingested, event.extracted, alert.raised, ...).
        #[arg(long)]
        kind: Option<String>,
        /// Only events that occurred since this date (YYYY-MM-DD, RFC 3339) or duration (48h).
        #[arg(long)]
        since: Option<String>,
        /// At most this many (the most recent).
        #[arg(long)]
        limit: Option<usize>,
        /// One JSON envelope per line.
        #[arg(long)]
        json: bool,
        /// One line per real event instead of per record: reports with the same actors and
        /// type within ±2 days, with their report and independent-source counts.
        #[arg(long, conflicts_with = "kind")]
        clustered: bool,
    },
    /// List raised alerts, or act on one (show, ack, retry).
    #[command(args_conflicts_with_subcommands = true)]
    Alerts {
        /// show | ack | retry.
        #[command(subcommand)]
        action: Option<AlertsAction>,
        /// List dead letters (deliveries given up) instead of alerts.
        #[arg(long)]
        failed: bool,
        /// Only alerts of this rule.
        #[arg(long)]
        rule: Option<String>,
        /// Only alerts raised since this date or duration.
        #[arg(long)]
        since: Option<String>,
        /// At most this many (the most recent).
        #[arg(long)]
        limit: Option<usize>,
        /// One alert per line, in the webhook payload's shape.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild every projection from the log (with `[log] backend = "nats"`: from the
    /// stream). Never notifies.
    Replay {
        /// First rerun the current watchlists and extractor over every stored article (feed
        /// text plus stored page text; no fetching) and log what is new as `event.extracted`.
        #[arg(long)]
        reextract: bool,
    },
    /// The NATS backend: nodes, leases, lag and outbox depth.
    Cluster {
        /// What to show.
        #[command(subcommand)]
        action: ClusterAction,
    },
    /// Score extraction against an annotated gold set (precision, recall, F1).
    Eval {
        /// Gold file: JSON Lines of extract input plus `mentions` and `interactions`.
        #[arg(long)]
        gold: PathBuf,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Fail (exit 1) if mention F1 is below this.
        #[arg(long)]
        min_mention_f1: Option<f64>,
        /// Fail (exit 1) if actor-pair F1 is below this.
        #[arg(long)]
        min_pair_f1: Option<f64>,
        /// Fail (exit 1) if pair + type F1 is below this.
        #[arg(long)]
        min_typed_f1: Option<f64>,
        /// Fail (exit 1) if status accuracy (over the gold interactions found) is below this.
        #[arg(long = "min-status-accuracy", alias = "min-status-f1")]
        min_status_f1: Option<f64>,
    },
    /// Learn the interaction model from a gold file (deterministic; see `extract::model`).
    Train {
        /// Training gold file (JSON Lines, the `eval` format).
        #[arg(long)]
        gold: PathBuf,
        /// Development gold file: the regularisation and thresholds are chosen on it.
        #[arg(long)]
        dev: Option<PathBuf>,
        /// Where to write the model (config/models/interactions.model ships in the binary).
        #[arg(long)]
        out: PathBuf,
    },
    /// Feed health: last success, last error, failures in a row, next poll, items seen.
    Feeds {
        /// One JSON object per feed.
        #[arg(long)]
        json: bool,
        /// Import or export instead of listing.
        #[command(subcommand)]
        action: Option<FeedsAction>,
    },
    /// Mute a rule (optionally for some actors) for a while; list and expire silences.
    Silence {
        /// add | list | expire.
        #[command(subcommand)]
        action: SilenceAction,
    },
    /// The store itself: what it holds and how much disk it takes.
    Store {
        /// stats | compact.
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Keep watchlists current: names and dated roles from Wikidata.
    Watchlist {
        /// sync | import.
        #[command(subcommand)]
        action: WatchlistAction,
    },
    /// Print the alerts a rule would have raised over the stored articles. Appends and
    /// notifies nothing.
    Backtest {
        /// The rule id (as in the current config).
        #[arg(long)]
        rule: String,
        /// Only articles since this date or duration (e.g. 30d).
        #[arg(long)]
        since: Option<String>,
        /// One alert per line, in the webhook payload's shape.
        #[arg(long)]
        json: bool,
    },
}

/// `parley store ...` actions.
#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Records and bytes per record kind, and the disk the store takes.
    Stats,
    /// Rewrite the store with only its live data (gives back the disk that overwritten
    /// records still take). The daemon must be stopped.
    Compact,
}

/// `parley alerts ...` actions.
#[derive(Debug, Subcommand)]
pub enum AlertsAction {
    /// Why an alert fired: rule, actors, the aliases or roles that matched, evidence,
    /// deliveries.
    Show {
        /// Alert id (a unique prefix is enough).
        id: String,
    },
    /// Acknowledge an alert.
    Ack {
        /// Alert id (a unique prefix is enough).
        id: String,
    },
    /// Put an alert's dead letters back into the outbox.
    Retry {
        /// Alert id (a unique prefix is enough).
        id: String,
    },
}

/// `parley silence ...` actions.
#[derive(Debug, Subcommand)]
pub enum SilenceAction {
    /// Add a silence.
    Add {
        /// Rule id.
        #[arg(long)]
        rule: String,
        /// Only alerts naming all of these actor ids (comma-separated).
        #[arg(long, value_delimiter = ',')]
        actors: Vec<String>,
        /// How long (e.g. 12h).
        #[arg(long = "for")]
        duration: String,
        /// Why (shown in `silence list`).
        #[arg(long)]
        reason: String,
    },
    /// List silences (active and past their end, until expired).
    List,
    /// End a silence now.
    Expire {
        /// Silence id.
        id: String,
    },
}

/// `parley feeds import|export`.
#[derive(Debug, Subcommand)]
pub enum FeedsAction {
    /// Add the feeds of an OPML file to a feeds file the config includes.
    Import {
        /// The OPML file.
        file: PathBuf,
        /// Feeds file to write or extend (default: watchlists/feeds-imported.toml next to
        /// the config).
        #[arg(long)]
        into: Option<PathBuf>,
    },
    /// Print the configured feeds as OPML.
    Export,
}

/// `parley watchlist ...`.
#[derive(Debug, Subcommand)]
pub enum WatchlistAction {
    /// For each actor with a `wikidata` id, read its names and offices held (with dates)
    /// from Wikidata and write them to one generated file the config includes; print what
    /// changed. A failed sync leaves the previous file as it was.
    Sync {
        /// Wikibase endpoint (entity JSON at {endpoint}/wiki/Special:EntityData/{id}.json).
        #[arg(long, default_value = crate::wikidata::sync::DEFAULT_ENDPOINT)]
        endpoint: url::Url,
        /// Languages whose labels and aliases become names, in order of preference.
        #[arg(long, value_delimiter = ',', default_value = crate::wikidata::sync::DEFAULT_LANGUAGES)]
        languages: Vec<String>,
        /// The generated file (default: watchlists/wikidata.toml next to the config).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print what would change; write nothing (not even the cache).
        #[arg(long)]
        dry_run: bool,
    },
    /// Add the holders of chosen offices, found through Wikidata's SPARQL endpoint, as
    /// actors with their Wikidata ids (one generated file the config includes), then sync
    /// them. Actors already in the watchlists are not added twice.
    Import(WatchlistImport),
}

/// `parley watchlist import` options.
#[derive(Debug, clap::Args)]
pub struct WatchlistImport {
    /// Which offices (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        value_parser = clap::builder::PossibleValuesParser::new(crate::wikidata::positions::POSITION_NAMES)
    )]
    pub positions: Vec<String>,
    /// `all`, or ISO 3166-1 alpha-2 country codes (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub countries: Vec<String>,
    /// Also those who held the offices on or after this day (YYYY-MM-DD); without it,
    /// current holders only.
    #[arg(long)]
    pub since: Option<NaiveDate>,
    /// SPARQL endpoint (the Wikidata Query Service).
    #[arg(long, default_value = crate::wikidata::sparql::DEFAULT_ENDPOINT)]
    pub endpoint: url::Url,
    /// The generated actors file (default: watchlists/wikidata-import.toml next to the
    /// config).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print what would be added; write nothing (the sync that follows is a dry run too).
    #[arg(long)]
    pub dry_run: bool,
    /// Wikibase endpoint of the sync that follows (as `watchlist sync --endpoint`).
    #[arg(long, default_value = crate::wikidata::sync::DEFAULT_ENDPOINT)]
    pub entity_endpoint: url::Url,
    /// Languages of the sync that follows (as `watchlist sync --languages`).
    #[arg(long, value_delimiter = ',', default_value = crate::wikidata::sync::DEFAULT_LANGUAGES)]
    pub languages: Vec<String>,
}

/// Parses a publication time: RFC 3339 or a bare date (taken as midnight UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

/// Parses `--since`: a date / RFC 3339 time, or a duration back from now ("48h", "30d").
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    if let Some(t) = parse_time(s) {
        return Ok(t);
    }
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        Error::Usage(format!(
            "--since {s:?}: not a date (YYYY-MM-DD, RFC 3339) or a duration (48h): {e}"
        ))
    })?;
    let d =
        chrono::Duration::from_std(d).map_err(|e| Error::Usage(format!("--since {s:?}: {e}")))?;
    now.checked_sub_signed(d).ok_or_else(|| {
        Error::Usage(format!(
            "--since {s:?}: reaches before the earliest representable date"
        ))
    })
}
