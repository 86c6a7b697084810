//! An allocator that asks Linux for 2 MiB pages under large allocations and under glibc's heaps:
//! the main heap as it grows, and the heaps of the arenas that serve other threads.
//!
//! At a million agents and more, the model's state (agents, event slots, the calendar's
//! buckets) is hundreds of megabytes touched at random, one event at a time. With 4 KiB pages
//! nearly every such touch also misses the TLB, and the page walk's own loads miss the cache:
//! a profile of scale-1m put half of the run loop's time on the prefetch of the next event's
//! agent. Transparent huge pages cover 512 times more memory per TLB entry, but where the
//! kernel's policy is `madvise` (Debian's default) only memory that asked for them gets them.
//! [`HugePages`] is the system allocator plus that request (`madvise(MADV_HUGEPAGE)`) for every
//! allocation of at least [`THRESHOLD`] bytes, and, with glibc, for the main heap as it grows
//! and for each arena heap other threads allocate from (`advise_heaps` below). It changes
//! where memory lives, never what the simulation computes.
//!
//! The binary installs it (`#[global_allocator]` in `src/main.rs`); the library does not, so
//! programs that embed it keep their own allocator.

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations at least this large ask for huge pages (smaller ones would gain little and
/// could cost up to a 2 MiB page each).
pub const THRESHOLD: usize = 4 << 20;

/// The system allocator, with huge pages asked for under large allocations and glibc's heaps
/// (Linux only, the heaps' with glibc only; elsewhere it is the system allocator).
/// `tests/huge_pages.rs` reads the advice back from `/proc/self/smaps`.
pub struct HugePages;

// SAFETY: every call is forwarded to `System` with the caller's arguments; the only addition
// is an advice on memory the allocation owns, which never changes its contents or validity.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the same as `System`'s.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        advise_heaps(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        advise_heaps(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is checked by the caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        advise(p, new_size);
        advise_heaps(p, new_size);
        p
    }
}

/// Bytes of a huge page.
#[cfg(target_os = "linux")]
const HUGE: usize = 2 << 20;

/// How much glibc's main heap grows by beyond each request (`M_TOP_PAD`; its default is
/// 128 KiB): grown in large steps, most of each step is still untouched when it is advised.
/// Setting it turns off glibc's adaptive thresholds, so the two it would adapt are set here:
/// allocations below 32 MiB (`M_MMAP_THRESHOLD`, where glibc's adaptation stops) come from the
/// heap, and the heap gives memory back only once more than `TRIM` (`M_TRIM_THRESHOLD`, twice
/// the growth step) is free at its end, not at every 128 KiB, so it does not shrink and grow
/// again by a step at a time.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TOP_PAD: usize = 64 << 20;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: usize = 32 << 20;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM: usize = 128 << 20;

/// The main heap's end, rounded down to a huge page, up to which it has been advised.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static HEAP_ADVISED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    /// glibc's `sbrk`; `sbrk(0)` reads the heap's end without moving it.
    fn sbrk(increment: isize) -> *mut libc::c_void;
}

