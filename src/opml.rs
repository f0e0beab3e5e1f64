//! OPML import and export of the feed list (`parley feeds import|export`), so a reader's
//! subscriptions move into parley and back out without hand-editing TOML.
//!
//! Import appends `[[feed]]` tables to a feeds file that the main config's `include` picks
//! up (by default `watchlists/feeds-imported.toml` next to the config), skipping feeds the
//! config already has; the config is then reloaded to prove it still validates.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{self, Config};
use crate::error::Error;
use crate::feed::FeedLocation;

/// Default import target, relative to the main config's folder.
pub const DEFAULT_IMPORT_FILE: &str = "watchlists/feeds-imported.toml";

/// One feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// The outline's title or text.
    pub name: String,
    /// Its `xmlUrl`.
    pub url: String,
}

/// Every feed outline (any depth) of an OPML document.
pub fn parse(text: &str) -> Result<Vec<OpmlFeed>, Error> {
    let doc = opml::OPML::from_str(text).map_err(|e| Error::Input(format!("OPML: {e}")))?;
    let mut out = Vec::new();
    fn walk(outlines: &[opml::Outline], out: &mut Vec<OpmlFeed>) {
        for o in outlines {
            if let Some(url) = o
                .xml_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
            {
                let name = o
                    .title
                    .clone()
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or_else(|| o.text.clone());
                out.push(OpmlFeed {
                    name: name.trim().to_string(),
                    url: url.to_string(),
                });
            }
            walk(&o.outlines, out);
        }
    }
    walk(&doc.body.outlines, &mut out);
    Ok(out)
}

/// The default import target for a config file.
pub fn default_target(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(DEFAULT_IMPORT_FILE)
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Imports the feeds of `opml_text` into `target`, skipping URLs the config (or the
/// target) already has. Returns the feeds added. Fails, leaving `target` as it was, when
/// the result would not validate.
pub fn import(config_path: &Path, opml_text: &str, target: &Path) -> Result<Vec<OpmlFeed>, Error> {
    let config = config::load(config_path)?;
    let base = config_path.parent().unwrap_or(Path::new("."));
    let mut known: HashSet<String> = config.feeds.iter().map(|f| f.location.key()).collect();
    let mut added = Vec::new();
    for feed in parse(opml_text)? {
        let key = match FeedLocation::parse(&feed.url, base) {
            Ok(FeedLocation::Http(url)) => FeedLocation::Http(url).key(),
            Ok(FeedLocation::File(_)) | Err(_) => {
                tracing::warn!(url = %feed.url, "Skipping an OPML outline that is not an http(s) feed.");
                continue;
            }
        };
        if known.insert(key) {
            added.push(feed);
        }
    }
    if added.is_empty() {
        return Ok(added);
    }
    let previous = std::fs::read_to_string(target).ok();
    let io = |source| Error::Io {
        path: target.to_path_buf(),
        source,
    };
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut text = previous.clone().unwrap_or_else(|| {
        "# Feeds imported from OPML by `parley feeds import`. Edit freely.\n".to_string()
    });
    for feed in &added {
        text.push_str(&format!(
            "\n[[feed]]\nurl = {}\nname = {}\n",
            toml_str(&feed.url),
            toml_str(&feed.name)
        ));
    }
    std::fs::write(target, &text).map_err(io)?;
    // The file must still make a valid config, and `include` must pick it up.
    let check = config::load(config_path)
        .map_err(Error::from)
        .and_then(|c| {
            if c.feeds.len() >= config.feeds.len() + added.len() {
                Ok(())
            } else {
                Err(Error::Usage(format!(
                    "{} is not picked up by the config's `include`; add a pattern for it",
                    target.display()
                )))
            }
        });
    if let Err(error) = check {
        let restored = match previous {
            Some(p) => std::fs::write(target, p),
            None => std::fs::remove_file(target),
        };
        restored.map_err(io)?;
        return Err(error);
    }
    Ok(added)
}

/// The configured feeds as an OPML document.
pub fn export(config: &Config) -> Result<String, Error> {
    let mut doc = opml::OPML {
        head: Some(opml::Head {
            title: Some("parley feeds".into()),
            ..opml::Head::default()
        }),
        ..opml::OPML::default()
    };
    for feed in &config.feeds {
        if let FeedLocation::Http(url) = &feed.location {
            doc.add_feed(&feed.name, url.as_str());
        }
    }
    doc.to_string()
        .map_err(|e| Error::Input(format!("OPML: {e}")))
}

/// Prints what `import` added.
pub fn write_added(added: &[OpmlFeed], target: &Path, out: &mut dyn Write) -> Result<(), Error> {
    let err = |source| Error::Io {
        path: "<stdout>".into(),
        source,
    };
    if added.is_empty() {
        return writeln!(out, "nothing to add: every feed is already configured").map_err(err);
    }
    for feed in added {
        writeln!(out, "added {}  {}", feed.url, feed.name).map_err(err)?;
    }
    writeln!(
        out,
        "{} feed(s) written to {}",
        added.len(),
        target.display()
    )
    .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_outlines_are_found() {
        // Readers export folders of feeds; every level must be read.
        let text = r#"<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
            <outline text="News"><outline text="A" title="Feed A" type="rss" xmlUrl="https://a.example/rss"/></outline>
            <outline text="B" xmlUrl="https://b.example/atom"/><outline text="folder only"/></body></opml>"#;
        let feeds = parse(text).unwrap();
        assert_eq!(
            feeds,
            vec![
                OpmlFeed {
                    name: "Feed A".into(),
                    url: "https://a.example/rss".into()
                },
                OpmlFeed {
                    name: "B".into(),
                    url: "https://b.example/atom".into()
                },
            ]
        );
        assert!(parse("not xml").is_err());
    }
}
