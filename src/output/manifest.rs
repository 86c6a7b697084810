//! `manifest.json`: what produced a results folder, so a result can be traced and re-run.

use serde::Serialize;

/// Everything needed to reproduce or identify a run.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    /// `git describe`-style revision the binary was built from, if known.
    pub git_revision: Option<String>,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub overrides: Vec<String>,
    pub seed: u64,
    pub events_processed: u64,
    pub sim_time_s: f64,
    /// Wall-clock seconds of the run (the only value that differs between identical runs).
    pub wall_time_s: f64,
    /// The resolved scenario, every default filled in.
    pub scenario: serde_json::Value,
    /// A served session's wall-clock figures (listen address, speed, requests, lag behind
    /// the paced clock): kept out of the tables, which a replay reproduces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serve: Option<serde_json::Value>,
}

/// The revision recorded at build time by build.rs.
pub fn git_revision() -> Option<String> {
    option_env!("CLOUDTWIN_GIT_REV")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serializes");
        v.push(b'\n');
        v
    }
}
