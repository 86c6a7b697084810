//! CB-Dragonfly's collectors: each agent's topic belongs to one collector, chosen by the
//! collector policy (one module each: [`agent_count`], [`csp`], [`fixed`], behind the
//! [`policy::CollectorPolicy`] trait, selected by the plan). A collector is a FIFO single
//! server with a finite buffer (`buffer`; more messages are dropped); all collectors may
//! instead serve one shared FIFO (an M/M/c queue, for validation). Services run on the
//! monitoring server's `server_cores`: when more collectors are busy than there are cores, a
//! service stretches by busy / cores (processor sharing, approximated at service start). In
//! pull mode a message is a poll answer of `pull_calls` metric calls. Each processed report
//! joins its collector's round: its send time, and its agent's points once per round.
//!
//! Where exact, services are computed on arrival instead of simulated as events ([`inline`]);
//! elsewhere the collectors keep their own completions and apply them in the engine's order
//! ([`deferred`]). Either way a report costs one engine event instead of two, and the
//! collectors need no scheduler: they can run apart from the engine (see `sink.rs`). Only the
//! plain per-collector and shared queues complete services as engine events; their
//! completions go to an outbox the caller schedules ([`Collectors::take_outbox`]).
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.4 (collectors, topics, policies,
//! scale-in of the highest index) and 2.5 (pull calls).

mod agent_count;
mod csp;
mod deferred;
mod fixed;
mod inline;
mod policy;
mod round_points;
#[cfg(test)]
mod ties;

use super::config::{Mode, Policy, QueueDiscipline};
use super::plan::{Plan, SitePlan};
use super::series::Series;
use super::topics::{NO_COLLECTOR, Topic, Topics};
use crate::engine::{CounterCursor, CounterFamily, DurationDist, SimDuration, SimTime};
use deferred::Deferred;
use inline::Pending;
use policy::CollectorPolicy;
use round_points::RoundPoints;
use std::collections::VecDeque;
use std::num::NonZeroU32;

/// A report at the monitoring site.
#[derive(Copy, Clone, Debug)]
pub(super) struct Msg {
    /// Its agent's slot (`slots.rs`).
    pub(super) slot: u32,
    pub(super) sent_at: SimTime,
    pub(super) arrived: SimTime,
}

#[derive(Clone, Debug)]
struct Collector {
    /// Messages of the inline-service mode not yet finished as of the last catch-up.
    pending: VecDeque<Pending>,
    queue: VecDeque<Msg>,
    in_service: Option<Msg>,
    topics: u32,
    /// The collector's stream of service times (see `engine::counter_rng`).
    rng: CounterCursor,
    /// Send times of the reports processed in the current round.
    round_reports: Vec<SimTime>,
    round_points: u64,
}

impl Collector {
    /// Collector `c`, its service stream from `fam`.
    fn new(c: u32, fam: &CounterFamily) -> Self {
        Collector {
            pending: VecDeque::new(),
            queue: VecDeque::new(),
            in_service: None,
            topics: 0,
            rng: fam.cursor(c),
            round_reports: Vec::new(),
            round_points: 0,
        }
    }

    /// A report of the agent at `slot`, sent at `sent_at`, is processed: it joins the round,
    /// and the agent's `points` count once per round.
    #[inline]
    fn finish(&mut self, sent_at: SimTime, slot: u32, counted: &mut Counted) {
        self.round_reports.push(sent_at);
        if counted.marks.first_in(slot, counted.round) {
            self.round_points += counted.points;
        }
    }
}

/// What a completion needs to count its agent's points: the round's marks, the round and
/// the points of one agent's round.
struct Counted<'a> {
    marks: &'a mut RoundPoints,
    round: u32,
    points: u64,
}

/// The collectors, active ones first: those below `active` take topics and messages; retired
/// ones (agentCount scale-in) only finish the message in service. Never empty.
pub(super) struct Pool {
    all: Vec<Collector>,
    active: u32,
    /// The most collectors active at once.
    most: u32,
    /// The collectors' service streams (a new collector's starts from its index).
    fam: CounterFamily,
}

impl Pool {
    fn new(initial: NonZeroU32, fam: CounterFamily) -> Self {
        Pool {
            all: (0..initial.get())
                .map(|c| Collector::new(c, &fam))
                .collect(),
            fam,
            active: initial.get(),
            most: initial.get(),
        }
    }

    pub(super) fn active(&self) -> u32 {
        self.active
    }

    pub(super) fn topics(&self, c: u32) -> u32 {
        self.all[c as usize].topics
    }

    pub(super) fn add_topic(&mut self, c: u32) {
        self.all[c as usize].topics += 1;
    }

