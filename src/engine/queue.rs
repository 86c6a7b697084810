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
//!   reaches it; a small heap for events scheduled into the current window and one for events
//!   beyond the ring. Window width and ring size adapt to the event density. Constant time per
//!   event for the periodic timers that dominate monitoring: 3x faster than the heaps at
//!   10,000 timers, 13-28x at a million (BENCHMARKS.md).
//! - [`FelKind::QuadHeap`]: a 4-ary min-heap with a bottom-up pop.
//! - [`FelKind::BinaryHeap`]: the standard library's binary heap.
//! - [`FelKind::PriorityQueue`]: the `priority-queue` crate's keyed queue (slowest: it
//!   maintains an index map on every push and pop).

use priority_queue::PriorityQueue;
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
    #[inline]
    pub fn new(key: EventKey, slot: u32, generation: u32, payload: E) -> Self {
        Entry {
            time: key.time.as_nanos(),
            tie: ((key.entity.0 as u64) << 32) | (key.seq & 0xffff_ffff),
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

/// A 4-ary min-heap of entries (keys are unique, so any correct heap pops the same order).
#[derive(Clone, Debug)]
pub(crate) struct QuadHeap<E> {
    v: Vec<Entry<E>>,
}

impl<E> Default for QuadHeap<E> {
    fn default() -> Self {
        QuadHeap { v: Vec::new() }
    }
}

impl<E: Copy> QuadHeap<E> {
    #[inline]
    fn push(&mut self, e: Entry<E>) {
        let mut i = self.v.len();
        self.v.push(e);
        while i > 0 {
            let parent = (i - 1) / 4;
            if !e.lt(&self.v[parent]) {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = e;
    }

    #[inline]
    fn peek(&self) -> Option<&Entry<E>> {
        self.v.first()
    }

    fn len(&self) -> usize {
        self.v.len()
    }

    fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Bottom-up pop (as std's BinaryHeap does): move the hole from the root down to a leaf
    /// along the smallest children, then sift the last entry up from there. The last entry
    /// usually belongs near the bottom, so this saves a comparison per level.
    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
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
                let a = if self.v[first + 1].lt(&self.v[first]) {
                    first + 1
                } else {
                    first
                };
                let b = if self.v[first + 3].lt(&self.v[first + 2]) {
                    first + 3
                } else {
                    first + 2
                };
                m = if self.v[b].lt(&self.v[a]) { b } else { a };
            } else {
                for c in first + 1..n {
                    if self.v[c].lt(&self.v[m]) {
                        m = c;
                    }
                }
            }
            self.v[i] = self.v[m];
            i = m;
        }
        while i > 0 {
            let parent = (i - 1) / 4;
            if !last.lt(&self.v[parent]) {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = last;
        Some(top)
    }

    /// Places `e` at `i` or below, moving smaller children up.
    fn sift_down(&mut self, mut i: usize, e: Entry<E>) {
        let n = self.v.len();
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let end = (first + 4).min(n);
            let mut m = first;
            for c in first + 1..end {
                if self.v[c].lt(&self.v[m]) {
                    m = c;
                }
            }
            if !self.v[m].lt(&e) {
                break;
            }
            self.v[i] = self.v[m];
            i = m;
        }
        self.v[i] = e;
    }

    fn heapify(&mut self) {
        for i in (0..self.v.len().div_ceil(4)).rev() {
            let e = self.v[i];
            self.sift_down(i, e);
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&Entry<E>) -> bool) {
        self.v.retain(|e| keep(e));
        self.heapify();
    }
}

/// The calendar queue behind [`FelKind::Calendar`].
///
/// Time is cut into windows of `2^shift` ns. Window `w` lives in ring bucket `w mod 2^bits`
/// while it is less than `2^bits` windows ahead of the current window `cur`; later events wait
/// in `far` (a heap) and move into the ring as the clock advances, so a bucket only ever holds
/// one window. When the clock reaches a window its bucket is sorted (descending, popped from
/// the end); events scheduled into the current window after that go to `late`, a small heap.
///
/// Every `ADAPT_EVERY` pops the shape is checked: too many events per window halves the width,
/// too few doubles it, and too many events landing in `far` doubles the ring; the queue is then
/// rebuilt (all entries re-inserted). The shape depends only on the event sequence, and the
/// pop order only on the keys, so runs stay deterministic.
#[derive(Clone, Debug)]
pub(crate) struct Calendar<E> {
    shift: u32,
    bits: u32,
    ring: Vec<Vec<Entry<E>>>,
    /// One bit per ring bucket: non-empty.
    occupied: Vec<u64>,
    cur: u64,
    sorted: Vec<Entry<E>>,
    late: QuadHeap<E>,
    far: QuadHeap<E>,
    len: usize,
    // Shape statistics since the last check.
    pops: u64,
    loads: u64,
    loaded: u64,
    pushes: u64,
    /// Pushes by bit length of their lead (windows ahead of the current one).
    lead_bits: [u64; 65],
    shrink_votes: u32,
    adapt_every: u64,
}

const ADAPT_EVERY: u64 = 1 << 15;
const MIN_BITS: u32 = 8;
const MAX_BITS: u32 = 18;
/// Target events per window. Measured (BENCHMARKS.md): wide windows win. Fewer buckets means
/// the buckets being filled (about one interval ahead) stay in cache, and a sorted window of
/// a few hundred 40-byte entries (tens of KB) still sorts in L2. 3-32 events per window was
/// 1.6x slower at a million agents than 96-1,536.
const WINDOW_MIN: u64 = 96;
const WINDOW_MAX: u64 = 1536;

impl<E: Copy> Calendar<E> {
    fn new() -> Self {
        // 1 ms windows and 1,024 buckets until the first check adapts them.
        Self::with_shape(20, 10)
    }

    fn with_shape(shift: u32, bits: u32) -> Self {
        let n = 1usize << bits;
        Calendar {
            shift,
            bits,
            ring: (0..n).map(|_| Vec::new()).collect(),
            occupied: vec![0; n.div_ceil(64)],
            cur: 0,
            sorted: Vec::new(),
            late: QuadHeap::default(),
            far: QuadHeap::default(),
            len: 0,
            pops: 0,
            loads: 0,
            loaded: 0,
            pushes: 0,
            lead_bits: [0; 65],
            shrink_votes: 0,
            adapt_every: ADAPT_EVERY,
        }
    }

    #[inline]
    fn window(&self, time: u64) -> u64 {
        time >> self.shift
    }

    #[inline]
    fn push(&mut self, e: Entry<E>) {
        self.len += 1;
        self.pushes += 1;
        // How far ahead events land (bit length of the lead in windows), for the ring size.
        let lead = self.window(e.time).saturating_sub(self.cur);
        self.lead_bits[(64 - lead.leading_zeros()) as usize] += 1;
        self.place(e);
    }

    #[inline(always)]
    fn place(&mut self, e: Entry<E>) {
        let w = self.window(e.time);
        if w <= self.cur {
            self.late.push(e);
        } else if w - self.cur < (1u64 << self.bits) {
            let b = (w & ((1u64 << self.bits) - 1)) as usize;
            self.ring[b].push(e);
            self.occupied[b / 64] |= 1u64 << (b % 64);
        } else {
            self.far.push(e);
        }
    }

    /// Makes the current window non-empty if any event is pending; false if none is.
    #[inline]
    fn ready(&mut self) -> bool {
        if !self.sorted.is_empty() || !self.late.is_empty() {
            return true;
        }
        if self.len == 0 {
            return false;
        }
        self.advance();
        true
    }

    /// Moves `cur` to the next window holding events and loads it.
    fn advance(&mut self) {
        let n = 1u64 << self.bits;
        let next = match self.next_occupied() {
            Some(w) => w,
            None => self.window(self.far.peek().expect("pending events").time),
        };
        self.cur = next;
        // Windows now within the ring's reach leave `far` (the current one included).
        self.migrate_far();
        let b = (self.cur & (n - 1)) as usize;
        self.occupied[b / 64] &= !(1u64 << (b % 64));
        // The bucket's buffer becomes the current window, and the bucket starts again from
        // nothing: passing the old current buffer (empty but large) on to the bucket would
        // let every bucket's capacity ratchet up to the largest window ever seen, which at
        // 2^18 buckets is gigabytes.
        self.sorted = std::mem::take(&mut self.ring[b]);
        self.sorted.sort_unstable_by_key(|e| Reverse(e.key()));
        self.loads += 1;
        self.loaded += self.sorted.len() as u64;
    }

    /// The first window after `cur` whose bucket is occupied (scanning the bitmap circularly).
    fn next_occupied(&self) -> Option<u64> {
        let n = 1u64 << self.bits;
        let words = self.occupied.len();
        let start = ((self.cur + 1) & (n - 1)) as usize;
        let (mut wi, bit) = (start / 64, start % 64);
        let mut word = self.occupied[wi] & (!0u64 << bit);
        for _ in 0..=words {
            if word != 0 {
                let b = (wi * 64 + word.trailing_zeros() as usize) as u64;
                let dist = (b + n - start as u64) & (n - 1);
                return Some(self.cur + 1 + dist);
            }
            wi = (wi + 1) % words;
            word = self.occupied[wi];
        }
        None
    }

    #[inline]
    fn peek(&mut self) -> Option<&Entry<E>> {
        if !self.ready() {
            return None;
        }
        match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(l)) => Some(if l.lt(s) { l } else { s }),
            (Some(s), None) => Some(s),
            (None, l) => l,
        }
    }

    #[inline]
    fn pop(&mut self) -> Option<Entry<E>> {
        if !self.ready() {
            return None;
        }
        let from_late = match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(l)) => l.lt(s),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let e = if from_late {
            self.late.pop()
        } else {
            self.sorted.pop()
        };
        self.len -= 1;
        self.pops += 1;
        if self.pops >= self.adapt_every {
            self.adapt();
        }
        e
    }

    fn drain_all(&mut self) -> Vec<Entry<E>> {
        let mut all = Vec::with_capacity(self.len);
        all.append(&mut self.sorted);
        all.append(&mut self.late.v);
        all.append(&mut self.far.v);
        for b in self.ring.iter_mut() {
            all.append(b);
        }
        self.occupied.iter_mut().for_each(|w| *w = 0);
        all
    }

    /// Checks the shape against the event density and rebuilds when it is off.
    fn adapt(&mut self) {
        let per_window = self.loaded / self.loads.max(1);
        let mut shift = self.shift;
        let mut bits = self.bits;
        if per_window > WINDOW_MAX && shift > 0 {
            shift -= 1;
        } else if per_window < WINDOW_MIN && self.loads > 0 && shift < 40 {
            shift += 1;
        }
        // The ring should hold 95% of new events (the rest, the far future of timeouts and
        // crashes, waits in `far`): find the lead bit length that covers them, in the new
        // window width.
        let mut covered = 0;
        let mut need = 0u32;
        for (b, n) in self.lead_bits.iter().enumerate() {
            covered += n;
            if covered as f64 >= 0.95 * self.pushes as f64 {
                need = b as u32;
                break;
            }
        }
        let need = (need as i64 + self.shift as i64 - shift as i64).max(0) as u32;
        if need > bits {
            bits = need.min(MAX_BITS);
            self.shrink_votes = 0;
        } else if need + 2 < bits && self.len < (1usize << bits) / 8 {
            // Shrink only a mostly empty ring (it costs scanning), and only when several
            // checks in a row agree: the lead distribution is often bimodal (reports seconds
            // ahead, timeouts minutes ahead) and its 95th percentile can flip between modes.
            self.shrink_votes += 1;
            if self.shrink_votes >= 4 {
                bits = (need + 1).max(MIN_BITS);
                self.shrink_votes = 0;
            }
        } else {
            self.shrink_votes = 0;
        }
        self.pops = 0;
        self.loads = 0;
        self.loaded = 0;
        self.pushes = 0;
        self.lead_bits = [0; 65];
        if shift != self.shift || bits != self.bits {
            self.rebuild(shift, bits);
        }
    }

    /// Re-shapes the queue. Entries in `far` stay there (it is ordered by time whatever the
    /// shape) unless the new ring reaches them; everything else is placed again.
    fn rebuild(&mut self, shift: u32, bits: u32) {
        let mut near = Vec::with_capacity(self.len - self.far.len());
        near.append(&mut self.sorted);
        near.append(&mut self.late.v);
        for b in self.ring.iter_mut() {
            near.append(b);
        }
        let cur_time = self.cur << self.shift;
        if bits != self.bits {
            let n = 1usize << bits;
            self.ring = (0..n).map(|_| Vec::new()).collect();
            self.occupied = vec![0; n.div_ceil(64)];
        } else {
            self.occupied.iter_mut().for_each(|w| *w = 0);
        }
        self.shift = shift;
        self.bits = bits;
        // The new current window contains the old one's start: no event is before it.
        self.cur = cur_time >> shift;
        for e in near {
            self.place(e);
        }
        self.migrate_far();
    }

    /// Moves the events of `far` that the ring now reaches into it.
    fn migrate_far(&mut self) {
        let n = 1u64 << self.bits;
        while let Some(top) = self.far.peek() {
            if self.window(top.time) >= self.cur + n {
                break;
            }
            let e = self.far.pop().expect("peeked");
            self.place(e);
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&Entry<E>) -> bool) {
        let all = self.drain_all();
        self.len = 0;
        for e in all.into_iter().filter(|e| keep(e)) {
            self.len += 1;
            self.place(e);
        }
    }
}

