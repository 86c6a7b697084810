//! The lifecycle model: every VM's status over time, driven by the plan and seeded draws.
//!
//! Provisioning follows CB-Tumblebug: an MCIS request launches each group's VMs with the
//! launch stagger; each VM sleeps a pre-create jitter, then its create call passes the
//! provider's concurrency gate and rate limit, takes an API delay, and fails with the
//! provider's probability or boots. A create holds its gate slot until the VM is Running or
//! has failed (TB's POST /vm blocks until then). Timeouts, crashes and outages fail VMs;
//! failed creates are retried per the retry policy. Control actions on the timeline are
//! dispatched per VM with TB's control stagger and checked against the allowed-action rules.

use super::config::OutageEffect;
use super::gate::{CreateGate, RateLimit};
use super::plan::Plan;
use super::status::{
    Action, StatusCount, Verdict, VmStatus, check_action, is_legal_transition, mcis_status,
};
use crate::engine::{
    EntityId, EntityRange, EventHandle, RngFactory, Scheduler, SimDuration, SimTime, StreamFamily,
};
use crate::model::{Notice, Results, SubModel};
use crate::output::names::{file, metric};
use crate::output::table::fmt_secs;
use crate::output::{Summary, Table};
use crate::stats::percentiles;

/// Lifecycle events (wrapped in the world's event type by the caller).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LcEvent {
    /// An MCIS create request arrives.
    McisRequest {
        mcis: u32,
    },
    /// A VM is launched (after the group stagger, or for a retry): it sleeps the jitter.
    Launch {
        vm: u32,
    },
    /// The create call is submitted to the provider gate.
    Submit {
        vm: u32,
    },
    /// The provider API call returned.
    CallDone {
        vm: u32,
    },
    /// The operation (boot, suspend, ...) finished.
    OpDone {
        vm: u32,
    },
    /// The operation's timeout expired.
    Timeout {
        vm: u32,
    },
    /// A Running VM fails.
    Crash {
        vm: u32,
    },
    /// A control action reaches one VM.
    Control {
        vm: u32,
        action: Action,
    },
    /// A timeline action fires.
    Timeline {
        idx: u32,
    },
    OutageStart {
        idx: u32,
    },
    OutageEnd {
        idx: u32,
    },
}

/// Whether a VM exists in CB-Tumblebug's view.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Presence {
    NotYet,
    Present,
    Removed,
}

/// Per-VM draw purposes: each has its own seeded stream family.
#[derive(Copy, Clone)]
enum Purpose {
    Jitter,
    ApiDelay,
    CreateFail,
    OpTime,
    Crash,
}
const PURPOSES: [&str; 5] = [
    "vm.jitter",
    "vm.api_delay",
    "vm.create_fail",
    "vm.op_time",
    "vm.crash",
];

#[derive(Clone, Debug)]
struct Vm {
    presence: Presence,
    status: VmStatus,
    target: Option<Action>,
    /// Status when the current control action was applied (a Failed VM's calls fail).
    acted_from: VmStatus,
    attempts: u32,
    holds_slot: bool,
    queued: bool,
    pending: Option<EventHandle>,
    timeout: Option<EventHandle>,
    crash: Option<EventHandle>,
    first_running: Option<SimTime>,
    /// Delete from the MCIS once Terminated (scale-in).
    delete_when_terminated: bool,
    /// Start of the current billable period and the billed time so far.
    billed_since: Option<SimTime>,
    billed_ns: u64,
    draws: [u32; 5],
}

/// Counters reported in the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LifecycleStats {
    pub create_requests: u64,
    pub create_failures: u64,
    pub create_timeouts: u64,
    pub create_retries: u64,
    pub control_actions: u64,
    pub control_failures: u64,
    pub illegal_actions: u64,
    pub crashes: u64,
    pub outage_failures: u64,
    pub agent_registrations: u64,
    pub api_calls: u64,
    pub vms_refined: u64,
    pub transitions: u64,
}

/// The lifecycle model's state.
pub struct Lifecycle {
    plan: Plan,
    vms: Vec<Vm>,
    vm_ids: EntityRange,
    ctl_ids: EntityRange,
    gates: Vec<CreateGate>,
    rates: Vec<RateLimit>,
    fams: [StreamFamily; 5],
    active_outages: Vec<u32>,
    outage_vms: Vec<u32>,
    cloud_counts: Vec<StatusCount>,
    mcis_counts: Vec<StatusCount>,
    pub stats: LifecycleStats,
    provision_times: Vec<f64>,
    provision_settled: SimTime,
    interval_calls: Vec<u64>,
    interval_regs: Vec<u64>,
    admitted: Vec<u32>,
    notices: Vec<Notice>,
    vm_states: Table,
    mcis_table: Table,
    provider_api: Table,
    events_log: Option<Table>,
}

