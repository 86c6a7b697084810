//! Running a sweep into its folder: open (check or resume), execute in parallel, finish.
//!
//! ```text
//! <out>/sweep_manifest.json    the sweep and the status of every run
//! <out>/sweep_summary.csv      statistics per point and metric (see `summary`)
//! <out>/runs/<run-id>/         one results folder per run, exactly as `cloudtwin run` writes it
//! ```
//!
//! Runs execute on a local rayon pool of `threads` workers; each writes its own folder
//! atomically (`ResultsDir` + `run::write_results`), so a killed sweep leaves only complete run
//! folders, and re-running the same sweep into the same folder runs only the missing ones. A
//! run that fails (a panic, an I/O error) is reported with its id; the others go on.

use super::manifest::{Status, SweepManifest};
use super::plan::{RunSpec, Shard};
use super::summary::{sweep_summary, write_sweep_summary};
use super::{BatchError, Sweep};
use crate::engine::{Progress, RunControl};
use crate::output::ResultsDir;
use crate::output::names::file;
use rayon::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the caller provides: a clock, a stop flag and a completion callback.
pub struct Hooks<'a> {
    /// Seconds since any fixed instant (per-run wall time in `manifest.json`; the library
    /// reads no clock itself). `&|| 0.0` is fine.
    pub clock: &'a (dyn Fn() -> f64 + Sync),
    /// Once set, runs in progress stop (nothing written) and no new run starts.
    pub stop: &'a AtomicBool,
    /// Called from the worker threads as each run ends.
    pub on_done: &'a (dyn Fn(&RunSpec, &RunStatus) + Sync),
}

/// How one executed run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Complete,
    Failed(String),
    /// Stopped by the stop flag: nothing written, it runs again on resume.
    Interrupted,
}

/// What a sweep did.
#[derive(Clone, Debug)]
pub struct SweepReport {
    pub dir: PathBuf,
    pub shard: Shard,
    /// Runs executed now and complete.
    pub ran: usize,
    /// Runs of the shard already complete in the folder (not run again).
    pub skipped: usize,
    pub failed: Vec<(RunSpec, String)>,
    pub interrupted: usize,
    /// Runs of the whole grid complete in the folder, and the grid's size.
    pub complete: usize,
    pub total: usize,
    /// Runs covered by the `sweep_summary.csv` written, if one was written.
    pub summary_runs: Option<usize>,
}

/// A sweep folder opened for one sweep and shard.
pub struct SweepSession<'s> {
    pub sweep: &'s Sweep,
    pub dir: PathBuf,
    pub shard: Shard,
    /// Indices of the runs to execute.
    pub todo: Vec<usize>,
    /// Indices of the shard's runs already complete.
    pub skipped: Vec<usize>,
    previous: Option<SweepManifest>,
    tag: String,
}

