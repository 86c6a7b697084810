//! The scheduler and the run loop.
//!
//! A [`Scheduler`] owns the clock and the future event list; a [`Model`] owns all model state and
//! handles one event at a time, scheduling and cancelling further events through the scheduler.
//! The engine knows nothing about what events mean: a model's event type is usually an enum
//! that composes the sub-models' own event enums.
//!
//! ```
//! use cloudtwin::engine::{EntityId, Model, Scheduler, SimDuration, SimTime, RunControl};
//!
//! /// Counts ticks of one periodic timer.
//! struct Ticker { ticks: u64 }
//! impl Model for Ticker {
//!     type Event = ();
//!     fn handle(&mut self, sched: &mut Scheduler<()>, entity: EntityId, _ev: ()) {
//!         self.ticks += 1;
//!         sched.schedule_in(SimDuration::from_secs(5), entity, ());
//!     }
//! }
//!
//! let mut sched = Scheduler::new();
//! sched.schedule_at(SimTime::ZERO, EntityId(0), ());
//! let mut model = Ticker { ticks: 0 };
//! let outcome = sched.run_until(&mut model, SimTime::from_secs(60), &mut RunControl::none());
//! assert_eq!(model.ticks, 13); // t = 0, 5, ..., 60 (the horizon is inclusive)
//! assert_eq!(outcome.events, 13);
//! ```

use super::entities::{EntityRange, Seq, Sequences};
use super::queue::{EntityId, Entry, EventKey, Fel, FelKind, NO_SLOT};
use super::time::{SimDuration, SimTime};

/// A handle to a scheduled event, used to cancel it. Stale handles (the event already fired
/// or was cancelled) are detected and ignored.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventHandle {
    slot: u32,
    generation: u32,
}

/// What a model sees of the engine: the clock, scheduling and cancelling.
///
/// Two ways to schedule: [`Scheduler::schedule_at`] returns a handle that can cancel the event
/// (it takes a slot in the cancellation table); [`Scheduler::post_at`] schedules an event that
/// will fire for sure, with no bookkeeping beyond the event list. Payloads travel inside the
/// event list either way, so firing an event reads no side table.
pub struct Scheduler<E> {
    now: SimTime,
    fel: Fel<E>,
    /// Event lists of their own, run behind the main one (see [`Scheduler::add_parts`]).
    parts: Vec<Fel<E>>,
    kind: FelKind,
    /// The key (time and tie) of the event being handled: a part's catch-up runs the part's
    /// events before it.
    current: (u64, u64),
    /// Events pending in the parts (counted in `live` too).
    in_parts: usize,
    /// Generation of each cancellation slot: an entry (or handle) is live while its
    /// generation matches; firing or cancelling bumps it.
    generations: Vec<u32>,
    free: Vec<u32>,
    /// Entity ids and their sequence numbers (the last tie-breaker of [`EventKey`]).
    seqs: Sequences,
    live: usize,
    stats: SchedulerStats,
}

/// Counters kept by the scheduler.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    pub scheduled: u64,
    pub cancelled: u64,
    pub processed: u64,
    pub max_pending: usize,
}

/// A model: all simulation state plus the code that reacts to events.
pub trait Model {
    type Event: Copy;
    /// Handles one event that belongs to `entity`, at `sched.now()`.
    fn handle(&mut self, sched: &mut Scheduler<Self::Event>, entity: EntityId, event: Self::Event);

    /// The run reached `until`: a model that keeps events in parts of the event list
    /// ([`Scheduler::add_parts`]) runs those due by then. The default has none.
    fn settle_parts(&mut self, _sched: &mut Scheduler<Self::Event>, _until: SimTime) {}

    /// An event that will fire soon (a few events ahead): a model with state too large for
    /// the cache can start loading what that event will touch (see [`super::hint::prefetch`]).
    /// A hint only; the default does nothing.
    #[inline]
    fn prefetch(&self, _entity: EntityId, _event: &Self::Event) {}
}

/// How many events ahead [`Model::prefetch`] looks: enough for a memory load to complete
/// while the events in between are handled.
const PREFETCH_AHEAD: usize = 4;

