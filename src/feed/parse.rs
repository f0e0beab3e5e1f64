//! Feed bodies to [`Article`]s with deterministic ids, guarded against parser panics.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use feed_rs::model::{Content, Entry, Link, Text};
use feed_rs::parser::{Builder, ParseErrorKind, ParseFeedError};
use tracing::{debug, warn};

use super::item::Item;
use super::text::{canonical_link, contains_text, html_to_text, maybe_html_to_text, paragraphs};
use super::{Article, ParseError};
use super::{charset, dates, legacy, recover, repair};
use crate::events::stable_id;

/// See [`super::parse_feed`].
pub(super) fn parse(
    feed_key: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Parsed, ParseError> {
    let start = skip_bom_and_space(body);
    if start.is_empty() {
        return Err(ParseError("empty body: nothing to parse".to_string()));
    }
    guarded(feed_key, || {
        let prepared = prepare(body, content_type);
        let (items, recovery) =
            dispatch(&prepared).map_err(|error| explain(error, start, content_type))?;
        Ok(Parsed {
            articles: articles(feed_key, &items),
            recovery,
        })
    })
}

/// Picks the reader for a prepared body: the legacy walker for Atom 0.3 and RSS 0.9x/1.0,
/// feed-rs for the rest. When feed-rs refuses malformed XML, the tolerant reader repairs the
/// document and feed-rs reads the repaired copy; [`Recovery`] says what was repaired.
fn dispatch(text: &str) -> Result<(Vec<Item>, Option<Recovery>), ParseFeedError> {
    if !text.trim_start().starts_with('{')
        && let Some(format) = legacy::sniff(text)
        && let Some((items, repairs)) = legacy::parse(format, text)
        // A cut legacy body with nothing whole in it is an error, as below.
        && !(repairs.truncated && items.is_empty())
    {
        return Ok((items, repairs.any().then_some(Recovery { repairs })));
    }
    let error = match feed_rs_items(text.as_bytes()) {
        Ok(mut items) => {
            fill_missing_titles(text, &mut items);
            return Ok((items, None));
        }
        Err(error) => error,
    };
    if !matches!(error, ParseFeedError::XmlReader(_)) {
        return Err(error);
    }
    let tree = recover::read(text);
    if !tree.repairs.any() {
        return Err(error);
    }
    let repaired = recover::to_xml(&tree);
    match feed_rs_items(repaired.as_bytes()) {
        // Repairs that salvage nothing leave the feed failing, with the parser's own reason.
        Ok(items) if !items.is_empty() => Ok((
            items,
            Some(Recovery {
                repairs: tree.repairs,
            }),
        )),
        Ok(_) | Err(_) => Err(error),
    }
}

/// feed-rs reads an RSS 2.0 item's `<title>` only, and only as plain text: a title written
/// with naked markup (`<title><p>Talks</p></title>`) comes out empty. Feedparser, and readers,
/// keep those words and fall back to `dc:title` and `media:title`. When an item has no title,
/// the legacy walker reads the same body and lends its titles, position by position, if it
/// found the same items.
fn fill_missing_titles(text: &str, items: &mut [Item]) {
    if items.iter().all(|i| !i.title.is_empty()) || !text.contains("title") {
        return;
    }
    let Some((walked, _)) = legacy::parse(legacy::Format::Rss, text) else {
        return;
    };
    if walked.len() != items.len() {
        return;
    }
    for (item, other) in items.iter_mut().zip(walked) {
        if item.title.is_empty() && item.guid == other.guid {
            item.title = other.title;
        }
    }
}

/// What the tolerant reader repaired in a feed that strict parsing refused. It exists so the
/// operator can see that a feed only works because parley forgives it (`parley feeds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    repairs: recover::Repairs,
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.repairs;
        let mut parts = Vec::new();
        if r.entities > 0 {
            parts.push(format!("{} bad entity or ampersand", r.entities));
        }
        if r.closed > 0 {
            parts.push(format!("{} unclosed tag", r.closed));
        }
        if r.skipped_ends > 0 {
            parts.push(format!("{} stray end tag", r.skipped_ends));
        }
        if r.truncated {
            parts.push("truncated".to_string());
        }
        if r.too_deep > 0 {
            parts.push(format!("{} tags nested too deep ignored", r.too_deep));
        }
        if r.cut_items > 0 {
            parts.push(format!("{} cut item dropped", r.cut_items));
        }
        write!(f, "{}", parts.join(", "))
    }
}

