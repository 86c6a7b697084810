//! The monitoring pipeline: agents -> network -> collectors -> aggregation rounds -> storage,
//! composed from its parts (`agents.rs`, `collectors/`, `storage.rs`, `series.rs`). This file
//! holds the events and their dispatch and the on-demand calls; what reaches the monitoring
//! site goes, as commands in the engine's order, to the collecting side (`sink.rs`: topics,
//! collectors, the aggregation round, storage), which runs on the engine's thread or on its
//! own (`pipe.rs`, [`Monitoring::run_apart`]) with the same results.
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
//! With several sites (`monitoring.site` a list), each cloud's agents report to the nearest,
//! which runs collectors, storage and an on-demand server of its own.
//!
//! Every report is accounted for: sent = stored + dropped + in flight, exactly.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2 (Dragonfly v0.3.x, the Cloud-Twin-era
//! push pipeline, 2.4; pull mode, 2.5; on-demand calls, 2.2).

use super::agents::Agents;
use super::config::Mode;
use super::events::{AsMonEvent, MonEvent};
use super::pipe::{Pipe, PipeWaits, WaitClock};
use super::plan::Plan;
pub use super::series::MonitoringCounts;
use super::series::Totals;
use super::sink::{Cmd, Sink};
use crate::engine::{
    DurationDist, EntityId, EntityRange, RngFactory, Scheduler, SimDuration, SimRng, SimTime,
};
use crate::model::{Notice, PlanError, Resolved, Results, SubModel};
use crate::output::{Summary, Table};

/// The server's answers to on-demand calls: one at a time, first come first served.
struct OnDemand {
    service: DurationDist,
    free_at: SimTime,
    rng: SimRng,
}

/// The contract of [`Results`]: a run's results are read after its `finish`, which takes the
/// collecting side back from its thread.
const AFTER_FINISH: &str = "a run's results are read after its finish()";

/// Where the collecting side runs.
enum Link {
    /// On the engine's thread: each command is applied as it is sent.
    Here(Box<Sink>),
    /// On its own thread (until the run's `finish`).
    Apart(Pipe),
    /// Only while moving from one to the other.
    Moving,
}

/// The monitoring model's state.
pub struct Monitoring {
    agents: Agents,
    /// The collecting side: topics, collectors, rounds, storage, series.
    link: Link,
    /// The collectors' entities (their completions, when those are engine events).
    collector_ids: EntityRange,
    /// The monitoring server's entity (rounds, polls).
    server: EntityId,
    round_interval: SimDuration,
    pull_interval: SimDuration,
    /// One server per site.
    on_demand: Vec<OnDemand>,
    /// The agents' side's own counts: failed polls and on-demand calls (the collecting side
    /// counts the rest).
    counts: MonitoringCounts,
    /// Where CB-Dragonfly runs (a cloud joining the run gets its path to the nearest; the
    /// agents keep each cloud's site).
    sites: Vec<crate::topology::Region>,
    /// How often (and how long) each thread waited for the other, once a run apart has
    /// finished.
    pipe_waits: Option<PipeWaits>,
}

impl Monitoring {
    /// Builds the model from its plan and schedules the first aggregation round (and poll).
    /// The collecting side runs on the engine's thread (see [`Monitoring::run_apart`]); with
    /// several sites, each site's reports on a part of the event list of its own.
    pub fn new<E: From<MonEvent> + Copy>(plan: &Plan, sched: &mut Scheduler<E>) -> Self {
        Self::new_with(plan, sched, true)
    }

