//! Know before you run: the size of a run estimated from its scenario alone, before any plan is
//! built, so a run too big for the machine is refused in milliseconds instead of aborting on a
//! failed allocation or running for ever.
//!
//! [`estimate`] reads a [`Scenario`](crate::scenario::Scenario) (a [`crate::scenario::Draft`]'s,
//! or a loaded one's) and gives, by part and each with the key that drives it:
//!
//! - **Counts** ([`Counts`]): clouds, VMs and spare slots, agents, collectors, MCIS, outages, and
//!   the agent-seconds of reporting (each VM's time from its launch, after the group's stagger,
//!   jitter, API delay, boot and agent start, to the horizon).
//! - **Rows per table**: time series get one row per sample (`duration / sample_interval + 1`,
//!   and one more at the end when the duration is not a multiple of the interval) and key:
//!   `engine.csv` and `monitoring.csv` one, `vm_states.csv` 1-2 per cloud with VMs (Running,
//!   and Failed where VMs fail for good), `mcis_status.csv` one per MCIS,
//!   `provider_api.csv` one per provider, `control.csv` one per watched MCIS;
//!   `control_samples.csv` one per control tick and policy; `cloud_rtt.csv` clouds squared
//!   (unless over `network.cloud_rtt_max_clouds`); `latency_matrix.csv` per status test and
//!   MCIS N x N VM pairs up to `cladnet.max_vm_matrix` VMs, else its clouds' pairs;
//!   `vm_events.csv` ~3 transitions per VM and create attempt; `outages.csv` one per outage
//!   (random ones: their expected number). Bytes per row are the committed scenarios'
//!   averages.
//! - **Engine events**: samples; ~6 per VM creation attempt (attempts 1 + p + p^2 + ... with
//!   the failure probability and retries) and 3 per VM an action touches; monitoring reports
//!   (agent-seconds / `monitoring.interval`), two events each where the collectors' services
//!   are simulated, one where they are computed on arrival (see the monitoring README
//!   section); collector rounds (`duration / collectors.interval`, times the storage writes
//!   of each); pull polls; control ticks. Work done outside events counts in event
//!   equivalents: status-test probes and peer scans (a tenth of an event each: they are drawn
//!   in a loop, not scheduled), a tenth per collector per round.
//! - **Peak memory**: a base (program and catalogues: 12 MB, 32 MB for the debug build tests
//!   run; 6.3 MB more for the event list's ring once a few thousand events are pending) +
//!   300 B per VM slot (plan, lifecycle state, bill, workload stream, launch event) + 100 B
//!   per VM launched before the horizon + 78 B per agent + 160 B per collector in use + 2 kB
//!   per cloud + 300 B per outage + the **monitoring queues** + the **tables**. Queues: when the reports offered
//!   (agents / interval) exceed what the collectors serve (busy collectors, at most
//!   `server_cores`, each a report per mean `service_time`), the excess piles up for the
//!   agents' mean reporting time, up to `buffer` reports per collector, 48 B each. Tables are
//!   CSV bytes held until the run ends; then the largest is copied once as it is written, or
//!   the report is drawn (6 MB), whichever is more. The storage backlog counts when a round's
//!   writes (a request per collector, `batch_overhead` each, plus the points at
//!   `write_capacity`) take longer than the round: the write queue then grows by what the writer
//!   cannot take, up to `queue_limit` points, and the reports riding with it are held, 12 B
//!   each. Left out: the report's
//!   reading of CSVs, which stayed below the table copy in every measurement.
//!
//! **Calibration** (BENCHMARKS.md, "Know before you run (issue 15)"): peak resident memory
//! (maxRSS of `/usr/bin/time`) of release runs on the 2-core, 24 GiB development machine: 20
//! clouds with 500, 5,000 and 50,000 VMs each, monitoring off, fixed, agentCount with 5 and
//! 1 agents per collector (per-slot, per-agent and per-collector costs are the slopes); the
//! default scenario at 1,000 and 10,000 VMs per cloud (most not launched in 10 minutes);
//! 250 to 2,000 clouds (before the summary's RTT percentiles were counted per pair of regions,
//! the cloud pairs cost 20 B each); 100 clouds at a 1 s sample interval over 24 h
//! (310 MB of tables: peak = base + 1.9 x tables); 200,000 VMs whose collectors fall behind
//! (queues); and every committed scenario, whose estimate is within a factor of 2 of the
//! measured peak (`tests/size.rs` checks it on shortened runs of the debug build). The
//! per-slot and per-launch costs were re-measured on 2026-12-05 after the plan stopped being
//! copied and the event list's rebuilds stopped leaving slack (1,000 clouds with 100 and
//! 1,000 VMs each, monitoring off, 10 minutes: 370 B per VM launched, from 579 B).
//!
//! What it does not know: the live twin's clients (its API requests and their `api.csv`
//! rows), monitoring queues that build up only in bursts, and the event list's slack under
//! unusual event-time patterns. The estimate is a guide, not a bound; [`check`] holds it
//! against [`Limits`] (available memory, [`MAX_ROWS`] rows per table, [`MAX_EVENTS`] events)
//! and explains a refusal. Reading the machine's memory is the caller's business (the CLI
//! reads `/proc/meminfo`); this module reads no clock and no system state.

