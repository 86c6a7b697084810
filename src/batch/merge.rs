//! `cloudtwin merge DIR...`: combines the folders of a sharded sweep into one sweep folder.
//!
//! Every folder must hold a manifest of the same sweep (same hash). Every run of the grid must be
//! complete in exactly one of them: missing runs and runs present in several folders are listed
//! and nothing is written. The runs are then copied into the output folder (those already there
//! are kept), and its manifest and `sweep_summary.csv` are written by the same code as a sweep,
//! so they are byte-identical to a single-machine sweep's.

use super::BatchError;
use super::manifest::{Status, SweepManifest, records};
use super::plan::Plan;
use super::summary::{run_formats, sweep_summary, write_sweep_summary};
use crate::output::names::file;
use std::fs;
use std::path::{Path, PathBuf};

/// What a merge did.
#[derive(Clone, Debug)]
pub struct MergeReport {
    pub dir: PathBuf,
    pub runs: usize,
    /// Runs copied into the output folder (the others were already there).
    pub copied: usize,
    /// Folders under `runs/` that are not runs of the sweep (left out).
    pub unknown: Vec<String>,
}

/// Merges sweep folders `inputs` into `out` (default `results/<name>-sweep`).
pub fn merge(inputs: &[PathBuf], out: Option<&Path>) -> Result<MergeReport, BatchError> {
    if inputs.is_empty() {
        return Err(BatchError::BadInput(
            "give at least one sweep folder".into(),
        ));
    }
    // The same folder given twice is one input.
    let mut dirs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for d in inputs {
        let canon = fs::canonicalize(d).map_err(|e| {
            BatchError::BadInput(format!("{}: not a sweep folder: {e}", d.display()))
        })?;
        if !dirs.iter().any(|(_, c)| *c == canon) {
            dirs.push((d.clone(), canon));
        }
    }
    let mut manifests = Vec::new();
    for (d, _) in &dirs {
        let m = SweepManifest::read(d)?.ok_or_else(|| {
            BatchError::BadInput(format!(
                "{} is not a sweep folder (no {})",
                d.display(),
                file::SWEEP_MANIFEST
            ))
        })?;
        manifests.push(m);
    }
    let first = &manifests[0];
    let others: Vec<String> = dirs
        .iter()
        .zip(&manifests)
        .filter(|(_, m)| m.sweep_hash != first.sweep_hash)
        .map(|((d, _), _)| d.display().to_string())
        .collect();
    if !others.is_empty() {
        return Err(BatchError::BadInput(format!(
            "{} hold(s) another sweep than {} (different scenario, --set, grid, replications or \
             seed)",
            others.join(", "),
            dirs[0].0.display()
        )));
    }
    let plan = first.plan(&dirs[0].0)?;

    // Where each run is complete.
    let mut missing = Vec::new();
    let mut duplicate = Vec::new();
    let mut source: Vec<usize> = Vec::with_capacity(plan.runs.len());
    for run in &plan.runs {
        let found: Vec<usize> = (0..dirs.len())
            .filter(|&k| first.is_complete(&dirs[k].0, &plan, run))
            .collect();
        match found.len() {
            0 => missing.push(run.id.clone()),
            1 => {}
            _ => duplicate.push(format!(
                "{} (in {})",
                run.id,
                found
                    .iter()
                    .map(|&k| dirs[k].0.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        source.push(found.first().copied().unwrap_or(0));
    }
    if !missing.is_empty() || !duplicate.is_empty() {
        let mut m = format!("cannot merge {} runs:", plan.runs.len());
        if !missing.is_empty() {
            m.push_str(&format!(
                "\n  {} missing (not complete in any folder): {}",
                missing.len(),
                list(&missing)
            ));
        }
        if !duplicate.is_empty() {
            m.push_str(&format!(
                "\n  {} present more than once: {}",
                duplicate.len(),
                list(&duplicate)
            ));
        }
        return Err(BatchError::Failure(m));
    }
    let unknown = unknown_runs(&dirs, &plan);

    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", first.name)));
    prepare_out(&out, &dirs, first)?;
    let out_canon = fs::canonicalize(&out).map_err(|e| BatchError::io(&out, e))?;
    let mut copied = 0;
    for (run, &k) in plan.runs.iter().zip(&source) {
        if dirs[k].1 == out_canon || first.is_complete(&out, &plan, run) {
            continue;
        }
        copy_run(&dirs[k].0.join(file::RUNS_DIR).join(&run.id), &out, &run.id)?;
        copied += 1;
    }
    let mut manifest = first.clone();
    manifest.runs = records(&plan, &vec![(Status::Complete, None); plan.runs.len()]);
    manifest.write(&out, "merge")?;
    let complete = |r: &super::RunSpec| first.is_complete(&out, &plan, r);
    let (table, _) = sweep_summary(&plan, &out, &complete)?;
    // The runs' formats (every run of a sweep has the same `output.formats`).
    let formats = plan
        .runs
        .first()
        .map(|r| run_formats(&out.join(file::RUNS_DIR).join(&r.id)))
        .unwrap_or_default();
    write_sweep_summary(&out, &table, &formats, "merge")?;
    // The merged sweep's plots and report.html (cloudtwin::report), from the CSVs on disk.
    crate::report::rebuild(&out, &Default::default())
        .map_err(|e| BatchError::Failure(e.to_string()))?;
    Ok(MergeReport {
        dir: out,
        runs: plan.runs.len(),
        copied,
        unknown,
    })
}

/// At most 20 items, then a count.
fn list(items: &[String]) -> String {
    let mut s = items
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > 20 {
        s.push_str(&format!(", ... ({} more)", items.len() - 20));
    }
    s
}

/// Non-hidden folders under `runs/` of the inputs that are not runs of the plan.
fn unknown_runs(dirs: &[(PathBuf, PathBuf)], plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for (d, _) in dirs {
        let Ok(entries) = fs::read_dir(d.join(file::RUNS_DIR)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| !n.starts_with('.') && plan.find(n).is_none())
            .collect();
        names.sort();
        out.extend(
            names
                .into_iter()
                .map(|n| format!("{}/{}/{n}", d.display(), file::RUNS_DIR)),
        );
    }
    out
}

/// Checks the output folder can take the merge: an input, the same sweep, empty or new.
fn prepare_out(
    out: &Path,
    dirs: &[(PathBuf, PathBuf)],
    first: &SweepManifest,
) -> Result<(), BatchError> {
    if out.exists() {
        let canon = fs::canonicalize(out).map_err(|e| BatchError::io(out, e))?;
        if !dirs.iter().any(|(_, c)| *c == canon) {
            match SweepManifest::read(out)? {
                Some(m) if m.sweep_hash == first.sweep_hash => {}
                Some(_) => {
                    return Err(BatchError::BadInput(format!(
                        "{} holds another sweep: choose another --out",
                        out.display()
                    )));
                }
                None => {
                    let empty = out.is_dir()
                        && fs::read_dir(out)
                            .map_err(|e| BatchError::io(out, e))?
                            .next()
                            .is_none();
                    if !empty {
                        return Err(BatchError::BadInput(format!(
                            "{} exists and is not a sweep folder: choose another --out",
                            out.display()
                        )));
                    }
                }
            }
        }
    }
    let runs = out.join(file::RUNS_DIR);
    fs::create_dir_all(&runs).map_err(|e| BatchError::io(&runs, e))
}

/// Copies a run folder into `out/runs/<id>` atomically (temporary sibling, then rename).
fn copy_run(src: &Path, out: &Path, id: &str) -> Result<(), BatchError> {
    let runs = out.join(file::RUNS_DIR);
    let target = runs.join(id);
    let tmp = runs.join(format!(".{id}.merge-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| BatchError::io(&tmp, e))?;
    }
    copy_dir(src, &tmp)?;
    if target.exists() {
        fs::remove_dir_all(&target).map_err(|e| BatchError::io(&target, e))?;
    }
    fs::rename(&tmp, &target).map_err(|e| BatchError::io(&target, e))
}

fn copy_dir(src: &Path, dst: &Path) -> Result<(), BatchError> {
    fs::create_dir_all(dst).map_err(|e| BatchError::io(dst, e))?;
    let mut entries: Vec<_> = fs::read_dir(src)
        .map_err(|e| BatchError::io(src, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let to = dst.join(p.file_name().expect("entry has a name"));
        if p.is_dir() {
            copy_dir(&p, &to)?;
        } else {
            fs::copy(&p, &to).map_err(|e| BatchError::io(&p, e))?;
        }
    }
    Ok(())
}