impl Lifecycle {
    /// Builds the model from its plan and schedules the MCIS requests, timeline actions and
    /// outages.
    pub fn new<E: From<LcEvent> + Copy>(plan: &Plan, sched: &mut Scheduler<E>) -> Self {
        let rngs = RngFactory::new(plan.seed);
        let n_vms = plan.vms.len() as u32;
        let vm_ids = sched.alloc_entities(n_vms);
        let n_ctl = (plan.mcis.len() + plan.actions.len() + plan.outages.len()) as u32;
        let ctl_ids = sched.alloc_entities(n_ctl);
        let n_clouds = plan.clouds.len();
        let m = Lifecycle {
            vms: vec![
                Vm {
                    presence: Presence::NotYet,
                    status: VmStatus::Creating,
                    target: None,
                    acted_from: VmStatus::Creating,
                    attempts: 0,
                    holds_slot: false,
                    queued: false,
                    pending: None,
                    timeout: None,
                    crash: None,
                    first_running: None,
                    delete_when_terminated: false,
                    billed_since: None,
                    billed_ns: 0,
                    draws: [0; 5],
                };
                n_vms as usize
            ],
            vm_ids,
            ctl_ids,
            gates: plan
                .profiles
                .iter()
                .map(|p| CreateGate::new(n_clouds, p.max_concurrent_regions, p.max_vms_per_region))
                .collect(),
            rates: plan
                .profiles
                .iter()
                .map(|p| RateLimit::new(p.api_rate, p.api_burst))
                .collect(),
            fams: PURPOSES.map(|p| rngs.family(p)),
            active_outages: Vec::new(),
            outage_vms: vec![0; plan.outages.len()],
            cloud_counts: vec![StatusCount::default(); n_clouds],
            mcis_counts: vec![StatusCount::default(); plan.mcis.len()],
            stats: LifecycleStats::default(),
            provision_times: Vec::new(),
            provision_settled: SimTime::ZERO,
            interval_calls: vec![0; plan.profiles.len()],
            interval_regs: vec![0; plan.profiles.len()],
            admitted: Vec::new(),
            notices: Vec::new(),
            vm_states: Table::new(file::VM_STATES, &["time_s", "cloud", "status", "count"]),
            mcis_table: Table::new(
                file::MCIS_STATUS,
                &[
                    "time_s",
                    "mcis",
                    "status",
                    "vms",
                    "creating",
                    "running",
                    "suspending",
                    "suspended",
                    "resuming",
                    "rebooting",
                    "terminating",
                    "terminated",
                    "failed",
                    "undefined",
                ],
            ),
            provider_api: Table::new(
                file::PROVIDER_API,
                &[
                    "time_s",
                    "provider",
                    "api_calls",
                    "create_queued",
                    "create_inflight",
                    "agent_registrations",
                ],
            ),
            events_log: plan.log_vm_events.then(|| {
                Table::new(
                    file::VM_EVENTS,
                    &[
                        "time_s",
                        "vm",
                        "name",
                        "mcis",
                        "cloud",
                        "zone",
                        "event",
                        "from",
                        "to",
                        "native_status",
                        "spider_status",
                        "detail",
                    ],
                )
            }),
            plan: plan.clone(),
        };
        for (i, mc) in plan.mcis.iter().enumerate() {
            sched.post_at(
                mc.at,
                m.ctl_ids.get(i as u32),
                LcEvent::McisRequest { mcis: i as u32 }.into(),
            );
        }
        let base = plan.mcis.len() as u32;
        for (i, a) in plan.actions.iter().enumerate() {
            let i = i as u32;
            sched.post_at(
                a.at,
                m.ctl_ids.get(base + i),
                LcEvent::Timeline { idx: i }.into(),
            );
        }
        let base = base + plan.actions.len() as u32;
        for (i, o) in plan.outages.iter().enumerate() {
            let i = i as u32;
            let e = m.ctl_ids.get(base + i);
            sched.post_at(o.start, e, LcEvent::OutageStart { idx: i }.into());
            sched.post_at(o.end, e, LcEvent::OutageEnd { idx: i }.into());
        }
        m
    }

    /// True if the entity belongs to this model.
    pub fn owns(&self, e: EntityId) -> bool {
        self.vm_ids.contains(e) || self.ctl_ids.contains(e)
    }

    /// Whether notices are waiting.
    #[inline]
    pub fn has_notices(&self) -> bool {
        !self.notices.is_empty()
    }