/// The `priority-queue` variant: keyed by a unique id, payloads in a side table.
pub(crate) struct KeyedQueue<E> {
    pq: PriorityQueue<u32, Reverse<(u64, u64)>>,
    entries: Vec<Option<Entry<E>>>,
    free: Vec<u32>,
}

impl<E: Copy> KeyedQueue<E> {
    fn push(&mut self, e: Entry<E>) {
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(e);
                id
            }
            None => {
                self.entries.push(Some(e));
                (self.entries.len() - 1) as u32
            }
        };
        self.pq.push(id, Reverse(e.key()));
    }
    fn peek(&self) -> Option<&Entry<E>> {
        let (id, _) = self.pq.peek()?;
        self.entries[*id as usize].as_ref()
    }
    fn pop(&mut self) -> Option<Entry<E>> {
        let (id, _) = self.pq.pop()?;
        self.free.push(id);
        self.entries[id as usize].take()
    }
    fn retain(&mut self, mut keep: impl FnMut(&Entry<E>) -> bool) {
        let entries = &mut self.entries;
        let free = &mut self.free;
        self.pq.retain(|id, _| {
            let k = entries[*id as usize].as_ref().is_some_and(&mut keep);
            if !k {
                entries[*id as usize] = None;
                free.push(*id);
            }
            k
        });
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
            FelKind::PriorityQueue => Fel::Pq(KeyedQueue {
                pq: PriorityQueue::new(),
                entries: Vec::new(),
                free: Vec::new(),
            }),
            FelKind::QuadHeap => Fel::Quad(QuadHeap::default()),
            FelKind::Calendar => Fel::Calendar(Box::new(Calendar::new())),
        }
    }

    #[inline]
    pub fn push(&mut self, e: Entry<E>) {
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
            Fel::Pq(q) => q.pq.len(),
            Fel::Calendar(c) => c.len,
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

    fn entry(time: u64, tie: u64) -> Entry<u64> {
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
                        let got = f.pop().expect("non-empty");
                        assert_eq!(got.key(), want, "structure {k} seed {seed}");
                        assert_eq!(got.payload, want.1);
                    }
                }
            }
            for f in fels.iter_mut() {
                assert_eq!(f.len(), reference.len());
            }
        }
    }

    #[test]
    fn calendar_adapts_its_shape_to_the_density() {
        let mut c = Calendar::new();
        // 10,000 timers every 5 s: ~2,000 events per simulated second.
        for i in 0..10_000u64 {
            c.push(entry(i * 500_000, i));
        }
        let mut tie = 10_000;
        for _ in 0..200_000 {
            let e = c.pop().expect("periodic");
            tie += 1;
            c.push(entry(e.time + 5_000_000_000, tie));
        }
        let width = 1u64 << c.shift;
        let per_window = 2_000.0 * width as f64 / 1e9;
        assert!(
            (WINDOW_MIN as f64 / 2.0..=WINDOW_MAX as f64 * 2.0).contains(&per_window),
            "{per_window} events per window"
        );
        assert!(
            (1u64 << c.bits) * width >= 5_000_000_000,
            "ring spans the period"
        );
    }

    #[test]
    fn calendar_retain_keeps_order() {
        let mut c = Calendar::new();
        for i in 0..10_000u64 {
            c.push(entry(i * 7_919 % 100_003 * 1_000_000, i));
        }
        c.retain(|e| e.tie % 3 != 0);
        let mut last = (0, 0);
        let mut n = 0;
        while let Some(e) = c.pop() {
            assert!(e.key() > last);
            assert_ne!(e.tie % 3, 0);
            last = e.key();
            n += 1;
        }
        assert_eq!(n, 10_000 - 3_334);
    }
}
