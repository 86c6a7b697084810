//! The search: coordinate descent over fixed grids from a fixed start, minimising the mean
//! absolute log error of the model's median (without the seeded per-pair effect), averaged over
//! the datasets present so that each dataset weighs the same. Every step scans one coefficient's
//! grid with the others held; sweeps repeat until none changes, first over a coarse subset of
//! each long grid, then over the full grid around the coarse optimum. Deterministic, no external
//! optimiser. Pair geometry (backbone path per routing grid point, distance fades per scale) is
//! computed once per observation, so a loss evaluation is arithmetic and one logarithm per pair.
//!
//! Nothing is read from the coefficients being replaced: the start and the values used when
//! the training data cannot identify a term are the constants below (published figures from
//! SOURCES.md) and [`Priors`] (what the training data says besides its pairs), so a fold never
//! sees the shipped fit.

use super::data::{DATASETS, Observation};
use crate::network::backbone::{Backbone, Routing};
use crate::network::coefficients::{Coefficients, fibre_floor_ms};
use std::collections::BTreeMap;

/// Grids of the fitted coefficients.
const DIRECT_KM: [f64; 6] = [1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 3500.0];
const ACCESS_MARGIN_KM: [f64; 7] = [0.0, 150.0, 300.0, 500.0, 800.0, 1200.0, 1500.0];
const SCALES_KM: [f64; 20] = [
    250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0, 1750.0, 2000.0, 2500.0, 3000.0, 3500.0, 4000.0,
    5000.0, 6000.0, 7000.0, 8000.0, 10000.0, 12000.0, 15000.0, 20000.0,
];

/// Prior of `cross_provider.factor` when the training data has no cross-provider pair: median
/// stretch cross-provider 1.88 over single-provider ~1.74 (SOURCES.md).
pub const PRIOR_CROSS_FACTOR: f64 = 1.08;
/// Prior of a provider pair's interconnect when the training data has none of its pairs (and no
/// other cross-provider pair): same metro, different providers 1.5-4.4 ms (SOURCES.md),
/// geometric middle.
pub const PRIOR_INTERCONNECT_MS: f64 = 2.6;

/// What the training data tells the fit besides its pairs.
#[derive(Clone, Copy, Debug)]
pub struct Priors {
    /// Median of the AWS matrix's same-region rows (NaN without any): a TCP connect inside one
    /// region, so its excess over `same_region.rtt_ms` is the published measurement's own cost.
    /// The measurement offset starts there, and stays there when the training data has no
    /// VM-to-VM pings to identify it, provided the AWS matrix is part of the training data.
    pub aws_same_region_ms: f64,
}

impl Priors {
    /// No prior beyond the constants below.
    pub const NONE: Priors = Priors {
        aws_same_region_ms: f64::NAN,
    };
}

/// Indexes of the scalar coefficients; provider-pair interconnects follow.
const FAR: usize = 0;
const NEAR: usize = 1;
const STRETCH_SCALE: usize = 2;
const SHORT_ADD: usize = 3;
const SHORT_SCALE: usize = 4;
const DIRECT: usize = 5;
const MARGIN: usize = 6;
const FACTOR: usize = 7;
const OFFSET: usize = 8;
const SEA: usize = 9;
const SCALARS: usize = 10;

/// The fixed start (published figures: stretch ~1.55 far, 2.3-3.4 near, 4-8 ms added under
/// 500 km; the cross-provider priors; no measurement offset, unless the AWS matrix is trained
/// on: then the offset starts from [`Priors`]; a submarine km's stretch starts at 1.45, a little
/// below the far terrestrial one, since cables run near the great circle between landings).
const START: [f64; SCALARS] = [
    1.55,
    2.5,
    2000.0,
    4.0,
    1000.0,
    2500.0,
    300.0,
    PRIOR_CROSS_FACTOR,
    0.0,
    1.45,
];

