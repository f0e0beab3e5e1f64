//! `parley watchlist sync` end to end: the real binary against a local HTTP server on
//! 127.0.0.1 serving entity JSON that this project wrote in Wikidata's documented format
//! (`Special:EntityData/{id}.json`). The ids are made up (Q91000xx) so no test depends on
//! Wikidata's real content.

use crate::common::{
    FeedServer, Item, Route, TestConfig, assert_ok, json_lines, rss, stderr, stdout,
};
use serde_json::{Value, json};

const BLINKEN: &str = "Q9100001";
const RUBIO: &str = "Q9100002";
const SECSTATE: &str = "Q9100100";

/// The main config: includes the watchlists folder, keeps state in the temp folder.
pub(crate) const MAIN: &str =
    "include = [\"watchlists/*.toml\"]\n[daemon]\nstate_dir = \"state\"\n";

/// Hand-written actors with their Wikidata ids and no roles: the sync must supply those.
fn people() -> String {
    format!(
        "[[actor]]\nid = \"blinken\"\nname = \"Antony Blinken\"\naliases = [\"Antony Blinken\"]\n\
         wikidata = \"{BLINKEN}\"\n\n\
         [[actor]]\nid = \"rubio\"\nname = \"Marco Rubio\"\naliases = [\"Marco Rubio\"]\n\
         wikidata = \"{RUBIO}\"\n"
    )
}

/// A time value as Wikibase writes it (day precision, Gregorian).
fn time(date: &str) -> Value {
    json!({
        "time": format!("+{date}T00:00:00Z"), "timezone": 0, "before": 0, "after": 0,
        "precision": 11, "calendarmodel": "http://www.wikidata.org/entity/Q1985727"
    })
}

fn qualifier(property: &str, date: &str) -> Value {
    json!([{ "snaktype": "value", "property": property, "datatype": "time",
             "datavalue": { "value": time(date), "type": "time" } }])
}

/// One P39 statement: (position, start, end, rank).
pub(crate) fn held(
    owner: &str,
    n: usize,
    position: &str,
    from: &str,
    until: Option<&str>,
    rank: &str,
) -> Value {
    let mut qualifiers = serde_json::Map::new();
    qualifiers.insert("P580".into(), qualifier("P580", from));
    if let Some(u) = until {
        qualifiers.insert("P582".into(), qualifier("P582", u));
    }
    let numeric: u64 = position[1..].parse().unwrap();
    json!({
        "mainsnak": { "snaktype": "value", "property": "P39", "datatype": "wikibase-item",
            "datavalue": { "value": { "entity-type": "item", "numeric-id": numeric, "id": position },
                           "type": "wikibase-entityid" } },
        "type": "statement", "id": format!("{owner}$0000000{n}"), "rank": rank,
        "qualifiers": Value::Object(qualifiers), "qualifiers-order": ["P580", "P582"]
    })
}

