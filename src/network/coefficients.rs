//! The RTT model's coefficients (`models/latency.toml`: the file's schema and its checks) and
//! the median formula they define ([`Coefficients::core_ms`]) and the jitter's two draws
//! ([`Jitter`]); [`super::latency::LatencyModel`] adds the backbone routes, the seeded per-pair
//! effects and measured overrides. The formula,
//! each term's reason and the values' provenance are in that file and in `models/README.md`.

use super::backbone::{BackboneSpec, Routing};
use crate::engine::rng::SimRng;
use crate::topology::Catalogue;
use rand_distr::{Distribution, Exp1};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::f64::consts::{LN_2, LN_10};

/// Speed of light in optical fibre (km/s): about 2/3 of c.
pub const FIBRE_KM_PER_S: f64 = 204_000.0;

/// The physical lower bound of a round trip over `d_km` of great circle: 2 d / 204,000 km/s, in ms.
pub fn fibre_floor_ms(d_km: f64) -> f64 {
    2.0 * d_km / FIBRE_KM_PER_S * 1000.0
}

/// Which statistic of a pair's RTT distribution to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RttStat {
    /// The median.
    P50,
    /// The 95th percentile: median x `jitter.p95_over_p50`.
    P95,
    /// The mean of the per-probe jitter distribution.
    Mean,
}

impl RttStat {
    pub fn name(self) -> &'static str {
        match self {
            RttStat::P50 => "p50",
            RttStat::P95 => "p95",
            RttStat::Mean => "mean",
        }
    }
}

/// The contents of `models/latency.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coefficients {
    /// Where the values come from (free-form; written by `cloudtwin latency fit --write`).
    #[serde(default)]
    pub provenance: toml::Table,
    pub stretch: Stretch,
    pub short_path: ShortPath,
    pub routing: Routing,
    pub same_region: SameRegion,
    pub cross_provider: CrossProvider,
    pub measurement: Measurement,
    pub jitter: Jitter,
    pub backbone: BackboneSpec,
}

/// `[stretch]`: route stretch s(d) = far + (near - far) exp(-d / scale_km), applied to the
/// routed path's terrestrial km; its submarine km take the constant stretch `sea`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stretch {
    pub far: f64,
    pub near: f64,
    pub scale_km: f64,
    /// Stretch of a submarine km, whatever the pair's distance: a cable's length over the
    /// great circle between its landings does not depend on where the path's ends are.
    pub sea: f64,
}

/// `[short_path]`: additive add_ms exp(-d / scale_km) for same-provider pairs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShortPath {
    pub add_ms: f64,
    pub scale_km: f64,
}

/// `[same_region]`: VM-to-VM RTT inside one region of one provider.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SameRegion {
    pub rtt_ms: f64,
}

/// `[cross_provider]`: pairs of two different providers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossProvider {
    /// Multiplies the propagation part (peering is rarely on the shortest path).
    pub factor: f64,
    /// The hand-off between the two networks (ms), by provider pair `a-b` (names in order): the
    /// whole RTT of a same-metro pair, a constant on every other cross-provider pair.
    pub interconnect_ms: BTreeMap<String, f64>,
    /// The hand-off for provider pairs `interconnect_ms` does not list.
    pub default_interconnect_ms: f64,
}

impl CrossProvider {
    /// The hand-off (ms) between providers `a` and `b` (either order).
    pub fn interconnect(&self, a: &str, b: &str) -> f64 {
        self.interconnect_ms
            .get(&provider_pair_key(a, b))
            .copied()
            .unwrap_or(self.default_interconnect_ms)
    }
}

/// `aws-gcp`: the key of an unordered provider pair (names in order).
pub fn provider_pair_key(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}-{b}")
    } else {
        format!("{b}-{a}")
    }
}

/// `[measurement]`: how the published matrices differ from VM-to-VM ping. Used by the fit only:
/// the simulator's RTT is VM to VM.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    /// Added to the model's RTT when it is compared with the provider-published matrices (AWS
    /// CloudPing TCP connects, Azure and IBM monitoring), not with VM-to-VM pings (Skyplane).
    pub published_offset_ms: f64,
}

