//! Batch runs: parameter sweeps with replications, on every core and across a cluster.
//!
//! A sweep is a scenario, the `--set` overrides every run shares, a grid of varied key paths
//! (`--vary key.path=v1,v2` or a `[sweep]` table) and a number of replications. Every
//! combination of values is a *point*; every (point, replication) is a *run* with its own seed,
//! derived from the scenario seed, the point and the replication only
//! (`RngFactory::new(seed).derive_seed(&[point, replication])`), never from a thread or a shard.
//!
//! - [`grid`]: the axes and their cartesian product, in a fixed order, with point ids.
//! - [`plan`]: points x replications = runs, run ids and seeds, shard selection.
//! - [`execute`]: a sweep folder (resume, `--force`), runs in parallel on a rayon pool, each
//!   written atomically to `runs/<run-id>/` by the same code as `cloudtwin run`.
//! - [`summary`]: `sweep_summary.csv`, mean / sd / Student-t 95% CI per point and metric.
//! - [`manifest`]: `sweep_manifest.json`, the sweep's identity (hash), grid, seeds and run status.
//! - [`merge`]: combines the folders of a sharded sweep into one, checking every run is there
//!   exactly once.
//!
//! Everything written is a function of the sweep definition alone: the number of threads,
//! the shards and the order in which runs finish never change a byte (but the per-run
//! `manifest.json`'s `wall_time_s`). The library reads no clock: callers pass one in.

pub mod execute;
pub mod grid;
pub mod manifest;
pub mod merge;
pub mod plan;
pub mod summary;

pub use execute::{Hooks, RunStatus, SweepReport, SweepSession, runs_in_flight};
pub use grid::{Axis, Grid};
pub use manifest::SweepManifest;
pub use plan::{Plan, RunSpec, Shard};

use crate::output::names::file;
use crate::scenario::{self, Draft, Loaded, Origin, Override, ScenarioError};
use crate::size::{self, Estimate, Limits};
use std::path::{Path, PathBuf};

/// Largest sweep accepted (points x replications).
pub const MAX_RUNS: usize = 10_000_000;

/// Why a sweep or a merge cannot go on: bad input (exit 2) or a failure (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Failure(String),
}

impl BatchError {
    pub fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        BatchError::Failure(format!("{}: {e}", path.display()))
    }
}

/// A sweep ready to run: the scenario text (read once), the shared overrides and the plan.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The scenario file as given.
    pub origin: String,
    text: String,
    stem: String,
    base_dir: Option<PathBuf>,
    /// `--set` overrides shared by every run, as written.
    pub sets: Vec<String>,
    /// The scenario with `sets` applied (seed, name, `[sweep]` table), read but not planned
    /// (the points are: the base itself may be too big to plan where every point is not).
    pub base: Draft,
    pub plan: Plan,
    /// The largest point's size estimate (by peak memory) and its index: how many runs fit
    /// in memory at once ([`runs_in_flight`]).
    pub largest: (usize, Estimate),
    sha256: String,
}

