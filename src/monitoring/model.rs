//! The monitoring pipeline: agents -> network -> collectors -> aggregation rounds -> storage,
//! composed from its parts (`agents.rs`, `collectors/`, `storage.rs`, `series.rs`); this file
//! holds the events, their dispatch, the aggregation round and the on-demand calls.
//!
//! - Agents start `agent_start_delay` after their VM is Running and stop with it; their reports
//!   (push) or answers to the server's polls (pull) arrive at the monitoring site, or are lost.
//! - Each agent's topic is assigned to a collector by the collector policy; a collector serves
//!   its messages first come first served from a finite buffer.
//! - Every collector `interval` each collector aggregates what it processed into one point per
//!   (agent, measurement) and sends the round to storage in batches; agents silent for
//!   `dead_after_rounds` rounds are declared dead (their topic is deleted); the agentCount
//!   policy retires the collectors it no longer needs.
//! - Storage writes the batches; a report is stored when the last batch of its round is
//!   written.
//! - CB-Tumblebug's auto-control calls the agents on demand ([`Monitoring::on_demand`]).
//!
//! Every report is accounted for: sent = stored + dropped + in flight, exactly.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2 (Dragonfly v0.3.x, the Cloud-Twin-era
//! push pipeline, 2.4; pull mode, 2.5; on-demand calls, 2.2).

use super::agents::{Agents, NO_COLLECTOR};
use super::collectors::{Collectors, Msg};
use super::config::{Mode, MonitoringSpec};
use super::events::MonEvent;
use super::plan::{PathDelay, Plan};
pub use super::series::MonitoringCounts;
use super::series::{Series, Snapshot, Totals};
use super::storage::Storage;
use crate::engine::{DurationDist, EntityId, RngFactory, Scheduler, SimDuration, SimRng, SimTime};
use crate::model::{Notice, PlanError, Resolved, Results, SubModel};
use crate::output::{Summary, Table};

/// The server's answers to on-demand calls: one at a time, first come first served.
struct OnDemand {
    service: DurationDist,
    free_at: SimTime,
    rng: SimRng,
}

/// The monitoring model's state.
pub struct Monitoring {
    agents: Agents,
    collectors: Collectors,
    storage: Storage,
    series: Series,
    /// The monitoring server's entity (rounds, polls, storage).
    server: EntityId,
    /// The current aggregation round.
    round: u32,
    round_interval: SimDuration,
    pull_interval: SimDuration,
    dead_after_rounds: u32,
    on_demand: OnDemand,
    pub counts: MonitoringCounts,
    /// Where CB-Dragonfly runs (a cloud joining the run gets its path to it).
    site: crate::topology::Region,
}

impl Monitoring {
    /// Builds the model from its plan and schedules the first aggregation round (and poll).
    pub fn new<E: From<MonEvent> + Copy>(plan: &Plan, sched: &mut Scheduler<E>) -> Self {
        let spec: &MonitoringSpec = &plan.spec;
        let rngs = RngFactory::new(plan.seed);
        let agent_ids = sched.alloc_entities(plan.agents.len() as u32);
        let collector_ids = sched.alloc_entities(plan.max_collectors);
        let server = sched.alloc_entities(1).get(0);
        let m = Monitoring {
            agents: Agents::new(plan, agent_ids, rngs.counter_family("monitoring.agent")),
            collectors: Collectors::new(
                plan,
                collector_ids,
                rngs.counter_family("monitoring.service"),
            ),
            storage: Storage::new(&spec.storage),
            series: Series::new(
                plan.horizon,
                spec.collectors.server_cores,
                spec.report_bytes,
            ),
            server,
            round: 0,
            round_interval: spec.collectors.interval,
            pull_interval: spec.pull_interval,
            dead_after_rounds: spec.collectors.dead_after_rounds.max(1),
            on_demand: OnDemand {
                service: spec.on_demand_service.clone(),
                free_at: SimTime::ZERO,
                rng: rngs.stream("monitoring.on_demand", 0),
            },
            counts: MonitoringCounts::default(),
            site: plan.site.clone(),
        };
        sched.post_at(
            SimTime::ZERO + m.round_interval,
            server,
            MonEvent::Round.into(),
        );
        if spec.mode == Mode::Pull {
            sched.post_at(
                SimTime::ZERO + m.pull_interval,
                server,
                MonEvent::Poll.into(),
            );
        }
        m
    }

