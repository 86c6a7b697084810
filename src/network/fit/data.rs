//! The calibration data (`../shared/data`, provenance in its SOURCES.md), read and mapped to
//! catalogue regions:
//! - `aws_rtt_p50.csv`: AWS CloudPing P50, long form with region codes. Same-region rows are
//!   excluded: they are TCP connect times to a service endpoint, not VM-to-VM RTTs.
//! - `azure_rtt_p50.csv` (and `azure_rtt_p95.csv` for the jitter ratio): Azure's published
//!   matrices, display names mapped to region codes by `models/latency_names.csv`.
//! - `ibm_rtt_avg.csv`: IBM Cloud VPC 30-day averages, city names mapped by the same file.
//! - `skyplane_rtt_cross_cloud.csv`: Skyplane's VM-to-VM pings between AWS, Azure and GCP
//!   (directed rows, GCP zones mapped to their region). Only PREMIUM-tier rows are kept (GCP's
//!   default tier; STANDARD leaves Google's backbone early). A row's RTT is `avg_rtt` when it has
//!   `mdev_rtt`, else `min_rtt`: the rows without `mdev_rtt` (GCP-sourced) have an `avg_rtt`
//!   inflated by a few outlier probes in about a fifth of the rows, while their `min_rtt` agrees
//!   with the reverse direction's average (median ratio 0.999). Rows whose `min_rtt` is below the
//!   fibre floor are dropped (SOURCES.md), and so are rows without `mdev_rtt` whose `max_rtt`
//!   exceeds `min_rtt` by more than [`MAX_SPREAD`]: in those even the minimum is off (São Paulo
//!   to Bahrain at 125 ms over 11,800 km, the reverse direction and every similar pair near
//!   300 ms), while 95% of the rows with `mdev_rtt` spread by under 5%. Rows mapping to one
//!   directed region pair are merged by their median.

use crate::network::coefficients::{fibre_floor_ms, provider_pair_key};
use crate::scenario::sha256_hex;
use crate::topology::{Catalogue, Region, great_circle_km};
use std::collections::BTreeMap;
use std::path::Path;

/// `models/latency_names.csv`, built into the binary.
pub const BUILTIN_NAMES_CSV: &str = include_str!("../../../models/latency_names.csv");

/// The datasets, in report order.
pub const DATASETS: [&str; 4] = ["aws", "azure", "ibm", "skyplane"];

/// The data files read, in order.
pub const DATA_FILES: [&str; 5] = [
    "aws_rtt_p50.csv",
    "azure_rtt_p50.csv",
    "azure_rtt_p95.csv",
    "ibm_rtt_avg.csv",
    SKYPLANE_FILE,
];

const SKYPLANE_FILE: &str = "skyplane_rtt_cross_cloud.csv";

/// A Skyplane row without `mdev_rtt` is dropped when max_rtt > (1 + MAX_SPREAD) min_rtt.
pub const MAX_SPREAD: f64 = 0.10;

/// One measured median RTT between two catalogue regions.
#[derive(Clone, Debug)]
pub struct Observation {
    /// One of [`DATASETS`].
    pub dataset: &'static str,
    pub src: Region,
    pub dst: Region,
    pub rtt_ms: f64,
}

impl Observation {
    /// Published by a provider (measured otherwise than VM-to-VM ping).
    pub fn published(&self) -> bool {
        self.dataset != "skyplane"
    }

    /// `aws-gcp`: the providers of the two ends, in order.
    pub fn provider_pair(&self) -> String {
        provider_pair_key(&self.src.provider, &self.dst.provider)
    }

    /// Great-circle distance between the two regions (km).
    pub fn d_km(&self) -> f64 {
        great_circle_km(self.src.lat, self.src.lon, self.dst.lat, self.dst.lon)
    }
}

/// One Skyplane ping series with all four statistics (rows that have `mdev_rtt`).
#[derive(Clone, Debug)]
pub struct PingSeries {
    pub src: Region,
    pub dst: Region,
    pub min_ms: f64,
    pub avg_ms: f64,
    pub max_ms: f64,
    pub mdev_ms: f64,
}

