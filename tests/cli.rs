//! The command line's contract: exit codes, `check`, `extract`, and the offline sample.

mod common;

use common::*;

#[test]
fn check_accepts_the_shipped_config() {
    // The config users start from must always validate.
    let out = parley_cmd(&repo().join("config/parley.toml"), &["check"])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("feeds"), "{text}");
    assert!(text.contains("rules"), "{text}");
}

#[test]
fn check_exits_78_and_names_the_line_of_a_bad_config() {
    // systemd's RestartPreventExitStatus=78 and humans at 2 a.m. both rely on this.
    let cfg = TestConfig::new("[daemon]\nstate_dir = \"state\"\npoll_interval = \"soon\"\n");
    let out = cfg.parley(&["check"]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("parley.toml:3"), "{err}");
}

#[test]
fn run_with_a_bad_config_exits_78() {
    // A daemon that cannot load its config must not be restarted in a loop.
    let cfg = TestConfig::new("[[rule]]\nid = \"r\"\nactors = [\"nobody\"]\n");
    let out = cfg.parley(&["run", "--once"]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    // Scripts distinguish "you called me wrong" from runtime failures.
    let out = parley_cmd(&repo().join("config/parley.toml"), &["frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let cfg = TestConfig::new("[daemon]\nstate_dir = \"state\"\n");
    let out = cfg.parley(&["events", "--type", "meet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

fn extract_config() -> TestConfig {
    TestConfig::new(&format!(
        "include = [{:?}]\n[daemon]\nstate_dir = \"state\"\n[[notifier]]\nid = \"console\"\ntype = \"stdout\"\n",
        shipped_watchlists()
    ))
}

#[test]
fn extract_reads_json_lines_and_writes_one_line_per_article() {
    // `extract` is the offline window into extraction, used by evaluations and users alike.
    let cfg = extract_config();
    cfg.write(
        "in.jsonl",
        concat!(
            r#"{"id":"a1","title":"Beirut talks","text":"Antony Blinken met Najib Mikati in Beirut on Monday.","published":"2023-11-13","source":"test"}"#,
            "\n",
            r#"{"text":"Nothing of note happened here."}"#,
            "\n"
        ),
    );
    let input = cfg.dir.path().join("in.jsonl");
    let out = cfg.parley(&["extract", "--input", input.to_str().unwrap()]);
    assert_ok(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a1");
    let actors: Vec<&str> = lines[0]["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&"blinken") && actors.contains(&"mikati"),
        "{actors:?}"
    );
    let event = lines[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["sentence"].as_str().unwrap().contains("Mikati"))
        .unwrap();
    assert_eq!(event["type"], "consult");
    assert_eq!(lines[1]["actors"].as_array().unwrap().len(), 0);
    assert!(
        cfg.state().read_dir().is_err(),
        "extract must not touch the store"
    );
}

#[test]
fn extract_reports_a_malformed_line_and_keeps_the_rest() {
    // Bad input gets a clear error and loses nothing.
    let cfg = extract_config();
    cfg.write("in.jsonl", "{not json}\n{\"text\":\"Blinken spoke.\"}\n");
    let input = cfg.dir.path().join("in.jsonl");
    let out = cfg.parley(&["extract", "--input", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out).len(), 1);
    assert!(
        stderr(&out).contains("line=1") || stderr(&out).contains("line 1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn extract_text_mode_on_the_seed_article() {
    // Plain-text mode with a publication date resolves the dated roles of the seed story.
    let Some((body, date)) = seed_body_and_date() else {
        return;
    };
    let cfg = extract_config();
    cfg.write("seed.txt", &body);
    let input = cfg.dir.path().join("seed.txt");
    let out = cfg.parley(&[
        "extract",
        "--text",
        "--published",
        &date,
        "--input",
        input.to_str().unwrap(),
    ]);
    assert_ok(&out);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let actors: Vec<&str> = lines[0]["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for id in ["blinken", "netanyahu", "mikati"] {
        assert!(actors.contains(&id), "{id} missing from {actors:?}");
    }
}

#[test]
fn the_shipped_sample_feed_raises_its_alerts() {
    // README's first command runs the shipped config offline; its sample feed must alert.
    // (The shipped config also lists real feeds; tests never reach outside 127.0.0.1, so this
    // uses the shipped watchlists and sample feed without them.)
    let cfg = TestConfig::new(&format!(
        "include = [{:?}]\n[daemon]\nstate_dir = \"state\"\n[[feed]]\nurl = {:?}\nname = \"Parley sample desk\"\n[[notifier]]\nid = \"console\"\ntype = \"stdout\"\n",
        shipped_watchlists(),
        repo()
            .join("config/samples/world-desk.xml")
            .display()
            .to_string()
    ));
    let out = cfg.parley(&["run", "--once"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("ALERT blinken-meets-lebanon"), "{text}");
    assert!(text.contains("ALERT blinken-israel"), "{text}");
    assert!(!text.contains("ALERT netanyahu-mikati"), "{text}");
    assert!(text.contains("articles:"), "{text}");
}