/// Articles, and whether the body had to be repaired to be read. It exists beside
/// [`super::parse`] so the daemon can flag and count recovered feeds.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The articles, first of each id only.
    pub articles: Vec<Article>,
    /// Set when the XML was malformed and had to be repaired to be read.
    pub recovery: Option<Recovery>,
}

/// Turns a body into what feed-rs parses reliably: UTF-8 whatever the source encoding (see
/// [`charset`]), HTML entities as numeric references, and an `<rss>` root with a version
/// feed-rs knows. Everything here repairs a real feed that feed-rs alone rejects or garbles.
fn prepare(body: &[u8], content_type: Option<&str>) -> String {
    let decoded = charset::to_utf8(body, content_type);
    debug!(encoding = decoded.encoding, source = ?decoded.source, "Feed body decoded.");
    let text = decoded.text;
    if text.trim_start().starts_with('{') {
        // JSON Feed: no XML declaration, entities or root element to repair.
        return text;
    }
    let text = match charset::html_entities_to_numeric(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(fixed) => fixed,
    };
    repair::atom_text_types(repair::root(text))
}

/// Runs `work`, turning a panic into a [`ParseError`] for this feed only. feed-rs and the
/// HTML renderer are third-party parsers fed with untrusted bytes; one bad body must not take
/// the daemon's ingest task down.
fn guarded<T>(
    feed_key: &str,
    work: impl FnOnce() -> Result<T, ParseError>,
) -> Result<T, ParseError> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let shown = match url::Url::parse(feed_key) {
                Ok(url) if url.scheme().starts_with("http") => super::location::redact_url(&url),
                _ => feed_key.to_string(),
            };
            warn!(feed = %shown, panic = %what, "Feed parser panicked; skipping this body.");
            Err(ParseError(format!(
                "the feed parser crashed on this body ({what})"
            )))
        }
    }
}

fn feed_rs_items(body: &[u8]) -> Result<Vec<Item>, ParseFeedError> {
    // An empty id from the generator means "the feed gave none": feed-rs's own fallback ids
    // are random (UUIDs) or version-dependent, and would break deduplication across polls.
    let parser = Builder::new()
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .timestamp_parser(dates::parse_timestamp)
        .build();
    let feed = parser.parse(body)?;
    Ok(feed.entries.iter().map(from_entry).collect())
}

/// Articles from items, first of each id only.
fn articles(feed_key: &str, items: &[Item]) -> Vec<Article> {
    let mut seen = HashSet::new();
    let mut articles = Vec::with_capacity(items.len());
    for item in items {
        let article = to_article(feed_key, item);
        if seen.insert(article.id.clone()) {
            articles.push(article);
        }
    }
    articles
}

fn from_entry(entry: &Entry) -> Item {
    Item {
        guid: Some(entry.id.trim())
            .filter(|g| !g.is_empty())
            .map(String::from),
        title: entry.title.as_ref().map(title_text).unwrap_or_default(),
        link: article_link(&entry.links),
        published: entry.published.or(entry.updated),
        summary: entry.summary.as_ref().map(text_of),
        content: entry.content.as_ref().and_then(content_text),
    }
}

fn to_article(feed_key: &str, item: &Item) -> Article {
    let guid = item.guid.clone();
    let title = item.title.clone();
    let published = item.published;
    let link = item.link.clone();
    let text = article_text(&title, item.summary.clone(), item.content.clone());

    let id = if let Some(guid) = &guid {
        stable_id("art", &[feed_key, "guid", guid])
    } else if let Some(link) = &link {
        stable_id("art", &[feed_key, "link", &canonical_link(link)])
    } else {
        let date = published.map(|d| d.to_rfc3339()).unwrap_or_default();
        if title.is_empty() {
            // Nothing but a body: the text is the only stable thing left.
            stable_id("art", &[feed_key, "text", &text, &date])
        } else {
            stable_id("art", &[feed_key, "title", &title, &date])
        }
    };
    // RSS items often carry only a permalink guid; it is the article's address then.
    let url = link.or_else(|| {
        guid.clone()
            .filter(|g| g.starts_with("http://") || g.starts_with("https://"))
    });
    Article {
        id,
        guid,
        url,
        title,
        published,
        text,
        full_text: None,
    }
}

