//! The CLADNet model: every MCIS's overlay runs its status test at the planned times (probes
//! between the VMs that run, through the latency model), and at the end the model reports the
//! cloud-to-cloud RTTs (`cloud_rtt.csv`, summary percentiles), the status-test matrix
//! (`latency_matrix.csv`) and the control-plane placements (`placement.csv`).

use super::placement::placement_table;
use super::plan::Plan;
use super::status_test::{MATRIX_HEADER, Peer, status_test};
use crate::engine::{EntityId, RngFactory, Scheduler, SimRng, SimTime};
use crate::lifecycle::{Lifecycle, VmStatus};
use crate::model::{PlanError, Resolved, Results, SubModel};
use crate::network::RttStat;
use crate::output::names::{file, metric};
use crate::output::table::fmt_f64;
use crate::output::{Summary, Table};
use crate::topology::great_circle_km;

/// CLADNet events.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CladEvent {
    /// Every MCIS's overlay runs its status test (`cladnet.status_tests[idx]`).
    StatusTest { idx: u32 },
}

/// Bytes of one status-test probe and its reply on the wire (ICMP echo, 64 B each way).
const PROBE_BYTES: u64 = 2 * 64;

/// The CLADNet model's state.
pub struct Cladnet {
    plan: Plan,
    entity: EntityId,
    rng: SimRng,
    probes: u64,
    tests_run: u64,
    matrix: Table,
}

impl Cladnet {
    /// Builds the model and schedules the status tests.
    pub fn new<E: From<CladEvent> + Copy>(plan: &Plan, sched: &mut Scheduler<E>) -> Self {
        let entity = sched.alloc_entities(1).get(0);
        for (i, t) in plan.status_tests.iter().enumerate() {
            sched.post_at(*t, entity, CladEvent::StatusTest { idx: i as u32 }.into());
        }
        Cladnet {
            plan: plan.clone(),
            entity,
            rng: RngFactory::new(plan.seed).stream("cladnet.status_test", 0),
            probes: 0,
            tests_run: 0,
            matrix: Table::new(file::LATENCY_MATRIX, &MATRIX_HEADER),
        }
    }

    pub fn owns(&self, e: EntityId) -> bool {
        e == self.entity
    }

    /// An outage added during the run (the live twin's admin API) counts against the
    /// control-plane placements too.
    pub fn add_outage(&mut self, outage: &crate::lifecycle::plan::Outage) {
        if let Some(p) = self.plan.placement.as_mut() {
            p.outages.push(outage.clone());
        }
    }

    /// Runs every MCIS's status test now.
    fn status_tests(&mut self, now: SimTime, lifecycle: &Lifecycle) {
        let plan = lifecycle.plan();
        for m in 0..plan.mcis.len() as u32 {
            let peers: Vec<Peer> = lifecycle
                .mcis_vms(m)
                .map(|vm| Peer {
                    vm,
                    cloud: plan.vms[vm as usize].cloud,
                    up: lifecycle.status(vm) == Some(VmStatus::Running),
                })
                .collect();
            if peers.is_empty() {
                continue;
            }
            let name = |vm: u32| plan.vms[vm as usize].name.clone();
            self.probes += status_test(
                &self.plan.spec,
                now,
                &plan.mcis[m as usize].name,
                &peers,
                &self.plan.clouds,
                &name,
                &self.plan.rtt,
                &mut self.rng,
                &mut self.matrix,
            );
        }
        self.tests_run += 1;
    }

    /// `cloud_rtt.csv`: the model's RTT between every ordered pair of the scenario's clouds.
    fn cloud_rtt_table(&self) -> Table {
        let mut t = Table::new(
            file::CLOUD_RTT,
            &[
                "src",
                "dst",
                "distance_km",
                "floor_ms",
                "rtt_p50_ms",
                "rtt_p95_ms",
            ],
        );
        let r3 = |v: f64| fmt_f64((v * 1000.0).round() / 1000.0);
        let rtt = &self.plan.rtt;
        for a in &self.plan.clouds {
            for b in &self.plan.clouds {
                let (ra, rb) = (&a.region, &b.region);
                t.push(vec![
                    a.name(),
                    b.name(),
                    r3(great_circle_km(ra.lat, ra.lon, rb.lat, rb.lon)),
                    r3(rtt.floor(a.id, b.id)),
                    r3(rtt.rtt(a.id, b.id, RttStat::P50)),
                    r3(rtt.rtt(a.id, b.id, RttStat::P95)),
                ]);
            }
        }
        t
    }
}

impl<E: From<CladEvent> + Copy> SubModel<E> for Cladnet {
    type Event = CladEvent;
    type Peers<'p> = &'p Lifecycle;

    fn handle(&mut self, sched: &mut Scheduler<E>, ev: CladEvent, lifecycle: &Lifecycle) {
        match ev {
            CladEvent::StatusTest { .. } => self.status_tests(sched.now(), lifecycle),
        }
    }

    fn cloud_added(&mut self, world: &Resolved) -> Result<(), PlanError> {
        if let Some(c) = world.clouds.last() {
            self.plan.rtt.add_cloud(&self.plan.latency, c);
            self.plan.clouds.push(c.clone());
        }
        Ok(())
    }
}

impl Results for Cladnet {
    /// The median and largest RTT between distinct clouds, and the status tests' load.
    fn summarize(&self, summary: &mut Summary, _end: SimTime) {
        // Over the ordered pairs of distinct clouds, counted per pair of regions (10,000
        // clouds are 10^8 pairs: listing them took 1.6 GB at the end of a run).
        let mut rtts = self
            .plan
            .rtt
            .pair_medians(self.plan.clouds.iter().map(|c| c.id));
        let q = crate::stats::weighted_percentiles(&mut rtts, &[0.5, 1.0]);
        summary
            .float(metric::CLOUD_RTT_P50_MS, q[0])
            .float(metric::CLOUD_RTT_MAX_MS, q[1])
            .int(metric::STATUS_TESTS, self.tests_run)
            .int(metric::STATUS_TEST_PROBES, self.probes)
            .int(metric::STATUS_TEST_BYTES, self.probes * PROBE_BYTES);
    }

    fn take_tables(&mut self) -> Vec<Table> {
        let mut v = Vec::new();
        if self.plan.clouds.len() as u32 <= self.plan.cloud_rtt_max_clouds {
            v.push(self.cloud_rtt_table());
        }
        if self.tests_run > 0 {
            v.push(self.matrix.take());
        }
        if let Some(p) = &self.plan.placement {
            v.push(placement_table(
                &p.layouts,
                &p.outages,
                &self.plan.clouds,
                self.plan.horizon,
                &self.plan.latency,
            ));
        }
        v
    }
}
