//! Which agents' points have been counted in the current aggregation round: a bit per agent,
//! cleared when the round changes. A report's points count once per round (Dragonfly
//! aggregates one value per agent and measurement per interval, `../shared/domain/
//! cloud-barista.md` section 2.4), however many of its reports the collectors process.
//!
//! The mark lives here, not in the agent's state, so a collector's completion touches no
//! agent at all: at ten million agents a random agent line is a trip to memory, while the
//! bits (1.25 MB) stay in cache.

/// A bit per agent, valid for `round`.
#[derive(Default)]
pub(super) struct RoundPoints {
    round: u32,
    bits: Vec<u64>,
}

impl RoundPoints {
    /// True the first time `agent` is seen in `round`. Rounds never go back: a new round
    /// clears every mark.
    #[inline]
    pub(super) fn first_in(&mut self, agent: u32, round: u32) -> bool {
        if round != self.round {
            debug_assert!(round > self.round, "rounds go forward");
            self.bits.fill(0);
            self.round = round;
        }
        let (word, bit) = ((agent / 64) as usize, 1u64 << (agent % 64));
        if word >= self.bits.len() {
            // Agents are added with their clouds (a live twin); grow with them.
            self.bits.resize(word + 1, 0);
        }
        let first = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        first
    }

    /// Starts loading `agent`'s bit (a cache hint).
    #[inline]
    pub(super) fn prefetch(&self, agent: u32) {
        if let Some(w) = self.bits.get((agent / 64) as usize) {
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
}
