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
//! With several sites (`monitoring.site` a list), each runs collectors and storage of its own
//! ([`Site`]): an agent's topic names its site, and the rounds run at the same instants at
//! every site. The counts, the series and the topics are kept once for all of them; what
//! they add up commutes (sums, histograms, batch sums of waits), so they do not depend on
//! the order in which the sites' commands are applied.
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
    /// A collector's service ends (collectors whose completions are engine events); the
    /// collector's index over all sites (see [`Sink::collector_of`]).
    ServiceDone { collector: u32, now: SimTime },
    /// The aggregation round.
    Round { now: SimTime },
    /// The world samples its time series; `agents_running` is the agents' side's gauge.
    Sample { now: SimTime, agents_running: u32 },
    /// A scale-out VM's agent (at `slot`) will report from a cloud of `provider`, to `site`.
    Place { slot: u32, provider: u32, site: u16 },
    /// The run ends at `end`: everything due by then is applied.
    Finish { end: SimTime },
}

/// One site's CB-Dragonfly deployment: its collectors and its storage.
pub(super) struct Site {
    pub(super) collectors: Collectors,
    pub(super) storage: Storage,
    /// Its collectors' first index over all sites (`Plan::max_collectors` of them).
    pub(super) first_collector: u32,
}

/// The collecting side's state.
pub(super) struct Sink {
    /// One per site, in the plan's order.
    pub(super) sites: Vec<Site>,
    pub(super) series: Series,
    topics: Topics,
    /// The current aggregation round.
    round: u32,
    dead_after_rounds: u32,
    pub(super) counts: MonitoringCounts,
}

impl Sink {
    /// The collecting side of `plan`; site `k`'s service streams are `service(k)`.
    pub(super) fn new(plan: &Plan, service: impl Fn(usize) -> CounterFamily) -> Self {
        let spec: &MonitoringSpec = &plan.spec;
        let mut first_collector = 0u32;
        let sites = plan
            .sites
            .iter()
            .enumerate()
            .map(|(k, site)| {
                let s = Site {
                    collectors: Collectors::new(plan, site, service(k)),
                    storage: Storage::new(&spec.storage),
                    first_collector,
                };
                first_collector += site.max_collectors;
                s
            })
            .collect();
        Sink {
            sites,
            series: Series::new(
                plan.horizon,
                plan.sites.len() as u32,
                spec.collectors.server_cores,
                spec.report_bytes,
            ),
            topics: Topics::new(
                plan.agents.iter().map(|a| a.provider).collect(),
                plan.agents.iter().map(|a| plan.site_of(a) as u16),
            ),
            round: 0,
            dead_after_rounds: spec.collectors.dead_after_rounds,
            counts: MonitoringCounts::default(),
        }
    }

    /// The site and the index there of collector `c` (an index over all sites).
    pub(super) fn collector_of(&self, c: u32) -> (usize, u32) {
        let k = self.sites.partition_point(|s| s.first_collector <= c) - 1;
        (k, c - self.sites[k].first_collector)
    }

