//! `parley train`: fitting the interaction model on a gold file, its regularisation and
//! thresholds chosen on a dev file by the same scoring `parley eval` reports.

use std::io::Write;
use std::path::Path;

use super::gold::{GoldInteraction, GoldItem, read_gold};
use super::score_with_errors;
use crate::cli::parse_time;
use crate::config;
use crate::error::Error;
use crate::extract::{Document, Extractor};

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
