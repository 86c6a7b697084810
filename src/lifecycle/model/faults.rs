//! Faults: timeouts, crashes and outages, and what failing a VM does.
//!
//! A call or operation that outlives its timeout fails the VM, as CB-Tumblebug marks a node
//! Failed when the provider does not answer in time. A Running VM may crash after a drawn
//! time to failure. An outage covers a provider, a region or a zone for a while: a `fail`
//! outage fails the live VMs inside when it starts and fails every call into it while it
//! lasts; a `stall` outage holds the VMs' calls and operations until it ends. A failed VM
//! stops waiting, frees its create gate slot, and a failed create is relaunched after the
//! retry backoff while attempts remain.
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug; 1.2 failed nodes, 1.5
//! timeouts) and 4 (CB-Spider; 4.3 create/wait timeouts); timeouts per provider in
//! `models/providers.toml`.

use super::{LcEvent, Lifecycle, Presence, Purpose};
use crate::engine::{Scheduler, SimTime};
use crate::lifecycle::config::OutageEffect;
use crate::lifecycle::plan::{Outage, VmPlan};
use crate::lifecycle::status::{Action, VmStatus};
use crate::model::Notice;

/// The outages in progress (indices into the plan's outages, in start order).
#[derive(Default)]
pub(super) struct ActiveOutages(Vec<u32>);

impl ActiveOutages {
    fn start(&mut self, idx: u32) {
        self.0.push(idx);
    }

    pub(super) fn end(&mut self, idx: u32) {
        self.0.retain(|i| *i != idx);
    }

    /// The active outages with `effect` that cover the VM.
    fn covering<'a>(
        &'a self,
        outages: &'a [Outage],
        pv: &'a VmPlan,
        effect: OutageEffect,
    ) -> impl Iterator<Item = &'a Outage> + 'a {
        self.0
            .iter()
            .map(|i| &outages[*i as usize])
            .filter(move |o| o.effect == effect && o.covers(pv.cloud, pv.zone))
    }
}

impl Lifecycle {
    /// The end of the longest stall outage covering the VM, if any is active.
    fn stall_end(&self, vm: u32) -> Option<SimTime> {
        let pv = &self.plan.vms[vm as usize];
        self.outages
            .covering(&self.plan.outages, pv, OutageEffect::Stall)
            .map(|o| o.end)
            .max()
    }

    /// Whether a fail outage covering the VM is active.
    pub(super) fn in_fail_outage(&self, vm: u32) -> bool {
        let pv = &self.plan.vms[vm as usize];
        self.outages
            .covering(&self.plan.outages, pv, OutageEffect::Fail)
            .next()
            .is_some()
    }

    /// A stalled VM's call or operation waits for the outage to end: true if `ev` was put off.
    pub(super) fn defer_if_stalled<E: From<LcEvent> + Copy>(
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

    /// The VM's call or operation timed out.
    pub(super) fn timed_out<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        let v = &mut self.vms[vm as usize];
        v.timeout = None;
        if v.target == Some(Action::Create) {
            self.acct.stats.create_timeouts += 1;
        } else {
            self.acct.stats.control_failures += 1;
        }
        self.fail(sched, vm, "timeout");
    }

    /// Arms the crash timer of a VM that just became Running (if crashes are modelled).
    pub(super) fn arm_crash<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        if let Some(dist) = self.plan.crash.clone() {
            let ttf = dist.sample(&mut self.rng(vm, Purpose::Crash));
            let h = sched.schedule_in(ttf, self.vm_ids.get(vm), LcEvent::Crash { vm }.into());
            self.vms[vm as usize].crash = Some(h);
        }
    }

    /// The VM's crash timer fired.
    pub(super) fn crashed<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        self.vms[vm as usize].crash = None;
        if self.vms[vm as usize].status == VmStatus::Running {
            self.acct.stats.crashes += 1;
            self.fail(sched, vm, "crash");
        }
    }

    /// Outage `idx` starts: a fail outage fails the live VMs it covers.
    pub(super) fn outage_start<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        idx: u32,
    ) {
        self.outages.start(idx);
        if self.plan.outages[idx as usize].effect != OutageEffect::Fail {
            return;
        }
        for vm in 0..self.vms.len() as u32 {
            let v = &self.vms[vm as usize];
            if v.presence != Presence::Present
                || matches!(v.status, VmStatus::Failed | VmStatus::Terminated)
            {
                continue;
            }
            let pv = &self.plan.vms[vm as usize];
            if self.plan.outages[idx as usize].covers(pv.cloud, pv.zone) {
                self.acct.outage_failure(idx);
                self.fail(sched, vm, "outage");
            }
        }
    }

    /// Fails a VM: cancels what it was waiting for, frees its gate slot, and retries a failed
    /// create if attempts remain.
    pub(super) fn fail<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
        cause: &'static str,
    ) {
        let now = sched.now();
        let v = &mut self.vms[vm as usize];
        v.cancel_waits(sched, true);
        let was_create = v.target.take() == Some(Action::Create);
        self.release_slot(sched, vm);
        if self.vms[vm as usize].status != VmStatus::Failed {
            self.set_status(now, vm, VmStatus::Failed, cause);
        }
        if !was_create {
            return;
        }
        let retry = &self.plan.retry;
        let api = self.is_api(vm);
        let v = &mut self.vms[vm as usize];
        // Retries are CB-Tumblebug's: a create through Spider's API fails for good.
        if v.attempts < retry.attempts && !api {
            self.acct.stats.create_retries += 1;
            let wait = retry.backoff_before(v.attempts + 1);
            v.pending =
                Some(sched.schedule_in(wait, self.vm_ids.get(vm), LcEvent::Launch { vm }.into()));
        } else {
            if v.first_running.is_none() {
                self.acct.settled(now);
            }
            self.notices.push(Notice::CreateGaveUp { vm });
        }
    }
}
