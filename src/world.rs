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
use crate::lifecycle::VmStatus;
use crate::lifecycle::{LcEvent, Lifecycle, Notice};
use crate::monitoring::{MonEvent, Monitoring, PathDelay};
use crate::network::cladnet::{self, Peer};
use crate::network::{LatencyModel, RttStat};
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
    /// Every MCIS's CLADNet runs its status test (`cladnet.status_tests[i]`).
    StatusTest(u32),
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
    pub latency: LatencyModel,
    /// The model evaluated for the scenario's clouds.
    rtt: crate::network::table::RttTable,
    cladnet: crate::network::cladnet::CladnetSpec,
    status_rng: crate::engine::SimRng,
    status_probes: u64,
    status_tests_run: u64,
    latency_matrix: Table,
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
        sched.post_at(SimTime::ZERO, sampler, Event::Sample);
        let plan = &loaded.lifecycle;
        let lifecycle = Lifecycle::new(plan, &rngs, sc.output.vm_events, sched);
        let mut latency = LatencyModel::builtin(sim.seed);
        if let Some(m) = &loaded.measured_rtt {
            latency = latency.with_measured(m.clone());
        }
        // A report's trip jitters like one of the latency model's probes.
        let jitter = latency.coefficients().jitter_scale();
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
                .map(|c| PathDelay {
                    median_s: latency.median_rtt_ms(&c.region, &loaded.monitoring_site) / 2e3,
                    jitter,
                    floor_s: latency.floor_ms(&c.region, &loaded.monitoring_site) / 2e3,
                })
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
            latency.median_rtt_ms(&loaded.clouds[cloud as usize].region, to)
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
        let status_entity = sched.alloc_entities(1).get(0);
        for (i, t) in sc.cladnet.status_tests.iter().enumerate() {
            sched.post_at(
                SimTime::ZERO + *t,
                status_entity,
                Event::StatusTest(i as u32),
            );
        }
        World {
            sampler,
            sample_interval: sim.sample_interval,
            lifecycle,
            monitoring,
            workloads,
            controller,
            rtt: crate::network::table::RttTable::new(&latency, &loaded.clouds),
            latency,
            cladnet: sc.cladnet.clone(),
            status_rng: rngs.stream("cladnet.status_test", 0),
            status_probes: 0,
            status_tests_run: 0,
            latency_matrix: Table::new("latency_matrix.csv", &cladnet::MATRIX_HEADER),
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
        sched.post_in(self.sample_interval, self.sampler, Event::Sample);
    }

    /// Passes the lifecycle's notices on to the models that follow VMs.
    fn route_notices(&mut self, sched: &mut Scheduler<Event>) {
        if !self.lifecycle.has_notices() {
            return;
        }
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
                self.controller.vm_settled(sched, vm);
            }
        }
    }

    /// Runs every MCIS's CLADNet status test now.
    fn status_test(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let plan = self.lifecycle.plan();
        for m in 0..plan.mcis.len() as u32 {
            let peers: Vec<Peer> = self
                .lifecycle
                .mcis_vms(m)
                .map(|vm| Peer {
                    vm,
                    cloud: plan.vms[vm as usize].cloud,
                    up: self.lifecycle.status(vm) == Some(VmStatus::Running),
                })
                .collect();
            if peers.is_empty() {
                continue;
            }
            let name = |vm: u32| plan.vms[vm as usize].name.clone();
            self.status_probes += cladnet::status_test(
                &self.cladnet,
                now,
                &plan.mcis[m as usize].name,
                &peers,
                &plan.clouds,
                &name,
                &self.rtt,
                &mut self.status_rng,
                &mut self.latency_matrix,
            );
        }
        self.status_tests_run += 1;
    }

    /// Adds each model's scalar results to the summary.
    /// Settles what models computed ahead of the clock (call once, at the end of the run).
    pub fn finish(&mut self, end: SimTime) {
        if let Some(m) = self.monitoring.as_mut() {
            m.finish(end);
        }
    }

    pub fn summarize(&self, summary: &mut Summary, end: SimTime) {
        self.lifecycle.summarize(summary, end);
        if let Some(m) = &self.monitoring {
            m.summarize(summary, end);
        }
        self.controller.summarize(summary);
        // Cloud-level RTTs (off the diagonal), and the CLADNet status tests.
        let clouds = &self.lifecycle.plan().clouds;
        let mut rtts: Vec<f64> = Vec::new();
        for a in clouds {
            for b in clouds {
                if a.id != b.id {
                    rtts.push(self.rtt.median(a.id, b.id));
                }
            }
        }
        let q = crate::stats::percentiles(&rtts, &[0.5, 1.0]);
        summary
            .float("cloud_rtt_p50_ms", q[0])
            .float("cloud_rtt_max_ms", q[1])
            .int("status_tests", self.status_tests_run)
            .int("status_test_probes", self.status_probes)
            .int("status_test_bytes", self.status_probes * 2 * 64);
    }

    /// `cloud_rtt.csv`: the model's RTT between every ordered pair of the scenario's clouds.
    fn cloud_rtt_table(&self, max_clouds: u32) -> Option<Table> {
        let clouds = &self.lifecycle.plan().clouds;
        if clouds.len() as u32 > max_clouds {
            return None;
        }
        let mut t = Table::new(
            "cloud_rtt.csv",
            &[
                "src",
                "dst",
                "distance_km",
                "floor_ms",
                "rtt_p50_ms",
                "rtt_p95_ms",
            ],
        );
        let r3 = |v: f64| crate::output::table::fmt_f64((v * 1000.0).round() / 1000.0);
        for a in clouds {
            for b in clouds {
                let (ra, rb) = (&a.region, &b.region);
                t.push(vec![
                    a.name(),
                    b.name(),
                    r3(crate::topology::great_circle_km(
                        ra.lat, ra.lon, rb.lat, rb.lon,
                    )),
                    r3(self.latency.floor_ms(ra, rb)),
                    r3(self.latency.rtt_ms(ra, rb, RttStat::P50)),
                    r3(self.latency.rtt_ms(ra, rb, RttStat::P95)),
                ]);
            }
        }
        Some(t)
    }

    /// The time series and tables each model produced, in a fixed order. `placement` is the
    /// CLADNet control-plane comparison, computed by the caller from the plan's outages.
    pub fn into_tables(self, cloud_rtt_max_clouds: u32, placement: Option<Table>) -> Vec<Table> {
        let rtt = self.cloud_rtt_table(cloud_rtt_max_clouds);
        let mut v = vec![self.engine_series];
        v.extend(rtt);
        if self.status_tests_run > 0 {
            v.push(self.latency_matrix);
        }
        v.extend(placement);
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
    #[inline]
    fn prefetch(&self, _entity: EntityId, event: &Event) {
        if let (Event::Monitoring(e), Some(m)) = (event, &self.monitoring) {
            m.prefetch(e);
        }
    }
    fn handle(&mut self, sched: &mut Scheduler<Event>, _entity: EntityId, event: Event) {
        match event {
            Event::Sample => self.sample(sched),
            Event::Lifecycle(e) => self.lifecycle.handle(sched, e),
            Event::Monitoring(e) => {
                if let Some(m) = self.monitoring.as_mut() {
                    m.handle(sched, e);
                }
            }
            Event::StatusTest(_) => self.status_test(sched),
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
