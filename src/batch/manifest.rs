//! `sweep_manifest.json`: what a sweep folder holds and how far it got.
//!
//! It records the sweep's definition (scenario file and SHA-256, shared `--set`s, axes,
//! replications, scenario seed) and its hash, then every run with its seed and status
//! (`complete`, `failed` with the error, or `pending`: not run yet, or another shard's). A sweep
//! re-run into a folder whose manifest has the same hash resumes it; a different hash is refused
//! (without `--force`). Merge reads the manifests to check the folders belong to one sweep.
//!
//! A run counts as complete when its results folder exists (folders are renamed into place only
//! once fully written) and its `manifest.json` has the planned seed; the statuses here are a
//! record of the last writer, the folders are the truth.

use super::grid::{Axis, Grid};
use super::plan::{Plan, RunSpec};
use super::{BatchError, Sweep, write_atomic};
use crate::output::names::file;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The status of one run in a sweep folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Complete,
    Failed,
    Pending,
}

/// One run in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub point: usize,
    pub replication: u32,
    pub seed: u64,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The contents of `sweep_manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepManifest {
    pub tool: String,
    pub version: String,
    /// `simulation.name`: the default folder is `results/<name>-sweep`.
    pub name: String,
    /// SHA-256 of the definition below (scenario bytes, sets, axes, replications, seed).
    pub sweep_hash: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub sets: Vec<String>,
    pub base_seed: u64,
    pub replications: u32,
    pub axes: Vec<Axis>,
    pub points: usize,
    pub runs: Vec<RunRecord>,
}

/// What identifies a sweep (hashed).
#[derive(Serialize)]
struct Definition<'a> {
    scenario_sha256: &'a str,
    sets: &'a [String],
    axes: &'a [Axis],
    replications: u32,
    base_seed: u64,
}

/// The hash of a sweep definition.
pub fn sweep_hash(
    scenario_sha256: &str,
    sets: &[String],
    axes: &[Axis],
    replications: u32,
    base_seed: u64,
) -> String {
    let d = Definition {
        scenario_sha256,
        sets,
        axes,
        replications,
        base_seed,
    };
    crate::scenario::sha256_hex(&serde_json::to_vec(&d).expect("definition serializes"))
}

impl Sweep {
    /// The hash identifying this sweep's results.
    pub fn hash(&self) -> String {
        sweep_hash(
            self.scenario_sha256(),
            &self.sets,
            &self.plan.grid.axes,
            self.plan.replications,
            self.plan.base_seed,
        )
    }

    /// The manifest of this sweep with every run's status and error (in run order).
    pub fn manifest(&self, status: &[(Status, Option<String>)]) -> SweepManifest {
        SweepManifest {
            tool: "cloudtwin".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            name: self.name().to_string(),
            sweep_hash: self.hash(),
            scenario_file: self.origin.clone(),
            scenario_sha256: self.scenario_sha256().to_string(),
            sets: self.sets.clone(),
            base_seed: self.plan.base_seed,
            replications: self.plan.replications,
            axes: self.plan.grid.axes.clone(),
            points: self.plan.grid.len(),
            runs: records(&self.plan, status),
        }
    }
}

/// Run records of a plan with the given statuses.
pub fn records(plan: &Plan, status: &[(Status, Option<String>)]) -> Vec<RunRecord> {
    plan.runs
        .iter()
        .zip(status)
        .map(|(r, (s, e))| RunRecord {
            id: r.id.clone(),
            point: r.point,
            replication: r.replication,
            seed: r.seed,
            status: *s,
            error: e.clone(),
        })
        .collect()
}

impl SweepManifest {
    /// Reads `dir/sweep_manifest.json`; `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<SweepManifest>, BatchError> {
        let path = dir.join(file::SWEEP_MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BatchError::io(&path, e)),
        };
        let m: SweepManifest = serde_json::from_str(&text).map_err(|e| {
            BatchError::BadInput(format!("{}: not a sweep manifest: {e}", path.display()))
        })?;
        Ok(Some(m))
    }

    /// Rebuilds the plan and checks the manifest is consistent with it (hash, ids, seeds).
    pub fn plan(&self, dir: &Path) -> Result<Plan, BatchError> {
        let bad = |m: &str| {
            BatchError::BadInput(format!(
                "{}: {m}: the manifest was edited or is damaged",
                dir.join(file::SWEEP_MANIFEST).display()
            ))
        };
        let hash = sweep_hash(
            &self.scenario_sha256,
            &self.sets,
            &self.axes,
            self.replications,
            self.base_seed,
        );
        if hash != self.sweep_hash {
            return Err(bad("sweep_hash does not match the definition"));
        }
        let plan = Plan::new(
            Grid {
                axes: self.axes.clone(),
            },
            self.replications,
            self.base_seed,
        );
        let same = plan.runs.len() == self.runs.len()
            && plan
                .runs
                .iter()
                .zip(&self.runs)
                .all(|(p, r)| p.id == r.id && p.seed == r.seed);
        if !same {
            return Err(bad("the run list does not match the grid"));
        }
        Ok(plan)
    }

    /// Writes `dir/sweep_manifest.json` atomically.
    pub fn write(&self, dir: &Path, tag: &str) -> Result<(), BatchError> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serializes");
        v.push(b'\n');
        write_atomic(&dir.join(file::SWEEP_MANIFEST), &v, tag)
    }
}

/// Is `run` complete in the sweep folder `dir`: its results folder is in place, from the same
/// scenario file with the planned overrides (`args`, seed included)?
pub fn is_complete(dir: &Path, run: &RunSpec, args: &[String], scenario_sha256: &str) -> bool {
    let rd = dir.join(file::RUNS_DIR).join(&run.id);
    let Ok(text) = std::fs::read_to_string(rd.join(file::MANIFEST)) else {
        return false;
    };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    let seed = m.get("seed").and_then(serde_json::Value::as_u64);
    let sha = m.get("scenario_sha256").and_then(serde_json::Value::as_str);
    let overrides: Option<Vec<&str>> = m
        .get("overrides")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect());
    seed == Some(run.seed)
        && sha == Some(scenario_sha256)
        && overrides.is_some_and(|o| o == args)
        && crate::output::read::exists(&rd, file::SUMMARY)
}

impl SweepManifest {
    /// Is `run` (of this manifest's plan) complete in sweep folder `dir`?
    pub fn is_complete(&self, dir: &Path, plan: &Plan, run: &RunSpec) -> bool {
        is_complete(
            dir,
            run,
            &super::plan::run_args(&self.sets, &plan.grid, run),
            &self.scenario_sha256,
        )
    }
}
