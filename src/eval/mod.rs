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

use std::collections::{BTreeMap, BTreeSet};
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
    /// Where the text was published (real-news items); not used in scoring.
    #[serde(default)]
    pub url: Option<String>,
    /// Headline: metadata, not extracted (the guide annotates `text` only).
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
    /// Who acts, when the sentence says (informative; not scored yet).
    #[serde(default)]
    pub source: Option<Vec<String>>,
    /// Who is acted on (informative; not scored yet).
    #[serde(default)]
    pub target: Option<Vec<String>>,
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

/// Status accuracy counts: gold interactions whose pair the system reported, and how many of
/// those it gave the gold status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// Gold interactions (not optional) whose pair was reported with any status.
    pub scored: usize,
    /// Of those, reported with the gold status.
    pub correct: usize,
}

impl StatusCounts {
    /// correct / scored; 1.0 when nothing could be scored.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct, self.scored)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Typed pairs: `(pair, type)`.
type TypedPairs = BTreeSet<(Pair, String)>;

/// The scored sets of one item after the guide's rules (occurred only, optional dropped).
struct Scored {
    mentions: (BTreeSet<String>, BTreeSet<String>),
    pairs: (BTreeSet<Pair>, BTreeSet<Pair>),
    typed: (TypedPairs, TypedPairs),
}

fn scored(gold: &ItemFacts, pred: &ItemFacts) -> Scored {
    let only_optional: BTreeSet<&String> =
        gold.optional_mentions.difference(&gold.mentions).collect();
    let pred_mentions = pred
        .mentions
        .iter()
        .filter(|a| !only_optional.contains(a))
        .cloned()
        .collect();
    let occurred = |f: &ItemFacts| -> Vec<PairFact> {
        f.facts
            .iter()
            .filter(|x| x.status == "occurred")
            .cloned()
            .collect()
    };
    let (g, p) = (occurred(gold), occurred(pred));
    let gold_pairs: BTreeSet<Pair> = g.iter().map(|x| x.pair.clone()).collect();
    let gold_typed: BTreeSet<(Pair, String)> = g
        .iter()
        .map(|x| (x.pair.clone(), x.event_type.clone()))
        .collect();
    let opt_pairs: BTreeSet<Pair> = gold
        .optional
        .iter()
        .map(|x| x.pair.clone())
        .filter(|x| !gold_pairs.contains(x))
        .collect();
    let opt_typed: BTreeSet<(Pair, String)> = gold
        .optional
        .iter()
        .map(|x| (x.pair.clone(), x.event_type.clone()))
        .filter(|x| !gold_typed.contains(x))
        .collect();
    let pred_pairs = p
        .iter()
        .map(|x| x.pair.clone())
        .filter(|x| !opt_pairs.contains(x))
        .collect();
    let pred_typed = p
        .iter()
        .map(|x| (x.pair.clone(), x.event_type.clone()))
        .filter(|x| !opt_pairs.contains(&x.0) && !opt_typed.contains(x))
        .collect();
    Scored {
        mentions: (gold.mentions.clone(), pred_mentions),
        pairs: (gold_pairs, pred_pairs),
        typed: (gold_typed, pred_typed),
    }
}

/// The status counts of one item (see the module docs).
fn status_counts(gold: &ItemFacts, pred: &ItemFacts) -> StatusCounts {
    let mut c = StatusCounts::default();
    for g in &gold.facts {
        let on_pair: Vec<&PairFact> = pred.facts.iter().filter(|p| p.pair == g.pair).collect();
        if on_pair.is_empty() {
            continue;
        }
        c.scored += 1;
        let same_type: Vec<&&PairFact> = on_pair
            .iter()
            .filter(|p| p.event_type == g.event_type)
            .collect();
        let right = if same_type.is_empty() {
            on_pair.iter().any(|p| p.status == g.status)
        } else {
            same_type.iter().any(|p| p.status == g.status)
        };
        c.correct += usize::from(right);
    }
    c
}

/// The four measures over a whole gold set (or one category of it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Number of items scored.
    pub items: usize,
    /// `(item, actor)`.
    pub mentions: Counts,
    /// `(item, pair)`, occurred only.
    pub pairs: Counts,
    /// `(item, pair, type)`, occurred only.
    pub typed: Counts,
    /// Status accuracy over the gold interactions found.
    pub status: StatusCounts,
}

