//! The twin's API accounting: every answer counted by route and status, with its simulated
//! answer time (from arrival to answer: zero for most calls, the provisioning time for a
//! blocking `POST /vm`), written per sample interval to `api.csv`, and the session's totals in
//! the summary. Only simulated time is used, so a replay writes the same rows; wall-clock
//! latency goes to the server's `/metrics`.

use crate::engine::{SimDuration, SimTime};
use crate::output::names::{file, metric};
use crate::output::table::{fmt_f64, fmt_secs};
use crate::output::{Summary, Table};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, Default)]
struct Cell {
    calls: u64,
    sum_ns: u128,
    max_ns: u64,
}

/// Counters and the `api.csv` table.
#[derive(Debug)]
pub struct ApiStats {
    interval: BTreeMap<(&'static str, u16), Cell>,
    table: Table,
    requests: u64,
    answers: u64,
    errors: u64,
    vms_created: u64,
    vm_create_failures: u64,
    vms_deleted: u64,
    outages: u64,
}

impl ApiStats {
    pub fn new() -> Self {
        ApiStats {
            interval: BTreeMap::new(),
            table: Table::new(
                file::API,
                &[
                    "time_s",
                    "route",
                    "status",
                    "calls",
                    "answer_mean_s",
                    "answer_max_s",
                ],
            ),
            requests: 0,
            answers: 0,
            errors: 0,
            vms_created: 0,
            vm_create_failures: 0,
            vms_deleted: 0,
            outages: 0,
        }
    }

    pub fn arrived(&mut self) {
        self.requests += 1;
    }

    pub fn answered(&mut self, route: &'static str, status: u16, took: SimDuration) {
        self.answers += 1;
        if status >= 400 {
            self.errors += 1;
        }
        let c = self.interval.entry((route, status)).or_default();
        c.calls += 1;
        c.sum_ns += took.as_nanos() as u128;
        c.max_ns = c.max_ns.max(took.as_nanos());
    }

    pub fn created_ok(&mut self) {
        self.vms_created += 1;
    }
    pub fn create_failed(&mut self) {
        self.vm_create_failures += 1;
    }
    pub fn deleted(&mut self) {
        self.vms_deleted += 1;
    }
    pub fn outage(&mut self) {
        self.outages += 1;
    }

    /// Requests and errors so far (the admin state).
    pub fn totals(&self) -> (u64, u64, u64) {
        (self.requests, self.answers, self.errors)
    }

    /// One row per (route, status) answered since the last sample.
    pub fn sample(&mut self, now: SimTime) {
        let t = fmt_secs(now);
        for ((route, status), c) in std::mem::take(&mut self.interval) {
            let mean = c.sum_ns as f64 / c.calls as f64 / 1e9;
            self.table.push(vec![
                t.clone(),
                route.to_string(),
                status.to_string(),
                c.calls.to_string(),
                fmt_f64((mean * 1e6).round() / 1e6),
                fmt_f64((c.max_ns as f64 / 1e3).round() / 1e6),
            ]);
        }
    }

    pub fn summarize(&self, sum: &mut Summary, clouds_joined: usize) {
        sum.int(metric::API_REQUESTS, self.requests)
            .int(metric::API_ANSWERS, self.answers)
            .int(metric::API_ERRORS, self.errors)
            .int(metric::API_VMS_CREATED, self.vms_created)
            .int(metric::API_VM_CREATE_FAILURES, self.vm_create_failures)
            .int(metric::API_VMS_DELETED, self.vms_deleted)
            .int(metric::API_CLOUDS_JOINED, clouds_joined as u64)
            .int(metric::API_OUTAGES_INJECTED, self.outages);
    }

    pub fn take_table(&mut self) -> Table {
        self.table.take()
    }
}

impl Default for ApiStats {
    fn default() -> Self {
        Self::new()
    }
}
