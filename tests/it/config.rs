//! Integration tests of `parley::config`: real files in a temporary directory, loaded the way
//! the daemon loads them, plus checks on the shipped `config/` tree and its offline sample.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use parley::config::{
    self, ActorKind, Config, ConfigError, NotifierKind, RuleSlot, Scope, load, load_with_env,
};
use parley::feed::FeedLocation;
use parley::plover::PloverType;
use tempfile::TempDir;

/// A config tree in a temporary directory.
struct Tree {
    dir: TempDir,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }

    /// Loads `rel` with an empty environment (so `STATE_DIRECTORY` from the host cannot leak in).
    fn load(&self, rel: &str) -> Result<Config, ConfigError> {
        load_with_env(&self.path(rel), &|_| None)
    }

    /// Writes a single-file config and expects it to fail.
    fn fail(&self, text: &str) -> ConfigError {
        self.write("parley.toml", text);
        match self.load("parley.toml") {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e,
        }
    }
}

/// Asserts the error is at `file:line` and its message mentions every needle.
fn assert_at(e: &ConfigError, file: &Path, line: usize, needles: &[&str]) {
    assert_eq!(
        e.location,
        format!("{}:{line}", file.display()),
        "error was: {e}"
    );
    for needle in needles {
        assert!(e.message.contains(needle), "{needle:?} not in message: {e}");
    }
}

const ACTORS: &str = r#"
[[actor]]
id = "a"
name = "Alice Example"

[[actor]]
id = "b"
name = "Bob Example"
aliases = ["Bob Example", "Bob"]
"#;

#[test]
fn valid_config_with_include_resolves_paths_per_file() {
    // The headline feature: includes work and every relative path is relative to ITS file.
    let t = Tree::new();
    let main = t.write(
        "conf/parley.toml",
        r#"
include = ["lists/*.toml", "nothing-here/*.toml"]
[daemon]
state_dir = "../state"
poll_interval = "20m"
concurrency = 4

[[feed]]
url = "feeds/local.xml"
name = "Local"

[[feed]]
url = "https://example.org/rss.xml"
interval = "5m"

[[notifier]]
id = "console"
type = "stdout"
"#,
    );
    t.write(
        "conf/lists/people.toml",
        &format!(
            "{ACTORS}\n[[feed]]\nurl = \"next-to-list.xml\"\n\n[[group]]\nid = \"g\"\nmembers = [\"a\", \"b\"]\n"
        ),
    );
    t.write(
        "conf/lists/rules.toml",
        r#"
[[rule]]
id = "r1"
actors = ["a", "group:g"]
min_actors = 2
scope = "article"
event_types = ["consult", "Agree"]
cooldown = "6h"
notify = ["console"]

[[rule]]
id = "silent"
actors = ["b"]
"#,
    );
    let c = t.load("conf/parley.toml").expect("valid config");
    let root = t.dir.path();
    assert_eq!(c.source, main);
    assert_eq!(c.daemon.state_dir, root.join("state"));
    assert_eq!(c.daemon.poll_interval, Duration::from_secs(20 * 60));
    assert_eq!(c.daemon.concurrency, 4);
    assert_eq!(c.daemon.request_timeout, config::DEFAULT_REQUEST_TIMEOUT);

    let locations: Vec<&FeedLocation> = c.feeds.iter().map(|f| &f.location).collect();
    assert_eq!(
        locations,
        vec![
            &FeedLocation::File(root.join("conf/feeds/local.xml")),
            &FeedLocation::Http("https://example.org/rss.xml".parse().unwrap()),
            &FeedLocation::File(root.join("conf/lists/next-to-list.xml")),
        ]
    );
    assert_eq!(c.feeds[0].name, "Local");
    assert_eq!(c.feeds[1].name, "https://example.org/rss.xml");
    assert_eq!(c.feeds[1].interval, Duration::from_secs(300));
    assert_eq!(c.feeds[2].interval, Duration::from_secs(20 * 60));

    assert_eq!(c.actors.len(), 2);
    assert_eq!(c.actors[0].spec.aliases, vec!["Alice Example".to_string()]);
    assert_eq!(c.actors[0].kind, ActorKind::Person);
    assert_eq!(c.groups[0].members, vec!["a".to_string(), "b".to_string()]);

    let r1 = &c.rules[0];
    assert_eq!(
        r1.slots,
        vec![
            RuleSlot::Actor("a".into()),
            RuleSlot::Group {
                id: "g".into(),
                members: vec!["a".into(), "b".into()]
            }
        ]
    );
    assert_eq!(r1.min_actors, 2);
    assert_eq!(r1.scope, Scope::Article);
    assert_eq!(r1.event_types, vec![PloverType::Consult, PloverType::Agree]);
    assert_eq!(r1.cooldown, Some(Duration::from_secs(6 * 3600)));
    assert_eq!(r1.notify, vec!["console".to_string()]);
    // A rule with no notifier is allowed (it still records alerts); defaults apply.
    let silent = &c.rules[1];
    assert!(silent.notify.is_empty());
    assert_eq!(silent.min_actors, 1);
    assert_eq!(silent.scope, config::DEFAULT_SCOPE);
    assert_eq!(silent.cooldown, None);

    let summary = c.summary();
    assert!(
        summary.contains("3 feeds, 2 actors, 1 group, 2 rules, 1 notifier"),
        "{summary}"
    );
}