mod check;
mod counts;
mod driver;
mod events;
pub mod machine;
mod model;
mod rows;
mod sites;

pub use check::{Limits, MAX_EVENTS, MAX_ROWS, NOMINAL_EVENTS_PER_S, Refusal, check};
pub use counts::Counts;
pub use driver::{Driver, Shrinks, Value, fmt_bytes, fmt_count, fmt_wall, search, short_duration};
pub use model::{BASE_BYTES, Estimate, Part, TableEstimate, estimate};

/// The estimate for people, one line per item: counts, memory, events, rows of each table
/// the run writes (most first).
pub fn describe(e: &Estimate) -> Vec<String> {
    let c = &e.counts;
    let mut lines = vec![
        format!(
            "{} clouds, {} VM slots ({} requested), {} agents, {} collectors",
            fmt_count(c.clouds as f64),
            fmt_count(c.slots as f64),
            fmt_count(c.vms as f64),
            fmt_count(c.agents as f64),
            fmt_count(c.collectors as f64)
        ),
        format!("peak memory ~{}", fmt_bytes(e.peak_bytes())),
    ];
    lines.extend(memory_parts(e));
    lines.extend([format!(
        "engine events ~{}{} (~{} at {} events/s)",
        fmt_count(e.engine_events()),
        if e.work_outside_events >= 1.0 {
            format!(
                " + work outside events worth ~{}",
                fmt_count(e.work_outside_events)
            )
        } else {
            String::new()
        },
        fmt_wall(e.event_count() / NOMINAL_EVENTS_PER_S),
        fmt_count(NOMINAL_EVENTS_PER_S)
    )]);
    let mut tables: Vec<&TableEstimate> = e.tables.iter().filter(|t| t.rows > 0.0).collect();
    tables.sort_by(|a, b| b.rows.total_cmp(&a.rows).then(a.name.cmp(b.name)));
    for t in tables {
        lines.push(format!(
            "{:<20} ~{} rows, ~{}",
            t.name,
            fmt_count(t.rows),
            fmt_bytes(t.bytes)
        ));
    }
    lines
}

/// Memory parts listed under the peak: at most this many, largest first, and none smaller
/// than `PART_LISTED_FROM` bytes; the others are summed in one line.
const PARTS_LISTED: usize = 6;
const PART_LISTED_FROM: f64 = 0.5e6;

/// The peak memory's largest parts, one indented line each with the key that drives it and its
/// value, as a refusal gives them (`key = value`): what a user would change to make the run
/// smaller.
fn memory_parts(e: &Estimate) -> Vec<String> {
    let mut parts: Vec<&Part> = e.memory.iter().collect();
    parts.sort_by(|a, b| b.amount.total_cmp(&a.amount).then(a.what.cmp(&b.what)));
    parts.truncate(PARTS_LISTED);
    parts.retain(|p| p.amount >= PART_LISTED_FROM);
    let mut lines: Vec<String> = parts
        .iter()
        .map(|p| {
            let key = p
                .driver
                .as_ref()
                .map_or(String::new(), |d| format!("  [{d}]"));
            format!("  ~{:<8} {}{key}", fmt_bytes(p.amount), p.what)
        })
        .collect();
    let rest = e.peak_bytes() - parts.iter().map(|p| p.amount).sum::<f64>();
    if rest >= PART_LISTED_FROM {
        lines.push(format!("  ~{:<8} the rest", fmt_bytes(rest)));
    }
    lines
}

/// The estimate in one line (`run` prints it before a run).
pub fn one_line(e: &Estimate) -> String {
    let rows = e
        .largest_table()
        .filter(|t| t.rows > 0.0)
        .map_or(String::new(), |t| {
            format!(", largest table {} ~{} rows", t.name, fmt_count(t.rows))
        });
    format!(
        "estimate: {} VMs, peak memory ~{}, ~{} events (~{} at {} events/s){rows}",
        fmt_count(e.counts.slots as f64),
        fmt_bytes(e.peak_bytes()),
        fmt_count(e.engine_events()),
        fmt_wall(e.event_count() / NOMINAL_EVENTS_PER_S),
        fmt_count(NOMINAL_EVENTS_PER_S)
    )
}

#[cfg(test)]
mod tests;
