//! The future event list: a priority queue of pending events in a deterministic total order.
//!
//! Every event has an [`EventKey`] `(time, entity, seq)`: simulated time first, then the id of the
//! entity that owns the event, then that entity's own sequence number. Two events never compare
//! equal, and the order of simultaneous events does not depend on the order in which unrelated
//! entities happened to schedule them (so adding a model does not reorder another model's events).
//!
//! Entries carry their payload inline (no side table to look up when an event fires) plus, for
//! cancellable events, a slot number and generation checked against the scheduler's table.
//!
//! Interchangeable implementations are kept so they can be measured against each other
//! (`cloudtwin bench periodic|churn`, figures in BENCHMARKS.md); keys are unique, so all pop
//! the same order (`tests/determinism.rs` checks whole runs byte for byte):
//! - [`FelKind::Calendar`] (default): a calendar queue (R. Brown, CACM 31(10), 1988) with
//!   power-of-two windows: a ring of buckets, one per window, each sorted only when the clock
//!   reaches it; an ascending run and a small heap for events scheduled into the current
//!   window, and a heap for events beyond the ring. Window width and ring size adapt to the event density. Constant time per
//!   event for the periodic timers that dominate monitoring: 3x faster than the heaps at
//!   10,000 timers, 13-28x at a million (BENCHMARKS.md).
//! - [`FelKind::QuadHeap`]: a 4-ary min-heap with a bottom-up pop.
//! - [`FelKind::BinaryHeap`]: the standard library's binary heap.
//! - [`FelKind::PriorityQueue`]: the `priority-queue` crate's keyed queue (slowest: it
//!   maintains an index map on every push and pop).

mod calendar;
mod keyed;
mod late;
mod quad_heap;
mod radix;

use calendar::Calendar;
use keyed::KeyedQueue;
use quad_heap::QuadHeap;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Identifies the entity an event belongs to; used as the first tie-breaker after time.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId(pub u32);

/// Total order of events: time, then owning entity, then the entity's sequence number.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub time: super::SimTime,
    pub entity: EntityId,
    pub seq: u64,
}

/// Which data structure holds the future event list.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum FelKind {
    BinaryHeap,
    PriorityQueue,
    /// A 4-ary min-heap in a Vec: half the depth of a binary heap, children of a node in one
    /// or two cache lines.
    QuadHeap,
    /// An adaptive calendar queue: the default.
    #[default]
    Calendar,
}

impl FelKind {
    pub const ALL: [FelKind; 4] = [
        FelKind::BinaryHeap,
        FelKind::PriorityQueue,
        FelKind::QuadHeap,
        FelKind::Calendar,
    ];
    pub fn name(self) -> &'static str {
        match self {
            FelKind::BinaryHeap => "binary-heap",
            FelKind::PriorityQueue => "priority-queue",
            FelKind::QuadHeap => "quad-heap",
            FelKind::Calendar => "calendar",
        }
    }
}

/// Slot value of events that cannot be cancelled (they need no entry in the slot table).
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// An entry of the list: the key packed into two words (time; entity and the low 32 bits of
/// the sequence number) so comparisons are two integer compares, the cancellation slot and
/// its generation, and the payload. Ordered by key only (keys are unique).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Entry<E> {
    pub time: u64,
    pub tie: u64,
    pub slot: u32,
    pub generation: u32,
    pub payload: E,
}

/// Bytes one pending event takes in the event list (for tests that guard event sizes).
pub fn entry_size<E>() -> usize {
    std::mem::size_of::<Entry<E>>()
}

