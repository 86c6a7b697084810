//! Benchmark workloads for the engine, shared by `cloudtwin bench` and `cargo bench`.
//!
//! `periodic`: N entities, each firing every 5 s from a seeded random phase and rescheduling
//! itself (the shape of monitoring agents). `churn` adds a watchdog per entity, armed 15 s
//! ahead and cancelled and re-armed at every firing (the shape of dead-agent detection and
//! provider API timeouts): it exercises cancellation.
//!
//! [`Phases`] says how the phases fall over the entities' ids: at random (each event touches a
//! random entity's row in the scheduler's tables, as agents' reports do), or the same phases
//! sorted into id order (each event touches the row after the last one's). The two run the same
//! events at the same instants; what separates their times is the machine's cost of random
//! access, which grows with the tables (BENCHMARKS.md, the eighteenth step).
//!
//! [`Partition`] runs the same timers in groups, each group on an event list of its own, one
//! window of simulated time after another: every group runs to the window's end before the
//! next one starts, so a window touches one group's state at a time. The timers are
//! independent, so the same events fire. It measures what a simulator run cloud by cloud in
//! windows would gain: its state touched a cache-sized group at a time (BENCHMARKS.md, the
//! twenty-fifth step).
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
    pub phases: Phases,
    /// Run in groups, window by window (`None`: one event list for all).
    pub partition: Option<Partition>,
}

/// Timers `i * size .. (i + 1) * size` form group `i`, on an event list of its own; the run
/// advances every group to the end of one window of `window_seconds` before the next window.
/// A size or window of 0 counts as 1 (the CLI refuses both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    pub size: u32,
    pub window_seconds: u64,
}

/// How the entities' phases are laid out over their ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phases {
    /// Each entity draws its own phase: consecutive events belong to entities at random.
    #[default]
    Random,
    /// The same draws, sorted and handed out in id order: consecutive events belong to
    /// consecutive entities.
    InIdOrder,
}

/// Result of one workload run (timing is the caller's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkloadResult {
    pub events: u64,
    pub fired: u64,
    pub watchdogs_fired: u64,
    /// Firings of the entity right after the previous firing's (id + 1): how local the
    /// workload's access to the entities is (see [`Phases`]).
    pub next_in_line: u64,
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
    last_fired: u32,
    next_in_line: u64,
}

