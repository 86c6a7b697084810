//! The world: every model of a run composed into one [`Model`] for the engine.
//!
//! Each model owns its state and its own event enum; [`Event`] wraps them, and [`World::handle`]
//! routes each event to its model. A periodic sampler entity records the time series at every
//! `simulation.sample_interval` (t = 0 included, and the horizon itself).

use crate::engine::{EntityId, Model, RngFactory, Scheduler, SimDuration, SimTime};
use crate::lifecycle::{LcEvent, Lifecycle, Notice};
use crate::monitoring::{MonEvent, Monitoring, PathDelay};
use crate::output::{Summary, Table, table::fmt_secs};
use crate::scenario::Loaded;

/// Every event of a run.
#[derive(Copy, Clone, Debug)]
pub enum Event {
    /// Record one row of each time series.
    Sample,
    Lifecycle(LcEvent),
    Monitoring(MonEvent),
}

impl From<MonEvent> for Event {
    fn from(e: MonEvent) -> Self {
        Event::Monitoring(e)
    }
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
    pub monitoring: Option<Monitoring>,
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
        let mon = &loaded.scenario.monitoring;
        let monitoring = mon.enabled.then(|| {
            let plan = &loaded.lifecycle;
            let agents: Vec<(u32, u32)> = plan
                .vms
                .iter()
                .map(|v| (v.cloud, plan.cloud_profile[v.cloud as usize]))
                .collect();
            let paths = loaded
                .clouds
                .iter()
                .map(|c| placeholder_path(&c.region, &loaded.monitoring_site))
                .collect();
            Monitoring::new(
                mon,
                &agents,
                plan.profiles.len() as u32,
                paths,
                SimTime::ZERO + sim.duration,
                &rngs,
                sched,
            )
        });
        World {
            sampler,
            sample_interval: sim.sample_interval,
            lifecycle,
            monitoring,
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
        if let Some(m) = self.monitoring.as_mut() {
            m.sample(now);
        }
        sched.schedule_in(self.sample_interval, self.sampler, Event::Sample);
    }

    /// Adds each model's scalar results to the summary.
    pub fn summarize(&self, summary: &mut Summary, end: SimTime) {
        self.lifecycle.summarize(summary);
        if let Some(m) = &self.monitoring {
            m.summarize(summary, end);
        }
    }

    /// The time series and tables each model produced, in a fixed order.
    pub fn into_tables(self) -> Vec<Table> {
        let mut v = vec![self.engine_series];
        v.extend(self.lifecycle.into_tables());
        if let Some(m) = self.monitoring {
            v.extend(m.into_tables());
        }
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
                for n in self.lifecycle.drain_notices() {
                    let Some(m) = self.monitoring.as_mut() else {
                        continue;
                    };
                    match n {
                        Notice::Running { vm, .. } => m.vm_running(sched, vm),
                        Notice::Stopped { vm, .. } => m.vm_stopped(sched, vm),
                    }
                }
            }
            Event::Monitoring(e) => {
                if let Some(m) = self.monitoring.as_mut() {
                    m.handle(sched, e);
                }
            }
        }
    }
}

/// One-way delay from a cloud to the monitoring site: light in fibre over the great-circle
/// distance with a route stretch of 1.8 plus 2 ms (placeholder until the calibrated latency
/// model is wired in).
fn placeholder_path(a: &crate::topology::Region, b: &crate::topology::Region) -> PathDelay {
    let km = crate::topology::great_circle_km(a.lat, a.lon, b.lat, b.lon);
    let rtt_ms = 2.0 * km / 204.0 * 1.8 + 2.0;
    PathDelay {
        median_s: rtt_ms / 2.0 / 1e3,
        sigma: 0.03,
    }
}
