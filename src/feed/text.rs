//! Text helpers for articles: HTML to plain paragraphs, and canonical links for ids.

use html2text::render::TrivialDecorator;
use url::Url;

/// Wide enough that html2text never wraps a real paragraph (wrapping would insert newlines
/// in the middle of sentences).
const RENDER_WIDTH: usize = 1 << 20;

/// Query parameters that only track the reader; dropped so the same story linked from two
/// campaigns gets one id.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "msclkid",
    "yclid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "_ga",
    "_gl",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wt_mc",
    "cmpid",
    "ncid",
    "ocid",
];

/// HTML to plain text: tags removed, entities decoded, no decorations or link footnotes,
/// whitespace collapsed within paragraphs and paragraphs separated by a blank line.
pub(super) fn html_to_text(html: &str) -> String {
    // Fast path: many feeds label plain text as HTML; rendering it is a third of a poll's CPU.
    if !looks_like_markup(html) {
        return paragraphs(html);
    }
    let rendered = html2text::config::with_decorator(TrivialDecorator::new())
        .raw_mode(true)
        .link_footnotes(false)
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), RENDER_WIDTH);
    match rendered {
        Ok(text) => paragraphs(&text),
        // html2text only fails on pathological input; keep the words rather than nothing.
        Err(_) => paragraphs(&strip_tags(html)),
    }
}

/// Plain text that may be HTML (titles, mislabelled fields): converted only if it looks like
/// markup, so `a < b` and `AT&T` in genuine plain text survive.
pub(super) fn maybe_html_to_text(text: &str) -> String {
    if looks_like_markup(text) {
        html_to_text(text)
    } else {
        paragraphs(text)
    }
}

/// Collapses whitespace within paragraphs (blank-line separated) and joins them with "\n\n".
pub(super) fn paragraphs(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        for word in line.split_whitespace() {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.join("\n\n")
}

/// Whether `haystack` already contains `needle`'s words, ignoring whitespace differences and
/// a trailing "..." / "[…]" on the needle (feeds truncate summaries of the content).
pub(super) fn contains_text(haystack: &str, needle: &str) -> bool {
    let needle = squash(needle);
    let needle = strip_ellipsis(&needle);
    !needle.is_empty() && squash(haystack).contains(needle)
}

/// The link as used in ids: fragment removed, scheme and host lower-cased (url does this),
/// tracking parameters dropped. Links that are not absolute URLs are used trimmed, minus any
/// fragment.
pub(super) fn canonical_link(link: &str) -> String {
    let link = link.trim();
    let Ok(mut url) = Url::parse(link) else {
        return link.split('#').next().unwrap_or_default().to_string();
    };
    url.set_fragment(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| !is_tracking(name))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strip_ellipsis(text: &str) -> &str {
    let mut text = text.trim_end();
    for suffix in ["[…]", "[...]", "(…)", "(...)", "…", "..."] {
        if let Some(rest) = text.strip_suffix(suffix) {
            text = rest.trim_end();
            break;
        }
    }
    text
}

/// A tag (`<p`, `</b`, `<!--`) or an entity (`&amp;`, `&#8217;`, `&#x2019;`).
fn looks_like_markup(text: &str) -> bool {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        if b == b'<' && (next.is_ascii_alphabetic() || next == b'/' || next == b'!') {
            return true;
        }
        if b == b'&' {
            let rest = &bytes[i + 1..];
            let end = rest.iter().take(12).position(|&c| c == b';');
            if let Some(end) = end {
                let name = &rest[..end];
                let numeric = name.first() == Some(&b'#') && name.len() > 1;
                if numeric || (!name.is_empty() && name.iter().all(u8::is_ascii_alphanumeric)) {
                    return true;
                }
            }
        }
    }
    false
}

/// Last-resort tag stripper for when html2text refuses the input.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_paragraphs() {
        // Extraction splits sentences on this text: no markup, entities decoded, no wrapping.
        let html = "<p>Smith &amp; Jones met&nbsp;today.<br/>It\u{2019}s <b>done</b> &#8217;ok&#8217;.</p>\
                    <p><a href=\"https://x.example/\">Second</a>\n   paragraph.</p>";
        let text = html_to_text(html);
        assert_eq!(
            text,
            "Smith & Jones met today. It\u{2019}s done \u{2019}ok\u{2019}.\n\nSecond paragraph."
        );
        let long = format!("<p>{}</p>", "word ".repeat(5000));
        assert!(!html_to_text(&long).contains('\n'));
    }

    #[test]
    fn titles_only_converted_when_marked_up() {
        // Plain titles with '<' or '&' must not be mangled by an HTML parser.
        assert_eq!(maybe_html_to_text("a < b & AT&T"), "a < b & AT&T");
        assert_eq!(
            maybe_html_to_text("<b>Bold</b> &amp; plain"),
            "Bold & plain"
        );
        assert_eq!(maybe_html_to_text("It&#8217;s"), "It\u{2019}s");
    }

    #[test]
    fn canonical_links() {
        // Ids built from links must not change with tracking parameters or fragments.
        assert_eq!(
            canonical_link(" HTTPS://News.Example.COM/a/b?utm_source=x&id=3&fbclid=y#top "),
            "https://news.example.com/a/b?id=3"
        );
        assert_eq!(
            canonical_link("https://example.com/x?utm_medium=rss"),
            "https://example.com/x"
        );
        assert_eq!(canonical_link("/relative/path#frag"), "/relative/path");
    }

    #[test]
    fn containment_ignores_whitespace_and_ellipsis() {
        // Summaries repeated inside the content must be recognised to avoid duplicate text.
        assert!(contains_text(
            "One two.\n\nThree four five.",
            "One two. Three four [\u{2026}]"
        ));
        assert!(!contains_text("One two.", "Something else"));
        assert!(!contains_text("One two.", "   "));
    }
}
