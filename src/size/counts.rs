//! What a scenario asks for, counted from its schema alone (no plan is built, nothing large is
//! allocated): clouds, VMs and scale-out slots, agents, collectors, MCIS, outages, and the
//! agent-seconds of monitoring the fleet will do. Counts are `u64`/`f64` and saturate, so any
//! number a TOML file can hold is counted without overflow.
//!
//! The VM count follows the lifecycle plan's rules (default MCIS over every cloud, `*` groups,
//! group counts, spare slots from `control::plan::spare_slots`, the live twin's slots); a unit
//! test checks it against the built plans of the committed scenarios. Each VM is credited to
//! the key that put it there, so a refusal can name the key to change.

use super::driver::{Driver, Value};
use crate::engine::SimDuration;
use crate::lifecycle::config::{StaggerMode, StaggerSpec};
use crate::monitoring::config::Policy;
use crate::scenario::Scenario;
use std::collections::BTreeMap;

/// The scenario's sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct Counts {
    /// Clouds (regions x accounts).
    pub clouds: u64,
    /// Distinct providers of the clouds.
    pub providers: u64,
    /// VMs the MCIS requests create (spare slots excluded).
    pub vms: u64,
    /// Scale-out slots kept for the control policies.
    pub spare: u64,
    /// The live twin's VM slots (`serve.max_vms` when `serve.enabled`).
    pub serve_slots: u64,
    /// Every VM slot of the run: `vms + spare + serve_slots`.
    pub slots: u64,
    /// Monitoring agents (one per slot when monitoring is on).
    pub agents: u64,
    /// The most collectors the policy may run at once.
    pub collectors: u64,
    /// Agents that start before the horizon (their VMs launched in time), and the collectors
    /// they need (agentCount adds collectors as agents register).
    pub agents_started: u64,
    pub collectors_started: u64,
    /// MCIS (the twin's included).
    pub mcis: u64,
    /// MCIS with at least one control policy, and the policies.
    pub watched_mcis: u64,
    pub policies: u64,
    /// Outages: scheduled ones plus the expected number of random ones.
    pub outages: f64,
    /// Seconds the requested VMs' agents report before the horizon, summed over VMs (their
    /// launch stagger, jitter, API delay, boot and agent start taken off).
    pub agent_seconds: f64,
    /// VMs launched before the horizon (their group's stagger permitting).
    pub vms_launched: u64,
    /// VMs per MCIS, in scenario order (the default MCIS when none is given).
    pub mcis_vms: Vec<(String, u64)>,
    /// Each MCIS's launch groups (MCIS index, group).
    groups: Vec<(usize, Group)>,
    /// Typical seconds from a VM's launch to Running, and on to its agent's first report.
    running_lag: f64,
    agent_lag: f64,
    /// The keys that put the VM slots there, with the slots each accounts for, largest first.
    pub vm_drivers: Vec<(Driver, u64)>,
}

/// A group of `n` VMs launched together, repeated `times` (every cloud of a `*` group).
#[derive(Copy, Clone, Debug, PartialEq)]
struct Group {
    times: u64,
    n: u64,
    /// The MCIS's request time, in seconds.
    at: f64,
}

impl Counts {
    /// Counts `s`.
    pub fn of(s: &Scenario) -> Counts {
        let t = &s.topology;
        let accounts = t.accounts_per_region.max(1) as u64;
        let explicit = t.clouds.len() as u64;
        let mixed: u64 = t.mix.values().map(|&n| n as u64).sum();
        let clouds = explicit.saturating_add(mixed).saturating_mul(accounts);
        let mut providers: Vec<String> = t.clouds.iter().map(|c| c.provider.clone()).collect();
        providers.extend(
            t.mix
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(p, _)| p.to_ascii_lowercase()),
        );
        providers.sort();
        providers.dedup();

