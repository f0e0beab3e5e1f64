//! The main file's settings tables: `[daemon]` (polling, limits, the state dir), `[api]`
//! (listen address, token) and `[log]` (the backend and the NATS cluster). They may appear
//! only in the main file and every key has a named default.

use std::path::{Path, PathBuf};

use reqwest::header::HeaderValue;
use toml::Spanned;
use url::Url;

use super::values::is_valid_id;
use super::{Builder, EnvLookup};
use crate::config::paths::resolve;
use crate::config::raw::{RawApi, RawDaemon, RawLog, SourceFile};
use crate::config::{
    ApiConfig, ConfigError, DEFAULT_API_LISTEN, DEFAULT_CONCURRENCY, DEFAULT_LEASE_TTL,
    DEFAULT_LOG_REPLICAS, DEFAULT_LOG_STREAM, DEFAULT_LOG_URL, DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_PER_HOST_CONCURRENCY, DEFAULT_POLL_INTERVAL,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_STATE_DIR_NAME, DEFAULT_USER_AGENT, DaemonConfig, LogBackend,
    LogConfig, MIN_LEASE_TTL, STATE_DIRECTORY_ENV, redact_url,
};

impl Builder<'_> {
    pub(super) fn daemon(
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
    pub(super) fn api(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawApi>,
    ) -> Result<ApiConfig, ConfigError> {
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
    pub(super) fn log(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawLog>,
    ) -> Result<LogConfig, ConfigError> {
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
