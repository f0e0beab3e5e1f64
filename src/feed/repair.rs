//! Textual repairs of real-world feeds that feed-rs rejects, applied to the UTF-8 text before
//! parsing. Each one is narrow: it only touches the construct it repairs, and leaves valid
//! feeds byte for byte as they were.
//!
//! - `<rss>` without a version, or with one feed-rs does not know (`0.93`, `2.01`, ...);
//! - `<rss>` whose items are not inside a `<channel>`;
//! - an RSS 1.0 root written `<rdf>` instead of `<rdf:RDF>`;
//! - Atom text constructs (`title`, `summary`, `subtitle`, `rights`) whose `type` is not
//!   `text`, `html` or `xhtml`: empty or `text/plain` types, and base64-encoded bodies with a
//!   media type (Atom 1.0 §4.1.3.3), which feed-rs refuses outright, failing the whole feed.

use base64::Engine as _;

/// Repairs the root element (see the module documentation).
pub(super) fn root(text: String) -> String {
    let head_end = floor_char_boundary(&text, 8192);
    let Some((at, name)) = root_element(&text[..head_end]) else {
        return text;
    };
    match name {
        "rss" => rss(text, at),
        "rdf" => {
            // A bare `<rdf>` root: feed-rs matches the local name `RDF` only.
            let Some(close) = text.rfind("</rdf>") else {
                return text;
            };
            format!(
                "{}<RDF{}</RDF>{}",
                &text[..at],
                &text[at + 4..close],
                &text[close + 6..]
            )
        }
        _ => text,
    }
}

fn rss(text: String, at: usize) -> String {
    let Some(tag_len) = text[at..].find('>') else {
        return text;
    };
    let tag_end = at + tag_len;
    let version = attribute_value(&text[at..tag_end], "version").map(|r| at + r.start..at + r.end);
    let mut text = match version {
        Some(range) if matches!(&text[range.clone()], "2.0" | "" | "0.91" | "0.92") => text,
        Some(range) => format!("{}2.0{}", &text[..range.start], &text[range.end..]),
        None => format!("{} version=\"2.0\"{}", &text[..at + 4], &text[at + 4..]),
    };
    if !text.contains("<channel") {
        // Items straight under <rss>: wrap everything in a channel.
        if let (Some(open_end), Some(close)) = (
            text[at..].find('>').map(|e| at + e + 1),
            text.rfind("</rss>"),
        ) && open_end <= close
            && !text[at..open_end].ends_with("/>")
        {
            text = format!(
                "{}<channel>{}</channel>{}",
                &text[..open_end],
                &text[open_end..close],
                &text[close..]
            );
        }
    }
    text
}

/// Byte offset and local name of the document's first element, when it is `rss` or `rdf`.
fn root_element(head: &str) -> Option<(usize, &'static str)> {
    let mut i = 0;
    while let Some(lt) = head[i..].find('<').map(|p| p + i) {
        let rest = &head[lt..];
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = if rest.starts_with("<!--") { "-->" } else { ">" };
            i = lt + rest.find(end)? + end.len();
            continue;
        }
        let after = rest.as_bytes().get(4).copied();
        let ends_name = after.is_some_and(|b| b.is_ascii_whitespace() || b == b'>');
        return match &rest.as_bytes()[..rest.len().min(4)] {
            b"<rss" if ends_name => Some((lt, "rss")),
            b"<rdf" if ends_name => Some((lt, "rdf")),
            _ => None,
        };
    }
    None
}

/// The byte range of `name="value"`'s value inside a start tag.
pub(super) fn attribute_value(tag: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let mut from = 0;
    while let Some(found) = tag[from..].find(name).map(|f| f + from) {
        from = found + name.len();
        let preceded = tag[..found]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let rest = tag[from..].trim_start();
        let Some(rest) = rest.strip_prefix('=').filter(|_| preceded) else {
            continue;
        };
        let rest_trimmed = rest.trim_start();
        let quote = rest_trimmed
            .chars()
            .next()
            .filter(|q| *q == '"' || *q == '\'')?;
        let start = tag.len() - rest_trimmed.len() + 1;
        let len = tag[start..].find(quote)?;
        return Some(start..start + len);
    }
    None
}

