//! One event, many reports, end to end through the real binary: feeds on disk from several
//! outlets report one meeting (a wire story, a reprint of it, an independent report, an update)
//! and `parley events --clustered` shows one event with its report and source counts, the same
//! after `replay` rebuilds the projections from the log.

use crate::common::*;

const WIRE: &str = "Foreign Minister Maria Kellner met James Odum in Vienna on Tuesday to discuss \
a ceasefire, the release of hostages and the delivery of humanitarian aid, officials said, adding \
that both sides agreed to continue the discussions next week.";

/// An RSS feed whose item links are on `host`: items are (guid, RFC 3339 date, text).
fn feed(host: &str, items: &[(&str, &str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title><link>https://example.org/</link><description>d</description>\n",
    );
    for (guid, date, text) in items {
        let when = chrono::DateTime::parse_from_rfc3339(date)
            .unwrap()
            .to_rfc2822();
        out.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://{host}/{guid}</link><pubDate>{when}</pubDate><description>{body}</description></item>\n",
            title = xml_escape(&format!("Report {guid}")),
            body = xml_escape(text),
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

const CONFIG: &str = r#"
[daemon]
state_dir = "state"

[api]
enabled = false

[[feed]]
url = "wire.xml"
name = "Wire"

[[feed]]
url = "paper.xml"
name = "Paper"

[[feed]]
url = "daily.xml"
name = "Daily"

[[actor]]
id = "kellner"
name = "Maria Kellner"
aliases = ["Maria Kellner", "Kellner"]

[[actor]]
id = "odum"
name = "James Odum"
aliases = ["James Odum", "Odum"]

[[actor]]
id = "rahim"
name = "Layla Rahim"
aliases = ["Layla Rahim", "Rahim"]
"#;

fn clusters(cfg: &TestConfig, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["events", "--clustered", "--json"];
    all.extend_from_slice(args);
    let out = cfg.parley(&all);
    assert_ok(&out);
    json_lines(&out)
}

#[test]
fn one_meeting_reported_four_times_is_one_event_with_two_sources() {
    // Item 8: wire copies and updates are one event; the reprint is not a second source.
    let cfg = TestConfig::new(CONFIG);
    cfg.write(
        "wire.xml",
        &feed(
            "wire.example",
            &[
                ("w1", "2025-03-04T09:00:00Z", WIRE),
                (
                    "w2",
                    "2025-03-05T10:00:00Z",
                    "Update: Kellner and Odum met again briefly at the airport before Odum left.",
                ),
                (
                    "w3",
                    "2025-03-04T12:00:00Z",
                    "Kellner met Layla Rahim for talks on trade.",
                ),
            ],
        ),
    );
    cfg.write(
        "paper.xml",
        &feed(
            "paper.example",
            &[(
                "p1",
                "2025-03-04T11:00:00Z",
                &format!("VIENNA (Wire) - {WIRE}"),
            )],
        ),
    );
    cfg.write(
        "daily.xml",
        &feed(
            "daily.example",
            &[(
                "d1",
                "2025-03-05T08:00:00Z",
                "Our correspondent saw Kellner meet Odum at the palace, where hostages were on the table.",
            )],
        ),
    );
    assert_ok(&cfg.parley(&["run", "--once"]));

    let got = clusters(&cfg, &["--actor", "odum"]);
    assert_eq!(got.len(), 1, "{got:#?}");
    let c = &got[0];
    assert_eq!(c["type"], "consult");
    assert_eq!(c["actors"], serde_json::json!(["kellner", "odum"]));
    assert_eq!(c["reports"].as_array().unwrap().len(), 4, "{c:#}");
    assert_eq!(
        c["sources"],
        serde_json::json!(["wire.example", "daily.example"])
    );
    assert_eq!(c["first"], "2025-03-04");

    // The other pair is another event; the human view prints one line per event.
    assert_eq!(clusters(&cfg, &[]).len(), 2);
    let text = cfg.parley(&["events", "--clustered", "--actor", "odum"]);
    assert_ok(&text);
    let line = stdout(&text);
    assert!(line.contains("reports   4  sources   2"), "{line}");

    // A pure fold: rebuilding every projection from the log gives the same events.
    let before = clusters(&cfg, &[]);
    assert_ok(&cfg.parley(&["replay"]));
    assert_eq!(clusters(&cfg, &[]), before);
}