/// Candidate values of coefficient `k`.
fn grid(k: usize) -> Vec<f64> {
    let steps = |lo: i32, hi: i32, div: f64| (lo..=hi).map(move |i| i as f64 / div);
    match k {
        FAR => steps(100, 200, 100.0).collect(), // 1.00..2.00
        NEAR => steps(20, 80, 20.0).collect(),   // 1.00..4.00
        STRETCH_SCALE | SHORT_SCALE => SCALES_KM.to_vec(),
        SHORT_ADD => steps(0, 100, 10.0).collect(), // 0..10 ms
        DIRECT => DIRECT_KM.to_vec(),
        MARGIN => ACCESS_MARGIN_KM.to_vec(),
        FACTOR => steps(100, 150, 100.0).collect(), // 1.00..1.50
        OFFSET => steps(0, 50, 10.0).collect(),     // 0..5 ms
        SEA => steps(100, 200, 100.0).collect(),    // 1.00..2.00
        _ => steps(1, 100, 10.0).collect(),         // interconnect 0.1..10 ms
    }
}

/// An observation with everything the loss needs precomputed (once per calibration: every fold
/// selects from the same prepared observations).
pub struct Prepared {
    dataset: usize,
    published: bool,
    /// The provider pair (`a-b`) of a cross-provider pair.
    pair: Option<String>,
    /// exp(-d / s) for each s in `SCALES_KM`.
    fade: [f64; SCALES_KM.len()],
    /// Fibre RTT of the routed path per (direct, margin) grid index.
    fibre: Vec<f64>,
    /// Fibre RTT of its submarine part, per the same index.
    sea: Vec<f64>,
    ln_rtt: f64,
}

/// Prepares `obs` for fitting with the backbone of `base`.
pub fn prepare(base: &Coefficients, obs: &[Observation]) -> Result<Vec<Prepared>, String> {
    let backbone = Backbone::new(&base.backbone)?;
    Ok(obs
        .iter()
        .map(|o| {
            let (a, b) = ((o.src.lat, o.src.lon), (o.dst.lat, o.dst.lon));
            let d = o.d_km();
            let mut fibre = Vec::with_capacity(DIRECT_KM.len() * ACCESS_MARGIN_KM.len());
            let mut sea = Vec::with_capacity(fibre.capacity());
            for &direct_km in &DIRECT_KM {
                for &access_margin_km in &ACCESS_MARGIN_KM {
                    let r = Routing {
                        direct_km,
                        access_margin_km,
                    };
                    let path = backbone.route_between(a, b, &r, &o.src.provider, &o.dst.provider);
                    fibre.push(fibre_floor_ms(path.km));
                    sea.push(fibre_floor_ms(path.sea_km));
                }
            }
            let mut fade = [0.0; SCALES_KM.len()];
            for (f, s) in fade.iter_mut().zip(SCALES_KM) {
                *f = (-d / s).exp();
            }
            Prepared {
                dataset: DATASETS.iter().position(|d| *d == o.dataset).unwrap_or(0),
                published: o.published(),
                pair: (o.src.provider != o.dst.provider).then(|| o.provider_pair()),
                fade,
                fibre,
                sea,
                ln_rtt: o.rtt_ms.ln(),
            }
        })
        .collect())
}

/// A fit's coefficients and loss.
#[derive(Clone, Debug)]
pub struct Fitted {
    pub coefficients: Coefficients,
    pub loss: f64,
    pub pairs: usize,
    pub sweeps: usize,
}

/// The training set of one fit: prepared observations with their provider-pair index.
struct Problem<'a> {
    prep: Vec<(&'a Prepared, Option<usize>)>,
    /// Provider pairs (`a-b`) with cross-provider observations, sorted.
    pairs: Vec<String>,
    /// Whether the offset can be identified (both published and VM-to-VM pings present).
    offset_free: bool,
    /// Where the offset starts (and stays when it is not free), on its grid.
    offset_start: f64,
}

fn position(grid: &[f64], v: f64) -> usize {
    grid.iter().position(|x| *x == v).unwrap_or(0)
}

