//! Rows per table: time series get a row per sample and key, logs a row per thing logged,
//! the N x N tables a row per pair. Bytes per row are the committed scenarios' averages.

use super::counts::Counts;
use super::driver::{Driver, Shrinks, Value};
use super::model::{
    DEFAULT_FAILURE_P, PROBES_PER_EVENT, Shape, TableEstimate, count, outage_driver,
};
use crate::output::names::file;
use crate::scenario::Scenario;

/// Bytes per row of each table (averages of the committed scenarios' files).
const ROW_BYTES: &[(&str, f64)] = &[
    (file::CLOUDS, 120.0),
    (file::ENGINE, 20.0),
    (file::VM_STATES, 35.0),
    (file::MCIS_STATUS, 70.0),
    (file::PROVIDER_API, 20.0),
    (file::OUTAGES, 80.0),
    (file::VM_EVENTS, 110.0),
    (file::MONITORING, 80.0),
    (file::CONTROL, 32.0),
    (file::CONTROL_SAMPLES, 64.0),
    (file::CONTROL_ACTIONS, 60.0),
    (file::CLOUD_RTT, 68.0),
    (file::LATENCY_MATRIX, 96.0),
    (file::PLACEMENT, 190.0),
    (file::API, 40.0),
];

fn row_bytes(name: &str) -> f64 {
    ROW_BYTES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(64.0, |(_, b)| *b)
}

/// Every table the run writes, and the status-test probes and peer scans it takes.
pub(super) fn tables(s: &Scenario, c: &Counts, sh: &Shape) -> (Vec<TableEstimate>, f64) {
    let clouds = c.clouds as f64;
    let n = &sh.n_samples;
    let samples = sh.samples;
    let mut tables = Vec::new();
    let mut table =
        |name: &'static str, rows: f64, why: String, driver: Option<Driver>, shrinks: Shrinks| {
            tables.push(TableEstimate {
                name,
                rows,
                bytes: rows * row_bytes(name),
                why,
                driver,
                shrinks,
            });
        };
    table(
        file::CLOUDS,
        clouds,
        format!("{} clouds", super::fmt_count(clouds)),
        Some(count(
            "topology.accounts_per_region",
            s.topology.accounts_per_region as u64,
        )),
        Shrinks::WhenLower,
    );
    table(
        file::ENGINE,
        samples,
        format!("{n} samples"),
        sh.sample_driver(),
        Shrinks::WhenHigher,
    );
    let clouds_with_vms = clouds.min((c.vms + c.serve_slots) as f64);
    let statuses = statuses_per_cloud(s, c);
    table(
        file::VM_STATES,
        samples * clouds_with_vms * statuses,
        format!(
            "{n} samples x {} clouds x ~{statuses:.1} statuses",
            super::fmt_count(clouds_with_vms)
        ),
        sh.sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::MCIS_STATUS,
        samples * c.mcis as f64,
        format!("{n} samples x {} MCIS", c.mcis),
        sh.sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::PROVIDER_API,
        samples * c.providers as f64,
        format!("{n} samples x {} providers", c.providers),
        sh.sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::OUTAGES,
        c.outages,
        "outages".into(),
        outage_driver(s),
        Shrinks::WhenLower,
    );
    if s.output.vm_events {
        table(
            file::VM_EVENTS,
            c.vms_launched as f64 * 3.0 * sh.tries + sh.action_vms * 2.0,
            format!(
                "~3 transitions x {} VMs",
                super::fmt_count(c.vms_launched as f64)
            ),
            Some(Driver::new("output.vm_events", Value::Flag(true))),
            Shrinks::WhenLower,
        );
    }
    if s.monitoring.enabled {
        table(
            file::MONITORING,
            samples,
            format!("{n} samples"),
            sh.sample_driver(),
            Shrinks::WhenHigher,
        );
    }
    table(
        file::CONTROL,
        samples * c.watched_mcis as f64,
        format!("{n} samples x {} watched MCIS", c.watched_mcis),
        sh.sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::CONTROL_SAMPLES,
        sh.ticks * c.policies as f64,
        format!(
            "{} control ticks x {} policies",
            super::fmt_count(sh.ticks),
            c.policies
        ),
        sh.tick_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::CONTROL_ACTIONS,
        sh.ticks * c.policies as f64 / 20.0,
        "actions of the control loop".into(),
        sh.tick_driver(),
        Shrinks::WhenHigher,
    );
    let rtt_rows = if c.clouds <= s.network.cloud_rtt_max_clouds as u64 {
        clouds * clouds
    } else {
        0.0
    };
    table(
        file::CLOUD_RTT,
        rtt_rows,
        format!("{} clouds squared", super::fmt_count(clouds)),
        Some(count(
            "network.cloud_rtt_max_clouds",
            s.network.cloud_rtt_max_clouds as u64,
        )),
        Shrinks::WhenLower,
    );
    let (matrix_rows, tests, probes) = status_tests(s, c);
    table(
        file::LATENCY_MATRIX,
        matrix_rows,
        format!("{tests} status tests x VM or cloud pairs"),
        Some(count(
            "cladnet.max_vm_matrix",
            s.cladnet.max_vm_matrix as u64,
        )),
        Shrinks::WhenLower,
    );
    if s.cladnet.placement.enabled {
        table(
            file::PLACEMENT,
            5.0,
            "5 layouts".into(),
            None,
            Shrinks::WhenLower,
        );
    }
    if s.serve.enabled {
        table(
            file::API,
            samples * 4.0,
            format!("{n} samples x the routes called (depends on the clients)"),
            sh.sample_driver(),
            Shrinks::WhenHigher,
        );
    }
    (tables, probes)
}