/// Progress report passed to the run's observer.
#[derive(Copy, Clone, Debug)]
pub struct Progress {
    pub now: SimTime,
    pub horizon: SimTime,
    pub events: u64,
    pub pending: usize,
}

/// Optional observer of a run, called every `every` events; returning false stops the run
/// (used by the CLI for Ctrl-C and the progress bar; the library itself never reads a clock).
pub struct RunControl<'a> {
    every: u64,
    observer: Option<&'a mut dyn FnMut(Progress) -> bool>,
}

impl<'a> RunControl<'a> {
    pub fn none() -> Self {
        RunControl {
            every: u64::MAX,
            observer: None,
        }
    }
    pub fn every(events: u64, observer: &'a mut dyn FnMut(Progress) -> bool) -> Self {
        RunControl {
            every: events.max(1),
            observer: Some(observer),
        }
    }
}

/// How a call to [`Scheduler::run_until`] ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// Events handled by this call.
    pub events: u64,
    /// The clock at the end: the horizon, unless stopped early.
    pub end: SimTime,
    /// True if the observer asked to stop before the horizon.
    pub interrupted: bool,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    pub fn new() -> Self {
        Self::with_fel(FelKind::default())
    }

    pub fn with_fel(kind: FelKind) -> Self {
        Scheduler {
            now: SimTime::ZERO,
            fel: Fel::new(kind),
            parts: Vec::new(),
            kind,
            current: (0, 0),
            in_parts: 0,
            generations: Vec::new(),
            free: Vec::new(),
            seqs: Sequences::default(),
            live: 0,
            stats: SchedulerStats::default(),
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Reserves `n` consecutive entity ids (models take ranges so ids never collide).
    pub fn alloc_entities(&mut self, n: u32) -> EntityRange {
        self.seqs.alloc(n, false)
    }

    /// Reserves `n` consecutive entity ids whose sequence counters their model keeps (a [`Seq`]
    /// each, in state its events touch anyway): their events are scheduled with
    /// [`Self::post_at_seq`] and [`Self::schedule_at_seq`], and take no room in the scheduler's
    /// table.
    pub fn alloc_entities_own_seq(&mut self, n: u32) -> EntityRange {
        self.seqs.alloc(n, true)
    }

    /// Events scheduled and not yet fired or cancelled.
    pub fn pending(&self) -> usize {
        self.live
    }

    pub fn stats(&self) -> SchedulerStats {
        self.stats
    }

    /// Scheduling in the past is a model bug: the run stops with the two times.
    #[inline(always)]
    fn check_not_past(&self, at: SimTime) {
        if at < self.now {
            scheduled_in_the_past(at, self.now);
        }
    }

    #[inline]
    fn key(&mut self, at: SimTime, entity: EntityId) -> EventKey {
        self.check_not_past(at);
        EventKey {
            time: at,
            entity,
            seq: self.seqs.take(entity),
        }
    }

    /// The key of an event of an entity whose model keeps its sequence counter `seq`.
    #[inline(always)]
    fn key_own(&mut self, at: SimTime, entity: EntityId, seq: &mut Seq) -> EventKey {
        self.check_not_past(at);
        debug_assert!(
            self.seqs.is_own(entity),
            "{entity:?} is not from alloc_entities_own_seq"
        );
        EventKey {
            time: at,
            entity,
            seq: seq.take(),
        }
    }

    /// Always inlined, so that `post_at_seq` (the report's path) writes the entry straight
    /// into the event list: an entry handed to a call went through memory and was read back
    /// with other widths, which defeats the CPU's store-to-load forwarding (see `Fel::push`).
    #[inline(always)]
    fn push(&mut self, entry: Entry<E>) {
        self.fel.push(entry);
        self.live += 1;
        self.stats.scheduled += 1;
        if self.live > self.stats.max_pending {
            self.stats.max_pending = self.live;
        }
    }

    /// Schedules `event` for `entity` at absolute time `at` and returns a handle that can cancel
    /// it. Scheduling in the past is a model bug.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, entity: EntityId, event: E) -> EventHandle {
        let key = self.key(at, entity);
        self.push_cancellable(key, event)
    }

    /// [`Self::schedule_at`] for an entity whose model keeps its sequence counter `seq`.
    #[inline]
    pub fn schedule_at_seq(
        &mut self,
        at: SimTime,
        entity: EntityId,
        seq: &mut Seq,
        event: E,
    ) -> EventHandle {
        let key = self.key_own(at, entity, seq);
        self.push_cancellable(key, event)
    }

    /// [`Self::schedule_in`] for an entity whose model keeps its sequence counter `seq`.
    #[inline]
    pub fn schedule_in_seq(
        &mut self,
        delay: SimDuration,
        entity: EntityId,
        seq: &mut Seq,
        event: E,
    ) -> EventHandle {
        self.schedule_at_seq(self.now + delay, entity, seq, event)
    }

    /// Pushes an event that takes a cancellation slot, and returns its handle.
    #[inline]
    fn push_cancellable(&mut self, key: EventKey, event: E) -> EventHandle {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = u32::try_from(self.generations.len())
                    .ok()
                    .filter(|s| *s != NO_SLOT)
                    .expect("fewer than 2^32 cancellable events pending");
                self.generations.push(0);
                slot
            }
        };
        let generation = self.generations[slot as usize];
        self.push(Entry::new(key, slot, generation, event));
        EventHandle { slot, generation }
    }

    /// Schedules `event` for `entity` after `delay`, cancellable.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, entity: EntityId, event: E) -> EventHandle {
        self.schedule_at(self.now + delay, entity, event)
    }

    /// Schedules an event that cannot be cancelled (cheaper: no slot, no handle).
    #[inline]
    pub fn post_at(&mut self, at: SimTime, entity: EntityId, event: E) {
        let key = self.key(at, entity);
        self.push(Entry::new(key, NO_SLOT, 0, event));
    }

    /// [`Self::post_at`] for an entity whose model keeps its sequence counter `seq`. Inlined
    /// whole (it is the report's path): the event is then written straight into the event
    /// list (see `Fel::push`).
    #[inline(always)]
    pub fn post_at_seq(&mut self, at: SimTime, entity: EntityId, seq: &mut Seq, event: E) {
        let key = self.key_own(at, entity, seq);
        self.push(Entry::new(key, NO_SLOT, 0, event));
    }

    /// Adds `n` parts to the event list and returns the first one's index: event lists of
    /// their own, for events a model posts with [`Self::post_at_seq_in`] and runs itself,
    /// part by part, with [`Self::run_part`] before any event that could see their effects,
    /// and with [`Self::run_part_through`] when the run reaches a horizon (see
    /// [`Model::settle_parts`]). The events of one part run in key order, each at its own
    /// time; the parts' events that touch state nothing else touches in between may run
    /// behind the main list's, so a model that keeps each part's state apart gets a stretch
    /// of one part's events at a time (its state stays in the cache), with the results of
    /// the total order.
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
    /// event a few places ahead in the part to prefetch for (see [`Model::prefetch`]).
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

    /// Schedules an event that cannot be cancelled after `delay`.
    #[inline]
    pub fn post_in(&mut self, delay: SimDuration, entity: EntityId, event: E) {
        self.post_at(self.now + delay, entity, event)
    }

    /// True if the event is still waiting to fire.
    pub fn is_pending(&self, h: EventHandle) -> bool {
        self.generations.get(h.slot as usize) == Some(&h.generation)
    }

    /// Cancels a pending event; false if it already fired or was cancelled.
    pub fn cancel(&mut self, h: EventHandle) -> bool {
        if !self.is_pending(h) {
            return false;
        }
        self.release(h.slot);
        self.live -= 1;
        self.stats.cancelled += 1;
        self.maybe_compact();
        true
    }

    #[inline]
    fn release(&mut self, slot: u32) {
        let g = &mut self.generations[slot as usize];
        *g = g.wrapping_add(1);
        self.free.push(slot);
    }

    /// An entry is live unless it holds a slot whose generation has moved on.
    #[inline]
    fn is_live(generations: &[u32], e: &Entry<E>) -> bool {
        e.slot == NO_SLOT || generations[e.slot as usize] == e.generation
    }

    /// Calls `f` with the time and payload of every pending event, to rewrite the payload in
    /// place: a model that moves its state (for the order its events touch it in) renames
    /// what its pending events point at. Keys stay, so the order of events does not change.
    /// Cancelled events that still wait in the list are visited too.
    pub fn rewrite_pending(&mut self, mut f: impl FnMut(SimTime, &mut E)) {
        self.fel.payloads_mut(|t, e| f(SimTime(t), e));
        for part in &mut self.parts {
            part.payloads_mut(|t, e| f(SimTime(t), e));
        }
    }

    /// Lazy cancellation leaves stale entries behind; drop them when they outnumber live ones.
    fn maybe_compact(&mut self) {
        let stale = self.fel.len() - (self.live - self.in_parts);
        if stale > 4096 && stale > self.live {
            let generations = &self.generations;
            self.fel.retain(|e| Self::is_live(generations, e));
        }
    }

    /// The time of the next live event, if any (drops cancelled entries on the way). A driver
    /// pacing the run against a clock sleeps until then.
    pub fn next_time(&mut self) -> Option<SimTime> {
        let main = loop {
            let Some(top) = self.fel.peek() else {
                break None;
            };
            if Self::is_live(&self.generations, top) {
                break Some(top.time);
            }
            self.fel.pop();
        };
        // (Parts hold no cancellable events.)
        let parts = self
            .parts
            .iter_mut()
            .filter_map(|p| p.peek().map(|e| e.time));
        main.into_iter().chain(parts).min().map(SimTime)
    }

    /// Removes and returns the next live event if it is due at or before `horizon`.
    #[inline]
    pub fn pop_due(&mut self, horizon: SimTime) -> Option<(EntityId, E)> {
        loop {
            // A stale entry goes whatever its time; a live one if it is due. Its fields are
            // read where it lies (see `Fel::pop_with`).
            let generations = &self.generations;
            let (live, time, tie, slot, payload) = self.fel.pop_with(|top| {
                let live = Self::is_live(generations, top);
                (!live || top.time <= horizon.as_nanos()).then_some((
                    live,
                    top.time,
                    top.tie,
                    top.slot,
                    top.payload,
                ))
            })?;
            if !live {
                continue;
            }
            if slot != NO_SLOT {
                self.release(slot);
            }
            self.live -= 1;
            self.now = SimTime(time);
            self.current = (time, tie);
            self.stats.processed += 1;
            return Some((EntityId((tie >> 32) as u32), payload));
        }
    }

    /// Runs `model` until no event is due at or before `horizon`, then sets the clock to the horizon.
    pub fn run_until<M: Model<Event = E>>(
        &mut self,
        model: &mut M,
        horizon: SimTime,
        control: &mut RunControl<'_>,
    ) -> RunOutcome {
        // Counted by the scheduler: events run from parts inside a handler count too.
        let start = self.stats.processed;
        let mut countdown = control.every;
        while let Some((entity, ev)) = self.pop_due(horizon) {
            if let Some(next) = self.fel.ahead(PREFETCH_AHEAD) {
                // Its liveness check, and the sequence number its entity will likely use to
                // schedule again (periodic timers).
                if next.slot != NO_SLOT
                    && let Some(g) = self.generations.get(next.slot as usize)
                {
                    super::hint::prefetch(g);
                }
                self.seqs.prefetch(next.entity());
                model.prefetch(next.entity(), &next.payload);
            }
            model.handle(self, entity, ev);
            countdown -= 1;
            if countdown == 0 {
                countdown = control.every;
                if let Some(obs) = control.observer.as_mut() {
                    let p = Progress {
                        now: self.now,
                        horizon,
                        events: self.stats.processed,
                        pending: self.live,
                    };
                    if !obs(p) {
                        return RunOutcome {
                            events: self.stats.processed - start,
                            end: self.now,
                            interrupted: true,
                        };
                    }
                }
            }
        }
        if !self.parts.is_empty() {
            model.settle_parts(self, horizon);
        }
        if horizon > self.now {
            self.now = horizon;
        }
        RunOutcome {
            events: self.stats.processed - start,
            end: self.now,
            interrupted: false,
        }
    }
}

