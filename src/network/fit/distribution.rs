//! The probe distribution against measurement. A status test's min/avg/max/stddev come from the
//! spread of the probes of one series (`LatencyModel::sample_series_ms`: `jitter.probe_sd_rel`,
//! calibrated on the median stddev/avg of Skyplane's series) and its P95 from the variation of
//! the series' level over time (`jitter.p95_over_p50`, Azure's monthly P95/P50). Here the model's
//! series are compared with Skyplane's ping series (each row's min/avg/max/mdev; ping's mdev is
//! the standard deviation) and the model's P95 with Azure's.
//!
//! Skyplane does not say how many probes a row has; the model's series use [`PROBES`] probes.
//! The standard deviation does not depend on the count; min and max widen with it.

use super::data::Datasets;
use super::validate::{EVAL_SEED, ErrorStats, evaluate_p95, median_p90};
use crate::engine::rng::RngFactory;
use crate::network::latency::LatencyModel;

/// Probes per series of the model (as CB-Larva's status test with `trial_count = 10`).
pub const PROBES: usize = 10;

/// Median and 90th percentile of a per-series ratio (percent of the series' average).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median_pct: f64,
    pub p90_pct: f64,
}

fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(f64::total_cmp);
    let (median_pct, p90_pct) = median_p90(&v);
    Spread {
        median_pct,
        p90_pct,
    }
}

/// (avg - min) / avg, (max - avg) / avg and stddev / avg over a set of series, measured and
/// modelled, and the P95/P50 check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistributionCheck {
    pub series: usize,
    /// Skyplane: [below avg, above avg, stddev], percent of the average.
    pub measured: [Spread; 3],
    /// The model's probes for the same pairs, [`PROBES`] per series.
    pub model: [Spread; 3],
    /// Azure's median P95/P50 and the model's ratio.
    pub azure_p95_over_p50: f64,
    pub model_p95_over_p50: f64,
    /// The model's P95 against Azure's published P95.
    pub p95: ErrorStats,
}

/// Compares `model`'s probes with the data.
pub fn check(model: &LatencyModel, data: &Datasets) -> DistributionCheck {
    let fam = RngFactory::new(EVAL_SEED).family("fit.distribution");
    let mut measured: [Vec<f64>; 3] = Default::default();
    let mut modelled: [Vec<f64>; 3] = Default::default();
    for (i, s) in data.ping_series.iter().enumerate() {
        measured[0].push((s.avg_ms - s.min_ms) / s.avg_ms * 100.0);
        measured[1].push((s.max_ms - s.avg_ms) / s.avg_ms * 100.0);
        measured[2].push(s.mdev_ms / s.avg_ms * 100.0);
        let mut rng = fam.rng(i as u64);
        let probes = model.sample_series_ms(&s.src, &s.dst, PROBES, &mut rng);
        let n = probes.len() as f64;
        let avg = probes.iter().sum::<f64>() / n;
        let var = probes.iter().map(|p| (p - avg) * (p - avg)).sum::<f64>() / n;
        let (min, max) = probes.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
            (lo.min(*p), hi.max(*p))
        });
        modelled[0].push((avg - min) / avg * 100.0);
        modelled[1].push((max - avg) / avg * 100.0);
        modelled[2].push(var.sqrt() / avg * 100.0);
    }
    let [a, b, c] = measured;
    let [x, y, z] = modelled;
    DistributionCheck {
        series: data.ping_series.len(),
        measured: [spread(a), spread(b), spread(c)],
        model: [spread(x), spread(y), spread(z)],
        azure_p95_over_p50: data.azure_p95_over_p50,
        model_p95_over_p50: model.coefficients().jitter.p95_over_p50,
        p95: evaluate_p95(model, &data.azure_p95),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::fit::data::PingSeries;
    use crate::topology::Catalogue;
    use std::collections::BTreeMap;

    #[test]
    fn spreads_of_measured_series_and_model_probes() {
        let cat = Catalogue::builtin();
        let r = |k: &str| cat.find_key(k).unwrap().clone();
        let series = |min: f64, avg: f64, max: f64, mdev: f64| PingSeries {
            src: r("aws:us-east-1"),
            dst: r("aws:eu-central-1"),
            min_ms: min,
            avg_ms: avg,
            max_ms: max,
            mdev_ms: mdev,
        };
        let data = Datasets {
            observations: Vec::new(),
            azure_p95: Vec::new(),
            azure_p95_over_p50: 1.06,
            aws_asymmetry_rel: 0.01,
            aws_same_region_ms: 3.0,
            ping_series: vec![
                series(99.0, 100.0, 102.0, 0.5),
                series(98.0, 100.0, 104.0, 1.5),
            ],
            excluded: Vec::new(),
            sha256: BTreeMap::new(),
        };
        let model = LatencyModel::builtin(1);
        let d = check(&model, &data);
        assert_eq!(d.series, 2);
        // Measured: (avg - min) 1% and 2%, (max - avg) 2% and 4%, mdev 0.5% and 1.5%.
        assert!((d.measured[0].median_pct - 1.5).abs() < 1e-9, "{d:?}");
        assert!((d.measured[1].p90_pct - 4.0).abs() < 1e-9, "{d:?}");
        assert!((d.measured[2].median_pct - 1.0).abs() < 1e-9, "{d:?}");
        // The model's probes of one series: sd / mean ~ jitter.probe_sd_rel (a 10-probe sample
        // scatters around it), not the variation over time (~2.5% for P95/P50 1.059).
        let want = model.coefficients().jitter.probe_sd_rel * 100.0;
        assert!(want > 0.0);
        let sd = d.model[2].median_pct;
        assert!(sd > 0.3 * want && sd < 2.0 * want, "{d:?}");
        assert!(d.model[0].median_pct > 0.0 && d.model[1].median_pct > 0.0);
        assert_eq!(
            d.model_p95_over_p50,
            model.coefficients().jitter.p95_over_p50
        );
    }
}
