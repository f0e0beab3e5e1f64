//! Real `nats-server` processes with JetStream on loopback ports, for the cluster tests.
//! A missing `nats-server` is a loud failure, never a skip (`.ci/run` installs it).

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
}

/// A free TCP port on 127.0.0.1 (bound and released; the server takes it right after).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn binary() -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin"] {
        let p = PathBuf::from(dir).join("nats-server");
        if p.exists() {
            return p;
        }
    }
    if let Ok(out) = Command::new("which").arg("nats-server").output()
        && out.status.success()
    {
        return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    }
    panic!(
        "nats-server is not installed: the cluster tests need it (apt-get install -y nats-server; .ci/run does this)"
    );
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
        }
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again on its port and store (after [`NatsServer::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn(self.port, self.store_dir.path(), &[]);
    }

    /// SIGKILLs the server.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
