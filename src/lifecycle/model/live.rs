//! What the live twin asks of the lifecycle: the world grows while it runs. A cloud joins
//! when a client registers a connection to it (its provider's profile is resolved the first
//! time); a VM is created through CB-Spider's API in a slot of the twin's MCIS, named by the
//! client; a forced delete removes a VM at once; an outage or a provider's behaviour may be
//! changed through the admin API. Every change comes in as an event at its simulated time, so
//! a replay of the same requests makes the same changes.
//!
//! Sources: `../shared/domain/spider-api.md` sections 1.5 (VM endpoints) and 2 (the mock
//! driver); `../shared/domain/cloud-barista.md` section 5 (Cloud-Twin).

use super::{LcEvent, Lifecycle, Presence};
use crate::engine::Scheduler;
use crate::lifecycle::gate::{CreateGate, RateLimit};
use crate::lifecycle::plan::{Outage, VmPlan};
use crate::lifecycle::profile::{Profile, ProviderTable};
use crate::lifecycle::status::{Action, VmStatus};
use crate::model::{Notice, PlanError};
use crate::topology::Cloud;
use crate::topology::specs::VmSpec;

impl Lifecycle {
    /// A cloud joins the run: per-cloud state grows, and its provider's profile is resolved
    /// (from `models/providers.toml` and the scenario's layers) if it is the provider's first
    /// cloud. `cloud.id` must be the next cloud id.
    pub fn add_cloud(&mut self, cloud: Cloud) -> Result<(), PlanError> {
        debug_assert_eq!(
            cloud.id as usize,
            self.plan.clouds.len(),
            "cloud ids in order"
        );
        let p = match self
            .plan
            .profiles
            .iter()
            .position(|p| p.provider == cloud.region.provider)
        {
            Some(p) => p,
            None => {
                let profile = self
                    .plan
                    .layers
                    .resolve(&ProviderTable::builtin(), &cloud.region.provider)?;
                self.gates.push(CreateGate::new(
                    self.plan.clouds.len(),
                    profile.max_concurrent_regions,
                    profile.max_vms_per_region,
                ));
                self.rates
                    .push(RateLimit::new(profile.api_rate, profile.api_burst));
                self.plan_mut().profiles.push(profile);
                self.acct.add_profile();
                self.plan.profiles.len() - 1
            }
        };
        for g in &mut self.gates {
            g.add_cloud();
        }
        let plan = self.plan_mut();
        plan.cloud_profile.push(p as u32);
        plan.clouds.push(cloud);
        self.acct.add_cloud();
        Ok(())
    }

    /// Creates VM `name` on `cloud` with `spec` in the next free slot of MCIS `mcis` (the live
    /// twin's): it launches now. `None` if every slot is taken.
    pub fn spawn_vm<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        mcis: u32,
        cloud: u32,
        spec: &VmSpec,
        name: &str,
    ) -> Option<u32> {
        let spec = self.intern_spec(spec);
        let vm = self.add_vm(sched, mcis, cloud, spec)?;
        self.plan_mut().vms[vm as usize].name = name.to_string();
        Some(vm)
    }

    /// Removes a VM at once, whatever it was doing (CB-Spider's forced delete): its waits are
    /// cancelled, its gate slot freed, and the models that follow it are told it is gone.
    pub fn remove_now<E: From<LcEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, vm: u32) {
        let now = sched.now();
        if self.vms[vm as usize].presence != Presence::Present {
            return;
        }
        self.vms[vm as usize].cancel_waits(sched, true);
        self.release_slot(sched, vm);
        let v = &mut self.vms[vm as usize];
        v.target = None;
        v.presence = Presence::Removed;
        let st = v.status;
        self.acct.forced_out(&self.plan, now, vm, st);
        let cloud = self.plan.vms[vm as usize].cloud;
        if st == VmStatus::Running {
            self.notices.push(Notice::Stopped { vm, cloud });
        }
        self.notices.push(Notice::Deleted { vm });
    }

    /// Adds an outage from now on (the live twin's admin API); returns its index.
    pub fn add_outage<E: From<LcEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        outage: Outage,
    ) -> u32 {
        let entity = self
            .live_ctl
            .expect("outages are added only in a live twin session");
        let idx = self.plan.outages.len() as u32;
        let (start, end) = (outage.start.max(sched.now()), outage.end);
        self.plan_mut().outages.push(outage);
        self.acct.add_outage();
        sched.post_at(start, entity, LcEvent::OutageStart { idx }.into());
        sched.post_at(end.max(start), entity, LcEvent::OutageEnd { idx }.into());
        idx
    }

    /// The profile of `provider`, to change its behaviour from now on (the live twin's admin
    /// API); `None` if no cloud of the provider is in the run.
    pub fn profile_mut(&mut self, provider: &str) -> Option<&mut Profile> {
        let i = self
            .plan
            .profiles
            .iter()
            .position(|p| p.provider == provider)?;
        Some(&mut self.plan_mut().profiles[i])
    }

    /// Applies a changed rate limit of `provider` (after [`Lifecycle::profile_mut`]).
    pub fn reset_rate_limit(&mut self, provider: &str) {
        if let Some(p) = self
            .plan
            .profiles
            .iter()
            .position(|p| p.provider == provider)
        {
            let prof = &self.plan.profiles[p];
            self.rates[p] = RateLimit::new(prof.api_rate, prof.api_burst);
        }
    }

    /// The VM's plan entry (cloud, zone, spec, name).
    pub fn vm_plan(&self, vm: u32) -> &VmPlan {
        &self.plan.vms[vm as usize]
    }

    /// The action in progress on a present VM (create, suspend, ...), if any.
    pub fn in_flight(&self, vm: u32) -> Option<Action> {
        let v = &self.vms[vm as usize];
        (v.presence == Presence::Present)
            .then_some(v.target)
            .flatten()
    }

    /// The status CB-Spider reports for a present VM: the provider's native status mapped by
    /// Spider's driver (`models/providers.toml`), e.g. AWS's creation-time `pending` reads
    /// `Resuming`.
    pub fn spider_status(&self, vm: u32) -> Option<&str> {
        let s = self.status(vm)?;
        let p = &self.plan.profiles[self.profile_idx(vm)];
        Some(p.spider[s.index()].as_str())
    }
}
