//! Scoring a fit: errors per dataset, by distance band and for same-metro pairs, and the
//! held-out validations that cannot flatter the model:
//! - leave one dataset out (LODO): fit on three datasets, score the fourth;
//! - leave one provider pair out (LOPPO): fit without any observation of a provider pair (in
//!   any dataset: without `aws-aws` means without the AWS CloudPing matrix too), score that
//!   pair's Skyplane pings.
//!
//! A prediction is the model's median with the seeded per-pair effect ([`EVAL_SEED`]), plus the
//! measurement offset for the provider-published matrices.
//!
//! Same metro: two regions of different providers less than [`SAME_METRO_KM`] apart. The
//! catalogue's coordinates are metro-level (models/README.md: not finer than 50-100 km), so
//! closer than that they cannot be told apart.

use super::data::{DATASETS, Observation};
use super::search::{Fitted, Prepared, Priors, fit_prepared};
use crate::network::coefficients::{Coefficients, RttStat};
use crate::network::latency::LatencyModel;

/// Seed of the model used to evaluate errors (per-pair effects included).
pub const EVAL_SEED: u64 = 1;

/// Different providers closer than this (km) are in the same metro.
pub const SAME_METRO_KM: f64 = 100.0;

/// The distance bands of the error tables, with their upper bounds (km).
pub const BANDS: [(&str, f64); 3] = [
    ("< 500 km", 500.0),
    ("500-3,000 km", 3000.0),
    ("> 3,000 km", f64::INFINITY),
];

/// Median and 90th percentile of |model / measured - 1| (percent) and of |model - measured|
/// (ms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorStats {
    pub n: usize,
    pub median_abs_pct: f64,
    pub p90_abs_pct: f64,
    pub median_abs_ms: f64,
    pub p90_abs_ms: f64,
}

/// Median (mean of the middle two) and nearest-rank 90th percentile of sorted values.
pub fn median_p90(e: &[f64]) -> (f64, f64) {
    let n = e.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 {
        e[n / 2]
    } else {
        (e[n / 2 - 1] + e[n / 2]) / 2.0
    };
    (
        median,
        e[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1],
    )
}

impl ErrorStats {
    /// From (model, measured) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let (mut rel, mut abs): (Vec<f64>, Vec<f64>) = pairs
            .into_iter()
            .map(|(m, o)| ((m / o - 1.0).abs() * 100.0, (m - o).abs()))
            .unzip();
        rel.sort_by(f64::total_cmp);
        abs.sort_by(f64::total_cmp);
        let (median_abs_pct, p90_abs_pct) = median_p90(&rel);
        let (median_abs_ms, p90_abs_ms) = median_p90(&abs);
        ErrorStats {
            n: rel.len(),
            median_abs_pct,
            p90_abs_pct,
            median_abs_ms,
            p90_abs_ms,
        }
    }
}

/// One scored observation.
#[derive(Clone, Debug)]
pub struct Scored {
    pub obs: Observation,
    pub model_ms: f64,
}

impl Scored {
    pub fn same_metro(&self) -> bool {
        self.obs.src.provider != self.obs.dst.provider && self.obs.d_km() < SAME_METRO_KM
    }

    pub fn band(&self) -> &'static str {
        let d = self.obs.d_km();
        BANDS.iter().find(|(_, hi)| d < *hi).map_or("", |b| b.0)
    }
}

/// The model's prediction of an observation (see the module doc).
pub fn predict(model: &LatencyModel, o: &Observation) -> f64 {
    let m = model.model_median_rtt_ms(&o.src, &o.dst);
    if o.published() {
        m + model.coefficients().measurement.published_offset_ms
    } else {
        m
    }
}

/// Scores `obs` with `c` (seed [`EVAL_SEED`]).
pub fn score(c: &Coefficients, obs: &[Observation]) -> Result<Vec<Scored>, String> {
    let model = LatencyModel::from_coefficients(c.clone(), EVAL_SEED)?;
    Ok(obs
        .iter()
        .map(|o| Scored {
            obs: o.clone(),
            model_ms: predict(&model, o),
        })
        .collect())
}

/// Error statistics of the scored observations `keep` selects.
pub fn stats(s: &[Scored], keep: impl Fn(&Scored) -> bool) -> ErrorStats {
    ErrorStats::from_pairs(
        s.iter()
            .filter(|x| keep(x))
            .map(|x| (x.model_ms, x.obs.rtt_ms)),
    )
}

/// Errors per dataset, in [`DATASETS`] order (datasets without observations are left out).
pub fn by_dataset(s: &[Scored]) -> Vec<(String, ErrorStats)> {
    DATASETS
        .iter()
        .map(|d| (d.to_string(), stats(s, |x| x.obs.dataset == *d)))
        .filter(|(_, e)| e.n > 0)
        .collect()
}