    /// Notices produced since the last call.
    pub fn drain_notices(&mut self) -> std::vec::Drain<'_, Notice> {
        self.notices.drain(..)
    }

    pub fn status(&self, vm: u32) -> Option<VmStatus> {
        let v = &self.vms[vm as usize];
        (v.presence == Presence::Present).then_some(v.status)
    }

    pub fn vm_count(&self) -> usize {
        self.vms.len()
    }

    fn draw<R>(
        &mut self,
        vm: u32,
        p: Purpose,
        f: impl FnOnce(&mut crate::engine::SimRng) -> R,
    ) -> R {
        let k = &mut self.vms[vm as usize].draws[p as usize];
        let mut rng = self.fams[p as usize].draw(vm as u64, *k as u64);
        *k += 1;
        f(&mut rng)
    }

    fn profile_idx(&self, vm: u32) -> usize {
        self.plan.cloud_profile[self.plan.vms[vm as usize].cloud as usize] as usize
    }

    /// Handles one lifecycle event.
    pub fn handle_event<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, ev: LcEvent) {
        match ev {
            LcEvent::McisRequest { mcis } => {
                let mc = &self.plan.mcis[mcis as usize];
                for vm in mc.first..mc.first + mc.count {
                    let off = self
                        .plan
                        .stagger
                        .offset(self.plan.vms[vm as usize].index_in_group as u64);
                    let h =
                        sched.schedule_in(off, self.vm_ids.get(vm), LcEvent::Launch { vm }.into());
                    self.vms[vm as usize].pending = Some(h);
                }
            }
            LcEvent::Launch { vm } => self.launch(sched, vm),
            LcEvent::Submit { vm } => {
                if self.defer_if_stalled(sched, vm, ev) {
                    return;
                }
                self.vms[vm as usize].pending = None;
                self.stats.create_requests += 1;
                let cloud = self.plan.vms[vm as usize].cloud;
                let p = self.profile_idx(vm);
                if self.gates[p].request(cloud, vm) {
                    self.start_create_call(sched, vm);
                } else {
                    self.vms[vm as usize].queued = true;
                }
            }
            LcEvent::CallDone { vm } => {
                if self.defer_if_stalled(sched, vm, ev) {
                    return;
                }
                self.call_done(sched, vm);
            }
            LcEvent::OpDone { vm } => {
                if self.defer_if_stalled(sched, vm, ev) {
                    return;
                }
                self.op_done(sched, vm);
            }
            LcEvent::Timeout { vm } => {
                let v = &mut self.vms[vm as usize];
                v.timeout = None;
                if v.target == Some(Action::Create) {
                    self.stats.create_timeouts += 1;
                } else {
                    self.stats.control_failures += 1;
                }
                self.fail(sched, vm, "timeout");
            }
            LcEvent::Crash { vm } => {
                self.vms[vm as usize].crash = None;
                if self.vms[vm as usize].status == VmStatus::Running {
                    self.stats.crashes += 1;
                    self.fail(sched, vm, "crash");
                }
            }
            LcEvent::Control { vm, action } => self.apply_action(sched, vm, action),
            LcEvent::Timeline { idx } => {
                let a = self.plan.actions[idx as usize].clone();
                let mc = self.plan.mcis[a.mcis as usize].clone();
                let mut k = 0u64;
                for vm in mc.first..mc.first + mc.count {
                    if a.cloud
                        .is_some_and(|c| c != self.plan.vms[vm as usize].cloud)
                    {
                        continue;
                    }
                    if a.action == Action::Refine {
                        self.apply_action(sched, vm, Action::Refine);
                        continue;
                    }
                    let delay = SimDuration(self.plan.control_stagger.as_nanos().saturating_mul(k));
                    sched.post_in(
                        delay,
                        self.vm_ids.get(vm),
                        LcEvent::Control {
                            vm,
                            action: a.action,
                        }
                        .into(),
                    );
                    k += 1;
                }
            }
            LcEvent::OutageStart { idx } => {
                self.active_outages.push(idx);
                let o = self.plan.outages[idx as usize].clone();
                if o.effect == OutageEffect::Fail {
                    for vm in 0..self.vms.len() as u32 {
                        let v = &self.vms[vm as usize];
                        if v.presence != Presence::Present
                            || matches!(v.status, VmStatus::Failed | VmStatus::Terminated)
                        {
                            continue;
                        }
                        let pv = &self.plan.vms[vm as usize];
                        if o.covers(pv.cloud, pv.zone) {
                            self.outage_vms[idx as usize] += 1;
                            self.stats.outage_failures += 1;
                            self.fail(sched, vm, "outage");
                        }
                    }
                }
            }
            LcEvent::OutageEnd { idx } => self.active_outages.retain(|i| *i != idx),
        }
    }

    /// The end of the longest stall outage covering the VM, if any is active.
    fn stall_end(&self, vm: u32) -> Option<SimTime> {
        if self.active_outages.is_empty() {
            return None;
        }
        let pv = &self.plan.vms[vm as usize];
        self.active_outages
            .iter()
            .map(|i| &self.plan.outages[*i as usize])
            .filter(|o| o.effect == OutageEffect::Stall && o.covers(pv.cloud, pv.zone))
            .map(|o| o.end)
            .max()
    }

    fn in_fail_outage(&self, vm: u32) -> bool {
        if self.active_outages.is_empty() {
            return false;
        }
        let pv = &self.plan.vms[vm as usize];
        self.active_outages.iter().any(|i| {
            let o = &self.plan.outages[*i as usize];
            o.effect == OutageEffect::Fail && o.covers(pv.cloud, pv.zone)
        })
    }

    /// A stalled VM's call or operation waits for the outage to end.
    fn defer_if_stalled<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
        ev: LcEvent,
    ) -> bool {
        match self.stall_end(vm) {
            Some(end) if end > sched.now() => {
                let h = sched.schedule_at(end, self.vm_ids.get(vm), ev.into());
                self.vms[vm as usize].pending = Some(h);
                true
            }
            _ => false,
        }
    }

    fn launch<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        let v = &mut self.vms[vm as usize];
        v.pending = None;
        v.attempts += 1;
        v.target = Some(Action::Create);
        match v.presence {
            Presence::NotYet => {
                v.presence = Presence::Present;
                v.status = VmStatus::Creating;
                let pv = &self.plan.vms[vm as usize];
                self.cloud_counts[pv.cloud as usize].add(VmStatus::Creating);
                self.mcis_counts[pv.mcis as usize].add(VmStatus::Creating);
                self.log(
                    sched.now(),
                    vm,
                    "transition",
                    None,
                    Some(VmStatus::Creating),
                    "create",
                );
            }
            Presence::Present => {
                self.set_status(sched.now(), vm, VmStatus::Creating, "retry");
            }
            Presence::Removed => return,
        }
        let jitter = self.plan.pre_create_jitter.clone();
        let d = self.draw(vm, Purpose::Jitter, |r| jitter.sample(r));
        let h = sched.schedule_in(d, self.vm_ids.get(vm), LcEvent::Submit { vm }.into());
        self.vms[vm as usize].pending = Some(h);
    }

    fn start_create_call<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        let p = self.profile_idx(vm);
        let start = self.rates[p].reserve(sched.now());
        let prof = &self.plan.profiles[p];
        let (delay_d, timeout) = (prof.api_delay.clone(), prof.create_timeout);
        let delay = self.draw(vm, Purpose::ApiDelay, |r| delay_d.sample(r));
        self.stats.api_calls += 1;
        self.interval_calls[p] += 1;
        let e = self.vm_ids.get(vm);
        let v = &mut self.vms[vm as usize];
        v.queued = false;
        v.holds_slot = true;
        v.pending = Some(sched.schedule_at(start + delay, e, LcEvent::CallDone { vm }.into()));
        v.timeout = Some(sched.schedule_at(start + timeout, e, LcEvent::Timeout { vm }.into()));
    }

    fn call_done<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        self.vms[vm as usize].pending = None;
        let p = self.profile_idx(vm);
        let target = self.vms[vm as usize].target;
        let Some(action) = target else { return };
        let outage = self.in_fail_outage(vm);
        let prof = &self.plan.profiles[p];
        let op_time = match action {
            Action::Create => prof.boot_time.clone(),
            Action::Suspend => prof.suspend_time.clone(),
            Action::Resume => prof.resume_time.clone(),
            Action::Reboot => prof.reboot_time.clone(),
            Action::Terminate => prof.terminate_time.clone(),
            Action::Refine => return,
        };
        let failed = if action == Action::Create {
            let pf = prof.create_failure_p;
            // Always draw, so an outage does not shift this VM's later draws.
            let provider_error = self.draw(vm, Purpose::CreateFail, |r| pf.sample(r));
            outage || provider_error
        } else {
            // Calls to a dead region fail; so do suspend/resume/reboot of a Failed VM.
            outage
                || (self.vms[vm as usize].acted_from == VmStatus::Failed
                    && action != Action::Terminate)
        };
        if failed {
            if action == Action::Create {
                self.stats.create_failures += 1;
            } else {
                self.stats.control_failures += 1;
            }
            self.fail(sched, vm, if outage { "outage" } else { "provider error" });
            return;
        }
        let d = self.draw(vm, Purpose::OpTime, |r| op_time.sample(r));
        let h = sched.schedule_in(d, self.vm_ids.get(vm), LcEvent::OpDone { vm }.into());
        self.vms[vm as usize].pending = Some(h);
    }

    fn op_done<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        let now = sched.now();
        let v = &mut self.vms[vm as usize];
        v.pending = None;
        let Some(action) = v.target.take() else {
            return;
        };
        if let Some(t) = v.timeout.take() {
            sched.cancel(t);
        }
        let to = action
            .target_status()
            .expect("control actions have a target");
        if action == Action::Create {
            self.release_slot(sched, vm);
            let v = &mut self.vms[vm as usize];
            if v.first_running.is_none() {
                v.first_running = Some(now);
                let mc = &self.plan.mcis[self.plan.vms[vm as usize].mcis as usize];
                if !self.plan.vms[vm as usize].spare {
                    self.provision_times.push(now.since(mc.at).as_secs_f64());
                }
                self.provision_settled = self.provision_settled.max(now);
            }
            let p = self.profile_idx(vm);
            self.stats.agent_registrations += 1;
            self.interval_regs[p] += 1;
        }
        self.set_status(now, vm, to, action.name());
        if to == VmStatus::Running {
            self.arm_crash(sched, vm);
        }
    }

    fn arm_crash<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        if let Some(dist) = self.plan.crash.clone() {
            let ttf = self.draw(vm, Purpose::Crash, |r| dist.sample(r));
            let h = sched.schedule_in(ttf, self.vm_ids.get(vm), LcEvent::Crash { vm }.into());
            self.vms[vm as usize].crash = Some(h);
        }
    }

    fn release_slot<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        let pv_cloud = self.plan.vms[vm as usize].cloud;
        let p = self.profile_idx(vm);
        let v = &mut self.vms[vm as usize];
        if v.holds_slot {
            v.holds_slot = false;
            let mut admitted = std::mem::take(&mut self.admitted);
            self.gates[p].release(pv_cloud, &mut admitted);
            for next in admitted.drain(..) {
                self.start_create_call(sched, next);
            }
            self.admitted = admitted;
        } else if v.queued {
            v.queued = false;
            self.gates[p].withdraw(pv_cloud, vm);
        }
    }

    /// Fails a VM: cancels what it was waiting for, frees its gate slot, and retries a failed
    /// create if attempts remain.
    fn fail<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32, cause: &str) {
        let now = sched.now();
        let v = &mut self.vms[vm as usize];
        for h in [v.pending.take(), v.timeout.take(), v.crash.take()]
            .into_iter()
            .flatten()
        {
            sched.cancel(h);
        }
        let was_create = v.target.take() == Some(Action::Create);
        self.release_slot(sched, vm);
        if self.vms[vm as usize].status != VmStatus::Failed {
            self.set_status(now, vm, VmStatus::Failed, cause);
        }
        if was_create {
            let retry = &self.plan.retry;
            let v = &mut self.vms[vm as usize];
            if v.attempts < retry.attempts {
                self.stats.create_retries += 1;
                let wait = retry.backoff_before(v.attempts + 1);
                let h = sched.schedule_in(wait, self.vm_ids.get(vm), LcEvent::Launch { vm }.into());
                self.vms[vm as usize].pending = Some(h);
            } else {
                if v.first_running.is_none() {
                    self.provision_settled = self.provision_settled.max(now);
                }
                self.notices.push(Notice::CreateGaveUp { vm });
            }
        }
    }

    /// Applies a control action to one VM, if the rules allow it.
    fn apply_action<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
        action: Action,
    ) {
        let now = sched.now();
        let v = &self.vms[vm as usize];
        if v.presence != Presence::Present {
            return; // not created yet, or refined away: not part of the MCIS
        }
        match check_action(v.status, v.target, action) {
            Verdict::NoOp => {}
            Verdict::Reject(why) => {
                self.stats.illegal_actions += 1;
                let st = v.status;
                self.log(
                    now,
                    vm,
                    "rejected",
                    Some(st),
                    None,
                    &format!("{}: {why}", action.name()),
                );
            }
            Verdict::Apply if action == Action::Refine => {
                let v = &mut self.vms[vm as usize];
                for h in [v.pending.take(), v.timeout.take(), v.crash.take()]
                    .into_iter()
                    .flatten()
                {
                    sched.cancel(h);
                }
                let st = v.status;
                v.presence = Presence::Removed;
                let pv = &self.plan.vms[vm as usize];
                self.cloud_counts[pv.cloud as usize].remove(st);
                self.mcis_counts[pv.mcis as usize].remove(st);
                self.stats.vms_refined += 1;
                self.notices.push(Notice::Deleted { vm });
                self.log(now, vm, "removed", Some(st), None, "Refine");
            }
            Verdict::Apply => {
                self.stats.control_actions += 1;
                let v = &mut self.vms[vm as usize];
                // A retry waiting to launch, or a crash timer, no longer applies.
                for h in [v.pending.take(), v.crash.take()].into_iter().flatten() {
                    sched.cancel(h);
                }
                v.acted_from = v.status;
                v.target = Some(action);
                let to = action.transitional_status().expect("control action");
                self.set_status(now, vm, to, action.name());
                let p = self.profile_idx(vm);
                let start = self.rates[p].reserve(now);
                let prof = &self.plan.profiles[p];
                let timeout = if action == Action::Terminate {
                    prof.terminate_timeout
                } else {
                    prof.control_timeout
                };
                let delay_d = prof.api_delay.clone();
                let delay = self.draw(vm, Purpose::ApiDelay, |r| delay_d.sample(r));
                self.stats.api_calls += 1;
                self.interval_calls[p] += 1;
                let e = self.vm_ids.get(vm);
                let v = &mut self.vms[vm as usize];
                v.pending =
                    Some(sched.schedule_at(start + delay, e, LcEvent::CallDone { vm }.into()));
                v.timeout =
                    Some(sched.schedule_at(start + timeout, e, LcEvent::Timeout { vm }.into()));
            }
        }
    }

    /// Changes a present VM's status, keeping counts, the log and notices in step.
    fn set_status(&mut self, now: SimTime, vm: u32, to: VmStatus, detail: &str) {
        let v = &mut self.vms[vm as usize];
        let from = v.status;
        debug_assert!(
            is_legal_transition(from, to),
            "illegal transition {from} -> {to} ({detail})"
        );
        v.status = to;
        debug_assert!(
            from != VmStatus::Running || v.crash.is_none(),
            "crash timer must be cancelled when a VM leaves Running"
        );
        let pv = &self.plan.vms[vm as usize];
        self.cloud_counts[pv.cloud as usize].remove(from);
        self.cloud_counts[pv.cloud as usize].add(to);
        self.mcis_counts[pv.mcis as usize].remove(from);
        self.mcis_counts[pv.mcis as usize].add(to);
        self.stats.transitions += 1;
        let v = &mut self.vms[vm as usize];
        match (billable(from), billable(to)) {
            (false, true) => v.billed_since = Some(now),
            (true, false) => {
                if let Some(t) = v.billed_since.take() {
                    v.billed_ns += now.since(t).as_nanos();
                }
            }
            _ => {}
        }
        if to == VmStatus::Terminated && v.delete_when_terminated {
            v.presence = Presence::Removed;
            self.cloud_counts[pv.cloud as usize].remove(to);
            self.mcis_counts[pv.mcis as usize].remove(to);
            self.notices.push(Notice::Deleted { vm });
        }
        if to == VmStatus::Running {
            self.notices.push(Notice::Running {
                vm,
                cloud: pv.cloud,
            });
        } else if from == VmStatus::Running {
            self.notices.push(Notice::Stopped {
                vm,
                cloud: pv.cloud,
            });
        }
        self.log(now, vm, "transition", Some(from), Some(to), detail);
    }

    fn log(
        &mut self,
        now: SimTime,
        vm: u32,
        event: &str,
        from: Option<VmStatus>,
        to: Option<VmStatus>,
        detail: &str,
    ) {
        let Some(t) = self.events_log.as_mut() else {
            return;
        };
        let pv = &self.plan.vms[vm as usize];
        let cloud = &self.plan.clouds[pv.cloud as usize];
        let prof = &self.plan.profiles[self.plan.cloud_profile[pv.cloud as usize] as usize];
        let zone = cloud
            .region
            .zones
            .get(pv.zone as usize)
            .cloned()
            .unwrap_or_default();
        t.push(vec![
            fmt_secs(now),
            vm.to_string(),
            pv.name.clone(),
            self.plan.mcis[pv.mcis as usize].name.clone(),
            cloud.name(),
            zone,
            event.to_string(),
            from.map(|s| s.name().to_string()).unwrap_or_default(),
            to.map(|s| s.name().to_string()).unwrap_or_default(),
            to.map(|s| prof.native[s.index()].clone())
                .unwrap_or_default(),
            to.map(|s| prof.spider[s.index()].clone())
                .unwrap_or_default(),
            detail.to_string(),
        ]);
    }

    /// Records one row of each time series.
    fn sample_series(&mut self, now: SimTime) {
        let t = fmt_secs(now);
        for (c, counts) in self.cloud_counts.iter().enumerate() {
            for s in VmStatus::ALL {
                let n = counts.get(s);
                if n > 0 {
                    self.vm_states.push(vec![
                        t.clone(),
                        self.plan.clouds[c].name(),
                        s.name().to_string(),
                        n.to_string(),
                    ]);
                }
            }
        }
        for (m, counts) in self.mcis_counts.iter().enumerate() {
            let mut row = vec![
                t.clone(),
                self.plan.mcis[m].name.clone(),
                mcis_status(counts),
                counts.total().to_string(),
            ];
            row.extend(VmStatus::ALL.iter().map(|s| counts.get(*s).to_string()));
            self.mcis_table.push(row);
        }
        for (p, prof) in self.plan.profiles.iter().enumerate() {
            self.provider_api.push(vec![
                t.clone(),
                prof.provider.clone(),
                self.interval_calls[p].to_string(),
                self.gates[p].queued().to_string(),
                self.gates[p].inflight().to_string(),
                self.interval_regs[p].to_string(),
            ]);
            self.interval_calls[p] = 0;
            self.interval_regs[p] = 0;
        }
    }

    fn count_all(&self, s: VmStatus) -> u64 {
        self.cloud_counts.iter().map(|c| c.get(s) as u64).sum()
    }

    /// Billed VM-hours and their cost in USD up to `end` (a VM bills from Running until it is
    /// suspended, terminated or failed).
    pub fn billing(&self, end: SimTime) -> (f64, f64) {
        let (mut hours, mut cost) = (0.0, 0.0);
        for (i, v) in self.vms.iter().enumerate() {
            let open = v.billed_since.map_or(0, |t| end.since(t).as_nanos());
            let h = (v.billed_ns + open) as f64 / 3.6e12;
            hours += h;
            cost += h * self.plan.specs[self.plan.vms[i].spec as usize].cost_per_hour;
        }
        (hours, cost)
    }

    /// Creates one more VM in `mcis` on `cloud` with spec `spec` (an index into the plan's
    /// specs), using the MCIS's next spare slot. Returns the VM id, or `None` if none is left.
    pub fn add_vm<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        mcis: u32,
        cloud: u32,
        spec: u32,
    ) -> Option<u32> {
        let mc = &self.plan.mcis[mcis as usize];
        let (lo, hi) = (mc.first + mc.count, mc.first + mc.count + mc.spare);
        let vm = (lo..hi).find(|v| self.vms[*v as usize].presence == Presence::NotYet)?;
        let nz = self.plan.clouds[cloud as usize].region.zones.len().max(1) as u32;
        let pv = &mut self.plan.vms[vm as usize];
        pv.cloud = cloud;
        pv.zone = ((vm - lo) % nz) as u16;
        pv.spec = spec;
        let h = sched.schedule_in(
            SimDuration::ZERO,
            self.vm_ids.get(vm),
            LcEvent::Launch { vm }.into(),
        );
        self.vms[vm as usize].pending = Some(h);
        Some(vm)
    }

    /// Terminates a VM and deletes it from its MCIS once Terminated (CB-Tumblebug's
    /// `DelMcisVm`, used by scale-in). Returns false if the rules reject the terminate.
    pub fn delete_vm<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
    ) -> bool {
        let v = &self.vms[vm as usize];
        if v.presence != Presence::Present {
            return false;
        }
        if check_action(v.status, v.target, Action::Terminate) == Verdict::Apply {
            self.vms[vm as usize].delete_when_terminated = true;
            self.apply_action(sched, vm, Action::Terminate);
            true
        } else {
            false
        }
    }

    /// Adds a spec to the plan's list (if new) and returns its index.
    pub fn intern_spec(&mut self, spec: &crate::topology::specs::VmSpec) -> u32 {
        match self.plan.specs.iter().position(|s| s == spec) {
            Some(i) => i as u32,
            None => {
                self.plan.specs.push(spec.clone());
                (self.plan.specs.len() - 1) as u32
            }
        }
    }

    /// Applies a control action to one VM now (subject to the allowed-action rules).
    pub fn act<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
        action: Action,
    ) {
        self.apply_action(sched, vm, action);
    }

    /// The plan (with scale-out slots as placed so far).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// VMs of an MCIS in CB-Tumblebug's listing, in id order. A VM being deleted by
    /// scale-in is no longer listed (TB deletes the object 5 s after the terminate call, while
    /// the provider may still be terminating it).
    pub fn mcis_vms(&self, mcis: u32) -> impl Iterator<Item = u32> + '_ {
        let mc = &self.plan.mcis[mcis as usize];
        (mc.first..mc.first + mc.count + mc.spare).filter(|v| {
            let vm = &self.vms[*v as usize];
            vm.presence == Presence::Present && !vm.delete_when_terminated
        })
    }

    /// When the VM first became Running.
    pub fn first_running(&self, vm: u32) -> Option<SimTime> {
        self.vms[vm as usize].first_running
    }

    /// Provisioning times (request to first Running) of every provisioned VM, in seconds.
    pub fn provision_times(&self) -> &[f64] {
        &self.provision_times
    }
}

