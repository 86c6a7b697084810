//! The collector policy (`monitoring.collectors.policy`): which collector takes a newly
//! registering agent's topic, and whether collectors are retired after a round. One
//! implementation per policy, selected by the plan's `monitoring.collectors.policy`:
//! `agent_count.rs` (Dragonfly's default), `csp.rs` and `fixed.rs`. How many collectors exist at most and at the start is the plan's
//! (`Plan::max_collectors`, `Plan::initial_collectors`). Only registrations, dead topics and
//! rounds call the policy, never a report.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.3 (`monitoring_policy`,
//! `max_host_count`) and 2.4 (the agentCount and csp policies).

use super::Pool;
use crate::monitoring::topics::Topics;

/// Where a retired collector's queued messages go: `requeue(pool, topics, retired)`, called
/// once the retired collector's topics have moved.
pub(super) type Requeue<'r> = dyn FnMut(&mut Pool, &Topics, u32) + 'r;

/// One collector policy.
pub(super) trait CollectorPolicy: Send {
    /// The active collector that takes the topic of a newly registering agent of `provider`
    /// (the caller counts the topic); the policy may start one (`Pool::add`).
    fn assign(&mut self, pool: &mut Pool, provider: u32) -> u32;

    /// A dead agent's topic left collector `c` (the caller has uncounted it).
    fn released(&mut self, _c: u32) {}

    /// After every aggregation round, with `registered` topics (those of `topics` at `site`,
    /// whose collectors these are): retire collectors, highest index first
    /// (`Pool::retire_last`), moving their topics (`Topic::collector`) to the remaining ones
    /// in the order of their agents' ids (`Topics::sort_by_id`), then `requeue` each retired
    /// one. Default: none retired.
    fn scale_in(
        &mut self,
        _pool: &mut Pool,
        _topics: &mut Topics,
        _site: u16,
        _registered: u32,
        _requeue: &mut Requeue<'_>,
    ) {
    }
}
