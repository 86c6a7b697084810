//! CLADNet (CB-Larva's cloud-adaptive network): one overlay per MCIS, a full mesh of UDP
//! tunnels among its VMs, its status test, and where to run its control plane.
//!
//! - [`config`]: `[cladnet]` and `[cladnet.placement]`;
//! - [`plan`]: the section checked, the RTT table of the scenario's clouds, the placement
//!   layouts, built when the scenario loads;
//! - [`status_test`]: one overlay's status test (every VM pings every VM, itself included);
//! - [`placement`]: the five control-plane layouts and their availability and latency under
//!   the run's outages;
//! - [`model`]: the [`crate::model::SubModel`] that runs the tests at their times and writes
//!   `cloud_rtt.csv`, `latency_matrix.csv` and `placement.csv`.
//!
//! Source: `../shared/domain/cloud-barista.md` section 3 (CB-Larva, `LV@HEAD`); RTTs come from
//! the latency model (`crate::network`).

pub mod config;
pub mod model;
pub mod placement;
pub mod plan;
pub mod status_test;

pub use config::CladnetSpec;
pub use model::{CladEvent, Cladnet};
pub use plan::Plan;
