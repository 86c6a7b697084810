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

use super::config::{ControlMode, ControlSpec, PolicyAction, PolicySpec};
use super::placement::{Choice, candidates, choose};
use crate::engine::{EntityId, RngFactory, Scheduler, SimDuration, SimRng, SimTime};
use crate::lifecycle::{Action, LcEvent, Lifecycle, VmStatus};
use crate::monitoring::Monitoring;
use crate::output::table::{fmt_f64, fmt_secs};
use crate::output::{Summary, Table};
use crate::topology::specs::SpecCatalogue;
use crate::workload::{Metric, Workloads};

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
    spec: PolicySpec,
    mcis: u32,
    status: PolicyStatus,
    /// Newest first (CB-Tumblebug prepends).
    history: Vec<f64>,
    last_action_end: Option<SimTime>,
    candidates: Vec<Choice>,
    /// Summed RTT from each cloud to the policy's `regions` (latency placement).
    rtt_sums: Vec<f64>,
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

/// Everything the controller acts on.
pub struct Ctx<'a> {
    pub lifecycle: &'a mut Lifecycle,
    pub monitoring: Option<&'a mut Monitoring>,
    pub workloads: &'a mut Workloads,
}

/// One action taken, for the log.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRecord {
    pub time: SimTime,
    pub policy: usize,
    pub action: &'static str,
    pub vm: Option<u32>,
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