/// Atom text constructs with a `type` feed-rs refuses (see the module documentation).
pub(super) fn atom_text_types(text: String) -> String {
    const ELEMENTS: [&str; 4] = ["title", "summary", "subtitle", "rights"];
    if !text.contains("type=") {
        return text;
    }
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while let Some(lt) = text[i..].find('<').map(|p| p + i) {
        i = lt + 1;
        let Some(name) = ELEMENTS.iter().find(|n| {
            text[lt + 1..].starts_with(*n)
                && text[lt + 1 + n.len()..].starts_with(|c: char| c.is_whitespace())
        }) else {
            continue;
        };
        let Some(tag_end) = text[lt..].find('>').map(|e| lt + e) else {
            break;
        };
        if text[..tag_end].ends_with('/') {
            continue;
        }
        let tag = &text[lt..tag_end];
        let Some(range) = attribute_value(tag, "type") else {
            continue;
        };
        let kind = tag[range.clone()].trim().to_ascii_lowercase();
        if matches!(kind.as_str(), "text" | "html" | "text/html" | "xhtml") {
            continue;
        }
        let close_tag = format!("</{name}>");
        let Some(close) = text[tag_end..].find(&close_tag).map(|c| c + tag_end) else {
            continue;
        };
        let body = &text[tag_end + 1..close];
        let (new_type, new_body) = if kind.is_empty() || kind.starts_with("text/") {
            ("text", body.to_string())
        } else if kind.contains("xhtml") {
            ("xhtml", body.to_string())
        } else {
            match decode_base64(body) {
                Some(decoded) => (
                    if kind.contains("html") || decoded.contains('<') {
                        "html"
                    } else {
                        "text"
                    },
                    escape(&decoded),
                ),
                None => ("text", body.to_string()),
            }
        };
        out.push_str(&text[copied..lt + range.start]);
        out.push_str(new_type);
        out.push_str(&text[lt + range.end..=tag_end]);
        out.push_str(&new_body);
        copied = close;
        i = close;
    }
    if copied == 0 {
        return text;
    }
    out.push_str(&text[copied..]);
    out
}

fn decode_base64(body: &str) -> Option<String> {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_versions_are_repaired_and_valid_ones_kept() {
        // feed-rs finds no feed root in `<rss>` without a known version.
        let fixed = root("<?xml version=\"1.0\"?>\n<rss><channel></channel></rss>".into());
        assert_eq!(
            fixed,
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel></channel></rss>"
        );
        let fixed = root("<rss version='0.94' xmlns:x='y'><channel/></rss>".into());
        assert_eq!(fixed, "<rss version='2.0' xmlns:x='y'><channel/></rss>");
        let valid = "<!-- c --><rss version=\"0.91\"><channel></channel></rss>";
        assert_eq!(root(valid.into()), valid);
    }

    #[test]
    fn items_without_channel_are_wrapped() {
        // Items directly under <rss> are otherwise lost.
        let fixed = root("<rss>\n<item><title>a</title></item>\n</rss>".into());
        assert_eq!(
            fixed,
            "<rss version=\"2.0\"><channel>\n<item><title>a</title></item>\n</channel></rss>"
        );
    }

    #[test]
    fn atom_base64_and_odd_types() {
        // feed-rs fails the whole feed on one such element.
        let text = "<entry><title type=\"application/octet-stream\">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</title>\
                    <summary type=\"\">x</summary><title type=\"html\">ok</title></entry>";
        assert_eq!(
            atom_text_types(text.into()),
            "<entry><title type=\"html\">Example &lt;b&gt;Atom&lt;/b&gt;</title>\
             <summary type=\"text\">x</summary><title type=\"html\">ok</title></entry>"
        );
    }
}
