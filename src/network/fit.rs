//! Calibration of `models/latency.toml` on the published RTT matrices (`cloudtwin latency fit`).
//!
//! Data (`../shared/data`, provenance in its SOURCES.md):
//! - `aws_rtt_p50.csv`: AWS CloudPing P50, long form with region codes. Same-region rows are
//!   excluded: they are TCP connect times to a service endpoint, not VM-to-VM RTTs.
//! - `azure_rtt_p50.csv` (and `azure_rtt_p95.csv` for the jitter ratio): Azure's published
//!   matrices, display names mapped to region codes by `models/latency_names.csv`.
//! - `ibm_rtt_avg.csv`: IBM Cloud VPC 30-day averages, city names mapped by the same file.
//!
//! Method: the route-stretch, short-path and routing coefficients minimise the mean absolute
//! log error of the model's median (without the seeded per-pair effect), averaged over the
//! datasets so that each provider weighs the same. Coordinate descent over fixed grids from a
//! fixed start: every step scans one coefficient's whole grid with the others held, and sweeps
//! repeat until none changes. Deterministic, no external optimiser. The jitter ratio is the
//! median P95/P50 of the Azure matrices; the asymmetry is the median relative difference of the
//! two directions in the AWS matrix (the only one not rounded to whole ms). Priors (same region,
//! cross provider, per-pair effect size) and the backbone graph are not fitted.
//!
//! Generalisation is measured by leave-one-provider-out: fit on two datasets, test on the third.

use super::backbone::{Backbone, Routing};
use super::latency::{Coefficients, LatencyModel, PairGeometry};
use crate::scenario::sha256_hex;
use crate::topology::{Catalogue, Region, great_circle_km};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// `models/latency_names.csv`, built into the binary.
pub const BUILTIN_NAMES_CSV: &str = include_str!("../../models/latency_names.csv");

/// The datasets, in report order.
pub const DATASETS: [&str; 3] = ["aws", "azure", "ibm"];

/// The data files read, in order.
pub const DATA_FILES: [&str; 4] = [
    "aws_rtt_p50.csv",
    "azure_rtt_p50.csv",
    "azure_rtt_p95.csv",
    "ibm_rtt_avg.csv",
];

/// Seed of the model used to evaluate errors (per-pair effects included).
pub const EVAL_SEED: u64 = 1;

/// One measured median RTT between two catalogue regions.
#[derive(Clone, Debug)]
pub struct Observation {
    /// `aws`, `azure` or `ibm`.
    pub dataset: &'static str,
    pub src: Region,
    pub dst: Region,
    pub rtt_ms: f64,
}

/// Everything the fit reads.
#[derive(Clone, Debug)]
pub struct Datasets {
    /// Off-diagonal medians (AWS P50, Azure P50, IBM average).
    pub observations: Vec<Observation>,
    /// Azure P95, for the pairs that have both P50 and P95 (`dataset` = "azure").
    pub azure_p95: Vec<Observation>,
    /// Median of Azure P95/P50 over those pairs.
    pub azure_p95_over_p50: f64,
    /// Median of |a->b - b->a| / mean over AWS pairs measured both ways.
    pub aws_asymmetry_rel: f64,
    /// What was left out, and why.
    pub excluded: Vec<String>,
    /// SHA-256 of each data file, by file name.
    pub sha256: BTreeMap<String, String>,
}

/// Median and 90th percentile of |model / measured - 1|, in percent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorStats {
    pub n: usize,
    pub median_abs_pct: f64,
    pub p90_abs_pct: f64,
}

impl ErrorStats {
    /// From (model, measured) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (f64, f64)>) -> Self {
        let mut e: Vec<f64> = pairs
            .into_iter()
            .map(|(m, o)| (m / o - 1.0).abs() * 100.0)
            .collect();
        e.sort_by(f64::total_cmp);
        let n = e.len();
        if n == 0 {
            return ErrorStats {
                n,
                median_abs_pct: f64::NAN,
                p90_abs_pct: f64::NAN,
            };
        }
        let median = if n % 2 == 1 {
            e[n / 2]
        } else {
            (e[n / 2 - 1] + e[n / 2]) / 2.0
        };
        // Nearest rank.
        let p90 = e[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1];
        ErrorStats {
            n,
            median_abs_pct: median,
            p90_abs_pct: p90,
        }
    }
}

