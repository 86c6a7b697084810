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
/// slot`: a collector has at most one entry, so keys are unique and the slot of the agent
/// whose report it serves never decides an order; it is carried so the next completion's
/// state can be fetched ahead.
///
/// A new completion usually lands among the last: services of one length (the default, 0.2 ms)
/// started in time order end in time order, and only ties (a lower collector index) or a
/// stretched or drawn service land a little earlier. So the entries are kept as a sorted run,
/// appended near its end and consumed from its front: a few compares, where a binary heap sifts
/// through every level twice (a third of the collecting thread's time at a million agents, 27
/// busy on average). An entry that would go more than `NEAR` places back into the run goes to
/// a binary heap instead (`late`), and the earliest entry is the smaller of the run's front and
/// the heap's top. However many collectors are busy at once (400 at ten million agents, where a
/// heap of all of them took half the collecting thread's settlement time), in-order entries
/// cost the same; out-of-order ones cost a heap of the out-of-order ones only. Either way
/// entries leave in key order, so the results do not depend on where an entry waited.
#[derive(Default)]
pub(super) struct Deferred {
    /// Entries in ascending order from `head`.
    run: Vec<u128>,
    head: usize,
    /// Entries that came too far out of order for the run.
    late: BinaryHeap<Reverse<u128>>,
}

/// How many places back from the run's end a new entry may be inserted (moving those after
/// it); one going further back goes to `late`.
const NEAR: usize = 8;

/// Consumed entries the run keeps before moving its live part to the front.
const RUN_SLACK: usize = 1024;

impl Deferred {
    #[inline]
    pub(super) fn push(&mut self, done: SimTime, c: u32, slot: u32) {
        let k = ((done.as_nanos() as u128) << 64) | ((c as u128) << 32) | slot as u128;
        if self.head >= RUN_SLACK {
            self.run.drain(..self.head);
            self.head = 0;
        }
        // From the end: a new completion is usually among the last.
        let end = self.run.len();
        let mut i = end;
        while i > self.head && self.run[i - 1] > k {
            if end - i == NEAR {
                self.late.push(Reverse(k));
                return;
            }
            i -= 1;
        }
        self.run.insert(i, k);
    }

    /// The earliest entry, and whether it is the run's (not the heap's).
    #[inline]
    fn first(&self) -> Option<(u128, bool)> {
        match (self.run.get(self.head), self.late.peek()) {
            (Some(&r), Some(Reverse(l))) if *l < r => Some((*l, false)),
            (Some(&r), _) => Some((r, true)),
            (None, Some(Reverse(l))) => Some((*l, false)),
            (None, None) => None,
        }
    }

    /// The collector and agent's slot of the earliest completion.
    #[inline]
    fn next(&self) -> Option<(u32, u32)> {
        self.first().map(|(k, _)| ((k >> 32) as u32, k as u32))
    }

    /// Whether the earliest completion is due (`before` it, or at it when `inclusive`).
    #[inline]
    fn any_due(&self, before: SimTime, inclusive: bool) -> bool {
        self.first().is_some_and(|(k, _)| due(k, before, inclusive))
    }

    /// The earliest completion, if it is due (`before` it, or at it when `inclusive`).
    #[inline]
    fn pop_due(&mut self, before: SimTime, inclusive: bool) -> Option<(SimTime, u32)> {
        let (k, in_run) = self.first()?;
        if !due(k, before, inclusive) {
            return None;
        }
        if in_run {
            self.head += 1;
            if self.head == self.run.len() {
                self.run.clear();
                self.head = 0;
            }
        } else {
            self.late.pop();
        }
        Some((SimTime((k >> 64) as u64), (k >> 32) as u32))
    }

    /// The agents moved to `new_slot[slot]` (see `slots.rs`): the entries carry the new
    /// slots. Their order is untouched (the slot never decides it).
    pub(super) fn lay_out(&mut self, new_slot: &[u32]) {
        let rename = |k: &mut u128| {
            let slot = *k as u32;
            *k = (*k & !u128::from(u32::MAX)) | u128::from(new_slot[slot as usize]);
        };
        self.run[self.head..].iter_mut().for_each(rename);
        let late = std::mem::take(&mut self.late).into_vec();
        self.late = late
            .into_iter()
            .map(|Reverse(mut k)| {
                rename(&mut k);
                Reverse(k)
            })
            .collect();
    }
}

/// Whether the entry `k` is due (`before` its time, or at it when `inclusive`).
#[inline]
fn due(k: u128, before: SimTime, inclusive: bool) -> bool {
    let at = SimTime((k >> 64) as u64);
    at < before || (inclusive && at == before)
}

