//! The one integration-test harness: real HTTP servers on 127.0.0.1:0 (a feed server and a
//! webhook receiver), temporary config folders, and the real `parley` binary.
#![allow(dead_code)]

pub mod browser;
pub mod nats;
pub mod notify;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::Notify;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reports a test that cannot run its checks: the reason goes to stderr, and under CI (`CI`
/// set, as `.ci/run` has it) the test fails instead of passing without having checked anything.
pub fn cannot_run(reason: &str) {
    eprintln!("CANNOT RUN: {reason}");
    if std::env::var_os("CI").is_some() {
        panic!("this test cannot run under CI: {reason}");
    }
}

/// A program from a Debian package (`nats-server`, `promtool`), installed on first use. On a
/// fresh machine the harness installs the package itself (as root, once, behind a lock
/// shared by every test process), so the README's test command needs no set-up step; where
/// it cannot, the test fails with the reason and the command to run.
pub fn debian_binary(program: &str, package: &str) -> PathBuf {
    static FOUND: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let find = || -> Option<PathBuf> {
        for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/bin", "/sbin"] {
            let p = PathBuf::from(dir).join(program);
            if p.exists() {
                return Some(p);
            }
        }
        None
    };
    let mut found = FOUND.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = found.get_or_insert_with(HashMap::new).get(program) {
        return p.clone();
    }
    let path = find().unwrap_or_else(|| {
        let lock_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("apt-install.lock");
        let lock = std::fs::File::create(&lock_path).expect("create the install lock");
        lock.lock().expect("take the install lock");
        if let Some(p) = find() {
            return p;
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            panic!(
                "{program} is not installed and this test is not root, so it cannot install it: \
                 run `sudo apt-get install -y {package}`"
            );
        }
        eprintln!("{program} is missing: installing Debian's package {package}");
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "--no-install-recommends", package])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !install() {
            let _ = Command::new("apt-get")
                .args(["update", "-qq"])
                .stdout(std::process::Stdio::null())
                .status();
            assert!(install(), "apt-get install {package} failed");
        }
        find().unwrap_or_else(|| panic!("{package} installed but {program} not found"))
    });
    found
        .get_or_insert_with(HashMap::new)
        .insert(program.to_string(), path.clone());
    path
}

/// Where the seed article is read from: `PARLEY_SEED_ARTICLE`, else the project's shared
/// folder next to the repo.
fn seed_path() -> PathBuf {
    std::env::var_os("PARLEY_SEED_ARTICLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/seed-article.txt"))
}

/// The seed article as the project was given it, if the shared folder is there.
pub fn seed_article_original() -> Option<String> {
    std::fs::read_to_string(seed_path()).ok()
}

