//! The future event list: a priority queue of pending events in a deterministic total order.
//!
//! Every event has an [`EventKey`] `(time, entity, seq)`: simulated time first, then the id of the
//! entity that owns the event, then that entity's own sequence number. Two events never compare
//! equal, and the order of simultaneous events does not depend on the order in which unrelated
//! entities happened to schedule them (so adding a model does not reorder another model's events).
//!
//! Interchangeable implementations are kept so they can be measured against each other
//! (`cloudtwin bench periodic|churn`, figures in BENCHMARKS.md); keys are unique, so all pop
//! the same order:
//! - [`FelKind::QuadHeap`] (default): a 4-ary min-heap with lazy cancellation (a cancelled entry
//!   stays and is skipped when it reaches the top; compacted when stale entries outnumber live
//!   ones). As fast as the binary heap at 10,000 timers, 1.5x faster at a million.
//! - [`FelKind::BinaryHeap`]: `std::collections::BinaryHeap`, same lazy cancellation.
//! - [`FelKind::PriorityQueue`]: the `priority-queue` crate's keyed queue, which removes a
//!   cancelled entry at once (2.4-3.2x slower).

use super::time::SimTime;
use priority_queue::PriorityQueue;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Identifies the entity an event belongs to; used as the first tie-breaker after time.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId(pub u32);

/// Total order of events: time, then owning entity, then the entity's sequence number.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    pub time: SimTime,
    pub entity: EntityId,
    pub seq: u64,
}

/// Which data structure holds the future event list.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum FelKind {
    BinaryHeap,
    PriorityQueue,
    /// A 4-ary min-heap in a Vec: half the depth of a binary heap, children of a node in one
    /// or two cache lines. The default: as fast as `BinaryHeap` at 10,000 entities, 1.5x at
    /// a million.
    #[default]
    QuadHeap,
}

impl FelKind {
    pub const ALL: [FelKind; 3] = [
        FelKind::BinaryHeap,
        FelKind::PriorityQueue,
        FelKind::QuadHeap,
    ];
    pub fn name(self) -> &'static str {
        match self {
            FelKind::BinaryHeap => "binary-heap",
            FelKind::PriorityQueue => "priority-queue",
            FelKind::QuadHeap => "quad-heap",
        }
    }
}

/// A 4-ary min-heap of entries (keys are unique, so any correct heap pops the same order).
#[derive(Clone, Debug, Default)]
pub(crate) struct QuadHeap {
    v: Vec<Entry>,
}

impl QuadHeap {
    #[inline]
    fn push(&mut self, e: Entry) {
        let mut i = self.v.len();
        self.v.push(e);
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.v[parent] <= e {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = e;
    }

    /// Bottom-up pop (as std's BinaryHeap does): move the hole from the root down to a leaf
    /// along the smallest children, then sift the last entry up from there. The last entry
    /// usually belongs near the bottom, so this saves a comparison per level.
    #[inline]
    fn pop(&mut self) -> Option<Entry> {
        let last = self.v.pop()?;
        if self.v.is_empty() {
            return Some(last);
        }
        let top = self.v[0];
        let n = self.v.len();
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let mut m = first;
            if first + 3 < n {
                let a = if self.v[first + 1] < self.v[first] {
                    first + 1
                } else {
                    first
                };
                let b = if self.v[first + 3] < self.v[first + 2] {
                    first + 3
                } else {
                    first + 2
                };
                m = if self.v[b] < self.v[a] { b } else { a };
            } else {
                for c in first + 1..n {
                    if self.v[c] < self.v[m] {
                        m = c;
                    }
                }
            }
            self.v[i] = self.v[m];
            i = m;
        }
        while i > 0 {
            let parent = (i - 1) / 4;
            if self.v[parent] <= last {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = last;
        Some(top)
    }

    /// Places `e` at `i` or below, moving smaller children up.
    #[inline]
    fn sift_down(&mut self, mut i: usize, e: Entry) {
        let n = self.v.len();
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let end = (first + 4).min(n);
            let mut m = first;
            for c in first + 1..end {
                if self.v[c] < self.v[m] {
                    m = c;
                }
            }
            if e <= self.v[m] {
                break;
            }
            self.v[i] = self.v[m];
            i = m;
        }
        self.v[i] = e;
    }

    fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) {
        self.v.retain(|e| keep(e));
        // Heapify bottom-up.
        for i in (0..self.v.len() / 4 + 1).rev() {
            if i < self.v.len() {
                let e = self.v[i];
                self.sift_down(i, e);
            }
        }
    }
}

