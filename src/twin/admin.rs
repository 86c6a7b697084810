//! The twin's own routes under `/cloudtwin`: change the world while it runs, and look inside.
//!
//! - `POST /cloudtwin/outage` `{"scope", "target", "duration", "effect"?, "after"?}`: an
//!   outage of a zone, region or provider from now (or `after` from now), failing or stalling
//!   what it covers, as the scenario's `[[lifecycle.outages]]` do.
//! - `PUT /cloudtwin/provider/{name}` with any of the provider keys of `[lifecycle]`
//!   (`create_failure_p`, `api_delay`, `boot_time`, ..., `api_rate`): the provider behaves so
//!   from now on.
//! - `GET /cloudtwin/state`: clouds, VMs by status, outages, API totals.
//! - `GET /cloudtwin/agent/{connection}/{vm}/cb-dragonfly/healthcheck` and
//!   `.../cb-dragonfly/metric/{cpu|cpufreq|mem|disk|diskio|net}`: the VM's CB-Dragonfly agent
//!   in pull mode (204 when it answers; the metric as `{name, tags, values}`).
//!
//! Like every request they arrive at a simulated time and are journaled, so a replay makes the
//! same changes. Sources: `../shared/domain/spider-api.md` section 5 (Dragonfly's pull API);
//! `models/providers.toml` (provider keys).

use super::model::{Peers, Reply, Twin, TwinEvent};
use super::request::{ApiError, ApiRequest};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::lifecycle::config::{OutageEffect, OutageScope};
use crate::lifecycle::plan::Outage;
use crate::lifecycle::profile::ProfileSpec;
use crate::lifecycle::{Lifecycle, VmStatus};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `POST /cloudtwin/outage`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutageReq {
    scope: OutageScope,
    target: String,
    duration: SimDuration,
    #[serde(default)]
    effect: OutageEffect,
    /// Starts this long after the request (default: at once).
    #[serde(default)]
    after: SimDuration,
}

/// Refuses distributions read from files: the API must not read the server's files.
fn no_files(v: &serde_json::Value) -> Result<(), ApiError> {
    match v {
        serde_json::Value::Object(m) => {
            if m.contains_key("file") {
                return Err(ApiError::bad_request(
                    "distributions from files are not accepted over the API",
                ));
            }
            m.values().try_for_each(no_files)
        }
        serde_json::Value::Array(a) => a.iter().try_for_each(no_files),
        _ => Ok(()),
    }
}

/// Parses an admin body strictly (unknown keys are errors, as in a scenario file).
fn strict<T: serde::de::DeserializeOwned>(req: &ApiRequest) -> Result<T, ApiError> {
    let v: serde_json::Value = serde_json::from_str(&req.body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not JSON: {e}")))?;
    no_files(&v)?;
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(format!("bad request body: {e}")))
}

impl Twin {
    pub(super) fn admin_outage<E: TwinEvent>(
        &mut self,
        sched: &mut Scheduler<E>,
        p: &mut Peers<'_>,
        req: &ApiRequest,
    ) -> Result<Reply, ApiError> {
        let o: OutageReq = strict(req)?;
        if o.duration.is_zero() {
            return Err(ApiError::bad_request("duration must be longer than 0s"));
        }
        let start = sched.now() + o.after;
        let outage = Outage::targeting(
            o.scope,
            &o.target,
            &p.lifecycle.plan().clouds,
            start,
            o.effect,
        )
        .map_err(ApiError::bad_request)?;
        let outage = Outage {
            end: start + o.duration,
            ..outage
        };
        p.cladnet.add_outage(&outage);
        let idx = p.lifecycle.add_outage(sched, outage);
        self.stats.outage();
        Ok(Reply::ok(&serde_json::json!({
            "outage": idx,
            "target": o.target,
            "start_s": start.as_secs_f64(),
            "end_s": (start + o.duration).as_secs_f64(),
        })))
    }