    pub fn owns(&self, e: EntityId) -> bool {
        self.agents.owns(e) || self.collectors.owns(e) || e == self.server
    }

    /// The VM of `agent` entered Running: install (first time) or restart its agent.
    pub fn vm_running<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, agent: u32) {
        self.agents.vm_running(sched, agent);
    }

    /// The VM of `agent` left Running: its agent stops (a report already sent still arrives).
    pub fn vm_stopped<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, agent: u32) {
        self.agents.vm_stopped(sched, agent);
    }

    /// Starts loading the state the event will touch (a cache hint, see `engine::hint`).
    #[inline]
    fn prefetch_state(&self, ev: &MonEvent) {
        if let MonEvent::Report { agent, .. } = *ev {
            self.agents.prefetch_report(agent);
        }
    }

    pub fn handle_event<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        ev: MonEvent,
    ) {
        match ev {
            MonEvent::AgentStart { agent } => self.agents.installed(sched, agent),
            MonEvent::Report { agent, epoch } => {
                let now = sched.now();
                let Some(sent_at) = self.agents.report_arrived(sched, agent, epoch) else {
                    return; // withdrawn before it was sent
                };
                self.counts.sent += 1;
                self.arrive(sched, agent, sent_at, now);
            }
            MonEvent::ServiceDone { collector } => {
                self.collectors
                    .service_done(sched, collector, self.round, &mut self.series)
            }
            MonEvent::Round => self.round(sched),
            MonEvent::Poll => {
                // No answer (VM down) or the previous poll is still out: a failed call.
                self.counts.pull_failures += self.agents.poll(sched);
                sched.post_in(self.pull_interval, self.server, MonEvent::Poll.into());
            }
        }
    }

    /// A report reaches the site: lost, or queued at its collector.
    #[inline]
    fn arrive<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
        sent_at: SimTime,
        now: SimTime,
    ) {
        self.series.iv_arrivals += 1;
        if self.agents.lost(agent) {
            self.counts.dropped_network += 1;
            self.series.iv_dropped += 1;
            return;
        }
        let c = match self.agents.all[agent as usize].collector {
            NO_COLLECTOR => {
                let provider = self.agents.provider(agent);
                self.collectors
                    .register(provider, &mut self.agents.all[agent as usize])
            }
            c => c,
        };
        self.agents.heard(agent, self.round);
        self.collectors
            .before_arrival(now, self.round, &mut self.series);
        let msg = Msg {
            agent,
            sent_at,
            arrived: now,
        };
        if !self.collectors.arrive(sched, &mut self.series, c, msg) {
            self.counts.dropped_collector += 1;
            self.series.iv_dropped += 1;
        }
    }

    /// The aggregation round: each collector's round to storage, dead agents, scale-in.
    fn round<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>) {
        let now = sched.now();
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
        self.counts.agents_declared_dead += self.agents.end_round(
            self.round,
            self.dead_after_rounds,
            collectors.registered(),
            |c| collectors.release(c),
        );
        self.round += 1;

        self.collectors
            .after_round(sched, &mut self.agents.all, &mut self.series);
        sched.post_in(self.round_interval, self.server, MonEvent::Round.into());
    }

    /// Applies the collector services computed ahead (see `collectors::inline`) and the
    /// completions kept by the collectors and storage up to `t`.
    fn catch_up(&mut self, t: SimTime, inclusive: bool) {
        self.collectors
            .catch_up(t, inclusive, self.round, &mut self.series);
        self.storage
            .settle(t, inclusive, self.round, &mut self.series, &mut self.counts);
    }

    /// An on-demand monitoring call (CB-Tumblebug's auto-control): when the answer is back at
    /// the caller, and whether the VM's agent could answer (if not, the caller sees an error).
    pub fn on_demand(&mut self, now: SimTime, agent: u32) -> (SimTime, bool) {
        self.counts.on_demand_calls += 1;
        let od = &mut self.on_demand;
        let start = now.max(od.free_at);
        let s = od.service.sample(&mut od.rng);
        od.free_at = start + s;
        let (ok, rtt) = self.agents.on_demand(agent);
        if !ok {
            self.counts.on_demand_failures += 1;
        }
        (start + s + rtt, ok)
    }

    /// Reports sent and not yet stored or dropped (network, queues, rounds, storage).
    pub fn in_flight(&self, now: SimTime) -> u64 {
        self.agents.in_network(now) + self.collectors.held() + self.storage.held()
    }

    /// Reports sent by `now` (arrived or still on the network).
    pub fn sent_by(&self, now: SimTime) -> u64 {
        self.counts.sent + self.agents.in_network(now)
    }

    /// Mean collector wait in seconds and the 95% CI half-width from batch means (first batch
    /// dropped as warm-up).
    pub fn wait_mean_ci(&self) -> (f64, f64) {
        self.series.waits.mean_ci()
    }

    /// Sets where a scale-out VM's agent reports from (its slot was reserved without a cloud).
    pub fn place_agent(&mut self, agent: u32, cloud: u32, provider: u32) {
        self.agents.place(agent, cloud, provider);
    }

    /// Reports that reached the site so far, and the messages collectors hold (queued, in
    /// service or in the current round): for watching a live twin.
    pub fn load_gauges(&self) -> (u64, u64) {
        (self.counts.sent, self.collectors.held())
    }

    /// Whether the VM's agent answers (installed, and its VM Running): CB-Dragonfly's
    /// healthcheck of the agent.
    pub fn agent_up(&self, agent: u32) -> bool {
        self.agents.up(agent)
    }
}