impl<E> Entry<E> {
    #[inline(always)]
    pub fn new(key: EventKey, slot: u32, generation: u32, payload: E) -> Self {
        Entry {
            time: key.time.as_nanos(),
            tie: ((key.entity.0 as u64) << 32) | (key.seq & 0xffff_ffff),
            slot,
            generation,
            payload,
        }
    }
    /// The entry again from its fields, as an out-of-line call receives it: an entry passed
    /// whole to a call is kept in memory by the caller, on its hot path too (see
    /// [`Fel::push`]).
    #[inline(always)]
    fn from_parts(time: u64, tie: u64, slot: u32, generation: u32, payload: E) -> Self {
        Entry {
            time,
            tie,
            slot,
            generation,
            payload,
        }
    }
    #[inline]
    pub fn entity(&self) -> EntityId {
        EntityId((self.tie >> 32) as u32)
    }
    #[inline]
    fn key(&self) -> (u64, u64) {
        (self.time, self.tie)
    }
    #[inline]
    fn lt(&self, other: &Self) -> bool {
        self.key() < other.key()
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

pub(crate) enum Fel<E> {
    Heap(BinaryHeap<Reverse<Entry<E>>>),
    Quad(QuadHeap<E>),
    Pq(KeyedQueue<E>),
    Calendar(Box<Calendar<E>>),
}

impl<E: Copy> Fel<E> {
    pub fn new(kind: FelKind) -> Self {
        match kind {
            FelKind::BinaryHeap => Fel::Heap(BinaryHeap::new()),
            FelKind::PriorityQueue => Fel::Pq(KeyedQueue::new()),
            FelKind::QuadHeap => Fel::Quad(QuadHeap::default()),
            FelKind::Calendar => Fel::Calendar(Box::new(Calendar::new())),
        }
    }

    /// Inlined, so that the entry is written straight into its bucket: passed to a call, it
    /// went through a temporary on the stack, built field by field and read back whole, which
    /// defeated the CPU's store-to-load forwarding (see [`Fel::pop_with`]).
    #[inline(always)]
    pub fn push(&mut self, e: Entry<E>) {
        match self {
            Fel::Calendar(c) => c.push(e),
            // In parts, not whole: see `Entry::from_parts`.
            _ => self.push_other(e.time, e.tie, e.slot, e.generation, e.payload),
        }
    }

    #[inline(never)]
    fn push_other(&mut self, time: u64, tie: u64, slot: u32, generation: u32, payload: E) {
        let e = Entry::from_parts(time, tie, slot, generation, payload);
        match self {
            Fel::Heap(h) => h.push(Reverse(e)),
            Fel::Quad(q) => q.push(e),
            Fel::Pq(q) => q.push(e),
            Fel::Calendar(c) => c.push(e),
        }
    }

    /// The smallest entry (possibly a stale one: cancellation is lazy).
    #[inline]
    pub fn peek(&mut self) -> Option<&Entry<E>> {
        match self {
            Fel::Heap(h) => h.peek().map(|Reverse(e)| e),
            Fel::Quad(q) => q.peek(),
            Fel::Pq(q) => q.peek(),
            Fel::Calendar(c) => c.peek(),
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Entry<E>> {
        match self {
            Fel::Heap(h) => h.pop().map(|Reverse(e)| e),
            Fel::Quad(q) => q.pop(),
            Fel::Pq(q) => q.pop(),
            Fel::Calendar(c) => c.pop(),
        }
    }

    /// Reads the smallest entry where it lies with `read`, and removes it if `read` returns
    /// `Some`: one look at the top where `peek` then `pop` take two (in the calendar queue,
    /// each finds the current window and compares its head with the late heap's). `None` when
    /// empty or refused.
    ///
    /// Reading in place rather than returning the entry matters: the popped entry went
    /// through a temporary on the stack, and reading its payload back with other widths than
    /// it was copied with defeated the CPU's store-to-load forwarding, so every event waited
    /// for all earlier stores to reach the cache (a quarter of the engine's time at ten
    /// million agents; BENCHMARKS.md).
    #[inline]
    pub fn pop_with<R>(&mut self, read: impl FnOnce(&Entry<E>) -> Option<R>) -> Option<R> {
        match self {
            Fel::Calendar(c) => c.pop_with(read),
            _ => {
                let r = read(self.peek()?)?;
                self.pop();
                Some(r)
            }
        }
    }

    /// An entry that will pop soon, about `k` places ahead (cheap to find only in the calendar
    /// queue, whose current window is a sorted array; `None` elsewhere). For prefetching.
    #[inline]
    pub fn ahead(&self, k: usize) -> Option<&Entry<E>> {
        match self {
            Fel::Calendar(c) => c.sorted.len().checked_sub(k + 1).map(|i| &c.sorted[i]),
            _ => None,
        }
    }

    /// Entries physically held, stale ones included.
    pub fn len(&self) -> usize {
        match self {
            Fel::Heap(h) => h.len(),
            Fel::Quad(q) => q.len(),
            Fel::Pq(q) => q.len(),
            Fel::Calendar(c) => c.len,
        }
    }

    /// Calls `f` with every entry's time and payload, to rewrite the payload in place (a model
    /// that moves its state renames what its pending events point at). Keys do not change, so
    /// neither does the order. Stale entries are visited too.
    pub fn payloads_mut(&mut self, mut f: impl FnMut(u64, &mut E)) {
        match self {
            Fel::Heap(h) => {
                let mut v = std::mem::take(h).into_vec();
                for Reverse(e) in &mut v {
                    f(e.time, &mut e.payload);
                }
                *h = BinaryHeap::from(v);
            }
            Fel::Quad(q) => q.payloads_mut(&mut f),
            Fel::Pq(q) => q.payloads_mut(&mut f),
            Fel::Calendar(c) => c.payloads_mut(&mut f),
        }
    }

    /// Drops every entry that is no longer live.
    pub fn retain(&mut self, mut live: impl FnMut(&Entry<E>) -> bool) {
        match self {
            Fel::Heap(h) => h.retain(|Reverse(e)| live(e)),
            Fel::Quad(q) => q.retain(live),
            Fel::Pq(q) => q.retain(live),
            Fel::Calendar(c) => c.retain(live),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// A non-cancellable entry whose payload is its tie (shared with the structures' tests).
    pub(super) fn entry(time: u64, tie: u64) -> Entry<u64> {
        Entry {
            time,
            tie,
            slot: NO_SLOT,
            generation: 0,
            payload: tie,
        }
    }

    /// Random monotone workloads (pushes never before the last pop, as in a simulation):
    /// every structure pops exactly the order of a sorted reference, through many shape
    /// changes of the calendar (dense bursts, sparse gaps, far-future events).
    #[test]
    fn all_structures_pop_in_key_order() {
        for seed in 0..12u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut fels: Vec<Fel<u64>> = FelKind::ALL.iter().map(|k| Fel::new(*k)).collect();
            // Calendars that re-shape often, from a poor starting shape.
            for (shift, bits, every) in [(0, 8, 61), (30, 12, 500)] {
                let mut c = Calendar::with_shape(shift, bits);
                c.adapt_every = every;
                fels.push(Fel::Calendar(Box::new(c)));
            }
            let mut reference = std::collections::BTreeSet::new();
            let mut now = 0u64;
            let mut tie = 0u64;
            for step in 0..60_000u32 {
                // Phases: dense (ns apart), periodic-like (ms..s), sparse (hours).
                let scale = match (step / 5_000) % 4 {
                    0 => 1_000,
                    1 => 5_000_000_000,
                    2 => 3_600_000_000_000,
                    _ => 50_000_000,
                };
                if rng.random::<f64>() < 0.55 || reference.is_empty() {
                    let dt = if rng.random::<f64>() < 0.1 {
                        0
                    } else {
                        rng.random_range(0..scale)
                    };
                    tie += 1;
                    let e = entry(now + dt, rng.random_range(0..4u64) << 40 | tie);
                    reference.insert((e.time, e.tie));
                    for f in fels.iter_mut() {
                        f.push(e);
                    }
                } else {
                    let want = reference.pop_first().expect("non-empty");
                    now = want.0;
                    for (k, f) in fels.iter_mut().enumerate() {
                        assert_eq!(f.peek().map(|e| e.key()), Some(want), "{k} peek");
                        // A refused read leaves the entry where it is.
                        let len = f.len();
                        assert_eq!(f.pop_with(|_| None::<()>), None, "{k} refused");
                        assert_eq!(f.len(), len, "{k} refused");
                        let got = if step % 2 == 0 {
                            f.pop().expect("non-empty")
                        } else {
                            f.pop_with(|e| Some(*e)).expect("non-empty")
                        };
                        assert_eq!(got.key(), want, "structure {k} seed {seed}");
                        assert_eq!(got.payload, want.1);
                        assert_eq!(f.len(), len - 1, "{k} popped");
                    }
                }
            }
            for f in fels.iter_mut() {
                assert_eq!(f.len(), reference.len());
            }
        }
    }

    /// Rewriting every payload in place changes neither the order nor the count, in every
    /// structure, wherever the entries wait (the calendar's ring, window, late run and far heap).
    #[test]
    fn payloads_rewritten_in_place_keep_their_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for kind in FelKind::ALL {
            let mut f: Fel<u64> = Fel::new(kind);
            let mut keys = Vec::new();
            for tie in 0..5_000u64 {
                // Near (the current window), within the ring, and far beyond it.
                let time = match tie % 3 {
                    0 => rng.random_range(0..1_000),
                    1 => rng.random_range(0..5_000_000_000),
                    _ => rng.random_range(0..u64::MAX / 2),
                };
                f.push(entry(time, tie));
                keys.push((time, tie));
            }
            // Pop a few so the calendar has a window loaded and entries behind its head.
            keys.sort_unstable();
            for want in keys.drain(..100) {
                assert_eq!(f.pop().map(|e| e.key()), Some(want), "{kind:?}");
            }
            let mut seen = 0;
            f.payloads_mut(|time, payload| {
                seen += 1;
                assert!(time >= keys[0].0, "{kind:?}: a popped entry visited");
                *payload = !*payload;
            });
            assert_eq!(seen, keys.len(), "{kind:?}: every pending entry once");
            for want in keys.iter() {
                let e = f.pop().expect("pending");
                assert_eq!(e.key(), *want, "{kind:?}: the order stays");
                assert_eq!(e.payload, !want.1, "{kind:?}: rewritten");
            }
            assert_eq!(f.pop().map(|e| e.key()), None);
        }
    }
}
