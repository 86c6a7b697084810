//! The auto-control loop as CB-Tumblebug runs it (`OrchestrationController`, v0.5.0).
//!
//! A ticker fires every `tick`; each tick runs one sequential pass over every policy, doing
//! exactly one step per policy according to its status:
//! Ready -> (Checking) fetch on-demand monitoring of every VM of the MCIS, prepend the MCIS
//! average to the history, compare the mean of the newest `evaluation_period` values ->
//! Detected or Ready; Detected -> (Operating) run the action synchronously -> Stabilizing;
//! Stabilizing -> clear the history -> Ready; Failed -> Ready. The pass takes simulated time
//! (monitoring calls wait for the slowest VM's answer; a scale-out waits for the VM to be
//! created, 20 s, and the agent install), and it blocks the loop: like Go's ticker, one tick
//! that fires meanwhile is kept and runs as soon as the pass ends, later ones are dropped.
//! In `faithful` mode a VM whose monitoring call fails counts as 0 in the average (the
//! original's quirk); in `fixed` mode it is left out.
//!
//! This file holds the loop, the policies' statuses and the series; `actions.rs` what each
//! policy action does. The controller also owns the workloads (`crate::workload`): the VMs'
//! measurements come from them.

mod actions;

use super::config::{ControlMode, PolicyAction};
use super::plan::{Plan, PolicyPlan};
use crate::engine::{EntityId, RngFactory, Scheduler, SimDuration, SimRng, SimTime};
use crate::lifecycle::{LcEvent, Lifecycle, VmStatus};
use crate::model::{Notice, Results, SubModel};
use crate::monitoring::Monitoring;
use crate::output::names::{file, metric};
use crate::output::table::{fmt_f64, fmt_secs};
use crate::output::{Summary, Table};
use crate::workload::{McisLoad, Metric, Workloads};

/// Controller events.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CtlEvent {
    /// The ticker fires.
    Tick,
    /// The step the loop was blocked on is done.
    StepDone,
}

/// CB-Tumblebug's policy statuses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PolicyStatus {
    Ready,
    Checking,
    Detected,
    Operating,
    Stabilizing,
    Failed,
}

impl PolicyStatus {
    pub fn name(self) -> &'static str {
        match self {
            PolicyStatus::Ready => "Ready",
            PolicyStatus::Checking => "Checking",
            PolicyStatus::Detected => "Detected",
            PolicyStatus::Operating => "Operating",
            PolicyStatus::Stabilizing => "Stabilizing",
            PolicyStatus::Failed => "Failed",
        }
    }
}

#[derive(Clone, Debug)]
struct Policy {
    plan: PolicyPlan,
    status: PolicyStatus,
    /// Newest first (CB-Tumblebug prepends).
    history: Vec<f64>,
    last_action_end: Option<SimTime>,
}

/// What the loop is waiting for.
#[derive(Clone, Debug, PartialEq)]
enum Wait {
    None,
    /// Monitoring answers: the MCIS average, answers and failed calls, to record when they are in.
    Monitoring(f64, u32, u32),
    /// New VMs to finish creating.
    Vms(Vec<u32>),
    /// A fixed sleep (after a create, a delete, or a control action).
    Sleep,
}

/// The models the controller acts on.
pub struct Ctx<'a> {
    pub lifecycle: &'a mut Lifecycle,
    pub monitoring: Option<&'a mut Monitoring>,
}

/// One action taken, for the log.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRecord {
    pub time: SimTime,
    pub policy: usize,
    pub action: &'static str,
    pub vm: Option<u32>,
    pub vm_name: String,
    pub detail: String,
}

/// Counters for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControlStats {
    pub ticks: u64,
    pub ticks_delayed: u64,
    pub ticks_dropped: u64,
    pub scale_out: u64,
    pub scale_in: u64,
    pub other_actions: u64,
    pub monitoring_calls: u64,
    pub monitoring_failures: u64,
    pub detections: u64,
}

/// The auto-control loop and the workloads its policies measure.
pub struct Controller {
    plan: Plan,
    policies: Vec<Policy>,
    /// The load of each MCIS, as the VMs' agents would measure it.
    pub workloads: Workloads,
    entity: EntityId,
    busy: bool,
    pending_tick: bool,
    cursor: usize,
    wait: Wait,
    rng: SimRng,
    pub stats: ControlStats,
    pub log: Vec<ActionRecord>,
    /// Per MCIS: CPU threshold of its first scale-out policy on cpu (for cpu_over_threshold_s).
    thresholds: Vec<Option<f64>>,
    over_threshold_s: f64,
    last_sample: SimTime,
    iv_actions: Vec<Vec<&'static str>>,
    series: Table,
    /// Every monitoring sample the loop took: `control_samples.csv`.
    samples: Table,
    mcis_names: Vec<String>,
    /// MCIS with a policy or a workload (rows of control.csv).
    watched: Vec<bool>,
}

