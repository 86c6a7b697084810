//! Engine events by part: samples, VM creations and actions, outages, monitoring reports or
//! polls and collector rounds, control ticks, and the work done outside events in event
//! equivalents (status-test probes and peer scans, passes over the collectors, the RTT
//! percentiles). Also the monitoring queues: reports offered beyond what the collectors serve,
//! and the storage's write queue when its writes take longer than the rounds.

use super::counts::Counts;
use super::driver::Shrinks;
use super::model::{
    BYTES_PER_HELD_REPORT, BYTES_PER_QUEUED_REPORT, EVENTS_PER_CREATE, PROBES_PER_EVENT, Part,
    Shape, count, dur, outage_driver,
};
use crate::engine::SimDuration;
use crate::monitoring::config::{Mode, Policy, QueueDiscipline};
use crate::scenario::Scenario;

/// The load of a run.
pub(super) struct Load {
    pub parts: Vec<Part>,
    /// Of the parts' amounts, the work done outside events.
    pub outside: f64,
    /// The memory of the monitoring queues, when the collectors fall behind.
    pub queue: Option<Part>,
    /// The memory of the storage's write queue, when storage falls behind.
    pub storage_backlog: Option<Part>,
}

/// The events of a run of `s` that takes `probes` status-test probes and peer scans.
pub(super) fn events(s: &Scenario, c: &Counts, sh: &Shape, probes: f64) -> Load {
    let m = &s.monitoring;
    let vm_driver = c.vm_drivers.first().map(|(d, _)| d.clone());
    let mut parts = Vec::new();
    let mut outside = 0.0;
    let mut queue = None;
    let mut storage_backlog = None;
    parts.push(Part {
        what: format!("{} samples", sh.n_samples),
        amount: sh.samples,
        driver: sh.sample_driver(),
        shrinks: Shrinks::WhenHigher,
    });
    let retry_driver = if sh.tries > 2.0 {
        Some(count(
            "lifecycle.retry.attempts",
            s.lifecycle.retry.attempts as u64,
        ))
    } else {
        vm_driver
    };
    parts.push(Part {
        what: format!(
            "{} VM creations (~{:.1} attempts each) and actions",
            super::fmt_count(c.vms_launched as f64),
            sh.tries
        ),
        amount: c.vms_launched as f64 * EVENTS_PER_CREATE * sh.tries
            + sh.action_vms * 3.0
            + crash_events(s, c),
        driver: retry_driver,
        shrinks: Shrinks::WhenLower,
    });
    parts.push(Part {
        what: format!("{} outages", super::fmt_count(c.outages)),
        amount: c.outages * 2.0,
        driver: outage_driver(s),
        shrinks: Shrinks::WhenLower,
    });
    if m.enabled {
        // Per-collector queues with the shortcut asked for: service completions are computed
        // on arrival or kept by the collectors (`monitoring::collectors::{inline, deferred}`),
        // so a report is one engine event; otherwise two.
        let inline = m.inline_service && m.collectors.queue == QueueDiscipline::PerCollector;
        match m.mode {
            Mode::Push => {
                let reports = c.agent_seconds / m.interval.as_secs_f64().max(1e-9);
                parts.push(Part {
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
                let polls = sh.per(m.pull_interval);
                let answers = c.agent_seconds / m.pull_interval.as_secs_f64().max(1e-9);
                parts.push(Part {
                    what: format!(
                        "{} polls of {} agents",
                        super::fmt_count(polls),
                        super::fmt_count(c.agents as f64)
                    ),
                    amount: polls + answers * if inline { 1.0 } else { 2.0 },
                    driver: Some(dur("monitoring.pull_interval", m.pull_interval)),
                    shrinks: Shrinks::WhenHigher,
                });
            }
        }
        // Per round: the round event, a storage write per collector with reports in the
        // round (more for rounds of more than `batch_points` points; storage applies its
        // writes itself, not as events, but each costs as much as one), and a pass over the
        // collectors (a tenth of an event each).
        let rounds = sh.per(m.collectors.interval);
        let writes = RoundWrites::of(s, c);
        let batches = writes.requests;
        let pass = rounds * c.collectors_started as f64 / 10.0;
        outside += pass;
        parts.push(Part {
            what: format!(
                "{} collector rounds x {} collectors",
                super::fmt_count(rounds),
                super::fmt_count(c.collectors_started as f64)
            ),
            amount: rounds * (1.0 + batches) + pass,
            driver: Some(dur("monitoring.collectors.interval", m.collectors.interval)),
            shrinks: Shrinks::WhenHigher,
        });
        // Queues: reports offered beyond what the collectors can serve pile up for the
        // agents' mean reporting time, up to each collector's buffer.
        let (offered, served) = monitoring_rates(s, c, &writes.shares);
        if offered > served && c.agents_started > 0 {
            let active = c.agent_seconds / c.agents_started as f64;
            let cap = m.collectors.buffer as f64 * c.collectors_started as f64;
            let backlog = ((offered - served) * active).min(cap);
            queue = Some(Part {
                what: format!(
                    "monitoring queues: the collectors serve about {} of {} reports/s, so about \
                     {} reports wait",
                    super::fmt_count(served),
                    super::fmt_count(offered),
                    super::fmt_count(backlog)
                ),
                amount: backlog * BYTES_PER_QUEUED_REPORT,
                driver: Some(dur("monitoring.interval", m.interval)),
                shrinks: Shrinks::WhenHigher,
            });
        }
        // Storage: when a round's writes take longer than the round, the write queue grows
        // by what the writer cannot take, up to `queue_limit` points (later rounds are then
        // dropped whole), and the reports riding with the queued rounds stay held.
        // Each site's storage writes its own agents' points.
        let busy = writes.load(s);
        if busy >= 1.0 && c.agents_started > 0 {
            let points: f64 = (writes.shares.iter())
                .zip(writes.site_loads(s))
                .filter(|&(_, b)| b >= 1.0)
                .map(|(share, b)| {
                    let piled = rounds * writes.points * share * (1.0 - 1.0 / b);
                    piled.min(m.storage.queue_limit as f64)
                })
                .sum();
            let held = points / m.measurements.max(1) as f64 * writes.reports_per_agent;
            let at = if writes.shares.len() > 1 {
                " at the busiest site"
            } else {
                ""
            };
            storage_backlog = Some(Part {
                what: format!(
                    "storage backlog: a round's writes take {:.0}% of the round{at}, so about {} \
                     points wait to be written (`queue_limit` {}), with {} reports",
                    busy * 100.0,
                    super::fmt_count(points),
                    super::fmt_count(m.storage.queue_limit as f64),
                    super::fmt_count(held)
                ),
                amount: held * BYTES_PER_HELD_REPORT,
                driver: Some(count(
                    "monitoring.storage.queue_limit",
                    m.storage.queue_limit,
                )),
                shrinks: Shrinks::WhenLower,
            });
        }
    }
    if sh.ticks > 0.0 {
        parts.push(Part {
            what: format!("{} control ticks", super::fmt_count(sh.ticks)),
            amount: sh.ticks * (1.0 + c.policies as f64),
            driver: sh.tick_driver(),
            shrinks: Shrinks::WhenHigher,
        });
    }
    if probes > 0.0 {
        outside += probes / PROBES_PER_EVENT;
        parts.push(Part {
            what: format!(
                "{} status-test probes and peer scans",
                super::fmt_count(probes)
            ),
            amount: probes / PROBES_PER_EVENT,
            driver: Some(count("cladnet.trial_count", s.cladnet.trial_count as u64)),
            shrinks: Shrinks::WhenLower,
        });
    }
    Load {
        parts,
        outside,
        queue,
        storage_backlog,
    }
}

/// Reports offered to the collectors per second once every agent runs, and how many of them
/// they serve: each collector is a single server, and the busy ones share each site's
/// `server_cores`. Each site serves its own `shares` of the agents (see `sites.rs`) with its
/// own collectors (agentCount: in proportion; csp and fixed: the same at every site), so a
/// busy site cannot lend its cores to an idle one.
pub fn monitoring_rates(s: &Scenario, c: &Counts, shares: &[f64]) -> (f64, f64) {
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
    let period = report_period(s).as_secs_f64();
    let offered = c.agents_started as f64 / period.max(1e-9);
    let cores = m.collectors.server_cores.max(1) as f64;
    let collectors = c.collectors_started as f64;
    let served = shares
        .iter()
        .map(|&share| {
            let here = match m.collectors.policy {
                Policy::AgentCount => collectors * share,
                Policy::Csp | Policy::Fixed => collectors / shares.len().max(1) as f64,
            };
            let can = if per_message > 0.0 {
                here.max(1.0).min(cores) / per_message
            } else {
                f64::INFINITY
            };
            can.min(offered * share)
        })
        .sum();
    (offered, served)
}

/// What storage gets each aggregation round once every agent reports.
pub(super) struct RoundWrites {
    /// Write requests: one per collector with reports, more for rounds of more than
    /// `batch_points` points.
    pub requests: f64,
    /// Points (one per agent and measurement).
    pub points: f64,
    /// Reports of one agent in a round.
    pub reports_per_agent: f64,
    /// Each site's share of the agents (see `sites.rs`).
    pub shares: Vec<f64>,
}

impl RoundWrites {
    pub(super) fn of(s: &Scenario, c: &Counts) -> Self {
        let m = &s.monitoring;
        let reports_per_agent = (m.collectors.interval.as_secs_f64()
            / report_period(s).as_secs_f64().max(1e-9))
        .min(1e18);
        let points = c.agents_started as f64 * m.measurements as f64;
        let requests = (points / m.storage.batch_points.max(1) as f64)
            .max((c.collectors_started as f64).min(c.agents_started as f64 * reports_per_agent));
        RoundWrites {
            requests,
            points,
            reports_per_agent,
            shares: super::sites::shares(s),
        }
    }

    /// The storage writer's busy fraction: each request `batch_overhead` plus its points /
    /// `write_capacity`, over the round's interval. At 1 or more the write queue grows until
    /// `queue_limit` drops whole rounds: a benchmark sized "not to saturate" stays below it.
    /// With several sites, the busiest site's: each site's storage writes its share of the
    /// requests and points.
    pub(super) fn load(&self, s: &Scenario) -> f64 {
        self.site_loads(s).fold(0.0, f64::max)
    }

    /// Each site's storage load, in the order of `monitoring.site`.
    pub(super) fn site_loads<'a>(&'a self, s: &Scenario) -> impl Iterator<Item = f64> + 'a {
        let st = &s.monitoring.storage;
        let busy = self.requests * st.batch_overhead.as_secs_f64()
            + self.points / st.write_capacity.max(1e-9);
        let all = busy / s.monitoring.collectors.interval.as_secs_f64().max(1e-9);
        self.shares.iter().map(move |share| all * share)
    }
}

/// How often an agent's report reaches the site: its push interval, or the pull interval.
fn report_period(s: &Scenario) -> SimDuration {
    let m = &s.monitoring;
    match m.mode {
        Mode::Push => m.interval,
        Mode::Pull => m.pull_interval,
    }
}

/// Crashes of Running VMs (each a failure and the notices it sends).
fn crash_events(s: &Scenario, c: &Counts) -> f64 {
    let Some(mean) = s.lifecycle.crash.as_ref().and_then(|d| d.mean_secs()) else {
        return 0.0;
    };
    let per_vm = (s.simulation.duration.as_secs_f64() / mean.max(1e-9)).min(1.0);
    c.slots as f64 * per_vm * 2.0
}
