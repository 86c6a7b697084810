//! The world: every model of a run composed into one [`Model`] for the engine.
//!
//! Each model owns its state and its own event enum; [`Event`] wraps them, and [`World::handle`]
//! routes each event to its model. A periodic sampler entity records the time series at every
//! `simulation.sample_interval` (t = 0 included, and the horizon itself).

use crate::engine::{EntityId, Model, RngFactory, Scheduler, SimDuration, SimTime};
use crate::output::{Summary, Table, table::fmt_secs};
use crate::scenario::Loaded;

/// Every event of a run.
#[derive(Clone, Debug)]
pub enum Event {
    /// Record one row of each time series.
    Sample,
}

/// All model state of one run.
pub struct World {
    sampler: EntityId,
    sample_interval: SimDuration,
    /// Engine load over time: `engine.csv`.
    engine_series: Table,
    #[allow(dead_code)]
    rngs: RngFactory,
}

impl World {
    /// Builds the models for a scenario and schedules their first events.
    pub fn new(loaded: &Loaded, sched: &mut Scheduler<Event>) -> Self {
        let sim = &loaded.scenario.simulation;
        let sampler = sched.alloc_entities(1).get(0);
        sched.schedule_at(SimTime::ZERO, sampler, Event::Sample);
        World {
            sampler,
            sample_interval: sim.sample_interval,
            engine_series: Table::new(
                "engine.csv",
                &["time_s", "events_processed", "pending_events"],
            ),
            rngs: RngFactory::new(sim.seed),
        }
    }

    fn sample(&mut self, sched: &mut Scheduler<Event>) {
        let st = sched.stats();
        self.engine_series.push(vec![
            fmt_secs(sched.now()),
            st.processed.to_string(),
            sched.pending().to_string(),
        ]);
        sched.schedule_in(self.sample_interval, self.sampler, Event::Sample);
    }

    /// Adds each model's scalar results to the summary.
    pub fn summarize(&self, _summary: &mut Summary) {}

    /// The time series and tables each model produced, in a fixed order.
    pub fn into_tables(self) -> Vec<Table> {
        vec![self.engine_series]
    }
}

impl Model for World {
    type Event = Event;
    fn handle(&mut self, sched: &mut Scheduler<Event>, _entity: EntityId, event: Event) {
        match event {
            Event::Sample => self.sample(sched),
        }
    }
}
