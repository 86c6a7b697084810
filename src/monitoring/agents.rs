//! CB-Dragonfly's agents (CB-Agent, a customised Telegraf), one per VM: installed
//! `agent_start_delay` after the VM is first Running, stopped and restarted with it. In push
//! mode each sends a report every `interval` from a seeded phase (Telegraf's fixed interval, or
//! exponential gaps with the same mean); the report travels to the monitoring site with its
//! cloud's one-way delay and may be lost. The agent's timer fires when the report *arrives*, so
//! a report costs one event. In pull mode the server polls every agent each `pull_interval`
//! (a call there and back). (The agent's topic at the site, its collector and the rounds it
//! was heard in, is the collecting side's: `topics.rs`.)
//!
//! The agents live in the order their reports arrive in, not in id order: with a fixed
//! interval the order repeats, so consecutive reports touch agents' lines near each other
//! (at ten million agents, a few megabytes around the clock instead of 640 MB at random).
//! With several sites whose reports run on parts of the event list of their own, each site's
//! agents are laid out together. [`Agents::lay_out`] sorts them at an aggregation round once
//! the starts have settled; each report event names its agent's slot, and the layout renames
//! the slots of the pending ones.
//! The collecting side keeps its per-agent tables by the same slots and follows each layout
//! (`slots.rs`).
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.2 (agent, Telegraf interval) and 2.5
//! (pull mode); the delay model is the latency model's probe distribution (see
//! `network::latency`).

use super::config::{Arrivals, Mode};
use super::events::{AsMonEvent, MonEvent};
use super::plan::{PathDelay, Plan};
use crate::engine::hint::prefetch;
use crate::engine::{
    CounterCursor, CounterFamily, DurationDist, EntityId, EntityRange, EventHandle, Probability,
    Scheduler, Seq, SimDuration, SimTime,
};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

/// When the agents are laid out again in the order of their reports ([`Agents::lay_out`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Never: agents stay in id order.
    #[cfg_attr(not(test), allow(dead_code))]
    Never,
    /// At an aggregation round once an eighth of the agents drew a new phase since the last
    /// layout and the starts have settled (see [`Agents::layout_due`]).
    WhenSettled,
    /// At every aggregation round (tests: the results must not change).
    #[cfg_attr(not(test), allow(dead_code))]
    EveryRound,
}

/// One agent's state, packed into one cache line: a million of them are touched in random
/// order, one report at a time, so their size sets the simulator's speed at scale.
#[derive(Clone, Debug)]
#[repr(C, align(64))] // fields in this order: 56 bytes, one line
pub(super) struct Agent {
    /// The agent's own stream (phase, delays, gaps, loss): a counter-based stream, 16 bytes
    /// (see `engine::counter_rng`).
    rng: CounterCursor,
    /// Send time of the report in flight (see `in_flight`).
    sent_at: SimTime,
    start: Option<EventHandle>,
    /// Generation of the agent's report events: a report whose event carries another epoch was
    /// withdrawn (its VM stopped before sending it) and is ignored when it fires. Cheaper than
    /// a cancellable event: the report timer, one event per report, takes no slot in the
    /// scheduler's cancellation table.
    epoch: u32,
    cloud: u32,
    /// The sequence counter of the agent's entity (the engine's tie-breaker), here in the
    /// line every report touches rather than in the scheduler's table: one random memory
    /// access less per report at scale.
    seq: Seq,
    vm_running: bool,
    installed: bool,
    /// Stop after the report in flight (the VM stopped after it was sent).
    stopping: bool,
    /// A report event of the current epoch is pending (push: the next report; pull: the
    /// answer to a poll).
    in_flight: bool,
    /// The agent's id (its slot in `Agents::all` moves: see `Agents::lay_out`).
    id: u32,
}

