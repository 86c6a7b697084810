//! `cloudtwin sweep SCENARIO --vary key=v1,v2 ...`: a grid of points x replications, run on all
//! cores (or one shard of it), each run in `runs/<run-id>/`, statistics in `sweep_summary.csv`.
//! The work is in `cloudtwin::batch`; here are the arguments, the clock, Ctrl-C and the
//! progress bar.

use super::CliError;
use clap::Args;
use cloudtwin::batch::{
    Axis, BatchError, Hooks, RunSpec, RunStatus, Shard, Sweep, SweepReport, SweepSession,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file (TOML); an optional [sweep] table gives axes and replications.
    pub scenario: PathBuf,
    /// Vary a key over values, e.g. --vary lifecycle.create_failure_p=0.1,0.2 (repeatable;
    /// values are read like --set values).
    #[arg(long = "vary", value_name = "KEY=V1,V2,...")]
    pub vary: Vec<String>,
    /// Runs per point, each with its own seed (default: [sweep] replications, else 1).
    #[arg(long, short = 'r', value_name = "R")]
    pub replications: Option<u32>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Sweep folder (default: results/<name>-sweep).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only shard i of n (0-based: 0/3, 1/3, 2/3), or `auto` for the shard of this Slurm
    /// array task or Kubernetes Indexed Job pod.
    #[arg(long, value_name = "i/n|auto")]
    pub shard: Option<String>,
    /// Number of shards for --shard auto (default: CLOUDTWIN_SHARDS, else Slurm's array size).
    #[arg(long, value_name = "N", requires = "shard")]
    pub shard_count: Option<u32>,
    /// Override a key in every run, e.g. --set simulation.duration=30m (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run every run of the shard again, replacing its results (and another sweep's folder).
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run even when the size estimate says a point does not fit this machine, and run
    /// `--threads` runs at once whatever their estimated memory.
    #[arg(long)]
    pub no_size_check: bool,
}

fn batch_err(e: BatchError) -> CliError {
    match e {
        BatchError::BadInput(m) => CliError::bad_input(m),
        BatchError::Failure(m) => CliError::failure(m),
    }
}

fn shard_of(a: &SweepArgs) -> Result<Shard, CliError> {
    match a.shard.as_deref() {
        None => {
            if a.shard_count.is_some() {
                return Err(CliError::bad_input("--shard-count needs --shard auto"));
            }
            Ok(Shard::ALL)
        }
        Some("auto") => {
            let env = |k: &str| std::env::var(k).ok();
            Shard::auto(&env, a.shard_count).map_err(CliError::bad_input)
        }
        Some(s) => {
            if a.shard_count.is_some() {
                return Err(CliError::bad_input(
                    "--shard-count only applies to --shard auto (--shard i/n gives the count)",
                ));
            }
            Shard::parse(s).map_err(CliError::bad_input)
        }
    }
}

pub fn sweep(a: SweepArgs) -> Result<(), CliError> {
    if a.threads == Some(0) {
        return Err(CliError::bad_input("--threads must be at least 1"));
    }
    let axes: Vec<Axis> = a
        .vary
        .iter()
        .map(|v| Axis::parse(v).map_err(CliError::bad_input))
        .collect::<Result<_, _>>()?;
    let shard = shard_of(&a)?;
    let limits = super::size::limits();
    let checked = (!a.no_size_check).then_some(&limits);
    let sweep =
        Sweep::prepare(&a.scenario, &a.sets, &axes, a.replications, checked).map_err(batch_err)?;
    let threads = in_flight(&a, &sweep, &limits)?;
    let out = a.out.clone().unwrap_or_else(|| sweep.default_out_dir());
    let session = SweepSession::open(&sweep, &out, shard, a.force).map_err(batch_err)?;

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Ctrl-C: runs in progress are dropped (nothing written); complete ones stay.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let bar = ProgressBar::with_draw_target(
        Some(session.todo.len() as u64),
        if a.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs  {msg}  ETA {eta}",
        )
        .expect("valid template"),
    );
    let done_ok = AtomicUsize::new(0);
    let done_failed = AtomicUsize::new(0);
    bar.set_message("0 ok, 0 failed");
    let started = Instant::now();
    let clock = move || started.elapsed().as_secs_f64();
    let on_done = |run: &RunSpec, status: &RunStatus| {
        match status {
            RunStatus::Complete => {
                done_ok.fetch_add(1, Ordering::Relaxed);
            }
            RunStatus::Failed(m) => {
                done_failed.fetch_add(1, Ordering::Relaxed);
                bar.suspend(|| eprintln!("run {} failed: {m}", run.id));
            }
            RunStatus::Interrupted => {}
        }
        bar.inc(1);
        bar.set_message(format!(
            "{} ok, {} failed",
            done_ok.load(Ordering::Relaxed),
            done_failed.load(Ordering::Relaxed)
        ));
    };
    let hooks = Hooks {
        clock: &clock,
        stop: &stop,
        on_done: &on_done,
    };
    // (No --threads and no memory limit: rayon's own default, as before.)
    let pool = (a.threads.is_some() || Some(threads) != default_threads()).then_some(threads);
    let results = session.execute(pool, &hooks).map_err(batch_err)?;
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let report = session.finish(&results).map_err(batch_err)?;
    if !a.quiet {
        print_report(&sweep, &report, wall);
    }
    exit_status(&sweep, &report)
}