        // VMs of each cloud, as (clouds with that many, VMs each, the key that sets it).
        let per_cloud_key = Driver::new(
            "topology.vms_per_cloud",
            Value::Count(t.vms_per_cloud as u64),
        );
        let mut cloud_vms: Vec<(u64, u64, Driver)> = t
            .clouds
            .iter()
            .enumerate()
            .map(|(i, c)| match c.vms {
                Some(v) => (
                    accounts,
                    v as u64,
                    Driver::new(format!("topology.clouds[{i}].vms"), Value::Count(v as u64)),
                ),
                None => (accounts, t.vms_per_cloud as u64, per_cloud_key.clone()),
            })
            .collect();
        cloud_vms.push((
            mixed.saturating_mul(accounts),
            t.vms_per_cloud as u64,
            per_cloud_key.clone(),
        ));
        // The VMs of a cloud named in a group: an explicit cloud's own count, else the default.
        let named = |name: &str| -> (u64, Driver) {
            let base = name.split('#').next().unwrap_or(name);
            for (i, c) in t.clouds.iter().enumerate() {
                if format!("{}:{}", c.provider, c.region) == base {
                    return (cloud_vms[i].1, cloud_vms[i].2.clone());
                }
            }
            (t.vms_per_cloud as u64, per_cloud_key.clone())
        };

