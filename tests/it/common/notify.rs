//! A unix datagram socket standing in for systemd's `NOTIFY_SOCKET`, shared by the
//! service, API, operator and secrets tests.
#![allow(dead_code)]

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// A unix datagram socket standing in for systemd's NOTIFY_SOCKET.
pub struct NotifySocket {
    _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    socket: UnixDatagram,
}

impl NotifySocket {
    pub fn new() -> NotifySocket {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        // A failure guard for a hung daemon, not a timing assertion.
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        NotifySocket {
            _dir: dir,
            path,
            socket,
        }
    }

    /// Reads datagrams until one holds `line`; returns every line seen on the way.
    pub fn wait_for(&self, line: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 4096];
        loop {
            let n = self
                .socket
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no {line} from the daemon (saw {seen:?}): {e}"));
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let found = text.lines().any(|l| l == line);
            seen.extend(text.lines().map(str::to_owned));
            if found {
                return seen;
            }
        }
    }
}

impl NotifySocket {
    /// Every line received so far, without waiting for more.
    pub fn drain(&self) -> Vec<String> {
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 4096];
        self.socket.set_nonblocking(true).unwrap();
        while let Ok(n) = self.socket.recv(&mut buf) {
            seen.extend(
                String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .map(str::to_owned),
            );
        }
        self.socket.set_nonblocking(false).unwrap();
        seen
    }
}
