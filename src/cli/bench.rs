//! `cloudtwin bench`: speed benchmarks. Engine micro-benchmarks (`periodic`, `churn`: the
//! workloads are in `cloudtwin::bench`) and whole-simulator scenarios (`monitoring-only`,
//! `cloud-twin-100x100`, `scale-1m`, `scale-10m`, `scale-10m-one-site`: the files in
//! `scenarios/`, built in), and the machine's random memory access (`memory`,
//! `cloudtwin::bench::memory`). Timing and memory are measured here because the library never
//! reads a clock.

use super::CliError;
use clap::{Args, ValueEnum};
use cloudtwin::bench::{Partition, Phases, Workload, run_workload};
use cloudtwin::engine::{FelKind, RunControl};
use cloudtwin::monitoring::Waited;
use cloudtwin::run::RunOptions;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Which workload.
    #[arg(value_enum, default_value_t = WorkloadArg::Periodic)]
    pub workload: WorkloadArg,
    /// Entities (timers) in the engine workloads.
    #[arg(long, default_value_t = 10_000)]
    pub entities: u32,
    /// Simulated seconds (engine workloads: default 5,000; scenarios: the scenario's duration
    /// unless given).
    #[arg(long)]
    pub sim_seconds: Option<u64>,
    /// Event-list structures to measure (engine workloads).
    #[arg(long, value_enum, default_value_t = FelArg::All)]
    pub fel: FelArg,
    /// Engine workloads: how the timers' phases fall over their ids.
    #[arg(long, value_enum, default_value_t = PhasesArg::Random)]
    pub phases: PhasesArg,
    /// Engine workloads: run the timers in groups of N, each on an event list of its own,
    /// every group to the end of a window before the next window (the same events; see
    /// `cloudtwin::bench::Partition`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub partition_size: Option<u32>,
    /// Engine workloads with --partition-size: the window, in simulated seconds.
    #[arg(long, value_name = "S", default_value_t = 20, requires = "partition_size",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub window_seconds: u64,
    /// Repetitions (the median is reported).
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// Scenario workloads: override a key of the workload's scenario (KEY=VALUE, repeatable),
    /// e.g. `--set simulation.duration=10m`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The memory workload: buffer sizes in MB to probe (repeatable; default 512 and 5120, about
    /// the peaks of scale-1m and scale-10m).
    #[arg(long = "footprint", value_name = "MB")]
    pub footprints: Vec<u64>,
    /// The memory workload: independent accesses per footprint and repetition (a tenth as
    /// many dependent ones).
    #[arg(long, value_name = "N", default_value_t = 50_000_000)]
    pub accesses: u64,
    /// Run even when the size estimate says the workload does not fit this machine.
    #[arg(long)]
    pub no_size_check: bool,
    /// Scenario workloads: threads per run (2: the monitoring pipeline's collecting side on a
    /// thread of its own; the results are the same, and `waited` says how long each thread
    /// waited for the other: the one that waited less set the pace). Default: 2 on a machine
    /// with two cores or more.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum WorkloadArg {
    /// Engine only: every entity fires every 5 s (random phase) and reschedules itself.
    Periodic,
    /// Engine only: periodic, plus a watchdog per entity cancelled and re-armed at every firing.
    Churn,
    /// 10,000 VMs reporting every 5 s into one collector (the peers' workload B), full engine.
    MonitoringOnly,
    /// The default scenario, every model on (24 simulated hours unless --sim-seconds).
    #[value(name = "cloud-twin-100x100")]
    CloudTwin100x100,
    /// 1,000 clouds x 1,000 VMs, monitoring every 5 s, 1 simulated hour.
    #[value(name = "scale-1m")]
    Scale1m,
    /// 10,000 clouds x 1,000 VMs, monitoring every 5 s by ten sites, 1 simulated hour (~5 GB).
    #[value(name = "scale-10m")]
    Scale10m,
    /// scale-10m with one monitoring deployment for all ten million agents (~5 GB).
    #[value(name = "scale-10m-one-site")]
    Scale10mOneSite,
    /// The machine: random cache-line access over buffers of --footprint MB (first touch,
    /// independent and dependent accesses), the floor under a simulator's random state.
    Memory,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq)]