/// Everything the fit reads.
#[derive(Clone, Debug)]
pub struct Datasets {
    /// Off-diagonal medians: AWS P50, Azure P50, IBM average, Skyplane (see the module doc).
    pub observations: Vec<Observation>,
    /// Azure P95, for the pairs that have both P50 and P95 (`dataset` = "azure").
    pub azure_p95: Vec<Observation>,
    /// Median of Azure P95/P50 over those pairs.
    pub azure_p95_over_p50: f64,
    /// Median of |a->b - b->a| / mean over AWS pairs measured both ways.
    pub aws_asymmetry_rel: f64,
    /// Median of the AWS same-region rows (TCP connect inside one region; NaN without any):
    /// what the published measurement adds to a VM-to-VM RTT of `same_region.rtt_ms`.
    pub aws_same_region_ms: f64,
    /// Skyplane PREMIUM rows kept that have min/avg/max/mdev (for the distribution check).
    pub ping_series: Vec<PingSeries>,
    /// What was left out, and why.
    pub excluded: Vec<String>,
    /// SHA-256 of each data file, by file name.
    pub sha256: BTreeMap<String, String>,
}

impl Datasets {
    /// Observations of one dataset.
    pub fn of(&self, dataset: &str) -> impl Iterator<Item = &Observation> {
        self.observations
            .iter()
            .filter(move |o| o.dataset == dataset)
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

/// Loads and maps the data files in `dir` (names mapped with the built-in `latency_names.csv`).
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
    let mut observations = Vec::new();
    let mut excluded = Vec::new();

    let (aws, mut same) = load_aws(&texts["aws_rtt_p50.csv"], cat)?;
    excluded.push(format!(
        "aws: {} same-region rows (TCP connect time to a service endpoint, not VM to VM)",
        same.len()
    ));
    observations.extend(aws);
    let azure = load_square("azure", "azure_rtt_p50.csv", &texts, &names, cat)?;
    let azure95 = load_square("azure", "azure_rtt_p95.csv", &texts, &names, cat)?;
    observations.extend(azure.iter().cloned());
    observations.extend(load_square("ibm", "ibm_rtt_avg.csv", &texts, &names, cat)?);
    excluded.push("azure, ibm: the diagonals are empty in the published matrices".into());
    let sky = load_skyplane(&texts[SKYPLANE_FILE], cat)?;
    observations.extend(sky.observations);
    excluded.extend(sky.excluded);

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
        aws_same_region_ms: median(&mut same),
        ping_series: sky.series,
        excluded,
        sha256,
    })
}

fn find(cat: &Catalogue, file: &str, line: u64, p: &str, r: &str) -> Result<Region, String> {
    cat.find(p, r).cloned().ok_or_else(|| {
        format!("{file} line {line}: region {p}:{r} is not in the catalogue (models/regions.csv)")
    })
}

fn number(file: &str, line: u64, col: &str, cell: &str) -> Result<f64, String> {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "{file} line {line}: {col} `{cell}` is not a positive number of ms"
        )),
    }
}

/// AWS CloudPing, long form `src_region,dst_region,p50_rtt_ms`; returns the off-diagonal
/// observations and the number of same-region rows left out.
fn load_aws(text: &str, cat: &Catalogue) -> Result<(Vec<Observation>, Vec<f64>), String> {
    const FILE: &str = "aws_rtt_p50.csv";
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut same = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("{FILE}: {e}"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let cell = |i: usize| rec.get(i).unwrap_or("");
        let v = number(FILE, line, "p50_rtt_ms", cell(2))?;
        if cell(0) == cell(1) {
            same.push(v);
            continue;
        }
        out.push(Observation {
            dataset: "aws",
            src: find(cat, FILE, line, "aws", cell(0))?,
            dst: find(cat, FILE, line, "aws", cell(1))?,
            rtt_ms: v,
        });
    }
    Ok((out, same))
}