/// The seed story: the shared seed article when it is there, else the retold Amman story of
/// the shipped sample feed (config/samples, same actors, places, roles and date), so the
/// seed-story tests always run their checks.
pub fn seed_article() -> String {
    if let Some(text) = seed_article_original() {
        return text;
    }
    eprintln!(
        "note: {} is absent; the seed-story tests use the retold story in config/samples",
        seed_path().display()
    );
    let xml = std::fs::read_to_string(repo().join("config/samples/world-desk.xml")).unwrap();
    let item = xml
        .split("<item>")
        .find(|i| i.contains("12 Nov 2023"))
        .expect("the sample feed retells the Amman story of 2023-11-12");
    let html = &item[item.find("<![CDATA[").unwrap() + 9..item.find("]]>").unwrap()];
    let mut text = String::from("date 2023-11-12\n");
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// The seed story without its leading `date YYYY-MM-DD` marker, and that date.
pub fn seed_body_and_date() -> (String, String) {
    let text = seed_article();
    let trimmed = text.trim_start();
    let Some(rest) = trimmed.strip_prefix("date ") else {
        return (text.clone(), "2023-11-12".to_string());
    };
    let rest = rest.trim_start();
    let (date, body) = rest.split_at(rest.find(char::is_whitespace).unwrap_or(rest.len()));
    (body.trim_start().to_string(), date.to_string())
}

/// What the feed server serves at one path.
#[derive(Clone, Debug)]
pub enum Route {
    /// A feed body with an ETag; answers 304 to a matching If-None-Match.
    Feed { body: String, etag: String },
    /// Any other body with its content type (article pages, robots.txt).
    Page { body: String, content_type: String },
    /// A fixed status, with an optional Retry-After.
    Status {
        code: u16,
        retry_after: Option<String>,
    },
    /// A redirect (`code` 301/302/307/308) to `location`.
    Redirect { code: u16, location: String },
}

/// One request the feed server saw: its path and its If-None-Match header.
pub type SeenRequest = (String, Option<String>);

/// A feed server whose routes tests change between polls.
#[derive(Clone, Default)]
pub struct FeedServer {
    routes: Arc<Mutex<HashMap<String, Route>>>,
    /// Every request seen: (path, If-None-Match header).
    pub requests: Arc<Mutex<Vec<SeenRequest>>>,
    /// Woken on every request.
    pub arrived: Arc<Notify>,
    pub addr: Option<SocketAddr>,
}

async fn serve_feed(
    State(server): State<FeedServer>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    server
        .requests
        .lock()
        .unwrap()
        .push((path.clone(), inm.clone()));
    server.arrived.notify_waiters();
    let route = server.routes.lock().unwrap().get(&path).cloned();
    match route {
        Some(Route::Feed { body, etag }) => {
            if inm.as_deref() == Some(etag.as_str()) {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            let mut response = body.into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/rss+xml"),
            );
            h.insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
            response
        }
        Some(Route::Page { body, content_type }) => {
            let mut response = body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&content_type).unwrap(),
            );
            response
        }
        Some(Route::Status { code, retry_after }) => {
            let mut response = StatusCode::from_u16(code).unwrap().into_response();
            if let Some(ra) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_str(&ra).unwrap());
            }
            response
        }
        Some(Route::Redirect { code, location }) => {
            let mut response = StatusCode::from_u16(code).unwrap().into_response();
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_str(&location).unwrap());
            response
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl FeedServer {
    /// Starts the server on 127.0.0.1:0.
    pub async fn start() -> FeedServer {
        let mut server = FeedServer::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        server.addr = Some(listener.local_addr().unwrap());
        let app = Router::new()
            .route("/{*path}", get(serve_feed))
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        server
    }

    /// Sets what `path` (without leading slash) serves.
    pub fn set(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr.unwrap())
    }

    /// Requests seen for `path`, with their If-None-Match.
    pub fn requests_for(&self, path: &str) -> Vec<Option<String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, inm)| inm.clone())
            .collect()
    }
}

/// One POST the webhook receiver accepted or refused.
#[derive(Clone, Debug)]
pub struct Hook {
    pub idempotency_key: Option<String>,
    /// The `Authorization` header, if any (tests check secrets are sent, not logged).
    pub authorization: Option<String>,
    /// The `X-Parley-Signature` header, if any.
    pub signature: Option<String>,
    pub body: serde_json::Value,
    pub status: u16,
    /// When the receiver got it (for lower bounds such as `rate_limit`, never upper ones).
    pub at: std::time::Instant,
}

/// A webhook receiver that records every POST and can refuse the first N.
#[derive(Clone, Default)]
pub struct Receiver {
    pub hooks: Arc<Mutex<Vec<Hook>>>,
    fail_first: Arc<Mutex<usize>>,
    pub arrived: Arc<Notify>,
    pub addr: Option<SocketAddr>,
}

async fn receive(State(rx): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization");
    let signature = header("x-parley-signature");
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let status = {
        let mut fail = rx.fail_first.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        }
    };
    rx.hooks.lock().unwrap().push(Hook {
        idempotency_key: key,
        authorization,
        signature,
        body,
        status: status.as_u16(),
        at: std::time::Instant::now(),
    });
    rx.arrived.notify_waiters();
    status
}

impl Receiver {
    /// Starts the receiver on 127.0.0.1:0; it refuses the first `fail_first` POSTs with 503.
    pub async fn start(fail_first: usize) -> Receiver {
        let mut rx = Receiver {
            fail_first: Arc::new(Mutex::new(fail_first)),
            ..Receiver::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        rx.addr = Some(listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(rx.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        rx
    }

    /// The hook URL.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr.unwrap())
    }

    /// Accepted deliveries (2xx).
    pub fn accepted(&self) -> Vec<Hook> {
        self.hooks
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.status == 200)
            .cloned()
            .collect()
    }

    /// Every POST, accepted or not.
    pub fn all(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }

    /// From now on, refuse the next `n` POSTs (0: accept everything).
    pub fn set_fail(&self, n: usize) {
        *self.fail_first.lock().unwrap() = n;
    }
}

/// An RSS item for [`rss`].
pub struct Item<'a> {
    pub guid: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub date: &'a str,
}

