//! The gold set: the annotated items `parley eval` and `parley train` read, and the checks
//! that catch annotation typos before they skew a figure.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::facts::{ItemFacts, pairs_of};
use crate::error::Error;

/// One annotated item of a gold file: the extraction input plus what a careful reader finds.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldItem {
    // Other keys of a gold line (`url`, `title`: where and under which headline the text was
    // published; an interaction's `source`/`target`: informative, not scored) are read by
    // people and ignored here.
    /// Item id (string or number), echoed in error messages.
    #[serde(default)]
    pub id: Option<Value>,
    /// Body text.
    pub text: String,
    /// Publication date (RFC 3339 or YYYY-MM-DD); dated roles resolve against it.
    #[serde(default)]
    pub published: Option<String>,
    /// Actor ids named (directly or via a role, pronoun or demonym) in the item.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// Actor ids the guide leaves open (an organisation named only inside a title or another
    /// organisation's name): predicting them neither rewards nor penalises.
    #[serde(default)]
    pub optional_mentions: Vec<String>,
    /// The interactions between tracked actors that the item reports.
    #[serde(default)]
    pub interactions: Vec<GoldInteraction>,
}

/// One gold interaction: who (as a set), what, and whether it happened.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldInteraction {
    /// The actors involved (at least two); order does not matter.
    pub actors: Vec<String>,
    /// A PLOVER type name ("consult") or "statement".
    #[serde(rename = "type")]
    pub event_type: String,
    /// occurred | planned | denied | hypothetical.
    #[serde(default = "occurred")]
    pub status: String,
    /// A case a reasonable annotator could code either way (the guide's "at most
    /// optional"): predicting it neither rewards nor penalises.
    #[serde(default)]
    pub optional: bool,
}

fn occurred() -> String {
    "occurred".to_string()
}

/// The four statuses an interaction may have; anything else in a gold file is a typo.
pub const STATUSES: [&str; 4] = ["occurred", "planned", "denied", "hypothetical"];

/// Errors in a gold item's annotation (caught before scoring so typos do not skew figures).
pub fn validate(item: &GoldItem) -> Result<(), String> {
    for i in &item.interactions {
        if i.actors.len() < 2 {
            return Err(format!(
                "interaction {:?} names fewer than two actors",
                i.actors
            ));
        }
        if !STATUSES.contains(&i.status.as_str()) {
            return Err(format!("unknown status {:?}", i.status));
        }
        if i.event_type != "statement" && i.event_type.parse::<crate::plover::PloverType>().is_err()
        {
            return Err(format!("unknown type {:?}", i.event_type));
        }
        for a in &i.actors {
            if !item.mentions.contains(a) && !item.optional_mentions.contains(a) {
                return Err(format!(
                    "interaction actor {a:?} is not in the item's mentions"
                ));
            }
        }
    }
    Ok(())
}

/// The gold facts of one item.
pub fn gold_facts(item: &GoldItem) -> ItemFacts {
    let mut facts = BTreeSet::new();
    let mut optional = BTreeSet::new();
    for i in &item.interactions {
        let into = if i.optional {
            &mut optional
        } else {
            &mut facts
        };
        pairs_of(&i.actors, &i.event_type, &i.status, into);
    }
    ItemFacts {
        mentions: item.mentions.iter().cloned().collect(),
        facts,
        optional_mentions: item.optional_mentions.iter().cloned().collect(),
        optional,
    }
}

/// Reads a gold file (JSON Lines; blank lines skipped). Errors name the line.
pub fn read_gold(path: &Path) -> Result<Vec<GoldItem>, Error> {
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut items = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), index + 1);
        let item: GoldItem =
            serde_json::from_str(&line).map_err(|e| Error::Input(format!("{}: {e}", at())))?;
        validate(&item).map_err(|e| Error::Input(format!("{}: {e}", at())))?;
        items.push(item);
    }
    Ok(items)
}