impl Report {
    /// Adds one item's gold and predicted facts to every measure.
    pub fn add(&mut self, gold: &ItemFacts, pred: &ItemFacts) {
        self.items += 1;
        let s = scored(gold, pred);
        self.mentions.add(&s.mentions.0, &s.mentions.1);
        self.pairs.add(&s.pairs.0, &s.pairs.1);
        self.typed.add(&s.typed.0, &s.typed.1);
        let st = status_counts(gold, pred);
        self.status.scored += st.scored;
        self.status.correct += st.correct;
    }

    /// The F1 measures by name, in print order.
    pub fn measures(&self) -> [(&'static str, Counts); 3] {
        [
            ("mentions", self.mentions),
            ("pairs", self.pairs),
            ("typed", self.typed),
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
        s.push_str(&format!(
            "{:<9} accuracy {:.3} ({} of {} gold interactions found)\n",
            "status",
            self.status.accuracy(),
            self.status.correct,
            self.status.scored
        ));
        s
    }

    /// The report as one JSON object: `{items, mentions: {precision, recall, f1, tp, fp, fn},
    /// ..., status: {accuracy, correct, scored}}`.
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
        obj.insert(
            "status".into(),
            serde_json::json!({
                "accuracy": self.status.accuracy(),
                "correct": self.status.correct,
                "scored": self.status.scored,
            }),
        );
        Value::Object(obj)
    }

    /// The measures below their floor, as "name value < floor" strings.
    pub fn below(&self, floors: &Floors) -> Vec<String> {
        let checks = [
            ("mentions F1", self.mentions.f1(), floors.mentions),
            ("pairs F1", self.pairs.f1(), floors.pairs),
            ("typed F1", self.typed.f1(), floors.typed),
            ("status accuracy", self.status.accuracy(), floors.status),
        ];
        checks
            .into_iter()
            .filter_map(|(name, v, floor)| {
                let floor = floor?;
                (v < floor).then(|| format!("{name} {v:.3} < floor {floor}"))
            })
            .collect()
    }
}

/// The whole evaluation: totals, the same per item category, and the confusion of types.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Over every item.
    pub total: Report,
    /// Per category (see [`category`]).
    pub by_category: BTreeMap<&'static str, Report>,
    /// `(gold type, predicted type) -> count` over typed pairs reported as occurred; `none`
    /// on one side when the pair was not reported (or is not gold).
    pub confusion: BTreeMap<(String, String), usize>,
}

impl Evaluation {
    /// Adds one item.
    pub fn add(&mut self, gold: &ItemFacts, pred: &ItemFacts) {
        self.total.add(gold, pred);
        self.by_category
            .entry(category(gold))
            .or_default()
            .add(gold, pred);
        let s = scored(gold, pred);
        let (gp, pp) = &s.pairs;
        let (gt, pt) = &s.typed;
        let mut bump = |g: &str, p: &str| {
            *self
                .confusion
                .entry((g.to_string(), p.to_string()))
                .or_default() += 1;
        };
        for (pair, ty) in gt {
            if pt.contains(&(pair.clone(), ty.clone())) {
                bump(ty, ty);
            } else if pp.contains(pair) {
                for (_, other) in pt.iter().filter(|(p, _)| p == pair) {
                    bump(ty, other);
                }
            } else {
                bump(ty, "none");
            }
        }
        for (pair, ty) in pt {
            if !gp.contains(pair) {
                bump("none", ty);
            }
        }
    }

    /// Per-category table and confusion table, plain text.
    pub fn details(&self) -> String {
        let mut s =
            String::from("by category (items; pairs P/R/F1 tp fp fn; typed F1; status acc):\n");
        for cat in CATEGORIES {
            let Some(r) = self.by_category.get(cat) else {
                continue;
            };
            s.push_str(&format!(
                "{:<13} {:>4}  pairs {:.3}/{:.3}/{:.3} {:>4} {:>4} {:>4}  typed {:.3}  status {:.3}\n",
                cat,
                r.items,
                r.pairs.precision(),
                r.pairs.recall(),
                r.pairs.f1(),
                r.pairs.tp,
                r.pairs.fp,
                r.pairs.fn_,
                r.typed.f1(),
                r.status.accuracy()
            ));
        }
        let mut types: BTreeSet<&str> = BTreeSet::new();
        for (g, p) in self.confusion.keys() {
            types.insert(g);
            types.insert(p);
        }
        let mut types: Vec<&str> = types.into_iter().filter(|t| *t != "none").collect();
        types.push("none");
        s.push_str("type confusion (rows gold, columns predicted):\n");
        s.push_str(&format!("{:<10}", ""));
        for t in &types {
            s.push_str(&format!(" {:>5.5}", t));
        }
        s.push('\n');
        for g in &types {
            s.push_str(&format!("{g:<10}"));
            for p in &types {
                let n = self
                    .confusion
                    .get(&(g.to_string(), p.to_string()))
                    .copied()
                    .unwrap_or(0);
                s.push_str(&format!(" {n:>5}"));
            }
            s.push('\n');
        }
        s
    }

