//! Control actions: suspend, resume, reboot, terminate and refine of an MCIS's VMs.
//!
//! A timeline action reaches an MCIS's VMs (or those on one cloud) one by one with
//! CB-Tumblebug's control stagger; the control loop acts on single VMs (`act`) and deletes
//! VMs for scale-in (`delete_vm`, TB's `DelMcisVm`). Each action is checked against TB's
//! allowed-action rules (`CheckAllowedTransition`): a rejected one is counted and leaves the
//! VM alone; an applied one writes the transitional status and starts the provider call
//! (`calls.rs`). Refine removes Failed and Undefined VMs from the MCIS at once.
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug; 1.3 allowed actions,
//! 1.5 control stagger, 1.6 scale-in) and 4 (CB-Spider); control timeouts per provider in
//! `models/providers.toml`.

use super::{LcEvent, Lifecycle, Presence};
use crate::engine::{Scheduler, SimDuration};
use crate::lifecycle::status::{Action, Verdict, check_action};
use crate::model::Notice;

impl Lifecycle {
    /// Timeline action `idx` fires: each targeted VM gets it after the control stagger
    /// (refine, at once).
    pub(super) fn timeline<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, idx: u32) {
        let a = &self.plan.actions[idx as usize];
        let (action, cloud) = (a.action, a.cloud);
        let mc = &self.plan.mcis[a.mcis as usize];
        let mut k = 0u64;
        for vm in mc.first..mc.first + mc.count {
            if cloud.is_some_and(|c| c != self.plan.vms[vm as usize].cloud) {
                continue;
            }
            if action == Action::Refine {
                self.apply_action(sched, vm, Action::Refine);
                continue;
            }
            let delay = SimDuration(self.plan.control_stagger.as_nanos().saturating_mul(k));
            let ev = LcEvent::Control { vm, action };
            sched.post_in(delay, self.vm_ids.get(vm), ev.into());
            k += 1;
        }
    }

    /// Applies a control action to one VM, if the rules allow it.
    pub(super) fn apply_action<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
        action: Action,
    ) {
        let now = sched.now();
        let v = &mut self.vms[vm as usize];
        if v.presence != Presence::Present {
            return; // not created yet, or refined away: not part of the MCIS
        }
        let st = v.status;
        match check_action(st, v.target, action) {
            Verdict::NoOp => {}
            Verdict::Reject(why) => {
                let why = format!("{}: {why}", action.name());
                self.acct.rejected(&self.plan, now, vm, st, &why);
            }
            Verdict::Apply if action == Action::Refine => {
                v.cancel_waits(sched, true);
                v.presence = Presence::Removed;
                self.acct.refined(&self.plan, now, vm, st);
                self.notices.push(Notice::Deleted { vm });
            }
            Verdict::Apply => {
                self.acct.stats.control_actions += 1;
                // A retry waiting to launch, or a crash timer, no longer applies.
                v.cancel_waits(sched, false);
                v.acted_from = st;
                v.target = Some(action);
                let to = action.transitional_status().expect("control action");
                self.set_status(now, vm, to, action.name());
                self.start_call(sched, vm, action);
            }
        }
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

    /// Applies a control action to one VM now (subject to the allowed-action rules).
    pub fn act<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        vm: u32,
        action: Action,
    ) {
        self.apply_action(sched, vm, action);
    }
}
