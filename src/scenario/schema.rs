//! The scenario schema: every section and key a scenario file may hold, with its default.
//!
//! Key paths (`simulation.seed`, `topology.mix.aws`, `lifecycle.api_delay`, ...) are part of
//! the user interface: `--set` and sweeps address them, so they stay stable.

use crate::cladnet::CladnetSpec;
use crate::control::ControlSpec;
use crate::engine::SimDuration;
use crate::lifecycle::LifecycleSpec;
use crate::lifecycle::config::{ActionSpec, McisSpec};
use crate::monitoring::MonitoringSpec;
use crate::network::config::NetworkSpec;
use crate::topology::TopologySpec;
use crate::twin::config::ServeSpec;
use crate::workload::WorkloadSpec;
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
    /// MCIS requests (`[[mcis]]`); default: one MCIS named "mcis" over every cloud at 0s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcis: Vec<McisSpec>,
    /// Control actions on a timeline (`[[actions]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionSpec>,
    /// Load per MCIS (`[[workload]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workload: Vec<WorkloadSpec>,
    /// CB-Tumblebug's auto-control loop and policies.
    #[serde(default)]
    pub control: ControlSpec,
    /// Latency data for the run.
    #[serde(default)]
    pub network: NetworkSpec,
    /// CLADNet overlays (status tests) and control-plane placement.
    #[serde(default)]
    pub cladnet: CladnetSpec,
    #[serde(default)]
    pub output: OutputSpec,
    /// `[serve]`: the live twin (`cloudtwin serve`); ignored unless `serve.enabled`.
    #[serde(default, skip_serializing_if = "ServeSpec::is_default")]
    pub serve: ServeSpec,
    /// `[sweep]`: the grid `cloudtwin sweep` runs; `cloudtwin run` ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
}

/// `[sweep]`: varied key paths and replications for `cloudtwin sweep` (see `crate::batch`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Values of each varied key: `vary = { "lifecycle.create_failure_p" = [0.1, 0.3] }`.
    #[serde(default)]
    pub vary: std::collections::BTreeMap<String, Vec<toml::Value>>,
    /// Runs per grid point, each with its own seed (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replications: Option<u32>,
}

/// `[output]`: optional outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Write the per-VM transition log `vm_events.csv` (large for big fleets).
    #[serde(default)]
    pub vm_events: bool,
    /// Write `plots/` and `report.html` (turn off for sweeps of many tiny runs;
    /// `cloudtwin report DIR` builds them later from the CSVs).
    #[serde(default = "yes")]
    pub report: bool,
    /// File formats of every table: `["csv"]` (the default), `["parquet"]` or both. Parquet
    /// files (`<table>.parquet`, zstd, typed columns) sit beside or replace the CSV files.
    #[serde(default = "csv_only", skip_serializing_if = "is_csv_only")]
    pub formats: Vec<Format>,
}

/// A file format of the results' tables (`output.formats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// The name in `output.formats`, also the file extension (`csv`, `parquet`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

fn yes() -> bool {
    true
}

fn csv_only() -> Vec<Format> {
    vec![Format::Csv]
}

fn is_csv_only(f: &[Format]) -> bool {
    f == [Format::Csv]
}

impl OutputSpec {
    /// Are the tables written as CSV?
    pub fn csv(&self) -> bool {
        self.formats.contains(&Format::Csv)
    }
    /// Are the tables written as Parquet?
    pub fn parquet(&self) -> bool {
        self.formats.contains(&Format::Parquet)
    }
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            vm_events: false,
            report: true,
            formats: csv_only(),
        }
    }
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
