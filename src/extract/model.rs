//! The learned interaction model: for each pair of actors named in a sentence, whether they
//! interacted, whether it happened, and which PLOVER types, from the pair's features
//! (`features`).
//!
//! Why it exists: on real news the hand-chosen trigger rules related the wrong pairs
//! (issue 14). Logistic regressions over the pair features, trained on annotated news
//! (`parley train`), decide instead; the rules' reading is one of the features. The model
//! file (JSON, `config/models/interactions.model`) holds the weights by feature name, so it
//! can be read and diffed; it is loaded once at start.
//!
//! Models in the file: `rel` (the pair has a reported interaction, whatever its status),
//! `occ` (given one, it happened), and `type:<plover>` (given one, it has that type). An
//! interaction is reported when P(rel) ≥ `rel_threshold`; as occurred when also P(occ) ≥
//! `occ_threshold`; with every type whose P ≥ `type_threshold`, else the most likely one.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::plover::PloverType;

/// What can be wrong with a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Not the JSON this module writes.
    #[error("not an interaction model: {0}")]
    Parse(String),
    /// Parsed, but unusable (missing model, unknown type, bad number).
    #[error("invalid interaction model: {0}")]
    Invalid(String),
}

/// One logistic regression as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredModel {
    /// `rel`, `occ` or `type:<plover>`.
    pub name: String,
    /// Positive and negative training samples (informative).
    #[serde(default)]
    pub samples: (usize, usize),
    /// The bias.
    pub intercept: f64,
    /// Weight by feature (`name=value`); features absent weigh 0.
    pub weights: BTreeMap<String, f64>,
}

/// The model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredModels {
    /// Always [`FORMAT`].
    pub format: String,
    /// How it was trained (gold file, sample counts, regularisation).
    #[serde(default)]
    pub trained_on: String,
    /// P(rel) at or above this reports the pair.
    pub rel_threshold: f64,
    /// P(occ) at or above this reports it as occurred.
    pub occ_threshold: f64,
    /// P(type) at or above this adds the type.
    pub type_threshold: f64,
    /// `rel`, `occ`, then one per type.
    pub models: Vec<StoredModel>,
}

/// The format tag of model files.
pub const FORMAT: &str = "parley-interactions/1";

/// A loaded model: every feature's weights in all sub-models side by side.
#[derive(Debug)]
pub struct InteractionModel {
    index: HashMap<Box<str>, u32>,
    /// `weights[feature * n + model]`.
    weights: Vec<f64>,
    intercepts: Vec<f64>,
    /// The type of sub-model `2 + k`.
    types: Vec<PloverType>,
    rel_threshold: f64,
    occ_threshold: f64,
    type_threshold: f64,
}

/// The model's decision on one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairDecision {
    /// P(the pair interacted, any status).
    pub rel: f64,
    /// P(it happened | it interacted).
    pub occ: f64,
    /// The types to report, most likely first, with their probabilities.
    pub types: Vec<(PloverType, f64)>,
}

impl PairDecision {
    /// Whether the pair is reported at all.
    pub fn reported(&self, m: &InteractionModel) -> bool {
        self.rel >= m.rel_threshold
    }