impl<'s> SweepSession<'s> {
    /// Opens (creates) the sweep folder `dir`: resumes a folder of the same sweep, refuses
    /// another sweep's folder unless `force` (which then deletes its runs and summary), and
    /// never writes into a folder that is not a sweep folder. With `force` every run of the
    /// shard executes again. Writes the manifest before anything runs.
    pub fn open(
        sweep: &'s Sweep,
        dir: &Path,
        shard: Shard,
        force: bool,
    ) -> Result<SweepSession<'s>, BatchError> {
        let shown = dir.display();
        let mut previous = None;
        if dir.exists() {
            if !dir.is_dir() {
                return Err(BatchError::BadInput(format!(
                    "{shown} exists and is not a folder"
                )));
            }
            match SweepManifest::read(dir)? {
                Some(m) if m.sweep_hash == sweep.hash() => previous = Some(m),
                Some(_) if force => clear_sweep(dir)?,
                Some(_) => {
                    return Err(BatchError::BadInput(format!(
                        "{shown} holds another sweep (different scenario file, --set, grid, \
                         replications or seed): use --force to replace it, or another --out"
                    )));
                }
                None => {
                    let empty = std::fs::read_dir(dir)
                        .map_err(|e| BatchError::io(dir, e))?
                        .next()
                        .is_none();
                    if !empty {
                        return Err(BatchError::BadInput(format!(
                            "{shown} exists and is not a sweep folder (no {}): refusing to \
                             write into it",
                            super::file::SWEEP_MANIFEST
                        )));
                    }
                }
            }
        }
        let runs = dir.join(file::RUNS_DIR);
        std::fs::create_dir_all(&runs).map_err(|e| BatchError::io(&runs, e))?;
        let mut todo = Vec::new();
        let mut skipped = Vec::new();
        for r in &sweep.plan.runs {
            if !shard.contains(r.index) {
                continue;
            }
            if !force && sweep.is_complete(dir, r) {
                skipped.push(r.index);
            } else {
                todo.push(r.index);
            }
        }
        remove_stale_temporaries(&runs, sweep, &todo);
        let s = SweepSession {
            sweep,
            dir: dir.to_path_buf(),
            shard,
            todo,
            skipped,
            previous,
            tag: format!("s{}", shard.index),
        };
        s.write_manifest(&[])?;
        Ok(s)
    }

    /// Executes the `todo` runs on `threads` workers (None: one per core), returning each
    /// run's status in run-id order.
    pub fn execute(
        &self,
        threads: Option<usize>,
        hooks: &Hooks<'_>,
    ) -> Result<Vec<(usize, RunStatus)>, BatchError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .thread_name(|i| format!("sweep-{i}"))
            .build()
            .map_err(|e| BatchError::Failure(format!("cannot start the worker threads: {e}")))?;
        let statuses: Vec<RunStatus> = pool.install(|| {
            self.todo
                .par_iter()
                .with_max_len(1)
                .map(|&i| {
                    let run = &self.sweep.plan.runs[i];
                    let status = self.run_one(run, hooks);
                    (hooks.on_done)(run, &status);
                    status
                })
                .collect()
        });
        Ok(self.todo.iter().copied().zip(statuses).collect())
    }

    fn run_one(&self, run: &RunSpec, hooks: &Hooks<'_>) -> RunStatus {
        if hooks.stop.load(Ordering::Relaxed) {
            return RunStatus::Interrupted;
        }
        let loaded = match self.sweep.load_run(run) {
            Ok(l) => l,
            Err(e) => return RunStatus::Failed(e.to_string()),
        };
        let target = self.dir.join(file::RUNS_DIR).join(&run.id);
        let dir = match ResultsDir::create(&target, true) {
            Ok(d) => d,
            Err(e) => return RunStatus::Failed(e.to_string()),
        };
        let started = (hooks.clock)();
        let out = catch_unwind(AssertUnwindSafe(|| {
            let mut observer = |_: Progress| !hooks.stop.load(Ordering::Relaxed);
            // One thread per run: the sweep's workers already take the cores.
            let opts = crate::run::RunOptions {
                threads: 1,
                ..Default::default()
            };
            crate::run::simulate_opts(
                &loaded,
                &mut RunControl::every(1 << 14, &mut observer),
                opts,
            )
        }));
        let out = match out {
            Ok(o) => o,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                return RunStatus::Failed(format!("the simulation panicked: {msg}"));
            }
        };
        if out.interrupted {
            return RunStatus::Interrupted;
        }
        let wall = ((hooks.clock)() - started).max(0.0);
        match crate::run::write_results(&loaded, &out, dir, wall) {
            Ok(_) => RunStatus::Complete,
            Err(e) => RunStatus::Failed(e.to_string()),
        }
    }

    /// Writes the manifest (statuses from `results`, the folder for other runs) and, when every
    /// run of the grid is complete or this is an unsharded sweep that was not interrupted,
    /// `sweep_summary.csv` over the complete runs.
    pub fn finish(self, results: &[(usize, RunStatus)]) -> Result<SweepReport, BatchError> {
        let statuses = self.write_manifest(results)?;
        let plan = &self.sweep.plan;
        let mut report = SweepReport {
            dir: self.dir.clone(),
            shard: self.shard,
            ran: 0,
            skipped: self.skipped.len(),
            failed: Vec::new(),
            interrupted: 0,
            complete: statuses
                .iter()
                .filter(|(s, _)| *s == Status::Complete)
                .count(),
            total: plan.runs.len(),
            summary_runs: None,
        };
        for (i, s) in results {
            match s {
                RunStatus::Complete => report.ran += 1,
                RunStatus::Failed(m) => report.failed.push((plan.runs[*i].clone(), m.clone())),
                RunStatus::Interrupted => report.interrupted += 1,
            }
        }
        let all = report.complete == report.total;
        if all || (self.shard.is_all() && report.interrupted == 0) {
            let complete = |r: &RunSpec| self.sweep.is_complete(&self.dir, r);
            let (table, used) = sweep_summary(plan, &self.dir, &complete)?;
            let formats = &self.sweep.base.scenario.output;
            write_sweep_summary(&self.dir, &table, formats, &self.tag)?;
            // The sweep's plots and report.html (cloudtwin::report), from the CSVs on disk.
            crate::report::rebuild(&self.dir, &Default::default())
                .map_err(|e| BatchError::Failure(e.to_string()))?;
            report.summary_runs = Some(used);
        }
        Ok(report)
    }

    /// Writes the manifest; returns every run's status.
    fn write_manifest(
        &self,
        results: &[(usize, RunStatus)],
    ) -> Result<Vec<(Status, Option<String>)>, BatchError> {
        let plan = &self.sweep.plan;
        let mut statuses: Vec<(Status, Option<String>)> = plan
            .runs
            .iter()
            .map(|r| {
                if self.sweep.is_complete(&self.dir, r) {
                    return (Status::Complete, None);
                }
                // Keep an earlier failure on record until the run completes.
                match self.previous.as_ref().and_then(|m| m.runs.get(r.index)) {
                    Some(rec) if rec.status == Status::Failed => {
                        (Status::Failed, rec.error.clone())
                    }
                    _ => (Status::Pending, None),
                }
            })
            .collect();
        for (i, s) in results {
            statuses[*i] = match s {
                RunStatus::Complete => (Status::Complete, None),
                RunStatus::Failed(m) => (Status::Failed, Some(m.clone())),
                RunStatus::Interrupted => (Status::Pending, None),
            };
        }
        self.sweep.manifest(&statuses).write(&self.dir, &self.tag)?;
        Ok(statuses)
    }
}

