//! What the monitoring model measures: the report accounting ([`MonitoringCounts`]), the
//! per-interval counters behind `monitoring.csv`, the agent-to-storage delay histograms,
//! collector waiting times in batch means (for a confidence interval), and the summary rows.
//!
//! Sources: the quantities are the ones Dragonfly's load limits are about
//! (`../shared/domain/cloud-barista.md` section 2.4: message rates, collector drain, InfluxDB
//! points per second); the wait's confidence interval is the method of batch means (33 batches
//! of the run, the first dropped as warm-up, Student's t).

use crate::engine::SimTime;
use crate::output::names::{file, metric};
use crate::output::table::{fmt_f64, fmt_secs};
use crate::output::{Summary, Table};
use hdrhistogram::Histogram;

/// Report accounting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonitoringCounts {
    pub sent: u64,
    pub stored: u64,
    pub dropped_network: u64,
    pub dropped_collector: u64,
    pub dropped_storage: u64,
    pub agents_declared_dead: u64,
    pub pull_failures: u64,
    pub points_written: u64,
    pub on_demand_calls: u64,
    pub on_demand_failures: u64,
}

impl MonitoringCounts {
    pub fn dropped(&self) -> u64 {
        self.dropped_network + self.dropped_collector + self.dropped_storage
    }
}

const BATCHES: usize = 33;

/// Collector waiting times in `BATCHES` batches of the run, summed exactly in ns so the order
/// of accounting does not matter.
pub(super) struct Waits {
    batch_len_ns: u64,
    sum: Vec<u128>,
    n: Vec<u64>,
    /// The batch of the last start and its bounds [from, to) in ns.
    last_batch: usize,
    last_from: u64,
    last_to: u64,
}

impl Waits {
    /// A message that arrived at `arrived` starts its service at `start`.
    #[inline]
    pub(super) fn record(&mut self, start: SimTime, arrived: SimTime) {
        let t = start.as_nanos();
        // Starts come nearly in time order: the last batch's bounds save a division.
        let b = if (self.last_from..self.last_to).contains(&t) {
            self.last_batch
        } else {
            let b = t / self.batch_len_ns;
            self.last_batch = b as usize;
            self.last_from = b * self.batch_len_ns;
            self.last_to = self.last_from.saturating_add(self.batch_len_ns);
            b as usize
        };
        if b < BATCHES {
            self.sum[b] += start.since(arrived).as_nanos() as u128;
            self.n[b] += 1;
        }
    }

    /// Mean wait in seconds and the 95% CI half-width from batch means (first batch dropped as
    /// warm-up).
    pub(super) fn mean_ci(&self) -> (f64, f64) {
        let means: Vec<f64> = (1..BATCHES)
            .filter(|b| self.n[*b] > 0)
            .map(|b| self.sum[b] as f64 / 1e9 / self.n[b] as f64)
            .collect();
        let k = means.len();
        if k < 2 {
            return (f64::NAN, f64::NAN);
        }
        let total_n: u64 = (1..BATCHES).map(|b| self.n[b]).sum();
        let total = (1..BATCHES).map(|b| self.sum[b]).sum::<u128>() as f64 / 1e9;
        let mean = total / total_n as f64;
        let bm = means.iter().sum::<f64>() / k as f64;
        let var = means.iter().map(|m| (m - bm).powi(2)).sum::<f64>() / (k - 1) as f64;
        (
            mean,
            crate::stats::student_t_975(k - 1) * (var / k as f64).sqrt(),
        )
    }
}

/// The state of the other parts a `monitoring.csv` row shows.
pub(super) struct Snapshot {
    pub(super) agents_running: u32,
    pub(super) collectors: u32,
    /// Messages waiting at each active collector (one entry for a shared queue).
    pub(super) backlogs: Vec<usize>,
    pub(super) storage_backlog_points: u64,
}

/// What the summary reads from the other parts at the end of the run.
pub(super) struct Totals {
    pub(super) sent: u64,
    pub(super) in_flight: u64,
    pub(super) collectors_max: u32,
}

/// The time series and the run's statistics.
pub(super) struct Series {
    pub(super) waits: Waits,
    // Per-interval counters for monitoring.csv.
    pub(super) iv_arrivals: u64,
    pub(super) iv_dropped: u64,
    pub(super) iv_points: u64,
    pub(super) iv_busy_ns: u64,
    pub(super) iv_storage_busy_ns: u64,
    last_sample: SimTime,
    /// The sampling interval: the first sample's length (only the run's last can be shorter).
    full_interval_ns: u64,
    /// Utilization summed over the sample intervals, each weighted by its share of a full
    /// interval (1 but for a short last one), and the weights' sum.
    util_sum: f64,
    storage_util_sum: f64,
    util_weight: f64,
    /// Agent-to-storage delays of the whole run up to the last sample, and since it.
    delays_us: Histogram<u64>,
    interval_delays_us: Histogram<u64>,
    /// The server cores of every site together, and the sites' storages.
    cores: f64,
    storages: f64,
    report_bytes: u64,
    table: Table,
}

