//! The monitoring plan, built when the scenario loads: `[monitoring]` checked, CB-Dragonfly's
//! sites resolved to catalogue regions, each cloud's site (the nearest) and one-way delay to it
//! from the latency model, one agent slot per VM (its cloud, provider and site), and for each
//! site the collector policy's sizes and whether collector services may be computed on arrival
//! (see [`SitePlan::inline_service`]).

use super::config::{Mode, MonitoringSpec, Policy, QueueDiscipline};
use crate::engine::SimTime;
use crate::model::{PlanError, Resolved, at_least_one, positive};
use crate::topology::Region;

/// Where a cloud's reports travel: one-way delay to the monitoring site.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct PathDelay {
    /// Median one-way delay in seconds.
    pub median_s: f64,
    /// Jitter scale `c` of the latency model's probe distribution: a trip takes
    /// median x (1 + c (E - ln 2)), E exponential with mean 1 (see `network::latency`).
    pub jitter: f64,
    /// Never faster than this (the fibre floor, one way), in seconds.
    pub floor_s: f64,
}

impl PathDelay {
    /// The path from a cloud in `from` to the monitoring site, from the latency model: half
    /// its RTT, and a trip jitters like one of the model's probes.
    pub fn between(latency: &crate::network::LatencyModel, from: &Region, site: &Region) -> Self {
        PathDelay {
            median_s: latency.median_rtt_ms(from, site) / 2e3,
            jitter: latency.coefficients().jitter_scale(),
            floor_s: latency.floor_ms(from, site) / 2e3,
        }
    }
}

/// One agent slot (one per VM of the lifecycle plan, spare scale-out slots included).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AgentPlan {
    pub cloud: u32,
    /// Provider index (`Resolved::providers`): the csp policy's collector.
    pub provider: u32,
}

/// One CB-Dragonfly deployment: where it runs, and what its collectors come to.
#[derive(Clone, Debug, PartialEq)]
pub struct SitePlan {
    pub region: Region,
    /// Agent slots that may report to it: its clouds' VMs, and every scale-out slot (placed
    /// on a cloud when it is created, it may land near any site).
    pub agents: u32,
    /// Collectors the policy may ever run at once, and how many it starts with.
    pub max_collectors: u32,
    pub initial_collectors: u32,
    /// Compute collector service completions on arrival (Lindley's recursion): asked for
    /// (`inline_service`) and exact here, because nothing couples the collectors or moves
    /// messages between them: push mode, per-collector queues, a fixed collector set (fixed or
    /// csp policy) no larger than the server's cores, so CPU contention never stretches a
    /// service.
    pub inline_service: bool,
    /// Otherwise, with per-collector queues and `inline_service` asked for, the collectors
    /// keep their own completions instead of the engine (see `collectors::deferred`): exact
    /// under CPU contention and agentCount scale-in too.
    pub deferred_completions: bool,
}

impl SitePlan {
    /// The site in `region` for `agents` agent slots, sized by `spec`'s policy.
    pub fn sized(spec: &MonitoringSpec, region: Region, agents: u32, providers: u32) -> Self {
        let c = &spec.collectors;
        let (max_collectors, initial_collectors) = match c.policy {
            Policy::AgentCount => (agents.div_ceil(c.max_host_count).max(1), 1),
            Policy::Csp => (providers.max(1), providers.max(1)),
            Policy::Fixed => (c.count, c.count),
        };
        let inline_service = spec.inline_service
            && spec.mode == Mode::Push
            && c.queue == QueueDiscipline::PerCollector
            && c.policy != Policy::AgentCount
            && max_collectors <= c.server_cores;
        let deferred_completions =
            spec.inline_service && !inline_service && c.queue == QueueDiscipline::PerCollector;
        SitePlan {
            region,
            agents,
            max_collectors,
            initial_collectors,
            inline_service,
            deferred_completions,
        }
    }
}

/// Everything the monitoring model needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `monitoring.enabled`: the model runs at all.
    pub enabled: bool,
    /// The checked section.
    pub spec: MonitoringSpec,
    /// Where CB-Dragonfly runs: one deployment per site (`monitoring.site`, in its order).
    pub sites: Vec<SitePlan>,
    /// Each cloud's site: the nearest.
    pub cloud_site: Vec<u32>,
    /// One-way delay from each cloud to its site.
    pub paths: Vec<PathDelay>,
    /// One per VM slot (empty when monitoring is off).
    pub agents: Vec<AgentPlan>,
    /// Providers of the scenario (the csp policy has one collector each).
    pub providers: u32,
    /// Collectors the sites may ever run at once, all together.
    pub max_collectors: u32,
    pub seed: u64,
    pub horizon: SimTime,
}