/// Share of the available memory a sweep fills with runs at once: the estimate is a guide
/// (within a factor of 2 on the committed scenarios), and the machine does other work.
pub const MEMORY_SHARE: f64 = 0.8;

/// How many runs of a sweep to keep in flight: `threads`, fewer when `threads` runs of
/// `peak_bytes` each (the largest point's estimate) would not fit in [`MEMORY_SHARE`] of
/// `available_bytes`, and at least one. `Err` (with the largest number of bytes that fits)
/// when even one run does not fit the available memory. Unknown memory: `threads`.
pub fn runs_in_flight(
    threads: usize,
    available_bytes: Option<f64>,
    peak_bytes: f64,
) -> Result<usize, f64> {
    let threads = threads.max(1);
    let Some(avail) = available_bytes else {
        return Ok(threads);
    };
    if peak_bytes > avail {
        return Err(avail);
    }
    let fit = (avail * MEMORY_SHARE / peak_bytes.max(1.0)).floor();
    Ok((fit.min(threads as f64) as usize).max(1))
}

/// Removes what a killed process left of the runs about to execute (`.<run-id>.tmp-<pid>`
/// folders of `ResultsDir`); other runs' temporaries may belong to a live shard and stay.
fn remove_stale_temporaries(runs: &Path, sweep: &Sweep, todo: &[usize]) {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_string();
        let Some((id, _)) = name.strip_prefix('.').and_then(|n| n.split_once(".tmp-")) else {
            continue;
        };
        let ours = sweep
            .plan
            .find(id)
            .is_some_and(|r| todo.binary_search(&r.index).is_ok());
        if ours {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// `--force` over another sweep: deletes its summary and run folders (results folders only).
fn clear_sweep(dir: &Path) -> Result<(), BatchError> {
    for name in [
        file::SWEEP_SUMMARY.to_string(),
        crate::output::parquet::file_name(file::SWEEP_SUMMARY),
    ] {
        let summary = dir.join(name);
        if summary.exists() {
            std::fs::remove_file(&summary).map_err(|e| BatchError::io(&summary, e))?;
        }
    }
    let runs = dir.join(file::RUNS_DIR);
    let Ok(entries) = std::fs::read_dir(&runs) else {
        return Ok(());
    };
    for e in entries {
        let p = e.map_err(|e| BatchError::io(&runs, e))?.path();
        if p.is_dir() && p.join(file::MANIFEST).is_file() {
            std::fs::remove_dir_all(&p).map_err(|e| BatchError::io(&p, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_in_flight_fit_the_memory() {
        let gb = 1e9;
        // Plenty of memory: every thread runs.
        assert_eq!(runs_in_flight(8, Some(23.0 * gb), 0.1 * gb), Ok(8));
        // 23 GB x 0.8 / 5 GB = 3.68: three at once.
        assert_eq!(runs_in_flight(8, Some(23.0 * gb), 5.0 * gb), Ok(3));
        // One fits but not with the margin: still one.
        assert_eq!(runs_in_flight(8, Some(23.0 * gb), 20.0 * gb), Ok(1));
        // Not even one.
        assert_eq!(
            runs_in_flight(8, Some(23.0 * gb), 30.0 * gb),
            Err(23.0 * gb)
        );
        // Unknown memory, or zero threads asked: the threads, at least one.
        assert_eq!(runs_in_flight(4, None, 1e15), Ok(4));
        assert_eq!(runs_in_flight(0, Some(gb), 1.0), Ok(1));
    }
}