/// Errors per distance band, and for same-metro pairs.
pub fn by_band(s: &[Scored]) -> Vec<(String, ErrorStats)> {
    let mut out: Vec<(String, ErrorStats)> = BANDS
        .iter()
        .map(|(b, _)| (b.to_string(), stats(s, |x| x.band() == *b)))
        .collect();
    out.push((
        format!("same metro (< {SAME_METRO_KM} km)"),
        stats(s, Scored::same_metro),
    ));
    out
}

/// Errors of the model's P95 against Azure's published P95 (plus the measurement offset).
pub fn evaluate_p95(model: &LatencyModel, p95: &[Observation]) -> ErrorStats {
    let off = model.coefficients().measurement.published_offset_ms;
    ErrorStats::from_pairs(
        p95.iter()
            .map(|o| (model.rtt_ms(&o.src, &o.dst, RttStat::P95) + off, o.rtt_ms)),
    )
}

/// A held-out fold: what was left out, the fit without it, and the scored held-out pairs.
#[derive(Clone, Debug)]
pub struct Fold {
    pub held_out: String,
    pub fitted: Fitted,
    pub scored: Vec<Scored>,
}

/// Fit on the observations `train` selects, score those `test` selects.
fn fold(
    name: String,
    base: &Coefficients,
    obs: &[Observation],
    prep: &[Prepared],
    priors: Priors,
    train: impl Fn(&Observation) -> bool,
    test: impl Fn(&Observation) -> bool,
) -> Result<Fold, String> {
    let chosen: Vec<&Prepared> = obs
        .iter()
        .zip(prep)
        .filter(|(o, _)| train(o))
        .map(|(_, p)| p)
        .collect();
    let fitted = fit_prepared(base, &chosen, priors)?;
    let held: Vec<Observation> = obs.iter().filter(|o| test(o)).cloned().collect();
    let scored = score(&fitted.coefficients, &held)?;
    Ok(Fold {
        held_out: name,
        fitted,
        scored,
    })
}

/// Leave one dataset out, for each dataset present (`prep`: `obs` prepared).
pub fn leave_one_dataset_out(
    base: &Coefficients,
    obs: &[Observation],
    prep: &[Prepared],
    priors: Priors,
) -> Result<Vec<Fold>, String> {
    let mut out = Vec::new();
    for ds in DATASETS {
        if obs.iter().any(|o| o.dataset == ds) {
            out.push(dataset_fold(base, obs, prep, priors, ds)?);
        }
    }
    Ok(out)
}

/// One leave-one-dataset-out fold: fit without `dataset`, score it.
pub fn dataset_fold(
    base: &Coefficients,
    obs: &[Observation],
    prep: &[Prepared],
    priors: Priors,
    dataset: &str,
) -> Result<Fold, String> {
    fold(
        dataset.into(),
        base,
        obs,
        prep,
        priors,
        |o| o.dataset != dataset,
        |o| o.dataset == dataset,
    )
}

/// One leave-one-provider-pair-out fold: fit without any `pair` (`a-b`) observation, score its
/// Skyplane pings.
pub fn provider_pair_fold(
    base: &Coefficients,
    obs: &[Observation],
    prep: &[Prepared],
    priors: Priors,
    pair: &str,
) -> Result<Fold, String> {
    fold(
        pair.into(),
        base,
        obs,
        prep,
        priors,
        |o| o.provider_pair() != pair,
        |o| o.dataset == "skyplane" && o.provider_pair() == pair,
    )
}

/// Leave one provider pair out, for each provider pair of the Skyplane pings.
pub fn leave_one_provider_pair_out(
    base: &Coefficients,
    obs: &[Observation],
    prep: &[Prepared],
    priors: Priors,
) -> Result<Vec<Fold>, String> {
    let mut pairs: Vec<String> = obs
        .iter()
        .filter(|o| o.dataset == "skyplane")
        .map(Observation::provider_pair)
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
        .iter()
        .map(|pair| provider_pair_fold(base, obs, prep, priors, pair))
        .collect()
}

/// All scored pairs of the folds, pooled.
pub fn pooled(folds: &[Fold]) -> Vec<Scored> {
    folds
        .iter()
        .flat_map(|f| f.scored.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stats() {
        let e = ErrorStats::from_pairs([
            (110.0, 100.0),
            (90.0, 100.0),
            (100.0, 100.0),
            (150.0, 100.0),
        ]);
        assert_eq!(e.n, 4);
        assert!((e.median_abs_pct - 10.0).abs() < 1e-9);
        assert!((e.p90_abs_pct - 50.0).abs() < 1e-9);
        assert!((e.median_abs_ms - 10.0).abs() < 1e-9);
        assert!((e.p90_abs_ms - 50.0).abs() < 1e-9);
        assert!(ErrorStats::from_pairs([]).median_abs_pct.is_nan());
    }
}
