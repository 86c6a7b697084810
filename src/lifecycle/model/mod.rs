//! The lifecycle model: every VM's status over time, driven by the plan and seeded draws.
//!
//! Provisioning follows CB-Tumblebug: an MCIS request launches each group's VMs with the
//! launch stagger; each VM sleeps a pre-create jitter, then its create call passes the
//! provider's concurrency gate and rate limit, takes an API delay, and fails with the
//! provider's probability or boots. A create holds its gate slot until the VM is Running or
//! has failed (TB's POST /vm blocks until then). Timeouts, crashes and outages fail VMs;
//! failed creates are retried per the retry policy. Control actions on the timeline are
//! dispatched per VM with TB's control stagger and checked against the allowed-action rules.
//!
//! This file holds the model's state (the [`Lifecycle`] struct and each VM's `Vm` record),
//! builds it, dispatches its events to the parts, and answers the queries of the other
//! models. The parts:
//!
//! - `provisioning.rs`: MCIS requests, launches, the create gate, scale-out (`add_vm`);
//! - `calls.rs`: a provider API call and the operation it starts, for creates and actions;
//! - `actions.rs`: control actions (timeline, control loop) under TB's allowed-action rules;
//! - `faults.rs`: timeouts, crashes, outages (fail and stall), failure with retry;
//! - `accounting.rs`: status counts, counters, provisioning times, billing and the tables.
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug) and 4 (CB-Spider);
//! default timings and their provenance in `models/providers.toml`.

mod accounting;
mod actions;
mod calls;
mod faults;
mod live;
mod provisioning;

pub use accounting::LifecycleStats;

use super::gate::{CreateGate, RateLimit};
use super::plan::Plan;
use super::status::{Action, VmStatus, is_legal_transition};
use crate::engine::chacha_draw::DrawRng;
use crate::engine::hint::{prefetch, prefetch_span};
use crate::engine::{
    EntityId, EntityRange, EventHandle, RngFactory, Scheduler, SimTime, StreamFamily,
};
use crate::model::{Notice, PlanError, Resolved, Results, SubModel};
use crate::output::{Summary, Table};
use accounting::Accounting;
use faults::ActiveOutages;
use std::sync::Arc;

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

/// One VM slot: its status in CB-Tumblebug's view and what it is waiting for.
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
    /// Draws taken so far from each purpose's stream.
    draws: [u32; 5],
}

impl Vm {
    const NEW: Vm = Vm {
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
        draws: [0; 5],
    };

    /// Cancels what the VM waits for: its pending event, its timeout (if `with_timeout`) and
    /// its crash timer, in that order.
    fn cancel_waits<E: Copy>(&mut self, sched: &mut Scheduler<E>, with_timeout: bool) {
        let timeout = if with_timeout {
            self.timeout.take()
        } else {
            None
        };
        for h in [self.pending.take(), timeout, self.crash.take()]
            .into_iter()
            .flatten()
        {
            sched.cancel(h);
        }
    }
}

/// The lifecycle model's state.
pub struct Lifecycle {
    /// The plan, shared with the loaded scenario until the model changes it (a cloud or an
    /// outage added by the live twin, a spare slot placed by a scale-out): at ten million VMs
    /// a copy is about 100 bytes per VM, most runs never need one, and one that does makes it
    /// once (`plan_mut`).
    plan: Arc<Plan>,
    vms: Vec<Vm>,
    vm_ids: EntityRange,
    ctl_ids: EntityRange,
    gates: Vec<CreateGate>,
    rates: Vec<RateLimit>,
    fams: [StreamFamily; 5],
    outages: ActiveOutages,
    /// Scratch list of the creates a released gate slot admits.
    admitted: Vec<u32>,
    acct: Accounting,
    notices: Vec<Notice>,
    /// Per MCIS, the next spare (scale-out) slot not yet taken: slots are handed out in order
    /// and never reused, so one action adding several VMs gives each its own slot.
    next_spare: Vec<u32>,
    /// The entity of outages added during a live twin session (none in batch runs, so their
    /// entity ids stay as they were).
    live_ctl: Option<EntityId>,
}