    pub(super) fn admin_provider(
        &mut self,
        p: &mut Peers<'_>,
        req: &ApiRequest,
        name: &str,
    ) -> Result<Reply, ApiError> {
        let change: ProfileSpec = strict(req)?;
        if change.max_concurrent_regions.is_some() || change.max_vms_per_region.is_some() {
            return Err(ApiError::bad_request(
                "the create concurrency gate cannot change while the twin runs",
            ));
        }
        if let Some(r) = change.api_rate
            && !(r.is_finite() && r >= 0.0)
        {
            return Err(ApiError::bad_request("api_rate must be a number >= 0"));
        }
        if change.api_burst == Some(0) {
            return Err(ApiError::bad_request("api_burst must be at least 1"));
        }
        let provider = name.to_ascii_lowercase();
        let lc = &mut *p.lifecycle;
        let prof = lc.profile_mut(&provider).ok_or_else(|| {
            ApiError::internal(format!("no cloud of provider {name} is in the twin"))
        })?;
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = change.$f.clone() { prof.$f = v; } )* };
        }
        set!(
            api_delay,
            create_failure_p,
            boot_time,
            suspend_time,
            resume_time,
            reboot_time,
            terminate_time,
            create_timeout,
            control_timeout,
            terminate_timeout,
            api_rate,
            api_burst
        );
        let answer = serde_json::json!({
            "provider": provider,
            "create_failure_p": prof.create_failure_p.get(),
            "api_rate": prof.api_rate,
        });
        if change.api_rate.is_some() || change.api_burst.is_some() {
            lc.reset_rate_limit(&provider);
        }
        Ok(Reply::ok(&answer))
    }

    pub(super) fn admin_state(&self, now: SimTime, p: &Peers<'_>) -> Result<Reply, ApiError> {
        let lc = &*p.lifecycle;
        let plan = lc.plan();
        let mut by_cloud: Vec<BTreeMap<&str, u64>> = vec![BTreeMap::new(); plan.clouds.len()];
        let mut total: BTreeMap<&str, u64> = BTreeMap::new();
        for vm in 0..lc.vm_count() as u32 {
            if let Some(s) = lc.status(vm) {
                *by_cloud[lc.vm_plan(vm).cloud as usize]
                    .entry(s.name())
                    .or_default() += 1;
                *total.entry(s.name()).or_default() += 1;
            }
        }
        let clouds: Vec<serde_json::Value> = plan
            .clouds
            .iter()
            .zip(&by_cloud)
            .map(|(c, n)| {
                serde_json::json!({
                    "id": c.id,
                    "name": c.name(),
                    "provider": c.region.provider,
                    "region": c.region.region,
                    "vms": n,
                })
            })
            .collect();
        let outages: Vec<serde_json::Value> = plan
            .outages
            .iter()
            .map(|o| {
                serde_json::json!({
                    "scope": format!("{:?}", o.scope).to_lowercase(),
                    "target": o.target,
                    "effect": format!("{:?}", o.effect).to_lowercase(),
                    "start_s": o.start.as_secs_f64(),
                    "end_s": o.end.as_secs_f64(),
                    "active": o.start <= now && now < o.end,
                })
            })
            .collect();
        let (requests, answers, errors) = self.stats.totals();
        Ok(Reply::ok(&serde_json::json!({
            "sim_time_s": now.as_secs_f64(),
            "clouds": clouds,
            "connections": self.connections.keys().collect::<Vec<_>>(),
            "vms": total,
            "api_vms": self.vms.len(),
            "outages": outages,
            "api": { "requests": requests, "answers": answers, "errors": errors,
                     "waiting": self.waiting.len() },
        })))
    }

    /// The VM of an agent route, if its agent answers.
    fn agent(&self, p: &Peers<'_>, conn: &str, name: &str) -> Result<u32, ApiError> {
        let c = self.known(conn)?;
        let vm = *c
            .vms
            .get(name)
            .ok_or_else(|| ApiError::internal(format!("VM '{name}' does not exist!")))?;
        let up = match p.monitoring.as_deref() {
            Some(m) => m.agent_up(vm),
            None => p.lifecycle.status(vm) == Some(VmStatus::Running),
        };
        if !up {
            return Err(ApiError {
                status: 503,
                message: format!("the agent of VM '{name}' does not answer"),
            });
        }
        Ok(vm)
    }

    pub(super) fn agent_health(
        &self,
        p: &Peers<'_>,
        conn: &str,
        name: &str,
    ) -> Result<Reply, ApiError> {
        self.agent(p, conn, name)?;
        Ok(Reply::Empty)
    }

    /// One metric in CB-Dragonfly's pull format, from the workload model.
    pub(super) fn agent_metric(
        &mut self,
        now: SimTime,
        p: &mut Peers<'_>,
        conn: &str,
        name: &str,
        metric: &str,
    ) -> Result<Reply, ApiError> {
        if !METRICS.contains(&metric) {
            return Err(ApiError::internal(format!(
                "metric '{metric}' is not one of {}",
                METRICS.join(", ")
            )));
        }
        let vm = self.agent(p, conn, name)?;
        let values = metric_values(now, p, vm, metric);
        let r = &self.vms[&vm];
        Ok(Reply::ok(&serde_json::json!({
            "name": metric,
            "tags": {
                "mcisId": self.plan.spec.mcis,
                "vmId": r.req.name,
                "connectionName": r.connection,
                "cspType": p.lifecycle.plan().clouds[p.lifecycle.vm_plan(vm).cloud as usize]
                    .region.provider.to_ascii_uppercase(),
            },
            "values": values,
        })))
    }
}

