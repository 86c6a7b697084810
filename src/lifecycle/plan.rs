//! The static plan of a run's VM lifecycle, built and checked when the scenario loads: resolved
//! provider profiles, the MCIS requests and their VMs (cloud and zone of each), the outages
//! (scheduled ones, and random ones drawn from the run seed, each with the clouds it covers)
//! and the action timeline.
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug) and 4 (CB-Spider);
//! provider defaults in `models/providers.toml`.

use super::config::{
    ActionSpec, LifecycleSpec, McisSpec, OutageEffect, OutageScope, RetrySpec, StaggerSpec,
};
use super::profile::{Profile, ProfileSpec, ProviderTable};
use super::status::Action;
use crate::engine::{DurationDist, SimDuration, SimTime};
use crate::model::{PlanError, Resolved};
use crate::topology::Cloud;
use crate::topology::specs::{SpecCatalogue, VmSpec};
use rand::RngExt;

fn err(key: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError::new(key, message)
}

/// The scenario sections the lifecycle plan is built from.
#[derive(Clone, Copy)]
pub struct Spec<'a> {
    /// `[lifecycle]`.
    pub lifecycle: &'a LifecycleSpec,
    /// `[[mcis]]`.
    pub mcis: &'a [McisSpec],
    /// `[[actions]]`.
    pub actions: &'a [ActionSpec],
    /// `output.vm_events`: keep the per-VM transition log.
    pub log_vm_events: bool,
    /// The live twin's MCIS for API-created VMs: its name and its slots (`[serve]`).
    pub api_mcis: Option<(&'a str, u32)>,
}

