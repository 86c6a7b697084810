//! The future event list: a priority queue of pending events in a deterministic total order.
//!
//! Every event has an [`EventKey`] `(time, entity, seq)`: simulated time first, then the id of the
//! entity that owns the event, then that entity's own sequence number. Two events never compare
//! equal, and the order of simultaneous events does not depend on the order in which unrelated
//! entities happened to schedule them (so adding a model does not reorder another model's events).
//!
//! Two interchangeable implementations are kept so they can be measured against each other
//! (`cloudtwin bench queue`, figures in BENCHMARKS.md):
//! - [`FelKind::BinaryHeap`]: `std::collections::BinaryHeap` with lazy cancellation (a cancelled
//!   entry stays in the heap and is skipped when it reaches the top; the heap is compacted when
//!   stale entries outnumber live ones). The default: it measured faster.
//! - [`FelKind::PriorityQueue`]: the `priority-queue` crate's keyed queue, which removes a cancelled
//!   entry at once.

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
    #[default]
    BinaryHeap,
    PriorityQueue,
}

impl FelKind {
    pub const ALL: [FelKind; 2] = [FelKind::BinaryHeap, FelKind::PriorityQueue];
    pub fn name(self) -> &'static str {
        match self {
            FelKind::BinaryHeap => "binary-heap",
            FelKind::PriorityQueue => "priority-queue",
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
    Pq(PriorityQueue<u32, Reverse<(u64, u64)>>),
}

impl Fel {
    pub fn new(kind: FelKind) -> Self {
        match kind {
            FelKind::BinaryHeap => Fel::Heap(BinaryHeap::new()),
            FelKind::PriorityQueue => Fel::Pq(PriorityQueue::new()),
        }
    }

    #[inline]
    pub fn push(&mut self, e: Entry) {
        match self {
            Fel::Heap(h) => h.push(Reverse(e)),
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
            Fel::Heap(_) => false,
            Fel::Pq(q) => q.remove(&slot).is_some(),
        }
    }

    /// Entries physically held, stale ones included.
    pub fn len(&self) -> usize {
        match self {
            Fel::Heap(h) => h.len(),
            Fel::Pq(q) => q.len(),
        }
    }

    /// Drops every entry that is no longer live.
    pub fn retain(&mut self, mut live: impl FnMut(&Entry) -> bool) {
        match self {
            Fel::Heap(h) => h.retain(|Reverse(e)| live(e)),
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
