//! The scenario's lifecycle keys: `[lifecycle]` (provider behaviour for all providers plus
//! CB-Tumblebug's provisioning behaviour), `[lifecycle.providers.<name>]`, outages, the MCIS
//! requests (`[[mcis]]`) and the action timeline (`[[actions]]`).
//!
//! Sources: `../shared/domain/cloud-barista.md` sections 1 (CB-Tumblebug) and 4 (CB-Spider);
//! defaults in `models/providers.toml`.

use super::profile::{ProfileSpec, with_profile_keys};
use super::status::Action;
use crate::engine::{DurationDist, SimDuration};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

with_profile_keys! {
    /// `[lifecycle]`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct LifecycleSpec {
        /// Per-provider overrides: `[lifecycle.providers.aws]` takes the same behaviour keys.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub providers: BTreeMap<String, ProfileSpec>,
        /// CB-Tumblebug's launch stagger inside a VM group.
        #[serde(default)]
        pub stagger: StaggerSpec,
        /// Sleep before each create call (TB v0.5 `RandomSleep(30)`: uniform 0-30 s; HEAD 0-5 s).
        #[serde(default = "default_jitter")]
        pub pre_create_jitter: DurationDist,
        /// Pause between per-VM calls of an MCIS-level control action (TB v0.5: 3 s).
        #[serde(default = "default_control_stagger")]
        pub control_stagger: SimDuration,
        /// Retries of failed creates (TB itself does not retry: attempts = 1).
        #[serde(default)]
        pub retry: RetrySpec,
        /// Time to failure of a Running VM (e.g. `{ dist = "exponential", mean = "30d" }`); none by default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub crash: Option<DurationDist>,
        /// Scheduled outages.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub outages: Vec<OutageSpec>,
        /// Outages at random times (a Poisson process over the run).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub random_outages: Option<RandomOutageSpec>,
    }
}

impl Default for LifecycleSpec {
    /// The same defaults an empty `[lifecycle]` table gets.
    fn default() -> Self {
        toml::from_str("").expect("every lifecycle key has a default")
    }
}

fn default_jitter() -> DurationDist {
    DurationDist::uniform(SimDuration::ZERO, SimDuration::from_secs(30))
}
fn default_control_stagger() -> SimDuration {
    SimDuration::from_secs(3)
}

/// How the VMs of one group are launched over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaggerSpec {
    /// `cumulative`: VM i starts after step x (1 + 2 + ... + i), as TB v0.5's loop with
    /// `sleep(i s)` does (the last of 100 VMs starts 82.5 min in); `linear`: after step x i;
    /// `none`: all at once.
    #[serde(default = "default_stagger_mode")]
    pub mode: StaggerMode,
    #[serde(default = "default_stagger_step")]
    pub step: SimDuration,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaggerMode {
    Cumulative,
    Linear,
    None,
}

fn default_stagger_mode() -> StaggerMode {
    StaggerMode::Cumulative
}
fn default_stagger_step() -> SimDuration {
    SimDuration::from_secs(1)
}

impl Default for StaggerSpec {
    fn default() -> Self {
        StaggerSpec {
            mode: default_stagger_mode(),
            step: default_stagger_step(),
        }
    }
}

impl StaggerSpec {
    /// Delay before the `i`-th VM of a group is launched.
    pub fn offset(&self, i: u64) -> SimDuration {
        let steps = match self.mode {
            StaggerMode::Cumulative => i * (i + 1) / 2,
            StaggerMode::Linear => i,
            StaggerMode::None => 0,
        };
        SimDuration(self.step.as_nanos().saturating_mul(steps))
    }
}

/// Retry policy for failed creates: the VM is requested again after a backoff that grows
/// by `backoff_factor` each attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in total, the first included (1 = no retry).
    #[serde(default = "one")]
    pub attempts: u32,
    #[serde(default = "default_backoff")]
    pub backoff: SimDuration,
    #[serde(default = "default_backoff_factor")]
    pub backoff_factor: f64,
}

fn one() -> u32 {
    1
}
fn default_backoff() -> SimDuration {
    SimDuration::from_secs(30)
}
fn default_backoff_factor() -> f64 {
    2.0
}

impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            attempts: 1,
            backoff: default_backoff(),
            backoff_factor: default_backoff_factor(),
        }
    }
}

impl RetrySpec {
    /// Wait before attempt number `attempt` (2 = first retry).
    pub fn backoff_before(&self, attempt: u32) -> SimDuration {
        let k = attempt.saturating_sub(2) as i32;
        SimDuration::from_secs_f64(self.backoff.as_secs_f64() * self.backoff_factor.powi(k))
    }
}

/// What an outage covers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutageScope {
    Zone,
    Region,
    Provider,
}

/// What an outage does to what it covers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutageEffect {
    /// Live VMs become Failed and every API call fails.
    #[default]
    Fail,
    /// API calls and operations in progress wait until the outage ends (timeouts still run).
    Stall,
}

/// `[[lifecycle.outages]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageSpec {
    pub scope: OutageScope,
    /// `provider` (scope provider), `provider:region` (region) or `provider:region:zone` (zone).
    pub target: String,
    pub start: SimDuration,
    pub duration: SimDuration,
    #[serde(default)]
    pub effect: OutageEffect,
}

/// `[lifecycle.random_outages]`: outages of a random cloud (or its zone, or its provider).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomOutageSpec {
    pub scope: OutageScope,
    /// Mean outages per simulated day over the whole scenario (provider incidents 2018-2020:
    /// AWS 0.35, Azure 0.25, GCP 0.41 per day, all services and locations).
    pub rate_per_day: f64,
    pub duration: DurationDist,
    #[serde(default)]
    pub effect: OutageEffect,
}

/// `[[mcis]]`: a multi-cloud infra service created from a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McisSpec {
    pub name: String,
    /// When the create request arrives.
    #[serde(default)]
    pub at: SimDuration,
    /// VM groups; default: one group on every cloud with the cloud's VM count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSpec>,
}

/// A VM group of an MCIS: `count` VMs on one cloud (or on every cloud with `cloud = "*"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// `provider:region` of one of the scenario's clouds, or `*` for each cloud.
    pub cloud: String,
    /// VMs in the group (default: the cloud's `vms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// VM spec name from `models/specs.csv` (default: the region's cheapest with >= 2 vCPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

/// `[[actions]]`: a control action on an MCIS at a given time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    pub at: SimDuration,
    /// suspend, resume, reboot, terminate or refine.
    pub action: Action,
    pub mcis: String,
    /// Only the MCIS's VMs on this cloud (`provider:region`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stagger_offsets() {
        let s = StaggerSpec::default();
        assert_eq!(s.offset(0), SimDuration::ZERO);
        assert_eq!(s.offset(3), SimDuration::from_secs(6));
        assert_eq!(s.offset(99).as_secs_f64(), 4950.0);
        let l = StaggerSpec {
            mode: StaggerMode::Linear,
            step: SimDuration::from_millis(500),
        };
        assert_eq!(l.offset(4), SimDuration::from_secs(2));
    }

    #[test]
    fn backoff_grows() {
        let r = RetrySpec {
            attempts: 4,
            backoff: SimDuration::from_secs(10),
            backoff_factor: 2.0,
        };
        assert_eq!(r.backoff_before(2), SimDuration::from_secs(10));
        assert_eq!(r.backoff_before(4), SimDuration::from_secs(40));
    }
}
