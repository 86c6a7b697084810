//! The collecting side of the monitoring pipeline: topics, collectors, aggregation rounds,
//! storage and the series, driven by [`Cmd`]s in the engine's order. The agents' side
//! (`model.rs`, `agents.rs`) turns each event that reaches the site into a command; nothing on
//! this side feeds back into the agents or the rest of the world during a run, and it needs no
//! scheduler (collectors and storage keep their own completions), so it can run on a thread
//! of its own (`pipe.rs`) with the same results: it sees the same commands in the same order.
//! Only collectors whose services complete as engine events (the plain per-collector and
//! shared queues) return work for the engine, in their outbox; those runs keep this side on
//! the engine's thread.
//!
//! The per-agent tables (topics, the rounds' marks) are kept by the agent's slot, in the
//! agents' order: when the agents are laid out in report order, a [`Sink::lay_out`] in the
//! commands' order moves these tables the same way (see `slots.rs`).
//!
//! Sources: as `model.rs` (`../shared/domain/cloud-barista.md` section 2.4).

use super::collectors::{Collectors, Msg};
use super::config::MonitoringSpec;
use super::plan::Plan;
use super::series::{MonitoringCounts, Series, Snapshot};
use super::storage::Storage;
use super::topics::{NO_COLLECTOR, Topics};
use crate::engine::{CounterFamily, SimTime};

/// What happens at the monitoring site, in the engine's order.
#[derive(Copy, Clone, Debug)]
pub(super) enum Cmd {
    /// A report (or a poll's answer) of the agent at `slot`, sent at `sent_at`, reaches the
    /// site at `now`; `lost` on the network.
    Arrive {
        slot: u32,
        lost: bool,
        sent_at: SimTime,
        now: SimTime,
    },
    /// A collector's service ends (collectors whose completions are engine events).
    ServiceDone { collector: u32, now: SimTime },
    /// The aggregation round.
    Round { now: SimTime },
    /// The world samples its time series; `agents_running` is the agents' side's gauge.
    Sample { now: SimTime, agents_running: u32 },
    /// A scale-out VM's agent (at `slot`) will report from a cloud of `provider`.
    Place { slot: u32, provider: u32 },
    /// The run ends at `end`: everything due by then is applied.
    Finish { end: SimTime },
}

/// The collecting side's state.
pub(super) struct Sink {
    pub(super) collectors: Collectors,
    pub(super) storage: Storage,
    pub(super) series: Series,
    topics: Topics,
    /// The current aggregation round.
    round: u32,
    dead_after_rounds: u32,
    pub(super) counts: MonitoringCounts,
}

impl Sink {
    pub(super) fn new(plan: &Plan, service: CounterFamily) -> Self {
        let spec: &MonitoringSpec = &plan.spec;
        Sink {
            collectors: Collectors::new(plan, service),
            storage: Storage::new(&spec.storage),
            series: Series::new(
                plan.horizon,
                spec.collectors.server_cores,
                spec.report_bytes,
            ),
            topics: Topics::new(plan.agents.iter().map(|a| a.provider).collect()),
            round: 0,
            dead_after_rounds: spec.collectors.dead_after_rounds,
            counts: MonitoringCounts::default(),
        }
    }

