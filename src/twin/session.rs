//! A live twin session as a run driven request by request: the world built from the scenario,
//! events handled up to a time, requests handed in with their simulated arrival times, answers
//! collected as they are given, and the run's results at the end. `cloudtwin serve` drives it
//! against the wall clock; `cloudtwin replay` drives it from a journal; both give the same
//! results for the same requests at the same times, however the time between them is cut into
//! steps (the event order is total, and a request at `t` is always handed in after every event
//! before `t` and before any event at `t`).

use super::request::{ApiAnswer, ApiRequest};
use crate::engine::{RunControl, Scheduler, SimTime};
use crate::run::RunOutput;
use crate::scenario::Loaded;
use crate::world::World;

/// Figures of the running twin for monitoring it (`/metrics`); not part of the results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gauges {
    pub sim_time_s: f64,
    pub events: u64,
    pub pending_events: usize,
    /// VMs per (provider, status).
    pub vms: Vec<(String, String, u64)>,
    pub clouds: usize,
    pub requests: u64,
    pub answers: u64,
    pub errors: u64,
    pub waiting: usize,
    /// The monitoring pipeline's load; `None` in a world without monitoring.
    pub monitoring: Option<MonitoringLoad>,
}

/// What the monitoring pipeline carries in a running twin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitoringLoad {
    /// Agent reports that reached the monitoring site.
    pub reports_sent: u64,
    /// Messages the collectors hold (queued, in service or in the current round).
    pub backlog: u64,
}

/// A run driven request by request.
pub struct Session {
    loaded: Loaded,
    sched: Scheduler<crate::world::Event>,
    world: World,
    /// Every event before this time has been handled.
    frontier: SimTime,
    next_id: u64,
}

impl Session {
    /// Builds the world of a live twin scenario (`serve.enabled`).
    pub fn new(loaded: Loaded) -> Result<Session, String> {
        if loaded.twin.is_none() {
            return Err("the scenario is not a live twin session (serve.enabled is false)".into());
        }
        let mut sched = Scheduler::new();
        let world = World::new(&loaded, &mut sched);
        Ok(Session {
            loaded,
            sched,
            world,
            frontier: SimTime::ZERO,
            next_id: 0,
        })
    }

    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Every event before this time has been handled.
    pub fn frontier(&self) -> SimTime {
        self.frontier
    }

    /// When the next event is due, if any.
    pub fn next_event_time(&mut self) -> Option<SimTime> {
        self.sched.next_time()
    }

    /// Handles every event before `t`.
    pub fn advance_before(&mut self, t: SimTime) {
        if t <= self.frontier {
            return;
        }
        self.sched.run_until(
            &mut self.world,
            SimTime(t.as_nanos() - 1),
            &mut RunControl::none(),
        );
        self.frontier = t;
    }

    /// Hands in a request arriving at `at` (or at the frontier, if the run is already past
    /// `at`): it is handled after every event before that time. Returns its id and arrival.
    pub fn submit(&mut self, at: SimTime, req: ApiRequest) -> (u64, SimTime) {
        let at = at.max(self.frontier);
        self.advance_before(at);
        self.next_id += 1;
        let twin = self.world.twin.as_mut().expect("a session has a twin");
        twin.submit(&mut self.sched, at, self.next_id, req);
        (self.next_id, at)
    }

    /// The answers given since the last call.
    pub fn take_answers(&mut self) -> Vec<ApiAnswer> {
        self.world
            .twin
            .as_mut()
            .map(|t| t.take_answers())
            .unwrap_or_default()
    }

    /// The running twin's figures.
    pub fn gauges(&self) -> Gauges {
        let w = &self.world;
        let lc = &w.lifecycle;
        let plan = lc.plan();
        let mut vms = std::collections::BTreeMap::new();
        for vm in 0..lc.vm_count() as u32 {
            if let Some(s) = lc.status(vm) {
                let p = &plan.clouds[lc.vm_plan(vm).cloud as usize].region.provider;
                *vms.entry((p.clone(), s.name().to_string())).or_insert(0u64) += 1;
            }
        }
        let twin = w.twin.as_ref().expect("a session has a twin");
        let (requests, answers, errors) = twin.api_totals();
        // A session never runs the collecting side apart: the load is there wherever the world
        // monitors.
        let monitoring =
            w.monitoring
                .as_ref()
                .and_then(|m| m.load_gauges())
                .map(|(reports_sent, backlog)| MonitoringLoad {
                    reports_sent,
                    backlog,
                });
        Gauges {
            sim_time_s: self.frontier.as_secs_f64(),
            events: self.sched.stats().processed,
            pending_events: self.sched.pending(),
            vms: vms.into_iter().map(|((p, s), n)| (p, s, n)).collect(),
            clouds: plan.clouds.len(),
            requests,
            answers,
            errors,
            waiting: twin.waiting(),
            monitoring,
        }
    }

    /// Ends the session at `end` (not before the frontier): handles every event up to `end`,
    /// answers the requests still waiting (503), and returns the run's results with those last
    /// answers.
    pub fn finish(mut self, end: SimTime) -> (RunOutput, Vec<ApiAnswer>) {
        let end = end.max(self.frontier);
        self.sched
            .run_until(&mut self.world, end, &mut RunControl::none());
        let mut answers = self.take_answers();
        if let Some(t) = self.world.twin.as_mut() {
            t.cancel_waiting(end);
            answers.extend(t.take_answers());
        }
        let out = crate::run::collect(&self.loaded, self.sched, self.world, end, false);
        (out, answers)
    }
}
