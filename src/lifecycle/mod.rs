//! VM lifecycle and faults: Cloud-Barista statuses, MCIS groups, provider behaviour, failures.
//!
//! Interface: [`Plan::build`] checks the scenario's lifecycle keys into a plan when it loads;
//! [`Lifecycle::new`] schedules the plan's requests, actions and outages; the world routes
//! [`LcEvent`]s to [`Lifecycle::handle`], calls [`Lifecycle::sample`] at each sample time, and
//! drains [`Notice`]s (VMs entering or leaving Running) for the models that follow VMs.
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug) and 4 (CB-Spider);
//! default timings and their provenance in `models/providers.toml`.

pub mod config;
pub mod gate;
pub mod model;
pub mod plan;
pub mod profile;
pub mod status;

pub use config::LifecycleSpec;
pub use model::{LcEvent, Lifecycle, LifecycleStats, Notice};
pub use plan::{Plan, PlanError};
pub use status::{Action, VmStatus};