/// An entry of the list: the key packed into two words (time; entity and the low 32 bits of
/// the sequence number) so comparisons are two integer compares, and the slot holding the
/// payload. 24 bytes. An entry is stale when its slot no longer holds the same key.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub time: u64,
    pub tie: u64,
    pub slot: u32,
}

impl Entry {
    #[inline]
    pub fn new(key: EventKey, slot: u32) -> Self {
        Entry {
            time: key.time.as_nanos(),
            tie: ((key.entity.0 as u64) << 32) | (key.seq & 0xffff_ffff),
            slot,
        }
    }
    #[inline]
    pub fn entity(&self) -> EntityId {
        EntityId((self.tie >> 32) as u32)
    }
}

pub(crate) enum Fel {
    Heap(BinaryHeap<Reverse<Entry>>),
    Quad(QuadHeap),
    Pq(PriorityQueue<u32, Reverse<(u64, u64)>>),
}

impl Fel {
    pub fn new(kind: FelKind) -> Self {
        match kind {
            FelKind::BinaryHeap => Fel::Heap(BinaryHeap::new()),
            FelKind::PriorityQueue => Fel::Pq(PriorityQueue::new()),
            FelKind::QuadHeap => Fel::Quad(QuadHeap::default()),
        }
    }

    #[inline]
    pub fn push(&mut self, e: Entry) {
        match self {
            Fel::Heap(h) => h.push(Reverse(e)),
            Fel::Quad(q) => q.push(e),
            Fel::Pq(q) => {
                q.push(e.slot, Reverse((e.time, e.tie)));
            }
        }
    }

    /// The smallest entry (possibly a stale one for the heap).
    #[inline]
    pub fn peek(&self) -> Option<Entry> {
        match self {
            Fel::Heap(h) => h.peek().map(|Reverse(e)| *e),
            Fel::Quad(q) => q.v.first().copied(),
            Fel::Pq(q) => q.peek().map(|(s, Reverse((t, tie)))| Entry {
                time: *t,
                tie: *tie,
                slot: *s,
            }),
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Entry> {
        match self {
            Fel::Heap(h) => h.pop().map(|Reverse(e)| e),
            Fel::Quad(q) => q.pop(),
            Fel::Pq(q) => q.pop().map(|(s, Reverse((t, tie)))| Entry {
                time: t,
                tie,
                slot: s,
            }),
        }
    }

    /// Removes a cancelled entry. Returns false when removal is lazy (the entry stays until popped).
    #[inline]
    pub fn remove(&mut self, slot: u32) -> bool {
        match self {
            Fel::Heap(_) | Fel::Quad(_) => false,
            Fel::Pq(q) => q.remove(&slot).is_some(),
        }
    }

    /// Entries physically held, stale ones included.
    pub fn len(&self) -> usize {
        match self {
            Fel::Heap(h) => h.len(),
            Fel::Quad(q) => q.v.len(),
            Fel::Pq(q) => q.len(),
        }
    }

    /// Drops every entry that is no longer live.
    pub fn retain(&mut self, mut live: impl FnMut(&Entry) -> bool) {
        match self {
            Fel::Heap(h) => h.retain(|Reverse(e)| live(e)),
            Fel::Quad(q) => q.retain(live),
            Fel::Pq(q) => q.retain(|s, Reverse((t, tie))| {
                live(&Entry {
                    time: *t,
                    tie: *tie,
                    slot: *s,
                })
            }),
        }
    }
}
