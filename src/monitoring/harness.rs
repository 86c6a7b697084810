//! A harness for the monitoring model's tests: the model alone on a scheduler, with a sampler
//! that, like the world's, owns entity 0 (its events come first at any instant), VMs that
//! come up (and, for some, go down and up again) at their own times, and a plan built from a
//! few parameters.

use crate::engine::{EntityId, Model, Scheduler, SimDuration, SimTime};
use crate::model::SubModel;
use crate::monitoring::events::MonEvent;
use crate::monitoring::model::Monitoring;
use crate::monitoring::plan::{AgentPlan, PathDelay, Plan, SitePlan};
use crate::monitoring::{AsMonEvent, MonitoringSpec};

#[derive(Copy, Clone, Debug)]
pub(super) enum Ev {
    Sample,
    /// Starts or stops an agent's VM (see [`Harness::flips`]).
    Flip(u32),
    Mon(MonEvent),
}
impl From<MonEvent> for Ev {
    fn from(e: MonEvent) -> Self {
        Ev::Mon(e)
    }
}
impl AsMonEvent for Ev {
    fn as_mon_event(&mut self) -> Option<&mut MonEvent> {
        match self {
            Ev::Mon(e) => Some(e),
            _ => None,
        }
    }
}

pub(super) struct Harness {
    pub(super) m: Monitoring,
    /// The sampler's period.
    pub(super) every: SimDuration,
    /// Whether each agent's VM is up.
    pub(super) running: Vec<bool>,
    /// When an agent's VM flips again after it came up (`true`) or went down: `None` keeps
    /// it as it is.
    pub(super) flips: fn(agent: u32, up: bool) -> Option<SimDuration>,
}

impl Harness {
    /// The model of `plan` on `s`, its sampler's first sample at time 0.
    pub(super) fn new(plan: &Plan, s: &mut Scheduler<Ev>, every: SimDuration) -> Self {
        let sampler = s.alloc_entities(1).get(0);
        s.post_at(SimTime::ZERO, sampler, Ev::Sample);
        Harness {
            m: Monitoring::new(plan, s),
            every,
            running: vec![false; plan.agents.len()],
            flips: |_, _| None,
        }
    }
}

impl Model for Harness {
    type Event = Ev;
    fn handle(&mut self, s: &mut Scheduler<Ev>, e: EntityId, ev: Ev) {
        match ev {
            Ev::Sample => {
                SubModel::<Ev>::sample(&mut self.m, s.now(), ());
                s.post_in(self.every, e, Ev::Sample);
            }
            Ev::Flip(agent) => {
                let up = &mut self.running[agent as usize];
                *up = !*up;
                if *up {
                    self.m.vm_running(s, agent);
                } else {
                    self.m.vm_stopped(s, agent);
                }
                if let Some(after) = (self.flips)(agent, *up) {
                    s.post_in(after, e, Ev::Flip(agent));
                }
            }
            Ev::Mon(ev) => self.m.handle(s, ev, ()),
        }
    }
}

/// What a plan resolves from its spec and the world, given directly.
pub(super) struct Shape {
    pub(super) agents: u32,
    pub(super) paths: Vec<PathDelay>,
    /// Collectors at most, and at the start.
    pub(super) collectors: (u32, u32),
    /// Collector services computed on arrival, or their completions deferred (see `Plan`).
    pub(super) inline_service: bool,
    pub(super) deferred_completions: bool,
    pub(super) seed: u64,
    pub(super) horizon: SimTime,
}

/// The plan of `spec` in `shape`: agent `i` on path `i mod paths` and of provider `i mod 2`,
/// the site in aws:us-east-1.
pub(super) fn plan(spec: MonitoringSpec, shape: Shape) -> Plan {
    let Shape {
        agents,
        paths,
        collectors: (max_collectors, initial_collectors),
        inline_service,
        deferred_completions,
        seed,
        horizon,
    } = shape;
    let region = crate::topology::Catalogue::builtin()
        .find_key("aws:us-east-1")
        .expect("a region")
        .clone();
    Plan {
        enabled: true,
        sites: vec![SitePlan {
            region,
            agents,
            max_collectors,
            initial_collectors,
            inline_service,
            deferred_completions,
        }],
        cloud_site: vec![0; paths.len()],
        agents: (0..agents)
            .map(|i| AgentPlan {
                cloud: i % paths.len() as u32,
                provider: i % 2,
            })
            .collect(),
        paths,
        providers: 2,
        max_collectors,
        seed,
        horizon,
        spec,
    }
}
