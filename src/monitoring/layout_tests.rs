//! The agents' layout in report order (`agents::Agents::lay_out`) moves where each agent's
//! state lives and renames the slots its pending reports point at; nothing else. The same
//! monitoring run, with agents that stop and restart (withdrawn reports, new phases), network
//! jitter and loss, must give the same summary and tables whether the agents are never laid
//! out or laid out at every aggregation round.

use super::agents::Layout;
use super::harness::{Ev, Harness, Shape, plan};
use crate::engine::{RunControl, Scheduler, SimDuration, SimTime};
use crate::model::Results;
use crate::monitoring::MonitoringSpec;
use crate::monitoring::plan::PathDelay;
use crate::output::Summary;

/// Runs 300 agents on three paths for 10 simulated minutes, the collecting side on a thread of
/// its own when `apart`; returns the layouts made, the engine's events, the summary and the
/// monitoring table.
fn run(layout: Layout, apart: bool) -> (u32, u64, String, Vec<u8>) {
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
    let agents = 300u32;
    let paths = [(0.002, 0.5), (0.040, 2.0), (0.120, 1.0)]
        .map(|(median_s, jitter)| PathDelay {
            median_s,
            jitter,
            floor_s: median_s / 2.0,
        })
        .to_vec();
    let horizon = SimTime::from_secs(600);
    let plan = plan(
        spec,
        Shape {
            agents,
            paths,
            collectors: (agents.div_ceil(40), 1),
            inline_service: false,
            deferred_completions: true,
            seed: 11,
            horizon,
        },
    );
    let mut s = Scheduler::new();
    let mut h = Harness::new(&plan, &mut s, SimDuration::from_secs(7));
    h.m.set_layout(layout);
    if apart {
        assert!(h.m.run_apart(None), "a thread for the collecting side");
    }
    // One agent in ten keeps flipping: down for a while, up for longer, each at its own
    // pace. The others stay up.
    h.flips = |agent, up| {
        let after = if up { 37 + agent % 11 } else { 5 + agent % 7 };
        (agent % 10 == 0).then(|| SimDuration::from_secs(u64::from(after)))
    };
    let flippers = s.alloc_entities(agents);
    for a in 0..agents {
        // VMs come up over the first minute.
        let at = SimTime::from_secs(u64::from(a % 60));
        s.post_at(at, flippers.get(a), Ev::Flip(a));
    }
    let out = s.run_until(&mut h, horizon, &mut RunControl::none());
    h.m.finish(out.end);
    let c = h.m.counts().expect("read after the finish");
    assert!(c.sent > 30_000 && c.dropped_network > 0, "{c:?}");
    let mut sum = Summary::new();
    h.m.summarize(&mut sum, out.end);
    let series = h.m.take_tables().remove(0).to_csv();
    (h.m.layouts(), out.events, sum.to_csv(), series)
}

#[test]
fn laying_the_agents_out_changes_no_result() {
    let (never, ev_never, sum_never, series_never) = run(Layout::Never, false);
    let (every, ev_every, sum_every, series_every) = run(Layout::EveryRound, false);
    assert_eq!(never, 0);
    assert_eq!(every, 60, "one layout per 10 s round over 10 minutes");
    assert_eq!(ev_every, ev_never);
    assert_eq!(sum_every, sum_never);
    assert!(series_every == series_never, "monitoring.csv differs");
    let (here, ..) = run(Layout::WhenSettled, false);
    assert_eq!(
        here, 0,
        "on one thread the default keeps the agents in id order"
    );
    let (apart, ev_apart, sum_apart, series_apart) = run(Layout::WhenSettled, true);
    assert!(
        apart >= 1,
        "on two threads the default lays out once the starts settle"
    );
    assert_eq!(ev_apart, ev_never);
    assert_eq!(sum_apart, sum_never);
    assert!(series_apart == series_never, "monitoring.csv differs");
}
