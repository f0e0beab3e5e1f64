//! The fuzz targets' bodies, shared by the AFL binaries (`fuzz/src/bin/*`) and by
//! `tests/fuzz_corpus.rs`, which replays every saved input as an ordinary test.
//!
//! Each target panics only when parley breaks a promise (a panic escaping, an
//! inconsistency); bad input itself must come back as an error.

use std::sync::OnceLock;

use parley::extract::{ActorSpec, Document, Extractor, RoleSpec};

fn extractor() -> &'static Extractor {
    static EXTRACTOR: OnceLock<Extractor> = OnceLock::new();
    EXTRACTOR.get_or_init(|| {
        let actor = |id: &str, aliases: &[&str], roles: Vec<RoleSpec>| ActorSpec {
            id: id.to_string(),
            name: id.to_string(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            roles,
        };
        Extractor::new(&[
            actor(
                "blinken",
                &["Antony Blinken", "Blinken"],
                vec![RoleSpec {
                    title: "Secretary of State".to_string(),
                    aliases: vec!["top U.S. diplomat".to_string()],
                    from: chrono::NaiveDate::from_ymd_opt(2021, 1, 26),
                    until: chrono::NaiveDate::from_ymd_opt(2025, 1, 20),
                }],
            ),
            actor("mikati", &["Najib Mikati", "Mikati"], Vec::new()),
            actor("qatar", &["Qatar", "Doha"], Vec::new()),
        ])
        .expect("a fixed, valid actor set")
    })
}

/// Feed bytes → articles → extraction. Parsing may fail; nothing may panic, and every
/// article's mentions must point inside its own text.
pub fn feed(data: &[u8]) {
    let content_type = data.first().map(|b| match b % 4 {
        0 => "application/rss+xml; charset=utf-8",
        1 => "text/xml; charset=iso-8859-1",
        2 => "application/octet-stream",
        _ => "text/html",
    });
    let Ok(articles) = parley::feed::parse("fuzz", data, content_type) else {
        return;
    };
    for article in &articles {
        assert!(!article.id.is_empty());
        let doc = Document {
            title: &article.title,
            text: &article.text,
            date: article.published.map(|p| p.date_naive()),
        };
        let _ = extractor().extract(&doc);
    }
}

/// Config text → validation. Any text gives a config or an error naming a location.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("parley-fuzz-config-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join("parley.toml");
    if std::fs::write(&path, text).is_err() {
        return;
    }
    if let Err(error) = parley::config::load_with_env(&path, &|_| None) {
        assert!(!error.to_string().is_empty());
    }
}

/// Stored-event decoding: whatever the bytes, decoding gives an envelope or an error, and an
/// envelope re-encodes to one that decodes equal.
pub fn event(data: &[u8]) {
    let Ok(envelope) = serde_json::from_slice::<parley::events::Envelope>(data) else {
        return;
    };
    let again = serde_json::to_vec(&envelope).expect("an envelope always encodes");
    let back: parley::events::Envelope =
        serde_json::from_slice(&again).expect("an encoded envelope decodes");
    assert_eq!(back, envelope);
}