#[test]
fn state_dir_defaults_next_to_the_config_or_to_state_directory() {
    // Unwritten state_dir: systemd's STATE_DIRECTORY if set, else `data` beside the file.
    let t = Tree::new();
    t.write("etc/parley.toml", "");
    let c = t.load("etc/parley.toml").unwrap();
    assert_eq!(c.daemon.state_dir, t.path("etc/data"));
    let env = |k: &str| (k == "STATE_DIRECTORY").then(|| "/var/lib/parley".to_string());
    let c = load_with_env(&t.path("etc/parley.toml"), &env).unwrap();
    assert_eq!(c.daemon.state_dir, PathBuf::from("/var/lib/parley"));
}

#[test]
fn syntax_errors_are_located() {
    // A broken file must say where it is broken, not just "invalid TOML".
    let t = Tree::new();
    let e = t.fail("[daemon]\nconcurrency = 4\n\n[[feed]\nurl = \"x\"\n");
    assert_at(&e, &t.path("parley.toml"), 4, &[]);
}

#[test]
fn unknown_keys_are_errors_in_main_and_included_files() {
    // Typos must not be silently ignored, wherever they are.
    let t = Tree::new();
    let e = t.fail("[daemon]\npoll_intervall = \"5m\"\n");
    assert_at(&e, &t.path("parley.toml"), 2, &["poll_intervall"]);

    let e = t.fail("[[feed]]\nurl = \"https://example.org/a\"\nintervall = \"5m\"\n");
    assert_at(&e, &t.path("parley.toml"), 3, &["intervall"]);

    let t = Tree::new();
    t.write("parley.toml", "include = [\"w/*.toml\"]\n");
    let inc = t.write(
        "w/x.toml",
        "[[actor]]\nid = \"a\"\nname = \"A\"\nroles = [{ title = \"T\", form = \"2020-01-01\" }]\n",
    );
    let e = t.load("parley.toml").unwrap_err();
    assert_at(&e, &inc, 4, &["form"]);
}

#[test]
fn duplicate_ids_name_both_places() {
    // Duplicates across files are the easy mistake with includes; both places are shown.
    let t = Tree::new();
    let main = t.write(
        "parley.toml",
        "include = [\"w/*.toml\"]\n[[feed]]\nurl = \"https://example.org/rss\"\n",
    );
    let inc = t.write(
        "w/x.toml",
        "\n[[feed]]\nurl = \"https://example.org/rss\"\nname = \"again\"\n",
    );
    let e = t.load("parley.toml").unwrap_err();
    assert_at(
        &e,
        &inc,
        3,
        &["https://example.org/rss", &format!("{}:3", main.display())],
    );

    // Actors: `b` is defined in w/a.toml (line 7) and again in w/b.toml.
    let t = Tree::new();
    t.write("parley.toml", "include = [\"w/*.toml\"]\n");
    let a_file = t.write("w/a.toml", ACTORS);
    let b_file = t.write("w/b.toml", "[[actor]]\nid = \"b\"\nname = \"Other Bob\"\n");
    let e = t.load("parley.toml").unwrap_err();
    assert_at(
        &e,
        &b_file,
        2,
        &["actor", "\"b\"", &format!("{}:7", a_file.display())],
    );

    // Groups, rules and notifiers: the same id twice in one included file.
    for (kind, extra) in [
        ("group", "members = [\"a\"]"),
        ("rule", "actors = [\"a\"]"),
        ("notifier", "type = \"stdout\""),
    ] {
        let t = Tree::new();
        t.write("parley.toml", "include = [\"w/*.toml\"]\n");
        t.write("w/a.toml", ACTORS);
        let body = format!("[[{kind}]]\nid = \"dup\"\n{extra}\n");
        let b_file = t.write("w/b.toml", &format!("{body}\n{body}"));
        let e = t.load("parley.toml").unwrap_err();
        assert_at(
            &e,
            &b_file,
            6,
            &[kind, "\"dup\"", &format!("{}:2", b_file.display())],
        );
    }
}