impl Sweep {
    /// Reads the scenario, builds the grid from its `[sweep]` table and `cli_axes` (which replace
    /// the file's axis for the same key, or are appended), and validates every point like `--set`.
    /// `replications` overrides `[sweep].replications` (default 1). With `limits`, a point
    /// whose size estimate does not fit them is refused (naming the point) before any point's
    /// plans are built.
    pub fn prepare(
        path: &Path,
        sets: &[String],
        cli_axes: &[Axis],
        replications: Option<u32>,
        limits: Option<&Limits>,
    ) -> Result<Sweep, BatchError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| BatchError::BadInput(format!("{origin}: cannot read the file: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| BatchError::BadInput(format!("{origin}: the file is not valid UTF-8")))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let base_dir = path.parent().map(Path::to_path_buf);
        Sweep::from_text(
            text,
            origin,
            stem,
            base_dir,
            sets,
            cli_axes,
            replications,
            limits,
        )
    }

    /// [`Sweep::prepare`] on scenario text (`origin` names it in errors).
    #[allow(clippy::too_many_arguments)]
    pub fn from_text(
        text: String,
        origin: String,
        stem: String,
        base_dir: Option<PathBuf>,
        sets: &[String],
        cli_axes: &[Axis],
        replications: Option<u32>,
        limits: Option<&Limits>,
    ) -> Result<Sweep, BatchError> {
        let bad = |e: ScenarioError| BatchError::BadInput(e.to_string());
        let set_overrides: Vec<Override> = sets
            .iter()
            .map(|s| Override::parse(s))
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        let base = scenario::draft(&text, &origin, &stem, base_dir.as_deref(), &set_overrides)
            .map_err(bad)?;
        let spec = base.scenario.sweep.clone().unwrap_or_default();
        let mut grid = Grid::from_spec(&spec).map_err(BatchError::BadInput)?;
        for (i, a) in cli_axes.iter().enumerate() {
            if cli_axes[..i].iter().any(|b| b.key == a.key) {
                return Err(BatchError::BadInput(format!(
                    "--vary {} is given twice: list all its values in one --vary",
                    a.key
                )));
            }
            grid.put(a.clone());
        }
        for a in &grid.axes {
            if let Some(o) = set_overrides.iter().find(|o| o.key() == a.key) {
                return Err(BatchError::BadInput(format!(
                    "`{}` is both set (--set {}) and varied: drop one",
                    a.key, o.arg
                )));
            }
        }
        let replications = replications.or(spec.replications).unwrap_or(1);
        if replications == 0 {
            return Err(BatchError::BadInput(
                "replications must be at least 1".into(),
            ));
        }
        let runs = grid.len().saturating_mul(replications as usize);
        if runs > MAX_RUNS {
            return Err(BatchError::BadInput(format!(
                "the sweep has {} points x {replications} replications: more than {MAX_RUNS} runs",
                grid.len()
            )));
        }
        let plan = Plan::new(grid, replications, base.scenario.simulation.seed);
        let largest = (0, size::estimate(&base.scenario));
        let mut sweep = Sweep {
            origin,
            text,
            stem,
            base_dir,
            sets: sets.to_vec(),
            base,
            plan,
            largest,
            sha256: String::new(),
        };
        sweep.sha256 = sweep.base.source_sha256();
        // Every point must load before anything runs (with its first replication's seed),
        // and fit the limits before its plans are built.
        let mut largest: Option<(usize, Estimate)> = None;
        for p in 0..sweep.plan.grid.len() {
            let run = &sweep.plan.runs[p * sweep.plan.replications as usize];
            let point = |m: String| {
                BatchError::BadInput(format!(
                    "sweep point {} ({}): {m}",
                    sweep.plan.grid.point_id(p),
                    sweep.plan.grid.describe(p),
                ))
            };
            let draft = sweep
                .draft_run(run)
                .map_err(|e| point(describe_error(&e, &sweep.plan.grid.overrides(p))))?;
            let estimate = match limits {
                Some(l) => size::check(&draft.scenario, l).map_err(|r| {
                    point(format!(
                        "{}: {r} (use --no-size-check to run anyway)",
                        sweep.origin
                    ))
                })?,
                None => size::estimate(&draft.scenario),
            };
            draft
                .build()
                .map_err(|e| point(describe_error(&e, &sweep.plan.grid.overrides(p))))?;
            if largest
                .as_ref()
                .is_none_or(|(_, e)| estimate.peak_bytes() > e.peak_bytes())
            {
                largest = Some((p, estimate));
            }
        }
        if let Some(l) = largest {
            sweep.largest = l;
        }
        Ok(sweep)
    }

    /// The scenario name (results folder names).
    pub fn name(&self) -> &str {
        &self.base.scenario.simulation.name
    }

    /// The default sweep folder: `results/<name>-sweep`.
    pub fn default_out_dir(&self) -> PathBuf {
        Path::new("results").join(format!("{}-sweep", self.name()))
    }

    /// SHA-256 of the scenario file's bytes.
    pub fn scenario_sha256(&self) -> &str {
        &self.sha256
    }

    /// The overrides of one run: the shared `--set`s, the point's values, then its seed.
    pub fn run_overrides(&self, run: &RunSpec) -> Vec<Override> {
        plan::run_args(&self.sets, &self.plan.grid, run)
            .iter()
            .map(|a| Override::parse(a).expect("checked in prepare"))
            .collect()
    }

    /// Is `run` complete in sweep folder `dir`?
    pub fn is_complete(&self, dir: &Path, run: &RunSpec) -> bool {
        manifest::is_complete(
            dir,
            run,
            &plan::run_args(&self.sets, &self.plan.grid, run),
            self.scenario_sha256(),
        )
    }

    /// The scenario of one run, without the `[sweep]` table (each run is a plain scenario).
    pub fn load_run(&self, run: &RunSpec) -> Result<Loaded, ScenarioError> {
        let mut l = self.draft_run(run)?.build()?;
        l.scenario.sweep = None;
        Ok(l)
    }

    /// The scenario of one run, read but not planned.
    pub fn draft_run(&self, run: &RunSpec) -> Result<Draft, ScenarioError> {
        scenario::draft(
            &self.text,
            &self.origin,
            &self.stem,
            self.base_dir.as_deref(),
            &self.run_overrides(run),
        )
    }
}

/// A load error of a point, naming `--vary` rather than `--set` when a varied value caused it.
fn describe_error(e: &ScenarioError, point: &[Override]) -> String {
    match &e.origin {
        Origin::Override(arg) if point.iter().any(|o| &o.arg == arg) => {
            let mut s = format!("--vary {arg}");
            if !e.key.is_empty() {
                s.push_str(&format!(": key `{}`", e.key));
            }
            format!("{s}: {}", e.message)
        }
        _ => e.to_string(),
    }
}

/// Writes a file atomically: a hidden temporary sibling renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8], tag: &str) -> Result<(), BatchError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}-{tag}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| BatchError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        BatchError::io(path, e)
    })
}
