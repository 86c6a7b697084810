//! The estimate: its parts (each naming the scenario key behind it), what every part is
//! derived from ([`Shape`]: samples, control ticks, create attempts), and the peak memory,
//! which adds up the state, the queues and the tables. Rows are in `rows.rs`, events in
//! `events.rs`. The constants are calibrated measurements (the module documentation of
//! [`crate::size`] and BENCHMARKS.md); everything else is counting.

use super::counts::Counts;
use super::driver::{Driver, Shrinks, Value};
use crate::engine::SimDuration;
use crate::monitoring::config::Policy;
use crate::scenario::Scenario;

/// Resident memory of the program with an empty world: code, the region and spec catalogues,
/// the latency model, the provider profiles (the unoptimised debug build, which tests run, is
/// twice the size).
pub const BASE_BYTES: f64 = if cfg!(debug_assertions) { 32e6 } else { 12e6 };
/// Drawing the report (`output.report`): the plots' rasters and fonts.
pub const REPORT_BYTES: f64 = 6e6;
/// The event list's ring of buckets once it adapts to a few thousand pending events (2^18
/// empty buckets).
pub const EVENT_RING_BYTES: f64 = 6.3e6;
/// Pending events (about one per VM slot) from which the ring is that large.
const EVENT_RING_FROM: u64 = 2_000;
/// Per VM slot: its plan (name, cloud, spec; one copy, shared by the loaded scenario and the
/// model), its lifecycle state and bill, its workload stream, its launch event.
pub const BYTES_PER_SLOT: f64 = 300.0;
/// Per VM launched before the horizon: its create path (gate queues, calls, timeouts, boot
/// events), provisioning record.
pub const BYTES_PER_LAUNCH: f64 = 100.0;
/// Per monitoring agent: its state (one cache line), its topic at the site (12 bytes), its
/// plan entry, its pending report.
pub const BYTES_PER_AGENT: f64 = 78.0;
/// Per collector: queues, round buffer, service stream.
pub const BYTES_PER_COLLECTOR: f64 = 160.0;
/// Per cloud: the resolved cloud and its region (held by several plans), gates, counters.
pub const BYTES_PER_CLOUD: f64 = 2_000.0;
/// Per outage: the outage and the clouds it covers.
pub const BYTES_PER_OUTAGE: f64 = 300.0;
/// Per report held with a round in the storage's write queue (its send time, 8 bytes, in a
/// buffer grown by doubling).
pub const BYTES_PER_HELD_REPORT: f64 = 12.0;
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
pub(super) const DEFAULT_FAILURE_P: f64 = 0.03;

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
    /// Time-series samples (`duration / sample_interval + 1`, rounded down, plus one at the
    /// end when the duration is not a multiple of the interval).
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

/// What the parts of an estimate are derived from, besides the counts.
pub(super) struct Shape {
    /// Time-series samples (as in [`Estimate::samples`]), and as text.
    pub samples: f64,
    pub n_samples: String,
    /// Control-loop ticks (none without a policy).
    pub ticks: f64,
    /// Expected create attempts per VM: 1 + p + p^2 + ... (`retry.attempts` terms).
    pub tries: f64,
    /// VMs the timeline's actions touch.
    pub action_vms: f64,
    sample_interval: SimDuration,
    tick: SimDuration,
    duration: SimDuration,
}

impl Shape {
    fn of(s: &Scenario, c: &Counts) -> Shape {
        let sim = &s.simulation;
        // One row at every multiple of the interval up to the end, and one at the end.
        let (d, i) = (
            sim.duration.as_nanos(),
            sim.sample_interval.as_nanos().max(1),
        );
        let samples = (d / i) as f64 + 1.0 + if d % i == 0 { 0.0 } else { 1.0 };
        let p = s
            .lifecycle
            .create_failure_p
            .map_or(DEFAULT_FAILURE_P, |p| p.get())
            .clamp(0.0, 1.0);
        let attempts = s.lifecycle.retry.attempts.max(1) as f64;
        let tries = if p >= 1.0 {
            attempts
        } else {
            (1.0 - p.powf(attempts)) / (1.0 - p)
        };
        let action_vms = s
            .actions
            .iter()
            .map(|a| {
                c.mcis_vms
                    .iter()
                    .find(|(n, _)| *n == a.mcis)
                    .map_or(0.0, |(_, v)| *v as f64)
            })
            .sum();
        let mut shape = Shape {
            samples,
            n_samples: super::fmt_count(samples),
            ticks: 0.0,
            tries,
            action_vms,
            sample_interval: sim.sample_interval,
            tick: s.control.tick,
            duration: sim.duration,
        };
        if c.policies > 0 {
            shape.ticks = shape.per(s.control.tick);
        }
        shape
    }

    /// Times an interval fits in the run.
    pub fn per(&self, d: SimDuration) -> f64 {
        self.duration.as_nanos() as f64 / d.as_nanos().max(1) as f64
    }

    pub fn sample_driver(&self) -> Option<Driver> {
        Some(dur("simulation.sample_interval", self.sample_interval))
    }

    pub fn tick_driver(&self) -> Option<Driver> {
        Some(dur("control.tick", self.tick))
    }
}

pub(super) fn dur(key: &str, d: SimDuration) -> Driver {
    Driver::new(key, Value::Duration(d))
}

pub(super) fn count(key: &str, n: u64) -> Driver {
    Driver::new(key, Value::Count(n))
}

/// The key behind the outages: the random outages' rate, if any.
pub(super) fn outage_driver(s: &Scenario) -> Option<Driver> {
    s.lifecycle.random_outages.as_ref().map(|r| {
        Driver::new(
            "lifecycle.random_outages.rate_per_day",
            Value::Number(r.rate_per_day),
        )
    })
}

/// Estimates a run of `s`.
pub fn estimate(s: &Scenario) -> Estimate {
    let c = Counts::of(s);
    let sh = Shape::of(s, &c);
    let (tables, probes) = super::rows::tables(s, &c, &sh);
    let load = super::events::events(s, &c, &sh, probes);
    let memory = memory(
        s,
        &c,
        &tables,
        load.queue.into_iter().chain(load.storage_backlog),
    );
    Estimate {
        counts: c,
        samples: sh.samples,
        probes,
        memory,
        events: load.parts,
        work_outside_events: load.outside,
        tables,
    }
}

/// Peak memory by part: the program, the state of VMs, clouds, collectors and outages, the
/// monitoring queues (the collectors' and storage's), the tables and their writing.
fn memory(
    s: &Scenario,
    c: &Counts,
    tables: &[TableEstimate],
    queues: impl Iterator<Item = Part>,
) -> Vec<Part> {
    let m = &s.monitoring;
    let clouds = c.clouds as f64;
    let vm_driver = c.vm_drivers.first().map(|(d, _)| d.clone());
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
            "{} VMs ({})",
            super::fmt_count(c.slots as f64),
            clouds_of(clouds)
        ),
        amount: c.slots as f64 * BYTES_PER_SLOT
            + c.vms_launched as f64 * BYTES_PER_LAUNCH
            + c.agents as f64 * BYTES_PER_AGENT,
        driver: vm_driver,
        shrinks: Shrinks::WhenLower,
    });
    memory.push(Part {
        what: clouds_of(clouds),
        amount: clouds * BYTES_PER_CLOUD,
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
    memory.extend(queues);
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
    for t in tables {
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
    memory
}

/// `"1 cloud"`, `"10,000 clouds"`.
fn clouds_of(n: f64) -> String {
    let noun = if n == 1.0 { "cloud" } else { "clouds" };
    format!("{} {noun}", super::fmt_count(n))
}