    /// Starts one more collector (reusing a retired one's state); returns it.
    pub(super) fn add(&mut self) -> u32 {
        let c = self.active;
        if (c as usize) == self.all.len() {
            self.all.push(Collector::new(c, &self.fam));
        }
        self.active += 1;
        self.most = self.most.max(self.active);
        c
    }

    /// Retires the highest-index active collector, its topics gone; returns it.
    pub(super) fn retire_last(&mut self) -> u32 {
        self.active -= 1;
        let gone = self.active;
        self.all[gone as usize].topics = 0;
        gone
    }
}

/// How arriving messages are served.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Discipline {
    /// Per-collector FIFOs, services computed on arrival (see `Plan::inline_service`).
    Inline,
    /// Per-collector FIFOs, completions applied in time order by the collectors themselves
    /// (see [`deferred`]).
    Deferred,
    /// Per-collector FIFOs, each service an event.
    PerCollector,
    /// One FIFO for all collectors.
    Shared,
}

/// Message service on the monitoring server: service times and CPU contention.
struct Service {
    /// Service-time streams, one per collector.
    fam: CounterFamily,
    time: DurationDist,
    /// Pull mode: metric calls per message.
    pull_calls: Option<u64>,
    cores: u32,
    /// Collectors serving a message.
    busy: u32,
    /// Completions kept by the collectors instead of the engine (see [`deferred`]).
    deferred: Option<Deferred>,
    /// Otherwise, completions for the engine to schedule: (when, collector), in the order
    /// the services started.
    outbox: Vec<(SimTime, u32)>,
}

impl Service {
    /// The next service time of collector `c`, from its stream.
    #[inline]
    fn draw(&self, c: u32, rng: &mut CounterCursor) -> SimDuration {
        self.time.sample(&mut self.fam.at(c, rng))
    }

    /// Collector `c` starts serving `msg` at `now`: accounts the wait and the CPU time, and
    /// returns when the service ends. CPU contention: with more collectors busy than cores,
    /// the service stretches by busy / cores.
    #[inline]
    fn begin(
        &mut self,
        now: SimTime,
        c: u32,
        col: &mut Collector,
        msg: Msg,
        s: &mut Series,
    ) -> SimTime {
        s.waits.record(now, msg.arrived);
        self.busy += 1;
        let mut d = self.draw(c, &mut col.rng);
        if let Some(calls) = self.pull_calls {
            d = SimDuration(d.as_nanos().saturating_mul(calls));
        }
        if self.busy > self.cores {
            d = SimDuration(stretch(d.as_nanos(), self.busy, self.cores));
        }
        col.in_service = Some(msg);
        s.iv_busy_ns += d.as_nanos();
        now + d
    }

    /// Collector `c` starts serving `msg` at `now`; its completion is an entry of `deferred`
    /// (deferred completions), or an engine event to schedule (the outbox).
    #[inline]
    fn start(&mut self, now: SimTime, c: u32, col: &mut Collector, msg: Msg, s: &mut Series) {
        let done = self.begin(now, c, col, msg, s);
        match &mut self.deferred {
            Some(d) => d.push(done, c, msg.slot),
            None => self.outbox.push((done, c)),
        }
    }
}

/// `ns * busy / cores`, rounded down: in 64 bits when the product fits (a 128-bit division
/// is a slow library call, and this runs for every service under contention), else in 128.
#[inline]
fn stretch(ns: u64, busy: u32, cores: u32) -> u64 {
    match ns.checked_mul(busy as u64) {
        Some(p) => p / cores as u64,
        None => (ns as u128 * busy as u128 / cores as u128) as u64,
    }
}

/// The collectors, their policy and their service.
pub(super) struct Collectors {
    pool: Pool,
    policy: Box<dyn CollectorPolicy>,
    service: Service,
    discipline: Discipline,
    shared: VecDeque<Msg>,
    buffer: usize,
    /// Points of one agent's round (its measurements).
    points_per_agent: u64,
    /// Agents whose points count in the current round already.
    round_points: RoundPoints,
    /// Agents with a topic.
    registered: u32,
}

