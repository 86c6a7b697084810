//! The monitoring model's events: what happens to an agent, a collector, the aggregation
//! round, storage and the poller. A leaf module: every part schedules these.

/// Monitoring events.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MonEvent {
    /// The agent is installed and starts reporting.
    AgentStart { agent: u32 },
    /// The agent's report in flight arrives at the monitoring site (ignored unless `epoch`
    /// is still the agent's: see `agents::Agent::epoch`).
    Report { agent: u32, epoch: u32 },
    /// A collector finished one message.
    ServiceDone { collector: u32 },
    /// Aggregation round, dead-agent detection and collector rebalancing.
    Round,
    /// Pull mode: the server polls every agent.
    Poll,
}
