//! Real `nats-server` processes with JetStream on loopback ports, for the cluster tests.
//! A missing `nats-server` is installed by the harness (as root) or is a loud failure, never
//! a skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// One `nats-server -js` on 127.0.0.1, killed when dropped.
pub struct NatsServer {
    child: Child,
    pub port: u16,
    pub store_dir: tempfile::TempDir,
    /// Extra arguments (cluster name, routes, monitor port), kept for [`NatsServer::restart`].
    extra: Vec<String>,
    /// The server name (`-n`), for clustered servers.
    pub name: String,
    /// The HTTP monitoring port (`-m`), for clustered servers.
    pub monitor: Option<u16>,
}

/// A free TCP port on 127.0.0.1 (bound and released; the server takes it right after).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The nats-server binary (the harness installs Debian's package on a fresh machine).
fn binary() -> PathBuf {
    super::debian_binary("nats-server", "nats-server")
}

/// Starts a server with `extra` arguments and waits for its "Server is ready" log line
/// (printed once JetStream is up), read from its stderr as it comes.
fn spawn(port: u16, store_dir: &std::path::Path, extra: &[String]) -> Child {
    let mut child = Command::new(binary())
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store_dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start nats-server");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("Server is ready")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(());
            }
        }
    });
    // A failure guard for a server that never comes up, not a timing assertion.
    if rx.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = child.kill();
        panic!("nats-server on port {port} did not become ready");
    }
    child
}

impl NatsServer {
    /// One standalone JetStream server.
    pub fn start() -> NatsServer {
        let port = free_port();
        let store_dir = tempfile::tempdir().unwrap();
        let child = spawn(port, store_dir.path(), &[]);
        NatsServer {
            child,
            port,
            store_dir,
            extra: Vec::new(),
            name: String::new(),
            monitor: None,
        }
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on its port and store (after [`NatsServer::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn(self.port, self.store_dir.path(), &self.extra);
    }

    /// SIGKILLs the server.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Is the process still running (not killed)?
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `GET /jsz?...` from the monitoring port, as JSON (None while it cannot be read).
    pub fn jsz(&self, query: &str) -> Option<serde_json::Value> {
        let body = http_get(self.monitor?, &format!("/jsz{query}"))?;
        serde_json::from_str(&body).ok()
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1 (the monitoring endpoint), blocking: the body.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// Three JetStream servers in one cluster, routed to each other on loopback ports.
pub struct NatsCluster {
    pub servers: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts three clustered servers and waits until every one of them sees a JetStream
    /// metadata leader over a cluster of three (so streams with three replicas can be
    /// created). The bound is a failure guard for a cluster that never forms, not a timing
    /// assertion.
    pub fn start() -> NatsCluster {
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let route_list = routes
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut servers = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            let port = free_port();
            let monitor = free_port();
            let name = format!("nats-{i}");
            let extra: Vec<String> = [
                "-n",
                &name,
                "-m",
                &monitor.to_string(),
                "--cluster_name",
                "parley-test",
                "--cluster",
                &format!("nats://127.0.0.1:{route}"),
                "--routes",
                &route_list,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let store_dir = tempfile::tempdir().unwrap();
            let child = spawn(port, store_dir.path(), &extra);
            servers.push(NatsServer {
                child,
                port,
                store_dir,
                extra,
                name,
                monitor: Some(monitor),
            });
        }
        let cluster = NatsCluster { servers };
        cluster.wait_formed(3);
        cluster
    }

    /// Polls every running server's `/jsz` until each names a metadata leader among
    /// `expected` live peers.
    pub fn wait_formed(&self, expected: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let formed = self.servers.iter().all(|s| {
                s.jsz("").is_some_and(|j| {
                    let meta = &j["meta_cluster"];
                    meta["leader"].as_str().is_some_and(|l| !l.is_empty())
                        && meta["cluster_size"].as_u64() == Some(expected as u64)
                })
            });
            if formed {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the NATS cluster did not form"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The client URL list: every server, comma-separated.
    pub fn urls(&self) -> String {
        self.servers
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Index of the server leading stream `name` (falling back to the metadata leader).
    pub fn leader_of(&self, name: &str) -> usize {
        for s in &self.servers {
            let Some(j) = s.jsz("?accounts=true&streams=true") else {
                continue;
            };
            for account in j["account_details"].as_array().into_iter().flatten() {
                for stream in account["stream_detail"].as_array().into_iter().flatten() {
                    if stream["name"] == name
                        && let Some(leader) = stream["cluster"]["leader"].as_str()
                        && let Some(i) = self.servers.iter().position(|s| s.name == leader)
                    {
                        return i;
                    }
                }
            }
        }
        let meta = self.servers[0].jsz("").unwrap_or_default();
        let leader = meta["meta_cluster"]["leader"].as_str().unwrap_or_default();
        self.servers
            .iter()
            .position(|s| s.name == leader)
            .unwrap_or(0)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
