//! Reports: plots (SVG and PNG) and one self-contained `report.html` per results folder.
//!
//! Everything here reads a results folder's tables (CSV files, or Parquet files where a run
//! wrote only those: `crate::output::read`), never the in-memory run, so
//! `cloudtwin report DIR` rebuilds the same bytes from the CSVs alone (a copied or merged folder
//! included). A plot whose CSV is absent, or has no data, is skipped and listed in the report;
//! only I/O errors and a folder that is neither a run's nor a sweep's are errors.
//!
//! | plot (`plots/<name>.svg`, `.png`) | from |
//! |---|---|
//! | `vm_states`: VM statuses over time, stacked | `vm_states.csv` (summed over clouds) |
//! | `provisioning_cdf`: MCIS request to first Running, per provider | `vm_events.csv`, else `provider_api.csv` (the first `vms_provisioned` `agent_registrations`, binned) |
//! | `monitoring_load`: reports/s, collectors, backlogs, drops | `monitoring.csv` |
//! | `monitoring_delay`: delay p50/p95 and active agents | `monitoring.csv` |
//! | `rtt_heatmap`: cloud x cloud RTT p50, by provider then longitude | `cloud_rtt.csv`, `clouds.csv` |
//! | `control_<mcis>`: mean CPU, thresholds, VM count, actions | `control.csv`, `control_samples.csv`, `control_actions.csv`, `scenario.toml` |
//! | `sweep_<metric>`: a metric against the varied key, 95% CI bars | `sweep_summary.csv` |
//!
//! Outside any folder's report, [`scaling`] draws the repository's `plots/scaling.svg` (wall time
//! and peak memory against VMs) from `benches/scaling/scaling.csv`.
//!
//! Output is deterministic: the same CSVs give byte-identical SVG, PNG and HTML files (no clock,
//! no hash-ordered iteration, fixed number formatting, one embedded font, fixed PNG encoder
//! settings). Large files (`vm_states.csv`, `vm_events.csv`) are streamed, not held.
//!
//! Entry points: [`build`] (in memory), [`write_into`] (a folder nobody sees yet: `run::write_results`
//! calls it on a run's temporary folder before committing it) and [`rebuild`] (an existing
//! folder, atomically: `cloudtwin report DIR`, and the sweep and merge writers).
//!
//! - [`data`]: reading CSVs by column name, number parsing and formatting.
//! - [`canvas`]: the font, sizes, colours, legends, axes and SVG/PNG rendering of a figure.
//! - one module per plot kind, and [`html`] for the page.

pub mod canvas;
pub mod control;
pub mod data;
pub mod html;
pub mod monitoring;
pub mod provisioning;
pub mod rtt;
pub mod scaling;
pub mod sweep;
pub mod vm_states;

use crate::output::names::file;
use std::fs;
use std::path::{Path, PathBuf};

/// What to put in a report beyond what the folder's files decide.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Sweep metrics to plot (`sweep_summary.csv` metric names); empty: a default choice
    /// ([`sweep::default_metrics`]).
    pub sweep_metrics: Vec<String>,
}

/// Why a report cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The folder is not a results or sweep folder (exit 2 at the command line).
    #[error("{0}")]
    BadInput(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

impl ReportError {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        ReportError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// One rendered plot.
#[derive(Clone, Debug)]
pub struct Plot {
    /// File stem in `plots/` (`vm_states` gives `vm_states.svg` and `vm_states.png`).
    pub name: String,
    pub title: String,
    /// What the plot shows and where it comes from (shown under it in the report).
    pub caption: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// A plot left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// A report built in memory: the plots and the page.
#[derive(Clone, Debug)]
pub struct Report {
    pub plots: Vec<Plot>,
    pub skipped: Vec<Skipped>,
    pub html: String,
}

/// The outcome of one plot kind: plots, or a reason to skip it.
pub(crate) type Outcome = Result<Vec<Plot>, String>;

/// Builds the plots and the page of results folder (or sweep folder) `dir` from its files.
pub fn build(dir: &Path, opts: &Options) -> Result<Report, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::BadInput(format!(
            "{} is not a folder",
            dir.display()
        )));
    }
    let is_run = crate::output::read::exists(dir, file::SUMMARY);
    let is_sweep = crate::output::read::exists(dir, file::SWEEP_SUMMARY);
    if !is_run && !is_sweep {
        return Err(ReportError::BadInput(format!(
            "{} is not a results folder (no summary.csv) nor a sweep folder (no {})",
            dir.display(),
            file::SWEEP_SUMMARY
        )));
    }
    let mut plots = Vec::new();
    let mut skipped = Vec::new();
    let mut add = |name: &str, outcome: Outcome| match outcome {
        Ok(p) => plots.extend(p),
        Err(reason) => skipped.push(Skipped {
            name: name.to_string(),
            reason,
        }),
    };
    if is_run {
        add("vm_states", guarded(|| vm_states::plots(dir))?);
        add("provisioning_cdf", guarded(|| provisioning::plots(dir))?);
        add("monitoring_load", guarded(|| monitoring::load_plots(dir))?);
        add(
            "monitoring_delay",
            guarded(|| monitoring::delay_plots(dir))?,
        );
        add("rtt_heatmap", guarded(|| rtt::plots(dir))?);
        add("control", guarded(|| control::plots(dir))?);
    }
    if is_sweep {
        add("sweep", guarded(|| sweep::plots(dir, &opts.sweep_metrics))?);
    }
    let html = html::page(dir, &plots, &skipped, opts)?;
    Ok(Report {
        plots,
        skipped,
        html,
    })
}

