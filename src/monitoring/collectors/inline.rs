//! Collector services computed on arrival instead of simulated as events: a collector is a
//! FIFO single server, so a message starts at max(arrival, previous end) and ends a service
//! time later (Lindley's recursion). Exact when nothing couples the collectors or moves
//! messages between them: push mode, per-collector queues, a fixed collector set (fixed or csp
//! policy) no larger than the server's cores, so CPU contention never stretches a service
//! (`Plan::inline_service` decides). The results are the same with half the events. The
//! effects (wait and CPU accounting, round contents) are applied in order before anything
//! reads them: the sampler, the aggregation round, the end of the run ([`Collectors::catch_up`]).
//!
//! Sources: D. V. Lindley, "The theory of queues with a single server", Proc. Cambridge Phil.
//! Soc. 48 (1952); the collector it shortcuts is Dragonfly's (`../shared/domain/cloud-barista.md`
//! section 2.4).

use super::{Collector, Collectors, Discipline, Msg};
use crate::engine::SimTime;
use crate::monitoring::agents::Agent;
use crate::monitoring::series::Series;

/// A message in a collector computed ahead: its service start and end are known on arrival.
#[derive(Copy, Clone, Debug)]
pub(super) struct Pending {
    agent: u32,
    /// It found the collector busy and queued.
    waited: bool,
    /// Its start (wait and CPU time) has been accounted.
    started: bool,
    sent_at: SimTime,
    arrived: SimTime,
    start: SimTime,
    done: SimTime,
}

impl Pending {
    /// Accounts the start of its service: the wait, and the CPU time it will take.
    #[inline]
    fn account_start(&mut self, s: &mut Series) {
        s.waits.record(self.start, self.arrived);
        s.iv_busy_ns += self.done.since(self.start).as_nanos();
        self.started = true;
    }
}

/// Messages waiting at the collector at `now`: not yet started.
pub(super) fn backlog(c: &Collector, now: SimTime) -> usize {
    c.pending.len() - c.pending.partition_point(|p| p.start < now)
}

impl Collectors {
    /// Inline-service arrival at collector `c`: the message's start and end follow from the
    /// previous one's end. Returns false if it is dropped (buffer full). Same-instant order as
    /// the event version: an arrival at the very instant a service ends still finds the
    /// collector busy (agents' events come before collectors').
    #[inline]
    pub(super) fn arrive_inline(&mut self, c: u32, msg: Msg, s: &mut Series) -> bool {
        let now = msg.arrived;
        let buffer = self.buffer;
        let col = &mut self.pool.all[c as usize];
        let busy_until = col.pending.back().map(|p| p.done).filter(|d| *d >= now);
        if busy_until.is_some() && col.pending.len() >= buffer {
            // Queued = waited and not yet started (a start at this instant has not happened:
            // the completion before it is a later event of the same instant).
            let started = col.pending.partition_point(|p| p.start < now);
            let queued = col
                .pending
                .range(started..)
                .filter(|p| p.waited || p.start > now)
                .count();
            if queued >= buffer {
                return false;
            }
        }
        let d = self.service.draw(c, &mut col.rng);
        let start = busy_until.unwrap_or(now);
        let mut p = Pending {
            agent: msg.agent,
            waited: busy_until.is_some(),
            started: false,
            sent_at: msg.sent_at,
            arrived: now,
            start,
            done: start + d,
        };
        if !p.waited {
            // Starts now: account it now, as the event version does.
            p.account_start(s);
        }
        col.pending.push_back(p);
        true
    }

