//! Provisioning: how an MCIS request becomes create calls at the providers.
//!
//! CB-Tumblebug launches a group's VMs with the launch stagger (`sleep(i s)` per VM in v0.5);
//! each VM sleeps a pre-create jitter, then submits its create call to the provider's
//! concurrency gate (`MaxConcurrentRegions` regions, `MaxNodesPerRegion` creates each). An
//! admitted create holds its slot until the VM is Running or has failed (TB's POST /vm blocks
//! until then); releasing it admits the next creates. Retries relaunch the VM; scale-out
//! launches a spare slot of the MCIS (`add_vm`). The call itself is in `calls.rs`.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 1 (CB-Tumblebug; 1.5 for the stagger,
//! jitter and per-CSP concurrency) and 4 (CB-Spider); gate limits per provider in
//! `models/providers.toml`.

use super::{LcEvent, Lifecycle, Presence, Purpose};
use crate::engine::{Scheduler, SimDuration};
use crate::lifecycle::status::{Action, VmStatus};

impl Lifecycle {
    /// An MCIS request: launches its VMs after the group stagger.
    pub(super) fn request_mcis<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        mcis: u32,
    ) {
        let mc = &self.plan.mcis[mcis as usize];
        for vm in mc.first..mc.first + mc.count {
            let off = self
                .plan
                .stagger
                .offset(self.plan.vms[vm as usize].index_in_group as u64);
            let h = sched.schedule_in(off, self.vm_ids.get(vm), LcEvent::Launch { vm }.into());
            self.vms[vm as usize].pending = Some(h);
        }
    }

    /// A VM is launched (first time or retry): it is Creating and sleeps the pre-create jitter.
    pub(super) fn launch<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        let v = &mut self.vms[vm as usize];
        v.pending = None;
        v.attempts += 1;
        v.target = Some(Action::Create);
        match v.presence {
            Presence::NotYet => {
                v.presence = Presence::Present;
                v.status = VmStatus::Creating;
                self.acct.created(&self.plan, sched.now(), vm);
            }
            Presence::Present => {
                self.set_status(sched.now(), vm, VmStatus::Creating, "retry");
            }
            Presence::Removed => return,
        }
        // CB-Tumblebug sleeps before calling Spider; a VM created through Spider's API does not.
        let d = if self.is_api(vm) {
            SimDuration::ZERO
        } else {
            let mut rng = self.rng(vm, Purpose::Jitter);
            self.plan.pre_create_jitter.sample(&mut rng)
        };
        let h = sched.schedule_in(d, self.vm_ids.get(vm), LcEvent::Submit { vm }.into());
        self.vms[vm as usize].pending = Some(h);
    }

    /// The create call reaches the provider's gate: it starts now or waits in the queue.
    pub(super) fn submit<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        self.vms[vm as usize].pending = None;
        self.acct.stats.create_requests += 1;
        let cloud = self.plan.vms[vm as usize].cloud;
        let p = self.profile_idx(vm);
        if self.gates[p].request(cloud, vm) {
            self.start_create_call(sched, vm);
        } else {
            self.vms[vm as usize].queued = true;
        }
    }

    /// An admitted create starts its call, holding its gate slot.
    fn start_create_call<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        self.start_call(sched, vm, Action::Create);
        let v = &mut self.vms[vm as usize];
        v.queued = false;
        v.holds_slot = true;
    }

    /// The VM's create is over (Running or failed): frees its gate slot and starts the creates
    /// that admits, or leaves the queue.
    pub(super) fn release_slot<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
    ) {
        let cloud = self.plan.vms[vm as usize].cloud;
        let p = self.profile_idx(vm);
        let v = &mut self.vms[vm as usize];
        if v.holds_slot {
            v.holds_slot = false;
            let mut admitted = std::mem::take(&mut self.admitted);
            self.gates[p].release(cloud, &mut admitted);
            for next in admitted.drain(..) {
                self.start_create_call(sched, next);
            }
            self.admitted = admitted;
        } else if v.queued {
            v.queued = false;
            self.gates[p].withdraw(cloud, vm);
        }
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
        let vm = self.next_spare[mcis as usize];
        if vm >= hi {
            return None;
        }
        self.next_spare[mcis as usize] = vm + 1;
        let nz = self.plan.clouds[cloud as usize].region.zones.len().max(1) as u32;
        let pv = &mut self.plan_mut().vms[vm as usize];
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
}