/// An item document: labels (lang, value), aliases (lang, value), P39 statements.
pub(crate) fn item(
    id: &str,
    revision: u64,
    labels: &[(&str, &str)],
    aliases: &[(&str, &str)],
    p39: Vec<Value>,
) -> String {
    let mut l = serde_json::Map::new();
    for (lang, value) in labels {
        l.insert(
            lang.to_string(),
            json!({ "language": lang, "value": value }),
        );
    }
    let mut a: serde_json::Map<String, Value> = serde_json::Map::new();
    for (lang, value) in aliases {
        a.entry(lang.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(json!({ "language": lang, "value": value }));
    }
    let mut claims = serde_json::Map::new();
    if !p39.is_empty() {
        claims.insert("P39".into(), Value::Array(p39));
    }
    json!({ "entities": { id: {
        "pageid": 1, "ns": 0, "title": id, "lastrevid": revision,
        "modified": "2026-12-01T00:00:00Z", "type": "item", "id": id,
        "labels": l, "descriptions": {}, "aliases": a, "claims": claims, "sitelinks": {}
    } } })
    .to_string()
}

pub(crate) fn serve(server: &FeedServer, id: &str, revision: u64, body: String) {
    server.set(
        &format!("wiki/Special:EntityData/{id}.json"),
        Route::Feed {
            body,
            etag: format!("\"{id}-{revision}\""),
        },
    );
}

/// The office: labels in two languages and the short form newsrooms use.
fn serve_office(server: &FeedServer) {
    serve(
        server,
        SECSTATE,
        1,
        item(
            SECSTATE,
            1,
            &[
                ("en", "United States Secretary of State"),
                ("fr", "secrétaire d'État des États-Unis"),
            ],
            &[
                ("en", "Secretary of State"),
                ("en", "US Secretary of State"),
            ],
            vec![],
        ),
    );
}

/// Before the handover: Blinken in office with no end, Rubio holding nothing.
fn serve_before(server: &FeedServer) {
    serve_office(server);
    serve(
        server,
        BLINKEN,
        10,
        item(
            BLINKEN,
            10,
            &[("en", "Antony Blinken"), ("ru", "Энтони Блинкен")],
            &[("ru", "Блинкен")],
            vec![
                held(BLINKEN, 1, SECSTATE, "2021-01-26", None, "preferred"),
                // A deprecated claim (a vandal's edit) must not become a role.
                held(
                    BLINKEN,
                    2,
                    SECSTATE,
                    "2010-01-01",
                    Some("2011-01-01"),
                    "deprecated",
                ),
            ],
        ),
    );
    serve(
        server,
        RUBIO,
        20,
        item(RUBIO, 20, &[("en", "Marco Rubio")], &[], vec![]),
    );
}

/// After the handover: Blinken's term ended, Rubio's began, Rubio gained Russian names.
fn serve_after(server: &FeedServer) {
    serve_office(server);
    serve(
        server,
        BLINKEN,
        11,
        item(
            BLINKEN,
            11,
            &[("en", "Antony Blinken"), ("ru", "Энтони Блинкен")],
            &[("ru", "Блинкен")],
            vec![held(
                BLINKEN,
                1,
                SECSTATE,
                "2021-01-26",
                Some("2025-01-20"),
                "normal",
            )],
        ),
    );
    serve(
        server,
        RUBIO,
        21,
        item(
            RUBIO,
            21,
            &[("en", "Marco Rubio"), ("ru", "Марко Рубио")],
            &[],
            vec![held(RUBIO, 1, SECSTATE, "2025-01-21", None, "normal")],
        ),
    );
}

fn setup() -> TestConfig {
    let cfg = TestConfig::new(MAIN);
    cfg.write("watchlists/people.toml", &people());
    cfg
}

/// The actor ids `parley extract --text --published DATE` finds in `text`.
pub(crate) fn actors_in(cfg: &TestConfig, text: &str, date: &str) -> Vec<String> {
    cfg.write("article.txt", text);
    let input = cfg.dir.path().join("article.txt");
    let out = cfg.parley(&[
        "extract",
        "--text",
        "--published",
        date,
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_ok(&out);
    json_lines(&out)
        .iter()
        .flat_map(|l| l["actors"].as_array().cloned().unwrap_or_default())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

/// `parley watchlist sync --endpoint ENDPOINT`.
async fn sync(cfg: &TestConfig, endpoint: &str) -> std::process::Output {
    cfg.parley_async(&["watchlist", "sync", "--endpoint", endpoint])
        .await
}

fn generated(cfg: &TestConfig) -> std::path::PathBuf {
    cfg.dir.path().join("watchlists/wikidata.toml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_roles_resolve_the_office_to_its_holder_on_the_article_date() {
    // The point of the issue: "the Secretary of State" is whoever held it that day, and
    // names synced in other scripts match.
    let server = FeedServer::start().await;
    serve_after(&server);
    let cfg = setup();
    let endpoint = server.url("");
    let out = sync(&cfg, &endpoint).await;
    assert_ok(&out);
    let text = std::fs::read_to_string(generated(&cfg)).unwrap();
    assert!(
        text.starts_with("# GENERATED by `parley watchlist sync`"),
        "{text}"
    );
    assert!(
        text.contains(&format!("from {}", endpoint.trim_end_matches('/'))),
        "{text}"
    );
    assert!(
        !text.contains("2010-01-01"),
        "deprecated claim became a role:\n{text}"
    );
    let sentence = "The Secretary of State arrived in Cairo on Monday.";
    assert_eq!(actors_in(&cfg, sentence, "2024-06-01"), vec!["blinken"]);
    assert_eq!(actors_in(&cfg, sentence, "2025-03-01"), vec!["rubio"]);
    // The handover is exact to the day: the last day is Blinken's, the next Rubio's.
    assert_eq!(actors_in(&cfg, sentence, "2025-01-20"), vec!["blinken"]);
    assert_eq!(actors_in(&cfg, sentence, "2025-01-21"), vec!["rubio"]);
    // A label in another language is a name like any other.
    assert_eq!(
        actors_in(&cfg, "Марко Рубио прибыл в Каир.", "2025-03-01"),
        vec!["rubio"]
    );
    // The config still validates with the generated file included.
    assert_ok(&cfg.parley(&["check"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_after_the_office_changes_hands_reports_the_change() {
    // Operators read this report to see what a weekly sync did.
    let server = FeedServer::start().await;
    serve_before(&server);
    let cfg = setup();
    let endpoint = server.url("");
    let first = sync(&cfg, &endpoint).await;
    assert_ok(&first);
    assert!(
        stdout(&first).contains(&format!(
            "blinken ({BLINKEN}): new office \"United States Secretary of State\" from 2021-01-26"
        )),
        "{}",
        stdout(&first)
    );
    serve_after(&server);
    let second = sync(&cfg, &endpoint).await;
    assert_ok(&second);
    let report = stdout(&second);
    for line in [
        format!(
            "blinken ({BLINKEN}): ended office \"United States Secretary of State\" on 2025-01-20"
        ),
        format!("rubio ({RUBIO}): new office \"United States Secretary of State\" from 2025-01-21"),
        format!("rubio ({RUBIO}): new aliases: Марко Рубио"),
    ] {
        assert!(report.contains(&line), "missing {line:?} in:\n{report}");
    }
    assert!(
        !report.contains("blinken (Q9100001): new aliases"),
        "{report}"
    );
    // The second sync asked conditionally with the first answer's validator.
    let asked = server.requests_for(&format!("wiki/Special:EntityData/{BLINKEN}.json"));
    assert_eq!(asked, vec![None, Some(format!("\"{BLINKEN}-10\""))]);
    // Unchanged since: the server answers 304 and the cache fills in; nothing to report.
    let third = sync(&cfg, &endpoint).await;
    assert_ok(&third);
    assert!(
        stdout(&third).contains("no changes since the last sync"),
        "{}",
        stdout(&third)
    );
    assert_eq!(
        actors_in(&cfg, "The Secretary of State spoke.", "2025-03-01"),
        vec!["rubio"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_leaves_the_old_file_intact_and_fails() {
    // A partial sync must never replace a complete one.
    let server = FeedServer::start().await;
    serve_before(&server);
    let cfg = setup();
    let endpoint = server.url("");
    assert_ok(&sync(&cfg, &endpoint).await);
    let before = std::fs::read(generated(&cfg)).unwrap();
    serve_after(&server);
    server.set(
        &format!("wiki/Special:EntityData/{RUBIO}.json"),
        Route::Status {
            code: 500,
            retry_after: None,
        },
    );
    let out = sync(&cfg, &endpoint).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("watchlist sync failed")
            && err.contains(&format!("Special:EntityData/{RUBIO}.json"))
            && err.contains("500"),
        "{err}"
    );
    assert_eq!(std::fs::read(generated(&cfg)).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(cfg.dir.path().join("watchlists"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_file_that_breaks_the_config_is_not_left_in_place() {
    // An operator's own [[actor_update]] for a synced actor makes the generated one a
    // duplicate: the sync must not leave a config the daemon's next reload would refuse.
    let server = FeedServer::start().await;
    serve_before(&server);
    let cfg = setup();
    cfg.write(
        "watchlists/extra.toml",
        "[[actor_update]]\nid = \"rubio\"\naliases = [\"Senator Rubio\"]\n",
    );
    let endpoint = server.url("");
    let out = sync(&cfg, &endpoint).await;
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("duplicate actor_update id \"rubio\""), "{err}");
    assert!(err.contains("it was removed again"), "{err}");
    assert!(!generated(&cfg).exists());
    assert_ok(&cfg.parley(&["check"]));
    // With a previous file in place, that file is what remains: first sync Blinken only,
    // then give Rubio (who has the hand-written update) an id and sync again.
    cfg.write(
        "watchlists/people.toml",
        &people().replace(&format!("wikidata = \"{RUBIO}\"\n"), ""),
    );
    assert_ok(&sync(&cfg, &endpoint).await);
    let before = std::fs::read(generated(&cfg)).unwrap();
    cfg.write("watchlists/people.toml", &people());
    assert_ok(&cfg.parley(&["check"]));
    let out = sync(&cfg, &endpoint).await;
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the previous file was put back"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(generated(&cfg)).unwrap(), before);
    assert_ok(&cfg.parley(&["check"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_and_writes_nothing() {
    // Operators preview a sync before letting it change what the daemon matches.
    let server = FeedServer::start().await;
    serve_after(&server);
    let cfg = setup();
    let endpoint = server.url("");
    let out = cfg
        .parley_async(&["watchlist", "sync", "--endpoint", &endpoint, "--dry-run"])
        .await;
    assert_ok(&out);
    let report = stdout(&out);
    assert!(
        report.contains(&format!("rubio ({RUBIO}): new office")),
        "{report}"
    );
    assert!(report.contains("dry run: would write"), "{report}");
    assert!(!generated(&cfg).exists());
    assert!(!cfg.state().exists(), "a dry run wrote state (the cache)");
}

#[test]
fn a_bad_wikidata_id_is_a_located_config_error() {
    // A typo must be caught by `parley check` with its line, exit 78, before any sync.
    let cfg = TestConfig::new(MAIN);
    cfg.write(
        "watchlists/people.toml",
        "[[actor]]\nid = \"x\"\nname = \"X\"\nwikidata = \"Q12x\"\n",
    );
    let out = cfg.parley(&["check"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("people.toml:4"), "{}", stderr(&out));
}

const SAFADI: &str = "Q9100003";

/// Sync names in Russian and Arabic, then let the daemon read `text` from a feed: a
/// sentence-scope rule on the two actors must alert. Returns the alerts.
async fn alerts_after_sync(text: &str) -> Vec<Value> {
    let server = FeedServer::start().await;
    serve(
        &server,
        BLINKEN,
        1,
        item(
            BLINKEN,
            1,
            &[
                ("en", "Antony Blinken"),
                ("ru", "Энтони Блинкен"),
                ("ar", "أنتوني بلينكن"),
                ("zh", "安东尼·布林肯"),
            ],
            &[("ru", "Блинкен"), ("ar", "بلينكن"), ("zh", "布林肯")],
            vec![],
        ),
    );
    serve(
        &server,
        SAFADI,
        1,
        item(
            SAFADI,
            1,
            &[
                ("en", "Ayman Safadi"),
                ("ru", "Айман Сафади"),
                ("ar", "أيمن الصفدي"),
                ("zh", "艾曼·萨法迪"),
            ],
            &[("ru", "Сафади"), ("ar", "الصفدي"), ("zh", "萨法迪")],
            vec![],
        ),
    );
    let now = httpdate::fmt_http_date(std::time::SystemTime::now());
    server.set(
        "news.xml",
        Route::Feed {
            body: rss(
                "news",
                &[Item {
                    guid: "a1",
                    title: "",
                    body: text,
                    date: &now,
                }],
            ),
            etag: "\"n1\"".into(),
        },
    );
    let cfg = TestConfig::new(&format!(
        "{MAIN}poll_interval = \"1m\"\nrequest_timeout = \"5s\"\n\n[[feed]]\nurl = {:?}\nname = \"news\"\n\n\
         [[rule]]\nid = \"meet\"\nactors = [\"blinken\", \"safadi\"]\nscope = \"sentence\"\n",
        server.url("news.xml")
    ));
    cfg.write(
        "watchlists/people.toml",
        &format!(
            "[[actor]]\nid = \"blinken\"\nname = \"Antony Blinken\"\naliases = [\"Antony Blinken\"]\n\
             wikidata = \"{BLINKEN}\"\n\n\
             [[actor]]\nid = \"safadi\"\nname = \"Ayman Safadi\"\naliases = [\"Ayman Safadi\"]\n\
             wikidata = \"{SAFADI}\"\n"
        ),
    );
    // Control: before the sync the hand-written English names find no one in this text.
    assert!(actors_in(&cfg, text, "2025-03-01").is_empty());
    let endpoint = server.url("");
    assert_ok(&sync(&cfg, &endpoint).await);
    assert_ok(&cfg.parley_async(&["run", "--once"]).await);
    let out = cfg.parley_async(&["alerts", "--json"]).await;
    assert_ok(&out);
    json_lines(&out)
}

fn alerted_pairs(alerts: &[Value]) -> Vec<(String, Vec<String>)> {
    alerts
        .iter()
        .map(|a| {
            let actors = a["actors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            (a["rule"].as_str().unwrap_or_default().to_string(), actors)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_russian_article_naming_two_synced_actors_alerts() {
    // Issue 20: analysts read the Russian press; names synced in Cyrillic must drive alerts.
    let alerts =
        alerts_after_sync("Энтони Блинкен провёл переговоры с Айманом Сафади в Аммане.").await;
    assert_eq!(
        alerted_pairs(&alerts),
        vec![(
            "meet".to_string(),
            vec!["blinken".to_string(), "safadi".to_string()]
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arabic_article_naming_two_synced_actors_alerts() {
    // The same in Arabic script, names written apart.
    let alerts = alerts_after_sync("التقى أنتوني بلينكن مع أيمن الصفدي في عمان.").await;
    assert_eq!(
        alerted_pairs(&alerts),
        vec![(
            "meet".to_string(),
            vec!["blinken".to_string(), "safadi".to_string()]
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arabic_article_with_a_proclitic_on_a_name_alerts() {
    // Arabic glues "and", "with", "for" onto the next word: "والصفدي" is "and Safadi".
    let alerts = alerts_after_sync("اجتمع بلينكن والصفدي في عمان أمس.").await;
    assert_eq!(
        alerted_pairs(&alerts),
        vec![(
            "meet".to_string(),
            vec!["blinken".to_string(), "safadi".to_string()]
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chinese_article_naming_two_synced_actors_alerts() {
    // Chinese writes no spaces between words: the synced names must still match.
    let alerts = alerts_after_sync("布林肯周日在安曼会见了约旦外交大臣萨法迪。").await;
    assert_eq!(
        alerted_pairs(&alerts),
        vec![(
            "meet".to_string(),
            vec!["blinken".to_string(), "safadi".to_string()]
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinese_sentences_split_without_spaces_so_two_sentences_do_not_alert() {
    // The control for the test above: the same names in two sentences (。 and no space)
    // are no sentence-scope pair. Without CJK sentence ends the whole text is one sentence.
    let alerts = alerts_after_sync("布林肯周日抵达安曼。萨法迪当天在开罗。").await;
    assert_eq!(alerted_pairs(&alerts), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_office_naming_a_country_matches_its_other_forms() {
    // The README promises the gazetteer's country forms for synced roles too: Wikidata
    // names the office "Prime Minister of Qatar", wires write "Qatar's prime minister".
    const PM: &str = "Q9100200";
    const HOLDER: &str = "Q9100004";
    let server = FeedServer::start().await;
    serve(
        &server,
        PM,
        1,
        item(PM, 1, &[("en", "Prime Minister of Qatar")], &[], vec![]),
    );
    serve(
        &server,
        HOLDER,
        1,
        item(
            HOLDER,
            1,
            &[("en", "Khalid Example")],
            &[],
            vec![held(HOLDER, 1, PM, "2023-03-07", None, "normal")],
        ),
    );
    let cfg = TestConfig::new(MAIN);
    cfg.write(
        "watchlists/people.toml",
        &format!(
            "[[actor]]\nid = \"khalid\"\nname = \"Khalid Example\"\nwikidata = \"{HOLDER}\"\n"
        ),
    );
    assert_ok(&sync(&cfg, &server.url("")).await);
    for text in [
        "Qatar's prime minister arrived in Cairo.",
        "The Qatari prime minister arrived in Cairo.",
        "The Prime Minister of Qatar arrived in Cairo.",
    ] {
        assert_eq!(
            actors_in(&cfg, text, "2024-01-01"),
            vec!["khalid"],
            "{text}"
        );
        assert!(actors_in(&cfg, text, "2022-01-01").is_empty(), "{text}");
    }
}
