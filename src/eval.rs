//! `parley eval`: measured extraction quality against an annotated gold set.
//!
//! Why it exists: an analyst trusts an extractor only as far as its numbers on text like the
//! news it reads, and a regression in the lexicon or the actor matcher must fail CI instead of
//! quietly degrading alerts. The gold format is the `parley extract` input (`id`, `title`,
//! `text`, `published`) plus two annotations: `mentions` (the actor ids named in the item) and
//! `interactions` (actor set, PLOVER type or `statement`, status, optionally source/target).
//!
//! Four measures, each as precision / recall / F1 over sets pooled across all items:
//! - **mentions**: `(item, actor)`;
//! - **pairs**: `(item, {a, b})`, the unordered actor pairs of every interaction (an
//!   interaction of n actors stands for its n·(n−1)/2 pairs; a predicted directed
//!   interaction, any type but consult/agree/cooperate with both a source and a target,
//!   stands for its source × target pairs: co-agents are not related by what they do
//!   together to someone else);
//! - **typed**: `(item, {a, b}, type)`;
//! - **status**: `(item, {a, b}, status)`.
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

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::commands::parse_time;
use crate::config;
use crate::error::Error;
use crate::extract::{Document, Extractor};

/// One annotated item of a gold file: the extraction input plus what a careful reader finds.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldItem {
    /// Item id (string or number), echoed in error messages.
    #[serde(default)]
    pub id: Option<Value>,
    /// Headline; extracted as sentence 0 like in `parley extract`.
    #[serde(default)]
    pub title: Option<String>,
    /// Body text.
    pub text: String,
    /// Publication date (RFC 3339 or YYYY-MM-DD); dated roles resolve against it.
    #[serde(default)]
    pub published: Option<String>,
    /// Actor ids named (directly or via a role, pronoun or demonym) in the item.
    #[serde(default)]
    pub mentions: Vec<String>,
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
    /// Who acts, when the sentence says (informative; not scored yet).
    #[serde(default)]
    pub source: Option<Vec<String>>,
    /// Who is acted on (informative; not scored yet).
    #[serde(default)]
    pub target: Option<Vec<String>>,
}

fn occurred() -> String {
    "occurred".to_string()
}

/// The four statuses an interaction may have; anything else in a gold file is a typo.
pub const STATUSES: [&str; 4] = ["occurred", "planned", "denied", "hypothetical"];

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
    /// Every pair fact.
    pub facts: BTreeSet<PairFact>,
}

/// True-positive, false-positive and false-negative counts of one measure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// In both gold and prediction.
    pub tp: usize,
    /// Predicted, not in gold.
    pub fp: usize,
    /// In gold, not predicted.
    pub fn_: usize,
}

impl Counts {
    /// Adds the comparison of one item's gold and predicted sets.
    pub fn add<T: Ord>(&mut self, gold: &BTreeSet<T>, pred: &BTreeSet<T>) {
        let tp = gold.intersection(pred).count();
        self.tp += tp;
        self.fp += pred.len() - tp;
        self.fn_ += gold.len() - tp;
    }

    /// tp / (tp + fp); 1.0 when nothing was predicted (no false claims were made).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// tp / (tp + fn); 1.0 when the gold set is empty (nothing was missed).
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall; 0.0 when both are 0.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// The four measures over a whole gold set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Number of items scored.
    pub items: usize,
    /// `(item, actor)`.
    pub mentions: Counts,
    /// `(item, pair)`.
    pub pairs: Counts,
    /// `(item, pair, type)`.
    pub typed: Counts,
    /// `(item, pair, status)`.
    pub status: Counts,
}

impl Report {
    /// Adds one item's gold and predicted facts to every measure.
    pub fn add(&mut self, gold: &ItemFacts, pred: &ItemFacts) {
        self.items += 1;
        self.mentions.add(&gold.mentions, &pred.mentions);
        let project = |f: &ItemFacts, k: fn(&PairFact) -> PairFact| -> BTreeSet<PairFact> {
            f.facts.iter().map(k).collect()
        };
        let pair_only = |p: &PairFact| PairFact {
            pair: p.pair.clone(),
            event_type: String::new(),
            status: String::new(),
        };
        let with_type = |p: &PairFact| PairFact {
            status: String::new(),
            ..p.clone()
        };
        let with_status = |p: &PairFact| PairFact {
            event_type: String::new(),
            ..p.clone()
        };
        self.pairs
            .add(&project(gold, pair_only), &project(pred, pair_only));
        self.typed
            .add(&project(gold, with_type), &project(pred, with_type));
        self.status
            .add(&project(gold, with_status), &project(pred, with_status));
    }

