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
    /// Threads for the run (2: the monitoring pipeline's collecting side on a thread of its
    /// own; the results are the same). Default: 2 on a machine with two cores or more.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

pub fn run(a: RunArgs) -> Result<(), CliError> {
    let opts = cloudtwin::run::RunOptions {
        threads: super::threads_arg(a.threads)?
            .unwrap_or(cloudtwin::run::RunOptions::default().threads),
        ..Default::default()
    };
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
    let bar = ProgressBar::with_draw_target(
        Some(1000),
        if a.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {msg}")
            .expect("valid template"),
    );
    if !a.quiet {
        // Redraws (elapsed time, spinner) even while one long event runs.
        bar.enable_steady_tick(std::time::Duration::from_millis(250));
    }
    let mut eta = Eta::new(
        estimate.engine_events(),
        loaded.scenario.simulation.duration,
    );
    let started = Instant::now();
    let mut observer = |p: Progress| {
        let (fraction, msg) = eta.update(started.elapsed().as_secs_f64(), p.now, p.events);
        bar.set_position((fraction * 1000.0) as u64);
        bar.set_message(msg);
        !stop.load(Ordering::Relaxed)
    };
    let out = cloudtwin::run::simulate_opts(
        &loaded,
        &mut RunControl::every(1 << 14, &mut observer),
        opts,
    );
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
        outln!(
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
            outln!("  {metric:<28} {value}");
        }
        // The estimate against what the run took (the write phase included).
        if let Some(peak) = super::size::peak_rss() {
            outln!(
                "peak memory: {} measured, {} estimated",
                cloudtwin::size::fmt_bytes(peak),
                cloudtwin::size::fmt_bytes(estimate.peak_bytes())
            );
        }
        outln!("results: {}", path.display());
    }
    Ok(())
}

/// The progress of a run and an honest time left: the events still to come over the recent
/// event rate. The events to come are the size estimate's, or, once the run has passed the
/// estimate, the events so far extrapolated over the simulated time left (simulated time alone
/// would lie where the load ramps up: the default scenario's first simulated minutes have few
/// agents and go by fast).
struct Eta {
    expected: f64,
    horizon: cloudtwin::engine::SimDuration,
    /// (wall seconds, events) over the last few seconds.
    recent: std::collections::VecDeque<(f64, u64)>,
}

impl Eta {
    /// Seconds of wall time the rate is measured over.
    const WINDOW_S: f64 = 10.0;

    fn new(expected: f64, horizon: cloudtwin::engine::SimDuration) -> Self {
        Eta {
            expected,
            horizon,
            recent: Default::default(),
        }
    }

    /// The fraction done and the bar's message, at `wall` seconds, simulated time `now` and
    /// `events` so far.
    fn update(&mut self, wall: f64, now: cloudtwin::engine::SimTime, events: u64) -> (f64, String) {
        use cloudtwin::size::{fmt_count, fmt_wall, short_duration};
        self.recent.push_back((wall, events));
        while self
            .recent
            .front()
            .is_some_and(|(t, _)| wall - t > Self::WINDOW_S && self.recent.len() > 2)
        {
            self.recent.pop_front();
        }
        let sim = now.as_nanos() as f64 / self.horizon.as_nanos().max(1) as f64;
        let done = events as f64;
        let total = if done < self.expected {
            self.expected
        } else {
            done / sim.clamp(1e-9, 1.0)
        };
        let fraction = (done / total).clamp(0.0, 1.0);
        let (t0, e0) = self.recent.front().copied().unwrap_or((wall, events));
        let rate = if wall - t0 >= 0.5 {
            (done - e0 as f64) / (wall - t0)
        } else {
            0.0
        };
        let left = if rate > 0.0 {
            fmt_wall((total - done).max(0.0) / rate)
        } else {
            "?".into()
        };
        // Simulated time to the second (to the millisecond in runs shorter than a minute).
        let unit: u64 = if self.horizon.as_nanos() < 60_000_000_000 {
            1_000_000
        } else {
            1_000_000_000
        };
        let at = cloudtwin::engine::SimDuration(now.as_nanos() / unit * unit);
        let msg = format!(
            "{:>3.0}%  {at} of {} simulated, {} of ~{} events  ETA {left}",
            fraction * 100.0,
            short_duration(self.horizon),
            fmt_count(done),
            fmt_count(total)
        );
        (fraction, msg)
    }
}
