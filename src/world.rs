//! The world: every model of a run composed into one [`Model`] for the engine.
//!
//! Each model owns its state and its own event enum; [`Event`] wraps them, and [`World::handle`]
//! routes each event to its model. A periodic sampler entity records the time series at every
//! `simulation.sample_interval` (t = 0 included, and the horizon itself).

use crate::engine::{EntityId, Model, RngFactory, Scheduler, SimDuration, SimTime};
use crate::lifecycle::{LcEvent, Lifecycle};
use crate::output::{Summary, Table, table::fmt_secs};
use crate::scenario::Loaded;

/// Every event of a run.
#[derive(Copy, Clone, Debug)]
pub enum Event {
    /// Record one row of each time series.
    Sample,
    Lifecycle(LcEvent),
}

impl From<LcEvent> for Event {
    fn from(e: LcEvent) -> Self {
        Event::Lifecycle(e)
    }
}

/// All model state of one run.
pub struct World {
    sampler: EntityId,
    sample_interval: SimDuration,
    pub lifecycle: Lifecycle,
    /// Engine load over time: `engine.csv`.
    engine_series: Table,
}

impl World {
    /// Builds the models for a scenario and schedules their first events.
    pub fn new(loaded: &Loaded, sched: &mut Scheduler<Event>) -> Self {
        let sim = &loaded.scenario.simulation;
        let rngs = RngFactory::new(sim.seed);
        let sampler = sched.alloc_entities(1).get(0);
        sched.schedule_at(SimTime::ZERO, sampler, Event::Sample);
        let lifecycle = Lifecycle::new(
            &loaded.lifecycle,
            &rngs,
            loaded.scenario.output.vm_events,
            sched,
        );
        World {
            sampler,
            sample_interval: sim.sample_interval,
            lifecycle,
            engine_series: Table::new(
                "engine.csv",
                &["time_s", "events_processed", "pending_events"],
            ),
        }
    }

    fn sample(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let st = sched.stats();
        self.engine_series.push(vec![
            fmt_secs(now),
            st.processed.to_string(),
            sched.pending().to_string(),
        ]);
        self.lifecycle.sample(now);
        sched.schedule_in(self.sample_interval, self.sampler, Event::Sample);
    }

    /// Adds each model's scalar results to the summary.
    pub fn summarize(&self, summary: &mut Summary) {
        self.lifecycle.summarize(summary);
    }

    /// The time series and tables each model produced, in a fixed order.
    pub fn into_tables(self) -> Vec<Table> {
        let mut v = vec![self.engine_series];
        v.extend(self.lifecycle.into_tables());
        v
    }
}

impl Model for World {
    type Event = Event;
    fn handle(&mut self, sched: &mut Scheduler<Event>, _entity: EntityId, event: Event) {
        match event {
            Event::Sample => self.sample(sched),
            Event::Lifecycle(e) => {
                self.lifecycle.handle(sched, e);
                // No model follows VMs yet; monitoring will consume these.
                self.lifecycle.drain_notices().for_each(drop);
            }
        }
    }
}