/// CB-Dragonfly's pull-mode metrics.
const METRICS: [&str; 6] = ["cpu", "cpufreq", "mem", "disk", "diskio", "net"];

/// The values of one pull-mode metric. cpu, mem, disk and net come from the workload model
/// (one noisy reading per call); cpufreq is the spec's clock; diskio follows the CPU load
/// (a documented simplification: 8 KiB read and 4 KiB written per percent of CPU and second).
fn metric_values(now: SimTime, p: &mut Peers<'_>, vm: u32, metric: &str) -> serde_json::Value {
    let lc: &Lifecycle = p.lifecycle;
    let pv = lc.vm_plan(vm);
    let spec = &lc.plan().specs[pv.spec as usize];
    let (mcis, vcpu, mem_gib) = (pv.mcis, spec.vcpu, spec.memory_gib);
    let started = lc.first_running(vm).unwrap_or(now);
    let m = p
        .control
        .workloads
        .measure_all(now, vm, mcis, vcpu, started)
        .unwrap_or(crate::workload::Measures {
            cpu_pct: 0.0,
            memory_pct: 0.0,
            disk_pct: 0.0,
            net_bytes_per_s: 0.0,
        });
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    let total_mem = mem_gib * 1024.0;
    match metric {
        "cpu" => serde_json::json!({
            "cpu_utilization": r2(m.cpu_pct),
            "cpu_user": r2(0.8 * m.cpu_pct),
            "cpu_system": r2(0.2 * m.cpu_pct),
            "cpu_idle": r2(100.0 - m.cpu_pct),
        }),
        "cpufreq" => serde_json::json!({ "cpu_speed": 2.5 }),
        "mem" => serde_json::json!({
            "mem_utilization": r2(m.memory_pct),
            "mem_total": r2(total_mem),
            "mem_used": r2(total_mem * m.memory_pct / 100.0),
            "mem_free": r2(total_mem * (1.0 - m.memory_pct / 100.0)),
        }),
        "disk" => serde_json::json!({
            "total": 32.0,
            "used": r2(32.0 * m.disk_pct / 100.0),
            "free": r2(32.0 * (1.0 - m.disk_pct / 100.0)),
            "used_percent": r2(m.disk_pct),
        }),
        "diskio" => serde_json::json!({
            "kb_read": r2(8.0 * m.cpu_pct),
            "kb_written": r2(4.0 * m.cpu_pct),
        }),
        "net" => serde_json::json!({
            "bytes_out": r2(m.net_bytes_per_s),
            "bytes_in": r2(m.net_bytes_per_s / 4.0),
        }),
        _ => serde_json::json!({}),
    }
}
