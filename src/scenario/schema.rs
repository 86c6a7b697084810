//! The scenario schema: every section and key a scenario file may hold, with its default.
//!
//! Key paths (`simulation.seed`, `topology.mix.aws`, `lifecycle.api_delay`, ...) are part of
//! the user interface: `--set` and sweeps address them, so they stay stable.

use crate::engine::{DurationDist, Probability, SimDuration};
use crate::topology::TopologySpec;
use serde::{Deserialize, Serialize};

/// A whole scenario, as read from TOML (every section optional except `[simulation]`'s need
/// for a topology).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub simulation: SimulationSpec,
    #[serde(default)]
    pub topology: TopologySpec,
    #[serde(default)]
    pub lifecycle: LifecycleSpec,
    #[serde(default)]
    pub monitoring: MonitoringSpec,
}

/// `[simulation]`: run identity and time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// Names the results folder; defaults to the scenario file's name.
    #[serde(default)]
    pub name: String,
    /// Seed of every random stream in the run.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time to run.
    #[serde(default = "default_duration")]
    pub duration: SimDuration,
    /// Step of every time series in the results.
    #[serde(default = "default_sample_interval")]
    pub sample_interval: SimDuration,
}

fn default_seed() -> u64 {
    1
}
fn default_duration() -> SimDuration {
    SimDuration::from_secs(3600)
}
fn default_sample_interval() -> SimDuration {
    SimDuration::from_secs(10)
}

impl Default for SimulationSpec {
    fn default() -> Self {
        SimulationSpec {
            name: String::new(),
            seed: default_seed(),
            duration: default_duration(),
            sample_interval: default_sample_interval(),
        }
    }
}

/// `[lifecycle]`: VM provisioning behaviour (used by the lifecycle model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSpec {
    /// Delay of each provider API request (Cloud-Twin: uniform 5-10 s).
    #[serde(default = "default_api_delay")]
    pub api_delay: DurationDist,
    /// Probability that a VM creation request fails (Cloud-Twin: 0.2).
    #[serde(default)]
    pub create_failure_p: Probability,
}

fn default_api_delay() -> DurationDist {
    DurationDist::uniform(SimDuration::from_secs(1), SimDuration::from_secs(3))
}

impl Default for LifecycleSpec {
    fn default() -> Self {
        LifecycleSpec {
            api_delay: default_api_delay(),
            create_failure_p: Probability::default(),
        }
    }
}

/// `[monitoring]`: CB-Dragonfly agents and pipeline (used by the monitoring model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSpec {
    /// Agent report period (Dragonfly's default 2 s; the Cloud-Twin PoC used 5 s).
    #[serde(default = "default_monitoring_interval")]
    pub interval: SimDuration,
}

fn default_monitoring_interval() -> SimDuration {
    SimDuration::from_secs(2)
}

impl Default for MonitoringSpec {
    fn default() -> Self {
        MonitoringSpec {
            interval: default_monitoring_interval(),
        }
    }
}