pub enum FelArg {
    /// std's binary heap
    Heap,
    /// the priority-queue crate
    Pq,
    /// the 4-ary heap
    Quad,
    /// the calendar queue (default of runs)
    Calendar,
    /// all four, alternating (scenario workloads: the calendar queue unless one is named)
    All,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq)]
pub enum PhasesArg {
    /// each timer its own random phase: each event touches a timer's state at random
    Random,
    /// the same phases sorted into id order: each event touches the state after the last
    /// one's (the engine's own scaling, without the machine's cost of random access)
    InIdOrder,
}

impl FelArg {
    /// The structure named, or `None` for all of them.
    fn kind(self) -> Option<FelKind> {
        match self {
            FelArg::Heap => Some(FelKind::BinaryHeap),
            FelArg::Pq => Some(FelKind::PriorityQueue),
            FelArg::Quad => Some(FelKind::QuadHeap),
            FelArg::Calendar => Some(FelKind::Calendar),
            FelArg::All => None,
        }
    }
}

/// Peak resident memory of this process so far, in bytes (Linux; 0 elsewhere).
/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`: nanoseconds on a
/// CPU), in seconds; `None` where it cannot be read.
fn thread_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// CPU time of the whole process so far (user + system, `/proc/self/stat`), in seconds.
fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces, inside parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (u64, u64) = (f.get(11)?.parse().ok()?, f.get(12)?.parse().ok()?);
    // Clock ticks: 100 per second on Linux.
    Some((utime + stime) as f64 / 100.0)
}

fn peak_rss() -> u64 {
    super::size::peak_rss().map_or(0, |b| b as u64)
}

fn current_rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

pub fn bench(a: BenchArgs) -> Result<(), CliError> {
    if a.entities == 0 || a.sim_seconds == Some(0) || a.repeat == 0 {
        return Err(CliError::bad_input(
            "--entities, --sim-seconds and --repeat must be > 0",
        ));
    }
    if a.partition_size.is_some()
        && !matches!(a.workload, WorkloadArg::Periodic | WorkloadArg::Churn)
    {
        return Err(CliError::bad_input(format!(
            "--partition-size applies to the engine workloads (periodic, churn), not to {:?}",
            a.workload
        )));
    }
    match a.workload {
        WorkloadArg::Periodic | WorkloadArg::Churn => engine_bench(&a),
        WorkloadArg::Memory => memory_bench(&a),
        WorkloadArg::MonitoringOnly => scenario_bench(
            &a,
            "monitoring-only",
            include_str!("../../scenarios/bench/monitoring-only.toml"),
            None,
        ),
        WorkloadArg::CloudTwin100x100 => scenario_bench(
            &a,
            "cloud-twin-100x100",
            include_str!("../../scenarios/cloud-twin-100x100.toml"),
            Some(86_400),
        ),
        WorkloadArg::Scale1m => scenario_bench(
            &a,
            "scale-1m",
            include_str!("../../scenarios/bench/scale-1m.toml"),
            None,
        ),
        WorkloadArg::Scale10m => scenario_bench(
            &a,
            "scale-10m",
            include_str!("../../scenarios/bench/scale-10m.toml"),
            None,
        ),
        WorkloadArg::Scale10mOneSite => scenario_bench(
            &a,
            "scale-10m-one-site",
            include_str!("../../scenarios/bench/scale-10m-one-site.toml"),
            None,
        ),
    }
}

/// Bytes per timer of the engine workloads (event-list entries, sequence numbers, the
/// watchdog slot), measured like `cloudtwin::size`'s constants.
const BYTES_PER_TIMER: f64 = 150.0;
/// Bytes per group of a partitioned engine workload: an event list of its own (a calendar's
/// ring of 1,024 buckets until it adapts, its tables), measured with `/usr/bin/time` on
/// 100,000 groups of one timer (25.9 kB each).
const BYTES_PER_GROUP: f64 = 28e3;

/// Refuses an engine workload that would not fit: its timers' memory (and in groups, an event
/// list per group), and its events (every timer fires every 5 simulated s; churn re-arms a
/// watchdog each time).
fn check_engine_size(a: &BenchArgs, sim_seconds: u64) -> Result<(), CliError> {
    if a.no_size_check {
        return Ok(());
    }
    use cloudtwin::size::{MAX_EVENTS, NOMINAL_EVENTS_PER_S, fmt_bytes, fmt_count, fmt_wall};
    let timers = a.entities as f64;
    let churn = if matches!(a.workload, WorkloadArg::Churn) {
        2.0
    } else {
        1.0
    };
    let events = timers * sim_seconds as f64 / 5.0 * churn * a.repeat as f64;
    if events > MAX_EVENTS {
        return Err(CliError::bad_input(format!(
            "--entities {} --sim-seconds {sim_seconds} --repeat {}: about {} events, more than \
             the {} a run may take (~{} at {} events/s) ({})",
            a.entities,
            a.repeat,
            fmt_count(events),
            fmt_count(MAX_EVENTS),
            fmt_wall(events / NOMINAL_EVENTS_PER_S),
            fmt_count(NOMINAL_EVENTS_PER_S),
            super::size::OVERRIDE_HINT
        )));
    }
    let groups = a
        .partition_size
        .map_or(0.0, |n| a.entities.div_ceil(n) as f64);
    let bytes = cloudtwin::size::BASE_BYTES + timers * BYTES_PER_TIMER + groups * BYTES_PER_GROUP;
    if let Some(avail) = super::size::available_memory()
        && bytes > avail
    {
        let what = match a.partition_size {
            Some(n) => format!(
                "--entities {} --partition-size {n}: {} groups, each on an event list of its \
                 own,",
                a.entities,
                fmt_count(groups)
            ),
            None => format!("--entities {}:", a.entities),
        };
        return Err(CliError::bad_input(format!(
            "{what} about {} of memory; this machine has {} available ({})",
            fmt_bytes(bytes),
            fmt_bytes(avail),
            super::size::OVERRIDE_HINT
        )));
    }
    Ok(())
}

fn engine_bench(a: &BenchArgs) -> Result<(), CliError> {
    check_engine_size(a, a.sim_seconds.unwrap_or(5_000))?;
    let w = Workload {
        entities: a.entities,
        sim_seconds: a.sim_seconds.unwrap_or(5_000),
        churn: matches!(a.workload, WorkloadArg::Churn),
        seed: 1,
        phases: match a.phases {
            PhasesArg::Random => Phases::Random,
            PhasesArg::InIdOrder => Phases::InIdOrder,
        },
        partition: a.partition_size.map(|size| Partition {
            size,
            window_seconds: a.window_seconds,
        }),
    };
    let kinds: Vec<FelKind> = match a.fel.kind() {
        Some(k) => vec![k],
        None => FelKind::ALL.to_vec(),
    };
    let grouping = w.partition.map_or(String::new(), |p| {
        format!(
            ", in groups of {} run {} simulated s at a time",
            p.size, p.window_seconds
        )
    });
    outln!(
        "workload {:?}: {} entities, {} simulated s, phases {:?}{grouping}, median of {}",
        a.workload,
        a.entities,
        w.sim_seconds,
        w.phases,
        a.repeat
    );
    outln!(
        "{:<16} {:>12} {:>10} {:>14}",
        "event list",
        "events",
        "wall s",
        "events/s"
    );
    // Alternate structures within each repetition so machine noise hits both alike.
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    let mut events = vec![0u64; kinds.len()];
    for _ in 0..a.repeat {
        for (i, k) in kinds.iter().enumerate() {
            let t0 = Instant::now();
            let r = run_workload(&w, *k);
            times[i].push(t0.elapsed().as_secs_f64());
            events[i] = r.events;
        }
    }
    for (i, k) in kinds.iter().enumerate() {
        let med = median(&mut times[i]);
        outln!(
            "{:<16} {:>12} {:>10.3} {:>14.0}",
            k.name(),
            events[i],
            med,
            events[i] as f64 / med
        );
    }
    Ok(())
}

/// Independent accesses a memory probe may make in all (its footprints and repetitions), unless
/// `--no-size-check`: 2,000 s at 20 ns an access, and 2,500 s for the dependent tenth at 250 ns.
const MAX_PROBE_ACCESSES: f64 = 1e11;

fn memory_bench(a: &BenchArgs) -> Result<(), CliError> {
    use cloudtwin::bench::memory::MemoryProbe;
    use cloudtwin::size::fmt_bytes;
    let footprints = if a.footprints.is_empty() {
        vec![512, 5120]
    } else {
        a.footprints.clone()
    };
    if footprints.contains(&0) || a.accesses < 10 {
        return Err(CliError::bad_input(
            "--footprint must be > 0 MB and --accesses at least 10",
        ));
    }
    // The default (50 M) takes about a second at 10-20 ns; the dependent accesses, a tenth
    // as many, about a second at 100-250 ns.
    let (independent, dependent) = (a.accesses, a.accesses / 10);
    let total = a.accesses as f64 * f64::from(a.repeat) * footprints.len() as f64;
    if total > MAX_PROBE_ACCESSES && !a.no_size_check {
        return Err(CliError::bad_input(format!(
            "--accesses {} --repeat {} over {} footprints: {} accesses, more than the {} a \
             probe may take (about 75 minutes at 20 ns an access and 250 ns a dependent one) \
             ({})",
            a.accesses,
            a.repeat,
            footprints.len(),
            cloudtwin::size::fmt_count(total),
            cloudtwin::size::fmt_count(MAX_PROBE_ACCESSES),
            super::size::OVERRIDE_HINT
        )));
    }
    let avail = super::size::available_memory();
    for &mb in &footprints {
        let bytes = mb as f64 * 1e6;
        if let Some(avail) = avail
            && bytes > avail
            && !a.no_size_check
        {
            return Err(CliError::bad_input(format!(
                "--footprint {mb}: {} of memory; this machine has {} available ({})",
                fmt_bytes(bytes),
                fmt_bytes(avail),
                super::size::OVERRIDE_HINT
            )));
        }
    }
    for (k, &mb) in footprints.iter().enumerate() {
        let bytes = usize::try_from(mb.saturating_mul(1_000_000)).unwrap_or(usize::MAX);
        let (mut touch, mut indep, mut dep) = (Vec::new(), Vec::new(), Vec::new());
        let mut checksum = 0u64;
        for r in 0..a.repeat {
            // A fresh buffer each time: the first touch is part of what is measured.
            let t0 = Instant::now();
            let mut p = MemoryProbe::new(bytes, 1 + u64::from(r)).map_err(CliError::bad_input)?;
            touch.push(bytes as f64 / 1e9 / t0.elapsed().as_secs_f64());
            let t1 = Instant::now();
            checksum ^= p.independent(independent);
            indep.push(t1.elapsed().as_secs_f64() * 1e9 / independent as f64);
            let t2 = Instant::now();
            checksum ^= p.dependent(dependent);
            dep.push(t2.elapsed().as_secs_f64() * 1e9 / dependent as f64);
        }
        std::hint::black_box(checksum);
        if k == 0 {
            // Once the first buffer could be had: a refusal prints nothing but the error.
            outln!(
                "memory: random cache-line access, median of {} ({} independent, {} \
                 dependent accesses each)",
                a.repeat,
                independent,
                dependent
            );
            outln!(
                "{:>10} {:>16} {:>16} {:>16}",
                "MB",
                "first touch GB/s",
                "independent ns",
                "dependent ns"
            );
        }
        outln!(
            "{mb:>10} {:>16.2} {:>16.1} {:>16.1}",
            median(&mut touch),
            median(&mut indep),
            median(&mut dep)
        );
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The clock lent to a run to time its threads' waits: the time since its first reading.
fn monotonic() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

fn scenario_bench(
    a: &BenchArgs,
    name: &str,
    text: &str,
    default_secs: Option<u64>,
) -> Result<(), CliError> {
    let mut sets = Vec::new();
    if let Some(s) = a.sim_seconds.or(default_secs) {
        sets.push(cloudtwin::scenario::Override::parse(&format!(
            "simulation.duration={s}s"
        ))?);
    }
    for s in &a.set {
        sets.push(cloudtwin::scenario::Override::parse(s)?);
    }
    let fel = a.fel.kind().unwrap_or_default();
    let opts = cloudtwin::run::RunOptions {
        fel,
        threads: super::threads_arg(a.threads)?.unwrap_or(RunOptions::default().threads),
        clock: Some(monotonic),
        ..RunOptions::default()
    };
    let base_rss = current_rss();
    let draft = cloudtwin::scenario::draft(text, &format!("<bench {name}>"), name, None, &sets)?;
    super::size::gate(&draft, a.no_size_check)?;
    let loaded = draft.build()?;
    let vms = loaded.total_vms();
    let mut times = Vec::new();
    let mut cpu_times = Vec::new();
    let mut process_times = Vec::new();
    let mut out = None;
    for _ in 0..a.repeat {
        let t0 = Instant::now();
        let c0 = thread_cpu_s();
        let p0 = process_cpu_s();
        let o = cloudtwin::run::simulate_opts(&loaded, &mut RunControl::none(), opts);
        times.push(t0.elapsed().as_secs_f64());
        if let (Some(c0), Some(c1)) = (c0, thread_cpu_s()) {
            cpu_times.push(c1 - c0);
        }
        if let (Some(p0), Some(p1)) = (p0, process_cpu_s()) {
            process_times.push(p1 - p0);
        }
        out = Some(o);
    }
    let out = out.expect("at least one repetition");
    let wall = median(&mut times);
    let cpu = (!cpu_times.is_empty()).then(|| median(&mut cpu_times));
    let process_cpu = (!process_times.is_empty()).then(|| median(&mut process_times));
    let peak = peak_rss();
    let reports = match out
        .summary
        .get(cloudtwin::output::names::metric::MONITORING_REPORTS_SENT)
    {
        Some(cloudtwin::output::summary::Value::Int(v)) => *v as f64,
        _ => 0.0,
    };
    outln!(
        "{name}: {vms} VMs in {} clouds, {} simulated, median of {}, event list {}, {} thread{}",
        loaded.clouds().len(),
        loaded.scenario.simulation.duration,
        a.repeat,
        fel.name(),
        out.threads,
        if out.threads == 1 { "" } else { "s" }
    );
    outln!("  events              {}", out.events);
    outln!("  wall                {wall:.3} s");
    if let Some(cpu) = cpu {
        // On a shared machine the thread's own CPU time is the steadier figure.
        outln!("  cpu                 {cpu:.3} s (the engine's thread)");
    }
    if let (Some(p), 2) = (process_cpu, out.threads) {
        // The collecting side polls for work while it waits: its CPU time is not all work.
        outln!("  cpu, all threads    {p:.3} s");
    }
    if let Some(w) = out.pipe_waits {
        // Which thread set the pace (the last repetition's): how long each waited for the
        // other, and on what share of the batches.
        let side = |name: &str, waited: Waited| {
            let share = 100.0 * waited.batches as f64 / w.batches.max(1) as f64;
            let time = waited.time.unwrap_or_default().as_secs_f64();
            format!("{name} {time:.3} s on {share:.1}%")
        };
        outln!(
            "  waited              {}, {} of {} batches",
            side("engine", w.engine),
            side("collecting side", w.collecting),
            w.batches
        );
    }
    outln!("  events/s            {:.0}", out.events as f64 / wall);
    outln!("  reports/s           {:.0}", reports / wall);
    outln!("  peak memory         {:.1} MB", peak as f64 / 1e6);
    outln!(
        "  memory per VM       {:.0} B",
        peak.saturating_sub(base_rss) as f64 / vms.max(1) as f64
    );
    Ok(())
}
