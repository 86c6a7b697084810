//! CB-Dragonfly monitoring load: agents on every Running VM, the network to the monitoring
//! site, collectors, aggregation rounds and storage, and the on-demand calls CB-Tumblebug's
//! auto-control makes. Sources: `../shared/domain/cloud-barista.md` section 2 (Dragonfly
//! v0.2-HEAD architecture and defaults) and `../shared/data/SOURCES.md` (storage capacity).
//!
//! Interface: [`Monitoring::new`] with one agent per VM; the world calls
//! [`Monitoring::vm_running`] / [`Monitoring::vm_stopped`] from the lifecycle's notices, routes
//! [`MonEvent`]s to [`Monitoring::handle`], and calls [`Monitoring::sample`] each sample time.

pub mod config;
pub mod model;
pub mod plan;

pub use config::MonitoringSpec;
pub use model::{MonEvent, Monitoring, MonitoringCounts};
pub use plan::{PathDelay, Plan};
