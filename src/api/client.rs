//! The CLI's side of the API. sled admits one process, so while the daemon runs (the store
//! is locked), `parley events`, `alerts`, `feeds` and the write verbs (`alerts ack`, `alerts
//! retry`, `silence add/list/expire`, `alerts --failed`) ask it over HTTP; otherwise they open
//! the store themselves. The answer is the same values either way, rendered by the same code.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::config::ApiConfig;
use crate::error::Error;

/// File in the state folder where the daemon writes the address it bound, so a CLI can
/// find a daemon configured with port 0. Removed on a clean stop.
pub const ADDR_FILE: &str = "api.addr";

/// How long the CLI waits for the daemon to answer a query.
const QUERY_TIMEOUT: Duration = Duration::from_secs(60);

/// The path of the bound-address file for a state folder.
pub fn addr_file(state_dir: &Path) -> PathBuf {
    state_dir.join(ADDR_FILE)
}

/// Where a CLI should look for the daemon: the configured address (a wildcard becomes
/// loopback), or, for port 0, the address the daemon wrote into its state folder.
pub fn daemon_addr(api: &ApiConfig, state_dir: &Path) -> Option<SocketAddr> {
    if !api.enabled {
        return None;
    }
    let mut addr = if api.listen.port() == 0 {
        std::fs::read_to_string(addr_file(state_dir))
            .ok()?
            .trim()
            .parse()
            .ok()?
    } else {
        api.listen
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Some(addr)
}

/// GETs `path_and_query` from the daemon. `Ok(None)` when no daemon is listening; an error
/// when one answered but refused or failed.
pub async fn get<T: DeserializeOwned>(
    api: &ApiConfig,
    state_dir: &Path,
    path_and_query: &str,
) -> Result<Option<T>, Error> {
    call(api, state_dir, reqwest::Method::GET, path_and_query, None).await
}

/// POSTs to `path` of the daemon (a write verb: ack, retry, silences), with an optional
/// JSON body. `Ok(None)` when no daemon is listening.
pub async fn post<T: DeserializeOwned>(
    api: &ApiConfig,
    state_dir: &Path,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<Option<T>, Error> {
    call(api, state_dir, reqwest::Method::POST, path, body).await
}

async fn call<T: DeserializeOwned>(
    api: &ApiConfig,
    state_dir: &Path,
    method: reqwest::Method,
    path_and_query: &str,
    body: Option<serde_json::Value>,
) -> Result<Option<T>, Error> {
    let Some(addr) = daemon_addr(api, state_dir) else {
        return Ok(None);
    };
    let http = |message: String| Error::Input(format!("parley daemon at {addr}: {message}"));
    let client = reqwest::Client::builder()
        .timeout(QUERY_TIMEOUT)
        .connect_timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .map_err(|e| http(e.to_string()))?;
    let mut request = client.request(method, format!("http://{addr}{path_and_query}"));
    if let Some(token) = &api.token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = &body {
        request = request.json(body);
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => {
            tracing::debug!(%addr, "No daemon API listening.");
            return Ok(None);
        }
        Err(e) => return Err(http(e.without_url().to_string())),
    };
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| http(e.without_url().to_string()))?;
    if status == reqwest::StatusCode::BAD_REQUEST {
        return Err(Error::Usage(body.trim().to_string()));
    }
    if !status.is_success() {
        return Err(http(format!("{status}: {}", body.trim())));
    }
    serde_json::from_str(&body)
        .map(Some)
        .map_err(|e| http(format!("unexpected answer: {e}")))
}

/// A path segment (an alert or silence id typed by a user), percent-encoded.
pub fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Appends `key=value` query pairs (URL-encoded) for the values that are set.
pub fn query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if let Some(v) = value {
            url.append_pair(key, v);
        }
    }
    let q = url.finish();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encodes_only_set_values() {
        // The CLI forwards its flags verbatim; unset ones must not appear as empty values.
        assert_eq!(query("/a", &[("x", None)]), "/a");
        assert_eq!(
            query(
                "/a",
                &[
                    ("since", Some("48h".into())),
                    ("rule", Some("a b&c".into()))
                ]
            ),
            "/a?since=48h&rule=a+b%26c"
        );
    }

    #[test]
    fn wildcard_listen_is_reached_on_loopback() {
        // A daemon listening on 0.0.0.0 is reachable from the same host via 127.0.0.1.
        let api = ApiConfig {
            listen: "0.0.0.0:7878".parse().unwrap(),
            ..ApiConfig::default()
        };
        assert_eq!(
            daemon_addr(&api, Path::new("/nonexistent")),
            Some("127.0.0.1:7878".parse().unwrap())
        );
        let off = ApiConfig {
            enabled: false,
            ..ApiConfig::default()
        };
        assert_eq!(daemon_addr(&off, Path::new("/nonexistent")), None);
    }
}
