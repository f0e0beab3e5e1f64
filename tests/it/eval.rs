//! `parley eval` end to end: the real binary scores the gold development set (real news,
//! outlets disjoint from the training set) against floors, so `cargo test` (and CI) fails
//! when extraction quality drops.

use crate::common::*;
use sha2::Digest;

/// The floors CI holds extraction to on tests/gold/dev.jsonl, set a little below the figures
/// measured when they were last raised (README, "Measured quality"). Raise them when the
/// extractor improves; never lower them to make a change pass. (The dev set changed from
/// 346 hand-written sentences to real news in issue 14; these floors are for the new one.)
const FLOORS: [(&str, &str); 4] = [
    ("--min-mention-f1", "0.96"),
    ("--min-pair-f1", "0.76"),
    ("--min-typed-f1", "0.63"),
    ("--min-status-accuracy", "0.89"),
];

fn gold_args(extra: &[&'static str]) -> Vec<String> {
    let gold = repo().join("tests/gold/dev.jsonl");
    let mut args = vec![
        "eval".to_string(),
        "--gold".to_string(),
        gold.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_gold(args: &[String]) -> std::process::Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    parley_cmd(&repo().join("tests/gold/parley.toml"), &refs)
        .output()
        .unwrap()
}

#[test]
fn gold_set_meets_the_floors() {
    // The quality gate: every measure on the development set stays at or above its floor.
    let mut args = gold_args(&["--json"]);
    for (flag, value) in FLOORS {
        args.push(flag.to_string());
        args.push(value.to_string());
    }
    let out = run_gold(&args);
    println!("{}", stdout(&out));
    assert_ok(&out);
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    // The error breakdown, largest class first, so the test log says where extraction fails.
    for class in report["errors"].as_array().unwrap() {
        println!(
            "{:>4}  {}  {}",
            class["count"], class["class"], class["items"]
        );
    }
    assert!(report["items"].as_u64().unwrap() >= 90, "{report}");
    for measure in ["mentions", "pairs", "typed"] {
        let f1 = report[measure]["f1"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&f1), "{measure}: {report}");
    }
    // Every category of item is present and reported.
    for cat in ["interaction", "co-mention", "single actor", "no actor"] {
        assert!(
            report["categories"][cat]["items"].as_u64().unwrap() > 0,
            "{cat}: {report}"
        );
    }
}

#[test]
fn gold_set_has_the_coverage_the_issue_asks_for() {
    // Real news with its URL, enough items, a share with one actor or none, hard negatives,
    // and statuses besides occurred, so the figures measure what the issue asks.
    let text = std::fs::read_to_string(repo().join("tests/gold/dev.jsonl")).unwrap();
    let items: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(items.len() >= 90, "{}", items.len());
    assert!(
        items.iter().all(|i| i["url"].is_string()),
        "dev items are real news"
    );
    let sparse = items
        .iter()
        .filter(|i| i["mentions"].as_array().unwrap().len() <= 1)
        .count();
    assert!(sparse >= 10, "{sparse}");
    let negatives = items
        .iter()
        .filter(|i| {
            i["mentions"].as_array().unwrap().len() >= 2
                && !i["interactions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["status"] == "occurred" && x["optional"] != true)
        })
        .count();
    assert!(negatives >= 20, "hard negatives: {negatives}");
    let not_occurred = items
        .iter()
        .flat_map(|i| i["interactions"].as_array().unwrap())
        .filter(|x| x["status"] != "occurred")
        .count();
    assert!(
        not_occurred >= 5,
        "planned, denied or hypothetical: {not_occurred}"
    );
}

#[test]
fn a_floor_above_the_result_fails_with_exit_1() {
    // CI relies on a non-zero exit when a figure drops below its floor.
    let out = run_gold(&gold_args(&["--min-typed-f1", "1.01"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("typed"), "{}", stderr(&out));
    // The table is still printed, so the log shows what failed.
    assert!(stdout(&out).contains("precision"), "{}", stdout(&out));
}

#[test]
fn figures_on_a_tiny_gold_set_are_exact() {
    // Independent of the extractor's quality: a hand-checked case pins the arithmetic end to end.
    let cfg = TestConfig::new(
        r#"[daemon]
state_dir = "state"

[[actor]]
id = "a"
name = "Alpha"
aliases = ["Alpha"]

[[actor]]
id = "b"
name = "Bravo"
aliases = ["Bravo"]

[[actor]]
id = "c"
name = "Charlie"
aliases = ["Charlie"]
"#,
    );
    // Item 1: a meeting, found. Item 2: gold says planned, the extractor says occurred.
    // Item 3: a co-mention the extractor types as a meeting (false pair). Item 4: no actors.
    cfg.write(
        "gold.jsonl",
        concat!(
            r#"{"id":1,"text":"Alpha met Bravo in Rome.","mentions":["a","b"],"interactions":[{"actors":["a","b"],"type":"consult"}]}"#,
            "\n",
            r#"{"id":2,"text":"Alpha is scheduled to meet Charlie.","mentions":["a","c"],"interactions":[{"actors":["c","a"],"type":"consult","status":"planned"}]}"#,
            "\n\n",
            r#"{"id":3,"text":"Bravo met reporters after Charlie left.","mentions":["b","c"],"interactions":[]}"#,
            "\n",
            r#"{"id":4,"text":"It rained.","mentions":[],"interactions":[]}"#,
            "\n",
        ),
    );
    let gold = cfg.dir.path().join("gold.jsonl");
    let out = cfg.parley(&["eval", "--gold", gold.to_str().unwrap(), "--json"]);
    assert_ok(&out);
    let r: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(r["items"], 4);
    assert_eq!(r["mentions"]["tp"], 6, "{r}");
    assert_eq!(r["mentions"]["fp"], 0, "{r}");
    // Only item 1's meeting is a gold pair (item 2's is planned); items 2 and 3 can only
    // add false positives, and the figures must be the arithmetic of the counts.
    let pairs = &r["pairs"];
    assert_eq!((&pairs["tp"], &pairs["fn"]), (&1.into(), &0.into()), "{r}");
    let fp = pairs["fp"].as_u64().unwrap();
    assert!(fp <= 2, "{r}");
    let precision = pairs["precision"].as_f64().unwrap();
    assert!((precision - 1.0 / (1.0 + fp as f64)).abs() < 1e-9, "{r}");
    // Status is scored on the gold interactions found: item 1 (right), and item 2 when the
    // extractor relates the pair at all (right only if it reads "scheduled to").
    let scored = r["status"]["scored"].as_u64().unwrap();
    let correct = r["status"]["correct"].as_u64().unwrap();
    assert!(
        (1..=2).contains(&scored) && (1..=scored).contains(&correct),
        "{r}"
    );
    assert!(r["categories"]["no actor"]["items"] == 1, "{r}");
}

#[test]
fn a_malformed_gold_line_is_reported_with_its_line_number() {
    // A typo in the annotations must stop the run instead of skewing the figures.
    let cfg = TestConfig::new("[daemon]\nstate_dir = \"state\"\n");
    cfg.write(
        "gold.jsonl",
        "{\"text\":\"x\",\"mentions\":[]}\n{\"text\":\"y\",\"mentions\":[\"a\",\"b\"],\"interactions\":[{\"actors\":[\"a\",\"b\"],\"type\":\"meet\"}]}\n",
    );
    let gold = cfg.dir.path().join("gold.jsonl");
    let out = cfg.parley(&["eval", "--gold", gold.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("gold.jsonl:2"), "{}", stderr(&out));
}

/// SHA-256 of tests/gold/test.jsonl, the frozen test split: real news annotated blind (before
/// any extractor output on it was looked at) and measured once per release (issue 14). A
/// change to the file must change this pin in the same commit, visibly.
const TEST_SPLIT_SHA256: &str = "be1731412526b5e4401ff9bbcd7ea531948a8c8ab981d0387552f5769861aca1";

/// The outlet of a URL as tests/gold/split.py reckons it: the host without `www.`, cut to
/// its registrable domain (three labels under a country's second-level domain).
fn outlet(url: &str) -> String {
    let host = url::Url::parse(url)
        .unwrap()
        .host_str()
        .unwrap()
        .to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let labels: Vec<&str> = host.split('.').collect();
    const SECOND_LEVEL: [&str; 15] = [
        "co", "com", "gov", "org", "net", "ac", "go", "or", "ne", "gob", "gouv", "edu", "govt",
        "nic", "mil",
    ];
    let n = labels.len();
    let keep = if n >= 3 && labels[n - 1].len() == 2 && SECOND_LEVEL.contains(&labels[n - 2]) {
        3
    } else {
        2
    };
    labels[n.saturating_sub(keep)..].join(".")
}

fn gold_items(name: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(repo().join("tests/gold").join(name))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_test_split_is_frozen_and_disjoint_from_train_and_dev() {
    // Figures on the test split mean something only if it is the split annotated blind, and
    // no outlet or month of it was seen in training or in choosing a model on dev.
    let bytes = std::fs::read(repo().join("tests/gold/test.jsonl")).unwrap();
    let sha = sha2::Sha256::digest(&bytes);
    assert_eq!(
        hex::encode(sha),
        TEST_SPLIT_SHA256,
        "tests/gold/test.jsonl changed"
    );
    let test = gold_items("test.jsonl");
    assert!(test.len() >= 300, "{}", test.len());
    let month = |i: &serde_json::Value| i["published"].as_str().unwrap()[..7].to_string();
    let mut seen_outlets = std::collections::BTreeSet::new();
    let mut seen_months = std::collections::BTreeSet::new();
    for name in ["train.jsonl", "dev.jsonl"] {
        for item in gold_items(name) {
            seen_months.insert(month(&item));
            if let Some(url) = item["url"].as_str() {
                seen_outlets.insert(outlet(url));
            }
        }
    }
    for item in &test {
        let url = item["url"].as_str().expect("every test item has its URL");
        assert!(
            !seen_outlets.contains(&outlet(url)),
            "{url}: outlet also in train/dev"
        );
        assert!(
            !seen_months.contains(&month(item)),
            "{}: month also in train/dev",
            item["id"]
        );
    }
}

/// Floors on the frozen test split, a little below the figures measured once on it for this
/// release (README, "Measured quality"): they catch a regression on unseen news. They are
/// not targets to tune towards; issue 14's targets (0.97 / 0.85 / 0.75 / 0.85) are not met.
const TEST_FLOORS: [(&str, &str); 4] = [
    ("--min-mention-f1", "0.94"),
    ("--min-pair-f1", "0.70"),
    ("--min-typed-f1", "0.53"),
    ("--min-status-accuracy", "0.80"),
];

#[test]
fn test_split_meets_its_floors() {
    // The out-of-sample gate: the frozen test split, scored without looking at its errors.
    let mut args = vec![
        "eval".to_string(),
        "--gold".to_string(),
        repo().join("tests/gold/test.jsonl").display().to_string(),
        "--json".to_string(),
    ];
    for (flag, value) in TEST_FLOORS {
        args.push(flag.to_string());
        args.push(value.to_string());
    }
    let out = run_gold(&args);
    assert_ok(&out);
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(report["items"].as_u64(), Some(333), "{report}");
}
