//! `[serve]`: the live twin's settings (`cloudtwin serve`). `cloudtwin run` ignores the section
//! unless `enabled` is set, which `serve` does (and which the results folder's `scenario.toml`
//! keeps, so `cloudtwin replay` rebuilds the same world).

use serde::{Deserialize, Serialize};

/// `[serve]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSpec {
    /// The run is a live twin session: VMs may be created through the API (set by `serve`).
    #[serde(default)]
    pub enabled: bool,
    /// When `POST /vm` answers: once the VM is Running (`running`, CB-Spider since v0.6) or at
    /// once with `Creating` (`creating`, CB-Spider v0.5).
    #[serde(default)]
    pub create_returns: CreateReturns,
    /// VM slots for API-created VMs, reserved when the run starts (about 300 bytes each).
    #[serde(default = "default_max_vms")]
    pub max_vms: u32,
    /// The MCIS that holds API-created VMs (a `[[workload]]` may name it to load them).
    #[serde(default = "default_mcis")]
    pub mcis: String,
    /// Where MOCK and CLOUDTWIN clouds are, "lat/lon" (default: Cloud-Twin's Daejeon,
    /// `TB@v0.3.5 cloudlocation.csv`).
    #[serde(default = "default_location")]
    pub emulated_location: String,
    /// Unix time (s) of simulated time 0: the `StartTime` of VMs (set by `serve` from the clock
    /// when it starts, so a replay answers with the same times).
    #[serde(default)]
    pub epoch_s: u64,
}

/// When `POST /vm` answers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreateReturns {
    #[default]
    Running,
    Creating,
}

fn default_max_vms() -> u32 {
    20_000
}
fn default_mcis() -> String {
    "spider".into()
}
fn default_location() -> String {
    "36.3804/127.3650".into()
}

impl Default for ServeSpec {
    fn default() -> Self {
        toml::from_str("").expect("every serve key has a default")
    }
}

impl ServeSpec {
    /// True for the defaults (the section is then left out of a resolved scenario).
    pub fn is_default(&self) -> bool {
        *self == ServeSpec::default()
    }
}
