//! One run of a scenario: build the world, run the engine to the horizon, collect results.
//!
//! ```no_run
//! use cloudtwin::{engine::RunControl, run, scenario};
//! let loaded = scenario::load("scenarios/cloud-twin-100x100.toml".as_ref(), &[]).unwrap();
//! let out = run::simulate(&loaded, &mut RunControl::none());
//! println!("{}", out.summary.to_csv());
//! ```

use crate::engine::{FelKind, RunControl, Scheduler, SimTime};
use crate::monitoring::{PipeWaits, WaitClock};
use crate::output::names::{file, metric};
use crate::output::{Manifest, ResultsDir, Summary, Table, manifest, results_dir::ResultsError};
use crate::scenario::Loaded;
use crate::topology::Cloud;
use crate::world::World;

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    pub summary: Summary,
    pub tables: Vec<Table>,
    pub events: u64,
    pub end: SimTime,
    /// Stopped before the horizon (by the observer, e.g. Ctrl-C).
    pub interrupted: bool,
    /// Threads the run used: 2 when the monitoring pipeline's collecting side ran on its own
    /// (see [`RunOptions::threads`]), else 1.
    pub threads: usize,
    /// With 2 threads: how often (and with [`RunOptions::clock`] how long) each waited for
    /// the other, i.e. which one set the pace. It varies between runs whose results are the
    /// same.
    pub pipe_waits: Option<PipeWaits>,
}

/// How a run uses the machine. Whatever is chosen, the results are the same, byte for byte.
#[derive(Copy, Clone, Debug)]
pub struct RunOptions {
    /// The event list's structure.
    pub fel: FelKind,
    /// Threads for the run: with 2 or more, the monitoring pipeline's collecting side
    /// (collectors, rounds, storage) runs on a thread of its own beside the engine's.
    pub threads: usize,
    /// A monotonic clock the caller lends to time how long the threads waited for each other
    /// ([`RunOutput::pipe_waits`]); the library reads no clock of its own, and the results
    /// never depend on this one. `None`: the waits are only counted.
    pub clock: Option<WaitClock>,
    /// With several monitoring sites, run each site's reports on a part of the event list
    /// of its own, a stretch of one site at a time (the default; the same results, see
    /// [`crate::monitoring::Monitoring::new_with`]).
    pub sites_apart: bool,
}

impl Default for RunOptions {
    /// The default event list; two threads where the machine has two cores or more.
    fn default() -> Self {
        RunOptions {
            fel: FelKind::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
            clock: None,
            sites_apart: true,
        }
    }
}

/// Runs a loaded scenario to its horizon.
pub fn simulate(loaded: &Loaded, control: &mut RunControl<'_>) -> RunOutput {
    simulate_opts(loaded, control, RunOptions::default())
}

/// Runs with a chosen event-list structure (for benchmarks).
pub fn simulate_with(loaded: &Loaded, control: &mut RunControl<'_>, fel: FelKind) -> RunOutput {
    let opts = RunOptions {
        fel,
        ..RunOptions::default()
    };
    simulate_opts(loaded, control, opts)
}

/// Runs with chosen [`RunOptions`].
pub fn simulate_opts(loaded: &Loaded, control: &mut RunControl<'_>, opts: RunOptions) -> RunOutput {
    let mut sched = Scheduler::with_fel(opts.fel);
    let mut world = World::new_with(loaded, &mut sched, opts.sites_apart);
    let apart = opts.threads > 1 && world.run_apart(opts.clock);
    let outcome = sched.run_until(&mut world, loaded.resolved.horizon, control);
    let mut out = collect(loaded, sched, world, outcome.end, outcome.interrupted);
    out.threads = if apart { 2 } else { 1 };
    out
}

