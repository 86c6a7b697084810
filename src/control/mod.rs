//! Auto-control: CB-Tumblebug's MCIS policies (conditions on monitored metrics, scale out and
//! in) run by its sequential controller loop, with placement and the wanted extensions, and
//! the workloads whose load the policies measure.
//!
//! Interface: [`Plan::build`] checks `[control]` and `[[workload]]` when the scenario loads;
//! [`Controller::new`] builds the loop (and the workloads) from the plan and schedules the
//! ticker. It is a [`crate::model::SubModel`]: the world routes [`CtlEvent`]s to it with a
//! [`Ctx`] lending the lifecycle and monitoring models, passes it the VM notices (the
//! workloads' shares; the loop waiting for new VMs) and asks it for samples.
//! Sources: `../shared/domain/cloud-barista.md` sections 1.6 (policy loop) and 1.7 (placement).

pub mod config;
pub mod controller;
pub mod placement;
pub mod plan;

pub use config::ControlSpec;
pub use controller::{ControlStats, Controller, CtlEvent, Ctx, PolicyStatus};
pub use plan::Plan;