/// CLADNet's status tests within the run: rows of `latency_matrix.csv`, tests, and probes
/// (with the peer scans of the per-cloud-pair matrix). Per test and MCIS: the Running VMs x
/// all N VMs up to `max_vm_matrix` VMs, else the MCIS's cloud pairs, 4 sampled VM pairs each
/// after a pass over the N peers per pair.
fn status_tests(s: &Scenario, c: &Counts) -> (f64, usize, f64) {
    let cl = &s.cladnet;
    let clouds = c.clouds as f64;
    let trials = cl.trial_count.max(1) as f64;
    let (mut rows, mut probes) = (0.0, 0.0);
    let tests: Vec<f64> = cl
        .status_tests
        .iter()
        .filter(|t| **t <= s.simulation.duration)
        .map(|t| t.as_secs_f64())
        .collect();
    for t in &tests {
        for (mi, (_, all)) in c.mcis_vms.iter().enumerate() {
            let n = *all as f64;
            let up = c.running_by(mi, *t, &s.lifecycle.stagger).min(n);
            let pairs = clouds.min(n).powi(2);
            if n <= cl.max_vm_matrix as f64 {
                rows += up * n;
                probes += up * n * trials;
            } else {
                rows += pairs;
                probes += pairs * (4.0 * trials + n / PROBES_PER_EVENT);
            }
        }
    }
    (rows, tests.len(), probes)
}

/// Typical rows per (sample, cloud) of `vm_states.csv`: a row per status present. Running,
/// plus Failed where some VMs fail for good (failed creates after their retries, crashes,
/// outages that fail VMs), at most one more.
fn statuses_per_cloud(s: &Scenario, c: &Counts) -> f64 {
    let lc = &s.lifecycle;
    let p = lc.create_failure_p.map_or(DEFAULT_FAILURE_P, |p| p.get());
    let gave_up = p.clamp(0.0, 1.0).powf(lc.retry.attempts.max(1) as f64);
    let crashed = lc
        .crash
        .as_ref()
        .and_then(|d| d.mean_secs())
        .map_or(0.0, |mean| {
            (s.simulation.duration.as_secs_f64() / mean.max(1e-9)).min(1.0)
        });
    let per_cloud = c.vms as f64 / c.clouds.max(1) as f64;
    let outages = if c.outages > 0.0 { 0.5 } else { 0.0 };
    1.0 + (per_cloud * (gave_up + crashed) + outages).min(1.0)
}