/// The results of a run that ended at `end`: every model settles, then the summary (the run's
/// own rows around each model's) and the tables.
pub(crate) fn collect(
    loaded: &Loaded,
    mut sched: Scheduler<crate::world::Event>,
    mut world: World,
    end: SimTime,
    interrupted: bool,
) -> RunOutput {
    world.close_series(&mut sched);
    world.finish(end);
    let pipe_waits = world.pipe_waits();
    let clouds = world.lifecycle.plan().clouds.clone();
    let mut summary = Summary::new();
    summary
        .int(metric::EVENTS_PROCESSED, sched.stats().processed)
        .float(metric::SIM_TIME_S, end.as_secs_f64())
        .int(metric::CLOUDS, clouds.len() as u64)
        .int(metric::VMS_CONFIGURED, loaded.total_vms());
    world.summarize(&mut summary, end);
    summary.int(metric::MAX_PENDING_EVENTS, sched.stats().max_pending as u64);

    let mut tables = vec![clouds_table(&clouds)];
    tables.extend(world.into_tables());
    RunOutput {
        summary,
        tables,
        events: sched.stats().processed,
        end,
        interrupted,
        threads: 1,
        pipe_waits,
    }
}

/// `clouds.csv`: the resolved topology.
pub fn clouds_table(clouds: &[Cloud]) -> Table {
    let mut t = Table::new(
        file::CLOUDS,
        &[
            "cloud_id", "cloud", "provider", "region", "city", "country", "lat", "lon", "zones",
            "vms",
        ],
    );
    for c in clouds {
        let r = &c.region;
        t.push(vec![
            c.id.to_string(),
            c.name(),
            r.provider.clone(),
            r.region.clone(),
            r.city.clone(),
            r.country.clone(),
            r.lat.to_string(),
            r.lon.to_string(),
            r.zones.join(";"),
            c.vms.to_string(),
        ]);
    }
    t
}

/// The default results folder: `results/<name>-seed<seed>`.
pub fn default_out_dir(loaded: &Loaded) -> std::path::PathBuf {
    let s = &loaded.scenario.simulation;
    std::path::Path::new("results").join(format!("{}-seed{}", s.name, s.seed))
}

/// Writes a finished run into `dir` and moves it into place.
pub fn write_results(
    loaded: &Loaded,
    out: &RunOutput,
    dir: ResultsDir,
    wall_time_s: f64,
) -> Result<std::path::PathBuf, ResultsError> {
    write_results_with(loaded, out, dir, wall_time_s, None)
}

/// [`write_results`], with a served session's wall-clock figures for the manifest.
pub fn write_results_with(
    loaded: &Loaded,
    out: &RunOutput,
    dir: ResultsDir,
    wall_time_s: f64,
    serve: Option<serde_json::Value>,
) -> Result<std::path::PathBuf, ResultsError> {
    let m = Manifest {
        tool: "cloudtwin".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        git_revision: manifest::git_revision(),
        scenario_file: loaded.source.clone(),
        scenario_sha256: loaded.source_sha256.clone(),
        overrides: loaded.overrides.clone(),
        seed: loaded.scenario.simulation.seed,
        events_processed: out.events,
        sim_time_s: out.end.as_secs_f64(),
        wall_time_s,
        scenario: serde_json::to_value(&loaded.scenario).expect("scenario serializes"),
        serve,
    };
    dir.write(file::MANIFEST, &m.to_json())?;
    dir.write(file::SCENARIO, loaded.resolved_toml().as_bytes())?;
    // Every table in the scenario's formats (`output.formats`).
    let formats = &loaded.scenario.output;
    if formats.csv() {
        dir.write(file::SUMMARY, out.summary.to_csv().as_bytes())?;
    }
    if formats.parquet() {
        let mut only_parquet = formats.clone();
        only_parquet.formats = vec![crate::scenario::Format::Parquet];
        dir.write_table(&out.summary.to_table(), &only_parquet)?;
    }
    for t in &out.tables {
        dir.write_table(t, formats)?;
    }
    // Plots and report.html, built from the tables just written (cloudtwin::report).
    if loaded.scenario.output.report {
        let page = dir.path(file::REPORT)?;
        let tmp = page.parent().expect("inside the results folder");
        crate::report::write_into(tmp, &Default::default()).map_err(|e| ResultsError::Io {
            path: page.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    dir.commit()
}