#[test]
fn unknown_references_are_errors() {
    // Rules and groups that name something undefined would silently never fire.
    let t = Tree::new();
    let e = t.fail(&format!(
        "{ACTORS}\n[[group]]\nid = \"g\"\nmembers = [\"a\",\n  \"zed\"]\n"
    ));
    assert_at(&e, &t.path("parley.toml"), 14, &["\"g\"", "\"zed\""]);

    let e = t.fail(&format!(
        "{ACTORS}\n[[rule]]\nid = \"r\"\nactors = [\"a\", \"nobody\"]\n"
    ));
    assert_at(&e, &t.path("parley.toml"), 13, &["\"r\"", "\"nobody\""]);

    let e = t.fail(&format!(
        "{ACTORS}\n[[rule]]\nid = \"r\"\nactors = [\"a\", \"group:nope\"]\n"
    ));
    assert_at(
        &e,
        &t.path("parley.toml"),
        13,
        &["\"r\"", "\"nope\"", "group"],
    );

    let e = t.fail(&format!(
        "{ACTORS}\n[[rule]]\nid = \"r\"\nactors = [\"a\"]\nnotify = [\"pager\"]\n"
    ));
    assert_at(
        &e,
        &t.path("parley.toml"),
        14,
        &["\"r\"", "\"pager\"", "notifier"],
    );
}

#[test]
fn bad_durations_are_errors() {
    // Durations are humantime strings; a wrong unit or zero poll interval is refused.
    let t = Tree::new();
    let e = t.fail("[daemon]\n\npoll_interval = \"15 minutes please\"\n");
    assert_at(
        &e,
        &t.path("parley.toml"),
        3,
        &["poll_interval", "15 minutes please"],
    );

    let e = t.fail("[[feed]]\nurl = \"https://example.org/f\"\ninterval = \"0s\"\n");
    assert_at(
        &e,
        &t.path("parley.toml"),
        3,
        &["https://example.org/f", "greater than zero"],
    );

    let e = t.fail(&format!(
        "{ACTORS}\n[[rule]]\nid = \"r\"\nactors = [\"a\"]\ncooldown = \"6 hrz\"\n"
    ));
    assert_at(&e, &t.path("parley.toml"), 14, &["\"r\"", "cooldown"]);
}

#[test]
fn bad_urls_are_errors() {
    // Feeds must be http(s), file:// or a path; webhooks http(s). Webhook URLs are not echoed.
    let t = Tree::new();
    let e = t.fail("[[feed]]\nurl = \"ftp://example.org/feed\"\n");
    assert_at(
        &e,
        &t.path("parley.toml"),
        2,
        &["ftp://example.org/feed", "scheme"],
    );

    let e = t.fail("[[feed]]\nurl = \"https://exa mple.org/feed\"\n");
    assert_at(
        &e,
        &t.path("parley.toml"),
        2,
        &["https://exa mple.org/feed"],
    );

    let e = t.fail(
        "[[notifier]]\nid = \"desk\"\ntype = \"webhook\"\nurl = \"mailto:ops@example.org?tok\"\n",
    );
    assert_at(&e, &t.path("parley.toml"), 4, &["\"desk\"", "http"]);
    assert!(!e.message.contains("tok"), "{e}");

    let e = t.fail("[[notifier]]\nid = \"desk\"\ntype = \"webhook\"\n");
    assert_at(&e, &t.path("parley.toml"), 1, &["\"desk\"", "url"]);
}

#[test]
fn bad_dates_and_reversed_roles_are_errors() {
    // Role dates decide who "Secretary of State" is; a wrong one must not load.
    let t = Tree::new();
    let e = t.fail(
        "[[actor]]\nid = \"a\"\nname = \"A\"\nroles = [\n  { title = \"Mayor\", from = \"2021-02-30\" },\n]\n",
    );
    assert_at(
        &e,
        &t.path("parley.toml"),
        5,
        &["\"a\"", "Mayor", "2021-02-30"],
    );

    let e = t.fail(
        "[[actor]]\nid = \"a\"\nname = \"A\"\nroles = [\n  { title = \"Mayor\", from = 2024-01-01, until = 2020-01-01 },\n]\n",
    );
    assert_at(&e, &t.path("parley.toml"), 5, &["\"a\"", "Mayor", "after"]);

    let e = t.fail(
        "[[actor]]\nid = \"a\"\nname = \"A\"\nroles = [{ title = \"Mayor\", until = 2020-01-01T10:00:00Z }]\n",
    );
    assert_at(&e, &t.path("parley.toml"), 4, &["\"a\"", "until"]);
}