    /// Whether it is reported as occurred.
    pub fn occurred(&self, m: &InteractionModel) -> bool {
        self.occ >= m.occ_threshold
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl InteractionModel {
    /// Reads a model file's text.
    pub fn parse(text: &str) -> Result<InteractionModel, ModelError> {
        let stored: StoredModels =
            serde_json::from_str(text).map_err(|e| ModelError::Parse(e.to_string()))?;
        InteractionModel::from_stored(&stored)
    }

    /// Builds the lookup tables of a parsed file.
    pub fn from_stored(stored: &StoredModels) -> Result<InteractionModel, ModelError> {
        if stored.format != FORMAT {
            return Err(ModelError::Invalid(format!(
                "format {:?}, expected {FORMAT:?}",
                stored.format
            )));
        }
        let names: Vec<&str> = stored.models.iter().map(|m| m.name.as_str()).collect();
        if names.first() != Some(&"rel") || names.get(1) != Some(&"occ") {
            return Err(ModelError::Invalid(
                "the first two models must be rel and occ".into(),
            ));
        }
        let mut types = Vec::new();
        for name in &names[2..] {
            let t = name
                .strip_prefix("type:")
                .and_then(|t| t.parse::<PloverType>().ok())
                .ok_or_else(|| ModelError::Invalid(format!("unknown model {name:?}")))?;
            types.push(t);
        }
        let n = stored.models.len();
        let mut index: HashMap<Box<str>, u32> = HashMap::new();
        let mut weights: Vec<f64> = Vec::new();
        for (k, m) in stored.models.iter().enumerate() {
            for (f, &w) in &m.weights {
                if !w.is_finite() {
                    return Err(ModelError::Invalid(format!(
                        "weight of {f:?} is not finite"
                    )));
                }
                let next = index.len() as u32;
                let i = *index.entry(f.as_str().into()).or_insert(next) as usize;
                if weights.len() < (i + 1) * n {
                    weights.resize((i + 1) * n, 0.0);
                }
                weights[i * n + k] = w;
            }
        }
        let thresholds = [
            stored.rel_threshold,
            stored.occ_threshold,
            stored.type_threshold,
        ];
        if thresholds.iter().any(|t| !(0.0..=1.0).contains(t)) {
            return Err(ModelError::Invalid("a threshold is outside 0..=1".into()));
        }
        Ok(InteractionModel {
            index,
            weights,
            intercepts: stored.models.iter().map(|m| m.intercept).collect(),
            types,
            rel_threshold: stored.rel_threshold,
            occ_threshold: stored.occ_threshold,
            type_threshold: stored.type_threshold,
        })
    }

    /// The decision on one pair, given a function that emits its features.
    pub(super) fn decide(&self, features: impl FnOnce(&mut dyn FnMut(&str, &str))) -> PairDecision {
        let n = self.intercepts.len();
        let mut z = self.intercepts.clone();
        let mut key = String::with_capacity(48);
        features(&mut |name, value| {
            key.clear();
            key.push_str(name);
            key.push('=');
            key.push_str(value);
            if let Some(&i) = self.index.get(key.as_str()) {
                let row = &self.weights[i as usize * n..(i as usize + 1) * n];
                for (acc, w) in z.iter_mut().zip(row) {
                    *acc += w;
                }
            }
        });
        let mut types: Vec<(PloverType, f64)> = self
            .types
            .iter()
            .zip(&z[2..])
            .map(|(t, &x)| (*t, sigmoid(x)))
            .collect();
        types.sort_by(|a, b| b.1.total_cmp(&a.1));
        let keep = types
            .iter()
            .take_while(|t| t.1 >= self.type_threshold)
            .count()
            .max(1)
            .min(types.len());
        types.truncate(keep);
        PairDecision {
            rel: sigmoid(z[0]),
            occ: sigmoid(z[1]),
            types,
        }
    }
}

/// One training sample: a pair in a sentence, its features and what the gold says.
#[derive(Debug, Clone)]
pub struct Sample {
    /// `name=value` features.
    pub features: Vec<String>,
    /// The pair has a (non-optional) gold interaction, whatever its status.
    pub rel: bool,
    /// It has one that occurred.
    pub occ: bool,
    /// Its gold types (any status).
    pub types: Vec<PloverType>,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// L2 weight (linfa's `alpha`).
    pub alpha: f64,
    /// A feature must occur in at least this many samples.
    pub min_count: usize,
    /// A type needs at least this many positive samples to get its own model.
    pub min_type_positives: usize,
    /// LBFGS iterations.
    pub max_iterations: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            alpha: 1.0,
            min_count: 2,
            min_type_positives: 4,
            max_iterations: 300,
        }
    }
}

/// Fits one logistic regression with linfa (LBFGS from zero: deterministic) and returns its
/// weights for P(label = true) by feature name.
fn fit(
    name: &str,
    rows: &[&Vec<u32>],
    labels: &[bool],
    names: &[String],
    opts: &TrainOptions,
) -> Result<StoredModel, ModelError> {
    use linfa::prelude::*;
    use linfa_logistic::LogisticRegression;
    let mut x = ndarray::Array2::<f64>::zeros((rows.len(), names.len()));
    for (r, feats) in rows.iter().enumerate() {
        for &f in feats.iter() {
            x[(r, f as usize)] = 1.0;
        }
    }
    let y = ndarray::Array1::from_iter(labels.iter().copied());
    let positives = labels.iter().filter(|l| **l).count();
    let ds = Dataset::new(x, y);
    let fitted = LogisticRegression::default()
        .alpha(opts.alpha)
        .max_iterations(opts.max_iterations)
        .fit(&ds)
        .map_err(|e| ModelError::Invalid(format!("{name}: {e}")))?;
    // linfa labels the larger class positive: flip so the weights predict `true`.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    let weights = names
        .iter()
        .zip(fitted.params().iter())
        .filter(|(_, w)| w.abs() >= 1e-4)
        .map(|(n, w)| (n.clone(), round(sign * w)))
        .collect();
    Ok(StoredModel {
        name: name.to_string(),
        samples: (positives, labels.len() - positives),
        intercept: round(sign * fitted.intercept()),
        weights,
    })
}