/// Escapes text for XML.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Builds an RSS 2.0 document. `date` is RFC 2822.
pub fn rss(title: &str, items: &[Item<'_>]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{}</title><link>https://example.org/</link><description>test</description>\n",
        xml_escape(title)
    );
    for item in items {
        out.push_str(&format!(
            "<item><guid>{}</guid><title>{}</title><link>https://example.org/{}</link><pubDate>{}</pubDate><description>{}</description></item>\n",
            xml_escape(item.guid),
            xml_escape(item.title),
            xml_escape(item.guid),
            item.date,
            xml_escape(item.body)
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

/// An RSS document from generated (guid, title, body) triples, all published at `date`: the
/// bulk feeds of the crash, shutdown and full-disk tests.
pub fn rss_generated(title: &str, items: &[(String, String, String)], date: &str) -> String {
    let items: Vec<Item<'_>> = items
        .iter()
        .map(|(guid, title, body)| Item {
            guid,
            title,
            body,
            date,
        })
        .collect();
    rss(title, &items)
}

/// A temporary config folder with a `parley.toml`; the store lives inside it.
pub struct TestConfig {
    pub dir: tempfile::TempDir,
}

impl TestConfig {
    /// Writes `body` as `parley.toml` and returns the folder.
    pub fn new(body: &str) -> TestConfig {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("parley.toml"), body).unwrap();
        TestConfig { dir }
    }

    /// The config file.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("parley.toml")
    }

    /// The state folder tests configure (`state_dir = "state"`).
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Writes another file next to the config.
    pub fn write(&self, name: &str, body: &str) {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, body).unwrap();
    }

    /// Runs the real binary with this config; stdin closed, output captured.
    pub fn parley(&self, args: &[&str]) -> Output {
        parley_cmd(&self.path(), args).output().unwrap()
    }

    /// Like [`TestConfig::parley`] but from a blocking thread, so the test's servers keep serving.
    pub async fn parley_async(&self, args: &[&str]) -> Output {
        let path = self.path();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            parley_cmd(&path, &refs).output().unwrap()
        })
        .await
        .unwrap()
    }
}

/// A `parley` command with `--config` set and a clean environment for logs.
pub fn parley_cmd(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
    cmd.arg("--config").arg(config).args(args);
    cmd.env_remove("PARLEY_CONFIG").env("RUST_LOG", "info");
    cmd.stdin(std::process::Stdio::null());
    cmd
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success, showing stderr when not.
pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "parley failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// Parses `--json` output: one JSON value per line.
pub fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The shipped watchlists (actors, groups, rules), included by absolute glob.
pub fn shipped_watchlists() -> String {
    repo()
        .join("config/watchlists/*.toml")
        .display()
        .to_string()
}

/// Waits until `cond` holds, re-checking each time `notify` fires. The 60 s bound is a
/// failure guard for a hung daemon, not a timing assertion.
pub async fn wait_for(notify: &Notify, what: &str, cond: impl FnMut() -> bool) {
    wait_within(notify, what, std::time::Duration::from_secs(60), cond).await;
}

/// [`wait_for`] with a caller-chosen failure guard, for suites whose set-up is slower (a
/// NATS cluster electing leaders).
pub async fn wait_within(
    notify: &Notify,
    what: &str,
    patience: std::time::Duration,
    mut cond: impl FnMut() -> bool,
) {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if cond() {
            return;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            panic!("timed out waiting for {what}");
        }
    }
}

/// One message a [`SmtpServer`] accepted: the envelope, the AUTH credentials used (if any)
/// and the raw DATA (dot-unstuffed, CRLF line ends).
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub rcpt: Vec<String>,
    pub auth: Option<(String, String)>,
    pub data: String,
}

impl Mail {
    /// The value of a top-level header (first occurrence, unfolded), case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The DATA with quoted-printable soft line breaks removed, for `contains` checks.
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "")
    }
}

