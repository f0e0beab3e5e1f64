//! `parley watchlist import` end to end: the real binary against a local HTTP server that
//! answers the SPARQL queries with results this project wrote in the W3C SPARQL 1.1 JSON
//! results format, and the entity reads of the sync that follows with Wikidata entity JSON.
//! The ids are made up (Q91000xx) so no test depends on Wikidata's real content. The test
//! server answers every query the same, so the window (`--since`) is checked on the rows the
//! client receives, and the query per kind by the number of requests.

use crate::common::{FeedServer, Route, TestConfig, assert_ok, stderr, stdout};
use crate::wikidata::{MAIN, actors_in, held, item, serve};

const BLINKEN: &str = "Q9100001";
const RUBIO: &str = "Q9100002";
const SAFADI: &str = "Q9100003";
const OLD: &str = "Q9100005";
const ERDOGAN: &str = "Q9100006";
const SECSTATE: &str = "Q9100100";

/// Hand-written actors: one with a Wikidata id, one by name only (no id).
const PEOPLE: &str = "[[actor]]\nid = \"safadi\"\nname = \"Ayman Safadi\"\nwikidata = \"Q9100003\"\n\n\
     [[actor]]\nid = \"erdogan\"\nname = \"Recep Tayyip Erdoğan\"\naliases = [\"Erdoğan\"]\n";

