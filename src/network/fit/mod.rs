//! Calibration of `models/latency.toml` (`cloudtwin latency fit`): the data and how it is read
//! ([`data`]), the search ([`search`]), scoring and held-out validation ([`validate`]), how far
//! the datasets agree with each other ([`agreement`]: the scale of the errors left), the
//! probe-distribution check ([`distribution`]) and the printed report and rewritten file
//! ([`report`]).
//!
//! The route-stretch, short-path, routing, cross-provider and measurement-offset coefficients
//! are fitted on the AWS, Azure and IBM published matrices and Skyplane's VM-to-VM pings
//! together. The jitter ratio is the median P95/P50 of the Azure matrices (the variation over a
//! month); the probe spread is the median stddev/avg of Skyplane's ping series; the asymmetry is the
//! median relative difference of the two directions in the AWS matrix (the only one not rounded
//! to whole ms). Priors (same region, per-pair effect size) and the backbone graph are not
//! fitted. Generalisation is measured by leaving one dataset out and, for the Skyplane pings,
//! one provider pair out.

pub mod agreement;
pub mod data;
pub mod distribution;
pub mod report;
pub mod search;
pub mod validate;

pub use agreement::{Agreement, dataset_agreement};
pub use data::{
    BUILTIN_NAMES_CSV, DATA_FILES, DATASETS, Datasets, NameMap, Observation, PingSeries,
    load_datasets, parse_names,
};
pub use distribution::DistributionCheck;
pub use report::{render_report, residuals_csv, rewrite_toml};
pub use search::{Fitted, Prepared, Priors, fit, fit_prepared, prepare};
pub use validate::{EVAL_SEED, ErrorStats, Fold, SAME_METRO_KM, Scored};

use crate::network::coefficients::Coefficients;
use crate::network::latency::LatencyModel;

/// The whole calibration.
#[derive(Clone, Debug)]
pub struct FitReport {
    /// The fit on all datasets, with the jitter and asymmetry from the data.
    pub fitted: Fitted,
    /// Every observation scored with the fit on all datasets.
    pub in_sample: Vec<Scored>,
    /// Leave one dataset out.
    pub lodo: Vec<Fold>,
    /// Leave one provider pair out (Skyplane pings).
    pub loppo: Vec<Fold>,
    /// The fitted model's probes against Skyplane's ping series and Azure's P95.
    pub distribution: DistributionCheck,
}

/// `base` with the jitter ratio, the probe spread and the direction asymmetry measured in the
/// data.
pub fn with_data_jitter(base: &Coefficients, data: &Datasets) -> Coefficients {
    let mut c = base.clone();
    c.jitter.p95_over_p50 = round_to(data.azure_p95_over_p50, 3);
    let mut sd: Vec<f64> = data
        .ping_series
        .iter()
        .map(|s| s.mdev_ms / s.avg_ms)
        .collect();
    if !sd.is_empty() {
        c.jitter.probe_sd_rel = round_to(data::median(&mut sd), 4);
    }
    c.jitter.asymmetry_rel = round_to(data.aws_asymmetry_rel, 4);
    c
}

/// Fits on all data and runs both held-out validations, starting from `base`'s priors and
/// backbone (its fitted values are not read).
pub fn run_fit(data: &Datasets, base: &Coefficients) -> Result<FitReport, String> {
    let base = with_data_jitter(base, data);
    let obs = &data.observations;
    let prep = search::prepare(&base, obs)?;
    let priors = Priors {
        aws_same_region_ms: data.aws_same_region_ms,
    };
    let fitted = search::fit_prepared(&base, &prep.iter().collect::<Vec<_>>(), priors)?;
    let in_sample = validate::score(&fitted.coefficients, obs)?;
    let lodo = validate::leave_one_dataset_out(&base, obs, &prep, priors)?;
    let loppo = validate::leave_one_provider_pair_out(&base, obs, &prep, priors)?;
    let model = LatencyModel::from_coefficients(fitted.coefficients.clone(), EVAL_SEED)?;
    let distribution = distribution::check(&model, data);
    Ok(FitReport {
        fitted,
        in_sample,
        lodo,
        loppo,
        distribution,
    })
}

pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}
