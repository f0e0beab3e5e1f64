//! The web UI (`src/web`) in a real browser (headless chromium through chromedriver) against
//! the real binary, its sample feed served by the harness's feed server and the shipped
//! watchlists: the inbox, live updates, evidence highlighting, the graph, ack, escaping of
//! hostile feed text, and the token.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::browser::Browser;
use crate::common::*;
use serde_json::{Value, json};

const TOKEN: &str = "web-test-token-7c1e";

/// The sample desk feed, as shipped.
fn sample_feed() -> String {
    std::fs::read_to_string(repo().join("config/samples/world-desk.xml")).unwrap()
}

/// The sample feed plus one story that names Netanyahu and Mikati in one sentence (rule
/// `netanyahu-mikati`, silent on the sample) and carries markup in its title, sentence and
/// link. Entities are doubled where needed so the stored text holds the literal markup.
fn feed_with_hostile_story() -> String {
    let item = r#"
    <item>
      <title>&amp;lt;script&amp;gt;alert(2)&amp;lt;/script&amp;gt; Netanyahu and Mikati "onmouseover=alert(3) x="</title>
      <link>javascript:alert(4)</link>
      <guid isPermaLink="false">parley-web-test-hostile</guid>
      <pubDate>Mon, 04 Dec 2023 09:00:00 GMT</pubDate>
      <description><![CDATA[<p>Prime Minister Benjamin Netanyahu met Najib Mikati in Beirut &lt;script&gt;alert(1)&lt;/script&gt; and &lt;img src=x onerror=alert(5)&gt; "onmouseover=alert(6) on Monday.</p>]]></description>
    </item>
  </channel>"#;
    sample_feed().replacen("</channel>", item, 1)
}

fn config(feed: &str, token: bool) -> String {
    format!(
        concat!(
            "include = [{watchlists:?}]\n",
            "[daemon]\nstate_dir = \"state\"\npoll_interval = \"1s\"\n",
            "[api]\nlisten = \"127.0.0.1:0\"\n{token}",
            "[[feed]]\nurl = {feed:?}\nname = \"Parley sample desk\"\ninterval = \"1s\"\n",
            "[[notifier]]\nid = \"console\"\ntype = \"stdout\"\n",
        ),
        watchlists = shipped_watchlists(),
        feed = feed,
        token = if token {
            "token_file = \"api-token\"\n"
        } else {
            ""
        },
    )
}

struct Desk {
    cfg: TestConfig,
    daemon: Child,
    base: String,
    http: reqwest::Client,
}

impl Desk {
    /// Starts the daemon on the sample feed and waits until the sample's four alerts are in.
    async fn start(feeds: &FeedServer, token: bool) -> Desk {
        let cfg = TestConfig::new(&config(&feeds.url("desk.xml"), token));
        Desk::start_with(cfg).await
    }

    /// [`Desk::start`] with a config already written (and its other files in place).
    async fn start_with(cfg: TestConfig) -> Desk {
        cfg.write("api-token", &format!("{TOKEN}\n"));
        let daemon = parley_cmd(&cfg.path(), &["run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr_file = cfg.state().join("api.addr");
        let mut base = None;
        // Failure guards for a daemon that never comes up, not timing assertions.
        for _ in 0..600 {
            if let Ok(addr) = std::fs::read_to_string(&addr_file)
                && !addr.trim().is_empty()
            {
                base = Some(format!("http://{}", addr.trim()));
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let desk = Desk {
            cfg,
            daemon,
            base: base.expect("the daemon wrote api.addr"),
            http: reqwest::Client::new(),
        };
        for _ in 0..600 {
            if desk.alerts().await.len() >= 4 {
                return desk;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the sample's alerts never arrived: {:?}",
            desk.alerts().await
        );
    }

    fn api(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
    }

    /// A JSON array from the API (with the token, which a token-less daemon ignores).
    async fn json(&self, path: &str) -> Vec<Value> {
        self.api(path).send().await.unwrap().json().await.unwrap()
    }

    async fn alerts(&self) -> Vec<Value> {
        match self.api("/api/v1/alerts").send().await {
            Ok(r) if r.status() == 200 => r.json().await.unwrap(),
            _ => Vec::new(),
        }
    }

    async fn stop(mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.daemon.id() as i32, libc::SIGTERM) };
        let status = tokio::task::spawn_blocking(move || self.daemon.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "SIGTERM must exit 0, got {status:?}");
        drop(self.cfg);
    }
}

/// A feed server with the sample feed, a browser of the given size, and the daemon on it.
async fn sample_desk(token: bool, width: u32, height: u32) -> (FeedServer, Browser, Desk) {
    let feeds = FeedServer::start().await;
    feeds.set(
        "desk.xml",
        Route::Feed {
            body: sample_feed(),
            etag: "\"1\"".into(),
        },
    );
    let browser = Browser::start(width, height).await;
    let desk = Desk::start(&feeds, token).await;
    (feeds, browser, desk)
}

fn actor_set(alert: &Value) -> Vec<String> {
    alert["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_shows_the_seed_story_live_with_its_evidence_graph_and_ack() {
    // The issue's browser checks 1-5 and the escaping check, in one daemon and one browser.
    let (feeds, browser, desk) = sample_desk(false, 1280, 900).await;
    let alerts = desk.alerts().await;
    assert_eq!(alerts.len(), 4, "the sample raises four alerts: {alerts:?}");

    // 1. The inbox lists the seed story's alerts.
    browser.goto(&format!("{}/", desk.base)).await;
    let rows = browser
        .eval(
            "return [...document.querySelectorAll('#inbox tr[data-alert]')].map(r => r.dataset.alert)",
            json!([]),
        )
        .await;
    let mut shown: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = alerts
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap())
        .collect();
    shown.sort_unstable();
    expected.sort_unstable();
    assert_eq!(shown, expected);
    let title = browser.eval("return document.title", json!([])).await;
    assert_eq!(title, "Alert inbox · parley");
    let text = browser
        .eval(
            "return document.querySelector('#inbox').innerText",
            json!([]),
        )
        .await;
    for rule in [
        "blinken-arab-fms",
        "blinken-israel",
        "blinken-meets-lebanon",
    ] {
        assert!(text.as_str().unwrap().contains(rule), "{rule} in {text}");
    }

    // 2. A new alert appears without a reload: the stream is open, the feed gains a story,
    // and the row shows up in this same document (the marker set on it survives).
    browser
        .wait_until(
            "the live stream to open",
            "return document.getElementById('live').textContent.includes('Live')",
        )
        .await;
    browser
        .eval(
            "window.parleyTestMarker = 'same page'; return true",
            json!([]),
        )
        .await;
    feeds.set(
        "desk.xml",
        Route::Feed {
            body: feed_with_hostile_story(),
            etag: "\"2\"".into(),
        },
    );
    browser
        .wait_until(
            "the new alert's row",
            "return document.querySelectorAll('#inbox tr[data-alert]').length === 5",
        )
        .await;
    let marker = browser
        .eval("return window.parleyTestMarker || null", json!([]))
        .await;
    assert_eq!(
        marker, "same page",
        "the inbox must update without a reload"
    );
    let new_rows = browser
        .eval(
            "return [...document.querySelectorAll('#inbox tr.new')].map(r => r.innerText)",
            json!([]),
        )
        .await;
    assert_eq!(new_rows.as_array().unwrap().len(), 1, "{new_rows}");
    assert!(new_rows[0].as_str().unwrap().contains("netanyahu-mikati"));

    // Feed markup never becomes markup: the stored text holds it, the DOM shows it as text.
    let hostile = desk
        .alerts()
        .await
        .into_iter()
        .find(|a| a["rule"] == "netanyahu-mikati")
        .expect("the hostile story's alert");
    let sentence = hostile["evidence"][0]["sentence"].as_str().unwrap();
    assert!(
        sentence.contains("<script>alert(") && sentence.contains("\"onmouseover=alert("),
        "the test must feed markup through: {sentence}"
    );
    let hostile_id = hostile["alert_id"].as_str().unwrap().to_string();
    for page in ["/".to_string(), format!("/alerts/{hostile_id}")] {
        browser.goto(&format!("{}{page}", desk.base)).await;
        let dom = browser
            .eval(
                "return {
                    scripts: [...document.scripts].map(s => s.getAttribute('src')),
                    handlers: document.querySelectorAll('[onmouseover],[onerror],[x]').length,
                    images: document.images.length,
                    jsLinks: [...document.links].filter(a => /^\\s*javascript:/i.test(a.getAttribute('href'))).length,
                    text: document.body.textContent,
                }",
                json!([]),
            )
            .await;
        assert_eq!(dom["scripts"], json!(["/ui/app.js"]), "{page}");
        assert_eq!(dom["handlers"], 0, "{page}");
        assert_eq!(dom["images"], 0, "{page}");
        assert_eq!(dom["jsLinks"], 0, "{page}");
        let text = dom["text"].as_str().unwrap();
        assert!(
            text.contains("onmouseover=alert(3)"),
            "{page}: title shown as text"
        );
        if page != "/" {
            assert!(
                text.contains(sentence),
                "{page}: the sentence as text: {text}"
            );
            assert!(
                text.contains("javascript:alert(4)"),
                "the bad link is shown as text"
            );
        }
    }

    // 3. An alert page highlights its evidence: the Amman story's blinken-arab-fms alert.
    let amman = alerts
        .iter()
        .find(|a| {
            a["rule"] == "blinken-arab-fms" && actor_set(a) == ["blinken", "safadi", "shoukry"]
        })
        .expect("the Amman alert");
    let amman_id = amman["alert_id"].as_str().unwrap();
    browser
        .goto(&format!("{}/alerts/{amman_id}", desk.base))
        .await;
    let marks = browser
        .eval(
            "return {
                actors: [...document.querySelectorAll('.evidence mark.actor')].map(m => m.textContent),
                triggers: [...document.querySelectorAll('.evidence mark.trigger')].map(m => m.textContent),
                links: [...document.querySelectorAll('.evidence .source a')].map(a => a.href),
                outlets: [...document.querySelectorAll('.evidence .outlet')].map(o => o.textContent),
                dates: [...document.querySelectorAll('.evidence .source time')].map(t => t.getAttribute('datetime')),
                h1: document.querySelector('h1').textContent,
            }",
            json!([]),
        )
        .await;
    let actors = marks["actors"].as_array().unwrap();
    for name in ["Blinken", "Ayman Safadi", "Sameh Shoukry"] {
        assert!(actors.contains(&json!(name)), "{name} highlighted: {marks}");
    }
    assert_eq!(marks["triggers"], json!(["met"]), "{marks}");
    assert_eq!(
        marks["links"],
        json!(["https://example.org/world-desk/2023/11/12/blinken-amman-arab-ministers"])
    );
    assert_eq!(marks["outlets"], json!(["Parley sample desk"]));
    assert!(
        marks["dates"][0]
            .as_str()
            .unwrap()
            .starts_with("2023-11-12"),
        "{marks}"
    );

    // 4. The graph's SVG has a node per actor that interacted in the seed story, and an
    // edge links to a pair page.
    let extracted: Vec<Value> = desk.json("/api/v1/events?kind=event.extracted").await;
    let mut interacting: Vec<String> = Vec::new();
    for e in &extracted {
        let p = &e["payload"];
        let mut set: Vec<String> = ["source", "target", "participants"]
            .iter()
            .flat_map(|k| p[*k].as_array().cloned().unwrap_or_default())
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        if set.is_empty() {
            set = p["actors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
        }
        set.sort();
        set.dedup();
        if set.len() >= 2 {
            interacting.extend(set);
        }
    }
    interacting.sort();
    interacting.dedup();
    for seed in ["blinken", "safadi", "shoukry", "mikati", "netanyahu"] {
        assert!(
            interacting.iter().any(|a| a == seed),
            "{seed} in {interacting:?}"
        );
    }
    browser
        .goto(&format!("{}/graph?since=all", desk.base))
        .await;
    let graph = browser
        .eval(
            "return {
                nodes: [...document.querySelectorAll('svg#graph a.node')].map(a => a.dataset.actor).sort(),
                nodeLinks: [...document.querySelectorAll('svg#graph a.node')].map(a => a.getAttribute('href')),
                edges: [...document.querySelectorAll('svg#graph a.edge')].map(a => a.getAttribute('href')),
            }",
            json!([]),
        )
        .await;
    assert_eq!(graph["nodes"], json!(interacting), "{graph}");
    assert!(
        graph["nodeLinks"]
            .as_array()
            .unwrap()
            .contains(&json!("/actors/blinken"))
    );
    assert!(
        graph["edges"]
            .as_array()
            .unwrap()
            .contains(&json!("/pair/blinken/safadi")),
        "{graph}"
    );

    // 5. Ack from the page is recorded in the log.
    browser
        .goto(&format!("{}/alerts/{amman_id}", desk.base))
        .await;
    browser.click("#ack").await;
    browser
        .wait_until(
            "the page after the ack",
            "return location.search.includes('done=ack') && !!document.querySelector('.notice')",
        )
        .await;
    let acks: Vec<Value> = desk.json("/api/v1/events?kind=alert.acked").await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(acks[0]["payload"]["alert_id"], json!(amman_id));
    assert!(browser.current_url().await.contains(amman_id));

    // Silence from the page: the rule for this actor set, recorded as silence.added.
    browser
        .type_into("#reason", "covered by the morning brief")
        .await;
    browser.click("form.silence button[type=submit]").await;
    browser
        .wait_until(
            "the page after the silence",
            "return location.search.includes('done=silence') && !!document.querySelector('.notice')",
        )
        .await;
    let silences: Vec<Value> = desk.json("/api/v1/silences").await;
    assert_eq!(silences.len(), 1, "{silences:?}");
    assert_eq!(silences[0]["rule"], "blinken-arab-fms");
    assert_eq!(
        silences[0]["actors"],
        json!(["blinken", "safadi", "shoukry"])
    );
    assert_eq!(silences[0]["reason"], "covered by the morning brief");

    // Every page answers with a title and a heading.
    for page in [
        "/feeds",
        "/watchlist",
        "/actors/blinken",
        "/pair/blinken/safadi",
        "/events?q=ceasefire",
    ] {
        browser.goto(&format!("{}{page}", desk.base)).await;
        let v = browser
            .eval(
                "return [document.title, document.querySelector('h1') && document.querySelector('h1').textContent]",
                json!([]),
            )
            .await;
        assert!(v[0].as_str().unwrap().ends_with("· parley"), "{page}: {v}");
        assert!(!v[1].as_str().unwrap_or("").is_empty(), "{page}: {v}");
    }

    drop(browser);
    desk.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_nothing_is_readable_without_it() {
    // Check 7: pages, the stream and writes need the token; the browser asks for it once.
    let (_feeds, browser, desk) = sample_desk(true, 390, 844).await;
    let alert_id = desk.alerts().await[0]["alert_id"]
        .as_str()
        .unwrap()
        .to_string();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pages = [
        "/".to_string(),
        format!("/alerts/{alert_id}"),
        "/feeds".into(),
        "/actors/blinken".into(),
        "/pair/blinken/safadi".into(),
        "/events".into(),
        "/graph?since=all".into(),
        "/watchlist".into(),
    ];
    for page in &pages {
        let r = plain
            .get(format!("{}{page}", desk.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{page}");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login?next="),
            "{page}"
        );
        let body = r.text().await.unwrap();
        assert!(!body.contains("blinken"), "{page} leaks: {body}");
    }
    for path in ["/api/v1/alerts", "/api/v1/alerts/stream"] {
        let r = plain
            .get(format!("{}{path}", desk.base))
            .header("cookie", "parley_session=forged")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path} with a forged cookie");
    }
    let r = plain
        .post(format!("{}/alerts/{alert_id}/ack", desk.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The browser lands on the sign-in form, which shows no data.
    browser.goto(&format!("{}/", desk.base)).await;
    assert!(browser.current_url().await.contains("/login?next="));
    let source = browser.source().await;
    assert!(!source.contains("data-alert"), "{source}");
    assert!(!source.contains("blinken"), "{source}");
    // A wrong token is refused; the right one sets an HttpOnly cookie and returns to the page.
    browser.type_into("#token", "wrong").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_until("the refusal", "return !!document.querySelector('.error')")
        .await;
    browser.type_into("#token", TOKEN).await;
    browser.click("button[type=submit]").await;
    browser
        .wait_until(
            "the inbox after signing in",
            "return document.querySelectorAll('#inbox tr[data-alert]').length >= 4",
        )
        .await;
    let cookie = browser.eval("return document.cookie", json!([])).await;
    assert!(
        !cookie.as_str().unwrap().contains("parley_session"),
        "the session cookie must be HttpOnly: {cookie}"
    );
    // The stream accepts the session (the inbox's EventSource opens).
    browser
        .wait_until(
            "the live stream to open",
            "return document.getElementById('live').textContent.includes('Live')",
        )
        .await;
    // Phone width: the page does not scroll sideways (tables scroll inside their box).
    let overflow = browser
        .eval(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            json!([]),
        )
        .await;
    assert_eq!(overflow, true, "the inbox must fit a 390 px screen");

    // Writes check Origin, even with a valid session.
    let login = plain
        .post(format!("{}/login", desk.base))
        .header("origin", &desk.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={TOKEN}&next=%2F"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    assert!(!set_cookie.contains(TOKEN), "the cookie is not the token");
    let session = set_cookie.split(';').next().unwrap().to_string();
    for origin in [Some("http://evil.example"), None] {
        let mut req = plain
            .post(format!("{}/alerts/{alert_id}/ack", desk.base))
            .header("cookie", &session);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        assert_eq!(req.send().await.unwrap().status(), 403, "origin {origin:?}");
    }
    let ok = plain
        .post(format!("{}/alerts/{alert_id}/ack", desk.base))
        .header("cookie", &session)
        .header("origin", &desk.base)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let acks: Vec<Value> = desk.json("/api/v1/events?kind=alert.acked").await;
    assert_eq!(
        acks.len(),
        1,
        "only the same-origin ack is recorded: {acks:?}"
    );

    drop(browser);
    desk.stop().await;
}

/// A hand-written watchlist with a comment and its own layout: editing on /watchlist must
/// leave it byte for byte as written.
const HAND_WRITTEN: &str = "# Hand-written: parley never rewrites this file.\n\
[[group]]\n\
id   = \"hand-pair\"      # aligned by hand\n\
members = [\"netanyahu\", \"mikati\"]\n";

/// The sample feed plus a plain story naming Netanyahu and Mikati in one sentence.
fn feed_with_new_story() -> String {
    let item = r#"
    <item>
      <title>Netanyahu and Mikati meet</title>
      <link>https://example.org/news/netanyahu-mikati</link>
      <guid isPermaLink="false">parley-web-test-watchlist</guid>
      <pubDate>Tue, 05 Dec 2023 09:00:00 GMT</pubDate>
      <description>Prime Minister Benjamin Netanyahu met Najib Mikati in Beirut on Tuesday.</description>
    </item>
  </channel>"#;
    sample_feed().replacen("</channel>", item, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_added_on_the_watchlist_alerts_on_the_next_poll_and_a_bad_one_is_refused() {
    // Check 6: an edit on /watchlist is validated as `parley check` validates, written to the
    // managed file only, recorded as watchlist.changed, and in force after the reload.
    let feeds = FeedServer::start().await;
    feeds.set(
        "desk.xml",
        Route::Feed {
            body: sample_feed(),
            etag: "\"1\"".into(),
        },
    );
    let browser = Browser::start(1280, 900).await;
    let body = config(&feeds.url("desk.xml"), false).replacen(
        "include = [",
        "include = [\"watchlists/*.toml\", ",
        1,
    );
    let cfg = TestConfig::new(&body);
    cfg.write("watchlists/hand.toml", HAND_WRITTEN);
    let dir = cfg.dir.path().to_path_buf();
    let managed = dir.join("watchlists/managed.toml");
    let desk = Desk::start_with(cfg).await;

    // Add a rule with the structured form, as an analyst would.
    browser.goto(&format!("{}/watchlist", desk.base)).await;
    browser.click("#add-rule summary").await;
    browser.type_into("#rule-id", "web-added").await;
    browser.type_into("#rule-actors", "netanyahu, mikati").await;
    browser.type_into("#rule-notify", "console").await;
    browser.click("#add-rule button[type=submit]").await;
    browser
        .wait_until(
            "the watchlist after the reload",
            "return location.search.includes('done=applied') && !!document.querySelector('#rule-web-added')",
        )
        .await;
    let written = std::fs::read_to_string(&managed).unwrap();
    assert!(
        written.contains("[[rule]]\nid = \"web-added\"\n"),
        "{written}"
    );

    // The next poll brings a story the new rule matches: it alerts.
    feeds.set(
        "desk.xml",
        Route::Feed {
            body: feed_with_new_story(),
            etag: "\"2\"".into(),
        },
    );
    let mut raised = false;
    for _ in 0..600 {
        if desk.alerts().await.iter().any(|a| a["rule"] == "web-added") {
            raised = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(raised, "no web-added alert: {:?}", desk.alerts().await);

    // An invalid rule (an unknown actor), added as TOML, is refused with check's message.
    let bad = "id = \"bad-rule\"\nactors = [\"nobody-at-all\"]";
    browser.goto(&format!("{}/watchlist", desk.base)).await;
    browser.click("#add-toml summary").await;
    browser
        .eval(
            "document.querySelector('#toml-body').value = arguments[0]",
            json!([bad]),
        )
        .await;
    browser.click("#add-toml button[type=submit]").await;
    browser
        .wait_until("the refusal", "return !!document.querySelector('#refusal')")
        .await;
    let shown = browser
        .eval(
            "return document.querySelector('#refusal').textContent",
            json!([]),
        )
        .await;
    assert_eq!(
        std::fs::read_to_string(&managed).unwrap(),
        written,
        "a refused change leaves the managed file as it was"
    );
    // What `parley check` says of the same file with the candidate in place.
    std::fs::write(&managed, format!("{written}\n[[rule]]\n{bad}\n")).unwrap();
    let check = parley_cmd(&dir.join("parley.toml"), &["check"])
        .output()
        .unwrap();
    std::fs::write(&managed, &written).unwrap();
    assert!(!check.status.success());
    let said = stderr(&check)
        .lines()
        .find_map(|l| l.strip_prefix("parley: "))
        .unwrap_or_default()
        .to_string();
    assert!(said.contains("nobody-at-all"), "{said}");
    assert_eq!(shown.as_str().unwrap(), said);

    // The log holds the one accepted change, with who and the diff.
    let out = parley_cmd(
        &dir.join("parley.toml"),
        &["events", "--kind", "watchlist.changed", "--json"],
    )
    .output()
    .unwrap();
    let changes = json_lines(&out);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["payload"]["who"], "web");
    assert_eq!(changes[0]["payload"]["change"], "rule web-added added");
    let diff = changes[0]["payload"]["diff"].as_str().unwrap();
    assert!(diff.contains("+id = \"web-added\""), "{diff}");

    // The hand-written watchlist is byte for byte what it was.
    assert_eq!(
        std::fs::read_to_string(dir.join("watchlists/hand.toml")).unwrap(),
        HAND_WRITTEN
    );
    drop(browser);
    desk.stop().await;
}