impl Controller {
    /// Builds the loop from its plan and schedules its ticker (if it has policies).
    pub fn new<E: From<CtlEvent> + Copy>(plan: &Plan, sched: &mut Scheduler<E>) -> Self {
        let rngs = RngFactory::new(plan.seed);
        let n_mcis = plan.mcis_names.len();
        let policies: Vec<Policy> = plan
            .policies
            .iter()
            .map(|p| Policy {
                plan: p.clone(),
                status: PolicyStatus::Ready,
                history: Vec::new(),
                last_action_end: None,
            })
            .collect();
        let loads: Vec<Option<McisLoad>> = plan
            .workloads
            .iter()
            .map(|w| {
                w.as_ref().map(|w| McisLoad {
                    spec: w.spec.clone(),
                    curve: w.curve.clone(),
                    running: 0,
                    running_vcpus: 0,
                })
            })
            .collect();
        let has_workload: Vec<bool> = loads.iter().map(Option::is_some).collect();
        let workloads = Workloads::new(loads, plan.vms, &rngs);
        let mut thresholds = vec![None; n_mcis];
        let mut watched = has_workload.to_vec();
        watched.resize(n_mcis, false);
        for p in &plan.policies {
            watched[p.mcis as usize] = true;
            if p.spec.action == PolicyAction::ScaleOut
                && p.spec.metric == Metric::Cpu
                && thresholds[p.mcis as usize].is_none()
            {
                thresholds[p.mcis as usize] = Some(p.spec.operand);
            }
        }
        let entity = sched.alloc_entities(1).get(0);
        if !policies.is_empty() {
            sched.post_at(SimTime::ZERO + plan.tick, entity, CtlEvent::Tick.into());
        }
        Controller {
            plan: plan.clone(),
            policies,
            workloads,
            entity,
            busy: false,
            pending_tick: false,
            cursor: 0,
            wait: Wait::None,
            rng: rngs.stream("control.placement", 0),
            stats: ControlStats::default(),
            log: Vec::new(),
            thresholds,
            over_threshold_s: 0.0,
            last_sample: SimTime::ZERO,
            iv_actions: vec![Vec::new(); n_mcis],
            series: Table::new(
                file::CONTROL,
                &[
                    "time_s",
                    "mcis",
                    "mean_cpu_pct",
                    "vms_running",
                    "vms",
                    "policy_status",
                    "actions",
                ],
            ),
            samples: Table::new(
                file::CONTROL_SAMPLES,
                &[
                    "time_s",
                    "mcis",
                    "policy",
                    "mcis_average",
                    "answers",
                    "failed_calls",
                    "evaluation_mean",
                    "status",
                ],
            ),
            mcis_names: plan.mcis_names.clone(),
            watched,
        }
    }

    pub fn owns(&self, e: EntityId) -> bool {
        e == self.entity
    }

    /// Status of each policy, in order.
    pub fn statuses(&self) -> Vec<PolicyStatus> {
        self.policies.iter().map(|p| p.status).collect()
    }