/// A small real SMTP server on 127.0.0.1:0 (plain text, as `tls = "none"` allows for
/// loopback): EHLO/HELO, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It can
/// refuse the first N transactions with a 451 at MAIL FROM, and require given credentials.
#[derive(Clone, Default)]
pub struct SmtpServer {
    /// Accepted messages.
    pub mails: Arc<Mutex<Vec<Mail>>>,
    /// Transactions refused with 451.
    pub refused: Arc<Mutex<usize>>,
    fail_first: Arc<Mutex<usize>>,
    credentials: Option<(String, String)>,
    /// Every TLS handshake the server completed (STARTTLS or implicit).
    pub tls_sessions: Arc<Mutex<usize>>,
    /// Woken after every accepted or refused transaction.
    pub arrived: Arc<Notify>,
    pub addr: Option<SocketAddr>,
}

impl SmtpServer {
    /// Starts the server; it refuses the first `fail_first` transactions with 451 and, with
    /// `credentials`, answers 530 to MAIL FROM until AUTH succeeded with exactly those.
    pub async fn start(fail_first: usize, credentials: Option<(&str, &str)>) -> SmtpServer {
        SmtpServer::start_with(SmtpTlsMode::Plain, fail_first, credentials)
            .await
            .0
    }

    /// Like [`SmtpServer::start`], speaking TLS as `mode` says with a certificate for
    /// `localhost` and `127.0.0.1` issued by a fresh test CA. Returns the CA's PEM, for the
    /// notifier's `tls_ca_file`.
    pub async fn start_with(
        mode: SmtpTlsMode,
        fail_first: usize,
        credentials: Option<(&str, &str)>,
    ) -> (SmtpServer, String) {
        let mut server = SmtpServer {
            fail_first: Arc::new(Mutex::new(fail_first)),
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
            ..SmtpServer::default()
        };
        let (acceptor, ca_pem) = test_tls();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        server.addr = Some(listener.local_addr().unwrap());
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = s.connection(stream, mode, acceptor).await;
                });
            }
        });
        (server, ca_pem)
    }

    async fn connection(
        &self,
        stream: tokio::net::TcpStream,
        mode: SmtpTlsMode,
        acceptor: tokio_rustls::TlsAcceptor,
    ) -> std::io::Result<()> {
        match mode {
            SmtpTlsMode::Plain => self.session(stream, false, true).await.map(|_| ()),
            SmtpTlsMode::Implicit => {
                let tls = acceptor.accept(stream).await?;
                *self.tls_sessions.lock().unwrap() += 1;
                self.session(tls, false, true).await.map(|_| ())
            }
            SmtpTlsMode::StartTls => {
                let Some(stream) = self.session(stream, true, true).await? else {
                    return Ok(());
                };
                let tls = acceptor.accept(stream).await?;
                *self.tls_sessions.lock().unwrap() += 1;
                // After STARTTLS the client sends EHLO again; no new greeting.
                self.session(tls, false, false).await.map(|_| ())
            }
        }
    }

    /// The port to put in `smtp_port`.
    pub fn port(&self) -> u16 {
        self.addr.unwrap().port()
    }

    /// Accepted messages so far.
    pub fn accepted(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// One SMTP session on `stream`. With `offer_starttls`, EHLO advertises STARTTLS and the
    /// stream is handed back (after `220`) for the TLS handshake; a session on TLS (or plain
    /// without the offer) never returns it. `greet`: send the 220 banner first.
    async fn session<S>(
        &self,
        stream: S,
        offer_starttls: bool,
        greet: bool,
    ) -> std::io::Result<Option<S>>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        use base64::Engine;
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut lines = BufReader::new(stream);
        if greet {
            lines
                .get_mut()
                .write_all(b"220 parley-test ESMTP\r\n")
                .await?;
        }
        let mut auth: Option<(String, String)> = None;
        let mut from: Option<String> = None;
        let mut rcpt: Vec<String> = Vec::new();
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(None);
            }
            let line = line.trim_end().to_string();
            let upper = line.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") && offer_starttls {
                "250-parley-test\r\n250-STARTTLS\r\n250 8BITMIME\r\n".into()
            } else if upper == "STARTTLS" && offer_starttls {
                lines
                    .get_mut()
                    .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                    .await?;
                return Ok(Some(lines.into_inner()));
            } else if offer_starttls && !upper.starts_with("QUIT") && !upper.starts_with("NOOP") {
                // This server insists on TLS before anything else.
                "530 5.7.0 Must issue a STARTTLS command first\r\n".into()
            } else if upper.starts_with("EHLO") {
                "250-parley-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n".into()
            } else if upper.starts_with("HELO") {
                "250 parley-test\r\n".into()
            } else if upper.starts_with("AUTH PLAIN") {
                let mut arg = line[10..].trim().to_string();
                if arg.is_empty() {
                    lines.get_mut().write_all(b"334 \r\n").await?;
                    lines.read_line(&mut arg).await?;
                }
                let raw = b64.decode(arg.trim()).unwrap_or_default();
                let parts: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
                let given = (
                    parts.get(1).cloned().unwrap_or_default(),
                    parts.get(2).cloned().unwrap_or_default(),
                );
                self.check_auth(given, &mut auth)
            } else if upper.starts_with("AUTH LOGIN") {
                let mut user = line[10..].trim().to_string();
                if user.is_empty() {
                    lines.get_mut().write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                    lines.read_line(&mut user).await?;
                }
                lines.get_mut().write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                let mut pass = String::new();
                lines.read_line(&mut pass).await?;
                let decode = |s: &str| {
                    String::from_utf8_lossy(&b64.decode(s.trim()).unwrap_or_default()).into_owned()
                };
                self.check_auth((decode(&user), decode(&pass)), &mut auth)
            } else if upper.starts_with("MAIL FROM:") {
                if self.credentials.is_some() && auth.is_none() {
                    "530 5.7.0 Authentication required\r\n".into()
                } else {
                    let refuse = {
                        let mut n = self.fail_first.lock().unwrap();
                        let refuse = *n > 0;
                        *n = n.saturating_sub(1);
                        refuse
                    };
                    if refuse {
                        *self.refused.lock().unwrap() += 1;
                        self.arrived.notify_waiters();
                        "451 4.3.0 Try again later\r\n".into()
                    } else {
                        from = Some(address(&line[10..]));
                        rcpt.clear();
                        "250 OK\r\n".into()
                    }
                }
            } else if upper.starts_with("RCPT TO:") {
                if from.is_some() {
                    rcpt.push(address(&line[8..]));
                    "250 OK\r\n".into()
                } else {
                    "503 5.5.1 MAIL first\r\n".into()
                }
            } else if upper == "DATA" {
                if from.is_none() || rcpt.is_empty() {
                    "503 5.5.1 RCPT first\r\n".into()
                } else {
                    lines
                        .get_mut()
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let mut data = String::new();
                    loop {
                        let mut l = String::new();
                        if lines.read_line(&mut l).await? == 0 {
                            return Ok(None);
                        }
                        if l == ".\r\n" || l == ".\n" {
                            break;
                        }
                        let l = l.strip_prefix('.').map_or(l.clone(), str::to_string);
                        data.push_str(&l);
                    }
                    self.mails.lock().unwrap().push(Mail {
                        from: from.take().unwrap_or_default(),
                        rcpt: std::mem::take(&mut rcpt),
                        auth: auth.clone(),
                        data,
                    });
                    self.arrived.notify_waiters();
                    "250 OK queued\r\n".into()
                }
            } else if upper == "RSET" {
                from = None;
                rcpt.clear();
                "250 OK\r\n".into()
            } else if upper == "NOOP" {
                "250 OK\r\n".into()
            } else if upper == "QUIT" {
                lines.get_mut().write_all(b"221 Bye\r\n").await?;
                return Ok(None);
            } else {
                "502 5.5.2 Command not recognised\r\n".into()
            };
            lines.get_mut().write_all(reply.as_bytes()).await?;
        }
    }

    fn check_auth(&self, given: (String, String), auth: &mut Option<(String, String)>) -> String {
        match &self.credentials {
            Some(expected) if *expected != given => "535 5.7.8 Authentication failed\r\n".into(),
            _ => {
                *auth = Some(given);
                "235 2.7.0 Authentication successful\r\n".into()
            }
        }
    }
}

/// How a [`SmtpServer`] secures its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTlsMode {
    /// Plain text throughout.
    Plain,
    /// STARTTLS required before anything else.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

/// A TLS acceptor with a certificate for `localhost` / `127.0.0.1` signed by a fresh CA, and
/// that CA's PEM.
fn test_tls() -> (tokio_rustls::TlsAcceptor, String) {
    use tokio_rustls::rustls;
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "parley test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        leaf_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}

/// The address inside `<...>` of a MAIL FROM / RCPT TO argument.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_string(),
        _ => arg.split_whitespace().next().unwrap_or("").to_string(),
    }
}
