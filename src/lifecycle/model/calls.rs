//! A provider API call and the operation it starts, for creates and control actions alike.
//!
//! Through CB-Spider, every call waits for the provider's rate limit, returns after the API
//! delay (or the action's timeout fires first), and then either fails (a create with the
//! provider's failure probability; any call into a region in a fail outage; suspend, resume
//! or reboot of a Failed VM) or starts the operation: boot, suspend, resume, reboot or
//! terminate, each with the provider's time distribution. When the operation ends the VM
//! reaches the action's target status; a booted VM's agent registers and its create frees
//! its gate slot.
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug; 1.2 transitions, 1.5
//! call timeouts and rate limits) and 4 (CB-Spider); delays, timeouts, failure probabilities
//! and operation times per provider in `models/providers.toml`.

use super::{LcEvent, Lifecycle, Purpose};
use crate::engine::Scheduler;
use crate::lifecycle::status::{Action, VmStatus};

impl Lifecycle {
    /// Starts the provider API call of the VM's `action`: after the rate limit and the API
    /// delay it returns (`CallDone`), unless the action's timeout (`Timeout`) comes first.
    pub(super) fn start_call<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
        action: Action,
    ) {
        let p = self.profile_idx(vm);
        let start = self.rates[p].reserve(sched.now());
        let mut rng = self.rng(vm, Purpose::ApiDelay);
        let prof = &self.plan.profiles[p];
        let timeout = match action {
            Action::Create => prof.create_timeout,
            Action::Terminate => prof.terminate_timeout,
            _ => prof.control_timeout,
        };
        let delay = prof.api_delay.sample(&mut rng);
        self.acct.api_call(p);
        let e = self.vm_ids.get(vm);
        let v = &mut self.vms[vm as usize];
        v.pending = Some(sched.schedule_at(start + delay, e, LcEvent::CallDone { vm }.into()));
        v.timeout = Some(sched.schedule_at(start + timeout, e, LcEvent::Timeout { vm }.into()));
    }

    /// The call returned: it failed, or the operation starts.
    pub(super) fn call_done<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        self.vms[vm as usize].pending = None;
        let p = self.profile_idx(vm);
        let target = self.vms[vm as usize].target;
        let Some(action) = target else { return };
        if action == Action::Refine {
            return; // refine makes no provider call
        }
        let outage = self.in_fail_outage(vm);
        let failed = if action == Action::Create {
            let mut rng = self.rng(vm, Purpose::CreateFail);
            // Always draw, so an outage does not shift this VM's later draws.
            let provider_error = self.plan.profiles[p].create_failure_p.sample(&mut rng);
            outage || provider_error
        } else {
            // Calls to a dead region fail; so do suspend/resume/reboot of a Failed VM.
            outage
                || (self.vms[vm as usize].acted_from == VmStatus::Failed
                    && action != Action::Terminate)
        };
        if failed {
            if action == Action::Create {
                self.acct.stats.create_failures += 1;
            } else {
                self.acct.stats.control_failures += 1;
            }
            self.fail(sched, vm, if outage { "outage" } else { "provider error" });
            return;
        }
        let mut rng = self.rng(vm, Purpose::OpTime);
        let prof = &self.plan.profiles[p];
        let op_time = match action {
            Action::Create => &prof.boot_time,
            Action::Suspend => &prof.suspend_time,
            Action::Resume => &prof.resume_time,
            Action::Reboot => &prof.reboot_time,
            Action::Terminate => &prof.terminate_time,
            Action::Refine => unreachable!("refine makes no provider call"),
        };
        let d = op_time.sample(&mut rng);
        let h = sched.schedule_in(d, self.vm_ids.get(vm), LcEvent::OpDone { vm }.into());
        self.vms[vm as usize].pending = Some(h);
    }

    /// The operation finished: the VM reaches the action's target status.
    pub(super) fn op_done<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
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
                let pv = &self.plan.vms[vm as usize];
                let requested_at = (!pv.spare).then(|| self.plan.mcis[pv.mcis as usize].at);
                self.acct.provisioned(now, requested_at);
            }
            let p = self.profile_idx(vm);
            self.acct.registered(p);
        }
        self.set_status(now, vm, to, action.name());
        if to == VmStatus::Running {
            self.arm_crash(sched, vm);
        }
    }
}
