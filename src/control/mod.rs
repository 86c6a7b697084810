//! Auto-control: CB-Tumblebug's MCIS policies (conditions on monitored metrics, scale out and
//! in) run by its sequential controller loop, with placement and the wanted extensions.
//!
//! Interface: [`Controller::new`] schedules the ticker; the world routes [`CtlEvent`]s to
//! [`Controller::handle`] with a [`Ctx`] holding the lifecycle, monitoring and workload models,
//! tells it when VMs it waits for settle ([`Controller::vm_settled`]), and calls
//! [`Controller::sample_series`] at each sample time. Sources: `../shared/domain/cloud-barista.md`
//! sections 1.6 (policy loop) and 1.7 (placement).

pub mod config;
pub mod controller;
pub mod placement;

pub use config::ControlSpec;
pub use controller::{ControlStats, Controller, CtlEvent, Ctx, PolicyStatus};
