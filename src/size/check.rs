//! Holding an estimate against limits: the memory the machine has, a row limit per table and a
//! cap on events. A refusal names the key that drives the estimate, its value, the value that
//! would fit (found by re-estimating the scenario with the key changed, everything else as it
//! is), and what the machine has.

use super::driver::{Shrinks, Value, search};
use super::model::{Estimate, Part, estimate};
use super::{fmt_bytes, fmt_count, fmt_wall};
use crate::engine::SimDuration;
use crate::scenario::Scenario;
use std::fmt;

/// Rows one table may get: beyond this a time series is unreadable by the report, pandas or a
/// spreadsheet (and several GB of CSV, held in memory until the run ends).
pub const MAX_ROWS: f64 = 1e8;

/// Events a run may take: about a day of wall time at 10 M events/s. Beyond this a run could
/// not finish in any useful time (a 1 ns interval gives ~1e13 events per simulated hour).
pub const MAX_EVENTS: f64 = 1e12;

/// Engine events per wall second on the development machine (BENCHMARKS.md: 7-25 M events/s
/// on the committed scenarios): a rough conversion of events into wall time, for people.
pub const NOMINAL_EVENTS_PER_S: f64 = 1e7;

/// What a run may use.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Memory available to the run, in bytes (`None`: unknown, not checked).
    pub memory_bytes: Option<f64>,
    pub max_rows: f64,
    pub max_events: f64,
}

impl Limits {
    /// The default row and event limits, with `memory_bytes` available.
    pub fn new(memory_bytes: Option<f64>) -> Self {
        Limits {
            memory_bytes,
            max_rows: MAX_ROWS,
            max_events: MAX_EVENTS,
        }
    }
}

/// Why a run is refused: one reason per limit it breaks.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub reasons: Vec<String>,
    /// The estimate that was refused.
    pub estimate: Box<Estimate>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reasons.join("; also "))
    }
}

impl std::error::Error for Refusal {}

