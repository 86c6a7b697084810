//! What the lifecycle records: per-cloud and per-MCIS status counts, the summary counters,
//! provisioning times, billing, and the tables (`vm_states.csv`, `mcis_status.csv`,
//! `provider_api.csv`, `outages.csv`, and the optional per-VM `vm_events.csv` log).
//!
//! The model tells `Accounting` about each status change and each counted event; it never
//! decides anything. MCIS status strings are CB-Tumblebug v0.5's; native and CB-Spider status
//! names in the event log come from the provider profiles. A VM bills compute while a provider
//! charges for it (Running and the transitional statuses out of it), at its spec's price.
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug; 1.4 MCIS status) and
//! 4 (CB-Spider; 4.2 native status mapping); status names per provider in
//! `models/providers.toml`.

use super::super::gate::CreateGate;
use super::super::plan::Plan;
use super::super::status::{StatusCount, VmStatus, mcis_status};
use crate::engine::SimTime;
use crate::output::names::{file, metric};
use crate::output::table::fmt_secs;
use crate::output::{Summary, Table};
use crate::stats::percentiles;

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

/// One VM's billing: the start of its current billable period and the time billed before it.
#[derive(Copy, Clone, Debug, Default)]
struct Bill {
    since: Option<SimTime>,
    ns: u64,
}

/// The lifecycle's records and tables.
pub(super) struct Accounting {
    /// Present VMs per status, per cloud and per MCIS.
    cloud_counts: Vec<StatusCount>,
    mcis_counts: Vec<StatusCount>,
    pub(super) stats: LifecycleStats,
    provision_times: Vec<f64>,
    provision_settled: SimTime,
    /// Per provider profile, since the last sample: API calls and agent registrations.
    interval_calls: Vec<u64>,
    interval_regs: Vec<u64>,
    /// VMs each outage failed.
    outage_vms: Vec<u32>,
    bills: Vec<Bill>,
    vm_states: Table,
    mcis_table: Table,
    provider_api: Table,
    events_log: Option<Table>,
}

impl Accounting {
    pub(super) fn new(plan: &Plan) -> Self {
        Accounting {
            cloud_counts: vec![StatusCount::default(); plan.clouds.len()],
            mcis_counts: vec![StatusCount::default(); plan.mcis.len()],
            stats: LifecycleStats::default(),
            provision_times: Vec::new(),
            provision_settled: SimTime::ZERO,
            interval_calls: vec![0; plan.profiles.len()],
            interval_regs: vec![0; plan.profiles.len()],
            outage_vms: vec![0; plan.outages.len()],
            bills: vec![Bill::default(); plan.vms.len()],
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
        }
    }

    fn add(&mut self, plan: &Plan, vm: u32, s: VmStatus) {
        let pv = &plan.vms[vm as usize];
        self.cloud_counts[pv.cloud as usize].add(s);
        self.mcis_counts[pv.mcis as usize].add(s);
    }

    /// A VM in status `s` left its MCIS (or its old status).
    pub(super) fn remove(&mut self, plan: &Plan, vm: u32, s: VmStatus) {
        let pv = &plan.vms[vm as usize];
        self.cloud_counts[pv.cloud as usize].remove(s);
        self.mcis_counts[pv.mcis as usize].remove(s);
    }

    /// A VM appeared in its MCIS, Creating (its first launch).
    pub(super) fn created(&mut self, plan: &Plan, now: SimTime, vm: u32) {
        self.add(plan, vm, VmStatus::Creating);
        let to = Some(VmStatus::Creating);
        self.log(plan, now, vm, "transition", None, to, "create");
    }

    /// A present VM went from `from` to `to`.
    pub(super) fn transition(
        &mut self,
        plan: &Plan,
        now: SimTime,
        vm: u32,
        from: VmStatus,
        to: VmStatus,
        detail: &str,
    ) {
        self.remove(plan, vm, from);
        self.add(plan, vm, to);
        self.stats.transitions += 1;
        let b = &mut self.bills[vm as usize];
        match (billable(from), billable(to)) {
            (false, true) => b.since = Some(now),
            (true, false) => {
                if let Some(t) = b.since.take() {
                    b.ns += now.since(t).as_nanos();
                }
            }
            _ => {}
        }
        self.log(plan, now, vm, "transition", Some(from), Some(to), detail);
    }

    /// A VM in status `st` was refined away (deleted from its MCIS).
    pub(super) fn refined(&mut self, plan: &Plan, now: SimTime, vm: u32, st: VmStatus) {
        self.remove(plan, vm, st);
        self.stats.vms_refined += 1;
        self.log(plan, now, vm, "removed", Some(st), None, "Refine");
    }

    /// The rules rejected an action on a VM in status `st`.
    pub(super) fn rejected(&mut self, plan: &Plan, now: SimTime, vm: u32, st: VmStatus, why: &str) {
        self.stats.illegal_actions += 1;
        self.log(plan, now, vm, "rejected", Some(st), None, why);
    }

    /// A VM in status `st` was removed at once (a forced delete through the live twin's
    /// API): it leaves the counts and stops billing.
    pub(super) fn forced_out(&mut self, plan: &Plan, now: SimTime, vm: u32, st: VmStatus) {
        self.remove(plan, vm, st);
        if let Some(t) = self.bills[vm as usize].since.take() {
            self.bills[vm as usize].ns += now.since(t).as_nanos();
        }
        self.log(plan, now, vm, "removed", Some(st), None, "force delete");
    }

