//! Full text when the feed is thin: an article page's main text, and robots.txt rules.
//!
//! Many feeds carry a headline and one line; the event ("X met Y in Z") is in the article.
//! For feeds with `fetch_article = true`, the daemon fetches the page of each new item whose
//! feed text is under [`THIN_CHARS`], through the same client, limits and per-host politeness
//! as feeds, after checking the host's robots.txt. This module is the pure part: main-text
//! extraction and the robots decision. Main text comes from `dom_smoothie`, a port of
//! Mozilla's Readability.js (what Firefox's reader view uses), maintained and on html5ever;
//! the older `readability` crate is unmaintained and brings its own HTTP client.
//! `texting_robots` parses robots.txt: it follows RFC 9309 and Google's rules (longest match,
//! `Allow` beats `Disallow` on ties, wildcards) and is tested against their corpora.

use sha2::{Digest, Sha256};

/// Feed text shorter than this (characters) counts as thin: worth fetching the page.
pub const THIN_CHARS: usize = 1000;

/// The robots.txt user-agent token parley obeys (and sends as the product of its
/// User-Agent).
pub const ROBOTS_AGENT: &str = "parley";

/// Main text shorter than this is not an article (a paywall stub, a consent page).
const MIN_TEXT_CHARS: usize = 80;

/// Is this feed text thin enough that the page is worth fetching?
pub fn is_thin(text: &str) -> bool {
    text.chars().count() < THIN_CHARS
}

/// The main text of an HTML page, as plain paragraphs; `None` when readability finds no
/// article in it.
pub fn main_text(html: &str, url: Option<&str>) -> Option<String> {
    let cfg = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        // Bounds the work on hostile pages (the body is already size-limited).
        max_elements_to_parse: 20_000,
        ..Default::default()
    };
    let mut reader = dom_smoothie::Readability::new(html, url, Some(cfg)).ok()?;
    let article = reader.parse().ok()?;
    let text: String = article
        .text_content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    (text.chars().count() >= MIN_TEXT_CHARS).then_some(text)
}

/// The main text of a fetched page body: decoded with the HTTP charset (else the page's
/// own declaration, else detection), then [`main_text`].
pub fn page_text(body: &[u8], content_type: Option<&str>, url: &str) -> Option<String> {
    let decoded = super::charset::to_utf8(body, content_type);
    main_text(&decoded.text, Some(url))
}

/// Hex SHA-256 of a text: its content address in the store.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A host's robots.txt rules for parley.
#[derive(Debug)]
pub enum Robots {
    /// Rules from the host's robots.txt.
    Rules(Box<texting_robots::Robot>),
    /// No rules apply (robots.txt missing: a 4xx answer, or unparsable).
    AllowAll,
    /// Do not crawl (robots.txt unreachable or a 5xx answer: RFC 9309 says assume disallow).
    DisallowAll,
}

impl Robots {
    /// Rules from a robots.txt body.
    pub fn parse(body: &[u8]) -> Robots {
        match texting_robots::Robot::new(ROBOTS_AGENT, body) {
            Ok(robot) => Robots::Rules(Box::new(robot)),
            Err(_) => Robots::AllowAll,
        }
    }

    /// Rules after a failed robots.txt fetch with this HTTP status (`None`: no answer).
    pub fn after_error(status: Option<u16>) -> Robots {
        match status {
            Some(s) if (400..500).contains(&s) => Robots::AllowAll,
            _ => Robots::DisallowAll,
        }
    }

    /// May parley fetch `url`?
    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Robots::Rules(robot) => robot.allowed(url),
            Robots::AllowAll => true,
            Robots::DisallowAll => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<html><head><title>Minister meets envoy</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>Minister meets envoy</h1>
<p>The foreign minister met the special envoy in the capital on Tuesday to discuss a ceasefire
and the release of hostages, officials said after the meeting ended late in the evening.</p>
<p>Both sides agreed to continue the talks next week, with mediators from several neighbouring
countries expected to attend the second round of discussions in the region.</p>
</article><footer>Copyright. Subscribe to our newsletter. Cookie settings.</footer></body></html>"#;

    #[test]
    fn main_text_keeps_the_article_and_drops_the_chrome() {
        // Extraction must see the story, not the navigation and footer around it.
        let text = main_text(PAGE, Some("https://news.example/a")).unwrap();
        assert!(text.contains("met the special envoy"), "{text}");
        assert!(text.contains("continue the talks"), "{text}");
        assert!(!text.contains("Cookie settings"), "{text}");
    }

    #[test]
    fn pages_without_an_article_give_none() {
        // A consent wall or an empty page must not replace the feed's text with junk.
        assert_eq!(
            main_text("<html><body><p>Accept cookies</p></body></html>", None),
            None
        );
        assert_eq!(main_text("", None), None);
    }

    #[test]
    fn robots_rules_missing_files_and_outages() {
        // RFC 9309: obey the rules; a 4xx means no rules; no answer or 5xx means stay away.
        let r = Robots::parse(b"User-agent: *\nDisallow: /private/\n");
        assert!(r.allowed("http://h.example/news/1"));
        assert!(!r.allowed("http://h.example/private/1"));
        let own = Robots::parse(b"User-agent: parley\nDisallow: /\n\nUser-agent: *\nAllow: /\n");
        assert!(!own.allowed("http://h.example/news/1"));
        assert!(Robots::after_error(Some(404)).allowed("http://h.example/x"));
        assert!(!Robots::after_error(Some(503)).allowed("http://h.example/x"));
        assert!(!Robots::after_error(None).allowed("http://h.example/x"));
    }

    #[test]
    fn thin_means_short() {
        // A headline and one line are thin; a full story in the feed is not.
        assert!(is_thin("Minister meets envoy. Talks in the capital."));
        assert!(!is_thin(&"word ".repeat(300)));
    }
}
