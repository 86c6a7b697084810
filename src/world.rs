//! The world: every model of a run wired into one [`Model`] for the engine.
//!
//! Each model is a [`SubModel`] built from its own plan, with its own event enum; [`Event`]
//! wraps them and [`World::handle`] routes each event to its model, lending it the peers it
//! needs. After each event the lifecycle's notices (a VM entering or leaving Running, a create
//! giving up) are passed on to the models that follow VMs. A periodic sampler records every
//! time series at each `simulation.sample_interval` (t = 0 included, and the horizon itself),
//! and at the end the world loops over its models for summaries and tables. It holds no model
//! logic of its own.

use crate::cladnet::{CladEvent, Cladnet};
use crate::control::{Controller, CtlEvent, Ctx};
use crate::engine::{EntityId, Model, Scheduler, SimDuration, SimTime};
use crate::lifecycle::{LcEvent, Lifecycle};
use crate::model::{Results, SubModel};
use crate::monitoring::{MonEvent, Monitoring};
use crate::output::names::file;
use crate::output::{Summary, Table, table::fmt_secs};
use crate::scenario::Loaded;
use crate::twin::{ApiEvent, Peers, Twin};

/// Every event of a run.
#[derive(Copy, Clone, Debug)]
pub enum Event {
    /// Record one row of each time series.
    Sample,
    Lifecycle(LcEvent),
    Monitoring(MonEvent),
    Control(CtlEvent),
    Cladnet(CladEvent),
    /// A request to the live twin arrives.
    Api(ApiEvent),
}

impl From<LcEvent> for Event {
    fn from(e: LcEvent) -> Self {
        Event::Lifecycle(e)
    }
}
impl crate::monitoring::AsMonEvent for Event {
    fn as_mon_event(&mut self) -> Option<&mut MonEvent> {
        match self {
            Event::Monitoring(e) => Some(e),
            _ => None,
        }
    }
}

impl From<MonEvent> for Event {
    fn from(e: MonEvent) -> Self {
        Event::Monitoring(e)
    }
}
impl From<CtlEvent> for Event {
    fn from(e: CtlEvent) -> Self {
        Event::Control(e)
    }
}
impl From<CladEvent> for Event {
    fn from(e: CladEvent) -> Self {
        Event::Cladnet(e)
    }
}
impl From<ApiEvent> for Event {
    fn from(e: ApiEvent) -> Self {
        Event::Api(e)
    }
}

/// The models of one run.
pub struct World {
    sampler: EntityId,
    sample_interval: SimDuration,
    /// When the time series last got a row (see `close_series`).
    last_sample: Option<SimTime>,
    pub lifecycle: Lifecycle,
    /// `None` when `monitoring.enabled = false`.
    pub monitoring: Option<Monitoring>,
    pub control: Controller,
    pub cladnet: Cladnet,
    /// The live twin (`cloudtwin serve`); `None` in batch runs.
    pub twin: Option<Twin>,
    /// Engine load over time: `engine.csv`.
    engine_series: Table,
}

impl World {
    /// Builds every model from its plan and schedules their first events. The order fixes
    /// the entity ids, which break ties between simultaneous events: keep it.
    pub fn new(loaded: &Loaded, sched: &mut Scheduler<Event>) -> Self {
        Self::new_with(loaded, sched, true)
    }

    /// [`World::new`]; `sites_apart` runs each monitoring site's reports on a part of the
    /// event list of its own when there are several (the same results: see
    /// [`Monitoring::new_with`]).
    pub fn new_with(loaded: &Loaded, sched: &mut Scheduler<Event>, sites_apart: bool) -> Self {
        let sampler = sched.alloc_entities(1).get(0);
        sched.post_at(SimTime::ZERO, sampler, Event::Sample);
        let lifecycle = Lifecycle::new(&loaded.lifecycle, sched);
        let monitoring = loaded
            .monitoring
            .enabled
            .then(|| Monitoring::new_with(&loaded.monitoring, sched, sites_apart));
        let control = Controller::new(&loaded.control, sched);
        let cladnet = Cladnet::new(&loaded.cladnet, sched);
        let twin = loaded.twin.as_ref().map(|p| Twin::new(p, sched));
        World {
            sampler,
            sample_interval: loaded.scenario.simulation.sample_interval,
            last_sample: None,
            lifecycle,
            monitoring,
            control,
            cladnet,
            twin,
            engine_series: Table::new(
                file::ENGINE,
                &["time_s", "events_processed", "pending_events"],
            ),
        }
    }

    /// Runs what can run beside the engine on threads of its own (the monitoring pipeline's
    /// collecting side); the results stay the same. Returns whether anything moved.
    /// With a `clock` (the caller's: the library reads none), the threads time their waits
    /// for each other ([`World::pipe_waits`]).
    pub fn run_apart(&mut self, clock: Option<crate::monitoring::WaitClock>) -> bool {
        self.monitoring.as_mut().is_some_and(|m| m.run_apart(clock))
    }

    /// How often (and, with a clock, how long) the engine's thread and the monitoring
    /// pipeline's collecting side waited for each other, once a run apart has finished (see
    /// [`World::run_apart`]).
    pub fn pipe_waits(&self) -> Option<crate::monitoring::PipeWaits> {
        self.monitoring.as_ref().and_then(|m| m.pipe_waits())
    }

    /// The models, in the order their summary rows and tables are written.
    fn parts(&mut self) -> Vec<&mut dyn Results> {
        let mut v: Vec<&mut dyn Results> = vec![&mut self.lifecycle];
        if let Some(m) = self.monitoring.as_mut() {
            v.push(m);
        }
        v.push(&mut self.control);
        v.push(&mut self.cladnet);
        if let Some(t) = self.twin.as_mut() {
            v.push(t);
        }
        v
    }