    /// Applies one command.
    #[inline]
    pub(super) fn apply(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Arrive {
                slot,
                lost,
                sent_at,
                now,
            } => self.arrive(slot, lost, sent_at, now),
            Cmd::ServiceDone { collector, now } => {
                self.collectors
                    .service_done(now, collector, self.round, &mut self.series)
            }
            Cmd::Round { now } => self.round(now),
            Cmd::Sample {
                now,
                agents_running,
            } => self.sample(now, agents_running),
            Cmd::Place { slot, provider } => self.topics.place(slot, provider),
            Cmd::Finish { end } => self.catch_up(end, true),
        }
    }

    /// A report of the agent at `slot` reaches the site: lost, or queued at its collector.
    #[inline(always)]
    pub(super) fn arrive(&mut self, slot: u32, lost: bool, sent_at: SimTime, now: SimTime) {
        self.counts.sent += 1;
        self.series.iv_arrivals += 1;
        if lost {
            self.counts.dropped_network += 1;
            self.series.iv_dropped += 1;
            return;
        }
        let c = match self.topics.all[slot as usize].collector {
            NO_COLLECTOR => {
                let provider = self.topics.provider(slot);
                self.collectors
                    .register(provider, &mut self.topics.all[slot as usize])
            }
            c => c,
        };
        self.topics.heard(slot, self.round);
        self.collectors
            .before_arrival(now, self.round, &mut self.series);
        let msg = Msg {
            slot,
            sent_at,
            arrived: now,
        };
        if !self.collectors.arrive(now, &mut self.series, c, msg) {
            self.counts.dropped_collector += 1;
            self.series.iv_dropped += 1;
        }
    }

    /// The aggregation round: each collector's round to storage, dead agents, scale-in.
    fn round(&mut self, now: SimTime) {
        self.collectors
            .catch_up(now, true, self.round, &mut self.series);
        self.storage
            .settle_before_round(now, self.round, &mut self.series, &mut self.counts);
        for (reports, points) in self.collectors.take_rounds() {
            let dropped = self.storage.submit(reports, points);
            self.counts.dropped_storage += dropped;
            self.series.iv_dropped += dropped;
        }
        self.storage.kick(now, self.round, &mut self.series);

        // Dead agents: silent for `dead_after_rounds` rounds -> topic deleted.
        let collectors = &mut self.collectors;
        self.counts.agents_declared_dead += self.topics.end_round(
            self.round,
            self.dead_after_rounds,
            collectors.registered(),
            |c| collectors.release(c),
        );
        self.round += 1;

        self.collectors
            .after_round(now, &mut self.topics, &mut self.series);
    }

    /// The agents moved to `new_slot[slot]` (`Agents::lay_out`, between this command and the
    /// next): the per-agent tables and the messages held move with them.
    pub(super) fn lay_out(&mut self, new_slot: &[u32]) {
        self.topics.lay_out(new_slot);
        self.collectors.lay_out(new_slot);
    }

    /// Applies the collector services computed ahead (see `collectors::inline`) and the
    /// completions kept by the collectors and storage up to `t`.
    fn catch_up(&mut self, t: SimTime, inclusive: bool) {
        self.collectors
            .catch_up(t, inclusive, self.round, &mut self.series);
        self.storage
            .settle(t, inclusive, self.round, &mut self.series, &mut self.counts);
    }

    /// One row of `monitoring.csv` (the sampler comes first at its instant).
    fn sample(&mut self, now: SimTime, agents_running: u32) {
        self.catch_up(now, false);
        let snapshot = Snapshot {
            agents_running,
            collectors: self.collectors.active(),
            backlogs: self.collectors.backlogs(now),
            storage_backlog_points: self.storage.queued_points(),
        };
        self.series.sample(now, snapshot);
    }

    /// Starts loading what `cmd` will touch (its report's topic; see `engine::hint`).
    #[inline]
    pub(super) fn prefetch(&self, cmd: &Cmd) {
        if let Cmd::Arrive { slot, .. } = *cmd {
            self.prefetch_topic(slot);
        }
    }

    /// Starts loading the topic a report of the agent at `slot` will touch (see
    /// `engine::hint`).
    #[inline]
    pub(super) fn prefetch_topic(&self, slot: u32) {
        if let Some(t) = self.topics.all.get(slot as usize) {
            crate::engine::hint::prefetch(t);
        }
    }

    /// Reports at the collectors and in storage (queued, in service, in a round, being written).
    pub(super) fn held(&self) -> u64 {
        self.collectors.held() + self.storage.held()
    }
}

#[cfg(test)]
mod tests {
    /// Commands travel by the thousand between threads: keep them small.
    #[test]
    fn commands_stay_small() {
        assert!(std::mem::size_of::<super::Cmd>() <= 24);
    }
}
