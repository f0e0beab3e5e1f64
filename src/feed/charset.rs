//! Every feed body becomes UTF-8 before the feed parser sees it.
//!
//! feed-rs (through quick-xml) decodes from the XML declaration on its own, trusts it blindly,
//! and panics on some UTF-16/UCS-2 inputs. Real servers lie about charsets all the time, so
//! parley decides the encoding itself, in this order:
//!
//! 1. a byte-order mark (UTF-8, UTF-16, UTF-32);
//! 2. the shape of the first bytes (`<?xml` in UTF-16 or UCS-4 without a BOM);
//! 3. the HTTP `charset` parameter, then the XML declaration's `encoding`;
//! 4. a detector (chardetng) when nothing is declared and the bytes are not UTF-8, or when
//!    the declaration is UTF-8 but the bytes are not (windows-1252 served as UTF-8).
//!
//! A legacy single-byte declaration (ISO-8859-1, windows-1252, ...) over bytes that are valid
//! UTF-8 with non-ASCII text is taken to be UTF-8: such bytes are almost never accidental,
//! while mislabelled UTF-8 is common. After decoding, the XML declaration's `encoding` is
//! rewritten to `UTF-8` so the parser does not decode a second time.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// Where the chosen encoding came from; reported in debug logs and tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A byte-order mark.
    Bom,
    /// The byte pattern of `<?` in a wide encoding, without a BOM.
    Sniffed,
    /// The HTTP `Content-Type` charset.
    Http,
    /// The XML declaration.
    Declaration,
    /// No usable declaration; the bytes are valid UTF-8.
    Utf8,
    /// The statistical detector.
    Detected,
}

/// A body decoded to UTF-8 text.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The text, without BOM, with the XML declaration saying UTF-8.
    pub text: String,
    /// The encoding name used (`UTF-32LE`/`UTF-32BE` are handled here, not by encoding_rs).
    pub encoding: &'static str,
    /// Why that encoding was chosen.
    pub source: Source,
}

/// Decodes `body` to UTF-8 (see the module documentation for the order of evidence).
pub(crate) fn to_utf8(body: &[u8], content_type: Option<&str>) -> Decoded {
    let (encoding_name, source, text) = decode(body, content_type);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    Decoded {
        text: declare_utf8(text),
        encoding: encoding_name,
        source,
    }
}

fn decode(body: &[u8], content_type: Option<&str>) -> (&'static str, Source, String) {
    // UTF-32 first: its little-endian BOM starts with the UTF-16LE one.
    if let Some(rest) = body.strip_prefix(b"\xFF\xFE\x00\x00") {
        return ("UTF-32LE", Source::Bom, utf32(rest, false));
    }
    if let Some(rest) = body.strip_prefix(b"\x00\x00\xFE\xFF") {
        return ("UTF-32BE", Source::Bom, utf32(rest, true));
    }
    if let Some((encoding, bom)) = Encoding::for_bom(body) {
        return (
            encoding.name(),
            Source::Bom,
            decode_with(encoding, &body[bom..]),
        );
    }
    match body.get(..4) {
        Some([0, 0, 0, b'<']) => return ("UTF-32BE", Source::Sniffed, utf32(body, true)),
        Some([b'<', 0, 0, 0]) => return ("UTF-32LE", Source::Sniffed, utf32(body, false)),
        Some([0, b'<', 0, _]) => {
            return (
                UTF_16BE.name(),
                Source::Sniffed,
                decode_with(UTF_16BE, body),
            );
        }
        Some([b'<', 0, _, 0]) => {
            return (
                UTF_16LE.name(),
                Source::Sniffed,
                decode_with(UTF_16LE, body),
            );
        }
        _ => {}
    }

    // From here on the body is ASCII-compatible, so a wide declaration is a lie.
    let declared = content_type
        .and_then(http_charset)
        .map(|e| (e, Source::Http))
        .or_else(|| xml_declared(body).map(|e| (e, Source::Declaration)))
        .filter(|(e, _)| e.is_ascii_compatible());
    let valid_utf8 = std::str::from_utf8(body).ok();

    match (declared, valid_utf8) {
        (Some((encoding, source)), Some(text)) if encoding == UTF_8 => {
            (UTF_8.name(), source, text.to_string())
        }
        (Some((encoding, _)), Some(text)) if encoding.is_single_byte() && !text.is_ascii() => {
            // Valid non-ASCII UTF-8 under a legacy single-byte label: the label is wrong.
            (UTF_8.name(), Source::Utf8, text.to_string())
        }
        (Some((encoding, source)), _) if encoding != UTF_8 => {
            (encoding.name(), source, decode_with(encoding, body))
        }
        (_, Some(text)) => (UTF_8.name(), Source::Utf8, text.to_string()),
        (_, None) => {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(body, true);
            let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
            (guess.name(), Source::Detected, decode_with(guess, body))
        }
    }
}