#[test]
fn unknown_plover_type_is_an_error() {
    // Event filters use PLOVER names; "meet" is a verb, not a type.
    let t = Tree::new();
    let e = t.fail(&format!(
        "{ACTORS}\n[[rule]]\nid = \"r\"\nactors = [\"a\"]\nevent_types = [\"consult\", \"meet\"]\n"
    ));
    assert_at(&e, &t.path("parley.toml"), 14, &["\"r\"", "meet"]);
}

#[test]
fn min_actors_must_be_within_the_slots() {
    // 0 would alert on nothing at all, more than the slots could never fire.
    let t = Tree::new();
    for bad in ["0", "3", "-1"] {
        let e = t.fail(&format!(
            "{ACTORS}\n[[rule]]\nid = \"r\"\nactors = [\"a\", \"b\"]\nmin_actors = {bad}\n"
        ));
        assert_at(
            &e,
            &t.path("parley.toml"),
            14,
            &["\"r\"", "min_actors", "1..=2"],
        );
    }
}

#[test]
fn empty_aliases_are_errors() {
    // An empty alias would match everywhere or nowhere; either way it is a mistake.
    let t = Tree::new();
    let e = t.fail("[[actor]]\nid = \"a\"\nname = \"A\"\naliases = [\"A\", \"  \"]\n");
    assert_at(&e, &t.path("parley.toml"), 4, &["\"a\"", "alias"]);

    let e = t.fail(
        "[[actor]]\nid = \"a\"\nname = \"A\"\nroles = [{ title = \"Mayor\", aliases = [\"\"] }]\n",
    );
    assert_at(&e, &t.path("parley.toml"), 4, &["\"a\"", "Mayor", "alias"]);
}

#[test]
fn include_rules() {
    // Empty globs are fine; a broken or over-reaching included file is not.
    let t = Tree::new();
    t.write("parley.toml", "include = [\"none/*.toml\"]\n");
    assert!(t.load("parley.toml").is_ok());

    let t = Tree::new();
    t.write("parley.toml", "include = [\"w/*.toml\"]\n");
    let bad = t.write("w/bad.toml", "[[actor]]\nid = \"a\"\nname = \n");
    let e = t.load("parley.toml").unwrap_err();
    assert_eq!(e.location, format!("{}:3", bad.display()), "{e}");

    let t = Tree::new();
    let main = t.write("parley.toml", "include = [\"w/*.toml\"]\n");
    let bin = t.path("w/bin.toml");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
    let e = t.load("parley.toml").unwrap_err();
    assert_eq!(e.location, bin.display().to_string());
    assert!(e.message.contains(&format!("{}:1", main.display())), "{e}");

    let t = Tree::new();
    t.write("parley.toml", "include = [\"w/*.toml\"]\n");
    let d = t.write("w/d.toml", "\n[daemon]\nconcurrency = 2\n");
    let e = t.load("parley.toml").unwrap_err();
    assert_at(&e, &d, 2, &["daemon"]);

    let t = Tree::new();
    t.write("parley.toml", "include = [\"w/*.toml\"]\n");
    let n = t.write("w/n.toml", "include = [\"more/*.toml\"]\n");
    let e = t.load("parley.toml").unwrap_err();
    assert_at(&e, &n, 1, &["include"]);

    let t = Tree::new();
    let e = t.fail("include = [\"w/[.toml\"]\n");
    assert_at(&e, &t.path("parley.toml"), 1, &["w/[.toml"]);
}

#[test]
fn a_glob_matching_the_main_file_does_not_load_it_twice() {
    // `include = ["*.toml"]` beside parley.toml must not re-read parley.toml as an include.
    let t = Tree::new();
    t.write(
        "parley.toml",
        "include = [\"*.toml\"]\n[daemon]\nconcurrency = 3\n",
    );
    t.write("people.toml", ACTORS);
    let c = t.load("parley.toml").unwrap();
    assert_eq!(c.actors.len(), 2);
}

