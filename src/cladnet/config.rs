//! `[cladnet]`: the status tests CLADNet's overlays run, and the control-plane placements to
//! compare (`[cladnet.placement]`).

use crate::engine::{Probability, SimDuration};
use serde::{Deserialize, Serialize};

/// `[cladnet]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CladnetSpec {
    /// Probes per (source, destination) pair (`trialCount`: 1 by default; the perf-eval client used 60).
    #[serde(default = "one")]
    pub trial_count: u32,
    /// Times at which every MCIS's CLADNet runs its status test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_tests: Vec<SimDuration>,
    /// Extra RTT of the overlay tunnel per probe, in ms.
    #[serde(default = "default_tunnel")]
    pub tunnel_overhead_ms: f64,
    /// Probability that one probe is lost.
    #[serde(default)]
    pub loss_p: Probability,
    /// Largest MCIS written VM by VM; larger ones are written per cloud pair.
    #[serde(default = "default_max_vm_matrix")]
    pub max_vm_matrix: u32,
    #[serde(default)]
    pub placement: PlacementSpec,
}

fn one() -> u32 {
    1
}
fn default_tunnel() -> f64 {
    0.3
}
fn default_max_vm_matrix() -> u32 {
    100
}

impl Default for CladnetSpec {
    fn default() -> Self {
        toml::from_str("").expect("every cladnet key has a default")
    }
}

/// `[cladnet.placement]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    /// Evaluate the five placements (off by default).
    #[serde(default)]
    pub enabled: bool,
    /// Members of the quorum cluster (3 or 5).
    #[serde(default = "three")]
    pub members: u32,
    /// The region the placements are built around (`provider:region`).
    #[serde(default = "default_anchor")]
    pub anchor: String,
    /// Regions closer than this count as one metro.
    #[serde(default = "default_metro")]
    pub metro_km: f64,
}

fn three() -> u32 {
    3
}
fn default_anchor() -> String {
    "aws:ap-northeast-2".into()
}
fn default_metro() -> f64 {
    150.0
}

impl Default for PlacementSpec {
    fn default() -> Self {
        toml::from_str("").expect("every placement key has a default")
    }
}
