//! Each agent's topic at the monitoring site: the collector it belongs to and the rounds its
//! agent was heard in. Agents silent for `dead_after_rounds` rounds are declared dead and
//! their topic is deleted (the collecting side's view of an agent; the agent itself, its
//! reports and its network live in `agents.rs`). Topics are kept by the agent's slot, in the
//! agents' order (`slots.rs`).
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.2 (topics) and 2.4 (dead-agent
//! detection).

/// One agent's topic.
#[derive(Copy, Clone, Debug)]
pub(super) struct Topic {
    /// The topic's collector, or `NO_COLLECTOR`.
    pub(super) collector: u32,
    /// Last round in which a report of this agent arrived.
    last_round_seen: u32,
    pub(super) silent_rounds: u16,
    /// The site the agent reports to (in the line's padding: a topic stays 12 bytes).
    pub(super) site: u16,
}

pub(super) const NO_COLLECTOR: u32 = u32::MAX;
const NO_ROUND: u32 = u32::MAX;

impl Default for Topic {
    fn default() -> Self {
        Topic {
            collector: NO_COLLECTOR,
            last_round_seen: NO_ROUND,
            silent_rounds: 0,
            site: 0,
        }
    }
}

/// The topics of every agent slot.
pub(super) struct Topics {
    /// By slot.
    pub(super) all: Vec<Topic>,
    /// Provider index of each slot's agent (the csp policy's collector; a topic's name ends in
    /// its CSP).
    providers: Vec<u32>,
    /// Each slot's agent id; empty while slots are ids (before the first layout).
    ids: Vec<u32>,
    /// Agents with a topic heard from in the current round.
    seen_in_round: u32,
}

impl Topics {
    /// The topics of agents of `providers` reporting to `sites` (both by id), none
    /// registered yet.
    pub(super) fn new(providers: Vec<u32>, sites: impl Iterator<Item = u16>) -> Self {
        let all: Vec<Topic> = sites
            .map(|site| Topic {
                site,
                ..Topic::default()
            })
            .collect();
        assert_eq!(
            all.len(),
            providers.len(),
            "a site and a provider per agent"
        );
        Topics {
            all,
            providers,
            ids: Vec::new(),
            seen_in_round: 0,
        }
    }

    /// The provider of the agent at `slot`.
    #[inline]
    pub(super) fn provider(&self, slot: u32) -> u32 {
        self.providers[slot as usize]
    }

    /// The agent at `slot` (a scale-out VM's, with no topic yet) reports from a cloud of
    /// `provider`, to `site`.
    pub(super) fn place(&mut self, slot: u32, provider: u32, site: u16) {
        self.providers[slot as usize] = provider;
        let t = &mut self.all[slot as usize];
        debug_assert_eq!(t.collector, NO_COLLECTOR, "placed before it reports");
        t.site = site;
    }

    /// Moves each slot's topic to `new_slot[slot]` (see `slots.rs`).
    pub(super) fn lay_out(&mut self, new_slot: &[u32]) {
        if self.ids.is_empty() {
            self.ids = (0..self.all.len() as u32).collect();
        }
        let Topics {
            all,
            providers,
            ids,
            ..
        } = self;
        super::slots::permute(new_slot, |i, j| {
            all.swap(i, j);
            providers.swap(i, j);
            ids.swap(i, j);
        });
    }

    /// Puts `slots` in the order of their agents' ids (where an order between agents decides
    /// a result, it is the ids', wherever the agents live).
    pub(super) fn sort_by_id(&self, slots: &mut [u32]) {
        if !self.ids.is_empty() {
            slots.sort_unstable_by_key(|&s| self.ids[s as usize]);
        }
    }

    /// A report of the agent at `slot` (which has a topic) reached its collector in `round`.
    #[inline]
    pub(super) fn heard(&mut self, slot: u32, round: u32) {
        let t = &mut self.all[slot as usize];
        if t.last_round_seen != round {
            t.last_round_seen = round;
            t.silent_rounds = 0;
            self.seen_in_round += 1;
        }
    }

    /// Ends aggregation round `round`: every agent with a topic not heard from in it has been
    /// silent one more round, and after `dead_after` silent rounds it is declared dead and its
    /// topic deleted (`release` gets the topic's site and collector, in slot order: releases
    /// commute). Returns the agents declared dead.
    pub(super) fn end_round(
        &mut self,
        round: u32,
        dead_after: u32,
        registered: u32,
        mut release: impl FnMut(u16, u32),
    ) -> u64 {
        // Nothing to do when every registered agent was heard from (the usual case): skip the
        // pass over all agents.
        let all_seen = self.seen_in_round == registered;
        self.seen_in_round = 0;
        let topics: &mut [Topic] = if all_seen { &mut [] } else { &mut self.all };
        let mut dead = 0;
        for t in topics.iter_mut() {
            let c = t.collector;
            if c == NO_COLLECTOR || t.last_round_seen == round {
                continue;
            }
            t.silent_rounds = t.silent_rounds.saturating_add(1);
            if t.silent_rounds as u32 >= dead_after {
                t.collector = NO_COLLECTOR;
                release(t.site, c);
                dead += 1;
            }
        }
        dead
    }
}

#[cfg(test)]
mod tests {
    /// A million topics are touched one report at a time: the site rides in the padding.
    #[test]
    fn a_topic_stays_twelve_bytes() {
        assert_eq!(std::mem::size_of::<super::Topic>(), 12);
    }
}
