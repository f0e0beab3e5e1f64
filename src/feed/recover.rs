//! Tolerant reading of feed XML: what feedparser's loose mode does for broken feeds, built on
//! quick-xml's own lenient settings rather than a hand-written tokenizer.
//!
//! quick-xml already reads past the usual breakage when asked to: `allow_dangling_amp` keeps
//! a bare `&` as text, `check_end_names = false` and `allow_unmatched_ends` let a misspelled or
//! stray closing tag through. What is left here is the tree policy:
//! - a closing tag that matches an open element closes it and everything opened inside it
//!   (`<item><title>x</item>`); one that matches nothing (`</titel>`) is skipped;
//! - entity references resolve as XML's five, numeric references, or HTML5's named entities
//!   (`&nbsp;` in an XML feed); an unknown one stays as written;
//! - the document ends cleanly at truncation or at a syntax error the reader cannot pass:
//!   every open element is closed, except an `item`/`entry` that was cut, which is dropped so
//!   a half-written item never becomes an article.
//!
//! An HTML5 tokenizer (html5ever) was the other candidate; it lower-cases names and treats
//! `<link>` as a void element, which loses every RSS link, so it does not fit feeds.
//!
//! The tree is then written back as well-formed XML for feed-rs ([`to_xml`]) or walked
//! directly for the legacy formats (see `legacy`).

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// One element of the tolerant tree.
#[derive(Debug, Clone, Default)]
pub(super) struct Element {
    /// The name as written, prefix included (`dc:title`).
    pub name: String,
    /// The namespace URI its prefix (or the default namespace) resolves to.
    pub ns: Option<String>,
    /// Attributes as written (names) with values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Children in document order.
    pub children: Vec<Node>,
    /// False when the document ended before this element's end tag.
    pub complete: bool,
}

/// A child of an element.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// A child element.
    Element(Element),
    /// Character data, unescaped (CDATA included).
    Text(String),
}

/// What the reader had to repair; all zero for a well-formed document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Repairs {
    /// Bare `&`, HTML named entities and unknown entity references.
    pub entities: usize,
    /// Elements closed by an ancestor's end tag, or at the end of the document.
    pub closed: usize,
    /// End tags that matched no open element.
    pub skipped_ends: usize,
    /// Items or entries dropped because the document ended inside them.
    pub cut_items: usize,
    /// The document ended early (truncation, or a syntax error the reader cannot pass).
    pub truncated: bool,
    /// Start tags ignored because they were nested deeper than [`MAX_DEPTH`].
    pub too_deep: usize,
}

/// Deepest nesting kept. Walking, writing and dropping the tree recurse, and a stack overflow
/// aborts the process (no panic guard catches it); real feeds nest a dozen levels at most.
pub(super) const MAX_DEPTH: usize = 256;

impl Repairs {
    /// Whether anything at all was repaired.
    pub fn any(&self) -> bool {
        *self != Repairs::default()
    }
}

impl Element {
    /// The local name (after any prefix).
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// An attribute's value by its name as written.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The concatenated text of this element's direct text children.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            if let Node::Text(t) = child {
                out.push_str(t);
            }
        }
        out
    }

    /// The element's content as XML (children serialised, text escaped): inline XHTML.
    pub fn inner_xml(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            write_node(child, &mut out);
        }
        out
    }
}

/// A tolerant parse: the document node (its children are the top-level elements) and what
/// was repaired on the way.
pub(super) struct Tree {
    /// Synthetic document element; `children` holds the root element.
    pub document: Element,
    /// Repairs made while reading.
    pub repairs: Repairs,
}

impl Tree {
    /// The document's root element, if it has one.
    pub fn root(&self) -> Option<&Element> {
        self.document.elements().next()
    }
}

