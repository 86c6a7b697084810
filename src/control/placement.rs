//! Placement of scale-out VMs: which cloud and spec, as CB-Tumblebug's recommendation does
//! (`TB@v0.5.0/v0.7.0 recommendation.go`): filter the spec catalogue by vCPU, memory and cost,
//! then order by one priority (cost, location, latency, performance) or pick at random.

use super::config::{PlacementAlgo, PlacementSpec};
use crate::engine::SimRng;
use crate::topology::specs::{SpecCatalogue, VmSpec};
use crate::topology::{Cloud, great_circle_km};
use rand::RngExt;

/// Where a policy's scale-out VMs go, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub algo: PlacementAlgo,
    /// `location`: the point to be near (lat, lon).
    pub near: Option<(f64, f64)>,
    /// Every spec of the scenario's clouds that passes the filters.
    pub candidates: Vec<Choice>,
    /// `latency`: the summed median RTT from each cloud to the policy's regions (ms).
    pub rtt_sums: Vec<f64>,
}

/// A placement choice.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub cloud: u32,
    pub spec: VmSpec,
}

/// The specs a scale-out may choose from: every spec offered in the scenario's clouds (the
/// region's default spec where the catalogue has none), filtered.
pub fn candidates(p: &PlacementSpec, clouds: &[Cloud], cat: &SpecCatalogue) -> Vec<Choice> {
    let mut out = Vec::new();
    for c in clouds {
        let mut specs: Vec<VmSpec> = cat
            .in_region(&c.region.provider, &c.region.region)
            .cloned()
            .collect();
        if specs.is_empty() {
            specs.push(cat.default_for(&c.region.provider, &c.region.region));
        }
        for s in specs {
            let ok = p.min_vcpu.is_none_or(|v| s.vcpu >= v)
                && p.max_vcpu.is_none_or(|v| s.vcpu <= v)
                && p.min_memory_gib.is_none_or(|v| s.memory_gib >= v)
                && p.max_memory_gib.is_none_or(|v| s.memory_gib <= v)
                && p.max_cost_per_hour.is_none_or(|v| s.cost_per_hour <= v);
            if ok {
                out.push(Choice {
                    cloud: c.id,
                    spec: s,
                });
            }
        }
    }
    out
}

/// Parses "lat/lon".
pub fn parse_point(s: &str) -> Option<(f64, f64)> {
    let (a, b) = s.split_once('/')?;
    let (lat, lon) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// Picks one candidate of a resolved placement. `existing` are (cloud, spec) of the MCIS's
/// current VMs (for `random`, which copies one of them as CB-Tumblebug v0.5 does).
pub fn choose(
    p: &Placement,
    existing: &[Choice],
    clouds: &[Cloud],
    rng: &mut SimRng,
) -> Option<Choice> {
    let cands = &p.candidates;
    let by_cost = |a: &Choice, b: &Choice| {
        a.spec
            .cost_per_hour
            .total_cmp(&b.spec.cost_per_hour)
            .then(a.cloud.cmp(&b.cloud))
            .then(a.spec.name.cmp(&b.spec.name))
    };
    match p.algo {
        PlacementAlgo::Random => {
            let pool = if existing.is_empty() { cands } else { existing };
            (!pool.is_empty()).then(|| pool[rng.random_range(0..pool.len())].clone())
        }
        PlacementAlgo::Cost => cands.iter().min_by(|a, b| by_cost(a, b)).cloned(),
        PlacementAlgo::Performance => cands
            .iter()
            .min_by(|a, b| {
                let (sa, sb) = (a.spec.score.unwrap_or(0.0), b.spec.score.unwrap_or(0.0));
                sb.total_cmp(&sa).then(by_cost(a, b))
            })
            .cloned(),
        PlacementAlgo::Location => {
            let (lat, lon) = p.near?;
            let d = |c: &Choice| {
                let r = &clouds[c.cloud as usize].region;
                great_circle_km(lat, lon, r.lat, r.lon)
            };
            cands
                .iter()
                .min_by(|a, b| d(a).total_cmp(&d(b)).then(by_cost(a, b)))
                .cloned()
        }
        PlacementAlgo::Latency => {
            let rtt = |c: &Choice| p.rtt_sums[c.cloud as usize];
            cands
                .iter()
                .min_by(|a, b| rtt(a).total_cmp(&rtt(b)).then(by_cost(a, b)))
                .cloned()
        }
    }
}
