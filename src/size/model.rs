//! The estimate itself: peak memory, engine events and rows per table, each split into parts
//! that name the scenario key behind them. The constants are calibrated measurements (see the
//! module documentation of [`crate::size`] and BENCHMARKS.md); everything else is counting.

use super::counts::Counts;
use super::driver::{Driver, Shrinks, Value};
use crate::monitoring::config::{Mode, Policy, QueueDiscipline};
use crate::output::names::file;
use crate::scenario::Scenario;

/// Resident memory of the program with an empty world: code, the region and spec catalogues,
/// the latency model, the provider profiles (the unoptimised debug build, which tests run, is
/// twice the size).
pub const BASE_BYTES: f64 = if cfg!(debug_assertions) { 22e6 } else { 10e6 };
/// Per ordered pair of clouds: the median RTTs gathered for the summary's percentiles, and
/// their sorted copy.
pub const BYTES_PER_CLOUD_PAIR: f64 = 20.0;
/// Drawing the report (`output.report`): the plots' rasters and fonts.
pub const REPORT_BYTES: f64 = 6e6;
/// The event list's ring of buckets once it adapts to a few thousand pending events (2^18
/// empty buckets).
pub const EVENT_RING_BYTES: f64 = 6.3e6;
/// Pending events (about one per VM slot) from which the ring is that large.
const EVENT_RING_FROM: u64 = 2_000;
/// Per VM slot: its plan (name, cloud, spec; kept by the loaded scenario and the model), its
/// lifecycle state and bill, its workload stream, its launch event.
pub const BYTES_PER_SLOT: f64 = 500.0;
/// Per VM launched before the horizon: its create path (gate queues, calls, timeouts, boot
/// events), provisioning record.
pub const BYTES_PER_LAUNCH: f64 = 150.0;
/// Per monitoring agent: its state (two cache lines), its plan entry, its pending report.
pub const BYTES_PER_AGENT: f64 = 130.0;
/// Per collector: queues, round buffer, service stream.
pub const BYTES_PER_COLLECTOR: f64 = 160.0;
/// Per cloud: the resolved cloud and its region (held by several plans), gates, counters.
pub const BYTES_PER_CLOUD: f64 = 2_000.0;
/// Per outage: the outage and the clouds it covers.
pub const BYTES_PER_OUTAGE: f64 = 300.0;
/// Per report waiting in a collector's queue (24 bytes, in a growing ring buffer).
pub const BYTES_PER_QUEUED_REPORT: f64 = 48.0;

/// Engine events per VM creation attempt (MCIS request share, launch, create call, gate,
/// completion, boot, agent start).
pub const EVENTS_PER_CREATE: f64 = 6.0;
/// Status-test probe draws per engine-event equivalent of work (a probe is a few random
/// draws and a table lookup, about a tenth of an event).
pub const PROBES_PER_EVENT: f64 = 10.0;

/// Create failure probability where neither the scenario nor a provider sets one (the
/// providers' defaults in `models/providers.toml` are 0.01-0.05).
const DEFAULT_FAILURE_P: f64 = 0.03;

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

/// A part of an estimate: how much, of what, and the key that drives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What it is, for people (`"10,000 VMs (100 clouds)"`).
    pub what: String,
    /// Bytes (memory) or events.
    pub amount: f64,
    /// The key to change, if one drives it.
    pub driver: Option<Driver>,
    pub shrinks: Shrinks,
}

/// The rows a table of the results folder will get.
#[derive(Clone, Debug, PartialEq)]
pub struct TableEstimate {
    /// File name (`output::names::file`).
    pub name: &'static str,
    pub rows: f64,
    /// Bytes of CSV (held in memory until the run ends, then written).
    pub bytes: f64,
    /// Where the rows come from, for people (`"721 samples x 100 clouds x ~2 statuses"`).
    pub why: String,
    pub driver: Option<Driver>,
    pub shrinks: Shrinks,
}

/// The estimate of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub counts: Counts,
    /// Time-series samples (`duration / sample_interval + 1`).
    pub samples: f64,
    /// Status-test probes drawn (not engine events, but work).
    pub probes: f64,
    /// Peak memory, by part (they add up to [`Estimate::peak_bytes`]).
    pub memory: Vec<Part>,
    /// Engine events, by part, with the work done outside events in event equivalents
    /// (status-test probes, passes over the collectors, the RTT percentiles).
    pub events: Vec<Part>,
    /// Of those, the work done outside events (the rest is what the engine counts).
    pub work_outside_events: f64,
    /// Every table the run writes, with its rows.
    pub tables: Vec<TableEstimate>,
}

