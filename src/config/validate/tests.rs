//! Validation of whole config texts: defaults, located errors, merges and secrets kept out of
//! messages.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;

use super::*;
use crate::config::*;

fn build_one(text: &str, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
    let file = SourceFile {
        display: "p.toml".into(),
        dir: PathBuf::from("/etc/parley"),
        text: text.into(),
    };
    let raw = file.parse()?;
    build(PathBuf::from("/etc/parley/p.toml"), &[(file, raw)], env)
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn log_table_defaults_and_rules() {
    // sled stays the default; the NATS keys have named defaults and located errors.
    let c = build_one("", &no_env).unwrap();
    assert_eq!(c.log.backend, LogBackend::Sled);
    assert_eq!(c.log.stream, DEFAULT_LOG_STREAM);
    assert_eq!(c.log.replicas, DEFAULT_LOG_REPLICAS);
    assert_eq!(c.log.lease_ttl, DEFAULT_LEASE_TTL);
    let c = build_one(
        "[log]\nbackend = \"nats\"\nurl = \"nats://u:secret@a:4222, nats://b:4222\"\nreplicas = 3\nnode_id = \"n1\"\nlease_ttl = \"3s\"\n",
        &no_env,
    )
    .unwrap();
    assert_eq!(c.log.backend, LogBackend::Nats);
    assert_eq!((c.log.replicas, c.log.node_id.as_str()), (3, "n1"));
    assert_eq!(c.log.lease_ttl, Duration::from_secs(3));
    assert!(!format!("{:?}", c.log).contains("secret"));
    for (text, line, what) in [
        ("[log]\nreplicas = 9\n", 2, "log.replicas"),
        ("[log]\nstream = \"A.B\"\n", 2, "log.stream"),
        ("[log]\nnode_id = \"a b\"\n", 2, "log.node_id"),
        ("[log]\n\nlease_ttl = \"100ms\"\n", 3, "log.lease_ttl"),
        ("[log]\nurl = \"nats://a:4222,http://b\"\n", 2, "log.url"),
    ] {
        let e = build_one(text, &no_env).unwrap_err();
        assert_eq!(
            e.location,
            format!("p.toml:{line}"),
            "{text}: {}",
            e.message
        );
        assert!(e.message.contains(what), "{text}: {}", e.message);
    }
}

#[test]
fn empty_file_gets_every_default() {
    // The named defaults are documented; this pins them to the code.
    let c = build_one("", &no_env).unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/etc/parley/data"));
    assert_eq!(c.daemon.poll_interval, DEFAULT_POLL_INTERVAL);
    assert_eq!(c.daemon.concurrency, DEFAULT_CONCURRENCY);
    assert_eq!(c.daemon.request_timeout, DEFAULT_REQUEST_TIMEOUT);
    assert_eq!(c.daemon.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    assert_eq!(c.daemon.user_agent, DEFAULT_USER_AGENT);
    assert_eq!(c.daemon.max_backoff, DEFAULT_MAX_BACKOFF);
    assert!(c.feeds.is_empty() && c.rules.is_empty());
}

#[test]
fn api_table_defaults_and_token_rules() {
    // The API is on by default on loopback; token and token_file exclude each other.
    let c = build_one("", &no_env).unwrap();
    assert_eq!(c.api, ApiConfig::default());
    assert_eq!(c.daemon.per_host_concurrency, DEFAULT_PER_HOST_CONCURRENCY);
    assert_eq!(c.daemon.per_host_delay, None);
    let c = build_one(
        "[api]\nlisten = \"127.0.0.1:0\"\ntoken = \"s3\"\n[daemon]\nper_host_delay = \"2s\"\n",
        &no_env,
    )
    .unwrap();
    assert_eq!(c.api.listen.port(), 0);
    assert_eq!(c.api.token.as_deref(), Some("s3"));
    assert!(!format!("{:?}", c.api).contains("s3"));
    assert_eq!(c.daemon.per_host_delay, Some(Duration::from_secs(2)));
    let e = build_one("[api]\ntoken = \"a\"\ntoken_file = \"b\"\n", &no_env).unwrap_err();
    assert_eq!(e.location, "p.toml:3");
    let e = build_one("[api]\nlisten = \"localhost\"\n", &no_env).unwrap_err();
    assert!(e.message.contains("api.listen"), "{}", e.message);
}

#[test]
fn state_directory_env_is_the_default_but_not_an_override() {
    // Under systemd the unit's StateDirectory wins only when the file does not say.
    let env = |k: &str| (k == STATE_DIRECTORY_ENV).then(|| "/var/lib/parley:/x".to_string());
    let c = build_one("", &env).unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/var/lib/parley"));
    let c = build_one("[daemon]\nstate_dir = \"../data\"\n", &env).unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/etc/data"));
}

#[test]
fn actor_without_aliases_is_known_by_name_and_dates_take_both_forms() {
    // Matching needs at least one alias; dates may be TOML dates or strings.
    let c = build_one(
        "[[actor]]\nid = \"a\"\nname = \"Ann Example\"\n\
         roles = [{ title = \"Mayor\", from = 2020-01-02, until = \"2021-03-04\" }]\n",
        &no_env,
    )
    .unwrap();
    let spec = &c.actors[0].spec;
    assert_eq!(spec.aliases, vec!["Ann Example".to_string()]);
    assert_eq!(spec.roles[0].from, NaiveDate::from_ymd_opt(2020, 1, 2));
    assert_eq!(spec.roles[0].until, NaiveDate::from_ymd_opt(2021, 3, 4));
    assert_eq!(c.actors[0].kind, ActorKind::Person);
}

#[test]
fn wikidata_ids_are_checked_and_located() {
    // A typo in an item id must stop at load with its line, not fail later in a sync.
    let c = build_one(
        "[[actor]]\nid = \"a\"\nname = \"A\"\nwikidata = \"Q42\"\n",
        &no_env,
    )
    .unwrap();
    assert_eq!(c.actors[0].wikidata.as_deref(), Some("Q42"));
    for bad in ["42", "Q", "Q04", "q42", "Q4x", "P39"] {
        let text = format!("[[actor]]\nid = \"a\"\nname = \"A\"\n\nwikidata = \"{bad}\"\n");
        let e = build_one(&text, &no_env).unwrap_err();
        assert_eq!(e.location, "p.toml:5", "{bad}: {e}");
        assert!(e.message.contains("Wikidata item id"), "{}", e.message);
    }
}

#[test]
fn actor_updates_merge_by_id_and_hand_written_wins() {
    // The generated file adds to actors; an operator's own names and dates must win.
    let c = build_one(
        "[[actor]]\nid = \"a\"\nname = \"Ann\"\naliases = [\"Ann\"]\n\
         roles = [{ title = \"Mayor of X\", from = 2020-01-01 }]\n\
         [[actor]]\nid = \"b\"\nname = \"Bob\"\naliases = [\"Bob\"]\n\
         roles = [{ title = \"Governor of X\", from = 2020-01-01, until = 2022-12-31 }]\n\
         [[actor_update]]\nid = \"a\"\nwikidata = \"Q1\"\naliases = [\"АНН\", \"ann\", \"Bob\"]\n\
         roles = [{ title = \"Mayor of X\", from = 2019-01-01 },\n\
           { title = \"Governor of X\", aliases = [\"Gov X\"], from = 2022-06-01 },\n\
           { title = \"Governor of X\", aliases = [\"Gov of X\"], from = 2023-01-01 }]\n\
         [[actor_update]]\nid = \"gone\"\naliases = [\"Nobody\"]\n",
        &no_env,
    )
    .unwrap();
    assert_eq!(c.actors.len(), 2, "updates must not add actors");
    let a = &c.actors[0].spec;
    // "ann" is already there (case folds); "Bob" is b's hand-written name.
    assert_eq!(a.aliases, vec!["Ann".to_string(), "АНН".to_string()]);
    let titles: Vec<(&str, Vec<String>, Option<NaiveDate>)> = a
        .roles
        .iter()
        .map(|r| (r.title.as_str(), r.aliases.clone(), r.from))
        .collect();
    assert_eq!(
        titles,
        vec![
            ("Mayor of X", vec![], NaiveDate::from_ymd_opt(2020, 1, 1)),
            // Overlaps b's hand-written term: only the name b does not hold survives.
            ("Gov X", vec![], NaiveDate::from_ymd_opt(2022, 6, 1)),
            (
                "Governor of X",
                vec!["Gov of X".to_string()],
                NaiveDate::from_ymd_opt(2023, 1, 1)
            ),
        ]
    );
}

#[test]
fn one_wikidata_item_per_actor() {
    // Two actors on one item would both get its names: every mention counted twice.
    let e = build_one(
        "[[actor]]\nid = \"a\"\nname = \"A\"\nwikidata = \"Q7\"\n\
         [[actor]]\nid = \"b\"\nname = \"B\"\nwikidata = \"Q7\"\n",
        &no_env,
    )
    .unwrap_err();
    assert_eq!(e.location, "p.toml:8");
    assert!(
        e.message
            .contains("already the item of actor \"a\" (p.toml:4)"),
        "{}",
        e.message
    );
}

#[test]
fn two_updates_of_one_actor_are_an_error() {
    // Two generated files claiming one actor would merge in an order nobody chose.
    let e = build_one(
        "[[actor]]\nid = \"a\"\nname = \"A\"\n[[actor_update]]\nid = \"a\"\n\
         [[actor_update]]\nid = \"a\"\n",
        &no_env,
    )
    .unwrap_err();
    assert_eq!(e.location, "p.toml:7");
    assert!(
        e.message.contains("duplicate actor_update id"),
        "{}",
        e.message
    );
}

#[test]
fn stdout_notifier_refuses_webhook_fields() {
    // A `url` on a stdout notifier is almost surely a mistaken `type`; say so.
    let e = build_one(
        "[[notifier]]\nid = \"n\"\ntype = \"stdout\"\nurl = \"http://x/\"\n",
        &no_env,
    )
    .unwrap_err();
    assert_eq!(e.location, "p.toml:4");
    assert!(
        e.message.contains("\"n\"") && e.message.contains("url"),
        "{}",
        e.message
    );
}

#[test]
fn header_value_errors_do_not_show_the_value() {
    // Header values are secrets; an invalid one is reported by name and line only.
    let env = |k: &str| (k == "TOK").then(|| "bad\nvalue-secret".to_string());
    let e = build_one(
        "[[notifier]]\nid = \"n\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:1/\"\n\
         headers = { Authorization = \"Bearer ${TOK}\" }\n",
        &env,
    )
    .unwrap_err();
    assert_eq!(e.location, "p.toml:5");
    assert!(e.message.contains("Authorization"), "{}", e.message);
    assert!(!e.message.contains("value-secret"));
}

#[test]
fn retry_max_must_not_be_below_retry_initial() {
    // Otherwise the doubling retry delay would be capped below its own start.
    let e = build_one(
        "[[notifier]]\nid = \"n\"\ntype = \"stdout\"\nretry_initial = \"1h\"\nretry_max = \"1m\"\n",
        &no_env,
    )
    .unwrap_err();
    assert_eq!(e.location, "p.toml:5");
}

#[test]
fn ids_with_colons_are_refused() {
    // `group:` is the only prefix syntax; an actor id containing `:` would be ambiguous.
    let e = build_one("[[actor]]\nid = \"group:x\"\nname = \"X\"\n", &no_env).unwrap_err();
    assert_eq!(e.location, "p.toml:2");
    assert!(e.message.contains("group:x"));
}
