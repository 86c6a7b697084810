//! `cloudtwin serve [SCENARIO]`: the live twin (CB-Spider's REST API over the simulation) until
//! SIGINT/SIGTERM, then its results folder. See `crate::serve` (the server) and
//! `cloudtwin::twin` (the library side).

use super::{CliError, parse_overrides};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The world of a twin started without a scenario: no clouds until clients register them.
const EMPTY_WORLD: &str = "\
[simulation]
name = \"serve\"
duration = \"24h\"
";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Scenario file (TOML); without one the world starts empty and clouds join as clients
    /// register connections.
    pub scenario: Option<PathBuf>,
    /// Address to listen on (127.0.0.1:0 picks a free port; it is printed).
    #[arg(long, default_value = "127.0.0.1:1024", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Simulated seconds per wall second (60: a simulated minute per second).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Results folder written when the twin stops (default: results/<name>-seed<seed>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the session (overrides simulation.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a key, e.g. --set lifecycle.providers.aws.create_failure_p=0.2 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// HTTP Basic credentials `USER:PASSWORD` every route but the health checks requires
    /// (default: SPIDER_USERNAME and SPIDER_PASSWORD if both are set, else none).
    #[arg(long, value_name = "USER:PASSWORD")]
    pub auth: Option<String>,
    /// Replace the results folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but the address and errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Serve even when the size estimate says the world does not fit this machine.
    #[arg(long)]
    pub no_size_check: bool,
}

pub fn serve(a: ServeArgs) -> Result<(), CliError> {
    if !(a.speed.is_finite() && a.speed > 0.0 && a.speed <= 1e6) {
        return Err(CliError::bad_input(format!(
            "--speed {}: expected a number of simulated seconds per wall second, > 0 and <= 1e6",
            a.speed
        )));
    }
    let auth = match &a.auth {
        Some(s) => Some(
            s.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .ok_or_else(|| CliError::bad_input("--auth: expected USER:PASSWORD"))?,
        ),
        None => match (
            std::env::var("SPIDER_USERNAME"),
            std::env::var("SPIDER_PASSWORD"),
        ) {
            (Ok(u), Ok(p)) if !u.is_empty() => Some((u, p)),
            _ => None,
        },
    };
    // The clock is read here, in the CLI: the library gets simulated time 0's epoch.
    let epoch_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut sets = vec![
        "serve.enabled=true".to_string(),
        format!("serve.epoch_s={epoch_s}"),
    ];
    sets.extend(a.sets.iter().cloned());
    if let Some(seed) = a.seed {
        sets.push(format!("simulation.seed={seed}"));
    }
    let overrides = parse_overrides(&sets)?;
    let draft = match &a.scenario {
        Some(path) => cloudtwin::scenario::read(path, &overrides)?,
        None => {
            cloudtwin::scenario::draft(EMPTY_WORLD, "<empty world>", "serve", None, &overrides)?
        }
    };
    // The world over `simulation.duration` with `serve.max_vms` API slots (the clients' own
    // requests are not known in advance).
    super::size::gate(&draft, a.no_size_check)?;
    let loaded = draft.build()?;
    let target = a
        .out
        .clone()
        .unwrap_or_else(|| cloudtwin::run::default_out_dir(&loaded));
    let dir = super::results_dir(&target, a.force)?;
    let opts = crate::serve::Options {
        listen: a.listen,
        speed: a.speed,
        auth,
    };
    let served = crate::serve::serve(loaded, opts, dir).map_err(CliError::failure)?;
    if !a.quiet {
        outln!(
            "stopped: {} requests, {:.1} s simulated in {:.1} s wall",
            served.requests,
            served.sim_time_s,
            served.wall_s
        );
        outln!("results: {}", served.folder.display());
    }
    Ok(())
}