    /// [`Monitoring::new`]; with `sites_apart` and several sites, each site's reports run
    /// on a part of the event list of its own ([`Scheduler::add_parts`]), a stretch of one
    /// site's at a time: until something else looks at a site (a VM of one of its clouds
    /// starting or stopping, an aggregation round, a sample, the end), its reports wait, and
    /// then run in their order. Nothing but a site's reports touches its agents' report
    /// state and its collectors in between, and what the sites add up together commutes
    /// (see `sink.rs`), so the results are those of one event list: the same bytes. A stretch
    /// of a site's reports touches its agents' lines in order (laid out by site, then report
    /// order) and its collectors alone, so a ten-million-agent run in sites of a million
    /// works like a million-agent run, site by site (BENCHMARKS.md). Not where collector
    /// services complete as engine events (the plain per-collector and shared queues): a
    /// report run behind the clock would schedule its completion in the past.
    pub fn new_with<E: From<MonEvent> + Copy>(
        plan: &Plan,
        sched: &mut Scheduler<E>,
        sites_apart: bool,
    ) -> Self {
        let spec = &plan.spec;
        let rngs = RngFactory::new(plan.seed);
        let agent_ids = sched.alloc_entities_own_seq(plan.agents.len() as u32);
        let apart = sites_apart && plan.sites.len() > 1 && !plan.completes_as_events();
        let first_part = apart.then(|| sched.add_parts(plan.sites.len() as u32));
        let collector_ids = sched.alloc_entities(plan.max_collectors);
        let server = sched.alloc_entities(1).get(0);
        // Site 0's streams are those of a run with one site.
        let family = |purpose: &str, k: usize| match k {
            0 => rngs.counter_family(purpose),
            k => rngs.counter_family(&format!("{purpose}.site{k}")),
        };
        let sink = Sink::new(plan, |k| family("monitoring.service", k));
        let m = Monitoring {
            agents: Agents::new(
                plan,
                agent_ids,
                rngs.counter_family("monitoring.agent"),
                first_part,
            ),
            link: Link::Here(Box::new(sink)),
            collector_ids,
            server,
            round_interval: spec.collectors.interval,
            pull_interval: spec.pull_interval,
            on_demand: (0..plan.sites.len())
                .map(|k| OnDemand {
                    service: spec.on_demand_service.clone(),
                    free_at: SimTime::ZERO,
                    rng: rngs.stream("monitoring.on_demand", k as u64),
                })
                .collect(),
            counts: MonitoringCounts::default(),
            sites: plan.sites.iter().map(|s| s.region.clone()).collect(),
            pipe_waits: None,
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

    /// Moves the collecting side onto a thread of its own for the rest of the run (until
    /// [`Results::finish`]); the results stay the same. Not for collectors whose services
    /// complete as engine events (the plain per-collector and shared queues): those stay.
    /// Returns whether it moved. With a `clock`, the two threads time their waits for each
    /// other ([`Monitoring::pipe_waits`]).
    pub fn run_apart(&mut self, clock: Option<WaitClock>) -> bool {
        match std::mem::replace(&mut self.link, Link::Moving) {
            Link::Here(sink) if !sink.completes_as_events() => {
                match Pipe::spawn(sink, clock) {
                    Ok(pipe) => self.link = Link::Apart(pipe),
                    // No thread to be had: stay on this one.
                    Err(sink) => self.link = Link::Here(sink),
                }
            }
            other => self.link = other,
        }
        matches!(self.link, Link::Apart(_))
    }

    /// Sends a command to the collecting side; on the engine's thread, the completions it
    /// started as engine events are scheduled.
    #[inline]
    fn send<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, cmd: Cmd) {
        match &mut self.link {
            Link::Here(sink) => {
                sink.apply(cmd);
                if sink.completes_as_events() {
                    for site in &mut sink.sites {
                        let first = site.first_collector;
                        for (at, c) in site.collectors.take_outbox() {
                            let collector = first + c;
                            sched.post_at(
                                at,
                                self.collector_ids.get(collector),
                                MonEvent::ServiceDone { collector }.into(),
                            );
                        }
                    }
                }
            }
            Link::Apart(pipe) => pipe.send(cmd),
            Link::Moving => unreachable!("the collecting side is between threads"),
        }
    }

    /// Sends a command that starts no service (samples, placements, the end of the run).
    fn send_quiet(&mut self, cmd: Cmd) {
        match &mut self.link {
            Link::Here(sink) => {
                sink.apply(cmd);
                debug_assert!(sink.sites.iter().all(|s| s.collectors.outbox_is_empty()));
            }
            Link::Apart(pipe) => pipe.send(cmd),
            Link::Moving => unreachable!("the collecting side is between threads"),
        }
    }

    /// The collecting side, while it runs on the engine's thread or once the run is over;
    /// `None` while it runs on its own (between [`Monitoring::run_apart`] and the run's
    /// [`Results::finish`]): its state is then the other thread's, and behind the engine's.
    fn sink(&self) -> Option<&Sink> {
        match &self.link {
            Link::Here(sink) => Some(sink),
            _ => None,
        }
    }

    /// Runs every site's reports that come before the event being handled (see
    /// [`Monitoring::new_with`]): before anything that looks at the collecting side or at
    /// every agent.
    pub fn catch_up<E: From<MonEvent> + Copy + AsMonEvent>(&mut self, sched: &mut Scheduler<E>) {
        if let Some(first) = self.agents.first_part() {
            for k in 0..self.sites.len() as u32 {
                sched.run_part(first + k, |s, _, ev, next| self.run_report(s, ev, next));
            }
        }
    }

    /// Runs every site's reports due at or before `until` (the run reached it).
    pub fn settle_parts<E: From<MonEvent> + Copy + AsMonEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        until: SimTime,
    ) {
        if let Some(first) = self.agents.first_part() {
            for k in 0..self.sites.len() as u32 {
                sched.run_part_through(first + k, until, |s, _, ev, next| {
                    self.run_report(s, ev, next)
                });
            }
        }
    }