/// `[jitter]`: the RTT's variation over time (`p95_over_p50`: one status test or trip to the
/// next), the spread of the probes within one test (`probe_sd_rel`), the per-pair effect and the
/// direction asymmetry.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jitter {
    pub p95_over_p50: f64,
    /// Relative standard deviation of the probes of one series around that series' level (0 when
    /// absent: the probes of a test then share one draw).
    #[serde(default)]
    pub probe_sd_rel: f64,
    pub asymmetry_rel: f64,
    pub pair_sigma: f64,
    pub pair_clip: f64,
}

impl Jitter {
    /// See [`Coefficients::jitter_scale`].
    pub fn scale(&self) -> f64 {
        (self.p95_over_p50 - 1.0) / LN_10
    }

    /// The level of one series relative to the median: 1 + c (E - ln 2) (see `Coefficients::jitter_scale`).
    pub fn draw_level(&self, rng: &mut SimRng) -> f64 {
        let e: f64 = Exp1.sample(rng);
        1.0 + self.scale() * (e - LN_2)
    }

    /// One probe of a series relative to its level: 1 + s (E - 1), E ~ Exp(1) (a queueing tail,
    /// mean 1, standard deviation s = `probe_sd_rel`). No draw when s = 0.
    pub fn draw_probe(&self, rng: &mut SimRng) -> f64 {
        let s = self.probe_sd_rel;
        if s == 0.0 {
            return 1.0;
        }
        let e: f64 = Exp1.sample(rng);
        1.0 + s * (e - 1.0)
    }
}

/// What the model needs to know about a pair, apart from its per-pair effect.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairGeometry {
    /// Great-circle distance (km).
    pub d_km: f64,
    /// Length of the routed path (km), >= d_km.
    pub path_km: f64,
    /// Of which on submarine backbone links (km).
    pub sea_km: f64,
    pub same_provider: bool,
    /// Same provider and same region code.
    pub same_region: bool,
    /// The providers' hand-off (ms; 0 for same-provider pairs).
    pub interconnect_ms: f64,
}

impl Coefficients {
    /// Parses and checks `latency.toml` text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let c: Coefficients = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    /// Range checks with the key path in each message.
    pub fn validate(&self) -> Result<(), String> {
        let checks: [(&str, f64, f64, f64); 16] = [
            ("stretch.far", self.stretch.far, 1.0, 10.0),
            ("stretch.near", self.stretch.near, 1.0, 20.0),
            ("stretch.scale_km", self.stretch.scale_km, 1.0, 1e6),
            ("stretch.sea", self.stretch.sea, 0.5, 3.0),
            ("short_path.add_ms", self.short_path.add_ms, 0.0, 1000.0),
            ("short_path.scale_km", self.short_path.scale_km, 1.0, 1e6),
            ("routing.direct_km", self.routing.direct_km, 0.0, 1e6),
            (
                "routing.access_margin_km",
                self.routing.access_margin_km,
                0.0,
                1e6,
            ),
            ("same_region.rtt_ms", self.same_region.rtt_ms, 0.0, 1000.0),
            (
                "cross_provider.factor",
                self.cross_provider.factor,
                1.0,
                10.0,
            ),
            (
                "cross_provider.default_interconnect_ms",
                self.cross_provider.default_interconnect_ms,
                0.0,
                1000.0,
            ),
            (
                "measurement.published_offset_ms",
                self.measurement.published_offset_ms,
                -100.0,
                100.0,
            ),
            ("jitter.p95_over_p50", self.jitter.p95_over_p50, 1.0, 10.0),
            ("jitter.probe_sd_rel", self.jitter.probe_sd_rel, 0.0, 1.0),
            ("jitter.asymmetry_rel", self.jitter.asymmetry_rel, 0.0, 1.0),
            ("jitter.pair_sigma", self.jitter.pair_sigma, 0.0, 1.0),
        ];
        for (key, v, lo, hi) in checks {
            if !v.is_finite() || v < lo || v > hi {
                return Err(format!("{key} = {v} is outside [{lo}, {hi}]"));
            }
        }
        for (key, v) in &self.cross_provider.interconnect_ms {
            let ok = match key.split_once('-') {
                Some((a, b)) => !a.is_empty() && !b.is_empty() && a < b && !b.contains('-'),
                None => false,
            };
            if !ok {
                return Err(format!(
                    "cross_provider.interconnect_ms: key `{key}` is not `a-b` with two different \
                     provider names in alphabetical order"
                ));
            }
            if !v.is_finite() || !(0.0..=1000.0).contains(v) {
                return Err(format!(
                    "cross_provider.interconnect_ms.{key} = {v} is outside [0, 1000]"
                ));
            }
        }
        // A misspelt provider would silently give its pairs the shared corridors only.
        let catalogue = Catalogue::builtin();
        let providers = catalogue.providers();
        for p in self.backbone.provider_links.keys() {
            if !providers.contains_key(p.as_str()) {
                let known: Vec<&str> = providers.keys().copied().collect();
                return Err(format!(
                    "backbone.provider_links: `{p}` is not a provider of models/regions.csv \
                     (expected one of {})",
                    known.join(", ")
                ));
            }
        }
        if !self.jitter.pair_clip.is_finite() || self.jitter.pair_clip <= 0.0 {
            return Err(format!(
                "jitter.pair_clip = {} must be > 0",
                self.jitter.pair_clip
            ));
        }
        Ok(())
    }

