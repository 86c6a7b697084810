//! The RTT model: a pair's median round-trip time from geography, its P95 and mean, and probes
//! with jitter on two time scales (a series' level over time, the probes within a series).
//! Coefficients come from `models/latency.toml` ([`super::coefficients`]; formula and provenance
//! in that file and in `models/README.md`).
//!
//! Determinism: the per-pair effect and the direction asymmetry are drawn from a ChaCha stream
//! keyed by the seed and the pair's two `provider:region` keys (in key order), so a pair's value
//! never depends on which pairs were asked for before it. Probes draw from the caller's stream.

use super::backbone::{Backbone, Path};
use super::coefficients::{Coefficients, PairGeometry, RttStat, fibre_floor_ms};
use super::measured::MeasuredMatrix;
use crate::engine::rng::{RngFactory, SimRng, StreamFamily};
use crate::topology::{Catalogue, Region, great_circle_km};
use rand_distr::{Distribution, StandardNormal};

/// `models/latency.toml`, built into the binary.
pub const BUILTIN_LATENCY_TOML: &str = include_str!("../../models/latency.toml");

/// Median of |N(0, 1)|: turns a median absolute deviation into a standard deviation.
const MEDIAN_ABS_NORMAL: f64 = 0.674_489_750_196_081_7;

/// The calibrated RTT model, optionally overridden by measurements.
#[derive(Clone, Debug)]
pub struct LatencyModel {
    coef: Coefficients,
    backbone: Backbone,
    seed: u64,
    pairs: StreamFamily,
    measured: Option<MeasuredMatrix>,
}

impl LatencyModel {
    /// The model with the coefficients shipped in `models/latency.toml`.
    pub fn builtin(seed: u64) -> Self {
        LatencyModel::from_toml(BUILTIN_LATENCY_TOML, seed).expect("models/latency.toml is valid")
    }

    /// A model from `latency.toml` text.
    pub fn from_toml(text: &str, seed: u64) -> Result<Self, String> {
        LatencyModel::from_coefficients(Coefficients::from_toml(text)?, seed)
    }

    pub fn from_coefficients(coef: Coefficients, seed: u64) -> Result<Self, String> {
        coef.validate()?;
        let backbone = Backbone::new(&coef.backbone)?;
        Ok(LatencyModel {
            coef,
            backbone,
            seed,
            pairs: RngFactory::new(seed).family("latency.pair"),
            measured: None,
        })
    }

    /// Pairs the matrix covers use the measured value as their median (a missing direction
    /// falls back to the measured reverse direction); all others use the model.
    pub fn with_measured(mut self, m: MeasuredMatrix) -> Self {
        self.measured = Some(m);
        self
    }