    /// Whether collectors' services complete as engine events (the queue discipline is the
    /// same at every site).
    pub(super) fn completes_as_events(&self) -> bool {
        self.sites[0].collectors.completes_as_events()
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
                let (k, c) = self.collector_of(collector);
                self.sites[k]
                    .collectors
                    .service_done(now, c, self.round, &mut self.series)
            }
            Cmd::Round { now } => self.round(now),
            Cmd::Sample {
                now,
                agents_running,
            } => self.sample(now, agents_running),
            Cmd::Place {
                slot,
                provider,
                site,
            } => self.topics.place(slot, provider, site),
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
        let topic = self.topics.all[slot as usize];
        let collectors = &mut self.sites[topic.site as usize].collectors;
        let c = match topic.collector {
            NO_COLLECTOR => {
                let provider = self.topics.provider(slot);
                collectors.register(provider, &mut self.topics.all[slot as usize])
            }
            c => c,
        };
        self.topics.heard(slot, self.round);
        collectors.before_arrival(now, self.round, &mut self.series);
        let msg = Msg {
            slot,
            sent_at,
            arrived: now,
        };
        if !collectors.arrive(now, &mut self.series, c, msg) {
            self.counts.dropped_collector += 1;
            self.series.iv_dropped += 1;
        }
    }

    /// The aggregation round, at every site: each collector's round to storage, dead agents,
    /// scale-in.
    fn round(&mut self, now: SimTime) {
        let round = self.round;
        for site in &mut self.sites {
            let Site {
                collectors,
                storage,
                ..
            } = site;
            collectors.catch_up(now, true, round, &mut self.series);
            storage.settle_before_round(now, round, &mut self.series, &mut self.counts);
            for (reports, points) in collectors.take_rounds() {
                let dropped = storage.submit(reports, points);
                self.counts.dropped_storage += dropped;
                self.series.iv_dropped += dropped;
            }
            storage.kick(now, round, &mut self.series);
        }

        // Dead agents: silent for `dead_after_rounds` rounds -> topic deleted.
        let registered = self.sites.iter().map(|s| s.collectors.registered()).sum();
        let sites = &mut self.sites;
        self.counts.agents_declared_dead +=
            self.topics
                .end_round(round, self.dead_after_rounds, registered, |site, c| {
                    sites[site as usize].collectors.release(c)
                });
        self.round += 1;

        for (k, site) in self.sites.iter_mut().enumerate() {
            site.collectors
                .after_round(now, &mut self.topics, k as u16, &mut self.series);
        }
    }

    /// The agents moved to `new_slot[slot]` (`Agents::lay_out`, between this command and the
    /// next): the per-agent tables and the messages held move with them.
    pub(super) fn lay_out(&mut self, new_slot: &[u32]) {
        self.topics.lay_out(new_slot);
        for site in &mut self.sites {
            site.collectors.lay_out(new_slot);
        }
    }

    /// Applies the collector services computed ahead (see `collectors::inline`) and the
    /// completions kept by the collectors and storage up to `t`.
    fn catch_up(&mut self, t: SimTime, inclusive: bool) {
        for site in &mut self.sites {
            site.collectors
                .catch_up(t, inclusive, self.round, &mut self.series);
            site.storage
                .settle(t, inclusive, self.round, &mut self.series, &mut self.counts);
        }
    }

    /// One row of `monitoring.csv` (the sampler comes first at its instant).
    fn sample(&mut self, now: SimTime, agents_running: u32) {
        self.catch_up(now, false);
        let snapshot = Snapshot {
            agents_running,
            collectors: self.sites.iter().map(|s| s.collectors.active()).sum(),
            backlogs: self
                .sites
                .iter()
                .flat_map(|s| s.collectors.backlogs(now))
                .collect(),
            storage_backlog_points: self.sites.iter().map(|s| s.storage.queued_points()).sum(),
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
        self.sites
            .iter()
            .map(|s| s.collectors.held() + s.storage.held())
            .sum()
    }

    /// Messages the collectors hold, at every site (queued, in service or in the current
    /// round).
    pub(super) fn collectors_held(&self) -> u64 {
        self.sites.iter().map(|s| s.collectors.held()).sum()
    }

    /// The most collectors in service at once, summed over the sites (each site's most).
    pub(super) fn collectors_most(&self) -> u32 {
        self.sites.iter().map(|s| s.collectors.most()).sum()
    }
}

#[cfg(test)]
impl Sink {
    /// Each site's topics are on that site's active collectors, and each collector counts
    /// exactly its own (tests).
    pub(super) fn check_sites(&self) {
        for (k, site) in self.sites.iter().enumerate() {
            let mut on = vec![0u32; site.collectors.active() as usize];
            for t in &self.topics.all {
                if usize::from(t.site) == k && t.collector != NO_COLLECTOR {
                    let c = t.collector as usize;
                    assert!(
                        c < on.len(),
                        "site {k}: a topic on collector {c}, not active"
                    );
                    on[c] += 1;
                }
            }
            assert_eq!(
                on.iter().sum::<u32>(),
                site.collectors.registered(),
                "site {k}: its registered topics"
            );
            for (c, n) in on.iter().enumerate() {
                assert_eq!(
                    *n,
                    site.collectors.topics_of(c as u32),
                    "site {k}, collector {c}"
                );
            }
        }
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