/// Runs to keep in flight: the threads asked for (default one per core), fewer when that many
/// of the largest point's runs would not fit in memory (said on stderr). Refused when not even
/// one fits (exit 2), unless `--no-size-check`.
fn in_flight(
    a: &SweepArgs,
    sweep: &Sweep,
    limits: &cloudtwin::size::Limits,
) -> Result<usize, CliError> {
    use cloudtwin::size::fmt_bytes;
    let threads = a.threads.or_else(default_threads).unwrap_or(1);
    if a.no_size_check {
        return Ok(threads);
    }
    let (point, estimate) = &sweep.largest;
    let peak = estimate.peak_bytes();
    let describe = || {
        format!(
            "sweep point {} ({})",
            sweep.plan.grid.point_id(*point),
            sweep.plan.grid.describe(*point)
        )
    };
    match cloudtwin::batch::runs_in_flight(threads, limits.memory_bytes, peak) {
        Ok(n) => {
            if n < threads && !a.quiet {
                eprintln!(
                    "running {n} runs at a time, not {threads}: a run of {} may take ~{} of the \
                     {} available",
                    describe(),
                    fmt_bytes(peak),
                    fmt_bytes(limits.memory_bytes.unwrap_or(0.0))
                );
            }
            Ok(n)
        }
        Err(avail) => Err(CliError::bad_input(format!(
            "{}: a run of {} needs about {} of memory; this machine has {} available ({})",
            sweep.origin,
            describe(),
            fmt_bytes(peak),
            fmt_bytes(avail),
            super::size::OVERRIDE_HINT
        ))),
    }
}

/// One run per core.
fn default_threads() -> Option<usize> {
    std::thread::available_parallelism().ok().map(|n| n.get())
}

fn print_report(sweep: &Sweep, r: &SweepReport, wall: f64) {
    let plan = &sweep.plan;
    let shard = if r.shard.is_all() {
        String::new()
    } else {
        format!(", shard {}", r.shard)
    };
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    outln!(
        "sweep {}: {} x {} = {}{shard}",
        sweep.name(),
        plural(plan.grid.len(), "point"),
        plural(plan.replications as usize, "replication"),
        plural(plan.runs.len(), "run"),
    );
    outln!(
        "  ran {}, skipped {} (already complete), failed {}{} in {wall:.2} s wall; \
         {} of {} runs complete in the folder",
        r.ran,
        r.skipped,
        r.failed.len(),
        if r.interrupted > 0 {
            format!(", interrupted {}", r.interrupted)
        } else {
            String::new()
        },
        r.complete,
        r.total
    );
    match r.summary_runs {
        Some(n) => outln!(
            "  {} over {n} runs",
            r.dir
                .join(cloudtwin::output::names::file::SWEEP_SUMMARY)
                .display()
        ),
        None if r.complete < r.total && !r.shard.is_all() => {
            outln!("  when every shard is done: cloudtwin merge <the shards' folders> [--out DIR]")
        }
        None => {}
    }
    outln!("results: {}", r.dir.display());
}

fn exit_status(sweep: &Sweep, r: &SweepReport) -> Result<(), CliError> {
    if r.interrupted > 0 {
        return Err(CliError {
            code: 130,
            message: format!(
                "interrupted: {} of {} runs complete in {}; run the same command again to resume",
                r.complete,
                r.total,
                r.dir.display()
            ),
        });
    }
    if r.failed.is_empty() {
        return Ok(());
    }
    for (run, m) in &r.failed {
        eprintln!(
            "error: run {} (point {}: {}; seed {}) failed: {m}",
            run.id,
            sweep.plan.grid.point_id(run.point),
            sweep.plan.grid.describe(run.point),
            run.seed
        );
    }
    let ids: Vec<&str> = r.failed.iter().map(|(run, _)| run.id.as_str()).collect();
    Err(CliError::failure(format!(
        "{} of {} runs failed ({}); the other runs' results are in {}",
        r.failed.len(),
        r.ran + r.failed.len(),
        ids.join(", "),
        r.dir.display()
    )))
}