/// Asks for huge pages under glibc's heaps, given an allocation `[p, p + len)` just made.
///
/// - **The main heap** (the program break), for what it has grown by since the last call. glibc
///   serves the main thread's allocations below its mmap threshold from it: the engine's, among
///   them the calendar queue's buckets of up to 16,384 entries, written one entry at a time at
///   the ends of a thousand buckets at once. The heap grows by [`TOP_PAD`] at a time, and each
///   new step is advised before the allocator's callers touch it (the few pages glibc writes
///   first, its chunk headers, keep small pages).
/// - **An arena's heap**, the first time an allocation lands in it. Other threads allocate from
///   arenas of their own (the collecting thread's buffers, about 1 GB at ten million agents; a
///   sweep's or the live twin's simulations on worker threads). An arena's heap is a 64 MiB-
///   aligned reservation of 64 MiB that glibc makes writable as it grows, so it is advised
///   whole, once: the advice stays on the part made writable later.
///
/// This is part of what glibc's own `glibc.malloc.hugetlb=1` tunable does when set in the
/// environment, done here so the binary gets it without one (the tunable does more and is
/// faster still; BENCHMARKS.md, issue 15, twelfth step). Measured: the main heap's advice made
/// scale-1m and scale-10m about 5% faster, the arenas' scale-10m about 1% more; peak memory
/// 1-2% higher. Reading the break is a plain load in glibc, so every allocation may check it.
#[inline]
fn advise_heaps(p: *mut u8, len: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::atomic::Ordering::Relaxed;
        // SAFETY: `sbrk(0)` only reads the current break.
        let brk = unsafe { sbrk(0) } as usize;
        let end = brk & !(HUGE - 1);
        let done = HEAP_ADVISED.load(Relaxed);
        if end != done {
            advise_heap_from(done, end);
        }
        // Above the break and below the mmap threshold: a chunk of an arena's heap (mappings
        // lie above the main heap, and glibc maps a chunk of its own only from the threshold
        // up, or when an arena cannot grow at all).
        if p as usize >= brk && len < MMAP_THRESHOLD && !p.is_null() {
            let heap = p as usize / ARENA_HEAP;
            let (word, bit) = (heap / 64 % ARENAS_SEEN.len(), 1u64 << (heap % 64));
            if ARENAS_SEEN[word].load(Relaxed) & bit == 0 {
                advise_arena_heap(heap * ARENA_HEAP, word, bit);
            }
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = (p, len);
}

/// The size and alignment of a glibc arena's heap (`HEAP_MAX_SIZE`: twice the largest mmap
/// threshold glibc adapts to, on 64-bit systems).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_HEAP: usize = 64 << 20;

/// One bit per 64 MiB of address space (2^21 heaps: the 47 bits of user space), set once its
/// arena heap is advised. 256 KiB of zeroed static memory, of which only the pages holding set
/// bits are ever touched. A heap glibc unmaps and maps again at the same place keeps its bit
/// and is not advised again: it then has the usual pages, which changes no result.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static ARENAS_SEEN: [std::sync::atomic::AtomicU64; 1 << 15] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 1 << 15];

/// The rare part of [`advise_heaps`] for an arena: its heap at `base` is new.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[cold]
#[inline(never)]
fn advise_arena_heap(base: usize, word: usize, bit: u64) {
    use std::sync::atomic::Ordering::Relaxed;
    // Threads may race here: advising a heap twice is harmless.
    ARENAS_SEEN[word].fetch_or(bit, Relaxed);
    // SAFETY: MADV_HUGEPAGE is advice and changes no contents. The range is the heap's whole
    // reservation (mapped, writable or not yet); where it is not (an arena that could not
    // grow mapped a chunk of its own), the call advises the mappings it finds and fails on
    // the rest, and a failure is ignored.
    unsafe {
        libc::madvise(base as *mut libc::c_void, ARENA_HEAP, libc::MADV_HUGEPAGE);
    }
}

/// The rare part of [`advise_heaps`] for the main heap: its end moved from `done` to `end`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[cold]
#[inline(never)]
fn advise_heap_from(done: usize, end: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    // Threads may race here: advising a range twice is harmless.
    HEAP_ADVISED.store(end, Relaxed);
    if done == 0 {
        // The first call: set the heap's parameters, and start from here (what was allocated
        // before this allocator's first call keeps its pages).
        // SAFETY: `mallopt` only sets parameters of glibc's allocator.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM as libc::c_int);
            libc::mallopt(libc::M_TOP_PAD, TOP_PAD as libc::c_int);
        }
        return;
    }
    if end < done {
        // The heap gave memory back: what it grows into again is new and gets advised then.
        return;
    }
    // SAFETY: `[done, end)` lies in the heap's mapping (below the break); MADV_HUGEPAGE is
    // advice and changes no contents. A failure leaves the usual pages and is ignored.
    unsafe {
        libc::madvise(done as *mut libc::c_void, end - done, libc::MADV_HUGEPAGE);
    }
}

/// Asks for huge pages under the whole 2 MiB pages of `[p, p + len)`, when it is large.
#[inline]
fn advise(p: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    if len >= THRESHOLD && !p.is_null() {
        let start = (p as usize).next_multiple_of(HUGE);
        let end = (p as usize + len) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside the allocation just made; MADV_HUGEPAGE is
            // advice and does not change its contents. A failure (an older kernel, THP off)
            // only leaves the usual pages, so the result is ignored.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_small_allocations_work_and_keep_their_contents() {
        let a = HugePages;
        for size in [16, THRESHOLD - 1, THRESHOLD, 3 * THRESHOLD + 12_345] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            // SAFETY: a fresh, non-zero layout; freed below with the same layout.
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert!(std::slice::from_raw_parts(p, size).iter().all(|b| *b == 0));
                p.write_bytes(7, size);
                let q = a.realloc(p, layout, size * 2);
                assert!(!q.is_null());
                assert!(std::slice::from_raw_parts(q, size).iter().all(|b| *b == 7));
                a.dealloc(q, Layout::from_size_align(size * 2, 64).unwrap());
            }
        }
    }
}