/// Reads `text` into a tree, never failing (see the module documentation).
pub(super) fn read(text: &str) -> Tree {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.allow_dangling_amp = true;
    config.allow_unmatched_ends = true;
    config.check_end_names = false;
    config.check_comments = false;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut repairs = Repairs::default();
    // stack[0] is the document; each open element follows, with its namespace scope.
    let mut stack: Vec<Element> = vec![Element {
        complete: true,
        ..Element::default()
    }];
    let mut scopes: Vec<Vec<(String, String)>> = vec![vec![(
        "xml".to_string(),
        "http://www.w3.org/XML/1998/namespace".to_string(),
    )]];
    let mut last_position = u64::MAX;
    loop {
        let event = reader.read_event();
        let position = reader.buffer_position();
        match event {
            Ok(Event::Start(_)) if stack.len() > MAX_DEPTH => repairs.too_deep += 1,
            Ok(Event::Start(start)) => {
                let (element, scope) = open(&start, &scopes, &mut repairs);
                stack.push(element);
                scopes.push(scope);
            }
            Ok(Event::Empty(_)) if stack.len() > MAX_DEPTH => repairs.too_deep += 1,
            Ok(Event::Empty(start)) => {
                let (mut element, _) = open(&start, &scopes, &mut repairs);
                element.complete = true;
                push_child(&mut stack, Node::Element(element));
            }
            Ok(Event::End(end)) => {
                let name = end.name().0.to_string();
                let name = name.trim();
                match stack.iter().skip(1).rposition(|e| e.name == name) {
                    Some(found) => {
                        let depth = found + 1;
                        while stack.len() > depth {
                            let mut element = stack.pop().expect("deeper than depth");
                            scopes.pop();
                            if stack.len() > depth {
                                repairs.closed += 1;
                            }
                            element.complete = true;
                            push_child(&mut stack, Node::Element(element));
                        }
                    }
                    // A misspelling of the innermost open element's name (`</titel>` for
                    // `</title>`) closes it; any other stray end tag is skipped.
                    None if stack.len() > 1 && near(&stack[stack.len() - 1].name, name) => {
                        repairs.skipped_ends += 1;
                        let mut element = stack.pop().expect("open element");
                        scopes.pop();
                        element.complete = true;
                        push_child(&mut stack, Node::Element(element));
                    }
                    None => repairs.skipped_ends += 1,
                }
            }
            Ok(Event::Text(text)) => {
                let raw: &str = &text;
                // With `allow_dangling_amp`, a `&` left in raw text is a bare one.
                repairs.entities += raw.matches('&').count();
                push_text(&mut stack, raw);
            }
            Ok(Event::CData(data)) => {
                push_text(&mut stack, &data);
            }
            Ok(Event::GeneralRef(reference)) => {
                let name = reference.to_string();
                let resolved = resolve_entity(&name, &mut repairs.entities);
                push_text(&mut stack, &resolved);
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => {
                if stack.len() > 1 || stack[0].children.is_empty() {
                    repairs.truncated = true;
                }
                // quick-xml moves past most errors; stop when it does not, or at the root's end.
                if position == last_position || stack.len() == 1 {
                    break;
                }
            }
        }
        last_position = position;
    }
    // Close what is still open; a cut item or entry is dropped, not half-kept.
    while stack.len() > 1 {
        let element = stack.pop().expect("non-empty");
        repairs.closed += 1;
        repairs.truncated = true;
        if is_item(&element) {
            repairs.cut_items += 1;
            continue;
        }
        push_child(&mut stack, Node::Element(element));
    }
    Tree {
        document: stack.pop().expect("document"),
        repairs,
    }
}

/// Whether two tag names are one or two edits apart (a typo), by Levenshtein distance.
fn near(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 || b.len() > 64 {
        return false;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()] <= 2
}

fn is_item(element: &Element) -> bool {
    matches!(element.local(), "item" | "entry")
}

/// Builds an element from a start tag, with its namespace scope.
fn open(
    start: &BytesStart<'_>,
    scopes: &[Vec<(String, String)>],
    repairs: &mut Repairs,
) -> (Element, Vec<(String, String)>) {
    let name = start.name().0.to_string();
    let mut attrs = Vec::new();
    for attribute in start.attributes().with_checks(false) {
        let Ok(attribute) = attribute else {
            // An attribute the reader cannot split (unquoted value, stray quote): keep the
            // ones before it.
            repairs.entities += 1;
            break;
        };
        let key = attribute.key.0.to_string();
        let raw: &str = &attribute.value;
        attrs.push((key, unescape_lenient(raw, &mut repairs.entities)));
    }
    let scope: Vec<(String, String)> = attrs
        .iter()
        .filter_map(|(k, v)| {
            if k == "xmlns" {
                Some((String::new(), v.clone()))
            } else {
                k.strip_prefix("xmlns:").map(|p| (p.to_string(), v.clone()))
            }
        })
        .collect();
    let prefix = name.split_once(':').map_or("", |(p, _)| p);
    let ns = scope
        .iter()
        .rev()
        .chain(scopes.iter().rev().flat_map(|s| s.iter().rev()))
        .find(|(p, _)| p == prefix)
        .map(|(_, uri)| uri.clone())
        .filter(|uri| !uri.is_empty());
    (
        Element {
            name,
            ns,
            attrs,
            children: Vec::new(),
            complete: false,
        },
        scope,
    )
}

fn push_child(stack: &mut [Element], node: Node) {
    stack.last_mut().expect("document").children.push(node);
}

fn push_text(stack: &mut [Element], text: &str) {
    let top = stack.last_mut().expect("document");
    if let Some(Node::Text(previous)) = top.children.last_mut() {
        previous.push_str(text);
    } else {
        top.children.push(Node::Text(text.to_string()));
    }
}

/// `&name;` (without `&` and `;`) as text: XML's five, numeric references, HTML5's names;
/// anything else stays as written.
fn resolve_entity(name: &str, repairs: &mut usize) -> String {
    if let Some(number) = name.strip_prefix('#') {
        let value = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse().ok(),
        };
        if let Some(c) = value.and_then(char::from_u32).filter(|c| *c != '\0') {
            return c.to_string();
        }
    } else if let Some(text) = xml_entity(name) {
        return text.to_string();
    } else if let Some(text) = quick_xml::escape::resolve_html5_entity(name) {
        *repairs += 1;
        return text.to_string();
    }
    *repairs += 1;
    format!("&{name};")
}

