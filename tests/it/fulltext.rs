//! Full text when the feed is thin, end to end: a real HTTP server on 127.0.0.1 serves a
//! feed whose items carry one line, their article pages and a robots.txt; the real binary
//! fetches the pages it may, extracts from their main text, keeps it in the store, and
//! `replay --reextract` reruns a changed watchlist over it without any HTTP request.

use crate::common::*;

const ACTORS: &str = r#"
[[actor]]
id = "kellner"
name = "Maria Kellner"
aliases = ["Maria Kellner", "Kellner"]

[[actor]]
id = "odum"
name = "James Odum"
aliases = ["James Odum", "Odum"]
"#;

const RAHIM: &str = r#"
[[actor]]
id = "rahim"
name = "Layla Rahim"
aliases = ["Layla Rahim", "Rahim"]
"#;

/// An article page: navigation, the story in paragraphs, a footer.
fn page(paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!DOCTYPE html><html><head><title>World news</title></head><body>\n\
         <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a> <a href=\"/sport\">Sport</a></nav>\n\
         <article><h1>Talks in Vienna</h1>\n{body}</article>\n\
         <footer>Subscribe to our newsletter. Cookie settings. Contact us.</footer></body></html>"
    )
}

/// RSS with items (guid, link, one-line description).
fn thin_feed(items: &[(&str, &str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title><link>https://example.org/</link><description>d</description>\n",
    );
    for (guid, link, text) in items {
        out.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>{link}</link><pubDate>Tue, 04 Mar 2025 09:00:00 +0000</pubDate><description>{text}</description></item>\n",
            title = xml_escape(text),
            link = xml_escape(link),
            text = xml_escape(text),
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

fn html(body: String) -> Route {
    Route::Page {
        body,
        content_type: "text/html; charset=utf-8".into(),
    }
}

/// The test's config. Its article pages are on 127.0.0.1, which the address policy refuses
/// for feed content unless opened on purpose, as here.
fn config(server: &FeedServer, actors: &str) -> String {
    format!(
        "[daemon]\nstate_dir = \"state\"\nrequest_timeout = \"5s\"\nallow_networks = [\"127.0.0.0/8\"]\n\n[api]\nenabled = false\n\n\
         [[feed]]\nurl = {:?}\nname = \"Wire\"\nfetch_article = true\n{actors}",
        server.url("feed.xml")
    )
}

fn extracted(cfg: &TestConfig, actor: &str) -> Vec<serde_json::Value> {
    let out = cfg.parley(&[
        "events",
        "--kind",
        "event.extracted",
        "--actor",
        actor,
        "--json",
    ]);
    assert_ok(&out);
    json_lines(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thin_items_are_read_from_their_pages_within_robots_and_reextracted_offline() {
    // Item 9: the page gives the event the feed line lacks; a robots.txt Disallow is obeyed;
    // --reextract with a new actor finds it in the stored page text with no request at all.
    let server = FeedServer::start().await;
    server.set(
        "robots.txt",
        Route::Page {
            body: "User-agent: *\nDisallow: /private/\n".into(),
            content_type: "text/plain".into(),
        },
    );
    server.set(
        "news/1",
        html(page(&[
            "Foreign Minister Maria Kellner met James Odum in Vienna on Tuesday to discuss a \
             ceasefire and the release of hostages, officials said after the meeting ended.",
            "Layla Rahim, who mediated the first round, is expected to join the talks next week, \
             according to diplomats familiar with the preparations in the Austrian capital.",
            "Both delegations described the atmosphere as constructive and said technical teams \
             would continue working on the details of an agreement over the coming days.",
        ])),
    );
    server.set(
        "private/2",
        html(page(&[
            "James Odum met Maria Kellner for a second time at a hotel near the airport, \
             according to people briefed on the meeting who asked not to be named.",
            "The second meeting focused on the sequencing of the hostage releases and on \
             humanitarian access, the people said, adding that no agreement was reached.",
        ])),
    );
    server.set(
        "feed.xml",
        Route::Feed {
            body: thin_feed(&[
                (
                    "n1",
                    &server.url("news/1"),
                    "Talks in Vienna, Kellner says.",
                ),
                (
                    "p2",
                    &server.url("private/2"),
                    "A second meeting, Odum says.",
                ),
            ]),
            etag: "\"v1\"".into(),
        },
    );
    let cfg = TestConfig::new(&config(&server, ACTORS));
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);

    // The page of n1 was fetched, after robots.txt; the disallowed page never was.
    assert_eq!(server.requests_for("robots.txt").len(), 1);
    assert_eq!(server.requests_for("news/1").len(), 1);
    assert!(server.requests_for("private/2").is_empty());
    let odum = extracted(&cfg, "odum");
    let met: Vec<&serde_json::Value> = odum
        .iter()
        .filter(|e| {
            e["payload"]["type"] == "consult"
                && e["payload"]["actors"] == serde_json::json!(["kellner", "odum"])
        })
        .collect();
    assert_eq!(
        met.len(),
        1,
        "the page's meeting, not the private one: {odum:#?}"
    );
    assert!(
        met[0]["payload"]["sentence"]
            .as_str()
            .unwrap()
            .contains("met James Odum in Vienna")
    );
    // The article record points at the stored page text by its hash.
    let articles = json_lines(&cfg.parley(&["events", "--kind", "article.ingested", "--json"]));
    let hashed: Vec<_> = articles
        .iter()
        .filter_map(|a| a["payload"]["full_text_sha256"].as_str())
        .collect();
    assert_eq!(hashed.len(), 1, "{articles:#?}");
    assert_eq!(hashed[0].len(), 64);

    // A new watchlist entry, then re-extraction: the stored page names Rahim, no request made.
    assert!(extracted(&cfg, "rahim").is_empty());
    std::fs::write(cfg.path(), config(&server, &format!("{ACTORS}{RAHIM}"))).unwrap();
    let before = server.requests.lock().unwrap().len();
    let out = cfg.parley_async(&["replay", "--reextract"]).await;
    assert_ok(&out);
    assert!(
        stdout(&out).contains("re-extracted 2 articles"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        server.requests.lock().unwrap().len(),
        before,
        "no HTTP request"
    );
    let rahim = extracted(&cfg, "rahim");
    assert!(
        rahim.iter().any(|e| e["payload"]["sentence"]
            .as_str()
            .unwrap()
            .contains("Layla Rahim")),
        "{rahim:#?}"
    );
    // Re-extracting again finds nothing new: the log already holds these results.
    let again = cfg.parley_async(&["replay", "--reextract"]).await;
    assert!(
        stdout(&again).contains("0 new event records"),
        "{}",
        stdout(&again)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_content_never_reaches_loopback_link_local_or_parleys_own_api() {
    // The address policy: item links to 127.0.0.1 (parley's own API port among them) and to a
    // name that resolves to 127.0.0.1, and a feed's redirect to 169.254.169.254, are refused
    // without a request; the items are kept with the feed's text and the other feed goes on.
    let server = FeedServer::start().await;
    // Any request that slips through to a non-loopback address would go to this proxy (set
    // through http_proxy below), so a broken policy shows here instead of leaving the host.
    let trap = FeedServer::start().await;
    server.set(
        "news/1",
        html(page(&["Kellner met Odum in Vienna on Tuesday."])),
    );
    server.set(
        "news/2",
        html(page(&["Kellner met Odum in Geneva on Friday."])),
    );
    let port = server.addr.unwrap().port();
    server.set(
        "feed.xml",
        Route::Feed {
            body: thin_feed(&[
                ("n1", &server.url("news/1"), "Kellner in Vienna."),
                (
                    "n2",
                    &format!("http://localhost:{port}/news/2"),
                    "Kellner in Geneva.",
                ),
                (
                    "n3",
                    "http://127.0.0.1:7878/api/v1/events",
                    "Odum in Cairo.",
                ),
            ]),
            etag: "\"v1\"".into(),
        },
    );
    server.set(
        "moved.xml",
        Route::Redirect {
            code: 302,
            location: "http://169.254.169.254/latest/meta-data/".into(),
        },
    );
    let cfg = TestConfig::new(&format!(
        "[daemon]\nstate_dir = \"state\"\nrequest_timeout = \"5s\"\n\n[api]\nenabled = false\n\n\
         [[feed]]\nurl = {:?}\nname = \"Wire\"\nfetch_article = true\n\n\
         [[feed]]\nurl = {:?}\nname = \"Moved\"\n{ACTORS}",
        server.url("feed.xml"),
        server.url("moved.xml"),
    ));
    let proxy = format!("http://127.0.0.1:{}", trap.addr.unwrap().port());
    let path = cfg.path();
    let out = tokio::task::spawn_blocking(move || {
        parley_cmd(&path, &["run", "--once"])
            .env("http_proxy", &proxy)
            .env("HTTP_PROXY", &proxy)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_ok(&out);
    let log = stderr(&out);

    for path in ["news/1", "news/2", "robots.txt"] {
        assert!(
            server.requests_for(path).is_empty(),
            "{path} was fetched:\n{log}"
        );
    }
    assert!(
        trap.requests.lock().unwrap().is_empty(),
        "a request left for a refused address: {:?}",
        trap.requests.lock().unwrap()
    );
    assert_eq!(
        log.matches("Fetch refused by the address policy").count(),
        4,
        "three links and one redirect:\n{log}"
    );
    assert!(
        log.contains("link_local") && log.contains("loopback"),
        "{log}"
    );
    // The items are kept, with the feed's own text; the good feed counted ok, the moved one failed.
    let ingested = cfg.parley(&["events", "--kind", "article.ingested", "--json"]);
    assert_ok(&ingested);
    assert_eq!(json_lines(&ingested).len(), 3);
    let summary = stdout(&out);
    assert!(
        summary.contains("1 ok") && summary.contains("1 failed"),
        "{summary}"
    );
}
