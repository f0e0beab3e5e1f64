//! Hostile and broken servers (issue 6): the real binary, `run --once`, one good feed next to
//! the hostile ones. For every case parley must exit 0, deliver the good feed's alert, record
//! the failure in the hostile feed's state (read back from the store), and stay under a
//! memory bound (the child's peak RSS, from `wait4`).
//!
//! The server is a raw tokio `TcpListener`, so it can misbehave below HTTP: lie in
//! Content-Length, stream forever, trickle a byte a second, or never answer.
//!
//! A test binary of its own, not a module of tests/it: the memory bound reads the peak RSS of
//! this process's children, which other tests' nats-server and chromium would inflate.

// The harness of tests/it, compiled into this binary too.
#[path = "it/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::io::Read;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use parley::events::Event;
use parley::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Peak RSS allowed for one `run --once` child, whatever the servers do.
const MAX_RSS_KB: i64 = 256 * 1024;
/// Body limit configured for these runs.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// What the hostile server does on one path.
#[derive(Clone)]
enum Behave {
    /// Writes these bytes (a whole HTTP response) and closes.
    Raw(bytes::Bytes),
    /// A chunked 200 whose body never ends.
    Endless,
    /// A 200 whose body arrives one byte per second.
    Slowloris,
    /// Reads the request and never answers.
    Silent,
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> bytes::Bytes {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes.into()
}

fn ok(content_type: &str, body: &[u8]) -> Behave {
    Behave::Raw(response("200 OK", &[("Content-Type", content_type)], body))
}

/// A misbehaving HTTP/1.1 server on 127.0.0.1:0.
struct Hostile {
    addr: std::net::SocketAddr,
}

impl Hostile {
    async fn start(routes: HashMap<String, Behave>) -> Hostile {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = Arc::new(routes);
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let routes = routes.clone();
                tokio::spawn(async move { serve(socket, &routes).await });
            }
        });
        Hostile { addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }
}

async fn serve(mut socket: TcpStream, routes: &HashMap<String, Behave>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    let behave = routes
        .get(&path)
        .cloned()
        .unwrap_or_else(|| Behave::Raw(response("404 Not Found", &[], b"")));
    // Write errors mean parley hung up, which is what it should do to most of these.
    match behave {
        Behave::Raw(bytes) => {
            let _ = socket.write_all(&bytes).await;
        }
        Behave::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("{:x}\r\n{}\r\n", 65536, "<".repeat(65536));
            while socket.write_all(chunk.as_bytes()).await.is_ok() {}
        }
        Behave::Slowloris => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n<";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if socket.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }
        Behave::Silent => {
            // Hold the connection open until parley gives up.
            let _ = socket.read(&mut buf).await;
            let _ = socket.read_to_end(&mut Vec::new()).await;
        }
    }
}

/// A story of our own that raises the shipped rule `blinken-meets-lebanon`.
fn good_feed() -> String {
    rss(
        "Good desk",
        &[Item {
            guid: "good-1",
            title: "Blinken in Beirut",
            body: "Secretary of State Antony Blinken met Lebanese Prime Minister Najib Mikati in Beirut on Sunday.",
            date: "Sun, 12 Nov 2023 09:00:00 GMT",
        }],
    )
}

fn config(urls: &[String], hook: &str) -> String {
    let mut out = format!(
        "include = [{:?}]\n[daemon]\nstate_dir = \"state\"\npoll_interval = \"1m\"\nrequest_timeout = \"3s\"\nmax_body_bytes = {MAX_BODY}\n\n",
        shipped_watchlists()
    );
    for (i, url) in urls.iter().enumerate() {
        out.push_str(&format!("[[feed]]\nurl = {url:?}\nname = \"feed {i}\"\n\n"));
    }
    out.push_str(&format!(
        "[[notifier]]\nid = \"console\"\ntype = \"webhook\"\nurl = {hook:?}\nretry_initial = \"50ms\"\nretry_max = \"200ms\"\nmax_attempts = 4\n"
    ));
    out
}

