//! How an evaluation is printed: plain-text tables for people (and CI logs), one JSON object
//! for scripts. Kept apart from the measures so the arithmetic reads without the layout.

use std::collections::BTreeSet;

use serde_json::Value;

use super::facts::CATEGORIES;
use super::measures::{Evaluation, Report};

impl Report {
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
    pub fn to_json(self) -> Value {
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
}

impl Evaluation {
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
