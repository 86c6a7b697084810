//! Parts of the event list: event lists of their own that a model runs behind the main one,
//! a stretch of one part at a time (see [`Scheduler::add_parts`]). Used by the monitoring
//! model to run each CB-Dragonfly site's reports apart (`monitoring::Monitoring::new_with`).

use super::{PREFETCH_AHEAD, Scheduler};
use crate::engine::entities::Seq;
use crate::engine::queue::{EntityId, Entry, Fel, NO_SLOT};
use crate::engine::time::SimTime;

impl<E: Copy> Scheduler<E> {
    /// Adds `n` parts to the event list and returns the first one's index: event lists of
    /// their own, for events a model posts with [`Self::post_at_seq_in`] and runs itself,
    /// part by part, with [`Self::run_part`] before any event that could see their effects,
    /// and with [`Self::run_part_through`] when the run reaches a horizon (see
    /// [`super::Model::settle_parts`]). The events of one part run in key order, each at its
    /// own time. Events that touch state nothing else touches in between may run behind the
    /// main list's, so a model that keeps each part's state apart gets a stretch of one
    /// part's events at a time (its state stays in the cache), with the results of the total
    /// order. A part's events cannot be cancelled, and must not schedule events on the main
    /// list (those would land behind its clock).
    pub fn add_parts(&mut self, n: u32) -> u32 {
        let first = self.parts.len() as u32;
        self.parts.extend((0..n).map(|_| Fel::new(self.kind)));
        first
    }

    /// [`Self::post_at_seq`] into part `part` (see [`Self::add_parts`]).
    #[inline(always)]
    pub fn post_at_seq_in(
        &mut self,
        part: u32,
        at: SimTime,
        entity: EntityId,
        seq: &mut Seq,
        event: E,
    ) {
        let key = self.key_own(at, entity, seq);
        self.parts[part as usize].push(Entry::new(key, NO_SLOT, 0, event));
        self.in_parts += 1;
        self.live += 1;
        self.stats.scheduled += 1;
        if self.live > self.stats.max_pending {
            self.stats.max_pending = self.live;
        }
    }

    /// Runs part `part`'s events that come before the event being handled, each at its own
    /// time (the clock is the handled event's again after): `f` handles one, and gets the
    /// event a few places ahead in the part to prefetch for (see [`super::Model::prefetch`]).
    #[inline]
    pub fn run_part(
        &mut self,
        part: u32,
        f: impl FnMut(&mut Self, EntityId, E, Option<(EntityId, E)>),
    ) {
        self.run_part_before(part, self.current, f);
    }

    /// Runs part `part`'s events due at or before `until` (see [`Self::run_part`]).
    pub fn run_part_through(
        &mut self,
        part: u32,
        until: SimTime,
        f: impl FnMut(&mut Self, EntityId, E, Option<(EntityId, E)>),
    ) {
        self.run_part_before(part, (until.as_nanos().saturating_add(1), 0), f);
    }

    /// Runs part `part`'s events with keys before `bound`.
    #[inline]
    fn run_part_before(
        &mut self,
        part: u32,
        bound: (u64, u64),
        mut f: impl FnMut(&mut Self, EntityId, E, Option<(EntityId, E)>),
    ) {
        let (now, current) = (self.now, self.current);
        loop {
            let fel = &mut self.parts[part as usize];
            let Some((time, tie, payload)) = fel.pop_with(|top| {
                ((top.time, top.tie) < bound).then_some((top.time, top.tie, top.payload))
            }) else {
                break;
            };
            let next = fel.ahead(PREFETCH_AHEAD).map(|e| (e.entity(), e.payload));
            self.in_parts -= 1;
            self.live -= 1;
            self.now = SimTime(time);
            self.current = (time, tie);
            self.stats.processed += 1;
            f(self, EntityId((tie >> 32) as u32), payload, next);
        }
        (self.now, self.current) = (now, current);
    }

    /// Parts of the event list so far.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }
}