impl Collectors {
    /// Applies the deferred completions before `t` (and at `t` when `inclusive`), in
    /// aggregation round `round`; each starts its collector's next message.
    ///
    /// Inlined for its check alone: about half the arrivals find nothing due, and the
    /// settlement's call cost more than the check. (The next completion's collector was asked
    /// for when the last settlement found nothing more due, or was touched since.)
    #[inline]
    pub(super) fn settle_deferred(
        &mut self,
        t: SimTime,
        inclusive: bool,
        round: u32,
        s: &mut Series,
    ) {
        if self
            .service
            .deferred
            .as_ref()
            .is_some_and(|d| d.any_due(t, inclusive))
        {
            self.settle_due(t, inclusive, round, s);
        }
    }

    /// [`Self::settle_deferred`] once a completion is due.
    #[inline(never)]
    fn settle_due(&mut self, t: SimTime, inclusive: bool, round: u32, s: &mut Series) {
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
                if let Some((n, slot)) = d.next()
                    && let Some(col) = self.pool.all.get(n as usize)
                {
                    prefetch(col);
                    counted.marks.prefetch(slot);
                }
                return;
            };
            service.busy -= 1;
            let col = &mut self.pool.all[c as usize];
            if let Some(msg) = col.in_service.take() {
                col.finish(msg.sent_at, msg.slot, &mut counted);
            }
            if let Some(next) = col.queue.pop_front() {
                let done = service.begin(at, c, col, next, s);
                if let Some(d) = service.deferred.as_mut() {
                    d.push(done, c, next.slot);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The run and the heap of late entries give every entry back in key order: a binary heap
    /// of the same keys is the reference, through phases of few busy collectors, many and few
    /// again, with ties on the time, and with entries both in order (services of one length)
    /// and out of order (drawn lengths), so both places are used.
    #[test]
    fn completions_leave_in_key_order_from_the_run_and_the_heap() {
        let mut rng = ChaCha8Rng::seed_from_u64(15);
        let mut d = Deferred::default();
        let mut reference = BinaryHeap::new();
        let mut busy = vec![false; 2_000];
        let mut now = 0u64;
        let (mut used_late, mut late_emptied, mut long_run) = (false, false, false);
        // (busy collectors, whether every service has the same length)
        for (phase, fixed) in [
            (40usize, false),
            (1_500, true),
            (1_500, false),
            (30, false),
            (600, true),
            (10, false),
        ] {
            for _ in 0..20_000 {
                let live = reference.len();
                // Start services until about `phase` are busy; service times on a 100 ns
                // grid (long enough for `phase` to be reached), so completions often tie;
                // one length for all (in order, but for ties) or drawn (out of order).
                if live < phase && rng.random_bool(0.7) {
                    let c = rng.random_range(0..busy.len() as u32);
                    if !busy[c as usize] {
                        busy[c as usize] = true;
                        let len = if fixed {
                            phase as u64
                        } else {
                            rng.random_range(0..=phase as u64)
                        };
                        let done = now + 100 * len;
                        let agent = rng.random::<u32>();
                        d.push(SimTime(done), c, agent);
                        reference.push(Reverse(
                            ((done as u128) << 64) | ((c as u128) << 32) | agent as u128,
                        ));
                    }
                    continue;
                }
                // Apply what is due before (or at) a time a little ahead.
                now += 100 * rng.random_range(0..3u64);
                let inclusive = rng.random_bool(0.5);
                loop {
                    assert_eq!(
                        d.next(),
                        reference
                            .peek()
                            .map(|Reverse(k)| ((*k >> 32) as u32, *k as u32))
                    );
                    let want = match reference.peek() {
                        Some(Reverse(k)) => {
                            let at = (*k >> 64) as u64;
                            (at < now || (inclusive && at == now))
                                .then_some((SimTime(at), (*k >> 32) as u32))
                        }
                        None => None,
                    };
                    let got = d.pop_due(SimTime(now), inclusive);
                    assert_eq!(got, want);
                    let Some((_, c)) = got else { break };
                    reference.pop();
                    busy[c as usize] = false;
                }
                used_late |= !d.late.is_empty();
                late_emptied |= used_late && d.late.is_empty();
                long_run |= d.run.len() - d.head > 500;
            }
        }
        assert!(
            used_late && late_emptied && long_run,
            "late entries came and went, and hundreds waited in the run"
        );
    }
}