impl Results for Lifecycle {
    /// Adds the lifecycle's rows to the summary.
    fn summarize(&self, sum: &mut Summary, end: SimTime) {
        let st = &self.stats;
        let (vm_hours, cost) = self.billing(end);
        let q = percentiles(&self.provision_times, &[0.5, 0.95, 1.0]);
        sum.int(metric::VMS_PLANNED, self.plan.requested_vms())
            .int(metric::VM_CREATE_REQUESTS, st.create_requests)
            .int(metric::VM_CREATE_FAILURES, st.create_failures)
            .int(metric::VM_CREATE_TIMEOUTS, st.create_timeouts)
            .int(metric::VM_CREATE_RETRIES, st.create_retries)
            .int(metric::VMS_RUNNING_END, self.count_all(VmStatus::Running))
            .int(metric::VMS_FAILED_END, self.count_all(VmStatus::Failed))
            .int(
                metric::VMS_SUSPENDED_END,
                self.count_all(VmStatus::Suspended),
            )
            .int(
                metric::VMS_TERMINATED_END,
                self.count_all(VmStatus::Terminated),
            )
            .int(metric::VMS_PROVISIONED, self.provision_times.len() as u64)
            .float(metric::PROVISION_TIME_P50_S, q[0])
            .float(metric::PROVISION_TIME_P95_S, q[1])
            .float(metric::PROVISION_TIME_MAX_S, q[2])
            .float(
                metric::PROVISION_SETTLED_S,
                self.provision_settled.as_secs_f64(),
            )
            .int(metric::CONTROL_ACTIONS, st.control_actions)
            .int(metric::CONTROL_FAILURES, st.control_failures)
            .int(metric::ILLEGAL_ACTIONS, st.illegal_actions)
            .int(metric::VM_CRASHES, st.crashes)
            .int(metric::OUTAGES, self.plan.outages.len() as u64)
            .int(metric::OUTAGE_VM_FAILURES, st.outage_failures)
            .int(metric::VMS_REFINED, st.vms_refined)
            .int(metric::AGENT_REGISTRATIONS, st.agent_registrations)
            .int(metric::PROVIDER_API_CALLS, st.api_calls)
            .float(metric::VM_HOURS, vm_hours)
            .float(metric::COST_USD, cost);
    }