/// A limit the estimate breaks.
#[derive(Clone, Copy)]
enum Breach {
    Memory(f64),
    Events(f64),
    Rows(&'static str, f64),
}

impl Breach {
    fn holds(&self, e: &Estimate) -> bool {
        match *self {
            Breach::Memory(avail) => e.peak_bytes() <= avail,
            Breach::Events(cap) => e.event_count() <= cap,
            Breach::Rows(name, cap) => e.rows(name) <= cap,
        }
    }
}

/// Estimates a run of `s` and checks it against `limits`.
pub fn check(s: &Scenario, limits: &Limits) -> Result<Estimate, Refusal> {
    let e = estimate(s);
    // (the part to blame, what is wrong, the limit) for each limit broken.
    let mut found: Vec<(Option<Part>, String, Breach)> = Vec::new();
    let peak = e.peak_bytes();
    if let Some(avail) = limits.memory_bytes
        && peak > avail
    {
        let breach = Breach::Memory(avail);
        let (p, top) = blame(s, &e, &e.memory, breach);
        let text = format!(
            "about {} of memory for {}; this machine has {} available",
            fmt_bytes(peak),
            top.map_or("the run".to_string(), |p| p.what.clone()),
            fmt_bytes(avail)
        );
        found.push((p, text, breach));
    }
    let events = e.event_count();
    if events > limits.max_events {
        let breach = Breach::Events(limits.max_events);
        let (p, top) = blame(s, &e, &e.events, breach);
        let text = format!(
            "about {} engine events ({}), more than the {} a run may take (at ~{} events/s \
             it would need {})",
            fmt_count(events),
            top.map_or("the run".to_string(), |p| p.what.clone()),
            fmt_count(limits.max_events),
            fmt_count(NOMINAL_EVENTS_PER_S),
            fmt_wall(events / NOMINAL_EVENTS_PER_S)
        );
        found.push((p, text, breach));
    }
    let mut big: Vec<_> = e
        .tables
        .iter()
        .filter(|t| t.rows > limits.max_rows)
        .collect();
    big.sort_by(|a, b| b.rows.total_cmp(&a.rows));
    if let Some(t) = big.first() {
        let own = Part {
            what: t.why.clone(),
            amount: t.rows,
            driver: t.driver.clone(),
            shrinks: t.shrinks,
        };
        let breach = Breach::Rows(t.name, limits.max_rows);
        let part = blame(s, &e, std::slice::from_ref(&own), breach)
            .0
            .unwrap_or(own);
        let mut text = format!(
            "{} would get about {} rows ({}), more than the limit of {} rows per table",
            t.name,
            fmt_count(t.rows),
            t.why,
            fmt_count(limits.max_rows)
        );
        if big.len() > 1 {
            let names: Vec<&str> = big[1..].iter().map(|t| t.name).collect();
            text.push_str(&format!(" (so would {})", names.join(", ")));
        }
        found.push((Some(part), text, breach));
    }
    if found.is_empty() {
        return Ok(e);
    }
    // One reason per key to blame: what it causes, and a value of it that fixes all of that.
    let mut reasons = Vec::new();
    let mut done = vec![false; found.len()];
    for i in 0..found.len() {
        if done[i] {
            continue;
        }
        let key = found[i]
            .0
            .as_ref()
            .and_then(|p| p.driver.as_ref())
            .map(|d| &d.key);
        let same: Vec<usize> = (i..found.len())
            .filter(|&j| {
                !done[j]
                    && found[j]
                        .0
                        .as_ref()
                        .and_then(|p| p.driver.as_ref())
                        .map(|d| &d.key)
                        == key
            })
            .collect();
        for &j in &same {
            done[j] = true;
        }
        let texts: Vec<&str> = same.iter().map(|&j| found[j].1.as_str()).collect();
        let breaches: Vec<Breach> = same.iter().map(|&j| found[j].2).collect();
        let part = found[i].0.as_ref();
        reasons.push(format!(
            "{}{}{}",
            lead(part),
            texts.join("; "),
            suggest(s, part, &mut |e| breaches.iter().all(|b| b.holds(e)))
        ));
    }
    Err(Refusal {
        reasons,
        estimate: Box::new(e),
    })
}

/// The part to blame for `breach` among `parts` (of estimate `e`), and the largest part: the
/// largest part whose key alone can be changed to fix it, else another key of the estimate
/// that can (the clouds behind a table of cloud pairs), else the largest part with a key.
fn blame<'p>(
    s: &Scenario,
    e: &Estimate,
    parts: &'p [Part],
    breach: Breach,
) -> (Option<Part>, Option<&'p Part>) {
    let mut keyed: Vec<&Part> = parts.iter().filter(|p| p.driver.is_some()).collect();
    keyed.sort_by(|a, b| b.amount.total_cmp(&a.amount));
    let top = parts.iter().max_by(|a, b| a.amount.total_cmp(&b.amount));
    let fixes = |p: &Part| !suggest(s, Some(p), &mut |e| breach.holds(e)).is_empty();
    if let Some(p) = keyed.iter().find(|p| fixes(p)) {
        return (Some((*p).clone()), top);
    }
    let others = e
        .memory
        .iter()
        .chain(&e.events)
        .cloned()
        .chain(e.tables.iter().map(|t| Part {
            what: t.why.clone(),
            amount: t.rows,
            driver: t.driver.clone(),
            shrinks: t.shrinks,
        }));
    let mut tried: Vec<String> = keyed
        .iter()
        .filter_map(|p| p.driver.as_ref().map(|d| d.key.clone()))
        .collect();
    for p in others {
        let Some(key) = p.driver.as_ref().map(|d| d.key.clone()) else {
            continue;
        };
        if tried.contains(&key) {
            continue;
        }
        if fixes(&p) {
            return (Some(p), top);
        }
        tried.push(key);
    }
    (keyed.first().map(|p| (*p).clone()), top)
}

/// "`key = value`: " or nothing.
fn lead(p: Option<&Part>) -> String {
    p.and_then(|p| p.driver.as_ref())
        .map_or_else(String::new, |d| format!("{d}: "))
}