    /// Totals plus `categories` and `confusion` as one JSON object.
    pub fn to_json(&self) -> Value {
        let mut v = self.total.to_json();
        if let Value::Object(o) = &mut v {
            let cats: serde_json::Map<String, Value> = self
                .by_category
                .iter()
                .map(|(k, r)| (k.to_string(), r.to_json()))
                .collect();
            o.insert("categories".into(), Value::Object(cats));
            let conf: Vec<Value> = self
                .confusion
                .iter()
                .map(|((g, p), n)| serde_json::json!({"gold": g, "predicted": p, "count": n}))
                .collect();
            o.insert("confusion".into(), Value::Array(conf));
        }
        v
    }
}

/// Minimum value per measure; `None` means not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Floors {
    /// Floor for mention F1.
    pub mentions: Option<f64>,
    /// Floor for pair F1.
    pub pairs: Option<f64>,
    /// Floor for pair + type F1.
    pub typed: Option<f64>,
    /// Floor for status accuracy.
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
/// related with the wrong type, a relation the text does not report (or reports as not
/// having happened), or a wrong status.
fn error_classes(item: &GoldItem, gold: &ItemFacts, pred: &ItemFacts) -> Vec<(String, String)> {
    let id = item
        .id
        .as_ref()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .unwrap_or_default();
    let mut out = Vec::new();
    let s = scored(gold, pred);
    let types_of = |set: &BTreeSet<(Pair, String)>, p: &Pair| -> Vec<String> {
        set.iter()
            .filter(|x| &x.0 == p)
            .map(|x| x.1.clone())
            .collect()
    };
    let (gold_typed, pred_typed) = &s.typed;
    for (pair, ty) in gold_typed.difference(pred_typed) {
        let missed = [&pair.0, &pair.1]
            .into_iter()
            .find(|a| !pred.mentions.contains(*a));
        let class = if missed.is_some() {
            format!("typed FN {ty}: an actor not found")
        } else {
            let got = types_of(pred_typed, pair);
            if got.is_empty() {
                format!("typed FN {ty}: pair not related")
            } else {
                format!("typed FN {ty}: typed as {}", got.join("+"))
            }
        };
        out.push((class, id.clone()));
    }
    for (pair, ty) in pred_typed.difference(gold_typed) {
        let extra = [&pair.0, &pair.1]
            .into_iter()
            .find(|a| !gold.mentions.contains(*a));
        let other_status: Vec<&str> = gold
            .facts
            .iter()
            .filter(|f| &f.pair == pair && f.status != "occurred")
            .map(|f| f.status.as_str())
            .collect();
        let class = if extra.is_some() {
            format!("typed FP {ty}: an actor the text does not name")
        } else {
            let want = types_of(gold_typed, pair);
            if !want.is_empty() {
                format!("typed FP {ty}: gold is {}", want.join("+"))
            } else if let Some(st) = other_status.first() {
                format!("typed FP {ty}: gold status is {st}")
            } else if gold.facts.is_empty() {
                format!("typed FP {ty}: item has no interaction")
            } else {
                format!("typed FP {ty}: pair not related in gold")
            }
        };
        out.push((class, id.clone()));
    }
    // Status errors on gold interactions whose pair the system reported.
    for g in &gold.facts {
        let got: BTreeSet<&str> = pred
            .facts
            .iter()
            .filter(|p| p.pair == g.pair)
            .map(|p| p.status.as_str())
            .collect();
        if !got.is_empty() && !got.contains(g.status.as_str()) {
            let got: Vec<&str> = got.into_iter().collect();
            out.push((
                format!("status {} read as {}", g.status, got.join("+")),
                id.clone(),
            ));
        }
    }
    let (gm, pm) = &s.mentions;
    for a in gm.difference(pm) {
        out.push((format!("mention FN {a}"), id.clone()));
    }
    for a in pm.difference(gm) {
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
    score_with_errors(extractor, items).map(|(e, _)| e.total)
}

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
    let extractor = crate::extract::model::shipped(&config)?;
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

/// The gold labels of one sample pair: `None` when the item has the pair only as optional
/// (neither a positive nor a negative to learn from).
fn label(item: &GoldItem, a: &str, b: &str) -> Option<crate::extract::model::Sample> {
    use crate::plover::PloverType;
    let on_pair =
        |i: &&GoldInteraction| i.actors.iter().any(|x| x == a) && i.actors.iter().any(|x| x == b);
    let gold: Vec<&GoldInteraction> = item
        .interactions
        .iter()
        .filter(|i| !i.optional)
        .filter(on_pair)
        .collect();
    if gold.is_empty() && item.interactions.iter().filter(on_pair).any(|i| i.optional) {
        return None;
    }
    let occ = gold.iter().any(|i| i.status == "occurred");
    let mut types: Vec<PloverType> = gold
        .iter()
        .filter(|i| !occ || i.status == "occurred")
        .filter_map(|i| i.event_type.parse().ok())
        .collect();
    types.sort_by_key(|t| t.as_str());
    types.dedup();
    Some(crate::extract::model::Sample {
        features: Vec::new(),
        rel: !gold.is_empty(),
        occ,
        types,
    })
}

/// `parley train`: learns the interaction model from a gold file. For each regularisation
/// weight in a small grid it fits the models on `gold`; with `dev`, it then picks the
/// weight and the decision thresholds that score best on `dev` (pairs F1 + typed F1), so
/// the choice is made on items the fit never saw. Deterministic: same files, same model.
pub fn train(
    config_path: &Path,
    gold: &Path,
    dev: Option<&Path>,
    model_out: &Path,
    out: &mut dyn Write,
) -> Result<(), Error> {
    use crate::extract::model::{InteractionModel, TrainOptions, train};
    let config = config::load(config_path)?;
    let specs: Vec<_> = config.actors.iter().map(|a| a.spec.clone()).collect();
    let extractor = Extractor::new(&specs)?;
    let items = read_gold(gold)?;
    let mut samples = Vec::new();
    for item in &items {
        let date = item
            .published
            .as_deref()
            .and_then(parse_time)
            .map(|d| d.date_naive());
        let doc = Document {
            title: "",
            text: &item.text,
            date,
        };
        for p in extractor.pair_samples(&doc) {
            if let Some(mut s) = label(item, &p.a, &p.b) {
                s.features = p.features;
                samples.push(s);
            }
        }
    }
    let dev_items = dev.map(read_gold).transpose()?;
    let say = |out: &mut dyn Write, line: String| {
        out.write_all(line.as_bytes()).map_err(|source| Error::Io {
            path: "<stdout>".into(),
            source,
        })
    };
    let name = gold
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut best: Option<(f64, crate::extract::model::StoredModels)> = None;
    let alphas: &[f64] = if dev_items.is_some() {
        &[0.3, 1.0, 3.0, 10.0]
    } else {
        &[3.0]
    };
    for &alpha in alphas {
        let opts = TrainOptions {
            alpha,
            ..TrainOptions::default()
        };
        let stored = train(&samples, &opts, (0.5, 0.5, 0.5), &name)
            .map_err(|e| Error::Input(format!("{}: {e}", gold.display())))?;
        let Some(dev_items) = &dev_items else {
            best = Some((0.0, stored));
            break;
        };
        for rel in [0.3, 0.4, 0.5, 0.6] {
            for occ in [0.3, 0.5] {
                for ty in [0.3, 0.5] {
                    let mut m = stored.clone();
                    (m.rel_threshold, m.occ_threshold, m.type_threshold) = (rel, occ, ty);
                    let model = InteractionModel::from_stored(&m)
                        .map_err(|e| Error::Input(e.to_string()))?;
                    let x = Extractor::new(&specs)?.with_model(model);
                    let (e, _) = score_with_errors(&x, dev_items)?;
                    let fig = e.total.pairs.f1() + e.total.typed.f1();
                    say(
                        out,
                        format!(
                            "alpha {alpha} rel {rel} occ {occ} type {ty}: dev pairs {:.3} typed {:.3} status {:.3}\n",
                            e.total.pairs.f1(),
                            e.total.typed.f1(),
                            e.total.status.accuracy()
                        ),
                    )?;
                    if best.as_ref().is_none_or(|(f, _)| fig > *f + 1e-9) {
                        best = Some((fig, m));
                    }
                }
            }
        }
    }
    let Some((_, mut chosen)) = best else {
        return Err(Error::Input("no model trained".into()));
    };
    if let Some(dev) = dev {
        chosen.trained_on = format!(
            "{}; alpha and thresholds chosen on {}",
            chosen.trained_on,
            dev.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
    }
    let text = serde_json::to_string_pretty(&chosen).map_err(|e| Error::Input(e.to_string()))?;
    std::fs::write(model_out, text + "\n").map_err(|source| Error::Io {
        path: model_out.to_path_buf(),
        source,
    })?;
    say(
        out,
        format!(
            "{}: {} (rel {}, occ {}, type {})\n",
            model_out.display(),
            chosen.trained_on,
            chosen.rel_threshold,
            chosen.occ_threshold,
            chosen.type_threshold
        ),
    )
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
        // Right pair with wrong type counts for pairs but not typed; status is scored on the
        // gold interactions whose pair was found, whatever the type.
        let g = gold(json!({"text": "x", "mentions": ["a", "b"],
            "interactions": [{"actors": ["a", "b"], "type": "consult"}]}));
        let p = predicted_facts(&json!({"actors": ["a", "b", "z"],
            "events": [{"actors": ["a", "b"], "type": "accuse", "status": "planned"},
                       {"actors": ["a", "b"], "type": "request"}]}));
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
            StatusCounts {
                scored: 1,
                correct: 1
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
        assert_eq!(r.to_json()["status"]["accuracy"], 1.0);
    }

    #[test]
    fn only_occurred_interactions_count_and_optional_ones_are_neutral() {
        // The guide's scoring: a planned gold interaction is not gold, so reporting it as
        // occurred is a false positive, and reporting it as planned scores its status only;
        // an optional interaction or mention neither rewards nor penalises.
        let g = gold(json!({"text": "x", "url": "https://example.org/a",
            "mentions": ["a", "b", "c"], "optional_mentions": ["un"],
            "interactions": [
                {"actors": ["a", "b"], "type": "consult", "status": "planned"},
                {"actors": ["a", "c"], "type": "consult", "optional": true},
                {"actors": ["b", "c"], "type": "accuse", "source": ["b"], "target": ["c"]}]}));
        let gf = gold_facts(&g);
        let pred = |a_b_status: &str| {
            predicted_facts(&json!({"actors": ["a", "b", "c", "un"], "events": [
                {"actors": ["a", "b"], "type": "consult", "status": a_b_status},
                {"actors": ["a", "c"], "type": "consult"},
                {"actors": ["b", "c"], "type": "accuse"}]}))
        };
        let mut r = Report::default();
        r.add(&gf, &pred("occurred"));
        assert_eq!(
            r.mentions,
            Counts {
                tp: 3,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(
            r.pairs,
            Counts {
                tp: 1,
                fp: 1,
                fn_: 0
            }
        );
        assert_eq!(
            r.status,
            StatusCounts {
                scored: 2,
                correct: 1
            }
        );
        let mut r = Report::default();
        r.add(&gf, &pred("planned"));
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
                tp: 1,
                fp: 0,
                fn_: 0
            }
        );
        assert_eq!(
            r.status,
            StatusCounts {
                scored: 2,
                correct: 2
            }
        );
    }

    #[test]
    fn categories_and_confusion() {
        // Items are reported by category, and a wrong type shows up off the diagonal.
        let g1 = gold(json!({"text": "x", "mentions": ["a", "b"],
            "interactions": [{"actors": ["a", "b"], "type": "request"}]}));
        let g2 = gold(json!({"text": "x", "mentions": ["a", "b"]}));
        let g3 = gold(json!({"text": "x", "mentions": ["a"]}));
        let p = predicted_facts(&json!({"actors": ["a", "b"],
            "events": [{"actors": ["a", "b"], "type": "consult"}]}));
        let mut e = Evaluation::default();
        for g in [&g1, &g2, &g3] {
            e.add(&gold_facts(g), &p);
        }
        assert_eq!(e.by_category["interaction"].items, 1);
        assert_eq!(e.by_category["co-mention"].pairs.fp, 1);
        assert_eq!(e.by_category["single actor"].mentions.fp, 1);
        assert_eq!(
            e.confusion[&("request".to_string(), "consult".to_string())],
            1
        );
        assert_eq!(e.confusion[&("none".to_string(), "consult".to_string())], 2);
        assert!(e.details().contains("co-mention"));
        assert!(e.to_json()["categories"]["interaction"]["pairs"]["f1"].is_number());
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
            "typed FP accuse: gold status is denied",
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
