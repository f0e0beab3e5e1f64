//! The feed formats feed-rs drops: Atom 0.3 and RSS 0.90 (their namespaces are unknown to it,
//! so every entry is ignored), RSS 1.0/RDF items without a `<link>` (feed-rs discards them),
//! and RSS 0.9x/2.0 placed in a namespace of its own (`xmlns="http://backend.userland.com/rss2"`).
//! Old Blogger, Movable Type and TypePad feeds still serve these.
//!
//! The document is read with [`recover::read`] (so a broken legacy feed is salvaged too) and
//! walked here. Field mapping follows feedparser:
//! - RSS/RDF: items inside `<channel>` or beside it under the root; title from `title`, else
//!   `dc:title`, else `media:title`; date from `pubDate`, `dc:date`, `dcterms:issued`,
//!   `dcterms:modified`; body from `description`/`dc:description` and `content:encoded`; id
//!   from `guid`, else the link, else `rdf:about` (so RDF ids stay what they were under feed-rs).
//! - Atom 0.3: `issued`/`created`/`modified` for dates; text constructs with `type` (a MIME
//!   type) and `mode` (`xml`, `escaped`, `base64`); `link rel="alternate"`; `dc:` fallbacks.
//! - Links resolve against the `xml:base` in scope (feed, entry and the link itself).

use base64::Engine as _;
use chrono::{DateTime, Utc};
use url::Url;

use super::item::Item;
use super::recover::{self, Element};
use super::text::{html_to_text, maybe_html_to_text};
use super::{dates, repair};

const ATOM03: &str = "http://purl.org/atom/ns#";
const ATOM10: &str = "http://www.w3.org/2005/Atom";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const DCTERMS: &str = "http://purl.org/dc/terms/";
const CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
const MEDIA: &str = "http://search.yahoo.com/mrss/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// Which legacy walker a root element needs, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// `rdf:RDF`: RSS 0.90 and 1.0.
    Rdf,
    /// `<rss>` in a namespace of its own, or version 0.90-0.94.
    Rss,
    /// `<feed>` in Atom 0.3's namespace or with `version="0.3"`.
    Atom03,
}

/// Cheaply decides from the first start tag (no tree built) whether a body is a legacy feed.
pub(super) fn sniff(text: &str) -> Option<Format> {
    let head = &text[..repair::floor_char_boundary(text, 8192)];
    let mut rest = head;
    let tag = loop {
        let at = rest.find('<')?;
        rest = &rest[at..];
        if rest.starts_with("<!--") {
            rest = &rest[rest.find("-->")? + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
        } else {
            break &rest[..rest.find('>').unwrap_or(rest.len())];
        }
    };
    let name_end = tag
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(tag.len());
    let name = &tag[1..name_end];
    let local = name.rsplit(':').next().unwrap_or(name);
    let attrs = &tag[name_end..];
    let version = attr_in_tag(attrs, "version");
    let default_ns = attr_in_tag(attrs, "xmlns");
    match local {
        "RDF" | "rdf" => Some(Format::Rdf),
        "rss"
            if default_ns.is_some_and(|ns| !ns.is_empty())
                || name.contains(':')
                || version.is_some_and(|v| v.starts_with("0.9")) =>
        {
            Some(Format::Rss)
        }
        "feed"
            if default_ns.is_some_and(|ns| ns == ATOM03)
                || (version == Some("0.3") && default_ns.is_none_or(|ns| ns != ATOM10)) =>
        {
            Some(Format::Atom03)
        }
        _ => None,
    }
}

fn attr_in_tag<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    repair::attribute_value(attrs, name).map(|range| &attrs[range])
}

/// The items of a legacy feed, in document order.
pub(super) fn items(format: Format, root: &Element) -> Vec<Item> {
    let base = base_of(None, root);
    let mut out = Vec::new();
    match format {
        Format::Rdf | Format::Rss => collect_rss(root, base.as_ref(), 0, &mut out),
        Format::Atom03 => {
            // Some Atom 0.3 generators wrote `<item>` for `<entry>`; feedparser reads both.
            let entries = root
                .elements()
                .filter(|e| matches!(e.local(), "entry" | "item") && !is_extension(e));
            for entry in entries {
                out.push(atom_entry(entry, base.as_ref()));
            }
        }
    }
    out
}

/// Items inside the root, inside `<channel>`, or beside it: every real-world layout.
fn collect_rss(parent: &Element, base: Option<&Url>, depth: usize, out: &mut Vec<Item>) {
    for child in parent.elements() {
        match child.local() {
            "item" if !is_extension(child) => out.push(rss_item(child, base)),
            "channel" if depth < 2 => {
                let base = base_of(base, child);
                collect_rss(child, base.as_ref(), depth + 1, out);
            }
            _ => {}
        }
    }
}