/// One result row: (person, label, ISO code, start, end).
fn binding(q: &str, label: &str, iso: &str, start: &str, end: Option<&str>) -> String {
    let date = |d: &str| {
        format!(
            r#"{{"datatype":"http://www.w3.org/2001/XMLSchema#dateTime","type":"literal","value":"{d}T00:00:00Z"}}"#
        )
    };
    let end = end
        .map(|e| format!(r#","end":{}"#, date(e)))
        .unwrap_or_default();
    format!(
        r#"{{"person":{{"type":"uri","value":"http://www.wikidata.org/entity/{q}"}},"personLabel":{{"xml:lang":"en","type":"literal","value":"{label}"}},"iso":{{"type":"literal","value":"{iso}"}},"position":{{"type":"uri","value":"http://www.wikidata.org/entity/{SECSTATE}"}},"start":{}{end}}}"#,
        date(start)
    )
}

/// The recorded answer: a current holder to add, one already tracked by id, one kept by
/// hand under a name only, and one whose term ended in 2020 (in the window only with
/// `--since 2015-01-01`).
fn answer() -> String {
    let rows = [
        binding(RUBIO, "Marco Rubio", "US", "2025-01-21", None),
        binding(SAFADI, "Ayman Safadi", "JO", "2017-01-15", None),
        binding(ERDOGAN, "Recep Tayyip Erdogan", "TR", "2014-08-28", None),
        binding(OLD, "Olga Oldham", "XK", "2016-01-01", Some("2020-06-30")),
        binding(
            BLINKEN,
            "Antony Blinken",
            "US",
            "2021-01-26",
            Some("2025-01-20"),
        ),
    ];
    format!(
        r#"{{"head":{{"vars":["person","personLabel","iso","position","start","end"]}},"results":{{"bindings":[{}]}}}}"#,
        rows.join(",")
    )
}

fn serve_sparql(server: &FeedServer) {
    server.set(
        "sparql",
        Route::Page {
            body: answer(),
            content_type: "application/sparql-results+json".into(),
        },
    );
}

/// Entity JSON for the sync that follows the import.
fn serve_entities(server: &FeedServer) {
    serve(
        server,
        SECSTATE,
        1,
        item(
            SECSTATE,
            1,
            &[("en", "United States Secretary of State")],
            &[("en", "Secretary of State")],
            vec![],
        ),
    );
    serve(
        server,
        RUBIO,
        1,
        item(
            RUBIO,
            1,
            &[("en", "Marco Rubio"), ("ru", "Марко Рубио")],
            &[],
            vec![held(RUBIO, 1, SECSTATE, "2025-01-21", None, "normal")],
        ),
    );
    serve(
        server,
        BLINKEN,
        1,
        item(
            BLINKEN,
            1,
            &[("en", "Antony Blinken")],
            &[],
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
    for (q, name) in [(SAFADI, "Ayman Safadi"), (OLD, "Olga Oldham")] {
        serve(server, q, 1, item(q, 1, &[("en", name)], &[], vec![]));
    }
}

async fn setup() -> (FeedServer, TestConfig) {
    let server = FeedServer::start().await;
    serve_sparql(&server);
    serve_entities(&server);
    let cfg = TestConfig::new(MAIN);
    cfg.write("watchlists/people.toml", PEOPLE);
    (server, cfg)
}

/// `parley watchlist import` against the test server, with `extra` arguments.
async fn import(cfg: &TestConfig, server: &FeedServer, extra: &[&str]) -> std::process::Output {
    let sparql = server.url("sparql");
    let entities = server.url("");
    let mut args = vec![
        "watchlist",
        "import",
        "--positions",
        "heads-of-state,heads-of-government,foreign-ministers",
        "--endpoint",
        &sparql,
        "--entity-endpoint",
        &entities,
    ];
    args.extend_from_slice(extra);
    cfg.parley_async(&args).await
}

fn imported(cfg: &TestConfig) -> std::path::PathBuf {
    cfg.dir.path().join("watchlists/wikidata-import.toml")
}

fn synced(cfg: &TestConfig) -> std::path::PathBuf {
    cfg.dir.path().join("watchlists/wikidata.toml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_adds_current_holders_with_ids_and_syncs_their_roles() {
    // Issue 20 item 3: office holders found through SPARQL become actors with ids, and the
    // sync gives them dated roles, so "the Secretary of State" resolves to the new holder.
    let (server, cfg) = setup().await;
    let out = import(&cfg, &server, &[]).await;
    assert_ok(&out);
    let report = stdout(&out);
    assert!(
        report.contains(&format!(
            "added marco-rubio ({RUBIO}): Marco Rubio, head of state of US, head of government of US, foreign minister of US"
        )),
        "{report}"
    );
    assert!(
        report.contains(
            "skipped Ayman Safadi (Q9100003): already in the watchlists as actor \"safadi\""
        ),
        "{report}"
    );
    assert!(
        report.contains("hand-written actor \"erdogan\" has this name"),
        "{report}"
    );
    // One query per kind of office.
    assert_eq!(server.requests_for("sparql").len(), 3);
    let text = std::fs::read_to_string(imported(&cfg)).unwrap();
    assert!(
        text.starts_with("# GENERATED by `parley watchlist import`"),
        "{text}"
    );
    assert!(
        text.contains(
            "--positions heads-of-state,heads-of-government,foreign-ministers --countries all"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "[[actor]]\nid = \"marco-rubio\"\nname = \"Marco Rubio\"\ncountry = \"US\"\nwikidata = \"{RUBIO}\"\n"
        )),
        "{text}"
    );
    // Ended before today (no --since), tracked by id elsewhere, or kept by hand by name.
    for absent in [OLD, BLINKEN, SAFADI, ERDOGAN] {
        assert!(!text.contains(absent), "{absent} imported:\n{text}");
    }
    let roles = std::fs::read_to_string(synced(&cfg)).unwrap();
    assert!(roles.contains("id = \"marco-rubio\""), "{roles}");
    assert_eq!(
        actors_in(
            &cfg,
            "The Secretary of State arrived in Cairo.",
            "2025-03-01"
        ),
        vec!["marco-rubio"]
    );
    assert_eq!(
        actors_in(&cfg, "Марко Рубио прибыл в Каир.", "2025-03-01"),
        vec!["marco-rubio"]
    );
    assert_ok(&cfg.parley(&["check"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reimport_does_not_duplicate_and_since_widens_the_window() {
    // Imports are re-run (weekly, or with a wider window); nobody may appear twice or
    // change id, or the config would refuse the duplicate item.
    let (server, cfg) = setup().await;
    assert_ok(&import(&cfg, &server, &[]).await);
    let again = import(&cfg, &server, &["--since", "2015-01-01"]).await;
    assert_ok(&again);
    let report = stdout(&again);
    assert!(
        report.contains(&format!(
            "added olga-oldham ({OLD}): Olga Oldham, head of state of XK"
        )),
        "{report}"
    );
    assert!(!report.contains("added marco-rubio"), "{report}");
    assert!(
        report.contains("2 added, 1 from an earlier import"),
        "{report}"
    );
    let text = std::fs::read_to_string(imported(&cfg)).unwrap();
    assert_eq!(
        text.matches(&format!("wikidata = \"{RUBIO}\"")).count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("id = \"marco-rubio\"").count(), 1, "{text}");
    // Blinken ended in 2025 and has a name no one keeps by hand: in the window now.
    assert!(
        text.contains(&format!("wikidata = \"{BLINKEN}\"")),
        "{text}"
    );
    assert!(text.contains(&format!("wikidata = \"{OLD}\"")), "{text}");
    assert!(text.contains("--since 2015-01-01"), "{text}");
    // A third run finds nothing new.
    let third = import(&cfg, &server, &["--since", "2015-01-01"]).await;
    assert_ok(&third);
    assert!(
        stdout(&third).contains("0 added, 3 from an earlier import"),
        "{}",
        stdout(&third)
    );
    assert_ok(&cfg.parley(&["check"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_and_writes_nothing() {
    // Operators preview an import before it changes what the daemon matches.
    let (server, cfg) = setup().await;
    let sparql = server.url("sparql");
    let entities = server.url("");
    let out = cfg
        .parley_async(&[
            "watchlist",
            "import",
            "--positions",
            "foreign-ministers",
            "--countries",
            "us,jo",
            "--endpoint",
            &sparql,
            "--entity-endpoint",
            &entities,
            "--dry-run",
        ])
        .await;
    assert_ok(&out);
    let report = stdout(&out);
    assert!(
        report.contains(&format!("added marco-rubio ({RUBIO})")),
        "{report}"
    );
    assert!(report.contains("dry run: would write"), "{report}");
    // The sync preview sees the would-be actors.
    assert!(
        report.contains(&format!("marco-rubio ({RUBIO}): new office")),
        "{report}"
    );
    assert_eq!(
        server.requests_for("sparql").len(),
        1,
        "one kind, one query"
    );
    assert!(!imported(&cfg).exists());
    assert!(!synced(&cfg).exists());
    assert!(!cfg.state().exists(), "a dry run wrote state (the cache)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_leaves_the_old_files_intact_and_fails() {
    // A failed import, at the query or at the sync after it, must change nothing.
    let (server, cfg) = setup().await;
    assert_ok(&import(&cfg, &server, &[]).await);
    let before = std::fs::read(imported(&cfg)).unwrap();
    let roles_before = std::fs::read(synced(&cfg)).unwrap();
    server.set(
        "sparql",
        Route::Status {
            code: 500,
            retry_after: None,
        },
    );
    let out = import(&cfg, &server, &["--since", "2015-01-01"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("watchlist import failed") && err.contains("500"),
        "{err}"
    );
    assert_eq!(std::fs::read(imported(&cfg)).unwrap(), before);
    // The queries answer, but the sync of a new actor fails: the import is undone.
    serve_sparql(&server);
    server.set(
        &format!("wiki/Special:EntityData/{OLD}.json"),
        Route::Status {
            code: 500,
            retry_after: None,
        },
    );
    let out = import(&cfg, &server, &["--since", "2015-01-01"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("was put back as it was"),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read(imported(&cfg)).unwrap(), before);
    assert_eq!(std::fs::read(synced(&cfg)).unwrap(), roles_before);
    let leftovers: Vec<_> = std::fs::read_dir(cfg.dir.path().join("watchlists"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_ok(&cfg.parley(&["check"]));
}

#[test]
fn unknown_positions_and_countries_are_usage_errors() {
    // A typo must fail with exit 2 before any request, not import nobody.
    let cfg = TestConfig::new(MAIN);
    let out = cfg.parley(&["watchlist", "import", "--positions", "kings"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = cfg.parley(&[
        "watchlist",
        "import",
        "--positions",
        "heads-of-state",
        "--countries",
        "USA",
        "--endpoint",
        "http://127.0.0.1:9/sparql",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("alpha-2"), "{}", stderr(&out));
}
