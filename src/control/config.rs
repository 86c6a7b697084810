//! `[control]`: CB-Tumblebug's auto-control loop and its policies, plus the extensions its
//! presentations list as wanted (cooldown, min/max VMs, step size, suspend/resume and
//! replace-failed actions). Source: `TB@v0.5.0:src/core/mcis/orchestration.go`, see
//! `../shared/domain/cloud-barista.md` sections 1.6-1.7.

use crate::engine::{DurationDist, SimDuration};
use crate::workload::Metric;
use serde::{Deserialize, Serialize};

/// `[control]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlSpec {
    /// Controller period (`AUTOCONTROL_DURATION_MS`, default 10 s).
    #[serde(default = "default_tick")]
    pub tick: SimDuration,
    /// `faithful`: a VM whose monitoring call fails counts as 0 in the MCIS average (as
    /// CB-Tumblebug does); `fixed`: such VMs are left out.
    #[serde(default)]
    pub mode: ControlMode,
    /// Scale-out slots kept per MCIS when a policy gives no `max_vms`.
    #[serde(default = "default_max_scale_out")]
    pub max_scale_out: u32,
    /// Sleep after creating a VM before installing its agent (`CorePostMcisVm`: 20 s).
    #[serde(default = "default_post_create_wait")]
    pub post_create_wait: SimDuration,
    /// Time the blocking agent install takes after that sleep.
    #[serde(default = "default_install")]
    pub agent_install_time: DurationDist,
    /// Sleep after a scale-in terminate before the VM object is deleted (`DelMcisVm`: 5 s).
    #[serde(default = "default_delete_wait")]
    pub delete_wait: SimDuration,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicySpec>,
}

fn default_tick() -> SimDuration {
    SimDuration::from_secs(10)
}
fn default_max_scale_out() -> u32 {
    20
}
fn default_post_create_wait() -> SimDuration {
    SimDuration::from_secs(20)
}
fn default_install() -> DurationDist {
    DurationDist::uniform(SimDuration::from_secs(20), SimDuration::from_secs(40))
}
fn default_delete_wait() -> SimDuration {
    SimDuration::from_secs(5)
}

impl Default for ControlSpec {
    fn default() -> Self {
        toml::from_str("").expect("every control key has a default")
    }
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlMode {
    #[default]
    Faithful,
    Fixed,
}

/// A comparison of the policy's condition.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
}

impl Operator {
    pub fn holds(self, value: f64, operand: f64) -> bool {
        match self {
            Operator::Ge => value >= operand,
            Operator::Gt => value > operand,
            Operator::Le => value <= operand,
            Operator::Lt => value < operand,
        }
    }
}

/// What a policy does when its condition holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyAction {
    /// Add `step` VMs (CB-Tumblebug's ScaleOut).
    ScaleOut,
    /// Remove the newest auto-generated VM (CB-Tumblebug's ScaleIn).
    ScaleIn,
    /// Suspend every Running VM of the MCIS (extension).
    Suspend,
    /// Resume every Suspended VM of the MCIS (extension).
    Resume,
    /// Delete every Failed VM and create a replacement on the same cloud and spec (extension).
    ReplaceFailed,
}

impl PolicyAction {
    pub fn is_scale_out(self) -> bool {
        matches!(self, PolicyAction::ScaleOut | PolicyAction::ReplaceFailed)
    }
    pub fn name(self) -> &'static str {
        match self {
            PolicyAction::ScaleOut => "ScaleOut",
            PolicyAction::ScaleIn => "ScaleIn",
            PolicyAction::Suspend => "Suspend",
            PolicyAction::Resume => "Resume",
            PolicyAction::ReplaceFailed => "ReplaceFailed",
        }
    }
}

/// `[[control.policies]]`: one condition and one action on one MCIS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub mcis: String,
    pub metric: Metric,
    pub operator: Operator,
    pub operand: f64,
    /// Samples (ticks) averaged before the condition is evaluated.
    pub evaluation_period: u32,
    pub action: PolicyAction,
    /// VMs added per scale-out (CB-Tumblebug: 1).
    #[serde(default = "one")]
    pub step: u32,
    /// Scale-in never goes below this many VMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_vms: Option<u32>,
    /// Scale-out never goes above this many VMs (also sizes the spare slots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_vms: Option<u32>,
    /// After an action, the policy does not sample for this long (CB-Tumblebug: none).
    #[serde(default)]
    pub cooldown: SimDuration,
    #[serde(default)]
    pub placement: PlacementSpec,
}

fn one() -> u32 {
    1
}

/// Where scale-out VMs go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    #[serde(default)]
    pub algo: PlacementAlgo,
    /// `location`: the point to be near, "lat/lon".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near: Option<String>,
    /// `latency`: regions (`provider:region`) whose summed RTT to the VM is minimised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_vcpu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_vcpu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_memory_gib: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memory_gib: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_per_hour: Option<f64>,
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlacementAlgo {
    /// CB-Tumblebug v0.5: copy the template of a random existing VM of the MCIS.
    #[default]
    Random,
    /// Cheapest spec.
    Cost,
    /// Nearest region to `near`.
    Location,
    /// Lowest summed RTT to `regions`.
    Latency,
    /// Highest benchmark score.
    Performance,
}