impl Lifecycle {
    /// Builds the model from its plan and schedules the MCIS requests, timeline actions and
    /// outages.
    pub fn new<E: From<LcEvent> + Copy>(plan: &Arc<Plan>, sched: &mut Scheduler<E>) -> Self {
        let rngs = RngFactory::new(plan.seed);
        let n_vms = plan.vms.len() as u32;
        let vm_ids = sched.alloc_entities(n_vms);
        let n_ctl = (plan.mcis.len() + plan.actions.len() + plan.outages.len()) as u32;
        let ctl_ids = sched.alloc_entities(n_ctl);
        let live_ctl = plan
            .mcis
            .iter()
            .any(|m| m.api)
            .then(|| sched.alloc_entities(1).get(0));
        let n_clouds = plan.clouds.len();
        let m = Lifecycle {
            vms: vec![Vm::NEW; n_vms as usize],
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
            outages: ActiveOutages::default(),
            admitted: Vec::new(),
            acct: Accounting::new(plan),
            notices: Vec::new(),
            next_spare: plan.mcis.iter().map(|m| m.first + m.count).collect(),
            live_ctl,
            plan: Arc::clone(plan),
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

    /// Handles one lifecycle event.
    pub fn handle_event<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, ev: LcEvent) {
        match ev {
            LcEvent::McisRequest { mcis } => self.request_mcis(sched, mcis),
            LcEvent::Launch { vm } => self.launch(sched, vm),
            LcEvent::Submit { vm } => {
                if !self.defer_if_stalled(sched, vm, ev) {
                    self.submit(sched, vm);
                }
            }
            LcEvent::CallDone { vm } => {
                if !self.defer_if_stalled(sched, vm, ev) {
                    self.call_done(sched, vm);
                }
            }
            LcEvent::OpDone { vm } => {
                if !self.defer_if_stalled(sched, vm, ev) {
                    self.op_done(sched, vm);
                }
            }
            LcEvent::Timeout { vm } => self.timed_out(sched, vm),
            LcEvent::Crash { vm } => self.crashed(sched, vm),
            LcEvent::Control { vm, action } => self.apply_action(sched, vm, action),
            LcEvent::Timeline { idx } => self.timeline(sched, idx),
            LcEvent::OutageStart { idx } => self.outage_start(sched, idx),
            LcEvent::OutageEnd { idx } => self.outages.end(idx),
        }
    }

    /// The VM's next random stream for purpose `p` (its draw counter advances).
    fn rng(&mut self, vm: u32, p: Purpose) -> DrawRng {
        let k = &mut self.vms[vm as usize].draws[p as usize];
        let rng = self.fams[p as usize].draw(vm as u64, *k as u64);
        *k += 1;
        rng
    }

    /// Whether the VM belongs to the live twin's MCIS (created through Spider's API).
    fn is_api(&self, vm: u32) -> bool {
        self.plan.mcis[self.plan.vms[vm as usize].mcis as usize].api
    }

    fn profile_idx(&self, vm: u32) -> usize {
        self.plan.cloud_profile[self.plan.vms[vm as usize].cloud as usize] as usize
    }

    /// Changes a present VM's status: accounting follows, and the models that follow VMs are
    /// told when it enters or leaves Running or is deleted.
    fn set_status(&mut self, now: SimTime, vm: u32, to: VmStatus, detail: &'static str) {
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
        let deleted = to == VmStatus::Terminated && v.delete_when_terminated;
        self.acct.transition(&self.plan, now, vm, from, to, detail);
        if deleted {
            self.vms[vm as usize].presence = Presence::Removed;
            self.acct.remove(&self.plan, vm, to);
            self.notices.push(Notice::Deleted { vm });
        }
        let cloud = self.plan.vms[vm as usize].cloud;
        if to == VmStatus::Running {
            self.notices.push(Notice::Running { vm, cloud });
        } else if from == VmStatus::Running {
            self.notices.push(Notice::Stopped { vm, cloud });
        }
        if to == VmStatus::Failed {
            self.notices.push(Notice::Failed { vm, cause: detail });
        }
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

    /// Notices produced since the last call, in the order they were made. Hand the emptied
    /// vector back with [`Lifecycle::reuse_notices`] so the next ones need no allocation.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Takes back a vector from [`Lifecycle::take_notices`] as the buffer for new notices,
    /// unless notices were made meanwhile (those stay, in order, for the next take).
    pub fn reuse_notices(&mut self, mut buffer: Vec<Notice>) {
        if self.notices.is_empty() {
            buffer.clear();
            self.notices = buffer;
        }
    }

    pub fn status(&self, vm: u32) -> Option<VmStatus> {
        let v = &self.vms[vm as usize];
        (v.presence == Presence::Present).then_some(v.status)
    }

    pub fn vm_count(&self) -> usize {
        self.vms.len()
    }

    /// Adds a spec to the plan's list (if new) and returns its index.
    pub fn intern_spec(&mut self, spec: &crate::topology::specs::VmSpec) -> u32 {
        match self.plan.specs.iter().position(|s| s == spec) {
            Some(i) => i as u32,
            None => {
                let specs = &mut self.plan_mut().specs;
                specs.push(spec.clone());
                (specs.len() - 1) as u32
            }
        }
    }

    /// The plan (with scale-out slots as placed so far).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The plan, to change: copied first if the loaded scenario still shares it.
    fn plan_mut(&mut self) -> &mut Plan {
        Arc::make_mut(&mut self.plan)
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
        self.acct.provision_times()
    }

    /// Billed VM-hours and their cost in USD up to `end` (a VM bills from Running until it is
    /// suspended, terminated or failed).
    pub fn billing(&self, end: SimTime) -> (f64, f64) {
        self.acct.billing(&self.plan, end)
    }

    /// The counters reported in the summary.
    pub fn stats(&self) -> &LifecycleStats {
        &self.acct.stats
    }
}

impl Results for Lifecycle {
    /// Adds the lifecycle's rows to the summary.
    fn summarize(&self, sum: &mut Summary, end: SimTime) {
        self.acct.summarize(&self.plan, sum, end);
    }

    /// The model's tables, in a fixed order.
    fn take_tables(&mut self) -> Vec<Table> {
        self.acct.take_tables(&self.plan)
    }
}

impl<E: From<LcEvent> + Copy> SubModel<E> for Lifecycle {
    type Event = LcEvent;
    type Peers<'p> = ();

    fn handle(&mut self, sched: &mut Scheduler<E>, ev: LcEvent, _: ()) {
        self.handle_event(sched, ev);
    }

    /// A VM's event reads its state and its plan entry (its cloud, MCIS and profile): at ten
    /// million VMs both are far from the cache, so start loading them a few events ahead.
    #[inline]
    fn prefetch(&self, ev: &LcEvent) {
        let vm = match *ev {
            LcEvent::Launch { vm }
            | LcEvent::Submit { vm }
            | LcEvent::CallDone { vm }
            | LcEvent::OpDone { vm }
            | LcEvent::Timeout { vm }
            | LcEvent::Crash { vm }
            | LcEvent::Control { vm, .. } => vm,
            _ => return,
        };
        if let Some(v) = self.vms.get(vm as usize) {
            prefetch_span(v);
        }
        if let Some(p) = self.plan.vms.get(vm as usize) {
            prefetch(p);
        }
    }

    fn sample(&mut self, now: SimTime, _: ()) {
        self.acct.sample(&self.plan, &self.gates, now);
    }

    fn cloud_added(&mut self, world: &Resolved) -> Result<(), PlanError> {
        match world.clouds.last() {
            Some(c) => self.add_cloud(c.clone()),
            None => Ok(()),
        }
    }
}
