//! Phase two: raw tables in, a checked [`Config`] out.
//!
//! Order matters only for references: feeds, actors and notifiers are built first (from every
//! file), then groups (which name actors), then rules (which name actors, groups and
//! notifiers). Every error is located at the value it is about and names the id or URL.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::header::{HeaderName, HeaderValue};
use toml::Spanned;
use url::Url;

use super::expand::expand;
use super::paths::{normalize, resolve};
use super::raw::{
    RawActor, RawActorUpdate, RawApi, RawDaemon, RawFeed, RawFile, RawGroup, RawLog, RawNotifier,
    RawRole, RawRule, SourceFile, Str,
};
use super::*;
use crate::events::Severity;
use crate::extract::{ActorSpec, RoleSpec};
use crate::feed::FeedLocation;
use crate::plover::PloverType;

/// Longest duration any setting accepts (100 years): parley adds these spans to the current
/// time, which must stay inside chrono's calendar.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Looks up an environment variable (the real environment, or a map in tests).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Builds the validated config from the parsed files; `files[0]` is the main file.
pub(crate) fn build(
    source: PathBuf,
    files: &[(SourceFile, RawFile)],
    env: EnvLookup<'_>,
) -> Result<Config, ConfigError> {
    let b = Builder { env };
    let Some((main, main_raw)) = files.first() else {
        return Err(ConfigError {
            location: source.display().to_string(),
            message: "no config file to build from".to_string(),
        });
    };
    let default_daemon = Spanned::new(0..0, RawDaemon::default());
    let daemon = b.daemon(main, main_raw.daemon.as_ref().unwrap_or(&default_daemon))?;
    let default_api = Spanned::new(0..0, RawApi::default());
    let api = b.api(main, main_raw.api.as_ref().unwrap_or(&default_api))?;
    let default_log = Spanned::new(0..0, RawLog::default());
    let log = b.log(main, main_raw.log.as_ref().unwrap_or(&default_log))?;

    let mut feeds = Vec::new();
    let mut seen_feeds: HashMap<FeedLocation, String> = HashMap::new();
    let mut actors = Vec::new();
    let mut seen_actors: HashMap<String, String> = HashMap::new();
    let mut notifiers = Vec::new();
    let mut seen_notifiers: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for feed in &raw.feed {
            feeds.push(b.feed(file, feed, &daemon, &mut seen_feeds)?);
        }
        for actor in &raw.actor {
            actors.push(b.actor(file, actor, &mut seen_actors)?);
        }
        for notifier in &raw.notifier {
            notifiers.push(b.notifier(file, notifier, &mut seen_notifiers)?);
        }
    }
    check_wikidata_unique(files, &actors)?;
    let mut updates = Vec::new();
    let mut seen_updates: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for update in &raw.actor_update {
            updates.push(b.actor_update(file, update, &mut seen_updates)?);
        }
    }
    apply_updates(&mut actors, updates);

    let mut groups = Vec::new();
    let mut seen_groups: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for group in &raw.group {
            groups.push(b.group(file, group, &seen_actors, &mut seen_groups)?);
        }
    }

    let group_members: HashMap<&str, &[String]> = groups
        .iter()
        .map(|g: &GroupConfig| (g.id.as_str(), g.members.as_slice()))
        .collect();
    let feed_names: HashSet<&str> = feeds.iter().map(|f: &FeedConfig| f.name.as_str()).collect();
    let refs = Refs {
        actors: &seen_actors,
        groups: &group_members,
        notifiers: &seen_notifiers,
        feeds: &feed_names,
    };
    let mut rules = Vec::new();
    let mut seen_rules: HashMap<String, String> = HashMap::new();
    for (file, raw) in files {
        for rule in &raw.rule {
            rules.push(b.rule(file, rule, &refs, &mut seen_rules)?);
        }
    }

    Ok(Config {
        source,
        daemon,
        api,
        log,
        feeds,
        actors,
        groups,
        rules,
        notifiers,
    })
}

/// What rules may refer to.
struct Refs<'a> {
    actors: &'a HashMap<String, String>,
    groups: &'a HashMap<&'a str, &'a [String]>,
    notifiers: &'a HashMap<String, String>,
    feeds: &'a HashSet<&'a str>,
}

struct Builder<'a> {
    env: EnvLookup<'a>,
}

/// True when an id is safe to use in rules, events and CLI flags (no `:` so `group:` is
/// unambiguous, no spaces so it needs no quoting).
fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The host name, when it is a valid node id: the default `log.node_id`, so each machine
/// of a cluster names itself without per-host config.
fn default_node_id() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())?;
    let name = name.trim().to_string();
    is_valid_id(&name).then_some(name)
}

/// True for a Wikidata item id: `Q` then digits, no leading zero. Public so the sync refuses
/// the same ids the config does.
pub fn is_wikidata_id(s: &str) -> bool {
    s.strip_prefix('Q').is_some_and(|d| {
        !d.is_empty()
            && !d.starts_with('0')
            && d.len() <= 12
            && d.bytes().all(|b| b.is_ascii_digit())
    })
}

/// One Wikidata item per actor: two actors on one item would both receive its names, and
/// every mention would count twice. The error points at the second actor's `wikidata`.
fn check_wikidata_unique(
    files: &[(SourceFile, RawFile)],
    actors: &[ActorConfig],
) -> Result<(), ConfigError> {
    let mut first: HashMap<&str, (&str, String)> = HashMap::new();
    let raw = files
        .iter()
        .flat_map(|(file, raw)| raw.actor.iter().map(move |a| (file, a)));
    for ((file, raw), actor) in raw.zip(actors) {
        let (Some(q), Some(span)) = (
            actor.wikidata.as_deref(),
            raw.get_ref().wikidata.as_ref().map(|w| w.span()),
        ) else {
            continue;
        };
        if let Some((other, at)) = first.get(q) {
            return Err(file.err(
                &span,
                format!(
                    "actor {:?}: wikidata {q:?} is already the item of actor {other:?} ({at})",
                    actor.spec.id
                ),
            ));
        }
        first.insert(q, (actor.spec.id.as_str(), file.at(&span)));
    }
    Ok(())
}

/// A validated `[[actor_update]]`, waiting for every `[[actor]]` to be known.
struct ActorUpdate {
    id: String,
    aliases: Vec<String>,
    roles: Vec<RoleSpec>,
    /// `file:line` of its id, for the warning when no actor has that id.
    at: String,
}

/// The key two names are compared by when merging: lower case, single spaces. A proxy for
/// the extractor's normalisation that is good enough to spot the same name written twice.
fn name_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// True when two inclusive, possibly open date ranges share a day.
fn overlaps(a: &RoleSpec, b: &RoleSpec) -> bool {
    let starts_before_end = |from: Option<NaiveDate>, until: Option<NaiveDate>| match (from, until)
    {
        (Some(f), Some(u)) => f <= u,
        _ => true,
    };
    starts_before_end(a.from, b.until) && starts_before_end(b.from, a.until)
}