    /// The models the control loop acts on (a split borrow of the world's fields).
    fn ctx<'a>(lifecycle: &'a mut Lifecycle, monitoring: &'a mut Option<Monitoring>) -> Ctx<'a> {
        Ctx {
            lifecycle,
            monitoring: monitoring.as_mut(),
        }
    }

    /// The twin and the models it drives (a split borrow of the world's fields).
    fn twin_and_peers(&mut self) -> Option<(&mut Twin, Peers<'_>)> {
        let twin = self.twin.as_mut()?;
        let peers = Peers {
            lifecycle: &mut self.lifecycle,
            monitoring: self.monitoring.as_mut(),
            control: &mut self.control,
            cladnet: &mut self.cladnet,
        };
        Some((twin, peers))
    }

    fn sample(&mut self, sched: &mut Scheduler<Event>) {
        if let Some(m) = self.monitoring.as_mut() {
            m.catch_up(sched);
        }
        self.record_sample(sched);
        sched.post_in(self.sample_interval, self.sampler, Event::Sample);
    }

    /// One row of every time series, at the clock.
    fn record_sample(&mut self, sched: &Scheduler<Event>) {
        let now = sched.now();
        self.last_sample = Some(now);
        self.engine_series.push(vec![
            fmt_secs(now),
            sched.stats().processed.to_string(),
            sched.pending().to_string(),
        ]);
        SubModel::<Event>::sample(&mut self.lifecycle, now, ());
        if let Some(m) = self.monitoring.as_mut() {
            SubModel::<Event>::sample(m, now, ());
        }
        let ctx = Self::ctx(&mut self.lifecycle, &mut self.monitoring);
        SubModel::<Event>::sample(&mut self.control, now, ctx);
        if let Some((t, peers)) = self.twin_and_peers() {
            SubModel::<Event>::sample(t, now, peers);
        }
    }

    /// Ends every time series at the run's end (the clock, after the last event): a duration
    /// that is not a multiple of `sample_interval` (or a run stopped early) would otherwise
    /// leave the state of its last stretch out of them. Nothing is added when the last
    /// periodic sample was at the end. Call once, before `finish`: a run stopped early
    /// first runs the monitoring sites' reports due by then.
    pub fn close_series(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        if let Some(m) = self.monitoring.as_mut() {
            m.settle_parts(sched, now);
        }
        if self.last_sample.is_none_or(|t| t < sched.now()) {
            self.record_sample(sched);
        }
    }

    /// Passes the lifecycle's notices on to the models that follow VMs.
    fn route_notices(&mut self, sched: &mut Scheduler<Event>) {
        if !self.lifecycle.has_notices() {
            return;
        }
        let notices = self.lifecycle.take_notices();
        for &n in &notices {
            if let Some(m) = self.monitoring.as_mut() {
                m.notice(sched, n, ());
            }
            let ctx = Self::ctx(&mut self.lifecycle, &mut self.monitoring);
            self.control.notice(sched, n, ctx);
            if let Some((t, peers)) = self.twin_and_peers() {
                t.notice(sched, n, peers);
            }
        }
        self.lifecycle.reuse_notices(notices);
    }

    /// Settles what models computed ahead of the clock (call once, at the end of the run).
    pub fn finish(&mut self, end: SimTime) {
        for p in self.parts() {
            p.finish(end);
        }
    }

    /// Adds each model's scalar results to the summary.
    pub fn summarize(&mut self, summary: &mut Summary, end: SimTime) {
        for p in self.parts() {
            p.summarize(summary, end);
        }
    }

    /// The time series and tables each model produced, in a fixed order.
    pub fn into_tables(mut self) -> Vec<Table> {
        let mut v = vec![self.engine_series.take()];
        for p in self.parts() {
            v.extend(p.take_tables());
        }
        v
    }
}

impl Model for World {
    type Event = Event;
    fn settle_parts(&mut self, sched: &mut Scheduler<Event>, until: SimTime) {
        if let Some(m) = self.monitoring.as_mut() {
            m.settle_parts(sched, until);
        }
    }
    #[inline]
    fn prefetch(&self, _entity: EntityId, event: &Event) {
        match event {
            Event::Monitoring(e) => {
                if let Some(m) = &self.monitoring {
                    SubModel::<Event>::prefetch(m, e);
                }
            }
            Event::Lifecycle(e) => SubModel::<Event>::prefetch(&self.lifecycle, e),
            _ => {}
        }
    }
    fn handle(&mut self, sched: &mut Scheduler<Event>, _entity: EntityId, event: Event) {
        match event {
            Event::Sample => self.sample(sched),
            Event::Lifecycle(e) => self.lifecycle.handle(sched, e, ()),
            Event::Monitoring(e) => {
                if let Some(m) = self.monitoring.as_mut() {
                    m.handle(sched, e, ());
                }
            }
            Event::Control(e) => {
                let ctx = Self::ctx(&mut self.lifecycle, &mut self.monitoring);
                self.control.handle(sched, e, ctx);
            }
            Event::Cladnet(e) => self.cladnet.handle(sched, e, &self.lifecycle),
            Event::Api(e) => {
                if let Some((t, peers)) = self.twin_and_peers() {
                    t.handle(sched, e, peers);
                }
            }
        }
        self.route_notices(sched);
    }
}

#[cfg(test)]
mod tests {
    /// Events travel inside the event list: keep them small (an entry is 24 bytes of key and
    /// cancellation slot plus the event).
    #[test]
    fn events_stay_small() {
        assert!(std::mem::size_of::<super::Event>() <= 16);
        assert_eq!(crate::engine::queue::entry_size::<super::Event>(), 40);
    }
}