impl Series {
    /// The series of a run to `horizon` with `sites` sites of `server_cores` cores and one
    /// storage each.
    pub(super) fn new(horizon: SimTime, sites: u32, server_cores: u32, report_bytes: u32) -> Self {
        let hist = || {
            Histogram::<u64>::new_with_bounds(1, 30 * 86_400 * 1_000_000, 3).expect("valid bounds")
        };
        Series {
            waits: Waits {
                batch_len_ns: (horizon.as_nanos() / BATCHES as u64).max(1),
                sum: vec![0; BATCHES],
                n: vec![0; BATCHES],
                last_batch: 0,
                last_from: 0,
                last_to: 0,
            },
            iv_arrivals: 0,
            iv_dropped: 0,
            iv_points: 0,
            iv_busy_ns: 0,
            iv_storage_busy_ns: 0,
            last_sample: SimTime::ZERO,
            full_interval_ns: 0,
            util_sum: 0.0,
            storage_util_sum: 0.0,
            util_weight: 0.0,
            delays_us: hist(),
            interval_delays_us: hist(),
            cores: server_cores.max(1) as f64 * sites.max(1) as f64,
            storages: sites.max(1) as f64,
            report_bytes: report_bytes as u64,
            table: Table::new(
                file::MONITORING,
                &[
                    "time_s",
                    "agents_active",
                    "reports_in_per_s",
                    "collectors",
                    "backlog_mean",
                    "backlog_max",
                    "drops",
                    "storage_points_per_s",
                    "storage_backlog_points",
                    "server_cpu_pct",
                    "delay_p50_ms",
                    "delay_p95_ms",
                    "ingress_kbps",
                ],
            ),
        }
    }

    /// Reports stored at `now`, sent at `sent`: their delays go into the sample interval's
    /// histogram only; the whole run's gets the interval's counts at each sample (one record
    /// per report instead of two).
    #[inline]
    pub(super) fn stored(&mut self, now: SimTime, sent: &[SimTime]) {
        for s in sent {
            let us = now.since(*s).as_nanos() / 1_000;
            self.interval_delays_us.saturating_record(us.max(1));
        }
    }

