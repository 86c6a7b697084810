//! Admission of provider API calls.
//!
//! Create calls of one provider pass a concurrency gate, as CB-Tumblebug HEAD limits them
//! (`src/core/model/csp/csp.go`: `MaxConcurrentRegions` regions with creates in flight, each
//! with at most `MaxNodesPerRegion`): requests beyond the caps wait in FIFO order per region, and
//! regions waiting for a region slot are served in the order they started waiting. Every API
//! call (create or control) then passes the provider's rate limit, a GCRA token bucket
//! (`api_rate` calls per second, bursts of `api_burst`), which reserves the earliest start time.
//!
//! Sources: `../shared/domain/cloud-barista.md` section 1.5 (per-CSP concurrency and call
//! rates); the limits per provider in `models/providers.toml`.

use crate::engine::{SimDuration, SimTime};
use std::collections::VecDeque;

/// Generic cell rate algorithm: `reserve` returns when a call arriving at `now` may start.
#[derive(Clone, Debug)]
pub struct RateLimit {
    interval: u64,
    tolerance: u64,
    tat: u64,
}

impl RateLimit {
    /// `rate` calls per second (0 = unlimited), with bursts of up to `burst` calls. Absurdly
    /// low rates saturate (one call, then none within the representable time).
    pub fn new(rate: f64, burst: u32) -> Self {
        let interval = if rate > 0.0 {
            SimDuration::from_secs_f64(1.0 / rate).as_nanos().max(1)
        } else {
            0
        };
        RateLimit {
            interval,
            tolerance: interval.saturating_mul(burst.max(1) as u64 - 1),
            tat: 0,
        }
    }

    pub fn reserve(&mut self, now: SimTime) -> SimTime {
        if self.interval == 0 {
            return now;
        }
        let start = now.as_nanos().max(self.tat.saturating_sub(self.tolerance));
        self.tat = self.tat.max(start).saturating_add(self.interval);
        SimTime(start)
    }
}

/// The create-call concurrency gate of one provider. Regions are identified by cloud id.
#[derive(Clone, Debug)]
pub struct CreateGate {
    max_regions: u32,
    max_per_region: u32,
    inflight: Vec<u32>,
    active_regions: u32,
    queues: Vec<VecDeque<u32>>,
    waiting_regions: VecDeque<u32>,
    queued: usize,
}

impl CreateGate {
    pub fn new(n_clouds: usize, max_regions: u32, max_per_region: u32) -> Self {
        CreateGate {
            max_regions,
            max_per_region,
            inflight: vec![0; n_clouds],
            active_regions: 0,
            queues: vec![VecDeque::new(); n_clouds],
            waiting_regions: VecDeque::new(),
            queued: 0,
        }
    }

    /// Asks to start a create of `vm` in `cloud`: true if it may start now, else it is queued
    /// and returned later by [`CreateGate::release`].
    pub fn request(&mut self, cloud: u32, vm: u32) -> bool {
        let c = cloud as usize;
        if self.queues[c].is_empty() {
            if self.inflight[c] > 0 && self.inflight[c] < self.max_per_region {
                self.inflight[c] += 1;
                return true;
            }
            if self.inflight[c] == 0 && self.active_regions < self.max_regions {
                self.active_regions += 1;
                self.inflight[c] = 1;
                return true;
            }
            if self.inflight[c] == 0 {
                self.waiting_regions.push_back(cloud);
            }
        }
        self.queues[c].push_back(vm);
        self.queued += 1;
        false
    }

    /// Ends a create in `cloud`; returns the queued VMs that may start now, in order.
    pub fn release(&mut self, cloud: u32, admitted: &mut Vec<u32>) {
        let c = cloud as usize;
        debug_assert!(self.inflight[c] > 0, "release without a create in flight");
        self.inflight[c] -= 1;
        if let Some(vm) = self.queues[c].pop_front() {
            self.queued -= 1;
            self.inflight[c] += 1;
            admitted.push(vm);
            return;
        }
        if self.inflight[c] > 0 {
            return;
        }
        self.active_regions -= 1;
        while self.active_regions < self.max_regions {
            let Some(r) = self.waiting_regions.pop_front() else {
                break;
            };
            let r = r as usize;
            self.active_regions += 1;
            while self.inflight[r] < self.max_per_region {
                let Some(vm) = self.queues[r].pop_front() else {
                    break;
                };
                self.queued -= 1;
                self.inflight[r] += 1;
                admitted.push(vm);
            }
        }
    }

    /// Removes a queued VM (e.g. its region failed while it waited). True if it was queued.
    pub fn withdraw(&mut self, cloud: u32, vm: u32) -> bool {
        let c = cloud as usize;
        let Some(pos) = self.queues[c].iter().position(|v| *v == vm) else {
            return false;
        };
        self.queues[c].remove(pos);
        self.queued -= 1;
        if self.queues[c].is_empty() && self.inflight[c] == 0 {
            self.waiting_regions.retain(|r| *r != cloud);
        }
        true
    }

    /// A cloud joins the run (the live twin): its region starts with nothing in flight.
    pub fn add_cloud(&mut self) {
        self.inflight.push(0);
        self.queues.push(VecDeque::new());
    }

    pub fn queued(&self) -> usize {
        self.queued
    }
    pub fn inflight(&self) -> u32 {
        self.inflight.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_spaces_calls_after_the_burst() {
        let mut r = RateLimit::new(10.0, 3);
        let t0 = SimTime::ZERO;
        let starts: Vec<u64> = (0..5)
            .map(|_| r.reserve(t0).as_nanos() / 1_000_000)
            .collect();
        assert_eq!(starts, vec![0, 0, 0, 100, 200]);
        // After a quiet period the bucket refills.
        assert_eq!(r.reserve(SimTime::from_secs(10)), SimTime::from_secs(10));
        let mut u = RateLimit::new(0.0, 1);
        assert_eq!(u.reserve(SimTime(5)), SimTime(5));
    }

    #[test]
    fn gate_caps_regions_and_vms_per_region_fifo() {
        let mut g = CreateGate::new(3, 2, 2);
        assert!(g.request(0, 1));
        assert!(g.request(0, 2));
        assert!(!g.request(0, 3), "region 0 full");
        assert!(g.request(1, 4));
        assert!(!g.request(2, 5), "two regions active");
        assert!(!g.request(2, 6));
        assert_eq!(g.queued(), 3);
        let mut a = vec![];
        g.release(0, &mut a);
        assert_eq!(a, vec![3], "same region's queue first");
        a.clear();
        g.release(1, &mut a);
        assert_eq!(
            a,
            vec![5, 6],
            "region 1 idle: waiting region 2 starts with up to 2"
        );
        assert_eq!(g.inflight(), 4);
        assert_eq!(g.queued(), 0);
    }

    #[test]
    fn withdraw_removes_waiting_region() {
        let mut g = CreateGate::new(2, 1, 1);
        assert!(g.request(0, 1));
        assert!(!g.request(1, 2));
        assert!(g.withdraw(1, 2));
        let mut a = vec![];
        g.release(0, &mut a);
        assert!(a.is_empty());
        assert!(g.request(1, 3));
    }
}
