//! The control plan, built when the scenario loads: `[control]` and every `[[workload]]`
//! checked, each policy bound to its MCIS with its placement resolved once (the candidate
//! specs that pass its filters, the point it wants to be near, the summed RTT from each cloud
//! to its regions), and each workload's demand curve built (spikes drawn, trace read).

use super::config::{ControlMode, ControlSpec, PlacementAlgo, PlacementSpec, PolicySpec};
use super::placement::{Placement, candidates, parse_point};
use crate::engine::{DurationDist, SimDuration};
use crate::model::{PlanError, Resolved, positive};
use crate::topology::specs::SpecCatalogue;
use crate::workload::{Curve, Demand, WorkloadSpec};

/// One policy, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyPlan {
    /// The policy as written (condition, action, limits).
    pub spec: PolicySpec,
    /// Its MCIS (index into the lifecycle plan's MCIS).
    pub mcis: u32,
    pub placement: Placement,
}

/// The load of one MCIS.
#[derive(Clone, Debug)]
pub struct WorkloadPlan {
    pub spec: WorkloadSpec,
    pub curve: Curve,
}

/// Everything the control model needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    pub tick: SimDuration,
    pub mode: ControlMode,
    pub post_create_wait: SimDuration,
    pub agent_install_time: DurationDist,
    pub delete_wait: SimDuration,
    pub policies: Vec<PolicyPlan>,
    /// Indexed by MCIS: its workload, if it has one.
    pub workloads: Vec<Option<WorkloadPlan>>,
    /// Names of the MCIS, by index.
    pub mcis_names: Vec<String>,
    /// VM slots of the run (the workload draws one noise stream per VM).
    pub vms: usize,
    pub seed: u64,
}

/// Scale-out slots to keep for an MCIS of `requested` VMs: the largest `max_vms` of its
/// scale-out policies (`requested + max_scale_out` for one without), none without such a
/// policy. The lifecycle plan reserves them.
pub fn spare_slots(spec: &ControlSpec, mcis: &str, requested: u32) -> u32 {
    spec.policies
        .iter()
        .filter(|p| p.mcis == mcis && p.action.is_scale_out())
        .map(|p| {
            p.max_vms
                .unwrap_or(requested.saturating_add(spec.max_scale_out))
                .saturating_sub(requested)
        })
        .max()
        .unwrap_or(0)
}

impl Plan {
    /// Checks `[control]` and `[[workload]]` against the MCIS (by name, in lifecycle order);
    /// `vms` is the number of VM slots of the lifecycle plan.
    pub fn build(
        spec: &ControlSpec,
        workloads: &[WorkloadSpec],
        r: &Resolved,
        mcis_names: &[String],
        vms: usize,
    ) -> Result<Plan, PlanError> {
        let mcis_index = |key: String, name: &str| -> Result<u32, PlanError> {
            mcis_names
                .iter()
                .position(|m| m == name)
                .map(|i| i as u32)
                .ok_or_else(|| {
                    PlanError::new(
                        key,
                        format!("no MCIS named \"{name}\" (MCIS: {})", mcis_names.join(", ")),
                    )
                })
        };
        let mut loads: Vec<Option<WorkloadPlan>> = vec![None; mcis_names.len()];
        for (i, w) in workloads.iter().enumerate() {
            let m = mcis_index(format!("workload[{i}].mcis"), &w.mcis)?;
            if loads[m as usize].is_some() {
                return Err(PlanError::new(
                    format!("workload[{i}].mcis"),
                    format!("MCIS \"{}\" already has a workload", w.mcis),
                ));
            }
            w.validate()
                .map_err(|(k, msg)| PlanError::new(format!("workload[{i}].{k}"), msg))?;
            let trace = match &w.demand {
                Demand::Trace { file } => {
                    Some(r.read(&format!("workload[{i}].demand.file"), file)?)
                }
                _ => None,
            };
            let curve = Curve::new(&w.demand, r.horizon, &r.rngs(), m as u64, trace.as_deref())
                .map_err(|msg| PlanError::new(format!("workload[{i}].demand"), msg))?;
            loads[m as usize] = Some(WorkloadPlan {
                spec: w.clone(),
                curve,
            });
        }

        positive("control.tick", spec.tick)?;
        let specs = SpecCatalogue::builtin();
        let mut policies = Vec::new();
        for (i, p) in spec.policies.iter().enumerate() {
            let key = |k: &str| format!("control.policies[{i}].{k}");
            let mcis = mcis_index(key("mcis"), &p.mcis)?;
            if p.evaluation_period == 0 {
                return Err(PlanError::new(
                    key("evaluation_period"),
                    "must be at least 1",
                ));
            }
            if p.step == 0 {
                return Err(PlanError::new(key("step"), "must be at least 1"));
            }
            if !p.operand.is_finite() {
                return Err(PlanError::new(key("operand"), "must be a finite number"));
            }
            if let (Some(lo), Some(hi)) = (p.min_vms, p.max_vms)
                && lo > hi
            {
                return Err(PlanError::new(
                    key("min_vms"),
                    format!("{lo} is more than max_vms {hi}"),
                ));
            }
            let placement = placement(&p.placement, r, &specs, &key)?;
            if p.action == super::config::PolicyAction::ScaleOut && placement.candidates.is_empty()
            {
                return Err(PlanError::new(
                    key("placement"),
                    "no spec of the scenario's clouds passes the placement filters",
                ));
            }
            policies.push(PolicyPlan {
                spec: p.clone(),
                mcis,
                placement,
            });
        }
        Ok(Plan {
            tick: spec.tick,
            mode: spec.mode,
            post_create_wait: spec.post_create_wait,
            agent_install_time: spec.agent_install_time.clone(),
            delete_wait: spec.delete_wait,
            policies,
            workloads: loads,
            mcis_names: mcis_names.to_vec(),
            vms,
            seed: r.seed,
        })
    }
}

/// Resolves a policy's placement: its point, its regions' RTTs, its candidates.
fn placement(
    p: &PlacementSpec,
    r: &Resolved,
    specs: &SpecCatalogue,
    key: &dyn Fn(&str) -> String,
) -> Result<Placement, PlanError> {
    let near = p.near.as_deref().and_then(parse_point);
    if p.algo == PlacementAlgo::Location && near.is_none() {
        return Err(PlanError::new(
            key("placement.near"),
            "location placement needs near = \"lat/lon\" (e.g. \"37.56/126.97\")",
        ));
    }
    if p.algo == PlacementAlgo::Latency && p.regions.is_empty() {
        return Err(PlanError::new(
            key("placement.regions"),
            "latency placement needs regions = [\"provider:region\", ...]",
        ));
    }
    let mut regions = Vec::new();
    for (j, name) in p.regions.iter().enumerate() {
        regions.push(r.region(&key(&format!("placement.regions[{j}]")), name)?);
    }
    let rtt_sums = r
        .clouds
        .iter()
        .map(|c| {
            regions
                .iter()
                .map(|to| r.latency.median_rtt_ms(&c.region, to))
                .sum()
        })
        .collect();
    Ok(Placement {
        algo: p.algo,
        near,
        candidates: candidates(p, &r.clouds, specs),
        rtt_sums,
    })
}