impl Model for Periodic {
    type Event = Ev;
    fn handle(&mut self, s: &mut Scheduler<Ev>, e: EntityId, ev: Ev) {
        match ev {
            Ev::Tick => {
                self.fired += 1;
                self.next_in_line += u64::from(e.0 == self.last_fired.wrapping_add(1));
                self.last_fired = e.0;
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
    let period = SimDuration::from_secs(5);
    let rngs = RngFactory::new(w.seed);
    let mut rng = rngs.stream("bench.phase", 0);
    let mut phases: Vec<u64> = (0..w.entities)
        .map(|_| rng.random_range(0..period.as_nanos()))
        .collect();
    if w.phases == Phases::InIdOrder {
        phases.sort_unstable();
    }
    let end = SimTime::from_secs(w.sim_seconds);
    let Some(p) = w.partition else {
        let mut group = Group::new(w, fel, period, &phases);
        group.run_until(end);
        return group.result();
    };
    let size = p.size.max(1) as usize;
    let mut groups: Vec<Group> = phases
        .chunks(size)
        .map(|chunk| Group::new(w, fel, period, chunk))
        .collect();
    let window = SimDuration::from_secs(p.window_seconds.max(1));
    let mut at = SimTime::ZERO;
    while at < end {
        at = (at + window).min(end);
        for g in &mut groups {
            g.run_until(at);
        }
    }
    groups.iter().fold(WorkloadResult::default(), |mut r, g| {
        let gr = g.result();
        r.events += gr.events;
        r.fired += gr.fired;
        r.watchdogs_fired += gr.watchdogs_fired;
        r.next_in_line += gr.next_in_line;
        r
    })
}

/// Timers on one event list: the whole workload, or one group of a [`Partition`].
struct Group {
    sched: Scheduler<Ev>,
    model: Periodic,
}

impl Group {
    fn new(w: &Workload, fel: FelKind, period: SimDuration, phases: &[u64]) -> Self {
        let mut sched = Scheduler::with_fel(fel);
        let n = phases.len() as u32;
        let ids = sched.alloc_entities(n);
        for (i, phase) in (0..n).zip(phases) {
            let at = SimTime::ZERO + SimDuration::from_nanos(*phase);
            sched.schedule_at(at, ids.get(i), Ev::Tick);
        }
        let model = Periodic {
            period,
            watchdog: SimDuration::from_secs(15),
            churn: w.churn,
            watchdogs: vec![None; n as usize],
            fired: 0,
            watchdogs_fired: 0,
            last_fired: u32::MAX - 1,
            next_in_line: 0,
        };
        Group { sched, model }
    }

    fn run_until(&mut self, at: SimTime) {
        self.sched
            .run_until(&mut self.model, at, &mut RunControl::none());
    }

    fn result(&self) -> WorkloadResult {
        WorkloadResult {
            events: self.sched.stats().processed,
            fired: self.model.fired,
            watchdogs_fired: self.model.watchdogs_fired,
            next_in_line: self.model.next_in_line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hundred timers for 100 simulated s at random phases, on one event list.
    fn hundred_timers(churn: bool, seed: u64) -> Workload {
        Workload {
            entities: 100,
            sim_seconds: 100,
            churn,
            seed,
            phases: Phases::Random,
            partition: None,
        }
    }

    #[test]
    fn all_event_lists_process_the_same_events() {
        for churn in [false, true] {
            let w = hundred_timers(churn, 3);
            let a = run_workload(&w, FelKind::BinaryHeap);
            for kind in FelKind::ALL {
                assert_eq!(run_workload(&w, kind), a, "{kind:?}");
                let sorted = Workload {
                    phases: Phases::InIdOrder,
                    ..w
                };
                let b = run_workload(&sorted, kind);
                assert_eq!(
                    (b.events, b.fired, b.watchdogs_fired),
                    (a.events, a.fired, a.watchdogs_fired),
                    "{kind:?}: the same instants, so the same events"
                );
                // Each round of 100 firings starts at the first entity again: all but the
                // first of a round follow the one before.
                assert_eq!(b.next_in_line, 20 * 99, "{kind:?}: in id order");
            }
            assert!(
                a.next_in_line < a.fired / 10,
                "random phases: {} of {} in line",
                a.next_in_line,
                a.fired
            );
            assert_eq!(a.fired, 100 * 20, "each entity fires 20 times in 100 s");
            assert_eq!(
                a.watchdogs_fired, 0,
                "watchdogs are always re-armed in time"
            );
        }
    }

    /// Groups on event lists of their own, run window by window, fire the same events as one
    /// list (the timers are independent), whatever the group size and window, with or without
    /// watchdogs; and each group's timers run on a list of their own.
    #[test]
    fn partitioned_runs_fire_the_same_events() {
        for churn in [false, true] {
            let w = hundred_timers(churn, 5);
            let whole = run_workload(&w, FelKind::Calendar);
            for (size, window_seconds) in [(1, 1), (7, 3), (10, 7), (33, 100), (100, 250)] {
                let partition = Some(Partition {
                    size,
                    window_seconds,
                });
                for kind in FelKind::ALL {
                    let r = run_workload(&Workload { partition, ..w }, kind);
                    assert_eq!(
                        (r.events, r.fired, r.watchdogs_fired),
                        (whole.events, whole.fired, whole.watchdogs_fired),
                        "{kind:?}, groups of {size}, windows of {window_seconds} s"
                    );
                }
            }
            // In id order, each group of ten fires its own 0..9 in turn: nine in line per
            // group and period, against 99 per period on one list of a hundred.
            let sorted = Workload {
                phases: Phases::InIdOrder,
                partition: Some(Partition {
                    size: 10,
                    window_seconds: 7,
                }),
                ..w
            };
            assert_eq!(
                run_workload(&sorted, FelKind::Calendar).next_in_line,
                10 * 20 * 9
            );
        }
    }
}