    /// Applies the inline-service starts and completions up to `t` (inclusive or not: the
    /// sampler runs before every other event of its instant, the round after them), in
    /// aggregation round `round`.
    pub(in crate::monitoring) fn catch_up(
        &mut self,
        t: SimTime,
        inclusive: bool,
        agents: &mut [Agent],
        round: u32,
        s: &mut Series,
    ) {
        if self.discipline != Discipline::Inline {
            return;
        }
        let due = |x: SimTime| x < t || (inclusive && x == t);
        let points = self.points_per_agent;
        for col in self.pool.all.iter_mut() {
            for p in col.pending.iter_mut() {
                if !due(p.start) {
                    break;
                }
                if !p.started {
                    p.account_start(s);
                }
            }
            while let Some(&p) = col.pending.front()
                && due(p.done)
            {
                col.pending.pop_front();
                col.finish(p.sent_at, &mut agents[p.agent as usize], round, points);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{EntityId, Model, RunControl, Scheduler, SimDuration, SimTime};
    use crate::model::{Results, SubModel};
    use crate::monitoring::MonitoringSpec;
    use crate::monitoring::events::MonEvent;
    use crate::monitoring::model::Monitoring;
    use crate::monitoring::plan::{AgentPlan, PathDelay, Plan};
    use crate::output::Summary;

    #[derive(Copy, Clone, Debug)]
    enum Ev {
        Sample,
        Mon(MonEvent),
    }
    impl From<MonEvent> for Ev {
        fn from(e: MonEvent) -> Self {
            Ev::Mon(e)
        }
    }
    /// The monitoring model with a sampler that, like the world's, owns entity 0 (its events
    /// come first at any instant).
    struct Harness {
        m: Monitoring,
        every: SimDuration,
    }
    impl Model for Harness {
        type Event = Ev;
        fn handle(&mut self, s: &mut Scheduler<Ev>, e: EntityId, ev: Ev) {
            match ev {
                Ev::Sample => {
                    SubModel::<Ev>::sample(&mut self.m, s.now(), ());
                    s.post_in(self.every, e, Ev::Sample);
                }
                Ev::Mon(ev) => self.m.handle(s, ev, ()),
            }
        }
    }

    fn run(inline: bool, agents: u32, service: &str) -> (u64, String, Vec<u8>) {
        // Zero network delay and a 4 ns report interval: reports arrive on a grid of whole
        // nanoseconds, services of 3 ns end on it too, and rounds (10 ns) and samples (5 ns)
        // fall on it: arrivals, completions, rounds and samples keep landing on the same
        // instant, where their order decides queue lengths, drops and round contents.
        let spec: MonitoringSpec = toml::from_str(&format!(
            r#"
            interval = "4ns"
            agent_start_delay = "0s"
            inline_service = {inline}
            [collectors]
            policy = "fixed"
            count = 2
            server_cores = 2
            interval = "10ns"
            service_time = "{service}"
            buffer = 1
            dead_after_rounds = 1
            "#
        ))
        .expect("spec");
        let mut s = Scheduler::new();
        let sampler = s.alloc_entities(1).get(0);
        s.post_at(SimTime::ZERO, sampler, Ev::Sample);
        let n = agents;
        let path = PathDelay {
            median_s: 0.0,
            jitter: 0.0,
            floor_s: 0.0,
        };
        let horizon = SimTime(10_000);
        let plan = Plan {
            enabled: true,
            site: crate::topology::Catalogue::builtin()
                .find_key("aws:us-east-1")
                .expect("a region")
                .clone(),
            paths: vec![path],
            agents: (0..n)
                .map(|i| AgentPlan {
                    cloud: 0,
                    provider: i % 2,
                })
                .collect(),
            providers: 2,
            max_collectors: 2,
            initial_collectors: 2,
            // Fixed policy, 2 collectors on 2 cores: the shortcut is exact when asked for.
            inline_service: inline,
            seed: 5,
            horizon,
            spec,
        };
        let m = Monitoring::new(&plan, &mut s);
        let mut h = Harness {
            m,
            every: SimDuration::from_nanos(5),
        };
        for a in 0..n {
            h.m.vm_running(&mut s, a);
        }
        let out = s.run_until(&mut h, horizon, &mut RunControl::none());
        h.m.finish(out.end);
        let mut sum = Summary::new();
        h.m.summarize(&mut sum, out.end);
        assert!(
            h.m.counts.dropped_collector > 0,
            "the buffer of 1 overflows"
        );
        let series = h.m.take_tables().remove(0).to_csv();
        (out.events, sum.to_csv(), series)
    }

    /// The inline shortcut decides same-instant ties exactly as the simulated completions do.
    #[test]
    fn inline_service_breaks_ties_like_events() {
        for (agents, service) in [(7, "3ns"), (20, "1ns"), (12, "2ns")] {
            let (ev_inline, sum_inline, series_inline) = run(true, agents, service);
            let (ev_events, sum_events, series_events) = run(false, agents, service);
            assert!(ev_inline < ev_events);
            assert_eq!(sum_inline, sum_events, "{agents} agents, {service}");
            assert!(series_inline == series_events, "monitoring.csv differs");
        }
    }
}