impl Estimate {
    /// Estimated peak resident memory, in bytes.
    pub fn peak_bytes(&self) -> f64 {
        self.memory.iter().map(|p| p.amount).sum()
    }

    /// Estimated engine events, plus the work done outside events in event equivalents.
    pub fn event_count(&self) -> f64 {
        self.events.iter().map(|p| p.amount).sum()
    }

    /// Estimated events the engine will count (`events_processed`).
    pub fn engine_events(&self) -> f64 {
        (self.event_count() - self.work_outside_events).max(0.0)
    }

    /// The table with the most rows.
    pub fn largest_table(&self) -> Option<&TableEstimate> {
        self.tables.iter().max_by(|a, b| a.rows.total_cmp(&b.rows))
    }

    /// Whether the scenario stays within the loader's hard limits (VM slots, clouds,
    /// collectors, random outages), which no machine lifts.
    pub fn within_plan_limits(&self) -> bool {
        let c = &self.counts;
        c.slots <= crate::lifecycle::plan::MAX_VM_SLOTS
            && c.clouds <= crate::topology::MAX_CLOUDS
            && c.collectors <= crate::scenario::MAX_COLLECTORS as u64
            && c.outages <= crate::lifecycle::plan::MAX_RANDOM_OUTAGES as f64
    }

    /// The rows estimated for `name`, 0 if the run does not write it.
    pub fn rows(&self, name: &str) -> f64 {
        self.tables
            .iter()
            .find(|t| t.name == name)
            .map_or(0.0, |t| t.rows)
    }
}

fn dur(key: &str, d: crate::engine::SimDuration) -> Driver {
    Driver::new(key, Value::Duration(d))
}

fn count(key: &str, n: u64) -> Driver {
    Driver::new(key, Value::Count(n))
}