/// The agents and what they report through.
pub(super) struct Agents {
    /// Indexed by slot: in the order of their reports after `lay_out`, in id order before.
    all: Vec<Agent>,
    /// Each agent's slot in `all`, by id.
    slot_of: Vec<u32>,
    /// Agents that drew a new phase (started reporting: counted where `start_reporting` is
    /// called with `first`, off the report's path) since the last layout.
    rephased: u64,
    /// `rephased` at the last round.
    rephased_at_round: u64,
    layout: Layout,
    /// Layouts so far.
    layouts: u32,
    fam: CounterFamily,
    ids: EntityRange,
    paths: Vec<PathDelay>,
    mode: Mode,
    arrivals: Arrivals,
    interval: SimDuration,
    start_delay: DurationDist,
    loss_p: Probability,
    /// Agents installed on a Running VM.
    running: u32,
    /// Each cloud's site (the nearest, see `plan::nearest`).
    cloud_site: Vec<u32>,
    /// With each site's reports on a part of the event list of its own (see
    /// `Monitoring::new_with`): the first site's part; site `k`'s is `first_part + k`.
    first_part: Option<u32>,
}

impl Agents {
    /// One agent per VM slot of the plan, with entities `ids` (from
    /// [`Scheduler::alloc_entities_own_seq`]: the agents keep their sequence counters) and
    /// streams `fam`; each site's reports on part `first_part + site` of the event list when
    /// given (see [`Scheduler::add_parts`]).
    pub(super) fn new(
        plan: &Plan,
        ids: EntityRange,
        fam: CounterFamily,
        first_part: Option<u32>,
    ) -> Self {
        let spec = &plan.spec;
        Agents {
            all: plan
                .agents
                .iter()
                .enumerate()
                .map(|(i, a)| Agent {
                    rng: fam.cursor(i as u32),
                    sent_at: SimTime::ZERO,
                    epoch: 0,
                    start: None,
                    cloud: a.cloud,
                    seq: Seq::default(),
                    vm_running: false,
                    installed: false,
                    stopping: false,
                    in_flight: false,
                    id: i as u32,
                })
                .collect(),
            slot_of: (0..plan.agents.len() as u32).collect(),
            rephased: 0,
            rephased_at_round: 0,
            layout: Layout::WhenSettled,
            layouts: 0,
            fam,
            ids,
            paths: plan.paths.clone(),
            mode: spec.mode,
            arrivals: spec.arrivals,
            interval: spec.interval,
            start_delay: spec.agent_start_delay.clone(),
            loss_p: spec.loss_p,
            running: 0,
            cloud_site: plan.cloud_site.clone(),
            first_part,
        }
    }

    /// The site of `cloud` (0 for a cloud the run has not added yet).
    pub(super) fn site_of_cloud(&self, cloud: u32) -> u32 {
        self.cloud_site.get(cloud as usize).copied().unwrap_or(0)
    }

    /// The first site's part of the event list, if the sites have parts.
    pub(super) fn first_part(&self) -> Option<u32> {
        self.first_part
    }

    /// The part of the event list the reports of `agent` are on, if the sites have parts.
    pub(super) fn part_of(&self, agent: u32) -> Option<u32> {
        let first = self.first_part?;
        let cloud = self.all[self.slot_of[agent as usize] as usize].cloud;
        Some(first + self.site_of_cloud(cloud))
    }

