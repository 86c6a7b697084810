//! The csp collector policy: one collector per provider of the scenario (Dragonfly's csp
//! policy has one per CSP it knows; here the scenario's providers), a topic going to its
//! provider's collector. The set never changes.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.4 (csp policy: fixed collectors, one
//! per CSP, topic routed by its `_<CSP>` suffix).

use super::Pool;
use super::policy::CollectorPolicy;
use std::num::NonZeroU32;

pub(super) struct Csp {
    /// Collectors: one per provider (`Plan::initial_collectors`).
    collectors: NonZeroU32,
}

impl Csp {
    pub(super) fn new(collectors: NonZeroU32) -> Self {
        Csp { collectors }
    }
}

impl CollectorPolicy for Csp {
    fn assign(&mut self, _pool: &mut Pool, provider: u32) -> u32 {
        provider % self.collectors
    }
}