    /// The measures by name, in print order.
    pub fn measures(&self) -> [(&'static str, Counts); 4] {
        [
            ("mentions", self.mentions),
            ("pairs", self.pairs),
            ("typed", self.typed),
            ("status", self.status),
        ]
    }

    /// A plain-text table, one measure a line.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{} items\n{:<9} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6}\n",
            self.items, "measure", "precision", "recall", "f1", "tp", "fp", "fn"
        );
        for (name, c) in self.measures() {
            s.push_str(&format!(
                "{:<9} {:>9.3} {:>9.3} {:>9.3} {:>6} {:>6} {:>6}\n",
                name,
                c.precision(),
                c.recall(),
                c.f1(),
                c.tp,
                c.fp,
                c.fn_
            ));
        }
        s
    }

    /// The report as one JSON object: `{items, mentions: {precision, recall, f1, tp, fp, fn}, ...}`.
    pub fn to_json(&self) -> Value {
        let mut obj = serde_json::Map::new();
        obj.insert("items".into(), self.items.into());
        for (name, c) in self.measures() {
            obj.insert(
                name.into(),
                serde_json::json!({
                    "precision": c.precision(),
                    "recall": c.recall(),
                    "f1": c.f1(),
                    "tp": c.tp, "fp": c.fp, "fn": c.fn_,
                }),
            );
        }
        Value::Object(obj)
    }

    /// The measures whose F1 is below its floor, as "name f1 < floor" strings.
    pub fn below(&self, floors: &Floors) -> Vec<String> {
        let pairs = [
            ("mentions", self.mentions, floors.mentions),
            ("pairs", self.pairs, floors.pairs),
            ("typed", self.typed, floors.typed),
            ("status", self.status, floors.status),
        ];
        pairs
            .into_iter()
            .filter_map(|(name, c, floor)| {
                let floor = floor?;
                (c.f1() < floor).then(|| format!("{name} F1 {:.3} < floor {floor}", c.f1()))
            })
            .collect()
    }
}

/// Minimum F1 per measure; `None` means not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Floors {
    /// Floor for mention F1.
    pub mentions: Option<f64>,
    /// Floor for pair F1.
    pub pairs: Option<f64>,
    /// Floor for pair + type F1.
    pub typed: Option<f64>,
    /// Floor for pair + status F1.
    pub status: Option<f64>,
}