/// XML's five predefined entities (quick-xml's `resolve_predefined_entity` also takes HTML's
/// names when its `escape-html` feature is on, which would hide those repairs).
fn xml_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

/// Unescapes an attribute value the way [`read`] treats text: bare `&` kept, HTML5 names
/// resolved, unknown references kept as written.
fn unescape_lenient(raw: &str, repairs: &mut usize) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let name_len = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(rest.len() - 1);
        if name_len > 0 && rest[1 + name_len..].starts_with(';') {
            out.push_str(&resolve_entity(&rest[1..1 + name_len], repairs));
            rest = &rest[name_len + 2..];
        } else {
            *repairs += 1;
            out.push('&');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The tree as well-formed XML (UTF-8, no declaration), for feed-rs.
pub(super) fn to_xml(tree: &Tree) -> String {
    let mut out = String::new();
    for child in &tree.document.children {
        if let Node::Element(_) = child {
            write_node(child, &mut out);
        }
    }
    out
}

fn write_node(node: &Node, out: &mut String) {
    match node {
        Node::Text(text) => out.push_str(&quick_xml::escape::escape(text.as_str())),
        Node::Element(element) => {
            out.push('<');
            out.push_str(&element.name);
            for (key, value) in &element.attrs {
                out.push(' ');
                out.push_str(key);
                out.push_str("=\"");
                out.push_str(&quick_xml::escape::escape(value.as_str()));
                out.push('"');
            }
            if element.children.is_empty() {
                out.push_str("/>");
                return;
            }
            out.push('>');
            for child in &element.children {
                write_node(child, out);
            }
            out.push_str("</");
            out.push_str(&element.name);
            out.push('>');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(tree: &Tree) -> Vec<String> {
        fn walk(e: &Element, out: &mut Vec<String>) {
            if e.local() == "title" {
                out.push(e.text());
            }
            for c in e.elements() {
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        walk(&tree.document, &mut out);
        out
    }

    #[test]
    fn well_formed_documents_need_no_repairs() {
        // The flag "recovered" must not be raised on a clean feed.
        let tree = read(
            "<?xml version=\"1.0\"?><rss><channel><item><title>A &amp; B &#8217;</title></item></channel></rss>",
        );
        assert_eq!(tree.repairs, Repairs::default());
        assert_eq!(titles(&tree), ["A & B \u{2019}"]);
    }

    #[test]
    fn bare_ampersands_and_html_entities_are_text() {
        // The two commonest breakages in real feeds: neither may lose the item.
        let tree = read("<rss><item><title>AT&T &nbsp;&bogus; caf&eacute;</title></item></rss>");
        assert_eq!(titles(&tree), ["AT&T \u{a0}&bogus; caf\u{e9}"]);
        assert_eq!(tree.repairs.entities, 4);
    }

    #[test]
    fn misspelled_and_mismatched_end_tags() {
        // `</titel>` is skipped; `</item>` closes the title it left open.
        let tree =
            read("<rss><item><title>One</titel></item><item><title>Two</title></item></rss>");
        assert_eq!(titles(&tree), ["One", "Two"]);
        assert_eq!(tree.repairs.skipped_ends, 1);
        assert!(to_xml(&tree).contains("<title>One</title></item>"));
        // A stray end tag that is no typo of the open one closes nothing; an ancestor's end
        // tag closes what was left open inside it.
        let tree = read("<rss><item><title>A</bogus><guid>g</guid></item></rss>");
        assert_eq!(tree.repairs.skipped_ends, 1);
        assert_eq!(tree.repairs.closed, 1);
        assert!(
            to_xml(&tree).contains("<title>A<guid>g</guid></title></item>"),
            "{}",
            to_xml(&tree)
        );
        let tree = read("<rss><item><title>A</titel><guid>g</guid></item></rss>");
        assert!(to_xml(&tree).contains("<title>A</title><guid>g</guid>"));
    }

    #[test]
    fn truncation_keeps_complete_items_only() {
        // A cut document keeps what was whole and drops the item it ended in.
        let tree = read("<rss><channel><item><title>One</title></item><item><title>Tw");
        assert_eq!(titles(&tree), ["One"]);
        assert!(tree.repairs.truncated);
        assert_eq!(tree.repairs.cut_items, 1);
        assert_eq!(
            to_xml(&tree),
            "<rss><channel><item><title>One</title></item></channel></rss>"
        );
    }

    #[test]
    fn hostile_nesting_is_capped_not_a_stack_overflow() {
        // Writing and dropping the tree recurse; a million nested tags must not abort.
        let deep = format!("<rss>{}", "<a>".repeat(1_000_000));
        let tree = read(&deep);
        assert_eq!(tree.repairs.too_deep, 1_000_000 - MAX_DEPTH + 1);
        assert!(to_xml(&tree).len() < 10 * MAX_DEPTH);
    }

    #[test]
    fn namespaces_resolve_through_scopes() {
        // The legacy walker matches on namespace URIs, not prefixes.
        let tree = read(
            "<r:RDF xmlns:r=\"urn:r\" xmlns=\"urn:d\"><item><dc:title xmlns:dc=\"urn:dc\">t</dc:title></item></r:RDF>",
        );
        let root = tree.root().unwrap();
        assert_eq!(root.ns.as_deref(), Some("urn:r"));
        let item = root.elements().next().unwrap();
        assert_eq!(item.ns.as_deref(), Some("urn:d"));
        assert_eq!(
            item.elements().next().unwrap().ns.as_deref(),
            Some("urn:dc")
        );
    }
}