impl Results for Monitoring {
    /// Brings the inline-service accounting up to the end of the run (before summaries).
    fn finish(&mut self, end: SimTime) {
        self.catch_up(end, true);
    }

    fn summarize(&self, sum: &mut Summary, end: SimTime) {
        let totals = Totals {
            sent: self.sent_by(end),
            in_flight: self.in_flight(end),
            collectors_max: self.collectors.most(),
        };
        self.series.summarize(sum, &self.counts, totals);
    }

    fn take_tables(&mut self) -> Vec<Table> {
        vec![self.series.take_table()]
    }
}

impl<E: From<MonEvent> + Copy> SubModel<E> for Monitoring {
    type Event = MonEvent;
    type Peers<'p> = ();

    fn handle(&mut self, sched: &mut Scheduler<E>, ev: MonEvent, _: ()) {
        self.handle_event(sched, ev);
    }

    /// Agents start and stop with their VMs.
    fn notice(&mut self, sched: &mut Scheduler<E>, n: Notice, _: ()) {
        match n {
            Notice::Running { vm, .. } => self.vm_running(sched, vm),
            Notice::Stopped { vm, .. } => self.vm_stopped(sched, vm),
            Notice::Failed { .. } | Notice::CreateGaveUp { .. } | Notice::Deleted { .. } => {}
        }
    }

    fn sample(&mut self, now: SimTime, _: ()) {
        self.catch_up(now, false);
        let snapshot = Snapshot {
            agents_running: self.agents.running(),
            collectors: self.collectors.active(),
            backlogs: self.collectors.backlogs(now),
            storage_backlog_points: self.storage.queued_points(),
        };
        self.series.sample(now, snapshot);
    }

    fn cloud_added(&mut self, world: &Resolved) -> Result<(), PlanError> {
        if let Some(c) = world.clouds.last() {
            self.agents
                .add_path(PathDelay::between(&world.latency, &c.region, &self.site));
        }
        Ok(())
    }

    #[inline]
    fn prefetch(&self, ev: &MonEvent) {
        self.prefetch_state(ev);
    }
}
