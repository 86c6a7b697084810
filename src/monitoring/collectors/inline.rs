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

use super::{Collector, Collectors, Msg};
use crate::engine::SimTime;
use crate::monitoring::series::Series;

/// A message in a collector computed ahead: its service start and end are known on arrival.
#[derive(Copy, Clone, Debug)]
pub(super) struct Pending {
    /// Its agent's slot.
    pub(super) slot: u32,
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
            slot: msg.slot,
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
    pub(super) fn catch_up_inline(
        &mut self,
        t: SimTime,
        inclusive: bool,
        round: u32,
        s: &mut Series,
    ) {
        let due = |x: SimTime| x < t || (inclusive && x == t);
        let mut counted = super::Counted {
            marks: &mut self.round_points,
            round,
            points: self.points_per_agent,
        };
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
                col.finish(p.sent_at, p.slot, &mut counted);
            }
        }
    }
}
