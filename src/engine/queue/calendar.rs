//! The calendar queue ([`super::FelKind::Calendar`], the default event list): R. Brown,
//! "Calendar queues", CACM 31(10), 1988, with power-of-two windows that adapt to the density.

use super::late::Late;
use super::radix::radix_sort;
use super::{Entry, QuadHeap};
use std::cmp::Reverse;

/// The calendar queue behind [`super::FelKind::Calendar`].
///
/// Time is cut into windows of `2^shift` ns. Window `w` lives in ring bucket `w mod 2^bits`
/// while it is less than `2^bits` windows ahead of the current window `cur`; later events wait
/// in `far` (a heap) and move into the ring as the clock advances, so a bucket only ever holds
/// one window. When the clock reaches a window its bucket is sorted (descending, popped from
/// the end); events scheduled into the current window after that go to `late` (an ascending
/// run beside a small heap: see `super::late`).
///
/// Every `ADAPT_EVERY` pops the shape is checked: too many events per window narrows the
/// windows, too few, or new events spread over too many windows ahead, widens them, and too
/// many events landing in `far` doubles the ring; the queue is then rebuilt (all entries
/// re-inserted). The shape depends only on the event sequence, and the pop order only on the
/// keys, so runs stay deterministic.
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
    late: Late<E>,
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
    /// `LEAD_BITS` (a field so tests can reach the rule without millions of events).
    lead_bits_max: u32,
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
/// Half of the new events should land within `2^LEAD_BITS` windows of the clock: every push
/// writes at the end of its bucket, so the lead is how many bucket ends are being filled. At ten
/// million agents, 96-1,536 events per window put a report interval 8,192-16,383 windows ahead;
/// windows are then wider than `WINDOW_MAX`. Measured (BENCHMARKS.md): the first 4 simulated
/// minutes of scale-10m take 87-90 s with this rule and 96-106 s without it; over the whole
/// hour the two are within 1%, so the gain is in the shape changes of the start. A million
/// agents land within 1,024 windows, where the rule does not act.
const LEAD_BITS: u32 = 11;
/// Never more events per window than this, whatever the lead: a window is sorted when the
/// clock reaches it, and 16,384 entries (640 KB) still sort in L2.
const WINDOW_HARD_MAX: u64 = 1 << 14;

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
            late: Late::default(),
            far: QuadHeap::default(),
            len: 0,
            pops: 0,
            loads: 0,
            loaded: 0,
            pushes: 0,
            lead_bits: [0; 65],
            shrink_votes: 0,
            adapt_every: ADAPT_EVERY,
            lead_bits_max: LEAD_BITS,
        }
    }

    #[inline]
    pub(super) fn window(&self, time: u64) -> u64 {
        time >> self.shift
    }

    /// Inlined into the scheduler (see `Fel::push`).
    #[inline(always)]
    pub(super) fn push(&mut self, e: Entry<E>) {
        self.len += 1;
        self.pushes += 1;
        // How far ahead events land (bit length of the lead in windows), for the ring size.
        let lead = self.window(e.time).saturating_sub(self.cur);
        self.lead_bits[(64 - lead.leading_zeros()) as usize] += 1;
        self.place(e);
    }

    /// Where an event at `time` belongs in the current shape: the one rule that `place`,
    /// `replace_near`, `rebuild` and `pop_far_reached` share.
    #[inline(always)]
    fn dest(&self, time: u64) -> Dest {
        dest_in(self.shift, self.bits, self.cur, time)
    }

    #[inline(always)]
    pub(super) fn place(&mut self, e: Entry<E>) {
        match self.dest(e.time) {
            Dest::Ring(b) => {
                self.ring[b].push(e);
                self.occupied[b / 64] |= 1u64 << (b % 64);
            }
            _ => self.place_off_ring(e.time, e.tie, e.slot, e.generation, e.payload),
        }
    }

    /// The rare destinations, out of line so that the ring's path stays small where it is
    /// inlined. (The entry comes in parts: see `Entry::from_parts`.)
    #[cold]
    #[inline(never)]
    fn place_off_ring(&mut self, time: u64, tie: u64, slot: u32, generation: u32, payload: E) {
        let e = Entry::from_parts(time, tie, slot, generation, payload);
        match self.dest(time) {
            Dest::Late => self.late.push(e),
            Dest::Far => self.far.push(e),
            Dest::Ring(_) => unreachable!("placed by `place`"),
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
        self.pop_with(|e| Some(*e))
    }

    /// Reads the smallest entry in place and removes it if `read` returns `Some` (see
    /// `Fel::pop_with`).
    #[inline]
    pub(super) fn pop_with<R>(&mut self, read: impl FnOnce(&Entry<E>) -> Option<R>) -> Option<R> {
        if !self.ready() {
            return None;
        }
        let late = self.late.peek();
        let from_late = match (self.sorted.last(), late) {
            (Some(s), Some(l)) => l.lt(s),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let top = if from_late { late } else { self.sorted.last() };
        let r = read(top?)?;
        if from_late {
            self.late.pop();
        } else {
            // The entry was read where it lies: only the length moves.
            self.sorted.truncate(self.sorted.len() - 1);
        }
        self.len -= 1;
        self.pops += 1;
        if self.pops >= self.adapt_every {
            self.adapt();
        }
        Some(r)
    }

    /// Checks the shape against the event density and rebuilds when it is off.
    pub(super) fn adapt(&mut self) {
        let shift = self.new_shift();
        let mut bits = self.bits;
        // The ring should hold 95% of new events (the rest, the far future of timeouts and
        // crashes, waits in `far`): find the lead bit length that covers them, in the new
        // window width.
        let need = self.lead_bits_covering(0.95);
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

    /// The window width (`shift`) for the density seen since the last check, moved in one
    /// step as far as the measures ask: a rebuild at ten million agents moves 400 MB.
    fn new_shift(&self) -> u32 {
        if self.loads == 0 {
            // One window held every pop since the last check: no measure of the density.
            return self.shift;
        }
        let per_window = (self.loaded / self.loads).max(1);
        let lead = self.lead_bits_covering(0.5);
        // Doubling the width doubles the events per window and takes one bit off the lead.
        let steps: i64 = if per_window > WINDOW_HARD_MAX {
            -i64::from(ceil_log2(per_window.div_ceil(WINDOW_HARD_MAX)))
        } else if per_window > WINDOW_MAX {
            // Narrower, but not so narrow that the lead would want it wider again.
            let want = ceil_log2(per_window.div_ceil(WINDOW_MAX));
            -i64::from(want.min((self.lead_bits_max - 1).saturating_sub(lead)))
        } else if per_window < WINDOW_MIN {
            i64::from(ceil_log2(WINDOW_MIN.div_ceil(per_window)))
        } else if lead > self.lead_bits_max {
            let room = (WINDOW_HARD_MAX / per_window).ilog2();
            i64::from((lead - self.lead_bits_max).min(room))
        } else {
            0
        };
        (i64::from(self.shift) + steps).clamp(0, 40) as u32
    }

    /// The lead bit length (windows ahead of the current one) that covers the fraction `q` of
    /// the pushes since the last check: that many of them landed within `2^bits` windows.
    fn lead_bits_covering(&self, q: f64) -> u32 {
        let mut covered = 0;
        for (b, n) in self.lead_bits.iter().enumerate() {
            covered += n;
            if covered as f64 >= q * self.pushes as f64 {
                return b as u32;
            }
        }
        0
    }

    /// Re-shapes the queue. Entries in `far` stay there (it is ordered by time whatever the
    /// shape) unless the new ring reaches them; everything else is placed again.
    pub(super) fn rebuild(&mut self, shift: u32, bits: u32) {
        let cur_time = self.cur << self.shift;
        self.shift = shift;
        self.bits = bits;
        // The new current window contains the old one's start: no event is before it.
        self.cur = cur_time >> shift;
        // The far events the new ring reaches join it in the same pass. Taken out in one
        // scan, not popped one by one: a rebuild that widens the ring can reach millions of
        // them (5 s into scale-10m, 4.7 million create timeouts, minutes ahead of a ring that
        // spanned 4.4 minutes), and each pop from a heap that size waits on a dozen cache
        // misses. The rebuild touches every entry anyway, and the heap's order is its keys'.
        let (shift, bits, cur) = (self.shift, self.bits, self.cur);
        let reached: Vec<_> = self
            .far
            .v
            .extract_if(.., |e| {
                !matches!(dest_in(shift, bits, cur, e.time), Dest::Far)
            })
            .collect();
        self.far.heapify();
        self.replace_near(reached, |_| true);
    }

    /// Places every entry not in `far` that `keep` accepts, and `extra`, again, into a fresh
    /// ring of the current shape whose buckets have exactly the capacity they get. Buckets
    /// grown push by push hold up to four times their entries (a sparse bucket of one timeout
    /// keeps room for four), and a rebuild places ten million entries at once at ten million
    /// agents: sized this way, the ring holds hundreds of megabytes less. The entries move
    /// bucket by bucket, each new bucket's buffer allocated when its first entry arrives and
    /// each old bucket's freed once emptied, so the new ring reuses the old one's memory
    /// rather than touching fresh pages (which costs seconds per gigabyte on a virtual
    /// machine; BENCHMARKS.md). The heaps keep at most twice what they hold.
    fn replace_near(&mut self, extra: Vec<Entry<E>>, mut keep: impl FnMut(&Entry<E>) -> bool) {
        let n = 1usize << self.bits;
        // Ascending sources first, so that entries still in the current window form the late
        // run again rather than a heap: the late run, the sorted window (held descending).
        let [late_run, late_heap] = self.late.take();
        let mut sorted = std::mem::take(&mut self.sorted);
        sorted.reverse();
        let mut sources = vec![late_run, sorted, late_heap, extra];
        sources.append(&mut std::mem::take(&mut self.ring));
        // Filter, and count what each new bucket will get.
        let mut counts = vec![0u32; n];
        for source in &mut sources {
            source.retain(|e| keep(e));
            for e in source.iter() {
                if let Dest::Ring(b) = self.dest(e.time) {
                    counts[b] += 1;
                }
            }
        }
        self.ring = (0..n).map(|_| Vec::new()).collect();
        self.occupied = vec![0; n.div_ceil(64)];
        self.len = self.far.len();
        for source in sources {
            self.len += source.len();
            for e in source {
                if let Dest::Ring(b) = self.dest(e.time) {
                    let bucket = &mut self.ring[b];
                    if bucket.capacity() == 0 {
                        bucket.reserve_exact(counts[b] as usize);
                    }
                }
                self.place(e);
            }
        }
        let far = &mut self.far.v;
        if far.capacity() > 2 * far.len() {
            far.shrink_to(2 * far.len());
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
        self.replace_near(Vec::new(), keep);
    }

    /// Every pending entry's time and payload, to rewrite the payload (see
    /// `Fel::payloads_mut`).
    pub(super) fn payloads_mut(&mut self, f: &mut impl FnMut(u64, &mut E)) {
        for e in self.ring.iter_mut().flatten().chain(&mut self.sorted) {
            f(e.time, &mut e.payload);
        }
        self.late.payloads_mut(f);
        self.far.payloads_mut(f);
    }
}

/// [`Calendar::dest`] for a shape given by its fields (so a closure can use it while the
/// calendar is borrowed).
#[inline(always)]
fn dest_in(shift: u32, bits: u32, cur: u64, time: u64) -> Dest {
    let w = time >> shift;
    if w <= cur {
        Dest::Late
    } else if w - cur < (1u64 << bits) {
        Dest::Ring((w & ((1u64 << bits) - 1)) as usize)
    } else {
        Dest::Far
    }
}

/// `ceil(log2(x))` for `x >= 1`.
fn ceil_log2(x: u64) -> u32 {
    u64::BITS - (x - 1).leading_zeros()
}

/// Windows from this many entries sort their keys by radix (below it a comparison sort is
/// as fast).
const RADIX_FROM: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::queue::tests::entry;

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
    fn windows_widen_when_new_events_spread_over_too_many_of_them() {
        // 50,000 timers every 5 s (10,000 events per simulated second). By density alone,
        // 96-1,536 events per window, a report lands 30-500 windows ahead; with the lead
        // held to 2^3 windows (as `LEAD_BITS` holds ten million agents' reports to 2^11),
        // the windows hold thousands.
        let timers = 50_000u64;
        let period = 5_000_000_000u64;
        let run = |lead_bits_max: u32| {
            let mut c = Calendar::new();
            c.lead_bits_max = lead_bits_max;
            for i in 0..timers {
                c.push(entry(i * (period / timers), i));
            }
            let mut tie = timers;
            let mut last = (0, 0);
            for _ in 0..4 * timers {
                let e = c.pop().expect("periodic");
                assert!(e.key() >= last, "pops in key order");
                last = e.key();
                tie += 1;
                c.push(entry(e.time + period, tie));
            }
            let per_window = (timers * (1u64 << c.shift)) as f64 / period as f64;
            let lead = period >> c.shift;
            (per_window, lead)
        };
        let (per_window, lead) = run(LEAD_BITS);
        assert!(
            per_window <= WINDOW_MAX as f64 * 2.0,
            "{per_window} per window"
        );
        assert!(lead > 16, "{lead} windows ahead");
        let (per_window, lead) = run(3);
        assert!(per_window > WINDOW_MAX as f64, "{per_window} per window");
        assert!(
            per_window <= WINDOW_HARD_MAX as f64,
            "{per_window} per window"
        );
        assert!(lead <= 16, "{lead} windows ahead");
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
        for (capacity, len) in c
            .late
            .buffers()
            .into_iter()
            .chain([(c.far.v.capacity(), c.far.v.len())])
        {
            assert!(
                capacity <= 2 * len.max(2),
                "a buffer keeps at most twice its entries"
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