    /// Posts the report event `ev` of the agent at `slot`, arriving `at`: on its site's part
    /// of the event list, if the sites have parts.
    #[inline(always)]
    fn post_report<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        slot: u32,
        at: SimTime,
        ev: MonEvent,
    ) {
        let a = &mut self.all[slot as usize];
        let entity = self.ids.get(a.id);
        match self.first_part {
            None => sched.post_at_seq(at, entity, &mut a.seq, ev.into()),
            Some(first) => {
                let part = first + self.cloud_site[a.cloud as usize];
                sched.post_at_seq_in(part, at, entity, &mut a.seq, ev.into())
            }
        }
    }

    pub(super) fn owns(&self, e: EntityId) -> bool {
        self.ids.contains(e)
    }

    /// Agents installed on a Running VM.
    pub(super) fn running(&self) -> u32 {
        debug_assert_eq!(
            self.running as usize,
            self.all
                .iter()
                .filter(|a| a.installed && a.vm_running)
                .count()
        );
        self.running
    }

    /// A cloud joined the run: its site and its path there.
    pub(super) fn add_path(&mut self, path: PathDelay, site: u32) {
        self.paths.push(path);
        self.cloud_site.push(site);
    }

    /// Whether the agent answers: installed on a Running VM.
    pub(super) fn up(&self, agent: u32) -> bool {
        self.slot_of
            .get(agent as usize)
            .is_some_and(|&s| self.all[s as usize].installed && self.all[s as usize].vm_running)
    }

    /// The slot of `agent` (its state moves: see [`Agents::lay_out`]).
    pub(super) fn slot_of(&self, agent: u32) -> u32 {
        self.slot_of[agent as usize]
    }

    /// The cloud `agent` reports from.
    pub(super) fn cloud(&self, agent: u32) -> u32 {
        self.all[self.slot_of[agent as usize] as usize].cloud
    }

    /// Sets where a scale-out VM's agent reports from.
    pub(super) fn place(&mut self, agent: u32, cloud: u32) {
        self.all[self.slot_of[agent as usize] as usize].cloud = cloud;
    }

    /// The VM of `agent` entered Running: install (first time) or restart its agent.
    pub(super) fn vm_running<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
    ) {
        let slot = self.slot_of[agent as usize];
        let a = &mut self.all[slot as usize];
        if a.installed && !a.vm_running {
            self.running += 1;
        }
        a.vm_running = true;
        a.stopping = false;
        if a.installed {
            if !a.in_flight {
                self.rephased += 1;
                self.start_reporting(sched, slot, true);
            }
        } else if a.start.is_none() {
            let d = self.start_delay.sample(&mut self.fam.at(agent, &mut a.rng));
            let h = sched.schedule_in_seq(
                d,
                self.ids.get(agent),
                &mut a.seq,
                MonEvent::AgentStart { agent }.into(),
            );
            a.start = Some(h);
        }
    }

    /// The VM of `agent` left Running: its agent stops (a report already sent still arrives).
    pub(super) fn vm_stopped<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
    ) {
        let now = sched.now();
        let a = &mut self.all[self.slot_of[agent as usize] as usize];
        if a.installed && a.vm_running {
            self.running -= 1;
        }
        a.vm_running = false;
        if let Some(h) = a.start.take() {
            sched.cancel(h);
        }
        if self.mode == Mode::Push && a.in_flight {
            if a.sent_at > now {
                // Not sent yet: withdrawn (its event will find another epoch).
                a.epoch = a.epoch.wrapping_add(1);
                a.in_flight = false;
            } else {
                a.stopping = true;
            }
        }
    }

    /// The agent is installed: it starts reporting if its VM still runs.
    pub(super) fn installed<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        agent: u32,
    ) {
        let slot = self.slot_of[agent as usize];
        let a = &mut self.all[slot as usize];
        a.start = None;
        if !a.installed && a.vm_running {
            self.running += 1;
        }
        a.installed = true;
        if a.vm_running {
            self.rephased += 1;
            self.start_reporting(sched, slot, true);
        }
    }

    /// The report event of `epoch` of the agent at `slot` fires: if it is still current (not
    /// withdrawn), the report arrives at the site; schedules the next one (push mode, VM still
    /// running) and returns the arrived report's send time. `None` for a withdrawn report.
    #[inline]
    pub(super) fn report_arrived<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        slot: u32,
        epoch: u32,
    ) -> Option<SimTime> {
        let a = &mut self.all[slot as usize];
        if a.epoch != epoch {
            return None;
        }
        debug_assert!(a.in_flight, "a current report event is in flight");
        a.in_flight = false;
        let sent_at = a.sent_at;
        let stop = a.stopping;
        a.stopping = false;
        if self.mode == Mode::Push && !stop && a.vm_running {
            self.start_reporting(sched, slot, false);
        }
        Some(sent_at)
    }

    /// One network traversal of the path of the agent at `slot`, drawn from its stream.
    #[inline]
    fn one_way(&mut self, slot: u32) -> SimDuration {
        let a = &mut self.all[slot as usize];
        let p = self.paths[a.cloud as usize];
        let e: f64 = Exp1.sample(&mut self.fam.at(a.id, &mut a.rng));
        let t = p.median_s * (1.0 + p.jitter * (e - std::f64::consts::LN_2));
        SimDuration::from_secs_f64(t.max(p.floor_s))
    }

    /// Schedules the next report of the agent at `slot`: sent after `gap` (or a random phase
    /// when `first`).
    #[inline]
    fn start_reporting<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        slot: u32,
        first: bool,
    ) {
        if self.mode == Mode::Pull {
            return; // polled by the server
        }
        let iv = self.interval.as_secs_f64();
        let a = &mut self.all[slot as usize];
        let mut rng = self.fam.at(a.id, &mut a.rng);
        let gap = match self.arrivals {
            // Telegraf's fixed interval from a uniform phase. (The interval itself, not its
            // round trip through seconds: the same nanoseconds below 23 days, one conversion
            // less per report.)
            Arrivals::Periodic if first => SimDuration::from_secs_f64(iv * rng.random::<f64>()),
            Arrivals::Periodic => self.interval,
            // Memoryless from the start, so the aggregate is Poisson at once.
            Arrivals::Poisson => SimDuration::from_secs_f64(-(1.0 - rng.random::<f64>()).ln() * iv),
        };
        let base = if first { sched.now() } else { a.sent_at };
        let send = base + gap;
        // A short gap and a faster path could land before the report that just arrived:
        // reports of one agent arrive in order.
        let arrive = (send + self.one_way(slot)).max(sched.now());
        let a = &mut self.all[slot as usize];
        let epoch = a.epoch;
        a.sent_at = send;
        a.in_flight = true;
        self.post_report(sched, slot, arrive, MonEvent::Report { slot, epoch });
    }

    /// The report of the agent at `slot` arriving now is lost on the network (`loss_p`, from
    /// the agent's stream).
    #[inline]
    pub(super) fn lost(&mut self, slot: u32) -> bool {
        let a = &mut self.all[slot as usize];
        self.loss_p.get() > 0.0 && self.loss_p.sample(&mut self.fam.at(a.id, &mut a.rng))
    }

    /// Pull mode: the server polls every installed agent; the answer is an arrival one round
    /// trip later. Returns the failed calls (VM down, or the previous poll still out).
    pub(super) fn poll<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>) -> u64 {
        let now = sched.now();
        let mut failures = 0;
        for agent in 0..self.all.len() {
            let slot = self.slot_of[agent];
            let a = &self.all[slot as usize];
            if !a.installed {
                continue;
            }
            if !a.vm_running || a.in_flight {
                failures += 1;
                continue;
            }
            let rtt = self.one_way(slot) + self.one_way(slot);
            let a = &mut self.all[slot as usize];
            a.sent_at = now;
            a.in_flight = true;
            let epoch = a.epoch;
            self.post_report(sched, slot, now + rtt, MonEvent::Report { slot, epoch });
        }
        failures
    }

    /// Sets when the agents are laid out (tests).
    #[cfg(test)]
    pub(super) fn set_layout(&mut self, layout: Layout) {
        self.layout = layout;
    }

    /// Layouts so far.
    #[cfg(test)]
    pub(super) fn layouts(&self) -> u32 {
        self.layouts
    }

    /// Whether to lay the agents out again (see [`Agents::lay_out`]), asked at each
    /// aggregation round. Only push mode with a fixed interval repeats its order. By
    /// default, once an eighth of the agents drew a new phase (started reporting) since the
    /// last layout, and the starts have settled: fewer started in the last round than a 64th
    /// of those. (At ten million agents a layout takes seconds, so it waits for the creation's
    /// wave of starts to end rather than following it; under steady churn it comes every 64
    /// rounds at most.)
    pub(super) fn layout_due(&mut self) -> bool {
        let n = self.all.len() as u64;
        let new = self.rephased - self.rephased_at_round;
        self.rephased_at_round = self.rephased;
        let periodic = self.mode == Mode::Push && self.arrivals == Arrivals::Periodic;
        periodic
            && match self.layout {
                Layout::Never => false,
                Layout::WhenSettled => self.rephased >= n / 8 && new <= self.rephased / 64,
                Layout::EveryRound => true,
            }
    }

    /// Lays the agents out in the order their pending reports arrive in: a fixed interval
    /// repeats the order (up to the network's jitter), so the reports of the next intervals
    /// touch agents' lines near each other instead of at random over all of them (at ten
    /// million agents, 640 MB). Where an agent lives is all that changes: each keeps its id,
    /// stream and sequence, and the pending reports are renamed to the new slots in the event
    /// list, so the results stay the same. Returns where each slot went (`new_slot[old]`), for
    /// the collecting side's tables to follow (see `slots.rs`).
    pub(super) fn lay_out<E: AsMonEvent + Copy>(&mut self, sched: &mut Scheduler<E>) -> Vec<u32> {
        self.rephased = 0;
        self.rephased_at_round = 0;
        self.layouts += 1;
        let now = sched.now();
        // Each slot's sort key: when its current report arrives, in microseconds from now
        // (agents with none last), then the slot itself, in one word.
        let mut keys: Vec<u64> = (0..self.all.len() as u64)
            .map(|slot| (u64::from(u32::MAX) << 32) | slot)
            .collect();
        let all = &self.all;
        sched.rewrite_pending(|t, e| {
            if let Some(&mut MonEvent::Report { slot, epoch }) = e.as_mon_event() {
                let a = &all[slot as usize];
                if a.in_flight && a.epoch == epoch {
                    let us = t.as_nanos().saturating_sub(now.as_nanos()) / 1_000;
                    let us = us.min(u64::from(u32::MAX - 1));
                    keys[slot as usize] = (us << 32) | u64::from(slot);
                }
            }
        });
        if self.first_part.is_none() {
            keys.sort_unstable();
        } else {
            // Each site's agents together, in the order of their reports: a stretch of one
            // site's reports touches one stretch of agents.
            let all = &self.all;
            let site = |key: u64| self.cloud_site[all[key as u32 as usize].cloud as usize];
            let mut wide: Vec<u128> = keys
                .iter()
                .map(|&k| (u128::from(site(k)) << 64) | u128::from(k))
                .collect();
            wide.sort_unstable();
            for (k, w) in keys.iter_mut().zip(wide) {
                *k = w as u64;
            }
        }
        // `keys` now holds the old slots in their new order.
        let mut new_slot = vec![0u32; self.all.len()];
        for (to, &key) in keys.iter().enumerate() {
            new_slot[key as u32 as usize] = to as u32;
        }
        drop(keys);
        super::slots::permute(&new_slot, |i, j| self.all.swap(i, j));
        for (slot, a) in self.all.iter().enumerate() {
            self.slot_of[a.id as usize] = slot as u32;
        }
        sched.rewrite_pending(|_, e| {
            if let Some(MonEvent::Report { slot, .. }) = e.as_mon_event() {
                *slot = new_slot[*slot as usize];
            }
        });
        new_slot
    }

    /// An on-demand call to the agent: whether it can answer, and the round trip to it.
    pub(super) fn on_demand(&self, agent: u32) -> (bool, SimDuration) {
        let a = &self.all[self.slot_of[agent as usize] as usize];
        let p = self.paths[a.cloud as usize];
        (
            a.installed && a.vm_running,
            SimDuration::from_secs_f64(2.0 * p.median_s),
        )
    }

    /// Reports sent by `now` and still on the network.
    pub(super) fn in_network(&self, now: SimTime) -> u64 {
        self.all
            .iter()
            .filter(|a| a.in_flight && a.sent_at <= now)
            .count() as u64
    }

    /// Starts loading the state of the agent at `slot` a report will touch (see
    /// `engine::hint`).
    #[inline]
    pub(super) fn prefetch_report(&self, slot: u32) {
        if let Some(a) = self.all.get(slot as usize) {
            prefetch(a); // its one line
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_state_fits_one_cache_line() {
        assert_eq!(std::mem::size_of::<Agent>(), 64);
        assert_eq!(std::mem::align_of::<Agent>(), 64);
    }
}
