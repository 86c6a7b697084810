//! `cloudtwin report DIR`: rebuild `plots/` and `report.html` of a results or sweep folder from
//! its CSV files alone (see `cloudtwin::report`), atomically.

use super::CliError;
use clap::Args;
use cloudtwin::report::{Options, ReportError};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Results folder of a run, or a sweep folder (with sweep_summary.csv).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Sweep metric to plot against the varied key (repeatable; default: a choice of those that
    /// vary across points).
    #[arg(long = "metric", value_name = "NAME")]
    pub metrics: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn report(a: ReportArgs) -> Result<(), CliError> {
    let opts = Options {
        sweep_metrics: a.metrics.clone(),
    };
    let r = cloudtwin::report::rebuild(&a.dir, &opts).map_err(|e| match e {
        ReportError::BadInput(m) => CliError::bad_input(m),
        e @ ReportError::Io { .. } => CliError::failure(e),
    })?;
    if !a.quiet {
        outln!(
            "{} plot{} in {}",
            r.plots.len(),
            if r.plots.len() == 1 { "" } else { "s" },
            a.dir
                .join(cloudtwin::output::names::file::PLOTS_DIR)
                .display()
        );
        for s in &r.skipped {
            outln!("  not plotted: {}: {}", s.name, s.reason);
        }
        outln!(
            "report: {}",
            a.dir.join(cloudtwin::output::names::file::REPORT).display()
        );
    }
    Ok(())
}