fn pair(a: &str, b: &str) -> Pair {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

/// Every pair fact of an actor set (duplicates dropped, self-pairs skipped).
fn pairs_of(actors: &[String], event_type: &str, status: &str, out: &mut BTreeSet<PairFact>) {
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
            if !item.mentions.contains(a) {
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
    for i in &item.interactions {
        pairs_of(&i.actors, &i.event_type, &i.status, &mut facts);
    }
    ItemFacts {
        mentions: item.mentions.iter().cloned().collect(),
        facts,
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
    ItemFacts { mentions, facts }
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

/// Why one scored fact is wrong, as a class name for the error breakdown. The classes say
/// which part of extraction to fix: an actor never found, a pair never related, a pair
/// related with the wrong type or status, or a relation the text does not report.
fn error_classes(item: &GoldItem, gold: &ItemFacts, pred: &ItemFacts) -> Vec<(String, String)> {
    let id = item
        .id
        .as_ref()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .unwrap_or_default();
    let mut out = Vec::new();
    let types_of = |f: &ItemFacts, p: &Pair| -> Vec<String> {
        let mut v: Vec<String> = f
            .facts
            .iter()
            .filter(|x| &x.pair == p)
            .map(|x| x.event_type.clone())
            .collect();
        v.dedup();
        v
    };
    let key = |p: &PairFact| (p.pair.clone(), p.event_type.clone());
    let gold_typed: BTreeSet<(Pair, String)> = gold.facts.iter().map(key).collect();
    let pred_typed: BTreeSet<(Pair, String)> = pred.facts.iter().map(key).collect();
    for (pair, ty) in gold_typed.difference(&pred_typed) {
        let missed = [&pair.0, &pair.1]
            .into_iter()
            .find(|a| !pred.mentions.contains(*a));
        let class = if missed.is_some() {
            format!("typed FN {ty}: an actor not found")
        } else {
            let got = types_of(pred, pair);
            if got.is_empty() {
                format!("typed FN {ty}: pair not related")
            } else {
                format!("typed FN {ty}: typed as {}", got.join("+"))
            }
        };
        out.push((class, id.clone()));
    }
    for (pair, ty) in pred_typed.difference(&gold_typed) {
        let extra = [&pair.0, &pair.1]
            .into_iter()
            .find(|a| !gold.mentions.contains(*a));
        let class = if extra.is_some() {
            format!("typed FP {ty}: an actor the text does not name")
        } else {
            let want = types_of(gold, pair);
            if !want.is_empty() {
                format!("typed FP {ty}: gold is {}", want.join("+"))
            } else if gold.facts.is_empty() {
                format!("typed FP {ty}: item has no interaction")
            } else {
                format!("typed FP {ty}: pair not related in gold")
            }
        };
        out.push((class, id.clone()));
    }
    // Status errors on pairs both sides found (missing pairs are counted above).
    for g in &gold.facts {
        let got: Vec<&str> = pred
            .facts
            .iter()
            .filter(|p| p.pair == g.pair)
            .map(|p| p.status.as_str())
            .collect();
        if !got.is_empty() && !got.contains(&g.status.as_str()) {
            out.push((
                format!("status {} read as {}", g.status, got.join("+")),
                id.clone(),
            ));
        }
    }
    for a in gold.mentions.difference(&pred.mentions) {
        out.push((format!("mention FN {a}"), id.clone()));
    }
    for a in pred.mentions.difference(&gold.mentions) {
        out.push((format!("mention FP {a}"), id.clone()));
    }
    out
}

/// The errors of a run grouped by class (see [`error_classes`]), largest class first, each
/// with the ids of the items it occurs in. Why it exists: the aggregate F1 says whether
/// extraction got better, the breakdown says where to work next, and printing it on every
/// run (CI logs included) keeps that visible instead of in a throwaway script.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Breakdown {
    /// Class name -> item ids (an id repeats when an item has the error twice).
    pub classes: std::collections::BTreeMap<String, Vec<String>>,
}

impl Breakdown {
    /// The classes, largest first (ties by name).
    pub fn sorted(&self) -> Vec<(&String, &Vec<String>)> {
        let mut v: Vec<_> = self.classes.iter().collect();
        v.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        v
    }

    /// Plain text: one line per class, count then class then up to eight item ids.
    pub fn table(&self) -> String {
        let mut s = String::from("errors by class (count, class, items):\n");
        for (class, ids) in self.sorted() {
            let shown: Vec<&str> = ids.iter().take(8).map(String::as_str).collect();
            let more = if ids.len() > 8 { " ..." } else { "" };
            s.push_str(&format!(
                "{:>4}  {class}  [{}{more}]\n",
                ids.len(),
                shown.join(" ")
            ));
        }
        s
    }

    /// JSON: `[{"class", "count", "items"}]`, largest first.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.sorted()
                .into_iter()
                .map(|(class, ids)| {
                    serde_json::json!({"class": class, "count": ids.len(), "items": ids})
                })
                .collect(),
        )
    }
}

/// Scores an extractor on gold items. Pure apart from the extractor itself (which is pure).
pub fn score(extractor: &Extractor, items: &[GoldItem]) -> Result<Report, Error> {
    score_with_errors(extractor, items).map(|(r, _)| r)
}

/// [`score`] plus the error breakdown.
pub fn score_with_errors(
    extractor: &Extractor,
    items: &[GoldItem],
) -> Result<(Report, Breakdown), Error> {
    let mut report = Report::default();
    let mut errors = Breakdown::default();
    for item in items {
        let date = item
            .published
            .as_deref()
            .and_then(parse_time)
            .map(|d| d.date_naive());
        let extraction = extractor.extract(&Document {
            title: item.title.as_deref().unwrap_or(""),
            text: &item.text,
            date,
        });
        let json = serde_json::to_value(&extraction).map_err(|e| Error::Input(e.to_string()))?;
        let (gold, pred) = (gold_facts(item), predicted_facts(&json));
        for (class, id) in error_classes(item, &gold, &pred) {
            errors.classes.entry(class).or_default().push(id);
        }
        report.add(&gold, &pred);
    }
    Ok((report, errors))
}

/// `parley eval`: extracts every gold item with the config's actors, prints the report (a table
/// or one JSON object) and fails (exit 1) when a measure is below its floor.
pub fn run(
    config_path: &Path,
    gold: &Path,
    json: bool,
    floors: &Floors,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let config = config::load(config_path)?;
    let specs: Vec<_> = config.actors.iter().map(|a| a.spec.clone()).collect();
    let extractor = Extractor::new(&specs)?;
    let items = read_gold(gold)?;
    let (report, errors) = score_with_errors(&extractor, &items)?;
    let text = if json {
        let mut v = report.to_json();
        if let Value::Object(o) = &mut v {
            o.insert("errors".into(), errors.to_json());
        }
        format!("{v}\n")
    } else {
        format!("{}\n{}", report.table(), errors.table())
    };
    out.write_all(text.as_bytes()).map_err(|source| Error::Io {
        path: "<stdout>".into(),
        source,
    })?;
    let below = report.below(floors);
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
mod tests {
    use super::*;
    use serde_json::json;

    fn gold(v: Value) -> GoldItem {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn counts_and_edge_cases() {
        // The figures must be the textbook ones, and empty sets must not divide by zero.
        let c = Counts {
            tp: 3,
            fp: 1,
            fn_: 2,
        };
        assert!((c.precision() - 0.75).abs() < 1e-9);
        assert!((c.recall() - 0.6).abs() < 1e-9);
        assert!((c.f1() - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-9);
        let empty = Counts::default();
        assert_eq!((empty.precision(), empty.recall()), (1.0, 1.0));
        let all_wrong = Counts {
            tp: 0,
            fp: 2,
            fn_: 2,
        };
        assert_eq!(all_wrong.f1(), 0.0);
    }

    #[test]
    fn pairs_are_unordered_and_groups_expand() {
        // {a,b} = {b,a}; a three-actor meeting is three pairs.
        let g = gold(json!({"text": "x", "mentions": ["c", "a", "b"],
            "interactions": [{"actors": ["c", "a", "b"], "type": "consult"}]}));
        let f = gold_facts(&g);
        let pairs: Vec<Pair> = f.facts.iter().map(|p| p.pair.clone()).collect();
        assert_eq!(
            pairs,
            [pair("a", "b"), pair("a", "c"), pair("b", "c")],
            "{f:?}"
        );
        assert!(f.facts.iter().all(|p| p.status == "occurred"));
    }

    #[test]
    fn predictions_from_spine_events() {
        // Today's output: every pair of a typed sentence event; untyped events are co-mentions.
        let x = json!({"actors": ["a", "b", "c"], "events": [
            {"actors": ["a", "b"], "type": "consult"},
            {"actors": ["b", "c"], "type": null},
        ]});
        let f = predicted_facts(&x);
        assert_eq!(f.mentions.len(), 3);
        assert_eq!(
            f.facts.into_iter().collect::<Vec<_>>(),
            [PairFact {
                pair: pair("a", "b"),
                event_type: "consult".into(),
                status: "occurred".into()
            }]
        );
    }

    #[test]
    fn predictions_prefer_richer_fields() {
        // When source/target/status land they win over the sentence's actor list, and a
        // top-level `interactions` list wins over events.
        let x = json!({"actors": ["a", "b", "c"], "events": [
            {"actors": ["a", "b", "c"], "type": "consult", "source": "a", "target": ["b"],
             "status": "planned"},
        ]});
        let f = predicted_facts(&x);
        assert_eq!(f.facts.len(), 1);
        let p = f.facts.first().unwrap();
        assert_eq!(
            (p.pair.clone(), p.status.as_str()),
            (pair("a", "b"), "planned")
        );
        let x = json!({"actors": ["a", "b"], "events": [{"actors": ["a", "b"], "type": "accuse"}],
            "interactions": [{"participants": [{"id": "a"}, {"id": "b"}], "type": "agree"}]});
        let f = predicted_facts(&x);
        assert_eq!(f.facts.first().unwrap().event_type, "agree");
        assert_eq!(f.facts.len(), 1);
    }

    #[test]
    fn directed_interactions_do_not_relate_co_agents() {
        // "A and B accused C": A-C and B-C; "A and B met C": a three-way meeting.
        let x = json!({"actors": ["a", "b", "c"], "events": [
            {"type": "accuse", "source": ["a", "b"], "target": ["c"], "participants": []},
            {"type": "consult", "source": ["a", "b"], "target": ["c"], "participants": []}]});
        let f = predicted_facts(&x);
        let by_type = |t: &str| -> Vec<Pair> {
            f.facts
                .iter()
                .filter(|p| p.event_type == t)
                .map(|p| p.pair.clone())
                .collect()
        };
        assert_eq!(by_type("accuse"), [pair("a", "c"), pair("b", "c")]);
        assert_eq!(by_type("consult").len(), 3);
    }

    #[test]
    fn predictions_use_each_events_interaction_list() {
        // Extraction v2 nests every interaction of a sentence in its event: each one counts,
        // one-sided ones give no pair, and the event's co-mention list is then ignored.
        let x = json!({"actors": ["a", "b", "c"], "events": [
            {"actors": ["a", "b", "c"], "type": "consult", "source": ["a"], "target": ["b"],
             "participants": [], "status": "occurred", "interactions": [
                {"type": "consult", "source": ["a"], "target": ["b"], "participants": [],
                 "status": "occurred"},
                {"type": "request", "source": ["c"], "target": [], "participants": [],
                 "status": "planned"},
             ]},
            {"actors": ["b", "c"], "type": null, "interactions": []},
        ]});
        let f = predicted_facts(&x);
        assert_eq!(
            f.facts.into_iter().collect::<Vec<_>>(),
            [PairFact {
                pair: pair("a", "b"),
                event_type: "consult".into(),
                status: "occurred".into()
            }]
        );
        assert_eq!(f.mentions.len(), 3);
    }

    #[test]
    fn report_measures_are_independent() {
        // Right pair with wrong type counts for pairs but not typed; wrong status only hurts status.
        let g = gold(json!({"text": "x", "mentions": ["a", "b"],
            "interactions": [{"actors": ["a", "b"], "type": "consult", "status": "planned"}]}));
        let p = predicted_facts(&json!({"actors": ["a", "b", "z"],
            "events": [{"actors": ["a", "b"], "type": "accuse"}]}));
        let mut r = Report::default();
        r.add(&gold_facts(&g), &p);
        assert_eq!(
            r.mentions,
            Counts {
                tp: 2,
                fp: 1,
                fn_: 0
            }
        );
        assert_eq!(
            r.pairs,
            Counts {
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(
            r.typed,
            Counts {
                tp: 0,
                fp: 1,
                fn_: 1
            }
        );
        assert_eq!(
            r.status,
            Counts {
                tp: 0,
                fp: 1,
                fn_: 1
            }
        );
        let floors = Floors {
            mentions: Some(0.5),
            typed: Some(0.5),
            ..Floors::default()
        };
        assert_eq!(r.below(&floors).len(), 1, "{:?}", r.below(&floors));
        assert!(r.table().contains("typed"));
        assert_eq!(r.to_json()["pairs"]["f1"], 1.0);
    }

    #[test]
    fn errors_are_grouped_by_cause() {
        // Each kind of miss lands in its own class, so the breakdown points at what to fix.
        let g = gold(
            json!({"id": "x1", "text": "x", "mentions": ["a", "b", "c", "d"],
            "interactions": [
                {"actors": ["a", "b"], "type": "consult"},
                {"actors": ["a", "c"], "type": "accuse", "status": "denied"},
                {"actors": ["a", "d"], "type": "threaten"}]}),
        );
        // a-b typed wrong, a-c found but occurred, a-d missed (d never found), c-b invented.
        let p = predicted_facts(&json!({"actors": ["a", "b", "c"], "events": [
            {"actors": ["a", "b"], "type": "statement"},
            {"actors": ["a", "c"], "type": "accuse"},
            {"actors": ["b", "c"], "type": "consult"}]}));
        let classes: BTreeSet<String> = error_classes(&g, &gold_facts(&g), &p)
            .into_iter()
            .map(|(c, id)| {
                assert_eq!(id, "x1");
                c
            })
            .collect();
        let want: BTreeSet<String> = [
            "typed FN consult: typed as statement",
            "typed FN threaten: an actor not found",
            "typed FP statement: gold is consult",
            "typed FP consult: pair not related in gold",
            "status denied read as occurred",
            "mention FN d",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(classes, want);
        let mut b = Breakdown::default();
        b.classes.insert("small".into(), vec!["1".into()]);
        b.classes.insert("big".into(), vec!["1".into(), "2".into()]);
        assert_eq!(b.to_json()[0]["class"], "big");
        assert!(b.table().contains("   2  big  [1 2]"), "{}", b.table());
    }

    #[test]
    fn validation_catches_annotation_typos() {
        // A typo in the gold file must stop the run, not silently lower a figure.
        let bad = [
            json!({"text": "x", "mentions": ["a", "b"],
                "interactions": [{"actors": ["a"], "type": "consult"}]}),
            json!({"text": "x", "mentions": ["a", "b"],
                "interactions": [{"actors": ["a", "b"], "type": "meet"}]}),
            json!({"text": "x", "mentions": ["a", "b"],
                "interactions": [{"actors": ["a", "b"], "type": "consult", "status": "done"}]}),
            json!({"text": "x", "mentions": ["a"],
                "interactions": [{"actors": ["a", "b"], "type": "statement"}]}),
        ];
        for v in bad {
            assert!(validate(&gold(v.clone())).is_err(), "{v}");
        }
        let ok = json!({"text": "x", "mentions": ["a", "b"],
            "interactions": [{"actors": ["a", "b"], "type": "statement", "status": "denied"}]});
        assert!(validate(&gold(ok)).is_ok());
    }
}
