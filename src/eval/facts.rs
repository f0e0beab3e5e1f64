//! What one item yields, gold or predicted, in the shape the measures compare: mentions and
//! pair facts. Predictions are read from the extraction's JSON (see the module docs of
//! `eval` for which fields are used), so the scorer keeps up as the output grows.

use std::collections::BTreeSet;

use serde_json::Value;

/// An unordered actor pair, stored sorted so `{a, b}` and `{b, a}` compare equal.
pub type Pair = (String, String);

/// A scorable interaction: one actor pair with its type and status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PairFact {
    /// The sorted pair.
    pub pair: Pair,
    /// Type name (PLOVER or "statement").
    pub event_type: String,
    /// Status name.
    pub status: String,
}

/// What one item yields, gold or predicted, in the shape the measures compare.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemFacts {
    /// Actor ids mentioned.
    pub mentions: BTreeSet<String>,
    /// Every pair fact, whatever its status (gold: the non-optional ones).
    pub facts: BTreeSet<PairFact>,
    /// Gold only: actors whose mention is optional.
    pub optional_mentions: BTreeSet<String>,
    /// Gold only: the pair facts of optional interactions.
    pub optional: BTreeSet<PairFact>,
}

/// The category of a gold item, as the report splits them: the kinds of text an extractor
/// has to get right for different reasons (relate, refrain from relating, find, stay quiet).
pub fn category(gold: &ItemFacts) -> &'static str {
    if gold.facts.iter().any(|f| f.status == "occurred") {
        "interaction"
    } else if gold.mentions.len() >= 2 {
        "co-mention"
    } else if gold.mentions.len() == 1 {
        "single actor"
    } else {
        "no actor"
    }
}

/// The categories in print order.
pub const CATEGORIES: [&str; 4] = ["interaction", "co-mention", "single actor", "no actor"];

pub(super) fn pair(a: &str, b: &str) -> Pair {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

/// Every pair fact of an actor set (duplicates dropped, self-pairs skipped).
pub(super) fn pairs_of(
    actors: &[String],
    event_type: &str,
    status: &str,
    out: &mut BTreeSet<PairFact>,
) {
    let set: BTreeSet<&String> = actors.iter().collect();
    let v: Vec<&String> = set.into_iter().collect();
    for i in 0..v.len() {
        for j in i + 1..v.len() {
            out.insert(PairFact {
                pair: pair(v[i], v[j]),
                event_type: event_type.to_string(),
                status: status.to_string(),
            });
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                // A richer output may give actors as objects with an `id`.
                Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Types whose actors all act together: every actor of such an interaction is related to
/// every other ("X and Y met Z" is a three-way meeting). In every other type one side acts
/// on the other, and actors on the same side are co-agents, not related by it ("X and Y
/// accused Z" relates X-Z and Y-Z, not X-Y), which is how the gold set annotates them.
const JOINT_TYPES: [&str; 3] = ["consult", "agree", "cooperate"];

/// The pair facts of one interaction-like JSON object, if it is typed, with every actor it
/// names. A directed interaction with both a source and a target gives source × target
/// pairs (plus its participants' pairs with everyone); any other gives all pairs.
fn interaction_of(v: &Value, out: &mut BTreeSet<PairFact>) -> Option<Vec<String>> {
    let ty = v.get("type").and_then(Value::as_str)?.to_string();
    let source = strings(v.get("source"));
    let target = strings(v.get("target"));
    let participants = strings(v.get("participants"));
    let status = v
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("occurred")
        .to_string();
    let mut actors: Vec<String> = source
        .iter()
        .chain(&target)
        .chain(&participants)
        .cloned()
        .collect();
    if actors.is_empty() {
        actors = strings(v.get("actors"));
    }
    if JOINT_TYPES.contains(&ty.as_str()) || source.is_empty() || target.is_empty() {
        pairs_of(&actors, &ty, &status, out);
    } else {
        for a in &source {
            for b in target.iter().chain(&participants) {
                pairs_of(&[a.clone(), b.clone()], &ty, &status, out);
            }
        }
        for b in &target {
            for p in &participants {
                pairs_of(&[b.clone(), p.clone()], &ty, &status, out);
            }
        }
        pairs_of(&participants, &ty, &status, out);
    }
    Some(actors)
}

/// The predicted facts of one extraction, read from its JSON (see the module docs for which
/// fields are used).
pub fn predicted_facts(extraction: &Value) -> ItemFacts {
    let mut mentions: BTreeSet<String> = strings(extraction.get("actors")).into_iter().collect();
    let mut facts = BTreeSet::new();
    let list = extraction
        .get("interactions")
        .and_then(Value::as_array)
        .or_else(|| extraction.get("events").and_then(Value::as_array));
    for v in list.into_iter().flatten() {
        // An event may list every interaction of its sentence; then those are the predictions
        // (a sentence can report several, and an interaction with one side is not a pair).
        let nested = v.get("interactions").and_then(Value::as_array);
        let items: Vec<&Value> = match nested {
            Some(list) => list.iter().collect(),
            None => vec![v],
        };
        for item in items {
            if let Some(actors) = interaction_of(item, &mut facts) {
                mentions.extend(actors);
            }
        }
    }
    ItemFacts {
        mentions,
        facts,
        ..ItemFacts::default()
    }
}
