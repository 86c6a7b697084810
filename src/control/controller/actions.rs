//! The control loop's actions: what a policy does once its condition held (CB-Tumblebug's
//! ScaleOut and ScaleIn, and the extensions Suspend, Resume and ReplaceFailed), each logged
//! with the VM it created or removed. Scale-out picks a cloud and spec by the policy's
//! placement; scale-in removes the newest auto-generated VM and never a user-created one.
//! Source: `../shared/domain/cloud-barista.md` sections 1.6 (policy actions) and 1.7
//! (placement).

use super::{ActionRecord, Controller, CtlEvent, Ctx, Wait};
use crate::control::config::PolicyAction;
use crate::control::placement::{Choice, choose};
use crate::engine::Scheduler;
use crate::lifecycle::{Action, LcEvent, Lifecycle, VmStatus};

impl Controller {
    /// Runs policy `i`'s action; returns what the loop waits for, or None if nothing was done.
    pub(super) fn act<E: From<CtlEvent> + From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        i: usize,
        ctx: &mut Ctx<'_>,
    ) -> Option<Wait> {
        let now = sched.now();
        let p = self.policies[i].clone();
        let vms: Vec<u32> = ctx.lifecycle.mcis_vms(p.plan.mcis).collect();
        let record = |s: &mut Self,
                      lc: &Lifecycle,
                      action: &'static str,
                      vm: Option<u32>,
                      detail: String| {
            if vm.is_some() || !detail.starts_with("skipped") {
                s.iv_actions[p.plan.mcis as usize].push(action);
            }
            s.log.push(ActionRecord {
                time: now,
                policy: i,
                action,
                vm,
                vm_name: vm.map_or_else(String::new, |v| lc.plan().vms[v as usize].name.clone()),
                detail,
            });
        };
        match p.plan.spec.action {
            PolicyAction::ScaleOut => {
                let room = p
                    .plan
                    .spec
                    .max_vms
                    .map_or(u32::MAX, |m| m.saturating_sub(vms.len() as u32));
                let n = p.plan.spec.step.min(room);
                if n == 0 {
                    record(
                        self,
                        ctx.lifecycle,
                        "ScaleOut",
                        None,
                        "skipped: max_vms reached".into(),
                    );
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
                let mut created = Vec::new();
                for _ in 0..n {
                    let Some(choice) = choose(&p.plan.placement, &existing, &clouds, &mut self.rng)
                    else {
                        break;
                    };
                    let spec = ctx.lifecycle.intern_spec(&choice.spec);
                    match ctx.lifecycle.add_vm(sched, p.plan.mcis, choice.cloud, spec) {
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
                                ctx.lifecycle,
                                "ScaleOut",
                                Some(vm),
                                format!("{cloud} {}", choice.spec.name),
                            );
                            created.push(vm);
                        }
                        None => {
                            record(
                                self,
                                ctx.lifecycle,
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
                if p.plan.spec.min_vms.is_some_and(|m| vms.len() as u32 <= m) {
                    record(
                        self,
                        ctx.lifecycle,
                        "ScaleIn",
                        None,
                        "skipped: min_vms reached".into(),
                    );
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
                        ctx.lifecycle,
                        "ScaleIn",
                        Some(victim),
                        "rejected by the allowed-action rules".into(),
                    );
                    return None;
                }
                self.stats.scale_in += 1;
                record(self, ctx.lifecycle, "ScaleIn", Some(victim), String::new());
                Some(Wait::Sleep)
            }
            PolicyAction::Suspend | PolicyAction::Resume => {
                let (from, action) = if p.plan.spec.action == PolicyAction::Suspend {
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
                    ctx.lifecycle,
                    p.plan.spec.action.name(),
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
                    if let Some(new) = ctx.lifecycle.add_vm(sched, p.plan.mcis, cloud, spec) {
                        if let Some(m) = ctx.monitoring.as_deref_mut() {
                            let provider = ctx.lifecycle.plan().cloud_profile[cloud as usize];
                            m.place_agent(new, cloud, provider);
                        }
                        self.stats.other_actions += 1;
                        record(
                            self,
                            ctx.lifecycle,
                            "ReplaceFailed",
                            Some(new),
                            format!("replaces VM {v}"),
                        );
                        created.push(new);
                    }
                }
                (!created.is_empty()).then_some(Wait::Vms(created))
            }
        }
    }
}