/// Merges `[[actor_update]]` tables into the actors they name. The hand-written `[[actor]]`
/// tables win every conflict, because an operator's correction must survive the next sync:
/// - an alias another actor has by hand is dropped (it would make both match);
/// - a role whose title the actor already has by hand is dropped (the hand-written dates
///   win);
/// - a role name (title or alias) that another actor holds by hand over overlapping dates
///   is dropped (the hand-written holder wins); a role with no name left is dropped.
///
/// An update naming no actor is skipped with a warning, not an error: removing an actor
/// from a hand-written file must not break the config until the next sync.
fn apply_updates(actors: &mut [ActorConfig], updates: Vec<ActorUpdate>) {
    if updates.is_empty() {
        return;
    }
    let mut name_owner: HashMap<String, String> = HashMap::new();
    let mut hand_roles: Vec<(String, String, RoleSpec)> = Vec::new();
    for a in actors.iter() {
        for alias in &a.spec.aliases {
            name_owner
                .entry(name_key(alias))
                .or_insert_with(|| a.spec.id.clone());
        }
        for r in &a.spec.roles {
            for name in std::iter::once(&r.title).chain(&r.aliases) {
                hand_roles.push((a.spec.id.clone(), name_key(name), r.clone()));
            }
        }
    }
    for update in updates {
        let Some(actor) = actors.iter_mut().find(|a| a.spec.id == update.id) else {
            tracing::warn!(actor = %update.id, at = %update.at, "actor_update names no [[actor]]; ignored.");
            continue;
        };
        let id = actor.spec.id.clone();
        let taken_by_other = |key: &str| name_owner.get(key).is_some_and(|owner| *owner != id);
        for alias in update.aliases {
            let key = name_key(&alias);
            let known = actor.spec.aliases.iter().any(|a| name_key(a) == key);
            if !known && !taken_by_other(&key) {
                actor.spec.aliases.push(alias);
            }
        }
        let own_titles: HashSet<String> = hand_roles
            .iter()
            .filter(|(owner, _, _)| *owner == id)
            .map(|(_, _, r)| name_key(&r.title))
            .collect();
        for role in update.roles {
            if own_titles.contains(&name_key(&role.title)) {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            for name in std::iter::once(&role.title).chain(&role.aliases) {
                let key = name_key(name);
                let held_by_other = hand_roles
                    .iter()
                    .any(|(owner, k, r)| *owner != id && *k == key && overlaps(r, &role));
                let dup = names.iter().any(|n| name_key(n) == key);
                if !held_by_other && !taken_by_other(&key) && !dup {
                    names.push(name.clone());
                }
            }
            let mut names = names.into_iter();
            let Some(title) = names.next() else { continue };
            actor.spec.roles.push(RoleSpec {
                title,
                aliases: names.collect(),
                from: role.from,
                until: role.until,
            });
        }
    }
}

/// Records `id` as defined at `here`, or reports the earlier definition.
fn claim(seen: &mut HashMap<String, String>, id: &str, here: String) -> Result<(), String> {
    match seen.get(id) {
        Some(first) => Err(first.clone()),
        None => {
            seen.insert(id.to_string(), here);
            Ok(())
        }
    }
}

impl Builder<'_> {
    /// The string with `${VAR}` expanded; errors point at the string's line.
    fn text(&self, file: &SourceFile, s: &Str) -> Result<String, ConfigError> {
        self.expand_at(file, s.get_ref(), &s.span())
    }

    fn expand_at(
        &self,
        file: &SourceFile,
        s: &str,
        span: &Range<usize>,
    ) -> Result<String, ConfigError> {
        expand(s, self.env).map_err(|e| file.err(span, e.message()))
    }

    /// A non-empty (after trimming) expanded string.
    fn nonempty(&self, file: &SourceFile, s: &Str, what: &str) -> Result<String, ConfigError> {
        let value = self.text(file, s)?;
        if value.trim().is_empty() {
            return Err(file.err(&s.span(), format!("{what} is empty")));
        }
        Ok(value.trim().to_string())
    }

    /// An id: expanded, checked for charset, claimed against duplicates.
    fn id(
        &self,
        file: &SourceFile,
        s: &Str,
        kind: &str,
        seen: &mut HashMap<String, String>,
    ) -> Result<String, ConfigError> {
        let id = self.text(file, s)?;
        if !is_valid_id(&id) {
            return Err(file.err(
                &s.span(),
                format!(
                    "{kind} id {id:?} is not valid: use letters, digits, `-`, `_` and `.` only"
                ),
            ));
        }
        claim(seen, &id, file.at(&s.span())).map_err(|first| {
            file.err(
                &s.span(),
                format!("duplicate {kind} id {id:?} (first defined at {first})"),
            )
        })?;
        Ok(id)
    }

    /// A humantime duration; zero is refused unless `allow_zero`.
    fn duration(
        &self,
        file: &SourceFile,
        s: &Str,
        what: &str,
        allow_zero: bool,
    ) -> Result<Duration, ConfigError> {
        let text = self.text(file, s)?;
        let d = humantime::parse_duration(text.trim()).map_err(|e| {
            file.err(
                &s.span(),
                format!("{what}: bad duration {text:?} ({e}); write e.g. \"90s\", \"15m\", \"6h\""),
            )
        })?;
        if d.is_zero() && !allow_zero {
            return Err(file.err(&s.span(), format!("{what}: must be greater than zero")));
        }
        if d > MAX_DURATION {
            // Timestamps are computed as now ± these spans; past the calendar's range that
            // arithmetic would overflow, and no real setting needs a century.
            return Err(file.err(
                &s.span(),
                format!("{what}: {text:?} is too long (at most 100 years)"),
            ));
        }
        Ok(d)
    }

    fn opt_duration(
        &self,
        file: &SourceFile,
        s: Option<&Str>,
        what: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        s.map_or(Ok(default), |s| self.duration(file, s, what, false))
    }

    /// An integer in `min..=max`.
    fn int_in(
        &self,
        file: &SourceFile,
        n: &Spanned<i64>,
        what: &str,
        min: i64,
        max: i64,
    ) -> Result<i64, ConfigError> {
        let v = *n.get_ref();
        if v < min || v > max {
            return Err(file.err(
                &n.span(),
                format!("{what}: {v} is out of range (allowed {min}..={max})"),
            ));
        }
        Ok(v)
    }

    /// A date given as `"2021-01-26"` or as a bare TOML date.
    fn date(
        &self,
        file: &SourceFile,
        v: &Spanned<toml::Value>,
        what: &str,
    ) -> Result<NaiveDate, ConfigError> {
        let span = v.span();
        let bad = |shown: String| {
            file.err(
                &span,
                format!("{what}: bad date {shown} (expected YYYY-MM-DD, e.g. 2021-01-26)"),
            )
        };
        match v.get_ref() {
            toml::Value::String(s) => {
                let s = self.expand_at(file, s, &span)?;
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| bad(format!("{s:?}")))
            }
            toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                        .ok_or_else(|| bad(dt.to_string()))
                }
                _ => Err(bad(dt.to_string())),
            },
            other => Err(bad(other.to_string())),
        }
    }

    fn daemon(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawDaemon>,
    ) -> Result<DaemonConfig, ConfigError> {
        let d = raw.get_ref();
        let state_dir = match &d.state_dir {
            Some(s) => {
                let written = self.nonempty(file, s, "daemon.state_dir")?;
                resolve(&file.dir, Path::new(&written))
            }
            None => default_state_dir(&file.dir, self.env),
        };
        let poll_interval = self.opt_duration(
            file,
            d.poll_interval.as_ref(),
            "daemon.poll_interval",
            DEFAULT_POLL_INTERVAL,
        )?;
        let concurrency = match &d.concurrency {
            Some(n) => usize::try_from(self.int_in(file, n, "daemon.concurrency", 1, 4096)?)
                .unwrap_or(DEFAULT_CONCURRENCY),
            None => DEFAULT_CONCURRENCY,
        };
        let request_timeout = self.opt_duration(
            file,
            d.request_timeout.as_ref(),
            "daemon.request_timeout",
            DEFAULT_REQUEST_TIMEOUT,
        )?;
        let max_body_bytes = match &d.max_body_bytes {
            Some(n) => self
                .int_in(file, n, "daemon.max_body_bytes", 1, i64::MAX)?
                .unsigned_abs(),
            None => DEFAULT_MAX_BODY_BYTES,
        };
        let user_agent = match &d.user_agent {
            Some(s) => {
                let ua = self.nonempty(file, s, "daemon.user_agent")?;
                if HeaderValue::from_str(&ua).is_err() {
                    return Err(file.err(
                        &s.span(),
                        "daemon.user_agent: not a valid HTTP header value (control characters?)",
                    ));
                }
                ua
            }
            None => DEFAULT_USER_AGENT.to_string(),
        };
        let max_backoff = self.opt_duration(
            file,
            d.max_backoff.as_ref(),
            "daemon.max_backoff",
            DEFAULT_MAX_BACKOFF,
        )?;
        let per_host_concurrency = match &d.per_host_concurrency {
            Some(n) => {
                usize::try_from(self.int_in(file, n, "daemon.per_host_concurrency", 1, 64)?)
                    .unwrap_or(DEFAULT_PER_HOST_CONCURRENCY)
            }
            None => DEFAULT_PER_HOST_CONCURRENCY,
        };
        let per_host_delay = d
            .per_host_delay
            .as_ref()
            .map(|s| self.duration(file, s, "daemon.per_host_delay", true))
            .transpose()?
            .filter(|d| !d.is_zero());
        let mut allow_networks = Vec::new();
        for s in d.allow_networks.iter().flatten() {
            let text = self.nonempty(file, s, "daemon.allow_networks")?;
            let net = text
                .parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    file.err(
                        &s.span(),
                        format!(
                            "daemon.allow_networks: {text:?} is not a network (CIDR like \"10.0.0.0/8\", or one address)"
                        ),
                    )
                })?;
            allow_networks.push(net.trunc());
        }
        Ok(DaemonConfig {
            allow_networks,
            state_dir,
            poll_interval,
            concurrency,
            request_timeout,
            max_body_bytes,
            user_agent,
            max_backoff,
            per_host_concurrency,
            per_host_delay,
        })
    }

    /// `[api]`: the listen address and the optional bearer token (`token` or `token_file`,
    /// not both; a token file is read now and trimmed, so a reload picks up a rotated one).
    fn api(&self, file: &SourceFile, raw: &Spanned<RawApi>) -> Result<ApiConfig, ConfigError> {
        let a = raw.get_ref();
        let listen = match &a.listen {
            Some(s) => {
                let text = self.nonempty(file, s, "api.listen")?;
                text.parse().map_err(|e| {
                    file.err(
                        &s.span(),
                        format!("api.listen: {text:?} is not an IP:port address ({e})"),
                    )
                })?
            }
            None => DEFAULT_API_LISTEN,
        };
        let token = match (&a.token, &a.token_file) {
            (Some(_), Some(f)) => {
                return Err(file.err(
                    &f.span(),
                    "api.token and api.token_file are exclusive; give one",
                ));
            }
            (Some(t), None) => Some(self.nonempty(file, t, "api.token")?),
            (None, Some(f)) => {
                let written = self.nonempty(file, f, "api.token_file")?;
                let path = resolve(&file.dir, Path::new(&written));
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    file.err(
                        &f.span(),
                        format!("api.token_file: cannot read {}: {e}", path.display()),
                    )
                })?;
                let token = text.trim().to_string();
                if token.is_empty() {
                    return Err(file.err(
                        &f.span(),
                        format!("api.token_file: {} is empty", path.display()),
                    ));
                }
                Some(token)
            }
            (None, None) => None,
        };
        Ok(ApiConfig {
            enabled: a.enabled.unwrap_or(true),
            listen,
            token,
        })
    }

    /// `[log]`: the backend and, for `nats`, where the cluster is and who this node is.
    /// The NATS keys are checked even with `backend = "sled"` so a typo is caught before
    /// the switch; they only take effect with `nats`.
    fn log(&self, file: &SourceFile, raw: &Spanned<RawLog>) -> Result<LogConfig, ConfigError> {
        let l = raw.get_ref();
        let backend = match &l.backend {
            None => LogBackend::Sled,
            Some(s) => match self.nonempty(file, s, "log.backend")?.as_str() {
                "sled" => LogBackend::Sled,
                "nats" => LogBackend::Nats,
                other => {
                    return Err(file.err(
                        &s.span(),
                        format!("log.backend: {other:?} is not \"sled\" or \"nats\""),
                    ));
                }
            },
        };
        let url = match &l.url {
            Some(s) => {
                // One server or a comma-separated list of a cluster's servers.
                let text = self.nonempty(file, s, "log.url")?;
                for one in text.split(',') {
                    let parsed = Url::parse(one.trim()).map_err(|e| {
                        file.err(
                            &s.span(),
                            format!(
                                "log.url: not a URL ({e}); write e.g. \"nats://127.0.0.1:4222\""
                            ),
                        )
                    })?;
                    if !matches!(parsed.scheme(), "nats" | "tls") || parsed.host_str().is_none() {
                        return Err(file.err(
                            &s.span(),
                            format!(
                                "log.url: {} is not a nats:// or tls:// server address",
                                redact_url(&parsed)
                            ),
                        ));
                    }
                }
                text
            }
            None => DEFAULT_LOG_URL.to_string(),
        };
        let stream = match &l.stream {
            Some(s) => {
                let name = self.nonempty(file, s, "log.stream")?;
                if !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                {
                    return Err(file.err(
                        &s.span(),
                        format!(
                            "log.stream: {name:?} is not a valid stream name: use letters, digits, `-` and `_` only"
                        ),
                    ));
                }
                name
            }
            None => DEFAULT_LOG_STREAM.to_string(),
        };
        let replicas = match &l.replicas {
            Some(n) => self.int_in(file, n, "log.replicas", 1, 5)? as usize,
            None => DEFAULT_LOG_REPLICAS,
        };
        let node_id = match &l.node_id {
            Some(s) => {
                let id = self.nonempty(file, s, "log.node_id")?;
                if !is_valid_id(&id) {
                    return Err(file.err(
                        &s.span(),
                        format!(
                            "log.node_id {id:?} is not valid: use letters, digits, `-`, `_` and `.` only"
                        ),
                    ));
                }
                id
            }
            None => match default_node_id() {
                Some(id) => id,
                None if backend == LogBackend::Nats => {
                    return Err(file.err(
                        &raw.span(),
                        "log.node_id: the host name is not usable as a node id; set log.node_id",
                    ));
                }
                None => String::new(),
            },
        };
        let lease_ttl = self.opt_duration(
            file,
            l.lease_ttl.as_ref(),
            "log.lease_ttl",
            DEFAULT_LEASE_TTL,
        )?;
        if lease_ttl < MIN_LEASE_TTL {
            let span = l.lease_ttl.as_ref().map_or(raw.span(), |s| s.span());
            return Err(file.err(
                &span,
                format!("log.lease_ttl: must be at least {MIN_LEASE_TTL:?}"),
            ));
        }
        Ok(LogConfig {
            backend,
            url,
            stream,
            replicas,
            node_id,
            lease_ttl,
        })
    }

    fn feed(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawFeed>,
        daemon: &DaemonConfig,
        seen: &mut HashMap<FeedLocation, String>,
    ) -> Result<FeedConfig, ConfigError> {
        let f = raw.get_ref();
        // Messages and the default name use the URL as written, so a `${KEY}` in a query
        // string shows as the placeholder and never as the secret.
        let as_written = f.url.get_ref().clone();
        let url = self.text(file, &f.url)?;
        let location = match FeedLocation::parse(url.trim(), &file.dir)
            .map_err(|m| file.err(&f.url.span(), format!("feed {as_written:?}: {m}")))?
        {
            FeedLocation::File(path) => FeedLocation::File(normalize(&path)),
            http => http,
        };
        if let Some(first) = seen.get(&location) {
            return Err(file.err(
                &f.url.span(),
                format!("duplicate feed {as_written:?} (first defined at {first})"),
            ));
        }
        seen.insert(location.clone(), file.at(&f.url.span()));
        let name = match &f.name {
            Some(n) => self.nonempty(file, n, &format!("feed {as_written:?}: name"))?,
            None => as_written.clone(),
        };
        let interval = self.opt_duration(
            file,
            f.interval.as_ref(),
            &format!("feed {as_written:?}: interval"),
            daemon.poll_interval,
        )?;
        Ok(FeedConfig {
            location,
            name,
            interval,
            fetch_article: f.fetch_article.unwrap_or(false),
        })
    }

    fn actor(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawActor>,
        seen: &mut HashMap<String, String>,
    ) -> Result<ActorConfig, ConfigError> {
        let a = raw.get_ref();
        let id = self.id(file, &a.id, "actor", seen)?;
        let name = self.nonempty(file, &a.name, &format!("actor {id:?}: name"))?;
        let kind = match &a.kind {
            None => ActorKind::Person,
            Some(k) => match self.text(file, k)?.trim() {
                "person" => ActorKind::Person,
                "org" => ActorKind::Org,
                "country" => ActorKind::Country,
                other => {
                    return Err(file.err(
                        &k.span(),
                        format!(
                            "actor {id:?}: unknown kind {other:?} (expected person, org or country)"
                        ),
                    ));
                }
            },
        };
        let country = match &a.country {
            None => None,
            Some(c) => {
                let code = self.text(file, c)?.trim().to_ascii_uppercase();
                if !(2..=3).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphabetic())
                {
                    return Err(file.err(
                        &c.span(),
                        format!(
                            "actor {id:?}: country {code:?} is not an ISO 3166 code (e.g. \"US\")"
                        ),
                    ));
                }
                Some(code)
            }
        };
        let mut aliases = self.alias_list(file, a.aliases.as_deref(), &format!("actor {id:?}"))?;
        if aliases.is_empty() {
            aliases.push(name.clone());
        }
        let roles = self.roles(file, a.roles.as_deref(), &id)?;
        let wikidata = a
            .wikidata
            .as_ref()
            .map(|w| self.wikidata_id(file, w, &id))
            .transpose()?;
        Ok(ActorConfig {
            spec: ActorSpec {
                id,
                name,
                aliases,
                roles,
            },
            kind,
            country,
            wikidata,
        })
    }

    /// A Wikidata item id: `Q` and digits (`Q1234`), written as is.
    fn wikidata_id(&self, file: &SourceFile, s: &Str, id: &str) -> Result<String, ConfigError> {
        let value = self.text(file, s)?.trim().to_string();
        if is_wikidata_id(&value) {
            Ok(value)
        } else {
            Err(file.err(
                &s.span(),
                format!(
                    "actor {id:?}: wikidata {value:?} is not a Wikidata item id (expected Q and digits, e.g. \"Q1234\")"
                ),
            ))
        }
    }

    /// An actor's `roles`: titles, aliases and inclusive dates, `from` not after `until`.
    fn roles(
        &self,
        file: &SourceFile,
        raw: Option<&[Spanned<RawRole>]>,
        id: &str,
    ) -> Result<Vec<RoleSpec>, ConfigError> {
        let mut roles = Vec::new();
        for role in raw.unwrap_or_default() {
            let r = role.get_ref();
            let title = self.nonempty(file, &r.title, &format!("actor {id:?}: role title"))?;
            let what = format!("actor {id:?}: role {title:?}");
            let role_aliases = self.alias_list(file, r.aliases.as_deref(), &what)?;
            let from = r
                .from
                .as_ref()
                .map(|v| self.date(file, v, &format!("{what}: from")))
                .transpose()?;
            let until = r
                .until
                .as_ref()
                .map(|v| self.date(file, v, &format!("{what}: until")))
                .transpose()?;
            if let (Some(f), Some(u), Some(span)) = (from, until, r.from.as_ref().map(|v| v.span()))
                && f > u
            {
                return Err(file.err(
                    &span,
                    format!("{what}: `from` ({f}) is after `until` ({u})"),
                ));
            }
            roles.push(RoleSpec {
                title,
                aliases: role_aliases,
                from,
                until,
            });
        }
        Ok(roles)
    }

    /// One `[[actor_update]]`, checked like an actor's own names and roles; its id is claimed
    /// in `seen` so two updates of one actor are an error rather than a silent merge.
    fn actor_update(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawActorUpdate>,
        seen: &mut HashMap<String, String>,
    ) -> Result<ActorUpdate, ConfigError> {
        let u = raw.get_ref();
        let id = self.id(file, &u.id, "actor_update", seen)?;
        if let Some(w) = &u.wikidata {
            self.wikidata_id(file, w, &id)?;
        }
        let aliases =
            self.alias_list(file, u.aliases.as_deref(), &format!("actor_update {id:?}"))?;
        let roles = self.roles(file, u.roles.as_deref(), &id)?;
        Ok(ActorUpdate {
            at: file.at(&u.id.span()),
            id,
            aliases,
            roles,
        })
    }

    /// Aliases, trimmed, de-duplicated in order; an empty one is an error.
    fn alias_list(
        &self,
        file: &SourceFile,
        raw: Option<&[Str]>,
        what: &str,
    ) -> Result<Vec<String>, ConfigError> {
        let mut out: Vec<String> = Vec::new();
        for alias in raw.unwrap_or_default() {
            let value = self.nonempty(file, alias, &format!("{what}: alias"))?;
            if !out.contains(&value) {
                out.push(value);
            }
        }
        Ok(out)
    }

    fn group(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawGroup>,
        actors: &HashMap<String, String>,
        seen: &mut HashMap<String, String>,
    ) -> Result<GroupConfig, ConfigError> {
        let g = raw.get_ref();
        let id = self.id(file, &g.id, "group", seen)?;
        if g.members.get_ref().is_empty() {
            return Err(file.err(&g.members.span(), format!("group {id:?} has no members")));
        }
        let mut members: Vec<String> = Vec::new();
        for m in g.members.get_ref() {
            let member = self.text(file, m)?.trim().to_string();
            if let Some(nested) = member.strip_prefix("group:") {
                let what = if nested == id {
                    "the group includes itself".to_string()
                } else {
                    format!("it includes group {nested:?}")
                };
                return Err(file.err(
                    &m.span(),
                    format!(
                        "group {id:?}: members: {what}; groups hold actor ids only and cannot nest"
                    ),
                ));
            }
            if !actors.contains_key(&member) {
                return Err(file.err(
                    &m.span(),
                    format!("group {id:?}: unknown actor {member:?} (members must be actor ids)"),
                ));
            }
            if members.contains(&member) {
                return Err(file.err(
                    &m.span(),
                    format!("group {id:?}: actor {member:?} is listed twice"),
                ));
            }
            members.push(member);
        }
        Ok(GroupConfig { id, members })
    }

    fn rule(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawRule>,
        refs: &Refs<'_>,
        seen: &mut HashMap<String, String>,
    ) -> Result<RuleConfig, ConfigError> {
        let r = raw.get_ref();
        let id = self.id(file, &r.id, "rule", seen)?;
        if r.actors.get_ref().is_empty() {
            return Err(file.err(&r.actors.span(), format!("rule {id:?} has no actors")));
        }
        let mut slots: Vec<RuleSlot> = Vec::new();
        for entry in r.actors.get_ref() {
            let text = self.text(file, entry)?.trim().to_string();
            let slot = match text.strip_prefix("group:") {
                Some(gid) => match refs.groups.get(gid) {
                    Some(members) => RuleSlot::Group {
                        id: gid.to_string(),
                        members: members.to_vec(),
                    },
                    None => {
                        return Err(
                            file.err(&entry.span(), format!("rule {id:?}: unknown group {gid:?}"))
                        );
                    }
                },
                None if refs.actors.contains_key(&text) => RuleSlot::Actor(text.clone()),
                None => {
                    return Err(file.err(
                        &entry.span(),
                        format!("rule {id:?}: unknown actor {text:?} (use `group:ID` for groups)"),
                    ));
                }
            };
            if slots.contains(&slot) {
                return Err(file.err(
                    &entry.span(),
                    format!("rule {id:?}: {text:?} is listed twice"),
                ));
            }
            slots.push(slot);
        }
        let min_actors = match &r.min_actors {
            Some(n) => {
                let len = i64::try_from(slots.len()).unwrap_or(i64::MAX);
                let v = self.int_in(file, n, &format!("rule {id:?}: min_actors"), 1, len)?;
                usize::try_from(v).unwrap_or(slots.len())
            }
            None => slots.len(),
        };
        let scope = match &r.scope {
            None => DEFAULT_SCOPE,
            Some(s) => match self.text(file, s)?.trim() {
                "sentence" => Scope::Sentence,
                "article" => Scope::Article,
                "event" => Scope::Event,
                "window" => Scope::Window,
                other => {
                    return Err(file.err(
                        &s.span(),
                        format!("rule {id:?}: unknown scope {other:?} (expected sentence, article, event or window)"),
                    ));
                }
            },
        };
        let mut event_types: Vec<PloverType> = Vec::new();
        for t in r.event_types.as_deref().unwrap_or_default() {
            let text = self.text(file, t)?;
            let ty = PloverType::from_str(&text)
                .map_err(|e| file.err(&t.span(), format!("rule {id:?}: {e}")))?;
            if !event_types.contains(&ty) {
                event_types.push(ty);
            }
        }
        let cooldown = r
            .cooldown
            .as_ref()
            .map(|c| self.duration(file, c, &format!("rule {id:?}: cooldown"), true))
            .transpose()?;
        let mut notify: Vec<String> = Vec::new();
        for n in r.notify.as_deref().unwrap_or_default() {
            let nid = self.text(file, n)?.trim().to_string();
            if !refs.notifiers.contains_key(&nid) {
                return Err(file.err(&n.span(), format!("rule {id:?}: unknown notifier {nid:?}")));
            }
            if notify.contains(&nid) {
                return Err(file.err(
                    &n.span(),
                    format!("rule {id:?}: notifier {nid:?} is listed twice"),
                ));
            }
            notify.push(nid);
        }
        let window = self.opt_duration(
            file,
            r.window.as_ref(),
            &format!("rule {id:?}: window"),
            DEFAULT_WINDOW,
        )?;
        let min_sources = match &r.min_sources {
            Some(n) => usize::try_from(self.int_in(
                file,
                n,
                &format!("rule {id:?}: min_sources"),
                1,
                64,
            )?)
            .unwrap_or(1),
            None => 1,
        };
        let mut status = Vec::new();
        for st in r.status.as_deref().unwrap_or_default() {
            let v = self.text(file, st)?.trim().to_ascii_lowercase();
            if !matches!(v.as_str(), "occurred" | "planned" | "denied") {
                return Err(file.err(
                    &st.span(),
                    format!(
                        "rule {id:?}: unknown status {v:?} (expected occurred, planned or denied)"
                    ),
                ));
            }
            if !status.contains(&v) {
                status.push(v);
            }
        }
        let keywords = match &r.keywords {
            None => Keywords::default(),
            Some(k) => {
                let kr = k.get_ref();
                let words =
                    |list: Option<&[Str]>, which: &str| -> Result<Vec<String>, ConfigError> {
                        let mut out: Vec<String> = Vec::new();
                        for w in list.unwrap_or_default() {
                            let v =
                                self.nonempty(file, w, &format!("rule {id:?}: keywords.{which}"))?;
                            let v = v.to_lowercase();
                            if !out.contains(&v) {
                                out.push(v);
                            }
                        }
                        Ok(out)
                    };
                let in_article = match &kr.within {
                    None => false,
                    Some(w) => match self.text(file, w)?.trim() {
                        "sentence" => false,
                        "article" => true,
                        other => {
                            return Err(file.err(
                                &w.span(),
                                format!("rule {id:?}: keywords.in {other:?} (expected sentence or article)"),
                            ));
                        }
                    },
                };
                Keywords {
                    all: words(kr.all.as_deref(), "all")?,
                    any: words(kr.any.as_deref(), "any")?,
                    none: words(kr.none.as_deref(), "none")?,
                    in_article,
                }
            }
        };
        let mut feeds = Vec::new();
        for f in r.feeds.as_deref().unwrap_or_default() {
            let name = self.nonempty(file, f, &format!("rule {id:?}: feeds"))?;
            if !refs.feeds.contains(name.as_str()) {
                return Err(file.err(
                    &f.span(),
                    format!("rule {id:?}: unknown feed {name:?} (use a feed's `name`)"),
                ));
            }
            if !feeds.contains(&name) {
                feeds.push(name);
            }
        }
        let severity = match &r.severity {
            None => Severity::default(),
            Some(sv) => self.severity(file, sv, &format!("rule {id:?}: severity"))?,
        };
        Ok(RuleConfig {
            id,
            slots,
            min_actors,
            scope,
            event_types,
            cooldown,
            notify,
            window,
            min_sources,
            status,
            keywords,
            feeds,
            severity,
            backfill: r.backfill.unwrap_or(false),
            notify_backfill: r.notify_backfill.unwrap_or(false),
        })
    }

    fn severity(&self, file: &SourceFile, s: &Str, what: &str) -> Result<Severity, ConfigError> {
        let v = self.text(file, s)?;
        Severity::parse(v.trim()).ok_or_else(|| {
            file.err(
                &s.span(),
                format!("{what}: unknown severity {v:?} (expected info, warning or critical)"),
            )
        })
    }

    /// A secret given inline (`key`, usually `${ENV}`) or as `key_file` (a path relative to
    /// the config file whose contents, trimmed of the final newline, are the secret). Error
    /// messages never contain the secret.
    fn secret(
        &self,
        file: &SourceFile,
        inline: Option<&Str>,
        path: Option<&Str>,
        what: &str,
    ) -> Result<Option<String>, ConfigError> {
        match (inline, path) {
            (Some(_), Some(p)) => Err(file.err(
                &p.span(),
                format!("{what}: give either the value or the `_file`, not both"),
            )),
            (Some(v), None) => {
                let v = self.text(file, v)?;
                Ok((!v.is_empty()).then_some(v))
            }
            (None, Some(p)) => {
                let written = self.text(file, p)?;
                let full = resolve(&file.dir, Path::new(written.trim()));
                let text = std::fs::read_to_string(&full).map_err(|e| {
                    file.err(
                        &p.span(),
                        format!("{what}: cannot read secret file {}: {e}", full.display()),
                    )
                })?;
                let v = text.trim_end_matches(['\n', '\r']).to_string();
                Ok((!v.is_empty()).then_some(v))
            }
            (None, None) => Ok(None),
        }
    }

    fn notifier(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        seen: &mut HashMap<String, String>,
    ) -> Result<NotifierConfig, ConfigError> {
        let n = raw.get_ref();
        let id = self.id(file, &n.id, "notifier", seen)?;
        let kind_text = self.text(file, &n.kind)?;
        let kind = match kind_text.trim() {
            plain @ ("stdout" | "log") => {
                let webhook_only = [
                    ("url", n.url.as_ref().map(|s| s.span())),
                    ("timeout", n.timeout.as_ref().map(|s| s.span())),
                    ("headers", n.headers.as_ref().map(|s| s.span())),
                ];
                if let Some((key, Some(span))) = webhook_only.iter().find(|(_, s)| s.is_some()) {
                    return Err(file.err(
                        span,
                        format!(
                            "notifier {id:?}: `{key}` only applies to type = \"webhook\", not {plain:?}"
                        ),
                    ));
                }
                if plain == "log" {
                    NotifierKind::Log
                } else {
                    NotifierKind::Stdout
                }
            }
            "webhook" => self.webhook(file, raw, &id)?,
            flavor @ ("slack" | "discord" | "teams" | "mattermost") => {
                let flavor = match flavor {
                    "slack" => ChatFlavor::Slack,
                    "discord" => ChatFlavor::Discord,
                    "teams" => ChatFlavor::Teams,
                    _ => ChatFlavor::Mattermost,
                };
                let (url, timeout) = self.http_target(file, raw, &id, flavor.as_str())?;
                NotifierKind::Chat {
                    flavor,
                    url,
                    timeout,
                }
            }
            "ntfy" => {
                let (url, timeout) = self.http_target(file, raw, &id, "ntfy")?;
                let token = self.secret(
                    file,
                    n.token.as_ref(),
                    n.token_file.as_ref(),
                    &format!("notifier {id:?}: token"),
                )?;
                NotifierKind::Ntfy {
                    url,
                    token,
                    timeout,
                }
            }
            "email" => NotifierKind::Email(Box::new(self.email(file, raw, &id)?)),
            "command" => {
                let Some(program) = &n.program else {
                    return Err(file.err(
                        &raw.span(),
                        format!("notifier {id:?}: type \"command\" needs a `program` list"),
                    ));
                };
                let mut argv = Vec::new();
                for a in program.get_ref() {
                    argv.push(self.text(file, a)?);
                }
                if argv.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err(file.err(
                        &program.span(),
                        format!("notifier {id:?}: `program` must name a program first"),
                    ));
                }
                let timeout = self.opt_duration(
                    file,
                    n.timeout.as_ref(),
                    &format!("notifier {id:?}: timeout"),
                    DEFAULT_WEBHOOK_TIMEOUT,
                )?;
                NotifierKind::Command {
                    program: argv,
                    timeout,
                }
            }
            other => {
                return Err(file.err(
                    &n.kind.span(),
                    format!("notifier {id:?}: unknown type {other:?} (expected webhook, slack, discord, teams, mattermost, ntfy, email, command, stdout or log)"),
                ));
            }
        };
        let kind_name = kind_text.trim();
        let only =
            |key: &str, present: Option<std::ops::Range<usize>>, allowed: &[&str]| match present {
                Some(span) if !allowed.contains(&kind_name) => Err(file.err(
                    &span,
                    format!("notifier {id:?}: `{key}` does not apply to type = {kind_name:?}"),
                )),
                _ => Ok(()),
            };
        only("secret", n.secret.as_ref().map(|s| s.span()), &["webhook"])?;
        only(
            "secret_file",
            n.secret_file.as_ref().map(|s| s.span()),
            &["webhook"],
        )?;
        only("token", n.token.as_ref().map(|s| s.span()), &["ntfy"])?;
        only(
            "token_file",
            n.token_file.as_ref().map(|s| s.span()),
            &["ntfy"],
        )?;
        only(
            "program",
            n.program.as_ref().map(|s| s.span()),
            &["command"],
        )?;
        only(
            "headers",
            n.headers.as_ref().map(|s| s.span()),
            &["webhook"],
        )?;
        let email_only = [
            ("smtp_host", n.smtp_host.as_ref().map(|s| s.span())),
            ("smtp_port", n.smtp_port.as_ref().map(|s| s.span())),
            ("tls", n.tls.as_ref().map(|s| s.span())),
            ("username", n.username.as_ref().map(|s| s.span())),
            ("password", n.password.as_ref().map(|s| s.span())),
            ("password_file", n.password_file.as_ref().map(|s| s.span())),
            ("from", n.from.as_ref().map(|s| s.span())),
            ("to", n.to.as_ref().map(|s| s.span())),
            ("subject", n.subject.as_ref().map(|s| s.span())),
            ("tls_ca_file", n.tls_ca_file.as_ref().map(|s| s.span())),
        ];
        for (key, span) in email_only {
            only(key, span, &["email"])?;
        }
        let max_age = self.opt_duration(
            file,
            n.max_age.as_ref(),
            &format!("notifier {id:?}: max_age"),
            DEFAULT_MAX_AGE,
        )?;
        let min_severity = match &n.min_severity {
            None => Severity::Info,
            Some(sv) => self.severity(file, sv, &format!("notifier {id:?}: min_severity"))?,
        };
        let template = match &n.template {
            None => None,
            Some(t) => {
                let text = self.text(file, t)?;
                crate::template::check(&text)
                    .map_err(|e| file.err(&t.span(), format!("notifier {id:?}: template: {e}")))?;
                Some(text)
            }
        };
        let rate_limit = n
            .rate_limit
            .as_ref()
            .map(|r| self.duration(file, r, &format!("notifier {id:?}: rate_limit"), false))
            .transpose()?;
        let max_attempts = match &n.max_attempts {
            Some(m) => u32::try_from(self.int_in(
                file,
                m,
                &format!("notifier {id:?}: max_attempts"),
                1,
                i64::from(u32::MAX),
            )?)
            .unwrap_or(DEFAULT_MAX_ATTEMPTS),
            None => DEFAULT_MAX_ATTEMPTS,
        };
        let retry_initial = self.opt_duration(
            file,
            n.retry_initial.as_ref(),
            &format!("notifier {id:?}: retry_initial"),
            DEFAULT_RETRY_INITIAL,
        )?;
        let retry_max = self.opt_duration(
            file,
            n.retry_max.as_ref(),
            &format!("notifier {id:?}: retry_max"),
            DEFAULT_RETRY_MAX,
        )?;
        if retry_max < retry_initial {
            let span = n
                .retry_max
                .as_ref()
                .or(n.retry_initial.as_ref())
                .map_or(n.id.span(), |s| s.span());
            return Err(file.err(
                &span,
                format!("notifier {id:?}: retry_max is shorter than retry_initial"),
            ));
        }
        let group_wait = n
            .group_wait
            .as_ref()
            .map(|g| self.duration(file, g, &format!("notifier {id:?}: group_wait"), true))
            .transpose()?;
        let group_interval = self.opt_duration(
            file,
            n.group_interval.as_ref(),
            &format!("notifier {id:?}: group_interval"),
            DEFAULT_GROUP_INTERVAL,
        )?;
        let repeat_interval = n
            .repeat_interval
            .as_ref()
            .map(|r| self.duration(file, r, &format!("notifier {id:?}: repeat_interval"), false))
            .transpose()?;
        Ok(NotifierConfig {
            id,
            kind,
            repeat_interval,
            max_attempts,
            retry_initial,
            retry_max,
            max_age,
            min_severity,
            template,
            rate_limit,
            group_wait,
            group_interval,
        })
    }

    /// The SMTP part of an `email` notifier. Messages never include the password; `tls =
    /// "none"` is refused for anything but a loopback host, so credentials and alerts never
    /// cross a network unencrypted.
    fn email(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        id: &str,
    ) -> Result<EmailConfig, ConfigError> {
        let n = raw.get_ref();
        if let Some(url) = &n.url {
            return Err(file.err(
                &url.span(),
                format!(
                    "notifier {id:?}: `url` does not apply to type = \"email\" (use smtp_host)"
                ),
            ));
        }
        let Some(host_raw) = &n.smtp_host else {
            return Err(file.err(
                &raw.span(),
                format!("notifier {id:?}: type \"email\" needs `smtp_host`"),
            ));
        };
        let host = self.text(file, host_raw)?.trim().to_string();
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(file.err(
                &host_raw.span(),
                format!("notifier {id:?}: smtp_host {host:?} is not a host name"),
            ));
        }
        let tls = match &n.tls {
            None => SmtpTls::StartTls,
            Some(t) => match self.text(file, t)?.trim() {
                "starttls" => SmtpTls::StartTls,
                "implicit" | "tls" => SmtpTls::Implicit,
                "none" => SmtpTls::None,
                other => {
                    return Err(file.err(
                        &t.span(),
                        format!("notifier {id:?}: unknown tls {other:?} (expected starttls, implicit or none)"),
                    ));
                }
            },
        };
        if tls == SmtpTls::None {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = bare.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                let span = n.tls.as_ref().map_or(host_raw.span(), |t| t.span());
                return Err(file.err(
                    &span,
                    format!("notifier {id:?}: tls = \"none\" is only allowed for a loopback smtp_host (localhost, 127.0.0.1, ::1); use starttls or implicit"),
                ));
            }
        }
        let port = match &n.smtp_port {
            Some(p) => u16::try_from(self.int_in(
                file,
                p,
                &format!("notifier {id:?}: smtp_port"),
                1,
                65535,
            )?)
            .unwrap_or(587),
            None => match tls {
                SmtpTls::StartTls => 587,
                SmtpTls::Implicit => 465,
                SmtpTls::None => 25,
            },
        };
        let username = n
            .username
            .as_ref()
            .map(|u| self.text(file, u))
            .transpose()?
            .filter(|u| !u.is_empty());
        let password = self.secret(
            file,
            n.password.as_ref(),
            n.password_file.as_ref(),
            &format!("notifier {id:?}: password"),
        )?;
        if username.is_some() != password.is_some() {
            let span = n
                .username
                .as_ref()
                .or(n.password.as_ref())
                .or(n.password_file.as_ref())
                .map_or(raw.span(), |s| s.span());
            return Err(file.err(
                &span,
                format!(
                    "notifier {id:?}: `username` and `password` (or `password_file`) go together"
                ),
            ));
        }
        let mailbox = |s: &Str, what: &str| -> Result<lettre::message::Mailbox, ConfigError> {
            let text = self.text(file, s)?;
            text.trim().parse().map_err(|e| {
                file.err(
                    &s.span(),
                    format!(
                        "notifier {id:?}: {what} {:?} is not an email address ({e})",
                        text.trim()
                    ),
                )
            })
        };
        let Some(from_raw) = &n.from else {
            return Err(file.err(
                &raw.span(),
                format!("notifier {id:?}: type \"email\" needs `from`"),
            ));
        };
        let from = mailbox(from_raw, "from")?;
        let mut to = Vec::new();
        for t in
            n.to.as_ref()
                .map(|t| t.get_ref().as_slice())
                .unwrap_or_default()
        {
            to.push(mailbox(t, "to")?);
        }
        if to.is_empty() {
            let span = n.to.as_ref().map_or(raw.span(), |t| t.span());
            return Err(file.err(
                &span,
                format!("notifier {id:?}: type \"email\" needs at least one `to` address"),
            ));
        }
        let subject = match &n.subject {
            None => None,
            Some(t) => {
                let text = self.text(file, t)?;
                crate::template::check(&text)
                    .map_err(|e| file.err(&t.span(), format!("notifier {id:?}: subject: {e}")))?;
                Some(text)
            }
        };
        let ca_pem = match &n.tls_ca_file {
            None => None,
            Some(_) if tls == SmtpTls::None => {
                let span = n.tls_ca_file.as_ref().map_or(raw.span(), |s| s.span());
                return Err(file.err(
                    &span,
                    format!("notifier {id:?}: `tls_ca_file` does not apply to tls = \"none\""),
                ));
            }
            Some(p) => {
                let written = self.text(file, p)?;
                let full = resolve(&file.dir, Path::new(written.trim()));
                let pem = std::fs::read(&full).map_err(|e| {
                    file.err(
                        &p.span(),
                        format!(
                            "notifier {id:?}: cannot read tls_ca_file {}: {e}",
                            full.display()
                        ),
                    )
                })?;
                if lettre::transport::smtp::client::Certificate::from_pem(&pem).is_err() {
                    return Err(file.err(
                        &p.span(),
                        format!(
                            "notifier {id:?}: tls_ca_file {} holds no valid PEM certificate",
                            full.display()
                        ),
                    ));
                }
                Some(pem)
            }
        };
        let timeout = self.opt_duration(
            file,
            n.timeout.as_ref(),
            &format!("notifier {id:?}: timeout"),
            DEFAULT_WEBHOOK_TIMEOUT,
        )?;
        Ok(EmailConfig {
            ca_pem,
            host,
            port,
            tls,
            username,
            password,
            from,
            to,
            subject,
            timeout,
        })
    }

    /// The URL and timeout of an HTTP notifier (webhook, chat services, ntfy).
    /// Messages never include the URL: its path is often the token.
    fn http_target(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        id: &str,
        kind: &str,
    ) -> Result<(Url, Duration), ConfigError> {
        let n = raw.get_ref();
        let Some(url_raw) = &n.url else {
            return Err(file.err(
                &raw.span(),
                format!("notifier {id:?}: type {kind:?} needs a `url`"),
            ));
        };
        let url_text = self.text(file, url_raw)?;
        let url = Url::parse(url_text.trim()).map_err(|e| {
            file.err(
                &url_raw.span(),
                format!("notifier {id:?}: invalid {kind} url ({e})"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(file.err(
                &url_raw.span(),
                format!("notifier {id:?}: {kind} url must be http:// or https://"),
            ));
        }
        let timeout = self.opt_duration(
            file,
            n.timeout.as_ref(),
            &format!("notifier {id:?}: timeout"),
            DEFAULT_WEBHOOK_TIMEOUT,
        )?;
        Ok((url, timeout))
    }

    /// The webhook part of a notifier. Messages never include the URL or header values: they
    /// are where tokens live. The line number says which value is wrong.
    fn webhook(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawNotifier>,
        id: &str,
    ) -> Result<NotifierKind, ConfigError> {
        let n = raw.get_ref();
        let (url, timeout) = self.http_target(file, raw, id, "webhook")?;
        let mut headers = Vec::new();
        let mut names = HashSet::new();
        for (name, value) in n
            .headers
            .as_ref()
            .map(|h| h.get_ref())
            .into_iter()
            .flatten()
        {
            let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                file.err(
                    &value.span(),
                    format!("notifier {id:?}: {name:?} is not a valid HTTP header name"),
                )
            })?;
            if !names.insert(parsed) {
                return Err(file.err(
                    &value.span(),
                    format!("notifier {id:?}: header {name:?} is given twice (names are case-insensitive)"),
                ));
            }
            let v = self.text(file, value)?;
            if HeaderValue::from_str(&v).is_err() {
                return Err(file.err(
                    &value.span(),
                    format!(
                        "notifier {id:?}: header {name:?} has an invalid value (not shown: it may be a secret)"
                    ),
                ));
            }
            headers.push((name.clone(), v));
        }
        let secret = self.secret(
            file,
            n.secret.as_ref(),
            n.secret_file.as_ref(),
            &format!("notifier {id:?}: secret"),
        )?;
        Ok(NotifierKind::Webhook {
            url,
            timeout,
            headers,
            secret,
        })
    }
}

/// `$STATE_DIRECTORY` (set by systemd's `StateDirectory=`; the first entry when it lists
/// several) or else `data` next to the config file.
fn default_state_dir(config_dir: &Path, env: EnvLookup<'_>) -> PathBuf {
    env(STATE_DIRECTORY_ENV)
        .and_then(|v| v.split(':').find(|s| !s.is_empty()).map(PathBuf::from))
        .map_or_else(
            || config_dir.join(DEFAULT_STATE_DIR_NAME),
            |p| resolve(config_dir, &p),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
