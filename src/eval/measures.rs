//! The annotation guide's measures: counts per measure, the sets one item is scored on
//! (occurred only, optional dropped), and their sums over a gold set (`Report`) and per
//! category with the type confusion (`Evaluation`). How they are printed is `report.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::facts::{ItemFacts, Pair, PairFact, category};

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
pub(super) type TypedPairs = BTreeSet<(Pair, String)>;

/// The scored sets of one item after the guide's rules (occurred only, optional dropped).
pub(super) struct Scored {
    pub(super) mentions: (BTreeSet<String>, BTreeSet<String>),
    pub(super) pairs: (BTreeSet<Pair>, BTreeSet<Pair>),
    pub(super) typed: (TypedPairs, TypedPairs),
}

pub(super) fn scored(gold: &ItemFacts, pred: &ItemFacts) -> Scored {
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
