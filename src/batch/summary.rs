//! `sweep_summary.csv`: per point and metric of the runs' `summary.csv`, the number of values,
//! mean, standard deviation and Student-t 95% confidence interval of the mean.
//!
//! Tidy layout, one row per (point, metric), points in grid order and metrics in `summary.csv`
//! order: `point,<each varied key>,metric,n,mean,sd,ci95_low,ci95_high`. Empty values (a metric
//! undefined in a run) are left out of `n`; `sd` and the interval are empty below two values.
//! It is computed from the run folders on disk, summing in replication order, so a sweep and a
//! merge of its shards write the same bytes. Runs written with `output.formats = ["parquet"]`
//! are read from their `summary.parquet`, and the summary is written in the runs' formats
//! (`sweep_summary.parquet` beside or instead of the CSV file).

use super::plan::Plan;
use super::plan::RunSpec;
use super::{BatchError, write_atomic};
use crate::output::names::file;
use crate::output::table::fmt_f64;
use crate::output::{Table, parquet};
use crate::scenario::{Format, OutputSpec};
use crate::stats::student_t_975;
use std::path::Path;

/// Mean, sd and 95% CI of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

/// Statistics of `values` summed in the order given (sample sd, t interval; NaN when undefined).
pub fn stats(values: &[f64]) -> Stats {
    let n = values.len();
    if n == 0 {
        return Stats {
            n,
            mean: f64::NAN,
            sd: f64::NAN,
            ci95_low: f64::NAN,
            ci95_high: f64::NAN,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Stats {
            n,
            mean,
            sd: f64::NAN,
            ci95_low: f64::NAN,
            ci95_high: f64::NAN,
        };
    }
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    let half = student_t_975(n - 1) * sd / (n as f64).sqrt();
    Stats {
        n,
        mean,
        sd,
        ci95_low: mean - half,
        ci95_high: mean + half,
    }
}

/// The `metric,value` rows of the summary of run folder `run_dir` (`summary.csv`, or
/// `summary.parquet` for a run that wrote only Parquet); empty or non-numeric values as None.
pub fn read_run_summary(run_dir: &Path) -> Result<Vec<(String, Option<f64>)>, BatchError> {
    let (_, rows) = crate::output::read::read(run_dir, file::SUMMARY)
        .map_err(|e| BatchError::Failure(e.to_string()))?
        .ok_or_else(|| {
            BatchError::Failure(format!(
                "{}: no {} (nor its Parquet file)",
                run_dir.display(),
                file::SUMMARY
            ))
        })?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let metric = r.first().cloned().unwrap_or_default();
            let value = r.get(1).and_then(|v| v.trim().parse::<f64>().ok());
            (metric, value)
        })
        .collect())
}

/// `sweep_summary.csv` over the runs of sweep folder `dir` that are `complete`; also returns how
/// many runs it covers.
pub fn sweep_summary(
    plan: &Plan,
    dir: &Path,
    complete: &dyn Fn(&RunSpec) -> bool,
) -> Result<(Table, usize), BatchError> {
    let mut header = vec!["point".to_string()];
    header.extend(plan.grid.axes.iter().map(|a| a.key.clone()));
    header.extend(
        ["metric", "n", "mean", "sd", "ci95_low", "ci95_high"]
            .iter()
            .map(|s| s.to_string()),
    );
    let mut w = Table::new(
        file::SWEEP_SUMMARY,
        &header.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mut used = 0;
    for p in 0..plan.grid.len() {
        // metric -> values, metrics in order of first appearance.
        let mut metrics: Vec<(String, Vec<f64>)> = Vec::new();
        for run in plan.point_runs(p) {
            if !complete(run) {
                continue;
            }
            used += 1;
            let rows = read_run_summary(&dir.join(file::RUNS_DIR).join(&run.id))?;
            for (metric, value) in rows {
                let i = match metrics.iter().position(|(m, _)| *m == metric) {
                    Some(i) => i,
                    None => {
                        metrics.push((metric, Vec::new()));
                        metrics.len() - 1
                    }
                };
                if let Some(v) = value {
                    metrics[i].1.push(v);
                }
            }
        }
        let cells = plan.grid.cells(p);
        for (metric, values) in &metrics {
            let s = stats(values);
            let mut row = vec![plan.grid.point_id(p)];
            row.extend(cells.iter().cloned());
            row.push(metric.clone());
            row.push(s.n.to_string());
            row.extend([s.mean, s.sd, s.ci95_low, s.ci95_high].map(fmt_f64));
            w.push(row);
        }
    }
    Ok((w, used))
}

/// Writes the sweep summary into sweep folder `dir` atomically, in the runs' formats:
/// `sweep_summary.csv` and/or `sweep_summary.parquet`.
pub fn write_sweep_summary(
    dir: &Path,
    table: &Table,
    formats: &OutputSpec,
    tag: &str,
) -> Result<(), BatchError> {
    if formats.csv() {
        write_atomic(&dir.join(file::SWEEP_SUMMARY), &table.to_csv(), tag)?;
    }
    if formats.parquet() {
        let path = dir.join(parquet::file_name(file::SWEEP_SUMMARY));
        let bytes = parquet::to_bytes(table).map_err(|e| BatchError::io(&path, e))?;
        write_atomic(&path, &bytes, tag)?;
    }
    Ok(())
}

/// The table formats a run folder was written in: `output.formats` of its `scenario.toml`
/// (absent: the default, CSV).
pub fn run_formats(run_dir: &Path) -> OutputSpec {
    let mut spec = OutputSpec::default();
    let listed = std::fs::read_to_string(run_dir.join(file::SCENARIO))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("output")?.get("formats")?.as_array().cloned());
    if let Some(list) = listed {
        let formats: Vec<Format> = list
            .iter()
            .filter_map(|v| match v.as_str()? {
                "csv" => Some(Format::Csv),
                "parquet" => Some(Format::Parquet),
                _ => None,
            })
            .collect();
        if !formats.is_empty() {
            spec.formats = formats;
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_sd_and_t_interval() {
        let s = stats(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, 2.5);
        assert!((s.sd - 1.2909944487358056).abs() < 1e-12);
        let half = 3.182 * s.sd / 2.0;
        assert!((s.ci95_low - (2.5 - half)).abs() < 1e-12);
        assert!((s.ci95_high - (2.5 + half)).abs() < 1e-12);
        let one = stats(&[7.0]);
        assert_eq!((one.n, one.mean), (1, 7.0));
        assert!(one.sd.is_nan() && one.ci95_low.is_nan());
        assert!(stats(&[]).mean.is_nan());
        let same = stats(&[5.0, 5.0, 5.0]);
        assert_eq!((same.sd, same.ci95_low, same.ci95_high), (0.0, 5.0, 5.0));
    }
}
