//! The agents' layout in report order (`agents::Agents::lay_out`) moves where each agent's
//! state lives and renames the slots its pending reports point at; nothing else. The same
//! monitoring run, with agents that stop and restart (withdrawn reports, new phases), network
//! jitter and loss, must give the same summary and tables whether the agents are never laid
//! out or laid out at every aggregation round.

use super::agents::Layout;
use crate::engine::{EntityId, Model, RunControl, Scheduler, SimDuration, SimTime};
use crate::model::{Results, SubModel};
use crate::monitoring::events::MonEvent;
use crate::monitoring::model::Monitoring;
use crate::monitoring::plan::{AgentPlan, PathDelay, Plan};
use crate::monitoring::{AsMonEvent, MonitoringSpec};
use crate::output::Summary;

#[derive(Copy, Clone, Debug)]
enum Ev {
    Sample,
    /// Stops (or restarts) an agent's VM: every agent flips at its own times.
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

struct Harness {
    m: Monitoring,
    every: SimDuration,
    running: Vec<bool>,
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
                // One agent in ten keeps flipping: down for a while, up for longer, each at
                // its own pace. The others stay up.
                if agent % 10 == 0 {
                    let next = if *up { 37 + agent % 11 } else { 5 + agent % 7 };
                    s.post_in(SimDuration::from_secs(next as u64), e, Ev::Flip(agent));
                }
            }
            Ev::Mon(ev) => self.m.handle(s, ev, ()),
        }
    }
}

/// Runs 300 agents on three paths for 10 simulated minutes; returns the layouts made, the
/// engine's events, the summary and the monitoring table.
fn run(layout: Layout) -> (u32, u64, String, Vec<u8>) {
    let spec: MonitoringSpec = toml::from_str(
        r#"
        interval = "5s"
        agent_start_delay = "2s"
        loss_p = 0.05
        [collectors]
        policy = "agentCount"
        max_host_count = 40
        server_cores = 2
        interval = "10s"
        dead_after_rounds = 2
        "#,
    )
    .expect("spec");
    let mut s = Scheduler::new();
    let sampler = s.alloc_entities(1).get(0);
    s.post_at(SimTime::ZERO, sampler, Ev::Sample);
    let agents = 300u32;
    let flippers = s.alloc_entities(agents);
    let paths = [(0.002, 0.5), (0.040, 2.0), (0.120, 1.0)]
        .map(|(median_s, jitter)| PathDelay {
            median_s,
            jitter,
            floor_s: median_s / 2.0,
        })
        .to_vec();
    let horizon = SimTime::from_secs(600);
    let plan = Plan {
        enabled: true,
        site: crate::topology::Catalogue::builtin()
            .find_key("aws:us-east-1")
            .expect("a region")
            .clone(),
        paths,
        agents: (0..agents)
            .map(|i| AgentPlan {
                cloud: i % 3,
                provider: i % 2,
            })
            .collect(),
        providers: 2,
        max_collectors: agents.div_ceil(40),
        initial_collectors: 1,
        inline_service: false,
        deferred_completions: true,
        seed: 11,
        horizon,
        spec,
    };
    let mut m = Monitoring::new(&plan, &mut s);
    m.set_layout(layout);
    let mut h = Harness {
        m,
        every: SimDuration::from_secs(7),
        running: vec![false; agents as usize],
    };
    for a in 0..agents {
        // VMs come up over the first minute.
        let at = SimTime::from_secs(u64::from(a % 60));
        s.post_at(at, flippers.get(a), Ev::Flip(a));
    }
    let out = s.run_until(&mut h, horizon, &mut RunControl::none());
    h.m.finish(out.end);
    let c = h.m.counts().expect("one thread");
    assert!(c.sent > 30_000 && c.dropped_network > 0, "{c:?}");
    let mut sum = Summary::new();
    h.m.summarize(&mut sum, out.end);
    let series = h.m.take_tables().remove(0).to_csv();
    (h.m.layouts(), out.events, sum.to_csv(), series)
}

#[test]
fn laying_the_agents_out_changes_no_result() {
    let (never, ev_never, sum_never, series_never) = run(Layout::Never);
    let (every, ev_every, sum_every, series_every) = run(Layout::EveryRound);
    assert_eq!(never, 0);
    assert_eq!(every, 60, "one layout per 10 s round over 10 minutes");
    assert_eq!(ev_every, ev_never);
    assert_eq!(sum_every, sum_never);
    assert!(series_every == series_never, "monitoring.csv differs");
    let (settled, ..) = run(Layout::WhenSettled);
    assert!(settled >= 1, "the default lays out once the starts settle");
}
