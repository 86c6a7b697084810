//! The calendar queue ([`super::FelKind::Calendar`], the default event list): R. Brown,
//! "Calendar queues", CACM 31(10), 1988, with power-of-two windows that adapt to the density.

use super::{Entry, QuadHeap};
use std::cmp::Reverse;

/// The calendar queue behind [`super::FelKind::Calendar`].
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
    pub(super) sorted: Vec<Entry<E>>,
    /// Sort keys of the window being loaded, and the radix sort's second buffer (reused: see
    /// `load_sorted`).
    keys: Vec<u64>,
    scratch: Vec<u64>,
    late: QuadHeap<E>,
    far: QuadHeap<E>,
    pub(super) len: usize,
    // Shape statistics since the last check.
    pops: u64,
    loads: u64,
    loaded: u64,
    pushes: u64,
    /// Pushes by bit length of their lead (windows ahead of the current one).
    lead_bits: [u64; 65],
    shrink_votes: u32,
    pub(super) adapt_every: u64,
}

/// Where `Calendar::place` puts an entry: the late heap (its window is the current one or
/// earlier), a ring bucket, or the far heap (beyond the ring).
enum Dest {
    Late,
    Ring(usize),
    Far,
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
    pub(super) fn new() -> Self {
        // 1 ms windows and 1,024 buckets until the first check adapts them.
        Self::with_shape(20, 10)
    }

