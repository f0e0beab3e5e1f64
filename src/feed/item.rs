//! The format-neutral feed item. Both readers produce it (feed-rs entries in `parse`, the
//! legacy walker in `legacy`) and `parse` turns it into an article; it sits below both so the
//! legacy walker does not import `parse`, which calls it.

use chrono::{DateTime, Utc};

/// A feed's item, normalised to what `parse::to_article` needs, whichever reader found it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Item {
    /// The guid (RSS), id (Atom) or `rdf:about` (RDF), as given.
    pub guid: Option<String>,
    /// Plain-text title, one line.
    pub title: String,
    /// The article's own page.
    pub link: Option<String>,
    /// Published, else updated.
    pub published: Option<DateTime<Utc>>,
    /// Summary as plain paragraphs.
    pub summary: Option<String>,
    /// Content as plain paragraphs.
    pub content: Option<String>,
}
