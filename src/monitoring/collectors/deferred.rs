//! Collector completions kept by the collectors instead of the engine. Where CPU contention
//! couples the collectors (more collectors than the server's cores: a service's length depends
//! on how many others are busy when it starts) or the agentCount policy moves messages
//! between them, a service cannot be computed on arrival as [`super::inline`] does. It can
//! still avoid the engine: each busy collector's completion is one entry of a small heap
//! (at most one per collector), and every completion due is applied, in the engine's order
//! (time, then collector), before anything that reads or changes the collectors:
//!
//! - a report arriving at `t` (an agent's event: agents' entities come before collectors', so
//!   completions at `t` itself come after it): completions before `t`;
//! - the sampler at `t` (before every event of its instant): completions before `t`;
//! - the aggregation round at `t` (the server's event, after the collectors'): completions up
//!   to and including `t`, then its own starts (a retired collector's messages moved);
//! - the end of the run: completions up to and including it.
//!
//! A completion starts the collector's next message at its own instant, with the busy count
//! of that instant, exactly as the `ServiceDone` event does. The results are the same as with
//! every completion an event (a test runs both on a nanosecond grid of ties and on whole
//! scenarios), with one engine event per report instead of two.
//!
//! Sources: the collector it shortcuts is CB-Dragonfly's (`../shared/domain/cloud-barista.md`
//! section 2.4); the processor-sharing stretch is the one of `Service::begin`.

use super::{Collectors, Discipline};
use crate::engine::SimTime;
use crate::engine::hint::prefetch;
use crate::monitoring::series::Series;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The busy collectors' completions, earliest first; ties by collector index, as the
/// engine's keys order the collectors' entities. An entry is `time << 64 | collector << 32 |
/// agent`: a collector has at most one entry, so the agent whose report it serves never
/// decides an order; it is carried so the next completion's state can be fetched ahead.
#[derive(Default)]
pub(super) struct Deferred {
    heap: BinaryHeap<Reverse<u128>>,
}

impl Deferred {
    #[inline]
    pub(super) fn push(&mut self, done: SimTime, c: u32, agent: u32) {
        self.heap.push(Reverse(
            ((done.as_nanos() as u128) << 64) | ((c as u128) << 32) | agent as u128,
        ));
    }

    /// The collector and agent of the earliest completion.
    #[inline]
    fn next(&self) -> Option<(u32, u32)> {
        self.heap
            .peek()
            .map(|Reverse(k)| ((*k >> 32) as u32, *k as u32))
    }

    /// The earliest completion, if it is due (`before` it, or at it when `inclusive`).
    #[inline]
    fn pop_due(&mut self, before: SimTime, inclusive: bool) -> Option<(SimTime, u32)> {
        let Reverse(k) = *self.heap.peek()?;
        let at = SimTime((k >> 64) as u64);
        if at < before || (inclusive && at == before) {
            self.heap.pop();
            Some((at, (k >> 32) as u32))
        } else {
            None
        }
    }
}

impl Collectors {
    /// Applies the deferred completions before `t` (and at `t` when `inclusive`), in
    /// aggregation round `round`; each starts its collector's next message.
    pub(super) fn settle_deferred(
        &mut self,
        t: SimTime,
        inclusive: bool,
        round: u32,
        s: &mut Series,
    ) {
        debug_assert_eq!(self.discipline, Discipline::Deferred);
        let mut counted = super::Counted {
            marks: &mut self.round_points,
            round,
            points: self.points_per_agent,
        };
        let service = &mut self.service;
        loop {
            let Some(d) = service.deferred.as_mut() else {
                return;
            };
            let Some((at, c)) = d.pop_due(t, inclusive) else {
                // Start loading what the next completion touches, an event or more ahead: its
                // collector (tens of thousands do not stay in cache) and its agent's bit.
                if let Some((n, agent)) = d.next()
                    && let Some(col) = self.pool.all.get(n as usize)
                {
                    prefetch(col);
                    counted.marks.prefetch(agent);
                }
                return;
            };
            service.busy -= 1;
            let col = &mut self.pool.all[c as usize];
            if let Some(msg) = col.in_service.take() {
                col.finish(msg.sent_at, msg.agent, &mut counted);
            }
            if let Some(next) = col.queue.pop_front() {
                let done = service.begin(at, c, col, next, s);
                if let Some(d) = service.deferred.as_mut() {
                    d.push(done, c, next.agent);
                }
            }
        }
    }
}
