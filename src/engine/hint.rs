//! Cache hints. Correctness never depends on them: they only tell the CPU to start loading
//! memory that an event a few places further down the event list will touch, so the load
//! overlaps with the work on the events before it (at a million agents, each report otherwise
//! waits ~100 ns for its agent's state to arrive from memory).

/// Asks the CPU to bring the cache line holding `value` into cache.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    prefetch_line((value as *const T).cast::<u8>());
}

/// [`prefetch`] for a value that may straddle two cache lines: the lines of its first and its
/// last byte.
#[inline(always)]
pub fn prefetch_span<T>(value: &T) {
    let first = (value as *const T).cast::<u8>();
    prefetch_line(first);
    if std::mem::size_of::<T>() > 1 {
        prefetch_line(first.wrapping_add(std::mem::size_of::<T>() - 1));
    }
}

#[inline(always)]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `prefetcht0` is a hint: it never faults and never reads into the program,
        // whatever the address (the callers' come from live references anyway).
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