    fn handle_event<E: From<CtlEvent> + From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        ev: CtlEvent,
        ctx: &mut Ctx<'_>,
    ) {
        match ev {
            CtlEvent::Tick => {
                sched.post_in(self.plan.tick, self.entity, CtlEvent::Tick.into());
                if !self.busy {
                    self.start_pass(sched, ctx);
                } else if !self.pending_tick {
                    self.pending_tick = true;
                    self.stats.ticks_delayed += 1;
                } else {
                    self.stats.ticks_dropped += 1;
                }
            }
            CtlEvent::StepDone => match std::mem::replace(&mut self.wait, Wait::None) {
                Wait::Monitoring(avg, ok, failed) => {
                    self.finish_sample(sched.now(), avg, ok, failed);
                    self.cursor += 1;
                    self.advance(sched, ctx);
                }
                Wait::Sleep => {
                    let p = &mut self.policies[self.cursor];
                    p.status = PolicyStatus::Stabilizing;
                    p.last_action_end = Some(sched.now());
                    self.cursor += 1;
                    self.advance(sched, ctx);
                }
                w => self.wait = w,
            },
        }
    }

    /// A VM the loop may be waiting for reached Running or gave up.
    fn vm_settled<E: From<CtlEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        if let Wait::Vms(list) = &mut self.wait {
            list.retain(|v| *v != vm);
            if list.is_empty() {
                self.wait = Wait::Sleep;
                let install = self.plan.agent_install_time.sample(&mut self.rng);
                sched.post_in(
                    self.plan.post_create_wait + install,
                    self.entity,
                    CtlEvent::StepDone.into(),
                );
            }
        }
    }

    fn start_pass<E: From<CtlEvent> + From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        ctx: &mut Ctx<'_>,
    ) {
        self.busy = true;
        self.cursor = 0;
        self.stats.ticks += 1;
        self.advance(sched, ctx);
    }

    /// Runs policy steps until one blocks or the pass ends.
    fn advance<E: From<CtlEvent> + From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        ctx: &mut Ctx<'_>,
    ) {
        let now = sched.now();
        while self.cursor < self.policies.len() {
            let i = self.cursor;
            match self.policies[i].status {
                PolicyStatus::Ready => {
                    let p = &self.policies[i];
                    let cooling = p
                        .last_action_end
                        .is_some_and(|t| now < t + p.plan.spec.cooldown);
                    if !cooling {
                        self.policies[i].status = PolicyStatus::Checking;
                        let (avg, ok, failed, done_at) = self.ask_monitoring(now, i, ctx);
                        self.wait = Wait::Monitoring(avg, ok, failed);
                        sched.post_at(done_at, self.entity, CtlEvent::StepDone.into());
                        return;
                    }
                }
                PolicyStatus::Detected => {
                    self.policies[i].status = PolicyStatus::Operating;
                    match self.act(sched, i, ctx) {
                        Some(w) => {
                            if w == Wait::Sleep {
                                let d =
                                    if self.policies[i].plan.spec.action == PolicyAction::ScaleIn {
                                        self.plan.delete_wait
                                    } else {
                                        SimDuration::from_secs(5)
                                    };
                                sched.post_in(d, self.entity, CtlEvent::StepDone.into());
                            }
                            self.wait = w;
                            return;
                        }
                        None => {
                            let p = &mut self.policies[i];
                            p.status = PolicyStatus::Stabilizing;
                            p.last_action_end = Some(now);
                        }
                    }
                }
                PolicyStatus::Stabilizing => {
                    let p = &mut self.policies[i];
                    p.history.clear();
                    p.status = PolicyStatus::Ready;
                }
                PolicyStatus::Failed => self.policies[i].status = PolicyStatus::Ready,
                PolicyStatus::Checking | PolicyStatus::Operating => {}
            }
            self.cursor += 1;
        }
        self.busy = false;
        if self.pending_tick {
            self.pending_tick = false;
            self.start_pass(sched, ctx);
        }
    }

    /// On-demand monitoring of every VM of the policy's MCIS: (average, answers, failed calls,
    /// time the last answer is back).
    fn ask_monitoring(
        &mut self,
        now: SimTime,
        i: usize,
        ctx: &mut Ctx<'_>,
    ) -> (f64, u32, u32, SimTime) {
        let (mcis, metric) = (
            self.policies[i].plan.mcis,
            self.policies[i].plan.spec.metric,
        );
        let vms: Vec<u32> = ctx.lifecycle.mcis_vms(mcis).collect();
        let (mut sum, mut n, mut done) = (0.0, 0u32, now);
        let (mut answers, mut failed) = (0u32, 0u32);
        for vm in vms {
            self.stats.monitoring_calls += 1;
            let running = ctx.lifecycle.status(vm) == Some(VmStatus::Running);
            let (at, ok) = match ctx.monitoring.as_deref_mut() {
                Some(m) => m.on_demand(now, vm),
                None => (now, running),
            };
            done = done.max(at);
            let ok = ok && running;
            if ok {
                let plan = ctx.lifecycle.plan();
                let vcpu = plan.specs[plan.vms[vm as usize].spec as usize].vcpu;
                let started = ctx.lifecycle.first_running(vm).unwrap_or(now);
                sum += self.workloads.measure(now, vm, mcis, vcpu, started, metric);
                n += 1;
                answers += 1;
            } else {
                failed += 1;
                self.stats.monitoring_failures += 1;
                if self.plan.mode == ControlMode::Faithful {
                    n += 1; // the error text parses as 0 but still counts
                }
            }
        }
        let avg = if n == 0 { f64::NAN } else { sum / n as f64 };
        (avg, answers, failed, done)
    }

    fn finish_sample(&mut self, now: SimTime, avg: f64, answers: u32, failed: u32) {
        let i = self.cursor;
        let p = &mut self.policies[i];
        p.status = PolicyStatus::Ready;
        let row = |p: &Policy, samples: &mut Table, status: PolicyStatus, mean: f64| {
            samples.push(vec![
                fmt_secs(now),
                p.plan.spec.mcis.clone(),
                i.to_string(),
                fmt_f64(avg),
                answers.to_string(),
                failed.to_string(),
                fmt_f64(mean),
                status.name().to_string(),
            ]);
        };
        if avg.is_nan() {
            row(p, &mut self.samples, p.status, f64::NAN);
            return; // no VM to ask: nothing to record
        }
        p.history.insert(0, avg);
        let ep = p.plan.spec.evaluation_period as usize;
        let mut mean = f64::NAN;
        if p.history.len() >= ep {
            mean = p.history[..ep].iter().sum::<f64>() / ep as f64;
            if p.plan.spec.operator.holds(mean, p.plan.spec.operand) {
                p.status = PolicyStatus::Detected;
                self.stats.detections += 1;
            }
        }
        row(p, &mut self.samples, p.status, mean);
    }

    /// One row per watched MCIS.
    fn sample_series(&mut self, now: SimTime, ctx: &Ctx<'_>) {
        let dt = now.since(self.last_sample).as_secs_f64();
        self.last_sample = now;
        let plan = ctx.lifecycle.plan();
        for m in 0..self.mcis_names.len() {
            if !self.watched[m] {
                continue;
            }
            let vms: Vec<u32> = ctx.lifecycle.mcis_vms(m as u32).collect();
            let running: Vec<u32> = vms
                .iter()
                .copied()
                .filter(|v| ctx.lifecycle.status(*v) == Some(VmStatus::Running))
                .collect();
            let cpu = self.workloads.mean_cpu(
                m as u32,
                now,
                running
                    .iter()
                    .map(|v| plan.specs[plan.vms[*v as usize].spec as usize].vcpu),
            );
            if let Some(th) = self.thresholds[m]
                && cpu > th
            {
                self.over_threshold_s += dt;
            }
            let status: Vec<&str> = self
                .policies
                .iter()
                .filter(|p| p.plan.mcis == m as u32)
                .map(|p| p.status.name())
                .collect();
            self.series.push(vec![
                fmt_secs(now),
                self.mcis_names[m].clone(),
                fmt_f64((cpu * 1000.0).round() / 1000.0),
                running.len().to_string(),
                vms.len().to_string(),
                status.join(";"),
                self.iv_actions[m].join(";"),
            ]);
            self.iv_actions[m].clear();
        }
    }
}

