//! The CLADNet plan, built when the scenario loads: `[cladnet]` checked, the status-test
//! times, the latency model evaluated once for the scenario's clouds, whether `cloud_rtt.csv`
//! is written (`network.cloud_rtt_max_clouds`), and the control-plane layouts around the
//! resolved anchor region with the outages they are evaluated under.

use super::config::CladnetSpec;
use super::placement::{Layout, layouts};
use crate::engine::SimTime;
use crate::lifecycle::plan::Outage;
use crate::model::{PlanError, Resolved, at_least_one};
use crate::network::LatencyModel;
use crate::network::config::NetworkSpec;
use crate::network::table::RttTable;
use crate::topology::Cloud;

/// The control-plane comparison (`[cladnet.placement]`), resolved.
#[derive(Clone, Debug)]
pub struct PlacementPlan {
    /// The five layouts around the anchor.
    pub layouts: Vec<Layout>,
    /// Every outage of the run (scheduled and random), from the lifecycle plan.
    pub outages: Vec<Outage>,
}

/// Everything the CLADNet model needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The checked section (probes, tunnel overhead, loss, matrix size).
    pub spec: CladnetSpec,
    /// When every MCIS's overlay runs its status test.
    pub status_tests: Vec<SimTime>,
    pub clouds: Vec<Cloud>,
    /// The latency model evaluated for the clouds.
    pub rtt: RttTable,
    /// `cloud_rtt.csv` (one row per ordered pair of clouds) is written up to this many clouds.
    pub cloud_rtt_max_clouds: u32,
    /// The latency model: for the placements' members (catalogue regions, not only the
    /// scenario's clouds) and for clouds that join during the run (the live twin).
    pub latency: LatencyModel,
    pub placement: Option<PlacementPlan>,
    pub seed: u64,
    pub horizon: SimTime,
}

impl Plan {
    /// Checks `[cladnet]` (and the `[network]` output limit); `outages` are the lifecycle
    /// plan's.
    pub fn build(
        spec: &CladnetSpec,
        network: &NetworkSpec,
        r: &Resolved,
        outages: &[Outage],
    ) -> Result<Plan, PlanError> {
        at_least_one("cladnet.trial_count", spec.trial_count)?;
        if !(spec.tunnel_overhead_ms.is_finite() && spec.tunnel_overhead_ms >= 0.0) {
            return Err(PlanError::new(
                "cladnet.tunnel_overhead_ms",
                "must be a number >= 0",
            ));
        }
        let pl = &spec.placement;
        let placement = if pl.enabled {
            if !(pl.members == 3 || pl.members == 5) {
                return Err(PlanError::new(
                    "cladnet.placement.members",
                    format!("must be 3 or 5, found {}", pl.members),
                ));
            }
            let key = "cladnet.placement.anchor";
            if !pl.anchor.contains(':') {
                return Err(PlanError::new(key, "anchor must be provider:region"));
            }
            let anchor = r.region(key, &pl.anchor)?;
            Some(PlacementPlan {
                layouts: layouts(pl, anchor, &r.catalogue),
                outages: outages.to_vec(),
            })
        } else {
            None
        };
        Ok(Plan {
            spec: spec.clone(),
            status_tests: spec
                .status_tests
                .iter()
                .map(|t| SimTime::ZERO + *t)
                .collect(),
            clouds: r.clouds.clone(),
            rtt: RttTable::new(&r.latency, &r.clouds),
            cloud_rtt_max_clouds: network.cloud_rtt_max_clouds,
            latency: r.latency.clone(),
            placement,
            seed: r.seed,
            horizon: r.horizon,
        })
    }
}