/// Runs the real binary to completion and returns its output and peak RSS in KiB.
fn run_measured(config: &std::path::Path, args: &[&str]) -> (Output, i64) {
    let mut child = parley_cmd(config, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        err_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let pid = i32::try_from(child.id()).unwrap();
    // On Linux a child's ru_maxrss starts from the parent's peak (fork/vfork shares the
    // parent's memory until exec), so the bound only says something if the test process
    // itself stays well below it.
    // SAFETY: getrusage fills a zeroed out-parameter of the right type.
    let mut own: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut own) };
    assert!(
        own.ru_maxrss < MAX_RSS_KB / 2,
        "the test process peaked at {} KiB; child RSS would be meaningless",
        own.ru_maxrss
    );
    let mut status = 0;
    // SAFETY: plain libc call on a child we spawned and have not waited for; `usage` is a
    // zeroed out-parameter of the right type.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let output = Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    // The child is reaped already; std must not wait on it again.
    std::mem::forget(child);
    (output, usage.ru_maxrss)
}

/// `run --once` from a blocking thread (the test's servers keep serving), with the checks
/// every case shares: exit 0 and peak RSS under the bound.
async fn run_once(cfg: &TestConfig) -> Output {
    let path = cfg.path();
    let (output, rss_kb) =
        tokio::task::spawn_blocking(move || run_measured(&path, &["run", "--once"]))
            .await
            .unwrap();
    assert_ok(&output);
    println!("peak RSS of run --once: {} MiB", rss_kb / 1024);
    assert!(rss_kb < MAX_RSS_KB, "peak RSS {rss_kb} KiB over the bound");
    output
}

/// Every event in the store and every feed's last error, read after parley has exited.
fn inspect(
    cfg: &TestConfig,
    urls: &[String],
) -> (Vec<parley::events::Envelope>, Vec<Option<String>>) {
    let store = Store::open(&cfg.state()).unwrap();
    let events = store.iter_from(0).map(|e| e.unwrap()).collect();
    let errors = urls
        .iter()
        .map(|u| store.feed_state(u).unwrap().and_then(|s| s.last_error))
        .collect();
    (events, errors)
}

fn titles_from(events: &[parley::events::Envelope], feed_url: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            Event::ArticleIngested(a) if a.feed_url == feed_url => Some(a.title.clone()),
            _ => None,
        })
        .collect()
}

fn assert_good_alert(hook: &Receiver) {
    let rules: Vec<String> = hook
        .accepted()
        .iter()
        .filter_map(|h| h.body["rule"].as_str().map(String::from))
        .collect();
    assert!(
        rules.iter().any(|r| r == "blinken-meets-lebanon"),
        "the good feed's alert did not arrive: {rules:?}"
    );
}

/// A gzip bomb: `expanded` bytes of `<`, compressed in 1 MiB steps so the test process
/// itself never holds the expansion (its memory would count in the child's peak RSS).
fn gzip_bomb(expanded: usize) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b'<'; 1024 * 1024];
    for _ in 0..expanded / block.len() {
        encoder.write_all(&block).unwrap();
    }
    encoder.finish().unwrap()
}

