//! The fixed collector policy: `count` collectors for the whole run; a topic goes to the
//! collector with the fewest topics, the lowest index among equals.
//!
//! Sources: a simulator option for sizing studies, not one of Dragonfly's policies (those are
//! agentCount and csp: `../shared/domain/cloud-barista.md` sections 2.3 and 2.4).

use super::Pool;
use super::policy::CollectorPolicy;

pub(super) struct Fixed;

impl CollectorPolicy for Fixed {
    fn assign(&mut self, pool: &mut Pool, _provider: u32) -> u32 {
        // Collector 0 always exists (a pool is never empty).
        (1..pool.active()).fold(0, |best, c| {
            if pool.topics(c) < pool.topics(best) {
                c
            } else {
                best
            }
        })
    }
}
