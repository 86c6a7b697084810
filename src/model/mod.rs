//! The shape every model of a run has, and what models share.
//!
//! A model (the VM lifecycle, CB-Dragonfly monitoring, CB-Tumblebug's control loop with its
//! workloads, CLADNet) is built in two steps, the way ripgrep turns low-level arguments into a
//! checked high-level form once:
//!
//! 1. **Plan**, when the scenario loads: `Plan::build(&spec, &resolved, ..)` in the model's
//!    `plan.rs` checks the model's scenario section (every mistake a [`PlanError`] with its key
//!    path) and resolves once everything the model needs: catalogue regions instead of
//!    `provider:region` strings, built demand curves, placement candidates, per-cloud delays.
//!    [`Resolved`] is what every plan is built from: seed, horizon, catalogue, clouds, latency.
//! 2. **Model**, when the run starts: built from its plan alone, it implements [`SubModel`]:
//!    it handles its own events, follows the VMs through the lifecycle's [`Notice`]s, samples
//!    its time series, and hands back its [`Results`] (summary rows and tables).
//!
//! `crate::world` only wires the models together: it routes each event to its model, passes
//! notices on, and loops over the models for samples, summaries and tables.

mod error;
mod resolved;

pub use error::{PlanError, at_least_one, positive};
pub use resolved::Resolved;

use crate::engine::{Scheduler, SimTime};
use crate::output::{Summary, Table};

/// One model of a run, driven by the world. `E` is the world's event type, which wraps the
/// model's own [`SubModel::Event`]s.
pub trait SubModel<E>: Results {
    /// The model's own events.
    type Event: Copy;
    /// The other models this one reads or drives, lent by the world for one call (`()` when it
    /// needs none): the control loop drives the lifecycle and asks monitoring; CLADNet reads
    /// which VMs run.
    type Peers<'p>;

    /// Handles one of its events at `sched.now()`.
    fn handle(&mut self, sched: &mut Scheduler<E>, event: Self::Event, peers: Self::Peers<'_>);

    /// A VM entered or left Running, gave up creating, or was deleted. Default: ignored.
    fn notice(&mut self, _sched: &mut Scheduler<E>, _notice: Notice, _peers: Self::Peers<'_>) {}

    /// Records one row of each of its time series at `now` (every `simulation.sample_interval`,
    /// t = 0 and the horizon included). Default: none.
    fn sample(&mut self, _now: SimTime, _peers: Self::Peers<'_>) {}

    /// A cloud joined the world while it runs (the live twin adds one when a client registers
    /// a connection to it): extend the per-cloud state. `world` is the world as it now is, the
    /// new cloud last. Default: nothing per cloud.
    fn cloud_added(&mut self, _world: &Resolved) -> Result<(), PlanError> {
        Ok(())
    }

    /// An event that will be handled a few events from now: a model whose state does not fit
    /// in the cache may start loading what it will touch (see `crate::engine::hint`).
    #[inline]
    fn prefetch(&self, _event: &Self::Event) {}
}

/// What a model hands back at the end of a run. Object safe, so the world loops over its
/// models in a fixed order.
pub trait Results {
    /// Settles anything computed ahead of the clock (once, at the end of the run).
    fn finish(&mut self, _end: SimTime) {}
    /// Adds its rows to the summary, always in the same order.
    fn summarize(&self, summary: &mut Summary, end: SimTime);
    /// Moves its tables out, always in the same order (once, after `summarize`).
    fn take_tables(&mut self) -> Vec<Table>;
}

/// What the lifecycle tells the models that follow VMs (drained by the world after each
/// event).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The VM entered Running (its agent registers with the management plane).
    Running { vm: u32, cloud: u32 },
    /// The VM left Running.
    Stopped { vm: u32, cloud: u32 },
    /// The VM became Failed; `cause` says why (`provider error`, `timeout`, `crash`,
    /// `outage`).
    Failed { vm: u32, cause: &'static str },
    /// A create failed for good (no attempts left).
    CreateGaveUp { vm: u32 },
    /// A VM was deleted from its MCIS (refine, or scale-in).
    Deleted { vm: u32 },
}
