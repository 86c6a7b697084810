//! The agentCount collector policy (Dragonfly's default): at most `max_host_count` topics per
//! collector. A new topic goes to the first active collector with room, or to a new collector
//! if none has; after every aggregation round the collectors beyond
//! ceil(topics / `max_host_count`) (at least one) are retired, highest index first, their
//! topics moved to the first collectors with room and their queued messages with them.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.4 (agentCount: `collectorCount =
//! ceil(#topics / max_host_count)`, 0 topics -> 1; add to the first collector with fewer than
//! `max_host_count`, else a new one; scale-in stops the highest-index collector) and 2.3
//! (`max_host_count` 5, 10 in v0.2.0).

use super::Pool;
use super::policy::{CollectorPolicy, Requeue};
use crate::monitoring::topics::{NO_COLLECTOR, Topics};

pub(super) struct AgentCount {
    /// Topics per collector (`max_host_count`, at least 1).
    max: u32,
    /// Every active collector below this index is full.
    room_from: u32,
}

impl AgentCount {
    pub(super) fn new(max_host_count: u32) -> Self {
        AgentCount {
            max: max_host_count.max(1),
            room_from: 0,
        }
    }

    /// The first active collector with fewer than `max` topics. Collectors below `room_from`
    /// are known to be full, so registering a million agents does not rescan the full ones
    /// each time.
    fn first_with_room(&mut self, pool: &Pool) -> Option<u32> {
        let active = pool.active();
        let found = (self.room_from.min(active)..active).find(|c| pool.topics(*c) < self.max);
        self.room_from = found.unwrap_or(active);
        found
    }
}

impl CollectorPolicy for AgentCount {
    fn assign(&mut self, pool: &mut Pool, _provider: u32) -> u32 {
        match self.first_with_room(pool) {
            Some(c) => c,
            None => {
                let c = pool.add();
                self.room_from = c;
                c
            }
        }
    }

    fn released(&mut self, c: u32) {
        self.room_from = self.room_from.min(c);
    }

    fn scale_in(
        &mut self,
        pool: &mut Pool,
        topics: &mut Topics,
        site: u16,
        registered: u32,
        requeue: &mut Requeue<'_>,
    ) {
        let target = registered.div_ceil(self.max).max(1);
        let active = pool.active();
        // The topics of every retired collector, found in one pass over all of them.
        let mut moved: Vec<Vec<u32>> = vec![Vec::new(); active.saturating_sub(target) as usize];
        if !moved.is_empty() {
            for (slot, a) in topics.all.iter().enumerate() {
                if a.collector != NO_COLLECTOR
                    && a.site == site
                    && a.collector >= target
                    && a.collector < active
                {
                    moved[(a.collector - target) as usize].push(slot as u32);
                }
            }
            // Which topic goes where follows the agents' ids, not where they live.
            for slots in &mut moved {
                topics.sort_by_id(slots);
            }
        }
        while pool.active() > target {
            let gone = pool.retire_last();
            for a in std::mem::take(&mut moved[(gone - target) as usize]) {
                // There is room below `target`: it holds ceil(topics / max) collectors.
                let to = self.first_with_room(pool).unwrap_or(0);
                pool.add_topic(to);
                topics.all[a as usize].collector = to;
            }
            requeue(pool, topics, gone);
        }
    }
}
