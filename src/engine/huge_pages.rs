//! An allocator that asks Linux for 2 MiB pages under large allocations.
//!
//! At a million agents and more, the model's state (agents, event slots, the calendar's
//! buckets) is hundreds of megabytes touched at random, one event at a time. With 4 KiB pages
//! nearly every such touch also misses the TLB, and the page walk's own loads miss the cache:
//! a profile of scale-1m put half of the run loop's time on the prefetch of the next event's
//! agent. Transparent huge pages cover 512 times more memory per TLB entry, but where the
//! kernel's policy is `madvise` (Debian's default) only memory that asked for them gets them.
//! [`HugePages`] is the system allocator plus that request (`madvise(MADV_HUGEPAGE)`) for every
//! allocation of at least [`THRESHOLD`] bytes; smaller ones are untouched. It changes where
//! memory lives, never what the simulation computes.
//!
//! The binary installs it (`#[global_allocator]` in `src/main.rs`); the library does not, so
//! programs that embed it keep their own allocator.

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations at least this large ask for huge pages (smaller ones would gain little and
/// could cost up to a 2 MiB page each).
pub const THRESHOLD: usize = 4 << 20;

/// The system allocator, with huge pages asked for under large allocations (Linux only;
/// elsewhere it is the system allocator).
pub struct HugePages;

// SAFETY: every call is forwarded to `System` with the caller's arguments; the only addition
// is an advice on memory the allocation owns, which never changes its contents or validity.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the same as `System`'s.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
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
        p
    }
}

/// Asks for huge pages under the whole 2 MiB pages of `[p, p + len)`, when it is large.
#[inline]
fn advise(p: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    if len >= THRESHOLD && !p.is_null() {
        const HUGE: usize = 2 << 20;
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
