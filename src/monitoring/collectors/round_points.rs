//! Which agents' points have been counted in the current aggregation round: a bit per agent,
//! cleared when the round changes. A report's points count once per round (Dragonfly
//! aggregates one value per agent and measurement per interval, `../shared/domain/
//! cloud-barista.md` section 2.4), however many of its reports the collectors process.
//!
//! The mark lives here, not in the agent's state, so a collector's completion touches no
//! agent at all: at ten million agents a random agent line is a trip to memory, while the
//! bits (1.25 MB) stay in cache.

/// A bit per agent, by its slot (`slots.rs`), valid for `round`.
#[derive(Default)]
pub(super) struct RoundPoints {
    round: u32,
    bits: Vec<u64>,
}

impl RoundPoints {
    /// True the first time the agent at `slot` is seen in `round`. Rounds never go back: a new round
    /// clears every mark.
    #[inline]
    pub(super) fn first_in(&mut self, slot: u32, round: u32) -> bool {
        if round != self.round {
            debug_assert!(round > self.round, "rounds go forward");
            self.bits.fill(0);
            self.round = round;
        }
        let (word, bit) = ((slot / 64) as usize, 1u64 << (slot % 64));
        if word >= self.bits.len() {
            // Agents are added with their clouds (a live twin); grow with them.
            self.bits.resize(word + 1, 0);
        }
        let first = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        first
    }

    /// The agents moved to `new_slot[slot]` (see `slots.rs`): their marks move with them.
    pub(super) fn lay_out(&mut self, new_slot: &[u32]) {
        let mut bits = vec![0u64; self.bits.len().max(new_slot.len().div_ceil(64))];
        for (word, &w) in self.bits.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let old = word * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                let new = new_slot[old] as usize;
                bits[new / 64] |= 1 << (new % 64);
            }
        }
        self.bits = bits;
    }

    /// Starts loading the bit of the agent at `slot` (a cache hint).
    #[inline]
    pub(super) fn prefetch(&self, slot: u32) {
        if let Some(w) = self.bits.get((slot / 64) as usize) {
            crate::engine::hint::prefetch(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RoundPoints;

    #[test]
    fn once_per_agent_and_round() {
        let mut r = RoundPoints::default();
        assert!(r.first_in(3, 0));
        assert!(!r.first_in(3, 0));
        assert!(r.first_in(64, 0), "another word");
        assert!(r.first_in(1_000, 0), "grows on demand");
        assert!(!r.first_in(1_000, 0));
        assert!(r.first_in(3, 1), "a new round clears the marks");
        assert!(r.first_in(1_000, 1));
        assert!(!r.first_in(3, 1));
        assert!(r.first_in(3, 7), "rounds may be skipped");
        assert!(r.first_in(64, 7));
    }

    #[test]
    fn marks_move_with_their_agents() {
        let mut r = RoundPoints::default();
        for slot in [0, 5, 64, 69] {
            assert!(r.first_in(slot, 2));
        }
        // 130 slots, reversed.
        let new_slot: Vec<u32> = (0..130).rev().collect();
        r.lay_out(&new_slot);
        for slot in [129, 124, 65, 60] {
            assert!(!r.first_in(slot, 2), "slot {slot} was marked");
        }
        for slot in [0, 5, 64, 69, 128] {
            assert!(r.first_in(slot, 2), "slot {slot} was not");
        }
    }
}
