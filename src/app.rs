//! Dispatch from a parsed command line to the commands, and logging set-up. `main` stays thin:
//! it parses, calls [`run`], and turns the error into an exit code.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::{AlertsAction, Cli, Command, LogFormat, SilenceAction};
use crate::commands::{self, EventFilter};
use crate::config;
use crate::daemon::{self, RunOptions};
use crate::error::Error;
use crate::store::Store;

/// Installs the global tracing subscriber: logs go to stderr, so stdout stays for data.
/// `RUST_LOG` overrides the default level (`info`).
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
}

/// Opens the store named by the config, for the query commands.
fn open_store(cli: &Cli) -> Result<Store, Error> {
    let config = config::load(&cli.config)?;
    Ok(Store::open(&config.daemon.state_dir)?)
}

/// Writes one line of command output.
fn say(out: &mut dyn std::io::Write, line: &str) -> Result<(), Error> {
    writeln!(out, "{line}").map_err(|source| Error::Io {
        path: "<stdout>".into(),
        source,
    })
}

/// Runs the command. Returns what the command printed on success via stdout.
pub async fn run(cli: Cli) -> Result<(), Error> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match &cli.command {
        Command::Run { once } => {
            let stats = daemon::run(&cli.config, RunOptions { once: *once }).await?;
            if *once {
                use std::io::Write;
                writeln!(out, "{}", stats.summary()).map_err(|source| Error::Io {
                    path: "<stdout>".into(),
                    source,
                })?;
            }
            Ok(())
        }
        Command::Check => {
            let summary = commands::check(&cli.config)?;
            use std::io::Write;
            writeln!(out, "{summary}").map_err(|source| Error::Io {
                path: "<stdout>".into(),
                source,
            })
        }
        Command::Extract {
            input,
            text,
            published,
        } => commands::extract(
            &cli.config,
            input.as_deref(),
            *text,
            published.as_deref(),
            &mut out,
        ),
        Command::Events {
            actor,
            event_type,
            kind,
            since,
            limit,
            json,
        } => {
            let now = chrono::Utc::now();
            let filter = EventFilter {
                actor: actor.clone(),
                event_type: event_type
                    .as_deref()
                    .map(|t| {
                        t.parse().map_err(|e: crate::plover::UnknownPloverType| {
                            Error::Usage(format!("--type: {e}"))
                        })
                    })
                    .transpose()?,
                kind: kind.as_deref().map(commands::parse_kind).transpose()?,
                since: since
                    .as_deref()
                    .map(|s| commands::parse_since(s, now))
                    .transpose()?,
                limit: *limit,
            };
            let store = open_store(&cli)?;
            let result = commands::events(&store, &filter, *json, &mut out);
            store.shutdown().await?;
            result
        }
        Command::Alerts {
            action: Some(action),
            ..
        } => {
            let config = config::load(&cli.config)?;
            let store = Store::open(&config.daemon.state_dir)?;
            let result = match action {
                AlertsAction::Show { id } => commands::alerts_show(&store, &config, id, &mut out),
                AlertsAction::Ack { id } => commands::alerts_ack(&store, id)
                    .await
                    .and_then(|id| say(&mut out, &format!("acknowledged {id}"))),
                AlertsAction::Retry { id } => commands::alerts_retry(&store, id)
                    .await
                    .and_then(|n| say(&mut out, &format!("re-queued {n} failed deliveries"))),
            };
            store.shutdown().await?;
            result
        }
        Command::Alerts {
            failed: true, json, ..
        } => {
            let store = open_store(&cli)?;
            let result = commands::alerts_failed(&store, *json, &mut out);
            store.shutdown().await?;
            result
        }
        Command::Silence { action } => {
            let config = config::load(&cli.config)?;
            let store = Store::open(&config.daemon.state_dir)?;
            let result = match action {
                SilenceAction::Add {
                    rule,
                    actors,
                    duration,
                    reason,
                } => commands::silence_add(&store, &config, rule, actors, duration, reason)
                    .await
                    .and_then(|id| say(&mut out, &id)),
                SilenceAction::List => commands::silence_list(&store, &mut out),
                SilenceAction::Expire { id } => commands::silence_expire(&store, id)
                    .await
                    .and_then(|()| say(&mut out, &format!("expired {id}"))),
            };
            store.shutdown().await?;
            result
        }
        Command::Backtest { rule, since, json } => {
            let since = since
                .as_deref()
                .map(|s| commands::parse_since(s, chrono::Utc::now()))
                .transpose()?;
            let prepared = crate::pipeline::Prepared::load(&cli.config)?;
            let store = Store::open(&prepared.config.daemon.state_dir)?;
            let result = commands::backtest(&prepared, &store, rule, since, *json, &mut out);
            store.shutdown().await?;
            result.map(|_| ())
        }
        Command::Alerts {
            rule,
            since,
            limit,
            json,
            ..
        } => {
            let since = since
                .as_deref()
                .map(|s| commands::parse_since(s, chrono::Utc::now()))
                .transpose()?;
            let store = open_store(&cli)?;
            let result = commands::alerts(&store, rule.as_deref(), since, *limit, *json, &mut out);
            store.shutdown().await?;
            result
        }
        Command::Eval {
            gold,
            json,
            min_mention_f1,
            min_pair_f1,
            min_typed_f1,
            min_status_f1,
        } => {
            let floors = crate::eval::Floors {
                mentions: *min_mention_f1,
                pairs: *min_pair_f1,
                typed: *min_typed_f1,
                status: *min_status_f1,
            };
            crate::eval::run(&cli.config, gold, *json, &floors, &mut out)
        }
        Command::Replay => {
            let store = open_store(&cli)?;
            let events = commands::replay(&store).await;
            store.shutdown().await?;
            let events = events?;
            use std::io::Write;
            writeln!(out, "replayed {events} events; projections rebuilt").map_err(|source| {
                Error::Io {
                    path: "<stdout>".into(),
                    source,
                }
            })
        }
    }
}