    pub(super) fn with_shape(shift: u32, bits: u32) -> Self {
        let n = 1usize << bits;
        Calendar {
            shift,
            bits,
            ring: (0..n).map(|_| Vec::new()).collect(),
            occupied: vec![0; n.div_ceil(64)],
            cur: 0,
            sorted: Vec::new(),
            keys: Vec::new(),
            scratch: Vec::new(),
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
    pub(super) fn window(&self, time: u64) -> u64 {
        time >> self.shift
    }

    #[inline]
    pub(super) fn push(&mut self, e: Entry<E>) {
        self.len += 1;
        self.pushes += 1;
        // How far ahead events land (bit length of the lead in windows), for the ring size.
        let lead = self.window(e.time).saturating_sub(self.cur);
        self.lead_bits[(64 - lead.leading_zeros()) as usize] += 1;
        self.place(e);
    }

    /// Where an event at `time` belongs in the current shape: the one rule that `place`,
    /// `place_all` and `pop_far_reached` share.
    #[inline(always)]
    fn dest(&self, time: u64) -> Dest {
        let w = self.window(time);
        if w <= self.cur {
            Dest::Late
        } else if w - self.cur < (1u64 << self.bits) {
            Dest::Ring((w & ((1u64 << self.bits) - 1)) as usize)
        } else {
            Dest::Far
        }
    }

    #[inline(always)]
    pub(super) fn place(&mut self, e: Entry<E>) {
        match self.dest(e.time) {
            Dest::Late => self.late.push(e),
            Dest::Ring(b) => {
                self.ring[b].push(e);
                self.occupied[b / 64] |= 1u64 << (b % 64);
            }
            Dest::Far => self.far.push(e),
        }
    }

    /// Makes the current window non-empty if any event is pending; false if none is.
    #[inline]
    pub(super) fn ready(&mut self) -> bool {
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
    pub(super) fn advance(&mut self) {
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
        // 2^18 buckets is gigabytes. (So would a bucket keeping its own buffer: the ring
        // spans the far leads of timeouts too, and a bucket's next lap is often empty.)
        let bucket = std::mem::take(&mut self.ring[b]);
        self.load_sorted(bucket);
        self.loads += 1;
        self.loaded += self.sorted.len() as u64;
    }

    /// Makes `bucket` (the events of window `cur`) the sorted current window, descending.
    ///
    /// Moving 40-byte entries around while sorting them by a two-word key was the largest
    /// single cost of the default scenario (18% of its time). Within one window the times
    /// differ only in their low `shift` bits, so each entry gets one `u64`: its offset in the
    /// window above its index in the bucket. Those sort as plain integers; entries at the same
    /// instant (rare) are then put in tie order, and the entries are copied once, in order.
    fn load_sorted(&mut self, mut bucket: Vec<Entry<E>>) {
        let n = bucket.len();
        let idx_bits = usize::BITS - n.leading_zeros();
        if self.shift + idx_bits > 64 {
            // Wide windows holding millions of entries: the keys would not fit in 64 bits.
            bucket.sort_unstable_by_key(|e| Reverse(e.key()));
            self.sorted = bucket;
            return;
        }
        let base = self.cur << self.shift;
        let keys = &mut self.keys;
        keys.clear();
        keys.extend(
            bucket
                .iter()
                .enumerate()
                .map(|(i, e)| ((e.time - base) << idx_bits) | i as u64),
        );
        if n >= RADIX_FROM {
            // The keys are built in index order, and the radix sort is stable: sorting by the
            // offset alone (not the index bits below it) puts them in full key order.
            radix_sort(keys, &mut self.scratch, idx_bits, self.shift + idx_bits);
        } else {
            keys.sort_unstable();
        }
        // Same instant: order by tie (the index bits only made the keys unique).
        let mask = (1u64 << idx_bits) - 1;
        let mut i = 0;
        while i + 1 < n {
            let at = keys[i] >> idx_bits;
            let mut j = i + 1;
            while j < n && keys[j] >> idx_bits == at {
                j += 1;
            }
            if j - i > 1 {
                keys[i..j].sort_unstable_by_key(|k| bucket[(k & mask) as usize].tie);
            }
            i = j;
        }
        let sorted = &mut self.sorted;
        sorted.clear();
        sorted.extend(keys.iter().rev().map(|k| bucket[(k & mask) as usize]));
    }

    /// The first window after `cur` whose bucket is occupied (scanning the bitmap circularly).
    pub(super) fn next_occupied(&self) -> Option<u64> {
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
    pub(super) fn peek(&mut self) -> Option<&Entry<E>> {
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
    pub(super) fn pop(&mut self) -> Option<Entry<E>> {
        self.pop_if(|_| true)
    }

    /// Pops the smallest entry if `take` accepts it (see `Fel::pop_if`).
    #[inline]
    pub(super) fn pop_if(&mut self, take: impl FnOnce(&Entry<E>) -> bool) -> Option<Entry<E>> {
        if !self.ready() {
            return None;
        }
        let from_late = match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(l)) => l.lt(s),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let top = if from_late {
            self.late.peek()
        } else {
            self.sorted.last()
        };
        if !take(top?) {
            return None;
        }
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

    /// Checks the shape against the event density and rebuilds when it is off.
    pub(super) fn adapt(&mut self) {
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
    pub(super) fn rebuild(&mut self, shift: u32, bits: u32) {
        let mut near = self.take_near();
        let cur_time = self.cur << self.shift;
        self.shift = shift;
        self.bits = bits;
        // The new current window contains the old one's start: no event is before it.
        self.cur = cur_time >> shift;
        // The far events the new ring reaches join it in the same pass.
        near.extend(std::iter::from_fn(|| self.pop_far_reached()));
        self.place_all(near);
    }

    /// Takes every entry but the far ones out of the queue, leaving the ring's buckets without
    /// buffers.
    fn take_near(&mut self) -> Vec<Entry<E>> {
        let mut near = Vec::with_capacity(self.len - self.far.len());
        near.append(&mut self.sorted);
        near.append(&mut self.late.v);
        for b in self.ring.iter_mut() {
            // The bucket's buffer is freed now: its capacity is as large as the bucket ever
            // was, and the new ring's buckets are sized to what they get (`place_all`).
            near.append(&mut std::mem::take(b));
        }
        near
    }

    /// Places `near` (entries not in `far`) into a fresh ring of the current shape whose
    /// buckets have exactly the capacity they need. Buckets grown push by push hold up to
    /// four times their entries (a sparse bucket of one timeout keeps room for four), and a
    /// rebuild places a million entries at once at a million agents: sized this way, the ring
    /// holds hundreds of megabytes less at ten million. The heaps keep at most twice what
    /// they hold.
    fn place_all(&mut self, near: Vec<Entry<E>>) {
        let n = 1usize << self.bits;
        let mut counts = vec![0u32; n];
        for e in &near {
            if let Dest::Ring(b) = self.dest(e.time) {
                counts[b] += 1;
            }
        }
        self.ring = counts
            .iter()
            .map(|&c| Vec::with_capacity(c as usize))
            .collect();
        drop(counts);
        self.occupied = vec![0; n.div_ceil(64)];
        for e in near {
            self.place(e);
        }
        for heap in [&mut self.late.v, &mut self.far.v] {
            if heap.capacity() > 2 * heap.len() {
                heap.shrink_to(2 * heap.len());
            }
        }
    }

    /// Moves the events of `far` that the ring now reaches into it.
    pub(super) fn migrate_far(&mut self) {
        while let Some(e) = self.pop_far_reached() {
            self.place(e);
        }
    }

    /// The next event of `far` if the ring reaches its window.
    #[inline]
    fn pop_far_reached(&mut self) -> Option<Entry<E>> {
        let top = self.far.peek()?;
        if let Dest::Far = self.dest(top.time) {
            return None;
        }
        self.far.pop()
    }

    pub(super) fn retain(&mut self, mut keep: impl FnMut(&Entry<E>) -> bool) {
        self.far.retain(&mut keep);
        let mut near = self.take_near();
        near.retain(|e| keep(e));
        self.len = self.far.len() + near.len();
        self.place_all(near);
    }
}

/// Windows from this many entries sort their keys by radix (below it a comparison sort is
/// as fast).
const RADIX_FROM: usize = 256;

/// Sorts `keys` stably by their bits from `from` up to `to` (the bits above `to` are zero),
/// ascending: least significant byte first, one counting pass for every byte, `scratch` the
/// second buffer. A window's keys are unique integers of 30-40 bits, its entries' offsets
/// above their indices; built in index order, they need sorting by the offset only, 3-4 passes
/// of plain moves where a comparison sort of a thousand keys (a tenth of the engine's thread)
/// branches on every compare. A byte every key shares is skipped.
fn radix_sort(keys: &mut Vec<u64>, scratch: &mut Vec<u64>, from: u32, to: u32) {
    const DIGITS: usize = 8;
    let passes = (to.saturating_sub(from).div_ceil(8) as usize).min(DIGITS);
    let digit = |k: u64, p: usize| ((k >> (from as usize + 8 * p)) & 0xff) as usize;
    let mut counts = [[0u32; 256]; DIGITS];
    for &k in keys.iter() {
        for (p, c) in counts.iter_mut().enumerate().take(passes) {
            c[digit(k, p)] += 1;
        }
    }
    let n = keys.len();
    scratch.clear();
    scratch.resize(n, 0);
    for (p, c) in counts.iter_mut().enumerate().take(passes) {
        if c.iter().any(|&m| m as usize == n) {
            continue;
        }
        let mut at = 0u32;
        for m in c.iter_mut() {
            let here = *m;
            *m = at;
            at += here;
        }
        for &k in keys.iter() {
            let d = digit(k, p);
            scratch[c[d] as usize] = k;
            c[d] += 1;
        }
        std::mem::swap(keys, scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::queue::tests::entry;

    #[test]
    fn radix_sort_sorts_as_a_comparison_sort_does() {
        let mut scratch = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for (n, bits) in [
            (0, 8),
            (1, 8),
            (300, 9),
            (1_000, 31),
            (1_537, 40),
            (5_000, 64),
        ] {
            let mut keys: Vec<u64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if bits == 64 {
                        x
                    } else {
                        x & ((1u64 << bits) - 1)
                    }
                })
                .collect();
            // Some keys share their high bytes (the skipped passes).
            keys.iter_mut().step_by(3).for_each(|k| *k &= 0xffff);
            let mut want = keys.clone();
            want.sort_unstable();
            radix_sort(&mut keys, &mut scratch, 0, bits);
            assert_eq!(keys, want, "{n} keys of {bits} bits");
        }
    }

    #[test]
    fn radix_sort_by_the_high_bits_is_stable() {
        // As the calendar builds them: a 24-bit offset above the index (12 bits), in index
        // order, many offsets shared or close. Sorting by the offset alone must give the full order.
        let mut scratch = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for n in [0usize, 1, 256, 1_000, 4_095] {
            let mut keys: Vec<u64> = (0..n as u64)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let offset = match x % 4 {
                        0 => 77,
                        1 => (x >> 8) & 0x3f, // differing in the lowest bits only
                        _ => (x >> 8) & 0xff_ffff,
                    };
                    offset << 12 | i
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            radix_sort(&mut keys, &mut scratch, 12, 36);
            assert_eq!(keys, want, "{n} keys");
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
    fn large_windows_with_many_simultaneous_events_pop_in_tie_order() {
        // Windows of ~1,000 entries (the key sort) where most instants hold several events
        // pushed in no particular tie order.
        let mut c = Calendar::with_shape(20, 10);
        let mut want = Vec::new();
        for i in 0..20_000u64 {
            let time = (i * 7_919 % 5_003) * 1_000 + 1_000_000;
            let tie = (i * 104_729) % 1_000_003;
            c.push(entry(time, tie));
            want.push((time, tie));
        }
        want.sort_unstable();
        let got: Vec<_> = std::iter::from_fn(|| c.pop().map(|e| e.key())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_rebuild_sizes_each_bucket_to_its_entries() {
        // Sparse buckets (one or two entries each, as timeouts are) and a few dense ones,
        // plus far entries; pushed one by one, a bucket of one entry keeps room for four.
        let mut c = Calendar::with_shape(20, 10);
        let mut want = Vec::new();
        for i in 0..3_000u64 {
            let time = if i % 10 == 0 {
                5_000_000
            } else {
                i * 3_000_017
            };
            c.push(entry(time, i));
            want.push((time, i));
        }
        c.rebuild(21, 11);
        let placed: usize = c.ring.iter().map(Vec::len).sum();
        assert!(placed > 100, "the ring holds entries ({placed})");
        for (b, bucket) in c.ring.iter().enumerate() {
            assert_eq!(bucket.capacity(), bucket.len(), "bucket {b}");
        }
        for heap in [&c.late.v, &c.far.v] {
            assert!(
                heap.capacity() <= 2 * heap.len().max(2),
                "a heap keeps at most twice its entries"
            );
        }
        // Compaction sizes the ring the same way, and neither changes the order.
        c.retain(|e| e.tie % 7 != 0);
        for bucket in &c.ring {
            assert_eq!(bucket.capacity(), bucket.len());
        }
        want.retain(|(_, tie)| tie % 7 != 0);
        want.sort_unstable();
        let got: Vec<_> = std::iter::from_fn(|| c.pop().map(|e| e.key())).collect();
        assert_eq!(got, want);
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