/// Elements in a module namespace (`dc:`, `content:`, `media:`, Atom 1.0, RDF) are never the
/// core `item`, `title` or `link`.
fn is_extension(element: &Element) -> bool {
    element
        .ns
        .as_deref()
        .is_some_and(|ns| [DC, DCTERMS, CONTENT, MEDIA, RDF, ATOM10].contains(&ns))
}

fn in_ns(element: &Element, ns: &str, local: &str) -> bool {
    element.ns.as_deref() == Some(ns) && element.local() == local
}

fn first(parent: &Element, test: impl Fn(&Element) -> bool) -> Option<&Element> {
    parent.elements().find(|e| test(e))
}

fn non_empty(text: String) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn rss_item(item: &Element, base: Option<&Url>) -> Item {
    let base = base_of(base, item);
    let core = |local: &'static str| move |e: &Element| !is_extension(e) && e.local() == local;
    let title = first(item, core("title"))
        .or_else(|| first(item, |e| in_ns(e, DC, "title")))
        .or_else(|| first(item, |e| in_ns(e, MEDIA, "title")))
        .map(|t| one_line(&rss_text(t)))
        .unwrap_or_default();
    let link = first(item, |e| core("link")(e) && !e.text().trim().is_empty())
        .map(|l| (l.text(), base_of(base.as_ref(), l)))
        .or_else(|| {
            first(item, |e| in_ns(e, ATOM10, "link") && is_alternate(e))
                .and_then(|l| Some((l.attr("href")?.to_string(), base_of(base.as_ref(), l))))
        })
        .map(|(href, base)| resolve(href.trim(), base.as_ref()));
    // rdf:about names the item only when it has no link: feed-rs read RDF items with links
    // before, their ids came from the link, and must not change (that would ingest them again).
    let guid = first(item, core("guid"))
        .and_then(|g| non_empty(g.text()))
        .or_else(|| {
            link.is_none()
                .then(|| item.attr("rdf:about").or_else(|| item.attr("about")))
                .flatten()
                .and_then(|about| non_empty(about.to_string()))
        });
    let date = |e: Option<&Element>| e.and_then(|d| dates::parse_timestamp(&d.text()));
    let published = date(first(item, core("pubDate")))
        .or_else(|| date(first(item, |e| in_ns(e, DC, "date"))))
        .or_else(|| date(first(item, |e| in_ns(e, DCTERMS, "issued"))))
        .or_else(|| date(first(item, |e| in_ns(e, DCTERMS, "modified"))));
    let summary = first(item, core("description"))
        .or_else(|| first(item, |e| in_ns(e, DC, "description")))
        .and_then(|d| non_empty(html_to_text(&d.text())));
    let content = first(item, |e| in_ns(e, CONTENT, "encoded"))
        .and_then(|c| non_empty(html_to_text(&c.text())));
    Item {
        guid,
        title,
        link,
        published,
        summary,
        content,
    }
}

/// An RSS text element as plain text. Markup may be escaped (the usual way) or written as
/// naked elements (`<title><p>Talks</p> resume</title>`), whose words count too.
fn rss_text(element: &Element) -> String {
    if element.elements().next().is_some() {
        html_to_text(&element.inner_xml())
    } else {
        maybe_html_to_text(&element.text())
    }
}

fn atom_entry(entry: &Element, base: Option<&Url>) -> Item {
    let base = base_of(base, entry);
    let core = |local: &'static str| move |e: &Element| !is_extension(e) && e.local() == local;
    let title = first(entry, core("title"))
        .map(|t| one_line(&text_construct(t)))
        .filter(|t| !t.is_empty())
        .or_else(|| {
            first(entry, |e| in_ns(e, DC, "title"))
                .map(|t| one_line(&maybe_html_to_text(&t.text())))
        })
        .unwrap_or_default();
    let link = entry
        .elements()
        .filter(|e| core("link")(e) && is_alternate(e))
        .find_map(|l| {
            let href = l.attr("href")?.trim();
            Some(resolve(href, base_of(base.as_ref(), l).as_ref()))
        });
    let guid = first(entry, core("id")).and_then(|i| non_empty(i.text()));
    let date = |local: &'static str| -> Option<DateTime<Utc>> {
        first(entry, core(local)).and_then(|d| dates::parse_timestamp(&d.text()))
    };
    let published = date("issued")
        .or_else(|| date("published"))
        .or_else(|| date("created"))
        .or_else(|| date("modified"))
        .or_else(|| date("updated"))
        .or_else(|| {
            first(entry, |e| in_ns(e, DC, "date")).and_then(|d| dates::parse_timestamp(&d.text()))
        });
    let summary = first(entry, core("summary"))
        .map(text_construct)
        .or_else(|| first(entry, |e| in_ns(e, DC, "description")).map(|d| html_to_text(&d.text())))
        .and_then(non_empty);
    // Several `content` elements may carry alternatives; the first textual one is the body.
    let content = entry
        .elements()
        .filter(|e| core("content")(e))
        .map(text_construct)
        .find(|c| !c.trim().is_empty());
    Item {
        guid,
        title,
        link,
        published,
        summary,
        content,
    }
}

