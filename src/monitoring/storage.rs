//! The storage writer (InfluxDB's role): each aggregation round, every collector sends its
//! points in batches of `batch_points`; storage writes them one batch at a time, first come
//! first served, in `batch_overhead` plus points / `write_capacity`. A round that would take
//! the write queue over `queue_limit` points is dropped whole. A report is stored when the
//! last batch of its round is written.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.4 (one point per VM and measurement
//! per round, written to InfluxDB `cbmon`) and `../shared/data/SOURCES.md` (InfluxDB OSS write
//! capacity).

use super::config::StorageSpec;
use super::events::MonEvent;
use super::series::{MonitoringCounts, Series};
use crate::engine::{EntityId, Scheduler, SimDuration, SimTime};
use std::collections::VecDeque;

/// One write request.
#[derive(Clone, Debug)]
struct Job {
    points: u64,
    /// Send times of the reports stored when this batch is written (the round's last batch).
    reports: Vec<SimTime>,
}

pub(super) struct Storage {
    queue: VecDeque<Job>,
    /// Emptied report buffers, reused by the next rounds.
    spare: Vec<Vec<SimTime>>,
    busy: bool,
    queued_points: u64,
    limit: u64,
    batch: u64,
    overhead: SimDuration,
    /// Points per second (> 0).
    capacity: f64,
    /// The monitoring server's entity (its completions).
    server: EntityId,
}

impl Storage {
    pub(super) fn new(spec: &StorageSpec, server: EntityId) -> Self {
        Storage {
            queue: VecDeque::new(),
            spare: Vec::new(),
            busy: false,
            queued_points: 0,
            limit: spec.queue_limit,
            batch: spec.batch_points.max(1) as u64,
            overhead: spec.batch_overhead,
            capacity: spec.write_capacity.max(1e-9),
            server,
        }
    }

    /// Points waiting to be written.
    pub(super) fn queued_points(&self) -> u64 {
        self.queued_points
    }

    /// Reports whose round is waiting to be written.
    pub(super) fn held(&self) -> u64 {
        self.queue.iter().map(|j| j.reports.len() as u64).sum()
    }

    /// A collector's round: `points`, riding with the reports in `round` (swapped for an empty
    /// buffer). Returns the reports dropped because the queue is full (0 when queued).
    pub(super) fn submit(&mut self, round: &mut Vec<SimTime>, points: u64) -> u64 {
        // Swap in a recycled buffer (rounds would otherwise regrow one per collector).
        let spare = self.spare.pop().unwrap_or_default();
        let mut reports = std::mem::replace(round, spare);
        if self.queued_points + points > self.limit {
            let dropped = reports.len() as u64;
            reports.clear();
            self.spare.push(reports);
            return dropped;
        }
        // Batches of `batch` points; the round's reports ride with the last one.
        let batch = self.batch;
        let n_batches = points.div_ceil(batch).max(1);
        for i in 0..n_batches {
            let last = i + 1 == n_batches;
            let p = if last {
                points - batch * (n_batches - 1)
            } else {
                batch
            };
            self.queued_points += p;
            self.queue.push_back(Job {
                points: p,
                reports: if last {
                    std::mem::take(&mut reports)
                } else {
                    Vec::new()
                },
            });
        }
        0
    }

    /// Starts writing the next batch unless one is being written.
    pub(super) fn kick<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        s: &mut Series,
    ) {
        if !self.busy {
            self.start(sched, s);
        }
    }

    fn start<E: From<MonEvent> + Copy>(&mut self, sched: &mut Scheduler<E>, s: &mut Series) {
        let Some(job) = self.queue.front() else {
            self.busy = false;
            return;
        };
        self.busy = true;
        let d = self.overhead + SimDuration::from_secs_f64(job.points as f64 / self.capacity);
        s.iv_storage_busy_ns += d.as_nanos();
        sched.post_in(d, self.server, MonEvent::StorageDone.into());
    }

    /// The batch being written is done: its points (and reports) are stored.
    pub(super) fn done<E: From<MonEvent> + Copy>(
        &mut self,
        sched: &mut Scheduler<E>,
        s: &mut Series,
        counts: &mut MonitoringCounts,
    ) {
        let mut job = self.queue.pop_front().expect("a job in service");
        self.queued_points -= job.points;
        counts.points_written += job.points;
        s.iv_points += job.points;
        s.stored(sched.now(), &job.reports);
        counts.stored += job.reports.len() as u64;
        if job.reports.capacity() > 0 {
            job.reports.clear();
            self.spare.push(job.reports);
        }
        self.start(sched, s);
    }
}