#[test]
fn env_vars_expand_in_any_string() {
    // Secrets come from the environment; `$${` writes a literal.
    let t = Tree::new();
    t.write(
        "parley.toml",
        r#"
[daemon]
user_agent = "parley-test (${CONTACT})"
[[feed]]
url = "https://example.org/rss?key=${FEED_KEY}"
[[actor]]
id = "a"
name = "Price $${not a var}"
[[notifier]]
id = "desk"
type = "webhook"
url = "http://127.0.0.1:${PORT}/hook"
headers = { Authorization = "Bearer ${DESK_TOKEN}" }
"#,
    );
    let env = |k: &str| match k {
        "CONTACT" => Some("ops@example.org".to_string()),
        "FEED_KEY" => Some("k123".to_string()),
        "PORT" => Some("9000".to_string()),
        "DESK_TOKEN" => Some("tok-secret".to_string()),
        _ => None,
    };
    let c = load_with_env(&t.path("parley.toml"), &env).unwrap();
    assert_eq!(c.daemon.user_agent, "parley-test (ops@example.org)");
    assert_eq!(
        c.feeds[0].location,
        FeedLocation::Http("https://example.org/rss?key=k123".parse().unwrap())
    );
    // The default name shows the URL as written, so the key never reaches logs via the name.
    assert_eq!(c.feeds[0].name, "https://example.org/rss?key=${FEED_KEY}");
    assert_eq!(c.actors[0].spec.name, "Price ${not a var}");
    match &c.notifiers[0].kind {
        NotifierKind::Webhook { url, headers, .. } => {
            assert_eq!(url.as_str(), "http://127.0.0.1:9000/hook");
            assert_eq!(
                headers,
                &vec![("Authorization".to_string(), "Bearer tok-secret".to_string())]
            );
        }
        other => panic!("expected a webhook, got {other:?}"),
    }
    let debug = format!("{c:?}");
    assert!(!debug.contains("tok-secret"), "Debug leaks a header value");
}

#[test]
fn unset_env_var_is_an_error_naming_it() {
    // An unset variable must stop the load (not become ""), at its line, by name.
    let t = Tree::new();
    let path = t.write(
        "parley.toml",
        "[[notifier]]\nid = \"desk\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nheaders = { X-Token = \"${PARLEY_TEST_SURELY_UNSET_VAR_7Q}\" }\n",
    );
    let e = load(&path).unwrap_err();
    assert_at(&e, &path, 5, &["PARLEY_TEST_SURELY_UNSET_VAR_7Q"]);
}

#[test]
fn wrong_types_name_the_key() {
    // "expected i64" alone does not say which setting is wrong; the key must be in the error.
    let t = Tree::new();
    let e = t.fail("[daemon]\nstate_dir = \"state\"\nconcurrency = \"four\"\n");
    assert_at(
        &e,
        &t.path("parley.toml"),
        3,
        &["daemon.concurrency", "i64"],
    );

    let e = t.fail("[[feed]]\nurl = 42\n");
    assert_at(&e, &t.path("parley.toml"), 2, &["feed.url"]);

    let e = t.fail(
        "[[actor]]\nid = \"a\"\nname = \"A\"\nroles = [{ title = 7, from = \"2020-01-01\" }]\n",
    );
    assert_at(&e, &t.path("parley.toml"), 4, &["title"]);
}

#[test]
fn a_group_cannot_include_itself() {
    // Groups are flat sets of actors; a self-reference is a mistake worth naming as such.
    let t = Tree::new();
    let e = t.fail(&format!(
        "{ACTORS}\n[[group]]\nid = \"g\"\nmembers = [\"a\", \"group:g\"]\n"
    ));
    assert_at(
        &e,
        &t.path("parley.toml"),
        13,
        &["\"g\"", "includes itself", "members"],
    );
}

#[test]
fn empty_watchlists_are_errors() {
    // A group or rule with nobody in it would never match; it is refused where it is written.
    let t = Tree::new();
    let e = t.fail(&format!("{ACTORS}\n[[group]]\nid = \"g\"\nmembers = []\n"));
    assert_at(&e, &t.path("parley.toml"), 13, &["\"g\"", "no members"]);

    let e = t.fail(&format!("{ACTORS}\n[[rule]]\nid = \"r\"\nactors = []\n"));
    assert_at(&e, &t.path("parley.toml"), 13, &["\"r\"", "no actors"]);
}

#[test]
fn an_unreadable_include_names_the_file_and_the_include_line() {
    // A dangling symlink (the usual broken deploy) must be reported, not skipped.
    let t = Tree::new();
    let main = t.write(
        "parley.toml",
        "\ninclude = [\"w/*.toml\"]\n[daemon]\nstate_dir = \"s\"\n",
    );
    std::fs::create_dir_all(t.path("w")).unwrap();
    std::os::unix::fs::symlink(t.path("gone/actors.toml"), t.path("w/actors.toml")).unwrap();
    let e = t.load("parley.toml").unwrap_err();
    assert!(e.location.ends_with("actors.toml"), "{e}");
    assert!(e.message.contains("cannot read"), "{e}");
    assert!(e.message.contains(&format!("{}:2", main.display())), "{e}");
}