/// (dataset, published name) -> catalogue (provider, region).
pub type NameMap = BTreeMap<(String, String), (String, String)>;

/// Parses `latency_names.csv`.
pub fn parse_names(text: &str) -> Result<NameMap, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let h = rdr.headers().map_err(|e| e.to_string())?.clone();
    if h.iter().collect::<Vec<_>>() != ["dataset", "name", "provider", "region"] {
        return Err("latency_names.csv: header must be dataset,name,provider,region".into());
    }
    let mut out = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("latency_names.csv: {e}"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let g = |i: usize| rec.get(i).unwrap_or("").to_string();
        if out
            .insert((g(0), g(1)), (g(2).to_ascii_lowercase(), g(3)))
            .is_some()
        {
            return Err(format!(
                "latency_names.csv line {line}: {} `{}` mapped twice",
                g(0),
                g(1)
            ));
        }
    }
    Ok(out)
}

/// Loads and maps the published matrices in `dir` (the three datasets; names mapped with the
/// built-in `latency_names.csv`).
pub fn load_datasets(dir: &Path, cat: &Catalogue) -> Result<Datasets, String> {
    let names = parse_names(BUILTIN_NAMES_CSV)?;
    let mut sha256 = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for f in DATA_FILES {
        let p = dir.join(f);
        let bytes = std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        sha256.insert(f.to_string(), sha256_hex(&bytes));
        let text = String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8", p.display()))?;
        texts.insert(f, text);
    }
    let find = |file: &str, p: &str, r: &str| {
        cat.find(p, r)
            .cloned()
            .ok_or_else(|| format!("{file}: region {p}:{r} is not in the catalogue"))
    };
    let mut observations = Vec::new();
    let mut excluded = Vec::new();

    // AWS, long form.
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(texts["aws_rtt_p50.csv"].as_bytes());
    let mut same = 0;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("aws_rtt_p50.csv: {e}"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let (s, d, v) = (
            rec.get(0).unwrap_or(""),
            rec.get(1).unwrap_or(""),
            rec.get(2).unwrap_or(""),
        );
        let v: f64 = v
            .parse()
            .map_err(|_| format!("aws_rtt_p50.csv line {line}: `{v}` is not a number"))?;
        if s == d {
            same += 1;
            continue;
        }
        observations.push(Observation {
            dataset: "aws",
            src: find("aws_rtt_p50.csv", "aws", s)?,
            dst: find("aws_rtt_p50.csv", "aws", d)?,
            rtt_ms: v,
        });
    }
    excluded.push(format!(
        "aws: {same} same-region rows (TCP connect time to a service endpoint, not VM to VM)"
    ));

    let square = |dataset: &'static str, file: &str| -> Result<Vec<Observation>, String> {
        let map = |name: &str| -> Result<Region, String> {
            let (p, r) = names
                .get(&(dataset.to_string(), name.to_string()))
                .ok_or_else(|| {
                    format!("{file}: `{name}` is not in models/latency_names.csv ({dataset})")
                })?;
            find(file, p, r)
        };
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(texts[file].as_bytes());
        let cols: Vec<Region> = rdr
            .headers()
            .map_err(|e| format!("{file}: {e}"))?
            .iter()
            .skip(1)
            .map(map)
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| format!("{file}: {e}"))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let src = map(rec.get(0).unwrap_or(""))?;
            for (dst, cell) in cols.iter().zip(rec.iter().skip(1)) {
                if cell.is_empty() || dst.key() == src.key() {
                    continue;
                }
                let v: f64 = cell
                    .parse()
                    .map_err(|_| format!("{file} line {line}: `{cell}` is not a number"))?;
                out.push(Observation {
                    dataset,
                    src: src.clone(),
                    dst: dst.clone(),
                    rtt_ms: v,
                });
            }
        }
        Ok(out)
    };
    let azure = square("azure", "azure_rtt_p50.csv")?;
    let azure95 = square("azure", "azure_rtt_p95.csv")?;
    observations.extend(azure.iter().cloned());
    observations.extend(square("ibm", "ibm_rtt_avg.csv")?);
    excluded.push("azure, ibm: the diagonals are empty in the published matrices".into());

    // Jitter ratio: Azure P95/P50 over pairs present in both.
    let p50: BTreeMap<(String, String), f64> = azure
        .iter()
        .map(|o| ((o.src.key(), o.dst.key()), o.rtt_ms))
        .collect();
    let mut ratios = Vec::new();
    let mut azure_p95 = Vec::new();
    for o in azure95 {
        if let Some(m) = p50.get(&(o.src.key(), o.dst.key())) {
            ratios.push(o.rtt_ms / m);
            azure_p95.push(o);
        }
    }
    // Asymmetry: AWS pairs measured both ways.
    let aws: BTreeMap<(String, String), f64> = observations
        .iter()
        .filter(|o| o.dataset == "aws")
        .map(|o| ((o.src.region.clone(), o.dst.region.clone()), o.rtt_ms))
        .collect();
    let mut asym = Vec::new();
    for ((a, b), v) in &aws {
        if a >= b {
            continue;
        }
        if let Some(w) = aws.get(&(b.clone(), a.clone())) {
            asym.push((v - w).abs() / ((v + w) / 2.0));
        }
    }
    Ok(Datasets {
        observations,
        azure_p95,
        azure_p95_over_p50: median(&mut ratios),
        aws_asymmetry_rel: median(&mut asym),
        excluded,
        sha256,
    })
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Errors of `model`'s median (per-pair effects included) per dataset, in `DATASETS` order.
pub fn evaluate(model: &LatencyModel, obs: &[Observation]) -> BTreeMap<&'static str, ErrorStats> {
    let mut out = BTreeMap::new();
    for ds in DATASETS {
        let pairs: Vec<(f64, f64)> = obs
            .iter()
            .filter(|o| o.dataset == ds)
            .map(|o| (model.model_median_rtt_ms(&o.src, &o.dst), o.rtt_ms))
            .collect();
        if !pairs.is_empty() {
            out.insert(ds, ErrorStats::from_pairs(pairs));
        }
    }
    out
}

