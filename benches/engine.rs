//! `cargo bench`: events per second of the engine on the periodic and churn workloads, for both
//! event-list structures (the same workloads as `cloudtwin bench`).
use cloudtwin::bench::{Phases, Workload, run_workload};
use cloudtwin::engine::FelKind;
use std::time::Instant;

fn main() {
    for churn in [false, true] {
        let w = Workload {
            entities: 10_000,
            sim_seconds: 5_000,
            churn,
            seed: 1,
            phases: Phases::Random,
            partition: None,
        };
        for kind in FelKind::ALL {
            let mut best = f64::MAX;
            let mut events = 0;
            for _ in 0..3 {
                let t0 = Instant::now();
                events = run_workload(&w, kind).events;
                best = best.min(t0.elapsed().as_secs_f64());
            }
            println!(
                "{:<8} {:<16} {:>10} events  {:>8.3} s  {:>12.0} events/s (best of 3)",
                if churn { "churn" } else { "periodic" },
                kind.name(),
                events,
                best,
                events as f64 / best
            );
        }
    }
}
