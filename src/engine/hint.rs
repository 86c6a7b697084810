//! Cache hints. Correctness never depends on them: they only tell the CPU to start loading
//! memory that an event a few places further down the event list will touch, so the load
//! overlaps with the work on the events before it (at a million agents, each report otherwise
//! waits ~100 ns for its agent's state to arrive from memory).

/// Asks the CPU to bring the cache line holding `value` into cache.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `prefetcht0` is a hint: it never faults and never reads into the program;
        // the pointer comes from a live reference anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (value as *const T).cast::<i8>(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// [`prefetch`] for a value that may straddle two cache lines: its first and last bytes.
#[inline(always)]
pub fn prefetch_span<T>(value: &T) {
    prefetch(value);
    if std::mem::size_of::<T>() > 1 {
        let last = (value as *const T)
            .cast::<u8>()
            .wrapping_add(std::mem::size_of::<T>() - 1);
        // SAFETY: `last` is the value's own last byte.
        prefetch(unsafe { &*last });
    }
}