fn decode_with(encoding: &'static Encoding, bytes: &[u8]) -> String {
    let (text, _had_errors) = encoding.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// UCS-4 / UTF-32, which encoding_rs does not implement (the web never needed it).
fn utf32(bytes: &[u8], big_endian: bool) -> String {
    bytes
        .chunks(4)
        .map(|chunk| {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            let code = if big_endian {
                u32::from_be_bytes(word)
            } else {
                u32::from_le_bytes(word)
            };
            char::from_u32(code).unwrap_or('\u{fffd}')
        })
        .collect()
}

/// The `charset` parameter of a `Content-Type`, if encoding_rs knows the label.
pub(crate) fn http_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        Encoding::for_label(value.as_bytes())
    })
}

/// The `encoding` of an XML declaration at the start of `body`, if encoding_rs knows it.
fn xml_declared(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(512)];
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let (_, value) = attribute(&head[..end], b"encoding")?;
    Encoding::for_label(&head[value])
}

/// Finds `name="value"` (or single quotes) in `bytes`; returns the ranges of the whole
/// attribute and of its value.
fn attribute(
    bytes: &[u8],
    name: &[u8],
) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let at = bytes.windows(name.len()).position(|w| w == name)?;
    let mut i = at + name.len();
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    if bytes.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    let quote = *bytes.get(i).filter(|&&q| q == b'"' || q == b'\'')?;
    let value_start = i + 1;
    let len = bytes[value_start..].iter().position(|&b| b == quote)?;
    Some((at..value_start + len + 1, value_start..value_start + len))
}

/// Rewrites the XML declaration's `encoding` to `UTF-8` (the text is UTF-8 now).
fn declare_utf8(text: String) -> String {
    let lead = text.len() - text.trim_start().len();
    if !text[lead..].starts_with("<?xml") {
        return text;
    }
    let Some(end) = text[lead..].find("?>").map(|e| e + lead) else {
        return text;
    };
    match attribute(&text.as_bytes()[lead..end], b"encoding") {
        Some((whole, _)) => {
            let (from, to) = (whole.start + lead, whole.end + lead);
            format!("{}encoding=\"UTF-8\"{}", &text[..from], &text[to..])
        }
        None => text,
    }
}