/// The panic of [`Scheduler::check_not_past`], out of line.
#[cold]
#[inline(never)]
fn scheduled_in_the_past(at: SimTime, now: SimTime) -> ! {
    panic!("event scheduled in the past ({at} < {now})")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the order in which events fire.
    struct Recorder {
        log: Vec<(u64, u32, u32)>,
    }
    impl Model for Recorder {
        type Event = u32;
        fn handle(&mut self, s: &mut Scheduler<u32>, e: EntityId, ev: u32) {
            self.log.push((s.now().as_nanos(), e.0, ev));
        }
    }

    fn run(kind: FelKind, plan: &[(u64, u32, u32)]) -> Vec<(u64, u32, u32)> {
        let mut s = Scheduler::with_fel(kind);
        for &(t, e, v) in plan {
            s.schedule_at(SimTime(t), EntityId(e), v);
        }
        let mut m = Recorder { log: vec![] };
        s.run_until(&mut m, SimTime::MAX, &mut RunControl::none());
        m.log
    }

    #[test]
    fn order_is_time_then_entity_then_sequence() {
        let plan = [
            (10, 2, 0),
            (5, 9, 1),
            (10, 1, 2),
            (10, 2, 3),
            (5, 3, 4),
            (10, 1, 5),
        ];
        let expect = vec![
            (5, 3, 4),
            (5, 9, 1),
            (10, 1, 2),
            (10, 1, 5),
            (10, 2, 0),
            (10, 2, 3),
        ];
        for kind in FelKind::ALL {
            assert_eq!(run(kind, &plan), expect, "{kind:?}");
        }
    }

    #[test]
    fn simultaneous_order_does_not_depend_on_insertion_order_across_entities() {
        let a = [(7, 1, 10), (7, 2, 20), (7, 0, 30)];
        let b = [(7, 2, 20), (7, 0, 30), (7, 1, 10)];
        for kind in FelKind::ALL {
            assert_eq!(run(kind, &a), run(kind, &b));
        }
    }

    #[test]
    fn cancel_and_post() {
        for kind in FelKind::ALL {
            let mut s = Scheduler::with_fel(kind);
            let a = s.schedule_at(SimTime(10), EntityId(0), 1);
            let b = s.schedule_at(SimTime(20), EntityId(0), 2);
            s.post_at(SimTime(5), EntityId(1), 3);
            assert_eq!(s.pending(), 3);
            assert!(s.cancel(b));
            assert!(!s.cancel(b), "double cancel is a no-op");
            assert!(!s.is_pending(b));
            let mut m = Recorder { log: vec![] };
            s.run_until(&mut m, SimTime(100), &mut RunControl::none());
            assert_eq!(m.log, vec![(5, 1, 3), (10, 0, 1)]);
            assert!(!s.is_pending(a));
            assert!(!s.cancel(a), "cancel after firing is a no-op");
            assert_eq!(s.pending(), 0);
            assert_eq!(s.now(), SimTime(100));
        }
    }

    #[test]
    fn stale_handle_does_not_cancel_reused_slot() {
        let mut s: Scheduler<u32> = Scheduler::new();
        let a = s.schedule_at(SimTime(1), EntityId(0), 1);
        s.cancel(a);
        let b = s.schedule_at(SimTime(2), EntityId(0), 2); // reuses a's slot
        assert!(!s.cancel(a));
        assert!(s.is_pending(b));
    }

    #[test]
    fn horizon_is_inclusive_and_later_events_wait() {
        let mut s = Scheduler::new();
        s.schedule_at(SimTime(10), EntityId(0), 1u32);
        s.schedule_at(SimTime(11), EntityId(0), 2);
        let mut m = Recorder { log: vec![] };
        let out = s.run_until(&mut m, SimTime(10), &mut RunControl::none());
        assert_eq!(out.events, 1);
        assert_eq!(s.pending(), 1);
        s.run_until(&mut m, SimTime(20), &mut RunControl::none());
        assert_eq!(m.log.len(), 2);
    }

    #[test]
    fn mass_cancellation_compacts_the_heap() {
        let mut s: Scheduler<u32> = Scheduler::new();
        let hs: Vec<_> = (0..20_000)
            .map(|i| s.schedule_at(SimTime(1000 + i), EntityId(i as u32), 0))
            .collect();
        for h in &hs[..19_000] {
            s.cancel(*h);
        }
        assert_eq!(s.pending(), 1000);
        assert!(s.fel.len() < 10_000, "stale entries should be compacted");
        let mut m = Recorder { log: vec![] };
        s.run_until(&mut m, SimTime::MAX, &mut RunControl::none());
        assert_eq!(m.log.len(), 1000);
        assert_eq!(m.log[0].1, 19_000);
    }

    /// Every key an entity's model-kept counter gives is the key the scheduler's table would
    /// have given: the same events scheduled through both, entity ranges of either kind
    /// interleaved (so the table's index skips the model-kept ranges below it), same-instant
    /// repeats (so the sequence numbers decide), cancellable and not. (The table itself:
    /// `entities.rs`.)
    #[test]
    fn model_kept_sequences_give_the_keys_of_the_table() {
        // Ranges in allocation order: table, kept, table, kept, table.
        let sizes = [3u32, 5, 2, 4, 3];
        let kept = |r: usize| r % 2 == 1;
        let mut plain = Scheduler::<u32>::new();
        let mut mixed = Scheduler::<u32>::new();
        let mut ranges = Vec::new();
        for (r, &n) in sizes.iter().enumerate() {
            let a = plain.alloc_entities(n);
            let b = if kept(r) {
                mixed.alloc_entities_own_seq(n)
            } else {
                mixed.alloc_entities(n)
            };
            assert_eq!(a, b, "the same ids either way");
            ranges.push(b);
        }
        let mut seqs: Vec<Vec<Seq>> = sizes
            .iter()
            .map(|&n| vec![Seq::default(); n as usize])
            .collect();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for ev in 0..600u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let r = (x % sizes.len() as u64) as usize;
            let i = ((x >> 8) % sizes[r] as u64) as u32;
            let at = SimTime((x >> 16) % 4); // four instants: many repeats per entity
            let e = ranges[r].get(i);
            let cancellable = (x >> 20).is_multiple_of(3);
            match (kept(r), cancellable) {
                (false, false) => mixed.post_at(at, e, ev),
                (false, true) => {
                    mixed.schedule_at(at, e, ev);
                }
                (true, false) => mixed.post_at_seq(at, e, &mut seqs[r][i as usize], ev),
                (true, true) => {
                    mixed.schedule_at_seq(at, e, &mut seqs[r][i as usize], ev);
                }
            }
            if cancellable {
                plain.schedule_at(at, e, ev);
            } else {
                plain.post_at(at, e, ev);
            }
        }
        let drain = |s: &mut Scheduler<u32>| {
            std::iter::from_fn(|| s.fel.pop().map(|e| (e.time, e.tie, e.payload)))
                .collect::<Vec<_>>()
        };
        assert_eq!(drain(&mut mixed), drain(&mut plain));
    }

    #[test]
    fn observer_can_stop_the_run() {
        struct Forever;
        impl Model for Forever {
            type Event = ();
            fn handle(&mut self, s: &mut Scheduler<()>, e: EntityId, _: ()) {
                s.schedule_in(SimDuration::from_secs(1), e, ());
            }
        }
        let mut s = Scheduler::new();
        s.schedule_at(SimTime::ZERO, EntityId(0), ());
        let mut seen = 0;
        let mut obs = |p: Progress| {
            seen = p.events;
            p.events < 100
        };
        let out = s.run_until(
            &mut Forever,
            SimTime::from_secs(1_000_000),
            &mut RunControl::every(10, &mut obs),
        );
        assert!(out.interrupted);
        assert_eq!(out.events, 100);
        assert_eq!(seen, 100);
    }

    #[test]
    #[should_panic(expected = "event scheduled in the past (t=1s < t=2s)")]
    fn scheduling_in_the_past_is_a_model_bug() {
        let mut s: Scheduler<u32> = Scheduler::new();
        s.schedule_at(SimTime(2_000_000_000), EntityId(0), 0);
        s.pop_due(SimTime::MAX);
        s.post_at(SimTime(1_000_000_000), EntityId(0), 1);
    }

    #[test]
    #[should_panic(expected = "event scheduled in the past")]
    fn model_kept_sequences_check_the_past_too() {
        let mut s: Scheduler<u32> = Scheduler::new();
        let ids = s.alloc_entities_own_seq(1);
        let mut seq = Seq::default();
        s.post_at_seq(SimTime(5), ids.get(0), &mut seq, 0);
        s.pop_due(SimTime::MAX);
        s.post_at_seq(SimTime(4), ids.get(0), &mut seq, 1);
    }

    /// A ticker on a part of the event list, every second from t = 0, and two looks at it
    /// from the main list (at 5.5 s and at 7 s, where a tick is due at the same instant: the
    /// main event's entity comes first). Each look runs the part's ticks before it, each at
    /// its own time; the run's end runs the rest.
    struct Lazy {
        ticker: EntityId,
        seq: Seq,
        /// (clock, what) as things ran: 0 a tick, 1 a look.
        log: Vec<(u64, u32)>,
    }
    impl Lazy {
        fn tick(&mut self, s: &mut Scheduler<u32>) {
            self.log.push((s.now().as_nanos(), 0));
            let next = s.now() + SimDuration::from_secs(1);
            s.post_at_seq_in(0, next, self.ticker, &mut self.seq, 0);
        }
    }
    impl Model for Lazy {
        type Event = u32;
        fn handle(&mut self, s: &mut Scheduler<u32>, _: EntityId, _: u32) {
            s.run_part(0, |s, e, _, next| {
                assert_eq!(e, self.ticker);
                assert!(next.is_none_or(|(n, _)| n == self.ticker));
                self.tick(s);
            });
            self.log.push((s.now().as_nanos(), 1));
        }
        fn settle_parts(&mut self, s: &mut Scheduler<u32>, until: SimTime) {
            s.run_part_through(0, until, |s, _, _, _| self.tick(s));
        }
    }

    #[test]
    fn a_part_runs_behind_the_main_list_in_its_own_order() {
        let mut s: Scheduler<u32> = Scheduler::new();
        let looker = s.alloc_entities(1).get(0);
        let ticker = s.alloc_entities_own_seq(1).get(0);
        assert_eq!(s.add_parts(1), 0);
        let mut m = Lazy {
            ticker,
            seq: Seq::default(),
            log: Vec::new(),
        };
        s.post_at_seq_in(0, SimTime::ZERO, ticker, &mut m.seq, 0);
        s.post_at(SimTime(5_500_000_000), looker, 1);
        s.post_at(SimTime::from_secs(7), looker, 1);
        assert_eq!(s.pending(), 3);
        assert_eq!(s.next_time(), Some(SimTime::ZERO), "a part's events count");
        let out = s.run_until(&mut m, SimTime::from_secs(10), &mut RunControl::none());
        let sec = |t: u64| t * 1_000_000_000;
        let mut expected: Vec<(u64, u32)> = (0..=5).map(|t| (sec(t), 0)).collect();
        expected.push((5_500_000_000, 1));
        expected.push((sec(6), 0));
        // The look at 7 s comes before the tick at 7 s (the looker's id is lower).
        expected.push((sec(7), 1));
        expected.extend((7..=10).map(|t| (sec(t), 0)));
        assert_eq!(m.log, expected);
        assert_eq!(out.events, 13, "the part's events count as the run's");
        assert_eq!(s.stats().processed, 13);
        assert_eq!(s.pending(), 1, "the tick at 11 s");
        assert_eq!(s.now(), SimTime::from_secs(10));
    }
}