/// The auto-control loop.
pub struct Controller {
    spec: ControlSpec,
    policies: Vec<Policy>,
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
    /// `rtt_ms(cloud, region_key)` gives the RTT between a scenario cloud and a catalogue
    /// region (for latency placement); `mcis_index` maps names to MCIS ids (checked at load).
    #[allow(clippy::too_many_arguments)]
    pub fn new<E: From<CtlEvent> + Copy>(
        spec: &ControlSpec,
        lifecycle: &Lifecycle,
        mcis_index: &dyn Fn(&str) -> u32,
        has_workload: &[bool],
        specs: &SpecCatalogue,
        rtt_ms: &dyn Fn(u32, &str) -> f64,
        rngs: &RngFactory,
        sched: &mut Scheduler<E>,
    ) -> Self {
        let plan = lifecycle.plan();
        let n_mcis = plan.mcis.len();
        let policies: Vec<Policy> = spec
            .policies
            .iter()
            .map(|p| Policy {
                mcis: mcis_index(&p.mcis),
                status: PolicyStatus::Ready,
                history: Vec::new(),
                last_action_end: None,
                candidates: candidates(&p.placement, &plan.clouds, specs),
                rtt_sums: plan
                    .clouds
                    .iter()
                    .map(|c| p.placement.regions.iter().map(|r| rtt_ms(c.id, r)).sum())
                    .collect(),
                spec: p.clone(),
            })
            .collect();
        let mut thresholds = vec![None; n_mcis];
        let mut watched = has_workload.to_vec();
        watched.resize(n_mcis, false);
        for p in &policies {
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
            sched.post_at(SimTime::ZERO + spec.tick, entity, CtlEvent::Tick.into());
        }
        Controller {
            spec: spec.clone(),
            policies,
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
                "control.csv",
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
                "control_samples.csv",
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
            mcis_names: plan.mcis.iter().map(|m| m.name.clone()).collect(),
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

    pub fn handle<E: From<CtlEvent> + From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        ev: CtlEvent,
        ctx: &mut Ctx<'_>,
    ) {
        match ev {
            CtlEvent::Tick => {
                sched.post_in(self.spec.tick, self.entity, CtlEvent::Tick.into());
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
    pub fn vm_settled<E: From<CtlEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        if let Wait::Vms(list) = &mut self.wait {
            list.retain(|v| *v != vm);
            if list.is_empty() {
                self.wait = Wait::Sleep;
                let install = self.spec.agent_install_time.sample(&mut self.rng);
                sched.post_in(
                    self.spec.post_create_wait + install,
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
                    let cooling = p.last_action_end.is_some_and(|t| now < t + p.spec.cooldown);
                    if !cooling {
                        self.policies[i].status = PolicyStatus::Checking;
                        let (avg, ok, failed, done_at) = self.sample(now, i, ctx);
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
                                let d = if self.policies[i].spec.action == PolicyAction::ScaleIn {
                                    self.spec.delete_wait
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
    fn sample(&mut self, now: SimTime, i: usize, ctx: &mut Ctx<'_>) -> (f64, u32, u32, SimTime) {
        let (mcis, metric) = (self.policies[i].mcis, self.policies[i].spec.metric);
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
                sum += ctx.workloads.measure(now, vm, mcis, vcpu, started, metric);
                n += 1;
                answers += 1;
            } else {
                failed += 1;
                self.stats.monitoring_failures += 1;
                if self.spec.mode == ControlMode::Faithful {
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
                p.spec.mcis.clone(),
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
        let ep = p.spec.evaluation_period as usize;
        let mut mean = f64::NAN;
        if p.history.len() >= ep {
            mean = p.history[..ep].iter().sum::<f64>() / ep as f64;
            if p.spec.operator.holds(mean, p.spec.operand) {
                p.status = PolicyStatus::Detected;
                self.stats.detections += 1;
            }
        }
        row(p, &mut self.samples, p.status, mean);
    }

    /// Runs policy `i`'s action; returns what the loop waits for, or None if nothing was done.
    fn act<E: From<CtlEvent> + From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        i: usize,
        ctx: &mut Ctx<'_>,
    ) -> Option<Wait> {
        let now = sched.now();
        let p = self.policies[i].clone();
        let vms: Vec<u32> = ctx.lifecycle.mcis_vms(p.mcis).collect();
        let record = |s: &mut Self, action: &'static str, vm: Option<u32>, detail: String| {
            if vm.is_some() || !detail.starts_with("skipped") {
                s.iv_actions[p.mcis as usize].push(action);
            }
            s.log.push(ActionRecord {
                time: now,
                policy: i,
                action,
                vm,
                detail,
            });
        };
        match p.spec.action {
            PolicyAction::ScaleOut => {
                let room = p
                    .spec
                    .max_vms
                    .map_or(u32::MAX, |m| m.saturating_sub(vms.len() as u32));
                let n = p.spec.step.min(room);
                if n == 0 {
                    record(self, "ScaleOut", None, "skipped: max_vms reached".into());
                    return None;
                }
                let plan = ctx.lifecycle.plan();
                let existing: Vec<Choice> = vms
                    .iter()
                    .map(|v| {
                        let pv = &plan.vms[*v as usize];
                        Choice {
                            cloud: pv.cloud,
                            spec: plan.specs[pv.spec as usize].clone(),
                        }
                    })
                    .collect();
                let clouds = plan.clouds.clone();
                let rtt = |c: u32| p.rtt_sums[c as usize];
                let mut created = Vec::new();
                for _ in 0..n {
                    let Some(choice) = choose(
                        &p.spec.placement,
                        &p.candidates,
                        &existing,
                        &clouds,
                        &rtt,
                        &mut self.rng,
                    ) else {
                        break;
                    };
                    let spec = ctx.lifecycle.intern_spec(&choice.spec);
                    match ctx.lifecycle.add_vm(sched, p.mcis, choice.cloud, spec) {
                        Some(vm) => {
                            let cloud = ctx.lifecycle.plan().clouds[choice.cloud as usize].name();
                            if let Some(m) = ctx.monitoring.as_deref_mut() {
                                let provider =
                                    ctx.lifecycle.plan().cloud_profile[choice.cloud as usize];
                                m.place_agent(vm, choice.cloud, provider);
                            }
                            self.stats.scale_out += 1;
                            record(
                                self,
                                "ScaleOut",
                                Some(vm),
                                format!("{cloud} {}", choice.spec.name),
                            );
                            created.push(vm);
                        }
                        None => {
                            record(
                                self,
                                "ScaleOut",
                                None,
                                "skipped: no scale-out slot left (control.max_scale_out)".into(),
                            );
                            break;
                        }
                    }
                }
                (!created.is_empty()).then_some(Wait::Vms(created))
            }
            PolicyAction::ScaleIn => {
                if p.spec.min_vms.is_some_and(|m| vms.len() as u32 <= m) {
                    record(self, "ScaleIn", None, "skipped: min_vms reached".into());
                    return None;
                }
                // The newest auto-generated VM (CB-Tumblebug never removes user-created VMs).
                let plan = ctx.lifecycle.plan();
                let victim = vms
                    .iter()
                    .rev()
                    .copied()
                    .find(|v| plan.vms[*v as usize].spare)?;
                if !ctx.lifecycle.delete_vm(sched, victim) {
                    record(
                        self,
                        "ScaleIn",
                        Some(victim),
                        "rejected by the allowed-action rules".into(),
                    );
                    return None;
                }
                self.stats.scale_in += 1;
                record(self, "ScaleIn", Some(victim), String::new());
                Some(Wait::Sleep)
            }
            PolicyAction::Suspend | PolicyAction::Resume => {
                let (from, action) = if p.spec.action == PolicyAction::Suspend {
                    (VmStatus::Running, Action::Suspend)
                } else {
                    (VmStatus::Suspended, Action::Resume)
                };
                let targets: Vec<u32> = vms
                    .iter()
                    .copied()
                    .filter(|v| ctx.lifecycle.status(*v) == Some(from))
                    .collect();
                if targets.is_empty() {
                    return None;
                }
                for v in &targets {
                    ctx.lifecycle.act(sched, *v, action);
                }
                self.stats.other_actions += 1;
                record(
                    self,
                    p.spec.action.name(),
                    None,
                    format!("{} VMs", targets.len()),
                );
                Some(Wait::Sleep)
            }
            PolicyAction::ReplaceFailed => {
                let failed: Vec<u32> = vms
                    .iter()
                    .copied()
                    .filter(|v| ctx.lifecycle.status(*v) == Some(VmStatus::Failed))
                    .collect();
                let mut created = Vec::new();
                for v in failed {
                    let (cloud, spec) = {
                        let pv = &ctx.lifecycle.plan().vms[v as usize];
                        (pv.cloud, pv.spec)
                    };
                    ctx.lifecycle.act(sched, v, Action::Refine);
                    if let Some(new) = ctx.lifecycle.add_vm(sched, p.mcis, cloud, spec) {
                        if let Some(m) = ctx.monitoring.as_deref_mut() {
                            let provider = ctx.lifecycle.plan().cloud_profile[cloud as usize];
                            m.place_agent(new, cloud, provider);
                        }
                        self.stats.other_actions += 1;
                        record(self, "ReplaceFailed", Some(new), format!("replaces VM {v}"));
                        created.push(new);
                    }
                }
                (!created.is_empty()).then_some(Wait::Vms(created))
            }
        }
    }

    /// One row per watched MCIS.
    pub fn sample_series(&mut self, now: SimTime, ctx: &Ctx<'_>) {
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
            let cpu = ctx.workloads.mean_cpu(
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
                .filter(|p| p.mcis == m as u32)
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

    pub fn summarize(&self, sum: &mut Summary) {
        let s = &self.stats;
        sum.int("control_ticks", s.ticks)
            .int("control_ticks_delayed", s.ticks_delayed)
            .int("control_ticks_dropped", s.ticks_dropped)
            .int("control_detections", s.detections)
            .int("scale_out_actions", s.scale_out)
            .int("scale_in_actions", s.scale_in)
            .int("other_control_actions", s.other_actions)
            .int("control_monitoring_calls", s.monitoring_calls)
            .int("control_monitoring_failures", s.monitoring_failures)
            .float("cpu_over_threshold_s", self.over_threshold_s);
    }

    pub fn into_tables(self, lifecycle: &Lifecycle) -> Vec<Table> {
        let mut log = Table::new(
            "control_actions.csv",
            &[
                "time_s", "mcis", "policy", "action", "vm", "vm_name", "detail",
            ],
        );
        for r in &self.log {
            let p = &self.policies[r.policy];
            log.push(vec![
                fmt_secs(r.time),
                self.mcis_names[p.mcis as usize].clone(),
                r.policy.to_string(),
                r.action.to_string(),
                r.vm.map(|v| v.to_string()).unwrap_or_default(),
                r.vm.map(|v| lifecycle.plan().vms[v as usize].name.clone())
                    .unwrap_or_default(),
                r.detail.clone(),
            ]);
        }
        vec![self.series, self.samples, log]
    }
}
