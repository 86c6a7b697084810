//! The monitoring pipeline: agents -> network -> collectors -> aggregation rounds -> storage.
//!
//! - Agents start `agent_start_delay` after their VM is Running and stop with it. In push mode
//!   each sends a report every `interval` from a seeded phase (or with exponential gaps); the
//!   report travels to the monitoring site with the cloud's one-way delay and may be lost. The
//!   agent's timer fires when the report *arrives*, so a report costs one agent event.
//!   In pull mode the server polls every agent each `pull_interval`.
//! - Collectors: each agent's topic is assigned to a collector (agentCount: the first collector
//!   with fewer than `max_host_count` topics, a new one if none, scale-in of the highest index
//!   every round; csp: one per provider; fixed). A collector is a FIFO single server with a
//!   finite buffer; when more collectors are busy than the server has cores, service stretches
//!   by busy / cores (processor sharing, approximated at service start).
//! - Every collector `interval` each collector aggregates what it processed into one point per
//!   (agent, measurement) and sends the round to storage in batches; agents silent for
//!   `dead_after_rounds` rounds are declared dead (their topic is deleted).
//! - Storage is a FIFO writer of `write_capacity` points/s with a per-batch overhead and a
//!   queue limit; a report is stored when the last batch of its round is written.
//!
//! Every report is accounted for: sent = stored + dropped + in flight, exactly.

use super::config::{Arrivals, Mode, MonitoringSpec, Policy, QueueDiscipline};
use super::plan::{PathDelay, Plan};
use crate::engine::hint::prefetch;
use crate::engine::{
    EntityId, EntityRange, EventHandle, RngFactory, Scheduler, SimDuration, SimRng, SimTime,
    StreamCursor, StreamFamily,
};
use crate::model::{Notice, Results, SubModel};
use crate::output::names::{file, metric};
use crate::output::table::{fmt_f64, fmt_secs};
use crate::output::{Summary, Table};
use hdrhistogram::Histogram;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use std::collections::VecDeque;

/// Monitoring events.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MonEvent {
    /// The agent is installed and starts reporting.
    AgentStart { agent: u32 },
    /// The agent's report in flight arrives at the monitoring site.
    Report { agent: u32 },
    /// A collector finished one message.
    ServiceDone { collector: u32 },
    /// Aggregation round, dead-agent detection and collector rebalancing.
    Round,
    /// Storage finished writing a batch.
    StorageDone,
    /// Pull mode: the server polls every agent.
    Poll,
}

/// One agent's state, packed into two cache lines: a million of them are touched in random
/// order, one report at a time, so their size sets the simulator's speed at scale.
#[derive(Clone, Debug)]
#[repr(C, align(64))] // fields in this order: 125 bytes, two lines
struct Agent {
    /// The agent's own stream (phase, delays, gaps, loss), 72 bytes (see `StreamCursor`).
    rng: StreamCursor,
    /// Send time of the report `timer` delivers.
    sent_at: SimTime,
    /// The next report's event (fires at its arrival).
    timer: Option<EventHandle>,
    start: Option<EventHandle>,
    cloud: u32,
    /// The topic's collector, or `NO_COLLECTOR`.
    collector: u32,
    /// Last round in which a report of this agent arrived (dead-agent detection).
    last_round_seen: u32,
    /// Last round in which this agent's points were counted for aggregation.
    last_round_points: u32,
    silent_rounds: u16,
    vm_running: bool,
    installed: bool,
    /// Stop after the report in flight (the VM stopped after it was sent).
    stopping: bool,
}

const NO_COLLECTOR: u32 = u32::MAX;
const NO_ROUND: u32 = u32::MAX;

#[derive(Copy, Clone, Debug)]
struct Msg {
    agent: u32,
    sent_at: SimTime,
    arrived: SimTime,
}

/// A message in a collector computed ahead (see `Monitoring::inline_service`): its service
/// start and end are known on arrival, by Lindley's recursion.
#[derive(Copy, Clone, Debug)]
struct Pending {
    agent: u32,
    /// It found the collector busy and queued.
    waited: bool,
    /// Its start (wait and CPU time) has been accounted.
    started: bool,
    sent_at: SimTime,
    arrived: SimTime,
    start: SimTime,
    done: SimTime,
}

#[derive(Clone, Debug)]
struct Collector {
    /// Messages of the inline-service mode not yet finished as of the last catch-up.
    pending: VecDeque<Pending>,
    queue: VecDeque<Msg>,
    in_service: Option<Msg>,
    topics: u32,
    /// The collector's stream of service times (see `StreamCursor`).
    rng: StreamCursor,
    /// Send times of the reports processed in the current round.
    round_reports: Vec<SimTime>,
    round_points: u64,
}

impl Collector {
    fn new(rng: StreamCursor) -> Self {
        Collector {
            pending: VecDeque::new(),
            queue: VecDeque::new(),
            in_service: None,
            topics: 0,
            rng,
            round_reports: Vec::new(),
            round_points: 0,
        }
    }
}

#[derive(Clone, Debug)]
struct StorageJob {
    points: u64,
    reports: Vec<SimTime>,
}

/// Report accounting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonitoringCounts {
    pub sent: u64,
    pub stored: u64,
    pub dropped_network: u64,
    pub dropped_collector: u64,
    pub dropped_storage: u64,
    pub agents_declared_dead: u64,
    pub pull_failures: u64,
    pub points_written: u64,
    pub on_demand_calls: u64,
    pub on_demand_failures: u64,
}

impl MonitoringCounts {
    pub fn dropped(&self) -> u64 {
        self.dropped_network + self.dropped_collector + self.dropped_storage
    }
}