#[test]
fn absurd_durations_are_refused_before_they_overflow_a_timestamp() {
    // max_age = "500000y" used to reach `now + span` and panic inside chrono.
    let t = Tree::new();
    let e = t.fail(
        "[[notifier]]\nid = \"desk\"\ntype = \"webhook\"\nurl = \"https://example.org/h\"\nmax_age = \"500000y\"\n",
    );
    assert_at(&e, &t.path("parley.toml"), 5, &["max_age", "too long"]);
}

// ----- the shipped config -----------------------------------------------------------------

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Config {
    load_with_env(&repo().join("config/parley.toml"), &|_| None).expect("shipped config loads")
}

#[test]
fn shipped_config_loads_with_watchlists_and_sample() {
    // This is what users see first; it must load and hold what the docs promise.
    let c = shipped();
    assert_eq!(c.daemon.state_dir, repo().join("data"));
    let sample = repo().join("config/samples/world-desk.xml");
    assert_eq!(c.feeds[0].location, FeedLocation::File(sample.clone()));
    assert_eq!(c.feeds[0].name, "Parley sample desk");
    assert!(sample.is_file());
    let http = c
        .feeds
        .iter()
        .filter(|f| matches!(f.location, FeedLocation::Http(_)))
        .count();
    assert!((8..=15).contains(&http), "{http} real feeds");

    let ids: HashSet<&str> = c.actors.iter().map(|a| a.spec.id.as_str()).collect();
    for id in [
        "blinken",
        "rubio",
        "netanyahu",
        "mikati",
        "mohammed-al-thani",
        "abdullah-ii",
        "safadi",
        "shoukry",
        "faisal-bin-farhan",
        "abdullah-bin-zayed",
        "hussein-al-sheikh",
        "erdogan",
        "fidan",
    ] {
        assert!(ids.contains(id), "missing actor {id}");
    }
    let arab = c
        .groups
        .iter()
        .find(|g| g.id == "arab-fms")
        .expect("arab-fms");
    assert!(arab.members.contains(&"safadi".to_string()));

    let rule = |id: &str| c.rules.iter().find(|r| r.id == id).expect(id);
    assert_eq!(rule("blinken-meets-lebanon").scope, Scope::Sentence);
    assert_eq!(rule("blinken-israel").scope, Scope::Article);
    assert_eq!(rule("netanyahu-mikati").scope, Scope::Sentence);
    let fms = rule("blinken-arab-fms");
    assert_eq!(fms.min_actors, 2);
    assert_eq!(fms.event_types, vec![PloverType::Consult]);
    for r in &c.rules {
        assert_eq!(r.notify, vec!["console".to_string()], "rule {}", r.id);
        assert!(r.cooldown.is_some(), "rule {}", r.id);
    }
    assert!(matches!(c.notifiers[0].kind, NotifierKind::Stdout));
}

/// Role aliases that would fire for every country's office holder.
const BARE_OFFICES: &[&str] = &[
    "prime minister",
    "foreign minister",
    "president",
    "king",
    "secretary-general",
    "minister",
    "premier",
];

#[test]
fn shipped_roles_are_dated_and_specific() {
    // "Secretary of State" must mean Blinken in 2023 and Rubio in 2025, and no alias may
    // be a bare office that would misfire on other countries.
    let c = shipped();
    let holder = |alias: &str, day: NaiveDate| -> Vec<String> {
        c.actors
            .iter()
            .filter(|a| {
                a.spec.roles.iter().any(|r| {
                    (r.title == alias || r.aliases.iter().any(|x| x == alias))
                        && r.from.is_none_or(|f| f <= day)
                        && r.until.is_none_or(|u| day <= u)
                })
            })
            .map(|a| a.spec.id.clone())
            .collect()
    };
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(
        holder("Secretary of State", d("2023-11-12")),
        vec!["blinken"]
    );
    assert_eq!(
        holder("Secretary of State", d("2025-01-20")),
        vec!["blinken"]
    );
    assert_eq!(holder("Secretary of State", d("2025-01-21")), vec!["rubio"]);
    assert_eq!(
        holder("Qatar's foreign minister", d("2023-11-12")),
        vec!["mohammed-al-thani"]
    );
    // Shoukry's term ended on 2024-07-03; world-leaders.toml lists his successor.
    assert_eq!(
        holder("Egyptian foreign minister", d("2024-07-04")),
        vec!["abdelatty"]
    );
    assert_eq!(
        holder("Lebanon's caretaker prime minister", d("2023-11-12")),
        vec!["mikati"]
    );
    for a in &c.actors {
        for r in &a.spec.roles {
            for alias in r.aliases.iter().chain(std::iter::once(&r.title)) {
                assert!(
                    !BARE_OFFICES.contains(&alias.to_lowercase().as_str()),
                    "actor {} has a bare office alias {alias:?}",
                    a.spec.id
                );
            }
        }
    }
}