/// Estimates a run of `s`.
pub fn estimate(s: &Scenario) -> Estimate {
    let c = Counts::of(s);
    let sim = &s.simulation;
    let horizon = sim.duration.as_secs_f64();
    let nanos = |d: crate::engine::SimDuration| d.as_nanos().max(1) as f64;
    let samples = (sim.duration.as_nanos() as f64 / nanos(sim.sample_interval)).floor() + 1.0;
    let per_interval = |d: crate::engine::SimDuration| sim.duration.as_nanos() as f64 / nanos(d);
    let sample_driver = || Some(dur("simulation.sample_interval", sim.sample_interval));
    let vm_driver = c.vm_drivers.first().map(|(d, _)| d.clone());
    let m = &s.monitoring;
    let clouds = c.clouds as f64;

    // ---- tables ----
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
    let n_samples = super::fmt_count(samples);
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
        format!("{n_samples} samples"),
        sample_driver(),
        Shrinks::WhenHigher,
    );
    let clouds_with_vms = clouds.min((c.vms + c.serve_slots) as f64);
    let statuses = statuses_per_cloud(s, &c);
    table(
        file::VM_STATES,
        samples * clouds_with_vms * statuses,
        format!(
            "{n_samples} samples x {} clouds x ~{statuses:.1} statuses",
            super::fmt_count(clouds_with_vms)
        ),
        sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::MCIS_STATUS,
        samples * c.mcis as f64,
        format!("{n_samples} samples x {} MCIS", c.mcis),
        sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::PROVIDER_API,
        samples * c.providers as f64,
        format!("{n_samples} samples x {} providers", c.providers),
        sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::OUTAGES,
        c.outages,
        "outages".into(),
        outage_driver(s),
        Shrinks::WhenLower,
    );
    let p_fail = s
        .lifecycle
        .create_failure_p
        .map_or(DEFAULT_FAILURE_P, |p| p.get())
        .clamp(0.0, 1.0);
    let attempts = s.lifecycle.retry.attempts.max(1) as f64;
    // Expected create attempts per VM: 1 + p + p^2 + ... (attempts terms).
    let tries = if p_fail >= 1.0 {
        attempts
    } else {
        (1.0 - p_fail.powf(attempts)) / (1.0 - p_fail)
    };
    let action_vms: f64 = s
        .actions
        .iter()
        .map(|a| {
            c.mcis_vms
                .iter()
                .find(|(n, _)| *n == a.mcis)
                .map_or(0.0, |(_, v)| *v as f64)
        })
        .sum();
    if s.output.vm_events {
        table(
            file::VM_EVENTS,
            c.vms_launched as f64 * 3.0 * tries + action_vms * 2.0,
            format!(
                "~3 transitions x {} VMs",
                super::fmt_count(c.vms_launched as f64)
            ),
            Some(Driver::new("output.vm_events", Value::Flag(true))),
            Shrinks::WhenLower,
        );
    }
    if m.enabled {
        table(
            file::MONITORING,
            samples,
            format!("{n_samples} samples"),
            sample_driver(),
            Shrinks::WhenHigher,
        );
    }
    let ticks = if c.policies > 0 {
        per_interval(s.control.tick)
    } else {
        0.0
    };
    let tick_driver = || Some(dur("control.tick", s.control.tick));
    table(
        file::CONTROL,
        samples * c.watched_mcis as f64,
        format!("{n_samples} samples x {} watched MCIS", c.watched_mcis),
        sample_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::CONTROL_SAMPLES,
        ticks * c.policies as f64,
        format!(
            "{} control ticks x {} policies",
            super::fmt_count(ticks),
            c.policies
        ),
        tick_driver(),
        Shrinks::WhenHigher,
    );
    table(
        file::CONTROL_ACTIONS,
        ticks * c.policies as f64 / 20.0,
        "actions of the control loop".into(),
        tick_driver(),
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
    // CLADNet status tests: per test and MCIS, N x N VM pairs up to max_vm_matrix VMs, else
    // its clouds' pairs (4 sampled VM pairs each, after a pass over the N VMs per pair).
    let cl = &s.cladnet;
    let trials = cl.trial_count.max(1) as f64;
    let mut matrix_rows = 0.0;
    let mut probes = 0.0;
    let tests: Vec<f64> = cl
        .status_tests
        .iter()
        .filter(|t| **t <= sim.duration)
        .map(|t| t.as_secs_f64())
        .collect();
    for t in &tests {
        for (mi, (_, all)) in c.mcis_vms.iter().enumerate() {
            // Every VM of the MCIS is a peer; the Running ones probe.
            let n = *all as f64;
            let up = c.running_by(mi, *t, &s.lifecycle.stagger).min(n);
            let mc = clouds.min(n);
            if n <= cl.max_vm_matrix as f64 {
                matrix_rows += up * n;
                probes += up * n * trials;
            } else {
                matrix_rows += mc * mc;
                probes += mc * mc * (4.0 * trials + n / PROBES_PER_EVENT);
            }
        }
    }
    table(
        file::LATENCY_MATRIX,
        matrix_rows,
        format!("{} status tests x VM or cloud pairs", tests.len()),
        Some(count("cladnet.max_vm_matrix", cl.max_vm_matrix as u64)),
        Shrinks::WhenLower,
    );
    if cl.placement.enabled {
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
            format!("{n_samples} samples x the routes called (depends on the clients)"),
            sample_driver(),
            Shrinks::WhenHigher,
        );
    }

    // ---- events ----
    let mut events = Vec::new();
    let mut outside = 0.0;
    events.push(Part {
        what: format!("{n_samples} samples"),
        amount: samples,
        driver: sample_driver(),
        shrinks: Shrinks::WhenHigher,
    });
    let (retry_driver, retry_shrinks) = if tries > 2.0 {
        (
            Some(count(
                "lifecycle.retry.attempts",
                s.lifecycle.retry.attempts as u64,
            )),
            Shrinks::WhenLower,
        )
    } else {
        (vm_driver.clone(), Shrinks::WhenLower)
    };
    events.push(Part {
        what: format!(
            "{} VM creations (~{tries:.1} attempts each) and actions",
            super::fmt_count(c.vms_launched as f64)
        ),
        amount: c.vms_launched as f64 * EVENTS_PER_CREATE * tries
            + action_vms * 3.0
            + crash_events(s, &c),
        driver: retry_driver,
        shrinks: retry_shrinks,
    });
    events.push(Part {
        what: format!(
            "the RTT percentiles of {} cloud pairs",
            super::fmt_count(clouds * clouds)
        ),
        // Gathered and sorted once at the end: a fifth of an event per pair.
        amount: {
            outside += clouds * clouds / 5.0;
            clouds * clouds / 5.0
        },
        driver: Some(count(
            "topology.accounts_per_region",
            s.topology.accounts_per_region as u64,
        )),
        shrinks: Shrinks::WhenLower,
    });
    events.push(Part {
        what: format!("{} outages", super::fmt_count(c.outages)),
        amount: c.outages * 2.0,
        driver: outage_driver(s),
        shrinks: Shrinks::WhenLower,
    });
    let mut queue_bytes = 0.0;
    let mut queue_what = String::new();
    if m.enabled {
        let inline = m.inline_service
            && m.mode == Mode::Push
            && m.collectors.queue == QueueDiscipline::PerCollector
            && m.collectors.policy != Policy::AgentCount
            && c.collectors <= m.collectors.server_cores as u64;
        let rounds = per_interval(m.collectors.interval);
        match m.mode {
            Mode::Push => {
                let reports = c.agent_seconds / m.interval.as_secs_f64().max(1e-9);
                events.push(Part {
                    what: format!(
                        "{} monitoring reports ({} agents every {})",
                        super::fmt_count(reports),
                        super::fmt_count(c.agents as f64),
                        m.interval
                    ),
                    amount: reports * if inline { 1.0 } else { 2.0 },
                    driver: Some(dur("monitoring.interval", m.interval)),
                    shrinks: Shrinks::WhenHigher,
                });
            }
            Mode::Pull => {
                let polls = per_interval(m.pull_interval);
                let answers = c.agent_seconds / m.pull_interval.as_secs_f64().max(1e-9);
                events.push(Part {
                    what: format!(
                        "{} polls of {} agents",
                        super::fmt_count(polls),
                        super::fmt_count(c.agents as f64)
                    ),
                    amount: polls + 2.0 * answers,
                    driver: Some(dur("monitoring.pull_interval", m.pull_interval)),
                    shrinks: Shrinks::WhenHigher,
                });
            }
        }
        // Storage writes per round: a batch per collector with reports in the round, more
        // for rounds of more than `batch_points` points.
        let round_s = m.collectors.interval.as_secs_f64();
        let period = match m.mode {
            Mode::Push => m.interval.as_secs_f64(),
            Mode::Pull => m.pull_interval.as_secs_f64(),
        };
        let reports_per_round = c.agents_started as f64 * (round_s / period.max(1e-9)).min(1e18);
        let batches = (c.agents_started as f64 * m.measurements as f64
            / m.storage.batch_points.max(1) as f64)
            .max((c.collectors_started as f64).min(reports_per_round));
        events.push(Part {
            what: format!(
                "{} collector rounds x {} collectors",
                super::fmt_count(rounds),
                super::fmt_count(c.collectors_started as f64)
            ),
            // A round event, its storage writes, and a pass over the collectors (a tenth of
            // an event each).
            amount: {
                let pass = rounds * c.collectors_started as f64 / 10.0;
                outside += pass;
                rounds * (1.0 + batches) + pass
            },
            driver: Some(dur("monitoring.collectors.interval", m.collectors.interval)),
            shrinks: Shrinks::WhenHigher,
        });
        // Queues: reports offered beyond what the collectors can serve pile up, up to each
        // collector's buffer.
        let (offered, served) = monitoring_rates(s, &c);
        if offered > served && c.agents_started > 0 {
            let active = c.agent_seconds / c.agents_started.max(1) as f64;
            let cap = m.collectors.buffer as f64 * c.collectors_started as f64;
            let backlog = ((offered - served) * active).min(cap);
            queue_bytes = backlog * BYTES_PER_QUEUED_REPORT;
            queue_what = format!(
                "monitoring queues: the collectors serve about {} of {} reports/s, so about {} \
                 reports wait",
                super::fmt_count(served),
                super::fmt_count(offered),
                super::fmt_count(backlog)
            );
        }
    }
    if ticks > 0.0 {
        events.push(Part {
            what: format!("{} control ticks", super::fmt_count(ticks)),
            amount: ticks * (1.0 + c.policies as f64),
            driver: tick_driver(),
            shrinks: Shrinks::WhenHigher,
        });
    }
    if probes > 0.0 {
        events.push(Part {
            what: format!("{} status-test probes", super::fmt_count(probes)),
            amount: {
                outside += probes / PROBES_PER_EVENT;
                probes / PROBES_PER_EVENT
            },
            driver: Some(count("cladnet.trial_count", cl.trial_count as u64)),
            shrinks: Shrinks::WhenLower,
        });
    }

    // ---- memory ----
    let fixed = BASE_BYTES
        + if c.slots >= EVENT_RING_FROM {
            EVENT_RING_BYTES
        } else {
            0.0
        };
    let mut memory = vec![Part {
        what: "the program, its catalogues and the event list".into(),
        amount: fixed,
        driver: None,
        shrinks: Shrinks::WhenLower,
    }];
    memory.push(Part {
        what: format!(
            "{} VMs ({} clouds)",
            super::fmt_count(c.slots as f64),
            super::fmt_count(clouds)
        ),
        amount: c.slots as f64 * BYTES_PER_SLOT
            + c.vms_launched as f64 * BYTES_PER_LAUNCH
            + c.agents as f64 * BYTES_PER_AGENT,
        driver: vm_driver,
        shrinks: Shrinks::WhenLower,
    });
    memory.push(Part {
        what: format!(
            "{} clouds (and the RTT of each pair, for the summary)",
            super::fmt_count(clouds)
        ),
        amount: clouds * BYTES_PER_CLOUD + clouds * clouds * BYTES_PER_CLOUD_PAIR,
        driver: Some(count(
            "topology.accounts_per_region",
            s.topology.accounts_per_region as u64,
        )),
        shrinks: Shrinks::WhenLower,
    });
    if m.enabled {
        let (key, value, shrinks) = match m.collectors.policy {
            Policy::Fixed => (
                "monitoring.collectors.count",
                m.collectors.count,
                Shrinks::WhenLower,
            ),
            _ => (
                "monitoring.collectors.max_host_count",
                m.collectors.max_host_count,
                Shrinks::WhenHigher,
            ),
        };
        memory.push(Part {
            what: format!(
                "{} collectors",
                super::fmt_count(c.collectors_started as f64)
            ),
            amount: c.collectors_started as f64 * BYTES_PER_COLLECTOR,
            driver: Some(count(key, value as u64)),
            shrinks,
        });
    }
    if queue_bytes > 0.0 {
        memory.push(Part {
            what: queue_what,
            amount: queue_bytes,
            driver: Some(dur("monitoring.interval", m.interval)),
            shrinks: Shrinks::WhenLower,
        });
    }
    memory.push(Part {
        what: format!("{} outages", super::fmt_count(c.outages)),
        amount: c.outages * BYTES_PER_OUTAGE,
        driver: outage_driver(s),
        shrinks: Shrinks::WhenLower,
    });
    // Tables stay in memory until the run ends. Then each is copied once as it is written,
    // and the report is drawn: the larger of the two comes on top of them.
    let largest = tables.iter().map(|t| t.bytes).fold(0.0, f64::max);
    let report = if s.output.report { REPORT_BYTES } else { 0.0 };
    for t in &tables {
        let copy = if t.bytes == largest && largest > report {
            t.bytes
        } else {
            0.0
        };
        if t.bytes + copy > 0.0 {
            memory.push(Part {
                what: format!("{} ({} rows)", t.name, super::fmt_count(t.rows)),
                amount: t.bytes + copy,
                driver: t.driver.clone(),
                shrinks: t.shrinks,
            });
        }
    }
    if report >= largest && report > 0.0 {
        memory.push(Part {
            what: "drawing the report".into(),
            amount: report,
            driver: Some(Driver::new("output.report", Value::Flag(true))),
            shrinks: Shrinks::WhenLower,
        });
    }
    let _ = horizon;
    Estimate {
        counts: c,
        samples,
        probes,
        memory,
        events,
        work_outside_events: outside,
        tables,
    }
}