/// Runs one scenario: the good feed plus `cases`; checks exit 0, the alert, the RSS bound;
/// returns the events and each case's recorded error (by case path).
async fn scenario(
    cases: Vec<(&str, Behave)>,
    polls: usize,
) -> (
    Vec<parley::events::Envelope>,
    HashMap<String, Option<String>>,
    Hostile,
    Vec<String>,
) {
    let mut routes: HashMap<String, Behave> = cases
        .iter()
        .map(|(p, b)| (p.to_string(), b.clone()))
        .collect();
    routes.insert(
        "good.xml".into(),
        ok("application/rss+xml", good_feed().as_bytes()),
    );
    let server = Hostile::start(routes).await;
    let hook = Receiver::start(0).await;
    let mut urls = vec![server.url("good.xml")];
    urls.extend(cases.iter().map(|(p, _)| server.url(p)));
    let cfg = TestConfig::new(&config(&urls, &hook.url()));
    let mut outputs = Vec::new();
    for _ in 0..polls {
        let out = run_once(&cfg).await;
        outputs.push(format!("{}{}", stdout(&out), stderr(&out)));
    }
    assert_good_alert(&hook);
    let (events, errors) = inspect(&cfg, &urls);
    assert_eq!(errors[0], None, "the good feed must stay healthy");
    let by_path = cases
        .iter()
        .zip(errors.into_iter().skip(1))
        .map(|((p, _), e)| (p.to_string(), e))
        .collect();
    (events, by_path, server, outputs)
}

