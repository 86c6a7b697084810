//! Benchmark workloads for the engine, shared by `cloudtwin bench` and `cargo bench`.
//!
//! `periodic`: N entities, each firing every 5 s from a seeded random phase and rescheduling
//! itself (the shape of monitoring agents). `churn` adds a watchdog per entity, armed 15 s
//! ahead and cancelled and re-armed at every firing (the shape of dead-agent detection and
//! provider API timeouts): it exercises cancellation.
//!
//! [`memory`]: the machine's own cost of random memory access at a footprint, the floor under
//! a simulator whose state is touched at random.

pub mod memory;

use crate::engine::{
    EntityId, EventHandle, FelKind, Model, RngFactory, RunControl, Scheduler, SimDuration, SimTime,
};
use rand::RngExt;

/// Parameters of a benchmark workload.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    pub entities: u32,
    pub sim_seconds: u64,
    pub churn: bool,
    pub seed: u64,
}

/// Result of one workload run (timing is the caller's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkloadResult {
    pub events: u64,
    pub fired: u64,
    pub watchdogs_fired: u64,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Tick,
    Watchdog,
}

struct Periodic {
    period: SimDuration,
    watchdog: SimDuration,
    churn: bool,
    watchdogs: Vec<Option<EventHandle>>,
    fired: u64,
    watchdogs_fired: u64,
}

impl Model for Periodic {
    type Event = Ev;
    fn handle(&mut self, s: &mut Scheduler<Ev>, e: EntityId, ev: Ev) {
        match ev {
            Ev::Tick => {
                self.fired += 1;
                s.schedule_in(self.period, e, Ev::Tick);
                if self.churn {
                    let slot = &mut self.watchdogs[e.0 as usize];
                    if let Some(h) = slot.take() {
                        s.cancel(h);
                    }
                    *slot = Some(s.schedule_in(self.watchdog, e, Ev::Watchdog));
                }
            }
            Ev::Watchdog => self.watchdogs_fired += 1,
        }
    }
}

/// Runs a workload on the given event-list structure.
pub fn run_workload(w: &Workload, fel: FelKind) -> WorkloadResult {
    let mut s = Scheduler::with_fel(fel);
    let ids = s.alloc_entities(w.entities);
    let period = SimDuration::from_secs(5);
    let rngs = RngFactory::new(w.seed);
    let mut rng = rngs.stream("bench.phase", 0);
    for i in 0..w.entities {
        let phase = SimDuration::from_nanos(rng.random_range(0..period.as_nanos()));
        s.schedule_at(SimTime::ZERO + phase, ids.get(i), Ev::Tick);
    }
    let mut m = Periodic {
        period,
        watchdog: SimDuration::from_secs(15),
        churn: w.churn,
        watchdogs: vec![None; w.entities as usize],
        fired: 0,
        watchdogs_fired: 0,
    };
    let out = s.run_until(
        &mut m,
        SimTime::from_secs(w.sim_seconds),
        &mut RunControl::none(),
    );
    WorkloadResult {
        events: out.events,
        fired: m.fired,
        watchdogs_fired: m.watchdogs_fired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_event_lists_process_the_same_events() {
        for churn in [false, true] {
            let w = Workload {
                entities: 100,
                sim_seconds: 100,
                churn,
                seed: 3,
            };
            let a = run_workload(&w, FelKind::BinaryHeap);
            for kind in FelKind::ALL {
                assert_eq!(run_workload(&w, kind), a, "{kind:?}");
            }
            assert_eq!(a.fired, 100 * 20, "each entity fires 20 times in 100 s");
            assert_eq!(
                a.watchdogs_fired, 0,
                "watchdogs are always re-armed in time"
            );
        }
    }
}
