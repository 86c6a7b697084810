//! `cloudtwin run SCENARIO`: run one scenario and write its results folder.

use super::{CliError, parse_overrides};
use clap::Args;
use cloudtwin::engine::{Progress, RunControl};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Seed of the run (overrides simulation.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results folder (default: results/<name>-seed<seed>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Override a key, e.g. --set lifecycle.create_failure_p=0.1 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Replace the results folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run even when the size estimate says the run does not fit this machine (memory, rows
    /// per table, events).
    #[arg(long)]
    pub no_size_check: bool,
}

pub fn run(a: RunArgs) -> Result<(), CliError> {
    let mut sets = a.sets.clone();
    if let Some(seed) = a.seed {
        sets.push(format!("simulation.seed={seed}"));
    }
    let overrides = parse_overrides(&sets)?;
    // Estimate before building anything: a run too big for the machine stops here.
    let draft = cloudtwin::scenario::read(&a.scenario, &overrides)?;
    let estimate = super::size::gate(&draft, a.no_size_check)?;
    let loaded = draft.build()?;
    let target = a
        .out
        .clone()
        .unwrap_or_else(|| cloudtwin::run::default_out_dir(&loaded));
    // Refuse an existing folder before spending time on the run.
    let dir = super::results_dir(&target, a.force)?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Ctrl-C stops the run at the next check; the temporary folder is then removed.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    if !a.quiet {
        eprintln!("{}", cloudtwin::size::one_line(&estimate));
    }
    // Progress in simulated milliseconds: the ETA is the simulated time left over the recent
    // rate of simulated time (indicatif's moving estimate), with events against the estimate.
    let horizon = loaded.scenario.simulation.duration;
    let bar = ProgressBar::with_draw_target(
        Some(horizon.as_nanos().div_ceil(1_000_000).max(1)),
        if a.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {percent:>3}% of {msg}  ETA {eta}",
        )
        .expect("valid template"),
    );
    if !a.quiet {
        // Redraws (elapsed time, spinner) even while one long event runs.
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
    }
    let expected = cloudtwin::size::fmt_count(estimate.event_count());
    let started = Instant::now();
    let mut observer = |p: Progress| {
        bar.set_position(p.now.as_nanos() / 1_000_000);
        bar.set_message(format!(
            "{horizon} simulated ({} of ~{expected} events)",
            cloudtwin::size::fmt_count(p.events as f64)
        ));
        !stop.load(Ordering::Relaxed)
    };
    let out = cloudtwin::run::simulate(&loaded, &mut RunControl::every(1 << 14, &mut observer));
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    if out.interrupted {
        drop(dir);
        return Err(CliError {
            code: 130,
            message: "interrupted: nothing was written".into(),
        });
    }
    let path =
        cloudtwin::run::write_results(&loaded, &out, dir, wall).map_err(CliError::failure)?;
    if !a.quiet {
        let s = &loaded.scenario.simulation;
        println!(
            "{} (seed {}): {} clouds, {} VMs, {} simulated in {:.2} s wall ({:.0} events/s)",
            s.name,
            s.seed,
            loaded.clouds().len(),
            loaded.total_vms(),
            s.duration,
            wall,
            out.events as f64 / wall.max(1e-9)
        );
        for (metric, value) in out.summary.rows() {
            println!("  {metric:<28} {value}");
        }
        println!("results: {}", path.display());
    }
    Ok(())
}
