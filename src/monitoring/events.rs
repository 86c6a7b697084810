//! The monitoring model's events: what happens to an agent, a collector, the aggregation
//! round, storage and the poller. A leaf module: every part schedules these.

/// Monitoring events.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MonEvent {
    /// The agent is installed and starts reporting.
    AgentStart { agent: u32 },
    /// The report in flight of the agent at `slot` (its place in `agents::Agents`, not its
    /// id: the agents are laid out in the order of their reports) arrives at the monitoring
    /// site (ignored unless `epoch` is still the agent's: see `agents::Agent::epoch`).
    Report { slot: u32, epoch: u32 },
    /// A collector finished one message.
    ServiceDone { collector: u32 },
    /// Aggregation round, dead-agent detection and collector rebalancing.
    Round,
    /// Pull mode: the server polls every agent.
    Poll,
}

/// The world's event type seen as a monitoring event, in place: the agents rename the slots
/// their pending reports point at when they move (`agents::Agents::lay_out`).
pub trait AsMonEvent {
    fn as_mon_event(&mut self) -> Option<&mut MonEvent>;
}
