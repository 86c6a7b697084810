//! The radix sort of a calendar window's keys (see `Calendar::load_sorted`): plain moves where
//! a comparison sort of a thousand keys branches on every compare.

/// Sorts `keys` stably by their bits from `from` up to `to` (the bits above `to` are zero),
/// ascending: least significant byte first, one counting pass for every byte, `scratch` the
/// second buffer. A window's keys are unique integers of 30-40 bits, its entries' offsets
/// above their indices; built in index order, they need sorting by the offset only, 3-4 passes
/// of plain moves where a comparison sort of a thousand keys (a tenth of the engine's thread)
/// branches on every compare. A byte every key shares is skipped.
pub(super) fn radix_sort(keys: &mut Vec<u64>, scratch: &mut Vec<u64>, from: u32, to: u32) {
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
}