/// The article's own page: the first link that is neither a comments link nor a non-alternate
/// relation (self, enclosure, replies, ...).
fn article_link(links: &[Link]) -> Option<String> {
    links
        .iter()
        .filter(|l| l.target.is_none())
        .find(|l| {
            l.rel
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
        })
        .map(|l| l.href.trim().to_string())
        .filter(|href| !href.is_empty())
}

fn title_text(title: &Text) -> String {
    let text = if is_html(title.content_type.as_str()) {
        html_to_text(&title.content)
    } else {
        maybe_html_to_text(&title.content)
    };
    // A title is one line.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Title, then summary, then content, each as plain paragraphs; a summary the content already
/// contains (or the other way round, or one that just repeats the title) is left out.
fn article_text(title: &str, summary: Option<String>, content: Option<String>) -> String {
    let summary = summary.filter(|s| !s.is_empty() && s != title);
    let content = content.filter(|c| !c.is_empty() && c != title);
    let mut parts: Vec<String> = Vec::new();
    if !title.is_empty() {
        parts.push(title.to_string());
    }
    match (summary, content) {
        (Some(s), Some(c)) if contains_text(&c, &s) => parts.push(c),
        (Some(s), Some(c)) if contains_text(&s, &c) => parts.push(s),
        (Some(s), Some(c)) => {
            parts.push(s);
            parts.push(c);
        }
        (Some(one), None) | (None, Some(one)) => parts.push(one),
        (None, None) => {}
    }
    parts.join("\n\n")
}

fn text_of(text: &Text) -> String {
    if is_html(text.content_type.as_str()) {
        html_to_text(&text.content)
    } else {
        paragraphs(&text.content)
    }
}

/// Inline textual content only; `src=` references and base64 media are not text.
fn content_text(content: &Content) -> Option<String> {
    let body = content.body.as_deref()?;
    let mime = content.content_type.as_str();
    if is_html(mime) {
        Some(html_to_text(body))
    } else if mime.starts_with("text/") {
        Some(paragraphs(body))
    } else {
        None
    }
}

fn is_html(mime: &str) -> bool {
    let mime = mime.to_ascii_lowercase();
    mime.starts_with("text/html") || mime.contains("xhtml")
}

/// A message that names the likely cause rather than the parser's internals.
fn explain(error: ParseFeedError, start: &[u8], content_type: Option<&str>) -> ParseError {
    let head: String =
        String::from_utf8_lossy(&start[..start.len().min(1024)]).to_ascii_lowercase();
    if head.contains("<!doctype html") || head.contains("<html") {
        let ct = content_type
            .map(|c| format!(" (Content-Type {c})"))
            .unwrap_or_default();
        return ParseError(format!("got an HTML page, not a feed{ct}"));
    }
    let message = match &error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            "no RSS, Atom or JSON Feed root element found".to_string()
        }
        ParseFeedError::XmlReader(_) => format!("malformed or truncated XML: {error}"),
        ParseFeedError::JsonSerde(_) => format!("malformed or truncated JSON: {error}"),
        _ => format!("not a usable feed: {error}"),
    };
    ParseError(message)
}

fn skip_bom_and_space(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let first = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    &body[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_parse_errors() {
        // No feed-rs input is known to panic today; the guard must still hold when one does.
        let result: Result<(), ParseError> = guarded("k", || panic!("bad encoding"));
        let error = result.expect_err("panic must become an error");
        assert!(error.0.contains("bad encoding"), "{error}");
        assert_eq!(guarded("k", || Ok(7)).ok(), Some(7));
    }
}