    /// Records one row of `monitoring.csv` at `now` and starts the next interval.
    pub(super) fn sample(&mut self, now: SimTime, s: Snapshot) {
        let elapsed = now.since(self.last_sample);
        let dt = elapsed.as_secs_f64();
        self.last_sample = now;
        let n = s.collectors as usize;
        let backlog_max = s.backlogs.iter().copied().max().unwrap_or(0);
        let backlog_mean = s.backlogs.iter().sum::<usize>() as f64 / s.backlogs.len().max(1) as f64;
        let cores = self.cores;
        let (rate, cpu, pts, util, sutil) = if dt > 0.0 {
            let busy_s = self.iv_busy_ns as f64 / 1e9;
            (
                self.iv_arrivals as f64 / dt,
                100.0 * busy_s / (cores * dt),
                self.iv_points as f64 / dt,
                busy_s / (n.max(1) as f64 * dt),
                self.iv_storage_busy_ns as f64 / 1e9 / (self.storages * dt),
            )
        } else {
            (0.0, 0.0, 0.0, 0.0, 0.0)
        };
        if dt > 0.0 {
            let ns = elapsed.as_nanos();
            if self.full_interval_ns == 0 {
                self.full_interval_ns = ns;
            }
            // Exactly 1 for a full interval, so those add as they always did.
            let w = if ns == self.full_interval_ns {
                1.0
            } else {
                ns as f64 / self.full_interval_ns as f64
            };
            self.util_sum += util * w;
            self.storage_util_sum += sutil.min(1.0) * w;
            self.util_weight += w;
        }
        let (p50, p95) = if self.interval_delays_us.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            (
                self.interval_delays_us.value_at_quantile(0.5) as f64 / 1e3,
                self.interval_delays_us.value_at_quantile(0.95) as f64 / 1e3,
            )
        };
        self.table.push(vec![
            fmt_secs(now),
            s.agents_running.to_string(),
            fmt_f64(round3(rate)),
            s.collectors.to_string(),
            fmt_f64(round3(backlog_mean)),
            backlog_max.to_string(),
            self.iv_dropped.to_string(),
            fmt_f64(round3(pts)),
            s.storage_backlog_points.to_string(),
            fmt_f64(round3(cpu)),
            fmt_f64(p50),
            fmt_f64(p95),
            // Reports reaching the site, times their size on the wire.
            fmt_f64(round3(rate * self.report_bytes as f64 * 8.0 / 1e3)),
        ]);
        self.iv_arrivals = 0;
        self.iv_dropped = 0;
        self.iv_points = 0;
        self.iv_busy_ns = 0;
        self.iv_storage_busy_ns = 0;
        self.delays_us
            .add(&self.interval_delays_us)
            .expect("histograms with the same bounds");
        self.interval_delays_us.reset();
    }

    /// The summary rows, always in the same order.
    pub(super) fn summarize(&self, sum: &mut Summary, c: &MonitoringCounts, t: Totals) {
        // The whole run: the sampled intervals plus what came after the last sample.
        let mut delays = self.delays_us.clone();
        delays
            .add(&self.interval_delays_us)
            .expect("histograms with the same bounds");
        let q = |p: f64| {
            if delays.is_empty() {
                f64::NAN
            } else {
                delays.value_at_quantile(p) as f64 / 1e3
            }
        };
        let (wait, ci) = self.waits.mean_ci();
        let n = if self.util_weight > 0.0 {
            self.util_weight
        } else {
            1.0
        };
        sum.int(metric::MONITORING_REPORTS_SENT, t.sent)
            .int(metric::MONITORING_REPORTS_STORED, c.stored)
            .int(metric::MONITORING_REPORTS_DROPPED, c.dropped())
            .int(metric::MONITORING_DROPPED_NETWORK, c.dropped_network)
            .int(metric::MONITORING_BYTES_SENT, t.sent * self.report_bytes)
            .int(metric::MONITORING_DROPPED_COLLECTOR, c.dropped_collector)
            .int(metric::MONITORING_DROPPED_STORAGE, c.dropped_storage)
            .int(metric::MONITORING_IN_FLIGHT_END, t.in_flight)
            .float(metric::MONITORING_DELAY_P50_MS, q(0.5))
            .float(metric::MONITORING_DELAY_P95_MS, q(0.95))
            .float(metric::MONITORING_DELAY_P99_MS, q(0.99))
            .float(metric::COLLECTOR_WAIT_MEAN_MS, wait * 1e3)
            .float(metric::COLLECTOR_WAIT_CI95_MS, ci * 1e3)
            .int(metric::COLLECTOR_COUNT_MAX, t.collectors_max)
            .float(metric::COLLECTOR_UTILIZATION_MEAN, self.util_sum / n)
            .float(metric::STORAGE_UTILIZATION_MEAN, self.storage_util_sum / n)
            .int(metric::STORAGE_POINTS_WRITTEN, c.points_written)
            .int(metric::AGENTS_DECLARED_DEAD, c.agents_declared_dead)
            .int(metric::PULL_FAILURES, c.pull_failures)
            .int(metric::ON_DEMAND_CALLS, c.on_demand_calls)
            .int(metric::ON_DEMAND_FAILURES, c.on_demand_failures);
    }

    pub(super) fn take_table(&mut self) -> Table {
        self.table.take()
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::summary::Value;

    fn snapshot() -> Snapshot {
        Snapshot {
            agents_running: 1,
            collectors: 1,
            backlogs: vec![0],
            storage_backlog_points: 0,
        }
    }

    fn utilization(series: &Series) -> f64 {
        let mut sum = Summary::new();
        let t = Totals {
            sent: 0,
            in_flight: 0,
            collectors_max: 1,
        };
        series.summarize(&mut sum, &MonitoringCounts::default(), t);
        match sum.get(metric::COLLECTOR_UTILIZATION_MEAN) {
            Some(Value::Float(v)) => *v,
            other => panic!("no utilization: {other:?}"),
        }
    }

    #[test]
    fn a_short_last_interval_weighs_by_its_length() {
        let s = SimTime::from_secs;
        let mut series = Series::new(s(15), 1, 1, 100);
        series.sample(s(0), snapshot());
        // One collector busy half of a full 10 s interval, then a fifth of a 5 s last one.
        series.iv_busy_ns = 5_000_000_000;
        series.sample(s(10), snapshot());
        assert_eq!(utilization(&series), 0.5);
        series.iv_busy_ns = 1_000_000_000;
        series.sample(s(15), snapshot());
        // (0.5 x 1 + 0.2 x 0.5) / 1.5, not the samples' plain mean 0.35.
        assert!(
            (utilization(&series) - 0.4).abs() < 1e-12,
            "{}",
            utilization(&series)
        );
        let rows = series.table.take();
        assert_eq!(rows.len(), 3);
    }
}
