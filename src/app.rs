//! Dispatch from a parsed command line to the commands, and logging set-up. `main` stays thin:
//! it parses, calls [`run`], and turns the error into an exit code.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::api::client;
use crate::cli::{
    AlertsAction, Cli, ClusterAction, Command, FeedsAction, LogFormat, SilenceAction, StoreAction,
    WatchlistAction,
};
use crate::commands::{self, AlertFilter};
use crate::config;
use crate::daemon::{self, Backend, RunOptions};
use crate::error::Error;
use crate::opml;
use crate::service;
use crate::store::{Store, StoreError};

/// Installs the global tracing subscriber: logs go to stderr, so stdout stays for data.
/// `RUST_LOG` overrides the default level (`info`). Under systemd (stderr is the journal
/// stream) and without `--log-format json`, logs go to journald natively, with their
/// structured fields as journal fields.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if format == LogFormat::Pretty && service::stderr_is_journal() {
        match tracing_journald::layer() {
            Ok(journald) => {
                let _ = tracing_subscriber::registry()
                    .with(filter)
                    .with(journald.with_syslog_identifier("parley".into()))
                    .try_init();
                return;
            }
            Err(error) => eprintln!("parley: journald unavailable ({error}); logging to stderr"),
        }
    }
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

/// Answers a query from the store when this process can open it, else (a daemon holds
/// it: sled admits one process) through that daemon's API. Both paths produce the same
/// values, which the caller renders with the same code. Trying the store first means a CLI
/// never asks some other daemon that happens to listen on the configured port.
async fn query<T: serde::de::DeserializeOwned>(
    config: &config::Config,
    path_and_query: &str,
    local: impl FnOnce(&Store) -> Result<T, Error>,
) -> Result<T, Error> {
    match Store::open(&config.daemon.state_dir) {
        Ok(store) => {
            let result = local(&store);
            store.shutdown().await?;
            result
        }
        Err(StoreError::Locked { path }) => {
            match client::get(&config.api, &config.daemon.state_dir, path_and_query).await? {
                Some(answer) => Ok(answer),
                None => Err(Error::Store(StoreError::Locked { path })),
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// Performs a write verb on the store when this process can open it, else (a daemon holds
/// it) through that daemon's API, which runs the same command function on its own store.
/// Either way the event is appended by the store's single appender.
async fn write<T: serde::de::DeserializeOwned>(
    config: &config::Config,
    path: &str,
    body: Option<serde_json::Value>,
    local: impl AsyncFnOnce(&Store) -> Result<T, Error>,
) -> Result<T, Error> {
    match Store::open(&config.daemon.state_dir) {
        Ok(store) => {
            // With the NATS backend the event goes to the stream, so every node sees it.
            let attached = match Backend::attach(config, &store).await {
                Ok(attached) => attached,
                Err(error) => {
                    store.shutdown().await?;
                    return Err(error);
                }
            };
            let result = local(&store).await;
            attached.detach().await;
            store.shutdown().await?;
            result
        }
        Err(StoreError::Locked { path: dir }) => {
            match client::post(&config.api, &config.daemon.state_dir, path, body).await? {
                Some(answer) => Ok(answer),
                None => Err(Error::Store(StoreError::Locked { path: dir })),
            }
        }
        Err(error) => Err(error.into()),
    }
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
    // Not `stdout().lock()`: this future runs on the main thread for the daemon's whole life,
    // and a lock held here blocked every other thread's write to stdout for good. The
    // stdout notifier writes from a runtime worker, so each alert froze a worker forever (the
    // NATS client's task starved behind it). Unlocked, each write takes the lock briefly.
    let mut out = std::io::stdout();
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
            clustered,
        } => {
            // Validate locally first, so a bad flag is the same usage error either way.
            let filter = commands::event_filter(
                actor.as_deref(),
                event_type.as_deref(),
                kind.as_deref(),
                since.as_deref(),
                *limit,
                chrono::Utc::now(),
            )?;
            let config = config::load(&cli.config)?;
            if *clustered {
                let path = client::query(
                    "/api/v1/events/clustered",
                    &[
                        ("actor", actor.clone()),
                        ("type", event_type.clone()),
                        ("since", filter.since.map(|t| t.to_rfc3339())),
                        ("limit", limit.map(|n| n.to_string())),
                    ],
                );
                let clusters = query(&config, &path, |store| {
                    commands::query_clusters(store, &filter)
                })
                .await?;
                return commands::write_clusters(&clusters, *json, &mut out);
            }
            let path = client::query(
                "/api/v1/events",
                &[
                    ("actor", actor.clone()),
                    ("type", event_type.clone()),
                    ("kind", kind.clone()),
                    ("since", filter.since.map(|t| t.to_rfc3339())),
                    ("limit", limit.map(|n| n.to_string())),
                ],
            );
            let events = query(&config, &path, |store| {
                commands::query_events(store, &filter)
            })
            .await?;
            commands::write_events(&events, *json, &mut out)
        }
        Command::Alerts {
            action: Some(AlertsAction::Show { id }),
            ..
        } => {
            let config = config::load(&cli.config)?;
            let path = format!("/api/v1/alerts/{}/explain", client::segment(id));
            let text = query(&config, &path, |store| {
                let mut text = Vec::new();
                commands::alerts_show(store, &config, id, &mut text)?;
                Ok(String::from_utf8_lossy(&text).into_owned())
            })
            .await?;
            use std::io::Write;
            out.write_all(text.as_bytes()).map_err(|source| Error::Io {
                path: "<stdout>".into(),
                source,
            })
        }
        Command::Alerts {
            action: Some(AlertsAction::Ack { id }),
            ..
        } => {
            let config = config::load(&cli.config)?;
            let path = format!("/api/v1/alerts/{}/ack", client::segment(id));
            let id: String = write(&config, &path, None, async |store| {
                commands::alerts_ack(store, id).await
            })
            .await?;
            say(&mut out, &format!("acknowledged {id}"))
        }
        Command::Alerts {
            action: Some(AlertsAction::Retry { id }),
            ..
        } => {
            let config = config::load(&cli.config)?;
            let path = format!("/api/v1/alerts/{}/retry", client::segment(id));
            let n: usize = write(&config, &path, None, async |store| {
                commands::alerts_retry(store, id).await
            })
            .await?;
            say(&mut out, &format!("re-queued {n} failed deliveries"))
        }
        Command::Alerts {
            failed: true, json, ..
        } => {
            let config = config::load(&cli.config)?;
            let dead = query(&config, "/api/v1/alerts/failed", |store| {
                store.dead_letters().map_err(Error::from)
            })
            .await?;
            commands::write_dead_letters(&dead, *json, &mut out)
        }
        Command::Silence { action } => {
            let config = config::load(&cli.config)?;
            match action {
                SilenceAction::Add {
                    rule,
                    actors,
                    duration,
                    reason,
                } => {
                    let body = serde_json::json!({
                        "rule": rule, "actors": actors, "for": duration, "reason": reason,
                    });
                    let id: String =
                        write(&config, "/api/v1/silences", Some(body), async |store| {
                            commands::silence_add(store, &config, rule, actors, duration, reason)
                                .await
                        })
                        .await?;
                    say(&mut out, &id)
                }
                SilenceAction::List => {
                    let silences = query(&config, "/api/v1/silences", |store| {
                        store.silences().map_err(Error::from)
                    })
                    .await?;
                    commands::write_silences(&silences, &mut out)
                }
                SilenceAction::Expire { id } => {
                    let path = format!("/api/v1/silences/{}/expire", client::segment(id));
                    let () = write(&config, &path, None, async |store| {
                        commands::silence_expire(store, id).await
                    })
                    .await?;
                    say(&mut out, &format!("expired {id}"))
                }
            }
        }
        Command::Store { action } => {
            let config = config::load(&cli.config)?;
            let dir = &config.daemon.state_dir;
            match action {
                StoreAction::Stats => {
                    let store = Store::open(dir)?;
                    let stats = store.stats()?;
                    say(&mut out, &commands::render_store_stats(&stats))
                }
                StoreAction::Compact => {
                    let (before, after) = crate::store::compact(dir)?;
                    say(
                        &mut out,
                        &format!(
                            "compacted {}: {before} -> {after} bytes on disk",
                            dir.display()
                        ),
                    )
                }
            }
        }
        Command::Backtest { rule, since, json } => {
            let since = since
                .as_deref()
                .map(|s| crate::cli::parse_since(s, chrono::Utc::now()))
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
            let filter = AlertFilter {
                rule: rule.clone(),
                since: since
                    .as_deref()
                    .map(|s| crate::cli::parse_since(s, chrono::Utc::now()))
                    .transpose()?,
                limit: *limit,
            };
            let config = config::load(&cli.config)?;
            let path = client::query(
                "/api/v1/alerts",
                &[
                    ("rule", rule.clone()),
                    ("since", filter.since.map(|t| t.to_rfc3339())),
                    ("limit", limit.map(|n| n.to_string())),
                ],
            );
            let alerts = query(&config, &path, |store| {
                commands::query_alerts(store, &filter)
            })
            .await?;
            commands::write_alerts(&alerts, *json, &mut out)
        }
        Command::Feeds {
            action: Some(FeedsAction::Import { file, into }),
            ..
        } => {
            let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
                path: file.clone(),
                source,
            })?;
            let target = into
                .clone()
                .unwrap_or_else(|| opml::default_target(&cli.config));
            let added = opml::import(&cli.config, &text, &target)?;
            opml::write_added(&added, &target, &mut out)
        }
        Command::Feeds {
            action: Some(FeedsAction::Export),
            ..
        } => {
            let config = config::load(&cli.config)?;
            let text = opml::export(&config)?;
            use std::io::Write;
            writeln!(out, "{text}").map_err(|source| Error::Io {
                path: "<stdout>".into(),
                source,
            })
        }
        Command::Feeds { json, action: None } => {
            let config = config::load(&cli.config)?;
            let feeds = query(&config, "/api/v1/feeds", |store| {
                commands::feed_reports(&config, store)
            })
            .await?;
            commands::write_feeds(&feeds, *json, &mut out)
        }
        Command::Watchlist {
            action:
                WatchlistAction::Sync {
                    endpoint,
                    languages,
                    out: out_file,
                    dry_run,
                },
        } => {
            let config = config::load(&cli.config)?;
            let out_file = out_file.clone().unwrap_or_else(|| {
                config
                    .source
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join(crate::wikidata::sync::DEFAULT_OUT)
            });
            let opts = crate::wikidata::sync::SyncOptions {
                endpoint: endpoint.clone(),
                languages: languages.iter().map(|l| l.trim().to_string()).collect(),
                out: out_file,
                dry_run: *dry_run,
            };
            Ok(crate::wikidata::sync::run(&config, &opts, &mut out).await?)
        }
        Command::Watchlist {
            action: WatchlistAction::Import(a),
        } => {
            let config = config::load(&cli.config)?;
            let import = crate::wikidata::import::ImportOptions::from_args(
                &config.source,
                &a.endpoint,
                &a.positions,
                &a.countries,
                a.since,
                a.out.clone(),
                a.dry_run,
                &a.entity_endpoint,
                &a.languages,
            );
            let run = async { crate::wikidata::import::run(&config, &import?, &mut out).await };
            run.await.map_err(|e| Error::from_wikidata(e, "import"))
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
        Command::Train {
            gold,
            dev,
            out: model_out,
        } => crate::eval::train(&cli.config, gold, dev.as_deref(), model_out, &mut out),
        Command::Cluster {
            action: ClusterAction::Status { json },
        } => {
            let config = config::load(&cli.config)?;
            let status = crate::nats::status::read(&config).await?;
            let text = if *json {
                serde_json::to_string(&status).map_err(|e| Error::Input(e.to_string()))?
            } else {
                crate::nats::status::render(&status)
            };
            say(&mut out, text.trim_end())
        }
        Command::Replay { reextract } => {
            let prepared = crate::pipeline::Prepared::load(&cli.config)?;
            let nats = prepared.config.log.backend == config::LogBackend::Nats;
            if *reextract && nats {
                // Re-extracted records would land only in this node's mirror, not the stream.
                return Err(Error::Input(
                    "replay --reextract does not support [log] backend = \"nats\" yet".into(),
                ));
            }
            let store = Store::open(&prepared.config.daemon.state_dir)?;
            if *reextract {
                match commands::reextract(&store, &prepared).await {
                    Ok((articles, new, superseded)) => say(
                        &mut out,
                        &format!(
                            "re-extracted {articles} articles; {new} new event records; \
                             {superseded} superseded"
                        ),
                    )?,
                    Err(error) => {
                        store.shutdown().await?;
                        return Err(error);
                    }
                }
            }
            let events = if nats {
                Backend::refill_from_stream(&prepared.config, &store).await
            } else {
                commands::replay(&store).await
            };
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
