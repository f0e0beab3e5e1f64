//! The error breakdown: why each scored fact is wrong, grouped by class, so a run says where
//! to work next and not only whether extraction got better.

use std::collections::BTreeSet;

use serde_json::Value;

use super::facts::{ItemFacts, Pair};
use super::gold::GoldItem;
use super::measures::scored;

/// Why one scored fact is wrong, as a class name for the error breakdown. The classes say
/// which part of extraction to fix: an actor never found, a pair never related, a pair
/// related with the wrong type, a relation the text does not report (or reports as not
/// having happened), or a wrong status.
pub(super) fn error_classes(
    item: &GoldItem,
    gold: &ItemFacts,
    pred: &ItemFacts,
) -> Vec<(String, String)> {
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
