//! `cloudtwin bench`: engine benchmarks (the workloads are in `cloudtwin::bench`; timing is here
//! because the library never reads a clock).

use super::CliError;
use clap::{Args, ValueEnum};
use cloudtwin::bench::{Workload, run_workload};
use cloudtwin::engine::FelKind;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Which workload.
    #[arg(value_enum, default_value_t = WorkloadArg::Periodic)]
    pub workload: WorkloadArg,
    /// Entities (timers) in the workload.
    #[arg(long, default_value_t = 10_000)]
    pub entities: u32,
    /// Simulated seconds.
    #[arg(long, default_value_t = 5_000)]
    pub sim_seconds: u64,
    /// Event-list structures to measure.
    #[arg(long, value_enum, default_value_t = FelArg::Both)]
    pub fel: FelArg,
    /// Repetitions per structure (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum WorkloadArg {
    /// Every entity fires every 5 s (random phase) and reschedules itself.
    Periodic,
    /// Periodic, plus a watchdog timer per entity cancelled and re-armed at every firing.
    Churn,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq)]
pub enum FelArg {
    Heap,
    Pq,
    Both,
}

pub fn bench(a: BenchArgs) -> Result<(), CliError> {
    if a.entities == 0 || a.sim_seconds == 0 || a.repeat == 0 {
        return Err(CliError::bad_input(
            "--entities, --sim-seconds and --repeat must be > 0",
        ));
    }
    let w = Workload {
        entities: a.entities,
        sim_seconds: a.sim_seconds,
        churn: matches!(a.workload, WorkloadArg::Churn),
        seed: 1,
    };
    let kinds: Vec<FelKind> = match a.fel {
        FelArg::Heap => vec![FelKind::BinaryHeap],
        FelArg::Pq => vec![FelKind::PriorityQueue],
        FelArg::Both => FelKind::ALL.to_vec(),
    };
    println!(
        "workload {:?}: {} entities, {} simulated s, median of {}",
        a.workload, a.entities, a.sim_seconds, a.repeat
    );
    println!(
        "{:<16} {:>12} {:>10} {:>14}",
        "event list", "events", "wall s", "events/s"
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
        let mut t = times[i].clone();
        t.sort_by(f64::total_cmp);
        let med = t[t.len() / 2];
        println!(
            "{:<16} {:>12} {:>10.3} {:>14.0}",
            k.name(),
            events[i],
            med,
            events[i] as f64 / med
        );
    }
    Ok(())
}