    /// Runs the reports of the site of `agent` that come before the event being handled.
    fn catch_up_agent<E: From<MonEvent> + Copy + AsMonEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
    ) {
        // (With one event list nothing waits: no part.)
        if let Some(part) = self.agents.part_of(agent) {
            sched.run_part(part, |s, _, ev, next| self.run_report(s, ev, next));
        }
    }

    /// One event of a site's part (a report), with the one a few places ahead to prefetch for.
    #[inline(always)]
    fn run_report<E: From<MonEvent> + Copy + AsMonEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        mut ev: E,
        next: Option<(EntityId, E)>,
    ) {
        if let Some((_, mut next)) = next
            && let Some(n) = next.as_mon_event()
        {
            self.prefetch_state(n);
        }
        if let Some(&mut e) = ev.as_mon_event() {
            self.handle_event(sched, e);
        }
    }

    pub fn owns(&self, e: EntityId) -> bool {
        self.agents.owns(e) || self.collector_ids.contains(e) || e == self.server
    }

    /// The VM of `agent` entered Running: install (first time) or restart its agent.
    pub fn vm_running<E: From<MonEvent> + Copy + AsMonEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
    ) {
        self.catch_up_agent(sched, agent);
        self.agents.vm_running(sched, agent);
    }

    /// The VM of `agent` left Running: its agent stops (a report already sent still arrives).
    pub fn vm_stopped<E: From<MonEvent> + Copy + AsMonEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
    ) {
        self.catch_up_agent(sched, agent);
        self.agents.vm_stopped(sched, agent);
    }

    /// Starts loading the state the event will touch (a cache hint, see `engine::hint`).
    #[inline]
    fn prefetch_state(&self, ev: &MonEvent) {
        if let MonEvent::Report { slot, .. } = *ev {
            self.agents.prefetch_report(slot);
            // On this thread the report will also touch its topic (kept by the same slot).
            if let Link::Here(sink) = &self.link {
                sink.prefetch_topic(slot);
            }
        }
    }

    #[inline]
    pub fn handle_event<E: From<MonEvent> + Copy + AsMonEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        ev: MonEvent,
    ) {
        let now = sched.now();
        match ev {
            MonEvent::AgentStart { agent } => self.agents.installed(sched, agent),
            MonEvent::Report { slot, epoch } => {
                let Some(sent_at) = self.agents.report_arrived(sched, slot, epoch) else {
                    return; // withdrawn before it was sent
                };
                let lost = self.agents.lost(slot);
                match &mut self.link {
                    // The hot path, without the command's round trip through `Sink::apply`
                    // (which does the same).
                    Link::Here(sink) if !sink.completes_as_events() => {
                        sink.arrive(slot, lost, sent_at, now)
                    }
                    // Written straight into the batch: through `send`, the command was built
                    // on the stack and copied, and that copy's load waiting for the stores
                    // was the engine thread's hottest instruction at a million agents.
                    Link::Apart(pipe) => pipe.send(Cmd::Arrive {
                        slot,
                        lost,
                        sent_at,
                        now,
                    }),
                    _ => self.send(
                        sched,
                        Cmd::Arrive {
                            slot,
                            lost,
                            sent_at,
                            now,
                        },
                    ),
                }
            }
            // These look at the collecting side or at every agent: each site's reports before
            // them run first (see `new_with`).
            MonEvent::ServiceDone { collector } => {
                self.catch_up(sched);
                self.send(sched, Cmd::ServiceDone { collector, now })
            }
            MonEvent::Round => {
                self.catch_up(sched);
                let layout = self.agents.layout_due().then(|| self.agents.lay_out(sched));
                self.send(sched, Cmd::Round { now });
                // The round works on the old slots; the commands after it name the new ones.
                if let Some(new_slot) = layout {
                    match &mut self.link {
                        Link::Here(sink) => sink.lay_out(&new_slot),
                        Link::Apart(pipe) => pipe.lay_out(new_slot),
                        Link::Moving => unreachable!("the collecting side is between threads"),
                    }
                }
                sched.post_in(self.round_interval, self.server, MonEvent::Round.into());
            }
            MonEvent::Poll => {
                self.catch_up(sched);
                // No answer (VM down) or the previous poll is still out: a failed call.
                self.counts.pull_failures += self.agents.poll(sched);
                sched.post_in(self.pull_interval, self.server, MonEvent::Poll.into());
            }
        }
    }

    /// An on-demand monitoring call (CB-Tumblebug's auto-control), served by the agent's
    /// site: when the answer is back at the caller, and whether the VM's agent could answer
    /// (if not, the caller sees an error).
    pub fn on_demand(&mut self, now: SimTime, agent: u32) -> (SimTime, bool) {
        self.counts.on_demand_calls += 1;
        // (A live twin's agent names its cloud once placed; it runs one site.)
        let cloud = self.agents.cloud(agent);
        let site = self.agents.site_of_cloud(cloud);
        let od = &mut self.on_demand[site as usize];
        let start = now.max(od.free_at);
        let s = od.service.sample(&mut od.rng);
        od.free_at = start + s;
        let (ok, rtt) = self.agents.on_demand(agent);
        if !ok {
            self.counts.on_demand_failures += 1;
        }
        (start + s + rtt, ok)
    }

    /// The run's counts: the agents' side's and the collecting side's. `None` while the
    /// collecting side runs on its own thread (until the run's `finish`), as for the readers
    /// below.
    pub fn counts(&self) -> Option<MonitoringCounts> {
        let mut c = self.sink()?.counts.clone();
        c.pull_failures += self.counts.pull_failures;
        c.on_demand_calls += self.counts.on_demand_calls;
        c.on_demand_failures += self.counts.on_demand_failures;
        Some(c)
    }

    /// Reports sent and not yet stored or dropped (network, queues, rounds, storage).
    pub fn in_flight(&self, now: SimTime) -> Option<u64> {
        Some(self.agents.in_network(now) + self.sink()?.held())
    }

    /// Reports sent by `now` (arrived or still on the network).
    pub fn sent_by(&self, now: SimTime) -> Option<u64> {
        Some(self.sink()?.counts.sent + self.agents.in_network(now))
    }

    /// Mean collector wait in seconds and the 95% CI half-width from batch means (first batch
    /// dropped as warm-up).
    pub fn wait_mean_ci(&self) -> Option<(f64, f64)> {
        Some(self.sink()?.series.waits.mean_ci())
    }

    /// Sets where a scale-out VM's agent reports from (its slot was reserved without a cloud).
    pub fn place_agent(&mut self, agent: u32, cloud: u32, provider: u32) {
        self.agents.place(agent, cloud);
        let slot = self.agents.slot_of(agent);
        let site = self.agents.site_of_cloud(cloud) as u16;
        self.send_quiet(Cmd::Place {
            slot,
            provider,
            site,
        });
    }

    /// Reports that reached the site so far, and the messages collectors hold (queued, in
    /// service or in the current round): for watching a live twin, whose collecting side
    /// runs on the engine's thread. `None` while it runs apart: its counts are on the other
    /// thread until the run ends.
    pub fn load_gauges(&self) -> Option<(u64, u64)> {
        match &self.link {
            Link::Here(sink) => Some((sink.counts.sent, sink.collectors_held())),
            _ => None,
        }
    }

    /// How often (and, with a clock, how long) the engine's thread and the collecting side
    /// waited for each other, once a run whose collecting side ran apart has finished (see
    /// [`PipeWaits`]); `None` for a run on one thread, or before its finish. A diagnostic: it varies between runs of the same
    /// scenario and seed, whose results do not.
    pub fn pipe_waits(&self) -> Option<PipeWaits> {
        self.pipe_waits
    }

    /// Checks that each site's topics are on its own collectors, once the run is over (tests).
    #[cfg(test)]
    pub(crate) fn check_sites(&self) {
        self.sink().expect(AFTER_FINISH).check_sites();
    }

    /// The topics registered at each site, once the run is over (tests).
    #[cfg(test)]
    pub(crate) fn registered_per_site(&self) -> Vec<u32> {
        let sink = self.sink().expect(AFTER_FINISH);
        sink.sites
            .iter()
            .map(|s| s.collectors.registered())
            .collect()
    }

    /// Sets when the agents are laid out in report order (tests).
    #[cfg(test)]
    pub(crate) fn set_layout(&mut self, layout: super::agents::Layout) {
        self.agents.set_layout(layout);
    }

    /// How many times the agents were laid out in report order (tests).
    #[cfg(test)]
    pub(crate) fn layouts(&self) -> u32 {
        self.agents.layouts()
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
        self.link = match std::mem::replace(&mut self.link, Link::Moving) {
            Link::Apart(pipe) => {
                let (sink, waits) = pipe.finish();
                self.pipe_waits = Some(waits);
                Link::Here(sink)
            }
            other => other,
        };
        self.send_quiet(Cmd::Finish { end });
    }

    fn summarize(&self, sum: &mut Summary, end: SimTime) {
        let (Some(sink), Some(counts), Some(sent), Some(in_flight)) = (
            self.sink(),
            self.counts(),
            self.sent_by(end),
            self.in_flight(end),
        ) else {
            panic!("{AFTER_FINISH}");
        };
        let totals = Totals {
            sent,
            in_flight,
            collectors_max: sink.collectors_most(),
        };
        sink.series.summarize(sum, &counts, totals);
    }

    fn take_tables(&mut self) -> Vec<Table> {
        match &mut self.link {
            Link::Here(sink) => vec![sink.series.take_table()],
            _ => panic!("{AFTER_FINISH}"),
        }
    }
}

impl<E: From<MonEvent> + Copy + AsMonEvent> SubModel<E> for Monitoring {
    type Event = MonEvent;
    type Peers<'p> = ();

    #[inline]
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
        let agents_running = self.agents.running();
        self.send_quiet(Cmd::Sample {
            now,
            agents_running,
        });
    }

    fn cloud_added(&mut self, world: &Resolved) -> Result<(), PlanError> {
        if let Some(c) = world.clouds.last() {
            let (site, path) = super::plan::nearest(&world.latency, &c.region, &self.sites);
            self.agents.add_path(path, site);
        }
        Ok(())
    }

    #[inline]
    fn prefetch(&self, ev: &MonEvent) {
        self.prefetch_state(ev);
    }
}