/// An Atom 0.3 (or 1.0) text construct as plain text: `mode` says how the content is carried,
/// `type` whether it is markup.
fn text_construct(element: &Element) -> String {
    let kind = element
        .attr("type")
        .unwrap_or("text/plain")
        .trim()
        .to_ascii_lowercase();
    let mode = element
        .attr("mode")
        .unwrap_or("xml")
        .trim()
        .to_ascii_lowercase();
    let has_markup = element.elements().next().is_some();
    let raw = if mode == "base64" {
        let compact: String = element
            .text()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    } else if has_markup {
        element.inner_xml()
    } else {
        element.text()
    };
    if kind.contains("html") || has_markup {
        html_to_text(&raw)
    } else {
        maybe_html_to_text(&raw)
    }
}

fn is_alternate(link: &Element) -> bool {
    link.attr("rel")
        .is_none_or(|r| r.trim().eq_ignore_ascii_case("alternate"))
}

/// The `xml:base` in scope for `element`, given its parent's.
fn base_of(parent: Option<&Url>, element: &Element) -> Option<Url> {
    match element.attr("xml:base").map(str::trim) {
        Some(base) => match parent {
            Some(parent) => parent.join(base).ok(),
            None => Url::parse(base).ok(),
        }
        .or_else(|| parent.cloned()),
        None => parent.cloned(),
    }
}

fn resolve(href: &str, base: Option<&Url>) -> String {
    match base {
        Some(base) if Url::parse(href).is_err() => base
            .join(href)
            .map_or_else(|_| href.to_string(), |u| u.to_string()),
        _ => href.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads and walks a legacy body; `None` when it turns out to have no root.
pub(super) fn parse(format: Format, text: &str) -> Option<(Vec<Item>, recover::Repairs)> {
    let tree = recover::read(text);
    let root = tree.root()?;
    Some((items(format, root), tree.repairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_legacy_roots_only() {
        // Only these go around feed-rs; RSS 2.0 and Atom 1.0 stay on its tuned path.
        assert_eq!(
            sniff("<?xml version='1.0'?><!-- x --><rdf:RDF xmlns:rdf='r'>"),
            Some(Format::Rdf)
        );
        assert_eq!(sniff("<rss version=\"0.91\">"), Some(Format::Rss));
        assert_eq!(
            sniff("<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\">"),
            Some(Format::Rss)
        );
        assert_eq!(sniff("<rss version=\"2.0\">"), None);
        assert_eq!(
            sniff("<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">"),
            Some(Format::Atom03)
        );
        assert_eq!(sniff("<feed xmlns=\"http://www.w3.org/2005/Atom\">"), None);
    }

    #[test]
    fn atom03_text_constructs() {
        // Escaped, base64 and inline-XHTML titles all read as the words a reader sees.
        let text = "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\" xml:base=\"http://example.com/a/\">\
            <entry><title type=\"text/html\" mode=\"escaped\">Example &lt;b&gt;Atom&lt;/b&gt;</title>\
              <link rel=\"alternate\" href=\"one.html\"/><issued>2004-01-02T03:04:05Z</issued></entry>\
            <entry><title type=\"text/html\" mode=\"base64\">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title></entry>\
            <entry><title type=\"application/xhtml+xml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">Example <a href=\"t.html\">test</a></div></title></entry>\
            </feed>";
        let (items, repairs) = parse(Format::Atom03, text).unwrap();
        assert!(!repairs.any());
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["Example Atom", "Example Atom", "Example test"]);
        assert_eq!(
            items[0].link.as_deref(),
            Some("http://example.com/a/one.html")
        );
        assert_eq!(
            items[0].published.map(|d| d.to_rfc3339()).as_deref(),
            Some("2004-01-02T03:04:05+00:00")
        );
    }
}
