//! `GET /metrics`: the served twin in Prometheus' text format, so Prometheus or Grafana can
//! watch a session. HTTP requests by route and status and their wall-clock latency are counted
//! here; VMs by provider and status, API totals, monitoring reports and backlog (where the world
//! monitors), simulated time and the lag behind the paced clock come from the simulation
//! thread. None of it goes into the results' tables (a replay would not see the same wall
//! clock).

use super::pacing::Snapshot;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Upper bounds (s) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 10.0, 60.0,
];

/// Counters of the HTTP side.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    requests: BTreeMap<(&'static str, u16), u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_s: f64,
}

impl HttpMetrics {
    pub fn record(&mut self, route: &'static str, status: u16, took: Duration) {
        *self.requests.entry((route, status)).or_default() += 1;
        let s = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum_s += s;
    }

    pub fn render(&self, snap: Option<&Snapshot>, speed: f64) -> String {
        let mut t = String::new();
        let t = &mut t;
        head(
            t,
            "cloudtwin_http_requests_total",
            "counter",
            "HTTP requests answered, by route and status.",
        );
        for ((route, status), n) in &self.requests {
            let _ = writeln!(
                t,
                "cloudtwin_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        head(
            t,
            "cloudtwin_http_request_duration_seconds",
            "histogram",
            "Wall-clock time from a request's arrival to its answer.",
        );
        for (b, n) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                t,
                "cloudtwin_http_request_duration_seconds_bucket{{le=\"{b}\"}} {n}"
            );
        }
        let _ = writeln!(
            t,
            "cloudtwin_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n\
             cloudtwin_http_request_duration_seconds_sum {}\n\
             cloudtwin_http_request_duration_seconds_count {}",
            self.count, self.sum_s, self.count
        );
        gauge(
            t,
            "cloudtwin_speed",
            "gauge",
            "Simulated seconds per wall second.",
            speed,
        );
        let Some(s) = snap else {
            return std::mem::take(t);
        };
        let g = &s.gauges;
        gauge(
            t,
            "cloudtwin_sim_time_seconds",
            "gauge",
            "Simulated time the twin has reached.",
            g.sim_time_s,
        );
        gauge(
            t,
            "cloudtwin_paced_time_seconds",
            "gauge",
            "Simulated time of the paced clock (wall time x speed).",
            s.paced_s,
        );
        gauge(
            t,
            "cloudtwin_lag_seconds",
            "gauge",
            "How far the simulation is behind the paced clock, in simulated seconds.",
            s.lag_s,
        );
        gauge(
            t,
            "cloudtwin_events_total",
            "counter",
            "Simulation events handled.",
            g.events as f64,
        );
        gauge(
            t,
            "cloudtwin_pending_events",
            "gauge",
            "Simulation events scheduled and not yet handled.",
            g.pending_events as f64,
        );
        gauge(
            t,
            "cloudtwin_clouds",
            "gauge",
            "Clouds in the world.",
            g.clouds as f64,
        );
        gauge(
            t,
            "cloudtwin_api_requests_total",
            "counter",
            "Requests that reached the simulation.",
            g.requests as f64,
        );
        gauge(
            t,
            "cloudtwin_api_errors_total",
            "counter",
            "Answers with a status of 400 or more.",
            g.errors as f64,
        );
        gauge(
            t,
            "cloudtwin_api_waiting",
            "gauge",
            "Requests waiting for a VM to settle (blocking POST and DELETE /vm).",
            g.waiting as f64,
        );
        // Only where the world has a monitoring pipeline.
        if let Some(m) = g.monitoring {
            gauge(
                t,
                "cloudtwin_monitoring_reports_total",
                "counter",
                "CB-Dragonfly agent reports that reached the monitoring site.",
                m.reports_sent as f64,
            );
            gauge(
                t,
                "cloudtwin_monitoring_backlog",
                "gauge",
                "Messages CB-Dragonfly's collectors hold (queued, in service, in a round).",
                m.backlog as f64,
            );
        }
        let _ = writeln!(
            t,
            "# HELP cloudtwin_vms VMs by provider and status.\n# TYPE cloudtwin_vms gauge"
        );
        for (provider, status, n) in &g.vms {
            let _ = writeln!(
                t,
                "cloudtwin_vms{{provider=\"{provider}\",status=\"{status}\"}} {n}"
            );
        }
        std::mem::take(t)
    }
}

fn head(t: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(t, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(t: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    head(t, name, kind, help);
    let _ = writeln!(t, "{name} {value}");
}
