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

mod parts;

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
mod tests;
