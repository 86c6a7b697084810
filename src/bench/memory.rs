//! The machine's own cost of random memory access, at a given footprint: what a simulator whose
//! state is touched at random (an agent's line per report, an event's bucket) cannot go below.
//!
//! At ten million VMs the simulator's state is several gigabytes, touched one cache line at a
//! time in an order the hardware cannot predict. Whether its time per event may stay what it is
//! at a million VMs (half a gigabyte) depends on whether the machine's time per random access
//! does: the TLB's reach, the page walks' own misses and, in a virtual machine, the host's
//! pages behind the guest's all grow with the footprint. This probe measures that cost on a
//! buffer of the size asked for, so a scaling curve can be read against the machine's
//! (`benches/scaling/run.sh` records it beside every size; BENCHMARKS.md, issue 15).
//!
//! Three figures, timed by the caller (the library reads no clock):
//!
//! - **first touch**: writing every page of the fresh buffer once (the kernel zeroes each page
//!   as it is faulted in; under a hypervisor the host may have to back it first);
//! - **independent**: read-modify-writes of random lines whose addresses do not depend on one
//!   another, so the core overlaps as many misses as it can (the simulator prefetches events
//!   ahead to work this way): the cost per access at full memory-level parallelism;
//! - **dependent**: loads whose address depends on the line loaded before: one miss at a time,
//!   the latency itself.
//!
//! The buffer is one allocation, so in the binary (whose allocator asks for huge pages under
//! large allocations, `engine::huge_pages`) it lives on huge pages as the simulator's state does.

/// Bytes of a cache line: one access touches one line.
const LINE: usize = 64;
/// `u64` words per line.
const WORDS_PER_LINE: usize = LINE / 8;

/// A buffer of whole cache lines, written once when made.
pub struct MemoryProbe {
    words: Vec<u64>,
    /// The random stream's state (xorshift64: one shift-xor triple per address, so the loop's
    /// own work stays small beside a miss).
    x: u64,
}

impl MemoryProbe {
    /// A probe over `bytes` (rounded down to whole lines, at least one line). Every page is
    /// written once here: time this call for the first-touch figure. `Err` (not an abort) when
    /// the memory cannot be had.
    pub fn new(bytes: usize, seed: u64) -> Result<MemoryProbe, String> {
        let lines = (bytes / LINE).max(1);
        let n = lines * WORDS_PER_LINE;
        let mut words = Vec::new();
        words
            .try_reserve_exact(n)
            .map_err(|e| format!("cannot allocate {bytes} bytes for the memory probe: {e}"))?;
        // Written, not zero-allocated: a zeroed allocation is only mapped, and its pages would
        // be faulted in during the timed accesses instead.
        words.resize(n, 1);
        Ok(MemoryProbe {
            words,
            // xorshift's state must not be 0.
            x: seed | 1,
        })
    }

    /// Lines in the buffer.
    pub fn lines(&self) -> usize {
        self.words.len() / WORDS_PER_LINE
    }

    /// The next word of the random stream (xorshift64).
    #[inline]
    fn next_random(&mut self) -> u64 {
        let mut x = self.x;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.x = x;
        x
    }

    /// The line that the random word `r` picks: the high bits of a 128-bit product, an index
    /// below `lines` without a division.
    #[inline]
    fn line_of(&self, r: u64) -> usize {
        ((r as u128 * self.lines() as u128) >> 64) as usize
    }

    /// `accesses` read-modify-writes of random lines, independent of one another. Returns a
    /// checksum of what was read (so the work cannot be optimized away).
    pub fn independent(&mut self, accesses: u64) -> u64 {
        let mut sum = 0u64;
        for _ in 0..accesses {
            let r = self.next_random();
            let i = self.line_of(r) * WORDS_PER_LINE;
            let w = &mut self.words[i];
            sum = sum.wrapping_add(*w);
            *w = w.wrapping_add(1);
        }
        sum
    }

    /// `accesses` loads of random lines, each address mixed with the word loaded before, so
    /// no load can start before the one before it ends. Returns a checksum.
    pub fn dependent(&mut self, accesses: u64) -> u64 {
        let mut last = 0u64;
        let mut sum = 0u64;
        for _ in 0..accesses {
            // `last` is a word of the buffer: always small, so this is the random line, but
            // the hardware cannot know it before the load that produced it is done.
            let r = self.next_random().wrapping_add(last);
            last = self.words[self.line_of(r) * WORDS_PER_LINE];
            sum = sum.wrapping_add(last);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touches_lines_inside_the_buffer_and_spreads_over_them() {
        let mut p = MemoryProbe::new(64 * 1024, 7).unwrap();
        assert_eq!(p.lines(), 1024);
        let accesses = 100_000;
        // Every word starts at 1: the reads sum to the accesses plus the earlier increments.
        let sum = p.independent(accesses);
        assert!(sum >= accesses, "{sum}");
        let written: u64 = p.words.iter().map(|w| w - 1).sum();
        assert_eq!(written, accesses, "one increment per access");
        // Only the first word of a line is touched, and most lines are (uniform indices).
        let touched = (0..p.lines())
            .filter(|l| p.words[l * WORDS_PER_LINE] > 1)
            .count();
        assert!(touched > 1000, "{touched} of 1024 lines");
        assert!(
            p.words
                .iter()
                .enumerate()
                .all(|(i, w)| i % WORDS_PER_LINE == 0 || *w == 1)
        );
        assert!(p.dependent(10_000) >= 10_000);
    }

    #[test]
    fn a_buffer_too_large_is_an_error_not_an_abort() {
        let err = MemoryProbe::new(usize::MAX / 2, 1).err().unwrap();
        assert!(err.contains("memory probe"), "{err}");
    }

    #[test]
    fn tiny_sizes_still_have_a_line() {
        let mut p = MemoryProbe::new(1, 0).unwrap();
        assert_eq!(p.lines(), 1);
        assert_eq!(p.independent(10), 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10);
    }
}
