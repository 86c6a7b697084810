//! CB-Dragonfly monitoring load: agents on every Running VM, the network to the monitoring
//! site, collectors, aggregation rounds and storage, and the on-demand calls CB-Tumblebug's
//! auto-control makes. Sources: `../shared/domain/cloud-barista.md` section 2 (Dragonfly
//! v0.2-HEAD architecture and defaults) and `../shared/data/SOURCES.md` (storage capacity).
//!
//! Interface: [`Monitoring::new`] with one agent per VM; the world calls
//! [`Monitoring::vm_running`] / [`Monitoring::vm_stopped`] from the lifecycle's notices, routes
//! [`MonEvent`]s to its [`SubModel::handle`], and calls [`SubModel::sample`] each sample time.
//!
//! [`SubModel::handle`]: crate::model::SubModel::handle
//! [`SubModel::sample`]: crate::model::SubModel::sample
//!
//! Files:
//! - `config.rs`: the `[monitoring]` section and its defaults; `plan.rs`: the checked plan
//!   (site, per-cloud delays, agent slots, the policy's collector counts, inline service).
//! - `model.rs`: [`Monitoring`], composing the parts below: events and their dispatch, the
//!   aggregation round, on-demand calls, the `SubModel` and `Results` interfaces.
//! - `agents.rs`: the agents (128-byte state each), their reports, network delays and loss,
//!   start and stop with the VM, pull polling, dead-agent counting.
//! - `collectors/`: collectors, their queues and the service on the server's cores
//!   (`mod.rs`); services computed on arrival (`inline.rs`); the collector policy trait
//!   (`policy.rs`) and one module per policy (`agent_count.rs`, `csp.rs`, `fixed.rs`).
//! - `storage.rs`: the storage writer (batches, write capacity, queue limit).
//! - `series.rs`: report accounting, `monitoring.csv`, delay histograms, waiting-time batch
//!   means and the summary rows.

mod agents;
mod collectors;
pub mod config;
pub mod model;
pub mod plan;
mod series;
mod storage;

pub use config::MonitoringSpec;
pub use model::{MonEvent, Monitoring, MonitoringCounts};
pub use plan::{PathDelay, Plan};
