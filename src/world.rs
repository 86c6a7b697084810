//! The world: every model of a run composed into one [`Model`] for the engine.
//!
//! Each model owns its state and its own event enum; [`Event`] wraps them, and [`World::handle`]
//! routes each event to its model. The lifecycle's notices (a VM entering or leaving Running,
//! a create giving up) are passed on to the models that follow VMs: monitoring agents, the
//! workload's share of load, and the auto-control loop waiting for a scale-out. A periodic
//! sampler entity records every time series at each `simulation.sample_interval` (t = 0
//! included, and the horizon itself).

use crate::control::{Controller, CtlEvent, Ctx};
use crate::engine::{EntityId, Model, RngFactory, Scheduler, SimDuration, SimTime};
use crate::lifecycle::{LcEvent, Lifecycle, Notice};
use crate::monitoring::{MonEvent, Monitoring, PathDelay};
use crate::output::{Summary, Table, table::fmt_secs};
use crate::scenario::Loaded;
use crate::topology::specs::SpecCatalogue;
use crate::workload::{Curve, McisLoad, Workloads};

/// Every event of a run.
#[derive(Copy, Clone, Debug)]
pub enum Event {
    /// Record one row of each time series.
    Sample,
    Lifecycle(LcEvent),
    Monitoring(MonEvent),
    Control(CtlEvent),
}

impl From<LcEvent> for Event {
    fn from(e: LcEvent) -> Self {
        Event::Lifecycle(e)
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

/// All model state of one run.
pub struct World {
    sampler: EntityId,
    sample_interval: SimDuration,
    pub lifecycle: Lifecycle,
    pub monitoring: Option<Monitoring>,
    pub workloads: Workloads,
    pub controller: Controller,
    /// Engine load over time: `engine.csv`.
    engine_series: Table,
}

impl World {
    /// Builds the models for a scenario and schedules their first events.
    pub fn new(loaded: &Loaded, sched: &mut Scheduler<Event>) -> Self {
        let sc = &loaded.scenario;
        let sim = &sc.simulation;
        let rngs = RngFactory::new(sim.seed);
        let horizon = SimTime::ZERO + sim.duration;
        let sampler = sched.alloc_entities(1).get(0);
        sched.schedule_at(SimTime::ZERO, sampler, Event::Sample);
        let plan = &loaded.lifecycle;
        let lifecycle = Lifecycle::new(plan, &rngs, sc.output.vm_events, sched);
        let mon = &sc.monitoring;
        let monitoring = mon.enabled.then(|| {
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
                horizon,
                &rngs,
                sched,
            )
        });
        let mcis_index = |name: &str| {
            plan.mcis
                .iter()
                .position(|m| m.name == name)
                .expect("MCIS names are checked at load") as u32
        };
        let mut loads: Vec<Option<McisLoad>> = vec![None; plan.mcis.len()];
        for (i, w) in sc.workload.iter().enumerate() {
            let m = mcis_index(&w.mcis);
            let curve = Curve::new(
                &w.demand,
                horizon,
                &rngs,
                m as u64,
                loaded.workload_traces[i].as_deref(),
            )
            .expect("workload curves are checked at load");
            loads[m as usize] = Some(McisLoad {
                spec: w.clone(),
                curve,
                running: 0,
                running_vcpus: 0,
            });
        }
        let has_workload: Vec<bool> = loads.iter().map(Option::is_some).collect();
        let workloads = Workloads::new(loads, plan.vms.len(), &rngs);
        let catalogue = &loaded.catalogue;
        let rtt_ms = |cloud: u32, region: &str| {
            let (p, r) = region.split_once(':').unwrap_or((region, ""));
            let to = catalogue
                .find(p, r)
                .expect("placement regions are checked at load");
            2.0 * placeholder_path(&loaded.clouds[cloud as usize].region, to).median_s * 1e3
        };
        let controller = Controller::new(
            &sc.control,
            &lifecycle,
            &mcis_index,
            &has_workload,
            &SpecCatalogue::builtin(),
            &rtt_ms,
            &rngs,
            sched,
        );
        World {
            sampler,
            sample_interval: sim.sample_interval,
            lifecycle,
            monitoring,
            workloads,
            controller,
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
        let ctx = Ctx {
            lifecycle: &mut self.lifecycle,
            monitoring: self.monitoring.as_mut(),
            workloads: &mut self.workloads,
        };
        self.controller.sample_series(now, &ctx);
        sched.schedule_in(self.sample_interval, self.sampler, Event::Sample);
    }

    /// Passes the lifecycle's notices on to the models that follow VMs.
    fn route_notices(&mut self, sched: &mut Scheduler<Event>) {
        let notices: Vec<Notice> = self.lifecycle.drain_notices().collect();
        for n in notices {
            match n {
                Notice::Running { vm, .. } | Notice::Stopped { vm, .. } => {
                    let running = matches!(n, Notice::Running { .. });
                    let plan = self.lifecycle.plan();
                    let pv = &plan.vms[vm as usize];
                    let vcpu = plan.specs[pv.spec as usize].vcpu;
                    self.workloads.vm_running(pv.mcis, vcpu, running);
                    if let Some(m) = self.monitoring.as_mut() {
                        if running {
                            m.vm_running(sched, vm);
                        } else {
                            m.vm_stopped(sched, vm);
                        }
                    }
                }
                Notice::CreateGaveUp { .. } | Notice::Deleted { .. } => {}
            }
            if let Notice::Running { vm, .. } | Notice::CreateGaveUp { vm } = n {
                let mut ctx = Ctx {
                    lifecycle: &mut self.lifecycle,
                    monitoring: self.monitoring.as_mut(),
                    workloads: &mut self.workloads,
                };
                self.controller.vm_settled(sched, vm, &mut ctx);
            }
        }
    }

    /// Adds each model's scalar results to the summary.
    pub fn summarize(&self, summary: &mut Summary, end: SimTime) {
        self.lifecycle.summarize(summary, end);
        if let Some(m) = &self.monitoring {
            m.summarize(summary, end);
        }
        self.controller.summarize(summary);
    }

    /// The time series and tables each model produced, in a fixed order.
    pub fn into_tables(self) -> Vec<Table> {
        let mut v = vec![self.engine_series];
        v.extend(self.controller.into_tables(&self.lifecycle));
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
            Event::Lifecycle(e) => self.lifecycle.handle(sched, e),
            Event::Monitoring(e) => {
                if let Some(m) = self.monitoring.as_mut() {
                    m.handle(sched, e);
                }
            }
            Event::Control(e) => {
                let mut ctx = Ctx {
                    lifecycle: &mut self.lifecycle,
                    monitoring: self.monitoring.as_mut(),
                    workloads: &mut self.workloads,
                };
                self.controller.handle(sched, e, &mut ctx);
            }
        }
        self.route_notices(sched);
    }
}

/// One-way delay from a cloud to a region: light in fibre over the great-circle distance with
/// a route stretch of 1.8 plus 2 ms (placeholder until the calibrated latency model is wired in).
fn placeholder_path(a: &crate::topology::Region, b: &crate::topology::Region) -> PathDelay {
    let km = crate::topology::great_circle_km(a.lat, a.lon, b.lat, b.lon);
    let rtt_ms = 2.0 * km / 204.0 * 1.8 + 2.0;
    PathDelay {
        median_s: rtt_ms / 2.0 / 1e3,
        sigma: 0.03,
    }
}