/// One VM to create.
#[derive(Clone, Debug, PartialEq)]
pub struct VmPlan {
    pub mcis: u32,
    pub cloud: u32,
    /// Index into the cloud's zones (zones are assigned round-robin).
    pub zone: u16,
    /// Position in its group (drives the launch stagger).
    pub index_in_group: u32,
    pub name: String,
    /// Index into [`Plan::specs`].
    pub spec: u32,
    /// A slot kept for scale-out: not launched by the MCIS request.
    pub spare: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct McisPlan {
    pub name: String,
    pub at: SimTime,
    /// VM ids `first..first + count` (requested VMs, then `spare` slots for scale-out).
    pub first: u32,
    pub count: u32,
    pub spare: u32,
    /// The live twin's MCIS: its VMs are created through CB-Spider's API, which has no
    /// pre-create jitter and no retries (those are CB-Tumblebug's).
    pub api: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outage {
    pub scope: OutageScope,
    /// Human-readable target (`aws`, `aws:us-east-1`, `aws:us-east-1:us-east-1a`).
    pub target: String,
    pub provider: String,
    /// Region code for region and zone scopes (every account's cloud in it is covered).
    pub region: Option<String>,
    pub zone: Option<u16>,
    /// The scenario's clouds inside the target, sorted (every account of a covered region).
    pub clouds: Vec<u32>,
    pub start: SimTime,
    pub end: SimTime,
    pub effect: OutageEffect,
    pub random: bool,
}

impl Outage {
    /// A scheduled outage of `target` (`provider`, `provider:region` or
    /// `provider:region:zone`, as `scope` says) from `start`, resolved against the clouds; its
    /// end is `start` until the caller sets it. The error says what is wrong with the target.
    pub fn targeting(
        scope: OutageScope,
        target: &str,
        clouds: &[Cloud],
        start: SimTime,
        effect: OutageEffect,
    ) -> Result<Outage, String> {
        let (provider, region, zone) = resolve_target(scope, target, clouds)?;
        Ok(Outage {
            scope,
            target: target.to_string(),
            clouds: clouds_in(clouds, &provider, region.as_deref()),
            provider,
            region,
            zone,
            start,
            end: start,
            effect,
            random: false,
        })
    }

    /// Whether a VM on `cloud` (zone index `zone`) is inside this outage.
    pub fn covers(&self, cloud: u32, zone: u16) -> bool {
        self.clouds.binary_search(&cloud).is_ok()
            && (self.scope != OutageScope::Zone || self.zone == Some(zone))
    }
}

/// The clouds of `provider` (in `region`, if given), sorted.
fn clouds_in(clouds: &[Cloud], provider: &str, region: Option<&str>) -> Vec<u32> {
    clouds
        .iter()
        .filter(|c| c.provider() == provider && region.is_none_or(|r| c.region.region == r))
        .map(|c| c.id)
        .collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct ActionPlan {
    pub at: SimTime,
    pub action: Action,
    pub mcis: u32,
    pub cloud: Option<u32>,
}

/// Everything the lifecycle model needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Seed of the VMs' random streams.
    pub seed: u64,
    /// CB-Tumblebug's launch stagger inside a group.
    pub stagger: StaggerSpec,
    pub pre_create_jitter: DurationDist,
    pub control_stagger: SimDuration,
    pub retry: RetrySpec,
    /// Time to failure of a Running VM, if crashes are modelled.
    pub crash: Option<DurationDist>,
    /// Keep the per-VM transition log (`vm_events.csv`).
    pub log_vm_events: bool,
    /// One profile per provider present, sorted by provider name.
    pub profiles: Vec<Profile>,
    /// Cloud id -> index into `profiles`.
    pub cloud_profile: Vec<u32>,
    pub clouds: Vec<Cloud>,
    pub mcis: Vec<McisPlan>,
    pub vms: Vec<VmPlan>,
    pub outages: Vec<Outage>,
    pub actions: Vec<ActionPlan>,
    /// Specs in use (VMs refer to them by index), plus the scenario clouds' catalogue entries
    /// for placement.
    pub specs: Vec<VmSpec>,
    /// The scenario's provider layers, to resolve the profile of a provider whose first cloud
    /// joins during the run (the live twin).
    pub layers: ProfileLayers,
}

/// The scenario's provider behaviour keys: `[lifecycle]` and `[lifecycle.providers.<name>]`.
#[derive(Clone, Debug, Default)]
pub struct ProfileLayers {
    pub global: ProfileSpec,
    pub providers: std::collections::BTreeMap<String, ProfileSpec>,
}

impl ProfileLayers {
    /// The profile of `provider`: `models/providers.toml` with the scenario's layers on top.
    /// An error names the key to blame.
    pub fn resolve(&self, table: &ProviderTable, provider: &str) -> Result<Profile, PlanError> {
        let mut layers = vec![&self.global];
        if let Some(p) = self.providers.get(provider) {
            layers.push(p);
        }
        table.resolve(provider, &layers).map_err(|e| {
            // Point at the key in the layer that set it (the provider's own over
            // `[lifecycle]`), so that line or the --set of it is blamed.
            let own = self.providers.get(provider);
            let base = match (own, e.key) {
                (Some(p), Some(k)) if p.sets(k) => format!("lifecycle.providers.{provider}"),
                (_, Some(k)) if self.global.sets(k) => "lifecycle".to_string(),
                (Some(_), _) => format!("lifecycle.providers.{provider}"),
                (None, _) => "lifecycle".to_string(),
            };
            let key = e.key.map_or(base.clone(), |k| format!("{base}.{k}"));
            err(key, e.message)
        })
    }
}

impl Plan {
    /// Checks the lifecycle's sections and resolves them against the clouds.
    /// `spare_slots(mcis, requested)` is how many scale-out slots to keep for an MCIS of
    /// `requested` VMs (the control policies decide: see `control::plan::spare_slots`).
    pub fn build(
        s: Spec<'_>,
        r: &Resolved,
        spare_slots: &dyn Fn(&str, u32) -> u32,
    ) -> Result<Plan, PlanError> {
        let spec = s.lifecycle;
        let clouds = &r.clouds;
        let table = ProviderTable::builtin();
        let catalogue_providers: Vec<&str> = clouds.iter().map(|c| c.provider()).collect();
        for name in spec.providers.keys() {
            if !table.known().any(|k| k == name) && !catalogue_providers.contains(&name.as_str()) {
                return Err(err(
                    format!("lifecycle.providers.{name}"),
                    format!(
                        "unknown provider `{name}` (known: {})",
                        table.known().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        if spec.retry.attempts == 0 {
            return Err(err("lifecycle.retry.attempts", "must be at least 1"));
        }
        if !(spec.retry.backoff_factor.is_finite() && spec.retry.backoff_factor >= 1.0) {
            return Err(err(
                "lifecycle.retry.backoff_factor",
                "must be a number >= 1",
            ));
        }

        // Profiles of the providers present, in the order of `Resolved::providers`.
        let layers = ProfileLayers {
            global: spec.profile(),
            providers: spec.providers.clone(),
        };
        let mut profiles = Vec::new();
        for n in &r.providers {
            profiles.push(layers.resolve(&table, n)?);
        }
        if s.api_mcis.is_some() {
            // Any provider's first cloud may join later: check every profile now.
            for n in table.known() {
                layers.resolve(&table, n)?;
            }
        }
        let cloud_profile = r.cloud_provider.clone();

        let find_cloud = |key: String, name: &str| -> Result<u32, PlanError> {
            clouds
                .iter()
                .find(|c| c.name() == name)
                .map(|c| c.id)
                .ok_or_else(|| {
                    err(
                        key,
                        format!("`{name}` is not one of the scenario's clouds (see [topology])"),
                    )
                })
        };

        // MCIS requests; by default one MCIS over every cloud (none when a live twin starts
        // without clouds).
        let default_mcis;
        let requests: &[McisSpec] = if s.mcis.is_empty() && clouds.is_empty() {
            &[]
        } else if s.mcis.is_empty() {
            default_mcis = [McisSpec {
                name: "mcis".into(),
                at: Default::default(),
                groups: vec![],
            }];
            &default_mcis
        } else {
            s.mcis
        };
        let catalogue = SpecCatalogue::builtin();
        let mut specs: Vec<VmSpec> = Vec::new();
        let mut spec_index = |spec: VmSpec| -> u32 {
            match specs.iter().position(|s| *s == spec) {
                Some(i) => i as u32,
                None => {
                    specs.push(spec);
                    (specs.len() - 1) as u32
                }
            }
        };
        let mut mcis = Vec::new();
        let mut vms = Vec::new();
        let mut zone_next = vec![0u16; clouds.len()];
        for (mi, m) in requests.iter().enumerate() {
            let key = format!("mcis[{mi}]");
            if m.name.is_empty() || mcis.iter().any(|x: &McisPlan| x.name == m.name) {
                return Err(err(
                    format!("{key}.name"),
                    format!("MCIS name \"{}\" is empty or used twice", m.name),
                ));
            }
            let mut groups: Vec<(u32, u32, Option<&str>, String)> = Vec::new();
            if m.groups.is_empty() {
                groups.extend(clouds.iter().map(|c| (c.id, c.vms, None, key.clone())));
            }
            for (gi, g) in m.groups.iter().enumerate() {
                let gkey = format!("{key}.groups[{gi}]");
                if g.cloud == "*" {
                    groups.extend(clouds.iter().map(|c| {
                        (
                            c.id,
                            g.count.unwrap_or(c.vms),
                            g.spec.as_deref(),
                            gkey.clone(),
                        )
                    }));
                } else {
                    let id = find_cloud(format!("{gkey}.cloud"), &g.cloud)?;
                    groups.push((
                        id,
                        g.count.unwrap_or(clouds[id as usize].vms),
                        g.spec.as_deref(),
                        gkey,
                    ));
                }
            }
            let first = vms.len() as u32;
            // Counted before anything is allocated: a huge count is an error, not an abort.
            let requested: u64 = groups.iter().map(|g| g.1 as u64).sum();
            reserve_slots(&mut vms, requested, &key)?;
            for (gi, (cloud, count, spec_name, gkey)) in groups.iter().enumerate() {
                let r = &clouds[*cloud as usize].region;
                let spec = match spec_name {
                    None => catalogue.default_for(&r.provider, &r.region),
                    Some(name) => catalogue
                        .find(&r.provider, &r.region, name)
                        .cloned()
                        .ok_or_else(|| {
                            let offered: Vec<&str> = catalogue
                                .in_region(&r.provider, &r.region)
                                .map(|s| s.name.as_str())
                                .take(8)
                                .collect();
                            err(
                                format!("{gkey}.spec"),
                                format!(
                                    "spec `{name}` is not offered in {} (models/specs.csv{})",
                                    r.key(),
                                    if offered.is_empty() {
                                        ": no specs for this region".to_string()
                                    } else {
                                        format!("; e.g. {}", offered.join(", "))
                                    }
                                ),
                            )
                        })?,
                };
                let spec = spec_index(spec);
                let nz = clouds[*cloud as usize].region.zones.len().max(1) as u16;
                for i in 0..*count {
                    let z = &mut zone_next[*cloud as usize];
                    vms.push(VmPlan {
                        mcis: mi as u32,
                        cloud: *cloud,
                        zone: *z % nz,
                        index_in_group: i,
                        name: format!("{}-g{gi}-{i}", m.name),
                        spec,
                        spare: false,
                    });
                    *z = z.wrapping_add(1) % nz;
                }
            }
            let count = vms.len() as u32 - first;
            let spare = spare_slots(&m.name, count);
            reserve_slots(&mut vms, spare as u64, "control.policies")?;
            let spare_spec = vms.last().map_or(0, |v: &VmPlan| v.spec);
            for i in 0..spare {
                vms.push(VmPlan {
                    mcis: mi as u32,
                    cloud: vms.last().map_or(0, |v: &VmPlan| v.cloud),
                    zone: 0,
                    index_in_group: 0,
                    name: format!("{}-AutoGen-{i}", m.name),
                    spec: spare_spec,
                    spare: true,
                });
            }
            mcis.push(McisPlan {
                name: m.name.clone(),
                at: SimTime::ZERO + m.at,
                first,
                count,
                spare,
                api: false,
            });
        }
        // The live twin's MCIS: slots only, each given its cloud, spec and name by the API.
        if let Some((name, slots)) = s.api_mcis {
            if mcis.iter().any(|m| m.name == name) {
                return Err(err(
                    "serve.mcis",
                    format!("\"{name}\" is also the name of a [[mcis]]: choose another"),
                ));
            }
            if specs.is_empty() {
                specs.push(VmSpec::generic("generic", "generic"));
            }
            let first = vms.len() as u32;
            reserve_slots(&mut vms, slots as u64, "serve.max_vms")?;
            vms.extend((0..slots).map(|_| VmPlan {
                mcis: mcis.len() as u32,
                cloud: 0,
                zone: 0,
                index_in_group: 0,
                name: String::new(),
                spec: 0,
                spare: true,
            }));
            mcis.push(McisPlan {
                name: name.to_string(),
                at: SimTime::ZERO,
                first,
                count: 0,
                spare: slots,
                api: true,
            });
        }

        // Outages: scheduled, then random.
        let mut outages = Vec::new();
        for (i, o) in spec.outages.iter().enumerate() {
            let key = format!("lifecycle.outages[{i}].target");
            let start = SimTime::ZERO + o.start;
            let outage = Outage::targeting(o.scope, &o.target, clouds, start, o.effect)
                .map_err(|m| err(key, m))?;
            if o.duration.is_zero() {
                return Err(err(
                    format!("lifecycle.outages[{i}].duration"),
                    "must be longer than 0s",
                ));
            }
            outages.push(Outage {
                end: start + o.duration,
                ..outage
            });
        }
        if let Some(ro) = &spec.random_outages {
            if !(ro.rate_per_day.is_finite() && ro.rate_per_day >= 0.0) {
                return Err(err(
                    "lifecycle.random_outages.rate_per_day",
                    "must be a number >= 0",
                ));
            }
            let horizon = r.horizon.as_secs_f64();
            let expected = ro.rate_per_day * horizon / 86_400.0;
            if expected > MAX_RANDOM_OUTAGES as f64 {
                return Err(err(
                    "lifecycle.random_outages.rate_per_day",
                    format!(
                        "would draw about {expected:.3e} outages over simulation.duration: at \
                         most {MAX_RANDOM_OUTAGES} are supported"
                    ),
                ));
            }
            let mut rng = r.rngs().stream("lifecycle.random_outages", 0);
            let mean_gap = 86_400.0 / ro.rate_per_day;
            let mut t = 0.0;
            while ro.rate_per_day > 0.0 && t < horizon {
                let u: f64 = rng.random();
                t += -(1.0 - u).ln() * mean_gap;
                if t >= horizon {
                    continue;
                }
                if outages.len() >= MAX_RANDOM_OUTAGES {
                    return Err(err(
                        "lifecycle.random_outages.rate_per_day",
                        format!("draws more than {MAX_RANDOM_OUTAGES} outages"),
                    ));
                }
                let c = &clouds[rng.random_range(0..clouds.len())];
                let nz = c.region.zones.len();
                let (target, zone) = match ro.scope {
                    OutageScope::Provider => (c.provider().to_string(), None),
                    OutageScope::Region => (c.name(), None),
                    OutageScope::Zone if nz > 0 => {
                        let z = rng.random_range(0..nz);
                        (
                            format!("{}:{}", c.name(), c.region.zones[z]),
                            Some(z as u16),
                        )
                    }
                    OutageScope::Zone => (c.name(), None),
                };
                let scope = if ro.scope == OutageScope::Zone && zone.is_none() {
                    OutageScope::Region // a region without zones fails as a whole
                } else {
                    ro.scope
                };
                let start = SimTime::ZERO + SimDuration::from_secs_f64(t);
                let dur = ro.duration.sample(&mut rng).max(SimDuration::from_secs(1));
                let region = (scope != OutageScope::Provider).then(|| c.region.region.clone());
                outages.push(Outage {
                    scope,
                    target,
                    clouds: clouds_in(clouds, c.provider(), region.as_deref()),
                    provider: c.provider().to_string(),
                    region,
                    zone,
                    start,
                    end: start + dur,
                    effect: ro.effect,
                    random: true,
                });
            }
        }

        let mut actions = Vec::new();
        for (i, a) in s.actions.iter().enumerate() {
            let key = format!("actions[{i}]");
            if a.action == Action::Create {
                return Err(err(
                    format!("{key}.action"),
                    "create is not a timeline action: add an [[mcis]] with `at = ...`",
                ));
            }
            let m = mcis.iter().position(|m| m.name == a.mcis).ok_or_else(|| {
                err(
                    format!("{key}.mcis"),
                    format!(
                        "no MCIS named \"{}\" (MCIS: {})",
                        a.mcis,
                        mcis.iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            let cloud = match &a.cloud {
                Some(c) => Some(find_cloud(format!("{key}.cloud"), c)?),
                None => None,
            };
            actions.push(ActionPlan {
                at: SimTime::ZERO + a.at,
                action: a.action,
                mcis: m as u32,
                cloud,
            });
        }

        Ok(Plan {
            seed: r.seed,
            stagger: spec.stagger.clone(),
            pre_create_jitter: spec.pre_create_jitter.clone(),
            control_stagger: spec.control_stagger,
            retry: spec.retry.clone(),
            crash: spec.crash.clone(),
            log_vm_events: s.log_vm_events,
            profiles,
            cloud_profile,
            clouds: clouds.to_vec(),
            mcis,
            vms,
            outages,
            actions,
            specs,
            layers,
        })
    }

    /// VMs the MCIS requests create (spare scale-out slots excluded).
    pub fn requested_vms(&self) -> u64 {
        self.vms.iter().filter(|v| !v.spare).count() as u64
    }

    pub fn profile_of_cloud(&self, cloud: u32) -> &Profile {
        &self.profiles[self.cloud_profile[cloud as usize] as usize]
    }
}

/// Most VM slots a run may have (VM ids are 32-bit, and a VM's agent and entity share them).
pub const MAX_VM_SLOTS: u64 = u32::MAX as u64 / 2;

/// Most random outages a run may draw (each is an entity and a row of `outages.csv`).
pub const MAX_RANDOM_OUTAGES: usize = 10_000_000;

/// Makes room for `more` VM slots: more than [`MAX_VM_SLOTS`] in all, or more than the memory
/// can hold at once, is an error at `key` rather than an allocation failure.
fn reserve_slots(vms: &mut Vec<VmPlan>, more: u64, key: &str) -> Result<(), PlanError> {
    let total = vms.len() as u64 + more;
    if total > MAX_VM_SLOTS {
        return Err(err(
            key,
            format!(
                "the run would have {total} VM slots: at most {MAX_VM_SLOTS} are supported \
                 (VM ids are 32-bit)"
            ),
        ));
    }
    vms.try_reserve(more as usize).map_err(|_| {
        err(
            key,
            format!("cannot allocate the memory to plan {total} VMs on this machine"),
        )
    })
}

/// Resolves an outage target against the scenario's clouds.
fn resolve_target(
    scope: OutageScope,
    target: &str,
    clouds: &[Cloud],
) -> Result<(String, Option<String>, Option<u16>), String> {
    let parts: Vec<&str> = target.split(':').collect();
    match (scope, parts.as_slice()) {
        (OutageScope::Provider, [p]) => {
            if clouds.iter().any(|c| c.provider() == *p) {
                Ok((p.to_string(), None, None))
            } else {
                Err(format!("no cloud of provider `{p}` in the scenario"))
            }
        }
        (OutageScope::Region, [p, r]) => {
            let name = format!("{p}:{r}");
            let c = clouds
                .iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| format!("`{name}` is not one of the scenario's clouds"))?;
            Ok((p.to_string(), Some(c.region.region.clone()), None))
        }
        (OutageScope::Zone, [p, r, z]) => {
            let name = format!("{p}:{r}");
            let c = clouds
                .iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| format!("`{name}` is not one of the scenario's clouds"))?;
            let zi = c.region.zones.iter().position(|x| x == z).ok_or_else(|| {
                format!(
                    "`{z}` is not a zone of {name} (zones: {})",
                    if c.region.zones.is_empty() {
                        "none".to_string()
                    } else {
                        c.region.zones.join(", ")
                    }
                )
            })?;
            Ok((
                p.to_string(),
                Some(c.region.region.clone()),
                Some(zi as u16),
            ))
        }
        (OutageScope::Provider, _) => Err(format!("expected a provider name, found `{target}`")),
        (OutageScope::Region, _) => Err(format!("expected provider:region, found `{target}`")),
        (OutageScope::Zone, _) => Err(format!("expected provider:region:zone, found `{target}`")),
    }
}