/// Runs one plot kind; a panic in plotting becomes a skipped plot, not a lost run.
fn guarded(
    f: impl FnOnce() -> Result<Outcome, ReportError> + std::panic::UnwindSafe,
) -> Result<Outcome, ReportError> {
    match std::panic::catch_unwind(f) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Ok(Err(format!("plotting failed: {msg}")))
        }
    }
}

/// Writes `report`'s plots into `plots_dir` (created).
fn write_plots(report: &Report, plots_dir: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(plots_dir).map_err(|e| ReportError::io(plots_dir, e))?;
    for p in &report.plots {
        let svg = plots_dir.join(format!("{}.svg", p.name));
        fs::write(&svg, p.svg.as_bytes()).map_err(|e| ReportError::io(&svg, e))?;
        let png = plots_dir.join(format!("{}.png", p.name));
        fs::write(&png, &p.png).map_err(|e| ReportError::io(&png, e))?;
    }
    Ok(())
}

/// Builds the report of `dir` and writes `plots/` and `report.html` into it with plain writes:
/// for a folder nobody sees yet (a run's temporary results folder, committed afterwards).
pub fn write_into(dir: &Path, opts: &Options) -> Result<Report, ReportError> {
    let report = build(dir, opts)?;
    if !report.plots.is_empty() {
        write_plots(&report, &dir.join(file::PLOTS_DIR))?;
    }
    let page = dir.join(file::REPORT);
    fs::write(&page, report.html.as_bytes()).map_err(|e| ReportError::io(&page, e))?;
    Ok(report)
}

/// A suffix for temporary names, unique across processes and hosts sharing a folder (host
/// name, process id, counter; the library reads no clock).
fn temp_tag() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let host: String = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{host}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Rebuilds `plots/` and `report.html` of an existing folder from its CSVs, atomically: the
/// plots go to a hidden temporary folder that replaces `plots/` by renames, the page to a
/// temporary file renamed over `report.html`. On an error the old report stays.
pub fn rebuild(dir: &Path, opts: &Options) -> Result<Report, ReportError> {
    let report = build(dir, opts)?;
    let tag = temp_tag();
    let plots = dir.join(file::PLOTS_DIR);
    let tmp = dir.join(format!(".{}.tmp-{tag}", file::PLOTS_DIR));
    let old = dir.join(format!(".{}.old-{tag}", file::PLOTS_DIR));
    let page_tmp = dir.join(format!(".{}.tmp-{tag}", file::REPORT));
    let cleanup = |paths: &[&PathBuf]| {
        for p in paths {
            if p.is_dir() {
                let _ = fs::remove_dir_all(p);
            } else {
                let _ = fs::remove_file(p);
            }
        }
    };
    let result = (|| {
        cleanup(&[&tmp, &old, &page_tmp]);
        write_plots(&report, &tmp)?;
        fs::write(&page_tmp, report.html.as_bytes()).map_err(|e| ReportError::io(&page_tmp, e))?;
        if plots.exists() {
            fs::rename(&plots, &old).map_err(|e| ReportError::io(&plots, e))?;
        }
        if report.plots.is_empty() {
            fs::remove_dir_all(&tmp).map_err(|e| ReportError::io(&tmp, e))?;
        } else {
            fs::rename(&tmp, &plots).map_err(|e| ReportError::io(&plots, e))?;
        }
        let page = dir.join(file::REPORT);
        fs::rename(&page_tmp, &page).map_err(|e| ReportError::io(&page, e))?;
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| ReportError::io(&old, e))?;
        }
        Ok(())
    })();
    if result.is_err() {
        // Put the old plots back if they were moved aside.
        if old.exists() && !plots.exists() {
            let _ = fs::rename(&old, &plots);
        }
        cleanup(&[&tmp, &old, &page_tmp]);
    }
    result.map(|()| report)
}