    /// A cloud joined the run (the live twin).
    pub(super) fn add_cloud(&mut self) {
        self.cloud_counts.push(StatusCount::default());
    }

    /// A provider's profile joined the run (its first cloud did).
    pub(super) fn add_profile(&mut self) {
        self.interval_calls.push(0);
        self.interval_regs.push(0);
    }

    /// An outage was added during the run (the live twin's admin API).
    pub(super) fn add_outage(&mut self) {
        self.outage_vms.push(0);
    }

    /// A provider API call of profile `p` started.
    pub(super) fn api_call(&mut self, p: usize) {
        self.stats.api_calls += 1;
        self.interval_calls[p] += 1;
    }

    /// A VM of profile `p` booted and its agent registered.
    pub(super) fn registered(&mut self, p: usize) {
        self.stats.agent_registrations += 1;
        self.interval_regs[p] += 1;
    }

    /// A VM first became Running at `now`; `requested_at`: when its MCIS was requested, if it
    /// counts towards the provisioning times (scale-out slots do not).
    pub(super) fn provisioned(&mut self, now: SimTime, requested_at: Option<SimTime>) {
        if let Some(at) = requested_at {
            self.provision_times.push(now.since(at).as_secs_f64());
        }
        self.settled(now);
    }

    /// A VM's provisioning ended at `now` (Running, or given up).
    pub(super) fn settled(&mut self, now: SimTime) {
        self.provision_settled = self.provision_settled.max(now);
    }

    /// Outage `idx` failed a VM.
    pub(super) fn outage_failure(&mut self, idx: u32) {
        self.outage_vms[idx as usize] += 1;
        self.stats.outage_failures += 1;
    }

    pub(super) fn provision_times(&self) -> &[f64] {
        &self.provision_times
    }

    /// One row of the per-VM event log (kept only when `output.vm_events` is on).
    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        plan: &Plan,
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
        let pv = &plan.vms[vm as usize];
        let cloud = &plan.clouds[pv.cloud as usize];
        let prof = &plan.profiles[plan.cloud_profile[pv.cloud as usize] as usize];
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
            plan.mcis[pv.mcis as usize].name.clone(),
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

    /// Records one row of each time series (`gates`: the create gates, per profile).
    pub(super) fn sample(&mut self, plan: &Plan, gates: &[CreateGate], now: SimTime) {
        let t = fmt_secs(now);
        for (c, counts) in self.cloud_counts.iter().enumerate() {
            for s in VmStatus::ALL {
                let n = counts.get(s);
                if n > 0 {
                    self.vm_states.push(vec![
                        t.clone(),
                        plan.clouds[c].name(),
                        s.name().to_string(),
                        n.to_string(),
                    ]);
                }
            }
        }
        for (m, counts) in self.mcis_counts.iter().enumerate() {
            let mut row = vec![
                t.clone(),
                plan.mcis[m].name.clone(),
                mcis_status(counts),
                counts.total().to_string(),
            ];
            row.extend(VmStatus::ALL.iter().map(|s| counts.get(*s).to_string()));
            self.mcis_table.push(row);
        }
        for (p, prof) in plan.profiles.iter().enumerate() {
            self.provider_api.push(vec![
                t.clone(),
                prof.provider.clone(),
                self.interval_calls[p].to_string(),
                gates[p].queued().to_string(),
                gates[p].inflight().to_string(),
                self.interval_regs[p].to_string(),
            ]);
            self.interval_calls[p] = 0;
            self.interval_regs[p] = 0;
        }
    }

    fn count_all(&self, s: VmStatus) -> u64 {
        self.cloud_counts.iter().map(|c| c.get(s) as u64).sum()
    }

    /// Billed VM-hours and their cost in USD up to `end`.
    pub(super) fn billing(&self, plan: &Plan, end: SimTime) -> (f64, f64) {
        let (mut hours, mut cost) = (0.0, 0.0);
        for (i, b) in self.bills.iter().enumerate() {
            let open = b.since.map_or(0, |t| end.since(t).as_nanos());
            let h = (b.ns + open) as f64 / 3.6e12;
            hours += h;
            cost += h * plan.specs[plan.vms[i].spec as usize].cost_per_hour;
        }
        (hours, cost)
    }

    /// Adds the lifecycle's rows to the summary.
    pub(super) fn summarize(&self, plan: &Plan, sum: &mut Summary, end: SimTime) {
        let st = &self.stats;
        let (vm_hours, cost) = self.billing(plan, end);
        let q = percentiles(&self.provision_times, &[0.5, 0.95, 1.0]);
        sum.int(metric::VMS_PLANNED, plan.requested_vms())
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
            .int(metric::OUTAGES, plan.outages.len() as u64)
            .int(metric::OUTAGE_VM_FAILURES, st.outage_failures)
            .int(metric::VMS_REFINED, st.vms_refined)
            .int(metric::AGENT_REGISTRATIONS, st.agent_registrations)
            .int(metric::PROVIDER_API_CALLS, st.api_calls)
            .float(metric::VM_HOURS, vm_hours)
            .float(metric::COST_USD, cost);
    }

    /// The tables, in a fixed order: VM states, MCIS status, provider API, outages, and the
    /// event log if kept.
    pub(super) fn take_tables(&mut self, plan: &Plan) -> Vec<Table> {
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
        for (o, n) in plan.outages.iter().zip(&self.outage_vms) {
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