/// Replaces HTML named entities that XML does not define (`&nbsp;`, `&eacute;`, ...) with
/// numeric character references, outside CDATA sections and comments.
///
/// Feeds are written by CMSs that think in HTML; an XML parser rejects or keeps such
/// references verbatim. The five XML entities and unknown names are left alone.
pub(crate) fn html_entities_to_numeric(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    let mut changed = false;
    while let Some(pos) = rest.find(['&', '<']) {
        let (before, at) = rest.split_at(pos);
        out.push_str(before);
        if at.starts_with('<') {
            // Copy CDATA sections and comments untouched.
            let skip = if at.starts_with("<![CDATA[") {
                at.find("]]>").map(|e| e + 3)
            } else if at.starts_with("<!--") {
                at.find("-->").map(|e| e + 3)
            } else {
                Some(1)
            };
            let skip = skip.unwrap_or(at.len());
            out.push_str(&at[..skip]);
            rest = &at[skip..];
            continue;
        }
        // `at` starts with '&'.
        let name_len = at[1..]
            .bytes()
            .take(32)
            .position(|b| !b.is_ascii_alphanumeric())
            .filter(|&n| n > 0 && at.as_bytes().get(n + 1) == Some(&b';'));
        match name_len {
            Some(n) if !matches!(&at[1..=n], "amp" | "lt" | "gt" | "quot" | "apos") => {
                match quick_xml::escape::resolve_html5_entity(&at[1..=n]) {
                    Some(resolved) => {
                        for ch in resolved.chars() {
                            out.push_str(&format!("&#{};", u32::from(ch)));
                        }
                        changed = true;
                    }
                    None => out.push_str(&at[..n + 2]),
                }
                rest = &at[n + 2..];
            }
            _ => {
                out.push('&');
                rest = &at[1..];
            }
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for unit in s.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    }

    #[test]
    fn windows_1252_declared_as_utf8_is_detected() {
        // The commonest lie on the web: a CMS writes cp1252 under a UTF-8 declaration.
        let (bytes, _, _) = encoding_rs::WINDOWS_1252
            .encode("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><title>Caf\u{e9} d\u{e9}j\u{e0} \u{2014} na\u{ef}ve r\u{e9}sum\u{e9}</title></rss>");
        let decoded = to_utf8(&bytes, Some("application/rss+xml; charset=utf-8"));
        assert!(
            decoded.text.contains("Caf\u{e9} d\u{e9}j\u{e0} \u{2014}"),
            "{decoded:?}"
        );
        assert_eq!(decoded.source, Source::Detected);
    }

    #[test]
    fn iso_8859_1_declared_is_honoured_and_redeclared() {
        // An honest legacy declaration must decode, and the parser must then see UTF-8.
        let body =
            b"<?xml version='1.0' encoding='ISO-8859-1'?><rss><title>Gr\xfc\xdfe</title></rss>";
        let decoded = to_utf8(body, None);
        assert!(decoded.text.contains("Gr\u{fc}\u{df}e"));
        assert!(
            decoded
                .text
                .starts_with("<?xml version='1.0' encoding=\"UTF-8\"?>")
        );
        assert_eq!(decoded.source, Source::Declaration);
    }

    #[test]
    fn utf16_with_and_without_bom() {
        // feed-rs panics on these; they must come out as plain UTF-8.
        let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><feed>\u{e9}</feed>";
        for bom in [true, false] {
            let decoded = to_utf8(&utf16le(doc, bom), None);
            assert_eq!(
                decoded.text,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed>\u{e9}</feed>"
            );
        }
    }

    #[test]
    fn utf32_is_decoded() {
        // UCS-4 exists in feedparser's corpus; encoding_rs does not do it, so we do.
        let doc = "<?xml version=\"1.0\"?><feed>x</feed>";
        let be: Vec<u8> = doc
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        assert_eq!(to_utf8(&be, None).text, doc);
    }

    #[test]
    fn http_charset_beats_declaration_and_utf8_beats_a_legacy_label() {
        // RFC 3023 order, and valid UTF-8 under a latin-1 label is mislabelled UTF-8.
        let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><t>\xe9</t>";
        let decoded = to_utf8(body, Some("text/xml; charset=\"iso-8859-1\""));
        assert!(decoded.text.contains("<t>\u{e9}</t>"));
        assert_eq!(decoded.source, Source::Http);
        let body = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><t>\u{e9}</t>";
        let decoded = to_utf8(body.as_bytes(), None);
        assert!(decoded.text.contains("<t>\u{e9}</t>"));
    }

    #[test]
    fn html_entities_become_numeric_outside_cdata() {
        // `&nbsp;` is undefined in XML; CDATA and XML's own entities must stay as they are.
        let text = "<t>a&nbsp;b &amp; &eacute; &bogus; & x</t><![CDATA[&nbsp;]]><!-- &copy; -->";
        assert_eq!(
            html_entities_to_numeric(text),
            "<t>a&#160;b &amp; &#233; &bogus; & x</t><![CDATA[&nbsp;]]><!-- &copy; -->"
        );
        assert!(matches!(
            html_entities_to_numeric("<a>&amp;</a>"),
            Cow::Borrowed(_)
        ));
    }
}