/// Reports offered to the collectors per second once every agent runs, and what they can
/// serve: each collector is a single server, and the busy ones share `server_cores`.
pub fn monitoring_rates(s: &Scenario, c: &Counts) -> (f64, f64) {
    let m = &s.monitoring;
    let service = m
        .collectors
        .service_time
        .mean_secs()
        .unwrap_or(0.0)
        .max(0.0);
    let per_message = match m.mode {
        Mode::Push => service,
        Mode::Pull => service * m.pull_calls.max(1) as f64,
    };
    let period = match m.mode {
        Mode::Push => m.interval.as_secs_f64(),
        Mode::Pull => m.pull_interval.as_secs_f64(),
    };
    let offered = c.agents_started as f64 / period.max(1e-9);
    let servers = (c.collectors_started.max(1)).min(m.collectors.server_cores.max(1) as u64) as f64;
    let served = if per_message > 0.0 {
        servers / per_message
    } else {
        f64::INFINITY
    };
    (offered, served)
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

/// The key behind the outages: the random outages' rate, if any.
fn outage_driver(s: &Scenario) -> Option<Driver> {
    s.lifecycle.random_outages.as_ref().map(|r| {
        Driver::new(
            "lifecycle.random_outages.rate_per_day",
            Value::Number(r.rate_per_day),
        )
    })
}

/// Crashes of Running VMs (each a failure and the notices it sends).
fn crash_events(s: &Scenario, c: &Counts) -> f64 {
    let Some(mean) = s.lifecycle.crash.as_ref().and_then(|d| d.mean_secs()) else {
        return 0.0;
    };
    let per_vm = (s.simulation.duration.as_secs_f64() / mean.max(1e-9)).min(1.0);
    c.slots as f64 * per_vm * 2.0
}