impl Results for Controller {
    fn summarize(&self, sum: &mut Summary, _end: SimTime) {
        let s = &self.stats;
        sum.int(metric::CONTROL_TICKS, s.ticks)
            .int(metric::CONTROL_TICKS_DELAYED, s.ticks_delayed)
            .int(metric::CONTROL_TICKS_DROPPED, s.ticks_dropped)
            .int(metric::CONTROL_DETECTIONS, s.detections)
            .int(metric::SCALE_OUT_ACTIONS, s.scale_out)
            .int(metric::SCALE_IN_ACTIONS, s.scale_in)
            .int(metric::OTHER_CONTROL_ACTIONS, s.other_actions)
            .int(metric::CONTROL_MONITORING_CALLS, s.monitoring_calls)
            .int(metric::CONTROL_MONITORING_FAILURES, s.monitoring_failures)
            .float(metric::CPU_OVER_THRESHOLD_S, self.over_threshold_s);
    }

    fn take_tables(&mut self) -> Vec<Table> {
        let mut log = Table::new(
            file::CONTROL_ACTIONS,
            &[
                "time_s", "mcis", "policy", "action", "vm", "vm_name", "detail",
            ],
        );
        for r in &self.log {
            let p = &self.policies[r.policy];
            log.push(vec![
                fmt_secs(r.time),
                self.mcis_names[p.plan.mcis as usize].clone(),
                r.policy.to_string(),
                r.action.to_string(),
                r.vm.map(|v| v.to_string()).unwrap_or_default(),
                r.vm_name.clone(),
                r.detail.clone(),
            ]);
        }
        vec![self.series.take(), self.samples.take(), log]
    }
}

impl<E: From<CtlEvent> + From<LcEvent> + Copy> SubModel<E> for Controller {
    type Event = CtlEvent;
    type Peers<'p> = Ctx<'p>;

    fn handle(&mut self, sched: &mut Scheduler<E>, ev: CtlEvent, mut ctx: Ctx<'_>) {
        self.handle_event(sched, ev, &mut ctx);
    }

    /// Follows VMs for the workloads' shares, and wakes the loop waiting for new VMs.
    fn notice(&mut self, sched: &mut Scheduler<E>, n: Notice, ctx: Ctx<'_>) {
        if let Notice::Running { vm, .. } | Notice::Stopped { vm, .. } = n {
            let plan = ctx.lifecycle.plan();
            let pv = &plan.vms[vm as usize];
            let vcpu = plan.specs[pv.spec as usize].vcpu;
            self.workloads
                .vm_running(pv.mcis, vcpu, matches!(n, Notice::Running { .. }));
        }
        if let Notice::Running { vm, .. } | Notice::CreateGaveUp { vm } = n {
            self.vm_settled(sched, vm);
        }
    }

    fn sample(&mut self, now: SimTime, ctx: Ctx<'_>) {
        self.sample_series(now, &ctx);
    }
}
