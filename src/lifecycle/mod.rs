//! VM lifecycle and faults: Cloud-Barista statuses, MCIS groups, provider behaviour, failures.
//!
//! Interface: [`Plan::build`] checks the scenario's lifecycle keys into a plan when it loads;
//! [`Lifecycle::new`] builds the model from it and schedules the plan's requests, actions and
//! outages. It is a [`crate::model::SubModel`]: the world routes [`LcEvent`]s to it, samples
//! it, and drains its [`Notice`]s (VMs entering or leaving Running) for the models that follow
//! VMs; the control loop drives it through [`Lifecycle::add_vm`], [`Lifecycle::delete_vm`] and
//! [`Lifecycle::act`].
//!
//! Files:
//! - `config.rs`: the scenario's `[lifecycle]`, `[[mcis]]` and `[[actions]]` keys;
//! - `profile.rs`: provider profiles (timings, failure rates, limits, status names);
//! - `plan.rs`: the checked plan (profiles, MCIS and their VMs, outages, action timeline);
//! - `status.rs`: the status machine: statuses, actions, TB's allowed-action rules;
//! - `gate.rs`: the create concurrency gate and the API rate limit;
//! - `model/`: the model itself: `mod.rs` (state, event dispatch, queries),
//!   `provisioning.rs` (MCIS requests, launches, gate, scale-out), `calls.rs` (provider calls
//!   and operations), `actions.rs` (control actions), `faults.rs` (timeouts, crashes,
//!   outages, retries) and `accounting.rs` (counts, counters, billing, tables).
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug) and 4 (CB-Spider);
//! default timings and their provenance in `models/providers.toml`.

pub mod config;
pub mod gate;
pub mod model;
pub mod plan;
pub mod profile;
pub mod status;

pub use crate::model::Notice;
pub use config::LifecycleSpec;
pub use model::{LcEvent, Lifecycle, LifecycleStats};
pub use plan::Plan;
pub use status::{Action, VmStatus};
