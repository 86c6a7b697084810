//! The calendar queue's late events: those scheduled into the current window (or earlier)
//! after the window was loaded. An ascending run beside a 4-ary heap.
//!
//! Late events mostly come in key order. A model that schedules many events at its own instant
//! gives them increasing ties: scale-10m's MCIS requests launch ten million VMs at time 0, all
//! into the current window. In a heap each of those pops walks the whole depth, a dozen levels
//! at ten million entries, and moves an entry at each: a cost that grows faster than the VM
//! count. In the run a pop is one sequential read.
//!
//! An entry that is not above the run's last goes to the heap, unless only the run's last is
//! above it: then the last goes to the heap instead (`Late::push_below`). Without that swap one
//! early straggler sends the whole burst behind it to the heap, as at time 0 of scale-10m,
//! whose build and time 0 the swap took from 5.95 to 4.86 s (BENCHMARKS.md, tenth step). Pops
//! take the smaller head of the two, so the order is the keys' whatever the split.

use super::{Entry, QuadHeap};

#[derive(Clone, Debug)]
pub(crate) struct Late<E> {
    /// Entries in ascending key order from `head` on (those before `head` were popped).
    run: Vec<Entry<E>>,
    head: usize,
    heap: QuadHeap<E>,
}

impl<E> Default for Late<E> {
    fn default() -> Self {
        Late {
            run: Vec::new(),
            head: 0,
            heap: QuadHeap::default(),
        }
    }
}

impl<E: Copy> Late<E> {
    #[inline]
    pub(super) fn push(&mut self, e: Entry<E>) {
        match self.run.last() {
            Some(last) if !last.lt(&e) => self.push_below(e),
            _ => self.run.push(e),
        }
    }

    /// An entry below the run's last. If it is above the entry before the last (or the last
    /// is the run's only one left), the last moves to the heap and the entry takes its place;
    /// otherwise the entry goes to the heap. Either way one entry goes to the heap, as before,
    /// but one event later in the window, scheduled before a burst at an earlier instant, no
    /// longer sends the whole burst there: at time 0 of scale-10m an event 1 ms ahead came
    /// first, and the ten million launches after it went to the heap (their pops were a fifth
    /// of the samples of the build and time 0).
    #[inline]
    fn push_below(&mut self, e: Entry<E>) {
        let n = self.run.len();
        if n - 1 == self.head || self.run[n - 2].lt(&e) {
            let last = self.run[n - 1];
            self.run[n - 1] = e;
            self.heap.push(last);
        } else {
            self.heap.push(e);
        }
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.run.is_empty() && self.heap.is_empty()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.run.len() - self.head + self.heap.len()
    }

    /// True if the smallest entry is the run's (false if the heap's, or if both are empty).
    #[inline]
    fn run_first(&self) -> bool {
        match (self.run.get(self.head), self.heap.peek()) {
            (Some(r), Some(h)) => r.lt(h),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    #[inline]
    pub(super) fn peek(&self) -> Option<&Entry<E>> {
        if self.run_first() {
            self.run.get(self.head)
        } else {
            self.heap.peek()
        }
    }

    #[inline]
    pub(super) fn pop(&mut self) -> Option<Entry<E>> {
        if !self.run_first() {
            return self.heap.pop();
        }
        let e = self.run[self.head];
        self.head += 1;
        if self.head == self.run.len() {
            // Drained: start again at the front (the buffer is kept for the next burst).
            self.run.clear();
            self.head = 0;
        }
        Some(e)
    }

    /// Every pending entry's time and payload, to rewrite the payload (see
    /// `Fel::payloads_mut`).
    pub(super) fn payloads_mut(&mut self, f: &mut impl FnMut(u64, &mut E)) {
        for e in &mut self.run[self.head..] {
            f(e.time, &mut e.payload);
        }
        self.heap.payloads_mut(f);
    }

    /// Empties the structure: the run's entries (ascending), then the heap's (in heap order).
    pub(super) fn take(&mut self) -> [Vec<Entry<E>>; 2] {
        let mut run = std::mem::take(&mut self.run);
        run.drain(..self.head);
        self.head = 0;
        [run, std::mem::take(&mut self.heap.v)]
    }

    /// The buffers' capacities and lengths (run, heap), for tests of memory kept.
    #[cfg(test)]
    pub(super) fn buffers(&self) -> [(usize, usize); 2] {
        [
            (self.run.capacity(), self.run.len()),
            (self.heap.v.capacity(), self.heap.v.len()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::queue::tests::entry;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn pops_in_key_order_whatever_the_arrival_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut late = Late::default();
        let mut pending = std::collections::BTreeSet::new();
        let mut tie = 0u64;
        for round in 0..300 {
            // Bursts at one instant in tie order (one model's simultaneous events) and
            // stragglers out of order, with pops in between.
            for _ in 0..rng.random_range(0..50) {
                tie += 1;
                let time = if round % 3 == 0 {
                    1_000
                } else {
                    rng.random_range(0..2_000)
                };
                pending.insert((time, tie));
                late.push(entry(time, tie));
                assert_eq!(late.len(), pending.len());
            }
            for _ in 0..rng.random_range(0..40) {
                let expect = pending.pop_first();
                assert_eq!(late.peek().map(|e| e.key()), expect);
                assert_eq!(late.pop().map(|e| e.key()), expect);
            }
        }
        while let Some(expect) = pending.pop_first() {
            assert_eq!(late.pop().map(|e| e.key()), Some(expect));
        }
        assert!(late.is_empty());
        assert_eq!(late.pop().map(|e| e.key()), None);
    }

    #[test]
    fn a_burst_in_key_order_stays_out_of_the_heap() {
        let mut late = Late::default();
        for tie in 0..10_000 {
            late.push(entry(7, tie));
        }
        late.push(entry(3, 99_999)); // a straggler
        assert_eq!(late.buffers()[0].1, 10_000);
        assert_eq!(late.buffers()[1].1, 1);
        assert_eq!(late.pop().map(|e| e.key()), Some((3, 99_999)));
        for tie in 0..5_000 {
            assert_eq!(late.pop().map(|e| e.key()), Some((7, tie)));
        }
        // What is left comes back in order, the run's first.
        let [run, heap] = late.take();
        assert_eq!(run.len(), 5_000);
        assert_eq!(run[0].key(), (7, 5_000));
        assert!(heap.is_empty());
        assert!(late.is_empty());
    }

    #[test]
    fn a_burst_behind_a_later_straggler_still_takes_the_run() {
        let mut late = Late::default();
        late.push(entry(5, 0));
        late.push(entry(1_000, 1)); // later in the window, scheduled first
        for tie in 2..10_002 {
            late.push(entry(5, tie)); // then a burst at the earlier instant
        }
        // The straggler moved to the heap; the burst extends the run.
        assert_eq!(late.buffers()[0].1, 10_001);
        assert_eq!(late.buffers()[1].1, 1);
        // More than the last above it: the newcomer goes to the heap.
        late.push(entry(4, 20_000));
        assert_eq!(late.buffers()[0].1, 10_001);
        assert_eq!(late.buffers()[1].1, 2);
        let mut popped = Vec::new();
        while let Some(e) = late.pop() {
            popped.push(e.key());
        }
        let mut expect: Vec<_> = (2..10_002).map(|t| (5, t)).collect();
        expect.extend([(4, 20_000), (5, 0), (1_000, 1)]);
        expect.sort_unstable();
        assert_eq!(popped, expect);
    }
}