        // Each MCIS's groups as (group, the key that sized it, VMs).
        let mut credit: BTreeMap<String, (Driver, u64)> = BTreeMap::new();
        let mut groups: Vec<(usize, Group)> = Vec::new();
        let mut mcis_vms: Vec<(String, u64)> = Vec::new();
        let mut spare = 0u64;
        let default_mcis = s.mcis.is_empty() && clouds > 0;
        let requests = s
            .mcis
            .iter()
            .map(|m| (m.name.as_str(), m.at, m.groups.as_slice()))
            .chain(default_mcis.then_some(("mcis", SimDuration::ZERO, &[][..])));
        for (mi, (name, at, gs)) in requests.enumerate() {
            let at = at.as_secs_f64();
            let mut sized: Vec<(Group, Driver)> = Vec::new();
            let every_cloud = |count: Option<(u32, Driver)>| -> Vec<(Group, Driver)> {
                match count {
                    Some((c, d)) => vec![(
                        Group {
                            times: clouds,
                            n: c as u64,
                            at,
                        },
                        d,
                    )],
                    None => cloud_vms
                        .iter()
                        .map(|(k, v, d)| {
                            (
                                Group {
                                    times: *k,
                                    n: *v,
                                    at,
                                },
                                d.clone(),
                            )
                        })
                        .collect(),
                }
            };
            if gs.is_empty() {
                sized.extend(every_cloud(None));
            }
            for (gi, g) in gs.iter().enumerate() {
                let count = g.count.map(|c| {
                    let d = Driver::new(
                        format!("mcis[{mi}].groups[{gi}].count"),
                        Value::Count(c as u64),
                    );
                    (c, d)
                });
                if g.cloud == "*" {
                    sized.extend(every_cloud(count));
                } else {
                    let (n, d) = count
                        .map(|(c, d)| (c as u64, d))
                        .unwrap_or_else(|| named(&g.cloud));
                    sized.push((Group { times: 1, n, at }, d));
                }
            }
            let mut requested = 0u64;
            for (g, d) in sized {
                let n = g.times.saturating_mul(g.n);
                requested = requested.saturating_add(n);
                credit_to(&mut credit, &d, n);
                groups.push((mi, g));
            }
            let req32 = requested.min(u32::MAX as u64) as u32;
            let sp = crate::control::plan::spare_slots(&s.control, name, req32) as u64;
            if sp > 0 {
                credit_to(&mut credit, &spare_driver(s, name), sp);
            }
            spare = spare.saturating_add(sp);
            mcis_vms.push((name.to_string(), requested));
        }
        let vms: u64 = mcis_vms.iter().map(|m| m.1).fold(0, u64::saturating_add);
        let serve_slots = if s.serve.enabled {
            s.serve.max_vms as u64
        } else {
            0
        };
        if serve_slots > 0 {
            let d = Driver::new("serve.max_vms", Value::Count(serve_slots));
            credit_to(&mut credit, &d, serve_slots);
        }
        let slots = vms.saturating_add(spare).saturating_add(serve_slots);
        let m = &s.monitoring;
        let agents = if m.enabled { slots } else { 0 };
        let providers = providers.len() as u64;
        let c = &m.collectors;
        // Each site runs the policy for its own agents: with agentCount, the sites' rounding
        // up adds at most one collector per site beyond the first (and an empty site runs one).
        let sites = m.site.keys().len().max(1) as u64;
        let per_host = c.max_host_count.max(1) as u64;
        let agent_count = |agents: u64| (agents.div_ceil(per_host) + sites - 1).max(sites);
        let collectors = match c.policy {
            Policy::AgentCount => agent_count(agents),
            Policy::Csp => providers.max(1) * sites,
            Policy::Fixed => c.count as u64 * sites,
        };
        let horizon = s.simulation.duration.as_secs_f64();
        let random = s.lifecycle.random_outages.as_ref().map_or(0.0, |r| {
            if r.rate_per_day.is_finite() {
                r.rate_per_day.max(0.0) * horizon / 86_400.0
            } else {
                f64::INFINITY
            }
        });
        let (running_lag, agent_lag) = start_lag(s);
        let (mut agents_started, mut agent_seconds, mut launched) = (0.0, 0.0, 0.0);
        for (_, g) in &groups {
            let stagger = &s.lifecycle.stagger;
            launched += g.times as f64 * active_seconds(stagger, g.n, horizon - g.at).0;
            if m.enabled {
                let (k, secs) = active_seconds(stagger, g.n, horizon - g.at - agent_lag);
                agents_started += g.times as f64 * k;
                agent_seconds += g.times as f64 * secs;
            }
        }
        let agents_started = (agents_started.round() as u64).min(agents);
        let collectors_started = match c.policy {
            Policy::AgentCount => agent_count(agents_started),
            _ => collectors,
        };
        let mut watched: Vec<&str> = s.control.policies.iter().map(|p| p.mcis.as_str()).collect();
        watched.sort();
        watched.dedup();
        let mut vm_drivers: Vec<(Driver, u64)> = credit.into_values().collect();
        vm_drivers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.key.cmp(&b.0.key)));
        Counts {
            clouds,
            providers,
            vms,
            spare,
            serve_slots,
            slots,
            agents,
            collectors,
            agents_started,
            collectors_started,
            mcis: mcis_vms.len() as u64 + s.serve.enabled as u64,
            watched_mcis: watched.len() as u64,
            policies: s.control.policies.len() as u64,
            outages: s.lifecycle.outages.len() as f64 + random,
            agent_seconds,
            vms_launched: (launched.round() as u64).min(vms),
            mcis_vms,
            groups,
            running_lag,
            agent_lag,
            vm_drivers,
        }
    }
}

/// Credits `n` VM slots to the key of `d`.
fn credit_to(credit: &mut BTreeMap<String, (Driver, u64)>, d: &Driver, n: u64) {
    let e = credit
        .entry(d.key.clone())
        .or_insert_with(|| (d.clone(), 0));
    e.1 = e.1.saturating_add(n);
}

/// The key that sets an MCIS's scale-out slots: its policy's `max_vms`, else
/// `control.max_scale_out`.
fn spare_driver(s: &Scenario, mcis: &str) -> Driver {
    s.control
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.mcis == mcis && p.action.is_scale_out())
        .find_map(|(i, p)| {
            p.max_vms.map(|v| {
                Driver::new(
                    format!("control.policies[{i}].max_vms"),
                    Value::Count(v as u64),
                )
            })
        })
        .unwrap_or_else(|| {
            Driver::new(
                "control.max_scale_out",
                Value::Count(s.control.max_scale_out as u64),
            )
        })
}

