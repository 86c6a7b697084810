//! The storage writer (InfluxDB's role): each aggregation round, every collector sends its
//! points in batches of `batch_points`; storage writes them one batch at a time, first come
//! first served, in `batch_overhead` plus points / `write_capacity`. A round that would take
//! the write queue over `queue_limit` points is dropped whole. A report is stored when the
//! last batch of its round is written.
//!
//! Storage keeps its own completion (one batch is written at a time, so at most one is due)
//! instead of an engine event, and applies it in the engine's order before anything reads or
//! changes storage: the sampler at `t` (completions before `t`: the sampler comes first at
//! its instant), the aggregation round at `t` (see [`Storage::settle_before_round`]) and the
//! end of the run. The results are those of a `StorageDone` event per batch; storage needs no
//! scheduler, so the monitoring pipeline's collecting side can run apart from the engine.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 2.4 (one point per VM and measurement
//! per round, written to InfluxDB `cbmon`) and `../shared/data/SOURCES.md` (InfluxDB OSS write
//! capacity).

use super::config::StorageSpec;
use super::series::{MonitoringCounts, Series};
use crate::engine::{SimDuration, SimTime};
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
    /// When the batch being written is done, and the stamp of its start (see [`Due`]).
    due: Option<Due>,
    queued_points: u64,
    limit: u64,
    batch: u64,
    overhead: SimDuration,
    /// Points per second (> 0).
    capacity: f64,
}

/// The completion of the batch being written. `stamp` orders it against an aggregation round
/// at the same instant as the engine would order a `StorageDone` event and the `Round` event,
/// both the server's: by when each was scheduled. A batch started while `round` rounds had
/// been handled gets stamp `round + 1`; round `n` was scheduled when `n` rounds had been
/// handled, after that round's own storage writes had started, so a completion at round
/// `n`'s instant comes first exactly when its stamp is at most `n`.
#[derive(Copy, Clone, Debug)]
struct Due {
    at: SimTime,
    stamp: u32,
}

impl Storage {
    pub(super) fn new(spec: &StorageSpec) -> Self {
        Storage {
            queue: VecDeque::new(),
            spare: Vec::new(),
            due: None,
            queued_points: 0,
            limit: spec.queue_limit,
            batch: spec.batch_points.max(1) as u64,
            overhead: spec.batch_overhead,
            capacity: spec.write_capacity.max(1e-9),
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

    /// Starts writing the next batch at `now` unless one is being written; `round` rounds
    /// have been handled.
    pub(super) fn kick(&mut self, now: SimTime, round: u32, s: &mut Series) {
        if self.due.is_none() {
            self.start(now, round, s);
        }
    }

    fn start(&mut self, now: SimTime, round: u32, s: &mut Series) {
        let Some(job) = self.queue.front() else {
            self.due = None;
            return;
        };
        let d = self.overhead + SimDuration::from_secs_f64(job.points as f64 / self.capacity);
        s.iv_storage_busy_ns += d.as_nanos();
        self.due = Some(Due {
            at: now + d,
            stamp: round.saturating_add(1),
        });
    }

    /// Applies the completions due before `t` (or at `t` too, when `inclusive`: the end of the
    /// run); `round` rounds have been handled.
    pub(super) fn settle(
        &mut self,
        t: SimTime,
        inclusive: bool,
        round: u32,
        s: &mut Series,
        counts: &mut MonitoringCounts,
    ) {
        while let Some(d) = self.due
            && (d.at < t || (inclusive && d.at == t))
        {
            self.done(d.at, round, s, counts);
        }
    }

    /// Applies the completions that come before aggregation round `round`, at `t`: those due
    /// before `t`, and those due at `t` started before the round was scheduled (see [`Due`]).
    pub(super) fn settle_before_round(
        &mut self,
        t: SimTime,
        round: u32,
        s: &mut Series,
        counts: &mut MonitoringCounts,
    ) {
        while let Some(d) = self.due
            && (d.at < t || (d.at == t && d.stamp <= round))
        {
            self.done(d.at, round, s, counts);
        }
    }

    /// The batch being written is done at `now`: its points (and reports) are stored, and the
    /// next batch starts.
    fn done(&mut self, now: SimTime, round: u32, s: &mut Series, counts: &mut MonitoringCounts) {
        let mut job = self.queue.pop_front().expect("a job in service");
        self.queued_points -= job.points;
        counts.points_written += job.points;
        s.iv_points += job.points;
        s.stored(now, &job.reports);
        counts.stored += job.reports.len() as u64;
        if job.reports.capacity() > 0 {
            job.reports.clear();
            self.spare.push(job.reports);
        }
        self.start(now, round, s);
    }
}
