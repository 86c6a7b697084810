//! Command-line interface: typed options (clap), one file per command, exit codes
//! 0 = ok, 1 = failure, 2 = bad input (scenario or arguments), 130 = interrupted.

mod bench;
mod latency;
mod merge;
mod replay;
mod report;
mod run;
mod serve;
mod size;
mod sweep;
mod validate;

use clap::{Parser, Subcommand};
use std::fmt;

#[derive(Parser, Debug)]
#[command(
    name = "cloudtwin",
    version,
    about = "Deterministic discrete-event simulator of large multi-cloud environments",
    long_about = "Simulates clouds, VMs and the Cloud-Barista management plane (CB-Tumblebug, \
                  CB-Dragonfly, CLADNet) from a TOML scenario. The same scenario and seed give \
                  byte-identical results."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write its results folder.
    Run(run::RunArgs),
    /// Check a scenario and print it resolved (every default filled in).
    Validate(validate::ValidateArgs),
    /// Measure the engine's speed.
    Bench(bench::BenchArgs),
    /// Print the inter-region RTT matrix of the latency model (`latency fit` re-calibrates it).
    Latency(latency::LatencyArgs),
    /// Run a grid of parameter values x replications on all cores (or one shard of it).
    Sweep(sweep::SweepArgs),
    /// Combine the folders of a sharded sweep and write its sweep_summary.csv.
    Merge(merge::MergeArgs),
    /// Rebuild plots/ and report.html of a results or sweep folder from its CSV files.
    Report(report::ReportArgs),
    /// Serve the live twin: CB-Spider's REST API over the simulation, paced to the wall clock.
    Serve(serve::ServeArgs),
    /// Re-run a served session from its journal (byte-identical tables).
    Replay(replay::ReplayArgs),
}

/// An error to report and the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn bad_input(m: impl fmt::Display) -> Self {
        CliError {
            code: 2,
            message: m.to_string(),
        }
    }
    pub fn failure(m: impl fmt::Display) -> Self {
        CliError {
            code: 1,
            message: m.to_string(),
        }
    }
}

impl From<cloudtwin::scenario::ScenarioError> for CliError {
    fn from(e: cloudtwin::scenario::ScenarioError) -> Self {
        CliError::bad_input(e)
    }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::validate(a),
        Command::Bench(a) => bench::bench(a),
        Command::Latency(a) => latency::latency(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => merge::merge(a),
        Command::Report(a) => report::report(a),
        Command::Serve(a) => serve::serve(a),
        Command::Replay(a) => replay::replay(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", e.message);
            e.code
        }
    }
}

/// Starts writing a results folder: an existing folder without `--force` (or one that is not
/// a results folder) is bad input.
pub fn results_dir(
    target: &std::path::Path,
    force: bool,
) -> Result<cloudtwin::output::ResultsDir, CliError> {
    use cloudtwin::output::results_dir::ResultsError;
    cloudtwin::output::ResultsDir::create(target, force).map_err(|e| match e {
        ResultsError::Exists(_) | ResultsError::NotResults(_) => CliError::bad_input(e),
        _ => CliError::failure(e),
    })
}

/// Parses `--set` arguments (plus extra ones such as `--seed`).
/// Checks `--threads N` (at least 1; more than 2 is allowed and uses 2).
pub fn threads_arg(threads: Option<usize>) -> Result<Option<usize>, CliError> {
    match threads {
        Some(0) => Err(CliError::bad_input("--threads must be at least 1")),
        t => Ok(t),
    }
}

pub fn parse_overrides(sets: &[String]) -> Result<Vec<cloudtwin::scenario::Override>, CliError> {
    sets.iter()
        .map(|s| cloudtwin::scenario::Override::parse(s).map_err(CliError::from))
        .collect()
}