    /// Route stretch at great-circle distance `d_km`.
    pub fn stretch_at(&self, d_km: f64) -> f64 {
        let s = &self.stretch;
        s.far + (s.near - s.far) * (-d_km / s.scale_km).exp()
    }

    /// The model's median RTT (ms) for a pair, before the per-pair effect and the floor.
    pub fn core_ms(&self, g: &PairGeometry) -> f64 {
        if g.same_region {
            return self.same_region.rtt_ms;
        }
        let prop = fibre_floor_ms(g.path_km - g.sea_km) * self.stretch_at(g.d_km)
            + fibre_floor_ms(g.sea_km) * self.stretch.sea;
        if g.same_provider {
            prop + self.short_path.add_ms * (-g.d_km / self.short_path.scale_km).exp()
        } else {
            prop * self.cross_provider.factor + g.interconnect_ms
        }
    }

    /// Jitter scale over time: the level of a test (or a lone probe) is median x (1 + c (E -
    /// ln 2)), E ~ Exp(1), so its median is the pair's median and P95/P50 = 1 + c ln 10.
    pub fn jitter_scale(&self) -> f64 {
        self.jitter.scale()
    }

    /// The ratio of a statistic to the median.
    pub fn stat_ratio(&self, stat: RttStat) -> f64 {
        match stat {
            RttStat::P50 => 1.0,
            RttStat::P95 => self.jitter.p95_over_p50,
            RttStat::Mean => 1.0 + self.jitter_scale() * (1.0 - LN_2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::LatencyModel;

    #[test]
    fn submarine_km_take_one_stretch_at_every_distance() {
        let c = LatencyModel::builtin(1).coefficients().clone();
        let pair = |d_km: f64, path_km: f64, sea_km: f64| PairGeometry {
            d_km,
            path_km,
            sea_km,
            same_provider: true,
            same_region: false,
            interconnect_ms: 0.0,
        };
        // 1,000 km of a path moved from land to sea: the change is the same at any distance,
        // fibre(1,000 km) x (stretch.sea - s(d)) with the land stretch at that distance.
        for d in [2000.0, 6000.0, 15000.0] {
            let land = c.core_ms(&pair(d, d * 1.1, 0.0));
            let sea = c.core_ms(&pair(d, d * 1.1, 1000.0));
            let expect = fibre_floor_ms(1000.0) * (c.stretch.sea - c.stretch_at(d));
            assert!((sea - land - expect).abs() < 1e-9, "d {d}: {land} {sea}");
        }
        // An all-submarine path costs fibre x stretch.sea plus the short-path term, whatever d.
        let (d, l) = (9000.0, 9500.0);
        let short = c.short_path.add_ms * (-d / c.short_path.scale_km).exp();
        let all_sea = c.core_ms(&pair(d, l, l));
        assert!((all_sea - fibre_floor_ms(l) * c.stretch.sea - short).abs() < 1e-9);
    }
}