/// The monitoring model's state.
pub struct Monitoring {
    spec: MonitoringSpec,
    agents: Vec<Agent>,
    /// Provider index of each agent (csp collector policy).
    providers: Vec<u32>,
    fam_agent: StreamFamily,
    agent_ids: EntityRange,
    collector_ids: EntityRange,
    server: EntityId,
    paths: Vec<PathDelay>,
    fam_service: StreamFamily,
    /// Service completions computed on arrival instead of simulated as events: each
    /// collector is a FIFO single server, so a message starts at max(arrival, previous end)
    /// (Lindley's recursion). Exact when nothing couples the collectors or moves messages
    /// between them: push mode, per-collector queues, a fixed collector set (fixed or csp
    /// policy) no larger than the server's cores (so CPU contention never stretches a
    /// service). Their effects (wait and CPU accounting, round contents) are applied in
    /// order before anything reads them: the sampler, the aggregation round, the end.
    inline_service: bool,
    collectors: Vec<Collector>,
    /// Collectors in service (index < active); higher ones are retired.
    active: u32,
    /// Every active collector below this index is full (agentCount policy).
    room_from: u32,
    busy: u32,
    shared: VecDeque<Msg>,
    round: u32,
    registered: u32,
    /// Registered agents heard from in the current round.
    seen_in_round: u32,
    /// Agents installed on a Running VM.
    agents_active: u32,
    storage_queue: VecDeque<StorageJob>,
    /// Emptied report buffers, reused by the next rounds.
    spare_buffers: Vec<Vec<SimTime>>,
    storage_busy: bool,
    storage_queued_points: u64,
    on_demand_free_at: SimTime,
    on_demand_rng: SimRng,
    pub counts: MonitoringCounts,
    delays_us: Histogram<u64>,
    interval_delays_us: Histogram<u64>,
    // Waiting-time batch means (for confidence intervals), summed exactly in ns so the
    // order of accounting does not matter.
    batch_len_ns: u64,
    wait_sum: Vec<u128>,
    wait_n: Vec<u64>,
    collector_max: u32,
    // Per-interval counters for monitoring.csv.
    last_sample: SimTime,
    iv_arrivals: u64,
    iv_dropped: u64,
    iv_points: u64,
    iv_busy_ns: u64,
    iv_storage_busy_ns: u64,
    util_sum: f64,
    storage_util_sum: f64,
    util_samples: u64,
    series: Table,
}

const BATCHES: usize = 33;

impl Monitoring {
    /// Builds the model from its plan and schedules the first aggregation round (and poll).
    pub fn new<E: From<MonEvent> + Copy>(plan: &Plan, sched: &mut Scheduler<E>) -> Self {
        let spec = &plan.spec;
        let rngs = RngFactory::new(plan.seed);
        let n = plan.agents.len() as u32;
        let agent_ids = sched.alloc_entities(n);
        let collector_ids = sched.alloc_entities(plan.max_collectors);
        let server = sched.alloc_entities(1).get(0);
        let initial = plan.initial_collectors;
        let hist = || {
            Histogram::<u64>::new_with_bounds(1, 30 * 86_400 * 1_000_000, 3).expect("valid bounds")
        };
        let fam_agent = rngs.family("monitoring.agent");
        let fam_service = rngs.family("monitoring.service");
        let m = Monitoring {
            agents: plan
                .agents
                .iter()
                .map(|a| Agent {
                    rng: StreamCursor::default(),
                    sent_at: SimTime::ZERO,
                    timer: None,
                    start: None,
                    cloud: a.cloud,
                    collector: NO_COLLECTOR,
                    last_round_seen: NO_ROUND,
                    last_round_points: NO_ROUND,
                    silent_rounds: 0,
                    vm_running: false,
                    installed: false,
                    stopping: false,
                })
                .collect(),
            providers: plan.agents.iter().map(|a| a.provider).collect(),
            fam_agent,
            agent_ids,
            collector_ids,
            server,
            paths: plan.paths.clone(),
            collectors: (0..initial)
                .map(|_| Collector::new(StreamCursor::default()))
                .collect(),
            fam_service,
            inline_service: plan.inline_service,
            active: initial,
            room_from: 0,
            busy: 0,
            shared: VecDeque::new(),
            round: 0,
            registered: 0,
            seen_in_round: 0,
            agents_active: 0,
            storage_queue: VecDeque::new(),
            spare_buffers: Vec::new(),
            storage_busy: false,
            storage_queued_points: 0,
            on_demand_free_at: SimTime::ZERO,
            on_demand_rng: rngs.stream("monitoring.on_demand", 0),
            counts: MonitoringCounts::default(),
            delays_us: hist(),
            interval_delays_us: hist(),
            batch_len_ns: (plan.horizon.as_nanos() / BATCHES as u64).max(1),
            wait_sum: vec![0; BATCHES],
            wait_n: vec![0; BATCHES],
            collector_max: initial,
            last_sample: SimTime::ZERO,
            iv_arrivals: 0,
            iv_dropped: 0,
            iv_points: 0,
            iv_busy_ns: 0,
            iv_storage_busy_ns: 0,
            util_sum: 0.0,
            storage_util_sum: 0.0,
            util_samples: 0,
            series: Table::new(
                file::MONITORING,
                &[
                    "time_s",
                    "agents_active",
                    "reports_in_per_s",
                    "collectors",
                    "backlog_mean",
                    "backlog_max",
                    "drops",
                    "storage_points_per_s",
                    "storage_backlog_points",
                    "server_cpu_pct",
                    "delay_p50_ms",
                    "delay_p95_ms",
                    "ingress_kbps",
                ],
            ),
            spec: spec.clone(),
        };
        sched.post_at(
            SimTime::ZERO + spec.collectors.interval,
            server,
            MonEvent::Round.into(),
        );
        if spec.mode == Mode::Pull {
            sched.post_at(
                SimTime::ZERO + spec.pull_interval,
                server,
                MonEvent::Poll.into(),
            );
        }
        m
    }

