//! CB-Dragonfly monitoring load: agents on every Running VM, the network to the monitoring
//! site (or the nearest of several, each a deployment of its own), collectors, aggregation
//! rounds and storage, and the on-demand calls CB-Tumblebug's auto-control makes. Sources:
//! `../shared/domain/cloud-barista.md` section 2 (Dragonfly v0.2-HEAD architecture and
//! defaults) and `../shared/data/SOURCES.md` (storage capacity).
//!
//! Interface: [`Plan::build`] checks `[monitoring]` when the scenario loads (one agent slot per
//! VM); [`Monitoring::new`] builds the model from the plan. It is a [`SubModel`]: the world
//! routes [`MonEvent`]s to it, passes it the lifecycle's notices (an agent starts and stops
//! with its VM) and samples it; the control loop asks it for on-demand measurements.
//!
//! [`SubModel`]: crate::model::SubModel
//!
//! Files:
//! - `config.rs`: the `[monitoring]` section and its defaults; `plan.rs`: the checked plan
//!   (the sites, each cloud's nearest and its delay to it, agent slots, each site's collector
//!   counts and inline service).
//! - `events.rs`: the model's events (a leaf: every part schedules them).
//! - `model.rs`: [`Monitoring`], composing the parts below: event dispatch, on-demand calls,
//!   the `SubModel` and `Results` interfaces; what reaches the site becomes a command to the
//!   collecting side.
//! - `agents.rs`: the agents (64-byte state each), their reports, network delays and loss,
//!   start and stop with the VM, pull polling, their layout in report order; `slots.rs`: where
//!   each agent's state lives in both sides' per-agent tables.
//! - `sink.rs`: the collecting side, driven by commands in the engine's order: topics
//!   (`topics.rs`: each agent's site and collector, dead-agent detection), each site's
//!   collectors and storage, the aggregation round, series. `pipe.rs` runs it on a thread of
//!   its own, with the same results.
//! - `collectors/`: collectors, their queues and the service on the server's cores
//!   (`mod.rs`); services computed on arrival (`inline.rs`); the collector policy trait
//!   (`policy.rs`) and one module per policy (`agent_count.rs`, `csp.rs`, `fixed.rs`).
//! - `storage.rs`: the storage writer (batches, write capacity, queue limit).
//! - `series.rs`: report accounting, `monitoring.csv`, delay histograms, waiting-time batch
//!   means and the summary rows.

mod agents;
mod collectors;
pub mod config;
pub mod events;
#[cfg(test)]
mod harness;
#[cfg(test)]
mod layout_tests;
pub mod model;
mod pipe;
pub mod plan;
mod series;
mod sink;
mod slots;
mod storage;
mod topics;

pub use config::MonitoringSpec;
pub use events::{AsMonEvent, MonEvent};
pub use model::{Monitoring, MonitoringCounts};
pub use pipe::{PipeWaits, WaitClock, Waited};
pub use plan::{PathDelay, Plan};