fn assert_failed(errors: &HashMap<String, Option<String>>, path: &str, needle: &str) {
    let error = errors[path]
        .as_deref()
        .unwrap_or_else(|| panic!("{path}: no failure recorded"));
    assert!(
        error.to_lowercase().contains(needle),
        "{path}: recorded error {error:?} does not mention {needle:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_attacks_fail_only_their_feed() {
    // Bombs, endless and lying bodies, slow and silent servers, redirect tricks and error
    // storms: each fails its own feed, visibly, within bounded memory.
    let bomb = gzip_bomb(256 * 1024 * 1024);
    let big = vec![b' '; MAX_BODY + 1];
    let cases = vec![
        (
            "bomb.xml",
            Behave::Raw(response(
                "200 OK",
                &[
                    ("Content-Type", "application/rss+xml"),
                    ("Content-Encoding", "gzip"),
                ],
                &bomb,
            )),
        ),
        ("endless.xml", Behave::Endless),
        ("big-cl.xml", ok("application/rss+xml", &big)),
        (
            "big-chunked.xml",
            Behave::Raw({
                let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/rss+xml\r\n\r\n".to_vec();
                r.extend_from_slice(&big);
                r.into()
            }),
        ),
        ("slow.xml", Behave::Slowloris),
        ("silent.xml", Behave::Silent),
        (
            "loop.xml",
            Behave::Raw(response("302 Found", &[("Location", "/loop.xml")], b"")),
        ),
        (
            "ftp.xml",
            Behave::Raw(response(
                "301 Moved",
                &[("Location", "ftp://127.0.0.1/feed.xml")],
                b"",
            )),
        ),
        (
            "file.xml",
            Behave::Raw(response(
                "302 Found",
                &[("Location", "file:///etc/passwd")],
                b"",
            )),
        ),
        (
            "500.xml",
            Behave::Raw(response("500 Internal Server Error", &[], b"oops")),
        ),
        (
            "502.xml",
            Behave::Raw(response("502 Bad Gateway", &[], b"")),
        ),
        (
            "503.xml",
            Behave::Raw(response(
                "503 Service Unavailable",
                &[("Retry-After", "120")],
                b"",
            )),
        ),
        (
            "429.xml",
            Behave::Raw(response("429 Too Many Requests", &[], b"")),
        ),
        (
            "429-ra.xml",
            Behave::Raw(response(
                "429 Too Many Requests",
                &[("Retry-After", "Wed, 21 Oct 2099 07:28:00 GMT")],
                b"",
            )),
        ),
        (
            "html.xml",
            ok(
                "text/html",
                b"<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>",
            ),
        ),
        ("empty.xml", ok("application/rss+xml", b"")),
        (
            "truncated.xml",
            ok(
                "application/rss+xml",
                &good_feed().as_bytes()[..good_feed().len() / 2],
            ),
        ),
    ];
    let (_, errors, _, _) = scenario(cases, 1).await;
    assert_failed(&errors, "bomb.xml", "bytes");
    assert_failed(&errors, "endless.xml", "bytes");
    assert_failed(&errors, "big-cl.xml", "content-length");
    assert_failed(&errors, "big-chunked.xml", "bytes");
    assert_failed(&errors, "slow.xml", "timed out");
    assert_failed(&errors, "silent.xml", "timed out");
    assert_failed(&errors, "loop.xml", "redirect");
    assert_failed(&errors, "ftp.xml", "redirect");
    assert_failed(&errors, "file.xml", "redirect");
    assert_failed(&errors, "500.xml", "500");
    assert_failed(&errors, "502.xml", "502");
    assert_failed(&errors, "503.xml", "retry after 2m");
    assert_failed(&errors, "429.xml", "429");
    assert_failed(&errors, "429-ra.xml", "retry after");
    assert_failed(&errors, "html.xml", "html");
    assert_failed(&errors, "empty.xml", "empty");
    assert_failed(&errors, "truncated.xml", "xml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_attacks_neither_expand_nor_leak() {
    // Billion laughs must not expand; an external entity must never pull a local file in.
    let dir = tempfile::tempdir().unwrap();
    let secret_path = dir.path().join("secret.txt");
    let secret = "SECRET-7f3a9c-do-not-leak";
    std::fs::write(&secret_path, secret).unwrap();
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
    laughs.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        let prev = format!("&lol{};", i - 1);
        laughs.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", prev.repeat(10)));
    }
    laughs.push_str("]>\n<rss version=\"2.0\"><channel><title>t</title><item><guid>l1</guid><title>&lol9;</title><description>&lol9;</description></item></channel></rss>");
    let xxe = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://{}\">]>\n<rss version=\"2.0\"><channel><title>t</title><item><guid>x1</guid><title>leak &xxe;</title><description>&xxe;</description></item></channel></rss>",
        secret_path.display()
    );
    let cases = vec![
        ("laughs.xml", ok("application/rss+xml", laughs.as_bytes())),
        ("xxe.xml", ok("application/rss+xml", xxe.as_bytes())),
    ];
    let (events, _, _, outputs) = scenario(cases, 1).await;
    for envelope in &events {
        let json = serde_json::to_string(envelope).unwrap();
        assert!(!json.contains(secret), "XXE leaked into the log: {json}");
        assert!(!json.contains(&"lol".repeat(100)), "entities expanded");
    }
    for output in outputs {
        assert!(!output.contains(secret), "XXE leaked into the output");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messy_feeds_are_read_right_and_ids_stay_stable() {
    // Lying charsets, missing ids, duplicate guids and odd dates are real feeds, not attacks:
    // their text must come out right, and a second poll must add nothing.
    let cafe = "Caf\u{e9} d\u{e9}j\u{e0} vu \u{2014} na\u{ef}ve";
    let item = |title: &str| {
        format!(
            "<item><guid>g-{}</guid><title>{title}</title><description>x</description></item>",
            title.len()
        )
    };
    let doc = |decl: &str, items: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"{decl}\"?>\n<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"
        )
    };
    let cp1252 = encoding_rs::WINDOWS_1252
        .encode(&doc("utf-8", &item(cafe)))
        .0
        .into_owned();
    let latin1 = encoding_rs::WINDOWS_1252
        .encode(&doc("ISO-8859-1", &item("Gr\u{fc}\u{df}e aus K\u{f6}ln")))
        .0
        .into_owned();
    let mut invalid = doc("utf-8", &item("broken \u{1}")).into_bytes();
    let at = invalid.windows(6).position(|w| w == b"broken").unwrap();
    invalid[at + 6] = 0xFF;
    let anonymous = "<rss version=\"2.0\"><channel><title>t</title>\
        <item><title>First untitled story</title><description>one</description></item>\
        <item><title>Second untitled story</title><description>two</description></item>\
        <item><description>No title, no link, no date, only text.</description></item>\
        </channel></rss>";
    let duplicates = "<rss version=\"2.0\"><channel><title>t</title>\
        <item><guid>same</guid><title>first</title></item>\
        <item><guid>same</guid><title>second</title></item>\
        <item><guid>same</guid><title>third</title></item></channel></rss>";
    let dates = "<rss version=\"2.0\"><channel><title>t</title>\
        <item><guid>future</guid><title>From the future</title><pubDate>Fri, 01 Jan 2999 00:00:00 GMT</pubDate></item>\
        <item><guid>epoch</guid><title>From 1970</title><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>\
        <item><guid>german</guid><title>Auf Deutsch</title><pubDate>Mi, 12 Nov 2023 10:00:00 +0100</pubDate></item>\
        </channel></rss>";
    let cases = vec![
        (
            "cp1252.xml",
            ok("application/rss+xml; charset=utf-8", &cp1252),
        ),
        ("latin1.xml", ok("application/octet-stream", &latin1)),
        ("invalid.xml", ok("application/rss+xml", &invalid)),
        (
            "anonymous.xml",
            ok("application/rss+xml", anonymous.as_bytes()),
        ),
        (
            "duplicates.xml",
            ok("application/rss+xml", duplicates.as_bytes()),
        ),
        ("dates.xml", ok("text/xml", dates.as_bytes())),
    ];
    let (events, errors, server, _) = scenario(cases, 2).await;
    for (path, error) in &errors {
        assert_eq!(error, &None, "{path} should parse");
    }
    assert_eq!(titles_from(&events, &server.url("cp1252.xml")), [cafe]);
    assert_eq!(
        titles_from(&events, &server.url("latin1.xml")),
        ["Gr\u{fc}\u{df}e aus K\u{f6}ln"]
    );
    let invalid_titles = titles_from(&events, &server.url("invalid.xml"));
    assert_eq!(invalid_titles.len(), 1);
    assert!(
        invalid_titles[0].starts_with("broken"),
        "{invalid_titles:?}"
    );
    // Two polls, three anonymous items: exactly three articles, so ids were stable.
    assert_eq!(titles_from(&events, &server.url("anonymous.xml")).len(), 3);
    assert_eq!(
        titles_from(&events, &server.url("duplicates.xml")),
        ["first"]
    );
    let dated: Vec<(String, Option<i32>)> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::ArticleIngested(a) if a.feed_url == server.url("dates.xml") => Some((
                a.title.clone(),
                a.published.map(|p| chrono::Datelike::year(&p)),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        dated,
        [
            ("From the future".to_string(), Some(2999)),
            ("From 1970".to_string(), Some(1970)),
            ("Auf Deutsch".to_string(), Some(2023)),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_feeds_are_bounded() {
    // A 5 MB item and a 50,000-item feed are ingested without unbounded memory.
    let paragraph = "Officials said talks would continue next week in the capital. ";
    let huge_text = paragraph.repeat(5 * 1024 * 1024 / paragraph.len());
    let huge = rss(
        "Huge",
        &[Item {
            guid: "huge-1",
            title: "One enormous item",
            body: &huge_text,
            date: "Sun, 12 Nov 2023 09:00:00 GMT",
        }],
    );
    let mut many = String::from("<rss version=\"2.0\"><channel><title>Many</title>\n");
    for i in 0..50_000 {
        many.push_str(&format!(
            "<item><guid>m{i}</guid><title>Item {i}</title></item>\n"
        ));
    }
    many.push_str("</channel></rss>");
    let cases = vec![
        ("huge.xml", ok("application/rss+xml", huge.as_bytes())),
        ("many.xml", ok("application/rss+xml", many.as_bytes())),
    ];
    let (events, errors, server, _) = scenario(cases, 1).await;
    assert_eq!(errors["huge.xml"], None);
    assert_eq!(errors["many.xml"], None);
    assert_eq!(titles_from(&events, &server.url("huge.xml")).len(), 1);
    assert_eq!(titles_from(&events, &server.url("many.xml")).len(), 50_000);
}