    pub fn owns(&self, e: EntityId) -> bool {
        self.agent_ids.contains(e) || self.collector_ids.contains(e) || e == self.server
    }

    /// The VM of `agent` entered Running: install (first time) or restart its agent.
    pub fn vm_running<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, agent: u32) {
        let a = &mut self.agents[agent as usize];
        if a.installed && !a.vm_running {
            self.agents_active += 1;
        }
        a.vm_running = true;
        a.stopping = false;
        if a.installed {
            if a.timer.is_none() {
                self.start_reporting(sched, agent, true);
            }
        } else if a.start.is_none() {
            let d = self
                .spec
                .agent_start_delay
                .sample(&mut self.fam_agent.at(agent as u64, &mut a.rng));
            let h = sched.schedule_in(
                d,
                self.agent_ids.get(agent),
                MonEvent::AgentStart { agent }.into(),
            );
            self.agents[agent as usize].start = Some(h);
        }
    }

    /// The VM of `agent` left Running: its agent stops (a report already sent still arrives).
    pub fn vm_stopped<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, agent: u32) {
        let now = sched.now();
        let a = &mut self.agents[agent as usize];
        if a.installed && a.vm_running {
            self.agents_active -= 1;
        }
        a.vm_running = false;
        if let Some(h) = a.start.take() {
            sched.cancel(h);
        }
        if self.spec.mode == Mode::Push
            && let Some(h) = a.timer
        {
            if a.sent_at > now {
                sched.cancel(h);
                a.timer = None;
            } else {
                a.stopping = true;
            }
        }
    }

    /// One network traversal of the agent's cloud path, drawn from the agent's stream.
    fn one_way(&mut self, agent: u32) -> SimDuration {
        let a = &mut self.agents[agent as usize];
        let p = self.paths[a.cloud as usize];
        let e: f64 = Exp1.sample(&mut self.fam_agent.at(agent as u64, &mut a.rng));
        let t = p.median_s * (1.0 + p.jitter * (e - std::f64::consts::LN_2));
        SimDuration::from_secs_f64(t.max(p.floor_s))
    }

    /// Schedules the agent's next report: sent after `gap` (or a random phase when `first`).
    fn start_reporting<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
        first: bool,
    ) {
        if self.spec.mode == Mode::Pull {
            return; // polled by the server
        }
        let iv = self.spec.interval.as_secs_f64();
        let a = &mut self.agents[agent as usize];
        let mut rng = self.fam_agent.at(agent as u64, &mut a.rng);
        let gap = match self.spec.arrivals {
            // Telegraf's fixed interval from a uniform phase.
            Arrivals::Periodic if first => iv * rng.random::<f64>(),
            Arrivals::Periodic => iv,
            // Memoryless from the start, so the aggregate is Poisson at once.
            Arrivals::Poisson => -(1.0 - rng.random::<f64>()).ln() * iv,
        };
        let base = if first { sched.now() } else { a.sent_at };
        let send = base + SimDuration::from_secs_f64(gap);
        // A short gap and a faster path could land before the report that just arrived:
        // reports of one agent arrive in order.
        let arrive = (send + self.one_way(agent)).max(sched.now());
        let h = sched.schedule_at(
            arrive,
            self.agent_ids.get(agent),
            MonEvent::Report { agent }.into(),
        );
        let a = &mut self.agents[agent as usize];
        a.sent_at = send;
        a.timer = Some(h);
    }

    /// Starts loading the state the event will touch (a cache hint, see `engine::hint`).
    #[inline]
    fn prefetch_state(&self, ev: &MonEvent) {
        match *ev {
            MonEvent::Report { agent } => {
                if let Some(a) = self.agents.get(agent as usize) {
                    prefetch(&a.rng); // first line
                    prefetch(&a.sent_at); // second line
                }
            }
            // The completion counts its agent's points for the round.
            MonEvent::ServiceDone { collector } => {
                if let Some(m) = self
                    .collectors
                    .get(collector as usize)
                    .and_then(|c| c.in_service)
                    && let Some(a) = self.agents.get(m.agent as usize)
                {
                    prefetch(&a.last_round_points);
                }
            }
            _ => {}
        }
    }

    pub fn handle_event<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        ev: MonEvent,
    ) {
        match ev {
            MonEvent::AgentStart { agent } => {
                let a = &mut self.agents[agent as usize];
                a.start = None;
                if !a.installed && a.vm_running {
                    self.agents_active += 1;
                }
                a.installed = true;
                if a.vm_running {
                    self.start_reporting(sched, agent, true);
                }
            }
            MonEvent::Report { agent } => {
                let now = sched.now();
                let a = &mut self.agents[agent as usize];
                a.timer = None;
                let sent_at = a.sent_at;
                self.counts.sent += 1;
                let stop = a.stopping;
                a.stopping = false;
                if self.spec.mode == Mode::Push && !stop && a.vm_running {
                    self.start_reporting(sched, agent, false);
                }
                self.arrive(sched, agent, sent_at, now);
            }
            MonEvent::ServiceDone { collector } => self.service_done(sched, collector),
            MonEvent::Round => self.round(sched),
            MonEvent::StorageDone => self.storage_done(sched),
            MonEvent::Poll => {
                let now = sched.now();
                for agent in 0..self.agents.len() as u32 {
                    let a = &self.agents[agent as usize];
                    if !a.installed {
                        continue;
                    }
                    if !a.vm_running || a.timer.is_some() {
                        // No answer (VM down) or the previous poll is still out: a failed call.
                        self.counts.pull_failures += 1;
                        continue;
                    }
                    let rtt = self.one_way(agent) + self.one_way(agent);
                    let h = sched.schedule_at(
                        now + rtt,
                        self.agent_ids.get(agent),
                        MonEvent::Report { agent }.into(),
                    );
                    let a = &mut self.agents[agent as usize];
                    a.sent_at = now;
                    a.timer = Some(h);
                }
                sched.post_in(self.spec.pull_interval, self.server, MonEvent::Poll.into());
            }
        }
    }

    /// A report reaches the site: lost, or queued at its collector.
    fn arrive<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
        sent_at: SimTime,
        now: SimTime,
    ) {
        self.iv_arrivals += 1;
        if self.spec.loss_p.get() > 0.0
            && self.spec.loss_p.sample(
                &mut self
                    .fam_agent
                    .at(agent as u64, &mut self.agents[agent as usize].rng),
            )
        {
            self.counts.dropped_network += 1;
            self.iv_dropped += 1;
            return;
        }
        let c = match self.agents[agent as usize].collector {
            NO_COLLECTOR => self.register(agent),
            c => c,
        };
        let a = &mut self.agents[agent as usize];
        if a.last_round_seen != self.round {
            a.last_round_seen = self.round;
            a.silent_rounds = 0;
            self.seen_in_round += 1;
        }
        let msg = Msg {
            agent,
            sent_at,
            arrived: now,
        };
        let buffer = self.spec.collectors.buffer as usize;
        match self.spec.collectors.queue {
            QueueDiscipline::PerCollector if self.inline_service => {
                self.arrive_inline(c, msg, buffer)
            }
            QueueDiscipline::PerCollector => {
                let col = &mut self.collectors[c as usize];
                if col.in_service.is_none() {
                    self.start_service(sched, c, msg);
                } else if col.queue.len() >= buffer {
                    self.counts.dropped_collector += 1;
                    self.iv_dropped += 1;
                } else {
                    col.queue.push_back(msg);
                }
            }
            QueueDiscipline::Shared => {
                if let Some(idle) =
                    (0..self.active).find(|i| self.collectors[*i as usize].in_service.is_none())
                {
                    self.start_service(sched, idle, msg);
                } else if self.shared.len() >= buffer {
                    self.counts.dropped_collector += 1;
                    self.iv_dropped += 1;
                } else {
                    self.shared.push_back(msg);
                }
            }
        }
    }

    /// Inline-service arrival: the message's start and end follow from the previous one's end.
    /// Same-instant order as the event version: an arrival at the very instant a service
    /// ends still finds the collector busy (agents' events come before collectors').
    fn arrive_inline(&mut self, c: u32, msg: Msg, buffer: usize) {
        let now = msg.arrived;
        let col = &mut self.collectors[c as usize];
        let busy_until = col.pending.back().map(|p| p.done).filter(|d| *d >= now);
        if busy_until.is_some() && col.pending.len() >= buffer {
            // Queued = waited and not yet started (a start at this instant has not happened:
            // the completion before it is a later event of the same instant).
            let started = col.pending.partition_point(|p| p.start < now);
            let queued = col
                .pending
                .range(started..)
                .filter(|p| p.waited || p.start > now)
                .count();
            if queued >= buffer {
                self.counts.dropped_collector += 1;
                self.iv_dropped += 1;
                return;
            }
        }
        let s = self
            .spec
            .collectors
            .service_time
            .sample(&mut self.fam_service.at(c as u64, &mut col.rng));
        let start = busy_until.unwrap_or(now);
        let mut p = Pending {
            agent: msg.agent,
            waited: busy_until.is_some(),
            started: false,
            sent_at: msg.sent_at,
            arrived: now,
            start,
            done: start + s,
        };
        if !p.waited {
            // Starts now: account it now, as the event version does.
            Self::account_start(
                &mut self.wait_sum,
                &mut self.wait_n,
                &mut self.iv_busy_ns,
                self.batch_len_ns,
                &mut p,
            );
        }
        col.pending.push_back(p);
    }

    fn account_start(
        wait_sum: &mut [u128],
        wait_n: &mut [u64],
        iv_busy_ns: &mut u64,
        batch_len_ns: u64,
        p: &mut Pending,
    ) {
        let b = (p.start.as_nanos() / batch_len_ns) as usize;
        if b < BATCHES {
            wait_sum[b] += p.start.since(p.arrived).as_nanos() as u128;
            wait_n[b] += 1;
        }
        *iv_busy_ns += p.done.since(p.start).as_nanos();
        p.started = true;
    }

    /// Applies the inline-service starts and completions up to `t` (inclusive or not: the
    /// sampler runs before every other event of its instant, the round after them).
    fn catch_up(&mut self, t: SimTime, inclusive: bool) {
        if !self.inline_service {
            return;
        }
        let due = |x: SimTime| x < t || (inclusive && x == t);
        let round = self.round;
        let measurements = self.spec.measurements as u64;
        for col in self.collectors.iter_mut() {
            for p in col.pending.iter_mut() {
                if !due(p.start) {
                    break;
                }
                if !p.started {
                    Self::account_start(
                        &mut self.wait_sum,
                        &mut self.wait_n,
                        &mut self.iv_busy_ns,
                        self.batch_len_ns,
                        p,
                    );
                }
            }
            while let Some(p) = col.pending.front() {
                if !due(p.done) {
                    break;
                }
                col.round_reports.push(p.sent_at);
                let a = &mut self.agents[p.agent as usize];
                if a.last_round_points != round {
                    a.last_round_points = round;
                    col.round_points += measurements;
                }
                col.pending.pop_front();
            }
        }
    }

    /// Gives the agent's topic a collector.
    fn register(&mut self, agent: u32) -> u32 {
        let c = match self.spec.collectors.policy {
            Policy::Csp => self.providers[agent as usize] % self.active,
            Policy::Fixed => (0..self.active)
                .min_by_key(|i| (self.collectors[*i as usize].topics, *i))
                .expect("at least one collector"),
            Policy::AgentCount => match self.first_with_room() {
                Some(c) => c,
                None => {
                    let c = self.add_collector();
                    self.room_from = c;
                    c
                }
            },
        };
        self.collectors[c as usize].topics += 1;
        self.registered += 1;
        let a = &mut self.agents[agent as usize];
        a.collector = c;
        a.silent_rounds = 0;
        c
    }

    /// agentCount: the first active collector with fewer than `max_host_count` topics.
    /// Collectors below `room_from` are known to be full, so registering a million agents
    /// does not rescan the full ones each time.
    fn first_with_room(&mut self) -> Option<u32> {
        let max = self.spec.collectors.max_host_count;
        let found = (self.room_from.min(self.active)..self.active)
            .find(|i| self.collectors[*i as usize].topics < max);
        self.room_from = found.unwrap_or(self.active);
        found
    }

    fn add_collector(&mut self) -> u32 {
        let c = self.active;
        if (c as usize) == self.collectors.len() {
            self.collectors
                .push(Collector::new(StreamCursor::default()));
        }
        self.active += 1;
        self.collector_max = self.collector_max.max(self.active);
        c
    }

    fn start_service<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        c: u32,
        msg: Msg,
    ) {
        let now = sched.now();
        let b = (now.as_nanos() / self.batch_len_ns) as usize;
        if b < BATCHES {
            self.wait_sum[b] += now.since(msg.arrived).as_nanos() as u128;
            self.wait_n[b] += 1;
        }
        self.busy += 1;
        let col = &mut self.collectors[c as usize];
        let mut s = self
            .spec
            .collectors
            .service_time
            .sample(&mut self.fam_service.at(c as u64, &mut col.rng));
        if self.spec.mode == Mode::Pull {
            s = SimDuration(
                s.as_nanos()
                    .saturating_mul(self.spec.pull_calls.max(1) as u64),
            );
        }
        let cores = self.spec.collectors.server_cores.max(1);
        if self.busy > cores {
            s = SimDuration((s.as_nanos() as u128 * self.busy as u128 / cores as u128) as u64);
        }
        col.in_service = Some(msg);
        self.iv_busy_ns += s.as_nanos();
        sched.post_in(
            s,
            self.collector_ids.get(c),
            MonEvent::ServiceDone { collector: c }.into(),
        );
    }

    fn service_done<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, c: u32) {
        self.busy -= 1;
        let round = self.round;
        let measurements = self.spec.measurements as u64;
        let col = &mut self.collectors[c as usize];
        let msg = col.in_service.take().expect("a message in service");
        col.round_reports.push(msg.sent_at);
        // One point per (agent, measurement) per round: count the agent once.
        let a = &mut self.agents[msg.agent as usize];
        if a.last_round_points != round {
            a.last_round_points = round;
            col.round_points += measurements;
        }
        let next = match self.spec.collectors.queue {
            QueueDiscipline::PerCollector => col.queue.pop_front(),
            QueueDiscipline::Shared if c < self.active => self.shared.pop_front(),
            QueueDiscipline::Shared => None,
        };
        if let Some(m) = next {
            self.start_service(sched, c, m);
        }
    }

    fn round<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>) {
        self.catch_up(sched.now(), true);
        let limit = self.spec.storage.queue_limit;
        let batch = self.spec.storage.batch_points.max(1) as u64;
        for c in 0..self.collectors.len() {
            let col = &mut self.collectors[c];
            if col.round_reports.is_empty() {
                continue;
            }
            // Swap in a recycled buffer (rounds would otherwise regrow one per collector).
            let spare = self.spare_buffers.pop().unwrap_or_default();
            let mut reports = std::mem::replace(&mut col.round_reports, spare);
            let points = std::mem::take(&mut col.round_points);
            if self.storage_queued_points + points > limit {
                self.counts.dropped_storage += reports.len() as u64;
                self.iv_dropped += reports.len() as u64;
                reports.clear();
                self.spare_buffers.push(reports);
                continue;
            }
            // Batches of `batch` points; the round's reports ride with the last one.
            let n_batches = points.div_ceil(batch).max(1);
            for i in 0..n_batches {
                let last = i + 1 == n_batches;
                let p = if last {
                    points - batch * (n_batches - 1)
                } else {
                    batch
                };
                self.storage_queued_points += p;
                self.storage_queue.push_back(StorageJob {
                    points: p,
                    reports: if last {
                        std::mem::take(&mut reports)
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        if !self.storage_busy {
            self.start_storage(sched);
        }

        // Dead agents: silent for `dead_after_rounds` rounds -> topic deleted.
        let dead_after = self.spec.collectors.dead_after_rounds.max(1);
        let round = self.round;
        // Nothing to do when every registered agent was heard from (the usual case): skip
        // the pass over all agents.
        let all_seen = self.seen_in_round == self.registered;
        let agents: &mut [Agent] = if all_seen { &mut [] } else { &mut self.agents };
        for a in agents.iter_mut() {
            let c = a.collector;
            if c == NO_COLLECTOR || a.last_round_seen == round {
                continue;
            }
            a.silent_rounds = a.silent_rounds.saturating_add(1);
            if a.silent_rounds as u32 >= dead_after {
                a.collector = NO_COLLECTOR;
                self.collectors[c as usize].topics -= 1;
                self.room_from = self.room_from.min(c);
                self.registered -= 1;
                self.counts.agents_declared_dead += 1;
            }
        }
        self.round += 1;
        self.seen_in_round = 0;

        // agentCount scale-in: drop the highest-index collectors beyond ceil(topics / max),
        // moving their topics (and queued messages) to the first collectors with room.
        if self.spec.collectors.policy == Policy::AgentCount {
            let max = self.spec.collectors.max_host_count.max(1);
            let target = self.registered.div_ceil(max).max(1);
            // The topics of every retired collector, found in one pass over the agents.
            let mut moved: Vec<Vec<u32>> =
                vec![Vec::new(); self.active.saturating_sub(target) as usize];
            if !moved.is_empty() {
                for (i, a) in self.agents.iter().enumerate() {
                    if a.collector != NO_COLLECTOR
                        && a.collector >= target
                        && a.collector < self.active
                    {
                        moved[(a.collector - target) as usize].push(i as u32);
                    }
                }
            }
            while self.active > target {
                let gone = self.active - 1;
                self.active -= 1;
                self.collectors[gone as usize].topics = 0;
                for a in std::mem::take(&mut moved[(gone - target) as usize]) {
                    let to = self.first_with_room().unwrap_or(0);
                    self.collectors[to as usize].topics += 1;
                    self.agents[a as usize].collector = to;
                }
                let queued: Vec<Msg> = self.collectors[gone as usize].queue.drain(..).collect();
                for m in queued {
                    let to = match self.agents[m.agent as usize].collector {
                        NO_COLLECTOR => 0,
                        c => c,
                    };
                    let col = &mut self.collectors[to as usize];
                    if col.in_service.is_none() {
                        self.start_service(sched, to, m);
                    } else {
                        col.queue.push_back(m);
                    }
                }
            }
        }
        sched.post_in(
            self.spec.collectors.interval,
            self.server,
            MonEvent::Round.into(),
        );
    }

    fn start_storage<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>) {
        let Some(job) = self.storage_queue.front() else {
            self.storage_busy = false;
            return;
        };
        self.storage_busy = true;
        let st = &self.spec.storage;
        let d = st.batch_overhead
            + SimDuration::from_secs_f64(job.points as f64 / st.write_capacity.max(1e-9));
        self.iv_storage_busy_ns += d.as_nanos();
        sched.post_in(d, self.server, MonEvent::StorageDone.into());
    }

    fn storage_done<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>) {
        let now = sched.now();
        let mut job = self.storage_queue.pop_front().expect("a job in service");
        self.storage_queued_points -= job.points;
        self.counts.points_written += job.points;
        self.iv_points += job.points;
        for sent in &job.reports {
            let us = now.since(*sent).as_nanos() / 1_000;
            // Into the sample interval's histogram only; the whole run's gets the interval's
            // counts at each sample (one record per report instead of two).
            self.interval_delays_us.saturating_record(us.max(1));
        }
        self.counts.stored += job.reports.len() as u64;
        if job.reports.capacity() > 0 {
            job.reports.clear();
            self.spare_buffers.push(job.reports);
        }
        self.start_storage(sched);
    }

    /// An on-demand monitoring call (CB-Tumblebug's auto-control): returns when the answer is
    /// back at the caller, or `None` if the VM's agent cannot answer (the caller sees an error).
    pub fn on_demand(&mut self, now: SimTime, agent: u32) -> (SimTime, bool) {
        self.counts.on_demand_calls += 1;
        let start = now.max(self.on_demand_free_at);
        let s = self.spec.on_demand_service.sample(&mut self.on_demand_rng);
        self.on_demand_free_at = start + s;
        let a = &self.agents[agent as usize];
        let ok = a.installed && a.vm_running;
        let p = self.paths[a.cloud as usize];
        let rtt = SimDuration::from_secs_f64(2.0 * p.median_s);
        if !ok {
            self.counts.on_demand_failures += 1;
        }
        (start + s + rtt, ok)
    }

    /// Reports sent and not yet stored or dropped (network, queues, rounds, storage).
    pub fn in_flight(&self, now: SimTime) -> u64 {
        let network = self
            .agents
            .iter()
            .filter(|a| a.timer.is_some() && a.sent_at <= now)
            .count() as u64;
        let queued: u64 = self
            .collectors
            .iter()
            .map(|c| {
                (c.pending.len()
                    + c.queue.len()
                    + c.in_service.is_some() as usize
                    + c.round_reports.len()) as u64
            })
            .sum::<u64>()
            + self.shared.len() as u64;
        let storage: u64 = self
            .storage_queue
            .iter()
            .map(|j| j.reports.len() as u64)
            .sum();
        network + queued + storage
    }

    /// Reports sent by `now` (arrived or still on the network).
    pub fn sent_by(&self, now: SimTime) -> u64 {
        self.counts.sent
            + self
                .agents
                .iter()
                .filter(|a| a.timer.is_some() && a.sent_at <= now)
                .count() as u64
    }

    fn sample_series(&mut self, now: SimTime) {
        self.catch_up(now, false);
        let dt = now.since(self.last_sample).as_secs_f64();
        self.last_sample = now;
        debug_assert_eq!(
            self.agents_active as usize,
            self.agents
                .iter()
                .filter(|a| a.installed && a.vm_running)
                .count()
        );
        let active_agents = self.agents_active;
        let n = self.active as usize;
        let backlogs: Vec<usize> = match self.spec.collectors.queue {
            QueueDiscipline::PerCollector if self.inline_service => self.collectors[..n]
                .iter()
                .map(|c| c.pending.len() - c.pending.partition_point(|p| p.start < now))
                .collect(),
            QueueDiscipline::PerCollector => {
                self.collectors[..n].iter().map(|c| c.queue.len()).collect()
            }
            QueueDiscipline::Shared => vec![self.shared.len()],
        };
        let backlog_max = backlogs.iter().copied().max().unwrap_or(0);
        let backlog_mean = backlogs.iter().sum::<usize>() as f64 / backlogs.len().max(1) as f64;
        let cores = self.spec.collectors.server_cores.max(1) as f64;
        let (rate, cpu, pts, util, sutil) = if dt > 0.0 {
            let busy_s = self.iv_busy_ns as f64 / 1e9;
            (
                self.iv_arrivals as f64 / dt,
                100.0 * busy_s / (cores * dt),
                self.iv_points as f64 / dt,
                busy_s / (n.max(1) as f64 * dt),
                self.iv_storage_busy_ns as f64 / 1e9 / dt,
            )
        } else {
            (0.0, 0.0, 0.0, 0.0, 0.0)
        };
        if dt > 0.0 {
            self.util_sum += util;
            self.storage_util_sum += sutil.min(1.0);
            self.util_samples += 1;
        }
        let (p50, p95) = if self.interval_delays_us.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            (
                self.interval_delays_us.value_at_quantile(0.5) as f64 / 1e3,
                self.interval_delays_us.value_at_quantile(0.95) as f64 / 1e3,
            )
        };
        self.series.push(vec![
            fmt_secs(now),
            active_agents.to_string(),
            fmt_f64(round3(rate)),
            self.active.to_string(),
            fmt_f64(round3(backlog_mean)),
            backlog_max.to_string(),
            self.iv_dropped.to_string(),
            fmt_f64(round3(pts)),
            self.storage_queued_points.to_string(),
            fmt_f64(round3(cpu)),
            fmt_f64(p50),
            fmt_f64(p95),
            // Reports reaching the site, times their size on the wire.
            fmt_f64(round3(rate * self.spec.report_bytes as f64 * 8.0 / 1e3)),
        ]);
        self.iv_arrivals = 0;
        self.iv_dropped = 0;
        self.iv_points = 0;
        self.iv_busy_ns = 0;
        self.iv_storage_busy_ns = 0;
        self.delays_us
            .add(&self.interval_delays_us)
            .expect("histograms with the same bounds");
        self.interval_delays_us.reset();
    }

    /// Mean collector wait in seconds and the 95% CI half-width from batch means (first batch
    /// dropped as warm-up).
    pub fn wait_mean_ci(&self) -> (f64, f64) {
        let means: Vec<f64> = (1..BATCHES)
            .filter(|b| self.wait_n[*b] > 0)
            .map(|b| self.wait_sum[b] as f64 / 1e9 / self.wait_n[b] as f64)
            .collect();
        let k = means.len();
        if k < 2 {
            return (f64::NAN, f64::NAN);
        }
        let total_n: u64 = (1..BATCHES).map(|b| self.wait_n[b]).sum();
        let total = (1..BATCHES).map(|b| self.wait_sum[b]).sum::<u128>() as f64 / 1e9;
        let mean = total / total_n as f64;
        let bm = means.iter().sum::<f64>() / k as f64;
        let var = means.iter().map(|m| (m - bm).powi(2)).sum::<f64>() / (k - 1) as f64;
        (
            mean,
            crate::stats::student_t_975(k - 1) * (var / k as f64).sqrt(),
        )
    }

    /// Sets where a scale-out VM's agent reports from (its slot was reserved without a cloud).
    pub fn place_agent(&mut self, agent: u32, cloud: u32, provider: u32) {
        self.agents[agent as usize].cloud = cloud;
        self.providers[agent as usize] = provider;
    }
}

impl Results for Monitoring {
    /// Brings the inline-service accounting up to the end of the run (before summaries).
    fn finish(&mut self, end: SimTime) {
        self.catch_up(end, true);
    }

    fn summarize(&self, sum: &mut Summary, end: SimTime) {
        let c = &self.counts;
        // The whole run: the sampled intervals plus what came after the last sample.
        let mut delays = self.delays_us.clone();
        delays
            .add(&self.interval_delays_us)
            .expect("histograms with the same bounds");
        let q = |p: f64| {
            if delays.is_empty() {
                f64::NAN
            } else {
                delays.value_at_quantile(p) as f64 / 1e3
            }
        };
        let (wait, ci) = self.wait_mean_ci();
        let n = self.util_samples.max(1) as f64;
        sum.int(metric::MONITORING_REPORTS_SENT, self.sent_by(end))
            .int(metric::MONITORING_REPORTS_STORED, c.stored)
            .int(metric::MONITORING_REPORTS_DROPPED, c.dropped())
            .int(metric::MONITORING_DROPPED_NETWORK, c.dropped_network)
            .int(
                metric::MONITORING_BYTES_SENT,
                self.sent_by(end) * self.spec.report_bytes as u64,
            )
            .int(metric::MONITORING_DROPPED_COLLECTOR, c.dropped_collector)
            .int(metric::MONITORING_DROPPED_STORAGE, c.dropped_storage)
            .int(metric::MONITORING_IN_FLIGHT_END, self.in_flight(end))
            .float(metric::MONITORING_DELAY_P50_MS, q(0.5))
            .float(metric::MONITORING_DELAY_P95_MS, q(0.95))
            .float(metric::MONITORING_DELAY_P99_MS, q(0.99))
            .float(metric::COLLECTOR_WAIT_MEAN_MS, wait * 1e3)
            .float(metric::COLLECTOR_WAIT_CI95_MS, ci * 1e3)
            .int(metric::COLLECTOR_COUNT_MAX, self.collector_max)
            .float(metric::COLLECTOR_UTILIZATION_MEAN, self.util_sum / n)
            .float(metric::STORAGE_UTILIZATION_MEAN, self.storage_util_sum / n)
            .int(metric::STORAGE_POINTS_WRITTEN, c.points_written)
            .int(metric::AGENTS_DECLARED_DEAD, c.agents_declared_dead)
            .int(metric::PULL_FAILURES, c.pull_failures)
            .int(metric::ON_DEMAND_CALLS, c.on_demand_calls)
            .int(metric::ON_DEMAND_FAILURES, c.on_demand_failures);
    }

    fn take_tables(&mut self) -> Vec<Table> {
        vec![self.series.take()]
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
            Notice::CreateGaveUp { .. } | Notice::Deleted { .. } => {}
        }
    }

    fn sample(&mut self, now: SimTime, _: ()) {
        self.sample_series(now);
    }

    #[inline]
    fn prefetch(&self, ev: &MonEvent) {
        self.prefetch_state(ev);
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Model, RunControl};

    #[test]
    fn agent_state_fits_two_cache_lines() {
        assert_eq!(std::mem::size_of::<Agent>(), 128);
        assert_eq!(std::mem::offset_of!(Agent, sent_at), 72);
    }

    #[derive(Copy, Clone, Debug)]
    enum Ev {
        Sample,
        Mon(MonEvent),
    }
    impl From<MonEvent> for Ev {
        fn from(e: MonEvent) -> Self {
            Ev::Mon(e)
        }
    }
    /// The monitoring model with a sampler that, like the world's, owns entity 0 (its events
    /// come first at any instant).
    struct Harness {
        m: Monitoring,
        every: SimDuration,
    }
    impl Model for Harness {
        type Event = Ev;
        fn handle(&mut self, s: &mut Scheduler<Ev>, e: EntityId, ev: Ev) {
            match ev {
                Ev::Sample => {
                    SubModel::<Ev>::sample(&mut self.m, s.now(), ());
                    s.post_in(self.every, e, Ev::Sample);
                }
                Ev::Mon(ev) => self.m.handle(s, ev, ()),
            }
        }
    }

    fn run(inline: bool, agents: u32, service: &str) -> (u64, String, Vec<u8>) {
        // Zero network delay and a 4 ns report interval: reports arrive on a grid of whole
        // nanoseconds, services of 3 ns end on it too, and rounds (10 ns) and samples (5 ns)
        // fall on it: arrivals, completions, rounds and samples keep landing on the same
        // instant, where their order decides queue lengths, drops and round contents.
        let spec: MonitoringSpec = toml::from_str(&format!(
            r#"
            interval = "4ns"
            agent_start_delay = "0s"
            inline_service = {inline}
            [collectors]
            policy = "fixed"
            count = 2
            server_cores = 2
            interval = "10ns"
            service_time = "{service}"
            buffer = 1
            dead_after_rounds = 1
            "#
        ))
        .expect("spec");
        let mut s = Scheduler::new();
        let sampler = s.alloc_entities(1).get(0);
        s.post_at(SimTime::ZERO, sampler, Ev::Sample);
        let n = agents;
        let path = PathDelay {
            median_s: 0.0,
            jitter: 0.0,
            floor_s: 0.0,
        };
        let horizon = SimTime(10_000);
        let plan = Plan {
            enabled: true,
            site: crate::topology::Catalogue::builtin()
                .find_key("aws:us-east-1")
                .expect("a region")
                .clone(),
            paths: vec![path],
            agents: (0..n)
                .map(|i| super::super::plan::AgentPlan {
                    cloud: 0,
                    provider: i % 2,
                })
                .collect(),
            providers: 2,
            max_collectors: 2,
            initial_collectors: 2,
            // Fixed policy, 2 collectors on 2 cores: the shortcut is exact when asked for.
            inline_service: inline,
            seed: 5,
            horizon,
            spec,
        };
        let m = Monitoring::new(&plan, &mut s);
        let mut h = Harness {
            m,
            every: SimDuration::from_nanos(5),
        };
        for a in 0..n {
            h.m.vm_running(&mut s, a);
        }
        let out = s.run_until(&mut h, horizon, &mut RunControl::none());
        h.m.finish(out.end);
        let mut sum = Summary::new();
        h.m.summarize(&mut sum, out.end);
        assert!(
            h.m.counts.dropped_collector > 0,
            "the buffer of 1 overflows"
        );
        let series = h.m.take_tables().remove(0).to_csv();
        (out.events, sum.to_csv(), series)
    }

    /// The inline shortcut decides same-instant ties exactly as the simulated completions do.
    #[test]
    fn inline_service_breaks_ties_like_events() {
        for (agents, service) in [(7, "3ns"), (20, "1ns"), (12, "2ns")] {
            let (ev_inline, sum_inline, series_inline) = run(true, agents, service);
            let (ev_events, sum_events, series_events) = run(false, agents, service);
            assert!(ev_inline < ev_events);
            assert_eq!(sum_inline, sum_events, "{agents} agents, {service}");
            assert!(series_inline == series_events, "monitoring.csv differs");
        }
    }
}