impl Plan {
    /// Checks `[monitoring]`; `vm_slots` gives the cloud of every VM slot, in VM order, and
    /// whether it is a scale-out slot (placed on a cloud when the VM is created).
    pub fn build(
        spec: &MonitoringSpec,
        r: &Resolved,
        vm_slots: impl Iterator<Item = (u32, bool)>,
    ) -> Result<Plan, PlanError> {
        positive("monitoring.interval", spec.interval)?;
        positive("monitoring.collectors.interval", spec.collectors.interval)?;
        positive("monitoring.pull_interval", spec.pull_interval)?;
        let c = &spec.collectors;
        at_least_one("monitoring.collectors.max_host_count", c.max_host_count)?;
        at_least_one("monitoring.collectors.count", c.count)?;
        at_least_one("monitoring.collectors.server_cores", c.server_cores)?;
        // Silence is counted in whole rounds: zero would mean one, and is refused rather
        // than read as it.
        at_least_one(
            "monitoring.collectors.dead_after_rounds",
            c.dead_after_rounds,
        )?;
        at_least_one("monitoring.storage.batch_points", spec.storage.batch_points)?;
        let cap = spec.storage.write_capacity;
        if !(cap.is_finite() && cap > 0.0) {
            return Err(PlanError::new(
                "monitoring.storage.write_capacity",
                format!("must be a number > 0 (points per second), found {cap}"),
            ));
        }
        let keys = spec.site.keys();
        if keys.is_empty() {
            return Err(PlanError::new(
                "monitoring.site",
                "the list is empty: give at least one region (provider:region)",
            ));
        }
        // A topic keeps its site in 16 bits (and a catalogue has a few hundred regions).
        if keys.len() > usize::from(u16::MAX) {
            return Err(PlanError::new(
                "monitoring.site",
                format!("{} sites: at most {} are supported", keys.len(), u16::MAX),
            ));
        }
        let mut regions: Vec<Region> = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let name = if keys.len() > 1 {
                format!("monitoring.site[{i}]")
            } else {
                "monitoring.site".to_string()
            };
            let region = r.catalogue.find_key(key).ok_or_else(|| {
                PlanError::new(
                    &name,
                    format!("`{key}` is not a region of the catalogue (expected provider:region)"),
                )
            })?;
            if let Some(j) = keys[..i].iter().position(|k| k == key) {
                return Err(PlanError::new(
                    &name,
                    format!("`{key}` is listed twice (also at [{j}]): one deployment per region"),
                ));
            }
            regions.push(region.clone());
        }
        // Each cloud reports to its nearest site; the first listed wins a tie.
        let (cloud_site, paths): (Vec<u32>, Vec<PathDelay>) = r
            .clouds
            .iter()
            .map(|c| nearest(&r.latency, &c.region, &regions))
            .unzip();
        // Each site is sized for its clouds' VMs and every scale-out slot: placed on a cloud
        // when the VM is created, one may land near any site.
        let (mut spare, mut per_site) = (0u32, vec![0u32; regions.len()]);
        let agents: Vec<AgentPlan> = if spec.enabled {
            vm_slots
                .map(|(cloud, is_spare)| {
                    let a = AgentPlan {
                        cloud,
                        // A live twin's unplaced slots may name a cloud that does not exist
                        // yet: `Monitoring::place_agent` sets both when the VM is created (a
                        // live twin runs one site).
                        provider: r.cloud_provider.get(cloud as usize).copied().unwrap_or(0),
                    };
                    if is_spare {
                        spare += 1;
                    } else {
                        per_site[site_of(&cloud_site, &a) as usize] += 1;
                    }
                    a
                })
                .collect()
        } else {
            Vec::new()
        };
        per_site.iter_mut().for_each(|n| *n += spare);
        let providers = r.providers.len() as u32;
        let sites: Vec<SitePlan> = regions
            .into_iter()
            .zip(per_site)
            .map(|(region, n)| SitePlan::sized(spec, region, n, providers))
            .collect();
        let max_collectors = sites
            .iter()
            .fold(0u32, |sum, s| sum.saturating_add(s.max_collectors));
        Ok(Plan {
            enabled: spec.enabled,
            spec: spec.clone(),
            sites,
            cloud_site,
            paths,
            agents,
            providers,
            max_collectors,
            seed: r.seed,
            horizon: r.horizon,
        })
    }
}

impl Plan {
    /// Whether collector services complete as engine events (the plain per-collector and
    /// shared queues: see `collectors`), at any site.
    pub fn completes_as_events(&self) -> bool {
        self.spec.collectors.queue == QueueDiscipline::Shared
            || self
                .sites
                .iter()
                .any(|s| !s.inline_service && !s.deferred_completions)
    }

    /// The site agent `a` reports to: its cloud's.
    pub fn site_of(&self, a: &AgentPlan) -> u32 {
        site_of(&self.cloud_site, a)
    }
}

/// The site of agent `a`'s cloud (site 0 for a live twin's slot whose cloud has not joined:
/// a live twin runs one site).
fn site_of(cloud_site: &[u32], a: &AgentPlan) -> u32 {
    cloud_site.get(a.cloud as usize).copied().unwrap_or(0)
}

/// The site nearest to a cloud in `from` (lowest median RTT; the first listed on a tie) and
/// the cloud's path to it.
pub fn nearest(
    latency: &crate::network::LatencyModel,
    from: &Region,
    sites: &[Region],
) -> (u32, PathDelay) {
    let mut best = (0u32, PathDelay::between(latency, from, &sites[0]));
    for (i, site) in sites.iter().enumerate().skip(1) {
        let p = PathDelay::between(latency, from, site);
        if p.median_s < best.1.median_s {
            best = (i as u32, p);
        }
    }
    best
}