/// Six significant digits: enough for the decisions, and a diffable file.
fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Trains every sub-model on `samples`. Deterministic: features are indexed in sorted order
/// and the optimiser starts from zero.
pub fn train(
    samples: &[Sample],
    opts: &TrainOptions,
    thresholds: (f64, f64, f64),
    trained_on: &str,
) -> Result<StoredModels, ModelError> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in samples {
        let mut seen: Vec<&str> = s.features.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for f in seen {
            *counts.entry(f).or_default() += 1;
        }
    }
    let names: Vec<String> = counts
        .iter()
        .filter(|(_, c)| **c >= opts.min_count)
        .map(|(f, _)| f.to_string())
        .collect();
    let idx: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let rows: Vec<Vec<u32>> = samples
        .iter()
        .map(|s| {
            let mut v: Vec<u32> = s
                .features
                .iter()
                .filter_map(|f| idx.get(f.as_str()).copied())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    let all: Vec<&Vec<u32>> = rows.iter().collect();
    let mut models = Vec::new();
    let rel: Vec<bool> = samples.iter().map(|s| s.rel).collect();
    models.push(fit("rel", &all, &rel, &names, opts)?);
    let pos: Vec<usize> = (0..samples.len()).filter(|&i| samples[i].rel).collect();
    let pos_rows: Vec<&Vec<u32>> = pos.iter().map(|&i| &rows[i]).collect();
    let occ: Vec<bool> = pos.iter().map(|&i| samples[i].occ).collect();
    models.push(fit("occ", &pos_rows, &occ, &names, opts)?);
    let mut type_counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for &i in &pos {
        for t in &samples[i].types {
            *type_counts.entry(t.as_str()).or_default() += 1;
        }
    }
    for (t, n) in type_counts {
        if n < opts.min_type_positives || n == pos.len() {
            continue;
        }
        let labels: Vec<bool> = pos
            .iter()
            .map(|&i| samples[i].types.iter().any(|x| x.as_str() == t))
            .collect();
        models.push(fit(&format!("type:{t}"), &pos_rows, &labels, &names, opts)?);
    }
    Ok(StoredModels {
        format: FORMAT.to_string(),
        trained_on: format!(
            "{trained_on}: {} samples ({} related), {} features, alpha {}",
            samples.len(),
            pos.len(),
            names.len(),
            opts.alpha
        ),
        rel_threshold: thresholds.0,
        occ_threshold: thresholds.1,
        type_threshold: thresholds.2,
        models,
    })
}

/// Where the shipped model lives in the repository; it is compiled into the binary.
pub const SHIPPED_PATH: &str = "config/models/interactions.model";

/// The shipped model file's text.
const SHIPPED: &str = include_str!("../../config/models/interactions.model");

/// The shipped model, parsed (the benchmark and tests use it directly;
/// `crate::pipeline::shipped` compiles a config's actors with it).
pub fn shipped_model() -> Result<InteractionModel, ModelError> {
    InteractionModel::parse(SHIPPED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(features: &[&str], rel: bool, occ: bool, types: &[PloverType]) -> Sample {
        Sample {
            features: features.iter().map(|s| s.to_string()).collect(),
            rel,
            occ,
            types: types.to_vec(),
        }
    }

    fn samples() -> Vec<Sample> {
        let mut v = Vec::new();
        for k in 0..12 {
            let noise = if k % 3 == 0 { "x=1" } else { "x=2" };
            v.push(sample(
                &["bias=", "btw=met", noise],
                true,
                k % 4 != 0,
                &[PloverType::Consult],
            ));
            v.push(sample(
                &["bias=", "btw=urged", noise],
                true,
                true,
                &[PloverType::Request],
            ));
            v.push(sample(&["bias=", "btw=and", noise], false, false, &[]));
        }
        v
    }

    #[test]
    fn training_is_deterministic_and_learns_the_signal() {
        // `parley train` must give the same file twice, and the weights must point the right
        // way: "met" relates a pair and types it consult, "and" does not relate it.
        let opts = TrainOptions::default();
        let a = train(&samples(), &opts, (0.5, 0.5, 0.5), "t").unwrap();
        let b = train(&samples(), &opts, (0.5, 0.5, 0.5), "t").unwrap();
        let (ja, jb) = (
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap(),
        );
        assert_eq!(ja, jb);
        let m = InteractionModel::parse(&ja).unwrap();
        let decide = |w: &'static str| {
            m.decide(|emit| {
                emit("bias", "");
                emit("btw", w);
            })
        };
        let met = decide("met");
        assert!(met.reported(&m), "{met:?}");
        assert_eq!(met.types[0].0, PloverType::Consult, "{met:?}");
        assert_eq!(decide("urged").types[0].0, PloverType::Request);
        assert!(!decide("and").reported(&m));
    }

    #[test]
    fn a_corrupt_or_foreign_model_is_an_error() {
        // A damaged model file must stop the start (a config error), not extract with
        // garbage weights.
        assert!(matches!(
            InteractionModel::parse("{not json"),
            Err(ModelError::Parse(_))
        ));
        let wrong = r#"{"format": "other/1", "rel_threshold": 0.5, "occ_threshold": 0.5,
            "type_threshold": 0.5, "models": []}"#;
        assert!(matches!(
            InteractionModel::parse(wrong),
            Err(ModelError::Invalid(_))
        ));
        let unknown = r#"{"format": "parley-interactions/1", "rel_threshold": 0.5,
            "occ_threshold": 0.5, "type_threshold": 0.5, "models": [
            {"name": "rel", "intercept": 0, "weights": {}},
            {"name": "occ", "intercept": 0, "weights": {}},
            {"name": "type:meet", "intercept": 0, "weights": {}}]}"#;
        assert!(InteractionModel::parse(unknown).is_err());
        // The shipped one loads.
        assert!(shipped_model().is_ok());
    }
}