/// Errors of the model's P95 against Azure's published P95.
pub fn evaluate_p95(model: &LatencyModel, p95: &[Observation]) -> ErrorStats {
    ErrorStats::from_pairs(p95.iter().map(|o| {
        (
            model.rtt_ms(&o.src, &o.dst, super::latency::RttStat::P95),
            o.rtt_ms,
        )
    }))
}

/// Grids of the fitted coefficients.
const DIRECT_KM: [f64; 6] = [1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 3500.0];
const ACCESS_MARGIN_KM: [f64; 7] = [0.0, 150.0, 300.0, 500.0, 800.0, 1200.0, 1500.0];
const SCALES_KM: [f64; 20] = [
    250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0, 1750.0, 2000.0, 2500.0, 3000.0, 3500.0, 4000.0,
    5000.0, 6000.0, 7000.0, 8000.0, 10000.0, 12000.0, 15000.0, 20000.0,
];

/// The fit's fixed start (the published figures: stretch ~1.55 far, 2.3-3.4 near, 4-8 ms added
/// under 500 km).
const START: [f64; 7] = [1.55, 2.5, 2000.0, 4.0, 1000.0, 2500.0, 300.0];

/// Candidate values of coefficient `k` (order of `START`).
fn grid(k: usize) -> Vec<f64> {
    match k {
        0 => (100..=200).map(|i| i as f64 / 100.0).collect(), // stretch.far, 1.00..2.00
        1 => (20..=80).map(|i| i as f64 / 20.0).collect(),    // stretch.near, 1.00..4.00
        2 | 4 => SCALES_KM.to_vec(),
        3 => (0..=100).map(|i| i as f64 / 10.0).collect(), // short_path.add_ms, 0..10
        5 => DIRECT_KM.to_vec(),
        6 => ACCESS_MARGIN_KM.to_vec(),
        _ => unreachable!(),
    }
}

fn apply(c: &mut Coefficients, x: &[f64; 7]) {
    c.stretch.far = x[0];
    c.stretch.near = x[1];
    c.stretch.scale_km = x[2];
    c.short_path.add_ms = x[3];
    c.short_path.scale_km = x[4];
    c.routing.direct_km = x[5];
    c.routing.access_margin_km = x[6];
}