impl Collectors {
    /// The initial collectors of `site` (one of the plan's), with service streams `fam`.
    pub(super) fn new(plan: &Plan, site: &SitePlan, fam: CounterFamily) -> Self {
        let spec = &plan.spec;
        let c = &spec.collectors;
        // At least one collector, whatever the plan says (it says so too).
        let initial = NonZeroU32::new(site.initial_collectors).unwrap_or(NonZeroU32::MIN);
        let discipline = match c.queue {
            QueueDiscipline::PerCollector if site.inline_service => Discipline::Inline,
            QueueDiscipline::PerCollector if site.deferred_completions => Discipline::Deferred,
            QueueDiscipline::PerCollector => Discipline::PerCollector,
            QueueDiscipline::Shared => Discipline::Shared,
        };
        Collectors {
            pool: Pool::new(initial, fam),
            policy: policy_of(plan, initial),
            service: Service {
                fam,
                time: c.service_time.clone(),
                pull_calls: (spec.mode == Mode::Pull).then_some(spec.pull_calls.max(1) as u64),
                cores: c.server_cores.max(1),
                busy: 0,
                deferred: (discipline == Discipline::Deferred).then(Deferred::default),
                outbox: Vec::new(),
            },
            discipline,
            shared: VecDeque::new(),
            buffer: c.buffer as usize,
            points_per_agent: spec.measurements as u64,
            round_points: RoundPoints::default(),
            registered: 0,
        }
    }

    /// Whether services may complete as engine events (see [`Collectors::take_outbox`]).
    pub(super) fn completes_as_events(&self) -> bool {
        matches!(
            self.discipline,
            Discipline::PerCollector | Discipline::Shared
        )
    }