impl Counts {
    /// VMs of MCIS `mcis` Running by `t` seconds (launched, plus the typical time to Running).
    pub fn running_by(&self, mcis: usize, t: f64, stagger: &StaggerSpec) -> f64 {
        self.groups
            .iter()
            .filter(|(m, _)| *m == mcis)
            .map(|(_, g)| {
                g.times as f64 * active_seconds(stagger, g.n, t - g.at - self.running_lag).0
            })
            .sum()
    }

    /// Seconds from launch to Running and to the first report.
    pub fn lags(&self) -> (f64, f64) {
        (self.running_lag, self.agent_lag)
    }
}

/// Typical seconds from a VM's launch to Running (pre-create jitter, API delay and boot where
/// the scenario sets them, else about the providers' defaults) and to its agent's first report
/// (plus the agent's start delay).
fn start_lag(s: &Scenario) -> (f64, f64) {
    let lc = &s.lifecycle;
    let mean = |d: &crate::engine::DurationDist| d.mean_secs().unwrap_or(0.0).max(0.0);
    let call = match (&lc.api_delay, &lc.boot_time) {
        (None, None) => 60.0,
        (a, b) => a.as_ref().map_or(10.0, mean) + b.as_ref().map_or(40.0, mean),
    };
    let running = mean(&lc.pre_create_jitter) + call;
    (running, running + mean(&s.monitoring.agent_start_delay))
}

/// Of the `n` VMs of a group launched with `stagger` (VM i after `stagger.offset(i)`), how
/// many start before `window` runs out, and their seconds before it ends, summed: the agents
/// and the reporting time of the group.
pub(crate) fn active_seconds(stagger: &StaggerSpec, n: u64, window: f64) -> (f64, f64) {
    if window <= 0.0 || n == 0 {
        return (0.0, 0.0);
    }
    let step = stagger.step.as_secs_f64();
    let n = n as f64;
    match stagger.mode {
        _ if step <= 0.0 => (n, n * window),
        StaggerMode::None => (n, n * window),
        StaggerMode::Linear => {
            // VMs i < k start in time: offsets step*i < window.
            let k = n.min((window / step).floor() + 1.0);
            (k, k * window - step * k * (k - 1.0) / 2.0)
        }
        StaggerMode::Cumulative => {
            // Offsets step*i(i+1)/2 < window: i < (sqrt(1 + 8w/step) - 1) / 2.
            let k = n
                .min(((1.0 + 8.0 * window / step).sqrt() - 1.0) / 2.0 + 1.0)
                .floor();
            (k, k * window - step * (k - 1.0) * k * (k + 1.0) / 6.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::config::StaggerMode;

    fn stagger(mode: StaggerMode, step: u64) -> StaggerSpec {
        StaggerSpec {
            mode,
            step: SimDuration::from_secs(step),
        }
    }

    #[test]
    fn active_seconds_sums_each_vms_time_before_the_window_ends() {
        let brute = |s: &StaggerSpec, n: u64, w: f64| -> f64 {
            (0..n)
                .map(|i| (w - s.offset(i).as_secs_f64()).max(0.0))
                .sum()
        };
        for mode in [
            StaggerMode::None,
            StaggerMode::Linear,
            StaggerMode::Cumulative,
        ] {
            let s = stagger(mode, 2);
            for (n, w) in [
                (1, 10.0),
                (10, 100.0),
                (100, 1000.0),
                (1000, 50.0),
                (7, 0.5),
            ] {
                let (a, b) = (active_seconds(&s, n, w).1, brute(&s, n, w));
                assert!(
                    (a - b).abs() <= 1e-6 * b.max(1.0) + 2.0 * 2.0,
                    "{mode:?} {n} {w}: {a} vs {b}"
                );
            }
        }
        assert_eq!(
            active_seconds(&stagger(StaggerMode::None, 1), 5, -1.0),
            (0.0, 0.0)
        );
        assert_eq!(
            active_seconds(&stagger(StaggerMode::Linear, 10), 5, 25.0).0,
            3.0
        );
    }
}