    /// The model's tables, in a fixed order.
    fn take_tables(&mut self) -> Vec<Table> {
        let mut outages = Table::new(
            file::OUTAGES,
            &[
                "start_s",
                "end_s",
                "scope",
                "target",
                "effect",
                "random",
                "vms_failed",
            ],
        );
        for (o, n) in self.plan.outages.iter().zip(&self.outage_vms) {
            outages.push(vec![
                fmt_secs(o.start),
                fmt_secs(o.end),
                format!("{:?}", o.scope).to_lowercase(),
                o.target.clone(),
                format!("{:?}", o.effect).to_lowercase(),
                o.random.to_string(),
                n.to_string(),
            ]);
        }
        let mut v = vec![
            self.vm_states.take(),
            self.mcis_table.take(),
            self.provider_api.take(),
            outages,
        ];
        v.extend(self.events_log.take());
        v
    }
}

impl<E: From<LcEvent> + Copy> SubModel<E> for Lifecycle {
    type Event = LcEvent;
    type Peers<'p> = ();

    fn handle(&mut self, sched: &mut Scheduler<E>, ev: LcEvent, _: ()) {
        self.handle_event(sched, ev);
    }

    fn sample(&mut self, now: SimTime, _: ()) {
        self.sample_series(now);
    }
}

/// Statuses a provider bills compute for.
fn billable(s: VmStatus) -> bool {
    matches!(
        s,
        VmStatus::Running
            | VmStatus::Suspending
            | VmStatus::Resuming
            | VmStatus::Rebooting
            | VmStatus::Terminating
    )
}