    /// The completions started since the last call, for the engine to schedule as
    /// `ServiceDone` events: (when, collector), in the order the services started.
    pub(super) fn take_outbox(&mut self) -> impl Iterator<Item = (SimTime, u32)> + '_ {
        self.service.outbox.drain(..)
    }

    /// Whether completions wait in the outbox.
    pub(super) fn outbox_is_empty(&self) -> bool {
        self.service.outbox.is_empty()
    }

    /// Collectors in service.
    pub(super) fn active(&self) -> u32 {
        self.pool.active
    }

    /// The most collectors in service at once.
    pub(super) fn most(&self) -> u32 {
        self.pool.most
    }

    pub(super) fn registered(&self) -> u32 {
        self.registered
    }

    /// Topics on collector `c` (tests).
    #[cfg(test)]
    pub(super) fn topics_of(&self, c: u32) -> u32 {
        self.pool.topics(c)
    }

    /// Gives the topic `a` (of an agent of `provider`) a collector, as the policy says.
    pub(super) fn register(&mut self, provider: u32, a: &mut Topic) -> u32 {
        let c = self.policy.assign(&mut self.pool, provider);
        self.pool.add_topic(c);
        self.registered += 1;
        a.collector = c;
        a.silent_rounds = 0;
        c
    }

    /// The topic of a dead agent on collector `c` is deleted.
    pub(super) fn release(&mut self, c: u32) {
        self.pool.all[c as usize].topics -= 1;
        self.policy.released(c);
        self.registered -= 1;
    }

    /// A report reaches collector `c`. Returns false if it is dropped (buffer full).
    #[inline]
    pub(super) fn arrive(&mut self, now: SimTime, s: &mut Series, c: u32, msg: Msg) -> bool {
        match self.discipline {
            Discipline::Inline => return self.arrive_inline(c, msg, s),
            Discipline::PerCollector | Discipline::Deferred => {
                let col = &mut self.pool.all[c as usize];
                if col.in_service.is_none() {
                    self.service.start(now, c, col, msg, s);
                } else if col.queue.len() >= self.buffer {
                    return false;
                } else {
                    col.queue.push_back(msg);
                }
            }
            Discipline::Shared => {
                let pool = &mut self.pool;
                if let Some(idle) =
                    (0..pool.active).find(|i| pool.all[*i as usize].in_service.is_none())
                {
                    let col = &mut pool.all[idle as usize];
                    self.service.start(now, idle, col, msg, s);
                } else if self.shared.len() >= self.buffer {
                    return false;
                } else {
                    self.shared.push_back(msg);
                }
            }
        }
        true
    }

    /// Collector `c` finished its message at `now` (in aggregation round `round`) and takes
    /// the next.
    pub(super) fn service_done(&mut self, now: SimTime, c: u32, round: u32, s: &mut Series) {
        self.service.busy -= 1;
        let col = &mut self.pool.all[c as usize];
        let msg = col.in_service.take().expect("a message in service");
        let mut counted = Counted {
            marks: &mut self.round_points,
            round,
            points: self.points_per_agent,
        };
        col.finish(msg.sent_at, msg.slot, &mut counted);
        let next = match self.discipline {
            Discipline::Inline | Discipline::PerCollector | Discipline::Deferred => {
                col.queue.pop_front()
            }
            Discipline::Shared if c < self.pool.active => self.shared.pop_front(),
            Discipline::Shared => None,
        };
        if let Some(m) = next {
            self.service.start(now, c, col, m, s);
        }
    }

    /// Applies the services computed ahead ([`inline`]) or the completions kept
    /// ([`deferred`]) up to `t` (inclusive or not: the sampler runs before every other event
    /// of its instant, the round after them), in aggregation round `round`.
    pub(in crate::monitoring) fn catch_up(
        &mut self,
        t: SimTime,
        inclusive: bool,
        round: u32,
        s: &mut Series,
    ) {
        match self.discipline {
            Discipline::Inline => self.catch_up_inline(t, inclusive, round, s),
            Discipline::Deferred => self.settle_deferred(t, inclusive, round, s),
            Discipline::PerCollector | Discipline::Shared => {}
        }
    }

    /// A report arrives at `now`: the completions kept before it are applied first (those at
    /// `now` come after it, as collectors' events come after agents').
    #[inline]
    pub(in crate::monitoring) fn before_arrival(
        &mut self,
        now: SimTime,
        round: u32,
        s: &mut Series,
    ) {
        if self.discipline == Discipline::Deferred {
            self.settle_deferred(now, false, round, s);
        }
    }

    /// Each collector's round with reports: their send times (the buffer, to swap) and their
    /// points (taken).
    pub(super) fn take_rounds(&mut self) -> impl Iterator<Item = (&mut Vec<SimTime>, u64)> {
        self.pool
            .all
            .iter_mut()
            .filter(|c| !c.round_reports.is_empty())
            .map(|c| (&mut c.round_reports, std::mem::take(&mut c.round_points)))
    }

    /// After an aggregation round at `now`: the policy's scale-in (these are the collectors
    /// of `site`, whose topics are those of `topics` at that site); a retired collector's
    /// queued messages follow their topics (or go to collector 0).
    pub(super) fn after_round(
        &mut self,
        now: SimTime,
        topics: &mut Topics,
        site: u16,
        s: &mut Series,
    ) {
        let service = &mut self.service;
        let mut requeue = |pool: &mut Pool, topics: &Topics, gone: u32| {
            let queued: Vec<Msg> = pool.all[gone as usize].queue.drain(..).collect();
            for m in queued {
                let to = match topics.all[m.slot as usize].collector {
                    NO_COLLECTOR => 0,
                    c => c,
                };
                let col = &mut pool.all[to as usize];
                if col.in_service.is_none() {
                    service.start(now, to, col, m, s);
                } else {
                    col.queue.push_back(m);
                }
            }
        };
        self.policy
            .scale_in(&mut self.pool, topics, site, self.registered, &mut requeue);
    }

    /// The agents moved to `new_slot[slot]` (see `slots.rs`): the messages held carry their
    /// new slots, and the round's marks move with them.
    pub(super) fn lay_out(&mut self, new_slot: &[u32]) {
        let rename = |slot: &mut u32| *slot = new_slot[*slot as usize];
        for col in &mut self.pool.all {
            col.pending.iter_mut().for_each(|p| rename(&mut p.slot));
            col.queue.iter_mut().for_each(|m| rename(&mut m.slot));
            col.in_service.iter_mut().for_each(|m| rename(&mut m.slot));
        }
        self.shared.iter_mut().for_each(|m| rename(&mut m.slot));
        if let Some(d) = &mut self.service.deferred {
            d.lay_out(new_slot);
        }
        self.round_points.lay_out(new_slot);
    }

    /// Messages waiting at each active collector at `now` (one entry for a shared queue).
    pub(super) fn backlogs(&self, now: SimTime) -> Vec<usize> {
        let active = &self.pool.all[..self.pool.active as usize];
        match self.discipline {
            Discipline::Inline => active.iter().map(|c| inline::backlog(c, now)).collect(),
            Discipline::PerCollector | Discipline::Deferred => {
                active.iter().map(|c| c.queue.len()).collect()
            }
            Discipline::Shared => vec![self.shared.len()],
        }
    }

    /// Reports at the collectors: queued, in service, or in a round not yet sent to storage.
    pub(super) fn held(&self) -> u64 {
        self.pool
            .all
            .iter()
            .map(|c| {
                (c.pending.len()
                    + c.queue.len()
                    + c.in_service.is_some() as usize
                    + c.round_reports.len()) as u64
            })
            .sum::<u64>()
            + self.shared.len() as u64
    }
}

/// The plan's policy, for `initial` collectors at the start.
fn policy_of(plan: &Plan, initial: NonZeroU32) -> Box<dyn CollectorPolicy> {
    let c = &plan.spec.collectors;
    match c.policy {
        Policy::AgentCount => Box::new(agent_count::AgentCount::new(c.max_host_count)),
        Policy::Csp => Box::new(csp::Csp::new(initial)),
        Policy::Fixed => Box::new(fixed::Fixed),
    }
}