    pub fn coefficients(&self) -> &Coefficients {
        &self.coef
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn measured(&self) -> Option<&MeasuredMatrix> {
        self.measured.as_ref()
    }

    pub fn backbone(&self) -> &Backbone {
        &self.backbone
    }

    /// Distance, routed path and provider relation of a pair.
    pub fn geometry(&self, a: &Region, b: &Region) -> PairGeometry {
        let same_provider = a.provider == b.provider;
        let same_region = same_provider && a.region == b.region;
        let d_km = great_circle_km(a.lat, a.lon, b.lat, b.lon);
        let path = if same_region {
            Path {
                km: d_km,
                sea_km: 0.0,
            }
        } else {
            self.backbone.route_between(
                (a.lat, a.lon),
                (b.lat, b.lon),
                &self.coef.routing,
                &a.provider,
                &b.provider,
            )
        };
        PairGeometry {
            d_km,
            path_km: path.km,
            sea_km: path.sea_km,
            same_provider,
            same_region,
            interconnect_ms: if same_provider {
                0.0
            } else {
                self.coef
                    .cross_provider
                    .interconnect(&a.provider, &b.provider)
            },
        }
    }

    /// The fibre floor of a pair (ms): no RTT the model gives is below it.
    pub fn floor_ms(&self, a: &Region, b: &Region) -> f64 {
        fibre_floor_ms(great_circle_km(a.lat, a.lon, b.lat, b.lon))
    }

    /// The seeded multiplicative effect of the ordered pair a -> b: the per-pair effect (shared by
    /// both directions) times half the direction asymmetry (opposite in the two directions).
    pub fn pair_effect(&self, a: &Region, b: &Region) -> f64 {
        let (ka, kb) = (a.key(), b.key());
        let (lo, hi, forward) = if ka <= kb {
            (&ka, &kb, true)
        } else {
            (&kb, &ka, false)
        };
        let mut rng = self.pairs.rng(pair_id(lo, hi));
        let j = &self.coef.jitter;
        let z1: f64 = StandardNormal.sample(&mut rng);
        let z2: f64 = StandardNormal.sample(&mut rng);
        let shared = j.pair_sigma * z1.clamp(-j.pair_clip, j.pair_clip);
        if ka == kb {
            return shared.exp();
        }
        let asym = j.asymmetry_rel / MEDIAN_ABS_NORMAL * z2.clamp(-3.0, 3.0);
        let half = if forward { asym / 2.0 } else { -asym / 2.0 };
        (shared + half).exp()
    }

    /// The model's median RTT (ms) of a -> b, ignoring any measured matrix.
    pub fn model_median_rtt_ms(&self, a: &Region, b: &Region) -> f64 {
        let g = self.geometry(a, b);
        let m = self.coef.core_ms(&g) * self.pair_effect(a, b);
        m.max(fibre_floor_ms(g.d_km))
    }

    /// The median RTT (ms) of a -> b: the measured value if the override covers the pair, else
    /// the model. Never below the fibre floor (a measurement below it is raised to it: region
    /// coordinates are metro-level).
    pub fn median_rtt_ms(&self, a: &Region, b: &Region) -> f64 {
        if let Some(m) = self
            .measured
            .as_ref()
            .and_then(|m| m.lookup(&a.key(), &b.key()))
        {
            return m.max(self.floor_ms(a, b));
        }
        self.model_median_rtt_ms(a, b)
    }

    /// A statistic of the RTT of a -> b (ms).
    pub fn rtt_ms(&self, a: &Region, b: &Region, stat: RttStat) -> f64 {
        (self.median_rtt_ms(a, b) * self.coef.stat_ratio(stat)).max(self.floor_ms(a, b))
    }

    /// One lone probe's RTT (ms): a series of one (see [`LatencyModel::sample_series_ms`]).
    pub fn sample_rtt_ms(&self, a: &Region, b: &Region, rng: &mut SimRng) -> f64 {
        let level = self.coef.jitter.draw_level(rng);
        (self.median_rtt_ms(a, b) * level * self.coef.jitter.draw_probe(rng))
            .max(self.floor_ms(a, b))
    }

    /// The RTTs (ms) of `n` probes sent back to back, as a status test or ping does: the series'
    /// level varies from one series to the next (shifted exponential: a queueing tail over the
    /// propagation time, P95/P50 the calibrated ratio), the probes vary little around it
    /// (`jitter.probe_sd_rel`). Never below the floor.
    pub fn sample_series_ms(&self, a: &Region, b: &Region, n: usize, rng: &mut SimRng) -> Vec<f64> {
        let (m, floor) = (self.median_rtt_ms(a, b), self.floor_ms(a, b));
        let level = m * self.coef.jitter.draw_level(rng);
        (0..n)
            .map(|_| (level * self.coef.jitter.draw_probe(rng)).max(floor))
            .collect()
    }

    /// The RTT matrix of `regions` (row = source, column = destination).
    pub fn matrix(&self, regions: &[Region], stat: RttStat) -> Vec<Vec<f64>> {
        regions
            .iter()
            .map(|a| regions.iter().map(|b| self.rtt_ms(a, b, stat)).collect())
            .collect()
    }
}

/// A stable 64-bit id of an unordered pair (FNV-1a over the two keys in order).
fn pair_id(lo: &str, hi: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in lo.bytes().chain(std::iter::once(0x1f)).chain(hi.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Parses `aws:us-east-1,gcp:europe-west3` into catalogue regions. Every unknown or malformed
/// entry is named in the error (with spelling hints); an entry listed twice is an error.
pub fn parse_region_list(s: &str, cat: &Catalogue) -> Result<Vec<Region>, String> {
    let names: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    find_regions(&names, cat)
}

/// Looks up `provider:region` names in the catalogue; the error names every problem.
pub fn find_regions(names: &[String], cat: &Catalogue) -> Result<Vec<Region>, String> {
    if names.is_empty() {
        return Err("no regions given (expected provider:region, ...)".into());
    }
    let providers = cat.providers();
    let mut out: Vec<Region> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut twice: Vec<String> = Vec::new();
    for name in names {
        let Some((p, r)) = name.split_once(':') else {
            unknown.push(format!("`{name}` (not provider:region)"));
            continue;
        };
        let (p, r) = (p.trim().to_ascii_lowercase(), r.trim());
        if !providers.contains_key(p.as_str()) {
            unknown.push(format!(
                "{p}:{r} (unknown provider `{p}`; known: {})",
                providers.keys().copied().collect::<Vec<_>>().join(", ")
            ));
            continue;
        }
        match cat.find(&p, r) {
            Some(reg) if out.iter().any(|x| x.key() == reg.key()) => {
                if !twice.contains(&reg.key()) {
                    twice.push(reg.key());
                }
            }
            Some(reg) => out.push(reg.clone()),
            None => {
                let hint = cat.suggest(&p, r);
                unknown.push(if hint.is_empty() {
                    format!("{p}:{r}")
                } else {
                    format!("{p}:{r} (did you mean {}?)", hint.join(", "))
                });
            }
        }
    }
    let mut parts = Vec::new();
    if !unknown.is_empty() {
        parts.push(format!(
            "unknown region{}: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        ));
    }
    if !twice.is_empty() {
        parts.push(format!("listed twice: {}", twice.join(", ")));
    }
    if parts.is_empty() {
        Ok(out)
    } else {
        Err(parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn region(cat: &Catalogue, key: &str) -> Region {
        cat.find_key(key).unwrap().clone()
    }

    #[test]
    fn builtin_coefficients_load_and_check() {
        let m = LatencyModel::builtin(1);
        assert!(m.backbone().hub_names().len() > 20);
        let mut c = m.coefficients().clone();
        c.stretch.far = 0.5;
        assert!(c.validate().unwrap_err().contains("stretch.far"));
        let bad = BUILTIN_LATENCY_TOML.replace("[stretch]", "[stretch]\nextra = 1");
        assert!(LatencyModel::from_toml(&bad, 1).is_err());
        // Provider corridors name a provider of the catalogue.
        let mut c = m.coefficients().clone();
        let azure = c.backbone.provider_links.remove("azure").unwrap();
        c.backbone.provider_links.insert("azur".into(), azure);
        let e = c.validate().unwrap_err();
        assert!(e.contains("`azur`") && e.contains("azure"), "{e}");
        // Interconnect keys are provider pairs in order; unknown pairs take the default.
        let mut c = m.coefficients().clone();
        c.cross_provider.interconnect_ms = [("gcp-aws".to_string(), 2.0)].into();
        assert!(c.validate().unwrap_err().contains("`gcp-aws`"));
        c.cross_provider.interconnect_ms = [("aws-gcp".to_string(), -1.0)].into();
        assert!(c.validate().unwrap_err().contains("aws-gcp = -1"));
        c.cross_provider.interconnect_ms = [("aws-gcp".to_string(), 1.25)].into();
        c.cross_provider.default_interconnect_ms = 3.5;
        assert!(c.validate().is_ok());
        assert_eq!(c.cross_provider.interconnect("gcp", "aws"), 1.25);
        assert_eq!(c.cross_provider.interconnect("oci", "aws"), 3.5);
    }

    #[test]
    fn known_pairs_are_plausible() {
        let cat = Catalogue::builtin();
        let m = LatencyModel::builtin(1);
        let (use1, fra) = (
            region(&cat, "aws:us-east-1"),
            region(&cat, "aws:eu-central-1"),
        );
        let v = m.median_rtt_ms(&use1, &fra);
        assert!((75.0..105.0).contains(&v), "N. Virginia - Frankfurt {v}");
        let same = m.median_rtt_ms(&use1, &use1);
        assert!((0.1..=2.0).contains(&same), "same region {same}");
        // Same metro, different providers: 1.5-4.4 ms.
        let gfra = region(&cat, "gcp:europe-west3");
        let metro = m.median_rtt_ms(&fra, &gfra);
        assert!((1.5..=4.4).contains(&metro), "Frankfurt aws-gcp {metro}");
    }

    #[test]
    fn stats_and_probes() {
        let cat = Catalogue::builtin();
        let m = LatencyModel::builtin(3);
        let (a, b) = (
            region(&cat, "aws:us-east-1"),
            region(&cat, "azure:koreacentral"),
        );
        let p50 = m.rtt_ms(&a, &b, RttStat::P50);
        let p95 = m.rtt_ms(&a, &b, RttStat::P95);
        let mean = m.rtt_ms(&a, &b, RttStat::Mean);
        assert!(p50 < mean && mean < p95, "{p50} {mean} {p95}");
        let mut rng = SimRng::seed_from_u64(5);
        let mut xs: Vec<f64> = (0..20_000)
            .map(|_| m.sample_rtt_ms(&a, &b, &mut rng))
            .collect();
        xs.sort_by(f64::total_cmp);
        let (med, q95) = (xs[xs.len() / 2], xs[xs.len() * 95 / 100]);
        assert!((med / p50 - 1.0).abs() < 0.005, "{med} vs {p50}");
        assert!((q95 / p95 - 1.0).abs() < 0.01, "{q95} vs {p95}");
        let avg = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((avg / mean - 1.0).abs() < 0.005, "{avg} vs {mean}");
        assert!(xs[0] >= m.floor_ms(&a, &b));
    }

    #[test]
    fn pair_effects_do_not_depend_on_call_order() {
        let cat = Catalogue::builtin();
        let regions: Vec<Region> = cat.regions().iter().take(12).cloned().collect();
        let m = LatencyModel::builtin(9);
        let fwd = m.matrix(&regions, RttStat::P50);
        let mut rev: Vec<Region> = regions.clone();
        rev.reverse();
        let back = m.matrix(&rev, RttStat::P50);
        let n = regions.len();
        for i in 0..n {
            for j in 0..n {
                assert_eq!(fwd[i][j], back[n - 1 - i][n - 1 - j]);
            }
        }
    }

    #[test]
    fn region_lists() {
        let cat = Catalogue::builtin();
        let r = parse_region_list(" aws:us-east-1, gcp:europe-west3 ,AZURE:koreacentral", &cat)
            .unwrap();
        let keys: Vec<String> = r.iter().map(Region::key).collect();
        assert_eq!(
            keys,
            ["aws:us-east-1", "gcp:europe-west3", "azure:koreacentral"]
        );
        let e =
            parse_region_list("aws:us-east-9,gcp:europe-west3,foo:bar,nocolon", &cat).unwrap_err();
        assert!(e.contains("aws:us-east-9"), "{e}");
        assert!(e.contains("did you mean us-east-1"), "{e}");
        assert!(e.contains("foo:bar"), "{e}");
        assert!(e.contains("nocolon"), "{e}");
        assert!(!e.contains("gcp:europe-west3"), "{e}");
        assert!(parse_region_list("", &cat).is_err());
        assert!(
            parse_region_list("aws:us-east-1,aws:us-east-1", &cat)
                .unwrap_err()
                .contains("twice")
        );
    }
}