// ----- the offline sample -----------------------------------------------------------------

struct SampleItem {
    guid: String,
    date: NaiveDate,
    /// Title first, then the description's sentences.
    sentences: Vec<String>,
}

/// Crude sentence split (the sample avoids abbreviations with periods on purpose), enough to
/// check the sample's shape; real splitting is the extract module's job.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        current.push(*c);
        let end =
            matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if end || *c == '\n' {
            if !current.trim().is_empty() {
                out.push(current.trim().to_string());
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn sample_items() -> Vec<SampleItem> {
    let bytes = std::fs::read(repo().join("config/samples/world-desk.xml")).unwrap();
    let feed = feed_rs::parser::parse(bytes.as_slice()).expect("the sample is a valid feed");
    feed.entries
        .iter()
        .map(|e| {
            let title = e
                .title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default();
            let body = e
                .summary
                .as_ref()
                .map(|t| strip_tags(&t.content))
                .unwrap_or_default();
            let mut all = vec![title];
            all.extend(sentences(&body));
            SampleItem {
                guid: e.id.clone(),
                date: e
                    .published
                    .expect("every sample item has a pubDate")
                    .date_naive(),
                sentences: all,
            }
        })
        .collect()
}

/// Which of `ids` a sentence names, by plain case-insensitive alias search (roles by date).
fn named(c: &Config, sentence: &str, date: NaiveDate, ids: &[&str]) -> Vec<String> {
    let s = sentence.to_lowercase().replace('’', "'");
    c.actors
        .iter()
        .filter(|a| ids.contains(&a.spec.id.as_str()))
        .filter(|a| {
            a.spec.aliases.iter().any(|x| s.contains(&x.to_lowercase()))
                || a.spec.roles.iter().any(|r| {
                    r.from.is_none_or(|f| f <= date)
                        && r.until.is_none_or(|u| date <= u)
                        && r.aliases
                            .iter()
                            .chain(std::iter::once(&r.title))
                            .any(|x| s.contains(&x.to_lowercase()))
                })
        })
        .map(|a| a.spec.id.clone())
        .collect()
}

#[test]
fn sample_feed_is_a_small_valid_rss_feed() {
    // The sample is the first feed users poll; it must parse and have stable guids.
    let items = sample_items();
    assert!((5..=7).contains(&items.len()), "{} items", items.len());
    let guids: HashSet<&str> = items.iter().map(|i| i.guid.as_str()).collect();
    assert_eq!(guids.len(), items.len(), "guids are unique");
    let xml = std::fs::read_to_string(repo().join("config/samples/world-desk.xml")).unwrap();
    assert_eq!(
        xml.matches("<link>https://example.org/").count(),
        items.len() + 1,
        "every item (and the channel) links to example.org"
    );
}

#[test]
fn sample_keeps_the_cooccurrence_shape_the_rules_rely_on() {
    // samples/README.md promises which rules fire; this guards the text those promises need.
    let c = shipped();
    let items = sample_items();
    let who = ["blinken", "netanyahu", "mikati", "rubio"];
    let amman = items
        .iter()
        .find(|i| i.guid.contains("blinken-amman"))
        .expect("the retelling of the seed story");
    let per_sentence: Vec<Vec<String>> = amman
        .sentences
        .iter()
        .map(|s| named(&c, s, amman.date, &who))
        .collect();
    let has = |v: &Vec<String>, id: &str| v.iter().any(|x| x == id);
    assert!(
        per_sentence
            .iter()
            .any(|v| has(v, "blinken") && has(v, "mikati")),
        "one sentence names Blinken and Mikati"
    );
    assert!(per_sentence.iter().any(|v| has(v, "netanyahu")));
    assert!(
        !per_sentence
            .iter()
            .any(|v| has(v, "blinken") && has(v, "netanyahu")),
        "Blinken and Netanyahu never share a sentence"
    );
    for item in &items {
        for s in &item.sentences {
            let v = named(&c, s, item.date, &who);
            assert!(
                !(has(&v, "netanyahu") && has(&v, "mikati")),
                "Netanyahu and Mikati share a sentence in {}: {s}",
                item.guid
            );
        }
    }
    let rubio = items
        .iter()
        .find(|i| i.guid.contains("rubio"))
        .expect("2025 story");
    assert!(rubio.date >= NaiveDate::from_ymd_opt(2025, 1, 21).unwrap());
    assert!(
        rubio
            .sentences
            .iter()
            .all(|s| !has(&named(&c, s, rubio.date, &who), "blinken")),
        "in 2025, no sentence of the Rubio story may resolve to Blinken"
    );
}

#[test]
fn sample_does_not_copy_the_seed_article() {
    // The seed's facts may be retold, its sentences must not be (not even lightly edited).
    let Some(seed) = crate::common::seed_article_original() else {
        crate::common::cannot_run(
            "the shared seed article is absent: nothing to compare the sample with",
        );
        return;
    };
    let xml = std::fs::read_to_string(repo().join("config/samples/world-desk.xml")).unwrap();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    const N: usize = 6;
    let shingles =
        |w: &[String]| -> HashSet<String> { w.windows(N).map(|x| x.join(" ")).collect() };
    let seed_shingles = shingles(&words(&seed));
    let ours = shingles(&words(&strip_tags(&xml)));
    let shared: Vec<&String> = ours.intersection(&seed_shingles).collect();
    assert!(
        shared.is_empty(),
        "runs of {N} words copied from the seed: {shared:?}"
    );
}

#[test]
fn world_leaders_resolve_offices_by_date_without_overlaps() {
    // world-leaders.toml: an office alias names its holder on the article's date, and two
    // holders of one office never overlap by more than the handover day.
    let c = shipped();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let holders = |alias: &str, day: NaiveDate| -> Vec<String> {
        c.actors
            .iter()
            .filter(|a| {
                a.spec.roles.iter().any(|r| {
                    r.aliases.iter().any(|x| x.eq_ignore_ascii_case(alias))
                        && r.from.is_none_or(|f| f <= day)
                        && r.until.is_none_or(|u| day <= u)
                })
            })
            .map(|a| a.spec.id.clone())
            .collect()
    };
    for (alias, day, want) in [
        ("French President", "2023-06-01", "macron"),
        ("British Prime Minister", "2022-10-01", "truss"),
        ("British Prime Minister", "2024-07-06", "starmer"),
        ("German Chancellor", "2025-06-01", "merz"),
        ("Japanese Prime Minister", "2025-01-01", "ishiba"),
        ("Chinese foreign minister", "2023-03-01", "qin-gang"),
        ("Chinese foreign minister", "2024-03-01", "wang-yi"),
        ("Iranian foreign minister", "2022-05-01", "amir-abdollahian"),
        ("Israeli Prime Minister", "2022-01-01", "bennett"),
        ("Israeli Prime Minister", "2024-01-01", "netanyahu"),
        ("Egyptian foreign minister", "2023-11-12", "shoukry"),
        ("Qatari emir", "2024-01-01", "tamim"),
        ("NATO chief", "2023-01-01", "stoltenberg"),
        ("NATO chief", "2025-01-01", "rutte"),
        ("EU foreign policy chief", "2025-01-01", "kallas"),
        ("U.S. President", "2023-01-01", "biden"),
        ("U.S. President", "2025-02-01", "trump"),
    ] {
        assert_eq!(holders(alias, d(day)), vec![want], "{alias} on {day}");
    }
    // No office alias is held by two actors for more than one day at a time.
    let mut spans: std::collections::BTreeMap<String, Vec<(String, NaiveDate, NaiveDate)>> =
        Default::default();
    for a in &c.actors {
        for r in &a.spec.roles {
            for alias in &r.aliases {
                spans.entry(alias.to_lowercase()).or_default().push((
                    a.spec.id.clone(),
                    r.from.unwrap_or(NaiveDate::MIN),
                    r.until.unwrap_or(NaiveDate::MAX),
                ));
            }
        }
    }
    for (alias, list) in &spans {
        for (i, (a, af, au)) in list.iter().enumerate() {
            for (b, bf, bu) in &list[i + 1..] {
                if a == b {
                    continue;
                }
                let start = (*af).max(*bf);
                let end = (*au).min(*bu);
                assert!(
                    end <= start,
                    "{alias:?}: {a} and {b} overlap from {start} to {end}"
                );
            }
        }
    }
}
