//! `parley eval`: measured extraction quality against an annotated gold set.
//!
//! Why it exists: an analyst trusts an extractor only as far as its numbers on text like the
//! news it reads, and a regression in the lexicon or the actor matcher must fail CI instead of
//! quietly degrading alerts. The gold format is the `parley extract` input (`id`, `title`,
//! `text`, `published`, optionally `url`) plus the annotations of the annotation guide
//! (shared/annotation-guide.md): `mentions` (the actor ids the text names),
//! `optional_mentions` (cases the guide leaves open), and `interactions` (actor set, PLOVER
//! type or `statement`, status, optionally source/target, `optional`).
//!
//! The measures follow the guide's scoring, pooled (micro) across all items:
//! - **mentions**: `(item, actor)`; a predicted actor that is only optional in the item
//!   neither counts for nor against;
//! - **pairs**: `(item, {a, b})` of the interactions reported as having happened: gold
//!   interactions with status `occurred` that are not `optional`, predicted ones whose status
//!   is `occurred`. An interaction of n actors stands for its n·(n−1)/2 pairs; a predicted
//!   directed interaction (any type but consult/agree/cooperate, with both a source and a
//!   target) stands for its source × target pairs. A predicted pair that the item only has
//!   as optional is dropped (neither reward nor penalty); a gold pair that is planned, denied
//!   or hypothetical is not gold, so reporting it as occurred is a false positive;
//! - **typed**: `(item, {a, b}, type)`, the same way;
//! - **status**: accuracy over the gold interactions (every status, not optional) whose pair
//!   the system reported with any status: right when the predicted status of that pair (of
//!   the same type when the system has it) is the gold one.
//!
//! Besides the totals, the report splits the items by category (an item with an occurred
//! interaction, a co-mention of two or more actors without one, a single actor, no actor)
//! and gives a confusion table of types over gold typed pairs (`none` = not reported).
//!
//! Predictions are read from the extraction's JSON (the shape `parley extract` prints), not
//! from its Rust types, so the scorer keeps working as the output grows: it uses the richest
//! fields present (a top-level `interactions` list, else each event's own `interactions`
//! list, else the event itself; of each, `source` + `target` + `participants` when any is
//! non-empty, else `actors`; `status` when present, else `occurred`). Only typed entries
//! count as interactions.
//!
//! Scoring is pure (this module's functions take values and return numbers); [`run`] is the
//! command around it.
//!
//! One job per file: `gold` (the annotated items and their checks), `facts` (gold and
//! predicted facts of one item), `measures` (the guide's measures and their sums), `report`
//! (their tables and JSON), `errors` (the breakdown by cause) and `train` (`parley train`).

mod errors;
mod facts;
mod gold;
mod measures;
mod report;
mod train;

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::cli::parse_time;
use crate::config;
use crate::error::Error;
use crate::extract::{Document, Extractor};

pub use errors::Breakdown;
use errors::error_classes;
pub use facts::predicted_facts;
pub use gold::{GoldItem, gold_facts, read_gold};
pub use measures::{Evaluation, Floors};
pub use train::train;

/// The extraction of one gold item. The title is not sent: by the annotation guide it is
/// metadata, and mentions and interactions refer to `text` only.
pub fn extract_item(extractor: &Extractor, item: &GoldItem) -> crate::extract::Extraction {
    let date = item
        .published
        .as_deref()
        .and_then(parse_time)
        .map(|d| d.date_naive());
    extractor.extract(&Document {
        title: "",
        text: &item.text,
        date,
    })
}

/// [`score`] with categories, confusion and the error breakdown.
pub fn score_with_errors(
    extractor: &Extractor,
    items: &[GoldItem],
) -> Result<(Evaluation, Breakdown), Error> {
    let mut eval = Evaluation::default();
    let mut errors = Breakdown::default();
    for item in items {
        let extraction = extract_item(extractor, item);
        let json = serde_json::to_value(&extraction).map_err(|e| Error::Input(e.to_string()))?;
        let (gold, pred) = (gold_facts(item), predicted_facts(&json));
        for (class, id) in error_classes(item, &gold, &pred) {
            errors.classes.entry(class).or_default().push(id);
        }
        eval.add(&gold, &pred);
    }
    Ok((eval, errors))
}

/// `parley eval`: extracts every gold item with the config's actors (and interaction model),
/// prints the report (tables or one JSON object) and fails (exit 1) when a measure is below
/// its floor.
pub fn run(
    config_path: &Path,
    gold: &Path,
    json: bool,
    floors: &Floors,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let config = config::load(config_path)?;
    let extractor = crate::pipeline::shipped(&config)?;
    let items = read_gold(gold)?;
    let (eval, errors) = score_with_errors(&extractor, &items)?;
    let text = if json {
        let mut v = eval.to_json();
        if let Value::Object(o) = &mut v {
            o.insert("errors".into(), errors.to_json());
        }
        format!("{v}\n")
    } else {
        format!(
            "{}\n{}\n{}",
            eval.total.table(),
            eval.details(),
            errors.table()
        )
    };
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        path: "<stdout>".into(),
        source,
    })?;
    let below = eval.total.below(floors);
    if below.is_empty() {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "{}: below the floor: {}",
            gold.display(),
            below.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests;
