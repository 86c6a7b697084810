//! `[network]`: which latencies a run uses.

use serde::{Deserialize, Serialize};

/// `[network]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// A measured RTT matrix (CSV, long `src,dst,rtt_ms` or square, `provider:region` names,
    /// relative to the scenario): pairs it covers use it, the rest the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_rtt: Option<String>,
    /// `cloud_rtt.csv` is written when the scenario has at most this many clouds (it has one
    /// row per ordered pair).
    #[serde(default = "default_max_clouds")]
    pub cloud_rtt_max_clouds: u32,
}

fn default_max_clouds() -> u32 {
    300
}

impl Default for NetworkSpec {
    fn default() -> Self {
        toml::from_str("").expect("every network key has a default")
    }
}