/// A square matrix with published names (first column: source; header: destinations).
fn load_square(
    dataset: &'static str,
    file: &str,
    texts: &BTreeMap<&str, String>,
    names: &NameMap,
    cat: &Catalogue,
) -> Result<Vec<Observation>, String> {
    let map = |name: &str, line: u64| -> Result<Region, String> {
        let (p, r) = names
            .get(&(dataset.to_string(), name.to_string()))
            .ok_or_else(|| {
                format!(
                    "{file} line {line}: `{name}` is not in models/latency_names.csv ({dataset})"
                )
            })?;
        find(cat, file, line, p, r)
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(texts[file].as_bytes());
    let cols: Vec<Region> = rdr
        .headers()
        .map_err(|e| format!("{file}: {e}"))?
        .iter()
        .skip(1)
        .map(|n| map(n, 1))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("{file}: {e}"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let src = map(rec.get(0).unwrap_or(""), line)?;
        for (dst, cell) in cols.iter().zip(rec.iter().skip(1)) {
            if cell.is_empty() || dst.key() == src.key() {
                continue;
            }
            out.push(Observation {
                dataset,
                src: src.clone(),
                dst: dst.clone(),
                rtt_ms: number(file, line, &format!("the value for {}", dst.key()), cell)?,
            });
        }
    }
    Ok(out)
}

struct Skyplane {
    observations: Vec<Observation>,
    series: Vec<PingSeries>,
    excluded: Vec<String>,
}

/// `provider:region` or `provider:zone` (GCP rows name zones) -> the catalogue region.
fn skyplane_region(cat: &Catalogue, line: u64, name: &str) -> Result<Region, String> {
    let Some((p, r)) = name.split_once(':') else {
        return Err(format!(
            "{SKYPLANE_FILE} line {line}: `{name}` is not provider:region"
        ));
    };
    let p = p.to_ascii_lowercase();
    if let Some(reg) = cat.find(&p, r) {
        return Ok(reg.clone());
    }
    cat.of_provider(&p)
        .find(|reg| reg.zones.iter().any(|z| z == r))
        .cloned()
        .ok_or_else(|| {
            format!(
                "{SKYPLANE_FILE} line {line}: {p}:{r} is neither a region nor a zone of one in \
                 the catalogue (models/regions.csv)"
            )
        })
}

fn load_skyplane(text: &str, cat: &Catalogue) -> Result<Skyplane, String> {
    const COLS: [&str; 8] = [
        "src_region",
        "src_tier",
        "dst_region",
        "dst_tier",
        "min_rtt",
        "avg_rtt",
        "max_rtt",
        "mdev_rtt",
    ];
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let h = rdr
        .headers()
        .map_err(|e| format!("{SKYPLANE_FILE}: {e}"))?
        .clone();
    let mut idx = [0usize; 8];
    for (k, c) in COLS.iter().enumerate() {
        idx[k] = h.iter().position(|x| x == *c).ok_or_else(|| {
            format!(
                "{SKYPLANE_FILE} line 1: no `{c}` column (expected {})",
                COLS.join(",")
            )
        })?;
    }
    let (mut rows, mut standard, mut below, mut same) = (0usize, 0usize, 0usize, 0usize);
    let mut spread = 0usize;
    let mut merged: BTreeMap<(String, String), (Region, Region, Vec<f64>)> = BTreeMap::new();
    let mut series = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("{SKYPLANE_FILE}: {e}"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let cell = |k: usize| rec.get(idx[k]).unwrap_or("");
        rows += 1;
        let src = skyplane_region(cat, line, cell(0))?;
        let dst = skyplane_region(cat, line, cell(2))?;
        for k in [1, 3] {
            if cell(k) != "PREMIUM" && cell(k) != "STANDARD" {
                return Err(format!(
                    "{SKYPLANE_FILE} line {line}: {} `{}` is not PREMIUM or STANDARD",
                    COLS[k],
                    cell(k)
                ));
            }
        }
        let min = number(SKYPLANE_FILE, line, "min_rtt", cell(4))?;
        let avg = number(SKYPLANE_FILE, line, "avg_rtt", cell(5))?;
        let max = number(SKYPLANE_FILE, line, "max_rtt", cell(6))?;
        let mdev = match cell(7) {
            "" => None,
            c => Some(c.parse::<f64>().ok().filter(|v| *v >= 0.0).ok_or_else(|| {
                format!("{SKYPLANE_FILE} line {line}: mdev_rtt `{c}` is not a number >= 0")
            })?),
        };
        if cell(1) != "PREMIUM" || cell(3) != "PREMIUM" {
            standard += 1;
            continue;
        }
        if src.key() == dst.key() {
            same += 1;
            continue;
        }
        let floor = fibre_floor_ms(great_circle_km(src.lat, src.lon, dst.lat, dst.lon));
        if min < floor {
            below += 1;
            continue;
        }
        if mdev.is_none() && max > min * (1.0 + MAX_SPREAD) {
            spread += 1;
            continue;
        }
        let v = if mdev.is_some() { avg } else { min };
        if let Some(mdev_ms) = mdev {
            series.push(PingSeries {
                src: src.clone(),
                dst: dst.clone(),
                min_ms: min,
                avg_ms: avg,
                max_ms: max,
                mdev_ms,
            });
        }
        merged
            .entry((src.key(), dst.key()))
            .or_insert_with(|| (src, dst, Vec::new()))
            .2
            .push(v);
    }
    let mut dups = 0;
    let observations = merged
        .into_values()
        .map(|(src, dst, mut v)| {
            dups += v.len() - 1;
            Observation {
                dataset: "skyplane",
                src,
                dst,
                rtt_ms: median(&mut v),
            }
        })
        .collect();
    let excluded = vec![
        format!(
            "skyplane: {standard} of {rows} rows with a STANDARD-tier end (GCP's default is PREMIUM)"
        ),
        format!("skyplane: {below} PREMIUM rows with min_rtt below the fibre floor (SOURCES.md)"),
        format!(
            "skyplane: {spread} PREMIUM rows without mdev_rtt whose max_rtt exceeds min_rtt by more than {:.0}%",
            MAX_SPREAD * 100.0
        ),
        format!(
            "skyplane: {same} same-region rows; {dups} rows merged into their directed pair's median"
        ),
    ];
    Ok(Skyplane {
        observations,
        series,
        excluded,
    })
}

/// The median (the mean of the two middle values for an even count); NaN when empty.
pub fn median(v: &mut [f64]) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    const HEADER: &str = "src_region,src_tier,src_instance_class,dst_region,dst_tier,dst_instance_class,min_rtt,avg_rtt,max_rtt,mdev_rtt\n";

    #[test]
    fn skyplane_rows_are_mapped_filtered_and_merged() {
        let cat = Catalogue::builtin();
        let text = format!(
            "{HEADER}\
             gcp:us-east1-b,PREMIUM,n2,aws:us-east-1,PREMIUM,m5,12.0,12.9,13.1,\n\
             gcp:us-east1-c,PREMIUM,n2,aws:us-east-1,PREMIUM,m5,12.4,12.5,12.6,\n\
             aws:us-east-1,PREMIUM,m5,gcp:us-east1-b,PREMIUM,n2,12.0,12.2,12.5,0.1\n\
             aws:us-east-1,PREMIUM,m5,gcp:us-east1-b,STANDARD,n2,14.0,14.2,14.5,0.1\n\
             aws:us-east-1,PREMIUM,m5,azure:koreacentral,PREMIUM,D2,1.0,1.2,1.5,0.1\n\
             gcp:us-east1-b,PREMIUM,n2,azure:koreacentral,PREMIUM,D2,200.0,260.0,300.0,\n"
        );
        let s = load_skyplane(&text, &cat).unwrap();
        // Zones map to their region, merged by the median; min_rtt without mdev, avg_rtt with
        // it; STANDARD, sub-floor and widely spread rows without mdev are dropped.
        let got: Vec<(String, String, f64)> = s
            .observations
            .iter()
            .map(|o| (o.src.key(), o.dst.key(), o.rtt_ms))
            .collect();
        assert_eq!(
            got,
            [
                ("aws:us-east-1".into(), "gcp:us-east1".into(), 12.2),
                ("gcp:us-east1".into(), "aws:us-east-1".into(), 12.2),
            ]
        );
        assert_eq!(s.series.len(), 1);
        let starts = [
            "skyplane: 1 of 6",
            "skyplane: 1 PREMIUM",
            "skyplane: 1 PREMIUM rows without",
        ];
        for (e, want) in s.excluded.iter().zip(starts) {
            assert!(e.starts_with(want), "{:?}", s.excluded);
        }
        assert!(s.excluded[3].contains("1 rows merged"), "{:?}", s.excluded);
    }

    #[test]
    fn skyplane_errors_name_the_line_and_what_was_expected() {
        let cat = Catalogue::builtin();
        let e = load_skyplane("src_region,dst_region\n", &cat)
            .err()
            .unwrap();
        assert!(e.contains("line 1") && e.contains("src_tier"), "{e}");
        let bad_zone =
            format!("{HEADER}gcp:atlantis1-a,PREMIUM,n2,aws:us-east-1,PREMIUM,m5,1,2,3,\n");
        let e = load_skyplane(&bad_zone, &cat).err().unwrap();
        assert!(e.contains("line 2") && e.contains("gcp:atlantis1-a"), "{e}");
        let bad_num =
            format!("{HEADER}gcp:us-east1-b,PREMIUM,n2,aws:us-east-1,PREMIUM,m5,1,x,3,\n");
        let e = load_skyplane(&bad_num, &cat).err().unwrap();
        assert!(e.contains("line 2") && e.contains("avg_rtt `x`"), "{e}");
        let bad_tier = format!("{HEADER}gcp:us-east1-b,GOLD,n2,aws:us-east-1,PREMIUM,m5,1,2,3,\n");
        let e = load_skyplane(&bad_tier, &cat).err().unwrap();
        assert!(e.contains("src_tier `GOLD`"), "{e}");
    }
}