/// "; KEY of at most / at least V would fit" when changing the part's key alone can make the
/// scenario's estimate pass `fits`.
fn suggest(s: &Scenario, p: Option<&Part>, fits: &mut dyn FnMut(&Estimate) -> bool) -> String {
    let Some((d, dir)) = p.and_then(|p| Some((p.driver.as_ref()?, p.shrinks))) else {
        return String::new();
    };
    let found = search(&d.value, dir, s.simulation.duration, &mut |v| {
        with_value(s, &d.key, v).is_some_and(|s2| {
            let e = estimate(&s2);
            e.within_plan_limits() && fits(&e)
        })
    });
    match found {
        Some(Value::Flag(b)) => format!("; {} = {b} would fit", d.key),
        Some(v) => {
            let bound = if dir == Shrinks::WhenHigher {
                "at least"
            } else {
                "at most"
            };
            format!("; {} of {bound} {v} would fit", d.key)
        }
        None => String::new(),
    }
}

/// `s` with the key a [`Driver`](super::Driver) names set to `v` (the keys the estimate names), or `None`.
pub fn with_value(s: &Scenario, key: &str, v: &Value) -> Option<Scenario> {
    let mut s = s.clone();
    let count = || match *v {
        Value::Count(n) => u32::try_from(n).ok(),
        _ => None,
    };
    let duration = || match *v {
        Value::Duration(d) if d > SimDuration::ZERO => Some(d),
        _ => None,
    };
    // `name[i].rest` -> (i, rest).
    let index = |k: &str, name: &str| -> Option<(usize, String)> {
        let rest = k.strip_prefix(name)?.strip_prefix('[')?;
        let (i, rest) = rest.split_once(']')?;
        Some((i.parse().ok()?, rest.trim_start_matches('.').to_string()))
    };
    match key {
        "topology.vms_per_cloud" => s.topology.vms_per_cloud = count()?,
        "topology.accounts_per_region" => s.topology.accounts_per_region = count()?.max(1),
        "serve.max_vms" => s.serve.max_vms = count()?,
        "control.max_scale_out" => s.control.max_scale_out = count()?,
        "cladnet.trial_count" => s.cladnet.trial_count = count()?.max(1),
        "cladnet.max_vm_matrix" => s.cladnet.max_vm_matrix = count()?,
        "network.cloud_rtt_max_clouds" => s.network.cloud_rtt_max_clouds = count()?,
        "lifecycle.retry.attempts" => s.lifecycle.retry.attempts = count()?.max(1),
        "monitoring.collectors.count" => s.monitoring.collectors.count = count()?.max(1),
        "monitoring.collectors.max_host_count" => {
            s.monitoring.collectors.max_host_count = count()?.max(1)
        }
        "simulation.sample_interval" => s.simulation.sample_interval = duration()?,
        "monitoring.interval" => s.monitoring.interval = duration()?,
        "monitoring.pull_interval" => s.monitoring.pull_interval = duration()?,
        "monitoring.collectors.interval" => s.monitoring.collectors.interval = duration()?,
        "control.tick" => s.control.tick = duration()?,
        "output.vm_events" => match v {
            Value::Flag(b) => s.output.vm_events = *b,
            _ => return None,
        },
        "lifecycle.random_outages.rate_per_day" => match (v, s.lifecycle.random_outages.as_mut()) {
            (Value::Number(x), Some(r)) => r.rate_per_day = *x,
            _ => return None,
        },
        k if k.starts_with("topology.clouds[") => {
            let (i, rest) = index(k, "topology.clouds")?;
            (rest == "vms").then_some(())?;
            s.topology.clouds.get_mut(i)?.vms = Some(count()?);
        }
        k if k.starts_with("control.policies[") => {
            let (i, rest) = index(k, "control.policies")?;
            (rest == "max_vms").then_some(())?;
            s.control.policies.get_mut(i)?.max_vms = Some(count()?);
        }
        k if k.starts_with("mcis[") => {
            let (i, rest) = index(k, "mcis")?;
            let (j, rest) = index(&rest, "groups")?;
            (rest == "count").then_some(())?;
            s.mcis.get_mut(i)?.groups.get_mut(j)?.count = Some(count()?);
        }
        _ => return None,
    }
    Some(s)
}