impl<'a> Problem<'a> {
    fn new(train: Vec<&'a Prepared>, base: &Coefficients, priors: Priors) -> Problem<'a> {
        let mut pairs: Vec<String> = train.iter().filter_map(|p| p.pair.clone()).collect();
        pairs.sort();
        pairs.dedup();
        let offset_free = train.iter().any(|p| p.published) && train.iter().any(|p| !p.published);
        let aws = DATASETS.iter().position(|d| *d == "aws");
        let excess = priors.aws_same_region_ms - base.same_region.rtt_ms;
        let offset_start = if train.iter().any(|p| Some(p.dataset) == aws) && excess.is_finite() {
            // On the grid (0.1 ms steps, 0..5 ms) exactly as `grid` spells its values.
            ((excess * 10.0).round().clamp(0.0, 50.0)) / 10.0
        } else {
            START[OFFSET]
        };
        let prep = train
            .into_iter()
            .map(|p| {
                let k = p.pair.as_ref().map(|x| pairs.binary_search(x).unwrap_or(0));
                (p, k)
            })
            .collect();
        Problem {
            prep,
            pairs,
            offset_free,
            offset_start,
        }
    }

    /// Mean over datasets of the mean |ln(model / measured)|.
    fn loss(&self, x: &[f64]) -> f64 {
        let ri = position(&DIRECT_KM, x[DIRECT]) * ACCESS_MARGIN_KM.len()
            + position(&ACCESS_MARGIN_KM, x[MARGIN]);
        let (si, hi) = (
            position(&SCALES_KM, x[STRETCH_SCALE]),
            position(&SCALES_KM, x[SHORT_SCALE]),
        );
        let ic = &x[SCALARS..];
        let mut sum = [0.0f64; DATASETS.len()];
        let mut n = [0usize; DATASETS.len()];
        for (p, pair) in &self.prep {
            let stretch = x[FAR] + (x[NEAR] - x[FAR]) * p.fade[si];
            let prop = (p.fibre[ri] - p.sea[ri]) * stretch + p.sea[ri] * x[SEA];
            let mut m = match pair {
                None => prop + x[SHORT_ADD] * p.fade[hi],
                Some(k) => prop * x[FACTOR] + ic[*k],
            };
            if p.published {
                m += x[OFFSET];
            }
            sum[p.dataset] += (m.ln() - p.ln_rtt).abs();
            n[p.dataset] += 1;
        }
        let (mut tot, mut k) = (0.0, 0);
        for (s, n) in sum.iter().zip(n) {
            if n > 0 {
                tot += s / n as f64;
                k += 1;
            }
        }
        tot / k.max(1) as f64
    }

    /// Whether coefficient `k` is searched.
    fn free(&self, k: usize) -> bool {
        match k {
            FACTOR => !self.pairs.is_empty(),
            OFFSET => self.offset_free,
            _ => true,
        }
    }
}

/// Grids longer than this are first scanned coarsely.
const COARSE_POINTS: usize = 12;

/// Coordinate descent: sweeps over the coefficients, each scanning `candidates(k, value)` with
/// the others held, until a sweep changes nothing.
fn descend(
    pb: &Problem,
    x: &mut [f64],
    best: &mut f64,
    candidates: &dyn Fn(usize, f64) -> Vec<f64>,
) -> usize {
    let mut sweeps = 0;
    loop {
        sweeps += 1;
        let mut changed = false;
        for k in 0..x.len() {
            if !pb.free(k) {
                continue;
            }
            for v in candidates(k, x[k]) {
                if v == x[k] || (k == NEAR && v < x[FAR]) || (k == FAR && v > x[NEAR]) {
                    continue; // the stretch may only fall with distance
                }
                let old = x[k];
                x[k] = v;
                let l = pb.loss(x);
                if l < *best - 1e-12 {
                    *best = l;
                    changed = true;
                } else {
                    x[k] = old;
                }
            }
        }
        if !changed || sweeps >= 50 {
            return sweeps;
        }
    }
}

/// One pass of moves of two coefficients at once, one grid step each (both up, both down, or
/// one up and the other down). Coordinate descent stalls on a ridge where two terms trade off
/// (the measurement offset against the short-path term: the absolute error has a kink there);
/// these moves walk along it. Returns whether the loss fell.
fn diagonal_step(pb: &Problem, x: &mut [f64], best: &mut f64) -> bool {
    let mut improved = false;
    let free: Vec<usize> = (0..x.len()).filter(|k| pb.free(*k)).collect();
    for (a, &k) in free.iter().enumerate() {
        for &j in &free[a + 1..] {
            let (gk, gj) = (grid(k), grid(j));
            for (dk, dj) in [(1i64, 1i64), (1, -1), (-1, 1), (-1, -1)] {
                let ik = position(&gk, x[k]) as i64 + dk;
                let ij = position(&gj, x[j]) as i64 + dj;
                if ik < 0 || ij < 0 || ik >= gk.len() as i64 || ij >= gj.len() as i64 {
                    continue;
                }
                let (old_k, old_j) = (x[k], x[j]);
                x[k] = gk[ik as usize];
                x[j] = gj[ij as usize];
                let l = if x[NEAR] < x[FAR] {
                    f64::INFINITY
                } else {
                    pb.loss(x)
                };
                if l < *best - 1e-12 {
                    *best = l;
                    improved = true;
                } else {
                    x[k] = old_k;
                    x[j] = old_j;
                }
            }
        }
    }
    improved
}

/// Fits on `obs` (see [`fit_prepared`]).
pub fn fit(base: &Coefficients, obs: &[Observation], priors: Priors) -> Result<Fitted, String> {
    let prep = prepare(base, obs)?;
    fit_prepared(base, &prep.iter().collect::<Vec<_>>(), priors)
}

/// Fits the stretch, short-path, routing, cross-provider and measurement coefficients on the
/// prepared training observations; everything else (priors, jitter, backbone) is taken from
/// `base`. Long grids are scanned at every `len / COARSE_POINTS`-th value until nothing
/// changes, then at every value within one coarse step of the current one, alternating with
/// `diagonal_step` until neither improves the loss.
pub fn fit_prepared(
    base: &Coefficients,
    train: &[&Prepared],
    priors: Priors,
) -> Result<Fitted, String> {
    if train.is_empty() {
        return Err("no observations to fit".into());
    }
    let pairs = train.len();
    let pb = Problem::new(train.to_vec(), base, priors);
    let mut x: Vec<f64> = START.to_vec();
    x[OFFSET] = pb.offset_start;
    x.extend(pb.pairs.iter().map(|_| PRIOR_INTERCONNECT_MS));
    let mut best = pb.loss(&x);
    let stride = |g: &[f64]| (g.len() / COARSE_POINTS).max(1);
    let coarse = |k: usize, _: f64| -> Vec<f64> {
        let g = grid(k);
        g.iter().step_by(stride(&g)).copied().collect()
    };
    let fine = |k: usize, v: f64| -> Vec<f64> {
        let g = grid(k);
        let (i, s) = (position(&g, v), stride(&g));
        g[i.saturating_sub(s)..(i + s + 1).min(g.len())].to_vec()
    };
    let mut sweeps = descend(&pb, &mut x, &mut best, &coarse);
    loop {
        sweeps += descend(&pb, &mut x, &mut best, &fine);
        if !diagonal_step(&pb, &mut x, &mut best) || sweeps >= 100 {
            break;
        }
    }
    let mut c = base.clone();
    c.stretch.far = x[FAR];
    c.stretch.near = x[NEAR];
    c.stretch.scale_km = x[STRETCH_SCALE];
    c.short_path.add_ms = x[SHORT_ADD];
    c.short_path.scale_km = x[SHORT_SCALE];
    c.routing.direct_km = x[DIRECT];
    c.routing.access_margin_km = x[MARGIN];
    c.cross_provider.factor = x[FACTOR];
    c.measurement.published_offset_ms = x[OFFSET];
    c.stretch.sea = x[SEA];
    let fitted: BTreeMap<String, f64> = pb
        .pairs
        .iter()
        .cloned()
        .zip(x[SCALARS..].iter().copied())
        .collect();
    // Provider pairs without data get the median hand-off of those with data.
    let mut v: Vec<f64> = fitted.values().copied().collect();
    c.cross_provider.default_interconnect_ms = if v.is_empty() {
        PRIOR_INTERCONNECT_MS
    } else {
        (super::data::median(&mut v) * 100.0).round() / 100.0
    };
    c.cross_provider.interconnect_ms = fitted;
    c.validate()?;
    Ok(Fitted {
        coefficients: c,
        loss: best,
        pairs,
        sweeps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::LatencyModel;
    use crate::topology::{Catalogue, Region};

    #[test]
    fn fit_recovers_synthetic_coefficients() {
        // Observations generated by the model itself are fitted back (to the grid): GCP-GCP pairs
        // as VM pings, AWS-GCP pairs as VM pings, GCP-GCP again as a "published" dataset with a
        // 1.5 ms offset.
        let cat = Catalogue::builtin();
        let mut truth = LatencyModel::builtin(1).coefficients().clone();
        truth.stretch.far = 1.45;
        truth.stretch.near = 2.2;
        truth.stretch.scale_km = 3000.0;
        truth.stretch.sea = 1.3;
        truth.short_path.add_ms = 1.5;
        truth.short_path.scale_km = 2000.0;
        truth.cross_provider.factor = 1.1;
        truth.cross_provider.interconnect_ms = [("aws-gcp".to_string(), 3.2)].into();
        truth.measurement.published_offset_ms = 1.5;
        let m = LatencyModel::from_coefficients(truth.clone(), 1).unwrap();
        let gcp: Vec<&Region> = cat.of_provider("gcp").collect();
        let aws: Vec<&Region> = cat.of_provider("aws").step_by(3).collect();
        let mut obs = Vec::new();
        let mut push = |dataset: &'static str, a: &Region, b: &Region| {
            let g = m.geometry(a, b);
            let offset = if dataset == "skyplane" { 0.0 } else { 1.5 };
            obs.push(Observation {
                dataset,
                src: a.clone(),
                dst: b.clone(),
                rtt_ms: truth.core_ms(&g) + offset,
            });
        };
        for a in &gcp {
            for b in &gcp {
                if a.key() != b.key() {
                    push("skyplane", a, b);
                    push("azure", a, b);
                }
            }
            for b in &aws {
                push("skyplane", a, b);
            }
        }
        let f = fit(&truth, &obs, Priors::NONE).unwrap();
        let c = &f.coefficients;
        assert!(f.loss < 0.01, "loss {}", f.loss);
        assert!((c.stretch.far - 1.45).abs() < 0.03, "{:?}", c.stretch);
        assert!((c.stretch.sea - 1.3).abs() < 0.03, "{:?}", c.stretch);
        assert!(
            (c.measurement.published_offset_ms - 1.5).abs() < 0.25,
            "{:?}",
            c.measurement
        );
        assert!(
            (c.cross_provider.interconnect("gcp", "aws") - 3.2).abs() < 0.5,
            "{:?}",
            c.cross_provider
        );
        assert_eq!(
            c.cross_provider.default_interconnect_ms,
            c.cross_provider.interconnect("aws", "gcp")
        );
        // Without VM pings the offset cannot be told from the short-path term: it stays 0, and
        // without cross-provider pairs the cross-provider terms keep their priors.
        let published: Vec<Observation> = obs
            .iter()
            .filter(|o| o.dataset == "azure")
            .cloned()
            .collect();
        let f = fit(&truth, &published, Priors::NONE).unwrap();
        assert_eq!(f.coefficients.measurement.published_offset_ms, 0.0);
        assert_eq!(f.coefficients.cross_provider.factor, PRIOR_CROSS_FACTOR);
        assert!(f.coefficients.cross_provider.interconnect_ms.is_empty());
        assert_eq!(
            f.coefficients.cross_provider.default_interconnect_ms,
            PRIOR_INTERCONNECT_MS
        );
    }
}