/// Observations with their geometry precomputed for every routing grid point.
struct Prepared {
    dataset: usize,
    d_km: f64,
    same_provider: bool,
    /// Path length per (direct, margin) grid index.
    path_km: Vec<f64>,
    rtt_ms: f64,
}

fn prepare(obs: &[Observation], backbone: &Backbone) -> Vec<Prepared> {
    obs.iter()
        .map(|o| {
            let (a, b) = ((o.src.lat, o.src.lon), (o.dst.lat, o.dst.lon));
            let mut path_km = Vec::with_capacity(DIRECT_KM.len() * ACCESS_MARGIN_KM.len());
            for &direct_km in &DIRECT_KM {
                for &access_margin_km in &ACCESS_MARGIN_KM {
                    let r = Routing {
                        direct_km,
                        access_margin_km,
                    };
                    path_km.push(backbone.path_km(a, b, &r));
                }
            }
            Prepared {
                dataset: DATASETS.iter().position(|d| *d == o.dataset).unwrap_or(0),
                d_km: great_circle_km(a.0, a.1, b.0, b.1),
                same_provider: o.src.provider == o.dst.provider,
                path_km,
                rtt_ms: o.rtt_ms,
            }
        })
        .collect()
}

/// Mean over datasets of the mean |ln(core / measured)|.
fn loss(c: &Coefficients, x: &[f64; 7], prep: &[Prepared]) -> f64 {
    let mut c = c.clone();
    apply(&mut c, x);
    let ri = DIRECT_KM.iter().position(|v| *v == x[5]).unwrap_or(0) * ACCESS_MARGIN_KM.len()
        + ACCESS_MARGIN_KM
            .iter()
            .position(|v| *v == x[6])
            .unwrap_or(0);
    let mut sum = [0.0f64; DATASETS.len()];
    let mut n = [0usize; DATASETS.len()];
    for p in prep {
        let g = PairGeometry {
            d_km: p.d_km,
            path_km: p.path_km[ri],
            same_provider: p.same_provider,
            same_region: false,
        };
        sum[p.dataset] += (c.core_ms(&g) / p.rtt_ms).ln().abs();
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

/// A fit's coefficients and loss.
#[derive(Clone, Debug)]
pub struct Fitted {
    pub coefficients: Coefficients,
    pub loss: f64,
    pub pairs: usize,
    pub sweeps: usize,
}

/// Fits the stretch, short-path and routing coefficients on `obs`; everything else is taken from
/// `base` (priors, jitter, backbone).
pub fn fit(base: &Coefficients, obs: &[Observation]) -> Result<Fitted, String> {
    if obs.is_empty() {
        return Err("no observations to fit".into());
    }
    let backbone = Backbone::new(&base.backbone)?;
    let prep = prepare(obs, &backbone);
    let mut x = START;
    let mut best = loss(base, &x, &prep);
    let mut sweeps = 0;
    loop {
        sweeps += 1;
        let mut changed = false;
        for k in 0..x.len() {
            for v in grid(k) {
                if v == x[k] || (k == 1 && v < x[0]) || (k == 0 && v > x[1]) {
                    continue; // the stretch may only fall with distance
                }
                let mut y = x;
                y[k] = v;
                let l = loss(base, &y, &prep);
                if l < best - 1e-12 {
                    best = l;
                    x = y;
                    changed = true;
                }
            }
        }
        if !changed || sweeps >= 50 {
            break;
        }
    }
    let mut c = base.clone();
    apply(&mut c, &x);
    Ok(Fitted {
        coefficients: c,
        loss: best,
        pairs: obs.len(),
        sweeps,
    })
}

/// The whole calibration: the fit on all datasets and leave-one-provider-out.
#[derive(Clone, Debug)]
pub struct FitReport {
    /// The fit on all three datasets, with the jitter and asymmetry from the data.
    pub fitted: Fitted,
    /// Errors of the fitted model per dataset.
    pub in_sample: BTreeMap<&'static str, ErrorStats>,
    /// Errors of the fitted model's P95 against Azure's P95.
    pub p95: ErrorStats,
    /// For each dataset: the fit on the other two and its errors on this one.
    pub held_out: Vec<(&'static str, Fitted, ErrorStats)>,
}

/// Fits on all data and leave-one-provider-out, starting from `base`'s priors and backbone.
pub fn run_fit(data: &Datasets, base: &Coefficients) -> Result<FitReport, String> {
    let mut base = base.clone();
    base.jitter.p95_over_p50 = round_to(data.azure_p95_over_p50, 3);
    base.jitter.asymmetry_rel = round_to(data.aws_asymmetry_rel, 4);
    let fitted = fit(&base, &data.observations)?;
    let model = LatencyModel::from_coefficients(fitted.coefficients.clone(), EVAL_SEED)?;
    let in_sample = evaluate(&model, &data.observations);
    let p95 = evaluate_p95(&model, &data.azure_p95);
    let mut held_out = Vec::new();
    for ds in DATASETS {
        let train: Vec<Observation> = data
            .observations
            .iter()
            .filter(|o| o.dataset != ds)
            .cloned()
            .collect();
        let test: Vec<Observation> = data
            .observations
            .iter()
            .filter(|o| o.dataset == ds)
            .cloned()
            .collect();
        let f = fit(&base, &train)?;
        let m = LatencyModel::from_coefficients(f.coefficients.clone(), EVAL_SEED)?;
        let e = evaluate(&m, &test)[ds];
        held_out.push((ds, f, e));
    }
    Ok(FitReport {
        fitted,
        in_sample,
        p95,
        held_out,
    })
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// One line per fitted coefficient set.
pub fn describe(c: &Coefficients) -> String {
    format!(
        "stretch far {:.2} near {:.2} scale {} km; short path {:.1} ms scale {} km; direct {} km, access margin {} km",
        c.stretch.far,
        c.stretch.near,
        c.stretch.scale_km,
        c.short_path.add_ms,
        c.short_path.scale_km,
        c.routing.direct_km,
        c.routing.access_margin_km
    )
}

/// A table of per-dataset errors.
pub fn error_table(rows: &[(String, ErrorStats)]) -> String {
    let mut s = format!(
        "{:<28} {:>6} {:>12} {:>10}\n",
        "dataset", "pairs", "median |e|%", "P90 |e|%"
    );
    for (name, e) in rows {
        let _ = writeln!(
            s,
            "{:<28} {:>6} {:>12.1} {:>10.1}",
            name, e.n, e.median_abs_pct, e.p90_abs_pct
        );
    }
    s
}

/// Human-readable report of a fit, with the shipped model's errors for comparison.
pub fn render_report(
    data: &Datasets,
    shipped: &BTreeMap<&'static str, ErrorStats>,
    r: &FitReport,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "data: {} median pairs ({}), Azure P95/P50 median {:.3}, AWS direction asymmetry median {:.2}%",
        data.observations.len(),
        DATASETS
            .iter()
            .map(|d| format!(
                "{d} {}",
                data.observations.iter().filter(|o| o.dataset == *d).count()
            ))
            .collect::<Vec<_>>()
            .join(", "),
        data.azure_p95_over_p50,
        data.aws_asymmetry_rel * 100.0
    );
    for e in &data.excluded {
        let _ = writeln!(s, "excluded: {e}");
    }
    let rows = |m: &BTreeMap<&'static str, ErrorStats>| -> Vec<(String, ErrorStats)> {
        m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    let _ = writeln!(
        s,
        "\nshipped coefficients (models/latency.toml), seed {EVAL_SEED}:"
    );
    s.push_str(&error_table(&rows(shipped)));
    let _ = writeln!(
        s,
        "\nfit on all datasets ({} sweeps, loss {:.4}):\n  {}",
        r.fitted.sweeps,
        r.fitted.loss,
        describe(&r.fitted.coefficients)
    );
    let mut all = rows(&r.in_sample);
    all.push(("azure P95".into(), r.p95));
    s.push_str(&error_table(&all));
    let _ = writeln!(
        s,
        "\nheld out (leave one provider out: fit on the other two, test on this one):"
    );
    let ho: Vec<(String, ErrorStats)> = r
        .held_out
        .iter()
        .map(|(d, _, e)| (format!("{d} (held out)"), *e))
        .collect();
    s.push_str(&error_table(&ho));
    for (d, f, _) in &r.held_out {
        let _ = writeln!(s, "  without {d}: {}", describe(&f.coefficients));
    }
    s
}

/// `text` (a `latency.toml`) with the fitted values and provenance replaced, comments kept.
pub fn rewrite_toml(text: &str, data: &Datasets, r: &FitReport) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let c = &r.fitted.coefficients;
    let mut set = |table: &str, key: &str, v: toml_edit::Value| -> Result<(), String> {
        let t = doc
            .get_mut(table)
            .and_then(|t| t.as_table_mut())
            .ok_or_else(|| format!("latency.toml has no [{table}] table"))?;
        match t.get_mut(key).and_then(|i| i.as_value_mut()) {
            Some(old) => {
                let decor = old.decor().clone();
                *old = v;
                *old.decor_mut() = decor;
            }
            None => {
                t.insert(key, toml_edit::value(v));
            }
        }
        Ok(())
    };
    set("stretch", "far", c.stretch.far.into())?;
    set("stretch", "near", c.stretch.near.into())?;
    set("stretch", "scale_km", c.stretch.scale_km.into())?;
    set("short_path", "add_ms", c.short_path.add_ms.into())?;
    set("short_path", "scale_km", c.short_path.scale_km.into())?;
    set("routing", "direct_km", c.routing.direct_km.into())?;
    set(
        "routing",
        "access_margin_km",
        c.routing.access_margin_km.into(),
    )?;
    set("jitter", "p95_over_p50", c.jitter.p95_over_p50.into())?;
    set("jitter", "asymmetry_rel", c.jitter.asymmetry_rel.into())?;
    for (file, hash) in &data.sha256 {
        let key = format!("{}_sha256", file.trim_end_matches(".csv"));
        set("provenance", &key, hash.as_str().into())?;
    }
    set("provenance", "pairs", (r.fitted.pairs as i64).into())?;
    set("provenance", "loss", round_to(r.fitted.loss, 6).into())?;
    let out = doc.to_string();
    Coefficients::from_toml(&out)?;
    Ok(out)
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
    }

    #[test]
    fn names_file_parses_and_maps_to_the_catalogue() {
        let names = parse_names(BUILTIN_NAMES_CSV).unwrap();
        let cat = Catalogue::builtin();
        assert!(names.len() >= 54 + 13);
        for ((ds, name), (p, r)) in &names {
            assert!(cat.find(p, r).is_some(), "{ds} {name} -> {p}:{r}");
        }
        assert_eq!(
            names[&("azure".to_string(), "Korea Central".to_string())],
            ("azure".to_string(), "koreacentral".to_string())
        );
        assert!(parse_names("a,b\n").is_err());
        assert!(parse_names("dataset,name,provider,region\nx,y,aws,a\nx,y,aws,b\n").is_err());
    }

    #[test]
    fn fit_recovers_synthetic_coefficients() {
        // Observations generated by the model itself are fitted back (to the grid).
        let cat = Catalogue::builtin();
        let mut truth = LatencyModel::builtin(1).coefficients().clone();
        truth.stretch.far = 1.45;
        truth.stretch.near = 2.2;
        truth.stretch.scale_km = 3000.0;
        truth.short_path.add_ms = 3.5;
        truth.short_path.scale_km = 2000.0;
        let m = LatencyModel::from_coefficients(truth.clone(), 1).unwrap();
        let regions: Vec<&Region> = cat.of_provider("gcp").collect();
        let mut obs = Vec::new();
        for a in &regions {
            for b in &regions {
                if a.key() != b.key() {
                    let g = m.geometry(a, b);
                    obs.push(Observation {
                        dataset: "aws",
                        src: (*a).clone(),
                        dst: (*b).clone(),
                        rtt_ms: truth.core_ms(&g),
                    });
                }
            }
        }
        let f = fit(&truth, &obs).unwrap();
        assert!(f.loss < 0.01, "loss {}", f.loss);
        assert!((f.coefficients.stretch.far - 1.45).abs() < 0.03);
    }
}
