//! Each agent's topic at the monitoring site: the collector it belongs to and the rounds its
//! agent was heard in. Agents silent for `dead_after_rounds` rounds are declared dead and
//! their topic is deleted (the collecting side's view of an agent; the agent itself, its
//! reports and its network live in `agents.rs`).
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
}

pub(super) const NO_COLLECTOR: u32 = u32::MAX;
const NO_ROUND: u32 = u32::MAX;

impl Default for Topic {
    fn default() -> Self {
        Topic {
            collector: NO_COLLECTOR,
            last_round_seen: NO_ROUND,
            silent_rounds: 0,
        }
    }
}

/// The topics of every agent slot.
pub(super) struct Topics {
    pub(super) all: Vec<Topic>,
    /// Agents with a topic heard from in the current round.
    seen_in_round: u32,
}

impl Topics {
    pub(super) fn new(agents: usize) -> Self {
        Topics {
            all: vec![Topic::default(); agents],
            seen_in_round: 0,
        }
    }

    /// A report of the agent (which has a topic) reached its collector in `round`.
    #[inline]
    pub(super) fn heard(&mut self, agent: u32, round: u32) {
        let t = &mut self.all[agent as usize];
        if t.last_round_seen != round {
            t.last_round_seen = round;
            t.silent_rounds = 0;
            self.seen_in_round += 1;
        }
    }

    /// Ends aggregation round `round`: every agent with a topic not heard from in it has been
    /// silent one more round, and after `dead_after` silent rounds it is declared dead and its
    /// topic deleted (`release` gets the topic's collector). Returns the agents declared dead.
    pub(super) fn end_round(
        &mut self,
        round: u32,
        dead_after: u32,
        registered: u32,
        mut release: impl FnMut(u32),
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
                release(c);
                dead += 1;
            }
        }
        dead
    }
}
